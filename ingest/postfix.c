/* postfix.c - recognise the Postfix log lines that carry TLS evidence and
 * the message flow around them.  Formats, from the Postfix 3.x sources:
 *   TLS summary     src/tls/tls_misc.c tls_log_summary():
 *     "%s TLS connection %s %s %s%s%s: %s with cipher %s (%d/%d bits)"
 *     then optional " key-exchange %s", " server-signature %s (%d bits)",
 *     " server-digest %s", " client-signature ...", " client-digest ...".
 *     2.2-2.4 wrote "TLS connection established from NAME[ADDR]: ..." with
 *     no trust word; the 2.x client wrote "to NAME:" with no address.
 *   disconnect      src/smtpd/smtpd.c: "disconnect from %s ehlo=1 starttls=1
 *     ... commands=N" (3.0+); "starttls=0/1" counts a failed command.
 *   deliveries      src/global/log_adhoc.c: "to=<%s>, [orig_to=<%s>, ]
 *     relay=%s, [conn_use=%d, ]delay=%s, delays=%s, dsn=%s, status=%s (%s)".
 * No allocation: spans point into the line. */
#include "postfix.h"
#include "fields.h"
#include "../util/addr.h"
#include <ctype.h>
#include <string.h>

/* Lengths fixed at compile time: compared by length first, per line. */
static const struct span daemons[] = {
	SPAN_LIT("smtpd"), SPAN_LIT("smtp"), SPAN_LIT("lmtp"), SPAN_LIT("qmgr"),
	SPAN_LIT("cleanup"), SPAN_LIT("pickup"), SPAN_LIT("local"),
	SPAN_LIT("virtual"), SPAN_LIT("pipe"), SPAN_LIT("bounce"),
	SPAN_LIT("error"), SPAN_LIT("discard"), SPAN_LIT("retry"),
	SPAN_LIT("postscreen"), SPAN_LIT("tlsproxy"), SPAN_LIT("anvil"),
	SPAN_LIT("scache"), SPAN_LIT("master"), SPAN_LIT("postfix-script"),
	SPAN_LIT("postsuper"), SPAN_LIT("postqueue"), SPAN_LIT("sendmail"),
	SPAN_LIT("postdrop"), SPAN_LIT("trivial-rewrite"), SPAN_LIT("verify"),
	SPAN_LIT("proxymap"), SPAN_LIT("dnsblog"), SPAN_LIT("tlsmgr"),
	SPAN_LIT("oqmgr"), SPAN_LIT("postlog"), SPAN_LIT("postmulti"),
	SPAN_LIT("flush"), SPAN_LIT("showq"), SPAN_LIT("spawn"), SPAN_LIT("qmqpd"),
	SPAN_LIT("postmap"), SPAN_LIT("postalias"), SPAN_LIT("smtp-sink"),
	SPAN_LIT("lmtp-sink"), SPAN_LIT("postlogd"), SPAN_LIT("nqmgr"),
};

bool pf_tag(struct span tag, struct span *instance, struct span *service,
	    struct span *program)
{
	const char *first = memchr(tag.p, '/', tag.n);
	if (!first)
		return false;
	const char *last = first;
	for (const char *p = tag.p + tag.n; p > first; p--)
		if (p[-1] == '/') {
			last = p - 1;
			break;
		}
	*instance = (struct span){ tag.p, (size_t)(first - tag.p) };
	*program = (struct span){ last + 1, (size_t)(tag.p + tag.n - last - 1) };
	*service = last > first ? (struct span){ first + 1, (size_t)(last - first - 1) }
				: *program;
	if (!instance->n || !program->n)
		return false;
	for (size_t i = 0; i < sizeof daemons / sizeof daemons[0]; i++)
		if (program->p[0] == daemons[i].p[0] && span_eq_span(*program, daemons[i]))
			return true;
	/* Unknown daemon names under an instance called postfix* still are. */
	return span_starts(*instance, "postfix");
}

static bool is_client_program(struct span prog)
{
	return span_eq(prog, "smtp") || span_eq(prog, "lmtp");
}

