/* syslog.c - parse the syslog envelope of a mail log line.
 * RFC 3164 section 4.1.2 (TIMESTAMP HOSTNAME TAG), RFC 5424 section 6,
 * RFC 3339 section 5.6.  Year inference for RFC 3164: the first line takes
 * the reference year (a year earlier if it would then lie more than a day
 * after the reference time, the file's modification), and a jump back of more than six months (December -> January)
 * starts the next year.  No allocation; spans point into the line. */
#include "syslog.h"
#include <ctype.h>
#include <string.h>

void syslog_ctx_init(struct syslog_ctx *ctx, struct tzconf *tz, time_t ref,
		     int year_given)
{
	struct tm tm;
	gmtime_r(&ref, &tm);
	memset(ctx, 0, sizeof *ctx);
	ctx->tz = tz;
	ctx->ref_month = tm.tm_mon + 1;
	ctx->ref = ref;
	ctx->year = year_given ? year_given : tm.tm_year + 1900;
	ctx->year_given = year_given != 0;
}

static int digits(const char *p, const char *end, int n, int *out)
{
	int v = 0;
	if (end - p < n)
		return 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return 0;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return n;
}

/* Fractional seconds ".123456" -> microseconds; returns chars used. */
static size_t fraction(const char *p, const char *end, long *usec)
{
	if (p >= end || *p != '.')
		return 0;
	const char *q = p + 1;
	long v = 0;
	int n = 0;
	while (q < end && isdigit((unsigned char)*q)) {
		if (n < 6) {
			v = v * 10 + (*q - '0');
			n++;
		}
		q++;
	}
	if (q == p + 1)
		return 0;
	while (n++ < 6)
		v *= 10;
	*usec = v;
	return (size_t)(q - p);
}

static bool valid_clock(int mon, int d, int h, int mi, int s)
{
	return mon >= 1 && mon <= 12 && d >= 1 && d <= 31 && h <= 23 &&
	       mi <= 59 && s <= 60;
}

/* "2026-11-28T11:22:43.926506+00:00", "2026-11-28T11:22:43+0000",
 * "2026-11-28 11:22:43Z".  Returns chars used, 0 if not a stamp. */
static size_t parse_iso(const char *p, const char *end, time_t *ts, long *usec)
{
	const char *q = p;
	int y, mon, d, h, mi, s;
	if (!digits(q, end, 4, &y) || end - q < 19 || q[4] != '-' ||
	    !digits(q + 5, end, 2, &mon) || q[7] != '-' ||
	    !digits(q + 8, end, 2, &d) || (q[10] != 'T' && q[10] != ' ') ||
	    !digits(q + 11, end, 2, &h) || q[13] != ':' ||
	    !digits(q + 14, end, 2, &mi) || q[16] != ':' ||
	    !digits(q + 17, end, 2, &s))
		return 0;
	if (!valid_clock(mon, d, h, mi, s))
		return 0;
	q += 19;
	*usec = -1;	/* no fraction: the second only */
	q += fraction(q, end, usec);
	long off = 0;
	if (q < end && (*q == 'Z' || *q == 'z')) {
		q++;
	} else if (q < end && (*q == '+' || *q == '-')) {
		int sign = *q == '+' ? 1 : -1, oh, om;
		q++;
		if (!digits(q, end, 2, &oh))
			return 0;
		q += 2;
		if (q < end && *q == ':')
			q++;
		if (!digits(q, end, 2, &om))
			return 0;
		q += 2;
		off = sign * (oh * 3600L + om * 60L);
	} else {
		return 0;	/* a stamp without a zone is not RFC 3339 */
	}
	*ts = civil_to_epoch(y, mon, d, h, mi, s) - off;
	return (size_t)(q - p);
}

static size_t parse_3164(struct syslog_ctx *ctx, const char *p, const char *end,
			 time_t *ts, long *usec)
{
	const char *q = p;
	if (end - q < 15)
		return 0;
	size_t mlen;
	int mon = month_from_name(q, end, &mlen);
	if (!mon)
		return 0;
	q += mlen + 1;
	if (end - q < 11)
		return 0;
	if (*q == ' ')
		q++;		/* space-padded day */
	int d;
	if (digits(q, end, 2, &d))
		q += 2;
	else if (digits(q, end, 1, &d))
		q += 1;
	else
		return 0;
	if (q >= end || *q != ' ')
		return 0;
	q++;
	int h, mi, s;
	if (end - q < 8 || !digits(q, end, 2, &h) || q[2] != ':' ||
	    !digits(q + 3, end, 2, &mi) || q[5] != ':' || !digits(q + 6, end, 2, &s))
		return 0;
	if (!valid_clock(mon, d, h, mi, s))
		return 0;
	q += 8;
	*usec = -1;
	q += fraction(q, end, usec);

	if (ctx->last_month == 0) {
		/* The first stamp is not after the file was last written (a day
		 * of slack for zones and clocks): "Dec 11" in a file modified on
		 * 1 December 2026 is 11 December 2025. */
		if (!ctx->year_given &&
		    tz_local_to_epoch(ctx->tz, ctx->year, mon, d, h, mi, s) > ctx->ref + 86400)
			ctx->year--;
	} else if (mon < ctx->last_month - 6) {
		ctx->year++;
	} else if (mon > ctx->last_month + 6) {
		ctx->year--;
	}
	ctx->last_month = mon;
	ctx->saw_yearless = true;
	*ts = tz_local_to_epoch(ctx->tz, ctx->year, mon, d, h, mi, s);
	return (size_t)(q - p);
}

