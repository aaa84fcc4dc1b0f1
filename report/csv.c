/* csv.c - one row per hop, RFC 4180: CRLF line ends, fields quoted when
 * they hold a comma, quote, CR or LF, quotes doubled.  Safe to open in a
 * spreadsheet: a cell that starts with =, +, -, @, TAB or CR is prefixed
 * with a single quote (OWASP "CSV injection"), control characters and
 * invalid UTF-8 become visible \xNN text. */
#include "report.h"
#include "escape.h"
#include "../util/timeconv.h"
#include <string.h>

static const char *const columns[] = {
	"host", "instance", "mta", "source", "queue_id", "message_id", "from",
	"direction", "peer_host", "peer_ip", "peer_port", "rcpt", "status", "time",
	"network", "local", "tls_used", "tls_version", "tls_cipher", "tls_bits",
	"tls_cert", "tls_stripped", "verdict", "severity", "rule", "explain",
	"evidence", NULL,
};

void csv_header(struct buf *b)
{
	for (int i = 0; columns[i]; i++) {
		if (i)
			buf_addc(b, ',');
		buf_adds(b, columns[i]);
	}
	buf_adds(b, "\r\n");
}

static void cell(struct buf *b, const char *s, bool last)
{
	struct buf t;
	buf_init(&t);
	if (s && *s) {
		if (strchr("=+-@\t\r", s[0]))
			buf_addc(&t, '\'');
		text_safe(&t, s);
	}
	const char *v = t.p ? t.p : "";
	if (strpbrk(v, ",\"\r\n")) {
		buf_addc(b, '"');
		for (const char *p = v; *p; p++) {
			if (*p == '"')
				buf_addc(b, '"');
			buf_addc(b, *p);
		}
		buf_addc(b, '"');
	} else {
		buf_adds(b, v);
	}
	buf_adds(b, last ? "\r\n" : ",");
	buf_free(&t);
}

static const char *tri(enum tri t)
{
	return t == TRI_YES ? "true" : t == TRI_NO ? "false" : "";
}

static void row(struct buf *b, const struct message *m, const struct hop *h,
		const struct report_ctx *rc)
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
		buf_adds(&ev, id >= 0 && (size_t)id < rc->nfiles ? rc->files[id] : "?");
		buf_printf(&ev, h->ev[i].frame ? "#frame=%lu" : ":%lu", h->ev[i].line);
	}
	cell(b, m->host, false);
	cell(b, m->instance, false);
	cell(b, m->mta == MTA_SENDMAIL ? "sendmail" : m->mta == MTA_POSTFIX ? "postfix" : "", false);
	cell(b, src[h->source], false);
	cell(b, m->qid, false);
	cell(b, m->message_id, false);
	cell(b, m->from, false);
	cell(b, h->dir == DIR_OUT ? "outbound" : "inbound", false);
	cell(b, h->peer_host, false);
	cell(b, h->peer_ip, false);
	cell(b, port, false);
	cell(b, h->rcpt, false);
	cell(b, h->status, false);
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
	cell(b, ev.p, true);
	buf_free(&ev);
}

void csv_message(struct buf *b, const struct message *m, const struct report_ctx *rc)
{
	if (m->has_inbound)
		row(b, m, &m->inbound, rc);
	for (size_t i = 0; i < m->ndl; i++)
		row(b, m, &m->dl[i], rc);
}
