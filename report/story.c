/* story.c - --format story: each message's path told hop by hop in plain
 * language, for an incident report (README "Output"): who handed it to
 * whom, when, over TLS or not and how we know, with the evidence under
 * each hop - the log lines themselves with file:line, a capture's frames
 * as a one-line summary.  The lines are read back from the inputs at the
 * end, each file once, in order; a story names at most STORY_MAX_PATHS
 * paths (the rest are counted): it is made for a selection. */
#include "story.h"
#include "pseudo.h"
#include "mailbox.h"
#include "manifest.h"
#include "../correlate/paths.h"
#include "../ingest/linesrc.h"
#include "../model/verdict.h"
#include "../util/hashtab.h"
#include "../util/textsafe.h"
#include "../util/timeconv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Paths told, at most, and evidence lines quoted before a path is no
 * longer begun: a story is read by a person, and what it holds until its
 * end (its text and the lines read back, some 5 KB a path, more for a
 * message to many recipients) must stay within the run's bounds
 * (ARCHITECTURE.md "Bounds"). */
#define STORY_MAX_PATHS 1000
#define STORY_MAX_LINES 20000
#define STORY_LINE_MAX 2000	/* bytes of an evidence line shown */
#define STORY_NAMES_MAX 1024	/* login names without '@' pseudonymised in free text */

/* The story is text with holes: a hole is an evidence line, filled in at
 * the end when the inputs are read back, or a delivery's mailbox leg,
 * told once the logs were looked at again (report/mailbox.h). */
#define PIECE_TEXT (-1)
#define PIECE_MAILBOX (-2)	/* line: the link's index; step: its number */
struct piece {
	size_t off, len;	/* of text, when file_id is PIECE_TEXT */
	int file_id;
	unsigned long line;
	unsigned step;
};

struct story {
	struct writer_base base;
	struct buf text;
	struct piece *v;
	size_t n, cap;
	size_t text_from;	/* text not yet in a piece */
	unsigned long paths, dropped;
	unsigned long replaced;		/* inputs replaced since they were read */
	size_t nlines;		/* evidence lines quoted so far */
	struct worst worst;
	unsigned step;
	struct mbox_look *mbox;
	/* --pseudonymize: the story is told with the real addresses (the
	 * mailbox leg matches them with Dovecot's lines) and every piece is
	 * pseudonymised as it goes out; the bare login names met, for that */
	char *names[STORY_NAMES_MAX];
	size_t nnames;
};

static void piece_add(struct story *s, int file_id, unsigned long line)
{
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	if (s->text.n > s->text_from)
		s->v[s->n++] = (struct piece){ s->text_from, s->text.n - s->text_from, PIECE_TEXT,
					       0, 0 };
	s->text_from = s->text.n;
	if (file_id >= 0) {
		s->v[s->n++] = (struct piece){ 0, 0, file_id, line, 0 };
		s->nlines++;
	}
}

/* A delivery into Dovecot's LMTP: its mailbox leg is told at the end. */
static void mailbox_piece(struct story *s, const struct hop *h)
{
	char session[128];
	if (h->dir != DIR_OUT || h->fate != FATE_SENT || !mbox_reply_session(h->reason, session,
									     sizeof session))
		return;
	piece_add(s, PIECE_TEXT, 0);
	size_t link = mbox_ask(s->mbox, session, h->rcpt, h->ts);
	s->v[s->n++] = (struct piece){ 0, 0, PIECE_MAILBOX, link, ++s->step };
}

static void *story_begin(struct buf *out, const struct writer_env *env)
{
	struct story *s = xcalloc(1, sizeof *s);
	s->base.out = out;
	s->base.env = env;
	buf_init(&s->text);
	s->mbox = mbox_look_new(env);
	return s;
}

static void when(struct buf *b, time_t t)
{
	char iso[32];
	fmt_iso_utc(t, iso, sizeof iso);
	buf_adds(b, t ? iso : "(time unknown)");
}

