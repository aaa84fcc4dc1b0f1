#!/bin/sh
# The shipped sweep (contrib/): systemd-analyze verify accepts the units,
# and the command the service and the cron entry run works - run here with
# the lab's logs for /var/log/mail.log*, a temporary directory for
# /var/lib/tlswitness and the tested binary.  Last line: "N passed, N failed".
#   sh tests/units.sh TLSWITNESS_BINARY
TW=$1
cd "$(dirname "$0")/.." || exit 2
what=units
. tests/checks.sh	# check, checks_end; $d, a temporary folder
if command -v systemd-analyze > /dev/null 2>&1; then
  (cd contrib/systemd && systemd-analyze verify --man=no tlswitness-sweep.service \
     tlswitness-sweep.timer) > "$d/verify" 2>&1
  check "systemd-analyze verify" "0 " "$? $(cat "$d/verify")"
else
  echo "skip  units: systemd-analyze is not installed"
fi
# the service's command, its %% unescaped, pointed at the lab
cmd=$(sed -n '/^ExecStart=/,/[^\\]$/p' contrib/systemd/tlswitness-sweep.service |
      sed 's/^ExecStart=//; s/\\$//' | tr -d '\n' | sed "s/^\/bin\/sh -c '//; s/'$//; s/%%/%/g")
run() { # the command as written, with the paths replaced
  echo "$1" | sed "s|/usr/local/bin/tlswitness|$TW --tz UTC --year 2026|;
    s|/var/lib/tlswitness|$d|g;
    s|/var/log/mail.log\*|$d/log/mail.log*|" > "$d/cmd"
  sh "$d/cmd" > "$d/out" 2> "$d/err"; echo $?
}
# the logs as logrotate leaves them on a first night: mail.log alone
mkdir -p "$d/log"; cat samples/lab/postfix-a.log samples/lab/syslog-mail.log > "$d/log/mail.log"
check "the service's sweep: exit 1 (the lab has plaintext)" 1 "$(run "$cmd")"
check "its summary on stderr" 1 "$(grep -c '^tlswitness: --fail-on plaintext: ' "$d/err")"
check "its report, manifest and state, 0600" "600 600 600" "$(stat -c %a "$d"/tls-*.jsonl "$d"/tls-*.manifest.json "$d/state" | tr '\n' ' ' | sed 's/ $//')"
first=$(ls "$d"/tls-*.jsonl)
sleep 1	# reports are named to the second
check "a second run the same day, nothing new: exit 0, its own report with no message" "0 2 0" \
  "$(run "$cmd") $(ls "$d"/tls-*.jsonl | wc -l) $(ls "$d"/tls-*.jsonl | grep -v "^$first\$" | xargs cat | grep -c '"kind":"message"')"
check "... the first run's report kept whole" "$(grep -c '' "$first")" "$(cat "$first" | grep -c '')"
# the next night, after logrotate (mail.log.1, a new mail.log): only the new
# log's messages, the rotated one followed by the glob and not read again
mv "$d/log/mail.log" "$d/log/mail.log.1"; cp samples/lab-topology/postfix.log "$d/log/mail.log"
before=$(ls "$d"/tls-*.jsonl); sleep 1
run "$cmd" > /dev/null
new=$(ls "$d"/tls-*.jsonl | grep -vxF "$before")
check "after a rotation: the night's report has the new log's messages only" \
  "$($TW -q --tz UTC --year 2026 -f json samples/lab-topology/postfix.log | grep -c '"kind":"message"')" \
  "$(grep -c '"kind":"message"' "$new")"
# the same name twice (a unit that names reports by the day): refused, the
# last run's report kept
last=$new
cp "$last" "$d/keep"
echo "$TW --tz UTC --year 2026 -q --state $d/state -f json -o $last samples/lab/postfix-a.log" > "$d/cmd2"
sh "$d/cmd2" 2> "$d/err2"
check "-o naming the last run's report: refused (exit 2), the report kept" "2 1 same" \
  "$? $(grep -c "is the report of this state's last run" "$d/err2") $(cmp -s "$last" "$d/keep" && echo same)"
rm -f "$d"/tls-* "$d"/state*
ccmd=$(grep -v '^#' contrib/cron/tlswitness.cron | grep 'tlswitness' | sed 's/^\([^ ]* *\)\{5\}root  *//; s/\\%/%/g')
check "the cron entry's sweep: exit 1" 1 "$(run "$ccmd")"
check "the cron entry: five time fields and a user" 7 "$(grep -v '^#' contrib/cron/tlswitness.cron | grep tlswitness | awk '{ print (NF >= 7) ? 7 : NF }')"

