/* Fuzz target: the log pipeline - line source (plain or gzip), syslog
 * envelope, Postfix and Sendmail parsers, correlation, policy, JSON, and
 * the paths across servers (linked, written, let go as they complete). */
#include "fuzz_common.h"
#include "../../correlate/fates.h"
#include "../../correlate/paths.h"
#include "../../correlate/track.h"
#include "../../ingest/maillog.h"
#include "../../report/json.h"
#include "../../report/pathsjson.h"
#include "../../report/text.h"
#include "../../rules/policy.h"
#include <stdlib.h>

static struct policy *pol;

static void settled(struct path_node *n, void *arg)
{
	policy_judge_message(pol, n->m);
	(void)arg;
}

static void write_path(struct paths *p, struct path_node *root, void *arg)
{
	struct buf b;
	buf_init(&b);
	const char *files[] = { "fuzz" };
	struct writer_env env = { .files = files, .nfiles = 1 };
	json_path(&b, p, root, &env);
	buf_free(&b);
	(void)arg;
}

static void on_message(struct message *m, void *arg)
{
	struct buf b;
	buf_init(&b);
	message_bare_addresses(m);	/* as the pipeline does, before anything else */
	fates_settle(m);
	paths_add(arg, m);	/* unjudged, as the pipeline gives it */
	policy_judge_message(pol, m);
	const char *files[] = { "fuzz" };
	struct writer_env env = { .files = files, .nfiles = 1 };
	json_message(&b, m, &env);
	text_message(&b, m, &env);
	buf_free(&b);
	message_free(m);
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
	struct paths *paths = paths_new(settled, write_path, NULL);
	struct tracker *t = tracker_new(on_message, paths);
	struct maillog *ml = maillog_new(tz, 2026, fuzz_devnull(), on_ev, t);
	maillog_add(ml, path, 0);
	maillog_run(ml);
	tracker_finish(t);
	paths_finish(paths);
	paths_free(paths);
	tracker_free(t);
	maillog_free(ml);
	tz_free(tz);
	close(fd);
	return 0;
}
