#!/usr/bin/env bash
# dist.sh - what `make dist` runs: the PGXN distribution of the committed
# tree, OUTDIR/migsafe-VERSION.zip (default dist/), with META.json made
# from META.json.in and migsafe.control's default_version (the only place
# the version is written; PGXN wants a semantic version, so 1.1 is written
# 1.1.0 there).  Prints the path of the zip.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)

version=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" migsafe.control)
if [[ -z $version ]]; then
	echo "dist: no default_version in migsafe.control" >&2
	exit 1
fi
if ! git diff --quiet HEAD -- 2>/dev/null; then
	echo "dist: warning: uncommitted changes are not in the zip" >&2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
semver=$version
[[ $semver =~ ^[0-9]+\.[0-9]+$ ]] && semver=$semver.0
sed "s/@VERSION@/$semver/g" META.json.in >"$tmp/META.json"
zip=$out/migsafe-$version.zip
rm -f "$zip"
git archive --format=zip --prefix="migsafe-$version/" \
	--add-file="$tmp/META.json" -o "$zip" HEAD
echo "$zip"
