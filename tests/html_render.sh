#!/bin/sh
# Render the HTML report of the lab set plus hostile evidence in headless
# Chromium: it must load with nothing external and nothing injected.
#   html_render.sh TLSWITNESS OUTDIR     last line: "N passed, N failed"
TW=$1 d=$2
mkdir -p "$d"
pass=0 fail=0
check() { if [ "$2" = "$3" ]; then pass=$((pass + 1)); echo "ok    $1"; else
  fail=$((fail + 1)); echo "FAIL  $1: expected '$2', got '$3'"; fi; }
# Hostile names from the golden case, and the lab set.
printf '%s\n' \
 'Nov 28 10:00:00 mx postfix/smtpd[7]: connect from evil"><script>alert(1)</script><img src=http://x/a.png>[192.0.2.9]' \
 'Nov 28 10:00:01 mx postfix/smtpd[7]: 1A2B3C4D5E: client=evil"><script>alert(1)</script><img src=http://x/a.png>[192.0.2.9]' \
 "Nov 28 10:00:01 mx postfix/cleanup[8]: 1A2B3C4D5E: message-id=<'><iframe src=//x></iframe>@x>" \
 'Nov 28 10:00:02 mx postfix/qmgr[9]: 1A2B3C4D5E: from=<a"b@x>, size=1, nrcpt=1 (queue active)' \
 'Nov 28 10:00:02 mx postfix/smtpd[7]: disconnect from evil[192.0.2.9] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5' \
 'Nov 28 10:00:03 mx postfix/smtp[10]: 1A2B3C4D5E: to=<x</td></tr></table><h1>owned@y>, relay=mx.y[198.51.100.1]:25, delay=1, delays=0/0/0/0, dsn=2.0.0, status=sent (250 ok)' \
 'Nov 28 10:00:03 mx postfix/qmgr[9]: 1A2B3C4D5E: removed' > "$d/hostile.log"
"$TW" -q --format html --tz UTC --year 2026 samples/lab/postfix-a.log samples/lab/syslog-mail.log \
  samples/lab/lab.pcap "$d/hostile.log" > "$d/report.html"
check "html: written" 0 $?
check "html: no script, no external reference in the markup" 0 \
  "$(grep -ciE '<(script|img|iframe|link|object|embed)[ >]|<[a-z]+ [^>]*(src|href)=|@import|url\(' "$d/report.html")"
check "html: the hostile text is there, as text" yes \
  "$(grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$d/report.html" && echo yes)"
if ! command -v chromium >/dev/null 2>&1; then
  echo "skip  html render (chromium is not installed: sh tests/setup-debian.sh --test)"
  echo "$pass passed, $fail failed"
  exit 0
fi
flags="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --disable-default-apps --user-data-dir=$d/profile --window-size=1280,2400"
# shellcheck disable=SC2086
timeout 60 chromium $flags --screenshot="$d/report.png" "file://$PWD/$d/report.html" \
  > "$d/chromium.log" 2>&1
check "html: Chromium rendered a screenshot" yes "$([ -s "$d/report.png" ] && echo yes)"
# shellcheck disable=SC2086
timeout 60 chromium $flags --dump-dom "file://$PWD/$d/report.html" > "$d/dom.html" 2>> "$d/chromium.log"
check "html: the loaded page has no script, iframe, img, link or object element" 0 \
  "$(grep -ciE '<(script|iframe|img|link|object|embed)[ >]' "$d/dom.html")"
check "html: the hostile recipient stayed text (exceptions and detail)" 2 \
  "$(grep -c '&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;h1&gt;owned' "$d/dom.html")"
check "html: no h1 but the title" 1 "$(grep -c '<h1' "$d/dom.html")"
check "html: the domain table shows strip.test's one plaintext hop as stripped" 1 \
  "$(grep -c '<tr><td>strip.test</td><td>1</td><td>0</td><td>1</td><td>0</td><td>1</td>' "$d/dom.html")"
check "html: no console error" 0 "$(grep -ciE 'Uncaught|ERROR:CONSOLE' "$d/chromium.log")"
echo "$pass passed, $fail failed"
