#!/usr/bin/env python3
"""lookup_exact.py - the fast lookup's property (README "Selecting
messages"): a lookup read in windows around its needles gives exactly the
records of the same lookup over every line (--full-read).

For every log named, for each of up to SAMPLE messages (chosen with a
fixed seed): a lookup by its queue ID (as JSON, as paths and as the story, with its
evidence lines read back), its Message-ID, its first recipient, that recipient's domain and its sender;
each run both ways and compared record by record (the manifest apart); a
lookup by either queue ID a record carries (its own, and the one before a
content filter), or by a recipient as delivered or as addressed (orig_to),
must find it.

usage: lookup_exact.py TLSWITNESS SAMPLE LOG...
Prints one line per log: the lookups compared and how many took the fast
path; exits 1 at the first difference, showing it.
"""
import json
import random
import subprocess
import sys

OPTS = ["--tz", "UTC", "--year", "2026"]


def run(tw, args, full):
    cmd = [tw] + OPTS + (["--full-read"] if full else []) + args
    p = subprocess.run(cmd, capture_output=True)
    if p.returncode not in (0, 1, 5):
        sys.exit("%s: exit %d\n%s" % (" ".join(cmd), p.returncode,
                                      p.stderr.decode(errors="replace")))
    text = p.stdout.decode()
    if "\nEvidence manifest\n" in text:	# a text format: the story before its manifest
        text = text.split("\nEvidence manifest\n")[0]
    recs = [l for l in text.splitlines() if not l.startswith('{"kind":"manifest"')]
    fast = b"tlswitness: lookup:" in p.stderr
    return p.returncode, recs, fast


def needles(m):
    out = [["--queue-id", m["queue_id"]]]
    if m.get("prior_queue_id"):     # the queue file before a content filter
        out.append(["--queue-id", m["prior_queue_id"]])
    if m.get("message_id"):
        out.append(["--message-id", m["message_id"]])
    rcpts = [d["rcpt"] for d in m.get("deliveries", []) if d.get("rcpt")]
    if rcpts:
        out.append(["--rcpt", rcpts[0]])
        if "@" in rcpts[0]:
            out.append(["--rcpt", "@" + rcpts[0].split("@", 1)[1].upper()])
    origs = [d["orig_to"] for d in m.get("deliveries", []) if d.get("orig_to")]
    if origs:                       # as addressed, before an alias rewrote it
        out.append(["--rcpt", origs[0]])
    if m.get("from"):
        out.append(["--from", m["from"]])
    return out


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    tw, sample = sys.argv[1], int(sys.argv[2])
    for log in sys.argv[3:]:
        _, recs, _ = run(tw, ["-q", "-f", "json", log], True)
        msgs = [json.loads(r) for r in recs]
        msgs = [m for m in msgs if m.get("kind") == "message" and m.get("queue_id")]
        rnd = random.Random(log)
        chosen = rnd.sample(msgs, min(sample, len(msgs)))
        # and always some that went through a content filter (two queue IDs)
        chosen += [m for m in msgs if m.get("prior_queue_id") and m not in chosen][:3]
        chosen += [m for m in msgs if m not in chosen and
                   any(d.get("orig_to") for d in m.get("deliveries", []))][:3]
        compared = fast_used = 0
        for m in chosen:
            for nd in needles(m):
                formats = [["-f", "json"]] + ([["-f", "paths"], ["-f", "story"]] if nd[0] == "--queue-id" else [])
                for fmt in formats:
                    args = fmt + nd + [log]
                    st_f, got, fast = run(tw, args, False)
                    st_r, want, _ = run(tw, args, True)
                    compared += 1
                    fast_used += fast
                    if fmt == ["-f", "json"] and (nd[0] == "--queue-id" or (
                            nd[0] == "--rcpt" and "@" not in nd[1][:1])) and not any(
                            json.loads(r).get("queue_id") == m["queue_id"] for r in want):
                        sys.exit("%s %s: the message %s is not found by it"
                                 % (log, " ".join(args[:-1]), m["queue_id"]))
                    if (st_f, got) != (st_r, want):
                        for i, (g, w) in enumerate(zip(got, want)):
                            if g != w:
                                sys.exit("%s %s: record %d differs\n  windows: %s\n  full:    %s"
                                         % (log, " ".join(args[:-1]), i + 1, g, w))
                        sys.exit("%s %s: exit %d with %d records in windows, exit %d with %d "
                                 "in full" % (log, " ".join(args[:-1]), st_f, len(got), st_r,
                                              len(want)))
        print("ok %s: %d lookups the same both ways, %d of them read in windows"
              % (log, compared, fast_used))


if __name__ == "__main__":
    main()
