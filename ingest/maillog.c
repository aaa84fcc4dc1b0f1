/* maillog.c - the log pipeline's front: files -> lines -> syslog envelope ->
 * Postfix or Sendmail parser -> evidence callback.
 * Rotated sets are read oldest first whatever order they are named in: each
 * file is peeked for its first stamp and the files are sorted by it, so a
 * message that spans mail.log.1 and mail.log is seen in order.
 * Errors: a file that cannot be opened or read is reported on the warning
 * stream as "path: message" and counted; the other inputs are still read. */
#include "maillog.h"
#include "lineblocks.h"
#include "linesrc.h"
#include "postfix.h"
#include "sendmail.h"
#include "syslog.h"
#include <stdlib.h>
#include <string.h>

#define PEEK_LINES 200
#define WARN_PER_FILE 3

struct maillog {
	struct tzconf *tz;
	int year;
	FILE *warn;
	evidence_fn fn;
	void *arg;
	struct input_stats *in;
	size_t n, cap;
	bool prefetch;		/* read, decompress and frame lines on a second thread */
};

struct maillog *maillog_new(struct tzconf *tz, int year, FILE *warn,
			    evidence_fn fn, void *arg)
{
	struct maillog *ml = xcalloc(1, sizeof *ml);
	ml->tz = tz;
	ml->year = year;
	ml->warn = warn;
	ml->fn = fn;
	ml->arg = arg;
	return ml;
}

void maillog_add(struct maillog *ml, const char *path, int file_id)
{
	if (ml->n == ml->cap) {
		ml->cap = ml->cap ? ml->cap * 2 : 8;
		ml->in = xrealloc(ml->in, ml->cap * sizeof *ml->in);
	}
	memset(&ml->in[ml->n], 0, sizeof ml->in[ml->n]);
	ml->in[ml->n].path = xstrdup(path);
	ml->in[ml->n].file_id = file_id;
	ml->n++;
}

size_t maillog_ninputs(const struct maillog *ml) { return ml->n; }

void maillog_set_threads(struct maillog *ml, int threads)
{
	ml->prefetch = threads > 1;
}

const struct input_stats *maillog_input(const struct maillog *ml, size_t id)
{
	return id < ml->n ? &ml->in[id] : NULL;
}

void maillog_free(struct maillog *ml)
{
	if (!ml)
		return;
	for (size_t i = 0; i < ml->n; i++) {
		free(ml->in[i].path);
		free(ml->in[i].error);
	}
	free(ml->in);
	free(ml);
}

static void fail(struct maillog *ml, struct input_stats *st, const char *why)
{
	st->failed = true;
	free(st->error);
	st->error = xstrdup(why);
	fprintf(ml->warn, "%s: error: %s\n", st->path, why);
}

/* A line that went through a spreadsheet ends in ",,,,"; no Postfix or
 * Sendmail message ends in a comma, so the run is dropped. */
static struct span clean_msg(struct span m)
{
	while (m.n && (m.p[m.n - 1] == ',' || m.p[m.n - 1] == ' ' ||
		       m.p[m.n - 1] == '\t'))
		m.n--;
	return m;
}

/* First stamp of a file, for ordering a rotated set. */
static time_t peek_first(struct maillog *ml, const char *path)
{
	struct buf why;
	buf_init(&why);
	struct linesrc *ls = ls_open(path, &why);
	buf_free(&why);
	if (!ls)
		return 0;
	struct syslog_ctx ctx;
	syslog_ctx_init(&ctx, ml->tz, ls_mtime(ls), ml->year);
	time_t t = 0;
	struct span line;
	for (int i = 0; i < PEEK_LINES && !ls_looks_binary(ls) && ls_next(ls, &line) == 1; i++) {
		struct syslog_rec rec;
		const char *w;
		if (syslog_parse(&ctx, line, &rec, &w)) {
			t = rec.ts;
			break;
		}
	}
	ls_close(ls);
	return t;
}

/* One line whose envelope was parsed (or not): counted, warned about or
 * turned into evidence for the callback. */
