#!/usr/bin/env bash
# test/deb/run.sh - the Debian package on a fresh Debian machine, as the
# README's "Install" section tells a DBA to install it (part of `make test`;
# alone: `make test REGRESS= ISOLATION= PROVE_TESTS= E2E= DEB=1`).
#
# Builds postgresql-15-migsafe with scripts/deb.sh, then, in a clean
# Debian bookworm root that has only Debian's postgresql-15 (and its main
# cluster, as apt-get install postgresql-15 leaves it):
#
#   apt-get install ./postgresql-15-migsafe_VERSION_ARCH.deb
#   shared_preload_libraries = 'migsafe' in postgresql.conf, restart
#   CREATE EXTENSION migsafe
#
# and checks that the package holds what it should (library, control file,
# every SQL script, migsafe-check when cli/ exists), that a DROP TABLE of
# a table with rows is refused with MS001 and leaves the rows, and that the
# approved DROP TABLE goes through, keeps a snapshot and restore() brings
# the rows back.  The README is checked to give the same three steps.
#
# With MIGSAFE_PG=17 (`make test PG=17` runs this inside the trixie root
# of scripts/test-chroot.sh) the same with postgresql-17-migsafe in a
# trixie root made inside that one.
#
# The root with postgresql-NN is made once with debootstrap under
# /var/tmp/migsafe-deb-SUITE (delete it to start afresh) from the Debian
# mirror this machine's apt sources name, read at run time.  Each run works
# on a throwaway overlay of it (a copy where overlayfs is missing), so every
# run starts from the same clean machine.  Nothing in the root listens on
# TCP (listen_addresses = ''), nothing touches the host's PostgreSQL.
# Runs as root; prints the wall time of its parts.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
src=$PWD
unset MAKEFLAGS MFLAGS MAKELEVEL

# The major version of the package and the Debian release that has it
# (MIGSAFE_PG, as scripts/test-chroot.sh sets it; 15 here).  The README's
# example is 15 whatever the major tested.
major=${MIGSAFE_PG:-15}
case $major in
	15) suite=bookworm ;;
	17) suite=trixie ;;
	*)
		echo "deb-test: PostgreSQL '$major' is not known here (15, 17)" >&2
		exit 2
		;;
esac
base=/var/tmp/migsafe-deb-$suite
start_time=$SECONDS

if [[ $(id -u) -ne 0 ]]; then
	echo "deb-test: must run as root (debootstrap, mount, chroot)" >&2
	exit 1
fi

fail() {
	echo "deb-test: FAILED: $*" >&2
	exit 1
}

# One run at a time per root.
exec 7>"$base.lock"
if ! flock -n 7; then
	echo "deb-test: waiting for another run using $base"
	flock 7
fi

# ------------------------------------------------------------ the package

# first the cheap part: versions in META.json, CHANGELOG.md, debian/
bash test/deb/meta.sh

t=$SECONDS
pkgdir=$(mktemp -d /tmp/migsafe-deb.XXXXXX)
bash scripts/deb.sh "$pkgdir" >"$pkgdir/deb.out" 2>&1 || {
	cat "$pkgdir/deb.out" >&2
	fail "make deb"
}
deb=$(grep "/postgresql-$major-migsafe_[^/]*\.deb$" "$pkgdir/deb.out" | tail -n 1)
[[ -f $deb ]] || {
	cat "$pkgdir/deb.out" >&2
	fail "make deb printed no postgresql-$major-migsafe package"
}
echo "deb-test: built ${deb##*/} in $((SECONDS - t)) s"

# What the package must hold: the library, the control file, every SQL
# script of the tree, and migsafe-check once cli/ is there.
contents=$(dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|')
want=("/usr/lib/postgresql/$major/lib/migsafe.so"
	"/usr/share/postgresql/$major/extension/migsafe.control")
for f in migsafe--*.sql; do
	want+=("/usr/share/postgresql/$major/extension/$f")
done
if [[ -d cli ]]; then
	want+=("/usr/lib/postgresql/$major/bin/migsafe-check")
fi
for f in "${want[@]}"; do
	grep -qxF "$f" <<<"$contents" || fail "${deb##*/} lacks $f"
done
echo "deb-test: ${deb##*/} holds the ${#want[@]} files expected"

# The README's Install section gives the steps this test takes.
install_section=$(awk '/^## Install/ { on = 1; next } /^## / { on = 0 } on' README.md)
for step in "apt-get install ./postgresql-15-migsafe_" \
	"shared_preload_libraries = 'migsafe'" \
	"pg_ctlcluster 15 main restart" \
	"CREATE EXTENSION migsafe;"; do
	grep -qF "$step" <<<"$install_section" ||
		fail "README.md's Install section does not say \"$step\""
done

# ------------------------------------------------------------ the machine

# deb822 stanzas (*.sources) and one-line entries (*.list) of this
# machine's apt sources for the suite, with their -updates and -security
# suites: where the root gets Debian's packages (postgresql-15's point
# releases are in -security and -updates).
sources() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] || continue
		awk -v suite="$suite" '
			function flush() {
				if (deb && ok) print stanza "\n"
				stanza = ""; deb = 0; ok = 0
			}
			/^[ \t]*$/ { flush(); next }
			/^#/ { next }
			{ stanza = stanza (stanza == "" ? "" : "\n") $0 }
			tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
			tolower($1) == "suites:" {
				for (i = 2; i <= NF; i++)
					if ($i == suite || $i == suite "-updates" || $i == suite "-security") ok = 1
			}
			END { flush() }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f $f ]] || continue
		awk -v suite="$suite" '
			$1 == "deb" {
				for (i = 2; i <= NF; i++)
					if ($i == suite || $i == suite "-updates" || $i == suite "-security") { print; break }
			}' "$f"
	done
}

