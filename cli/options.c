/* options.c - parsing the command line (cli/options.h).  getopt_long(3);
 * formats and maps are looked up in the writers' table (report/writer.h). */
#include "options.h"
#include "version.h"
#include "../correlate/learn.h"
#include "../model/verdict.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TW_VERSION_TEXT "tlswitness " TW_VERSION "\n"

/* One line an option; the man page says the rest (README "Usage"). */
static void usage(FILE *f)
{
	fputs("usage: tlswitness [options] INPUT...        judge every message's hops\n"
	      "       tlswitness rules check RULEFILE...   validate rule files\n"
	      "       tlswitness rules show                print the built-in policy\n"
	      "       tlswitness verify REPORT [--key PUB] check a report and its inputs\n"
	      "INPUT: Postfix/Sendmail logs, pcap/pcapng captures, messages; plain or gzip;\n"
	      "'-' or none (stdin not a terminal) reads standard input.\n"
	      "  -f, --format FMT        text json csv html tlsrpt domains events paths story users\n"
	      "  -r, --rules FILE        policy (default: built-in rules/default.yaml)\n"
	      "      --fail-on X         exit 1 at verdict or severity X or worse\n"
	      "  -o, --output FILE       write there atomically, not to standard output\n"
	      "      --policy-map postfix|sendmail  a TLS policy map instead\n"
	      "      --policy-table FILE the MTA's TLS policy (Postfix or Sendmail source)\n"
	      "      --year YYYY, --tz ZONE  for stamps without them\n"
	      "      --ports LIST        TCP ports followed in captures (25,587,2525,465,\n"
	      "                          and IMAP, POP3: 143,993,110,995)\n"
	      "      --org NAME, --contact ADDR  the organisation (audit summary, TLS-RPT)\n"
	      "      --pseudonymize KEYFILE  HMAC tokens for address local parts\n"
	      "      --manifest FILE     the evidence manifest as JSON there too\n"
	      "      --case ID, --custodian NAME  recorded in the manifest\n"
	      "      --max-findings N    rows a severity group of the audit summary lists (50)\n"
	      "      --sign KEY          sign the report (-o FILE): FILE.sig, Ed25519 or RSA-PSS\n"
	      "      --timestamp-request F  an RFC 3161 request for the report (-o) into F\n"
	      "      --skew S, --skew-max S  the capture clock's offset from the logs\n"
	      "      --label NAME        standard input's name in evidence\n"
	      "      --journal, --journal-file F, --journal-dir D  the systemd journal's mail\n"
	      "      --threads N         1: everything on one thread\n"
	      "      --strict-inputs     an input with nothing in it is an error\n"
	      "      --state FILE        read only what is new since the last run\n"
	      "      --state-key KEYFILE seal the state with HMAC-SHA-256 (refuse one not sealed so)\n"
	      "  -q, --quiet             no per-file accounting (warnings stay)\n"
	      "selecting (repeatable, any may match): --message-id ID, --queue-id QID,\n"
	      "      --rcpt ADDR|@DOMAIN, --from ADDR|@DOMAIN, --since T, --until T,\n"
	      "      --verdict V, --min-severity S, --where 'FIELD|MOD: VALUE'; --full-read\n"
	      "  -V, --version, -h, --help\n"
	      "Formats and fields, the rule language, exit codes: man tlswitness\n", f);
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

static bool parse_fail_on(struct options *o, const char *v)
{
	o->fail_verdict = verdict_rank(v);
	o->fail_severity = severity_rank(v);
	if (o->fail_verdict == 0)	/* "encrypted": every message */
		return true;
	return o->fail_verdict >= 0 || o->fail_severity >= 0;
}

/* A whole number in [lo, hi], or false. */
static bool parse_long(const char *v, long lo, long hi, long *out)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (*end || end == v || n < lo || n > hi)
		return false;
	*out = n;
	return true;
}

