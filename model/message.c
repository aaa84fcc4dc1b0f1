/* message.c - constructors and destructors for messages, hops and TLS
 * state.  message_free(NULL), hop_free of a zeroed hop are no-ops. */
#include "message.h"
#include "ciphers.h"
#include "../util/addr.h"
#include "../util/intern.h"
#include "../util/rfc2047.h"
#include <stdlib.h>
#include <string.h>

const char *downgrade_name(enum downgrade d)
{
	static const char *const names[] = { NULL, "stripped", "refused", "handshake-failed" };
	return (unsigned)d < sizeof names / sizeof *names ? names[d] : NULL;
}

const char *outcome_name(enum outcome o)
{
	static const char *const names[] = { NULL, "sent", "deferred", "bounced", "refused",
					     "no-connection" };
	return (unsigned)o < sizeof names / sizeof *names ? names[o] : NULL;
}

const char *fate_name(enum fate f)
{
	static const char *const names[] = { NULL, "sent", "bounced", "expired", "deleted",
					     "deferred" };
	return (unsigned)f < sizeof names / sizeof *names ? names[f] : NULL;
}

static const char *const level_names[] = { NULL, "none", "may", "encrypt", "dane",
	"dane-only", "fingerprint", "verify", "secure" };

const char *tls_level_name(enum tls_level l)
{
	return (unsigned)l < sizeof level_names / sizeof *level_names ? level_names[l] : NULL;
}

enum tls_level tls_level_parse(struct span s)
{
	for (unsigned i = 1; i < sizeof level_names / sizeof *level_names; i++)
		if (span_eq(s, level_names[i]))
			return (enum tls_level)i;
	return TLSL_UNKNOWN;
}

bool tls_level_mandatory(enum tls_level l)
{
	return l >= TLSL_ENCRYPT;
}

const char *enforced_by_name(enum enforced_by e)
{
	static const char *const names[] = { NULL, "tls-status", "trust-word", "dane-match",
					     "fingerprint-match", "policy-table", "requiretls",
					     "sendmail-ruleset" };
	return (unsigned)e < sizeof names / sizeof *names ? names[e] : NULL;
}

const char *requiretls_name(enum requiretls r)
{
	static const char *const names[] = { NULL, "no", "honoured", "refused", "pending" };
	return (unsigned)r < sizeof names / sizeof *names ? names[r] : NULL;
}

enum requiretls message_requiretls(const struct message *m)
{
	/* rank: unknown < no < honoured < pending < refused */
	static const int rank[] = { [RQT_UNKNOWN] = 0, [RQT_NO] = 1, [RQT_HONOURED] = 2,
				    [RQT_PENDING] = 3, [RQT_REFUSED] = 4 };
	enum requiretls r = RQT_UNKNOWN;
	for (size_t i = 0; i < m->ndl; i++)
		if (rank[m->dl[i].tls.requiretls] > rank[r])
			r = m->dl[i].tls.requiretls;
	return r;
}

const char *policy_type_name(enum policy_type p)
{
	static const char *const names[] = { NULL, "tlsa", "sts" };
	return (unsigned)p < sizeof names / sizeof *names ? names[p] : NULL;
}

const char *tlsrpt_result_name(enum tlsrpt_result r)
{
	static const char *const names[] = { NULL, "success", "failure" };
	return (unsigned)r < sizeof names / sizeof *names ? names[r] : NULL;
}

void tls_state_init(struct tls_state *t)
{
	memset(t, 0, sizeof *t);
	t->used = TRI_UNKNOWN;
	t->enforced = TRI_UNKNOWN;
	t->stripped = TRI_UNKNOWN;
	t->offered = TRI_UNKNOWN;
	t->cert_self_signed = TRI_UNKNOWN;
	t->bits = t->alg_bits = -1;
}

/* The vocabulary fields (versions, ciphers, trust words, key exchanges)
 * may be the intern store's (util/intern.h); the rest are always owned. */
