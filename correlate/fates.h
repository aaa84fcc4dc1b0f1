/* fates.h - what happened to each recipient of a queue file (README
 * "Fates, attempts and downgrades"). */
#ifndef TW_FATES_H
#define TW_FATES_H
#include "../model/message.h"

/* Regroup a correlated message's deliveries by recipient: one delivery
 * each - the attempt that carried the message, or the last one when none
 * did - with the recipient's fate and its other attempts (hop.tries).
 * A plaintext delivery after a failed handshake with the same server
 * is a downgrade.  Received-header messages are left as they are. */
void fates_settle(struct message *m);

#endif
