/* tlsparse.c - TLS records (RFC 8446 section 5.1, RFC 5246 section 6.2)
 * and the handshake messages that travel in clear: ClientHello (section
 * 4.1.2; extensions server_name RFC 6066 and supported_versions RFC 8446
 * 4.2.1), ServerHello and HelloRetryRequest (4.1.3, 4.1.4: TLS 1.3 is
 * named by supported_versions, not legacy_version), Certificate in TLS 1.2
 * and older (RFC 5246 7.4.2; X.509 parsed with OpenSSL's libcrypto, not by
 * hand), and alerts (6).  Every read is checked against the bytes held;
 * anything that does not frame as TLS marks the direction broken.
 * Memory: the handshake buffer of each direction, at most TLS_HS_MAX. */
#include "tlsparse.h"
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#define GET16(p) ((uint16_t)((p)[0] << 8 | (p)[1]))
#define GET24(p) ((uint32_t)(p)[0] << 16 | (uint32_t)(p)[1] << 8 | (p)[2])

/* SHA-256("HelloRetryRequest"): the ServerHello.random of an HRR. */
static const uint8_t hrr_random[32] = {
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02,
	0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E,
	0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

void tls_obs_init(struct tls_obs *o)
{
	memset(o, 0, sizeof *o);
	buf_init(&o->c.hs);
	buf_init(&o->s.hs);
}

void tls_obs_free(struct tls_obs *o)
{
	buf_free(&o->c.hs);
	buf_free(&o->s.hs);
	free(o->offered);
	memset(o, 0, sizeof *o);
}

const char *tls_wire_version_name(uint16_t v)
{
	switch (v) {
	case 0x0300: return "SSLv3";
	case 0x0301: return "TLSv1";
	case 0x0302: return "TLSv1.1";
	case 0x0303: return "TLSv1.2";
	case 0x0304: return "TLSv1.3";
	default: return NULL;
	}
}

bool tls_looks_like_record(const uint8_t *p, size_t n)
{
	if (n < 3)
		return false;
	/* handshake (22) or alert (21), major version 3; SSLv2 is not SMTP */
	return (p[0] == 22 || p[0] == 21) && p[1] == 3 && p[2] <= 4;
}

/* A length-prefixed vector: *pos advances past it; false if it overruns. */
static bool vec(const uint8_t *p, size_t n, size_t *pos, int lenbytes,
		const uint8_t **v, size_t *vn)
{
	if (*pos + (size_t)lenbytes > n)
		return false;
	size_t l = lenbytes == 1 ? p[*pos] : lenbytes == 2 ? GET16(p + *pos) : GET24(p + *pos);
	*pos += (size_t)lenbytes;
	if (*pos + l > n)
		return false;
	*v = p + *pos;
	*vn = l;
	*pos += l;
	return true;
}

/* One extension (RFC 8446 4.2: type, then a 2-byte length and data). */
static bool next_ext(const uint8_t *ext, size_t extn, size_t *e, uint16_t *type,
		     const uint8_t **d, size_t *dn)
{
	if (*e + 4 > extn)
		return false;
	*type = GET16(ext + *e);
	*e += 2;
	return vec(ext, extn, e, 2, d, dn);
}

static void parse_client_hello(struct tls_obs *o, const uint8_t *p, size_t n, uint64_t frame)
{
	size_t pos = 0;
	const uint8_t *v;
	size_t vn;
	if (n < 2 + 32)
		return;
	o->client_hello = true;
	o->ch_frame = frame;
	o->ch_legacy = GET16(p);
	o->ch_max = o->ch_legacy;
	pos = 2 + 32;
	if (!vec(p, n, &pos, 1, &v, &vn))	/* session id */
		return;
	if (!vec(p, n, &pos, 2, &v, &vn))	/* cipher suites */
		return;
	free(o->offered);
	o->noffered = vn / 2;
	o->offered = xcalloc(o->noffered + 1, sizeof *o->offered);
	for (size_t i = 0; i < o->noffered; i++)
		o->offered[i] = GET16(v + 2 * i);
	if (!vec(p, n, &pos, 1, &v, &vn))	/* compression methods */
		return;
	const uint8_t *ext;
	size_t extn;
	if (!vec(p, n, &pos, 2, &ext, &extn))
		return;
	size_t e = 0;
	uint16_t type;
	const uint8_t *d;
	size_t dn;
	while (next_ext(ext, extn, &e, &type, &d, &dn)) {
		if (type == 0 && dn >= 5) {	/* server_name: list of (type, name) */
			size_t q = 2;
			if (d[q] == 0) {
				const uint8_t *nm;
				size_t nn;
				q++;
				if (vec(d, dn, &q, 2, &nm, &nn)) {
					if (nn >= sizeof o->sni)
						nn = sizeof o->sni - 1;
					memcpy(o->sni, nm, nn);
					o->sni[nn] = '\0';
				}
			}
		} else if (type == 43 && dn >= 1) {	/* supported_versions */
			size_t q = 0;
			const uint8_t *vs;
			size_t vsn;
			if (vec(d, dn, &q, 1, &vs, &vsn))
				for (size_t i = 0; i + 1 < vsn; i += 2) {
					uint16_t ver = GET16(vs + i);
					/* GREASE values (RFC 8701) end in 0x?A0x?A */
					if ((ver & 0x0f0f) == 0x0a0a)
						continue;
					if (ver > o->ch_max && ver <= 0x0304)
						o->ch_max = ver;
				}
		}
	}
}

static void parse_server_hello(struct tls_obs *o, const uint8_t *p, size_t n, uint64_t frame)
{
	if (n < 2 + 32)
		return;
	size_t pos = 2 + 32;
	const uint8_t *v;
	size_t vn;
	bool hrr = memcmp(p + 2, hrr_random, 32) == 0;
	if (hrr) {
		o->hrr = true;	/* a second ServerHello follows */
		return;
	}
	o->server_hello = true;
	o->sh_frame = frame;
	o->version = GET16(p);
	if (!vec(p, n, &pos, 1, &v, &vn) || pos + 3 > n)
		return;
	o->cipher = GET16(p + pos);
	pos += 3;	/* cipher suite, compression method */
	const uint8_t *ext;
	size_t extn;
	if (!vec(p, n, &pos, 2, &ext, &extn))
		return;
	size_t e = 0;
	uint16_t type;
	const uint8_t *d;
	size_t dn;
	while (next_ext(ext, extn, &e, &type, &d, &dn))
		if (type == 43 && dn == 2)	/* supported_versions: the real one */
			o->version = GET16(d);
}

static void name_text(X509_NAME *nm, char *out, size_t outlen)
{
	out[0] = '\0';
	if (!nm)
		return;
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return;
	X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	int n = BIO_read(b, out, (int)outlen - 1);
	out[n > 0 ? n : 0] = '\0';
	BIO_free(b);
}

static time_t asn1_time(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

/* Parsing a certificate with libcrypto costs as much as a thousand packets
 * (OpenSSL 3 decodes the public key too), and a mail server shows the same
 * few certificates to every client: remember the last CERT_CACHE ones by
 * their DER bytes.  Fixed storage, no allocation; captures are read on one
 * thread. */
#define CERT_CACHE 64
#define CERT_CACHE_DER 4096	/* larger certificates are parsed each time */

struct cert_facts {
	bool ok, self_signed;
	char subject[256], issuer[256];
	time_t not_before, not_after;
};

static struct cert_cache_entry {
	size_t n;		/* 0: empty */
	uint64_t hash;
	uint8_t der[CERT_CACHE_DER];
	struct cert_facts f;
} cert_cache[CERT_CACHE];
static unsigned cert_cache_next;

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static void cert_parse(const uint8_t *der, size_t n, struct cert_facts *f)
{
	const unsigned char *c = der;
	X509 *x = d2i_X509(NULL, &c, (long)n);
	memset(f, 0, sizeof *f);
	if (!x)
		return;
	f->ok = true;
	name_text(X509_get_subject_name(x), f->subject, sizeof f->subject);
	name_text(X509_get_issuer_name(x), f->issuer, sizeof f->issuer);
	f->not_before = asn1_time(X509_get0_notBefore(x));
	f->not_after = asn1_time(X509_get0_notAfter(x));
	f->self_signed = X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0;
	X509_free(x);
}

static const struct cert_facts *cert_lookup(const uint8_t *der, size_t n, struct cert_facts *tmp)
{
	if (n > CERT_CACHE_DER) {
		cert_parse(der, n, tmp);
		return tmp;
	}
	uint64_t h = fnv1a(der, n);
	for (unsigned i = 0; i < CERT_CACHE; i++) {
		struct cert_cache_entry *e = &cert_cache[i];
		if (e->n == n && e->hash == h && memcmp(e->der, der, n) == 0)
			return &e->f;
	}
	struct cert_cache_entry *e = &cert_cache[cert_cache_next];
	cert_cache_next = (cert_cache_next + 1) % CERT_CACHE;
	cert_parse(der, n, &e->f);
	memcpy(e->der, der, n);
	e->n = n;
	e->hash = h;
	return &e->f;
}

static void parse_certificate(struct tls_obs *o, const uint8_t *p, size_t n, uint64_t frame)
{
	size_t pos = 0;
	const uint8_t *list, *cert;
	size_t listn, certn;
	if (o->version == 0x0304)
		return;	/* TLS 1.3 sends it encrypted; this cannot be it */
	if (!vec(p, n, &pos, 3, &list, &listn))
		return;
	size_t q = 0;
	if (!vec(list, listn, &q, 3, &cert, &certn))
		return;
	struct cert_facts tmp;
	const struct cert_facts *f = cert_lookup(cert, certn, &tmp);
	if (!f->ok)
		return;
	o->have_cert = true;
	o->cert_frame = frame;
	memcpy(o->subject, f->subject, sizeof o->subject);
	memcpy(o->issuer, f->issuer, sizeof o->issuer);
	o->not_before = f->not_before;
	o->not_after = f->not_after;
	o->self_signed = f->self_signed;
}

static void handshake_messages(struct tls_obs *o, struct tls_dir *d, bool from_client,
			       uint64_t frame)
{
	size_t pos = 0;
	while (d->hs.n - pos >= 4) {
		const uint8_t *m = (const uint8_t *)d->hs.p + pos;
		uint32_t len = GET24(m + 1);
		if (len > TLS_HS_MAX) {
			d->broken = true;
			break;
		}
		if (d->hs.n - pos < 4 + (size_t)len)
			break;	/* the rest comes in a later record */
		switch (m[0]) {
		case 1:
			if (from_client)
				parse_client_hello(o, m + 4, len, frame);
			break;
		case 2:
			if (!from_client) {
				parse_server_hello(o, m + 4, len, frame);
				/* TLS 1.3: everything after ServerHello is encrypted */
				if (o->version == 0x0304)
					d->encrypted = true;
			}
			break;
		case 11:
			if (!from_client)
				parse_certificate(o, m + 4, len, frame);
			break;
		default:
			break;
		}
		pos += 4 + len;
		if (d->encrypted)
			break;
	}
	if (pos) {
		memmove(d->hs.p, d->hs.p + pos, d->hs.n - pos);
		d->hs.n -= pos;
	}
	if (d->encrypted || d->hs.n > TLS_HS_MAX)
		buf_reset(&d->hs);
}

static void record_payload(struct tls_obs *o, struct tls_dir *d, bool from_client,
			   const uint8_t *p, size_t n, uint64_t frame)
{
	switch (d->rec_type) {
	case 20:
		/* change_cipher_spec: in TLS 1.2 what follows is encrypted.
		 * TLS 1.3 middlebox compatibility (RFC 8446 D.4) sends a
		 * dummy one right after a HelloRetryRequest: the real
		 * ServerHello still follows in clear. */
		if (from_client || o->server_hello)
			d->encrypted = true;
		break;
	case 21:
		if (!d->encrypted && n >= 2 && !o->have_alert) {
			o->have_alert = true;
			o->alert_from_client = from_client;
			o->alert_level = p[0];
			o->alert_desc = p[1];
			o->alert_frame = frame;
		}
		break;
	case 22:
		if (d->encrypted)
			break;
		if (d->hs.n + n > TLS_HS_MAX) {
			buf_reset(&d->hs);
			break;
		}
		buf_add(&d->hs, p, n);
		handshake_messages(o, d, from_client, frame);
		break;
	case 23:
		o->app_data = true;
		d->encrypted = true;
		break;
	default:
		break;
	}
}

void tls_gap(struct tls_obs *o, bool from_client, uint64_t bytes)
{
	struct tls_dir *d = from_client ? &o->c : &o->s;
	if (!d->encrypted)
		d->broken = true;	/* the record framing is lost */
	d->bytes += bytes;
}

void tls_feed(struct tls_obs *o, bool from_client, const uint8_t *p, size_t n, uint64_t frame)
{
	struct tls_dir *d = from_client ? &o->c : &o->s;
	d->bytes += n;
	while (n && !d->broken) {
		if (d->rec_left == 0) {
			size_t take = 5 - d->hdr_have;
			if (take > n)
				take = n;
			memcpy(d->hdr + d->hdr_have, p, take);
			d->hdr_have += take;
			p += take;
			n -= take;
			if (d->hdr_have < 5)
				return;
			d->hdr_have = 0;
			d->rec_type = d->hdr[0];
			size_t len = GET16(d->hdr + 3);
			/* RFC 8446 5.1: content types 20-24, version 3.x, and
			 * a length of at most 2^14 + 2048 (RFC 5246 6.2.3). */
			if (d->rec_type < 20 || d->rec_type > 24 || d->hdr[1] != 3 ||
			    len > 16384 + 2048) {
				d->broken = true;
				return;
			}
			d->rec_left = len;
			if (len == 0)
				continue;
		}
		size_t take = d->rec_left < n ? d->rec_left : n;
		/* Once encrypted, records are only counted, not read. */
		if (!d->encrypted || d->rec_type == 21)
			record_payload(o, d, from_client, p, take, frame);
		else if (d->rec_type == 23)
			o->app_data = true;
		d->rec_left -= take;
		p += take;
		n -= take;
	}
}
