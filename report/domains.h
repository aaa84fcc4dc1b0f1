/* domains.h - TLS per recipient domain and per sending peer (report/
 * domains.c): the table --format domains writes, the text and HTML
 * reports include, and the enforcement maps (report/policymap.c) are
 * decided from. */
#ifndef TW_DOMAINS_H
#define TW_DOMAINS_H
#include "writer.h"

struct domains;
struct domains *domains_new(void);
void domains_message(struct domains *d, const struct message *m);
struct writer_end;
/* The rows, one JSON record a line, passed on with end's flush as they
 * are written (end may be NULL: all kept in out). */
void domains_json(struct domains *d, struct buf *out, const struct writer_end *end);
void domains_text(struct domains *d, struct buf *out);
void domains_html(struct domains *d, struct buf *out);
/* Outbound deliveries in all, and those whose level forbade plaintext or
 * was opportunistic (README "Enforcement"). */
void domains_enforcement_totals(const struct domains *d, unsigned long *hops,
				unsigned long *enforced, unsigned long *opportunistic);
/* The top recipient domains by deliveries with their enforcement counts,
 * as an HTML table or text rows. */
void domains_enforcement(struct domains *d, struct buf *b, bool html, size_t top);
/* The same, one line: "a.example 3 of 5 enforced, ..." for the top ones,
 * each name through esc (html_safe or text_safe). */
void domains_enforcement_brief(struct domains *d, struct buf *b,
			       void (*esc)(struct buf *, const char *), size_t top);
/* Postfix smtp_tls_policy_maps, or Sendmail access map TLS_Srv: lines. */
void domains_policy_map(struct domains *d, struct buf *out, bool sendmail,
			const struct writer_end *end);
void domains_free(struct domains *d);

extern const struct writer_class writer_domains;

/* The writers that gather these tables and write them at the end (domains,
 * the policy maps) share their state and all but their finish. */
struct domains_writer {
	struct writer_base base;
	struct domains *doms;
};
void *domains_writer_begin(struct buf *out, const struct writer_env *env);
void domains_writer_message(void *w, const struct message *m);
void domains_writer_free(void *w);

#endif
