/* message.h - what correlation produces: messages with hops.
 * A message is one queue ID's life on one MTA (first line to "removed");
 * its inbound hop is how it arrived, each delivery is one recipient's
 * attempt to leave.  Every string is owned by the struct holding it. */
#ifndef TW_MESSAGE_H
#define TW_MESSAGE_H
#include "evidence.h"
#include "tlsfacts.h"
#include <stdint.h>

struct evref {
	int file_id;
	unsigned long line;	/* a line, or a frame number when frame is set */
	bool frame;
};

enum hop_source { SRC_LOG, SRC_PCAP, SRC_HEADER };

enum tri { TRI_UNKNOWN = -1, TRI_NO = 0, TRI_YES = 1 };

/* How TLS was lost on a hop whose peer offered it (README "Fates,
 * attempts and downgrades"): the capability rewritten (stripped), the
 * STARTTLS command answered 4xx/5xx (refused), or a failed handshake
 * before a plaintext delivery to the same destination. */
enum downgrade { DOWNGRADE_NONE = 0, DOWNGRADE_STRIPPED, DOWNGRADE_REFUSED,
		 DOWNGRADE_HANDSHAKE_FAILED };
const char *downgrade_name(enum downgrade d);	/* NULL for none */

/* What one delivery attempt did: it carried the message (sent), was put
 * off (deferred), was refused for good by the server (bounced), was
 * ended by the client's TLS policy before the message (refused), or
 * never reached a server (no-connection). */
enum outcome { OUTCOME_NONE = 0, OUTCOME_SENT, OUTCOME_DEFERRED, OUTCOME_BOUNCED,
	       OUTCOME_REFUSED, OUTCOME_NO_CONNECTION };
const char *outcome_name(enum outcome o);	/* NULL for none */

/* A recipient's end in one queue file: delivered (sent), returned
 * (bounced, expired), removed by the operator (deleted), or still queued
 * when the evidence ends (deferred). */
enum fate { FATE_NONE = 0, FATE_SENT, FATE_BOUNCED, FATE_EXPIRED, FATE_DELETED,
	    FATE_DEFERRED };
const char *fate_name(enum fate f);		/* NULL for none */

/* A delivery's TLS security level as the MTA's policy set it (Postfix's
 * smtp_tls_security_level names, README "Enforcement"); unknown unless
 * the evidence states it. */
enum tls_level { TLSL_UNKNOWN = 0, TLSL_NONE, TLSL_MAY, TLSL_ENCRYPT, TLSL_DANE,
		 TLSL_DANE_ONLY, TLSL_FINGERPRINT, TLSL_VERIFY, TLSL_SECURE };
const char *tls_level_name(enum tls_level l);	/* NULL for unknown */
enum tls_level tls_level_parse(struct span s);	/* unknown for other words */
/* Does the level forbid plaintext? */
bool tls_level_mandatory(enum tls_level l);

/* Which evidence stated the enforcement facts (README "Enforcement"):
 * the delivery's tls= status, the trust word Verified, a DANE or
 * fingerprint match line, the MTA's policy table (--policy-table), or the
 * sender's REQUIRETLS (RFC 8689 4.1: no delivery without verified TLS),
 * or a Sendmail tls_server/tls_rcpt ruleset refusal. */
enum enforced_by { ENF_UNKNOWN = 0, ENF_TLS_STATUS, ENF_TRUST_WORD, ENF_DANE_MATCH,
		   ENF_FINGERPRINT_MATCH, ENF_POLICY_TABLE, ENF_REQUIRETLS,
		   ENF_SENDMAIL_RULESET };
const char *enforced_by_name(enum enforced_by e);	/* NULL for unknown */

/* REQUIRETLS (RFC 8689) on a delivery, from Postfix 3.11+'s tls= status:
 * not requested (a status without the field), honoured, refused (the
 * delivery blocked), or undecided (a lost connection). */
enum requiretls { RQT_UNKNOWN = 0, RQT_NO, RQT_HONOURED, RQT_REFUSED, RQT_PENDING };
const char *requiretls_name(enum requiretls r);		/* NULL for unknown */
/* A message's REQUIRETLS over its deliveries: refused if any delivery
 * refused it, else undecided, honoured, not requested; unknown when no
 * delivery's status says. */
struct message;
enum requiretls message_requiretls(const struct message *m);

/* The TLS-RPT policy type (RFC 8460 4.4) the evidence shows in force: a
 * DANE TLSA policy or MTA-STS; unknown when nothing says. */
enum policy_type { PT_UNKNOWN = 0, PT_TLSA, PT_STS };
const char *policy_type_name(enum policy_type p);	/* NULL for unknown */

