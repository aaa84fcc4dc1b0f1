/* timeconv.h - civil time to epoch seconds, and the zone for stamps that
 * carry none (RFC 3164).  Offsets of a named zone are looked up once per
 * hour of civil time and cached. */
#ifndef TW_TIMECONV_H
#define TW_TIMECONV_H
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t days_from_civil(int y, int m, int d);
/* UTC civil time to epoch seconds. */
time_t civil_to_epoch(int y, int mon, int d, int h, int mi, int s);

struct tzconf;
/* spec: NULL or "" (the machine's local zone), "UTC", "+HH:MM"/"-HHMM",
 * or a zone name such as Europe/Berlin.  Returns NULL if spec is bad. */
struct tzconf *tz_new(const char *spec);
void tz_free(struct tzconf *tz);
const char *tz_describe(const struct tzconf *tz);
/* Local civil time in zone tz to epoch seconds. */
time_t tz_local_to_epoch(struct tzconf *tz, int y, int mon, int d, int h,
			 int mi, int s);

/* "2026-11-28T11:26:21Z" into out (at least 21 bytes). */
void fmt_iso_utc(time_t t, char *out, size_t outlen);
/* Month from its English three-letter abbreviation: 1..12, or 0. */
int month_from_abbr(const char *p);
/* A month as syslog daemons and journalctl write strftime's %b (and %Ob)
 * in the C locale and in de, fr, es, it, nl, pt, ru, pl and sv (glibc's
 * locales): the name must be followed by a space.  Returns 1-12 and its
 * length in bytes, or 0. */
int month_from_name(const char *p, const char *end, size_t *len);

#endif
