/* domains.c - who can take TLS: per recipient domain (outbound) and per
 * sending peer (inbound), over the period read: deliveries and messages,
 * how many went over TLS, in plaintext or unknown, the versions, ciphers
 * and certificate trust seen, whether the server offered STARTTLS,
 * stripped or refused STARTTLS, first and last seen.  From that, policy maps that make TLS mandatory where it is safe:
 * Postfix smtp_tls_policy_maps (postconf(5): "encrypt", "verify") and
 * Sendmail access map TLS_Srv: entries (cf/README: "ENCR:bits",
 * "VERIFY:bits").  A domain whose plaintext deliveries were all stripped or
 * refused STARTTLS (the server can do TLS; something in between stopped
 * it) is a downgrade victim and goes into the map; a domain whose servers
 * did not offer STARTTLS is listed apart, so nothing is switched on that
 * would bounce its mail.
 * Memory: one small record per domain and per peer. */
#include "domains.h"
#include "escape.h"
#include "jsonw.h"
#include "manifest.h"
#include "../util/addr.h"
#include "../util/hashtab.h"
#include "../util/intern.h"
#include "../util/timeconv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEEN_MAX 8	/* versions or ciphers listed per domain */
/* Names kept (recipient domains and sending peers together): past it, a
 * new name's hops go to its direction's "other" row, so the table's memory
 * is bounded whatever the input holds. */
#define DOMAINS_MAX 100000
/* Rows the text and HTML tables show a direction: the names with the most
 * hops (then by name), and one row for the rest. */
#define TABLE_ROWS 200

/* A row: about 190 bytes, its name after it in the same block (the table
 * holds up to DOMAINS_MAX of them). */
struct dom {
	char *name;			/* NULL: an "other" row */
	/* ciphers: the intern store's when the hop's were (util/intern.h),
	 * else owned; grown as they come, to SEEN_MAX */
	char **seen_c;
	unsigned long hops, tls, plain, unknown, stripped, messages;
	unsigned long offered, not_offered;	/* STARTTLS in the EHLO reply */
	unsigned long undelivered;	/* recipients no attempt carried the message to */
	unsigned long downgraded;	/* plaintext after a failed handshake */
	/* delivered hops whose level forbade plaintext, and those at an
	 * opportunistic level (README "Enforcement") */
	unsigned long enforced, opportunistic;
	unsigned long cert[5];		/* by enum tls_cert */
	time_t first, last;
	unsigned long last_seq;		/* the message last counted: count each once */
	int min_bits;			/* -1 unknown */
	unsigned char in_force;		/* enum tls_level: the strongest mandatory
					   level any attempt showed in force,
					   delivered or not */
	unsigned char seen_v[SEEN_MAX];	/* enum tls_version, in the order seen */
	unsigned char nv, nc;
	bool outbound;
};

struct domains {
	struct hashtab *ht;
	struct dom **v;
	size_t n, cap;
	unsigned long seq;		/* messages seen */
	struct dom other[2];		/* [outbound]: names past DOMAINS_MAX */
};

struct domains *domains_new(void)
{
	struct domains *d = xcalloc(1, sizeof *d);
	d->ht = ht_new();
	return d;
}

void domains_free(struct domains *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		struct dom *x = d->v[i];
		for (size_t k = 0; k < x->nc; k++)
			intern_free(x->seen_c[k]);
		free(x->seen_c);
		free(x);
	}
	for (int o = 0; o < 2; o++) {
		for (size_t k = 0; k < d->other[o].nc; k++)
			intern_free(d->other[o].seen_c[k]);
		free(d->other[o].seen_c);
	}
	free(d->v);
	ht_free(d->ht, NULL);
	free(d);
}

/* S among the first SEEN_MAX names: true when it is new and there is
 * room (the caller keeps it). */
