/* csv.h - --format csv: one RFC 4180 row per hop (report/csv.c). */
#ifndef TW_CSV_H
#define TW_CSV_H
#include "writer.h"

extern const struct writer_class writer_csv;

#endif
