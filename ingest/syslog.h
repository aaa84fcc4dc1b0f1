/* syslog.h - the envelope around every mail log line.
 * Framings: RFC 3164 ("Mar  1 12:00:00", "Mar 01 ...", fractional seconds as
 * journalctl short-precise writes them; Postfix maillog_file uses the same),
 * RFC 3339 stamps (Debian 12 rsyslog, journalctl short-iso, "+0000" too),
 * and RFC 5424 ("<22>1 2026-... host app procid msgid sd msg"). */
#ifndef TW_SYSLOG_H
#define TW_SYSLOG_H
#include "../util/buf.h"
#include "../util/timeconv.h"
#include <time.h>

struct syslog_ctx {
	struct tzconf *tz;	/* zone of stamps without one */
	int year;		/* year assumed for the current RFC 3164 line */
	int last_month;		/* month of the previous RFC 3164 line, 0 = none */
	int ref_month;		/* month of the reference time (file mtime) */
	time_t ref;		/* the reference time itself */
	bool year_given;	/* --year: year is the first line's year */
	bool saw_yearless;	/* some stamp needed the year inferred */
	char stamp[40];		/* the last stamp's bytes, and what they meant */
	size_t stamp_n;
	time_t stamp_ts;
	long stamp_usec;
};

struct syslog_rec {
	time_t ts;
	long usec;		/* -1: the stamp gave whole seconds only */
	struct span host;
	struct span tag;	/* "postfix-in2/plain/smtpd", "sm-mta" */
	long pid;		/* -1 when absent */
	struct span msg;
};

/* Initialise ctx for a file whose last write was at ref (its mtime). */
void syslog_ctx_init(struct syslog_ctx *ctx, struct tzconf *tz, time_t ref,
		     int year_given);
/* Parse one line; on failure return false and set *why. */
bool syslog_parse(struct syslog_ctx *ctx, struct span line,
		  struct syslog_rec *rec, const char **why);

#endif
