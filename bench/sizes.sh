#!/usr/bin/env bash
# sizes.sh - what every whole-table path costs as the table grows: plain
# PostgreSQL against migsafe (approved, snapshot on), side by side in the
# same run, at each of SIZES, and a plot of time against size.
#
# One throwaway cluster (migsafe preloaded) with two databases:
# bench_vanilla, without CREATE EXTENSION migsafe (PostgreSQL's own
# statement; migsafe's hooks take their fast path), and bench_migsafe,
# with it, where every statement runs approved in its own transaction
# (SET LOCAL migsafe.approve = '*') and keeps its snapshot.  Tables are
# (id int, v text, n numeric, at timestamptz), about 85 bytes a row, made
# from a source table with CREATE TABLE AS, then VACUUMed.  Paths:
#
#   drop              DROP TABLE t
#   drop_cascade      DROP TABLE t CASCADE, a view on t
#   drop_schema       DROP SCHEMA s CASCADE, t in s
#   truncate          TRUNCATE t
#   truncate_cascade  TRUNCATE t CASCADE, t has a primary key and an empty
#                     table refers to it
#   truncate_typed    TRUNCATE t, t with two more columns, of an enum and
#                     of a domain (kept with their types: see
#                     src/keptypes.c)
#   truncate_composite  TRUNCATE t, t with one more column, of a composite
#                     type (kept with its type)
#   drop_schema_enum  DROP SCHEMA s CASCADE, t in s with one more column,
#                     of an enum of s (kept as the labels' OIDs)
#   partitioned       DROP TABLE t, t partitioned by range into 4 partitions
#   drop_column       approved ALTER TABLE t DROP COLUMN v (key and column
#                     copied) against CREATE TABLE c AS SELECT id, v FROM t
#                     in bench_vanilla
#   restore           migsafe.restore() of the TRUNCATE's snapshot against
#                     INSERT INTO t SELECT * FROM source into the truncated
#                     table in bench_vanilla
#
# Each path is measured ROUNDS times at one size in both databases, the
# side that goes first alternating from round to round (one path at a
# time, so that the disk holds only the source table and one object per
# database); a CHECKPOINT precedes every measured statement.  Time is the sum of psql's \timing over BEGIN
# ... COMMIT.  The report gives each snapshot's method (moved, copied,
# definition) as found; row counts are checked; then the snapshot is
# purged or restored (not measured) and the table made again.
#
# Run as root.  Environment:
#   SIZES="1 100 1024"  table sizes in MB (heap)
#   ROUNDS=5            rounds; a cell is the median
#   QUICK=1             SIZES="1 10" ROUNDS=1
#   PATHS="drop ..."    only these paths (and their groups: truncate
#                       brings restore); default every path
#   SAVE=1              write bench/results-sizes.md, bench/results-sizes.tsv
#                       and bench/snapshot-sizes.png
#   PGBIN=...           bin directory of the PostgreSQL to use
#   PGPORT_BENCH=56392  port (it only names the socket file)
set -euo pipefail

sizes=${SIZES:-1 100 1024}
rounds=${ROUNDS:-5}
if [[ ${QUICK:-0} == 1 ]]; then
	sizes="1 10"
	rounds=1
fi
save=${SAVE:-0}
for s in $sizes $rounds; do
	if ! [[ $s =~ ^[0-9]+$ ]] || ((s < 1)); then
		echo "sizes: SIZES and ROUNDS must be positive integers (got '$s')" >&2
		exit 1
	fi
done

bench_name=sizes
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_setup
if ! command -v gnuplot >/dev/null; then
	echo "sizes: installing gnuplot-nox for the plot" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null
fi

bench_cluster "${PGPORT_BENCH:-56392}"

# timed DB 'script': the sum of the script's statement times in ms
timed() {
	local out
	if ! out=$(printf '\\timing on\n%s\n' "$2" | as_pg env PGOPTIONS='-c client_min_messages=warning' \
		psql -X -q -At -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d "$1" -f - 2>&1); then
		say "failed in $1:"
		echo "$out" >&2
		exit 1
	fi
	awk '/^Time: / { ms += $2 } END { printf "%.3f\n", ms }' <<<"$out"
}

