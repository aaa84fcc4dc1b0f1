/* track_state.h - what the tracker's files share (correlate/track.h is
 * the stage's interface; this header is private to track*.c): the state
 * kept per smtpd session, delivering process and host, the tracker, and
 * the functions one file offers the others.  ARCHITECTURE.md "Correlate"
 * says which file does what. */
#ifndef TW_TRACK_STATE_H
#define TW_TRACK_STATE_H
#include "track.h"
#include "../util/hashtab.h"
#include "../util/logclock.h"

#define SWEEP_EVERY 8192	/* lines between checks of the tables' bounds */
#define SWEEP_CLOCK 3600	/* idle state goes at each hour of log time */
#define PROC_IDLE (3600)		/* a delivering process's connection */
#define SESSION_IDLE (6 * 3600)		/* an smtpd session without disconnect */
#define MESSAGE_IDLE (8 * 86400)	/* beyond Postfix's 5-day queue lifetime */
#define PROXY_WAIT (120)		/* how long a message from loopback on a
					   host with a before-queue filter waits
					   for its front session's proxy-accept
					   (smtpd_proxy_timeout: 100 s) */
#define FLUSH_WAIT (3600)		/* how long a message waits to learn
					   whether its host logs TLS at all */
#define MAX_OPEN (100000)		/* sessions, processes or messages open at
					   once; past it the idlest are closed early */

struct conn {
	bool open, has_tls;
	char *relay_name, *relay_ip;
	int relay_port;
	struct tls_state tls;
	struct evref tls_ev;
	time_t tls_ts;			/* when its TLS line was logged */
	long tls_usec;
	char *qid;
	int conn_use;
	time_t used;			/* the relays table: last delivery over it */
	/* The relays table: a TLS handshake with this relay failed in this
	 * configuration epoch (hostflags.nep then), and its line. */
	unsigned hs_fail_nep;
	struct evref hs_fail_ev;
};

/* What a TLS policy said of a delivering process's connection before its
 * delivery line (EV_TLS_POLICY): a DANE or fingerprint match, a TLSRPT
 * result.  Used by the next delivery to the same relay address. */
enum policy_match { PM_NONE = 0, PM_DANE, PM_FINGERPRINT };
#define POLICY_NOTE_EV 2
struct policy_note {
	char *relay_ip;			/* NULL: no note */
	enum policy_match match;
	enum tlsrpt_result rpt;
	char *rpt_failure;
	struct evref ev[POLICY_NOTE_EV];
	int nev;
};

struct proc {			/* a delivering process: smtp, lmtp, sendmail */
	struct conn pending;	/* TLS line seen, no delivery yet */
	struct conn cur;	/* the connection of the last delivery */
	bool has_fail;
	bool fail_handshake;	/* ... and it was a broken TLS handshake */
	struct evref fail_ev;
	char *fail_text;
	struct policy_note note;
	time_t last;
	unsigned long touch;		/* the tracker's line count then */
};

struct session {		/* a receiving process: smtpd, sendmail child */
	char *peer_host, *peer_ip;
	bool has_connect, has_tls, tls_failed, has_auth;
	struct evref connect_ev, tls_ev, fail_ev, auth_ev;
	char *sasl_method, *sasl_username;	/* Sendmail's AUTH=server line */
	time_t connect_ts;		/* when "connect from" was logged */
	long connect_usec;
	struct tls_state tls;
	struct message **waiting;
	size_t nw, capw;
	time_t last;
	unsigned long touch;		/* the tracker's line count then */
};

/* What a host's logs showed about TLS logging, per configuration epoch: a
 * restart or reload starts a new one, since smtp_tls_loglevel may change. */
struct epoch_flags {
	/* TLS lines seen from this host's smtp(8) client, lmtp(8) client
	 * (lmtp_tls_loglevel is its own setting) and smtpd(8) server */
	bool client_tls_seen, lmtp_tls_seen, server_tls_seen;
};

/* The last EPOCHS_KEPT epochs of a host, in a ring: a log with a reload
 * every few minutes must not grow memory.  A hop from an epoch that old
 * (more restarts ago than any message stays open for) is judged by the
 * oldest one kept. */
#define EPOCHS_KEPT 256
#define FIELD_MAX TRACK_FIELD_MAX
#define CLOSED_KEPT 65536
enum closed_why { CLOSED_UNDER_LOAD = 1, CLOSED_IDLE = 2 };

struct hostflags {
	struct epoch_flags ep[EPOCHS_KEPT];
	unsigned nep;	/* epochs begun; the current one is nep - 1 */
	bool queue_seen;	/* cleanup or qmgr logged under this name */
	bool proxy_seen;	/* a before-queue filter's "proxy-accept" */
};

/* A queue file's client= line logged under a host name its queue's own
 * daemons never used (a listener with "-o myhostname=..."): where the
 * queue file's other lines will be found (tracker.aliases). */
struct alias {
	char *host;
	time_t ts;
};
#define ALIAS_WINDOW 60		/* seconds between client= and cleanup */
#define ALIASES_MAX 100000

/* Completed messages in the order they completed (track_queue.c). */
struct msg_ring {
	struct message **v;
	size_t head, len, cap;
};
void ring_push(struct msg_ring *r, struct message *m);
struct message *ring_at(const struct msg_ring *r, size_t i);
struct message *ring_pop(struct msg_ring *r);

