/* policymap.h - --policy-map postfix|sendmail (report/policymap.c). */
#ifndef TW_POLICYMAP_H
#define TW_POLICYMAP_H
#include "writer.h"

extern const struct writer_class writer_map_postfix, writer_map_sendmail;

#endif
