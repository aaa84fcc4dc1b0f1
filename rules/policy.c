/* policy.c - load, validate and evaluate tlswitness/1 rule files.
 * Validation is total: every error found is reported (file:line:column,
 * 1-based), and any error refuses the file.  Evaluation never allocates
 * except for the explanation text.  A comparison with an unknown value is
 * false; "unknown" as a value matches a value that is not known. */
#include "policy.h"
#include "../util/addr.h"
#include "yamltree.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern const char tw_default_policy[];	/* generated from rules/default.yaml */

/* ---- fields ------------------------------------------------------------ */

enum ftype { FT_BOOL, FT_VERSION, FT_CERT, FT_INT, FT_STRING, FT_IP, FT_DOMAIN, FT_ENUM };

enum field_id {
	F_TLS_USED, F_TLS_VERSION, F_TLS_CIPHER, F_TLS_BITS, F_TLS_CERT,
	F_TLS_STRIPPED, F_HOP_DIRECTION, F_HOP_PEER_HOST, F_HOP_PEER_IP,
	F_HOP_PEER_PORT, F_HOP_NETWORK, F_HOP_LOCAL, F_HOP_SOURCE, F_HOP_CONFLICT, F_HOP_CLAIM, F_HOP_RCPT,
	F_HOP_RCPT_DOMAIN, F_HOP_STATUS, F_MSG_FROM, F_MSG_FROM_DOMAIN,
	F_MSG_HOST, F_MSG_QUEUE_ID, F_MSG_MESSAGE_ID, F_COUNT
};

static const struct field_def {
	const char *name;
	enum ftype type;
	const char *const *enums;	/* FT_ENUM values */
} fields[F_COUNT] = {
	[F_TLS_USED] = { "tls.used", FT_BOOL, NULL },
	[F_TLS_VERSION] = { "tls.version", FT_VERSION, NULL },
	[F_TLS_CIPHER] = { "tls.cipher", FT_STRING, NULL },
	[F_TLS_BITS] = { "tls.bits", FT_INT, NULL },
	[F_TLS_CERT] = { "tls.cert", FT_CERT, NULL },
	[F_TLS_STRIPPED] = { "tls.stripped", FT_BOOL, NULL },
	[F_HOP_DIRECTION] = { "hop.direction", FT_ENUM, (const char *const[]){ "inbound", "outbound", NULL } },
	[F_HOP_PEER_HOST] = { "hop.peer_host", FT_DOMAIN, NULL },
	[F_HOP_PEER_IP] = { "hop.peer_ip", FT_IP, NULL },
	[F_HOP_PEER_PORT] = { "hop.peer_port", FT_INT, NULL },
	[F_HOP_NETWORK] = { "hop.network", FT_BOOL, NULL },
	[F_HOP_LOCAL] = { "hop.local", FT_BOOL, NULL },
	[F_HOP_SOURCE] = { "hop.source", FT_ENUM, (const char *const[]){ "log", "pcap", "header", NULL } },
	[F_HOP_CONFLICT] = { "hop.conflict", FT_BOOL, NULL },
	[F_HOP_CLAIM] = { "hop.claim", FT_BOOL, NULL },
	[F_HOP_RCPT] = { "hop.rcpt", FT_STRING, NULL },
	[F_HOP_RCPT_DOMAIN] = { "hop.rcpt_domain", FT_DOMAIN, NULL },
	[F_HOP_STATUS] = { "hop.status", FT_STRING, NULL },
	[F_MSG_FROM] = { "msg.from", FT_STRING, NULL },
	[F_MSG_FROM_DOMAIN] = { "msg.from_domain", FT_DOMAIN, NULL },
	[F_MSG_HOST] = { "msg.host", FT_STRING, NULL },
	[F_MSG_QUEUE_ID] = { "msg.queue_id", FT_STRING, NULL },
	[F_MSG_MESSAGE_ID] = { "msg.message_id", FT_STRING, NULL },
};

enum modifier { M_EQ, M_NE, M_LT, M_LE, M_GT, M_GE, M_IN, M_CIDR, M_CONTAINS,
		M_SUFFIX, M_PREFIX, M_COUNT };
static const char *const modifier_names[M_COUNT] = {
	"eq", "ne", "lt", "le", "gt", "ge", "in", "cidr", "contains", "suffix", "prefix",
};

