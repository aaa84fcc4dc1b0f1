/* capture.c - libpcap offline reading, the flow table and TCP reassembly.
 * Reassembly per direction (RFC 9293 sequence space, modulo 2^32):
 * in-order bytes go straight to the SMTP conversation; retransmitted and
 * overlapping bytes are trimmed; out-of-order segments wait in a bounded
 * list; when it overflows or the flow ends, the hole is reported as a gap
 * and the stream resynchronises after it.  Connections seen from one side
 * only, or starting mid-stream, are followed from their first byte.
 * Memory: at most CAP_MAX_FLOWS flows and CAP_MAX_OOO_BYTES waiting bytes
 * per direction; a flow is freed when it closes (FIN both ways, RST, idle
 * for CAP_IDLE seconds of capture time) or the capture ends. */
#include "capture.h"
#include "../util/textsafe.h"
#include "linesrc.h"
#include "netdecode.h"
#include "../util/hashtab.h"
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

struct seg {
	struct seg *next;
	uint32_t seq;
	size_t len;
	uint64_t frame;
	time_t ts;
	uint8_t data[];
};

struct half {
	bool init, fin;
	uint32_t next;
	struct seg *ooo;
	size_t ooo_bytes;
};

struct flow {
	struct smtp_connection c;
	uint8_t key[40];
	size_t klen;
	uint8_t cli[16];	/* the client's address and port, to orient packets */
	uint16_t cli_port;
	struct half h[2];	/* 0: client to server, 1: server to client */
	struct capture_reader *cr;	/* for the global out-of-order budget */
	time_t last;
	bool done;
};

struct capture_reader {
	uint16_t ports[CAP_MAX_PORTS];
	size_t nports;
	FILE *warn;
	connection_fn fn;
	void *arg;
	struct hashtab *flows;
	int file_id;
	struct capture_stats *st;
	uint64_t frame;
	time_t now;
	time_t good_ts;		/* the last frame with a possible stamp */
	long good_usec;
	size_t ooo_total;	/* out-of-order bytes held over all flows */
	bool prefetch;		/* read and decompress on a second thread */
	struct flow *last;	/* the flow of the last segment, or NULL */
	uint64_t max_frames;	/* capture_set_limit, 0: none */
	/* the file being read (capture_open .. capture_close) */
	pcap_t *pc;
	struct linesrc *ls;
	int dlt;
};

struct capture_reader *capture_new(const uint16_t *ports, size_t nports, FILE *warn,
				   connection_fn fn, void *arg)
{
	struct capture_reader *cr = xcalloc(1, sizeof *cr);
	static const uint16_t def[] = { 25, 587, 2525, 465, 143, 993, 110, 995 };
	if (!nports) {
		ports = def;
		nports = sizeof def / sizeof *def;
	}
	if (nports > CAP_MAX_PORTS)
		nports = CAP_MAX_PORTS;
	memcpy(cr->ports, ports, nports * sizeof *ports);
	cr->nports = nports;
	cr->warn = warn;
	cr->fn = fn;
	cr->arg = arg;
	cr->flows = ht_new();
	return cr;
}

void capture_stats_free(struct capture_stats *st)
{
	free(st->path);
	free(st->error);
	memset(st, 0, sizeof *st);
}

/* The retrieval protocols by their IANA ports (RFC 9051, RFC 1939, RFC
 * 8314 for the implicit-TLS 993 and 995); false for the SMTP family. */
static bool retrieval_port(uint16_t p, enum retr_proto *proto, bool *implicit_tls)
{
	*implicit_tls = p == 993 || p == 995;
	if (p == 143 || p == 993)
		*proto = RP_IMAP;
	else if (p == 110 || p == 995)
		*proto = RP_POP3;
	else
		return false;
	return true;
}

static bool smtp_port(const struct capture_reader *cr, uint16_t p)
{
	for (size_t i = 0; i < cr->nports; i++)
		if (cr->ports[i] == p)
			return true;
	return false;
}

/* Canonical key: the lower (address, port) first, so both directions
 * find the same flow. */
