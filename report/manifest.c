/* manifest.c - hashing inputs with OpenSSL's libcrypto (EVP, SHA-256,
 * FIPS 180-4) and rendering the manifest.  The generation time and the
 * report id are the only parts that differ between two runs on the same
 * inputs. */
#include "manifest.h"
#include "escape.h"
#include "jsonw.h"
#include "../ingest/linesrc.h"
#include "../util/timeconv.h"
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/rand.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>
#include <zlib.h>

static void hex_of(const unsigned char *d, unsigned n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[2 * n] = '\0';
}

bool manifest_hash_file(const char *path, char hexout[65], uint64_t *size, time_t *mtime,
			struct buf *why)
{
	int fd = open(ls_real_path(path), O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		buf_printf(why, "%s", fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return false;
	}
	*size = (uint64_t)sb.st_size;
	*mtime = sb.st_mtime;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	static unsigned char chunk[1 << 20];
	ssize_t r;
	while ((r = read(fd, chunk, sizeof chunk)) > 0)
		EVP_DigestUpdate(ctx, chunk, (size_t)r);
	bool ok = r == 0;
	if (!ok)
		buf_printf(why, "%s", strerror(errno));
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	close(fd);
	hex_of(md, mdlen, hexout);
	return ok;
}

void manifest_hash_bytes(const void *p, size_t n, char hexout[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
	hex_of(md, mdlen, hexout);
}

void manifest_new_id(char out[40])
{
	unsigned char r[16];
	if (RAND_bytes(r, sizeof r) != 1)
		memset(r, 0, sizeof r);
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);	/* version 4 */
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);	/* variant 10 */
	char h[33];
	hex_of(r, 16, h);
	snprintf(out, 40, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

char *manifest_command_line(int argc, char **argv)
{
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < argc; i++) {
		if (i)
			buf_addc(&b, ' ');
		buf_adds(&b, argv[i]);
	}
	return b.p ? b.p : xstrdup("");
}

const char *manifest_libs(void)
{
	static char libs[512];
	snprintf(libs, sizeof libs, "%s; zlib %s; libyaml %s; %s", pcap_lib_version(),
		 zlibVersion(), yaml_get_version_string(), OpenSSL_version(OPENSSL_VERSION));
	return libs;
}

static void kv(struct buf *b, const char *k, const char *v, bool *first)
{
	if (!*first)
		buf_addc(b, ',');
	*first = false;
	json_str(b, k);
	buf_addc(b, ':');
	json_str(b, v);
}

static void kn(struct buf *b, const char *k, unsigned long long v, bool *first)
{
	if (!*first)
		buf_addc(b, ',');
	*first = false;
	json_str(b, k);
	buf_printf(b, ":%llu", v);
}

static void kt(struct buf *b, const char *k, time_t t, bool *first)
{
	char iso[32];
	fmt_iso_utc(t, iso, sizeof iso);
	kv(b, k, t ? iso : NULL, first);
}

void manifest_json(struct buf *b, const struct manifest *m)
{
	char body[65] = "";
	if (m->body_sha256)	/* first: of every byte before this record */
		m->body_sha256(m->body_arg, body);
	bool f = true;
	buf_addc(b, '{');
	jw_kind(b, "manifest", &f);
	kv(b, "tool", "tlswitness", &f);
	kv(b, "version", m->tool_version, &f);
	kv(b, "build", "C11, " __VERSION__, &f);
	kv(b, "libraries", manifest_libs(), &f);
	kv(b, "command_line", m->command_line, &f);
	kt(b, "generated", m->generated, &f);
	kv(b, "report_id", m->report_id, &f);
	kv(b, "report_sha256", body[0] ? body : NULL, &f);
	if (m->case_id)
		kv(b, "case", m->case_id, &f);
	if (m->custodian)
		kv(b, "custodian", m->custodian, &f);
	kv(b, "assumed_time_zone", m->tz, &f);
	if (m->year_assumed)
		kn(b, "assumed_year", (unsigned long long)m->year_assumed, &f);
	kv(b, "pseudonymized", m->pseudonymized, &f);
	buf_adds(b, ",\"inputs\":[");
	for (size_t i = 0; i < m->nin; i++) {
		const struct manifest_input *in = &m->in[i];
		bool g = true;
		if (i)
			buf_addc(b, ',');
		buf_addc(b, '{');
		kv(b, "path", in->path, &g);
		kv(b, "type", in->type, &g);
		kv(b, "compression", in->gzip ? "gzip" : NULL, &g);
		if (in->hashed) {
			kn(b, "size", in->size, &g);
			kt(b, "modified", in->mtime, &g);
			kv(b, "sha256", in->sha256, &g);
		}
		kt(b, "first_timestamp", in->first_ts, &g);
		kt(b, "last_timestamp", in->last_ts, &g);
		kv(b, "unit", in->unit, &g);
		kn(b, "read", in->read, &g);
		kn(b, "used", in->used, &g);
		kn(b, "skipped", in->skipped, &g);
		if (in->resumed) {
			buf_printf(b, ",\"read_from\":{\"offset\":%llu,\"line\":%lu}",
				   (unsigned long long)in->from_offset, in->from_line);
		}
		if (in->unchanged)
			buf_adds(b, ",\"unchanged\":true");
		if (in->journal_first) {
			buf_adds(b, ",\"journal\":{");
			bool h = true;
			kv(b, "first_cursor", in->journal_first, &h);
			kv(b, "last_cursor", in->journal_last, &h);
			buf_addc(b, '}');
		}
		if (in->failed)
			kv(b, "error", in->error ? in->error : "incomplete", &g);
		buf_addc(b, '}');
	}
	buf_adds(b, "],\"rules\":{");
	bool g = true;
	kv(b, "path", m->rules_path, &g);
	kv(b, "sha256", m->rules_sha256, &g);
	kv(b, "schema", "tlswitness/1", &g);
	kv(b, "policy", m->policy, &g);
	buf_adds(b, ",\"rule_ids\":[");
	for (size_t i = 0; i < m->nrules; i++) {
		if (i)
			buf_addc(b, ',');
		json_str(b, m->rule_ids[i]);
	}
	buf_adds(b, "]}}\n");
}

void manifest_text(struct buf *b, const struct manifest *m)
{
	char iso[32], body[65] = "";
	if (m->body_sha256)	/* first: of every byte before this section */
		m->body_sha256(m->body_arg, body);
	fmt_iso_utc(m->generated, iso, sizeof iso);
	buf_adds(b, "\nEvidence manifest\n");
	if (body[0])
		buf_printf(b, "  report:     sha256 %s of the bytes before this manifest\n", body);
	if (m->case_id) {
		buf_adds(b, "  case:       ");
		text_safe(b, m->case_id);
		buf_addc(b, '\n');
	}
	if (m->custodian) {
		buf_adds(b, "  custodian:  ");
		text_safe(b, m->custodian);
		buf_addc(b, '\n');
	}
	buf_adds(b, "  tool:       tlswitness ");
	text_safe(b, m->tool_version);
	buf_printf(b, " (C11, %s)\n  libraries:  %s\n  command:    ", __VERSION__, manifest_libs());
	text_safe(b, m->command_line);
	buf_printf(b, "\n  generated:  %s   report id %s\n  time zone:  %s", iso, m->report_id,
		   m->tz);
	if (m->year_assumed)
		buf_printf(b, ", year %d assumed for stamps without one", m->year_assumed);
	if (m->pseudonymized)
		buf_printf(b, "\n  addresses:  local parts pseudonymized (%s)", m->pseudonymized);
	buf_adds(b, "\n  inputs:\n");
	for (size_t i = 0; i < m->nin; i++) {
		const struct manifest_input *in = &m->in[i];
		buf_adds(b, "    ");
		text_safe(b, in->path);
		buf_printf(b, " (%s%s)", in->type, in->gzip ? ", gzip" : "");
		if (in->hashed) {
			fmt_iso_utc(in->mtime, iso, sizeof iso);
			buf_printf(b, "\n      %llu bytes%s, modified %s, sha256 %s",
				   (unsigned long long)in->size,
				   in->resumed && !in->gzip ? " from where the last run stopped" : "",
				   iso, in->sha256);
		}
		if (in->resumed)
			buf_printf(b, "\n      read after line %lu (byte %llu), where an earlier run "
				   "stopped (--state)", in->from_line,
				   (unsigned long long)in->from_offset);
		if (in->unchanged)
			buf_adds(b, "\n      not read: an earlier run read it whole, and it has not "
				 "changed since (--state)");
		if (in->journal_first) {
			buf_adds(b, "\n      mail entries from cursor ");
			text_safe(b, in->journal_first);
			buf_adds(b, "\n      to cursor ");
			text_safe(b, in->journal_last ? in->journal_last : "?");
		}
		buf_printf(b, "\n      %lu %s read, %lu used, %lu skipped", in->read, in->unit,
			   in->used, in->skipped);
		if (in->first_ts) {
			char a[32], z[32];
			fmt_iso_utc(in->first_ts, a, sizeof a);
			fmt_iso_utc(in->last_ts, z, sizeof z);
			buf_printf(b, "; %s .. %s", a, z);
		}
		if (in->failed) {
			buf_adds(b, "\n      error: ");
			text_safe(b, in->error ? in->error : "incomplete");
		}
		buf_addc(b, '\n');
	}
	buf_adds(b, "  rules:      ");
	text_safe(b, m->rules_path);
	buf_printf(b, " (sha256 %s), schema tlswitness/1, policy ", m->rules_sha256);
	text_safe(b, m->policy);
	buf_adds(b, "\n              rule ids:");
	for (size_t i = 0; i < m->nrules; i++) {
		buf_addc(b, ' ');
		text_safe(b, m->rule_ids[i]);
	}
	buf_addc(b, '\n');
}
