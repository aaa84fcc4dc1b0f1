/* verdict.c - the verdict and severity vocabulary (model/verdict.h). */
#include "verdict.h"
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
