/* track_sweep.c - idle state swept by log time, and the tables held under
 * MAX_OPEN by closing the idlest early (counted: tracker_evicted). */
#include "track_state.h"
#include "../util/addr.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- sweeping idle state ------------------------------------------------ */

struct sweep {
	struct buf keys;	/* NUL-separated key lengths + keys */
	size_t n;
	time_t limit;
	int which;
};

static void collect(const char *key, size_t klen, void *val, void *arg)
{
	struct sweep *sw = arg;
	time_t last;
	if (sw->which == 0)
		last = ((struct proc *)val)->last;
	else if (sw->which == 1)
		last = ((struct session *)val)->last;
	else
		last = ((struct message *)val)->last_seen;
	if (last >= sw->limit)
		return;
	buf_add(&sw->keys, &klen, sizeof klen);
	buf_add(&sw->keys, key, klen);
	sw->n++;
}

void trk_sweep_table(struct tracker *t, int which, time_t idle)
{
	struct sweep sw = { .limit = t->clock.now - idle, .which = which };
	buf_init(&sw.keys);
	struct hashtab *ht = which == 0 ? t->procs : which == 1 ? t->sessions : t->msgs;
	ht_foreach(ht, collect, &sw);
	size_t off = 0;
	for (size_t i = 0; i < sw.n; i++) {
		size_t klen;
		memcpy(&klen, sw.keys.p + off, sizeof klen);
		off += sizeof klen;
		const char *k = sw.keys.p + off;
		off += klen;
		if (which == 0) {
			trk_proc_free(ht_remove(ht, k, klen));
		} else if (which == 1) {
			struct session *s = ht_remove(ht, k, klen);
			trk_session_close(t, s, NULL);
			trk_session_free(s);
		} else {
			struct message *m = ht_get(ht, k, klen);
			trk_detach(m);
			trk_complete(t, m);
		}
	}
	buf_free(&sw.keys);
}

/* Past MAX_OPEN entries (a flood of sessions that never disconnect, a
 * log that starts mid-queue), close the idlest: halve the idle time
 * allowed until the table is back under the limit. */
static void bound(struct tracker *t, int which, struct hashtab *ht, time_t idle)
{
	while (ht_count(ht) > MAX_OPEN && idle > 0) {
		size_t before = ht_count(ht);
		idle /= 2;
		trk_sweep_table(t, which, idle);
		t->evicted += before - ht_count(ht);
	}
	if (ht_count(ht) > MAX_OPEN) {	/* all in the same second */
		size_t before = ht_count(ht);
		trk_sweep_table(t, which, -1);
		t->evicted += before - ht_count(ht);
	}
}

void trk_sweep(struct tracker *t)
{
	trk_sweep_table(t, 0, PROC_IDLE);
	trk_sweep_table(t, 1, SESSION_IDLE);
	trk_sweep_table(t, 2, MESSAGE_IDLE);
	bound(t, 0, t->procs, PROC_IDLE);
	bound(t, 1, t->sessions, SESSION_IDLE);
	bound(t, 2, t->msgs, MESSAGE_IDLE);
}

unsigned long tracker_evicted(const struct tracker *t)
{
	return t->evicted;
}
