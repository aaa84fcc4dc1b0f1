/* failures.h - what tripped --fail-on, kept for the loud end of a sweep
 * (README "Exit codes"): how many messages by verdict and severity, and
 * the first FAILURES_SHOWN of them, told on standard error even with -q
 * so cron mails it and a systemd unit's journal holds it. */
#ifndef TW_FAILURES_H
#define TW_FAILURES_H
#include "../model/message.h"
#include <stdio.h>

#define FAILURES_SHOWN 10

struct failures {
	unsigned long n;
	unsigned long by_verdict[4], by_severity[5];
	char *first[FAILURES_SHOWN];	/* one line each */
	size_t nfirst;
};

/* A judged message at or above the threshold. */
void failures_add(struct failures *f, const struct message *m);
/* The summary: where the report went (NULL: standard output). */
void failures_report(const struct failures *f, const char *threshold, const char *report,
		     FILE *out);
void failures_free(struct failures *f);

#endif
