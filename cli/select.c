/* select.c - choosing the messages a run writes (cli/select.h). */
#include "select.h"
#include "../model/verdict.h"
#include "../rules/policy.h"
#include "../util/timeconv.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void select_init(struct selection *s)
{
	memset(s, 0, sizeof *s);
	s->min_severity = -1;
}

static bool push(const char **v, size_t *n, const char *value)
{
	if (*n == SELECT_MAX)
		return false;
	v[(*n)++] = value;
	return true;
}

bool select_add(struct selection *s, char opt, const char *value, char *why, size_t whylen)
{
	static const char *const names[] = { "m", "--message-id", "q", "--queue-id",
		"r", "--rcpt", "f", "--from", "s", "--since", "u", "--until", "v", "--verdict",
		"S", "--min-severity", "w", "--where", NULL };
	const char *name = "?";
	for (int i = 0; names[i]; i += 2)
		if (names[i][0] == opt)
			name = names[i + 1];
	if (!value[0] || strcmp(value, "<>") == 0 || strcmp(value, "@") == 0) {
		snprintf(why, whylen, "%s needs a value that is not empty", name);
		return false;
	}
	s->any = true;
	bool ok = true;
	switch (opt) {
	case 'm': ok = push(s->mid, &s->nmid, value); break;
	case 'q': ok = push(s->qid, &s->nqid, value); break;
	case 'r': ok = push(s->rcpt, &s->nrcpt, value); break;
	case 'f': ok = push(s->from, &s->nfrom, value); break;
	case 's': s->since_text = value; break;
	case 'u': s->until_text = value; break;
	case 'w': ok = push(s->where, &s->nwhere, value); break;
	case 'v':
		if (verdict_rank(value) < 0) {
			snprintf(why, whylen, "--verdict takes encrypted, unknown, weak or plaintext, "
				 "not '%s'", value);
			return false;
		}
		ok = push(s->verdict, &s->nverdict, value);
		break;
	case 'S':
		s->min_severity = severity_rank(value);
		if (s->min_severity < 0) {
			snprintf(why, whylen, "--min-severity takes info, low, medium, high or "
				 "critical, not '%s'", value);
			return false;
		}
		break;
	}
	if (!ok)
		snprintf(why, whylen, "%s: at most %d of them", name, SELECT_MAX);
	return ok;
}

/* "2h", "30m", "3d", "45s": that long before now; 0 if not that form. */
static bool relative(const char *t, time_t now, time_t *out)
{
	char *end;
	long n = strtol(t, &end, 10);
	if (end == t || n < 0 || end[0] == '\0' || end[1] != '\0')
		return false;
	long unit = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600
		  : end[0] == 'd' ? 86400 : end[0] == 'w' ? 604800 : 0;
	if (!unit)
		return false;
	*out = now - (time_t)(n * unit);
	return true;
}

/* The local midnight that starts the day of t, in the run's zone. */
static time_t midnight(struct tzconf *tz, time_t t)
{
	/* the zone's offset at t: local time minus UTC */
	struct tm u;
	gmtime_r(&t, &u);
	time_t as_local = tz_local_to_epoch(tz, u.tm_year + 1900, u.tm_mon + 1, u.tm_mday,
					    u.tm_hour, u.tm_min, u.tm_sec);
	time_t local = t + (t - as_local);	/* t in local wall-clock seconds */
	struct tm l;
	gmtime_r(&local, &l);
	return tz_local_to_epoch(tz, l.tm_year + 1900, l.tm_mon + 1, l.tm_mday, 0, 0, 0);
}

/* ISO 8601: "2026-11-28", "2026-11-28T10:00", "2026-11-28 10:00:30",
 * with "Z" or "+01:00" or without a zone (the run's --tz); "today",
 * "yesterday"; relative.  end: a date alone means the end of that day. */
