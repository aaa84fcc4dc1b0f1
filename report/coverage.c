/* coverage.c - what the evidence covers, per log host (report/coverage.h). */
#include "coverage.h"
#include "../util/hashtab.h"
#include <stdlib.h>
#include <string.h>

#define GAPS_LISTED 20		/* gap ranges kept a host; their hours all counted */

struct epoch {
	time_t from, to;
	unsigned long deliveries, receipts, client_tls, server_tls;
};

struct hostcov {
	struct coverage_host pub;
	char *name;
	long base;			/* the hour bit 0 stands for */
	uint8_t *bits;
	size_t nhours;			/* hours the map spans */
	struct epoch ep[COVERAGE_EPOCHS];
	unsigned nep;
};

struct coverage {
	struct hashtab *ht;
	struct hostcov **v;
	size_t n, cap;
	struct hostcov other;		/* hosts past COVERAGE_HOSTS */
	struct buf last_key;
	struct hostcov *last;
	struct coverage_host *out;
};

struct coverage *coverage_new(void)
{
	struct coverage *c = xcalloc(1, sizeof *c);
	c->ht = ht_new();
	buf_init(&c->last_key);
	return c;
}

static void host_free(struct hostcov *h)
{
	free(h->bits);
	free(h->pub.gaps);
	free(h->pub.quiet);
	free(h->name);
}

void coverage_free(struct coverage *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		host_free(c->v[i]);
		free(c->v[i]);
	}
	host_free(&c->other);
	free(c->v);
	free(c->out);
	ht_free(c->ht, NULL);
	buf_free(&c->last_key);
	free(c);
}

static struct hostcov *host_of(struct coverage *c, struct span name)
{
	if (c->last && c->last_key.n == name.n && memcmp(c->last_key.p, name.p, name.n) == 0)
		return c->last;
	struct hostcov *h = ht_get(c->ht, name.p, name.n);
	if (!h && c->n >= COVERAGE_HOSTS)
		h = &c->other;
	if (!h) {
		h = xcalloc(1, sizeof *h);
		h->name = span_dup(name);
		ht_put(c->ht, h->name, name.n, h);
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 16;
			c->v = xrealloc(c->v, c->cap * sizeof *c->v);
		}
		c->v[c->n++] = h;
	}
	buf_reset(&c->last_key);
	buf_addspan(&c->last_key, name);
	c->last = h;
	return h;
}

/* Mark the hour; the map grows either way, up to COVERAGE_HOURS. */
static void mark_hour(struct hostcov *h, time_t ts)
{
	long hr = (long)(ts / 3600);
	if (!h->bits) {
		h->base = hr;
		h->nhours = 64;
		h->bits = xcalloc(h->nhours / 8, 1);
	}
	if (hr < h->base) {
		long shift = h->base - hr;
		size_t need = h->nhours + (size_t)shift;
		if (need > COVERAGE_HOURS) {
			h->pub.hours_cut = true;
			return;
		}
		need = (need + 63) & ~(size_t)63;
		uint8_t *nb = xcalloc(need / 8, 1);
		for (size_t i = 0; i < h->nhours; i++)
			if (h->bits[i / 8] & (1u << (i % 8))) {
				size_t j = i + (size_t)shift;
				nb[j / 8] |= (uint8_t)(1u << (j % 8));
			}
		free(h->bits);
		h->bits = nb;
		h->nhours = need;
		h->base = hr;
	}
	size_t i = (size_t)(hr - h->base);
	if (i >= h->nhours) {
		if (i >= COVERAGE_HOURS) {
			h->pub.hours_cut = true;
			return;
		}
		size_t need = h->nhours;
		while (need <= i)
			need *= 2;
		if (need > COVERAGE_HOURS)
			need = (COVERAGE_HOURS + 63) & ~(size_t)63;
		h->bits = xrealloc(h->bits, need / 8);
		memset(h->bits + h->nhours / 8, 0, (need - h->nhours) / 8);
		h->nhours = need;
	}
	h->bits[i / 8] |= (uint8_t)(1u << (i % 8));
}

static bool marked(const struct hostcov *h, long hr)
{
	if (!h->bits || hr < h->base || (size_t)(hr - h->base) >= h->nhours)
		return false;
	size_t i = (size_t)(hr - h->base);
	return h->bits[i / 8] & (1u << (i % 8));
}

/* A delivery over SMTP (not LMTP to a mailbox store), or a receipt over
 * SMTP: what TLS lines would accompany if TLS were logged. */
