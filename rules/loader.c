/* loader.c - tlswitness/1 rule files from YAML (libyaml events through
 * rules/yamltree.c): every error found is reported as file:line:column
 * (1-based), sorted, and any error refuses the file. */
#include "policy_int.h"
#include "yamltree.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern const char tw_default_policy[];	/* generated from rules/default.yaml */

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


static void load_sets(struct loader *L, const struct yt_node *map, bool nets)
{
	const char *what = nets ? "networks" : "domains";
	if (!want(L, map, YT_MAP, what))
		return;
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct yt_node *k = map->kids[i], *v = map->kids[i + 1];
		if (k->type != YT_SCALAR)
			continue;
		if (policy_find_set(L->p, k->val)) {
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
				if (!rule_parse_cidr(it->val, &s->nets[s->n]))
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
		if (!nets)
			rule_set_index(s);
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
	const struct field_def *fd = &rule_fields[f];
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
		if (strcmp(rule_fields[i].name, name) == 0)
			f = i;
	if (f < 0) {
		ERR(L, k, "unknown field '%s'", name);
		return false;
	}
	c->field = (enum field_id)f;
	int m = -1;
	for (int i = 0; i < M_COUNT; i++)
		if (strcmp(rule_modifier_names[i], mod) == 0)
			m = i;
	if (m < 0) {
		ERR(L, k, "unknown modifier '%s'", mod);
		return false;
	}
	c->mod = (enum modifier)m;
	if (!rule_modifier_fits(rule_fields[f].type, c->mod)) {
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
			c->set = policy_find_set(L->p, v->val + 1);
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
			if (!need_net && rule_fields[f].type != FT_DOMAIN && rule_fields[f].type != FT_STRING) {
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
				if (!rule_parse_cidr(it->val, &c->nets[c->nlist])) {
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
			rule_cond_free(&(*out)[*n]);
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
			ok |= strcmp(rule_fields[i].name, name) == 0;
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
	rule_compile_explain(r);
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
