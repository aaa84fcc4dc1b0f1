/* track_save.c - the tracker's open state written for the next run and
 * read back (--state; ARCHITECTURE.md "State between runs"): sessions,
 * delivering processes, open messages, hosts' configuration epochs, the
 * relays' last connections, the aliases, the messages waiting in the
 * output queue, and the counters that order them.  Each table is written
 * sorted by key, so the same state is the same bytes. */
#include "track_state.h"
#include "../model/message_io.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__)
_Static_assert(sizeof(struct conn) == 288, "struct conn changed: update track_save.c");
_Static_assert(sizeof(struct proc) == 712, "struct proc changed: update track_save.c");
_Static_assert(sizeof(struct session) == 352, "struct session changed: update track_save.c");
_Static_assert(sizeof(struct tracker) == 256, "struct tracker changed: update track_save.c");
#endif

#define TABLE_MAX 10000000

struct entry {
	const char *key;
	size_t klen;
	void *val;
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

static void collect(const char *key, size_t klen, void *val, void *arg)
{
	struct entries *e = arg;
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 64;
		e->v = xrealloc(e->v, e->cap * sizeof *e->v);
	}
	e->v[e->n++] = (struct entry){ key, klen, val };
}

static int cmp_key(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key, y->key, n);
	return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

static struct entries sorted(const struct hashtab *ht)
{
	struct entries e = { 0 };
	ht_foreach(ht, collect, &e);
	if (e.n)
		qsort(e.v, e.n, sizeof *e.v, cmp_key);
	return e;
}

static void conn_save(struct msg_out *o, const struct conn *c)
{
	struct buf *b = o->b;
	ser_bool(b, c->open);
	ser_bool(b, c->has_tls);
	ser_str(b, c->relay_name);
	ser_str(b, c->relay_ip);
	ser_i64(b, c->relay_port);
	tls_state_save(o, &c->tls);
	evref_save(o, c->tls_ev);
	ser_i64(b, c->tls_ts);
	ser_i64(b, c->tls_usec);
	ser_str(b, c->qid);
	ser_i64(b, c->conn_use);
	ser_i64(b, c->used);
	ser_u64(b, c->hs_fail_nep);
	evref_save(o, c->hs_fail_ev);
}

static void conn_load(struct msg_in *in, struct conn *c)
{
	struct ser_in *r = in->r;
	memset(c, 0, sizeof *c);
	c->open = ser_get_bool(r);
	c->has_tls = ser_get_bool(r);
	c->relay_name = ser_get_str(r);
	c->relay_ip = ser_get_str(r);
	c->relay_port = (int)ser_get_i64(r);
	tls_state_load(in, &c->tls);
	c->tls_ev = evref_load(in);
	c->tls_ts = (time_t)ser_get_i64(r);
	c->tls_usec = (long)ser_get_i64(r);
	c->qid = ser_get_str(r);
	c->conn_use = (int)ser_get_i64(r);
	c->used = (time_t)ser_get_i64(r);
	c->hs_fail_nep = (unsigned)ser_get_u64(r);
	c->hs_fail_ev = evref_load(in);
}

static void proc_save(struct msg_out *o, const struct proc *p)
{
	conn_save(o, &p->pending);
	conn_save(o, &p->cur);
	ser_bool(o->b, p->has_fail);
	ser_bool(o->b, p->fail_handshake);
	evref_save(o, p->fail_ev);
	ser_str(o->b, p->fail_text);
	ser_str(o->b, p->note.relay_ip);
	ser_u64(o->b, p->note.match);
	ser_u64(o->b, p->note.rpt);
	ser_str(o->b, p->note.rpt_failure);
	ser_u64(o->b, (uint64_t)p->note.nev);
	for (int i = 0; i < p->note.nev; i++)
		evref_save(o, p->note.ev[i]);
	ser_i64(o->b, p->last);
	ser_u64(o->b, p->touch);
}

static struct proc *proc_load(struct msg_in *in)
{
	struct proc *p = xcalloc(1, sizeof *p);
	conn_load(in, &p->pending);
	conn_load(in, &p->cur);
	p->has_fail = ser_get_bool(in->r);
	p->fail_handshake = ser_get_bool(in->r);
	p->fail_ev = evref_load(in);
	p->fail_text = ser_get_str(in->r);
	p->note.relay_ip = ser_get_str(in->r);
	p->note.match = (enum policy_match)ser_get_enum(in->r, PM_FINGERPRINT);
	p->note.rpt = (enum tlsrpt_result)ser_get_enum(in->r, TR_FAILURE);
	p->note.rpt_failure = ser_get_str(in->r);
	uint64_t nev = ser_get_u64(in->r);
	if (nev > POLICY_NOTE_EV)
		ser_fail(in->r, "a policy note lists too many lines");
	else
		p->note.nev = (int)nev;
	for (int i = 0; i < p->note.nev; i++)
		p->note.ev[i] = evref_load(in);
	p->last = (time_t)ser_get_i64(in->r);
	p->touch = (unsigned long)ser_get_u64(in->r);
	return p;
}