# ---------------------------------------------------------------- cluster
say "cluster in $dir (socket only, port $port)"
bench_initdb
# as bench/snapshots.sh: fsync off (a commit that drops files waits for a
# WAL flush, mostly noise on a shared disk), checkpoints only when asked
cat >>"$data/postgresql.conf" <<CONF
shared_preload_libraries = 'migsafe'
wal_level = replica
shared_buffers = 1GB
maintenance_work_mem = 512MB
max_wal_size = 4GB
checkpoint_timeout = 1h
autovacuum = off
migsafe.snapshot_max_copy_size = 0
CONF
as_pg pg_ctl -D "$data" -w -l "$log" start >/dev/null
V=bench_vanilla
M=bench_migsafe
as_pg createdb -h "$dir" -p "$port" -U postgres $V
as_pg createdb -h "$dir" -p "$port" -U postgres $M
sql $M 'CREATE EXTENSION migsafe'
for db in $V $M; do
	sql $db "CREATE TYPE bench_state AS ENUM ('new', 'paid', 'sent')" -c 'CREATE DOMAIN bench_cents AS bigint CHECK (VALUE >= 0)' \
		-c 'CREATE TYPE bench_pair AS (a int, b text)'
done

# the guard must be on in M and off in V
for db in $V $M; do
	sql $db 'CREATE TABLE probe (id int); INSERT INTO probe VALUES (1)'
done
sql $V 'DROP TABLE probe'
if sql $M 'DROP TABLE probe' >/dev/null 2>&1; then
	say "migsafe did not block DROP TABLE of a non-empty table"
	exit 1
fi
sql $M "SET migsafe.snapshot = off" -c "SET migsafe.approve = 'public.probe'" -c 'DROP TABLE probe'

# in the report's order
paths=(drop drop_cascade drop_schema drop_schema_enum truncate restore truncate_cascade truncate_typed
	truncate_composite partitioned drop_column)
groups=(drop drop_cascade drop_schema drop_schema_enum "truncate restore" truncate_cascade truncate_typed
	truncate_composite partitioned drop_column)
if [[ -n ${PATHS:-} ]]; then
	chosen=()
	for group in "${groups[@]}"; do
		for p in $PATHS; do
			[[ " $group " == *" $p "* ]] && chosen+=("$group") && break
		done
	done
	groups=("${chosen[@]}")
	read -r -a paths <<<"${groups[*]}"
	((${#paths[@]} > 0)) || { say "PATHS names no path"; exit 1; }
fi

# make DB PATH: the object PATH works on, from the source table
make_obj() {
	local db=$1 p=$2
	case $p in
	drop | truncate | drop_column)
		sql "$db" "CREATE TABLE t_$p AS SELECT * FROM src" -c "VACUUM t_$p"
		;;
	drop_cascade)
		sql "$db" "CREATE TABLE t_$p AS SELECT * FROM src" -c "CREATE VIEW v_$p AS SELECT id FROM t_$p" \
			-c "VACUUM t_$p"
		;;
	drop_schema)
		sql "$db" "CREATE SCHEMA s_$p" -c "CREATE TABLE s_$p.t AS SELECT * FROM src" -c "VACUUM s_$p.t"
		;;
	drop_schema_enum)
		sql "$db" "CREATE SCHEMA s_$p" -c "CREATE TYPE s_$p.st AS ENUM ('new', 'paid', 'sent')" \
			-c "CREATE TABLE s_$p.t AS SELECT *, (ARRAY['new', 'paid', 'sent'])[id % 3 + 1]::s_$p.st AS st FROM src" \
			-c "VACUUM s_$p.t"
		;;
	truncate_composite)
		sql "$db" "CREATE TABLE t_$p AS SELECT *, ROW(id, v)::bench_pair AS pr FROM src" -c "VACUUM t_$p"
		;;
	truncate_typed)
		sql "$db" "CREATE TABLE t_$p AS SELECT *, (ARRAY['new', 'paid', 'sent'])[id % 3 + 1]::bench_state AS st,
		             (id % 1000)::bench_cents AS c FROM src" -c "VACUUM t_$p"
		;;
	truncate_cascade)
		sql "$db" "CREATE TABLE t_$p AS SELECT * FROM src" -c "ALTER TABLE t_$p ADD PRIMARY KEY (id)" \
			-c "CREATE TABLE t_${p}_ref (id int REFERENCES t_$p)" -c "VACUUM t_$p"
		;;
	partitioned)
		local parts=() i q=$((rows / 4 + 1))
		for i in 1 2 3 4; do
			parts+=(-c "CREATE TABLE t_${p}_$i PARTITION OF t_$p
			              FOR VALUES FROM ($((1 + (i - 1) * q))) TO ($((1 + i * q)))")
		done
		sql "$db" "CREATE TABLE t_$p (LIKE src) PARTITION BY RANGE (id)" "${parts[@]}" \
			-c "INSERT INTO t_$p SELECT * FROM src" -c "VACUUM t_$p"
		;;
	esac
}

