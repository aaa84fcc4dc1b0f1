/* spsc.c - a ring of pointers under one mutex and two condition variables.
 * Memory: the ring, fixed at creation; the items are the caller's.
 * Errors: none; a closed queue refuses puts and drains for gets. */
#include "spsc.h"
#include "buf.h"
#include <pthread.h>
#include <stdlib.h>

struct spsc {
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	size_t cap, head, len;
	bool closed;
	void *v[];
};

struct spsc *spsc_new(size_t capacity)
{
	struct spsc *q = xcalloc(1, sizeof *q + capacity * sizeof q->v[0]);
	q->cap = capacity;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	pthread_cond_init(&q->not_full, NULL);
	return q;
}

static bool put(struct spsc *q, void *p, bool wait)
{
	pthread_mutex_lock(&q->mu);
	while (wait && q->len == q->cap && !q->closed)
		pthread_cond_wait(&q->not_full, &q->mu);
	bool ok = !q->closed && q->len < q->cap;
	if (ok) {
		q->v[(q->head + q->len) % q->cap] = p;
		q->len++;
		pthread_cond_signal(&q->not_empty);
	}
	pthread_mutex_unlock(&q->mu);
	return ok;
}

static void *get(struct spsc *q, bool wait)
{
	pthread_mutex_lock(&q->mu);
	while (wait && q->len == 0 && !q->closed)
		pthread_cond_wait(&q->not_empty, &q->mu);
	void *p = NULL;
	if (q->len) {
		p = q->v[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
		pthread_cond_signal(&q->not_full);
	}
	pthread_mutex_unlock(&q->mu);
	return p;
}

bool spsc_put(struct spsc *q, void *p) { return put(q, p, true); }
bool spsc_try_put(struct spsc *q, void *p) { return put(q, p, false); }
void *spsc_get(struct spsc *q) { return get(q, true); }
void *spsc_try_get(struct spsc *q) { return get(q, false); }

void spsc_close(struct spsc *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->mu);
}

void spsc_free(struct spsc *q)
{
	if (!q)
		return;
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
	free(q);
}
