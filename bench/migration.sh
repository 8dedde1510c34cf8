#!/usr/bin/env bash
# migration.sh - a 10,000-statement migration run through psql, on vanilla
# PostgreSQL, with pgaudit (pgaudit.log = 'ddl') and with migsafe
# (installed, snapshots on), configurations alternated over ROUNDS rounds;
# prints the median wall-clock time of each and the ratios against
# vanilla and against pgaudit.
#
# Two migrations (MIX), each of STATEMENTS schema changes, ten per cycle:
#   schema       what most migrations are, and issue 10's figure: on a new
#                table of 10 rows per cycle, CREATE TABLE, ADD COLUMN,
#                CREATE INDEX, COMMENT ON TABLE, COMMENT ON COLUMN, RENAME
#                COLUMN, CREATE VIEW, SET DEFAULT, ADD CONSTRAINT CHECK,
#                CREATE SEQUENCE; nothing destructive, no approval (every
#                statement is audited)
#   destructive  on one table of 10 rows: CREATE TABLE, ADD COLUMN,
#                CREATE INDEX, COMMENT ON TABLE, COMMENT ON COLUMN, RENAME
#                COLUMN, DROP INDEX, and, each in its own transaction with
#                SET LOCAL migsafe.approve (a mere placeholder setting where
#                migsafe is not loaded), DROP COLUMN, TRUNCATE and DROP
#                TABLE of the table holding rows; two INSERTs per cycle
#                fill it.  With migsafe every cycle keeps three snapshots.
# Each runs with psql -f in a fresh database, in autocommit, as a migration
# tool's "psql -f migration.sql" would; the time includes psql's start and
# connection.
#
# Run as root; migsafe and pgaudit must be installed in the PostgreSQL
# used.  A throwaway cluster runs as postgres in a private temporary
# directory, on a unix socket there; removed at exit.
#
# Environment:
#   STATEMENTS=10000   schema changes (a multiple of 10)
#   MIX="schema destructive"  the migrations to run
#   ROUNDS=5           rounds; a cell is the median
#   QUICK=1            1,000 statements, one round
#   SAVE=1             also write the table to bench/results-migration.md
#   PGBIN=...          bin directory of the PostgreSQL to use
#   PGPORT_BENCH=56393 port (it only names the socket file)
set -euo pipefail

nstmts=${STATEMENTS:-10000}
rounds=${ROUNDS:-5}
if [[ ${QUICK:-0} == 1 ]]; then
	nstmts=1000
	rounds=1
fi
save=${SAVE:-0}
if ! [[ $nstmts =~ ^[0-9]+$ && $rounds =~ ^[0-9]+$ ]] || ((nstmts < 10 || nstmts % 10 || rounds < 1)); then
	echo "migration: STATEMENTS must be a positive multiple of 10, ROUNDS positive" >&2
	exit 1
fi

bench_name=migration
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_setup
if [[ ! -f $pkglibdir/pgaudit.so ]]; then
	echo "migration: $pkglibdir/pgaudit.so not found (postgresql-15-pgaudit)" >&2
	exit 1
fi

bench_cluster "${PGPORT_BENCH:-56393}"

bench_initdb
echo "include = 'bench_config.conf'" >>"$data/postgresql.conf"

configs=(vanilla pgaudit migsafe)
write_config() {
	case $1 in
	vanilla) echo "shared_preload_libraries = ''" ;;
	migsafe) echo "shared_preload_libraries = 'migsafe'" ;;
	pgaudit)
		echo "shared_preload_libraries = 'pgaudit'"
		echo "pgaudit.log = 'ddl'"
		echo "pgaudit.log_level = 'log'"
		;;
	esac >"$data/bench_config.conf"
	chown postgres:postgres "$data/bench_config.conf"
}

mixes=(${MIX:-schema destructive})
for mix in "${mixes[@]}"; do
	[[ $mix == schema || $mix == destructive ]] ||
		{ echo "migration: MIX takes schema and destructive, not $mix" >&2; exit 1; }
