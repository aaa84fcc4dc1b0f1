/* manifest.h - the evidence manifest: what was read, exactly (SHA-256 of
 * the bytes as stored), with which rules and which build, so a report can
 * be checked and regenerated years later. */
#ifndef TW_MANIFEST_H
#define TW_MANIFEST_H
#include "../util/buf.h"
#include <stdint.h>
#include <time.h>

struct manifest_input {
	const char *path;
	const char *type;		/* "log" or "capture" */
	const char *unit;		/* "lines" or "packets" */
	bool gzip, failed, hashed;
	const char *error;
	uint64_t size;
	time_t mtime, first_ts, last_ts;
	char sha256[65];
	unsigned long read, used, skipped;
	/* --state: read from this decoded offset and line on (a plain file's
	 * size and sha256 are of the bytes from there), or not read at all
	 * (a gzip file read whole by an earlier run) */
	bool resumed, unchanged;
	uint64_t from_offset;
	unsigned long from_line;
	/* a journal's: the cursors of the first and last mail entry read
	 * (journal:N is the Nth mail entry counted from the first), or NULL */
	const char *journal_first, *journal_last;
	/* ... its mail entries not written by a mail server (forged), left
	 * out: how many, and the first one's cursor */
	unsigned long journal_untrusted;
	const char *journal_untrusted_first;
};

struct manifest {
	const char *tool_version;
	char *command_line;
	char *base;			/* the working folder relative input paths
					   are named from (verify resolves them there) */
	time_t generated;
	char report_id[40];
	const char *tz;
	int year_assumed;		/* 0: no stamp needed a year */
	struct manifest_input *in;
	size_t nin;
	const char *rules_path;
	char rules_sha256[65];
	const char *policy;
	const char *const *rule_ids;
	size_t nrules;
	const char *pseudonymized;	/* "HMAC-SHA-256" or NULL */
	const char *case_id, *custodian;	/* --case, --custodian, or NULL */
	/* --state: the state file, whether its seal is keyed, and the chain:
	 * the SHA-256 of the state this run went on from and the id of the
	 * report that state belongs to (NULL: a first run) */
	const char *state_path, *state_previous_sha256, *state_previous_report;
	bool state_keyed;
	/* SHA-256 of the report's bytes written before the manifest (set by
	 * the run; NULL: not known) */
	void (*body_sha256)(void *arg, char hex[65]);
	void *body_arg;
	const char *body_known;		/* without body_sha256: the hash, found
					   already (one report, two renderings) */
};

/* SHA-256 of a file's bytes as stored, its size and modification time.
 * False (with errno-style text in why) if it cannot be read. */
bool manifest_hash_file(const char *path, char hex[65], uint64_t *size, time_t *mtime,
			struct buf *why);
void manifest_hash_bytes(const void *p, size_t n, char hex[65]);
/* A random report id (UUID version 4, RFC 9562 section 5.4). */
void manifest_new_id(char out[40]);
char *manifest_command_line(int argc, char **argv);

/* As one JSON object {"kind":"manifest",...} followed by a newline. */
void manifest_json(struct buf *b, const struct manifest *m);
/* As an indented text section. */
void manifest_text(struct buf *b, const struct manifest *m);
/* The text section, then the JSON record on one line, "  record:     {...}"
 * (every character past ASCII as \\uXXXX, so the terminal sees nothing
 * it acts on), which verify reads: a text report carries its inputs'
 * hashes. */
void manifest_text_record(struct buf *b, const struct manifest *m);
/* Both renderings at the end of an HTML report: the text in its <pre>,
 * then the JSON record as the text of a <pre id="tlswitness-manifest"
 * hidden> (no '<', '>' or '&' in it: each as \u00XX), which verify reads,
 * so an HTML report carries its inputs' hashes and still holds no script.  html_text renders a line of
 * the text section for HTML. */
void manifest_html(struct buf *b, const struct manifest *m,
		   void (*html_text)(struct buf *b, const char *text));
/* Library versions, for both renderings. */
const char *manifest_libs(void);

#endif
