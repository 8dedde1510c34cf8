#!/usr/bin/env bash
# install-deps.sh - install what migsafe needs to build and test on Debian
# bookworm (PostgreSQL 15 server + headers, pgaudit, TAP test modules,
# compiler, pg_bsd_indent, for test/e2e Django with psycopg2 and Node.js
# with npm, for `make deb` dpkg-dev, debhelper and pg_buildext).
# Idempotent: apt-get runs only when a package is missing.  Run as root.
# (test/deb/run.sh installs debootstrap itself when it needs to make its
# root.)
set -euo pipefail

# bookworm has no postgresql-contrib-15; the contrib modules ship in
# postgresql-15 and the postgresql-contrib metapackage pulls that in.
packages=(
	postgresql-15
	postgresql-contrib
	postgresql-server-dev-15
	postgresql-15-pgaudit
	postgresql-15-repack
	postgresql-15-partman
	postgresql-15-cron
	libipc-run-perl
	make
	gcc
	pg-bsd-indent
	python3-django
	python3-psycopg2
	dpkg-dev
	debhelper
	postgresql-server-dev-all
)

missing=()
for pkg in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	if [[ $status != "install ok installed" ]]; then
		missing+=("$pkg")
	fi
done

# Node.js may come from elsewhere than Debian (NodeSource's nodejs ships
# npm itself and conflicts with Debian's npm): only the commands count.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)

if [[ ${#missing[@]} -eq 0 ]]; then
	echo "install-deps: all ${#packages[@]} packages already installed, nothing to do"
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root (e.g. sudo bash scripts/install-deps.sh) to install them" >&2
	exit 1
fi

echo "install-deps: installing missing packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
