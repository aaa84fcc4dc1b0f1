#!/usr/bin/env python3
"""state_cuts.py - the --state property (README "Nightly sweeps"): a log
read in pieces over several runs, each run reading only what is new, gives
exactly the records of one run over the whole, in the same order.

For every log named, with a fixed seed:
  append  - the log written to one file in pieces cut at random byte
            offsets (mid-line too: a line without its newline waits for
            the next run), a run after each piece;
  rotate  - the same with logrotate's moves between runs: mail.log ->
            mail.log.1 -> mail.log.2.gz -> mail.log.3.gz, sometimes with
            lines written to mail.log after a run and before it was
            rotated (read from mail.log.1 by the next run), every run
            given mail.log* as a cron job would;
(a rotated set is read in time order, file after file: the logs given
are in time order, as a server's own log is), and the last run of each
gives --state-close, which writes what is still
open as a run without --state does at its end.  The reference is one run
without --state over the final files.  Evidence names a file and a line;
both sides are compared with each reference turned into the line of the
original log it is (a file's name changes as it is rotated).

usage: state_cuts.py TLSWITNESS WORKDIR CUTS|every LOG...
With "every": each line end of each log in turn is the one cut between
two runs.
Prints one line per log and scenario; exits 1 on the first difference,
showing it.
"""
import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys

OPTS = ["--tz", "UTC", "--year", "2026", "-q", "--format", "json"]
EVIDENCE = re.compile(r'"((?:[^"\\]|\\.)*):(\d+)"')


def run(tw, cwd, files, state=None, close=False):
    cmd = [tw] + OPTS
    if state:
        cmd += ["--state", state]
    if close:
        cmd += ["--state-close"]
    p = subprocess.run(cmd + files, cwd=cwd, capture_output=True)
    if p.returncode not in (0, 1):
        sys.exit("%s: exit %d\n%s" % (" ".join(cmd + files), p.returncode,
                                      p.stderr.decode(errors="replace")))
    recs = []
    for line in p.stdout.decode().splitlines():
        if json.loads(line).get("kind") != "manifest":
            recs.append(line)
    return recs


def normalise(recs, start):
    """Each "NAME:LINE" of a file in start (name -> the original log's
    line its first line is) becomes "@LINE" of the original log."""
    out = []
    for r in recs:
        def sub(m):
            name = m.group(1)
            if name in start:
                return '"@%d"' % (start[name] + int(m.group(2)) - 1)
            return m.group(0)
        out.append(EVIDENCE.sub(sub, r))
    return out


def compare(label, got, want):
    if got == want:
        return
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            sys.exit("%s: record %d differs\n  pieces: %s\n  whole:  %s" % (label, i + 1, g, w))
    sys.exit("%s: %d records in pieces, %d in one run" % (label, len(got), len(want)))


def cuts(data, n, rnd, lines_only):
    """n cut offsets, sorted, inside data (at line ends when lines_only)."""
    if lines_only:
        ends = [i + 1 for i, c in enumerate(data) if c == 0x0A][:-1]
        pick = sorted(rnd.sample(ends, min(n, len(ends))))
    else:
        pick = sorted(set(rnd.randrange(1, len(data)) for _ in range(n)))
    return pick


def append_scenario(tw, work, data, ncuts, rnd):
    d = os.path.join(work, "append")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    offs = cuts(data, ncuts, rnd, False) + [len(data)]
    got, prev = [], 0
    for k, off in enumerate(offs):
        with open(os.path.join(d, "mail.log"), "ab") as f:
            f.write(data[prev:off])
        prev = off
        got += run(tw, d, ["mail.log"], "state", close=k == len(offs) - 1)
    whole = run(tw, d, ["mail.log"])
    start = {"mail.log": 1}
    return normalise(got, start), normalise(whole, start), len(offs)


