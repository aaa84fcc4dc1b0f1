/* linesrc.c - a streaming line reader over plain or gzip input.
 * Memory: one input block and one line window, whatever the file size.
 * Errors: open/stat/read failures, a directory, a corrupt or truncated gzip
 * stream; each as text for the caller to prefix with the file name. */
#include "linesrc.h"
#include "../util/spsc.h"
#include <errno.h>
#include <openssl/evp.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define IN_BLOCK (256 * 1024)
#define WIN_SIZE (512 * 1024)
#define CHUNK (256 * 1024)	/* what the reading thread hands over */
#define NCHUNKS 4

/* With ls_prefetch, a second thread reads, hashes and inflates into a ring
 * of chunks while the caller (ls_read: a capture's reader) decodes packets:
 * the two halves of the work overlap.  Logs get the same overlap from
 * lineblocks.c, whose thread calls ls_next itself.  Only that thread touches the decoding state (fd, in, zs,
 * sha, bytes_in, err) until it has published its last chunk. */
struct chunk {
	char *p;
	long got;		/* bytes, 0 at the end, -1 on error */
};

struct prefetch {
	pthread_t thread;
	struct chunk chunk[NCHUNKS];
	struct spsc *empty, *full;	/* chunks to fill; chunks filled, in order */
	struct chunk *cur;	/* the one being taken from, or NULL */
	size_t off;		/* taken so far from cur */
};

struct linesrc {
	int fd;
	bool is_stdin, gzip, eof, zend, binary, failed;
	bool cut_short;		/* the error: a stream that ends too soon */
	time_t mtime;
	z_stream zs;
	unsigned char *in;
	size_t in_len;
	/* Decoded bytes: [start, len) not yet handed out. */
	char *win;
	size_t start, len;
	bool skipping;		/* inside an over-long line */
	unsigned long lineno;
	struct ls_stats st;
	EVP_MD_CTX *sha;	/* the manifest's hash, computed as we read */
	struct prefetch *pf;	/* NULL: decode on the caller's thread */
	bool pf_done;		/* the thread published its end or error */
	uint64_t skipped;	/* decoded bytes a resumed reading passed over */
	bool hold_tail;		/* a last line without its newline waits */
	size_t held;		/* ... and how long it was */
	char err[256];
};

/* Standard input's first bytes, read once to tell its kind (ls_stdin_peek)
 * and handed back to the first reader of "-" before the rest of it. */
#define STDIN_PEEK (64 * 1024)
static struct {
	unsigned char *p;
	size_t n, off;
	bool read;
} peek;

const unsigned char *ls_stdin_peek(size_t *n)
{
	if (!peek.read) {
		peek.read = true;
		peek.p = xmalloc(STDIN_PEEK);
		while (peek.n < STDIN_PEEK) {
			ssize_t r = read(0, peek.p + peek.n, STDIN_PEEK - peek.n);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;	/* an error shows again to the reader */
			peek.n += (size_t)r;
		}
	}
	*n = peek.n;
	return peek.p;
}

static ssize_t read_some(struct linesrc *ls, void *dst, size_t n)
{
	if (ls->is_stdin && peek.off < peek.n) {
		size_t k = peek.n - peek.off < n ? peek.n - peek.off : n;
		memcpy(dst, peek.p + peek.off, k);
		peek.off += k;
		ls->st.bytes_in += (uint64_t)k;
		EVP_DigestUpdate(ls->sha, dst, k);
		return (ssize_t)k;
	}
	for (;;) {
		ssize_t r = read(ls->fd, dst, n);
		if (r >= 0 || errno != EINTR) {
			if (r > 0) {
				ls->st.bytes_in += (uint64_t)r;
				EVP_DigestUpdate(ls->sha, dst, (size_t)r);
			}
			return r;
		}
	}
}

struct spooled {
	char *path;		/* as named */
	char real[40];		/* /proc/self/fd/N of the copy */
	FILE *copy;		/* unlinked: gone when closed */
};
static struct spooled *spooled;
static size_t nspooled;

static bool spool(const char *path, int in, const unsigned char *pre, size_t npre,
		  struct buf *why);

