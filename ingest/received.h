/* received.h - one Received header (RFC 5321 section 4.4, RFC 5322
 * section 3.6.7) taken apart: the from, by, with, id and for clauses, the
 * client's address from the TCP-info comment, the date after the last ';'
 * outside comments, and the TLS facts each MTA writes its own way. */
#ifndef TW_RECEIVED_H
#define TW_RECEIVED_H
#include "../util/buf.h"
#include "../model/tlsfacts.h"
#include <time.h>

enum rcv_mta { RMTA_UNKNOWN, RMTA_POSTFIX, RMTA_SENDMAIL, RMTA_EXIM, RMTA_EXCHANGE,
	       RMTA_QMAIL, RMTA_GMAIL, RMTA_IRONPORT, RMTA_MIMECAST, RMTA_PROOFPOINT,
	       RMTA_OPENSMTPD, RMTA_COURIER };

struct received {
	char helo[256];		/* the from clause's name, as the client said */
	char rdns[256];		/* the receiver's name for the client */
	char ip[64];		/* the client's address, "" if none */
	char by[256];
	char with[64];		/* first word of the with clause */
	char id[128];
	char for_addr[256];
	time_t date;		/* 0 when absent or unreadable */
	enum rcv_mta mta;
	bool userid;		/* "from userid N", "invoked by uid": a local program */
	/* TLS facts */
	int used;		/* -1 unknown, 0 no, 1 yes */
	enum tls_version version;
	char version_raw[32];
	char cipher[128];
	int bits;		/* -1 unknown */
	char verify[32];	/* Sendmail verify=, Postfix certificate note */
	char basis[200];	/* which form said so */
};

/* Parse the unfolded value of one Received header (after "Received:"). */
void received_parse(const char *v, size_t n, struct received *r);
const char *rcv_mta_name(enum rcv_mta m);
/* RFC 5322 section 3.3 date-time, with the obsolete forms; 0 if not one. */
time_t rfc5322_date(const char *s, size_t n);

#endif
