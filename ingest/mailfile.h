/* mailfile.h - messages from a raw message (.eml), a file of headers only,
 * or an mbox (many messages, "From " separator lines, streamed); plain or
 * gzip.  Headers are unfolded (RFC 5322 2.2.3) and handed over with the
 * line each one starts on. */
#ifndef TW_MAILFILE_H
#define TW_MAILFILE_H
#include "received.h"
#include <stdint.h>
#include <stdio.h>

#define MAIL_MAX_HEADER (1024 * 1024)	/* a longer header is cut and counted */
#define MAIL_MAX_RECEIVED 128		/* Received headers kept per message */

struct mail_hop {
	struct received r;
	unsigned long line;
};

struct mail_msg {
	int file_id;
	unsigned long line;		/* where the message starts */
	char message_id[512], from[512], date_hdr[128];
	struct mail_hop *hops;
	size_t nhops;
	unsigned long hops_dropped;
	bool truncated;			/* the file ended inside its headers */
};

struct mail_stats {
	unsigned long lines, messages, received, headers_cut;
	bool failed, gzip;
	char *error;
	time_t first_ts, last_ts;
	char sha256[65];	/* of the bytes read, when read to the end */
	uint64_t bytes;
};

typedef void (*mail_fn)(const struct mail_msg *m, void *arg);

/* Does this file's start look like a message or an mbox? */
bool mail_looks_like(const char *first_line, size_t n);
/* Read one file; every message goes to fn.  False if it could not be read. */
bool mail_read(const char *path, int file_id, FILE *warn, mail_fn fn, void *arg,
	       struct mail_stats *st);

#endif
