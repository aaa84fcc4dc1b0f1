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

/* A public key that checks such signatures (tlswitness verify --key,
 * tlswitness load --key): PEM, Ed25519 or RSA.  A key that cannot be used
 * - missing, not a file, a private key, not PEM - is an error, never "no
 * key": NULL with "OPTION: PATH: why" in why. */
struct sign_pub;
struct sign_pub *sign_pub_load(const char *path, const char *option, struct buf *why);
void sign_pub_free(struct sign_pub *k);
/* "Ed25519 sha256:HEX": the SHA-256 of the key's DER SubjectPublicKeyInfo
 * (openssl pkey -pubin -outform DER | sha256sum), who signed. */
const char *sign_pub_fingerprint(const struct sign_pub *k);
/* Is sig a signature of the n bytes at msg by k? */
bool sign_pub_verify(const struct sign_pub *k, const unsigned char *sig, size_t ns,
		     const unsigned char *msg, size_t n);

#endif
