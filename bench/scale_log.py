#!/usr/bin/env python3
"""Scale a real mail log up for benchmarks: N copies of the input, each copy
made into distinct sessions and messages - fresh queue IDs, process IDs and
times - so the tool sees N times the traffic, not N times the same state.

    scale_log.py INPUT COPIES > OUTPUT
    scale_log.py INPUT --size 1G > OUTPUT     as many copies as make 1 GiB
    ... --step SECONDS     each copy that long after the one before (30)
    ... --vary-addresses   each copy's addresses and Message-IDs its own
                           (local part + "-" + the copy's tag): a needle
                           names one copy's messages, as in a real log

Handles RFC 3164 / maillog_file stamps ("Nov 28 11:57:49") and RFC 3339
ones; each copy is shifted by STEP seconds after the previous one.  Queue
IDs get the copy's number in their first four characters, and times the
same shift, as scale_pcap.py gives its copies: a scaled log and a scaled
capture of the same run still join.  Each
line is parsed once into a template (literal text, stamp, queue IDs, pids);
a copy only fills the slots, so a gigabyte takes seconds, not minutes.
"""
import datetime
import re
import sys

STEP = 30
QID = re.compile(r'\b([0-9A-F]{10,12}|[0-9A-Za-z]{14})\b')
PID = re.compile(r'\[(\d+)\]:')
ADDR = re.compile(r'<([^<>@\s]+)@')
ISO = re.compile(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)')
BSD = re.compile(r'^([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)')
EPOCH = datetime.datetime(1970, 1, 1)


def template(line, vary):
    """(format string, stamp kind, stamp seconds, qids, pids)."""
    kind, secs = None, 0
    m = ISO.match(line)
    if m:
        kind = 'iso'
        t = datetime.datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S')
    else:
        m = BSD.match(line)
        if m:
            kind = 'bsd'
            t = datetime.datetime.strptime('2026 ' + m.group(1), '%Y %b %d %H:%M:%S')
    rest = line
    if kind:
        secs = int((t - EPOCH).total_seconds())
        rest = line[m.end():]
    slots, qids, pids, out, pos = [], [], [], [], 0
    spans = [(q.start(1), q.end(1), 'q', q.group(1)) for q in QID.finditer(rest)]
    spans += [(p.start(1), p.end(1), 'p', int(p.group(1))) for p in PID.finditer(rest)]
    if vary:
        spans += [(a.start(1), a.end(1), 'a', a.group(1)) for a in ADDR.finditer(rest)]
    spans.sort()
    fmt = ['{t}' if kind else '']
    for a, b, what, val in spans:
        if a < pos:
            continue
        fmt.append(rest[pos:a].replace('{', '{{').replace('}', '}}'))
        if what == 'q':
            fmt.append('{tag}%s' % val[4:])
        elif what == 'a':
            fmt.append('%s-{tag}' % val.replace('{', '{{').replace('}', '}}'))
        else:
            fmt.append('{p%d}' % len(pids))
            pids.append(val)
        pos = b
    fmt.append(rest[pos:].replace('{', '{{').replace('}', '}}'))
    return ''.join(fmt), kind, secs, pids


def main():
    global STEP
    args = sys.argv[1:]
    vary = '--vary-addresses' in args
    if vary:
        args.remove('--vary-addresses')
    if '--step' in args:
        i = args.index('--step')
        STEP = int(args[i + 1])
        del args[i:i + 2]
    if len(args) == 3 and args[1] == '--size':
        src, want = args[0], args[2]
        scale = {'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}.get(want[-1:].upper(), 1)
        target = int(want.rstrip('KMGkmg')) * scale
    elif len(args) == 2:
        src, target = args[0], None
        copies = int(args[1])
    else:
        sys.exit(__doc__)
    lines = open(src, encoding='utf-8', errors='surrogateescape').read().splitlines()
    tpls = [template(l, vary) for l in lines]
    out = sys.stdout
    k = 0
    written = 0
    while (k < copies) if target is None else (written < target):
        tag = '%04X' % (k % 65536)
        shift = STEP * k
        stamps = {}
        pidoff = 100000 * (k % 40)
        buf = []
        for fmt, kind, secs, pids in tpls:
            fields = {'tag': tag}
            if kind:
                key = (kind, secs)
                s = stamps.get(key)
                if s is None:
                    t = EPOCH + datetime.timedelta(seconds=secs + shift)
                    s = t.strftime('%Y-%m-%dT%H:%M:%S' if kind == 'iso' else '%b %e %H:%M:%S')
                    stamps[key] = s
                fields['t'] = s
            for i, p in enumerate(pids):
                fields['p%d' % i] = p + pidoff
            buf.append(fmt.format(**fields))
        text = '\n'.join(buf) + '\n'
        out.write(text)
        written += len(text)
        k += 1


if __name__ == '__main__':
    main()