bool ls_spool_if_pipe(const char *path, struct buf *why)
{
	struct stat sb;
	if (strcmp(path, "-") == 0 || ls_real_path(path) != path || stat(path, &sb) != 0 ||
	    S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode))
		return true;
	int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		buf_printf(why, "%s", strerror(errno));
		return false;
	}
	return spool(path, in, NULL, 0, why);
}

bool ls_spool_stdin(struct buf *why)
{
	if (strcmp(ls_real_path("-"), "-") != 0)
		return true;	/* copied already */
	size_t n;
	const unsigned char *p = ls_stdin_peek(&n);
	peek.off = peek.n;	/* the copy holds them */
	return spool("-", 0, p, n, why);
}

/* Copy what is left of in, after the bytes already read (pre), to an
 * unlinked temporary file that later opens of path read instead. */
static bool spool(const char *path, int in, const unsigned char *pre, size_t npre,
		  struct buf *why)
{
	FILE *copy = tmpfile();
	if (!copy) {
		buf_printf(why, "cannot make a temporary copy of it: %s", strerror(errno));
		if (in != 0)
			close(in);
		return false;
	}
	char *b = xmalloc(1 << 16);
	ssize_t n = 0;
	bool ok = !npre || fwrite(pre, 1, npre, copy) == npre;
	while (ok && ((n = read(in, b, 1 << 16)) > 0 || (n < 0 && errno == EINTR)))
		if (n > 0 && fwrite(b, 1, (size_t)n, copy) != (size_t)n) {
			ok = false;
			break;
		}
	if (n < 0 || fflush(copy) != 0)
		ok = false;
	if (!ok)
		buf_printf(why, "copying it to a temporary file failed: %s", strerror(errno));
	free(b);
	if (in != 0)
		close(in);
	if (!ok) {
		fclose(copy);
		return false;
	}
	spooled = xrealloc(spooled, (nspooled + 1) * sizeof *spooled);
	struct spooled *s = &spooled[nspooled++];
	s->path = xstrdup(path);
	snprintf(s->real, sizeof s->real, "/proc/self/fd/%d", fileno(copy));
	s->copy = copy;
	return true;
}

void ls_spool_adopt(const char *path, FILE *copy)
{
	spooled = xrealloc(spooled, (nspooled + 1) * sizeof *spooled);
	struct spooled *s = &spooled[nspooled++];
	s->path = xstrdup(path);
	snprintf(s->real, sizeof s->real, "/proc/self/fd/%d", fileno(copy));
	s->copy = copy;
}

const char *ls_real_path(const char *path)
{
	for (size_t i = 0; i < nspooled; i++)
		if (strcmp(spooled[i].path, path) == 0)
			return spooled[i].real;
	return path;
}

void ls_spool_free(void)
{
	for (size_t i = 0; i < nspooled; i++) {
		fclose(spooled[i].copy);
		free(spooled[i].path);
	}
	free(spooled);
	spooled = NULL;
	nspooled = 0;
}

/* Binary, not a damaged text log: NUL bytes, and the rest of the block is
 * not text - no line break, or more than one byte in 16 a control
 * character other than TAB, CR, LF, FF and ESC.  A log cut by a crash
 * holds runs of zeros between its lines; its other bytes are text, and
 * its lines are read (syslog.c skips the zeros). */
static bool looks_binary(const unsigned char *p, size_t n)
{
	if (!memchr(p, '\0', n))
		return false;
	size_t text = 0, controls = 0;
	bool newline = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if (c == '\0')
			continue;
		text++;
		newline |= c == '\n';
		if (c < 0x20 && c != '\t' && c != '\r' && c != '\n' && c != '\f' && c != 0x1b)
			controls++;
	}
	return !newline || controls * 16 > text;
}

