/* ciphers.h - TLS cipher suite names: the IANA registry name and, where
 * one exists, OpenSSL's (what Postfix and Sendmail log). */
#ifndef TW_CIPHERS_H
#define TW_CIPHERS_H
#include <stdint.h>

struct cipher_name {
	uint16_t id;
	const char *iana;	/* TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
	const char *openssl;	/* ECDHE-RSA-AES128-GCM-SHA256, or NULL */
};

/* NULL when the suite is not in the table. */
const struct cipher_name *cipher_lookup(uint16_t id);
/* By either name (IANA or OpenSSL, case-insensitive); NULL if unknown. */
const struct cipher_name *cipher_by_name(const char *name);

#endif
