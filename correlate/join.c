/* join.c - logs with captures.
 * Exact matches: a plaintext capture message whose queue ID (from the
 * server's "queued as" reply) is the log message's queue ID (the receiving
 * server's log) or a delivery's next_queue_id (the sending server's log),
 * or whose Message-ID is the log message's; the capture clock's offset and
 * the addresses each log host answers on were learnt first (learn.h).
 * Other matches use addresses and time: an inbound hop's client address
 * (and port, when logged) against the capture's client, a delivery's relay
 * address and port against the capture's server, the log line plus the
 * offset inside the connection's span (JOIN_WINDOW seconds either side, or
 * to the microsecond where both stamps allow), and the session's edges
 * where the log has them (session_fits).  One fitting connection is a
 * match; several are ambiguous and left apart.
 * Merging: facts the log lacks come from the capture (version, cipher,
 * stripping - logs never see stripping); where both know a fact and
 * disagree, the hop keeps the log's and is flagged as a conflict with
 * both values named.
 * Reading in step (join.h): every capture file is read by a reader of
 * its own up to the log's clock + JOIN_AHEAD, so captures taken on two
 * machines at once are both there; records leave the window when the
 * log's clock is JOIN_RETAIN past them.  A log that goes back in time
 * past the window (files put together out of order) starts the captures
 * again.  Each record is named by its file and its place in it, the same
 * on every read: one bit a record says whether a log hop took it, one bit
 * a connection whether it is a duplicate.
 * Memory: the window, the indexes of what is in it, the held messages
 * and those bits. */
#include "join.h"
#include "../util/textsafe.h"
#include "learn.h"
#include "../util/addr.h"
#include "../util/hashtab.h"
#include "../util/idlist.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Connections remembered for the duplicate check: the same session seen
 * twice within the last SEEN_MAX connections is recognised. */
#define SEEN_MAX 65536
/* A log that goes back in time restarts the captures at most this often;
 * past it, hops out of the window are joined at the end. */
#define MAX_REWINDS 16

struct bits {
	uint64_t *w;
	size_t nw;
};

static void bit_set(struct bits *b, size_t i)
{
	if (i / 64 >= b->nw) {
		size_t nw = b->nw ? b->nw : 16;
		while (nw <= i / 64)
			nw *= 2;
		b->w = xrealloc(b->w, nw * sizeof *b->w);
		memset(b->w + b->nw, 0, (nw - b->nw) * sizeof *b->w);
		b->nw = nw;
	}
	b->w[i / 64] |= (uint64_t)1 << (i % 64);
}

static bool bit_get(const struct bits *b, size_t i)
{
	return i / 64 < b->nw && (b->w[i / 64] >> (i % 64) & 1);
}

/* One capture file: its bits, and its reader while it is read in step. */
struct capfile {
	char *path;
	int file_id;
	time_t first_ts;
	uint64_t packets;	/* what the first read read */
	struct bits used, dup;	/* by record, by connection */
	size_t nconn, nrec;	/* ordinals of the read in progress */
	struct capture_reader *cr;
	struct capture_stats st;
	bool open, done, reread_failed;
	struct join *j;
};

struct crec {
	struct message *m;
	size_t conn;			/* which capture connection */
	struct capfile *file;
	size_t ord;			/* its place in the file */
	char client[64], server[64];
	int cport, sport;
	time_t first, last;
	int64_t first_us, last_us;	/* the same to the microsecond */
	bool saw_syn, saw_close;	/* its start and its end are in the capture */
	bool lmtp;			/* an LMTP session: a delivery, never an arrival */
};

#define HOP_FILTER (-2)

/* A hop older than the window when its message came. */
struct late {
	struct message *m;
	long hop;			/* -1: the inbound hop, HOP_FILTER: the
					   hand-over to a content filter, else a delivery */
	time_t ts;
	size_t order;
};

enum mode { LEARN, WINDOW, EMIT };

struct seen {
	uint64_t hash;
	time_t first;
};

