/* pgload.c - reports into the evidence store (store/pgload.h).  The
 * records go to the session's temporary table with COPY, as they are read;
 * PostgreSQL parses them (jsonb), and store/schema.sql's load_stage spreads
 * them over the tables.  Memory: one line and one COPY batch, whatever the
 * report's size. */
#include "pgload.h"
#include "copytext.h"
#include "shardread.h"
#include "pqlib.h"
#include "../report/sign.h"
#include "../util/fileid.h"
#include "../util/textsafe.h"
#include <sys/mman.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define STORE_VERSION "1"		/* schema.sql's store_meta row */
#define SCHEMA_VERSION "2"		/* the records' schema_version (CHANGELOG.md) */
#define COPY_BATCH (1u << 20)		/* bytes handed to libpq at once */
/* pg_advisory_xact_lock(LOCK_CLASS, n): n = 1 creating the schema, 2 a
 * day's partitions, 3 relinking (schema.sql load_stage, which writes the
 * number out: 1953955840); a shard's own key takes (LOCK_CLASS + 1, hash) */
#define LOCK_CLASS 0x74770000

extern const char tw_store_schema[];

static const struct pqlib *pq;	/* libpq, loaded by pgload_open */

struct pgload {
	PGconn *db;
	struct load_totals t;
	const struct sign_pub *key;	/* --key: only shards it signed */
	bool require_signed;		/* the store takes signed shards only */
};

/* One shard being read. */
struct shard {
	const char *file;
	unsigned long long first, line;	/* its first line, the line being read */
	unsigned long long rows;
	unsigned nul;			/* \u0000 escapes stored as \ufffd */
	EVP_MD_CTX *md;
	struct buf copy;
	bool copying;
	/* a signed report (--key): the SHA-256 of the file as its signature
	 * was checked, and of every byte read since, which must be the same
	 * when its one shard is committed */
	const char *signer;
	unsigned char signed_sha[32];
	EVP_MD_CTX *whole;
	unsigned nshards;
	char body[65];			/* the SHA-256 of the records read */
};

/* PostgreSQL's message made one safe line: its last newlines dropped,
 * the others (libpq's "\n\tIs the server running ...") and their tabs a
 * space, then what remains escaped (util/textsafe.h). */
static void pg_text(struct buf *b, const char *msg)
{
	size_t n = strlen(msg), k = 0;
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	char *t = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		bool blank = msg[i] == '\n' || msg[i] == '\t';
		if (!blank)
			t[k++] = msg[i];
		else if (k && t[k - 1] != ' ')
			t[k++] = ' ';
	}
	t[k] = '\0';
	text_safe(b, t);
	free(t);
}

static void say_pg(FILE *err, const char *file, unsigned long long line, const char *what,
		   PGconn *db, const PGresult *r)
{
	const char *msg = r ? pq->resultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = r ? pq->resultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
	if (!msg)
		msg = pq->errorMessage(db);
	struct buf b;
	buf_init(&b);
	pg_text(&b, msg);
	if (detail) {
		buf_adds(&b, " (");
		pg_text(&b, detail);
		buf_adds(&b, ")");
	}
	if (file)
		fprintf(err, "%s:%llu:1: %s: %s\n", text_shown(file), line, what, b.p);
	else
		fprintf(err, "tlswitness load: %s: %s\n", what, b.p);
	buf_free(&b);
}

/* Run sql; true when it did what was expected (commands, or tuples). */
static bool run(PGconn *db, const char *sql, FILE *err, const char *what)
{
	PGresult *r = pq->exec(db, sql);
	ExecStatusType s = pq->resultStatus(r);
	bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
	if (!ok && err)
		say_pg(err, NULL, 0, what, db, r);
	pq->clear(r);
	return ok;
}

/* sql with text parameters; the caller checks the result (query_ok). */
static PGresult *query(PGconn *db, const char *sql, int n, const char *const *params)
{
	return pq->execParams(db, sql, n, NULL, params, NULL, NULL, 0);
}

