/* track_out.c - outbound hops: the delivering process's TLS line and the
 * connection it belongs to (conn_use=, the same relay, Sendmail's
 * connection cache), TLS failures, deliveries and notifications. */
#include "track_state.h"
#include "../util/addr.h"
#include "../util/intern.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- outbound ----------------------------------------------------------- */

static bool name_eq(const char *a, struct span b)
{
	if (!a)
		return false;
	size_t an = strlen(a);
	while (an && a[an - 1] == '.')
		an--;
	while (b.n && b.p[b.n - 1] == '.')
		b.n--;
	return an == b.n && strncasecmp(a, b.p, an) == 0;
}

/* Is this delivery to the relay the connection c was opened to? */
static bool relay_match(const struct conn *c, const struct evidence *ev)
{
	if (!c->open)
		return false;
	if (c->relay_ip && ev->peer_ip.n) {
		if (!span_eq(ev->peer_ip, c->relay_ip))
			return false;
		return c->relay_port < 0 || ev->peer_port < 0 || c->relay_port == ev->peer_port;
	}
	/* Postfix 2.x and Sendmail name the relay without its address. */
	if (name_eq(c->relay_name, ev->peer_host))
		return true;
	if (c->relay_name && c->relay_name[0] == '[' && ev->peer_ip.n) {
		size_t n = strlen(c->relay_name);
		return n > 2 && span_eqi_span((struct span){ c->relay_name + 1, n - 2 },
					      ev->peer_ip);
	}
	return false;
}

void trk_on_tls_out(struct tracker *t, const struct evidence *ev)
{
	struct proc *p = trk_proc_get(t, ev);
	if (p->note.relay_ip && !span_eq(ev->peer_ip, p->note.relay_ip))
		trk_note_clear(&p->note);	/* about a connection that delivered nothing */
	trk_conn_clear(&p->pending);
	p->pending.open = true;
	p->pending.has_tls = true;
	p->pending.relay_name = span_dup(ev->peer_host);
	p->pending.relay_ip = span_dup(ev->peer_ip);
	p->pending.relay_port = ev->peer_port;
	tls_state_from_ev(&p->pending.tls, ev);
	p->pending.tls_ev = trk_ref_of(ev);
	p->pending.tls_ts = ev->ts;
	p->pending.tls_usec = ev->usec;
	struct epoch_flags *ep = trk_cur_epoch(trk_host_flags_ev(t, ev));
	if (span_eq(ev->program, "lmtp"))
		ep->lmtp_tls_seen = true;
	else
		ep->client_tls_seen = true;
}

/* The relays table's entry for the relay ev names, made when missing. */
static struct conn *relay_entry(struct tracker *t, const struct evidence *ev)
{
	size_t n;
	const char *k = trk_relay_key(t, ev, &n);
	struct conn *c = ht_get(t->relays, k, n);
	if (!c) {
		c = xcalloc(1, sizeof *c);
		trk_conn_clear(c);
		ht_put(t->relays, k, n, c);
	}
	return c;
}

void trk_on_tls_fail(struct tracker *t, const struct evidence *ev)
{
	if (ev->dir == DIR_OUT) {
		struct proc *p = trk_proc_get(t, ev);
		p->has_fail = true;
		p->fail_ev = trk_ref_of(ev);
		trk_field(t, &p->fail_text, ev->detail);
		/* "SSL_connect error to ..." or "QID: Cannot start TLS:
		 * handshake failure": the server took STARTTLS, the handshake
		 * broke (smtp_proto.c). */
		if (span_find(ev->detail, "TLS is required") < 0 &&
		    span_find(ev->detail, "not verified") < 0) {
			p->fail_handshake = true;
			if (ev->mta == MTA_POSTFIX && ev->peer_ip.n) {
				struct conn *c = relay_entry(t, ev);
				c->hs_fail_nep = trk_host_flags_ev(t, ev)->nep;
				c->hs_fail_ev = trk_ref_of(ev);
				c->used = ev->ts;
			}
		}
		trk_conn_clear(&p->cur);	/* the next connection is a new one */
		return;
	}
	struct session *s = trk_session_get(t, ev, true);
	s->tls_failed = true;
	s->fail_ev = trk_ref_of(ev);
}

