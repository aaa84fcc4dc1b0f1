#!/bin/sh
# tlswitness verify (README "Checking a report"): a signed report verified
# with its key, the signer's fingerprint and the report's time said; a
# wrong key, a changed report byte, a changed or grown input each named
# and exit 1; what could not be checked (no signature, no key, an input
# gone, a device a forged manifest names) is incomplete, exit 3, never
# "verified"; a --key that cannot be used is an error, exit 2; inputs
# found from the run's folder wherever verify runs, or under --inputs;
# text, HTML and CSV (with a signed --manifest) reports; an input read
# with --state hashed from where it went on; RSA-PSS as well as Ed25519;
# an RFC 3161 time-stamp request that openssl ts answers and verifies.
# Last line: "N passed, N failed".   sh tests/verify.sh TLSWITNESS_BINARY
TW=$1
case $TW in /*) ;; *) TW=$PWD/$TW ;; esac
cd "$(dirname "$0")/.." || exit 2
what=verify
. tests/checks.sh	# check, checks_end; $d, a temporary folder
TWA="$TW -q --tz UTC --year 2026"
cp samples/lab/postfix-a.log "$d/mail.log"
openssl genpkey -algorithm ed25519 -out "$d/k.pem" 2> /dev/null
openssl pkey -in "$d/k.pem" -pubout -out "$d/pub.pem"
openssl genpkey -algorithm ed25519 -out "$d/k2.pem" 2> /dev/null
openssl pkey -in "$d/k2.pem" -pubout -out "$d/pub2.pem"
openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048 -out "$d/rsa.pem" 2> /dev/null
openssl pkey -in "$d/rsa.pem" -pubout -out "$d/rsapub.pem"

$TWA -f json --sign "$d/k.pem" -o "$d/r.jsonl" "$d/mail.log"
$TW verify "$d/r.jsonl" --key "$d/pub.pem" > "$d/o" 2>&1
fpr=$(openssl pkey -pubin -in "$d/pub.pem" -outform DER | sha256sum | cut -c1-64)
check "a signed JSON report: verified (exit 0), the signer's key named" "0 1" \
  "$? $(grep -c "verify: verified: every check ran and held; signed by Ed25519 sha256:$fpr" "$d/o")"
check "... its input hashed again, the same" 1 "$(grep -c "^ok      input $d/mail.log: sha256 " "$d/o")"
check "... when it was made said (a replayed old report shows)" 1 "$(grep -c '^made    20[0-9-]*T[0-9:]*Z, report id ' "$d/o")"
$TW verify "$d/r.jsonl" --key "$d/pub2.pem" > "$d/o" 2>&1
check "another key: exit 1, the signature named" "1 1" "$? $(grep -c '^DIFFERS  signature: ' "$d/o")"
$TW verify "$d/r.jsonl" > "$d/o" 2>&1
check "no key: incomplete (exit 3), the signature not checked, said" "3 1 0" \
  "$? $(grep -c 'give --key PUB to check it' "$d/o") $(grep -c verified "$d/o")"
# a --key that cannot be used is an error, never "no key"
mkdir "$d/keydir"; printf 'garbage\n' > "$d/garbage.pem"
for k in "$d/missing.pem" /dev/null "$d/keydir" "$d/k.pem" "$d/garbage.pem"; do
  timeout 10 $TW verify "$d/r.jsonl" --key "$k" > "$d/o" 2> "$d/e"
  check "--key $(basename "$k"): an error (exit 2), said, nothing verified" "2 1 0" \
    "$? $(grep -c '^tlswitness: verify: --key: ' "$d/e") $(grep -c 'verified\|no difference' "$d/o")"
done
grep -q 'is a private key: give its public key' "$d/e" 2> /dev/null || true
timeout 10 $TW verify "$d/r.jsonl" --key "$d/k.pem" 2>&1 | grep -q 'is a private key'
check "... a private key: named as one" 0 "$?"
# the inputs are found from the run's folder, wherever verify runs
(cd / && $TW verify "$d/r.jsonl" --key "$d/pub.pem") > "$d/o" 2>&1
check "verify run elsewhere: the inputs found, verified" "0 1" "$? $(grep -c '^ok      input ' "$d/o")"
(cd "$d" && $TWA -f json --sign k.pem -o rel.jsonl mail.log)
(cd / && $TW verify "$d/rel.jsonl" --key "$d/pub.pem") > "$d/o" 2>&1
check "... a relative input name resolved against the manifest's base" "0 1" \
  "$? $(grep -c '^ok      input mail.log: sha256 ' "$d/o")"
mkdir "$d/moved"; cp "$d/mail.log" "$d/moved/"; mv "$d/mail.log" "$d/mail.away"
(cd / && $TW verify "$d/rel.jsonl" --key "$d/pub.pem") > "$d/o" 2>&1
check "... moved away: incomplete (exit 3), where it was looked for named" "3 1" \
  "$? $(grep -c "^gone    input mail.log: not at $d/mail.log" "$d/o")"
(cd / && $TW verify "$d/rel.jsonl" --key "$d/pub.pem" --inputs "$d/moved") > "$d/o" 2>&1
check "... found under --inputs DIR: verified" "0 1" "$? $(grep -c '^ok      input mail.log' "$d/o")"
mv "$d/mail.away" "$d/mail.log"
cp "$d/r.jsonl" "$d/changed.jsonl"; cp "$d/r.jsonl.sig" "$d/changed.jsonl.sig"
sed -i '1s/"kind":"message"/"kind":"massage"/' "$d/changed.jsonl"
$TW verify "$d/changed.jsonl" --key "$d/pub.pem" > "$d/o" 2>&1
check "a changed report byte: exit 1, the report and the signature named" "1 1 1" \
  "$? $(grep -c '^DIFFERS  report: json, .* the manifest says ' "$d/o") $(grep -c '^DIFFERS  signature' "$d/o")"
cp "$d/mail.log" "$d/mail.orig"
sed -i '5s/smtpd/smtpe/' "$d/mail.log"
$TW verify "$d/r.jsonl" --key "$d/pub.pem" > "$d/o" 2>&1
check "a changed input byte: exit 1, then and now" "1 1" "$? $(grep -c "^DIFFERS  input $d/mail.log: sha256 .* then, .* now" "$d/o")"
cp "$d/mail.orig" "$d/mail.log"; echo "one more line" >> "$d/mail.log"
$TW verify "$d/r.jsonl" --key "$d/pub.pem" > "$d/o" 2>&1
check "a grown input: exit 1, the sizes" "1 1" "$? $(grep -c 'bytes then, .* now (a live log grows' "$d/o")"
mv "$d/mail.log" "$d/mail.gone"
$TW verify "$d/r.jsonl" --key "$d/pub.pem" > "$d/o" 2>&1
check "an input gone: incomplete (exit 3), said, not verified" "3 1 1 0" \
  "$? $(grep -c '^gone    input' "$d/o") $(grep -c 'verify: incomplete: ' "$d/o") $(grep -c 'verified' "$d/o")"
cp "$d/mail.orig" "$d/mail.log"
# a forged manifest naming a device: not read (it would never end), incomplete
sed 's|"path":"[^"]*mail.log"|"path":"/dev/zero"|' "$d/r.jsonl" > "$d/dev.jsonl"
timeout 20 $TW verify "$d/dev.jsonl" > "$d/o" 2>&1
check "a manifest listing /dev/zero: not read, incomplete (exit 3)" "3 1" \
  "$? $(grep -c '^none    input /dev/zero: /dev/zero: is not a regular file, so not read' "$d/o")"
for f in text html; do
  # a run asked for nothing that needs its report's hash does not make it
  $TWA -f $f -o "$d/u.$f" "$d/mail.log"
  $TW verify "$d/u.$f" > "$d/o" 2>&1
  check "a $f report of a plain run: not hashed, so incomplete (exit 3), said" "3 1 1" \
    "$? $(grep -c '^none    report: its manifest states no hash of it (the run' "$d/o") $(grep -c 'report:     not hashed' "$d/u.$f")"
  # --state chains the report by its hash: it is made
  $TWA -f $f --state "$d/st.$f" -o "$d/r.$f" "$d/mail.log"
  $TW verify "$d/r.$f" > "$d/o" 2>&1
  check "a $f report: its body matches its manifest, unsigned: incomplete (exit 3)" "3 1 1" \
    "$? $(grep -c "^ok      report: $f, " "$d/o") $(grep -c 'only a signature (--sign KEY) proves it' "$d/o")"
  check "... it carries its manifest: the input checked" 1 "$(grep -c "^ok      input $d/mail.log: sha256" "$d/o")"
  $TWA -f $f --sign "$d/k.pem" -o "$d/s.$f" "$d/mail.log"
  $TW verify "$d/s.$f" --key "$d/pub.pem" > "$d/o" 2>&1
  check "... signed: verified (exit 0)" "0 1" "$? $(grep -c 'verify: verified: ' "$d/o")"
  sed -i '1s/./X/' "$d/r.$f"
  $TW verify "$d/r.$f" > /dev/null 2>&1
  check "... a byte changed: exit 1" 1 "$?"
done
$TWA -f csv -o "$d/r.csv" --manifest "$d/r.man" --sign "$d/rsa.pem" "$d/mail.log"
$TW verify "$d/r.csv" --manifest "$d/r.man" --key "$d/rsapub.pem" > "$d/o" 2>&1
check "CSV with --manifest FILE, signed RSA-PSS: verified, the manifest's signature too" "0 1 1" \
  "$? $(grep -c 'verify: verified' "$d/o") $(grep -c '^ok      manifest signature: ' "$d/o")"
# the log and the manifest edited together, no key needed: before, "verified"
cp "$d/mail.log" "$d/mail.keep"; sed -i '5s/smtpd/smtpe/' "$d/mail.log"
new=$(sha256sum < "$d/mail.log" | cut -c1-64) size=$(stat -c %s "$d/mail.log")
sed -i "s/\"sha256\":\"[0-9a-f]*\"/\"sha256\":\"$new\"/; s/\"size\":[0-9]*/\"size\":$size/" "$d/r.man"
$TW verify "$d/r.csv" --manifest "$d/r.man" --key "$d/rsapub.pem" > "$d/o" 2>&1
check "... the log and the manifest edited together: exit 1, the manifest's signature named" "1 1" \
  "$? $(grep -c '^DIFFERS  manifest signature: ' "$d/o")"
