/* timeconv.c - civil time arithmetic (Howard Hinnant's days_from_civil) and
 * zone offsets for RFC 3164 stamps.  Named zones go through the C library
 * (setenv TZ + mktime), cached per civil hour so a log costs one lookup an
 * hour, not one a line. */
#include "timeconv.h"
#include "buf.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool access_ok(const char *path)
{
	return access(path, R_OK) == 0;
}

int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

time_t civil_to_epoch(int y, int mon, int d, int h, int mi, int s)
{
	return (time_t)(days_from_civil(y, mon, d) * 86400 + h * 3600 + mi * 60 + s);
}

enum tz_mode { TZ_FIXED, TZ_NAMED };

struct tzconf {
	enum tz_mode mode;
	long offset;		/* seconds east of UTC, TZ_FIXED */
	char *name;		/* TZ_NAMED: value for TZ, "" = local */
	char desc[64];
	int64_t cache_key;	/* civil hour cached, or -1 */
	long cache_off;
};

static bool parse_offset(const char *s, long *off)
{
	int sign;
	if (*s == '+')
		sign = 1;
	else if (*s == '-')
		sign = -1;
	else
		return false;
	s++;
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return false;
	int h = (s[0] - '0') * 10 + (s[1] - '0');
	s += 2;
	if (*s == ':')
		s++;
	int m = 0;
	if (*s) {
		if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2])
			return false;
		m = (s[0] - '0') * 10 + (s[1] - '0');
	}
	if (h > 14 || m > 59)
		return false;
	*off = sign * (h * 3600L + m * 60L);
	return true;
}

struct tzconf *tz_new(const char *spec)
{
	struct tzconf *tz = xcalloc(1, sizeof *tz);
	tz->cache_key = -1;
	if (spec && (strcmp(spec, "UTC") == 0 || strcmp(spec, "Z") == 0 ||
		     strcmp(spec, "GMT") == 0)) {
		tz->mode = TZ_FIXED;
		snprintf(tz->desc, sizeof tz->desc, "UTC");
	} else if (spec && (spec[0] == '+' || spec[0] == '-')) {
		if (!parse_offset(spec, &tz->offset)) {
			free(tz);
			return NULL;
		}
		tz->mode = TZ_FIXED;
		snprintf(tz->desc, sizeof tz->desc, "%s", spec);
	} else {
		tz->mode = TZ_NAMED;
		if (spec && *spec) {
			/* A zone name must exist in the zone database. */
			char path[512];
			snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", spec);
			if (strstr(spec, "..") || access_ok(path) == false) {
				free(tz);
				return NULL;
			}
		}
		tz->name = xstrdup(spec ? spec : "");
		snprintf(tz->desc, sizeof tz->desc, "%s",
			 (spec && *spec) ? spec : "local");
	}
	return tz;
}

void tz_free(struct tzconf *tz)
{
	if (!tz)
		return;
	free(tz->name);
	free(tz);
}

const char *tz_describe(const struct tzconf *tz)
{
	return tz->desc;
}

static long named_offset(struct tzconf *tz, int y, int mon, int d, int h)
{
	const char *old = getenv("TZ");
	char *saved = xstrdup_or_null(old);
	if (tz->name[0])
		setenv("TZ", tz->name, 1);
	tzset();
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = 30, .tm_isdst = -1 };
	time_t t = mktime(&tm);
	if (saved) {
		setenv("TZ", saved, 1);
		free(saved);
	} else if (tz->name[0]) {
		unsetenv("TZ");
	}
	tzset();
	if (t == (time_t)-1)
		return 0;
	return (long)(civil_to_epoch(y, mon, d, h, 30, 0) - t);
}

time_t tz_local_to_epoch(struct tzconf *tz, int y, int mon, int d, int h,
			 int mi, int s)
{
	time_t civil = civil_to_epoch(y, mon, d, h, mi, s);
	if (tz->mode == TZ_FIXED)
		return civil - tz->offset;
	int64_t key = civil / 3600;
	if (key != tz->cache_key) {
		tz->cache_off = named_offset(tz, y, mon, d, h);
		tz->cache_key = key;
	}
	return civil - tz->cache_off;
}

