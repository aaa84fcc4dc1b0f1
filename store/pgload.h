/* pgload.h - JSON Lines reports into the PostgreSQL evidence store
 * (README "The evidence store", ARCHITECTURE.md "The evidence store").
 * A report is read as shards: the records up to and including each
 * manifest line, one run's output.  Each shard is checked whole (its
 * manifest's report_sha256, schema versions, record kinds) and then stored
 * in one transaction, or not at all. */
#ifndef TW_PGLOAD_H
#define TW_PGLOAD_H
#include <stdbool.h>
#include <stdio.h>

struct load_totals {
	unsigned long shards, stored, already, refused, conflicts;
	unsigned long long records, fresh;
};

struct pgload;
struct sign_pub;

/* key (--key): load only reports whose signature (FILE.sig) that key
 * checks, as files (not standard input, not gzip), each with its one
 * shard, and record who signed; require_signed (--require-signed): the
 * store from now on takes signed shards only (store_meta). */
struct pgload_opts {
	const struct sign_pub *key;
	bool require_signed;
};

/* Connect and make sure the store's schema is there (store/schema.sql),
 * creating it in a fresh database or adding what this release adds.  NULL
 * with the reason on err: also when the store takes signed shards only
 * and no key was given. */
struct pgload *pgload_open(const char *conninfo, const struct pgload_opts *opts, FILE *err);
/* Every shard of one report; path "-" is standard input.  Says what
 * happened to each shard on out (NULL: quiet) and errors on err, as
 * FILE:LINE:COLUMN: message.  A shard whose inputs are a stored shard's
 * but whose records are not is a conflict: refused, said, never "already
 * stored".  False when a shard was refused or the file could not be
 * read. */
bool pgload_file(struct pgload *l, const char *path, FILE *out, FILE *err);
void pgload_totals(const struct pgload *l, struct load_totals *t);
void pgload_close(struct pgload *l);

#endif
