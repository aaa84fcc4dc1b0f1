/* sign.c - detached report signatures (sign.h).  Ed25519 signs the whole
 * message at once (RFC 8032 PureEdDSA), so the report is mapped, not
 * streamed; RSA keys sign with PSS, SHA-256 and a digest-length salt. */
#include "sign.h"
#include "output.h"
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static EVP_PKEY *load_key(const char *keyfile, struct buf *why)
{
	FILE *f = fopen(keyfile, "r");
	if (!f) {
		buf_printf(why, "--sign: %s: %s", keyfile, strerror(errno));
		return NULL;
	}
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
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

bool sign_key_ok(const char *keyfile, struct buf *why)
{
	EVP_PKEY *k = load_key(keyfile, why);
	EVP_PKEY_free(k);
	return k != NULL;
}

bool sign_report(const char *report, const char *keyfile, struct buf *why)
{
	EVP_PKEY *k = load_key(keyfile, why);
	if (!k)
		return false;
	bool ok = false;
	unsigned char *sig = NULL;
	void *map = MAP_FAILED;
	struct stat sb;
	int fd = open(report, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) != 0) {
		buf_printf(why, "--sign: %s: %s", report, strerror(errno));
		goto out;
	}
	size_t n = (size_t)sb.st_size;
	static const unsigned char empty[1];
	const unsigned char *msg = empty;
	if (n) {
		map = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			buf_printf(why, "--sign: %s: %s", report, strerror(errno));
			goto out;
		}
		msg = map;
	}
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
		goto out;
	}
	EVP_MD_CTX_free(ctx);
	struct buf path;
	buf_init(&path);
	buf_printf(&path, "%s.sig", report);
	ok = output_write_whole(path.p, (const char *)sig, slen, why);
	buf_free(&path);
out:
	if (map != MAP_FAILED)
		munmap(map, n);
	if (fd >= 0)
		close(fd);
	free(sig);
	EVP_PKEY_free(k);
	return ok;
}
