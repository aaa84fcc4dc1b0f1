/* retrconv.h - one mailbox-retrieval conversation (IMAP or POP3) rebuilt
 * from the two byte streams of a TCP connection, as far as a capture
 * shows it: the greeting and the capabilities (STARTTLS, STLS,
 * LOGINDISABLED), STARTTLS/STLS and its answer, the TLS handshake, and
 * whether the client sent credentials in clear (LOGIN, AUTHENTICATE,
 * USER/PASS, APOP, AUTH) and what the server answered.  The password is
 * never kept; the login name is (README "Retrieval"). */
#ifndef TW_RETRCONV_H
#define TW_RETRCONV_H
#include "smtpconv.h"	/* struct line_buf, enum starttls_state */

enum retr_proto { RP_IMAP, RP_POP3 };
/* Credentials in clear: none sent, sent and unanswered, accepted, refused. */
enum retr_auth { RA_NONE, RA_SENT, RA_OK, RA_FAILED };

#define RETR_MAX_PENDING 32	/* POP3 pipelined commands (RFC 2449 6.6) */

struct retr_conv {
	enum retr_proto proto;
	bool implicit_tls;		/* 993, 995: TLS from the first byte (RFC 8314) */
	bool greeting;			/* "* OK", "* PREAUTH", "+OK" seen */
	bool preauth;			/* IMAP "* PREAUTH": no login at all */
	bool caps_seen;			/* a capability list was read */
	bool starttls_offered;		/* IMAP STARTTLS, POP3 STLS (RFC 2595) */
	bool login_disabled;		/* IMAP LOGINDISABLED before TLS */
	enum starttls_state starttls;
	uint64_t starttls_frame, starttls_reply_frame;
	bool tls_c, tls_s;		/* this direction now carries TLS */
	struct tls_obs tls;
	enum retr_auth auth;		/* of the last credentials sent in clear */
	unsigned auth_attempts;
	char method[24];		/* LOGIN, PLAIN, USER, APOP ... */
	char user[128];			/* where the command shows it, else "" */
	uint64_t auth_frame, auth_reply_frame;
	/* IMAP: the tags awaiting their tagged reply (RFC 9051 2.2.1) */
	char starttls_tag[24], auth_tag[24];
	bool sasl_exchange;		/* client lines are SASL responses */
	/* POP3: commands awaiting replies, oldest first; a multi-line
	 * reply's data runs to "." (RFC 1939 3) */
	char pend[RETR_MAX_PENDING];
	size_t npend;
	bool in_multiline, multiline_capa;
	struct line_buf lc, ls;
	unsigned long commands, replies, gaps;
	uint64_t bytes_c, bytes_s;
};

void retr_conv_init(struct retr_conv *r, enum retr_proto proto, bool implicit_tls);
void retr_conv_free(struct retr_conv *r);
void retr_conv_data(struct retr_conv *r, bool from_client, const uint8_t *p, size_t n,
		    uint64_t frame);
void retr_conv_gap(struct retr_conv *r, bool from_client, uint64_t bytes);
/* A server's first bytes: an IMAP greeting ("* OK", "* PREAUTH", "* BYE")
 * or a POP3 one ("+OK")?  false: neither. */
bool retr_looks_like_greeting(const uint8_t *p, size_t n, enum retr_proto *proto);
const char *retr_proto_name(enum retr_proto p);	/* "imap", "pop3" */

#endif
