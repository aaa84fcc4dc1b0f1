/* textsafe.h - making attacker-controlled bytes safe to print: hostnames,
 * addresses, message IDs and file names come from the network or from
 * whoever could write to a log directory; they may hold terminal escapes,
 * newlines, invalid UTF-8 or text-direction overrides. */
#ifndef TW_TEXTSAFE_H
#define TW_TEXTSAFE_H
#include "buf.h"

/* Text for a terminal: control characters, DEL, C1 controls and invalid
 * UTF-8 become \xNN; bidirectional controls and U+2028/U+2029 become
 * \uNNNN; so no byte of the evidence can move the cursor, change colours,
 * start a line or reorder what is shown.  NULL writes "-". */
void text_safe(struct buf *b, const char *s);
/* s as text_safe would write it, for a message on standard error: s
 * itself when nothing needs escaping, else an escaped copy kept to the end
 * of the run (at most 4,096 of them).  Safe from any thread. */
const char *text_shown(const char *s);
/* Length of the valid UTF-8 sequence at p (1-4), or 0 if invalid. */
size_t utf8_len(const unsigned char *p, size_t avail);

#endif
