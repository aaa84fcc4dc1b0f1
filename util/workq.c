/* workq.c - a single-producer, single-consumer queue of item batches.
 * Memory: at most QUEUE_BATCHES full batches wait, plus the one the
 * producer fills, the one the consumer works on and those waiting to be
 * released; items are the caller's.
 * Errors: none reported; a thread that cannot start makes workq_new fail. */
#include "workq.h"
#include "buf.h"
#include <pthread.h>
#include <stdlib.h>

#define BATCH 256
#define QUEUE_BATCHES 4

struct batch {
	void *item[BATCH];
	unsigned n;
};

struct workq {
	workq_fn fn;
	workq_release_fn release;
	void *arg;
	bool threaded, started, closed;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	struct batch *ring[QUEUE_BATCHES];
	unsigned head, len;
	struct batch *filling;		/* the producer's */
	struct batch *done[QUEUE_BATCHES + 1];	/* worked on, to be released */
	unsigned ndone;
};

static void *consume(void *arg)
{
	struct workq *q = arg;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->len == 0 && !q->closed)
			pthread_cond_wait(&q->not_empty, &q->mu);
		if (q->len == 0)
			break;		/* closed and drained */
		struct batch *b = q->ring[q->head];
		q->head = (q->head + 1) % QUEUE_BATCHES;
		q->len--;
		pthread_cond_signal(&q->not_full);
		pthread_mutex_unlock(&q->mu);
		for (unsigned i = 0; i < b->n; i++)
			q->fn(b->item[i], q->arg);
		pthread_mutex_lock(&q->mu);
		q->done[q->ndone++] = b;	/* at most every batch there is */
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

struct workq *workq_new(workq_fn fn, workq_release_fn release, void *arg, bool threaded)
{
	struct workq *q = xcalloc(1, sizeof *q);
	q->fn = fn;
	q->release = release;
	q->arg = arg;
	q->threaded = threaded;
	if (!threaded)
		return q;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	pthread_cond_init(&q->not_full, NULL);
	q->filling = xcalloc(1, sizeof *q->filling);
	if (pthread_create(&q->thread, NULL, consume, q) != 0) {
		free(q->filling);
		pthread_mutex_destroy(&q->mu);
		pthread_cond_destroy(&q->not_empty);
		pthread_cond_destroy(&q->not_full);
		free(q);
		return NULL;
	}
	q->started = true;
	return q;
}

/* Release the items of worked-on batches; keep one batch to fill next. */
static struct batch *release_done(struct workq *q, struct batch **done, unsigned n)
{
	struct batch *keep = NULL;
	for (unsigned k = 0; k < n; k++) {
		struct batch *b = done[k];
		for (unsigned i = 0; i < b->n && q->release; i++)
			q->release(b->item[i]);
		b->n = 0;
		if (!keep)
			keep = b;
		else
			free(b);
	}
	return keep;
}

/* Put the producer's batch on the ring (waiting for room), take a new one. */
static void hand_over(struct workq *q)
{
	struct batch *done[QUEUE_BATCHES + 1];
	pthread_mutex_lock(&q->mu);
	while (q->len == QUEUE_BATCHES)
		pthread_cond_wait(&q->not_full, &q->mu);
	q->ring[(q->head + q->len) % QUEUE_BATCHES] = q->filling;
	q->len++;
	unsigned n = q->ndone;
	for (unsigned i = 0; i < n; i++)
		done[i] = q->done[i];
	q->ndone = 0;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
	struct batch *next = release_done(q, done, n);
	q->filling = next ? next : xcalloc(1, sizeof *q->filling);
}

void workq_push(struct workq *q, void *item)
{
	if (!q->started) {
		q->fn(item, q->arg);
		if (q->release)
			q->release(item);
		return;
	}
	q->filling->item[q->filling->n++] = item;
	if (q->filling->n == BATCH)
		hand_over(q);
}

void workq_finish(struct workq *q)
{
	if (!q || !q->started)
		return;
	if (q->filling->n)
		hand_over(q);
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	q->started = false;
	free(release_done(q, q->done, q->ndone));
	q->ndone = 0;
	free(q->filling);
	q->filling = NULL;
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
}

void workq_free(struct workq *q)
{
	if (!q)
		return;
	workq_finish(q);
	free(q);
}
