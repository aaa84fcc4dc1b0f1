/* report.h - writing results: JSON Lines messages (DESIGN.md section 3),
 * evidence events, and a text table with a summary.  Every format renders
 * from the same struct message; writers append to a buffer the caller
 * flushes, so one record is written whole or not at all. */
#ifndef TW_REPORT_H
#define TW_REPORT_H
#include "../model/message.h"
#include <stdio.h>

struct pseudo;
struct report_ctx {
	const char *const *files;	/* by file_id, as named on the command line */
	size_t nfiles;
	const struct pseudo *pseudo;	/* --pseudonymize: hash local parts */
};

struct summary {
	unsigned long messages, hops;
	unsigned long msg_verdict[4], msg_severity[5];
	unsigned long hop_verdict[4], hop_severity[5];
};

void summary_add(struct summary *s, const struct message *m);

void json_message(struct buf *out, const struct message *m, const struct report_ctx *rc);
void json_event(struct buf *out, const struct evidence *ev, const struct report_ctx *rc);
struct smtp_connection;
void json_connection(struct buf *out, const struct smtp_connection *c,
		     const struct report_ctx *rc);

struct paths;
struct path_node;
/* One JSON object per path (a message followed across servers). */
/* One path, from its first server on (a path_write_fn's work). */
void json_path(struct buf *out, struct paths *p, struct path_node *root);

struct manifest;
struct html;
struct html *html_new(void);
void html_message(struct html *h, const struct message *m, const struct report_ctx *rc);
struct domains;
/* doms: the per-domain and per-peer tables, or NULL to leave them out. */
void html_write(struct html *h, struct buf *out, const struct manifest *man,
		struct domains *doms);
void html_free(struct html *h);

struct tlsrpt;
struct tlsrpt *tlsrpt_new(void);
void tlsrpt_message(struct tlsrpt *t, const struct message *m);
void tlsrpt_write(struct tlsrpt *t, struct buf *out, const char *org, const char *contact,
		  const char *report_id);
void tlsrpt_free(struct tlsrpt *t);

struct domains;
struct domains *domains_new(void);
void domains_message(struct domains *d, const struct message *m);
void domains_json(struct domains *d, struct buf *out);
void domains_text(struct domains *d, struct buf *out);
void domains_html(struct domains *d, struct buf *out);
/* Postfix smtp_tls_policy_maps, or Sendmail access map TLS_Srv: lines. */
void domains_policy_map(struct domains *d, struct buf *out, bool sendmail);
void domains_free(struct domains *d);

void csv_header(struct buf *out);
void csv_message(struct buf *out, const struct message *m, const struct report_ctx *rc);

void text_header(struct buf *out);
void text_message(struct buf *out, const struct message *m, const struct report_ctx *rc);
void text_summary(struct buf *out, const struct summary *s);
/* One table cell: escaped, padded to width display columns, then a space. */
void text_cell(struct buf *out, const char *s, size_t width);

#endif
