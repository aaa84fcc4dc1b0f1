/* parse_test.c - unit tests for the log parsers: syslog envelopes, Postfix
 * and Sendmail lines, TLS normalisation, escaping.  Lines are real ones
 * from the lab (samples/lab) and the shared corpus, or the MTA sources'
 * documented forms where noted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ingest/postfix.h"
#include "../../ingest/received.h"
#include "../../util/addr.h"
#include "../../util/rfc2047.h"
#include "../../ingest/sendmail.h"
#include "../../ingest/dovecot.h"
#include "../../ingest/syslog.h"
#include "../../model/tlsfacts.h"
#include "../../model/ciphers.h"
#include "../../ingest/journal.h"

static void assert_span(struct span s, const char *want)
{
	char got[512];
	snprintf(got, sizeof got, "%.*s", (int)s.n, s.p ? s.p : "");
	assert_string_equal(got, want);
}

static struct syslog_ctx ctx;
static struct tzconf *utc;

static bool envelope(const char *line, struct syslog_rec *rec)
{
	const char *why;
	return syslog_parse(&ctx, span_from(line), rec, &why);
}

static void test_syslog_3164(void **st)
{
	(void)st;
	struct syslog_rec r;
	syslog_ctx_init(&ctx, utc, civil_to_epoch(2026, 11, 28, 12, 0, 0), 0);
	assert_true(envelope("Nov  2 11:56:52 lab postfix/smtpd[5786]: connect from x[1.2.3.4]", &r));
	assert_int_equal(r.ts, civil_to_epoch(2026, 11, 2, 11, 56, 52));
	assert_span(r.host, "lab");
	assert_span(r.tag, "postfix/smtpd");
	assert_int_equal(r.pid, 5786);
	assert_span(r.msg, "connect from x[1.2.3.4]");
	/* zero-padded and single-digit days (fail2ban corpus) */
	assert_true(envelope("Nov 02 11:56:52 lab sm-mta[1]: x", &r));
	assert_true(envelope("Mar 7 02:09:33 server postfix/smtpd[27246]: x", &r));
	assert_false(envelope("# failJSON: { \"time\": 1 }", &r));
}

static void test_syslog_year_rollover(void **st)
{
	(void)st;
	struct syslog_rec r;
	/* A file last written on 3 January 2027 starts in December 2026. */
	syslog_ctx_init(&ctx, utc, civil_to_epoch(2027, 1, 3, 0, 0, 0), 0);
	assert_true(envelope("Dec 31 23:59:59 h postfix/qmgr[1]: x", &r));
	assert_int_equal(r.ts, civil_to_epoch(2026, 12, 31, 23, 59, 59));
	assert_true(envelope("Jan  1 00:00:01 h postfix/qmgr[1]: x", &r));
	assert_int_equal(r.ts, civil_to_epoch(2027, 1, 1, 0, 0, 1));
	/* A file last written on 1 December 2026 cannot hold 11 December 2026:
	 * its lines are from 2025 (a day of slack for zones and clocks). */
	syslog_ctx_init(&ctx, utc, civil_to_epoch(2026, 12, 1, 0, 0, 0), 0);
	assert_true(envelope("Dec 11 10:00:00 h postfix/qmgr[1]: x", &r));
	assert_int_equal(r.ts, civil_to_epoch(2025, 12, 11, 10, 0, 0));
	syslog_ctx_init(&ctx, utc, civil_to_epoch(2026, 12, 1, 0, 0, 0), 0);
	assert_true(envelope("Dec  1 18:00:00 h postfix/qmgr[1]: x", &r));
	assert_int_equal(r.ts, civil_to_epoch(2026, 12, 1, 18, 0, 0));
	/* --year fixes the first line's year */
	syslog_ctx_init(&ctx, utc, civil_to_epoch(2030, 6, 1, 0, 0, 0), 2024);
	assert_true(envelope("Dec 31 23:59:59 h postfix/qmgr[1]: x", &r));
	assert_int_equal(r.ts, civil_to_epoch(2024, 12, 31, 23, 59, 59));
}

static void test_syslog_rfc3339_5424_journal(void **st)
{
	(void)st;
	struct syslog_rec r;
	syslog_ctx_init(&ctx, utc, 0, 0);
	assert_true(envelope("2026-11-28T11:56:53.345371+00:00 vm sendmail[5836]: STARTTLS=server, x", &r));
	assert_int_equal(r.ts, civil_to_epoch(2026, 11, 28, 11, 56, 53));
	assert_int_equal(r.usec, 345371);
	assert_span(r.tag, "sendmail");
	/* offsets are applied: 12:00+02:00 is 10:00Z; journalctl short-iso +0200 */
	assert_true(envelope("2026-11-28T12:00:00+02:00 h postfix/smtp[1]: x", &r));
	assert_int_equal(r.ts, civil_to_epoch(2026, 11, 28, 10, 0, 0));
	assert_true(envelope("2026-11-28T12:00:00+0200 h postfix/smtp[1]: x", &r));
	assert_int_equal(r.ts, civil_to_epoch(2026, 11, 28, 10, 0, 0));
	assert_true(envelope("<22>1 2026-11-28T11:22:43.926506+00:00 mx postfix/smtpd 4242 - - connect from a[1.2.3.4]", &r));
	assert_span(r.host, "mx");
	assert_span(r.tag, "postfix/smtpd");
	assert_int_equal(r.pid, 4242);
	assert_span(r.msg, "connect from a[1.2.3.4]");
	assert_true(envelope("<22>1 2026-11-28T11:22:43Z mx sm-mta 7 - [meta x=\"a]b\\\"c\"][m2 y=\"\\]\"] STARTTLS=client, x", &r));
	assert_span(r.msg, "STARTTLS=client, x");
	/* facility.level between stamp and host (fail2ban corpus) */
	assert_true(envelope("Jun 17 14:37:39 <mail.info> robin sm-mta[2794]: x", &r));
	assert_span(r.host, "robin");
}

