#!/usr/bin/env bash
# cli.sh - migsafe-check on a hundred migration files: where the time goes.
#
# Issue 11 asks that checking 100 files be dominated by the connection,
# not by the checks.  On a throwaway cluster (as postgres, a unix socket in
# a private temporary directory, stopped and removed at exit) with a
# database of a few tables holding rows, this times, ROUNDS times each,
# interleaved:
#
#   connect    migsafe-check on one empty file: start, connect, one
#              migsafe.check() of nothing, disconnect, exit
#   100 files  migsafe-check on 100 typical migration files (5 statements
#              each: BEGIN, ADD COLUMN, CREATE INDEX, a rename or a DROP
#              COLUMN, COMMIT) on one connection
#
# and prints the medians, the cost of one more file, and the connection's
# share of the 100-file run.  A unix socket is the cheapest connection
# there is; over TCP with TLS and a password the connection weighs more.
#
# Run as root; migsafe (with migsafe-check) must be installed into the
# system PostgreSQL 15 (make install).
#
# Environment:
#   ROUNDS=7   timed runs of each measurement
#   SAVE=1     also write the table to bench/results-cli.md
set -euo pipefail

rounds=${ROUNDS:-7}
save=${SAVE:-0}
if ! [[ $rounds =~ ^[0-9]+$ ]] || ((rounds < 1)); then
	echo "cli: ROUNDS must be a positive integer (got '$rounds')" >&2
	exit 1
fi

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PATH=/usr/lib/postgresql/15/bin:$PATH

if [[ $(id -u) -ne 0 ]]; then
	echo "cli: must run as root (the cluster runs as postgres via runuser)" >&2
	exit 1
fi
if ! command -v migsafe-check >/dev/null; then
	echo "cli: migsafe-check not found in $(pg_config --bindir); run make install first" >&2
	exit 1
fi

port=${PGPORT_BENCH:-54392}
dir=$(mktemp -d /tmp/migsafe-bench-cli.XXXXXX)
chown postgres:postgres "$dir"
chmod 755 "$dir"
data=$dir/data
log=$dir/server.log
files=$dir/migrations
mkdir "$files"

as_pg() { (cd "$dir" && runuser -u postgres -- env PATH="$PATH" HOME="$dir" "$@"); }
sql() {
	as_pg env PGOPTIONS='-c client_min_messages=warning' \
		psql -X -q -At -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d bench -c "$1"
}

cleanup() {
	local rc=$?
	if [[ -f $data/postmaster.pid ]]; then
		as_pg pg_ctl -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	if ((rc != 0)) && [[ -f $log ]]; then
		echo "cli: failed; last lines of the server log:" >&2
		tail -n 20 "$log" >&2 || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { echo "cli: $*" >&2; }

# ---------------------------------------------------------------- cluster
say "cluster in $dir (socket only, port $port)"
as_pg initdb -D "$data" --auth=trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" ||
	{ cat "$dir/initdb.log" >&2; exit 1; }
cat >>"$data/postgresql.conf" <<CONF

# ---- migsafe bench/cli.sh
port = $port
listen_addresses = ''
unix_socket_directories = '$dir'
shared_preload_libraries = 'migsafe'
fsync = off
CONF
as_pg pg_ctl -D "$data" -w -l "$log" start >/dev/null
as_pg createdb -h "$dir" -p "$port" -U postgres bench
sql 'CREATE EXTENSION migsafe'
for t in 1 2 3 4 5; do
	sql "CREATE TABLE orders_$t (id bigserial PRIMARY KEY, customer_id int, total numeric, note text);
		INSERT INTO orders_$t (customer_id, total, note)
			SELECT g % 1000, g * 1.5, 'order ' || g FROM generate_series(1, 20000) g;
		ANALYZE orders_$t"
done

# ------------------------------------------------------------------ files
: >"$dir/empty.sql"
for i in $(seq 1 100); do
	t=$((i % 5 + 1))
	{
		echo "-- migration $i"
		echo "BEGIN;"
		echo "ALTER TABLE orders_$t ADD COLUMN c$i int;"
		echo "CREATE INDEX orders_${t}_c${i}_idx ON orders_$t (customer_id);"
		if ((i % 2)); then
			echo "ALTER TABLE orders_$t RENAME COLUMN note TO note_$i;"
		else
			echo "ALTER TABLE orders_$t DROP COLUMN note;"
		fi
		echo "COMMIT;"
	} >"$(printf '%s/V%03d__step.sql' "$files" "$i")"
done
chown -R postgres:postgres "$dir/empty.sql" "$files"

# check ARGS...: run migsafe-check as postgres; prints its wall time in µs
# (timed as postgres, so that runuser's own start is not counted)
check() {
	as_pg env PGHOST="$dir" PGPORT="$port" PGUSER=postgres PGDATABASE=bench \
		bash -c 'start=$(date +%s%N)
			migsafe-check --fail-on=none --format=json "$@" >"'"$dir"'/out.json" || exit
			end=$(date +%s%N)
			echo $(((end - start) / 1000))' check "$@"
}

# Once, untimed: warm the caches, and see that the checks find something.
check "$dir/empty.sql" >/dev/null
check "$files"/V*.sql >/dev/null
nfindings=$(grep -c '"rule"' "$dir/out.json" || true)
if ((nfindings < 100)); then
	say "only $nfindings findings on 100 files, expected at least one per file"
	exit 1
fi

connect=()
hundred=()
for r in $(seq 1 "$rounds"); do
	connect+=("$(check "$dir/empty.sql")")
	hundred+=("$(check "$files"/V*.sql)")
	say "round $r: connect ${connect[-1]} µs, 100 files ${hundred[-1]} µs"
done

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
spread() { printf '%s\n' "$@" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.1f-%.1f ms", lo / 1000, hi / 1000 }'; }

c=$(median "${connect[@]}")
h=$(median "${hundred[@]}")
table=$(
	cat <<EOF
| measurement | median | range over $rounds rounds |
|---|---:|---|
| connect, check an empty file, exit | $(awk -v x="$c" 'BEGIN { printf "%.1f ms", x / 1000 }') | $(spread "${connect[@]}") |
| 100 files (500 statements, $nfindings findings) on one connection | $(awk -v x="$h" 'BEGIN { printf "%.1f ms", x / 1000 }') | $(spread "${hundred[@]}") |
| one more file | $(awk -v x="$h" -v y="$c" 'BEGIN { printf "%.2f ms", (x - y) / 99 / 1000 }') | |
| the connection's share of the 100-file run | $(awk -v x="$h" -v y="$c" 'BEGIN { printf "%.0f%%", 100 * y / x }') | |
EOF
)

echo
echo "migsafe-check on 100 files, PostgreSQL $(pg_config --version | awk '{print $2}'), unix socket, $(nproc) cores"
echo
echo "$table"
if [[ $save == 1 ]]; then
	{
		echo "# bench/cli.sh results"
		echo
		echo "$(date -u +%Y-%m-%d), PostgreSQL $(pg_config --version | awk '{print $2}'), unix socket, $(nproc) cores, ROUNDS=$rounds."
		echo
		echo "$table"
	} >"$bench_dir/results-cli.md"
	say "wrote $bench_dir/results-cli.md"
fi
