/* logins.h - a mail client's login as a record of its own (README
 * "Retrieval"): from Dovecot's login lines or from an IMAP or POP3
 * connection in a capture.  The record is a struct message with its
 * login set and no deliveries; its inbound hop is the client's
 * connection, so the policy judges it as it judges an arrival: a login
 * without TLS is a password in clear. */
#ifndef TW_LOGINS_H
#define TW_LOGINS_H
#include "../ingest/capture.h"
#include "../model/message.h"

/* An EV_LOGIN record (ingest/dovecot.c) as a login record. */
struct message *login_from_evidence(const struct evidence *ev);
/* A capture's retrieval connection (c->retr set) as a login record. */
struct message *login_from_capture(const struct smtp_connection *c);
/* The capture's TLS facts and the basis for them, for the login record
 * and for --format events alike; status as struct login has it. */
void login_capture_facts(const struct smtp_connection *c, struct tls_state *t, char *basis,
			 size_t basislen, const char **status);

#endif
