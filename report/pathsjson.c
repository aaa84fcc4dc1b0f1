/* pathsjson.c - --format paths: each message followed across the servers
 * whose logs were given (correlate/paths.h), one JSON object a path; with
 * a message selected, a "mailbox-leg" record for each delivery of those paths
 * into Dovecot's LMTP (report/mailbox.h); then the manifest.  The paths
 * stage (correlate/paths.h, run by the pipeline) holds real addresses;
 * they are pseudonymised here, as they are written. */
#include "pathsjson.h"
#include "escape.h"
#include "jsonw.h"
#include "mailbox.h"
#include "manifest.h"
#include "pseudo.h"
#include "../correlate/paths.h"
#include "../model/verdict.h"
#include <stdio.h>
#include <stdlib.h>

static void address(struct buf *b, const char *k, const char *addr,
		    const struct pseudo *pseudo, bool *f)
{
	if (!pseudo || !addr) {
		jw_str(b, k, addr, f);
		return;
	}
	char *token = pseudo_address(pseudo, addr, strlen(addr));
	jw_str(b, k, token, f);
	free(token);
}

/* Free text that can quote an address: a Message-ID, a reply, a
 * conflict's words. */
static void text(struct buf *b, const char *k, const char *s, const struct pseudo *pseudo, bool *f)
{
	if (!pseudo || !s) {
		jw_str(b, k, s, f);
		return;
	}
	char *t = pseudo_text(pseudo, s, NULL, 0);
	jw_str(b, k, t, f);
	free(t);
}

#define PATHS_MAILBOX_MAX 10000	/* deliveries into Dovecot looked up */

/* A delivery into Dovecot's LMTP on a path written: its mailbox record
 * comes at the end. */
struct asked {
	size_t link;
	char *message_id, *server, *qid;
};

struct paths_writer {
	struct writer_base base;
	struct mbox_look *mbox;
	struct asked *v;
	size_t n, cap;
	unsigned long dropped;
};

struct path_walk {
	struct buf *b;
	const struct writer_env *env;
	const struct pseudo *pseudo;	/* addresses pseudonymised as written */
	bool first;
	struct worst worst;		/* of its hops */
	struct paths_writer *pw;	/* NULL: no mailbox records */
	const char *message_id;
};

static void ask_mailbox(struct path_walk *w, const struct path_node *n, const struct hop *h)
{
	struct paths_writer *pw = w->pw;
	char session[128], server[300];
	if (!pw || h->dir != DIR_OUT || h->fate != FATE_SENT ||
	    !mbox_reply_session(h->reason, session, sizeof session))
		return;
	if (pw->n == PATHS_MAILBOX_MAX) {
		pw->dropped++;
		return;
	}
	if (pw->n == pw->cap) {
		pw->cap = pw->cap ? pw->cap * 2 : 16;
		pw->v = xrealloc(pw->v, pw->cap * sizeof *pw->v);
	}
	paths_server_name(n, server, sizeof server);
	pw->v[pw->n++] = (struct asked){ mbox_ask(pw->mbox, session, h->rcpt, h->ts),
					 w->message_id ? xstrdup(w->message_id) : NULL,
					 xstrdup(server), n->m->qid ? xstrdup(n->m->qid) : NULL };
}

static void path_hop(const struct path_node *n, const struct hop *h,
		     const struct path_link *l, void *arg)
{
	struct path_walk *w = arg;
	struct buf *b = w->b;
	bool f = true;
	if (!w->first)
		buf_addc(b, ',');
	w->first = false;
	buf_addc(b, '{');
	char server[300];
	paths_server_name(n, server, sizeof server);
	jw_str(b, "server", server, &f);
	jw_str(b, "queue_id", n->m->qid, &f);
	jw_str(b, "direction", h->dir == DIR_OUT ? "outbound" : "inbound", &f);
	jw_str(b, "peer_host", h->peer_host, &f);
	jw_str(b, "peer_ip", h->peer_ip, &f);
	if (h->dir == DIR_OUT) {
		address(b, "rcpt", h->rcpt, w->pseudo, &f);
		text(b, "status", h->status, w->pseudo, &f);
		jw_str(b, "next_queue_id", h->next_qid, &f);
		jw_str(b, "linked_by", l->how, &f);
	}
	jw_time(b, "time", h->ts, &f);
	jw_bool(b, "network", h->network, &f);
	jw_bool(b, "local", h->local, &f);
	jw_key(b, "tls", &f);
	jw_tls(b, &h->tls);
	jw_str(b, "tls_from", l->tls_from, &f);
	text(b, "conflict", l->conflict, w->pseudo, &f);
	jw_str(b, "verdict", h->verdict, &f);
	jw_str(b, "severity", h->severity, &f);
	jw_str(b, "rule", h->rule, &f);
	jw_key(b, "evidence", &f);
	jw_evidence(b, h, w->env);
	buf_addc(b, '}');
	worst_add(&w->worst, h);
	ask_mailbox(w, n, h);
}

static void write_path(struct buf *b, struct paths *p, struct path_node *root,
		       const struct writer_env *env, struct paths_writer *pw)
{
	const struct pseudo *pseudo = env->pseudo;
	struct path_walk w = { .b = b, .env = env, .pseudo = pseudo, .first = true, .pw = pw,
			       .message_id = root->m->message_id };
	worst_init(&w.worst);
	bool f = true;
	buf_addc(b, '{');
	jw_kind(b, "path", &f);
	text(b, "message_id", root->m->message_id, pseudo, &f);
	address(b, "from", root->m->from, pseudo, &f);
	jw_time(b, "first_seen", root->m->first_seen, &f);
	jw_key(b, "hops", &f);
	buf_addc(b, '[');
	size_t servers = paths_walk(p, root, path_hop, &w);
	buf_addc(b, ']');
	jw_int(b, "messages", (long)servers, true, &f);
	jw_str(b, "verdict", worst_verdict(&w.worst), &f);
	jw_str(b, "severity", worst_severity(&w.worst), &f);
	buf_adds(b, "}\n");
}

