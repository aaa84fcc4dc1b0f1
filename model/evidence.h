/* evidence.h - one recognised fact from an input, with where it came from.
 * Records are built per line; every span borrows from that line and is valid
 * only during the callback that receives the record (copy what you keep). */
#ifndef TW_EVIDENCE_H
#define TW_EVIDENCE_H
#include "../util/buf.h"
#include <stdint.h>
#include <time.h>

enum ev_kind {
	EV_CONNECT,	/* smtpd / sendmail: a client connected */
	EV_DISCONNECT,	/* smtpd: disconnect, maybe with command counters */
	EV_TLS,		/* a TLS summary: Postfix "TLS connection ...", Sendmail STARTTLS= */
	EV_TLS_FAIL,	/* a failed or refused STARTTLS, TLS errors */
	EV_CLIENT,	/* Postfix QID: client=  (message received in a session) */
	EV_PICKUP,	/* Postfix pickup: local submission */
	EV_MESSAGE_ID,	/* cleanup message-id= */
	EV_FROM,	/* qmgr from= / Sendmail from= */
	EV_TO,		/* a delivery attempt for one or more recipients */
	EV_REMOVED,	/* qmgr removed: the queue ID is free again */
	EV_DONE,	/* Sendmail "done;" at LogLevel >= 13 */
	EV_BOUNCE,	/* a notification message created for a queue ID */
	EV_REJECT,	/* NOQUEUE/QID reject */
	EV_LOST,	/* lost connection after X */
	EV_RESTART,	/* the MTA (re)started or reloaded its configuration */
	EV_TLS_POLICY,	/* smtp: a policy's verdict on a connection: a DANE or
			 * fingerprint match, a TLSRPT result (status: dane-match,
			 * fingerprint-match, success, failure; detail: failure type) */
	EV_LOGIN,	/* Dovecot: a mail client's login (status: login, auth-failed,
			 * aborted, no-auth; sasl_username the user; security the
			 * TLS element as written) */
	EV_PROXY_ACCEPT,	/* smtpd before a proxy filter: "proxy-accept: ...
				   queued as QID" (next_qid) */
	EV_AUTH,	/* a client authenticated in a receiving session: Sendmail's
			 * "AUTH=server" line (sasl_method, sasl_username) */
	EV_MAILBOX,	/* Dovecot's LMTP or LDA put a message into a mailbox (status:
			 * saved, save-failed; rcpt the mailbox's user as Dovecot
			 * names it, detail the folder, session its session ID) */
	EV_KIND_MAX
};

enum ev_mta { MTA_POSTFIX, MTA_SENDMAIL, MTA_UNKNOWN, MTA_DOVECOT };
enum ev_dir { DIR_NONE, DIR_IN, DIR_OUT };

/* Counters from Postfix 3.0+ "disconnect from ... starttls=1 ..." */
enum starttls_count { ST_ABSENT = 0, ST_NO_COUNTERS, ST_OK, ST_FAILED };

struct ev_tls {
	struct span trust;	/* Postfix trust word, as written */
	struct span version;	/* as written */
	struct span cipher;
	int bits, alg_bits;	/* -1 when absent */
	struct span verify;	/* Sendmail verify= value */
	struct span kex;	/* Postfix key-exchange tail */
	bool reused;		/* "TLS connection reused" */
};

struct evidence {
	enum ev_kind kind;
	enum ev_mta mta;
	enum ev_dir dir;
	int file_id;
	unsigned long line;
	time_t ts;
	long usec;
	struct span host, instance, service, program;
	long pid;
	struct span qid;	/* empty for NOQUEUE */

	struct span peer_host, peer_ip;	/* client, or relay for deliveries */
	int peer_port;			/* -1 when absent */
	struct ev_tls tls;
	enum starttls_count starttls;

	struct span rcpt;	/* EV_TO: the recipients as written */
	struct span orig_rcpt;	/* EV_TO: Postfix's orig_to=, the address before
				   aliases, .forward or virtual(5) rewrote it */
	struct span status;	/* sent, deferred, bounced ... (lower case for sendmail too) */
	struct span dsn;
	struct span reply;	/* text in parentheses after status */
	struct span next_qid;	/* "queued as X" or Sendmail "X Message accepted" */
	struct span from;
	struct span message_id;
	struct span proto;	/* Sendmail proto=ESMTPS */
	struct span mailer;	/* Sendmail mailer= */
	struct span detail;	/* free text: the error, the reject reason */
	struct span tls_feature;	/* Postfix 3.11+ "tls=dane" on deliveries */
	struct span socket;	/* EV_TO over a unix-domain socket: its path */
	struct span sasl_method, sasl_username;	/* EV_CLIENT: the client authenticated */
	bool xforward;		/* EV_CLIENT: orig_client= / orig_queue_id= (XFORWARD) */
	struct span local_ip;	/* EV_LOGIN: lip= */
	int local_port;		/* EV_LOGIN: lport=, 0 when absent */
	struct span security;	/* EV_LOGIN: "TLS", "secured", "TLS handshaking"... */
	struct span session;	/* EV_MAILBOX: Dovecot's session ID, the one its LMTP
				   reply "250 2.0.0 <rcpt> SESSION Saved" names */
	int conn_use;		/* Postfix conn_use=, 0 when absent */
	int nrcpt;		/* -1 when absent */
};

const char *ev_kind_name(enum ev_kind k);

#endif