static bool parse_time(const char *t, struct tzconf *tz, time_t now, bool end, time_t *out)
{
	if (relative(t, now, out))
		return true;
	if (strcmp(t, "today") == 0 || strcmp(t, "yesterday") == 0) {
		time_t m = midnight(tz, now) - (t[0] == 'y' ? 86400 : 0);
		*out = end ? m + 86400 : m;
		return true;
	}
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	if (sscanf(t, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return false;
	const char *p = t + 10;
	bool date_only = *p == '\0';
	if (!date_only) {
		if (*p != 'T' && *p != ' ')
			return false;
		p++;
		int k = 0;
		if (sscanf(p, "%2d:%2d%n", &h, &mi, &k) != 2)
			return false;
		p += k;
		if (*p == ':') {
			if (sscanf(p + 1, "%2d%n", &sec, &k) != 1)
				return false;
			p += 1 + k;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return false;
	if (*p == 'Z' && p[1] == '\0') {
		*out = civil_to_epoch(y, mo, d, h, mi, sec);
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':' &&
		   isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
		   isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
		int off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 + ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
		*out = civil_to_epoch(y, mo, d, h, mi, sec) - (*p == '+' ? off : -off);
	} else if (*p == '\0') {
		*out = tz_local_to_epoch(tz, y, mo, d, h, mi, sec);
	} else {
		return false;
	}
	if (date_only && end)
		*out += 86400;
	return true;
}

/* The lines of the rule the --where conditions become: each condition
 * is one line of its when mapping, so the loader's line and column name
 * the condition and the place in it. */
#define WHERE_HEAD "schema: tlswitness/1\npolicy: where\nrules:\n  - id: where\n" \
	"    verdict: unknown\n    severity: info\n    explain: where\n    when:\n"
#define WHERE_FIRST_LINE 9	/* the line of the first condition */
#define WHERE_INDENT 6

static bool where_policy(struct selection *s, char *why, size_t whylen)
{
	struct buf y, errs;
	buf_init(&y);
	buf_init(&errs);
	buf_adds(&y, WHERE_HEAD);
	for (size_t i = 0; i < s->nwhere; i++) {
		if (strchr(s->where[i], '\n')) {
			snprintf(why, whylen, "--where '%s': one condition a line", s->where[i]);
			buf_free(&y);
			return false;
		}
		buf_printf(&y, "%*s%s\n", WHERE_INDENT, "", s->where[i]);
	}
	buf_adds(&y, "default: {verdict: unknown, severity: info, explain: where}\n");
	s->where_policy = policy_load("--where", y.p, y.n, &errs);
	buf_free(&y);
	if (s->where_policy) {
		buf_free(&errs);
		return true;
	}
	/* "--where:LINE:COL: message": the condition and the column in it */
	int line = 0, col = 0, k = 0;
	const char *e = errs.p ? errs.p : "";
	if (sscanf(e, "--where:%d:%d: %n", &line, &col, &k) == 2 && line >= WHERE_FIRST_LINE &&
	    (size_t)(line - WHERE_FIRST_LINE) < s->nwhere) {
		const char *msg = e + k;
		int n = (int)strcspn(msg, "\n");
		snprintf(why, whylen, "--where '%s': column %d: %.*s",
			 s->where[line - WHERE_FIRST_LINE], col > WHERE_INDENT ? col - WHERE_INDENT : 1,
			 n, msg);
	} else {
		snprintf(why, whylen, "--where: %.*s", (int)strcspn(e, "\n"), e);
	}
	buf_free(&errs);
	return false;
}

void select_free(struct selection *s)
{
	policy_free(s->where_policy);
	s->where_policy = NULL;
}

bool select_ready(struct selection *s, struct tzconf *tz, time_t now, char *why,
		  size_t whylen)
{
	if (s->since_text && !parse_time(s->since_text, tz, now, false, &s->since)) {
		snprintf(why, whylen, "--since: '%s' is not a time (2026-11-28, "
			 "2026-11-28T10:00+01:00, today, yesterday, 2h, 3d)", s->since_text);
		return false;
	}
	if (s->until_text && !parse_time(s->until_text, tz, now, true, &s->until)) {
		snprintf(why, whylen, "--until: '%s' is not a time (2026-11-28, "
			 "2026-11-28T10:00+01:00, today, yesterday, 2h, 3d)", s->until_text);
		return false;
	}
	if (s->nwhere && !where_policy(s, why, whylen))
		return false;
	if (s->since_text && s->until_text && s->since >= s->until) {
		snprintf(why, whylen, "--since %s is not before --until %s (a date alone "
			 "ends with its day)", s->since_text, s->until_text);
		return false;
	}
	return true;
}

/* a@b without the angle brackets: the span inside them. */
static void bare(const char *a, const char **p, size_t *n)
{
	size_t l = strlen(a);
	if (l >= 2 && a[0] == '<' && a[l - 1] == '>') {
		*p = a + 1;
		*n = l - 2;
	} else {
		*p = a;
		*n = l;
	}
}

/* An address against a needle: "@domain" (any case) or an address (its
 * local part as written, RFC 5321 2.4; its domain in any case). */
static bool address_matches(const char *addr, const char *needle)
{
	if (!addr)
		return false;
	const char *a, *b;
	size_t an, bn;
	bare(addr, &a, &an);
	bare(needle, &b, &bn);
	const char *at_a = memrchr(a, '@', an), *at_b = memrchr(b, '@', bn);
	if (b[0] == '@') {
		size_t dl = bn - 1;
		return at_a && (size_t)(a + an - at_a - 1) == dl && strncasecmp(at_a + 1, b + 1, dl) == 0;
	}
	if (!at_a || !at_b)
		return an == bn && memcmp(a, b, an) == 0;
	size_t la = (size_t)(at_a - a), lb = (size_t)(at_b - b);
	return la == lb && memcmp(a, b, la) == 0 && an - la == bn - lb &&
	       strncasecmp(at_a, at_b, an - la) == 0;
}

static bool mid_matches(const char *mid, const char *needle)
{
	if (!mid)
		return false;
	const char *a, *b;
	size_t an, bn;
	bare(mid, &a, &an);
	bare(needle, &b, &bn);
	return an == bn && memcmp(a, b, an) == 0;
}

static bool any_rcpt(const struct message *m, const char *needle)
{
	for (size_t i = 0; i < m->ndl; i++)	/* as delivered, or as addressed */
		if (address_matches(m->dl[i].rcpt, needle) ||
		    address_matches(m->dl[i].orig_rcpt, needle))
			return true;
	for (size_t i = 0; i < m->nrcpts; i++)
		if (address_matches(m->rcpts[i], needle))
			return true;
	return false;
}

bool select_time(const struct selection *s, time_t ts)
{
	return (!s->since || ts >= s->since) && (!s->until || ts < s->until);
}

bool select_message(struct selection *s, const struct message *m)
{
	s->judged++;
	if (!s->any)
		return true;
	bool ok = true;
	if (s->nmid) {
		bool hit = false;
		for (size_t i = 0; i < s->nmid && !hit; i++)
			hit = mid_matches(m->message_id, s->mid[i]);
		ok = ok && hit;
	}
	if (ok && s->nqid) {
		bool hit = false;
		/* a record answers to every queue ID it carries: its own, and
		 * the one before an after-queue content filter (prior_qid) */
		for (size_t i = 0; i < s->nqid && !hit; i++)
			hit = (m->qid && strcmp(m->qid, s->qid[i]) == 0) ||
			      (m->prior_qid && strcmp(m->prior_qid, s->qid[i]) == 0);
		ok = hit;
	}
	if (ok && s->nrcpt) {
		bool hit = false;
		for (size_t i = 0; i < s->nrcpt && !hit; i++)
			hit = any_rcpt(m, s->rcpt[i]);
		ok = hit;
	}
	if (ok && s->nfrom) {
		bool hit = false;
		for (size_t i = 0; i < s->nfrom && !hit; i++)
			hit = address_matches(m->from, s->from[i]);
		ok = hit;
	}
	/* the message's span of time meets the window */
	time_t last = m->last_seen > m->first_seen ? m->last_seen : m->first_seen;
	if (ok && s->since && last < s->since)
		ok = false;
	if (ok && s->until && m->first_seen >= s->until)
		ok = false;
	if (ok && s->nverdict) {
		bool hit = false;
		for (size_t i = 0; i < s->nverdict && !hit; i++)
			hit = m->verdict && strcmp(m->verdict, s->verdict[i]) == 0;
		ok = hit;
	}
	if (ok && s->min_severity >= 0)
		ok = severity_rank(m->severity) >= s->min_severity;
	if (ok && s->where_policy) {	/* all the conditions, of one hop */
		bool hit = false;
		size_t nh = (m->has_inbound ? 1u : 0u) + m->ndl;
		for (size_t i = 0; i < nh && !hit; i++) {
			const struct hop *h = (m->has_inbound && i == 0) ? &m->inbound
									 : &m->dl[i - (m->has_inbound ? 1 : 0)];
			hit = policy_rule_matches(s->where_policy, 0, m, h);
		}
		ok = hit;
	}
	if (ok)
		s->selected++;
	return ok;
}
