#!/bin/sh
# The evidence store at fleet scale (README "The evidence store"): a
# generated fleet (bench/fleet.py: FLEET_PAIRS pairs of the lab's two
# servers, FLEET_COPIES copies of its scenarios each over one day, distinct
# IDs), judged one shard per host by contrib/shards/tlswitness-shards,
# loaded into a throwaway PostgreSQL (tests/pgcluster.sh, with fsync and
# synchronous commit on: the load rate a real server would give) by one
# loader and by one per core; then each view queried (median of
# BENCH_RUNS), the database's size per million messages, and the paths
# view's answer against --format paths over every log in one run.
#   sh bench/store.sh [TLSWITNESS]     FLEET_PAIRS=50 FLEET_COPIES=100 BENCH_RUNS=3
set -u
cd "$(dirname "$0")/.." || exit 2
TW=${1:-./tlswitness}
case $TW in /*) ;; *) TW=$(pwd)/$TW ;; esac
PAIRS=${FLEET_PAIRS:-50}
COPIES=${FLEET_COPIES:-100}
RUNS=${BENCH_RUNS:-3}
CORES=$(nproc)
. tests/pgcluster.sh
pg_found || { echo "bench/store.sh: PostgreSQL's server is not installed (sh tests/setup-debian.sh --bench)"; exit 2; }
W=$(mktemp -d /tmp/tw-store-bench.XXXXXX)
chmod 755 "$W"
trap 'pg_stop; rm -rf "$W"' EXIT
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | sed 's/^\./0./'; }
ratio() { echo "scale=1; $1 / $2" | bc -l | sed 's/^\./0./'; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -sr); $(psql --version | head -1)"
python3 bench/fleet.py "$W/hosts" "$PAIRS" "$COPIES"
hosts=$(ls "$W/hosts" | wc -l)
logmb=$(du -sm "$W/hosts" | cut -f1)
echo "fleet: $hosts hosts x one day ($COPIES copies of the lab's scenarios each), $logmb MB of logs"

t0=$(now)
sh contrib/shards/tlswitness-shards -t "$TW" -j "$CORES" -o "$W/shards" -a "-q --tz UTC --year 2026" \
	"$W"/hosts/* || exit 2
t1=$(now)
jsonmb=$(du -sm "$W/shards" | cut -f1)
echo "shards: $hosts, $jsonmb MB of JSON, judged in $(secs "$t0" "$t1") s ($CORES at a time)"

# PostgreSQL as it would run for real: fsync and synchronous commit on
PG_DURABLE=1 pg_start "$W/pg" || exit 2
db() { echo "host=$W/pg user=tlswitness dbname=$1"; }
q() { psql "$1" -X -A -t -q -c "$2"; }
for n in one many; do psql "$(db postgres)" -X -q -c "CREATE DATABASE $n" > /dev/null; done

empty=$(q "$(db one)" "SELECT pg_database_size(current_database())")
t0=$(now)
"$TW" load -q --db "$(db one)" "$W"/shards/*.jsonl || exit 2
t1=$(now)
ls "$W"/shards/*.jsonl | xargs -n 1 -P "$CORES" "$TW" load -q --db "$(db many)" || exit 2
t2=$(now)
D=$(db one)
msgs=$(q "$D" "SELECT count(*) FROM tlswitness.messages")
rows=$(q "$D" "SELECT (SELECT count(*) FROM tlswitness.messages) + (SELECT count(*) FROM tlswitness.arrivals) + (SELECT count(*) FROM tlswitness.deliveries) + (SELECT count(*) FROM tlswitness.attempts) + (SELECT count(*) FROM tlswitness.logins) + (SELECT count(*) FROM tlswitness.inputs) + (SELECT count(*) FROM tlswitness.manifests)")
one=$(secs "$t0" "$t1")
many=$(secs "$t1" "$t2")
echo "load, 1 loader:       $one s: $(echo "$rows / $one" | bc) rows/s, $(ratio "$jsonmb" "$one") MB/s of JSON ($msgs messages, $rows rows)"
echo "load, $CORES loaders:      $many s: $(echo "$rows / $many" | bc) rows/s, $(ratio "$jsonmb" "$many") MB/s of JSON"
q "$D" "VACUUM ANALYZE" > /dev/null
size=$(( $(q "$D" "SELECT pg_database_size(current_database())") - empty ))
echo "database: $(echo "$size / 1048576" | bc) MB beside an empty database's, $(echo "$size * 1000000 / $msgs / 1048576" | bc) MB per million messages (each record kept whole as jsonb beside the columns)"
q "$D" "SELECT '  ' || rpad(c.relname, 12) || lpad(pg_size_pretty(sum(pg_total_relation_size(p.inhrelid))), 10) || ' with its indexes' FROM pg_class c JOIN pg_inherits p ON p.inhparent = c.oid WHERE c.relnamespace = 'tlswitness'::regnamespace AND c.relkind = 'p' GROUP BY c.relname ORDER BY sum(pg_total_relation_size(p.inhrelid)) DESC"

# each view, the median of RUNS
view() {
	name=$1 sql=$2
	for r in $(seq "$RUNS"); do
		s=$(now)
		q "$D" "$sql" > "$W/view.out" || { echo "view $name failed"; return; }
		e=$(now)
		secs "$s" "$e"
	done | sort -n > "$W/view.times"
	awk -v n="$RUNS" -v name="$name" -v got="$(head -1 "$W/view.out")" \
		'{ v[NR] = $1 } END { printf "  %-52s %8.3f s  (%s)\n", name, v[int((n + 1) / 2)], got }' \
		"$W/view.times"
}
echo "views (median of $RUNS; what the query returned):"
view "paths: every path's hops" "SELECT count(*) || ' hops, ' || count(DISTINCT path) || ' paths' FROM tlswitness.paths"
mid=$(q "$D" "SELECT message_id FROM tlswitness.messages WHERE message_id IS NOT NULL AND host = 'mx001' ORDER BY msg_key LIMIT 1")
view "path_of: one message's paths, by its Message-ID" "SELECT count(*) || ' hops' FROM tlswitness.path_of('$mid')"
view "domain_month: every domain and month" "SELECT count(*) || ' rows' FROM tlswitness.domain_month"
view "plaintext_deliveries to a domain set, one month" "SELECT count(*) || ' deliveries' FROM tlswitness.plaintext_deliveries WHERE rcpt_domain = ANY ('{plain.test,strip.test}') AND time >= '2026-11-01' AND time < '2026-12-01'"
view "enforcement_coverage" "SELECT count(*) || ' rows' FROM tlswitness.enforcement_coverage"
view "policy_map" "SELECT count(*) FILTER (WHERE level IS NOT NULL) || ' mapped of ' || count(*) FROM tlswitness.policy_map"

# the answer, not only its speed
"$TW" -q --tz UTC --year 2026 --format paths -o "$W/paths.jsonl" "$W"/hosts/*/mail.log
want=$(grep -c '"kind":"path"' "$W/paths.jsonl")
got=$(q "$D" "SELECT count(DISTINCT path) FROM tlswitness.paths")
echo "paths: --format paths over every log in one run: $want paths; the view: $got"