struct join {
	enum mode mode;
	/* pass 1 */
	size_t nrecords;
	struct learn *learn;		/* and pass 2: offset, hosts, STARTTLS */
	struct hashtab *seen;
	unsigned long duplicates;
	struct seen *seen_ring;		/* seen's entries, oldest first */
	size_t seen_head, seen_n;
	long offset;			/* learnt, settled */
	bool precise;			/* ... and to the microsecond */
	struct join_slack sl;
	/* pass 3: the window, records r[lo .. hi) with ids base+lo .. */
	struct crec *r;
	size_t lo, hi, cap;
	uint64_t base;
	struct hashtab *by_qid, *by_mid, *by_client, *by_server;
	size_t nconn;
	struct capfile *files;
	size_t nfiles;
	uint16_t ports[CAP_MAX_PORTS];
	size_t nports;
	int threads;
	FILE *quiet;
	/* the log's latest stamp: a line stamped far ahead lets the window
	 * go, and the next line, back in time, starts the captures again */
	time_t hw;
	long long pumped;		/* captures read up to this capture time */
	long long edge;			/* records fitting up to here have left */
	unsigned rewinds;
	size_t nused;
	struct late *late;
	size_t nlate, caplate;
	struct message **held;
	size_t nheld, capheld;
	unsigned long joined, exact, ambiguous, unanimous, conflicts;
	/* while adding one connection's records */
	struct smtp_connection *cur;
	struct capfile *curfile;
	/* join_stream_to: records go straight out */
	message_fn emit;
	void *emit_arg;
};

struct join *join_new(void)
{
	struct join *j = xcalloc(1, sizeof *j);
	j->by_qid = ht_new();
	j->by_mid = ht_new();
	j->by_client = ht_new();
	j->by_server = ht_new();
	j->learn = learn_new();
	j->seen = ht_new();
	j->hw = 0;
	j->pumped = LLONG_MIN;
	j->edge = LLONG_MIN;
	return j;
}

static void window_clear(struct join *j);

static void files_close(struct join *j)
{
	for (size_t i = 0; i < j->nfiles; i++) {
		struct capfile *f = &j->files[i];
		if (f->cr) {
			capture_free(f->cr);
			f->cr = NULL;
		}
		if (f->open)
			capture_stats_free(&f->st);
		f->open = f->done = false;
		f->nconn = f->nrec = 0;
	}
}

void join_free(struct join *j)
{
	if (!j)
		return;
	files_close(j);
	window_clear(j);
	free(j->r);
	for (size_t i = 0; i < j->nfiles; i++) {
		free(j->files[i].path);
		free(j->files[i].used.w);
		free(j->files[i].dup.w);
	}
	free(j->files);
	for (size_t i = 0; i < j->nheld; i++)
		message_free(j->held[i]);
	free(j->held);
	free(j->late);
	ht_free(j->by_qid, idlist_free);
	ht_free(j->by_mid, idlist_free);
	ht_free(j->by_client, idlist_free);
	ht_free(j->by_server, idlist_free);
	learn_free(j->learn);
	ht_free(j->seen, NULL);
	free(j->seen_ring);
	if (j->quiet)
		fclose(j->quiet);
	free(j);
}

/* ---- the window ------------------------------------------------------------ */

static struct crec *rec(struct join *j, uint64_t id)
{
	return &j->r[id - j->base];
}

/* A record's keys, into or out of the indexes. */
static void index_record(struct join *j, const struct crec *r, uint64_t id,
			 void (*op)(struct hashtab *, const char *, uint64_t))
{
	char sk[96];
	op(j->by_qid, r->m->qid, id);
	op(j->by_mid, r->m->message_id, id);
	op(j->by_client, r->client, id);
	addr_port_key(sk, sizeof sk, r->server, r->sport);
	op(j->by_server, sk, id);
}

/* The oldest record leaves the window. */
static void window_pop(struct join *j)
{
	struct crec *r = &j->r[j->lo];
	index_record(j, r, j->base + j->lo, idx_drop);
	if (r->last + JOIN_WINDOW > j->edge)
		j->edge = r->last + JOIN_WINDOW;
	message_free(r->m);
	r->m = NULL;
	if (++j->lo == j->hi) {
		j->base += j->hi;
		j->lo = j->hi = 0;
	}
}

static void window_clear(struct join *j)
{
	while (j->lo < j->hi)
		window_pop(j);
}

/* Records whose connection ended before `before` (capture clock) leave. */
static void window_release(struct join *j, long long before)
{
	while (j->lo < j->hi && j->r[j->lo].last + JOIN_WINDOW < before)
		window_pop(j);
}

static void window_push(struct join *j, struct crec *r)
{
	if (j->hi == j->cap) {
		if (j->lo > j->hi / 2) {
			memmove(j->r, j->r + j->lo, (j->hi - j->lo) * sizeof *j->r);
			j->base += j->lo;
			j->hi -= j->lo;
			j->lo = 0;
		} else {
			j->cap = j->cap ? j->cap * 2 : 256;
			j->r = xrealloc(j->r, j->cap * sizeof *j->r);
		}
	}
	uint64_t id = j->base + j->hi;
	j->r[j->hi++] = *r;
	index_record(j, r, id, idx_add);
}

/* ---- records ---------------------------------------------------------------- */

/* A server that offered STARTTLS to other sessions in the capture but not
 * in this one: something in between took it away (issue "Joining": a
 * stripped STARTTLS need not leave an XXXXXXXA behind). */