static void key_save(struct buf *b, const struct entry *e)
{
	ser_u64(b, e->klen);
	ser_bytes(b, e->key, e->klen);
}

static char *key_load(struct ser_in *r, size_t *klen)
{
	*klen = ser_get_count(r, TABLE_MAX);
	char *k = xmalloc(*klen + 1);
	ser_get_bytes(r, k, *klen);
	return k;
}

static void save_conn_entry(struct msg_out *o, const void *v) { conn_save(o, v); }
static void save_proc_entry(struct msg_out *o, const void *v) { proc_save(o, v); }

/* A table whose values save alone: its count, then key and value each. */
static void save_table(struct msg_out *o, const struct hashtab *ht,
		       void (*save)(struct msg_out *, const void *))
{
	struct entries e = sorted(ht);
	ser_u64(o->b, e.n);
	for (size_t i = 0; i < e.n; i++) {
		key_save(o->b, &e.v[i]);
		save(o, e.v[i].val);
	}
	free(e.v);
}

/* The open messages' places in the sorted table, by address: a session
 * lists its waiting messages by place, found by binary search (a linear
 * one would be quadratic in the open messages). */
struct placed {
	const void *m;
	uint64_t at;
};

static int cmp_placed(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct placed *)a)->m;
	uintptr_t y = (uintptr_t)((const struct placed *)b)->m;
	return (x > y) - (x < y);
}

static struct placed *places(const struct entries *msgs)
{
	struct placed *p = xcalloc(msgs->n + 1, sizeof *p);
	for (size_t i = 0; i < msgs->n; i++)
		p[i] = (struct placed){ msgs->v[i].val, i };
	if (msgs->n)
		qsort(p, msgs->n, sizeof *p, cmp_placed);
	return p;
}

static uint64_t msg_index(const struct placed *p, size_t n, const struct message *m)
{
	struct placed key = { m, 0 };
	const struct placed *hit = n ? bsearch(&key, p, n, sizeof *p, cmp_placed) : NULL;
	return hit ? hit->at : UINT64_MAX;	/* not open: cannot happen (trk_detach) */
}

