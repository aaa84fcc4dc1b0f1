/* scan.h - the first pass of a lookup (README "Selecting messages", the
 * fast path): a log's bytes searched for needles at memmem speed, without
 * parsing the lines that do not hold one.  Each line that holds a needle
 * is handed over whole, with its number and offset; on the way the scan
 * keeps an index of the file - the offset, line number and stamp context
 * of a line start every SCAN_POINT_EVERY bytes - from which the second
 * pass reads only the windows of time around the needles. */
#ifndef TW_SCAN_H
#define TW_SCAN_H
#include "maillog.h"
#include "syslog.h"

#define SCAN_POINT_EVERY (1 << 20)

struct scan_needle {
	const char *s;
	size_t n;
	bool fold;		/* ASCII case-insensitive (domains) */
};

/* An index point: a line start and what a reader starting there needs. */
struct scan_point {
	struct ml_resume at;	/* offset, line number before it, stamp context */
	time_t ts;		/* that line's stamp (0: none readable) */
};

struct scan_file {
	struct scan_point *pt;
	size_t npt, cappt;
	uint64_t bytes;		/* decoded */
	unsigned long lines;
	bool gzip;
	time_t last_ts;		/* the stamp of the last block's last line */
	uint64_t bytes_in;	/* as stored */
	time_t mtime;
	char sha256[65];	/* of the bytes as stored, when read whole */
	char error[320];	/* "" when read whole */
};

/* line: the line without its newline; rec: its envelope, parsed with the
 * file's stamp context (NULL when it has none). */
typedef void (*scan_hit_fn)(struct span line, unsigned long lineno, const struct syslog_rec *rec,
			    void *arg);

/* Scan path for the needles.  False with out->error set when it could not
 * be read whole (what was read was scanned). */
bool scan_log(const char *path, const struct scan_needle *nd, size_t nn, struct tzconf *tz,
	      int year, scan_hit_fn hit, void *arg, struct scan_file *out);
void scan_file_free(struct scan_file *f);

#endif
