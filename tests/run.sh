#!/bin/sh
# The tlswitness test suite: cmocka unit tests, golden files, the lab sets'
# truth, the shared corpus (skipped when ../shared is absent) and, with
# CI=true or TW_LIVE_LAB=1, a live lab run against real Postfix/Sendmail.
# Run from the top of the tree by "make check".  Last line:
# "N passed, N failed, N skipped".
cd "$(dirname "$0")/.." || exit 2
TW=${TW:-./tlswitness}
OUT=tests/out
rm -rf "$OUT"
mkdir -p "$OUT"
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); printf 'ok    %s\n' "$1"; }
ko() { fail=$((fail + 1)); printf 'FAIL  %s\n' "$1"; [ -n "${2:-}" ] && sed 's/^/      /' "$2" | head -40; }
sk() { skip=$((skip + 1)); printf 'skip  %s (%s)\n' "$1" "$2"; }
# suite NAME SCRIPT: a shell suite whose last line is "N passed, N failed";
# pysuite NAME SCRIPT ARGS...: the same for a Python one (tests/pycheck.py)
suite_count() {
  p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$OUT/$1.log")
  f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$OUT/$1.log")
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-1}))
  if [ "${f:-1}" = 0 ]; then printf 'ok    %s (%s checks)\n' "$1" "$p"; else ko "$1" "$OUT/$1.log"; fi
}
suite() { sh "$2" "$TW" > "$OUT/$1.log" 2>&1; suite_count "$1"; }
pysuite() { n=$1 s=$2; shift 2; "$PY" "$s" "$@" > "$OUT/$n.log" 2>&1; suite_count "$n"; }

# --- unit tests (cmocka) ---------------------------------------------------
for bin in "$@"; do
  name=$(basename "$bin")
  "$bin" > "$OUT/$name.log" 2>&1
  st=$?
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$OUT/$name.log" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$OUT/$name.log" | tail -1)
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
  if [ "$st" -ne 0 ] && [ -z "$f" ]; then ko "$name (exit $st)" "$OUT/$name.log"
  elif [ -n "$f" ] && [ "$f" -gt 0 ]; then printf 'FAIL  %s\n' "$name"; grep -E '^\[  (FAILED|ERROR) ' "$OUT/$name.log" | sed 's/^/      /'
  else printf 'ok    %s (%s tests)\n' "$name" "${p:-0}"; fi
done