/* Split the peer before ": " in "NAME[ADDR]:PORT: rest" or "NAME: rest". */
static bool split_peer(struct span s, struct span *peer, struct span *rest)
{
	size_t i = 0;
	const char *rb = NULL;
	/* Skip past the bracketed address first: IPv6 holds ':'. */
	const char *lb = memchr(s.p, '[', s.n);
	if (lb) {
		rb = memchr(lb, ']', s.n - (size_t)(lb - s.p));
		if (rb)
			i = (size_t)(rb - s.p);
	}
	for (; i + 1 < s.n; i++)
		if (s.p[i] == ':' && s.p[i + 1] == ' ') {
			*peer = span_sub(s, 0, i);
			*rest = span_sub(s, i + 2, s.n);
			return true;
		}
	return false;
}

static void set_peer(struct evidence *ev, struct span peer)
{
	struct span name, addr;
	int port;
	if (peer_parse(peer, &name, &addr, &port)) {
		ev->peer_host = name;
		ev->peer_ip = addr;
		ev->peer_port = port;
	} else {
		ev->peer_host = peer;	/* 2.x client: "to NAME" */
	}
}

bool pf_parse_tls(struct span msg, struct evidence *ev)
{
	struct span s = msg, trust = SPAN_NULL;
	/* Only the first words can hold it: no scan of every line's end. */
	long at = span_find(span_sub(s, 0, 16 + 15), "TLS connection ");
	if (at < 0 || at > 16)
		return false;
	if (at > 0) {
		trust = span_trim(span_sub(s, 0, (size_t)at));
		if (memchr(trust.p, ' ', trust.n))
			return false;
	}
	s = span_sub(s, (size_t)at + 15, s.n);
	bool reused;
	if (span_eat(&s, "established "))
		reused = false;
	else if (span_eat(&s, "reused "))
		reused = true;
	else
		return false;
	if (span_eat(&s, "from "))
		ev->dir = DIR_IN;
	else if (span_eat(&s, "to "))
		ev->dir = DIR_OUT;
	else
		return false;
	struct span peer, rest;
	if (!split_peer(s, &peer, &rest))
		return false;
	set_peer(ev, peer);
	struct span c;
	if (!tls_with_cipher(rest, &ev->tls.version, &ev->tls.cipher, &c))
		return false;
	ev->tls.trust = trust;
	ev->tls.reused = reused;
	ev->tls.bits = ev->tls.alg_bits = -1;
	struct span bits = paren_text(c);
	long slash = span_find(bits, "/");
	long b1, b2;
	if (slash > 0 && span_find(bits, " bits") > slash &&
	    span_to_long(span_sub(bits, 0, (size_t)slash), &b1) &&
	    span_to_long(span_sub(bits, (size_t)slash + 1,
				  (size_t)(span_find(bits, " bits") - slash - 1)), &b2)) {
		ev->tls.bits = (int)b1;
		ev->tls.alg_bits = (int)b2;
	}
	long kx = span_find(c, " key-exchange ");
	if (kx >= 0) {
		struct span k = span_sub(c, (size_t)kx + 14, c.n);
		size_t kn = 0;
		while (kn < k.n && k.p[kn] != ' ' && k.p[kn] != ',')
			kn++;
		ev->tls.kex = span_sub(k, 0, kn);
	}
	ev->kind = EV_TLS;
	return true;
}

/* "disconnect from NAME[ADDR] ehlo=1 starttls=1 ... commands=7" */
static void parse_disconnect(struct span s, struct evidence *ev)
{
	size_t sp = 0;
	while (sp < s.n && s.p[sp] != ' ')
		sp++;
	set_peer(ev, span_sub(s, 0, sp));
	struct span counters = span_sub(s, sp, s.n);
	if (span_find(counters, "commands=") < 0) {
		ev->starttls = ST_NO_COUNTERS;
		return;
	}
	long st = span_find(counters, " starttls=");
	if (st < 0) {
		ev->starttls = ST_ABSENT;
		return;
	}
	struct span v = span_sub(counters, (size_t)st + 10, counters.n);
	size_t n = 0;
	while (n < v.n && v.p[n] != ' ')
		n++;
	v = span_sub(v, 0, n);
	/* "starttls=1" ok; "starttls=0/1" attempted and failed (0 of 1 ok);
	 * "starttls=1/2" one of two succeeded: TLS was in use. */
	const char *slash = memchr(v.p, '/', v.n);
	if (!slash)
		ev->starttls = span_eq(v, "0") ? ST_FAILED : ST_OK;
	else
		ev->starttls = v.p[0] == '0' ? ST_FAILED : ST_OK;
}