static void peer(struct buf *b, const struct hop *h)
{
	text_safe(b, h->peer_host ? h->peer_host : "unknown");
	if (h->peer_ip) {
		buf_addc(b, '[');
		text_safe(b, h->peer_ip);
		buf_addc(b, ']');
	}
	if (h->peer_port >= 0)
		buf_printf(b, ":%d", h->peer_port);
}

/* cert: say what the peer's certificate came to (not in a capture's
 * line: a capture does not verify). */
static void tls_words(struct buf *b, const struct hop *h, bool with_cert)
{
	const struct tls_state *t = &h->tls;
	if (t->used == TRI_YES) {
		buf_printf(b, "over %s", t->version ? tls_version_name(t->version) : "TLS");
		if (t->cipher) {
			buf_adds(b, " with ");
			text_safe(b, t->cipher);
		}
		/* what the peer's certificate came to: a TLS hop to an
		 * unverified server is not the same sentence as a verified one */
		const char *cert = tls_cert_name(t->cert);
		if (with_cert && (cert || t->cert_raw)) {
			buf_printf(b, ", certificate %s", cert ? cert : "result");
			if (t->cert_raw && (!cert || strcasecmp(t->cert_raw, cert) != 0)) {
				/* Sendmail's verify= words are upper case (OK, FAIL,
				 * NO, TEMP ...); Postfix's trust words are the names */
				bool upper = t->cert_raw[0] != '\0';
				for (const char *c = t->cert_raw; *c && upper; c++)
					upper = *c >= 'A' && *c <= 'Z';
				buf_adds(b, upper ? " (verify=" : " (");
				text_safe(b, t->cert_raw);
				buf_addc(b, ')');
			}
		}
	} else if (t->used == TRI_NO) {
		buf_adds(b, "in PLAINTEXT");
		if (t->downgrade)
			buf_printf(b, " (TLS downgrade: %s)", downgrade_name(t->downgrade));
	} else {
		buf_adds(b, "with TLS use unknown");
	}
}

/* A capture's frames: one line from the hop's facts (endpoints, what
 * STARTTLS did, version and cipher), the frame numbers. */
static void frames_line(struct buf *b, const struct hop *h, const struct writer_env *env)
{
	int file = -1;
	unsigned long lo = 0, hi = 0;
	for (size_t i = 0; i < h->nev; i++) {
		if (!h->ev[i].frame)
			continue;
		if (file < 0 || h->ev[i].line < lo)
			lo = h->ev[i].line;
		if (h->ev[i].line > hi)
			hi = h->ev[i].line;
		file = h->ev[i].file_id;
	}
	if (file < 0)
		return;
	buf_adds(b, "      ");
	text_safe(b, writer_file(env, file));
	buf_printf(b, "#frame=%lu", lo);
	if (hi != lo)
		buf_printf(b, "..%lu", hi);
	buf_adds(b, "  capture: ");
	peer(b, h);
	buf_adds(b, h->dir == DIR_OUT ? " as server, " : " as client, ");
	if (h->tls.stripped == TRI_YES)
		buf_adds(b, "STARTTLS stripped or refused, ");
	else if (h->tls.offered == TRI_YES)
		buf_adds(b, "STARTTLS offered, ");
	else if (h->tls.offered == TRI_NO)
		buf_adds(b, "STARTTLS not offered, ");
	tls_words(b, h, false);
	buf_addc(b, '\n');
}

/* "Verdict: V (severity, rule R)" */
static void verdict_words(struct buf *b, const struct hop *h)
{
	buf_adds(b, "Verdict: ");
	text_safe(b, h->verdict ? h->verdict : "not judged");
	if (h->severity) {
		buf_adds(b, " (");
		text_safe(b, h->severity);
		buf_adds(b, ", rule ");
		text_safe(b, h->rule);
		buf_addc(b, ')');
	}
}

struct step_walk {
	struct story *s;
};

