/* lookup.c - a lookup read in windows of time (cli/lookup.h).
 *
 * Windows.  Each line naming a needle opens [t - PRE, t + POST]: PRE
 * covers the smtpd session before a message and the TLS line of the
 * connection a delivery went over (smtp(8) reuses one up to 300 s);
 * POST the rest of the message and the hour in which the tracker waits
 * to learn whether its host logs TLS at all (FLUSH_WAIT,
 * correlate/track_state.h).  Windows are merged, and every log is read
 * from the index point before a window's start to the one after its end;
 * only lines stamped inside a window are used (maillog_set_windows).
 *
 * What a selected message may lack, and the widening it asks for:
 *   its start near the window's start, or a hop whose session start or
 *   TLS-logging inference needed lines from before: PRE, doubled;
 *   its end (not removed), or its inference hour past the window's end:
 *   POST, doubled;
 *   a plaintext delivery to a relay that a handshake failed with earlier
 *   (a line the first pass found too): the window reaches back to it.
 * A window that would cover half the logs' time makes the run read
 * everything instead. */
#include "lookup.h"
#include "../ingest/linesrc.h"
#include "../ingest/scan.h"
#include "../util/textsafe.h"
#include <stdlib.h>
#include <string.h>

#ifndef PRE
#define PRE (15 * 60)
#endif
#ifndef POST
#define POST (3600 + 5 * 60)
#endif
#ifndef SAFE_PRE
#define SAFE_PRE (6 * 60)	/* a message this close to its window's start */
#endif
#ifndef SAFE_POST
#define SAFE_POST (3600 + 60)	/* ... or its end lacks context */
#endif
#define SLACK 120		/* stamps a little out of order at index points */
#define ROUNDS_MAX 12
#define HITS_MAX 1000000	/* lines naming a needle kept; past it, read everything */

/* Lines of handshake failures (track_out.c: the relay's memory of them
 * marks a later plaintext delivery handshake-failed). */
static const char *const context_needles[] = { "SSL_connect error", "Cannot start TLS", NULL };

struct fail {
	time_t ts;
	char *host, *ip;
};

struct win {
	time_t t0, t1;
	unsigned pre_k, post_k;		/* widenings so far */
	bool need_pre, need_post;
	time_t reach;			/* a failure line it must reach back to, 0 none */
	time_t want_t1;			/* a message's end it must reach, 0 none */
};

struct lookup {
	const struct options *o;
	const struct inputs *in;
	struct tzconf *tz;
	struct scan_needle nd[4 * SELECT_MAX + 4];
	char *owned[4 * SELECT_MAX];
	size_t nn, nuser, nowned;
	struct scan_file *sf;		/* by file id */
	struct byte_range **ranges;	/* by file id: what the next read reads */
	size_t *nranges;
	time_t *hits;
	size_t nhits, caphits;
	struct fail *fails;
	size_t nfails, capfails;
	struct win *w;
	size_t nw;
	struct time_window *tw;		/* the windows as maillog reads them */
	time_t tmin, tmax;		/* the logs' first and last stamps */
	bool everything;
	unsigned rounds;
	unsigned long hit_lines;
};

static void needle(struct lookup *lk, const char *v, bool fold, bool bare)
{
	size_t n = strlen(v);
	if (bare && n >= 2 && v[0] == '<' && v[n - 1] == '>') {
		v++;
		n -= 2;
	}
	if (!n)
		return;
	char *s = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++)
		s[i] = fold && v[i] >= 'A' && v[i] <= 'Z' ? (char)(v[i] - 'A' + 'a') : v[i];
	s[n] = '\0';
	lk->owned[lk->nowned++] = s;
	lk->nd[lk->nn++] = (struct scan_needle){ s, n, fold };
}

