/* pipeline.c - the passes of one run (cli/pipeline.h, ARCHITECTURE.md
 * "The pipeline").  Threads: each log is read on one of its own
 * (ingest/lineblocks.c), a capture on one (ls_prefetch); this thread parses
 * and correlates; messages are judged and written on a second one
 * (util/workq.c), in order.  Every message is judged once, on its final
 * facts: as it comes from the correlator, or for --format paths when its
 * path is linked; addresses are pseudonymised only after judging. */
#include "pipeline.h"
#include "failures.h"
#include "inputs.h"
#include "runmanifest.h"
#include "statefile.h"
#include "lookup.h"
#include "../correlate/capconn.h"
#include "../correlate/hops.h"
#include "../correlate/join.h"
#include "../correlate/logins.h"
#include "../correlate/paths.h"
#include "../correlate/fates.h"
#include "../correlate/track.h"
#include "../ingest/journal.h"
#include "../ingest/policytable.h"
#include "../ingest/linesrc.h"
#include "../report/coverage.h"
#include "../report/escape.h"
#include "../report/output.h"
#include "../report/pseudo.h"
#include "../report/sign.h"
#include "../report/tsq.h"
#include "fileplan.h"
#include "../util/fileid.h"
#include "../rules/policy.h"
#include "../util/textsafe.h"
#include "../util/timeconv.h"
#include "../util/workq.h"
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pipeline {
	const struct options *opt;
	const struct writer_class *wc;
	void *w;			/* the writer's state */
	struct writer_env env;
	struct policy *policy;
	struct policy_table *table;	/* --policy-table */
	struct coverage *cov;		/* what the logs cover, per host */
	struct pseudo *pseudo;
	struct tzconf *tz;
	struct inputs in;
	bool follow;			/* a message writer following paths */
	char **names;			/* the operands and the journals' names */
	char **journal_names;		/* ... the journals' (owned) */
	size_t njournal_names;
	char **journal_first, **journal_last;	/* ... the cursors read, by journal name */
	char **journal_untrusted_first;		/* ... the first entry not a mail server's */
	unsigned long *journal_untrusted;	/* ... and how many were not */
	struct buf out;			/* what the writer appended, not yet written */
	struct output *output;
	bool failed_policy;		/* a message at or above --fail-on */
	struct failures failures;	/* ... which, for the summary */
	int input_errors;
	struct tracker *tracker;
	struct join *join;		/* captures, when any were given */
	bool joining;			/* logs read in step with the captures */
	struct workq *wq;		/* judging and writing, on a second thread */
	struct paths *paths;		/* messages followed across servers, for
					   writers whose input is WRITER_PATHS */
	struct state_file *state;	/* --state: what the last run left open */
	struct lookup *lookup;		/* a lookup read in windows (cli/lookup.h) */
	bool dry;			/* ... a read that only checks the windows */
	char **files_json;		/* env.files_json, nfiles_json of them */
	size_t *files_json_len;		/* env.files_json_len */
	size_t nfiles_json;
	const char **names_shown;	/* evidence names: the inputs', then the
					   earlier runs' files open state names */
	struct selection sel;		/* which messages are written */
	struct sign_key *sign_key;	/* --sign, read before the run */
	char rules_sha256[65];		/* --rules: of the bytes loaded */
	struct maillog *ml;		/* the read that counts, for the state */
	char report_id[40];		/* the manifest's, for the state */
	bool state_saved;		/* ... saved pending, before the report's rename */
	bool path_selected;		/* a node of the path being settled is */
};

static bool evidence_writer(const struct pipeline *p)
{
	return p->wc->input == WRITER_EVIDENCE;
}

/* Every message is judged here, once, on its settled facts; false when
 * the selection leaves it out (then it is neither written nor counted
 * against --fail-on). */
static bool judge(struct pipeline *p, struct message *m)
{
	if (p->table)
		policy_table_apply(p->table, m);
	policy_judge_message(p->policy, m);
	if (!select_message(&p->sel, m))
		return false;
	if (!p->dry && options_fails(p->opt, m->verdict, m->severity)) {
		p->failed_policy = true;
		failures_add(&p->failures, m);
	}
	return true;
}

/* Judge and write one message: the second thread's work, in message order.
 * It alone touches the output buffer, the paths and the writer until
 * workq_finish.  Into the paths a message goes unjudged: its facts may
 * still change when the next server's log fills them in. */
static void write_message(struct pipeline *p, struct message *m)
{
	if (p->dry) {		/* a lookup's check: what would be written */
		lookup_check(p->lookup, m);
		return;
	}
	if (p->pseudo && !p->wc->pseudonymizes)
		pseudo_message(p->pseudo, m);
	p->wc->message(p->w, m);
	output_flush(p->output, &p->out, false);
}