static void stripped_by_server(const struct join *j, const struct smtp_connection *c,
			       struct hop *h)
{
	if (!c->conv.ehlo_replied || c->conv.starttls_offered || h->tls.used != TRI_NO ||
	    h->tls.stripped == TRI_YES || !learn_offered(j->learn, c->server, c->sport))
		return;
	h->tls.stripped = TRI_YES;
	h->tls.downgrade = DOWNGRADE_STRIPPED;
	char b[600];
	snprintf(b, sizeof b, "%s; this server offered STARTTLS to other sessions in "
		 "the capture, but its EHLO reply in this one did not: it was stripped "
		 "on the way", h->basis ? h->basis : "");
	hop_set_basis(h, b);
}

static void add_record(struct message *m, void *arg)
{
	struct join *j = arg;
	const struct smtp_connection *c = j->cur;
	if (j->mode == LEARN) {
		if (j->emit)	/* no logs: straight out */
			j->emit(m, j->emit_arg);
		else
			learn_record(j->learn, m, c);
		if (!j->emit) {
			j->nrecords++;
			message_free(m);
		}
		return;
	}
	struct capfile *f = j->curfile;
	size_t ord = f->nrec++;
	if (j->mode == EMIT) {
		if (bit_get(&f->used, ord)) {
			message_free(m);
			return;
		}
		stripped_by_server(j, c, &m->inbound);
		j->emit(m, j->emit_arg);
		return;
	}
	/* WINDOW: a record already past the window's back edge leaves at once */
	if ((long long)c->last_ts + JOIN_WINDOW < j->pumped - JOIN_AHEAD - JOIN_RETAIN) {
		if ((long long)c->last_ts + JOIN_WINDOW > j->edge)
			j->edge = c->last_ts + JOIN_WINDOW;
		message_free(m);
		return;
	}
	stripped_by_server(j, c, &m->inbound);
	struct crec r = {
		.m = m, .conn = j->nconn, .file = f, .ord = ord,
		.cport = c->cport, .sport = c->sport,
		.first = c->first_ts, .last = c->last_ts,
		.first_us = (int64_t)c->first_ts * 1000000 + c->first_usec,
		.last_us = (int64_t)c->last_ts * 1000000 + c->last_usec,
		.saw_syn = c->saw_syn, .saw_close = c->saw_fin || c->saw_rst,
		.lmtp = c->conv.lmtp,
	};
	_Static_assert(sizeof r.client == sizeof c->client && sizeof r.server == sizeof c->server,
		       "a capture's addresses fit the window's record");
	memcpy(r.client, c->client, sizeof r.client);	/* NUL-terminated by capture.c */
	memcpy(r.server, c->server, sizeof r.server);
	window_push(j, &r);
}

/* The same TCP session captured on two machines (or twice on one) is one
 * connection: same endpoints, the same bytes each way, close in time
 * (the two clocks may differ).  Sessions are remembered by a 64-bit hash
 * of that key (a false match among SEEN_MAX of them: about 2^-32). */
static bool duplicate(struct join *j, const struct smtp_connection *c)
{
	/* The key in binary: the addresses with their NULs, then the numbers
	 * (no printf: this runs once a connection). */
	struct {
		char addrs[sizeof c->client + sizeof c->server];
		unsigned ports[2];
		unsigned long long bytes[2];
	} k;
	size_t cl = strnlen(c->client, sizeof c->client - 1), sl = strnlen(c->server, sizeof c->server - 1);
	memset(&k, 0, sizeof k);
	memcpy(k.addrs, c->client, cl);
	memcpy(k.addrs + cl + 1, c->server, sl);
	k.ports[0] = c->cport;
	k.ports[1] = c->sport;
	k.bytes[0] = c->conv.bytes_c;
	k.bytes[1] = c->conv.bytes_s;
	uint64_t h = ht_key_hash((const char *)&k, sizeof k);
	uintptr_t slot = (uintptr_t)ht_get(j->seen, (const char *)&h, sizeof h);
	if (slot) {
		struct seen *e = &j->seen_ring[slot - 1];
		if (e->first - c->first_ts <= 3600 && c->first_ts - e->first <= 3600) {
			j->duplicates++;
			return true;
		}
		e->first = c->first_ts;
		return false;
	}
	if (!j->seen_ring)
		j->seen_ring = xcalloc(SEEN_MAX, sizeof *j->seen_ring);
	size_t at = (j->seen_head + j->seen_n) % SEEN_MAX;
	if (j->seen_n == SEEN_MAX) {	/* forget the oldest, whose slot this is */
		ht_remove(j->seen, (const char *)&j->seen_ring[at].hash, sizeof h);
		j->seen_head = (j->seen_head + 1) % SEEN_MAX;
		j->seen_n--;
	}
	j->seen_ring[at] = (struct seen){ .hash = h, .first = c->first_ts };
	j->seen_n++;
	ht_put(j->seen, (const char *)&h, sizeof h, (void *)(at + 1));
	return false;
}

