/* failures.c - the summary of what tripped --fail-on (cli/failures.h). */
#include "failures.h"
#include "../model/verdict.h"
#include "../util/textsafe.h"
#include "../util/timeconv.h"
#include <stdlib.h>
#include <string.h>

/* The hop that made the message's verdict: of the highest tier, the
 * worst verdict, then the worst severity (model/verdict.h). */
static const struct hop *worst_hop(const struct message *m)
{
	const struct hop *best = NULL;
	long bestk = -1;
	size_t nh = (m->has_inbound ? 1u : 0u) + m->ndl;
	for (size_t i = 0; i < nh; i++) {
		const struct hop *h = (m->has_inbound && i == 0) ? &m->inbound
								 : &m->dl[i - (m->has_inbound ? 1 : 0)];
		long k = verdict_tier(h) * 100 + verdict_rank(h->verdict) * 10 +
			 severity_rank(h->severity);
		if (k > bestk) {
			best = h;
			bestk = k;
		}
	}
	return best;
}

void failures_add(struct failures *f, const struct message *m)
{
	f->n++;
	int v = verdict_rank(m->verdict), s = severity_rank(m->severity);
	if (v >= 0)
		f->by_verdict[v]++;
	if (s >= 0)
		f->by_severity[s]++;
	if (f->nfirst == FAILURES_SHOWN)
		return;
	const struct hop *h = worst_hop(m);
	char iso[32];
	fmt_iso_utc(h && h->ts ? h->ts : m->first_seen, iso, sizeof iso);
	struct buf b;
	buf_init(&b);
	if (m->login)	/* a login record (README "Retrieval"): service and user */
		buf_printf(&b, "  %s %s/%s-login %s %s ", iso, text_shown(m->host ? m->host : "-"),
			   text_shown(m->login->service), m->verdict, m->severity);
	else
		buf_printf(&b, "  %s %s/%s %s %s ", iso, text_shown(m->host),
			   text_shown(m->qid ? m->qid : "-"), m->verdict, m->severity);
	/* the hop's own verdict and severity beside its rule: the message's
	 * may come from another hop, or from its tier */
	if (h && m->login)
		buf_printf(&b, "by %s from [%s] rule %s (%s, %s)",
			   text_shown(h->sasl_username ? h->sasl_username : "-"),
			   text_shown(h->peer_ip ? h->peer_ip : "-"), h->rule ? h->rule : "-",
			   h->verdict ? h->verdict : "-", h->severity ? h->severity : "-");
	else if (h)
		buf_printf(&b, "%s %s %s[%s] rule %s (%s, %s)", h->dir == DIR_OUT ? "to" : "from",
			   text_shown(h->dir == DIR_OUT ? h->rcpt : m->from),
			   text_shown(h->peer_host ? h->peer_host : "-"),
			   text_shown(h->peer_ip ? h->peer_ip : "-"), h->rule ? h->rule : "-",
			   h->verdict ? h->verdict : "-", h->severity ? h->severity : "-");
	f->first[f->nfirst++] = b.p;
}

void failures_report(const struct failures *f, const char *threshold, const char *report,
		     FILE *out)
{
	if (!f->n)
		return;
	fprintf(out, "tlswitness: --fail-on %s: %lu message%s at or above it (", threshold, f->n,
		f->n == 1 ? "" : "s");
	bool first = true;
	for (int v = 3; v >= 0; v--)
		if (f->by_verdict[v]) {
			fprintf(out, "%s%lu %s", first ? "" : ", ", f->by_verdict[v], verdict_names[v]);
			first = false;
		}
	for (int s = 4; s >= 0; s--)
		if (f->by_severity[s]) {
			fprintf(out, "%s%lu %s", first ? "" : ", ", f->by_severity[s], severity_names[s]);
			first = false;
		}
	fprintf(out, "); the report: %s\n", report ? text_shown(report) : "standard output");
	for (size_t i = 0; i < f->nfirst; i++)
		fprintf(out, "%s\n", f->first[i]);
	if (f->n > f->nfirst)
		fprintf(out, "  ... and %lu more\n", f->n - f->nfirst);
}

void failures_free(struct failures *f)
{
	for (size_t i = 0; i < f->nfirst; i++)
		free(f->first[i]);
}