static bool modifier_fits(enum ftype t, enum modifier m)
{
	switch (m) {
	case M_EQ: case M_NE:
		return true;
	case M_LT: case M_LE: case M_GT: case M_GE:
		return t == FT_VERSION || t == FT_CERT || t == FT_INT;
	case M_IN:
		return t != FT_BOOL;
	case M_CIDR:
		return t == FT_IP;
	case M_CONTAINS: case M_SUFFIX: case M_PREFIX:
		return t == FT_STRING || t == FT_DOMAIN;
	default:
		return false;
	}
}

/* A value a field has on one hop. */
struct fval {
	bool known;
	long i;			/* bool, version, cert, int, enum index */
	const char *s;		/* strings, addresses */
};

/* ---- sets -------------------------------------------------------------- */

struct cidr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix;
};

struct set {
	char *name;
	bool is_net;
	struct cidr *nets;
	char **names;		/* domains: "example.org" or "*.example.org" */
	size_t n;
};

static bool parse_cidr(const char *s, struct cidr *c)
{
	char tmp[80];
	snprintf(tmp, sizeof tmp, "%s", s);
	char *slash = strchr(tmp, '/');
	int max;
	if (slash)
		*slash = '\0';
	memset(c, 0, sizeof *c);
	if (inet_pton(AF_INET, tmp, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, tmp, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		return false;
	}
	c->prefix = max;
	if (slash) {
		char *end;
		errno = 0;
		long p = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || p < 0 || p > max || errno)
			return false;
		c->prefix = (int)p;
	}
	return true;
}

/* An address as the evidence writes it ("IPv6:" prefix allowed); ::ffff:
 * a.b.c.d is an IPv4 peer (RFC 4291 section 2.5.5.2). */
static bool ip_parse(const char *ip, int *fam, unsigned char a[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (!ip)
		return false;
	if (strncmp(ip, "IPv6:", 5) == 0)
		ip += 5;
	if (inet_pton(AF_INET, ip, a) == 1) {
		*fam = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, ip, a) != 1)
		return false;
	*fam = AF_INET6;
	if (memcmp(a, mapped, 12) == 0) {
		memmove(a, a + 12, 4);
		*fam = AF_INET;
	}
	return true;
}

static bool net_has(const struct cidr *c, int fam, const unsigned char *a)
{
	if (fam != c->family)
		return false;
	int full = c->prefix / 8, rest = c->prefix % 8;
	if (memcmp(a, c->addr, (size_t)full) != 0)
		return false;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));
		if ((a[full] & mask) != (c->addr[full] & mask))
			return false;
	}
	return true;
}

static bool cidr_contains(const struct cidr *c, const char *ip)
{
	unsigned char a[16];
	int fam;
	return ip_parse(ip, &fam, a) && net_has(c, fam, a);
}

static bool domain_match(const char *pattern, const char *name)
{
	if (!name)
		return false;
	size_t nn = strlen(name);
	while (nn && name[nn - 1] == '.')
		nn--;
	if (pattern[0] == '*' && pattern[1] == '.') {
		size_t pn = strlen(pattern + 1);	/* ".example.org" */
		return nn > pn && strncasecmp(name + nn - pn, pattern + 1, pn) == 0;
	}
	return strlen(pattern) == nn && strncasecmp(pattern, name, nn) == 0;
}

/* ---- rules ------------------------------------------------------------- */

#define MEMO_SLOTS 8

struct cond {
	enum field_id field;
	enum modifier mod;
	bool unknown;		/* value is the word unknown */
	long i;			/* scalar as number / enum */
	char *s;		/* scalar as string */
	char **list;		/* inline list for in/cidr */
	size_t nlist;
	struct cidr *nets;	/* parsed inline cidr list */
	const struct set *set;	/* $name */
	struct memo {		/* string values tested lately, and the answers */
		char val[64];
		size_t n;	/* length + 1; 0: empty */
		bool res;
	} memo[MEMO_SLOTS];
	int memo_next;
};

struct rule {
	char *id;
	struct cond *when, *unless;
	size_t nwhen, nunless;
	int verdict, severity;
	char *explain;
	char **refs;
	size_t nrefs;
	int line;
};

struct policy {
	char *source, *name;
	struct set *sets;
	size_t nsets;
	struct rule *rules;
	size_t nrules;
	struct rule def;
};

const char *policy_name(const struct policy *p) { return p->name; }

static const struct set *find_set(const struct policy *p, const char *name);
static bool cidr_contains(const struct cidr *c, const char *ip);