static void judge_and_write(void *item, void *arg)
{
	struct message *m = item;
	struct pipeline *p = arg;
	if (m->login) {		/* a login joins no path */
		if (judge(p, m))
			write_message(p, m);
		return;
	}
	if (p->paths) {
		/* no path can hold it: counted; written only by a message writer
		 * following the selection along paths */
		if (!paths_add(p->paths, m) && judge(p, m) && p->follow)
			write_message(p, m);
		return;
	}
	if (!judge(p, m))
		return;
	write_message(p, m);
}

static void on_path_settled(struct path_node *n, void *arg)
{
	struct pipeline *p = arg;
	if (judge(p, n->m))
		p->path_selected = true;	/* a path is written when any node is */
}

/* --queue-id or --message-id with a message format: every queue file of a
 * path any of whose nodes was selected, in path order (README "Selecting
 * messages": a selection follows the message across servers). */
struct path_nodes {
	const struct path_node **v;
	size_t n, cap;
};

static void collect_node(const struct path_node *n, const struct hop *h,
			 const struct path_link *l, void *arg)
{
	struct path_nodes *c = arg;
	(void)h;
	(void)l;
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i] == n)
			return;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 8;
		c->v = xrealloc(c->v, c->cap * sizeof *c->v);
	}
	c->v[c->n++] = n;
}

static void on_path_messages(struct paths *paths, struct path_node *root, void *arg)
{
	struct pipeline *p = arg;
	struct path_nodes c = { 0 };
	paths_walk(paths, root, p->path_selected ? collect_node : NULL, &c);
	for (size_t i = 0; i < c.n; i++)
		write_message(p, c.v[i]->m);
	free(c.v);
	p->path_selected = false;
}

static void on_path(struct paths *paths, struct path_node *root, void *arg)
{
	struct pipeline *p = arg;
	if (p->dry) {
		on_path_messages(paths, root, arg);	/* each node checked */
		return;
	}
	if (p->path_selected)
		p->wc->path(p->w, paths, root);
	p->path_selected = false;
	output_flush(p->output, &p->out, false);
}

/* The manifest's report_sha256: every byte of the output so far, written
 * or still in the buffer (report/output.h). */
static void report_sha256(void *arg, char hex[65])
{
	struct pipeline *p = arg;
	if (p->output)
		output_body_sha256(p->output, &p->out, hex);
	else
		hex[0] = '\0';
}

static void release_message(void *item)
{
	message_free(item);
}

/* Every correlated message, joined or not: its deliveries become one per
 * recipient before anything judges, links or counts them. */
static void on_message(struct message *m, void *arg)
{
	message_bare_addresses(m);
	fates_settle(m);
	workq_push(((struct pipeline *)arg)->wq, m);
}

/* A writer's flush in the middle of its finish (struct writer_end). */
static void flush_out(void *arg)
{
	struct pipeline *p = arg;
	output_flush(p->output, &p->out, false);
}

/* Logins are records of their own, judged and written in turn with the
 * messages, by writers that take them (README "Retrieval"). */
static bool wants_logins(const struct pipeline *p)
{
	return p->wc->logins && !p->dry && !p->follow && !evidence_writer(p);
}

static void on_evidence(const struct evidence *ev, void *arg)
{
	struct pipeline *p = arg;
	if (ev->kind == EV_LOGIN && wants_logins(p))
		workq_push(p->wq, login_from_evidence(ev));
	if (evidence_writer(p)) {
		if (!select_time(&p->sel, ev->ts))
			return;
		p->wc->event(p->w, ev);
		output_flush(p->output, &p->out, false);
		return;
	}
	if (p->joining)
		join_advance(p->join, ev->ts);
	if (!p->dry)
		coverage_see(p->cov, ev);
	tracker_feed(p->tracker, ev);
}

static void on_connection(struct smtp_connection *c, void *arg)
{
	struct pipeline *p = arg;
	if (c->retr && !evidence_writer(p)) {	/* IMAP, POP3: a login, never an arrival */
		if (wants_logins(p) && select_time(&p->sel, c->first_ts))
			workq_push(p->wq, login_from_capture(c));
		return;
	}
	if (evidence_writer(p)) {
		if (!select_time(&p->sel, c->first_ts))
			return;
		struct tls_state t;
		char basis[300];
		tls_state_init(&t);
		const char *status;
		if (c->retr)
			login_capture_facts(c, &t, basis, sizeof basis, &status);
		else
			capconn_tls(c, &t, basis, sizeof basis);
		p->wc->connection(p->w, c, &t, basis);
		tls_state_free(&t);
		output_flush(p->output, &p->out, false);
		return;
	}
	join_add_connection(p->join, c);
}

/* Second read of the logs: join, then judge and write. */
static void on_message_joined(struct message *m, void *arg)
{
	struct pipeline *p = arg;
	if (join_message(p->join, m))
		on_message(m, arg);
}

