/* text.h - the default format: a table a hop a row, a summary, the
 * per-domain tables and the manifest (report/text.c). */
#ifndef TW_TEXT_H
#define TW_TEXT_H
#include "writer.h"

extern const struct writer_class writer_text;
void text_message(struct buf *out, const struct message *m, const struct writer_env *env);

#endif
