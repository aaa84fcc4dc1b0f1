/* tlsfacts.c - normalising TLS versions and certificate trust words.
 * Postfix trust words: src/tls/tls_client.c and tls_server.c (2.5+);
 * Sendmail ${verify} values: sendmail/tls.c (tls_get_info). */
#include "tlsfacts.h"
#include <ctype.h>
#include <string.h>
#include <strings.h>

static const char *const version_names[] = {
	[TLSV_UNKNOWN] = NULL, [TLSV_SSL3] = "SSLv3", [TLSV_1_0] = "TLSv1",
	[TLSV_1_1] = "TLSv1.1", [TLSV_1_2] = "TLSv1.2", [TLSV_1_3] = "TLSv1.3",
};

enum tls_version tls_version_parse(struct span s)
{
	s = span_trim(s);
	if (s.n < 4 || s.n > 16 || memchr(s.p, '/', s.n))
		return TLSV_UNKNOWN;
	bool ssl;
	if (strncasecmp(s.p, "TLS", 3) == 0)
		ssl = false;
	else if (strncasecmp(s.p, "SSL", 3) == 0)
		ssl = true;
	else
		return TLSV_UNKNOWN;
	/* Collect the digits after the prefix; separators v _ . - are noise. */
	char d[4];
	size_t nd = 0;
	for (size_t i = 3; i < s.n; i++) {
		char c = s.p[i];
		if (isdigit((unsigned char)c)) {
			if (nd == sizeof d)
				return TLSV_UNKNOWN;
			d[nd++] = c;
		} else if (!(c == 'v' || c == 'V' || c == '_' || c == '.' || c == '-')) {
			return TLSV_UNKNOWN;
		}
	}
	if (ssl)
		return (nd == 1 && d[0] == '3') ? TLSV_SSL3 : TLSV_UNKNOWN;
	if (nd == 0 || d[0] != '1')
		return TLSV_UNKNOWN;
	if (nd == 1 || (nd == 2 && d[1] == '0'))
		return TLSV_1_0;
	if (nd != 2)
		return TLSV_UNKNOWN;
	switch (d[1]) {
	case '1': return TLSV_1_1;
	case '2': return TLSV_1_2;
	case '3': return TLSV_1_3;
	default: return TLSV_UNKNOWN;
	}
}

const char *tls_version_name(enum tls_version v)
{
	return (unsigned)v <= TLSV_1_3 ? version_names[v] : NULL;
}

enum tls_version tls_version_from_name(const char *s)
{
	for (int v = TLSV_SSL3; v <= TLSV_1_3; v++)
		if (strcmp(s, version_names[v]) == 0)
			return (enum tls_version)v;
	return TLSV_UNKNOWN;
}

static const char *const cert_names[] = {
	[CERT_UNKNOWN] = NULL, [CERT_ANONYMOUS] = "anonymous",
	[CERT_UNTRUSTED] = "untrusted", [CERT_TRUSTED] = "trusted",
	[CERT_VERIFIED] = "verified",
};

enum tls_cert tls_cert_from_trust(struct span s)
{
	for (int c = CERT_ANONYMOUS; c <= CERT_VERIFIED; c++)
		if (span_eqi(s, cert_names[c]))
			return (enum tls_cert)c;
	return CERT_UNKNOWN;
}

enum tls_cert tls_cert_from_verify(struct span s)
{
	if (span_eq(s, "OK"))
		return CERT_TRUSTED;
	if (span_eq(s, "FAIL"))
		return CERT_UNTRUSTED;
	if (span_eq(s, "NO") || span_eq(s, "NOT"))
		return CERT_ANONYMOUS;
	return CERT_UNKNOWN;	/* TEMP, PROTOCOL, SOFTWARE, NONE: kept raw */
}

const char *tls_cert_name(enum tls_cert c)
{
	return (unsigned)c <= CERT_VERIFIED ? cert_names[c] : NULL;
}

enum tls_cert tls_cert_from_name(const char *s)
{
	for (int c = CERT_ANONYMOUS; c <= CERT_VERIFIED; c++)
		if (strcmp(s, cert_names[c]) == 0)
			return (enum tls_cert)c;
	return CERT_UNKNOWN;
}
