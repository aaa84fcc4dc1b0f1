/* verify.c - "tlswitness verify REPORT" (README "Checking a report"):
 * is a report what tlswitness wrote, and are its inputs still what it
 * read?  Three checks, each said on one line, every difference named:
 *   the report's bytes: the SHA-256 of what comes before its manifest
 *     (JSON: the lines before the manifest's line; text: before its
 *     "Evidence manifest" section; HTML: up to that section's <pre>), or
 *     of the whole report for a --manifest FILE, against report_sha256;
 *   its signature (REPORT.sig, or --sig FILE) with the public key --key
 *     PUB: Ed25519 or RSA-PSS/SHA-256, as --sign makes it (report/sign.c);
 *   every input the manifest hashed that is still there, hashed again as
 *     it was read (a plain file resumed with --state from read_from's
 *     offset), and the rule file.
 * Exit status: 0 every check passed; 1 something differs (the report, a
 * signature, an input, the rules); 2 it could not be checked (usage, no
 * manifest, an unreadable report or key). */
#include "verify.h"
#include "../report/manifest.h"
#include "../rules/yamltree.h"
#include "../util/textsafe.h"
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REPORT_MAX (4ULL << 30)	/* a report read whole: 4 GiB at most */

struct verify {
	const char *report, *key, *sig, *manifest;
	int differs, unverified;
	bool signed_ok, unsigned_report;
};

static void hexof(const unsigned char *md, unsigned n, char out[65])
{
	static const char hx[] = "0123456789abcdef";
	for (unsigned i = 0; i < n && i < 32; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[64] = '\0';
}

static bool read_file(const char *path, char **p, size_t *n, struct buf *why)
{
	*p = NULL;
	*n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0) {
		buf_printf(why, "%s: %s", text_shown(path), strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	if ((uint64_t)sb.st_size > REPORT_MAX) {
		buf_printf(why, "%s: larger than %llu bytes", text_shown(path),
			   (unsigned long long)REPORT_MAX);
		close(fd);
		return false;
	}
	*p = xmalloc((size_t)sb.st_size + 1);
	while (*n < (size_t)sb.st_size) {
		ssize_t r = read(fd, *p + *n, (size_t)sb.st_size - *n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		*n += (size_t)r;
	}
	close(fd);
	(*p)[*n] = '\0';
	return true;
}

/* SHA-256 of a file's bytes from offset on, and how many. */
static bool hash_file(const char *path, uint64_t offset, char hex[65], uint64_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (offset && lseek(fd, (off_t)offset, SEEK_SET) < 0) {
		close(fd);
		return false;
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
	unsigned char md[32];
	unsigned mdn = 0;
	EVP_DigestFinal_ex(c, md, &mdn);
	EVP_MD_CTX_free(c);
	free(b);
	close(fd);
	hexof(md, mdn, hex);
	return r == 0;
}

static const char *scalar(const struct yt_node *map, const char *key)
{
	const struct yt_node *n = yt_get(map, key);
	return n && n->type == YT_SCALAR && !(n->plain && strcmp(n->val, "null") == 0) ? n->val : NULL;
}

static void say(struct verify *v, bool ok, const char *what, const char *detail)
{
	printf("%s  %s%s%s\n", ok ? "ok    " : "DIFFERS", what, detail ? ": " : "", detail ? detail : "");
	if (!ok)
		v->differs++;
}

/* The report's body and its manifest: the manifest's text and where the
 * hashed part ends.  kind: "json", "text", "html" or "manifest file". */
static bool split(const char *r, size_t n, const char **man, size_t *body, const char **kind)
{
	const char *key = "{\"kind\":\"manifest\"";
	/* JSON Lines: the last line that is the manifest */
	for (size_t i = n; i > 0; i--) {
		size_t start = i - 1;
		if (start > 0 && r[start - 1] != '\n')
			continue;
		if (n - start >= strlen(key) && memcmp(r + start, key, strlen(key)) == 0) {
			*man = r + start;
			*body = start;
			*kind = "json";
			return true;
		}
	}
	const char *last = NULL;
	for (const char *p = r; (p = memmem(p, n - (size_t)(p - r), "<h2>Evidence manifest</h2>\n<pre>", 32)); p++)
		last = p;
	if (last) {
		*man = last;
		*body = (size_t)(last - r) + 32;
		*kind = "html";
		return true;
	}
	for (const char *p = r; (p = memmem(p, n - (size_t)(p - r), "\nEvidence manifest\n", 19)); p++)
		last = p;
	if (last) {
		*man = last;
		*body = (size_t)(last - r);
		*kind = "text";
		return true;
	}
	return false;
}

/* The hash a text or HTML manifest states: "report:     sha256 HEX". */
static bool stated_hash(const char *man, char out[65])
{
	const char *p = strstr(man, "report:     sha256 ");
	if (!p)
		return false;
	p += strlen("report:     sha256 ");
	for (int i = 0; i < 64; i++)
		if (!strchr("0123456789abcdef", p[i]) || !p[i])
			return false;
	memcpy(out, p, 64);
	out[64] = '\0';
	return true;
}

static EVP_PKEY *load_public(const char *path, struct buf *why)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		buf_printf(why, "--key: %s: %s", text_shown(path), strerror(errno));
		return NULL;
	}
	EVP_PKEY *k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!k)
		buf_printf(why, "--key: %s: not a PEM public key (openssl pkey -pubout makes one)",
			   text_shown(path));
	return k;
}

static void check_signature(struct verify *v, const char *r, size_t n)
{
	struct buf path, why;
	buf_init(&path);
	buf_init(&why);
	if (v->sig)
		buf_adds(&path, v->sig);
	else
		buf_printf(&path, "%s.sig", v->report);
	char *sig = NULL;
	size_t ns = 0;
	if (access(path.p, F_OK) != 0) {
		if (v->key || v->sig) {
			say(v, false, "signature", "no signature file (--sign KEY writes REPORT.sig)");
		} else {
			printf("none    signature: the report is not signed\n");
			v->unsigned_report = true;
		}
		goto out;
	}
	if (!v->key) {
		printf("none    signature: %s is there; give --key PUB to check it\n",
		       text_shown(path.p));
		v->unverified++;
		goto out;
	}
	EVP_PKEY *k = load_public(v->key, &why);
	if (!k || !read_file(path.p, &sig, &ns, &why)) {
		fprintf(stderr, "tlswitness: verify: %s\n", why.p);
		v->unverified++;
		EVP_PKEY_free(k);
		goto out;
	}
	bool ed = EVP_PKEY_get_id(k) == EVP_PKEY_ED25519;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	static const unsigned char empty[1];
	int rc = ctx && EVP_DigestVerifyInit(ctx, &pctx, ed ? NULL : EVP_sha256(), NULL, k) == 1 &&
		 (ed || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
			 EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1))
		 ? EVP_DigestVerify(ctx, (const unsigned char *)sig, ns,
				    n ? (const unsigned char *)r : empty, n) : -1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
	char detail[300];
	snprintf(detail, sizeof detail, "%s with %s (%s)", text_shown(path.p), text_shown(v->key),
		 rc == 1 ? "valid" : "not made by this key, or the report changed since");
	say(v, rc == 1, "signature", detail);
	v->signed_ok = rc == 1;
out:
	free(sig);
	buf_free(&path);
	buf_free(&why);
}