static bool query_ok(const PGresult *r)
{
	return pq->resultStatus(r) == PGRES_TUPLES_OK || pq->resultStatus(r) == PGRES_COMMAND_OK;
}

/* The store's schema, made once: the lock keeps two loaders starting on
 * a fresh database from both creating it. */
static bool ensure_store(PGconn *db, FILE *err)
{
	if (!run(db, "BEGIN", err, "cannot begin"))
		return false;
	char lock[96];
	snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%d, 1)", LOCK_CLASS);
	if (!run(db, lock, err, "cannot lock the store's schema"))
		goto fail;
	PGresult *r = pq->exec(db, "SELECT to_regclass('tlswitness.store_meta') IS NOT NULL");
	if (!query_ok(r)) {
		say_pg(err, NULL, 0, "cannot look for the store", db, r);
		pq->clear(r);
		goto fail;
	}
	pq->clear(r);
	/* every statement of it is idempotent (IF NOT EXISTS, OR REPLACE): a
	 * store made by an earlier release gets what this one adds */
	if (!run(db, tw_store_schema, err, "cannot create the store (store/schema.sql)"))
		goto fail;
	r = pq->exec(db, "SELECT value FROM tlswitness.store_meta WHERE key = 'store_version'");
	if (!query_ok(r) || pq->ntuples(r) != 1 || strcmp(pq->getvalue(r, 0, 0), STORE_VERSION) != 0) {
		fprintf(err, "tlswitness load: the database's store is version %s, this "
			     "tlswitness writes version %s: load into another database\n",
			query_ok(r) && pq->ntuples(r) == 1 ? pq->getvalue(r, 0, 0) : "(unknown)",
			STORE_VERSION);
		pq->clear(r);
		goto fail;
	}
	pq->clear(r);
	return run(db, "COMMIT", err, "cannot commit the store's schema");
fail:
	run(db, "ROLLBACK", NULL, NULL);
	return false;
}

/* The store's own rule: once a load said --require-signed, every later
 * load must give --key. */
static bool store_rule(PGconn *db, bool set, bool keyed, FILE *err)
{
	if (set && !run(db, "INSERT INTO tlswitness.store_meta VALUES ('require_signed', 'true')"
			" ON CONFLICT (key) DO UPDATE SET value = 'true'", err,
			"cannot record --require-signed"))
		return false;
	PGresult *r = pq->exec(db, "SELECT value FROM tlswitness.store_meta WHERE key = "
				   "'require_signed'");
	bool required = query_ok(r) && pq->ntuples(r) == 1 && strcmp(pq->getvalue(r, 0, 0), "true") == 0;
	pq->clear(r);
	if (required && !keyed) {
		fprintf(err, "tlswitness load: this store takes signed shards only (a load with "
			     "--require-signed said so): give --key PUB\n");
		return false;
	}
	return true;
}

struct pgload *pgload_open(const char *conninfo, const struct pgload_opts *opts, FILE *err)
{
	char why[600];
	if (!(pq = pqlib_load(why, sizeof why))) {
		fprintf(err, "tlswitness load: %s\n", why);
		return NULL;
	}
	PGconn *db = pq->connectdb(conninfo ? conninfo : "");
	if (pq->status(db) != CONNECTION_OK) {
		struct buf b;
		buf_init(&b);
		pg_text(&b, pq->errorMessage(db));
		fprintf(err, "tlswitness load: cannot connect to the database: %s\n", b.p);
		buf_free(&b);
		pq->finish(db);
		return NULL;
	}
	/* days and months are UTC's, whatever the server's zone */
	/* JIT compiles each of the load's many short statements for longer
	 * than it runs; the joins' sorts fit in 64 MB */
	if (!run(db, "SET TIME ZONE 'UTC'; SET client_encoding = 'UTF8'; "
		     "SET application_name = 'tlswitness load'; SET client_min_messages = warning; "
		     "SET jit = off; SET work_mem = '64MB'",
		 err, "cannot set up the session") ||
	    !ensure_store(db, err) ||
	    !store_rule(db, opts && opts->require_signed, opts && opts->key, err)) {
		pq->finish(db);
		return NULL;
	}
	struct pgload *l = xcalloc(1, sizeof *l);
	l->db = db;
	l->key = opts ? opts->key : NULL;
	return l;
}

