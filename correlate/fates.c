/* fates.c - deliveries regrouped by recipient (fates.h).  Correlation
 * records every attempt as it is logged; what people count is each
 * recipient once, by the attempt that carried the message (ARCHITECTURE.md
 * "Fates"). */
#include "fates.h"
#include <stdlib.h>
#include <string.h>

static bool same_rcpt(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static enum fate fate_of(const struct message *m, const struct hop *const *att, size_t n,
			 const struct hop **carrier)
{
	*carrier = NULL;
	bool bounced = false, expired = false;
	for (size_t i = 0; i < n; i++) {
		if (att[i]->outcome == OUTCOME_SENT)
			*carrier = att[i];	/* the last one that carried it */
		if (att[i]->status && strcmp(att[i]->status, "bounced") == 0)
			bounced = true;
		if (att[i]->status && strcmp(att[i]->status, "expired") == 0)
			expired = true;
	}
	if (*carrier)
		return FATE_SENT;
	if (bounced)
		return FATE_BOUNCED;	/* its own final status first */
	if (expired || m->expired)
		return FATE_EXPIRED;	/* then the queue file's: returned as too old */
	if (m->deleted)
		return FATE_DELETED;
	return FATE_DEFERRED;
}

/* A plaintext carrier after a failed handshake with the same server, in
 * an earlier attempt of this recipient: the server offered STARTTLS. */
static void handshake_downgrade(struct hop *c, const struct hop *tries, size_t n)
{
	if (c->tls.used != TRI_NO || c->tls.downgrade)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct hop *t = &tries[i];
		if (t->tls.offered == TRI_YES && t->tls.used == TRI_NO && t->peer_ip &&
		    c->peer_ip && strcmp(t->peer_ip, c->peer_ip) == 0) {
			c->tls.downgrade = DOWNGRADE_HANDSHAKE_FAILED;
			c->tls.offered = TRI_YES;
			return;
		}
	}
}

void fates_settle(struct message *m)
{
	if (m->header || !m->ndl)
		return;
	for (size_t i = 0; i < m->ndl; i++) {
		struct tls_state *t = &m->dl[i].tls;
		if (t->stripped == TRI_YES && !t->downgrade)
			t->downgrade = DOWNGRADE_STRIPPED;
		/* a handshake failure earlier in the epoch makes a downgrade of
		 * a delivery only if it went in plaintext (the host's TLS
		 * logging decided that after the line) */
		if (t->downgrade == DOWNGRADE_HANDSHAKE_FAILED && t->used != TRI_NO)
			t->downgrade = DOWNGRADE_NONE;
	}
	struct hop *out = xcalloc(m->ndl, sizeof *out);
	size_t nout = 0;
	bool *taken = xcalloc(m->ndl, sizeof *taken);
	const struct hop **att = xcalloc(m->ndl, sizeof *att);
	size_t *idx = xcalloc(m->ndl, sizeof *idx);
	for (size_t i = 0; i < m->ndl; i++) {
		if (taken[i])
			continue;
		size_t n = 0;
		for (size_t j = i; j < m->ndl; j++)
			if (!taken[j] && same_rcpt(m->dl[j].rcpt, m->dl[i].rcpt)) {
				taken[j] = true;
				idx[n] = j;
				att[n++] = &m->dl[j];
			}
		const struct hop *carrier;
		enum fate f = fate_of(m, att, n, &carrier);
		size_t rep = carrier ? (size_t)(carrier - m->dl) : idx[n - 1];
		struct hop *r = &out[nout++];
		*r = m->dl[rep];
		r->fate = f;
		if (n > 1) {
			r->tries = xcalloc(n - 1, sizeof *r->tries);
			for (size_t k = 0; k < n; k++)
				if (idx[k] != rep) {
					r->tries[r->ntries] = m->dl[idx[k]];
					r->tries[r->ntries++].fate = f;
				}
			handshake_downgrade(r, r->tries, r->ntries);
		}
	}
	free(m->dl);	/* every hop moved, none freed */
	m->dl = out;
	m->ndl = m->capdl = nout;
	free(taken);
	free(att);
	free(idx);
}
