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
checks_end
