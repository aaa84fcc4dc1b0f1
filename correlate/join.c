/* join.c - logs with captures.
 * Exact matches: a plaintext capture message whose queue ID (from the
 * server's "queued as" reply) is the log message's queue ID (the receiving
 * server's log) or a delivery's next_queue_id (the sending server's log),
 * or whose Message-ID is the log message's.  They give the capture clock's
 * offset (the median of capture time - log time) and the addresses each
 * log host answers on.  Other matches use addresses and time: an inbound
 * hop's client address against the capture's client, a delivery's relay
 * address and port against the capture's server, the log time plus the
 * offset inside the connection's span, JOIN_WINDOW seconds either side.
 * One fitting connection is a match; several are ambiguous and left apart.
 * Merging: facts the log lacks come from the capture (version, cipher,
 * stripping - logs never see stripping); where both know a fact and
 * disagree, the hop keeps the log's and is flagged as a conflict with
 * both values named.
 * Memory: with logs to join, every capture record is held until the end
 * (the captures are read before the logs); the indexes are keyed by
 * address.  Without logs (join_stream_to) records leave at once, and the
 * duplicate check remembers the last SEEN_MAX connections. */
#include "join.h"
#include "../util/hashtab.h"
#include <stdlib.h>
#include <string.h>

/* Connections remembered for the duplicate check: the same session seen
 * twice within the last SEEN_MAX connections is recognised. */
#define SEEN_MAX 65536

struct crec {
	struct message *m;
	size_t conn;			/* which capture connection */
	char client[64], server[64];
	int cport, sport;
	time_t first, last;
	bool used;
	bool ehlo_replied, offered;	/* what the server's EHLO reply held */
};

struct idlist {
	size_t *v;
	size_t n, cap;
};

struct join {
	struct crec *r;
	size_t n, cap, nconn;
	struct hashtab *by_qid, *by_mid, *by_client, *by_server, *hosts, *seen;
	unsigned long duplicates;
	long *samples;
	size_t nsamples, capsamples;
	long offset;
	bool fixed;
	unsigned long joined, exact, ambiguous, conflicts;
	/* while adding one connection's records */
	struct smtp_connection *cur;
	/* join_stream_to: records go straight out */
	message_fn emit;
	void *emit_arg;
	/* the keys of seen, oldest first, so the table stays bounded */
	char *seen_order[SEEN_MAX];
	size_t seen_head, seen_n;
};

struct join *join_new(void)
{
	struct join *j = xcalloc(1, sizeof *j);
	j->by_qid = ht_new();
	j->by_mid = ht_new();
	j->by_client = ht_new();
	j->by_server = ht_new();
	j->hosts = ht_new();
	j->seen = ht_new();
	return j;
}

static void idlist_free(void *p)
{
	struct idlist *l = p;
	free(l->v);
	free(l);
}

void join_free(struct join *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++)
		message_free(j->r[i].m);
	free(j->r);
	ht_free(j->by_qid, idlist_free);
	ht_free(j->by_mid, idlist_free);
	ht_free(j->by_client, idlist_free);
	ht_free(j->by_server, idlist_free);
	ht_free(j->hosts, idlist_free);
	ht_free(j->seen, free);
	for (size_t i = 0; i < j->seen_n; i++)
		free(j->seen_order[(j->seen_head + i) % SEEN_MAX]);
	free(j->samples);
	free(j);
}

static void index_add(struct hashtab *ht, const char *key, size_t id)
{
	if (!key)
		return;
	size_t kl = strlen(key);
	struct idlist *l = ht_get(ht, key, kl);
	if (!l) {
		l = xcalloc(1, sizeof *l);
		ht_put(ht, key, kl, l);
	}
	/* ids only grow: a repeat can only be the last one (a client that is
	 * its own server); no scan of a list that grows with the capture */
	if (l->n && l->v[l->n - 1] == id)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = id;
}

static const struct idlist *index_get(const struct hashtab *ht, const char *key)
{
	return key ? ht_get(ht, key, strlen(key)) : NULL;
}