static void story_hop(const struct path_node *n, const struct hop *h,
		      const struct path_link *l, void *arg)
{
	struct story *s = ((struct step_walk *)arg)->s;
	const struct writer_env *env = s->base.env;
	struct buf *b = &s->text;
	char server[300];
	paths_server_name(n, server, sizeof server);
	buf_printf(b, "\n  %u. ", ++s->step);
	when(b, h->ts);
	buf_adds(b, "  ");
	text_safe(b, server);
	if (n->m->qid) {
		buf_addc(b, ' ');
		text_safe(b, n->m->qid);
	}
	if (h->dir == DIR_IN) {
		buf_adds(b, h->local ? " took it in locally from " : " received it from ");
		peer(b, h);
	} else {
		buf_adds(b, h->local ? " handed it on locally to " : " handed it to ");
		peer(b, h);
		if (h->rcpt) {
			buf_adds(b, " for ");
			text_safe(b, h->rcpt);
			if (h->orig_rcpt && strcmp(h->orig_rcpt, h->rcpt) != 0) {
				buf_adds(b, " (addressed to ");
				text_safe(b, h->orig_rcpt);
				buf_addc(b, ')');
			}
		}
	}
	buf_addc(b, ' ');
	tls_words(b, h, true);
	buf_adds(b, ".\n     ");
	if (h->dir == DIR_OUT && h->fate) {
		buf_printf(b, "Fate: %s", fate_name(h->fate));
		size_t tries = h->attempts;
		for (size_t i = 0; i < h->ntries; i++)
			tries += h->tries[i].attempts;
		if (tries > 1)
			buf_printf(b, " after %zu attempts", tries);
		buf_adds(b, ".  ");
	}
	verdict_words(b, h);
	buf_adds(b, ".\n     How we know: ");
	text_safe(b, h->basis ? h->basis : "no evidence says");
	if (l && l->tls_from) {
		buf_adds(b, "; filled in from ");
		text_safe(b, l->tls_from);
	}
	if (l && l->conflict) {
		buf_adds(b, "; the two ends disagree: ");
		text_safe(b, l->conflict);
	}
	buf_adds(b, ".\n");
	if (h->dir == DIR_IN && n->m->prior_qid && h == &n->m->inbound) {
		buf_adds(b, "     Then through a content filter on this host: it was queue file ");
		text_safe(b, n->m->prior_qid);
		buf_adds(b, " before it.\n");
	}
	/* the other attempts' lines first, in time order, then this hop's */
	for (size_t i = 0; i < h->ntries; i++)
		for (size_t e = 0; e < h->tries[i].nev; e++)
			if (!h->tries[i].ev[e].frame)
				piece_add(s, h->tries[i].ev[e].file_id, h->tries[i].ev[e].line);
	for (size_t e = 0; e < h->nev; e++)
		if (!h->ev[e].frame)
			piece_add(s, h->ev[e].file_id, h->ev[e].line);
	frames_line(b, h, env);
	worst_add(&s->worst, h);
	mailbox_piece(s, h);
}

static void note_name(struct story *s, const char *name)
{
	if (!s->base.env->pseudo || !name || !*name || strchr(name, '@') ||
	    s->nnames >= STORY_NAMES_MAX)
		return;
	for (size_t i = 0; i < s->nnames; i++)
		if (strcmp(s->names[i], name) == 0)
			return;
	s->names[s->nnames++] = xstrdup(name);
}

static void note_names(struct story *s, const struct message *m)
{
	note_name(s, m->inbound.sasl_username);
	for (size_t i = 0; i < m->ndl; i++)
		note_name(s, m->dl[i].sasl_username);
}

/* Text going out: as it is, or pseudonymised (--pseudonymize). */
static void emit(struct buf *out, const struct story *s, const char *p, size_t n)
{
	if (s->base.env->pseudo)
		pseudo_text_add(out, s->base.env->pseudo, p, n, (const char *const *)s->names,
				s->nnames);
	else
		buf_add(out, p, n);
}