static bool seen_new(const char *const *list, size_t n, const char *s)
{
	if (!s || n >= SEEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (list[i] == s || strcmp(list[i], s) == 0)
			return false;
	return true;
}

/* A cipher kept (after seen_new): the list doubles as it fills. */
static void cipher_keep(struct dom *x, const char *cipher)
{
	if ((x->nc & (x->nc - 1)) == 0)	/* 0, 1, 2, 4: full */
		x->seen_c = xrealloc(x->seen_c, (x->nc ? 2u * x->nc : 1u) * sizeof *x->seen_c);
	x->seen_c[x->nc++] = intern_dup(cipher);
}

/* The versions seen, as their names, in the order seen. */
static const char *const *version_names(const struct dom *x, const char **names)
{
	for (size_t k = 0; k < x->nv; k++)
		names[k] = tls_version_name((enum tls_version)x->seen_v[k]);
	return names;
}

/* TLS hops of all hops; unknown (negative) when no hop's TLS use is known:
 * 0 would claim every delivery went in plaintext. */
static double tls_share(const struct dom *x)
{
	if (!x->tls && !x->plain)
		return -1.0;
	return (double)x->tls / (double)x->hops;
}

/* The seen versions or ciphers, each escaped by put, joined by sep. */
static void put_list(struct buf *b, const char *const *v, size_t n,
		     void (*put)(struct buf *, const char *), const char *sep)
{
	for (size_t k = 0; k < n; k++) {
		if (k)
			buf_adds(b, sep);
		put(b, v[k]);
	}
}

static struct dom *get(struct domains *d, const char *name, bool outbound)
{
	char key[600];
	snprintf(key, sizeof key, "%c%s", outbound ? '>' : '<', name);
	struct dom *x = ht_get(d->ht, key, strlen(key));
	if (x)
		return x;
	if (d->n >= DOMAINS_MAX) {
		x = &d->other[outbound];	/* name NULL: "other" */
		x->outbound = outbound;
		if (!x->hops && !x->undelivered)
			x->min_bits = -1;
		return x;
	}
	size_t len = strlen(name);
	x = xcalloc(1, sizeof *x + len + 1);
	x->name = memcpy((char *)(x + 1), name, len + 1);
	x->outbound = outbound;
	x->min_bits = -1;
	ht_put(d->ht, key, strlen(key), x);
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 32;
		d->v = xrealloc(d->v, d->cap * sizeof *d->v);
	}
	d->v[d->n++] = x;
	return x;
}

/* Did the server offer STARTTLS, by this attempt or an earlier one? */
static enum tri offered_by(const struct hop *h)
{
	if (h->tls.offered != TRI_UNKNOWN)
		return h->tls.offered;
	for (size_t i = 0; i < h->ntries; i++)
		if (h->tries[i].tls.offered != TRI_UNKNOWN)
			return h->tries[i].tls.offered;
	return TRI_UNKNOWN;
}

/* A recipient no attempt carried the message to (fates.c): counted
 * apart, with what its attempts showed of STARTTLS; never a hop. */
static bool not_carried(const struct hop *h)
{
	return h->outcome != OUTCOME_NONE && h->outcome != OUTCOME_SENT;
}

/* The strongest mandatory level this attempt or its earlier tries
 * showed in force (the enum runs from weak to strong). */
static void note_in_force(struct dom *x, const struct hop *h)
{
	for (size_t i = 0; i <= h->ntries; i++) {
		const struct tls_state *t = i < h->ntries ? &h->tries[i].tls : &h->tls;
		if (t->enforced == TRI_YES && tls_level_mandatory(t->level) && t->level > x->in_force)
			x->in_force = (unsigned char)t->level;
	}
}

