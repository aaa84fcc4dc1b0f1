/* verify.h - "tlswitness verify REPORT [--key PUB] [--sig FILE]
 * [--manifest FILE] [--inputs DIR]" (README "Checking a report"). */
#ifndef TW_VERIFY_H
#define TW_VERIFY_H
#include <stdbool.h>
#include <stddef.h>

/* argv: what follows "verify".  The exit status: 0 verified, 1 a
 * difference found, 2 an error (usage, unreadable, a --key that cannot be
 * used), 3 incomplete (something could not be checked). */
int verify_command(int argc, char **argv);

/* Where in the n bytes of r (not NUL-terminated) a report's manifest is.
 * kind: "json", "html" or "text"; body: the length of the hashed part;
 * section, section_len: a text or HTML report's manifest section to the
 * end, else NULL;
 * record, record_len: the manifest's JSON record, or NULL (a text or HTML
 * report of an earlier release).  Attacker-controlled bytes: fuzzed
 * (tests/fuzz/fuzz_verify.c). */
struct verify_found {
	const char *kind, *section, *record;
	size_t body, record_len, section_len;
};
bool verify_find_manifest(const char *r, size_t n, struct verify_found *f);

#endif