struct tracker {
	struct hashtab *sessions, *procs, *msgs, *hosts, *relays;
	struct hashtab *aliases;	/* instance, queue ID -> struct alias */
	struct msg_ring q;		/* the output queue */
	struct msg_ring held;		/* taken out of it to wait for a proxy-accept */
	message_fn emit;
	void *arg;
	uint64_t seq;
	struct logclock clock;	/* the logs' clock, for what is idle */
	unsigned long fed;
	time_t sweep_due;		/* the next hour of log time idle state goes at */
	unsigned long evicted;		/* state closed early for MAX_OPEN */
	unsigned long cut;		/* fields cut to FIELD_MAX bytes */
	/* The sessions closed early, as hashes of their keys (low bits: why),
	 * the last CLOSED_KEPT of them: a line of one later says so instead
	 * of "the start of this session is not in the log".  Lossy: a newer
	 * one may take an older one's slot. */
	uint64_t *closed;
	struct buf key;
	/* The last host looked up: a log is mostly one host and instance, and
	 * host entries live as long as the tracker. */
	struct buf last_host_key;
	struct hostflags *last_host;
};

/* track_state.c: host epochs, keys, connections and processes, messages */
struct epoch_flags *trk_epoch_at(struct hostflags *h, unsigned e);
struct epoch_flags *trk_cur_epoch(struct hostflags *h);
void trk_new_epoch(struct hostflags *h);
void trk_hostflags_free(void *p);
const char *trk_key3(struct tracker *t, struct span a, struct span b, struct span c, size_t *len);
const char *trk_pid_key(struct tracker *t, const struct evidence *ev, size_t *len);
const char *trk_relay_key(struct tracker *t, const struct evidence *ev, size_t *len);
struct evref trk_ref_of(const struct evidence *ev);
void trk_conn_clear(struct conn *c);
void trk_conn_copy(struct conn *dst, const struct conn *src);
void trk_conn_move(struct conn *dst, struct conn *src);
bool trk_conn_same(const struct conn *a, const struct conn *b);
void trk_proc_free(void *p);
struct proc *trk_proc_get(struct tracker *t, const struct evidence *ev);
struct hostflags *trk_host_flags(struct tracker *t, const char *host, const char *inst);
struct hostflags *trk_host_flags_ev(struct tracker *t, const struct evidence *ev);
struct message *trk_msg_lookup(struct tracker *t, const struct evidence *ev);
/* A completed message still in the output queue (track_queue.c), or NULL. */
struct message *trk_queued_lookup(struct tracker *t, struct span host, struct span instance,
				  struct span qid);
struct message *trk_msg_new(struct tracker *t, const struct evidence *ev);
struct message *trk_msg_get(struct tracker *t, const struct evidence *ev);
void trk_hop_set_peer(struct tracker *t, struct hop *h, const struct evidence *ev);
/* *dst = a copy of s, cut to FIELD_MAX bytes (counted in t->cut). */
void trk_field(struct tracker *t, char **dst, struct span s);
void trk_set_pending(struct hostflags *hf, struct hop *h, enum pending_inference what);

/* track_queue.c: the output queue, TLS-logging inference */
void trk_flush(struct tracker *t, bool final);
void trk_complete(struct tracker *t, struct message *m);
void trk_maybe_complete(struct tracker *t, struct message *m);

/* track_in.c: inbound (Postfix smtpd, Sendmail) */
void trk_session_free(void *p);
struct session *trk_session_get(struct tracker *t, const struct evidence *ev, bool create);
void trk_detach(struct message *m);
void trk_session_close(struct tracker *t, struct session *s, const struct evidence *ev);
void trk_session_end(struct tracker *t, const struct evidence *ev);
void trk_on_connect(struct tracker *t, const struct evidence *ev);
void trk_on_tls_in(struct tracker *t, const struct evidence *ev);
void trk_on_client(struct tracker *t, const struct evidence *ev);
void trk_alias_add(struct tracker *t, const struct evidence *ev);
void trk_alias_free(void *p);
void trk_on_proxy_accept(struct tracker *t, const struct evidence *ev);
void trk_on_local_inbound(struct tracker *t, const struct evidence *ev, const char *what);
void trk_on_sendmail_from(struct tracker *t, const struct evidence *ev);
void trk_on_auth(struct tracker *t, const struct evidence *ev);

/* track_out.c: outbound (Postfix smtp/lmtp, Sendmail) */
void trk_on_tls_out(struct tracker *t, const struct evidence *ev);
void trk_on_tls_policy(struct tracker *t, const struct evidence *ev);
void trk_note_clear(struct policy_note *n);
void trk_on_tls_fail(struct tracker *t, const struct evidence *ev);
void trk_on_to(struct tracker *t, const struct evidence *ev);
void trk_on_bounce(struct tracker *t, const struct evidence *ev);

/* track_sweep.c: idle state swept, bounded */
/* Why the session of this key was closed early, or 0 when it was not. */
enum closed_why trk_session_closed_why(const struct tracker *t, const char *key, size_t n);
void trk_sweep_table(struct tracker *t, int which, time_t idle);
void trk_sweep(struct tracker *t);
/* Only the tables' bounds (MAX_OPEN), not what is idle. */
void trk_bound(struct tracker *t);

#endif
