/* learn.c - what the first reads teach the join (learn.h).
 * Queue IDs and connections are kept as samples spread by hash: a key is
 * in a sample of level lv when the top lv bits of its hash are zero; each
 * time a sample fills, its level rises by one and half of it goes, so what
 * stays is spread evenly over the whole capture. */
#include "learn.h"
#include "../ingest/fields.h"
#include "join.h"	/* JOIN_WINDOW: the slack a rival offset must lie beyond */
#include "../util/addr.h"
#include "../util/hashtab.h"
#include "../util/idlist.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What pass 1 keeps of a capture message whose server named its queue ID. */
struct xkey {
	unsigned count;
	time_t first, last;
	int64_t cfirst_us, clast_us;	/* its connection, to the microsecond */
	bool saw_syn, saw_close;	/* ... from its start, to its end */
	char server[72];		/* "address:port" it was sent to */
};

/* An exact match of a log line with sub-second stamp: the offsets (in
 * microseconds) that put it inside its connection; for an arrival, how
 * far "disconnect from" is from the last packet and the first packet
 * from "connect from" (before the offset; INT64_MIN: not seen). */
struct fine {
	int64_t lo, hi;
	int64_t end_d, start_d;
};

struct csample;

struct learn {
	struct hashtab *xkeys;		/* queue ID -> struct xkey */
	unsigned xlevel;
	struct hashtab *csample;	/* connection -> struct csample */
	unsigned clevel;
	struct hashtab *offered;	/* "server:port" that offered STARTTLS */
	/* "host|address:port" a log host was seen answering on, and
	 * "address:port" some log host was seen answering on */
	struct hashtab *host_server, *claimed;
	long *samples;			/* exact matches: capture - log time */
	size_t nsamples, capsamples;
	/* the offsets address-and-time pairs allow, over [-bound, bound]:
	 * counts as a difference array */
	long bound;
	int *hist;
	struct hashtab *cs_by_client, *cs_by_server;	/* index into csamples */
	struct csample **csamples;
	size_t ncsamples;
	unsigned long npairs, pair_best, pair_work;
	struct fine *fine;
	size_t nfine, capfine;
	/* exact matches not taken: a queue ID not of its MTA's form, an
	 * offset beyond --skew-max */
	unsigned long odd_form, too_far;
	long offset;
	bool fixed, precise;
	bool settled;			/* learn_settle ran: the samples are gone */
	struct join_slack slack;
	const char *how;
};

struct learn *learn_new(void)
{
	struct learn *lr = xcalloc(1, sizeof *lr);
	lr->xkeys = ht_new();
	lr->csample = ht_new();
	lr->offered = ht_new();
	lr->host_server = ht_new();
	lr->claimed = ht_new();
	lr->bound = LEARN_SKEW_MAX;
	return lr;
}

void learn_free(struct learn *lr)
{
	if (!lr)
		return;
	ht_free(lr->xkeys, free);
	ht_free(lr->csample, free);
	ht_free(lr->offered, NULL);
	ht_free(lr->host_server, NULL);
	ht_free(lr->claimed, NULL);
	ht_free(lr->cs_by_client, idlist_free);
	ht_free(lr->cs_by_server, idlist_free);
	free(lr->csamples);
	free(lr->hist);
	free(lr->samples);
	free(lr->fine);
	free(lr);
}

static bool in_sample(unsigned lv, const char *k, size_t kl)
{
	return lv == 0 || ht_key_hash(k, kl) >> (64 - lv) == 0;
}

static bool sampled(const struct learn *lr, const char *qid, size_t kl)
{
	return in_sample(lr->xlevel, qid, kl);
}

struct keylist {
	char **v;
	size_t n;
	unsigned lv;
};

static void collect_unsampled(const char *k, size_t kl, void *val, void *arg)
{
	(void)val;
	struct keylist *l = arg;
	if (!in_sample(l->lv, k, kl)) {
		char *c = xmalloc(kl + 1);	/* table keys need not end in NUL */
		memcpy(c, k, kl);
		c[kl] = '\0';
		l->v[l->n++] = c;
	}
}

