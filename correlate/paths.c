/* paths.c - link messages across servers (see paths.h).  A queue ID names
 * a message only for a while (short IDs repeat), so a link also needs the
 * next message to have arrived within PATH_LINK_WINDOW seconds of the
 * delivery; of several, the nearest in time wins.  Nodes live in a window
 * v[lo .. hi) with ids base+lo ..; they leave from the front once their
 * path is written. */
#include "paths.h"
#include "../util/hashtab.h"
#include "../util/idlist.h"
#include "../util/logclock.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct paths {
	struct path_node *v;
	size_t lo, hi, cap;
	long long base;
	struct hashtab *by_qid, *by_mid;
	struct logclock clock;		/* of the completions seen */
	long long linked;		/* nodes below this id are linked */
	long long cursor;		/* ... and were considered as roots */
	unsigned walk;			/* the current walk's mark */
	path_judge_fn judge;
	void *judge_arg;
	path_write_fn write;
	void *write_arg;
};

struct paths *paths_new(path_judge_fn judge, void *judge_arg, path_write_fn write,
			void *write_arg)
{
	struct paths *p = xcalloc(1, sizeof *p);
	p->by_qid = ht_new();
	p->by_mid = ht_new();
	p->judge = judge;
	p->judge_arg = judge_arg;
	p->write = write;
	p->write_arg = write_arg;
	return p;
}

struct path_node *paths_node(struct paths *p, long long id)
{
	if (id < p->base + (long long)p->lo || id >= p->base + (long long)p->hi)
		return NULL;
	return &p->v[id - p->base];
}

static void hop_copy(struct path_hop *d, const struct hop *h)
{
	memset(d, 0, sizeof *d);
	d->dir = h->dir;
	d->peer_host = xstrdup_or_null(h->peer_host);
	d->peer_ip = xstrdup_or_null(h->peer_ip);
	d->rcpt = xstrdup_or_null(h->rcpt);
	d->status = xstrdup_or_null(h->status);
	d->next_qid = xstrdup_or_null(h->next_qid);
	d->peer_port = h->peer_port;
	d->network = h->network;
	d->local = h->local;
	tls_state_init(&d->tls);
	tls_state_copy(&d->tls, &h->tls);
	d->verdict = h->verdict;
	d->severity = h->severity;
	d->rule = h->rule;
	d->ts = h->ts;
	d->next = -1;
}

static void hop_clear(struct path_hop *h)
{
	free(h->peer_host);
	free(h->peer_ip);
	free(h->rcpt);
	free(h->status);
	free(h->next_qid);
	free(h->tls_from);
	free(h->conflict);
	tls_state_free(&h->tls);
}

void paths_server_name(const struct path_node *n, char *b, size_t bl)
{
	snprintf(b, bl, "%s%s%s", n->host ? n->host : "", n->instance ? "/" : "",
		 n->instance ? n->instance : "");
}

/* The policy sees a path hop as a hop of a message made of the node. */
static void judge_again(const struct path_node *n, struct path_hop *ph, path_judge_fn judge,
			void *arg)
{
	if (!judge)
		return;
	struct message m;
	memset(&m, 0, sizeof m);
	m.host = n->host;
	m.instance = n->instance;
	m.qid = n->qid;
	m.message_id = n->message_id;
	m.from = n->from;
	m.has_inbound = n->has_inbound;
	hop_init(&m.inbound, DIR_IN);
	struct hop h;
	hop_init(&h, ph->dir);
	h.peer_host = ph->peer_host;
	h.peer_ip = ph->peer_ip;
	h.peer_port = ph->peer_port;
	h.rcpt = ph->rcpt;
	h.status = ph->status;
	h.next_qid = ph->next_qid;
	h.local = ph->local;
	h.network = ph->network;
	h.source = SRC_LOG;
	h.conflict = ph->conflict != NULL;
	h.tls = ph->tls;
	h.ts = ph->ts;
	judge(&m, &h, arg);
	ph->verdict = h.verdict;
	ph->severity = h.severity;
	ph->rule = h.rule;
	free(h.explain);
	tls_state_free(&m.inbound.tls);
}

static const char *tri_tls(const struct tls_state *t)
{
	return t->used == TRI_YES ? (t->version ? tls_version_name(t->version) : "TLS")
				  : "plaintext";
}

/* A delivery d of node a that reached node b: the sender's and the
 * receiver's view of one SMTP session. */