struct linesrc *ls_open(const char *path, struct buf *why)
{
	struct linesrc *ls = xcalloc(1, sizeof *ls);
	struct stat sb;
	if (strcmp(path, "-") == 0 && ls_real_path(path) == path) {	/* not spooled */
		ls->fd = 0;
		ls->is_stdin = true;
		ls->mtime = time(NULL);
	} else {
		ls->fd = open(ls_real_path(path), O_RDONLY | O_CLOEXEC);
		if (ls->fd < 0) {
			buf_printf(why, "%s", strerror(errno));
			free(ls);
			return NULL;
		}
		if (fstat(ls->fd, &sb) != 0) {
			buf_printf(why, "%s", strerror(errno));
			close(ls->fd);
			free(ls);
			return NULL;
		}
		if (S_ISDIR(sb.st_mode)) {
			buf_printf(why, "is a directory, not a log file");
			close(ls->fd);
			free(ls);
			return NULL;
		}
		ls->mtime = sb.st_mtime;
	}
	ls->in = xmalloc(IN_BLOCK);
	ls->win = xmalloc(WIN_SIZE);
	ls->sha = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ls->sha, EVP_sha256(), NULL);
	ssize_t r = read_some(ls, ls->in, IN_BLOCK);
	if (r < 0) {
		buf_printf(why, "%s", strerror(errno));
		ls_close(ls);
		return NULL;
	}
	ls->in_len = (size_t)r;
	if (ls->in_len >= 2 && ls->in[0] == 0x1f && ls->in[1] == 0x8b) {
		ls->gzip = true;
		/* 15 + 16: gzip wrapper only (RFC 1952). */
		if (inflateInit2(&ls->zs, 15 + 16) != Z_OK) {
			buf_printf(why, "zlib initialisation failed");
			ls_close(ls);
			return NULL;
		}
		ls->zs.next_in = ls->in;
		ls->zs.avail_in = (uInt)ls->in_len;
	} else {
		ls->binary = looks_binary(ls->in, ls->in_len);
	}
	return ls;
}

/* Decode up to room bytes into dst; returns bytes written, 0 at the end,
 * -1 on error (ls->err says why). */
static long decode(struct linesrc *ls, char *dst, size_t room)
{
	if (!ls->gzip) {
		if (ls->in_len) {	/* the first block, read by ls_open */
			size_t n = ls->in_len < room ? ls->in_len : room;
			memcpy(dst, ls->in, n);
			memmove(ls->in, ls->in + n, ls->in_len - n);
			ls->in_len -= n;
			return (long)n;
		}
		ssize_t r = read_some(ls, dst, room);
		if (r < 0) {
			snprintf(ls->err, sizeof ls->err, "read error: %s", strerror(errno));
			return -1;
		}
		return (long)r;
	}
	ls->zs.next_out = (unsigned char *)dst;
	ls->zs.avail_out = (uInt)room;
	while (ls->zs.avail_out == room) {
		if (ls->zs.avail_in == 0) {
			if (ls->eof)
				break;
			ssize_t r = read_some(ls, ls->in, IN_BLOCK);
			if (r < 0) {
				snprintf(ls->err, sizeof ls->err, "read error: %s",
					 strerror(errno));
				return -1;
			}
			if (r == 0) {
				ls->eof = true;
				break;
			}
			ls->zs.next_in = ls->in;
			ls->zs.avail_in = (uInt)r;
		}
		if (ls->zend) {
			/* Another member must start with the magic (RFC 1952
			 * section 2.2); anything else is trailing garbage. */
			if (ls->zs.avail_in < 2 && !ls->eof) {
				/* keep the byte, read more */
				unsigned char c = ls->zs.next_in[0];
				ssize_t r = read_some(ls, ls->in + 1, IN_BLOCK - 1);
				ls->in[0] = c;
				if (r <= 0)
					ls->eof = true;
				ls->zs.next_in = ls->in;
				ls->zs.avail_in = 1 + (uInt)(r > 0 ? r : 0);
				if (ls->zs.avail_in < 2)
					goto garbage;
			}
			if (ls->zs.next_in[0] != 0x1f || ls->zs.next_in[1] != 0x8b)
				goto garbage;
			inflateReset(&ls->zs);
			ls->zend = false;
		}
		int rc = inflate(&ls->zs, Z_NO_FLUSH);
		if (rc == Z_STREAM_END) {
			ls->zend = true;
			continue;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			snprintf(ls->err, sizeof ls->err,
				 "corrupt gzip data at compressed offset %llu: %s",
				 (unsigned long long)(ls->st.bytes_in - ls->zs.avail_in),
				 ls->zs.msg ? ls->zs.msg : "inflate error");
			return -1;
		}
	}
	size_t got = room - ls->zs.avail_out;
	if (got == 0 && ls->eof && !ls->zend) {
		snprintf(ls->err, sizeof ls->err,
			 "truncated gzip stream: it ends at compressed offset %llu "
			 "inside a member", (unsigned long long)ls->st.bytes_in);
		ls->cut_short = true;
		return -1;
	}
	return (long)got;
garbage:
	snprintf(ls->err, sizeof ls->err,
		 "trailing bytes after the gzip stream at compressed offset %llu",
		 (unsigned long long)(ls->st.bytes_in - ls->zs.avail_in));
	return -1;
}

