/* yamltree.h - a small, strict YAML document tree built from libyaml
 * events, keeping 1-based line:column marks for every node.  Anchors,
 * aliases, tags other than the core ones, duplicate keys and nesting
 * deeper than YT_MAX_DEPTH are reported as errors. */
#ifndef TW_YAMLTREE_H
#define TW_YAMLTREE_H
#include "../util/buf.h"
#include <stddef.h>

#define YT_MAX_DEPTH 32
#define YT_MAX_BYTES (1024 * 1024)

enum yt_type { YT_SCALAR, YT_SEQ, YT_MAP };

struct yt_node {
	enum yt_type type;
	char *val;		/* scalars */
	bool plain;		/* an unquoted scalar */
	bool alias;		/* stands for a rejected alias: already reported */
	int line, col;		/* 1-based */
	struct yt_node **kids;	/* maps: key, value, key, value ... */
	size_t n, cap;
};

/* Error sink: every problem is appended as "file:line:col: message\n". */
struct yt_errors {
	const char *file;
	struct buf text;
	int count;
};

void yt_error(struct yt_errors *e, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Parse bytes into a tree (the single document).  NULL after a syntax
 * error, a second document or too deep nesting: what was built before it
 * is not checked further, so every message stays about the real mistake. */
struct yt_node *yt_parse(const char *data, size_t len, struct yt_errors *e);
void yt_free(struct yt_node *n);
/* Map lookup (NULL when absent or n is not a map). */
struct yt_node *yt_get(const struct yt_node *map, const char *key);

#endif