static void test_zones(void **st)
{
	(void)st;
	/* RFC 3164 stamps carry no zone: --tz names it.  Berlin is +01:00 in
	 * winter and +02:00 in summer (the offset is looked up per hour). */
	struct tzconf *berlin = tz_new("Europe/Berlin");
	assert_non_null(berlin);
	assert_int_equal(tz_local_to_epoch(berlin, 2026, 1, 15, 12, 0, 0),
			 civil_to_epoch(2026, 1, 15, 11, 0, 0));
	assert_int_equal(tz_local_to_epoch(berlin, 2026, 7, 15, 12, 0, 0),
			 civil_to_epoch(2026, 7, 15, 10, 0, 0));
	tz_free(berlin);
	struct tzconf *fixed = tz_new("-05:30");
	assert_non_null(fixed);
	assert_int_equal(tz_local_to_epoch(fixed, 2026, 1, 15, 12, 0, 0),
			 civil_to_epoch(2026, 1, 15, 17, 30, 0));
	tz_free(fixed);
	assert_null(tz_new("Mars/Olympus"));
	assert_null(tz_new("+25:00"));
}

static void evinit(struct evidence *ev, const char *tag)
{
	memset(ev, 0, sizeof *ev);
	ev->peer_port = -1;
	ev->nrcpt = -1;
	ev->tls.bits = ev->tls.alg_bits = -1;
	assert_true(pf_tag(span_from(tag), &ev->instance, &ev->service, &ev->program));
}

static void test_postfix_tags(void **st)
{
	(void)st;
	struct evidence ev;
	evinit(&ev, "postfix-in2/plain/smtpd");
	assert_span(ev.instance, "postfix-in2");
	assert_span(ev.service, "plain");
	assert_span(ev.program, "smtpd");
	evinit(&ev, "postfix/submission/smtpd");
	assert_span(ev.service, "submission");
	struct span a, b, c;
	assert_false(pf_tag(span_from("dovecot"), &a, &b, &c));
	assert_false(pf_tag(span_from("nginx/access"), &a, &b, &c));
}

static void test_postfix_tls_lines(void **st)
{
	(void)st;
	struct evidence ev;
	/* Postfix 3.7, the lab: server side with a key-exchange tail */
	evinit(&ev, "postfix/smtpd");
	assert_int_equal(pf_parse(span_from("Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256"), &ev), PR_USED);
	assert_int_equal(ev.kind, EV_TLS);
	assert_int_equal(ev.dir, DIR_IN);
	assert_span(ev.tls.trust, "Anonymous");
	assert_span(ev.peer_host, "localhost");
	assert_span(ev.peer_ip, "127.0.0.1");
	assert_span(ev.tls.version, "TLSv1.3");
	assert_span(ev.tls.cipher, "TLS_AES_256_GCM_SHA384");
	assert_int_equal(ev.tls.bits, 256);
	assert_span(ev.tls.kex, "X25519");
	/* client side with port, anonymous cipher */
	evinit(&ev, "postfix/smtp");
	assert_int_equal(pf_parse(span_from("Anonymous TLS connection established to 127.0.0.3[127.0.0.3]:25: TLSv1.2 with cipher ADH-AES256-GCM-SHA384 (256/256 bits)"), &ev), PR_USED);
	assert_int_equal(ev.dir, DIR_OUT);
	assert_int_equal(ev.peer_port, 25);
	assert_span(ev.tls.cipher, "ADH-AES256-GCM-SHA384");
	/* IPv6 peer: the address holds ':' */
	evinit(&ev, "postfix/smtp");
	assert_int_equal(pf_parse(span_from("Verified TLS connection established to mx.example.com[2001:db8::25]:25: TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits)"), &ev), PR_USED);
	assert_span(ev.peer_ip, "2001:db8::25");
	assert_int_equal(ev.peer_port, 25);
	assert_span(ev.tls.trust, "Verified");
	/* reuse (3.4+ tlsproxy) */
	evinit(&ev, "postfix/smtp");
	assert_int_equal(pf_parse(span_from("Trusted TLS connection reused to mx.example.com[192.0.2.1]:25: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)"), &ev), PR_USED);
	assert_true(ev.tls.reused);
	/* Postfix 2.2-2.4: no trust word; the client names the host only */
	evinit(&ev, "postfix/smtpd");
	assert_int_equal(pf_parse(span_from("TLS connection established from mail.example.net[192.0.2.7]: TLSv1 with cipher DHE-RSA-AES256-SHA (256/256 bits)"), &ev), PR_USED);
	assert_int_equal(ev.tls.trust.n, 0);
	assert_span(ev.tls.version, "TLSv1");
	evinit(&ev, "postfix/smtp");
	assert_int_equal(pf_parse(span_from("TLS connection established to mx.example.com: TLSv1 with cipher RC4-SHA (128/128 bits)"), &ev), PR_USED);
	assert_span(ev.peer_host, "mx.example.com");
	assert_int_equal(ev.peer_ip.n, 0);
	assert_span(ev.tls.cipher, "RC4-SHA");
}