/* First read: only learn from exact matches. */
static void on_message_observe(struct message *m, void *arg)
{
	join_observe(((struct pipeline *)arg)->join, m);
	message_free(m);
}

static void feed_tracker(const struct evidence *ev, void *arg)
{
	tracker_feed(arg, ev);
}

static bool trusted_ip(const char *ip, void *arg)
{
	return ip && policy_trusts(arg, ip);
}

static void on_mail(const struct mail_msg *mm, void *arg)
{
	struct pipeline *p = arg;
	on_message(hops_message(mm, trusted_ip, p->policy), p);
}

static void add_logs(const struct pipeline *p, struct maillog *ml)
{
	if (p->lookup) {	/* the windows around the needles only */
		lookup_add_ranges(p->lookup, ml);
		return;
	}
	for (size_t i = 0; i < p->in.n; i++) {
		if (p->in.kinds[i] != INPUT_LOG)
			continue;
		if (p->state && state_unchanged(p->state, (int)i))
			p->in.unchanged[i] = true;	/* read whole before: nothing new */
		else if (p->state)
			maillog_add_resumed(ml, p->in.files[i], (int)i,
					    state_resume_of(p->state, (int)i));
		else
			maillog_add(ml, p->in.files[i], (int)i);
	}
}

/* Pass 1: every capture once, for the join's bounded summary (or, for the
 * events format, its connections as they are). */
static void read_captures(struct pipeline *p)
{
	const struct options *o = p->opt;
	struct capture_reader *cr = capture_new(o->ports, o->nports, stderr, on_connection, p);
	capture_set_threads(cr, o->threads);
	for (size_t i = 0; i < p->in.ncaptures; i++)
		if (!capture_read(cr, p->in.files[p->in.captures[i]], p->in.captures[i],
				  &p->in.cst[i]))
			p->input_errors++;
	capture_free(cr);
}

/* Pass 2: the logs once, to learn the capture clock's offset from exact
 * matches; nothing is written. */
static void first_read_offset(struct pipeline *p)
{
	FILE *devnull = fopen("/dev/null", "w");
	struct tracker *t1 = tracker_new(on_message_observe, p);
	struct maillog *ml1 = maillog_new(p->tz, p->opt->year, devnull ? devnull : stderr,
					  feed_tracker, t1);
	add_logs(p, ml1);
	maillog_run(ml1);
	tracker_finish(t1);
	tracker_free(t1);
	maillog_free(ml1);
	if (devnull)
		fclose(devnull);
}

/* Pass 3: the logs, correlated, joined with the captures read beside them
 * when there are both; returns the reader, whose counts the manifest and
 * the accounting need. */
static struct maillog *read_logs(struct pipeline *p)
{
	const struct options *o = p->opt;
	if (!p->tracker)	/* --state made it, with what the last run left open */
		p->tracker = tracker_new(p->joining ? on_message_joined : on_message, p);
	struct maillog *ml = maillog_new(p->tz, o->year, stderr, on_evidence, p);
	maillog_set_threads(ml, o->threads);
	add_logs(p, ml);
	p->input_errors += maillog_ninputs(ml) ? maillog_run(ml) : 0;
	/* --state: what is still open waits for the next run's lines, unless
	 * --state-close ends the period */
	if (!p->state || o->state_close)
		tracker_finish(p->tracker);
	if (p->joining) {
		join_finish(p->join, on_message, p);
		p->input_errors += (int)join_reread_failures(p->join);
	}
	return ml;
}

/* Messages' own Received headers: each its own record. */
static void read_mails(struct pipeline *p)
{
	for (size_t i = 0; i < p->in.nmails && !evidence_writer(p); i++)
		if (!mail_read(p->in.files[p->in.mails[i]], p->in.mails[i], stderr, on_mail, p,
			       &p->in.mst[i]))
			p->input_errors++;
}

/* A lookup (cli/lookup.h): the first pass, then dry reads of the windows
 * until no selected message lacks anything, each with a tracker, paths
 * and judging thread of its own; what they counted is forgotten. */
static void lookup_windows(struct pipeline *p)
{
	const struct options *o = p->opt;
	if (!lookup_scan(p->lookup)) {
		lookup_free(p->lookup);
		p->lookup = NULL;
		return;
	}
	p->dry = true;
	do {
		if (p->wc->input == WRITER_PATHS)
			p->paths = paths_new(on_path_settled, on_path, p);
		else if (p->follow)
			p->paths = paths_new(on_path_settled, on_path_messages, p);
		p->wq = workq_new(judge_and_write, release_message, p, o->threads > 1);
		if (!p->wq)
			p->wq = workq_new(judge_and_write, release_message, p, false);
		struct maillog *ml = read_logs(p);
		workq_finish(p->wq);
		if (p->paths)
			paths_finish(p->paths);
		workq_free(p->wq);
		paths_free(p->paths);
		tracker_free(p->tracker);
		maillog_free(ml);
		p->wq = NULL;
		p->paths = NULL;
		p->tracker = NULL;
	} while (lookup_widen(p->lookup));
	p->dry = false;
	p->sel.judged = p->sel.selected = 0;
	if (lookup_everything(p->lookup)) {
		lookup_free(p->lookup);
		p->lookup = NULL;
	}
}

