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
 * Memory: a compact copy of every message is kept until the end. */
#ifndef TW_PATHS_H
#define TW_PATHS_H
#include "message.h"

#define PATH_LINK_WINDOW 300	/* seconds between a delivery and the next arrival */

struct path_hop {
	enum ev_dir dir;
	char *peer_host, *peer_ip, *rcpt, *status, *next_qid;
	int peer_port;
	bool network, local;
	struct tls_state tls;
	const char *verdict, *severity, *rule;	/* owned by the policy */
	time_t ts;
	long next;		/* the node this delivery reached, -1 none */
	const char *link;	/* how: "queue ID" or "Message-ID" */
	char *tls_from;		/* the TLS facts came from the other end's log */
	char *conflict;		/* the other end's log says otherwise */
};

struct path_node {
	char *host, *instance, *qid, *message_id, *from;
	time_t first_seen;
	bool has_inbound, reached, visited, capture;
	long next_node;		/* captures: the next server's session of it */
	struct path_hop in;
	struct path_hop *out;
	size_t nout;
};

struct paths {
	struct path_node *v;
	size_t n, cap;
	struct hashtab *by_qid, *by_mid;
};

struct paths *paths_new(void);
void paths_free(struct paths *p);
/* Keep what a path needs of a judged log message (m stays the caller's). */
void paths_add(struct paths *p, const struct message *m);
/* Judge a hop again: m carries the node's message fields, h the hop. */
typedef void (*path_judge_fn)(const struct message *m, struct hop *h, void *arg);
/* Link deliveries to the messages they became on the next server, and
 * let each wire hop's two views fill each other (judged with judge). */
void paths_link(struct paths *p, path_judge_fn judge, void *arg);

#endif
