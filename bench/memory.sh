#!/bin/sh
# Peak resident memory of tlswitness at 1x and 10x the same traffic: state
# must live only as long as its session or message, so the two should be
# about the same.  Needs python3 and GNU time (Debian: package "time").
#   sh bench/memory.sh [COPIES]        default 2000 copies of the lab log
set -e
cd "$(dirname "$0")/.."
n=${1:-2000}
d=${TMPDIR:-/tmp}/tlswitness-bench.$$
mkdir -p "$d"
trap 'rm -rf "$d"' EXIT
make -s tlswitness
python3 bench/scale_log.py samples/lab/postfix-a.log "$n" > "$d/x1.log"
python3 bench/scale_log.py samples/lab/postfix-a.log "$((n * 10))" > "$d/x10.log"
for s in x1 x10; do
  /usr/bin/time -f "%M %e" -o "$d/$s.time" ./tlswitness -q --format json --tz UTC --year 2026 \
    "$d/$s.log" > "$d/$s.json"
  set -- $(cat "$d/$s.time")
  printf '%-4s %9s lines %7s MB  %6s messages  peak RSS %6s KiB  %5ss\n' "$s" \
    "$(wc -l < "$d/$s.log")" "$(( $(wc -c < "$d/$s.log") / 1048576 ))" \
    "$(wc -l < "$d/$s.json")" "$1" "$2"
done
