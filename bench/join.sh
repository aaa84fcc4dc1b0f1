#!/bin/sh
# Logs joined with a capture, and paths across servers, at two sizes ten
# times apart: time, throughput over all the bytes read, peak memory
# (issue "Joining": memory stays bounded for long captures with long
# logs).  No other tool joins them, so there is no peer to divide by.
#   sh bench/join.sh [COPIES]   copies of the lab run, default 5600
#                               (about 1 GiB of capture)
# The lab's logs (Postfix A's file; Postfix B and Sendmail in one syslog
# file) and its capture are scaled alike (bench/scale_*.py: same step,
# same queue-ID tags), so every copy joins as the lab run does.
set -e
cd "$(dirname "$0")/.."
D=${BENCH_DIR:-build/bench}
N=${1:-5600}
mkdir -p "$D"
make -s tlswitness
TW=./tlswitness
OPTS="--format json --tz UTC --year 2026"
size() { stat -c %s "$1"; }
gen() {
  k=$1
  [ -s "$D/join-$k.pcap" ] || python3 bench/scale_pcap.py samples/lab/lab.pcap "$k" > "$D/join-$k.pcap"
  [ -s "$D/join-$k.a.log" ] || python3 bench/scale_log.py samples/lab/postfix-a.log "$k" > "$D/join-$k.a.log"
  [ -s "$D/join-$k.s.log" ] || python3 bench/scale_log.py samples/lab/syslog-mail.log "$k" > "$D/join-$k.s.log"
}
measure() {	# measure NAME FILES...: one run, prints time, MB/s, RSS
  name=$1; shift
  bytes=0
  for f in "$@"; do cat "$f" > /dev/null; bytes=$((bytes + $(size "$f"))); done
  /usr/bin/time -f "%e %M" -o "$D/time" $TW $OPTS $FORMAT "$@" > /dev/null 2> "$D/err" || {
    echo "bench: $name failed:"; cat "$D/err"; exit 1; }
  set -- $(tail -1 "$D/time")
  printf '  %-40s %7.2f s %6.0f MB/s %9d KiB\n' "$name" "$1" \
    "$(awk -v b=$bytes -v s=$1 'BEGIN { print (s > 0 ? b / s / 1e6 : 0) }')" "$2"
}
small=$((N / 10))
gen $small
gen $N
echo "Logs joined with the capture ($N copies: $(size "$D/join-$N.pcap") bytes of capture," \
     "$(( $(size "$D/join-$N.a.log") + $(size "$D/join-$N.s.log") )) of logs):"
FORMAT=
for k in $small $N; do
  measure "joined, $k copies" "$D/join-$k.a.log" "$D/join-$k.s.log" "$D/join-$k.pcap"
done
grep '^tlswitness: join:' "$D/err" | sed 's/^tlswitness: /  /'
echo "Paths across the servers (logs only):"
FORMAT="--format paths"
for k in $small $N; do
  measure "paths, $k copies" "$D/join-$k.a.log" "$D/join-$k.s.log"
done