# A week of nights through the shipped service: logrotate's daily,
# compress, delaycompress (Debian's rsyslog) before each run, a same-day
# re-run on night 2, the machine off on night 4 (two rotations between
# runs).  Every message of the week is in exactly one night's report,
# as the one run over the whole log has it.
rm -rf "$d/log" "$d"/tls-* "$d"/state*; mkdir -p "$d/log"
week=samples/lab-topology/postfix.log
n=$(wc -l < "$week"); per=$(( (n + 11) / 12 ))
split -l "$per" -d -a 2 "$week" "$d/piece."
rotate() {	# mail.log.N.gz -> N+1, mail.log.1 -> mail.log.2.gz, mail.log -> .1
  for i in 9 8 7 6 5 4 3 2; do
    if [ -f "$d/log/mail.log.$i.gz" ]; then mv "$d/log/mail.log.$i.gz" "$d/log/mail.log.$((i + 1)).gz"; fi
  done
  if [ -f "$d/log/mail.log.1" ]; then
    gzip -n < "$d/log/mail.log.1" > "$d/log/mail.log.2.gz" && rm "$d/log/mail.log.1"
  fi
  mv "$d/log/mail.log" "$d/log/mail.log.1"; : > "$d/log/mail.log"
}
night() {	# N: the day's lines, logrotate, the next morning's lines
  cat "$d/piece.$(printf '%02d' $((2 * $1 - 2)))" >> "$d/log/mail.log"; rotate
  sleep 1	# the morning's lines come later than the rotated file's last
  p="$d/piece.$(printf '%02d' $((2 * $1 - 1)))"
  if [ -f "$p" ]; then cat "$p" >> "$d/log/mail.log"; fi
}
: > "$d/log/mail.log"; rcs=""
for k in 1 2 3 4 5 6; do
  night "$k"
  [ "$k" = 4 ] && continue	# the machine was off
  rcs="$rcs$(run "$cmd")"; cat "$d/err" >> "$d/err.week"; sleep 1
  if [ "$k" = 2 ]; then rcs="$rcs$(run "$cmd")"; cat "$d/err" >> "$d/err.week"; sleep 1; fi
done
key='select(.kind == "message") | [.queue_id, .message_id, .complete,
  ([.deliveries[] | [.rcpt, .fate, .tls.used]] | sort)] | tostring'
cat "$d"/tls-*.jsonl | jq -r "$key" | sort > "$d/nights"
$TW -q --tz UTC --year 2026 -f json "$week" | jq -r "$key" | sort > "$d/whole"
check "a week of nights, one missed, one re-run: each run exit 0 or 1 (plaintext found)" \
  "111111" "$(echo "$rcs" | tr 0 1)"
check "... nothing lost, so nothing said of lost lines under -q" "" \
  "$(grep -i 'not among the inputs\|lost\|not read' "$d/err.week" | head -2)"
check "... no message in two nights' reports" "" "$(uniq -d "$d/nights" | head -3)"
check "... the nights' reports hold every message of the week as one run has it" \
  "$(wc -l < "$d/whole") 0" "$(wc -l < "$d/nights") $(comm -3 "$d/nights" "$d/whole" | wc -l)"
# The same week with a command that names two files (mail.log and
# mail.log.1, as the units once did): the missed night's lines, now in
# mail.log.2.gz, are lost and said, and no record whose first lines were
# there is complete.
rm -rf "$d/log" "$d"/tls-* "$d"/state*; mkdir -p "$d/log"; : > "$d/log/mail.log"
for k in 1 2 3 4 5; do
  night "$k"
  [ "$k" = 4 ] && continue
  echo "$cmd" | sed "s|/usr/local/bin/tlswitness|$TW --tz UTC --year 2026|;
    s|/var/lib/tlswitness|$d|g;
    s|/var/log/mail.log\*|$d/log/mail.log $d/log/mail.log.1|" > "$d/cmd"
  sh "$d/cmd" > /dev/null 2> "$d/err.$k"; sleep 1
done
check "two files named, ordinary nights: nothing lost, nothing said under -q" "" \
  "$(cat "$d/err.2" "$d/err.3" | grep -- '--state' | head -2)"
check "two files named, a night missed: the lost lines are said" yes \
  "$(grep -q 'not among the inputs' "$d/err.5" && echo yes)"
check "... and no record is complete without its first lines" 0 \
  "$(cat "$d"/tls-*.jsonl | jq -c 'select(.kind == "message" and .complete and .inbound.time == null)' | wc -l)"
checks_end
