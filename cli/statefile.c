/* statefile.c - the state one run hands the next (cli/statefile.h).
 *
 * Layout (util/serial.h encodings), version STATE_VERSION:
 *   "tlswitness state\n", version, when written, the tool's version,
 *   whether it is sealed with a key (--state-key),
 *   what it is bound to: the folders of the logs it was written for,
 *   the chain: the SHA-256 of the state the run read (zero for a first
 *     run), and the report it belongs to (id, SHA-256, absolute path),
 *   the files: path, name, device, inode, gzip, the length and SHA-256 of
 *     their first bytes (at most PREFIX_MAX), and for a log read by the
 *     run where it stopped (offset, line, stamp year inference, clock),
 *   the tracker's open state (correlate/track_save.c), its evidence
 *     naming files by their place in the list above,
 *   a seal of every byte before it: SHA-256, or HMAC-SHA-256 (RFC 2104)
 *     with the --state-key.
 * Nothing another user could have planted is believed: the state, its
 * lock and its pending copy must be the caller's own, not writable by
 * others, in a folder others cannot write to (ARCHITECTURE.md "State
 * between runs"; docs/threat-model.md).  A run writes the new state to
 * FILE.pending before its report is renamed into place and renames it
 * over FILE after: a run that stopped between the two leaves a pending
 * state that names its report, taken up when that report is there with
 * the bytes it names, dropped when it is not.
 * A file is known again by device and inode with the same first bytes (a
 * rename: mail.log -> mail.log.1), else by its first bytes alone (a copy,
 * a compressed copy: mail.log.2.gz, or copytruncate's copy). */
#include "statefile.h"
#include "version.h"
#include "../correlate/track.h"
#include "../ingest/linesrc.h"
#include "../model/message_io.h"
#include "../util/serial.h"
#include "../util/textsafe.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include "../util/fileid.h"
#include "../report/manifest.h"
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATE_MAGIC "tlswitness state\n"
#define STATE_VERSION MSG_LAYOUT_VERSION
/* Version 6 lacks the hosts' LMTP-client TLS flag (correlate/track_save.c):
 * read, with that flag taken as unseen. */
#define STATE_VERSION_OLDEST 6
#define PREFIX_MAX 4096
#define STATE_FILES_MAX 1000000

struct sfile {
	char *path, *name;		/* as given; as evidence names it */
	uint64_t dev, ino;
	bool gzip;
	uint64_t prefix_len;
	unsigned char prefix[32];
	bool resumable;			/* a log the run read: where it stopped */
	struct ml_resume at;
	/* A gzip file read to its end: it will not grow (logrotate compresses
	 * what it has rotated away), so as long as its size and mtime are
	 * these it is not inflated again. */
	bool whole;
	uint64_t size;
	int64_t mtime;
	/* A journal's mail entries ("journal", "journal:PATH"): known by that
	 * name, gone on from after the entry of this cursor. */
	bool journal;
	char *cursor;
	int file_id;			/* this run's, -1: not among the inputs */
};

struct cur {				/* one of this run's logs */
	bool known;			/* stat and first bytes read */
	uint64_t dev, ino, size;
	int64_t mtime;
	bool gzip;
	unsigned char head[PREFIX_MAX];
	size_t nhead;
	int entry;			/* the state's file it is, -1 none */
	bool unchanged;			/* ... a gzip file read whole, as it was */
	struct ml_resume journal_at;	/* a journal's: from its first line, the
					   lines numbered on from the last run's */
};

struct state_file {
	char *path;
	int lockfd;
	unsigned char key[256];		/* --state-key */
	size_t klen;
	/* read from the state: the folders it is bound to, and the chain */
	char **folders;
	size_t nfolders;
	unsigned char read_sha[32];	/* of the state read; zero: none */
	bool have_read;
	char *prev_report_id, *prev_report_path;
	char prev_report_sha[65];
	bool pending;			/* saved to FILE.pending, not yet committed */
	unsigned char *raw;
	size_t nraw;
	struct sfile *f;
	size_t nf;
	struct ser_in tracker;		/* the tracker's bytes in raw */
	unsigned version;		/* the state's layout version */
	struct cur *cur;		/* by this run's file id */
	size_t ninputs;
	int *map;			/* the state's file -> this run's file id */
	size_t *ghost;			/* entries shown as ghosts, in order */
	size_t nghosts;
	/* this run's journals: their names and the cursors they were read to */
	char **jname, **jcursor;
	size_t nj;
	/* saving: the new state's files, in order */
	int *saved_as;			/* this run's file id -> the new state's */
	struct saved { bool input; size_t at; } *saved;	/* a file id, or a ghost */
	size_t nsaved;
};

static void sha256(const void *p, size_t n, unsigned char md[32])
{
	unsigned mdn = 0;
	EVP_Digest(p, n, md, &mdn, EVP_sha256(), NULL);
}