static bool is_local_delivery(const struct evidence *ev)
{
	if (ev->mta == MTA_SENDMAIL) {
		if (ev->mailer.n && !span_eq(ev->mailer, "esmtp") && !span_eq(ev->mailer, "smtp") &&
		    !span_eq(ev->mailer, "relay") && !span_eq(ev->mailer, "dsmtp") &&
		    !span_eq(ev->mailer, "smtp8"))
			return true;
		return !ev->peer_host.n && !ev->peer_ip.n;
	}
	if (!span_eq(ev->program, "smtp") && !span_eq(ev->program, "lmtp"))
		return true;	/* local, virtual, pipe, discard, error, qmgr */
	/* LMTP over loopback hands the message to this host's mailbox store
	 * (Dovecot's lmtp on 127.0.0.1:24): a final local delivery. */
	if (span_eq(ev->program, "lmtp") && ev->peer_ip.n) {
		char ip[64];
		size_t n = ev->peer_ip.n < sizeof ip - 1 ? ev->peer_ip.n : sizeof ip - 1;
		memcpy(ip, ev->peer_ip.p, n);
		ip[n] = '\0';
		if (addr_is_loopback(ip))
			return true;
	}
	return !ev->peer_ip.n;	/* relay=none, or a unix-domain socket (ev->socket) */
}

/* Postfix 3.11 writes the TLS security level of a delivery ("tls=dane").
 * Levels encrypt and above (postconf(5) smtp_tls_security_level) never
 * deliver in plaintext; a "/" marks a downgrade, so it is not taken. */
/* Postfix 3.11+ per-feature TLS status on a delivery ("tls=...", before
 * dsn=; src/global/pol_stats.c pol_stats_format): fields split by '/',
 * the first the TLS security level, the second REQUIRETLS; each
 * "[!]initial[:final][?]" - '!' the policy was violated and the delivery
 * blocked, ':final' the level the connection ended at, '?' undecided (a
 * lost connection). */
static struct span feature_field(struct span v, int idx)
{
	for (int i = 0; i < idx; i++) {
		ssize_t at = span_find(v, "/");
		if (at < 0)
			return SPAN_NULL;
		v = span_sub(v, (size_t)at + 1, v.n);
	}
	ssize_t at = span_find(v, "/");
	return at < 0 ? v : span_sub(v, 0, (size_t)at);
}

/* The tls= status, read once: the level field's initial and final level
 * (the final is the initial when no ':final' is written), whether that
 * field was left undecided, and whether any feature was violated. */
struct tls_status {
	enum tls_level level, end;
	bool violated, undecided, blocked;
	enum requiretls requiretls;	/* unknown when no tls= was written */
};

static struct tls_status tls_status_of(struct span v)
{
	struct tls_status st = { 0 };
	if (!v.n)
		return st;	/* no tls= (Postfix before 3.11): every level unknown */
	struct span req = feature_field(v, 1);
	struct span f = feature_field(v, 0);
	st.violated = f.n && f.p[0] == '!';
	st.blocked = st.violated || (req.n && req.p[0] == '!');
	/* pol_stats.c prints a feature only once it was activated: no second
	 * field, no REQUIRETLS request ("verify/requiretls" honoured,
	 * "may?/!requiretls:nocertmatch" refused, "requiretls?" undecided). */
	if (v.n)
		st.requiretls = !req.n ? RQT_NO : req.p[0] == '!' ? RQT_REFUSED
				: memchr(req.p, '?', req.n) ? RQT_PENDING : RQT_HONOURED;
	if (st.violated)
		f = span_sub(f, 1, f.n);
	st.undecided = f.n && f.p[f.n - 1] == '?';
	if (st.undecided)
		f.n--;
	ssize_t colon = span_find(f, ":");
	st.level = tls_level_parse(colon < 0 ? f : span_sub(f, 0, (size_t)colon));
	st.end = tls_level_parse(colon < 0 ? f : span_sub(f, (size_t)colon + 1, f.n));
	return st;
}

/* The level the connection ended at, when decided and not violated
 * ("may:none" -> none, "dane:encrypt" -> encrypt); unknown for
 * "!verify", "encrypt?" or no tls= at all. */
static enum tls_level tls_status_end(const struct tls_status *st)
{
	return st->violated || st->undecided ? TLSL_UNKNOWN : st->end;
}

