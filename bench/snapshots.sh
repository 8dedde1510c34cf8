#!/usr/bin/env bash
# snapshots.sh - what migsafe's snapshots cost, as ratios against plain
# PostgreSQL doing the same work, measured side by side in the same run.
#
# Run as root from anywhere (migsafe must already be installed into the
# system PostgreSQL 15).  A throwaway cluster runs as postgres in a private
# temporary directory, listening only on a unix socket there; it is stopped
# and removed at exit.  See bench/README.md.
#
# Measured, every round, in one database with migsafe installed:
#   move     approved plain DROP TABLE of a BIG_MB table and of a 1 MB
#            table (both moved into a snapshot schema), then restore of
#            each (moved back); ratio big / small
#   truncate approved TRUNCATE of a COPY_MB table (its storage kept as
#            the snapshot) against TRUNCATE of a table of the same size in
#            a database without the extension; TRUNCATE with
#            migsafe.snapshot = off as a reference
#   restore  migsafe.restore() of that TRUNCATE's snapshot against
#            INSERT INTO t SELECT * FROM <a copy> into the same, truncated,
#            table
#   copy     approved DROP TABLE ... CASCADE of that table (a view depends
#            on it: its rows are copied into a snapshot) against CREATE
#            TABLE AS SELECT * of the same table
#
# Environment:
#   ROUNDS=3        rounds; the order of the measurements rotates
#   BIG_MB=1024     heap size of the moved table, in MB
#   COPY_MB=300     heap size of the truncated and copied table, in MB
#   WAL_LEVEL=replica  (minimal: CREATE TABLE AS skips WAL in both cases)
#   DURABLE=0       fsync and synchronous_commit off (1: leave them on)
#   SAVE=1          also write the report to bench/results-snapshots.md
#   QUICK=1         ROUNDS=1 BIG_MB=10 COPY_MB=10: a check that the script works
#   PGBIN=...       bin directory of the PostgreSQL to use
#   PGPORT_BENCH=54392  port (it only names the socket file)
set -euo pipefail

rounds=${ROUNDS:-3}
big_mb=${BIG_MB:-1024}
copy_mb=${COPY_MB:-300}
wal_level=${WAL_LEVEL:-replica}
durable=${DURABLE:-0}
save=${SAVE:-0}
if [[ ${QUICK:-0} == 1 ]]; then
	rounds=1
	big_mb=10
	copy_mb=10
fi

for v in rounds big_mb copy_mb; do
	if ! [[ ${!v} =~ ^[0-9]+$ ]] || ((${!v} < 1)); then
		echo "snapshots: ${v^^} must be a positive integer (got '${!v}')" >&2
		exit 1
	fi
done
if [[ $wal_level != minimal && $wal_level != replica && $wal_level != logical ]]; then
	echo "snapshots: WAL_LEVEL must be minimal, replica or logical (got '$wal_level')" >&2
	exit 1
fi

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bindir=${PGBIN:-/usr/lib/postgresql/15/bin}	# PGBIN: another installation
export PATH=$bindir:$PATH

if [[ $(id -u) -ne 0 ]]; then
	echo "snapshots: must run as root (the cluster runs as postgres via runuser)" >&2
	exit 1
fi
pkglibdir=$(pg_config --pkglibdir)
if [[ ! -f $pkglibdir/migsafe.so ]]; then
	echo "snapshots: $pkglibdir/migsafe.so not found; install it first (make install)" >&2
	exit 1
fi

# The build measured: the one the postmaster loads at its only start
# (backends inherit it; a later reinstall does not reach them).
so_sum() { sha256sum "$pkglibdir/migsafe.so" | cut -c1-12; }

port=${PGPORT_BENCH:-54392}

dir=$(mktemp -d /tmp/migsafe-bench.XXXXXX)
chown postgres:postgres "$dir"
chmod 755 "$dir"
data=$dir/data
log=$dir/server.log
db=bench_snap

as_pg() { (cd "$dir" && runuser -u postgres -- env PATH="$PATH" HOME="$dir" "$@"); }
sql() { # sql 'statements' -- psql, quiet, stop on the first error
	as_pg env PGOPTIONS='-c client_min_messages=warning' \
		psql -X -q -At -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d "$db" -c "$@"
}

