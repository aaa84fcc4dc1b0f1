/* linesrc.h - lines from a file or stdin, plain or gzip (detected by magic,
 * RFC 1952 section 2.3.1), with concatenated members.  A truncated gzip tail
 * is reported with its compressed offset; the lines before it are kept. */
#ifndef TW_LINESRC_H
#define TW_LINESRC_H
#include "../util/buf.h"
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define LS_MAX_LINE (64 * 1024)	/* longer lines are counted and skipped */

struct linesrc;

struct ls_stats {
	unsigned long lines;		/* lines handed out + skipped long ones */
	unsigned long too_long;		/* lines over LS_MAX_LINE, skipped */
	uint64_t bytes_in;		/* bytes read from the file */
	uint64_t bytes_out;		/* bytes after decompression */
};

/* Open path ("-" = stdin).  On failure returns NULL and writes why. */
struct linesrc *ls_open(const char *path, struct buf *why);
/* A path that cannot be read twice - a pipe, <(...), a device - is read
 * once into a temporary file, which every later open of that path (the
 * input's detection, a rotated set's ordering, the join's second read,
 * the manifest's hash) reads instead: no byte is lost to the first look.
 * Regular files and "-" are left alone.  False, with why, if it could not
 * be copied.  Call before any reading thread starts. */
bool ls_spool_if_pipe(const char *path, struct buf *why);
/* Standard input's first bytes (up to 64 KiB), read once so its kind can
 * be told by content; the first reader of "-" gets them back before the
 * rest.  *n 0: nothing (or an error the reader will meet). */
const unsigned char *ls_stdin_peek(size_t *n);
/* Standard input copied to a temporary file, as ls_spool_if_pipe does for
 * a pipe, for inputs read more than once (a capture, a log joined with
 * captures).  Its first bytes come from the peek. */
bool ls_spool_stdin(struct buf *why);
/* The path to open for path: its copy if it was spooled, else itself. */
const char *ls_real_path(const char *path);
/* Give a temporary file the input name path (not a file of its own, such
 * as "journal"): later opens of path read copy, which is the spool's. */
void ls_spool_adopt(const char *path, FILE *copy);
/* At exit: the copies go. */
void ls_spool_free(void);
/* Read, hash and decompress on a second thread from here on, for ls_read
 * (call before the first one; without it, or if no thread can start,
 * ls_read does it all on the caller's thread).  ls_next does not use it. */
void ls_prefetch(struct linesrc *ls);
/* 1: *line set (no newline; CR before LF removed); 0: end; -1: error. */
int ls_next(struct linesrc *ls, struct span *line);
/* The decoded bytes themselves, for readers of binary formats (captures):
 * up to n into dst; 0 at the end, -1 on error.  Not mixed with ls_next. */
long ls_read(struct linesrc *ls, void *dst, size_t n);
unsigned long ls_lineno(const struct linesrc *ls);
/* --state (ARCHITECTURE.md "State between runs"): go on where the last
 * run stopped - past the first offset decoded bytes (a plain file is
 * sought; a gzip one inflated past them, RFC 1952 having no index), lines
 * numbered on from lineno, a plain file hashed from there.  hold_tail: a
 * last line without its newline is not handed out (syslog may be writing
 * it) and the offset stays before it.  Right after ls_open; false with
 * why when the file holds less than offset. */
bool ls_resume(struct linesrc *ls, uint64_t offset, unsigned long lineno, bool hold_tail,
	       struct buf *why);
/* Forward to the line starting at decoded offset (>= ls_offset), numbered
 * lineno + 1: a plain file is sought, a gzip one inflated past what lies
 * between.  Not with ls_prefetch.  False with why. */
bool ls_skip_to(struct linesrc *ls, uint64_t offset, unsigned long lineno, struct buf *why);
/* Decoded bytes read to the end of the last line handed out (or skipped). */
uint64_t ls_offset(const struct linesrc *ls);
/* The last line held back by hold_tail, in bytes (0: none). */
size_t ls_held(const struct linesrc *ls);
/* SHA-256 of the first n decoded bytes of path (fewer: *got says how many):
 * what tells a file again after it was renamed or compressed. */
bool ls_prefix_sha256(const char *path, uint64_t n, unsigned char md[32], uint64_t *got);
const char *ls_error(const struct linesrc *ls);	/* after -1 */
/* After -1: the input ended too soon (a truncated gzip member), so what
 * came before it was read whole - each reader says so in its own unit. */
bool ls_cut_short(const struct linesrc *ls);
bool ls_is_gzip(const struct linesrc *ls);
bool ls_looks_binary(const struct linesrc *ls);	/* NUL in the first block */
/* SHA-256 of every byte read so far, as stored (before decompression);
 * after the end of input it is the file's (or standard input's) hash. */
void ls_sha256(struct linesrc *ls, char hex[65]);
time_t ls_mtime(const struct linesrc *ls);
const struct ls_stats *ls_stats(const struct linesrc *ls);
void ls_close(struct linesrc *ls);

#endif
