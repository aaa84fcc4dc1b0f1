/* hashtab.c - chained hash table, doubling at load 1.
 * Memory: entries and key copies are owned by the table. */
#include "hashtab.h"
#include "buf.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct entry *next;
	uint64_t hash;
	void *val;
	size_t klen;
	char key[];
};

struct hashtab {
	struct entry **slots;
	size_t nslots, count;
};

/* Eight bytes a step, one multiply each, then a MurmurHash3-style
 * finaliser so the low bits (the slot) depend on every byte.  Keys are
 * host, instance and a pid or queue ID, 20 to 40 bytes, looked up several
 * times a line; not FNV's byte at a time. */
uint64_t ht_key_hash(const char *k, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL);
	uint64_t w;
	bool whole_word = n >= 8;
	while (n >= 8) {
		memcpy(&w, k, 8);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
		h ^= h >> 29;
		k += 8;
		n -= 8;
	}
	w = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* The last 1-7 bytes: the word ending with them, shifted down, is what
	 * copying them into w gives, without a call (a few times a line). */
	if (n && whole_word) {
		memcpy(&w, k + n - 8, 8);
		w >>= 8 * (8 - n);
	} else {
		memcpy(&w, k, n);
	}
#else
	(void)whole_word;
	memcpy(&w, k, n);
#endif
	h = (h ^ w) * 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

struct hashtab *ht_new(void)
{
	struct hashtab *ht = xcalloc(1, sizeof *ht);
	ht->nslots = 64;
	ht->slots = xcalloc(ht->nslots, sizeof *ht->slots);
	return ht;
}

void ht_free(struct hashtab *ht, void (*freeval)(void *))
{
	if (!ht)
		return;
	for (size_t i = 0; i < ht->nslots; i++) {
		struct entry *e = ht->slots[i];
		while (e) {
			struct entry *next = e->next;
			if (freeval && e->val)
				freeval(e->val);
			free(e);
			e = next;
		}
	}
	free(ht->slots);
	free(ht);
}

static struct entry **find(const struct hashtab *ht, const char *key,
			   size_t klen, uint64_t h)
{
	struct entry **pp = &ht->slots[h & (ht->nslots - 1)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->klen == klen &&
		    memcmp((*pp)->key, key, klen) == 0)
			return pp;
	return pp;
}

void *ht_get(const struct hashtab *ht, const char *key, size_t klen)
{
	struct entry **pp = find(ht, key, klen, ht_key_hash(key, klen));
	return *pp ? (*pp)->val : NULL;
}

static void grow(struct hashtab *ht)
{
	size_t n = ht->nslots * 2;
	struct entry **slots = xcalloc(n, sizeof *slots);
	for (size_t i = 0; i < ht->nslots; i++) {
		struct entry *e = ht->slots[i];
		while (e) {
			struct entry *next = e->next;
			e->next = slots[e->hash & (n - 1)];
			slots[e->hash & (n - 1)] = e;
			e = next;
		}
	}
	free(ht->slots);
	ht->slots = slots;
	ht->nslots = n;
}

void *ht_put(struct hashtab *ht, const char *key, size_t klen, void *val)
{
	uint64_t h = ht_key_hash(key, klen);
	struct entry **pp = find(ht, key, klen, h);
	if (*pp) {
		void *old = (*pp)->val;
		(*pp)->val = val;
		return old;
	}
	struct entry *e = xmalloc(sizeof *e + klen + 1);
	e->next = NULL;
	e->hash = h;
	e->val = val;
	e->klen = klen;
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	*pp = e;
	if (++ht->count > ht->nslots)
		grow(ht);
	return NULL;
}

void *ht_remove(struct hashtab *ht, const char *key, size_t klen)
{
	struct entry **pp = find(ht, key, klen, ht_key_hash(key, klen));
	struct entry *e = *pp;
	if (!e)
		return NULL;
	void *val = e->val;
	*pp = e->next;
	free(e);
	ht->count--;
	return val;
}

size_t ht_count(const struct hashtab *ht)
{
	return ht->count;
}

void ht_foreach(const struct hashtab *ht,
		void (*fn)(const char *, size_t, void *, void *), void *arg)
{
	for (size_t i = 0; i < ht->nslots; i++)
		for (struct entry *e = ht->slots[i]; e; e = e->next)
			fn(e->key, e->klen, e->val, arg);
}
