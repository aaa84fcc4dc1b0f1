#!/bin/sh
# --pseudonymize hides every real address and login name (README
# "Pseudonymised reports"): each format's output, on a log of made-up
# patients (tests/pseudo/patients.log) and the legs lab's Postfix, Dovecot
# and Sendmail logs, is grepped for every address and SASL login name
# those logs hold; none may appear, and the same address gets the same
# token in every format.  Last line: "N passed, N failed".
#   sh tests/pseudo.sh TLSWITNESS_BINARY
TW=$1
cd "$(dirname "$0")/.." || exit 2
what=pseudo
. tests/checks.sh	# check, checks_end; $d, a temporary folder
head -c 32 /dev/urandom > "$d/key"
logs="tests/pseudo/patients.log samples/lab-legs/postfix.log samples/lab-legs/dovecot.log samples/lab-legs/sendmail.log"
# every address, and every login name (sasl_username=, Dovecot's user=<>)
# shellcheck disable=SC2086
cat $logs | grep -oE "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+[A-Za-z]" | sed 's/^[=<]*//' | sort -u > "$d/real"
# shellcheck disable=SC2086
cat $logs | grep -oE "(sasl_username=|user=<)[^,> ]+" | sed 's/^sasl_username=//; s/^user=<//' | sort -u >> "$d/real"
check "the logs hold real addresses and names to hide" yes "$([ "$(wc -l < "$d/real")" -ge 10 ] && echo yes)"
for f in json text csv html events paths story domains tlsrpt users; do
  # shellcheck disable=SC2086
  $TW -q --tz UTC --year 2026 --pseudonymize "$d/key" -f $f -o "$d/out.$f" $logs 2> "$d/err.$f"
  st=$?
  leaks=$(grep -oFf "$d/real" "$d/out.$f" | grep -v '^u-' | sort -u | tr '\n' ' ')
  # a name is a leak only where it stands alone (not inside a token or a host name)
  leaks=$(for l in $leaks; do grep -qE "(^|[^A-Za-z0-9._-])$(printf '%s' "$l" | sed 's/[.]/\\./g')([^A-Za-z0-9_-]|\$)" "$d/out.$f" && printf '%s ' "$l"; done)
  check "--format $f: written (exit 0 or 1), no real address or login name in it" "ok " \
    "$([ $st -le 1 ] && echo ok)$([ $st -le 1 ] || cat "$d/err.$f") $leaks"
done
tok() { grep -oE "u-[0-9a-f]{16}@hospital\.example" "$1" | sort -u | tr '\n' ' '; }
missing=$(for t in $(tok "$d/out.text"); do grep -qF "$t" "$d/out.json" || printf '%s ' "$t"; done)
check "the same addresses, the same tokens: every token of text's in json" "" "$missing"
missing=$(for t in $(tok "$d/out.json"); do grep -qF "$t" "$d/out.story" || printf '%s ' "$t"; done)
check "... every token of json's in the story" "" "$missing"
check "... tokens are there (the reports are not empty)" "yes yes" "$([ -n "$(tok "$d/out.json")" ] && echo yes) $([ -n "$(tok "$d/out.text")" ] && echo yes)"
$TW -q --tz UTC --year 2026 --pseudonymize "$d/key" -f json tests/pseudo/patients.log |
  jq -r 'select(.kind == "message") | .deliveries[] | select(.fate == "bounced") | .explain' > "$d/explain"
check "the rule's explanation names the token, not the patient" 1 "$(grep -c 'did not go to u-[0-9a-f]*@hospital.example' "$d/explain")"
checks_end
