/* track_queue.c - messages leave in the order they completed, once the
 * TLS-logging inference can be made: a hop without a TLS line is plaintext
 * only where the host is known to log TLS in that configuration epoch
 * (INF_NO_LINE_OUT/IN, decided here within FLUSH_WAIT). */
#include "track_state.h"
#include "../util/addr.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- output queue ------------------------------------------------------- */

/* A queue file that arrived over loopback without TLS on a host with a
 * before-queue filter may be the back end's copy of a message whose front
 * session logs "proxy-accept" only when the filter answers, which can be
 * after the queue file was delivered and removed (a filter that scans or
 * logs after passing the message on): it waits for that line a while.
 * (A filter's hand-on to the back end is plaintext on loopback; a client
 * that used TLS there is a client of its own.) */
static bool held_for_proxy(struct tracker *t, const struct message *m)
{
	/* the message's own fields first: the host's flags are a lookup */
	return m->last_seen + PROXY_WAIT >= t->clock.now && m->mta == MTA_POSTFIX &&
	       m->has_inbound && !m->inbound.local && !m->inbound.proxied && !m->prior_qid &&
	       m->inbound.tls.used != TRI_YES && addr_is_loopback(m->inbound.peer_ip) &&
	       trk_host_flags(t, m->host, m->instance)->proxy_seen;
}

static struct message *ring_find(const struct msg_ring *r, struct span host,
				  struct span instance, struct span qid)
{
	for (size_t i = r->len; i-- > 0;) {
		struct message *m = ring_at(r, i);
		if (m->qid && span_eq(qid, m->qid) && span_eq(host, m->host) &&
		    span_eq(instance, m->instance))
			return m;
	}
	return NULL;
}

/* A completed message not yet written, held for a proxy-accept or not
 * yet moved aside (a state's queue, read back, holds both), or NULL. */
struct message *trk_queued_lookup(struct tracker *t, struct span host, struct span instance,
				  struct span qid)
{
	struct message *m = ring_find(&t->held, host, instance, qid);
	return m ? m : ring_find(&t->q, host, instance, qid);
}

static bool resolvable(struct tracker *t, struct message *m, bool final)
{
	if (final || m->last_seen + FLUSH_WAIT < t->clock.now)
		return true;
	struct hostflags *h = trk_host_flags(t, m->host, m->instance);
	unsigned cur = h->nep - 1;
	/* A closed epoch has said all it will; the current one may still
	 * show that this host logs TLS. */
	if (m->inbound.pending == INF_NO_LINE_IN && m->inbound.epoch == cur &&
	    !trk_cur_epoch(h)->server_tls_seen)
		return false;
	for (size_t i = 0; i < m->ndl; i++)
		if (m->dl[i].pending == INF_NO_LINE_OUT && m->dl[i].epoch == cur &&
		    !trk_cur_epoch(h)->client_tls_seen)
			return false;
	/* An LMTP hop does not wait (INF_NO_LINE_LMTP): most lmtp clients log
	 * no TLS at all (lmtp_tls_loglevel=0), and a local hand-off's TLS
	 * is not worth holding every later message back for. */
	return true;
}

/* A hop without a TLS line: plaintext where its side of this host is
 * known to log TLS in that epoch, else unknown. */
static void decide(struct hop *hp, bool logs_tls, const char *plain, const char *unknown)
{
	hp->tls.used = logs_tls ? TRI_NO : TRI_UNKNOWN;
	hop_set_basis(hp, logs_tls ? plain : unknown);
}

static void resolve_hop(struct hop *hp, struct hostflags *hf)
{
	const struct epoch_flags *h = trk_epoch_at(hf, hp->epoch);
	if (hp->pending == INF_NO_LINE_OUT)
		decide(hp, h->client_tls_seen,
		       "no TLS line for this connection, while this host's client logged TLS "
		       "lines for other connections under the same configuration",
		       "no TLS line, and this host's client logged none under this "
		       "configuration: TLS logging may be off (smtp_tls_loglevel=0); absence "
		       "of evidence is not plaintext");
	else if (hp->pending == INF_NO_LINE_LMTP)
		decide(hp, h->lmtp_tls_seen,
		       "no TLS line for this LMTP connection, while this host's lmtp client "
		       "logged TLS lines for other connections under the same configuration",
		       "no TLS line for this LMTP connection, and this host's lmtp client logged "
		       "none under this configuration (lmtp_tls_loglevel=0 is the default): its "
		       "TLS is not known");
	else if (hp->pending == INF_NO_LINE_IN)
		decide(hp, h->server_tls_seen,
		       "no TLS line in this session, while this host's server logged TLS lines "
		       "for other sessions under the same configuration",
		       "no TLS line and no disconnect counters, and this host's server logged "
		       "no TLS line under this configuration: TLS logging may be off");
	hp->pending = INF_NONE;
}

void ring_push(struct msg_ring *r, struct message *m)
{
	if (r->len == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 64;
		struct message **nv = xcalloc(ncap, sizeof *nv);
		for (size_t i = 0; i < r->len; i++)
			nv[i] = r->v[(r->head + i) % r->cap];
		free(r->v);
		r->v = nv;
		r->cap = ncap;
		r->head = 0;
	}
	r->v[(r->head + r->len) % r->cap] = m;
	r->len++;
}

