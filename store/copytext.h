/* copytext.h - one JSON Lines record as a row of PostgreSQL's COPY text
 * format (README "The evidence store"). */
#ifndef TW_COPYTEXT_H
#define TW_COPYTEXT_H
#include "../util/buf.h"

/* Append "LINE<TAB>RECORD\n" to b: the record's backslashes, tabs, CRs
 * and newlines escaped as COPY's text format wants (PostgreSQL docs, COPY
 * "Text Format"), and a JSON \u0000 escape, which jsonb cannot hold,
 * written as \ufffd.  Returns how many \u0000 escapes were replaced. */
unsigned copytext_row(struct buf *b, unsigned long long line, const char *rec, size_t n);

#endif