static struct capfile *file_of(struct join *j, int file_id)
{
	for (size_t i = 0; i < j->nfiles; i++)
		if (j->files[i].file_id == file_id)
			return &j->files[i];
	j->files = xrealloc(j->files, (j->nfiles + 1) * sizeof *j->files);
	struct capfile *f = &j->files[j->nfiles++];
	memset(f, 0, sizeof *f);
	f->file_id = file_id;
	return f;
}

void join_add_connection(struct join *j, struct smtp_connection *c)
{
	struct capfile *f = NULL;
	if (!j->emit) {
		f = file_of(j, c->file_id);
		f->nconn++;
	}
	if (c->conv.bytes_c + c->conv.bytes_s > 0 && duplicate(j, c)) {
		if (f)
			bit_set(&f->dup, f->nconn - 1);
		return;
	}
	if (!j->emit)
		learn_connection(j->learn, c);
	j->cur = c;
	capconn_messages(c, add_record, j);
	j->cur = NULL;
}

size_t join_nrecords(const struct join *j)
{
	return j->nrecords;
}

/* A connection of a file read again (pass 3 and the end). */
static void reread_connection(struct smtp_connection *c, void *arg)
{
	struct capfile *f = arg;
	struct join *j = f->j;
	if (c->retr)
		return;		/* IMAP, POP3: logins, never joined (pipeline) */
	if (bit_get(&f->dup, f->nconn++))
		return;
	j->cur = c;
	j->curfile = f;
	capconn_messages(c, add_record, j);
	j->cur = NULL;
	j->curfile = NULL;
	j->nconn++;
}

/* ---- pass 2 ------------------------------------------------------------------ */

void join_observe(struct join *j, const struct message *m)
{
	learn_observe(j->learn, m);
}

void join_set_skew_max(struct join *j, long bound)
{
	learn_set_bound(j->learn, bound);
}

void join_settle(struct join *j, bool fixed, long skew)
{
	learn_settle(j->learn, fixed, skew);
	j->offset = learn_offset(j->learn);
	j->precise = learn_precise(j->learn, &j->sl);
}

/* ---- pass 3: reading the captures in step ----------------------------------- */

void join_add_capture(struct join *j, const char *path, int file_id, time_t first_ts,
		      uint64_t packets)
{
	struct capfile *f = file_of(j, file_id);
	free(f->path);
	f->path = xstrdup(path);
	f->first_ts = first_ts;
	f->packets = packets;
}

void join_set_reading(struct join *j, const uint16_t *ports, size_t nports, int threads)
{
	if (nports > CAP_MAX_PORTS)
		nports = CAP_MAX_PORTS;
	memcpy(j->ports, ports, nports * sizeof *ports);
	j->nports = nports;
	j->threads = threads;
	if (!j->quiet)
		j->quiet = fopen("/dev/null", "w");
}

static void file_start(struct join *j, struct capfile *f)
{
	f->j = j;
	f->cr = capture_new(j->ports, j->nports, j->quiet ? j->quiet : stderr,
			    reread_connection, f);
	capture_set_threads(f->cr, j->threads);
	capture_set_limit(f->cr, f->packets);
	f->nconn = f->nrec = 0;
	f->open = true;
	if (!capture_open(f->cr, f->path, f->file_id, &f->st)) {
		f->done = true;
		/* read once, not again: its records cannot be joined or written */
		if (!f->reread_failed)
			fprintf(stderr, "%s: error: could not be read again to join it with the "
				"logs (%s): its connections are missing from the output\n", text_shown(f->path),
				f->st.error ? f->st.error : "?");
		f->reread_failed = true;
	}
}

static void file_pump(struct join *j, struct capfile *f, long long until)
{
	if (f->done || !f->path || !f->first_ts)
		return;
	if (!f->open) {
		if (until < (long long)f->first_ts)
			return;	/* not begun yet: opened when the log gets there */
		file_start(j, f);
		if (f->done)
			return;
	}
	time_t u = until > (long long)((time_t)1 << 62) ? (time_t)1 << 62 : (time_t)until;
	if (!capture_pump(f->cr, u)) {
		capture_close(f->cr);
		f->done = true;
	}
}

/* Back to the start of every capture, the window empty. */
static void rewind_captures(struct join *j)
{
	files_close(j);
	window_clear(j);
	j->pumped = LLONG_MIN;
	j->edge = LLONG_MIN;
}

