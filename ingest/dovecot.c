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

/* The delivering process's prefix: 2.3's mail_log_prefix
 * "lmtp(USER)<PID><SESSION>" (lda likewise), 2.2's "lmtp(PID, USER)" and
 * "lda(USER)".  The user is what Dovecot's userdb calls the mailbox. */
static bool delivery_process(struct span process, struct span *user, struct span *session)
{
	struct span s = process;
	if (!span_eat(&s, "lmtp(") && !span_eat(&s, "lda(") && !span_eat(&s, "deliver("))
		return false;
	size_t close = s.n;
	while (close > 0 && s.p[close - 1] != ')')
		close--;
	if (!close)
		return false;
	struct span inner = span_sub(s, 0, close - 1), tail = span_sub(s, close, s.n);
	long comma = span_find(inner, ", ");	/* 2.2: "PID, USER" */
	if (comma > 0) {
		long pid;
		if (span_to_long(span_sub(inner, 0, (size_t)comma), &pid))
			inner = span_sub(inner, (size_t)comma + 2, inner.n);
	}
	*user = inner;
	/* "<PID><SESSION>": the last <...> is the session */
	while (tail.n >= 2 && tail.p[0] == '<') {
		size_t k = 1;
		while (k < tail.n && tail.p[k] != '>')
			k++;
		if (k == tail.n)
			break;
		long pid;
		struct span v = span_sub(tail, 1, k - 1);
		if (!span_to_long(v, &pid))
			*session = v;
		tail = span_sub(tail, k + 1, tail.n);
	}
	return user->n > 0;
}

/* Where S holds "WORD" last, or -1: the Message-ID before it is the
 * sender's text (Dovecot sanitises it, src/lib-lda/mail-deliver.c). */
static long find_last(struct span s, const char *word)
{
	long at = -1;
	for (size_t from = 0;;) {
		long k = span_find(span_sub(s, from, s.n), word);
		if (k < 0)
			return at;
		at = (long)from + k;
		from = (size_t)at + 1;
	}
}

/* The deliver log line (deliver_log_format "msgid=%m: %$"): "msgid=<..>:
 * saved mail to INBOX", "save failed to X: ...", Pigeonhole's "sieve:
 * msgid=<..>: stored mail into mailbox 'X'"; 2.2 puts the session ID
 * first ("SESSION: msgid=..."). */
static enum parse_result mailbox_line(struct span user, struct span session, struct span msg,
				      struct evidence *ev)
{
	struct span s = msg;
	long at = span_find(s, "msgid=");
	if (at < 0)
		return PR_IGNORED;
	struct span head = span_sub(s, 0, (size_t)at);	/* "", "SESSION: ", "sieve: " */
	s = span_sub(s, (size_t)at + 6, s.n);
	static const struct { const char *word, *status; bool error; } outcomes[] = {
		{ ": saved mail to ", "saved", false },
		{ ": stored mail into mailbox ", "saved", false },
		{ ": save failed to ", "save-failed", true },
		{ ": failed to store into mailbox ", "save-failed", true },
	};
	for (size_t i = 0; i < sizeof outcomes / sizeof *outcomes; i++) {
		long k = find_last(s, outcomes[i].word);
		if (k < 0)
			continue;
		ev->message_id = span_sub(s, 0, (size_t)k);
		struct span box = span_sub(s, (size_t)k + strlen(outcomes[i].word), s.n);
		if (outcomes[i].error) {	/* "X: the error" */
			long c = span_find(box, ": ");
			if (c >= 0)
				box = span_sub(box, 0, (size_t)c);
		}
		if (box.n >= 2 && box.p[0] == '\'' && box.p[box.n - 1] == '\'')
			box = span_sub(box, 1, box.n - 2);
		ev->detail = box;
		ev->status = span_from(outcomes[i].status);
		long c = span_find(head, ": ");
		if (!session.n && c > 0 && !span_starts(head, "sieve:"))
			session = span_sub(head, 0, (size_t)c);	/* 2.2 */
		ev->session = session;
		ev->rcpt = user;
		ev->kind = EV_MAILBOX;
		ev->dir = DIR_IN;
		return PR_USED;
	}
	return PR_IGNORED;
}

enum parse_result dv_parse(struct span process, struct span msg, struct evidence *ev)
{
	ev->mta = MTA_DOVECOT;
	ev->program = process;
	ev->instance = SPAN_LIT("dovecot");
	struct span service, user = SPAN_NULL, session = SPAN_NULL;
	if (delivery_process(process, &user, &session)) {
		ev->program = span_sub(process, 0, (size_t)span_find(process, "("));
		ev->service = ev->program;
		return mailbox_line(user, session, msg, ev);
	}
	if (!login_service(process, &service))
		return PR_IGNORED;	/* imap(user), auth ...: not logins */
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
