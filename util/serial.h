/* serial.h - a byte encoding for what one run hands the next (--state,
 * ARCHITECTURE.md "State between runs"): unsigned and signed integers as
 * LEB128 varints, strings as a length and bytes, with NULL apart from "".
 * The reader never reads past its end: a short or damaged input sets its
 * error and every later get returns zero, so a caller checks once. */
#ifndef TW_SERIAL_H
#define TW_SERIAL_H
#include "buf.h"
#include <stdbool.h>
#include <stdint.h>

/* The hot ones are inline: most numbers in a message's bytes (enums,
 * flags, counts, lengths) fit one byte, and a path node or a state file
 * writes and reads hundreds of them a message. */
void ser_u64_long(struct buf *b, uint64_t v);	/* the slow path of ser_u64 */

static inline void ser_u64(struct buf *b, uint64_t v)
{
	if (v < 0x80)
		buf_addc(b, (char)v);
	else
		ser_u64_long(b, v);
}

static inline void ser_i64(struct buf *b, int64_t v)	/* zigzag: small negatives stay small */
{
	ser_u64(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static inline void ser_bool(struct buf *b, bool v)
{
	buf_addc(b, v ? 1 : 0);
}

/* A string, or NULL (told apart from ""). */
void ser_str(struct buf *b, const char *s);
void ser_bytes(struct buf *b, const void *p, size_t n);

struct ser_in {
	const unsigned char *p, *end;
	const char *error;		/* NULL while all is well */
};

void ser_in_init(struct ser_in *r, const void *p, size_t n);
uint64_t ser_get_u64_long(struct ser_in *r);	/* the slow path of ser_get_u64 */

static inline uint64_t ser_get_u64(struct ser_in *r)
{
	if (r->p < r->end && !(*r->p & 0x80))
		return *r->p++;
	return ser_get_u64_long(r);
}

/* An enum written as its number (ser_u64), read back within 0..max;
 * past max the read fails and 0 comes back. */
unsigned ser_get_enum(struct ser_in *r, unsigned max);

static inline int64_t ser_get_i64(struct ser_in *r)
{
	uint64_t u = ser_get_u64(r);
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

void ser_fail(struct ser_in *r, const char *why);

static inline bool ser_get_bool(struct ser_in *r)
{
	uint64_t v = ser_get_u64(r);
	if (v > 1)
		ser_fail(r, "a flag is neither 0 nor 1");
	return v == 1;
}

/* A new string (malloc), or NULL as written; NULL too on error. */
char *ser_get_str(struct ser_in *r);
/* Exactly n bytes into dst (zeroed on error). */
void ser_get_bytes(struct ser_in *r, void *dst, size_t n);
/* A count of items to come, refused when larger than max or than the
 * bytes left could hold (each item takes a byte at least). */
size_t ser_get_count(struct ser_in *r, size_t max);

#endif
