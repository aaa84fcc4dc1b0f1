#!/bin/sh
# A lookup beside grep and beside the full run (README "Performance and
# memory", issue 19's targets: within 3x of grep's time, at least 20x
# faster than the full run).
#   sh bench/lookup.sh [SIZE] [RUNS]      default 2G, 5 runs of each
# The log is the lab's postfix-a.log scaled (bench/scale_log.py
# --vary-addresses: each copy its own addresses and Message-IDs, so a
# needle names a few copies, as in a real log), and a rotated set of four
# gzip files cut from it.  The runs are interleaved - grep, lookup, grep,
# lookup ... - with the page cache warm, each output to a pipe; medians.
# The full run (every line judged, JSON to a pipe) is run twice.
set -e
cd "$(dirname "$0")/.."
SIZE=${1:-2G}
RUNS=${2:-5}
D=${BENCH_DIR:-build/bench}
mkdir -p "$D"
make -s tlswitness
TW=./tlswitness
LOG=$D/lookup-$SIZE.log
[ -s "$LOG" ] || python3 bench/scale_log.py samples/lab/postfix-a.log --size "$SIZE" --vary-addresses > "$LOG"
if [ ! -s "$D/lookup-$SIZE.1.gz" ]; then
  lines=$(wc -l < "$LOG")
  split -l $(( (lines + 3) / 4 )) -d -a 1 "$LOG" "$D/lookup-$SIZE.part"
  for i in 0 1 2 3; do
    gzip -c "$D/lookup-$SIZE.part$i" > "$D/lookup-$SIZE.$((4 - i)).gz" && rm "$D/lookup-$SIZE.part$i"
  done
fi
ROT="$D/lookup-$SIZE.4.gz $D/lookup-$SIZE.3.gz $D/lookup-$SIZE.2.gz $D/lookup-$SIZE.1.gz"
OPTS="-q --format json --tz UTC --year 2026"

# needles from the middle of the log: one copy's Message-ID, recipient and queue ID
mid=$(($(wc -l < "$LOG") / 2))
MID=$(tail -n +"$mid" "$LOG" | grep -m1 -o 'message-id=<[^>]*>' | sed 's/message-id=<//; s/>$//')
RCPT=$(tail -n +"$mid" "$LOG" | grep -m1 -o 'to=<[^>]*>' | sed 's/to=<//; s/>$//')
QID=$(tail -n +"$mid" "$LOG" | grep -m1 -o 'postfix/smtpd\[[0-9]*\]: [0-9A-F]*: client=' | sed 's/.*: \([0-9A-F]*\): client=/\1/')

secs() { # CMD... : wall seconds of one run, output to a pipe
  s=$(date +%s.%N)
  "$@" | cat > /dev/null
  e=$(date +%s.%N)
  awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f\n", e - s }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }
warm() { for f in "$@"; do cat "$f" > /dev/null; done; }

grep_plain() { LC_ALL=C grep -c -F -- "$1" "$LOG" || true; }
grep_rot() { for f in $ROT; do zcat "$f"; done | LC_ALL=C grep -c -F -- "$1" || true; }

echo "tlswitness lookup bench on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "log $(stat -c %s "$LOG") bytes, $(wc -l < "$LOG") lines; rotated set $(cat $ROT | wc -c) bytes of gzip"
echo "needles: --message-id $MID, --rcpt $RCPT, --queue-id $QID"
echo
for set in plain rotated; do
  if [ "$set" = plain ]; then IN=$LOG; G=grep_plain; warm "$LOG"; else IN=$ROT; G=grep_rot; warm $ROT; fi
  full=""
  for k in 1 2; do full="$full $(secs $TW $OPTS $IN)"; done
  fullm=$(echo $full | tr ' ' '\n' | median)
  printf '%s: full run (every line judged) %s s\n' "$set" "$fullm"
  for nd in "--message-id $MID" "--rcpt $RCPT" "--queue-id $QID"; do
    set -- $nd
    g="" l=""
    for k in $(seq "$RUNS"); do
      g="$g $(secs $G "$2")"
      l="$l $(secs $TW $OPTS "$1" "$2" $IN)"
    done
    gm=$(echo $g | tr ' ' '\n' | median)
    lm=$(echo $l | tr ' ' '\n' | median)
    printf '  %-14s grep -c %6.2f s   lookup %6.2f s   = %sx grep, %sx faster than the full run\n' \
      "$1" "$gm" "$lm" "$(ratio "$lm" "$gm")" "$(ratio "$fullm" "$lm")"
  done
done
