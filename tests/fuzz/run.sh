#!/bin/sh
# Run every fuzz target for a bounded time, seeded from the lab set, the
# tests and ../shared/corpus (when present).  A crash leaves its input in
# BUILD_DIR/out/TARGET/crash-* and fails the run: make it a regression
# test.  Last line: "N passed, N failed".
#   tests/fuzz/run.sh BUILD_DIR SECONDS
B=$1 S=${2:-30}
cd "$(dirname "$0")/../.." || exit 2
O=$B/out   # not under tests/out: make check clears that
mkdir -p "$O"
pass=0 fail=0
seed() { # target dir files...
  d=$O/$1/seeds; shift
  mkdir -p "$d"
  for f in "$@"; do [ -f "$f" ] && cp "$f" "$d/$(echo "$f" | tr '/' '_')"; done
}
SH=../shared/corpus
seed maillog samples/lab/*.log $SH/logs/*.log
seed capture samples/lab/*.pcap $SH/pcap/*
seed smtp tests/fuzz/fuzz_smtp.c
seed received samples/lab/received.mbox $SH/mail/*
seed rules rules/*.yaml tests/rules/broken/*.yaml
# states with open messages in them, their SHA-256 trailers cut (the
# target appends one): the lab's logs stopped part way
mkdir -p "$O/state/seeds"
for f in samples/lab/postfix-a.log samples/lab/syslog-mail.log samples/lab-topology/postfix.log; do
  n=$(($(wc -l < "$f") / 2))
  head -n "$n" "$f" > "$O/state/half.log"
  rm -f "$O/state/st"
  ./tlswitness -q --tz UTC --year 2026 --state "$O/state/st" -f json "$O/state/half.log" > /dev/null 2>&1
  [ -f "$O/state/st" ] && head -c -32 "$O/state/st" > "$O/state/seeds/$(basename "$f").state"
done
seed policytable samples/lab-pf312/tls-policy samples/lab-topology/tls-policy tests/policy/sendmail-access
seed load samples/lab/truth.jsonl
seed verify tests/fuzz/regress/verify-*	# the target's own findings, fixed
# reports of every kind that carries a manifest, and a --manifest file
mkdir -p "$O/verify/seeds" "$O/load/seeds"
for f in json text html; do
  ./tlswitness -q --tz UTC --year 2026 -f $f samples/lab/postfix-a.log > "$O/verify/seeds/r.$f" 2> /dev/null
done
./tlswitness -q --tz UTC --year 2026 -f csv --manifest "$O/verify/seeds/r.man" -o "$O/verify/seeds/r.csv" \
  samples/lab/postfix-a.log 2> /dev/null
cp "$O/verify/seeds/r.json" "$O/load/seeds/r.jsonl"
gzip -c "$O/verify/seeds/r.json" > "$O/load/seeds/r.jsonl.gz"
# journal entries as the target takes them: NUL-separated fields, from
# the lab's rsyslog lines, with journald's trusted fields of a daemon and
# of nobody's logger (tests/journal/forged.export)
mkdir -p "$O/journal/seeds"
python3 - "$O/journal/seeds" samples/lab/syslog-mail.log <<'PY'
import re, sys
out, log = sys.argv[1], sys.argv[2]
line = re.compile(r'(\S+) (\S+) ([^\[: ]+)(?:\[(\d+)\])?: (.*)')
ents = []
for l in open(log, encoding="utf-8", errors="surrogateescape"):
    m = line.match(l.rstrip("\n"))
    if m:
        ts, host, ident, pid, msg = m.groups()
        ents.append(["107", ident.split("/")[-1], "/usr/lib/postfix/sbin/" + ident.split("/")[-1],
                     host, ident, pid or "", msg])
ents.append(["65534", "logger", "", "vm", "postfix/smtp", "15028", ents[0][6]])
for k in range(0, len(ents), 40):
    blob = b"".join(b"\0".join(f.encode("utf-8", "surrogateescape") for f in e) + b"\0" for e in ents[k:k + 40])
    open("%s/lab-%03d" % (out, k // 40), "wb").write(blob)
PY
for t in maillog capture smtp received rules state verify policytable journal load; do
  mkdir -p "$O/$t/work"
  "$B/fuzz_$t" -max_total_time="$S" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
    -artifact_prefix="$O/$t/" -print_final_stats=1 "$O/$t/work" "$O/$t/seeds" \
    > "$O/$t.log" 2>&1
  st=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$O/$t.log")
  cov=$(grep -o 'cov: [0-9]*' "$O/$t.log" | tail -1 | sed 's/cov: //')
  if [ "$st" = 0 ]; then
    pass=$((pass + 1)); echo "ok    fuzz_$t: ${runs:-?} inputs in ${S}s, ${cov:-?} edges covered, no finding"
  else
    fail=$((fail + 1)); echo "FAIL  fuzz_$t (exit $st): see $O/$t.log"
    grep -m5 -E 'ERROR|SUMMARY|Test unit written' "$O/$t.log" | sed 's/^/      /'
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
