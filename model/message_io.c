/* message_io.c - messages to bytes and back (model/message_io.h).  The
 * order of the fields is the format: a field added to struct hop or
 * struct message is added here, in both directions, and the state's
 * version (cli/statefile.c) goes up. */
#include "message_io.h"
#include <stdlib.h>
#include <string.h>

/* A field added to these structs must be saved here: the sizes as they
 * were when this file was last brought up to date (x86-64). */
#if defined(__x86_64__) && defined(__linux__)
_Static_assert(sizeof(struct tls_state) == 160, "struct tls_state changed: update message_io.c");
_Static_assert(sizeof(struct hop) == 520, "struct hop changed: update message_io.c");
_Static_assert(sizeof(struct message) == 776, "struct message changed: update message_io.c");
#endif

#define HOP_DEPTH_MAX 2		/* a delivery's tries hold no tries */
#define LIST_MAX 10000000

void evref_save(struct msg_out *o, struct evref e)
{
	ser_u64(o->b, (uint64_t)(o->file_of ? o->file_of(o->arg, e.file_id) : e.file_id));
	ser_u64(o->b, e.line);
	ser_bool(o->b, e.frame);
}

struct evref evref_load(struct msg_in *in)
{
	struct evref e = { 0 };
	uint64_t f = ser_get_u64(in->r);
	e.line = (unsigned long)ser_get_u64(in->r);
	e.frame = ser_get_bool(in->r);
	if (!in->file_map) {
		e.file_id = (int)f;
		return e;
	}
	if (f >= in->nmap) {
		ser_fail(in->r, "evidence names a file the state does not list");
		return e;
	}
	e.file_id = in->file_map[f];
	return e;
}

static void tri_save(struct buf *b, enum tri t) { ser_i64(b, t); }

static enum tri tri_load(struct ser_in *r)
{
	int64_t v = ser_get_i64(r);
	if (v < -1 || v > 1)
		ser_fail(r, "a yes/no/unknown value is out of range");
	return v < 0 ? TRI_UNKNOWN : v ? TRI_YES : TRI_NO;
}


void tls_state_save(struct msg_out *o, const struct tls_state *t)
{
	struct buf *b = o->b;
	tri_save(b, t->used);
	ser_u64(b, t->version);
	ser_str(b, t->version_raw);
	ser_str(b, t->cipher);
	ser_i64(b, t->bits);
	ser_i64(b, t->alg_bits);
	ser_u64(b, t->cert);
	ser_str(b, t->cert_raw);
	tri_save(b, t->stripped);
	tri_save(b, t->offered);
	ser_str(b, t->kex);
	ser_str(b, t->cipher_openssl);
	ser_str(b, t->sni);
	ser_str(b, t->offered_max);
	ser_str(b, t->cert_subject);
	ser_str(b, t->cert_issuer);
	ser_i64(b, t->cert_not_before);
	ser_i64(b, t->cert_not_after);
	tri_save(b, t->cert_self_signed);
	ser_u64(b, t->downgrade);
	ser_u64(b, t->level);
	tri_save(b, t->enforced);
	ser_u64(b, t->enforced_by);
	ser_u64(b, t->requiretls);
	ser_u64(b, t->policy_type);
	ser_u64(b, t->tlsrpt);
	ser_str(b, t->tlsrpt_failure);
}

void tls_state_load(struct msg_in *in, struct tls_state *t)
{
	struct ser_in *r = in->r;
	tls_state_init(t);
	t->used = tri_load(r);
	t->version = ser_get_enum(r, TLSV_1_3);
	t->version_raw = ser_get_str(r);
	t->cipher = ser_get_str(r);
	t->bits = (int)ser_get_i64(r);
	t->alg_bits = (int)ser_get_i64(r);
	t->cert = ser_get_enum(r, CERT_VERIFIED);
	t->cert_raw = ser_get_str(r);
	t->stripped = tri_load(r);
	t->offered = tri_load(r);
	t->kex = ser_get_str(r);
	t->cipher_openssl = ser_get_str(r);
	t->sni = ser_get_str(r);
	t->offered_max = ser_get_str(r);
	t->cert_subject = ser_get_str(r);
	t->cert_issuer = ser_get_str(r);
	t->cert_not_before = (time_t)ser_get_i64(r);
	t->cert_not_after = (time_t)ser_get_i64(r);
	t->cert_self_signed = tri_load(r);
	t->downgrade = ser_get_enum(r, DOWNGRADE_HANDSHAKE_FAILED);
	t->level = ser_get_enum(r, TLSL_SECURE);
	t->enforced = tri_load(r);
	t->enforced_by = ser_get_enum(r, ENF_SENDMAIL_RULESET);
	t->requiretls = ser_get_enum(r, RQT_PENDING);
	t->policy_type = ser_get_enum(r, PT_STS);
	t->tlsrpt = ser_get_enum(r, TR_FAILURE);
	t->tlsrpt_failure = ser_get_str(r);
}

