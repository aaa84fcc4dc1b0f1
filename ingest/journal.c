/* journal.c - the systemd journal's mail entries as log lines (journal.h),
 * read with libsystemd's sd-journal (sd_journal_open(3)).  Any local user
 * can write an entry with SYSLOG_IDENTIFIER=postfix/smtp (logger -t); the
 * fields journald itself adds (_UID, _COMM, _EXE) say who did, and an
 * entry they contradict is counted, never read as evidence. */
#include "journal.h"
#include "linesrc.h"
#include "../util/timeconv.h"
#include <errno.h>
#include <stdio.h>
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
static void put_flat(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		buf_addc(b, c == '\n' || c == '\r' || c == '\0' ? ' ' : c);
	}
}

void journal_entry_line(struct buf *b, uint64_t usec, const char *host, size_t hn,
			const char *ident, size_t in, const char *pid, size_t pn, const char *msg,
			size_t mn)
{
	char iso[32];
	fmt_iso_utc((time_t)(usec / 1000000), iso, sizeof iso);
	iso[19] = '\0';		/* without the Z: the fraction and zone follow */
	buf_printf(b, "%s.%06lu+00:00 ", iso, (unsigned long)(usec % 1000000));
	put_flat(b, host ? host : "localhost", host ? hn : 9);
	buf_addc(b, ' ');
	put_flat(b, ident ? ident : "-", ident ? in : 1);
	if (pid) {
		buf_addc(b, '[');
		put_flat(b, pid, pn);
		buf_addc(b, ']');
	}
	buf_adds(b, ": ");
	put_flat(b, msg, mn);
	buf_addc(b, '\n');
}

/* Programs that write whatever they are given: an entry from one of
 * them is not an MTA's, whatever identifier it gives itself. */
static bool generic_writer(const char *name, size_t n)
{
	static const char *const names[] = { "logger", "systemd-cat", "sh", "bash", "dash", "zsh",
					     "busybox", "perl", "python", "python3", "php", "ruby",
					     "node", "nc", "socat" };
	const char *slash = memrchr(name, '/', n);
	if (slash) {
		n -= (size_t)(slash + 1 - name);
		name = slash + 1;
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		size_t k = strlen(names[i]);
		/* "python3.11", "perl5.36.0", "php8.2": the interpreter's version */
		if (n >= k && memcmp(name, names[i], k) == 0 &&
		    (n == k || (name[k] >= '0' && name[k] <= '9') || name[k] == '.'))
			return true;
	}
	return false;
}

/* Dovecot's LDA runs as the mailbox's owner (Postfix's mailbox_command
 * or a pipe), so its entries come from an ordinary user's uid. */
static bool dovecot_lda(const char *exe, size_t n)
{
	static const char *const tails[] = { "/dovecot/dovecot-lda", "/dovecot/deliver" };
	for (size_t i = 0; i < 2; i++) {
		size_t k = strlen(tails[i]);
		if (n >= k && memcmp(exe + n - k, tails[i], k) == 0)
			return true;
	}
	return false;
}

bool journal_entry_trusted(const char *uid, size_t un, const char *comm, size_t cn,
			   const char *exe, size_t en, char *why, size_t whylen)
{
	if (comm && generic_writer(comm, cn)) {
		snprintf(why, whylen, "written by %.*s (_COMM), not by a mail server", (int)(cn < 64 ? cn : 64),
			 comm);
		return false;
	}
	if (exe && generic_writer(exe, en)) {
		snprintf(why, whylen, "written by %.*s (_EXE), not by a mail server", (int)(en < 200 ? en : 200),
			 exe);
		return false;
	}
	if (uid && un && un < 12) {
		char u[12];
		memcpy(u, uid, un);
		u[un] = '\0';
		char *end;
		unsigned long v = strtoul(u, &end, 10);
		/* Debian's SYS_UID_MAX is 999 (login.defs); 65534 is nobody */
		if (*end == '\0' && (v >= JOURNAL_SYSTEM_UID_MAX + 1) && !(exe && dovecot_lda(exe, en))) {
			snprintf(why, whylen, "written by uid %lu (_UID), an ordinary user's, not a mail "
				 "server's", v);
			return false;
		}
	}
	return true;
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
	struct buf line;
	buf_init(&line);
	bool have;
	if (!seek_start(j, res, &have, why)) {
		buf_free(&line);
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
		/* journald's own fields say who wrote it (systemd.journal-fields(7)):
		 * SYSLOG_IDENTIFIER is whatever the writer chose */
		size_t un = 0, cn = 0, en = 0;
		const char *uid = field(j, "_UID", &un), *comm = field(j, "_COMM", &cn);
		const char *exe = field(j, "_EXE", &en);
		char why_not[300];
		if (!journal_entry_trusted(uid, un, comm, cn, exe, en, why_not, sizeof why_not)) {
			if (res) {
				if (!res->untrusted) {
					char *c = NULL;
					if (sd_journal_get_cursor(j, &c) >= 0)
						res->untrusted_first = c;
					snprintf(res->untrusted_why, sizeof res->untrusted_why, "%s",
						 why_not);
				}
				res->untrusted++;
			}
			continue;
		}
		buf_reset(&line);
		journal_entry_line(&line, usec, host, hn, ident, in, pid, pn, msg, mn);
		fwrite(line.p, 1, line.n, copy);
		(*entries)++;
	}
	sd_journal_close(j);
	buf_free(&line);
	if (fflush(copy) != 0 || ferror(copy)) {
		buf_printf(why, "writing its temporary copy failed: %s", strerror(errno));
		fclose(copy);
		return false;
	}
	ls_spool_adopt(name, copy);
	return true;
}