static size_t flow_key(const struct tcp_pkt *t, uint8_t *k)
{
	/* Every packet comes here: IPv4's compare and copies have a fixed
	 * size, so the compiler writes them inline. */
	bool v6 = t->family == 6;
	int c;
	if (v6) {
		c = memcmp(t->src, t->dst, 16);
	} else {
		uint32_t s = (uint32_t)t->src[0] << 24 | (uint32_t)t->src[1] << 16 |
			     (uint32_t)t->src[2] << 8 | t->src[3];
		uint32_t d = (uint32_t)t->dst[0] << 24 | (uint32_t)t->dst[1] << 16 |
			     (uint32_t)t->dst[2] << 8 | t->dst[3];
		c = s < d ? -1 : s > d;
	}
	bool src_first = c < 0 || (c == 0 && t->sport <= t->dport);
	const uint8_t *a = src_first ? t->src : t->dst, *b = src_first ? t->dst : t->src;
	uint16_t pa = src_first ? t->sport : t->dport, pb = src_first ? t->dport : t->sport;
	size_t n = 0;
	k[n++] = (uint8_t)t->family;
	if (v6) {
		memcpy(k + n, a, 16);
		memcpy(k + n + 16, b, 16);
		n += 32;
	} else {
		memcpy(k + n, a, 4);
		memcpy(k + n + 4, b, 4);
		n += 8;
	}
	k[n++] = (uint8_t)(pa >> 8);
	k[n++] = (uint8_t)pa;
	k[n++] = (uint8_t)(pb >> 8);
	k[n++] = (uint8_t)pb;
	return n;
}

static void deliver(struct flow *f, int dir, const uint8_t *p, size_t n, uint64_t frame,
		    time_t ts)
{
	if (!n)
		return;
	if (f->c.retr)
		retr_conv_data(f->c.retr, dir == 0, p, n, frame);
	else
		smtp_conv_data(&f->c.conv, dir == 0, p, n, frame, ts);
}

static void gap(struct flow *f, int dir, uint64_t bytes)
{
	f->c.gaps++;
	f->c.gap_bytes += bytes;
	if (f->c.retr)
		retr_conv_gap(f->c.retr, dir == 0, bytes);
	else
		smtp_conv_gap(&f->c.conv, dir == 0, bytes);
}

/* Deliver waiting segments that are now in order. */
static void drain(struct flow *f, int dir)
{
	struct half *h = &f->h[dir];
	while (h->ooo) {
		struct seg *s = h->ooo;
		int32_t d = (int32_t)(s->seq - h->next);
		if (d > 0)
			return;
		h->ooo = s->next;
		h->ooo_bytes -= s->len;
		f->cr->ooo_total -= s->len;
		if ((int64_t)d + (int64_t)s->len > 0) {
			size_t skip = (size_t)-d;
			deliver(f, dir, s->data + skip, s->len - skip, s->frame, s->ts);
			h->next += (uint32_t)(s->len - skip);
		} else {
			f->c.retrans++;
		}
		free(s);
	}
}

/* Give up on the hole before the first waiting segment. */
static void skip_hole(struct flow *f, int dir)
{
	struct half *h = &f->h[dir];
	if (!h->ooo)
		return;
	gap(f, dir, (uint32_t)(h->ooo->seq - h->next));
	h->next = h->ooo->seq;
	drain(f, dir);
}

