/* jsonw.c - shared pieces of the JSON writers (report/jsonw.h). */
#include "jsonw.h"
#include "writer.h"
#include "../util/timeconv.h"

void jw_time(struct buf *b, const char *k, time_t t, bool *first)
{
	char iso[32];
	fmt_iso_utc(t, iso, sizeof iso);
	jw_key(b, k, first);
	buf_addc(b, '"');
	buf_adds(b, iso);	/* digits and punctuation only */
	buf_addc(b, '"');
}

void jw_tls(struct buf *b, const struct tls_state *t)
{
	bool f = true;
	buf_addc(b, '{');
	jw_tri(b, "used", t->used, &f);
	jw_str(b, "version", tls_version_name(t->version), &f);
	jw_str(b, "version_raw", t->version_raw, &f);
	jw_str(b, "cipher", t->cipher, &f);
	jw_int(b, "bits", t->bits, t->bits >= 0, &f);
	jw_int(b, "alg_bits", t->alg_bits, t->alg_bits >= 0, &f);
	jw_str(b, "cert", tls_cert_name(t->cert), &f);
	jw_str(b, "cert_raw", t->cert_raw, &f);
	jw_tri(b, "stripped", t->stripped, &f);
	jw_tri(b, "starttls_offered", t->offered, &f);
	jw_str(b, "downgrade", downgrade_name(t->downgrade), &f);
	jw_str(b, "level", tls_level_name(t->level), &f);
	jw_tri(b, "enforced", t->enforced, &f);
	jw_str(b, "enforced_by", enforced_by_name(t->enforced_by), &f);
	jw_str(b, "requiretls", requiretls_name(t->requiretls), &f);
	jw_str(b, "policy_type", policy_type_name(t->policy_type), &f);
	jw_str(b, "tlsrpt", tlsrpt_result_name(t->tlsrpt), &f);
	jw_str(b, "tlsrpt_failure", t->tlsrpt_failure, &f);
	jw_str(b, "key_exchange", t->kex, &f);
	jw_str(b, "cipher_openssl", t->cipher_openssl, &f);
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
		buf_adds(b, env->files_json[r.file_id]);
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
