/* audit.c - the audit summary of the text and HTML reports
 * (report/audit.h).  The data is gathered once per message; text and HTML
 * render the same facts in the same order. */
#include "audit.h"
#include "coverage.h"
#include "domains.h"
#include "escape.h"
#include "manifest.h"
#include "summary.h"
#include "../rules/policy.h"
#include "../model/verdict.h"
#include "../util/addr.h"
#include "../util/hashtab.h"
#include "../util/timeconv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULES_MAX 1000		/* (severity, verdict, rule) counters */
#define WHERE_MAX 4		/* destinations a rule's headline names */
#define INPUTS_FIRST 10		/* inputs the first screen lists */
#define PARTNERS_MAX 1000	/* partner domains counted by name */
#define FIRST_DOMAINS 8		/* domains the first screen's enforcement names */

struct finding {
	time_t ts;
	enum ev_dir dir;
	char *host, *qid, *mid, *peer, *rcpt, *rule, *verdict, *explain, *evidence, *position;
	bool claim;
};

/* Hops one rule judged at one severity and verdict. */
struct rule_count {
	char *rule, *verdict, *example;
	int sev;
	unsigned long hops;
	char *where[WHERE_MAX];
	size_t nwhere;
};

/* Delivered hops to one partner domain (the policy's "partners"). */
struct partner {
	char *name;
	unsigned long hops, enforced, opportunistic;
};

struct audit {
	const struct writer_env *env;
	bool has_partners;
	struct hashtab *partners;	/* name -> struct partner */
	struct partner **pv;
	size_t np;
	unsigned long partners_past;	/* hops to partner domains past PARTNERS_MAX */
	long max;
	struct summary sum;
	struct domains *doms;
	struct finding *f[5];
	size_t nf[5];
	unsigned long count[5];		/* findings by severity rank, listed or not */
	/* hops whose log and capture disagree, whatever their verdict: the
	 * evidence itself is in question (slot 0 of f-like storage) */
	struct finding *conf;
	size_t nconf;
	unsigned long conflicts;
	struct hashtab *rules;
	struct rule_count **rv;
	size_t nr, capr;
	unsigned long rules_past;	/* hops whose counter did not fit */
	time_t first, last;		/* of the messages */
	/* login records from logs [0] and captures [1]; with credentials in clear */
	unsigned long logins[2], logins_clear[2];
};

struct audit *audit_new(const struct writer_env *env)
{
	struct audit *a = xcalloc(1, sizeof *a);
	a->env = env;
	a->max = env->max_findings > 0 ? env->max_findings : AUDIT_FINDINGS_DEFAULT;
	a->doms = domains_new();
	a->rules = ht_new();
	a->partners = ht_new();
	a->has_partners = env->policy && policy_partner(env->policy, NULL) >= 0;
	return a;
}

static void finding_free(struct finding *f)
{
	free(f->host);
	free(f->qid);
	free(f->mid);
	free(f->peer);
	free(f->rcpt);
	free(f->rule);
	free(f->verdict);
	free(f->explain);
	free(f->evidence);
	free(f->position);
}

void audit_free(struct audit *a)
{
	if (!a)
		return;
	for (int s = 0; s < 5; s++) {
		for (size_t i = 0; i < a->nf[s]; i++)
			finding_free(&a->f[s][i]);
		free(a->f[s]);
	}
	for (size_t i = 0; i < a->nconf; i++)
		finding_free(&a->conf[i]);
	free(a->conf);
	for (size_t i = 0; i < a->nr; i++) {
		struct rule_count *r = a->rv[i];
		free(r->rule);
		free(r->verdict);
		free(r->example);
		for (size_t k = 0; k < r->nwhere; k++)
			free(r->where[k]);
		free(r);
	}
	free(a->rv);
	ht_free(a->rules, NULL);
	for (size_t i = 0; i < a->np; i++) {
		free(a->pv[i]->name);
		free(a->pv[i]);
	}
	free(a->pv);
	ht_free(a->partners, NULL);
	domains_free(a->doms);
	free(a);
}

/* Where a hop went: the recipient's domain outbound, the peer inbound. */
static void where_of(const struct hop *h, char *out, size_t n)
{
	if (h->dir == DIR_OUT && addr_domain_of(h->rcpt, out, n))
		return;
	snprintf(out, n, "%s", h->peer_host ? h->peer_host : h->peer_ip ? h->peer_ip : "?");
}

