/* policy_test.c - the evaluator (rules/evaluate.c) on its own: every
 * modifier on the field types it fits, unknown values (false to compare,
 * matched by the word unknown), the first matching rule winning, unless,
 * sets of networks and domains, placeholders, and a message's verdict
 * from its hops.  Policies are loaded from text by the real loader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../rules/policy_int.h"	/* the set index, against the rule it replaces */

static struct policy *load(const char *yaml)
{
	struct buf errs;
	buf_init(&errs);
	struct policy *p = policy_load("test.yaml", yaml, strlen(yaml), &errs);
	if (!p)
		fail_msg("policy refused: %s", errs.p);
	buf_free(&errs);
	return p;
}

/* A message with one outbound hop, facts set by the caller. */
struct fixture {
	struct message m;
	struct hop h;
};

static void fixture_init(struct fixture *f)
{
	memset(&f->m, 0, sizeof f->m);
	hop_init(&f->m.inbound, DIR_IN);
	hop_init(&f->h, DIR_OUT);
	f->m.host = "mx1";
	f->m.qid = "9BB0A114197";
	f->m.message_id = "<a1@example.org>";
	f->m.from = "<alice@Example.ORG>";
	f->h.peer_host = "mx.clinic.example";
	f->h.peer_ip = "198.51.100.9";
	f->h.peer_port = 25;
	f->h.rcpt = "<x@Clinic.Example>";
	f->h.status = "sent";
	f->h.network = true;
}

static void fixture_free(struct fixture *f)
{
	free(f->h.explain);
}

/* The rule that judges f by a policy made of one rule with this `when`. */
static const char *judged_by(struct fixture *f, const char *when)
{
	static char yaml[2048];
	snprintf(yaml, sizeof yaml,
		 "schema: tlswitness/1\npolicy: t\n"
		 "networks:\n  internal: [10.0.0.0/8, \"2001:db8::/32\"]\n"
		 "domains:\n  partners: [clinic.example, \"*.hie.example.net\"]\n"
		 "rules:\n  - id: hit\n    when: %s\n    verdict: plaintext\n    severity: high\n"
		 "    explain: x\n"
		 "default: {verdict: unknown, severity: medium, explain: none}\n", when);
	struct policy *p = load(yaml);
	policy_judge(p, &f->m, &f->h);
	const char *rule = f->h.rule && strcmp(f->h.rule, "hit") == 0 ? "hit" : "default";
	policy_free(p);
	return rule;
}

#define HIT(f, when) assert_string_equal(judged_by(f, when), "hit")
#define MISS(f, when) assert_string_equal(judged_by(f, when), "default")