/* Postfix 3.10+ "TLSRPT: status=success|failure" for the connection. */
enum tlsrpt_result { TR_UNKNOWN = 0, TR_SUCCESS, TR_FAILURE };
const char *tlsrpt_result_name(enum tlsrpt_result r);	/* NULL for unknown */

struct tls_state {
	enum tri used;
	enum tls_version version;
	char *version_raw;
	char *cipher;		/* the IANA registry name where it is known */
	int bits, alg_bits;	/* -1 unknown */
	enum tls_cert cert;
	char *cert_raw;		/* trust word or verify= as written */
	enum tri stripped;
	/* Did the server offer STARTTLS (RFC 3207 section 4: the EHLO reply)?
	 * Yes when TLS was used or a middlebox rewrote the capability; no when
	 * a capture shows an EHLO reply without it; unknown from logs alone. */
	enum tri offered;
	char *kex;
	/* What a capture shows besides (NULL/unknown from logs). */
	char *cipher_openssl, *sni, *offered_max;
	char *cert_subject, *cert_issuer;
	time_t cert_not_before, cert_not_after;
	enum tri cert_self_signed;
	enum downgrade downgrade;
	/* Was TLS required (the level forbade plaintext: yes), merely tried
	 * (may: no), or is that unknown; the level when it is stated. */
	enum tls_level level;
	enum tri enforced;
	enum enforced_by enforced_by;
	enum requiretls requiretls;
	enum policy_type policy_type;
	enum tlsrpt_result tlsrpt;
	char *tlsrpt_failure;	/* RFC 8460 result type, as "certificate-not-trusted" */
};

/* Resolved when the message is written: does the host log TLS at all? */
/* A hop without a TLS line, decided when the host's logging is known:
 * smtp(8) client, smtpd(8) server, lmtp(8) client (its own loglevel). */
enum pending_inference { INF_NONE, INF_NO_LINE_OUT, INF_NO_LINE_IN, INF_NO_LINE_LMTP };

struct hop {
	enum ev_dir dir;
	char *peer_host, *peer_ip;
	int peer_port;			/* -1 unknown */
	char *rcpt, *status, *dsn, *next_qid;
	char *orig_rcpt;		/* the recipient before rewriting (orig_to=), or NULL */
	bool local;			/* no SMTP connection: pickup, local(8), unix socket */
	bool network;			/* crossed a network (not local, not loopback) */
	enum hop_source source;
	bool joined;			/* a capture connection was merged in */
	bool conflict;			/* ... and it disagrees with the log */
	char *conflict_detail;
	int join_ambiguous;		/* capture connections that fit equally */
	bool join_unanimous;		/* ... and all showed the same session facts */
	/* Received-header hops */
	char *helo, *by, *with, *rid;
	const char *mta_name, *position;
	bool claim;			/* below the boundary: not verifiable */
	struct tls_state tls;
	char *basis;			/* how the TLS facts were established */
	enum pending_inference pending;
	unsigned epoch;			/* the host's configuration epoch then */
	time_t ts;
	long usec;			/* of ts; -1: the log gave whole seconds */
	/* The log's view of the connection, 0 unknown: inbound, its connect
	 * and disconnect lines; outbound, its TLS line (start only). */
	time_t sess_start, sess_end;
	long sess_start_usec, sess_end_usec;
	struct evref *ev;
	size_t nev, capev;
	/* Repeated attempts folded into this one (a deferred delivery retried
	 * with the same outcome): how many in all, 1 for a single attempt,
	 * and when the last was. */
	unsigned long attempts;
	time_t last_attempt;
	/* What this attempt did, and for a delivery written after
	 * correlation (fates.c) the recipient's fate and its other attempts
	 * (time order; this hop is the one that carried the message, or the
	 * last one when none did). */
	enum outcome outcome;
	int conn_use;			/* Postfix conn_use=, 0 when absent */
	char *reason;			/* the reply or error text, as logged */
	enum fate fate;
	struct hop *tries;
	size_t ntries;
	/* A delivery to a content filter on this host whose output came back
	 * as next_qid (an after-queue filter, README "Content filters"). */
	bool filter;
	/* An arrival through a before-queue content filter: the hop is the
	 * Internet-facing smtpd session's (README "Content filters"). */
	bool proxied;
	bool xforwarded;		/* its client= line named orig_client= or
					   orig_queue_id= (XFORWARD, a filter's
					   re-injection or a proxy's back end) */
	/* An arrival whose client authenticated (Postfix's client= line
	 * sasl_method=, sasl_username=) or that came in on a submission
	 * service (syslog_name postfix/submission, postfix/smtps): the
	 * sender's own leg, not a relay (README "Submission"). */
	bool submission;
	/* The client authenticated: sasl_method is known, or only the
	 * protocol says so (Sendmail's proto=ESMTPA without its AUTH=server
	 * line, LogLevel 8 or less). */
	bool authenticated;
	char *sasl_method, *sasl_username;
	/* Filled by the policy. */
	const char *verdict, *severity, *rule;
	char *explain;
};

