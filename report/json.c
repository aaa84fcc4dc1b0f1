/* json.c - JSON Lines for messages and evidence events.
 * Field names follow DESIGN.md section 3 (the output contract): they may
 * gain company, never change names.  Strings pass through json_str, so no
 * byte of the evidence can break a record. */
#include "report.h"
#include "escape.h"
#include "../correlate/capconn.h"
#include "../correlate/paths.h"
#include "pseudo.h"
#include "../model/ciphers.h"
#include "../rules/policy.h"
#include "../util/timeconv.h"
#include <stdlib.h>
#include <string.h>

/* Keys are literals: inlined, their lengths fold at compile time. */
static inline void key(struct buf *b, const char *k, bool *first)
{
	size_t n = strlen(k);
	buf_reserve(b, n + 4);
	char *p = b->p + b->n;
	if (!*first)
		*p++ = ',';
	*first = false;
	*p++ = '"';
	memcpy(p, k, n);
	p += n;
	*p++ = '"';
	*p++ = ':';
	*p = '\0';
	b->n = (size_t)(p - b->p);
}

static inline void kstr(struct buf *b, const char *k, const char *v, bool *first)
{
	key(b, k, first);
	json_str(b, v);
}

/* A decimal integer without printf. */
static void add_long(struct buf *b, long v)
{
	char tmp[24], *e = tmp + sizeof tmp, *p = e;
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	buf_add(b, p, (size_t)(e - p));
}

static inline void kint(struct buf *b, const char *k, long v, bool known, bool *first)
{
	key(b, k, first);
	if (known)
		add_long(b, v);
	else
		buf_adds(b, "null");
}

static inline void ktri(struct buf *b, const char *k, enum tri v, bool *first)
{
	key(b, k, first);
	buf_adds(b, v == TRI_YES ? "true" : v == TRI_NO ? "false" : "null");
}

static void ktime(struct buf *b, const char *k, time_t t, bool *first)
{
	char iso[32];
	fmt_iso_utc(t, iso, sizeof iso);
	key(b, k, first);
	buf_addc(b, '"');
	buf_adds(b, iso);	/* digits and punctuation only */
	buf_addc(b, '"');
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
	if (t->cipher_iana)
		kstr(b, "cipher_iana", t->cipher_iana, &f);
	if (t->offered_max)
		kstr(b, "client_max_version", t->offered_max, &f);
	if (t->sni)
		kstr(b, "sni", t->sni, &f);
	if (t->cert_subject) {
		bool g = true;
		key(b, "server_certificate", &f);
		buf_addc(b, '{');
		kstr(b, "subject", t->cert_subject, &g);
		kstr(b, "issuer", t->cert_issuer, &g);
		ktime(b, "not_before", t->cert_not_before, &g);
		ktime(b, "not_after", t->cert_not_after, &g);
		ktri(b, "self_signed", t->cert_self_signed, &g);
		buf_addc(b, '}');
	}
	buf_addc(b, '}');
}

/* "file:line" or "file#frame=N", the file name escaped like any string. */
static void evidence_list(struct buf *b, const struct hop *h, const struct report_ctx *rc)
{
	buf_addc(b, '[');
	for (size_t i = 0; i < h->nev; i++) {
		if (i)
			buf_addc(b, ',');
		int id = h->ev[i].file_id;
		const char *file = id >= 0 && (size_t)id < rc->nfiles ? rc->files[id] : "?";
		json_strn(b, file, strlen(file));
		b->n--;		/* reopen the string after the name */
		buf_adds(b, h->ev[i].frame ? "#frame=" : ":");
		add_long(b, (long)h->ev[i].line);
		buf_addc(b, '"');
	}
	buf_addc(b, ']');
}