$TW verify "$d/r.csv" --manifest "$d/r.man" > "$d/o" 2>&1
check "... and without a key: incomplete (exit 3), never verified" "3 0" "$? $(grep -c 'verified' "$d/o")"
cp "$d/mail.keep" "$d/mail.log"
$TW verify "$d/r.csv" > /dev/null 2> "$d/e"
check "CSV without its manifest: exit 2, said" "2 1" "$? $(grep -c 'give the --manifest FILE written beside it' "$d/e")"
# --state: the second run's input hashed from where it went on
head -50 "$d/mail.orig" > "$d/s.log"
$TWA --state "$d/st" -f json -o "$d/s1.jsonl" "$d/s.log"
tail -n +51 "$d/mail.orig" >> "$d/s.log"
$TWA --state "$d/st" -f json -o "$d/s2.jsonl" "$d/s.log"
$TW verify "$d/s2.jsonl" > "$d/o" 2>&1
check "a --state run's input: hashed from where it went on, the same (unsigned: exit 3)" "3 1" \
  "$? $(grep -c '(from where --state went on)' "$d/o")"
# RFC 3161: the request for the report, answered by an authority made here
# (openssl ts -reply), and the answer checked against the report's bytes.
$TWA -f html -o "$d/t.html" --timestamp-request "$d/t.tsq" "$d/mail.orig"
check "a time-stamp request: written 0600" "0 600" "$? $(stat -c %a "$d/t.tsq")"
q=$(openssl ts -query -in "$d/t.tsq" -text 2>/dev/null)
check "... openssl ts reads it: the report's SHA-256, a nonce, certReq" "1 1 1" \
  "$(echo "$q" | tr -d ' :\n' | grep -c "$(sha256sum "$d/t.html" | cut -c1-16)") $(echo "$q" | grep -c '^Nonce: 0x') $(echo "$q" | grep -c '^Certificate required: yes')"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Lab TSA" \
  -addext "extendedKeyUsage=critical,timeStamping" -keyout "$d/tsa.key" -out "$d/tsa.pem" 2> /dev/null
