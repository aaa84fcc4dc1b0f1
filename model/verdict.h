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

/* Tiers for a message's or a path's verdict (its worst hop of the highest
 * tier it has): 2, hops that crossed a network; 1, SMTP hops on this
 * machine (loopback); 0, hand-offs without a connection. */
struct hop;
int verdict_tier(const struct hop *h);

/* The worst of several judged hops, tier by tier: worst_init, worst_add
 * each hop, then the verdict and severity of the highest tier seen
 * ("unknown" and "info" when no hop was added). */
struct worst {
	int v[3], s[3];
};
void worst_init(struct worst *w);
void worst_add(struct worst *w, const struct hop *h);
const char *worst_verdict(const struct worst *w);
const char *worst_severity(const struct worst *w);

#endif