static void count_rule(struct audit *a, const struct hop *h, int sev)
{
	char key[400];
	snprintf(key, sizeof key, "%d %s %s", sev, h->verdict, h->rule ? h->rule : "-");
	struct rule_count *r = ht_get(a->rules, key, strlen(key));
	if (!r) {
		if (a->nr >= RULES_MAX) {
			a->rules_past++;
			return;
		}
		r = xcalloc(1, sizeof *r);
		r->rule = xstrdup(h->rule ? h->rule : "-");
		r->verdict = xstrdup(h->verdict);
		r->sev = sev;
		r->example = xstrdup_or_null(h->explain);
		ht_put(a->rules, key, strlen(key), r);
		if (a->nr == a->capr) {
			a->capr = a->capr ? a->capr * 2 : 16;
			a->rv = xrealloc(a->rv, a->capr * sizeof *a->rv);
		}
		a->rv[a->nr++] = r;
	}
	r->hops++;
	char w[256];
	where_of(h, w, sizeof w);
	for (size_t k = 0; k < r->nwhere; k++)
		if (strcmp(r->where[k], w) == 0)
			return;
	if (r->nwhere < WHERE_MAX)
		r->where[r->nwhere++] = xstrdup(w);
}

static void fill_finding(struct audit *a, struct finding *f, const struct message *m,
			 const struct hop *h, const char *explain)
{
	memset(f, 0, sizeof *f);
	f->ts = h->ts ? h->ts : m->first_seen;
	f->dir = h->dir;
	f->host = xstrdup_or_null(m->host);
	if (m->login) {		/* "imap login of alice" where a queue ID stands */
		struct buf l;
		buf_init(&l);
		buf_printf(&l, "%s login", m->login->service);
		if (h->sasl_username)
			buf_printf(&l, " of %s", h->sasl_username);
		f->qid = l.p;
	} else {
		f->qid = xstrdup_or_null(m->qid);
	}
	f->mid = xstrdup_or_null(m->message_id);
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "%s[%s]", h->peer_host ? h->peer_host : "-", h->peer_ip ? h->peer_ip : "-");
	f->peer = b.p;
	f->rcpt = xstrdup_or_null(h->rcpt);
	f->rule = xstrdup_or_null(h->rule);
	f->verdict = xstrdup_or_null(h->verdict);
	f->explain = xstrdup_or_null(explain);
	f->position = xstrdup_or_null(h->position);
	f->claim = h->claim;
	buf_init(&b);
	for (size_t i = 0; i < h->nev; i++)
		buf_printf(&b, i ? " %s%s%lu" : "%s%s%lu", writer_file(a->env, h->ev[i].file_id),
			   h->ev[i].frame ? "#frame=" : ":", h->ev[i].line);
	f->evidence = b.p;
}

static void add_finding(struct audit *a, const struct message *m, const struct hop *h, int sev)
{
	a->count[sev]++;
	if ((long)a->nf[sev] >= a->max)
		return;		/* counted, not listed */
	a->f[sev] = xrealloc(a->f[sev], (a->nf[sev] + 1) * sizeof *a->f[sev]);
	fill_finding(a, &a->f[sev][a->nf[sev]++], m, h, h->explain);
}

static void add_conflict(struct audit *a, const struct message *m, const struct hop *h)
{
	a->conflicts++;
	if ((long)a->nconf >= a->max)
		return;
	a->conf = xrealloc(a->conf, (a->nconf + 1) * sizeof *a->conf);
	fill_finding(a, &a->conf[a->nconf++], m, h,
		     h->conflict_detail ? h->conflict_detail : "the capture disagrees with the log");
}

/* A delivered outbound hop to a partner domain: counted by domain. */
static void partner_seen(struct audit *a, const struct hop *h)
{
	char dom[256];
	if (!a->has_partners || h->dir != DIR_OUT || h->local || h->filter ||
	    h->outcome != OUTCOME_SENT || !addr_domain_of(h->rcpt, dom, sizeof dom) ||
	    policy_partner(a->env->policy, dom) != 1)
		return;
	struct partner *x = ht_get(a->partners, dom, strlen(dom));
	if (!x) {
		if (a->np >= PARTNERS_MAX) {
			a->partners_past++;
			return;
		}
		x = xcalloc(1, sizeof *x);
		x->name = xstrdup(dom);
		ht_put(a->partners, x->name, strlen(x->name), x);
		a->pv = xrealloc(a->pv, (a->np + 1) * sizeof *a->pv);
		a->pv[a->np++] = x;
	}
	x->hops++;
	if (h->tls.enforced == TRI_YES)
		x->enforced++;
	else if (h->tls.enforced == TRI_NO)
		x->opportunistic++;
}

static void hop_seen(struct audit *a, const struct message *m, const struct hop *h)
{
	partner_seen(a, h);
	if (!h->verdict)
		return;
	int sev = severity_rank(h->severity);
	if (sev < 0)
		sev = 0;
	bool encrypted = strcmp(h->verdict, "encrypted") == 0;
	if (sev > 0 && !h->local)
		add_finding(a, m, h, sev);
	if (h->conflict)
		add_conflict(a, m, h);
	if (sev > 0 || !encrypted)
		count_rule(a, h, sev);
}

