/* fields.c - scanners for the key=value and peer forms both MTAs log.
 * Postfix: src/global/log_adhoc.c writes "to=<%s>, relay=%s, ..., status=%s";
 * Sendmail: sendmail/deliver.c logdelivery() writes "to=, delay=, ...". */
#include "fields.h"
#include <ctype.h>
#include <string.h>

void kv_begin(struct kv_iter *it, struct span s, const char *last_key)
{
	it->rest = s;
	it->last_key = last_key;
}

bool kv_next(struct kv_iter *it, struct span *key, struct span *val)
{
	struct span s = it->rest;
	while (s.n && (s.p[0] == ' ' || s.p[0] == ','))
		s = span_sub(s, 1, s.n);
	if (!s.n)
		return false;
	const char *eq = memchr(s.p, '=', s.n);
	if (!eq) {
		it->rest = SPAN_NULL;
		return false;
	}
	*key = (struct span){ s.p, (size_t)(eq - s.p) };
	size_t off = (size_t)(eq - s.p) + 1;
	if (it->last_key && span_eq(*key, it->last_key)) {
		*val = span_sub(s, off, s.n);
		it->rest = SPAN_NULL;
		return true;
	}
	size_t i = off;
	if (i < s.n && s.p[i] == '<') {
		const char *gt = memchr(s.p + i, '>', s.n - i);
		if (gt)
			i = (size_t)(gt - s.p) + 1;
	}
	for (; i < s.n; i++)
		if (s.p[i] == ',' && (i + 1 == s.n || s.p[i + 1] == ' '))
			break;
	*val = span_sub(s, off, i - off);
	it->rest = span_sub(s, i, s.n);
	return true;
}

bool peer_parse(struct span s, struct span *name, struct span *addr, int *port)
{
	*port = -1;
	/* The address is in the last [...] group: names may not hold '[' but
	 * "unknown[1.2.3.4]" and "[1.2.3.4][1.2.3.4]" both occur. */
	const char *close = NULL;
	for (size_t i = s.n; i > 0; i--)
		if (s.p[i - 1] == ']') {
			close = s.p + i - 1;
			break;
		}
	if (!close)
		return false;
	const char *open = NULL;
	for (const char *p = close; p > s.p; p--)
		if (p[-1] == '[') {
			open = p - 1;
			break;
		}
	if (!open)
		return false;
	*name = (struct span){ s.p, (size_t)(open - s.p) };
	*addr = (struct span){ open + 1, (size_t)(close - open - 1) };
	struct span tail = span_sub(s, (size_t)(close - s.p) + 1, s.n);
	if (tail.n > 1 && tail.p[0] == ':') {
		long v;
		if (span_to_long(span_sub(tail, 1, tail.n), &v) && v <= 65535)
			*port = (int)v;
	}
	return addr->n > 0;
}

bool sm_relay_parse(struct span s, struct span *name, struct span *addr)
{
	s = span_trim(s);
	long f = span_find(s, " (may be forged)");
	if (f >= 0)
		s.n = (size_t)f;
	*name = SPAN_NULL;
	*addr = SPAN_NULL;
	if (!s.n)
		return false;
	/* "NAME [ADDR]", "[ADDR]", "[ADDR] [ADDR]", "user@NAME [ADDR]" */
	if (s.p[s.n - 1] == ']') {
		const char *open = NULL;
		for (size_t i = s.n - 1; i > 0; i--)
			if (s.p[i - 1] == '[') {
				open = s.p + i - 1;
				break;
			}
		if (open) {
			*addr = (struct span){ open + 1, (size_t)(s.p + s.n - 1 - open - 1) };
			*name = span_trim((struct span){ s.p, (size_t)(open - s.p) });
			return true;
		}
	}
	*name = s;
	return true;
}

static bool qid_char(char c)
{
	return isalnum((unsigned char)c);
}

bool qid_split(struct span msg, struct span *qid, struct span *rest)
{
	size_t i = 0;
	while (i < msg.n && i < 24 && qid_char(msg.p[i]))
		i++;
	if (i + 1 >= msg.n || msg.p[i] != ':' || msg.p[i + 1] != ' ')
		return false;
	if (i == 7 && memcmp(msg.p, "NOQUEUE", 7) == 0) {
		*qid = SPAN_NULL;
	} else {
		if (i < 5)
			return false;
		*qid = (struct span){ msg.p, i };
	}
	*rest = span_sub(msg, i + 2, msg.n);
	return true;
}

static bool postfix_short(struct span q)
{
	if (q.n < 6 || q.n > 16)
		return false;
	for (size_t i = 0; i < q.n; i++)
		if (!isdigit((unsigned char)q.p[i]) && !(q.p[i] >= 'A' && q.p[i] <= 'F'))
			return false;
	return true;
}

static bool postfix_long(struct span q)
{
	if (q.n < 12 || q.n > 24)
		return false;
	size_t zs = 0;
	for (size_t i = 0; i < q.n; i++) {
		char c = q.p[i];
		if (c == 'z') {
			zs++;
			continue;
		}
		/* base 52: digits and letters but the vowels (and z) */
		if (!isalnum((unsigned char)c) || strchr("AEIOUaeiou", c))
			return false;
	}
	return zs == 1;
}

static bool sendmail_qid(struct span q)
{
	if (q.n != 14)
		return false;
	for (size_t i = 0; i < q.n; i++)
		if (!isalnum((unsigned char)q.p[i]))
			return false;
	return true;
}

bool qid_of_form(struct span qid, enum ev_mta mta)
{
	switch (mta) {
	case MTA_POSTFIX:
		return postfix_short(qid) || postfix_long(qid);
	case MTA_SENDMAIL:
		return sendmail_qid(qid);
	default:
		return postfix_short(qid) || postfix_long(qid) || sendmail_qid(qid);
	}
}

struct span reply_next_qid(struct span reply)
{
	long at = span_find(reply, "queued as ");
	if (at >= 0) {
		struct span s = span_sub(reply, (size_t)at + 10, reply.n);
		size_t n = 0;
		while (n < s.n && qid_char(s.p[n]))
			n++;
		if (n >= 5)
			return span_sub(s, 0, n);
	}
	at = span_find(reply, " Message accepted for delivery");
	if (at > 0) {
		size_t e = (size_t)at, b = e;
		while (b > 0 && qid_char(reply.p[b - 1]))
			b--;
		if (e - b >= 8)
			return span_sub(reply, b, e - b);
	}
	return SPAN_NULL;
}

struct span paren_text(struct span s)
{
	const char *open = memchr(s.p, '(', s.n);
	if (!open)
		return SPAN_NULL;
	int depth = 0;
	for (const char *p = open; p < s.p + s.n; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return (struct span){ open + 1, (size_t)(p - open - 1) };
	}
	/* Unbalanced (a cut line): take the rest. */
	return (struct span){ open + 1, (size_t)(s.p + s.n - open - 1) };
}

bool tls_with_cipher(struct span s, struct span *version, struct span *cipher,
		     struct span *tail)
{
	long w = span_find(s, " with cipher ");
	if (w <= 0)
		return false;
	*version = span_sub(s, 0, (size_t)w);
	struct span c = span_sub(s, (size_t)w + 13, s.n);
	size_t n = 0;
	while (n < c.n && c.p[n] != ' ')
		n++;
	*cipher = span_sub(c, 0, n);
	*tail = span_sub(c, n, c.n);
	return true;
}
