/* pseudo.c - keyed pseudonyms for address local parts, HMAC-SHA-256 from
 * OpenSSL's libcrypto; the token is "u-" and the first 16 hex digits of
 * the MAC of the local part as written (case kept: RFC 5321 2.4 says local
 * parts may be case-sensitive). */
#include "pseudo.h"
#include "../util/fileid.h"
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pseudo {
	unsigned char key[256];
	size_t klen;
};

struct pseudo *pseudo_load(const char *keyfile, struct buf *why)
{
	struct pseudo *p = xcalloc(1, sizeof *p);
	if (!fileid_read_key(keyfile, NULL, p->key, sizeof p->key, &p->klen, why)) {
		pseudo_free(p);
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

static void token(const struct pseudo *p, struct buf *out, const char *local, size_t n)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;
	HMAC(EVP_sha256(), p->key, (int)p->klen, (const unsigned char *)local, n, mac, &maclen);
	buf_adds(out, "u-");
	for (unsigned i = 0; i < 8 && i < maclen; i++)
		buf_printf(out, "%02x", mac[i]);
}

/* RFC 5322 3.2.3 atext, and the dot of a dot-atom: what a local part is
 * made of where it stands unquoted in free text. */
static bool local_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+/=?^_`{|}~.-", c)) || c >= 0x80;
}

/* A domain, or an address literal's brackets and digits (RFC 5321 4.1.3). */
static bool domain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '[' || c == ']' || c == ':' || c >= 0x80;
}

/* Is one of the bare names (login names without '@') at s[i..], standing
 * alone?  Its length, or 0. */
static size_t bare_name_at(const char *s, size_t i, size_t n, const char *const *names,
			   size_t nnames)
{
	if (i > 0 && local_char((unsigned char)s[i - 1]))
		return 0;
	size_t best = 0;
	for (size_t k = 0; k < nnames; k++) {
		size_t len = strlen(names[k]);
		if (len > best && len <= n - i && memcmp(s + i, names[k], len) == 0 &&
		    (i + len == n || !local_char((unsigned char)s[i + len])))
			best = len;
	}
	return best;
}

/* "sasl_username=alice", Dovecot's "user=<alice>": a login name logged
 * after its key, found whether or not it has an '@'.  The value's length
 * (after *skip bytes of key), or 0. */
static size_t keyed_name_at(const char *s, size_t i, size_t n, size_t *skip)
{
	static const char *const keys[] = { "sasl_username=", "user=<", "user=", "authid=",
					    "auth_user=" };
	if (i > 0 && local_char((unsigned char)s[i - 1]))	/* a key begins a word */
		return 0;
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
		size_t kl = strlen(keys[k]);
		if (kl <= n - i && memcmp(s + i, keys[k], kl) == 0) {
			size_t z = i + kl;
			while (z < n && !strchr(" \t,;>)\"", s[z]))
				z++;
			*skip = kl;
			return z - i - kl;
		}
	}
	return 0;
}

void pseudo_text_add(struct buf *out_buf, const struct pseudo *p, const char *s, size_t n,
		     const char *const *names, size_t nnames)
{
	struct buf out = *out_buf;
	size_t i = 0;
	while (i < n) {
		/* an address: the local part before an '@' with a domain after it */
		size_t j = i;
		while (j < n && local_char((unsigned char)s[j]))
			j++;
		size_t z = j + 1;
		while (z < n && domain_char((unsigned char)s[z]))
			z++;
		if (j > i && j < n && s[j] == '@' && z > j + 1) {
			/* "sasl_username=jane@x", "'jane@x'": the address begins
			 * after the last '=' and any quote, so its token is the
			 * one pseudo_address gives it */
			size_t a = i;
			for (size_t k = i; k < j; k++)
				if (s[k] == '=')
					a = k + 1;
			while (a < j && (s[a] == '\'' || s[a] == '`'))
				a++;
			if (a == j) {
				buf_add(&out, s + i, j - i);
				i = j;
				continue;
			}
			buf_add(&out, s + i, a - i);
			token(p, &out, s + a, j - a);
			buf_add(&out, s + j, z - j);
			i = z;
			continue;
		}
		size_t skip = 0, keyed = keyed_name_at(s, i, n, &skip);
		if (keyed) {
			buf_add(&out, s + i, skip);
			const char *v = s + i + skip, *at = memrchr(v, '@', keyed);
			token(p, &out, v, at ? (size_t)(at - v) : keyed);
			if (at)
				buf_add(&out, at, keyed - (size_t)(at - v));
			i += skip + keyed;
			continue;
		}
		size_t bare = bare_name_at(s, i, n, names, nnames);
		if (bare) {
			token(p, &out, s + i, bare);
			i += bare;
			continue;
		}
		/* not an address: this run of local-part characters as it is */
		size_t run = j > i ? j - i : 1;
		buf_add(&out, s + i, run);
		i += run;
	}
	*out_buf = out;
}

