/* track_sweep.c - idle state swept by log time, and the tables held under
 * MAX_OPEN by closing the idlest early (counted: tracker_evicted): those
 * idle longest first, and within one second the least recently touched,
 * down to three quarters of the limit - never all of them.  A session closed early is remembered (a hash of its
 * key, CLOSED_KEPT of them), so a line of it that comes later says why its
 * facts are missing. */
#include "track_state.h"
#include "../util/addr.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- sweeping idle state ------------------------------------------------ */


/* The tables swept: 0 delivering processes, 1 smtpd sessions, 2 open
 * messages, 3 the relays' last connections (what a conn_use=N delivery
 * from the connection cache takes its TLS facts from: smtp(8) keeps a
 * connection at most smtp_connection_reuse_time_limit, 300 s). */
static time_t last_of(int which, const void *val)
{
	return which == 0 ? ((const struct proc *)val)->last
	     : which == 1 ? ((const struct session *)val)->last
	     : which == 2 ? ((const struct message *)val)->last_seen
			  : ((const struct conn *)val)->used;
}

/* Within a second: the order state was last touched in. */
static unsigned long touch_of(int which, const void *val)
{
	return which == 0 ? ((const struct proc *)val)->touch
	     : which == 1 ? ((const struct session *)val)->touch
	     : which == 2 ? (unsigned long)((const struct message *)val)->seq : 0;
}


static void remember_closed(struct tracker *t, const char *k, size_t klen, enum closed_why why)
{
	if (!t->closed)
		t->closed = xcalloc(CLOSED_KEPT, sizeof *t->closed);
	uint64_t h = ht_key_hash(k, klen);
	t->closed[h % CLOSED_KEPT] = (h & ~(uint64_t)3) | why;
}

enum closed_why trk_session_closed_why(const struct tracker *t, const char *key, size_t n)
{
	if (!t->closed)
		return 0;
	uint64_t h = ht_key_hash(key, n), e = t->closed[h % CLOSED_KEPT];
	return e && (e & ~(uint64_t)3) == (h & ~(uint64_t)3) ? (enum closed_why)(e & 3) : 0;
}

/* Close one entry of table which, by key. */
static void close_one(struct tracker *t, int which, struct hashtab *ht, const char *k,
		      size_t klen, enum closed_why why)
{
	if (which == 0) {
		trk_proc_free(ht_remove(ht, k, klen));
	} else if (which == 1) {
		struct session *s = ht_remove(ht, k, klen);
		remember_closed(t, k, klen, why);
		trk_session_close(t, s, NULL);
		trk_session_free(s);
	} else if (which == 2) {
		struct message *m = ht_get(ht, k, klen);
		trk_detach(m);
		trk_complete(t, m);
	} else {
		struct conn *c = ht_remove(ht, k, klen);
		trk_conn_clear(c);
		free(c);
	}
}

static struct hashtab *table(struct tracker *t, int which)
{
	return which == 0 ? t->procs : which == 1 ? t->sessions : which == 2 ? t->msgs : t->relays;
}



/* Every entry of a table with when it was last touched, to close the
 * least recently touched first. */
struct aged {
	time_t last;
	unsigned long touch;
	size_t off;		/* of its key length and key in keys */
};

struct ages {
	struct aged *v;
	size_t n, cap;
	struct buf keys;
	int which;
	time_t limit;
};

static void collect_aged(const char *key, size_t klen, void *val, void *arg)
{
	struct ages *a = arg;
	a->v[a->n++] = (struct aged){ last_of(a->which, val), touch_of(a->which, val), a->keys.n };
	buf_add(&a->keys, &klen, sizeof klen);
	buf_add(&a->keys, key, klen);
}

static int cmp_aged(const void *x, const void *y)
{
	const struct aged *a = x, *b = y;
	if (a->last != b->last)
		return a->last < b->last ? -1 : 1;
	return a->touch < b->touch ? -1 : a->touch > b->touch;
}

/* Close every entry idle since before now - idle, the longest idle first
 * (and within a second the least recently touched, then by key): never in
 * the table's own order, which depends on how it was filled - a tracker
 * read back from --state must close them as the one that wrote it would. */
