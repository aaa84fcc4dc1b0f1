#!/bin/sh
# --state FILE (README "Nightly sweeps"): the property that runs over
# pieces give exactly the records of one run over the whole
# (tests/state_cuts.py, on the project's own logs, on every cut point of
# one, and on the shared corpus when it is beside the clone), then what a
# sweep relies on: nothing read twice, an old violation not failing again,
# rotation followed, a damaged, foreign or locked state refused, the state
# left as it was when the report could not be written; a state sealed with
# --state-key and an edited, re-hashed one refused; another host's state
# refused; copytruncate's cut said as an error; the chain of states and
# reports in the manifests; a run stopped between its report and its state
# taken up or read again, never reported twice.
# Last line: "N passed, N failed".   sh tests/state.sh TLSWITNESS_BINARY
TW=$1
cd "$(dirname "$0")/.." || exit 2
what=state
. tests/checks.sh	# check, checks_end; $d, a temporary folder
TWA="$TW --tz UTC --year 2026"

# --- the property, over random cut points and rotations ----------------------
own="samples/lab-topology/postfix.log samples/lab/postfix-a.log samples/lab/postfix-a-quiet.log
  samples/lab/syslog-mail.log tests/golden/lmtp-unix-socket/mail.log
  tests/golden/paths-lmtp-no-loop/mail.log tests/golden/starttls-not-offered/maillog
  samples/lab-legs/sendmail.log"
# shellcheck disable=SC2086
python3 tests/state_cuts.py "$TW" "$d/cuts" 16 $own > "$d/cuts.out" 2>&1
check "pieces and rotations give the whole run's records (own logs, 16 cuts each)" \
  "0 16" "$? $(grep -c '^ok ' "$d/cuts.out")"
[ "$(grep -c '^ok ' "$d/cuts.out")" = 16 ] || sed 's/^/      /' "$d/cuts.out" | cut -c1-400 | tail -5
python3 tests/state_cuts.py "$TW" "$d/every" every samples/lab-topology/postfix.log > "$d/every.out" 2>&1
check "every line of the topology log as the cut between two runs" \
  "0 1" "$? $(grep -c '^ok ' "$d/every.out")"
