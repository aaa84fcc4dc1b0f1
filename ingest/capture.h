/* capture.h - read pcap and pcapng captures (plain or gzip) with libpcap,
 * reassemble the TCP streams of SMTP connections, and hand each finished
 * connection, with its reconstructed SMTP conversation, to a callback. */
#ifndef TW_CAPTURE_H
#define TW_CAPTURE_H
#include "retrconv.h"
#include "smtpconv.h"
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define CAP_MAX_PORTS 16
/* Stamps a capture can have: 1990-01-01 to 2099-12-31 (UTC). */
#define CAP_TS_MIN 631152000
#define CAP_TS_MAX 4102444799
#define CAP_MAX_OOO_BYTES (256 * 1024)	/* out-of-order data kept per direction */
#define CAP_MAX_OOO_TOTAL (64 * 1024 * 1024)	/* ... and over all flows */
#define CAP_MAX_FLOWS 16384	/* concurrent; past it the silent ones close */
#define CAP_IDLE (600)			/* a silent flow is closed after this */

struct smtp_connection {
	int file_id;
	int family;
	char client[64], server[64];
	uint16_t cport, sport;
	int vlan;
	time_t first_ts, last_ts;
	long first_usec, last_usec;	/* of the first and last packet */
	uint64_t first_frame, last_frame;
	bool saw_syn, saw_fin, saw_rst, mid_stream;
	unsigned long gaps, retrans;
	uint64_t gap_bytes;
	struct smtp_conv conv;
	/* An IMAP or POP3 connection (a retrieval port, or its greeting):
	 * its conversation, conv unused; NULL for SMTP and LMTP. */
	struct retr_conv *retr;
};

struct capture_stats {
	char *path;
	bool gzip, failed;
	char *error;
	const char *link;
	unsigned long packets, used, not_tcp, other_ports, truncated;
	unsigned long snapped;		/* TCP data cut by the snap length */
	unsigned long flows, flows_dropped;	/* dropped: closed early at the limit */
	unsigned long retrieval;	/* of the flows, IMAP and POP3 */
	unsigned long ooo_overflows;	/* holes given up on for lack of room */
	unsigned long bad_ts;		/* frames stamped when no capture was made */
	uint64_t bad_ts_frame;		/* ... the first of them */
	time_t first_ts, last_ts;
	char sha256[65];		/* of the bytes as stored, "" if not read whole */
	uint64_t bytes_in;
	time_t mtime;
};

typedef void (*connection_fn)(struct smtp_connection *c, void *arg);

struct capture_reader;

/* ports: the ports to follow (25, 587, 2525, 465 and the retrieval
 * ports 143, 993, 110, 995 by default); connections elsewhere are
 * followed when the server's first bytes are an SMTP banner or an IMAP
 * or POP3 greeting.  465, 993 and 995 are implicit TLS; 143 and 993 are
 * IMAP, 110 and 995 POP3, whatever the list. */
struct capture_reader *capture_new(const uint16_t *ports, size_t nports, FILE *warn,
				   connection_fn fn, void *arg);
/* Read one capture; file_id is what its evidence will name.  Returns false
 * if it could not be read (fully); the reason is in its stats. */
bool capture_read(struct capture_reader *cr, const char *path, int file_id,
		  struct capture_stats *st);
/* The same in steps, for reading a capture beside the logs: open it,
 * pump it until a packet stamped after `until` has been read (true) or
 * the end (false: its connections have all been handed over, the stats
 * are final), close it.  Closing before the end drops the connections
 * still open without handing them over. */
bool capture_open(struct capture_reader *cr, const char *path, int file_id,
		  struct capture_stats *st);
bool capture_pump(struct capture_reader *cr, time_t until);
void capture_close(struct capture_reader *cr);
/* Read at most this many frames of each file, as if it ended there: a
 * capture read again (joins) is read as far as the first read went, even
 * if it has grown since.  0: no limit. */
void capture_set_limit(struct capture_reader *cr, uint64_t frames);
/* threads > 1: read, hash and decompress on a second thread. */
void capture_set_threads(struct capture_reader *cr, int threads);
void capture_free(struct capture_reader *cr);
void capture_stats_free(struct capture_stats *st);

#endif