/* The trailer: SHA-256 of the bytes, or HMAC-SHA-256 with the key. */
static void seal(const struct state_file *s, const void *p, size_t n, unsigned char md[32])
{
	unsigned mdn = 0;
	if (s->klen)
		HMAC(EVP_sha256(), s->key, (int)s->klen, p, n, md, &mdn);
	else
		sha256(p, n, md);
}

/* Is the open file fd (named path) one the caller can trust: a regular
 * file of the caller's own, not writable by group or others, in a folder
 * no one else can write to (or a sticky one, where no one else can
 * replace the caller's files)?  False with why set. */
static bool ours(int fd, const char *path, const char *what, struct buf *why)
{
	struct stat sb, db;
	if (fstat(fd, &sb) != 0) {
		buf_printf(why, "--state: %s: %s", text_shown(path), strerror(errno));
		return false;
	}
	if (!S_ISREG(sb.st_mode)) {
		buf_printf(why, "--state: %s: %s is not a regular file", text_shown(path), what);
		return false;
	}
	if (sb.st_uid != geteuid() || (sb.st_mode & 022)) {
		buf_printf(why, "--state: %s: %s is %s (uid %lu, mode %04o): another user could "
			   "have written it; not believed (remove it, or --state-reset)",
			   text_shown(path), what, sb.st_uid != geteuid() ? "another user's"
			   : "writable by others", (unsigned long)sb.st_uid,
			   (unsigned)(sb.st_mode & 07777));
		return false;
	}
	char *d = xstrdup(path);
	bool ok = stat(dirname(d), &db) == 0;
	if (ok && (db.st_mode & 022) && !(db.st_mode & S_ISVTX)) {
		buf_printf(why, "--state: %s: its folder %s is writable by others (mode %04o), who "
			   "could swap the state: keep it in a folder of its own", text_shown(path),
			   text_shown(d), (unsigned)(db.st_mode & 07777));
		ok = false;
	} else if (!ok) {
		buf_printf(why, "--state: %s: %s", text_shown(path), strerror(errno));
	}
	free(d);
	return ok;
}

