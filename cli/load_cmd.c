/* load_cmd.c - "tlswitness load" (cli/load_cmd.h): the command line of
 * the evidence store's loader; the work is store/pgload.c's. */
#include "load_cmd.h"
#include "../report/sign.h"
#include "../store/pgload.h"
#include "../util/buf.h"
#include <stdio.h>
#include <string.h>

static int usage(void)
{
	fprintf(stderr, "usage: tlswitness load --db CONNINFO [--key PUB [--require-signed]] [-q] FILE...\n"
			"  FILE: JSON Lines written by tlswitness --format json (gzip too);\n"
			"  - is standard input.  CONNINFO: a libpq connection string or URI\n"
			"  (\"\" takes PGHOST, PGDATABASE ... from the environment; give the\n"
			"  password in PGPASSFILE or PGSERVICE, never on the command line).\n"
			"  --key PUB: only reports signed with it (REPORT.sig beside each);\n"
			"  --require-signed: the store takes signed shards only from now on.\n");
	return 2;
}

int load_command(int argc, char **argv)
{
	const char *db = NULL, *keyfile = NULL;
	bool quiet = false, files = false, require = false;
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
		} else if (strcmp(a, "--key") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "tlswitness: load: --key needs a value\n");
				return 2;
			}
			keyfile = argv[++i];
		} else if (strcmp(a, "--require-signed") == 0) {
			require = true;
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
	if (require && !keyfile) {
		fprintf(stderr, "tlswitness: load: --require-signed needs --key PUB\n");
		return 2;
	}
	/* libpq's own ways keep a password out of ps: PGPASSFILE, PGSERVICE */
	if (strstr(db, "password=") || (strstr(db, "://") && strchr(db, '@') &&
					 strchr(strstr(db, "://") + 3, ':') &&
					 strchr(strstr(db, "://") + 3, ':') < strchr(db, '@')))
		fprintf(stderr, "tlswitness: load: warning: the password in --db is visible to "
			"every local user (ps, /proc): put it in a PGPASSFILE or a PGSERVICE entry\n");
	struct buf why;
	buf_init(&why);
	struct sign_pub *key = keyfile ? sign_pub_load(keyfile, "--key", &why) : NULL;
	if (keyfile && !key) {
		fprintf(stderr, "tlswitness: load: %s\n", why.p);
		buf_free(&why);
		return 2;
	}
	buf_free(&why);
	struct pgload_opts opts = { .key = key, .require_signed = require };
	struct pgload *l = pgload_open(db, &opts, stderr);
	if (!l) {
		sign_pub_free(key);
		return 2;
	}
	bool ok = true;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--db") == 0 || strcmp(a, "--key") == 0) {
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
	sign_pub_free(key);
	if (!quiet || !ok)
		fprintf(stderr, "tlswitness load: %lu shards: %lu stored, %lu already stored, "
				"%lu refused (%lu conflicts); %llu records, %llu new\n",
			t.shards, t.stored, t.already, t.refused, t.conflicts, t.records, t.fresh);
	return ok ? 0 : 2;
}
