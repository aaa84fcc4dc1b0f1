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
/* Free text (a reply, an explanation, a Message-ID, a quoted log line)
 * with the local part of every address in it replaced as pseudo_address
 * replaces it (the same key, the same token), and every one of names (the
 * login names without '@' of the same message) standing alone replaced by
 * its token too.  A new string; NULL for NULL. */
char *pseudo_text(const struct pseudo *p, const char *s, const char *const *names, size_t nnames);
/* The same for n bytes of s, appended to out.  A login name logged after
 * its key ("sasl_username=alice", Dovecot's "user=<alice>") is replaced
 * too, with or without an '@'. */
void pseudo_text_add(struct buf *out, const struct pseudo *p, const char *s, size_t n,
		     const char *const *names, size_t nnames);
/* Every address of a message, and every free text that can quote one:
 * from, the display name, the Message-ID, recipients, login names, each
 * hop's reply, explanation, conflict and basis, Received clauses. */
void pseudo_message(const struct pseudo *p, struct message *m);

#endif