void audit_message(struct audit *a, const struct message *m)
{
	if (m->login) {		/* README "Retrieval": counted apart, judged alike */
		/* by source: Dovecot's line and a capture of the same login are
		 * two records of it, not joined */
		int src = m->inbound.source == SRC_PCAP;
		a->logins[src]++;
		if (m->inbound.tls.used == TRI_NO && m->inbound.sasl_method)
			a->logins_clear[src]++;
		hop_seen(a, m, &m->inbound);
		if (!a->first || (m->first_seen && m->first_seen < a->first))
			a->first = m->first_seen;
		if (m->last_seen > a->last)
			a->last = m->last_seen;
		return;
	}
	summary_add(&a->sum, m);
	domains_message(a->doms, m);
	if (!a->first || (m->first_seen && m->first_seen < a->first))
		a->first = m->first_seen;
	if (m->last_seen > a->last)
		a->last = m->last_seen;
	size_t nh = (m->has_inbound ? 1u : 0u) + m->ndl;
	for (size_t i = 0; i < nh; i++)
		hop_seen(a, m, (m->has_inbound && i == 0) ? &m->inbound
							  : &m->dl[i - (m->has_inbound ? 1 : 0)]);
}

struct domains *audit_domains(struct audit *a)
{
	return a->doms;
}

/* ---- the facts both renderings share ------------------------------------- */

static void iso(time_t t, char *out, size_t n)
{
	if (!t) {
		snprintf(out, n, "open");
		return;
	}
	fmt_iso_utc(t, out, n);
}

static int cmp_rule(const void *x, const void *y)
{
	const struct rule_count *p = *(struct rule_count *const *)x;
	const struct rule_count *q = *(struct rule_count *const *)y;
	if (p->sev != q->sev)
		return q->sev - p->sev;
	if (p->hops != q->hops)
		return p->hops > q->hops ? -1 : 1;
	int c = strcmp(p->rule, q->rule);
	return c ? c : strcmp(p->verdict, q->verdict);
}

/* "3 critical findings: stripped-starttls (2), external-plaintext (1) -
 * strip.test, example.org", or that there is none. */
static int headline(struct audit *a, struct buf *b)
{
	int top = 0;
	for (int s = 4; s >= 1 && !top; s--)
		if (a->count[s])
			top = s;
	if (!top) {
		buf_printf(b, "No findings: every one of the %lu hops%s judged was encrypted or "
			      "accepted by the policy.", a->sum.hops + a->logins[0] + a->logins[1],
			   a->logins[0] + a->logins[1] ? " and logins" : "");
		return 0;
	}
	buf_printf(b, "%lu %s finding%s: ", a->count[top], severity_names[top],
		   a->count[top] == 1 ? "" : "s");
	int shown = 0;
	for (size_t i = 0; i < a->nr && shown < 2; i++) {
		const struct rule_count *r = a->rv[i];
		if (r->sev != top)
			continue;
		if (shown)
			buf_adds(b, " ");
		/* the first such hop's own explanation, then the rule and where */
		if (r->example) {
			size_t n = strlen(r->example);
			buf_add(b, r->example, n && r->example[n - 1] == '.' ? n - 1 : n);
		} else {
			buf_adds(b, r->rule);
		}
		buf_printf(b, " (rule %s, %lu hop%s: ", r->rule, r->hops, r->hops == 1 ? "" : "s");
		for (size_t k = 0; k < r->nwhere; k++)
			buf_printf(b, "%s%s", k ? ", " : "", r->where[k]);
		if (r->nwhere == WHERE_MAX)
			buf_adds(b, " ...");
		buf_adds(b, ").");
		shown++;
	}
	for (int s = top - 1; s >= 1; s--)
		if (a->count[s])
			buf_printf(b, " %lu %s.", a->count[s], severity_names[s]);
	return top;
}

/* The report's weakest point beside its findings: what the logs could not
 * say (README "Audit report: coverage gaps") - hops of epochs that logged
 * no TLS line, hosts silent for hours - in the headline, not only far
 * below it.  At most three hosts named. */
