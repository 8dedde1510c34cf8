#!/usr/bin/env bash
# fastpath.sh - what migsafe costs, as throughput ratios against vanilla
# PostgreSQL measured side by side in the same run.
#
# Run as root from anywhere (migsafe and pgaudit must already be installed
# into the system PostgreSQL 15).  A throwaway cluster runs as postgres in
# a private temporary directory, listening only on a unix socket there; it
# is stopped and removed at exit.  See bench/README.md.
#
# Environment:
#   SECONDS=10      length of each pgbench run (pgbench -T)
#   ROUNDS=3        rounds; every round restarts the cluster once per
#                   configuration and runs every workload
#   WARMUP=1        seconds of "SELECT 1" after each restart, not measured
#   DURABLE=0       fsync and synchronous_commit off for every
#                   configuration (1: leave them on)
#   WORKLOADS=...   a space-separated subset of the workloads, e.g.
#                   "utility select" for a longer look at the fast path
#   SAVE=1          also write the table to bench/results-fastpath.md
#   QUICK=1         SECONDS=1 ROUNDS=1: a check that the script works
#   PGBIN=...       bin directory of the PostgreSQL to use
#   PGPORT_BENCH=54391  port (it only names the socket file)
set -euo pipefail

# SECONDS is bash's own seconds-since-start counter: it is always set, and
# if it came from the environment it keeps counting up from that value.
# Read what the caller really passed from this process's initial
# environment instead.
bench_seconds=$(tr '\0' '\n' </proc/$$/environ | sed -n 's/^SECONDS=//p' | tail -n 1)
bench_seconds=${bench_seconds:-10}
rounds=${ROUNDS:-3}
warmup=${WARMUP:-1}
durable=${DURABLE:-0}
save=${SAVE:-0}
if [[ ${QUICK:-0} == 1 ]]; then
	bench_seconds=1
	rounds=1
fi

for v in bench_seconds rounds warmup; do
	if ! [[ ${!v} =~ ^[0-9]+$ ]] || ((${!v} < 1)); then
		echo "fastpath: ${v#bench_} must be a positive integer (got '${!v}')" >&2
		exit 1
	fi
done

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bindir=${PGBIN:-/usr/lib/postgresql/15/bin}	# PGBIN: another installation
export PATH=$bindir:$PATH

if [[ $(id -u) -ne 0 ]]; then
	echo "fastpath: must run as root (the cluster runs as postgres via runuser)" >&2
	exit 1
fi
pkglibdir=$(pg_config --pkglibdir)
for lib in migsafe pgaudit; do
	if [[ ! -f $pkglibdir/$lib.so ]]; then
		echo "fastpath: $pkglibdir/$lib.so not found; install it first (make install / postgresql-15-pgaudit)" >&2
		exit 1
	fi
done

configs=(vanilla migsafe-not-installed migsafe pgaudit)
all_workloads=(utility select ddl_create_drop truncate_empty alter_add_drop)
read -r -a workloads <<<"${WORKLOADS:-${all_workloads[*]}}"
for wl in "${workloads[@]}"; do
	if [[ " ${all_workloads[*]} " != *" $wl "* ]]; then
		echo "fastpath: unknown workload '$wl' (known: ${all_workloads[*]})" >&2
		exit 1
	fi