static void test_modifiers(void **st)
{
	(void)st;
	struct fixture f;
	fixture_init(&f);
	f.h.tls.used = TRI_YES;
	f.h.tls.version = TLSV_1_2;
	f.h.tls.cipher = "ECDHE-RSA-AES256-GCM-SHA384";
	f.h.tls.bits = 256;
	f.h.tls.cert = CERT_TRUSTED;
	HIT(&f, "{tls.used: true}");
	MISS(&f, "{tls.used: false}");
	HIT(&f, "{tls.version|eq: TLSv1.2}");
	HIT(&f, "{tls.version|ne: TLSv1.3}");
	HIT(&f, "{tls.version|lt: TLSv1.3}");
	MISS(&f, "{tls.version|lt: TLSv1.2}");
	HIT(&f, "{tls.version|le: TLSv1.2}");
	HIT(&f, "{tls.version|gt: TLSv1.1}");
	HIT(&f, "{tls.version|ge: TLSv1.2}");
	MISS(&f, "{tls.version|gt: TLSv1.2}");
	HIT(&f, "{tls.version|in: [TLSv1.2, TLSv1.3]}");
	HIT(&f, "{tls.cert|ge: trusted}");
	MISS(&f, "{tls.cert|ge: verified}");
	HIT(&f, "{tls.bits|ge: 128}");
	MISS(&f, "{tls.bits|lt: 128}");
	HIT(&f, "{tls.bits|in: [128, 256]}");
	HIT(&f, "{tls.cipher|contains: aes256}");	/* case-insensitive */
	HIT(&f, "{tls.cipher|contains: [RC4, GCM]}");	/* any of a list */
	MISS(&f, "{tls.cipher|contains: [RC4, 3DES]}");
	HIT(&f, "{tls.cipher|prefix: ecdhe-}");
	HIT(&f, "{tls.cipher|suffix: SHA384}");
	HIT(&f, "{hop.peer_ip|cidr: [198.51.100.0/24]}");
	MISS(&f, "{hop.peer_ip|cidr: $internal}");
	HIT(&f, "{hop.peer_ip: 198.51.100.9}");
	HIT(&f, "{hop.peer_port: 25}");
	HIT(&f, "{hop.direction: outbound}");
	MISS(&f, "{hop.direction: inbound}");
	HIT(&f, "{hop.network: true, hop.local: false}");
	HIT(&f, "{hop.source: log}");
	HIT(&f, "{hop.status: sent}");
	HIT(&f, "{hop.rcpt_domain|in: $partners}");	/* <x@Clinic.Example> */
	HIT(&f, "{hop.rcpt_domain: clinic.example}");
	HIT(&f, "{hop.peer_host|in: [\"*.clinic.example\"]}");
	MISS(&f, "{hop.peer_host|in: [\"*.hie.example.net\"]}");
	HIT(&f, "{msg.from_domain: example.org}");
	HIT(&f, "{msg.from|prefix: \"<alice@\"}");
	HIT(&f, "{msg.host: mx1, msg.queue_id: 9BB0A114197}");
	HIT(&f, "{msg.message_id|suffix: \"@example.org>\"}");
	f.h.peer_ip = "2001:db8::25";
	HIT(&f, "{hop.peer_ip|cidr: $internal}");
	f.h.peer_ip = "10.1.2.3";
	HIT(&f, "{hop.peer_ip|cidr: $internal}");
	fixture_free(&f);
}

/* A comparison with an unknown value is false, whatever the modifier; the
 * word unknown matches exactly the values that are not known. */
static void test_unknown_values(void **st)
{
	(void)st;
	struct fixture f;
	fixture_init(&f);	/* TLS facts all unknown */
	MISS(&f, "{tls.used: true}");
	MISS(&f, "{tls.used: false}");
	MISS(&f, "{tls.used|ne: true}");
	MISS(&f, "{tls.version|lt: TLSv1.2}");
	MISS(&f, "{tls.version|ge: TLSv1.2}");
	MISS(&f, "{tls.cipher|contains: RC4}");
	MISS(&f, "{tls.bits|lt: 128}");
	HIT(&f, "{tls.used: unknown}");
	HIT(&f, "{tls.version: unknown}");
	HIT(&f, "{tls.cert: unknown}");
	f.h.tls.used = TRI_YES;
	MISS(&f, "{tls.used: unknown}");
	HIT(&f, "{tls.used|ne: unknown}");
	f.h.rcpt = NULL;
	MISS(&f, "{hop.rcpt_domain|in: $partners}");
	HIT(&f, "{hop.rcpt_domain: unknown}");
	f.h.peer_ip = NULL;
	MISS(&f, "{hop.peer_ip|cidr: $internal}");
	fixture_free(&f);
}

static const char *const ordered =
	"schema: tlswitness/1\npolicy: ordered\n"
	"domains:\n  partners: [clinic.example]\n"
	"rules:\n"
	"  - id: plain\n    when: {tls.used: false}\n"
	"    unless: {hop.rcpt_domain|in: $partners, hop.peer_port: 2525}\n"
	"    verdict: plaintext\n    severity: critical\n"
	"    explain: \"to {hop.peer_host}[{hop.peer_ip}] ({rule}, {tls.version})\"\n"
	"  - id: plain-partner\n    when: {tls.used: false}\n    verdict: plaintext\n"
	"    severity: info\n    explain: \"{tls.basis}\"\n"
	"  - id: any\n    when: {}\n    verdict: encrypted\n    severity: info\n"
	"    explain: \"{tls.used}\"\n"
	"default: {verdict: unknown, severity: medium, explain: none}\n";

/* The first rule whose when holds and none of whose unless holds; unless
 * holds when any one of its conditions does. */
