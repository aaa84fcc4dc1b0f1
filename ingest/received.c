/* received.c - parse one Received header and the TLS note its MTA wrote.
 * Clauses per RFC 5321 4.4 (from, by, via, with, id, for; the date after
 * the last ';' outside comments, RFC 5322 3.6.7).  TLS notes, as each MTA
 * writes them (the forms seen in the corpus of real messages, README "Tests"):
 *   Postfix   (using TLSv1.3 with cipher X (256/256 bits) key-exchange ...)
 *   Sendmail, Proofpoint, Gmail, Mimecast, Exchange
 *             (version=TLSv1.2 cipher=X bits=256 verify=NOT),
 *             (version=TLS1_2, cipher=X), "with ESMTP with STARTTLS (...)"
 *   Exchange  with Microsoft SMTP Server (TLS); "over TLS secured channel"
 *   Exim      with esmtps (TLS1.3) tls X;  older (TLS1.2:X:256)
 *   OpenSMTPD (TLSv1.3:X:256:NO)
 *   IronPort  with ESMTP/TLS/X
 *   qmail-tls with (X encrypted) SMTP
 *   Courier   (TLS: TLSv1.3,256bits,X)
 *   RFC 3848  with ESMTPS, ESMTPSA, LMTPS, UTF8SMTPS ... (TLS, no details)
 * MTAs that always note TLS (Postfix, Exim, Sendmail, Exchange,
 * Proofpoint) and noted none: plaintext.  Others: unknown.
 * No allocation: results go to fixed fields, cut to their size. */
#include "received.h"
#include "../util/timeconv.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int atoi_safe(const char *s)
{
	int v = 0, k = 0;
	while (isdigit((unsigned char)*s) && k++ < 9)
		v = v * 10 + (*s++ - '0');
	return v;
}

struct tok {
	const char *p;
	size_t n;
	bool comment;		/* "(...)" with the parentheses stripped */
};

#define MAX_TOKS 96

static size_t tokenize(const char *s, size_t n, struct tok *t, size_t max)
{
	size_t k = 0, i = 0;
	while (i < n && k < max) {
		while (i < n && isspace((unsigned char)s[i]))
			i++;
		if (i >= n)
			break;
		if (s[i] == '(') {
			int depth = 0;
			size_t j = i;
			for (; j < n; j++) {
				if (s[j] == '\\' && j + 1 < n) {
					j++;
					continue;
				}
				if (s[j] == '(')
					depth++;
				else if (s[j] == ')' && --depth == 0)
					break;
			}
			t[k++] = (struct tok){ s + i + 1, (j < n ? j : n) - i - 1, true };
			i = j < n ? j + 1 : n;
			continue;
		}
		size_t j = i;
		while (j < n && !isspace((unsigned char)s[j]) && s[j] != '(')
			j++;
		t[k++] = (struct tok){ s + i, j - i, false };
		i = j;
	}
	return k;
}

