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
for t in maillog capture smtp received rules state; do
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
