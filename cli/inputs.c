/* inputs.c - the operands of a run and their accounting (cli/inputs.h). */
#include "inputs.h"
#include "../util/textsafe.h"
#include "../ingest/linesrc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void inputs_classify(struct inputs *in, char **names, size_t n, const char *label,
		     FILE *warn)
{
	memset(in, 0, sizeof *in);
	in->n = n;
	in->files = xcalloc(n + 1, sizeof *in->files);
	in->shown = xcalloc(n + 1, sizeof *in->shown);
	in->kinds = xcalloc(n + 1, sizeof *in->kinds);
	in->unchanged = xcalloc(n + 1, sizeof *in->unchanged);
	in->captures = xcalloc(n + 1, sizeof *in->captures);
	in->mails = xcalloc(n + 1, sizeof *in->mails);
	int stdin_at = -1;
	struct stat *ids = xcalloc(n + 1, sizeof *ids);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		/* a file named twice (or by two names) is read once */
		struct stat sb;
		bool dup = false;
		if (strcmp(names[i], "-") != 0 && stat(names[i], &sb) == 0 && S_ISREG(sb.st_mode)) {
			for (size_t k = 0; k < kept && !dup; k++)
				if (ids[k].st_dev == sb.st_dev && ids[k].st_ino == sb.st_ino &&
				    S_ISREG(ids[k].st_mode)) {
					fprintf(warn, "tlswitness: %s: the same file as %s: read once\n",
						text_shown(names[i]), text_shown(in->files[k]));
					dup = true;
				}
			if (!dup)
				ids[kept] = sb;
		}
		if (dup)
			continue;
		size_t j = kept++;
		in->files[j] = names[i];
		in->shown[j] = label && strcmp(names[i], "-") == 0 ? label : names[i];
		if (strcmp(names[i], "-") == 0)
			stdin_at = (int)j;
		/* a pipe would lose what its detection reads: copied first */
		struct buf why;
		buf_init(&why);
		if (!ls_spool_if_pipe(names[i], &why)) {
			fprintf(warn, "%s: error: %s\n", text_shown(names[i]), why.p ? why.p : "?");
			in->errors++;
		}
		buf_free(&why);
		in->kinds[j] = detect_input(names[i]);
		if (in->kinds[j] == INPUT_CAPTURE)
			in->captures[in->ncaptures++] = (int)j;
		else if (in->kinds[j] == INPUT_MESSAGE)
			in->mails[in->nmails++] = (int)j;
		else
			in->nlogs++;
	}
	in->n = kept;
	in->ids = xcalloc(kept + 1, sizeof *in->ids);
	for (size_t k = 0; k < kept; k++)
		if (S_ISREG(ids[k].st_mode))
			in->ids[k] = (struct fileid){ .dev = ids[k].st_dev, .ino = ids[k].st_ino,
						      .exists = true };
	free(ids);
	/* read more than once: its first bytes and the rest, to a file */
	if (stdin_at >= 0 && (in->kinds[stdin_at] == INPUT_CAPTURE ||
			      (in->kinds[stdin_at] == INPUT_LOG && in->ncaptures))) {
		struct buf why;
		buf_init(&why);
		if (!ls_spool_stdin(&why)) {
			fprintf(warn, "-: error: %s\n", why.p ? why.p : "?");
			in->errors++;
		}
		buf_free(&why);
	}
	in->cst = xcalloc(in->ncaptures + 1, sizeof *in->cst);
	in->mst = xcalloc(in->nmails + 1, sizeof *in->mst);
}

void inputs_free(struct inputs *in)
{
	for (size_t i = 0; i < in->nmails; i++)
		free(in->mst[i].error);
	for (size_t i = 0; i < in->ncaptures; i++)
		capture_stats_free(&in->cst[i]);
	free(in->mst);
	free(in->cst);
	free(in->mails);
	free(in->captures);
	free(in->kinds);
	free(in->unchanged);
	free(in->ids);
	free(in->shown);
	free(in->files);
}

/* What every reader's counts share in the manifest. */
static void counted(struct manifest_input *mi, const char *type, const char *unit, bool gzip,
		    bool failed, const char *error, unsigned long read, unsigned long used)
{
	mi->type = type;
	mi->unit = unit;
	mi->gzip = gzip;
	mi->failed = failed;
	mi->error = error;
	mi->read = read;
	mi->used = used;
}

