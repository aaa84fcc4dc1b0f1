/* join_test.c - unit tests for what the joins stand on: ids by key for a
 * window that drops its oldest (util/idlist.c), and the capture clock's
 * offset learnt from exact matches or, without them, from pairs of log
 * hops and connections of the same address (correlate/learn.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "../../correlate/learn.h"
#include "../../util/hashtab.h"
#include "../../util/idlist.h"

static void test_idlist_window(void **state)
{
	(void)state;
	struct hashtab *ht = ht_new();
	for (uint64_t id = 0; id < 100; id++)
		idx_add(ht, id % 2 ? "odd" : "even", id);
	const struct idlist *l = idx_get(ht, "even");
	assert_non_null(l);
	assert_int_equal(l->n - l->lo, 50);
	/* only the oldest id of a list can leave */
	idx_drop(ht, "even", 2);
	assert_int_equal(idx_get(ht, "even")->n - idx_get(ht, "even")->lo, 50);
	for (uint64_t id = 0; id < 98; id += 2)
		idx_drop(ht, "even", id);
	l = idx_get(ht, "even");
	assert_int_equal(l->n - l->lo, 1);
	assert_int_equal(l->v[l->lo], 98);
	/* room at the front is reused, in order */
	for (uint64_t id = 100; id < 400; id += 2)
		idx_add(ht, "even", id);
	l = idx_get(ht, "even");
	for (size_t i = l->lo + 1; i < l->n; i++)
		assert_true(l->v[i] == l->v[i - 1] + 2);
	/* the last one out takes the list with it */
	for (uint64_t id = 98; id < 400; id += 2)
		idx_drop(ht, "even", id);
	assert_null(idx_get(ht, "even"));
	assert_null(idx_get(ht, NULL));
	ht_free(ht, idlist_free);
}

/* A capture connection from client to server:25, first..last. */
static void connection(struct learn *lr, const char *client, int cport, time_t first,
		       time_t last)
{
	struct smtp_connection c;
	memset(&c, 0, sizeof c);
	snprintf(c.client, sizeof c.client, "%s", client);
	snprintf(c.server, sizeof c.server, "10.1.0.1");
	c.cport = (uint16_t)cport;
	c.sport = 25;
	c.first_ts = first;
	c.last_ts = last;
	learn_connection(lr, &c);
}

/* A log message that arrived from client at ts. */
static void arrival(struct learn *lr, const char *client, time_t ts)
{
	struct message *m = message_new(span_from("mx"), span_from("postfix"), span_from("Q1"),
					MTA_POSTFIX, ts);
	m->has_inbound = true;
	m->inbound.source = SRC_LOG;
	m->inbound.peer_ip = xstrdup(client);
	m->inbound.ts = ts;
	learn_observe(lr, m);
	message_free(m);
}

static void test_offset_from_pairs(void **state)
{
	(void)state;
	/* sessions from 20 clients every 30 s; the capture clock 40 s ahead */
	struct learn *lr = learn_new();
	char ip[32];
	for (int k = 0; k < 20; k++) {
		snprintf(ip, sizeof ip, "10.0.0.%d", k % 5);
		connection(lr, ip, 40000 + k, 1000 + 30 * k, 1000 + 30 * k + 4);
	}
	for (int k = 0; k < 20; k++) {
		snprintf(ip, sizeof ip, "10.0.0.%d", k % 5);
		arrival(lr, ip, 1000 + 30 * k + 2 - 40);
	}
	learn_settle(lr, false, 0);
	long off = learn_offset(lr);
	assert_true(off >= 39 && off <= 41);
	char how[300];
	learn_describe(lr, how, sizeof how);
	assert_non_null(strstr(how, "address and time pairs"));
	learn_free(lr);

	/* one client, a connection every 100 s, arrivals half-way between:
	 * +50 s and -50 s fit equally often, so neither is taken */
	lr = learn_new();
	for (int k = 0; k < 5; k++)
		connection(lr, "10.0.0.9", 40000 + k, 5000 + 100 * k, 5004 + 100 * k);
	for (int k = 1; k < 4; k++)
		arrival(lr, "10.0.0.9", 5052 + 100 * k);
	learn_settle(lr, false, 0);
	assert_int_equal(learn_offset(lr), 0);
	learn_describe(lr, how, sizeof how);
	assert_non_null(strstr(how, "assumed 0"));
	learn_free(lr);
}

