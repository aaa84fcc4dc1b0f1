/* maillog.c - the log pipeline's front: files -> lines -> syslog envelope ->
 * Postfix or Sendmail parser -> evidence callback.
 * Inputs are read oldest first whatever order they are named in: each
 * file is peeked for its first stamp and the files are sorted by it, then
 * merged line by line by their stamps, so a message that spans mail.log.1
 * and mail.log, or a mail that goes from one server's log to another's,
 * is seen in order.
 * Errors: a file that cannot be opened or read is reported on the warning
 * stream as "path: message" and counted; the other inputs are still read. */
#include "maillog.h"
#include "../util/textsafe.h"
#include "lineblocks.h"
#include "linesrc.h"
#include "postfix.h"
#include "sendmail.h"
#include "dovecot.h"
#include "syslog.h"
#include "../util/hashtab.h"
#include "../util/logclock.h"
#include <stdlib.h>
#include <string.h>

#define PEEK_LINES 200
#define WARN_PER_FILE 3

/* Lines seen in the last two seconds of log time, as hashes of what makes
 * a line the same line (stamp, host, program, pid, text), with the input
 * each came from: the same line in two inputs (/var/log/syslog beside
 * /var/log/mail.log, a file and its copy) counts once.  Two generations,
 * the older dropped as the clock moves on: memory follows the traffic of
 * two seconds. */
struct seen_gen {
	uint64_t *h;		/* 0: empty slot */
	int *file;
	size_t cap, n;
	time_t since;
};

