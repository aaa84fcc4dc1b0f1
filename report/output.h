/* output.h - where a report goes, committed once (README "Hardening").
 * A regular file named by -o or --manifest is written to a temporary file
 * beside it and renamed into place only when complete, so a reader never
 * sees half a report; a device or FIFO (/dev/null, /dev/stdout, a pipe to a
 * collector) is written as it is, since a rename would replace it; no path
 * means standard output.  Every failure is kept with its errno at the
 * moment it happened and reported once, by output_close. */
#ifndef TW_OUTPUT_H
#define TW_OUTPUT_H
#include "../util/buf.h"

struct output;

/* Open path (NULL: standard output).  NULL with "PATH: reason" in why. */
struct output *output_open(const char *path, struct buf *why);
/* Write b's bytes when 64 KiB have gathered, or (force) all of them and
 * flush the stream, so what follows on standard error comes after it; b is
 * emptied.
 * A failed write is remembered; later writes are skipped. */
void output_flush(struct output *o, struct buf *b, bool force);
bool output_failed(const struct output *o);
/* Flush, close and (for a temporary file) rename into place, or remove the
 * temporary file on failure.  False with the reason in why, which names
 * the destination ("PATH: reason"), or for standard output says
 * "writing the output failed: reason".  Frees o. */
bool output_close(struct output *o, struct buf *why);
/* The whole of bytes to path, the same way (--manifest). */
bool output_write_whole(const char *path, const char *bytes, size_t n, struct buf *why);

#endif
