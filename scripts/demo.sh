#!/usr/bin/env bash
# demo.sh - what `make demo` runs (as root, from the checkout): build and
# install migsafe, start a throwaway PostgreSQL 15 cluster with migsafe
# preloaded and run demo/demo.sql through psql, echoing every statement.
# Errors do not stop psql: showing a blocked migration is the point.
# The cluster is stopped and removed at exit unless KEEP=1 is set.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH=/usr/lib/postgresql/15/bin:$PATH
unset MAKEFLAGS MFLAGS MAKELEVEL

if [[ $(id -u) -ne 0 ]]; then
	echo "demo: must run as root (installs packages and migsafe, uses runuser)" >&2
	exit 1
fi

# One install at a time on this machine (see scripts/run-tests.sh): the
# lock is held until the demo ends; the demo's server does not inherit it.
exec 9>/tmp/migsafe-test.lock
flock 9

bash scripts/install-deps.sh
make -s
make -s install

# The server listens only on a socket in its own private directory, so a
# fixed port cannot clash with another cluster.
port=54329

dir=$(mktemp -d /tmp/migsafe-demo.XXXXXX)
chown postgres:postgres "$dir"
chmod 755 "$dir"
# run as postgres from $dir (the checkout may be unreadable for postgres)
as_pg() { (cd "$dir" && runuser -u postgres -- env PATH="$PATH" HOME="$dir" "$@"); }

cleanup() {
	if [[ ${KEEP:-} == 1 ]]; then
		echo
		echo "demo: cluster kept running in $dir (port $port)"
		echo "  connect: psql -h $dir -p $port -U postgres -d postgres"
		echo "  stop:    (cd / && runuser -u postgres -- $(command -v pg_ctl) -D $dir/data stop) && rm -rf $dir"
		return
	fi
	if [[ -f $dir/data/postmaster.pid ]]; then
		as_pg pg_ctl -D "$dir/data" -m fast -w stop >/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT

echo "demo: creating a throwaway cluster in $dir"
as_pg initdb -D "$dir/data" --auth=trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" ||
	{ cat "$dir/initdb.log"; exit 1; }
cat >>"$dir/data/postgresql.conf" <<CONF

# migsafe demo
shared_preload_libraries = 'migsafe'
port = $port
listen_addresses = ''
unix_socket_directories = '$dir'
CONF
as_pg pg_ctl -D "$dir/data" -w -l "$dir/server.log" start >/dev/null 9>&- ||
	{ tail -n 40 "$dir/server.log"; exit 1; }

echo "demo: running demo/demo.sql (port $port)"
echo
psql -X -v ON_ERROR_STOP=0 -h "$dir" -p "$port" -U postgres -d postgres -e -f demo/demo.sql
