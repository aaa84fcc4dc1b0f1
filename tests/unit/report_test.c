/* report_test.c - the report stage on its own: escaping for every format,
 * the writers' table, and committing an output (report/output.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../report/escape.h"
#include "../../report/mailbox.h"
#include "../../report/output.h"
#include "../../report/writer.h"
#include "../../util/fileid.h"
#include "../../report/text.h"

static void test_escape(void **st)
{
	(void)st;
	struct buf b;
	buf_init(&b);
	json_str(&b, "a\"b\\c\n\x1b[31m\xff\xc3\xa9");
	assert_string_equal(b.p, "\"a\\\"b\\\\c\\n\\u001b[31m\\ufffd\xc3\xa9\"");
	buf_reset(&b);
	json_str(&b, NULL);
	assert_string_equal(b.p, "null");
	buf_reset(&b);
	text_safe(&b, "x\x1b]0;t\x07\xc2\x9b\xe2\x82\xac");
	assert_string_equal(b.p, "x\\x1b]0;t\\x07\\xc2\\x9b\xe2\x82\xac");
	buf_reset(&b);
	/* overlong and surrogate encodings are invalid (RFC 3629) */
	json_str(&b, "\xc0\xaf\xed\xa0\x80");
	assert_string_equal(b.p, "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");
	buf_free(&b);
}

/* The escaper's plain run goes sixteen bytes at a time (escape.c): a byte
 * to escape at every position of strings of every length up to three
 * blocks must come out as the byte-at-a-time rule says. */
static void test_escape_every_position(void **st)
{
	(void)st;
	static const char *const special[][2] = {
		{ "\"", "\\\"" }, { "\\", "\\\\" }, { "\n", "\\n" }, { "\x7f", "\\u007f" },
		{ "\x1f", "\\u001f" }, { "\xff", "\\ufffd" }, { "\xc3\xa9", "\xc3\xa9" },
	};
	struct buf got, want, in;
	buf_init(&got);
	buf_init(&want);
	buf_init(&in);
	for (size_t len = 1; len <= 48; len++)
		for (size_t pos = 0; pos < len; pos++)
			for (size_t k = 0; k < sizeof special / sizeof *special; k++) {
				buf_reset(&in);
				buf_reset(&want);
				buf_addc(&want, '"');
				for (size_t i = 0; i < len; i++) {
					const char *c = i == pos ? special[k][0] : "a";
					buf_adds(&in, c);
					buf_adds(&want, i == pos ? special[k][1] : c);
				}
				buf_addc(&want, '"');
				buf_reset(&got);
				json_str(&got, in.p);
				assert_string_equal(got.p, want.p);
				buf_reset(&got);
				json_strn(&got, in.p, in.n);
				assert_string_equal(got.p, want.p);
			}
	buf_free(&got);
	buf_free(&want);
	buf_free(&in);
}

static void test_html_and_cells(void **st)
{
	(void)st;
	struct buf b;
	buf_init(&b);
	html_safe(&b, "<script>\"a\" & 'b'\x1b</script>");
	assert_string_equal(b.p, "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;\\x1b&lt;/script&gt;");
	buf_reset(&b);
	text_cell(&b, "\xc3\xa9t\xc3\xa9", 5);	/* 3 columns, padded to 5, then a space */
	assert_string_equal(b.p, "\xc3\xa9t\xc3\xa9   ");
	buf_reset(&b);
	text_cell(&b, NULL, 2);
	assert_string_equal(b.p, "-  ");
	buf_free(&b);
}

/* One message through a writer from the table, its output in out. */
static void write_one(const char *format, struct message *m, struct buf *out)
{
	const char *files[] = { "mail.log" };
	struct writer_env env = { .files = files, .nfiles = 1 };
	const struct writer_class *w = writer_lookup(format, false);
	assert_non_null(w);
	void *st = w->begin(out, &env);
	w->message(st, m);
	w->free(st);
}

static void hostile_message(struct message *m, struct hop *h, const char *from, const char *peer)
{
	memset(m, 0, sizeof *m);
	hop_init(&m->inbound, DIR_IN);
	hop_init(h, DIR_OUT);
	m->host = "mx";
	m->qid = "1A2B3C4D5E";
	m->from = (char *)from;
	h->peer_host = (char *)peer;
	h->peer_ip = "192.0.2.1";
	h->rcpt = "<b@y>";
	m->dl = h;
	m->ndl = 1;
}

/* A cell that starts with blanks and then a formula character is a formula
 * to a spreadsheet too (OWASP "CSV injection"). */