static void parse_delivery(struct span s, struct evidence *ev)
{
	struct kv_iter it;
	struct span k, v;
	kv_begin(&it, s, "status");
	ev->kind = EV_TO;
	ev->dir = DIR_OUT;
	while (kv_next(&it, &k, &v)) {
		if (span_eq(k, "to")) {
			ev->rcpt = v;
		} else if (span_eq(k, "orig_to")) {	/* log_adhoc.c: after to= */
			ev->orig_rcpt = v;
		} else if (span_eq(k, "relay")) {
			struct span name, addr;
			int port;
			if (peer_parse(v, &name, &addr, &port) && !addr_is_ip(addr.p, addr.n) &&
			    port < 0) {
				/* a unix-domain destination: smtp(8)/lmtp(8) log
				 * "myhostname[path]" with no port (smtp_session.c,
				 * namaddr; smtp_connect.c, smtp_connect_local):
				 * relay=mail.example.org[private/dovecot-lmtp] */
				ev->peer_host = name;
				ev->socket = addr;
			} else if (peer_parse(v, &name, &addr, &port)) {
				ev->peer_host = name;
				ev->peer_ip = addr;
				ev->peer_port = port;
			} else {
				ev->peer_host = v;	/* none, local, private/... */
			}
		} else if (span_eq(k, "conn_use")) {
			long n;
			if (span_to_long(v, &n))
				ev->conn_use = (int)n;
		} else if (span_eq(k, "dsn")) {
			ev->dsn = v;
		} else if (span_eq(k, "tls")) {
			ev->tls_feature = v;	/* 3.11 smtp_log_tls_feature_status */
		} else if (span_eq(k, "status")) {
			size_t n = 0;
			while (n < v.n && v.p[n] != ' ' && v.p[n] != ',')
				n++;
			ev->status = span_sub(v, 0, n);
			ev->reply = paren_text(span_sub(v, n, v.n));
			ev->next_qid = reply_next_qid(ev->reply);
		}
	}
}

static void parse_from(struct span s, struct evidence *ev)
{
	struct kv_iter it;
	struct span k, v;
	kv_begin(&it, s, NULL);
	ev->kind = EV_FROM;
	while (kv_next(&it, &k, &v)) {
		if (span_eq(k, "from")) {
			ev->from = v;
		} else if (span_eq(k, "status")) {
			/* qmgr_active.c: "from=<%s>, status=%s, returned to
			 * sender" with expired or force-expired. */
			ev->status = v;
		} else if (span_eq(k, "nrcpt")) {
			size_t n = 0;
			while (n < v.n && isdigit((unsigned char)v.p[n]))
				n++;
			long x;
			if (span_to_long(span_sub(v, 0, n), &x))
				ev->nrcpt = (int)x;
		}
	}
}

