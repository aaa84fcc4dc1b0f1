/* mailbox.h - the mailbox leg of a story or a path (README "Submission
 * and retrieval", ARCHITECTURE "Writers"): a delivery into Dovecot's LMTP
 * is tied to Dovecot's own deliver line by the session ID that Dovecot's
 * reply names ("250 2.0.0 <rcpt> SESSION Saved", src/lmtp); that line
 * names the mailbox's user and folder, and the user's logins after the
 * delivery follow.
 * Looked up at the end, by a second look at the logs for Dovecot's
 * deliver and login lines only (ingest/scan.h), so the read itself keeps
 * no table of every delivery and login: memory grows with the links asked
 * for and the logins kept for them (bounded), never with the logs. */
#ifndef TW_MAILBOX_H
#define TW_MAILBOX_H
#include "writer.h"

#define MBOX_LOGINS_SHOWN 50	/* logins told a link; the rest are counted */
#define MBOX_SAVES_MAX 8	/* folders one delivery can be filed into */

/* A line found, as read (at most MBOX_LINE_MAX bytes of it). */
struct mbox_line {
	int file_id;
	unsigned long line;
	char *raw;
};

struct mbox_save {
	time_t ts;
	char *folder, *status;	/* "saved", "save-failed" */
	struct mbox_line at;
};

struct mbox_link {
	/* asked */
	char *session, *rcpt;
	time_t delivered;
	/* found */
	char *owner;		/* the mailbox's user as Dovecot's line names it */
	char *host;		/* Dovecot's host, NULL in a log_path file */
	struct mbox_save save[MBOX_SAVES_MAX];
	size_t nsave;
	/* the owner's logins after delivery (judged login records,
	 * correlate/logins.h), in time order, MBOX_LOGINS_SHOWN at most */
	struct message **login;
	struct mbox_line *login_at;
	size_t nlogin;
	unsigned long more, in_clear, failed;	/* counted over all of them */
	bool by_local_part;	/* the logins name the owner's local part */
};

struct mbox_look;

/* The Dovecot session ID an LMTP reply names ("250 2.0.0 <rcpt> ID
 * Saved"), copied to out; false when the reply is not Dovecot's. */
bool mbox_reply_session(const char *reply, char *out, size_t outlen);

struct mbox_look *mbox_look_new(const struct writer_env *env);
/* Ask for a delivery's mailbox; the link's index. */
size_t mbox_ask(struct mbox_look *lk, const char *session, const char *rcpt, time_t delivered);
/* Read the logs once (twice when an owner is not the recipient's name)
 * and fill every link asked for. */
void mbox_look_run(struct mbox_look *lk);
const struct mbox_link *mbox_link(const struct mbox_look *lk, size_t i);
/* Inputs that could not be looked at again (standard input, an
 * unreadable file), for the story's words. */
size_t mbox_unread(const struct mbox_look *lk);
void mbox_look_free(struct mbox_look *lk);

#endif