# the mirror debootstrap uses: the first URI given for the suite itself
mirror() {
	sources | awk -v suite="$suite" '
		tolower($1) == "uris:" { uri = $2 }
		tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) { print uri; exit } }
		$1 == "deb" {
			for (i = 2; i <= NF; i++) if ($i == suite) {
				j = 2
				if ($j ~ /^\[/) while ($j !~ /\]$/) j++
				if ($j ~ /^\[/ || $j ~ /\]$/) j++
				print $j; exit
			}
		}'
}

# refuse to delete a directory something is mounted in
remove_tree() {
	if findmnt -rn -o TARGET | grep -q "^$1\(/\|$\)"; then
		echo "deb-test: $1 has mounts (a killed run?); unmount them first:" >&2
		findmnt -rn -o TARGET | grep "^$1\(/\|$\)" >&2
		exit 1
	fi
	rm -rf "$1"
}

mounted=()
unmount_all() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" ||
			echo "deb-test: could not unmount ${mounted[i]}" >&2
	done
	mounted=()
}

# mount_in ROOT TARGET MOUNT-ARGS...: mount under ROOT, unmounted at exit
mount_in() {
	local target=$1$2
	shift 2
	mkdir -p "$target"
	mountpoint -q "$target" || mount "$@" "$target"
	mounted+=("$target")
}

mount_system() {
	mount_in "$1" /proc -t proc proc
	mount_in "$1" /dev --bind /dev
	mount_in "$1" /dev/pts --bind /dev/pts
	mount_in "$1" /dev/shm -t tmpfs -o mode=1777,nosuid,nodev shm
	cp -L /etc/resolv.conf /etc/hosts "$1/etc/"
}

