/* addr.c - the domain part of a mail address; loopback addresses. */
#include "addr.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

const char *addr_domain_of(const char *addr, char *out, size_t outlen)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	if (!at || outlen == 0)
		return NULL;
	snprintf(out, outlen, "%s", at + 1);
	size_t n = strlen(out);
	while (n && (out[n - 1] == '>' || out[n - 1] == '.'))
		out[--n] = '\0';
	for (char *p = out; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return out;
}

void addr_port_key(char *out, size_t outlen, const char *addr, int port)
{
	snprintf(out, outlen, "%s:%d", addr, port);
}

bool addr_is_loopback(const char *ip)
{
	if (!ip)
		return false;
	if (ip[0] == 'I' && strncmp(ip, "IPv6:", 5) == 0)
		ip += 5;
	if (ip[0] == ':' && strncmp(ip, "::ffff:", 7) == 0)
		ip += 7;
	if (ip[0] == '1')
		return ip[1] == '2' && ip[2] == '7' && ip[3] == '.';
	return ip[0] == ':' && strcmp(ip, "::1") == 0;
}

bool addr_is_ip(const char *s, size_t n)
{
	char tmp[64];
	unsigned char out[16];
	if (n == 0 || n >= sizeof tmp)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET, tmp, out) == 1 || inet_pton(AF_INET6, tmp, out) == 1;
}

static bool space(char c)
{
	return c == ' ' || c == '\t';
}

void addr_bare(const char *s, size_t n, const char **bare, size_t *bn,
	       const char **name, size_t *nn)
{
	*name = NULL;
	*nn = 0;
	while (n && space(*s)) {
		s++;
		n--;
	}
	while (n && space(s[n - 1]))
		n--;
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {	/* "<a@b>": all inside */
		*bare = s + 1;
		*bn = n - 2;
		return;
	}
	/* "Name <a@b>" (RFC 5322 name-addr): the last angle-addr */
	const char *lt = NULL, *gt = NULL;
	if (n && s[n - 1] == '>') {
		gt = s + n - 1;
		for (const char *q = gt; q > s; q--)
			if (q[-1] == '<') {
				lt = q - 1;
				break;
			}
	}
	if (lt && gt) {
		*bare = lt + 1;
		*bn = (size_t)(gt - lt - 1);
		size_t k = (size_t)(lt - s);
		while (k && space(s[k - 1]))
			k--;
		if (k) {
			*name = s;
			*nn = k;
		}
		return;
	}
	const char *par = memchr(s, '(', n);	/* "a@b (Name)", the old comment form */
	if (par && par > s) {
		size_t k = (size_t)(par - s);
		const char *close = memchr(par, ')', n - k);
		*name = par + 1;
		*nn = close ? (size_t)(close - par - 1) : n - k - 1;
		while (k && space(s[k - 1]))
			k--;
		n = k;
	}
	*bare = s;
	*bn = n;
}
