/* track_state.c - the tracker's small state: a host's configuration
 * epochs, the keys of its tables, delivering connections and processes,
 * open messages (correlate/track_state.h). */
#include "track_state.h"
#include "../util/addr.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct epoch_flags *trk_epoch_at(struct hostflags *h, unsigned e)
{
	if (e >= h->nep)
		e = h->nep - 1;
	if (h->nep > EPOCHS_KEPT && e < h->nep - EPOCHS_KEPT)
		e = h->nep - EPOCHS_KEPT;
	return &h->ep[e % EPOCHS_KEPT];
}

struct epoch_flags *trk_cur_epoch(struct hostflags *h)
{
	return trk_epoch_at(h, h->nep - 1);
}

void trk_new_epoch(struct hostflags *h)
{
	h->ep[h->nep % EPOCHS_KEPT] = (struct epoch_flags){ 0 };
	h->nep++;
}

void trk_hostflags_free(void *p)
{
	xfree(p);
}

/* ---- keys ------------------------------------------------------------- */

/* A few times a line: room made once, the parts copied straight in. */
const char *trk_key3(struct tracker *t, struct span a, struct span b,
			struct span c, size_t *len)
{
	size_t n = a.n + b.n + c.n + 2;
	t->key.n = 0;
	buf_reserve(&t->key, n);
	char *p = t->key.p;
	if (a.n)
		memcpy(p, a.p, a.n);
	p += a.n;
	*p++ = '\0';
	if (b.n)
		memcpy(p, b.p, b.n);
	p += b.n;
	*p++ = '\0';
	if (c.n)
		memcpy(p, c.p, c.n);
	p[c.n] = '\0';
	t->key.n = n;
	*len = n;
	return t->key.p;
}

/* The binary value is as unique as its digits and costs no formatting. */
const char *trk_pid_key(struct tracker *t, const struct evidence *ev, size_t *len)
{
	return trk_key3(t, ev->host, ev->instance,
		    (struct span){ (const char *)&ev->pid, sizeof ev->pid }, len);
}

/* A relay's address and port on one host: the connection cache's key. */
const char *trk_relay_key(struct tracker *t, const struct evidence *ev, size_t *len)
{
	trk_key3(t, ev->host, ev->instance, ev->peer_ip, len);
	buf_addc(&t->key, '\0');
	buf_add(&t->key, &ev->peer_port, sizeof ev->peer_port);
	*len = t->key.n;
	return t->key.p;
}

struct evref trk_ref_of(const struct evidence *ev)
{
	return (struct evref){ ev->file_id, ev->line, false };
}

/* ---- small state objects ------------------------------------------------ */

void trk_conn_clear(struct conn *c)
{
	xfree(c->relay_name);
	xfree(c->relay_ip);
	xfree(c->qid);
	tls_state_free(&c->tls);
	memset(c, 0, sizeof *c);
	tls_state_init(&c->tls);
}

void trk_conn_copy(struct conn *dst, const struct conn *src)
{
	unsigned nep = dst->hs_fail_nep;	/* the relay entry's own memory */
	struct evref fev = dst->hs_fail_ev;
	trk_conn_clear(dst);
	dst->hs_fail_nep = nep;
	dst->hs_fail_ev = fev;
	dst->open = src->open;
	dst->has_tls = src->has_tls;
	dst->relay_name = xstrdup_or_null(src->relay_name);
	dst->relay_ip = xstrdup_or_null(src->relay_ip);
	dst->relay_port = src->relay_port;
	tls_state_copy(&dst->tls, &src->tls);
	dst->tls_ev = src->tls_ev;
	dst->tls_ts = src->tls_ts;
	dst->tls_usec = src->tls_usec;
	dst->qid = xstrdup_or_null(src->qid);
	dst->conn_use = src->conn_use;
}

/* dst takes over src's strings; src is left empty.  The pending TLS line
 * becomes the current connection this way, with nothing copied. */
