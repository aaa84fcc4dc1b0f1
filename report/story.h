/* story.h - --format story (report/story.c). */
#ifndef TW_STORY_H
#define TW_STORY_H
#include "writer.h"

extern const struct writer_class writer_story;

#endif
