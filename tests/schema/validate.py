#!/usr/bin/env python3
"""Validate tlswitness JSON Lines against the schemas in schema/ with a real
validator (python3-jsonschema, Draft 2020-12).

  validate.py FORMAT FILE...     FORMAT: json events paths domains users manifest
  validate.py auto FILE...       each line that is a tlswitness record (a JSON
                                 object with schema_version) against the
                                 schema of its kind; other lines are skipped
  validate.py golden FILE...     auto, on golden files: the fields the golden
                                 runner masks as "~" (tests/golden.sh) are
                                 put back as valid values first

Every line of every FILE must validate against schema/FORMAT.schema.json
(manifest: a single JSON document, as --manifest writes it).  Prints one
line per failure (file:line: the error at its path) and a summary; exits 1
on any failure, 2 when the validator is missing.
"""
import json, os, sys, warnings

try:
    import jsonschema
    from jsonschema import Draft202012Validator
except ImportError:
    print("validate.py: python3-jsonschema is not installed "
          "(sh tests/setup-debian.sh --test)", file=sys.stderr)
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_DIR = os.path.join(HERE, "..", "..", "schema")


def load_store():
    store = {}
    for name in sorted(os.listdir(SCHEMA_DIR)):
        if name.endswith(".schema.json"):
            with open(os.path.join(SCHEMA_DIR, name)) as f:
                s = json.load(f)
            Draft202012Validator.check_schema(s)
            store[s["$id"]] = s
    return store


def validator(store, fmt):
    for sid, s in store.items():
        if sid.endswith("/" + fmt + ".schema.json"):
            try:	# jsonschema >= 4.18: the referencing library
                from referencing import Registry, Resource
                reg = Registry().with_resources(
                    (i, Resource.from_contents(d)) for i, d in store.items())
                return Draft202012Validator(s, registry=reg)
            except ImportError:	# Debian 12's 4.10
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    resolver = jsonschema.RefResolver(sid, s, store=store)
                    return Draft202012Validator(s, resolver=resolver)
    print("validate.py: no schema for format %r" % fmt, file=sys.stderr)
    sys.exit(2)


MASKED_TIMES = ("generated", "modified")


def unmask(m):
    """tests/golden.sh writes "~" for the volatile manifest fields."""
    for k in MASKED_TIMES:
        if m.get(k) == "~":
            m[k] = "1970-01-01T00:00:00Z"
    for i in m.get("inputs", []):
        if i.get("modified") == "~":
            i["modified"] = "1970-01-01T00:00:00Z"


KIND_FORMAT = {"message": "json", "path": "paths", "mailbox-leg": "paths", "recipient-domain": "domains",
               "sending-peer": "domains", "user": "users", "manifest": "manifest"}


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    fmt, files = sys.argv[1], sys.argv[2:]
    store = load_store()
    golden = fmt == "golden"
    auto = fmt in ("auto", "golden")
    vs = {f: validator(store, f) for f in ("json", "events", "paths", "domains", "manifest")}
    v = None if auto else vs[fmt] if fmt in vs else validator(store, fmt)
    bad = records = 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            docs = [(1, f.read())] if fmt == "manifest" else enumerate(f, 1)
            for n, line in docs:
                if not line.strip():
                    continue
                records += 1
                try:
                    doc = json.loads(line)
                except ValueError as e:
                    if auto:
                        records -= 1
                        continue
                    bad += 1
                    print("%s:%d: not JSON: %s" % (path, n, e))
                    continue
                if auto:
                    if not isinstance(doc, dict) or "schema_version" not in doc:
                        records -= 1
                        continue
                    v = vs[KIND_FORMAT.get(doc.get("kind"), "events")]
                    if golden and doc.get("kind") == "manifest":
                        unmask(doc)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    errs = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
                for e in errs[:3]:
                    where = "/".join(str(p) for p in e.absolute_path) or "(record)"
                    print("%s:%d: %s: %s" % (path, n, where, e.message[:300]))
                if errs:
                    bad += 1
    print("%d records, %d invalid (%s)" % (records, bad, fmt))
    if auto and not records:
        print("validate.py: no tlswitness record in the files", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