static void hop_save(struct msg_out *o, const struct hop *h)
{
	struct buf *b = o->b;
	ser_u64(b, h->dir);
	ser_str(b, h->peer_host);
	ser_str(b, h->peer_ip);
	ser_i64(b, h->peer_port);
	ser_str(b, h->rcpt);
	ser_str(b, h->orig_rcpt);
	ser_str(b, h->status);
	ser_str(b, h->dsn);
	ser_str(b, h->next_qid);
	ser_bool(b, h->local);
	ser_bool(b, h->network);
	ser_u64(b, h->source);
	ser_bool(b, h->joined);
	ser_bool(b, h->conflict);
	ser_str(b, h->conflict_detail);
	ser_i64(b, h->join_ambiguous);
	ser_bool(b, h->join_unanimous);
	ser_str(b, h->helo);
	ser_str(b, h->by);
	ser_str(b, h->with);
	ser_str(b, h->rid);
	ser_bool(b, h->claim);
	tls_state_save(o, &h->tls);
	ser_str(b, h->basis);
	ser_u64(b, h->pending);
	ser_u64(b, h->epoch);
	ser_i64(b, h->ts);
	ser_i64(b, h->usec);
	ser_i64(b, h->sess_start);
	ser_i64(b, h->sess_end);
	ser_i64(b, h->sess_start_usec);
	ser_i64(b, h->sess_end_usec);
	ser_u64(b, h->nev);
	for (size_t i = 0; i < h->nev; i++)
		evref_save(o, h->ev[i]);
	ser_u64(b, h->attempts);
	ser_i64(b, h->last_attempt);
	ser_u64(b, h->outcome);
	ser_i64(b, h->conn_use);
	ser_str(b, h->reason);
	ser_u64(b, h->fate);
	ser_u64(b, h->ntries);
	for (size_t i = 0; i < h->ntries; i++)
		hop_save(o, &h->tries[i]);
	ser_bool(b, h->filter);
	ser_bool(b, h->proxied);
	ser_bool(b, h->xforwarded);
	ser_bool(b, h->submission);
	ser_bool(b, h->authenticated);
	ser_str(b, h->sasl_method);
	ser_str(b, h->sasl_username);
	ser_str(b, h->explain);
}

static void hop_load(struct msg_in *in, struct hop *h, int depth)
{
	struct ser_in *r = in->r;
	hop_init(h, DIR_NONE);
	h->dir = ser_get_enum(r, DIR_OUT);
	h->peer_host = ser_get_str(r);
	h->peer_ip = ser_get_str(r);
	h->peer_port = (int)ser_get_i64(r);
	h->rcpt = ser_get_str(r);
	h->orig_rcpt = ser_get_str(r);
	h->status = ser_get_str(r);
	h->dsn = ser_get_str(r);
	h->next_qid = ser_get_str(r);
	h->local = ser_get_bool(r);
	h->network = ser_get_bool(r);
	h->source = ser_get_enum(r, SRC_HEADER);
	h->joined = ser_get_bool(r);
	h->conflict = ser_get_bool(r);
	h->conflict_detail = ser_get_str(r);
	h->join_ambiguous = (int)ser_get_i64(r);
	h->join_unanimous = ser_get_bool(r);
	h->helo = ser_get_str(r);
	h->by = ser_get_str(r);
	h->with = ser_get_str(r);
	h->rid = ser_get_str(r);
	h->claim = ser_get_bool(r);
	tls_state_free(&h->tls);
	tls_state_load(in, &h->tls);
	h->basis = ser_get_str(r);
	h->pending = ser_get_enum(r, INF_NO_LINE_LMTP);
	h->epoch = (unsigned)ser_get_u64(r);
	h->ts = (time_t)ser_get_i64(r);
	h->usec = (long)ser_get_i64(r);
	h->sess_start = (time_t)ser_get_i64(r);
	h->sess_end = (time_t)ser_get_i64(r);
	h->sess_start_usec = (long)ser_get_i64(r);
	h->sess_end_usec = (long)ser_get_i64(r);
	size_t nev = ser_get_count(r, LIST_MAX);
	if (nev) {
		h->ev = xcalloc(nev, sizeof *h->ev);
		h->capev = nev;
		for (size_t i = 0; i < nev && !r->error; i++)
			h->ev[h->nev++] = evref_load(in);
	}
	h->attempts = (unsigned long)ser_get_u64(r);
	h->last_attempt = (time_t)ser_get_i64(r);
	h->outcome = ser_get_enum(r, OUTCOME_NO_CONNECTION);
	h->conn_use = (int)ser_get_i64(r);
	h->reason = ser_get_str(r);
	h->fate = ser_get_enum(r, FATE_DEFERRED);
	size_t ntries = ser_get_count(r, LIST_MAX);
	if (ntries && depth >= HOP_DEPTH_MAX)
		ser_fail(r, "attempts are nested too deep");
	else if (ntries) {
		h->tries = xcalloc(ntries, sizeof *h->tries);
		for (size_t i = 0; i < ntries && !r->error; i++)
			hop_load(in, &h->tries[h->ntries++], depth + 1);
	}
	h->filter = ser_get_bool(r);
	h->proxied = ser_get_bool(r);
	if (in->version >= 7)
		h->xforwarded = ser_get_bool(r);
	h->submission = ser_get_bool(r);
	h->authenticated = ser_get_bool(r);
	h->sasl_method = ser_get_str(r);
	h->sasl_username = ser_get_str(r);
	h->explain = ser_get_str(r);
}