static void test_csv_neutralises_formulas(void **st)
{
	(void)st;
	struct message m;
	struct hop h;
	hostile_message(&m, &h, "   =HYPERLINK(\"http://x\")", "@SUM(1)");
	struct buf b;
	buf_init(&b);
	write_one("csv", &m, &b);
	assert_non_null(strstr(b.p, "\"'   =HYPERLINK(\"\"http://x\"\")\""));
	assert_non_null(strstr(b.p, ",'@SUM(1),"));
	assert_null(strstr(b.p, ",   ="));
	buf_free(&b);
}

/* Text that reorders or breaks the lines it is shown in: bidirectional
 * overrides and isolates, U+2028 (CVE-2021-42574) come out as \uNNNN. */
static void test_text_shows_invisible_controls(void **st)
{
	(void)st;
	struct message m;
	struct hop h;
	hostile_message(&m, &h, "<a\xe2\x80\xae" "evil@x>", "mx\xe2\x80\xa8.y\xe2\x81\xa6");
	struct buf b;
	buf_init(&b);
	/* the text writer holds rows until its summary is written: the rows
	 * themselves, as it writes them */
	const char *files[] = { "mail.log" };
	struct writer_env env = { .files = files, .nfiles = 1 };
	text_message(&b, &m, &env);
	assert_null(strstr(b.p, "\xe2\x80\xae"));
	assert_null(strstr(b.p, "\xe2\x80\xa8"));
	assert_null(strstr(b.p, "\xe2\x81\xa6"));
	assert_non_null(strstr(b.p, "mx\\u2028.y\\u2066"));
	buf_reset(&b);
	text_safe(&b, "caf\xc3\xa9 \xe2\x80\x8f\xd8\x9c ok");	/* é stays; RLM, ALM do not */
	assert_string_equal(b.p, "caf\xc3\xa9 \\u200f\\u061c ok");
	/* zero-width characters, the BOM and tag characters hide text */
	buf_reset(&b);
	text_safe(&b, "a\xe2\x80\x8b" "b\xe2\x81\xa0" "c\xef\xbb\xbf" "d\xf3\xa0\x81\x81" "e\xf0\x9f\x98\x80");
	assert_string_equal(b.p, "a\\u200bb\\u2060c\\ufeffd\\U000e0041e\xf0\x9f\x98\x80");
	assert_string_equal(text_shown("mail.log"), "mail.log");
	assert_string_equal(text_shown("a\x1b[2Jb\nc"), "a\\x1b[2Jb\\x0ac");
	buf_free(&b);
}

static void test_writer_table(void **st)
{
	(void)st;
	assert_non_null(writer_lookup("json", false));
	assert_string_equal(writer_lookup("events", false)->name, "events");
	assert_int_equal(writer_lookup("events", false)->input, WRITER_EVIDENCE);
	assert_int_equal(writer_lookup("paths", false)->input, WRITER_PATHS);
	assert_null(writer_lookup("postfix", false));	/* a map, not a format */
	assert_non_null(writer_lookup("postfix", true));
	assert_null(writer_lookup("exim", true));
	struct buf b;
	buf_init(&b);
	writer_names(&b, false, ", ");
	assert_string_equal(b.p, "text, json, csv, html, tlsrpt, domains, events, paths, story, users");
	buf_reset(&b);
	writer_names(&b, true, " or ");
	assert_string_equal(b.p, "postfix or sendmail");
	buf_free(&b);
}

/* The temporary files in dir (names starting ".report.json.tmp."), and the
 * mode of the last one. */
static int temp_files(const char *dir, mode_t *mode)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (strncmp(e->d_name, ".report.json.tmp.", 17) == 0) {
			char p[300];
			struct stat sb;
			snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
			if (lstat(p, &sb) == 0 && mode)
				*mode = sb.st_mode & 07777;
			n++;
		}
	closedir(d);
	return n;
}

struct seen_seal {
	const char *path;
	char bytes[64];
	size_t n;
	bool there_yet;
};

static bool remember_seal(const unsigned char *bytes, size_t n, const unsigned char sha[32],
			  void *arg, struct buf *why)
{
	struct seen_seal *s = arg;
	s->n = n < sizeof s->bytes ? n : sizeof s->bytes;
	if (bytes)
		memcpy(s->bytes, bytes, s->n);
	s->there_yet = access(s->path, F_OK) == 0;
	return true;
}