static void test_postfix_session_lines(void **st)
{
	(void)st;
	struct evidence ev;
	evinit(&ev, "postfix/smtpd");
	assert_int_equal(pf_parse(span_from("disconnect from localhost[127.0.0.1] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7"), &ev), PR_USED);
	assert_int_equal(ev.starttls, ST_OK);
	evinit(&ev, "postfix/smtpd");
	pf_parse(span_from("disconnect from x[192.0.2.1] ehlo=1 starttls=0/1 commands=1/2"), &ev);
	assert_int_equal(ev.starttls, ST_FAILED);
	evinit(&ev, "postfix/smtpd");
	pf_parse(span_from("disconnect from x[192.0.2.1] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"), &ev);
	assert_int_equal(ev.starttls, ST_ABSENT);
	evinit(&ev, "postfix/smtpd");
	pf_parse(span_from("disconnect from unknown[198.52.150.48]"), &ev);
	assert_int_equal(ev.starttls, ST_NO_COUNTERS);
	evinit(&ev, "postfix/smtpd");
	assert_int_equal(pf_parse(span_from("lost connection after STARTTLS from unknown[94.102.49.122]"), &ev), PR_USED);
	assert_int_equal(ev.kind, EV_TLS_FAIL);
	assert_span(ev.peer_ip, "94.102.49.122");
	evinit(&ev, "postfix/smtpd");
	assert_int_equal(pf_parse(span_from("96ADD1040D2: client=localhost[127.0.0.1]"), &ev), PR_USED);
	assert_int_equal(ev.kind, EV_CLIENT);
	assert_span(ev.qid, "96ADD1040D2");
	/* long queue IDs (enable_long_queue_ids) */
	evinit(&ev, "postfix/cleanup");
	assert_int_equal(pf_parse(span_from("44JCRG5tYPzCqt2: message-id=<a@b>"), &ev), PR_USED);
	assert_span(ev.qid, "44JCRG5tYPzCqt2");
	assert_span(ev.message_id, "<a@b>");
}

static void test_postfix_delivery(void **st)
{
	(void)st;
	struct evidence ev;
	evinit(&ev, "postfix/smtp");
	assert_int_equal(pf_parse(span_from("2DD1C1041E2: to=<e@tls13.test>, relay=127.0.0.2[127.0.0.2]:25, delay=0.04, delays=0/0.01/0.02/0.01, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 34E501041F2)"), &ev), PR_USED);
	assert_int_equal(ev.kind, EV_TO);
	assert_span(ev.rcpt, "<e@tls13.test>");
	assert_span(ev.peer_ip, "127.0.0.2");
	assert_int_equal(ev.peer_port, 25);
	assert_span(ev.status, "sent");
	assert_span(ev.next_qid, "34E501041F2");
	evinit(&ev, "postfix/smtp");
	pf_parse(span_from("ABC123456: to=<a, b@x>, orig_to=<y>, relay=mx[192.0.2.1]:25, conn_use=3, delay=1, delays=0/0/0/0, dsn=2.0.0, status=sent (250 2.0.0 6ASBurIk005836 Message accepted for delivery)"), &ev);
	assert_span(ev.rcpt, "<a, b@x>");
	assert_int_equal(ev.conn_use, 3);
	assert_span(ev.next_qid, "6ASBurIk005836");
	/* pflgviewer corpus: a spreadsheet's commas are removed by the caller;
	 * Exchange's reply has no queue ID to join on */
	evinit(&ev, "postfix/smtp");
	pf_parse(span_from("7F9321106C6B: to=recipient@externaldomain.com, relay=deakin-edu-au.mail.protection.outlook.com[213.199.154.23]:25, delay=35880, delays=26888/8986/3.2/3.4, dsn=2.6.0, status=sent (250 2.6.0 recipient@externaldomain.com [InternalId=51148765528067, Hostname=SINPR06MB089.apcprd06.prod.outlook.com] Queued mail for delivery)"), &ev);
	assert_span(ev.rcpt, "recipient@externaldomain.com");
	assert_int_equal(ev.next_qid.n, 0);
	/* Postfix 3.11: the TLS security level on the delivery line (example
	 * from the postfix-users list, via postfix-grok-patterns issue 209) */
	evinit(&ev, "postfix/smtp");
	pf_parse(span_from("01E12901F9D: to=<postfix-users@postfix.org>, relay=list.sys4.de[45.90.5.195]:25, delay=5.4, delays=0.08/0.01/3.5/1.9, tls=dane, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4cbdb56t4MzPjfw)"), &ev);
	assert_span(ev.tls_feature, "dane");
	assert_span(ev.dsn, "2.0.0");
	assert_span(ev.next_qid, "4cbdb56t4MzPjfw");
	evinit(&ev, "postfix/smtp");
	assert_int_equal(pf_parse(span_from("ABC123456: TLS is required, but was not offered by host mx.example.com[192.0.2.1]"), &ev), PR_USED);
	assert_int_equal(ev.kind, EV_TLS_FAIL);
	assert_span(ev.peer_ip, "192.0.2.1");
}

static void sminit(struct evidence *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->peer_port = -1;
	ev->nrcpt = -1;
	ev->tls.bits = ev->tls.alg_bits = -1;
}

/* Dovecot's login lines: the log_path form the legs lab wrote, and forms
 * read from Dovecot 2.2/2.3's src/login-common (client-common.c:
 * "Aborted login", "Disconnected (auth failed ...)") and behind syslog's
 * "dovecot:" tag, which no server here wrote. */
