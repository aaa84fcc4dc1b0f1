/* track.c - join Postfix and Sendmail log evidence into messages and hops.
 *
 * Inbound (Postfix): an smtpd session is keyed by (host, instance, pid)
 * from "connect from" to "disconnect from"; its TLS line precedes every
 * "QID: client=" in it, and the disconnect counters (3.0+) say whether
 * STARTTLS succeeded even when TLS logging is off.  A message therefore
 * waits for its session's disconnect before it is complete.
 * Inbound (Sendmail): the receiving child logs STARTTLS=server, then
 * "QID: from=..., proto=ESMTPS" (RFC 3848; 8.15+ marks TLS in proto).
 * Outbound: the delivering process logs its TLS line just before the first
 * delivery over that connection; later deliveries by the same process to
 * the same relay inherit it only while they are on the same connection
 * (same transaction, conn_use=N, Sendmail's connection cache).  A delivery
 * to another relay without a new TLS line was a new connection without TLS:
 * plaintext when the host's client logs TLS at all, unknown when it never
 * does - decided when the message is written (INF_NO_LINE_*).
 * Memory: state lives as long as its session, process or message; idle
 * state is swept by log time so a month of logs stays bounded. */
#include "track_state.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- entry points -------------------------------------------------------- */

struct tracker *tracker_new(message_fn emit, void *arg)
{
	struct tracker *t = xcalloc(1, sizeof *t);
	t->sessions = ht_new();
	t->procs = ht_new();
	t->msgs = ht_new();
	t->hosts = ht_new();
	t->relays = ht_new();
	t->aliases = ht_new();
	t->emit = emit;
	t->arg = arg;
	buf_init(&t->key);
	return t;
}

void tracker_feed(struct tracker *t, const struct evidence *ev)
{
	logclock_see(&t->clock, ev->ts);
	if (ev->mta == MTA_POSTFIX && ev->qid.n &&
	    (span_eq(ev->program, "cleanup") || span_eq(ev->program, "qmgr")))
		trk_host_flags_ev(t, ev)->queue_seen = true;
	switch (ev->kind) {
	case EV_CONNECT:
		trk_on_connect(t, ev);
		break;
	case EV_DISCONNECT:
		trk_session_end(t, ev);
		break;
	case EV_TLS:
		if (ev->dir == DIR_IN)
			trk_on_tls_in(t, ev);
		else
			trk_on_tls_out(t, ev);
		break;
	case EV_TLS_FAIL:
		trk_on_tls_fail(t, ev);
		break;
	case EV_TLS_POLICY:
		trk_on_tls_policy(t, ev);
		break;
	case EV_LOGIN:		/* a mailbox login: the retrieval leg, no message */
	case EV_MAILBOX:	/* Dovecot's side of an LMTP delivery: report/mailbox.c */
		break;
	case EV_AUTH:
		trk_on_auth(t, ev);
		break;
	case EV_CLIENT:
		trk_on_client(t, ev);
		break;
	case EV_PICKUP:
		trk_on_local_inbound(t, ev, "pickup");
		break;
	case EV_MESSAGE_ID:
		trk_field(t, &trk_msg_get(t, ev)->message_id, ev->message_id);
		break;
	case EV_FROM:
		if (ev->mta == MTA_SENDMAIL) {
			trk_on_sendmail_from(t, ev);
		} else {
			struct message *m = trk_msg_get(t, ev);
			if (span_eq(ev->status, "expired") || span_eq(ev->status, "force-expired")) {
				m->expired = true;	/* returned to sender */
				break;
			}
			trk_field(t, &m->from, ev->from);
			if (ev->nrcpt >= 0)
				m->nrcpt = ev->nrcpt;
		}
		break;
	case EV_TO:
		trk_on_to(t, ev);
		break;
	case EV_REMOVED: {
		struct message *m = trk_msg_lookup(t, ev);
		if (m) {
			m->last_seen = ev->ts;
			m->removed = true;
			if (span_eq(ev->program, "postsuper"))
				m->deleted = true;	/* postsuper -d */
			trk_maybe_complete(t, m);
		}
		break;
	}
	case EV_DONE: {
		struct message *m = trk_msg_lookup(t, ev);
		if (m) {
			m->done = true;
			trk_maybe_complete(t, m);
		}
		break;
	}
	case EV_BOUNCE:
		trk_on_bounce(t, ev);
		break;
	case EV_RESTART:
		trk_new_epoch(trk_host_flags_ev(t, ev));
		break;
	case EV_PROXY_ACCEPT:
		trk_on_proxy_accept(t, ev);
		break;
	case EV_REJECT:
	case EV_LOST:
	case EV_KIND_MAX:
		break;
	}
	/* Idle state goes at each hour of log time (the same log times in any
	 * run over the same lines: one over pieces with --state, one over the
	 * windows of a lookup); the tables' bounds are kept every
	 * SWEEP_EVERY lines too. */
	t->fed++;
	if (t->clock.now >= t->sweep_due) {	/* the log clock only moves on */
		if (t->sweep_due)
			trk_sweep(t);
		t->sweep_due = (t->clock.now / SWEEP_CLOCK + 1) * SWEEP_CLOCK;
	} else if (t->fed % SWEEP_EVERY == 0) {
		trk_bound(t);
	}
	if (t->q.len || t->held.len)
		trk_flush(t, false);
}

struct collect_all {
	struct message **v;
	size_t n, cap;
};

static void collect_msg(const char *k, size_t kl, void *val, void *arg)
{
	(void)k;
	(void)kl;
	struct collect_all *c = arg;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = xrealloc(c->v, c->cap * sizeof *c->v);
	}
	c->v[c->n++] = val;
}

static int cmp_open(const void *a, const void *b)
{
	const struct message *x = *(struct message *const *)a;
	const struct message *y = *(struct message *const *)b;
	if (x->first_seen != y->first_seen)
		return x->first_seen < y->first_seen ? -1 : 1;
	int c = strcmp(x->host, y->host);
	if (c)
		return c;
	c = strcmp(x->instance, y->instance);
	if (c)
		return c;
	c = strcmp(x->qid, y->qid);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void tracker_finish(struct tracker *t)
{
	/* Sessions without a disconnect: their messages learn no more.  An
	 * idle limit beyond any log's span sweeps every one of them. */
	const time_t everything = -((time_t)1 << 40);
	trk_sweep_table(t, 1, everything);
	struct collect_all c = { 0 };
	ht_foreach(t->msgs, collect_msg, &c);
	if (c.n)
		qsort(c.v, c.n, sizeof *c.v, cmp_open);
	for (size_t i = 0; i < c.n; i++) {
		trk_detach(c.v[i]);
		trk_complete(t, c.v[i]);
	}
	free(c.v);
	trk_flush(t, true);
}



static void conn_free(void *p)
{
	trk_conn_clear(p);
	free(p);
}

void tracker_free(struct tracker *t)
{
	if (!t)
		return;
	ht_free(t->sessions, trk_session_free);
	ht_free(t->procs, trk_proc_free);
	ht_free(t->msgs, (void (*)(void *))message_free);
	ht_free(t->hosts, trk_hostflags_free);
	ht_free(t->relays, conn_free);
	ht_free(t->aliases, trk_alias_free);
	for (struct message *m; (m = ring_pop(&t->held)) || (m = ring_pop(&t->q));)
		message_free(m);
	free(t->q.v);
	free(t->held.v);
	free(t->closed);
	buf_free(&t->key);
	buf_free(&t->last_host_key);
	free(t);
}

unsigned long tracker_cut(const struct tracker *t)
{
	return t->cut;
}
