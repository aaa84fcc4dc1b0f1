/* tlswitness.c - the command line: wires ingest -> correlate -> rules ->
 * report.  Exit codes (README "Exit codes"): 0 success, 1 findings at or
 * above --fail-on, 2 usage or input error, 3 invalid rule file. */
#include "correlate/capconn.h"
#include "correlate/hops.h"
#include "ingest/mailfile.h"
#include "correlate/join.h"
#include "correlate/paths.h"
#include "correlate/track.h"
#include "ingest/capture.h"
#include "ingest/detect.h"
#include "ingest/linesrc.h"
#include "ingest/maillog.h"
#include "report/manifest.h"
#include "report/pseudo.h"
#include "report/report.h"
#include "rules/policy.h"
#include "util/timeconv.h"
#include "util/workq.h"
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TW_VERSION "0.1.0"

enum format { FMT_TEXT, FMT_JSON, FMT_EVENTS, FMT_PATHS, FMT_CSV, FMT_HTML, FMT_TLSRPT,
	      FMT_DOMAINS, FMT_MAP_POSTFIX, FMT_MAP_SENDMAIL };

struct run {
	enum format fmt;
	struct policy *policy;
	struct tracker *tracker;
	struct report_ctx rc;
	struct summary sum;
	struct buf out;
	FILE *fp;
	const char *out_path;
	bool write_failed;
	int fail_verdict, fail_severity;	/* -1: not set */
	bool failed_policy;
	struct join *join;		/* captures, when any were given */
	bool joining;			/* logs read in step with the captures */
	struct paths *paths;		/* --format paths */
	struct html *html;		/* --format html */
	struct tlsrpt *tlsrpt;		/* --format tlsrpt */
	struct domains *domains;	/* --format domains, --policy-map */
	struct workq *wq;		/* judging and writing, on a second thread */
};

static void usage(FILE *f)
{
	fputs("usage: tlswitness [options] INPUT...        judge every message's hops\n"
	      "       tlswitness rules check RULEFILE...   validate rule files\n"
	      "       tlswitness rules show                print the built-in policy\n"
	      "\n"
	      "INPUT is a Postfix or Sendmail log, a pcap/pcapng capture, or a message\n"
	      "(.eml, headers, mbox), plain or gzip (told apart by content); '-' reads\n"
	      "a log from standard input.\n"
	      "Rotated log sets are read oldest first.\n"
	      "\n"
	      "options:\n"
	      "  -f, --format FMT    text (default), json (JSON Lines, one message per\n"
	      "                      line), csv (one row per hop), html (a self-contained\n"
	      "                      report), tlsrpt (RFC 8460 aggregate reports), domains\n"
	      "                      (TLS per recipient domain and sending peer),\n"
	      "                      events (every recognised evidence record),\n"
	      "                      paths (each message followed across the servers)\n"
	      "  -r, --rules FILE    policy to apply (default: the built-in rules/default.yaml)\n"
	      "      --fail-on X     exit 1 if a message's verdict (plaintext, weak, unknown)\n"
	      "                      or severity (info .. critical) is at or above X\n"
	      "      --year YYYY     year of the first RFC 3164 stamp (default: inferred\n"
	      "                      from the file's modification time)\n"
	      "      --tz ZONE       zone of stamps without one: UTC, +01:00, Europe/Berlin\n"
	      "                      (default: this machine's)\n"
	      "  -o, --output FILE   write there (atomically: a temporary file renamed into\n"
	      "                      place when complete) instead of standard output\n"
	      "      --ports LIST    TCP ports followed in captures (default 25,587,2525,465)\n"
	      "      --policy-map postfix|sendmail  write a TLS policy map instead: every\n"
	      "                      recipient domain that always took TLS made to require it\n"
	      "      --org NAME, --contact ADDR  organization-name and contact-info of\n"
	      "                      TLS-RPT reports (default tlswitness, postmaster)\n"
	      "      --pseudonymize KEYFILE  replace address local parts by an HMAC-SHA-256\n"
	      "                      token keyed with the file's bytes\n"
	      "      --manifest FILE write the evidence manifest (inputs hashed, rules, build)\n"
	      "                      there as JSON too\n"
	      "      --skew SECONDS  the capture clock's offset from the logs (capture time\n"
	      "                      minus log time); default: estimated from exact matches\n"
	      "                      (queue IDs), else from addresses and times\n"
	      "      --skew-max SECONDS  look for an offset no larger than this without\n"
	      "                      exact matches (default 900)\n"
	      "      --threads N     1: do everything on one thread; 2 or more (the\n"
	      "                      default on a multi-core machine): judge and write\n"
	      "                      on a second one, read and decompress on a third\n"
	      "  -q, --quiet         no per-file accounting on standard error\n"
	      "  -V, --version       print the version\n"
	      "  -h, --help          this text\n", f);
}

