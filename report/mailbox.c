/* mailbox.c - a delivery's mailbox and its owner's logins, found by a
 * second look at the logs (report/mailbox.h). */
#include "mailbox.h"
#include "../correlate/logins.h"
#include "../ingest/detect.h"
#include "../ingest/linesrc.h"
#include "../ingest/maillog.h"
#include "../ingest/scan.h"
#include "../rules/policy.h"
#include "../util/hashtab.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MBOX_LINE_MAX 2000
#define MBOX_KEPT_MAX 200000	/* logins of the owners kept while reading */

/* A login of a possible owner, as read: judged when it is told. */
struct kept {
	char *user;
	struct message *m;
	struct mbox_line at;
};

struct mbox_look {
	const struct writer_env *env;
	struct mbox_link *v;
	size_t n, cap;
	struct hashtab *by_session;	/* session -> link index + 1 */
	struct hashtab *names;		/* user names whose logins are kept */
	struct kept *kept;
	size_t nkept, capkept;
	unsigned long not_kept;
	time_t earliest;		/* of the deliveries asked about */
	size_t unread;
	bool second;			/* the look for owners not named before */
};

/* "250 2.0.0 <rcpt> ID Saved": the token before the closing " Saved",
 * after the recipient's '>' (read from the end: the address is the
 * sender's choice and may hold "> " itself). */
bool mbox_reply_session(const char *reply, char *out, size_t outlen)
{
	static const char tail[] = " Saved";
	if (!reply || strncmp(reply, "250 ", 4) != 0)
		return false;
	size_t n = strlen(reply), t = sizeof tail - 1;
	if (n < 4 + t || strcmp(reply + n - t, tail) != 0)
		return false;
	const char *end = reply + n - t, *id = end;
	while (id > reply && id[-1] != ' ')
		id--;
	if (id == end || id - reply < 6 || id[-1] != ' ' || id[-2] != '>' ||
	    (size_t)(end - id) >= outlen)
		return false;
	memcpy(out, id, (size_t)(end - id));
	out[end - id] = '\0';
	return true;
}

