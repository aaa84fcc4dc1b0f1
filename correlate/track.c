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
#include "track.h"
#include "../util/addr.h"
#include "../util/logclock.h"
#include "../util/hashtab.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SWEEP_EVERY 8192
#define PROC_IDLE (3600)		/* a delivering process's connection */
#define SESSION_IDLE (6 * 3600)		/* an smtpd session without disconnect */
#define MESSAGE_IDLE (8 * 86400)	/* beyond Postfix's 5-day queue lifetime */
#define FLUSH_WAIT (3600)		/* how long a message waits to learn
					   whether its host logs TLS at all */
#define MAX_OPEN (100000)		/* sessions, processes or messages open at
					   once; past it the idlest are closed early */

struct conn {
	bool open, has_tls;
	char *relay_name, *relay_ip;
	int relay_port;
	struct tls_state tls;
	struct evref tls_ev;
	time_t tls_ts;			/* when its TLS line was logged */
	long tls_usec;
	char *qid;
	int conn_use;
};

struct proc {			/* a delivering process: smtp, lmtp, sendmail */
	struct conn pending;	/* TLS line seen, no delivery yet */
	struct conn cur;	/* the connection of the last delivery */
	bool has_fail;
	struct evref fail_ev;
	char *fail_text;
	time_t last;
};

struct session {		/* a receiving process: smtpd, sendmail child */
	char *peer_host, *peer_ip;
	bool has_connect, has_tls, tls_failed;
	struct evref connect_ev, tls_ev, fail_ev;
	time_t connect_ts;		/* when "connect from" was logged */
	long connect_usec;
	struct tls_state tls;
	struct message **waiting;
	size_t nw, capw;
	time_t last;
};

/* What a host's logs showed about TLS logging, per configuration epoch: a
 * restart or reload starts a new one, since smtp_tls_loglevel may change. */
struct epoch_flags {
	bool client_tls_seen, server_tls_seen;
};

/* The last EPOCHS_KEPT epochs of a host, in a ring: a log with a reload
 * every few minutes must not grow memory.  A hop from an epoch that old
 * (more restarts ago than any message stays open for) is judged by the
 * oldest one kept. */
#define EPOCHS_KEPT 256

struct hostflags {
	struct epoch_flags ep[EPOCHS_KEPT];
	unsigned nep;	/* epochs begun; the current one is nep - 1 */
};

static struct epoch_flags *epoch_at(struct hostflags *h, unsigned e)
{
	if (e >= h->nep)
		e = h->nep - 1;
	if (h->nep > EPOCHS_KEPT && e < h->nep - EPOCHS_KEPT)
		e = h->nep - EPOCHS_KEPT;
	return &h->ep[e % EPOCHS_KEPT];
}

static struct epoch_flags *cur_epoch(struct hostflags *h)
{
	return epoch_at(h, h->nep - 1);
}

static void new_epoch(struct hostflags *h)
{
	h->ep[h->nep % EPOCHS_KEPT] = (struct epoch_flags){ false, false };
	h->nep++;
}

static void hostflags_free(void *p)
{
	free(p);
}

struct tracker {
	struct hashtab *sessions, *procs, *msgs, *hosts, *relays;
	struct message **q;
	size_t qhead, qlen, qcap;
	message_fn emit;
	void *arg;
	uint64_t seq;
	struct logclock clock;	/* the logs' clock, for what is idle */
	unsigned long fed;
	unsigned long evicted;		/* state closed early for MAX_OPEN */
	struct buf key;
	/* The last host looked up: a log is mostly one host and instance, and
	 * host entries live as long as the tracker. */
	struct buf last_host_key;
	struct hostflags *last_host;
};

/* ---- keys ------------------------------------------------------------- */

static const char *key3(struct tracker *t, struct span a, struct span b,
			struct span c, size_t *len)
{
	buf_reset(&t->key);
	buf_addspan(&t->key, a);
	buf_addc(&t->key, '\0');
	buf_addspan(&t->key, b);
	buf_addc(&t->key, '\0');
	buf_addspan(&t->key, c);
	*len = t->key.n;
	return t->key.p;
}

/* The binary value is as unique as its digits and costs no formatting. */
static const char *pid_key(struct tracker *t, const struct evidence *ev, size_t *len)
{
	return key3(t, ev->host, ev->instance,
		    (struct span){ (const char *)&ev->pid, sizeof ev->pid }, len);
}

/* A relay's address and port on one host: the connection cache's key. */
static const char *relay_key(struct tracker *t, const struct evidence *ev, size_t *len)
{
	key3(t, ev->host, ev->instance, ev->peer_ip, len);
	buf_addc(&t->key, '\0');
	buf_add(&t->key, &ev->peer_port, sizeof ev->peer_port);
	*len = t->key.n;
	return t->key.p;
}

static struct evref ref_of(const struct evidence *ev)
{
	return (struct evref){ ev->file_id, ev->line, false };
}

/* ---- small state objects ------------------------------------------------ */

static void conn_clear(struct conn *c)
{
	free(c->relay_name);
	free(c->relay_ip);
	free(c->qid);
	tls_state_free(&c->tls);
	memset(c, 0, sizeof *c);
	tls_state_init(&c->tls);
}

