/* verify.c - "tlswitness verify REPORT" (README "Checking a report"):
 * is a report what tlswitness wrote, who signed it, and are its inputs
 * still what it read?  Each check is said on one line:
 *   the report's bytes: the SHA-256 of what comes before its manifest
 *     (JSON: the lines before the manifest's line; text: before its
 *     "Evidence manifest" section; HTML: up to that section's <pre>), or
 *     of the whole report for a --manifest FILE, against report_sha256;
 *   its signature (REPORT.sig, or --sig FILE) with the public key --key
 *     PUB: Ed25519 or RSA-PSS/SHA-256, as --sign makes it (report/sign.c),
 *     and with --manifest FILE that file's own signature (FILE.sig): the
 *     signatures cover everything trusted here (the manifest, its case,
 *     custodian, rules hash, period and generation time);
 *   every input the manifest hashed, found where the run named it from
 *     (the manifest's base, or --inputs DIR), hashed again as it was read
 *     (a plain file resumed with --state from read_from's offset), and
 *     the rule file.
 * The verdict is one of three, each its own exit status: verified (0:
 * every check ran and held), differs (1), incomplete (3: something could
 * not be checked - no signature, no key, an input gone); 2 is an error
 * (usage, an unreadable report, a --key that is not a public key). */
#include "verify.h"
#include "../report/sign.h"
#include "../rules/yamltree.h"
#include "../util/fileid.h"
#include "../util/textsafe.h"
#include "../util/timeconv.h"
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REPORT_MAX (4ULL << 30)	/* a report read whole: 4 GiB at most */
#define SMALL_MAX (1 << 20)	/* a key, a signature, a manifest file */

struct verify {
	const char *report, *key, *sig, *manifest, *inputs_dir;
	const char *base;	/* the manifest's working folder */
	struct sign_pub *pub;
	int differs, incomplete;
};

/* SHA-256 of a regular file's bytes from offset on, and how many; NULL,
 * or why it cannot be read (a device or FIFO a forged manifest names is
 * not read: it would never end). */
static const char *hash_file(const char *path, uint64_t offset, char hex[65], uint64_t *size)
{
	static char why_text[300];
	struct buf why;
	buf_init(&why);
	int fd = fileid_open_regular(path, NULL, &why);
	if (fd < 0) {
		const char *colon = why.p ? strrchr(why.p, ':') : NULL;
		snprintf(why_text, sizeof why_text, "%s", colon ? colon + 2 : "cannot be opened");
		buf_free(&why);
		return why_text;
	}
	buf_free(&why);
	if (offset && lseek(fd, (off_t)offset, SEEK_SET) < 0) {
		close(fd);
		return strerror(errno);
	}
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	char *b = xmalloc(1 << 20);
	ssize_t r;
	*size = 0;
	while ((r = read(fd, b, 1 << 20)) > 0 || (r < 0 && errno == EINTR))
		if (r > 0) {
			EVP_DigestUpdate(c, b, (size_t)r);
			*size += (uint64_t)r;
		}
	int e = errno;
	unsigned char md[32];
	unsigned mdn = 0;
	EVP_DigestFinal_ex(c, md, &mdn);
	EVP_MD_CTX_free(c);
	free(b);
	close(fd);
	hex_encode(md, mdn < 32 ? mdn : 32, hex);
	return r == 0 ? NULL : strerror(e);
}

static const char *scalar(const struct yt_node *map, const char *key)
{
	const struct yt_node *n = yt_get(map, key);
	return n && n->type == YT_SCALAR && !(n->plain && strcmp(n->val, "null") == 0) ? n->val : NULL;
}

/* One line a check: "ok", "DIFFERS", or "none"/"gone" for what could not
 * be checked (the verdict is then incomplete). */
static void say(struct verify *v, bool ok, const char *what, const char *detail)
{
	printf("%s  %s%s%s\n", ok ? "ok    " : "DIFFERS", what, detail ? ": " : "", detail ? detail : "");
	if (!ok)
		v->differs++;
}

static void unchecked(struct verify *v, const char *tag, const char *what, const char *detail)
{
	printf("%-7s %s%s%s\n", tag, what, detail ? ": " : "", detail ? detail : "");
	v->incomplete++;
}

static const char *find_last(const char *r, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	const char *last = NULL;
	for (const char *p = r; (p = memmem(p, n - (size_t)(p - r), needle, k)); p++)
		last = p;
	return last;
}

