/* tlsparse.h - what the cleartext part of a TLS handshake shows: offered
 * and negotiated versions, the cipher, SNI, the server certificate (TLS
 * 1.2 and older send it in clear), alerts.  Fed one direction's bytes at
 * a time; stops parsing once a direction is encrypted and only counts. */
#ifndef TW_TLSPARSE_H
#define TW_TLSPARSE_H
#include "../util/buf.h"
#include <stdint.h>
#include <time.h>

#define TLS_HS_MAX (256 * 1024)	/* largest handshake message kept */

struct tls_dir {		/* reassembly state of one direction */
	uint8_t hdr[5];
	size_t hdr_have;
	size_t rec_left;	/* bytes of the current record still to come */
	uint8_t rec_type;
	struct buf hs;		/* handshake bytes not yet parsed */
	bool encrypted;		/* past ChangeCipherSpec / TLS 1.3 ServerHello */
	bool broken;		/* not TLS: framing made no sense */
	uint64_t bytes;
};

struct tls_obs {
	struct tls_dir c, s;
	bool client_hello, server_hello, hrr;
	uint64_t ch_frame, sh_frame, cert_frame, alert_frame;
	uint16_t ch_legacy, ch_max;	/* highest offered, supported_versions first */
	uint16_t version;		/* negotiated (0 = not seen) */
	uint16_t cipher;
	uint16_t *offered;		/* cipher suites offered by the client */
	size_t noffered;
	char sni[256];
	bool have_cert, self_signed;
	char subject[256], issuer[256];
	time_t not_before, not_after;
	bool have_alert, alert_from_client;
	uint8_t alert_level, alert_desc;
	bool app_data;			/* an application-data record was seen */
};

void tls_obs_init(struct tls_obs *o);
void tls_obs_free(struct tls_obs *o);
/* Feed bytes of one direction (frame: where they began). */
void tls_feed(struct tls_obs *o, bool from_client, const uint8_t *p, size_t n,
	      uint64_t frame);
/* A hole of `bytes` in one direction's stream: counted; a handshake not
 * yet encrypted loses its record framing. */
void tls_gap(struct tls_obs *o, bool from_client, uint64_t bytes);
/* Does this look like the start of a TLS record (handshake or alert)? */
bool tls_looks_like_record(const uint8_t *p, size_t n);
/* "TLSv1.2" for 0x0303 ...; NULL for anything else. */
const char *tls_wire_version_name(uint16_t v);

#endif
