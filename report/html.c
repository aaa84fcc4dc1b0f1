/* html.c - one self-contained HTML report: no script, no external style,
 * font or image (it opens offline and prints).  Summary first (counts per
 * verdict and severity, an inline SVG chart of hops per day and verdict,
 * the peers and recipient domains that saw plaintext or weak TLS), then
 * every exception (each hop not plainly encrypted, or in conflict with its
 * capture) with its rule,
 * explanation and evidence, then the manifest.  Every byte from the
 * evidence is HTML-escaped (&, <, >, ", '), control characters and invalid
 * UTF-8 made visible: nothing in a log can add an element.
 * Memory: per-day and per-peer counters, and the exception rows. */
#include "html.h"
#include "audit.h"
#include "domains.h"
#include "escape.h"
#include "manifest.h"
#include "../model/verdict.h"
#include "../util/addr.h"
#include "../util/hashtab.h"
#include "../util/timeconv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct counts {
	unsigned long v[4];
};

#define HTML_DETAIL_MAX 200	/* messages shown one by one, at most */
/* Peers and domains the plaintext tables count by name; past them, one
 * row for the rest. */
#define HTML_NAMES_MAX 10000

struct html {
	struct writer_base base;
	struct audit *audit;		/* the summary, findings, coverage */
	struct hashtab *days, *peers, *domains;
	struct buf detail;
	unsigned long messages;
};

static void *html_begin(struct buf *out, const struct writer_env *env)
{
	struct html *h = xcalloc(1, sizeof *h);
	h->base.out = out;
	h->base.env = env;
	h->audit = audit_new(env);
	h->days = ht_new();
	h->peers = ht_new();
	h->domains = ht_new();
	buf_init(&h->detail);
	return h;
}

static void html_free(void *w)
{
	struct html *h = w;
	if (!h)
		return;
	audit_free(h->audit);
	ht_free(h->days, free);
	ht_free(h->peers, free);
	ht_free(h->domains, free);
	buf_free(&h->detail);
	free(h);
}

static struct counts *counter(struct hashtab *ht, const char *key)
{
	if (!key)
		key = "-";
	struct counts *c = ht_get(ht, key, strlen(key));
	if (!c) {
		if (ht_count(ht) >= HTML_NAMES_MAX)
			key = "(others)";	/* one row for the names past the limit */
		c = ht_get(ht, key, strlen(key));
	}
	if (!c) {
		c = xcalloc(1, sizeof *c);
		ht_put(ht, key, strlen(key), c);
	}
	return c;
}

static void hop_seen(struct html *h, const struct message *m, const struct hop *hp)
{
	int v = verdict_rank(hp->verdict);
	if (v < 0)
		return;
	char day[32];
	fmt_iso_utc(hp->ts ? hp->ts : m->first_seen, day, sizeof day);
	day[10] = '\0';
	counter(h->days, day)->v[v]++;
	if (v >= 2) {	/* weak or plaintext */
		char peer[300];
		snprintf(peer, sizeof peer, "%s [%s]", hp->peer_host ? hp->peer_host : "-",
			 hp->peer_ip ? hp->peer_ip : "-");
		counter(h->peers, peer)->v[v]++;
		char dom[256];
		if (hp->dir == DIR_OUT)
			counter(h->domains, addr_domain_of(hp->rcpt, dom, sizeof dom))->v[v]++;
	}
}

/* Per-message detail for small runs: every hop of every message. */
static void detail(struct html *h, const struct message *m)
{
	struct buf *b = &h->detail;
	if (h->messages > HTML_DETAIL_MAX) {
		buf_free(b);
		return;
	}
	buf_adds(b, "<tr><td>");
	html_safe(b, m->host);
	buf_adds(b, "<br><code>");
	html_safe(b, m->qid);
	buf_adds(b, "</code></td><td>");
	html_safe(b, m->message_id);
	buf_adds(b, "<br>");
	html_safe(b, m->from);
	buf_printf(b, "</td><td>%s</td><td>", m->verdict ? m->verdict : "");
	size_t nh = (m->has_inbound ? 1u : 0u) + m->ndl;
	for (size_t i = 0; i < nh; i++) {
		const struct hop *hp = (m->has_inbound && i == 0) ? &m->inbound
								  : &m->dl[i - (m->has_inbound ? 1 : 0)];
		if (i)
			buf_adds(b, "<br>");
		buf_printf(b, "%s ", hp->dir == DIR_OUT ? "&rarr;" : "&larr;");
		html_safe(b, hp->dir == DIR_OUT ? hp->rcpt : hp->peer_host);
		buf_adds(b, " [");
		html_safe(b, hp->peer_ip);
		buf_printf(b, "]: %s, ", hp->verdict ? hp->verdict : "");
		if (hp->tls.used == TRI_YES)
			html_safe(b, tls_version_name(hp->tls.version) ? tls_version_name(hp->tls.version)
								  : "TLS");
		else
			buf_adds(b, hp->tls.used == TRI_NO ? "no TLS" : "TLS unknown");
	}
	buf_adds(b, "</td></tr>\n");
}

