/* escape.h - making attacker-controlled bytes safe in each output format.
 * Hostnames, addresses and message IDs come from the network: they may hold
 * quotes, control characters, terminal escapes or invalid UTF-8. */
#ifndef TW_ESCAPE_H
#define TW_ESCAPE_H
#include "../util/textsafe.h"	/* text_safe, utf8_len */

/* A JSON string literal (RFC 8259 section 7), or null for NULL.  Invalid
 * UTF-8 becomes U+FFFD so the output is always valid UTF-8. */
void json_str(struct buf *b, const char *s);
void json_strn(struct buf *b, const char *p, size_t n);
/* "s" for n bytes already known to need no escaping. */
static inline void json_quoted(struct buf *b, const char *s, size_t n)
{
	buf_reserve(b, n + 2);
	char *p = b->p + b->n;
	*p++ = '"';
	memcpy(p, s, n);
	p[n] = '"';
	p[n + 1] = '\0';
	b->n += n + 2;
}
/* Text for HTML (body or quoted attribute): text_safe(), then & < > " '
 * as character references. */
void html_safe(struct buf *b, const char *s);
/* One text table cell: escaped, padded to width display columns, then a
 * space. */
void text_cell(struct buf *b, const char *s, size_t width);

#endif
