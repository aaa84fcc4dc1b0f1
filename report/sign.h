/* sign.h - a detached signature of a committed report (--sign KEY,
 * README "Output"): Ed25519 (RFC 8032) or RSA-PSS with SHA-256 (RFC 8017),
 * made with libcrypto so that openssl(1) verifies it. */
#ifndef TW_SIGN_H
#define TW_SIGN_H
#include "../util/buf.h"

struct sign_key;

/* The PEM private key in keyfile (Ed25519 or RSA), read once before the
 * run, so a key swapped while it runs signs nothing.  NULL with why. */
struct sign_key *sign_key_load(const char *keyfile, struct buf *why);
void sign_key_free(struct sign_key *k);
/* Sign n bytes and write the raw signature to sigpath (created 0600,
 * atomically).  False with why on error. */
bool sign_bytes(const struct sign_key *k, const unsigned char *msg, size_t n,
		const char *sigpath, struct buf *why);

#endif
