/* events.h - --format events (report/events.c). */
#ifndef TW_EVENTS_H
#define TW_EVENTS_H
#include "writer.h"

extern const struct writer_class writer_events;
/* One log evidence record as one JSON line. */
void json_event(struct buf *out, const struct evidence *ev, const struct writer_env *env);
/* One capture connection as one JSON line, with the TLS facts found for it. */
void json_connection(struct buf *out, const struct smtp_connection *c,
		     const struct tls_state *t, const char *basis,
		     const struct writer_env *env);

#endif
