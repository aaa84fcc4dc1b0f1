/* capconn.h - a capture's SMTP connection as messages with hops.
 * Where the conversation is plaintext, every accepted message is a record
 * with the queue ID the server named; an encrypted connection is one
 * record for the connection, since the messages inside cannot be counted
 * (README "How the TLS facts are found"). */
#ifndef TW_CAPCONN_H
#define TW_CAPCONN_H
#include "../ingest/capture.h"
#include "track.h"

/* What a ServerHello fixes: used, version, cipher, bits. */
void tls_state_from_hello(const struct tls_obs *o, struct tls_state *t);
/* What else the handshake showed in clear: the ClientHello's highest
 * version and SNI, the server's certificate (TLS 1.2 and older). */
void tls_state_from_hellos_seen(const struct tls_obs *o, struct tls_state *t);
/* The connection's TLS facts as a tls_state (used, version, cipher ...). */
void capconn_tls(const struct smtp_connection *c, struct tls_state *t, char *basis,
		 size_t basislen);
/* Emit the connection's records, in the order the messages were sent. */
void capconn_messages(const struct smtp_connection *c, message_fn emit, void *arg);

#endif
