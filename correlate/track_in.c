/* track_in.c - inbound hops: Postfix smtpd sessions (connect, TLS,
 * QID: client=, disconnect counters), local submissions, and Sendmail's
 * receiving child (STARTTLS=server, from= with proto=). */
#include "track_state.h"
#include "../util/addr.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- inbound ------------------------------------------------------------ */

void trk_session_free(void *p)
{
	struct session *s = p;
	free(s->peer_host);
	free(s->peer_ip);
	free(s->sasl_method);
	free(s->sasl_username);
	tls_state_free(&s->tls);
	free(s->waiting);
	free(s);
}

struct session *trk_session_get(struct tracker *t, const struct evidence *ev,
				   bool create)
{
	size_t n;
	const char *k = trk_pid_key(t, ev, &n);
	struct session *s = ht_get(t->sessions, k, n);
	if (!s && create) {
		s = xcalloc(1, sizeof *s);
		tls_state_init(&s->tls);
		ht_put(t->sessions, k, n, s);
	}
	if (s) {
		s->last = ev->ts;
		s->touch = t->fed;
	}
	return s;
}

/* A message completed before its session ended (its queue ID was reused,
 * or it went idle) leaves the session's waiting list: the session must
 * not touch it after it is written and freed. */
void trk_detach(struct message *m)
{
	struct session *s = m->session;
	if (s) {
		for (size_t i = 0; i < s->nw; i++)
			if (s->waiting[i] == m) {
				memmove(&s->waiting[i], &s->waiting[i + 1],
					(s->nw - i - 1) * sizeof *s->waiting);
				s->nw--;
				break;
			}
	}
	m->session = NULL;
	m->waiting = 0;
}

/* Apply what the session's end tells; ev is the disconnect or NULL. */
void trk_session_close(struct tracker *t, struct session *s,
			  const struct evidence *ev)
{
	for (size_t i = 0; i < s->nw; i++) {
		struct message *m = s->waiting[i];
		struct hop *h = &m->inbound;
		if (ev) {
			hop_add_ev(h, trk_ref_of(ev));
			h->sess_end = ev->ts;
			h->sess_end_usec = ev->usec;
			if (!s->has_tls) {
				switch (ev->starttls) {
				case ST_OK:
					h->tls.used = TRI_YES;
					hop_set_basis(h, "disconnect counters say starttls=1; "
						      "TLS details were not logged (smtpd_tls_loglevel=0)");
					break;
				case ST_FAILED:
					h->tls.used = TRI_NO;
					hop_set_basis(h, "disconnect counters say STARTTLS was tried and failed");
					break;
				case ST_ABSENT:
					h->tls.used = TRI_NO;
					hop_set_basis(h, "disconnect counters list no STARTTLS command");
					break;
				case ST_NO_COUNTERS:
					trk_set_pending(trk_host_flags(t, m->host, m->instance), h,
						    INF_NO_LINE_IN);
					break;
				}
			}
		} else if (!s->has_tls) {
			trk_set_pending(trk_host_flags(t, m->host, m->instance), h, INF_NO_LINE_IN);
		}
		if (s->tls_failed)
			hop_add_ev(h, s->fail_ev);
		m->waiting--;
		m->session = NULL;
		trk_maybe_complete(t, m);
	}
	s->nw = 0;
}

void trk_session_end(struct tracker *t, const struct evidence *ev)
{
	size_t n;
	const char *k = trk_pid_key(t, ev, &n);
	struct session *s = ht_remove(t->sessions, k, n);
	if (!s)
		return;
	trk_session_close(t, s, ev);
	trk_session_free(s);
}

