# pgcluster.sh - a throwaway PostgreSQL for the store's tests and bench
# (README "The evidence store"): a cluster made by initdb under a temporary
# directory, listening on a unix socket there only, no system service.
# PostgreSQL refuses to run as root, so as root the cluster belongs to the
# postgres user (Debian's package makes it).  Sourced; sets PG_CONNINFO.
#   pg_start DIR    make and start the cluster in DIR (empty or absent)
#   pg_stop         stop it (also on the caller's EXIT trap)
#   pg_found        is PostgreSQL's server installed? (else the caller skips)

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

pg_found() {
	[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ]
}

pg_as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_start() {
	PG_DIR=$1
	mkdir -p "$PG_DIR"
	[ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U tlswitness -A trust -E UTF8 \
		--locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 || {
		cat "$PG_DIR/initdb.log" >&2
		return 1
	}
	# the tests need no durability; PG_DURABLE=1 (the bench) keeps it
	pg_fast="-c fsync=off -c synchronous_commit=off"
	[ "${PG_DURABLE:-}" = 1 ] && pg_fast=""
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -s \
		-o "-c listen_addresses='' -k $PG_DIR $pg_fast" \
		start || {
		cat "$PG_DIR/server.log" >&2
		return 1
	}
	PG_CONNINFO="host=$PG_DIR user=tlswitness dbname=postgres"
	export PG_CONNINFO
}

pg_stop() {
	[ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ] &&
		pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -s stop 2>/dev/null
	return 0
}
