/* tlsrpt.c - RFC 8460 (SMTP TLS Reporting) aggregate reports for the
 * outbound hops: one report per recipient domain and UTC day, written as
 * one JSON object per line, with exactly the RFC's field names (section
 * 4.4).  The policy type is the one the evidence shows in force
 * (tls.policy_type: "tlsa" from tls=dane or a DANE match line, "sts" from
 * the policy table), else "no-policy-found"; a report lists one policy
 * entry per type seen that day.  A session here is one delivery hop.
 * Result types (section 4.3): plaintext - "starttls-not-supported"
 * (stripped or refused STARTTLS included: the sender saw no usable
 * STARTTLS); an untrusted certificate - "certificate-not-trusted"; where
 * Postfix 3.10+ logged its own TLSRPT result, that result type.
 * Hops the evidence cannot decide are left out of both counts. */
#include "tlsrpt.h"
#include "manifest.h"
#include "escape.h"
#include "../util/addr.h"
#include "../util/hashtab.h"
#include "../util/timeconv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct detail {
	char *result, *mx, *ip;
	unsigned long count;
};

/* A report: its domain and day after it in the same block (up to
 * TLSRPT_MAX_REPORTS of them are held). */
struct domain_day {
	char *domain, *day;
	unsigned long ok, failed;
	struct detail *d;
	unsigned char type;		/* enum policy_type */
	unsigned char nd;		/* at most TLSRPT_MAX_DETAILS */
};

/* Reports kept (recipient domain and day), and failure details a report
 * lists: past them sessions are counted (tlsrpt_account) or summed
 * without detail, so memory stays bounded. */
#define TLSRPT_MAX_REPORTS 100000
#define TLSRPT_MAX_DETAILS 64
_Static_assert(TLSRPT_MAX_DETAILS <= 255, "a report counts its details in a byte");

struct tlsrpt {
	struct writer_base base;
	unsigned long unreported;	/* sessions past TLSRPT_MAX_REPORTS */
	struct hashtab *by_key;
	struct domain_day **v;
	size_t n, cap;
};

static void *tlsrpt_begin(struct buf *out, const struct writer_env *env)
{
	struct tlsrpt *t = xcalloc(1, sizeof *t);
	t->base.out = out;
	t->base.env = env;
	t->by_key = ht_new();
	return t;
}

static void tlsrpt_free(void *w)
{
	struct tlsrpt *t = w;
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		struct domain_day *dd = t->v[i];
		for (size_t k = 0; k < dd->nd; k++) {
			free(dd->d[k].result);
			free(dd->d[k].mx);
			free(dd->d[k].ip);
		}
		free(dd->d);
		free(dd);
	}
	free(t->v);
	ht_free(t->by_key, NULL);
	free(t);
}

static struct domain_day *slot(struct tlsrpt *t, const char *domain, const char *day,
			      enum policy_type type)
{
	char key[600];
	snprintf(key, sizeof key, "%s %s %d", domain, day, (int)type);
	struct domain_day *dd = ht_get(t->by_key, key, strlen(key));
	if (dd || t->n >= TLSRPT_MAX_REPORTS)
		return dd;
	size_t dl = strlen(domain) + 1, yl = strlen(day) + 1;
	dd = xcalloc(1, sizeof *dd + dl + yl);
	dd->domain = memcpy((char *)(dd + 1), domain, dl);
	dd->day = memcpy(dd->domain + dl, day, yl);
	dd->type = (unsigned char)type;
	ht_put(t->by_key, key, strlen(key), dd);
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->v = xrealloc(t->v, t->cap * sizeof *t->v);
	}
	t->v[t->n++] = dd;
	return dd;
}

static void failure(struct domain_day *dd, const char *result, const char *mx, const char *ip,
		    unsigned long n)
{
	for (size_t k = 0; k < dd->nd; k++) {
		struct detail *d = &dd->d[k];
		if (strcmp(d->result, result) == 0 && strcmp(d->mx ? d->mx : "", mx ? mx : "") == 0 &&
		    strcmp(d->ip ? d->ip : "", ip ? ip : "") == 0) {
			d->count += n;
			return;
		}
	}
	if (dd->nd >= TLSRPT_MAX_DETAILS)
		return;	/* counted in the summary, not detailed */
	dd->d = xrealloc(dd->d, (dd->nd + 1) * sizeof *dd->d);
	dd->d[dd->nd++] = (struct detail){ xstrdup(result), xstrdup_or_null(mx),
					   xstrdup_or_null(ip), n };
}

/* One attempt as RFC 8460 section 4.4 counts it: a session, unless it
 * reused a connection already counted (conn_use > 1) or made none. */
