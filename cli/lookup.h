/* lookup.h - one question answered fast (README "Selecting messages", the
 * fast path; ARCHITECTURE.md "Lookups"): for --message-id, --queue-id,
 * --rcpt and --from, a first pass finds the lines naming a needle at
 * memmem speed (ingest/scan.c) and the windows of time around them; the
 * run then reads and correlates those windows only.  A dry run over the
 * windows shows what a selected message lacks - its start, its end, the
 * TLS lines of its host, a handshake failure to its relay before them -
 * and the windows widen until nothing is lacking, or the run reads
 * everything after all.  The records are those a full run would select. */
#ifndef TW_LOOKUP_H
#define TW_LOOKUP_H
#include "inputs.h"
#include "options.h"
#include "../ingest/maillog.h"
#include "../report/manifest.h"

struct lookup;

/* NULL when this run is not a lookup the fast path serves (no needle,
 * --full-read, an input other than a log file, --state ...). */
struct lookup *lookup_new(const struct options *o, const struct inputs *in,
			  struct tzconf *tz);
/* The first pass over every log.  False: read everything (an input could
 * not be scanned whole, or no line named a needle). */
bool lookup_scan(struct lookup *lk);
/* Give ml the byte ranges and windows of the next read. */
void lookup_add_ranges(struct lookup *lk, struct maillog *ml);
/* After a dry read: what a selected message (judged) lacks, noted. */
void lookup_check(struct lookup *lk, const struct message *m);
/* Widen the windows for what was noted; false when nothing was (the
 * windows are enough) or when reading everything is as cheap (then
 * lookup_everything says so). */
bool lookup_widen(struct lookup *lk);
bool lookup_everything(const struct lookup *lk);
/* The lines the first pass read, and how many named a needle. */
unsigned long lookup_lines(const struct lookup *lk);
unsigned long lookup_hit_lines(const struct lookup *lk);
/* The accounting (what was scanned, what was read) on f. */
void lookup_report(const struct lookup *lk, const struct inputs *in, FILE *f);
/* The manifest's inputs as the scan read them: every byte hashed. */
/* Did the scan hash file_id whole (so the manifest need not read it
 * again)? */
bool lookup_hashed(const struct lookup *lk, size_t file_id);
void lookup_manifest(const struct lookup *lk, struct manifest *man);
void lookup_free(struct lookup *lk);

#endif