/* A sample is full: keep the half of it the next hash bit keeps. */
static void resample(struct hashtab *ht, unsigned *lv)
{
	++*lv;
	struct keylist l = { .v = xcalloc(ht_count(ht) + 1, sizeof *l.v), .lv = *lv };
	ht_foreach(ht, collect_unsampled, &l);
	for (size_t i = 0; i < l.n; i++) {
		free(ht_remove(ht, l.v[i], strlen(l.v[i])));
		free(l.v[i]);
	}
	free(l.v);
}

/* A connection of the sample: what its offset from a log hop can be. */
struct csample {
	char client[64], server[64];
	int sport;
	time_t first, last;
};

void learn_connection(struct learn *lr, const struct smtp_connection *c)
{
	if (lr->settled)
		return;
	char k[256];
	int kl = snprintf(k, sizeof k, "%s|%u|%s|%u|%lld", c->client, c->cport, c->server,
			  c->sport, (long long)c->first_ts);
	size_t n = kl < (int)sizeof k ? (size_t)kl : sizeof k - 1;
	if (!in_sample(lr->clevel, k, n) || ht_get(lr->csample, k, n))
		return;
	if (ht_count(lr->csample) >= LEARN_SAMPLE_MAX) {
		resample(lr->csample, &lr->clevel);
		if (!in_sample(lr->clevel, k, n))
			return;
	}
	struct csample *x = xcalloc(1, sizeof *x);
	snprintf(x->client, sizeof x->client, "%s", c->client);
	snprintf(x->server, sizeof x->server, "%s", c->server);
	x->sport = c->sport;
	x->first = c->first_ts;
	x->last = c->last_ts;
	ht_put(lr->csample, k, n, x);
}

void learn_record(struct learn *lr, const struct message *m, const struct smtp_connection *c)
{
	static int one = 1;
	char k[96];
	if (c->conv.starttls_offered) {
		addr_port_key(k, sizeof k, c->server, c->sport);
		ht_put(lr->offered, k, strlen(k), &one);
	}
	if (lr->settled || !m->qid || !sampled(lr, m->qid, strlen(m->qid)))
		return;
	size_t kl = strlen(m->qid);
	struct xkey *x = ht_get(lr->xkeys, m->qid, kl);
	if (x) {
		x->count++;
		return;
	}
	if (ht_count(lr->xkeys) >= LEARN_SAMPLE_MAX) {
		resample(lr->xkeys, &lr->xlevel);
		if (!sampled(lr, m->qid, kl))
			return;
	}
	x = xcalloc(1, sizeof *x);
	x->count = 1;
	x->first = m->first_seen;
	x->last = m->last_seen;
	x->cfirst_us = (int64_t)c->first_ts * 1000000 + c->first_usec;
	x->clast_us = (int64_t)c->last_ts * 1000000 + c->last_usec;
	x->saw_syn = c->saw_syn;
	x->saw_close = c->saw_fin || c->saw_rst;
	addr_port_key(x->server, sizeof x->server, c->server, c->sport);
	ht_put(lr->xkeys, m->qid, kl, x);
}

static void host_key(const struct message *m, char *k, size_t kl)
{
	snprintf(k, kl, "%s/%s", m->host ? m->host : "", m->instance ? m->instance : "");
}

static void sample(struct learn *lr, long s)
{
	if (lr->nsamples >= 16 * (size_t)LEARN_SAMPLE_MAX)
		return;	/* a log naming the same queue IDs over and over */
	if (lr->nsamples == lr->capsamples) {
		lr->capsamples = lr->capsamples ? lr->capsamples * 2 : 64;
		lr->samples = xrealloc(lr->samples, lr->capsamples * sizeof *lr->samples);
	}
	lr->samples[lr->nsamples++] = s;
}

static int64_t us_of(time_t ts, long usec)
{
	return (int64_t)ts * 1000000 + usec;
}

