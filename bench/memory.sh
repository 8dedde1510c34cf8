#!/usr/bin/env bash
# memory.sh - does a backend's memory stay flat over a long migration?
#
# One psql session runs STATEMENTS schema changes, ten per cycle on one
# table with rows: CREATE TABLE, ADD COLUMN, CREATE INDEX, COMMENT ON
# TABLE, COMMENT ON COLUMN, RENAME COLUMN, DROP INDEX, then, each approved
# with SET LOCAL migsafe.approve, DROP COLUMN (its values copied into a
# snapshot), TRUNCATE and DROP TABLE (both moved into snapshots).  Every
# PURGE_EVERY statements the session purges its snapshots, and at 1,000,
# 2,000, 5,000, 10,000, 20,000, 50,000 and 100,000 statements it reports,
# from inside the same backend, the sum of total_bytes over
# pg_backend_memory_contexts and its RssAnon (the process's private
# memory, from /proc/self/status).  The same script runs twice on one
# throwaway cluster: vanilla (no shared_preload_libraries, the approvals
# are plain placeholder settings, nothing is purged) and migsafe
# (preloaded and installed, snapshots on).  Memory that grows with the
# number of statements is a leak; see bench/README.md.
#
# Run as root.  A throwaway cluster runs as postgres in a private
# temporary directory, on a unix socket there; removed at exit.
#
# Environment:
#   STATEMENTS=100000  schema changes in the session (a multiple of 10)
#   PURGE_EVERY=1000   statements between purges of the snapshots
#   QUICK=1            10,000 statements
#   SAVE=1             also write the table to bench/results-memory.md
#   PGBIN=...          bin directory of the PostgreSQL to use (default
#                      /usr/lib/postgresql/15/bin)
#   PGPORT_BENCH=56391 port (it only names the socket file)
set -euo pipefail

nstmts=${STATEMENTS:-100000}
[[ ${QUICK:-0} == 1 ]] && nstmts=10000
purge_every=${PURGE_EVERY:-1000}
save=${SAVE:-0}
for v in nstmts purge_every; do
	if ! [[ ${!v} =~ ^[0-9]+$ ]] || ((${!v} < 10 || ${!v} % 10)); then
		echo "memory: STATEMENTS and PURGE_EVERY must be positive multiples of 10 (got '${!v}')" >&2
		exit 1
	fi
done

bench_name=memory
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_setup

bench_cluster "${PGPORT_BENCH:-56391}"

bench_initdb
echo "include = 'bench_config.conf'" >>"$data/postgresql.conf"

# script CONFIG: the session's statements, with a purge (migsafe only)
# every PURGE_EVERY statements and a report line "mem|N|bytes|kB" at
# each checkpoint
script() {
	awk -v n="$nstmts" -v purge="$purge_every" -v cfg="$1" 'BEGIN {
		q = sprintf("%c", 39)
		print "SET client_min_messages = warning;"
		print "SELECT clock_timestamp() AS t0 \\gset"
		marks["1000"]; marks["2000"]; marks["5000"]; marks["10000"]
		marks["20000"]; marks["50000"]; marks["100000"]
		for (c = 1; c <= n / 10; c++) {
			print "CREATE TABLE mt (id int PRIMARY KEY, a int, t text);"
			print "INSERT INTO mt SELECT g, g, " q "x" q " FROM generate_series(1, 10) g;"
			print "ALTER TABLE mt ADD COLUMN b int;"
			print "CREATE INDEX mt_a ON mt (a);"
			print "COMMENT ON TABLE mt IS " q "memory bench" q ";"
			print "COMMENT ON COLUMN mt.a IS " q "a" q ";"
			print "ALTER TABLE mt RENAME COLUMN b TO c;"
			print "DROP INDEX mt_a;"
			print "BEGIN; SET LOCAL migsafe.approve = " q "public.mt.t" q "; ALTER TABLE mt DROP COLUMN t; COMMIT;"
			print "BEGIN; SET LOCAL migsafe.approve = " q "public.mt" q "; TRUNCATE mt; COMMIT;"
			print "INSERT INTO mt SELECT g, g FROM generate_series(1, 10) g;"
			print "BEGIN; SET LOCAL migsafe.approve = " q "public.mt" q "; DROP TABLE mt; COMMIT;"
			if (cfg == "migsafe" && (c * 10) % purge == 0)
				print "SELECT migsafe.purge_snapshots(interval " q "0" q ") \\g /dev/null"
			if ((c * 10) "" in marks)
				print "SELECT " q "mem" q ", " c * 10 ", (SELECT sum(total_bytes) FROM pg_backend_memory_contexts), " \
					"substring(pg_read_file(" q "/proc/self/status" q ") FROM " q "RssAnon:\\s*(\\d+)" q "), " \
					"round(extract(epoch FROM clock_timestamp() - :" q "t0" q "::timestamptz));"
		}
		print "SELECT " q "contexts" q ", name, count(*), sum(total_bytes) FROM pg_backend_memory_contexts GROUP BY name ORDER BY 4 DESC LIMIT 12;"
	}'
}

