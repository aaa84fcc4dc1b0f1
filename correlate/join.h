/* join.h - joining log messages with capture connections.
 * The captures are read three times (once more for held messages, and
 * again each time the log goes back in time), the logs twice:
 *  1. captures alone: what the clock offset needs (the queue IDs the
 *     servers named, a sample of the connections), which servers offered
 *     STARTTLS, which connections are duplicates - a bounded summary, no
 *     records kept (learn.h);
 *  2. logs alone (without --skew): exact matches, or failing them pairs
 *     of hops and connections, give the offset, and the addresses each log
 *     host answers on;
 *  3. logs again with the captures read beside them, in step: a capture
 *     record waits in a window of JOIN_RETAIN + JOIN_AHEAD seconds around
 *     the log's clock and every log hop is merged with the connection it
 *     belongs to - exactly by queue ID, otherwise by addresses and time;
 *  4. at the end, the capture records no log hop took, in capture order.
 * An ambiguous match is reported as such, never guessed.  Memory follows
 * the traffic inside the window, not the length of either input. */
#ifndef TW_JOIN_H
#define TW_JOIN_H
#include "capconn.h"
#include "learn.h"
#include <stdio.h>

#define JOIN_WINDOW 5	/* seconds of slack around a log line, after the offset */
#define JOIN_EDGE 2	/* ... and between "disconnect from" and the last packet */
/* How far the captures are read ahead of the log: a connection closes
 * after the line that logs its message - Postfix's smtp(8) keeps a cached
 * connection up to smtp_connection_reuse_time_limit (300 s), smtpd(8) a
 * client session as long as it sends. */
#define JOIN_AHEAD 600
/* How long a capture record is kept after the log's clock passed it: the
 * tracker writes a message when it is complete, a while after its hops.
 * A message completed later (deferred mail) is held and joined at the end
 * from a fresh read of the captures. */
#define JOIN_RETAIN 600

struct join;

struct join *join_new(void);
void join_free(struct join *j);
/* No logs to join with: each connection's records go to emit at once,
 * after the duplicate check, so memory follows open connections. */
void join_stream_to(struct join *j, message_fn emit, void *arg);
/* Pass 1: a capture connection (capture order; its records are counted,
 * summarised and freed), or, after join_stream_to, emitted. */
void join_add_connection(struct join *j, struct smtp_connection *c);
size_t join_nrecords(const struct join *j);
/* Pass 2: learn from the exact matches of one log message. */
void join_observe(struct join *j, const struct message *m);
/* Bound the search for the offset (--skew-max); before join_observe. */
void join_set_skew_max(struct join *j, long bound);
/* Fix the offset (--skew) or estimate it from what was observed. */
void join_settle(struct join *j, bool fixed, long skew);
/* Pass 3: the captures to read again beside the logs, in the order of
 * pass 1; first_ts their first packet's time (0: none, skipped), packets
 * how many pass 1 read (a file still being written is read as far). */
void join_add_capture(struct join *j, const char *path, int file_id, time_t first_ts,
		      uint64_t packets);
void join_set_reading(struct join *j, const uint16_t *ports, size_t nports, int threads);
/* Before each log line of stamp ts: read the captures up to it. */
void join_advance(struct join *j, time_t ts);
/* Merge what the captures say into m's hops.  False: a hop is older than
 * the window (the join keeps m and hands it over in join_finish). */
bool join_message(struct join *j, struct message *m);
/* After the logs: the held messages, joined, then the capture records no
 * log message took, in capture order. */
void join_finish(struct join *j, message_fn emit, void *arg);
/* Capture files that could not be read again (each said on stderr). */
size_t join_reread_failures(const struct join *j);
/* One line on the offset and the matches, for standard error. */
void join_report(const struct join *j, FILE *f);

#endif