# drop_obj DB PATH: remove what is left of PATH's objects (not measured)
drop_obj() {
	sql "$1" "SET migsafe.approve = '*'" -c 'SET migsafe.snapshot = off' \
		-c "DROP TABLE IF EXISTS t_$2, t_${2}_ref, c_$2 CASCADE" -c "DROP SCHEMA IF EXISTS s_$2 CASCADE"
}

# statement PATH: what is measured
statement() {
	case $1 in
	drop | partitioned) echo "DROP TABLE t_$1;" ;;
	drop_cascade) echo "DROP TABLE t_$1 CASCADE;" ;;
	drop_schema | drop_schema_enum) echo "DROP SCHEMA s_$1 CASCADE;" ;;
	truncate | truncate_typed | truncate_composite) echo "TRUNCATE t_$1;" ;;
	truncate_cascade) echo "TRUNCATE t_$1 CASCADE;" ;;
	drop_column) echo "ALTER TABLE t_$1 DROP COLUMN v;" ;;
	esac
}

results=$dir/results.tsv
: >"$results"
methods=$dir/methods.tsv
: >"$methods"
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$results"; } # mb round path side ms

# snapshots_after ID: the methods of the snapshots newer than ID, with
# counts ("copied", "4 copied, definition")
snapshots_after() {
	sql $M "SELECT string_agg(CASE WHEN n > 1 THEN n || ' ' ELSE '' END || method, ', ' ORDER BY method)
	          FROM (SELECT method, count(*) AS n FROM migsafe.snapshots WHERE id > $1 GROUP BY method) s"
}

# run_vanilla MB ROUND PATH
run_vanilla() {
	local mb=$1 r=$2 p=$3 ms n
	sql $V CHECKPOINT
	case $p in
	drop_column)
		ms=$(timed $V "CREATE TABLE c_$p AS SELECT id, v FROM t_$p;")
		;;
	restore)
		# the table the truncate path emptied, filled again by hand
		ms=$(timed $V 'INSERT INTO t_truncate SELECT * FROM src;')
		n=$(sql $V 'SELECT count(*) FROM t_truncate')
		[[ $n == "$rows" ]] || { say "INSERT: $n rows, not $rows"; exit 1; }
		;;
	*)
		ms=$(timed $V "BEGIN;
$(statement "$p")
COMMIT;")
		;;
	esac
	record "$mb" "$r" "$p" vanilla "$ms"
	case $p in
	truncate) ;; # refilled by the restore path, next
	restore) sql $V 'VACUUM t_truncate' ;;
	*) drop_obj $V "$p"; make_obj $V "$p" ;;
	esac
}

# run_migsafe MB ROUND PATH
run_migsafe() {
	local mb=$1 r=$2 p=$3 ms snaps id n last
	sql $M CHECKPOINT
	if [[ $p == restore ]]; then
		# the snapshot the truncate path kept
		id=$(sql $M "SELECT max(id) FROM migsafe.snapshots
		              WHERE object_identity = 'public.t_truncate' AND status = 'kept'")
		ms=$(timed $M "SELECT migsafe.restore($id);")
		n=$(sql $M 'SELECT count(*) FROM t_truncate')
		[[ $n == "$rows" ]] || { say "restore: $n rows, not $rows"; exit 1; }
		record "$mb" "$r" "$p" migsafe "$ms"
		sql $M 'VACUUM t_truncate'
		return 0
	fi
	last=$(sql $M 'SELECT coalesce(max(id), 0) FROM migsafe.snapshots')
	ms=$(timed $M "BEGIN;
SET LOCAL migsafe.approve = '*';
$(statement "$p")
COMMIT;")
	record "$mb" "$r" "$p" migsafe "$ms"
	snaps=$(snapshots_after "$last")
	if [[ -z $snaps ]]; then
		say "$p: no snapshot kept"
		exit 1
	fi
	printf '%s\t%s\t%s\n' "$mb" "$p" "$snaps" >>"$methods"
	case $p in
	truncate)
		# restored by the restore path, next
		return 0
		;;
	drop)
		# moved: back in a moment
		id=$(sql $M "SELECT max(id) FROM migsafe.snapshots")
		sql $M "SELECT migsafe.restore($id)" -c "VACUUM t_$p" >/dev/null
		;;
	*)
		sql $M "SELECT migsafe.purge_snapshots(interval '0')" >/dev/null
		drop_obj $M "$p"
		make_obj $M "$p"
		;;
	esac
	n=$(sql $M "SELECT count(*) FROM $([[ $p == drop_schema* ]] && echo s_$p.t || echo t_$p)")
	[[ $n == "$rows" ]] || { say "$p: $n rows after the reset, not $rows"; exit 1; }
}

