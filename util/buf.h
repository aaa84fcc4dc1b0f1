/* buf.h - growable byte strings and borrowed slices.
 * A struct buf owns its bytes (always NUL-terminated); a struct span borrows
 * bytes that live elsewhere, usually in the current input line. */
#ifndef TW_BUF_H
#define TW_BUF_H
#include <stddef.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct span {
	const char *p;
	size_t n;
};

struct buf {
	char *p;
	size_t n, cap;
};

#define SPAN_NULL ((struct span){ NULL, 0 })
#define SPAN_LIT(s) ((struct span){ (s), sizeof(s) - 1 })

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* The hot primitives are inline: with a literal argument the compiler folds
 * strlen, and the common case (room already there) is a few instructions. */
void buf_grow(struct buf *b, size_t extra);	/* the slow path of reserve */

static inline void buf_reserve(struct buf *b, size_t extra)
{
	if (b->n + extra + 1 > b->cap)
		buf_grow(b, extra);
}

static inline void buf_add(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static inline void buf_addc(struct buf *b, char c)
{
	buf_reserve(b, 1);
	b->p[b->n++] = c;
	b->p[b->n] = '\0';
}

static inline void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* A decimal integer without printf (JSON numbers, explain texts). */
static inline void buf_addlong(struct buf *b, long v)
{
	char tmp[24], *e = tmp + sizeof tmp, *p = e;
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	buf_add(b, p, (size_t)(e - p));
}

static inline void buf_addspan(struct buf *b, struct span s)
{
	buf_add(b, s.p, s.n);
}

static inline struct span span_sub(struct span s, size_t off, size_t n)
{
	if (off > s.n)
		off = s.n;
	if (n > s.n - off)
		n = s.n - off;
	return (struct span){ s.p + off, n };
}

static inline bool span_eq(struct span a, const char *s)
{
	size_t n = strlen(s);
	return a.n == n && (n == 0 || memcmp(a.p, s, n) == 0);
}

static inline bool span_starts(struct span a, const char *prefix)
{
	size_t n = strlen(prefix);
	return a.n >= n && memcmp(a.p, prefix, n) == 0;
}

/* If *s starts with prefix, move past it and return true. */
static inline bool span_eat(struct span *s, const char *prefix)
{
	size_t n = strlen(prefix);
	if (s->n < n || memcmp(s->p, prefix, n) != 0)
		return false;
	s->p += n;
	s->n -= n;
	return true;
}

void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct span span_from(const char *s);
bool span_eqi(struct span a, const char *s);
bool span_eq_span(struct span a, struct span b);
bool span_eqi_span(struct span a, struct span b);
/* Index of needle in hay, or -1. */
long span_find(struct span hay, const char *needle);
struct span span_trim(struct span s);
/* Parse a decimal integer covering the whole span; false if not one. */
bool span_to_long(struct span s, long *out);
/* A NUL-terminated heap copy, or NULL for an empty/NULL span. */
char *span_dup(struct span s);
/* Replace *dst with a copy of s (NULL if s is empty). */
void str_set(char **dst, struct span s);

void *xmalloc(size_t n);
/* free for the fields destructors go through, most of them NULL: a
 * message's hops free some two hundred, and the call is most of what
 * free(NULL) costs. */
static inline void xfree(void *p)
{
	if (p)
		free(p);
}
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* The same, NULL for NULL. */
char *xstrdup_or_null(const char *s);

/* n bytes as 2n lower-case hex digits and a NUL at out (2n + 1 bytes):
 * hashes and keys in reports and messages. */
void hex_encode(const unsigned char *p, size_t n, char *out);

#endif
