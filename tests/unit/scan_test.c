/* scan_test.c - unit tests for a lookup's first pass (ingest/scan.c) and
 * the state file's encoding (util/serial.c): every line naming a needle
 * found once, with its number, whatever the block boundaries, the case of
 * a folded needle, CRLF, a last line without its newline, gzip; the index
 * points at line starts; the varints and strings read back, a damaged
 * input refused without reading past its end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../../ingest/scan.h"
#include "../../util/serial.h"
#include "../../util/timeconv.h"

struct hits {
	unsigned long line[64];
	char text[64][128];
	size_t n;
};

static void on_hit(struct span line, unsigned long lineno, const struct syslog_rec *rec, void *arg)
{
	struct hits *h = arg;
	(void)rec;
	if (h->n < 64) {
		h->line[h->n] = lineno;
		snprintf(h->text[h->n], sizeof h->text[h->n], "%.*s", (int)line.n, line.p);
		h->n++;
	}
}

/* A log of n lines, line k (1-based) "Nov 28 HH:MM:SS lab postfix/smtp[1]: line k ...", a second apart,
 * with the needle words on the lines given. */
static void write_log(const char *path, unsigned long n, bool crlf, bool last_nl, bool gz)
{
	FILE *f = fopen(path, "wb");
	gzFile z = gz ? gzdopen(dup(fileno(f)), "wb") : NULL;
	for (unsigned long k = 1; k <= n; k++) {
		char b[300];
		const char *word = k % 997 == 0 ? " to=<X@Clinic.Example>," : k % 1009 == 0 ? " Q1D42" : "";
		int len = snprintf(b, sizeof b, "Nov 28 %02lu:%02lu:%02lu lab postfix/smtp[1]: line %lu%s "
				   "padding to make lines long enough to cross blocks%s", 8 + k / 3600,
				   (k / 60) % 60, k % 60, k,
				   word, k == n && !last_nl ? "" : crlf ? "\r\n" : "\n");
		if (z)
			gzwrite(z, b, (unsigned)len);
		else
			fwrite(b, 1, (size_t)len, f);
	}
	if (z)
		gzclose(z);
	fclose(f);
}

static void scan_case(bool crlf, bool last_nl, bool gz)
{
	char path[] = "/tmp/tw-scan-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	const unsigned long n = 30000;	/* about 3 MiB: several blocks and index points */
	write_log(path, n, crlf, last_nl, gz);
	struct tzconf *tz = tz_new("UTC");
	struct scan_needle nd[] = { { "x@clinic.example", 16, true }, { "Q1D42", 5, false } };
	struct hits h = { 0 };
	struct scan_file sf;
	assert_true(scan_log(path, nd, 2, tz, 2026, on_hit, &h, &sf));
	assert_int_equal(sf.lines, n);
	assert_int_equal(sf.gzip, gz);
	/* every 997th and every 1009th line, in order, each once */
	size_t want = 0;
	for (unsigned long k = 1; k <= n; k++) {
		if (k % 997 && k % 1009)
			continue;
		assert_true(want < h.n);
		assert_int_equal(h.line[want], k);
		char head[64];
		snprintf(head, sizeof head, "line %lu ", k);
		assert_non_null(strstr(h.text[want], head));
		assert_null(strchr(h.text[want], '\r'));
		want++;
	}
	assert_int_equal(h.n, want);
	/* index points: at line starts, numbered, stamped, in order */
	assert_true(sf.npt >= 2);
	assert_int_equal(sf.pt[0].at.offset, 0);
	for (size_t i = 1; i < sf.npt; i++) {
		assert_true(sf.pt[i].at.offset > sf.pt[i - 1].at.offset);
		assert_true(sf.pt[i].at.lineno > sf.pt[i - 1].at.lineno);
		assert_true(sf.pt[i].ts >= sf.pt[i - 1].ts);
	}
	assert_int_equal(strlen(sf.sha256), 64);
	scan_file_free(&sf);
	tz_free(tz);
	unlink(path);
}

static void test_scan_plain(void **st) { (void)st; scan_case(false, true, false); }
static void test_scan_crlf_no_last_newline(void **st) { (void)st; scan_case(true, false, false); }
static void test_scan_gzip(void **st) { (void)st; scan_case(false, true, true); }

static void test_serial(void **st)
{
	(void)st;
	struct buf b;
	buf_init(&b);
	const int64_t ints[] = { 0, 1, -1, 127, 128, -129, INT64_MAX, INT64_MIN };
	for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
		ser_i64(&b, ints[i]);
	ser_u64(&b, UINT64_MAX);
	ser_str(&b, NULL);
	ser_str(&b, "");
	ser_str(&b, "héllo");
	ser_bool(&b, true);
	struct ser_in r;
	ser_in_init(&r, b.p, b.n);
	for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
		assert_true(ser_get_i64(&r) == ints[i]);
	assert_true(ser_get_u64(&r) == UINT64_MAX);
	assert_null(ser_get_str(&r));
	char *e = ser_get_str(&r), *h = ser_get_str(&r);
	assert_string_equal(e, "");
	assert_string_equal(h, "héllo");
	free(e);
	free(h);
	assert_true(ser_get_bool(&r));
	assert_null(r.error);
	assert_true(r.p == r.end);
	/* cut short: an error, zeros, never a read past the end */
	ser_in_init(&r, b.p, 3);
	for (int i = 0; i < 20; i++)
		(void)ser_get_u64(&r);
	assert_non_null(r.error);
	assert_null(ser_get_str(&r));
	/* a string longer than what is left */
	struct buf c;
	buf_init(&c);
	ser_u64(&c, 1000);
	buf_adds(&c, "abc");
	ser_in_init(&r, c.p, c.n);
	assert_null(ser_get_str(&r));
	assert_non_null(r.error);
	buf_free(&b);
	buf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_plain),
		cmocka_unit_test(test_scan_crlf_no_last_newline),
		cmocka_unit_test(test_scan_gzip),
		cmocka_unit_test(test_serial),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
