/* evaluate.c - judging a hop by a policy: the first rule whose when
 * conditions all hold and none of whose unless conditions holds.  A
 * comparison with an unknown value is false; "unknown" as a value matches
 * a value that is not known.  Nothing is allocated but the explanation. */
#include "policy_int.h"
#include "../util/addr.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What evaluating one hop computes on the way, on the judge's stack: the
 * recipient's and the sender's domain (the fields rcpt_domain and
 * from_domain point into it). */
struct scratch {
	char domain[2][256];
};

/* "<a@Example.org>" -> "example.org" in slot 0 (recipient) or 1 (sender). */
static const char *addr_domain(struct scratch *sc, const char *addr, int slot)
{
	const char *d = addr_domain_of(addr, sc->domain[slot], sizeof sc->domain[slot]);
	return d && *d ? d : NULL;
}

/* A field of the model's enums whose value 0 is "unknown" (tls_level,
 * outcome, fate ...): the rule language's values are counted from 1. */
static void enum_value(struct fval *v, int x, const char *name)
{
	v->known = x != 0;
	v->i = x ? x - 1 : 0;
	v->s = name;
}

static struct fval field_value(enum field_id f, const struct message *m, const struct hop *h,
			       struct scratch *sc)
{
	struct fval v = { 0 };
	switch (f) {
	case F_TLS_USED:
		v.known = h->tls.used != TRI_UNKNOWN;
		v.i = h->tls.used == TRI_YES;
		break;
	case F_TLS_VERSION:
		v.known = h->tls.version != TLSV_UNKNOWN;
		v.i = h->tls.version;
		v.s = tls_version_name(h->tls.version);
		break;
	case F_TLS_CIPHER:
		v.s = h->tls.cipher;
		break;
	case F_TLS_BITS:
		v.known = h->tls.bits >= 0;
		v.i = h->tls.bits;
		break;
	case F_TLS_CERT:
		v.known = h->tls.cert != CERT_UNKNOWN;
		v.i = h->tls.cert;
		v.s = tls_cert_name(h->tls.cert);
		break;
	case F_TLS_STRIPPED:
		v.known = h->tls.stripped != TRI_UNKNOWN;
		v.i = h->tls.stripped == TRI_YES;
		break;
	case F_HOP_DIRECTION:
		v.known = true;
		v.i = h->dir == DIR_OUT;
		v.s = h->dir == DIR_OUT ? "outbound" : "inbound";
		break;
	case F_HOP_PEER_HOST: v.s = h->peer_host; break;
	case F_HOP_PEER_IP: v.s = h->peer_ip; break;
	case F_HOP_PEER_PORT:
		v.known = h->peer_port >= 0;
		v.i = h->peer_port;
		break;
	case F_HOP_NETWORK:
		v.known = true;
		v.i = h->network;
		break;
	case F_HOP_LOCAL:
		v.known = true;
		v.i = h->local;
		break;
	case F_HOP_SOURCE:
		v.known = true;
		v.i = h->source;
		v.s = rule_fields[F_HOP_SOURCE].enums[h->source];
		break;
	case F_HOP_CONFLICT:
		/* Sources disagree: a capture joined to a log hop says
		 * otherwise (a hop from one source has none to disagree with). */
		v.known = true;
		v.i = h->conflict;
		break;
	case F_HOP_CLAIM:	/* a Received header below the trust boundary */
		v.known = true;
		v.i = h->claim;
		break;
	case F_HOP_RCPT: v.s = h->rcpt; break;
	case F_HOP_RCPT_DOMAIN: v.s = addr_domain(sc, h->rcpt, 0); break;
	case F_HOP_STATUS: v.s = h->status; break;
	case F_MSG_FROM: v.s = m->from; break;
	case F_MSG_FROM_DOMAIN: v.s = addr_domain(sc, m->from, 1); break;
	case F_MSG_HOST: v.s = m->host; break;
	case F_MSG_QUEUE_ID: v.s = m->qid; break;
	case F_MSG_MESSAGE_ID: v.s = m->message_id; break;
	case F_TLS_DOWNGRADE:
		v.known = true;
		v.i = h->tls.downgrade;
		v.s = rule_fields[f].enums[h->tls.downgrade];
		break;
	case F_HOP_FILTER:
		v.known = true;
		v.i = h->filter;
		break;
	case F_TLS_LEVEL:
		enum_value(&v, (int)h->tls.level, tls_level_name(h->tls.level));
		break;
	case F_TLS_ENFORCED:
		v.known = h->tls.enforced != TRI_UNKNOWN;
		v.i = h->tls.enforced == TRI_YES;
		break;
	case F_TLS_ENFORCED_BY:
		enum_value(&v, (int)h->tls.enforced_by, enforced_by_name(h->tls.enforced_by));
		break;
	case F_TLS_REQUIRETLS:
		enum_value(&v, (int)h->tls.requiretls, requiretls_name(h->tls.requiretls));
		break;
	case F_HOP_SUBMISSION:
		v.known = h->dir == DIR_IN;
		v.i = h->submission;
		break;
	case F_HOP_AUTHENTICATED:
		v.known = h->dir == DIR_IN;
		v.i = h->sasl_method != NULL || h->authenticated;
		break;
	case F_HOP_SASL_METHOD: v.s = h->sasl_method; break;
	case F_HOP_SASL_USERNAME: v.s = h->sasl_username; break;
	case F_TLS_POLICY_TYPE:
		enum_value(&v, (int)h->tls.policy_type, policy_type_name(h->tls.policy_type));
		break;
	case F_ATTEMPT_OUTCOME:
		enum_value(&v, (int)h->outcome, outcome_name(h->outcome));
		break;
	case F_ATTEMPT_REASON: v.s = h->reason; break;
	case F_DELIVERY_FATE:
		enum_value(&v, (int)h->fate, fate_name(h->fate));
		break;
	case F_HOP_LEG:
		v.known = true;
		v.i = m->login ? 2 : h->dir == DIR_IN && h->submission ? 0 : 1;
		v.s = rule_fields[F_HOP_LEG].enums[v.i];
		break;
	case F_LOGIN_SERVICE: v.s = m->login ? m->login->service : NULL; break;
	case F_LOGIN_STATUS: v.s = m->login ? m->login->status : NULL; break;
	case F_COUNT: break;
	}
	if (rule_fields[f].type == FT_STRING || rule_fields[f].type == FT_IP || rule_fields[f].type == FT_DOMAIN)
		v.known = v.s != NULL;
	return v;
}

