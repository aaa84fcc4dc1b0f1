/* journal.h - the systemd journal as an input (README "Inputs"): Debian
 * 12's Postfix logs to the journal only, without rsyslog. */
#ifndef TW_JOURNAL_H
#define TW_JOURNAL_H
#include "../util/buf.h"
#include <stdint.h>
#include <stdio.h>

enum journal_kind { JOURNAL_LOCAL, JOURNAL_FILE, JOURNAL_DIR };

/* The mail entries (SYSLOG_FACILITY=2, RFC 5424's mail) of a journal -
 * the local system's, one journal file, or a directory of them - copied
 * to a temporary file in the RFC 3339 form rsyslog writes ("2026-12-01T
 * 22:14:00.123456+00:00 host ident[pid]: message", UTC), one line an
 * entry in journal order, and that file named name for every reader
 * (ls_spool_adopt).  The evidence then reads name:N, the Nth mail entry.
 * False with why on error (no journal there, libsystemd's error). */
bool journal_spool(enum journal_kind kind, const char *path, const char *name,
		   unsigned long *entries, struct buf *why);

/* --state (README "Nightly sweeps"): only the entries after the one whose
 * cursor is after (NULL: from the first); first and last, the cursors of
 * the first and last entry copied (malloc; NULL when none was), for the
 * manifest and the next run.  *lost: the entry after
 * names is no longer in the journal (vacuumed), so the copy begins at the
 * first entry after where it was, and entries between may be missing. */
struct journal_resume {
	const char *after;
	char *first, *last;	/* cursors of the first and last entry copied */
	bool lost;
	/* entries whose writer is not a mail server (journal_entry_trusted):
	 * how many, the first one's cursor (malloc) and why */
	unsigned long untrusted;
	char *untrusted_first;
	char untrusted_why[300];
};
bool journal_spool_from(enum journal_kind kind, const char *path, const char *name,
			struct journal_resume *res, unsigned long *entries, struct buf *why);

/* One entry as the line of the text copy: "STAMP HOST IDENT[PID]: MESSAGE"
 * (RFC 3339, UTC, microseconds), each value flat (a newline, carriage
 * return or NUL in it a space).  Attacker-controlled: fuzzed
 * (tests/fuzz/fuzz_journal.c). */
void journal_entry_line(struct buf *b, uint64_t usec, const char *host, size_t hn,
			const char *ident, size_t in, const char *pid, size_t pn, const char *msg,
			size_t mn);

/* The highest uid of a system account (Debian's login.defs SYS_UID_MAX):
 * mail servers run as root or as accounts up to it. */
#define JOURNAL_SYSTEM_UID_MAX 999

/* Is an entry with these trusted fields (values, NULL when absent) a mail
 * server's?  Not when _COMM or _EXE is a program that writes what it is
 * given (logger, systemd-cat, a shell or an interpreter), nor when _UID is
 * an ordinary user's (above JOURNAL_SYSTEM_UID_MAX, nobody included),
 * except Dovecot's LDA, which runs as the mailbox's owner.  Root is
 * trusted: tlswitness does not defend against root (docs/threat-model.md).
 * False with why set. */
bool journal_entry_trusted(const char *uid, size_t un, const char *comm, size_t cn,
			   const char *exe, size_t en, char *why, size_t whylen);

#endif