static struct span token(const char **pp, const char *end)
{
	const char *p = *pp;
	while (p < end && *p == ' ')
		p++;
	const char *s = p;
	while (p < end && *p != ' ')
		p++;
	*pp = p;
	return (struct span){ s, (size_t)(p - s) };
}

/* "tag[pid]: msg" or "tag: msg" */
static bool parse_tag(const char *p, const char *end, struct syslog_rec *rec,
		      const char **why)
{
	while (p < end && *p == ' ')
		p++;
	const char *s = p;
	while (p < end && *p != '[' && *p != ':' && *p != ' ')
		p++;
	if (p == s || p >= end) {
		*why = "no program tag";
		return false;
	}
	rec->tag = (struct span){ s, (size_t)(p - s) };
	rec->pid = -1;
	if (*p == '[') {
		long pid = 0;
		int n = 0;
		p++;
		while (p < end && isdigit((unsigned char)*p) && n < 12) {
			pid = pid * 10 + (*p++ - '0');
			n++;
		}
		if (p >= end || *p != ']' || n == 0) {
			*why = "bad process id";
			return false;
		}
		rec->pid = pid;
		p++;
	}
	if (p >= end || *p != ':') {
		*why = "no ':' after the program tag";
		return false;
	}
	p++;
	if (p < end && *p == ' ')
		p++;
	rec->msg = (struct span){ p, (size_t)(end - p) };
	return true;
}

bool syslog_parse(struct syslog_ctx *ctx, struct span line,
		  struct syslog_rec *rec, const char **why)
{
	const char *p = line.p, *end = line.p + line.n;
	size_t n;
	rec->usec = -1;
	/* A crash leaves zeros where the file system had allocated blocks
	 * not yet written: the line the log wrote next starts after them. */
	while (p < end && *p == '\0')
		p++;
	if (p == end && p != line.p) {
		*why = "only NUL bytes (a damaged log)";
		return false;
	}
	if (memchr(p, '\0', (size_t)(end - p))) {
		*why = "NUL bytes inside the line (a damaged log)";
		return false;
	}
	if (p < end && *p == '<') {	/* PRI, RFC 5424 section 6.2.1 */
		const char *q = p + 1;
		while (q < end && isdigit((unsigned char)*q) && q - p < 5)
			q++;
		if (q >= end || *q != '>' || q == p + 1) {
			*why = "bad <PRI>";
			return false;
		}
		p = q + 1;
		if (end - p >= 2 && p[0] == '1' && p[1] == ' ') {
			/* RFC 5424: VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME
			 * SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG] */
			p += 2;
			if (!(n = parse_iso(p, end, &rec->ts, &rec->usec))) {
				*why = "bad RFC 5424 timestamp";
				return false;
			}
			p += n;
			rec->host = token(&p, end);
			rec->tag = token(&p, end);
			struct span procid = token(&p, end);
			(void)token(&p, end);	/* MSGID */
			while (p < end && *p == ' ')
				p++;
			if (p < end && *p == '[') {	/* skip SD elements */
				while (p < end && *p == '[') {
					/* PARAM-VALUE is quoted, with \" \\ \] escapes
					 * (RFC 5424 section 6.3.3); be lenient about a
					 * bare ']' inside the quotes. */
					bool quoted = false;
					while (p < end && (quoted || *p != ']')) {
						if (*p == '\\' && p + 1 < end)
							p++;
						else if (*p == '"')
							quoted = !quoted;
						p++;
					}
					if (p < end)
						p++;
				}
			} else if (p < end && *p == '-') {
				p++;
			}
			if (p < end && *p == ' ')
				p++;
			if (!rec->host.n || !rec->tag.n || !procid.n) {
				*why = "incomplete RFC 5424 header";
				return false;
			}
			if (!span_to_long(procid, &rec->pid))
				rec->pid = -1;
			rec->msg = (struct span){ p, (size_t)(end - p) };
			return true;
		}
	}
	/* Many lines share a second: the same stamp bytes as the last line,
	 * followed by a space, give the same time (and leave the year
	 * inference where it was). */
	n = ctx->stamp_n;
	if (n && (size_t)(end - p) > n && p[n] == ' ' && memcmp(p, ctx->stamp, n) == 0) {
		rec->ts = ctx->stamp_ts;
		rec->usec = ctx->stamp_usec;
	} else {
		if (p < end && isdigit((unsigned char)*p))
			n = parse_iso(p, end, &rec->ts, &rec->usec);
		else
			n = parse_3164(ctx, p, end, &rec->ts, &rec->usec);
		if (!n) {
			*why = "no syslog timestamp";
			return false;
		}
		ctx->stamp_n = n <= sizeof ctx->stamp ? n : 0;
		if (ctx->stamp_n)
			memcpy(ctx->stamp, p, n);
		ctx->stamp_ts = rec->ts;
		ctx->stamp_usec = rec->usec;
	}
	p += n;
	if (p >= end || *p != ' ') {
		*why = "no host after the timestamp";
		return false;
	}
	rec->host = token(&p, end);
	/* BSD syslogd -v and some syslog-ng templates put "<facility.level>"
	 * between the stamp and the host. */
	if (rec->host.n > 2 && rec->host.p[0] == '<' && rec->host.p[rec->host.n - 1] == '>' &&
	    memchr(rec->host.p, '.', rec->host.n))
		rec->host = token(&p, end);
	if (!rec->host.n) {
		*why = "no host after the timestamp";
		return false;
	}
	return parse_tag(p, end, rec, why);
}