bool verify_find_manifest(const char *r, size_t n, struct verify_found *f)
{
	static const char json_key[] = "{\"kind\":\"manifest\"";
	static const char html_sec[] = "<h2>Evidence manifest</h2>\n<pre>";
	static const char html_rec[] = "<pre id=\"tlswitness-manifest\" hidden>";
	static const char text_sec[] = "\nEvidence manifest\n";
	static const char text_rec[] = "\n  record:     {";
	memset(f, 0, sizeof *f);
	/* JSON Lines: the last line that is the manifest */
	for (size_t i = n; i > 0; i--) {
		size_t start = i - 1;
		if (start > 0 && r[start - 1] != '\n')
			continue;
		if (n - start >= sizeof json_key - 1 &&
		    memcmp(r + start, json_key, sizeof json_key - 1) == 0) {
			f->record = r + start;
			const char *nl = memchr(f->record, '\n', n - start);
			f->record_len = nl ? (size_t)(nl - f->record) : n - start;
			f->body = start;
			f->kind = "json";
			return true;
		}
	}
	const char *sec = find_last(r, n, html_sec);
	if (sec) {
		f->kind = "html";
		f->body = (size_t)(sec - r) + sizeof html_sec - 1;
		f->section = sec;
		f->section_len = n - (size_t)(sec - r);
		const char *rec = find_last(sec, n - (size_t)(sec - r), html_rec);
		if (rec) {
			f->record = rec + sizeof html_rec - 1;
			const char *end = memmem(f->record, n - (size_t)(f->record - r), "</pre>", 6);
			f->record_len = end ? (size_t)(end - f->record) : 0;
			if (!end)
				f->record = NULL;
		}
		return true;
	}
	sec = find_last(r, n, text_sec);
	if (sec) {
		f->kind = "text";
		f->body = (size_t)(sec - r);
		f->section = sec;
		f->section_len = n - (size_t)(sec - r);
		const char *rec = find_last(sec, n - (size_t)(sec - r), text_rec);
		if (rec) {
			f->record = rec + sizeof text_rec - 2;
			size_t left = n - (size_t)(f->record - r);
			const char *nl = memchr(f->record, '\n', left);
			f->record_len = nl ? (size_t)(nl - f->record) : left;
		}
		return true;
	}
	return false;
}

/* The hash a text or HTML manifest states: "report:     sha256 HEX". */
static bool stated_hash(const char *sec, size_t n, char out[65])
{
	static const char key[] = "report:     sha256 ";
	const char *p = memmem(sec, n, key, sizeof key - 1);
	if (!p || n - (size_t)(p - sec) < sizeof key - 1 + 64)
		return false;
	p += sizeof key - 1;
	for (int i = 0; i < 64; i++)
		if (!p[i] || !strchr("0123456789abcdef", p[i]))
			return false;
	memcpy(out, p, 64);
	out[64] = '\0';
	return true;
}

/* Does sigfile hold a signature of bytes by --key?  The line says so. */
static void check_signature(struct verify *v, const char *what, const char *sigfile, bool named,
			    const char *bytes, size_t n)
{
	struct stat sb;
	if (lstat(sigfile, &sb) != 0) {
		if (named)
			say(v, false, what, "no signature file (--sign KEY writes it)");
		else
			unchecked(v, "none", what, "not signed: whoever changes a report on purpose "
				  "can state a matching hash; only a signature (--sign KEY) proves it "
				  "unaltered");
		return;
	}
	if (!v->pub) {
		char d[400];
		snprintf(d, sizeof d, "%s is there; give --key PUB to check it", text_shown(sigfile));
		unchecked(v, "none", what, d);
		return;
	}
	char *sig = NULL;
	size_t ns = 0;
	struct buf why;
	buf_init(&why);
	if (!fileid_read_all(sigfile, NULL, SMALL_MAX, &sig, &ns, &why)) {
		say(v, false, what, why.p);
		buf_free(&why);
		return;
	}
	buf_free(&why);
	bool good = sign_pub_verify(v->pub, (const unsigned char *)sig, ns,
				    (const unsigned char *)bytes, n);
	free(sig);
	char detail[500];
	snprintf(detail, sizeof detail, "%s, %s (%s)", text_shown(sigfile),
		 good ? "signed by" : "not made by", sign_pub_fingerprint(v->pub));
	if (!good)
		snprintf(detail + strlen(detail), sizeof detail - strlen(detail),
			 ", or what it signs changed since");
	say(v, good, what, detail);
}

/* Where an input named in the manifest is now: an absolute path as it is;
 * a relative one under --inputs DIR, else under the folder the run was
 * started in (the manifest's base), else here. */
static void locate(const struct verify *v, const char *path, struct buf *out)
{
	buf_reset(out);
	if (path[0] != '/' && (v->inputs_dir || v->base))
		buf_printf(out, "%s/", v->inputs_dir ? v->inputs_dir : v->base);
	buf_adds(out, path);
}

