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
#include "../model/message_io.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The window's nodes, oldest first, in blocks of NODE_BLOCK: it grows and
 * shrinks by a block, never by copying (a doubled array held three times
 * the nodes live, 6 MB at a bench's peak), and a node stays where it is. */
#define NODE_BLOCK 512

struct paths {
	struct path_node **blk;		/* blk[i / NODE_BLOCK][i % NODE_BLOCK] */
	size_t nblk, blkcap;
	struct path_node *spare;	/* a block freed, kept for the next */
	size_t lo, hi;			/* the nodes held: index lo..hi-1 */
	long long base;			/* the id of index 0 */
	struct hashtab *by_qid, *by_mid;
	struct logclock clock;		/* of the completions seen */
	long long linked;		/* nodes below this id are linked */
	long long cursor;		/* ... and were considered as roots */
	unsigned walk;			/* the current walk's mark */
	unsigned long unwritten;	/* nodes that left in no written path */
	path_settled_fn settled;
	path_write_fn write;
	void *arg;
	struct buf pack;		/* scratch for packing a node */
};

struct paths *paths_new(path_settled_fn settled, path_write_fn write, void *arg)
{
	struct paths *p = xcalloc(1, sizeof *p);
	p->by_qid = ht_new();
	p->by_mid = ht_new();
	p->settled = settled;
	p->write = write;
	p->arg = arg;
	return p;
}

unsigned long paths_unwritten(const struct paths *p)
{
	return p->unwritten;
}

static struct path_node *node_at(const struct paths *p, size_t i)
{
	return &p->blk[i / NODE_BLOCK][i % NODE_BLOCK];
}

struct path_node *paths_node(struct paths *p, long long id)
{
	if (id < p->base + (long long)p->lo || id >= p->base + (long long)p->hi)
		return NULL;
	return node_at(p, (size_t)(id - p->base));
}

static void link_clear(struct path_link *l)
{
	free(l->tls_from);
	free(l->conflict);
}

void paths_server_name(const struct path_node *n, char *b, size_t bl)
{
	const struct path_key *k = &n->key;
	snprintf(b, bl, "%s%s%s", k->host ? k->host : "", k->instance ? "/" : "",
		 k->instance ? k->instance : "");
}

static struct path_tls tls_summary(const struct tls_state *t)
{
	return (struct path_tls){ t->used, t->version };
}

/* s copied to *at (NUL included), which moves past it; NULL stays NULL. */
static const char *put_str(char **at, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *d = memcpy(*at, s, n);
	*at += n;
	return d;
}

static size_t str_room(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* The key: its delivery keys first (aligned as malloc's block is), then
 * its strings, in one block. */
static void key_set(struct path_key *k, const struct message *m)
{
	const char *qid = message_arrival_qid(m);
	size_t total = m->ndl * sizeof *k->dl + str_room(m->host) + str_room(m->instance) +
		       str_room(qid) + str_room(m->message_id) + str_room(m->inbound.peer_ip);
	for (size_t i = 0; i < m->ndl; i++)
		total += str_room(m->dl[i].next_qid);
	k->mem = total ? xmalloc(total) : NULL;
	k->dl = m->ndl ? (struct path_dkey *)(void *)k->mem : NULL;
	char *at = k->mem + m->ndl * sizeof *k->dl;
	k->host = put_str(&at, m->host);
	k->instance = put_str(&at, m->instance);
	k->qid = put_str(&at, qid);
	k->message_id = put_str(&at, m->message_id);
	k->peer_ip = put_str(&at, m->inbound.peer_ip);
	for (size_t i = 0; i < m->ndl; i++) {
		const struct hop *d = &m->dl[i];
		k->dl[i] = (struct path_dkey){
			.next_qid = put_str(&at, d->next_qid),
			.ts = d->ts,
			.local = d->local,
			.sent = d->status && strcmp(d->status, "sent") == 0,
			.tls = tls_summary(&d->tls),
		};
	}
	k->first_seen = m->first_seen;
	k->ndl = m->ndl;
	k->has_inbound = m->has_inbound;
	k->inbound_local = m->inbound.local;
	k->in_tls = tls_summary(&m->inbound.tls);
}

/* Evidence keeps this run's file ids (msg_out without file_of). */
static void node_pack(struct paths *p, struct path_node *n, const struct message *m)
{
	p->pack.n = 0;
	struct msg_out o = { .b = &p->pack };
	message_save(&o, m);
	n->packed = xmalloc(p->pack.n ? p->pack.n : 1);
	memcpy(n->packed, p->pack.p, p->pack.n);
	n->npacked = p->pack.n;
}

static struct message *node_open(struct path_node *n)
{
	if (n->m)
		return n->m;
	struct ser_in r;
	ser_in_init(&r, n->packed, n->npacked);
	struct msg_in in = { .r = &r, .version = MSG_LAYOUT_VERSION };
	n->m = message_load(&in);
	if (!n->m) {	/* the bytes are this run's own: a bug, not bad input */
		fprintf(stderr, "tlswitness: internal error: a path node does not read back: %s\n",
			r.error ? r.error : "?");
		abort();
	}
	return n->m;
}

/* Back to packed after linking, unless its path is written (then it stays
 * open, judged) or it was never packed; changed: linking altered its facts. */
static void node_close(struct paths *p, struct path_node *n, bool changed)
{
	if (!n->m || !n->packed || n->written)
		return;
	if (changed) {
		free(n->packed);
		node_pack(p, n, n->m);
	}
	message_free(n->m);
	n->m = NULL;
}

static const char *tri_tls(const struct tls_state *t)
{
	return t->used == TRI_YES ? (t->version ? tls_version_name(t->version) : "TLS")
				  : "plaintext";
}

/* One end's view that the other may fill in: TLS use unknown, or used
 * with no version. */
static bool tls_weak(struct path_tls t)
{
	return t.used == TRI_UNKNOWN || (t.used == TRI_YES && !t.version);
}

/* Both ends know, and they disagree. */
static bool tls_conflict(struct path_tls s, struct path_tls r)
{
	return s.used != TRI_UNKNOWN && r.used != TRI_UNKNOWN &&
	       (s.used != r.used || (s.version && r.version && s.version != r.version));
}

/* Might wire_views alter either end?  Read from the keys alone: when both
 * ends' logs know and agree, neither node has to be opened. */
static bool views_to_wire(struct path_tls s, struct path_tls r)
{
	return tls_conflict(s, r) || tls_weak(s) || tls_weak(r);
}

/* A delivery d (with its link dl) of node a that reached node b (open):
 * the sender's and the receiver's view of one SMTP session.  Says which
 * ends' facts it altered. */
static void wire_views(struct path_node *a, struct hop *d, struct path_link *dl,
		       struct path_node *b, bool *a_changed, bool *b_changed)
{
	struct hop *in = &b->m->inbound;
	char an[300], bn[300], why[700];
	paths_server_name(a, an, sizeof an);
	paths_server_name(b, bn, sizeof bn);
	const struct tls_state *S = &d->tls, *R = &in->tls;
	if (tls_conflict(tls_summary(S), tls_summary(R))) {
		snprintf(why, sizeof why, "%s's log says %s, %s's log says %s", an, tri_tls(S),
			 bn, tri_tls(R));
		free(dl->conflict);
		free(b->in.conflict);
		dl->conflict = xstrdup(why);
		b->in.conflict = xstrdup(why);
		d->conflict = in->conflict = true;
		*a_changed = *b_changed = true;
		return;
	}
	if (tls_weak(tls_summary(S))) {
		if (tls_state_fill_session(&d->tls, R)) {
			snprintf(why, sizeof why, "%s's log (the receiving end)", bn);
			free(dl->tls_from);
			dl->tls_from = xstrdup(why);
			*a_changed = true;
		}
	} else if (tls_weak(tls_summary(R))) {
		if (tls_state_fill_session(&in->tls, S)) {
			*b_changed = true;
			snprintf(why, sizeof why, "%s's log (the sending end)", an);
			free(b->in.tls_from);
			b->in.tls_from = xstrdup(why);
		}
	}
}

static void settle(struct paths *p, bool final);
static void node_pop(struct paths *p, bool settle);

bool paths_add(struct paths *p, const struct message *m)
{
	bool capture = m->inbound.source == SRC_PCAP;
	if ((!capture && !m->qid) || (capture && !m->message_id))
		return false;
	if (p->hi == p->nblk * NODE_BLOCK) {
		if (p->nblk == p->blkcap) {
			p->blkcap = p->blkcap ? p->blkcap * 2 : 16;
			p->blk = xrealloc(p->blk, p->blkcap * sizeof *p->blk);
		}
		p->blk[p->nblk++] = p->spare ? p->spare : xmalloc(NODE_BLOCK * sizeof **p->blk);
		p->spare = NULL;
	}
	long long id = p->base + (long long)p->hi;
	struct path_node *n = node_at(p, p->hi++);
	memset(n, 0, sizeof *n);
	key_set(&n->key, m);
	if (m->header)	/* its Received clauses are not in message_save's bytes */
		n->m = message_copy_facts(m);
	else
		node_pack(p, n, m);
	n->last_seen = m->last_seen > m->first_seen ? m->last_seen : m->first_seen;
	n->capture = capture;
	n->next_node = -1;
	n->in.next = -1;
	n->out = xcalloc(m->ndl + 1, sizeof *n->out);
	for (size_t i = 0; i < m->ndl; i++) {
		n->out[i].next = -1;
		if (m->dl[i].ts > n->last_seen)
			n->last_seen = m->dl[i].ts;
	}
	if (!capture)
		idx_add(p->by_qid, n->key.qid, id);
	idx_add(p->by_mid, n->key.message_id, id);
	logclock_see(&p->clock, n->last_seen);
	n->added = p->clock.now;
	settle(p, false);
	return true;
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
		node_pop(p, false);
	for (size_t i = 0; i < p->nblk; i++)
		free(p->blk[i]);
	free(p->blk);
	free(p->spare);
	ht_free(p->by_qid, idlist_free);
	ht_free(p->by_mid, idlist_free);
	buf_free(&p->pack);
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
		const struct path_key *cm = &c->key, *fm = &from->key;
		if (other_server && strcmp(cm->host ? cm->host : "", fm->host ? fm->host : "") == 0 &&
		    strcmp(cm->instance ? cm->instance : "", fm->instance ? fm->instance : "") == 0)
			continue;
		/* a Message-ID link (a guess) only goes forward: to a copy that
		 * first appeared after this one (on a tie, completed after it),
		 * so links never close a loop - an LMTP delivery on the next
		 * server must not link back to the first server's queue file */
		if (other_server && (cm->first_seen < fm->first_seen ||
				     (cm->first_seen == fm->first_seen && (long long)l->v[i] < self)))
			continue;
		time_t d = cm->first_seen > ts ? cm->first_seen - ts : ts - cm->first_seen;
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
	const struct path_key *ak = &a->key;
	const struct idlist *l = idx_get(p->by_mid, ak->message_id);
	long long best = -1;
	for (size_t k = l ? l->lo : 0; l && k < l->n; k++) {
		struct path_node *b = paths_node(p, l->v[k]);
		if ((long long)l->v[k] == id || !b || b->written || !b->capture ||
		    !b->key.peer_ip || !ak->host || strcmp(b->key.peer_ip, ak->host) != 0)
			continue;
		/* Captures from different machines have different clocks
		 * (05a/05b in the corpus: 17 s): no order, only a window. */
		time_t bt = b->key.first_seen, at = ak->first_seen;
		time_t d = bt > at ? bt - at : at - bt;
		if (d > PATH_LINK_WINDOW)
			continue;
		if (best < 0 || bt < paths_node(p, best)->key.first_seen)
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
	bool a_changed = false;
	for (size_t k = 0; k < a->key.ndl; k++) {
		struct path_dkey *dk = &a->key.dl[k];
		struct path_link *dl = &a->out[k];
		size_t count;
		long long to = -1;
		dl->next = -1;
		if (dk->next_qid) {
			const struct idlist *l = idx_get(p->by_qid, dk->next_qid);
			to = nearest(p, l, id, a, dk->ts, false, &count);
			dl->how = "queue ID";
		} else if (a->key.message_id && !dk->local && dk->sent) {
			const struct idlist *l = idx_get(p->by_mid, a->key.message_id);
			to = nearest(p, l, id, a, dk->ts, true, &count);
			if (count != 1)
				to = -1;	/* several fit: no guess */
			dl->how = "Message-ID";
		}
		if (to < 0) {
			dl->how = NULL;
			continue;
		}
		struct path_node *b = paths_node(p, to);
		dl->next = to;
		b->reached = true;
		if (b->key.has_inbound && !b->capture && !dk->local && !b->key.inbound_local &&
		    views_to_wire(dk->tls, b->key.in_tls)) {
			bool b_changed = false;
			struct hop *d = &node_open(a)->dl[k];
			node_open(b);
			wire_views(a, d, dl, b, &a_changed, &b_changed);
			dk->tls = tls_summary(&d->tls);
			b->key.in_tls = tls_summary(&b->m->inbound.tls);
			node_close(p, b, b_changed);
		}
	}
	node_close(p, a, a_changed);
}

/* Are the path's nodes all linked (none can gain a link any more)?  With
 * mark, each node of a loop of links is seen once. */
static bool tree_linked(struct paths *p, long long id)
{
	struct path_node *n = paths_node(p, id);
	if (!n || n->mark == p->walk)
		return true;
	n->mark = p->walk;
	if (id >= p->linked)
		return false;
	for (size_t k = 0; k < n->key.ndl; k++)
		if (n->out[k].next >= 0 && !tree_linked(p, n->out[k].next))
			return false;
	return n->next_node < 0 || tree_linked(p, n->next_node);
}

/* Every node of a linked path: its facts are final; it is written now. */
static void tree_settle(struct paths *p, long long id)
{
	struct path_node *n = paths_node(p, id);
	if (!n || n->mark == p->walk)
		return;
	n->mark = p->walk;
	node_open(n);
	if (!n->written && p->settled)	/* (a node two paths reach: judged once) */
		p->settled(n, p->arg);
	n->written = true;
	for (size_t k = 0; k < n->key.ndl; k++)
		if (n->out[k].next >= 0)
			tree_settle(p, n->out[k].next);
	if (n->next_node >= 0)
		tree_settle(p, n->next_node);
}

/* The front node leaves; settle: one never written is settled first (a
 * loop of links no root reached). */
static void node_pop(struct paths *p, bool settle)
{
	struct path_node *n = node_at(p, p->lo);
	long long id = p->base + (long long)p->lo;
	if (!n->capture)
		idx_drop(p->by_qid, n->key.qid, id);
	idx_drop(p->by_mid, n->key.message_id, id);
	if (settle && !n->written) {
		p->unwritten++;	/* in no written path: counted, said on stderr */
		if (p->settled) {
			node_open(n);
			p->settled(n, p->arg);
		}
	}
	link_clear(&n->in);
	for (size_t k = 0; k < n->key.ndl; k++)
		link_clear(&n->out[k]);
	free(n->out);
	message_free(n->m);
	free(n->packed);
	free(n->key.mem);
	if (++p->lo == NODE_BLOCK) {	/* the first block is empty: it goes */
		free(p->spare);
		p->spare = p->blk[0];
		memmove(p->blk, p->blk + 1, --p->nblk * sizeof *p->blk);
		p->base += NODE_BLOCK;
		p->lo = 0;
		p->hi -= NODE_BLOCK;
	}
}

/* The time a node's wait to be linked and written is counted from: its
 * own stamp, or, while that is far ahead of the log's clock (logclock.h),
 * the clock's when it came, so a message stamped years ahead keeps no
 * later one waiting.  Once the clock follows (a real gap: a quiet night),
 * the node's own stamp counts again: the messages of the first minutes
 * after the gap must not be written before the next server's copies of
 * them are linked. */
static time_t node_time(const struct paths *p, const struct path_node *n)
{
	return n->last_seen <= p->clock.now + LOGCLOCK_JUMP ? n->last_seen : n->added;
}

/* Link the nodes that are old enough, write the paths that are complete,
 * free what was written from the front. */
static void settle(struct paths *p, bool final)
{
	long long end = p->base + (long long)p->hi;
	while (p->linked < end) {
		struct path_node *n = paths_node(p, p->linked);
		if (!final && p->clock.now <= node_time(p, n) + PATH_HOLD)
			break;
		link_node(p, p->linked);
		p->linked++;
	}
	while (p->cursor < p->linked) {
		if (p->cursor < p->base + (long long)p->lo) {
			p->cursor = p->base + (long long)p->lo;	/* written and gone */
			continue;
		}
		struct path_node *n = paths_node(p, p->cursor);
		if (!final && p->clock.now <= node_time(p, n) + 2 * PATH_HOLD)
			break;
		if (!n->reached && !n->written) {
			p->walk++;
			if (!final && !tree_linked(p, p->cursor))
				break;	/* a later node of it is not linked yet */
			p->walk++;
			tree_settle(p, p->cursor);
			p->write(p, n, p->arg);
			/* written nodes leave as they go: at the end the
			 * whole window is written, not all opened at once */
			while (p->lo < p->hi && node_at(p, p->lo)->written)
				node_pop(p, true);
		}
		p->cursor++;
	}
	/* Written nodes leave; at the end, so do loops of links no root
	 * reached (never written) */
	while (p->lo < p->hi && (node_at(p, p->lo)->written ||
				 (final && p->base + (long long)p->lo < p->cursor)))
		node_pop(p, true);
}

struct walk {
	struct paths *p;
	path_hop_fn fn;
	void *arg;
	size_t servers;
};

static void visit(struct walk *w, const struct path_node *n, const struct hop *h,
		  const struct path_link *l)
{
	if (w->fn)	/* NULL: only mark the path's nodes visited */
		w->fn(n, h, l, w->arg);
}

static void walk_node(struct walk *w, struct path_node *n, bool with_inbound)
{
	if (!n || n->visited)
		return;	/* a loop of links: each server once */
	n->visited = true;
	w->servers++;
	if (with_inbound && n->m->has_inbound)
		visit(w, n, &n->m->inbound, &n->in);
	for (size_t k = 0; k < n->m->ndl; k++) {
		visit(w, n, &n->m->dl[k], &n->out[k]);
		struct path_node *next = n->out[k].next >= 0 ? paths_node(w->p, n->out[k].next) : NULL;
		if (next) {
			if (next->m->has_inbound && !next->visited)
				visit(w, next, &next->m->inbound, &next->in);
			walk_node(w, next, false);
		}
	}
	struct path_node *next = n->next_node >= 0 ? paths_node(w->p, n->next_node) : NULL;
	if (next && !next->visited) {
		if (next->m->has_inbound)
			visit(w, next, &next->m->inbound, &next->in);
		walk_node(w, next, false);
	}
}

size_t paths_walk(struct paths *p, struct path_node *root, path_hop_fn fn, void *arg)
{
	struct walk w = { .p = p, .fn = fn, .arg = arg };
	walk_node(&w, root, true);
	return w.servers;
}