static void conn_copy(struct conn *dst, const struct conn *src)
{
	conn_clear(dst);
	dst->open = src->open;
	dst->has_tls = src->has_tls;
	dst->relay_name = xstrdup_or_null(src->relay_name);
	dst->relay_ip = xstrdup_or_null(src->relay_ip);
	dst->relay_port = src->relay_port;
	tls_state_copy(&dst->tls, &src->tls);
	dst->tls_ev = src->tls_ev;
	dst->tls_ts = src->tls_ts;
	dst->tls_usec = src->tls_usec;
	dst->qid = xstrdup_or_null(src->qid);
	dst->conn_use = src->conn_use;
}

/* dst takes over src's strings; src is left empty.  The pending TLS line
 * becomes the current connection this way, with nothing copied. */
static void conn_move(struct conn *dst, struct conn *src)
{
	conn_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof *src);
	tls_state_init(&src->tls);
}

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The same connection as far as the relay cache is concerned: its TLS line
 * (which fixes the TLS facts) and its relay.  Queue ID and conn_use are
 * taken from each delivery, not from the cache. */
static bool conn_same(const struct conn *a, const struct conn *b)
{
	return a->open == b->open && a->has_tls == b->has_tls &&
	       a->tls_ev.file_id == b->tls_ev.file_id && a->tls_ev.line == b->tls_ev.line &&
	       a->tls_ev.frame == b->tls_ev.frame && a->relay_port == b->relay_port &&
	       str_same(a->relay_name, b->relay_name) && str_same(a->relay_ip, b->relay_ip);
}

static void proc_free(void *p)
{
	struct proc *pr = p;
	conn_clear(&pr->pending);
	conn_clear(&pr->cur);
	free(pr->fail_text);
	free(pr);
}

static struct proc *proc_get(struct tracker *t, const struct evidence *ev)
{
	size_t n;
	const char *k = pid_key(t, ev, &n);
	struct proc *p = ht_get(t->procs, k, n);
	if (!p) {
		p = xcalloc(1, sizeof *p);
		conn_clear(&p->pending);
		conn_clear(&p->cur);
		ht_put(t->procs, k, n, p);
	}
	p->last = ev->ts;
	return p;
}

static struct hostflags *host_flags_span(struct tracker *t, struct span host,
					 struct span inst)
{
	size_t n;
	const char *k = key3(t, host, inst, SPAN_NULL, &n);
	if (t->last_host && t->last_host_key.n == n && memcmp(t->last_host_key.p, k, n) == 0)
		return t->last_host;
	struct hostflags *h = ht_get(t->hosts, k, n);
	if (!h) {
		h = xcalloc(1, sizeof *h);
		new_epoch(h);
		ht_put(t->hosts, k, n, h);
	}
	buf_reset(&t->last_host_key);
	buf_add(&t->last_host_key, k, n);
	t->last_host = h;
	return h;
}

static struct hostflags *host_flags(struct tracker *t, const char *host,
				    const char *inst)
{
	return host_flags_span(t, span_from(host), span_from(inst));
}

static struct hostflags *host_flags_ev(struct tracker *t, const struct evidence *ev)
{
	return host_flags_span(t, ev->host, ev->instance);
}

/* ---- output queue ------------------------------------------------------- */

static bool resolvable(struct tracker *t, struct message *m, bool final)
{
	if (final || m->last_seen + FLUSH_WAIT < t->clock.now)
		return true;
	struct hostflags *h = host_flags(t, m->host, m->instance);
	unsigned cur = h->nep - 1;
	/* A closed epoch has said all it will; the current one may still
	 * show that this host logs TLS. */
	if (m->inbound.pending == INF_NO_LINE_IN && m->inbound.epoch == cur &&
	    !cur_epoch(h)->server_tls_seen)
		return false;
	for (size_t i = 0; i < m->ndl; i++)
		if (m->dl[i].pending == INF_NO_LINE_OUT && m->dl[i].epoch == cur &&
		    !cur_epoch(h)->client_tls_seen)
			return false;
	return true;
}

static void resolve_hop(struct hop *hp, struct hostflags *hf)
{
	const struct epoch_flags *h = epoch_at(hf, hp->epoch);
	if (hp->pending == INF_NO_LINE_OUT) {
		if (h->client_tls_seen) {
			hp->tls.used = TRI_NO;
			hop_set_basis(hp, "no TLS line for this connection, while this host's "
				      "client logged TLS lines for other connections under the "
				      "same configuration");
		} else {
			hp->tls.used = TRI_UNKNOWN;
			hop_set_basis(hp, "no TLS line, and this host's client logged none under "
				      "this configuration: TLS logging may be off "
				      "(smtp_tls_loglevel=0); absence of evidence is not plaintext");
		}
	} else if (hp->pending == INF_NO_LINE_IN) {
		if (h->server_tls_seen) {
			hp->tls.used = TRI_NO;
			hop_set_basis(hp, "no TLS line in this session, while this host's "
				      "server logged TLS lines for other sessions under the "
				      "same configuration");
		} else {
			hp->tls.used = TRI_UNKNOWN;
			hop_set_basis(hp, "no TLS line and no disconnect counters, and this host's "
				      "server logged no TLS line under this configuration: "
				      "TLS logging may be off");
		}
	}
	hp->pending = INF_NONE;
}

