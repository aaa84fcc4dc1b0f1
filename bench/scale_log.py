#!/usr/bin/env python3
"""Scale a real mail log up for benchmarks: N copies of the input, each copy
made into distinct sessions and messages - fresh queue IDs, process IDs and
times - so the tool sees N times the traffic, not N times the same state.

    scale_log.py INPUT COPIES > OUTPUT

Handles RFC 3164 / maillog_file stamps ("Nov 28 11:57:49") and RFC 3339
ones; each copy is shifted by STEP seconds after the previous one.
"""
import re, sys, datetime

STEP = 30
QID = re.compile(r'\b([0-9A-F]{10,12}|[0-9A-Za-z]{14})\b')
PID = re.compile(r'\[(\d+)\]:')
ISO = re.compile(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)')
BSD = re.compile(r'^([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)')

def main():
    src, copies = sys.argv[1], int(sys.argv[2])
    lines = open(src, encoding='utf-8', errors='surrogateescape').read().splitlines()
    out = sys.stdout
    for k in range(copies):
        tag = '%04X' % (k % 65536)
        shift = datetime.timedelta(seconds=STEP * k)
        buf = []
        for line in lines:
            m = ISO.match(line)
            if m:
                t = datetime.datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S') + shift
                line = t.strftime('%Y-%m-%dT%H:%M:%S') + line[m.end():]
            else:
                m = BSD.match(line)
                if m:
                    t = datetime.datetime.strptime('2026 ' + m.group(1), '%Y %b %d %H:%M:%S') + shift
                    line = t.strftime('%b %e %H:%M:%S') + line[m.end():]
            line = QID.sub(lambda q: tag + q.group(1), line)
            line = PID.sub(lambda p: '[%d]:' % (int(p.group(1)) + 100000 * (k % 40)), line)
            buf.append(line)
        out.write('\n'.join(buf) + '\n')

if __name__ == '__main__':
    main()
