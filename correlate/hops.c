/* hops.c - Received headers to hops.  Classification (issue "Reading a
 * message's own story"): a hop from 127/8, ::1, a local program (from
 * userid, invoked by uid) or handed over with LMTP, local, mapi or HTTP on
 * the same system never crossed a network; the boundary is the first hop
 * from the top whose client is outside the trusted networks; what the
 * headers below it say was written by servers we cannot check: claims. */
#include "hops.h"
#include "../util/addr.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool non_smtp(const struct received *r)
{
	static const char *const local[] = { "LMTP", "LMTPA", "local", "mapi", "HTTP",
					      "HTTPS", NULL };
	if (r->userid)
		return true;
	for (int i = 0; local[i]; i++)
		if (strcasecmp(r->with, local[i]) == 0)
			return true;
	return !r->helo[0] && !r->ip[0];	/* "(qmail 123 invoked ...)" */
}

struct message *hops_message(const struct mail_msg *mm, trusted_fn trusted, void *arg)
{
	const struct received *top = mm->nhops ? &mm->hops[0].r : NULL;
	struct span host = span_from(top && top->by[0] ? top->by : "-");
	struct span qid = span_from(top && top->id[0] ? top->id : NULL);
	struct message *m = message_new(host, SPAN_NULL, qid, MTA_UNKNOWN, top ? top->date : 0);
	if (mm->message_id[0])
		m->message_id = xstrdup(mm->message_id);
	if (mm->from[0])
		m->from = xstrdup(mm->from);
	m->header = true;
	m->inbound.source = SRC_HEADER;
	bool below = false;
	for (size_t i = 0; i < mm->nhops; i++) {
		const struct received *r = &mm->hops[i].r;
		struct hop *h = message_add_delivery(m);
		h->dir = DIR_IN;
		h->source = SRC_HEADER;
		h->ts = r->date;
		if (r->date && (!m->first_seen || r->date < m->first_seen))
			m->first_seen = r->date;
		if (r->date > m->last_seen)
			m->last_seen = r->date;
		h->peer_host = xstrdup(r->rdns[0] ? r->rdns : r->helo[0] ? r->helo : "-");
		if (r->ip[0])
			h->peer_ip = xstrdup(r->ip);
		h->rcpt = r->for_addr[0] ? xstrdup(r->for_addr) : NULL;
		h->helo = r->helo[0] ? xstrdup(r->helo) : NULL;
		h->by = r->by[0] ? xstrdup(r->by) : NULL;
		h->with = r->with[0] ? xstrdup(r->with) : NULL;
		h->rid = r->id[0] ? xstrdup(r->id) : NULL;
		h->mta_name = rcv_mta_name(r->mta);
		h->local = non_smtp(r);
		h->network = !h->local && !addr_is_loopback(h->peer_ip);
		/* TLS facts */
		h->tls.used = r->used < 0 ? TRI_UNKNOWN : r->used ? TRI_YES : TRI_NO;
		h->tls.version = r->version;
		h->tls.version_raw = r->version_raw[0] ? xstrdup(r->version_raw) : NULL;
		tls_state_set_cipher(&h->tls, r->cipher, strlen(r->cipher));
		h->tls.bits = h->tls.alg_bits = r->bits;
		if (r->verify[0]) {
			h->tls.cert_raw = xstrdup(r->verify);
			h->tls.cert = strcmp(r->verify, "verified") == 0 ? CERT_VERIFIED
				      : tls_cert_from_verify(span_from(r->verify));
		}
		hop_set_basis(h, r->basis);
		hop_add_ev(h, (struct evref){ mm->file_id, mm->hops[i].line, false });
		/* position: above, at or below the boundary */
		if (below) {
			h->claim = true;
			h->position = "claim";
		} else if (!h->network) {
			h->position = h->local ? "local" : "loopback";
		} else if (trusted && trusted(h->peer_ip, arg)) {
			h->position = "internal";
		} else {
			h->position = "boundary";
			below = true;
		}
	}
	return m;
}
