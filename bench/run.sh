#!/bin/sh
# make bench: tlswitness beside the tools people use today, on the same
# inputs, in one run, with ratios (issue "Speed and memory").
#   sh bench/run.sh [SIZE]      SIZE of the log and of the capture, default 1G
# Inputs are generated from the lab set (bench/scale_log.py, scale_pcap.py:
# every copy new sessions, messages, ports and times) into $BENCH_DIR
# (default build/bench) and kept for the next run.  BENCH_10X=0 skips the
# 10x memory runs (they stream 10x the log and write 10x the capture).
# Times are wall-clock seconds of one run each; peak RSS from GNU time;
# instruction counts from callgrind on a slice (they do not drift with
# machine noise; perf's hardware counters are not available here).
set -e
cd "$(dirname "$0")/.."
SIZE=${1:-1G}
D=${BENCH_DIR:-build/bench}
TEN=${BENCH_10X:-1}
mkdir -p "$D"
sh tests/setup-debian.sh --bench
make -s tlswitness
TW=./tlswitness
LOG=$D/log-$SIZE.log
CAP=$D/cap-$SIZE.pcap
[ -s "$LOG" ] || python3 bench/scale_log.py samples/lab/postfix-a.log --size "$SIZE" > "$LOG"
[ -s "$LOG.gz" ] || gzip -c "$LOG" > "$LOG.gz"
# A rotated set: the same log cut in four, oldest first as logrotate names
# them (mail.log.4.gz is the oldest).
if [ ! -s "$D/rot-$SIZE.1.gz" ]; then
  lines=$(wc -l < "$LOG")
  split -l $(( (lines + 3) / 4 )) -d -a 1 "$LOG" "$D/rot-$SIZE.part"
  for i in 0 1 2 3; do gzip -c "$D/rot-$SIZE.part$i" > "$D/rot-$SIZE.$((4 - i)).gz" && rm "$D/rot-$SIZE.part$i"; done
fi
ROT="$D/rot-$SIZE.4.gz $D/rot-$SIZE.3.gz $D/rot-$SIZE.2.gz $D/rot-$SIZE.1.gz"
[ -s "$CAP" ] || python3 bench/scale_pcap.py samples/lab/lab.pcap --size "$SIZE" > "$CAP"

TWOPTS="-q --format json --tz UTC --year 2026"
# run NAME CMD...: one timed run; sets $secs and $kib.  The files in $WARM
# are read into the page cache first, so every tool starts from a warm
# cache and the figures measure work, not the disk.
run() {
  name=$1; shift
  for f in $WARM; do cat "$f" > /dev/null; done
  /usr/bin/time -f "%e %M" -o "$D/time" "$@" > /dev/null 2> "$D/err" || {
    echo "bench: $name failed:"; cat "$D/err"; exit 1; }
  set -- $(tail -1 "$D/time")
  secs=$1 kib=$2
  printf '  %-34s %8.2f s %9d KiB\n' "$name" "$secs" "$kib"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }
mbs() { awk -v s="$1" -v t="$2" 'BEGIN { printf "%.0f", (t > 0 ? s / t / 1e6 : 0) }'; }
size() { stat -c %s "$1"; }

echo "tlswitness bench on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "log $(size "$LOG") bytes, $(wc -l < "$LOG") lines; capture $(size "$CAP") bytes"
echo
echo "Plain log:"
WARM=$LOG
run "tlswitness (json to /dev/null)" $TW $TWOPTS "$LOG"; tw=$secs; twk=$kib
run "tlswitness --threads 1" $TW --threads 1 $TWOPTS "$LOG"; tw1=$secs
run "pflogsumm" pflogsumm "$LOG"; pf=$secs; pfk=$kib
echo "  => $(ratio "$pf" "$tw")x faster than pflogsumm; $(mbs "$(size "$LOG")" "$tw") MB/s," \
     "$(mbs "$(size "$LOG")" "$tw1") MB/s on one thread"
echo
echo "Gzip log ($(size "$LOG.gz") bytes):"
WARM=$LOG.gz
run "tlswitness" $TW $TWOPTS "$LOG.gz"; twz=$secs
run "zcat" zcat "$LOG.gz"; zc=$secs
echo "  => tlswitness takes $(ratio "$twz" "$zc")x the time of zcat"
echo "Rotated set of four .gz:"
WARM=$ROT
run "tlswitness" $TW $TWOPTS $ROT; twr=$secs
run "zcat" zcat $ROT; zcr=$secs
echo "  => tlswitness takes $(ratio "$twr" "$zcr")x the time of zcat of the set"
echo
echo "Capture:"
WARM=$CAP
run "tlswitness (json to /dev/null)" $TW $TWOPTS "$CAP"; twc=$secs; twck=$kib
run "tshark -Y 'smtp or tls.handshake'" tshark -r "$CAP" -Y 'smtp or tls.handshake' -T fields \
  -e frame.number -e smtp.req.command -e smtp.response.code \
  -e tls.handshake.version -e tls.handshake.extensions.supported_version -e tls.handshake.ciphersuite
ts=$secs; tsk=$kib
run "tcpdump -r -w /dev/null" tcpdump -r "$CAP" -w /dev/null; td=$secs
echo "  => $(ratio "$ts" "$twc")x faster than tshark; $(ratio "$twc" "$td")x the time of tcpdump" \
     "reading alone; $(mbs "$(size "$CAP")" "$twc") MB/s"
echo
echo "Peak memory: tlswitness log $twk KiB, capture $twck KiB; pflogsumm $pfk KiB, tshark $tsk KiB"
if [ "$TEN" != 0 ]; then
  n=$(( $(size "$LOG") * 10 ))
  echo "10x the log, streamed from the generator into standard input ($n bytes):"
  # (time wraps tlswitness alone: the generator's memory is not its)
  python3 bench/scale_log.py samples/lab/postfix-a.log --size $n |
    /usr/bin/time -f "%e %M" -o "$D/time" $TW $TWOPTS - > /dev/null
  set -- $(tail -1 "$D/time")
  echo "  tlswitness peak RSS at 10x: $2 KiB (1x: $twk KiB; the generator feeds it slower than a file)"
  python3 bench/scale_pcap.py samples/lab/lab.pcap --size $(( $(size "$CAP") * 10 )) > "$D/cap-10x.pcap"
  WARM=
  run "tlswitness capture at 10x" $TW $TWOPTS "$D/cap-10x.pcap"
  echo "  tlswitness peak RSS at 10x: $kib KiB (1x: $twck KiB)"
  rm -f "$D/cap-10x.pcap"
fi
echo
sh bench/join.sh
echo
echo "Instructions (callgrind):"
head -n 100000 "$LOG" > "$D/slice.log"
python3 bench/scale_pcap.py samples/lab/lab.pcap 20 > "$D/slice.pcap"
for f in slice.log slice.pcap; do
  valgrind --tool=callgrind --callgrind-out-file=/dev/null $TW --threads 1 $TWOPTS "$D/$f" \
    > /dev/null 2> "$D/cg.err"
  ir=$(sed -n 's/.*refs: *//p' "$D/cg.err" | tr -d ,)
  if [ "$f" = slice.log ]; then units=$(wc -l < "$D/slice.log"); u=line; else
    units=$(capinfos -c -M "$D/slice.pcap" | awk '/Number of packets/ { print $NF }'); u=packet; fi
  echo "  $f: $ir instructions, $(( ir / units )) per $u ($units ${u}s)"
done
