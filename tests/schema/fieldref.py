#!/usr/bin/env python3
"""Print the field reference of tlswitness's JSON outputs, generated from
the schemas in schema/ (README "Field reference" is this output between
its markers; the test suite checks that it is).

  fieldref.py            the Markdown reference on standard output
"""
import json, os

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_DIR = os.path.join(HERE, "..", "..", "schema")
store = {}
for name in sorted(os.listdir(SCHEMA_DIR)):
    if name.endswith(".schema.json"):
        with open(os.path.join(SCHEMA_DIR, name)) as f:
            s = json.load(f)
        store[name] = s


def resolve(ref, base):
    doc, _, ptr = ref.partition("#")
    doc = doc or base
    node = store[doc]
    for part in [p for p in ptr.split("/") if p]:
        node = node[part]
    return node, doc


def typename(node, base, depth=0):
    if "$ref" in node and "properties" not in node and depth < 5:
        n, b = resolve(node["$ref"], base)
        return typename(n, b, depth + 1)
    if "const" in node:
        return json.dumps(node["const"])
    if "enum" in node:
        return " \\| ".join(json.dumps(v) for v in node["enum"])
    if "anyOf" in node:
        return " \\| ".join(typename(a, base, depth + 1) for a in node["anyOf"])
    t = node.get("type")
    if isinstance(t, list):
        return " \\| ".join(t)
    if t == "array":
        return "array of " + typename(node.get("items", {}), base, depth + 1)
    return t or "object"


def description(node, base):
    if "description" in node:
        return node["description"]
    if "$ref" in node:
        n, b = resolve(node["$ref"], base)
        return n.get("description", "")
    return ""


def properties(node, base, depth=0):
    """The properties of an object schema, its $ref'd parts included."""
    props = {}
    if "$ref" in node and depth < 5:
        n, b = resolve(node["$ref"], base)
        for k, v in properties(n, b, depth + 1).items():
            props[k] = v
    for k, v in node.get("properties", {}).items():
        props[k] = (v, base)
    return props


# Objects used in several places: described once, named where used.
SHARED = {"defs.schema.json#/$defs/tls": "tls", "defs.schema.json#/$defs/certificate": "certificate",
          "defs.schema.json#/$defs/attempt": "attempt", "json.schema.json#/$defs/inbound": "inbound hop",
          "json.schema.json#/$defs/delivery": "delivery", "json.schema.json#/$defs/header_hop": "header hop"}


def shared_name(node, base):
    """The shared object a property refers to, if any (through arrays and nulls)."""
    for n in [node] + node.get("anyOf", []) + ([node["items"]] if "items" in node else []):
        ref = n.get("$ref")
        if ref:
            doc, _, ptr = ref.partition("#")
            key = (doc or base) + "#" + ptr
            if key in SHARED:
                return SHARED[key]
    return None


def rows(node, base, prefix, out):
    for k, (v, b) in properties(node, base).items():
        path = prefix + k
        name = shared_name(v, b)
        t = typename(v, b) if not name else ("array of " if "items" in v else "") + \
            "*" + name + "*" + (" \\| null" if "anyOf" in v else "")
        out.append("| `%s` | %s | %s |" % (path, t, description(v, b)))
        if name:
            continue
        target, tb = v, b
        while "$ref" in target and "properties" not in target:
            target, tb = resolve(target["$ref"], tb)
        if "items" in target:
            it, ib = target["items"], tb
            while "$ref" in it and "properties" not in it:
                it, ib = resolve(it["$ref"], ib)
            if "properties" in it:
                rows(it, ib, path + "[].", out)
        elif "properties" in target:
            rows(target, tb, path + ".", out)


RECORDS = [
    ("json.schema.json", "#/$defs/message", "`--format json`: `\"kind\": \"message\"`"),
    ("events.schema.json", "#/$defs/log_event", "`--format events`: a log line's record"),
    ("events.schema.json", "#/$defs/smtp_connection", "`--format events`: `\"kind\": \"smtp-connection\"`"),
    ("paths.schema.json", "#/$defs/path", "`--format paths`: `\"kind\": \"path\"`"),
    ("paths.schema.json", "#/$defs/mailbox_leg", "`--format paths`: `\"kind\": \"mailbox-leg\"`"),
    ("domains.schema.json", "#/$defs/recipient_domain", "`--format domains`: `\"kind\": \"recipient-domain\"`"),
    ("domains.schema.json", "#/$defs/sending_peer", "`--format domains`: `\"kind\": \"sending-peer\"`"),
    ("users.schema.json", "#/$defs/user", "`--format users`: `\"kind\": \"user\"`"),
    ("manifest.schema.json", "", "the manifest: `\"kind\": \"manifest\"`"),
]


def table(title, node, base):
    print()
    print("#### " + title)
    print()
    print("| field | type | meaning |")
    print("| --- | --- | --- |")
    out = []
    rows(node, base, "", out)
    print("\n".join(out))


def main():
    print("Generated from `schema/` (schema version 2) by `tests/schema/fieldref.py`;")
    print("`make fieldref` writes it here.  An object in *italics* is described once,")
    print("below the records.")
    for doc, ptr, title in RECORDS:
        node, base = resolve(doc + ptr, doc)
        table(title, node, base)
    for ref, name in SHARED.items():
        doc, _, ptr = ref.partition("#")
        node, base = resolve(ref, doc)
        desc = node.get("description", "")
        table("*%s*%s" % (name, (": " + desc) if desc else ""), node, base)


if __name__ == "__main__":
    main()
