/* sign.h - a detached signature of a committed report (--sign KEY,
 * README "Output"): Ed25519 (RFC 8032) or RSA-PSS with SHA-256 (RFC 8017),
 * made with libcrypto so that openssl(1) verifies it. */
#ifndef TW_SIGN_H
#define TW_SIGN_H
#include "../util/buf.h"

/* Sign the bytes of the file report with the PEM private key in keyfile
 * and write the raw signature to report.sig (created 0600, atomically).
 * False with why on error (the report stays as written). */
bool sign_report(const char *report, const char *keyfile, struct buf *why);
/* Can keyfile be loaded as a key sign_report takes?  (Checked before the
 * run, so a bad key costs no judging.) */
bool sign_key_ok(const char *keyfile, struct buf *why);

#endif
