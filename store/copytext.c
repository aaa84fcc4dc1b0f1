/* copytext.c - a record as a COPY text row (store/copytext.h). */
#include "copytext.h"
#include <stdio.h>

unsigned copytext_row(struct buf *b, unsigned long long line, const char *rec, size_t n)
{
	char num[24];
	int k = snprintf(num, sizeof num, "%llu\t", line);
	buf_add(b, num, (size_t)k);
	buf_reserve(b, n * 2 + 1);
	unsigned nul = 0;
	size_t i = 0;
	while (i < n) {
		size_t run = i;
		while (run < n && rec[run] != '\\' && rec[run] != '\t' && rec[run] != '\r' &&
		       rec[run] != '\n')
			run++;
		buf_add(b, rec + i, run - i);
		i = run;
		if (i == n)
			break;
		char c = rec[i];
		if (c == '\t') {
			buf_add(b, "\\t", 2);
			i++;
		} else if (c == '\r') {
			buf_add(b, "\\r", 2);
			i++;
		} else if (c == '\n') {
			buf_add(b, "\\n", 2);
			i++;
		} else if (i + 5 < n && rec[i + 1] == 'u' && rec[i + 2] == '0' && rec[i + 3] == '0' &&
			   rec[i + 4] == '0' && rec[i + 5] == '0') {
			/* JSON's escape of U+0000 (RFC 8259 7): PostgreSQL's
			 * jsonb refuses it */
			buf_add(b, "\\\\ufffd", 7);
			i += 6;
			nul++;
		} else {
			/* a JSON escape: its backslash doubled for COPY, and the
			 * escaped character taken with it, so "\\u0000" (an
			 * escaped backslash, then text) is left alone */
			buf_add(b, "\\\\", 2);
			i++;
			if (i < n && rec[i] == '\\') {
				buf_add(b, "\\\\", 2);
				i++;
			}
		}
	}
	buf_addc(b, '\n');
	return nul;
}
