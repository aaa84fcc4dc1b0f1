/* detect.h - what kind of input a file is, by its first bytes. */
#ifndef TW_DETECT_H
#define TW_DETECT_H

enum input_kind { INPUT_LOG, INPUT_CAPTURE, INPUT_MESSAGE };

/* pcap (both byte orders, micro- and nanosecond) and pcapng magic, also
 * inside gzip; everything else (and unreadable files) is a log, whose
 * reader reports what is wrong with it. */
enum input_kind detect_input(const char *path);

#endif