static void hop_obj(struct buf *b, const struct hop *h, const struct report_ctx *rc)
{
	bool f = true;
	buf_addc(b, '{');
	bool out = h->dir == DIR_OUT;
	if (h->source == SRC_HEADER) {	/* a Received header's clauses */
		kstr(b, "from_helo", h->helo, &f);
		kstr(b, "by", h->by, &f);
		kstr(b, "with", h->with, &f);
		kstr(b, "id", h->rid, &f);
		kstr(b, "for", h->rcpt, &f);
		kstr(b, "mta", h->mta_name, &f);
		kstr(b, "position", h->position, &f);
		key(b, "claim", &f);
		buf_adds(b, h->claim ? "true" : "false");
	}
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
	static const char *const src[] = { "log", "pcap", "header" };
	kstr(b, "source", src[h->source], &f);
	key(b, "network", &f);
	buf_adds(b, h->network ? "true" : "false");
	key(b, "local", &f);
	buf_adds(b, h->local ? "true" : "false");
	key(b, "tls", &f);
	tls_obj(b, &h->tls);
	kstr(b, "tls_basis", h->basis, &f);
	if (h->joined) {
		key(b, "sources", &f);
		buf_adds(b, h->source == SRC_PCAP ? "[\"pcap\"]" : "[\"log\",\"pcap\"]");
		key(b, "conflict", &f);
		buf_adds(b, h->conflict ? "true" : "false");
		kstr(b, "conflict_detail", h->conflict_detail, &f);
	}
	if (h->join_ambiguous)
		kint(b, "join_ambiguous", h->join_ambiguous, true, &f);
	kstr(b, "verdict", h->verdict, &f);
	kstr(b, "severity", h->severity, &f);
	kstr(b, "rule", h->rule, &f);
	kstr(b, "explain", h->explain, &f);
	key(b, "evidence", &f);
	evidence_list(b, h, rc);
	buf_addc(b, '}');
}

static void hop_list(struct buf *b, const char *k, const struct message *m,
		     const struct report_ctx *rc, bool *f)
{
	key(b, k, f);
	buf_addc(b, '[');
	for (size_t i = 0; i < m->ndl; i++) {
		if (i)
			buf_addc(b, ',');
		hop_obj(b, &m->dl[i], rc);
	}
	buf_addc(b, ']');
}