static void sample_fine(struct learn *lr, const struct xkey *x, const struct hop *h, bool inbound)
{
	if (h->usec < 0 || lr->nfine >= 16 * (size_t)LEARN_SAMPLE_MAX)
		return;
	if (lr->nfine == lr->capfine) {
		lr->capfine = lr->capfine ? lr->capfine * 2 : 64;
		lr->fine = xrealloc(lr->fine, lr->capfine * sizeof *lr->fine);
	}
	int64_t t = (int64_t)h->ts * 1000000 + h->usec;
	struct fine *f = &lr->fine[lr->nfine++];
	*f = (struct fine){ x->cfirst_us - t, x->clast_us - t, INT64_MIN, INT64_MIN };
	if (inbound && h->sess_end && h->sess_end_usec >= 0 && x->saw_close)
		f->end_d = us_of(h->sess_end, h->sess_end_usec) - x->clast_us;
	if (inbound && h->sess_start && h->sess_start_usec >= 0 && x->saw_syn)
		f->start_d = x->cfirst_us - us_of(h->sess_start, h->sess_start_usec);
}

static const struct xkey *xkey_get(const struct learn *lr, const char *qid)
{
	const struct xkey *x = qid ? ht_get(lr->xkeys, qid, strlen(qid)) : NULL;
	return x && x->count == 1 ? x : NULL;
}

static void csample_index(const char *k, size_t kl, void *val, void *arg)
{
	(void)k;
	(void)kl;
	struct learn *lr = arg;
	lr->csamples[lr->ncsamples++] = val;
}

/* The offsets that would put log time ts inside a sampled connection's
 * span (a second of slack for stamps cut to the second) are counted:
 * the true offset is inside every true pair's interval, the others fall
 * anywhere. */
static void pairs_of(struct learn *lr, const struct idlist *l, time_t ts)
{
	if (!l || lr->npairs >= LEARN_PAIRS_MAX || lr->pair_work >= 4 * (unsigned long)LEARN_PAIRS_MAX)
		return;	/* enough to tell, or too much work for what it tells */
	/* the list is in order of first packet: start where a connection
	 * could begin (an hour before the earliest offset, at most) */
	size_t a = l->lo, b = l->n;
	time_t from = ts - lr->bound - 3600;
	while (a < b) {
		size_t mid = a + (b - a) / 2;
		if (lr->csamples[l->v[mid]]->first < from)
			a = mid + 1;
		else
			b = mid;
	}
	for (size_t i = a; i < l->n; i++) {
		const struct csample *c = lr->csamples[l->v[i]];
		long lo = (long)(c->first - ts) - 1, hi = (long)(c->last - ts) + 1;
		lr->pair_work++;
		if (lo > lr->bound)
			break;
		if (hi < -lr->bound)
			continue;
		if (lo < -lr->bound)
			lo = -lr->bound;
		if (hi > lr->bound)
			hi = lr->bound;
		lr->hist[lo + lr->bound]++;
		lr->hist[hi + lr->bound + 1]--;
		lr->npairs++;
	}
}

static int cmp_cs(const void *a, const void *b)
{
	const struct csample *x = *(struct csample *const *)a, *y = *(struct csample *const *)b;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	int c = strcmp(x->client, y->client);
	return c ? c : strcmp(x->server, y->server);
}