# --- golden files: tests/golden/CASE/{cmd,stdout,stderr,status} -------------
# (tests/golden.sh says how they are run and compared, and how one is
# regenerated: make golden-update CASE=name)
GOLDEN_LIB=1 . tests/golden.sh
for dir in tests/golden/*/; do
  case=$(basename "$dir")
  [ -f "$dir/cmd" ] || continue
  if [ -f "$dir/needs-root" ] && [ "$(id -u)" != 0 ]; then sk "golden/$case" "needs root: $(cat "$dir/needs-root")"; continue; fi
  bad=$(golden_run "$case" "$OUT")
  if [ -z "$bad" ]; then ok "golden/$case"; else
    echo "$bad" >> "$OUT/$case.diff"; cat "$OUT/$case.stderr" >> "$OUT/$case.diff"; ko "golden/$case: $bad" "$OUT/$case.diff"; fi
done

# --- broken rule files: tests/rules/broken/NAME.{yaml,expected} -------------
# Each must be refused (exit 3) with exactly the expected file:line:column
# messages.
for f in tests/rules/broken/*.yaml; do
  name=rules/broken/$(basename "$f" .yaml)
  $TW rules check "$f" > /dev/null 2> "$OUT/broken.err"
  st=$?
  if [ "$st" = 3 ] && diff -u "${f%.yaml}.expected" "$OUT/broken.err" > "$OUT/broken.diff"; then ok "$name"
  else echo "exit $st" >> "$OUT/broken.diff"; ko "$name" "$OUT/broken.diff"; fi
done
# A rule file over the 1 MiB limit is refused before it is parsed.
{ echo "schema: tlswitness/1"; head -c 1100000 /dev/zero | tr '\0' '#'; echo; } > "$OUT/huge.yaml"
if $TW rules check "$OUT/huge.yaml" 2>&1 | grep -q "huge.yaml:1:1: rule file is larger than the limit of 1048576 bytes"
then ok "rules/too-large"; else ko "rules/too-large"; fi

# --- lab sets: tlswitness's JSON against the lab's truth --------------------
lab_check() { # name truth allow files...
  name=$1 truth=$2 allow=$3; shift 3
  $TW -q --format json --tz UTC --year 2026 "$@" > "$OUT/$name.jsonl" 2> "$OUT/$name.err"
  if bash tests/lab/compare.sh "$truth" "$OUT/$name.jsonl" --allow-unknown "$allow" > "$OUT/$name.cmp" 2>&1
  then ok "$name: $(tail -1 "$OUT/$name.cmp") hops; $(grep -c '^skipped' "$OUT/$name.cmp") kinds of field skipped:"
       grep '^skipped' "$OUT/$name.cmp" | sed 's/^/      /'
  else ko "$name" "$OUT/$name.cmp"; fi
}
cap_check() { # name truth capture
  name=$1 truth=$2 cap=$3
  $TW -q --format json "$cap" > "$OUT/$name.jsonl" 2> "$OUT/$name.err"
  if bash tests/lab/compare-capture.sh "$truth" "$OUT/$name.jsonl" > "$OUT/$name.cmp" 2>&1
  then ok "$name: $(tail -1 "$OUT/$name.cmp") (plaintext hops, stripping, TLS versions per server)"
  else ko "$name" "$OUT/$name.cmp"; fi
}
if command -v jq >/dev/null 2>&1; then
  for cap in samples/lab/lab*.pcap; do
    cap_check "capture-truth-$(basename "$cap" .pcap)" samples/lab/truth.jsonl "$cap"
  done
  rcv_check() { # name mailbox truth...
    name=$1 mbox=$2; shift 2
    cat "$@" > "$OUT/$name.truth"
    $TW -q --format json "$mbox" > "$OUT/$name.jsonl" 2> "$OUT/$name.err"
    if bash tests/lab/compare-received.sh "$OUT/$name.truth" "$OUT/$name.jsonl" > "$OUT/$name.cmp" 2>&1
    then ok "$name: $(tail -1 "$OUT/$name.cmp") Received-header hops"
    else ko "$name" "$OUT/$name.cmp"; fi
  }
  rcv_check received-truth samples/lab/received.mbox samples/lab/truth.jsonl samples/lab/truth-quiet.jsonl
  lab_check lab-truth samples/lab/truth.jsonl stripped \
    samples/lab/postfix-a.log samples/lab/syslog-mail.log
  lab_check lab-truth-tls-logging-off samples/lab/truth-quiet.jsonl stripped,version,used \
    samples/lab/postfix-a-quiet.log samples/lab/syslog-mail.log
  # Logs joined with the capture: stripping becomes known where a capture
  # connection joined, and with TLS logging off the versions come back.
  lab_check lab-truth-joined samples/lab/truth.jsonl stripped \
    samples/lab/postfix-a.log samples/lab/postfix-a-quiet.log samples/lab/syslog-mail.log samples/lab/lab.pcap
  lab_check lab-truth-tls-logging-off-joined samples/lab/truth-quiet.jsonl stripped \
    samples/lab/postfix-a.log samples/lab/postfix-a-quiet.log samples/lab/syslog-mail.log samples/lab/lab.pcap
else
  sk lab-truth "jq is not installed"
fi

# --- the topology lab: filters, LMTP, handshake failures, fates -------------
topo_check() { # name truth files...
  local name=$1 truth=$2; shift 2
  $TW -q --format json --tz UTC "$@" > "$OUT/$name.jsonl" 2> "$OUT/$name.err" || true
  if bash tests/lab/compare-topology.sh "$truth" "$OUT/$name.jsonl" > "$OUT/$name.cmp" 2>&1
  then ok "$name: $(tail -1 "$OUT/$name.cmp") recipients (fate, carrying attempt, downgrade, real arrival)"
  else ko "$name" "$OUT/$name.cmp"; fi
}
if command -v jq >/dev/null 2>&1; then
  topo_check topology-truth samples/lab-topology/truth.jsonl samples/lab-topology/postfix.log
  topo_check topology-truth-joined samples/lab-topology/truth.jsonl samples/lab-topology/postfix.log \
    samples/lab-topology/topology.pcap
else
  sk topology-truth "jq is not installed"
fi

# --- paths are complete: every queue file in exactly one written path -------
paths_check() { # name files...
  local name=$1; shift
  $TW -q --format json --tz UTC --year 2026 "$@" | jq -r 'select(.kind != "manifest" and .source == "log")
    | "\(.host)/\(.instance)/\(.queue_id)"' | sort > "$OUT/$name.files"
  # log queue files only: a capture record no log hop took is a path
  # node of its own, named by its server's address (no "/instance")
  $TW --format paths --tz UTC --year 2026 "$@" 2> "$OUT/$name.err" | jq -r 'select(.kind == "path")
    | [.hops[] | select(.server | contains("/")) | "\(.server)/\(.queue_id)"] | unique[]' |
    sort > "$OUT/$name.in-paths"
  if [ -s "$OUT/$name.files" ] && cmp -s "$OUT/$name.files" "$OUT/$name.in-paths" &&
     ! grep -q 'in no path written' "$OUT/$name.err"
  then ok "$name: $(wc -l < "$OUT/$name.files") queue files, each in exactly one path"
  else diff "$OUT/$name.files" "$OUT/$name.in-paths" > "$OUT/$name.diff" 2>&1; cat "$OUT/$name.err" >> "$OUT/$name.diff"
       ko "$name" "$OUT/$name.diff"; fi
}
if command -v jq >/dev/null 2>&1; then
  paths_check paths-complete-lab samples/lab/postfix-a.log samples/lab/postfix-a-quiet.log \
    samples/lab/syslog-mail.log
  paths_check paths-complete-lab-joined samples/lab/postfix-a.log samples/lab/postfix-a-quiet.log \
    samples/lab/syslog-mail.log samples/lab/lab.pcap
  paths_check paths-complete-topology samples/lab-topology/postfix.log
fi

# --- every JSON output against its schema (schema/, python3-jsonschema) -------
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
schema_check() { # name format files...
  local name=$1 fmt=$2; shift 2
  if "$PY" tests/schema/validate.py "$fmt" "$@" > "$OUT/$name.schema" 2>&1
  then ok "$name: $(tail -1 "$OUT/$name.schema")"
  else ko "$name" "$OUT/$name.schema"; fi
}
if "$PY" -c 'import jsonschema' 2>/dev/null; then
  SETS="samples/lab/postfix-a.log samples/lab/postfix-a-quiet.log samples/lab/syslog-mail.log
        samples/lab/lab.pcap samples/lab/received.mbox samples/lab-topology/postfix.log
        samples/lab-topology/topology.pcap samples/lab-legs/postfix.log samples/lab-legs/dovecot.log
        samples/lab-legs/legs.pcap samples/lab-legs/sendmail.log
        samples/lab-pf312/postfix.log"
  for fmt in json events paths domains users; do
    # shellcheck disable=SC2086
    $TW -q --format $fmt --tz UTC --year 2026 --manifest "$OUT/schema-$fmt.manifest" $SETS \
      > "$OUT/schema-$fmt.jsonl" 2>/dev/null || true
    schema_check "schema-$fmt-lab" "$fmt" "$OUT/schema-$fmt.jsonl"
    # strict: every field of each kind's fullest record, flipped to
    # another type one at a time, is rejected
    if "$PY" tests/schema/flip.py "$fmt" "$OUT/schema-$fmt.jsonl" > "$OUT/schema-$fmt.flip" 2>&1
    then ok "schema-$fmt-flip: $(tail -1 "$OUT/schema-$fmt.flip")"
    else ko "schema-$fmt-flip" "$OUT/schema-$fmt.flip"; fi
  done
  schema_check schema-manifest-file manifest "$OUT/schema-json.manifest"
  # a message selected: paths adds its mailbox records (README "Submission
  # and retrieval"), pseudonymised too
  printf 'a key of sixteen bytes or more' > "$OUT/schema-paths.key"
  for pseudo in "" "--pseudonymize $OUT/schema-paths.key"; do
    # shellcheck disable=SC2086
    $TW -q --format paths --tz UTC --year 2026 $pseudo --rcpt dora@legs.test \
      samples/lab-legs/sendmail.log samples/lab-legs/postfix.log samples/lab-legs/dovecot.log
  done > "$OUT/schema-paths-mailbox.jsonl" 2>/dev/null || true
  schema_check schema-paths-mailbox paths "$OUT/schema-paths-mailbox.jsonl"
  if [ -d ../shared/corpus ]; then
    $TW -q --format json --tz UTC ../shared/corpus/logs/* ../shared/corpus/mail/* \
      ../shared/corpus/pcap/* > "$OUT/schema-corpus.jsonl" 2>/dev/null || true
    schema_check schema-json-corpus json "$OUT/schema-corpus.jsonl"
  fi
  schema_check schema-goldens golden tests/golden/*/stdout
  if "$PY" tests/schema/readme_fieldref.py > "$OUT/fieldref.out" 2>&1
  then ok "field-reference: $(cat "$OUT/fieldref.out")"
  else ko "field-reference" "$OUT/fieldref.out"; fi
  # The check can fail: a field the schema does not know, a wrong type.
  head -1 "$OUT/schema-json.jsonl" | sed 's/^{/{"surprise":1,/' > "$OUT/schema-bad.jsonl"
  head -1 "$OUT/schema-domains.jsonl" | sed 's/"hops":[0-9]*/"hops":"many"/' >> "$OUT/schema-bad.jsonl"
  if "$PY" tests/schema/validate.py auto "$OUT/schema-bad.jsonl" > "$OUT/schema-bad.out" 2>&1
  then ko "schema-rejects-unknown-fields" "$OUT/schema-bad.out"
  else ok "schema-rejects-unknown-fields: $(tail -1 "$OUT/schema-bad.out")"; fi