done
if ((${#workloads[@]} == 0)); then
	echo "fastpath: WORKLOADS is empty" >&2
	exit 1
fi

# The build measured: every restart must load this very file, or the rounds
# would mix builds (migsafe may be reinstalled while the benchmark runs).
so_sum() { sha256sum "$pkglibdir/migsafe.so" | cut -c1-12; }
so_start=$(so_sum)

# The socket lives in the private directory, so this port cannot clash with
# another cluster's socket.
port=${PGPORT_BENCH:-54391}

dir=$(mktemp -d /tmp/migsafe-bench.XXXXXX)
chown postgres:postgres "$dir"
chmod 755 "$dir"
data=$dir/data
log=$dir/server.log

# run as postgres from $dir (the checkout may be unreadable for postgres)
as_pg() { (cd "$dir" && runuser -u postgres -- env PATH="$PATH" HOME="$dir" "$@"); }
sql() { # sql DB 'statements' -- psql, quiet, stop on the first error
	local db=$1
	shift
	as_pg env PGOPTIONS='-c client_min_messages=warning' \
		psql -X -q -At -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d "$db" -c "$@"
}

cleanup() {
	local rc=$?
	if [[ -f $data/postmaster.pid ]]; then
		as_pg pg_ctl -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	if ((rc != 0)) && [[ -f $log ]]; then
		echo "fastpath: failed; last lines of the server log:" >&2
		tail -n 20 "$log" >&2 || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { echo "fastpath: $*" >&2; }

# ---------------------------------------------------------------- cluster
say "cluster in $dir (socket only, port $port)"
as_pg initdb -D "$data" --auth=trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" ||
	{ cat "$dir/initdb.log" >&2; exit 1; }
# A commit that drops a relation (DROP, TRUNCATE) always waits for a WAL
# flush: on a shared disk that is mostly noise, and it hides the CPU cost of
# the hooks, which is what is measured here.
durability="fsync = on"
if [[ $durable != 1 ]]; then
	durability=$'fsync = off\nsynchronous_commit = off'
fi
cat >>"$data/postgresql.conf" <<CONF

# ---- migsafe bench/fastpath.sh: common to every configuration
port = $port
listen_addresses = ''
unix_socket_directories = '$dir'
logging_collector = off
$durability
# per-configuration settings, rewritten before each restart
include = 'bench_config.conf'
CONF

# write_config CONFIG: the include file for one configuration
write_config() {
	case $1 in
	vanilla)
		echo "shared_preload_libraries = ''"
		;;
	migsafe | migsafe-not-installed)
		echo "shared_preload_libraries = 'migsafe'"
		;;
	pgaudit)
		echo "shared_preload_libraries = 'pgaudit'"
		echo "pgaudit.log = 'ddl'"
		# LOG messages reach the server log under the default
		# log_min_messages = warning, so the audit records are written.
		echo "pgaudit.log_level = 'log'"
		;;
	esac >"$data/bench_config.conf"
	chown postgres:postgres "$data/bench_config.conf"
}

preload_of() {
	case $1 in
	vanilla) echo "" ;;
	migsafe | migsafe-not-installed) echo migsafe ;;
	pgaudit) echo pgaudit ;;
	esac
}

db_of() {
	case $1 in
	migsafe) echo bench_guarded ;;
	*) echo bench_plain ;;
	esac
}

# start_config CONFIG [DB]: (re)start the cluster with CONFIG and check it
# took (connecting to DB, by default the one CONFIG is measured in)
start_config() {
	local cfg=$1 db=${2:-$(db_of "$1")} got
	if [[ $(so_sum) != "$so_start" ]]; then
		say "$pkglibdir/migsafe.so changed during the run (was $so_start, now $(so_sum)); rerun"
		exit 1
	fi
	write_config "$cfg"
	if [[ -f $data/postmaster.pid ]]; then
		as_pg pg_ctl -D "$data" -m fast -w -l "$log" restart >/dev/null
	else
		as_pg pg_ctl -D "$data" -w -l "$log" start >/dev/null
	fi
	got=$(sql "$db" 'SHOW shared_preload_libraries')
	if [[ $got != "$(preload_of "$cfg")" ]]; then
		say "config $cfg: shared_preload_libraries is '$got'"
		exit 1
	fi
	if [[ $cfg == pgaudit ]] && [[ $(sql "$db" 'SHOW pgaudit.log') != ddl ]]; then
		say "config pgaudit: pgaudit.log is not ddl"
		exit 1
	fi
}

# ------------------------------------------------------------------ setup
# Databases and the extension need migsafe preloaded.
start_config migsafe-not-installed postgres
as_pg createdb -h "$dir" -p "$port" -U postgres bench_plain
as_pg createdb -h "$dir" -p "$port" -U postgres bench_guarded
sql bench_guarded 'CREATE EXTENSION migsafe'
for db in bench_plain bench_guarded; do
	sql "$db" 'CREATE TABLE bench_empty (id int)'
	sql "$db" 'CREATE TABLE bench_alt (id int)'
	sql "$db" 'INSERT INTO bench_alt SELECT g FROM generate_series(1, 100) g'
done