/* --format NAME or --policy-map NAME from the writers' table. */
static bool pick_writer(struct options *o, const char *name, bool policy_map)
{
	o->writer = writer_lookup(name, policy_map);
	if (o->writer)
		return true;
	struct buf names;
	buf_init(&names);
	if (policy_map) {
		writer_names(&names, true, " or ");
		fprintf(stderr, "tlswitness: --policy-map takes %s, not '%s'\n", names.p, name);
	} else {
		writer_names(&names, false, ", ");
		fprintf(stderr, "tlswitness: unknown format '%s' (%s)\n", name, names.p);
	}
	buf_free(&names);
	return false;
}

/* Edit distance of a and b (both short): for "did you mean". */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 40 || lb > 40)
		return 99;
	size_t d[41][41];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < c)
				c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c)
				c = d[i][j - 1] + 1;
			d[i][j] = c;
		}
	return d[la][lb];
}

/* One line for a usage error, with the long option meant when one is
 * close, and where the rest is: not the whole help. */
static void usage_error(const struct option *opts, const char *what, const char *arg)
{
	const char *name = arg;
	while (*name == '-')
		name++;
	char bare[64];
	snprintf(bare, sizeof bare, "%.*s", (int)strcspn(name, "="), name);
	const char *best = NULL;
	size_t bestd = 3;	/* at most two edits away */
	for (const struct option *op = opts; op->name && arg[1] == '-'; op++) {
		size_t dd = distance(bare, op->name);
		if (dd < bestd || (bare[0] && strncmp(op->name, bare, strlen(bare)) == 0 && !best)) {
			best = op->name;
			bestd = dd;
		}
	}
	if (best)
		fprintf(stderr, "tlswitness: %s '%s' (did you mean --%s?); tlswitness --help "
			"lists the options\n", what, arg, best);
	else
		fprintf(stderr, "tlswitness: %s '%s'; tlswitness --help lists the options\n",
			what, arg);
}