static void gaps_headline(struct buf *b, const struct writer_end *end)
{
	unsigned long unknown = 0, silent = 0;
	size_t named = 0, hosts_unknown = 0;
	for (size_t i = 0; end->hosts && i < end->nhosts; i++) {
		const struct coverage_host *h = &end->hosts[i];
		unsigned long n = 0;
		for (size_t k = 0; k < h->nquiet; k++)
			n += (h->quiet[k].client_quiet ? h->quiet[k].deliveries : 0) +
			     (h->quiet[k].server_quiet ? h->quiet[k].receipts : 0);
		unknown += n;
		hosts_unknown += n > 0;
		silent += h->gap_hours;
	}
	if (!unknown && !silent)
		return;
	buf_adds(b, " Coverage gaps:");
	if (unknown) {
		buf_printf(b, " TLS unknown for %lu hop%s on ", unknown, unknown == 1 ? "" : "s");
		for (size_t i = 0; i < end->nhosts; i++) {
			const struct coverage_host *h = &end->hosts[i];
			bool quiet = false;
			for (size_t k = 0; k < h->nquiet && !quiet; k++)
				quiet = h->quiet[k].client_quiet || h->quiet[k].server_quiet;
			if (!quiet || named == 3)
				continue;
			if (named++)
				buf_adds(b, ", ");
			text_safe(b, h->name ? h->name : "(other hosts)");
		}
		if (hosts_unknown > named)
			buf_printf(b, " and %zu more", hosts_unknown - named);
		buf_adds(b, " (no TLS line logged: TLS logging off?)");
	}
	if (silent)
		buf_printf(b, "%s %lu silent hour%s", unknown ? ";" : "", silent, silent == 1 ? "" : "s");
	buf_adds(b, ".");
}

struct facts {
	char asked_from[32], asked_to[32], seen_from[32], seen_to[32], generated[32];
	unsigned long out_hops, enforced, opportunistic;
	struct buf head;
	int top;
};

static void facts(struct audit *a, const struct writer_end *end, struct facts *f)
{
	if (a->nr)
		qsort(a->rv, a->nr, sizeof *a->rv, cmp_rule);
	iso(a->env->since, f->asked_from, sizeof f->asked_from);
	iso(a->env->until, f->asked_to, sizeof f->asked_to);
	bool lines = end->hosts && end->first;	/* else captures or messages only */
	time_t s0 = lines ? end->first : a->first, s1 = lines ? end->last : a->last;
	iso(s0, f->seen_from, sizeof f->seen_from);
	iso(s1, f->seen_to, sizeof f->seen_to);
	iso(end->man->generated, f->generated, sizeof f->generated);
	domains_enforcement_totals(a->doms, &f->out_hops, &f->enforced, &f->opportunistic);
	buf_init(&f->head);
	f->top = headline(a, &f->head);
	gaps_headline(&f->head, end);
}

static double pct(unsigned long x, unsigned long of)
{
	return of ? 100.0 * (double)x / (double)of : 0.0;
}

static int cmp_partner(const void *x, const void *y)
{
	const struct partner *p = *(struct partner *const *)x, *q = *(struct partner *const *)y;
	if (p->hops != q->hops)
		return p->hops > q->hops ? -1 : 1;
	return strcmp(p->name, q->name);
}

/* The first screen's per-domain enforcement: the policy's partner domains
 * (strict.yaml's "partners"), each "name E of N enforced", or that none
 * was delivered to; without partners, the busiest recipient domains. */
static void partners_brief(struct audit *a, struct buf *b, void (*esc)(struct buf *, const char *))
{
	if (!a->has_partners) {
		buf_adds(b, "by recipient domain (the policy names no partners): ");
		domains_enforcement_brief(a->doms, b, esc, FIRST_DOMAINS);
		return;
	}
	if (a->np)
		qsort(a->pv, a->np, sizeof *a->pv, cmp_partner);
	buf_adds(b, "to the policy's partner domains: ");
	if (!a->np)
		buf_adds(b, "no delivery");
	for (size_t i = 0; i < a->np && i < FIRST_DOMAINS; i++) {
		const struct partner *x = a->pv[i];
		if (i)
			buf_adds(b, ", ");
		esc(b, x->name);
		buf_printf(b, " %lu of %lu enforced", x->enforced, x->hops);
	}
	if (a->np > FIRST_DOMAINS)
		buf_printf(b, ", and %zu more", a->np - FIRST_DOMAINS);
	if (a->partners_past)
		buf_printf(b, " (%lu deliveries to partner domains past %d names counted apart)",
			   a->partners_past, PARTNERS_MAX);
}

/* ---- text ------------------------------------------------------------------ */

