/* track_test.c - the tracker (correlate/track.h) on its own: log lines as
 * real Postfix 3.7 and Sendmail 8.17 wrote them in the lab (tests/lab,
 * samples/lab; the conn_use= and multi-relay lines follow Postfix's
 * smtp(8) source, src/smtp/smtp_trouble.c and smtp_sess.c) go through the
 * real syslog and MTA parsers, and each test checks the messages that come
 * out: Postfix and Sendmail inbound and outbound joins, a connection reused
 * for a second message, a new relay without a TLS line, a message that
 * waits for its session, and state closed early past the bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../correlate/track.h"
#include "../../ingest/maillog.h"

struct got {
	struct message *m[64];
	size_t n;
};

static void keep(struct message *m, void *arg)
{
	struct got *g = arg;
	if (g->n < 64)
		g->m[g->n++] = m;
	else
		message_free(m);
}

static void feed(const struct evidence *ev, void *arg)
{
	tracker_feed(arg, ev);
}

/* Run lines (one string, newline-separated) through the log reader and a
 * tracker; the messages it emits are in g, in order. */
static unsigned long run_lines(const char *lines, struct got *g)
{
	char path[] = "/tmp/tw-track-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, lines, strlen(lines)), (ssize_t)strlen(lines));
	close(fd);
	memset(g, 0, sizeof *g);
	struct tzconf *tz = tz_new("UTC");
	struct tracker *t = tracker_new(keep, g);
	FILE *devnull = fopen("/dev/null", "w");
	struct maillog *ml = maillog_new(tz, 2026, devnull, feed, t);
	maillog_set_threads(ml, 1);
	maillog_add(ml, path, 0);
	assert_int_equal(maillog_run(ml), 0);
	tracker_finish(t);
	unsigned long evicted = tracker_evicted(t);
	tracker_free(t);
	maillog_free(ml);
	fclose(devnull);
	tz_free(tz);
	unlink(path);
	return evicted;
}

static void release(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		message_free(g->m[i]);
}

static struct message *by_qid(struct got *g, const char *qid)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->m[i]->qid && strcmp(g->m[i]->qid, qid) == 0)
			return g->m[i];
	fail_msg("no message %s", qid);
	return NULL;
}

static bool has_line(const struct hop *h, unsigned long line)
{
	for (size_t i = 0; i < h->nev; i++)
		if (h->ev[i].line == line)
			return true;
	return false;
}

#define PF "Nov 28 12:57:26 lab postfix/"

static void test_postfix_inbound_and_outbound(void **st)
{
	(void)st;
	struct got g;
	run_lines(PF "smtpd[6642]: connect from vm.lab.test[127.0.1.1]\n"
		  PF "smtpd[6642]: Anonymous TLS connection established from vm.lab.test[127.0.1.1]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256\n"
		  PF "smtpd[6642]: BC2221040A0: client=vm.lab.test[127.0.1.1]\n"
		  PF "cleanup[6665]: BC2221040A0: message-id=<lab-1.21736@tlswitness.test>\n"
		  PF "smtpd[6642]: disconnect from vm.lab.test[127.0.1.1] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7\n"
		  PF "qmgr[6555]: BC2221040A0: from=<sender1@sender.test>, size=612, nrcpt=1 (queue active)\n"
		  PF "smtp[6666]: Untrusted TLS connection established to 127.0.0.2[127.0.0.2]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256\n"
		  PF "smtp[6666]: BC2221040A0: to=<a@tls13.test>, relay=127.0.0.2[127.0.0.2]:25, delay=0.12, delays=0.02/0.05/0.01/0.05, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as D609E10E23C)\n"
		  PF "qmgr[6555]: BC2221040A0: removed\n", &g);
	assert_int_equal(g.n, 1);
	struct message *m = g.m[0];
	assert_string_equal(m->qid, "BC2221040A0");
	assert_string_equal(m->message_id, "<lab-1.21736@tlswitness.test>");
	assert_string_equal(m->from, "<sender1@sender.test>");
	assert_true(m->removed);
	assert_true(m->has_inbound);
	assert_string_equal(m->inbound.peer_ip, "127.0.1.1");
	assert_int_equal(m->inbound.tls.used, TRI_YES);
	assert_int_equal(m->inbound.tls.version, TLSV_1_3);
	assert_int_equal(m->inbound.tls.cert, CERT_ANONYMOUS);
	assert_true(has_line(&m->inbound, 1) && has_line(&m->inbound, 2) && has_line(&m->inbound, 3));
	assert_int_equal(m->ndl, 1);
	const struct hop *d = &m->dl[0];
	assert_string_equal(d->rcpt, "<a@tls13.test>");
	assert_string_equal(d->peer_ip, "127.0.0.2");
	assert_int_equal(d->peer_port, 25);
	assert_string_equal(d->status, "sent");
	assert_string_equal(d->next_qid, "D609E10E23C");
	assert_int_equal(d->tls.used, TRI_YES);
	assert_int_equal(d->tls.cert, CERT_UNTRUSTED);
	assert_true(has_line(d, 7) && has_line(d, 8));
	release(&g);
}

