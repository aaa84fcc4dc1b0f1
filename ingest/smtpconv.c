/* smtpconv.c - the SMTP state machine over the two byte streams of one
 * connection.  RFC 5321 (commands, replies, multi-line "250-" replies,
 * DATA and dot-stuffing), RFC 2920 (pipelining: replies come in command
 * order), RFC 3030 (BDAT chunks: the byte count follows the command, no
 * dot), RFC 3207 (STARTTLS: after a 220 both sides start TLS; 454, 500,
 * 501 refuse it), RFC 8314 (implicit TLS on 465).  Verbs in any letter
 * case.  Lines are bounded (SMTP_MAX_LINE); a cut line is flagged, never
 * an overflow.  Memory: the conversation owns its messages and strings. */
#include "smtpconv.h"
#include "fields.h"
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void smtp_conv_init(struct smtp_conv *s, bool implicit_tls)
{
	memset(s, 0, sizeof *s);
	tls_obs_init(&s->tls);
	s->implicit_tls = implicit_tls;
	s->pend[s->npend++] = CMD_CONNECT;	/* the banner answers the connect */
	/* line buffers come with the first byte of each direction: a flood
	 * of half-open connections costs only the struct */
}

static void msg_free(struct smtp_msg *m)
{
	free(m->from);
	free(m->qid);
	free(m->message_id);
	for (size_t i = 0; i < m->nrcpt; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	memset(m, 0, sizeof *m);
}

void smtp_conv_free(struct smtp_conv *s)
{
	if (s->cur) {
		msg_free(s->cur);
		free(s->cur);
	}
	for (size_t i = 0; i < s->nmsgs; i++)
		msg_free(&s->msgs[i]);
	free(s->msgs);
	free(s->ehlo_name);
	free(s->lc.p);
	free(s->ls.p);
	tls_obs_free(&s->tls);
	memset(s, 0, sizeof *s);
}

bool smtp_client_side_only(const struct smtp_conv *s)
{
	return s->bytes_s == 0 && s->replies == 0 && s->commands > 0;
}

bool smtp_looks_like_banner(const uint8_t *p, size_t n)
{
	return n >= 4 && p[0] == '2' && p[1] == '2' && p[2] == '0' && (p[3] == ' ' || p[3] == '-');
}

static void push_cmd(struct smtp_conv *s, enum smtp_cmd c)
{
	if (s->npend < SMTP_MAX_PENDING)
		s->pend[s->npend++] = c;
}

static enum smtp_cmd pop_cmd(struct smtp_conv *s)
{
	if (!s->npend)
		return CMD_OTHER;
	enum smtp_cmd c = s->pend[0];
	memmove(s->pend, s->pend + 1, (s->npend - 1) * sizeof *s->pend);
	s->npend--;
	return c;
}

/* "<a@b>" out of "MAIL FROM:<a@b> SIZE=1" (RFC 5321 4.1.2 path). */
static char *path_arg(const char *line, size_t n, size_t skip)
{
	size_t i = skip;
	while (i < n && line[i] == ' ')
		i++;
	size_t j = i;
	if (j < n && line[j] == '<') {
		while (j < n && line[j] != '>')
			j++;
		if (j < n)
			j++;
	} else {
		while (j < n && line[j] != ' ')
			j++;
	}
	return span_dup((struct span){ line + i, j - i });
}

static void start_message(struct smtp_conv *s, char *from, uint64_t frame, time_t ts)
{
	if (s->cur) {
		msg_free(s->cur);
		free(s->cur);
	}
	s->cur = xcalloc(1, sizeof *s->cur);
	s->cur->from = from;
	s->cur->first_frame = frame;
	s->cur->ts = ts;
	s->cur->in_tls = s->tls_c;
}

static void finish_message(struct smtp_conv *s, int code, struct span text, uint64_t frame)
{
	if (!s->cur)
		return;
	s->cur->reply_code = code;
	s->cur->end_frame = frame;
	s->cur->qid = text.n ? span_dup(reply_next_qid(text)) : NULL;
	s->cur->unanswered = code == 0;
	bool keep = code / 100 == 2 || code == 0;
	if (keep && s->nmsgs < SMTP_MAX_MESSAGES) {
		if (s->nmsgs == s->capmsgs) {
			s->capmsgs = s->capmsgs ? s->capmsgs * 2 : 4;
			s->msgs = xrealloc(s->msgs, s->capmsgs * sizeof *s->msgs);
		}
		s->msgs[s->nmsgs++] = *s->cur;
	} else {
		if (keep)
			s->msgs_dropped++;
		msg_free(s->cur);
	}
	free(s->cur);
	s->cur = NULL;
}

static bool verb_is(const char *line, size_t n, const char *verb)
{
	size_t v = strlen(verb);
	return n >= v && strncasecmp(line, verb, v) == 0 && (n == v || line[v] == ' ');
}

static void rcpt_add(struct smtp_conv *s, char *rcpt);

static void client_line(struct smtp_conv *s, const char *line, size_t n, uint64_t frame,
			time_t ts)
{
	if (s->in_data) {
		if (n == 1 && line[0] == '.') {
			s->in_data = false;
			push_cmd(s, CMD_DATA_END);
			/* No byte of the server's side so far: a capture of the
			 * client's side only.  The message was sent, in
			 * plaintext; whether it was accepted cannot be seen. */
			if (smtp_client_side_only(s))
				finish_message(s, 0, SPAN_NULL, frame);
			return;
		}
		if (!s->in_headers || !s->cur)
			return;
		if (n == 0) {
			s->in_headers = false;
			return;
		}
		if (n > 11 && strncasecmp(line, "Message-ID:", 11) == 0 && !s->cur->message_id) {
			struct span v = span_trim((struct span){ line + 11, n - 11 });
			if (v.n)
				s->cur->message_id = span_dup(v);
		}
		return;
	}
	s->commands++;
	/* A client speaking before any reply: the capture began after the
	 * banner (a client waits for it, RFC 5321 3.1). */
	if (s->replies == 0 && s->npend && s->pend[0] == CMD_CONNECT && !s->reply_started)
		pop_cmd(s);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 && line[i] != '\t') {
			s->binary_junk = true;
			break;
		}
	if (verb_is(line, n, "EHLO") || verb_is(line, n, "HELO") || verb_is(line, n, "LHLO")) {
		/* RFC 2033 4.1: LMTP's LHLO is EHLO's counterpart; such a
		 * session delivers into a mailbox store, it is no arrival */
		bool l = toupper((unsigned char)line[0]) == 'L';
		if (l)
			s->lmtp = true;
		bool e = l || toupper((unsigned char)line[0]) == 'E';
		push_cmd(s, e ? CMD_EHLO : CMD_HELO);
		free(s->ehlo_name);
		s->ehlo_name = n > 5 ? span_dup(span_trim((struct span){ line + 5, n - 5 })) : NULL;
	} else if (verb_is(line, n, "STARTTLS")) {
		push_cmd(s, CMD_STARTTLS);
		if (s->starttls == STLS_NONE || s->starttls == STLS_REFUSED) {
			s->starttls = STLS_SENT;
			s->starttls_frame = frame;
		}
	} else if (n >= 10 && strncasecmp(line, "MAIL FROM:", 10) == 0) {
		push_cmd(s, CMD_MAIL);
		start_message(s, path_arg(line, n, 10), frame, ts);
	} else if (n >= 8 && strncasecmp(line, "RCPT TO:", 8) == 0) {
		push_cmd(s, CMD_RCPT);
		rcpt_add(s, path_arg(line, n, 8));
	} else if (verb_is(line, n, "DATA")) {
		push_cmd(s, CMD_DATA);
		/* the client waits for 354 (RFC 5321 4.1.1.4); with no server
		 * side in the capture, what follows is the message */
		if (smtp_client_side_only(s)) {
			s->in_data = true;
			s->in_headers = true;
		}
	} else if (verb_is(line, n, "BDAT")) {
		/* "BDAT size [LAST]": size bytes follow at once (RFC 3030 2) */
		char num[24];
		size_t i = 5, k = 0;
		while (i < n && line[i] == ' ')
			i++;
		while (i < n && isdigit((unsigned char)line[i]) && k + 1 < sizeof num)
			num[k++] = line[i++];
		num[k] = '\0';
		s->bdat_left = k ? strtoull(num, NULL, 10) : 0;
		while (i < n && line[i] == ' ')
			i++;
		s->bdat_last = n - i >= 4 && strncasecmp(line + i, "LAST", 4) == 0;
		push_cmd(s, s->bdat_last ? CMD_DATA_END : CMD_BDAT);
	} else if (verb_is(line, n, "RSET")) {
		push_cmd(s, CMD_RSET);
	} else if (verb_is(line, n, "QUIT")) {
		push_cmd(s, CMD_QUIT);
	} else if (verb_is(line, n, "AUTH")) {
		push_cmd(s, CMD_AUTH);
	} else {
		push_cmd(s, CMD_OTHER);
	}
}

