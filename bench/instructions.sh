#!/usr/bin/env bash
# instructions.sh - what migsafe costs, in instructions: exact counts, not
# timings, so that a change that slows the fast path shows at once on a
# noisy shared machine.
#
# Each workload is a script of ITER repetitions of a transaction, fed to a
# single-user backend (postgres --single) under valgrind's callgrind; the
# same backend fed an empty script gives the startup and shutdown cost,
# which is subtracted.  Three configurations, on copies of the same
# data directory:
#   vanilla          no shared_preload_libraries
#   not-installed    migsafe preloaded, not installed in the database
#   migsafe          migsafe preloaded and installed
# and the result is instructions per transaction and the ratio against
# vanilla.
#
# Run as root with migsafe installed into the system PostgreSQL 15.
# Environment: ITER (default 2000 for the fast-path workloads, ITER/4 for
# schema changes), QUICK=1 (ITER=100), SAVE=1 writes
# bench/results-instructions.md, PGPORT_BENCH (54392) the template's port.
set -euo pipefail

iter=${ITER:-2000}
if [[ ${QUICK:-0} == 1 ]]; then
	iter=100
fi
ddl_iter=$((iter / 4))
((ddl_iter >= 10)) || ddl_iter=10
save=${SAVE:-0}
bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bindir=${PGBIN:-/usr/lib/postgresql/15/bin}	# PGBIN: another installation
export PATH=$bindir:$PATH

if [[ $(id -u) -ne 0 ]]; then
	echo "instructions: must run as root (the backends run as postgres)" >&2
	exit 1
fi
command -v valgrind >/dev/null || { echo "instructions: valgrind not found" >&2; exit 1; }
[[ -f $($bindir/pg_config --pkglibdir)/migsafe.so ]] ||
	{ echo "instructions: migsafe is not installed (make install)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/migsafe-bench-instr.XXXXXX)
chown postgres:postgres "$tmp"
trap 'rm -rf "$tmp"' EXIT
as_pg() { runuser -u postgres -- "$@"; }
port=${PGPORT_BENCH:-54392}

# the template: pgbench tables (scale 1), a database with migsafe and one
# without, made with a normal server, then stopped
as_pg initdb -D "$tmp/template" -A trust >/dev/null
as_pg pg_ctl -D "$tmp/template" -l "$tmp/template.log" -w \
	-o "-p $port -k $tmp -c listen_addresses='' -c shared_preload_libraries=migsafe" start >/dev/null
for db in with_migsafe without_migsafe; do
	as_pg createdb -h "$tmp" -p $port "$db"
	as_pg pgbench -q -i -s 1 -h "$tmp" -p $port "$db" >/dev/null 2>&1
done
as_pg psql -h "$tmp" -p $port -X -q -d with_migsafe -c 'CREATE EXTENSION migsafe'
as_pg pg_ctl -D "$tmp/template" -w stop >/dev/null

# workloads: one transaction per repetition, one statement per line
workload() {
	local name=$1 n=$2 i
	case $name in
	select1)
		for ((i = 0; i < n; i++)); do
			printf 'BEGIN;\nSELECT 1;\nCOMMIT;\n'
		done
		;;
	tpcb)
		for ((i = 0; i < n; i++)); do
			local aid=$((i * 37 % 100000 + 1)) tid=$((i % 10 + 1)) bid=1
			printf 'BEGIN;\n'
			printf 'UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = %d;\n' "$aid"
			printf 'SELECT abalance FROM pgbench_accounts WHERE aid = %d;\n' "$aid"
			printf 'UPDATE pgbench_tellers SET tbalance = tbalance + 1 WHERE tid = %d;\n' "$tid"
			printf 'UPDATE pgbench_branches SET bbalance = bbalance + 1 WHERE bid = %d;\n' "$bid"
			printf 'INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (%d, %d, %d, 1, now());\n' "$tid" "$bid" "$aid"
			printf 'COMMIT;\n'
		done
		;;
	ddl_create)
		for ((i = 0; i < n; i++)); do
			printf 'CREATE TABLE bench_c%d (id int);\n' "$i"
			printf 'ALTER TABLE bench_c%d ADD COLUMN note text;\n' "$i"
			printf 'CREATE INDEX ON bench_c%d (id);\n' "$i"
			printf "COMMENT ON TABLE bench_c%d IS 'bench';\n" "$i"
		done
		;;
	ddl_destroy)
		for ((i = 0; i < n; i++)); do
			printf 'CREATE TABLE bench_d%d (id int, note text);\n' "$i"
			printf 'ALTER TABLE bench_d%d DROP COLUMN note;\n' "$i"
			printf 'TRUNCATE bench_d%d;\n' "$i"
			printf 'DROP TABLE bench_d%d;\n' "$i"
		done
		;;
	esac
}