static void add_record(struct message *m, void *arg)
{
	struct join *j = arg;
	const struct smtp_connection *c = j->cur;
	if (j->emit) {
		j->emit(m, j->emit_arg);
		return;
	}
	if (j->n == j->cap) {
		j->cap = j->cap ? j->cap * 2 : 64;
		j->r = xrealloc(j->r, j->cap * sizeof *j->r);
	}
	size_t id = j->n++;
	struct crec *r = &j->r[id];
	memset(r, 0, sizeof *r);
	r->m = m;
	r->conn = j->nconn;
	snprintf(r->client, sizeof r->client, "%s", c->client);
	snprintf(r->server, sizeof r->server, "%s", c->server);
	r->cport = c->cport;
	r->sport = c->sport;
	r->first = c->first_ts;
	r->last = c->last_ts;
	r->ehlo_replied = c->conv.ehlo_replied;
	r->offered = c->conv.starttls_offered;
	index_add(j->by_qid, m->qid, id);
	index_add(j->by_mid, m->message_id, id);
	index_add(j->by_client, c->client, id);
	char sk[96];
	snprintf(sk, sizeof sk, "%s:%d", c->server, c->sport);
	index_add(j->by_server, sk, id);
}

/* The same TCP session captured on two machines (or twice on one) is one
 * connection: same endpoints, the same bytes each way, close in time
 * (the two clocks may differ). */
static bool duplicate(struct join *j, const struct smtp_connection *c)
{
	char k[256];
	snprintf(k, sizeof k, "%s:%u>%s:%u/%llu/%llu", c->client, c->cport, c->server, c->sport,
		 (unsigned long long)c->conv.bytes_c, (unsigned long long)c->conv.bytes_s);
	time_t *t = ht_get(j->seen, k, strlen(k));
	if (t && (*t - c->first_ts <= 3600 && c->first_ts - *t <= 3600)) {
		j->duplicates++;
		return true;
	}
	if (!t) {
		if (j->seen_n == SEEN_MAX) {	/* forget the oldest */
			char *old = j->seen_order[j->seen_head];
			free(ht_remove(j->seen, old, strlen(old)));
			free(old);
			j->seen_head = (j->seen_head + 1) % SEEN_MAX;
			j->seen_n--;
		}
		t = xmalloc(sizeof *t);
		ht_put(j->seen, k, strlen(k), t);
		j->seen_order[(j->seen_head + j->seen_n++) % SEEN_MAX] = xstrdup(k);
	}
	*t = c->first_ts;
	return false;
}

void join_add_connection(struct join *j, struct smtp_connection *c)
{
	if (c->conv.bytes_c + c->conv.bytes_s > 0 && duplicate(j, c))
		return;
	j->cur = c;
	capconn_messages(c, add_record, j);
	j->cur = NULL;
	j->nconn++;
}

size_t join_nrecords(const struct join *j)
{
	return j->n;
}

/* ---- first pass ----------------------------------------------------------- */

static void host_key(const struct message *m, char *k, size_t kl)
{
	snprintf(k, kl, "%s/%s", m->host ? m->host : "", m->instance ? m->instance : "");
}

static void sample(struct join *j, long s)
{
	if (j->nsamples == j->capsamples) {
		j->capsamples = j->capsamples ? j->capsamples * 2 : 64;
		j->samples = xrealloc(j->samples, j->capsamples * sizeof *j->samples);
	}
	j->samples[j->nsamples++] = s;
}

/* The capture records for this log message's queue ID, else for its
 * Message-ID (a weaker key: copies of one message reach several servers,
 * so it counts only when it names one connection the host answers on). */
static const struct idlist *exact_inbound(const struct join *j, const struct message *m)
{
	const struct idlist *l = index_get(j->by_qid, m->qid);
	if (!l || !l->n)
		l = index_get(j->by_mid, m->message_id);
	return l && l->n ? l : NULL;
}

void join_observe(struct join *j, const struct message *m)
{
	if (m->inbound.source != SRC_LOG)
		return;
	char hk[300];
	host_key(m, hk, sizeof hk);
	const struct idlist *l = index_get(j->by_qid, m->qid);
	if (l && l->n == 1 && m->has_inbound && !m->inbound.local) {
		const struct crec *r = &j->r[l->v[0]];
		/* smtpd logs "client=" when MAIL FROM makes the queue file */
		sample(j, (long)(r->m->first_seen - m->inbound.ts));
		index_add(j->hosts, hk, l->v[0]);
	}
	for (size_t i = 0; i < m->ndl; i++) {
		const struct idlist *d = index_get(j->by_qid, m->dl[i].next_qid);
		if (d && d->n == 1) {
			const struct crec *r = &j->r[d->v[0]];
			/* the delivery is logged at the end of the transaction */
			sample(j, (long)(r->m->last_seen - m->dl[i].ts));
		}
	}
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? -1 : x > y;
}

/* A server that offered STARTTLS to other sessions in the capture but not
 * in this one: something in between took it away (issue "Joining": a
 * stripped STARTTLS need not leave an XXXXXXXA behind). */
