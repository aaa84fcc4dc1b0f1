/* tlsrpt.h - --format tlsrpt: RFC 8460 aggregate reports (report/tlsrpt.c). */
#ifndef TW_TLSRPT_H
#define TW_TLSRPT_H
#include "writer.h"

extern const struct writer_class writer_tlsrpt;

#endif
