/* coverage.h - what the evidence covers, per log host (README "Audit
 * report: coverage gaps"): the hours of the period in which a host wrote
 * no line that was used, and its configuration epochs (a restart or
 * reload starts one) in which deliveries or receipts were logged with no
 * TLS line at all - smtp_tls_loglevel or smtpd_tls_loglevel 0, or no TLS
 * traffic.  Fed every evidence record of the run's final read.
 * Bounded: COVERAGE_HOSTS hosts (the rest counted together), each with an
 * hour map of at most COVERAGE_HOURS hours and COVERAGE_EPOCHS epochs. */
#ifndef TW_COVERAGE_H
#define TW_COVERAGE_H
#include "../model/evidence.h"
#include "../util/buf.h"

#define COVERAGE_HOSTS 1000
#define COVERAGE_HOURS (5 * 366 * 24)
#define COVERAGE_EPOCHS 64

struct coverage;

struct coverage *coverage_new(void);
void coverage_free(struct coverage *c);
void coverage_see(struct coverage *c, const struct evidence *ev);

/* A gap: hours from..to (UTC, [from, to)) with no line of the host. */
struct coverage_gap {
	time_t from, to;
};

/* An epoch that logged mail but no TLS line in one direction. */
struct coverage_quiet {
	time_t from, to;		/* its first and last line */
	unsigned long deliveries, receipts;
	bool client_quiet, server_quiet;	/* deliveries / receipts without TLS lines */
};

struct coverage_host {
	const char *name;		/* NULL: the hosts past COVERAGE_HOSTS */
	time_t first, last;
	unsigned long lines, restarts;
	struct coverage_gap *gaps;	/* inside the whole run's period */
	size_t ngaps;
	unsigned long gap_hours;
	struct coverage_quiet *quiet;
	size_t nquiet;
	bool hours_cut;			/* the period ran past COVERAGE_HOURS */
};

/* The hosts by name, their gaps measured against the period asked for
 * (since, until: 0 open), else that of every host's lines together
 * (*first, *last: the lines' own); valid until coverage_free. */
const struct coverage_host *coverage_hosts(struct coverage *c, time_t since, time_t until,
					   size_t *n, time_t *first, time_t *last);

#endif
