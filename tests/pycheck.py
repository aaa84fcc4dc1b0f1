"""What the Python suites (enforcement.py, legs.py) share: check() counts
and prints one line, done() prints "N passed, N failed" (tests/run.sh reads
it) and exits non-zero on a failure."""
import sys

counts = [0, 0]


def check(name, want, got):
    if want == got:
        counts[0] += 1
        print("ok    " + name)
    else:
        counts[1] += 1
        print("FAIL  %s: expected %r, got %r" % (name, want, got))


def done():
    print("%d passed, %d failed" % tuple(counts))
    sys.exit(1 if counts[1] else 0)
