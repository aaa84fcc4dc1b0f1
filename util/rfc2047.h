/* rfc2047.h - decoding the encoded words of a header's display name
 * (RFC 2047: "=?charset?B?...?=" and "=?charset?Q?...?="). */
#ifndef TW_RFC2047_H
#define TW_RFC2047_H
#include "buf.h"

/* s with every encoded word decoded into UTF-8 (iconv for the charset),
 * the white space between two adjacent encoded words dropped (RFC 2047
 * section 6.2), everything else as it is; a word that cannot be decoded
 * (unknown charset, bad encoding) is kept as written.  True when
 * anything was decoded. */
bool rfc2047_decode(const char *s, struct buf *out);

#endif
