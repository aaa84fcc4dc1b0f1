/* yamltree.c - libyaml's event parser (yaml_parser_parse) turned into a
 * tree.  libyaml marks are 0-based; every position here is 1-based.
 * Memory: the tree owns its strings; yt_free(NULL) is a no-op. */
#include "yamltree.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

void yt_error(struct yt_errors *e, int line, int col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	buf_printf(&e->text, "%s:%d:%d: %s\n", e->file, line, col, msg);
	e->count++;
}

static struct yt_node *node_new(enum yt_type t, yaml_mark_t m)
{
	struct yt_node *n = xcalloc(1, sizeof *n);
	n->type = t;
	n->line = (int)m.line + 1;
	n->col = (int)m.column + 1;
	return n;
}

static void node_add(struct yt_node *p, struct yt_node *k)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->kids = xrealloc(p->kids, p->cap * sizeof *p->kids);
	}
	p->kids[p->n++] = k;
}

void yt_free(struct yt_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		yt_free(n->kids[i]);
	free(n->kids);
	free(n->val);
	free(n);
}

struct yt_node *yt_get(const struct yt_node *map, const char *key)
{
	if (!map || map->type != YT_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2)
		if (map->kids[i]->type == YT_SCALAR && strcmp(map->kids[i]->val, key) == 0)
			return map->kids[i + 1];
	return NULL;
}

static bool check_props(struct yt_errors *e, yaml_event_t *ev, const yaml_char_t *anchor,
			const yaml_char_t *tag)
{
	int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
	if (anchor) {
		yt_error(e, line, col, "anchors (&%s) are not allowed in rule files",
			 (const char *)anchor);
		return false;
	}
	if (tag && strncmp((const char *)tag, "tag:yaml.org,2002:", 18) != 0) {
		yt_error(e, line, col, "tag %s is not allowed in rule files",
			 (const char *)tag);
		return false;
	}
	return true;
}

struct yt_node *yt_parse(const char *data, size_t len, struct yt_errors *e)
{
	if (len > YT_MAX_BYTES) {
		yt_error(e, 1, 1, "rule file is larger than the limit of %d bytes", YT_MAX_BYTES);
		return NULL;
	}
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	struct yt_node *stack[YT_MAX_DEPTH + 1];
	int depth = 0, docs = 0;
	struct yt_node *root = NULL;
	bool ok = true, done = false;
	while (!done) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			if (p.context)	/* where the construct that went wrong began */
				yt_error(e, (int)p.problem_mark.line + 1, (int)p.problem_mark.column + 1,
					 "YAML syntax error: %s %s started at line %d column %d",
					 p.problem ? p.problem : "error", p.context,
					 (int)p.context_mark.line + 1, (int)p.context_mark.column + 1);
			else
				yt_error(e, (int)p.problem_mark.line + 1, (int)p.problem_mark.column + 1,
					 "YAML syntax error: %s", p.problem ? p.problem : "error");
			ok = false;
			break;
		}
		struct yt_node *n = NULL;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				yt_error(e, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
					 "a rule file holds one YAML document");
				ok = false;
				done = true;
			}
			break;
		case YAML_ALIAS_EVENT:
			yt_error(e, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
				 "aliases (*%s) are not allowed in rule files",
				 (const char *)ev.data.alias.anchor);
			n = node_new(YT_SCALAR, ev.start_mark);
			n->val = xstrdup("");
			n->alias = true;
			break;
		case YAML_SCALAR_EVENT:
			check_props(e, &ev, ev.data.scalar.anchor, ev.data.scalar.tag);
			n = node_new(YT_SCALAR, ev.start_mark);
			n->val = xmalloc(ev.data.scalar.length + 1);
			memcpy(n->val, ev.data.scalar.value, ev.data.scalar.length);
			n->val[ev.data.scalar.length] = '\0';
			n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
			if (memchr(ev.data.scalar.value, '\0', ev.data.scalar.length))
				yt_error(e, n->line, n->col, "NUL byte in a scalar");
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (ev.type == YAML_SEQUENCE_START_EVENT)
				check_props(e, &ev, ev.data.sequence_start.anchor,
					    ev.data.sequence_start.tag);
			else
				check_props(e, &ev, ev.data.mapping_start.anchor,
					    ev.data.mapping_start.tag);
			if (depth == YT_MAX_DEPTH) {
				yt_error(e, (int)ev.start_mark.line + 1,
					 (int)ev.start_mark.column + 1,
					 "nesting deeper than %d levels", YT_MAX_DEPTH);
				ok = false;
				done = true;
				break;
			}
			n = node_new(ev.type == YAML_SEQUENCE_START_EVENT ? YT_SEQ : YT_MAP,
				     ev.start_mark);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		if (n) {
			if (depth > 0) {
				struct yt_node *parent = stack[depth - 1];
				if (parent->type == YT_MAP && parent->n % 2 == 0) {
					/* n is a key: keys must be scalars, once each. */
					if (n->type != YT_SCALAR) {
						yt_error(e, n->line, n->col, "a key must be a plain scalar");
					} else if (yt_get(parent, n->val)) {
						yt_error(e, n->line, n->col, "duplicate key '%s'", n->val);
					}
				}
				node_add(parent, n);
			} else if (!root) {
				root = n;
			} else {
				yt_free(n);
			}
			if (n->type != YT_SCALAR)
				stack[depth++] = n;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (!ok) {
		yt_free(root);
		return NULL;
	}
	return root;
}
