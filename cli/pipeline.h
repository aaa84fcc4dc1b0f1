/* pipeline.h - one run, from the options to the exit status
 * (ARCHITECTURE.md "The pipeline"): inputs told apart, captures read for
 * their summary, the logs read for the capture clock's offset and again
 * beside the captures, messages' own headers, each message judged once and
 * handed to the chosen writer, the manifest, the output committed. */
#ifndef TW_PIPELINE_H
#define TW_PIPELINE_H
#include "options.h"

/* README "Exit codes": 0, 1 (--fail-on), 2 (usage, input or output
 * error), 3 (the rule file has errors). */
int pipeline_run(const struct options *o);

#endif