static void observe_pairs(struct learn *lr, const struct message *m)
{
	if (!lr->hist) {	/* the first log message: index the sample */
		lr->hist = xcalloc((size_t)(2 * lr->bound + 2), sizeof *lr->hist);
		lr->csamples = xcalloc(ht_count(lr->csample) + 1, sizeof *lr->csamples);
		ht_foreach(lr->csample, csample_index, lr);
		qsort(lr->csamples, lr->ncsamples, sizeof *lr->csamples, cmp_cs);
		lr->cs_by_client = ht_new();
		lr->cs_by_server = ht_new();
		char sk[96];
		for (size_t i = 0; i < lr->ncsamples; i++) {
			idx_add(lr->cs_by_client, lr->csamples[i]->client, i);
			addr_port_key(sk, sizeof sk, lr->csamples[i]->server, lr->csamples[i]->sport);
			idx_add(lr->cs_by_server, sk, i);
		}
	}
	if (m->has_inbound && !m->inbound.local && m->inbound.peer_ip)
		pairs_of(lr, idx_get(lr->cs_by_client, m->inbound.peer_ip), m->inbound.ts);
	for (size_t i = 0; i < m->ndl; i++) {
		const struct hop *h = &m->dl[i];
		if (h->local || !h->peer_ip)
			continue;
		char sk[96];
		addr_port_key(sk, sizeof sk, h->peer_ip, h->peer_port >= 0 ? h->peer_port : 25);
		pairs_of(lr, idx_get(lr->cs_by_server, sk), h->ts);
	}
}

/* An exact match counts only when its queue ID has the form its MTA
 * writes (a reply "queued as" anything else, from any server, is not
 * proof) and its offset is within --skew-max: a few bogus matches must
 * not move the capture clock by a year. */
static bool exact_ok(struct learn *lr, const char *qid, enum ev_mta mta, long offset)
{
	if (!qid_of_form(span_from(qid), mta)) {
		lr->odd_form++;
		return false;
	}
	if (offset > lr->bound || offset < -lr->bound) {
		lr->too_far++;
		return false;
	}
	return true;
}

void learn_observe(struct learn *lr, const struct message *m)
{
	static int one = 1;
	if (m->inbound.source != SRC_LOG || lr->settled)
		return;
	observe_pairs(lr, m);
	const char *qid = message_arrival_qid(m);
	const struct xkey *x = xkey_get(lr, qid);
	if (x && m->has_inbound && !m->inbound.local &&
	    exact_ok(lr, qid, m->mta, (long)(x->first - m->inbound.ts))) {
		char hk[300], hs[400];
		host_key(m, hk, sizeof hk);
		/* smtpd logs "client=" when MAIL FROM makes the queue file */
		sample(lr, (long)(x->first - m->inbound.ts));
		sample_fine(lr, x, &m->inbound, true);
		snprintf(hs, sizeof hs, "%s|%s", hk, x->server);
		ht_put(lr->host_server, hs, strlen(hs), &one);
		ht_put(lr->claimed, x->server, strlen(x->server), &one);
	}
	for (size_t i = 0; i < m->ndl; i++) {
		const struct xkey *d = xkey_get(lr, m->dl[i].next_qid);
		/* the delivery is logged at the end of the transaction */
		if (d && exact_ok(lr, m->dl[i].next_qid, MTA_UNKNOWN, (long)(d->last - m->dl[i].ts))) {
			sample(lr, (long)(d->last - m->dl[i].ts));
			sample_fine(lr, d, &m->dl[i], false);
		}
	}
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? -1 : x > y;
}

/* The offset most address-and-time pairs allow: the centre (weighted by
 * count) of the run around the highest count that stays within 10 % of
 * it.  It counts only when enough pairs agree and no offset outside that
 * run, farther than the join's slack, does as well. */
static bool pairs_offset(struct learn *lr, long *off)
{
	if (!lr->hist || lr->npairs < 3)
		return false;
	long n = 2 * lr->bound + 1, cur = 0, best = 0, at = -1;
	long *count = xcalloc((size_t)n, sizeof *count);
	for (long i = 0; i < n; i++) {
		cur += lr->hist[i];
		count[i] = cur;
		if (cur > best) {
			best = cur;
			at = i;
		}
	}
	bool ok = best >= 3;
	long a = at, b = at;
	while (ok && a > 0 && count[a - 1] * 10 >= best * 9)
		a--;
	while (ok && b + 1 < n && count[b + 1] * 10 >= best * 9)
		b++;
	for (long i = 0; ok && i < n; i++)	/* a rival peak: the pairs do not tell */
		if (count[i] >= best && (i < a - 2 * JOIN_WINDOW || i > b + 2 * JOIN_WINDOW))
			ok = false;
	if (ok) {
		double w = 0, sum = 0;
		for (long i = a; i <= b; i++) {
			w += (double)count[i];
			sum += (double)count[i] * (double)i;
		}
		*off = (long)(sum / w + 0.5) - lr->bound;
		lr->pair_best = (unsigned long)best;
	}
	free(count);
	return ok;
}