/* What a delivery's tls= status (and the trust word of its TLS line)
 * says of enforcement (README "Enforcement"): the level in force - the
 * initial name - and whether it forbade plaintext for this delivery: a
 * violated level ("!verify") did, and blocked it; otherwise the level it
 * ended at decides ("may:none": no; "dane:encrypt": yes).  Postfix writes
 * the trust word "Verified" only at a level that demands a matching
 * certificate (verify, secure, dane, fingerprint): enforced, level
 * unstated. */
static void enforcement(struct hop *h, const struct tls_status *st)
{
	struct tls_state *t = &h->tls;
	if (st->level != TLSL_UNKNOWN) {
		t->level = st->level;
		if (st->violated || tls_level_mandatory(st->level))
			t->enforced = st->violated || st->undecided || st->end == TLSL_UNKNOWN ||
				      tls_level_mandatory(st->end) ? TRI_YES : TRI_NO;
		else
			t->enforced = TRI_NO;	/* may, none */
		t->enforced_by = ENF_TLS_STATUS;
		/* "tls=dane" is written only where TLSA records applied (no
		 * usable TLSA: the status says "may"): RFC 8460 policy tlsa. */
		if ((st->level == TLSL_DANE || st->level == TLSL_DANE_ONLY) &&
		    (st->violated || st->end == st->level))
			t->policy_type = PT_TLSA;
	}
	t->requiretls = st->requiretls;
	if (st->requiretls > RQT_NO && t->enforced != TRI_YES) {
		t->enforced = TRI_YES;	/* RFC 8689 4.1: TLS or no delivery */
		t->enforced_by = ENF_REQUIRETLS;
	}
	if (t->enforced == TRI_UNKNOWN && t->cert_raw && strcasecmp(t->cert_raw, "Verified") == 0) {
		t->enforced = TRI_YES;
		t->enforced_by = ENF_TRUST_WORD;
	}
}

/* RFC 8460 result types are written with hyphens; tlsrpt_wrapper.c
 * logs them with underscores ("certificate_not_trusted"). */
static char *result_type(struct span v)
{
	char *s = span_dup(span_sub(v, 0, v.n < 64 ? v.n : 64));
	for (char *c = s; *c; c++)
		if (*c == '_')
			*c = '-';
	return s;
}

void trk_on_tls_policy(struct tracker *t, const struct evidence *ev)
{
	struct proc *p = trk_proc_get(t, ev);
	struct policy_note *n = &p->note;
	if (!n->relay_ip || !span_eq(ev->peer_ip, n->relay_ip)) {
		trk_note_clear(n);
		n->relay_ip = span_dup(ev->peer_ip);
	}
	if (span_eq(ev->status, "dane-match"))
		n->match = PM_DANE;
	else if (span_eq(ev->status, "fingerprint-match"))
		n->match = PM_FINGERPRINT;
	else {
		n->rpt = span_eq(ev->status, "success") ? TR_SUCCESS : TR_FAILURE;
		free(n->rpt_failure);
		n->rpt_failure = ev->detail.n ? result_type(ev->detail) : NULL;
	}
	if (n->nev == POLICY_NOTE_EV)
		n->nev--;	/* the last slot keeps the newest line */
	n->ev[n->nev++] = trk_ref_of(ev);
}

/* A policy note about this delivery's relay: a DANE match means TLSA
 * records were in force and met (tls_dane.c), a fingerprint match the
 * fingerprint level; both forbid plaintext.  The connection keeps the
 * facts for the next recipients over it; the note is used up. */
static void note_apply(struct proc *p, struct hop *h, const struct evidence *ev)
{
	struct policy_note *n = &p->note;
	if (!n->relay_ip || !span_eq(ev->peer_ip, n->relay_ip))
		return;
	struct tls_state *ts[2] = { &h->tls, p->cur.has_tls ? &p->cur.tls : NULL };
	for (int i = 0; i < 2 && ts[i]; i++) {
		struct tls_state *s = ts[i];
		if (n->match) {
			if (s->level == TLSL_UNKNOWN)
				s->level = n->match == PM_DANE ? TLSL_DANE : TLSL_FINGERPRINT;
			if (n->match == PM_DANE)
				s->policy_type = PT_TLSA;
			if (s->enforced_by != ENF_TLS_STATUS) {
				s->enforced = TRI_YES;
				s->enforced_by = n->match == PM_DANE ? ENF_DANE_MATCH
					       : ENF_FINGERPRINT_MATCH;
			}
		}
		if (n->rpt) {
			s->tlsrpt = n->rpt;
			intern_free(s->tlsrpt_failure);
			s->tlsrpt_failure = xstrdup_or_null(n->rpt_failure);
		}
	}
	for (int i = 0; i < n->nev; i++)
		hop_add_ev(h, n->ev[i]);
	trk_note_clear(n);
}