/* Every RCPT is kept on the message; a refused one is dropped when its
 * reply comes (replies arrive in command order, RFC 2920). */
static void rcpt_add(struct smtp_conv *s, char *rcpt)
{
	if (!s->cur) {
		free(rcpt);
		return;
	}
	struct smtp_msg *m = s->cur;
	m->rcpts = xrealloc(m->rcpts, (m->nrcpt + 1) * sizeof *m->rcpts);
	m->rcpts[m->nrcpt++] = rcpt;
}

/* A refused RCPT: drop the oldest recipient not yet confirmed. */
static void rcpt_refused(struct smtp_conv *s, size_t *confirmed)
{
	struct smtp_msg *m = s->cur;
	if (!m || *confirmed >= m->nrcpt)
		return;
	free(m->rcpts[*confirmed]);
	memmove(m->rcpts + *confirmed, m->rcpts + *confirmed + 1,
		(m->nrcpt - *confirmed - 1) * sizeof *m->rcpts);
	m->nrcpt--;
}

static bool rewritten_starttls(const char *t, size_t n)
{
	/* Cisco's "SMTP fixup" writes XXXXXXXA; others XXXXXXXX: eight
	 * characters, all X but perhaps a last A, where STARTTLS stood. */
	if (n != 8)
		return false;
	for (size_t i = 0; i < 7; i++)
		if (t[i] != 'X' && t[i] != 'x')
			return false;
	return t[7] == 'X' || t[7] == 'x' || t[7] == 'A' || t[7] == 'a';
}