static void copy(char *dst, size_t cap, const char *p, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

static bool tok_is(const struct tok *t, const char *w)
{
	return !t->comment && t->n == strlen(w) && strncasecmp(t->p, w, t->n) == 0;
}

/* An IPv4 or IPv6 address, perhaps in brackets, with "IPv6:", a zone or
 * a ":port" after the brackets; copied bare into ip. */
static bool take_ip(const char *p, size_t n, char *ip, size_t cap)
{
	char tmp[80];
	if (n == 0 || n >= sizeof tmp)
		return false;
	size_t a = 0, z = n;
	if (p[0] == '[') {
		const char *rb = memchr(p, ']', n);
		if (!rb)
			return false;
		a = 1;
		z = (size_t)(rb - p);
	}
	copy(tmp, sizeof tmp, p + a, z - a);
	char *v = tmp;
	if (strncasecmp(v, "IPv6:", 5) == 0)
		v += 5;
	char *pct = strchr(v, '%');
	if (pct)
		*pct = '\0';
	unsigned char buf[16];
	if (inet_pton(AF_INET, v, buf) != 1 && inet_pton(AF_INET6, v, buf) != 1)
		return false;
	copy(ip, cap, v, strlen(v));
	return true;
}

/* The from clause's TCP-info comment (RFC 5321 4.4 "TCP-info"). */
static void tcp_info(struct received *r, const char *c, size_t n)
{
	/* "name [ip]" / "[ip]" / "[ip]:port" / "ip" / "unknown [ip]" */
	const char *lb = memchr(c, '[', n);
	if (lb) {
		if (take_ip(lb, (size_t)(c + n - lb), r->ip, sizeof r->ip) && lb > c) {
			size_t k = (size_t)(lb - c);
			while (k && isspace((unsigned char)c[k - 1]))
				k--;
			copy(r->rdns, sizeof r->rdns, c, k);
		}
		return;
	}
	if (n > 5 && strncasecmp(c, "HELO ", 5) == 0) {	/* qmail */
		copy(r->helo, sizeof r->helo, c + 5, n - 5);
		return;
	}
	if (n >= 5 && strncasecmp(c, "port=", 5) == 0) {	/* Exim: "port=N helo=name" */
		const char *h = NULL;
		for (size_t i = 0; i + 5 <= n; i++)
			if (strncasecmp(c + i, "helo=", 5) == 0)
				h = c + i + 5;
		if (h) {
			size_t k = 0;
			while (h + k < c + n && !isspace((unsigned char)h[k]))
				k++;
			copy(r->helo, sizeof r->helo, h, k);
		}
		return;
	}
	/* qmail "(user@host@ip)": the address after the last '@' */
	const char *at = NULL;
	for (size_t i = 0; i < n; i++)
		if (c[i] == '@')
			at = c + i;
	if (at && take_ip(at + 1, (size_t)(c + n - at - 1), r->ip, sizeof r->ip))
		return;
	take_ip(c, n, r->ip, sizeof r->ip);	/* Exchange: "(10.14.252.21)" */
}

/* key=value inside a comment, values end at space, comma or ')'. */
static bool kv(const char *c, size_t n, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i + kl <= n; i++) {
		if (strncasecmp(c + i, key, kl) != 0 || (i && isalnum((unsigned char)c[i - 1])))
			continue;
		size_t j = i + kl, k = j;
		while (k < n && !isspace((unsigned char)c[k]) && c[k] != ',' && c[k] != ')')
			k++;
		copy(out, cap, c + j, k - j);
		return k > j;
	}
	return false;
}

static void set_version(struct received *r, const char *v, size_t n)
{
	copy(r->version_raw, sizeof r->version_raw, v, n);
	r->version = tls_version_parse((struct span){ v, n });
}

static bool find(const char *s, size_t n, const char *needle, size_t *at)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(s + i, needle, k) == 0) {
			*at = i;
			return true;
		}
	return false;
}

static size_t word_at(const char *s, size_t n, size_t i)
{
	size_t k = i;
	while (k < n && !isspace((unsigned char)s[k]) && s[k] != ')' && s[k] != ',' && s[k] != ';')
		k++;
	return k - i;
}