static void tls_strings_free(struct tls_state *t)
{
	intern_free(t->version_raw);
	intern_free(t->cipher);
	intern_free(t->cert_raw);
	intern_free(t->kex);
	intern_free(t->cipher_openssl);
	xfree(t->sni);
	intern_free(t->offered_max);
	xfree(t->cert_subject);
	xfree(t->cert_issuer);
	intern_free(t->tlsrpt_failure);
}

void tls_state_free(struct tls_state *t)
{
	tls_strings_free(t);
	tls_state_init(t);
}

void tls_state_copy(struct tls_state *dst, const struct tls_state *src)
{
	tls_state_free(dst);
	*dst = *src;
	dst->version_raw = intern_dup(src->version_raw);
	dst->cipher = intern_dup(src->cipher);
	dst->cert_raw = intern_dup(src->cert_raw);
	dst->kex = intern_dup(src->kex);
	dst->cipher_openssl = intern_dup(src->cipher_openssl);
	dst->sni = xstrdup_or_null(src->sni);
	dst->offered_max = intern_dup(src->offered_max);
	dst->cert_subject = xstrdup_or_null(src->cert_subject);
	dst->cert_issuer = xstrdup_or_null(src->cert_issuer);
	dst->tlsrpt_failure = intern_dup(src->tlsrpt_failure);
}

bool tls_state_fill_session(struct tls_state *dst, const struct tls_state *src)
{
	bool filled = false;
	if (dst->used == TRI_UNKNOWN && src->used != TRI_UNKNOWN) {
		dst->used = src->used;
		filled = true;
	}
	if (!dst->version && src->version) {
		dst->version = src->version;
		filled = true;
	}
	if (!dst->cipher && src->cipher) {
		dst->cipher = intern_dup(src->cipher);
		filled = true;
	}
	if (dst->bits < 0 && src->bits >= 0) {
		dst->bits = src->bits;
		dst->alg_bits = src->alg_bits;
		filled = true;
	}
	return filled;
}

void tls_state_set_cipher(struct tls_state *t, const char *raw, size_t n)
{
	intern_free(t->cipher);
	intern_free(t->cipher_openssl);
	t->cipher = t->cipher_openssl = NULL;
	if (!raw || !n)
		return;
	/* A log names the same few ciphers over and over: the last name
	 * looked up, with its answer when both are the store's, is kept per
	 * thread (store pointers may be shared; owned copies may not). */
	static _Thread_local char last_raw[64];
	static _Thread_local size_t last_n;
	static _Thread_local char *last_iana, *last_openssl;
	if (n == last_n && memcmp(raw, last_raw, n) == 0) {
		t->cipher = last_iana;
		t->cipher_openssl = last_openssl;
		return;
	}
	char name[128];
	if (n < sizeof name) {
		memcpy(name, raw, n);
		name[n] = '\0';
		const struct cipher_name *cn = cipher_by_name(name);
		if (cn) {
			t->cipher = intern_str(cn->iana);
			t->cipher_openssl = intern_str(cn->openssl);
			if (n < sizeof last_raw && intern_owns(t->cipher) &&
			    (!t->cipher_openssl || intern_owns(t->cipher_openssl))) {
				memcpy(last_raw, raw, n);
				last_n = n;
				last_iana = t->cipher;
				last_openssl = t->cipher_openssl;
			}
			return;
		}
	}
	t->cipher = intern_span(raw, n);	/* not in the table: as written */
}