static void server_reply(struct smtp_conv *s, int code, struct span text, uint64_t frame)
{
	s->replies++;
	if (code >= 500)
		s->replies_5xx++;
	enum smtp_cmd c = pop_cmd(s);
	switch (c) {
	case CMD_CONNECT:
		s->banner = true;
		break;
	case CMD_EHLO:
	case CMD_HELO:
		s->ehlo_replied = true;
		break;
	case CMD_STARTTLS:
		if (s->starttls != STLS_SENT)
			break;
		s->starttls_code = code;
		s->starttls_reply_frame = frame;
		s->starttls = code == 220 ? STLS_ACCEPTED : STLS_REFUSED;
		break;
	case CMD_MAIL:
		s->rcpt_confirmed = 0;
		if (code / 100 != 2 && s->cur) {
			msg_free(s->cur);
			free(s->cur);
			s->cur = NULL;
		}
		break;
	case CMD_RCPT:
		if (code / 100 == 2)
			s->rcpt_confirmed++;
		else
			rcpt_refused(s, &s->rcpt_confirmed);
		break;
	case CMD_DATA:
		if (code == 354) {
			s->in_data = true;
			s->in_headers = true;
		}
		break;
	case CMD_DATA_END:
		finish_message(s, code, text, frame);
		break;
	case CMD_RSET:
		if (s->cur) {
			msg_free(s->cur);
			free(s->cur);
			s->cur = NULL;
		}
		break;
	default:
		break;
	}
}

static void server_line(struct smtp_conv *s, const char *line, size_t n, uint64_t frame)
{
	if (n < 3 || !isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]) || (n > 3 && line[3] != ' ' && line[3] != '-'))
		return;	/* not a reply line */
	int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (!s->reply_started) {
		s->reply_started = true;
		s->reply_code = code;
		s->reply_frame = frame;
	}
	struct span text = { line + (n > 4 ? 4 : n), n > 4 ? n - 4 : 0 };
	/* Capabilities: the EHLO reply's lines after the first (RFC 5321
	 * 4.1.1.1); the command it answers is the oldest pending one. */
	if (s->npend && s->pend[0] == CMD_EHLO && code == 250) {
		struct span kw = text;
		size_t k = 0;
		while (k < kw.n && kw.p[k] != ' ')
			k++;
		kw.n = k;
		if (span_eqi(kw, "STARTTLS"))
			s->starttls_offered = true;
		else if (rewritten_starttls(kw.p, kw.n)) {
			s->cap_rewritten = true;
			snprintf(s->cap_rewrite, sizeof s->cap_rewrite, "%.*s", (int)kw.n, kw.p);
			s->cap_frame = frame;
		}
	}
	if (n > 3 && line[3] == '-')
		return;	/* more lines of this reply follow */
	s->reply_started = false;
	server_reply(s, s->reply_code, text, s->reply_frame);
}