for mb in $sizes; do
	rows=$((mb * 1024 * 1024 / 85))
	say "$mb MB ($rows rows): making the tables"
	for db in $V $M; do
		sql $db 'DROP TABLE IF EXISTS src' -c "CREATE TABLE src AS
			SELECT g AS id, md5(g::text) AS v, g * 1.5 AS n, timestamptz '2026-01-01' + g * interval '1 s' AS at
			  FROM generate_series(1, $rows) g" -c 'VACUUM src'
	done
	heap=$(sql $V 'SELECT pg_relation_size($$src$$)')
	printf '%s\theap\t%s\n' "$mb" "$heap" >>"$methods"
	# one group of paths at a time, so that the disk holds the source and
	# one object per database (restore refills what truncate emptied)
	for group in "${groups[@]}"; do
		read -r -a ps <<<"$group"
		for db in $V $M; do
			make_obj $db "${ps[0]}"
		done
		for ((r = 1; r <= rounds; r++)); do
			for p in "${ps[@]}"; do
				if ((r % 2)); then
					run_vanilla "$mb" "$r" "$p"
					run_migsafe "$mb" "$r" "$p"
				else
					run_migsafe "$mb" "$r" "$p"
					run_vanilla "$mb" "$r" "$p"
				fi
			done
		done
		for db in $V $M; do
			drop_obj $db "${ps[0]}"
		done
		sql $M "SELECT migsafe.purge_snapshots(interval '0')" -c CHECKPOINT >/dev/null
		say "$mb MB $group: $(awk -F'\t' -v m="$mb" -v g=" $group " 'BEGIN { n = split(g, a, " "); for (i = 1; i <= n; i++) want[a[i]] }
			$1 == m && ($3 in want) { printf "%s/%s=%.0fms ", $3, $4, $5 }' "$results")"
	done
	for db in $V $M; do
		sql $db "SET migsafe.approve = '*'" -c 'SET migsafe.snapshot = off' -c 'DROP TABLE src' -c CHECKPOINT
	done
done
if [[ $(sha256sum "$pkglibdir/migsafe.so" | cut -c1-12) != "$so_start" ]]; then
	say "migsafe.so changed during the run"
	exit 1
fi
as_pg pg_ctl -D "$data" -m fast -w stop >/dev/null

# ------------------------------------------------------------------ report
# median and spread per (mb, path, side): "mb path side median spread"
awk -F'\t' "$bench_awk_lib"'
	{ v[$1 SUBSEP $3 SUBSEP $4] = v[$1 SUBSEP $3 SUBSEP $4] " " $5 }
	END {
		for (key in v) {
			n = split(v[key], a, " ")
			sort_nums(a, n)
			med = median(a, n)
			split(key, k, SUBSEP)
			printf "%s\t%s\t%s\t%.3f\t%.3f\n", k[1], k[2], k[3], med, (med > 0 ? (a[n] - a[1]) / med : 0)
		}
	}' "$results" | sort -k1,1n -k2,2 >"$dir/summary.tsv"

med() { awk -F'\t' -v m="$1" -v p="$2" -v s="$3" '$1 == m && $2 == p && $3 == s { print $4 }' "$dir/summary.tsv"; }
spr() { awk -F'\t' -v m="$1" -v p="$2" -v s="$3" '$1 == m && $2 == p && $3 == s { printf "%.0f%%", 100 * $5 }' "$dir/summary.tsv"; }
method_of() { awk -F'\t' -v m="$1" -v p="$2" '$1 == m && $2 == p { print $3; exit }' "$methods"; }
fmt_ms() { awk -v x="$1" 'BEGIN { printf (x < 100 ? "%.1f" : "%.0f"), x }'; }

