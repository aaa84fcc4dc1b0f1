/* verdict.c - the verdict and severity vocabulary (model/verdict.h). */
#include "verdict.h"
#include "message.h"
#include <string.h>

const char *const verdict_names[4] = { "encrypted", "unknown", "weak", "plaintext" };
const char *const severity_names[5] = { "info", "low", "medium", "high", "critical" };

int verdict_rank(const char *v)
{
	for (int i = 0; v && i < 4; i++)
		if (strcmp(v, verdict_names[i]) == 0)
			return i;
	return -1;
}

int severity_rank(const char *s)
{
	for (int i = 0; s && i < 5; i++)
		if (strcmp(s, severity_names[i]) == 0)
			return i;
	return -1;
}

int verdict_tier(const struct hop *h)
{
	return h->network ? 2 : h->local ? 0 : 1;
}

void worst_init(struct worst *w)
{
	for (int t = 0; t < 3; t++)
		w->v[t] = w->s[t] = -1;
}

void worst_add(struct worst *w, const struct hop *h)
{
	int t = verdict_tier(h), hv = verdict_rank(h->verdict), hs = severity_rank(h->severity);
	if (hv > w->v[t])
		w->v[t] = hv;
	if (hs > w->s[t])
		w->s[t] = hs;
}

static int top_tier(const struct worst *w)
{
	return w->v[2] >= 0 ? 2 : w->v[1] >= 0 ? 1 : 0;
}

const char *worst_verdict(const struct worst *w)
{
	int t = top_tier(w);
	return w->v[t] >= 0 ? verdict_names[w->v[t]] : "unknown";
}

const char *worst_severity(const struct worst *w)
{
	int t = top_tier(w);
	return w->s[t] >= 0 ? severity_names[w->s[t]] : "info";
}