struct lookup *lookup_new(const struct options *o, const struct inputs *in, struct tzconf *tz)
{
	const struct selection *s = &o->select;
	if (o->full_read || o->state_path || !(s->nmid || s->nqid || s->nrcpt || s->nfrom) ||
	    o->writer->input == WRITER_EVIDENCE || in->ncaptures || in->nmails || !in->nlogs)
		return NULL;
	for (size_t i = 0; i < in->n; i++)
		if (strcmp(in->files[i], "-") == 0 || strncmp(in->files[i], "journal", 7) == 0 ||
		    ls_real_path(in->files[i]) != in->files[i])
			return NULL;	/* standard input, a journal, a pipe: read once as it is */
	struct lookup *lk = xcalloc(1, sizeof *lk);
	lk->o = o;
	lk->in = in;
	lk->tz = tz;
	for (size_t i = 0; i < s->nmid; i++)
		needle(lk, s->mid[i], false, true);
	for (size_t i = 0; i < s->nqid; i++)
		needle(lk, s->qid[i], false, false);
	/* addresses: the domain in any case, so the whole needle folded */
	for (size_t i = 0; i < s->nrcpt; i++)
		needle(lk, s->rcpt[i], true, true);
	for (size_t i = 0; i < s->nfrom; i++)
		needle(lk, s->from[i], true, true);
	lk->nuser = lk->nn;
	for (size_t i = 0; context_needles[i]; i++)
		lk->nd[lk->nn++] = (struct scan_needle){ context_needles[i],
							 strlen(context_needles[i]), false };
	if (!lk->nuser) {
		lookup_free(lk);
		return NULL;
	}
	return lk;
}

static bool holds(struct span line, const struct scan_needle *nd)
{
	if (!nd->fold)
		return memmem(line.p, line.n, nd->s, nd->n) != NULL;
	for (size_t i = 0; i + nd->n <= line.n; i++) {
		size_t k = 0;
		while (k < nd->n && (char)((line.p[i + k] >= 'A' && line.p[i + k] <= 'Z')
					   ? line.p[i + k] - 'A' + 'a' : line.p[i + k]) == nd->s[k])
			k++;
		if (k == nd->n)
			return true;
	}
	return false;
}

static void on_hit(struct span line, unsigned long lineno, const struct syslog_rec *rec, void *arg)
{
	struct lookup *lk = arg;
	(void)lineno;
	if (!rec)
		return;
	bool user = false;
	for (size_t k = 0; k < lk->nuser && !user; k++)
		user = holds(line, &lk->nd[k]);
	if (user && lk->nhits >= HITS_MAX) {
		lk->everything = true;	/* a needle that common: windows everywhere */
		lk->hit_lines++;
	} else if (user) {
		if (lk->nhits == lk->caphits) {
			lk->caphits = lk->caphits ? lk->caphits * 2 : 64;
			lk->hits = xrealloc(lk->hits, lk->caphits * sizeof *lk->hits);
		}
		lk->hits[lk->nhits++] = rec->ts;
		lk->hit_lines++;
	}
	struct evidence ev;
	if (!maillog_evidence(rec, 0, lineno, &ev) || ev.kind != EV_TLS_FAIL || ev.dir != DIR_OUT ||
	    !ev.peer_ip.n)
		return;
	if (lk->nfails >= HITS_MAX) {
		lk->everything = true;	/* memory stays bounded; the full read is exact */
		return;
	}
	if (lk->nfails == lk->capfails) {
		lk->capfails = lk->capfails ? lk->capfails * 2 : 16;
		lk->fails = xrealloc(lk->fails, lk->capfails * sizeof *lk->fails);
	}
	lk->fails[lk->nfails++] = (struct fail){ ev.ts, span_dup(ev.host), span_dup(ev.peer_ip) };
}

static int cmp_time(const void *a, const void *b)
{
	time_t x = *(const time_t *)a, y = *(const time_t *)b;
	return (x > y) - (x < y);
}

static int cmp_win(const void *a, const void *b)
{
	const struct win *x = a, *y = b;
	return (x->t0 > y->t0) - (x->t0 < y->t0);
}

