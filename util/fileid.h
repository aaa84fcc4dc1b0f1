/* fileid.h - files told apart by what they are, not by their names
 * (ARCHITECTURE.md "Stages": util).  tlswitness runs as root beside
 * evidence other users can reach: a file it reads is opened without
 * blocking on a FIFO planted at its name and refused unless it is a regular
 * file; a file it writes is known by device and inode (or, not there yet,
 * by its directory's device and inode and its last name), so two names of
 * one file are seen to be one. */
#ifndef TW_FILEID_H
#define TW_FILEID_H
#include "buf.h"
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Open path to read: O_NONBLOCK while opening (a FIFO cannot hold the
 * run), then refused unless a regular file.  what names the option in the
 * message ("--key: PATH: is not a regular file").  -1 with why set. */
int fileid_open_regular(const char *path, const char *what, struct buf *why);

/* Read a whole regular file of at most max bytes (fileid_open_regular's
 * checks).  *p is NUL-terminated and the caller's.  False with why set. */
bool fileid_read_all(const char *path, const char *what, size_t max, char **p, size_t *n,
		     struct buf *why);

/* Back to blocking reads, once a file opened with O_NONBLOCK is known to
 * be a regular one. */
void fileid_blocking(int fd);

/* A key file's bytes (fileid_open_regular's checks): at most cap, the
 * trailing newlines dropped, at least 16 of them.  False with "WHAT:
 * PATH: why" in why. */
bool fileid_read_key(const char *path, const char *what, unsigned char *key, size_t cap,
		     size_t *len, struct buf *why);

struct fileid {
	dev_t dev;
	ino_t ino;
	const char *name;	/* NULL: the file exists (dev, ino its own);
				   else the last name, in the directory dev, ino */
	bool exists;
};

/* What path names: the file, or where it would be made.  False when
 * neither the file nor its directory can be seen (nothing to compare). */
bool fileid_of(const char *path, struct fileid *id);
/* The same file, or the same place a file would be made? */
bool fileid_same(const struct fileid *a, const struct fileid *b);

#endif