void json_path(struct buf *b, struct paths *p, struct path_node *root,
	       const struct writer_env *env)
{
	write_path(b, p, root, env, NULL);
}

static void *paths_begin(struct buf *out, const struct writer_env *env)
{
	struct paths_writer *pw = xcalloc(1, sizeof *pw);
	pw->base.out = out;
	pw->base.env = env;
	if (env->messages_selected)	/* a message's trip, not a period's export */
		pw->mbox = mbox_look_new(env);
	return pw;
}

static void paths_write(void *w, struct paths *p, struct path_node *root)
{
	struct paths_writer *pw = w;
	write_path(pw->base.out, p, root, pw->base.env, pw->mbox ? pw : NULL);
}

static void line_ref(struct buf *b, const struct writer_env *env, const struct mbox_line *l)
{
	jw_evref(b, env, (struct evref){ l->file_id, l->line, false });
}

/* The owner's logins after delivery, as the story tells them: logins,
 * not proof that the message was read (README "Submission and
 * retrieval"). */
static void login_list(struct buf *b, const struct mbox_link *l, const struct writer_env *env)
{
	buf_addc(b, '[');
	for (size_t i = 0; i < l->nlogin; i++) {
		const struct message *m = l->login[i];
		const struct hop *h = &m->inbound;
		bool f = true;
		if (i)
			buf_addc(b, ',');
		buf_addc(b, '{');
		jw_time(b, "time", m->first_seen, &f);
		jw_str(b, "service", m->login->service, &f);
		address(b, "user", h->sasl_username, env->pseudo, &f);
		jw_str(b, "peer_ip", h->peer_ip, &f);
		jw_str(b, "status", m->login->status, &f);
		jw_key(b, "tls", &f);
		jw_tls(b, &h->tls);
		jw_str(b, "verdict", h->verdict, &f);
		jw_str(b, "severity", h->severity, &f);
		jw_str(b, "rule", h->rule, &f);
		jw_key(b, "evidence", &f);
		buf_addc(b, '[');
		line_ref(b, env, &l->login_at[i]);
		buf_adds(b, "]}");
	}
	buf_addc(b, ']');
}

static void mailbox_record(struct buf *b, const struct asked *a, const struct mbox_link *l,
			   const struct writer_env *env)
{
	bool f = true;
	buf_addc(b, '{');
	jw_kind(b, "mailbox-leg", &f);
	text(b, "message_id", a->message_id, env->pseudo, &f);
	jw_str(b, "server", a->server, &f);
	jw_str(b, "queue_id", a->qid, &f);
	address(b, "rcpt", l->rcpt, env->pseudo, &f);
	jw_time(b, "delivered", l->delivered, &f);
	text(b, "session", l->session, env->pseudo, &f);
	jw_bool(b, "found", l->owner != NULL, &f);
	address(b, "owner", l->owner, env->pseudo, &f);
	jw_str(b, "host", l->host, &f);
	jw_key(b, "saves", &f);
	buf_addc(b, '[');
	for (size_t i = 0; i < l->nsave; i++) {
		bool g = true;
		if (i)
			buf_addc(b, ',');
		buf_addc(b, '{');
		jw_time(b, "time", l->save[i].ts, &g);
		jw_str(b, "folder", l->save[i].folder, &g);
		jw_str(b, "status", l->save[i].status, &g);
		jw_key(b, "evidence", &g);
		buf_addc(b, '[');
		line_ref(b, env, &l->save[i].at);
		buf_adds(b, "]}");
	}
	buf_addc(b, ']');
	jw_int(b, "logins_after", (long)(l->nlogin + l->more), true, &f);
	jw_int(b, "logins_in_clear", (long)l->in_clear, true, &f);
	jw_int(b, "logins_failed", (long)l->failed, true, &f);
	jw_key(b, "logins", &f);
	login_list(b, l, env);
	jw_int(b, "logins_not_listed", (long)l->more, true, &f);
	buf_adds(b, "}\n");
}

static void paths_end(void *w, const struct writer_end *end)
{
	struct paths_writer *pw = w;
	if (pw->n) {
		mbox_look_run(pw->mbox);
		for (size_t i = 0; i < pw->n; i++)
			mailbox_record(pw->base.out, &pw->v[i], mbox_link(pw->mbox, pw->v[i].link),
				       pw->base.env);
	}
	manifest_json(pw->base.out, end->man);
}

static void paths_account(void *w, FILE *f)
{
	struct paths_writer *pw = w;
	if (pw->dropped)
		fprintf(f, "tlswitness: paths: %lu deliveries into Dovecot not followed into their "
			"mailbox (%d at most)\n", pw->dropped, PATHS_MAILBOX_MAX);
}

static void paths_writer_free(void *w)
{
	struct paths_writer *pw = w;
	if (!pw)
		return;
	for (size_t i = 0; i < pw->n; i++) {
		free(pw->v[i].message_id);
		free(pw->v[i].server);
		free(pw->v[i].qid);
	}
	free(pw->v);
	mbox_look_free(pw->mbox);
	free(pw);
}

const struct writer_class writer_paths = {
	.name = "paths",
	.input = WRITER_PATHS,
	.pseudonymizes = true,
	.begin = paths_begin,
	.path = paths_write,
	.finish = paths_end,
	.account = paths_account,
	.free = paths_writer_free,
};
