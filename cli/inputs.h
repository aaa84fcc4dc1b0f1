/* inputs.h - the INPUT operands of a run: told apart by content (logs,
 * captures, messages), a pipe copied first so detection loses nothing
 * (ingest/linesrc.h), and what each reader counted, for the per-file
 * accounting on standard error and the manifest's inputs. */
#ifndef TW_INPUTS_H
#define TW_INPUTS_H
#include "../ingest/capture.h"
#include "../ingest/detect.h"
#include "../ingest/mailfile.h"
#include "../ingest/maillog.h"
#include "../report/manifest.h"
#include "../util/fileid.h"
#include <stdio.h>

struct inputs {
	const char **files;		/* by file_id, as named on the command line */
	const char **shown;		/* ... as evidence names them (--label for "-") */
	size_t n;
	enum input_kind *kinds;		/* by file_id */
	bool *unchanged;		/* by file_id: --state, a gzip file read whole
					   by an earlier run and not read now */
	int *captures, *mails;		/* file_ids of each kind, in order */
	size_t ncaptures, nmails, nlogs;
	struct capture_stats *cst;	/* by capture index */
	struct mail_stats *mst;		/* by message-file index */
	int errors;			/* pipes that could not be copied */
	bool *hash_known;		/* by file_id, or NULL: hashed by another
					   pass (a lookup's scan): not read again */
	struct fileid *ids;		/* by file_id: a regular file's device and
					   inode when named (exists false: not one) */
};

/* Name, copy (pipes) and tell apart every operand; errors on warn.
 * Standard input ("-") is told apart by its first bytes, and copied to a
 * temporary file when it must be read more than once (a capture, or a log
 * beside captures).  label: what "-" is called in the output, or NULL. */
void inputs_classify(struct inputs *in, char **names, size_t n, const char *label,
		     FILE *warn);
void inputs_free(struct inputs *in);
/* Fill the manifest's inputs (man->in, man->nin) from what was read: the
 * logs' reader ml (its stats by file_id), the captures', the messages'.
 * An input not hashed while read is hashed now. */
void inputs_manifest(const struct inputs *in, const struct maillog *ml, struct manifest *man);
/* "tlswitness: FILE: N lines: ..." for every log. */
void inputs_report_logs(const struct maillog *ml, FILE *f);
/* "FILE: nothing in it ..." for every input read whole that gave nothing
 * (no Postfix or Sendmail line, no SMTP connection, no Received header):
 * a wrong file, /dev/null, a log of another program.  Returns how many. */
int inputs_warn_empty(const struct inputs *in, const struct maillog *ml, FILE *f);
/* The same for every message file and capture. */
void inputs_report_others(const struct inputs *in, FILE *f);

#endif
