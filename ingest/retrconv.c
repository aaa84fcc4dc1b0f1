/* retrconv.c - the IMAP and POP3 state machines over one connection's two
 * byte streams (ingest/retrconv.h).  IMAP: RFC 9051 (tagged commands and
 * replies, untagged "*", continuation "+", the greeting's and the
 * CAPABILITY reply's capability list, LOGIN, AUTHENTICATE with SASL-IR
 * RFC 4959, LOGINDISABLED), RFC 9051 6.2.1 STARTTLS.  POP3: RFC 1939
 * (USER/PASS, APOP, "+OK"/"-ERR", multi-line replies ended by "."),
 * RFC 2449 CAPA, RFC 2595 4 STLS, RFC 5034 AUTH.  RFC 8314: 993 and 995
 * speak TLS from the first byte.  Only what the capture shows in clear is
 * read; after TLS begins each side is handed to the TLS parser. */
#include "retrconv.h"
#include "fields.h"
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* POP3 commands awaiting a reply: what the reply means to us. */
enum { PC_OTHER = 'o', PC_MULTI = 'm', PC_STLS = 's', PC_AUTH = 'a', PC_USER = 'u',
       PC_CAPA = 'c' };

void retr_conv_init(struct retr_conv *r, enum retr_proto proto, bool implicit_tls)
{
	memset(r, 0, sizeof *r);
	tls_obs_init(&r->tls);
	r->proto = proto;
	r->implicit_tls = implicit_tls;
}

void retr_conv_free(struct retr_conv *r)
{
	free(r->lc.p);
	free(r->ls.p);
	tls_obs_free(&r->tls);
	memset(r, 0, sizeof *r);
}

const char *retr_proto_name(enum retr_proto p)
{
	return p == RP_POP3 ? "pop3" : "imap";
}

static bool starts(const uint8_t *p, size_t n, const char *w)
{
	size_t k = strlen(w);
	return n >= k && strncasecmp((const char *)p, w, k) == 0;
}

bool retr_looks_like_greeting(const uint8_t *p, size_t n, enum retr_proto *proto)
{
	if (starts(p, n, "* OK") || starts(p, n, "* PREAUTH") || starts(p, n, "* BYE")) {
		*proto = RP_IMAP;
		return true;
	}
	if (starts(p, n, "+OK")) {
		*proto = RP_POP3;
		return true;
	}
	return false;
}

/* The next space-separated word of line from *i on. */
static struct span word(const char *line, size_t n, size_t *i)
{
	while (*i < n && line[*i] == ' ')
		(*i)++;
	size_t b = *i;
	while (*i < n && line[*i] != ' ')
		(*i)++;
	return (struct span){ line + b, *i - b };
}

static void copy_word(char *dst, size_t cap, struct span w)
{
	size_t k = w.n < cap - 1 ? w.n : cap - 1;
	memcpy(dst, w.p, k);
	dst[k] = '\0';
}

/* A login name as the command wrote it: an atom, or a quoted string
 * ("a\"b"); a literal ({5}) is not followed, the name stays unknown. */
static void login_name(struct retr_conv *r, struct span w)
{
	r->user[0] = '\0';
	if (!w.n || w.p[0] == '{')
		return;
	if (w.p[0] == '"') {
		size_t k = 0;
		for (size_t i = 1; i < w.n && w.p[i] != '"' && k + 1 < sizeof r->user; i++) {
			if (w.p[i] == '\\' && i + 1 < w.n)
				i++;
			r->user[k++] = w.p[i];
		}
		r->user[k] = '\0';
		return;
	}
	copy_word(r->user, sizeof r->user, w);
}

static void auth_sent(struct retr_conv *r, const char *method, uint64_t frame)
{
	r->auth = RA_SENT;
	r->auth_attempts++;
	r->auth_frame = frame;
	snprintf(r->method, sizeof r->method, "%s", method);
}

static void auth_answered(struct retr_conv *r, bool ok, uint64_t frame)
{
	if (r->auth != RA_SENT)
		return;
	r->auth = ok ? RA_OK : RA_FAILED;
	r->auth_reply_frame = frame;
}

/* Capabilities in "* OK [CAPABILITY ...]", "* CAPABILITY ...", or a
 * POP3 CAPA reply's data line. */
static void capabilities(struct retr_conv *r, const char *line, size_t n)
{
	r->caps_seen = true;
	size_t i = 0;
	while (i < n) {
		struct span w = word(line, n, &i);
		if (w.n && w.p[w.n - 1] == ']')
			w.n--;
		if (span_eqi(w, "STARTTLS") || span_eqi(w, "STLS"))
			r->starttls_offered = true;
		else if (span_eqi(w, "LOGINDISABLED"))
			r->login_disabled = true;
	}
}