static void flush_out(struct run *r, bool force)
{
	if (r->out.n == 0 || (!force && r->out.n < (1 << 16)))
		return;
	if (!r->write_failed && fwrite(r->out.p, 1, r->out.n, r->fp) != r->out.n)
		r->write_failed = true;
	buf_reset(&r->out);
}

/* Judge and write one message: the second thread's work, in message order.
 * It alone touches the output buffer, the summary and the report tables
 * until workq_finish. */
static void write_message(void *item, void *arg)
{
	struct message *m = item;
	struct run *r = arg;
	if (r->rc.pseudo)
		pseudo_message(r->rc.pseudo, m);
	policy_judge_message(r->policy, m);
	summary_add(&r->sum, m);
	if ((r->fail_verdict >= 0 && verdict_rank(m->verdict) >= r->fail_verdict) ||
	    (r->fail_severity >= 0 && severity_rank(m->severity) >= r->fail_severity))
		r->failed_policy = true;
	if (r->fmt == FMT_PATHS)
		paths_add(r->paths, m);
	else if (r->fmt == FMT_JSON)
		json_message(&r->out, m, &r->rc);
	else if (r->fmt == FMT_CSV)
		csv_message(&r->out, m, &r->rc);
	else if (r->fmt == FMT_HTML)
		html_message(r->html, m, &r->rc);
	else if (r->fmt == FMT_TLSRPT)
		tlsrpt_message(r->tlsrpt, m);
	else if (r->fmt == FMT_TEXT)
		text_message(&r->out, m, &r->rc);
	if (r->domains)
		domains_message(r->domains, m);
	flush_out(r, false);
}

/* A path hop that learnt its TLS facts from the other end's log. */
static void judge_path_hop(const struct message *m, struct hop *h, void *arg)
{
	policy_judge(arg, m, h);
}

static void write_path(struct paths *p, struct path_node *root, void *arg)
{
	struct run *r = arg;
	json_path(&r->out, p, root);
	flush_out(r, false);
}

static void release_message(void *item)
{
	message_free(item);
}

static void on_message(struct message *m, void *arg)
{
	workq_push(((struct run *)arg)->wq, m);
}

static void on_evidence(const struct evidence *ev, void *arg)
{
	struct run *r = arg;
	if (r->fmt == FMT_EVENTS) {
		json_event(&r->out, ev, &r->rc);
		flush_out(r, false);
		return;
	}
	if (r->joining)
		join_advance(r->join, ev->ts);
	tracker_feed(r->tracker, ev);
}

static void on_connection(struct smtp_connection *c, void *arg)
{
	struct run *r = arg;
	if (r->fmt == FMT_EVENTS) {
		json_connection(&r->out, c, &r->rc);
		flush_out(r, false);
		return;
	}
	join_add_connection(r->join, c);
}

/* Second pass over the logs: join, then judge and write. */
static void on_message_joined(struct message *m, void *arg)
{
	struct run *r = arg;
	if (join_message(r->join, m))
		on_message(m, arg);
}

/* First pass: only learn from exact matches. */
static void on_message_observe(struct message *m, void *arg)
{
	join_observe(((struct run *)arg)->join, m);
	message_free(m);
}

static void feed_tracker(const struct evidence *ev, void *arg)
{
	tracker_feed(arg, ev);
}

