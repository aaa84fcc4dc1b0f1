/* workq.c - batches of items handed to a consumer thread, and handed back.
 * Memory: at most QUEUE_BATCHES full batches wait, plus the one the
 * producer fills, the one the consumer works on and those waiting to be
 * released (the producer keeps one of them, frees the rest); items are the
 * caller's.  Errors: none reported; a thread that cannot start makes
 * workq_new fail. */
#include "workq.h"
#include "buf.h"
#include "spsc.h"
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
	bool started;
	pthread_t thread;
	struct spsc *full;	/* batches to work on, in order */
	struct spsc *done;	/* batches worked on, to be released */
	struct batch *filling;	/* the producer's */
};

static void *consume(void *arg)
{
	struct workq *q = arg;
	struct batch *b;
	while ((b = spsc_get(q->full))) {	/* NULL: closed and drained */
		for (unsigned i = 0; i < b->n; i++)
			q->fn(b->item[i], q->arg);
		/* never full: there are no more batches than it holds */
		spsc_put(q->done, b);
	}
	return NULL;
}

struct workq *workq_new(workq_fn fn, workq_release_fn release, void *arg, bool threaded)
{
	struct workq *q = xcalloc(1, sizeof *q);
	q->fn = fn;
	q->release = release;
	q->arg = arg;
	if (!threaded)
		return q;
	q->full = spsc_new(QUEUE_BATCHES);
	q->done = spsc_new(QUEUE_BATCHES + 2);
	q->filling = xcalloc(1, sizeof *q->filling);
	if (pthread_create(&q->thread, NULL, consume, q) != 0) {
		free(q->filling);
		spsc_free(q->full);
		spsc_free(q->done);
		free(q);
		return NULL;
	}
	q->started = true;
	return q;
}

/* Release the items of worked-on batches; keep one batch to fill next. */
static struct batch *release_done(struct workq *q)
{
	struct batch *keep = NULL, *b;
	while ((b = spsc_try_get(q->done))) {
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

/* Queue the producer's batch (waiting for room), take a new one. */
static void hand_over(struct workq *q)
{
	spsc_put(q->full, q->filling);
	struct batch *next = release_done(q);
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
		spsc_put(q->full, q->filling);
	else
		free(q->filling);
	q->filling = NULL;
	spsc_close(q->full);
	pthread_join(q->thread, NULL);
	q->started = false;
	free(release_done(q));
	spsc_free(q->full);
	spsc_free(q->done);
}

void workq_free(struct workq *q)
{
	if (!q)
		return;
	workq_finish(q);
	free(q);
}
