/* sendmail.c - recognise Sendmail's STARTTLS, from= and to= lines.
 * Formats, from sendmail 8.x sources:
 *   sendmail/tls.c tls_get_info(): "STARTTLS=%s, relay=%.100s, version=%.16s,
 *     verify=%.16s, cipher=%.64s, bits=%.6s/%.6s" (server: relay is
 *     "NAME [ADDR]"; client: the host name only).  An "ID: " prefix when
 *     the envelope is known.
 *   sendmail/srvrsmtp.c: "STARTTLS=server, error: accept failed=%d, ..."
 *   sendmail/savemail.c/logsender(): "from=%s, size=%ld, class=%d,
 *     nrcpts=%d, msgid=%s, proto=%s, daemon=%s, relay=%s"; 8.15+ writes
 *     proto=ESMTPS / ESMTPSA when TLS was in use (RFC 3848).
 *   sendmail/srvrsmtp.c, at LogLevel > 8, without a queue ID: "AUTH=server,
 *     relay=%s, authid=%.128s, mech=%.16s, bits=%d" - the client
 *     authenticated; the from= line's proto= then ends in A (ESMTPA,
 *     ESMTPSA, RFC 3848) and daemon= names the listener (MSA for 587).
 *   sendmail/deliver.c logdelivery(): "to=%s, ..., mailer=%s, pri=%ld,
 *     relay=%s, dsn=%s, stat=%s".
 * No allocation: spans point into the line. */
#include "sendmail.h"
#include "fields.h"
#include <string.h>

bool sm_tag(struct span tag)
{
	return span_eq(tag, "sendmail") || span_starts(tag, "sm-") ||
	       span_eq(tag, "sm_mta");
}

static void relay_into(struct evidence *ev, struct span v)
{
	struct span name, addr;
	sm_relay_parse(v, &name, &addr);
	/* "[127.0.0.2] [127.0.0.2]": the bracketed name is an address literal. */
	ev->peer_host = name;
	ev->peer_ip = addr;
}

static enum parse_result parse_starttls(struct span s, struct evidence *ev)
{
	if (span_eat(&s, "server, "))
		ev->dir = DIR_IN;
	else if (span_eat(&s, "client, "))
		ev->dir = DIR_OUT;
	else
		return PR_IGNORED;
	if (span_eat(&s, "error: ") || span_find(s, "failed") == 0) {
		ev->kind = EV_TLS_FAIL;
		ev->detail = s;
		long r = span_find(s, "relay=");
		if (r >= 0) {
			struct kv_iter it;
			struct span k, v;
			kv_begin(&it, span_sub(s, (size_t)r, s.n), NULL);
			if (kv_next(&it, &k, &v))
				relay_into(ev, v);
		}
		return PR_USED;
	}
	if (!span_starts(s, "relay="))
		return PR_IGNORED;	/* init=, start=ok, cert-subject=, ... */
	struct kv_iter it;
	struct span k, v;
	kv_begin(&it, s, NULL);
	ev->tls.bits = ev->tls.alg_bits = -1;
	while (kv_next(&it, &k, &v)) {
		if (span_eq(k, "relay")) {
			relay_into(ev, v);
		} else if (span_eq(k, "version")) {
			ev->tls.version = v;
		} else if (span_eq(k, "verify")) {
			ev->tls.verify = v;
		} else if (span_eq(k, "cipher")) {
			ev->tls.cipher = v;
		} else if (span_eq(k, "bits")) {
			long slash = span_find(v, "/"), a, b;
			if (slash > 0 && span_to_long(span_sub(v, 0, (size_t)slash), &a) &&
			    span_to_long(span_sub(v, (size_t)slash + 1, v.n), &b)) {
				ev->tls.bits = (int)a;
				ev->tls.alg_bits = (int)b;
			}
		}
	}
	if (!ev->tls.version.n)
		return PR_IGNORED;
	ev->kind = EV_TLS;
	return PR_USED;
}

/* Sendmail's stat= word: Sent, Deferred: ..., queued, or the error. */
static struct span norm_status(struct span stat)
{
	if (span_starts(stat, "Sent"))
		return SPAN_LIT("sent");
	if (span_starts(stat, "Deferred"))
		return SPAN_LIT("deferred");
	if (span_starts(stat, "queued"))
		return SPAN_LIT("queued");
	return SPAN_LIT("bounced");
}

static enum parse_result parse_auth(struct span s, struct evidence *ev)
{
	struct kv_iter it;
	struct span k, v;
	kv_begin(&it, s, NULL);
	while (kv_next(&it, &k, &v)) {
		if (span_eq(k, "relay"))
			relay_into(ev, v);
		else if (span_eq(k, "authid"))
			ev->sasl_username = v;
		else if (span_eq(k, "mech"))
			ev->sasl_method = v;
	}
	if (!ev->sasl_method.n)
		return PR_IGNORED;
	ev->kind = EV_AUTH;
	ev->dir = DIR_IN;
	return PR_USED;
}