static void stripped_by_server(struct join *j)
{
	struct hashtab *offered = ht_new();
	static int one = 1;
	char k[96];
	for (size_t i = 0; i < j->n; i++)
		if (j->r[i].offered) {
			snprintf(k, sizeof k, "%s:%d", j->r[i].server, j->r[i].sport);
			ht_put(offered, k, strlen(k), &one);
		}
	for (size_t i = 0; i < j->n; i++) {
		struct crec *r = &j->r[i];
		struct hop *h = &r->m->inbound;
		snprintf(k, sizeof k, "%s:%d", r->server, r->sport);
		if (!r->ehlo_replied || r->offered || h->tls.used != TRI_NO ||
		    h->tls.stripped == TRI_YES || !ht_get(offered, k, strlen(k)))
			continue;
		h->tls.stripped = TRI_YES;
		char b[600];
		snprintf(b, sizeof b, "%s; this server offered STARTTLS to other sessions in "
			 "the capture, but its EHLO reply in this one did not: it was stripped "
			 "on the way", h->basis ? h->basis : "");
		hop_set_basis(h, b);
	}
	ht_free(offered, NULL);
}

void join_settle(struct join *j, bool fixed, long skew)
{
	stripped_by_server(j);
	j->fixed = fixed;
	if (fixed) {
		j->offset = skew;
		return;
	}
	if (j->nsamples) {
		qsort(j->samples, j->nsamples, sizeof *j->samples, cmp_long);
		j->offset = j->samples[j->nsamples / 2];
	}
}

/* ---- second pass ------------------------------------------------------- */

/* Does the log host answer on the server address of record r?  Unknown
 * hosts (no exact match taught us) may be any. */
static bool host_serves(const struct join *j, const struct message *m, const struct crec *r)
{
	char hk[300];
	host_key(m, hk, sizeof hk);
	const struct idlist *l = index_get(j->hosts, hk);
	if (!l)
		return true;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(j->r[l->v[i]].server, r->server) == 0)
			return true;
	return false;
}

static bool in_span(const struct join *j, const struct crec *r, time_t log_ts)
{
	time_t t = log_ts + j->offset;
	return t >= r->first - JOIN_WINDOW && t <= r->last + JOIN_WINDOW;
}

/* Of the candidate records, the connections that fit; returns how many
 * distinct connections, and in *pick the record to use when it is one. */
static size_t fit(const struct join *j, const struct idlist *l, const struct message *m,
		  time_t ts, bool inbound, const struct hop *h, size_t *pick)
{
	/* Lists hold records in capture order, so a connection's records
	 * are next to each other: count the changes of connection. */
	size_t nconn = 0, last_conn = (size_t)-1;
	*pick = (size_t)-1;
	for (size_t i = 0; l && i < l->n; i++) {
		const struct crec *r = &j->r[l->v[i]];
		if (!in_span(j, r, ts))
			continue;
		if (inbound && !host_serves(j, m, r))
			continue;
		if (!inbound && h->peer_port >= 0 && r->sport != h->peer_port)
			continue;
		/* A capture message whose queue ID is known is that message
		 * and no other: the receiving log's queue ID, or the one the
		 * next server named to the sender. */
		const char *want = inbound ? m->qid : h->next_qid;
		if (r->m->qid && want && strcmp(r->m->qid, want) != 0)
			continue;
		if (r->conn != last_conn) {
			nconn++;
			last_conn = r->conn;
		}
		/* Within a plaintext connection of several messages, the one
		 * this message is (same Message-ID), else the first. */
		if (*pick == (size_t)-1 || (m->message_id && r->m->message_id &&
					     strcmp(m->message_id, r->m->message_id) == 0))
			*pick = l->v[i];
	}
	return nconn;
}

