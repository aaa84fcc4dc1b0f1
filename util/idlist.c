/* idlist.c - see idlist.h. */
#include "idlist.h"
#include "buf.h"
#include <stdlib.h>
#include <string.h>

void idlist_free(void *p)
{
	struct idlist *l = p;
	if (l) {
		free(l->v);
		free(l);
	}
}

void idx_add(struct hashtab *ht, const char *key, uint64_t id)
{
	if (!key)
		return;
	size_t kl = strlen(key);
	struct idlist *l = ht_get(ht, key, kl);
	if (!l) {
		l = xcalloc(1, sizeof *l);
		ht_put(ht, key, kl, l);
	}
	if (l->n == l->cap) {
		if (l->lo > l->n / 2) {	/* room at the front, from ids gone */
			memmove(l->v, l->v + l->lo, (l->n - l->lo) * sizeof *l->v);
			l->n -= l->lo;
			l->lo = 0;
		} else {
			l->cap = l->cap ? l->cap * 2 : 4;
			l->v = xrealloc(l->v, l->cap * sizeof *l->v);
		}
	}
	l->v[l->n++] = id;
}

void idx_drop(struct hashtab *ht, const char *key, uint64_t id)
{
	if (!key)
		return;
	size_t kl = strlen(key);
	struct idlist *l = ht_get(ht, key, kl);
	if (!l || l->lo == l->n || l->v[l->lo] != id)
		return;
	if (++l->lo == l->n)
		idlist_free(ht_remove(ht, key, kl));
}

const struct idlist *idx_get(const struct hashtab *ht, const char *key)
{
	return key ? ht_get(ht, key, strlen(key)) : NULL;
}
