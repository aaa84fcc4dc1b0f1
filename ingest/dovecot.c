/* dovecot.c - Dovecot's login lines to evidence records (ingest/dovecot.h). */
#include "dovecot.h"
#include "fields.h"
#include <string.h>

static const char *const levels[] = { "Info", "Warning", "Error", "Fatal", "Panic", "Debug" };

bool dv_logpath(struct span host, struct span tag, struct span *process)
{
	if (host.n < 2 || host.p[host.n - 1] != ':')
		return false;
	for (size_t i = 0; i < sizeof levels / sizeof *levels; i++)
		if (span_eq(tag, levels[i])) {
			*process = span_sub(host, 0, host.n - 1);
			return true;
		}
	return false;
}

bool dv_tag(struct span tag)
{
	return span_eq(tag, "dovecot");
}

/* "imap-login" -> "imap"; only the login processes log logins. */
static bool login_service(struct span process, struct span *service)
{
	static const char *const names[] = { "imap-login", "pop3-login", "submission-login",
					     "managesieve-login" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (span_eq(process, names[i])) {
			*service = span_sub(process, 0, process.n - 6);
			return true;
		}
	return false;
}

/* The elements after the reason: "user=<u>, method=M, rip=A, lip=B,
 * mpid=N, TLS, session=<...>".  %c is "TLS", "TLS handshaking",
 * "TLS: <error>", "secured" (no TLS, but a trusted or local connection),
 * or nothing at all (no TLS); %k, where configured, "TLSv1.3 with cipher
 * NAME (256/256 bits)". */
static void elements(struct span s, struct evidence *ev)
{
	while (s.n) {
		long c = span_find(s, ", ");
		struct span e = c < 0 ? s : span_sub(s, 0, (size_t)c);
		s = c < 0 ? SPAN_NULL : span_sub(s, (size_t)c + 2, s.n);
		if (span_eat(&e, "user=")) {
			if (e.n >= 2 && e.p[0] == '<' && e.p[e.n - 1] == '>')
				e = span_sub(e, 1, e.n - 2);
			ev->sasl_username = e;
		} else if (span_eat(&e, "method=")) {
			ev->sasl_method = e;
		} else if (span_eat(&e, "rip=")) {
			ev->peer_ip = e;
		} else if (span_eat(&e, "lip=")) {
			ev->local_ip = e;
		} else if (span_eat(&e, "lport=")) {
			long n;
			if (span_to_long(e, &n))
				ev->local_port = (int)n;
		} else if (span_eq(e, "TLS") || span_starts(e, "TLS:") || span_starts(e, "TLS ") ||
			   span_eq(e, "secured")) {
			ev->security = e;
		} else if (span_starts(e, "TLSv") || span_starts(e, "SSLv")) {
			struct span tail;
			tls_with_cipher(e, &ev->tls.version, &ev->tls.cipher, &tail);
		}
	}
}

enum parse_result dv_parse(struct span process, struct span msg, struct evidence *ev)
{
	ev->mta = MTA_DOVECOT;
	ev->program = process;
	ev->instance = SPAN_LIT("dovecot");
	struct span service;
	if (!login_service(process, &service))
		return PR_IGNORED;	/* imap(user), lmtp, auth ...: not logins */
	ev->service = service;
	struct span s = msg;
	if (span_eat(&s, "Login: ")) {
		ev->status = SPAN_LIT("login");
	} else if (span_starts(s, "Aborted login") || span_starts(s, "Disconnected")) {
		/* "Disconnected (auth failed, 1 attempts in 2 secs): user=<a>, ..."
		 * or 2.3's "Disconnected: Connection closed (auth failed, ...)";
		 * "Aborted login (no auth attempts in 0 secs): ..." */
		ev->status = span_find(s, "auth failed") >= 0 ? SPAN_LIT("auth-failed")
			   : span_find(s, "no auth attempts") >= 0 ? SPAN_LIT("no-auth")
			   : SPAN_LIT("aborted");
		long colon = span_find(s, "): ");
		if (colon < 0)
			return PR_IGNORED;
		ev->detail = span_sub(s, 0, (size_t)colon + 1);
		s = span_sub(s, (size_t)colon + 3, s.n);
	} else {
		return PR_IGNORED;
	}
	elements(s, ev);
	if (!ev->peer_ip.n)
		return PR_IGNORED;
	ev->kind = EV_LOGIN;
	ev->dir = DIR_IN;
	return PR_USED;
}
