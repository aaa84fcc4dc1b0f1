/* formats.c - the one table of output formats (report/writer.h).  Adding a
 * format is a file of its own and a line here. */
#include "writer.h"
#include "csv.h"
#include "domains.h"
#include "events.h"
#include "html.h"
#include "json.h"
#include "pathsjson.h"
#include "story.h"
#include "policymap.h"
#include "text.h"
#include "tlsrpt.h"
#include "users.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* In the order usage and error messages list them. */
static const struct writer_class *const formats[] = {
	&writer_text, &writer_json, &writer_csv, &writer_html, &writer_tlsrpt,
	&writer_domains, &writer_events, &writer_paths, &writer_story, &writer_users,
	&writer_map_postfix, &writer_map_sendmail,
};
#define NFORMATS (sizeof formats / sizeof formats[0])

const struct writer_class *writer_lookup(const char *name, bool policy_map)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (formats[i]->policy_map == policy_map && strcmp(formats[i]->name, name) == 0)
			return formats[i];
	return NULL;
}

void writer_names(struct buf *out, bool policy_map, const char *last_sep)
{
	size_t total = 0, k = 0;
	for (size_t i = 0; i < NFORMATS; i++)
		total += formats[i]->policy_map == policy_map;
	for (size_t i = 0; i < NFORMATS; i++) {
		if (formats[i]->policy_map != policy_map)
			continue;
		if (k++)
			buf_adds(out, k == total ? last_sep : ", ");
		buf_adds(out, formats[i]->name);
	}
}

void *writer_base_begin(struct buf *out, const struct writer_env *env)
{
	struct writer_base *w = xcalloc(1, sizeof *w);
	w->out = out;
	w->env = env;
	return w;
}

const char *writer_file(const struct writer_env *env, int file_id)
{
	return file_id >= 0 && (size_t)file_id < env->nfiles ? env->files[file_id] : "?";
}