void pgload_totals(const struct pgload *l, struct load_totals *t)
{
	*t = l->t;
}

void pgload_close(struct pgload *l)
{
	if (!l)
		return;
	pq->finish(l->db);
	free(l);
}

/* ----- one shard ----- */

static bool shard_begin(struct pgload *l, struct shard *s, FILE *err)
{
	if (!run(l->db, "CREATE TEMP TABLE IF NOT EXISTS tw_stage (line bigint, rec jsonb); "
			"TRUNCATE tw_stage",
		 err, "cannot make the staging table"))
		return false;
	PGresult *r = pq->exec(l->db, "COPY tw_stage FROM STDIN");
	bool ok = pq->resultStatus(r) == PGRES_COPY_IN;
	if (!ok)
		say_pg(err, NULL, 0, "cannot start COPY", l->db, r);
	pq->clear(r);
	s->copying = ok;
	s->rows = 0;
	s->nul = 0;
	EVP_DigestInit_ex(s->md, EVP_sha256(), NULL);
	return ok;
}

static bool copy_flush(struct pgload *l, struct shard *s, FILE *err)
{
	if (!s->copy.n)
		return true;
	if (pq->putCopyData(l->db, s->copy.p, (int)s->copy.n) != 1) {
		say_pg(err, s->file, s->line, "COPY failed", l->db, NULL);
		return false;
	}
	buf_reset(&s->copy);
	return true;
}

/* End the COPY; abort: with that reason.  False when PostgreSQL refused a
 * row: then said, with the row's line. */
static bool copy_end(struct pgload *l, struct shard *s, const char *abort_why, FILE *err)
{
	if (!s->copying)
		return false;
	s->copying = false;
	bool ok = abort_why || copy_flush(l, s, err);
	pq->putCopyEnd(l->db, ok ? abort_why : "the loader stopped");
	PGresult *r;
	bool fine = true;
	while ((r = pq->getResult(l->db))) {
		if (pq->resultStatus(r) != PGRES_COMMAND_OK) {
			fine = false;
			if (ok && !abort_why) {
				/* CONTEXT: "COPY tw_stage, line N, column rec: ..." */
				const char *ctx = pq->resultErrorField(r, PG_DIAG_CONTEXT);
				static const char tag[] = "COPY tw_stage, line ";
				const char *at = ctx ? strstr(ctx, tag) : NULL;
				unsigned long long row =
					at ? strtoull(at + sizeof tag - 1, NULL, 10) : 0;
				say_pg(err, s->file, row ? s->first + row - 1 : s->line,
				       "not a JSON record", l->db, r);
			}
		}
		pq->clear(r);
	}
	return fine && !abort_why;
}

/* The shard's key (store/schema.sql's head): the SHA-256s of what its
 * inputs gave (with the offset a --state run went on from), and the
 * report's id where an input has no hash (the journal, standard input) or
 * none gave a byte (a night with nothing new: every host's would be the
 * same empty hash). */
static const char *const SHARD_KEY_SQL =
	"WITH m AS (SELECT $1::jsonb AS m), i AS ("
	"  SELECT x FROM m, tlswitness.manifest_inputs(m) x"
	"  WHERE NOT coalesce((x->>'unchanged')::boolean, false)"
	"    AND coalesce((x->>'read')::bigint, 1) > 0)"
	"SELECT encode(sha256(convert_to(concat_ws(E'\\n',"
	"  (SELECT string_agg(concat_ws(':', x->>'type', x->>'sha256', x->'read_from'->>'offset'),"
	"          E'\\n' ORDER BY x->>'sha256', x->>'type', x->'read_from'->>'offset')"
	"     FROM i WHERE x->>'sha256' IS NOT NULL),"
	"  CASE WHEN NOT EXISTS (SELECT 1 FROM i) OR EXISTS (SELECT 1 FROM i WHERE x->>'sha256' IS NULL)"
	"    THEN 'report:' || (SELECT m->>'report_id' FROM m) END), 'UTF8')), 'hex'),"
	"  (SELECT (m->>'generated')::timestamptz::date FROM m)";

