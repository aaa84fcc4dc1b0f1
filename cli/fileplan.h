/* fileplan.h - every file a run writes, checked against every file it
 * reads and against each other before anything is read (README
 * "Hardening"; docs/threat-model.md): a report, manifest, signature,
 * time-stamp request or state that would land on an input, the rules, a
 * table or a key - by any name, a hard link included - is refused, and so
 * are two outputs that would be one file. */
#ifndef TW_FILEPLAN_H
#define TW_FILEPLAN_H
#include "options.h"
#include "../util/buf.h"

/* False with "OPTION PATH: is also OTHER PATH ..." in why. */
bool fileplan_check(const struct options *o, struct buf *why);

#endif