static void story_path(void *w, struct paths *p, struct path_node *root)
{
	struct story *s = w;
	if (s->paths >= STORY_MAX_PATHS || s->nlines >= STORY_MAX_LINES) {
		s->dropped++;
		paths_walk(p, root, NULL, NULL);	/* marks them visited */
		return;
	}
	s->paths++;
	struct buf *b = &s->text;
	const struct message *m = root->m;
	note_names(s, m);
	buf_adds(b, "\nMessage ");
	text_safe(b, m->message_id ? m->message_id : "(no Message-ID)");
	buf_adds(b, " from ");
	text_safe(b, m->from ? (*m->from ? m->from : "<>") : "(sender unknown)");
	buf_adds(b, ", first seen ");
	when(b, m->first_seen);
	buf_addc(b, '\n');
	worst_init(&s->worst);
	s->step = 0;
	struct step_walk sw = { s };
	size_t servers = paths_walk(p, root, story_hop, &sw);
	buf_printf(b, "\n  In all: %zu queue file%s; the path's verdict: %s (%s), its weakest hop.\n",
		   servers, servers == 1 ? "" : "s", worst_verdict(&s->worst),
		   worst_severity(&s->worst));
}

static uint64_t line_key(int file_id, unsigned long line)
{
	return ((uint64_t)(unsigned)file_id << 40) ^ (uint64_t)line;
}

static int cmp_piece(const void *a, const void *b)
{
	const struct piece *x = *(struct piece *const *)a, *y = *(struct piece *const *)b;
	if (x->file_id != y->file_id)
		return x->file_id < y->file_id ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Read each input that holds a wanted line once, in order, and keep those
 * lines (escaped) by file and line number. */
static struct hashtab *read_lines(struct story *s)
{
	struct hashtab *lines = ht_new();
	struct piece **want = xcalloc(s->n + 1, sizeof *want);
	size_t nw = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].file_id >= 0)
			want[nw++] = &s->v[i];
	if (nw)
		qsort(want, nw, sizeof *want, cmp_piece);
	const struct writer_env *env = s->base.env;
	for (size_t i = 0; i < nw;) {
		int file = want[i]->file_id;
		const char *path = env->paths && (size_t)file < env->nfiles ? env->paths[file] : NULL;
		struct buf why;
		buf_init(&why);
		struct linesrc *ls = NULL;
		/* the file read, not one put at its name since: its lines are
		 * quoted only where it is the same file (device, inode) */
		struct fileid now;
		bool replaced = env->ids && (size_t)file < env->ninputs && env->ids[file].exists &&
				!(fileid_of(path, &now) && fileid_same(&now, &env->ids[file]));
		if (replaced)
			s->replaced++;
		if (path && !replaced && !(strcmp(path, "-") == 0 && strcmp(ls_real_path("-"), "-") == 0))
			ls = ls_open(ls_real_path(path), &why);
		buf_free(&why);
		struct span line;
		while (i < nw && want[i]->file_id == file) {
			unsigned long target = want[i]->line;
			while (ls && ls_lineno(ls) < target && ls_next(ls, &line) > 0)
				if (ls_lineno(ls) == target)
					break;
			if (ls && ls_lineno(ls) == target) {
				struct buf t;
				buf_init(&t);
				char *raw = xmalloc(line.n < STORY_LINE_MAX ? line.n + 1 : STORY_LINE_MAX + 1);
				size_t k = line.n < STORY_LINE_MAX ? line.n : STORY_LINE_MAX;
				memcpy(raw, line.p, k);
				raw[k] = '\0';
				text_safe(&t, raw);
				free(raw);
				uint64_t key = line_key(file, target);
				if (!ht_get(lines, (const char *)&key, sizeof key))
					ht_put(lines, (const char *)&key, sizeof key, t.p);
				else
					buf_free(&t);
			}
			i++;
		}
		if (ls)
			ls_close(ls);
	}
	free(want);
	return lines;
}

