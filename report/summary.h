/* summary.h - counts of messages and hops per verdict and severity, as the
 * text and HTML reports open with. */
#ifndef TW_SUMMARY_H
#define TW_SUMMARY_H
#include "../model/message.h"

struct summary {
	unsigned long messages, hops;
	unsigned long msg_verdict[4], msg_severity[5];
	unsigned long hop_verdict[4], hop_severity[5];
};

void summary_add(struct summary *s, const struct message *m);

#endif
