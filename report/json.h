/* json.h - --format json (report/json.c). */
#ifndef TW_JSON_H
#define TW_JSON_H
#include "writer.h"

extern const struct writer_class writer_json;
/* One message as one JSON line (also the fuzz targets' check). */
void json_message(struct buf *out, const struct message *m, const struct writer_env *env);

#endif