static void tls_notes(struct received *r, const char *s, size_t n, const struct tok *t, size_t nt)
{
	size_t at;
	/* Postfix: "using TLSv1.3 with cipher X (256/256 bits)" */
	if (find(s, n, "using TLS", &at) || find(s, n, "using SSL", &at)) {
		size_t v = at + 6, vl = word_at(s, n, v);
		set_version(r, s + v, vl);
		size_t c;
		if (find(s + v, n - v, " with cipher ", &c)) {
			size_t cs = v + c + 13;
			copy(r->cipher, sizeof r->cipher, s + cs, word_at(s, n, cs));
			size_t b = cs + word_at(s, n, cs);
			while (b < n && (s[b] == ' ' || s[b] == '('))
				b++;
			int bits = 0, k = 0;
			while (b < n && isdigit((unsigned char)s[b]) && k < 6) {
				bits = bits * 10 + (s[b++] - '0');
				k++;
			}
			if (k)
				r->bits = bits;
		}
		r->used = 1;
		snprintf(r->basis, sizeof r->basis, "Postfix-style TLS note (using ... with cipher)");
		if (find(s, n, "verified OK", &at))
			snprintf(r->verify, sizeof r->verify, "verified");
		else if (find(s, n, "not verified", &at))
			snprintf(r->verify, sizeof r->verify, "not-verified");
		return;
	}
	for (size_t i = 0; i < nt; i++) {
		const struct tok *c = &t[i];
		if (!c->comment)
			continue;
		char v[64];
		/* Sendmail/Proofpoint/Gmail/Exchange/Mimecast */
		if (kv(c->p, c->n, "version=", v, sizeof v)) {
			set_version(r, v, strlen(v));
			kv(c->p, c->n, "cipher=", r->cipher, sizeof r->cipher);
			char b[16];
			if (kv(c->p, c->n, "bits=", b, sizeof b))
				r->bits = atoi_safe(b);
			kv(c->p, c->n, "verify=", r->verify, sizeof r->verify);
			r->used = 1;
			snprintf(r->basis, sizeof r->basis, "TLS note (version=... cipher=...)");
			return;
		}
		/* Exim old and OpenSMTPD: "TLS1.2:CIPHER:256[:VERIFY]" */
		if (c->n > 4 && (strncasecmp(c->p, "TLS", 3) == 0 || strncasecmp(c->p, "SSL", 3) == 0) &&
		    memchr(c->p, ':', c->n) && !memchr(c->p, ' ', c->n)) {
			const char *p1 = memchr(c->p, ':', c->n);
			set_version(r, c->p, (size_t)(p1 - c->p));
			const char *e = c->p + c->n;
			const char *p2 = memchr(p1 + 1, ':', (size_t)(e - p1 - 1));
			copy(r->cipher, sizeof r->cipher, p1 + 1, (size_t)((p2 ? p2 : e) - p1 - 1));
			if (p2) {
				r->bits = atoi_safe(p2 + 1);
				const char *p3 = memchr(p2 + 1, ':', (size_t)(e - p2 - 1));
				if (p3)
					copy(r->verify, sizeof r->verify, p3 + 1, (size_t)(e - p3 - 1));
			}
			r->used = 1;
			snprintf(r->basis, sizeof r->basis, "TLS note (version:cipher:bits)");
			return;
		}
		/* Exim: "esmtps (TLS1.3) tls CIPHER" */
		if (c->n >= 4 && strncasecmp(c->p, "TLS", 3) == 0 && !memchr(c->p, ' ', c->n) &&
		    i > 0 && !t[i - 1].comment && t[i - 1].n >= 5 &&
		    strncasecmp(t[i - 1].p, "esmtp", 5) == 0) {
			set_version(r, c->p, c->n);
			if (i + 2 < nt && tok_is(&t[i + 1], "tls"))
				copy(r->cipher, sizeof r->cipher, t[i + 2].p, t[i + 2].n);
			r->used = 1;
			snprintf(r->basis, sizeof r->basis, "Exim TLS note (esmtps (TLSx) tls cipher)");
			return;
		}
		/* qmail-tls: "(CIPHER encrypted)" */
		if (c->n > 10 && strncmp(c->p + c->n - 10, " encrypted", 10) == 0) {
			copy(r->cipher, sizeof r->cipher, c->p, c->n - 10);
			r->used = 1;
			r->mta = RMTA_QMAIL;
			snprintf(r->basis, sizeof r->basis, "qmail-tls note (cipher encrypted)");
			return;
		}
		/* Courier: "TLS: TLSv1.3,256bits,CIPHER" */
		if (c->n > 5 && strncmp(c->p, "TLS: ", 5) == 0) {
			const char *p = c->p + 5, *e = c->p + c->n;
			const char *c1 = memchr(p, ',', (size_t)(e - p));
			set_version(r, p, (size_t)((c1 ? c1 : e) - p));
			if (c1) {
				r->bits = atoi_safe(c1 + 1);
				const char *c2 = memchr(c1 + 1, ',', (size_t)(e - c1 - 1));
				if (c2)
					copy(r->cipher, sizeof r->cipher, c2 + 1, (size_t)(e - c2 - 1));
			}
			r->used = 1;
			r->mta = RMTA_COURIER;
			snprintf(r->basis, sizeof r->basis, "Courier TLS note");
			return;
		}
		/* Exchange: "with Microsoft SMTP Server (TLS)" */
		if (c->n == 3 && strncmp(c->p, "TLS", 3) == 0) {
			r->used = 1;
			snprintf(r->basis, sizeof r->basis, "Exchange note (TLS), no details");
			return;
		}
	}
	for (size_t i = 0; i < nt; i++) {	/* IronPort: "ESMTP/TLS/CIPHER" */
		const struct tok *w = &t[i];
		size_t p;
		if (!w->comment && find(w->p, w->n, "/TLS/", &p)) {
			copy(r->cipher, sizeof r->cipher, w->p + p + 5, w->n - p - 5);
			r->used = 1;
			r->mta = RMTA_IRONPORT;
			snprintf(r->basis, sizeof r->basis, "IronPort note (ESMTP/TLS/cipher)");
			return;
		}
	}
	if (find(s, n, "over TLS secured channel", &at)) {
		r->used = 1;
		snprintf(r->basis, sizeof r->basis, "Exchange note (over TLS secured channel)");
	}
}