static void segment(struct flow *f, int dir, const struct tcp_pkt *t, uint64_t frame, time_t ts)
{
	struct half *h = &f->h[dir];
	uint32_t seq = t->seq;
	if (t->flags & TCP_SYN) {
		h->init = true;
		h->next = seq + 1;
		seq++;
		f->c.saw_syn = true;
	}
	if (t->wire_len) {
		if (!h->init) {
			h->init = true;
			h->next = seq;
			f->c.mid_stream = !f->c.saw_syn;
		}
		int32_t d = (int32_t)(seq - h->next);
		const uint8_t *p = t->payload;
		size_t n = t->len;
		/* Bytes cut by the snap length are a hole of their own. */
		size_t missing = t->wire_len - t->len;
		if (d < 0) {
			if ((int64_t)d + (int64_t)n <= 0) {
				f->c.retrans++;
				n = 0;
			} else {
				p += (size_t)-d;
				n -= (size_t)-d;
				d = 0;
			}
		}
		if (d == 0 && (n || missing)) {
			deliver(f, dir, p, n, frame, ts);
			h->next += (uint32_t)n;
			if (missing && (int64_t)d + (int64_t)t->wire_len > 0) {
				gap(f, dir, missing);
				h->next += (uint32_t)missing;
			}
			drain(f, dir);
		} else if (n) {
			if (h->ooo_bytes + n > CAP_MAX_OOO_BYTES ||
			    f->cr->ooo_total + n > CAP_MAX_OOO_TOTAL) {
				f->cr->st->ooo_overflows++;
				skip_hole(f, dir);
				d = (int32_t)(seq - h->next);
				if (d > 0) {
					gap(f, dir, (uint32_t)d);
					h->next = seq;
				}
				if (d >= 0) {
					deliver(f, dir, p, n, frame, ts);
					h->next += (uint32_t)n;
					drain(f, dir);
				}
			} else {
				struct seg *s = xmalloc(sizeof *s + n);
				s->seq = seq;
				s->len = n;
				s->frame = frame;
				s->ts = ts;
				memcpy(s->data, p, n);
				struct seg **pp = &h->ooo;
				while (*pp && (int32_t)((*pp)->seq - seq) <= 0)
					pp = &(*pp)->next;
				s->next = *pp;
				*pp = s;
				h->ooo_bytes += n;
				f->cr->ooo_total += n;
			}
		}
		/* Short captures of retransmitted SYN data etc. need no more. */
	}
	if (t->flags & TCP_FIN) {
		h->fin = true;
		f->c.saw_fin = true;
	}
	if (t->flags & TCP_RST)
		f->c.saw_rst = true;
}

static void flow_free_conv(struct flow *f)
{
	smtp_conv_free(&f->c.conv);
	if (f->c.retr) {
		retr_conv_free(f->c.retr);
		free(f->c.retr);
		f->c.retr = NULL;
	}
}

static void finish(struct capture_reader *cr, struct flow *f)
{
	for (int dir = 0; dir < 2; dir++)
		while (f->h[dir].ooo)
			skip_hole(f, dir);
	cr->fn(&f->c, cr->arg);
	flow_free_conv(f);
	free(f);
}

/* A flow dropped unreported: a read stopped before the end. */
static void flow_free_quietly(void *p)
{
	struct flow *f = p;
	for (int dir = 0; dir < 2; dir++)
		for (struct seg *s = f->h[dir].ooo, *n; s; s = n) {
			n = s->next;
			free(s);
		}
	flow_free_conv(f);
	free(f);
}

static void flow_close(struct capture_reader *cr, struct flow *f)
{
	if (cr->last == f)
		cr->last = NULL;
	ht_remove(cr->flows, (const char *)f->key, f->klen);
	finish(cr, f);
}

struct flow_list {
	struct flow **v;
	size_t n, cap;
	time_t before;
};

static void collect_flow(const char *k, size_t kl, void *val, void *arg)
{
	(void)k;
	(void)kl;
	struct flow_list *l = arg;
	struct flow *f = val;
	if (f->last >= l->before)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = f;
}

static int cmp_flow(const void *a, const void *b)
{
	const struct flow *x = *(struct flow *const *)a, *y = *(struct flow *const *)b;
	return x->c.first_frame < y->c.first_frame ? -1 : x->c.first_frame > y->c.first_frame;
}

/* Close every flow idle since before `before`, oldest first. */
static void close_idle(struct capture_reader *cr, time_t before)
{
	struct flow_list l = { .before = before };
	ht_foreach(cr->flows, collect_flow, &l);
	if (l.n)
		qsort(l.v, l.n, sizeof *l.v, cmp_flow);
	for (size_t i = 0; i < l.n; i++)
		flow_close(cr, l.v[i]);
	free(l.v);
}

static int cmp_last(const void *a, const void *b)
{
	const struct flow *x = *(struct flow *const *)a, *y = *(struct flow *const *)b;
	if (x->last != y->last)
		return x->last < y->last ? -1 : 1;
	return cmp_flow(a, b);
}

