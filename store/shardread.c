/* shardread.c - a report's lines (store/shardread.h). */
#include "shardread.h"
#include <stdlib.h>
#include <string.h>

#define READ_CHUNK (1u << 18)

struct shard_reader {
	gzFile gz;
	char *p;
	size_t pos, len;
	bool failed;		/* gzread said -1 */
};

struct shard_reader *shard_reader_new(gzFile gz)
{
	struct shard_reader *r = xcalloc(1, sizeof *r);
	gzbuffer(gz, READ_CHUNK);
	r->gz = gz;
	r->p = xmalloc(READ_CHUNK);
	return r;
}

bool shard_reader_line(struct shard_reader *r, struct buf *b, bool *cut, bool *toolong)
{
	buf_reset(b);
	*cut = *toolong = false;
	for (;;) {
		if (r->pos == r->len) {
			int got = r->failed ? -1 : gzread(r->gz, r->p, READ_CHUNK);
			if (got <= 0) {
				r->failed = got < 0;
				if (b->n)
					*cut = true;
				return b->n > 0;
			}
			r->pos = 0;
			r->len = (size_t)got;
		}
		const char *start = r->p + r->pos;
		const char *nl = memchr(start, '\n', r->len - r->pos);
		size_t take = nl ? (size_t)(nl - start) : r->len - r->pos;
		buf_add(b, start, take);
		r->pos += take + (nl ? 1 : 0);
		if (nl)
			return true;
		if (b->n > SHARD_LINE_MAX) {
			*toolong = true;
			return true;
		}
	}
}

bool shard_reader_failed(const struct shard_reader *r)
{
	return r->failed;
}

void shard_reader_free(struct shard_reader *r)
{
	if (!r)
		return;
	free(r->p);
	free(r);
}

const char *shard_line_problem(const struct buf *line, bool cut, bool toolong)
{
	if (toolong)
		return "a line longer than 64 MiB: not a tlswitness record";
	if (cut)
		return "the last line has no newline: the report was cut short";
	if (line->n == 0)
		return "an empty line: tlswitness writes none";
	if (line->p[0] != '{')
		return "not a JSON record: every line of a tlswitness report is a JSON object";
	if (memchr(line->p, '\0', line->n))
		return "a NUL byte: tlswitness escapes every control character";
	return NULL;
}

bool shard_line_is_manifest(const struct buf *line)
{
	static const char head[] = "{\"kind\":\"manifest\"";
	return line->n >= sizeof head - 1 && memcmp(line->p, head, sizeof head - 1) == 0;
}
