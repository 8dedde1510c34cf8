#!/usr/bin/env bash
# install-deps.sh - install what migsafe needs to build and test on Debian
# (PostgreSQL server + headers, libpq headers for migsafe-check,
# pgaudit, pg_repack, pg_partman, pg_cron, TAP test modules (IO::Pty: a
# terminal for t/013_cli.pl), compiler, pg_bsd_indent, dpkg-dev for
# scripts/core-ddl.sh's `apt-get source`, for test/e2e Django with
# psycopg2 and Node.js with npm, and for `make deb` build-essential,
# dpkg-dev, debhelper and pg_buildext).  Idempotent: apt-get runs only
# when a package is missing.  Run as root.  (test/deb/run.sh installs
# debootstrap itself when it makes its root.)  For `make bench`:
# gnuplot-nox (bench/sizes.sh's plot), valgrind (bench/instructions.sh),
# openssl (bench/cli.sh's certificate).
#
# MIGSAFE_PG selects the PostgreSQL major version (15 unless set: Debian
# bookworm's; 17 is Debian trixie's, used in the root scripts/test-chroot.sh
# makes).
set -euo pipefail

pg=${MIGSAFE_PG:-15}

# Debian has no postgresql-contrib-NN; the contrib modules ship in
# postgresql-NN and the postgresql-contrib metapackage pulls that in.
packages=(
	postgresql-$pg
	postgresql-contrib
	postgresql-server-dev-$pg
	libpq-dev
	postgresql-$pg-pgaudit
	postgresql-$pg-repack
	postgresql-$pg-partman
	postgresql-$pg-cron
	libipc-run-perl
	libio-pty-perl
	make
	gcc
	python3-django
	python3-psycopg2
	build-essential
	dpkg-dev
	debhelper
	postgresql-server-dev-all
	gnuplot-nox
	valgrind
	openssl
)
# `make indent` runs on the host: trixie has no pg-bsd-indent package
[[ $pg == 15 ]] && packages+=(pg-bsd-indent)

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