static const char *const MANIFEST_INSERT_SQL =
	"INSERT INTO tlswitness.manifests (shard_key, report_id, report_sha256, schema_version,"
	"  tool_version, generated, command_line, rules_sha256, policy, source_file, first_line,"
	"  last_line, period_start, period_end, manifest, signer, report_hashed)"
	" SELECT $2, m->>'report_id', coalesce(m->>'report_sha256', $7), (m->>'schema_version')::int,"
	"  m->>'version', (m->>'generated')::timestamptz, m->>'command_line',"
	"  m->'rules'->>'sha256', m->'rules'->>'policy', $3, $4::bigint, $5::bigint,"
	"  (SELECT min((x->>'first_timestamp')::timestamptz) FROM tlswitness.manifest_inputs(m) x),"
	"  (SELECT max((x->>'last_timestamp')::timestamptz) FROM tlswitness.manifest_inputs(m) x),"
	"  m, $6, m->>'report_sha256' IS NOT NULL FROM (SELECT $1::jsonb AS m) x"
	" RETURNING manifest_id";

static const char *const INPUTS_INSERT_SQL =
	"INSERT INTO tlswitness.inputs SELECT $2::bigint, n, x->>'path', x->>'type',"
	"  x->>'compression', (x->>'size')::bigint, x->>'sha256',"
	"  (x->>'first_timestamp')::timestamptz, (x->>'last_timestamp')::timestamptz,"
	"  x->>'unit', (x->>'read')::bigint, (x->>'used')::bigint, (x->>'skipped')::bigint"
	" FROM (SELECT $1::jsonb AS m) y, tlswitness.manifest_inputs(m) WITH ORDINALITY AS i(x, n)";

/* A value from the report, for a message: escaped (util/textsafe.h) and
 * cut to fit out. */
static const char *safe_short(const char *v, char *out, size_t outlen)
{
	struct buf b;
	buf_init(&b);
	text_safe(&b, v);
	snprintf(out, outlen, "%s", b.p);
	if (b.n >= outlen && outlen > 4)
		memcpy(out + outlen - 4, "...", 4);
	buf_free(&b);
	return out;
}

/* Refuse the shard, saying why at the manifest's line. */
static bool refuse(struct pgload *l, struct shard *s, FILE *err, unsigned long long line,
		   const char *why)
{
	fprintf(err, "%s:%llu:1: %s; lines %llu-%llu not loaded\n", text_shown(s->file), line,
		why, s->first, s->line);
	l->t.refused++;
	return false;
}

/* sql with text parameters, for the shard s: the result, or NULL when it
 * failed, said at the shard's line as "what: PostgreSQL's reason". */
static PGresult *ask(struct pgload *l, const struct shard *s, FILE *err, const char *what,
		     const char *sql, int n, const char *const *params)
{
	PGresult *r = query(l->db, sql, n, params);
	if (query_ok(r))
		return r;
	say_pg(err, s->file, s->line, what, l->db, r);
	pq->clear(r);
	return NULL;
}

/* Is the shard what its manifest says, and of this version?  False: said
 * and counted as refused. */
