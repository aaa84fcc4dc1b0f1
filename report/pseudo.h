/* pseudo.h - "minimum necessary" reports (45 CFR 164.502(b)): the local
 * part of every address replaced by a keyed hash (HMAC-SHA-256, RFC 2104),
 * so the same address is always the same token but cannot be read back
 * without the key.  Domains stay: policies and TLS-RPT work on them. */
#ifndef TW_PSEUDO_H
#define TW_PSEUDO_H
#include "../model/message.h"

struct pseudo;

/* The key is the file's bytes (at least 16).  NULL with why on error. */
struct pseudo *pseudo_load(const char *keyfile, struct buf *why);
void pseudo_free(struct pseudo *p);
/* "<alice@example.org>" -> "<u-3f2a9c...@example.org>"; "<>" stays. */
char *pseudo_address(const struct pseudo *p, const char *addr, size_t n);
/* Every address of a message: from, recipients of hops and captures. */
void pseudo_message(const struct pseudo *p, struct message *m);

#endif
