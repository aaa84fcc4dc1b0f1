/* message_io.h - messages, hops and TLS facts written to and read back
 * from the state one run hands the next (--state; ARCHITECTURE.md "State
 * between runs").  Every field the correlator sets is kept; the
 * Received-header clauses and the verdicts are not (an open message has
 * neither).  Evidence references name files by the state's own numbers:
 * the writer maps a run's file id to one, the reader maps it back. */
#ifndef TW_MESSAGE_IO_H
#define TW_MESSAGE_IO_H
#include "message.h"
#include "../util/serial.h"

struct msg_out {
	struct buf *b;
	int (*file_of)(void *arg, int file_id);	/* the state's number; NULL:
						   the run's own ids (a copy
						   the run reads back itself,
						   correlate/paths.c) */
	void *arg;
};

/* The layout message_save writes; cli/statefile.c's STATE_VERSION is it.
 * Version 7 added hop.xforwarded and the hosts' LMTP TLS flag. */
#define MSG_LAYOUT_VERSION 7

struct msg_in {
	struct ser_in *r;
	const int *file_map;	/* the state's number -> this run's file id;
				   NULL: the ids as written */
	size_t nmap;
	unsigned version;	/* the state's layout version (cli/statefile.c) */
};

void evref_save(struct msg_out *o, struct evref e);
struct evref evref_load(struct msg_in *in);
void tls_state_save(struct msg_out *o, const struct tls_state *t);
/* Into t, initialised here. */
void tls_state_load(struct msg_in *in, struct tls_state *t);
void message_save(struct msg_out *o, const struct message *m);
/* NULL when the input is damaged (in->r->error says why). */
struct message *message_load(struct msg_in *in);

#endif