static bool manifest_checks(struct pgload *l, struct shard *s, const char *man, FILE *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdn = 0;
	char *body = s->body;
	EVP_DigestFinal_ex(s->md, md, &mdn);
	hex_encode(md, 32, body);
	const char *p1[1] = { man };
	PGresult *r = ask(l, s, err, "the manifest is not JSON",
			  "SELECT m->>'schema_version', m->>'report_sha256'"
			  " FROM (SELECT $1::jsonb AS m) x", 1, p1);
	if (!r) {
		l->t.refused++;
		return false;
	}
	char why[300], shown[64];
	const char *ver = pq->getisnull(r, 0, 0) ? "(none)" : pq->getvalue(r, 0, 0);
	const char *sha = pq->getisnull(r, 0, 1) ? NULL : pq->getvalue(r, 0, 1);
	why[0] = '\0';
	if (strcmp(ver, SCHEMA_VERSION) != 0)
		snprintf(why, sizeof why, "the manifest is of schema version %s; this "
			 "tlswitness stores version %s (load it with the version that wrote "
			 "it, or judge the logs again)", safe_short(ver, shown, sizeof shown),
			 SCHEMA_VERSION);
	else if (!sha && err)	/* stored, said: the store checks what it can */
		fprintf(err, "tlswitness: load: %s:%llu: warning: the run that wrote this shard "
			"did not hash its report (report_sha256 null: it was asked for no "
			"--manifest, --sign, --timestamp-request or --state): nothing shows its "
			"records are what tlswitness wrote; stored with report_hashed false\n",
			text_shown(s->file), s->line);
	else if (sha && strcmp(sha, body) != 0)
		snprintf(why, sizeof why, "the records before the manifest are not what it "
			 "hashed (report_sha256 %s, the lines read %s): altered, cut or "
			 "reordered", safe_short(sha, shown, sizeof shown), body);
	pq->clear(r);
	if (why[0])
		return refuse(l, s, err, s->line, why);
	return true;
}

/* Are the staged records (tw_rows) all of the kinds and the version
 * stored?  False: said and counted as refused. */
static bool record_checks(struct pgload *l, struct shard *s, FILE *err)
{
	char why[300], shown[64], kind[64];
	PGresult *r = ask(l, s, err, "cannot check the records",
		"SELECT line, kind, schema_version FROM tw_rows"
		" WHERE kind IS DISTINCT FROM 'message' AND kind IS DISTINCT FROM 'login'"
		"    OR schema_version IS DISTINCT FROM '" SCHEMA_VERSION "'"
		" ORDER BY line LIMIT 1", 0, NULL);
	if (!r) {
		l->t.refused++;
		return false;
	}
	bool fine = pq->ntuples(r) == 0;
	if (!fine) {
		unsigned long long at = strtoull(pq->getvalue(r, 0, 0), NULL, 10);
		snprintf(why, sizeof why, "a record of kind \"%s\", schema version %s: the "
			 "store takes --format json's records (message, login) of version %s",
			 safe_short(pq->getisnull(r, 0, 1) ? "(none)" : pq->getvalue(r, 0, 1), kind,
				    sizeof kind),
			 safe_short(pq->getisnull(r, 0, 2) ? "(none)" : pq->getvalue(r, 0, 2), shown,
				    sizeof shown), SCHEMA_VERSION);
		refuse(l, s, err, at, why);
	}
	pq->clear(r);
	return fine;
}

/* The manifest line read: check the shard, then store it in one
 * transaction. */