printf '[ tsa ]\ndefault_tsa = lab\n[ lab ]\nserial = %s\nsigner_cert = %s\nsigner_key = %s\nsigner_digest = sha256\ndefault_policy = 1.3.6.1.4.1.4146.2.3\ndigests = sha256\ness_cert_id_alg = sha256\n' \
  "$d/tsa.serial" "$d/tsa.pem" "$d/tsa.key" > "$d/tsa.cnf"
echo 01 > "$d/tsa.serial"
openssl ts -reply -config "$d/tsa.cnf" -queryfile "$d/t.tsq" -out "$d/t.tsr" 2> /dev/null
check "... an authority answers it, and the answer holds for the report" "Verification: OK" \
  "$(openssl ts -verify -data "$d/t.html" -in "$d/t.tsr" -CAfile "$d/tsa.pem" 2>/dev/null | tail -1)"
sed -i '1s/./X/' "$d/t.html"
check "... and not for a changed report" "" \
  "$(openssl ts -verify -data "$d/t.html" -in "$d/t.tsr" -CAfile "$d/tsa.pem" 2>/dev/null | grep OK)"
$TWA -f html --timestamp-request "$d/u.tsq" "$d/mail.orig" > /dev/null 2>&1
check "--timestamp-request needs -o: exit 2" 2 "$?"
$TW verify > /dev/null 2>&1
check "no report: usage, exit 2" 2 "$?"
$TW verify "$d/r.jsonl" --frobnicate > /dev/null 2>&1
check "an unknown option: exit 2" 2 "$?"
$TW verify samples/lab/postfix-a.log > /dev/null 2>&1
check "not a report: exit 2" 2 "$?"
checks_end
