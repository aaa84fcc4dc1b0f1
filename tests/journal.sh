#!/bin/sh
# The systemd journal as an input (--journal-file, --journal-dir): a real
# journal file written by systemd-journal-remote from the lab's rsyslog
# log (tests/journal_export.py), read with libsystemd, gives exactly the
# facts the text log gives; its evidence names journal:PATH:N, the Nth
# mail entry; other facilities' entries are not read; a missing journal is
# an error.  Last line: "N passed, N failed".
#   sh tests/journal.sh TLSWITNESS_BINARY
TW=$1
cd "$(dirname "$0")/.." || exit 2
what=journal
. tests/checks.sh	# check, checks_end; $d, a temporary folder
JR=/lib/systemd/systemd-journal-remote
if [ ! -x "$JR" ]; then
  echo "skip  journal (systemd-journal-remote is not installed: sh tests/setup-debian.sh --test)"
  checks_end
  exit $?
fi
L=samples/lab/syslog-mail.log
python3 tests/journal_export.py "$L" > "$d/export.txt"
mkdir -p "$d/dir"
"$JR" -o "$d/dir/lab.journal" - < "$d/export.txt" > "$d/jr.log" 2>&1
check "systemd-journal-remote wrote the journal" 0 $?
facts='select(.kind == "message") | del(.. | .evidence?)'
"$TW" -q --format json --tz UTC "$L" | jq -c "$facts" > "$d/text.facts"
"$TW" --format json --tz UTC --journal-file "$d/dir/lab.journal" > "$d/j.jsonl" 2> "$d/j.err"
check "read with --journal-file" 0 $?
jq -c "$facts" "$d/j.jsonl" > "$d/j.facts"
check "the same messages and facts as the text log ($(wc -l < "$d/text.facts") records)" "" \
  "$(diff "$d/text.facts" "$d/j.facts" | head -3)"
check "every mail entry read, the sshd one left out" \
  "journal:$d/dir/lab.journal: 303 lines: 234 used, 69 ignored, 0 malformed, 0 too long" \
  "$(grep '^tlswitness: journal:' "$d/j.err" | sed 's/^tlswitness: //')"
check "evidence names the journal's Nth mail entry" "journal:$d/dir/lab.journal:34" \
  "$(jq -r 'select(.kind == "message") | .inbound.evidence[0] // empty' "$d/j.jsonl" | head -1)"
check "... the same line as the text log's line 34 (the story quotes it)" \
  "$(sed -n 34p "$L")" \
  "$("$TW" -q --format story --tz UTC --journal-file "$d/dir/lab.journal" \
       --queue-id "$(jq -r 'select(.kind == "message") | .queue_id' "$d/j.jsonl" | head -1)" |
     grep -m1 'lab.journal:34 ' | sed 's/^ *[^ ]*:34  //')"
check "the manifest names it" "journal:$d/dir/lab.journal log" \
  "$(jq -r 'select(.kind == "manifest") | .inputs[0] | "\(.path) \(.type)"' "$d/j.jsonl")"
first=$(jq -r 'select(.kind == "manifest") | .inputs[0].journal.first_cursor' "$d/j.jsonl")
if command -v journalctl > /dev/null 2>&1; then
  check "the manifest's first cursor: journalctl from it gives the 34th mail entry as line 34" \
    "$(sed -n 34p "$L" | sed 's/^[^ ]* [^ ]* [^:]*: //')" \
    "$(journalctl --file "$d/dir/lab.journal" --cursor="$first" SYSLOG_FACILITY=2 -o cat | sed -n 34p)"
fi
"$TW" -q --format json --tz UTC --journal-dir "$d/dir" | jq -c "$facts" > "$d/dir.facts"
check "read with --journal-dir: the same" "" "$(diff "$d/text.facts" "$d/dir.facts" | head -3)"
"$TW" -q --format json --tz UTC --journal-file "$d/none.journal" > /dev/null 2> "$d/none.err"
check "a missing journal is an input error (exit 2)" "2 1" \
  "$? $(grep -c 'journal:.*none.journal: error: cannot open the journal' "$d/none.err")"