/* Hashed while it was read: no second pass. */
static void hashed(struct manifest_input *mi, const char sha256[65], uint64_t size, time_t mtime)
{
	memcpy(mi->sha256, sha256, sizeof mi->sha256);
	mi->size = size;
	mi->mtime = mtime;
	mi->hashed = true;
}

void inputs_manifest(const struct inputs *in, const struct maillog *ml, struct manifest *man)
{
	man->in = xcalloc(in->n + 1, sizeof *man->in);
	man->nin = in->n;
	for (size_t i = 0; ml && i < maillog_ninputs(ml); i++) {
		const struct input_stats *st = maillog_input(ml, i);
		struct manifest_input *mi = &man->in[st->file_id];
		if (mi->type) {	/* another range of the same file (a lookup's) */
			mi->read += st->lines;
			mi->used += st->used;
			mi->skipped += st->ignored + st->malformed + st->too_long + st->duplicates;
			if (st->first_ts && (!mi->first_ts || st->first_ts < mi->first_ts))
				mi->first_ts = st->first_ts;
			if (st->last_ts > mi->last_ts)
				mi->last_ts = st->last_ts;
			mi->failed |= st->failed;
			continue;
		}
		counted(mi, "log", "lines", st->gzip, st->failed, st->error, st->lines, st->used);
		mi->first_ts = st->first_ts;
		mi->last_ts = st->last_ts;
		mi->skipped = st->ignored + st->malformed + st->too_long + st->duplicates;
		if (st->sha256[0])
			hashed(mi, st->sha256, st->bytes_in, strcmp(st->path, "-") != 0 ? st->mtime : 0);
		if (st->year_assumed)
			man->year_assumed = st->year_assumed;
		if (st->progress.resumed) {
			mi->resumed = true;
			mi->from_offset = st->progress.from.offset;
			mi->from_line = st->progress.from.lineno;
		}
	}
	for (size_t i = 0; i < in->ncaptures; i++) {
		const struct capture_stats *cs = &in->cst[i];
		struct manifest_input *mi = &man->in[in->captures[i]];
		counted(mi, "capture", "packets", cs->gzip, cs->failed, cs->error, cs->packets,
			cs->used);
		mi->first_ts = cs->first_ts;
		mi->last_ts = cs->last_ts;
		mi->skipped = cs->packets - cs->used;
		if (cs->sha256[0])
			hashed(mi, cs->sha256, cs->bytes_in, cs->mtime);
	}
	for (size_t i = 0; i < in->nmails; i++) {
		const struct mail_stats *ms = &in->mst[i];
		struct manifest_input *mi = &man->in[in->mails[i]];
		counted(mi, "message", "lines", ms->gzip, ms->failed, ms->error, ms->lines,
			ms->received);
		if (ms->sha256[0]) {
			struct stat sb;
			hashed(mi, ms->sha256, ms->bytes,
			       stat(in->files[in->mails[i]], &sb) == 0 ? sb.st_mtime : 0);
		}
	}
	for (size_t i = 0; i < man->nin; i++) {
		struct manifest_input *mi = &man->in[i];
		mi->path = in->shown[i];
		if (in->unchanged[i]) {	/* --state: read whole before, not now */
			counted(mi, "log", "lines", true, false, NULL, 0, 0);
			mi->unchanged = true;
			continue;
		}
		struct buf why;
		buf_init(&why);
		if (!mi->hashed && !(in->hash_known && in->hash_known[i]))
			mi->hashed = strcmp(in->files[i], "-") != 0 &&
				     manifest_hash_file(in->files[i], mi->sha256, &mi->size,
							&mi->mtime, &why);
		buf_free(&why);
	}
}

