/* text.c - the audit summary (report/audit.h), then a readable table (one
 * row per hop), the domain tables and the manifest.  Every field
 * from the evidence goes through text_safe: nothing in a log line can move
 * the terminal. */
#include "text.h"
#include "domains.h"
#include "escape.h"
#include "manifest.h"
#include "audit.h"
#include "../model/verdict.h"
#include "../util/timeconv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void text_header(struct buf *b)
{
	buf_adds(b, "TIME                  HOST/QUEUE-ID                 DIR  PEER                               RECIPIENT                      VERDICT    SEVERITY  RULE                  TLS\n");
}

static void tls_text(struct buf *b, const struct tls_state *t)
{
	if (t->used == TRI_NO) {
		buf_adds(b, "no TLS");
		return;
	}
	if (t->used == TRI_UNKNOWN) {
		buf_adds(b, "unknown");
		return;
	}
	if (t->version == TLSV_UNKNOWN && !t->version_raw && !t->cipher) {
		buf_adds(b, "TLS (details not logged)");
		return;
	}
	struct buf s;
	buf_init(&s);
	buf_printf(&s, "%s%s%s", tls_version_name(t->version) ? tls_version_name(t->version)
			: (t->version_raw ? t->version_raw : "TLS"),
		   t->cipher ? " " : "", t->cipher ? t->cipher : "");
	if (t->bits >= 0)
		buf_printf(&s, " (%d bits)", t->bits);
	if (tls_cert_name(t->cert))
		buf_printf(&s, " %s", tls_cert_name(t->cert));
	text_safe(b, s.p);
	buf_free(&s);
}

static void row(struct buf *b, const struct message *m, const struct hop *h)
{
	char iso[32];
	fmt_iso_utc(h->ts ? h->ts : m->first_seen, iso, sizeof iso);
	text_cell(b, iso, 21);
	struct buf id;
	buf_init(&id);
	if (m->login)	/* README "Retrieval": "host/imap-login" */
		buf_printf(&id, "%s/%s-login", m->host ? m->host : "-", m->login->service);
	else
		buf_printf(&id, "%s/%s", m->host ? m->host : "-", m->qid ? m->qid : "-");
	text_cell(b, id.p, 29);
	buf_free(&id);
	text_cell(b, h->dir == DIR_OUT ? "out" : "in", 4);
	struct buf peer;
	buf_init(&peer);
	buf_printf(&peer, "%s[%s]", h->peer_host ? h->peer_host : "-", h->peer_ip ? h->peer_ip : "-");
	if (h->peer_port >= 0)
		buf_printf(&peer, ":%d", h->peer_port);
	text_cell(b, peer.p, 34);
	buf_free(&peer);
	/* a login's "recipient" column names the mailbox owner */
	const char *who = m->login ? h->sasl_username : h->dir == DIR_OUT ? h->rcpt : m->from;
	text_cell(b, who && !*who ? "<>" : who, 30);	/* the null sender */
	text_cell(b, h->verdict, 10);
	text_cell(b, h->severity, 9);
	text_cell(b, h->rule, 21);
	tls_text(b, &h->tls);
	buf_addc(b, '\n');
}

/* Under every hop that is not plainly encrypted: why, and where to look
 * ("file:line" in a log, "file#frame=N" in a capture).  Under every hop a
 * capture disagrees with, or that several capture connections fit: so. */
static void why(struct buf *b, const struct hop *h, const struct writer_env *env)
{
	if (h->conflict) {
		buf_adds(b, "    conflict: ");
		text_safe(b, h->conflict_detail ? h->conflict_detail : "the capture disagrees");
		buf_addc(b, '\n');
	}
	if (h->join_ambiguous > 1)
		buf_printf(b, "    capture: %d connections fit this hop equally; none was joined\n",
			   h->join_ambiguous);
	if (h->verdict && strcmp(h->verdict, "encrypted") == 0 &&
	    h->severity && strcmp(h->severity, "info") == 0)
		return;
	buf_adds(b, "    why: ");
	text_safe(b, h->explain);
	buf_adds(b, "\n    evidence:");
	for (size_t i = 0; i < h->nev; i++) {
		int id = h->ev[i].file_id;
		buf_addc(b, ' ');
		text_safe(b, writer_file(env, id));
		buf_printf(b, h->ev[i].frame ? "#frame=%lu" : ":%lu", h->ev[i].line);
	}
	buf_addc(b, '\n');
}

