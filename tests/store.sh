#!/bin/sh
# The evidence store (README "The evidence store"): a throwaway PostgreSQL
# (tests/pgcluster.sh), the lab sets judged one shard per log (per host)
# and loaded with tlswitness load; the views against the tool's own
# answers over the same logs in one run (tests/store_compare.py): paths
# against --format paths, domain_month against --format domains,
# policy_map against --policy-map postfix.  Then: shards loaded in
# parallel into a fresh database, loading twice changes nothing,
# overlapping shards store each message once, a complete record replaces
# an incomplete one, what is refused (an altered, cut, foreign-version or
# other-format report, a line that is not JSON) stores nothing, gzip and
# standard input, and a load killed inside its transaction leaves nothing.
# Skipped when PostgreSQL's server is not installed.
# Last line: "N passed, N failed".   sh tests/store.sh TLSWITNESS_BINARY
TW=$1
cd "$(dirname "$0")/.." || exit 2
what=store
. tests/checks.sh	# check, checks_end; $d, a temporary folder
. tests/pgcluster.sh
if ! pg_found || ! command -v psql > /dev/null; then
	echo "skip  store: PostgreSQL's server is not installed (apt-get install postgresql)"
	echo "0 passed, 0 failed"
	exit 0
fi
PY=${PY:-/usr/bin/python3}
trap 'pg_stop; rm -rf "$d"' EXIT
chmod 755 "$d"
pg_start "$d/pg" || { check "a throwaway PostgreSQL starts" 0 1; checks_end; exit 1; }
TWA="$TW -q --tz UTC --year 2026"
db() { echo "host=$d/pg user=tlswitness dbname=$1"; }
mkdb() { psql "$(db postgres)" -X -q -c "CREATE DATABASE $1" > /dev/null; }
q() { psql "$1" -X -A -t -q -c "$2"; }
# store_compare.py's lines counted as checks
pyc() {
	"$PY" tests/store_compare.py "$@" > "$d/py.out" 2>&1
	cat "$d/py.out"
	pass=$((pass + $(grep -c '^ok ' "$d/py.out")))
	fail=$((fail + $(grep -c '^FAIL' "$d/py.out")))
	grep -q '^ok \|^FAIL' "$d/py.out" || { fail=$((fail + 1)); echo "FAIL  $what: store_compare.py $3 printed no check"; }
}