void trk_conn_move(struct conn *dst, struct conn *src)
{
	trk_conn_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof *src);
	tls_state_init(&src->tls);
}

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The same connection as far as the relay cache is concerned: its TLS line
 * (which fixes the TLS facts) and its relay.  Queue ID and conn_use are
 * taken from each delivery, not from the cache. */
bool trk_conn_same(const struct conn *a, const struct conn *b)
{
	return a->open == b->open && a->has_tls == b->has_tls &&
	       a->tls_ev.file_id == b->tls_ev.file_id && a->tls_ev.line == b->tls_ev.line &&
	       a->tls_ev.frame == b->tls_ev.frame && a->relay_port == b->relay_port &&
	       str_same(a->relay_name, b->relay_name) && str_same(a->relay_ip, b->relay_ip);
}

void trk_note_clear(struct policy_note *n)
{
	xfree(n->relay_ip);
	xfree(n->rpt_failure);
	memset(n, 0, sizeof *n);
}

void trk_proc_free(void *p)
{
	struct proc *pr = p;
	trk_conn_clear(&pr->pending);
	trk_conn_clear(&pr->cur);
	xfree(pr->fail_text);
	trk_note_clear(&pr->note);
	xfree(pr);
}

struct proc *trk_proc_get(struct tracker *t, const struct evidence *ev)
{
	size_t n;
	const char *k = trk_pid_key(t, ev, &n);
	struct proc *p = ht_get(t->procs, k, n);
	if (!p) {
		p = xcalloc(1, sizeof *p);
		trk_conn_clear(&p->pending);
		trk_conn_clear(&p->cur);
		ht_put(t->procs, k, n, p);
	}
	p->last = ev->ts;
	p->touch = t->fed;
	return p;
}

static struct hostflags *host_flags_span(struct tracker *t, struct span host,
					 struct span inst)
{
	/* Most lines name the host and instance the last one did: compare
	 * with that key (host, NUL, instance, NUL) before building one. */
	const char *lk = t->last_host_key.p;
	if (t->last_host && t->last_host_key.n == host.n + inst.n + 2 &&
	    (!host.n || memcmp(lk, host.p, host.n) == 0) && lk[host.n] == '\0' &&
	    (!inst.n || memcmp(lk + host.n + 1, inst.p, inst.n) == 0))
		return t->last_host;
	size_t n;
	const char *k = trk_key3(t, host, inst, SPAN_NULL, &n);
	struct hostflags *h = ht_get(t->hosts, k, n);
	if (!h) {
		h = xcalloc(1, sizeof *h);
		trk_new_epoch(h);
		ht_put(t->hosts, k, n, h);
	}
	buf_reset(&t->last_host_key);
	buf_add(&t->last_host_key, k, n);
	t->last_host = h;
	return h;
}

struct hostflags *trk_host_flags(struct tracker *t, const char *host,
				    const char *inst)
{
	return host_flags_span(t, span_from(host), span_from(inst));
}

struct hostflags *trk_host_flags_ev(struct tracker *t, const struct evidence *ev)
{
	return host_flags_span(t, ev->host, ev->instance);
}

/* ---- messages ---------------------------------------------------------- */

void trk_alias_free(void *p)
{
	struct alias *a = p;
	xfree(a->host);
	xfree(a);
}

/* A client= under a host name the queue's daemons have not used: the
 * queue file's next lines (cleanup, qmgr) will name the instance's own. */
void trk_alias_add(struct tracker *t, const struct evidence *ev)
{
	if (ev->mta != MTA_POSTFIX || trk_host_flags_ev(t, ev)->queue_seen)
		return;
	if (ht_count(t->aliases) >= ALIASES_MAX) {	/* bounded: start over */
		ht_free(t->aliases, trk_alias_free);
		t->aliases = ht_new();
	}
	size_t n;
	const char *k = trk_key3(t, ev->instance, ev->qid, SPAN_NULL, &n);
	struct alias *a = ht_get(t->aliases, k, n);
	if (!a) {
		a = xcalloc(1, sizeof *a);
		ht_put(t->aliases, k, n, a);
	}
	str_set(&a->host, ev->host);
	a->ts = ev->ts;
}