static void test_dovecot(void **st)
{
	(void)st;
	struct evidence ev;
	struct span process;
	assert_true(dv_logpath(span_from("imap-login:"), span_from("Info"), &process));
	assert_span(process, "imap-login");
	assert_false(dv_logpath(span_from("mx"), span_from("postfix/smtpd"), &process));
	memset(&ev, 0, sizeof ev);
	assert_int_equal(dv_parse(span_from("imap-login"), span_from("Login: user=<alice>, method=PLAIN, rip=192.0.2.7, lip=192.0.2.1, mpid=904, TLS, session=<RvDPgp9hFqx/AAAB>"), &ev), PR_USED);
	assert_int_equal(ev.kind, EV_LOGIN);
	assert_span(ev.service, "imap");
	assert_span(ev.sasl_username, "alice");
	assert_span(ev.peer_ip, "192.0.2.7");
	assert_span(ev.local_ip, "192.0.2.1");
	assert_span(ev.security, "TLS");
	assert_span(ev.status, "login");
	memset(&ev, 0, sizeof ev);
	assert_int_equal(dv_parse(span_from("pop3-login"), span_from("Disconnected (auth failed, 1 attempts in 2 secs): user=<bob>, method=PLAIN, rip=192.0.2.8, lip=192.0.2.1, session=<x>"), &ev), PR_USED);
	assert_span(ev.status, "auth-failed");
	assert_span(ev.service, "pop3");
	assert_int_equal(ev.security.n, 0);	/* no TLS element: in clear */
	memset(&ev, 0, sizeof ev);
	assert_int_equal(dv_parse(span_from("imap-login"), span_from("Aborted login (no auth attempts in 0 secs): user=<>, rip=192.0.2.9, lip=192.0.2.1, TLS handshaking: SSL_accept() failed, session=<y>"), &ev), PR_USED);
	assert_span(ev.status, "no-auth");
	assert_true(span_starts(ev.security, "TLS handshaking"));
	memset(&ev, 0, sizeof ev);
	assert_int_equal(dv_parse(span_from("imap"), span_from("Disconnected: Logged out in=32 out=811"), &ev), PR_IGNORED);
	assert_true(dv_tag(span_from("dovecot")));
}

/* Dovecot's deliver lines: the 2.3 log_path form the legs lab wrote
 * (lmtp(USER)<PID><SESSION>), and forms read from Dovecot's source, not
 * written by a server here: 2.2's "lmtp(PID, USER)" prefix with the session
 * first in the text (src/lmtp/commands.c, src/lib-lda/mail-deliver.c),
 * Pigeonhole's "stored mail into mailbox 'X'" and a failed save. */
static void test_dovecot_deliver(void **st)
{
	(void)st;
	struct evidence ev;
	memset(&ev, 0, sizeof ev);
	assert_int_equal(dv_parse(span_from("lmtp(dora@legs.test)<13476><eDusMSqsD2ukNAAAg+zDdQ>"),
				  span_from("msgid=<legs-3@lab.tlswitness.test>: saved mail to INBOX"), &ev),
			 PR_USED);
	assert_int_equal(ev.kind, EV_MAILBOX);
	assert_span(ev.rcpt, "dora@legs.test");
	assert_span(ev.session, "eDusMSqsD2ukNAAAg+zDdQ");
	assert_span(ev.message_id, "<legs-3@lab.tlswitness.test>");
	assert_span(ev.detail, "INBOX");
	assert_span(ev.status, "saved");
	assert_span(ev.program, "lmtp");
	memset(&ev, 0, sizeof ev);	/* 2.2; a Message-ID holding ": saved mail to " itself */
	assert_int_equal(dv_parse(span_from("lmtp(4562, dora@legs.test)"),
				  span_from("Zp5GFqbWFFYvNwAAeVi8mQ: msgid=<a: saved mail to x@y>: saved mail to Lists/x"),
				  &ev), PR_USED);
	assert_span(ev.rcpt, "dora@legs.test");
	assert_span(ev.session, "Zp5GFqbWFFYvNwAAeVi8mQ");
	assert_span(ev.message_id, "<a: saved mail to x@y>");
	assert_span(ev.detail, "Lists/x");
	memset(&ev, 0, sizeof ev);
	assert_int_equal(dv_parse(span_from("lmtp(dora)<4562><Zp5GFqbWFFYvNwAAeVi8mQ>"),
				  span_from("sieve: msgid=<c@x>: stored mail into mailbox 'Junk'"), &ev),
			 PR_USED);
	assert_span(ev.detail, "Junk");
	assert_span(ev.session, "Zp5GFqbWFFYvNwAAeVi8mQ");
	memset(&ev, 0, sizeof ev);
	assert_int_equal(dv_parse(span_from("lda(dora)<4562><Zp5GFqbWFFYvNwAAeVi8mQ>"),
				  span_from("msgid=<d@x>: save failed to INBOX: Quota exceeded"), &ev),
			 PR_USED);
	assert_span(ev.status, "save-failed");
	assert_span(ev.detail, "INBOX");
	memset(&ev, 0, sizeof ev);
	assert_int_equal(dv_parse(span_from("lmtp(13476)"), span_from("Connect from local"), &ev),
			 PR_IGNORED);
	memset(&ev, 0, sizeof ev);
	assert_int_equal(dv_parse(span_from("lmtp(dora)<1><S>"),
				  span_from("sieve: msgid=<e@x>: forwarded to <z@y>"), &ev), PR_IGNORED);
}