bool policy_trusts(const struct policy *p, const char *ip)
{
	const struct set *s = find_set(p, "internal");
	for (size_t i = 0; s && s->is_net && i < s->n; i++)
		if (cidr_contains(&s->nets[i], ip))
			return true;
	return false;
}
const char *policy_source(const struct policy *p) { return p->source; }
size_t policy_nrules(const struct policy *p) { return p->nrules; }
const char *policy_rule_id(const struct policy *p, size_t i)
{
	return i < p->nrules ? p->rules[i].id : NULL;
}

static void cond_free(struct cond *c)
{
	free(c->s);
	for (size_t i = 0; i < c->nlist; i++)
		free(c->list[i]);
	free(c->list);
	free(c->nets);
}

static void rule_free(struct rule *r)
{
	free(r->id);
	for (size_t i = 0; i < r->nwhen; i++)
		cond_free(&r->when[i]);
	for (size_t i = 0; i < r->nunless; i++)
		cond_free(&r->unless[i]);
	free(r->when);
	free(r->unless);
	free(r->explain);
	for (size_t i = 0; i < r->nrefs; i++)
		free(r->refs[i]);
	free(r->refs);
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nsets; i++) {
		free(p->sets[i].name);
		free(p->sets[i].nets);
		for (size_t j = 0; j < p->sets[i].n && p->sets[i].names; j++)
			free(p->sets[i].names[j]);
		free(p->sets[i].names);
	}
	free(p->sets);
	for (size_t i = 0; i < p->nrules; i++)
		rule_free(&p->rules[i]);
	free(p->rules);
	rule_free(&p->def);
	free(p->source);
	free(p->name);
	free(p);
}

/* ---- loading ----------------------------------------------------------- */

struct loader {
	struct policy *p;
	struct yt_errors *e;
};

#define ERR(L, node, ...) yt_error((L)->e, (node)->line, (node)->col, __VA_ARGS__)

static bool want(struct loader *L, const struct yt_node *n, enum yt_type t, const char *what)
{
	static const char *const names[] = { "a scalar", "a list", "a mapping" };
	if (n->type == t)
		return true;
	if (n->alias)
		return false;	/* the alias itself was reported */
	ERR(L, n, "%s must be %s", what, names[t]);
	return false;
}

static void check_keys(struct loader *L, const struct yt_node *map,
		       const char *const *allowed, const char *where)
{
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct yt_node *k = map->kids[i];
		if (k->type != YT_SCALAR)
			continue;
		bool ok = false;
		for (int j = 0; allowed[j]; j++)
			ok |= strcmp(k->val, allowed[j]) == 0;
		if (!ok)
			ERR(L, k, "unknown key '%s' in %s", k->val, where);
	}
}

static const struct set *find_set(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->nsets; i++)
		if (strcmp(p->sets[i].name, name) == 0)
			return &p->sets[i];
	return NULL;
}

static void load_sets(struct loader *L, const struct yt_node *map, bool nets)
{
	const char *what = nets ? "networks" : "domains";
	if (!want(L, map, YT_MAP, what))
		return;
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct yt_node *k = map->kids[i], *v = map->kids[i + 1];
		if (k->type != YT_SCALAR)
			continue;
		if (find_set(L->p, k->val)) {
			ERR(L, k, "set '%s' is defined twice", k->val);
			continue;
		}
		if (!want(L, v, YT_SEQ, "a set"))
			continue;
		L->p->sets = xrealloc(L->p->sets, (L->p->nsets + 1) * sizeof *L->p->sets);
		struct set *s = &L->p->sets[L->p->nsets++];
		memset(s, 0, sizeof *s);
		s->name = xstrdup(k->val);
		s->is_net = nets;
		if (nets)
			s->nets = xcalloc(v->n, sizeof *s->nets);
		else
			s->names = xcalloc(v->n, sizeof *s->names);
		for (size_t j = 0; j < v->n; j++) {
			const struct yt_node *it = v->kids[j];
			if (!want(L, it, YT_SCALAR, "a set member"))
				continue;
			if (nets) {
				if (!parse_cidr(it->val, &s->nets[s->n]))
					ERR(L, it, "'%s' is not an IPv4 or IPv6 address or CIDR block", it->val);
				else
					s->n++;
			} else {
				const char *d = it->val;
				bool bad = !*d || strchr(d, ' ') || (strchr(d, '*') &&
					   !(d[0] == '*' && d[1] == '.' && !strchr(d + 1, '*')));
				if (bad)
					ERR(L, it, "'%s' is not a domain or *.suffix wildcard", d);
				else
					s->names[s->n++] = xstrdup(d);
			}
		}
	}
}

static bool parse_long(const char *s, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno)
		return false;
	*out = v;
	return true;
}

