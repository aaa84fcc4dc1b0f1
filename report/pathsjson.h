/* pathsjson.h - --format paths (report/pathsjson.c). */
#ifndef TW_PATHSJSON_H
#define TW_PATHSJSON_H
#include "writer.h"

struct paths;
struct path_node;
extern const struct writer_class writer_paths;
/* One path, from its first server on, as one JSON line (a path_write_fn's
 * work); env's pseudo, when set, pseudonymises its addresses, its files
 * name the evidence. */
void json_path(struct buf *out, struct paths *p, struct path_node *root,
	       const struct writer_env *env);

#endif