static void test_output_commit(void **st)
{
	(void)st;
	char dir[] = "/tmp/tw-output-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/report.json", dir);
	struct buf why, b;
	buf_init(&why);
	buf_init(&b);
	struct output *o = output_open(path, &why);
	assert_non_null(o);
	mode_t mode = 0;
	assert_int_equal(temp_files(dir, &mode), 1);	/* written beside it first */
	assert_int_equal(mode, 0600);			/* readable by root alone */
	struct stat sb;
	assert_int_not_equal(stat(path, &sb), 0);	/* nothing in place yet */
	buf_adds(&b, "{}\n");
	output_flush(o, &b, false);			/* under 64 KiB: kept */
	assert_int_equal(b.n, 3);
	output_flush(o, &b, true);
	assert_int_equal(b.n, 0);
	assert_false(output_failed(o));
	assert_true(output_close(o, &why));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 3);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(temp_files(dir, NULL), 0);	/* renamed, not copied */
	/* a report replaced keeps the mode it had */
	assert_int_equal(chmod(path, 0640), 0);
	assert_true(output_write_whole(path, "{}\n{}\n", 6, &why));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 6);
	assert_int_equal(sb.st_mode & 07777, 0640);
	/* a destination that cannot be written: the reason, with its name */
	char bad[160];
	snprintf(bad, sizeof bad, "%s/no/such/dir/m.json", dir);
	assert_false(output_write_whole(bad, "x", 1, &why));
	assert_non_null(strstr(why.p, "/no/such/dir/m.json: No such file or directory"));
	/* a symbolic link is not followed, whatever it points at */
	char link[160], target[160];
	snprintf(link, sizeof link, "%s/link.json", dir);
	snprintf(target, sizeof target, "%s/precious", dir);
	assert_true(output_write_whole(target, "keep", 4, &why));
	assert_int_equal(symlink(target, link), 0);
	buf_reset(&why);
	assert_null(output_open(link, &why));
	assert_non_null(strstr(why.p, "is a symbolic link"));
	assert_int_equal(stat(target, &sb), 0);
	assert_int_equal(sb.st_size, 4);
	/* the same file by another name, and a place not made yet */
	char other[160], later[160], later2[160];
	snprintf(other, sizeof other, "%s/../%s/report.json", dir, strrchr(dir, '/') + 1);
	snprintf(later, sizeof later, "%s/later.json", dir);
	snprintf(later2, sizeof later2, "%s/../%s/later.json", dir, strrchr(dir, '/') + 1);
	struct fileid a, b2;
	assert_true(fileid_of(path, &a) && fileid_of(other, &b2));
	assert_true(fileid_same(&a, &b2));
	assert_true(fileid_of(later, &a) && fileid_of(later2, &b2));
	assert_true(fileid_same(&a, &b2));
	assert_true(fileid_of(path, &b2));
	assert_false(fileid_same(&a, &b2));
	assert_false(fileid_of(bad, &a));
	/* sealed: the seal sees the bytes as written, before the rename */
	struct output *so = output_open(later, &why);
	assert_non_null(so);
	buf_adds(&b, "sealed bytes\n");
	output_flush(so, &b, true);
	struct seen_seal seen = { .path = later };
	assert_true(output_close_sealed(so, remember_seal, &seen, true, &why));
	assert_int_equal(seen.n, 13);
	assert_memory_equal(seen.bytes, "sealed bytes\n", 13);
	assert_false(seen.there_yet);
	unlink(later);
	unlink(link);
	unlink(target);
	unlink(path);
	rmdir(dir);
	buf_free(&why);
	buf_free(&b);
}

/* The session ID in Dovecot's LMTP reply, as the legs lab's Postfix
 * logged it; other replies are not Dovecot's. */
static void test_lmtp_reply_session(void **st)
{
	(void)st;
	char id[64];
	assert_true(mbox_reply_session("250 2.0.0 <dora@legs.test> eDusMSqsD2ukNAAAg+zDdQ Saved",
				       id, sizeof id));
	assert_string_equal(id, "eDusMSqsD2ukNAAAg+zDdQ");
	assert_false(mbox_reply_session("250 2.0.0 Ok: queued as 4F2C1", id, sizeof id));
	assert_false(mbox_reply_session("250 2.1.5 <dora@legs.test> OK", id, sizeof id));
	assert_false(mbox_reply_session("451 4.3.0 <dora@legs.test> Temporary internal error", id,
					sizeof id));
	assert_false(mbox_reply_session(NULL, id, sizeof id));
	assert_true(mbox_reply_session("250 2.0.0 <a> FAKE Saved> REAL Saved", id, sizeof id));
	assert_string_equal(id, "REAL");	/* the address cannot choose it */
	assert_false(mbox_reply_session("250 2.0.0 <a> Saved", id, sizeof id));
	char small[4];
	assert_false(mbox_reply_session("250 2.0.0 <d@x> LONGERTHAN Saved", small, sizeof small));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_every_position),
		cmocka_unit_test(test_lmtp_reply_session),
		cmocka_unit_test(test_html_and_cells),
		cmocka_unit_test(test_csv_neutralises_formulas),
		cmocka_unit_test(test_text_shows_invisible_controls),
		cmocka_unit_test(test_writer_table),
		cmocka_unit_test(test_output_commit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
