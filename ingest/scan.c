/* scan.c - needles found in a log without parsing it (ingest/scan.h).
 * The decoded bytes come in blocks; the last line cut by a block's end is
 * carried to the next, so every needle is found inside a whole line.
 * Lines are counted with memchr, the needles found with memmem (glibc's
 * two-way search) - in a lower-cased copy for the case-insensitive ones. */
#include "scan.h"
#include "linesrc.h"
#include <ctype.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdlib.h>
#include <string.h>

#define BLOCK (1 << 20)

static void add_point(struct scan_file *f, uint64_t off, unsigned long lineno,
		      const char *line, size_t n, struct syslog_ctx *ctx)
{
	if (f->npt == f->cappt) {
		f->cappt = f->cappt ? f->cappt * 2 : 64;
		f->pt = xrealloc(f->pt, f->cappt * sizeof *f->pt);
	}
	struct scan_point *p = &f->pt[f->npt++];
	memset(p, 0, sizeof *p);
	p->at.offset = off;
	p->at.lineno = lineno;
	p->at.ctx = *ctx;	/* before this line's stamp: a reader from here parses it */
	struct syslog_rec rec;
	const char *why;
	if (syslog_parse(ctx, (struct span){ line, n }, &rec, &why))
		p->ts = rec.ts;
	p->at.clock.now = p->ts;
}

/* dst = src with ASCII A-Z lowered, eight bytes a step: in each byte of
 * the low seven bits, adding 0x3f sets the high bit from 'A' on, adding
 * 0x25 from past 'Z' on; where exactly one is set (and the byte is ASCII)
 * it is a capital, and 0x20 is added. */
static void fold_ascii(char *dst, const char *src, size_t n)
{
	const uint64_t high = 0x8080808080808080ULL, low7 = 0x7f7f7f7f7f7f7f7fULL;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x;
		memcpy(&x, src + i, 8);
		uint64_t h7 = x & low7;
		uint64_t ge_a = h7 + 0x3f3f3f3f3f3f3f3fULL, gt_z = h7 + 0x2525252525252525ULL;
		uint64_t upper = (ge_a ^ gt_z) & ~x & high;
		x |= upper >> 2;
		memcpy(dst + i, &x, 8);
	}
	for (; i < n; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
}

struct hitter {
	const struct scan_needle *nd;
	size_t nn;
	scan_hit_fn hit;
	void *arg;
	struct syslog_ctx *ctx;
	char *folded;
	size_t capfold;
};

/* The lines of p[0 .. n) (whole lines, each ending in '\n') holding a
 * needle, in order, each once; base: the line number before p. */
static void find(struct hitter *h, const char *p, size_t n, unsigned long base)
{
	bool fold = false;
	for (size_t k = 0; k < h->nn; k++)
		fold |= h->nd[k].fold;
	if (fold) {
		if (h->capfold < n) {
			h->capfold = n;
			h->folded = xrealloc(h->folded, n);
		}
		fold_ascii(h->folded, p, n);
	}
	/* the next hit of each needle, found lazily, so the lines come in order */
	const char *next[64];
	size_t nn = h->nn < 64 ? h->nn : 64;
	for (size_t k = 0; k < nn; k++) {
		const char *hay = h->nd[k].fold ? h->folded : p;
		const char *m = memmem(hay, n, h->nd[k].s, h->nd[k].n);
		next[k] = m ? p + (m - hay) : NULL;
	}
	const char *counted = p;
	unsigned long lineno = base;
	for (;;) {
		const char *first = NULL;
		for (size_t k = 0; k < nn; k++)
			if (next[k] && (!first || next[k] < first))
				first = next[k];
		if (!first)
			return;
		const char *ls = first;
		while (ls > p && ls[-1] != '\n')
			ls--;
		const char *le = memchr(first, '\n', (size_t)(p + n - first));
		if (!le)
			return;	/* cannot be: the block ends in a newline */
		for (const char *c = counted; (c = memchr(c, '\n', (size_t)(ls - c))); c++)
			lineno++;
		counted = ls;
		size_t len = (size_t)(le - ls);
		if (len && ls[len - 1] == '\r')
			len--;
		struct syslog_ctx ctx = *h->ctx;
		struct syslog_rec rec;
		const char *why;
		bool ok = syslog_parse(&ctx, (struct span){ ls, len }, &rec, &why);
		h->hit((struct span){ ls, len }, lineno + 1, ok ? &rec : NULL, h->arg);
		/* past this line for every needle */
		for (size_t k = 0; k < nn; k++) {
			if (!next[k] || next[k] > le)
				continue;
			const char *hay = h->nd[k].fold ? h->folded : p;
			size_t at = (size_t)(le + 1 - p);
			const char *m = at < n ? memmem(hay + at, n - at, h->nd[k].s, h->nd[k].n) : NULL;
			next[k] = m ? p + (m - hay) : NULL;
		}
	}
}

