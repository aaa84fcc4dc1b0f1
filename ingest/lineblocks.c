/* lineblocks.c - the line-reading thread and its queue of blocks.
 * Memory: at most LB_QUEUE full blocks wait, plus the one being filled and
 * the one the caller reads: six blocks of about 240 KiB (text and line
 * records), 1.4 MiB a log whatever its size; a thousand lines a block keep
 * the hand-offs rare and a join of several logs under its bound.  Each
 * line is copied once into its block, since the line source reuses its
 * window.  Errors: none of its own; ls_next's result is handed on. */
#include "lineblocks.h"
#include "../util/spsc.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LB_TEXT (128 * 1024)	/* > LS_MAX_LINE: any line fits an empty block */
#define LB_LINES 1024
#define LB_QUEUE 4

struct block {
	char text[LB_TEXT];
	size_t ntext, n;
	struct lb_line line[LB_LINES];
};

struct lineblocks {
	pthread_t thread;
	struct spsc *full;	/* blocks read, in order */
	struct spsc *spare;	/* blocks handed back, to fill again */
	struct block *reading;	/* the caller's current block */
	struct linesrc *ls;
	struct syslog_ctx *ctx;
	unsigned long blank;
	int rc;			/* set before full is closed */
};

static struct block *get_spare(struct lineblocks *lb)
{
	struct block *b = spsc_try_get(lb->spare);
	if (!b)
		b = xmalloc(sizeof *b);
	b->ntext = b->n = 0;
	return b;
}

static void *run(void *arg)
{
	struct lineblocks *lb = arg;
	struct block *b = get_spare(lb);
	struct span line;
	int rc;
	while ((rc = ls_next(lb->ls, &line)) == 1) {
		if (span_trim(line).n == 0) {
			lb->blank++;	/* blank lines carry nothing */
			continue;
		}
		if (b->n == LB_LINES || b->ntext + line.n > LB_TEXT) {
			spsc_put(lb->full, b);
			b = get_spare(lb);
		}
		char *copy = b->text + b->ntext;
		memcpy(copy, line.p, line.n);
		b->ntext += line.n;
		struct lb_line *l = &b->line[b->n++];
		l->raw = (struct span){ copy, line.n };
		l->lineno = ls_lineno(lb->ls);
		l->why = NULL;
		if (!syslog_parse(lb->ctx, l->raw, &l->rec, &l->why) && !l->why)
			l->why = "unreadable syslog envelope";
	}
	spsc_put(lb->full, b);
	lb->rc = rc;
	spsc_close(lb->full);
	return NULL;
}

struct lineblocks *lb_start(struct linesrc *ls, struct syslog_ctx *ctx)
{
	struct lineblocks *lb = xcalloc(1, sizeof *lb);
	lb->ls = ls;
	lb->ctx = ctx;
	lb->full = spsc_new(LB_QUEUE);
	lb->spare = spsc_new(LB_QUEUE);
	if (pthread_create(&lb->thread, NULL, run, lb) != 0) {
		spsc_free(lb->full);
		spsc_free(lb->spare);
		free(lb);
		return NULL;
	}
	return lb;
}

bool lb_next(struct lineblocks *lb, const struct lb_line **v, size_t *n)
{
	if (lb->reading && !spsc_try_put(lb->spare, lb->reading))
		free(lb->reading);	/* enough spares already */
	lb->reading = spsc_get(lb->full);
	if (!lb->reading)
		return false;
	*v = lb->reading->line;
	*n = lb->reading->n;
	return true;
}

int lb_finish(struct lineblocks *lb, unsigned long *blank)
{
	pthread_join(lb->thread, NULL);
	int rc = lb->rc;
	*blank = lb->blank;
	free(lb->reading);
	void *b;
	while ((b = spsc_try_get(lb->full)))
		free(b);
	while ((b = spsc_try_get(lb->spare)))
		free(b);
	spsc_free(lb->full);
	spsc_free(lb->spare);
	free(lb);
	return rc;
}
