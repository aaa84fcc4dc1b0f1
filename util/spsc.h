/* spsc.h - a bounded queue of pointers between two threads, one putting,
 * one getting, in order.  The three hand-offs of the pipeline (a capture's
 * decoded chunks, a log's line blocks, the messages to write) are built
 * on it. */
#ifndef TW_SPSC_H
#define TW_SPSC_H
#include <stdbool.h>
#include <stddef.h>

struct spsc;

struct spsc *spsc_new(size_t capacity);
/* Wait for room, then queue p; false (p not queued) once closed. */
bool spsc_put(struct spsc *q, void *p);
/* Queue p if there is room now. */
bool spsc_try_put(struct spsc *q, void *p);
/* Wait for an item; NULL once closed and drained. */
void *spsc_get(struct spsc *q);
/* An item if one is there now, else NULL. */
void *spsc_try_get(struct spsc *q);
/* No more puts: a waiting get or put returns.  Items queued stay. */
void spsc_close(struct spsc *q);
void spsc_free(struct spsc *q);	/* the items are the caller's */

#endif
