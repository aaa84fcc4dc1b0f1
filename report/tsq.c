/* tsq.c - an RFC 3161 time-stamp request (report/tsq.h). */
#include "tsq.h"
#include "output.h"
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool tsq_write(const unsigned char md[32], const char *path, struct buf *why)
{
	bool ok = false;
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *imprint = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_INTEGER *nonce = NULL;
	BIGNUM *bn = BN_new();
	unsigned char *der = NULL;
	int len = 0;
	if (!req || !imprint || !alg || !bn ||
	    !X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) ||
	    !TS_MSG_IMPRINT_set_algo(imprint, alg) ||
	    !TS_MSG_IMPRINT_set_msg(imprint, (unsigned char *)md, 32) ||
	    !TS_REQ_set_version(req, 1) || !TS_REQ_set_msg_imprint(req, imprint) ||
	    /* RFC 3161 2.4.1: a 64-bit random nonce against replayed answers */
	    !BN_rand(bn, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    !(nonce = BN_to_ASN1_INTEGER(bn, NULL)) || !TS_REQ_set_nonce(req, nonce) ||
	    !TS_REQ_set_cert_req(req, 1) || (len = i2d_TS_REQ(req, &der)) <= 0) {
		buf_printf(why, "--timestamp-request: %s", ERR_error_string(ERR_get_error(), NULL));
		goto out;
	}
	ok = output_write_whole(path, (const char *)der, (size_t)len, why);
out:
	OPENSSL_free(der);
	ASN1_INTEGER_free(nonce);
	BN_free(bn);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(imprint);
	TS_REQ_free(req);
	return ok;
}