static char *dupn(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void merge(struct join *j, struct hop *h, struct crec *r, const char *how)
{
	const struct hop *c = &r->m->inbound;
	struct tls_state *L = &h->tls;
	const struct tls_state *C = &c->tls;
	char detail[300] = "";
	r->used = true;
	j->joined++;
	for (size_t i = 0; i < c->nev; i++)
		hop_add_ev(h, c->ev[i]);
	h->joined = true;
	if (C->used != TRI_UNKNOWN && L->used != TRI_UNKNOWN && C->used != L->used) {
		snprintf(detail, sizeof detail, "the log says TLS %s, the capture shows %s",
			 L->used == TRI_YES ? "was used" : "was not used",
			 C->used == TRI_YES ? "TLS" : "plaintext");
	} else if (C->version && L->version && C->version != L->version) {
		snprintf(detail, sizeof detail, "the log says %s, the capture shows %s",
			 tls_version_name(L->version), tls_version_name(C->version));
	}
	if (detail[0]) {
		h->conflict = true;
		free(h->conflict_detail);
		h->conflict_detail = xstrdup(detail);
		j->conflicts++;
	} else {
		/* What the log lacks, the capture gives. */
		if (L->used == TRI_UNKNOWN)
			L->used = C->used;
		if (!L->version)
			L->version = C->version;
		if (!L->cipher)
			L->cipher = dupn(C->cipher);
		if (L->bits < 0) {
			L->bits = C->bits;
			L->alg_bits = C->alg_bits;
		}
	}
	if (C->stripped != TRI_UNKNOWN)
		L->stripped = C->stripped;
	if (L->offered == TRI_UNKNOWN)
		L->offered = C->offered;
	if (!L->cipher_iana)
		L->cipher_iana = dupn(C->cipher_iana);
	if (!L->sni)
		L->sni = dupn(C->sni);
	if (!L->offered_max)
		L->offered_max = dupn(C->offered_max);
	if (!L->cert_subject && C->cert_subject) {
		L->cert_subject = dupn(C->cert_subject);
		L->cert_issuer = dupn(C->cert_issuer);
		L->cert_not_before = C->cert_not_before;
		L->cert_not_after = C->cert_not_after;
		L->cert_self_signed = C->cert_self_signed;
	}
	char b[700];
	snprintf(b, sizeof b, "%s; joined with a capture connection (%s): %s",
		 h->basis ? h->basis : "no log evidence", how, c->basis ? c->basis : "");
	hop_set_basis(h, b);
}

static void join_hop(struct join *j, struct message *m, struct hop *h, bool inbound)
{
	if (h->local || !h->peer_ip)
		return;
	size_t pick;
	/* Exact: the queue ID the next server named, or this message's own. */
	const struct idlist *ex = inbound ? exact_inbound(j, m)
					  : index_get(j->by_qid, h->next_qid);
	if (ex && fit(j, ex, m, h->ts, inbound, h, &pick) == 1 &&
	    (!inbound || strcmp(j->r[pick].client, h->peer_ip) == 0)) {
		j->exact++;
		merge(j, h, &j->r[pick], inbound ? "same queue ID or Message-ID"
						 : "the queue ID the next server named");
		return;
	}
	char sk[96];
	const struct idlist *l;
	if (inbound) {
		l = index_get(j->by_client, h->peer_ip);
	} else {
		snprintf(sk, sizeof sk, "%s:%d", h->peer_ip, h->peer_port >= 0 ? h->peer_port : 25);
		l = index_get(j->by_server, sk);
	}
	size_t n = fit(j, l, m, h->ts, inbound, h, &pick);
	if (n == 1) {
		merge(j, h, &j->r[pick], inbound ? "client address and time"
						 : "relay address, port and time");
	} else if (n > 1) {
		h->join_ambiguous = (int)n;
		j->ambiguous++;
	}
}

void join_message(struct join *j, struct message *m)
{
	if (m->inbound.source != SRC_LOG)
		return;
	if (m->has_inbound)
		join_hop(j, m, &m->inbound, true);
	for (size_t i = 0; i < m->ndl; i++)
		join_hop(j, m, &m->dl[i], false);
}

void join_stream_to(struct join *j, message_fn emit, void *arg)
{
	j->emit = emit;
	j->emit_arg = arg;
}

void join_emit_rest(struct join *j, message_fn emit, void *arg)
{
	for (size_t i = 0; i < j->n; i++) {
		if (!j->r[i].used) {
			emit(j->r[i].m, arg);
		} else {
			message_free(j->r[i].m);
		}
		j->r[i].m = NULL;
	}
	j->n = 0;
}

void join_report(const struct join *j, FILE *f)
{
	fprintf(f, "tlswitness: join: capture clock at %+ld s against the logs (%s, %zu "
		"exact matches); %lu log hops joined with capture connections (%lu exactly), "
		"%lu ambiguous, %lu in conflict; %lu duplicate capture connection%s\n",
		j->offset, j->fixed ? "fixed by --skew" : j->nsamples ? "the median offset"
		: "no exact match: assumed 0", j->nsamples, j->joined, j->exact, j->ambiguous,
		j->conflicts, j->duplicates, j->duplicates == 1 ? "" : "s");
}