static void imap_client(struct retr_conv *r, const char *line, size_t n, uint64_t frame)
{
	if (r->sasl_exchange)		/* a SASL response, or "*" to cancel */
		return;
	size_t i = 0;
	struct span tag = word(line, n, &i);
	struct span cmd = word(line, n, &i);
	if (!tag.n || !cmd.n)
		return;
	r->commands++;
	if (span_eqi(cmd, "STARTTLS")) {
		copy_word(r->starttls_tag, sizeof r->starttls_tag, tag);
		if (r->starttls == STLS_NONE || r->starttls == STLS_REFUSED) {
			r->starttls = STLS_SENT;
			r->starttls_frame = frame;
		}
	} else if (span_eqi(cmd, "LOGIN")) {
		copy_word(r->auth_tag, sizeof r->auth_tag, tag);
		auth_sent(r, "LOGIN", frame);
		login_name(r, word(line, n, &i));
	} else if (span_eqi(cmd, "AUTHENTICATE")) {
		copy_word(r->auth_tag, sizeof r->auth_tag, tag);
		char m[24];
		copy_word(m, sizeof m, word(line, n, &i));
		auth_sent(r, m, frame);
		r->user[0] = '\0';
		/* without an initial response (RFC 4959) the exchange follows */
		r->sasl_exchange = word(line, n, &i).n == 0;
	}
}

static void imap_server(struct retr_conv *r, const char *line, size_t n, uint64_t frame)
{
	r->replies++;
	if (n >= 2 && line[0] == '*' && line[1] == ' ') {
		size_t i = 2;
		struct span kind = word(line, n, &i);
		if (!r->greeting) {
			r->greeting = true;
			r->preauth = span_eqi(kind, "PREAUTH");
		}
		struct span rest = { line + i, n - i };
		rest = span_trim(rest);
		if (span_eqi(kind, "CAPABILITY"))
			capabilities(r, rest.p, rest.n);
		else if ((span_eqi(kind, "OK") || span_eqi(kind, "PREAUTH")) &&
			 span_starts(rest, "[CAPABILITY "))
			capabilities(r, rest.p + 12, rest.n - 12);
		return;
	}
	if (n >= 1 && line[0] == '+')
		return;		/* continuation: the SASL exchange goes on */
	size_t i = 0;
	struct span tag = word(line, n, &i);
	struct span status = word(line, n, &i);
	bool ok = span_eqi(status, "OK");
	if (r->starttls == STLS_SENT && span_eq(tag, r->starttls_tag)) {
		r->starttls = ok ? STLS_ACCEPTED : STLS_REFUSED;
		r->starttls_reply_frame = frame;
	} else if (r->auth == RA_SENT && span_eq(tag, r->auth_tag)) {
		r->sasl_exchange = false;
		auth_answered(r, ok, frame);
		struct span rest = span_trim((struct span){ line + i, n - i });
		if (ok && span_starts(rest, "[CAPABILITY "))
			capabilities(r, rest.p + 12, rest.n - 12);
	}
}

static void pop_push(struct retr_conv *r, char c)
{
	if (r->npend < RETR_MAX_PENDING)
		r->pend[r->npend++] = c;
}

static char pop_pop(struct retr_conv *r)
{
	if (!r->npend)
		return PC_OTHER;
	char c = r->pend[0];
	memmove(r->pend, r->pend + 1, r->npend - 1);
	r->npend--;
	return c;
}

static void pop3_client(struct retr_conv *r, const char *line, size_t n, uint64_t frame)
{
	if (r->sasl_exchange)
		return;
	size_t i = 0;
	struct span cmd = word(line, n, &i);
	if (!cmd.n)
		return;
	r->commands++;
	struct span arg = word(line, n, &i);
	if (span_eqi(cmd, "STLS")) {
		pop_push(r, PC_STLS);
		if (r->starttls == STLS_NONE || r->starttls == STLS_REFUSED) {
			r->starttls = STLS_SENT;
			r->starttls_frame = frame;
		}
	} else if (span_eqi(cmd, "CAPA")) {
		pop_push(r, PC_CAPA);
	} else if (span_eqi(cmd, "USER")) {
		pop_push(r, PC_USER);
		login_name(r, arg);
	} else if (span_eqi(cmd, "PASS")) {
		char user[sizeof r->user];
		memcpy(user, r->user, sizeof user);
		auth_sent(r, "USER", frame);
		memcpy(r->user, user, sizeof user);
		pop_push(r, PC_AUTH);
	} else if (span_eqi(cmd, "APOP")) {
		auth_sent(r, "APOP", frame);
		login_name(r, arg);
		pop_push(r, PC_AUTH);
	} else if (span_eqi(cmd, "AUTH") && arg.n) {
		char m[24];
		copy_word(m, sizeof m, arg);
		auth_sent(r, m, frame);
		r->user[0] = '\0';
		r->sasl_exchange = word(line, n, &i).n == 0;
		pop_push(r, PC_AUTH);
	} else if (span_eqi(cmd, "AUTH")) {
		pop_push(r, PC_MULTI);	/* lists the mechanisms */
	} else if (span_eqi(cmd, "RETR") || span_eqi(cmd, "TOP") ||
		   ((span_eqi(cmd, "LIST") || span_eqi(cmd, "UIDL")) && !arg.n)) {
		pop_push(r, PC_MULTI);
	} else {
		pop_push(r, PC_OTHER);
	}
}