struct maillog {
	struct seen_gen seen[2];	/* [0] current, [1] the one before */
	bool dedup;			/* look for repeats (inputs side by side) */
	time_t dedup_until;		/* ... up to this log time */
	struct tzconf *tz;
	int year;
	FILE *warn;
	evidence_fn fn;
	void *arg;
	struct input_stats *in;
	size_t n, cap;
	bool prefetch;		/* read, decompress and frame lines on a second thread */
	/* beside[a * n + b]: input a gave a line while input b was open */
	bool *beside;
	const struct time_window *win;	/* a lookup's windows, or NULL */
	size_t nwin;
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

void maillog_add_resumed(struct maillog *ml, const char *path, int file_id,
			 const struct ml_resume *from)
{
	maillog_add(ml, path, file_id);
	struct input_progress *pg = &ml->in[ml->n - 1].progress;
	pg->resumed = from != NULL;
	pg->tracked = true;
	if (from)
		pg->from = *from;
}

void maillog_add_ranges(struct maillog *ml, const char *path, int file_id,
			const struct byte_range *r, size_t n)
{
	maillog_add(ml, path, file_id);
	struct input_progress *pg = &ml->in[ml->n - 1].progress;
	pg->ranges = r;
	pg->nranges = n;
	pg->resumed = n && r[0].from.offset > 0;
	if (n)
		pg->from = r[0].from;
}

void maillog_set_windows(struct maillog *ml, const struct time_window *w, size_t n)
{
	ml->win = w;
	ml->nwin = n;
}

static bool in_windows(const struct maillog *ml, time_t ts)
{
	size_t lo = 0, hi = ml->nwin;
	while (lo < hi) {	/* the first window ending at or after ts */
		size_t mid = (lo + hi) / 2;
		if (ml->win[mid].t1 < ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ml->nwin && ml->win[lo].t0 <= ts;
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
	free(ml->beside);
	for (int g = 0; g < 2; g++) {
		free(ml->seen[g].h);
		free(ml->seen[g].file);
	}
	free(ml);
}

static void fail(struct maillog *ml, struct input_stats *st, const char *why)
{
	st->failed = true;
	free(st->error);
	st->error = xstrdup(why);
	fprintf(ml->warn, "%s: error: %s\n", text_shown(st->path), why);
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
static void ctx_resumed(struct syslog_ctx *ctx, const struct ml_resume *from, struct tzconf *tz)
{
	*ctx = from->ctx;
	ctx->tz = tz;
	ctx->stamp_n = 0;	/* the last stamp's cache is this run's */
}

static time_t peek_first(struct maillog *ml, const struct input_stats *st)
{
	struct buf why;
	buf_init(&why);
	struct linesrc *ls = ls_open(st->path, &why);
	const struct input_progress *pg = &st->progress;
	if (ls && pg->resumed && !ls_resume(ls, pg->from.offset, pg->from.lineno, true, &why)) {
		ls_close(ls);
		ls = NULL;
	}
	buf_free(&why);
	if (!ls)
		return 0;
	struct syslog_ctx ctx;
	if (pg->resumed)
		ctx_resumed(&ctx, &pg->from, ml->tz);
	else
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

bool maillog_evidence(const struct syslog_rec *rec, int file_id, unsigned long line,
		      struct evidence *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->file_id = file_id;
	ev->line = line;
	ev->ts = rec->ts;
	ev->usec = rec->usec;
	ev->host = rec->host;
	ev->pid = rec->pid;
	ev->peer_port = -1;
	ev->nrcpt = -1;
	ev->tls.bits = ev->tls.alg_bits = -1;
	struct span msg = clean_msg(rec->msg);
	struct span process;
	enum parse_result pr = PR_UNKNOWN;
	if (pf_tag(rec->tag, &ev->instance, &ev->service, &ev->program)) {
		pr = pf_parse(msg, ev);
	} else if (sm_tag(rec->tag)) {
		ev->instance = rec->tag;
		ev->program = rec->tag;
		ev->service = rec->tag;
		pr = sm_parse(msg, ev);
	} else if (dv_logpath(rec->host, rec->tag, &process)) {
		ev->host = SPAN_NULL;	/* a log_path file names no host */
		pr = dv_parse(process, msg, ev);
	} else if (dv_tag(rec->tag)) {
		/* "dovecot: imap-login: Login: ..." */
		long c = span_find(msg, ": ");
		if (c > 0)
			pr = dv_parse(span_sub(msg, 0, (size_t)c), span_sub(msg, (size_t)c + 2, msg.n), ev);
	}
	return pr == PR_USED;
}

/* One line whose envelope was parsed (or not): counted, warned about or
 * turned into evidence for the callback. */
/* A hash of the parts of a line that make it that line: the table's hash
 * (eight bytes a step) of each text part, mixed with the stamp and pid. */
static uint64_t line_key(const struct syslog_rec *r)
{
	uint64_t h = ht_key_hash(r->msg.p, r->msg.n);
	h = (h ^ ht_key_hash(r->host.p, r->host.n)) * 0x9e3779b97f4a7c15ULL;
	h = (h ^ ht_key_hash(r->tag.p, r->tag.n)) * 0x9e3779b97f4a7c15ULL;
	h = (h ^ (uint64_t)r->ts) * 0x9e3779b97f4a7c15ULL;
	h = (h ^ (uint64_t)r->pid) * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	return h ? h : 1;
}

static long gen_find(const struct seen_gen *g, uint64_t h)
{
	for (size_t i = g->cap ? h & (g->cap - 1) : 0; g->cap; i = (i + 1) & (g->cap - 1)) {
		if (!g->h[i])
			return -1;
		if (g->h[i] == h)
			return (long)i;
	}
	return -1;
}

static void gen_add(struct seen_gen *g, uint64_t h, int file)
{
	if ((g->n + 1) * 10 > g->cap * 7) {	/* grow: rehash */
		struct seen_gen ng = { .cap = g->cap ? g->cap * 2 : 1024, .since = g->since };
		ng.h = xcalloc(ng.cap, sizeof *ng.h);
		ng.file = xcalloc(ng.cap, sizeof *ng.file);
		for (size_t i = 0; i < g->cap; i++)
			if (g->h[i])
				gen_add(&ng, g->h[i], g->file[i]);
		free(g->h);
		free(g->file);
		*g = ng;
	}
	size_t i = h & (g->cap - 1);	/* cap is a power of two */
	while (g->h[i] && g->h[i] != h)
		i = (i + 1) & (g->cap - 1);
	if (!g->h[i])
		g->n++;
	g->h[i] = h;
	g->file[i] = file;
}

/* Did inputs a and b run side by side (a file and its copy, syslog beside
 * mail.log), not one after the other (a rotated set, where the same line
 * may well come twice in the second the files meet: "connect from
 * localhost" of two re-injections)?  Side by side: each gave lines while
 * the other was open.  A rotated file's successor opens in the second
 * the file ends, but gives its first line only once the file is done. */
static bool side_by_side(const struct maillog *ml, int a, int b)
{
	if (!ml->beside)
		return false;
	size_t n = ml->n;
	return ml->beside[(size_t)a * n + (size_t)b] && ml->beside[(size_t)b * n + (size_t)a];
}

/* Is this line one another input running beside this one already gave?
 * Remembers it if not.  in: the input's place in ml->in. */
static bool repeated(struct maillog *ml, const struct syslog_rec *r, int in)
{
	struct seen_gen *cur = &ml->seen[0], *old = &ml->seen[1];
	if (r->ts >= cur->since + 2 || r->ts < cur->since - 2) {
		free(old->h);
		free(old->file);
		*old = *cur;
		*cur = (struct seen_gen){ .since = r->ts };
	}
	uint64_t h = line_key(r);
	for (int g = 0; g < 2; g++) {
		long i = gen_find(&ml->seen[g], h);
		if (i >= 0) {
			int other = ml->seen[g].file[i];
			if (other == in || !side_by_side(ml, other, in))
				break;	/* a line of its own again: remembered as this one's */
			return true;
		}
	}
	gen_add(cur, h, in);
	return false;
}

static void use_line(struct maillog *ml, struct input_stats *st, const struct lb_line *l,
		     int *warned)
{
	if (l->why) {
		st->malformed++;
		if ((*warned)++ < WARN_PER_FILE)
			fprintf(ml->warn, "%s:%lu:1: skipped: %s\n", text_shown(st->path), l->lineno, l->why);
		return;
	}
	const struct syslog_rec *rec = &l->rec;
	if (ml->win && !in_windows(ml, rec->ts)) {
		st->outside++;
		return;
	}
	if (!st->first_ts)
		st->first_ts = rec->ts;
	if (ml->dedup && repeated(ml, rec, (int)(st - ml->in))) {
		st->duplicates++;
		return;
	}
	st->last_ts = rec->ts;
	struct evidence ev;
	if (maillog_evidence(rec, st->file_id, l->lineno, &ev)) {
		st->used++;
		ml->fn(&ev, ml->arg);
	} else {
		st->ignored++;
	}
}

/* One input being read: its lines come one at a time, so several inputs
 * can be merged by their stamps. */
struct reader {
	struct maillog *ml;
	struct input_stats *st;
	struct linesrc *ls;
	struct lineblocks *lb;
	struct syslog_ctx ctx;	/* the reader's thread's while lb runs */
	const struct lb_line *v;	/* lb: the current block */
	size_t n, i;
	struct lb_line one;	/* inline: the current line */
	bool have;		/* one holds the next line */
	int rc;			/* ls_next's last result */
	int warned;
	struct logclock clock;	/* of the lines used (logclock.h) */
	bool done;
};

static bool reader_open(struct maillog *ml, struct reader *rd, size_t id,
			const struct syslog_ctx *carry)
{
	struct input_stats *st = &ml->in[id];
	rd->ml = ml;
	rd->st = st;
	struct buf why;
	buf_init(&why);
	rd->ls = ls_open(st->path, &why);
	if (!rd->ls) {
		fail(ml, st, why.p);
		buf_free(&why);
		return false;
	}
	const struct input_progress *pg = &st->progress;
	if ((pg->tracked || pg->resumed || pg->ranges) &&
	    !ls_resume(rd->ls, pg->resumed ? pg->from.offset : 0,
		       pg->resumed ? pg->from.lineno : 0, pg->tracked, &why)) {
		fail(ml, st, why.p);
		buf_free(&why);
		ls_close(rd->ls);
		rd->ls = NULL;
		return false;
	}
	buf_free(&why);
	st->gzip = ls_is_gzip(rd->ls);
	st->mtime = ls_mtime(rd->ls);
	if (ls_looks_binary(rd->ls)) {
		fail(ml, st, "binary data (NUL and control bytes in the first block, not lines of text): not a text mail log");
		ls_close(rd->ls);
		rd->ls = NULL;
		return false;
	}
	if (pg->resumed)
		ctx_resumed(&rd->ctx, &pg->from, ml->tz);
	else if (carry)
		rd->ctx = *carry;
	else
		syslog_ctx_init(&rd->ctx, ml->tz, st->mtime, ml->year);
	if (pg->resumed)
		rd->clock = pg->from.clock;
	rd->lb = ml->prefetch && !pg->ranges ? lb_start(rd->ls, &rd->ctx) : NULL;
	return true;
}

/* A lookup's ranges: on to the one the next line is in, past the bytes
 * between; false after the last. */
static bool next_range(struct reader *rd)
{
	struct input_progress *pg = &rd->st->progress;
	if (!pg->ranges)
		return true;
	uint64_t off = ls_offset(rd->ls);
	while (pg->cur < pg->nranges && pg->ranges[pg->cur].end && off >= pg->ranges[pg->cur].end)
		pg->cur++;
	if (pg->cur == pg->nranges)
		return false;
	const struct byte_range *r = &pg->ranges[pg->cur];
	if (off < r->from.offset) {
		struct buf why;
		buf_init(&why);
		bool ok = ls_skip_to(rd->ls, r->from.offset, r->from.lineno, &why);
		if (!ok)
			fail(rd->ml, rd->st, why.p);
		buf_free(&why);
		if (!ok)
			return false;
		ctx_resumed(&rd->ctx, &r->from, rd->ml->tz);	/* the stamps' year from there */
	}
	return true;
}

/* The next line, without taking it; NULL at the end. */
static const struct lb_line *reader_head(struct reader *rd)
{
	if (rd->lb) {
		while (rd->i == rd->n) {
			if (!lb_next(rd->lb, &rd->v, &rd->n))
				return NULL;
			rd->i = 0;
		}
		return &rd->v[rd->i];
	}
	if (rd->have)
		return &rd->one;
	struct span line;
	while (next_range(rd) && (rd->rc = ls_next(rd->ls, &line)) == 1) {
		if (span_trim(line).n == 0) {
			rd->st->ignored++;	/* blank lines carry nothing */
			continue;
		}
		rd->one = (struct lb_line){ .raw = line, .lineno = ls_lineno(rd->ls) };
		if (!syslog_parse(&rd->ctx, line, &rd->one.rec, &rd->one.why) && !rd->one.why)
			rd->one.why = "unreadable syslog envelope";
		rd->have = true;
		return &rd->one;
	}
	return NULL;
}

static void reader_take(struct reader *rd, const struct lb_line *l)
{
	if (!l->why)
		logclock_see(&rd->clock, l->rec.ts);
	use_line(rd->ml, rd->st, l, &rd->warned);
	if (rd->lb)
		rd->i++;
	else
		rd->have = false;
}

/* The line's place in the merge: a line without a stamp goes where it
 * stands in its file, and so do lines stamped far ahead of their file's
 * clock until the lines after them confirm the jump (a clock set wrong, a
 * damaged line): they must not hold the rest of their file back until the
 * other inputs reach that time. */
static time_t line_time(const struct reader *rd, const struct lb_line *l)
{
	if (l->why || (rd->clock.now && l->rec.ts > rd->clock.now + LOGCLOCK_JUMP))
		return rd->clock.now;
	return l->rec.ts;
}

static void reader_close(struct reader *rd)
{
	struct maillog *ml = rd->ml;
	struct input_stats *st = rd->st;
	int rc = rd->rc;
	if (rd->lb) {
		unsigned long blank;
		rc = lb_finish(rd->lb, &blank);
		st->ignored += blank;
		rd->lb = NULL;
	}
	if (rd->ctx.saw_yearless)
		st->year_assumed = rd->ctx.year;
	const struct ls_stats *ls_st = ls_stats(rd->ls);
	st->lines = ls_st->lines;
	st->too_long = ls_st->too_long;
	st->bytes_in = ls_st->bytes_in;
	if (st->too_long)
		fprintf(ml->warn, "%s: skipped %lu line%s longer than %d bytes\n",
			text_shown(st->path), st->too_long, st->too_long == 1 ? "" : "s", LS_MAX_LINE);
	if (rc < 0) {
		char why[320];
		snprintf(why, sizeof why, "%s%s", ls_error(rd->ls),
			 ls_cut_short(rd->ls) ? "; the lines before it were read" : "");
		fail(ml, st, why);
	} else
		ls_sha256(rd->ls, st->sha256);	/* read to the end: the file's hash */
	struct input_progress *pg = &st->progress;
	if (pg->tracked) {
		pg->to.offset = ls_offset(rd->ls);
		pg->to.lineno = ls_lineno(rd->ls);
		pg->to.ctx = rd->ctx;
		pg->to.clock = rd->clock;
		pg->held = ls_held(rd->ls);
	}
	ls_close(rd->ls);
	rd->ls = NULL;
	rd->done = true;
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

/* Inputs are merged by their stamps: the line that comes next is the
 * earliest of the open inputs' next lines (the earlier input on a tie).
 * An input is opened when the merge reaches its first stamp, so a rotated
 * set is read one file after another and the logs of several servers
 * over the same hours are interleaved, as one syslog would have them. */
int maillog_run(struct maillog *ml)
{
	struct order *ord = xcalloc(ml->n, sizeof *ord);
	for (size_t i = 0; i < ml->n; i++) {
		ord[i].id = i;
		ord[i].is_stdin = strcmp(ml->in[i].path, "-") == 0;
		ord[i].first = (ml->n > 1 && !ord[i].is_stdin) ? peek_first(ml, &ml->in[i]) : 0;
	}
	qsort(ord, ml->n, sizeof *ord, cmp_order);
	if (ml->n > 1 && ml->n <= 1024)	/* beyond: a rotated set, not copies */
		ml->beside = xcalloc(ml->n * ml->n, sizeof *ml->beside);
	struct reader *rd = xcalloc(ml->n + 1, sizeof *rd);
	/* the open inputs, in reading order: a rotated set of a hundred
	 * files has one open at a time, and each line looks at that one */
	struct reader **open = xcalloc(ml->n + 1, sizeof *open);
	size_t next = 0, nopen = 0;
	int errors = 0;
	for (;;) {
		/* the earliest next line of the open inputs (the earlier input
		 * on a tie); an input at its end leaves */
		struct reader *best = NULL;
		const struct lb_line *bl = NULL;
		time_t bt = 0;
		size_t kept = 0;
		for (size_t k = 0; k < nopen; k++) {
			struct reader *r = open[k];
			const struct lb_line *l = reader_head(r);
			if (!l) {
				reader_close(r);
				errors += r->st->failed;
				continue;
			}
			open[kept++] = r;
			time_t t = line_time(r, l);
			if (!best || t < bt) {
				best = r;
				bl = l;
				bt = t;
			}
		}
		nopen = kept;
		/* the next input joins once the merge has reached its first line */
		if (next < ml->n && (!best || !ord[next].first || ord[next].first <= bt)) {
			struct reader *r = &rd[next];
			/* --year: the running year carries on from the input
			 * before, once that one is read (a rotated set) */
			const struct syslog_ctx *carry = next > 0 && ml->year &&
				rd[next - 1].done && rd[next - 1].st && !rd[next - 1].st->failed
				? &rd[next - 1].ctx : NULL;
			if (reader_open(ml, r, ord[next].id, carry)) {
				open[nopen++] = r;
			} else {
				r->st = &ml->in[ord[next].id];
				r->done = true;
				errors++;
			}
			next++;
			continue;
		}
		if (!best)
			break;
		/* repeats can only come from inputs read side by side, and
		 * for two seconds after (the other may just have ended): a
		 * rotated set, read file after file, is hardly looked at */
		if (nopen > 1) {
			ml->dedup_until = bt + 2;
			if (ml->beside) {
				size_t a = (size_t)(best->st - ml->in);
				for (size_t k = 0; k < nopen; k++)
					if (open[k] != best)
						ml->beside[a * ml->n + (size_t)(open[k]->st - ml->in)] = true;
			}
		}
		ml->dedup = bt <= ml->dedup_until;
		reader_take(best, bl);
	}
	free(open);
	free(rd);
	free(ord);
	return errors;
}
