/* manifest.c - hashing inputs with OpenSSL's libcrypto (EVP, SHA-256,
 * FIPS 180-4) and rendering the manifest.  The generation time and the
 * report id are the only parts that differ between two runs on the same
 * inputs. */
#include "manifest.h"
#include "escape.h"
#include "jsonw.h"
#include "../ingest/linesrc.h"
#include "../util/fileid.h"
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

bool manifest_hash_file(const char *path, char hexout[65], uint64_t *size, time_t *mtime,
			struct buf *why)
{
	int fd = fileid_open_regular(ls_real_path(path), NULL, why);	/* no FIFO waited on */
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0) {
		if (fd >= 0) {
			buf_printf(why, "%s", strerror(errno));
			close(fd);
		}
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
	hex_encode(md, mdlen, hexout);
	return ok;
}

void manifest_hash_bytes(const void *p, size_t n, char hexout[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
	hex_encode(md, mdlen, hexout);
}

void manifest_new_id(char out[40])
{
	unsigned char r[16];
	if (RAND_bytes(r, sizeof r) != 1)
		memset(r, 0, sizeof r);
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);	/* version 4 */
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);	/* variant 10 */
	char h[33];
	hex_encode(r, 16, h);
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

/* The report's hash: of every byte before the manifest, so found first. */
static void body_hash(const struct manifest *m, char body[65])
{
	body[0] = '\0';
	if (m->body_sha256)
		m->body_sha256(m->body_arg, body);
	else if (m->body_known)
		snprintf(body, 65, "%s", m->body_known);
}

void manifest_json(struct buf *b, const struct manifest *m)
{
	char body[65];
	body_hash(m, body);
	bool f = true;
	buf_addc(b, '{');
	jw_kind(b, "manifest", &f);
	kv(b, "tool", "tlswitness", &f);
	kv(b, "version", m->tool_version, &f);
	kv(b, "build", "C11, " __VERSION__, &f);
	kv(b, "libraries", manifest_libs(), &f);
	kv(b, "command_line", m->command_line, &f);
	kv(b, "base", m->base, &f);
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
			if (in->journal_untrusted) {
				kn(b, "untrusted_entries", in->journal_untrusted, &h);
				kv(b, "first_untrusted_cursor", in->journal_untrusted_first, &h);
			}
			buf_addc(b, '}');
		}
		if (in->failed)
			kv(b, "error", in->error ? in->error : "incomplete", &g);
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
	if (m->state_path) {
		buf_adds(b, ",\"state\":{");
		bool h = true;
		kv(b, "path", m->state_path, &h);
		kv(b, "seal", m->state_keyed ? "HMAC-SHA-256" : "SHA-256", &h);
		kv(b, "previous_sha256", m->state_previous_sha256, &h);
		kv(b, "previous_report_id", m->state_previous_report, &h);
		buf_addc(b, '}');
	}
	buf_adds(b, ",\"rules\":{");
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
	char iso[32], body[65];
	body_hash(m, body);
	fmt_iso_utc(m->generated, iso, sizeof iso);
	buf_adds(b, "\nEvidence manifest\n");
	if (body[0])
		buf_printf(b, "  report:     sha256 %s of the bytes before this manifest\n", body);
	else
		buf_adds(b, "  report:     not hashed (no --manifest, --sign, --timestamp-request "
			 "or --state asked for it)\n");
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
	buf_adds(b, "\n  folder:     ");
	text_safe(b, m->base ? m->base : "?");
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
			if (in->journal_untrusted) {
				buf_printf(b, "\n      %lu entries not written by a mail server left "
					   "out, the first at cursor ", in->journal_untrusted);
				text_safe(b, in->journal_untrusted_first ? in->journal_untrusted_first
					  : "?");
			}
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
	if (m->state_path) {
		buf_adds(b, "  state:      ");
		text_safe(b, m->state_path);
		buf_printf(b, " (%s), going on from ", m->state_keyed ? "HMAC-SHA-256" : "SHA-256");
		if (m->state_previous_sha256) {
			buf_printf(b, "the state sha256 %s", m->state_previous_sha256);
			if (m->state_previous_report) {
				buf_adds(b, " of report ");
				text_safe(b, m->state_previous_report);
			}
		} else {
			buf_adds(b, "nothing (a first run)");
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

/* JSON with every character past ASCII as \\uXXXX (RFC 8259 7: a pair
 * for one past U+FFFF), and '<', '>' and '&' too: the same record, but
 * nothing in it a terminal or an HTML parser acts on.  The input is json_str's, always
 * valid UTF-8. */
static void json_ascii(struct buf *b, const char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x80) {
			if (c == '<' || c == '>' || c == '&')
				buf_printf(b, "\\u%04x", c);
			else
				buf_addc(b, (char)c);
			i++;
			continue;
		}
		size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		unsigned long cp = c & (len == 4 ? 0x07 : len == 3 ? 0x0f : 0x1f);
		for (size_t k = 1; k < len && i + k < n; k++)
			cp = (cp << 6) | ((unsigned char)p[i + k] & 0x3f);
		i += len;
		if (cp > 0xffff) {
			cp -= 0x10000;
			buf_printf(b, "\\u%04lx\\u%04lx", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
		} else {
			buf_printf(b, "\\u%04lx", cp);
		}
	}
}

void manifest_text_record(struct buf *b, const struct manifest *m)
{
	char body[65];
	body_hash(m, body);
	struct manifest once = *m;
	once.body_sha256 = NULL;
	once.body_known = body;
	manifest_text(b, &once);
	struct buf t;
	buf_init(&t);
	manifest_json(&t, &once);
	buf_adds(b, "  record:     ");
	json_ascii(b, t.p, t.n);	/* with its newline */
	buf_free(&t);
}

void manifest_html(struct buf *b, const struct manifest *m,
		   void (*html_text)(struct buf *b, const char *text))
{
	char body[65];
	body_hash(m, body);
	struct manifest once = *m;
	once.body_sha256 = NULL;
	once.body_known = body;
	struct buf t;
	buf_init(&t);
	manifest_text(&t, &once);
	/* line by line: the renderer would make the newlines visible */
	for (char *line = t.p, *nl; line && *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line) - 1;
		char save = nl[0];
		nl[0] = '\0';
		html_text(b, line);
		buf_addc(b, '\n');
		nl[0] = save;
		if (!save)
			break;
	}
	buf_reset(&t);
	manifest_json(&t, &once);
	buf_adds(b, "</pre>\n<pre id=\"tlswitness-manifest\" hidden>");
	json_ascii(b, t.p, t.n - 1);	/* its newline left out */
	buf_adds(b, "</pre>\n");
	buf_free(&t);
}