static bool read_all(int fd, unsigned char **p, size_t *n)
{
	size_t cap = 1 << 16;
	*p = xmalloc(cap);
	*n = 0;
	for (;;) {
		if (*n == cap)
			*p = xrealloc(*p, cap *= 2);
		ssize_t r = read(fd, *p + *n, cap - *n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return false;
		if (r == 0)
			return true;
		*n += (size_t)r;
	}
}

static void resume_save(struct buf *b, const struct ml_resume *r)
{
	ser_u64(b, r->offset);
	ser_u64(b, r->lineno);
	ser_i64(b, r->ctx.year);
	ser_i64(b, r->ctx.last_month);
	ser_i64(b, r->ctx.ref_month);
	ser_i64(b, r->ctx.ref);
	ser_bool(b, r->ctx.year_given);
	ser_bool(b, r->ctx.saw_yearless);
	ser_i64(b, r->clock.now);
	ser_i64(b, r->clock.ahead);
	ser_u64(b, r->clock.nahead);
}

static void resume_load(struct ser_in *r, struct ml_resume *m)
{
	memset(m, 0, sizeof *m);
	m->offset = ser_get_u64(r);
	m->lineno = (unsigned long)ser_get_u64(r);
	m->ctx.year = (int)ser_get_i64(r);
	m->ctx.last_month = (int)ser_get_i64(r);
	m->ctx.ref_month = (int)ser_get_i64(r);
	m->ctx.ref = (time_t)ser_get_i64(r);
	m->ctx.year_given = ser_get_bool(r);
	m->ctx.saw_yearless = ser_get_bool(r);
	m->clock.now = (time_t)ser_get_i64(r);
	m->clock.ahead = (time_t)ser_get_i64(r);
	m->clock.nahead = (unsigned)ser_get_u64(r);
	if (m->ctx.last_month < 0 || m->ctx.last_month > 12)
		ser_fail(r, "a month is out of range");
}

static bool parse(struct state_file *s, struct buf *why)
{
	size_t ml = sizeof STATE_MAGIC - 1;
	if (s->nraw < ml + 32 || memcmp(s->raw, STATE_MAGIC, ml) != 0) {
		buf_printf(why, "%s: not a tlswitness state file (--state-reset starts over)",
			   text_shown(s->path));
		return false;
	}
	struct ser_in r;
	ser_in_init(&r, s->raw + ml, s->nraw - ml - 32);
	uint64_t version = ser_get_u64(&r);
	if (version < STATE_VERSION_OLDEST || version > STATE_VERSION) {
		buf_printf(why, "%s: written in state version %llu, this tlswitness reads "
			   "versions %d to %d (--state-reset starts over)", text_shown(s->path),
			   (unsigned long long)version, STATE_VERSION_OLDEST, STATE_VERSION);
		return false;
	}
	s->version = (unsigned)version;
	(void)ser_get_i64(&r);		/* when written */
	free(ser_get_str(&r));		/* by which version */
	bool keyed = ser_get_bool(&r);
	if (!r.error && keyed != (s->klen > 0)) {
		buf_printf(why, "%s: %s (--state-reset starts over)", text_shown(s->path), keyed
			   ? "sealed with a key: give its --state-key"
			   : "not sealed with the --state-key: anyone who could write it could have "
			     "made it");
		return false;
	}
	unsigned char md[32];
	seal(s, s->raw, s->nraw - 32, md);
	if (CRYPTO_memcmp(md, s->raw + s->nraw - 32, 32) != 0) {
		buf_printf(why, "%s: %s (--state-reset starts over; the next run then reads every "
			   "input whole)", text_shown(s->path), keyed
			   ? "its seal does not hold with this --state-key: changed, or sealed with "
			     "another key"
			   : "damaged: its bytes do not match the SHA-256 it ends with");
		return false;
	}
	sha256(s->raw, s->nraw, s->read_sha);
	s->have_read = true;
	s->nfolders = ser_get_count(&r, STATE_FILES_MAX);
	s->folders = xcalloc(s->nfolders + 1, sizeof *s->folders);
	for (size_t i = 0; i < s->nfolders && !r.error; i++)
		if (!(s->folders[i] = ser_get_str(&r)))
			ser_fail(&r, "a folder is missing");
	unsigned char prev[32];
	ser_get_bytes(&r, prev, sizeof prev);	/* the chain, one link back: not needed */
	s->prev_report_id = ser_get_str(&r);
	unsigned char rsha[32];
	ser_get_bytes(&r, rsha, sizeof rsha);
	hex_encode(rsha, 32, s->prev_report_sha);
	s->prev_report_path = ser_get_str(&r);
	s->nf = ser_get_count(&r, STATE_FILES_MAX);
	s->f = xcalloc(s->nf + 1, sizeof *s->f);
	for (size_t i = 0; i < s->nf && !r.error; i++) {
		struct sfile *f = &s->f[i];
		f->path = ser_get_str(&r);
		f->name = ser_get_str(&r);
		f->dev = ser_get_u64(&r);
		f->ino = ser_get_u64(&r);
		f->gzip = ser_get_bool(&r);
		f->prefix_len = ser_get_u64(&r);
		ser_get_bytes(&r, f->prefix, sizeof f->prefix);
		f->resumable = ser_get_bool(&r);
		if (f->resumable) {
			resume_load(&r, &f->at);
			f->whole = ser_get_bool(&r);
			f->size = ser_get_u64(&r);
			f->mtime = ser_get_i64(&r);
			f->journal = ser_get_bool(&r);
			f->cursor = ser_get_str(&r);
		}
		f->file_id = -1;
		if (!f->path || !f->name || f->prefix_len > PREFIX_MAX)
			ser_fail(&r, "a file entry is incomplete");
	}
	size_t nt = ser_get_count(&r, SIZE_MAX);
	if (!r.error) {
		ser_in_init(&s->tracker, r.p, nt);
		r.p += nt;
		if (r.p != r.end)
			ser_fail(&r, "bytes after the open state");
	}
	if (r.error) {
		buf_printf(why, "%s: damaged: %s (--state-reset starts over)",
			   text_shown(s->path), r.error);
		return false;
	}
	return true;
}

/* The state's bytes from an open descriptor, parsed; false with why. */
static bool load_from(struct state_file *s, int fd, const char *path, struct buf *why)
{
	free(s->raw);
	s->raw = NULL;
	if (!read_all(fd, &s->raw, &s->nraw)) {
		buf_printf(why, "--state: %s: %s", text_shown(path), strerror(errno));
		return false;
	}
	if (!parse(s, why)) {
		struct buf w;
		buf_init(&w);
		buf_printf(&w, "--state: %s", why->p);
		buf_reset(why);
		buf_adds(why, w.p);
		buf_free(&w);
		return false;
	}
	return true;
}

/* Open a file of the state's to read: not a link, not a FIFO (a planted
 * one would hold the run), the caller's own.  -1 with why set, or -2
 * when it is not there. */
static int open_ours(const char *path, const char *what, struct buf *why)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		return -2;
	if (fd < 0) {
		buf_printf(why, "--state: %s: %s", text_shown(path),
			   errno == ELOOP ? "is a symbolic link; name the file itself" : strerror(errno));
		return -1;
	}
	if (!ours(fd, path, what, why)) {
		close(fd);
		return -1;
	}
	fileid_blocking(fd);
	return fd;
}

