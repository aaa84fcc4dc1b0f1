/* postfix.h - Postfix log messages to evidence records. */
#ifndef TW_POSTFIX_H
#define TW_POSTFIX_H
#include "../model/evidence.h"

enum parse_result { PR_USED, PR_IGNORED, PR_UNKNOWN };

/* Is this program tag Postfix's?  Splits "postfix-in2/plain/smtpd" into
 * instance "postfix-in2", service "plain", program "smtpd". */
bool pf_tag(struct span tag, struct span *instance, struct span *service,
	    struct span *program);
/* Parse msg (after "tag[pid]: ") into ev, whose envelope fields are set. */
enum parse_result pf_parse(struct span msg, struct evidence *ev);
/* Parse the "TLS connection established ..." summary; shared with tests. */
bool pf_parse_tls(struct span msg, struct evidence *ev);

#endif