static void check_inputs(struct verify *v, const struct yt_node *m)
{
	const struct yt_node *ins = yt_get(m, "inputs");
	struct buf where;
	buf_init(&where);
	for (size_t i = 0; ins && ins->type == YT_SEQ && i < ins->n; i++) {
		const struct yt_node *in = ins->kids[i];
		const char *path = scalar(in, "path"), *sha = scalar(in, "sha256");
		const char *size = scalar(in, "size");
		if (!path)
			continue;
		char what[600];
		snprintf(what, sizeof what, "input %s", text_shown(path));
		if (yt_get(in, "journal") || strcmp(path, "-") == 0 || strncmp(path, "journal", 7) == 0) {
			unchecked(v, "none", what, "a journal or standard input, not read again");
			continue;
		}
		if (scalar(in, "unchanged")) {
			printf("ok      %s: not read by this run (--state: read whole before)\n", what);
			continue;
		}
		if (!sha) {
			unchecked(v, "none", what, "the manifest has no hash of it");
			continue;
		}
		const struct yt_node *rf = yt_get(in, "read_from");
		const char *off = rf ? scalar(rf, "offset") : NULL;
		bool gz = scalar(in, "compression") != NULL;
		uint64_t from = off && !gz ? strtoull(off, NULL, 10) : 0;
		char hex[65];
		uint64_t got = 0;
		locate(v, path, &where);
		struct stat sb;
		if (lstat(where.p, &sb) != 0) {
			char d[700];
			snprintf(d, sizeof d, "not at %s (rotated away or moved? --inputs DIR names "
				 "the folder to find it under)", text_shown(where.p));
			unchecked(v, "gone", what, d);
			continue;
		}
		const char *err = hash_file(where.p, from, hex, &got);
		if (err) {
			char d[400];
			snprintf(d, sizeof d, "%s: %s, so not read", text_shown(where.p), err);
			unchecked(v, "none", what, d);
			continue;
		}
		char detail[400];
		bool same = strcmp(hex, sha) == 0;
		if (same)
			snprintf(detail, sizeof detail, "sha256 %s%s", hex, from ? " (from where --state "
				 "went on)" : "");
		else if (size && strtoull(size, NULL, 10) != got)
			snprintf(detail, sizeof detail, "%s bytes then, %llu now%s (a live log grows: "
				 "verify its rotated copy)", size, (unsigned long long)got,
				 from ? " from where --state went on" : "");
		else
			snprintf(detail, sizeof detail, "sha256 %s then, %s now", sha, hex);
		say(v, same, what, detail);
	}
	const struct yt_node *rules = yt_get(m, "rules");
	const char *rp = rules ? scalar(rules, "path") : NULL, *rs = rules ? scalar(rules, "sha256") : NULL;
	if (rp && rs && strncmp(rp, "built-in:", 9) != 0) {
		char hex[65], what[600];
		uint64_t got;
		snprintf(what, sizeof what, "rules %s", text_shown(rp));
		locate(v, rp, &where);
		const char *err = hash_file(where.p, 0, hex, &got);
		if (err)
			unchecked(v, "gone", what, err);
		else
			say(v, strcmp(hex, rs) == 0, what, strcmp(hex, rs) == 0 ? "the same" : "changed since");
	}
	buf_free(&where);
}

static int usage(void)
{
	fputs("usage: tlswitness verify REPORT [--key PUB.pem] [--sig FILE] [--manifest FILE] "
	      "[--inputs DIR]\n", stderr);
	return 2;
}

static int fail(const char *msg)
{
	fprintf(stderr, "tlswitness: verify: %s\n", msg);
	return 2;
}

/* The options: 0, or the exit status to leave with. */
static int parse_args(struct verify *v, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = strcmp(a, "--key") == 0 ? &v->key : strcmp(a, "--sig") == 0 ? &v->sig
			: strcmp(a, "--manifest") == 0 ? &v->manifest
			: strcmp(a, "--inputs") == 0 ? &v->inputs_dir : NULL;
		if (dst) {
			if (i + 1 >= argc) {
				fprintf(stderr, "tlswitness: verify: %s needs a value\n", a);
				return 2;
			}
			*dst = argv[++i];
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "tlswitness: verify: unknown option '%s'\n", a);
			return usage();
		} else if (!v->report) {
			v->report = a;
		} else {
			return usage();
		}
	}
	return v->report ? 0 : usage();
}