# timed 'script': run a psql script with \timing and print the sum of its
# statements' times in ms (what the server took, plus the round trips, but
# not psql's start or connection)
timed() {
	local out
	if ! out=$(printf '\\timing on\n%s\n' "$1" | as_pg env PGOPTIONS='-c client_min_messages=warning' \
		psql -X -q -At -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d "$db" -f - 2>&1); then
		say "failed:"
		echo "$out" >&2
		exit 1
	fi
	awk '/^Time: / { ms += $2 } END { printf "%.3f\n", ms }' <<<"$out"
}

cleanup() {
	local rc=$?
	if [[ -f $data/postmaster.pid ]]; then
		as_pg pg_ctl -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	if ((rc != 0)) && [[ -f $log ]]; then
		echo "snapshots: failed; last lines of the server log:" >&2
		tail -n 20 "$log" >&2 || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { echo "snapshots: $*" >&2; }

# ---------------------------------------------------------------- cluster
say "cluster in $dir (socket only, port $port)"
as_pg initdb -D "$data" --auth=trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" ||
	{ cat "$dir/initdb.log" >&2; exit 1; }
# As in fastpath.sh: a commit that drops a relation waits for a WAL flush,
# mostly noise on a shared disk.  CHECKPOINT runs before every measured
# statement, and max_wal_size keeps checkpoints out of the measurements.
durability="fsync = on"
if [[ $durable != 1 ]]; then
	durability=$'fsync = off\nsynchronous_commit = off'
fi
max_senders=10
[[ $wal_level == minimal ]] && max_senders=0
cat >>"$data/postgresql.conf" <<CONF

# ---- migsafe bench/snapshots.sh
port = $port
listen_addresses = ''
unix_socket_directories = '$dir'
logging_collector = off
shared_preload_libraries = 'migsafe'
$durability
wal_level = $wal_level
max_wal_senders = $max_senders
shared_buffers = 1GB
maintenance_work_mem = 512MB
max_wal_size = 16GB
checkpoint_timeout = 1h
autovacuum = off
# COPY_MB may be above the default limit (1 GB) of a snapshot's copy
migsafe.snapshot_max_copy_size = 0
CONF
so_start=$(so_sum)
as_pg pg_ctl -D "$data" -w -l "$log" start >/dev/null
as_pg createdb -h "$dir" -p "$port" -U postgres "$db"
sql 'CREATE EXTENSION migsafe'

# ------------------------------------------------------------------ setup
# Built-in types only (a copy of other types keeps their text form, which
# is slower: not what is measured here).  About 85 bytes a row on disk.
make_table() { # make_table NAME MB
	local rows=$(($2 * 1024 * 1024 / 85))
	sql "CREATE TABLE $1 (id int PRIMARY KEY, v text, n numeric, at timestamptz)" \
		-c "INSERT INTO $1 SELECT g, md5(g::text), g * 1.5, timestamptz '2026-01-01' + g * interval '1 s'
		      FROM generate_series(1, $rows) g" \
		-c "VACUUM (ANALYZE) $1"
}

say "creating tables: move_big ($big_mb MB), move_small (1 MB), copy_src ($copy_mb MB)"
make_table move_big "$big_mb"
make_table move_small 1
make_table copy_src "$copy_mb"
copy_rows=$(sql 'SELECT count(*) FROM copy_src')
sql 'CREATE VIEW copy_v AS SELECT id FROM copy_src'
# the same table in a database without the extension: PostgreSQL's own
# TRUNCATE (the library is loaded, its hooks leave the statement alone)
as_pg createdb -h "$dir" -p "$port" -U postgres bench_vanilla
db=bench_vanilla make_table trunc_src "$copy_mb"
size_of() { sql "SELECT pg_relation_size('$1') || ' ' || pg_total_relation_size('$1')"; }
read -r big_heap big_total < <(size_of move_big)
read -r small_heap small_total < <(size_of move_small)
read -r copy_heap copy_total < <(size_of copy_src)

# migsafe must really guard: an unapproved DROP of a table with rows fails
if sql 'DROP TABLE move_small' >/dev/null 2>&1; then
	say "migsafe did not block DROP TABLE of a non-empty table"
	exit 1
fi

# settle: the tables are written out and their hint bits set
sql 'VACUUM' -c 'CHECKPOINT'

# newest kept snapshot of public.$1 as "id method row_count"
snapshot_of() {
	sql "SELECT id || ' ' || method || ' ' || coalesce(row_count, -1) FROM migsafe.snapshots
	      WHERE object_identity = 'public.$1' AND status = 'kept' ORDER BY id DESC LIMIT 1"
}

results=$dir/results.tsv
: >"$results"
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$results"; } # round name ms

# ------------------------------------------------------------ measurements
# move_one ROUND TABLE NAME: approved DROP (moved), then restore (moved back)
move_one() {
	local r=$1 t=$2 name=$3 ms id method rows
	sql 'CHECKPOINT'
	ms=$(timed "BEGIN;
SET LOCAL migsafe.approve = 'public.$t';
DROP TABLE $t;
COMMIT;")
	read -r id method rows < <(snapshot_of "$t")
	if [[ $method != moved ]]; then
		say "DROP TABLE $t: snapshot $id is '$method', not moved"
		exit 1
	fi
	record "$r" "drop_$name" "$ms"
	sql 'CHECKPOINT'
	ms=$(timed "SELECT migsafe.restore($id);")
	record "$r" "restore_moved_$name" "$ms"
}

# copy_baseline ROUND: CREATE TABLE AS of copy_src (kept for the INSERT)
copy_baseline() {
	sql "SET migsafe.approve = 'public.copy_ctas'" -c 'SET migsafe.snapshot = off' \
		-c 'DROP TABLE IF EXISTS copy_ctas'
	sql 'CHECKPOINT'
	record "$1" ctas "$(timed 'CREATE TABLE copy_ctas AS SELECT * FROM copy_src;')"
	sql 'VACUUM copy_ctas' -c 'CHECKPOINT'
}

# copy_snapshot ROUND: approved TRUNCATE (its storage kept), then restore
copy_snapshot() {
	local r=$1 ms id method rows n
	sql 'CHECKPOINT'
	ms=$(timed "BEGIN;
SET LOCAL migsafe.approve = 'public.copy_src';
TRUNCATE copy_src;
COMMIT;")
	read -r id method rows < <(snapshot_of copy_src)
	# the row count of a kept storage is an estimate above 8 MB: the
	# restore below counts
	if [[ $method != moved ]]; then
		say "TRUNCATE copy_src: snapshot $id is '$method', not moved (its storage)"
		exit 1
	fi
	record "$r" truncate_snapshot "$ms"
	sql 'CHECKPOINT'
	ms=$(timed "SELECT migsafe.restore($id);")
	n=$(sql 'SELECT count(*) FROM copy_src')
	if [[ $n != "$copy_rows" ]]; then
		say "restore of snapshot $id: copy_src has $n rows, not $copy_rows"
		exit 1
	fi
	record "$r" restore "$ms"
	sql 'VACUUM copy_src' -c 'CHECKPOINT'
}

# copy_plain ROUND: TRUNCATE without snapshot, then INSERT ... SELECT from
# copy_ctas (needs copy_baseline first)
copy_plain() {
	local r=$1 n
	sql 'CHECKPOINT'
	record "$r" truncate_nosnapshot "$(timed "BEGIN;
SET LOCAL migsafe.approve = 'public.copy_src';
SET LOCAL migsafe.snapshot = off;
TRUNCATE copy_src;
COMMIT;")"
	sql 'CHECKPOINT'
	record "$r" insert "$(timed 'INSERT INTO copy_src SELECT * FROM copy_ctas;')"
	n=$(sql 'SELECT count(*) FROM copy_src')
	if [[ $n != "$copy_rows" ]]; then
		say "INSERT: copy_src has $n rows, not $copy_rows"
		exit 1
	fi
	sql 'VACUUM copy_src' -c 'CHECKPOINT'
}

# vanilla ROUND: TRUNCATE in the database without the extension, then the
# rows back (not measured)
vanilla() {
	local r=$1
	db=bench_vanilla sql 'CHECKPOINT'
	record "$r" truncate_vanilla "$(db=bench_vanilla timed 'BEGIN;
TRUNCATE trunc_src;
COMMIT;')"
	db=bench_vanilla sql "INSERT INTO trunc_src SELECT g, md5(g::text), g * 1.5, timestamptz '2026-01-01' + g * interval '1 s'
	      FROM generate_series(1, $copy_rows) g" -c 'VACUUM trunc_src' -c 'CHECKPOINT'
}

# copy_drop ROUND: approved DROP TABLE copy_src CASCADE, which takes the
# view with it: the rows are copied, not moved; then restore and the view
# again (not measured)
copy_drop() {
	local r=$1 ms id method rows n
	sql 'CHECKPOINT'
	ms=$(timed "BEGIN;
SET LOCAL migsafe.approve = 'public.copy_src';
DROP TABLE copy_src CASCADE;
COMMIT;")
	read -r id method rows < <(snapshot_of copy_src)
	# Since 1.1 a cascaded drop keeps the table's storage (moved) rather
	# than a copy: the report says which it measured.  The restore below
	# counts the rows either way.
	if ! [[ ($method == copied && $rows == "$copy_rows") || $method == moved ]]; then
		say "DROP TABLE copy_src CASCADE: snapshot $id is '$method' with $rows rows, not copied with $copy_rows nor moved"
		exit 1
	fi
	echo "$method" >"$dir/drop_copy.method"
	record "$r" drop_copy "$ms"
	sql "SELECT migsafe.restore($id)" -c 'CREATE VIEW copy_v AS SELECT id FROM copy_src'
	n=$(sql 'SELECT count(*) FROM copy_src')
	if [[ $n != "$copy_rows" ]]; then
		say "restore of snapshot $id: copy_src has $n rows, not $copy_rows"
		exit 1
	fi
	sql 'VACUUM copy_src' -c 'CHECKPOINT'
}

say "ROUNDS=$rounds: move_big $((big_heap / 1048576)) MB heap, copy_src $((copy_heap / 1048576)) MB heap ($copy_rows rows)"
for ((r = 1; r <= rounds; r++)); do
	# the order rotates from round to round, so that a drift of the machine
	# (or of the cache) does not always favour the same side
	if ((r % 2)); then
		move_one "$r" move_big big
		move_one "$r" move_small small
	else
		move_one "$r" move_small small
		move_one "$r" move_big big
	fi
	case $((r % 3)) in
	1) vanilla "$r"; copy_baseline "$r"; copy_snapshot "$r"; copy_plain "$r"; copy_drop "$r" ;;
	2) copy_baseline "$r"; copy_plain "$r"; copy_drop "$r"; copy_snapshot "$r"; vanilla "$r" ;;
	0) copy_snapshot "$r"; vanilla "$r"; copy_drop "$r"; copy_baseline "$r"; copy_plain "$r" ;;
	esac
	say "round $r/$rounds: $(awk -F'\t' -v r="$r" '$1 == r { printf "%s=%.0fms ", $2, $3 }' "$results")"
done

as_pg pg_ctl -D "$data" -m fast -w stop >/dev/null

# ------------------------------------------------------------------ report
# median and spread ((max - min) / median) over rounds per measurement
summary=$(awk -F'\t' '
	{ v[$2] = v[$2] " " $3 }
	END {
		for (key in v) {
			n = split(v[key], a, " ")
			for (i = 2; i <= n; i++) {          # insertion sort
				x = a[i]; j = i - 1
				while (j >= 1 && a[j] + 0 > x + 0) { a[j + 1] = a[j]; j-- }
				a[j + 1] = x
			}
			med = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
			printf "%s\t%.3f\t%.6f\n", key, med, (med > 0 ? (a[n] - a[1]) / med : 0)
		}
	}' "$results")

med() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' <<<"$summary"; }
spread() { awk -F'\t' -v k="$1" '$1 == k { printf "%.0f%%", 100 * $3 }' <<<"$summary"; }
ms() { printf '%.1f' "$(med "$1")"; }
ratio() { awk -v a="$(med "$1")" -v b="$(med "$2")" 'BEGIN { printf "%.2f", a / b }'; }
mbs() { awk -v ms="$(med "$1")" -v bytes="$copy_heap" 'BEGIN { printf "%.0f", bytes / 1048576 / (ms / 1000) }'; }
pretty() { awk -v b="$1" 'BEGIN { if (b >= 1073741824) printf "%.2f GB", b / 1073741824; else if (b >= 1048576) printf "%.0f MB", b / 1048576; else printf "%.0f kB", b / 1024 }'; }

report() {
	echo "PostgreSQL: $(postgres --version) · ROUNDS=$rounds · $(date -u '+%Y-%m-%d %H:%M UTC')" \
		"· nproc=$(nproc) · migsafe.so sha256 $so_start · wal_level $wal_level" \
		"· $(if [[ $durable == 1 ]]; then echo "fsync on"; else echo "fsync off, synchronous_commit off"; fi)"
	echo
	echo "Tables: move_big $(pretty "$big_heap") heap ($(pretty "$big_total") with its index)," \
		"move_small $(pretty "$small_heap") heap ($(pretty "$small_total"))," \
		"copy_src $(pretty "$copy_heap") heap ($(pretty "$copy_total")), $copy_rows rows of" \
		"(int primary key, text, numeric, timestamptz)."
	echo
	echo "Median time per statement (psql \\timing, summed over BEGIN ... COMMIT) over the rounds."
	echo
	echo "| measurement | migsafe | baseline | ratio | goal |"
	echo "|---|---:|---:|---:|---|"
	echo "| (i) approved DROP TABLE, moved: move_big vs move_small (time ratio) | $(ms drop_big) ms | $(ms drop_small) ms | $(ratio drop_big drop_small)× | ≤ 2× |"
	echo "| (i') restore of the moved table: move_big vs move_small (time ratio) | $(ms restore_moved_big) ms | $(ms restore_moved_small) ms | $(ratio restore_moved_big restore_moved_small)× | — |"
	echo "| (ii) approved TRUNCATE with its snapshot (storage kept) vs TRUNCATE without the extension (time ratio) | $(ms truncate_snapshot) ms | $(ms truncate_vanilla) ms | $(ratio truncate_snapshot truncate_vanilla)× | ≤ 2× |"
	echo "| (ii') reference: approved TRUNCATE, migsafe.snapshot = off | $(ms truncate_nosnapshot) ms | | | — |"
	echo "| (iii) migsafe.restore() of that snapshot vs INSERT INTO copy_src SELECT * FROM copy_ctas (throughput ratio) | $(ms restore) ms, $(mbs restore) MB/s | $(ms insert) ms, $(mbs insert) MB/s | $(ratio insert restore) | ≥ 0.8 |"
	echo "| (iv) approved DROP TABLE ... CASCADE ($(cat "$dir/drop_copy.method")) vs CREATE TABLE AS SELECT * (throughput ratio) | $(ms drop_copy) ms, $(mbs drop_copy) MB/s | $(ms ctas) ms, $(mbs ctas) MB/s | $(ratio ctas drop_copy) | ≥ 0.8 |"
	echo
	echo "Throughput ratios are baseline time / migsafe time (1.00: as fast as plain PostgreSQL)."
	echo
	echo "Noise: spread of each measurement over the rounds, (max - min) / median."
	echo
	echo "| drop_big | drop_small | restore_moved_big | restore_moved_small | truncate_snapshot | truncate_vanilla | truncate_nosnapshot | restore | insert | drop_copy | ctas |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	echo "| $(spread drop_big) | $(spread drop_small) | $(spread restore_moved_big) | $(spread restore_moved_small) | $(spread truncate_snapshot) | $(spread truncate_vanilla) | $(spread truncate_nosnapshot) | $(spread restore) | $(spread insert) | $(spread drop_copy) | $(spread ctas) |"
}

echo
report | tee "$dir/report.md"
if [[ $save == 1 ]]; then
	cp "$dir/report.md" "$bench_dir/results-snapshots.md"
	say "saved to $bench_dir/results-snapshots.md"
fi
