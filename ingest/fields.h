/* fields.h - small scanners shared by the Postfix and Sendmail parsers:
 * "key=value, key=value" lists, NAME[ADDR]:PORT peers, queue IDs. */
#ifndef TW_FIELDS_H
#define TW_FIELDS_H
#include "../model/evidence.h"	/* enum ev_mta */
#include "../util/buf.h"

/* Iterate "k=v, k=v" items.  A value starting with '<' runs to its '>'
 * (addresses may hold ", "); the key named last_key takes the rest. */
struct kv_iter {
	struct span rest;
	const char *last_key;
};
void kv_begin(struct kv_iter *it, struct span s, const char *last_key);
bool kv_next(struct kv_iter *it, struct span *key, struct span *val);

/* Postfix "NAME[ADDR]" or "NAME[ADDR]:PORT" (RFC 5321 address literals
 * keep their brackets in the name part only).  Port -1 when absent. */
bool peer_parse(struct span s, struct span *name, struct span *addr, int *port);
/* Sendmail "NAME [ADDR]" or "[ADDR]", optionally "(may be forged)". */
bool sm_relay_parse(struct span s, struct span *name, struct span *addr);

/* A queue ID at the start of msg followed by ": "; sets *qid and returns
 * the text after it.  NOQUEUE gives an empty qid.  Postfix short IDs are
 * hex, long ones (enable_long_queue_ids) base 52 with a 'z' separator;
 * Sendmail's are 14 base-60 characters. */
bool qid_split(struct span msg, struct span *qid, struct span *rest);

/* Is qid of a form its MTA writes?  Postfix: short IDs, 6 to 16 upper-case
 * hex digits (src/global/mail_queue.h); long IDs, 12 to 24 characters of
 * digits and consonants with one 'z' between the time and the inode
 * (enable_long_queue_ids).  Sendmail: 14 letters and digits
 * (sendmail/queue.c, assign_queueid).  MTA_UNKNOWN: any of these. */
bool qid_of_form(struct span qid, enum ev_mta mta);

/* "queued as X" (Postfix, RFC 3030 BDAT too), "X Message accepted for
 * delivery" (Sendmail), "ok id=X" is not taken (Exim ids are not queue
 * IDs we can join on). */
struct span reply_next_qid(struct span reply);

/* Text between the first '(' at or after off and its matching ')'. */
struct span paren_text(struct span s);
/* "TLSv1.3 with cipher NAME ..." (Postfix's TLS lines, Dovecot's %k):
 * the version before " with cipher " and the cipher name after it, up to
 * a blank; *tail the rest after the name.  False without " with cipher ". */
bool tls_with_cipher(struct span s, struct span *version, struct span *cipher,
		     struct span *tail);

#endif
