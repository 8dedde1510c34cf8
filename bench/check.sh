#!/usr/bin/env bash
# check.sh - how fast migsafe.check() reads a script: a 10,000-statement
# migration (ADD COLUMN, CREATE INDEX, COMMENT, ALTER COLUMN TYPE, DROP
# COLUMN, RENAME ... on a table with rows, so that every statement looks
# something up in the catalog), checked ROUNDS times; prints the median
# time and statements per second.  The target (issue 11) is at least
# 10,000 statements a second.  No judgement is made: this is a
# measurement, not a test.
#
# Run as root with migsafe installed into the system PostgreSQL 15.  A
# throwaway cluster runs as postgres in a private temporary directory on
# a unix socket, removed at exit.
#
# Environment: ROUNDS=5, STATEMENTS=10000; QUICK=1 for 1 round of 1,000;
# PGBIN (bin directory of the PostgreSQL to use), PGPORT_BENCH (54391).
set -euo pipefail

rounds=${ROUNDS:-5}
nstmts=${STATEMENTS:-10000}
if [[ ${QUICK:-0} == 1 ]]; then
	rounds=1
	nstmts=1000
fi
bindir=${PGBIN:-/usr/lib/postgresql/15/bin}	# PGBIN: another installation
export PATH=$bindir:$PATH
if [[ $(id -u) -ne 0 ]]; then
	echo "check: must run as root (the cluster runs as postgres via runuser)" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/migsafe-bench-check.XXXXXX)
chown postgres:postgres "$tmp"
port=${PGPORT_BENCH:-54391}
cleanup() {
	runuser -u postgres -- env PATH="$PATH" pg_ctl -D "$tmp/data" stop -m immediate >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
runuser -u postgres -- env PATH="$PATH" initdb -D "$tmp/data" -A trust >/dev/null
runuser -u postgres -- env PATH="$PATH" pg_ctl -D "$tmp/data" -l "$tmp/log" -w \
	-o "-p $port -k $tmp -c listen_addresses='' -c shared_preload_libraries=migsafe" start >/dev/null
psql_() { runuser -u postgres -- env PATH="$PATH" psql -h "$tmp" -p $port -X -q -v ON_ERROR_STOP=1 "$@"; }

psql_ <<SQL
CREATE EXTENSION migsafe;
CREATE TABLE orders (id serial PRIMARY KEY, note text, code varchar(10));
INSERT INTO orders (note, code) SELECT 'n' || g, 'c' || g FROM generate_series(1, 100000) g;
ANALYZE orders;
CREATE TABLE script AS
SELECT string_agg(format(\$f\$ALTER TABLE orders ADD COLUMN c%1\$s int;
CREATE INDEX ON orders (c%1\$s);
COMMENT ON COLUMN orders.c%1\$s IS 'column %1\$s';
ALTER TABLE orders ALTER COLUMN c%1\$s TYPE bigint;
ALTER TABLE orders RENAME COLUMN c%1\$s TO d%1\$s;
ALTER TABLE orders DROP COLUMN note;
ALTER TABLE orders ALTER COLUMN code SET NOT NULL;
SET lock_timeout = '3s';
CREATE TABLE IF NOT EXISTS t%1\$s (id int);
TRUNCATE orders;\$f\$, g), E'\n') AS sql
  FROM generate_series(1, $nstmts / 10) g;
SQL

times=()
for ((r = 1; r <= rounds; r++)); do
	ms=$(psql_ -At <<'SQL' | tail -n 1
SELECT round(extract(epoch FROM clock_timestamp() - t0) * 1000, 1)
  FROM (SELECT clock_timestamp() AS t0) s,
	   LATERAL (SELECT count(*) FROM script, migsafe.check(script.sql)) c;
SQL
)
	times+=("$ms")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
rate=$(awk -v n="$nstmts" -v ms="$median" 'BEGIN {printf "%.0f", n / (ms / 1000)}')
echo "check: $nstmts statements, $rounds rounds, median ${median} ms: $rate statements/s (target: 10000)"