else
  sk schema "python3-jsonschema is not installed"
fi

# --- the shared corpus of real logs -------------------------------------------
CORPUS=../shared/corpus/logs
if [ -d "$CORPUS" ]; then
  sh tests/corpus.sh "$TW" "$CORPUS" > "$OUT/corpus.log" 2>&1
  p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$OUT/corpus.log")
  f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$OUT/corpus.log")
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-1}))
  if [ "${f:-1}" = 0 ]; then printf 'ok    corpus (%s checks)\n' "$p"; else ko corpus "$OUT/corpus.log"; fi
else
  sk corpus "../shared is not beside this clone"
fi

# --- valgrind memcheck on the lab set: every input kind at once -------------
if [ -z "${TW_NO_VALGRIND:-}" ] && command -v valgrind >/dev/null 2>&1; then
  # mimalloc replaces malloc: valgrind must be told where to catch it
  if valgrind -q --soname-synonyms=somalloc=libmimalloc.so* --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9 \
       $TW -q --format json --tz UTC --year 2026 samples/lab/postfix-a.log \
       samples/lab/postfix-a-quiet.log samples/lab/syslog-mail.log samples/lab/lab.pcap \
       samples/lab/received.mbox > /dev/null 2> "$OUT/valgrind.log"
  then ok "valgrind memcheck: lab logs, capture and mailbox, joined"
  else ko "valgrind memcheck" "$OUT/valgrind.log"; fi
