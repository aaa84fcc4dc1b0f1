/* audit.h - the audit summary the text and HTML reports open with
 * (README "Audit report"): organisation, the period asked for and
 * observed, the scope (hosts, inputs and their SHA-256), a headline, counts
 * by verdict and severity, enforcement coverage; then the findings grouped
 * by severity (critical first, at most --max-findings rows a group, the
 * rest counted), what the policy accepted folded into counts, the unknown
 * hops by reason, enforcement per recipient domain and the coverage gaps
 * per host.  Memory: the listed rows and one counter per rule. */
#ifndef TW_AUDIT_H
#define TW_AUDIT_H
#include "writer.h"

#define AUDIT_FINDINGS_DEFAULT 50	/* rows a severity group lists */
#define AUDIT_DOMAINS_SHOWN 20		/* recipient domains in the enforcement table */

struct audit;

struct audit *audit_new(const struct writer_env *env);
void audit_free(struct audit *a);
void audit_message(struct audit *a, const struct message *m);
/* The per-domain and per-peer tables it keeps, for the writer's own. */
struct domains *audit_domains(struct audit *a);
/* The summary as text, or as HTML (the sections after the first screen
 * each under an h2); both end before the writer's own sections. */
void audit_text(struct audit *a, struct buf *b, const struct writer_end *end);
void audit_html(struct audit *a, struct buf *b, const struct writer_end *end);

#endif