static void flush(struct tracker *t, bool final)
{
	while (t->qlen) {
		struct message *m = t->q[t->qhead];
		if (!resolvable(t, m, final))
			return;
		struct hostflags *h = host_flags(t, m->host, m->instance);
		resolve_hop(&m->inbound, h);
		for (size_t i = 0; i < m->ndl; i++)
			resolve_hop(&m->dl[i], h);
		t->qhead = (t->qhead + 1) % t->qcap;
		t->qlen--;
		t->emit(m, t->arg);
	}
}

static void enqueue(struct tracker *t, struct message *m)
{
	if (t->qlen == t->qcap) {
		size_t ncap = t->qcap ? t->qcap * 2 : 64;
		struct message **nq = xcalloc(ncap, sizeof *nq);
		for (size_t i = 0; i < t->qlen; i++)
			nq[i] = t->q[(t->qhead + i) % t->qcap];
		free(t->q);
		t->q = nq;
		t->qcap = ncap;
		t->qhead = 0;
	}
	t->q[(t->qhead + t->qlen) % t->qcap] = m;
	t->qlen++;
}

/* The message leaves the table and joins the output queue. */
static void complete(struct tracker *t, struct message *m)
{
	if (m->complete)
		return;
	m->complete = true;
	size_t n;
	const char *k = key3(t, span_from(m->host), span_from(m->instance),
			     span_from(m->qid), &n);
	if (ht_get(t->msgs, k, n) == m)
		ht_remove(t->msgs, k, n);
	enqueue(t, m);
}

static void maybe_complete(struct tracker *t, struct message *m)
{
	if (m->waiting > 0)
		return;
	if (m->removed || m->done || (m->mta == MTA_SENDMAIL && m->nrcpt > 0 &&
				      m->finals >= m->nrcpt))
		complete(t, m);
}

/* ---- messages ---------------------------------------------------------- */

static struct message *msg_lookup(struct tracker *t, const struct evidence *ev)
{
	size_t n;
	const char *k = key3(t, ev->host, ev->instance, ev->qid, &n);
	return ht_get(t->msgs, k, n);
}

static void detach(struct message *m);

static struct message *msg_new(struct tracker *t, const struct evidence *ev)
{
	struct message *old = msg_lookup(t, ev);
	if (old) {
		/* A queue ID names a message only until "removed" (DESIGN.md
		 * section 2): a new client= for a known ID starts a new one. */
		detach(old);
		complete(t, old);
	}
	struct message *m = message_new(ev->host, ev->instance, ev->qid, ev->mta, ev->ts);
	m->seq = t->seq++;
	size_t n;
	const char *k = key3(t, ev->host, ev->instance, ev->qid, &n);
	ht_put(t->msgs, k, n, m);
	return m;
}

static struct message *msg_get(struct tracker *t, const struct evidence *ev)
{
	struct message *m = msg_lookup(t, ev);
	if (!m)
		m = msg_new(t, ev);
	m->last_seen = ev->ts;
	return m;
}

static void hop_set_peer(struct hop *h, const struct evidence *ev)
{
	str_set(&h->peer_host, ev->peer_host);
	str_set(&h->peer_ip, ev->peer_ip);
	h->peer_port = ev->peer_port;
	h->network = !h->local && !addr_is_loopback(h->peer_ip);
}

/* The hop's TLS use is decided when the message is written, from whether
 * its host logged TLS lines in the same configuration epoch. */
static void set_pending(struct hostflags *hf, struct hop *h, enum pending_inference what)
{
	h->pending = what;
	h->epoch = hf->nep - 1;
}

/* ---- inbound ------------------------------------------------------------ */

static void session_free(void *p)
{
	struct session *s = p;
	free(s->peer_host);
	free(s->peer_ip);
	tls_state_free(&s->tls);
	free(s->waiting);
	free(s);
}

static struct session *session_get(struct tracker *t, const struct evidence *ev,
				   bool create)
{
	size_t n;
	const char *k = pid_key(t, ev, &n);
	struct session *s = ht_get(t->sessions, k, n);
	if (!s && create) {
		s = xcalloc(1, sizeof *s);
		tls_state_init(&s->tls);
		ht_put(t->sessions, k, n, s);
	}
	if (s)
		s->last = ev->ts;
	return s;
}

/* A message completed before its session ended (its queue ID was reused,
 * or it went idle) leaves the session's waiting list: the session must
 * not touch it after it is written and freed. */
static void detach(struct message *m)
{
	struct session *s = m->session;
	if (s) {
		for (size_t i = 0; i < s->nw; i++)
			if (s->waiting[i] == m) {
				memmove(&s->waiting[i], &s->waiting[i + 1],
					(s->nw - i - 1) * sizeof *s->waiting);
				s->nw--;
				break;
			}
	}
	m->session = NULL;
	m->waiting = 0;
}

