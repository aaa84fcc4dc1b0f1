/* options.h - the command line of a run, parsed into one struct
 * (README "Usage").  Every value is checked here; a bad one is reported on
 * standard error and gives exit status 2. */
#ifndef TW_OPTIONS_H
#define TW_OPTIONS_H
#include "../ingest/capture.h"
#include "../ingest/journal.h"
#include "select.h"
#include "../report/writer.h"

#define OPT_MAX_JOURNALS 64

struct options {
	const struct writer_class *writer;	/* --format or --policy-map */
	const char *rules_path;		/* --rules, NULL: the built-in policy */
	const char *tz_spec;		/* --tz, NULL: this machine's zone */
	const char *out_path;		/* -o, NULL: standard output */
	const char *manifest_path;	/* --manifest */
	const char *keyfile;		/* --pseudonymize */
	const char *sign_key;		/* --sign: a PEM private key */
	const char *policy_table;	/* --policy-table: the MTA's TLS policy source */
	const char *tsq_path;		/* --timestamp-request: RFC 3161 TimeStampReq */
	long max_findings;		/* --max-findings: rows an audit group lists, 0 default */
	const char *org, *contact;	/* TLS-RPT */
	const char *label;		/* --label: the name standard input goes by */
	const char *case_id, *custodian;	/* --case, --custodian: in the manifest */
	struct selection select;	/* --message-id, --rcpt, --since ... */
	int year;			/* --year, 0: inferred */
	bool quiet;
	bool strict_inputs;		/* an input with nothing in it is an error */
	const char *state_path;		/* --state: what the last run left open */
	bool state_reset;		/* --state-reset: start it over */
	bool state_close;		/* --state-close: write what is open too */
	const char *state_key;		/* --state-key: the state's HMAC key */
	bool full_read;			/* --full-read: no lookup's fast path */
	uint16_t ports[CAP_MAX_PORTS];	/* --ports; nports 0: the defaults */
	size_t nports;
	long skew, skew_max;
	bool skew_given;
	int threads;
	int fail_verdict, fail_severity;	/* --fail-on; -1: not set */
	const char *fail_on;		/* ... as given */
	/* --journal, --journal-file FILE, --journal-dir DIR, in order */
	struct { enum journal_kind kind; const char *path; } journals[OPT_MAX_JOURNALS];
	size_t njournals;
	char **inputs;			/* the INPUT operands, from argv */
	size_t ninputs;
	int argc;			/* the whole command line, for the manifest */
	char **argv;
};

/* Parse argv into o.  Returns -1 to run, or the exit status to leave with
 * at once (0 after --help or --version, 2 after an error). */
int options_parse(struct options *o, int argc, char **argv);
/* Would a message of this verdict and severity fail the run (--fail-on)? */
bool options_fails(const struct options *o, const char *verdict, const char *severity);

#endif
