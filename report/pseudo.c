/* pseudo.c - keyed pseudonyms for address local parts, HMAC-SHA-256 from
 * OpenSSL's libcrypto; the token is "u-" and the first 16 hex digits of
 * the MAC of the local part as written (case kept: RFC 5321 2.4 says local
 * parts may be case-sensitive). */
#include "pseudo.h"
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pseudo {
	unsigned char key[256];
	size_t klen;
};

struct pseudo *pseudo_load(const char *keyfile, struct buf *why)
{
	FILE *f = fopen(keyfile, "rb");
	if (!f) {
		buf_printf(why, "%s: %s", keyfile, strerror(errno));
		return NULL;
	}
	struct pseudo *p = xcalloc(1, sizeof *p);
	p->klen = fread(p->key, 1, sizeof p->key, f);
	fclose(f);
	while (p->klen && (p->key[p->klen - 1] == '\n' || p->key[p->klen - 1] == '\r'))
		p->klen--;
	if (p->klen < 16) {
		buf_printf(why, "%s: a pseudonymisation key needs at least 16 bytes", keyfile);
		free(p);
		return NULL;
	}
	return p;
}

void pseudo_free(struct pseudo *p)
{
	if (p)
		OPENSSL_cleanse(p->key, sizeof p->key);
	free(p);
}

char *pseudo_address(const struct pseudo *p, const char *addr, size_t n)
{
	struct buf out;
	buf_init(&out);
	size_t a = 0, z = n;
	if (z >= 2 && addr[0] == '<' && addr[z - 1] == '>') {
		a = 1;
		z--;
	}
	if (z == a) {	/* "<>" or empty: the null sender */
		buf_add(&out, addr, n);
		return out.p ? out.p : xstrdup("");
	}
	const char *at = NULL;
	for (size_t i = z; i > a; i--)
		if (addr[i - 1] == '@') {
			at = addr + i - 1;
			break;
		}
	size_t lend = at ? (size_t)(at - addr) : z;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;
	HMAC(EVP_sha256(), p->key, (int)p->klen, (const unsigned char *)addr + a, lend - a,
	     mac, &maclen);
	buf_add(&out, addr, a);
	buf_adds(&out, "u-");
	for (unsigned i = 0; i < 8 && i < maclen; i++)
		buf_printf(&out, "%02x", mac[i]);
	buf_add(&out, addr + lend, n - lend);
	return out.p;
}

static void replace(const struct pseudo *p, char **s)
{
	if (!*s)
		return;
	char *n = pseudo_address(p, *s, strlen(*s));
	free(*s);
	*s = n;
}

void pseudo_message(const struct pseudo *p, struct message *m)
{
	replace(p, &m->from);
	replace(p, &m->inbound.rcpt);
	replace(p, &m->inbound.sasl_username);	/* a login name, like an address */
	for (size_t i = 0; i < m->ndl; i++)
		replace(p, &m->dl[i].rcpt);
	for (size_t i = 0; i < m->nrcpts; i++)
		replace(p, &m->rcpts[i]);
}