/* Apply what the session's end tells; ev is the disconnect or NULL. */
static void session_close(struct tracker *t, struct session *s,
			  const struct evidence *ev)
{
	for (size_t i = 0; i < s->nw; i++) {
		struct message *m = s->waiting[i];
		struct hop *h = &m->inbound;
		if (ev) {
			hop_add_ev(h, ref_of(ev));
			h->sess_end = ev->ts;
			h->sess_end_usec = ev->usec;
			if (!s->has_tls) {
				switch (ev->starttls) {
				case ST_OK:
					h->tls.used = TRI_YES;
					hop_set_basis(h, "disconnect counters say starttls=1; "
						      "TLS details were not logged (smtpd_tls_loglevel=0)");
					break;
				case ST_FAILED:
					h->tls.used = TRI_NO;
					hop_set_basis(h, "disconnect counters say STARTTLS was tried and failed");
					break;
				case ST_ABSENT:
					h->tls.used = TRI_NO;
					hop_set_basis(h, "disconnect counters list no STARTTLS command");
					break;
				case ST_NO_COUNTERS:
					set_pending(host_flags(t, m->host, m->instance), h,
						    INF_NO_LINE_IN);
					break;
				}
			}
		} else if (!s->has_tls) {
			set_pending(host_flags(t, m->host, m->instance), h, INF_NO_LINE_IN);
		}
		if (s->tls_failed)
			hop_add_ev(h, s->fail_ev);
		m->waiting--;
		m->session = NULL;
		maybe_complete(t, m);
	}
	s->nw = 0;
}

static void session_end(struct tracker *t, const struct evidence *ev)
{
	size_t n;
	const char *k = pid_key(t, ev, &n);
	struct session *s = ht_remove(t->sessions, k, n);
	if (!s)
		return;
	session_close(t, s, ev);
	session_free(s);
}

static void on_connect(struct tracker *t, const struct evidence *ev)
{
	size_t n;
	const char *k = pid_key(t, ev, &n);
	struct session *old = ht_remove(t->sessions, k, n);
	if (old) {	/* the previous session's end is missing */
		session_close(t, old, NULL);
		session_free(old);
	}
	struct session *s = session_get(t, ev, true);
	str_set(&s->peer_host, ev->peer_host);
	str_set(&s->peer_ip, ev->peer_ip);
	s->has_connect = true;
	s->connect_ev = ref_of(ev);
	s->connect_ts = ev->ts;
	s->connect_usec = ev->usec;
}

static void on_tls_in(struct tracker *t, const struct evidence *ev)
{
	struct session *s = session_get(t, ev, true);
	if (!s->peer_ip)
		str_set(&s->peer_ip, ev->peer_ip);
	if (!s->peer_host)
		str_set(&s->peer_host, ev->peer_host);
	tls_state_from_ev(&s->tls, ev);
	s->has_tls = true;
	s->tls_ev = ref_of(ev);
	cur_epoch(host_flags_ev(t, ev))->server_tls_seen = true;
}

static void inherit_session(struct hop *h, struct session *s)
{
	if (s->has_connect) {
		hop_add_ev(h, s->connect_ev);
		h->sess_start = s->connect_ts;
		h->sess_start_usec = s->connect_usec;
	}
	if (s->has_tls) {
		tls_state_copy(&h->tls, &s->tls);
		hop_add_ev(h, s->tls_ev);
	}
}

static void on_client(struct tracker *t, const struct evidence *ev)
{
	struct message *m = msg_new(t, ev);
	m->has_inbound = true;
	struct hop *h = &m->inbound;
	h->ts = ev->ts;
	h->usec = ev->usec;
	hop_set_peer(h, ev);
	struct session *s = session_get(t, ev, false);
	if (s) {
		inherit_session(h, s);
		if (s->has_tls)
			hop_set_basis(h, "TLS summary line of this smtpd session");
		if (s->nw == s->capw) {
			s->capw = s->capw ? s->capw * 2 : 4;
			s->waiting = xrealloc(s->waiting, s->capw * sizeof *s->waiting);
		}
		s->waiting[s->nw++] = m;
		m->waiting++;
		m->session = s;
	} else {
		hop_set_basis(h, "the start of this smtpd session is not in the log");
	}
	hop_add_ev(h, ref_of(ev));
}

static void on_local_inbound(struct tracker *t, const struct evidence *ev,
			     const char *what)
{
	struct message *m = msg_get(t, ev);
	m->has_inbound = true;
	struct hop *h = &m->inbound;
	h->local = true;
	h->network = false;
	h->ts = ev->ts;
	h->usec = ev->usec;
	free(h->peer_host);
	h->peer_host = xstrdup(what);
	hop_set_basis(h, "local submission: no network connection");
	hop_add_ev(h, ref_of(ev));
	if (ev->from.n)
		str_set(&m->from, ev->from);
}

/* RFC 3848 transmission types: ESMTPS, ESMTPSA, LMTPS, UTF8SMTPS... */
static bool proto_says_tls(struct span p)
{
	return (p.n >= 5 && (span_eq(span_sub(p, p.n - 1, 1), "S") ||
			     span_eq(span_sub(p, p.n - 2, 2), "SA")) &&
		span_find(p, "SMTP") >= 0);
}