/* Convert one scalar for a field; false (with an error) if it does not fit. */
static bool scalar_value(struct loader *L, const struct yt_node *n, enum field_id f,
			 long *i, char **s)
{
	const struct field_def *fd = &fields[f];
	const char *v = n->val;
	switch (fd->type) {
	case FT_BOOL:
		if (strcmp(v, "true") == 0) { *i = 1; return true; }
		if (strcmp(v, "false") == 0) { *i = 0; return true; }
		ERR(L, n, "%s takes true, false or unknown, not '%s'", fd->name, v);
		return false;
	case FT_VERSION:
		*i = tls_version_from_name(v);
		if (*i)
			return true;
		ERR(L, n, "%s takes SSLv3, TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3, not '%s'", fd->name, v);
		return false;
	case FT_CERT:
		*i = tls_cert_from_name(v);
		if (*i)
			return true;
		ERR(L, n, "%s takes anonymous, untrusted, trusted or verified, not '%s'", fd->name, v);
		return false;
	case FT_INT:
		if (parse_long(v, i))
			return true;
		ERR(L, n, "%s takes a whole number, not '%s'", fd->name, v);
		return false;
	case FT_ENUM:
		for (int k = 0; fd->enums[k]; k++)
			if (strcmp(fd->enums[k], v) == 0) {
				*i = k;
				return true;
			}
		ERR(L, n, "'%s' is not a value of %s", v, fd->name);
		return false;
	default:
		*s = xstrdup(v);
		return true;
	}
}

static bool parse_cond(struct loader *L, const struct yt_node *k, const struct yt_node *v,
		       struct cond *c)
{
	memset(c, 0, sizeof *c);
	char name[128];
	snprintf(name, sizeof name, "%s", k->val);
	char *bar = strchr(name, '|');
	const char *mod = "eq";
	if (bar) {
		*bar = '\0';
		mod = bar + 1;
	}
	int f = -1;
	for (int i = 0; i < F_COUNT; i++)
		if (strcmp(fields[i].name, name) == 0)
			f = i;
	if (f < 0) {
		ERR(L, k, "unknown field '%s'", name);
		return false;
	}
	c->field = (enum field_id)f;
	int m = -1;
	for (int i = 0; i < M_COUNT; i++)
		if (strcmp(modifier_names[i], mod) == 0)
			m = i;
	if (m < 0) {
		ERR(L, k, "unknown modifier '%s'", mod);
		return false;
	}
	c->mod = (enum modifier)m;
	if (!modifier_fits(fields[f].type, c->mod)) {
		ERR(L, k, "modifier '%s' does not fit field %s", mod, name);
		return false;
	}
	if (v->type == YT_SCALAR && v->plain && strcmp(v->val, "unknown") == 0) {
		if (c->mod != M_EQ && c->mod != M_NE) {
			ERR(L, v, "'unknown' can only be matched with eq or ne");
			return false;
		}
		c->unknown = true;
		return true;
	}
	bool textual = c->mod == M_CONTAINS || c->mod == M_SUFFIX || c->mod == M_PREFIX;
	if (c->mod == M_IN || c->mod == M_CIDR || (textual && v->type == YT_SEQ)) {
		if (!textual && v->type == YT_SCALAR && v->val[0] == '$') {
			c->set = find_set(L->p, v->val + 1);
			if (!c->set) {
				ERR(L, v, "undefined set '%s'", v->val);
				return false;
			}
			bool need_net = c->mod == M_CIDR;
			if (c->set->is_net != need_net) {
				ERR(L, v, "set '%s' holds %s, which %s|%s cannot use", v->val,
				    c->set->is_net ? "networks" : "domains", name, mod);
				return false;
			}
			if (!need_net && fields[f].type != FT_DOMAIN && fields[f].type != FT_STRING) {
				ERR(L, v, "a domain set fits only host and domain fields");
				return false;
			}
			return true;
		}
		if (!want(L, v, YT_SEQ, "the value of in/cidr"))
			return false;
		c->list = xcalloc(v->n, sizeof *c->list);
		if (c->mod == M_CIDR)
			c->nets = xcalloc(v->n, sizeof *c->nets);
		bool ok = true;
		for (size_t i = 0; i < v->n; i++) {
			const struct yt_node *it = v->kids[i];
			if (!want(L, it, YT_SCALAR, "a list member")) {
				ok = false;
				continue;
			}
			if (c->mod == M_CIDR) {
				if (!parse_cidr(it->val, &c->nets[c->nlist])) {
					ERR(L, it, "'%s' is not a CIDR block", it->val);
					ok = false;
					continue;
				}
			} else {
				long dummy;
				char *s = NULL;
				if (!scalar_value(L, it, c->field, &dummy, &s)) {
					ok = false;
					continue;
				}
				free(s);
			}
			c->list[c->nlist++] = xstrdup(it->val);
		}
		return ok;
	}
	if (!want(L, v, YT_SCALAR, "a condition's value"))
		return false;
	if (v->val[0] == '$' && v->plain) {
		ERR(L, v, "sets like '%s' go with |in or |cidr", v->val);
		return false;
	}
	return scalar_value(L, v, c->field, &c->i, &c->s);
}