# One shard per log, as one tlswitness per host writes them; then the
# same logs in one run, and the views against it.
set_check() {
	name=$1; shift
	mkdir -p "$d/$name/shards"
	for log in "$@"; do
		b=$(basename "$log" .log)	# a manifest file: the run hashes its report
		$TWA --format json -o "$d/$name/shards/$b.jsonl" --manifest "$d/$name/$b.manifest.json" "$log"
	done
	$TWA --format paths -o "$d/$name/paths.jsonl" "$@"
	$TWA --format domains -o "$d/$name/domains.jsonl" "$@"
	$TWA --policy-map postfix -o "$d/$name/map.txt" "$@"
	$TWA --format json -o "$d/$name/all.jsonl" "$@"
	mkdb "$name"
	$TW load --db "$(db "$name")" "$d/$name"/shards/*.jsonl > "$d/$name/load.out" 2>&1
	check "$name: $# shards stored (exit 0)" "0 $#" \
		"$? $(grep -c ': stored as manifest ' "$d/$name/load.out")"
	pyc "$(db "$name")" "$name" paths "$d/$name/paths.jsonl"
	pyc "$(db "$name")" "$name" domains "$d/$name/domains.jsonl"
	pyc "$(db "$name")" "$name" policymap "$d/$name/map.txt"
	pyc "$(db "$name")" "$name: every message record stored" count \
		"SELECT count(*) FROM tlswitness.messages" \
		"$(grep -c '"kind":"message"' "$d/$name/all.jsonl")"
	pyc "$(db "$name")" "$name: every delivery stored" count \
		"SELECT count(*) FROM tlswitness.deliveries" \
		"$("$PY" -c 'import json,sys; print(sum(len(r.get("deliveries") or []) for r in map(json.loads, open(sys.argv[1])) if r["kind"] == "message"))' "$d/$name/all.jsonl")"
	pyc "$(db "$name")" "$name: every login stored" count \
		"SELECT count(*) FROM tlswitness.logins" \
		"$(grep -c '"kind":"login"' "$d/$name/all.jsonl")"
}
set_check lab samples/lab/postfix-a.log samples/lab/syslog-mail.log
pyc "$(db lab)" lab pathof "$d/lab/paths.jsonl"
set_check legs samples/lab-legs/sendmail.log samples/lab-legs/postfix.log samples/lab-legs/dovecot.log
set_check topology samples/lab-topology/postfix.log samples/lab-topology/dovecot.log
set_check pf312 samples/lab-pf312/postfix.log
check "legs: the Sendmail submissions' AUTH kept (arrivals authenticated, with the user)" \
	"$(grep -c '"inbound":{[^}]*"authenticated":true,"sasl_method":"[^"]*","sasl_username":"erin"' "$d/legs/shards/sendmail.jsonl")" \
	"$(q "$(db legs)" "SELECT count(*) FROM tlswitness.arrivals WHERE host = 'vm' AND authenticated AND sasl_username = 'erin'")"
sum_domains() { "$PY" -c 'import json,sys; print(sum(r[sys.argv[2]] for r in map(json.loads, open(sys.argv[1])) if r["kind"] == "recipient-domain"))' "$1" "$2"; }
check "pf312: enforcement_coverage: enforced and opportunistic hops as --format domains counts them" \
	"$(sum_domains "$d/pf312/domains.jsonl" enforced) $(sum_domains "$d/pf312/domains.jsonl" opportunistic)" \
	"$(q "$(db pf312)" "SELECT sum(enforced) || ' ' || sum(opportunistic) FROM tlswitness.enforcement_coverage")"

# --- a capture's and a mailbox's records: stored, the capture's as
# capture_connections, the Received headers' as messages of their own
mkdb other
$TWA --format json -o "$d/pcap.jsonl" samples/lab/lab.pcap
$TWA --format json -o "$d/mbox.jsonl" samples/lab/received.mbox
$TW load -q --db "$(db other)" "$d/pcap.jsonl" "$d/mbox.jsonl"
check "a capture's shard: every connection record a row of capture_connections" \
	"$(grep -c '"source":"pcap"' "$d/pcap.jsonl")" \
	"$(q "$(db other)" "SELECT count(*) FROM tlswitness.capture_connections")"
check "a mailbox's shard: every message's Received headers a record, source header" \
	"$(grep -c '"kind":"message"' "$d/mbox.jsonl")" \
	"$(q "$(db other)" "SELECT count(*) FROM tlswitness.messages WHERE source = 'header'")"
check "... loading both again changes nothing" "0 2" \
	"$($TW load -q --db "$(db other)" "$d/pcap.jsonl" "$d/mbox.jsonl"; echo $?) $(q "$(db other)" "SELECT count(*) FROM tlswitness.manifests")"

# --- every shard of every set at once, four loaders in parallel, into a fresh
# database: the schema and the days' partitions made once; the paths of all
# the logs in one run
mkdb fleet
ls "$d"/*/shards/*.jsonl > "$d/shards"
nshards=$(wc -l < "$d/shards")
xargs -P 4 -n 1 "$TW" load -q --db "$(db fleet)" < "$d/shards" > "$d/par.out" 2>&1
check "$nshards shards loaded by 4 loaders at once: each stored once, nothing said" "0 $nshards" \
	"$? $(q "$(db fleet)" "SELECT count(*) FROM tlswitness.manifests")"
$TWA --format paths -o "$d/allpaths.jsonl" samples/lab/postfix-a.log samples/lab/syslog-mail.log \
	samples/lab-legs/sendmail.log samples/lab-legs/postfix.log samples/lab-legs/dovecot.log \
	samples/lab-topology/postfix.log samples/lab-topology/dovecot.log samples/lab-pf312/postfix.log
pyc "$(db fleet)" fleet paths "$d/allpaths.jsonl"
tables="messages arrivals deliveries attempts logins manifests inputs"
fingerprint() {
	for t in $tables; do printf '%s=%s ' "$t" "$(q "$1" "SELECT count(*) FROM tlswitness.$t")"; done
	q "$1" "SELECT md5(string_agg(msg_key::text || '/' || idx || '/' || coalesce(rcpt, ''), ',' ORDER BY msg_key, idx)) FROM tlswitness.deliveries"
}
before=$(fingerprint "$(db fleet)")
xargs -n 100 "$TW" load --db "$(db fleet)" < "$d/shards" > "$d/again.out" 2>&1
check "loading every shard again: exit 0, each already stored" "0 $nshards" \
	"$? $(grep -c ': already stored as manifest .*nothing changed$' "$d/again.out")"
check "... and nothing in the store changed" "$before" "$(fingerprint "$(db fleet)")"

# --- contrib/shards/tlswitness-shards: a central log host's folders, one run
# per host, two at a time, loaded; then nightly with --state: the second
# night reads nothing new and stores no record twice
mkdir -p "$d/hosts/vm" "$d/hosts/lab/log"
cp samples/lab-legs/sendmail.log "$d/hosts/vm/mail.log"
cp samples/lab-legs/postfix.log "$d/hosts/lab/log/mail.log"
mkdb wrapper
sh contrib/shards/tlswitness-shards -t "$TW" -j 2 -o "$d/wrapped" -a "-q --tz UTC --year 2026" \
	-d "$(db wrapper)" "$d/hosts/vm" "$d/hosts/lab/log" > "$d/o" 2>&1
check "tlswitness-shards: exit 0, a shard per host named after it, its manifest beside it" \
	"0 lab.jsonl lab.manifest.json vm.jsonl vm.manifest.json" \
	"$? $(ls "$d/wrapped" | tr '\n' ' ' | sed 's/ $//')"
pyc "$(db wrapper)" wrapper paths "$d/legs/paths.jsonl"
mkdb nightly
for night in 1 2; do
	sh contrib/shards/tlswitness-shards -t "$TW" -s -o "$d/nightly" -a "-q --tz UTC --year 2026" \
		-d "$(db nightly)" "$d/hosts/vm" "$d/hosts/lab/log" > "$d/o" 2>&1 || break
	sleep 1	# the second night's shards have other names
done
check "tlswitness-shards -s, two nights: exit 0, four shards, each message stored once" \
	"0 4 $(cat "$d"/legs/shards/sendmail.jsonl "$d"/legs/shards/postfix.jsonl | grep -c '"kind":"message"')" \
	"$? $(q "$(db nightly)" "SELECT count(*) FROM tlswitness.manifests") $(q "$(db nightly)" "SELECT count(*) FROM tlswitness.messages")"

# --- overlapping shards: the first 60 lines (messages cut off, written
# incomplete), then the whole log: the same store as the whole log alone
head -n 60 samples/lab/postfix-a.log > "$d/part.log"
$TWA --format json -o "$d/part.jsonl" "$d/part.log"
cp samples/lab/postfix-a.log "$d/whole.log"
$TWA --format json -o "$d/whole.jsonl" "$d/whole.log"
mkdb overlap; mkdb whole
$TW load -q --db "$(db overlap)" "$d/part.jsonl" "$d/whole.jsonl"
$TW load -q --db "$(db whole)" "$d/whole.jsonl"
check "the cut shard has incomplete messages" yes \
	"$(grep -q '"complete":false' "$d/part.jsonl" && echo yes)"
check "overlapping shards: each message once, complete records in place of incomplete ones" \
	"$(fingerprint "$(db whole)" | sed 's/manifests=1 inputs=1/manifests=2 inputs=2/')" \
	"$(fingerprint "$(db overlap)")"
check "... no incomplete record left" 0 \
	"$(q "$(db overlap)" "SELECT count(*) FROM tlswitness.messages WHERE NOT complete")"

# --- a shard whose run did not hash its report: stored, said, marked
mkdb unhashed
$TWA --format json -o "$d/plain.jsonl" samples/lab/postfix-a.log
$TW load --db "$(db unhashed)" "$d/plain.jsonl" > "$d/o" 2>&1
check "a shard from a plain run (report_sha256 null): stored with a warning, report_hashed false" \
	"0 1 f" "$? $(grep -c 'did not hash its report' "$d/o") $(q "$(db unhashed)" "SELECT report_hashed FROM tlswitness.manifests")"
$TW load --db "$(db unhashed)" "$d/plain.jsonl" > "$d/o" 2>&1
check "... loaded again: already stored, not a conflict" "0 1" "$? $(grep -c 'already stored as manifest' "$d/o")"

# --- what is refused stores nothing, and says where
mkdb refuse
R=$(db refuse)
r="$d/lab/shards/postfix-a.jsonl"
sed '1s/"queue_id":"\([0-9A-F]\)/"queue_id":"X\1/' "$r" > "$d/altered.jsonl"
$TW load --db "$R" "$d/altered.jsonl" > "$d/o" 2>&1
check "an altered record: refused (exit 2), at the manifest's line, nothing stored" "2 1 0" \
	"$? $(grep -c "altered.jsonl:$(wc -l < "$r"):1: the records before the manifest are not what it hashed" "$d/o") $(q "$R" "SELECT count(*) FROM tlswitness.manifests")"
head -n 3 "$r" > "$d/cut.jsonl"
$TW load --db "$R" "$d/cut.jsonl" > "$d/o" 2>&1
check "a report cut short: refused, no manifest said, nothing stored" "2 1 0" \
	"$? $(grep -c 'cut.jsonl:3:1: no manifest after these records' "$d/o") $(q "$R" "SELECT count(*) FROM tlswitness.messages")"
sed '$s/"schema_version":2/"schema_version":1/' "$r" > "$d/v1.jsonl"
$TW load --db "$R" "$d/v1.jsonl" > "$d/o" 2>&1
check "a manifest of schema version 1: refused with the versions named" "2 1" \
	"$? $(grep -c 'the manifest is of schema version 1; this tlswitness stores version 2' "$d/o")"
sed '$s/"schema_version":2/"schema_version":"\\u001b[31mred"/' "$r" > "$d/esc.jsonl"
$TW load --db "$R" "$d/esc.jsonl" > "$d/o" 2>&1
check "a manifest's version holding an escape: refused, said escaped (no ESC byte written)" "2 1 0" \
	"$? $(grep -c 'schema version \\x1b\[31mred; this' "$d/o") $(tr -d -c '\033' < "$d/o" | wc -c | tr -d ' ')"
$TW load --db "$R" "$d/lab/paths.jsonl" > "$d/o" 2>&1
check "--format paths output: refused at its first record, the kind named" "2 1" \
	"$? $(grep -c 'paths.jsonl:1:1: a record of kind "path"' "$d/o")"
sed '2s/,"from":.*//' "$r" > "$d/broken.jsonl"
$TW load --db "$R" "$d/broken.jsonl" > "$d/o" 2>&1
check "a line that is not JSON: refused at that line" "2 1" \
	"$? $(grep -c 'broken.jsonl:2:1: not a JSON record' "$d/o")"
printf '\n' > "$d/empty-line.jsonl"
$TW load --db "$R" "$d/empty-line.jsonl" > "$d/o" 2>&1
check "an empty line: refused at that line" "2 1" "$? $(grep -c 'empty-line.jsonl:1:1: an empty line' "$d/o")"
check "... after all of them, nothing stored" "0 0" \
	"$(q "$R" "SELECT count(*) FROM tlswitness.manifests") $(q "$R" "SELECT count(*) FROM tlswitness.messages")"
$TW load --db "$R" "$d/altered.jsonl" "$r" > "$d/o" 2>&1
check "a refused report does not stop the next: exit 2, the good one stored" "2 1" \
	"$? $(q "$R" "SELECT count(*) FROM tlswitness.manifests")"
$TW load --db "$R" samples/lab/lab.pcap > "$d/o" 2>&1
check "a capture given to load: refused at its first line, not read to its end" "2 1" \
	"$? $(grep -c 'lab.pcap:1:1: not a JSON record' "$d/o")"
{ head -n 1 "$r" | tr -d '\n'; printf '\000\n'; tail -n +2 "$r"; } > "$d/nul.jsonl"
$TW load --db "$R" "$d/nul.jsonl" > "$d/o" 2>&1
check "a NUL byte in a record: refused at its line" "2 1" "$? $(grep -c 'nul.jsonl:1:1: a NUL byte' "$d/o")"
gzip -c "$r" > "$d/r.gz"
head -c $(( $(wc -c < "$d/r.gz") - 100 )) "$d/r.gz" > "$d/cut.gz"
$TW load --db "$R" "$d/cut.gz" > "$d/o" 2>&1
check "a gzip report cut short: refused, nothing of it stored" "2 1 1" \
	"$? $(grep -c 'cut.gz:[0-9]*:1: the last line has no newline' "$d/o") $(q "$R" "SELECT count(*) FROM tlswitness.manifests")"
$TW load --db "host=$d/nowhere user=tlswitness" "$r" > "$d/o" 2>&1
check "no database there: exit 2, said" "2 1" "$? $(grep -c '^tlswitness load: cannot connect to the database: ' "$d/o")"

# --- the next server's shard first, then the sender's: the same links
mkdb reverse
$TW load -q --db "$(db reverse)" "$d/legs/shards/postfix.jsonl" "$d/legs/shards/sendmail.jsonl"
pyc "$(db reverse)" reverse paths "$d/legs/paths.jsonl"

# --- gzip, and two shards on standard input
mkdb streams
gzip -c "$d/legs/shards/sendmail.jsonl" > "$d/sendmail.jsonl.gz"
$TW load --db "$(db streams)" "$d/sendmail.jsonl.gz" > "$d/o" 2>&1
check "a gzip report: stored" "0 1" "$? $(grep -c ': stored as manifest 1: ' "$d/o")"
cat "$d/legs/shards/postfix.jsonl" "$d/legs/shards/dovecot.jsonl" | $TW load --db "$(db streams)" - > "$d/o" 2>&1
check "two reports one after the other on standard input: two shards stored" "0 2" \
	"$? $(grep -c '^(stdin): lines .*: stored as manifest ' "$d/o")"
pyc "$(db streams)" streams paths "$d/legs/paths.jsonl"

# --- a load killed inside its transaction: the records it had inserted go
# with it.  Another session holds the logins table, which load_stage fills
# after the messages; the loader waits there and is killed.
mkdb killed
K=$(db killed)
$TW load -q --db "$K" "$d/legs/shards/dovecot.jsonl"
psql "$K" -X -q -c "BEGIN; LOCK TABLE tlswitness.logins IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60)" \
	> /dev/null 2>&1 &
lockpid=$!
i=0
until [ "$(q "$K" "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'logins' AND l.mode = 'AccessExclusiveLock' AND l.granted")" = 1 ] || [ $i -ge 100 ]; do
	sleep 0.1; i=$((i + 1))
done
$TW load -q --db "$K" "$d/legs/shards/postfix.jsonl" > /dev/null 2>&1 &
loadpid=$!
i=0
until [ "$(q "$K" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tlswitness load' AND wait_event_type = 'Lock'")" = 1 ] || [ $i -ge 100 ]; do
	sleep 0.1; i=$((i + 1))
done
inside=$(q "$K" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tlswitness load' AND query LIKE '%load_stage%'")
kill -9 $loadpid 2> /dev/null
wait $loadpid 2> /dev/null
q "$K" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()" > /dev/null
wait $lockpid 2> /dev/null
i=0
until [ "$(q "$K" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tlswitness load'")" = 0 ] || [ $i -ge 100 ]; do
	sleep 0.1; i=$((i + 1))
done
check "a load killed inside load_stage: it was there, and nothing of its shard is stored" "1 1 0" \
	"$inside $(q "$K" "SELECT count(*) FROM tlswitness.manifests") $(q "$K" "SELECT count(*) FROM tlswitness.messages WHERE host = 'lab'")"
$TW load -q --db "$K" "$d/legs/shards/postfix.jsonl"
check "... loaded again afterwards: stored whole" "0 2 $(grep -c '"kind":"message"' "$d/legs/shards/postfix.jsonl")" \
	"$? $(q "$K" "SELECT count(*) FROM tlswitness.manifests") $(q "$K" "SELECT count(*) FROM tlswitness.messages WHERE host = 'lab'")"

# --- a second local user against the store: forged shards, signatures ------
# A forged shard keeps a genuine report's manifest (its inputs' hashes) and
# states a hash of its own edited records; loaded first, it made the
# genuine shard "already stored" before.  Now: a conflict, exit 2.
mkdb forged
F=$(db forged)
openssl genpkey -algorithm ed25519 -out "$d/org.pem" 2> /dev/null
openssl pkey -in "$d/org.pem" -pubout -out "$d/org.pub"
cp samples/lab/postfix-a.log "$d/fmail.log"
$TWA --format json --sign "$d/org.pem" -o "$d/genuine.jsonl" "$d/fmail.log"
grep -v '"kind":"manifest"' "$d/genuine.jsonl" | sed 's/"used":false/"used":true/g' > "$d/forged.body"
sum=$(sha256sum < "$d/forged.body" | cut -c1-64)
{ cat "$d/forged.body"; grep '"kind":"manifest"' "$d/genuine.jsonl" |
    sed "s/\"report_sha256\":\"[0-9a-f]*\"/\"report_sha256\":\"$sum\"/"; } > "$d/forged.jsonl"
$TW load --db "$F" "$d/forged.jsonl" > /dev/null 2>&1
check "a forged unsigned shard, loaded first without --key: stored (nothing can tell)" 0 "$?"
$TW load --db "$F" "$d/genuine.jsonl" > "$d/o" 2>&1
check "... the genuine shard after it: a conflict (exit 2), never 'already stored'" "2 1 0" \
	"$? $(grep -c 'genuine.jsonl:[0-9]*:1: conflicts with manifest 1 (report .*, signed by no one: unsigned): the same inputs, other records' "$d/o") $(grep -c 'already stored as manifest' "$d/o")"
mkdb signed
S=$(db signed)
$TW load --db "$S" --key "$d/org.pub" "$d/forged.jsonl" > "$d/o" 2>&1
check "load --key: the forged, unsigned shard refused" "2 1 0" \
	"$? $(grep -c 'forged.jsonl:1:1: unsigned' "$d/o") $(q "$S" "SELECT count(*) FROM tlswitness.manifests")"
cp "$d/genuine.jsonl.sig" "$d/forged.jsonl.sig"
$TW load --db "$S" --key "$d/org.pub" "$d/forged.jsonl" > "$d/o" 2>&1
check "... with the genuine report's signature beside it: refused" "2 1" \
	"$? $(grep -c "its signature .* is not Ed25519 sha256:" "$d/o")"
$TW load --db "$S" --key "$d/org.pub" --require-signed "$d/genuine.jsonl" > "$d/o" 2>&1
fpr=$(openssl pkey -pubin -in "$d/org.pub" -outform DER | sha256sum | cut -c1-64)
check "... the genuine one stored, and who signed it recorded" "0 Ed25519 sha256:$fpr" \
	"$? $(q "$S" "SELECT signer FROM tlswitness.manifests")"
$TW load --db "$S" "$d/forged.jsonl" > "$d/o" 2>&1
check "--require-signed: a later load without --key refused" "2 1" \
	"$? $(grep -c 'this store takes signed shards only' "$d/o")"
gzip -c "$d/genuine.jsonl" > "$d/genuine.jsonl.gz"; cp "$d/genuine.jsonl.sig" "$d/genuine.jsonl.gz.sig"
$TW load --db "$S" --key "$d/org.pub" "$d/genuine.jsonl.gz" > "$d/o" 2>&1
check "... a compressed signed report: refused, said why" "2 1" "$? $(grep -c 'compressed: a report' "$d/o")"
$TW load --db "$S" --key "$d/org.pub" - < "$d/genuine.jsonl" > "$d/o" 2>&1
check "... standard input with --key: refused (no signature beside it)" "2 1" \
	"$? $(grep -c 'a signed report is read from its file' "$d/o")"
# an unsigned "complete" record never replaces a signed incomplete one
mkdb complete
C=$(db complete)
head -60 samples/lab/postfix-a.log > "$d/half.log"
$TWA --format json --sign "$d/org.pem" -o "$d/half.jsonl" "$d/half.log"
inc=$(q "$C" "SELECT 1" > /dev/null; grep -c '"complete":false' "$d/half.jsonl")
$TW load -q --db "$C" --key "$d/org.pub" "$d/half.jsonl"
$TWA --format json -o "$d/whole.jsonl" samples/lab/postfix-a.log
$TW load -q --db "$C" "$d/whole.jsonl"
check "an unsigned shard's complete records do not replace a signed shard's incomplete ones" \
	"$inc" "$(q "$C" "SELECT count(*) FROM tlswitness.messages m JOIN tlswitness.manifests f USING (manifest_id) WHERE f.signer IS NOT NULL AND m.complete IS NOT TRUE")"
# a gzip bomb: a 1 GB line in about a megabyte, refused in bounded memory
head -c 1073741824 /dev/zero | tr '\0' ' ' | sed 's/^/{/' | gzip -1 > "$d/bomb.gz"
if [ -x /usr/bin/time ]; then
	/usr/bin/time -f '%M' -o "$d/rss" $TW load --db "$F" "$d/bomb.gz" > "$d/o" 2>&1
	check "a gzip bomb ($(($(wc -c < "$d/bomb.gz") / 1024)) KiB, one 1 GiB line): refused, under 400 MiB" "2 1 yes" \
		"$? $(grep -c 'a line longer than 64 MiB' "$d/o") $([ "$(tail -1 "$d/rss")" -lt 409600 ] && echo yes || tail -1 "$d/rss")"
fi
$TW load --db "host=$d/pg user=tlswitness password=secret dbname=forged" "$d/genuine.jsonl" > "$d/o" 2>&1
check "a password in --db: warned it is visible in ps" 1 "$(grep -c 'the password in --db is visible to every local user' "$d/o")"

checks_end