static void count(struct dom *x, unsigned long seq, const struct message *m,
		  const struct hop *h)
{
	enum tri offered = offered_by(h);
	note_in_force(x, h);
	time_t t = h->ts ? h->ts : m->first_seen;
	if (!x->first || t < x->first)
		x->first = t;
	if (t > x->last)
		x->last = t;
	if (not_carried(h)) {
		x->undelivered++;
		if (offered == TRI_YES)
			x->offered++;
		else if (offered == TRI_NO)
			x->not_offered++;
		return;
	}
	x->hops++;
	if (h->tls.enforced == TRI_YES)
		x->enforced++;
	else if (h->tls.enforced == TRI_NO)
		x->opportunistic++;
	if (x->last_seq != seq) {
		x->messages++;
		x->last_seq = seq;
	}
	if (h->tls.used == TRI_YES) {
		x->tls++;
		x->cert[h->tls.cert]++;
		if (h->tls.version != TLSV_UNKNOWN && x->nv < SEEN_MAX &&
		    !memchr(x->seen_v, (int)h->tls.version, x->nv))
			x->seen_v[x->nv++] = (unsigned char)h->tls.version;
		if (seen_new((const char *const *)x->seen_c, x->nc, h->tls.cipher))
			cipher_keep(x, h->tls.cipher);
		if (h->tls.bits >= 0 && (x->min_bits < 0 || h->tls.bits < x->min_bits))
			x->min_bits = h->tls.bits;
	} else if (h->tls.used == TRI_NO) {
		x->plain++;
		if (h->tls.stripped == TRI_YES)
			x->stripped++;
		else if (h->tls.downgrade == DOWNGRADE_HANDSHAKE_FAILED)
			x->downgraded++;
	} else {
		x->unknown++;
	}
	if (offered == TRI_YES)
		x->offered++;
	else if (offered == TRI_NO)
		x->not_offered++;
}

void domains_message(struct domains *d, const struct message *m)
{
	if (m->header)
		return;	/* Received headers tell about other systems' hops */
	/* A sequence number, not the message's address: messages are freed
	 * after each call and the next may reuse the address. */
	unsigned long seq = ++d->seq;
	for (size_t i = 0; i < m->ndl; i++) {
		const struct hop *h = &m->dl[i];
		if (h->local || !h->rcpt)
			continue;
		char dom[256];
		if (!addr_domain_of(h->rcpt, dom, sizeof dom))
			continue;
		count(get(d, dom, true), seq, m, h);
	}
	const struct hop *in = &m->inbound;
	if (m->has_inbound && !in->local && in->peer_ip) {
		char peer[300];
		snprintf(peer, sizeof peer, "%s[%s]", in->peer_host ? in->peer_host : "unknown",
			 in->peer_ip);
		count(get(d, peer, false), seq, m, in);
	}
}