static void text_gaps(struct buf *b, const struct writer_end *end)
{
	if (!end->hosts) {
		buf_adds(b, "  (this run read only the windows of time around a lookup: "
			    "no coverage is measured)\n");
		return;
	}
	if (!end->nhosts)
		buf_adds(b, "  (no log lines: nothing to measure)\n");
	for (size_t i = 0; i < end->nhosts; i++) {
		const struct coverage_host *h = &end->hosts[i];
		char a0[32], a1[32];
		iso(h->first, a0, sizeof a0);
		iso(h->last, a1, sizeof a1);
		buf_adds(b, "  ");
		text_safe(b, h->name ? h->name : "(other hosts)");
		buf_printf(b, ": %lu lines, %s to %s, %lu restart%s\n", h->lines, a0, a1, h->restarts,
			   h->restarts == 1 ? "" : "s");
		if (!h->gap_hours)
			buf_adds(b, "    no silent hour inside the period\n");
		else
			buf_printf(b, "    %lu silent hour%s inside the period:", h->gap_hours,
				   h->gap_hours == 1 ? "" : "s");
		for (size_t k = 0; k < h->ngaps; k++) {
			iso(h->gaps[k].from, a0, sizeof a0);
			iso(h->gaps[k].to, a1, sizeof a1);
			buf_printf(b, "%s %s to %s", k ? "," : "", a0, a1);
		}
		if (h->gap_hours)
			buf_adds(b, h->ngaps < 20 ? "\n" : " ...\n");
		for (size_t k = 0; k < h->nquiet; k++) {
			const struct coverage_quiet *q = &h->quiet[k];
			iso(q->from, a0, sizeof a0);
			iso(q->to, a1, sizeof a1);
			buf_printf(b, "    %s to %s: ", a0, a1);
			if (q->client_quiet)
				buf_printf(b, "%lu deliveries and no client TLS line", q->deliveries);
			if (q->server_quiet)
				buf_printf(b, "%s%lu receipts and no server TLS line",
					   q->client_quiet ? "; " : "", q->receipts);
			buf_adds(b, " (TLS logging off, or no TLS)\n");
		}
		if (h->hours_cut)
			buf_adds(b, "    (the period is longer than the hour map: later hours unmeasured)\n");
	}
}

void audit_text(struct audit *a, struct buf *b, const struct writer_end *end)
{
	struct facts f;
	facts(a, end, &f);
	const struct manifest *man = end->man;
	buf_adds(b, "TRANSMISSION SECURITY REPORT");
	if (a->env->org) {
		buf_adds(b, ": ");
		text_safe(b, a->env->org);
	}
	buf_printf(b, "\n\n%s\n\n", f.head.p);
	buf_printf(b, "Period asked     %s to %s\nPeriod observed  %s to %s\n", f.asked_from,
		   f.asked_to, f.seen_from, f.seen_to);
	buf_printf(b, "Scope            %zu log host%s, %zu input%s\n", end->nhosts,
		   end->nhosts == 1 ? "" : "s", man->nin, man->nin == 1 ? "" : "s");
	for (size_t i = 0; i < man->nin; i++) {
		buf_printf(b, "  %s  ", man->in[i].hashed ? man->in[i].sha256 : "(not hashed)");
		text_safe(b, man->in[i].path);
		buf_addc(b, '\n');
	}
	buf_adds(b, "Policy           ");
	text_safe(b, man->policy);
	/* no generation time or report id here: they are in the manifest at
	 * the end, and the body stays the same bytes for the same evidence */
	buf_addc(b, '\n');
	if (man->case_id || man->custodian) {
		buf_adds(b, "Case             ");
		text_safe(b, man->case_id ? man->case_id : "-");
		buf_adds(b, ", custodian ");
		text_safe(b, man->custodian ? man->custodian : "-");
		buf_addc(b, '\n');
	}
	buf_printf(b, "\nMessages %lu, hops %lu\n  verdict    ", a->sum.messages, a->sum.hops);
	for (int v = 0; v < 4; v++)
		buf_printf(b, " %s %lu", verdict_names[v], a->sum.hop_verdict[v]);
	buf_adds(b, "\n  severity   ");
	for (int s = 4; s >= 0; s--)
		buf_printf(b, " %s %lu", severity_names[s], a->sum.hop_severity[s]);
	for (int k = 0; k < 2; k++)
		if (a->logins[k])
			buf_printf(b, "\nLogins           %lu in %s, %lu with credentials in clear",
				   a->logins[k], k ? "captures" : "Dovecot's log", a->logins_clear[k]);
	buf_printf(b, "\nEnforcement      %lu outbound deliveries: %lu enforced (%.0f%%), %lu "
		   "opportunistic, %lu not stated\n                 ", f.out_hops, f.enforced,
		   pct(f.enforced, f.out_hops), f.opportunistic,
		   f.out_hops - f.enforced - f.opportunistic);
	partners_brief(a, b, text_safe);
	buf_addc(b, '\n');
	for (int s = 4; s >= 1; s--) {
		if (!a->count[s])
			continue;
		buf_printf(b, "\nFINDINGS: %s (%lu)\n", severity_names[s], a->count[s]);
		for (size_t i = 0; i < a->nf[s]; i++) {
			const struct finding *x = &a->f[s][i];
			char t[32];
			iso(x->ts, t, sizeof t);
			buf_printf(b, "  %s  ", t);
			text_safe(b, x->host);
			buf_addc(b, '/');
			text_safe(b, x->qid);
			buf_printf(b, "  %s ", x->dir == DIR_OUT ? "to" : "from");
			text_safe(b, x->dir == DIR_OUT && x->rcpt ? x->rcpt : x->peer);
			buf_printf(b, "  %s/", x->verdict);
			text_safe(b, x->rule);
			if (x->position) {
				buf_adds(b, "  (Received header, ");
				text_safe(b, x->position);
				buf_adds(b, x->claim ? ", a claim)" : ")");
			}
			buf_adds(b, "\n    ");
			text_safe(b, x->explain);
			buf_adds(b, "\n    evidence: ");
			text_safe(b, x->evidence);
			buf_addc(b, '\n');
		}
		if (a->count[s] > a->nf[s])
			buf_printf(b, "  ... %lu more (--max-findings, or --format json lists every one)\n",
				   a->count[s] - a->nf[s]);
	}
	if (a->conflicts) {
		buf_printf(b, "\nLOG AND CAPTURE DISAGREE (%lu)\n", a->conflicts);
		for (size_t i = 0; i < a->nconf; i++) {
			const struct finding *x = &a->conf[i];
			buf_adds(b, "  ");
			text_safe(b, x->host);
			buf_addc(b, '/');
			text_safe(b, x->qid);
			buf_adds(b, ": ");
			text_safe(b, x->explain);
			buf_adds(b, "\n    evidence: ");
			text_safe(b, x->evidence);
			buf_addc(b, '\n');
		}
	}
	buf_adds(b, "\nACCEPTED OR NOT TRANSMITTED (info, counted)\n");
	bool any = false;
	for (size_t i = 0; i < a->nr; i++) {
		const struct rule_count *r = a->rv[i];
		if (r->sev != 0)
			continue;
		buf_printf(b, "  %8lu  %s/", r->hops, r->verdict);
		text_safe(b, r->rule);
		buf_addc(b, '\n');
		any = true;
	}
	if (!any)
		buf_adds(b, "  none\n");
	buf_adds(b, "\nUNKNOWN HOPS BY REASON\n");
	any = false;
	for (size_t i = 0; i < a->nr; i++) {
		const struct rule_count *r = a->rv[i];
		if (strcmp(r->verdict, "unknown") != 0)
			continue;
		buf_printf(b, "  %8lu  %s (%s): ", r->hops, r->rule, severity_names[r->sev]);
		text_safe(b, r->example);
		buf_addc(b, '\n');
		any = true;
	}
	if (!any)
		buf_adds(b, "  none\n");
	buf_printf(b, "\nENFORCEMENT BY RECIPIENT DOMAIN\n");
	domains_enforcement(a->doms, b, false, AUDIT_DOMAINS_SHOWN);
	buf_adds(b, "\nCOVERAGE GAPS\n");
	text_gaps(b, end);
	buf_adds(b, "\n");
	buf_free(&f.head);
}