static enum parse_result parse_queue_line(struct span qid, struct span s,
					  struct evidence *ev)
{
	ev->qid = qid;
	struct span prog = ev->program;
	if (span_eat(&s, "client=")) {
		struct span v = s;
		long c = span_find(v, ", ");
		if (c >= 0) {
			v.n = (size_t)c;
			/* smtpd.c: ", sasl_method=%s, sasl_username=%s[,
			 * sasl_sender=%s]" when the client authenticated; also
			 * orig_client=, orig_queue_id= after a proxy */
			struct kv_iter it;
			struct span k, val;
			kv_begin(&it, span_sub(s, (size_t)c + 2, s.n), NULL);
			while (kv_next(&it, &k, &val)) {
				if (span_eq(k, "sasl_method"))
					ev->sasl_method = val;
				else if (span_eq(k, "sasl_username"))
					ev->sasl_username = val;
				else if (span_eq(k, "orig_client") || span_eq(k, "orig_queue_id"))
					ev->xforward = true;
			}
		}
		set_peer(ev, v);
		ev->kind = EV_CLIENT;
		ev->dir = DIR_IN;
		return qid.n ? PR_USED : PR_IGNORED;
	}
	if (!qid.n) {
		if (span_eat(&s, "reject: ") || span_eat(&s, "milter-reject: ")) {
			ev->kind = EV_REJECT;
			ev->detail = s;
			return PR_USED;
		}
		return PR_IGNORED;
	}
	if (span_eat(&s, "message-id=")) {
		ev->kind = EV_MESSAGE_ID;
		ev->message_id = span_trim(s);
		return PR_USED;
	}
	if (span_eq(s, "removed")) {
		ev->kind = EV_REMOVED;
		return PR_USED;
	}
	if (span_starts(s, "to=")) {
		parse_delivery(s, ev);
		return PR_USED;
	}
	if (span_starts(s, "from=")) {
		parse_from(s, ev);
		return PR_USED;
	}
	if (span_eq(prog, "pickup") && (span_starts(s, "uid=") || span_starts(s, "sender="))) {
		ev->kind = EV_PICKUP;
		long f = span_find(s, "from=");
		if (f >= 0)
			ev->from = span_sub(s, (size_t)f + 5, s.n);
		return PR_USED;
	}
	long nn = span_find(s, " notification: ");
	if (nn >= 0) {
		ev->kind = EV_BOUNCE;
		ev->next_qid = span_trim(span_sub(s, (size_t)nn + 15, s.n));
		return PR_USED;
	}
	if (span_eat(&s, "reject: ") || span_eat(&s, "milter-reject: ")) {
		ev->kind = EV_REJECT;
		ev->detail = s;
		return PR_USED;
	}
	if (is_client_program(prog)) {
		/* RFC 3207 failures the client reports per message. */
		if (span_starts(s, "TLS is required, but") ||
		    span_starts(s, "Cannot start TLS") ||
		    span_starts(s, "Server certificate not")) {
			ev->kind = EV_TLS_FAIL;
			ev->dir = DIR_OUT;
			ev->detail = s;
			long h = span_find(s, "host ");
			if (h >= 0) {
				struct span p = span_sub(s, (size_t)h + 5, s.n);
				size_t n = 0;
				while (n < p.n && p.p[n] != ' ')
					n++;
				set_peer(ev, span_sub(p, 0, n));
			}
			return PR_USED;
		}
	}
	return PR_IGNORED;
}

/* What a TLS policy concluded about a connection, before its delivery
 * line: src/tls/tls_dane.c "NAME[ADDR]:PORT: Matched DANE EE certificate
 * at depth 0: 3 1 1 HEX" (and "Matched DANE raw public key"), tls_verify.c
 * "NAME[ADDR]:PORT: Matched fingerprint: HEX" (smtp_tls_loglevel 2), and
 * Postfix 3.10+ src/tls/tlsrpt_wrapper.c "TLSRPT: status=success,
 * domain=D, receiving_mx=NAME[ADDR]" or "status=failure, ...,
 * failure_type=T[, failure_reason=R]". */
static bool parse_policy_line(struct span s, struct evidence *ev)
{
	if (span_eat(&s, "TLSRPT: ")) {
		struct kv_iter it;
		struct span k, v;
		kv_begin(&it, s, "failure_reason");
		while (kv_next(&it, &k, &v)) {
			if (span_eq(k, "status"))
				ev->status = v;
			else if (span_eq(k, "receiving_mx"))
				set_peer(ev, v);
			else if (span_eq(k, "failure_type"))
				ev->detail = v;
		}
		if (!span_eq(ev->status, "success") && !span_eq(ev->status, "failure"))
			return false;
		ev->kind = EV_TLS_POLICY;
		ev->dir = DIR_OUT;
		return true;
	}
	struct span peer, rest;
	if (!memchr(s.p, '[', s.n) || !split_peer(s, &peer, &rest))
		return false;
	if (span_starts(rest, "Matched DANE "))
		ev->status = SPAN_LIT("dane-match");
	else if (span_starts(rest, "Matched fingerprint: "))
		ev->status = SPAN_LIT("fingerprint-match");
	else
		return false;
	set_peer(ev, peer);
	ev->kind = EV_TLS_POLICY;
	ev->dir = DIR_OUT;
	return true;
}