static int cmp_dom(const void *a, const void *b)
{
	const struct dom *x = *(struct dom *const *)a, *y = *(struct dom *const *)b;
	if (x->outbound != y->outbound)
		return x->outbound ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void sorted(struct domains *d)
{
	if (d->n)
		qsort(d->v, d->n, sizeof *d->v, cmp_dom);
}

/* One row as a JSON record; x->name NULL: the "other" row of names past
 * DOMAINS_MAX ("domain": null, "other": true). */
static void dom_json(struct buf *b, const struct dom *x)
{
	{
		char a[32], z[32];
		fmt_iso_utc(x->first, a, sizeof a);
		fmt_iso_utc(x->last, z, sizeof z);
		buf_printf(b, "{\"kind\":\"%s\",\"schema_version\":%d,",
			   x->outbound ? "recipient-domain" : "sending-peer", TW_SCHEMA_VERSION);
		if (x->outbound) {
			buf_adds(b, "\"domain\":");
			json_str(b, x->name);
		} else {
			/* peer fields as every format has them: the name is
			 * "host[ip]", as the logs write the client */
			const char *lb = x->name ? strrchr(x->name, '[') : NULL;
			buf_adds(b, "\"peer_host\":");
			if (lb)
				json_strn(b, x->name, (size_t)(lb - x->name));
			else
				json_str(b, x->name);
			buf_adds(b, ",\"peer_ip\":");
			if (lb && strlen(lb) >= 2)
				json_strn(b, lb + 1, strlen(lb) - 2);
			else
				json_str(b, NULL);
		}
		if (!x->name)
			buf_adds(b, ",\"other\":true");
		buf_printf(b, ",\"hops\":%lu,\"messages\":%lu,\"tls\":%lu,\"plaintext\":%lu,"
			   "\"unknown\":%lu,\"stripped_or_refused\":%lu,\"starttls_offered\":%lu,"
			   "\"starttls_not_offered\":%lu,\"downgraded\":%lu,\"undelivered\":%lu,"
			   "\"enforced\":%lu,\"opportunistic\":%lu,\"level_in_force\":",
			   x->hops, x->messages, x->tls,
			   x->plain, x->unknown, x->stripped, x->offered, x->not_offered,
			   x->downgraded, x->undelivered, x->enforced, x->opportunistic);
		json_str(b, tls_level_name(x->in_force));
		buf_adds(b, ",\"tls_share\":");
		double share = tls_share(x);
		if (share < 0)
			buf_adds(b, "null");
		else
			buf_printf(b, "%.3f", share);
		buf_adds(b, ",\"versions\":[");
		put_list(b, version_names(x, (const char *[SEEN_MAX]){ NULL }), x->nv, json_str, ",");
		buf_adds(b, "],\"ciphers\":[");
		put_list(b, (const char *const *)x->seen_c, x->nc, json_str, ",");
		buf_adds(b, "],\"certificates\":{");
		bool f = true;
		for (int c = CERT_ANONYMOUS; c <= CERT_VERIFIED; c++) {
			if (!x->cert[c])
				continue;
			buf_printf(b, "%s\"%s\":%lu", f ? "" : ",", tls_cert_name((enum tls_cert)c),
				   x->cert[c]);
			f = false;
		}
		buf_printf(b, "},\"first_seen\":\"%s\",\"last_seen\":\"%s\"}\n", a, z);
	}
}

void domains_json(struct domains *d, struct buf *b, const struct writer_end *end)
{
	sorted(d);
	for (int o = 1; o >= 0; o--) {
		for (size_t i = 0; i < d->n; i++)
			if (d->v[i]->outbound == (o == 1)) {
				dom_json(b, d->v[i]);
				if (end && end->flush)	/* a table of 100,000 rows is not held twice */
					end->flush(end->flush_arg);
			}
		if (d->other[o].hops || d->other[o].undelivered)
			dom_json(b, &d->other[o]);
	}
}

/* acc += x: the counts of a row the tables sum into "other". */
static void dom_add(struct dom *acc, const struct dom *x)
{
	acc->hops += x->hops;
	acc->tls += x->tls;
	acc->plain += x->plain;
	acc->unknown += x->unknown;
	acc->stripped += x->stripped;
	acc->messages += x->messages;
	acc->offered += x->offered;
	acc->not_offered += x->not_offered;
	acc->undelivered += x->undelivered;
	acc->downgraded += x->downgraded;
	acc->enforced += x->enforced;
	acc->opportunistic += x->opportunistic;
	if (x->in_force > acc->in_force)
		acc->in_force = x->in_force;
	for (int c = 0; c < 5; c++)
		acc->cert[c] += x->cert[c];
	if (x->first && (!acc->first || x->first < acc->first))
		acc->first = x->first;
	if (x->last > acc->last)
		acc->last = x->last;
}

static int cmp_hops(const void *a, const void *b)
{
	const struct dom *x = *(struct dom *const *)a, *y = *(struct dom *const *)b;
	if (x->hops != y->hops)
		return x->hops > y->hops ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp((*(struct dom *const *)a)->name, (*(struct dom *const *)b)->name);
}

/* The rows a table shows for one direction, by name: all its names, or
 * past TABLE_ROWS the TABLE_ROWS with the most hops; the others (and the
 * names past DOMAINS_MAX) summed into *rest, with *nrest names in it
 * (rest->hops 0: no such row).  The caller frees the array. */
static const struct dom **table_rows(struct domains *d, bool outbound, size_t *nrows,
				     struct dom *rest, size_t *nrest)
{
	const struct dom **v = xcalloc(d->n + 1, sizeof *v);
	size_t n = 0;
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i]->outbound == outbound)
			v[n++] = d->v[i];
	memset(rest, 0, sizeof *rest);
	*nrest = 0;
	if (n > TABLE_ROWS) {
		qsort(v, n, sizeof *v, cmp_hops);
		for (size_t i = TABLE_ROWS; i < n; i++)
			dom_add(rest, v[i]);
		*nrest = n - TABLE_ROWS;
		n = TABLE_ROWS;
		qsort(v, n, sizeof *v, cmp_name);
	}
	if (d->other[outbound].hops)
		dom_add(rest, &d->other[outbound]);
	*nrows = n;
	return v;
}