static void html_message(void *w, const struct message *m)
{
	struct html *h = w;
	audit_message(h->audit, m);
	if (m->login)
		return;		/* in the summary's findings and counts only */
	h->messages++;
	detail(h, m);
	if (m->has_inbound)
		hop_seen(h, m, &m->inbound);
	for (size_t i = 0; i < m->ndl; i++)
		hop_seen(h, m, &m->dl[i]);
}

struct keyed {
	const char *k;
	struct counts *c;
};

struct sorted {
	struct keyed *v;
	size_t n, cap;
};

static void collect(const char *k, size_t kl, void *val, void *arg)
{
	(void)kl;
	struct sorted *s = arg;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = (struct keyed){ k, val };
}

static int cmp_keyed(const void *a, const void *b)
{
	return strcmp(((const struct keyed *)a)->k, ((const struct keyed *)b)->k);
}

/* By key (keys are distinct: the order is total), O(n log n). */
static void sort_keys(struct sorted *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof *s->v, cmp_keyed);
}

static const char *const colours[4] = { "#2e7d32", "#9e9e9e", "#ef6c00", "#c62828" };

static void chart(struct buf *b, struct hashtab *days)
{
	struct sorted s = { 0 };
	ht_foreach(days, collect, &s);
	sort_keys(&s);
	unsigned long max = 1;
	for (size_t i = 0; i < s.n; i++) {
		unsigned long t = 0;
		for (int v = 0; v < 4; v++)
			t += s.v[i].c->v[v];
		if (t > max)
			max = t;
	}
	const int W = 28, gap = 8, H = 160, left = 40;
	int width = left + (int)s.n * (W + gap) + 20;
	if (width < 420)
		width = 420;
	buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		   "role=\"img\" aria-label=\"hops per day and verdict\">\n", width, H + 90);
	buf_printf(b, "<text x=\"0\" y=\"12\" font-size=\"11\">%lu</text>"
		   "<text x=\"0\" y=\"%d\" font-size=\"11\">0</text>\n", max, H + 10);
	for (size_t i = 0; i < s.n; i++) {
		int x = left + (int)i * (W + gap), y = H + 10;
		for (int v = 0; v < 4; v++) {
			int hgt = (int)((double)s.v[i].c->v[v] * H / (double)max + 0.5);
			if (!hgt)
				continue;
			y -= hgt;
			buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\">"
				   "<title>%s %s: %lu</title></rect>\n", x, y, W, hgt, colours[v],
				   s.v[i].k, verdict_names[v], s.v[i].c->v[v]);
		}
		buf_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"9\" transform=\"rotate(45 %d %d)\">"
			   "%s</text>\n", x, H + 24, x, H + 24, s.v[i].k);
	}
	for (int v = 0; v < 4; v++)
		buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
			   "<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>\n", left + v * 90,
			   H + 74, colours[v], left + v * 90 + 14, H + 83, verdict_names[v]);
	buf_adds(b, "</svg>\n");
	free(s.v);
}

static void count_table(struct buf *b, struct hashtab *ht, const char *what)
{
	struct sorted s = { 0 };
	ht_foreach(ht, collect, &s);
	sort_keys(&s);
	if (!s.n) {
		buf_printf(b, "<p>No %s received plaintext or weak TLS.</p>\n", what);
	} else {
		buf_printf(b, "<table><tr><th>%s</th><th>plaintext</th><th>weak</th></tr>\n", what);
		for (size_t i = 0; i < s.n; i++) {
			buf_adds(b, "<tr><td>");
			html_safe(b, s.v[i].k);
			buf_printf(b, "</td><td>%lu</td><td>%lu</td></tr>\n", s.v[i].c->v[3], s.v[i].c->v[2]);
		}
		buf_adds(b, "</table>\n");
	}
	free(s.v);
}

