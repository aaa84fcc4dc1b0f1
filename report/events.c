/* events.c - --format events: every recognised evidence record as read,
 * one JSON object a line (README "Output"), then the manifest: how a user
 * sees what the tool understood.  Log records carry file and line, capture
 * connections file and frames. */
#include "events.h"
#include "jsonw.h"
#include "manifest.h"
#include "pseudo.h"
#include "../ingest/capture.h"
#include "../model/ciphers.h"
#include <stdio.h>
#include <stdlib.h>

static void kspan(struct buf *b, const char *k, struct span s, bool *first)
{
	if (!s.n)
		return;
	jw_key(b, k, first);
	json_strn(b, s.p, s.n);
}

/* An address or a login name (text false), or free text that can quote
 * one (a Message-ID, a reply): pseudonymised under --pseudonymize, as
 * written otherwise; absent when empty. */
static void kpseudo(struct buf *b, const char *k, struct span v, const struct writer_env *env,
		    bool text, bool *f)
{
	if (!v.n)
		return;
	if (!env->pseudo) {
		kspan(b, k, v, f);
		return;
	}
	char *raw = text ? span_dup(v) : NULL;
	char *u = text ? pseudo_text(env->pseudo, raw, NULL, 0) : pseudo_address(env->pseudo, v.p, v.n);
	jw_str(b, k, u, f);
	free(u);
	free(raw);
}

#define kaddr(b, k, v, env, f) kpseudo(b, k, v, env, false, f)
#define ktext(b, k, v, env, f) kpseudo(b, k, v, env, true, f)

void json_event(struct buf *b, const struct evidence *ev, const struct writer_env *env)
{
	bool f = true;
	buf_addc(b, '{');
	jw_kind(b, ev_kind_name(ev->kind), &f);
	jw_str(b, "source", "log", &f);
	jw_str(b, "file", writer_file(env, ev->file_id), &f);
	jw_int(b, "line", (long)ev->line, true, &f);
	jw_time(b, "time", ev->ts, &f);
	jw_str(b, "mta", ev->mta == MTA_SENDMAIL ? "sendmail" : ev->mta == MTA_DOVECOT ? "dovecot"
			 : "postfix", &f);
	kspan(b, "host", ev->host, &f);
	kspan(b, "instance", ev->instance, &f);
	kspan(b, "program", ev->program, &f);
	/* "postfix/submission/smtpd": the service (master.cf's syslog_name
	 * part) says which listener wrote it */
	if (ev->service.n && !span_eq_span(ev->service, ev->program))
		kspan(b, "service", ev->service, &f);
	if (ev->pid >= 0)
		jw_int(b, "pid", ev->pid, true, &f);
	kspan(b, "queue_id", ev->qid, &f);
	if (ev->dir != DIR_NONE)
		jw_str(b, "direction", ev->dir == DIR_IN ? "inbound" : "outbound", &f);
	kspan(b, "peer_host", ev->peer_host, &f);
	kspan(b, "peer_ip", ev->peer_ip, &f);
	if (ev->peer_port >= 0)
		jw_int(b, "peer_port", ev->peer_port, true, &f);
	if (ev->kind == EV_TLS) {
		struct tls_state t;
		tls_state_init(&t);
		tls_state_from_ev(&t, ev);
		jw_key(b, "tls", &f);
		jw_tls(b, &t);
		tls_state_free(&t);
		if (ev->tls.reused) {
			jw_key(b, "reused", &f);
			buf_adds(b, "true");
		}
	}
	if (ev->kind == EV_LOGIN) {	/* README "Retrieval" */
		kspan(b, "local_ip", ev->local_ip, &f);
		if (ev->local_port > 0)
			jw_int(b, "local_port", ev->local_port, true, &f);
		/* Dovecot's %c: "TLS..." is TLS; "secured" (a trusted or local
		 * connection) and nothing are not */
		jw_bool(b, "tls_used", span_starts(ev->security, "TLS") &&
				  !span_starts(ev->security, "TLS handshaking"), &f);
		kspan(b, "security", ev->security, &f);
		if (ev->tls.version.n) {
			kspan(b, "tls_version", ev->tls.version, &f);
			kspan(b, "tls_cipher", ev->tls.cipher, &f);
		}
		kaddr(b, "user", ev->sasl_username, env, &f);	/* a login name, like an address */
	}
	if (ev->kind == EV_MAILBOX) {	/* README "Retrieval": the mailbox leg */
		ktext(b, "session", ev->session, env, &f);
		ktext(b, "mailbox", ev->detail, env, &f);
	}
	if (ev->kind == EV_DISCONNECT) {
		static const char *const st[] = { "absent", "no-counters", "ok", "failed" };
		jw_str(b, "starttls", st[ev->starttls], &f);
	}
	kaddr(b, "rcpt", ev->rcpt, env, &f);	/* evidence records carry addresses too */
	kaddr(b, "orig_to", ev->orig_rcpt, env, &f);
	kaddr(b, "from", ev->from, env, &f);
	ktext(b, "message_id", ev->message_id, env, &f);
	ktext(b, "status", ev->status, env, &f);
	kspan(b, "dsn", ev->dsn, &f);
	kspan(b, "next_queue_id", ev->next_qid, &f);
	kspan(b, "proto", ev->proto, &f);
	kspan(b, "tls_feature", ev->tls_feature, &f);
	kspan(b, "sasl_method", ev->sasl_method, &f);
	if (ev->kind != EV_LOGIN)	/* client=, AUTH=server */
		kaddr(b, "sasl_username", ev->sasl_username, env, &f);
	kspan(b, "socket", ev->socket, &f);
	kspan(b, "mailer", ev->mailer, &f);
	if (ev->conn_use)
		jw_int(b, "conn_use", ev->conn_use, true, &f);
	if (ev->nrcpt >= 0)
		jw_int(b, "nrcpt", ev->nrcpt, true, &f);
	if (ev->kind != EV_MAILBOX)	/* there the folder, "mailbox" above */
		ktext(b, "detail", ev->detail, env, &f);
	buf_adds(b, "}\n");
}

