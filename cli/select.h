/* select.h - which messages a run writes (README "Selecting messages"):
 * --message-id, --queue-id, --rcpt, --from, --since, --until, --verdict,
 * --min-severity, --where (rule-language conditions that must all hold of
 * one hop: "hop.rcpt_domain|in: [clinic.example]").  Applied after correlation and judgement (so a message
 * keeps its TLS context) and before any writer.  Each kind may be given
 * several times (any of them may match); all kinds given must hold.
 * Message-IDs and addresses match with or without angle brackets, domains
 * ("@clinic.example" or the part after '@') in any case. */
#ifndef TW_SELECT_H
#define TW_SELECT_H
#include "../model/message.h"
#include <time.h>

#define SELECT_MAX 64	/* needles of one kind */

struct selection {
	const char *mid[SELECT_MAX], *qid[SELECT_MAX], *rcpt[SELECT_MAX], *from[SELECT_MAX];
	size_t nmid, nqid, nrcpt, nfrom;
	const char *since_text, *until_text;	/* as given, parsed by select_ready */
	time_t since, until;			/* 0: open */
	const char *where[SELECT_MAX];		/* --where FIELD|MOD: VALUE */
	size_t nwhere;
	struct policy *where_policy;		/* ... as one rule, by select_ready */
	const char *verdict[4];
	size_t nverdict;
	int min_severity;			/* -1: any */
	bool any;				/* some selector was given */
	unsigned long selected, judged;
};

void select_init(struct selection *s);
/* Add one needle from option opt ('m' message-id, 'q' queue-id, 'r' rcpt,
 * 'f' from, 's' since, 'u' until, 'v' verdict, 'S' min-severity, 'w'
 * where).  False,
 * with a one-line reason in why, for an empty or unknown value. */
bool select_add(struct selection *s, char opt, const char *value, char *why, size_t whylen);
struct tzconf;
/* Parse --since and --until in the run's zone, relative to now, and the
 * --where conditions by the rule loader.  False with why for an
 * unparseable time, --since after --until, or a condition the rule
 * language refuses ("--where 1:COL: message", one line each). */
bool select_ready(struct selection *s, struct tzconf *tz, time_t now, char *why,
		  size_t whylen);
void select_free(struct selection *s);
/* Does m (judged) pass?  Counts it. */
bool select_message(struct selection *s, const struct message *m);
/* Does an evidence record's time fall in --since .. --until? */
bool select_time(const struct selection *s, time_t ts);

#endif
