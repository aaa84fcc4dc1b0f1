/* verify.h - "tlswitness verify REPORT [--key PUB] [--sig FILE]
 * [--manifest FILE]" (README "Checking a report"). */
#ifndef TW_VERIFY_H
#define TW_VERIFY_H

/* argv: what follows "verify".  The exit status: 0 verified, 1 a
 * difference found, 2 it could not be checked. */
int verify_command(int argc, char **argv);

#endif