struct message *ring_at(const struct msg_ring *r, size_t i)
{
	return r->v[(r->head + i) % r->cap];
}

struct message *ring_pop(struct msg_ring *r)
{
	if (!r->len)
		return NULL;
	struct message *m = r->v[r->head];
	r->head = (r->head + 1) % r->cap;
	r->len--;
	return m;
}

static void emit(struct tracker *t, struct message *m)
{
	struct hostflags *h = trk_host_flags(t, m->host, m->instance);
	resolve_hop(&m->inbound, h);
	for (size_t i = 0; i < m->ndl; i++)
		resolve_hop(&m->dl[i], h);
	t->emit(m, t->arg);
}

/* The queue leaves in order; a message that may still get its front
 * session's proxy-accept steps aside into the held ring (in the same
 * order) instead of keeping every later message back.  A held message
 * leaves when its wait is over or the line came, and it is resolvable. */
void trk_flush(struct tracker *t, bool final)
{
	while (t->held.len) {
		struct message *m = ring_at(&t->held, 0);
		if (!final && (held_for_proxy(t, m) || !resolvable(t, m, false)))
			break;
		emit(t, ring_pop(&t->held));
	}
	while (t->q.len) {
		struct message *m = ring_at(&t->q, 0);
		if (!final && held_for_proxy(t, m)) {
			ring_push(&t->held, ring_pop(&t->q));
			continue;
		}
		if (!resolvable(t, m, final))
			return;
		emit(t, ring_pop(&t->q));
	}
}

/* An after-queue content filter (README "Content filters"): when every
 * delivery of m went to the filter and came back as one queue file n of
 * this instance, still open, the two are one message's story on this
 * host.  n takes m's arrival (the real one, with its TLS), the hand-over
 * to the filter (filter_hop), keeps its own arrival from the filter as
 * filter_return, and takes m's queue ID (prior_qid); m is not written.
 * True when m was absorbed. */
static bool absorb_into_filtered(struct tracker *t, struct message *m)
{
	if (m->mta != MTA_POSTFIX || !m->ndl || !m->dl[0].filter || !m->dl[0].next_qid)
		return false;
	for (size_t i = 1; i < m->ndl; i++)
		if (!m->dl[i].filter || !m->dl[i].next_qid ||
		    strcmp(m->dl[i].next_qid, m->dl[0].next_qid) != 0)
			return false;
	size_t kn;
	const char *k = trk_key3(t, span_from(m->host), span_from(m->instance),
			     span_from(m->dl[0].next_qid), &kn);
	struct message *n = ht_get(t->msgs, k, kn);
	if (!n || n == m || n->complete || n->prior_qid || n->filter_hop)
		return false;
	trk_detach(n);	/* the re-injection session must not touch m's arrival */
	struct hop *f = xcalloc(1, sizeof *f);
	*f = m->dl[0];
	for (size_t i = 1; i < m->ndl; i++) {
		for (size_t e = 0; e < m->dl[i].nev; e++)
			hop_add_ev(f, m->dl[i].ev[e]);
		hop_free(&m->dl[i]);
	}
	m->ndl = 0;
	free(f->rcpt);
	f->rcpt = NULL;		/* the filter took every recipient at once */
	n->filter_return = xcalloc(1, sizeof *n->filter_return);
	*n->filter_return = n->inbound;	/* the filter gave the message back */
	n->filter_return->local = true;
	n->filter_return->network = false;
	n->filter_return->pending = INF_NONE;
	hop_set_basis(n->filter_return, "the content filter's re-injection on this host");
	n->inbound = m->inbound;
	hop_init(&m->inbound, DIR_IN);
	n->filter_hop = f;
	n->prior_qid = m->qid;
	m->qid = NULL;
	if (!n->message_id) {
		n->message_id = m->message_id;
		m->message_id = NULL;
	}
	if (m->from) {		/* the filter may rewrite the envelope */
		free(n->from);
		n->from = m->from;
		m->from = NULL;
	}
	if (m->first_seen < n->first_seen)
		n->first_seen = m->first_seen;
	n->seq = m->seq < n->seq ? m->seq : n->seq;
	return true;
}

/* The message leaves the table and joins the output queue. */
void trk_complete(struct tracker *t, struct message *m)
{
	if (m->complete)
		return;
	m->complete = true;
	size_t n;
	const char *k = trk_key3(t, span_from(m->host), span_from(m->instance),
			     span_from(m->qid), &n);
	if (ht_get(t->msgs, k, n) == m)
		ht_remove(t->msgs, k, n);
	if (absorb_into_filtered(t, m)) {
		message_free(m);
		return;
	}
	ring_push(&t->q, m);
}

void trk_maybe_complete(struct tracker *t, struct message *m)
{
	if (m->waiting > 0)
		return;
	if (m->removed || m->done || (m->mta == MTA_SENDMAIL && m->nrcpt > 0 &&
				      m->finals >= m->nrcpt))
		trk_complete(t, m);
}
