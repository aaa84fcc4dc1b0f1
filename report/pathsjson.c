/* pathsjson.c - --format paths: each message followed across the servers
 * whose logs were given (correlate/paths.h), one JSON object a path, then
 * the manifest.  The paths stage (correlate/paths.h, run by the pipeline)
 * holds real addresses; they are pseudonymised here, as they are written. */
#include "pathsjson.h"
#include "jsonw.h"
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

struct path_walk {
	struct buf *b;
	const struct writer_env *env;
	const struct pseudo *pseudo;	/* addresses pseudonymised as written */
	bool first;
	struct worst worst;		/* of its hops */
};

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
		jw_str(b, "status", h->status, &f);
		jw_str(b, "next_queue_id", h->next_qid, &f);
		jw_str(b, "linked_by", l->how, &f);
	}
	jw_time(b, "time", h->ts, &f);
	jw_bool(b, "network", h->network, &f);
	jw_bool(b, "local", h->local, &f);
	jw_key(b, "tls", &f);
	jw_tls(b, &h->tls);
	jw_str(b, "tls_from", l->tls_from, &f);
	jw_str(b, "conflict", l->conflict, &f);
	jw_str(b, "verdict", h->verdict, &f);
	jw_str(b, "severity", h->severity, &f);
	jw_str(b, "rule", h->rule, &f);
	jw_key(b, "evidence", &f);
	jw_evidence(b, h, w->env);
	buf_addc(b, '}');
	worst_add(&w->worst, h);
}

void json_path(struct buf *b, struct paths *p, struct path_node *root,
	       const struct writer_env *env)
{
	const struct pseudo *pseudo = env->pseudo;
	struct path_walk w = { .b = b, .env = env, .pseudo = pseudo, .first = true };
	worst_init(&w.worst);
	bool f = true;
	buf_addc(b, '{');
	jw_kind(b, "path", &f);
	jw_str(b, "message_id", root->m->message_id, &f);
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

static void paths_write(void *w, struct paths *p, struct path_node *root)
{
	struct writer_base *wb = w;
	json_path(wb->out, p, root, wb->env);
}

static void paths_end(void *w, const struct writer_end *end)
{
	manifest_json(((struct writer_base *)w)->out, end->man);
}

const struct writer_class writer_paths = {
	.name = "paths",
	.input = WRITER_PATHS,
	.pseudonymizes = true,
	.begin = writer_base_begin,
	.path = paths_write,
	.finish = paths_end,
	.free = free,
};