/* Does the file at path hold exactly the bytes whose SHA-256 is hex? */
static bool holds(const char *path, const char *hex)
{
	char got[65];
	uint64_t size;
	time_t mtime;
	struct buf why;
	buf_init(&why);
	bool ok = manifest_hash_file(path, got, &size, &mtime, &why) && strcmp(got, hex) == 0;
	buf_free(&why);
	return ok;
}

/* A pending state a run left when it stopped between its report and its
 * state: taken up when its report is there as it names it, else dropped.
 * False with why when it cannot be trusted. */
static bool recover_pending(struct state_file *s, FILE *say, struct buf *why)
{
	struct buf pend;
	buf_init(&pend);
	buf_printf(&pend, "%s.pending", s->path);
	int fd = open_ours(pend.p, "its pending copy", why);
	if (fd == -2) {
		buf_free(&pend);
		return true;
	}
	if (fd < 0) {
		buf_free(&pend);
		return false;
	}
	struct state_file *p = xcalloc(1, sizeof *p);
	p->path = xstrdup(pend.p);
	p->lockfd = -1;
	memcpy(p->key, s->key, sizeof p->key);
	p->klen = s->klen;
	struct buf perr;
	buf_init(&perr);
	bool parsed = load_from(p, fd, pend.p, &perr);
	close(fd);
	bool committed = parsed && (!p->prev_report_path || holds(p->prev_report_path,
								       p->prev_report_sha));
	if (committed && rename(pend.p, s->path) == 0) {
		fprintf(say, "tlswitness: --state: the last run committed its report%s%s but "
			"stopped before its state: the state it left (%s) is taken up\n",
			p->prev_report_path ? " " : "", p->prev_report_path
			? text_shown(p->prev_report_path) : "", text_shown(pend.p));
	} else {
		unlink(pend.p);
		fprintf(say, "tlswitness: --state: the last run stopped before its report%s%s was "
			"committed: the state it left is dropped, and what it read is read again\n",
			p->prev_report_path ? " " : "", p->prev_report_path
			? text_shown(p->prev_report_path) : "");
	}
	buf_free(&perr);
	state_close(p);
	buf_free(&pend);
	return true;
}

struct state_file *state_open(const char *path, bool reset, const char *keyfile, FILE *say,
			      struct buf *why)
{
	struct state_file *s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	s->lockfd = -1;
	if (keyfile && !fileid_read_key(keyfile, "--state-key", s->key, sizeof s->key, &s->klen,
					why)) {
		state_close(s);
		return NULL;
	}
	struct buf lock;
	buf_init(&lock);
	buf_printf(&lock, "%s.lock", path);
	s->lockfd = open(lock.p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (s->lockfd < 0) {
		buf_printf(why, "--state: %s: %s", text_shown(lock.p), strerror(errno));
		buf_free(&lock);
		state_close(s);
		return NULL;
	}
	if (!ours(s->lockfd, lock.p, "its lock", why)) {	/* a planted lock holds no one out */
		buf_free(&lock);
		state_close(s);
		return NULL;
	}
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
		buf_printf(why, "--state: %s: another tlswitness run is using it (%s is locked)",
			   text_shown(path), text_shown(lock.p));
		buf_free(&lock);
		state_close(s);
		return NULL;
	}
	buf_free(&lock);
	if (!recover_pending(s, say, why)) {
		state_close(s);
		return NULL;
	}
	if (reset)
		return s;
	int fd = open_ours(path, "it", why);
	if (fd == -2)
		return s;	/* the first run */
	bool ok = fd >= 0 && load_from(s, fd, path, why);
	if (fd >= 0)
		close(fd);
	if (!ok) {
		state_close(s);
		return NULL;
	}
	return s;
}

struct state_file *state_from_bytes(const void *p, size_t n, struct buf *why)
{
	struct state_file *s = xcalloc(1, sizeof *s);
	s->path = xstrdup("(bytes)");
	s->lockfd = -1;
	s->raw = xmalloc(n + 1);
	memcpy(s->raw, p, n);
	s->nraw = n;
	if (!parse(s, why)) {
		state_close(s);
		return NULL;
	}
	return s;
}

/* What tells one of this run's logs: device, inode, its first bytes. */
static void know(struct cur *c, const char *path)
{
	struct stat sb;
	if (stat(ls_real_path(path), &sb) != 0 || !S_ISREG(sb.st_mode))
		return;
	struct buf why;
	buf_init(&why);
	struct linesrc *ls = ls_open(path, &why);
	buf_free(&why);
	if (!ls)
		return;
	c->dev = (uint64_t)sb.st_dev;
	c->ino = (uint64_t)sb.st_ino;
	c->size = (uint64_t)sb.st_size;
	c->mtime = (int64_t)sb.st_mtime;
	c->gzip = ls_is_gzip(ls);
	long r;
	while (c->nhead < PREFIX_MAX &&
	       (r = ls_read(ls, c->head + c->nhead, PREFIX_MAX - c->nhead)) > 0)
		c->nhead += (size_t)r;
	ls_close(ls);
	c->known = true;
}