static void test_first_match_and_unless(void **st)
{
	(void)st;
	struct policy *p = load(ordered);
	assert_string_equal(policy_name(p), "ordered");
	assert_int_equal(policy_nrules(p), 3);
	assert_string_equal(policy_rule_id(p, 1), "plain-partner");
	struct fixture f;
	fixture_init(&f);
	f.h.tls.used = TRI_NO;
	f.h.rcpt = "<x@other.example>";
	policy_judge(p, &f.m, &f.h);
	assert_string_equal(f.h.rule, "plain");
	assert_string_equal(f.h.verdict, "plaintext");
	assert_string_equal(f.h.severity, "critical");
	assert_string_equal(f.h.explain, "to mx.clinic.example[198.51.100.9] (plain, unknown)");
	f.h.rcpt = "<x@clinic.example>";	/* unless: the partner domain */
	policy_judge(p, &f.m, &f.h);
	assert_string_equal(f.h.rule, "plain-partner");
	assert_string_equal(f.h.explain, "unknown");	/* no basis: {tls.basis} */
	f.h.rcpt = "<x@other.example>";
	f.h.peer_port = 2525;			/* unless: its other condition */
	policy_judge(p, &f.m, &f.h);
	assert_string_equal(f.h.rule, "plain-partner");
	f.h.tls.used = TRI_YES;			/* only the catch-all is left */
	policy_judge(p, &f.m, &f.h);
	assert_string_equal(f.h.rule, "any");
	assert_string_equal(f.h.explain, "true");
	f.h.tls.used = TRI_UNKNOWN;
	policy_judge(p, &f.m, &f.h);
	assert_string_equal(f.h.rule, "any");	/* when: {} holds for anything */
	fixture_free(&f);
	policy_free(p);
}

/* A rule's conditions tested without judging (--where): the hop is left
 * as it was. */
static void test_rule_matches_without_judging(void **st)
{
	(void)st;
	struct policy *p = load(ordered);
	struct fixture f;
	fixture_init(&f);
	f.h.tls.used = TRI_NO;
	f.h.rcpt = "<x@other.example>";
	assert_true(policy_rule_matches(p, 0, &f.m, &f.h));	/* plain */
	f.h.rcpt = "<x@clinic.example>";
	assert_false(policy_rule_matches(p, 0, &f.m, &f.h));	/* unless holds */
	assert_true(policy_rule_matches(p, 1, &f.m, &f.h));
	assert_false(policy_rule_matches(p, 7, &f.m, &f.h));	/* no such rule */
	assert_null(f.h.verdict);
	assert_null(f.h.explain);
	policy_free(p);
}

/* The same condition over many values: the memo of recent answers must
 * not answer for another value. */
static void test_memo_keeps_values_apart(void **st)
{
	(void)st;
	struct policy *p = load("schema: tlswitness/1\npolicy: m\nrules:\n"
				"  - id: rc4\n    when: {tls.cipher|contains: RC4}\n"
				"    verdict: weak\n    severity: high\n    explain: x\n"
				"default: {verdict: encrypted, severity: info, explain: y}\n");
	struct fixture f;
	fixture_init(&f);
	f.h.tls.used = TRI_YES;
	char cipher[32];
	f.h.tls.cipher = cipher;
	for (int i = 0; i < 40; i++) {
		snprintf(cipher, sizeof cipher, i % 3 ? "AES%d-GCM" : "RC4-%d-MD5", i);
		policy_judge(p, &f.m, &f.h);
		assert_string_equal(f.h.rule, i % 3 ? "default" : "rc4");
	}
	fixture_free(&f);
	policy_free(p);
}

/* A message's verdict is its worst hop that crossed a network; with none,
 * its worst hop on this machine; with none of those, its worst hop. */