/* ---- HTML ------------------------------------------------------------------ */

static const char *const sev_class[5] = { "info", "low", "medium", "high", "critical" };

static void html_gaps(struct buf *b, const struct writer_end *end)
{
	if (!end->hosts) {
		buf_adds(b, "<p>This run read only the windows of time around a lookup: no coverage "
			    "is measured.</p>\n");
		return;
	}
	buf_adds(b, "<table><tr><th>host</th><th>lines</th><th>first and last line</th>"
		    "<th>restarts</th><th>silent hours inside the period</th>"
		    "<th>epochs that logged mail but no TLS line</th></tr>\n");
	for (size_t i = 0; i < end->nhosts; i++) {
		const struct coverage_host *h = &end->hosts[i];
		char a0[32], a1[32];
		iso(h->first, a0, sizeof a0);
		iso(h->last, a1, sizeof a1);
		buf_adds(b, "<tr><td>");
		html_safe(b, h->name ? h->name : "(other hosts)");
		buf_printf(b, "</td><td>%lu</td><td>%s<br>%s</td><td>%lu</td><td>", h->lines, a0, a1,
			   h->restarts);
		if (!h->gap_hours)
			buf_adds(b, "none");
		else
			buf_printf(b, "%lu h:", h->gap_hours);
		for (size_t k = 0; k < h->ngaps; k++) {
			iso(h->gaps[k].from, a0, sizeof a0);
			iso(h->gaps[k].to, a1, sizeof a1);
			buf_printf(b, "<br>%s to %s", a0, a1);
		}
		if (h->hours_cut)
			buf_adds(b, "<br>(later hours past the hour map)");
		buf_adds(b, "</td><td>");
		if (!h->nquiet)
			buf_adds(b, "none");
		for (size_t k = 0; k < h->nquiet; k++) {
			const struct coverage_quiet *q = &h->quiet[k];
			iso(q->from, a0, sizeof a0);
			iso(q->to, a1, sizeof a1);
			buf_printf(b, "%s%s to %s:", k ? "<br>" : "", a0, a1);
			if (q->client_quiet)
				buf_printf(b, " %lu deliveries, no client TLS line;", q->deliveries);
			if (q->server_quiet)
				buf_printf(b, " %lu receipts, no server TLS line;", q->receipts);
			buf_adds(b, " TLS logging off, or no TLS");
		}
		buf_adds(b, "</td></tr>\n");
	}
	buf_adds(b, "</table>\n");
}

