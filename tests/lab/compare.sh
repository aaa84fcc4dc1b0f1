#!/usr/bin/env bash
# Compare tlswitness's JSON Lines with a lab truth file, hop by hop.
#
#   compare.sh TRUTH.jsonl OUTPUT.jsonl [--allow-unknown FIELD,...]
#
# Truth rows are (instance, message_id, hop in|out, rcpt) -> used, version,
# stripped.  Every truth row must appear in the output with the same facts.
# A field listed in --allow-unknown may be null in the output (the evidence
# given cannot know it, e.g. stripping is visible only in a capture); each
# such skip is counted and printed, so a check never passes silently on
# what it did not compare.  Prints "N passed, N failed" last.
set -euo pipefail
truth=$1 out=$2
allow=${4:-}
[ "${3:-}" = "--allow-unknown" ] || allow=""

flatten_out='
  def rc: (.rcpt // "" | ltrimstr("<") | rtrimstr(">"));
  select(.kind != "manifest") | . as $m
  | .deliveries[] as $d
  | ( [$m.instance, $m.message_id, "out", ($d|rc), $d.tls.used, $d.tls.version, $d.tls.stripped],
      (if $m.inbound then [$m.instance, $m.message_id, "in", ($d|rc),
        $m.inbound.tls.used, $m.inbound.tls.version, $m.inbound.tls.stripped] else empty end) )
  | map(if . == null then "null" else tostring end) | @tsv'
flatten_truth='[.instance, .message_id, .hop, .rcpt, .used, .version, .stripped]
  | map(if . == null then "null" else tostring end) | @tsv'

jq -r "$flatten_out" "$out" | sort -u > "$out.rows"
jq -r "$flatten_truth" "$truth" | sort -u > "$out.truth-rows"

awk -F'\t' -v allow=",$allow," '
  NR == FNR { key = $1 FS $2 FS $3 FS $4
              if (key in got && got[key] != $5 FS $6 FS $7) dup[key] = 1
              got[key] = $5 FS $6 FS $7; next }
  {
    key = $1 FS $2 FS $3 FS $4
    if (!(key in got)) { printf "MISSING  %s %s %s %s\n", $1, $2, $3, $4; fail++; next }
    split(got[key], g, FS)
    ok = 1
    names[5] = "used"; names[6] = "version"; names[7] = "stripped"
    for (i = 5; i <= 7; i++) {
      if (g[i-4] == $i) continue
      if (g[i-4] == "null" && index(allow, "," names[i] ",")) { skipped[names[i]]++; continue }
      printf "WRONG    %s %s %s %s: %s is %s, truth %s\n", $1, $2, $3, $4, names[i], g[i-4], $i
      ok = 0
    }
    if (ok) pass++; else fail++
  }
  END {
    for (k in dup) { split(k, d, FS); printf "AMBIGUOUS %s %s %s %s: several different hops\n", d[1], d[2], d[3], d[4]; fail++ }
    for (f in skipped) printf "skipped  %d %s value(s) the logs cannot know (unknown in the output)\n", skipped[f], f
    printf "%d passed, %d failed\n", pass, fail
    exit fail > 0
  }' "$out.rows" "$out.truth-rows"