done
awk -v n="$nstmts" 'BEGIN {
	q = sprintf("%c", 39)
	print "SET client_min_messages = warning;"
	for (c = 1; c <= n / 10; c++) {
		t = "mt_" c
		print "CREATE TABLE " t " (id int PRIMARY KEY, a int, t text);"
		print "INSERT INTO " t " SELECT g, g, " q "x" q " FROM generate_series(1, 10) g;"
		print "ALTER TABLE " t " ADD COLUMN b int;"
		print "CREATE INDEX " t "_a ON " t " (a);"
		print "COMMENT ON TABLE " t " IS " q "migration bench" q ";"
		print "COMMENT ON COLUMN " t ".a IS " q "a" q ";"
		print "ALTER TABLE " t " RENAME COLUMN b TO c;"
		print "CREATE VIEW " t "_v AS SELECT id, a FROM " t ";"
		print "ALTER TABLE " t " ALTER COLUMN t SET DEFAULT " q "y" q ";"
		print "ALTER TABLE " t " ADD CONSTRAINT " t "_a_check CHECK (a > 0);"
		print "CREATE SEQUENCE " t "_s;"
	}
}' >"$dir/schema.sql"
awk -v n="$nstmts" 'BEGIN {
	q = sprintf("%c", 39)
	print "SET client_min_messages = warning;"
	for (c = 1; c <= n / 10; c++) {
		print "CREATE TABLE mt (id int PRIMARY KEY, a int, t text);"
		print "INSERT INTO mt SELECT g, g, " q "x" q " FROM generate_series(1, 10) g;"
		print "ALTER TABLE mt ADD COLUMN b int;"
		print "CREATE INDEX mt_a ON mt (a);"
		print "COMMENT ON TABLE mt IS " q "migration bench" q ";"
		print "COMMENT ON COLUMN mt.a IS " q "a" q ";"
		print "ALTER TABLE mt RENAME COLUMN b TO c;"
		print "DROP INDEX mt_a;"
		print "BEGIN; SET LOCAL migsafe.approve = " q "public.mt.t" q "; ALTER TABLE mt DROP COLUMN t; COMMIT;"
		print "BEGIN; SET LOCAL migsafe.approve = " q "public.mt" q "; TRUNCATE mt; COMMIT;"
		print "INSERT INTO mt SELECT g, g FROM generate_series(1, 10) g;"
		print "BEGIN; SET LOCAL migsafe.approve = " q "public.mt" q "; DROP TABLE mt; COMMIT;"
	}
}' >"$dir/destructive.sql"
chown postgres "$dir/schema.sql" "$dir/destructive.sql"

