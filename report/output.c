/* output.c - the one place a report is committed (report/output.h).
 * tlswitness runs as root beside evidence, in directories others may write
 * to: nothing here follows a name another user could have planted.  The
 * temporary file is made by mkostemp(3) (O_CREAT|O_EXCL, a random name,
 * mode 0600) in the destination's own directory, so the rename is atomic;
 * it keeps 0600 unless the file it replaces is the invoking user's own,
 * whose read bits it takes (never a planted file's mode: another user's
 * 0666 or 6777 stays theirs).  What is sealed (signed, time-stamped) is
 * read back from the descriptor written, before the rename, never by name
 * (ARCHITECTURE.md "Writers").  Standard output closed by its reader ends
 * the run as SIGPIPE would. */
#include "output.h"
#include <openssl/evp.h>
#include "../util/textsafe.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct output {
	FILE *fp;
	char *path;		/* the destination; NULL for standard output */
	char *tmp;		/* the temporary file renamed over it, or NULL */
	int slot;		/* its place in the signal handler's list, -1 none */
	int err;		/* the first failure's errno, 0 while none */
	EVP_MD_CTX *sha;	/* SHA-256 of every byte written so far */
};

/* Temporary files a signal must not leave behind.  The handler only reads
 * this list and calls unlink(2), both async-signal-safe. */
#define OUTPUT_SLOTS 4
static char *volatile pending[OUTPUT_SLOTS];
static bool handlers_set;

