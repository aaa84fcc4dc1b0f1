/* jsonw.c - shared pieces of the JSON writers (report/jsonw.h). */
#include "jsonw.h"
#include "writer.h"
#include "../util/timeconv.h"

/* A message's stamps are mostly one second (first seen, the hop, its
 * attempt), so each writer thread keeps the last one formatted. */
static _Thread_local time_t last_time = -1;
static _Thread_local char last_iso[32];
static _Thread_local size_t last_len;

void jw_time(struct buf *b, const char *k, time_t t, bool *first)
{
	if (t != last_time || !last_len) {
		fmt_iso_utc(t, last_iso, sizeof last_iso);	/* digits and punctuation only */
		last_len = strlen(last_iso);
		last_time = t;
	}
	jw_key(b, k, first);
	json_quoted(b, last_iso, last_len);
}

/* An integer known when at least 0, else null. */
static void jw_count(struct buf *b, int v)
{
	if (v >= 0)
		jw_long(b, v);
	else
		JW_LIT(b, "null");
}

/* The keys are fixed and in a fixed order, so each is written with its
 * comma as one literal; only the values vary. */
void jw_tls(struct buf *b, const struct tls_state *t)
{
	JW_LIT(b, "{\"used\":");
	jw_tri_value(b, t->used);
	JW_LIT(b, ",\"version\":");
	jw_vocab(b, tls_version_name(t->version));
	JW_LIT(b, ",\"version_raw\":");
	json_str(b, t->version_raw);
	JW_LIT(b, ",\"cipher\":");
	json_str(b, t->cipher);
	JW_LIT(b, ",\"bits\":");
	jw_count(b, t->bits);
	JW_LIT(b, ",\"alg_bits\":");
	jw_count(b, t->alg_bits);
	JW_LIT(b, ",\"cert\":");
	jw_vocab(b, tls_cert_name(t->cert));
	JW_LIT(b, ",\"cert_raw\":");
	json_str(b, t->cert_raw);
	JW_LIT(b, ",\"stripped\":");
	jw_tri_value(b, t->stripped);
	JW_LIT(b, ",\"starttls_offered\":");
	jw_tri_value(b, t->offered);
	if (!t->downgrade && !t->level && t->enforced == TRI_UNKNOWN && !t->enforced_by &&
	    !t->requiretls && !t->policy_type && !t->tlsrpt && !t->tlsrpt_failure) {
		/* What a log without enforcement facts leaves (most hops): the
		 * same nulls the lines below would write, in one piece. */
		JW_LIT(b, ",\"downgrade\":null,\"level\":null,\"enforced\":null,"
			  "\"enforced_by\":null,\"requiretls\":null,\"policy_type\":null,"
			  "\"tlsrpt\":null,\"tlsrpt_failure\":null");
	} else {
		JW_LIT(b, ",\"downgrade\":");
		jw_vocab(b, downgrade_name(t->downgrade));
		JW_LIT(b, ",\"level\":");
		jw_vocab(b, tls_level_name(t->level));
		JW_LIT(b, ",\"enforced\":");
		jw_tri_value(b, t->enforced);
		JW_LIT(b, ",\"enforced_by\":");
		jw_vocab(b, enforced_by_name(t->enforced_by));
		JW_LIT(b, ",\"requiretls\":");
		jw_vocab(b, requiretls_name(t->requiretls));
		JW_LIT(b, ",\"policy_type\":");
		jw_vocab(b, policy_type_name(t->policy_type));
		JW_LIT(b, ",\"tlsrpt\":");
		jw_vocab(b, tlsrpt_result_name(t->tlsrpt));
		JW_LIT(b, ",\"tlsrpt_failure\":");
		json_str(b, t->tlsrpt_failure);
	}
	JW_LIT(b, ",\"key_exchange\":");
	json_str(b, t->kex);
	JW_LIT(b, ",\"cipher_openssl\":");
	json_str(b, t->cipher_openssl);
	bool f = false;
	if (t->offered_max)
		jw_str(b, "client_max_version", t->offered_max, &f);
	if (t->sni)
		jw_str(b, "sni", t->sni, &f);
	if (t->cert_subject) {
		bool g = true;
		jw_key(b, "server_certificate", &f);
		buf_addc(b, '{');
		jw_str(b, "subject", t->cert_subject, &g);
		jw_str(b, "issuer", t->cert_issuer, &g);
		jw_time(b, "not_before", t->cert_not_before, &g);
		jw_time(b, "not_after", t->cert_not_after, &g);
		jw_tri(b, "self_signed", t->cert_self_signed, &g);
		buf_addc(b, '}');
	}
	buf_addc(b, '}');
}

void jw_evref(struct buf *b, const struct writer_env *env, struct evref r)
{
	if (env->files_json && r.file_id >= 0 && (size_t)r.file_id < env->nfiles) {
		const char *f = env->files_json[r.file_id];
		buf_add(b, f, env->files_json_len ? env->files_json_len[r.file_id] : strlen(f));
	} else {
		const char *file = writer_file(env, r.file_id);
		json_strn(b, file, strlen(file));
		b->n--;		/* reopen the string after the name */
	}
	buf_adds(b, r.frame ? "#frame=" : ":");
	jw_long(b, (long)r.line);
	buf_addc(b, '"');
}

void jw_evidence(struct buf *b, const struct hop *h, const struct writer_env *env)
{
	buf_addc(b, '[');
	for (size_t i = 0; i < h->nev; i++) {
		if (i)
			buf_addc(b, ',');
		jw_evref(b, env, h->ev[i]);
	}
	buf_addc(b, ']');
}
