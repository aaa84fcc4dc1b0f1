/* sendmail.h - Sendmail log messages to evidence records. */
#ifndef TW_SENDMAIL_H
#define TW_SENDMAIL_H
#include "postfix.h"	/* enum parse_result */

/* sendmail, sm-mta, sm-msp-queue, sm-acceptingconnections, ... */
bool sm_tag(struct span tag);
enum parse_result sm_parse(struct span msg, struct evidence *ev);

#endif
