/* buf.c - growable byte strings and borrowed slices.
 * Memory: a struct buf owns p; buf_free(NULL-initialised buf) is a no-op.
 * Allocation failure is fatal (exit 2): a half-built report is worse. */
#include "buf.h"
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void oom(void)
{
	fputs("tlswitness: out of memory\n", stderr);
	exit(2);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s);
	char *d = xmalloc(n + 1);
	memcpy(d, s, n + 1);
	return d;
}

char *xstrdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void buf_init(struct buf *b)
{
	b->p = NULL;
	b->n = b->cap = 0;
}

void buf_free(struct buf *b)
{
	if (!b)
		return;
	free(b->p);
	buf_init(b);
}

void buf_reset(struct buf *b)
{
	b->n = 0;
	if (b->p)
		b->p[0] = '\0';
}

void buf_grow(struct buf *b, size_t extra)
{
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->n + extra + 1)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		buf_add(b, small, (size_t)n);
		return;
	}
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)n;
}

struct span span_from(const char *s)
{
	return (struct span){ s, s ? strlen(s) : 0 };
}

bool span_eqi(struct span a, const char *s)
{
	size_t n = strlen(s);
	return a.n == n && (n == 0 || strncasecmp(a.p, s, n) == 0);
}

bool span_eq_span(struct span a, struct span b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

bool span_eqi_span(struct span a, struct span b)
{
	return a.n == b.n && (a.n == 0 || strncasecmp(a.p, b.p, a.n) == 0);
}

long span_find(struct span hay, const char *needle)
{
	size_t n = strlen(needle);
	if (n == 0)
		return 0;
	if (hay.n < n)
		return -1;
	const char *end = hay.p + hay.n - n;
	for (const char *p = hay.p; p <= end; p++) {
		p = memchr(p, needle[0], (size_t)(end - p) + 1);
		if (!p)
			return -1;
		if (memcmp(p, needle, n) == 0)
			return p - hay.p;
	}
	return -1;
}

struct span span_trim(struct span s)
{
	while (s.n && isspace((unsigned char)s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && isspace((unsigned char)s.p[s.n - 1]))
		s.n--;
	return s;
}

bool span_to_long(struct span s, long *out)
{
	long v = 0;
	if (s.n == 0 || s.n > 18)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (s.p[i] - '0');
	}
	*out = v;
	return true;
}

char *span_dup(struct span s)
{
	if (!s.p || s.n == 0)
		return NULL;
	char *d = xmalloc(s.n + 1);
	memcpy(d, s.p, s.n);
	d[s.n] = '\0';
	return d;
}

void str_set(char **dst, struct span s)
{
	free(*dst);
	*dst = span_dup(s);
}

void hex_encode(const unsigned char *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}
