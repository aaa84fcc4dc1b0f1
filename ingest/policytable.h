/* policytable.h - the MTA's TLS policy table (--policy-table FILE): what
 * was mandatory for each destination, for deliveries whose log lines do
 * not say (README "Enforcement").
 *
 * Two source forms, told apart by their keys:
 *  - Postfix smtp_tls_policy_maps source (postconf(5), TLS_README "TLS
 *    policy table"): "KEY LEVEL [name=value ...]", KEY a domain, .domain
 *    (its subdomains), [host] or [host]:port; "{ name = value }" groups;
 *    a line that starts with white space continues the one before.
 *  - Sendmail access database source (cf/README "STARTTLS"):
 *    "TLS_Srv:HOST VERIFY[:bits]" / "ENCR:bits", "TLS_Rcpt:DOMAIN ...";
 *    a key also covers the names below it. */
#ifndef TW_POLICYTABLE_H
#define TW_POLICYTABLE_H
#include "../model/message.h"
#include "../util/buf.h"

struct policy_table;

struct policy_entry {
	char *key;			/* as written, lower case */
	enum tls_level level;
	enum policy_type type;		/* Postfix policy_type=sts */
	unsigned long line;
};

/* NULL, with "FILE:LINE:COLUMN: message" lines in errs, when the file
 * cannot be read or holds a line that is not a policy. */
struct policy_table *policy_table_load(const char *path, struct buf *errs);
void policy_table_free(struct policy_table *t);
const char *policy_table_form(const struct policy_table *t);	/* postfix, sendmail */
size_t policy_table_size(const struct policy_table *t);

/* The entry in force for a delivery to rcpt over relay (either may be
 * NULL; port -1 unknown), or NULL. */
const struct policy_entry *policy_table_find(const struct policy_table *t, const char *rcpt,
					     const char *relay_name, const char *relay_ip,
					     int port);

/* Fill the enforcement facts of m's network deliveries that the evidence
 * left unstated: the level, whether it forbade plaintext (enforced_by
 * policy-table), and the policy type (sts) where the level agrees. */
void policy_table_apply(const struct policy_table *t, struct message *m);

#endif
