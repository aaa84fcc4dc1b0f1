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
	return true;
}

static void resolve_hop(struct hop *hp, struct hostflags *hf)
{
	const struct epoch_flags *h = trk_epoch_at(hf, hp->epoch);
	if (hp->pending == INF_NO_LINE_OUT) {
		if (h->client_tls_seen) {
			hp->tls.used = TRI_NO;
			hop_set_basis(hp, "no TLS line for this connection, while this host's "
				      "client logged TLS lines for other connections under the "
				      "same configuration");
		} else {
			hp->tls.used = TRI_UNKNOWN;
			hop_set_basis(hp, "no TLS line, and this host's client logged none under "
				      "this configuration: TLS logging may be off "
				      "(smtp_tls_loglevel=0); absence of evidence is not plaintext");
		}
	} else if (hp->pending == INF_NO_LINE_IN) {
		if (h->server_tls_seen) {
			hp->tls.used = TRI_NO;
			hop_set_basis(hp, "no TLS line in this session, while this host's "
				      "server logged TLS lines for other sessions under the "
				      "same configuration");
		} else {
			hp->tls.used = TRI_UNKNOWN;
			hop_set_basis(hp, "no TLS line and no disconnect counters, and this host's "
				      "server logged no TLS line under this configuration: "
				      "TLS logging may be off");
		}
	}
	hp->pending = INF_NONE;
}

void trk_flush(struct tracker *t, bool final)
{
	while (t->qlen) {
		struct message *m = t->q[t->qhead];
		if (!resolvable(t, m, final))
			return;
		struct hostflags *h = trk_host_flags(t, m->host, m->instance);
		resolve_hop(&m->inbound, h);
		for (size_t i = 0; i < m->ndl; i++)
			resolve_hop(&m->dl[i], h);
		t->qhead = (t->qhead + 1) % t->qcap;
		t->qlen--;
		t->emit(m, t->arg);
	}
}

static void enqueue(struct tracker *t, struct message *m)
{
	if (t->qlen == t->qcap) {
		size_t ncap = t->qcap ? t->qcap * 2 : 64;
		struct message **nq = xcalloc(ncap, sizeof *nq);
		for (size_t i = 0; i < t->qlen; i++)
			nq[i] = t->q[(t->qhead + i) % t->qcap];
		free(t->q);
		t->q = nq;
		t->qcap = ncap;
		t->qhead = 0;
	}
	t->q[(t->qhead + t->qlen) % t->qcap] = m;
	t->qlen++;
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
	enqueue(t, m);
}

void trk_maybe_complete(struct tracker *t, struct message *m)
{
	if (m->waiting > 0)
		return;
	if (m->removed || m->done || (m->mta == MTA_SENDMAIL && m->nrcpt > 0 &&
				      m->finals >= m->nrcpt))
		trk_complete(t, m);
}