static void test_sendmail(void **st)
{
	(void)st;
	struct evidence ev;
	assert_true(sm_tag(span_from("sm-mta")));
	assert_true(sm_tag(span_from("sendmail")));
	assert_false(sm_tag(span_from("postfix/smtpd")));
	/* the legs lab's Sendmail 8.17 MSA: AUTH=server, then from= with
	 * proto=ESMTPA and daemon=MSA */
	sminit(&ev);
	assert_int_equal(sm_parse(span_from("AUTH=server, relay=localhost [127.0.0.1], authid=erin, mech=PLAIN, bits=0"), &ev), PR_USED);
	assert_int_equal(ev.kind, EV_AUTH);
	assert_int_equal(ev.dir, DIR_IN);
	assert_span(ev.sasl_method, "PLAIN");
	assert_span(ev.sasl_username, "erin");
	assert_span(ev.peer_ip, "127.0.0.1");
	sminit(&ev);
	assert_int_equal(sm_parse(span_from("6B2E2Okm029173: from=<erin@legs.test>, size=103, class=0, nrcpts=1, msgid=<legs-7@lab.tlswitness.test>, proto=ESMTPA, daemon=MSA, relay=localhost [127.0.0.1]"), &ev), PR_USED);
	assert_span(ev.proto, "ESMTPA");
	assert_span(ev.service, "MSA");
	sminit(&ev);
	assert_int_equal(sm_parse(span_from("AUTH: available mech=PLAIN LOGIN, allowed mech=PLAIN LOGIN"), &ev), PR_IGNORED);
	sminit(&ev);
	assert_int_equal(sm_parse(span_from("STARTTLS=server, relay=localhost [127.0.0.1], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256"), &ev), PR_USED);
	assert_int_equal(ev.dir, DIR_IN);
	assert_span(ev.peer_host, "localhost");
	assert_span(ev.peer_ip, "127.0.0.1");
	assert_span(ev.tls.verify, "NO");
	assert_int_equal(ev.tls.bits, 256);
	sminit(&ev);
	assert_int_equal(sm_parse(span_from("STARTTLS=client, relay=[127.0.0.2], version=TLSv1.3, verify=OK, cipher=TLS_AES_256_GCM_SHA384, bits=256/256"), &ev), PR_USED);
	assert_int_equal(ev.dir, DIR_OUT);
	assert_span(ev.peer_ip, "127.0.0.2");
	/* the rare queue-ID prefix */
	sminit(&ev);
	assert_int_equal(sm_parse(span_from("6ASBurIk005836: STARTTLS=client, relay=mx.example., version=TLSv1/SSLv3, verify=FAIL, cipher=DHE-RSA-AES256-SHA, bits=256/256"), &ev), PR_USED);
	assert_span(ev.tls.version, "TLSv1/SSLv3");
	/* The TLS rulesets' refusals (forms from cf/README "STARTTLS", not from
	 * a server run here): tls_server judges the server sendmail delivers
	 * to, tls_client a client of this server. */
	sminit(&ev);
	assert_int_equal(sm_parse(span_from("6ASBurIk005836: ruleset=tls_server, arg1=SOFTWARE, relay=mx.example.com, reject=403 4.7.0 TLS handshake failed."), &ev), PR_USED);
	assert_int_equal(ev.kind, EV_TLS_FAIL);
	assert_int_equal(ev.dir, DIR_OUT);
	sminit(&ev);
	assert_int_equal(sm_parse(span_from("6ASBurIk005836: ruleset=tls_rcpt, arg1=<a@example.com>, relay=mx.example.com, reject=451 4.7.1 Recipient requires TLS"), &ev), PR_USED);
	assert_int_equal(ev.dir, DIR_OUT);
	sminit(&ev);
	assert_int_equal(sm_parse(span_from("ruleset=tls_client, arg1=NO, relay=client.example [192.0.2.7], reject=403 4.7.0 not authenticated"), &ev), PR_USED);
	assert_int_equal(ev.kind, EV_TLS_FAIL);
	assert_int_equal(ev.dir, DIR_IN);
	/* noise that is not a TLS summary */
	sminit(&ev);
	assert_int_equal(sm_parse(span_from("STARTTLS=client, cert-subject=/CN=x, cert-issuer=/CN=x, verifymsg=ok"), &ev), PR_IGNORED);
	sminit(&ev);
	assert_int_equal(sm_parse(span_from("6ASBurIk005836: from=<sender6@sender.test>, size=410, class=0, nrcpts=1, msgid=<lab-6.25381@tlswitness.test>, proto=ESMTPS, daemon=MTA, relay=localhost [127.0.0.1]"), &ev), PR_USED);
	assert_int_equal(ev.kind, EV_FROM);
	assert_span(ev.proto, "ESMTPS");
	assert_span(ev.message_id, "<lab-6.25381@tlswitness.test>");
	assert_int_equal(ev.nrcpt, 1);
	sminit(&ev);
	assert_int_equal(sm_parse(span_from("6ASBurIk005836: to=<g@sm.test>,<h@sm.test>, delay=00:00:00, xdelay=00:00:00, mailer=esmtp, pri=30410, relay=[127.0.0.2] [127.0.0.2], dsn=2.0.0, stat=Sent (Ok: queued as 6BEBD1041F2)"), &ev), PR_USED);
	assert_span(ev.rcpt, "<g@sm.test>,<h@sm.test>");
	assert_span(ev.mailer, "esmtp");
	assert_span(ev.status, "sent");
	assert_span(ev.peer_ip, "127.0.0.2");
	assert_span(ev.next_qid, "6BEBD1041F2");
	sminit(&ev);
	sm_parse(span_from("s1N706jo003992: ruleset=check_rcpt, arg1=<joaofr@camilopinto.pt>, relay=[151.232.63.226], reject=550 5.7.1 <joaofr@camilopinto.pt>... Rejected"), &ev);
	assert_int_equal(ev.kind, EV_REJECT);
	assert_span(ev.peer_ip, "151.232.63.226");
}