/* The closing line and the exit status. */
static int verdict(const struct verify *v, const struct yt_node *m)
{
	const char *made = m ? scalar(m, "generated") : NULL, *id = m ? scalar(m, "report_id") : NULL;
	if (made)
		printf("made    %s, report id %s%s%s\n", text_shown(made), id ? text_shown(id) : "?",
		       m && scalar(m, "case") ? ", case " : "",
		       m && scalar(m, "case") ? text_shown(scalar(m, "case")) : "");
	if (v->differs) {
		printf("tlswitness: verify: differs: %d difference%s, named above\n", v->differs,
		       v->differs == 1 ? "" : "s");
		return 1;
	}
	if (v->incomplete) {
		printf("tlswitness: verify: incomplete: no difference found, but %d check%s could "
		       "not be made (named above)\n", v->incomplete, v->incomplete == 1 ? "" : "s");
		return 3;
	}
	printf("tlswitness: verify: verified: every check ran and held; signed by %s\n",
	       sign_pub_fingerprint(v->pub));
	return 0;
}

int verify_command(int argc, char **argv)
{
	struct verify v = { 0 };
	int rc = parse_args(&v, argc, argv);
	if (rc)
		return rc;
	struct buf why;
	buf_init(&why);
	char *r = NULL, *mf = NULL;
	size_t n = 0, nm = 0;
	if ((v.key && !(v.pub = sign_pub_load(v.key, "--key", &why))) ||
	    !fileid_read_all(v.report, NULL, REPORT_MAX, &r, &n, &why) ||
	    (v.manifest && !fileid_read_all(v.manifest, "--manifest", SMALL_MAX, &mf, &nm, &why))) {
		rc = fail(why.p);
		goto out;
	}
	struct verify_found f;
	if (mf) {
		f = (struct verify_found){ .record = mf, .record_len = nm, .body = n,
					   .kind = "manifest file" };
	} else if (!verify_find_manifest(r, n, &f)) {
		fprintf(stderr, "tlswitness: verify: %s: no evidence manifest in it (for CSV, a "
			"policy map or TLS-RPT give the --manifest FILE written beside it)\n",
			text_shown(v.report));
		rc = 2;
		goto out;
	}
	struct yt_node *m = NULL;
	char want[65] = "";
	if (f.record) {
		struct yt_errors e = { .file = v.manifest ? v.manifest : v.report };
		buf_init(&e.text);
		m = f.record_len <= YT_MAX_BYTES ? yt_parse(f.record, f.record_len, &e) : NULL;
		buf_free(&e.text);
		if (!m || m->type != YT_MAP) {
			yt_free(m);
			m = NULL;
		}
		const char *s = m ? scalar(m, "report_sha256") : NULL;
		if (s && strlen(s) == 64)
			snprintf(want, sizeof want, "%s", s);
	}
	if (f.section) {	/* the text a reader sees must say the same */
		char shown[65] = "";
		if (stated_hash(f.section, f.section_len, shown) && want[0] && strcmp(shown, want) != 0)
			say(&v, false, "manifest", "its text and its record state different hashes");
		if (!want[0])
			snprintf(want, sizeof want, "%s", shown);
	}
	v.base = m ? scalar(m, "base") : NULL;
	unsigned char md[32];
	unsigned mdn = 0;
	EVP_Digest(r, f.body, md, &mdn, EVP_sha256(), NULL);
	char hex[65];
	hex_encode(md, mdn < 32 ? mdn : 32, hex);
	if (!want[0]) {
		unchecked(&v, "none", "report", "its manifest states no hash of it (the run that "
			  "wrote it was asked for no --manifest, --sign, --timestamp-request or "
			  "--state, so it did not hash its report)");
	} else {
		char detail[400];
		snprintf(detail, sizeof detail, "%s, %zu bytes%s hashed: sha256 %s%s%s", f.kind, f.body,
			 mf ? "" : " before the manifest", hex, strcmp(hex, want) ? ", the manifest says " : "",
			 strcmp(hex, want) ? want : "");
		say(&v, strcmp(hex, want) == 0, "report", detail);
	}
	buf_reset(&why);
	if (v.sig)
		buf_adds(&why, v.sig);
	else
		buf_printf(&why, "%s.sig", v.report);
	check_signature(&v, "signature", why.p, v.sig != NULL, r, n);
	if (mf) {	/* what verify trusts of the manifest file is signed too */
		buf_reset(&why);
		buf_printf(&why, "%s.sig", v.manifest);
		check_signature(&v, "manifest signature", why.p, false, mf, nm);
	}
	if (m)
		check_inputs(&v, m);
	else
		unchecked(&v, "none", "inputs", "no manifest record lists them (a report from an "
			  "earlier release: give the --manifest FILE written beside it)");
	rc = verdict(&v, m);
	yt_free(m);
out:
	sign_pub_free(v.pub);
	free(r);
	free(mf);
	buf_free(&why);
	return rc;
}