static bool str_eq_field(enum ftype t, const char *a, const char *b)
{
	if (t == FT_DOMAIN)
		return rule_domain_match(b, a);
	if (t == FT_IP) {
		struct cidr c;
		return rule_parse_cidr(b, &c) && rule_cidr_contains(&c, a);
	}
	return strcmp(a, b) == 0;
}

/* strcasestr for the short needles of rule files, without its set-up. */
static bool contains_nocase(const char *have, const char *needle)
{
	size_t n = strlen(needle);
	if (!n)
		return true;
	int first = tolower((unsigned char)needle[0]);
	for (const char *p = have; *p; p++)
		if (tolower((unsigned char)*p) == first && strncasecmp(p, needle, n) == 0)
			return true;
	return false;
}

static bool text_holds(enum modifier mod, const char *have, const char *want_s)
{
	if (mod == M_CONTAINS)
		return contains_nocase(have, want_s);
	size_t a = strlen(have), b = strlen(want_s);
	if (mod == M_PREFIX)
		return strncasecmp(have, want_s, b) == 0;
	return a >= b && strcasecmp(have + a - b, want_s) == 0;
}

static bool cond_eval(const struct cond *c, struct fval v);

/* String tests (substrings, sets, networks) give the same answer for the
 * same value, and a log repeats its few ciphers, relays and domains: each
 * condition remembers its last MEMO_SLOTS values and answers (which is why
 * judging takes the policy as writable, and why one policy is judged by one
 * thread at a time). */