/* Windows sorted and merged where they meet; the maillog's copy made. */
static void merge(struct lookup *lk)
{
	qsort(lk->w, lk->nw, sizeof *lk->w, cmp_win);
	size_t k = 0;
	for (size_t i = 0; i < lk->nw; i++) {
		if (k && lk->w[i].t0 <= lk->w[k - 1].t1 + 1) {
			struct win *m = &lk->w[k - 1];
			if (lk->w[i].t1 > m->t1)
				m->t1 = lk->w[i].t1;
			m->pre_k = m->pre_k > lk->w[i].pre_k ? m->pre_k : lk->w[i].pre_k;
			m->post_k = m->post_k > lk->w[i].post_k ? m->post_k : lk->w[i].post_k;
			continue;
		}
		lk->w[k++] = lk->w[i];
	}
	lk->nw = k;
	free(lk->tw);
	lk->tw = xcalloc(lk->nw + 1, sizeof *lk->tw);
	time_t covered = 0;
	for (size_t i = 0; i < lk->nw; i++) {
		lk->tw[i] = (struct time_window){ lk->w[i].t0, lk->w[i].t1 };
		covered += lk->w[i].t1 - lk->w[i].t0;
	}
	/* half the logs' time or more: reading all of it costs no more */
	if (lk->tmax > lk->tmin && covered * 2 >= lk->tmax - lk->tmin)
		lk->everything = true;
}

bool lookup_scan(struct lookup *lk)
{
	const struct inputs *in = lk->in;
	lk->sf = xcalloc(in->n + 1, sizeof *lk->sf);
	lk->ranges = xcalloc(in->n + 1, sizeof *lk->ranges);
	lk->nranges = xcalloc(in->n + 1, sizeof *lk->nranges);
	for (size_t i = 0; i < in->n; i++) {
		if (in->kinds[i] != INPUT_LOG)
			continue;
		struct scan_file *f = &lk->sf[i];
		if (!scan_log(in->files[i], lk->nd, lk->nn, lk->tz, lk->o->year, on_hit, lk, f))
			return false;	/* the full read says what is wrong, where */
		if (f->npt && f->pt[0].ts && (!lk->tmin || f->pt[0].ts < lk->tmin))
			lk->tmin = f->pt[0].ts;
		if (f->last_ts > lk->tmax)
			lk->tmax = f->last_ts;
	}
	/* no line names a needle: no message can be selected (a message's
	 * recipients, sender, Message-ID and queue ID are on its lines), and
	 * nothing is read again */
	if (lk->nhits)
		qsort(lk->hits, lk->nhits, sizeof *lk->hits, cmp_time);
	lk->w = xcalloc(lk->nhits + 1, sizeof *lk->w);
	for (size_t i = 0; i < lk->nhits; i++)
		lk->w[lk->nw++] = (struct win){ .t0 = lk->hits[i] - PRE, .t1 = lk->hits[i] + POST };
	if (!lk->everything)
		merge(lk);
	return !lk->everything;
}

void lookup_add_ranges(struct lookup *lk, struct maillog *ml)
{
	const struct inputs *in = lk->in;
	for (size_t i = 0; i < in->n; i++) {
		if (in->kinds[i] != INPUT_LOG || !lk->nw)
			continue;
		const struct scan_file *f = &lk->sf[i];
		struct byte_range **rs = &lk->ranges[i];
		size_t *nr = &lk->nranges[i];
		free(*rs);
		*rs = xcalloc(lk->nw + 1, sizeof **rs);
		*nr = 0;
		if (!f->npt) {
			(*rs)[(*nr)++] = (struct byte_range){ { 0 }, 0 };
		}
		/* each window: from the last index point before it to the first
		 * after it; ranges that meet are one */
		size_t b_prev = 0;
		for (size_t k = 0; f->npt && k < lk->nw; k++) {
			size_t a = 0, b;
			while (a + 1 < f->npt && f->pt[a + 1].ts && f->pt[a + 1].ts < lk->w[k].t0 - SLACK)
				a++;
			b = a + 1;
			while (b < f->npt && (!f->pt[b].ts || f->pt[b].ts <= lk->w[k].t1 + SLACK))
				b++;
			if (*nr && a <= b_prev) {	/* meets the one before */
				if (b > b_prev) {
					b_prev = b;
					(*rs)[*nr - 1].end = b < f->npt ? f->pt[b].at.offset : 0;
				}
				continue;
			}
			(*rs)[(*nr)++] = (struct byte_range){ f->pt[a].at,
							      b < f->npt ? f->pt[b].at.offset : 0 };
			b_prev = b;
		}
		maillog_add_ranges(ml, in->files[i], (int)i, *rs, *nr);
	}
	maillog_set_windows(ml, lk->tw, lk->nw);
}