/* At the flow limit, close the quarter that has been silent longest:
 * one sort per CAP_MAX_FLOWS / 4 new flows, so a SYN flood costs little
 * and evicts the half-open connections it made, not the real ones. */
static void evict_oldest(struct capture_reader *cr)
{
	struct flow_list l = { .before = (time_t)1 << 62 };
	ht_foreach(cr->flows, collect_flow, &l);
	if (l.n)
		qsort(l.v, l.n, sizeof *l.v, cmp_last);
	size_t n = l.n / 4 ? l.n / 4 : l.n;
	for (size_t i = 0; i < n; i++)
		flow_close(cr, l.v[i]);
	cr->st->flows_dropped += n;
	free(l.v);
}

static struct flow *flow_new(struct capture_reader *cr, const struct tcp_pkt *t,
			     bool src_is_client, const enum retr_proto *greeted, uint64_t frame,
			     time_t ts)
{
	if (ht_count(cr->flows) >= CAP_MAX_FLOWS)
		evict_oldest(cr);
	struct flow *f = xcalloc(1, sizeof *f);
	f->cr = cr;
	f->klen = flow_key(t, f->key);
	const uint8_t *cli = src_is_client ? t->src : t->dst, *srv = src_is_client ? t->dst : t->src;
	memcpy(f->cli, cli, 16);
	f->cli_port = src_is_client ? t->sport : t->dport;
	f->c.file_id = cr->file_id;
	f->c.family = t->family;
	addr_format(t->family, cli, f->c.client, sizeof f->c.client);
	addr_format(t->family, srv, f->c.server, sizeof f->c.server);
	f->c.cport = f->cli_port;
	f->c.sport = src_is_client ? t->dport : t->sport;
	f->c.vlan = t->vlan;
	f->c.first_ts = ts;
	f->c.first_frame = frame;
	smtp_conv_init(&f->c.conv, f->c.sport == 465);
	enum retr_proto rp;
	bool implicit;
	if (greeted || retrieval_port(f->c.sport, &rp, &implicit)) {
		if (greeted) {
			rp = *greeted;
			implicit = false;
		}
		f->c.retr = xmalloc(sizeof *f->c.retr);
		retr_conv_init(f->c.retr, rp, implicit);
		cr->st->retrieval++;
	}
	ht_put(cr->flows, (const char *)f->key, f->klen, f);
	cr->st->flows++;
	return f;
}

static void packet(struct capture_reader *cr, int dlt, const struct pcap_pkthdr *hdr,
		   const uint8_t *data)
{
	struct capture_stats *st = cr->st;
	time_t ts = hdr->ts.tv_sec;
	long usec = (long)hdr->ts.tv_usec;
	/* A stamp no capture was made at (0, negative, 0xffffffff - 2106, a
	 * microsecond field of a second or more) would put a connection's end
	 * before its start: the frame keeps the previous frame's time. */
	if (ts < CAP_TS_MIN || ts > CAP_TS_MAX || usec < 0 || usec >= 1000000) {
		if (!st->bad_ts++)
			st->bad_ts_frame = cr->frame;
		ts = cr->good_ts;
		usec = cr->good_usec;
	} else {
		cr->good_ts = ts;
		cr->good_usec = usec;
	}
	cr->now = ts;
	if (!st->first_ts)
		st->first_ts = ts;
	st->last_ts = ts;
	struct tcp_pkt t;
	enum decode_result r = decode_packet(dlt, data, hdr->caplen, &t);
	if (r == DEC_TRUNCATED) {
		st->truncated++;
		return;
	}
	if (r != DEC_TCP) {
		st->not_tcp++;
		return;
	}
	uint8_t key[40];
	size_t klen = flow_key(&t, key);
	/* Segments come in runs of one connection (both directions share
	 * the key): the last flow is checked before the table. */
	struct flow *f = cr->last;
	if (!f || f->klen != klen || memcmp(f->key, key, klen) != 0)
		f = ht_get(cr->flows, (const char *)key, klen);
	if (!f) {
		bool src_client;
		enum retr_proto greeting;
		const enum retr_proto *greeted = NULL;
		if (smtp_port(cr, t.dport))
			src_client = true;
		else if (smtp_port(cr, t.sport))
			src_client = false;
		else if (t.len && smtp_looks_like_banner(t.payload, t.len))
			src_client = false;	/* SMTP on another port */
		else if (t.len && retr_looks_like_greeting(t.payload, t.len, &greeting)) {
			src_client = false;	/* IMAP or POP3 on another port */
			greeted = &greeting;
		} else {
			st->other_ports++;
			return;
		}
		/* Only a SYN or data opens a flow: the last ACK of a closed
		 * connection must not look like a new one. */
		if (!(t.flags & TCP_SYN) && !t.len) {
			st->used++;
			return;
		}
		f = flow_new(cr, &t, src_client, greeted, cr->frame, ts);
		if (!f)
			return;
		f->c.first_usec = usec;
	}
	cr->last = f;
	st->used++;
	if (t.wire_len > t.len)
		st->snapped++;
	size_t al = t.family == 6 ? 16 : 4;
	int dir = (memcmp(t.src, f->cli, al) == 0 && t.sport == f->cli_port) ? 0 : 1;
	segment(f, dir, &t, cr->frame, ts);
	f->last = ts;
	f->c.last_ts = ts;
	f->c.last_usec = usec;
	f->c.last_frame = cr->frame;
	if (f->c.saw_rst || (f->h[0].fin && f->h[1].fin))
		flow_close(cr, f);
}