static int cmp_swept(const void *x, const void *y, void *keys)
{
	const struct aged *a = x, *b = y;
	int c = cmp_aged(x, y);
	if (c)
		return c;
	const char *kb = keys;
	size_t la, lb;
	memcpy(&la, kb + a->off, sizeof la);
	memcpy(&lb, kb + b->off, sizeof lb);
	c = memcmp(kb + a->off + sizeof la, kb + b->off + sizeof lb, la < lb ? la : lb);
	return c ? c : (la > lb) - (la < lb);
}

static void collect_idle(const char *key, size_t klen, void *val, void *arg)
{
	struct ages *a = arg;
	if (last_of(a->which, val) >= a->limit)
		return;
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->v = xrealloc(a->v, a->cap * sizeof *a->v);
	}
	a->v[a->n++] = (struct aged){ last_of(a->which, val), touch_of(a->which, val), a->keys.n };
	buf_add(&a->keys, &klen, sizeof klen);
	buf_add(&a->keys, key, klen);
}

void trk_sweep_table(struct tracker *t, int which, time_t idle)
{
	struct ages a = { .which = which, .limit = t->clock.now - idle };
	buf_init(&a.keys);
	struct hashtab *ht = table(t, which);
	ht_foreach(ht, collect_idle, &a);
	if (a.n > 1)
		qsort_r(a.v, a.n, sizeof *a.v, cmp_swept, a.keys.p);
	for (size_t i = 0; i < a.n; i++) {
		size_t klen;
		memcpy(&klen, a.keys.p + a.v[i].off, sizeof klen);
		close_one(t, which, ht, a.keys.p + a.v[i].off + sizeof klen, klen, CLOSED_IDLE);
	}
	buf_free(&a.keys);
	free(a.v);
}

/* Close the entries idle longest, and of those idle as long the least
 * recently touched, until the table holds at most target. */
static void close_least_recent(struct tracker *t, int which, struct hashtab *ht, size_t target)
{
	struct ages a = { .v = xcalloc(ht_count(ht) + 1, sizeof *a.v), .which = which };
	buf_init(&a.keys);
	ht_foreach(ht, collect_aged, &a);
	qsort(a.v, a.n, sizeof *a.v, cmp_aged);
	for (size_t i = 0; i < a.n && ht_count(ht) > target; i++) {
		size_t klen;
		memcpy(&klen, a.keys.p + a.v[i].off, sizeof klen);
		close_one(t, which, ht, a.keys.p + a.v[i].off + sizeof klen, klen,
			  CLOSED_UNDER_LOAD);
	}
	buf_free(&a.keys);
	free(a.v);
}

/* Past MAX_OPEN entries (a flood of sessions that never disconnect, a
 * log that starts mid-queue), close the idlest - the longest idle, and
 * within a second the least recently touched - down to three quarters of
 * the limit, so a flood sorts the table once every MAX_OPEN / 4 entries,
 * not at every sweep. */
static void bound(struct tracker *t, int which, struct hashtab *ht)
{
	size_t before = ht_count(ht);
	if (before <= MAX_OPEN)
		return;
	close_least_recent(t, which, ht, MAX_OPEN - MAX_OPEN / 4);
	if (which != 3)	/* a relay's last connection forgotten loses no hop */
		t->evicted += before - ht_count(ht);
}

void trk_sweep(struct tracker *t)
{
	trk_sweep_table(t, 0, PROC_IDLE);
	trk_sweep_table(t, 1, SESSION_IDLE);
	trk_sweep_table(t, 2, MESSAGE_IDLE);
	trk_sweep_table(t, 3, PROC_IDLE);
	trk_bound(t);
}

void trk_bound(struct tracker *t)
{
	bound(t, 0, t->procs);
	bound(t, 1, t->sessions);
	bound(t, 2, t->msgs);
	bound(t, 3, t->relays);
}

unsigned long tracker_evicted(const struct tracker *t)
{
	return t->evicted;
}
