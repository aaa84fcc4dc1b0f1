#!/bin/sh
# A second local user against the files a root run writes, reads back,
# signs or trusts (docs/threat-model.md): planted, swapped, replayed,
# raced.  Run as root, with "su nobody" as the attacker; as another user
# the suite says "skip" and counts nothing.
# Last line: "N passed, N failed".   sh tests/attack.sh TLSWITNESS_BINARY
TW=$1
cd "$(dirname "$0")/.." || exit 2
case $TW in /*) ;; *) TW=$PWD/$TW ;; esac
if [ "$(id -u)" != 0 ] || ! id nobody > /dev/null 2>&1; then
  echo "skip attack (needs root, and the user nobody as the attacker)"; echo "0 passed, 0 failed"; exit 0
fi
what=attack
. tests/checks.sh	# check, checks_end; $d, a temporary folder
chmod 0755 "$d"
as_nobody() { su -s /bin/sh nobody -c "$1"; }
TWA="$TW -q --tz UTC --year 2026"
cp samples/lab/postfix-a.log "$d/mail.log"
openssl genpkey -algorithm ed25519 -out "$d/k.pem" 2> /dev/null
openssl pkey -in "$d/k.pem" -pubout -out "$d/pub.pem"

# --- a planted report takes nothing of its planter's ------------------------
mkdir -m 1777 "$d/shared"
for m in 0666 6777; do
  as_nobody "umask 0; : > $d/shared/r$m.jsonl; chmod $m $d/shared/r$m.jsonl"
  $TWA -f json -o "$d/shared/r$m.jsonl" "$d/mail.log"
  check "a planted $m file owned by nobody at -o: the report is root's and 0600" \
    "0 root 600" "$? $(stat -c '%U %a' "$d/shared/r$m.jsonl")"
done
$TWA -f json -o "$d/own.jsonl" "$d/mail.log"; chmod 0644 "$d/own.jsonl"
$TWA -f json -o "$d/own.jsonl" "$d/mail.log"
check "the caller's own previous 0644 report: its mode kept" 644 "$(stat -c %a "$d/own.jsonl")"
chmod 4777 "$d/own.jsonl"; $TWA -f json -o "$d/own.jsonl" "$d/mail.log"
check "... but never set-id bits or others' write" 644 "$(stat -c %a "$d/own.jsonl")"

# --- what is signed is what was written --------------------------------------
# The report's folder is nobody's: while the run writes and signs, nobody
# writes forged bytes over the report's first line, or (when it is not
# theirs to write) removes it and plants a world-writable forged one, again
# and again; --state makes the run commit its state between the report and
# its signature, as a sweep does.  The
# signature must never hold for the forged bytes (before, it did in 5 of 5
# tries: the report took the planted file's 0666 and was signed by name).
mkdir "$d/rep"; chown nobody "$d/rep"
printf '{"kind":"message","forged":true}\n' > "$d/forged"; chmod 0644 "$d/forged"
race() {	# nobody's racer, until $d/stop
  rm -f "$d/stop"
  as_nobody "umask 0; cd $d/rep; f=\$(cat $d/forged); while [ ! -e $d/stop ]; do printf '%s\n' \"\$f\" 2>/dev/null 1<> r.jsonl || { rm -f r.jsonl; printf '%s\n' \"\$f\" > r.jsonl; }; done 2>/dev/null" &
  racer=$!
}
forged_signed=0 runs=0
while [ $runs -lt 5 ]; do
  runs=$((runs + 1))
  race
  $TWA -f json --state "$d/race.state" --state-reset --sign "$d/k.pem" -o "$d/rep/r.jsonl" "$d/mail.log" 2> /dev/null
  touch "$d/stop"; wait $racer
  if grep -q '"forged":true' "$d/rep/r.jsonl" &&
     openssl pkeyutl -verify -pubin -inkey "$d/pub.pem" -rawin -in "$d/rep/r.jsonl" -sigfile "$d/rep/r.jsonl.sig" > /dev/null 2>&1
  then forged_signed=$((forged_signed + 1)); fi
done
check "a forged report raced over the signed one: signed in none of 5 runs" 0 "$forged_signed"
$TWA -f json --sign "$d/k.pem" -o "$d/rep/r.jsonl" "$d/mail.log"
openssl pkeyutl -verify -pubin -inkey "$d/pub.pem" -rawin -in "$d/rep/r.jsonl" -sigfile "$d/rep/r.jsonl.sig" > /dev/null 2>&1
check "... with the racer gone, the signature holds for the report written" 0 "$?"

# --- a FIFO or a device cannot be sealed -------------------------------------
mkfifo "$d/fifo"
timeout 10 $TWA -f json --sign "$d/k.pem" -o "$d/fifo" "$d/mail.log" 2> "$d/e"
check "-o FIFO --sign: refused at once, exit 2" "2 1" "$? $(grep -c 'cannot be read back to be sealed' "$d/e")"
rm -f /dev/null.sig
timeout 10 $TWA -f json --sign "$d/k.pem" -o /dev/null "$d/mail.log" 2> "$d/e"
check "-o /dev/null --sign: refused, exit 2, no /dev/null.sig" "2 no" "$? $([ -e /dev/null.sig ] && echo yes || echo no)"
rm -f /dev/null.sig
timeout 10 $TWA -f json --sign "$d/fifo" -o "$d/r.jsonl" "$d/mail.log" 2> "$d/e"
check "--sign naming a FIFO: refused, not waited on" "2 1" "$? $(grep -c 'is not a regular file' "$d/e")"
for opt in --rules --policy-table --pseudonymize; do
  timeout 10 $TWA -f json $opt "$d/fifo" "$d/mail.log" > /dev/null 2> "$d/e"
  st=$?
  check "$opt naming a FIFO: refused (exit 2 or 3), not waited on" "yes 1" \
    "$([ $st = 2 ] || [ $st = 3 ] && echo yes || echo "exit $st") $(grep -c 'is not a regular file' "$d/e")"
done

# --- no output lands on what the run reads, nor on another output ------------
sha() { sha256sum "$1" | cut -c1-64; }
cp rules/default.yaml "$d/rules.yaml"
printf 'example.org encrypt\n' > "$d/table"
head -c 32 /dev/urandom > "$d/pkey"
for pair in "-o:--rules=$d/rules.yaml" "-o:--policy-table=$d/table" "-o:--pseudonymize=$d/pkey" \
            "-o:--sign=$d/k.pem" "--timestamp-request:input=$d/mail.log" "--manifest:input=$d/mail.log"; do
  out=${pair%%:*}; rest=${pair#*:}; opt=${rest%%=*}; f=${rest#*=}
  before=$(sha "$f")
  case $opt in input) extra="" ;; *) extra="$opt $f" ;; esac
  case $out in -o) dest="-o $f" ;; *) dest="-o $d/x.jsonl $out $f" ;; esac
  # shellcheck disable=SC2086
  $TWA -f json $extra $dest "$d/mail.log" > /dev/null 2> "$d/e"
  check "$out onto $opt: refused (exit 2), the file unchanged" "2 $before" "$? $(sha "$f")"
done
ln "$d/rules.yaml" "$d/rules-link.yaml"
$TWA -f json --rules "$d/rules.yaml" -o "$d/rules-link.yaml" "$d/mail.log" 2> "$d/e"
check "-o a hard link of the rules: refused" "2 1" "$? $(grep -c 'is also --rules' "$d/e")"
$TWA -f json --state "$d/st" -o "$d/st" "$d/mail.log" 2> "$d/e"
check "-o equal to --state (not there yet): refused" "2 1" "$? $(grep -c 'one output would replace the other' "$d/e")"
$TWA -f json --manifest "$d/m.json" -o "$d/m.json" "$d/mail.log" 2> "$d/e"
check "-o equal to --manifest: refused" "2 1" "$? $(grep -c 'one output would replace the other' "$d/e")"
# --- the sweep's state: nothing another user could have planted or swapped ----
mkdir "$d/st"; chmod 0755 "$d/st"
$TWA -f json --state "$d/st/state" "$d/mail.log" > /dev/null
mkdir -m 1777 "$d/pub"
cp "$d/st/state" "$d/copy"; chmod 0644 "$d/copy"	# a state nobody got hold of
as_nobody "cp $d/copy $d/pub/state; chmod 0600 $d/pub/state"
$TWA -f json --state "$d/pub/state" "$d/mail.log" > /dev/null 2> "$d/e"
check "a state planted by nobody: refused (exit 2), whose it is said" "2 1" \
  "$? $(grep -c "state: .*is another user's (uid 65534" "$d/e")"
cp "$d/st/state" "$d/st/open"; chmod 0666 "$d/st/open"
$TWA -f json --state "$d/st/open" "$d/mail.log" > /dev/null 2> "$d/e"
check "a state writable by others: refused" "2 1" "$? $(grep -c 'is writable by others' "$d/e")"
mkdir -m 0777 "$d/wide"; cp "$d/st/state" "$d/wide/state"
$TWA -f json --state "$d/wide/state" "$d/mail.log" > /dev/null 2> "$d/e"
check "a state in a folder anyone can write (not sticky): refused" "2 1" \
  "$? $(grep -c 'its folder .* is writable by others' "$d/e")"
as_nobody ": > $d/pub/mine.lock"
$TWA -f json --state "$d/pub/mine" "$d/mail.log" > /dev/null 2> "$d/e"
check "a lock file planted by nobody: refused, not trusted to hold anyone out" "2 1" \
  "$? $(grep -c "its lock is another user's" "$d/e")"
cp "$d/st/state" "$d/pub/q"
as_nobody "cp $d/copy $d/pub/q.pending"
$TWA -f json --state "$d/pub/q" "$d/mail.log" > /dev/null 2> "$d/e"
check "a pending state planted by nobody: refused, not taken up" "2 1" \
  "$? $(grep -c "its pending copy is another user's" "$d/e")"
mkfifo "$d/st/fifo"
timeout 10 $TWA -f json --state "$d/st/fifo" "$d/mail.log" > /dev/null 2> "$d/e"
check "a FIFO at --state: refused at once, not waited on" "2 1" "$? $(grep -c 'is not a regular file' "$d/e")"
checks_end