void tls_state_from_ev(struct tls_state *t, const struct evidence *ev)
{
	tls_state_free(t);
	t->used = TRI_YES;
	t->stripped = TRI_NO;
	t->offered = TRI_YES;	/* a TLS session: the server took STARTTLS */
	t->version = tls_version_parse(ev->tls.version);
	t->version_raw = intern_span(ev->tls.version.p, ev->tls.version.n);
	tls_state_set_cipher(t, ev->tls.cipher.p, ev->tls.cipher.n);
	t->bits = ev->tls.bits;
	t->alg_bits = ev->tls.alg_bits;
	t->kex = intern_span(ev->tls.kex.p, ev->tls.kex.n);
	if (ev->tls.trust.n) {
		t->cert = tls_cert_from_trust(ev->tls.trust);
		t->cert_raw = intern_span(ev->tls.trust.p, ev->tls.trust.n);
	} else if (ev->tls.verify.n) {
		t->cert = tls_cert_from_verify(ev->tls.verify);
		struct buf b;
		buf_init(&b);
		buf_adds(&b, "verify=");
		buf_addspan(&b, ev->tls.verify);
		t->cert_raw = intern_span(b.p, b.n);
		buf_free(&b);
	}
}

void hop_init(struct hop *h, enum ev_dir dir)
{
	memset(h, 0, sizeof *h);
	h->dir = dir;
	h->peer_port = -1;
	h->usec = -1;
	h->attempts = 1;
	tls_state_init(&h->tls);
}

/* What a hop owns, without resetting it: the message goes next. */
static void hop_strings_free(struct hop *h)
{
	xfree(h->peer_host);
	xfree(h->peer_ip);
	xfree(h->rcpt);
	xfree(h->orig_rcpt);
	xfree(h->status);
	xfree(h->dsn);
	xfree(h->next_qid);
	xfree(h->basis);
	xfree(h->ev);
	xfree(h->explain);
	xfree(h->conflict_detail);
	xfree(h->helo);
	xfree(h->by);
	xfree(h->with);
	xfree(h->rid);
	xfree(h->reason);
	xfree(h->sasl_method);
	xfree(h->sasl_username);
	for (size_t i = 0; i < h->ntries; i++)
		hop_strings_free(&h->tries[i]);
	xfree(h->tries);
	tls_strings_free(&h->tls);
}

void hop_free(struct hop *h)
{
	hop_strings_free(h);
	memset(h, 0, sizeof *h);
}

/* The facts of a hop and its evidence, without its header clauses and
 * verdict. */
static void hop_copy_facts(struct hop *d, const struct hop *h)
{
	hop_init(d, h->dir);
	if (h->nev) {
		d->ev = xcalloc(h->nev, sizeof *d->ev);
		memcpy(d->ev, h->ev, h->nev * sizeof *d->ev);
		d->nev = d->capev = h->nev;
	}
	d->peer_host = xstrdup_or_null(h->peer_host);
	d->peer_ip = xstrdup_or_null(h->peer_ip);
	d->peer_port = h->peer_port;
	d->rcpt = xstrdup_or_null(h->rcpt);
	d->orig_rcpt = xstrdup_or_null(h->orig_rcpt);
	d->status = xstrdup_or_null(h->status);
	d->dsn = xstrdup_or_null(h->dsn);
	d->next_qid = xstrdup_or_null(h->next_qid);
	d->local = h->local;
	d->network = h->network;
	d->source = h->source;
	d->joined = h->joined;
	d->conflict = h->conflict;
	d->join_ambiguous = h->join_ambiguous;
	d->join_unanimous = h->join_unanimous;
	d->mta_name = h->mta_name;
	d->position = h->position;
	d->claim = h->claim;
	tls_state_copy(&d->tls, &h->tls);
	d->basis = xstrdup_or_null(h->basis);
	d->epoch = h->epoch;
	d->ts = h->ts;
	d->usec = h->usec;
	d->attempts = h->attempts;
	d->last_attempt = h->last_attempt;
	d->outcome = h->outcome;
	d->conn_use = h->conn_use;
	d->reason = xstrdup_or_null(h->reason);
	d->fate = h->fate;
	d->filter = h->filter;
	d->proxied = h->proxied;
	d->submission = h->submission;
	d->sasl_method = xstrdup_or_null(h->sasl_method);
	d->sasl_username = xstrdup_or_null(h->sasl_username);
	if (h->ntries) {
		d->tries = xcalloc(h->ntries, sizeof *d->tries);
		for (size_t i = 0; i < h->ntries; i++)
			hop_copy_facts(&d->tries[i], &h->tries[i]);
		d->ntries = h->ntries;
	}
}