void json_message(struct buf *b, const struct message *m, const struct report_ctx *rc)
{
	bool f = true;
	buf_addc(b, '{');
	kstr(b, "host", m->host, &f);
	kstr(b, "instance", m->instance, &f);
	kstr(b, "mta", m->mta == MTA_SENDMAIL ? "sendmail" : m->mta == MTA_POSTFIX ? "postfix"
							     : NULL, &f);
	kstr(b, "source", m->inbound.source == SRC_PCAP ? "pcap"
			  : m->inbound.source == SRC_HEADER ? "header" : "log", &f);
	kstr(b, "queue_id", m->qid, &f);
	kstr(b, "message_id", m->message_id, &f);
	kstr(b, "from", m->from, &f);
	ktime(b, "first_seen", m->first_seen, &f);
	ktime(b, "last_seen", m->last_seen, &f);
	key(b, "complete", &f);
	buf_adds(b, (m->removed || m->done || m->inbound.source == SRC_PCAP ||
		     (m->nrcpt > 0 && m->finals >= m->nrcpt)) ? "true" : "false");
	if (m->per_connection) {
		key(b, "per_connection", &f);
		buf_adds(b, "true");
	}
	if (m->note)
		kstr(b, "note", m->note, &f);
	if (m->nrcpts) {
		key(b, "rcpts", &f);
		buf_addc(b, '[');
		for (size_t i = 0; i < m->nrcpts; i++) {
			if (i)
				buf_addc(b, ',');
			json_str(b, m->rcpts[i]);
		}
		buf_addc(b, ']');
	}
	if (m->header) {	/* a message's own story: hops, top to bottom */
		hop_list(b, "hops", m, rc, &f);
	} else {
		key(b, "inbound", &f);
		if (m->has_inbound)
			hop_obj(b, &m->inbound, rc);
		else
			buf_adds(b, "null");
		hop_list(b, "deliveries", m, rc, &f);
	}
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
	if (rc->pseudo) {	/* evidence records carry addresses too */
		if (ev->rcpt.n) {
			char *r = pseudo_address(rc->pseudo, ev->rcpt.p, ev->rcpt.n);
			kstr(b, "rcpt", r, &f);
			free(r);
		}
		if (ev->from.n) {
			char *r = pseudo_address(rc->pseudo, ev->from.p, ev->from.n);
			kstr(b, "from", r, &f);
			free(r);
		}
	} else {
		kspan(b, "rcpt", ev->rcpt, &f);
		kspan(b, "from", ev->from, &f);
	}
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

void json_connection(struct buf *b, const struct smtp_connection *c, const struct report_ctx *rc)
{
	const struct smtp_conv *s = &c->conv;
	bool f = true, g;
	buf_addc(b, '{');
	kstr(b, "source", "pcap", &f);
	kstr(b, "file", (size_t)c->file_id < rc->nfiles ? rc->files[c->file_id] : "?", &f);
	kint(b, "frame", (long)c->first_frame, true, &f);
	kint(b, "last_frame", (long)c->last_frame, true, &f);
	ktime(b, "time", c->first_ts, &f);
	ktime(b, "end_time", c->last_ts, &f);
	kstr(b, "kind", "smtp-connection", &f);
	kstr(b, "client_ip", c->client, &f);
	kint(b, "client_port", c->cport, true, &f);
	kstr(b, "server_ip", c->server, &f);
	kint(b, "server_port", c->sport, true, &f);
	if (c->vlan >= 0)
		kint(b, "vlan", c->vlan, true, &f);
	key(b, "banner", &f);
	buf_adds(b, s->banner ? "true" : "false");
	kstr(b, "ehlo", s->ehlo_name, &f);
	key(b, "starttls", &f);
	buf_addc(b, '{');
	g = true;
	key(b, "offered", &g);
	buf_adds(b, s->starttls_offered ? "true" : "false");
	kstr(b, "capability_rewritten_to", s->cap_rewritten ? s->cap_rewrite : NULL, &g);
	key(b, "attempted", &g);
	buf_adds(b, s->starttls != STLS_NONE ? "true" : "false");
	kint(b, "reply_code", s->starttls_code, s->starttls_code > 0, &g);
	static const char *const res[] = { "none", "no-reply", "accepted", "refused" };
	kstr(b, "result", res[s->starttls], &g);
	key(b, "implicit_tls", &g);
	buf_adds(b, s->implicit_tls ? "true" : "false");
	buf_addc(b, '}');
	struct tls_state t;
	char basis[300];
	tls_state_init(&t);
	capconn_tls(c, &t, basis, sizeof basis);
	key(b, "tls", &f);
	tls_obj(b, &t);
	kstr(b, "tls_basis", basis, &f);
	tls_state_free(&t);
	if (s->tls.client_hello) {
		key(b, "client_offered_ciphers", &f);
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
		key(b, "tls_alert", &f);
		buf_addc(b, '{');
		g = true;
		kstr(b, "from", s->tls.alert_from_client ? "client" : "server", &g);
		kint(b, "level", s->tls.alert_level, true, &g);
		kint(b, "description", s->tls.alert_desc, true, &g);
		kint(b, "frame", (long)s->tls.alert_frame, true, &g);
		buf_addc(b, '}');
	}
	key(b, "queue_ids", &f);
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
	kint(b, "messages_seen", (long)(s->nmsgs + s->msgs_dropped), true, &f);
	kint(b, "commands", (long)s->commands, true, &f);
	kint(b, "replies", (long)s->replies, true, &f);
	kint(b, "replies_5xx", (long)s->replies_5xx, true, &f);
	kint(b, "bytes_client", (long)s->bytes_c, true, &f);
	kint(b, "bytes_server", (long)s->bytes_s, true, &f);
	key(b, "anomalies", &f);
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
	kint(b, "gaps", (long)c->gaps, true, &f);
	kint(b, "retransmissions", (long)c->retrans, true, &f);
	buf_adds(b, "}\n");
}

struct path_walk {
	struct buf *b;
	bool first;
	int v[3], s[3];		/* worst verdict / severity per tier */
	size_t servers;
};

static void path_hop(struct path_walk *w, const struct path_node *n, const struct path_hop *h)
{
	struct buf *b = w->b;
	bool f = true;
	if (!w->first)
		buf_addc(b, ',');
	w->first = false;
	buf_addc(b, '{');
	char server[300];
	paths_server_name(n, server, sizeof server);
	kstr(b, "server", server, &f);
	kstr(b, "queue_id", n->qid, &f);
	kstr(b, "direction", h->dir == DIR_OUT ? "outbound" : "inbound", &f);
	kstr(b, "peer_host", h->peer_host, &f);
	kstr(b, "peer_ip", h->peer_ip, &f);
	if (h->dir == DIR_OUT) {
		kstr(b, "rcpt", h->rcpt, &f);
		kstr(b, "status", h->status, &f);
		kstr(b, "next_queue_id", h->next_qid, &f);
		kstr(b, "linked_by", h->link, &f);
	}
	ktime(b, "time", h->ts, &f);
	key(b, "network", &f);
	buf_adds(b, h->network ? "true" : "false");
	key(b, "local", &f);
	buf_adds(b, h->local ? "true" : "false");
	key(b, "tls", &f);
	tls_obj(b, &h->tls);
	kstr(b, "tls_from", h->tls_from, &f);
	kstr(b, "conflict", h->conflict, &f);
	kstr(b, "verdict", h->verdict, &f);
	kstr(b, "severity", h->severity, &f);
	kstr(b, "rule", h->rule, &f);
	buf_addc(b, '}');
	int t = h->network ? 2 : h->local ? 0 : 1;
	int hv = verdict_rank(h->verdict), hs = severity_rank(h->severity);
	if (hv > w->v[t]) w->v[t] = hv;
	if (hs > w->s[t]) w->s[t] = hs;
}

static void path_walk(struct path_walk *w, struct paths *p, struct path_node *n,
		      bool with_inbound)
{
	if (!n || n->visited)
		return;	/* a loop of links: each server once */
	n->visited = true;
	w->servers++;
	if (with_inbound && n->has_inbound)
		path_hop(w, n, &n->in);
	for (size_t k = 0; k < n->nout; k++) {
		path_hop(w, n, &n->out[k]);
		struct path_node *next = n->out[k].next >= 0 ? paths_node(p, n->out[k].next) : NULL;
		if (next) {
			if (next->has_inbound && !next->visited)
				path_hop(w, next, &next->in);
			path_walk(w, p, next, false);
		}
	}
	struct path_node *next = n->next_node >= 0 ? paths_node(p, n->next_node) : NULL;
	if (next && !next->visited) {
		if (next->has_inbound)
			path_hop(w, next, &next->in);
		path_walk(w, p, next, false);
	}
}

void json_path(struct buf *b, struct paths *p, struct path_node *root)
{
	struct path_walk w = { .b = b, .first = true, .v = { -1, -1, -1 }, .s = { -1, -1, -1 } };
	bool f = true;
	buf_addc(b, '{');
	kstr(b, "kind", "path", &f);
	kstr(b, "message_id", root->message_id, &f);
	kstr(b, "from", root->from, &f);
	ktime(b, "first_seen", root->first_seen, &f);
	key(b, "hops", &f);
	buf_addc(b, '[');
	path_walk(&w, p, root, true);
	buf_addc(b, ']');
	kint(b, "messages", (long)w.servers, true, &f);
	int t = w.v[2] >= 0 ? 2 : w.v[1] >= 0 ? 1 : 0;
	kstr(b, "verdict", w.v[t] >= 0 ? verdict_names[w.v[t]] : "unknown", &f);
	kstr(b, "severity", w.s[t] >= 0 ? severity_names[w.s[t]] : "info", &f);
	buf_adds(b, "}\n");
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