/* What every record of a capture connection opens with. */
static void capture_head(struct buf *b, const char *kind, const struct smtp_connection *c,
			 const struct writer_env *env, bool *f)
{
	buf_addc(b, '{');
	jw_kind(b, kind, f);
	jw_str(b, "source", "pcap", f);
	jw_str(b, "file", writer_file(env, c->file_id), f);
	jw_int(b, "frame", (long)c->first_frame, true, f);
	jw_int(b, "last_frame", (long)c->last_frame, true, f);
	jw_time(b, "time", c->first_ts, f);
	jw_time(b, "end_time", c->last_ts, f);
}

/* An IMAP or POP3 connection in a capture: a login record (README
 * "Retrieval"), the credentials' kind and the login name where they went
 * in clear, never the password. */
static void json_retrieval(struct buf *b, const struct smtp_connection *c,
			   const struct tls_state *t, const char *basis, const struct writer_env *env)
{
	const struct retr_conv *r = c->retr;
	static const char *const status[] = { "none", "sent", "login", "auth-failed" };
	static const char *const stls[] = { "none", "sent", "accepted", "refused" };
	bool f = true, g = true;
	capture_head(b, "login", c, env, &f);
	jw_str(b, "service", retr_proto_name(r->proto), &f);
	jw_str(b, "direction", "inbound", &f);
	jw_str(b, "peer_ip", c->client, &f);
	jw_int(b, "peer_port", c->cport, true, &f);
	jw_str(b, "local_ip", c->server, &f);
	jw_int(b, "local_port", c->sport, true, &f);
	jw_bool(b, "tls_used", t->used == TRI_YES, &f);
	jw_key(b, "starttls", &f);
	buf_addc(b, '{');
	jw_bool(b, "offered", r->starttls_offered, &g);
	jw_bool(b, "attempted", r->starttls != STLS_NONE, &g);
	jw_str(b, "result", stls[r->starttls], &g);
	jw_bool(b, "implicit_tls", r->implicit_tls, &g);
	buf_addc(b, '}');
	jw_key(b, "tls", &f);
	jw_tls(b, t);
	jw_str(b, "tls_basis", basis, &f);
	if (r->user[0] && env->pseudo) {
		char *u = pseudo_address(env->pseudo, r->user, strlen(r->user));
		jw_str(b, "user", u, &f);
		free(u);
	} else {
		jw_str(b, "user", r->user[0] ? r->user : NULL, &f);
	}
	jw_str(b, "status", t->used == TRI_YES && r->auth == RA_NONE ? "unseen" : status[r->auth],
	       &f);
	jw_str(b, "sasl_method", r->auth != RA_NONE ? r->method : NULL, &f);
	jw_int(b, "auth_attempts", (long)r->auth_attempts, true, &f);
	jw_int(b, "gaps", (long)c->gaps, true, &f);
	buf_adds(b, "}\n");
}