static void test_message_verdict(void **st)
{
	(void)st;
	struct policy *p = load(ordered);
	struct message m;
	memset(&m, 0, sizeof m);
	m.has_inbound = true;
	hop_init(&m.inbound, DIR_IN);
	m.inbound.local = true;
	m.inbound.tls.used = TRI_NO;			/* pickup: plaintext, local */
	struct hop dl[2];
	hop_init(&dl[0], DIR_OUT);
	hop_init(&dl[1], DIR_OUT);
	dl[0].network = true;
	dl[0].tls.used = TRI_YES;
	dl[1].network = true;
	dl[1].tls.used = TRI_YES;
	m.dl = dl;
	m.ndl = 2;
	policy_judge_message(p, &m);
	assert_string_equal(m.verdict, "encrypted");	/* the local hop does not count */
	assert_string_equal(m.severity, "info");
	dl[1].tls.used = TRI_NO;
	dl[1].rcpt = "<y@other.example>";
	policy_judge_message(p, &m);
	assert_string_equal(m.verdict, "plaintext");
	assert_string_equal(m.severity, "critical");
	dl[0].network = dl[1].network = false;		/* loopback hops only */
	dl[1].tls.used = TRI_YES;
	policy_judge_message(p, &m);
	assert_string_equal(m.verdict, "encrypted");
	free(m.inbound.explain);
	free(dl[0].explain);
	free(dl[1].explain);
	policy_free(p);
}

/* The hashed set answers as matching each member would: exact names,
 * wildcards of any depth, case, the root's trailing dot, a name that is
 * only the wildcard's suffix, a suffix that is not at a label boundary. */
static void test_domain_set_index(void **st)
{
	(void)st;
	static const char *const members[] = { "clinic.example", "*.hie.example.net",
						"Partner.ORG", "*.x.y", "a.b.c" };
	static const char *const names[] = {
		"clinic.example", "CLINIC.Example.", "mx.clinic.example", "hie.example.net",
		"mx.hie.example.net", "a.b.HIE.example.net", "xhie.example.net", "partner.org",
		"www.partner.org", "x.y", "q.x.y", ".x.y", "b.c", "a.b.c", "z.a.b.c", "", ".",
		"example.net", "net",
	};
	struct set s = { .names = (char **)members, .n = sizeof members / sizeof members[0] };
	rule_set_index(&s);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		bool want = false;
		for (size_t k = 0; k < s.n; k++)
			want |= rule_domain_match(members[k], names[i]);
		if (rule_set_has_domain(&s, names[i]) != want)
			fail_msg("'%s': the index says %d, the members %d", names[i], !want, want);
	}
	assert_true(rule_set_has_domain(&s, "mx.hie.example.net"));
	assert_false(rule_set_has_domain(&s, "hie.example.net"));
	assert_false(rule_set_has_domain(&s, NULL));
	ht_free(s.exact, NULL);
	ht_free(s.wild, NULL);
}

/* A set of 60,000 domains in a rule: every member is found, others not. */
static void test_large_domain_set(void **st)
{
	(void)st;
	struct buf y;
	buf_init(&y);
	buf_adds(&y, "schema: tlswitness/1\npolicy: big\ndomains:\n  partners: [");
	for (int i = 0; i < 60000; i++)
		buf_printf(&y, "%sd%d.ex", i ? "," : "", i);	/* under the 1 MiB limit */
	buf_adds(&y, "]\nrules:\n  - id: partner\n    when: {hop.rcpt_domain|in: $partners}\n"
		     "    verdict: encrypted\n    severity: info\n    explain: x\n"
		     "default: {verdict: unknown, severity: medium, explain: y}\n");
	struct policy *p = load(y.p);
	struct fixture f;
	fixture_init(&f);
	char rcpt[64];
	f.h.rcpt = rcpt;
	for (int i = 0; i < 120000; i += 7) {
		snprintf(rcpt, sizeof rcpt, "<u@D%d.ex>", i);
		policy_judge(p, &f.m, &f.h);
		assert_string_equal(f.h.rule, i < 60000 ? "partner" : "default");
	}
	fixture_free(&f);
	policy_free(p);
	buf_free(&y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modifiers),
		cmocka_unit_test(test_unknown_values),
		cmocka_unit_test(test_first_match_and_unless),
		cmocka_unit_test(test_rule_matches_without_judging),
		cmocka_unit_test(test_memo_keeps_values_apart),
		cmocka_unit_test(test_message_verdict),
		cmocka_unit_test(test_domain_set_index),
		cmocka_unit_test(test_large_domain_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