static void *prefetch_run(void *arg)
{
	struct linesrc *ls = arg;
	struct prefetch *pf = ls->pf;
	struct chunk *c;
	while ((c = spsc_get(pf->empty))) {	/* NULL: stopped */
		c->got = decode(ls, c->p, CHUNK);
		if (!spsc_put(pf->full, c) || c->got <= 0)
			break;
	}
	return NULL;
}

void ls_prefetch(struct linesrc *ls)
{
	if (ls->pf || ls->failed)
		return;
	struct prefetch *pf = xcalloc(1, sizeof *pf);
	pf->empty = spsc_new(NCHUNKS);
	pf->full = spsc_new(NCHUNKS);
	for (int i = 0; i < NCHUNKS; i++) {
		pf->chunk[i].p = xmalloc(CHUNK);
		spsc_put(pf->empty, &pf->chunk[i]);
	}
	ls->pf = pf;
	if (pthread_create(&pf->thread, NULL, prefetch_run, ls) != 0) {
		ls->pf = NULL;	/* no thread: decode here, as before */
		for (int i = 0; i < NCHUNKS; i++)
			free(pf->chunk[i].p);
		spsc_free(pf->empty);
		spsc_free(pf->full);
		free(pf);
	}
}

static void prefetch_stop(struct linesrc *ls)
{
	struct prefetch *pf = ls->pf;
	if (!pf)
		return;
	spsc_close(pf->empty);	/* a thread waiting for room or a chunk returns */
	spsc_close(pf->full);
	pthread_join(pf->thread, NULL);
	for (int i = 0; i < NCHUNKS; i++)
		free(pf->chunk[i].p);
	spsc_free(pf->empty);
	spsc_free(pf->full);
	free(pf);
	ls->pf = NULL;
}

/* Take up to room bytes of the reading thread's output. */
static long take(struct linesrc *ls, char *dst, size_t room)
{
	struct prefetch *pf = ls->pf;
	if (ls->pf_done)
		return 0;
	if (!pf->cur)
		pf->cur = spsc_get(pf->full);
	long got = pf->cur ? pf->cur->got : 0;
	if (got <= 0) {
		ls->pf_done = true;
		return got;
	}
	size_t n = (size_t)got - pf->off;
	if (n > room)
		n = room;
	memcpy(dst, pf->cur->p + pf->off, n);
	pf->off += n;
	if (pf->off == (size_t)got) {	/* used up: back to be filled */
		pf->off = 0;
		spsc_put(pf->empty, pf->cur);
		pf->cur = NULL;
	}
	return (long)n;
}

/* Append decoded bytes after [start, len); returns bytes added, 0 at end,
 * -1 on error.  Caller has made room. */
static long fill(struct linesrc *ls)
{
	return decode(ls, ls->win + ls->len, WIN_SIZE - ls->len);
}

long ls_read(struct linesrc *ls, void *dst, size_t n)
{
	if (ls->failed)
		return -1;
	long got = ls->pf ? take(ls, dst, n) : decode(ls, dst, n);
	if (got < 0)
		ls->failed = true;
	else
		ls->st.bytes_out += (uint64_t)got;
	return got;
}