/* A mail client's login to its mailbox (the retrieval leg, README
 * "Retrieval"): a record of its own, carried as a message whose inbound
 * hop is the client's connection, so one policy judges it. */
struct login {
	char *service;		/* imap, pop3, submission, managesieve */
	/* login, auth-failed, aborted, no-auth (Dovecot's words); from a
	 * capture also "sent" (credentials in clear, no answer seen),
	 * "none" (no credentials in clear) and "unseen" (under TLS) */
	char *status;
	char *security;		/* Dovecot's %c as written; NULL from captures */
	char *local_ip;
	int local_port;		/* 0 unknown */
	bool starttls_offered;	/* a capture: STARTTLS/STLS among the capabilities */
};
void login_free(struct login *l);

struct message {
	char *host, *instance, *qid, *message_id, *from;
	/* after message_bare_addresses: the From as written when it was more
	 * than the address in angle brackets, and its display name */
	char *from_raw, *from_name;
	enum ev_mta mta;
	time_t first_seen, last_seen;
	bool has_inbound;
	struct hop inbound;
	struct hop *dl;
	size_t ndl, capdl;
	int nrcpt;			/* from qmgr / Sendmail nrcpts, -1 unknown */
	unsigned long dl_dropped;	/* deliveries past MESSAGE_MAX_DELIVERIES */
	int finals;			/* recipients with a final status */
	bool removed, done, complete;
	int waiting;			/* inbound session still open */
	void *session;			/* that session (the tracker's), or NULL */
	uint64_t seq;
	bool per_connection;		/* a capture's encrypted connection: its
					   messages cannot be counted */
	char *note;
	/* Postfix: the operator removed it (postsuper -d), or qmgr returned
	 * it as too old ("status=expired" / "force-expired"). */
	bool deleted, expired;
	/* An after-queue content filter: the queue file the message was in
	 * before the filter, its arrival moved here (README "Content
	 * filters"); filter_hop is the hand-over to the filter. */
	char *prior_qid;
	struct hop *filter_hop;
	struct hop *filter_return;	/* the filter's re-injection: this file's own arrival */
	bool absorbed;			/* its story continues in another record */
	bool header;			/* built from Received headers: dl are its hops */
	char **rcpts;			/* RCPT TO seen in a capture */
	size_t nrcpts;
	const char *verdict, *severity;
	struct login *login;		/* a login record, not a message */
};

void tls_state_init(struct tls_state *t);
void tls_state_free(struct tls_state *t);
void tls_state_copy(struct tls_state *dst, const struct tls_state *src);
/* What dst lacks of the session itself - used, version, cipher, bits -
 * from src; not the certificate, which each side sees of the other.
 * True when anything was filled. */
bool tls_state_fill_session(struct tls_state *dst, const struct tls_state *src);
/* The cipher as a source wrote it (OpenSSL's name in logs, either in
 * Received headers): the IANA name into cipher, OpenSSL's beside it
 * (README "Output": one naming in every source); unknown names stay. */
void tls_state_set_cipher(struct tls_state *t, const char *raw, size_t n);
/* Fill from an EV_TLS record. */
void tls_state_from_ev(struct tls_state *t, const struct evidence *ev);

void hop_init(struct hop *h, enum ev_dir dir);
void hop_add_ev(struct hop *h, struct evref r);
void hop_set_basis(struct hop *h, const char *basis);
/* Free what h owns and zero it (a hop moved out of a message's array). */
void hop_free(struct hop *h);

/* Deliveries a message keeps (after folding repeated attempts); further
 * ones are counted in dl_dropped. */
#define MESSAGE_MAX_DELIVERIES 100000

struct message *message_new(struct span host, struct span instance,
			    struct span qid, enum ev_mta mta, time_t ts);
struct hop *message_add_delivery(struct message *m);
/* The queue ID the message arrived under: before an after-queue content
 * filter, the one the sending server was told. */
const char *message_arrival_qid(const struct message *m);
/* Take the last delivery back (it was folded into an earlier one). */
void message_drop_last_delivery(struct message *m);
/* A copy of m's facts - its fields, hops, TLS facts and evidence
 * references - without the Received-header clauses, capture recipients,
 * note and verdicts (what the paths keep of a message until it is
 * judged). */
struct message *message_copy_facts(const struct message *m);
/* Addresses bare, as README "Output" documents them: "a@b", not "<a@b>";
 * the null sender "".  A header From's display name goes to from_name and
 * the From as written to from_raw. */
void message_bare_addresses(struct message *m);
void message_free(struct message *m);
/* Its arrival and its end are both in the evidence (README "complete"). */
bool message_is_complete(const struct message *m);

#endif