enum parse_result pf_parse(struct span msg, struct evidence *ev)
{
	struct span s = msg, prog = ev->program;
	ev->mta = MTA_POSTFIX;
	if (span_starts(s, "warning: ") || span_starts(s, "statistics: ") ||
	    span_starts(s, "fatal: ") || span_starts(s, "panic: "))
		return PR_IGNORED;
	if (pf_parse_tls(s, ev))
		return PR_USED;
	/* src/master/master.c: "daemon started -- version %s, configuration %s"
	 * and "reload -- version %s, configuration %s".  A new configuration may
	 * log TLS differently (smtp_tls_loglevel), so inferences start afresh. */
	if (span_eq(prog, "master") &&
	    (span_starts(s, "daemon started -- ") || span_starts(s, "reload -- "))) {
		ev->kind = EV_RESTART;
		ev->detail = s;
		return PR_USED;
	}
	if (span_eq(prog, "smtpd") || span_eq(prog, "postscreen")) {
		if (span_eat(&s, "connect from ")) {
			ev->kind = EV_CONNECT;
			ev->dir = DIR_IN;
			set_peer(ev, s);
			return span_eq(prog, "smtpd") ? PR_USED : PR_IGNORED;
		}
		if (span_eat(&s, "disconnect from ")) {
			ev->kind = EV_DISCONNECT;
			ev->dir = DIR_IN;
			parse_disconnect(s, ev);
			return span_eq(prog, "smtpd") ? PR_USED : PR_IGNORED;
		}
		if (span_eat(&s, "lost connection after ")) {
			ev->dir = DIR_IN;
			ev->detail = s;
			ev->kind = span_starts(s, "STARTTLS") ? EV_TLS_FAIL : EV_LOST;
			long f = span_find(s, " from ");
			if (f >= 0)
				set_peer(ev, span_sub(s, (size_t)f + 6, s.n));
			return PR_USED;
		}
		/* smtpd_proxy.c, before-queue content filter: the filter's
		 * reply "... queued as QID" ties this session to the queue
		 * file the filter's own smtpd wrote. */
		if (span_eat(&s, "proxy-accept: ")) {
			long q = span_find(s, "queued as ");
			if (q < 0)
				return PR_IGNORED;
			struct span id = span_sub(s, (size_t)q + 10, s.n);
			size_t n = 0;
			while (n < id.n && id.p[n] != ';' && id.p[n] != ' ' && id.p[n] != ',')
				n++;
			ev->kind = EV_PROXY_ACCEPT;
			ev->dir = DIR_IN;
			ev->next_qid = span_sub(id, 0, n);
			return n ? PR_USED : PR_IGNORED;
		}
		if (span_eat(&s, "SSL_accept error from ")) {
			ev->kind = EV_TLS_FAIL;
			ev->dir = DIR_IN;
			struct span peer, rest;
			if (split_peer(s, &peer, &rest)) {
				set_peer(ev, peer);
				ev->detail = rest;
			} else {
				set_peer(ev, s);
			}
			return PR_USED;
		}
	}
	if (is_client_program(prog) && parse_policy_line(s, ev))
		return PR_USED;
	if (is_client_program(prog) && span_eat(&s, "SSL_connect error to ")) {
		ev->kind = EV_TLS_FAIL;
		ev->dir = DIR_OUT;
		struct span peer, rest;
		if (split_peer(s, &peer, &rest)) {
			set_peer(ev, peer);
			ev->detail = rest;
		}
		return PR_USED;
	}
	struct span qid, rest;
	if (qid_split(s, &qid, &rest))
		return parse_queue_line(qid, rest, ev);
	return PR_IGNORED;
}