/* The length of path's folder part ("/var/log/mail.log": 8). */
static size_t folder_len(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? (size_t)(slash - path) : 0;
}

/* f was read to its end by the last run and, by then, no longer written:
 * another log of the same folder in that run was written to later (the
 * logger had moved on to it: mail.log.1 beside mail.log), or it was a
 * compressed copy (logrotate compresses what it has rotated away).  Its
 * rename since loses nothing (README "Incremental runs"). */
static bool read_to_its_end_when_done(const struct state_file *s, const struct sfile *f)
{
	if (f->gzip ? !f->whole : f->at.offset < f->size)
		return false;
	if (f->gzip)
		return true;
	size_t dl = folder_len(f->path);
	for (size_t e = 0; e < s->nf; e++) {
		const struct sfile *o = &s->f[e];
		if (o != f && o->resumable && !o->journal && o->mtime > f->mtime &&
		    folder_len(o->path) == dl && memcmp(o->path, f->path, dl) == 0)
			return true;
	}
	return false;
}

static bool same_start(const struct cur *c, const struct sfile *f)
{
	if (!c->known || !f->resumable || !f->prefix_len || f->prefix_len > c->nhead)
		return false;
	unsigned char md[32];
	sha256(c->head, (size_t)f->prefix_len, md);
	return memcmp(md, f->prefix, 32) == 0;
}

static int journal_of(const struct state_file *s, const char *name)
{
	for (size_t k = 0; k < s->nj; k++)
		if (strcmp(s->jname[k], name) == 0)
			return (int)k;
	return -1;
}

const char *state_journal_cursor(const struct state_file *s, const char *name)
{
	for (size_t e = 0; e < s->nf; e++)
		if (s->f[e].journal && strcmp(s->f[e].path, name) == 0)
			return s->f[e].cursor;
	return NULL;
}

void state_journal_read(struct state_file *s, const char *name, const char *last)
{
	s->jname = xrealloc(s->jname, (s->nj + 1) * sizeof *s->jname);
	s->jcursor = xrealloc(s->jcursor, (s->nj + 1) * sizeof *s->jcursor);
	s->jname[s->nj] = xstrdup(name);
	s->jcursor[s->nj] = xstrdup_or_null(last ? last : state_journal_cursor(s, name));
	s->nj++;
}

/* The folders of this run's logs (a journal by its name), sorted, each
 * once: what a state is bound to. */
static size_t input_folders(const struct inputs *in, char ***out)
{
	char **v = xcalloc(in->n + 1, sizeof *v);
	size_t n = 0;
	for (size_t i = 0; i < in->n; i++) {
		if (in->kinds[i] != INPUT_LOG)
			continue;
		const char *f = in->files[i];
		char *folder;
		if (strcmp(ls_real_path(f), f) != 0) {	/* a journal's copy: its name */
			folder = xstrdup(f);
		} else {
			char *d = xstrdup(f);
			const char *dir = dirname(d);
			char *real = realpath(dir, NULL);
			folder = real ? real : xstrdup(dir);
			free(d);
		}
		bool dup = false;
		for (size_t k = 0; k < n && !dup; k++)
			dup = strcmp(v[k], folder) == 0;
		if (dup)
			free(folder);
		else
			v[n++] = folder;
	}
	for (size_t i = 1; i < n; i++)	/* few: insertion sort */
		for (size_t k = i; k > 0 && strcmp(v[k - 1], v[k]) > 0; k--) {
			char *t = v[k];
			v[k] = v[k - 1];
			v[k - 1] = t;
		}
	*out = v;
	return n;
}