static void parse_conds(struct loader *L, const struct yt_node *map, struct cond **out,
			size_t *n)
{
	if (!want(L, map, YT_MAP, "when/unless"))
		return;
	*out = xcalloc(map->n / 2 + 1, sizeof **out);
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		if (map->kids[i]->type != YT_SCALAR)
			continue;
		if (parse_cond(L, map->kids[i], map->kids[i + 1], &(*out)[*n]))
			(*n)++;
		else
			cond_free(&(*out)[*n]);
	}
}

/* Placeholders in explain: {field} with a known field name. */
static void check_template(struct loader *L, const struct yt_node *n)
{
	const char *s = n->val;
	for (const char *p = s; *p; p++) {
		if (*p != '{')
			continue;
		const char *e = strchr(p, '}');
		if (!e) {
			ERR(L, n, "unclosed '{' in explain");
			return;
		}
		char name[64];
		snprintf(name, sizeof name, "%.*s", (int)(e - p - 1), p + 1);
		bool ok = strcmp(name, "rule") == 0 || strcmp(name, "tls.basis") == 0;
		for (int i = 0; i < F_COUNT; i++)
			ok |= strcmp(fields[i].name, name) == 0;
		if (!ok)
			ERR(L, n, "unknown placeholder '{%s}' in explain", name);
		p = e;
	}
}

static void parse_outcome(struct loader *L, const struct yt_node *map, struct rule *r,
			  bool is_default)
{
	const struct yt_node *v = yt_get(map, "verdict");
	const struct yt_node *s = yt_get(map, "severity");
	const struct yt_node *x = yt_get(map, "explain");
	const char *what = is_default ? "default" : "a rule";
	r->verdict = r->severity = -1;
	if (!v)
		ERR(L, map, "%s needs a verdict", what);
	else if (want(L, v, YT_SCALAR, "verdict") && (r->verdict = verdict_rank(v->val)) < 0)
		ERR(L, v, "verdict must be encrypted, weak, plaintext or unknown, not '%s'", v->val);
	if (!s)
		ERR(L, map, "%s needs a severity", what);
	else if (want(L, s, YT_SCALAR, "severity") && (r->severity = severity_rank(s->val)) < 0)
		ERR(L, s, "severity must be info, low, medium, high or critical, not '%s'", s->val);
	if (x && want(L, x, YT_SCALAR, "explain")) {
		check_template(L, x);
		r->explain = xstrdup(x->val);
	}
}

static void parse_rule(struct loader *L, const struct yt_node *map, struct rule *r)
{
	static const char *const keys[] = { "id", "when", "unless", "verdict", "severity",
					    "explain", "references", NULL };
	memset(r, 0, sizeof *r);
	r->line = map->line;
	if (!want(L, map, YT_MAP, "a rule"))
		return;
	check_keys(L, map, keys, "a rule");
	const struct yt_node *id = yt_get(map, "id");
	if (!id)
		ERR(L, map, "a rule needs an id");
	else if (want(L, id, YT_SCALAR, "id"))
		r->id = xstrdup(id->val);
	const struct yt_node *w = yt_get(map, "when");
	if (!w)
		ERR(L, map, "a rule needs a when");
	else
		parse_conds(L, w, &r->when, &r->nwhen);
	const struct yt_node *u = yt_get(map, "unless");
	if (u)
		parse_conds(L, u, &r->unless, &r->nunless);
	parse_outcome(L, map, r, false);
	const struct yt_node *refs = yt_get(map, "references");
	if (refs && want(L, refs, YT_SEQ, "references")) {
		r->refs = xcalloc(refs->n + 1, sizeof *r->refs);
		for (size_t i = 0; i < refs->n; i++)
			if (want(L, refs->kids[i], YT_SCALAR, "a reference"))
				r->refs[r->nrefs++] = xstrdup(refs->kids[i]->val);
	}
}

