#!/usr/bin/env bash
# test-chroot.sh - what `make test PG=NN` runs (as root, from the checkout):
# the whole suite against another PostgreSQL major version, in a Debian
# root that has it.
#
#   bash scripts/test-chroot.sh 17
#
# PostgreSQL 17 is Debian 13 "trixie"'s.  The root is made once with
# debootstrap (installed from Debian with apt-get if missing) under
# /var/tmp/migsafe-<suite> and reused by later runs; delete that directory
# to start afresh.  Packages come from the mirror this machine's apt
# sources name (read at run time, never written here).  Inside the root,
# /proc, /dev, /dev/pts and /dev/shm are mounted for the run and always
# unmounted at exit.  The checkout (without .git and build outputs) is
# copied into the root, and scripts/run-tests.sh runs there with
# MIGSAFE_PG set: it installs the packages of that major version with
# apt-get, builds and installs migsafe into the root's server, and runs
# pg_regress, isolation, TAP and e2e as user postgres, exactly as on the
# host.  REGRESS, ISOLATION, PROVE_TESTS and E2E select subsets as for
# `make test`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
src=$PWD
unset MAKEFLAGS MFLAGS MAKELEVEL

major=${1:-}
case $major in
	17) suite=trixie ;;
	*)
		echo "test-chroot: PostgreSQL '$major' is not supported here (known: 17; 15 is the host's, run \`make test\`)" >&2
		exit 2
		;;
esac

if [[ $(id -u) -ne 0 ]]; then
	echo "test-chroot: must run as root (debootstrap, mount, chroot)" >&2
	exit 1
fi

root=/var/tmp/migsafe-$suite
start_time=$SECONDS

# One run per root: a second run would mount over the first one's mounts
# and replace its copy of the tree.
exec 8>"$root.lock"
if ! flock -n 8; then
	echo "test-chroot: waiting for another run in $root"
	flock 8
fi

# mirror: the first Debian archive (not -security) in this machine's apt
# sources, deb822 *.sources files first, then one-line *.list files
mirror() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] || continue
		uri=$(awk '
			/^[ \t]*$/ { if (deb && uri != "" && !sec) { print uri; exit } deb = 0; uri = ""; sec = 0; next }
			tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
			tolower($1) == "uris:" { uri = $2 }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i ~ /-security$/) sec = 1 }
			END { if (deb && uri != "" && !sec) print uri }' "$f" | head -n 1)
		if [[ -n $uri ]]; then
			echo "$uri"
			return
		fi
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f $f ]] || continue
		uri=$(awk '
			$1 == "deb" {
				i = 2
				if ($i ~ /^\[/) while (i <= NF && $i !~ /\]$/) i++
				if ($i ~ /^\[/ || $i ~ /\]$/) i++
				if ($(i + 1) !~ /-security$/) { print $i; exit }
			}' "$f")
		if [[ -n $uri ]]; then
			echo "$uri"
			return
		fi
	done
}

# refuse to delete a directory something is mounted in (a bind of /dev
# left by a killed run would take the host's with it)
remove_root() {
	if findmnt -rn -o TARGET | grep -q "^$1/"; then
		echo "test-chroot: $1 has mounts (a killed run?); unmount them first:" >&2
		findmnt -rn -o TARGET | grep "^$1/" >&2
		exit 1
	fi
	rm -rf "$1"
}

# ------------------------------------------------------------ the root

if [[ ! -f $root/.migsafe-root ]]; then
	if ! command -v debootstrap >/dev/null; then
		echo "test-chroot: installing debootstrap"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap
	fi
	uri=$(mirror)
	if [[ -z $uri ]]; then
		echo "test-chroot: no Debian archive found in /etc/apt/sources.list{,.d/*}" >&2
		exit 1
	fi
	echo "test-chroot: debootstrap $suite from $uri into $root"
	remove_root "$root.new"
	t=$SECONDS
	debootstrap --variant=minbase \
		--keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		"$suite" "$root.new" "$uri"
	# No service starts in the root: the packages' clusters and daemons
	# would listen on the ports of the host's.
	printf '#!/bin/sh\nexit 101\n' >"$root.new/usr/sbin/policy-rc.d"
	chmod 755 "$root.new/usr/sbin/policy-rc.d"
	# and postgresql-common makes no cluster: the tests make their own
	mkdir -p "$root.new/etc/postgresql-common/createcluster.d"
	echo "create_main_cluster = false" \
		>"$root.new/etc/postgresql-common/createcluster.d/migsafe.conf"
	remove_root "$root"
	mv "$root.new" "$root"
	touch "$root/.migsafe-root"
	echo "test-chroot: root made in $((SECONDS - t)) s"
else
	echo "test-chroot: reusing $root"
fi

# ------------------------------------------------------------ mounts

mounted=()
cleanup() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" ||
			echo "test-chroot: could not unmount ${mounted[i]}" >&2
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# mount_in TARGET MOUNT-ARGS...: mount under the root (unless a run that
# was killed left it mounted) and unmount at exit
mount_in() {
	local target=$root$1
	shift
	mkdir -p "$target"
	if ! mountpoint -q "$target"; then
		mount "$@" "$target"
	fi
	mounted+=("$target")
}
mount_in /proc -t proc proc
mount_in /dev --bind /dev
mount_in /dev/pts --bind /dev/pts
mount_in /dev/shm -t tmpfs -o mode=1777,nosuid,nodev shm

# name resolution for apt-get and npm, and the certificate authorities
# this machine adds to Debian's (a TLS proxy's, for npm), as on the host
cp -L /etc/resolv.conf /etc/hosts "$root/etc/"
mkdir -p "$root/usr/local/share/ca-certificates"
if [[ -d /usr/local/share/ca-certificates ]]; then
	cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
fi
if [[ -x $root/usr/sbin/update-ca-certificates ]]; then
	chroot "$root" /usr/sbin/update-ca-certificates >/dev/null
fi

# ------------------------------------------------------------ the run

dest=/usr/src/migsafe
echo "test-chroot: copying the tree to $root$dest"
rm -rf "$root$dest"
mkdir -p "$root$dest"
tar -C "$src" -cf - \
	--exclude=./.git --exclude='./tmp_check*' --exclude=./results \
	--exclude=./output_iso --exclude=./log \
	--exclude=./regression.diffs --exclude=./regression.out \
	--exclude='*.o' --exclude='*.so' --exclude='*.bc' \
	. | tar -C "$root$dest" -xf -

# Only the suite selection crosses into the root; set-but-empty stays so.
envs=(MIGSAFE_PG="$major" HOME=/root LANG=C.UTF-8
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
for v in REGRESS ISOLATION PROVE_TESTS E2E KEEP_E2E DEB; do
	[[ -v $v ]] && envs+=("$v=${!v}")
done

# No /tmp/migsafe-test.lock here: that lock guards the host's PostgreSQL,
# which this run neither installs into nor starts.  Its servers listen only
# on sockets in private directories of the root (run-tests.sh takes the
# root's own /tmp/migsafe-test.lock), so it can run beside a host run.

echo "test-chroot: scripts/run-tests.sh in $root (PostgreSQL $major)"
status=0
t=$SECONDS
chroot "$root" /usr/bin/env -i "${envs[@]}" bash "$dest/scripts/run-tests.sh" || status=$?
echo "test-chroot: run-tests.sh $((SECONDS - t)) s, all told $((SECONDS - start_time)) s"
if [[ $status -ne 0 ]]; then
	echo "test-chroot: FAILED on PostgreSQL $major (a failing run keeps its copy in $root/tmp/migsafe-test.*)" >&2
	exit "$status"
fi