static bool smtp_delivery(const struct evidence *ev)
{
	return ev->kind == EV_TO && ev->peer_ip.n && !span_eq(ev->program, "lmtp");
}

void coverage_see(struct coverage *c, const struct evidence *ev)
{
	if (!ev->ts || !ev->host.n)
		return;
	struct hostcov *h = host_of(c, ev->host);
	struct coverage_host *p = &h->pub;
	if (!p->first || ev->ts < p->first)
		p->first = ev->ts;
	if (ev->ts > p->last)
		p->last = ev->ts;
	p->lines++;
	mark_hour(h, ev->ts);
	if (ev->kind == EV_RESTART || !h->nep) {
		if (ev->kind == EV_RESTART)
			p->restarts++;
		if (h->nep < COVERAGE_EPOCHS)
			h->nep++;	/* else the last one holds the rest */
		struct epoch *e = &h->ep[h->nep - 1];
		if (!e->from)
			e->from = ev->ts;
	}
	struct epoch *e = &h->ep[h->nep - 1];
	e->to = ev->ts;
	if (ev->kind == EV_TLS && ev->dir == DIR_OUT)
		e->client_tls++;
	else if (ev->kind == EV_TLS)
		e->server_tls++;
	else if (smtp_delivery(ev))
		e->deliveries++;
	else if (ev->kind == EV_CLIENT && ev->peer_ip.n)
		e->receipts++;
}

static void settle(struct hostcov *h, long p0, long p1)
{
	struct coverage_host *p = &h->pub;
	p->name = h->name;
	free(p->gaps);
	free(p->quiet);
	p->gaps = NULL;
	p->quiet = NULL;
	p->ngaps = p->nquiet = 0;
	p->gap_hours = 0;
	for (long hr = p0; hr <= p1;) {
		if (marked(h, hr)) {
			hr++;
			continue;
		}
		long from = hr;
		while (hr <= p1 && !marked(h, hr))
			hr++;
		p->gap_hours += (unsigned long)(hr - from);
		if (p->ngaps < GAPS_LISTED) {
			p->gaps = xrealloc(p->gaps, (p->ngaps + 1) * sizeof *p->gaps);
			p->gaps[p->ngaps++] = (struct coverage_gap){ (time_t)from * 3600,
								     (time_t)hr * 3600 };
		}
	}
	for (unsigned i = 0; i < h->nep; i++) {
		const struct epoch *e = &h->ep[i];
		bool cq = e->deliveries && !e->client_tls, sq = e->receipts && !e->server_tls;
		if (!cq && !sq)
			continue;
		p->quiet = xrealloc(p->quiet, (p->nquiet + 1) * sizeof *p->quiet);
		p->quiet[p->nquiet++] = (struct coverage_quiet){ e->from, e->to, e->deliveries,
								 e->receipts, cq, sq };
	}
}

static int cmp_host(const void *a, const void *b)
{
	const struct hostcov *x = *(struct hostcov *const *)a, *y = *(struct hostcov *const *)b;
	return strcmp(x->name, y->name);
}

const struct coverage_host *coverage_hosts(struct coverage *c, time_t since, time_t until,
					   size_t *n, time_t *first, time_t *last)
{
	if (c->n)
		qsort(c->v, c->n, sizeof *c->v, cmp_host);
	c->last = NULL;
	time_t a = 0, z = 0;
	for (size_t i = 0; i <= c->n; i++) {
		const struct coverage_host *p = i < c->n ? &c->v[i]->pub : &c->other.pub;
		if (!p->lines)
			continue;
		if (!a || p->first < a)
			a = p->first;
		if (p->last > z)
			z = p->last;
	}
	*first = a;
	*last = z;
	/* the period asked for (--since/--until), where given, is what must
	 * be covered: the hours before the first line and after the last are
	 * gaps too; bounded as the hour map is */
	long p0 = since ? (long)(since / 3600) : (long)(a / 3600);
	long p1 = until ? (long)((until - 1) / 3600) : (long)(z / 3600);
	if (p1 < p0)
		p1 = p0;
	if (p1 - p0 > COVERAGE_HOURS)
		p0 = p1 - COVERAGE_HOURS;
	size_t k = 0;
	free(c->out);
	c->out = xcalloc(c->n + 1, sizeof *c->out);
	for (size_t i = 0; i <= c->n; i++) {
		struct hostcov *h = i < c->n ? c->v[i] : &c->other;
		if (!h->pub.lines)
			continue;
		settle(h, p0, p1);
		c->out[k++] = h->pub;
	}
	*n = k;
	return c->out;
}
