#!/bin/sh
# The audit summary of the text and HTML reports (README "Audit report"),
# on the lab's logs and capture: headline, period, scope, findings grouped
# and bounded, what the policy accepted folded into counts, coverage gaps;
# and the HTML's layout in headless Chromium (headline on the first
# 1280x800 screen, nothing wider than 1280 px, A4 print).
#   audit.sh TLSWITNESS      last line: "N passed, N failed"
TW=$1 what=audit
. tests/checks.sh
L="samples/lab/postfix-a.log samples/lab/syslog-mail.log"
run() { "$TW" -q --tz UTC --year 2026 "$@"; }

run --org "Lab Clinic" $L samples/lab/lab.pcap > "$d/r.txt"
check "text opens with the organisation" "TRANSMISSION SECURITY REPORT: Lab Clinic" "$(sed -n 1p "$d/r.txt")"
check "the headline names the critical finding first" \
  "1 critical finding: STARTTLS was stripped or refused on the way to 127.0.0.5[127.0.0.5]: a downgrade (rule stripped-starttls, 1 hop: strip.test)." \
  "$(sed -n 3p "$d/r.txt")"
check "scope: hosts and inputs with their SHA-256" "2 log hosts, 3 inputs|$(sha256sum samples/lab/lab.pcap | cut -c1-64)" \
  "$(sed -n 's/^Scope  *//p' "$d/r.txt")|$(grep -o '^  [0-9a-f]\{64\}  samples/lab/lab.pcap' "$d/r.txt" | cut -c3-66)"
check "the summary comes before the rows" "1 2" \
  "$(grep -n '^FINDINGS: critical (1)$\|^TIME ' "$d/r.txt" | cut -d: -f1 | tr '\n' ' ' | awk '{print ($1 < $2) " " NF}')"
check "accepted info-level plaintext is counted, not listed as a finding" "27|0" \
  "$(sed -n '/^ACCEPTED/,/^$/p' "$d/r.txt" | awk '/internal-plaintext/{print $1}')|$(sed -n '/^FINDINGS/,/^ACCEPTED/p' "$d/r.txt" | grep -c internal-plaintext)"

run --since "2026-11-28 12:00" --until "2026-11-28 14:00" $L > "$d/p.txt"
check "the period asked for and observed" \
  "2026-11-28T12:00:00Z to 2026-11-28T14:00:00Z|2026-11-28T12:57:24Z to 2026-11-28T12:57:36Z" \
  "$(sed -n 's/^Period asked  *//p' "$d/p.txt")|$(sed -n 's/^Period observed  *//p' "$d/p.txt")"

# A host silent for four hours: the lab's log again, five hours later.
sed 's/^Nov 28 12:/Nov 28 17:/' samples/lab/postfix-a.log > "$d/later.log"
run samples/lab/postfix-a.log "$d/later.log" > "$d/gap.txt"
check "coverage: a host's silent hours inside the period" \
  "4 silent hours inside the period: 2026-11-28T13:00:00Z to 2026-11-28T17:00:00Z" \
  "$(sed -n '/^COVERAGE GAPS/,/^$/p' "$d/gap.txt" | sed -n 's/^    \([0-9]* silent.*\)/\1/p')"
run samples/lab/postfix-a-quiet.log > "$d/quiet.txt"
check "coverage: an epoch that logged mail without a TLS line (TLS logging off)" 1 \
  "$(grep -c '4 deliveries and no client TLS line; 3 receipts and no server TLS line' "$d/quiet.txt")"
$TW -q --tz UTC --year 2026 -f text --since 2026-11-28T00:00:00Z --until 2026-11-29T00:00:00Z \
  samples/lab/postfix-a.log > "$d/day.txt"
check "silent hours over the period asked for (a day), not only the lines' own hour" 1 \
  "$(grep -c '23 silent hours inside the period: 2026-11-28T00:00:00Z to 2026-11-28T12:00:00Z, 2026-11-28T13:00:00Z to 2026-11-29T00:00:00Z' "$d/day.txt")"
check "... and in the headline, the report's first lines" 1 \
  "$(head -4 "$d/quiet.txt" | grep -c 'Coverage gaps: TLS unknown for 7 hops on lab (no TLS line logged: TLS logging off?)')"

T=samples/lab-topology/postfix.log
run --rules rules/strict.yaml --max-findings 2 "$T" > "$d/s.txt"
check "findings by severity, the worst first" "FINDINGS: high (1)|FINDINGS: low (10)" \
  "$(grep '^FINDINGS' "$d/s.txt" | tr '\n' '|' | sed 's/|$//')"
check "--max-findings lists that many rows, the rest counted" "2|... 8 more" \
  "$(sed -n '/^FINDINGS: low/,/^$/p' "$d/s.txt" | grep -c '^  20')|$(sed -n '/^FINDINGS: low/,/^$/p' "$d/s.txt" | grep -o '\.\.\. [0-9]* more')"
