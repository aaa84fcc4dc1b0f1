/* lineblocks.h - a log's lines read, decompressed, hashed, split and their
 * syslog envelope parsed on a thread of its own, handed to the caller in
 * blocks, in file order.  The caller's thread is left the Postfix and
 * Sendmail parsing and the correlation: the longest stage of the pipeline
 * sheds the part that needs no state but the file's. */
#ifndef TW_LINEBLOCKS_H
#define TW_LINEBLOCKS_H
#include "linesrc.h"
#include "syslog.h"

struct lb_line {
	struct span raw;	/* the line, in the block */
	struct syslog_rec rec;	/* its envelope: spans into raw */
	unsigned long lineno;
	const char *why;	/* NULL: parsed; else why the envelope is not */
};

struct lineblocks;

/* Start reading ls (nothing read with ls_next yet) with ctx for the year
 * inference; both belong to the thread until lb_finish.  NULL if no thread
 * could start: then read inline. */
struct lineblocks *lb_start(struct linesrc *ls, struct syslog_ctx *ctx);
/* The next block: *v[0 .. *n); the previous block is handed back.  False
 * at the end of the file (or of what could be read). */
bool lb_next(struct lineblocks *lb, const struct lb_line **v, size_t *n);
/* After lb_next said false: ls_next's last result (0 end, -1 error) and
 * the blank lines skipped.  Joins the thread and frees everything. */
int lb_finish(struct lineblocks *lb, unsigned long *blank);

#endif
