/* sign.c - detached report signatures (sign.h).  Ed25519 signs the whole
 * message at once (RFC 8032 PureEdDSA), so it is given the report's bytes
 * as written (output.c maps its own descriptor), never a file reopened by
 * name; RSA keys sign with PSS, SHA-256 and a digest-length salt.  The key
 * is read once, before the run. */
#include "sign.h"
#include "output.h"
#include "../util/fileid.h"
#include "../util/textsafe.h"
#include <openssl/x509.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static EVP_PKEY *load_key(const char *keyfile, struct buf *why)
{
	char *pem;
	size_t n;
	if (!fileid_read_all(keyfile, "--sign", 1 << 20, &pem, &n, why))
		return NULL;
	BIO *bio = BIO_new_mem_buf(pem, (int)n);
	EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	OPENSSL_cleanse(pem, n);
	free(pem);
	if (!k) {
		buf_printf(why, "--sign: %s: not a PEM private key (Ed25519 or RSA)", keyfile);
		return NULL;
	}
	int id = EVP_PKEY_get_id(k);
	if (id != EVP_PKEY_ED25519 && id != EVP_PKEY_RSA) {
		buf_printf(why, "--sign: %s: an Ed25519 or RSA key is needed", keyfile);
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

struct sign_key *sign_key_load(const char *keyfile, struct buf *why)
{
	return (struct sign_key *)load_key(keyfile, why);
}

void sign_key_free(struct sign_key *k)
{
	EVP_PKEY_free((EVP_PKEY *)k);
}

bool sign_bytes(const struct sign_key *key, const unsigned char *msg, size_t n,
		const char *sigpath, struct buf *why)
{
	EVP_PKEY *k = (EVP_PKEY *)key;
	static const unsigned char empty[1];
	if (!n)
		msg = empty;
	unsigned char *sig = NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	bool ed = EVP_PKEY_get_id(k) == EVP_PKEY_ED25519;
	size_t slen = 0;
	if (!ctx || EVP_DigestSignInit(ctx, &pctx, ed ? NULL : EVP_sha256(), NULL, k) != 1 ||
	    (!ed && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) ||
	    EVP_DigestSign(ctx, NULL, &slen, msg, n) != 1 ||
	    !(sig = malloc(slen)) || EVP_DigestSign(ctx, sig, &slen, msg, n) != 1) {
		buf_printf(why, "--sign: signing failed: %s",
			   ERR_error_string(ERR_get_error(), NULL));
		EVP_MD_CTX_free(ctx);
		free(sig);
		return false;
	}
	EVP_MD_CTX_free(ctx);
	bool ok = output_write_whole(sigpath, (const char *)sig, slen, why);
	free(sig);
	return ok;
}

struct sign_pub {
	EVP_PKEY *k;
	char fingerprint[90];
};

struct sign_pub *sign_pub_load(const char *path, const char *option, struct buf *why)
{
	char *pem;
	size_t n;
	if (!fileid_read_all(path, option, 1 << 20, &pem, &n, why))
		return NULL;
	BIO *bio = BIO_new_mem_buf(pem, (int)n);
	EVP_PKEY *k = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	bool private = strstr(pem, "PRIVATE KEY-----") != NULL;
	OPENSSL_cleanse(pem, n);
	free(pem);
	if (!k) {
		buf_printf(why, "%s: %s: %s", option, text_shown(path), private
			   ? "is a private key: give its public key (openssl pkey -in KEY -pubout)"
			   : "not a PEM public key (openssl pkey -in KEY -pubout makes one)");
		return NULL;
	}
	int id = EVP_PKEY_get_id(k);
	if (id != EVP_PKEY_ED25519 && id != EVP_PKEY_RSA) {
		buf_printf(why, "%s: %s: an Ed25519 or RSA public key is needed", option,
			   text_shown(path));
		EVP_PKEY_free(k);
		return NULL;
	}
	struct sign_pub *p = xcalloc(1, sizeof *p);
	p->k = k;
	unsigned char *der = NULL;
	int dn = i2d_PUBKEY(k, &der);
	unsigned char md[32];
	unsigned mdn = 0;
	char hex[65] = "";
	if (dn > 0 && EVP_Digest(der, (size_t)dn, md, &mdn, EVP_sha256(), NULL) && mdn == 32)
		hex_encode(md, 32, hex);
	OPENSSL_free(der);
	snprintf(p->fingerprint, sizeof p->fingerprint, "%s sha256:%s",
		 id == EVP_PKEY_ED25519 ? "Ed25519" : "RSA", hex);
	return p;
}

void sign_pub_free(struct sign_pub *k)
{
	if (k)
		EVP_PKEY_free(k->k);
	free(k);
}

const char *sign_pub_fingerprint(const struct sign_pub *k)
{
	return k->fingerprint;
}

bool sign_pub_verify(const struct sign_pub *k, const unsigned char *sig, size_t ns,
		     const unsigned char *msg, size_t n)
{
	static const unsigned char empty[1];
	bool ed = EVP_PKEY_get_id(k->k) == EVP_PKEY_ED25519;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int rc = ctx && EVP_DigestVerifyInit(ctx, &pctx, ed ? NULL : EVP_sha256(), NULL, k->k) == 1 &&
		 (ed || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
			 EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1))
		 ? EVP_DigestVerify(ctx, sig, ns, n ? msg : empty, n) : -1;
	EVP_MD_CTX_free(ctx);
	return rc == 1;
}