static void on_sendmail_from(struct tracker *t, const struct evidence *ev)
{
	struct message *m = msg_get(t, ev);
	if (ev->from.n)
		str_set(&m->from, ev->from);
	if (ev->message_id.n)
		str_set(&m->message_id, ev->message_id);
	if (ev->nrcpt >= 0)
		m->nrcpt = ev->nrcpt;
	m->has_inbound = true;
	struct hop *h = &m->inbound;
	h->ts = ev->ts;
	h->usec = ev->usec;
	hop_add_ev(h, ref_of(ev));
	if (!ev->peer_ip.n) {	/* "relay=root@localhost": local submission */
		h->local = true;
		h->network = false;
		str_set(&h->peer_host, ev->peer_host);
		hop_set_basis(h, "local submission: no network connection");
		return;
	}
	hop_set_peer(h, ev);
	struct session *s = session_get(t, ev, false);
	bool match = s && s->has_tls &&
		     (!s->peer_ip || span_eq(ev->peer_ip, s->peer_ip));
	if (match)
		inherit_session(h, s);
	if (ev->proto.n && proto_says_tls(ev->proto)) {
		if (!match) {
			tls_state_free(&h->tls);
			h->tls.used = TRI_YES;
			h->tls.stripped = TRI_NO;
			hop_set_basis(h, "proto=ESMTPS (RFC 3848) says TLS was used; "
				      "no STARTTLS=server line gives its details");
		} else {
			hop_set_basis(h, "STARTTLS=server line of this process, confirmed by "
				      "proto=ESMTPS");
		}
	} else if (match) {
		hop_set_basis(h, "STARTTLS=server line of this process (this Sendmail "
			      "does not mark TLS in proto=)");
	} else if (ev->proto.n) {
		h->tls.used = TRI_NO;
		hop_set_basis(h, "proto= without S: no TLS (Sendmail 8.15+ writes ESMTPS "
			      "when STARTTLS was used)");
	} else {
		set_pending(host_flags_ev(t, ev), h, INF_NO_LINE_IN);
	}
}

/* ---- outbound ----------------------------------------------------------- */

static bool name_eq(const char *a, struct span b)
{
	if (!a)
		return false;
	size_t an = strlen(a);
	while (an && a[an - 1] == '.')
		an--;
	while (b.n && b.p[b.n - 1] == '.')
		b.n--;
	return an == b.n && strncasecmp(a, b.p, an) == 0;
}

/* Is this delivery to the relay the connection c was opened to? */
static bool relay_match(const struct conn *c, const struct evidence *ev)
{
	if (!c->open)
		return false;
	if (c->relay_ip && ev->peer_ip.n) {
		if (!span_eq(ev->peer_ip, c->relay_ip))
			return false;
		return c->relay_port < 0 || ev->peer_port < 0 || c->relay_port == ev->peer_port;
	}
	/* Postfix 2.x and Sendmail name the relay without its address. */
	if (name_eq(c->relay_name, ev->peer_host))
		return true;
	if (c->relay_name && c->relay_name[0] == '[' && ev->peer_ip.n) {
		size_t n = strlen(c->relay_name);
		return n > 2 && span_eqi_span((struct span){ c->relay_name + 1, n - 2 },
					      ev->peer_ip);
	}
	return false;
}

static void on_tls_out(struct tracker *t, const struct evidence *ev)
{
	struct proc *p = proc_get(t, ev);
	conn_clear(&p->pending);
	p->pending.open = true;
	p->pending.has_tls = true;
	p->pending.relay_name = span_dup(ev->peer_host);
	p->pending.relay_ip = span_dup(ev->peer_ip);
	p->pending.relay_port = ev->peer_port;
	tls_state_from_ev(&p->pending.tls, ev);
	p->pending.tls_ev = ref_of(ev);
	p->pending.tls_ts = ev->ts;
	p->pending.tls_usec = ev->usec;
	cur_epoch(host_flags_ev(t, ev))->client_tls_seen = true;
}

static void on_tls_fail(struct tracker *t, const struct evidence *ev)
{
	if (ev->dir == DIR_OUT) {
		struct proc *p = proc_get(t, ev);
		p->has_fail = true;
		p->fail_ev = ref_of(ev);
		str_set(&p->fail_text, ev->detail);
		conn_clear(&p->cur);	/* the next connection is a new one */
		return;
	}
	struct session *s = session_get(t, ev, true);
	s->tls_failed = true;
	s->fail_ev = ref_of(ev);
}

static bool is_local_delivery(const struct evidence *ev)
{
	if (ev->mta == MTA_SENDMAIL) {
		if (ev->mailer.n && !span_eq(ev->mailer, "esmtp") && !span_eq(ev->mailer, "smtp") &&
		    !span_eq(ev->mailer, "relay") && !span_eq(ev->mailer, "dsmtp") &&
		    !span_eq(ev->mailer, "smtp8"))
			return true;
		return !ev->peer_host.n && !ev->peer_ip.n;
	}
	if (!span_eq(ev->program, "smtp") && !span_eq(ev->program, "lmtp"))
		return true;	/* local, virtual, pipe, discard, error, qmgr */
	return !ev->peer_ip.n;	/* relay=none, relay=private/dovecot-lmtp */
}

/* Postfix 3.11 writes the TLS security level of a delivery ("tls=dane").
 * Levels encrypt and above (postconf(5) smtp_tls_security_level) never
 * deliver in plaintext; a "/" marks a downgrade, so it is not taken. */
static bool tls_level_requires_tls(struct span v)
{
	static const char *const levels[] = { "encrypt", "dane", "dane-only",
		"fingerprint", "verify", "secure", NULL };
	if (!v.n || memchr(v.p, '/', v.n))
		return false;
	size_t n = 0;
	while (n < v.n && v.p[n] != ':' && v.p[n] != '?' && v.p[n] != '!')
		n++;
	for (int i = 0; levels[i]; i++)
		if (span_eq(span_sub(v, 0, n), levels[i]))
			return true;
	return false;
}