static void on_fatal_signal(int sig)
{
	for (int i = 0; i < OUTPUT_SLOTS; i++)
		if (pending[i])
			unlink(pending[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int remember(char *tmp)
{
	if (!handlers_set) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_fatal_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		handlers_set = true;
	}
	for (int i = 0; i < OUTPUT_SLOTS; i++)
		if (!pending[i]) {
			pending[i] = tmp;
			return i;
		}
	return -1;
}

static void forget(int slot)
{
	if (slot >= 0)
		pending[slot] = NULL;
}

static void fail(struct output *o, int err)
{
	/* Standard output closed by its reader (tlswitness ... | head): stop
	 * at once, as a shell pipeline expects of its members - killed by
	 * SIGPIPE, quietly, instead of reading the rest for nobody.  A file
	 * named by -o or --manifest is never a reader that went away. */
	if (err == EPIPE && !o->path) {
		fflush(stderr);
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	if (!o->err)
		o->err = err ? err : EIO;
}

/* A system link to a stream, such as /dev/stdout -> /proc/self/fd/1:
 * written through.  A link anywhere else is not followed. */
static bool system_link(const char *path)
{
	return strncmp(path, "/dev/", 5) == 0 || strncmp(path, "/proc/", 6) == 0;
}

/* What path names: 'n' nothing yet, 'f' a regular file (its mode in
 * *mode), 's' a stream to write as it is (FIFO, character device), or
 * 0 with why set: something a report must not be written to. */
static char classify(const char *path, mode_t *mode, struct buf *why)
{
	struct stat sb;
	if (lstat(path, &sb) != 0) {
		if (errno == ENOENT)
			return 'n';
		buf_printf(why, "%s: %s", text_shown(path), strerror(errno));
		return 0;
	}
	if (S_ISLNK(sb.st_mode)) {
		struct stat tb;
		if (system_link(path) && stat(path, &tb) == 0 &&
		    (S_ISFIFO(tb.st_mode) || S_ISCHR(tb.st_mode)))
			return 's';
		buf_printf(why, "%s: is a symbolic link; name the file itself", text_shown(path));
		return 0;
	}
	if (S_ISFIFO(sb.st_mode) || S_ISCHR(sb.st_mode))
		return 's';
	if (S_ISREG(sb.st_mode)) {
		/* the caller's own previous report: its read bits (and the
		 * owner's write bit); nothing of anyone else's file */
		*mode = sb.st_uid == geteuid() ? (sb.st_mode & 0644) | 0600 : 0600;
		return 'f';
	}
	buf_printf(why, "%s: %s", text_shown(path), S_ISDIR(sb.st_mode) ? "is a directory"
				       : "is not a regular file, a FIFO or a character device");
	return 0;
}

/* DIR/.NAME.XXXXXX beside path: the same file system, so rename(2) is
 * atomic, and a name no one can guess. */
static char *temp_template(const char *path)
{
	const char *slash = strrchr(path, '/');
	struct buf t;
	buf_init(&t);
	if (slash)
		buf_add(&t, path, (size_t)(slash - path + 1));
	buf_printf(&t, ".%s.tmp.XXXXXX", slash ? slash + 1 : path);
	return t.p;
}

struct output *output_open(const char *path, struct buf *why)
{
	struct output *o = xcalloc(1, sizeof *o);
	o->slot = -1;
	o->sha = EVP_MD_CTX_new();
	if (o->sha && !EVP_DigestInit_ex(o->sha, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(o->sha);
		o->sha = NULL;
	}
	if (!path) {
		o->fp = stdout;
		return o;
	}
	mode_t mode = 0600;
	char kind = classify(path, &mode, why);
	if (!kind) {
		EVP_MD_CTX_free(o->sha);
		free(o);
		return NULL;
	}
	o->path = xstrdup(path);
	int fd;
	if (kind == 's') {
		int flags = O_WRONLY | O_NOCTTY | O_CLOEXEC;
		if (!system_link(path))
			flags |= O_NOFOLLOW;	/* no link planted since the lstat */
		fd = open(path, flags);
	} else {
		o->tmp = temp_template(path);
		fd = mkostemp(o->tmp, O_CLOEXEC);
		if (fd >= 0 && kind == 'f' && fchmod(fd, mode) != 0) {
			int e = errno;
			unlink(o->tmp);
			close(fd);
			fd = -1;
			errno = e;
		}
	}
	o->fp = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!o->fp) {
		buf_printf(why, "%s: %s", text_shown(path), strerror(errno));
		if (fd >= 0) {
			close(fd);
			if (o->tmp)
				unlink(o->tmp);
		}
		EVP_MD_CTX_free(o->sha);
		free(o->tmp);
		free(o->path);
		free(o);
		return NULL;
	}
	if (o->tmp)
		o->slot = remember(o->tmp);
	return o;
}

void output_flush(struct output *o, struct buf *b, bool force)
{
	if (force && !o->err && b->n == 0 && fflush(o->fp) != 0)
		fail(o, errno);
	if (b->n == 0 || (!force && b->n < (1 << 16)))
		return;
	if (o->sha)
		EVP_DigestUpdate(o->sha, b->p, b->n);
	if (!o->err && fwrite(b->p, 1, b->n, o->fp) != b->n)
		fail(o, errno);
	if (force && !o->err && fflush(o->fp) != 0)
		fail(o, errno);
	buf_reset(b);
}

void output_body_sha256(const struct output *o, const struct buf *unflushed, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || !o->sha || !EVP_MD_CTX_copy_ex(c, o->sha) ||
	    (unflushed && unflushed->n && !EVP_DigestUpdate(c, unflushed->p, unflushed->n)) ||
	    !EVP_DigestFinal_ex(c, md, &n))
		n = 0;
	EVP_MD_CTX_free(c);
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[n ? 64 : 0] = '\0';
}

bool output_failed(const struct output *o)
{
	return o->err != 0;
}

bool output_is_file(const struct output *o)
{
	return o->tmp != NULL;
}

void output_no_hash(struct output *o)
{
	EVP_MD_CTX_free(o->sha);
	o->sha = NULL;
}

/* The struct, its temporary file's name and its hash freed (the stream
 * is closed already). */
static void release(struct output *o)
{
	forget(o->slot);
	EVP_MD_CTX_free(o->sha);
	free(o->tmp);
	free(o->path);
	free(o);
}

/* The temporary file's bytes, read back through the descriptor this run
 * wrote them with (the file is 0600 and this process's own: no other user
 * has written a byte of it), checked against the SHA-256 kept while
 * writing, handed to seal.  False with why set. */
static bool seal_written(struct output *o, output_seal_fn seal, void *arg, bool bytes_needed,
			 struct buf *why)
{
	if (!bytes_needed) {	/* the hash kept while writing is all it needs */
		unsigned char kept[32];
		unsigned kn = 0;
		EVP_MD_CTX *c = EVP_MD_CTX_new();
		bool ok = c && o->sha && EVP_MD_CTX_copy_ex(c, o->sha) &&
			  EVP_DigestFinal_ex(c, kept, &kn) && kn == 32;
		EVP_MD_CTX_free(c);
		if (!ok) {
			buf_printf(why, "%s: the report's hash cannot be had; nothing sealed",
				   text_shown(o->path));
			return false;
		}
		return seal(NULL, 0, kept, arg, why);
	}
	int fd = fileno(o->fp);
	struct stat sb;
	if (fstat(fd, &sb) != 0) {
		buf_printf(why, "%s: %s", text_shown(o->path), strerror(errno));
		return false;
	}
	size_t n = (size_t)sb.st_size;
	static const unsigned char empty[1];
	const unsigned char *bytes = empty;
	void *map = MAP_FAILED;
	if (n) {
		map = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			buf_printf(why, "%s: %s", text_shown(o->path), strerror(errno));
			return false;
		}
		bytes = map;
	}
	unsigned char kept[32], read_back[32];
	unsigned kn = 0, rn = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	bool same = c && o->sha && EVP_MD_CTX_copy_ex(c, o->sha) &&
		    EVP_DigestFinal_ex(c, kept, &kn) &&
		    EVP_Digest(bytes, n, read_back, &rn, EVP_sha256(), NULL) &&
		    kn == 32 && rn == 32 && memcmp(kept, read_back, 32) == 0;
	EVP_MD_CTX_free(c);
	bool ok = false;
	if (!same)
		buf_printf(why, "%s: the bytes on disk are not the bytes written; nothing "
			   "sealed", text_shown(o->path));
	else
		ok = seal(bytes, n, kept, arg, why);
	if (map != MAP_FAILED)
		munmap(map, n);
	return ok;
}

bool output_close(struct output *o, struct buf *why)
{
	return output_close_sealed(o, NULL, NULL, false, why);
}

bool output_close_sealed(struct output *o, output_seal_fn seal, void *arg, bool bytes_needed,
			 struct buf *why)
{
	if (fflush(o->fp) != 0 || ferror(o->fp))
		fail(o, errno);
	/* the bytes on disk before the name points at them (a crash after
	 * the rename must not leave an empty report) */
	if (o->tmp && !o->err && fsync(fileno(o->fp)) != 0)
		fail(o, errno);
	bool sealed = true;
	if (seal && !o->err) {
		if (!o->tmp) {
			buf_printf(why, "%s: not a regular file, so it cannot be read back to "
				   "be sealed", o->path ? text_shown(o->path) : "standard output");
			sealed = false;
		} else {
			sealed = seal_written(o, seal, arg, bytes_needed, why);
		}
		if (!sealed && !o->err)
			o->err = -1;	/* said in why already */
	}
	if (o->path && fclose(o->fp) != 0)
		fail(o, errno);
	if (!o->err && o->tmp && rename(o->tmp, o->path) != 0)
		fail(o, errno);
	bool ok = !o->err;
	if (!ok && o->err == -1) {
		if (o->tmp)
			unlink(o->tmp);
	} else if (!ok) {
		if (o->path)
			buf_printf(why, "%s: %s", text_shown(o->path), strerror(o->err));
		else
			buf_printf(why, "writing the output failed: %s", strerror(o->err));
		if (o->tmp)
			unlink(o->tmp);
	}
	release(o);
	return ok;
}

void output_abandon(struct output *o)
{
	if (!o)
		return;
	if (o->path)
		fclose(o->fp);
	else
		fflush(o->fp);
	if (o->tmp)
		unlink(o->tmp);
	release(o);
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

bool output_check(const char *path, struct buf *why)
{
	mode_t mode;
	return classify(path, &mode, why) != 0;
}

bool output_can_seal(const char *path, struct buf *why)
{
	mode_t mode;
	char kind = classify(path, &mode, why);
	if (kind == 's')
		buf_printf(why, "%s: is a FIFO or a device, which cannot be read back to be "
			   "sealed: name a regular file", text_shown(path));
	return kind == 'n' || kind == 'f';
}