/* "(1234 more domains)", the name of a rest row. */
static void rest_name(char *b, size_t bl, size_t nrest, bool past_limit, bool outbound)
{
	snprintf(b, bl, "(%zu%s more %s%s)", nrest, past_limit ? "+" : "",
		 outbound ? "domains" : "peers", past_limit ? ", past the table's limit" : "");
}

static void text_row(struct buf *b, const char *name, const struct dom *x)
{
	buf_adds(b, "  ");
	text_cell(b, name, 38);
	char offer[48];
	snprintf(offer, sizeof offer, "%lu/%lu", x->offered, x->not_offered);
	char share[16] = "    -";
	if (tls_share(x) >= 0)
		snprintf(share, sizeof share, "%5.1f%%", 100.0 * tls_share(x));
	buf_printf(b, "%6lu %6lu %6lu %7lu %8lu %9s %6s  ", x->hops, x->tls, x->plain,
		   x->unknown, x->stripped, offer, share);
	put_list(b, version_names(x, (const char *[SEEN_MAX]){ NULL }), x->nv, text_safe, ",");
	buf_adds(b, x->nv ? "\n" : "-\n");
}

typedef void (*row_fn)(struct buf *b, const char *name, const struct dom *x);
typedef void (*head_fn)(struct buf *b, bool outbound, bool first_table);

/* Both directions' tables, recipient domains first: head before a table
 * that has rows, row for each row and the rest.  True when any table was
 * written. */
static bool write_tables(struct domains *d, struct buf *b, head_fn head, row_fn row)
{
	sorted(d);
	bool any = false;
	for (int o = 1; o >= 0; o--) {
		size_t n, nrest;
		struct dom rest;
		const struct dom **v = table_rows(d, o, &n, &rest, &nrest);
		if (n || rest.hops) {
			head(b, o, !any);
			any = true;
		}
		for (size_t i = 0; i < n; i++)
			row(b, v[i]->name, v[i]);
		if (rest.hops) {
			char name[96];
			rest_name(name, sizeof name, nrest, d->other[o].hops > 0, o);
			row(b, name, &rest);
		}
		free(v);
	}
	return any;
}

static void text_head(struct buf *b, bool outbound, bool first_table)
{
	buf_printf(b, "\nBy %s\n  %-38s %6s %6s %6s %7s %8s %9s %6s  versions\n",
		   outbound ? "recipient domain (outbound hops)" : "sending peer (inbound hops)",
		   outbound ? "domain" : "peer", "hops", "TLS", "plain", "unknown", "stripped",
		   "offer/not", "TLS%");
}

/* The text report's closing tables: one row per recipient domain, then
 * per sending peer. */
void domains_text(struct domains *d, struct buf *b)
{
	write_tables(d, b, text_head, text_row);
}

