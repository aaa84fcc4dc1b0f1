/* statefile.h - what one run hands the next (--state FILE; README "Nightly
 * sweeps", ARCHITECTURE.md "State between runs"): where each log was read
 * to, the files known by identity (device and inode, and a hash of their
 * first bytes, so a renamed, copied or compressed file is known again),
 * and the tracker's open state, so a message that spans two runs is
 * judged once, in the run in which it completes.  The file is versioned,
 * ends with a SHA-256 of its bytes, is written 0600 and atomically, and
 * is locked while a run uses it. */
#ifndef TW_STATEFILE_H
#define TW_STATEFILE_H
#include "inputs.h"
#include "../ingest/maillog.h"
#include "../util/buf.h"
#include <stdio.h>

struct tracker;
struct state_file;

/* Lock and read path (absent: a first run).  reset: start over, whatever
 * it holds.  keyfile (--state-key, or NULL): the seal is HMAC-SHA-256
 * with its bytes, and a state not sealed with it is refused.  A pending
 * state a stopped run left is taken up or dropped first, said on say.
 * NULL with why: locked by another run, damaged, foreign, another user's
 * or writable by others, sealed otherwise. */
struct state_file *state_open(const char *path, bool reset, const char *keyfile, FILE *say,
			      struct buf *why);
/* The same from bytes in memory, unlocked, never written (the fuzz
 * target's way in). */
struct state_file *state_from_bytes(const void *p, size_t n, struct buf *why);
/* A journal (its input name, "journal" or "journal:PATH"): the cursor of
 * the entry the last run read it to, or NULL; then, once it is copied,
 * the cursor of the last entry copied now (NULL: none, it stays where it
 * was).  Before state_match. */
const char *state_journal_cursor(const struct state_file *s, const char *name);
void state_journal_read(struct state_file *s, const char *name, const char *last);
/* Tell this run's logs by identity; say each file the last run read that
 * was rotated away and whose rotated copy is not among them, and (as an
 * error) each that was cut short by copytruncate with its copy not among
 * them.  Before state_resume_of.  The number of such losses, or -1
 * with why when the state was written for other logs (none of their
 * folders is this run's). */
int state_match(struct state_file *s, const struct inputs *in, FILE *warn, struct buf *why);
/* Where the log of this file id goes on from, or NULL: from its start. */
const struct ml_resume *state_resume_of(const struct state_file *s, int file_id);
/* A gzip file an earlier run read to its end, unchanged since (size and
 * mtime): not read at all. */
bool state_unchanged(const struct state_file *s, int file_id);
/* Files of earlier runs that open state's evidence names and that are
 * not among this run's inputs: evidence ids in->n .. in->n + n - 1. */
size_t state_nghosts(const struct state_file *s);
const char *state_ghost_name(const struct state_file *s, size_t i);
/* The open state into t (just made); false with why when damaged. */
bool state_load_tracker(struct state_file *s, struct tracker *t, struct buf *why);
/* The report a state belongs to: its manifest's id, and, for a report
 * written to a file, its absolute path and SHA-256. */
struct state_report {
	const char *id, *path;
	unsigned char sha256[32];
	bool have_sha;
};
/* Write what is open in t and where every log stopped (ml) to FILE.pending
 * (atomically), naming the report it belongs to: before the report is
 * renamed into place.  state_commit then puts it in place. */
bool state_save(struct state_file *s, const struct tracker *t, const struct maillog *ml,
		const struct inputs *in, const struct state_report *rep, struct buf *why);
/* The saved state over FILE, once the report is in place. */
bool state_commit(struct state_file *s, struct buf *why);
/* The saved state dropped: the report could not be put in place. */
void state_discard(struct state_file *s);
/* The chain, for the manifest: the SHA-256 of the state this run read
 * (NULL: none, a first run or --state-reset), the id of the report that
 * state belongs to (NULL: none), and whether it is keyed. */
const char *state_previous_sha256(const struct state_file *s, char hex[65]);
const char *state_previous_report(const struct state_file *s);
/* Where that report was written (absolute), or NULL: standard output, or
 * a first run. */
const char *state_previous_report_path(const struct state_file *s);
bool state_keyed(const struct state_file *s);
/* Unlock and free. */
void state_close(struct state_file *s);

#endif
