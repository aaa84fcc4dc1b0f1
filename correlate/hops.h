/* hops.h - a message's own story: its Received headers as hops, top (the
 * last server) to bottom (the first), classified: loopback or same host
 * (never crossed a network), internal, the boundary (the first hop from
 * the top whose client is outside the trusted networks) and below it
 * claims that cannot be verified. */
#ifndef TW_HOPS_H
#define TW_HOPS_H
#include "../ingest/mailfile.h"
#include "../model/message.h"

typedef bool (*trusted_fn)(const char *ip, void *arg);

/* A new message record (source "header") for m; trusted says whether an
 * address is inside the networks the policy trusts. */
struct message *hops_message(const struct mail_msg *m, trusted_fn trusted, void *arg);

#endif
