/* Fuzz target: the log pipeline - line source (plain or gzip), syslog
 * envelope, Postfix and Sendmail parsers, correlation, policy, JSON. */
#include "fuzz_common.h"
#include "../../correlate/track.h"
#include "../../ingest/maillog.h"
#include "../../report/report.h"
#include "../../rules/policy.h"
#include <stdlib.h>

static struct policy *pol;

static void on_message(struct message *m, void *arg)
{
	struct buf b;
	buf_init(&b);
	policy_judge_message(pol, m);
	const char *files[] = { "fuzz" };
	struct report_ctx rc = { files, 1, NULL };
	json_message(&b, m, &rc);
	text_message(&b, m, &rc);
	buf_free(&b);
	message_free(m);
	(void)arg;
}

static void on_ev(const struct evidence *ev, void *arg)
{
	tracker_feed(arg, ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!pol) {
		struct buf e;
		buf_init(&e);
		pol = policy_builtin(&e);
		buf_free(&e);
	}
	char path[64];
	int fd = fuzz_file(data, size, path, sizeof path);
	if (fd < 0)
		return 0;
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
	return 0;
}