int options_parse(struct options *o, int argc, char **argv)
{
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
		{ "label", required_argument, NULL, 'L' },
		{ "journal", no_argument, NULL, 1000 + 'J' },
		{ "case", required_argument, NULL, 1000 + 'c' },
		{ "sign", required_argument, NULL, 1000 + 'g' },
		{ "policy-table", required_argument, NULL, 1000 + 'P' },
		{ "max-findings", required_argument, NULL, 1000 + 'M' },
		{ "timestamp-request", required_argument, NULL, 1000 + 't' },
		{ "custodian", required_argument, NULL, 1000 + 'k' },
		{ "journal-file", required_argument, NULL, 1000 + 'j' },
		{ "journal-dir", required_argument, NULL, 1000 + 'D' },
		{ "strict-inputs", no_argument, NULL, 'E' },
		{ "state", required_argument, NULL, 1000 + 'T' },
		{ "state-reset", no_argument, NULL, 1000 + 'R' },
		{ "state-close", no_argument, NULL, 1000 + 'Q' },
		{ "state-key", required_argument, NULL, 1000 + 'Z' },
		{ "full-read", no_argument, NULL, 1000 + 'F' },
		{ "message-id", required_argument, NULL, 1000 + 'm' },
		{ "queue-id", required_argument, NULL, 1000 + 'q' },
		{ "rcpt", required_argument, NULL, 1000 + 'r' },
		{ "from", required_argument, NULL, 1000 + 'f' },
		{ "since", required_argument, NULL, 1000 + 's' },
		{ "until", required_argument, NULL, 1000 + 'u' },
		{ "verdict", required_argument, NULL, 1000 + 'v' },
		{ "min-severity", required_argument, NULL, 1000 + 'S' },
		{ "where", required_argument, NULL, 1000 + 'w' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	memset(o, 0, sizeof *o);
	select_init(&o->select);
	o->writer = writer_lookup("text", false);
	o->fail_verdict = o->fail_severity = -1;
	o->contact = "postmaster";
	o->skew_max = LEARN_SKEW_MAX;
	o->threads = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 1;
	o->argc = argc;
	o->argv = argv;
	bool format_given = false, map_given = false;
	long n;
	int c;
	opterr = 0;	/* our own messages, under one program name */
	while ((c = getopt_long(argc, argv, ":f:r:o:qVh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format_given = true;
			if (!pick_writer(o, optarg, false))
				return 2;
			break;
		case 'A':
			map_given = true;
			if (!pick_writer(o, optarg, true))
				return 2;
			break;
		case 'r': o->rules_path = optarg; break;
		case 'F':
			o->fail_on = optarg;
			if (!parse_fail_on(o, optarg)) {
				fprintf(stderr, "tlswitness: --fail-on takes a verdict (plaintext, weak, "
					"unknown) or a severity (info, low, medium, high, critical), not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'Y':
			if (!parse_long(optarg, 1970, 2200, &n)) {
				fprintf(stderr, "tlswitness: --year takes a year such as 2026, not '%s'\n", optarg);
				return 2;
			}
			o->year = (int)n;
			break;
		case 'Z': o->tz_spec = optarg; break;
		case 'S':
			if (!parse_long(optarg, -86400, 86400, &o->skew)) {
				fprintf(stderr, "tlswitness: --skew takes the capture clock's offset "
					"from the logs in seconds (-86400 .. 86400), not '%s'\n", optarg);
				return 2;
			}
			o->skew_given = true;
			break;
		case 'X':
			if (!parse_long(optarg, 1, 86400, &o->skew_max)) {
				fprintf(stderr, "tlswitness: --skew-max takes the largest offset to "
					"look for, in seconds (1 .. 86400), not '%s'\n", optarg);
				return 2;
			}
			break;
		case 1000 + 'M':
			if (!parse_long(optarg, 1, 100000, &o->max_findings)) {
				fprintf(stderr, "tlswitness: --max-findings takes the rows a severity "
					"group of the audit summary lists (1 .. 100000), not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'o': o->out_path = optarg; break;
		case 'M': o->manifest_path = optarg; break;
		case 'O': o->org = optarg; break;
		case 'K': o->keyfile = optarg; break;
		case 'C': o->contact = optarg; break;
		case 'L': o->label = optarg; break;
		case 1000 + 'c': o->case_id = optarg; break;
		case 1000 + 'g': o->sign_key = optarg; break;
		case 1000 + 'P': o->policy_table = optarg; break;
		case 1000 + 't': o->tsq_path = optarg; break;
		case 1000 + 'k': o->custodian = optarg; break;
		case 1000 + 'J':
		case 1000 + 'j':
		case 1000 + 'D':
			if (o->njournals == OPT_MAX_JOURNALS) {
				fprintf(stderr, "tlswitness: at most %d journals a run\n", OPT_MAX_JOURNALS);
				return 2;
			}
			o->journals[o->njournals].kind = c == 1000 + 'J' ? JOURNAL_LOCAL
						       : c == 1000 + 'j' ? JOURNAL_FILE : JOURNAL_DIR;
			o->journals[o->njournals++].path = c == 1000 + 'J' ? NULL : optarg;
			break;
		case 'E': o->strict_inputs = true; break;
		case 1000 + 'T': o->state_path = optarg; break;
		case 1000 + 'R': o->state_reset = true; break;
		case 1000 + 'Q': o->state_close = true; break;
		case 1000 + 'Z': o->state_key = optarg; break;
		case 1000 + 'F': o->full_read = true; break;
		case 1000 + 'm': case 1000 + 'q': case 1000 + 'r': case 1000 + 'f':
		case 1000 + 's': case 1000 + 'u': case 1000 + 'v': case 1000 + 'S':
		case 1000 + 'w': {
			char why[200];
			if (!select_add(&o->select, (char)(c - 1000), optarg, why, sizeof why)) {
				fprintf(stderr, "tlswitness: %s\n", why);
				return 2;
			}
			break;
		}
		case 'P':
			if (!parse_ports(optarg, o->ports, &o->nports)) {
				fprintf(stderr, "tlswitness: --ports takes port numbers such as "
					"25,587,2525,465 (at most %d), not '%s'\n", CAP_MAX_PORTS, optarg);
				return 2;
			}
			break;
		case 'T':
			if (!parse_long(optarg, 1, 64, &n)) {
				fprintf(stderr, "tlswitness: --threads takes a count from 1 to 64, "
					"not '%s'\n", optarg);
				return 2;
			}
			o->threads = (int)n;
			break;
		case 'q': o->quiet = true; break;
		case 'V':
			fputs(TW_VERSION_TEXT, stdout);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case ':': {
			/* the argument as written: "--format" or "-f" */
			char shown[64];
			snprintf(shown, sizeof shown, "%s", argv[optind - 1]);
			fprintf(stderr, "tlswitness: %s needs a value; tlswitness --help lists "
				"the options\n", shown);
			return 2;
		}
		default: {
			char shown[64];
			if (optopt)
				snprintf(shown, sizeof shown, "-%c", optopt);
			else
				snprintf(shown, sizeof shown, "%s", argv[optind - 1]);
			usage_error(opts, "unknown option", shown);
			return 2;
		}
		}
	}
	if (o->writer->input == WRITER_EVIDENCE && (o->select.nmid || o->select.nqid ||
	    o->select.nrcpt || o->select.nfrom || o->select.nverdict || o->select.nwhere ||
	    o->select.min_severity >= 0)) {
		fprintf(stderr, "tlswitness: --format %s writes evidence records, not messages: of the "
			"selections only --since and --until apply\n", o->writer->name);
		return 2;
	}
	if (o->sign_key && !o->out_path) {
		fprintf(stderr, "tlswitness: --sign writes REPORT.sig beside the report: give -o REPORT\n");
		return 2;
	}
	if (o->tsq_path && !o->out_path) {
		fprintf(stderr, "tlswitness: --timestamp-request hashes the committed report: "
			"give -o REPORT\n");
		return 2;
	}
	if ((o->state_reset || o->state_close || o->state_key) && !o->state_path) {
		fprintf(stderr, "tlswitness: --state-%s works on a --state FILE: give --state FILE\n",
			o->state_reset ? "reset" : o->state_close ? "close" : "key");
		return 2;
	}
	if (o->state_path && o->writer->input == WRITER_PATHS) {
		/* a path may span runs, and the paths stage's open state is not kept */
		fprintf(stderr, "tlswitness: --state reads only what is new, and --format %s follows "
			"messages across the whole period: run it over the logs without --state\n",
			o->writer->name);
		return 2;
	}
	if (o->state_path && (o->select.nqid || o->select.nmid)) {
		fprintf(stderr, "tlswitness: --queue-id and --message-id follow a message along its "
			"path, which --state does not keep: run them without --state\n");
		return 2;
	}
	if (format_given && map_given) {
		/* A map is its own output: one would silently replace the other. */
		fprintf(stderr, "tlswitness: --policy-map and --format are alternatives: give one\n");
		return 2;
	}
	if (optind >= argc && o->njournals) {
		o->inputs = argv + optind;	/* the journals are the inputs */
		o->ninputs = 0;
		return -1;
	}
	if (optind >= argc) {
		/* like cat or grep: no operand, standard input (when it is not
		 * someone at a terminal) */
		static char *dash[] = { "-", NULL };
		if (!isatty(0)) {
			o->inputs = dash;
			o->ninputs = 1;
			return -1;
		}
		fputs("tlswitness: no input: name one or more logs, captures or messages, or - "
		      "for standard input; tlswitness --help lists the options\n", stderr);
		return 2;
	}
	o->inputs = argv + optind;
	o->ninputs = (size_t)(argc - optind);
	return -1;
}

bool options_fails(const struct options *o, const char *verdict, const char *severity)
{
	return (o->fail_verdict >= 0 && verdict_rank(verdict) >= o->fail_verdict) ||
	       (o->fail_severity >= 0 && severity_rank(severity) >= o->fail_severity);
}