static bool cond_holds(struct cond *c, const struct message *m, const struct hop *h,
		       struct scratch *sc)
{
	struct fval v = field_value(c->field, m, h, sc);
	enum ftype t = rule_fields[c->field].type;
	bool text = t == FT_STRING || t == FT_IP || t == FT_DOMAIN;
	if (!text || c->unknown || !v.known || c->mod == M_EQ || c->mod == M_NE)
		return cond_eval(c, v);
	struct cond *mc = c;
	size_t n = strlen(v.s);
	for (int i = 0; i < MEMO_SLOTS; i++)
		if (mc->memo[i].n == n + 1 && memcmp(mc->memo[i].val, v.s, n) == 0)
			return mc->memo[i].res;
	bool res = cond_eval(c, v);
	if (n < sizeof mc->memo[0].val) {
		struct memo *e = &mc->memo[mc->memo_next];
		mc->memo_next = (mc->memo_next + 1) % MEMO_SLOTS;
		memcpy(e->val, v.s, n + 1);
		e->n = n + 1;
		e->res = res;
	}
	return res;
}

static bool cond_eval(const struct cond *c, struct fval v)
{
	enum ftype t = rule_fields[c->field].type;
	if (c->unknown)
		return c->mod == M_EQ ? !v.known : v.known;
	if (!v.known)
		return false;
	bool numeric = t == FT_BOOL || t == FT_VERSION || t == FT_CERT || t == FT_INT || t == FT_ENUM;
	switch (c->mod) {
	case M_EQ:
		return numeric ? v.i == c->i : str_eq_field(t, v.s, c->s);
	case M_NE:
		return numeric ? v.i != c->i : !str_eq_field(t, v.s, c->s);
	case M_LT: return v.i < c->i;
	case M_LE: return v.i <= c->i;
	case M_GT: return v.i > c->i;
	case M_GE: return v.i >= c->i;
	case M_CONTAINS: case M_PREFIX: case M_SUFFIX:
		if (c->list) {	/* a list: any member */
			for (size_t i = 0; i < c->nlist; i++)
				if (text_holds(c->mod, v.s, c->list[i]))
					return true;
			return false;
		}
		return text_holds(c->mod, v.s, c->s);
	case M_CIDR: {
		unsigned char a[16];
		int fam;
		if (!rule_ip_parse(v.s, &fam, a))	/* once, not once a network */
			return false;
		const struct cidr *nets = c->set ? c->set->nets : c->nets;
		size_t nn = c->set ? c->set->n : c->nlist;
		for (size_t i = 0; i < nn; i++)
			if (rule_net_has(&nets[i], fam, a))
				return true;
		return false;
	}
	case M_IN:
		if (c->set)
			return rule_set_has_domain(c->set, v.s);
		for (size_t i = 0; i < c->nlist; i++) {
			if (numeric) {
				const char *want_s = c->list[i];
				const char *have = t == FT_BOOL ? (v.i ? "true" : "false") : NULL;
				if (t == FT_VERSION)
					have = tls_version_name((enum tls_version)v.i);
				else if (t == FT_CERT)
					have = tls_cert_name((enum tls_cert)v.i);
				else if (t == FT_ENUM)
					have = v.s;
				char num[32];
				if (t == FT_INT) {
					snprintf(num, sizeof num, "%ld", v.i);
					have = num;
				}
				if (have && strcmp(have, want_s) == 0)
					return true;
			} else if (str_eq_field(t, v.s, c->list[i])) {
				return true;
			}
		}
		return false;
	default:
		return false;
	}
}

static bool all_hold(struct cond *c, size_t n, const struct message *m, const struct hop *h,
		     struct scratch *sc)
{
	for (size_t i = 0; i < n; i++)
		if (!cond_holds(&c[i], m, h, sc))
			return false;
	return true;
}

static bool any_holds(struct cond *c, size_t n, const struct message *m, const struct hop *h,
		      struct scratch *sc)
{
	for (size_t i = 0; i < n; i++)
		if (cond_holds(&c[i], m, h, sc))
			return true;
	return false;
}

/* The field a placeholder names, or -1 ({rule}), -2 ({tls.basis}), -3. */
static int placeholder(const char *name, size_t n)
{
	if (n == 4 && memcmp(name, "rule", 4) == 0)
		return -1;
	if (n == 9 && memcmp(name, "tls.basis", 9) == 0)
		return -2;
	for (int f = 0; f < F_COUNT; f++)
		if (strlen(rule_fields[f].name) == n && memcmp(rule_fields[f].name, name, n) == 0)
			return f;
	return -3;
}

