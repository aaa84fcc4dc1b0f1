/* escape.c - JSON, HTML and table-cell escaping (terminal text and UTF-8
 * validation: util/textsafe.c). */
#include "escape.h"
#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Bytes that pass through a JSON string as they are (RFC 8259 section 7):
 * printable ASCII but the quote and the backslash. */
static const unsigned char json_plain[256] = {
	[0x20 ... 0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7e] = 1,
};

/* Length of the run of plain bytes at p: the common case, whole strings.
 * Sixteen at a time where SSE2 is (every x86-64): a byte is not plain when
 * it is the quote, the backslash, DEL, or below 0x20 as a signed byte
 * (controls, and 0x80 and above, which the UTF-8 check takes).  Loads stay
 * inside p[0..n), so sanitizers and memcheck see no read past the end. */
static size_t plain_run(const unsigned char *p, size_t n)
{
	size_t i = 0;
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
		      del = _mm_set1_epi8(0x7f), space = _mm_set1_epi8(0x20);
	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote),
							_mm_cmpeq_epi8(x, bslash)),
					   _mm_or_si128(_mm_cmpeq_epi8(x, del),
							_mm_cmplt_epi8(x, space)));
		unsigned mask = (unsigned)_mm_movemask_epi8(bad);
		if (mask)
			return i + (size_t)__builtin_ctz(mask);
	}
#endif
	while (i + 4 <= n && json_plain[p[i]] && json_plain[p[i + 1]] &&
	       json_plain[p[i + 2]] && json_plain[p[i + 3]])
		i += 4;
	while (i < n && json_plain[p[i]])
		i++;
	return i;
}

void json_strn(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = plain_run(p, n);
	buf_reserve(b, n + 2);
	b->p[b->n++] = '"';
	memcpy(b->p + b->n, s, i);
	b->n += i;
	while (i < n) {
		size_t run = plain_run(p + i, n - i);
		if (run) {
			buf_add(b, s + i, run);
			i += run;
			continue;
		}
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			buf_addc(b, '\\');
			buf_addc(b, (char)c);
			i++;
		} else if (c == '\n') {
			buf_adds(b, "\\n");
			i++;
		} else if (c == '\t') {
			buf_adds(b, "\\t");
			i++;
		} else if (c == '\r') {
			buf_adds(b, "\\r");
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			char u[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };
			buf_adds(b, u);
			i++;
		} else {
			size_t l = utf8_len(p + i, n - i);
			if (l) {
				buf_add(b, s + i, l);
				i += l;
			} else {
				buf_adds(b, "\\ufffd");
				i++;
			}
		}
	}
	buf_addc(b, '"');
}

void json_str(struct buf *b, const char *s)
{
	if (!s) {
		buf_adds(b, "null");
		return;
	}
	/* The length first (libc's strlen is a few instructions a word),
	 * then the plain run within it. */
	size_t n = strlen(s);
	size_t i = plain_run((const unsigned char *)s, n);
	if (i < n) {
		json_strn(b, s, n);
		return;
	}
	json_quoted(b, s, n);
}

/* HTML text: escape markup, make controls and invalid UTF-8 visible. */
void html_safe(struct buf *b, const char *s)
{
	struct buf t;
	buf_init(&t);
	text_safe(&t, s ? s : "");
	for (size_t i = 0; i < t.n; i++) {
		switch (t.p[i]) {
		case '&': buf_adds(b, "&amp;"); break;
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&#39;"); break;
		default: buf_addc(b, t.p[i]);
		}
	}
	buf_free(&t);
}

void text_cell(struct buf *b, const char *s, size_t width)
{
	struct buf t;
	buf_init(&t);
	text_safe(&t, s && *s ? s : "-");
	buf_addspan(b, (struct span){ t.p, t.n });
	/* pad by display columns: count UTF-8 lead bytes */
	size_t cols = 0;
	for (size_t i = 0; i < t.n; i++)
		cols += ((unsigned char)t.p[i] & 0xc0) != 0x80;
	for (; cols < width; cols++)
		buf_addc(b, ' ');
	buf_addc(b, ' ');
	buf_free(&t);
}
