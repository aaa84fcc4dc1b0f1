/* load_cmd.c - "tlswitness load" (cli/load_cmd.h): the command line of
 * the evidence store's loader; the work is store/pgload.c's. */
#include "load_cmd.h"
#include "../store/pgload.h"
#include <stdio.h>
#include <string.h>

static int usage(void)
{
	fprintf(stderr, "usage: tlswitness load --db CONNINFO [-q] FILE...\n"
			"  FILE: JSON Lines written by tlswitness --format json (gzip too);\n"
			"  - is standard input.  CONNINFO: a libpq connection string or URI\n"
			"  (\"\" takes PGHOST, PGDATABASE ... from the environment).\n");
	return 2;
}

int load_command(int argc, char **argv)
{
	const char *db = NULL;
	bool quiet = false, files = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--db") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "tlswitness: load: --db needs a value\n");
				return 2;
			}
			db = argv[++i];
		} else if (strncmp(a, "--db=", 5) == 0) {
			db = a + 5;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			quiet = true;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage();
			return 0;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "tlswitness: load: unknown option '%s'\n", a);
			return usage();
		} else {
			files = true;
		}
	}
	if (!db || !files)
		return usage();
	struct pgload *l = pgload_open(db, stderr);
	if (!l)
		return 2;
	bool ok = true;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--db") == 0) {
			i++;
			continue;
		}
		if ((a[0] == '-' && a[1]))
			continue;
		if (!pgload_file(l, a, quiet ? NULL : stdout, stderr))
			ok = false;
	}
	struct load_totals t;
	pgload_totals(l, &t);
	pgload_close(l);
	if (!quiet || !ok)
		fprintf(stderr, "tlswitness load: %lu shards: %lu stored, %lu already stored, "
				"%lu refused; %llu records, %llu new\n",
			t.shards, t.stored, t.already, t.refused, t.records, t.fresh);
	return ok ? 0 : 2;
}