/* A queue file is its Postfix instance's, whatever host name a service
 * logs (master.cf "-o myhostname=..." changes it for maillog_file): a
 * line that finds no message under its own host name takes the one a
 * client= line of the same instance and queue ID began under another
 * name moments before, and the message moves to this line's name. */
static struct message *msg_by_alias(struct tracker *t, const struct evidence *ev)
{
	size_t n;
	const char *k = trk_key3(t, ev->instance, ev->qid, SPAN_NULL, &n);
	struct alias *a = ht_get(t->aliases, k, n);
	if (!a || span_eq(ev->host, a->host) || ev->ts - a->ts > ALIAS_WINDOW ||
	    a->ts - ev->ts > ALIAS_WINDOW)
		return NULL;
	k = trk_key3(t, span_from(a->host), ev->instance, ev->qid, &n);
	struct message *m = ht_get(t->msgs, k, n);
	if (!m || m->complete)
		return NULL;
	ht_remove(t->msgs, k, n);
	str_set(&m->host, ev->host);
	k = trk_key3(t, ev->host, ev->instance, ev->qid, &n);
	ht_put(t->msgs, k, n, m);
	k = trk_key3(t, ev->instance, ev->qid, SPAN_NULL, &n);
	trk_alias_free(ht_remove(t->aliases, k, n));
	return m;
}

struct message *trk_msg_lookup(struct tracker *t, const struct evidence *ev)
{
	size_t n;
	const char *k = trk_key3(t, ev->host, ev->instance, ev->qid, &n);
	struct message *m = ht_get(t->msgs, k, n);
	if (!m && ev->mta == MTA_POSTFIX && ev->qid.n && ht_count(t->aliases))
		m = msg_by_alias(t, ev);
	return m;
}


struct message *trk_msg_new(struct tracker *t, const struct evidence *ev)
{
	struct message *old = trk_msg_lookup(t, ev);
	if (old) {
		/* A queue ID names a message only until "removed" (Postfix
		 * reuses short IDs): a new client= for a known ID starts a new one. */
		trk_detach(old);
		trk_complete(t, old);
	}
	struct message *m = message_new(ev->host, ev->instance, ev->qid, ev->mta, ev->ts);
	m->seq = t->seq++;
	size_t n;
	const char *k = trk_key3(t, ev->host, ev->instance, ev->qid, &n);
	ht_put(t->msgs, k, n, m);
	return m;
}

struct message *trk_msg_get(struct tracker *t, const struct evidence *ev)
{
	struct message *m = trk_msg_lookup(t, ev);
	if (!m)
		m = trk_msg_new(t, ev);
	m->last_seen = ev->ts;
	return m;
}

void trk_field(struct tracker *t, char **dst, struct span s)
{
	if (s.n > FIELD_MAX) {
		size_t n = FIELD_MAX;
		while (n > 0 && ((unsigned char)s.p[n] & 0xc0) == 0x80)
			n--;	/* not inside a UTF-8 sequence */
		s.n = n;
		t->cut++;
	}
	str_set(dst, s);
}

void trk_hop_set_peer(struct tracker *t, struct hop *h, const struct evidence *ev)
{
	trk_field(t, &h->peer_host, ev->peer_host);
	trk_field(t, &h->peer_ip, ev->peer_ip);
	h->peer_port = ev->peer_port;
	h->network = !h->local && !addr_is_loopback(h->peer_ip);
}

/* The hop's TLS use is decided when the message is written, from whether
 * its host logged TLS lines in the same configuration epoch. */
void trk_set_pending(struct hostflags *hf, struct hop *h, enum pending_inference what)
{
	h->pending = what;
	h->epoch = hf->nep - 1;
}