/* /dev/null, /dev/stdout, a FIFO: written as they are.  A temporary file
 * renamed over them would replace the device with a regular file. */
static bool special_file(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode);
}

/* --manifest FILE: the manifest as JSON, in place only when complete. */
static bool write_file_atomically(const char *path, const struct manifest *m)
{
	struct buf b, tmp;
	buf_init(&b);
	buf_init(&tmp);
	manifest_json(&b, m);
	bool direct = special_file(path);
	if (direct)
		buf_adds(&tmp, path);
	else
		buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp.p, "w");
	bool ok = f && fwrite(b.p, 1, b.n, f) == b.n;
	if (f && fclose(f) != 0)
		ok = false;
	if (ok && !direct && rename(tmp.p, path) != 0)
		ok = false;
	if (!ok) {
		fprintf(stderr, "tlswitness: %s: %s\n", path, strerror(errno ? errno : EIO));
		if (!direct)
			unlink(tmp.p);
	}
	buf_free(&b);
	buf_free(&tmp);
	return ok;
}

static bool trusted_ip(const char *ip, void *arg)
{
	return ip && policy_trusts(arg, ip);
}

static void on_mail(const struct mail_msg *mm, void *arg)
{
	struct run *r = arg;
	on_message(hops_message(mm, trusted_ip, r->policy), r);
}

static bool parse_ports(const char *v, uint16_t *ports, size_t *n)
{
	*n = 0;
	char *copy = xstrdup(v), *save = NULL;
	bool ok = true;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		long p = strtol(tok, &end, 10);
		if (*end || p < 1 || p > 65535 || *n == CAP_MAX_PORTS) {
			ok = false;
			break;
		}
		ports[(*n)++] = (uint16_t)p;
	}
	free(copy);
	return ok && *n;
}

static int rules_command(int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "show") == 0) {
		fputs(policy_builtin_text(), stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[0], "check") == 0) {
		int bad = 0;
		for (int i = 1; i < argc; i++) {
			struct buf errs;
			buf_init(&errs);
			struct policy *p = policy_load_file(argv[i], &errs);
			if (!p) {
				fputs(errs.p ? errs.p : "", stderr);
				bad++;
			} else {
				printf("%s: ok: policy %s, %zu rules\n", argv[i], policy_name(p),
				       policy_nrules(p));
			}
			policy_free(p);
			buf_free(&errs);
		}
		return bad ? 3 : 0;
	}
	fputs("usage: tlswitness rules check RULEFILE... | tlswitness rules show\n", stderr);
	return 2;
}

static bool parse_fail_on(struct run *r, const char *v)
{
	r->fail_verdict = verdict_rank(v);
	r->fail_severity = severity_rank(v);
	if (r->fail_verdict == 0)	/* "encrypted": every message */
		return true;
	return r->fail_verdict >= 0 || r->fail_severity >= 0;
}

