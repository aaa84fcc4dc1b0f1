/* copytext_test.c - a record as a COPY text row (store/copytext.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "../../store/copytext.h"

static void row_is(const char *rec, const char *want, unsigned want_nul)
{
	struct buf b;
	buf_init(&b);
	unsigned nul = copytext_row(&b, 7, rec, strlen(rec));
	assert_string_equal(b.p, want);
	assert_int_equal(nul, want_nul);
	buf_free(&b);
}

static void plain_record(void **state)
{
	row_is("{\"a\":1}", "7\t{\"a\":1}\n", 0);
}

static void backslashes_doubled(void **state)
{
	/* a JSON escape keeps its meaning after COPY takes its backslashes */
	row_is("{\"a\":\"x\\\"y\\\\z\\n\"}", "7\t{\"a\":\"x\\\\\"y\\\\\\\\z\\\\n\"}\n", 0);
}

static void controls_escaped(void **state)
{
	row_is("{\"a\":\t\"b\"}\r", "7\t{\"a\":\\t\"b\"}\\r\n", 0);
}

static void nul_escape_replaced(void **state)
{
	/* jsonb cannot hold U+0000: stored as U+FFFD, counted */
	row_is("{\"h\":\"a\\u0000b\"}", "7\t{\"h\":\"a\\\\ufffdb\"}\n", 1);
	/* an escaped backslash followed by the text u0000 is not one */
	row_is("{\"h\":\"a\\\\u0000b\"}", "7\t{\"h\":\"a\\\\\\\\u0000b\"}\n", 0);
	/* cut short: left as it is */
	row_is("{\"h\":\"\\u000", "7\t{\"h\":\"\\\\u000\n", 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_record),
		cmocka_unit_test(backslashes_doubled),
		cmocka_unit_test(controls_escaped),
		cmocka_unit_test(nul_escape_replaced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