int ls_next(struct linesrc *ls, struct span *line)
{
	if (ls->failed)
		return -1;
	for (;;) {
		char *s = ls->win + ls->start;
		char *nl = memchr(s, '\n', ls->len - ls->start);
		if (nl) {
			size_t n = (size_t)(nl - s);
			ls->start += n + 1;
			ls->lineno++;
			ls->st.lines++;
			ls->st.bytes_out += n + 1;
			if (ls->skipping) {
				ls->skipping = false;
				continue;
			}
			if (n && s[n - 1] == '\r')
				n--;
			if (n > LS_MAX_LINE) {
				ls->st.too_long++;
				continue;
			}
			*line = (struct span){ s, n };
			return 1;
		}
		/* No newline in the window: compact, then read more. */
		size_t pending = ls->len - ls->start;
		if (pending > LS_MAX_LINE) {
			/* Over-long line: drop what we have, skip to its end. */
			if (!ls->skipping)
				ls->st.too_long++;
			ls->skipping = true;
			ls->st.bytes_out += pending;
			pending = 0;
			ls->start = ls->len;
		}
		memmove(ls->win, ls->win + ls->start, pending);
		ls->start = 0;
		ls->len = pending;
		long got = fill(ls);
		if (got < 0) {
			ls->failed = true;
			return -1;
		}
		if (got == 0) {
			if (ls->len == 0) {
				return 0;
			}
			/* Last line without a newline: with --state it may be
			 * one syslog is still writing, and waits for the next run. */
			if (ls->hold_tail && !ls->skipping) {
				ls->held = ls->len;
				ls->len = ls->start = 0;
				return 0;
			}
			ls->lineno++;
			ls->st.lines++;
			ls->st.bytes_out += ls->len;
			size_t n = ls->len;
			ls->start = ls->len;
			if (ls->skipping) {
				ls->skipping = false;
				ls->len = 0;
				ls->start = 0;
				return 0;
			}
			if (n && ls->win[n - 1] == '\r')
				n--;
			*line = (struct span){ ls->win, n };
			ls->len = 0;
			ls->start = 0;
			return 1;
		}
		ls->len += (size_t)got;
	}
}