static void use_line(struct maillog *ml, struct input_stats *st, const struct lb_line *l,
		     int *warned)
{
	if (l->why) {
		st->malformed++;
		if ((*warned)++ < WARN_PER_FILE)
			fprintf(ml->warn, "%s:%lu:1: skipped: %s\n", st->path, l->lineno, l->why);
		return;
	}
	const struct syslog_rec *rec = &l->rec;
	if (!st->first_ts)
		st->first_ts = rec->ts;
	st->last_ts = rec->ts;
	struct evidence ev;
	memset(&ev, 0, sizeof ev);
	ev.file_id = st->file_id;
	ev.line = l->lineno;
	ev.ts = rec->ts;
	ev.usec = rec->usec;
	ev.host = rec->host;
	ev.pid = rec->pid;
	ev.peer_port = -1;
	ev.nrcpt = -1;
	ev.tls.bits = ev.tls.alg_bits = -1;
	struct span msg = clean_msg(rec->msg);
	enum parse_result pr = PR_UNKNOWN;
	if (pf_tag(rec->tag, &ev.instance, &ev.service, &ev.program)) {
		pr = pf_parse(msg, &ev);
	} else if (sm_tag(rec->tag)) {
		ev.instance = rec->tag;
		ev.program = rec->tag;
		ev.service = rec->tag;
		pr = sm_parse(msg, &ev);
	}
	if (pr == PR_USED) {
		st->used++;
		ml->fn(&ev, ml->arg);
	} else {
		st->ignored++;
	}
}

static void read_one(struct maillog *ml, size_t id, struct syslog_ctx *ctx,
		     bool carry_year)
{
	struct input_stats *st = &ml->in[id];
	struct buf why;
	buf_init(&why);
	struct linesrc *ls = ls_open(st->path, &why);
	if (!ls) {
		fail(ml, st, why.p);
		buf_free(&why);
		return;
	}
	buf_free(&why);
	st->gzip = ls_is_gzip(ls);
	st->mtime = ls_mtime(ls);
	if (ls_looks_binary(ls)) {
		fail(ml, st, "binary data (NUL bytes in the first block): not a text mail log");
		ls_close(ls);
		return;
	}
	if (!carry_year)
		syslog_ctx_init(ctx, ml->tz, st->mtime, ml->year);
	int warned = 0;
	int rc;
	struct lineblocks *lb = ml->prefetch ? lb_start(ls, ctx) : NULL;
	if (lb) {	/* lines framed on another thread, used here */
		const struct lb_line *v;
		size_t n;
		while (lb_next(lb, &v, &n))
			for (size_t i = 0; i < n; i++)
				use_line(ml, st, &v[i], &warned);
		unsigned long blank;
		rc = lb_finish(lb, &blank);
		st->ignored += blank;
	} else {
		struct span line;
		while ((rc = ls_next(ls, &line)) == 1) {
			if (span_trim(line).n == 0) {
				st->ignored++;	/* blank lines carry nothing */
				continue;
			}
			struct lb_line l = { .raw = line, .lineno = ls_lineno(ls) };
			if (!syslog_parse(ctx, line, &l.rec, &l.why) && !l.why)
				l.why = "unreadable syslog envelope";
			use_line(ml, st, &l, &warned);
		}
	}
	if (ctx->saw_yearless)
		st->year_assumed = ctx->year;
	const struct ls_stats *ls_st = ls_stats(ls);
	st->lines = ls_st->lines;
	st->too_long = ls_st->too_long;
	st->bytes_in = ls_st->bytes_in;
	if (st->too_long)
		fprintf(ml->warn, "%s: skipped %lu line%s longer than %d bytes\n",
			st->path, st->too_long, st->too_long == 1 ? "" : "s", LS_MAX_LINE);
	if (rc < 0)
		fail(ml, st, ls_error(ls));
	else
		ls_sha256(ls, st->sha256);	/* read to the end: the file's hash */
	ls_close(ls);
}

struct order { size_t id; time_t first; bool is_stdin; };

static int cmp_order(const void *a, const void *b)
{
	const struct order *x = a, *y = b;
	if (x->is_stdin != y->is_stdin)
		return x->is_stdin ? 1 : -1;
	if (x->first != y->first) {
		if (!x->first)
			return 1;
		if (!y->first)
			return -1;
		return x->first < y->first ? -1 : 1;
	}
	return x->id < y->id ? -1 : x->id > y->id;
}

int maillog_run(struct maillog *ml)
{
	struct order *ord = xcalloc(ml->n, sizeof *ord);
	for (size_t i = 0; i < ml->n; i++) {
		ord[i].id = i;
		ord[i].is_stdin = strcmp(ml->in[i].path, "-") == 0;
		ord[i].first = (ml->n > 1 && !ord[i].is_stdin) ? peek_first(ml, ml->in[i].path) : 0;
	}
	qsort(ord, ml->n, sizeof *ord, cmp_order);
	struct syslog_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	int errors = 0;
	for (size_t i = 0; i < ml->n; i++) {
		/* With --year the running year carries from file to file. */
		read_one(ml, ord[i].id, &ctx, ml->year && i > 0);
		errors += ml->in[ord[i].id].failed;
	}
	free(ord);
	return errors;
}
