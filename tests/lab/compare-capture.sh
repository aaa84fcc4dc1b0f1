#!/usr/bin/env bash
# Compare what tlswitness reads from a lab capture with the lab's truth.
#
#   compare-capture.sh TRUTH.jsonl OUTPUT.jsonl
#
# The lab's servers by address (tests/lab/lab.sh): 127.0.0.1 is Postfix A
# receiving, .2 .3 .4 Postfix B receiving, .5 the stripping middlebox on A's
# way out, .6 Sendmail receiving.  A capture names the queue ID and the
# Message-ID only of plaintext messages, so:
#  - every plaintext hop in the truth must appear in the capture with the
#    same facts, stripping included (the capture can see it; logs cannot);
#  - for encrypted hops, the TLS versions the capture saw towards each
#    server must be exactly those the truth lists for it.
# Prints "N passed, N failed" last.
set -euo pipefail
truth=$1 out=$2
map='def where: {"127.0.0.1":["postfix","in"],"127.0.0.2":["postfix-b","in"],
  "127.0.0.3":["postfix-b","in"],"127.0.0.4":["postfix-b","in"],
  "127.0.0.5":["postfix","out"],"127.0.0.6":["sendmail","in"]}[.];'
# Plaintext rows from the capture: instance, message, hop, rcpt, used, stripped.
jq -r "$map"'
  select(.source == "pcap" and .message_id != null) | . as $m | ($m.host | where) as $w
  | select($w != null) | $m.rcpts[]
  | [$w[0], $m.message_id, $w[1], (ltrimstr("<") | rtrimstr(">")),
     ($m.inbound.tls.used|tostring), ($m.inbound.tls.stripped|tostring)] | @tsv' "$out" |
  sort -u > "$out.cap-rows"
# Truth rows that were plaintext, on a leg the capture watches.
jq -r 'select(.used == false) | select((.instance == "postfix" and .hop == "in") or
  (.instance == "postfix-b" and .hop == "in") or (.instance == "sendmail" and .hop == "in") or
  (.instance == "postfix" and .hop == "out" and (.rcpt | endswith("@strip.test"))))
  | [.instance, .message_id, .hop, .rcpt, (.used|tostring), (.stripped|tostring)] | @tsv' "$truth" |
  sort -u > "$out.truth-rows"
# TLS versions per server: capture vs truth.
jq -r "$map"'select(.source == "pcap" and .inbound.tls.used == true)
  | [.host, .inbound.tls.version] | @tsv' "$out" | sort -u > "$out.cap-versions"
jq -r 'select(.used == true) | if .hop == "in" then
    (if .instance == "postfix" then "127.0.0.1" elif .instance == "sendmail" then "127.0.0.6"
     else ({"tls13.test":"127.0.0.2","tls12.test":"127.0.0.3","plain.test":"127.0.0.4",
            "strip.test":"127.0.0.2","sm.test":"127.0.0.2","smplain.test":"127.0.0.4"}
           [.rcpt | split("@")[1]]) end) as $s | [$s, .version] | @tsv
  else empty end' "$truth" | sort -u > "$out.truth-versions"

pass=0 fail=0
while IFS= read -r row; do
  if grep -qxF "$row" "$out.cap-rows"; then pass=$((pass + 1))
  else fail=$((fail + 1)); echo "MISSING or WRONG  $row"
    grep -F "$(cut -f2 <<<"$row")" "$out.cap-rows" | sed 's/^/    capture: /' || true; fi
done < "$out.truth-rows"
if diff -u "$out.truth-versions" "$out.cap-versions" > "$out.vdiff"; then
  pass=$((pass + 1))
else
  fail=$((fail + 1)); echo "TLS versions per server differ (truth -, capture +):"; cat "$out.vdiff"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