static void opt_hop_save(struct msg_out *o, const struct hop *h)
{
	ser_bool(o->b, h != NULL);
	if (h)
		hop_save(o, h);
}

static struct hop *opt_hop_load(struct msg_in *in)
{
	if (!ser_get_bool(in->r))
		return NULL;
	struct hop *h = xcalloc(1, sizeof *h);
	hop_load(in, h, 0);
	return h;
}

void message_save(struct msg_out *o, const struct message *m)
{
	struct buf *b = o->b;
	ser_str(b, m->host);
	ser_str(b, m->instance);
	ser_str(b, m->qid);
	ser_str(b, m->message_id);
	ser_str(b, m->from);
	ser_str(b, m->from_raw);
	ser_str(b, m->from_name);
	ser_u64(b, m->mta);
	ser_i64(b, m->first_seen);
	ser_i64(b, m->last_seen);
	ser_bool(b, m->has_inbound);
	hop_save(o, &m->inbound);
	ser_u64(b, m->ndl);
	for (size_t i = 0; i < m->ndl; i++)
		hop_save(o, &m->dl[i]);
	ser_i64(b, m->nrcpt);
	ser_u64(b, m->dl_dropped);
	ser_i64(b, m->finals);
	ser_bool(b, m->removed);
	ser_bool(b, m->done);
	ser_bool(b, m->complete);
	ser_u64(b, m->seq);
	ser_bool(b, m->per_connection);
	ser_str(b, m->note);
	ser_bool(b, m->deleted);
	ser_bool(b, m->expired);
	ser_str(b, m->prior_qid);
	opt_hop_save(o, m->filter_hop);
	opt_hop_save(o, m->filter_return);
	ser_bool(b, m->absorbed);
	ser_bool(b, m->header);
	ser_u64(b, m->nrcpts);
	for (size_t i = 0; i < m->nrcpts; i++)
		ser_str(b, m->rcpts[i]);
	/* waiting and session are the tracker's to restore (its sessions
	 * list their messages); verdict and severity are set later */
}

struct message *message_load(struct msg_in *in)
{
	struct ser_in *r = in->r;
	struct message *m = xcalloc(1, sizeof *m);
	m->host = ser_get_str(r);
	m->instance = ser_get_str(r);
	m->qid = ser_get_str(r);
	m->message_id = ser_get_str(r);
	m->from = ser_get_str(r);
	m->from_raw = ser_get_str(r);
	m->from_name = ser_get_str(r);
	m->mta = ser_get_enum(r, MTA_UNKNOWN);
	m->first_seen = (time_t)ser_get_i64(r);
	m->last_seen = (time_t)ser_get_i64(r);
	m->has_inbound = ser_get_bool(r);
	hop_load(in, &m->inbound, 0);
	size_t ndl = ser_get_count(r, MESSAGE_MAX_DELIVERIES);
	if (ndl) {
		m->dl = xcalloc(ndl, sizeof *m->dl);
		m->capdl = ndl;
		for (size_t i = 0; i < ndl && !r->error; i++)
			hop_load(in, &m->dl[m->ndl++], 0);
	}
	m->nrcpt = (int)ser_get_i64(r);
	m->dl_dropped = (unsigned long)ser_get_u64(r);
	m->finals = (int)ser_get_i64(r);
	m->removed = ser_get_bool(r);
	m->done = ser_get_bool(r);
	m->complete = ser_get_bool(r);
	m->seq = ser_get_u64(r);
	m->per_connection = ser_get_bool(r);
	m->note = ser_get_str(r);
	m->deleted = ser_get_bool(r);
	m->expired = ser_get_bool(r);
	m->prior_qid = ser_get_str(r);
	m->filter_hop = opt_hop_load(in);
	m->filter_return = opt_hop_load(in);
	m->absorbed = ser_get_bool(r);
	m->header = ser_get_bool(r);
	size_t nr = ser_get_count(r, LIST_MAX);
	if (nr) {
		m->rcpts = xcalloc(nr, sizeof *m->rcpts);
		for (size_t i = 0; i < nr && !r->error; i++)
			m->rcpts[m->nrcpts++] = ser_get_str(r);
	}
	if (r->error) {
		message_free(m);
		return NULL;
	}
	return m;
}
