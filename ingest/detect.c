/* detect.c - input type by magic number: pcap (a1b2c3d4, a1b23c4d in
 * either byte order; tcpdump's savefile.c), pcapng section header block
 * (0a0d0d0a; draft-ietf-opsawg-pcapng), looked for inside gzip too. */
#include "detect.h"
#include "linesrc.h"
#include "mailfile.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

static bool capture_magic(const unsigned char *m)
{
	static const unsigned char magics[][4] = {
		{ 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xc3, 0xd4 },
		{ 0x4d, 0x3c, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0x3c, 0x4d },
		{ 0x0a, 0x0d, 0x0d, 0x0a },
	};
	for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
		if (memcmp(m, magics[i], 4) == 0)
			return true;
	return false;
}

/* The first bytes of standard input, inflated when they are gzip
 * (RFC 1952 magic 1f 8b), without consuming them (ls_stdin_peek). */
static int stdin_head(unsigned char *m, size_t room)
{
	size_t n;
	const unsigned char *p = ls_stdin_peek(&n);
	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
		z_stream zs;
		memset(&zs, 0, sizeof zs);
		if (inflateInit2(&zs, 15 + 16) != Z_OK)
			return 0;
		zs.next_in = (unsigned char *)p;
		zs.avail_in = (uInt)n;
		zs.next_out = m;
		zs.avail_out = (uInt)room;
		inflate(&zs, Z_SYNC_FLUSH);
		int got = (int)(room - zs.avail_out);
		inflateEnd(&zs);
		return got;
	}
	if (n > room)
		n = room;
	memcpy(m, p, n);
	return (int)n;
}

enum input_kind detect_input(const char *path)
{
	unsigned char m[512];
	int n;
	if (strcmp(path, "-") == 0 && strcmp(ls_real_path(path), "-") == 0) {
		n = stdin_head(m, sizeof m);
	} else {
		gzFile gz = gzopen(ls_real_path(path), "rb");	/* plain files as they are */
		if (!gz)
			return INPUT_LOG;
		n = gzread(gz, m, sizeof m);
		gzclose(gz);
	}
	if (n >= 4 && capture_magic(m))
		return INPUT_CAPTURE;
	/* A raw message or an mbox: its first line is a header or "From ". */
	size_t len = 0;
	while (len < (size_t)(n > 0 ? n : 0) && m[len] != '\n' && m[len] != '\r')
		len++;
	if (n > 0 && mail_looks_like((const char *)m, len))
		return INPUT_MESSAGE;
	return INPUT_LOG;
}