check "unknown hops by reason" 1 "$(sed -n '/^UNKNOWN HOPS BY REASON/,/^$/p' "$d/s.txt" | grep -c 'not-transmitted (info)')"

# Enforcement coverage per partner domain, from the Postfix 3.12 lab's
# tls= status, with strict.yaml's partners set to two of its domains.
sed 's/partners: \[lab.example.org, "\*.hie.example.net"\]/partners: [verify.test, may.test]/' \
  rules/strict.yaml > "$d/partners.yaml"
run --rules "$d/partners.yaml" samples/lab-pf312/postfix.log > "$d/pf.txt"
check "enforcement coverage: the outbound deliveries, and per partner domain" \
  "11 outbound deliveries: 7 enforced (64%), 4 opportunistic, 0 not stated|to the policy's partner domains: verify.test 2 of 2 enforced, may.test 0 of 1 enforced" \
  "$(sed -n 's/^Enforcement  *//p' "$d/pf.txt")|$(sed -n '/^Enforcement/{n;s/^ *//p}' "$d/pf.txt")"
check "... and the opportunistic partner delivery heads the findings" 1 \
  "$(sed -n 3p "$d/pf.txt" | grep -c '^1 high finding: Mail to partner may.test went over TLS at a level that did not require it (may)')"

# HTML: the same facts.
run --format html --org "Lab Clinic" $L samples/lab/lab.pcap > "$d/report.html"
check "html: the headline as text says" 1 \
  "$(grep -c '<p class="headline s-critical">1 critical finding: STARTTLS was stripped' "$d/report.html")"
check "html: findings grouped, critical" 1 "$(grep -c '<h3 class="s-critical">critical: 1</h3>' "$d/report.html")"
if ! command -v chromium > /dev/null 2>&1; then
  echo "skip  html layout (chromium is not installed: sh tests/setup-debian.sh --test)"
  checks_end; exit $?
fi
cp tests/html/probe.html "$d/probe.html"
flags="--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
  --disable-component-update --disable-sync --user-data-dir=$d/profile"
# shellcheck disable=SC2086
timeout 60 chromium $flags --allow-file-access-from-files --window-size=1400,1000 \
  --virtual-time-budget=5000 --dump-dom "file://$d/probe.html" > "$d/probe.out" 2> "$d/chromium.log"
m=$(sed -n 's/.*<pre id="out">\([^<]*\)<\/pre>.*/\1/p' "$d/probe.out")
echo "      layout at 1280x800: $m"
hb=$(echo "$m" | sed -n 's/.*headline_bottom=\([0-9]*\).*/\1/p')
sw=$(echo "$m" | sed -n 's/.*scroll_width=\([0-9]*\).*/\1/p')
check "html: the headline inside the first 1280x800 screen" yes "$([ -n "$hb" ] && [ "$hb" -le 800 ] && echo yes)"
check "html: nothing wider than 1280 px" yes "$([ -n "$sw" ] && [ "$sw" -le 1280 ] && echo yes)"
# shellcheck disable=SC2086
timeout 60 chromium $flags --no-pdf-header-footer --print-to-pdf="$d/report.pdf" \
  "file://$d/report.html" >> "$d/chromium.log" 2>&1
pages=$(pdfinfo "$d/report.pdf" 2>/dev/null | sed -n 's/^Pages: *//p')
size=$(pdfinfo "$d/report.pdf" 2>/dev/null | sed -n 's/^Page size: *\([0-9.]*\) x \([0-9.]*\).*/\1x\2/p')
echo "      A4 print: $pages pages ($size pt)"
# A4 is 595.28 x 841.89 pt; Chromium rounds the page to its device pixels.
check "html: prints on A4" yes "$(echo "$size" | awk -Fx '$1 > 594 && $1 < 597 && $2 > 840 && $2 < 844 {print "yes"}')"
check "html: the lab set prints on at most 6 pages" yes "$([ -n "$pages" ] && [ "$pages" -le 6 ] && echo yes)"
check "html: page 1 of the print carries the headline" 1 \
  "$(pdftotext -f 1 -l 1 "$d/report.pdf" - 2>/dev/null | tr '\n' ' ' | grep -c '1 critical finding: STARTTLS was stripped')"
if [ -n "${TW_KEEP_PRINT:-}" ]; then	# look at the pages: TW_KEEP_PRINT=DIR
  mkdir -p "$TW_KEEP_PRINT" && pdftoppm -r 60 -png "$d/report.pdf" "$TW_KEEP_PRINT/page"
  cp "$d/report.html" "$TW_KEEP_PRINT/"
fi
checks_end
