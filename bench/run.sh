#!/bin/sh
# make bench: tlswitness beside the tools people use today, on the same
# inputs, in one run, with ratios (README "Performance and memory").
#   sh bench/run.sh [SIZE]      SIZE of the log and of the capture, default 1G
# Inputs are generated from the lab set (bench/scale_log.py, scale_pcap.py:
# every copy new sessions, messages, ports and times) into $BENCH_DIR
# (default build/bench) and kept for the next run.  BENCH_10X=0 skips the
# 10x memory runs (they stream 10x the log and write 10x the capture).
# Each comparison is interleaved - tool, peer, tool, peer ... BENCH_RUNS
# times (default 5; tshark, minutes a run, BENCH_SLOW_RUNS, default 1) -
# with the page cache warm before every run, and gives the medians, the
# spread (min..max) and the ratio of the medians: one slow moment of the
# machine falls on both sides.  Peak RSS from GNU time.  Instructions from
# callgrind on a slice, the tool's own: libcrypto's SHA-256 is counted
# apart (valgrind runs it without SHA-NI; on the machine it is 1.3 GB/s).
set -e
cd "$(dirname "$0")/.."
SIZE=${1:-1G}
D=${BENCH_DIR:-build/bench}
TEN=${BENCH_10X:-1}
RUNS=${BENCH_RUNS:-5}
SLOW=${BENCH_SLOW_RUNS:-1}
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

TWOPTS="-q --tz UTC --year 2026"
OUTFILE=$D/out.tmp
# The commands compared, by name; sh -c runs each with the variables
# exported, so /usr/bin/time measures the command alone.
export TW TWOPTS LOG CAP ROT OUTFILE
cmd_of() {
  case $1 in
    tw_json) echo '$TW $TWOPTS --format json "$LOG" > /dev/null' ;;
    tw_json_file) echo '$TW $TWOPTS --format json -o "$OUTFILE" "$LOG"' ;;
    tw_json_man) echo '$TW $TWOPTS --format json -o "$OUTFILE" --manifest "$OUTFILE.man" "$LOG"' ;;
    tw_json1) echo '$TW $TWOPTS --threads 1 --format json "$LOG" > /dev/null' ;;
    tw_text) echo '$TW $TWOPTS --format text "$LOG" > /dev/null' ;;
    tw_csv) echo '$TW $TWOPTS --format csv "$LOG" > /dev/null' ;;
    tw_html) echo '$TW $TWOPTS --format html "$LOG" > /dev/null' ;;
    tw_domains) echo '$TW $TWOPTS --format domains "$LOG" > /dev/null' ;;
    tw_tlsrpt) echo '$TW $TWOPTS --format tlsrpt "$LOG" > /dev/null' ;;
    tw_events) echo '$TW $TWOPTS --format events "$LOG" > /dev/null' ;;
    tw_paths) echo '$TW $TWOPTS --format paths "$LOG" > /dev/null' ;;
    tw_story) echo '$TW $TWOPTS --format story "$LOG" > /dev/null 2>&1' ;;
    tw_map) echo '$TW $TWOPTS --policy-map postfix "$LOG" > /dev/null' ;;
    pflogsumm_log) echo 'pflogsumm "$LOG" > /dev/null' ;;
    grep_c) echo 'LC_ALL=C grep -c -F status=sent "$LOG" | cat > /dev/null' ;;
    wc_l) echo 'wc -l "$LOG" > /dev/null' ;;
    tw_gz) echo '$TW $TWOPTS --format json "$LOG.gz" > /dev/null' ;;
    zcat_gz) echo 'zcat "$LOG.gz" > /dev/null' ;;
    igzip_gz) echo 'igzip -dc "$LOG.gz" > /dev/null' ;;
    tw_rot) echo '$TW $TWOPTS --format json $ROT > /dev/null' ;;
    zcat_rot) echo 'zcat $ROT > /dev/null' ;;
    tw_cap) echo '$TW $TWOPTS --format json "$CAP" > /dev/null' ;;
    tcpdump_cap) echo 'tcpdump -r "$CAP" -w /dev/null 2> /dev/null' ;;
    tshark_cap) echo 'tshark -r "$CAP" -Y "smtp or tls.handshake" -T fields -e frame.number -e smtp.req.command -e smtp.response.code -e tls.handshake.version -e tls.handshake.extensions.supported_version -e tls.handshake.ciphersuite > /dev/null' ;;
  esac
}

