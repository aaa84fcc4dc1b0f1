/* json.c - JSON Lines for messages and evidence events.
 * Field names follow DESIGN.md section 3 (the output contract): they may
 * gain company, never change names.  Strings pass through json_str, so no
 * byte of the evidence can break a record. */
#include "report.h"
#include "escape.h"
#include "../rules/policy.h"
#include "../util/timeconv.h"
#include <string.h>

static void key(struct buf *b, const char *k, bool *first)
{
	if (!*first)
		buf_addc(b, ',');
	*first = false;
	buf_addc(b, '"');
	buf_adds(b, k);
	buf_adds(b, "\":");
}

static void kstr(struct buf *b, const char *k, const char *v, bool *first)
{
	key(b, k, first);
	json_str(b, v);
}

static void kint(struct buf *b, const char *k, long v, bool known, bool *first)
{
	key(b, k, first);
	if (known)
		buf_printf(b, "%ld", v);
	else
		buf_adds(b, "null");
}

static void ktri(struct buf *b, const char *k, enum tri v, bool *first)
{
	key(b, k, first);
	buf_adds(b, v == TRI_YES ? "true" : v == TRI_NO ? "false" : "null");
}

static void ktime(struct buf *b, const char *k, time_t t, bool *first)
{
	char iso[32];
	fmt_iso_utc(t, iso, sizeof iso);
	kstr(b, k, iso, first);
}

static void tls_obj(struct buf *b, const struct tls_state *t)
{
	bool f = true;
	buf_addc(b, '{');
	ktri(b, "used", t->used, &f);
	kstr(b, "version", tls_version_name(t->version), &f);
	kstr(b, "version_raw", t->version_raw, &f);
	kstr(b, "cipher", t->cipher, &f);
	kint(b, "bits", t->bits, t->bits >= 0, &f);
	kint(b, "alg_bits", t->alg_bits, t->alg_bits >= 0, &f);
	kstr(b, "cert", tls_cert_name(t->cert), &f);
	kstr(b, "cert_raw", t->cert_raw, &f);
	ktri(b, "stripped", t->stripped, &f);
	kstr(b, "key_exchange", t->kex, &f);
	buf_addc(b, '}');
}

static void evidence_list(struct buf *b, const struct hop *h, const struct report_ctx *rc)
{
	buf_addc(b, '[');
	for (size_t i = 0; i < h->nev; i++) {
		if (i)
			buf_addc(b, ',');
		char loc[32];
		snprintf(loc, sizeof loc, ":%lu", h->ev[i].line);
		struct buf s;
		buf_init(&s);
		int id = h->ev[i].file_id;
		buf_adds(&s, id >= 0 && (size_t)id < rc->nfiles ? rc->files[id] : "?");
		buf_adds(&s, loc);
		json_str(b, s.p);
		buf_free(&s);
	}
	buf_addc(b, ']');
}

static void hop_obj(struct buf *b, const struct hop *h, const struct report_ctx *rc)
{
	bool f = true;
	buf_addc(b, '{');
	bool out = h->dir == DIR_OUT;
	if (out)
		kstr(b, "rcpt", h->rcpt, &f);
	kstr(b, out ? "relay_host" : "peer_host", h->peer_host, &f);
	kstr(b, out ? "relay_ip" : "peer_ip", h->peer_ip, &f);
	kint(b, out ? "relay_port" : "peer_port", h->peer_port, h->peer_port >= 0, &f);
	if (out) {
		kstr(b, "status", h->status, &f);
		kstr(b, "dsn", h->dsn, &f);
		kstr(b, "next_queue_id", h->next_qid, &f);
	}
	ktime(b, "time", h->ts, &f);
	key(b, "network", &f);
	buf_adds(b, h->network ? "true" : "false");
	key(b, "local", &f);
	buf_adds(b, h->local ? "true" : "false");
	key(b, "tls", &f);
	tls_obj(b, &h->tls);
	kstr(b, "tls_basis", h->basis, &f);
	kstr(b, "verdict", h->verdict, &f);
	kstr(b, "severity", h->severity, &f);
	kstr(b, "rule", h->rule, &f);
	kstr(b, "explain", h->explain, &f);
	key(b, "evidence", &f);
	evidence_list(b, h, rc);
	buf_addc(b, '}');
}

void json_message(struct buf *b, const struct message *m, const struct report_ctx *rc)
{
	bool f = true;
	buf_addc(b, '{');
	kstr(b, "host", m->host, &f);
	kstr(b, "instance", m->instance, &f);
	kstr(b, "mta", m->mta == MTA_SENDMAIL ? "sendmail" : "postfix", &f);
	kstr(b, "source", "log", &f);
	kstr(b, "queue_id", m->qid, &f);
	kstr(b, "message_id", m->message_id, &f);
	kstr(b, "from", m->from, &f);
	ktime(b, "first_seen", m->first_seen, &f);
	ktime(b, "last_seen", m->last_seen, &f);
	key(b, "complete", &f);
	buf_adds(b, (m->removed || m->done ||
		     (m->nrcpt > 0 && m->finals >= m->nrcpt)) ? "true" : "false");
	key(b, "inbound", &f);
	if (m->has_inbound)
		hop_obj(b, &m->inbound, rc);
	else
		buf_adds(b, "null");
	key(b, "deliveries", &f);
	buf_addc(b, '[');
	for (size_t i = 0; i < m->ndl; i++) {
		if (i)
			buf_addc(b, ',');
		hop_obj(b, &m->dl[i], rc);
	}
	buf_addc(b, ']');
	kstr(b, "verdict", m->verdict, &f);
	kstr(b, "severity", m->severity, &f);
	buf_adds(b, "}\n");
}

