/* text.c - a readable table (one row per hop) and a summary.  Every field
 * from the evidence goes through text_safe: nothing in a log line can move
 * the terminal. */
#include "report.h"
#include "escape.h"
#include "../rules/policy.h"
#include "../util/timeconv.h"
#include <string.h>

void text_header(struct buf *b)
{
	buf_adds(b, "TIME                  HOST/QUEUE-ID                 DIR  PEER                               RECIPIENT                      VERDICT    SEVERITY  RULE                  TLS\n");
}

void text_cell(struct buf *b, const char *s, size_t width)
{
	struct buf t;
	buf_init(&t);
	text_safe(&t, s && *s ? s : "-");
	buf_addspan(b, (struct span){ t.p, t.n });
	/* pad by display columns: count UTF-8 lead bytes */
	size_t cols = 0;
	for (size_t i = 0; i < t.n; i++)
		cols += ((unsigned char)t.p[i] & 0xc0) != 0x80;
	for (; cols < width; cols++)
		buf_addc(b, ' ');
	buf_addc(b, ' ');
	buf_free(&t);
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
	text_cell(b, h->dir == DIR_OUT ? h->rcpt : m->from, 30);
	text_cell(b, h->verdict, 10);
	text_cell(b, h->severity, 9);
	text_cell(b, h->rule, 21);
	tls_text(b, &h->tls);
	buf_addc(b, '\n');
}

/* Under every hop that is not plainly encrypted: why, and where to look
 * ("file:line" in a log, "file#frame=N" in a capture).  Under every hop a
 * capture disagrees with, or that several capture connections fit: so. */
static void why(struct buf *b, const struct hop *h, const struct report_ctx *rc)
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
		text_safe(b, id >= 0 && (size_t)id < rc->nfiles ? rc->files[id] : "?");
		buf_printf(b, h->ev[i].frame ? "#frame=%lu" : ":%lu", h->ev[i].line);
	}
	buf_addc(b, '\n');
}

void text_message(struct buf *b, const struct message *m, const struct report_ctx *rc)
{
	if (m->has_inbound) {
		row(b, m, &m->inbound);
		why(b, &m->inbound, rc);
	}
	for (size_t i = 0; i < m->ndl; i++) {
		row(b, m, &m->dl[i]);
		why(b, &m->dl[i], rc);
	}
}

void text_summary(struct buf *b, const struct summary *s)
{
	buf_printf(b, "\nSummary: %lu message%s, %lu hop%s\n", s->messages,
		   s->messages == 1 ? "" : "s", s->hops, s->hops == 1 ? "" : "s");
	buf_adds(b, "  verdict     messages      hops\n");
	for (int v = 0; v < 4; v++)
		buf_printf(b, "  %-10s %9lu %9lu\n", verdict_names[v], s->msg_verdict[v],
			   s->hop_verdict[v]);
	buf_adds(b, "  severity    messages      hops\n");
	for (int v = 0; v < 5; v++)
		buf_printf(b, "  %-10s %9lu %9lu\n", severity_names[v], s->msg_severity[v],
			   s->hop_severity[v]);
}