static const char FINDINGS_HEAD[] =
	"<table class=\"findings\"><colgroup><col class=\"c-time\"><col class=\"c-id\">"
	"<col class=\"c-where\"><col class=\"c-rule\"><col><col class=\"c-ev\"></colgroup>\n"
	"<tr><th>time (UTC)</th><th>host / queue ID</th><th>to or from</th>"
	"<th>verdict / rule</th><th>explanation</th><th>evidence</th></tr>\n";

static void html_finding_row(struct buf *b, const struct finding *x)
{
	char t[32];
	iso(x->ts, t, sizeof t);
	buf_printf(b, "<tr><td>%s</td><td>", t);
	html_safe(b, x->host);
	buf_adds(b, "<br><code>");
	html_safe(b, x->qid);
	buf_printf(b, "</code></td><td>%s ", x->dir == DIR_OUT ? "to" : "from");
	html_safe(b, x->dir == DIR_OUT && x->rcpt ? x->rcpt : x->peer);
	if (x->dir == DIR_OUT) {
		buf_adds(b, "<br>via ");
		html_safe(b, x->peer);
	}
	if (x->position) {
		buf_adds(b, "<br>Received header: ");
		html_safe(b, x->position);
		if (x->claim)
			buf_adds(b, ", a claim");
	}
	buf_adds(b, "</td><td>");
	html_safe(b, x->verdict);
	buf_adds(b, "<br><code>");
	html_safe(b, x->rule);
	buf_adds(b, "</code></td><td>");
	html_safe(b, x->explain);
	buf_adds(b, "</td><td class=\"ev\">");
	html_safe(b, x->evidence);
	buf_adds(b, "</td></tr>\n");
}

static void html_findings(struct audit *a, struct buf *b)
{
	bool any = false;
	for (int s = 4; s >= 1; s--) {
		if (!a->count[s])
			continue;
		any = true;
		buf_printf(b, "<h3 class=\"s-%s\">%s: %lu</h3>\n", sev_class[s], severity_names[s],
			   a->count[s]);
		buf_adds(b, FINDINGS_HEAD);
		for (size_t i = 0; i < a->nf[s]; i++)
			html_finding_row(b, &a->f[s][i]);
		buf_adds(b, "</table>\n");
		if (a->count[s] > a->nf[s])
			buf_printf(b, "<p>%lu more %s findings are counted, not listed "
				   "(<code>--max-findings</code>; <code>--format json</code> lists every "
				   "one).</p>\n", a->count[s] - a->nf[s], severity_names[s]);
	}
	if (!any)
		buf_adds(b, "<p>None above info.</p>\n");
	if (a->conflicts) {
		buf_printf(b, "<h3>Log and capture disagree: %lu</h3>\n<p>Hops whose log lines and "
			   "capture show different facts, whatever their verdict: the explanation "
			   "says what differs.</p>\n", a->conflicts);
		buf_adds(b, FINDINGS_HEAD);
		for (size_t i = 0; i < a->nconf; i++)
			html_finding_row(b, &a->conf[i]);
		buf_adds(b, "</table>\n");
	}
}

static void html_rule_table(struct audit *a, struct buf *b, bool unknown)
{
	bool any = false;
	for (size_t i = 0; i < a->nr; i++) {
		const struct rule_count *r = a->rv[i];
		if (unknown ? strcmp(r->verdict, "unknown") != 0 : r->sev != 0)
			continue;
		if (!any)
			buf_printf(b, "<table><tr><th>hops</th><th>%s</th><th>%s</th></tr>\n",
				   unknown ? "rule (severity)" : "verdict / rule",
				   unknown ? "reason, as the first such hop gives it" : "to or from");
		any = true;
		buf_printf(b, "<tr><td>%lu</td><td><code>", r->hops);
		if (!unknown) {
			html_safe(b, r->verdict);
			buf_addc(b, '/');
		}
		html_safe(b, r->rule);
		buf_adds(b, "</code>");
		if (unknown)
			buf_printf(b, " (%s)", severity_names[r->sev]);
		buf_adds(b, "</td><td>");
		if (unknown) {
			html_safe(b, r->example);
		} else {
			for (size_t k = 0; k < r->nwhere; k++) {
				if (k)
					buf_adds(b, ", ");
				html_safe(b, r->where[k]);
			}
		}
		buf_adds(b, "</td></tr>\n");
	}
	if (any)
		buf_adds(b, "</table>\n");
	else
		buf_adds(b, "<p>None.</p>\n");
}

