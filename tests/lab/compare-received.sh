#!/usr/bin/env bash
# Compare the hops tlswitness reads from the lab mailbox's Received headers
# with the lab's truth.  Each header is keyed by the server that wrote it
# (mx-b.lab.test: Postfix B, lab.tlswitness.test: Postfix A, sm.lab.test:
# Sendmail) and its "for <rcpt>" (written when a message had one
# recipient); every such hop must have the truth's TLS use and version.
#   compare-received.sh TRUTH.jsonl OUTPUT.jsonl      last line "N passed, N failed"
set -euo pipefail
truth=$1 out=$2
jq -r 'select(.source == "header") | .message_id as $mid | .hops[]
  | ({"mx-b.lab.test":"postfix-b","lab.tlswitness.test":"postfix","sm.lab.test":"sendmail"}[.by]) as $inst
  | select($inst != null and .for != null)
  | [$inst, $mid, "in", (.for | ltrimstr("<") | rtrimstr(">")), (.tls.used|tostring), (.tls.version // "null")] | @tsv' "$out" |
  sort -u > "$out.hdr-rows"
jq -r '[.instance, .message_id, .hop, .rcpt, (.used|tostring), (.version // "null")] | @tsv' "$truth" |
  sort -u > "$out.truth-rows"
pass=0 fail=0
while IFS= read -r row; do
  if grep -qxF "$row" "$out.truth-rows"; then pass=$((pass + 1))
  else fail=$((fail + 1)); echo "WRONG  $row"
    grep -F "$(cut -f1-4 <<<"$row")" "$out.truth-rows" | sed 's/^/   truth: /' || true; fi
done < "$out.hdr-rows"
[ "$pass" -ge 20 ] || { fail=$((fail + 1)); echo "only $pass hops could be keyed: expected at least 20"; }
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
