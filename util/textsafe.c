/* textsafe.c - bytes from the evidence made safe for a terminal: control
 * characters, DEL, C1 controls and invalid UTF-8 (RFC 3629 section 4: no
 * overlongs, no surrogates, nothing above U+10FFFF) become visible \\xNN,
 * invisible direction and line controls \\uNNNN (util/textsafe.h). */
#include "textsafe.h"
#include <pthread.h>
#include <stdio.h>
#include <string.h>

size_t utf8_len(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	size_t n;
	unsigned min;
	unsigned cp;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Code points a terminal or an editor acts on though they print nothing:
 * bidirectional embeddings, overrides and isolates (U+202A..U+202E,
 * U+2066..U+2069, the marks U+200E, U+200F, U+061C; "Trojan Source",
 * CVE-2021-42574), the line and paragraph separators (U+2028, U+2029),
 * and what hides text in plain sight: the zero-width space, joiners and
 * word joiner (U+200B..U+200D, U+2060..U+2064), the byte order mark
 * U+FEFF, and the tag characters U+E0000..U+E007F (Unicode 15, 23.9),
 * which can smuggle a whole string past a reader. */
static bool invisible_control(unsigned long cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || (cp >= 0x200b && cp <= 0x200d) ||
	       (cp >= 0x2060 && cp <= 0x2064) || cp == 0xfeff || (cp >= 0xe0000 && cp <= 0xe007f);
}

/* The code point of a valid sequence of l bytes. */
static unsigned long code_point(const unsigned char *p, size_t l)
{
	unsigned long cp = p[0] & (l == 4 ? 0x07u : l == 3 ? 0x0fu : 0x1fu);
	for (size_t k = 1; k < l; k++)
		cp = (cp << 6) | (p[k] & 0x3fu);
	return cp;
}

void text_safe(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	if (!s) {
		buf_addc(b, '-');
		return;
	}
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;
	while (i < n) {
		/* printable ASCII is shown as it is: a run of it at once */
		size_t run = i;
		while (run < n && p[run] >= 0x20 && p[run] < 0x7f)
			run++;
		if (run > i) {
			buf_add(b, s + i, run - i);
			i = run;
			continue;
		}
		unsigned char c = p[i];
		size_t l = (c >= 0x20 && c != 0x7f) ? utf8_len(p + i, n - i) : 0;
		/* C1 controls (U+0080..U+009F) can act as escapes too. */
		if (l == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)
			l = 0;
		unsigned long cp = l > 1 ? code_point(p + i, l) : 0;
		if (l > 1 && invisible_control(cp)) {
			if (cp > 0xffff)
				buf_printf(b, "\\U%08lx", cp);
			else
				buf_printf(b, "\\u%04lx", cp);
			i += l;
		} else if (l) {
			buf_add(b, s + i, l);
			i += l;
		} else {
			char x[5] = { '\\', 'x', hex[c >> 4], hex[c & 15], 0 };
			buf_adds(b, x);
			i++;
		}
	}
}

const char *text_shown(const char *s)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct buf *kept;	/* escaped names, kept to the end */
	static size_t nkept;
	if (!s)
		return "-";
	bool plain = true;
	for (const unsigned char *p = (const unsigned char *)s; *p && plain; p++)
		plain = *p >= 0x20 && *p < 0x7f;
	if (plain)
		return s;
	struct buf t;
	buf_init(&t);
	text_safe(&t, s);
	if (strcmp(t.p, s) == 0) {	/* valid, visible UTF-8: as it is */
		buf_free(&t);
		return s;
	}
	pthread_mutex_lock(&lock);
	const char *shown = NULL;
	for (size_t i = 0; i < nkept && !shown; i++)
		if (strcmp(kept[i].p, t.p) == 0)
			shown = kept[i].p;
	if (!shown && nkept < 4096) {
		kept = xrealloc(kept, (nkept + 1) * sizeof *kept);
		kept[nkept] = t;
		shown = kept[nkept++].p;
		buf_init(&t);
	}
	pthread_mutex_unlock(&lock);
	buf_free(&t);
	return shown ? shown : "(a name with control characters)";
}