static void read_everything(struct pipeline *p, struct maillog **ml)
{
	const struct options *o = p->opt;
	p->join = join_new();
	join_set_skew_max(p->join, o->skew_max);
	if (!p->in.nlogs)
		join_stream_to(p->join, on_message, p);
	read_captures(p);
	bool joining = !evidence_writer(p) && p->in.ncaptures && p->in.nlogs &&
		       join_nrecords(p->join);
	if (joining && !o->skew_given)
		first_read_offset(p);
	join_settle(p->join, o->skew_given, o->skew);
	if (joining) {	/* read again beside the logs, in step with them */
		for (size_t i = 0; i < p->in.ncaptures; i++)
			join_add_capture(p->join, p->in.files[p->in.captures[i]], p->in.captures[i],
					 p->in.cst[i].first_ts, p->in.cst[i].packets);
		join_set_reading(p->join, o->ports, o->nports, o->threads);
		p->joining = true;
	}
	*ml = read_logs(p);
	read_mails(p);
}

/* What the run says of itself on standard error. */
/* What the run says of itself on standard error: the accounting of each
 * input (-q leaves it out), then the warnings of what was lost or left
 * out on the way, which -q does not silence. */
static void account(const struct pipeline *p, const struct maillog *ml, bool quiet)
{
	if (!quiet && p->lookup) {
		lookup_report(p->lookup, &p->in, stderr);
	} else if (!quiet) {
		inputs_report_logs(ml, stderr);
		for (size_t i = 0; i < p->in.n; i++)
			if (p->in.unchanged[i])
				fprintf(stderr, "tlswitness: %s: not read: an earlier run read it to "
					"its end and it has not changed since (--state)\n",
					text_shown(p->in.shown[i]));
	}
	if (tracker_evicted(p->tracker))
		fprintf(stderr, "tlswitness: %lu sessions, processes or messages were "
			"closed early: more than 100000 were open at once\n",
			tracker_evicted(p->tracker));
	if (tracker_cut(p->tracker))
		fprintf(stderr, "tlswitness: %lu fields (Message-IDs, addresses, host names, "
			"replies) were longer than %d bytes and were cut to it\n",
			tracker_cut(p->tracker), TRACK_FIELD_MAX);
	if (p->joining && !quiet)
		join_report(p->join, stderr);
	if (!quiet)
		inputs_report_others(&p->in, stderr);
	if (p->wc->account)
		p->wc->account(p->w, stderr);
	if (p->paths && paths_unwritten(p->paths))
		fprintf(stderr, "tlswitness: paths: %lu queue files are in no path written (their "
			"links make a loop no first server reaches)\n", paths_unwritten(p->paths));
}

