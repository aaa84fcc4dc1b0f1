/* output.c - the one place a report is committed (report/output.h). */
#include "output.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct output {
	FILE *fp;
	char *path;		/* the destination; NULL for standard output */
	char *tmp;		/* the temporary file renamed over it, or NULL */
	int err;		/* the first failure's errno, 0 while none */
};

/* /dev/null, /dev/stdout, a FIFO: written as they are.  A temporary file
 * renamed over them would replace the device with a regular file. */
static bool special_file(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode);
}

static void fail(struct output *o, int err)
{
	if (!o->err)
		o->err = err ? err : EIO;
}

struct output *output_open(const char *path, struct buf *why)
{
	struct output *o = xcalloc(1, sizeof *o);
	if (!path) {
		o->fp = stdout;
		return o;
	}
	o->path = xstrdup(path);
	if (!special_file(path)) {
		struct buf t;
		buf_init(&t);
		buf_printf(&t, "%s.tmp.%ld", path, (long)getpid());
		o->tmp = t.p;
	}
	o->fp = fopen(o->tmp ? o->tmp : path, "w");
	if (!o->fp) {
		buf_printf(why, "%s: %s", o->tmp ? o->tmp : path, strerror(errno));
		free(o->tmp);
		free(o->path);
		free(o);
		return NULL;
	}
	return o;
}

void output_flush(struct output *o, struct buf *b, bool force)
{
	if (force && !o->err && b->n == 0 && fflush(o->fp) != 0)
		fail(o, errno);
	if (b->n == 0 || (!force && b->n < (1 << 16)))
		return;
	if (!o->err && fwrite(b->p, 1, b->n, o->fp) != b->n)
		fail(o, errno);
	if (force && !o->err && fflush(o->fp) != 0)
		fail(o, errno);
	buf_reset(b);
}

bool output_failed(const struct output *o)
{
	return o->err != 0;
}

bool output_close(struct output *o, struct buf *why)
{
	if (fflush(o->fp) != 0 || ferror(o->fp))
		fail(o, errno);
	if (o->path && fclose(o->fp) != 0)
		fail(o, errno);
	if (!o->err && o->tmp && rename(o->tmp, o->path) != 0)
		fail(o, errno);
	bool ok = !o->err;
	if (!ok) {
		if (o->path)
			buf_printf(why, "%s: %s", o->path, strerror(o->err));
		else
			buf_printf(why, "writing the output failed: %s", strerror(o->err));
		if (o->tmp)
			unlink(o->tmp);
	}
	free(o->tmp);
	free(o->path);
	free(o);
	return ok;
}

bool output_write_whole(const char *path, const char *bytes, size_t n, struct buf *why)
{
	struct output *o = output_open(path, why);
	if (!o)
		return false;
	if (n && fwrite(bytes, 1, n, o->fp) != n)
		fail(o, errno);
	return output_close(o, why);
}
