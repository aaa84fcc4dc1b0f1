/* paths.h - one message followed across the mail servers whose logs were
 * given: a delivery's "queued as NEWID" (Postfix, RFC 3030 BDAT too) or
 * "NEWID Message accepted for delivery" (Sendmail) names the next server's
 * queue ID; content-filter re-injection (to 127.0.0.1:10025 and back) is a
 * link like any other; where no queue ID was named, the Message-ID links a
 * delivery to the one message with that Message-ID that arrived at about
 * that time on another server.  A path's verdict is its weakest hop.
 * A linked delivery and the next server's arrival are one wire hop seen
 * from both ends: where one log does not know whether TLS was used (TLS
 * logging off) and the other does, the one that knows fills it in; where
 * both know and disagree, both are kept and each is flagged with the
 * other's view (and counts as a hop in conflict).  Messages reach the paths
 * unjudged: a node is judged once, when its links are all made and its
 * facts final (path_settled_fn), never before and never again.
 * Streaming: the logs come merged by time and messages in the order they
 * complete.  A message's deliveries are linked once the newest message
 * seen completed PATH_HOLD seconds after it (the next server's copy has
 * completed by then, unless it stayed queued longer); a path is written
 * once its newest message is 2 x PATH_HOLD old, so a message that
 * completes later than that cannot link into it any more (its delivery
 * stays unlinked).  Memory: the messages of the last 2 x PATH_HOLD seconds
 * and those whose paths wait for them. */
#ifndef TW_PATHS_H
#define TW_PATHS_H
#include "../model/message.h"

#define PATH_LINK_WINDOW 300	/* seconds between a delivery and the next arrival */
#define PATH_HOLD 3600		/* see above */

/* What a path adds to one hop of a node's message. */
struct path_link {
	long long next;		/* deliveries: the node this one reached, -1 none */
	const char *how;	/* "queue ID" or "Message-ID", NULL unlinked */
	char *tls_from;		/* the TLS facts came from the other end's log */
	char *conflict;		/* the other end's log says otherwise */
};

/* A hop's TLS as the two ends' views are compared (wire_views): whether
 * it was used and the version, enough to tell when they agree. */
struct path_tls {
	enum tri used;
	enum tls_version version;
};

/* What linking reads of one delivery without opening its message. */
struct path_dkey {
	const char *next_qid;	/* in the key's block */
	time_t ts;
	bool local, sent;
	struct path_tls tls;
};

/* What linking reads of a node without opening its facts: in the common
 * case (both ends' logs agree on TLS) a node is opened only to be judged. */
struct path_key {
	char *mem;		/* dl, then the strings, in one block */
	const char *host, *instance, *qid, *message_id;	/* qid: the arrival's */
	const char *peer_ip;	/* of its arrival */
	time_t first_seen;
	size_t ndl;
	struct path_dkey *dl;	/* of m->dl[k] */
	bool has_inbound, inbound_local;
	struct path_tls in_tls;	/* of m->inbound */
};

/* A node's facts are packed (message_save's bytes, a fraction of the
 * message's size) while it waits, opened for a moment where linking must
 * compare or fill its TLS facts, and opened for good once its path is
 * settled: the window holds two hours of mail (ARCHITECTURE.md "Bounds"). */
struct path_node {
	struct message *m;	/* the message's facts while open, else NULL;
				   always open from paths_settled_fn on */
	unsigned char *packed;	/* the facts, unjudged; NULL: never packed */
	size_t npacked;
	struct path_key key;
	time_t last_seen;	/* its latest hop */
	time_t added;		/* the log clock when it came: its wait is
				   counted from there while its own stamp is
				   far ahead of the clock (node_time) */
	bool reached, visited, capture;
	bool written;		/* its path has been written */
	unsigned mark;		/* the last walk that saw it */
	long long next_node;	/* captures: the next server's session of it */
	struct path_link in;	/* of m->inbound */
	struct path_link *out;	/* of m->dl[k] */
};

struct paths;

/* A node whose facts are settled: every link to and from it is made (the
 * place to judge its message, once).  Called for every node before the
 * path it is in is written, and for a node that leaves unwritten. */
typedef void (*path_settled_fn)(struct path_node *n, void *arg);
/* Write the path that starts at root (walk it with paths_node). */
typedef void (*path_write_fn)(struct paths *p, struct path_node *root, void *arg);

struct paths *paths_new(path_settled_fn settled, path_write_fn write, void *arg);
void paths_free(struct paths *p);
/* Keep a copy of the facts of a message (unjudged; m stays the caller's);
 * false for a message no path can hold (no queue ID; a capture's without
 * a Message-ID).  Paths that are complete are settled and written. */
bool paths_add(struct paths *p, const struct message *m);
/* The end of the input: link and write everything still held. */
void paths_finish(struct paths *p);
/* Queue files that left in no written path (a loop of links no root
 * reached): 0 unless something is wrong; the run says so on stderr. */
unsigned long paths_unwritten(const struct paths *p);
/* "host/instance" of a node, as paths name servers. */
void paths_server_name(const struct path_node *n, char *b, size_t bl);
/* A node by id (from a link's next or a node's next_node), NULL if gone. */
struct path_node *paths_node(struct paths *p, long long id);
/* One hop of a path as a walk meets it: the node (server) it is on, the
 * hop, and its link (the inbound hop's, or the delivery's). */
typedef void (*path_hop_fn)(const struct path_node *n, const struct hop *h,
			    const struct path_link *l, void *arg);
/* Every hop of the path from root (fn NULL: none), in the order the message travelled:
 * each server's arrival, then its deliveries, each followed by the next
 * server it reached; a loop of links visits each server once.  Returns
 * how many servers (queue files) the path has. */
size_t paths_walk(struct paths *p, struct path_node *root, path_hop_fn fn, void *arg);

#endif