static void quoted_line(struct buf *out, const struct writer_env *env, const struct mbox_line *l)
{
	buf_adds(out, "      ");
	text_safe(out, writer_file(env, l->file_id));
	buf_printf(out, ":%lu  ", l->line);
	text_safe(out, l->raw);
	buf_addc(out, '\n');
}

/* The owner's logins after the delivery: told as logins, never as proof
 * that this message was read (README "Retrieval"). */
static void tell_logins(struct buf *out, const struct writer_env *env, const struct mbox_link *l)
{
	size_t all = l->nlogin + l->more;
	buf_adds(out, "\n  The mailbox owner's logins after delivery");
	if (env->until) {
		buf_adds(out, ", to ");
		when(out, env->until);
	}
	buf_adds(out, " (logins, not proof that this message was read): ");
	if (!all) {
		buf_adds(out, "none in the logs read.\n");
		return;
	}
	buf_printf(out, "%zu", all);
	if (l->in_clear)
		buf_printf(out, ", %lu with credentials in clear", l->in_clear);
	if (l->failed)
		buf_printf(out, ", %lu not a successful login", l->failed);
	if (l->by_local_part)
		buf_adds(out, " (some name the mailbox's local part only)");
	buf_adds(out, ".\n");
	for (size_t i = 0; i < l->nlogin; i++) {
		const struct message *m = l->login[i];
		const struct hop *h = &m->inbound;
		buf_adds(out, "     ");
		when(out, m->first_seen);
		buf_adds(out, "  ");
		text_safe(out, m->login->service ? m->login->service : "?");
		buf_adds(out, m->login->status && strcmp(m->login->status, "login") == 0
			 ? " login as " : " attempt as ");
		text_safe(out, h->sasl_username ? h->sasl_username : "?");
		buf_adds(out, " from ");
		text_safe(out, h->peer_ip ? h->peer_ip : "?");
		buf_addc(out, ' ');
		tls_words(out, h, true);
		if (m->login->status && strcmp(m->login->status, "login") != 0) {
			buf_adds(out, " (");
			text_safe(out, m->login->status);
			buf_addc(out, ')');
		}
		buf_adds(out, ".  ");
		verdict_words(out, h);
		buf_adds(out, ".\n");
		quoted_line(out, env, &l->login_at[i]);
	}
	if (l->more)
		buf_printf(out, "     (%lu more not listed: a story lists %d)\n", l->more,
			   MBOX_LOGINS_SHOWN);
}

/* The step after a delivery into Dovecot's LMTP: the mailbox, whose it
 * is, and its owner's logins after. */
static void tell_mailbox(struct buf *out, const struct story *s, const struct piece *p)
{
	const struct writer_env *env = s->base.env;
	const struct mbox_link *l = mbox_link(s->mbox, p->line);
	buf_printf(out, "\n  %u. ", p->step);
	if (!l->owner) {
		buf_adds(out, "Dovecot's deliver line for session ");
		text_safe(out, l->session);
		buf_adds(out, " (the one its LMTP reply names) is not in the logs read: the mailbox "
			 "it went into, and whose it is, are not known here");
		if (mbox_unread(s->mbox))
			buf_printf(out, " (%zu input%s could not be read again)", mbox_unread(s->mbox),
				   mbox_unread(s->mbox) == 1 ? "" : "s");
		buf_adds(out, ".\n");
		return;
	}
	when(out, l->save[0].ts);
	buf_adds(out, "  Dovecot");
	if (l->host) {
		buf_adds(out, " on ");
		text_safe(out, l->host);
	}
	bool saved = strcmp(l->save[0].status, "saved") == 0;
	buf_adds(out, saved ? " saved it into the mailbox of " : " failed to save it into the "
		 "mailbox of ");
	text_safe(out, l->owner);
	buf_adds(out, l->nsave > 1 ? ", folders " : ", folder ");
	for (size_t i = 0; i < l->nsave; i++) {
		if (i)
			buf_adds(out, ", ");
		text_safe(out, l->save[i].folder ? l->save[i].folder : "?");
	}
	buf_adds(out, ".\n     How we know: the LMTP reply names Dovecot's session ");
	text_safe(out, l->session);
	buf_adds(out, ", and Dovecot's deliver line names the same session.\n");
	for (size_t i = 0; i < l->nsave; i++)
		quoted_line(out, env, &l->save[i].at);
	tell_logins(out, env, l);
}

