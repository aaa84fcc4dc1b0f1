/* rfc2047.c - encoded words in a display name (rfc2047.h). */
#include "rfc2047.h"
#include <iconv.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The text of one encoded word, in its charset, into raw; false when the
 * encoding is broken. */
static bool word_bytes(char enc, const char *t, size_t n, struct buf *raw)
{
	if (enc == 'B' || enc == 'b') {
		if (n % 4)
			return false;
		unsigned char *dst = xmalloc(n / 4 * 3 + 1);
		int got = EVP_DecodeBlock(dst, (const unsigned char *)t, (int)n);
		if (got < 0) {
			free(dst);
			return false;
		}
		size_t k = (size_t)got;	/* EVP_DecodeBlock counts the padding */
		for (size_t i = n; i > 0 && t[i - 1] == '='; i--)
			k--;
		buf_add(raw, (const char *)dst, k);
		free(dst);
		return true;
	}
	for (size_t i = 0; i < n; i++) {	/* Q: RFC 2047 section 4.2 */
		if (t[i] == '_') {
			buf_addc(raw, ' ');
		} else if (t[i] == '=') {
			if (i + 2 >= n)
				return false;
			int hi = hexval(t[i + 1]), lo = hexval(t[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			buf_addc(raw, (char)(hi * 16 + lo));
			i += 2;
		} else {
			buf_addc(raw, t[i]);
		}
	}
	return true;
}

static bool to_utf8(const char *charset, size_t cn, const struct buf *raw, struct buf *out)
{
	char cs[64];
	if (cn == 0 || cn >= sizeof cs)
		return false;
	memcpy(cs, charset, cn);
	cs[cn] = '\0';
	char *star = strchr(cs, '*');	/* RFC 2231 language: "UTF-8*en" */
	if (star)
		*star = '\0';
	iconv_t cd = iconv_open("UTF-8", cs);
	if (cd == (iconv_t)-1)
		return false;
	size_t inleft = raw->n, cap = raw->n * 4 + 16;
	char *dst = xmalloc(cap), *o = dst;
	char *in = raw->p;
	size_t outleft = cap;
	size_t r = iconv(cd, &in, &inleft, &o, &outleft);
	iconv_close(cd);
	if (r == (size_t)-1) {
		free(dst);
		return false;
	}
	buf_add(out, dst, (size_t)(o - dst));
	free(dst);
	return true;
}

/* One encoded word at p: its length, and its decoding into out; 0 when
 * p does not start a well-formed, decodable word. */
static size_t word(const char *p, struct buf *out)
{
	if (p[0] != '=' || p[1] != '?')
		return 0;
	const char *cs = p + 2, *q1 = strchr(cs, '?');
	if (!q1 || !q1[1] || q1[2] != '?')
		return 0;
	char enc = q1[1];
	if (!strchr("BbQq", enc))
		return 0;
	const char *text = q1 + 3, *end = strstr(text, "?=");
	if (!end)
		return 0;
	struct buf raw;
	buf_init(&raw);
	bool ok = word_bytes(enc, text, (size_t)(end - text), &raw) &&
		  to_utf8(cs, (size_t)(q1 - cs), &raw, out);
	buf_free(&raw);
	return ok ? (size_t)(end + 2 - p) : 0;
}

bool rfc2047_decode(const char *s, struct buf *out)
{
	bool any = false;
	const char *p = s;
	while (*p) {
		size_t n = word(p, out);
		if (n) {
			any = true;
			p += n;
			/* white space between two encoded words is not text */
			const char *q = p;
			while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
				q++;
			if (q != p && q[0] == '=' && q[1] == '?') {
				struct buf probe;
				buf_init(&probe);
				bool next = word(q, &probe) > 0;
				buf_free(&probe);
				if (next)
					p = q;
			}
			continue;
		}
		buf_addc(out, *p++);
	}
	return any;
}