else
  sk valgrind "valgrind is not installed, or this is the sanitizer build"
fi

# --- make install into a temporary DESTDIR: binary, man page, completion ---
suite install tests/install.sh

# --- the systemd journal as an input (libsystemd, systemd-journal-remote) -----
sh tests/journal.sh "$TW" > "$OUT/journal.log" 2>&1
p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$OUT/journal.log")
f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$OUT/journal.log")
pass=$((pass + ${p:-0})); fail=$((fail + ${f:-1}))
if grep -q '^skip' "$OUT/journal.log"; then sk journal "systemd-journal-remote is not installed"
elif [ "${f:-1}" = 0 ]; then printf 'ok    journal (%s checks)\n' "$p"; else ko journal "$OUT/journal.log"; fi

# --- --state: runs over pieces give the whole run's records ------------------
suite state tests/state.sh

# --- lookups read in windows give the full read's records ---------------------
suite lookup tests/lookup.sh

# --- enforcement facts against the newer Postfix's truth (samples/lab-pf312) ----
pysuite enforcement tests/enforcement.py "$TW"

# --- the sender's leg: submission and smtps against the legs lab's truth --------
pysuite legs tests/legs.py "$TW" samples/lab-legs

# --- tlswitness verify: a report, its signature, its inputs ---------------------
suite verify tests/verify.sh