work=
cleanup() {
	if [[ -n $work && -d $work/root/etc/postgresql ]]; then
		chroot "$work/root" pg_ctlcluster "$major" main stop -m immediate >/dev/null 2>&1 || true
	fi
	unmount_all
	if [[ -n $work ]]; then
		mountpoint -q "$work/root" && umount "$work/root"
		remove_tree "$work"
	fi
	rm -rf "$pkgdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ ! -f $base/.migsafe-root ]]; then
	t=$SECONDS
	command -v debootstrap >/dev/null || {
		echo "deb-test: installing debootstrap"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends debootstrap >/dev/null
	}
	uri=$(mirror)
	[[ -n $uri ]] || fail "no $suite archive in /etc/apt/sources.list{,.d/*}"
	echo "deb-test: debootstrap $suite from $uri into $base"
	remove_tree "$base.new"
	debootstrap --variant=minbase \
		--keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		"$suite" "$base.new" "$uri" >"$base.log" 2>&1 || {
		tail -n 30 "$base.log" >&2
		fail "debootstrap (log in $base.log)"
	}
	# the machine's own sources for the suite, its -updates and -security
	rm -f "$base.new/etc/apt/sources.list"
	sources >"$base.new/etc/apt/sources.list.d/debian.sources.tmp"
	if grep -q '^deb ' "$base.new/etc/apt/sources.list.d/debian.sources.tmp"; then
		grep '^deb ' "$base.new/etc/apt/sources.list.d/debian.sources.tmp" \
			>"$base.new/etc/apt/sources.list.d/debian.list"
	fi
	grep -v '^deb ' "$base.new/etc/apt/sources.list.d/debian.sources.tmp" \
		>"$base.new/etc/apt/sources.list.d/debian.sources" || true
	rm "$base.new/etc/apt/sources.list.d/debian.sources.tmp"
	mkdir -p "$base.new/usr/share/keyrings"
	cp -n /usr/share/keyrings/debian-archive-*.gpg "$base.new/usr/share/keyrings/" 2>/dev/null || true
	# No service starts in the root (apt-get would start the cluster on
	# the host's port); the test starts it with pg_ctlcluster.
	printf '#!/bin/sh\nexit 101\n' >"$base.new/usr/sbin/policy-rc.d"
	chmod 755 "$base.new/usr/sbin/policy-rc.d"
	# Debian's PostgreSQL, as on the machine the README is for
	mount_system "$base.new"
	chroot "$base.new" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
		sh -c "apt-get update -qq && apt-get install -y -q postgresql-$major" \
		>>"$base.log" 2>&1 || {
		unmount_all
		tail -n 30 "$base.log" >&2
		fail "apt-get install postgresql-$major in the root (log in $base.log)"
	}
	chroot "$base.new" apt-get clean
	unmount_all
	remove_tree "$base"
	mv "$base.new" "$base"
	touch "$base/.migsafe-root"
	echo "deb-test: root with postgresql-$major made in $((SECONDS - t)) s"
else
	echo "deb-test: reusing $base"
fi

# ------------------------------------------------------------ the install

t=$SECONDS
work=$(mktemp -d /var/tmp/migsafe-deb-run.XXXXXX)
mkdir -p "$work/root" "$work/upper" "$work/work"
if ! mount -t overlay overlay \
	-o "lowerdir=$base,upperdir=$work/upper,workdir=$work/work" "$work/root" 2>/dev/null; then
	cp -a "$base/." "$work/root/"
fi
root=$work/root
mount_system "$root"
cp "$deb" "$root/tmp/"

# in_root CMD...: a command in the root as root, with a clean environment
in_root() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
psql_in() {
	in_root PGOPTIONS="-c client_min_messages=warning" \
		runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 "$@"
}

# 1. apt-get install ./postgresql-15-migsafe_VERSION_ARCH.deb
in_root sh -c "cd /tmp && apt-get install -y -q ./${deb##*/}" >"$work/apt.log" 2>&1 || {
	cat "$work/apt.log" >&2
	fail "apt-get install ./${deb##*/}"
}
in_root dpkg-query -W -f='${Status}\n' "postgresql-$major-migsafe" |
	grep -qx "install ok installed" || fail "postgresql-$major-migsafe is not installed"

# 2. shared_preload_libraries in postgresql.conf, restart.  (The root
# has no TCP: its cluster shares the host's network.)
conf=/etc/postgresql/$major/main/postgresql.conf
[[ -f $root$conf ]] || fail "apt-get install postgresql-$major made no main cluster"
echo "shared_preload_libraries = 'migsafe'" >>"$root$conf"
echo "listen_addresses = ''" >>"$root$conf"
in_root pg_ctlcluster "$major" main restart >"$work/start.log" 2>&1 || {
	cat "$work/start.log" "$root/var/log/postgresql/postgresql-$major-main.log" >&2 || true
	fail "pg_ctlcluster $major main restart"
}

# 3. CREATE EXTENSION migsafe, then a DROP TABLE refused and one approved
psql_in -c "CREATE EXTENSION migsafe;" || fail "CREATE EXTENSION migsafe"
psql_in -c "CREATE TABLE orders (id int PRIMARY KEY, item text);
	INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 100) g;"

refused=$(psql_in -v VERBOSITY=verbose -c "DROP TABLE orders;" 2>&1 || true)
grep -q 'ERROR:  MS001: DROP TABLE on table "public.orders" requires migsafe approval' <<<"$refused" ||
	fail "an unapproved DROP TABLE was not refused: $refused"
[[ $(psql_in -At -c "SELECT count(*) FROM orders") == 100 ]] ||
	fail "the refused DROP TABLE changed the table"

psql_in -c "BEGIN; SET LOCAL migsafe.approve = 'public.orders'; DROP TABLE orders; COMMIT;" ||
	fail "the approved DROP TABLE failed"
[[ $(psql_in -At -c "SELECT to_regclass('public.orders') IS NULL") == t ]] ||
	fail "the approved DROP TABLE left the table"
[[ $(psql_in -At -c "SELECT count(*) FROM migsafe.snapshots") -ge 1 ]] ||
	fail "the approved DROP TABLE kept no snapshot"
psql_in -c "SELECT migsafe.restore('public.orders');" >/dev/null ||
	fail "migsafe.restore('public.orders')"
[[ $(psql_in -At -c "SELECT count(*), sum(id) FROM orders") == "100|5050" ]] ||
	fail "restore() did not bring the 100 rows back"
[[ $(psql_in -At -c "SELECT extversion FROM pg_extension WHERE extname = 'migsafe'") == \
	"$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" migsafe.control)" ]] ||
	fail "the installed extension is not migsafe.control's default_version"
if [[ -d cli ]]; then
	in_root "/usr/lib/postgresql/$major/bin/migsafe-check" --help >/dev/null 2>&1 ||
		fail "migsafe-check --help in the root"
fi

echo "deb-test: installed, preloaded, refused, approved, restored in $((SECONDS - t)) s"
echo "deb-test: passed in $((SECONDS - start_time)) s all told"
