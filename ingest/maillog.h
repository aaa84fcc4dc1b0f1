/* maillog.h - read mail logs (any number of files, stdin, plain or gzip),
 * in time order, and hand each recognised line to a callback as evidence.
 * Several inputs are merged by their stamps: a rotated set is read file
 * after file, the logs of several servers over the same hours line by
 * line in time order, so what one server did shortly before another is
 * seen first (the joins and the paths rely on it).
 * Keeps per-file accounting: every line is used, ignored or malformed. */
#ifndef TW_MAILLOG_H
#define TW_MAILLOG_H
#include "../model/evidence.h"
#include "../util/logclock.h"
#include "syslog.h"
#include "../util/timeconv.h"
#include <stdint.h>
#include <stdio.h>

/* Where an input's reading stopped, to go on from there (--state,
 * ARCHITECTURE.md "State between runs"): the decoded offset after its
 * last line, that line's number, the year inference of its stamps and its
 * clock. */
struct ml_resume {
	uint64_t offset;
	unsigned long lineno;
	struct syslog_ctx ctx;		/* tz is the run's */
	struct logclock clock;
};

/* A lookup's byte range of a log: from an index point to end (0: the end). */
struct byte_range {
	struct ml_resume from;
	uint64_t end;
};

struct input_progress {
	const struct byte_range *ranges;	/* a lookup's, in order; NULL: all */
	size_t nranges, cur;
	bool tracked;			/* read under --state */
	bool resumed;			/* began at from (else at the start) */
	struct ml_resume from, to;	/* to: where it stopped, for the next run */
	size_t held;			/* a last line without its newline, left */
};

struct input_stats {
	char *path;
	int file_id;			/* what its evidence names */
	bool gzip;
	bool failed;			/* could not be read (fully) */
	char *error;			/* why, when failed */
	unsigned long lines, used, ignored, malformed, too_long;
	unsigned long duplicates;	/* lines another input already gave */
	unsigned long outside;		/* a lookup's lines outside its windows */
	uint64_t bytes_in;
	time_t first_ts, last_ts;	/* 0 when no stamp was read */
	time_t mtime;
	int year_assumed;		/* 0 unless a year was inferred */
	char sha256[65];		/* of the bytes read, "" if not read whole */
	struct input_progress progress;	/* maillog_add_resumed */
};

/* One line's envelope as evidence, by the Postfix or Sendmail parser;
 * false when the line is not one they use.  Spans borrow from rec. */
bool maillog_evidence(const struct syslog_rec *rec, int file_id, unsigned long line,
		      struct evidence *ev);

typedef void (*evidence_fn)(const struct evidence *ev, void *arg);

struct maillog;

struct maillog *maillog_new(struct tzconf *tz, int year, FILE *warn,
			    evidence_fn fn, void *arg);
void maillog_add(struct maillog *ml, const char *path, int file_id);
/* The same, going on where a last run stopped (from NULL: at the start);
 * a last line without its newline is left for the next run. */
void maillog_add_resumed(struct maillog *ml, const char *path, int file_id,
			 const struct ml_resume *from);
/* threads > 1: each file is read, decompressed, split into lines and its
 * syslog envelopes parsed on a thread of its own (lineblocks.h). */
void maillog_set_threads(struct maillog *ml, int threads);
/* Read everything; returns the number of inputs with errors. */
int maillog_run(struct maillog *ml);
/* A lookup's second pass (cli/lookup.c): only these byte ranges of a log
 * (sorted, disjoint; the array stays the caller's), read on this thread,
 * the bytes between them sought past or inflated past. */
void maillog_add_ranges(struct maillog *ml, const char *path, int file_id,
			const struct byte_range *r, size_t n);
/* ... and only the lines whose stamp falls in one of these windows of
 * time (sorted, disjoint, [t0, t1] inclusive) are used; the others are
 * counted as read and nothing else.  The array stays the caller's. */
struct time_window { time_t t0, t1; };
void maillog_set_windows(struct maillog *ml, const struct time_window *w, size_t n);
size_t maillog_ninputs(const struct maillog *ml);
const struct input_stats *maillog_input(const struct maillog *ml, size_t id);
void maillog_free(struct maillog *ml);

#endif
