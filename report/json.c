/* json.c - --format json: JSON Lines, one object per message per MTA host
 * (README "Output", the output contract: fields may gain company, never
 * change names), then the manifest.  Strings pass through json_str, so no
 * byte of the evidence can break a record. */
#include "json.h"
#include "jsonw.h"
#include "manifest.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One attempt of a recipient (README "Fates, attempts and downgrades"). */
/* Where the carrying attempt's "tls" object and evidence list were
 * written: the delivery repeats both byte for byte, so it copies them
 * instead of writing them again (issue 23: the tls object is a tenth of a
 * record's cost). */
struct written {
	size_t tls_at, tls_n, ev_at, ev_n;
	bool set;
};

/* Bytes FROM..FROM+N of b, already written, appended again. */
static void buf_again(struct buf *b, size_t from, size_t n)
{
	buf_reserve(b, n);	/* may move b->p: copy after */
	memcpy(b->p + b->n, b->p + from, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void attempt_obj(struct buf *b, const struct hop *h, const struct writer_env *env,
			struct written *w)
{
	bool f = true;
	buf_addc(b, '{');
	jw_time(b, "time", h->ts, &f);
	jw_int(b, "count", (long)h->attempts, true, &f);
	if (h->attempts > 1)
		jw_time(b, "last_time", h->last_attempt, &f);
	jw_str(b, "peer_host", h->peer_host, &f);
	jw_str(b, "peer_ip", h->peer_ip, &f);
	jw_int(b, "peer_port", h->peer_port, h->peer_port >= 0, &f);
	jw_key(b, "outcome", &f);
	jw_vocab(b, outcome_name(h->outcome));
	jw_str(b, "status", h->status, &f);
	jw_str(b, "dsn", h->dsn, &f);
	jw_str(b, "reason", h->reason, &f);
	jw_key(b, "tls", &f);
	size_t at = b->n;
	jw_tls(b, &h->tls);
	if (w) {
		w->tls_at = at;
		w->tls_n = b->n - at;
	}
	jw_str(b, "tls_basis", h->basis, &f);
	jw_key(b, "evidence", &f);
	at = b->n;
	jw_evidence(b, h, env);
	if (w) {
		w->ev_at = at;
		w->ev_n = b->n - at;
		w->set = true;
	}
	buf_addc(b, '}');
}

/* Every attempt, the carrying one among them, in time order; where the
 * carrying one's tls and evidence went, in *w. */
static void attempt_list(struct buf *b, const struct hop *h, const struct writer_env *env,
			 bool *f, struct written *w)
{
	jw_key(b, "attempts", f);
	buf_addc(b, '[');
	bool self = false, first = true;
	for (size_t i = 0; i <= h->ntries; i++) {
		if (!self && (i == h->ntries || h->tries[i].ts > h->ts)) {
			if (!first)
				buf_addc(b, ',');
			attempt_obj(b, h, env, w);
			self = true;
			first = false;
		}
		if (i == h->ntries)
			break;
		if (!first)
			buf_addc(b, ',');
		attempt_obj(b, &h->tries[i], env, NULL);
		first = false;
	}
	buf_addc(b, ']');
}

static void hop_obj(struct buf *b, const struct hop *h, const struct writer_env *env)
{
	bool f = true;
	struct written w = { 0 };
	buf_addc(b, '{');
	bool out = h->dir == DIR_OUT;
	if (h->source == SRC_HEADER) {	/* a Received header's clauses */
		jw_str(b, "from_helo", h->helo, &f);
		jw_str(b, "by", h->by, &f);
		jw_str(b, "with", h->with, &f);
		jw_str(b, "id", h->rid, &f);
		jw_str(b, "for", h->rcpt, &f);
		jw_str(b, "mta", h->mta_name, &f);
		jw_str(b, "position", h->position, &f);
		jw_bool(b, "claim", h->claim, &f);
	}
	if (out) {
		jw_str(b, "rcpt", h->rcpt, &f);
		if (h->orig_rcpt)	/* only where the log gives it: an addition */
			jw_str(b, "orig_to", h->orig_rcpt, &f);
	}
	/* the same peer fields in every direction and format (README "Output") */
	jw_str(b, "peer_host", h->peer_host, &f);
	jw_str(b, "peer_ip", h->peer_ip, &f);
	jw_int(b, "peer_port", h->peer_port, h->peer_port >= 0, &f);
	if (out) {
		jw_str(b, "status", h->status, &f);
		jw_str(b, "dsn", h->dsn, &f);
		jw_str(b, "next_queue_id", h->next_qid, &f);
	}
	jw_time(b, "time", h->ts, &f);
	if (out && h->source == SRC_LOG) {
		jw_key(b, "outcome", &f);
		jw_vocab(b, outcome_name(h->outcome));
		jw_key(b, "fate", &f);
		jw_vocab(b, fate_name(h->fate));
		jw_str(b, "reason", h->reason, &f);
		if (h->filter)
			jw_bool(b, "filter", true, &f);
		attempt_list(b, h, env, &f, &w);
	}
	if (h->proxied)
		jw_bool(b, "before_queue_filter", true, &f);
	if (h->dir == DIR_IN && h->source != SRC_HEADER) {	/* README "Submission" */
		jw_bool(b, "submission", h->submission, &f);
		jw_bool(b, "authenticated", h->authenticated || h->sasl_method, &f);
		jw_str(b, "sasl_method", h->sasl_method, &f);
		jw_str(b, "sasl_username", h->sasl_username, &f);
	}
	static const char *const src[] = { "log", "pcap", "header" };
	jw_key(b, "source", &f);
	jw_vocab(b, src[h->source]);
	jw_bool(b, "network", h->network, &f);
	jw_bool(b, "local", h->local, &f);
	jw_key(b, "tls", &f);
	if (w.set)
		buf_again(b, w.tls_at, w.tls_n);
	else
		jw_tls(b, &h->tls);
	jw_str(b, "tls_basis", h->basis, &f);
	if (h->joined) {
		jw_key(b, "sources", &f);
		buf_adds(b, h->source == SRC_PCAP ? "[\"pcap\"]" : "[\"log\",\"pcap\"]");
		jw_bool(b, "conflict", h->conflict, &f);
		jw_str(b, "conflict_detail", h->conflict_detail, &f);
	}
	if (h->join_ambiguous)
		jw_int(b, "join_ambiguous", h->join_ambiguous, true, &f);
	if (h->join_unanimous)
		jw_bool(b, "join_unanimous", true, &f);
	jw_key(b, "verdict", &f);
	jw_vocab(b, h->verdict);
	jw_key(b, "severity", &f);
	jw_vocab(b, h->severity);
	jw_str(b, "rule", h->rule, &f);
	jw_str(b, "explain", h->explain, &f);
	jw_key(b, "evidence", &f);
	if (w.set)
		buf_again(b, w.ev_at, w.ev_n);
	else
		jw_evidence(b, h, env);
	buf_addc(b, '}');
}

static void hop_list(struct buf *b, const char *k, const struct message *m,
		     const struct writer_env *env, bool *f)
{
	jw_key(b, k, f);
	buf_addc(b, '[');
	for (size_t i = 0; i < m->ndl; i++) {
		if (i)
			buf_addc(b, ',');
		hop_obj(b, &m->dl[i], env);
	}
	buf_addc(b, ']');
}

void json_message(struct buf *b, const struct message *m, const struct writer_env *env)
{
	bool f = true;
	buf_addc(b, '{');
	jw_kind(b, "message", &f);
	jw_str(b, "host", m->host, &f);
	jw_str(b, "instance", m->instance, &f);
	jw_str(b, "mta", m->mta == MTA_SENDMAIL ? "sendmail" : m->mta == MTA_POSTFIX ? "postfix"
							     : NULL, &f);
	jw_str(b, "source", m->inbound.source == SRC_PCAP ? "pcap"
			  : m->inbound.source == SRC_HEADER ? "header" : "log", &f);
	jw_str(b, "queue_id", m->qid, &f);
	if (m->prior_qid)	/* before an after-queue content filter */
		jw_str(b, "prior_queue_id", m->prior_qid, &f);
	jw_str(b, "message_id", m->message_id, &f);
	jw_str(b, "from", m->from, &f);
	if (m->from_name)
		jw_str(b, "from_name", m->from_name, &f);
	if (m->from_raw)
		jw_str(b, "from_raw", m->from_raw, &f);
	jw_time(b, "first_seen", m->first_seen, &f);
	jw_time(b, "last_seen", m->last_seen, &f);
	jw_key(b, "complete", &f);
	buf_adds(b, message_is_complete(m) ? "true" : "false");
	if (m->per_connection) {
		jw_key(b, "per_connection", &f);
		buf_adds(b, "true");
	}
	if (m->note)
		jw_str(b, "note", m->note, &f);
	if (m->nrcpts) {
		jw_key(b, "rcpts", &f);
		buf_addc(b, '[');
		for (size_t i = 0; i < m->nrcpts; i++) {
			if (i)
				buf_addc(b, ',');
			json_str(b, m->rcpts[i]);
		}
		buf_addc(b, ']');
	}
	if (m->header) {	/* a message's own story: hops, top to bottom */
		hop_list(b, "hops", m, env, &f);
	} else {
		jw_key(b, "inbound", &f);
		if (m->has_inbound)
			hop_obj(b, &m->inbound, env);
		else
			buf_adds(b, "null");
		if (m->filter_hop) {
			jw_key(b, "content_filter", &f);
			hop_obj(b, m->filter_hop, env);
		}
		if (m->filter_return) {
			jw_key(b, "content_filter_return", &f);
			hop_obj(b, m->filter_return, env);
		}
		hop_list(b, "deliveries", m, env, &f);
		if (m->dl_dropped)
			jw_int(b, "deliveries_dropped", (long)m->dl_dropped, true, &f);
	}
	jw_key(b, "requiretls", &f);
	jw_vocab(b, requiretls_name(message_requiretls(m)));
	jw_key(b, "verdict", &f);
	jw_vocab(b, m->verdict);
	jw_key(b, "severity", &f);
	jw_vocab(b, m->severity);
	buf_adds(b, "}\n");
}

/* A login record (README "Retrieval"): the client's connection judged
 * as a hop. */
static void json_login(struct buf *b, const struct message *m, const struct writer_env *env)
{
	const struct login *l = m->login;
	bool f = true;
	buf_addc(b, '{');
	jw_kind(b, "login", &f);
	jw_str(b, "host", m->host, &f);
	jw_str(b, "mta", m->mta == MTA_DOVECOT ? "dovecot" : NULL, &f);
	jw_str(b, "source", m->inbound.source == SRC_PCAP ? "pcap" : "log", &f);
	jw_str(b, "service", l->service, &f);
	jw_str(b, "status", l->status, &f);
	jw_str(b, "user", m->inbound.sasl_username, &f);
	jw_time(b, "time", m->first_seen, &f);
	jw_str(b, "local_ip", l->local_ip, &f);
	jw_int(b, "local_port", l->local_port, l->local_port > 0, &f);
	jw_str(b, "security", l->security, &f);
	jw_key(b, "connection", &f);
	hop_obj(b, &m->inbound, env);
	jw_key(b, "verdict", &f);
	jw_vocab(b, m->verdict);
	jw_key(b, "severity", &f);
	jw_vocab(b, m->severity);
	buf_adds(b, "}\n");
}

static void json_write_message(void *w, const struct message *m)
{
	struct writer_base *wb = w;
	if (m->login)
		json_login(wb->out, m, wb->env);
	else
		json_message(wb->out, m, wb->env);
}

static void json_finish(void *w, const struct writer_end *end)
{
	manifest_json(((struct writer_base *)w)->out, end->man);
}

const struct writer_class writer_json = {
	.name = "json",
	.input = WRITER_MESSAGES,
	.logins = true,
	.begin = writer_base_begin,
	.message = json_write_message,
	.finish = json_finish,
	.free = free,
};