static enum parse_result parse_queue_line(struct span s, struct evidence *ev)
{
	struct kv_iter it;
	struct span k, v;
	if (span_starts(s, "from=")) {
		ev->kind = EV_FROM;
		ev->dir = DIR_IN;
		kv_begin(&it, s, NULL);
		while (kv_next(&it, &k, &v)) {
			if (span_eq(k, "from"))
				ev->from = v;
			else if (span_eq(k, "msgid"))
				ev->message_id = v;
			else if (span_eq(k, "proto"))
				ev->proto = v;
			else if (span_eq(k, "daemon"))
				ev->service = v;	/* which listener: MTA, MSA */
			else if (span_eq(k, "relay"))
				relay_into(ev, v);
			else if (span_eq(k, "nrcpts")) {
				long n;
				if (span_to_long(v, &n))
					ev->nrcpt = (int)n;
			}
		}
		return PR_USED;
	}
	if (span_starts(s, "to=")) {
		ev->kind = EV_TO;
		ev->dir = DIR_OUT;
		kv_begin(&it, s, "stat");
		while (kv_next(&it, &k, &v)) {
			if (span_eq(k, "to"))
				ev->rcpt = v;
			else if (span_eq(k, "mailer"))
				ev->mailer = v;
			else if (span_eq(k, "relay"))
				relay_into(ev, v);
			else if (span_eq(k, "dsn"))
				ev->dsn = v;
			else if (span_eq(k, "stat")) {
				ev->status = norm_status(v);
				ev->reply = paren_text(v);
				if (!ev->reply.n)
					ev->reply = v;
				ev->next_qid = reply_next_qid(ev->reply);
			}
		}
		return PR_USED;
	}
	/* savemail.c returntosender(): "QID: NEWQID: DSN: reason" (also
	 * "return to sender", "sender notify", "postmaster notify"): NEWQID
	 * is the notification; a queue timeout's reason is "Cannot send
	 * message for 5 days" (deliver.c, queue.c). */
	struct span nq, nrest;
	if (qid_split(s, &nq, &nrest)) {
		static const char *const kinds[] = { "DSN: ", "return to sender: ",
			"sender notify: ", "postmaster notify: ", NULL };
		for (int i = 0; kinds[i]; i++) {
			struct span r = nrest;
			if (!span_eat(&r, kinds[i]))
				continue;
			ev->kind = EV_BOUNCE;
			ev->next_qid = nq;
			ev->detail = r;
			if (span_starts(r, "Cannot send message for"))
				ev->status = SPAN_LIT("expired");
			return PR_USED;
		}
	}
	if (span_starts(s, "done; ")) {
		ev->kind = EV_DONE;
		return PR_USED;
	}
	if (span_starts(s, "ruleset=")) {
		ev->kind = EV_REJECT;
		ev->detail = s;
		long r = span_find(s, "relay=");
		if (r >= 0) {
			kv_begin(&it, span_sub(s, (size_t)r, s.n), NULL);
			if (kv_next(&it, &k, &v))
				relay_into(ev, v);
		}
		if (span_starts(s, "ruleset=tls_")) {
			/* cf/README "STARTTLS": tls_server checks the server
			 * sendmail connects to as a client (TLS_Srv:), tls_rcpt
			 * a recipient's (TLS_Rcpt:); tls_client checks a client
			 * of this server (TLS_Clt:). */
			ev->kind = EV_TLS_FAIL;
			ev->dir = span_starts(s, "ruleset=tls_client") ? DIR_IN : DIR_OUT;
		}
		return PR_USED;
	}
	if (span_eat(&s, "STARTTLS="))
		return parse_starttls(s, ev);
	if (span_eat(&s, "AUTH=server, "))
		return parse_auth(s, ev);
	if (span_eat(&s, "connect from ")) {
		ev->kind = EV_CONNECT;
		ev->dir = DIR_IN;
		relay_into(ev, s);
		return PR_USED;
	}
	return PR_IGNORED;
}

enum parse_result sm_parse(struct span msg, struct evidence *ev)
{
	struct span s = msg;
	ev->mta = MTA_SENDMAIL;
	if (span_eat(&s, "STARTTLS="))
		return parse_starttls(s, ev);
	if (span_eat(&s, "AUTH=server, "))
		return parse_auth(s, ev);
	if (span_starts(s, "starting daemon (")) {	/* sendmail/daemon.c */
		ev->kind = EV_RESTART;
		ev->detail = s;
		return PR_USED;
	}
	struct span qid, rest;
	if (qid_split(s, &qid, &rest)) {
		ev->qid = qid;
		return parse_queue_line(rest, ev);
	}
	/* tls_client runs at STARTTLS, before a message has an envelope,
	 * like the "STARTTLS=server" line it follows */
	if (span_starts(s, "ruleset=tls_"))
		return parse_queue_line(s, ev);
	return PR_IGNORED;
}