/* Kept sorted by (file, line), without repeats: the order an auditor
 * reads the evidence in. */
void hop_add_ev(struct hop *h, struct evref r)
{
	size_t i = h->nev;
	while (i > 0 && (h->ev[i - 1].file_id > r.file_id ||
			 (h->ev[i - 1].file_id == r.file_id && h->ev[i - 1].line > r.line)))
		i--;
	if (i > 0 && h->ev[i - 1].file_id == r.file_id && h->ev[i - 1].line == r.line &&
	    h->ev[i - 1].frame == r.frame)
		return;
	if (h->nev == h->capev) {
		h->capev = h->capev ? h->capev * 2 : 4;
		h->ev = xrealloc(h->ev, h->capev * sizeof *h->ev);
	}
	memmove(&h->ev[i + 1], &h->ev[i], (h->nev - i) * sizeof *h->ev);
	h->ev[i] = r;
	h->nev++;
}

void hop_set_basis(struct hop *h, const char *basis)
{
	xfree(h->basis);
	h->basis = xstrdup_or_null(basis);
}

struct message *message_new(struct span host, struct span instance,
			    struct span qid, enum ev_mta mta, time_t ts)
{
	struct message *m = xcalloc(1, sizeof *m);
	m->host = span_dup(host);
	m->instance = span_dup(instance);
	m->qid = span_dup(qid);
	m->mta = mta;
	m->first_seen = m->last_seen = ts;
	m->nrcpt = -1;
	hop_init(&m->inbound, DIR_IN);
	return m;
}

struct hop *message_add_delivery(struct message *m)
{
	if (m->ndl == m->capdl) {
		/* most messages have one recipient: a hop is 512 bytes, and
		 * the tracker may hold 100,000 messages open */
		m->capdl = m->capdl ? m->capdl * 2 : 1;
		m->dl = xrealloc(m->dl, m->capdl * sizeof *m->dl);
	}
	struct hop *h = &m->dl[m->ndl++];
	hop_init(h, DIR_OUT);
	return h;
}

const char *message_arrival_qid(const struct message *m)
{
	return m->prior_qid ? m->prior_qid : m->qid;
}

void message_drop_last_delivery(struct message *m)
{
	if (m->ndl)
		hop_strings_free(&m->dl[--m->ndl]);
}

struct message *message_copy_facts(const struct message *m)
{
	struct message *c = xcalloc(1, sizeof *c);
	c->host = xstrdup_or_null(m->host);
	c->instance = xstrdup_or_null(m->instance);
	c->qid = xstrdup_or_null(m->qid);
	c->message_id = xstrdup_or_null(m->message_id);
	c->from = xstrdup_or_null(m->from);
	c->from_raw = xstrdup_or_null(m->from_raw);
	c->from_name = xstrdup_or_null(m->from_name);
	c->mta = m->mta;
	c->first_seen = m->first_seen;
	c->last_seen = m->last_seen;
	c->has_inbound = m->has_inbound;
	hop_copy_facts(&c->inbound, &m->inbound);
	c->dl = xcalloc(m->ndl + 1, sizeof *c->dl);
	c->ndl = c->capdl = m->ndl;
	for (size_t i = 0; i < m->ndl; i++)
		hop_copy_facts(&c->dl[i], &m->dl[i]);
	c->nrcpt = m->nrcpt;
	c->dl_dropped = m->dl_dropped;
	c->finals = m->finals;
	c->removed = m->removed;
	c->done = m->done;
	c->complete = m->complete;
	c->seq = m->seq;
	c->per_connection = m->per_connection;
	c->header = m->header;
	c->deleted = m->deleted;
	c->expired = m->expired;
	c->prior_qid = xstrdup_or_null(m->prior_qid);
	if (m->filter_hop) {
		c->filter_hop = xcalloc(1, sizeof *c->filter_hop);
		hop_copy_facts(c->filter_hop, m->filter_hop);
	}
	if (m->filter_return) {
		c->filter_return = xcalloc(1, sizeof *c->filter_return);
		hop_copy_facts(c->filter_return, m->filter_return);
	}
	return c;
}

