/* fileid.c - files known by identity (util/fileid.h). */
#include "fileid.h"
#include "textsafe.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fileid_open_regular(const char *path, const char *what, struct buf *why)
{
	int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0) {
		buf_printf(why, "%s%s%s: %s", what ? what : "", what ? ": " : "", text_shown(path),
			   strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		buf_printf(why, "%s%s%s: %s", what ? what : "", what ? ": " : "", text_shown(path),
			   S_ISDIR(sb.st_mode) ? "is a directory" : "is not a regular file");
		close(fd);
		return -1;
	}
	fileid_blocking(fd);
	return fd;
}

void fileid_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

bool fileid_read_key(const char *path, const char *what, unsigned char *key, size_t cap,
		     size_t *len, struct buf *why)
{
	*len = 0;
	int fd = fileid_open_regular(path, what, why);
	if (fd < 0)
		return false;
	ssize_t r;
	while ((r = read(fd, key + *len, cap - *len)) > 0 || (r < 0 && errno == EINTR))
		if (r > 0)
			*len += (size_t)r;
	close(fd);
	while (*len && (key[*len - 1] == '\n' || key[*len - 1] == '\r'))
		(*len)--;
	if (*len < 16) {
		buf_printf(why, "%s%s%s: a key needs at least 16 bytes", what ? what : "",
			   what ? ": " : "", text_shown(path));
		return false;
	}
	return true;
}

bool fileid_read_all(const char *path, const char *what, size_t max, char **p, size_t *n,
		     struct buf *why)
{
	*p = NULL;
	*n = 0;
	int fd = fileid_open_regular(path, what, why);
	if (fd < 0)
		return false;
	struct stat sb;
	if (fstat(fd, &sb) != 0 || (uint64_t)sb.st_size > max) {
		buf_printf(why, "%s%s%s: larger than %zu bytes", what ? what : "", what ? ": " : "",
			   text_shown(path), max);
		close(fd);
		return false;
	}
	size_t cap = (size_t)sb.st_size + 1;
	char *b = xmalloc(cap);
	size_t got = 0;
	for (;;) {
		if (got + 1 >= cap) {	/* grown since the fstat */
			if (cap > max) {
				buf_printf(why, "%s%s%s: larger than %zu bytes", what ? what : "",
					   what ? ": " : "", text_shown(path), max);
				free(b);
				close(fd);
				return false;
			}
			cap *= 2;
			b = xrealloc(b, cap);
		}
		ssize_t r = read(fd, b + got, cap - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			buf_printf(why, "%s%s%s: %s", what ? what : "", what ? ": " : "",
				   text_shown(path), strerror(errno));
			free(b);
			close(fd);
			return false;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	b[got] = '\0';
	*p = b;
	*n = got;
	return true;
}

bool fileid_of(const char *path, struct fileid *id)
{
	struct stat sb;
	memset(id, 0, sizeof *id);
	if (!path || !*path)
		return false;
	if (stat(path, &sb) == 0) {
		id->dev = sb.st_dev;
		id->ino = sb.st_ino;
		id->exists = true;
		return true;
	}
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	struct buf dir;
	buf_init(&dir);
	if (slash)
		buf_add(&dir, path, (size_t)(slash - path) + 1);
	else
		buf_adds(&dir, ".");
	bool ok = stat(dir.p, &sb) == 0;
	buf_free(&dir);
	if (!ok)
		return false;
	id->dev = sb.st_dev;
	id->ino = sb.st_ino;
	id->name = name;
	return true;
}

bool fileid_same(const struct fileid *a, const struct fileid *b)
{
	if (a->exists != b->exists || a->dev != b->dev || a->ino != b->ino)
		return false;
	return a->exists || strcmp(a->name, b->name) == 0;
}