static void test_offset_fixed_and_bounded(void **state)
{
	(void)state;
	struct learn *lr = learn_new();
	learn_set_bound(lr, 20);	/* the true offset (+40) is out of reach */
	char ip[32];
	for (int k = 0; k < 20; k++) {
		snprintf(ip, sizeof ip, "10.0.0.%d", k % 5);
		connection(lr, ip, 40000 + k, 1000 + 30 * k, 1000 + 30 * k + 4);
		arrival(lr, ip, 1000 + 30 * k + 2 - 40);
	}
	learn_settle(lr, false, 0);
	assert_true(learn_offset(lr) < 20 && learn_offset(lr) > -20);
	learn_settle(lr, true, -7);
	assert_int_equal(learn_offset(lr), -7);
	learn_free(lr);
}

/* A capture message naming queue ID qid (the server's "queued as"), seen
 * at ts, and the log's arrival of the message with that queue ID at lts. */
static void exact(struct learn *lr, const char *qid, time_t ts, time_t lts)
{
	struct smtp_connection c;
	memset(&c, 0, sizeof c);
	snprintf(c.client, sizeof c.client, "10.0.0.1");
	snprintf(c.server, sizeof c.server, "10.1.0.1");
	c.sport = 25;
	c.first_ts = ts;
	c.last_ts = ts + 1;
	struct message *cm = message_new(span_from("10.1.0.1"), SPAN_NULL, span_from(qid),
					 MTA_UNKNOWN, ts);
	learn_record(lr, cm, &c);
	message_free(cm);
	struct message *m = message_new(span_from("mx"), span_from("postfix"), span_from(qid),
					MTA_POSTFIX, lts);
	m->has_inbound = true;
	m->inbound.source = SRC_LOG;
	m->inbound.peer_ip = xstrdup("10.0.0.1");
	m->inbound.ts = lts;
	learn_observe(lr, m);
	message_free(m);
}

/* Exact matches are the strongest evidence of the offset, so they must be
 * what they claim: a queue ID of the form Postfix writes, and an offset
 * within --skew-max.  Two bogus "queued as" replies a year away used to
 * set the offset to -31,536,010 s. */
static void test_exact_matches_are_checked(void **state)
{
	(void)state;
	struct learn *lr = learn_new();
	exact(lr, "9BB0A114197", 100000 + 40, 100000);		/* real: +40 s */
	exact(lr, "1E63211C03B", 100500 + 40, 100500);
	exact(lr, "0A3D010E241", 100000 - 31536010, 100000);	/* a year off: */
	exact(lr, "20CE910E241", 100700 - 31536010, 100700);	/* the median, */
	exact(lr, "30DF0A0E352", 100900 - 31536010, 100900);	/* unchecked */
	exact(lr, "hello", 100000 - 31536010, 100000);		/* not a queue ID */
	exact(lr, "AAAAAAAAAAAAAAAAAAAA", 100000 + 600, 100000);	/* too long for hex */
	learn_settle(lr, false, 0);
	assert_int_equal(learn_offset(lr), 40);
	char how[400];
	learn_describe(lr, how, sizeof how);
	assert_non_null(strstr(how, "2 exact matches"));
	assert_non_null(strstr(how, "3 beyond --skew-max 900 s"));
	assert_non_null(strstr(how, "2 with a queue ID not of its MTA's form"));
	learn_free(lr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idlist_window),
		cmocka_unit_test(test_offset_from_pairs),
		cmocka_unit_test(test_offset_fixed_and_bounded),
		cmocka_unit_test(test_exact_matches_are_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