# --- a second local user against what a root run writes and trusts -------------
sh tests/attack.sh "$TW" > "$OUT/attack.log" 2>&1
if grep -q '^skip' "$OUT/attack.log"; then sk attack "needs root, with nobody as the attacker"
else suite_count attack; fi

# --- --pseudonymize: no real address or login name in any format ---------------
suite pseudo tests/pseudo.sh

# --- the limits a report keeps to: what is past them counted and said -----------
suite bounds tests/bounds.sh

# --- the evidence store: shards into a throwaway PostgreSQL, the views against
# the tool's own answers ----------------------------------------------------------
sh tests/store.sh "$TW" > "$OUT/store.log" 2>&1
if grep -q '^skip' "$OUT/store.log"; then sk store "PostgreSQL's server is not installed"
else suite_count store; fi

# --- the audit summary of text and HTML, and the HTML's layout in Chromium -----
suite audit tests/audit.sh

# --- the shipped sweep: systemd units and cron entry (contrib/) ---------------
suite units tests/units.sh

# --- the HTML report in headless Chromium --------------------------------------
sh tests/html_render.sh "$TW" "$OUT/html" > "$OUT/html.log" 2>&1
p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$OUT/html.log")
f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$OUT/html.log")
pass=$((pass + ${p:-0})); fail=$((fail + ${f:-1}))
if [ "${f:-1}" = 0 ]; then printf 'ok    html report (%s checks%s)\n' "$p" \
  "$(grep -q '^skip' "$OUT/html.log" && echo '; rendering skipped: no chromium')"
else ko "html report" "$OUT/html.log"; fi