static bool shard_store(struct pgload *l, struct shard *s, const char *man, FILE *out,
			FILE *err)
{
	l->t.shards++;
	if (!copy_end(l, s, NULL, err)) {
		l->t.refused++;
		return false;
	}
	if (!manifest_checks(l, s, man, err))
		return false;
	const char *p1[1] = { man };
	PGresult *r = ask(l, s, err, "cannot read the manifest", SHARD_KEY_SQL, 1, p1);
	if (!r || pq->getisnull(r, 0, 0)) {
		pq->clear(r);
		l->t.refused++;
		return false;
	}
	char key[65], fallback[16];
	snprintf(key, sizeof key, "%s", pq->getvalue(r, 0, 0));
	snprintf(fallback, sizeof fallback, "%s", pq->getisnull(r, 0, 1) ? "1970-01-01" : pq->getvalue(r, 0, 1));
	pq->clear(r);
	/* the records taken apart once (schema.sql stage_rows), for the
	 * checks and the load */
	const char *pf[1] = { fallback };
	r = ask(l, s, err, "cannot take the records apart", "SELECT tlswitness.stage_rows($1::date)",
		1, pf);
	if (!r) {
		l->t.refused++;
		return false;
	}
	pq->clear(r);
	if (!record_checks(l, s, err))
		return false;

	/* The days' partitions, in a transaction of their own: creating one
	 * under the shard's transaction would hold every other loader of
	 * that day until it commits. */
	char sql[512];
	snprintf(sql, sizeof sql, "BEGIN; SELECT pg_advisory_xact_lock(%d, 2); "
		 "SELECT tlswitness.ensure_day(d) FROM (SELECT DISTINCT day AS d FROM tw_rows) x; "
		 "COMMIT", LOCK_CLASS);
	if (!run(l->db, sql, err, "cannot add the days' partitions"))
		goto fail;

	if (l->key) {	/* a signed report: its one shard, as its signature was checked */
		unsigned char now[32];
		unsigned nn = 0;
		EVP_MD_CTX *c = EVP_MD_CTX_new();
		bool same = c && EVP_MD_CTX_copy_ex(c, s->whole) && EVP_DigestFinal_ex(c, now, &nn) &&
			    nn == 32 && memcmp(now, s->signed_sha, 32) == 0;
		EVP_MD_CTX_free(c);
		if (++s->nshards > 1)
			return refuse(l, s, err, s->line, "a second shard in a signed report: one run "
				      "writes one report, its manifest last");
		if (!same)
			return refuse(l, s, err, s->line, "the file is not the bytes its signature "
				      "was checked on (changed while loading, or more after its "
				      "manifest)");
	}
	if (!run(l->db, "BEGIN", err, "cannot begin"))
		goto fail;
	const char *pk[1] = { key };
	snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%d, hashtext($1))", LOCK_CLASS + 1);
	if (!(r = ask(l, s, err, "cannot lock the shard's key", sql, 1, pk)))
		goto fail;
	pq->clear(r);
	r = ask(l, s, err, "cannot look for the shard",
		"SELECT manifest_id, report_id, report_sha256, coalesce(signer, 'no one: unsigned')"
		" FROM tlswitness.manifests WHERE shard_key = $1", 1, pk);
	if (!r)
		goto fail;
	if (pq->ntuples(r)) {
		char rid[64], had[80], who[100];
		safe_short(pq->getisnull(r, 0, 1) ? "(none)" : pq->getvalue(r, 0, 1), rid, sizeof rid);
		safe_short(pq->getisnull(r, 0, 2) ? "(none)" : pq->getvalue(r, 0, 2), had, sizeof had);
		safe_short(pq->getvalue(r, 0, 3), who, sizeof who);
		bool same = !pq->getisnull(r, 0, 2) && strcmp(pq->getvalue(r, 0, 2), s->body) == 0;
		if (same && out)
			fprintf(out, "%s: lines %llu-%llu: already stored as manifest %s (report %s, "
				"the same inputs and records); nothing changed\n", text_shown(s->file),
				s->first, s->line, pq->getvalue(r, 0, 0), rid);
		if (!same) {
			/* one identity, two contents: one of them is not what
			 * tlswitness read, and the store cannot tell which */
			char why[700];
			snprintf(why, sizeof why, "conflicts with manifest %s (report %s, signed by %s): "
				 "the same inputs, other records (report_sha256 %s here, %s there); "
				 "one of the two is not what tlswitness wrote: not stored",
				 pq->getvalue(r, 0, 0), rid, who, s->body, had);
			pq->clear(r);
			run(l->db, "ROLLBACK", NULL, NULL);
			l->t.conflicts++;
			return refuse(l, s, err, s->line, why);
		}
		pq->clear(r);
		run(l->db, "ROLLBACK", NULL, NULL);
		l->t.already++;
		l->t.records += s->rows;
		return true;
	}
	pq->clear(r);

	char first[24], last[24], mid[24], rows[24], nfresh[24];
	snprintf(first, sizeof first, "%llu", s->first);
	snprintf(last, sizeof last, "%llu", s->line);
	const char *pm[7] = { man, key, s->file, first, last, s->signer, s->body };
	if (!(r = ask(l, s, err, "cannot store the manifest", MANIFEST_INSERT_SQL, 7, pm)))
		goto fail;
	snprintf(mid, sizeof mid, "%s", pq->ntuples(r) == 1 ? pq->getvalue(r, 0, 0) : "");
	pq->clear(r);
	const char *pi[2] = { man, mid };
	if (!mid[0] || !(r = ask(l, s, err, "cannot store the manifest's inputs", INPUTS_INSERT_SQL,
				 2, pi)))
		goto fail;
	pq->clear(r);
	const char *ps[1] = { mid };
	if (!(r = ask(l, s, err, "cannot store the records", "SELECT tlswitness.load_stage($1::bigint)",
		      1, ps)))
		goto fail;
	unsigned long long fresh = strtoull(pq->getvalue(r, 0, 0), NULL, 10);
	pq->clear(r);
	snprintf(rows, sizeof rows, "%llu", s->rows);
	snprintf(nfresh, sizeof nfresh, "%llu", fresh);
	const char *pu[3] = { mid, rows, nfresh };
	if (!(r = ask(l, s, err, "cannot finish the manifest",
		      "UPDATE tlswitness.manifests SET records = $2::bigint, stored = $3::bigint,"
		      " hosts = (SELECT array_agg(DISTINCT host ORDER BY host)"
		      "          FROM tw_rows WHERE host IS NOT NULL)"
		      " WHERE manifest_id = $1::bigint", 3, pu)))
		goto fail;
	pq->clear(r);
	if (!run(l->db, "COMMIT", err, "cannot commit the shard"))
		goto fail;
	l->t.stored++;
	l->t.records += s->rows;
	l->t.fresh += fresh;
	if (out) {
		fprintf(out, "%s: lines %llu-%llu: stored as manifest %s: %llu records, %llu new",
			text_shown(s->file), s->first, s->line, mid, s->rows, fresh);
		if (fresh < s->rows)
			fprintf(out, " (%llu already in the store)", s->rows - fresh);
		if (s->nul)
			fprintf(out, "; %u \\u0000 escapes stored as \\ufffd", s->nul);
		fputc('\n', out);
	}
	return true;