# The guard must really be on in bench_guarded and off in bench_plain,
# or the numbers mean nothing.
sql bench_guarded 'CREATE TABLE bench_probe (id int); INSERT INTO bench_probe VALUES (1)'
if sql bench_guarded 'DROP TABLE bench_probe' >/dev/null 2>&1; then
	say "migsafe did not block DROP TABLE of a non-empty table in bench_guarded"
	exit 1
fi
sql bench_guarded "SET migsafe.approve = 'public.bench_probe'" -c 'DROP TABLE bench_probe'
sql bench_plain 'CREATE TABLE bench_probe (id int); INSERT INTO bench_probe VALUES (1)'
sql bench_plain 'DROP TABLE bench_probe'

# ---------------------------------------------------------------- scripts
# One pgbench script per workload.  Without BEGIN each statement is its own
# transaction; tps counts whole script executions.
cat >"$dir/utility.sql" <<'SQL'
BEGIN;
SET LOCAL work_mem = '4MB';
SHOW work_mem;
COMMIT;
SQL
cat >"$dir/select.sql" <<'SQL'
SELECT 1;
SQL
cat >"$dir/ddl_create_drop.sql" <<'SQL'
CREATE TABLE bench_t_:client_id (id int);
DROP TABLE bench_t_:client_id;
SQL
cat >"$dir/truncate_empty.sql" <<'SQL'
TRUNCATE bench_empty;
SQL
# A dropped column keeps its attribute number (a table has at most 1600),
# and every ALTER TABLE rereads all of them: every 100 iterations the table
# is rebuilt (approved DROP of its 100 rows, the same in every
# configuration; "migsafe.approve" is a mere placeholder setting where
# migsafe is not loaded), so that an iteration costs the same all along.
# n is a per-client counter (pgbench -D n=0).
cat >"$dir/alter_add_drop.sql" <<'SQL'
\set n :n + 1
\if :n % 100 = 0
BEGIN;
SET LOCAL migsafe.approve = 'public.bench_alt';
DROP TABLE bench_alt;
CREATE TABLE bench_alt (id int);
INSERT INTO bench_alt SELECT g FROM generate_series(1, 100) g;
COMMIT;
\endif
ALTER TABLE bench_alt ADD COLUMN c int;
ALTER TABLE bench_alt DROP COLUMN c;
SQL
cat >"$dir/warmup.sql" <<'SQL'
SELECT 1;
SQL
chmod 644 "$dir"/*.sql

# reset_for WORKLOAD DB: same starting state for every run of a workload
reset_for() {
	local wl=$1 db=$2
	case $wl in
	ddl_create_drop)
		# a run cut short between CREATE and DROP leaves the (empty) table
		sql "$db" 'DROP TABLE IF EXISTS bench_t_0'
		;;
	alter_add_drop)
		sql "$db" "SET migsafe.approve = 'public.bench_alt'" \
			-c 'DROP TABLE bench_alt' \
			-c 'CREATE TABLE bench_alt (id int)' \
			-c 'INSERT INTO bench_alt SELECT g FROM generate_series(1, 100) g'
		;;
	esac
	# clean up the catalog bloat of the DDL workloads, and start each run
	# right after a checkpoint
	sql "$db" 'VACUUM' -c 'CHECKPOINT'
}

# run_pgbench DB SCRIPT SECONDS: prints tps
run_pgbench() {
	local db=$1 script=$2 secs=$3 out tps
	if ! out=$(as_pg pgbench -n -f "$dir/$script.sql" -T "$secs" -c 1 -j 1 -D n=0 \
		-h "$dir" -p "$port" -U postgres "$db" 2>&1); then
		say "pgbench $script failed in $db:"
		echo "$out" >&2
		exit 1
	fi
	tps=$(awk '/^tps = /{print $3; exit}' <<<"$out")
	if [[ -z $tps ]]; then
		say "no tps in pgbench output for $script:"
		echo "$out" >&2
		exit 1
	fi
	echo "$tps"
}

# ------------------------------------------------------------------ rounds
results=$dir/results.tsv
: >"$results"
ncfg=${#configs[@]}
est=$(( rounds * ncfg * (${#workloads[@]} * (bench_seconds + 1) + warmup + 3) ))
say "SECONDS=$bench_seconds ROUNDS=$rounds: about $((est / 60)) min $((est % 60)) s"
for ((r = 1; r <= rounds; r++)); do
	# rotate the order of the configurations from round to round, so that a
	# slow drift of the machine does not always hit the same one
	for ((k = 0; k < ncfg; k++)); do
		cfg=${configs[$(((r - 1 + k) % ncfg))]}
		db=$(db_of "$cfg")
		start_config "$cfg"
		run_pgbench "$db" warmup "$warmup" >/dev/null
		line="round $r/$rounds $cfg:"
		for wl in "${workloads[@]}"; do
			reset_for "$wl" "$db"
			tps=$(run_pgbench "$db" "$wl" "$bench_seconds")
			printf '%s\t%s\t%s\t%s\n' "$r" "$cfg" "$wl" "$tps" >>"$results"
			line+=" $wl=${tps%.*}"
		done
		say "$line"
	done
done

# With pgaudit.log = 'ddl' only the DDL workloads write audit records.
audit_lines=$(grep -c 'AUDIT: SESSION' "$log" || true)
if [[ " ${workloads[*]} " =~ \ (ddl_create_drop|truncate_empty|alter_add_drop)\  ]] &&
	((audit_lines == 0)); then
	say "pgaudit wrote no audit records; the pgaudit column is not what it claims"
	exit 1
fi

as_pg pg_ctl -D "$data" -m fast -w stop >/dev/null

# ------------------------------------------------------------------ report
# median over rounds per (config, workload); spread = (max - min) / median
summary=$(awk -F'\t' '
	{ v[$2 SUBSEP $3] = v[$2 SUBSEP $3] " " $4 }
	END {
		for (key in v) {
			n = split(v[key], a, " ")
			for (i = 2; i <= n; i++) {          # insertion sort
				x = a[i]; j = i - 1
				while (j >= 1 && a[j] + 0 > x + 0) { a[j + 1] = a[j]; j-- }
				a[j + 1] = x
			}
			med = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
			split(key, k, SUBSEP)
			printf "%s\t%s\t%.6f\t%.6f\n", k[1], k[2], med, (a[n] - a[1]) / med
		}
	}' "$results")

med() { awk -F'\t' -v c="$1" -v w="$2" '$1 == c && $2 == w { print $3 }' <<<"$summary"; }
spread() { awk -F'\t' -v c="$1" -v w="$2" '$1 == c && $2 == w { printf "%.1f%%", 100 * $4 }' <<<"$summary"; }

report() {
	local wl cfg base row
	echo "PostgreSQL: $(postgres --version) · SECONDS=$bench_seconds · ROUNDS=$rounds" \
		"· $(date -u '+%Y-%m-%d %H:%M UTC') · nproc=$(nproc)" \
		"· migsafe.so sha256 $so_start · pgbench -c 1 -j 1 · $(if [[ $durable == 1 ]]; then echo "fsync on"; else echo "fsync off, synchronous_commit off"; fi)"
	echo
	echo "Median tps over rounds; other columns are median tps / vanilla median tps."
	echo
	echo "| workload | vanilla tps | migsafe-not-installed | migsafe | pgaudit |"
	echo "|---|---:|---:|---:|---:|"
	for wl in "${workloads[@]}"; do
		base=$(med vanilla "$wl")
		row="| $wl | $(printf '%.0f' "$base")"
		for cfg in "${configs[@]:1}"; do
			row+=" | $(awk -v a="$(med "$cfg" "$wl")" -v b="$base" 'BEGIN { printf "%.2f", a / b }')"
		done
		echo "$row |"
	done
	echo
	echo "Noise: spread of each cell over the rounds, (max - min) / median."
	echo
	echo "| workload | vanilla | migsafe-not-installed | migsafe | pgaudit |"
	echo "|---|---:|---:|---:|---:|"
	for wl in "${workloads[@]}"; do
		row="| $wl"
		for cfg in "${configs[@]}"; do
			row+=" | $(spread "$cfg" "$wl")"
		done
		echo "$row |"
	done
}

echo
report | tee "$dir/report.md"
if [[ $save == 1 ]]; then
	cp "$dir/report.md" "$bench_dir/results-fastpath.md"
	say "saved to $bench_dir/results-fastpath.md"
fi