/* Text runs up to each '{' that a '}' closes; an unclosed '{' is text,
 * a placeholder the loader refused (-3) writes nothing. */
void rule_compile_explain(struct rule *r)
{
	const char *tpl = r->explain ? r->explain : "";
	size_t cap = 1;
	for (const char *p = tpl; *p; p++)
		cap += *p == '{' ? 2 : 0;
	r->tpl = xcalloc(cap, sizeof *r->tpl);
	r->ntpl = 0;
	for (const char *p = tpl; *p; p++) {
		const char *e;
		if (*p != '{' || !(e = strchr(p, '}'))) {
			const char *lit = strchrnul(p + 1, '{');
			struct tpl_seg *t = r->ntpl ? &r->tpl[r->ntpl - 1] : NULL;
			if (t && t->kind == TPL_TEXT && t->text + t->n == p)
				t->n += (size_t)(lit - p);
			else
				r->tpl[r->ntpl++] = (struct tpl_seg){ TPL_TEXT, 0, p, (size_t)(lit - p) };
			p = lit - 1;
			continue;
		}
		int f = placeholder(p + 1, (size_t)(e - p - 1));
		p = e;
		if (f == -1)
			r->tpl[r->ntpl++] = (struct tpl_seg){ .kind = TPL_RULE };
		else if (f == -2)
			r->tpl[r->ntpl++] = (struct tpl_seg){ .kind = TPL_BASIS };
		else if (f >= 0)
			r->tpl[r->ntpl++] = (struct tpl_seg){ .kind = TPL_FIELD, .field = (enum field_id)f };
	}
}

static void expand(struct buf *out, const struct rule *r, const struct message *m,
		   const struct hop *h, struct scratch *sc)
{
	for (size_t i = 0; i < r->ntpl; i++) {
		const struct tpl_seg *t = &r->tpl[i];
		switch (t->kind) {
		case TPL_TEXT:
			buf_add(out, t->text, t->n);
			break;
		case TPL_RULE:
			buf_adds(out, r->id);
			break;
		case TPL_BASIS:
			buf_adds(out, h->basis ? h->basis : "unknown");
			break;
		case TPL_FIELD: {
			struct fval v = field_value(t->field, m, h, sc);
			if (!v.known)
				buf_adds(out, "unknown");
			else if (rule_fields[t->field].type == FT_BOOL)
				buf_adds(out, v.i ? "true" : "false");
			else if (v.s)
				buf_adds(out, v.s);
			else
				buf_addlong(out, v.i);
			break;
		}
		}
	}
}

bool policy_rule_matches(struct policy *p, size_t i, const struct message *m,
			 const struct hop *h)
{
	if (i >= p->nrules)
		return false;
	struct scratch sc;
	struct rule *r = &p->rules[i];
	return all_hold(r->when, r->nwhen, m, h, &sc) &&
	       !(r->nunless && any_holds(r->unless, r->nunless, m, h, &sc));
}

void policy_judge(const struct policy *p, const struct message *m, struct hop *h)
{
	struct scratch sc;
	const struct rule *hit = &p->def;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];
		if (all_hold(r->when, r->nwhen, m, h, &sc) &&
		    !(r->nunless && any_holds(r->unless, r->nunless, m, h, &sc))) {
			hit = r;
			break;
		}
	}
	h->verdict = verdict_names[hit->verdict];
	h->severity = severity_names[hit->severity];
	h->rule = hit->id;
	struct buf b;
	buf_init(&b);
	buf_reserve(&b, 127);	/* most explain texts fit: one allocation, not three */
	expand(&b, hit, m, h, &sc);
	free(h->explain);
	h->explain = b.p ? b.p : xstrdup("");
}

void policy_judge_message(const struct policy *p, struct message *m)
{
	struct worst w;
	worst_init(&w);
	size_t nh = (m->has_inbound ? 1u : 0u) + m->ndl;
	for (size_t i = 0; i < nh; i++) {
		struct hop *h = (m->has_inbound && i == 0) ? &m->inbound
							   : &m->dl[i - (m->has_inbound ? 1 : 0)];
		policy_judge(p, m, h);
		worst_add(&w, h);
	}
	m->verdict = worst_verdict(&w);
	m->severity = worst_severity(&w);
}
