# bench/lib.sh - what the benchmark scripts share, sourced by them: the
# checks before a run, and a throwaway cluster run as postgres in a
# private directory, removed at exit.  The script sets bench_name (its
# name in messages) before sourcing this file.

say() { echo "$bench_name: $*" >&2; }

# bench_setup: PATH from PGBIN (default: the system PostgreSQL 15), run as
# root, migsafe installed there; sets bench_dir, bindir, pkglibdir and
# so_start (the library's checksum, to notice a reinstall during a run)
bench_setup() {
	bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	bindir=${PGBIN:-/usr/lib/postgresql/15/bin}
	export PATH=$bindir:$PATH
	if [[ $(id -u) -ne 0 ]]; then
		echo "$bench_name: must run as root (the cluster runs as postgres via runuser)" >&2
		exit 1
	fi
	pkglibdir=$(pg_config --pkglibdir)
	if [[ ! -f $pkglibdir/migsafe.so ]]; then
		echo "$bench_name: $pkglibdir/migsafe.so not found; install it first (make install)" >&2
		exit 1
	fi
	so_start=$(sha256sum "$pkglibdir/migsafe.so" | cut -c1-12)
}

# bench_cluster PORT: a private directory for a cluster listening on a
# unix socket there only ($dir, $data, $log; PORT only names the socket),
# removed at exit with the server stopped, and the server log's last lines
# printed if the script failed
bench_cluster() {
	port=$1
	dir=$(mktemp -d "/tmp/migsafe-bench-$bench_name.XXXXXX")
	chown postgres:postgres "$dir"
	chmod 755 "$dir"
	data=$dir/data
	log=$dir/server.log
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

bench_cleanup() {
	local rc=$?
	if [[ -f $data/postmaster.pid ]]; then
		as_pg pg_ctl -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	if ((rc != 0)) && [[ -f $log ]]; then
		echo "$bench_name: failed; last lines of the server log:" >&2
		tail -n 20 "$log" >&2 || true
	fi
	rm -rf "$dir"
}

# as_pg COMMAND...: run as postgres, in the cluster's directory
as_pg() { (cd "$dir" && runuser -u postgres -- env PATH="$PATH" HOME="$dir" "$@"); }

# sql DB 'statements' ...: quiet, stop on the first error
sql() {
	local db=$1
	shift
	as_pg env PGOPTIONS='-c client_min_messages=warning' \
		psql -X -q -At -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d "$db" -c "$@"
}

# bench_initdb: initdb, then the settings every benchmark cluster has
# (socket only, no logging collector, fsync and synchronous_commit off);
# the script appends its own after
bench_initdb() {
	as_pg initdb -D "$data" --auth=trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	cat >>"$data/postgresql.conf" <<CONF

# ---- migsafe bench/$bench_name.sh
port = $port
listen_addresses = ''
unix_socket_directories = '$dir'
logging_collector = off
fsync = off
synchronous_commit = off
CONF
}

# awk functions for the reports, put before a program: sort_nums(a, n)
# sorts a[1..n] as numbers, median(a, n) is the median of a sorted a[1..n]
bench_awk_lib='
function sort_nums(a, n,    i, j, x) {
	for (i = 2; i <= n; i++) {
		x = a[i]; j = i - 1
		while (j >= 1 && a[j] + 0 > x + 0) { a[j + 1] = a[j]; j-- }
		a[j + 1] = x
	}
}
function median(a, n) { return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
'