/* Sendmail's tls_server and tls_rcpt rulesets refuse a connection the
 * access map's TLS_Srv:/TLS_Rcpt: requirement was not met on
 * (sendmail-cf 8.17 cf/m4/proto.m4): "... not authenticated" where VERIFY
 * was required, "... encryption too weak N less than M" where ENCR:M was,
 * "403 4.7.0 TLS handshake failed." where either was and the handshake
 * broke, "not listed in SANs" for MTA-STS.  The policy forbade plaintext
 * and ended the attempt. */
static void sendmail_ruleset(struct hop *h, const char *fail)
{
	if (!fail || (strncmp(fail, "ruleset=tls_server", 18) != 0 &&
		      strncmp(fail, "ruleset=tls_rcpt", 16) != 0))
		return;
	h->tls.enforced = TRI_YES;
	h->tls.enforced_by = ENF_SENDMAIL_RULESET;
	if (strstr(fail, " not authenticated") || strstr(fail, "not listed in SANs"))
		h->tls.level = TLSL_VERIFY;
	else if (strstr(fail, " encryption too weak "))
		h->tls.level = TLSL_ENCRYPT;
}

/* Find the connection this delivery went over; fills the hop's TLS facts. */
static void outbound_tls(struct tracker *t, const struct evidence *ev, struct hop *h)
{
	struct proc *p = trk_proc_get(t, ev);
	struct tls_status st = tls_status_of(ev->tls_feature);
	char basis[200];
	if (p->pending.open && relay_match(&p->pending, ev)) {
		trk_conn_move(&p->cur, &p->pending);
		str_set(&p->cur.qid, ev->qid);
		p->cur.conn_use = ev->conn_use;
		strcpy(basis, ev->mta == MTA_SENDMAIL
		       ? "STARTTLS=client line of this connection "
			 "(same process, just before the first delivery on it)"
		       : "TLS summary line of this connection "
			 "(same process, just before the first delivery on it)");
	} else {
		trk_conn_clear(&p->pending);	/* a TLS line for another relay is stale */
		bool same = false;
		if (p->cur.open && relay_match(&p->cur, ev)) {
			if (ev->mta == MTA_SENDMAIL) {
				same = true;	/* Sendmail's connection cache */
				strcpy(basis, "same process and relay as "
				       "the previous delivery (connection cache)");
			} else if (ev->conn_use > 1) {
				same = true;
				snprintf(basis, sizeof basis, "reused connection "
					 "(conn_use=%d) of this process", ev->conn_use);
			} else if (p->cur.qid && span_eq(ev->qid, p->cur.qid) &&
				   p->cur.conn_use == ev->conn_use) {
				same = true;
				strcpy(basis, "same delivery transaction as "
				       "the previous recipient");
			}
		}
		if (!same && ev->conn_use > 1) {
			/* Taken from the connection cache (scache) by another
			 * process: the last connection this host had there. */
			size_t n;
			const char *k = trk_relay_key(t, ev, &n);
			struct conn *c = ht_get(t->relays, k, n);
			if (c) {
				trk_conn_copy(&p->cur, c);
				same = true;
				snprintf(basis, sizeof basis, "reused connection (conn_use=%d) "
					 "taken from the connection cache", ev->conn_use);
			}
		}
		if (!same) {
			trk_conn_clear(&p->cur);
			p->cur.open = true;
			p->cur.relay_name = span_dup(ev->peer_host);
			p->cur.relay_ip = span_dup(ev->peer_ip);
			p->cur.relay_port = ev->peer_port;
			basis[0] = '\0';
		}
		str_set(&p->cur.qid, ev->qid);
		p->cur.conn_use = ev->conn_use;
	}
	if (p->cur.has_tls) {
		tls_state_copy(&h->tls, &p->cur.tls);
		hop_add_ev(h, p->cur.tls_ev);
		hop_set_basis(h, basis);
		h->sess_start = p->cur.tls_ts;
		h->sess_start_usec = p->cur.tls_usec;
	} else if (span_eq(ev->status, "sent") && tls_level_mandatory(tls_status_end(&st))) {
		h->tls.used = TRI_YES;
		char b[200];
		snprintf(b, sizeof b, "Postfix 3.11+ logged tls=%.*s on the delivery: "
			 "that security level does not deliver without TLS",
			 (int)ev->tls_feature.n, ev->tls_feature.p);
		hop_set_basis(h, b);
	} else if (span_eq(ev->status, "sent") && tls_status_end(&st) == TLSL_NONE) {
		h->tls.used = TRI_NO;	/* "may:none": opportunistic, ended without TLS */
		char b[200];
		snprintf(b, sizeof b, "Postfix 3.11+ logged tls=%.*s on the delivery: "
			 "the connection ended at security level none, without TLS",
			 (int)ev->tls_feature.n, ev->tls_feature.p);
		hop_set_basis(h, b);
	} else {
		trk_set_pending(trk_host_flags_ev(t, ev), h, span_eq(ev->program, "lmtp")
				? INF_NO_LINE_LMTP : INF_NO_LINE_OUT);	/* decided when written */
	}
	if (p->has_fail) {
		hop_add_ev(h, p->fail_ev);
		if (!p->cur.has_tls) {
			h->pending = INF_NONE;
			h->tls.used = TRI_NO;
			/* smtp(8): "TLS is required, but was not offered by host" */
			if (p->fail_text && strstr(p->fail_text, "was not offered"))
				h->tls.offered = TRI_NO;
			char b[300];
			if (p->fail_handshake)
				h->tls.offered = TRI_YES;	/* the client sent STARTTLS */
			if (p->fail_handshake && span_eq(ev->status, "sent")) {
				/* smtp_proto.c: at "may" a failed handshake is
				 * retried at once over a new plaintext connection
				 * (RETRY_AS_PLAINTEXT): the server offered STARTTLS. */
				h->tls.offered = TRI_YES;
				h->tls.downgrade = DOWNGRADE_HANDSHAKE_FAILED;
				snprintf(b, sizeof b, "the server offered STARTTLS but the TLS "
					 "handshake failed (%s); smtp(8) then delivered in plaintext",
					 p->fail_text ? p->fail_text : "");
			} else {
				snprintf(b, sizeof b, "TLS failed or was refused: %s",
					 p->fail_text ? p->fail_text : "");
			}
			hop_set_basis(h, b);
		}
		sendmail_ruleset(h, p->fail_text);
		p->fail_handshake = false;
		p->has_fail = false;
	}
	enforcement(h, &st);
	note_apply(p, h, ev);
	if (ev->mta == MTA_POSTFIX && ev->peer_ip.n) {
		struct conn *c = relay_entry(t, ev);
		/* A plaintext delivery to a relay whose handshake failed earlier
		 * in this configuration epoch (another message's attempt): the
		 * server offered STARTTLS; decided when the TLS facts are. */
		if (!p->cur.has_tls && !h->tls.downgrade && h->tls.used != TRI_YES &&
		    span_eq(ev->status, "sent") && c->hs_fail_nep &&
		    c->hs_fail_nep == trk_host_flags_ev(t, ev)->nep) {
			h->tls.downgrade = DOWNGRADE_HANDSHAKE_FAILED;
			h->tls.offered = TRI_YES;
			hop_add_ev(h, c->hs_fail_ev);
			char b[400];
			snprintf(b, sizeof b, "%s; a TLS handshake with this server failed earlier "
				 "under the same configuration", h->basis ? h->basis
				 : "no TLS line for this connection");
			hop_set_basis(h, b);
		}
		if (!trk_conn_same(c, &p->cur))	/* most deliveries change nothing */
			trk_conn_copy(c, &p->cur);
		c->used = ev->ts;
	}
}