void trk_on_connect(struct tracker *t, const struct evidence *ev)
{
	size_t n;
	const char *k = trk_pid_key(t, ev, &n);
	struct session *old = ht_remove(t->sessions, k, n);
	if (old) {	/* the previous session's end is missing */
		trk_session_close(t, old, NULL);
		trk_session_free(old);
	}
	struct session *s = trk_session_get(t, ev, true);
	trk_field(t, &s->peer_host, ev->peer_host);
	trk_field(t, &s->peer_ip, ev->peer_ip);
	s->has_connect = true;
	s->connect_ev = trk_ref_of(ev);
	s->connect_ts = ev->ts;
	s->connect_usec = ev->usec;
}

/* The receiving process's session, made if need be, with the peer a
 * session line (STARTTLS=server, AUTH=server) names when none is known. */
static struct session *session_with_peer(struct tracker *t, const struct evidence *ev)
{
	struct session *s = trk_session_get(t, ev, true);
	if (!s->peer_ip)
		trk_field(t, &s->peer_ip, ev->peer_ip);
	if (!s->peer_host)
		trk_field(t, &s->peer_host, ev->peer_host);
	return s;
}

void trk_on_tls_in(struct tracker *t, const struct evidence *ev)
{
	struct session *s = session_with_peer(t, ev);
	tls_state_from_ev(&s->tls, ev);
	s->has_tls = true;
	s->tls_ev = trk_ref_of(ev);
	trk_cur_epoch(trk_host_flags_ev(t, ev))->server_tls_seen = true;
}

/* m's arrival is this session's: it waits for the session's end (the
 * disconnect counters) before it is complete. */
static void session_wait(struct session *s, struct message *m)
{
	if (s->nw == s->capw) {
		s->capw = s->capw ? s->capw * 2 : 4;
		s->waiting = xrealloc(s->waiting, s->capw * sizeof *s->waiting);
	}
	s->waiting[s->nw++] = m;
	m->waiting++;
	m->session = s;
}

static void inherit_session(struct hop *h, struct session *s)
{
	if (s->has_connect) {
		hop_add_ev(h, s->connect_ev);
		h->sess_start = s->connect_ts;
		h->sess_start_usec = s->connect_usec;
	}
	if (s->has_tls) {
		tls_state_copy(&h->tls, &s->tls);
		hop_add_ev(h, s->tls_ev);
	}
}

/* The sender's own leg (README "Submission"): the client authenticated,
 * or the smtpd runs as a submission service - Debian's and Postfix's
 * master.cf name those "-o syslog_name=postfix/submission" and
 * "postfix/smtps" (also "submissions", RFC 8314's name for 465). */
static void mark_submission(struct tracker *t, struct hop *h, const struct evidence *ev)
{
	if (ev->sasl_method.n) {
		trk_field(t, &h->sasl_method, ev->sasl_method);
		trk_field(t, &h->sasl_username, ev->sasl_username);
	}
	h->authenticated = ev->sasl_method.n > 0;
	h->submission = ev->sasl_method.n || span_eq(ev->service, "submission") ||
			span_eq(ev->service, "smtps") || span_eq(ev->service, "submissions");
}

void trk_on_client(struct tracker *t, const struct evidence *ev)
{
	struct message *m = trk_msg_new(t, ev);
	trk_alias_add(t, ev);
	m->has_inbound = true;
	struct hop *h = &m->inbound;
	h->ts = ev->ts;
	h->usec = ev->usec;
	trk_hop_set_peer(t, h, ev);
	h->xforwarded = ev->xforward;
	mark_submission(t, h, ev);
	struct session *s = trk_session_get(t, ev, false);
	if (s) {
		inherit_session(h, s);
		if (s->has_tls)
			hop_set_basis(h, "TLS summary line of this smtpd session");
		session_wait(s, m);
	} else {
		size_t n;
		const char *k = trk_pid_key(t, ev, &n);
		enum closed_why why = trk_session_closed_why(t, k, n);
		char basis[160];
		if (why == CLOSED_UNDER_LOAD)
			snprintf(basis, sizeof basis, "its smtpd session was evicted under load "
				 "(over %d sessions open at once): its TLS is not known", MAX_OPEN);
		else if (why == CLOSED_IDLE)
			snprintf(basis, sizeof basis, "its smtpd session was closed after %d hours "
				 "without a line: its TLS is not known", SESSION_IDLE / 3600);
		else
			snprintf(basis, sizeof basis, "the start of this smtpd session is not in "
				 "the log");
		hop_set_basis(h, basis);
	}
	hop_add_ev(h, trk_ref_of(ev));
}

