/* csv.c - one row per hop, RFC 4180: CRLF line ends, fields quoted when
 * they hold a comma, quote, CR or LF, quotes doubled.  Safe to open in a
 * spreadsheet: a cell that starts with =, +, -, @, TAB or CR is prefixed
 * with a single quote (OWASP "CSV injection"), control characters and
 * invalid UTF-8 become visible \xNN text. */
#include "csv.h"
#include "escape.h"
#include "../util/timeconv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const columns[] = {
	"host", "instance", "mta", "source", "queue_id", "message_id", "from",
	"direction", "peer_host", "peer_ip", "peer_port", "rcpt", "status", "time",
	"network", "local", "tls_used", "tls_version", "tls_cipher", "tls_bits",
	"tls_cert", "tls_stripped", "verdict", "severity", "rule", "explain",
	"evidence", "fate", "attempts", "tls_downgrade", "tls_level", "tls_enforced", "record", NULL,
};

static void csv_header(struct buf *b)
{
	for (int i = 0; columns[i]; i++) {
		if (i)
			buf_addc(b, ',');
		buf_adds(b, columns[i]);
	}
	buf_adds(b, "\r\n");
}

/* One cell (RFC 4180), written in place: escaped as the text report is,
 * a leading formula character neutralised, quoted only when the escaped
 * value holds a comma or a quote (text_safe leaves no CR or LF). */
static void cell(struct buf *b, const char *s, bool last)
{
	size_t start = b->n;
	if (s && *s) {
		/* spreadsheets skip leading blanks before a formula too */
		const char *q = s;
		while (*q == ' ')
			q++;
		if (*q && strchr("=+-@\t\r", *q))
			buf_addc(b, '\'');
		text_safe(b, s);
	}
	size_t len = b->n - start;
	bool quote = false;
	for (size_t i = 0; i < len && !quote; i++)
		quote = b->p[start + i] == ',' || b->p[start + i] == '"' ||
			b->p[start + i] == '\r' || b->p[start + i] == '\n';
	if (quote) {
		char *v = xmalloc(len + 1);
		memcpy(v, b->p + start, len);
		b->n = start;
		buf_addc(b, '"');
		for (size_t i = 0; i < len; i++) {
			if (v[i] == '"')
				buf_addc(b, '"');
			buf_addc(b, v[i]);
		}
		buf_addc(b, '"');
		free(v);
	}
	buf_adds(b, last ? "\r\n" : ",");
}

static const char *tri(enum tri t)
{
	return t == TRI_YES ? "true" : t == TRI_NO ? "false" : "";
}

static void row(struct buf *b, const struct message *m, const struct hop *h,
		const struct writer_env *env)
{
	static const char *const src[] = { "log", "pcap", "header" };
	char port[16] = "", bits[16] = "", iso[32];
	if (h->peer_port >= 0)
		snprintf(port, sizeof port, "%d", h->peer_port);
	if (h->tls.bits >= 0)
		snprintf(bits, sizeof bits, "%d", h->tls.bits);
	fmt_iso_utc(h->ts ? h->ts : m->first_seen, iso, sizeof iso);
	struct buf ev;
	buf_init(&ev);
	for (size_t i = 0; i < h->nev; i++) {
		int id = h->ev[i].file_id;
		if (i)
			buf_addc(&ev, ' ');
		buf_adds(&ev, writer_file(env, id));
		buf_printf(&ev, h->ev[i].frame ? "#frame=%lu" : ":%lu", h->ev[i].line);
	}
	cell(b, m->host, false);
	cell(b, m->instance, false);
	cell(b, m->mta == MTA_SENDMAIL ? "sendmail" : m->mta == MTA_POSTFIX ? "postfix"
		: m->mta == MTA_DOVECOT ? "dovecot" : "", false);
	cell(b, src[h->source], false);
	cell(b, m->qid, false);
	cell(b, m->message_id, false);
	cell(b, m->from, false);
	cell(b, h->dir == DIR_OUT ? "outbound" : "inbound", false);
	cell(b, h->peer_host, false);
	cell(b, h->peer_ip, false);
	cell(b, port, false);
	/* a login record (column record): the mailbox owner, the login's status */
	cell(b, m->login ? h->sasl_username : h->rcpt, false);
	cell(b, m->login ? m->login->status : h->status, false);
	cell(b, iso, false);
	cell(b, h->network ? "true" : "false", false);
	cell(b, h->local ? "true" : "false", false);
	cell(b, tri(h->tls.used), false);
	cell(b, tls_version_name(h->tls.version), false);
	cell(b, h->tls.cipher, false);
	cell(b, bits, false);
	cell(b, tls_cert_name(h->tls.cert), false);
	cell(b, tri(h->tls.stripped), false);
	cell(b, h->verdict, false);
	cell(b, h->severity, false);
	cell(b, h->rule, false);
	cell(b, h->explain, false);
	cell(b, ev.p, false);
	/* added columns go last: scripts that read by position keep working */
	char natt[24] = "";
	if (h->dir == DIR_OUT && h->source == SRC_LOG) {
		unsigned long n = h->attempts;
		for (size_t i = 0; i < h->ntries; i++)
			n += h->tries[i].attempts;
		snprintf(natt, sizeof natt, "%lu", n);
	}
	cell(b, fate_name(h->fate), false);
	cell(b, natt, false);
	cell(b, downgrade_name(h->tls.downgrade), false);
	cell(b, tls_level_name(h->tls.level), false);
	cell(b, tri(h->tls.enforced), false);
	cell(b, m->login ? "login" : "message", true);
	buf_free(&ev);
}

static void csv_message(struct buf *b, const struct message *m, const struct writer_env *env)
{
	if (m->has_inbound)
		row(b, m, &m->inbound, env);
	for (size_t i = 0; i < m->ndl; i++)
		row(b, m, &m->dl[i], env);
}

static void *csv_begin(struct buf *out, const struct writer_env *env)
{
	csv_header(out);
	return writer_base_begin(out, env);
}

static void csv_write_message(void *w, const struct message *m)
{
	struct writer_base *wb = w;
	csv_message(wb->out, m, wb->env);
}

static void csv_finish(void *w, const struct writer_end *end)
{
	/* a table of hops only: the manifest would be a row of another shape */
}

const struct writer_class writer_csv = {
	.name = "csv",
	.input = WRITER_MESSAGES,
	.begin = csv_begin,
	.message = csv_write_message,
	.logins = true,
	.finish = csv_finish,
	.free = free,
};