/* The inverse of days_from_civil (same source): a date from days since
 * 1970-01-01, without the C library's locale and zone machinery. */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static void two(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

void fmt_iso_utc(time_t t, char *out, size_t outlen)
{
	int64_t days = (int64_t)t / 86400, secs = (int64_t)t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	int y, m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < 1000 || y > 9999 || outlen < 21) {	/* rare: let strftime say it */
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
		return;
	}
	int h = (int)(secs / 3600), mi = (int)(secs / 60 % 60), s = (int)(secs % 60);
	two(out, y / 100);
	two(out + 2, y % 100);
	out[4] = '-';
	two(out + 5, m);
	out[7] = '-';
	two(out + 8, d);
	out[10] = 'T';
	two(out + 11, h);
	out[13] = ':';
	two(out + 14, mi);
	out[16] = ':';
	two(out + 17, s);
	out[19] = 'Z';
	out[20] = '\0';
}

/* strftime %b and %Ob as glibc 2.36 writes them (LC_TIME=xx_XX.UTF-8 date
 * +%b, for en_US, de_DE, fr_FR, es_ES, it_IT, nl_NL, pt_PT, ru_RU, pl_PL,
 * sv_SE); a name shared by several locales is listed once.  ASCII letters
 * match in either case. */
static const struct { const char *name; unsigned char mon; } month_names[] = {
	{ "Jan", 1 }, { "janv.", 1 }, { "ene", 1 }, { "gen", 1 }, { "янв", 1 }, { "sty", 1 },
	{ "Feb", 2 }, { "févr.", 2 }, { "fev", 2 }, { "фев", 2 }, { "lut", 2 },
	{ "Mar", 3 }, { "Mär", 3 }, { "mars", 3 }, { "mrt", 3 }, { "мар", 3 },
	{ "Apr", 4 }, { "avril", 4 }, { "abr", 4 }, { "апр", 4 }, { "kwi", 4 },
	{ "May", 5 }, { "Mai", 5 }, { "mag", 5 }, { "mei", 5 }, { "мая", 5 }, { "май", 5 },
	{ "maj", 5 },
	{ "Jun", 6 }, { "juin", 6 }, { "giu", 6 }, { "июн", 6 }, { "cze", 6 },
	{ "Jul", 7 }, { "juil.", 7 }, { "lug", 7 }, { "июл", 7 }, { "lip", 7 },
	{ "Aug", 8 }, { "août", 8 }, { "ago", 8 }, { "авг", 8 }, { "sie", 8 },
	{ "Sep", 9 }, { "sept.", 9 }, { "set", 9 }, { "сен", 9 }, { "wrz", 9 },
	{ "Oct", 10 }, { "Okt", 10 }, { "oct.", 10 }, { "ott", 10 }, { "out", 10 },
	{ "окт", 10 }, { "paź", 10 },
	{ "Nov", 11 }, { "nov.", 11 }, { "ноя", 11 }, { "lis", 11 },
	{ "Dec", 12 }, { "Dez", 12 }, { "déc.", 12 }, { "dic", 12 }, { "дек", 12 }, { "gru", 12 },
};

static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

int month_from_name(const char *p, const char *end, size_t *len)
{
	if (end - p >= 4 && p[3] == ' ') {	/* the C locale, most logs */
		int m = month_from_abbr(p);
		if (m) {
			*len = 3;
			return m;
		}
	}
	for (size_t i = 0; i < sizeof month_names / sizeof *month_names; i++) {
		const char *n = month_names[i].name;
		size_t k = 0;
		while (n[k] && p + k < end &&
		       ascii_lower((unsigned char)n[k]) == ascii_lower((unsigned char)p[k]))
			k++;
		if (!n[k] && p + k < end && p[k] == ' ') {
			*len = k;
			return month_names[i].mon;
		}
	}
	return 0;
}

int month_from_abbr(const char *p)
{
	static const char m[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	for (int i = 0; i < 12; i++)
		if (p[0] == m[3 * i] && p[1] == m[3 * i + 1] && p[2] == m[3 * i + 2])
			return i + 1;
	return 0;
}