static void load_tree(struct loader *L, const struct yt_node *root)
{
	static const char *const keys[] = { "schema", "policy", "networks", "domains",
					    "rules", "default", NULL };
	if (!want(L, root, YT_MAP, "a rule file"))
		return;
	check_keys(L, root, keys, "the rule file");
	const struct yt_node *schema = yt_get(root, "schema");
	if (!schema)
		ERR(L, root, "missing 'schema: tlswitness/1'");
	else if (want(L, schema, YT_SCALAR, "schema") && strcmp(schema->val, "tlswitness/1") != 0)
		ERR(L, schema, "unknown schema '%s' (this tlswitness reads tlswitness/1)", schema->val);
	const struct yt_node *name = yt_get(root, "policy");
	if (name && want(L, name, YT_SCALAR, "policy"))
		L->p->name = xstrdup(name->val);
	else if (!name)
		ERR(L, root, "missing 'policy: NAME'");
	const struct yt_node *nets = yt_get(root, "networks");
	if (nets)
		load_sets(L, nets, true);
	const struct yt_node *doms = yt_get(root, "domains");
	if (doms)
		load_sets(L, doms, false);
	const struct yt_node *rules = yt_get(root, "rules");
	if (!rules) {
		ERR(L, root, "missing 'rules'");
	} else if (want(L, rules, YT_SEQ, "rules")) {
		L->p->rules = xcalloc(rules->n + 1, sizeof *L->p->rules);
		for (size_t i = 0; i < rules->n; i++) {
			struct rule *r = &L->p->rules[L->p->nrules++];
			parse_rule(L, rules->kids[i], r);
			for (size_t j = 0; r->id && j + 1 < L->p->nrules; j++)
				if (L->p->rules[j].id && strcmp(L->p->rules[j].id, r->id) == 0)
					ERR(L, yt_get(rules->kids[i], "id"), "duplicate rule id '%s'", r->id);
		}
		/* A rule after one with "when: {}" and no unless can never match. */
		for (size_t i = 0; i + 1 < L->p->nrules; i++) {
			const struct rule *r = &L->p->rules[i];
			const struct yt_node *w = yt_get(rules->kids[i], "when");
			if (w && w->type == YT_MAP && w->n == 0 && !yt_get(rules->kids[i], "unless")) {
				const struct yt_node *next = rules->kids[i + 1];
				ERR(L, next, "rule '%s' can never match: rule '%s' before it matches everything",
				    L->p->rules[i + 1].id ? L->p->rules[i + 1].id : "?", r->id ? r->id : "?");
			}
		}
	}
	const struct yt_node *def = yt_get(root, "default");
	if (!def) {
		ERR(L, root, "missing 'default' (the verdict when no rule matches)");
	} else if (want(L, def, YT_MAP, "default")) {
		static const char *const dkeys[] = { "verdict", "severity", "explain", NULL };
		check_keys(L, def, dkeys, "default");
		parse_outcome(L, def, &L->p->def, true);
		L->p->def.id = xstrdup("default");
	}
}

/* Errors in file order: "name:line:col: ..." lines sorted by line, col. */
struct errline { long line, col; size_t seq; const char *p; size_t n; };

static void line_col(const char *p, size_t n, long *line, long *col)
{
	/* The name may hold ':'; the position is the two numbers before ": ". */
	const char *end = p + n;
	const char *sep = NULL;
	for (const char *q = p; q + 1 < end; q++)
		if (q[0] == ':' && q[1] == ' ') {
			sep = q;
			break;
		}
	*line = *col = 0;
	if (!sep)
		return;
	const char *c = sep;
	while (c > p && c[-1] != ':')
		c--;
	*col = strtol(c, NULL, 10);
	const char *l = c - 1;
	while (l > p && l[-1] != ':')
		l--;
	*line = strtol(l, NULL, 10);
}

