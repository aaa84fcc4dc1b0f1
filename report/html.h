/* html.h - --format html: one self-contained report (report/html.c). */
#ifndef TW_HTML_H
#define TW_HTML_H
#include "writer.h"

extern const struct writer_class writer_html;

#endif