/* One smtp process, one TLS line, three deliveries: the second reuses the
 * connection (conn_use=2, smtp(8) with smtp_connection_cache_on_demand);
 * the third goes to another relay and logged no TLS line, so it was a new
 * connection without TLS - plaintext, since this host does log TLS. */
static void test_postfix_connection_reuse(void **st)
{
	(void)st;
	struct got g;
	run_lines(PF "pickup[7001]: 1A2B3C4D5E6: uid=0 from=<root>\n"
		  PF "qmgr[6555]: 1A2B3C4D5E6: from=<root@lab.test>, size=300, nrcpt=1 (queue active)\n"
		  PF "pickup[7001]: 2B3C4D5E6F7: uid=0 from=<root>\n"
		  PF "qmgr[6555]: 2B3C4D5E6F7: from=<root@lab.test>, size=300, nrcpt=2 (queue active)\n"
		  PF "smtp[6666]: Trusted TLS connection established to mx.b.example[198.51.100.9]:25: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)\n"
		  PF "smtp[6666]: 1A2B3C4D5E6: to=<x@b.example>, relay=mx.b.example[198.51.100.9]:25, delay=0.2, delays=0/0/0.1/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9F8E7D6C5B4)\n"
		  PF "smtp[6666]: 2B3C4D5E6F7: to=<y@b.example>, relay=mx.b.example[198.51.100.9]:25, conn_use=2, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 8E7D6C5B4A3)\n"
		  PF "smtp[6666]: 2B3C4D5E6F7: to=<z@c.example>, relay=mx.c.example[203.0.113.5]:25, delay=0.3, delays=0/0/0.2/0.1, dsn=2.0.0, status=sent (250 Ok)\n"
		  PF "qmgr[6555]: 1A2B3C4D5E6: removed\n"
		  PF "qmgr[6555]: 2B3C4D5E6F7: removed\n", &g);
	assert_int_equal(g.n, 2);
	struct message *a = by_qid(&g, "1A2B3C4D5E6"), *b = by_qid(&g, "2B3C4D5E6F7");
	assert_true(a->dl[0].tls.used == TRI_YES && a->dl[0].tls.version == TLSV_1_2);
	assert_int_equal(a->dl[0].tls.cert, CERT_TRUSTED);
	assert_int_equal(b->ndl, 2);
	assert_int_equal(b->dl[0].tls.used, TRI_YES);	/* inherited: same connection */
	assert_int_equal(b->dl[0].tls.version, TLSV_1_2);
	assert_true(has_line(&b->dl[0], 5));		/* the TLS line is its evidence */
	assert_int_equal(b->dl[1].tls.used, TRI_NO);	/* a new relay, no TLS line */
	assert_true(a->inbound.local && b->inbound.local);	/* pickup: no network */
	release(&g);
}

/* A host that never logs TLS (smtp_tls_loglevel=0): a delivery without a
 * TLS line is unknown, not plaintext. */
static void test_postfix_tls_logging_off(void **st)
{
	(void)st;
	struct got g;
	run_lines(PF "pickup[7001]: 3C4D5E6F7A8: uid=0 from=<root>\n"
		  PF "qmgr[6555]: 3C4D5E6F7A8: from=<root@lab.test>, size=300, nrcpt=1 (queue active)\n"
		  PF "smtp[6666]: 3C4D5E6F7A8: to=<x@b.example>, relay=mx.b.example[198.51.100.9]:25, delay=0.2, delays=0/0/0.1/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n"
		  PF "qmgr[6555]: 3C4D5E6F7A8: removed\n", &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.m[0]->dl[0].tls.used, TRI_UNKNOWN);
	release(&g);
}

