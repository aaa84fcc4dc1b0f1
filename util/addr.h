/* addr.h - the domain part of a mail address as the logs write it; loopback. */
#ifndef TW_ADDR_H
#define TW_ADDR_H
#include <stdbool.h>
#include <stddef.h>

/* "example.org" of "<a@Example.ORG.>": after the last '@', without the
 * closing '>' and the root's trailing dot, in lower case (RFC 5321 4.1.2:
 * domains are case-insensitive).  Written into out, cut to outlen - 1
 * bytes; NULL when addr is NULL or has no '@'. */
const char *addr_domain_of(const char *addr, char *out, size_t outlen);
/* An address as logs, SMTP commands and headers write it - "<a@b>",
 * "a@b", "Name <a@b>", "a@b (Name)" - bare: "a@b" (RFC 5321 4.1.2's
 * Mailbox).  The null sender "<>" is "" (empty).  The display name, when
 * there is one, goes to name (NULL/0 otherwise).  Both point into s. */
void addr_bare(const char *s, size_t n, const char **bare, size_t *bn,
	       const char **name, size_t *nn);
/* "192.0.2.1:25": the key for a server (or client) address and port. */
void addr_port_key(char *out, size_t outlen, const char *addr, int port);
/* Is s (n bytes, not NUL-terminated) an IPv4 or IPv6 address? */
bool addr_is_ip(const char *s, size_t n);
/* 127.0.0.0/8, ::1, ::ffff:127.x: the hop never left the machine. */
bool addr_is_loopback(const char *ip);

#endif
