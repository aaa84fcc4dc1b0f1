/* util_test.c - unit tests for the store of recurring strings
 * (util/intern.c): one copy per string, told apart from owned copies by
 * address; bounded, so past its size or for a long string the caller gets
 * an owned copy; "" and NULL keep their meanings; a thread that does not
 * own the store gets owned copies.  And the hash tables' key hash
 * (util/hashtab.c): its tail read as one word gives what reading the
 * bytes one by one gives, for every length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../util/hashtab.h"
#include "../../util/intern.h"

static void test_intern_once(void **state)
{
	(void)state;
	char a[] = "TLS_AES_256_GCM_SHA384", b[] = "TLS_AES_256_GCM_SHA384";
	char *x = intern_str(a), *y = intern_span(b, strlen(b));
	assert_ptr_equal(x, y);
	assert_true(intern_owns(x));
	assert_string_equal(x, a);
	assert_ptr_equal(intern_dup(x), x);
	/* A prefix is another string. */
	char *z = intern_span(a, 7);
	assert_string_equal(z, "TLS_AES");
	assert_ptr_not_equal(z, x);
	/* An owned string becomes the store's on copy. */
	char *owned = strdup("X25519");
	char *c = intern_dup(owned);
	assert_true(intern_owns(c));
	assert_false(intern_owns(owned));
	intern_free(owned);
	intern_free(c);		/* no-op: the store keeps it */
	assert_string_equal(intern_str("X25519"), "X25519");
	assert_null(intern_span("abc", 0));
	assert_null(intern_str(NULL));
	assert_null(intern_dup(NULL));
	char *e = intern_str("");
	assert_non_null(e);
	assert_string_equal(e, "");
	assert_false(intern_owns(e));
	intern_free(e);
}

static void test_intern_bounded(void **state)
{
	(void)state;
	char longer[INTERN_MAX + 2];
	memset(longer, 'a', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	char *l = intern_str(longer);
	assert_false(intern_owns(l));
	assert_string_equal(l, longer);
	intern_free(l);
	/* A flood of distinct names: the store fills, then copies are owned,
	 * and every string still reads back as it was given. */
	size_t interned = 0, owned = 0;
	for (int i = 0; i < 4 * INTERN_SLOTS; i++) {
		char name[32];
		snprintf(name, sizeof name, "cipher-%d", i);
		char *s = intern_str(name);
		assert_string_equal(s, name);
		if (intern_owns(s))
			interned++;
		else
			owned++;
		intern_free(s);
	}
	assert_true(interned > 0 && interned <= INTERN_SLOTS / 2);
	assert_true(owned >= 3 * INTERN_SLOTS);
	/* Strings stored before the store filled are still found. */
	assert_true(intern_owns(intern_str("TLS_AES_256_GCM_SHA384")));
}

static void *other_thread(void *arg)
{
	(void)arg;
	return intern_str("TLS_AES_256_GCM_SHA384");
}

static void test_intern_other_thread(void **state)
{
	(void)state;
	pthread_t th;
	void *r = NULL;
	assert_int_equal(pthread_create(&th, NULL, other_thread, NULL), 0);
	assert_int_equal(pthread_join(th, &r), 0);
	assert_non_null(r);
	assert_false(intern_owns(r));
	assert_string_equal(r, "TLS_AES_256_GCM_SHA384");
	intern_free(r);
}

/* The hash as its comment defines it: words of eight bytes, then the
 * rest, little-endian, each byte on its own. */
static uint64_t reference_hash(const unsigned char *k, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL), w;
	for (; n >= 8; k += 8, n -= 8) {
		w = 0;
		for (int i = 0; i < 8; i++)
			w |= (uint64_t)k[i] << (8 * i);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
		h ^= h >> 29;
	}
	w = 0;
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)k[i] << (8 * i);
	h = (h ^ w) * 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static void test_key_hash_tail(void **state)
{
	(void)state;
	unsigned char key[48];
	for (size_t i = 0; i < sizeof key; i++)
		key[i] = (unsigned char)(i * 37 + 11);
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n + off <= sizeof key; n++)
			assert_true(ht_key_hash((const char *)key + off, n) ==
				    reference_hash(key + off, n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intern_once),
		cmocka_unit_test(test_intern_bounded),
		cmocka_unit_test(test_intern_other_thread),
		cmocka_unit_test(test_key_hash_tail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
