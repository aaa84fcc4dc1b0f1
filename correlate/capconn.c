/* capconn.c - turn a reconstructed SMTP conversation into message records.
 * tls.used: true when a ServerHello was seen (STARTTLS or implicit TLS);
 * false for a plaintext conversation; unknown when a handshake began but
 * the capture shows no ServerHello.  tls.stripped: true when a middlebox
 * rewrote the STARTTLS capability (XXXXXXXA) or the server refused the
 * client's STARTTLS (454/500/501); false when TLS was used or nothing in
 * the capture suggests interference.  Memory: records are new; the
 * callback owns them. */
#include "capconn.h"
#include "../util/addr.h"
#include "../util/intern.h"
#include "../model/ciphers.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Key bits of a suite from its IANA name (RFC 8446 B.4, RFC 5246 A.5). */
static int suite_bits(const char *iana)
{
	if (!iana)
		return -1;
	if (strstr(iana, "_NULL_") || strstr(iana, "WITH_NULL"))
		return 0;
	if (strstr(iana, "_40_") || strstr(iana, "DES40"))
		return 40;
	if (strstr(iana, "3DES"))
		return 112;	/* 168-bit key, 112 bits of strength */
	if (strstr(iana, "_DES_"))
		return 56;
	if (strstr(iana, "_256") || strstr(iana, "CHACHA20"))
		return 256;
	if (strstr(iana, "_128"))
		return 128;
	return -1;
}

/* "0x" and four hex digits, as "%#06x" would write them: once a
 * connection, so without printf. */
static void hex16(char out[7], unsigned v, const char *digits)
{
	out[0] = '0';
	out[1] = 'x';
	for (int i = 0; i < 4; i++)
		out[2 + i] = digits[(v >> (12 - 4 * i)) & 0xf];
	out[6] = '\0';
}

void tls_state_from_hello(const struct tls_obs *o, struct tls_state *t)
{
	t->used = TRI_YES;
	t->stripped = TRI_NO;
	const char *vn = tls_wire_version_name(o->version);
	t->version = vn ? tls_version_from_name(vn) : TLSV_UNKNOWN;
	char raw[7];
	hex16(raw, o->version, "0123456789abcdef");
	t->version_raw = intern_str(raw);
	const struct cipher_name *cn = cipher_lookup(o->cipher);
	char hex[7];
	if (!cn)
		hex16(hex, o->cipher, "0123456789ABCDEF");
	t->cipher = intern_str(cn ? cn->iana : hex);
	t->cipher_openssl = cn ? intern_str(cn->openssl) : NULL;
	t->bits = t->alg_bits = suite_bits(cn ? cn->iana : NULL);
	if (t->bits < 0)
		t->alg_bits = -1;
}

void tls_state_from_hellos_seen(const struct tls_obs *o, struct tls_state *t)
{
	if (o->client_hello) {
		const char *mx = tls_wire_version_name(o->ch_max);
		t->offered_max = intern_str(mx);
		t->sni = o->sni[0] ? xstrdup(o->sni) : NULL;
	}
	if (o->have_cert) {
		t->cert_subject = xstrdup(o->subject);
		t->cert_issuer = xstrdup(o->issuer);
		t->cert_not_before = o->not_before;
		t->cert_not_after = o->not_after;
		t->cert_self_signed = o->self_signed ? TRI_YES : TRI_NO;
	}
}

void capconn_tls(const struct smtp_connection *c, struct tls_state *t, char *basis,
		 size_t basislen)
{
	const struct smtp_conv *s = &c->conv;
	const struct tls_obs *o = &s->tls;
	tls_state_free(t);
	bool tried = s->tls_c || s->tls_s || o->client_hello;
	/* What the server offered, as far as the capture shows it */
	if (s->starttls_offered || s->cap_rewritten || s->starttls == STLS_ACCEPTED ||
	    s->implicit_tls || o->server_hello)
		t->offered = TRI_YES;
	else if (s->ehlo_replied)
		t->offered = TRI_NO;
	if (o->server_hello) {
		tls_state_from_hello(o, t);
		const char *vn = tls_wire_version_name(o->version);
		/* The common case, once a connection: put together without printf,
		 * then cut to basislen as snprintf would. */
		char raw[7];
		hex16(raw, o->version, "0123456789abcdef");
		struct buf b;
		buf_init(&b);
		buf_adds(&b, s->implicit_tls ? "implicit TLS" : "STARTTLS");
		buf_adds(&b, " in the capture: ServerHello (frame ");
		buf_addlong(&b, (long)o->sh_frame);
		buf_adds(&b, ") chose ");
		buf_adds(&b, vn ? vn : raw);
		buf_addc(&b, ' ');
		buf_adds(&b, t->cipher ? t->cipher : "(null)");
		if (basislen) {
			size_t n = b.n < basislen ? b.n : basislen - 1;
			memcpy(basis, b.p, n);
			basis[n] = '\0';
		}
		buf_free(&b);
	} else if (tried) {
		t->used = TRI_UNKNOWN;
		snprintf(basis, basislen, "a TLS handshake began (ClientHello%s) but the capture "
			 "holds no ServerHello: it failed or the capture is cut",
			 o->client_hello ? "" : " not seen");
	} else if (s->starttls == STLS_ACCEPTED) {
		t->used = TRI_UNKNOWN;
		snprintf(basis, basislen, "STARTTLS was accepted (220, frame %llu) but the "
			 "capture holds no TLS handshake after it",
			 (unsigned long long)s->starttls_reply_frame);
	} else {
		t->used = TRI_NO;
		if (s->cap_rewritten) {
			t->stripped = TRI_YES;
			t->downgrade = DOWNGRADE_STRIPPED;
			snprintf(basis, basislen, "plaintext SMTP: the server's STARTTLS capability "
				 "arrived rewritten to %s (frame %llu), a middlebox downgrade",
				 s->cap_rewrite, (unsigned long long)s->cap_frame);
		} else if (s->starttls == STLS_REFUSED) {
			t->stripped = TRI_YES;
			t->downgrade = DOWNGRADE_REFUSED;
			snprintf(basis, basislen, "plaintext SMTP: STARTTLS was refused with %d "
				 "(frame %llu)", s->starttls_code,
				 (unsigned long long)s->starttls_reply_frame);
		} else {
			t->stripped = TRI_NO;
			if (smtp_client_side_only(s))
				snprintf(basis, basislen, "plaintext SMTP from the client in the "
					 "capture, which holds the client's side only (%lu commands, no "
					 "byte from the server)", s->commands);
			else
				snprintf(basis, basislen, "plaintext SMTP in the capture: %s",
					 s->starttls_offered ? "STARTTLS was offered but not used"
					 : s->ehlo_replied ? "the server did not offer STARTTLS"
					 : s->ehlo_name ? "EHLO was sent, its reply is not in the capture"
					 : "no EHLO exchange was seen");
		}
	}
	tls_state_from_hellos_seen(o, t);
}