static enum rcv_mta guess_mta(const char *s, size_t n, const struct received *r)
{
	size_t at;
	if (find(s, n, "(Postfix", &at))
		return RMTA_POSTFIX;
	if (find(s, n, "(Exim ", &at))
		return RMTA_EXIM;
	if (find(s, n, "Microsoft SMTP", &at))
		return RMTA_EXCHANGE;
	if (find(s, n, "(PPS)", &at) || find(s, n, "pphosted.com", &at))
		return RMTA_PROOFPOINT;
	if (find(s, n, "mimecast", &at))
		return RMTA_MIMECAST;
	if (find(s, n, "by mx.google.com", &at) || find(s, n, "google.com with", &at))
		return RMTA_GMAIL;
	if (find(s, n, "(qmail ", &at))
		return RMTA_QMAIL;
	if (find(s, n, "OpenSMTPD", &at))
		return RMTA_OPENSMTPD;
	/* Sendmail: "(8.16.0.42/8.16.0.42)" after the by host */
	for (size_t i = 0; i + 4 < n; i++)
		if (s[i] == '(' && s[i + 1] == '8' && s[i + 2] == '.' && isdigit((unsigned char)s[i + 3]))
			return RMTA_SENDMAIL;
	return r->mta;
}

/* RFC 3848 protocol names with TLS. */
static bool with_tls(const char *w)
{
	static const char *const names[] = { "ESMTPS", "ESMTPSA", "LMTPS", "LMTPSA",
		"UTF8SMTPS", "UTF8SMTPSA", "UTF8LMTPS", "UTF8LMTPSA", NULL };
	for (int i = 0; names[i]; i++)
		if (strcasecmp(w, names[i]) == 0)
			return true;
	return false;
}

/* MTAs that always write a TLS note when TLS was used. */
static bool notes_tls(enum rcv_mta m)
{
	return m == RMTA_POSTFIX || m == RMTA_EXIM || m == RMTA_SENDMAIL ||
	       m == RMTA_EXCHANGE || m == RMTA_PROOFPOINT || m == RMTA_GMAIL;
}

void received_parse(const char *v, size_t n, struct received *r)
{
	memset(r, 0, sizeof *r);
	r->used = -1;
	r->bits = -1;
	/* the date: after the last ';' outside comments */
	size_t semi = n;
	int depth = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '(')
			depth++;
		else if (v[i] == ')' && depth)
			depth--;
		else if (v[i] == ';' && depth == 0)
			semi = i;
	}
	if (semi < n)
		r->date = rfc5322_date(v + semi + 1, n - semi - 1);
	struct tok t[MAX_TOKS];
	size_t nt = tokenize(v, semi, t, MAX_TOKS);
	enum { C_NONE, C_FROM, C_BY, C_WITH, C_ID, C_FOR, C_VIA, C_OTHER } cl = C_NONE;
	bool seen_from = false;
	for (size_t i = 0; i < nt; i++) {
		const struct tok *k = &t[i];
		if (!k->comment) {
			int nc = tok_is(k, "from") ? (seen_from ? C_OTHER : C_FROM)
				 : tok_is(k, "by") ? C_BY : tok_is(k, "with") ? C_WITH
				 : tok_is(k, "id") ? C_ID : tok_is(k, "for") ? C_FOR
				 : tok_is(k, "via") ? C_VIA : -1;
			if (nc >= 0 && i + 1 < nt) {
				cl = nc;
				const struct tok *val = &t[i + 1];
				if (cl == C_FROM) {
					seen_from = true;
					if (!val->comment) {
						copy(r->helo, sizeof r->helo, val->p, val->n);
						take_ip(val->p, val->n, r->ip, sizeof r->ip);
						if (tok_is(val, "userid"))
							r->userid = true;
					}
				} else if (cl == C_BY && !val->comment) {
					copy(r->by, sizeof r->by, val->p, val->n);
				} else if (cl == C_WITH && !val->comment && !r->with[0]) {
					copy(r->with, sizeof r->with, val->p, val->n);
				} else if (cl == C_ID && !val->comment) {
					copy(r->id, sizeof r->id, val->p, val->n);
				} else if (cl == C_FOR && !val->comment) {
					copy(r->for_addr, sizeof r->for_addr, val->p, val->n);
				}
				i++;
				if (!val->comment)
					continue;
				k = val;
			}
		}
		if (k->comment && cl == C_FROM) {
			/* the first address found wins; later comments may
			 * still name the HELO (Exim's "port=N helo=name") */
			char had[sizeof r->ip];
			memcpy(had, r->ip, sizeof had);
			tcp_info(r, k->p, k->n);
			if (had[0])
				memcpy(r->ip, had, sizeof had);
		}
		/* qmail names the protocol after its comment: "with (X encrypted) SMTP" */
		if (!k->comment && cl == C_WITH && !r->with[0])
			copy(r->with, sizeof r->with, k->p, k->n);
	}
	size_t at;
	if (find(v, n, "invoked by uid", &at) || find(v, n, "invoked from network", &at))
		r->userid = find(v, n, "invoked by uid", &at);
	tls_notes(r, v, n, t, nt);
	r->mta = guess_mta(v, n, r);
	if (r->used < 0 && r->with[0] && with_tls(r->with)) {
		r->used = 1;
		snprintf(r->basis, sizeof r->basis, "with %s (RFC 3848): TLS, no details written",
			 r->with);
	}
	if (r->used < 0 && notes_tls(r->mta) && r->with[0] &&
	    (strcasecmp(r->with, "ESMTP") == 0 || strcasecmp(r->with, "SMTP") == 0 ||
	     strcasecmp(r->with, "ESMTPA") == 0 || strcasecmp(r->with, "Microsoft") == 0)) {
		r->used = 0;
		snprintf(r->basis, sizeof r->basis, "%s always notes TLS in its Received header "
			 "and noted none (with %s)", rcv_mta_name(r->mta), r->with);
	}
	if (r->used < 0 && notes_tls(r->mta) && !r->with[0])
		snprintf(r->basis, sizeof r->basis, "no TLS note and no protocol named (with ...): "
			 "cannot tell");
	else if (r->used < 0)
		snprintf(r->basis, sizeof r->basis, "no TLS note, and %s does not always write one",
			 r->mta == RMTA_UNKNOWN ? "this MTA (not recognised)" : rcv_mta_name(r->mta));
}