/* A before-queue content filter (smtpd_proxy_filter, README "Content
 * filters"): the Internet-facing smtpd session passed the message through
 * the filter to another smtpd on this host, which wrote the queue file
 * with a loopback client ("QID: client=localhost[127.0.0.1],
 * orig_client=..."), and logs the filter's reply, "proxy-accept:
 * END-OF-MESSAGE: 250 ... queued as QID" (smtpd_proxy.c).  The real
 * arrival is this session: the message takes its peer and TLS facts and
 * waits for its disconnect instead of the loopback session's. */
void trk_on_proxy_accept(struct tracker *t, const struct evidence *ev)
{
	trk_host_flags_ev(t, ev)->proxy_seen = true;
	struct session *s = trk_session_get(t, ev, false);
	struct evidence q = *ev;
	q.qid = ev->next_qid;
	struct message *m = trk_msg_lookup(t, &q);
	if (!m)	/* delivered and removed before the filter answered */
		m = trk_queued_lookup(t, ev->host, ev->instance, ev->next_qid);
	if (!s || !m || !m->has_inbound || m->inbound.proxied)
		return;
	struct hop *h = &m->inbound;
	if (!addr_is_loopback(h->peer_ip))
		return;	/* not a filter on this host's loopback */
	trk_detach(m);
	struct evref *kept = h->ev;
	size_t nkept = h->nev;
	h->ev = NULL;
	h->nev = h->capev = 0;
	free(h->peer_host);
	free(h->peer_ip);
	h->peer_host = xstrdup_or_null(s->peer_host);
	h->peer_ip = xstrdup_or_null(s->peer_ip);
	h->peer_port = -1;
	h->network = !addr_is_loopback(h->peer_ip);
	tls_state_free(&h->tls);
	hop_set_basis(h, NULL);
	inherit_session(h, s);
	for (size_t i = 0; i < nkept; i++)
		hop_add_ev(h, kept[i]);
	free(kept);
	hop_add_ev(h, trk_ref_of(ev));
	h->proxied = true;
	hop_set_basis(h, s->has_tls
		      ? "TLS summary line of the smtpd session in front of the "
			"before-queue content filter (proxy-accept names this queue file)"
		      : NULL);
	if (!m->complete)
		session_wait(s, m);	/* its disconnect counters are this session's */
	else if (!s->has_tls)
		trk_set_pending(trk_host_flags_ev(t, ev), h, INF_NO_LINE_IN);
}

void trk_on_local_inbound(struct tracker *t, const struct evidence *ev,
			     const char *what)
{
	struct message *m = trk_msg_get(t, ev);
	m->has_inbound = true;
	struct hop *h = &m->inbound;
	h->local = true;
	h->network = false;
	h->ts = ev->ts;
	h->usec = ev->usec;
	free(h->peer_host);
	h->peer_host = xstrdup(what);
	hop_set_basis(h, "local submission: no network connection");
	hop_add_ev(h, trk_ref_of(ev));
	if (ev->from.n)
		trk_field(t, &m->from, ev->from);
}

/* Sendmail's "AUTH=server": the client of this process authenticated;
 * the from= lines of its messages take it (a new connection on the same
 * process starts a new session, trk_on_connect). */
void trk_on_auth(struct tracker *t, const struct evidence *ev)
{
	struct session *s = session_with_peer(t, ev);
	trk_field(t, &s->sasl_method, ev->sasl_method);
	trk_field(t, &s->sasl_username, ev->sasl_username);
	s->has_auth = true;
	s->auth_ev = trk_ref_of(ev);
}