[ "$(grep -c '^ok ' "$d/every.out")" = 1 ] || sed 's/^/      /' "$d/every.out" | cut -c1-400 | tail -5
if [ -d ../shared/corpus/logs ]; then
  python3 tests/state_cuts.py "$TW" "$d/corpus" 12 ../shared/corpus/logs/*.log > "$d/corpus.out" 2>&1
  n=$(ls ../shared/corpus/logs/*.log | wc -l)
  check "the same on the shared corpus's logs" "0 $((2 * n))" "$? $(grep -c '^ok ' "$d/corpus.out")"
else
  echo "skip  state: the shared corpus (../shared is not beside this clone)"
fi

# --- a sweep: nothing read twice, an old violation does not fail again -------
L=samples/lab/postfix-a.log
mkdir "$d/s"
cp "$L" "$d/s/mail.log"
$TWA -q --state "$d/s/state" --format json --fail-on plaintext -o "$d/s/r1.jsonl" "$d/s/mail.log" 2> "$d/s/e1"
check "first run: the lab's plaintext fails it (exit 1)" 1 "$?"
$TWA --state "$d/s/state" --format json --fail-on plaintext -o "$d/s/r2.jsonl" "$d/s/mail.log" 2> "$d/s/e2"
check "second run, nothing new: exit 0" 0 "$?"
check "... no message written" 0 "$(grep -c '"kind":"message"' "$d/s/r2.jsonl")"
check "... and stderr says where it went on from" 1 \
  "$(grep -c "mail.log: 0 lines after line $(wc -l < "$L") (read by an earlier run)" "$d/s/e2")"
check "... and warns of no empty input" 0 "$(grep -c 'no Postfix or Sendmail line' "$d/s/e2")"
check "the state file is 0600" 600 "$(stat -c %a "$d/s/state")"
check "the manifest says where the run began" \
  "$(wc -c < "$L") $(wc -l < "$L")" \
  "$(jq -r 'select(.kind == "manifest") | .inputs[0].read_from | "\(.offset) \(.line)"' "$d/s/r2.jsonl")"

# a message over two runs: judged once, with the evidence of both
head -40 "$L" > "$d/s/half.log"
$TWA -q --state "$d/s/st2" --format json "$d/s/half.log" > "$d/s/h1.jsonl"
tail -n +41 "$L" >> "$d/s/half.log"
$TWA -q --state "$d/s/st2" --format json "$d/s/half.log" > "$d/s/h2.jsonl"
$TWA -q --format json "$d/s/half.log" > "$d/s/whole.jsonl"
check "two halves: as many messages as the whole" \
  "$(grep -c '"kind":"message"' "$d/s/whole.jsonl")" \
  "$(cat "$d/s/h1.jsonl" "$d/s/h2.jsonl" | grep -c '"kind":"message"')"
spans=$(jq -r 'select(.kind == "message") | [.. | .evidence? // empty | .[]] |
  map(ltrimstr("'"$d"'/s/half.log:") | tonumber) | select(min <= 40 and max > 40) | .[0]' "$d/s/h2.jsonl" | wc -l)
check "messages of the second run with evidence lines from both halves" 1 "$([ "$spans" -ge 1 ] && echo 1 || echo 0)"

# a line without its newline waits for the next run
printf '%s' "$(tail -1 "$L")" > "$d/s/tail.log"
head -n -1 "$L" > "$d/s/t.log"
cat "$d/s/tail.log" >> "$d/s/t.log"
$TWA --state "$d/s/st3" -f json "$d/s/t.log" > /dev/null 2> "$d/s/te"
check "a last line without its newline waits" 1 "$(grep -c 'have no newline yet and wait for the next run' "$d/s/te")"

# rotation: mail.log -> mail.log.1, lines written after the run are read there
mkdir "$d/r"
head -50 "$L" > "$d/r/mail.log"
$TWA -q --state "$d/r/state" -f json "$d/r/mail.log" > "$d/r/o1"
sed -n 51,70p "$L" >> "$d/r/mail.log"
mv "$d/r/mail.log" "$d/r/mail.log.1"
tail -n +71 "$L" > "$d/r/mail.log"
$TWA --state "$d/r/state" -f json "$d/r/mail.log.1" "$d/r/mail.log" > "$d/r/o2" 2> "$d/r/e2"
check "rotated: mail.log.1 read after line 50" 1 "$(grep -c 'mail.log.1: 20 lines after line 50 ' "$d/r/e2")"
gzip -k "$d/r/mail.log.1" && mv "$d/r/mail.log.1.gz" "$d/r/mail.log.2.gz" && rm "$d/r/mail.log.1"
mv "$d/r/mail.log" "$d/r/mail.log.1" && : > "$d/r/mail.log"
$TWA --state "$d/r/state" -f json "$d/r/mail.log.2.gz" "$d/r/mail.log.1" "$d/r/mail.log" > "$d/r/o3" 2> "$d/r/e3"
check "compressed: known by its first bytes, nothing new in it" 1 "$(grep -c 'mail.log.2.gz: 0 lines after line 70 ' "$d/r/e3")"
$TWA --state "$d/r/state" -f json "$d/r/mail.log.2.gz" "$d/r/mail.log.1" "$d/r/mail.log" > "$d/r/o4" 2> "$d/r/e4"
check "read whole and unchanged: not read at all" 1 "$(grep -c 'mail.log.2.gz: not read: an earlier run read it to its end' "$d/r/e4")"
check "... and the manifest says so" true "$(jq -r 'select(.kind == "manifest") | .inputs[0].unchanged' "$d/r/o4")"
check "every message once over the four runs" "$($TWA -q -f json "$L" | grep -c '"kind":"message"')" \
  "$(cat "$d/r/o1" "$d/r/o2" "$d/r/o3" "$d/r/o4" | grep -c '"kind":"message"')"
# rotated away and not named: said
mkdir "$d/w"
head -50 "$L" > "$d/w/mail.log"
$TWA -q --state "$d/w/state" -f json "$d/w/mail.log" > /dev/null
mv "$d/w/mail.log" "$d/w/mail.log.1"
tail -n +51 "$L" > "$d/w/mail.log"
$TWA -q --state "$d/w/state" -f json "$d/w/mail.log" > /dev/null 2> "$d/w/e"
check "a rotated file not named: a warning with the line it was read to" 1 \
  "$(grep -c 'mail.log was read to line 50 by the last run and has since been rotated' "$d/w/e")"

# copytruncate: the same inode, cut short and written on; its copy not named
for c in ct ct2; do
  mkdir "$d/$c"
  head -50 "$L" > "$d/$c/mail.log"
  $TWA -q --state "$d/$c/state" -f json "$d/$c/mail.log" > "$d/$c/o1"
  sed -n '51,70p' "$L" >> "$d/$c/mail.log"	# written after the run, before the cut
  cp "$d/$c/mail.log" "$d/$c/mail.log.1"; : > "$d/$c/mail.log"	# copytruncate
  tail -n +71 "$L" >> "$d/$c/mail.log"
done
$TWA -q --state "$d/ct/state" -f json "$d/ct/mail.log" > /dev/null 2> "$d/ct/e"
check "copytruncate, the copy not named: an error (exit 2) with -q, the line it was read to" "2 1" \
  "$? $(grep -c 'error: .*mail.log was read to line 50 by the last run and has since been cut short or rewritten' "$d/ct/e")"
$TWA -q --state "$d/ct2/state" -f json "$d/ct2/mail.log.1" "$d/ct2/mail.log" > "$d/ct2/o2" 2> "$d/ct2/e"
check "... its copy named: read on from line 50, every message once" \
  "0 $($TWA -q -f json "$L" | grep -c '"kind":"message"')" \
  "$? $(cat "$d/ct2/o1" "$d/ct2/o2" | grep -c '"kind":"message"')"

# another host's state: bound to the folders of the logs it was written for
mkdir "$d/hostA" "$d/hostB"
cp "$L" "$d/hostA/mail.log"; cp samples/lab/postfix-a-quiet.log "$d/hostB/mail.log"
$TWA -q --state "$d/hs" -f json "$d/hostA/mail.log" > /dev/null
$TWA -q --state "$d/hs" -f json "$d/hostB/mail.log" > "$d/hb.jsonl" 2> "$d/e"
check "host A's state used for host B's logs: refused (exit 2), both folders named" "2 1" \
  "$? $(grep -c "was written for the logs in $(cd "$d/hostA" && pwd -P), and this run reads $(cd "$d/hostB" && pwd -P)" "$d/e")"

# --state-key: a keyed seal; an edited state re-hashed with SHA-256 refused
printf 'a-state-key-of-at-least-16-bytes\n' > "$d/skey"
mkdir "$d/k"; head -50 "$L" > "$d/k/mail.log"
$TWA -q --state "$d/k/state" --state-key "$d/skey" -f json "$d/k/mail.log" > "$d/k/o1"
check "a keyed state: the manifest says HMAC-SHA-256" "HMAC-SHA-256" \
  "$(jq -r 'select(.kind == "manifest") | .state.seal' "$d/k/o1")"
python3 - "$d/k/state" <<'PY'
import hashlib, sys
b = bytearray(open(sys.argv[1], "rb").read()[:-32])
b[-5] ^= 1                       # an edit in the open state
open(sys.argv[1], "wb").write(bytes(b) + hashlib.sha256(b).digest())
PY
tail -n +51 "$L" >> "$d/k/mail.log"
$TWA -q --state "$d/k/state" --state-key "$d/skey" -f json "$d/k/mail.log" > /dev/null 2> "$d/e"
check "... edited and re-hashed: refused (exit 2)" "2 1" "$? $(grep -c 'its seal does not hold with this --state-key' "$d/e")"
$TWA -q --state "$d/k/state" -f json "$d/k/mail.log" > /dev/null 2> "$d/e"
check "... a keyed state read without the key: refused" "2 1" "$? $(grep -c 'sealed with a key: give its --state-key' "$d/e")"
$TWA -q --state "$d/s/state" --state-key "$d/skey" -f json "$L" > /dev/null 2> "$d/e"
check "... an unkeyed state where a key is configured: refused" "2 1" \
  "$? $(grep -c 'not sealed with the --state-key' "$d/e")"

# the chain: each night's manifest names the state and report it went on from
mkdir "$d/c"; head -40 "$L" > "$d/c/mail.log"
$TWA -q --state "$d/c/state" -f json -o "$d/c/r1.jsonl" "$d/c/mail.log"
s1=$(sha256sum < "$d/c/state" | cut -c1-64)
sed -n '41,80p' "$L" >> "$d/c/mail.log"
$TWA -q --state "$d/c/state" -f json -o "$d/c/r2.jsonl" "$d/c/mail.log"
check "the chain: night 1 went on from nothing" "null null" \
  "$(jq -r 'select(.kind == "manifest") | "\(.state.previous_sha256) \(.state.previous_report_id)"' "$d/c/r1.jsonl")"
check "... night 2 names night 1's state and report" \
  "$s1 $(jq -r 'select(.kind == "manifest") | .report_id' "$d/c/r1.jsonl")" \
  "$(jq -r 'select(.kind == "manifest") | "\(.state.previous_sha256) \(.state.previous_report_id)"' "$d/c/r2.jsonl")"

# stopped between the report and the state: what it leaves on disk is the
# new report in place and the new state beside the old as STATE.pending
cp "$d/c/state" "$d/c/state.after2"
mkdir "$d/p"; head -40 "$L" > "$d/p/mail.log"
$TWA -q --state "$d/p/state" -f json -o "$d/p/r1.jsonl" "$d/p/mail.log"
cp "$d/p/state" "$d/p/state.1"
sed -n '41,80p' "$L" >> "$d/p/mail.log"
$TWA -q --state "$d/p/state" -f json -o "$d/p/r2.jsonl" "$d/p/mail.log"
mv "$d/p/state" "$d/p/state.pending"; cp "$d/p/state.1" "$d/p/state"	# the crash's picture
tail -n +81 "$L" >> "$d/p/mail.log"
$TWA --state "$d/p/state" -f json -o "$d/p/r3.jsonl" "$d/p/mail.log" 2> "$d/p/e3"
check "a run stopped after its report, before its state: the pending state taken up, said" "0 1" \
  "$? $(grep -c 'committed its report .*r2.jsonl but stopped before its state: the state it left .* is taken up' "$d/p/e3")"
check "... no message reported twice over the three nights" \
  "$($TWA -q -f json "$L" | grep -c '"kind":"message"')" \
  "$(cat "$d/p/r1.jsonl" "$d/p/r2.jsonl" "$d/p/r3.jsonl" | grep -c '"kind":"message"')"
mkdir "$d/q"; head -40 "$L" > "$d/q/mail.log"
$TWA -q --state "$d/q/state" -f json -o "$d/q/r1.jsonl" "$d/q/mail.log"
cp "$d/q/state" "$d/q/state.1"
sed -n '41,80p' "$L" >> "$d/q/mail.log"
$TWA -q --state "$d/q/state" -f json -o "$d/q/r2.jsonl" "$d/q/mail.log"
mv "$d/q/state" "$d/q/state.pending"; cp "$d/q/state.1" "$d/q/state"
rm "$d/q/r2.jsonl"	# stopped before the report was renamed into place
tail -n +81 "$L" >> "$d/q/mail.log"
$TWA --state "$d/q/state" -f json -o "$d/q/r3.jsonl" "$d/q/mail.log" 2> "$d/q/e3"
check "a run stopped before its report: the pending state dropped, said, its lines read again" \
  "0 1 $($TWA -q -f json "$L" | grep -c '"kind":"message"')" \
  "$? $(grep -c 'stopped before its report .*r2.jsonl was committed: the state it left is dropped' "$d/q/e3") $(cat "$d/q/r1.jsonl" "$d/q/r3.jsonl" | grep -c '"kind":"message"')"

# --- refused -------------------------------------------------------------------
printf 'not a state\n' > "$d/foreign"
$TWA -q --state "$d/foreign" -f json "$L" > /dev/null 2> "$d/e"
check "a foreign file: exit 2, said" "2 1" "$? $(grep -c 'not a tlswitness state file (--state-reset starts over)' "$d/e")"
cp "$d/s/state" "$d/damaged"
printf 'X' | dd of="$d/damaged" bs=1 seek=40 conv=notrunc 2> /dev/null
$TWA -q --state "$d/damaged" -f json "$L" > /dev/null 2> "$d/e"
check "a damaged one: exit 2, said" "2 1" "$? $(grep -c 'damaged: its bytes do not match the SHA-256' "$d/e")"
$TWA -q --state "$d/damaged" --state-reset -f json "$L" > "$d/reset.jsonl" 2> "$d/e"
check "--state-reset starts over" "0 $($TWA -q -f json "$L" | grep -c '"kind":"message"')" \
  "$? $(grep -c '"kind":"message"' "$d/reset.jsonl")"
if command -v flock > /dev/null 2>&1; then
  flock "$d/s/state.lock" $TWA -q --state "$d/s/state" -f json "$L" > /dev/null 2> "$d/e"
  check "a state another run holds: exit 2, said" "2 1" "$? $(grep -c 'another tlswitness run is using it' "$d/e")"
fi
$TWA -q --state "$d/x" -f json samples/lab/lab.pcap > /dev/null 2> "$d/e"
check "a capture: exit 2, said" "2 1" "$? $(grep -c 'is a capture: --state reads logs' "$d/e")"
$TWA -q --state "$d/x" -f json - < "$L" > /dev/null 2> "$d/e"
check "standard input: exit 2, said" "2 1" "$? $(grep -c 'is standard input, which a next run cannot tell again' "$d/e")"
$TWA -q --state "$d/x" -f paths "$L" > /dev/null 2> "$d/e"
check "--format paths: exit 2, said" "2 1" "$? $(grep -c 'follows messages across the whole period' "$d/e")"
$TWA -q --state-reset -f json "$L" > /dev/null 2> "$d/e"
check "--state-reset alone: exit 2" 2 "$?"
# the report not written: the state is left as it was
cp "$d/s/state" "$d/kept"
sum=$(sha256sum < "$d/kept")
cat "$L" >> "$d/s/mail.log"
if [ -w /dev/full ]; then
  $TWA -q --state "$d/kept" -f json -o /dev/full "$d/s/mail.log" > /dev/null 2> "$d/e"
  check "the report not written: exit 2, the state as it was" "2 $sum" "$? $(sha256sum < "$d/kept")"
  check "... and said" 1 "$(grep -c 'left as it was: the report was not written' "$d/e")"
fi
checks_end
