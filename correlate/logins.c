/* logins.c - login records from Dovecot's lines and from captures
 * (correlate/logins.h).  tls.used: Dovecot's %c "TLS" (not "TLS
 * handshaking", not "secured", which is a trusted or local connection in
 * clear); in a capture, a ServerHello.  Credentials in clear in a capture
 * are LOGIN, AUTHENTICATE, USER/PASS, APOP or AUTH before TLS; what was
 * sent under TLS cannot be seen ("unseen"). */
#include "logins.h"
#include "capconn.h"
#include "../util/addr.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct message *login_new(struct span host, enum ev_mta mta, time_t ts)
{
	struct message *m = message_new(host, SPAN_NULL, SPAN_NULL, mta, ts);
	m->login = xcalloc(1, sizeof *m->login);
	m->has_inbound = true;
	m->complete = true;
	m->nrcpt = 0;
	m->inbound.ts = ts;
	return m;
}

struct message *login_from_evidence(const struct evidence *ev)
{
	struct message *m = login_new(ev->host, ev->mta, ev->ts);
	struct login *l = m->login;
	l->service = span_dup(ev->service);
	l->status = span_dup(ev->status);
	l->security = span_dup(ev->security);
	l->local_ip = span_dup(ev->local_ip);
	l->local_port = ev->local_port;
	struct hop *h = &m->inbound;
	h->source = SRC_LOG;
	h->usec = ev->usec;
	h->peer_ip = span_dup(ev->peer_ip);
	h->peer_port = ev->peer_port;
	h->network = h->peer_ip && !addr_is_loopback(h->peer_ip);
	h->sasl_method = span_dup(ev->sasl_method);
	h->sasl_username = span_dup(ev->sasl_username);
	bool tls = span_starts(ev->security, "TLS") && !span_starts(ev->security, "TLS handshaking");
	h->tls.used = tls ? TRI_YES : TRI_NO;
	if (tls && ev->tls.version.n) {
		h->tls.version_raw = span_dup(ev->tls.version);
		h->tls.version = tls_version_from_name(h->tls.version_raw);
		if (ev->tls.cipher.n)
			tls_state_set_cipher(&h->tls, ev->tls.cipher.p, ev->tls.cipher.n);
	}
	char basis[256];
	snprintf(basis, sizeof basis, "Dovecot's %.*s line: %s%.*s%s", (int)ev->program.n,
		 ev->program.p, ev->security.n ? "\"" : "no TLS element",
		 (int)ev->security.n, ev->security.p,
		 !ev->security.n ? "" : tls ? "\"" : span_eq(ev->security, "secured")
		 ? "\" (a trusted or local connection, in clear)" : "\" (no TLS session)");
	hop_set_basis(h, basis);
	hop_add_ev(h, (struct evref){ ev->file_id, ev->line, false });
	return m;
}

void login_capture_facts(const struct smtp_connection *c, struct tls_state *t, char *basis,
			 size_t basislen, const char **status)
{
	const struct retr_conv *r = c->retr;
	const struct tls_obs *o = &r->tls;
	const char *proto = r->proto == RP_POP3 ? "POP3" : "IMAP";
	tls_state_free(t);
	if (r->starttls_offered || r->implicit_tls || r->starttls == STLS_ACCEPTED ||
	    o->server_hello)
		t->offered = TRI_YES;
	else if (r->caps_seen)
		t->offered = TRI_NO;
	static const char *const auth_status[] = { "none", "sent", "login", "auth-failed" };
	*status = auth_status[r->auth];
	if (o->server_hello) {
		tls_state_from_hello(o, t);
		const char *vn = tls_wire_version_name(o->version);
		snprintf(basis, basislen, "%s%s in the capture: ServerHello (frame %llu) chose %s %s",
			 proto, r->implicit_tls ? " over implicit TLS" : " STARTTLS",
			 (unsigned long long)o->sh_frame, vn ? vn : "?", t->cipher);
		if (r->auth == RA_NONE)
			*status = "unseen";
	} else if (r->tls_c || r->tls_s || o->client_hello) {
		t->used = TRI_UNKNOWN;
		snprintf(basis, basislen, "%s: a TLS handshake began but the capture holds no "
			 "ServerHello: it failed or the capture is cut", proto);
	} else {
		t->used = TRI_NO;
		t->stripped = r->starttls == STLS_REFUSED ? TRI_YES : TRI_NO;
		if (r->starttls == STLS_REFUSED)
			t->downgrade = DOWNGRADE_REFUSED;
		snprintf(basis, basislen, "plaintext %s in the capture: %s%s", proto,
			 r->starttls == STLS_REFUSED ? "STARTTLS was refused"
			 : r->starttls_offered ? "STARTTLS was offered but not used"
			 : r->caps_seen ? "the server did not offer STARTTLS"
			 : "no capability list was seen",
			 r->auth != RA_NONE ? "; credentials were sent in clear"
			 : r->preauth ? "; the server greeted PREAUTH" : "");
	}
	tls_state_from_hellos_seen(o, t);
}

struct message *login_from_capture(const struct smtp_connection *c)
{
	const struct retr_conv *r = c->retr;
	struct message *m = login_new(span_from(c->server), MTA_UNKNOWN, c->first_ts);
	m->last_seen = c->last_ts;
	struct login *l = m->login;
	l->service = xstrdup(retr_proto_name(r->proto));
	l->local_ip = xstrdup(c->server);
	l->local_port = c->sport;
	l->starttls_offered = r->starttls_offered;
	struct hop *h = &m->inbound;
	h->source = SRC_PCAP;
	h->usec = c->first_usec;
	h->peer_ip = xstrdup(c->client);
	h->peer_port = c->cport;
	h->network = !addr_is_loopback(c->client);
	char basis[300];
	const char *status;
	login_capture_facts(c, &h->tls, basis, sizeof basis, &status);
	l->status = xstrdup(status);
	hop_set_basis(h, basis);
	if (r->auth != RA_NONE) {	/* credentials in clear: their kind, never them */
		h->sasl_method = xstrdup(r->method);
		h->sasl_username = r->user[0] ? xstrdup(r->user) : NULL;
	}
	uint64_t f[] = { c->first_frame, r->starttls_frame, r->starttls_reply_frame,
			 r->tls.ch_frame, r->tls.sh_frame, r->auth_frame, r->auth_reply_frame };
	for (size_t i = 0; i < sizeof f / sizeof *f; i++)
		if (f[i])
			hop_add_ev(h, (struct evref){ c->file_id, (unsigned long)f[i], true });
	return m;
}