void tracker_save(const struct tracker *t, struct msg_out *o)
{
	struct buf *b = o->b;
	ser_u64(b, t->seq);
	ser_i64(b, t->clock.now);
	ser_i64(b, t->clock.ahead);
	ser_u64(b, t->clock.nahead);
	ser_u64(b, t->fed);
	ser_i64(b, t->sweep_due);
	ser_u64(b, t->evicted);
	ser_u64(b, t->cut);
	size_t nclosed = 0;
	for (size_t i = 0; t->closed && i < CLOSED_KEPT; i++)
		nclosed += t->closed[i] != 0;
	ser_u64(b, nclosed);
	for (size_t i = 0; t->closed && i < CLOSED_KEPT; i++)
		if (t->closed[i]) {
			ser_u64(b, i);
			ser_u64(b, t->closed[i]);
		}

	struct entries e = sorted(t->hosts);
	ser_u64(b, e.n);
	for (size_t i = 0; i < e.n; i++) {
		const struct hostflags *h = e.v[i].val;
		key_save(b, &e.v[i]);
		ser_u64(b, h->nep);
		ser_bool(b, h->queue_seen);
		ser_bool(b, h->proxy_seen);	/* version 7 */
		unsigned kept = h->nep < EPOCHS_KEPT ? h->nep : EPOCHS_KEPT;
		for (unsigned k = h->nep - kept; k < h->nep; k++) {
			ser_bool(b, h->ep[k % EPOCHS_KEPT].client_tls_seen);
			ser_bool(b, h->ep[k % EPOCHS_KEPT].server_tls_seen);
			ser_bool(b, h->ep[k % EPOCHS_KEPT].lmtp_tls_seen);	/* version 7 */
		}
	}
	free(e.v);

	save_table(o, t->relays, save_conn_entry);
	save_table(o, t->procs, save_proc_entry);

	struct entries msgs = sorted(t->msgs);
	ser_u64(b, msgs.n);
	for (size_t i = 0; i < msgs.n; i++) {
		key_save(b, &msgs.v[i]);
		message_save(o, msgs.v[i].val);
	}
	struct placed *pl = places(&msgs);

	e = sorted(t->sessions);
	ser_u64(b, e.n);
	for (size_t i = 0; i < e.n; i++) {
		const struct session *s = e.v[i].val;
		key_save(b, &e.v[i]);
		ser_str(b, s->peer_host);
		ser_str(b, s->peer_ip);
		ser_bool(b, s->has_connect);
		ser_bool(b, s->has_tls);
		ser_bool(b, s->tls_failed);
		ser_bool(b, s->has_auth);
		evref_save(o, s->connect_ev);
		evref_save(o, s->tls_ev);
		evref_save(o, s->fail_ev);
		evref_save(o, s->auth_ev);
		ser_str(b, s->sasl_method);
		ser_str(b, s->sasl_username);
		ser_i64(b, s->connect_ts);
		ser_i64(b, s->connect_usec);
		tls_state_save(o, &s->tls);
		ser_u64(b, s->nw);
		for (size_t w = 0; w < s->nw; w++)
			ser_u64(b, msg_index(pl, msgs.n, s->waiting[w]));
		ser_i64(b, s->last);
		ser_u64(b, s->touch);
	}
	free(e.v);
	free(msgs.v);
	free(pl);

	e = sorted(t->aliases);
	ser_u64(b, e.n);
	for (size_t i = 0; i < e.n; i++) {
		const struct alias *a = e.v[i].val;
		key_save(b, &e.v[i]);
		ser_str(b, a->host);
		ser_i64(b, a->ts);
	}
	free(e.v);

	/* The held messages first (they completed before the queue's): the
	 * next run's flush takes them out again while they wait. */
	ser_u64(b, t->held.len + t->q.len);
	for (size_t i = 0; i < t->held.len; i++)
		message_save(o, ring_at(&t->held, i));
	for (size_t i = 0; i < t->q.len; i++)
		message_save(o, ring_at(&t->q, i));
}

/* What the tracker holds of a message before it leaves: no attempts
 * regrouped (fates.c comes after), no verdict (the policy after that). */
static bool open_message_ok(const struct message *m)
{
	if (!m->host || !m->instance || !m->qid || m->inbound.ntries || m->header || m->verdict)
		return false;
	for (size_t i = 0; i < m->ndl; i++)
		if (m->dl[i].ntries)
			return false;
	return !(m->filter_hop && m->filter_hop->ntries) &&
	       !(m->filter_return && m->filter_return->ntries);
}

static struct message *open_message_load(struct msg_in *in)
{
	struct message *m = message_load(in);
	if (m && !open_message_ok(m)) {
		ser_fail(in->r, "an open message holds what only a finished one has");
		message_free(m);
		return NULL;
	}
	return m;
}