/* Find the connection this delivery went over; fills the hop's TLS facts. */
static void outbound_tls(struct tracker *t, const struct evidence *ev, struct hop *h)
{
	struct proc *p = proc_get(t, ev);
	char basis[200];
	if (p->pending.open && relay_match(&p->pending, ev)) {
		conn_move(&p->cur, &p->pending);
		str_set(&p->cur.qid, ev->qid);
		p->cur.conn_use = ev->conn_use;
		strcpy(basis, ev->mta == MTA_SENDMAIL
		       ? "STARTTLS=client line of this connection "
			 "(same process, just before the first delivery on it)"
		       : "TLS summary line of this connection "
			 "(same process, just before the first delivery on it)");
	} else {
		conn_clear(&p->pending);	/* a TLS line for another relay is stale */
		bool same = false;
		if (p->cur.open && relay_match(&p->cur, ev)) {
			if (ev->mta == MTA_SENDMAIL) {
				same = true;	/* Sendmail's connection cache */
				strcpy(basis, "same process and relay as "
				       "the previous delivery (connection cache)");
			} else if (ev->conn_use > 1) {
				same = true;
				snprintf(basis, sizeof basis, "reused connection "
					 "(conn_use=%d) of this process", ev->conn_use);
			} else if (p->cur.qid && span_eq(ev->qid, p->cur.qid) &&
				   p->cur.conn_use == ev->conn_use) {
				same = true;
				strcpy(basis, "same delivery transaction as "
				       "the previous recipient");
			}
		}
		if (!same && ev->conn_use > 1) {
			/* Taken from the connection cache (scache) by another
			 * process: the last connection this host had there. */
			size_t n;
			const char *k = relay_key(t, ev, &n);
			struct conn *c = ht_get(t->relays, k, n);
			if (c) {
				conn_copy(&p->cur, c);
				same = true;
				snprintf(basis, sizeof basis, "reused connection (conn_use=%d) "
					 "taken from the connection cache", ev->conn_use);
			}
		}
		if (!same) {
			conn_clear(&p->cur);
			p->cur.open = true;
			p->cur.relay_name = span_dup(ev->peer_host);
			p->cur.relay_ip = span_dup(ev->peer_ip);
			p->cur.relay_port = ev->peer_port;
			basis[0] = '\0';
		}
		str_set(&p->cur.qid, ev->qid);
		p->cur.conn_use = ev->conn_use;
	}
	if (p->cur.has_tls) {
		tls_state_copy(&h->tls, &p->cur.tls);
		hop_add_ev(h, p->cur.tls_ev);
		hop_set_basis(h, basis);
		h->sess_start = p->cur.tls_ts;
		h->sess_start_usec = p->cur.tls_usec;
	} else if (tls_level_requires_tls(ev->tls_feature)) {
		h->tls.used = TRI_YES;
		char b[200];
		snprintf(b, sizeof b, "Postfix 3.11+ logged tls=%.*s on the delivery: "
			 "that security level does not deliver without TLS",
			 (int)ev->tls_feature.n, ev->tls_feature.p);
		hop_set_basis(h, b);
	} else {
		set_pending(host_flags_ev(t, ev), h, INF_NO_LINE_OUT);	/* decided when written */
	}
	if (p->has_fail) {
		hop_add_ev(h, p->fail_ev);
		if (!p->cur.has_tls) {
			h->pending = INF_NONE;
			h->tls.used = TRI_NO;
			/* smtp(8): "TLS is required, but was not offered by host" */
			if (p->fail_text && strstr(p->fail_text, "was not offered"))
				h->tls.offered = TRI_NO;
			char b[300];
			snprintf(b, sizeof b, "TLS failed or was refused: %s",
				 p->fail_text ? p->fail_text : "");
			hop_set_basis(h, b);
		}
		p->has_fail = false;
	}
	if (ev->mta == MTA_POSTFIX && ev->peer_ip.n) {
		size_t n;
		const char *k = relay_key(t, ev, &n);
		struct conn *c = ht_get(t->relays, k, n);
		if (!c) {
			c = xcalloc(1, sizeof *c);
			conn_clear(c);
			ht_put(t->relays, k, n, c);
		}
		if (!conn_same(c, &p->cur))	/* most deliveries change nothing */
			conn_copy(c, &p->cur);
	}
}

static bool final_status(struct span st)
{
	return span_eq(st, "sent") || span_eq(st, "bounced") || span_eq(st, "expired");
}

