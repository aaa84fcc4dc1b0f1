/* policytable.c - reading an MTA's TLS policy table (ingest/policytable.h). */
#include "policytable.h"
#include "../util/fileid.h"
#include "../util/hashtab.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TABLE_MAX_ENTRIES 1000000
#define TABLE_LINE_MAX 65536

enum form { FORM_POSTFIX, FORM_SENDMAIL };

struct policy_table {
	enum form form;
	struct hashtab *srv, *rcpt;	/* Sendmail TLS_Srv: / TLS_Rcpt:; Postfix: rcpt only */
	size_t n;
};

static void entry_free(void *v)
{
	struct policy_entry *e = v;
	free(e->key);
	free(e);
}

void policy_table_free(struct policy_table *t)
{
	if (!t)
		return;
	ht_free(t->srv, entry_free);
	ht_free(t->rcpt, entry_free);
	free(t);
}

const char *policy_table_form(const struct policy_table *t)
{
	return t->form == FORM_SENDMAIL ? "sendmail" : "postfix";
}

size_t policy_table_size(const struct policy_table *t)
{
	return t->n;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static bool put(struct policy_table *t, struct hashtab *ht, const char *key,
		enum tls_level level, enum policy_type type, unsigned long line)
{
	if (t->n >= TABLE_MAX_ENTRIES)
		return false;
	struct policy_entry *e = xcalloc(1, sizeof *e);
	e->key = xstrdup(key);
	lower(e->key);
	e->level = level;
	e->type = type;
	e->line = line;
	struct policy_entry *old = ht_put(ht, e->key, strlen(e->key), e);
	if (old)
		entry_free(old);	/* postmap(1): the last one wins */
	else
		t->n++;
	return true;
}

/* Postfix: "LEVEL name=value { name = value } ...".  Only the level and
 * policy_type matter here (TLSRPT_README "MTA-STS Support via
 * smtp_tls_policy_maps"). */
static const char *postfix_value(char *v, enum tls_level *level, enum policy_type *type)
{
	size_t n = strcspn(v, " \t");
	char save = v[n];
	v[n] = '\0';
	*level = tls_level_parse(span_from(v));
	v[n] = save;
	if (*level == TLSL_UNKNOWN)
		return "not a TLS security level (none, may, encrypt, dane, dane-only, "
		       "fingerprint, verify, secure)";
	*type = PT_UNKNOWN;
	const char *pt = strstr(v, "policy_type");
	if (pt) {
		pt += 11;
		while (*pt == ' ' || *pt == '\t' || *pt == '=')
			pt++;
		if (strncmp(pt, "sts", 3) == 0 && !isalnum((unsigned char)pt[3]))
			*type = PT_STS;
	}
	return NULL;
}

/* Sendmail: "VERIFY", "VERIFY:bits", "ENCR:bits", with "+" extensions
 * (cf/README: TLS_Srv, TLS_Rcpt); VERIFY asks for a verified
 * certificate, ENCR for an encrypted connection. */
static const char *sendmail_value(const char *v, enum tls_level *level)
{
	if (strstr(v, "VERIFY"))
		*level = TLSL_VERIFY;
	else if (strstr(v, "ENCR"))
		*level = TLSL_ENCRYPT;
	else
		return "neither VERIFY nor ENCR";
	return NULL;
}

static void err(struct buf *errs, const char *path, unsigned long line, size_t col,
		const char *msg)
{
	buf_printf(errs, "%s:%lu:%zu: %s\n", path, line, col, msg);
}

/* One logical line (continuations joined): key and value split at the
 * first white space. */
static bool take_line(struct policy_table *t, char *l, const char *path, unsigned long line,
		      struct buf *errs)
{
	size_t kn = strcspn(l, " \t");
	if (!l[kn]) {
		err(errs, path, line, kn + 1, "a key without a value");
		return false;
	}
	l[kn] = '\0';
	char *v = l + kn + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	enum tls_level level;
	enum policy_type type = PT_UNKNOWN;
	const char *why;
	struct hashtab *ht = t->rcpt;
	const char *key = l;
	if (t->form == FORM_SENDMAIL) {
		if (strncasecmp(l, "TLS_Srv:", 8) == 0) {
			ht = t->srv;
			key = l + 8;
		} else if (strncasecmp(l, "TLS_Rcpt:", 9) == 0) {
			key = l + 9;
		} else {
			return true;	/* Connect:, Try_TLS:, ... say nothing of levels */
		}
		why = sendmail_value(v, &level);
	} else {
		why = postfix_value(v, &level, &type);
	}
	if (why) {
		err(errs, path, line, (size_t)(v - l) + 1, why);
		return false;
	}
	if (!*key) {
		err(errs, path, line, 1, "an empty key");
		return false;
	}
	if (!put(t, ht, key, level, type, line)) {
		err(errs, path, line, 1, "more than 1,000,000 entries");
		return false;
	}
	return true;
}

/* Sendmail's access keys carry a tag ("Connect:", "TLS_Srv:"); Postfix
 * keys hold ':' only after a bracketed host ("[host]:port"). */
static bool sendmail_key(const char *l)
{
	size_t kn = strcspn(l, " \t");
	const char *colon = memchr(l, ':', kn);
	return colon && l[0] != '[' && colon > l;
}

struct policy_table *policy_table_load(const char *path, struct buf *errs)
{
	/* not a FIFO planted at the name, which would hold the run */
	struct buf why;
	buf_init(&why);
	int fd = fileid_open_regular(path, NULL, &why);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		buf_printf(errs, "%s\n", why.p ? why.p : strerror(errno));
		buf_free(&why);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf_free(&why);
	struct policy_table *t = xcalloc(1, sizeof *t);
	t->srv = ht_new();
	t->rcpt = ht_new();
	struct buf logical;
	buf_init(&logical);
	char *raw = NULL;
	size_t cap = 0;
	ssize_t got;
	unsigned long lineno = 0, start = 0;
	bool ok = true, decided = false;
	while (ok) {
		got = getline(&raw, &cap, f);
		if (got >= 0)
			lineno++;
		if (got > 0 && raw[got - 1] == '\n')
			raw[--got] = '\0';
		bool cont = got > 0 && (raw[0] == ' ' || raw[0] == '\t');
		const char *p = got > 0 ? raw + strspn(raw, " \t") : "";
		bool blank = got >= 0 && (!*p || *p == '#');
		if (got >= 0 && (blank || (cont && logical.n))) {
			if (!blank) {	/* postmap(1): a continuation line */
				buf_addc(&logical, ' ');
				buf_adds(&logical, p);
			}
			if (logical.n > TABLE_LINE_MAX) {
				err(errs, path, lineno, 1, "a logical line over 65536 bytes");
				ok = false;
			}
			continue;
		}
		if (logical.n) {	/* the one before is complete */
			buf_addc(&logical, '\0');
			if (!decided) {
				t->form = sendmail_key(logical.p) ? FORM_SENDMAIL : FORM_POSTFIX;
				decided = true;
			}
			ok = take_line(t, logical.p, path, start, errs);
			buf_reset(&logical);
		}
		if (got < 0)
			break;
		if (cont) {
			err(errs, path, lineno, 1, "a continuation line with nothing to continue");
			ok = false;
			break;
		}
		start = lineno;
		buf_adds(&logical, raw);
	}
	if (ok && ferror(f)) {
		buf_printf(errs, "%s: %s\n", path, strerror(errno));
		ok = false;
	}
	free(raw);
	buf_free(&logical);
	fclose(f);
	if (!ok) {
		policy_table_free(t);
		return NULL;
	}
	return t;
}

static const struct policy_entry *get(const struct hashtab *ht, const char *k)
{
	char buf[600];
	size_t n = strlen(k);
	if (n >= sizeof buf)
		return NULL;
	for (size_t i = 0; i <= n; i++)
		buf[i] = (char)tolower((unsigned char)k[i]);
	return ht_get(ht, buf, n);
}

/* A domain, then the domains above it: Postfix ".example.com" keys
 * (smtp_tls_policy_maps does not match subdomains by a bare parent, so a
 * parent is tried with its dot), Sendmail bare parents (access db
 * lookups strip labels from the left). */
static const struct policy_entry *by_domain(const struct hashtab *ht, const char *d,
					    bool dotted_parents)
{
	const struct policy_entry *e = get(ht, d);
	char key[600];
	for (const char *p = strchr(d, '.'); !e && p; p = strchr(p + 1, '.')) {
		if (dotted_parents)
			snprintf(key, sizeof key, "%s", p);
		else
			snprintf(key, sizeof key, "%s", p + 1);
		e = get(ht, key);
	}
	return e;
}

const struct policy_entry *policy_table_find(const struct policy_table *t, const char *rcpt,
					     const char *relay_name, const char *relay_ip,
					     int port)
{
	const char *domain = rcpt ? strrchr(rcpt, '@') : NULL;
	domain = domain ? domain + 1 : NULL;
	const struct policy_entry *e = NULL;
	if (t->form == FORM_SENDMAIL) {
		if (domain)
			e = by_domain(t->rcpt, domain, false);
		if (!e && relay_name && *relay_name)
			e = by_domain(t->srv, relay_name, false);
		if (!e && relay_ip && *relay_ip)
			e = get(t->srv, relay_ip);
		return e;
	}
	if (domain)
		e = by_domain(t->rcpt, domain, true);
	/* a transport's explicit next hop: "[host]:port", "[host]" */
	const char *hosts[2] = { relay_name, relay_ip };
	char key[600];
	for (int i = 0; i < 2 && !e; i++) {
		if (!hosts[i] || !*hosts[i])
			continue;
		if (port > 0) {
			snprintf(key, sizeof key, "[%s]:%d", hosts[i], port);
			e = get(t->rcpt, key);
		}
		if (!e) {
			snprintf(key, sizeof key, "[%s]", hosts[i]);
			e = get(t->rcpt, key);
		}
	}
	return e;
}

void policy_table_apply(const struct policy_table *t, struct message *m)
{
	if (m->mta != (t->form == FORM_SENDMAIL ? MTA_SENDMAIL : MTA_POSTFIX))
		return;		/* another MTA's table says nothing of this one */
	for (size_t i = 0; i < m->ndl; i++) {
		struct hop *h = &m->dl[i];
		if (h->local || h->filter)
			continue;
		const struct policy_entry *e =
			policy_table_find(t, h->rcpt, h->peer_host, h->peer_ip, h->peer_port);
		if (!e)
			continue;
		struct tls_state *s = &h->tls;
		if (s->level == TLSL_UNKNOWN) {
			s->level = e->level;
			if (s->enforced == TRI_UNKNOWN || s->enforced_by == ENF_TRUST_WORD) {
				s->enforced = tls_level_mandatory(e->level) ? TRI_YES : TRI_NO;
				s->enforced_by = ENF_POLICY_TABLE;
			}
		}
		if (e->type == PT_STS && s->level == e->level && s->policy_type == PT_UNKNOWN)
			s->policy_type = PT_STS;
	}
}
