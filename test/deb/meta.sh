#!/usr/bin/env bash
# test/deb/meta.sh - the release metadata agree with migsafe.control, the
# only place the version is written (run by test/deb/run.sh):
#
# - `make dist`'s zip holds migsafe-VERSION/META.json, valid against the
#   PGXN Meta spec 1.0.0's required keys, whose version and the version of
#   what it provides are migsafe.control's default_version (as a semantic
#   version), with every file it names in the zip;
# - CHANGELOG.md has an entry for every version of the upgrade chain
#   (migsafe--*.sql), newest first, each dated (YYYY-MM-DD), the current
#   one dated or "unreleased";
# - neither the Makefile, META.json.in nor debian/ writes the version.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

fail() {
	echo "meta-test: FAILED: $*" >&2
	exit 1
}

version=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" migsafe.control)
[[ -n $version ]] || fail "no default_version in migsafe.control"

# the version written nowhere else (file names of the scripts aside)
if grep -n -F "$version" Makefile | grep -v 'migsafe--'; then
	fail "the Makefile writes the version $version; derive it from migsafe.control"
fi
grep -q '"version": "@VERSION@"' META.json.in || fail "META.json.in's version is not @VERSION@"
if grep -n -F "\"$version" META.json.in; then
	fail "META.json.in writes the version $version"
fi
if [[ -e debian/changelog ]]; then
	fail "debian/changelog is checked in; scripts/deb.sh writes it from migsafe.control"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# CHANGELOG.md: "## X.Y (YYYY-MM-DD)" for every version, newest first
python3 - "$version" migsafe--*.sql <<'EOF' || fail "CHANGELOG.md (see above)"
import re, sys
current, scripts = sys.argv[1], sys.argv[2:]
chain = set()
for s in scripts:
    m = re.fullmatch(r'migsafe--([0-9.]+)(?:--([0-9.]+))?\.sql', s)
    chain.update(v for v in m.groups() if v)
heads = re.findall(r'^## (\S+)(.*)$', open('CHANGELOG.md').read(), re.M)
ok = True
if not heads or heads[0][0] != current:
    print(f"CHANGELOG.md's first entry is not {current}"); ok = False
for v, rest in heads:
    dated = re.fullmatch(r' \(\d{4}-\d{2}-\d{2}\)', rest)
    if not dated and not (v == current and rest == ' (unreleased)'):
        print(f"CHANGELOG.md: '## {v}{rest}' has no date (YYYY-MM-DD)"); ok = False
key = lambda v: [int(x) for x in v.split('.')]
versions = [v for v, _ in heads]
if versions != sorted(versions, key=key, reverse=True):
    print("CHANGELOG.md's entries are not newest first"); ok = False
for v in sorted(chain - set(versions), key=key):
    print(f"CHANGELOG.md has no entry for {v} (migsafe--*.sql)"); ok = False
sys.exit(0 if ok else 1)
EOF

# make dist and its META.json (needs the git repository: skipped in a copy)
if ! git rev-parse --git-dir >/dev/null 2>&1; then
	echo "meta-test: CHANGELOG.md and the version checked; no git repository here, make dist skipped"
	exit 0
fi
zip=$(bash scripts/dist.sh "$tmp" | tail -n 1)
[[ $zip == "$tmp/migsafe-$version.zip" && -f $zip ]] || fail "make dist made no $tmp/migsafe-$version.zip"
unzip -q -d "$tmp" "$zip"
python3 - "$version" "$tmp/migsafe-$version" <<'EOF' || fail "META.json (see above)"
import json, os, re, sys
version, top = sys.argv[1], sys.argv[2]
semver = version + '.0' if re.fullmatch(r'\d+\.\d+', version) else version
meta = json.load(open(os.path.join(top, 'META.json')))
ok = True
for k in ('name', 'abstract', 'version', 'maintainer', 'license', 'provides', 'meta-spec'):
    if k not in meta:
        print(f"META.json lacks {k}"); ok = False
if meta.get('meta-spec', {}).get('version') != '1.0.0':
    print("META.json's meta-spec is not 1.0.0"); ok = False
if meta.get('name') != 'migsafe':
    print("META.json's name is not migsafe"); ok = False
if meta.get('version') != semver:
    print(f"META.json's version {meta.get('version')} is not {semver} (migsafe.control)"); ok = False
for name, p in meta.get('provides', {}).items():
    if p.get('version') != semver:
        print(f"META.json: {name}'s version {p.get('version')} is not {semver}"); ok = False
    for k in ('file', 'docfile'):
        if k in p and not os.path.exists(os.path.join(top, p[k])):
            print(f"META.json: {name}'s {k} {p[k]} is not in the zip"); ok = False
sys.exit(0 if ok else 1)
EOF
echo "meta-test: version $version: META.json ($(basename "$zip")), CHANGELOG.md, Makefile and debian/ agree"
