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

struct group {
	size_t start, len;	/* in the sorted order */
	size_t first;		/* its first attempt's place in the message */
};

static int cmp_by_rcpt(const void *a, const void *b, void *arg)
{
	const struct hop *dl = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const char *rx = dl[x].rcpt, *ry = dl[y].rcpt;
	int c = rx == ry ? 0 : !rx ? -1 : !ry ? 1 : strcmp(rx, ry);
	return c ? c : x < y ? -1 : x > y;
}

static int cmp_by_first(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
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
	/* Group by recipient in O(n log n) (a message may hold 100,000
	 * attempts): attempts sorted by recipient, then by their place, so a
	 * group's attempts stay in time order; groups in the order their
	 * recipients first appear. */
	size_t n = m->ndl;
	size_t *order = xcalloc(n, sizeof *order);
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof *order, cmp_by_rcpt, m->dl);
	struct group *g = xcalloc(n, sizeof *g);
	size_t ng = 0;
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || !same_rcpt(m->dl[order[i]].rcpt, m->dl[order[i - 1]].rcpt))
			g[ng++] = (struct group){ i, 0, order[i] };
		g[ng - 1].len++;
	}
	qsort(g, ng, sizeof *g, cmp_by_first);
	struct hop *out = xcalloc(n, sizeof *out);
	const struct hop **att = xcalloc(n, sizeof *att);
	for (size_t k = 0; k < ng; k++) {
		const size_t *idx = order + g[k].start;
		size_t len = g[k].len;
		for (size_t a = 0; a < len; a++)
			att[a] = &m->dl[idx[a]];
		const struct hop *carrier;
		enum fate f = fate_of(m, att, len, &carrier);
		size_t rep = carrier ? (size_t)(carrier - m->dl) : idx[len - 1];
		struct hop *r = &out[k];
		*r = m->dl[rep];
		r->fate = f;
		if (len > 1) {
			r->tries = xcalloc(len - 1, sizeof *r->tries);
			for (size_t a = 0; a < len; a++)
				if (idx[a] != rep) {
					r->tries[r->ntries] = m->dl[idx[a]];
					r->tries[r->ntries++].fate = f;
				}
			handshake_downgrade(r, r->tries, r->ntries);
		}
	}
	size_t nout = ng;
	free(order);
	free(g);
	free(m->dl);	/* every hop moved, none freed */
	m->dl = out;
	m->ndl = m->capdl = nout;
	free(att);
}