char *pseudo_text(const struct pseudo *p, const char *s, const char *const *names, size_t nnames)
{
	if (!s)
		return NULL;
	struct buf out;
	buf_init(&out);
	pseudo_text_add(&out, p, s, strlen(s), names, nnames);
	return out.p ? out.p : xstrdup("");
}

static void replace(const struct pseudo *p, char **s)
{
	if (!*s)
		return;
	char *n = pseudo_address(p, *s, strlen(*s));
	free(*s);
	*s = n;
}

static void replace_text(const struct pseudo *p, char **s, const char *const *names, size_t nn)
{
	if (!*s)
		return;
	char *n = pseudo_text(p, *s, names, nn);
	free(*s);
	*s = n;
}

/* Login names without '@', as they are before they are replaced: found
 * again in the free text of the same message. */
struct names {
	const char *v[64];
	size_t n;
};

static void note_name(struct names *nm, const char *s)
{
	if (s && *s && !strchr(s, '@') && nm->n < sizeof nm->v / sizeof nm->v[0])
		nm->v[nm->n++] = s;
}

static void note_hop(struct names *nm, const struct hop *h)
{
	note_name(nm, h->sasl_username);
	for (size_t i = 0; i < h->ntries; i++)
		note_hop(nm, &h->tries[i]);
}

/* A hop's addresses, and every free text of it that can quote one: the
 * rule's explanation, the reply or error, the capture's conflict, the
 * basis of its TLS facts (README "Pseudonymised reports"). */
static void pseudo_hop(const struct pseudo *p, struct hop *h, const struct names *nm)
{
	replace(p, &h->rcpt);
	replace(p, &h->orig_rcpt);
	replace(p, &h->sasl_username);	/* a login name, like an address */
	replace_text(p, &h->reason, nm->v, nm->n);
	replace_text(p, &h->explain, nm->v, nm->n);
	replace_text(p, &h->status, nm->v, nm->n);
	replace_text(p, &h->conflict_detail, nm->v, nm->n);
	replace_text(p, &h->basis, nm->v, nm->n);
	replace_text(p, &h->helo, nm->v, nm->n);
	replace_text(p, &h->by, nm->v, nm->n);
	replace_text(p, &h->with, nm->v, nm->n);
	for (size_t i = 0; i < h->ntries; i++)
		pseudo_hop(p, &h->tries[i], nm);
}

void pseudo_message(const struct pseudo *p, struct message *m)
{
	struct names nm = { .n = 0 };
	note_hop(&nm, &m->inbound);
	for (size_t i = 0; i < m->ndl; i++)
		note_hop(&nm, &m->dl[i]);
	/* the names must outlive the replacing: copies */
	char *copies[64];
	for (size_t i = 0; i < nm.n; i++)
		nm.v[i] = copies[i] = xstrdup(nm.v[i]);
	replace(p, &m->from);
	replace_text(p, &m->from_raw, nm.v, nm.n);
	replace(p, &m->from_name);	/* a display name: a person's name */
	replace_text(p, &m->message_id, nm.v, nm.n);
	replace_text(p, &m->note, nm.v, nm.n);
	pseudo_hop(p, &m->inbound, &nm);
	for (size_t i = 0; i < m->ndl; i++)
		pseudo_hop(p, &m->dl[i], &nm);
	if (m->filter_hop)
		pseudo_hop(p, m->filter_hop, &nm);
	if (m->filter_return)
		pseudo_hop(p, m->filter_return, &nm);
	for (size_t i = 0; i < m->nrcpts; i++)
		replace(p, &m->rcpts[i]);
	for (size_t i = 0; i < nm.n; i++)
		free(copies[i]);
}