# Entries any local user can write: nobody's logger and Python syslog
# entries claiming to be postfix/smtp, as a real journald recorded them
# (tests/journal/forged.export), among the lab's: left out, counted, named
# by cursor, an error (exit 2, even with -q); the records as without them.
python3 - "$d/export.txt" tests/journal/forged.export > "$d/mixed.txt" <<'PY'
import sys
entries = []
for path in sys.argv[1:]:
    for block in open(path, encoding="utf-8").read().split("\n\n"):
        if block.strip():
            ts = [int(l.split("=", 1)[1]) for l in block.split("\n") if l.startswith("__REALTIME_TIMESTAMP=")]
            entries.append((ts[0] if ts else 0, block))
entries.sort(key=lambda e: e[0])
sys.stdout.write("".join(b + "\n\n" for _, b in entries))
PY
mkdir -p "$d/forged"
"$JR" -o "$d/forged/mixed.journal" - < "$d/mixed.txt" > /dev/null 2>&1
"$TW" -q --format json --tz UTC --journal-file "$d/forged/mixed.journal" > "$d/f.jsonl" 2> "$d/f.err"
check "forged entries (nobody's logger, python3): exit 2" 2 "$?"
check "... said with -q: how many, who wrote the first, its cursor" 1 \
  "$(grep -c 'error: 2 mail entries not written by a mail server, left out (the first: written by logger (_COMM), not by a mail server; cursor s=' "$d/f.err")"
jq -c "$facts" "$d/f.jsonl" > "$d/f.facts"
check "... left out: the records are the honest journal's" "" "$(diff "$d/text.facts" "$d/f.facts" | head -3)"
check "... the manifest counts them" "2 true" \
  "$(jq -r 'select(.kind == "manifest") | .inputs[0].journal | "\(.untrusted_entries) \(.first_untrusted_cursor | startswith("s="))"' "$d/f.jsonl")"
c=$(jq -r 'select(.kind == "manifest") | .inputs[0].journal.first_untrusted_cursor' "$d/f.jsonl")
check "... journalctl finds nobody's entry at that cursor" "_UID=65534" \
  "$(journalctl --file "$d/forged/mixed.journal" --cursor="$c" -n 1 -o verbose 2>/dev/null | grep -o '_UID=65534' | head -1)"
# --state: the journal's cursor kept; a second journal file's entries
# (the journal went on) are read, the first's are not read again
half=$(($(wc -l < "$L") / 2))
head -n "$half" "$L" > "$d/a.log"
tail -n +"$((half + 1))" "$L" > "$d/b.log"
mkdir -p "$d/sj"
python3 tests/journal_export.py "$d/a.log" | "$JR" -o "$d/sj/a.journal" - > /dev/null 2>&1
"$TW" --state "$d/st" --format json --tz UTC --journal-dir "$d/sj" > "$d/s1.jsonl" 2> "$d/s1.err"
check "--state with the journal: first run" 0 $?
python3 tests/journal_export.py "$d/b.log" 2000000 | "$JR" -o "$d/sj/b.journal" - > /dev/null 2>&1
"$TW" --state "$d/st" --format json --tz UTC --journal-dir "$d/sj" > "$d/s2.jsonl" 2> "$d/s2.err"
check "... second run: only the new entries, numbered on" \
  "journal:$d/sj: $(wc -l < "$d/b.log") lines after line $half (read by an earlier run)" \
  "$(grep '^tlswitness: journal:' "$d/s2.err" | sed 's/^tlswitness: //; s/: [0-9]* used.*//')"
cat "$d/s1.jsonl" "$d/s2.jsonl" | jq -c "$facts" > "$d/s.facts"
check "the two runs: the text log's messages and facts" "" "$(diff "$d/text.facts" "$d/s.facts" | head -3)"
"$TW" -q --state "$d/st" --format json --tz UTC --journal-dir "$d/sj" > "$d/s3.jsonl"
check "... a third run: nothing new" 0 "$(grep -c '"kind":"message"' "$d/s3.jsonl")"
checks_end