static void test_tls_normalise(void **st)
{
	(void)st;
	assert_int_equal(tls_version_parse(span_from("TLSv1.2")), TLSV_1_2);
	assert_int_equal(tls_version_parse(span_from("TLS1_2")), TLSV_1_2);
	assert_int_equal(tls_version_parse(span_from("TLS1.3")), TLSV_1_3);
	assert_int_equal(tls_version_parse(span_from("TLS12")), TLSV_1_2);
	assert_int_equal(tls_version_parse(span_from("TLS-1.2")), TLSV_1_2);
	assert_int_equal(tls_version_parse(span_from("TLSv1")), TLSV_1_0);
	assert_int_equal(tls_version_parse(span_from("TLSv1.0")), TLSV_1_0);
	assert_int_equal(tls_version_parse(span_from("SSLv3")), TLSV_SSL3);
	assert_int_equal(tls_version_parse(span_from("TLSv1/SSLv3")), TLSV_UNKNOWN);
	assert_int_equal(tls_version_parse(span_from("TLSv1.4")), TLSV_UNKNOWN);
	assert_int_equal(tls_version_parse(span_from("bogus")), TLSV_UNKNOWN);
	assert_int_equal(tls_cert_from_verify(span_from("OK")), CERT_TRUSTED);
	assert_int_equal(tls_cert_from_verify(span_from("FAIL")), CERT_UNTRUSTED);
	assert_int_equal(tls_cert_from_verify(span_from("NOT")), CERT_ANONYMOUS);
	assert_int_equal(tls_cert_from_verify(span_from("TEMP")), CERT_UNKNOWN);
	assert_int_equal(tls_cert_from_trust(span_from("Verified")), CERT_VERIFIED);
}

/* Bytes exactly as long as they are, no NUL after them: under
 * AddressSanitizer (make check-asan) a read past the end aborts. */
static void test_received_reads_within_bounds(void **st)
{
	(void)st;
	static const char *const cuts[] = { "from(", "from (p", "from (port", "from (HELO",
					    "from x (", "by (" };
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		size_t n = strlen(cuts[i]);
		char *exact = malloc(n);
		assert_non_null(exact);
		memcpy(exact, cuts[i], n);
		struct received r;
		received_parse(exact, n, &r);	/* the fuzz finding: "from(" */
		free(exact);
	}
}

static struct received rcv(const char *v)
{
	struct received r;
	received_parse(v, strlen(v), &r);
	return r;
}

