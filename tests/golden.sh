#!/bin/sh
# Golden cases: tests/golden/CASE/{cmd,stdout,stderr,status}.  cmd is one
# shell command run from the top of the tree with $TW set; its standard
# output (normalised: the manifest's run-specific parts - time, report id,
# file times, the binary's path and build - are masked, its hashes are
# not), standard error and exit status must be as the files say.  A case
# with a file needs-root (saying why) is skipped, and said so, unless the
# suite runs as root.
#   sh tests/golden.sh run CASE OUT       run one case into OUT/CASE.*;
#                                          prints what differs, exit 1 if any
#   sh tests/golden.sh update CASE...     write the case's files from a run
#                                          (make golden-update CASE=name)
# Sourced by tests/run.sh for golden_run.
golden_normalize() {
  sed -E 's/"(generated|report_id|modified|command_line|base|build|libraries)":"[^"]*"/"\1":"~"/g;
    s/("report-id":"[^"]*)-[0-9a-f]{8}-[0-9a-f-]{27}"/\1-~"/g;
    s/modified [0-9T:Z-]+/modified ~/; s/^(  (tool|libraries|command|folder|generated): ).*/\1~/'
}

# golden_run CASE OUT: run it; the differences go to OUT/CASE.diff and the
# reason to standard output (nothing when it passes).
golden_run() {
  case=$1 out=$2 dir=tests/golden/$1
  TW=$TW sh "$dir/cmd" > "$out/$case.raw" 2> "$out/$case.stderr"
  echo $? > "$out/$case.status"
  golden_normalize < "$out/$case.raw" > "$out/$case.stdout"
  want_status=$(cat "$dir/status" 2>/dev/null || echo 0)
  bad=""
  [ "$(cat "$out/$case.status")" = "$want_status" ] || bad="exit $(cat "$out/$case.status"), expected $want_status"
  : > "$out/$case.diff"
  if [ -f "$dir/stdout" ] && ! diff -u "$dir/stdout" "$out/$case.stdout" >> "$out/$case.diff" 2>&1; then
    bad="${bad:+$bad; }stdout differs"
  fi
  if [ -f "$dir/stderr" ] && ! diff -u "$dir/stderr" "$out/$case.stderr" >> "$out/$case.diff" 2>&1; then
    bad="${bad:+$bad; }stderr differs"
  fi
  [ -z "$bad" ] || echo "$bad"
}

# golden_update CASE: after a reviewed change, the case's expected files
# from a run: stdout always, stderr when it said anything or is kept
# already, status when not 0 or kept already.
golden_update() {
  case=$1 dir=tests/golden/$1 out=tests/out/golden-update
  [ -f "$dir/cmd" ] || { echo "golden-update: no case $dir (tests/golden/NAME/cmd)" >&2; return 2; }
  mkdir -p "$out"
  golden_run "$case" "$out" > /dev/null
  cp "$out/$case.stdout" "$dir/stdout"
  if [ -s "$out/$case.stderr" ] || [ -f "$dir/stderr" ]; then cp "$out/$case.stderr" "$dir/stderr"; fi
  if [ "$(cat "$out/$case.status")" != 0 ] || [ -f "$dir/status" ]; then cp "$out/$case.status" "$dir/status"; fi
  echo "golden-update: $dir from a run (exit $(cat "$out/$case.status")); review with git diff $dir"
}

if [ "${GOLDEN_LIB:-}" != 1 ]; then
  cd "$(dirname "$0")/.." || exit 2
  TW=${TW:-./tlswitness}
  what=${1:-}; shift 2>/dev/null
  case $what in
    run) r=$(golden_run "$1" "$2"); [ -z "$r" ] || { echo "$r"; exit 1; } ;;
    update)
      [ $# -gt 0 ] || { echo "usage: sh tests/golden.sh update CASE..." >&2; exit 2; }
      for c in "$@"; do golden_update "$c" || exit 2; done ;;
    *) echo "usage: sh tests/golden.sh run CASE OUT | update CASE..." >&2; exit 2 ;;
  esac
fi