static struct win *window_of(struct lookup *lk, time_t t)
{
	struct win *best = NULL;
	for (size_t i = 0; i < lk->nw; i++)
		if (lk->w[i].t0 <= t + 1 && (!best || lk->w[i].t0 > best->t0))
			best = &lk->w[i];
	return best ? best : lk->nw ? &lk->w[0] : NULL;
}

static bool lacks_context(const struct hop *h)
{
	return h->basis && (strstr(h->basis, "TLS logging may be off") ||
			    strstr(h->basis, "is not in the log"));
}

/* A handshake with this delivery's relay failed on its host before the
 * window: the latest such line, or 0. */
static time_t failed_before(const struct lookup *lk, const struct message *m, const struct hop *h,
			    time_t t0)
{
	time_t latest = 0;
	for (size_t i = 0; i < lk->nfails; i++) {
		const struct fail *f = &lk->fails[i];
		if (f->ts < t0 && f->ts <= h->ts && f->ts > latest && h->peer_ip && m->host &&
		    strcmp(f->ip, h->peer_ip) == 0 && strcmp(f->host, m->host) == 0)
			latest = f->ts;
	}
	return latest;
}

static void check_hop(struct lookup *lk, const struct message *m, const struct hop *h,
		      struct win *w, time_t *begin, time_t *end)
{
	if (h->ts && h->ts < *begin)
		*begin = h->ts;
	if (h->sess_start && h->sess_start < *begin)
		*begin = h->sess_start;
	time_t last = h->last_attempt > h->ts ? h->last_attempt : h->ts;
	if (last > *end)
		*end = last;
	if (lacks_context(h))
		w->need_pre = true;
	if (h->dir == DIR_OUT && h->network && h->tls.used == TRI_NO) {
		time_t f = failed_before(lk, m, h, w->t0);
		if (f && (!w->reach || f < w->reach))
			w->reach = f;
	}
	for (size_t i = 0; i < h->ntries; i++)
		check_hop(lk, m, &h->tries[i], w, begin, end);
}

/* A message must lie in one window, whole - from before its session's
 * start to the hour after its last line - so that every line of it
 * (lines of other recipients too, which name no needle) was read. */
void lookup_check(struct lookup *lk, const struct message *m)
{
	time_t begin = m->first_seen, end = m->last_seen;
	struct win *w = window_of(lk, begin);
	if (!w)
		return;
	if (m->has_inbound)
		check_hop(lk, m, &m->inbound, w, &begin, &end);
	for (size_t i = 0; i < m->ndl; i++)
		check_hop(lk, m, &m->dl[i], w, &begin, &end);
	if (m->filter_hop)
		check_hop(lk, m, m->filter_hop, w, &begin, &end);
	if (m->filter_return)
		check_hop(lk, m, m->filter_return, w, &begin, &end);
	struct win *wb = window_of(lk, begin);
	if (wb != w) {	/* a hop began in an earlier window */
		wb->need_pre |= w->need_pre;
		wb->reach = w->reach && (!wb->reach || w->reach < wb->reach) ? w->reach : wb->reach;
		w->need_pre = false;
		w->reach = 0;
		w = wb;
	}
	if (begin < w->t0 + SAFE_PRE && w->t0 > lk->tmin)
		w->need_pre = true;
	if (w->t0 <= lk->tmin)
		w->need_pre = false;	/* the logs' start: nothing before */
	if (w->t1 >= lk->tmax)
		return;			/* the logs' end: nothing after */
	bool ended = m->removed || m->done || m->deleted || m->expired;
	if (!ended)
		w->need_post = true;
	if (end + SAFE_POST > w->t1 && end + POST > w->want_t1)
		w->want_t1 = end + POST;
}