/* RFC 3848: ESMTPA, ESMTPSA, UTF8SMTPSA - the client authenticated. */
static bool proto_says_auth(struct span p)
{
	return p.n >= 5 && p.p[p.n - 1] == 'A' && span_find(p, "SMTP") >= 0;
}

/* The sender's own leg for Sendmail (README "Submission"): the session's
 * AUTH=server line, proto=ESMTPA/ESMTPSA, or the MSA listener (daemon=
 * MSA, Debian's MSA-v4 and MSA-v6; cf/README "DAEMON_OPTIONS"). */
static void sendmail_submission(struct tracker *t, struct hop *h, const struct session *s,
				const struct evidence *ev)
{
	if (s && s->has_auth && (!s->peer_ip || span_eq(ev->peer_ip, s->peer_ip))) {
		free(h->sasl_method);
		free(h->sasl_username);
		h->sasl_method = s->sasl_method ? xstrdup(s->sasl_method) : NULL;
		h->sasl_username = s->sasl_username ? xstrdup(s->sasl_username) : NULL;
		hop_add_ev(h, s->auth_ev);
	}
	h->authenticated = h->sasl_method || proto_says_auth(ev->proto);
	h->submission = h->authenticated || span_starts(ev->service, "MSA");
	(void)t;
}

/* RFC 3848 transmission types: ESMTPS, ESMTPSA, LMTPS, UTF8SMTPS... */
static bool proto_says_tls(struct span p)
{
	return (p.n >= 5 && (span_eq(span_sub(p, p.n - 1, 1), "S") ||
			     span_eq(span_sub(p, p.n - 2, 2), "SA")) &&
		span_find(p, "SMTP") >= 0);
}

void trk_on_sendmail_from(struct tracker *t, const struct evidence *ev)
{
	struct message *m = trk_msg_get(t, ev);
	if (ev->from.n)
		trk_field(t, &m->from, ev->from);
	if (ev->message_id.n)
		trk_field(t, &m->message_id, ev->message_id);
	if (ev->nrcpt >= 0)
		m->nrcpt = ev->nrcpt;
	m->has_inbound = true;
	struct hop *h = &m->inbound;
	h->ts = ev->ts;
	h->usec = ev->usec;
	hop_add_ev(h, trk_ref_of(ev));
	if (!ev->peer_ip.n) {	/* "relay=root@localhost": local submission */
		h->local = true;
		h->network = false;
		trk_field(t, &h->peer_host, ev->peer_host);
		hop_set_basis(h, "local submission: no network connection");
		return;
	}
	trk_hop_set_peer(t, h, ev);
	struct session *s = trk_session_get(t, ev, false);
	sendmail_submission(t, h, s, ev);
	bool match = s && s->has_tls &&
		     (!s->peer_ip || span_eq(ev->peer_ip, s->peer_ip));
	if (match)
		inherit_session(h, s);
	if (ev->proto.n && proto_says_tls(ev->proto)) {
		if (!match) {
			tls_state_free(&h->tls);
			h->tls.used = TRI_YES;
			h->tls.stripped = TRI_NO;
			hop_set_basis(h, "proto=ESMTPS (RFC 3848) says TLS was used; "
				      "no STARTTLS=server line gives its details");
		} else {
			hop_set_basis(h, "STARTTLS=server line of this process, confirmed by "
				      "proto=ESMTPS");
		}
	} else if (match) {
		hop_set_basis(h, "STARTTLS=server line of this process (this Sendmail "
			      "does not mark TLS in proto=)");
	} else if (ev->proto.n) {
		h->tls.used = TRI_NO;
		hop_set_basis(h, "proto= without S: no TLS (Sendmail 8.15+ writes ESMTPS "
			      "when STARTTLS was used)");
	} else {
		trk_set_pending(trk_host_flags_ev(t, ev), h, INF_NO_LINE_IN);
	}
}