def rotate(d, names):
    """logrotate with compress and delaycompress: .2.gz -> .3.gz,
    .1 -> .2.gz, mail.log -> .1, a new mail.log."""
    for k in sorted((int(n.split(".")[2]) for n in names if n.endswith(".gz")), reverse=True):
        os.rename(os.path.join(d, "mail.log.%d.gz" % k), os.path.join(d, "mail.log.%d.gz" % (k + 1)))
        names["mail.log.%d.gz" % (k + 1)] = names.pop("mail.log.%d.gz" % k)
    if "mail.log.1" in names:
        src = os.path.join(d, "mail.log.1")
        with open(src, "rb") as f, gzip.GzipFile(os.path.join(d, "mail.log.2.gz"), "wb", mtime=0) as g:
            g.write(f.read())
        os.unlink(src)
        names["mail.log.2.gz"] = names.pop("mail.log.1")
    os.rename(os.path.join(d, "mail.log"), os.path.join(d, "mail.log.1"))
    names["mail.log.1"] = names.pop("mail.log")
    open(os.path.join(d, "mail.log"), "wb").close()


def rotate_scenario(tw, work, data, ncuts, rnd):
    d = os.path.join(work, "rotate")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    offs = cuts(data, ncuts, rnd, True) + [len(data)]
    # names: file -> the original log's line its first line is
    names = {"mail.log": 1}
    open(os.path.join(d, "mail.log"), "wb").close()
    got, prev = [], 0

    def write(upto):
        nonlocal prev
        with open(os.path.join(d, "mail.log"), "ab") as f:
            f.write(data[prev:upto])
        prev = upto

    def listing():
        return sorted(names, key=lambda n: names[n])

    for k, off in enumerate(offs):
        last = k == len(offs) - 1
        if not last and rnd.random() < 0.5:
            # some lines after the run, then the rotation, then the rest
            mid = data.rfind(b"\n", prev, (prev + off) // 2) + 1
            if mid > prev:
                write(mid)
        if k and rnd.random() < 0.6:
            rotate(d, names)
            names["mail.log"] = data[:prev].count(b"\n") + 1
        write(off)
        recs = run(tw, d, listing(), "state", close=last)
        got += normalise(recs, dict(names))
    whole = normalise(run(tw, d, listing()), dict(names))
    return got, whole, len(offs)


def every_cut(tw, work, log, data):
    """Each line end as the one cut between two runs."""
    d = os.path.join(work, "every")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    path = os.path.join(d, "mail.log")
    with open(path, "wb") as f:
        f.write(data)
    start = {"mail.log": 1}
    whole = normalise(run(tw, d, ["mail.log"]), start)
    ends = [i + 1 for i, c in enumerate(data) if c == 0x0A][:-1]
    for k, end in enumerate(ends):
        for name in ("state", "state.lock"):
            if os.path.exists(os.path.join(d, name)):
                os.unlink(os.path.join(d, name))
        with open(path, "wb") as f:
            f.write(data[:end])
        got = run(tw, d, ["mail.log"], "state")
        with open(path, "ab") as f:
            f.write(data[end:])
        got += run(tw, d, ["mail.log"], "state", close=True)
        compare("%s (cut after line %d)" % (log, k + 1), normalise(got, start), whole)
    print("ok %s (every cut): %d records, %d cuts" % (log, len(whole), len(ends)))


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    tw, work = os.path.abspath(sys.argv[1]), sys.argv[2]
    os.makedirs(work, exist_ok=True)
    for log in sys.argv[4:]:
        with open(log, "rb") as f:
            data = f.read()
        if not data.endswith(b"\n"):
            data += b"\n"
        if sys.argv[3] == "every":
            every_cut(tw, work, log, data)
            continue
        ncuts = int(sys.argv[3])
        for name, scenario in (("append", append_scenario), ("rotate", rotate_scenario)):
            rnd = random.Random("%s %s" % (os.path.basename(log), name))
            got, whole, runs = scenario(tw, work, data, ncuts, rnd)
            compare("%s (%s)" % (log, name), got, whole)
            print("ok %s (%s): %d records, %d runs" % (log, name, len(whole), runs))


if __name__ == "__main__":
    main()