# instructions of one single-user run: config, database, script file
run() {
	local config=$1 db=$2 script=$3 out
	local data=$tmp/data-$config
	rm -rf "$data"
	cp -a "$tmp/template" "$data"
	local opts=(-c "shared_preload_libraries=")
	[[ $config != vanilla ]] && opts=(-c "shared_preload_libraries=migsafe")
	out=$tmp/cg.$config.$$.$RANDOM
	as_pg valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$bindir/postgres" --single -D "$data" "${opts[@]}" -c fsync=off "$db" \
		<"$script" >/dev/null 2>&1
	awk '/^summary:/ { print $2 }' "$out"
	rm -f "$out"
}

empty=$tmp/empty.sql
: >"$empty"
chmod 644 "$empty"
results=$tmp/results
: >"$results"
for wl in select1 tpcb ddl_create ddl_destroy; do
	n=$iter
	[[ $wl == ddl_* ]] && n=$ddl_iter
	script=$tmp/$wl.sql
	workload "$wl" "$n" >"$script"
	chmod 644 "$script"
	for config in vanilla not-installed migsafe; do
		db=without_migsafe
		[[ $config == migsafe ]] && db=with_migsafe
		base=$(run "$config" "$db" "$empty")
		total=$(run "$config" "$db" "$script")
		per=$(awk -v t="$total" -v b="$base" -v n="$n" 'BEGIN { printf "%.0f", (t - b) / n }')
		echo "$wl $config $per" >>"$results"
		echo "instructions: $wl $config: $per per transaction ($n transactions)"
	done
done

table=$(awk '
	{ v[$1, $2] = $3; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
	END {
		print "| workload | vanilla | migsafe preloaded, not installed | migsafe |"
		print "|---|---|---|---|"
		for (i = 1; i <= n; i++) {
			w = order[i]
			printf "| %s | %d | %d (%.4f) | %d (%.4f) |\n", w, v[w, "vanilla"],
				v[w, "not-installed"], v[w, "not-installed"] / v[w, "vanilla"],
				v[w, "migsafe"], v[w, "migsafe"] / v[w, "vanilla"]
		}
	}' "$results")
echo
echo "Instructions per transaction (callgrind, postgres --single, startup subtracted); ratio to vanilla in parentheses."
echo "select1: BEGIN; SELECT 1; COMMIT.  tpcb: pgbench's TPC-B-like transaction.  ddl_create: CREATE TABLE, ADD COLUMN, CREATE INDEX, COMMENT.  ddl_destroy: CREATE TABLE, DROP COLUMN, TRUNCATE, DROP TABLE (empty)."
echo
echo "$table"
if [[ $save == 1 ]]; then
	{
		echo "# Instructions per transaction"
		echo
		echo "$(date -u +%Y-%m-%d), PostgreSQL $(pg_config --version | awk '{print $2}'), $iter transactions (schema changes: $ddl_iter); \`bash bench/instructions.sh\`."
		echo
		echo "$table"
	} >"$bench_dir/results-instructions.md"
fi
