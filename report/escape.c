/* escape.c - JSON, HTML and table-cell escaping (terminal text and UTF-8
 * validation: util/textsafe.c). */
#include "escape.h"
#include <stdio.h>
#include <string.h>

/* Bytes that pass through a JSON string as they are (RFC 8259 section 7):
 * printable ASCII but the quote and the backslash. */
static const unsigned char json_plain[256] = {
	[0x20 ... 0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7e] = 1,
};

/* Length of the run of plain bytes at p: the common case, whole strings. */
static size_t plain_run(const unsigned char *p, size_t n)
{
	size_t i = 0;
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
	/* One pass for the common case: the NUL is not plain, so the run
	 * stops at the end or at the first byte that needs escaping. */
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	/* four at a time: && stops at the first byte not plain, the NUL at
	 * the latest, so nothing past it is read */
	while (json_plain[p[i]] && json_plain[p[i + 1]] && json_plain[p[i + 2]] &&
	       json_plain[p[i + 3]])
		i += 4;
	while (json_plain[p[i]])
		i++;
	if (p[i]) {
		json_strn(b, s, i + strlen(s + i));
		return;
	}
	buf_reserve(b, i + 2);
	b->p[b->n++] = '"';
	memcpy(b->p + b->n, s, i);
	b->n += i;
	b->p[b->n++] = '"';
	b->p[b->n] = '\0';
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
