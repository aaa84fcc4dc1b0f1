/* serial.c - the state file's encoding (util/serial.h). */
#include "serial.h"
#include <stdlib.h>
#include <string.h>

void ser_u64_long(struct buf *b, uint64_t v)
{
	unsigned char t[10];
	size_t n = 0;
	do {
		t[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			t[n] |= 0x80;
		n++;
	} while (v);
	buf_add(b, t, n);
}

void ser_str(struct buf *b, const char *s)
{
	if (!s) {
		ser_u64(b, 0);
		return;
	}
	size_t n = strlen(s);
	ser_u64(b, (uint64_t)n + 1);
	buf_add(b, s, n);
}

void ser_bytes(struct buf *b, const void *p, size_t n)
{
	buf_add(b, p, n);
}

void ser_in_init(struct ser_in *r, const void *p, size_t n)
{
	r->p = p;
	r->end = r->p + n;
	r->error = NULL;
}

void ser_fail(struct ser_in *r, const char *why)
{
	if (!r->error)
		r->error = why;
	r->p = r->end;
}

uint64_t ser_get_u64_long(struct ser_in *r)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end) {
			ser_fail(r, "it ends too soon");
			return 0;
		}
		unsigned char c = *r->p++;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
	}
	ser_fail(r, "a number is too long");
	return 0;
}

char *ser_get_str(struct ser_in *r)
{
	uint64_t n = ser_get_u64(r);
	if (n == 0 || r->error)
		return NULL;
	n--;
	if (n > (uint64_t)(r->end - r->p)) {
		ser_fail(r, "a string runs past the end");
		return NULL;
	}
	char *s = xmalloc((size_t)n + 1);
	memcpy(s, r->p, (size_t)n);
	s[n] = '\0';
	r->p += n;
	return s;
}

void ser_get_bytes(struct ser_in *r, void *dst, size_t n)
{
	if (n > (size_t)(r->end - r->p)) {
		ser_fail(r, "it ends too soon");
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, r->p, n);
	r->p += n;
}

size_t ser_get_count(struct ser_in *r, size_t max)
{
	uint64_t n = ser_get_u64(r);
	if (n > max || n > (uint64_t)(r->end - r->p)) {
		ser_fail(r, "a count is larger than the file could hold");
		return 0;
	}
	return (size_t)n;
}

unsigned ser_get_enum(struct ser_in *r, unsigned max)
{
	uint64_t v = ser_get_u64(r);
	if (v > max) {
		ser_fail(r, "a value is out of range");
		return 0;
	}
	return (unsigned)v;
}