results=$dir/results.tsv
: >"$results"
for ((r = 1; r <= rounds; r++)); do
	line="round $r/$rounds:"
	for mix in "${mixes[@]}"; do
	for ((k = 0; k < ${#configs[@]}; k++)); do
		cfg=${configs[$(((r - 1 + k) % ${#configs[@]}))]}
		write_config "$cfg"
		if [[ -f $data/postmaster.pid ]]; then
			as_pg pg_ctl -D "$data" -m fast -w -l "$log" restart >/dev/null
		else
			as_pg pg_ctl -D "$data" -w -l "$log" start >/dev/null
		fi
		sql postgres 'DROP DATABASE IF EXISTS mig'
		sql postgres 'CREATE DATABASE mig'
		if [[ $cfg == migsafe ]]; then
			sql mig 'CREATE EXTENSION migsafe'
			if [[ $(sha256sum "$pkglibdir/migsafe.so" | cut -c1-12) != "$so_start" ]]; then
				say "migsafe.so changed during the run"
				exit 1
			fi
		fi
		sql mig CHECKPOINT
		audit_before=$(grep -c 'AUDIT: SESSION' "$log" || true)
		t0=$(date +%s%N)
		as_pg psql -X -q -At -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d mig \
			-f "$dir/$mix.sql" >/dev/null
		ms=$((($(date +%s%N) - t0) / 1000000))
		printf '%s\t%s\t%s\n' "$r" "$mix/$cfg" "$ms" >>"$results"
		line+=" $mix/$cfg=${ms}ms"
		# the configuration really did its work
		case $mix/$cfg in
		schema/migsafe)
			n=$(sql mig "SELECT count(*) FROM migsafe.audit_log")
			if ((n < nstmts)); then
				say "migsafe wrote $n audit rows, fewer than $nstmts"
				exit 1
			fi
			;;
		destructive/migsafe)
			n=$(sql mig "SELECT count(*) FROM migsafe.snapshots")
			if ((n != nstmts / 10 * 3)); then
				say "migsafe kept $n snapshots, not $((nstmts / 10 * 3))"
				exit 1
			fi
			;;
		schema/pgaudit)
			if (($(grep -c 'AUDIT: SESSION' "$log") - audit_before < nstmts)); then
				say "pgaudit wrote fewer than $nstmts audit records"
				exit 1
			fi
			;;
		destructive/pgaudit)
			# one record per schema change but TRUNCATE (class WRITE)
			if (($(grep -c 'AUDIT: SESSION' "$log") - audit_before < nstmts / 10 * 9)); then
				say "pgaudit wrote fewer than $((nstmts / 10 * 9)) audit records"
				exit 1
			fi
			;;
		esac
	done
	done
	say "$line"
done
as_pg pg_ctl -D "$data" -m fast -w stop >/dev/null

summary=$(awk -F'\t' "$bench_awk_lib"'
	{ v[$2] = v[$2] " " $3 }
	END {
		for (key in v) {
			n = split(v[key], a, " ")
			sort_nums(a, n)
			med = median(a, n)
			printf "%s\t%.1f\t%.3f\n", key, med, (a[n] - a[1]) / med
		}
	}' "$results")
med() { awk -F'\t' -v c="$1" '$1 == c { print $2 }' <<<"$summary"; }
spr() { awk -F'\t' -v c="$1" '$1 == c { printf "%.0f%%", 100 * $3 }' <<<"$summary"; }
ratio() { awk -v a="$(med "$1")" -v b="$(med "$2")" 'BEGIN { printf "%.2f", a / b }'; }

report() {
	echo "PostgreSQL: $(postgres --version) · $(date -u '+%Y-%m-%d %H:%M UTC') · nproc=$(nproc)" \
		"· ROUNDS=$rounds · migsafe.so sha256 $so_start · fsync off, synchronous_commit off"
	echo
	echo "psql -f of a $nstmts-statement migration, median wall-clock time over the rounds:"
	echo "schema: schema changes only (CREATE TABLE, ADD COLUMN, CREATE INDEX, COMMENT,"
	echo "RENAME, CREATE VIEW, ...; plus $((nstmts / 10)) INSERTs); destructive: 7 schema changes"
	echo "and 3 approved destructive ones per 10 (DROP COLUMN, TRUNCATE, DROP TABLE of a"
	echo "table with rows: $((nstmts / 10 * 3)) snapshots with migsafe; plus $((nstmts / 5)) INSERTs)."
	echo
	echo "| migration | configuration | time | per statement | vs vanilla | vs pgaudit | spread |"
	echo "|---|---|---:|---:|---:|---:|---:|"
	for mix in "${mixes[@]}"; do
		for cfg in "${configs[@]}"; do
			echo "| $mix | $cfg | $(awk -v x="$(med "$mix/$cfg")" 'BEGIN { printf "%.2f s", x / 1000 }')" \
				"| $(awk -v x="$(med "$mix/$cfg")" -v n="$nstmts" 'BEGIN { printf "%.2f ms", x / n }')" \
				"| $(ratio "$mix/$cfg" "$mix/vanilla") | $(ratio "$mix/$cfg" "$mix/pgaudit") | $(spr "$mix/$cfg") |"
		done
	done
}

echo
report | tee "$dir/report.md"
if [[ $save == 1 ]]; then
	cp "$dir/report.md" "$bench_dir/results-migration.md"
	say "saved to $bench_dir/results-migration.md"
fi
