/* policy.h - YAML policies that turn a hop's facts into a verdict.
 * Schema tlswitness/1 (README "Rule language"): named sets, ordered rules
 * (first match wins), a required default.  Loading reports every error as
 * file:line:column and refuses the file. */
#ifndef TW_POLICY_H
#define TW_POLICY_H
#include "../model/message.h"
#include "../model/verdict.h"

struct policy;

/* Load from bytes; name is used in messages.  On errors returns NULL and
 * appends "name:line:col: message\n" lines to errs. */
struct policy *policy_load(const char *name, const char *data, size_t len,
			   struct buf *errs);
/* Load from a file (a read error is reported the same way). */
struct policy *policy_load_file(const char *path, struct buf *errs);
/* The built-in policy (rules/default.yaml, compiled in). */
struct policy *policy_builtin(struct buf *errs);
const char *policy_builtin_text(void);
void policy_free(struct policy *p);

const char *policy_name(const struct policy *p);
/* Is ip inside the policy's "internal" networks set? */
bool policy_trusts(const struct policy *p, const char *ip);
/* Is domain in the policy's "partners" domain set: 1 or 0; -1 when the
 * policy names no partners. */
int policy_partner(const struct policy *p, const char *domain);
size_t policy_nrules(const struct policy *p);
const char *policy_rule_id(const struct policy *p, size_t i);

/* Judge one hop of m: sets h->verdict, severity, rule, explain.  p is
 * written: its conditions remember their last answers (rules/evaluate.c),
 * so one thread at a time judges by one policy. */
void policy_judge(const struct policy *p, const struct message *m, struct hop *h);
/* Does rule i's when hold of h, and none of its unless?  (The hop is
 * not judged: nothing in it changes.)  --where uses it. */
bool policy_rule_matches(struct policy *p, size_t i, const struct message *m,
			 const struct hop *h);
/* Judge every hop, then the message: its worst hop that crossed a
 * network (every hop if none did). */
void policy_judge_message(const struct policy *p, struct message *m);

#endif