# --- live lab: real Postfix and Sendmail, now ---------------------------------
if [ "${CI:-}" = true ] || [ "${TW_LIVE_LAB:-}" = 1 ]; then
  if [ "$(id -u)" = 0 ] && TLSWITNESS="$PWD/$TW" bash tests/lab/lab.sh "$OUT/live-lab" > "$OUT/live-lab.log" 2>&1; then
    lab_check live-lab-truth "$OUT/live-lab/truth.jsonl" stripped \
      "$OUT/live-lab/postfix-a.log" "$OUT/live-lab/syslog-mail.log"
    lab_check live-lab-truth-tls-logging-off "$OUT/live-lab/truth-quiet.jsonl" stripped,version,used \
      "$OUT/live-lab/postfix-a-quiet.log" "$OUT/live-lab/syslog-mail.log"
    lab_check live-lab-truth-tls-logging-off-joined "$OUT/live-lab/truth-quiet.jsonl" stripped \
      "$OUT/live-lab/postfix-a.log" "$OUT/live-lab/postfix-a-quiet.log" \
      "$OUT/live-lab/syslog-mail.log" "$OUT/live-lab/lab.pcap"
    # The whole run joined with its capture: every hop as the truth says,
    # and no joined hop in conflict with its log.
    paths_check live-paths-complete-lab "$OUT/live-lab/postfix-a.log" \
      "$OUT/live-lab/postfix-a-quiet.log" "$OUT/live-lab/syslog-mail.log" "$OUT/live-lab/lab.pcap"
    lab_check live-lab-truth-joined "$OUT/live-lab/truth.jsonl" stripped \
      "$OUT/live-lab/postfix-a.log" "$OUT/live-lab/syslog-mail.log" "$OUT/live-lab/lab.pcap"
    $TW --format json --tz UTC --year 2026 "$OUT/live-lab/postfix-a.log" \
      "$OUT/live-lab/postfix-a-quiet.log" "$OUT/live-lab/syslog-mail.log" \
      "$OUT/live-lab/lab.pcap" > /dev/null 2> "$OUT/live-join.err"
    join_line=$(sed -n 's/^tlswitness: join: //p' "$OUT/live-join.err")
    case "$join_line" in
      *" 0 in conflict"*) ok "live-join: $join_line" ;;
      *) ko "live-join: ${join_line:-no join line}" "$OUT/live-join.err" ;;
    esac
    rcv_check live-received-truth "$OUT/live-lab/received.mbox" \
      "$OUT/live-lab/truth.jsonl" "$OUT/live-lab/truth-quiet.jsonl" "$OUT/live-lab/truth-enforce.jsonl"
    # The --policy-map tlswitness wrote from the run, loaded into Postfix A:
    # the stripped destination is now deferred, every other one still delivered.
    if diff -u tests/lab/enforce.expected "$OUT/live-lab/enforce.txt" > "$OUT/live-enforce.diff" 2>&1
    then ok "live-policy-map-enforced: $(grep -c '^[^#]' "$OUT/live-lab/tls_policy") map entries; the STARTTLS stripper now gets a deferral"
    else ko "live-policy-map-enforced" "$OUT/live-enforce.diff"; fi
    lab_check live-lab-truth-enforced "$OUT/live-lab/truth-enforce.jsonl" stripped \
      "$OUT/live-lab/postfix-a-enforce.log" "$OUT/live-lab/syslog-mail.log"
    for cap in "$OUT"/live-lab/lab*.pcap; do
      cap_check "live-capture-truth-$(basename "$cap" .pcap)" "$OUT/live-lab/truth.jsonl" "$cap"
    done
  else
    ko "live lab (needs root; see $OUT/live-lab.log)" "$OUT/live-lab.log"
  fi
  # The topology lab after it (they share port 25 and /etc/postfix).
  if bash tests/lab/topology.sh "$OUT/live-topology" > "$OUT/live-topology.log" 2>&1; then
    topo_check live-topology-truth "$OUT/live-topology/truth.jsonl" "$OUT/live-topology/postfix.log"
    topo_check live-topology-truth-joined "$OUT/live-topology/truth.jsonl" \
      "$OUT/live-topology/postfix.log" "$OUT/live-topology/topology.pcap"
    paths_check live-paths-complete-topology "$OUT/live-topology/postfix.log"
    $TW -q --format json --tz UTC "$OUT/live-topology/postfix.log" "$OUT/live-topology/topology.pcap" \
      "$OUT/live-lab/postfix-a.log" "$OUT/live-lab/syslog-mail.log" "$OUT/live-lab/lab.pcap" \
      > "$OUT/live-schema.jsonl" 2>/dev/null || true
    schema_check live-schema-json json "$OUT/live-schema.jsonl"
  else
    ko "live topology lab (needs root; see $OUT/live-topology.log)" "$OUT/live-topology.log"
  fi
  # The legs lab last: submission, smtps, Dovecot SASL, IMAP and POP3.
  if bash tests/lab/legs.sh "$OUT/live-legs" > "$OUT/live-legs.log" 2>&1; then
    "$PY" tests/legs.py "$TW" "$OUT/live-legs" > "$OUT/live-legs.cmp" 2>&1
    if tail -1 "$OUT/live-legs.cmp" | grep -q ' 0 failed$'; then ok "live-legs-truth: $(tail -1 "$OUT/live-legs.cmp")"
    else ko live-legs-truth "$OUT/live-legs.cmp"; fi
  else
    ko "live legs lab (needs root; see $OUT/live-legs.log)" "$OUT/live-legs.log"
  fi
else
  sk live-lab "set CI=true or TW_LIVE_LAB=1 to run real Postfix and Sendmail"
fi

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