const char *rcv_mta_name(enum rcv_mta m)
{
	static const char *const names[] = {
		[RMTA_UNKNOWN] = "unknown", [RMTA_POSTFIX] = "Postfix",
		[RMTA_SENDMAIL] = "Sendmail", [RMTA_EXIM] = "Exim",
		[RMTA_EXCHANGE] = "Exchange", [RMTA_QMAIL] = "qmail", [RMTA_GMAIL] = "Gmail",
		[RMTA_IRONPORT] = "IronPort", [RMTA_MIMECAST] = "Mimecast",
		[RMTA_PROOFPOINT] = "Proofpoint", [RMTA_OPENSMTPD] = "OpenSMTPD",
		[RMTA_COURIER] = "Courier",
	};
	return (unsigned)m < sizeof names / sizeof names[0] ? names[m] : "unknown";
}

time_t rfc5322_date(const char *s, size_t n)
{
	char b[96];
	copy(b, sizeof b, s, n);
	char *p = b;
	while (*p && (isspace((unsigned char)*p)))
		p++;
	if (isalpha((unsigned char)*p)) {	/* day of week */
		while (isalpha((unsigned char)*p))
			p++;
		if (*p == ',')
			p++;
	}
	int d, y, h, mi, sec = 0;
	char mon[4];
	int used = 0;
	if (sscanf(p, " %d %3s %d %d:%d%n", &d, mon, &y, &h, &mi, &used) < 5)
		return 0;
	p += used;
	if (*p == ':') {
		int k = 0;
		if (sscanf(p, ":%d%n", &sec, &k) == 1)
			p += k;
	}
	int m = month_from_abbr(mon);
	if (!m || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return 0;
	if (y < 50)
		y += 2000;
	else if (y < 1000)
		y += 1900;
	while (*p == ' ')
		p++;
	long off = 0;
	if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1])) {
		int z = atoi_safe(p + 1);
		off = (z / 100) * 3600L + (z % 100) * 60L;
		if (*p == '-')
			off = -off;
	} else {
		static const struct { const char *n; int h; } zones[] = {
			{ "UT", 0 }, { "GMT", 0 }, { "Z", 0 }, { "EST", -5 }, { "EDT", -4 },
			{ "CST", -6 }, { "CDT", -5 }, { "MST", -7 }, { "MDT", -6 },
			{ "PST", -8 }, { "PDT", -7 },
		};
		for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
			if (strncmp(p, zones[i].n, strlen(zones[i].n)) == 0) {
				off = zones[i].h * 3600L;
				break;
			}
	}
	return civil_to_epoch(y, m, d, h, mi, sec) - off;
}
