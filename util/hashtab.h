/* hashtab.h - a hash table from byte-string keys to pointers.
 * The table copies keys; values are the caller's.  Used for sessions keyed
 * by (host, instance, pid) and messages keyed by (host, instance, queue ID). */
#ifndef TW_HASHTAB_H
#define TW_HASHTAB_H
#include <stddef.h>
#include <stdint.h>

struct hashtab;

struct hashtab *ht_new(void);
/* The hash the table uses, for callers that sample keys by it. */
uint64_t ht_key_hash(const char *k, size_t n);
/* Free the table; call freeval on each value when it is not NULL. */
void ht_free(struct hashtab *ht, void (*freeval)(void *));
void *ht_get(const struct hashtab *ht, const char *key, size_t klen);
/* Insert or replace; returns the value it replaced, or NULL. */
void *ht_put(struct hashtab *ht, const char *key, size_t klen, void *val);
/* Remove; returns the value removed, or NULL. */
void *ht_remove(struct hashtab *ht, const char *key, size_t klen);
size_t ht_count(const struct hashtab *ht);
/* Visit every entry (order unspecified); fn must not change the table. */
void ht_foreach(const struct hashtab *ht,
		void (*fn)(const char *key, size_t klen, void *val, void *arg),
		void *arg);

#endif