void audit_html(struct audit *a, struct buf *b, const struct writer_end *end)
{
	struct facts f;
	facts(a, end, &f);
	const struct manifest *man = end->man;
	buf_adds(b, "<h1>Transmission security report");
	if (a->env->org) {
		buf_adds(b, ": ");
		html_safe(b, a->env->org);
	}
	buf_printf(b, "</h1>\n<p class=\"headline s-%s\">", sev_class[f.top]);
	html_safe(b, f.head.p);
	buf_adds(b, "</p>\n<table class=\"facts\">\n");
	buf_printf(b, "<tr><th>period asked</th><td>%s to %s</td></tr>\n"
		   "<tr><th>period observed</th><td>%s to %s</td></tr>\n", f.asked_from, f.asked_to,
		   f.seen_from, f.seen_to);
	buf_printf(b, "<tr><th>scope</th><td>%zu log host%s", end->nhosts,
		   end->nhosts == 1 ? "" : "s");
	for (size_t i = 0; i < end->nhosts && i < 10; i++) {
		buf_adds(b, i ? ", " : ": ");
		html_safe(b, end->hosts[i].name ? end->hosts[i].name : "(other hosts)");
	}
	if (end->nhosts > 10)
		buf_printf(b, " and %zu more", end->nhosts - 10);
	buf_printf(b, "; %zu input%s, SHA-256:", man->nin, man->nin == 1 ? "" : "s");
	for (size_t i = 0; i < man->nin && i < INPUTS_FIRST; i++) {
		buf_adds(b, "<br><code class=\"hash\">");
		buf_adds(b, man->in[i].hashed ? man->in[i].sha256 : "(not hashed)");
		buf_adds(b, "</code> ");
		html_safe(b, man->in[i].path);
	}
	if (man->nin > INPUTS_FIRST)
		buf_printf(b, "<br>and %zu more (the manifest lists every one)", man->nin - INPUTS_FIRST);
	buf_adds(b, "</td></tr>\n<tr><th>policy</th><td><code>");
	html_safe(b, man->policy);
	buf_printf(b, "</code></td></tr>\n<tr><th>generated</th><td>%s, report <code>%s</code>",
		   f.generated, man->report_id);
	if (man->case_id) {
		buf_adds(b, "; case ");
		html_safe(b, man->case_id);
	}
	if (man->custodian) {
		buf_adds(b, "; custodian ");
		html_safe(b, man->custodian);
	}
	buf_adds(b, "</td></tr>\n</table>\n");
	buf_printf(b, "<table class=\"counts\"><tr><th>%lu messages, %lu hops</th>",
		   a->sum.messages, a->sum.hops);
	for (int s = 4; s >= 0; s--)
		buf_printf(b, "<th class=\"s-%s\">%s</th>", sev_class[s], severity_names[s]);
	buf_adds(b, "</tr>\n<tr><th>hops by severity</th>");
	for (int s = 4; s >= 0; s--)
		buf_printf(b, "<td>%lu</td>", a->sum.hop_severity[s]);
	buf_adds(b, "</tr>\n<tr><th>hops by verdict</th>");
	for (int v = 0; v < 4; v++)
		buf_printf(b, "<td>%s %lu</td>", verdict_names[v], a->sum.hop_verdict[v]);
	buf_adds(b, "<td></td></tr>\n</table>\n");
	for (int k = 0; k < 2; k++)
		if (a->logins[k])
			buf_printf(b, "<p class=\"enf\">Logins to mailboxes in %s: %lu, %lu with "
				   "credentials in clear.</p>\n", k ? "captures" : "Dovecot's log",
				   a->logins[k], a->logins_clear[k]);
	buf_printf(b, "<p class=\"enf\">Enforcement: of %lu outbound deliveries, %lu (%.0f%%) went "
		   "at a TLS level that forbade plaintext, %lu at an opportunistic level, %lu where "
		   "the evidence does not state it; ", f.out_hops, f.enforced,
		   pct(f.enforced, f.out_hops), f.opportunistic,
		   f.out_hops - f.enforced - f.opportunistic);
	partners_brief(a, b, html_safe);
	buf_adds(b, ".</p>\n");
	buf_adds(b, "<h2>Findings by severity</h2>\n");
	html_findings(a, b);
	if (end->flush)
		end->flush(end->flush_arg);
	buf_adds(b, "<h2>Enforcement by recipient domain</h2>\n");
	domains_enforcement(a->doms, b, true, AUDIT_DOMAINS_SHOWN);
	buf_adds(b, "<h2>Coverage gaps</h2>\n");
	html_gaps(b, end);
	buf_adds(b, "<h3>Unknown hops by reason</h3>\n");
	html_rule_table(a, b, true);
	buf_adds(b, "<h3>Accepted by the policy or not transmitted (info, counted)</h3>\n");
	html_rule_table(a, b, false);
	buf_free(&f.head);
}
