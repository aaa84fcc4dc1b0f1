/* dovecot.h - Dovecot's login lines to evidence records (README
 * "Retrieval"): the IMAP, POP3, submission and ManageSieve login
 * processes' "Login:", "Aborted login" and "Disconnected (auth failed
 * ...)" lines, as Dovecot 2.2 and 2.3 write them (src/login-common,
 * login_log_format_elements "user=<%u> method=%m rip=%r lip=%l mpid=%e %c
 * session=<%{session}>"), in a log_path file ("Dec 02 04:59:42
 * imap-login: Info: Login: ...") or behind syslog's "dovecot:" tag.
 * And the delivering side, LMTP's and LDA's deliver log line: "lmtp(USER)
 * <PID><SESSION>: msgid=<...>: saved mail to INBOX" (2.3; 2.2's prefix is
 * "lmtp(PID, USER): SESSION: "), Pigeonhole's "sieve: msgid=<...>: stored
 * mail into mailbox 'INBOX'", an EV_MAILBOX record. */
#ifndef TW_DOVECOT_H
#define TW_DOVECOT_H
#include "postfix.h"	/* enum parse_result */

/* The log_path framing: the syslog reader takes "imap-login:" for the
 * host and "Info" for the tag; true (and the process) when that is it. */
bool dv_logpath(struct span host, struct span tag, struct span *process);
/* Behind syslog: tag "dovecot", msg "imap-login: Login: ...". */
bool dv_tag(struct span tag);
/* process: "imap-login", "pop3-login" ...; msg after "Info: ". */
enum parse_result dv_parse(struct span process, struct span msg, struct evidence *ev);

#endif