static void advance(struct join *j, time_t ts)
{
	if (ts > j->hw || j->pumped == LLONG_MIN)
		j->hw = ts;
	long long target = (long long)j->hw + j->offset + JOIN_AHEAD;
	if (target > j->pumped) {
		j->pumped = target;
		j->mode = WINDOW;
		for (size_t i = 0; i < j->nfiles; i++)
			file_pump(j, &j->files[i], target);
	}
	window_release(j, (long long)j->hw + j->offset - JOIN_RETAIN);
}

void join_advance(struct join *j, time_t ts)
{
	/* A log gone back past the window: the captures start again. */
	if ((long long)ts + j->offset <= j->edge && j->rewinds < MAX_REWINDS) {
		j->rewinds++;
		rewind_captures(j);
	}
	advance(j, ts);
}

/* ---- pass 3: matching ---------------------------------------------------------- */

/* Is a log line (ts, usec) inside the connection, after the offset?  To
 * the microsecond when both stamps have it and the offset is known as
 * closely; else to the second, JOIN_WINDOW either side. */
static bool inside(const struct join *j, const struct crec *r, time_t ts, long usec)
{
	if (j->precise && usec >= 0) {
		int64_t t = (int64_t)ts * 1000000 + usec + j->sl.off_us;
		return t >= r->first_us - j->sl.line_us && t <= r->last_us + j->sl.line_us;
	}
	time_t t = ts + j->offset;
	return t >= r->first - JOIN_WINDOW && t <= r->last + JOIN_WINDOW;
}

/* Does the connection fit the hop's log line and, where the log saw them,
 * the session's edges?  smtpd(8) logs "disconnect from" as the session
 * closes: the capture's last packet is next to it.  "connect from" comes
 * when smtpd takes the connection, after its SYN - as much as
 * postscreen(8)'s tests later - so the capture's start may only come
 * before it, not after.  smtp(8)'s TLS line falls inside its connection.
 * To the second, the edges get JOIN_EDGE; to the microsecond, the slacks
 * measured on the exact matches (learn.h). */
static bool session_fits(const struct join *j, const struct crec *r, const struct hop *h,
			 bool inbound)
{
	if (!inside(j, r, h->ts, h->usec))
		return false;
	if (!inbound)
		return !h->sess_start || inside(j, r, h->sess_start, h->sess_start_usec);
	if (h->sess_end && r->saw_close) {
		if (j->precise && h->sess_end_usec >= 0) {
			int64_t d = (int64_t)h->sess_end * 1000000 + h->sess_end_usec + j->sl.off_us -
				    r->last_us;
			if (d > j->sl.end_us || -d > j->sl.end_us)
				return false;
		} else {
			long d = (long)(h->sess_end + j->offset - r->last);
			if (d > JOIN_EDGE || -d > JOIN_EDGE)
				return false;
		}
	}
	if (h->sess_start && r->saw_syn) {
		if (j->precise && h->sess_start_usec >= 0) {
			int64_t late = r->first_us - ((int64_t)h->sess_start * 1000000 +
						      h->sess_start_usec + j->sl.off_us);
			if (late > j->sl.start_us)
				return false;
		} else if ((long)(r->first - (h->sess_start + j->offset)) > JOIN_EDGE) {
			return false;
		}
	}
	return true;
}

/* The queue ID an arrival hop was written under: a content filter's
 * re-injection is this queue file's own, the real arrival the one the
 * client was told (message_arrival_qid). */
static const char *inbound_qid(const struct message *m, const struct hop *h)
{
	return h == m->filter_return ? m->qid : message_arrival_qid(m);
}

/* The connections that fit a hop, one record each (the first of its
 * connection), up to FIT_KEEP of them: what an ambiguous join compares. */
#define FIT_KEEP 32
struct fits {
	uint64_t v[FIT_KEEP];
	size_t n;
};

/* Of the candidate records, the connections that fit; returns how many
 * distinct connections, and in *pick the record to use when it is one;
 * all, when given, collects them. */