/* A message whose smtpd session is still open waits for its disconnect
 * (the counters may still say starttls=1); it is written when it comes. */
static void test_message_waits_for_its_session(void **st)
{
	(void)st;
	struct got g;
	run_lines(PF "smtpd[6642]: connect from unknown[127.0.1.3]\n"
		  PF "smtpd[6642]: 1EFC01040A0: client=unknown[127.0.1.3]\n"
		  PF "qmgr[6555]: 1EFC01040A0: from=<sender3@sender.test>, size=448, nrcpt=1 (queue active)\n"
		  PF "smtp[6666]: 1EFC01040A0: to=<c@plain.test>, relay=127.0.0.4[127.0.0.4]:25, delay=0.01, delays=0/0/0/0.01, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 20CE910E241)\n"
		  PF "qmgr[6555]: 1EFC01040A0: removed\n"
		  PF "smtpd[6642]: disconnect from unknown[127.0.1.3] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5\n", &g);
	assert_int_equal(g.n, 1);
	const struct hop *in = &g.m[0]->inbound;
	assert_int_equal(in->tls.used, TRI_NO);	/* no starttls= in the counters */
	assert_true(has_line(in, 6));		/* the disconnect line says so */
	release(&g);
}

#define SM "2026-11-28T12:57:27.715102+00:00 vm sendmail"

static void test_sendmail_inbound_and_outbound(void **st)
{
	(void)st;
	struct got g;
	run_lines(SM "[6682]: STARTTLS=server, relay=localhost [127.0.0.1], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n"
		  SM "[6682]: 6ASCvRL8006682: from=<sender6@sender.test>, size=430, class=0, nrcpts=1, msgid=<lab-6.23247@tlswitness.test>, proto=ESMTPS, daemon=MTA, relay=localhost [127.0.0.1]\n"
		  SM "[6686]: STARTTLS=client, relay=[127.0.0.2], version=TLSv1.3, verify=OK, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n"
		  SM "[6686]: 6ASCvRL8006682: to=<g@sm.test>, delay=00:00:00, xdelay=00:00:00, mailer=esmtp, pri=30430, relay=[127.0.0.2] [127.0.0.2], dsn=2.0.0, stat=Sent (Ok: queued as C947010E247)\n"
		  SM "[6686]: 6ASCvRL8006682: done; delay=00:00:00, ntries=1\n", &g);
	assert_int_equal(g.n, 1);
	struct message *m = g.m[0];
	assert_int_equal(m->mta, MTA_SENDMAIL);
	assert_string_equal(m->message_id, "<lab-6.23247@tlswitness.test>");
	assert_int_equal(m->inbound.tls.used, TRI_YES);
	assert_int_equal(m->inbound.tls.version, TLSV_1_3);
	assert_int_equal(m->inbound.tls.cert, CERT_ANONYMOUS);	/* verify=NO */
	assert_int_equal(m->ndl, 1);
	assert_string_equal(m->dl[0].rcpt, "<g@sm.test>");
	assert_string_equal(m->dl[0].status, "sent");
	assert_string_equal(m->dl[0].next_qid, "C947010E247");
	assert_int_equal(m->dl[0].tls.used, TRI_YES);
	assert_int_equal(m->dl[0].tls.cert, CERT_TRUSTED);	/* verify=OK */
	assert_true(has_line(&m->dl[0], 3) && has_line(&m->dl[0], 4));
	release(&g);
}

/* A TLS_Srv: requirement not met: the tls_server ruleset refuses the
 * connection and the delivery is deferred.  The refusal's forms are
 * sendmail-cf 8.17's cf/m4/proto.m4 ("not authenticated" for VERIFY,
 * "encryption too weak" for ENCR); no server here has written them. */
