#!/bin/sh
# make install into a temporary DESTDIR, then the installed pieces: the
# binary runs on a sample, the man page renders without a warning, the
# policies are where the man page says, the completion completes.  Last
# line: "N passed, N failed".
#   sh tests/install.sh TLSWITNESS_BINARY
TW=$1
cd "$(dirname "$0")/.." || exit 2
what=install
. tests/checks.sh	# check, checks_end; $d, a temporary folder
make -s install INSTALL_ONLY=1 TW_BIN="$TW" DESTDIR="$d" PREFIX=/usr > "$d/make.log" 2>&1
check "make install" 0 $?
B=$d/usr/bin/tlswitness
check "the installed binary runs" "tlswitness 0.1.0" "$("$B" -V)"
check "it judges a sample" 10 "$("$B" -q --format json --tz UTC --year 2026 samples/lab/postfix-a.log | grep -c '"queue_id"')"
check "the shipped policies and schemas" "default.yaml opportunistic.yaml schema store-schema.sql strict.yaml" "$(ls "$d/usr/share/tlswitness" | tr '\n' ' ' | sed 's/ $//')"
check "the shard runner, calling the installed binary" 1 "$(grep -c 'TLSWITNESS:-/usr/bin/tlswitness}' "$d/usr/bin/tlswitness-shards")"
check "the schemas" "$(ls schema | tr '\n' ' ')" "$(ls "$d/usr/share/tlswitness/schema" | tr '\n' ' ')"
U=$d/usr/lib/systemd/system
check "the sweep units, calling the installed binary" "2 1" \
  "$(ls "$U" | grep -c '^tlswitness-sweep\.') $(grep -c 'exec /usr/bin/tlswitness ' "$U/tlswitness-sweep.service")"
check "they load" 0 "$("$B" rules check "$d"/usr/share/tlswitness/*.yaml > /dev/null; echo $?)"
M=$d/usr/share/man/man1/tlswitness.1
if command -v man > /dev/null 2>&1; then
  MANWIDTH=80 man --warnings -l "$M" > "$d/man.txt" 2> "$d/man.err"
  check "man -l renders it" 0 $?
  check "without a warning" "" "$(cat "$d/man.err")"
  check "it names the policies' place" 1 "$(grep -c '/usr/share/tlswitness/\*.yaml' "$d/man.txt")"
else
  echo "skip  install: man page (man is not installed)"
fi
C=$d/usr/share/bash-completion/completions/tlswitness
if command -v bash > /dev/null 2>&1; then
  comp() { # the words completed after "tlswitness $*"
    PATH=$d/usr/bin:$PATH bash -c '. "$1"; shift; COMP_WORDS=(tlswitness "$@"); COMP_CWORD=$#; _tlswitness; echo "${COMPREPLY[*]}"' _ "$C" "$@"
  }
  check "completion of --format" "text json csv html tlsrpt domains events paths story users" "$(comp --format '')"
  check "completion of --policy-map" "postfix sendmail" "$(comp --policy-map '')"
  check "completion of options" "--format --fail-on --full-read --from" "$(comp --f)"
  check "completion of rules" "check show" "$(comp rules '')"
  check "completion of load's options" "--db" "$(comp load --d)"
fi
make -s uninstall DESTDIR="$d" PREFIX=/usr > /dev/null 2>&1
check "make uninstall leaves no file" 0 "$(find "$d/usr" -type f | wc -l | tr -d ' ')"
checks_end
