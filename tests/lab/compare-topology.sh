#!/usr/bin/env bash
# Compare tlswitness's JSON Lines for a topology-lab run (topology.sh) with
# its truth, recipient by recipient.
#
#   compare-topology.sh TRUTH.jsonl OUTPUT.jsonl
#
# For each truth row (message_id, rcpt): exactly one delivery to that
# recipient on the first host - the content filters' hops are part of
# the message's story, not records of their own - with the right fate,
# the carrying attempt's TLS (null only where no TLS can be: LMTP into
# Dovecot over a unix socket), the downgrade, the real arrival's TLS from the client (never
# the filter's loopback re-injection), and the way in (through the
# after-queue filter, the before-queue proxy, or direct).  Prints "N passed, N failed".
set -euo pipefail
truth=$1 out=$2

rows='def rc: (.rcpt // "" | ltrimstr("<") | rtrimstr(">"));
  select(.kind != "manifest" and .deliveries != null) | . as $m
  | .deliveries[] | select(.local | not) as $d
  | [$m.message_id, ($d|rc), $d.fate, (if $d.local then null else $d.tls.used end),
     $d.tls.downgrade, $m.inbound.tls.used, ($m.inbound.peer_ip | startswith("127.0.1.")),
     (if $m.prior_queue_id != null then "filter" elif $m.inbound.before_queue_filter == true then "proxy" else "direct" end)]
  | map(if . == null then "null" else tostring end) | @tsv'
# local deliveries too (LMTP): judged local, but their TLS is what the log
# says (LMTP over TCP with STARTTLS: true; over a unix socket: null)
rows_local='def rc: (.rcpt // "" | ltrimstr("<") | rtrimstr(">"));
  select(.kind != "manifest" and .deliveries != null) | . as $m
  | .deliveries[] | select(.local and (.filter | not)) as $d
  | [$m.message_id, ($d|rc), $d.fate, $d.tls.used, $d.tls.downgrade, $m.inbound.tls.used,
     ($m.inbound.peer_ip // "" | startswith("127.0.1.")),
     (if $m.prior_queue_id != null then "filter" elif $m.inbound.before_queue_filter == true then "proxy" else "direct" end)]
  | map(if . == null then "null" else tostring end) | @tsv'
want='[.message_id, .rcpt, .fate, .carried_tls, .downgrade, .arrival_tls, true, .via]
  | map(if . == null then "null" else tostring end) | @tsv'

{ jq -r "$rows" "$out"; jq -r "$rows_local" "$out"; } | sort > "$out.all-rows"
# The non-delivery notifications go to the senders (sender<N>@lmtp.test).
awk -F'\t' '$2 !~ /^sender[0-9]+@/' "$out.all-rows" > "$out.rows"
jq -r "$want" "$truth" | sort > "$out.truth-rows"
pass=0 fail=0
while IFS= read -r t; do
  key=$(printf '%s' "$t" | cut -f1,2)
  got=$(awk -F'\t' -v k="$key" '($1 "\t" $2) == k' "$out.rows")
  n=$(printf '%s' "$got" | grep -c . || true)
  if [ "$n" = 1 ] && [ "$got" = "$t" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    printf 'FAIL  %s\n      want: %s\n      got (%s): %s\n' "$key" "$t" "$n" "$got"
  fi
done < "$out.truth-rows"
# One notification for each message returned to its sender (expired).
want_n=$(jq -s '[.[] | select(.fate == "expired")] | length' "$truth")
got_n=$(awk -F'\t' '$2 ~ /^sender[0-9]+@/ && $3 == "sent"' "$out.all-rows" | wc -l)
if [ "$want_n" = "$got_n" ]; then pass=$((pass + 1)); else
  fail=$((fail + 1)); echo "FAIL  $got_n notifications to senders delivered, want $want_n"; fi
# Nothing but the truth's recipients is a delivery.
extra=$(cut -f1,2 "$out.rows" | sort | comm -23 - <(cut -f1,2 "$out.truth-rows" | sort) | wc -l)
if [ "$extra" = 0 ]; then pass=$((pass + 1)); else
  fail=$((fail + 1)); echo "FAIL  $extra deliveries the truth does not have"; fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