static void add_delivery(struct tracker *t, struct message *m,
			 const struct evidence *ev, struct span rcpt, bool local)
{
	struct hop *h = message_add_delivery(m);
	h->ts = ev->ts;
	h->usec = ev->usec;
	h->local = local;
	str_set(&h->rcpt, rcpt);
	str_set(&h->status, ev->status);
	str_set(&h->dsn, ev->dsn);
	str_set(&h->next_qid, ev->next_qid);
	hop_set_peer(h, ev);
	if (local) {
		h->network = false;
		char b[200];
		if (span_eq(ev->peer_host, "none") &&	/* smtp(8) that never connected */
		    (span_eq(ev->program, "smtp") || span_eq(ev->program, "lmtp")))
			snprintf(b, sizeof b, "no connection was made (relay=none, status=%.*s): "
				 "nothing was transmitted", (int)ev->status.n, ev->status.p);
		else
			snprintf(b, sizeof b, "handed over by %.*s with no SMTP connection",
				 (int)ev->program.n, ev->program.p);
		hop_set_basis(h, b);
	} else {
		outbound_tls(t, ev, h);
	}
	/* smtp(8) with TLS required defers with this reply (smtp_proto.c):
	 * the server's EHLO reply, as the client saw it, lacked STARTTLS. */
	if (span_find(ev->reply, "TLS is required, but was not offered") >= 0) {
		h->tls.offered = TRI_NO;
		if (h->tls.used != TRI_YES) {	/* no TLS on this connection */
			h->pending = INF_NONE;
			h->tls.used = TRI_UNKNOWN;
			hop_set_basis(h, "TLS was required and the server did not offer STARTTLS: "
				      "smtp(8) ended the session before the message was sent");
		}
	}
	hop_add_ev(h, ref_of(ev));
	if (final_status(ev->status))
		m->finals++;
}

static void on_to(struct tracker *t, const struct evidence *ev)
{
	if (!ev->qid.n)
		return;
	struct message *m = msg_get(t, ev);
	bool local = is_local_delivery(ev);
	if (ev->mta == MTA_POSTFIX) {
		add_delivery(t, m, ev, ev->rcpt, local);
		return;
	}
	/* Sendmail lists recipients of one transaction: "to=<a>,<b>". */
	struct span r = ev->rcpt;
	bool first = true;
	while (r.n) {
		size_t i = 0;
		bool in_angle = false;
		while (i < r.n && (in_angle || r.p[i] != ',')) {
			if (r.p[i] == '<')
				in_angle = true;
			else if (r.p[i] == '>')
				in_angle = false;
			i++;
		}
		struct span one = span_trim(span_sub(r, 0, i));
		if (one.n) {
			if (!first && !local) {
				/* Same connection as the first: copy its facts. */
				struct hop *h = message_add_delivery(m);
				const struct hop *prev = &m->dl[m->ndl - 2];
				h->ts = prev->ts;
				h->usec = prev->usec;
				h->sess_start = prev->sess_start;
				h->sess_start_usec = prev->sess_start_usec;
				str_set(&h->rcpt, one);
				h->status = xstrdup_or_null(prev->status);
				h->dsn = xstrdup_or_null(prev->dsn);
				h->next_qid = xstrdup_or_null(prev->next_qid);
				hop_set_peer(h, ev);
				tls_state_copy(&h->tls, &prev->tls);
				h->pending = prev->pending;
				h->epoch = prev->epoch;
				h->basis = xstrdup_or_null(prev->basis);
				for (size_t e = 0; e < prev->nev; e++)
					hop_add_ev(h, prev->ev[e]);
				if (final_status(ev->status))
					m->finals++;
			} else {
				add_delivery(t, m, ev, one, local);
			}
			first = false;
		}
		r = span_sub(r, i < r.n ? i + 1 : i, r.n);
	}
	maybe_complete(t, m);
}

static void on_bounce(struct tracker *t, const struct evidence *ev)
{
	/* "QID: sender non-delivery notification: NEWQID": NEWQID is a new
	 * message created locally by bounce(8). */
	struct evidence child = *ev;
	child.qid = ev->next_qid;
	child.from = SPAN_NULL;
	if (!child.qid.n)
		return;
	on_local_inbound(t, &child, "bounce");
	struct message *m = msg_lookup(t, &child);
	if (m)
		hop_set_basis(&m->inbound, "notification created by Postfix bounce(8): "
			      "no network connection");
}

/* ---- sweeping idle state ------------------------------------------------ */

struct sweep {
	struct tracker *t;
	struct buf keys;	/* NUL-separated key lengths + keys */
	size_t n;
	time_t limit;
	int which;
};

static void collect(const char *key, size_t klen, void *val, void *arg)
{
	struct sweep *sw = arg;
	time_t last;
	if (sw->which == 0)
		last = ((struct proc *)val)->last;
	else if (sw->which == 1)
		last = ((struct session *)val)->last;
	else
		last = ((struct message *)val)->last_seen;
	if (last >= sw->limit)
		return;
	buf_add(&sw->keys, &klen, sizeof klen);
	buf_add(&sw->keys, key, klen);
	sw->n++;
}

static void sweep_table(struct tracker *t, int which, time_t idle)
{
	struct sweep sw = { .t = t, .limit = t->clock.now - idle, .which = which };
	buf_init(&sw.keys);
	struct hashtab *ht = which == 0 ? t->procs : which == 1 ? t->sessions : t->msgs;
	ht_foreach(ht, collect, &sw);
	size_t off = 0;
	for (size_t i = 0; i < sw.n; i++) {
		size_t klen;
		memcpy(&klen, sw.keys.p + off, sizeof klen);
		off += sizeof klen;
		const char *k = sw.keys.p + off;
		off += klen;
		if (which == 0) {
			proc_free(ht_remove(ht, k, klen));
		} else if (which == 1) {
			struct session *s = ht_remove(ht, k, klen);
			session_close(t, s, NULL);
			session_free(s);
		} else {
			struct message *m = ht_get(ht, k, klen);
			detach(m);
			complete(t, m);
		}
	}
	buf_free(&sw.keys);
}