static void test_sendmail_tls_ruleset_refusal(void **st)
{
	(void)st;
	struct got g;
	run_lines(SM "[6682]: 6ASCvRL8006683: from=<a@sender.test>, size=430, class=0, nrcpts=2, msgid=<r@x>, proto=ESMTP, daemon=MTA, relay=localhost [127.0.0.1]\n"
		  SM "[6686]: STARTTLS=client, relay=mx.partner.example, version=TLSv1.3, verify=FAIL, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n"
		  SM "[6686]: 6ASCvRL8006683: ruleset=tls_server, arg1=FAIL, relay=mx.partner.example, reject=403 4.7.0 not authenticated\n"
		  SM "[6686]: 6ASCvRL8006683: to=<b@partner.example>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=30430, relay=mx.partner.example. [192.0.2.25], dsn=4.7.0, stat=Deferred: 403 4.7.0 not authenticated\n"
		  SM "[6687]: 6ASCvRL8006683: ruleset=tls_server, arg1=OK, relay=mx.weak.example, reject=403 4.7.0 encryption too weak 56 less than 112\n"
		  SM "[6687]: 6ASCvRL8006683: to=<c@weak.example>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=30430, relay=mx.weak.example. [192.0.2.26], dsn=4.7.0, stat=Deferred: 403 4.7.0 encryption too weak 56 less than 112\n", &g);
	assert_int_equal(g.n, 1);
	struct message *m = g.m[0];
	assert_int_equal(m->ndl, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(m->dl[i].outcome, OUTCOME_REFUSED);
		assert_int_equal(m->dl[i].tls.enforced, TRI_YES);
		assert_int_equal(m->dl[i].tls.enforced_by, ENF_SENDMAIL_RULESET);
	}
	assert_int_equal(m->dl[0].tls.level, TLSL_VERIFY);
	assert_int_equal(m->dl[1].tls.level, TLSL_ENCRYPT);
	assert_true(has_line(&m->dl[0], 3));
	release(&g);
}

/* 110,000 smtpd sessions that never disconnect, in one second (a flood),
 * with a real TLS 1.3 session among the last of them: past 100,000 open
 * at once the tracker closes the least recently active, never all - the
 * real session keeps its TLS, and a line of a session that was closed
 * says it was evicted, not that its start is missing from the log. */
static void test_eviction_past_the_bound(void **st)
{
	(void)st;
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < 110000; i++) {
		buf_printf(&b, PF "smtpd[%d]: connect from unknown[192.0.2.%d]\n", 10000 + i, i % 250);
		if (i == 105000)
			buf_adds(&b, PF "smtpd[9999]: connect from real.example[198.51.100.7]\n"
				     PF "smtpd[9999]: Anonymous TLS connection established from real.example[198.51.100.7]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n");
	}
	buf_adds(&b, PF "smtpd[9999]: 4D5E6F7A8B9: client=real.example[198.51.100.7]\n"
		     PF "qmgr[6555]: 4D5E6F7A8B9: from=<s@sender.test>, size=300, nrcpt=1 (queue active)\n"
		     PF "smtp[6666]: 4D5E6F7A8B9: to=<x@b.example>, relay=mx.b.example[198.51.100.9]:25, delay=0.2, delays=0/0/0.1/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n"
		     PF "qmgr[6555]: 4D5E6F7A8B9: removed\n"
		     PF "smtpd[9999]: disconnect from real.example[198.51.100.7] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7\n"
		     PF "smtpd[10000]: 5E6F7A8B9C0: client=unknown[192.0.2.0]\n"
		     PF "qmgr[6555]: 5E6F7A8B9C0: from=<t@sender.test>, size=300, nrcpt=1 (queue active)\n"
		     PF "qmgr[6555]: 5E6F7A8B9C0: removed\n");
	struct got g;
	unsigned long evicted = run_lines(b.p, &g);
	assert_true(evicted > 0);
	assert_true(evicted < 110000);		/* the idlest, not everything */
	assert_int_equal(g.n, 2);
	struct message *real = by_qid(&g, "4D5E6F7A8B9"), *flooded = by_qid(&g, "5E6F7A8B9C0");
	assert_string_equal(real->inbound.peer_ip, "198.51.100.7");
	assert_int_equal(real->inbound.tls.used, TRI_YES);
	assert_int_equal(real->inbound.tls.version, TLSV_1_3);
	assert_int_equal(flooded->inbound.tls.used, TRI_UNKNOWN);
	assert_non_null(strstr(flooded->inbound.basis, "evicted under load"));
	release(&g);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_postfix_inbound_and_outbound),
		cmocka_unit_test(test_postfix_connection_reuse),
		cmocka_unit_test(test_postfix_tls_logging_off),
		cmocka_unit_test(test_message_waits_for_its_session),
		cmocka_unit_test(test_sendmail_inbound_and_outbound),
		cmocka_unit_test(test_sendmail_tls_ruleset_refusal),
		cmocka_unit_test(test_eviction_past_the_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
