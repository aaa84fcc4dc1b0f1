#!/bin/sh
# Lookups read in windows (README "Selecting messages", the fast path):
# the property that a lookup by Message-ID, queue ID, recipient, its
# domain or sender gives exactly the records of the same lookup over every
# line (tests/lookup_exact.py) - on every message of the lab sets and the
# goldens' logs, on long logs made from the lab's (bench/scale_log.py:
# copies 15-25 minutes apart, each with its own addresses, so a needle
# names one copy and the windows are a small part of the log), and on the
# shared corpus when it is beside the clone; then what a lookup says of
# itself and its manifest.  Last line: "N passed, N failed".
#   sh tests/lookup.sh TLSWITNESS_BINARY
TW=$1
cd "$(dirname "$0")/.." || exit 2
what=lookup
. tests/checks.sh	# check, checks_end; $d, a temporary folder
TWA="$TW --tz UTC --year 2026"

own="samples/lab/postfix-a.log samples/lab/postfix-a-quiet.log samples/lab/syslog-mail.log
  samples/lab-topology/postfix.log tests/golden/lmtp-unix-socket/mail.log
  tests/golden/paths-lmtp-no-loop/mail.log tests/golden/starttls-not-offered/maillog"
# shellcheck disable=SC2086
python3 tests/lookup_exact.py "$TW" 1000 $own > "$d/own.out" 2>&1
check "every message of the lab sets and goldens' logs: the same both ways" \
  "0 7" "$? $(grep -c '^ok ' "$d/own.out")"
[ "$(grep -c '^ok ' "$d/own.out")" = 7 ] || sed 's/^/      /' "$d/own.out" | cut -c1-400 | tail -4

python3 bench/scale_log.py samples/lab/postfix-a.log 40 --step 900 --vary-addresses > "$d/a.log"
python3 bench/scale_log.py samples/lab/postfix-a-quiet.log 40 --step 900 --vary-addresses > "$d/q.log"
python3 bench/scale_log.py samples/lab/syslog-mail.log 30 --step 1500 --vary-addresses > "$d/s.log"
python3 bench/scale_log.py samples/lab-topology/postfix.log 30 --step 1200 --vary-addresses > "$d/t.log"
gzip -c "$d/t.log" > "$d/t.log.gz"
python3 tests/lookup_exact.py "$TW" 6 "$d/a.log" "$d/q.log" "$d/s.log" "$d/t.log" "$d/t.log.gz" \
  > "$d/long.out" 2>&1
check "long logs made from the lab's (plain, gzip, TLS logging off): the same both ways" \
  "0 5" "$? $(grep -c '^ok ' "$d/long.out")"
[ "$(grep -c '^ok ' "$d/long.out")" = 5 ] || sed 's/^/      /' "$d/long.out" | cut -c1-400 | tail -4
check "... most of those lookups read in windows" 1 \
  "$(awk '/\/a\.log:/ { print ($(NF-5) >= $3 / 2) ? 1 : 0 }' "$d/long.out")"
if [ -d ../shared/corpus/logs ]; then
  python3 tests/lookup_exact.py "$TW" 6 ../shared/corpus/logs/kdent-mail.log \
    ../shared/corpus/logs/kdent-mail2.log ../shared/corpus/logs/kdent-mail3.log \
    ../shared/corpus/logs/pflgviewer-postfix.log > "$d/corpus.out" 2>&1
  check "the shared corpus's Postfix logs: the same both ways" "0 4" "$? $(grep -c '^ok ' "$d/corpus.out")"
else
  echo "skip  lookup: the shared corpus (../shared is not beside this clone)"
fi

# what it says of itself
mid=$(grep -m1 -o 'message-id=<lab-5[^>]*>' "$d/a.log" | sed 's/message-id=//')
$TWA -f json --message-id "$mid" "$d/a.log" > "$d/m.jsonl" 2> "$d/m.err"
check "a Message-ID: one message" 1 "$(grep -c '"kind":"message"' "$d/m.jsonl")"
check "... read in one window, said on stderr" 1 \
  "$(grep -c "^tlswitness: lookup: $(wc -l < "$d/a.log") lines scanned, 1 naming a needle; read in 1 window of" "$d/m.err")"
check "... the manifest hashes every byte of the log" "$(sha256sum < "$d/a.log" | cut -d' ' -f1) $(wc -l < "$d/a.log")" \
  "$(jq -r 'select(.kind == "manifest") | .inputs[0] | "\(.sha256) \(.read)"' "$d/m.jsonl")"
python3 tests/schema/validate.py auto "$d/m.jsonl" > "$d/v.out" 2>&1
check "... and every record meets its schema" 0 "$?"
$TWA -f json --rcpt nobody@nowhere.example "$d/a.log" > /dev/null 2> "$d/n.err"
check "a needle no line names: exit 5, nothing read again" "5 1" \
  "$? $(grep -c "no message selected (no line of the $(wc -l < "$d/a.log") read names what was asked for)" "$d/n.err")"
$TWA --full-read -f json --rcpt nobody@nowhere.example "$d/a.log" > /dev/null 2> "$d/n2.err"
check "--full-read: the same exit, every message judged" "5 0" \
  "$? $(grep -c 'lookup:' "$d/n2.err")"
checks_end