static void free_folders(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int state_match(struct state_file *s, const struct inputs *in, FILE *warn, struct buf *why)
{
	/* A state is for the logs it was written for: another host's (its
	 * folder), put in place of this one's, is refused. */
	if (s->nfolders) {
		char **now;
		size_t nn = input_folders(in, &now);
		bool shared = nn == 0;
		for (size_t i = 0; i < nn && !shared; i++)
			for (size_t k = 0; k < s->nfolders && !shared; k++)
				shared = strcmp(now[i], s->folders[k]) == 0;
		if (!shared) {
			buf_printf(why, "--state: %s: was written for the logs in %s, and this run "
				   "reads %s: another host's or another series' state (--state-reset "
				   "starts this series over)", text_shown(s->path),
				   text_shown(s->folders[0]), nn ? text_shown(now[0]) : "?");
			free_folders(now, nn);
			return -1;
		}
		free_folders(now, nn);
	}
	int losses = 0;
	s->ninputs = in->n;
	s->cur = xcalloc(in->n + 1, sizeof *s->cur);
	for (size_t i = 0; i < in->n; i++) {
		struct cur *c = &s->cur[i];
		c->entry = -1;
		if (in->kinds[i] != INPUT_LOG)
			continue;
		if (journal_of(s, in->files[i]) >= 0) {
			for (size_t e = 0; e < s->nf && c->entry < 0; e++)
				if (s->f[e].journal && strcmp(s->f[e].path, in->files[i]) == 0)
					c->entry = (int)e;
			if (c->entry >= 0) {
				/* a new copy of the entries after the cursor: from its
				 * start, its lines numbered on */
				c->journal_at = s->f[c->entry].at;
				c->journal_at.offset = 0;
				s->f[c->entry].file_id = (int)i;
			}
			continue;
		}
		know(c, in->files[i]);
		/* the same file renamed first, then a copy of it */
		for (size_t e = 0; e < s->nf && c->entry < 0; e++)
			if (s->f[e].dev == c->dev && s->f[e].ino == c->ino && same_start(c, &s->f[e]))
				c->entry = (int)e;
		for (size_t e = 0; e < s->nf && c->entry < 0; e++)
			if (same_start(c, &s->f[e]))
				c->entry = (int)e;
		if (c->entry < 0)
			continue;
		const struct sfile *f = &s->f[c->entry];
		c->unchanged = f->whole && f->gzip && f->dev == c->dev && f->ino == c->ino &&
			       f->size == c->size && f->mtime == c->mtime;
		if (f->file_id < 0)
			s->f[c->entry].file_id = (int)i;
	}
	/* A log the last run read that no input is now: its name is another
	 * file's (rotated away by rename: said unless nothing can have been
	 * lost, read_to_its_end_when_done), or the same file's whose
	 * first bytes changed (cut short by copytruncate, or rewritten, with
	 * its copy not named: what was written before the cut is lost, an
	 * error, said with -q too). */
	for (size_t e = 0; e < s->nf; e++) {
		const struct sfile *f = &s->f[e];
		struct stat sb;
		if (f->file_id >= 0 || !f->resumable || !f->at.offset || f->journal ||
		    stat(f->path, &sb) != 0)
			continue;
		bool same_inode = (uint64_t)sb.st_dev == f->dev && (uint64_t)sb.st_ino == f->ino;
		bool named = false;
		for (size_t i = 0; i < in->n && !named; i++)
			named = strcmp(in->files[i], f->path) == 0;
		if (same_inode && !named)
			continue;	/* not given this time, still as it was */
		if (!same_inode && read_to_its_end_when_done(s, f))
			continue;	/* rotated on, as it was: nothing unread */
		if (same_inode)
			fprintf(warn, "tlswitness: --state: error: %s was read to line %lu by the last "
				"run and has since been cut short or rewritten (copytruncate?): its "
				"first bytes are not the ones read, and its copy (%s.1 or the like) is "
				"not among the inputs, so what was written to it after line %lu and "
				"before the cut is not read\n", text_shown(f->path), f->at.lineno,
				text_shown(f->path), f->at.lineno);
		else	/* often nothing was lost (a rotated file read to its end): a warning */
			fprintf(warn, "tlswitness: --state: %s was read to line %lu by the last run "
				"and has since been rotated; its rotated copy (%s.1 or the like) is not "
				"among the inputs, so what was written to it after line %lu is not "
				"read\n", text_shown(f->path), f->at.lineno, text_shown(f->path),
				f->at.lineno);
		if (same_inode)
			losses++;
	}
	/* every file the open state's evidence may name: this run's id, or a
	 * ghost's after the inputs */
	s->map = xcalloc(s->nf + 1, sizeof *s->map);
	s->ghost = xcalloc(s->nf + 1, sizeof *s->ghost);
	for (size_t e = 0; e < s->nf; e++) {
		if (s->f[e].file_id >= 0) {
			s->map[e] = s->f[e].file_id;
			continue;
		}
		s->map[e] = (int)(in->n + s->nghosts);
		s->ghost[s->nghosts++] = e;
	}
	return losses;
}

bool state_unchanged(const struct state_file *s, int file_id)
{
	return s->cur && file_id >= 0 && (size_t)file_id < s->ninputs && s->cur[file_id].unchanged;
}

const struct ml_resume *state_resume_of(const struct state_file *s, int file_id)
{
	if (!s->cur || file_id < 0 || (size_t)file_id >= s->ninputs)
		return NULL;
	int e = s->cur[file_id].entry;
	if (e >= 0 && s->f[e].journal)
		return &s->cur[file_id].journal_at;
	return e >= 0 ? &s->f[e].at : NULL;
}

size_t state_nghosts(const struct state_file *s) { return s->nghosts; }

const char *state_ghost_name(const struct state_file *s, size_t i)
{
	return i < s->nghosts ? s->f[s->ghost[i]].name : NULL;
}

bool state_load_tracker(struct state_file *s, struct tracker *t, struct buf *why)
{
	if (!s->raw)
		return true;
	struct msg_in in = { .r = &s->tracker, .file_map = s->map, .nmap = s->nf,
			     .version = s->version };
	if (tracker_load(t, &in))
		return true;
	buf_printf(why, "--state: %s: damaged: %s (--state-reset starts over)",
		   text_shown(s->path), s->tracker.error ? s->tracker.error : "?");
	return false;
}

/* ---- saving ------------------------------------------------------------- */

/* The new state's number for a file id of this run: the logs first, in
 * file id order, then each ghost as the open state first names it. */
static int saved_number(void *arg, int file_id)
{
	struct state_file *s = arg;
	if (file_id >= 0 && (size_t)file_id < s->ninputs && s->saved_as[file_id] >= 0)
		return s->saved_as[file_id];
	size_t g = file_id >= 0 && (size_t)file_id >= s->ninputs ? (size_t)file_id - s->ninputs
								 : SIZE_MAX;	/* none: "?" */
	for (size_t k = 0; k < s->nsaved; k++)
		if (!s->saved[k].input && s->saved[k].at == g)
			return (int)k;
	s->saved[s->nsaved] = (struct saved){ false, g };
	return (int)s->nsaved++;
}

/* The rename itself survives a crash: the folder synced. */
static void sync_folder(const char *path)
{
	char *d = xstrdup(path);
	int dfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(d);
}

static bool write_atomically(const char *path, const struct buf *b, struct buf *why)
{
	struct buf tmp;
	buf_init(&tmp);
	buf_printf(&tmp, "%s.new.%ld", path, (long)getpid());
	int fd = open(tmp.p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	bool ok = fd >= 0;
	size_t off = 0;
	while (ok && off < b->n) {
		ssize_t w = write(fd, b->p + off, b->n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			ok = false;
		else
			off += (size_t)w;
	}
	if (ok && fsync(fd) != 0)
		ok = false;
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	if (ok && rename(tmp.p, path) != 0)
		ok = false;
	if (!ok) {
		buf_printf(why, "--state: %s: cannot write it: %s", text_shown(path), strerror(errno));
		unlink(tmp.p);
	} else {
		sync_folder(path);
	}
	buf_free(&tmp);
	return ok;
}

static const struct input_stats *stats_of(const struct maillog *ml, int file_id)
{
	for (size_t i = 0; ml && i < maillog_ninputs(ml); i++)
		if (maillog_input(ml, i)->file_id == file_id)
			return maillog_input(ml, i);
	return NULL;
}

bool state_save(struct state_file *s, const struct tracker *t, const struct maillog *ml,
		const struct inputs *in, const struct state_report *rep, struct buf *why)
{
	s->saved_as = xcalloc(in->n + 1, sizeof *s->saved_as);
	s->saved = xcalloc(in->n + s->nghosts + 2, sizeof *s->saved);
	s->nsaved = 0;
	for (size_t i = 0; i < in->n; i++) {
		s->saved_as[i] = -1;
		if (in->kinds[i] == INPUT_LOG) {
			s->saved[s->nsaved] = (struct saved){ true, i };
			s->saved_as[i] = (int)s->nsaved++;
		}
	}
	struct buf open_state;
	buf_init(&open_state);
	struct msg_out o = { .b = &open_state, .file_of = saved_number, .arg = s };
	tracker_save(t, &o);
	/* a journal not read this time keeps its cursor for the next */
	for (size_t g = 0; g < s->nghosts; g++) {
		if (!s->f[s->ghost[g]].journal)
			continue;
		bool saved = false;
		for (size_t k = 0; k < s->nsaved && !saved; k++)
			saved = !s->saved[k].input && s->saved[k].at == g;
		if (!saved)
			s->saved[s->nsaved++] = (struct saved){ false, g };
	}

	struct buf b;
	buf_init(&b);
	buf_adds(&b, STATE_MAGIC);
	ser_u64(&b, STATE_VERSION);
	ser_i64(&b, (int64_t)time(NULL));
	ser_str(&b, TW_VERSION);
	ser_bool(&b, s->klen > 0);
	char **folders;
	size_t nfolders = input_folders(in, &folders);
	ser_u64(&b, nfolders);
	for (size_t i = 0; i < nfolders; i++)
		ser_str(&b, folders[i]);
	free_folders(folders, nfolders);
	static const unsigned char zero[32];
	ser_bytes(&b, s->have_read ? s->read_sha : zero, 32);
	ser_str(&b, rep ? rep->id : NULL);
	ser_bytes(&b, rep && rep->have_sha ? rep->sha256 : zero, 32);
	ser_str(&b, rep ? rep->path : NULL);
	ser_u64(&b, s->nsaved);
	for (size_t k = 0; k < s->nsaved; k++) {
		size_t g = s->saved[k].at;
		if (s->saved[k].input) {	/* one of this run's logs */
			size_t id = g;
			const struct cur *c = &s->cur[id];
			const struct input_stats *st = stats_of(ml, (int)id);
			const struct ml_resume *from = state_resume_of(s, (int)id);
			struct ml_resume at = { 0 };
			if (st && st->progress.tracked)
				at = st->progress.to;
			int jk = journal_of(s, in->files[id]);
			if (from && (at.offset < from->offset || (jk >= 0 && at.lineno < from->lineno)))
				at = *from;	/* not read this time: where it was */
			if (jk >= 0)
				at.offset = 0;	/* each run's copy begins after the cursor */
			bool whole = c->unchanged ||
				     (st && st->gzip && !st->failed && st->progress.tracked);
			size_t plen = c->nhead < at.offset ? c->nhead : (size_t)at.offset;
			unsigned char md[32];
			sha256(c->head, plen, md);
			ser_str(&b, in->files[id]);
			ser_str(&b, in->shown[id]);
			ser_u64(&b, c->dev);
			ser_u64(&b, c->ino);
			ser_bool(&b, c->gzip);
			ser_u64(&b, plen);
			ser_bytes(&b, md, 32);
			ser_bool(&b, true);
			resume_save(&b, &at);
			ser_bool(&b, whole && jk < 0);
			ser_u64(&b, c->size);
			ser_i64(&b, c->mtime);
			ser_bool(&b, jk >= 0);
			ser_str(&b, jk >= 0 ? s->jcursor[jk] : NULL);
		} else {	/* a file of an earlier run the evidence still names */
			const struct sfile *f = g < s->nghosts ? &s->f[s->ghost[g]] : NULL;
			ser_str(&b, f ? f->path : "?");
			ser_str(&b, f ? f->name : "?");
			ser_u64(&b, f ? f->dev : 0);
			ser_u64(&b, f ? f->ino : 0);
			ser_bool(&b, f && f->gzip);
			ser_u64(&b, 0);
			unsigned char none[32] = { 0 };
			ser_bytes(&b, none, 32);
			ser_bool(&b, f && f->journal);
			if (f && f->journal) {
				resume_save(&b, &f->at);
				ser_bool(&b, false);
				ser_u64(&b, 0);
				ser_i64(&b, 0);
				ser_bool(&b, true);
				ser_str(&b, f->cursor);
			}
		}
	}
	ser_u64(&b, open_state.n);
	buf_add(&b, open_state.p, open_state.n);
	buf_free(&open_state);
	unsigned char md[32];
	seal(s, b.p, b.n, md);
	buf_add(&b, md, 32);
	struct buf pend;
	buf_init(&pend);
	buf_printf(&pend, "%s.pending", s->path);
	bool ok = write_atomically(pend.p, &b, why);
	buf_free(&pend);
	buf_free(&b);
	s->pending = ok;
	return ok;
}

bool state_commit(struct state_file *s, struct buf *why)
{
	if (!s->pending)
		return true;
	struct buf pend;
	buf_init(&pend);
	buf_printf(&pend, "%s.pending", s->path);
	bool ok = rename(pend.p, s->path) == 0;
	if (!ok)
		buf_printf(why, "--state: %s: cannot put it in place: %s", text_shown(s->path),
			   strerror(errno));
	else
		sync_folder(s->path);
	s->pending = false;
	buf_free(&pend);
	return ok;
}

void state_discard(struct state_file *s)
{
	if (!s->pending)
		return;
	struct buf pend;
	buf_init(&pend);
	buf_printf(&pend, "%s.pending", s->path);
	unlink(pend.p);
	buf_free(&pend);
	s->pending = false;
}

const char *state_previous_sha256(const struct state_file *s, char hex[65])
{
	if (!s->have_read)
		return NULL;
	hex_encode(s->read_sha, 32, hex);
	return hex;
}

const char *state_previous_report(const struct state_file *s)
{
	return s->prev_report_id;
}

const char *state_previous_report_path(const struct state_file *s)
{
	return s->prev_report_path;
}

bool state_keyed(const struct state_file *s)
{
	return s->klen > 0;
}

void state_close(struct state_file *s)
{
	if (!s)
		return;
	if (s->lockfd >= 0)
		close(s->lockfd);	/* the lock goes with it */
	for (size_t i = 0; i < s->nf; i++) {
		free(s->f[i].path);
		free(s->f[i].name);
		free(s->f[i].cursor);
	}
	for (size_t k = 0; k < s->nj; k++) {
		free(s->jname[k]);
		free(s->jcursor[k]);
	}
	free(s->jname);
	free(s->jcursor);
	free(s->f);
	free(s->raw);
	free(s->cur);
	free(s->map);
	free(s->ghost);
	free(s->saved_as);
	free(s->saved);
	free_folders(s->folders, s->nfolders);
	free(s->prev_report_id);
	free(s->prev_report_path);
	OPENSSL_cleanse(s->key, sizeof s->key);
	free(s->path);
	free(s);
}