describe() {
	case $1 in
	drop) echo 'DROP TABLE' ;;
	drop_cascade) echo 'DROP TABLE ... CASCADE (a view)' ;;
	drop_schema) echo 'DROP SCHEMA ... CASCADE' ;;
	drop_schema_enum) echo 'DROP SCHEMA ... CASCADE, with its enum' ;;
	truncate) echo 'TRUNCATE' ;;
	truncate_cascade) echo 'TRUNCATE ... CASCADE (a referring table)' ;;
	truncate_typed) echo 'TRUNCATE, an enum and a domain column' ;;
	truncate_composite) echo 'TRUNCATE, a composite column' ;;
	partitioned) echo 'DROP TABLE, partitioned (4 partitions)' ;;
	drop_column) echo 'DROP COLUMN vs CREATE TABLE AS of key and column' ;;
	restore) echo 'restore() of the TRUNCATE vs INSERT ... SELECT' ;;
	esac
}

report() {
	local mb p heap
	echo "PostgreSQL: $(postgres --version) · $(date -u '+%Y-%m-%d %H:%M UTC') · nproc=$(nproc)" \
		"· ROUNDS=$rounds · migsafe.so sha256 $so_start · wal_level replica · fsync off"
	echo
	echo -n "Heap sizes:"
	for mb in $sizes; do
		heap=$(awk -F'\t' -v m="$mb" '$1 == m && $2 == "heap" { print $3 }' "$methods")
		echo -n " $(awk -v b="$heap" 'BEGIN { printf "%.0f MB", b / 1048576 }') ($((mb * 1024 * 1024 / 85)) rows);"
	done
	echo " tables of (id int, v text, n numeric, at timestamptz)."
	echo
	echo "Median time over the rounds in ms (psql \\timing over BEGIN ... COMMIT);"
	echo "ratio = migsafe / vanilla; method = what migsafe kept."
	echo
	echo "| path | size | vanilla ms | migsafe ms | ratio | method | spread v / m |"
	echo "|---|---:|---:|---:|---:|---|---:|"
	for p in "${paths[@]}"; do
		for mb in $sizes; do
			echo "| $(describe "$p") | $mb MB | $(fmt_ms "$(med "$mb" "$p" vanilla)") | $(fmt_ms "$(med "$mb" "$p" migsafe)")" \
				"| $(awk -v a="$(med "$mb" "$p" migsafe)" -v b="$(med "$mb" "$p" vanilla)" 'BEGIN { printf "%.2f", a / b }')" \
				"| $(method_of "$mb" "$p") | $(spr "$mb" "$p" vanilla) / $(spr "$mb" "$p" migsafe) |"
		done
	done
}

# the plot: time against size, log-log, one panel per path
plot() {
	local out=$1 i=0 p
	{
		echo "set terminal pngcairo size 1400,1000 font ',10'"
		echo "set output '$out'"
		echo "set multiplot layout 4,3 title 'migsafe (approved, snapshot on) vs vanilla PostgreSQL: time against table size'"
		echo "set logscale xy; set grid; set key top left; set xlabel 'heap MB'; set ylabel 'ms'"
		for p in "${paths[@]}"; do
			awk -F'\t' -v p="$p" '$2 == p { print $1, $3, $4 }' "$dir/summary.tsv" |
				awk '{ v[$1, $2] = $3; s[$1] } END { for (m in s) print m, v[m, "vanilla"], v[m, "migsafe"] }' |
				sort -n >"$dir/plot_$p.dat"
			echo "set title '$(describe "$p")' noenhanced"
			echo "plot '$dir/plot_$p.dat' using 1:2 with linespoints title 'vanilla', '' using 1:3 with linespoints title 'migsafe'"
		done
		echo "unset multiplot"
	} >"$dir/plot.gp"
	gnuplot "$dir/plot.gp"
}

echo
report | tee "$dir/report.md"
plot "$dir/snapshot-sizes.png"
[[ -s $dir/snapshot-sizes.png ]] || { say "gnuplot made no plot"; exit 1; }
if [[ $save == 1 ]]; then
	cp "$dir/report.md" "$bench_dir/results-sizes.md"
	cp "$dir/summary.tsv" "$bench_dir/results-sizes.tsv"
	cp "$dir/snapshot-sizes.png" "$bench_dir/snapshot-sizes.png"
	say "saved to $bench_dir/results-sizes.md, results-sizes.tsv, snapshot-sizes.png"
fi