/* Sub-second stamps on both sides: the offset to the millisecond, from the
 * exact matches whose log line has one - the offsets most of them allow
 * (each puts its line inside its connection), within 3 s of the median in
 * whole seconds.  The join then needs a hop inside a connection to within
 * a slack measured on those matches, FINE_SLACK_MIN at least. */
#define FINE_RANGE_MS 3000
#define FINE_SLACK_MIN 20000

/* Twice the worst miss seen, 10 ms more, FINE_SLACK_MIN at least. */
static int64_t slack_of(int64_t worst)
{
	int64_t s = 2 * worst + 10000;
	return s < FINE_SLACK_MIN ? FINE_SLACK_MIN : s;
}
static void refine(struct learn *lr)
{
	if (lr->nfine < 3)
		return;
	long n = 2 * FINE_RANGE_MS + 1, cur = 0, best = 0, at = -1;
	long *diff = xcalloc((size_t)n + 1, sizeof *diff), *count = xcalloc((size_t)n, sizeof *count);
	int64_t base = (int64_t)lr->offset * 1000 - FINE_RANGE_MS;	/* ms */
	for (size_t i = 0; i < lr->nfine; i++) {
		/* microseconds to whole milliseconds, outward */
		int64_t lo = (lr->fine[i].lo - 999) / 1000 - base, hi = lr->fine[i].hi / 1000 - base;
		if (lr->fine[i].lo >= 0)
			lo = lr->fine[i].lo / 1000 - base;
		if (hi < 0 || lo >= n)
			continue;
		diff[lo < 0 ? 0 : lo]++;
		diff[(hi >= n ? n - 1 : hi) + 1]--;
	}
	for (long i = 0; i < n; i++) {
		cur += diff[i];
		count[i] = cur;
		if (cur > best) {
			best = cur;
			at = i;
		}
	}
	/* most exact matches must agree, or the stamps are not that exact */
	if (best >= 3 && (size_t)best * 2 >= lr->nfine) {
		long a = at, b = at;
		while (a > 0 && count[a - 1] * 10 >= best * 9)
			a--;
		while (b + 1 < n && count[b + 1] * 10 >= best * 9)
			b++;
		struct join_slack *sl = &lr->slack;
		int64_t off = (base + (a + b) / 2) * 1000;
		/* each slack from the farthest miss among the exact matches at
		 * that offset: a line outside its connection, "disconnect
		 * from" away from the last packet, the first packet after
		 * "connect from" */
		int64_t line = 0, end = -1, start = -1;
		for (size_t i = 0; i < lr->nfine; i++) {
			const struct fine *f = &lr->fine[i];
			int64_t miss = off < f->lo ? f->lo - off : off > f->hi ? off - f->hi : 0;
			if (miss > line)
				line = miss;
			if (f->end_d != INT64_MIN) {
				int64_t e = f->end_d + off < 0 ? -(f->end_d + off) : f->end_d + off;
				if (e > end)
					end = e;
			}
			if (f->start_d != INT64_MIN) {
				int64_t s = f->start_d - off > 0 ? f->start_d - off : 0;
				if (s > start)
					start = s;
			}
		}
		lr->precise = true;
		sl->off_us = off;
		sl->line_us = slack_of(line);
		sl->end_us = end >= 0 ? slack_of(end) : sl->line_us + 100000;
		sl->start_us = start >= 0 ? slack_of(start) : sl->line_us;
	}
	free(diff);
	free(count);
}

