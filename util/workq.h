/* workq.h - hand items, in order, to a function running on a second thread.
 * The producer batches items so a lock is taken once per batch, not per
 * item; the queue holds a bounded number of batches, so a slow consumer
 * slows the producer instead of letting memory grow.  Without a thread
 * (threaded = false) workq_push calls the function at once: the same code
 * serves both.  Items come back to the producer to be released. */
#ifndef TW_WORKQ_H
#define TW_WORKQ_H
#include <stdbool.h>

typedef void (*workq_fn)(void *item, void *arg);
typedef void (*workq_release_fn)(void *item);

struct workq;

/* release (may be NULL) runs on the producer's thread once fn is done with
 * an item: what the producer allocated, the producer frees, so the two
 * threads do not contend for one malloc arena.  NULL if the thread could
 * not be started (then use threaded = false). */
struct workq *workq_new(workq_fn fn, workq_release_fn release, void *arg, bool threaded);
/* Hand item over: fn(item, arg) runs later, after every earlier item. */
void workq_push(struct workq *q, void *item);
/* Wait until fn has run for every item pushed; stop the thread.  After it
 * the producer may touch what fn touched.  Safe to call more than once. */
void workq_finish(struct workq *q);
void workq_free(struct workq *q);	/* finishes first; NULL is a no-op */

#endif