static void html_row(struct buf *b, const char *name, const struct dom *x)
{
	char a[32], z[32];
	fmt_iso_utc(x->first, a, sizeof a);
	fmt_iso_utc(x->last, z, sizeof z);
	buf_adds(b, "<tr><td>");
	html_safe(b, name);
	char share[16] = "&ndash;";
	if (tls_share(x) >= 0)
		snprintf(share, sizeof share, "%.1f%%", 100.0 * tls_share(x));
	buf_printf(b, "</td><td>%lu</td><td>%lu</td><td>%lu</td><td>%lu</td><td>%lu</td>"
		   "<td>%lu</td><td>%lu</td><td>%s</td><td>", x->hops, x->tls, x->plain,
		   x->unknown, x->stripped, x->offered, x->not_offered, share);
	put_list(b, version_names(x, (const char *[SEEN_MAX]){ NULL }), x->nv, html_safe, ", ");
	buf_printf(b, "</td><td>%s</td><td>%s</td></tr>\n", a, z);
}

static void html_head(struct buf *b, bool outbound, bool first_table)
{
	buf_printf(b, "%s<h3>TLS by %s</h3>\n<table><tr><th>%s</th><th>hops</th>"
		   "<th>TLS</th><th>plaintext</th><th>unknown</th><th>stripped or "
		   "refused</th><th>STARTTLS offered</th><th>not offered</th>"
		   "<th>TLS share</th><th>versions</th><th>first seen</th>"
		   "<th>last seen</th></tr>\n", first_table ? "" : "</table>\n",
		   outbound ? "recipient domain (outbound hops)" : "sending peer (inbound hops)",
		   outbound ? "domain" : "peer");
}

/* The HTML report's section: the same two tables. */
void domains_html(struct domains *d, struct buf *b)
{
	if (write_tables(d, b, html_head, html_row))
		buf_adds(b, "</table>\n");
}

/* What the map may say for a recipient domain; NULL: leave it out. */
static const char *decide(const struct dom *x, bool *verified, const char **why)
{
	*verified = x->tls && x->cert[CERT_VERIFIED] == x->tls;
	if (!x->tls && !x->plain) {
		*why = x->hops || !x->undelivered ? "no delivery whose TLS use is known"
			: "no message was delivered there (see undelivered)";
		return NULL;
	}
	if (x->plain == 0) {
		*why = "every delivery used TLS";
		return "tls";
	}
	if (x->plain == x->stripped) {
		*why = "its plaintext deliveries were all stripped or refused STARTTLS: "
		       "a downgrade victim";
		return "tls";
	}
	if (x->plain == x->stripped + x->downgraded) {
		/* README "Policy maps": not mapped, since the handshake itself
		 * breaks and requiring TLS would defer the mail until the
		 * server (or what sits between) is fixed. */
		*why = "its servers offer STARTTLS but the handshake failed before every "
		       "plaintext delivery (a downgrade): requiring TLS would defer its mail "
		       "until the handshake is fixed";
		return NULL;
	}
	*why = x->not_offered
	       ? "its servers did not offer STARTTLS (a capture shows their EHLO reply)"
	       : "some deliveries went in plaintext with no sign of interference: "
		 "its servers may not offer STARTTLS";
	return NULL;
}

