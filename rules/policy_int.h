/* policy_int.h - what the rule files' loader and evaluator share (private
 * to rules/; rules/policy.h is the stage's interface): the fields a rule
 * may test and their types, the modifiers, networks and domain sets, a
 * loaded condition, rule and policy.  ARCHITECTURE.md "Rules" says which
 * file does what. */
#ifndef TW_POLICY_INT_H
#define TW_POLICY_INT_H
#include "policy.h"
#include "../util/hashtab.h"

enum ftype { FT_BOOL, FT_VERSION, FT_CERT, FT_INT, FT_STRING, FT_IP, FT_DOMAIN, FT_ENUM };

enum field_id {
	F_TLS_USED, F_TLS_VERSION, F_TLS_CIPHER, F_TLS_BITS, F_TLS_CERT,
	F_TLS_STRIPPED, F_HOP_DIRECTION, F_HOP_PEER_HOST, F_HOP_PEER_IP,
	F_HOP_PEER_PORT, F_HOP_NETWORK, F_HOP_LOCAL, F_HOP_SOURCE, F_HOP_CONFLICT, F_HOP_CLAIM, F_HOP_RCPT,
	F_HOP_RCPT_DOMAIN, F_HOP_STATUS, F_MSG_FROM, F_MSG_FROM_DOMAIN,
	F_MSG_HOST, F_MSG_QUEUE_ID, F_MSG_MESSAGE_ID, F_TLS_DOWNGRADE, F_HOP_FILTER, F_TLS_LEVEL, F_TLS_ENFORCED,
	F_TLS_ENFORCED_BY, F_TLS_REQUIRETLS, F_TLS_POLICY_TYPE,
	F_HOP_SUBMISSION, F_HOP_AUTHENTICATED, F_HOP_SASL_METHOD, F_HOP_SASL_USERNAME,
	F_ATTEMPT_OUTCOME, F_ATTEMPT_REASON, F_DELIVERY_FATE, F_HOP_LEG,
	F_LOGIN_SERVICE, F_LOGIN_STATUS, F_COUNT
};

struct field_def {
	const char *name;
	enum ftype type;
	const char *const *enums;	/* FT_ENUM values */
};
/* README "Rule language": every field, its type, an enum's values. */
extern const struct field_def rule_fields[F_COUNT];

enum modifier { M_EQ, M_NE, M_LT, M_LE, M_GT, M_GE, M_IN, M_CIDR, M_CONTAINS,
		M_SUFFIX, M_PREFIX, M_COUNT };
extern const char *const rule_modifier_names[M_COUNT];
/* Does modifier m make sense for a field of type t? */
bool rule_modifier_fits(enum ftype t, enum modifier m);

/* A value a field has on one hop. */
struct fval {
	bool known;
	long i;			/* bool, version, cert, int, enum index */
	const char *s;		/* strings, addresses */
};

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
	/* domains by hash, lower case: the names, and the suffixes of the
	 * wildcards ("example.org" for "*.example.org") */
	struct hashtab *exact, *wild;
};

/* rules/cidrset.c: "192.0.2.0/24", "2001:db8::/32" or an address. */
bool rule_parse_cidr(const char *s, struct cidr *c);
bool rule_ip_parse(const char *ip, int *fam, unsigned char a[16]);
bool rule_net_has(const struct cidr *c, int fam, const unsigned char *a);
bool rule_cidr_contains(const struct cidr *c, const char *ip);
/* "example.org" or "*.example.org" (any subdomain), case-insensitive. */
bool rule_domain_match(const char *pattern, const char *name);
/* A domain set's names hashed, once loaded; then is name in the set (as
 * rule_domain_match against each member would say, in O(labels))? */
void rule_set_index(struct set *s);
bool rule_set_has_domain(const struct set *s, const char *name);

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

/* One piece of a compiled explain template: a run of its text, or a
 * placeholder (a field, {rule} or {tls.basis}); compiled once at load so
 * judging a hop looks no name up (evaluate.c). */
enum tpl_kind { TPL_TEXT, TPL_FIELD, TPL_RULE, TPL_BASIS };
struct tpl_seg {
	enum tpl_kind kind;
	enum field_id field;	/* TPL_FIELD */
	const char *text;	/* TPL_TEXT: into the rule's explain */
	size_t n;
};

struct rule {
	char *id;
	struct cond *when, *unless;
	size_t nwhen, nunless;
	int verdict, severity;
	char *explain;
	struct tpl_seg *tpl;	/* explain compiled (rule_compile_explain) */
	size_t ntpl;
	char **refs;
	size_t nrefs;
	int line;
};

struct policy {
	char *name;
	struct set *sets;
	size_t nsets;
	struct rule *rules;
	size_t nrules;
	struct rule def;
};

/* rules/evaluate.c: cut r->explain into its pieces (r->tpl). */
void rule_compile_explain(struct rule *r);

/* rules/policy.c */
const struct set *policy_find_set(const struct policy *p, const char *name);
void rule_cond_free(struct cond *c);

#endif
