/* users.c - --format users: one JSON record per user who logged in to
 * Dovecot (IMAP, POP3, submission, ManageSieve): logins, failed ones, how
 * many over TLS and in clear, the peers of the ones in clear, the
 * services, first and last time; then the manifest.  A login in clear
 * sent its password in clear (README "Retrieval").
 * Memory: one record per user, USERS_MAX of them (a further user's
 * logins go to one "other" record), USERS_PEERS peers each; the records
 * are passed on as they are written. */
#include "users.h"
#include "jsonw.h"
#include "manifest.h"
#include "pseudo.h"
#include "../util/hashtab.h"
#include <stdlib.h>
#include <string.h>

#define USERS_MAX 100000
#define USERS_PEERS 16

struct peer {
	char *ip, *service;
	unsigned long count;
};

/* A user: about 100 bytes, its name after it in the same block; its
 * services and its plaintext peers grow as they come (most users have one
 * service and no login in clear). */
struct user {
	char *name;			/* NULL: the "other" record */
	unsigned long logins, failed, tls, plain;
	char *services;			/* "imap pop3", at most SERVICES_MAX bytes */
	struct peer *peers;		/* npeers of them, at most USERS_PEERS */
	size_t npeers;
	unsigned long peers_past;	/* plaintext logins from further peers */
	time_t first, last;
};

#define SERVICES_MAX 63

struct users {
	struct writer_base base;
	struct hashtab *ht;
	struct user **v;
	size_t n, cap;
	struct user other;
};

static void *users_begin(struct buf *out, const struct writer_env *env)
{
	struct users *u = xcalloc(1, sizeof *u);
	u->base.out = out;
	u->base.env = env;
	u->ht = ht_new();
	return u;
}

static void user_free(struct user *x)
{
	for (size_t i = 0; i < x->npeers; i++) {
		free(x->peers[i].ip);
		free(x->peers[i].service);
	}
	free(x->peers);
	free(x->services);
}

static void users_free(void *w)
{
	struct users *u = w;
	if (!u)
		return;
	for (size_t i = 0; i < u->n; i++) {
		user_free(u->v[i]);
		free(u->v[i]);
	}
	user_free(&u->other);
	free(u->v);
	ht_free(u->ht, NULL);
	free(u);
}

static struct user *user_of(struct users *u, struct span name)
{
	struct user *x = ht_get(u->ht, name.p, name.n);
	if (x)
		return x;
	if (u->n >= USERS_MAX)
		return &u->other;
	x = xcalloc(1, sizeof *x + name.n + 1);
	x->name = (char *)(x + 1);
	memcpy(x->name, name.p, name.n);
	x->name[name.n] = '\0';
	ht_put(u->ht, x->name, name.n, x);
	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 64;
		u->v = xrealloc(u->v, u->cap * sizeof *u->v);
	}
	u->v[u->n++] = x;
	return x;
}

static void plain_peer(struct user *x, const struct evidence *ev)
{
	for (size_t i = 0; i < x->npeers; i++)
		if (span_eq(ev->peer_ip, x->peers[i].ip) && span_eq(ev->service, x->peers[i].service)) {
			x->peers[i].count++;
			return;
		}
	if (x->npeers == USERS_PEERS) {
		x->peers_past++;
		return;
	}
	if ((x->npeers & (x->npeers - 1)) == 0)	/* 0, 1, 2, 4, 8: full */
		x->peers = xrealloc(x->peers, (x->npeers ? 2 * x->npeers : 1) * sizeof *x->peers);
	x->peers[x->npeers++] = (struct peer){ span_dup(ev->peer_ip), span_dup(ev->service), 1 };
}