static void story_finish(void *w, const struct writer_end *end)
{
	struct story *s = w;
	struct buf *out = s->base.out;
	piece_add(s, PIECE_TEXT, 0);
	mbox_look_run(s->mbox);
	struct hashtab *lines = read_lines(s);
	struct buf piece;
	buf_init(&piece);
	if (!s->paths)
		buf_adds(out, "No message to tell.\n");
	for (size_t i = 0; i < s->n; i++) {
		const struct piece *p = &s->v[i];
		if (end->flush)	/* on as it is told, not held twice */
			end->flush(end->flush_arg);
		if (p->file_id == PIECE_TEXT) {
			emit(out, s, s->text.p + p->off, p->len);
			continue;
		}
		if (p->file_id == PIECE_MAILBOX) {
			const struct mbox_link *l = mbox_link(s->mbox, p->line);
			note_name(s, l->owner);	/* Dovecot's user names, as they are told */
			for (size_t k = 0; k < l->nlogin; k++)
				note_name(s, l->login[k]->inbound.sasl_username);
			buf_reset(&piece);
			tell_mailbox(&piece, s, p);
			emit(out, s, piece.p, piece.n);
			continue;
		}
		uint64_t key = line_key(p->file_id, p->line);
		const char *text = ht_get(lines, (const char *)&key, sizeof key);
		buf_adds(out, "      ");
		text_safe(out, writer_file(s->base.env, p->file_id));
		buf_printf(out, ":%lu  ", p->line);
		text = text ? text : s->replaced ? "(not quoted: the file at this name is not the "
			"one read, replaced since)" : "(the line cannot be read again: standard input)";
		emit(out, s, text, strlen(text));
		buf_addc(out, '\n');
	}
	if (s->dropped)
		buf_printf(out, "\n(%lu more paths not told: a story tells %d at most, and no "
			   "more once it quotes %d evidence lines; select fewer messages)\n",
			   s->dropped, STORY_MAX_PATHS, STORY_MAX_LINES);
	ht_free(lines, free);
	buf_free(&piece);
	manifest_text_record(out, end->man);
}

static void story_account(void *w, FILE *f)
{
	struct story *s = w;
	if (s->replaced)
		fprintf(f, "tlswitness: story: warning: %lu input%s replaced at %s name since it was "
			"read: %s lines not quoted\n", s->replaced, s->replaced == 1 ? "" : "s",
			s->replaced == 1 ? "its" : "their", s->replaced == 1 ? "its" : "their");
	if (s->dropped)
		fprintf(f, "tlswitness: story: %lu paths not told (%d at most, %d evidence lines)\n",
			s->dropped, STORY_MAX_PATHS, STORY_MAX_LINES);
}

static void story_free(void *w)
{
	struct story *s = w;
	if (!s)
		return;
	buf_free(&s->text);
	free(s->v);
	mbox_look_free(s->mbox);
	for (size_t i = 0; i < s->nnames; i++)
		free(s->names[i]);
	free(s);
}

const struct writer_class writer_story = {
	.name = "story",
	.input = WRITER_PATHS,
	.pseudonymizes = true,	/* as each piece goes out: emit() */
	.begin = story_begin,
	.path = story_path,
	.finish = story_finish,
	.account = story_account,
	.free = story_free,
};