static bool final_status(struct span st)
{
	return span_eq(st, "sent") || span_eq(st, "bounced") || span_eq(st, "expired");
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Evidence lines a folded hop keeps: the first ones and the last. */
#define FOLDED_EV_KEEP 16

/* A deferred delivery retried with the same outcome - same recipient,
 * relay, reply code and TLS facts - is one hop with its attempts counted
 * (the first and the last kept, with their evidence lines): a queue file
 * retried for days must not become a hop for every retry.  The new hop h is the
 * message's last; true when it was folded into an earlier one and taken
 * back. */
static bool fold_retry(struct message *m, struct hop *h)
{
	if (!h->status || strcmp(h->status, "deferred") != 0)
		return false;
	size_t lo = m->ndl > 17 ? m->ndl - 17 : 0;
	for (size_t i = m->ndl - 1; i-- > lo;) {
		struct hop *p = &m->dl[i];
		if (!same_str(p->rcpt, h->rcpt))
			continue;
		if (!same_str(p->status, h->status) || !same_str(p->dsn, h->dsn) ||
		    !same_str(p->peer_ip, h->peer_ip) || p->peer_port != h->peer_port ||
		    p->local != h->local || p->tls.used != h->tls.used ||
		    p->tls.version != h->tls.version || p->pending != h->pending ||
		    !same_str(p->basis, h->basis))
			return false;	/* the latest attempt for it differs */
		p->attempts++;
		p->last_attempt = h->ts;
		for (size_t k = 0; k < h->nev; k++) {
			if (p->nev >= FOLDED_EV_KEEP)
				p->ev[--p->nev] = (struct evref){ 0 };	/* the last slot: newest */
			hop_add_ev(p, h->ev[k]);
		}
		message_drop_last_delivery(m);
		return true;
	}
	return false;
}

/* What the attempt did (message.h enum outcome), from its status and
 * reply: smtp(8)'s TLS policy refusals (smtp_proto.c "TLS is required,
 * but was not offered", "Server certificate not verified"), relay=none
 * for no connection at all. */
static enum outcome attempt_outcome(const struct evidence *ev, bool local)
{
	struct span st = ev->status;
	if (span_eq(st, "sent") || span_eq(st, "delivered"))
		return OUTCOME_SENT;
	bool none = span_eq(ev->peer_host, "none") && !ev->peer_ip.n &&
		    (span_eq(ev->program, "smtp") || span_eq(ev->program, "lmtp"));
	if (span_find(ev->reply, "TLS is required") >= 0 ||
	    span_find(ev->reply, "certificate not verified") >= 0 ||
	    span_find(ev->reply, "TLS is not available") >= 0 ||
	    span_find(ev->reply, "Sender requested REQUIRETLS") >= 0 ||
	    tls_status_of(ev->tls_feature).blocked)
		return OUTCOME_REFUSED;	/* the client's TLS policy blocked it */
	if (none || (!local && span_find(ev->reply, "connect to ") == 0))
		return OUTCOME_NO_CONNECTION;
	if (span_eq(st, "bounced") || span_eq(st, "expired"))
		return OUTCOME_BOUNCED;
	if (span_find(ev->reply, "Connection refused") >= 0 ||
	    span_find(ev->reply, "No route to host") >= 0)
		return OUTCOME_NO_CONNECTION;	/* Sendmail: "Deferred: Connection refused by" */
	if (span_eq(st, "deferred") || span_eq(st, "undeliverable") || span_eq(st, "queued"))
		return OUTCOME_DEFERRED;	/* Sendmail's stat=queued: held for a queue run */
	return OUTCOME_NONE;
}

/* What says a delivery over loopback went to a content filter rather
 * than to another SMTP server on this host, which it is only when the log
 * says so: amavisd-new's reply ("from MTA(...)"), a re-injection that
 * carried the original client (XFORWARD: smtp_send_xforward_command, as
 * the content_filter transports of Postfix's FILTER_README set it), or a
 * listener off the SMTP ports (amavis's 10024, FILTER_README's 10025). */
static bool filter_evidence(const struct evidence *ev, const struct message *n)
{
	if (span_find(ev->reply, " from MTA(") >= 0 || n->inbound.xforwarded)
		return true;
	return ev->peer_port > 0 && ev->peer_port != 25 && ev->peer_port != 465 &&
	       ev->peer_port != 587;
}

/* An after-queue content filter (README "Content filters"): a delivery
 * over loopback whose reply names a queue file of this same Postfix
 * instance that arrived from loopback (the filter's re-injection; its
 * client= line is logged before the filter answers), with filter_evidence.
 * The hop is this host's own business, not a delivery to the recipient's
 * domain. */
static void mark_filter(struct tracker *t, struct message *m, struct hop *h,
			const struct evidence *ev)
{
	if (ev->mta != MTA_POSTFIX || !ev->next_qid.n || !addr_is_loopback(h->peer_ip))
		return;
	struct evidence q = *ev;
	q.qid = ev->next_qid;
	struct message *n = trk_msg_lookup(t, &q);
	if (!n || n == m || !n->has_inbound || !addr_is_loopback(n->inbound.peer_ip) ||
	    !filter_evidence(ev, n))
		return;
	h->filter = true;
	h->local = true;
	h->network = false;
	h->pending = INF_NONE;
	char b[200];
	snprintf(b, sizeof b, "handed to a content filter on this host, whose output "
		 "came back as %.*s", (int)(ev->next_qid.n < 40 ? ev->next_qid.n : 40),
		 ev->next_qid.p);
	hop_set_basis(h, b);
}

static void add_delivery(struct tracker *t, struct message *m,
			 const struct evidence *ev, struct span rcpt, bool local)
{
	if (m->ndl >= MESSAGE_MAX_DELIVERIES) {
		m->dl_dropped++;	/* counted, and said in the record */
		if (final_status(ev->status))
			m->finals++;
		return;
	}
	struct hop *h = message_add_delivery(m);
	h->ts = ev->ts;
	h->usec = ev->usec;
	h->local = local;
	trk_field(t, &h->rcpt, rcpt);
	if (ev->orig_rcpt.n)
		trk_field(t, &h->orig_rcpt, ev->orig_rcpt);
	trk_field(t, &h->status, ev->status);
	trk_field(t, &h->dsn, ev->dsn);
	str_set(&h->next_qid, ev->next_qid);
	trk_hop_set_peer(t, h, ev);
	if (local) {
		h->network = false;
		bool lmtp_tcp = span_eq(ev->program, "lmtp") && ev->peer_ip.n;
		char b[200];
		if (span_eq(ev->peer_host, "none") &&	/* smtp(8) that never connected */
		    (span_eq(ev->program, "smtp") || span_eq(ev->program, "lmtp")))
			snprintf(b, sizeof b, "no connection was made (relay=none, status=%.*s): "
				 "nothing was transmitted", (int)ev->status.n, ev->status.p);
		else if (lmtp_tcp)
			snprintf(b, sizeof b, "delivered by lmtp to %.*s on this host (its mailbox "
				 "store): it crossed no network", (int)(ev->peer_ip.n < 64 ? ev->peer_ip.n : 64),
				 ev->peer_ip.p);
		else if (ev->socket.n)
			snprintf(b, sizeof b, "delivered by %.*s over the unix-domain socket %.*s: "
				 "it crossed no network", (int)ev->program.n, ev->program.p,
				 (int)(ev->socket.n < 120 ? ev->socket.n : 120), ev->socket.p);
		else
			snprintf(b, sizeof b, "handed over by %.*s with no SMTP connection",
				 (int)ev->program.n, ev->program.p);
		if (lmtp_tcp) {
			/* LMTP over TCP may run STARTTLS (lmtp_tls_security_level):
			 * the hop stays local, its TLS facts and lines are kept
			 * like any connection's (ARCHITECTURE.md, Correlate).  A
			 * hop left to the lmtp inference (track_queue.c) says it
			 * crossed no network through its rule. */
			outbound_tls(t, ev, h);
			char both[480];
			if (h->basis && *h->basis)
				snprintf(both, sizeof both, "%s; its TLS: %s", b, h->basis);
			else
				snprintf(both, sizeof both, "%s", b);
			hop_set_basis(h, both);
		} else {
			hop_set_basis(h, b);
			if (ev->tls_feature.n) {	/* a policy refusal before any connection */
				struct tls_status st = tls_status_of(ev->tls_feature);
				enforcement(h, &st);
			}
		}
	} else {
		outbound_tls(t, ev, h);
	}
	/* smtp(8) with TLS required defers with this reply (smtp_proto.c):
	 * the server's EHLO reply, as the client saw it, lacked STARTTLS. */
	if (span_find(ev->reply, "TLS is required, but was not offered") >= 0) {
		h->tls.offered = TRI_NO;
		if (h->tls.used != TRI_YES) {	/* no TLS on this connection */
			h->pending = INF_NONE;
			h->tls.used = TRI_UNKNOWN;
			hop_set_basis(h, "TLS was required and the server did not offer STARTTLS: "
				      "smtp(8) ended the session before the message was sent");
		}
	}
	h->outcome = attempt_outcome(ev, local);
	if (h->tls.enforced_by == ENF_SENDMAIL_RULESET && h->outcome != OUTCOME_SENT)
		h->outcome = OUTCOME_REFUSED;	/* the client's own policy ended it */
	h->conn_use = ev->conn_use;
	if (ev->reply.n)
		h->reason = span_dup(span_sub(ev->reply, 0, ev->reply.n < 300 ? ev->reply.n : 300));
	if (!local && h->outcome == OUTCOME_SENT)
		mark_filter(t, m, h, ev);
	/* smtp_proto.c, TLS required: "TLS is required, but host %s refused
	 * to start TLS: REPLY" - the capability was there, the command was
	 * answered with an error (at "may" the same goes unlogged). */
	if (span_find(ev->reply, "refused to start TLS") >= 0) {
		h->tls.offered = TRI_YES;
		h->tls.downgrade = DOWNGRADE_REFUSED;
	}
	hop_add_ev(h, trk_ref_of(ev));
	if (final_status(ev->status))
		m->finals++;
	fold_retry(m, h);
}

void trk_on_to(struct tracker *t, const struct evidence *ev)
{
	if (!ev->qid.n)
		return;
	struct message *m = trk_msg_get(t, ev);
	bool local = is_local_delivery(ev);
	if (ev->mta == MTA_POSTFIX) {
		add_delivery(t, m, ev, ev->rcpt, local);
		return;
	}
	/* Sendmail lists recipients of one transaction: "to=<a>,<b>". */
	struct span r = ev->rcpt;
	bool first = true;
	while (r.n) {
		size_t i = 0;
		bool in_angle = false;
		while (i < r.n && (in_angle || r.p[i] != ',')) {
			if (r.p[i] == '<')
				in_angle = true;
			else if (r.p[i] == '>')
				in_angle = false;
			i++;
		}
		struct span one = span_trim(span_sub(r, 0, i));
		if (one.n) {
			if (!first && !local) {
				/* Same connection as the first: copy its facts. */
				struct hop *h = message_add_delivery(m);
				const struct hop *prev = &m->dl[m->ndl - 2];
				h->ts = prev->ts;
				h->usec = prev->usec;
				h->sess_start = prev->sess_start;
				h->sess_start_usec = prev->sess_start_usec;
				trk_field(t, &h->rcpt, one);
				h->status = xstrdup_or_null(prev->status);
				h->dsn = xstrdup_or_null(prev->dsn);
				h->next_qid = xstrdup_or_null(prev->next_qid);
				trk_hop_set_peer(t, h, ev);
				tls_state_copy(&h->tls, &prev->tls);
				h->pending = prev->pending;
				h->epoch = prev->epoch;
				h->basis = xstrdup_or_null(prev->basis);
				h->outcome = prev->outcome;
				h->reason = xstrdup_or_null(prev->reason);
				for (size_t e = 0; e < prev->nev; e++)
					hop_add_ev(h, prev->ev[e]);
				if (final_status(ev->status))
					m->finals++;
			} else {
				add_delivery(t, m, ev, one, local);
			}
			first = false;
		}
		r = span_sub(r, i < r.n ? i + 1 : i, r.n);
	}
	trk_maybe_complete(t, m);
}

void trk_on_bounce(struct tracker *t, const struct evidence *ev)
{
	/* "QID: sender non-delivery notification: NEWQID": NEWQID is a new
	 * message created locally by bounce(8). */
	struct evidence child = *ev;
	child.qid = ev->next_qid;
	child.from = SPAN_NULL;
	if (!child.qid.n)
		return;
	if (span_eq(ev->status, "expired")) {	/* Sendmail's queue timeout */
		struct message *orig = trk_msg_lookup(t, ev);
		if (orig)
			orig->expired = true;
	}
	trk_on_local_inbound(t, &child, "bounce");
	struct message *m = trk_msg_lookup(t, &child);
	if (m)
		hop_set_basis(&m->inbound, ev->mta == MTA_SENDMAIL
			      ? "notification created by Sendmail (returntosender): "
				"no network connection"
			      : "notification created by Postfix bounce(8): "
				"no network connection");
}