static int cmp_err(const void *a, const void *b)
{
	const struct errline *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void sort_errors(struct buf *text)
{
	size_t n = 0;
	for (size_t i = 0; i < text->n; i++)
		n += text->p[i] == '\n';
	struct errline *v = xcalloc(n + 1, sizeof *v);
	size_t k = 0;
	for (const char *p = text->p, *end = text->p + text->n; p < end && k < n;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		v[k] = (struct errline){ 0, 0, k, p, (size_t)(nl - p) + 1 };
		line_col(p, (size_t)(nl - p), &v[k].line, &v[k].col);
		k++;
		p = nl + 1;
	}
	qsort(v, k, sizeof *v, cmp_err);
	struct buf out;
	buf_init(&out);
	for (size_t i = 0; i < k; i++)
		buf_add(&out, v[i].p, v[i].n);
	free(v);
	buf_free(text);
	*text = out;
}

struct policy *policy_load(const char *name, const char *data, size_t len, struct buf *errs)
{
	struct yt_errors e = { .file = name };
	buf_init(&e.text);
	struct policy *p = xcalloc(1, sizeof *p);
	p->source = xstrdup(name);
	struct loader L = { p, &e };
	struct yt_node *root = yt_parse(data, len, &e);
	if (root)
		load_tree(&L, root);
	else if (!e.count)
		yt_error(&e, 1, 1, "empty rule file");
	yt_free(root);
	if (e.count) {
		sort_errors(&e.text);
		buf_addspan(errs, (struct span){ e.text.p, e.text.n });
		buf_free(&e.text);
		policy_free(p);
		return NULL;
	}
	buf_free(&e.text);
	return p;
}

struct policy *policy_load_file(const char *path, struct buf *errs)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		buf_printf(errs, "%s:1:1: cannot read rule file: %s\n", path, strerror(errno));
		return NULL;
	}
	struct buf data;
	buf_init(&data);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		buf_add(&data, chunk, n);
		if (data.n > YT_MAX_BYTES)
			break;
	}
	bool err = ferror(f);
	fclose(f);
	if (err) {
		buf_printf(errs, "%s:1:1: cannot read rule file: %s\n", path, strerror(errno));
		buf_free(&data);
		return NULL;
	}
	struct policy *p = policy_load(path, data.p ? data.p : "", data.n, errs);
	buf_free(&data);
	return p;
}

const char *policy_builtin_text(void)
{
	return tw_default_policy;
}

struct policy *policy_builtin(struct buf *errs)
{
	return policy_load("built-in:rules/default.yaml", tw_default_policy,
			   strlen(tw_default_policy), errs);
}

/* ---- evaluation ---------------------------------------------------------- */

static char domain_buf[2][256];

/* "<a@Example.org>" -> "example.org" in a static slot: one for the
 * recipient's, one for the sender's, alive while a rule is evaluated. */
static const char *addr_domain(const char *addr, int slot)
{
	const char *d = addr_domain_of(addr, domain_buf[slot], sizeof domain_buf[slot]);
	return d && *d ? d : NULL;
}

static struct fval field_value(enum field_id f, const struct message *m, const struct hop *h)
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
		v.s = fields[F_HOP_SOURCE].enums[h->source];
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
	case F_HOP_RCPT_DOMAIN: v.s = addr_domain(h->rcpt, 0); break;
	case F_HOP_STATUS: v.s = h->status; break;
	case F_MSG_FROM: v.s = m->from; break;
	case F_MSG_FROM_DOMAIN: v.s = addr_domain(m->from, 1); break;
	case F_MSG_HOST: v.s = m->host; break;
	case F_MSG_QUEUE_ID: v.s = m->qid; break;
	case F_MSG_MESSAGE_ID: v.s = m->message_id; break;
	case F_COUNT: break;
	}
	if (fields[f].type == FT_STRING || fields[f].type == FT_IP || fields[f].type == FT_DOMAIN)
		v.known = v.s != NULL;
	return v;
}