/* libpcap reads a FILE *; the line source's byte stream provides it, so a
 * capture is hashed as it is read (the manifest needs no second pass),
 * gzip is inflated by zlib, and both run on a second thread when asked. */
static ssize_t src_read(void *cookie, char *buf, size_t size)
{
	long n = ls_read(cookie, buf, size);
	if (n < 0)
		errno = EIO;	/* what went wrong is the line source's (ls_error) */
	return n < 0 ? -1 : (ssize_t)n;
}

static int src_close(void *cookie)
{
	(void)cookie;	/* closed by capture_read, after the hash is taken */
	return 0;
}

static void fail(struct capture_reader *cr, const char *msg)
{
	free(cr->st->error);
	cr->st->error = xstrdup(msg);
	cr->st->failed = true;
	fprintf(cr->warn, "%s: error: %s\n", text_shown(cr->st->path), msg);
}

bool capture_open(struct capture_reader *cr, const char *path, int file_id,
		  struct capture_stats *st)
{
	memset(st, 0, sizeof *st);
	st->path = xstrdup(path);
	cr->st = st;
	cr->file_id = file_id;
	cr->frame = 0;
	cr->good_ts = 0;
	cr->good_usec = 0;
	cr->last = NULL;
	cr->pc = NULL;
	cr->ls = NULL;
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct buf open_why;
	buf_init(&open_why);
	struct linesrc *ls = ls_open(path, &open_why);
	if (!ls) {
		fail(cr, open_why.p);
		buf_free(&open_why);
		return false;
	}
	buf_free(&open_why);
	st->gzip = ls_is_gzip(ls);
	if (cr->prefetch)
		ls_prefetch(ls);
	cookie_io_functions_t io = { .read = src_read, .close = src_close };
	FILE *fp = fopencookie(ls, "rb", io);
	if (!fp) {
		fail(cr, strerror(errno));
		ls_close(ls);
		return false;
	}
	setvbuf(fp, NULL, _IOFBF, 256 << 10);
	pcap_t *pc = pcap_fopen_offline(fp, errbuf);
	if (!pc) {
		fclose(fp);
		ls_close(ls);
		char why[PCAP_ERRBUF_SIZE + 64];
		snprintf(why, sizeof why, "not a readable pcap or pcapng capture: %s", errbuf);
		fail(cr, why);
		return false;
	}
	int dlt = pcap_datalink(pc);
	st->link = link_name(dlt);
	if (!link_supported(dlt)) {
		char why[128];
		snprintf(why, sizeof why, "link type %d (%s) is not one tlswitness decodes",
			 dlt, pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?");
		fail(cr, why);
		pcap_close(pc);
		ls_close(ls);
		return false;
	}
	cr->pc = pc;
	cr->ls = ls;
	cr->dlt = dlt;
	return true;
}

/* One pump: libpcap hands the frames over in a loop of its own
 * (pcap_dispatch), broken off where the pump stops. */
struct pump {
	struct capture_reader *cr;
	time_t until;
	bool limited;		/* stopped at max_frames */
	bool paused;		/* stopped at until: more to come */
};

static void on_frame(u_char *arg, const struct pcap_pkthdr *hdr, const u_char *data)
{
	struct pump *pu = (struct pump *)(void *)arg;
	struct capture_reader *cr = pu->cr;
	if (cr->max_frames && cr->frame >= cr->max_frames) {
		pu->limited = true;	/* as far as the first read went */
		pcap_breakloop(cr->pc);
		return;
	}
	cr->frame++;
	cr->st->packets++;
	packet(cr, cr->dlt, hdr, data);
	if (cr->frame % 65536 == 0)
		close_idle(cr, cr->now - CAP_IDLE);
	if (cr->now > pu->until) {
		pu->paused = true;
		pcap_breakloop(cr->pc);	/* the next frame stays unread */
	}
}

bool capture_pump(struct capture_reader *cr, time_t until)
{
	if (!cr->pc)
		return false;
	struct pump pu = { cr, until, false, false };
	int rc;
	while ((rc = pcap_dispatch(cr->pc, -1, on_frame, (u_char *)(void *)&pu)) > 0)
		;
	if (rc == PCAP_ERROR_BREAK) {
		if (pu.paused)
			return true;
		rc = 0;		/* limited */
	}
	bool limited = pu.limited;
	if (rc == PCAP_ERROR) {
		/* a read that failed below libpcap (truncated or corrupt gzip,
		 * an I/O error) says why in the line source, not in errno */
		const char *below = ls_error(cr->ls);
		char why[PCAP_ERRBUF_SIZE + 320];
		snprintf(why, sizeof why, "capture cut or damaged after frame %llu (%s); "
			 "the frames before it were read", (unsigned long long)cr->frame,
			 below && below[0] ? below : pcap_geterr(cr->pc));
		fail(cr, why);
	}
	/* The capture's connections end with it. */
	close_idle(cr, (time_t)1 << 62);
	struct capture_stats *st = cr->st;
	pcap_close(cr->pc);	/* closes fp, not ls */
	cr->pc = NULL;
	/* Whatever libpcap left unread still belongs to the file's hash. */
	char *rest = xmalloc(65536);
	long n = limited ? -1 : 0;
	while (!limited && (n = ls_read(cr->ls, rest, 65536)) > 0)
		;
	free(rest);
	if (n == 0) {
		ls_sha256(cr->ls, st->sha256);
		st->bytes_in = ls_stats(cr->ls)->bytes_in;
		st->mtime = ls_mtime(cr->ls);
	}
	ls_close(cr->ls);
	cr->ls = NULL;
	return false;
}

void capture_close(struct capture_reader *cr)
{
	if (cr->pc) {	/* stopped early: what was open is dropped, not reported */
		ht_free(cr->flows, flow_free_quietly);
		cr->flows = ht_new();
		cr->last = NULL;
		cr->ooo_total = 0;
		pcap_close(cr->pc);
		cr->pc = NULL;
	}
	if (cr->ls) {
		ls_close(cr->ls);
		cr->ls = NULL;
	}
}

bool capture_read(struct capture_reader *cr, const char *path, int file_id,
		  struct capture_stats *st)
{
	if (!capture_open(cr, path, file_id, st))
		return false;
	while (capture_pump(cr, (time_t)1 << 62))
		;
	capture_close(cr);
	return !st->failed;
}

void capture_set_limit(struct capture_reader *cr, uint64_t frames)
{
	cr->max_frames = frames;
}

void capture_set_threads(struct capture_reader *cr, int threads)
{
	cr->prefetch = threads > 1;
}

void capture_free(struct capture_reader *cr)
{
	if (!cr)
		return;
	capture_close(cr);
	ht_free(cr->flows, NULL);
	free(cr);
}