/* Newlines in p[0 .. n).  With SSE2 (every x86-64): sixteen bytes a
 * step, each compare's 0xff bytes subtracted into byte counters, summed
 * every 255 steps before they could wrap; else eight bytes a step: a
 * byte of x ^ "\n\n..." is zero where p holds one, the high bit of each
 * byte of t below is set exactly for the zero bytes (no carry crosses
 * bytes: 0x7f + 0x7f < 0x100), and those bits, moved down and multiplied
 * by 0x0101..., sum into the top byte. */
static unsigned long count_lines(const char *p, size_t n)
{
	unsigned long c = 0;
	size_t i = 0;
#ifdef __SSE2__
	const __m128i nl16 = _mm_set1_epi8('\n');
	while (i + 16 <= n) {
		__m128i acc = _mm_setzero_si128();
		for (int k = 0; k < 255 && i + 16 <= n; k++, i += 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
			acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, nl16));
		}
		__m128i sum = _mm_sad_epu8(acc, _mm_setzero_si128());
		c += (unsigned long)_mm_cvtsi128_si32(sum) +
		     (unsigned long)_mm_cvtsi128_si32(_mm_srli_si128(sum, 8));
	}
#endif
	const uint64_t nl = 0x0a0a0a0a0a0a0a0aULL, low7 = 0x7f7f7f7f7f7f7f7fULL;
	for (; i + 8 <= n; i += 8) {
		uint64_t x;
		memcpy(&x, p + i, 8);
		x ^= nl;
		uint64_t t = ~(((x & low7) + low7) | x | low7);
		c += (unsigned long)((((t >> 7) & 0x0101010101010101ULL) * 0x0101010101010101ULL) >> 56);
	}
	for (; i < n; i++)
		c += p[i] == '\n';
	return c;
}

bool scan_log(const char *path, const struct scan_needle *nd, size_t nn, struct tzconf *tz,
	      int year, scan_hit_fn hit, void *arg, struct scan_file *out)
{
	memset(out, 0, sizeof *out);
	struct buf why;
	buf_init(&why);
	struct linesrc *ls = ls_open(path, &why);
	if (!ls) {
		snprintf(out->error, sizeof out->error, "%s", why.p ? why.p : "?");
		buf_free(&why);
		return false;
	}
	buf_free(&why);
	out->gzip = ls_is_gzip(ls);
	ls_prefetch(ls);	/* read and inflate on a second thread */
	struct syslog_ctx ctx;
	syslog_ctx_init(&ctx, tz, ls_mtime(ls), year);
	struct hitter h = { .nd = nd, .nn = nn, .hit = hit, .arg = arg, .ctx = &ctx };
	char *b = xmalloc(2 * BLOCK + 1);
	size_t have = 0;	/* bytes in b: the carried line and the new block */
	uint64_t off = 0;	/* decoded offset of b[0] */
	unsigned long lineno = 0;	/* lines before b[0] */
	uint64_t next_point = 0;
	bool ok = true;
	for (;;) {
		long got = ls_read(ls, b + have, BLOCK);
		if (got < 0) {
			snprintf(out->error, sizeof out->error, "%s", ls_error(ls));
			ok = false;
			got = 0;
		}
		have += (size_t)got;
		bool end = got == 0;
		/* whole lines only; at the end, the last one without its newline */
		size_t whole = have;
		if (!end) {
			while (whole && b[whole - 1] != '\n')
				whole--;
			if (!whole && have < 2 * BLOCK)
				continue;	/* a line longer than a block: read on */
			if (!whole)
				whole = have;	/* over 1 MiB: no line, counted as one */
		} else if (whole && b[whole - 1] != '\n') {
			b[whole++] = '\n';	/* its last line, as the reader takes it */
			have = whole;
		}
		if (!whole)
			break;
		if (off >= next_point) {
			const char *e = memchr(b, '\n', whole);
			add_point(out, off, lineno, b, e ? (size_t)(e - b) : whole, &ctx);
			next_point = off + SCAN_POINT_EVERY;
		}
		find(&h, b, whole, lineno);
		{	/* the block's last line: where the log ends, in time */
			const char *e = b + whole - 1, *st = e;
			while (st > b && st[-1] != '\n')
				st--;
			struct syslog_ctx c2 = ctx;
			struct syslog_rec rec;
			const char *w2;
			if (syslog_parse(&c2, (struct span){ st, (size_t)(e - st) }, &rec, &w2) &&
			    rec.ts > out->last_ts)
				out->last_ts = rec.ts;
		}
		lineno += count_lines(b, whole);
		off += whole;
		memmove(b, b + whole, have - whole);
		have -= whole;
		if (end)
			break;
	}
	out->bytes = off;
	out->lines = lineno;
	out->bytes_in = ls_stats(ls)->bytes_in;
	out->mtime = ls_mtime(ls);
	if (ok)
		ls_sha256(ls, out->sha256);
	free(b);
	free(h.folded);
	ls_close(ls);
	return ok;
}

void scan_file_free(struct scan_file *f)
{
	free(f->pt);
	memset(f, 0, sizeof *f);
}
