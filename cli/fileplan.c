/* fileplan.c - outputs that would overwrite an input, or each other
 * (cli/fileplan.h). */
#include "fileplan.h"
#include "../util/fileid.h"
#include "../util/textsafe.h"
#include <stdlib.h>
#include <string.h>

struct planned {
	const char *what;	/* the option, "input" */
	char *path;		/* owned */
	struct fileid id;
	bool written, read;
};

struct plan {
	struct planned *f;
	size_t n, cap;
};

static void add(struct plan *pl, const char *what, const char *path, bool written, bool read)
{
	if (!path || strcmp(path, "-") == 0)
		return;
	if (pl->n == pl->cap) {
		pl->cap = pl->cap ? 2 * pl->cap : 16;
		pl->f = xrealloc(pl->f, pl->cap * sizeof *pl->f);
	}
	struct planned *p = &pl->f[pl->n];
	p->what = what;
	p->path = xstrdup(path);
	p->written = written;
	p->read = read;
	if (fileid_of(p->path, &p->id))
		pl->n++;
	else
		free(p->path);
}

static void add_suffixed(struct plan *pl, const char *what, const char *path, const char *sfx)
{
	if (!path)
		return;
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "%s%s", path, sfx);
	add(pl, what, b.p, true, false);
	buf_free(&b);
}

bool fileplan_check(const struct options *o, struct buf *why)
{
	struct plan pl = { 0 };
	/* written */
	add(&pl, "-o", o->out_path, true, false);
	add(&pl, "--manifest", o->manifest_path, true, false);
	if (o->sign_key) {
		add_suffixed(&pl, "--sign's signature", o->out_path, ".sig");
		add_suffixed(&pl, "--sign's manifest signature", o->manifest_path, ".sig");
	}
	add(&pl, "--timestamp-request", o->tsq_path, true, false);
	add(&pl, "--state", o->state_path, true, true);	/* read, then replaced */
	/* read */
	for (size_t i = 0; i < o->ninputs; i++)
		add(&pl, "input", o->inputs[i], false, true);
	add(&pl, "--rules", o->rules_path, false, true);
	add(&pl, "--policy-table", o->policy_table, false, true);
	add(&pl, "--pseudonymize", o->keyfile, false, true);
	add(&pl, "--sign", o->sign_key, false, true);
	bool ok = true;
	for (size_t i = 0; ok && i < pl.n; i++) {
		if (!pl.f[i].written)
			continue;
		for (size_t j = 0; ok && j < pl.n; j++) {
			if (j == i || !fileid_same(&pl.f[i].id, &pl.f[j].id))
				continue;
			if (pl.f[j].written && j < i)
				continue;	/* said as (j, i) */
			buf_printf(why, "%s %s: ", pl.f[i].what, text_shown(pl.f[i].path));
			if (strcmp(pl.f[j].what, "input") == 0)
				buf_printf(why, "is also an input (%s); the output would replace "
					   "the evidence", text_shown(pl.f[j].path));
			else
				buf_printf(why, "is also %s %s; %s", pl.f[j].what,
					   text_shown(pl.f[j].path), pl.f[j].written
					   ? "one output would replace the other"
					   : "the output would replace what the run reads");
			ok = false;
		}
	}
	for (size_t i = 0; i < pl.n; i++)
		free(pl.f[i].path);
	free(pl.f);
	return ok;
}
