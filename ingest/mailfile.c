/* mailfile.c - stream messages out of .eml, header files and mbox.
 * mbox: a line starting "From " at the start of the file or after a blank
 * line begins a message (the mboxrd family; RFC 4155).  A header block
 * ends at the first empty line (RFC 5322 2.1); its folded lines are joined
 * (2.2.3).  Only the headers are kept; bodies are skipped line by line, so
 * memory stays one header, however large the mailbox.
 * Errors: unreadable files, and a message cut inside its headers, which is
 * still reported with what it had. */
#include "mailfile.h"
#include "../util/textsafe.h"
#include "linesrc.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool mail_looks_like(const char *s, size_t n)
{
	if (n >= 5 && memcmp(s, "From ", 5) == 0)
		return true;
	/* "Name: value" with an RFC 5322 field name starting with a letter */
	if (!n || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++) {
		if (s[i] == ':')
			return true;
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-'))
			return false;
	}
	return false;
}

struct reader {
	struct mail_msg m;
	struct buf hdr;		/* the header being unfolded */
	unsigned long hdr_line;
	bool cut;
	int file_id;
	mail_fn fn;
	void *arg;
	struct mail_stats *st;
	size_t cap;
};

static void copy_trim(char *dst, size_t cap, const char *p, size_t n)
{
	while (n && isspace((unsigned char)*p)) {
		p++;
		n--;
	}
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

static void end_header(struct reader *rd)
{
	if (!rd->hdr.n)
		return;
	const char *h = rd->hdr.p;
	size_t n = rd->hdr.n;
	const char *colon = memchr(h, ':', n);
	if (colon) {
		size_t nl = (size_t)(colon - h);
		const char *v = colon + 1;
		size_t vn = n - nl - 1;
		if (nl == 8 && strncasecmp(h, "Received", 8) == 0) {
			rd->st->received++;
			if (rd->m.nhops < MAIL_MAX_RECEIVED) {
				if (rd->m.nhops == rd->cap) {
					rd->cap = rd->cap ? rd->cap * 2 : 8;
					rd->m.hops = xrealloc(rd->m.hops, rd->cap * sizeof *rd->m.hops);
				}
				struct mail_hop *hop = &rd->m.hops[rd->m.nhops++];
				received_parse(v, vn, &hop->r);
				hop->line = rd->hdr_line;
			} else {
				rd->m.hops_dropped++;
			}
		} else if (nl == 10 && strncasecmp(h, "Message-ID", 10) == 0) {
			copy_trim(rd->m.message_id, sizeof rd->m.message_id, v, vn);
		} else if (nl == 4 && strncasecmp(h, "From", 4) == 0) {
			copy_trim(rd->m.from, sizeof rd->m.from, v, vn);
		} else if (nl == 4 && strncasecmp(h, "Date", 4) == 0) {
			copy_trim(rd->m.date_hdr, sizeof rd->m.date_hdr, v, vn);
		}
	}
	buf_reset(&rd->hdr);
	rd->cut = false;
}

static void end_message(struct reader *rd, bool truncated)
{
	end_header(rd);
	if (rd->m.nhops || rd->m.message_id[0] || rd->m.from[0]) {
		rd->m.truncated = truncated;
		rd->m.file_id = rd->file_id;
		rd->st->messages++;
		rd->fn(&rd->m, rd->arg);
	}
	free(rd->m.hops);
	memset(&rd->m, 0, sizeof rd->m);
	rd->cap = 0;
}

bool mail_read(const char *path, int file_id, FILE *warn, mail_fn fn, void *arg,
	       struct mail_stats *st)
{
	memset(st, 0, sizeof *st);
	struct buf why;
	buf_init(&why);
	struct linesrc *ls = ls_open(path, &why);
	if (!ls) {
		fprintf(warn, "%s: error: %s\n", text_shown(path), why.p);
		st->failed = true;
		st->error = why.p;
		return false;
	}
	buf_free(&why);
	st->gzip = ls_is_gzip(ls);
	struct reader rd = { .file_id = file_id, .fn = fn, .arg = arg, .st = st };
	buf_init(&rd.hdr);
	bool in_headers = true, prev_blank = true, started = false, mbox = false;
	struct span line;
	int rc;
	while ((rc = ls_next(ls, &line)) == 1) {
		unsigned long ln = ls_lineno(ls);
		bool from_line = line.n >= 5 && memcmp(line.p, "From ", 5) == 0;
		if (from_line && prev_blank) {	/* mbox: a new message */
			mbox = true;
			if (started)
				end_message(&rd, in_headers);
			started = true;
			in_headers = true;
			rd.m.line = ln;
			prev_blank = false;
			continue;
		}
		prev_blank = line.n == 0;
		if (!started) {
			started = true;
			rd.m.line = ln;
		}
		if (!in_headers)
			continue;
		if (line.n == 0) {	/* end of the header block */
			end_header(&rd);
			in_headers = false;
			continue;
		}
		if (line.p[0] == ' ' || line.p[0] == '\t') {	/* folded */
			if (rd.cut)
				continue;
			if (rd.hdr.n + line.n + 1 > MAIL_MAX_HEADER) {
				rd.cut = true;
				st->headers_cut++;
				if (st->headers_cut <= 3)
					fprintf(warn, "%s:%lu:1: a header over %d bytes was cut\n",
						text_shown(path), ln, MAIL_MAX_HEADER);
				continue;
			}
			/* unfold: the line break and the folding white space
			 * become one space */
			struct span rest = span_trim(line);
			buf_addc(&rd.hdr, ' ');
			buf_add(&rd.hdr, rest.p, rest.n);
			continue;
		}
		end_header(&rd);
		rd.hdr_line = ln;
		buf_add(&rd.hdr, line.p, line.n < MAIL_MAX_HEADER ? line.n : MAIL_MAX_HEADER);
	}
	/* An mbox whose last message ends inside its headers was cut; a file
	 * of headers alone ends there by nature. */
	if (started)
		end_message(&rd, mbox && in_headers);
	if (mbox && in_headers)
		fprintf(warn, "%s:%lu:1: the last message ends inside its headers: the mailbox "
			"is cut; what it had is reported\n", text_shown(path), ls_lineno(ls));
	st->lines = ls_stats(ls)->lines;
	if (rc < 0) {
		char cut[320];
		snprintf(cut, sizeof cut, "%s%s", ls_error(ls),
			 ls_cut_short(ls) ? "; the lines before it were read" : "");
		fprintf(warn, "%s: error: %s\n", text_shown(path), cut);
		st->failed = true;
		st->error = xstrdup(cut);
	} else {
		ls_sha256(ls, st->sha256);
		st->bytes = ls_stats(ls)->bytes_in;
	}
	buf_free(&rd.hdr);
	ls_close(ls);
	return !st->failed;
}