static void pop3_server(struct retr_conv *r, const char *line, size_t n, uint64_t frame)
{
	if (r->in_multiline) {	/* data lines, dot-stuffed, to "." */
		if (n == 1 && line[0] == '.')
			r->in_multiline = r->multiline_capa = false;
		else if (r->multiline_capa)
			capabilities(r, line, n);
		return;
	}
	r->replies++;
	bool ok = n >= 3 && strncasecmp(line, "+OK", 3) == 0;
	bool err = n >= 4 && strncasecmp(line, "-ERR", 4) == 0;
	if (!r->greeting) {	/* the greeting answers the connection */
		r->greeting = ok || err;
		return;
	}
	if (!ok && !err)
		return;		/* "+ " continues a SASL exchange */
	switch (pop_pop(r)) {
	case PC_STLS:
		if (r->starttls == STLS_SENT) {
			r->starttls = ok ? STLS_ACCEPTED : STLS_REFUSED;
			r->starttls_reply_frame = frame;
		}
		break;
	case PC_AUTH:
		r->sasl_exchange = false;
		auth_answered(r, ok, frame);
		break;
	case PC_CAPA:
		r->in_multiline = r->multiline_capa = ok;
		break;
	case PC_MULTI:
		r->in_multiline = ok;
		break;
	default:
		break;
	}
}

/* Split into lines; returns the bytes used, stopping where the direction
 * may switch to TLS. */
static size_t retr_lines(struct retr_conv *r, bool from_client, const uint8_t *p, size_t n,
			 uint64_t frame)
{
	struct line_buf *lb = from_client ? &r->lc : &r->ls;
	size_t i = 0;
	while (i < n) {
		size_t ln = SIZE_MAX;
		uint64_t lf;
		i += line_buf_feed(lb, p + i, n - i, frame, &ln, &lf);
		if (ln == SIZE_MAX)
			return n;
		if (r->proto == RP_IMAP)
			(from_client ? imap_client : imap_server)(r, lb->p, ln, lf);
		else
			(from_client ? pop3_client : pop3_server)(r, lb->p, ln, lf);
		if ((from_client && r->starttls == STLS_SENT) ||
		    (!from_client && r->starttls == STLS_ACCEPTED))
			return i;	/* what follows may be TLS */
	}
	return n;
}

void retr_conv_data(struct retr_conv *r, bool from_client, const uint8_t *p, size_t n,
		    uint64_t frame)
{
	if (from_client)
		r->bytes_c += n;
	else
		r->bytes_s += n;
	enum retr_proto g;
	if (r->implicit_tls && !r->greeting && !from_client && retr_looks_like_greeting(p, n, &g))
		r->implicit_tls = false;	/* a plaintext greeting: not TLS after all */
	while (n) {
		bool *tls = from_client ? &r->tls_c : &r->tls_s;
		struct line_buf *lb = from_client ? &r->lc : &r->ls;
		if (!*tls && lb->n == 0 && tls_looks_like_record(p, n) &&
		    (r->implicit_tls || (from_client && r->commands == 0) ||
		     (r->starttls == STLS_SENT && from_client) || r->starttls == STLS_ACCEPTED))
			*tls = true;
		if (*tls) {
			tls_feed(&r->tls, from_client, p, n, frame);
			return;
		}
		size_t used = retr_lines(r, from_client, p, n, frame);
		p += used;
		n -= used;
	}
}

void retr_conv_gap(struct retr_conv *r, bool from_client, uint64_t bytes)
{
	r->gaps++;
	struct line_buf *lb = from_client ? &r->lc : &r->ls;
	lb->n = 0;
	lb->cut = false;
	if (from_client ? r->tls_c : r->tls_s)
		tls_gap(&r->tls, from_client, bytes);
}