bool ls_resume(struct linesrc *ls, uint64_t offset, unsigned long lineno, bool hold_tail,
	       struct buf *why)
{
	ls->hold_tail = hold_tail;
	ls->lineno = lineno;
	if (!offset)
		return true;
	if (!ls->gzip) {
		struct stat sb;
		if (ls->is_stdin || fstat(ls->fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
			buf_printf(why, "cannot go on where the last run stopped: not a regular file");
			return false;
		}
		if ((uint64_t)sb.st_size < offset) {
			buf_printf(why, "is shorter (%llu bytes) than where the last run stopped "
				   "(%llu): it was truncated or replaced",
				   (unsigned long long)sb.st_size, (unsigned long long)offset);
			return false;
		}
		/* what follows is hashed from here: the manifest says where */
		EVP_DigestInit_ex(ls->sha, EVP_sha256(), NULL);
		if (offset <= ls->in_len) {
			memmove(ls->in, ls->in + offset, ls->in_len - offset);
			ls->in_len -= (size_t)offset;
		} else {
			if (lseek(ls->fd, (off_t)offset, SEEK_SET) < 0) {
				buf_printf(why, "cannot seek: %s", strerror(errno));
				return false;
			}
			ls->in_len = 0;
		}
		EVP_DigestUpdate(ls->sha, ls->in, ls->in_len);
		ls->st.bytes_in = ls->in_len;
		ls->skipped = offset;
		return true;
	}
	/* gzip: inflate past what was read (RFC 1952 has no index to seek by) */
	char *scratch = xmalloc(1 << 16);
	uint64_t left = offset;
	while (left) {
		size_t room = left < (1 << 16) ? (size_t)left : (1 << 16);
		long got = decode(ls, scratch, room);
		if (got <= 0) {
			free(scratch);
			if (got < 0)
				buf_printf(why, "%s", ls->err);
			else
				buf_printf(why, "holds fewer bytes (%llu) than where the last run "
					   "stopped (%llu)", (unsigned long long)(offset - left),
					   (unsigned long long)offset);
			return false;
		}
		left -= (uint64_t)got;
	}
	free(scratch);
	ls->skipped = offset;
	return true;
}

bool ls_skip_to(struct linesrc *ls, uint64_t offset, unsigned long lineno, struct buf *why)
{
	uint64_t at = ls_offset(ls);
	size_t pending = ls->len - ls->start;
	if (offset < at || ls->pf) {
		buf_printf(why, "cannot go back in a stream");
		return false;
	}
	if (offset - at <= pending) {	/* inside what is decoded already */
		ls->start += (size_t)(offset - at);
	} else if (!ls->gzip) {
		if (lseek(ls->fd, (off_t)offset, SEEK_SET) < 0) {
			buf_printf(why, "cannot seek: %s", strerror(errno));
			return false;
		}
		ls->in_len = 0;
		ls->start = ls->len = 0;
	} else {
		uint64_t left = offset - at - pending;
		ls->start = ls->len = 0;
		while (left) {	/* no index into a gzip stream: inflated past */
			size_t room = left < WIN_SIZE ? (size_t)left : WIN_SIZE;
			long got = decode(ls, ls->win, room);
			if (got <= 0) {
				buf_printf(why, "%s", got < 0 ? ls->err : "it ends before that offset");
				return false;
			}
			left -= (uint64_t)got;
		}
	}
	ls->skipping = false;
	ls->skipped = offset - ls->st.bytes_out;
	ls->lineno = lineno;
	return true;
}

uint64_t ls_offset(const struct linesrc *ls) { return ls->skipped + ls->st.bytes_out; }
size_t ls_held(const struct linesrc *ls) { return ls->held; }

bool ls_prefix_sha256(const char *path, uint64_t n, unsigned char md[32], uint64_t *got)
{
	struct buf why;
	buf_init(&why);
	struct linesrc *ls = ls_open(path, &why);
	buf_free(&why);
	*got = 0;
	if (!ls)
		return false;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	char b[4096];
	bool ok = true;
	while (*got < n) {
		size_t room = n - *got < sizeof b ? (size_t)(n - *got) : sizeof b;
		long r = decode(ls, b, room);
		if (r < 0)
			ok = false;
		if (r <= 0)
			break;
		EVP_DigestUpdate(c, b, (size_t)r);
		*got += (uint64_t)r;
	}
	unsigned mdn = 0;
	EVP_DigestFinal_ex(c, md, &mdn);
	EVP_MD_CTX_free(c);
	ls_close(ls);
	return ok;
}

unsigned long ls_lineno(const struct linesrc *ls) { return ls->lineno; }
const char *ls_error(const struct linesrc *ls) { return ls->err; }
bool ls_cut_short(const struct linesrc *ls) { return ls->cut_short; }
bool ls_is_gzip(const struct linesrc *ls) { return ls->gzip; }
bool ls_looks_binary(const struct linesrc *ls) { return ls->binary; }
time_t ls_mtime(const struct linesrc *ls) { return ls->mtime; }
const struct ls_stats *ls_stats(const struct linesrc *ls) { return &ls->st; }

void ls_close(struct linesrc *ls)
{
	if (!ls)
		return;
	prefetch_stop(ls);
	if (ls->gzip)
		inflateEnd(&ls->zs);
	if (!ls->is_stdin && ls->fd >= 0)
		close(ls->fd);
	free(ls->in);
	free(ls->win);
	EVP_MD_CTX_free(ls->sha);
	free(ls);
}

void ls_sha256(struct linesrc *ls, char hex[65])
{
	static const char hx[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	EVP_MD_CTX_copy_ex(copy, ls->sha);
	EVP_DigestFinal_ex(copy, md, &n);
	EVP_MD_CTX_free(copy);
	for (unsigned i = 0; i < n; i++) {
		hex[2 * i] = hx[md[i] >> 4];
		hex[2 * i + 1] = hx[md[i] & 15];
	}
	hex[2 * n] = '\0';
}