/* Under a delivery that was not carried, or was carried after other
 * attempts: its fate and each attempt in one line (README "Fates,
 * attempts and downgrades"). */
static void fate_lines(struct buf *b, const struct hop *h)
{
	if (h->dir != DIR_OUT || h->source != SRC_LOG || !h->fate ||
	    (h->fate == FATE_SENT && !h->ntries && h->attempts <= 1 && !h->tls.downgrade))
		return;
	buf_printf(b, "    fate: %s", fate_name(h->fate));
	if (h->tls.downgrade)
		buf_printf(b, "; TLS downgrade: %s", downgrade_name(h->tls.downgrade));
	buf_addc(b, '\n');
	for (size_t i = 0; i <= h->ntries; i++) {
		const struct hop *a = i < h->ntries ? &h->tries[i] : h;
		char t[32];
		fmt_iso_utc(a->ts, t, sizeof t);
		buf_printf(b, "    attempt: %s %s", t, outcome_name(a->outcome) ? outcome_name(a->outcome) : "-");
		if (a->attempts > 1)
			buf_printf(b, " x%lu", a->attempts);
		buf_adds(b, a == h ? " (this row)" : "");
		if (a->reason) {
			buf_adds(b, ": ");
			text_safe(b, a->reason);
		}
		buf_addc(b, '\n');
	}
}

void text_message(struct buf *b, const struct message *m, const struct writer_env *env)
{
	if (m->has_inbound) {
		row(b, m, &m->inbound);
		why(b, &m->inbound, env);
	}
	for (size_t i = 0; i < m->ndl; i++) {
		row(b, m, &m->dl[i]);
		fate_lines(b, &m->dl[i]);
		why(b, &m->dl[i], env);
	}
}

/* The rows wait in a temporary file while the audit summary, which
 * needs every message, is gathered; then the summary goes first and the
 * rows follow, copied in pieces: memory stays flat with the input. */
struct text_writer {
	struct writer_base base;
	struct audit *audit;
	FILE *spool;			/* NULL: rows went straight out, summary last */
	struct buf rows;
};

static void *text_begin(struct buf *out, const struct writer_env *env)
{
	struct text_writer *w = xcalloc(1, sizeof *w);
	w->base.out = out;
	w->base.env = env;
	w->audit = audit_new(env);
	w->spool = tmpfile();
	buf_init(&w->rows);
	if (!w->spool)
		text_header(out);
	return w;
}

static void text_write_message(void *w, const struct message *m)
{
	struct text_writer *tw = w;
	audit_message(tw->audit, m);
	if (!tw->spool) {
		text_message(tw->base.out, m, tw->base.env);
		return;
	}
	buf_reset(&tw->rows);
	text_message(&tw->rows, m, tw->base.env);
	if (tw->rows.n && fwrite(tw->rows.p, 1, tw->rows.n, tw->spool) != tw->rows.n) {
		/* a full disk: what is spooled still comes out, the rest directly */
		fflush(tw->spool);
		buf_add(tw->base.out, tw->rows.p, tw->rows.n);
	}
}

static void text_finish(void *w, const struct writer_end *end)
{
	struct text_writer *tw = w;
	struct buf *b = tw->base.out;
	if (tw->spool) {
		audit_text(tw->audit, b, end);
		text_header(b);
		rewind(tw->spool);
		char chunk[1 << 16];
		size_t n;
		while ((n = fread(chunk, 1, sizeof chunk, tw->spool)) > 0) {
			buf_add(b, chunk, n);
			if (end->flush)
				end->flush(end->flush_arg);
		}
	} else {
		buf_addc(b, '\n');
		audit_text(tw->audit, b, end);
	}
	domains_text(audit_domains(tw->audit), b);
	manifest_text_record(b, end->man);
}

static void text_free(void *w)
{
	struct text_writer *tw = w;
	if (!tw)
		return;
	audit_free(tw->audit);
	if (tw->spool)
		fclose(tw->spool);
	buf_free(&tw->rows);
	free(tw);
}

const struct writer_class writer_text = {
	.name = "text",
	.input = WRITER_MESSAGES,
	.begin = text_begin,
	.message = text_write_message,
	.logins = true,
	.finish = text_finish,
	.free = text_free,
};
