/* intern.h - one copy of each short string that recurs: TLS versions,
 * cipher names, key exchanges, trust words.  A hop's TLS facts then hold
 * pointers into one store instead of a malloc'd copy each, and copying a
 * hop's TLS state copies pointers (ARCHITECTURE.md "The data model", "Bounds").
 *
 * Bounded: at most INTERN_BYTES of text and INTERN_SLOTS strings of at most
 * INTERN_MAX bytes, kept for the life of the process; once it is full, or
 * for a longer string, the caller gets an owned copy instead.  So a hostile
 * input that names a million ciphers costs what it did before, not more.
 * An interned string is never written through; intern_free and intern_dup
 * tell the two kinds apart by address.  The first thread to intern owns
 * the store (the calling thread, which parses and correlates:
 * ARCHITECTURE.md "Threads"); other threads get owned copies, so no lock
 * is taken, and any thread may read, copy or free either kind. */
#ifndef TW_INTERN_H
#define TW_INTERN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define INTERN_BYTES 65536
#define INTERN_SLOTS 2048	/* a power of two; filled to half at most */
#define INTERN_MAX 96

/* Bytes P..P+N as a NUL-terminated string: the stored copy when there is
 * (or is room for) one, else a malloc'd copy; NULL when N is 0, as
 * span_dup (util/buf.h). */
char *intern_span(const char *p, size_t n);
/* The same for a NUL-terminated string ("" a copy of ""); NULL for NULL. */
char *intern_str(const char *s);
extern char intern_text[INTERN_BYTES];

/* Is S the store's?  (Addresses compared as integers: S may point into
 * any object.) */
static inline bool intern_owns(const char *s)
{
	uintptr_t a = (uintptr_t)s, lo = (uintptr_t)intern_text;
	return a - lo < INTERN_BYTES;
}
/* A copy S's holder may keep: S itself when it is the store's, else a
 * malloc'd copy (NULL for NULL). */
char *intern_dup(const char *s);
/* Free S unless it is the store's. */
static inline void intern_free(char *s)
{
	if (s && !intern_owns(s))
		free(s);
}

#endif