/* Past MAX_OPEN entries (a flood of sessions that never disconnect, a
 * log that starts mid-queue), close the idlest: halve the idle time
 * allowed until the table is back under the limit. */
static void bound(struct tracker *t, int which, struct hashtab *ht, time_t idle)
{
	while (ht_count(ht) > MAX_OPEN && idle > 0) {
		size_t before = ht_count(ht);
		idle /= 2;
		sweep_table(t, which, idle);
		t->evicted += before - ht_count(ht);
	}
	if (ht_count(ht) > MAX_OPEN) {	/* all in the same second */
		size_t before = ht_count(ht);
		sweep_table(t, which, -1);
		t->evicted += before - ht_count(ht);
	}
}

static void sweep(struct tracker *t)
{
	sweep_table(t, 0, PROC_IDLE);
	sweep_table(t, 1, SESSION_IDLE);
	sweep_table(t, 2, MESSAGE_IDLE);
	bound(t, 0, t->procs, PROC_IDLE);
	bound(t, 1, t->sessions, SESSION_IDLE);
	bound(t, 2, t->msgs, MESSAGE_IDLE);
}

unsigned long tracker_evicted(const struct tracker *t)
{
	return t->evicted;
}

/* ---- entry points -------------------------------------------------------- */

struct tracker *tracker_new(message_fn emit, void *arg)
{
	struct tracker *t = xcalloc(1, sizeof *t);
	t->sessions = ht_new();
	t->procs = ht_new();
	t->msgs = ht_new();
	t->hosts = ht_new();
	t->relays = ht_new();
	t->emit = emit;
	t->arg = arg;
	buf_init(&t->key);
	return t;
}

void tracker_feed(struct tracker *t, const struct evidence *ev)
{
	logclock_see(&t->clock, ev->ts);
	switch (ev->kind) {
	case EV_CONNECT:
		on_connect(t, ev);
		break;
	case EV_DISCONNECT:
		session_end(t, ev);
		break;
	case EV_TLS:
		if (ev->dir == DIR_IN)
			on_tls_in(t, ev);
		else
			on_tls_out(t, ev);
		break;
	case EV_TLS_FAIL:
		on_tls_fail(t, ev);
		break;
	case EV_CLIENT:
		on_client(t, ev);
		break;
	case EV_PICKUP:
		on_local_inbound(t, ev, "pickup");
		break;
	case EV_MESSAGE_ID:
		str_set(&msg_get(t, ev)->message_id, ev->message_id);
		break;
	case EV_FROM:
		if (ev->mta == MTA_SENDMAIL) {
			on_sendmail_from(t, ev);
		} else {
			struct message *m = msg_get(t, ev);
			str_set(&m->from, ev->from);
			if (ev->nrcpt >= 0)
				m->nrcpt = ev->nrcpt;
		}
		break;
	case EV_TO:
		on_to(t, ev);
		break;
	case EV_REMOVED: {
		struct message *m = msg_lookup(t, ev);
		if (m) {
			m->last_seen = ev->ts;
			m->removed = true;
			maybe_complete(t, m);
		}
		break;
	}
	case EV_DONE: {
		struct message *m = msg_lookup(t, ev);
		if (m) {
			m->done = true;
			maybe_complete(t, m);
		}
		break;
	}
	case EV_BOUNCE:
		on_bounce(t, ev);
		break;
	case EV_RESTART:
		new_epoch(host_flags_ev(t, ev));
		break;
	case EV_REJECT:
	case EV_LOST:
	case EV_KIND_MAX:
		break;
	}
	if (++t->fed % SWEEP_EVERY == 0)
		sweep(t);
	if (t->qlen)
		flush(t, false);
}

struct collect_all {
	struct message **v;
	size_t n, cap;
	struct session **s;
	size_t ns, caps;
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
	sweep_table(t, 1, everything);
	struct collect_all c = { 0 };
	ht_foreach(t->msgs, collect_msg, &c);
	if (c.n)
		qsort(c.v, c.n, sizeof *c.v, cmp_open);
	for (size_t i = 0; i < c.n; i++) {
		detach(c.v[i]);
		complete(t, c.v[i]);
	}
	free(c.v);
	flush(t, true);
}

size_t tracker_open_messages(const struct tracker *t)
{
	return ht_count(t->msgs) + t->qlen;
}

size_t tracker_open_sessions(const struct tracker *t)
{
	return ht_count(t->sessions) + ht_count(t->procs);
}

static void conn_free(void *p)
{
	conn_clear(p);
	free(p);
}

void tracker_free(struct tracker *t)
{
	if (!t)
		return;
	ht_free(t->sessions, session_free);
	ht_free(t->procs, proc_free);
	ht_free(t->msgs, (void (*)(void *))message_free);
	ht_free(t->hosts, hostflags_free);
	ht_free(t->relays, conn_free);
	for (size_t i = 0; i < t->qlen; i++)
		message_free(t->q[(t->qhead + i) % t->qcap]);
	free(t->q);
	buf_free(&t->key);
	buf_free(&t->last_host_key);
	free(t);
}