bool lookup_widen(struct lookup *lk)
{
	bool any = false;
	for (size_t i = 0; i < lk->nw; i++) {
		struct win *w = &lk->w[i];
		if (w->need_pre) {
			w->t0 -= (time_t)PRE << ++w->pre_k;
			any = true;
		}
		if (w->reach && w->reach - SLACK < w->t0) {
			w->t0 = w->reach - SLACK;
			any = true;
		}
		if (w->need_post) {
			w->t1 += (time_t)POST << ++w->post_k;
			any = true;
		}
		if (w->want_t1 > w->t1) {
			w->t1 = w->want_t1;
			any = true;
		}
		w->need_pre = w->need_post = false;
		w->reach = w->want_t1 = 0;
	}
	if (!any)
		return false;
	if (++lk->rounds >= ROUNDS_MAX)
		lk->everything = true;
	merge(lk);
	return !lk->everything;
}

bool lookup_everything(const struct lookup *lk)
{
	return lk->everything;
}

unsigned long lookup_lines(const struct lookup *lk)
{
	unsigned long lines = 0;
	for (size_t i = 0; i < lk->in->n; i++)
		lines += lk->sf[i].lines;
	return lines;
}

unsigned long lookup_hit_lines(const struct lookup *lk)
{
	return lk->hit_lines;
}

void lookup_report(const struct lookup *lk, const struct inputs *in, FILE *f)
{
	time_t covered = 0;
	for (size_t i = 0; i < lk->nw; i++)
		covered += lk->w[i].t1 - lk->w[i].t0;
	unsigned long lines = 0;
	for (size_t i = 0; i < in->n; i++)
		lines += lk->sf[i].lines;
	fprintf(f, "tlswitness: lookup: %lu lines scanned, %lu naming a needle; read in %zu "
		"window%s of %ld minutes in all (%u widening%s)\n", lines, lk->hit_lines, lk->nw,
		lk->nw == 1 ? "" : "s", (long)(covered / 60), lk->rounds, lk->rounds == 1 ? "" : "s");
}

bool lookup_hashed(const struct lookup *lk, size_t file_id)
{
	return lk && file_id < lk->in->n && lk->in->kinds[file_id] == INPUT_LOG &&
	       lk->sf[file_id].sha256[0];
}

void lookup_manifest(const struct lookup *lk, struct manifest *man)
{
	for (size_t i = 0; i < lk->in->n && i < man->nin; i++) {
		const struct scan_file *f = &lk->sf[i];
		struct manifest_input *mi = &man->in[i];
		if (lk->in->kinds[i] != INPUT_LOG || !f->sha256[0])
			continue;
		mi->type = "log";
		mi->unit = "lines";
		if (f->npt && f->pt[0].ts)
			mi->first_ts = f->pt[0].ts;
		if (f->last_ts)
			mi->last_ts = f->last_ts;
		memcpy(mi->sha256, f->sha256, sizeof mi->sha256);
		mi->size = f->bytes_in;
		mi->mtime = f->mtime;
		mi->hashed = true;
		mi->gzip = f->gzip;
		mi->read = f->lines;	/* every line was read by the scan */
		mi->skipped = f->lines >= mi->used ? f->lines - mi->used : 0;
		mi->resumed = false;
	}
}

void lookup_free(struct lookup *lk)
{
	if (!lk)
		return;
	for (size_t i = 0; i < lk->nowned; i++)
		free(lk->owned[i]);
	for (size_t i = 0; lk->sf && i < lk->in->n; i++)
		scan_file_free(&lk->sf[i]);
	free(lk->sf);
	for (size_t i = 0; lk->ranges && i < lk->in->n; i++)
		free(lk->ranges[i]);
	free(lk->ranges);
	free(lk->nranges);
	for (size_t i = 0; i < lk->nfails; i++) {
		free(lk->fails[i].host);
		free(lk->fails[i].ip);
	}
	free(lk->fails);
	free(lk->hits);
	free(lk->w);
	free(lk->tw);
	free(lk);
}