static void wire_views(struct path_node *a, struct path_hop *d, struct path_node *b,
		       path_judge_fn judge, void *arg)
{
	if (!b->has_inbound || b->capture || d->local || b->in.local)
		return;
	struct path_hop *in = &b->in;
	char an[300], bn[300], why[700];
	paths_server_name(a, an, sizeof an);
	paths_server_name(b, bn, sizeof bn);
	const struct tls_state *S = &d->tls, *R = &in->tls;
	if (S->used != TRI_UNKNOWN && R->used != TRI_UNKNOWN &&
	    (S->used != R->used || (S->version && R->version && S->version != R->version))) {
		snprintf(why, sizeof why, "%s's log says %s, %s's log says %s", an, tri_tls(S),
			 bn, tri_tls(R));
		free(d->conflict);
		free(in->conflict);
		d->conflict = xstrdup(why);
		in->conflict = xstrdup(why);
		judge_again(a, d, judge, arg);
		judge_again(b, in, judge, arg);
		return;
	}
	if (S->used == TRI_UNKNOWN || (S->used == TRI_YES && !S->version)) {
		if (tls_state_fill_session(&d->tls, R)) {
			snprintf(why, sizeof why, "%s's log (the receiving end)", bn);
			free(d->tls_from);
			d->tls_from = xstrdup(why);
			judge_again(a, d, judge, arg);
		}
	} else if (R->used == TRI_UNKNOWN || (R->used == TRI_YES && !R->version)) {
		if (tls_state_fill_session(&in->tls, S)) {
			snprintf(why, sizeof why, "%s's log (the sending end)", an);
			free(in->tls_from);
			in->tls_from = xstrdup(why);
			judge_again(b, in, judge, arg);
		}
	}
}

static void settle(struct paths *p, bool final);
static void node_pop(struct paths *p);

void paths_add(struct paths *p, const struct message *m)
{
	bool capture = m->inbound.source == SRC_PCAP;
	if ((!capture && !m->qid) || (capture && !m->message_id))
		return;
	if (p->hi == p->cap) {
		if (p->lo > p->hi / 2) {
			memmove(p->v, p->v + p->lo, (p->hi - p->lo) * sizeof *p->v);
			p->base += (long long)p->lo;
			p->hi -= p->lo;
			p->lo = 0;
		} else {
			p->cap = p->cap ? p->cap * 2 : 64;
			p->v = xrealloc(p->v, p->cap * sizeof *p->v);
		}
	}
	long long id = p->base + (long long)p->hi;
	struct path_node *n = &p->v[p->hi++];
	memset(n, 0, sizeof *n);
	n->host = xstrdup_or_null(m->host);
	n->instance = xstrdup_or_null(m->instance);
	n->qid = xstrdup_or_null(m->qid);
	n->message_id = xstrdup_or_null(m->message_id);
	n->from = xstrdup_or_null(m->from);
	n->first_seen = m->first_seen;
	n->last_seen = m->last_seen > m->first_seen ? m->last_seen : m->first_seen;
	n->capture = capture;
	n->next_node = -1;
	n->has_inbound = m->has_inbound;
	if (m->has_inbound)
		hop_copy(&n->in, &m->inbound);
	n->out = xcalloc(m->ndl + 1, sizeof *n->out);
	n->nout = m->ndl;
	for (size_t i = 0; i < m->ndl; i++) {
		hop_copy(&n->out[i], &m->dl[i]);
		if (m->dl[i].ts > n->last_seen)
			n->last_seen = m->dl[i].ts;
	}
	if (!capture)
		idx_add(p->by_qid, m->qid, id);
	idx_add(p->by_mid, m->message_id, id);
	logclock_see(&p->clock, n->last_seen);
	/* its time to be linked and written is the log's clock's at most: a
	 * message stamped years ahead must not keep every later one waiting */
	if (n->last_seen > p->clock.now)
		n->last_seen = p->clock.now;
	settle(p, false);
}

void paths_finish(struct paths *p)
{
	settle(p, true);
}

void paths_free(struct paths *p)
{
	if (!p)
		return;
	while (p->lo < p->hi)
		node_pop(p);
	free(p->v);
	ht_free(p->by_qid, idlist_free);
	ht_free(p->by_mid, idlist_free);
	free(p);
}

static long long nearest(struct paths *p, const struct idlist *l, long long self,
			 const struct path_node *from, time_t ts, bool other_server, size_t *count)
{
	long long best = -1;
	time_t bestd = 0;
	*count = 0;
	for (size_t i = l ? l->lo : 0; l && i < l->n; i++) {
		const struct path_node *c = paths_node(p, l->v[i]);
		if ((long long)l->v[i] == self || !c || c->written)
			continue;	/* written: too late to join its path */
		if (other_server && strcmp(c->host ? c->host : "", from->host ? from->host : "") == 0 &&
		    strcmp(c->instance ? c->instance : "", from->instance ? from->instance : "") == 0)
			continue;
		time_t d = c->first_seen > ts ? c->first_seen - ts : ts - c->first_seen;
		if (d > PATH_LINK_WINDOW)
			continue;
		(*count)++;
		if (best < 0 || d < bestd) {
			best = l->v[i];
			bestd = d;
		}
	}
	return best;
}