/* The policy, the zone and the key: 0, or the exit status to leave with. */
static int prepare(struct pipeline *p)
{
	const struct options *o = p->opt;
	p->tz = tz_new(o->tz_spec);
	if (!p->tz) {
		fprintf(stderr, "tlswitness: --tz: unknown zone '%s'\n", o->tz_spec);
		return 2;
	}
	p->sel = o->select;
	char swhy[300];
	if (!select_ready(&p->sel, p->tz, time(NULL), swhy, sizeof swhy)) {
		fprintf(stderr, "tlswitness: %s\n", swhy);
		return 2;
	}
	struct buf why;
	buf_init(&why);
	if (o->keyfile && !(p->pseudo = pseudo_load(o->keyfile, &why))) {
		fprintf(stderr, "tlswitness: --pseudonymize: %s\n", why.p);
		buf_free(&why);
		return 2;
	}
	if (o->rules_path) {	/* read once: what is judged is what the manifest hashes */
		char *text;
		size_t n;
		if (!fileid_read_all(o->rules_path, "--rules", 16u << 20, &text, &n, &why)) {
			fprintf(stderr, "tlswitness: %s\ntlswitness: the rule file cannot be read; "
				"nothing was analysed\n", why.p);
			buf_free(&why);
			return 3;
		}
		manifest_hash_bytes(text, n, p->rules_sha256);
		p->policy = policy_load(o->rules_path, text, n, &why);
		free(text);
	} else {
		p->policy = policy_builtin(&why);
	}
	if (!p->policy) {
		fputs(why.p ? why.p : "", stderr);
		fprintf(stderr, "tlswitness: the rule file has errors; nothing was analysed\n");
		buf_free(&why);
		return 3;
	}
	buf_reset(&why);
	if (o->policy_table && !(p->table = policy_table_load(o->policy_table, &why))) {
		fputs(why.p ? why.p : "", stderr);
		fprintf(stderr, "tlswitness: --policy-table: the table has errors; "
			"nothing was analysed\n");
		buf_free(&why);
		return 2;
	}
	p->cov = coverage_new();
	if (!fileplan_check(o, &why)) {
		fprintf(stderr, "tlswitness: %s\n", why.p);
		buf_free(&why);
		return 2;
	}
	if (o->manifest_path && !output_check(o->manifest_path, &why)) {
		fprintf(stderr, "tlswitness: --manifest: %s\n", why.p);
		buf_free(&why);
		return 2;
	}
	if (o->state_path && !(p->state = state_open(o->state_path, o->state_reset, o->state_key,
						      stderr, &why))) {
		fprintf(stderr, "tlswitness: %s\n", why.p);
		buf_free(&why);
		return 2;
	}
	/* a re-run the same day must not replace the last run's report: the
	 * state has gone on past what it holds, so its findings would be lost */
	const char *prev = p->state ? state_previous_report_path(p->state) : NULL;
	struct fileid was, now;
	if (prev && o->out_path && fileid_of(prev, &was) && was.exists && fileid_of(o->out_path, &now) &&
	    fileid_same(&was, &now)) {
		fprintf(stderr, "tlswitness: -o %s: is the report of this state's last run (report "
			"%s), which this run would replace with only what is new since: name each "
			"run's report apart (by date and time)\n", text_shown(o->out_path),
			state_previous_report(p->state) ? text_shown(state_previous_report(p->state))
			: "?");
		buf_free(&why);
		return 2;
	}
	if (o->sign_key && !(p->sign_key = sign_key_load(o->sign_key, &why))) {
		fprintf(stderr, "tlswitness: %s\n", why.p);
		buf_free(&why);
		return 2;
	}
	/* A seal is made from the bytes read back from the file written:
	 * a FIFO or a device cannot be read back (README "Checking a report") */
	if ((o->sign_key || o->tsq_path) && !output_can_seal(o->out_path, &why)) {
		fprintf(stderr, "tlswitness: %s: %s\n", o->sign_key ? "--sign" : "--timestamp-request",
			why.p);
		buf_free(&why);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	p->output = output_open(o->out_path, &why);
	if (!p->output) {
		fprintf(stderr, "tlswitness: %s\n", why.p);
		buf_free(&why);
		return 2;
	}
	/* The report's own SHA-256 costs a tenth of a JSON run: kept only when
	 * something is made of it - the manifest file, a signature, a time-stamp
	 * request, the state's chain (README "Checking a report"). */
	if (!o->manifest_path && !o->sign_key && !o->tsq_path && !o->state_path)
		output_no_hash(p->output);
	if ((o->sign_key || o->tsq_path) && !output_is_file(p->output)) {	/* raced */
		fprintf(stderr, "tlswitness: %s: no longer a regular file; nothing sealed\n",
			text_shown(o->out_path));
		output_abandon(p->output);
		p->output = NULL;
		buf_free(&why);
		return 2;
	}
	buf_free(&why);
	return 0;
}

/* --state: the inputs must be logs it can tell again next run; they are
 * matched with what the last run read, and its open state is read back
 * into the tracker.  0, or the exit status to leave with. */
static int prepare_state(struct pipeline *p)
{
	for (size_t i = 0; i < p->in.n; i++) {
		const char *what = strcmp(p->in.files[i], "-") == 0
			? "is standard input, which a next run cannot tell again: name the log file"
			: p->in.kinds[i] == INPUT_CAPTURE ? "is a capture: --state reads logs; judge it without --state"
			: p->in.kinds[i] == INPUT_MESSAGE ? "is a message: --state reads logs; judge it without --state"
			: NULL;
		if (what) {
			fprintf(stderr, "tlswitness: --state: %s %s\n", text_shown(p->in.shown[i]), what);
			return 2;
		}
	}
	struct buf why;
	buf_init(&why);
	int losses = state_match(p->state, &p->in, stderr, &why);
	if (losses < 0) {
		fprintf(stderr, "tlswitness: %s\n", why.p);
		buf_free(&why);
		return 2;
	}
	p->input_errors += losses;	/* lines of the series not read: an error */
	p->tracker = tracker_new(on_message, p);
	bool ok = state_load_tracker(p->state, p->tracker, &why);
	if (!ok)
		fprintf(stderr, "tlswitness: %s\n", why.p);
	buf_free(&why);
	if (!ok)
		return 2;
	size_t ng = state_nghosts(p->state);
	p->names_shown = xcalloc(p->in.n + ng + 1, sizeof *p->names_shown);
	for (size_t i = 0; i < p->in.n; i++)
		p->names_shown[i] = p->in.shown[i];
	for (size_t g = 0; g < ng; g++)
		p->names_shown[p->in.n + g] = state_ghost_name(p->state, g);
	return 0;
}

static void pipeline_free(struct pipeline *p)
{
	if (p->w)
		p->wc->free(p->w);
	workq_free(p->wq);
	paths_free(p->paths);
	join_free(p->join);
	tracker_free(p->tracker);
	state_close(p->state);
	lookup_free(p->lookup);
	free(p->names_shown);
	for (size_t i = 0; i < p->nfiles_json; i++)
		free(p->files_json[i]);
	free(p->files_json);
	free(p->files_json_len);
	inputs_free(&p->in);
	for (size_t i = 0; i < p->njournal_names; i++)
		free(p->journal_names[i]);
	for (size_t i = 0; p->journal_first && i < p->opt->njournals; i++) {
		free(p->journal_first[i]);
		free(p->journal_last[i]);
		free(p->journal_untrusted_first[i]);
	}
	free(p->journal_first);
	free(p->journal_last);
	free(p->journal_untrusted_first);
	free(p->journal_untrusted);
	free(p->names);
	select_free(&p->sel);
	pseudo_free(p->pseudo);
	sign_key_free(p->sign_key);
	policy_free(p->policy);
	policy_table_free(p->table);
	coverage_free(p->cov);
	buf_free(&p->out);
	tz_free(p->tz);
	ls_spool_free();
}

/* --state: the new state, saved pending before the report is renamed
 * into place (cli/statefile.h), naming the report by id, path and hash
 * (sha NULL: the report did not go to a file). */
static bool save_state(struct pipeline *p, const unsigned char *sha, struct buf *why)
{
	if (!p->state)
		return true;
	struct state_report rep = { .id = p->report_id, .have_sha = sha != NULL };
	char *abs = NULL;
	if (sha) {
		memcpy(rep.sha256, sha, 32);
		char *d = xstrdup(p->opt->out_path), *b = xstrdup(p->opt->out_path);
		char *real = realpath(dirname(d), NULL);
		struct buf path;
		buf_init(&path);
		buf_printf(&path, "%s/%s", real ? real : ".", basename(b));
		abs = path.p;
		free(real);
		free(d);
		free(b);
		rep.path = abs;
	}
	bool ok = state_save(p->state, p->tracker, p->ml, &p->in, &rep, why);
	free(abs);
	p->state_saved = ok;
	return ok;
}

/* The report's seals, from its bytes as written (report/output.h
 * output_close_sealed): the signature, the time-stamp request, then the
 * state that belongs to it. */
static bool seal_report(const unsigned char *bytes, size_t n, const unsigned char sha[32],
			void *arg, struct buf *why)
{
	struct pipeline *p = arg;
	const struct options *o = p->opt;
	if (p->sign_key) {
		struct buf sig;
		buf_init(&sig);
		buf_printf(&sig, "%s.sig", o->out_path);
		bool ok = sign_bytes(p->sign_key, bytes, n, sig.p, why);
		buf_free(&sig);
		if (!ok)
			return false;
	}
	if (o->tsq_path && !tsq_write(sha, o->tsq_path, why))
		return false;
	return save_state(arg, sha, why);
}

int pipeline_run(const struct options *o)
{
	struct pipeline p = { .opt = o, .wc = o->writer };
	buf_init(&p.out);
	int rc = prepare(&p);
	if (rc) {
		policy_free(p.policy);
		policy_table_free(p.table);
		coverage_free(p.cov);
		select_free(&p.sel);
		pseudo_free(p.pseudo);
		sign_key_free(p.sign_key);
		state_close(p.state);
		tz_free(p.tz);
		buf_free(&p.out);
		return rc;
	}
	/* The journals are read first, into text copies named "journal" or
	 * "journal:PATH" (ingest/journal.h), then are inputs like the rest. */
	size_t nnames = o->ninputs + o->njournals;
	char **names = xcalloc(nnames + 1, sizeof *names);
	for (size_t i = 0; i < o->ninputs; i++)
		names[i] = o->inputs[i];
	size_t kept = o->ninputs;
	int journal_errors = 0;
	p.journal_first = xcalloc(o->njournals + 1, sizeof *p.journal_first);
	p.journal_last = xcalloc(o->njournals + 1, sizeof *p.journal_last);
	p.journal_untrusted_first = xcalloc(o->njournals + 1, sizeof *p.journal_untrusted_first);
	p.journal_untrusted = xcalloc(o->njournals + 1, sizeof *p.journal_untrusted);
	for (size_t i = 0; i < o->njournals; i++) {
		struct buf name, why;
		buf_init(&name);
		buf_init(&why);
		buf_adds(&name, "journal");
		if (o->journals[i].path)
			buf_printf(&name, ":%s", o->journals[i].path);
		unsigned long entries = 0;
		/* --state: only the entries after the last run's */
		struct journal_resume res = { .after = p.state ? state_journal_cursor(p.state, name.p)
							       : NULL };
		if (journal_spool_from(o->journals[i].kind, o->journals[i].path, name.p, &res,
				       &entries, &why)) {
			if (res.lost)
				fprintf(stderr, "tlswitness: %s: the entry the last run stopped at is no "
					"longer in the journal (vacuumed): this run begins at the next "
					"one there is, and entries between may be missing\n",
					text_shown(name.p));
			if (p.state)
				state_journal_read(p.state, name.p, res.last);
			if (res.untrusted) {	/* forged evidence: loud, even with -q */
				fprintf(stderr, "tlswitness: %s: error: %lu mail entr%s not written by a "
					"mail server, left out (the first: %s; cursor %s)\n",
					text_shown(name.p), res.untrusted, res.untrusted == 1 ? "y" : "ies",
					res.untrusted_why, res.untrusted_first ? res.untrusted_first : "?");
				journal_errors++;
			}
			p.journal_first[kept - o->ninputs] = res.first;
			p.journal_last[kept - o->ninputs] = res.last;
			p.journal_untrusted_first[kept - o->ninputs] = res.untrusted_first;
			p.journal_untrusted[kept - o->ninputs] = res.untrusted;
			res.first = res.last = res.untrusted_first = NULL;
			names[kept++] = name.p;
		} else {
			fprintf(stderr, "tlswitness: %s: error: %s\n", text_shown(name.p),
				why.p ? why.p : "?");
			journal_errors++;
			buf_free(&name);
		}
		free(res.first);
		free(res.last);
		free(res.untrusted_first);
		buf_free(&why);
	}
	inputs_classify(&p.in, names, kept, o->label, stderr);
	p.journal_names = names + o->ninputs;
	p.njournal_names = kept - o->ninputs;
	p.names = names;
	p.input_errors = p.in.errors + journal_errors;
	if (p.state && (rc = prepare_state(&p)) != 0) {
		output_abandon(p.output);
		pipeline_free(&p);
		return rc;
	}
	size_t nfiles = p.in.n + (p.state ? state_nghosts(p.state) : 0);
	const char *const *shown = p.names_shown ? p.names_shown : p.in.shown;
	p.files_json = xcalloc(nfiles + 1, sizeof *p.files_json);
	p.files_json_len = xcalloc(nfiles + 1, sizeof *p.files_json_len);
	for (size_t i = 0; i < nfiles; i++) {
		struct buf t;
		buf_init(&t);
		json_strn(&t, shown[i], strlen(shown[i]));
		t.p[--t.n] = '\0';	/* open: the reference's ":LINE" follows */
		p.files_json[i] = t.p;
		p.files_json_len[i] = t.n;
	}
	p.nfiles_json = nfiles;
	p.env = (struct writer_env){ .files = shown, .paths = p.names_shown ? p.names_shown : p.in.files,
				     .nfiles = nfiles,
				     .ids = p.in.ids,
				     .pseudo = p.pseudo,
				     .org = o->org, .contact = o->contact,
				     .since = p.sel.since, .until = p.sel.until,
				     .max_findings = o->max_findings, .policy = p.policy,
				     .kinds = p.in.kinds, .ninputs = p.in.n, .tz = p.tz,
				     .year = o->year,
				     .messages_selected = o->select.nmid || o->select.nqid ||
							  o->select.nrcpt || o->select.nfrom,
				     .files_json = (const char *const *)p.files_json,
				     .files_json_len = p.files_json_len };
	p.follow = p.wc->input == WRITER_MESSAGES && (o->select.nqid || o->select.nmid);
	p.lookup = lookup_new(o, &p.in, p.tz);
	if (p.lookup)
		lookup_windows(&p);	/* before the writer: dry reads write nothing */
	p.w = p.wc->begin(&p.out, &p.env);
	if (p.wc->input == WRITER_PATHS)
		p.paths = paths_new(on_path_settled, on_path, &p);
	if (p.follow)
		p.paths = paths_new(on_path_settled, on_path_messages, &p);
	/* From here until workq_finish, messages are judged and written on a
	 * second thread (evidence is written as it is read: no queue). */
	p.wq = workq_new(judge_and_write, release_message, &p,
			 o->threads > 1 && !evidence_writer(&p));
	if (!p.wq)
		p.wq = workq_new(judge_and_write, release_message, &p, false);
	struct maillog *ml = NULL;
	read_everything(&p, &ml);
	workq_finish(p.wq);
	if (p.paths)
		paths_finish(p.paths);	/* the writer thread is done: its buffer is ours */

	struct manifest man;
	bool *known = NULL;	/* a lookup's scan hashed its logs as they were read */
	if (p.lookup) {
		known = xcalloc(p.in.n + 1, sizeof *known);
		for (size_t i = 0; i < p.in.n; i++)
			known[i] = lookup_hashed(p.lookup, i);
		p.in.hash_known = known;
	}
	run_manifest(&man, o, &p.in, ml, p.policy, p.tz, p.pseudo != NULL, p.rules_sha256);
	p.in.hash_known = NULL;
	free(known);
	memcpy(p.report_id, man.report_id, sizeof p.report_id);
	char prev_state[65];
	if (p.state) {	/* the chain: what this run went on from */
		man.state_path = o->state_path;
		man.state_keyed = state_keyed(p.state);
		man.state_previous_sha256 = state_previous_sha256(p.state, prev_state);
		man.state_previous_report = state_previous_report(p.state);
	}
	for (size_t k = 0; k < p.njournal_names; k++) {	/* the journals: after the files */
		size_t id = o->ninputs + k;
		for (size_t i = 0; i < man.nin; i++)
			if (strcmp(p.in.files[i], p.journal_names[k]) == 0)
				id = i;
		if (id < man.nin) {
			man.in[id].journal_first = p.journal_first[k];
			man.in[id].journal_last = p.journal_last[k];
			man.in[id].journal_untrusted = p.journal_untrusted[k];
			man.in[id].journal_untrusted_first = p.journal_untrusted_first[k];
		}
	}
	if (p.lookup)
		lookup_manifest(p.lookup, &man);
	man.body_sha256 = report_sha256;
	man.body_arg = &p;
	struct writer_end end = { .man = &man, .flush = flush_out, .flush_arg = &p };
	if (!p.lookup || lookup_everything(p.lookup))
		end.hosts = coverage_hosts(p.cov, p.sel.since, p.sel.until, &end.nhosts, &end.first,
					   &end.last);
	p.wc->finish(p.w, &end);
	bool failed = false;
	if (o->manifest_path) {
		struct buf b, why;
		buf_init(&b);
		buf_init(&why);
		manifest_json(&b, &man);
		if (!output_write_whole(o->manifest_path, b.p, b.n, &why)) {
			fprintf(stderr, "tlswitness: --manifest: %s\n", why.p);
			failed = true;
		} else if (p.sign_key) {	/* what verify trusts of it is signed too */
			struct buf sig;
			buf_init(&sig);
			buf_printf(&sig, "%s.sig", o->manifest_path);
			if (!sign_bytes(p.sign_key, (const unsigned char *)b.p, b.n, sig.p, &why)) {
				fprintf(stderr, "tlswitness: --manifest: %s\n", why.p);
				failed = true;
			}
			buf_free(&sig);
		}
		buf_free(&b);
		buf_free(&why);
	}
	run_manifest_free(&man);
	output_flush(p.output, &p.out, true);
	account(&p, ml, o->quiet);
	int empty = evidence_writer(&p) ? 0 : inputs_warn_empty(&p.in, ml, stderr);
	if (o->strict_inputs)
		p.input_errors += empty;
	failures_report(&p.failures, o->fail_on, o->out_path, stderr);
	bool nothing_selected = p.sel.any && !p.sel.selected && !evidence_writer(&p);
	if (nothing_selected && p.lookup && !lookup_hit_lines(p.lookup))
		fprintf(stderr, "tlswitness: no message selected (no line of the %lu read names "
			"what was asked for)\n", lookup_lines(p.lookup));
	else if (nothing_selected)
		fprintf(stderr, "tlswitness: no message selected (%lu judged)\n", p.sel.judged);
	struct buf why;
	buf_init(&why);
	p.ml = ml;
	/* the state is saved pending before a report file is renamed into
	 * place, and put in place after it: a run stopped between the two
	 * leaves a pair the next run can tell apart (cli/statefile.h) */
	bool sealed = o->sign_key || o->tsq_path || (p.state && output_is_file(p.output));
	if (!(sealed ? output_close_sealed(p.output, seal_report, &p, p.sign_key != NULL, &why)
	      : output_close(p.output, &why))) {
		fprintf(stderr, "tlswitness: %s\n", why.p);
		if (p.state) {
			state_discard(p.state);
			fprintf(stderr, "tlswitness: --state: left as it was: the report was not "
				"written, so the next run reads these lines again\n");
		}
		failed = true;
	} else if (p.state && (buf_reset(&why), (!p.state_saved && !save_state(&p, NULL, &why)) ||
			       !state_commit(p.state, &why))) {
		fprintf(stderr, "tlswitness: %s\n", why.p);
		failed = true;
	}
	buf_free(&why);
	maillog_free(ml);
	failures_free(&p.failures);
	pipeline_free(&p);
	/* README "Exit codes": findings and an error together are 4, so a
	 * sweep can tell "policy broken" from "evidence incomplete" and both */
	bool error = failed || p.input_errors;
	if (error || p.failed_policy)
		return error && p.failed_policy ? 4 : error ? 2 : 1;
	return nothing_selected ? 5 : 0;
}