static struct message *record(const struct smtp_connection *c, const char *qid)
{
	struct span host = span_from(c->server);
	struct message *m = message_new(host, SPAN_NULL, span_from(qid), MTA_UNKNOWN,
					c->first_ts);
	m->last_seen = c->last_ts;
	m->complete = false;
	m->has_inbound = true;
	struct hop *h = &m->inbound;
	h->source = SRC_PCAP;
	h->peer_ip = xstrdup(c->client);
	h->peer_port = c->cport;
	h->ts = c->first_ts;
	h->network = !addr_is_loopback(c->client);
	return m;
}

static void frames(struct hop *h, const struct smtp_connection *c, uint64_t a, uint64_t b)
{
	const struct smtp_conv *s = &c->conv;
	uint64_t f[] = { c->first_frame, s->cap_frame, s->starttls_frame,
			 s->starttls_reply_frame, s->tls.ch_frame, s->tls.sh_frame,
			 s->tls.cert_frame, a, b };
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if (f[i])
			hop_add_ev(h, (struct evref){ c->file_id, (unsigned long)f[i], true });
}

void capconn_messages(const struct smtp_connection *c, message_fn emit, void *arg)
{
	const struct smtp_conv *s = &c->conv;
	struct tls_state t;
	char basis[300];
	tls_state_init(&t);
	capconn_tls(c, &t, basis, sizeof basis);
	for (size_t i = 0; i < s->nmsgs; i++) {
		const struct smtp_msg *sm = &s->msgs[i];
		if (sm->in_tls)
			continue;
		struct message *m = record(c, sm->qid);
		if (sm->unanswered)
			m->note = xstrdup("seen from the client's side only: the message was sent; "
					  "whether the server accepted it is not in the capture");
		m->first_seen = sm->ts ? sm->ts : c->first_ts;
		m->from = xstrdup_or_null(sm->from);
		m->message_id = xstrdup_or_null(sm->message_id);
		m->nrcpt = (int)sm->nrcpt;
		m->nrcpts = sm->nrcpt;
		m->rcpts = xcalloc(sm->nrcpt + 1, sizeof *m->rcpts);
		for (size_t r = 0; r < sm->nrcpt; r++)
			m->rcpts[r] = xstrdup(sm->rcpts[r]);
		struct hop *h = &m->inbound;
		tls_state_copy(&h->tls, &t);
		/* A message sent before STARTTLS, or with no TLS at all. */
		if (h->tls.used == TRI_YES) {
			tls_state_free(&h->tls);
			h->tls.used = TRI_NO;
			h->tls.stripped = TRI_NO;
			hop_set_basis(h, "sent in plaintext before STARTTLS on this connection");
		} else {
			hop_set_basis(h, basis);
		}
		frames(h, c, sm->first_frame, sm->end_frame);
		emit(m, arg);
	}
	bool tls = t.used != TRI_NO || s->tls_c || s->tls_s;
	if (tls) {
		struct message *m = record(c, NULL);
		m->per_connection = true;
		m->note = xstrdup(t.used == TRI_YES
			? "encrypted connection: the messages inside cannot be seen or counted"
			: "TLS handshake without a ServerHello: whether any message was sent is unknown");
		tls_state_copy(&m->inbound.tls, &t);
		hop_set_basis(&m->inbound, basis);
		frames(&m->inbound, c, 0, 0);
		emit(m, arg);
	}
	tls_state_free(&t);
}