static void bare(char **a)
{
	if (!*a)
		return;
	const char *b, *name;
	size_t bn, nn;
	addr_bare(*a, strlen(*a), &b, &bn, &name, &nn);
	if (bn == strlen(*a))
		return;
	char *v = xmalloc(bn + 1);
	memcpy(v, b, bn);
	v[bn] = '\0';
	xfree(*a);
	*a = v;
}

static void bare_hop(struct hop *h)
{
	bare(&h->rcpt);
	bare(&h->orig_rcpt);
	for (size_t i = 0; i < h->ntries; i++) {
		bare(&h->tries[i].rcpt);
		bare(&h->tries[i].orig_rcpt);
	}
}

void message_bare_addresses(struct message *m)
{
	if (m->from && !m->from_raw) {
		const char *b, *name;
		size_t bn, nn, n = strlen(m->from);
		addr_bare(m->from, n, &b, &bn, &name, &nn);
		bool only_brackets = bn + 2 == n && m->from[0] == '<';
		if (bn != n) {
			if (!only_brackets)
				m->from_raw = xstrdup(m->from);
			if (nn) {
				char *raw = xmalloc(nn + 1);
				memcpy(raw, name, nn);
				raw[nn] = '\0';
				struct buf dec;
				buf_init(&dec);
				if (rfc2047_decode(raw, &dec)) {	/* "=?UTF-8?B?...?=" */
					xfree(raw);
					raw = dec.p;
				} else {
					buf_free(&dec);
				}
				m->from_name = raw;
			}
			char *v = xmalloc(bn + 1);
			memcpy(v, b, bn);
			v[bn] = '\0';
			xfree(m->from);
			m->from = v;
		}
	}
	bare_hop(&m->inbound);
	for (size_t i = 0; i < m->ndl; i++)
		bare_hop(&m->dl[i]);
	for (size_t i = 0; i < m->nrcpts; i++)
		bare(&m->rcpts[i]);
}

void message_free(struct message *m)
{
	if (!m)
		return;
	xfree(m->host);
	xfree(m->instance);
	xfree(m->qid);
	xfree(m->message_id);
	xfree(m->from);
	xfree(m->from_raw);
	xfree(m->from_name);
	xfree(m->note);
	for (size_t i = 0; i < m->nrcpts; i++)
		xfree(m->rcpts[i]);
	xfree(m->rcpts);
	hop_strings_free(&m->inbound);
	xfree(m->prior_qid);
	if (m->filter_hop)
		hop_strings_free(m->filter_hop);
	xfree(m->filter_hop);
	if (m->filter_return)
		hop_strings_free(m->filter_return);
	xfree(m->filter_return);
	for (size_t i = 0; i < m->ndl; i++)
		hop_strings_free(&m->dl[i]);
	xfree(m->dl);
	login_free(m->login);
	xfree(m);
}

void login_free(struct login *l)
{
	if (!l)
		return;
	xfree(l->service);
	xfree(l->status);
	xfree(l->security);
	xfree(l->local_ip);
	xfree(l);
}

/* Its beginning and its end are in the evidence: for a log, the arrival
 * (client=, pickup, Sendmail's from=) was read and so was the end
 * (removed, done, every recipient final).  A queue file first met in
 * the middle (its first lines in a file not read, a night missed) is not
 * complete, however it ended.  A capture's record is one connection. */
bool message_is_complete(const struct message *m)
{
	if (m->inbound.source == SRC_PCAP)
		return true;
	bool ended = m->removed || m->done || (m->nrcpt > 0 && m->finals >= m->nrcpt);
	return ended && (m->has_inbound || m->inbound.source == SRC_HEADER);
}
