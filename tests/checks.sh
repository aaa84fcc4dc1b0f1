# checks.sh - sourced by the suite's shell checks (install.sh, units.sh),
# with $what naming the check: $d is a temporary folder that goes at exit;
# check NAME EXPECTED ACTUAL counts and prints one line; checks_end prints
# "N passed, N failed" (run.sh reads it) and returns non-zero on a failure.
d=$(mktemp -d "/tmp/tw-$what.XXXXXX")
trap 'rm -rf "$d"' EXIT
pass=0 fail=0
check() {
  if [ "$2" = "$3" ]; then pass=$((pass + 1)); echo "ok    $what: $1"
  else fail=$((fail + 1)); echo "FAIL  $what: $1: expected '$2', got '$3'"; fi
}
checks_end() {
  echo "$pass passed, $fail failed"
  [ "$fail" = 0 ]
}