static void test_received_formats(void **st)
{
	(void)st;
	struct received r;
	/* Postfix (usrp mitre) */
	r = rcv("from smtpxrhbv1.mitre.org (smtpxrhbv1.mitre.org [198.49.146.55]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (4096 bits)) (No client certificate requested) by smtpyrhbv1.mitre.org (Postfix) with ESMTPS id D770F413DC7; Wed, 26 Jul 2023 17:17:04 -0400 (EDT)");
	assert_int_equal(r.used, 1);
	assert_int_equal(r.version, TLSV_1_3);
	assert_string_equal(r.cipher, "TLS_AES_256_GCM_SHA384");
	assert_int_equal(r.bits, 256);
	assert_string_equal(r.ip, "198.49.146.55");
	assert_string_equal(r.by, "smtpyrhbv1.mitre.org");
	assert_int_equal(r.mta, RMTA_POSTFIX);
	assert_int_equal(r.date, civil_to_epoch(2023, 7, 26, 21, 17, 4));
	/* Postfix without a TLS note and with ESMTP: plaintext */
	r = rcv("from mm2.emwd.com (localhost [127.0.0.1]) by mm2.emwd.com (Postfix) with ESMTP id D279C3853C6 for <user@lfdr.de>; Thu, 19 Feb 2026 00:10:16 -0500 (EST)");
	assert_int_equal(r.used, 0);
	assert_string_equal(r.ip, "127.0.0.1");
	/* Sendmail / Proofpoint */
	r = rcv("from smtpyrhbv1.mitre.org ([198.49.146.45]) by mx0f-00007b01.gpphosted.com (PPS) with ESMTPS id 3s3972rxqe-1 (version=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 bits=256 verify=NOT); Wed, 26 Jul 2023 21:17:05 +0000");
	assert_int_equal(r.version, TLSV_1_2);
	assert_string_equal(r.verify, "NOT");
	assert_int_equal(r.mta, RMTA_PROOFPOINT);
	/* Sendmail <= 8.14: TLSv1/SSLv3 is "some TLS" */
	r = rcv("from x (x [64.142.3.173]) by y (8.14.3/8.14.3) with ESMTP id z (version=TLSv1/SSLv3 cipher=AES256-GCM-SHA384 bits=256 verify=NO); Sat, 1 Jan 2022 00:00:00 +0000");
	assert_int_equal(r.used, 1);
	assert_int_equal(r.version, TLSV_UNKNOWN);
	assert_string_equal(r.version_raw, "TLSv1/SSLv3");
	/* Exchange: comma form, and its build number is not an address */
	r = rcv("from PM001TELMBXA01.telecomitalia.local (10.14.252.20) by pm001telmbxb01.telecomitalia.local (10.14.252.21) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384) id 15.2.1544.4; Thu, 18 Apr 2024 08:00:44 +0200");
	assert_int_equal(r.version, TLSV_1_2);
	assert_string_equal(r.ip, "10.14.252.20");
	assert_int_equal(r.mta, RMTA_EXCHANGE);
	r = rcv("from a (10.14.252.20) by b (10.14.252.47) with Microsoft SMTP Server (TLS) id 15.0.1497.48; Thu, 18 Apr 2024 08:00:44 +0200");
	assert_int_equal(r.used, 1);
	r = rcv("from apiron13.triara.com (200.57.129.98) by APCNHUB11.correo.local (172.18.31.175) with Microsoft SMTP Server id 14.3.498.0; Mon, 10 Oct 2022 15:11:35 -0500");
	assert_int_equal(r.used, 0);
	r = rcv("from a ([10.0.0.1]) by b over TLS secured channel with Microsoft SMTPSVC(6.0.3790.4675); Mon, 1 Jan 2010 00:00:00 +0000");
	assert_int_equal(r.used, 1);
	/* Gmail */
	r = rcv("from EUR04-DB3-obe.outbound.protection.outlook.com (mail-oln040092074029.outbound.protection.outlook.com. [40.92.74.29]) by mx.google.com with ESMTPS id x (version=TLS1_2 cipher=ECDHE-ECDSA-AES128-GCM-SHA256 bits=128/128); Mon, 1 Jan 2018 00:00:00 -0800 (PST)");
	assert_int_equal(r.version, TLSV_1_2);
	assert_int_equal(r.bits, 128);
	assert_string_equal(r.ip, "40.92.74.29");
	/* Exim, new and old */
	r = rcv("from sanddollar.geekisp.com ([216.168.135.167]:23352) by mm2.emwd.com with esmtps (TLS1.2) tls TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (Exim 4.93) (envelope-from <user@balister.org>) id 1km1hI-0005pD-JN for user@lists.ettus.com; Sun, 06 Dec 2020 16:36:00 -0500");
	assert_int_equal(r.version, TLSV_1_2);
	assert_string_equal(r.cipher, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
	assert_string_equal(r.ip, "216.168.135.167");
	r = rcv("from a ([192.0.2.1]) by b with esmtps (TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256) (Exim 4.80) id c; Mon, 1 Jan 2018 00:00:00 +0000");
	assert_int_equal(r.version, TLSV_1_2);
	assert_int_equal(r.bits, 256);
	r = rcv("from [::1] (port=57666 helo=mm2.emwd.com) by mm2.emwd.com with esmtp (Exim 4.93) id 1km1hM-0005ti-8Z; Sun, 06 Dec 2020 16:36:04 -0500");
	assert_int_equal(r.used, 0);
	assert_string_equal(r.ip, "::1");
	assert_string_equal(r.helo, "mm2.emwd.com");
	/* OpenSMTPD (smtpd/smtp_session.c's Received line) */
	r = rcv("from a (a [192.0.2.2]) by b (OpenSMTPD) with ESMTPS id 1a2b3c (TLSv1.3:TLS_AES_256_GCM_SHA384:256:NO) for <x@y>; Mon, 1 Jan 2024 00:00:00 +0000");
	assert_int_equal(r.version, TLSV_1_3);
	assert_string_equal(r.verify, "NO");
	/* IronPort, Mimecast, qmail-tls, Courier, RFC 3848 */
	r = rcv("from mail-northcentralusazlp17011030.outbound.protection.outlook.com (HELO CH1PR09CU001.outbound.protection.outlook.com) ([40.93.20.30]) by email5-west.aero.org with ESMTP/TLS/ECDHE-RSA-AES256-GCM-SHA384; 02 Jul 2026 11:37:21 -0700");
	assert_int_equal(r.used, 1);
	assert_string_equal(r.cipher, "ECDHE-RSA-AES256-GCM-SHA384");
	assert_int_equal(r.mta, RMTA_IRONPORT);
	r = rcv("from BL2PR02CU003.outbound.protection.outlook.com (mail-eastusazlp17012019.outbound.protection.outlook.com [40.93.11.19]) by relay.mimecast.com with ESMTP with STARTTLS (version=TLSv1.2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id us-mta-338; Mon, 25 Mar 2024 08:37:14 -0400");
	assert_int_equal(r.version, TLSV_1_2);
	r = rcv("from unknown (HELO ?192.168.11.139?) (user@opensdr.com@73.251.10.143) by mail.geekisp.com with (ECDHE-RSA-AES128-GCM-SHA256 encrypted) SMTP; 6 Dec 2020 21:35:22 -0000");
	assert_int_equal(r.used, 1);
	assert_string_equal(r.ip, "73.251.10.143");
	assert_string_equal(r.cipher, "ECDHE-RSA-AES128-GCM-SHA256");
	r = rcv("from a (a [192.0.2.3]) (TLS: TLSv1.3,256bits,TLS_AES_256_GCM_SHA384) by b with ESMTPS; Mon, 1 Jan 2024 00:00:00 +0000");
	assert_int_equal(r.version, TLSV_1_3);
	assert_int_equal(r.bits, 256);
	r = rcv("from a (a [2001:db8::c05:248]) by b with UTF8SMTPS id c; Mon, 1 Jan 2024 00:00:00 +0000");
	assert_int_equal(r.used, 1);
	assert_int_equal(r.version, TLSV_UNKNOWN);
	/* hostile: unbalanced parentheses, no date, junk */
	r = rcv("from a (b [192.0.2.4] (unclosed by c with ESMTPS");
	assert_int_equal(r.date, 0);
	r = rcv("\x01\x02((((((((");
	assert_int_equal(r.used, -1);
	r = rcv("");
	assert_int_equal(r.used, -1);
}

/* RFC 2047 encoded words in display names, as the corpus messages write
 * them (mailparser, spamassassin), and the cases section 6.2 describes. */
static void dec(const char *in, const char *want, bool decoded)
{
	struct buf b;
	buf_init(&b);
	assert_int_equal(rfc2047_decode(in, &b), decoded);
	assert_string_equal(b.p ? b.p : "", want);
	buf_free(&b);
}

static void test_rfc2047(void **state)
{
	(void)state;
	dec("=?UTF-8?B?0YHQu9GD0LbQsdCwINCk0J3QoQ==?=", "служба ФНС", true);
	dec("=?ISO-8859-1?Q?Maril=F9?= Gioffr\xc3\xa9", "Maril\xc3\xb9 Gioffr\xc3\xa9", true);
	dec("=?utf-8?q?a_b?= =?utf-8?q?c?=", "a bc", true);	/* the space between words goes */
	dec("=?UTF-8?Q?a?= plain", "a plain", true);		/* not before text */
	dec("Plain Name", "Plain Name", false);
	dec("=?x-unknown-9?Q?abc?=", "=?x-unknown-9?Q?abc?=", false);	/* kept */
	dec("=?UTF-8?B?not base64!?=", "=?UTF-8?B?not base64!?=", false);
	dec("=?UTF-8?Q?broken=Z?=", "=?UTF-8?Q?broken=Z?=", false);
	dec("=?UTF-8?B?", "=?UTF-8?B?", false);
}

/* Addresses as logs, SMTP and headers write them, bare (README "Output"). */
static void test_addr_bare(void **state)
{
	(void)state;
	static const char *const cases[][3] = {
		{ "<a@b.example>", "a@b.example", "" },
		{ "a@b.example", "a@b.example", "" },
		{ "<>", "", "" },
		{ "Nicoletta Bernasconi <n@it.example>", "n@it.example", "Nicoletta Bernasconi" },
		{ "a@b.example (A Name)", "a@b.example", "A Name" },
		{ "<x</td></tr><h1>owned@y>", "x</td></tr><h1>owned@y", "" },
		{ "  <a@b>  ", "a@b", "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const char *b, *name;
		size_t bn, nn;
		addr_bare(cases[i][0], strlen(cases[i][0]), &b, &bn, &name, &nn);
		assert_int_equal(bn, strlen(cases[i][1]));
		assert_memory_equal(b, cases[i][1], bn);
		assert_int_equal(nn, strlen(cases[i][2]));
		if (nn)
			assert_memory_equal(name, cases[i][2], nn);
	}
}

/* Cipher names, either naming, any case: the index gives what the
 * table says (model/ciphers.c). */
static void test_cipher_names(void **st)
{
	(void)st;
	const struct cipher_name *c = cipher_by_name("ECDHE-RSA-AES256-GCM-SHA384");
	assert_non_null(c);
	assert_string_equal(c->iana, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
	assert_ptr_equal(cipher_by_name("tls_ecdhe_rsa_with_aes_256_gcm_sha384"), c);
	assert_ptr_equal(cipher_lookup(c->id), c);
	assert_non_null(cipher_by_name("TLS_AES_256_GCM_SHA384"));
	assert_string_equal(cipher_by_name("rc4-md5")->iana, "TLS_RSA_WITH_RC4_128_MD5");
	assert_null(cipher_by_name("NOT-A-CIPHER"));
	assert_null(cipher_by_name(""));
	assert_null(cipher_by_name(NULL));
	for (unsigned id = 0; id <= 0xFFFF; id++) {	/* every entry by both names */
		const struct cipher_name *e = cipher_lookup((uint16_t)id);
		if (!e)
			continue;
		assert_string_equal(cipher_by_name(e->iana)->iana, e->iana);
		if (e->openssl)
			assert_non_null(cipher_by_name(e->openssl));
	}
}

static size_t len(const char *s)
{
	return s ? strlen(s) : 0;
}

/* Who wrote a journal entry, by journald's own fields: the forms a real
 * journald recorded (tests/journal/forged.export) and a real Postfix's. */
static void test_journal_trust(void **st)
{
	(void)st;
	char why[300];
#define T(uid, comm, exe) journal_entry_trusted(uid, len(uid), comm, len(comm), exe, len(exe), \
	why, sizeof why)
	assert_true(T("107", "smtp", "/usr/lib/postfix/sbin/smtp"));	/* postfix's uid */
	assert_true(T("0", "master", "/usr/lib/postfix/sbin/master"));
	assert_true(T(NULL, NULL, NULL));	/* a journal without them: not judged */
	assert_false(T("65534", "logger", NULL));
	assert_non_null(strstr(why, "logger (_COMM)"));
	assert_false(T("65534", "python3", "/usr/bin/python3.11"));
	assert_false(T("0", "logger", "/usr/bin/logger"));	/* logger writes what it is given */
	assert_false(T("1000", "smtp", "/home/u/smtp"));	/* named so, run by a user */
	assert_non_null(strstr(why, "uid 1000"));
	assert_false(T("33", "smtp", "/usr/bin/perl"));		/* renamed with prctl: _EXE tells */
	assert_true(T("1000", "dovecot-lda", "/usr/lib/dovecot/dovecot-lda"));	/* the owner's */
	assert_true(T("999", "pickup", "/usr/lib/postfix/sbin/pickup"));
	assert_false(T("1000", "deliver", "/tmp/dovecot/deliverx"));
	assert_true(T("x1", "smtp", NULL));	/* not a number: no uid to judge */
#undef T
}

int main(void)
{
	utc = tz_new("UTC");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syslog_3164),
		cmocka_unit_test(test_syslog_year_rollover),
		cmocka_unit_test(test_syslog_rfc3339_5424_journal),
		cmocka_unit_test(test_zones),
		cmocka_unit_test(test_postfix_tags),
		cmocka_unit_test(test_postfix_tls_lines),
		cmocka_unit_test(test_postfix_session_lines),
		cmocka_unit_test(test_postfix_delivery),
		cmocka_unit_test(test_sendmail),
		cmocka_unit_test(test_cipher_names),
		cmocka_unit_test(test_dovecot),
		cmocka_unit_test(test_dovecot_deliver),
		cmocka_unit_test(test_tls_normalise),
		cmocka_unit_test(test_received_formats),
		cmocka_unit_test(test_received_reads_within_bounds),
		cmocka_unit_test(test_rfc2047),
		cmocka_unit_test(test_addr_bare),
		cmocka_unit_test(test_journal_trust),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	tz_free(utc);
	return rc;
}
