/* tsq.h - an RFC 3161 time-stamp request for a committed report
 * (--timestamp-request, README "Integrity"): a TimeStampReq (RFC 3161
 * 2.4.1) over the SHA-256 of the report file's bytes, with a random nonce
 * and certReq set, DER-encoded by libcrypto's TS functions, so that
 * "openssl ts -query -in FILE -text" reads it and any RFC 3161 authority
 * answers it ("openssl ts -reply", or curl to a TSA).  The answer is
 * checked against the report with "openssl ts -verify -data REPORT". */
#ifndef TW_TSQ_H
#define TW_TSQ_H
#include "../util/buf.h"

/* Write the request for a report whose SHA-256 is md (of the bytes as
 * written: report/output.h output_close_sealed) to path (0600,
 * atomically).  False with why on error. */
bool tsq_write(const unsigned char md[32], const char *path, struct buf *why);

#endif
