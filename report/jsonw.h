/* jsonw.h - the pieces the JSON writers (json.c, events.c, pathsjson.c)
 * build their records from: a key, a string, an integer or null, a
 * true/false/null, a UTC time, the "tls" object.  Keys are literals; values pass through json_str (escape.h), so
 * no byte of the evidence can break a record.  Private to report/. */
#ifndef TW_JSONW_H
#define TW_JSONW_H
#include "escape.h"
#include "../model/message.h"
#include <time.h>

/* Keys are literals: inlined, their lengths fold at compile time. */
static inline void jw_key(struct buf *b, const char *k, bool *first)
{
	size_t n = strlen(k);
	buf_reserve(b, n + 4);
	char *p = b->p + b->n;
	if (!*first)
		*p++ = ',';
	*first = false;
	*p++ = '"';
	memcpy(p, k, n);
	p += n;
	*p++ = '"';
	*p++ = ':';
	*p = '\0';
	b->n = (size_t)(p - b->p);
}

static inline void jw_str(struct buf *b, const char *k, const char *v, bool *first)
{
	jw_key(b, k, first);
	json_str(b, v);
}

/* The version of the JSON records' schema (the files in schema/, README
 * "Output"); every record of the JSON formats carries it beside its kind. */
#define TW_SCHEMA_VERSION 2

/* A decimal integer without printf. */
static inline void jw_long(struct buf *b, long v)
{
	buf_addlong(b, v);
}

/* Bytes that are JSON already (a literal of this program): their length
 * folds at compile time. */
#define JW_LIT(b, s) buf_add((b), (s), sizeof(s) - 1)

/* A name from this program's own vocabulary (tls_version_name,
 * outcome_name ...: literals, never input), quoted without the escaper;
 * null for NULL. */
static inline void jw_vocab(struct buf *b, const char *v)
{
	if (!v) {
		JW_LIT(b, "null");
		return;
	}
	json_quoted(b, v, strlen(v));
}

static inline void jw_tri_value(struct buf *b, enum tri v)
{
	if (v == TRI_YES)
		JW_LIT(b, "true");
	else if (v == TRI_NO)
		JW_LIT(b, "false");
	else
		JW_LIT(b, "null");
}

static inline void jw_int(struct buf *b, const char *k, long v, bool known, bool *first)
{
	jw_key(b, k, first);
	if (known)
		jw_long(b, v);
	else
		buf_adds(b, "null");
}

static inline void jw_tri(struct buf *b, const char *k, enum tri v, bool *first)
{
	jw_key(b, k, first);
	jw_tri_value(b, v);
}

static inline void jw_bool(struct buf *b, const char *k, bool v, bool *first)
{
	jw_key(b, k, first);
	buf_adds(b, v ? "true" : "false");
}

/* "key":"2026-11-28T11:26:21Z" */
void jw_time(struct buf *b, const char *k, time_t t, bool *first);
/* The "tls" object, as README "Output" lists its fields. */
void jw_tls(struct buf *b, const struct tls_state *t);
/* A hop's evidence list: "file:line" or "file#frame=N", the file name
 * escaped like any string. */
struct writer_env;
void jw_evidence(struct buf *b, const struct hop *h, const struct writer_env *env);
/* One reference of such a list, "file:line" or "file#frame=N". */
void jw_evref(struct buf *b, const struct writer_env *env, struct evref r);

/* "kind": K, "schema_version": N - every JSON record opens with them. */
static inline void jw_kind(struct buf *b, const char *kind, bool *first)
{
	jw_str(b, "kind", kind, first);
	jw_key(b, "schema_version", first);
	jw_long(b, TW_SCHEMA_VERSION);
}

#endif