static void html_write(void *w, const struct writer_end *end)
{
	struct html *h = w;
	struct buf *b = h->base.out;
	const struct manifest *man = end->man;
	/* Fits 1280 px without scrolling sideways (long names and hashes
	 * wrap), and prints on A4 with the findings' rows kept whole. */
	buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		 "<meta name=\"viewport\" content=\"width=device-width\">\n"
		 "<title>tlswitness report</title>\n<style>\n"
		 "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em 2em;color:#222;"
		 "max-width:1216px}\n"
		 "h1{font-size:22px;margin:0 0 .4em}h2{font-size:18px;margin:1.4em 0 .4em;"
		 "border-bottom:1px solid #ccc}h3{font-size:15px;margin:1em 0 .3em}\n"
		 "table{border-collapse:collapse;margin:.5em 0 1em;max-width:100%}"
		 "td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top;text-align:left;"
		 "overflow-wrap:break-word}\n"
		 ".ev,code.hash,table.facts td,table.findings td{overflow-wrap:anywhere}\n"
		 "pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px}\n"
		 "th{background:#f0f0f0}code{font-size:12px}.ev{font:11px monospace}"
		 "code.hash{font-size:11px}\n"
		 ".headline{font-size:17px;font-weight:600;padding:.5em .8em;border-left:6px solid;"
		 "margin:.3em 0 .8em}\n"
		 ".headline.s-critical{border-color:#b71c1c;background:#fdecea}"
		 ".headline.s-high{border-color:#e65100;background:#fff3e0}"
		 ".headline.s-medium{border-color:#f9a825;background:#fffde7}"
		 ".headline.s-low{border-color:#546e7a;background:#eceff1}"
		 ".headline.s-info{border-color:#2e7d32;background:#e8f5e9}\n"
		 "h3.s-critical,th.s-critical{color:#b71c1c}h3.s-high,th.s-high{color:#e65100}"
		 "h3.s-medium,th.s-medium{color:#8d6e00}h3.s-low,th.s-low{color:#455a64}"
		 "th.s-info{color:#555}\n"
		 "table.facts th{width:9em}table.findings{width:100%;table-layout:fixed}"
		 "col.c-time{width:10em}col.c-id{width:9em}col.c-where{width:13em}"
		 "col.c-rule{width:11em}col.c-ev{width:14em}\n"
		 "@page{size:A4;margin:12mm}\n"
		 "@media print{body{margin:0;font-size:10px;max-width:none}"
		 "table.findings{font-size:9px}.ev{font-size:8px}tr{page-break-inside:avoid}"
		 "h2,h3{page-break-after:avoid}}\n"
		 "</style></head><body>\n");
	audit_html(h->audit, b, end);
	buf_adds(b, "<h2>Hops per day and verdict</h2>\n");
	chart(b, h->days);
	buf_adds(b, "<h3>Peers that received or sent plaintext or weak TLS</h3>\n");
	count_table(b, h->peers, "peer");
	buf_adds(b, "<h3>Recipient domains that received plaintext or weak TLS</h3>\n");
	count_table(b, h->domains, "recipient domain");
	buf_adds(b, "<h2>Domains and peers</h2>\n");
	domains_html(audit_domains(h->audit), b);
	if (h->messages <= HTML_DETAIL_MAX && h->detail.n) {
		buf_adds(b, "<h2>Messages</h2>\n<table><tr><th>host / queue ID</th><th>Message-ID / "
			 "sender</th><th>verdict</th><th>hops</th></tr>\n");
		buf_add(b, h->detail.p, h->detail.n);
		buf_adds(b, "</table>\n");
	} else if (h->messages > HTML_DETAIL_MAX) {
		buf_printf(b, "<p>More than %d messages: the per-message detail is left out "
			   "(--format json has every one).</p>\n", HTML_DETAIL_MAX);
	}
	buf_adds(b, "<h2>Evidence manifest</h2>\n<pre>");
	manifest_html(b, man, html_safe);
	buf_adds(b, "</body></html>\n");
}

const struct writer_class writer_html = {
	.name = "html",
	.input = WRITER_MESSAGES,
	.begin = html_begin,
	.message = html_message,
	.logins = true,
	.finish = html_write,
	.free = html_free,
};