static void report_inputs(const struct maillog *ml)
{
	for (size_t i = 0; i < maillog_ninputs(ml); i++) {
		const struct input_stats *st = maillog_input(ml, i);
		fprintf(stderr, "tlswitness: %s: %lu lines: %lu used, %lu ignored, "
			"%lu malformed, %lu too long%s%s\n", st->path, st->lines, st->used,
			st->ignored, st->malformed, st->too_long, st->gzip ? " (gzip)" : "",
			st->failed ? " (incomplete: see the error above)" : "");
	}
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "rules") == 0)
		return rules_command(argc - 2, argv + 2);

	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "rules", required_argument, NULL, 'r' },
		{ "fail-on", required_argument, NULL, 'F' },
		{ "year", required_argument, NULL, 'Y' },
		{ "tz", required_argument, NULL, 'Z' },
		{ "output", required_argument, NULL, 'o' },
		{ "ports", required_argument, NULL, 'P' },
		{ "skew", required_argument, NULL, 'S' },
		{ "skew-max", required_argument, NULL, 'X' },
		{ "manifest", required_argument, NULL, 'M' },
		{ "org", required_argument, NULL, 'O' },
		{ "policy-map", required_argument, NULL, 'A' },
		{ "pseudonymize", required_argument, NULL, 'K' },
		{ "contact", required_argument, NULL, 'C' },
		{ "threads", required_argument, NULL, 'T' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run r = { .fmt = FMT_TEXT, .fail_verdict = -1, .fail_severity = -1 };
	const char *rules_path = NULL, *tz_spec = NULL, *manifest_path = NULL;
	const char *org = "tlswitness", *contact = "postmaster", *keyfile = NULL;
	int year = 0;
	bool quiet = false;
	uint16_t ports[CAP_MAX_PORTS];
	size_t nports = 0;
	long skew = 0, skew_max = LEARN_SKEW_MAX;
	bool skew_given = false;
	bool format_given = false, map_given = false;
	int threads = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 1;
	int c;
	while ((c = getopt_long(argc, argv, "f:r:o:qVh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format_given = true;
			if (strcmp(optarg, "text") == 0)
				r.fmt = FMT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				r.fmt = FMT_JSON;
			else if (strcmp(optarg, "events") == 0)
				r.fmt = FMT_EVENTS;
			else if (strcmp(optarg, "paths") == 0)
				r.fmt = FMT_PATHS;
			else if (strcmp(optarg, "csv") == 0)
				r.fmt = FMT_CSV;
			else if (strcmp(optarg, "html") == 0)
				r.fmt = FMT_HTML;
			else if (strcmp(optarg, "tlsrpt") == 0)
				r.fmt = FMT_TLSRPT;
			else if (strcmp(optarg, "domains") == 0)
				r.fmt = FMT_DOMAINS;
			else {
				fprintf(stderr, "tlswitness: unknown format '%s' (text, json, csv, html, "
					"tlsrpt, domains, events, paths)\n", optarg);
				return 2;
			}
			break;
		case 'r': rules_path = optarg; break;
		case 'F':
			if (!parse_fail_on(&r, optarg)) {
				fprintf(stderr, "tlswitness: --fail-on takes a verdict (plaintext, weak, "
					"unknown) or a severity (info, low, medium, high, critical), not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'Y': {
			char *end;
			long y = strtol(optarg, &end, 10);
			if (*end || y < 1970 || y > 2200) {
				fprintf(stderr, "tlswitness: --year takes a year such as 2026, not '%s'\n", optarg);
				return 2;
			}
			year = (int)y;
			break;
		}
		case 'Z': tz_spec = optarg; break;
		case 'S': {
			char *end;
			skew = strtol(optarg, &end, 10);
			if (*end || end == optarg || skew < -86400 || skew > 86400) {
				fprintf(stderr, "tlswitness: --skew takes the capture clock's offset "
					"from the logs in seconds (-86400 .. 86400), not '%s'\n", optarg);
				return 2;
			}
			skew_given = true;
			break;
		}
		case 'X': {
			char *end;
			skew_max = strtol(optarg, &end, 10);
			if (*end || end == optarg || skew_max < 1 || skew_max > 86400) {
				fprintf(stderr, "tlswitness: --skew-max takes the largest offset to "
					"look for, in seconds (1 .. 86400), not '%s'\n", optarg);
				return 2;
			}
			break;
		}
		case 'o': r.out_path = optarg; break;
		case 'M': manifest_path = optarg; break;
		case 'O': org = optarg; break;
		case 'A':
			map_given = true;
			if (strcmp(optarg, "postfix") == 0)
				r.fmt = FMT_MAP_POSTFIX;
			else if (strcmp(optarg, "sendmail") == 0)
				r.fmt = FMT_MAP_SENDMAIL;
			else {
				fprintf(stderr, "tlswitness: --policy-map takes postfix or sendmail, "
					"not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'K': keyfile = optarg; break;
		case 'C': contact = optarg; break;
		case 'P':
			if (!parse_ports(optarg, ports, &nports)) {
				fprintf(stderr, "tlswitness: --ports takes port numbers such as "
					"25,587,2525,465 (at most %d), not '%s'\n", CAP_MAX_PORTS, optarg);
				return 2;
			}
			break;
		case 'T': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || end == optarg || n < 1 || n > 64) {
				fprintf(stderr, "tlswitness: --threads takes a count from 1 to 64, "
					"not '%s'\n", optarg);
				return 2;
			}
			threads = (int)n;
			break;
		}
		case 'q': quiet = true; break;
		case 'V':
			printf("tlswitness %s\n", TW_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (format_given && map_given) {
		/* A map is its own output: one would silently replace the other. */
		fprintf(stderr, "tlswitness: --policy-map and --format are alternatives: give one\n");
		return 2;
	}
	if (optind >= argc) {
		fputs("tlswitness: no input: name one or more log files, or - for standard input\n", stderr);
		usage(stderr);
		return 2;
	}
	struct tzconf *tz = tz_new(tz_spec);
	if (!tz) {
		fprintf(stderr, "tlswitness: --tz: unknown zone '%s'\n", tz_spec);
		return 2;
	}
	struct pseudo *pseudo = NULL;
	if (keyfile) {
		struct buf why;
		buf_init(&why);
		pseudo = pseudo_load(keyfile, &why);
		if (!pseudo) {
			fprintf(stderr, "tlswitness: --pseudonymize: %s\n", why.p);
			buf_free(&why);
			tz_free(tz);
			return 2;
		}
		buf_free(&why);
	}
	r.rc.pseudo = pseudo;
	struct buf errs;
	buf_init(&errs);
	r.policy = rules_path ? policy_load_file(rules_path, &errs) : policy_builtin(&errs);
	if (!r.policy) {
		fputs(errs.p ? errs.p : "", stderr);
		fprintf(stderr, "tlswitness: the rule file has errors; nothing was analysed\n");
		buf_free(&errs);
		tz_free(tz);
		pseudo_free(pseudo);
		return 3;
	}
	buf_free(&errs);

	signal(SIGPIPE, SIG_IGN);
	char *tmp_path = NULL;
	if (r.out_path) {
		if (!special_file(r.out_path)) {
			size_t n = strlen(r.out_path) + 32;
			tmp_path = xmalloc(n);
			snprintf(tmp_path, n, "%s.tmp.%ld", r.out_path, (long)getpid());
		}
		r.fp = fopen(tmp_path ? tmp_path : r.out_path, "w");
		if (!r.fp) {
			fprintf(stderr, "tlswitness: %s: %s\n", tmp_path ? tmp_path : r.out_path,
				strerror(errno));
			free(tmp_path);
			policy_free(r.policy);
			pseudo_free(pseudo);
			tz_free(tz);
			return 2;
		}
	} else {
		r.fp = stdout;
	}
	buf_init(&r.out);
	const char **files = xcalloc((size_t)(argc - optind), sizeof *files);
	int *captures = xcalloc((size_t)(argc - optind), sizeof *captures);
	int *mails = xcalloc((size_t)(argc - optind), sizeof *mails);
	enum input_kind *kinds = xcalloc((size_t)(argc - optind), sizeof *kinds);
	size_t ncaptures = 0, nlogs = 0, nmails = 0;
	int spool_errors = 0;
	for (int i = optind; i < argc; i++) {
		files[i - optind] = argv[i];
		/* a pipe would lose what its detection reads: copied first */
		struct buf why;
		buf_init(&why);
		if (!ls_spool_if_pipe(argv[i], &why)) {
			fprintf(stderr, "%s: error: %s\n", argv[i], why.p ? why.p : "?");
			spool_errors++;
		}
		buf_free(&why);
		kinds[i - optind] = detect_input(argv[i]);
		if (kinds[i - optind] == INPUT_CAPTURE)
			captures[ncaptures++] = i - optind;
		else if (kinds[i - optind] == INPUT_MESSAGE)
			mails[nmails++] = i - optind;
		else
			nlogs++;
	}
	r.rc.files = files;
	r.rc.nfiles = (size_t)(argc - optind);
	if (r.fmt == FMT_TEXT)
		text_header(&r.out);
	else if (r.fmt == FMT_CSV)
		csv_header(&r.out);
	int input_errors = spool_errors;
	/* Captures first: their connections wait to be joined with the logs. */
	r.join = join_new();
	join_set_skew_max(r.join, skew_max);
	if (r.fmt == FMT_PATHS)
		r.paths = paths_new(judge_path_hop, r.policy, write_path, &r);
	else if (r.fmt == FMT_HTML)
		r.html = html_new();
	else if (r.fmt == FMT_TLSRPT)
		r.tlsrpt = tlsrpt_new();
	if (r.fmt == FMT_TEXT || r.fmt == FMT_HTML || r.fmt == FMT_DOMAINS || r.fmt == FMT_MAP_POSTFIX ||
	    r.fmt == FMT_MAP_SENDMAIL)
		r.domains = domains_new();
	/* From here until workq_finish, messages are judged and written on a
	 * second thread (events are written as they are read: no queue). */
	r.wq = workq_new(write_message, release_message, &r,
			 threads > 1 && r.fmt != FMT_EVENTS);
	if (!r.wq)
		r.wq = workq_new(write_message, release_message, &r, false);
	if (!nlogs)
		join_stream_to(r.join, on_message, &r);
	struct capture_reader *cr = capture_new(ports, nports, stderr, on_connection, &r);
	capture_set_threads(cr, threads);
	struct capture_stats *cst = xcalloc(ncaptures + 1, sizeof *cst);
	for (size_t i = 0; i < ncaptures; i++)
		if (!capture_read(cr, files[captures[i]], captures[i], &cst[i]))
			input_errors++;
	capture_free(cr);
	bool joining = r.fmt != FMT_EVENTS && ncaptures && nlogs && join_nrecords(r.join);
	if (joining && !skew_given) {
		/* First pass: exact matches give the capture clock's offset. */
		FILE *devnull = fopen("/dev/null", "w");
		struct tracker *t1 = tracker_new(on_message_observe, &r);
		struct maillog *ml1 = maillog_new(tz, year, devnull ? devnull : stderr,
						  feed_tracker, t1);
		for (int i = optind; i < argc; i++)
			if (kinds[i - optind] == INPUT_LOG)
				maillog_add(ml1, argv[i], i - optind);
		maillog_run(ml1);
		tracker_finish(t1);
		tracker_free(t1);
		maillog_free(ml1);
		if (devnull)
			fclose(devnull);
	}
	join_settle(r.join, skew_given, skew);
	if (joining) {	/* read again beside the logs, in step with them */
		for (size_t i = 0; i < ncaptures; i++)
			join_add_capture(r.join, files[captures[i]], captures[i], cst[i].first_ts,
					 cst[i].packets);
		join_set_reading(r.join, ports, nports, threads);
		r.joining = true;
	}
	r.tracker = tracker_new(joining ? on_message_joined : on_message, &r);
	struct maillog *ml = maillog_new(tz, year, stderr, on_evidence, &r);
	maillog_set_threads(ml, threads);
	for (int i = optind; i < argc; i++)
		if (kinds[i - optind] == INPUT_LOG)
			maillog_add(ml, argv[i], i - optind);
	input_errors += maillog_ninputs(ml) ? maillog_run(ml) : 0;
	tracker_finish(r.tracker);
	if (joining) {
		join_finish(r.join, on_message, &r);
		input_errors += (int)join_reread_failures(r.join);
	}
	/* Messages' own Received headers: each its own record. */
	struct mail_stats *mst = xcalloc(nmails + 1, sizeof *mst);
	for (size_t i = 0; i < nmails && r.fmt != FMT_EVENTS; i++)
		if (!mail_read(files[mails[i]], mails[i], stderr, on_mail, &r, &mst[i]))
			input_errors++;
	workq_finish(r.wq);
	if (r.paths)
		paths_finish(r.paths);	/* the writer thread is done: its buffer is ours */
	if (r.fmt == FMT_TEXT) {
		text_summary(&r.out, &r.sum);
		domains_text(r.domains, &r.out);
	}
	/* The evidence manifest: every input hashed as stored, the rules. */
	struct manifest man;
	memset(&man, 0, sizeof man);
	man.tool_version = TW_VERSION;
	man.command_line = manifest_command_line(argc, argv);
	man.generated = time(NULL);
	manifest_new_id(man.report_id);
	man.tz = tz_describe(tz);
	man.pseudonymized = pseudo ? "HMAC-SHA-256 of address local parts" : NULL;
	man.in = xcalloc(r.rc.nfiles + 1, sizeof *man.in);
	man.nin = r.rc.nfiles;
	for (size_t i = 0; i < maillog_ninputs(ml); i++) {
		const struct input_stats *st = maillog_input(ml, i);
		struct manifest_input *in = &man.in[st->file_id];
		in->type = "log";
		in->unit = "lines";
		in->gzip = st->gzip;
		in->failed = st->failed;
		in->error = st->error;
		in->first_ts = st->first_ts;
		in->last_ts = st->last_ts;
		in->read = st->lines;
		in->used = st->used;
		in->skipped = st->ignored + st->malformed + st->too_long;
		if (st->sha256[0]) {	/* hashed while it was read: no second pass */
			memcpy(in->sha256, st->sha256, sizeof in->sha256);
			in->size = st->bytes_in;
			in->mtime = strcmp(st->path, "-") != 0 ? st->mtime : 0;
			in->hashed = true;
		}
		if (st->year_assumed)
			man.year_assumed = st->year_assumed;
	}
	for (size_t i = 0; i < ncaptures; i++) {
		struct manifest_input *in = &man.in[captures[i]];
		in->type = "capture";
		in->unit = "packets";
		in->gzip = cst[i].gzip;
		in->failed = cst[i].failed;
		in->error = cst[i].error;
		in->first_ts = cst[i].first_ts;
		in->last_ts = cst[i].last_ts;
		in->read = cst[i].packets;
		in->used = cst[i].used;
		in->skipped = cst[i].packets - cst[i].used;
		if (cst[i].sha256[0]) {	/* hashed while it was read */
			memcpy(in->sha256, cst[i].sha256, sizeof in->sha256);
			in->size = cst[i].bytes_in;
			in->mtime = cst[i].mtime;
			in->hashed = true;
		}
	}
	for (size_t i = 0; i < nmails; i++) {
		struct manifest_input *in = &man.in[mails[i]];
		in->type = "message";
		in->unit = "lines";
		in->gzip = mst[i].gzip;
		in->failed = mst[i].failed;
		in->error = mst[i].error;
		in->read = mst[i].lines;
		in->used = mst[i].received;
		if (mst[i].sha256[0]) {
			struct stat sb;
			memcpy(in->sha256, mst[i].sha256, sizeof in->sha256);
			in->size = mst[i].bytes;
			in->mtime = stat(files[mails[i]], &sb) == 0 ? sb.st_mtime : 0;
			in->hashed = true;
		}
	}
	for (size_t i = 0; i < man.nin; i++) {
		struct manifest_input *in = &man.in[i];
		in->path = files[i];
		struct buf why;
		buf_init(&why);
		if (!in->hashed)
			in->hashed = strcmp(files[i], "-") != 0 &&
				     manifest_hash_file(files[i], in->sha256, &in->size,
							&in->mtime, &why);
		buf_free(&why);
	}
	man.rules_path = rules_path ? rules_path : "built-in:rules/default.yaml";
	if (rules_path) {
		struct buf why;
		uint64_t sz;
		time_t mt;
		buf_init(&why);
		manifest_hash_file(rules_path, man.rules_sha256, &sz, &mt, &why);
		buf_free(&why);
	} else {
		manifest_hash_bytes(policy_builtin_text(), strlen(policy_builtin_text()),
				    man.rules_sha256);
	}
	man.policy = policy_name(r.policy);
	const char **ids = xcalloc(policy_nrules(r.policy) + 1, sizeof *ids);
	for (size_t i = 0; i < policy_nrules(r.policy); i++)
		ids[i] = policy_rule_id(r.policy, i);
	man.rule_ids = ids;
	man.nrules = policy_nrules(r.policy);
	if (r.fmt == FMT_TEXT)
		manifest_text(&r.out, &man);
	else if (r.fmt == FMT_HTML)
		html_write(r.html, &r.out, &man, r.domains);
	else if (r.fmt == FMT_TLSRPT)
		tlsrpt_write(r.tlsrpt, &r.out, org, contact, man.report_id);
	else if (r.fmt == FMT_MAP_POSTFIX || r.fmt == FMT_MAP_SENDMAIL)
		domains_policy_map(r.domains, &r.out, r.fmt == FMT_MAP_SENDMAIL);
	if (r.fmt == FMT_DOMAINS)
		domains_json(r.domains, &r.out);
	if (r.fmt == FMT_JSON || r.fmt == FMT_EVENTS || r.fmt == FMT_PATHS ||
	    r.fmt == FMT_DOMAINS)
		manifest_json(&r.out, &man);
	if (manifest_path && !write_file_atomically(manifest_path, &man))
		r.write_failed = true;
	free(ids);
	free(man.in);
	free(man.command_line);
	flush_out(&r, true);
	if (fflush(r.fp) != 0 || ferror(r.fp))
		r.write_failed = true;
	if (!quiet) {
		report_inputs(ml);
		if (tracker_evicted(r.tracker))
			fprintf(stderr, "tlswitness: %lu sessions, processes or messages were "
				"closed early: more than 100000 were open at once\n",
				tracker_evicted(r.tracker));
		if (joining)
			join_report(r.join, stderr);
		for (size_t i = 0; i < nmails; i++)
			fprintf(stderr, "tlswitness: %s: %lu lines: %lu message%s, %lu Received "
				"headers%s%s\n", files[mails[i]], mst[i].lines, mst[i].messages,
				mst[i].messages == 1 ? "" : "s", mst[i].received,
				mst[i].gzip ? " (gzip)" : "",
				mst[i].failed ? " (incomplete: see the error above)" : "");
		for (size_t i = 0; i < ncaptures; i++)
			fprintf(stderr, "tlswitness: %s: %lu packets: %lu used, %lu not TCP, "
				"%lu other ports, %lu truncated; %lu cut by the snap length; "
				"%lu SMTP connections%s; %s%s%s\n",
				cst[i].path, cst[i].packets, cst[i].used, cst[i].not_tcp,
				cst[i].other_ports, cst[i].truncated, cst[i].snapped, cst[i].flows,
				cst[i].flows_dropped ? " (some closed early: too many at once)" : "",
				cst[i].link ? cst[i].link : "unread", cst[i].gzip ? " (gzip)" : "",
				cst[i].failed ? " (incomplete: see the error above)" : "");
	}
	for (size_t i = 0; i < nmails; i++)
		free(mst[i].error);
	free(mst);
	free(mails);
	free(kinds);
	for (size_t i = 0; i < ncaptures; i++)
		capture_stats_free(&cst[i]);
	free(cst);
	free(captures);
	workq_free(r.wq);
	join_free(r.join);
	paths_free(r.paths);
	html_free(r.html);
	pseudo_free(pseudo);
	tlsrpt_free(r.tlsrpt);
	domains_free(r.domains);
	int rc = 0;
	if (r.out_path) {
		if (fclose(r.fp) != 0)
			r.write_failed = true;
		if (r.write_failed || (tmp_path && rename(tmp_path, r.out_path) != 0)) {
			fprintf(stderr, "tlswitness: %s: %s\n", r.out_path,
				strerror(errno ? errno : EIO));
			if (tmp_path)
				unlink(tmp_path);
			r.write_failed = true;
		}
	}
	if (r.write_failed) {
		if (!r.out_path)
			fprintf(stderr, "tlswitness: writing the output failed: %s\n",
				strerror(errno ? errno : EIO));
		rc = 2;
	} else if (input_errors) {
		rc = 2;
	} else if (r.failed_policy) {
		rc = 1;
	}
	free(tmp_path);
	free(files);
	maillog_free(ml);
	tracker_free(r.tracker);
	policy_free(r.policy);
	buf_free(&r.out);
	tz_free(tz);
	ls_spool_free();
	return rc;
}