void domains_policy_map(struct domains *d, struct buf *b, bool sendmail,
			const struct writer_end *end)
{
	sorted(d);
	buf_printf(b, "# %s generated by tlswitness from the evidence read.\n"
		   "# Domains that always used TLS (or lost it only to a stripped or refused\n"
		   "# STARTTLS) are made to require it; the others are listed at the end,\n"
		   "# not in the map, so nothing is switched on that would bounce mail.\n",
		   sendmail ? "Sendmail access map entries (TLS_Srv:)"
			    : "Postfix smtp_tls_policy_maps");
	if (!sendmail)
		buf_adds(b, "# Keys are recipient domains: where transport_maps or relayhost name\n"
			    "# another next hop, Postfix looks that up instead (postconf(5)).\n");
	struct buf apart;
	buf_init(&apart);
	for (size_t i = 0; i < d->n; i++) {
		const struct dom *x = d->v[i];
		if (!x->outbound)
			continue;
		bool verified;
		const char *why;
		const char *what = decide(x, &verified, &why);
		char a[32], z[32];
		fmt_iso_utc(x->first, a, sizeof a);
		fmt_iso_utc(x->last, z, sizeof z);
		a[10] = z[10] = '\0';
		/* The domain comes from the evidence: only safe characters go
		 * into a map line. */
		bool safe = x->name[0] != '\0';
		for (const char *p = x->name; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
			      *p == '-'))
				safe = false;
		/* A level the evidence shows in force is kept, even where nothing
		 * was delivered under it: a map must never weaken a policy
		 * ("encrypt" for a destination at "secure"). */
		const char *kept = NULL;
		if (x->in_force && safe) {
			kept = tls_level_name(x->in_force);
			why = what ? "the level the evidence shows in force, kept"
				   : "the level the evidence shows in force, kept; no delivery "
				     "there is known to have used TLS";
			verified = x->in_force > TLSL_ENCRYPT;
			what = "tls";
		}
		if (!what || !safe) {
			buf_adds(&apart, "#   ");
			text_safe(&apart, x->name);
			buf_printf(&apart, ": %lu TLS, %lu plaintext, %lu unknown", x->tls, x->plain,
				   x->unknown);
			if (x->not_offered)
				buf_printf(&apart, ", STARTTLS not offered in %lu", x->not_offered);
			if (x->undelivered)
				buf_printf(&apart, ", %lu not delivered", x->undelivered);
			buf_printf(&apart, ", %s to %s; %s\n", a, z,
				   safe ? why : "the name holds characters a map cannot");
			continue;
		}
		/* postconf(5) maps and makemap(8) take comments only on lines of
		 * their own: the evidence goes above each entry. */
		buf_printf(b, "# %s: %lu %s (%lu TLS", x->name, x->hops,
		    x->hops == 1 ? "delivery" : "deliveries", x->tls);
		if (x->stripped)
			buf_printf(b, ", %lu stripped or refused STARTTLS", x->stripped);
		if (x->unknown)
			buf_printf(b, ", %lu unknown", x->unknown);
		buf_printf(b, "), %s to %s; %s\n", a, z, why);
		if (sendmail) {
			int bits = x->min_bits >= 128 || x->min_bits < 0 ? 128 : x->min_bits;
			buf_printf(b, "TLS_Srv:%s\t%s:%d\n", x->name, verified ? "VERIFY" : "ENCR", bits);
		} else {
			buf_printf(b, "%s\t%s\n", x->name,
				   kept ? kept : verified ? "verify" : "encrypt");
		}
		if (end && end->flush)	/* the entries on as they come */
			end->flush(end->flush_arg);
	}
	if (d->other[1].hops)
		buf_printf(&apart, "#   %lu deliveries to domains past the table's limit of %d "
			   "names: not tracked one by one, so none of them is mapped\n",
			   d->other[1].hops, DOMAINS_MAX);
	if (apart.n) {
		buf_adds(b, "#\n# Not in the map:\n");
		buf_add(b, apart.p, apart.n);
	}
	buf_free(&apart);
}

void *domains_writer_begin(struct buf *out, const struct writer_env *env)
{
	struct domains_writer *w = xcalloc(1, sizeof *w);
	w->base.out = out;
	w->base.env = env;
	w->doms = domains_new();
	return w;
}

void domains_writer_message(void *w, const struct message *m)
{
	domains_message(((struct domains_writer *)w)->doms, m);
}

static void domains_finish(void *w, const struct writer_end *end)
{
	struct domains_writer *dw = w;
	domains_json(dw->doms, dw->base.out, end);
	manifest_json(dw->base.out, end->man);
}

void domains_writer_free(void *w)
{
	if (w)
		domains_free(((struct domains_writer *)w)->doms);
	free(w);
}

const struct writer_class writer_domains = {
	.name = "domains",
	.input = WRITER_MESSAGES,
	.begin = domains_writer_begin,
	.message = domains_writer_message,
	.finish = domains_finish,
	.free = domains_writer_free,
};