static size_t fit(struct join *j, const struct idlist *l, const struct message *m,
		  bool inbound, const struct hop *h, uint64_t *pick, struct fits *all)
{
	/* Lists hold records in capture order, so a connection's records
	 * are next to each other: count the changes of connection. */
	size_t nconn = 0, last_conn = (size_t)-1;
	*pick = UINT64_MAX;
	for (size_t i = l ? l->lo : 0; l && i < l->n; i++) {
		const struct crec *r = rec(j, l->v[i]);
		if (!session_fits(j, r, h, inbound))
			continue;
		/* LMTP hands a queue file to a mailbox store: it carries the
		 * message's Message-ID, but it is no arrival at the MTA */
		if (inbound && r->lmtp)
			continue;
		if (inbound && !learn_host_serves(j->learn, m, r->server, r->sport))
			continue;
		/* a delivery names the server's port; an arrival the client's
		 * when smtpd_client_port_logging is on */
		if (h->peer_port >= 0 && (inbound ? r->cport : r->sport) != h->peer_port)
			continue;
		/* A capture message whose queue ID is known is that message
		 * and no other: the receiving log's queue ID, or the one the
		 * next server named to the sender. */
		const char *want = inbound ? inbound_qid(m, h) : h->next_qid;
		if (r->m->qid && want && strcmp(r->m->qid, want) != 0)
			continue;
		if (r->conn != last_conn) {
			nconn++;
			last_conn = r->conn;
			if (all && all->n < FIT_KEEP)
				all->v[all->n++] = l->v[i];
		}
		/* Within a plaintext connection of several messages, the one
		 * this message is (same Message-ID), else the first. */
		if (*pick == UINT64_MAX || (m->message_id && r->m->message_id &&
					    strcmp(m->message_id, r->m->message_id) == 0))
			*pick = l->v[i];
	}
	return nconn;
}

/* The capture records for this log message's queue ID, else for its
 * Message-ID (a weaker key: copies of one message reach several servers,
 * so it counts only when it names one connection the host answers on). */
static const struct idlist *exact_inbound(const struct join *j, const struct message *m,
					   const struct hop *h)
{
	const struct idlist *l = idx_get(j->by_qid, inbound_qid(m, h));
	if (!l || l->lo == l->n)
		l = idx_get(j->by_mid, m->message_id);
	return l && l->lo < l->n ? l : NULL;
}

static void mark_used(struct join *j, struct crec *r)
{
	if (!bit_get(&r->file->used, r->ord)) {
		bit_set(&r->file->used, r->ord);
		j->nused++;
	}
}

static void merge(struct join *j, struct hop *h, struct crec *r, const char *how)
{
	const struct hop *c = &r->m->inbound;
	struct tls_state *L = &h->tls;
	const struct tls_state *C = &c->tls;
	char detail[300] = "";
	mark_used(j, r);
	j->joined++;
	for (size_t i = 0; i < c->nev; i++)
		hop_add_ev(h, c->ev[i]);
	h->joined = true;
	if (C->used != TRI_UNKNOWN && L->used != TRI_UNKNOWN && C->used != L->used) {
		snprintf(detail, sizeof detail, "the log says TLS %s, the capture shows %s",
			 L->used == TRI_YES ? "was used" : "was not used",
			 C->used == TRI_YES ? "TLS" : "plaintext");
	} else if (C->version && L->version && C->version != L->version) {
		snprintf(detail, sizeof detail, "the log says %s, the capture shows %s",
			 tls_version_name(L->version), tls_version_name(C->version));
	}
	if (detail[0]) {
		h->conflict = true;
		free(h->conflict_detail);
		h->conflict_detail = xstrdup(detail);
		j->conflicts++;
	} else {
		tls_state_fill_session(L, C);	/* what the log lacks, the capture gives */
	}
	if (C->stripped != TRI_UNKNOWN)
		L->stripped = C->stripped;
	if (!L->downgrade)
		L->downgrade = C->downgrade;
	if (L->offered == TRI_UNKNOWN)
		L->offered = C->offered;
	if (!L->cipher_openssl)
		L->cipher_openssl = xstrdup_or_null(C->cipher_openssl);
	if (!L->sni)
		L->sni = xstrdup_or_null(C->sni);
	if (!L->offered_max)
		L->offered_max = xstrdup_or_null(C->offered_max);
	if (!L->cert_subject && C->cert_subject) {
		L->cert_subject = xstrdup_or_null(C->cert_subject);
		L->cert_issuer = xstrdup_or_null(C->cert_issuer);
		L->cert_not_before = C->cert_not_before;
		L->cert_not_after = C->cert_not_after;
		L->cert_self_signed = C->cert_self_signed;
	}
	char b[700];
	snprintf(b, sizeof b, "%s; joined with a capture connection (%s): %s",
		 h->basis ? h->basis : "no log evidence", how, c->basis ? c->basis : "");
	hop_set_basis(h, b);
}

/* Several connections fit the hop equally (a whole-second log with many
 * connections to one server in a second).  None is merged; but where all
 * of them agree on the session's facts - TLS used, version, cipher - the
 * hop takes what it lacks of those and says so (join_unanimous), and
 * every one of them is a connection a log hop accounts for: none is
 * written again as a capture-only record. */
