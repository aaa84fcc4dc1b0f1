/* paths.h - one message followed across the mail servers whose logs were
 * given: a delivery's "queued as NEWID" (Postfix, RFC 3030 BDAT too) or
 * "NEWID Message accepted for delivery" (Sendmail) names the next server's
 * queue ID; content-filter re-injection (to 127.0.0.1:10025 and back) is a
 * link like any other; where no queue ID was named, the Message-ID links a
 * delivery to the one message with that Message-ID that arrived at about
 * that time on another server.  A path's verdict is its weakest hop.
 * A linked delivery and the next server's arrival are one wire hop seen
 * from both ends: where one log does not know whether TLS was used (TLS
 * logging off) and the other does, the one that knows fills it in and
 * the hop is judged again; where both know and disagree, both are kept
 * and each is flagged with the other's view.
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

struct path_hop {
	enum ev_dir dir;
	char *peer_host, *peer_ip, *rcpt, *status, *next_qid;
	int peer_port;
	bool network, local;
	struct tls_state tls;
	const char *verdict, *severity, *rule;	/* owned by the policy */
	time_t ts;
	long long next;		/* the node this delivery reached, -1 none */
	const char *link;	/* how: "queue ID" or "Message-ID" */
	char *tls_from;		/* the TLS facts came from the other end's log */
	char *conflict;		/* the other end's log says otherwise */
};

struct path_node {
	char *host, *instance, *qid, *message_id, *from;
	time_t first_seen;
	time_t last_seen;	/* its latest hop, the log clock's then at most */
	bool has_inbound, reached, visited, capture;
	bool written;		/* its path has been written */
	unsigned mark;		/* the last walk that saw it */
	long long next_node;	/* captures: the next server's session of it */
	struct path_hop in;
	struct path_hop *out;
	size_t nout;
};

struct paths;

/* Judge a hop again: m carries the node's message fields, h the hop. */
typedef void (*path_judge_fn)(const struct message *m, struct hop *h, void *arg);
/* Write the path that starts at root (walk it with paths_node). */
typedef void (*path_write_fn)(struct paths *p, struct path_node *root, void *arg);

struct paths *paths_new(path_judge_fn judge, void *judge_arg, path_write_fn write,
			void *write_arg);
void paths_free(struct paths *p);
/* Keep what a path needs of a judged log message (m stays the caller's);
 * paths that are complete are written. */
void paths_add(struct paths *p, const struct message *m);
/* The end of the input: link and write everything still held. */
void paths_finish(struct paths *p);
/* "host/instance" of a node, as paths name servers. */
void paths_server_name(const struct path_node *n, char *b, size_t bl);
/* A node by id (from a hop's next or a node's next_node), NULL if gone. */
struct path_node *paths_node(struct paths *p, long long id);

#endif
