#!/usr/bin/env python3
"""A generated fleet for the evidence store's benchmark (bench/store.sh):
PAIRS pairs of hosts, each pair the lab's two servers (samples/lab:
postfix-a.log's "lab" relaying to syslog-mail.log's "vm", Postfix and
Sendmail) renamed mxNNN, each pair's day COPIES copies of the lab's
scenarios spread over 24 hours.  Every copy has queue IDs, process IDs,
addresses and Message-IDs of its own (scale_log.py's templates, one copy
number across the pair, so a relay's "queued as" still names the next
host's queue ID), so the store sees PAIRS x COPIES distinct runs of the
lab, with their cross-host paths.

    fleet.py OUTDIR PAIRS COPIES      writes OUTDIR/mxNNN/mail.log
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale_log  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LAB = os.path.join(HERE, '..', 'samples', 'lab')
SOURCES = [('postfix-a.log', 'lab'), ('syslog-mail.log', 'vm')]


def distinct_ids(texts):
    """A copy keeps a queue ID's characters after the fourth (scale_log.py),
    so two of the lab's IDs alike there would become one: each such ID is
    given another fifth character, the same in every file of the pair."""
    seen, ren = {}, {}
    for text in texts:
        for q in scale_log.QID.findall(text):
            if q in ren:
                continue
            alt, digits = q, '0123456789ABCDEF'
            while seen.get(alt[4:], q) != q and alt[4] in digits:
                alt = alt[:4] + digits[(digits.index(alt[4]) + 1) % 16] + alt[5:]
            seen[alt[4:]] = q
            ren[q] = alt
    return ren


def templates(text, host, ren):
    lines = scale_log.QID.sub(lambda m: ren[m.group(1)], text).splitlines()
    out = []
    for line in lines:
        fmt, kind, secs, pids = scale_log.template(line, True)
        # the syslog host right after the stamp becomes the fleet's name
        fmt = re.sub(r'^(\{t\}[^ ]*) %s ' % re.escape(host), r'\1 {host} ', fmt, count=1)
        out.append((fmt, kind, secs, pids))
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    outdir, pairs, copies = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if pairs * copies > 65536:
        sys.exit('fleet.py: at most 65536 copies in all (queue IDs carry 4 hex digits)')
    step = 86400 // copies
    texts = [open(os.path.join(LAB, f), encoding='utf-8', errors='surrogateescape').read()
             for f, _ in SOURCES]
    ren = distinct_ids(texts)
    srcs = [templates(t, h, ren) for t, (_, h) in zip(texts, SOURCES)]
    for p in range(pairs):
        for s, tpls in enumerate(srcs):
            host = 'mx%03d' % (2 * p + s + 1)
            os.makedirs(os.path.join(outdir, host), exist_ok=True)
            with open(os.path.join(outdir, host, 'mail.log'), 'w', encoding='utf-8',
                      errors='surrogateescape') as out:
                for j in range(copies):
                    k = p * copies + j
                    tag = '%04X' % k
                    shift = step * j
                    pidoff = 100000 * (j % 40)
                    stamps = {}
                    for fmt, kind, secs, pids in tpls:
                        fields = {'tag': tag, 'host': host}
                        if kind:
                            key = (kind, secs)
                            st = stamps.get(key)
                            if st is None:
                                t = scale_log.EPOCH + scale_log.datetime.timedelta(
                                    seconds=secs + shift)
                                st = t.strftime('%Y-%m-%dT%H:%M:%S' if kind == 'iso'
                                                else '%b %e %H:%M:%S')
                                stamps[key] = st
                            fields['t'] = st
                        for i, pid in enumerate(pids):
                            fields['p%d' % i] = pid + pidoff
                        out.write(fmt.format(**fields) + '\n')


if __name__ == '__main__':
    main()