static void check_inputs(struct verify *v, const struct yt_node *m)
{
	const struct yt_node *ins = yt_get(m, "inputs");
	for (size_t i = 0; ins && ins->type == YT_SEQ && i < ins->n; i++) {
		const struct yt_node *in = ins->kids[i];
		const char *path = scalar(in, "path"), *sha = scalar(in, "sha256");
		const char *size = scalar(in, "size");
		if (!path)
			continue;
		char what[600];
		snprintf(what, sizeof what, "input %s", text_shown(path));
		if (yt_get(in, "journal") || strcmp(path, "-") == 0 || strncmp(path, "journal", 7) == 0) {
			printf("none    %s: a journal or standard input, not read again\n", what);
			continue;
		}
		if (scalar(in, "unchanged")) {
			printf("none    %s: not read by this run (--state: read whole before)\n", what);
			continue;
		}
		if (!sha) {
			printf("none    %s: the manifest has no hash of it\n", what);
			continue;
		}
		const struct yt_node *rf = yt_get(in, "read_from");
		const char *off = rf ? scalar(rf, "offset") : NULL;
		bool gz = scalar(in, "compression") != NULL;
		uint64_t from = off && !gz ? strtoull(off, NULL, 10) : 0;
		char hex[65];
		uint64_t got = 0;
		if (access(path, F_OK) != 0) {
			printf("gone    %s: not there any more (rotated away or moved?)\n", what);
			v->unverified++;
			continue;
		}
		if (!hash_file(path, from, hex, &got)) {
			say(v, false, what, "cannot be read again");
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
	if (rp && rs && strncmp(rp, "built-in:", 9) != 0 && access(rp, F_OK) == 0) {
		char hex[65];
		uint64_t got;
		char what[600];
		snprintf(what, sizeof what, "rules %s", text_shown(rp));
		if (hash_file(rp, 0, hex, &got))
			say(v, strcmp(hex, rs) == 0, what, strcmp(hex, rs) == 0 ? "the same" : "changed since");
	}
}

static int usage(void)
{
	fputs("usage: tlswitness verify REPORT [--key PUB.pem] [--sig FILE] [--manifest FILE]\n",
	      stderr);
	return 2;
}

int verify_command(int argc, char **argv)
{
	struct verify v = { 0 };
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if ((strcmp(a, "--key") == 0 || strcmp(a, "--sig") == 0 || strcmp(a, "--manifest") == 0)) {
			if (i + 1 >= argc) {
				fprintf(stderr, "tlswitness: verify: %s needs a value\n", a);
				return 2;
			}
			const char **dst = a[2] == 'k' ? &v.key : a[2] == 's' ? &v.sig : &v.manifest;
			*dst = argv[++i];
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "tlswitness: verify: unknown option '%s'\n", a);
			return usage();
		} else if (!v.report) {
			v.report = a;
		} else {
			return usage();
		}
	}
	if (!v.report)
		return usage();
	struct buf why;
	buf_init(&why);
	char *r = NULL, *mf = NULL;
	size_t n = 0, nm = 0;
	if (!read_file(v.report, &r, &n, &why) ||
	    (v.manifest && !read_file(v.manifest, &mf, &nm, &why))) {
		fprintf(stderr, "tlswitness: verify: %s\n", why.p);
		buf_free(&why);
		free(r);
		free(mf);
		return 2;
	}
	const char *man = NULL, *kind = NULL;
	size_t body = 0;
	if (mf) {
		man = mf;
		body = n;
		kind = "manifest file";
	} else if (!split(r, n, &man, &body, &kind)) {
		fprintf(stderr, "tlswitness: verify: %s: no evidence manifest in it (for CSV, a "
			"policy map or TLS-RPT give the --manifest FILE written beside it)\n",
			text_shown(v.report));
		free(r);
		buf_free(&why);
		return 2;
	}
	unsigned char md[32];
	unsigned mdn = 0;
	EVP_Digest(r, body, md, &mdn, EVP_sha256(), NULL);
	char hex[65], want[65] = "";
	hexof(md, mdn, hex);
	struct yt_node *m = NULL;
	if (!strcmp(kind, "json") || mf) {
		size_t len = mf ? nm : strcspn(man, "\n");
		struct yt_errors e = { .file = v.manifest ? v.manifest : v.report };
		buf_init(&e.text);
		m = yt_parse(man, len, &e);
		buf_free(&e.text);
		const char *s = m ? scalar(m, "report_sha256") : NULL;
		if (s && strlen(s) == 64)
			snprintf(want, sizeof want, "%s", s);
	} else {
		stated_hash(man, want);
	}
	char detail[400];
	if (!want[0]) {
		printf("none    report: its manifest states no hash of it\n");
		v.unverified++;
	} else {
		snprintf(detail, sizeof detail, "%s, %zu bytes%s hashed: sha256 %s%s%s", kind, body,
			 mf ? "" : " before the manifest", hex, strcmp(hex, want) ? ", the manifest says " : "",
			 strcmp(hex, want) ? want : "");
		say(&v, strcmp(hex, want) == 0, "report", detail);
	}
	check_signature(&v, r, n);
	if (m)
		check_inputs(&v, m);
	else {
		printf("none    inputs: only a JSON manifest lists them to check (give --manifest "
		       "FILE for a text or HTML report)\n");
		v.unverified++;
	}
	yt_free(m);
	free(r);
	free(mf);
	buf_free(&why);
	if (v.differs)
		printf("tlswitness: verify: DIFFERENCES FOUND\n");
	else if (v.signed_ok && !v.unverified)
		printf("tlswitness: verify: verified: the signature holds and nothing differs\n");
	else
		printf("tlswitness: verify: no difference found%s%s\n",
		       v.unverified ? " in what could be checked" : "",
		       v.unsigned_report ? "; unsigned, so a report changed on purpose could state "
		       "a matching hash: only a signature (--sign KEY) proves it unaltered" : "");
	return v.differs ? 1 : v.unverified && !want[0] ? 2 : 0;
}
