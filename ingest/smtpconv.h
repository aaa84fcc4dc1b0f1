/* smtpconv.h - one SMTP conversation reconstructed from the two byte
 * streams of a TCP connection: banner, EHLO capabilities, STARTTLS and its
 * reply, the TLS handshake after it, MAIL/RCPT/DATA/BDAT and the queue ID
 * the server names for each message. */
#ifndef TW_SMTPCONV_H
#define TW_SMTPCONV_H
#include "tlsparse.h"
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SMTP_MAX_LINE 4096	/* longer lines are cut and flagged */
#define SMTP_MAX_PENDING 64	/* pipelined commands awaiting replies */
#define SMTP_MAX_MESSAGES 256	/* per connection; more are counted only */

enum starttls_state { STLS_NONE, STLS_SENT, STLS_ACCEPTED, STLS_REFUSED };

struct smtp_msg {
	char *from, *qid, *message_id;
	char **rcpts;
	size_t nrcpt;
	uint64_t first_frame, end_frame;
	time_t ts;
	int reply_code;		/* reply to the end of data, 0: none seen */
	bool in_tls;		/* sent after STARTTLS: not visible */
	bool unanswered;	/* the capture holds none of the server's side */
};

struct line_buf {
	char *p;
	size_t n;
	bool cut;		/* the current line went over SMTP_MAX_LINE */
	uint64_t frame;		/* where the current line began */
};

/* Take bytes of one direction into lb up to the end of a line; returns
 * the bytes used.  When a line is complete, lb->p holds it without its
 * CRLF, NUL-terminated, *len is its length and *line_frame where it
 * began; else *len is left alone.  Lines past SMTP_MAX_LINE are cut. */
size_t line_buf_feed(struct line_buf *lb, const uint8_t *p, size_t n, uint64_t frame,
		     size_t *len, uint64_t *line_frame);

enum smtp_cmd { CMD_CONNECT, CMD_EHLO, CMD_HELO, CMD_STARTTLS, CMD_MAIL, CMD_RCPT,
		CMD_DATA, CMD_DATA_END, CMD_BDAT, CMD_RSET, CMD_QUIT, CMD_AUTH, CMD_OTHER };

struct smtp_conv {
	bool implicit_tls;		/* port 465: TLS from the first byte */
	bool lmtp;			/* the client said LHLO (RFC 2033) */
	bool banner;
	char *ehlo_name;
	bool ehlo_replied;
	bool starttls_offered;
	bool cap_rewritten;		/* "XXXXXXXA": a middlebox rewrote STARTTLS */
	char cap_rewrite[16];
	enum starttls_state starttls;
	int starttls_code;
	uint64_t starttls_frame, starttls_reply_frame, cap_frame;
	bool tls_c, tls_s;		/* this direction now carries TLS */
	bool plaintext_after_220;	/* 220 to STARTTLS, then plaintext SMTP */
	struct tls_obs tls;

	/* pipelined commands, oldest first */
	enum smtp_cmd pend[SMTP_MAX_PENDING];
	size_t npend;
	uint64_t bdat_left;		/* client bytes of a BDAT chunk to skip */
	bool bdat_last;
	bool in_data;			/* client is sending message content */
	bool in_headers;		/* ... still in its header section */
	struct smtp_msg *cur;
	size_t rcpt_confirmed;		/* of cur's recipients, answered 2xx */
	struct smtp_msg *msgs;
	size_t nmsgs, capmsgs;
	unsigned long msgs_dropped;

	struct line_buf lc, ls;		/* partial lines, client and server */
	int reply_code;			/* multi-line reply being read */
	bool reply_started;
	uint64_t reply_frame;
	unsigned long replies, commands, replies_5xx;
	unsigned long gaps;
	bool binary_junk;
	uint64_t bytes_c, bytes_s;
};

void smtp_conv_init(struct smtp_conv *s, bool implicit_tls);
void smtp_conv_free(struct smtp_conv *s);
/* In-order bytes of one direction; frame/ts of the segment they came in. */
void smtp_conv_data(struct smtp_conv *s, bool from_client, const uint8_t *p, size_t n,
		    uint64_t frame, time_t ts);
/* A hole in one direction's stream (lost segments): resynchronise. */
void smtp_conv_gap(struct smtp_conv *s, bool from_client, uint64_t bytes);
/* Only the client's side is in the capture: commands, no byte from the
 * server (a capture behind asymmetric routing, or filtered). */
bool smtp_client_side_only(const struct smtp_conv *s);
/* Does a server's first payload look like an SMTP banner ("220 ", "220-")? */
bool smtp_looks_like_banner(const uint8_t *p, size_t n);

#endif
