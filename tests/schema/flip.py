#!/usr/bin/env python3
"""The schemas reject what is wrong: every field of a real record, flipped
to a wrong type one at a time, must fail validation (issue: "a real record
with any one field flipped to a wrong type is rejected").

  flip.py FORMAT FILE...     FORMAT as validate.py takes it

For each record kind in the FILEs (the "kind" field), the record with the
most fields is taken; every value in it - leaves, objects and arrays, at
any depth - is replaced in turn by a value of another JSON type (a string
by a number, a number by a string, a boolean by a string, null by an
object, an array or object by a string), and the record validated.  The
unflipped record must validate.  Prints each flip the schema accepted and a
summary line "N of N flips rejected, K kinds"; exits 1 when one was
accepted, 2 when the validator is missing.
"""
import copy, json, sys

import validate  # same folder: its schema store and validators

def wrong(v):
    if isinstance(v, bool):
        return "true"
    if isinstance(v, (int, float)):
        return "12"
    if isinstance(v, str):
        return 12345
    if v is None:
        return {"flipped": True}
    return "flipped"	# an array or an object

def paths(v, at=()):
    """Every place in v, depth first: a tuple of keys and indexes."""
    if isinstance(v, dict):
        for k, x in v.items():
            yield at + (k,)
            yield from paths(x, at + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v[:3]):	# the first elements stand for all
            yield at + (i,)
            yield from paths(x, at + (i,))

def get(v, p):
    for k in p:
        v = v[k]
    return v

def put(v, p, x):
    for k in p[:-1]:
        v = v[k]
    v[p[-1]] = x

def size(v):
    return sum(1 for _ in paths(v))

def main():
    fmt, files = sys.argv[1], sys.argv[2:]
    best = {}
    for name in files:
        with open(name) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                r = json.loads(line)
                if not isinstance(r, dict):
                    continue
                k = r.get("kind", "(none)")
                if k not in best or size(r) > size(best[k]):
                    best[k] = r
    if not best:
        print("flip.py: no records in %s" % " ".join(files), file=sys.stderr)
        return 1
    v = validate.validator(validate.load_store(), fmt)
    total = rejected = 0
    for k, r in sorted(best.items()):
        errs = list(v.iter_errors(r))
        if errs:
            print("FAIL  %s: the record itself does not validate: %s" % (k, errs[0].message))
            return 1
        for p in paths(r):
            if p and p[-1] in ("kind", "schema_version"):
                continue	# the record's own identity: checked by const
            f = copy.deepcopy(r)
            put(f, p, wrong(get(r, p)))
            total += 1
            if any(True for _ in v.iter_errors(f)):
                rejected += 1
            else:
                print("accepted  %s: %s = %s" % (k, ".".join(map(str, p)), json.dumps(wrong(get(r, p)))))
    print("%d of %d flips rejected, %d kinds (%s)" % (rejected, total, len(best),
                                                   " ".join(sorted(best))))
    return 0 if rejected == total else 1

if __name__ == "__main__":
    sys.exit(main())
