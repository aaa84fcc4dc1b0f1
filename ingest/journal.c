/* journal.c - the systemd journal's mail entries as log lines (journal.h),
 * read with libsystemd's sd-journal (sd_journal_open(3)). */
#include "journal.h"
#include "linesrc.h"
#include "../util/timeconv.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>

/* A field's value (after "NAME="), or NULL. */
static const char *field(sd_journal *j, const char *name, size_t *n)
{
	const void *d;
	size_t len;
	if (sd_journal_get_data(j, name, &d, &len) < 0)
		return NULL;
	size_t k = strlen(name) + 1;
	if (len < k)
		return NULL;
	*n = len - k;
	return (const char *)d + k;
}

/* The value with what would end or break a line (a newline, a NUL, a
 * carriage return) as a space: one entry, one line. */
static void put_flat(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		fputc(c == '\n' || c == '\r' || c == '\0' ? ' ' : c, f);
	}
}

bool journal_spool(enum journal_kind kind, const char *path, const char *name,
		   unsigned long *entries, struct buf *why)
{
	return journal_spool_from(kind, path, name, NULL, entries, why);
}

/* Put the journal where the copy begins: before its first entry, or on
 * the entry after the one res names (true: an entry is there to copy
 * first, where the named one is gone). */
static bool seek_start(sd_journal *j, struct journal_resume *res, bool *have, struct buf *why)
{
	*have = false;
	if (!res || !res->after)
		return true;
	int r = sd_journal_seek_cursor(j, res->after);
	if (r < 0) {
		buf_printf(why, "the state's journal cursor is not one: %s (--state-reset starts "
			   "over)", strerror(-r));
		return false;
	}
	r = sd_journal_next(j);
	if (r > 0 && sd_journal_test_cursor(j, res->after) <= 0) {
		res->lost = true;	/* the entry itself is gone: this is the next one */
		*have = true;
	}
	return r >= 0;
}

bool journal_spool_from(enum journal_kind kind, const char *path, const char *name,
			struct journal_resume *res, unsigned long *entries, struct buf *why)
{
	sd_journal *j = NULL;
	int r;
	if (kind == JOURNAL_FILE) {
		const char *paths[] = { path, NULL };
		r = sd_journal_open_files(&j, paths, 0);
	} else if (kind == JOURNAL_DIR) {
		r = sd_journal_open_directory(&j, path, 0);
	} else {
		r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
	}
	if (r < 0) {
		buf_printf(why, "cannot open the journal: %s", strerror(-r));
		return false;
	}
	/* RFC 5424 facility 2, mail: Postfix, Sendmail, Dovecot (syslog(3)) */
	if ((r = sd_journal_add_match(j, "SYSLOG_FACILITY=2", 0)) < 0) {
		buf_printf(why, "cannot select its mail entries: %s", strerror(-r));
		sd_journal_close(j);
		return false;
	}
	FILE *copy = tmpfile();
	if (!copy) {
		buf_printf(why, "cannot make a temporary copy of it: %s", strerror(errno));
		sd_journal_close(j);
		return false;
	}
	*entries = 0;
	bool have;
	if (!seek_start(j, res, &have, why)) {
		fclose(copy);
		sd_journal_close(j);
		return false;
	}
	for (;;) {
		if (!have && sd_journal_next(j) <= 0)
			break;
		have = false;
		if (res) {	/* what the manifest names, where the next run goes on */
			char *c = NULL;
			if (sd_journal_get_cursor(j, &c) >= 0) {
				if (!res->first)
					res->first = strdup(c);
				free(res->last);
				res->last = c;
			}
		}
		uint64_t usec;
		size_t hn = 0, in = 0, pn = 0, mn = 0;
		if (sd_journal_get_realtime_usec(j, &usec) < 0)
			continue;
		const char *host = field(j, "_HOSTNAME", &hn);
		const char *ident = field(j, "SYSLOG_IDENTIFIER", &in);
		const char *pid = field(j, "SYSLOG_PID", &pn);
		if (!pid)
			pid = field(j, "_PID", &pn);
		const char *msg = field(j, "MESSAGE", &mn);
		if (!msg)
			continue;
		char iso[32];
		fmt_iso_utc((time_t)(usec / 1000000), iso, sizeof iso);
		iso[19] = '\0';		/* without the Z: the fraction and zone follow */
		fprintf(copy, "%s.%06lu+00:00 ", iso, (unsigned long)(usec % 1000000));
		put_flat(copy, host ? host : "localhost", host ? hn : 9);
		fputc(' ', copy);
		put_flat(copy, ident ? ident : "-", ident ? in : 1);
		if (pid) {
			fputc('[', copy);
			put_flat(copy, pid, pn);
			fputc(']', copy);
		}
		fputs(": ", copy);
		put_flat(copy, msg, mn);
		fputc('\n', copy);
		(*entries)++;
	}
	sd_journal_close(j);
	if (fflush(copy) != 0 || ferror(copy)) {
		buf_printf(why, "writing its temporary copy failed: %s", strerror(errno));
		fclose(copy);
		return false;
	}
	ls_spool_adopt(name, copy);
	return true;
}
