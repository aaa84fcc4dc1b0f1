/* learn.h - what the first reads teach the join: the capture clock's
 * offset against the logs, the server addresses each log host answers on,
 * the servers that offered STARTTLS.  Bounded: of the captures, samples of
 * the queue IDs they name and of their connections.
 * The offset: the median of the exact matches (a capture message whose
 * queue ID the log names); failing those, the offset most pairs of a log
 * hop and a sampled connection of the same address allow. */
#ifndef TW_LEARN_H
#define TW_LEARN_H
#include "../ingest/capture.h"
#include "../model/message.h"

/* Samples keep at most this many queue IDs, and as many connections. */
#define LEARN_SAMPLE_MAX 16384
/* The pair search goes this many seconds either way (--skew-max) and
 * counts at most LEARN_PAIRS_MAX pairs. */
#define LEARN_SKEW_MAX 900
#define LEARN_PAIRS_MAX 4000000

struct learn;

struct learn *learn_new(void);
void learn_free(struct learn *l);
/* --skew-max, before learn_observe. */
void learn_set_bound(struct learn *l, long seconds);
/* The captures' first read: a connection (not a duplicate), then each
 * of its records. */
void learn_connection(struct learn *l, const struct smtp_connection *c);
void learn_record(struct learn *l, const struct message *m, const struct smtp_connection *c);
/* The logs' first read: each message. */
void learn_observe(struct learn *l, const struct message *m);
/* The offset: fixed (--skew) or estimated from what was observed; the
 * samples are freed then, and later observations are ignored. */
void learn_settle(struct learn *l, bool fixed, long skew);
long learn_offset(const struct learn *l);
/* When both sides' stamps had sub-second precision: the offset to the
 * microsecond and the slacks a join allows, each measured on the exact
 * matches - a log line outside its connection, an arrival's "disconnect
 * from" away from the last packet, its first packet after "connect
 * from".  False otherwise. */
struct join_slack {
	int64_t off_us, line_us, end_us, start_us;
};
bool learn_precise(const struct learn *l, struct join_slack *slack);
bool learn_offered(const struct learn *l, const char *server, int port);
/* Can m's log host be the one answering on server:port?  Yes when an
 * exact match showed it there, or showed no log host there (a server
 * listens on several addresses; the matches name a few); no when they
 * showed another log host there. */
bool learn_host_serves(const struct learn *l, const struct message *m, const char *server,
		       int port);
/* How the offset was found: "the median offset, 12 exact matches" ... */
void learn_describe(const struct learn *l, char *b, size_t bl);

#endif