bool tracker_load(struct tracker *t, struct msg_in *in)
{
	struct ser_in *r = in->r;
	t->seq = ser_get_u64(r);
	t->clock.now = (time_t)ser_get_i64(r);
	t->clock.ahead = (time_t)ser_get_i64(r);
	t->clock.nahead = (unsigned)ser_get_u64(r);
	t->fed = (unsigned long)ser_get_u64(r);
	t->sweep_due = (time_t)ser_get_i64(r);
	t->evicted = (unsigned long)ser_get_u64(r);
	t->cut = (unsigned long)ser_get_u64(r);
	size_t nclosed = ser_get_count(r, CLOSED_KEPT);
	if (nclosed && !t->closed)
		t->closed = xcalloc(CLOSED_KEPT, sizeof *t->closed);
	for (size_t i = 0; i < nclosed && !r->error; i++) {
		uint64_t at = ser_get_u64(r), v = ser_get_u64(r);
		if (at >= CLOSED_KEPT)
			ser_fail(r, "a closed session's slot is out of range");
		else
			t->closed[at] = v;
	}

	size_t klen, n = ser_get_count(r, TABLE_MAX);
	for (size_t i = 0; i < n && !r->error; i++) {
		char *k = key_load(r, &klen);
		struct hostflags *h = xcalloc(1, sizeof *h);
		h->nep = (unsigned)ser_get_u64(r);
		h->queue_seen = ser_get_bool(r);
		if (in->version >= 7)
			h->proxy_seen = ser_get_bool(r);
		if (!h->nep)
			ser_fail(r, "a host has no configuration epoch");
		unsigned kept = h->nep < EPOCHS_KEPT ? h->nep : EPOCHS_KEPT;
		for (unsigned e = h->nep - kept; e < h->nep && !r->error; e++) {
			h->ep[e % EPOCHS_KEPT].client_tls_seen = ser_get_bool(r);
			h->ep[e % EPOCHS_KEPT].server_tls_seen = ser_get_bool(r);
			if (in->version >= 7)
				h->ep[e % EPOCHS_KEPT].lmtp_tls_seen = ser_get_bool(r);
		}
		free(ht_put(t->hosts, k, klen, h));
		free(k);
	}

	n = ser_get_count(r, TABLE_MAX);
	for (size_t i = 0; i < n && !r->error; i++) {
		char *k = key_load(r, &klen);
		struct conn *c = xcalloc(1, sizeof *c);
		conn_load(in, c);
		struct conn *old = ht_put(t->relays, k, klen, c);
		if (old) {
			trk_conn_clear(old);
			free(old);
		}
		free(k);
	}

	n = ser_get_count(r, TABLE_MAX);
	for (size_t i = 0; i < n && !r->error; i++) {
		char *k = key_load(r, &klen);
		struct proc *old = ht_put(t->procs, k, klen, proc_load(in));
		if (old)
			trk_proc_free(old);
		free(k);
	}

	size_t nmsgs = ser_get_count(r, TABLE_MAX);
	struct message **msgs = xcalloc(nmsgs + 1, sizeof *msgs);
	for (size_t i = 0; i < nmsgs && !r->error; i++) {
		free(key_load(r, &klen));
		struct message *m = open_message_load(in);
		if (!m)
			break;
		/* the table's key is the message's own (trk_complete finds it
		 * by its fields), whatever the file says */
		const char *k = trk_key3(t, span_from(m->host), span_from(m->instance),
					 span_from(m->qid), &klen);
		if (ht_get(t->msgs, k, klen)) {
			ser_fail(r, "two open messages with one queue ID");
			message_free(m);
			break;
		}
		msgs[i] = m;
		ht_put(t->msgs, k, klen, m);
	}

	n = ser_get_count(r, TABLE_MAX);
	for (size_t i = 0; i < n && !r->error; i++) {
		char *k = key_load(r, &klen);
		struct session *s = xcalloc(1, sizeof *s);
		s->peer_host = ser_get_str(r);
		s->peer_ip = ser_get_str(r);
		s->has_connect = ser_get_bool(r);
		s->has_tls = ser_get_bool(r);
		s->tls_failed = ser_get_bool(r);
		s->has_auth = ser_get_bool(r);
		s->connect_ev = evref_load(in);
		s->tls_ev = evref_load(in);
		s->fail_ev = evref_load(in);
		s->auth_ev = evref_load(in);
		s->sasl_method = ser_get_str(r);
		s->sasl_username = ser_get_str(r);
		s->connect_ts = (time_t)ser_get_i64(r);
		s->connect_usec = (long)ser_get_i64(r);
		tls_state_load(in, &s->tls);
		size_t nw = ser_get_count(r, TABLE_MAX);
		if (nw) {
			s->waiting = xcalloc(nw, sizeof *s->waiting);
			s->capw = nw;
		}
		for (size_t w = 0; w < nw && !r->error; w++) {
			uint64_t at = ser_get_u64(r);
			if (at >= nmsgs || !msgs[at] || (msgs[at]->session && msgs[at]->session != s)) {
				ser_fail(r, "a session waits for a message that is not open");
				break;
			}
			s->waiting[s->nw++] = msgs[at];
			msgs[at]->session = s;
			msgs[at]->waiting++;
		}
		s->last = (time_t)ser_get_i64(r);
		s->touch = (unsigned long)ser_get_u64(r);
		struct session *old = ht_put(t->sessions, k, klen, s);
		if (old)
			trk_session_free(old);
		free(k);
	}
	free(msgs);

	n = ser_get_count(r, TABLE_MAX);
	for (size_t i = 0; i < n && !r->error; i++) {
		char *k = key_load(r, &klen);
		struct alias *a = xcalloc(1, sizeof *a);
		a->host = ser_get_str(r);
		a->ts = (time_t)ser_get_i64(r);
		void *old = ht_put(t->aliases, k, klen, a);
		if (old)
			trk_alias_free(old);
		free(k);
	}

	n = ser_get_count(r, TABLE_MAX);
	for (size_t i = 0; i < n && !r->error; i++) {
		struct message *m = open_message_load(in);
		if (!m)
			break;
		ring_push(&t->q, m);
	}
	return !r->error;
}