/* Once the offset is settled the samples have taught what they can: what
 * the join still asks (offered, host_server, claimed) and the counts
 * learn_describe tells stay; the rest goes, a few MiB of the join's peak
 * (ARCHITECTURE.md "Bounds"). */
static void drop_samples(struct learn *lr)
{
	ht_free(lr->xkeys, free);
	ht_free(lr->csample, free);
	lr->xkeys = ht_new();	/* empty: any later lookup finds nothing */
	lr->csample = ht_new();
	ht_free(lr->cs_by_client, idlist_free);
	ht_free(lr->cs_by_server, idlist_free);
	lr->cs_by_client = lr->cs_by_server = NULL;
	free(lr->csamples);
	lr->csamples = NULL;
	lr->ncsamples = 0;
	free(lr->hist);
	lr->hist = NULL;
	free(lr->samples);
	lr->samples = NULL;
	lr->capsamples = 0;	/* nsamples stays: the count */
	free(lr->fine);
	lr->fine = NULL;
	lr->capfine = 0;	/* nfine stays */
}

static void settle(struct learn *lr, bool fixed, long skew)
{
	lr->fixed = fixed;
	if (fixed) {
		lr->offset = skew;
		lr->how = "fixed by --skew";
		return;
	}
	long off;
	if (lr->nsamples) {
		qsort(lr->samples, lr->nsamples, sizeof *lr->samples, cmp_long);
		lr->offset = lr->samples[lr->nsamples / 2];
		lr->how = "the median offset";
		refine(lr);
	} else if (pairs_offset(lr, &off)) {
		lr->offset = off;
		lr->how = "no exact match: the offset most address and time pairs allow";
	} else {
		lr->how = "no exact match: assumed 0";
	}
}

void learn_settle(struct learn *lr, bool fixed, long skew)
{
	settle(lr, fixed, skew);
	drop_samples(lr);
	lr->settled = true;
}

void learn_set_bound(struct learn *lr, long bound)
{
	if (bound > 0 && bound <= 86400)
		lr->bound = bound;
}

long learn_offset(const struct learn *lr)
{
	return lr->offset;
}

bool learn_precise(const struct learn *lr, struct join_slack *slack)
{
	*slack = lr->slack;
	return lr->precise;
}

bool learn_offered(const struct learn *lr, const char *server, int port)
{
	char k[96];
	addr_port_key(k, sizeof k, server, port);
	return ht_get(lr->offered, k, strlen(k)) != NULL;
}

bool learn_host_serves(const struct learn *lr, const struct message *m, const char *server,
		       int port)
{
	char hk[300], hs[400], sk[96];
	host_key(m, hk, sizeof hk);
	addr_port_key(sk, sizeof sk, server, port);
	snprintf(hs, sizeof hs, "%s|%s", hk, sk);
	/* seen answering there; else some other log host was: not this one */
	return ht_get(lr->host_server, hs, strlen(hs)) || !ht_get(lr->claimed, sk, strlen(sk));
}

void learn_describe(const struct learn *lr, char *b, size_t bl)
{
	char pairs[96] = "";
	if (!lr->fixed && !lr->nsamples && lr->pair_best)
		snprintf(pairs, sizeof pairs, ", %lu of %lu pairs agree", lr->pair_best, lr->npairs);
	char fine[96] = "";
	if (lr->precise)
		snprintf(fine, sizeof fine, "; %+.3f s +- %.3f s from %zu sub-second stamps",
			 (double)lr->slack.off_us / 1e6, (double)lr->slack.line_us / 1e6, lr->nfine);
	char refused[160] = "";
	if (lr->odd_form || lr->too_far)
		snprintf(refused, sizeof refused, " (not taken: %lu with a queue ID not of its "
			 "MTA's form, %lu beyond --skew-max %ld s)", lr->odd_form, lr->too_far,
			 lr->bound);
	snprintf(b, bl, "%s%s, %zu exact matches%s%s", lr->how ? lr->how : "no exact match: assumed 0",
		 pairs, lr->nsamples, refused, fine);
}
