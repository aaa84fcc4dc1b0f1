/* intern.c - the store of recurring short strings (util/intern.h).
 * Open addressing over offsets into one static block: a lookup is a hash
 * of a few words and one compare, on the owning thread only. */
#include "intern.h"
#include "buf.h"
#include "hashtab.h"
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	uint32_t hash;
	uint16_t off;		/* into text; 0 with len 0: empty */
	uint8_t len;
	bool used;
};

char intern_text[INTERN_BYTES];
static size_t text_used;
static struct slot slots[INTERN_SLOTS];
static size_t nslots;
static atomic_flag claimed = ATOMIC_FLAG_INIT;
static _Thread_local int am_owner = -1;	/* -1: not asked yet */

static char *owned_copy(const char *p, size_t n)
{
	char *c = xmalloc(n + 1);
	memcpy(c, p, n);
	c[n] = '\0';
	return c;
}

char *intern_span(const char *p, size_t n)
{
	if (!p || !n)
		return NULL;
	if (n > INTERN_MAX)
		return owned_copy(p, n);
	if (am_owner < 0)
		am_owner = !atomic_flag_test_and_set(&claimed);
	if (!am_owner)
		return owned_copy(p, n);
	uint32_t h = (uint32_t)ht_key_hash(p, n);	/* the hash tables' own */
	char *found = NULL;
	size_t i = h & (INTERN_SLOTS - 1);
	for (; slots[i].used; i = (i + 1) & (INTERN_SLOTS - 1))
		if (slots[i].hash == h && slots[i].len == n && !memcmp(intern_text + slots[i].off, p, n)) {
			found = intern_text + slots[i].off;
			break;
		}
	if (!found && nslots < INTERN_SLOTS / 2 && text_used + n + 1 <= sizeof intern_text) {
		found = intern_text + text_used;
		memcpy(found, p, n);
		found[n] = '\0';
		slots[i] = (struct slot){ h, (uint16_t)text_used, (uint8_t)n, true };
		text_used += n + 1;
		nslots++;
	}
	return found ? found : owned_copy(p, n);
}

char *intern_str(const char *s)
{
	if (!s)
		return NULL;
	return *s ? intern_span(s, strlen(s)) : owned_copy(s, 0);	/* "" stays "" */
}

char *intern_dup(const char *s)
{
	if (!s)
		return NULL;
	return intern_owns(s) ? (char *)s : intern_str(s);
}