static void unanimous(struct join *j, struct hop *h, const struct fits *all, size_t n)
{
	for (size_t i = 0; i < all->n; i++)
		mark_used(j, rec(j, all->v[i]));
	if (all->n < n)
		return;		/* more fit than were kept: not compared */
	const struct tls_state *a = &rec(j, all->v[0])->m->inbound.tls;
	if (a->used == TRI_UNKNOWN)
		return;
	for (size_t i = 1; i < all->n; i++) {
		const struct tls_state *b = &rec(j, all->v[i])->m->inbound.tls;
		bool same_cipher = a->cipher == b->cipher ||
				   (a->cipher && b->cipher && strcmp(a->cipher, b->cipher) == 0);
		if (b->used != a->used || b->version != a->version || !same_cipher)
			return;
	}
	const struct tls_state *L = &h->tls;
	if ((L->used != TRI_UNKNOWN && L->used != a->used) ||
	    (L->version && a->version && L->version != a->version))
		return;		/* the log disagrees: nothing to fill */
	if (tls_state_fill_session(&h->tls, a)) {
		char b[700];
		snprintf(b, sizeof b, "%s; the %zu capture connections that fit this hop all "
			 "show the same session facts, filled in from them",
			 h->basis ? h->basis : "no log evidence", n);
		hop_set_basis(h, b);
	}
	if (h->tls.offered == TRI_UNKNOWN)
		h->tls.offered = a->offered;
	h->join_unanimous = true;
	j->unanimous++;
}

/* A delivery whose identical retries were folded into one hop made a
 * connection for each: those to its server and port between the first
 * and the last retry are its, not capture-only records.  Only the ones
 * still in the join's window are seen (a retry more than 10 minutes before the
 * hop is joined may still come out as a capture record). */
static void folded_connections(struct join *j, const struct idlist *l, const struct hop *h)
{
	time_t lo = h->ts + j->offset - JOIN_WINDOW, hi = h->last_attempt + j->offset + JOIN_WINDOW;
	for (size_t i = l ? l->lo : 0; l && i < l->n; i++) {
		struct crec *r = rec(j, l->v[i]);
		if (r->last >= lo && r->first <= hi)
			mark_used(j, r);
	}
}

static void join_hop(struct join *j, struct message *m, struct hop *h, bool inbound)
{
	uint64_t pick;
	/* Exact: the queue ID the next server named, or this message's own. */
	const struct idlist *ex = inbound ? exact_inbound(j, m, h)
					  : idx_get(j->by_qid, h->next_qid);
	if (ex && fit(j, ex, m, inbound, h, &pick, NULL) == 1 &&
	    (!inbound || strcmp(rec(j, pick)->client, h->peer_ip) == 0)) {
		j->exact++;
		merge(j, h, rec(j, pick), inbound ? "same queue ID or Message-ID"
						  : "the queue ID the next server named");
		return;
	}
	char sk[96];
	const struct idlist *l;
	if (inbound) {
		l = idx_get(j->by_client, h->peer_ip);
	} else {
		addr_port_key(sk, sizeof sk, h->peer_ip, h->peer_port >= 0 ? h->peer_port : 25);
		l = idx_get(j->by_server, sk);
	}
	if (!inbound && h->attempts > 1)
		folded_connections(j, l, h);
	struct fits all = { .n = 0 };
	size_t n = fit(j, l, m, inbound, h, &pick, &all);
	if (n == 1) {
		merge(j, h, rec(j, pick), inbound ? "client address and time"
						  : "relay address, port and time");
	} else if (n > 1) {
		h->join_ambiguous = (int)n;
		j->ambiguous++;
		unanimous(j, h, &all, n);
	}
}

/* Both of a content filter's connections carry the re-injected queue ID
 * (the filter answers with the next server's reply): the re-injection is
 * the one not made to the filter's own address and port. */
static void join_exact_return(struct join *j, struct message *m, struct hop *h)
{
	const struct idlist *ex = exact_inbound(j, m, h);
	const struct hop *f = m->filter_hop;
	struct crec *one = NULL;
	size_t nconn = 0, last_conn = (size_t)-1;
	for (size_t i = ex ? ex->lo : 0; ex && i < ex->n; i++) {
		struct crec *r = rec(j, ex->v[i]);
		if (!r->m->qid || strcmp(r->m->qid, m->qid) != 0 ||
		    strcmp(r->client, h->peer_ip) != 0 || !session_fits(j, r, h, true))
			continue;
		if (f && f->peer_ip && strcmp(r->server, f->peer_ip) == 0 &&
		    r->sport == f->peer_port)
			continue;	/* the hand-over itself */
		if (r->conn != last_conn) {
			nconn++;
			last_conn = r->conn;
			one = r;
		}
	}
	if (nconn == 1) {
		j->exact++;
		merge(j, h, one, "same queue ID");
	}
}

/* A hop over TCP: a network or loopback hop, or LMTP to this host's
 * mailbox store (local, but a connection with an address and port). */