size_t line_buf_feed(struct line_buf *lb, const uint8_t *p, size_t n, uint64_t frame,
		     size_t *len, uint64_t *line_frame)
{
	if (lb->n == 0 && !lb->cut)
		lb->frame = frame;
	const uint8_t *nl = memchr(p, '\n', n);
	size_t end = nl ? (size_t)(nl - p) : n;
	size_t take = end;
	if (lb->n + take > SMTP_MAX_LINE) {
		take = SMTP_MAX_LINE - lb->n;
		lb->cut = true;
	}
	if (!lb->p)
		lb->p = xmalloc(SMTP_MAX_LINE + 1);
	memcpy(lb->p + lb->n, p, take);
	lb->n += take;
	if (!nl)
		return n;
	size_t ln = lb->n;
	if (ln && lb->p[ln - 1] == '\r')
		ln--;
	lb->p[ln] = '\0';
	*len = ln;
	*line_frame = lb->frame;
	lb->n = 0;
	lb->cut = false;
	return end + 1;
}

/* Split bytes into lines; returns bytes used (stops early when the
 * direction switches to TLS or a BDAT chunk starts). */
static size_t lines(struct smtp_conv *s, bool from_client, const uint8_t *p, size_t n,
		    uint64_t frame, time_t ts)
{
	struct line_buf *lb = from_client ? &s->lc : &s->ls;
	size_t i = 0;
	while (i < n) {
		size_t ln = SIZE_MAX;
		uint64_t lf;
		i += line_buf_feed(lb, p + i, n - i, frame, &ln, &lf);
		if (ln == SIZE_MAX)
			return n;
		if (from_client) {
			client_line(s, lb->p, ln, lf, ts);
			if (s->bdat_left)
				return i;
			if (s->starttls == STLS_SENT && s->pend[s->npend ? s->npend - 1 : 0] == CMD_STARTTLS)
				return i;	/* what follows may be TLS */
		} else {
			server_line(s, lb->p, ln, lf);
			if (s->starttls == STLS_ACCEPTED)
				return i;	/* what follows should be TLS */
		}
	}
	return n;
}

void smtp_conv_data(struct smtp_conv *s, bool from_client, const uint8_t *p, size_t n,
		    uint64_t frame, time_t ts)
{
	if (from_client)
		s->bytes_c += n;
	else
		s->bytes_s += n;
	if (s->implicit_tls && !s->banner && !from_client && smtp_looks_like_banner(p, n))
		s->implicit_tls = false;	/* a plaintext banner: not TLS after all */
	while (n) {
		bool *tls = from_client ? &s->tls_c : &s->tls_s;
		if (!*tls && s->implicit_tls && (from_client || !s->banner) &&
		    tls_looks_like_record(p, n))
			*tls = true;
		/* A ClientHello instead of a first command: the client tried
		 * implicit TLS (RFC 8314), whatever the server does. */
		if (!*tls && from_client && s->commands == 0 && s->lc.n == 0 &&
		    tls_looks_like_record(p, n))
			*tls = true;
		if (!*tls && s->starttls != STLS_NONE && s->starttls != STLS_REFUSED &&
		    (from_client ? s->lc.n : s->ls.n) == 0 && tls_looks_like_record(p, n)) {
			/* The handshake starts right after STARTTLS/220. */
			bool ok = from_client || s->starttls == STLS_ACCEPTED;
			if (ok)
				*tls = true;
		}
		if (*tls) {
			tls_feed(&s->tls, from_client, p, n, frame);
			return;
		}
		if (from_client && s->bdat_left) {
			size_t k = s->bdat_left < n ? (size_t)s->bdat_left : n;
			s->bdat_left -= k;
			p += k;
			n -= k;
			continue;
		}
		if (s->starttls == STLS_ACCEPTED && (from_client ? s->lc.n : s->ls.n) == 0 &&
		    n && p[0] >= 0x20 && p[0] < 0x7f)
			s->plaintext_after_220 = true;	/* RFC 3207 says TLS now */
		size_t used = lines(s, from_client, p, n, frame, ts);
		p += used;
		n -= used;
	}
}

void smtp_conv_gap(struct smtp_conv *s, bool from_client, uint64_t bytes)
{
	s->gaps++;
	struct line_buf *lb = from_client ? &s->lc : &s->ls;
	lb->n = 0;
	lb->cut = false;
	bool tls = from_client ? s->tls_c : s->tls_s;
	if (tls) {
		tls_gap(&s->tls, from_client, bytes);
	} else if (from_client && s->bdat_left) {
		s->bdat_left = s->bdat_left > bytes ? s->bdat_left - bytes : 0;
	}
}