struct mbox_look *mbox_look_new(const struct writer_env *env)
{
	struct mbox_look *lk = xcalloc(1, sizeof *lk);
	lk->env = env;
	lk->by_session = ht_new();
	lk->names = ht_new();
	return lk;
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* Keep the logins of name (and of its local part, where Dovecot's
 * auth_username_format drops the domain). */
static void watch_name(struct mbox_look *lk, const char *name)
{
	char *k = xstrdup(name);
	lower(k);
	if (!ht_get(lk->names, k, strlen(k)))
		ht_put(lk->names, k, strlen(k), (void *)1);
	char *at = strrchr(k, '@');
	if (at && at > k) {
		*at = '\0';
		if (!ht_get(lk->names, k, strlen(k)))
			ht_put(lk->names, k, strlen(k), (void *)1);
	}
	free(k);
}

size_t mbox_ask(struct mbox_look *lk, const char *session, const char *rcpt, time_t delivered)
{
	if (lk->n == lk->cap) {
		lk->cap = lk->cap ? lk->cap * 2 : 16;
		lk->v = xrealloc(lk->v, lk->cap * sizeof *lk->v);
	}
	struct mbox_link *l = &lk->v[lk->n];
	memset(l, 0, sizeof *l);
	l->session = xstrdup(session);
	l->rcpt = rcpt ? xstrdup(rcpt) : NULL;
	l->delivered = delivered;
	if (!ht_get(lk->by_session, session, strlen(session)))
		ht_put(lk->by_session, session, strlen(session), (void *)(lk->n + 1));
	if (rcpt)
		watch_name(lk, rcpt);
	if (!lk->earliest || (delivered && delivered < lk->earliest))
		lk->earliest = delivered;
	return lk->n++;
}

static void line_copy(struct mbox_line *to, struct span line, int file_id, unsigned long lineno)
{
	size_t k = line.n < MBOX_LINE_MAX ? line.n : MBOX_LINE_MAX;
	to->file_id = file_id;
	to->line = lineno;
	to->raw = xmalloc(k + 1);
	memcpy(to->raw, line.p, k);
	to->raw[k] = '\0';
}

struct hit_ctx {
	struct mbox_look *lk;
	int file_id;
};

static void on_save(struct mbox_look *lk, const struct evidence *ev, struct span line, int file_id)
{
	if (lk->second || !ev->session.n)
		return;
	size_t i = (size_t)ht_get(lk->by_session, ev->session.p, ev->session.n);
	if (!i)
		return;
	/* every link of that session (a story may tell one delivery twice) */
	for (size_t k = i - 1; k < lk->n; k++) {
		struct mbox_link *l = &lk->v[k];
		if (!span_eq(ev->session, l->session) || l->nsave == MBOX_SAVES_MAX)
			continue;
		if (!l->owner) {
			l->owner = span_dup(ev->rcpt);
			l->host = span_dup(ev->host);
		}
		struct mbox_save *s = &l->save[l->nsave++];
		s->ts = ev->ts;
		s->folder = span_dup(ev->detail);
		s->status = span_dup(ev->status);
		line_copy(&s->at, line, file_id, ev->line);
	}
}

static bool watched(const struct mbox_look *lk, struct span user)
{
	char k[320];
	if (!user.n || user.n >= sizeof k)
		return false;
	memcpy(k, user.p, user.n);
	k[user.n] = '\0';
	lower(k);
	return ht_get(lk->names, k, user.n) != NULL;
}

static void on_login(struct mbox_look *lk, const struct evidence *ev, struct span line, int file_id)
{
	if (!watched(lk, ev->sasl_username) || (lk->earliest && ev->ts < lk->earliest) ||
	    (lk->env->until && ev->ts >= lk->env->until))
		return;
	if (lk->nkept == MBOX_KEPT_MAX) {
		lk->not_kept++;
		return;
	}
	if (lk->nkept == lk->capkept) {
		lk->capkept = lk->capkept ? lk->capkept * 2 : 64;
		lk->kept = xrealloc(lk->kept, lk->capkept * sizeof *lk->kept);
	}
	struct kept *k = &lk->kept[lk->nkept++];
	k->user = span_dup(ev->sasl_username);
	k->m = login_from_evidence(ev);
	line_copy(&k->at, line, file_id, ev->line);
}

static void on_hit(struct span line, unsigned long lineno, const struct syslog_rec *rec, void *arg)
{
	struct hit_ctx *c = arg;
	struct evidence ev;
	if (!rec || !maillog_evidence(rec, c->file_id, lineno, &ev))
		return;
	if (ev.kind == EV_MAILBOX)
		on_save(c->lk, &ev, line, c->file_id);
	else if (ev.kind == EV_LOGIN)
		on_login(c->lk, &ev, line, c->file_id);
}

/* Dovecot's deliver lines hold "msgid=", its login lines "-login: "
 * (imap-login, pop3-login ...): the scan parses only those. */
static void read_logs(struct mbox_look *lk)
{
	static const struct scan_needle nd[] = {
		{ "msgid=", 6, false },
		{ "-login: ", 8, false },
	};
	const struct writer_env *env = lk->env;
	size_t n = env->kinds ? env->ninputs : env->nfiles;
	for (size_t i = 0; i < n && i < env->nfiles && env->paths; i++) {
		if (!env->paths[i] || (env->kinds && env->kinds[i] != INPUT_LOG))
			continue;
		const char *path = env->paths[i];
		if (strcmp(path, "-") == 0 && strcmp(ls_real_path("-"), "-") == 0) {
			lk->unread += !lk->second;	/* standard input was read once */
			continue;
		}
		struct scan_file sf;
		memset(&sf, 0, sizeof sf);
		struct hit_ctx c = { lk, (int)i };
		if (!scan_log(path, nd, sizeof nd / sizeof *nd, env->tz, env->year, on_hit, &c, &sf))
			lk->unread += !lk->second;
		scan_file_free(&sf);
	}
}

/* user names the owner: the same name, or one of them is the other's
 * local part (auth_username_format "%Ln"). */
static int names_owner(const char *user, const char *owner)
{
	if (strcasecmp(user, owner) == 0)
		return 1;
	const char *a = strrchr(user, '@'), *b = strrchr(owner, '@');
	if (!a == !b)
		return 0;
	const char *full = a ? user : owner, *bare = a ? owner : user;
	size_t n = (size_t)(strrchr(full, '@') - full);
	return strlen(bare) == n && strncasecmp(full, bare, n) == 0 ? 2 : 0;
}

static int cmp_kept(const void *x, const void *y)
{
	const struct kept *a = *(struct kept *const *)x, *b = *(struct kept *const *)y;
	if (a->m->first_seen != b->m->first_seen)
		return a->m->first_seen < b->m->first_seen ? -1 : 1;
	if (a->at.file_id != b->at.file_id)
		return a->at.file_id < b->at.file_id ? -1 : 1;
	return a->at.line < b->at.line ? -1 : a->at.line > b->at.line;
}

static void fill(struct mbox_look *lk, struct mbox_link *l, struct kept **sel)
{
	size_t ns = 0;
	time_t from = l->nsave ? l->save[0].ts : l->delivered;
	for (size_t i = 0; i < lk->nkept; i++) {
		int how = names_owner(lk->kept[i].user, l->owner);
		if (how && lk->kept[i].m->first_seen >= from) {
			sel[ns++] = &lk->kept[i];
			l->by_local_part |= how == 2;
		}
	}
	if (ns)
		qsort(sel, ns, sizeof *sel, cmp_kept);
	l->login = xcalloc(ns < MBOX_LOGINS_SHOWN ? ns + 1 : MBOX_LOGINS_SHOWN, sizeof *l->login);
	l->login_at = xcalloc(ns < MBOX_LOGINS_SHOWN ? ns + 1 : MBOX_LOGINS_SHOWN,
			      sizeof *l->login_at);
	for (size_t i = 0; i < ns; i++) {
		struct message *m = sel[i]->m;
		if (!m->verdict)
			policy_judge_message(lk->env->policy, m);
		const struct hop *h = &m->inbound;
		l->in_clear += h->tls.used != TRI_YES && h->sasl_method;
		l->failed += m->login->status && strcmp(m->login->status, "login") != 0;
		if (l->nlogin < MBOX_LOGINS_SHOWN) {
			l->login[l->nlogin] = m;
			l->login_at[l->nlogin++] = sel[i]->at;
		} else {
			l->more++;
		}
	}
}

void mbox_look_run(struct mbox_look *lk)
{
	if (!lk->n)
		return;
	read_logs(lk);
	/* an owner that is not the recipient's name (a userdb mapping): its
	 * logins need a second look */
	size_t before = ht_count(lk->names);
	for (size_t i = 0; i < lk->n; i++)
		if (lk->v[i].owner)
			watch_name(lk, lk->v[i].owner);
	if (ht_count(lk->names) > before) {
		lk->second = true;
		for (size_t i = 0; i < lk->nkept; i++) {	/* read again, kept once */
			free(lk->kept[i].user);
			free(lk->kept[i].at.raw);
			message_free(lk->kept[i].m);
		}
		lk->nkept = 0;
		lk->not_kept = 0;
		read_logs(lk);
	}
	struct kept **sel = xcalloc(lk->nkept + 1, sizeof *sel);
	for (size_t i = 0; i < lk->n; i++)
		if (lk->v[i].owner)
			fill(lk, &lk->v[i], sel);
	free(sel);
}

const struct mbox_link *mbox_link(const struct mbox_look *lk, size_t i)
{
	return i < lk->n ? &lk->v[i] : NULL;
}

size_t mbox_unread(const struct mbox_look *lk)
{
	return lk->unread;
}

void mbox_look_free(struct mbox_look *lk)
{
	if (!lk)
		return;
	for (size_t i = 0; i < lk->n; i++) {
		struct mbox_link *l = &lk->v[i];
		free(l->session);
		free(l->rcpt);
		free(l->owner);
		free(l->host);
		for (size_t k = 0; k < l->nsave; k++) {
			free(l->save[k].folder);
			free(l->save[k].status);
			free(l->save[k].at.raw);
		}
		free(l->login);		/* the records are the kept ones' */
		free(l->login_at);
	}
	for (size_t i = 0; i < lk->nkept; i++) {
		free(lk->kept[i].user);
		free(lk->kept[i].at.raw);
		message_free(lk->kept[i].m);
	}
	free(lk->kept);
	free(lk->v);
	ht_free(lk->by_session, NULL);
	ht_free(lk->names, NULL);
	free(lk);
}