static bool joinable(const struct hop *h)
{
	return h->peer_ip && (!h->local || h->peer_port >= 0);
}

static void hold_hop(struct join *j, struct message *m, long hop, time_t ts)
{
	if (j->nlate == j->caplate) {
		j->caplate = j->caplate ? j->caplate * 2 : 16;
		j->late = xrealloc(j->late, j->caplate * sizeof *j->late);
	}
	j->late[j->nlate] = (struct late){ .m = m, .hop = hop, .ts = ts, .order = j->nlate };
	j->nlate++;
}

bool join_message(struct join *j, struct message *m)
{
	if (m->inbound.source != SRC_LOG)
		return true;
	size_t before = j->nlate;
	/* A hop whose connections may have left the window waits for the end. */
	if (m->has_inbound && joinable(&m->inbound)) {
		if ((long long)m->inbound.ts + j->offset <= j->edge)
			hold_hop(j, m, -1, m->inbound.ts);
		else
			join_hop(j, m, &m->inbound, true);
	}
	for (size_t i = 0; i < m->ndl; i++) {
		if (!joinable(&m->dl[i]))
			continue;
		if ((long long)m->dl[i].ts + j->offset <= j->edge)
			hold_hop(j, m, (long)i, m->dl[i].ts);
		else
			join_hop(j, m, &m->dl[i], false);
	}
	/* The hand-over to a content filter is this message's connection
	 * too (its server and port are in the log), and so is the filter's
	 * re-injection - joined only by the queue ID the capture shows, since
	 * by address it is one of every connection this host's loopback
	 * address makes. */
	struct hop *fh = m->filter_hop;
	if (fh && fh->peer_ip) {
		if ((long long)fh->ts + j->offset <= j->edge)
			hold_hop(j, m, HOP_FILTER, fh->ts);
		else
			join_hop(j, m, fh, false);
	}
	if (m->filter_return && m->filter_return->peer_ip)
		join_exact_return(j, m, m->filter_return);
	if (j->nlate == before)
		return true;
	if (j->nheld == j->capheld) {
		j->capheld = j->capheld ? j->capheld * 2 : 16;
		j->held = xrealloc(j->held, j->capheld * sizeof *j->held);
	}
	j->held[j->nheld++] = m;
	return false;
}

void join_stream_to(struct join *j, message_fn emit, void *arg)
{
	j->emit = emit;
	j->emit_arg = arg;
}

static int cmp_late(const void *a, const void *b)
{
	const struct late *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

void join_finish(struct join *j, message_fn emit, void *arg)
{
	/* The held hops, oldest first, with the captures read from the start
	 * once more: the same window each would have had in its time. */
	if (j->nlate) {
		rewind_captures(j);
		qsort(j->late, j->nlate, sizeof *j->late, cmp_late);
		for (size_t i = 0; i < j->nlate; i++) {
			struct late *l = &j->late[i];
			advance(j, l->ts);
			if (l->hop == HOP_FILTER)
				join_hop(j, l->m, l->m->filter_hop, false);
			else if (l->hop < 0)
				join_hop(j, l->m, &l->m->inbound, true);
			else
				join_hop(j, l->m, &l->m->dl[l->hop], false);
		}
		j->nlate = 0;
	}
	for (size_t i = 0; i < j->nheld; i++)
		emit(j->held[i], arg);
	j->nheld = 0;
	rewind_captures(j);
	if (j->nused >= j->nrecords)
		return;
	/* What no log hop took, file after file in capture order. */
	j->mode = EMIT;
	j->emit = emit;
	j->emit_arg = arg;
	for (size_t i = 0; i < j->nfiles; i++) {
		struct capfile *f = &j->files[i];
		if (!f->path || !f->first_ts)
			continue;
		file_start(j, f);
		while (!f->done && capture_pump(f->cr, (time_t)1 << 62))
			;
		capture_close(f->cr);
		f->done = true;
	}
	files_close(j);
	j->emit = NULL;
}

size_t join_reread_failures(const struct join *j)
{
	size_t n = 0;
	for (size_t i = 0; i < j->nfiles; i++)
		n += j->files[i].reread_failed;
	return n;
}

void join_report(const struct join *j, FILE *f)
{
	char how[300];
	learn_describe(j->learn, how, sizeof how);
	fprintf(f, "tlswitness: join: capture clock at %+ld s against the logs (%s); %lu log "
		"hops joined with capture connections (%lu exactly), %lu ambiguous (%lu of them "
		"unanimous), %lu in conflict; %lu duplicate capture connection%s\n", j->offset, how,
		j->joined, j->exact, j->ambiguous, j->unanimous, j->conflicts, j->duplicates,
		j->duplicates == 1 ? "" : "s");
}