results=$dir/results.tsv
: >"$results"
for cfg in vanilla migsafe; do
	if [[ $cfg == vanilla ]]; then
		echo "shared_preload_libraries = ''" >"$data/bench_config.conf"
	else
		echo "shared_preload_libraries = 'migsafe'" >"$data/bench_config.conf"
	fi
	as_pg pg_ctl -D "$data" -w -l "$log" start >/dev/null
	as_pg createdb -h "$dir" -p "$port" -U postgres "bench_$cfg"
	if [[ $cfg == migsafe ]]; then
		as_pg psql -X -q -h "$dir" -p "$port" -U postgres -d bench_migsafe -c 'CREATE EXTENSION migsafe'
		if [[ $(sha256sum "$pkglibdir/migsafe.so" | cut -c1-12) != "$so_start" ]]; then
			say "migsafe.so changed during the run"
			exit 1
		fi
	fi
	script "$cfg" >"$dir/$cfg.sql"
	chown postgres "$dir/$cfg.sql"
	say "$cfg: $nstmts statements in one session"
	start=$(date +%s)
	as_pg psql -X -At -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d "bench_$cfg" \
		-f "$dir/$cfg.sql" >"$dir/$cfg.out"
	say "$cfg: $(($(date +%s) - start)) s"
	awk -F'|' -v c="$cfg" '$1 == "mem" { print c "\t" $2 "\t" $3 "\t" $4 "\t" $5 }' "$dir/$cfg.out" >>"$results"
	awk -F'|' '$1 == "contexts" { printf "  %-28s %5d %10d\n", $2, $3, $4 }' "$dir/$cfg.out" >"$dir/$cfg.contexts"
	if [[ $cfg == migsafe ]]; then
		n=$(as_pg psql -X -At -h "$dir" -p "$port" -U postgres -d bench_migsafe \
			-c "SELECT count(*) FROM migsafe.audit_log")
		if ((n < nstmts)); then
			say "migsafe wrote $n audit rows for $nstmts statements: was it guarding?"
			exit 1
		fi
	fi
	as_pg pg_ctl -D "$data" -m fast -w stop >/dev/null
done

report() {
	echo "PostgreSQL: $(postgres --version) · $(date -u '+%Y-%m-%d %H:%M UTC') · nproc=$(nproc)" \
		"· migsafe.so sha256 $so_start · snapshots purged every $purge_every statements"
	echo
	echo "Backend memory after N schema changes in one session: the sum of"
	echo "pg_backend_memory_contexts.total_bytes, and RssAnon from /proc/self/status."
	echo
	echo "| statements | vanilla contexts | vanilla RssAnon | migsafe contexts | migsafe RssAnon | elapsed, vanilla / migsafe |"
	echo "|---:|---:|---:|---:|---:|---:|"
	awk -F'\t' '
		{ ctx[$1, $2] = $3; rss[$1, $2] = $4; sec[$1, $2] = $5; if (!($2 in seen)) { seen[$2]; order[++k] = $2 } }
		END {
			for (i = 1; i <= k; i++) {
				n = order[i]
				printf "| %d | %.0f kB | %d kB | %.0f kB | %d kB | %d / %d s |\n", n,
					ctx["vanilla", n] / 1024, rss["vanilla", n], ctx["migsafe", n] / 1024, rss["migsafe", n],
					sec["vanilla", n], sec["migsafe", n]
			}
			last = order[k]
			print ""
			for (i = 1; i < k; i++) {
				first = order[i]
				if (first != 1000 && first != 10000)
					continue
				printf "From %d to %d statements: contexts %+.1f%% (vanilla %+.1f%%), RssAnon %+.1f%% (vanilla %+.1f%%).\n",
					first, last,
					100 * (ctx["migsafe", last] / ctx["migsafe", first] - 1), 100 * (ctx["vanilla", last] / ctx["vanilla", first] - 1),
					100 * (rss["migsafe", last] / rss["migsafe", first] - 1), 100 * (rss["vanilla", last] / rss["vanilla", first] - 1)
			}
		}' "$results"
	echo
	for cfg in migsafe vanilla; do
		echo "Largest memory contexts at the end (name, count, bytes), $cfg:"
		echo
		echo '```'
		cat "$dir/$cfg.contexts"
		echo '```'
		echo
	done
}

echo
report | tee "$dir/report.md"
if [[ $save == 1 ]]; then
	cp "$dir/report.md" "$bench_dir/results-memory.md"
	say "saved to $bench_dir/results-memory.md"
fi