warm() { for f in $WARM; do cat "$f" > /dev/null; done; }
# once NAME: one timed run of cmd_of NAME; appends its seconds to
# $D/NAME.t and keeps its peak RSS (KiB) in $D/NAME.k
once() {
  warm
  /usr/bin/time -f "%e %M" -o "$D/time" sh -c "$(cmd_of "$1")" > /dev/null 2> "$D/err" || {
    echo "bench: $1 failed:"; cat "$D/err"; exit 1; }
  set -- "$1" $(tail -1 "$D/time")
  echo "$2" >> "$D/$1.t"
  echo "$3" > "$D/$1.k"
}
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
spread() { sort -n "$1" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f..%.2f", lo, hi }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
mbs() { awk -v s="$1" -v t="$2" 'BEGIN { printf "%.0f", (t > 0 ? s / t / 1e6 : 0) }'; }
size() { stat -c %s "$1"; }
show() {	# NAME LABEL
  printf '  %-36s median %7.2f s (%s, %d runs) %9d KiB\n' "$2" "$(median "$D/$1.t")" \
    "$(spread "$D/$1.t")" "$(wc -l < "$D/$1.t")" "$(cat "$D/$1.k")"
}
# interleave N NAME...: N rounds, each command once a round, in turn
interleave() {
  n=$1; shift
  for f in "$@"; do rm -f "$D/$f.t"; done
  i=0
  while [ "$i" -lt "$n" ]; do
    for f in "$@"; do once "$f"; done
    i=$((i + 1))
  done
}
med() { median "$D/$1.t"; }

echo "tlswitness bench on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $RUNS interleaved runs each"
echo "log $(size "$LOG") bytes, $(wc -l < "$LOG") lines; capture $(size "$CAP") bytes"
echo
echo "Plain log:"
WARM=$LOG
interleave "$RUNS" tw_json pflogsumm_log tw_json1 grep_c wc_l
show tw_json "tlswitness (json to /dev/null)"
show tw_json1 "tlswitness --threads 1"
show pflogsumm_log "pflogsumm"
show grep_c "LC_ALL=C grep -c -F (to a pipe)"
show wc_l "wc -l"
echo "  => $(ratio "$(med pflogsumm_log)" "$(med tw_json)")x faster than pflogsumm;" \
     "$(mbs "$(size "$LOG")" "$(med tw_json)") MB/s, $(mbs "$(size "$LOG")" "$(med tw_json1)") MB/s" \
     "on one thread; $(ratio "$(med tw_json)" "$(med grep_c)")x grep's time"
echo
echo "Output formats (time ÷ JSON's):"
# (story on a whole log tells its first 10,000 paths and counts the rest)
formats="text csv html domains tlsrpt events paths story map"
# shellcheck disable=SC2086
interleave "$RUNS" tw_json tw_json_file tw_json_man $(for f in $formats; do printf 'tw_%s ' $f; done)
show tw_json "json to /dev/null"
show tw_json_file "json to a file"
show tw_json_man "json, --manifest FILE (hashed)"
for f in $formats; do
  [ $f = map ] && show tw_map "--policy-map postfix" || show "tw_$f" "$f"
done
msgs=$(grep -c '"kind":"message"' "$OUTFILE")
echo "  json: $(size "$OUTFILE") bytes, $msgs messages: $(awk -v b="$(size "$OUTFILE")" -v n="$msgs" \
  'BEGIN { printf "%.0f", (n ? b / n : 0) }') bytes a message; the log's $(awk -v b="$(size "$LOG")" -v n="$msgs" \
  'BEGIN { printf "%.0f", (n ? b / n : 0) }')"
printf '  => json to a file %sx, hashed for a manifest %sx' "$(ratio "$(med tw_json_file)" "$(med tw_json)")" \
  "$(ratio "$(med tw_json_man)" "$(med tw_json)")"
for f in $formats; do printf ', %s %sx' $f "$(ratio "$(med "tw_$f")" "$(med tw_json)")"; done
echo
rm -f "$OUTFILE" "$OUTFILE.man"
echo
echo "Gzip log ($(size "$LOG.gz") bytes):"
WARM=$LOG.gz
if command -v igzip > /dev/null; then
  interleave "$RUNS" tw_gz zcat_gz igzip_gz
else
  interleave "$RUNS" tw_gz zcat_gz
fi
show tw_gz "tlswitness"
show zcat_gz "zcat"
[ -s "$D/igzip_gz.t" ] && command -v igzip > /dev/null && show igzip_gz "igzip -dc"
echo "  => tlswitness takes $(ratio "$(med tw_gz)" "$(med zcat_gz)")x the time of zcat" \
     "$(command -v igzip > /dev/null && echo "and $(ratio "$(med tw_gz)" "$(med igzip_gz)")x igzip's")"
echo "Rotated set of four .gz:"
WARM=$ROT
interleave "$RUNS" tw_rot zcat_rot
show tw_rot "tlswitness"
show zcat_rot "zcat"
echo "  => tlswitness takes $(ratio "$(med tw_rot)" "$(med zcat_rot)")x the time of zcat of the set"
echo
echo "Capture:"
WARM=$CAP
interleave "$RUNS" tw_cap tcpdump_cap
interleave "$SLOW" tshark_cap
show tw_cap "tlswitness (json to /dev/null)"
show tcpdump_cap "tcpdump -r -w /dev/null"
show tshark_cap "tshark -Y 'smtp or tls.handshake'"
echo "  => $(ratio "$(med tshark_cap)" "$(med tw_cap)")x faster than tshark;" \
     "$(ratio "$(med tw_cap)" "$(med tcpdump_cap)")x the time of tcpdump reading alone;" \
     "$(mbs "$(size "$CAP")" "$(med tw_cap)") MB/s"
echo
if [ "$TEN" != 0 ]; then
  n=$(( $(size "$LOG") * 10 ))
  echo "10x the log, streamed from the generator into standard input ($n bytes):"
  # (time wraps tlswitness alone: the generator's memory is not its)
  python3 bench/scale_log.py samples/lab/postfix-a.log --size $n |
    /usr/bin/time -f "%e %M" -o "$D/time" $TW $TWOPTS --format json - > /dev/null
  set -- $(tail -1 "$D/time")
  echo "  tlswitness peak RSS at 10x: $2 KiB (1x: $(cat "$D/tw_json.k") KiB)"
  python3 bench/scale_pcap.py samples/lab/lab.pcap --size $(( $(size "$CAP") * 10 )) > "$D/cap-10x.pcap"
  /usr/bin/time -f "%e %M" -o "$D/time" $TW $TWOPTS --format json "$D/cap-10x.pcap" > /dev/null
  set -- $(tail -1 "$D/time")
  echo "  tlswitness capture peak RSS at 10x: $2 KiB (1x: $(cat "$D/tw_cap.k") KiB)"
  rm -f "$D/cap-10x.pcap"
fi
echo
sh bench/join.sh
echo
echo "Instructions (callgrind, the tool's own; SHA-256 in libcrypto apart):"
head -n 100000 "$LOG" > "$D/slice.log"
python3 bench/scale_pcap.py samples/lab/lab.pcap 20 > "$D/slice.pcap"
for job in "slice.log json" "slice.log text" "slice.log csv" "slice.pcap json"; do
  set -- $job
  valgrind --tool=callgrind --callgrind-out-file="$D/cg.out" $TW --threads 1 $TWOPTS \
    --format "$2" "$D/$1" > /dev/null 2> "$D/cg.err"
  read -r ir sha <<EOF
$(callgrind_annotate --inclusive=no "$D/cg.out" 2>/dev/null |
  awk '/PROGRAM TOTALS/ { gsub(",", "", $1); t = $1 } /libcrypto/ { gsub(",", "", $1); c += $1 }
       END { printf "%.0f %.0f\n", t - c, c }')
EOF
  if [ "$1" = slice.log ]; then units=$(wc -l < "$D/slice.log"); u=line; else
    units=$(capinfos -c -M "$D/slice.pcap" | awk '/Number of packets/ { print $NF }'); u=packet; fi
  echo "  $1 $2: $(( ir / units )) own instructions per $u, SHA-256 $(( sha / units )) ($units ${u}s)"
done
rm -f "$D/cg.out"