fail:
	run(l->db, "ROLLBACK", NULL, NULL);
	l->t.refused++;
	return false;
}

/* --key: is the file at fd signed by the key (PATH.sig beside it)?  Its
 * SHA-256 as checked in sha.  False: said on err. */
static bool signed_by(const struct pgload *l, const char *path, int fd, unsigned char sha[32],
		      FILE *err)
{
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		fprintf(err, "%s:1:1: not a regular file: a signed report is read from its file, "
			"its signature beside it; not loaded\n", text_shown(path));
		return false;
	}
	size_t n = (size_t)sb.st_size;
	static const unsigned char empty[1];
	const unsigned char *bytes = empty;
	void *map = MAP_FAILED;
	if (n && (map = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		fprintf(err, "%s:1:1: %s; not loaded\n", text_shown(path), strerror(errno));
		return false;
	}
	if (n)
		bytes = map;
	bool ok = false;
	if (n >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {
		fprintf(err, "%s:1:1: compressed: a report's signature is of the report as written "
			"(gunzip it, its .sig beside it); not loaded\n", text_shown(path));
		goto out;
	}
	struct buf sigpath, why;
	buf_init(&sigpath);
	buf_init(&why);
	buf_printf(&sigpath, "%s.sig", path);
	char *sig = NULL;
	size_t ns = 0;
	if (!fileid_read_all(sigpath.p, NULL, 1 << 16, &sig, &ns, &why))
		fprintf(err, "%s:1:1: unsigned (%s): this load takes only shards signed by %s; "
			"not loaded\n", text_shown(path), why.p, sign_pub_fingerprint(l->key));
	else if (!sign_pub_verify(l->key, (const unsigned char *)sig, ns, bytes, n))
		fprintf(err, "%s:1:1: its signature %s is not %s's, or the report changed since; "
			"not loaded\n", text_shown(path), text_shown(sigpath.p),
			sign_pub_fingerprint(l->key));
	else
		ok = true;
	unsigned mdn = 0;
	if (ok)
		EVP_Digest(bytes, n, sha, &mdn, EVP_sha256(), NULL);
	free(sig);
	buf_free(&sigpath);
	buf_free(&why);
out:
	if (map != MAP_FAILED)
		munmap(map, n);
	return ok;
}

bool pgload_file(struct pgload *l, const char *path, FILE *out, FILE *err)
{
	bool std = strcmp(path, "-") == 0;
	if (std && l->key) {
		fprintf(err, "(stdin):1:1: a signed report is read from its file, its signature "
			"beside it; not loaded\n");
		l->t.shards++;
		l->t.refused++;
		return false;
	}
	int fd = std ? dup(0) : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	unsigned char signed_sha[32];
	if (fd >= 0 && !std) {
		fileid_blocking(fd);	/* a FIFO: opened without waiting for its writer */
		if (l->key && (!signed_by(l, path, fd, signed_sha, err) ||
			       lseek(fd, 0, SEEK_SET) != 0)) {
			close(fd);
			l->t.shards++;
			l->t.refused++;
			return false;
		}
	}
	gzFile gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
	if (!gz) {
		fprintf(err, "%s: %s\n", text_shown(path), strerror(fd < 0 ? errno : ENOMEM));
		if (fd >= 0)
			close(fd);
		return false;
	}
	struct shard_reader *rd = shard_reader_new(gz);
	struct shard s = { .file = std ? "(stdin)" : path, .md = EVP_MD_CTX_new() };
	if (l->key) {
		s.signer = sign_pub_fingerprint(l->key);
		memcpy(s.signed_sha, signed_sha, 32);
		s.whole = EVP_MD_CTX_new();
		EVP_DigestInit_ex(s.whole, EVP_sha256(), NULL);
	}
	buf_init(&s.copy);
	struct buf line;
	buf_init(&line);
	bool ok = true, cut, toolong;
	while (shard_reader_line(rd, &line, &cut, &toolong)) {
		s.line++;
		if (!s.copying) {
			s.first = s.line;
			if (!shard_begin(l, &s, err)) {
				ok = false;
				break;
			}
		}
		const char *why = shard_line_problem(&line, cut, toolong);
		if (why) {
			copy_end(l, &s, why, err);
			l->t.shards++;
			refuse(l, &s, err, s.line, why);
			ok = false;
			break;	/* the rest cannot be trusted to be whole shards */
		}
		if (s.whole) {
			EVP_DigestUpdate(s.whole, line.p, line.n);
			EVP_DigestUpdate(s.whole, "\n", 1);
		}
		if (shard_line_is_manifest(&line)) {
			if (!shard_store(l, &s, line.p, out, err))
				ok = false;
			continue;
		}
		EVP_DigestUpdate(s.md, line.p, line.n);
		EVP_DigestUpdate(s.md, "\n", 1);
		s.nul += copytext_row(&s.copy, s.line, line.p, line.n);
		s.rows++;
		if (s.copy.n >= COPY_BATCH && !copy_flush(l, &s, err)) {
			copy_end(l, &s, "the loader stopped", err);
			ok = false;
			break;
		}
	}
	int gzerr = 0;
	const char *gzmsg = gzerror(gz, &gzerr);
	if (ok && (shard_reader_failed(rd) || (gzerr != Z_OK && gzerr != Z_STREAM_END))) {
		/* a damaged gzip member, or a read error (a directory) */
		fprintf(err, "%s:%llu:1: cannot read: %s\n", text_shown(s.file), s.line + 1,
			gzerr == Z_ERRNO ? strerror(errno) : gzmsg);
		ok = false;
	}
	if (s.copying) {	/* records after the last manifest */
		copy_end(l, &s, "no manifest", err);
		l->t.shards++;
		if (ok)
			refuse(l, &s, err, s.line, "no manifest after these records: not a whole "
				   "tlswitness report (cut short, or still being written)");
		ok = false;
	}
	shard_reader_free(rd);
	gzclose(gz);
	buf_free(&line);
	buf_free(&s.copy);
	EVP_MD_CTX_free(s.md);
	EVP_MD_CTX_free(s.whole);
	return ok;
}
