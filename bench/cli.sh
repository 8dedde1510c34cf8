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
# both over a unix socket with trust authentication (the cheapest
# connection there is) and over TCP with TLS and a SCRAM password (as CI
# reaches a staging database, less the network), and prints the medians,
# the cost of one more file, and the connection's share of the 100-file
# run.
#
# Run as root; migsafe (with migsafe-check) must be installed into the
# system PostgreSQL 15 (make install), and openssl must be on PATH.
#
# Environment:
#   ROUNDS=7   timed runs of each measurement
#   SAVE=1     also write the table to bench/results-cli.md
#   QUICK=1    ROUNDS=1
#   PGBIN=...  bin directory of the PostgreSQL to use
set -euo pipefail

rounds=${ROUNDS:-7}
save=${SAVE:-0}
[[ ${QUICK:-0} == 1 ]] && rounds=1
if ! [[ $rounds =~ ^[0-9]+$ ]] || ((rounds < 1)); then
	echo "cli: ROUNDS must be a positive integer (got '$rounds')" >&2
	exit 1
fi

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bindir=${PGBIN:-/usr/lib/postgresql/15/bin}	# PGBIN: another installation
export PATH=$bindir:$PATH

if [[ $(id -u) -ne 0 ]]; then
	echo "cli: must run as root (the cluster runs as postgres via runuser)" >&2
	exit 1
fi
if ! command -v openssl >/dev/null; then
	echo "cli: openssl not found (it makes the server's certificate)" >&2
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
say "cluster in $dir (unix socket, and 127.0.0.1 port $port)"
as_pg initdb -D "$data" --auth=trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" ||
	{ cat "$dir/initdb.log" >&2; exit 1; }
as_pg openssl req -new -x509 -days 1 -nodes -subj /CN=localhost \
	-keyout "$data/server.key" -out "$data/server.crt" >"$dir/openssl.log" 2>&1 ||
	{ cat "$dir/openssl.log" >&2; exit 1; }
chmod 600 "$data/server.key"
cat >>"$data/postgresql.conf" <<CONF

# ---- migsafe bench/cli.sh
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = 'migsafe'
fsync = off
ssl = on
password_encryption = 'scram-sha-256'
CONF
# over TCP, only TLS with a SCRAM password, as a CI job would connect
{
	echo "local all all trust"
	echo "hostssl all all 127.0.0.1/32 scram-sha-256"
} >"$data/pg_hba.conf"
as_pg pg_ctl -D "$data" -w -l "$log" start >/dev/null
as_pg createdb -h "$dir" -p "$port" -U postgres bench
sql 'CREATE EXTENSION migsafe'
sql "CREATE ROLE bench_ci LOGIN SUPERUSER PASSWORD 'bench'"
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

# check socket|tls ARGS...: run migsafe-check as postgres over a unix
# socket, or over TCP with TLS and a password; prints its wall time in µs
# (timed as postgres, so that runuser's own start is not counted)
check() {
	local how=$1 conn
	shift
	if [[ $how == socket ]]; then
		conn=(PGHOST="$dir" PGUSER=postgres)
	else
		conn=(PGHOST=127.0.0.1 PGUSER=bench_ci PGPASSWORD=bench PGSSLMODE=require)
	fi
	as_pg env "${conn[@]}" PGPORT="$port" PGDATABASE=bench \
		bash -c 'start=$(date +%s%N)
			migsafe-check --fail-on=none --format=json "$@" >"'"$dir"'/out.json" || exit
			end=$(date +%s%N)
			echo $(((end - start) / 1000))' check "$@"
}

# Once, untimed: warm the caches, see that TCP means TLS and a SCRAM
# password, and that the checks find something.
tls=$(as_pg env PGHOST=127.0.0.1 PGPORT="$port" PGUSER=bench_ci PGPASSWORD=bench PGSSLMODE=require \
	psql -X -At -d bench -c "SELECT s.ssl, a.rolpassword LIKE 'SCRAM-SHA-256\$%'
		FROM pg_stat_ssl s, pg_authid a
		WHERE s.pid = pg_backend_pid() AND a.rolname = current_user")
if [[ $tls != 't|t' ]]; then
	say "the TCP connection does not use TLS and a SCRAM password ($tls)"
	exit 1
fi
check tls "$dir/empty.sql" >/dev/null
check tls "$files"/V*.sql >/dev/null
check socket "$dir/empty.sql" >/dev/null
check socket "$files"/V*.sql >/dev/null
nfindings=$(grep -c '"rule"' "$dir/out.json" || true)
if ((nfindings < 100)); then
	say "only $nfindings findings on 100 files, expected at least one per file"
	exit 1
fi

declare -A runs
for r in $(seq 1 "$rounds"); do
	for how in socket tls; do
		runs[$how-connect]+=" $(check "$how" "$dir/empty.sql")"
		runs[$how-hundred]+=" $(check "$how" "$files"/V*.sql)"
	done
	say "round $r:$(for k in socket-connect socket-hundred tls-connect tls-hundred; do
		echo -n " $k ${runs[$k]##* } µs,"
	done)"
done

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
spread() { printf '%s\n' "$@" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.1f-%.1f ms", lo / 1000, hi / 1000 }'; }
ms() { awk -v x="$1" 'BEGIN { printf "%.1f ms", x / 1000 }'; }

# rows HOW LABEL: the table's rows for one kind of connection
rows() {
	local c h
	# shellcheck disable=SC2086 # the runs are space-separated numbers
	c=$(median ${runs[$1-connect]})
	# shellcheck disable=SC2086
	h=$(median ${runs[$1-hundred]})
	# shellcheck disable=SC2086
	echo "| $2: connect, check an empty file, exit | $(ms "$c") | $(spread ${runs[$1-connect]}) |"
	# shellcheck disable=SC2086
	echo "| $2: 100 files (500 statements, $nfindings findings) on one connection | $(ms "$h") | $(spread ${runs[$1-hundred]}) |"
	awk -v x="$h" -v y="$c" -v how="$2" 'BEGIN {
		printf "| %s: one more file | %.2f ms | |\n", how, (x - y) / 99 / 1000
		printf "| %s: the connection'"'"'s share of the 100-file run | %.0f%% | |\n", how, 100 * y / x
	}'
}

table=$(
	echo "| measurement | median | range over $rounds rounds |"
	echo "|---|---:|---|"
	rows socket "unix socket, trust"
	rows tls "TCP, TLS, SCRAM password"
)

echo
echo "migsafe-check on 100 files, PostgreSQL $(pg_config --version | awk '{print $2}'), $(nproc) cores"
echo
echo "$table"
if [[ $save == 1 ]]; then
	{
		echo "# bench/cli.sh results"
		echo
		echo "$(date -u +%Y-%m-%d), PostgreSQL $(pg_config --version | awk '{print $2}'), $(nproc) cores, ROUNDS=$rounds; TCP over 127.0.0.1 (no network latency)."
		echo
		echo "$table"
	} >"$bench_dir/results-cli.md"
	say "wrote $bench_dir/results-cli.md"
fi