/* Captures have no deliveries: a relay chain shows as the next session
 * of the same Message-ID coming from this session's server. */
static void link_capture(struct paths *p, long long id)
{
	struct path_node *a = paths_node(p, id);
	const struct idlist *l = idx_get(p->by_mid, a->message_id);
	long long best = -1;
	for (size_t k = l ? l->lo : 0; l && k < l->n; k++) {
		struct path_node *b = paths_node(p, l->v[k]);
		if ((long long)l->v[k] == id || !b || b->written || !b->capture || !b->in.peer_ip || !a->host ||
		    strcmp(b->in.peer_ip, a->host) != 0)
			continue;
		/* Captures from different machines have different clocks
		 * (05a/05b in the corpus: 17 s): no order, only a window. */
		time_t d = b->first_seen > a->first_seen ? b->first_seen - a->first_seen
							 : a->first_seen - b->first_seen;
		if (d > PATH_LINK_WINDOW)
			continue;
		if (best < 0 || b->first_seen < paths_node(p, best)->first_seen)
			best = l->v[k];
	}
	if (best >= 0) {
		a->next_node = best;
		paths_node(p, best)->reached = true;
	}
}

static void link_node(struct paths *p, long long id)
{
	struct path_node *a = paths_node(p, id);
	if (a->capture) {
		link_capture(p, id);
		return;
	}
	for (size_t k = 0; k < a->nout; k++) {
		struct path_hop *d = &a->out[k];
		size_t count;
		long long to = -1;
		d->next = -1;
		if (d->next_qid) {
			const struct idlist *l = idx_get(p->by_qid, d->next_qid);
			to = nearest(p, l, id, a, d->ts, false, &count);
			d->link = "queue ID";
		} else if (a->message_id && !d->local && d->status &&
			   strcmp(d->status, "sent") == 0) {
			const struct idlist *l = idx_get(p->by_mid, a->message_id);
			to = nearest(p, l, id, a, d->ts, true, &count);
			if (count != 1)
				to = -1;	/* several fit: no guess */
			d->link = "Message-ID";
		}
		if (to >= 0) {
			d->next = to;
			paths_node(p, to)->reached = true;
			wire_views(a, d, paths_node(p, to), p->judge, p->judge_arg);
		} else {
			d->link = NULL;
		}
	}
}

/* Are the path's nodes all linked (none can gain a link any more)?  With
 * mark, each node of a loop of links is seen once. */
static bool tree_linked(struct paths *p, long long id, bool set_written)
{
	struct path_node *n = paths_node(p, id);
	if (!n || n->mark == p->walk)
		return true;
	n->mark = p->walk;
	if (set_written)
		n->written = true;
	else if (id >= p->linked)
		return false;
	for (size_t k = 0; k < n->nout; k++)
		if (n->out[k].next >= 0 && !tree_linked(p, n->out[k].next, set_written))
			return false;
	return n->next_node < 0 || tree_linked(p, n->next_node, set_written);
}

static void node_pop(struct paths *p)
{
	struct path_node *n = &p->v[p->lo];
	long long id = p->base + (long long)p->lo;
	if (!n->capture)
		idx_drop(p->by_qid, n->qid, id);
	idx_drop(p->by_mid, n->message_id, id);
	free(n->host);
	free(n->instance);
	free(n->qid);
	free(n->message_id);
	free(n->from);
	if (n->has_inbound)
		hop_clear(&n->in);
	for (size_t k = 0; k < n->nout; k++)
		hop_clear(&n->out[k]);
	free(n->out);
	if (++p->lo == p->hi) {
		p->base += (long long)p->hi;
		p->lo = p->hi = 0;
	}
}

/* Link the nodes that are old enough, write the paths that are complete,
 * free what was written from the front. */
static void settle(struct paths *p, bool final)
{
	long long end = p->base + (long long)p->hi;
	while (p->linked < end) {
		struct path_node *n = paths_node(p, p->linked);
		if (!final && p->clock.now <= n->last_seen + PATH_HOLD)
			break;
		link_node(p, p->linked);
		p->linked++;
	}
	while (p->cursor < p->linked) {
		struct path_node *n = paths_node(p, p->cursor);
		if (!final && p->clock.now <= n->last_seen + 2 * PATH_HOLD)
			break;
		if (!n->reached && !n->written) {
			p->walk++;
			if (!final && !tree_linked(p, p->cursor, false))
				break;	/* a later node of it is not linked yet */
			p->write(p, n, p->write_arg);
			p->walk++;
			tree_linked(p, p->cursor, true);
		}
		p->cursor++;
	}
	/* Written nodes leave; at the end, so do loops of links no root
	 * reached (never written) */
	while (p->lo < p->hi && (p->v[p->lo].written ||
				 (final && p->base + (long long)p->lo < p->cursor)))
		node_pop(p);
}