static void count_session(struct tlsrpt *t, const struct message *m, const struct hop *h,
			  const char *domain)
{
	if (h->local || h->outcome == OUTCOME_NO_CONNECTION || h->conn_use > 1 ||
	    h->tls.level == TLSL_NONE)
		return;		/* level none: no TLS tried, no policy applied */
	/* RFC 8460 4.3.1: a handshake that broke is a "validation-failure",
	 * a server without STARTTLS "starttls-not-supported". */
	const char *result = NULL;
	if (h->tls.tlsrpt == TR_FAILURE)	/* the MTA's own classification */
		result = h->tls.tlsrpt_failure ? h->tls.tlsrpt_failure : "validation-failure";
	/* A plaintext retry after the failed handshake is no TLS session of
	 * its own: the attempt counts once, as the failure. */
	else if (h->tls.used == TRI_NO && h->tls.offered == TRI_YES && h->tls.stripped != TRI_YES)
		result = "validation-failure";
	else if (h->tls.used == TRI_NO || h->tls.offered == TRI_NO)
		result = "starttls-not-supported";
	else if (h->tls.used == TRI_YES && h->tls.cert == CERT_UNTRUSTED)
		result = "certificate-not-trusted";
	else if (h->tls.used != TRI_YES && h->tls.tlsrpt != TR_SUCCESS)
		return;		/* nothing known of this session's TLS */
	char day[32];
	fmt_iso_utc(h->ts ? h->ts : m->first_seen, day, sizeof day);
	day[10] = '\0';
	struct domain_day *dd = slot(t, domain, day, h->tls.policy_type);
	if (!dd) {
		t->unreported += h->attempts;
		return;
	}
	if (result) {
		dd->failed += h->attempts;
		failure(dd, result, h->peer_host, h->peer_ip, h->attempts);
	} else {
		dd->ok += h->attempts;
	}
}

static void tlsrpt_message(void *w, const struct message *m)
{
	struct tlsrpt *t = w;
	for (size_t i = 0; i < m->ndl; i++) {
		const struct hop *h = &m->dl[i];
		char domain[256];
		if (h->local || !addr_domain_of(h->rcpt, domain, sizeof domain))
			continue;
		for (size_t k = 0; k < h->ntries; k++)
			count_session(t, m, &h->tries[k], domain);
		count_session(t, m, h, domain);
	}
}

static int cmp_dd(const void *a, const void *b)
{
	const struct domain_day *x = *(struct domain_day *const *)a;
	const struct domain_day *y = *(struct domain_day *const *)b;
	int c = strcmp(x->day, y->day);
	if (!c)
		c = strcmp(x->domain, y->domain);
	return c ? c : (int)x->type - (int)y->type;
}

static void policy_entry(struct buf *b, const struct domain_day *dd)
{
	const char *type = dd->type == PT_TLSA ? "tlsa" : dd->type == PT_STS ? "sts"
										: "no-policy-found";
	buf_printf(b, "{\"policy\":{\"policy-type\":\"%s\",\"policy-domain\":", type);
	json_str(b, dd->domain);
	buf_printf(b, "},\"summary\":{\"total-successful-session-count\":%lu,"
		   "\"total-failure-session-count\":%lu}", dd->ok, dd->failed);
	if (dd->nd) {
		buf_adds(b, ",\"failure-details\":[");
		for (size_t k = 0; k < dd->nd; k++) {
			const struct detail *d = &dd->d[k];
			if (k)
				buf_addc(b, ',');
			buf_adds(b, "{\"result-type\":");
			json_str(b, d->result);
			if (d->ip) {
				buf_adds(b, ",\"receiving-ip\":");
				json_str(b, d->ip);
			}
			if (d->mx) {
				buf_adds(b, ",\"receiving-mx-hostname\":");
				json_str(b, d->mx);
			}
			buf_printf(b, ",\"failed-session-count\":%lu}", d->count);
		}
		buf_addc(b, ']');
	}
	buf_addc(b, '}');
}

static void tlsrpt_write(void *w, const struct writer_end *end)
{
	struct tlsrpt *t = w;
	struct buf *b = t->base.out;
	const char *org = t->base.env->org ? t->base.env->org : "tlswitness";
	const char *contact = t->base.env->contact;
	const char *report_id = end->man->report_id;
	if (t->n)
		qsort(t->v, t->n, sizeof *t->v, cmp_dd);
	for (size_t i = 0; i < t->n; i++) {
		const struct domain_day *dd = t->v[i];
		buf_adds(b, "{\"organization-name\":");
		json_str(b, org);
		buf_printf(b, ",\"date-range\":{\"start-datetime\":\"%sT00:00:00Z\","
			   "\"end-datetime\":\"%sT23:59:59Z\"},\"contact-info\":", dd->day, dd->day);
		json_str(b, contact);
		char id[160];
		snprintf(id, sizeof id, "%s-%s-%s", dd->day, dd->domain, report_id);
		buf_adds(b, ",\"report-id\":");
		json_str(b, id);
		buf_adds(b, ",\"policies\":[");
		policy_entry(b, dd);
		/* the same domain and day under other policy types */
		while (i + 1 < t->n && strcmp(t->v[i + 1]->day, dd->day) == 0 &&
		       strcmp(t->v[i + 1]->domain, dd->domain) == 0) {
			buf_addc(b, ',');
			policy_entry(b, t->v[++i]);
		}
		buf_adds(b, "]}\n");
		if (end->flush)		/* up to 100,000 reports: not all held at once */
			end->flush(end->flush_arg);
	}
}

static void tlsrpt_account(void *w, FILE *f)
{
	struct tlsrpt *t = w;
	if (t->unreported)
		fprintf(f, "tlswitness: tlsrpt: %lu sessions to domains past the first %d "
			"domain-days are in no report\n", t->unreported, TLSRPT_MAX_REPORTS);
}

/* RFC 8460's reports only: a manifest line would not be a report. */
const struct writer_class writer_tlsrpt = {
	.name = "tlsrpt",
	.input = WRITER_MESSAGES,
	.begin = tlsrpt_begin,
	.message = tlsrpt_message,
	.finish = tlsrpt_write,
	.account = tlsrpt_account,
	.free = tlsrpt_free,
};
