/* join.h - joining log messages with capture connections.
 * Captures are read first and kept as records; the logs are read twice:
 * a first pass finds the exact matches (a capture's queue ID in the
 * receiving server's log, or in the sender's "queued as"), from which the
 * capture's clock offset and each log host's server addresses are learnt;
 * the second pass merges every log hop with the capture connection it
 * belongs to - exactly by queue ID, otherwise by addresses and time.  An
 * ambiguous match is reported as such, never guessed. */
#ifndef TW_JOIN_H
#define TW_JOIN_H
#include "capconn.h"
#include <stdio.h>

#define JOIN_WINDOW 5	/* seconds of slack around a log line, after the offset */

struct join;

struct join *join_new(void);
void join_free(struct join *j);
/* No logs to join with: each connection's records go to emit at once,
 * after the duplicate check, so memory follows open connections. */
void join_stream_to(struct join *j, message_fn emit, void *arg);
/* A capture connection's records (from capconn_messages): kept. */
void join_add_connection(struct join *j, struct smtp_connection *c);
size_t join_nrecords(const struct join *j);
/* First pass over the logs: learn from exact matches. */
void join_observe(struct join *j, const struct message *m);
/* Fix the offset (--skew) or estimate it from what was observed. */
void join_settle(struct join *j, bool fixed, long skew);
/* Second pass: merge what the captures say into m's hops. */
void join_message(struct join *j, struct message *m);
/* Capture records no log message took, in capture order. */
void join_emit_rest(struct join *j, message_fn emit, void *arg);
/* One line on the offset and the matches, for standard error. */
void join_report(const struct join *j, FILE *f);

#endif