static void kspan(struct buf *b, const char *k, struct span s, bool *first)
{
	if (!s.n)
		return;
	key(b, k, first);
	json_strn(b, s.p, s.n);
}

void json_event(struct buf *b, const struct evidence *ev, const struct report_ctx *rc)
{
	bool f = true;
	buf_addc(b, '{');
	kstr(b, "source", "log", &f);
	kstr(b, "file", (size_t)ev->file_id < rc->nfiles ? rc->files[ev->file_id] : "?", &f);
	kint(b, "line", (long)ev->line, true, &f);
	ktime(b, "time", ev->ts, &f);
	kstr(b, "kind", ev_kind_name(ev->kind), &f);
	kstr(b, "mta", ev->mta == MTA_SENDMAIL ? "sendmail" : "postfix", &f);
	kspan(b, "host", ev->host, &f);
	kspan(b, "instance", ev->instance, &f);
	kspan(b, "program", ev->program, &f);
	if (ev->pid >= 0)
		kint(b, "pid", ev->pid, true, &f);
	kspan(b, "queue_id", ev->qid, &f);
	if (ev->dir != DIR_NONE)
		kstr(b, "direction", ev->dir == DIR_IN ? "inbound" : "outbound", &f);
	kspan(b, "peer_host", ev->peer_host, &f);
	kspan(b, "peer_ip", ev->peer_ip, &f);
	if (ev->peer_port >= 0)
		kint(b, "peer_port", ev->peer_port, true, &f);
	if (ev->kind == EV_TLS) {
		struct tls_state t;
		tls_state_init(&t);
		tls_state_from_ev(&t, ev);
		key(b, "tls", &f);
		tls_obj(b, &t);
		tls_state_free(&t);
		if (ev->tls.reused) {
			key(b, "reused", &f);
			buf_adds(b, "true");
		}
	}
	if (ev->kind == EV_DISCONNECT) {
		static const char *const st[] = { "absent", "no-counters", "ok", "failed" };
		kstr(b, "starttls", st[ev->starttls], &f);
	}
	kspan(b, "rcpt", ev->rcpt, &f);
	kspan(b, "from", ev->from, &f);
	kspan(b, "message_id", ev->message_id, &f);
	kspan(b, "status", ev->status, &f);
	kspan(b, "dsn", ev->dsn, &f);
	kspan(b, "next_queue_id", ev->next_qid, &f);
	kspan(b, "proto", ev->proto, &f);
	kspan(b, "tls_feature", ev->tls_feature, &f);
	kspan(b, "mailer", ev->mailer, &f);
	if (ev->conn_use)
		kint(b, "conn_use", ev->conn_use, true, &f);
	if (ev->nrcpt >= 0)
		kint(b, "nrcpt", ev->nrcpt, true, &f);
	kspan(b, "detail", ev->detail, &f);
	buf_adds(b, "}\n");
}

const char *ev_kind_name(enum ev_kind k)
{
	static const char *const names[EV_KIND_MAX] = {
		[EV_CONNECT] = "connect", [EV_DISCONNECT] = "disconnect", [EV_TLS] = "tls",
		[EV_TLS_FAIL] = "tls-failure", [EV_CLIENT] = "client", [EV_PICKUP] = "pickup",
		[EV_MESSAGE_ID] = "message-id", [EV_FROM] = "from", [EV_TO] = "to",
		[EV_REMOVED] = "removed", [EV_DONE] = "done", [EV_BOUNCE] = "notification",
		[EV_REJECT] = "reject", [EV_LOST] = "lost-connection",
		[EV_RESTART] = "restart",
	};
	return (unsigned)k < EV_KIND_MAX ? names[k] : "?";
}

void summary_add(struct summary *s, const struct message *m)
{
	s->messages++;
	int v = verdict_rank(m->verdict), sv = severity_rank(m->severity);
	if (v >= 0)
		s->msg_verdict[v]++;
	if (sv >= 0)
		s->msg_severity[sv]++;
	size_t nh = (m->has_inbound ? 1u : 0u) + m->ndl;
	for (size_t i = 0; i < nh; i++) {
		const struct hop *h = (m->has_inbound && i == 0) ? &m->inbound
								 : &m->dl[i - (m->has_inbound ? 1 : 0)];
		s->hops++;
		v = verdict_rank(h->verdict);
		sv = severity_rank(h->severity);
		if (v >= 0)
			s->hop_verdict[v]++;
		if (sv >= 0)
			s->hop_severity[sv]++;
	}
}
