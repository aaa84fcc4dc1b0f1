/* tlsfacts.h - normalising what MTAs write about TLS.
 * Versions become SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 or NULL; trust
 * words and Sendmail verify= become anonymous/untrusted/trusted/verified. */
#ifndef TW_TLSFACTS_H
#define TW_TLSFACTS_H
#include "../util/buf.h"

enum tls_version { TLSV_UNKNOWN = 0, TLSV_SSL3, TLSV_1_0, TLSV_1_1, TLSV_1_2, TLSV_1_3 };
enum tls_cert { CERT_UNKNOWN = 0, CERT_ANONYMOUS, CERT_UNTRUSTED, CERT_TRUSTED, CERT_VERIFIED };

/* "TLSv1.2", "TLS1_2", "TLS1.2", "TLS12", "TLS-1.2", "SSLv3"; TLSv1/SSLv3
 * (Sendmail <= 8.14, "some SSL/TLS") and anything else is TLSV_UNKNOWN. */
enum tls_version tls_version_parse(struct span s);
const char *tls_version_name(enum tls_version v);	/* NULL for unknown */
enum tls_version tls_version_from_name(const char *s);	/* exact names only */

/* Postfix: Anonymous, Untrusted, Trusted, Verified (case-insensitive). */
enum tls_cert tls_cert_from_trust(struct span s);
/* Sendmail verify=: OK -> trusted, FAIL -> untrusted, NO/NOT -> anonymous. */
enum tls_cert tls_cert_from_verify(struct span s);
const char *tls_cert_name(enum tls_cert c);		/* NULL for unknown */
enum tls_cert tls_cert_from_name(const char *s);

#endif