void json_connection(struct buf *b, const struct smtp_connection *c, const struct tls_state *t,
		     const char *basis, const struct writer_env *env)
{
	if (c->retr) {
		json_retrieval(b, c, t, basis, env);
		return;
	}
	const struct smtp_conv *s = &c->conv;
	bool f = true, g;
	capture_head(b, "smtp-connection", c, env, &f);
	jw_str(b, "client_ip", c->client, &f);
	jw_int(b, "client_port", c->cport, true, &f);
	jw_str(b, "server_ip", c->server, &f);
	jw_int(b, "server_port", c->sport, true, &f);
	if (c->vlan >= 0)
		jw_int(b, "vlan", c->vlan, true, &f);
	jw_bool(b, "banner", s->banner, &f);
	jw_str(b, "ehlo", s->ehlo_name, &f);
	jw_key(b, "starttls", &f);
	buf_addc(b, '{');
	g = true;
	jw_bool(b, "offered", s->starttls_offered, &g);
	jw_str(b, "capability_rewritten_to", s->cap_rewritten ? s->cap_rewrite : NULL, &g);
	jw_bool(b, "attempted", s->starttls != STLS_NONE, &g);
	jw_int(b, "reply_code", s->starttls_code, s->starttls_code > 0, &g);
	static const char *const res[] = { "none", "no-reply", "accepted", "refused" };
	jw_str(b, "result", res[s->starttls], &g);
	jw_bool(b, "implicit_tls", s->implicit_tls, &g);
	buf_addc(b, '}');
	jw_key(b, "tls", &f);
	jw_tls(b, t);
	jw_str(b, "tls_basis", basis, &f);
	if (s->tls.client_hello) {
		jw_key(b, "client_offered_ciphers", &f);
		buf_addc(b, '[');
		for (size_t i = 0; i < s->tls.noffered; i++) {
			if (i)
				buf_addc(b, ',');
			const struct cipher_name *cn = cipher_lookup(s->tls.offered[i]);
			char hex[8];
			snprintf(hex, sizeof hex, "0x%04X", s->tls.offered[i]);
			json_str(b, cn ? cn->iana : hex);
		}
		buf_addc(b, ']');
	}
	if (s->tls.have_alert) {
		jw_key(b, "tls_alert", &f);
		buf_addc(b, '{');
		g = true;
		jw_str(b, "from", s->tls.alert_from_client ? "client" : "server", &g);
		jw_int(b, "level", s->tls.alert_level, true, &g);
		jw_int(b, "description", s->tls.alert_desc, true, &g);
		jw_int(b, "frame", (long)s->tls.alert_frame, true, &g);
		buf_addc(b, '}');
	}
	jw_key(b, "queue_ids", &f);
	buf_addc(b, '[');
	bool first = true;
	for (size_t i = 0; i < s->nmsgs; i++) {
		if (!s->msgs[i].qid)
			continue;
		if (!first)
			buf_addc(b, ',');
		first = false;
		json_str(b, s->msgs[i].qid);
	}
	buf_addc(b, ']');
	jw_int(b, "messages_seen", (long)(s->nmsgs + s->msgs_dropped), true, &f);
	jw_int(b, "commands", (long)s->commands, true, &f);
	jw_int(b, "replies", (long)s->replies, true, &f);
	jw_int(b, "replies_5xx", (long)s->replies_5xx, true, &f);
	jw_int(b, "bytes_client", (long)s->bytes_c, true, &f);
	jw_int(b, "bytes_server", (long)s->bytes_s, true, &f);
	jw_key(b, "anomalies", &f);
	buf_addc(b, '[');
	first = true;
#define ANOMALY(cond, text) do { if (cond) { if (!first) buf_addc(b, ','); first = false; json_str(b, text); } } while (0)
	ANOMALY(s->cap_rewritten, "starttls-capability-rewritten");
	ANOMALY(s->starttls == STLS_REFUSED, "starttls-refused");
	ANOMALY(s->plaintext_after_220, "plaintext-after-starttls-220");
	ANOMALY(s->binary_junk, "binary-data-in-commands");
	ANOMALY(c->gaps > 0, "stream-gaps");
	ANOMALY(c->mid_stream, "capture-started-mid-connection");
	ANOMALY(s->tls.client_hello && !s->tls.server_hello, "clienthello-without-serverhello");
	ANOMALY(s->tls.hrr, "hello-retry-request");
	ANOMALY(s->lc.cut || s->ls.cut, "over-long-line");
#undef ANOMALY
	buf_addc(b, ']');
	jw_int(b, "gaps", (long)c->gaps, true, &f);
	jw_int(b, "retransmissions", (long)c->retrans, true, &f);
	buf_adds(b, "}\n");
}

static void events_event(void *w, const struct evidence *ev)
{
	struct writer_base *wb = w;
	json_event(wb->out, ev, wb->env);
}

static void events_connection(void *w, const struct smtp_connection *c,
			      const struct tls_state *t, const char *basis)
{
	struct writer_base *wb = w;
	json_connection(wb->out, c, t, basis, wb->env);
}

static void events_finish(void *w, const struct writer_end *end)
{
	manifest_json(((struct writer_base *)w)->out, end->man);
}

const struct writer_class writer_events = {
	.name = "events",
	.input = WRITER_EVIDENCE,
	.begin = writer_base_begin,
	.event = events_event,
	.connection = events_connection,
	.finish = events_finish,
	.free = free,
};
