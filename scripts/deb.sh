#!/usr/bin/env bash
# deb.sh - what `make deb` runs: Debian packages of migsafe, one per
# PostgreSQL major version installed here (postgresql-NN-migsafe), built
# the way Debian builds PostgreSQL extensions (debian/rules: dh with
# pg_buildext, from postgresql-server-dev-all).
#
#   bash scripts/deb.sh [OUTDIR]      (default: dist/)
#
# The checkout (without .git and build outputs) is copied to
# OUTDIR/build/migsafe-VERSION and built there, so the checkout's own build
# stays as it is.  VERSION is migsafe.control's default_version, the only
# place the version is written: this script writes debian/changelog into
# the copy with it.  The majors built are
# those whose postgresql-server-dev-NN is installed and that
# debian/pgversions lists; debian/control is brought up to date with them
# in the copy (pg_buildext updatecontrol).  The last lines printed are the
# paths of the packages built, one a line.
#
# Needs dpkg-dev, debhelper and postgresql-server-dev-all (`make deps`
# installs them).  Runs as any user.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
src=$PWD
unset MAKEFLAGS MFLAGS MAKELEVEL

out=${1:-dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)

version=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" migsafe.control)
if [[ -z $version ]]; then
	echo "deb: no default_version in migsafe.control" >&2
	exit 1
fi

for cmd in dpkg-buildpackage dh pg_buildext; do
	if ! command -v "$cmd" >/dev/null; then
		echo "deb: $cmd not found; install dpkg-dev, debhelper and postgresql-server-dev-all (make deps)" >&2
		exit 1
	fi
done

build=$out/build
copy=$build/migsafe-$version
rm -rf "$build"
mkdir -p "$copy"
tar -C "$src" -cf - \
	--exclude=./.git --exclude="./${out#"$src"/}" --exclude=./dist \
	--exclude='./tmp_check*' --exclude=./results --exclude=./output_iso \
	--exclude=./log --exclude=./regression.diffs --exclude=./regression.out \
	--exclude='*.o' --exclude='*.so' --exclude='*.bc' \
	. | tar -C "$copy" -xf -

# The release date of the package is the last commit's, so that two builds
# of one commit give the same changelog.
when=$(git -C "$src" log -1 --format=%aD 2>/dev/null || date -R)
cat >"$copy/debian/changelog" <<EOF
migsafe ($version) unstable; urgency=medium

  * migsafe $version; see CHANGELOG.md in /usr/share/doc/postgresql-*-migsafe.

 -- migsafe developers <migsafe@localhost>  $when
EOF

# Build for every installed server-dev version that debian/pgversions lists
# (not only the distribution's default one), and let debian/control follow.
export PG_SUPPORTED_VERSIONS=installed
export PG_UPDATECONTROL=yes
majors=$(cd "$copy" && pg_buildext supported-versions | tr '\n' ' ')
if [[ -z ${majors// /} ]]; then
	echo "deb: no PostgreSQL version both installed (postgresql-server-dev-NN) and in debian/pgversions ($(tr '\n' ' ' <debian/pgversions))" >&2
	exit 1
fi
echo "deb: building migsafe $version for PostgreSQL ${majors% } in $copy"
(cd "$copy" && pg_buildext updatecontrol &&
	dpkg-buildpackage -us -uc -b) >"$build/build.log" 2>&1 || {
	tail -n 60 "$build/build.log" >&2
	echo "deb: dpkg-buildpackage failed; full log in $build/build.log" >&2
	exit 1
}

debs=()
for major in $majors; do
	f=$build/postgresql-$major-migsafe_${version}_$(dpkg --print-architecture).deb
	if [[ ! -f $f ]]; then
		echo "deb: $f was not built; see $build/build.log" >&2
		exit 1
	fi
	mv "$f" "$out/"
	debs+=("$out/${f##*/}")
done
echo "deb: built (log in $build/build.log):"
printf '%s\n' "${debs[@]}"
