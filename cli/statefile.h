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
 * it holds.  NULL with why: locked by another run, damaged, foreign. */
struct state_file *state_open(const char *path, bool reset, struct buf *why);
/* The same from bytes in memory, unlocked, never written (the fuzz
 * target's way in). */
struct state_file *state_from_bytes(const void *p, size_t n, struct buf *why);
/* A journal (its input name, "journal" or "journal:PATH"): the cursor of
 * the entry the last run read it to, or NULL; then, once it is copied,
 * the cursor of the last entry copied now (NULL: none, it stays where it
 * was).  Before state_match. */
const char *state_journal_cursor(const struct state_file *s, const char *name);
void state_journal_read(struct state_file *s, const char *name, const char *last);
/* Tell this run's logs by identity; warn of a file the last run read that
 * was rotated away and is not among them.  Before state_resume_of. */
void state_match(struct state_file *s, const struct inputs *in, FILE *warn);
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
/* Write what is open in t and where every log stopped (ml), replacing
 * the file atomically.  Only after the report was committed. */
bool state_save(struct state_file *s, const struct tracker *t, const struct maillog *ml,
		const struct inputs *in, struct buf *why);
/* Unlock and free. */
void state_close(struct state_file *s);

#endif