static bool str_eq_field(enum ftype t, const char *a, const char *b)
{
	if (t == FT_DOMAIN)
		return domain_match(b, a);
	if (t == FT_IP) {
		struct cidr c;
		return parse_cidr(b, &c) && cidr_contains(&c, a);
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

static bool cond_eval(const struct cond *c, const struct message *m, const struct hop *h,
		      struct fval v);

/* String tests (substrings, sets, networks) give the same answer for the
 * same value, and a log repeats its few ciphers, relays and domains: each
 * condition remembers its last MEMO_SLOTS values and answers.  Judging runs on one
 * thread, so the memo needs no lock. */
static bool cond_holds(const struct cond *c, const struct message *m, const struct hop *h)
{
	struct fval v = field_value(c->field, m, h);
	enum ftype t = fields[c->field].type;
	bool text = t == FT_STRING || t == FT_IP || t == FT_DOMAIN;
	if (!text || c->unknown || !v.known || c->mod == M_EQ || c->mod == M_NE)
		return cond_eval(c, m, h, v);
	struct cond *mc = (struct cond *)c;	/* a cache, not the rule */
	size_t n = strlen(v.s);
	for (int i = 0; i < MEMO_SLOTS; i++)
		if (mc->memo[i].n == n + 1 && memcmp(mc->memo[i].val, v.s, n) == 0)
			return mc->memo[i].res;
	bool res = cond_eval(c, m, h, v);
	if (n < sizeof mc->memo[0].val) {
		struct memo *e = &mc->memo[mc->memo_next];
		mc->memo_next = (mc->memo_next + 1) % MEMO_SLOTS;
		memcpy(e->val, v.s, n + 1);
		e->n = n + 1;
		e->res = res;
	}
	return res;
}

static bool cond_eval(const struct cond *c, const struct message *m, const struct hop *h,
		      struct fval v)
{
	enum ftype t = fields[c->field].type;
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
		if (!ip_parse(v.s, &fam, a))	/* once, not once a network */
			return false;
		const struct cidr *nets = c->set ? c->set->nets : c->nets;
		size_t nn = c->set ? c->set->n : c->nlist;
		for (size_t i = 0; i < nn; i++)
			if (net_has(&nets[i], fam, a))
				return true;
		return false;
	}
	case M_IN:
		if (c->set) {
			for (size_t i = 0; i < c->set->n; i++)
				if (domain_match(c->set->names[i], v.s))
					return true;
			return false;
		}
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

static bool all_hold(const struct cond *c, size_t n, const struct message *m, const struct hop *h)
{
	for (size_t i = 0; i < n; i++)
		if (!cond_holds(&c[i], m, h))
			return false;
	return true;
}

static bool any_holds(const struct cond *c, size_t n, const struct message *m, const struct hop *h)
{
	for (size_t i = 0; i < n; i++)
		if (cond_holds(&c[i], m, h))
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
		if (strlen(fields[f].name) == n && memcmp(fields[f].name, name, n) == 0)
			return f;
	return -3;
}

static void expand(struct buf *out, const char *tpl, const struct rule *r,
		   const struct message *m, const struct hop *h)
{
	for (const char *p = tpl; *p; p++) {
		const char *e;
		if (*p != '{' || !(e = strchr(p, '}'))) {
			const char *lit = strchrnul(p + 1, '{');
			buf_add(out, p, (size_t)(lit - p));
			p = lit - 1;
			continue;
		}
		int f = placeholder(p + 1, (size_t)(e - p - 1));
		p = e;
		if (f == -1) {
			buf_adds(out, r->id);
		} else if (f == -2) {
			buf_adds(out, h->basis ? h->basis : "unknown");
		} else if (f >= 0) {
			struct fval v = field_value((enum field_id)f, m, h);
			if (!v.known)
				buf_adds(out, "unknown");
			else if (fields[f].type == FT_BOOL)
				buf_adds(out, v.i ? "true" : "false");
			else if (v.s)
				buf_adds(out, v.s);
			else
				buf_printf(out, "%ld", v.i);
		}
	}
}

void policy_judge(const struct policy *p, const struct message *m, struct hop *h)
{
	const struct rule *hit = &p->def;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];
		if (all_hold(r->when, r->nwhen, m, h) &&
		    !(r->nunless && any_holds(r->unless, r->nunless, m, h))) {
			hit = r;
			break;
		}
	}
	h->verdict = verdict_names[hit->verdict];
	h->severity = severity_names[hit->severity];
	h->rule = hit->id;
	struct buf b;
	buf_init(&b);
	expand(&b, hit->explain ? hit->explain : "", hit, m, h);
	free(h->explain);
	h->explain = b.p ? b.p : xstrdup("");
}

/* Tiers for the message verdict: hops that crossed a network; failing
 * those, SMTP hops on this machine (loopback); failing those, every hop. */
static int hop_tier(const struct hop *h)
{
	return h->network ? 2 : h->local ? 0 : 1;
}

void policy_judge_message(const struct policy *p, struct message *m)
{
	int v[3] = { -1, -1, -1 }, s[3] = { -1, -1, -1 };
	size_t nh = (m->has_inbound ? 1u : 0u) + m->ndl;
	for (size_t i = 0; i < nh; i++) {
		struct hop *h = (m->has_inbound && i == 0) ? &m->inbound
							   : &m->dl[i - (m->has_inbound ? 1 : 0)];
		policy_judge(p, m, h);
		int t = hop_tier(h), hv = verdict_rank(h->verdict), hs = severity_rank(h->severity);
		if (hv > v[t]) v[t] = hv;
		if (hs > s[t]) s[t] = hs;
	}
	int t = v[2] >= 0 ? 2 : v[1] >= 0 ? 1 : 0;
	m->verdict = v[t] >= 0 ? verdict_names[v[t]] : "unknown";
	m->severity = s[t] >= 0 ? severity_names[s[t]] : "info";
}
