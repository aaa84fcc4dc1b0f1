/* Fuzz target: journal entries, which any local user can write - who
 * wrote it (journald's _UID, _COMM, _EXE, judged by
 * journal_entry_trusted), the entry as a line of the text copy, and that
 * line through the log pipeline's readers as a log of its own.  The input
 * is the fields separated by NUL bytes: _UID, _COMM, _EXE, _HOSTNAME,
 * SYSLOG_IDENTIFIER, SYSLOG_PID, MESSAGE, repeated for more entries. */
#include "fuzz_common.h"
#include "../../correlate/track.h"
#include "../../ingest/journal.h"
#include "../../ingest/maillog.h"
#include "../../util/timeconv.h"
#include <stdlib.h>
#include <string.h>

static void on_message(struct message *m, void *arg)
{
	(void)arg;
	message_free(m);
}

static void on_ev(const struct evidence *ev, void *arg)
{
	tracker_feed(arg, ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf text;
	buf_init(&text);
	const char *p = (const char *)data, *end = p + size;
	uint64_t usec = 1796000000000000ull;
	while (p < end) {
		const char *f[7] = { 0 };
		size_t n[7] = { 0 };
		for (int k = 0; k < 7 && p < end; k++) {
			const char *z = memchr(p, '\0', (size_t)(end - p));
			size_t len = z ? (size_t)(z - p) : (size_t)(end - p);
			f[k] = p;
			n[k] = len;
			p += len + (z ? 1 : 0);
		}
		char why[300];
		if (!journal_entry_trusted(f[0], n[0], f[1], n[1], f[2], n[2], why, sizeof why))
			continue;
		if (f[6])
			journal_entry_line(&text, usec, f[3], n[3], f[4], n[4], f[5], n[5], f[6], n[6]);
		usec += 1000;
	}
	if (text.n) {
		char path[64];
		int fd = fuzz_file((const uint8_t *)text.p, text.n, path, sizeof path);
		if (fd >= 0) {
			struct tzconf *tz = tz_new("UTC");
			struct tracker *t = tracker_new(on_message, NULL);
			struct maillog *ml = maillog_new(tz, 2026, fuzz_devnull(), on_ev, t);
			maillog_add(ml, path, 0);
			maillog_run(ml);
			tracker_finish(t);
			tracker_free(t);
			maillog_free(ml);
			tz_free(tz);
			close(fd);
		}
	}
	buf_free(&text);
	return 0;
}
