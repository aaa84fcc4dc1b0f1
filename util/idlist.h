/* idlist.h - ids by key, for a window whose entries get increasing ids and
 * leave oldest first (the join's capture records, the paths' messages):
 * each key's ids in order, the first ones dropped as they leave. */
#ifndef TW_IDLIST_H
#define TW_IDLIST_H
#include "hashtab.h"
#include <stdint.h>

struct idlist {
	uint64_t *v;
	size_t lo, n, cap;	/* the ids v[lo .. n), oldest first */
};

/* Append id (larger than any before it) to key's list; NULL key: none. */
void idx_add(struct hashtab *ht, const char *key, uint64_t id);
/* id leaves: it is first in key's list; an emptied list goes. */
void idx_drop(struct hashtab *ht, const char *key, uint64_t id);
const struct idlist *idx_get(const struct hashtab *ht, const char *key);
/* For ht_free. */
void idlist_free(void *p);

#endif
