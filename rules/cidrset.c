/* cidrset.c - networks (CIDR, IPv4 and IPv6, RFC 4632 / RFC 4291) and
 * domain patterns, as rule files name them. */
#include "policy_int.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

bool rule_parse_cidr(const char *s, struct cidr *c)
{
	char tmp[80];
	snprintf(tmp, sizeof tmp, "%s", s);
	char *slash = strchr(tmp, '/');
	int max;
	if (slash)
		*slash = '\0';
	memset(c, 0, sizeof *c);
	if (inet_pton(AF_INET, tmp, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, tmp, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		return false;
	}
	c->prefix = max;
	if (slash) {
		char *end;
		errno = 0;
		long p = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || p < 0 || p > max || errno)
			return false;
		c->prefix = (int)p;
	}
	return true;
}

/* An address as the evidence writes it ("IPv6:" prefix allowed); ::ffff:
 * a.b.c.d is an IPv4 peer (RFC 4291 section 2.5.5.2). */
bool rule_ip_parse(const char *ip, int *fam, unsigned char a[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (!ip)
		return false;
	if (strncmp(ip, "IPv6:", 5) == 0)
		ip += 5;
	if (inet_pton(AF_INET, ip, a) == 1) {
		*fam = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, ip, a) != 1)
		return false;
	*fam = AF_INET6;
	if (memcmp(a, mapped, 12) == 0) {
		memmove(a, a + 12, 4);
		*fam = AF_INET;
	}
	return true;
}

bool rule_net_has(const struct cidr *c, int fam, const unsigned char *a)
{
	if (fam != c->family)
		return false;
	int full = c->prefix / 8, rest = c->prefix % 8;
	if (memcmp(a, c->addr, (size_t)full) != 0)
		return false;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));
		if ((a[full] & mask) != (c->addr[full] & mask))
			return false;
	}
	return true;
}

bool rule_cidr_contains(const struct cidr *c, const char *ip)
{
	unsigned char a[16];
	int fam;
	return rule_ip_parse(ip, &fam, a) && rule_net_has(c, fam, a);
}

bool rule_domain_match(const char *pattern, const char *name)
{
	if (!name)
		return false;
	size_t nn = strlen(name);
	while (nn && name[nn - 1] == '.')
		nn--;
	if (pattern[0] == '*' && pattern[1] == '.') {
		size_t pn = strlen(pattern + 1);	/* ".example.org" */
		return nn > pn && strncasecmp(name + nn - pn, pattern + 1, pn) == 0;
	}
	return strlen(pattern) == nn && strncasecmp(pattern, name, nn) == 0;
}

/* ASCII lower case (RFC 5321 2.4: domains are case-insensitive), without
 * the root's trailing dots when trim; false when it does not fit. */
static bool lower_into(char *out, size_t outlen, const char *s, bool trim)
{
	size_t n = strlen(s);
	while (trim && n && s[n - 1] == '.')
		n--;
	if (n >= outlen)
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[n] = '\0';
	return true;
}

void rule_set_index(struct set *s)
{
	s->exact = ht_new();
	s->wild = ht_new();
	char key[1024];
	for (size_t i = 0; i < s->n; i++) {
		const char *d = s->names[i];
		bool wild = d[0] == '*' && d[1] == '.';
		if (lower_into(key, sizeof key, wild ? d + 2 : d, false))
			ht_put(wild ? s->wild : s->exact, key, strlen(key), s->names[i]);
	}
}

bool rule_set_has_domain(const struct set *s, const char *name)
{
	char key[1024];
	if (!name || !lower_into(key, sizeof key, name, true))
		return false;
	size_t n = strlen(key);
	if (ht_get(s->exact, key, n))
		return true;
	/* "*.example.org" takes any name that ends in ".example.org" and has
	 * something before it: every suffix after a dot that is not the first
	 * byte */
	for (size_t i = 1; i < n; i++)
		if (key[i] == '.' && i + 1 < n && ht_get(s->wild, key + i + 1, n - i - 1))
			return true;
	return false;
}
