/* lineblocks.c - the line-reading thread and its queue of blocks.
 * Memory: at most LB_QUEUE full blocks wait, plus the one being filled and
 * the one the caller reads: about 1.5 MiB, whatever the file size.  Each
 * line is copied once into its block, since the line source reuses its
 * window.  Errors: none of its own; ls_next's result is handed on. */
#include "lineblocks.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LB_TEXT (256 * 1024)	/* > LS_MAX_LINE: any line fits an empty block */
#define LB_LINES 2048
#define LB_QUEUE 4

struct block {
	char text[LB_TEXT];
	size_t ntext, n;
	struct lb_line line[LB_LINES];
};

struct lineblocks {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t ready, room;
	struct block *q[LB_QUEUE];
	unsigned head, len;
	bool done;
	struct block *spare[LB_QUEUE + 2];
	unsigned nspare;
	struct block *reading;	/* the caller's current block */
	struct linesrc *ls;
	struct syslog_ctx *ctx;
	unsigned long blank;
	int rc;
};

static struct block *get_spare(struct lineblocks *lb)
{
	pthread_mutex_lock(&lb->mu);
	struct block *b = lb->nspare ? lb->spare[--lb->nspare] : NULL;
	pthread_mutex_unlock(&lb->mu);
	if (!b)
		b = xmalloc(sizeof *b);
	b->ntext = b->n = 0;
	return b;
}

static void publish(struct lineblocks *lb, struct block *b, bool last, int rc)
{
	pthread_mutex_lock(&lb->mu);
	while (lb->len == LB_QUEUE)
		pthread_cond_wait(&lb->room, &lb->mu);
	lb->q[(lb->head + lb->len) % LB_QUEUE] = b;
	lb->len++;
	if (last) {
		lb->done = true;
		lb->rc = rc;
	}
	pthread_cond_signal(&lb->ready);
	pthread_mutex_unlock(&lb->mu);
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
			publish(lb, b, false, 0);
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
	publish(lb, b, true, rc);
	return NULL;
}

struct lineblocks *lb_start(struct linesrc *ls, struct syslog_ctx *ctx)
{
	struct lineblocks *lb = xcalloc(1, sizeof *lb);
	lb->ls = ls;
	lb->ctx = ctx;
	pthread_mutex_init(&lb->mu, NULL);
	pthread_cond_init(&lb->ready, NULL);
	pthread_cond_init(&lb->room, NULL);
	if (pthread_create(&lb->thread, NULL, run, lb) != 0) {
		pthread_mutex_destroy(&lb->mu);
		pthread_cond_destroy(&lb->ready);
		pthread_cond_destroy(&lb->room);
		free(lb);
		return NULL;
	}
	return lb;
}

bool lb_next(struct lineblocks *lb, const struct lb_line **v, size_t *n)
{
	pthread_mutex_lock(&lb->mu);
	if (lb->reading) {	/* hand the last block back */
		if (lb->nspare < sizeof lb->spare / sizeof lb->spare[0])
			lb->spare[lb->nspare++] = lb->reading;
		else
			free(lb->reading);
		lb->reading = NULL;
	}
	while (lb->len == 0 && !lb->done)
		pthread_cond_wait(&lb->ready, &lb->mu);
	if (lb->len == 0) {
		pthread_mutex_unlock(&lb->mu);
		return false;
	}
	struct block *b = lb->q[lb->head];
	lb->head = (lb->head + 1) % LB_QUEUE;
	lb->len--;
	pthread_cond_signal(&lb->room);
	pthread_mutex_unlock(&lb->mu);
	lb->reading = b;
	*v = b->line;
	*n = b->n;
	return true;
}

int lb_finish(struct lineblocks *lb, unsigned long *blank)
{
	pthread_join(lb->thread, NULL);
	int rc = lb->rc;
	*blank = lb->blank;
	free(lb->reading);
	for (unsigned i = 0; i < lb->nspare; i++)
		free(lb->spare[i]);
	for (unsigned i = 0; i < lb->len; i++)
		free(lb->q[(lb->head + i) % LB_QUEUE]);
	pthread_mutex_destroy(&lb->mu);
	pthread_cond_destroy(&lb->ready);
	pthread_cond_destroy(&lb->room);
	free(lb);
	return rc;
}
