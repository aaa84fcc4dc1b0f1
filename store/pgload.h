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
	unsigned long shards, stored, already, refused;
	unsigned long long records, fresh;
};

struct pgload;

/* Connect and make sure the store's schema is there (store/schema.sql),
 * creating it in a fresh database.  NULL with the reason on err. */
struct pgload *pgload_open(const char *conninfo, FILE *err);
/* Every shard of one report; path "-" is standard input.  Says what
 * happened to each shard on out (NULL: quiet) and errors on err, as
 * FILE:LINE:COLUMN: message.  False when a shard was refused or the file
 * could not be read. */
bool pgload_file(struct pgload *l, const char *path, FILE *out, FILE *err);
void pgload_totals(const struct pgload *l, struct load_totals *t);
void pgload_close(struct pgload *l);

#endif