static void users_event(void *w, const struct evidence *ev)
{
	struct users *u = w;
	if (ev->kind != EV_LOGIN || !ev->sasl_username.n)
		return;		/* an aborted login before any user name: no user */
	struct user *x = user_of(u, ev->sasl_username);
	if (!x->first || ev->ts < x->first)
		x->first = ev->ts;
	if (ev->ts > x->last)
		x->last = ev->ts;
	char svc[24];
	size_t n = ev->service.n < sizeof svc - 1 ? ev->service.n : sizeof svc - 1;
	memcpy(svc, ev->service.p, n);
	svc[n] = '\0';
	bool have = false;
	const char *all = x->services ? x->services : "";
	size_t had = strlen(all);
	for (const char *p = all; (p = strstr(p, svc)) != NULL; p += n)
		if ((p == all || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			have = true;
	if (!have && had + n + 1 <= SERVICES_MAX) {	/* sized to fit: most have one */
		x->services = xrealloc(x->services, had + (had ? 1 : 0) + n + 1);
		if (had)
			x->services[had++] = ' ';
		memcpy(x->services + had, svc, n + 1);
	}
	if (!span_eq(ev->status, "login")) {
		x->failed++;
		return;
	}
	x->logins++;
	/* Dovecot's %c (ingest/dovecot.c): "TLS" is TLS, "secured" is not */
	if (span_starts(ev->security, "TLS") && !span_starts(ev->security, "TLS handshaking")) {
		x->tls++;
	} else {
		x->plain++;
		plain_peer(x, ev);
	}
}

static int cmp_user(const void *a, const void *b)
{
	return strcmp((*(struct user *const *)a)->name, (*(struct user *const *)b)->name);
}

static void user_json(struct users *u, const struct user *x)
{
	struct buf *b = u->base.out;
	bool f = true;
	buf_addc(b, '{');
	jw_kind(b, "user", &f);
	if (!x->name) {
		jw_str(b, "user", NULL, &f);
		jw_bool(b, "other", true, &f);
	} else if (u->base.env->pseudo) {
		char *p = pseudo_address(u->base.env->pseudo, x->name, strlen(x->name));
		jw_str(b, "user", p, &f);
		free(p);
	} else {
		jw_str(b, "user", x->name, &f);
	}
	jw_int(b, "logins", (long)x->logins, true, &f);
	jw_int(b, "failed", (long)x->failed, true, &f);
	jw_int(b, "tls", (long)x->tls, true, &f);
	jw_int(b, "plaintext", (long)x->plain, true, &f);
	jw_key(b, "tls_share", &f);
	if (x->logins)
		buf_printf(b, "%.3f", (double)x->tls / (double)x->logins);
	else
		buf_adds(b, "null");
	jw_key(b, "services", &f);
	buf_addc(b, '[');
	char svc[SERVICES_MAX + 1] = "";
	if (x->services)
		memcpy(svc, x->services, strlen(x->services) + 1);
	bool first = true;
	for (char *save = NULL, *t = strtok_r(svc, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (!first)
			buf_addc(b, ',');
		json_str(b, t);
		first = false;
	}
	buf_addc(b, ']');
	jw_key(b, "plaintext_peers", &f);
	buf_addc(b, '[');
	for (size_t i = 0; i < x->npeers; i++) {
		bool g = true;
		buf_adds(b, i ? ",{" : "{");
		jw_str(b, "peer_ip", x->peers[i].ip, &g);
		jw_str(b, "service", x->peers[i].service, &g);
		jw_int(b, "count", (long)x->peers[i].count, true, &g);
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
	if (x->peers_past)
		jw_int(b, "plaintext_peers_past", (long)x->peers_past, true, &f);
	jw_time(b, "first_seen", x->first, &f);
	jw_time(b, "last_seen", x->last, &f);
	buf_adds(b, "}\n");
}

static void users_finish(void *w, const struct writer_end *end)
{
	struct users *u = w;
	if (u->n)
		qsort(u->v, u->n, sizeof *u->v, cmp_user);
	for (size_t i = 0; i < u->n; i++) {
		user_json(u, u->v[i]);
		if (end->flush)	/* on as they come: 100,000 records not held */
			end->flush(end->flush_arg);
	}
	if (u->other.logins || u->other.failed)
		user_json(u, &u->other);
	manifest_json(u->base.out, end->man);
}

/* The table counts Dovecot's own lines: a login a capture also shows
 * would be counted twice (captures' logins are in --format events and
 * json, README "Retrieval"). */
static void users_connection(void *w, const struct smtp_connection *c,
			     const struct tls_state *t, const char *basis)
{
	(void)w, (void)c, (void)t, (void)basis;
}

const struct writer_class writer_users = {
	.name = "users",
	.input = WRITER_EVIDENCE,
	.begin = users_begin,
	.event = users_event,
	.connection = users_connection,
	.finish = users_finish,
	.free = users_free,
};
