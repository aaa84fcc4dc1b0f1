#!/usr/bin/env python3
"""README.md's "Field reference" against the schemas: --check (the test)
exits 1 when the block between its markers differs from fieldref.py's
output; --write puts the generated block in (make fieldref)."""
import os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "..", "README.md")
BEGIN, END = "<!-- fieldref begin -->\n", "<!-- fieldref end -->\n"

gen = subprocess.run([sys.executable, os.path.join(HERE, "fieldref.py")],
                     check=True, capture_output=True, text=True).stdout
text = open(README, encoding="utf-8").read()
i, j = text.find(BEGIN), text.find(END)
if i < 0 or j < i:
    print("README.md: no field reference markers", file=sys.stderr)
    sys.exit(2)
have = text[i + len(BEGIN):j]
if sys.argv[1:] == ["--write"]:
    with open(README, "w", encoding="utf-8") as f:
        f.write(text[:i + len(BEGIN)] + gen + text[j:])
    sys.exit(0)
if have != gen:
    print("README.md's field reference is not the schemas' (make fieldref writes it)")
    sys.exit(1)
print("README.md's field reference is generated from the schemas (%d lines)" % gen.count("\n"))
