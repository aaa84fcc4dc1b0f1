/* output.h - where a report goes, committed once (README "Hardening").
 * A regular file named by -o or --manifest is written to a temporary file
 * made beside it (mkostemp(3): a random name, O_EXCL, mode 0600; the read
 * bits of the file it replaces only when that is the caller's own) and renamed into place only when complete
 * and on disk, so a reader never sees half a report and no planted name is
 * followed; a FIFO or character device (a pipe to a collector, /dev/null,
 * and the system's links to them, /dev/stdout) is written as it is, since
 * a rename would replace it; a symbolic link elsewhere, a directory or a
 * block device is refused; no path means standard output.  SIGINT,
 * SIGTERM and SIGHUP remove the temporary files before the process ends.
 * Every failure is kept with its errno at the moment it happened and
 * reported once, naming the destination. */
#ifndef TW_OUTPUT_H
#define TW_OUTPUT_H
#include "../util/buf.h"

struct output;

/* Open path (NULL: standard output).  NULL with "PATH: reason" in why. */
struct output *output_open(const char *path, struct buf *why);
/* Write b's bytes when 64 KiB have gathered, or (force) all of them and
 * flush the stream, so what follows on standard error comes after it; b is
 * emptied.  A failed write is remembered; later writes are skipped. */
void output_flush(struct output *o, struct buf *b, bool force);
bool output_failed(const struct output *o);
/* SHA-256 (hex) of the bytes written so far and then pending (the run's
 * output buffer, not yet flushed): the report's body before its manifest,
 * or the whole report once it is all in. */
void output_body_sha256(const struct output *o, const struct buf *unflushed, char hex[65]);
/* Flush, sync, close and (for a temporary file) rename into place, or
 * remove the temporary file on failure.  False with the reason in why,
 * which names the destination ("PATH: reason"), or for standard output
 * says "writing the output failed: reason".  Frees o. */
bool output_close(struct output *o, struct buf *why);
/* What seals a report (its signature, its time-stamp request): called
 * with the bytes as written (read back from this run's own descriptor)
 * and their SHA-256.  False with why set. */
typedef bool (*output_seal_fn)(const unsigned char *bytes, size_t n,
			       const unsigned char sha256[32], void *arg, struct buf *why);
/* output_close, with seal called after the bytes are on disk and before
 * the rename: a report is committed only sealed.  bytes_needed (a
 * signature): the bytes are read back and checked against the hash;
 * else seal gets the hash alone (bytes NULL).  A destination that is not
 * a regular file cannot be sealed (see output_is_file). */
bool output_close_sealed(struct output *o, output_seal_fn seal, void *arg, bool bytes_needed,
			 struct buf *why);
/* Is the destination a regular file (written to a temporary file and
 * renamed), which alone can be read back to be sealed? */
bool output_is_file(const struct output *o);
/* No SHA-256 is kept of what is written (before the first byte): the run
 * was asked for nothing that needs it, and the manifest record says so
 * (report_sha256 null).  output_close_sealed then cannot seal. */
void output_no_hash(struct output *o);
/* A run that stops before its report: the temporary file goes, the
 * destination is left as it was.  Frees o. */
void output_abandon(struct output *o);
/* The whole of bytes to path, the same way (--manifest). */
bool output_write_whole(const char *path, const char *bytes, size_t n, struct buf *why);
/* Could path be opened as a destination (not a link, a directory, a block
 * device)?  For a destination written at the end (--manifest), checked
 * before the run; false with why set. */
bool output_check(const char *path, struct buf *why);
/* Could a report written to path be sealed (a regular file, or nothing
 * yet)?  Checked before the run, so a FIFO is never opened to wait for a
 * reader; false with why set. */
bool output_can_seal(const char *path, struct buf *why);
#endif
