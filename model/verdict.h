/* verdict.h - what a policy may say of a hop (README "Rule language"):
 * the channel's verdict and the policy's severity, each with its order
 * for "worst". */
#ifndef TW_VERDICT_H
#define TW_VERDICT_H

/* Orders for "worst": plaintext > weak > unknown > encrypted. */
int verdict_rank(const char *v);
int severity_rank(const char *s);	/* info 0 .. critical 4, -1 unknown */
extern const char *const severity_names[5];
extern const char *const verdict_names[4];

#endif
