/* users.h - --format users: the retrieval leg per mailbox user (README
 * "Retrieval"), from Dovecot's login lines. */
#ifndef TW_USERS_H
#define TW_USERS_H
#include "writer.h"

extern const struct writer_class writer_users;

#endif
