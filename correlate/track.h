/* track.h - log correlation: evidence records in, finished messages out.
 * Inbound hops come from smtpd sessions (host, instance, pid) and Sendmail
 * receiving processes; outbound hops from the smtp/lmtp or Sendmail
 * delivering process's connection, which a TLS line opens and which ends
 * when that process talks to another relay (ARCHITECTURE.md "Correlate").
 * Messages are handed to the emit callback in the order they complete;
 * the callback owns them (message_free). */
#ifndef TW_TRACK_H
#define TW_TRACK_H
#include "../model/message.h"

/* What a message keeps of one field the log wrote (a Message-ID, an
 * address, a host name, a reply): at most a line's worth (RFC 5322 2.1.1:
 * 998 bytes), so open state costs what the traffic is, not what 64 KiB
 * lines an attacker writes are. */
#define TRACK_FIELD_MAX 998

typedef void (*message_fn)(struct message *m, void *arg);

struct tracker;

struct tracker *tracker_new(message_fn emit, void *arg);
void tracker_feed(struct tracker *t, const struct evidence *ev);
/* End of input: close open sessions, write every remaining message. */
void tracker_finish(struct tracker *t);
/* Sessions, processes and messages closed early to stay within bounds. */
unsigned long tracker_evicted(const struct tracker *t);
/* Fields longer than TRACK_FIELD_MAX bytes, cut to it. */
unsigned long tracker_cut(const struct tracker *t);
void tracker_free(struct tracker *t);

/* --state (ARCHITECTURE.md "State between runs"): everything still open
 * written to o, and read back into a tracker just made with tracker_new.
 * False when the input is damaged (in->r->error says why). */
struct msg_out;
struct msg_in;
void tracker_save(const struct tracker *t, struct msg_out *o);
bool tracker_load(struct tracker *t, struct msg_in *in);

#endif
