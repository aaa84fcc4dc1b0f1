/* policy.c - a loaded policy: its name, rules and sets, what it trusts,
 * and freeing it.  Loading is rules/loader.c, judging rules/evaluate.c;
 * validation is total (every error reported as file:line:column) and any
 * error refuses the file. */
#include "policy_int.h"
#include <stdlib.h>
#include <string.h>

const char *policy_name(const struct policy *p) { return p->name; }

bool policy_trusts(const struct policy *p, const char *ip)
{
	const struct set *s = policy_find_set(p, "internal");
	for (size_t i = 0; s && s->is_net && i < s->n; i++)
		if (rule_cidr_contains(&s->nets[i], ip))
			return true;
	return false;
}
int policy_partner(const struct policy *p, const char *domain)
{
	const struct set *s = policy_find_set(p, "partners");
	if (!s || s->is_net)
		return -1;
	return domain && rule_set_has_domain(s, domain);
}

size_t policy_nrules(const struct policy *p) { return p->nrules; }
const char *policy_rule_id(const struct policy *p, size_t i)
{
	return i < p->nrules ? p->rules[i].id : NULL;
}

void rule_cond_free(struct cond *c)
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
		rule_cond_free(&r->when[i]);
	for (size_t i = 0; i < r->nunless; i++)
		rule_cond_free(&r->unless[i]);
	free(r->when);
	free(r->unless);
	free(r->explain);
	free(r->tpl);
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
		ht_free(p->sets[i].exact, NULL);
		ht_free(p->sets[i].wild, NULL);
	}
	free(p->sets);
	for (size_t i = 0; i < p->nrules; i++)
		rule_free(&p->rules[i]);
	free(p->rules);
	rule_free(&p->def);
	free(p->name);
	free(p);
}

const struct set *policy_find_set(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->nsets; i++)
		if (strcmp(p->sets[i].name, name) == 0)
			return &p->sets[i];
	return NULL;
}