void domains_enforcement_totals(const struct domains *d, unsigned long *hops,
				unsigned long *enforced, unsigned long *opportunistic)
{
	*hops = *enforced = *opportunistic = 0;
	for (size_t i = 0; i <= d->n; i++) {
		const struct dom *x = i < d->n ? d->v[i] : &d->other[1];
		if (!x->outbound)
			continue;
		*hops += x->hops;
		*enforced += x->enforced;
		*opportunistic += x->opportunistic;
	}
}

/* The audit report's enforcement table: the top recipient domains by
 * delivered hops, how many of them went at a level that forbade
 * plaintext, how many at an opportunistic one, the level in force. */
void domains_enforcement(struct domains *d, struct buf *b, bool html, size_t top)
{
	const struct dom **v = xcalloc(d->n + 1, sizeof *v);
	size_t n = 0;
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i]->outbound && (d->v[i]->hops || d->v[i]->in_force))
			v[n++] = d->v[i];
	if (n)
		qsort(v, n, sizeof *v, cmp_hops);
	if (html)
		buf_adds(b, "<table class=\"num\"><tr><th>recipient domain</th><th>deliveries</th>"
			    "<th>enforced</th><th>opportunistic</th><th>not stated</th>"
			    "<th>enforced share</th><th>level in force</th></tr>\n");
	else
		buf_printf(b, "  %-38s %10s %8s %13s %10s %7s  %s\n", "recipient domain", "deliveries",
			   "enforced", "opportunistic", "not stated", "share", "level in force");
	for (size_t i = 0; i < n && i < top; i++) {
		const struct dom *x = v[i];
		unsigned long unstated = x->hops - x->enforced - x->opportunistic;
		char share[16] = "-";
		if (x->hops)
			snprintf(share, sizeof share, "%.0f%%", 100.0 * (double)x->enforced /
				 (double)x->hops);
		const char *lv = tls_level_name(x->in_force) ? tls_level_name(x->in_force) : "-";
		if (html) {
			buf_adds(b, "<tr><td>");
			html_safe(b, x->name);
			buf_printf(b, "</td><td>%lu</td><td>%lu</td><td>%lu</td><td>%lu</td><td>%s</td>"
				   "<td>%s</td></tr>\n", x->hops, x->enforced, x->opportunistic,
				   unstated, share, lv);
		} else {
			buf_adds(b, "  ");
			text_cell(b, x->name, 38);
			buf_printf(b, "%10lu %8lu %13lu %10lu %7s  %s\n", x->hops, x->enforced,
				   x->opportunistic, unstated, share, lv);
		}
	}
	if (n > top) {
		if (html)
			buf_printf(b, "<tr><td colspan=\"7\">%zu more domains: --format domains "
				   "lists every one</td></tr>\n", n - top);
		else
			buf_printf(b, "  (%zu more domains: --format domains lists every one)\n",
				   n - top);
	}
	if (html)
		buf_adds(b, "</table>\n");
	free(v);
}

/* "a.example 3 of 5 enforced, b.example 0 of 2 enforced": the busiest
 * recipient domains, for the audit summary's first screen. */
void domains_enforcement_brief(struct domains *d, struct buf *b,
			       void (*esc)(struct buf *, const char *), size_t top)
{
	const struct dom **v = xcalloc(d->n + 1, sizeof *v);
	size_t n = 0;
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i]->outbound && d->v[i]->hops)
			v[n++] = d->v[i];
	if (n)
		qsort(v, n, sizeof *v, cmp_hops);
	if (!n)
		buf_adds(b, "no delivery");
	for (size_t i = 0; i < n && i < top; i++) {
		if (i)
			buf_adds(b, ", ");
		esc(b, v[i]->name);
		buf_printf(b, " %lu of %lu enforced", v[i]->enforced, v[i]->hops);
	}
	if (n > top)
		buf_printf(b, ", and %zu more", n - top);
	free(v);
}