void inputs_report_logs(const struct maillog *ml, FILE *f)
{
	for (size_t i = 0; i < maillog_ninputs(ml); i++) {
		const struct input_stats *st = maillog_input(ml, i);
		char dup[96] = "", from[96] = "", held[96] = "";
		if (st->duplicates)
			snprintf(dup, sizeof dup, ", %lu the same as lines of another input",
				 st->duplicates);
		if (st->progress.resumed)
			snprintf(from, sizeof from, " after line %lu (read by an earlier run)",
				 st->progress.from.lineno);
		if (st->progress.held)
			snprintf(held, sizeof held, "; its last %zu bytes have no newline yet and "
				 "wait for the next run", st->progress.held);
		fprintf(f, "tlswitness: %s: %lu lines%s: %lu used, %lu ignored, "
			"%lu malformed, %lu too long%s%s%s%s\n", text_shown(st->path), st->lines, from,
			st->used, st->ignored, st->malformed, st->too_long, dup,
			st->gzip ? " (gzip)" : "",
			st->failed ? " (incomplete: see the error above)" : "", held);
	}
}

void inputs_report_others(const struct inputs *in, FILE *f)
{
	for (size_t i = 0; i < in->nmails; i++) {
		const struct mail_stats *ms = &in->mst[i];
		fprintf(f, "tlswitness: %s: %lu lines: %lu message%s, %lu Received "
			"headers%s%s\n", text_shown(in->files[in->mails[i]]), ms->lines, ms->messages,
			ms->messages == 1 ? "" : "s", ms->received, ms->gzip ? " (gzip)" : "",
			ms->failed ? " (incomplete: see the error above)" : "");
	}
	for (size_t i = 0; i < in->ncaptures; i++) {
		const struct capture_stats *cs = &in->cst[i];
		char stamps[160] = "";
		if (cs->bad_ts)
			snprintf(stamps, sizeof stamps, "; %lu frame%s stamped when no capture was "
				 "made (first: frame %llu) given the previous frame's time",
				 cs->bad_ts, cs->bad_ts == 1 ? "" : "s",
				 (unsigned long long)cs->bad_ts_frame);
		char retr[64] = "";
		if (cs->retrieval)
			snprintf(retr, sizeof retr, ", %lu IMAP and POP3", cs->retrieval);
		fprintf(f, "tlswitness: %s: %lu packets: %lu used, %lu not TCP, "
			"%lu other ports, %lu truncated; %lu cut by the snap length; "
			"%lu SMTP connections%s%s%s; %s%s%s\n",
			text_shown(cs->path), cs->packets, cs->used, cs->not_tcp, cs->other_ports,
			cs->truncated, cs->snapped, cs->flows - cs->retrieval, retr,
			cs->flows_dropped ? " (some closed early: too many at once)" : "", stamps,
			cs->link ? cs->link : "unread", cs->gzip ? " (gzip)" : "",
			cs->failed ? " (incomplete: see the error above)" : "");
	}
}

int inputs_warn_empty(const struct inputs *in, const struct maillog *ml, FILE *f)
{
	int n = 0;
	for (size_t i = 0; ml && i < maillog_ninputs(ml); i++) {
		const struct input_stats *st = maillog_input(ml, i);
		if (st->failed || st->used || st->duplicates)
			continue;
		if (st->progress.tracked && !st->lines)
			continue;	/* --state: nothing new since the last run */
		if (st->progress.ranges)
			continue;	/* a lookup read only its windows of it */
		fprintf(f, "tlswitness: %s: no Postfix or Sendmail line in it (%lu line%s read): "
			"not a mail log?\n", text_shown(in->shown[st->file_id]), st->lines,
			st->lines == 1 ? "" : "s");
		n++;
	}
	for (size_t i = 0; i < in->ncaptures; i++) {
		const struct capture_stats *cs = &in->cst[i];
		if (cs->failed || cs->flows)
			continue;
		fprintf(f, "tlswitness: %s: no SMTP connection in it (%lu packet%s read)\n",
			text_shown(in->shown[in->captures[i]]), cs->packets,
			cs->packets == 1 ? "" : "s");
		n++;
	}
	for (size_t i = 0; i < in->nmails; i++) {
		const struct mail_stats *ms = &in->mst[i];
		if (ms->failed || ms->received)
			continue;
		fprintf(f, "tlswitness: %s: no Received header in it (%lu message%s read)\n",
			text_shown(in->shown[in->mails[i]]), ms->messages,
			ms->messages == 1 ? "" : "s");
		n++;
	}
	return n;
}
