#!/usr/bin/env bash
# core-ddl.sh - PostgreSQL's own DDL regression cases, with and without
# migsafe (what `make core-ddl` runs, and a step of `make test` on
# PostgreSQL 15; docs/development.md says what it found).
#
# Runs a set of tests of PostgreSQL 15's own regression suite (see $tests
# below) with pg_regress from the installed server's PGXS, twice, each in a
# throwaway instance on a private port:
#
#   vanilla  no migsafe at all
#   migsafe  shared_preload_libraries = 'migsafe', CREATE EXTENSION migsafe
#            in the regression database (--load-extension), migsafe.mode =
#            warn, and migsafe.approve = '*' from PGOPTIONS (migsafe refuses
#            approvals from configuration files)
#
# Vanilla results are compared with upstream's expected files (a difference
# there is reported, not fatal: it is this build's, not migsafe's).  The
# migsafe results must equal the vanilla results once migsafe's own messages
# are taken out: the WARNING of warn mode with its DETAIL and HINT, and the
# NOTICEs about kept snapshots (see filter_migsafe); and, a known and
# intended difference documented in docs/development.md, the rows of migsafe's own
# tables in listings of locks (see filter_migsafe_locks).  Every other
# difference makes the suite fail, with the diff printed.
#
# The tests come from the postgresql-15 source package, fetched once with
# `apt-get source` into $CORE_DDL_CACHE (default /var/tmp/migsafe-core-ddl)
# and reused.  For that the script adds deb-src entries mirroring this
# machine's Debian `deb` entries (read at run time from /etc/apt) in
# /etc/apt/sources.list.d/migsafe-deb-src.sources.  It asks for the source
# version equal to the installed postgresql-15; if the archive no longer has
# it, it takes the newest and says so (tests of another minor version may
# expect other output from this server: the vanilla-vs-upstream comparison
# shows it, the migsafe-vs-vanilla comparison is unaffected).
#
# Run as root.  It builds this checkout and installs it into the system
# PostgreSQL 15 under the lock of `make test` (/tmp/migsafe-test.lock), held
# for the whole run so that no other checkout swaps the library meanwhile;
# run-tests.sh, which holds that lock and has installed already, sets
# MIGSAFE_TEST_LOCKED=1 to skip both.  Settings from the environment:
#   CORE_DDL_TESTS    tests to run (default: all of $tests, in that order;
#                     prerequisites are not added for you)
#   CORE_DDL_SNAPSHOT migsafe.snapshot in the migsafe run (default on)
#   CORE_DDL_KEEP=1   keep the work directory under /tmp
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
src=$PWD
pgbin=/usr/lib/postgresql/15/bin
export PATH=$pgbin:$PATH
cache=${CORE_DDL_CACHE:-/var/tmp/migsafe-core-ddl}
apt_list=/etc/apt/sources.list.d/migsafe-deb-src.sources

say() { echo "core-ddl: $*"; }
die() { echo "core-ddl: $*" >&2; echo "core-ddl: FAIL"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (apt-get, runuser)"

# ---------------------------------------------------------------- source

# Print deb-src paragraphs mirroring every enabled deb822 `deb` entry of
# this machine whose suite is the Debian release's (bookworm,
# bookworm-updates, bookworm-security): security updates of postgresql-15
# come from the last one.
debsrc_deb822() {
	local codename=$1 f
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f $f && $f != "$apt_list" ]] || continue
		awk -v cn="$codename" '
			function flush(   i, n, s, ok) {
				if (types ~ /(^|[ \t])deb([ \t]|$)/ && tolower(enabled) != "no") {
					n = split(suites, s, /[ \t]+/)
					ok = 0
					for (i = 1; i <= n; i++)
						if (s[i] == cn || index(s[i], cn "-") == 1)
							ok = 1
					if (ok)
						printf "Types: deb-src\n%s\n\n", body
				}
				types = suites = enabled = body = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			/^Types:/ { types = $0; sub(/^Types:[ \t]*/, "", types); next }
			/^Enabled:/ { enabled = $2 }
			/^Suites:/ { suites = $0; sub(/^Suites:[ \t]*/, "", suites) }
			{ body = body (body == "" ? "" : "\n") $0 }
			END { flush() }' "$f"
	done
}

# The same for one-line entries (/etc/apt/sources.list and *.list):
# "deb [options] URI suite component...", written as deb822.
debsrc_oneline() {
	local codename=$1 f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f $f ]] || continue
		awk -v cn="$codename" '
			$1 != "deb" { next }
			{
				i = 2
				opts = ""
				if ($2 ~ /^\[/) {
					while (i <= NF && $i !~ /\]$/) { opts = opts " " $i; i++ }
					opts = opts " " $i
					i++
				}
				uri = $i; suite = $(i + 1)
				if (suite != cn && index(suite, cn "-") != 1)
					next
				comps = ""
				for (j = i + 2; j <= NF; j++) comps = comps " " $j
				printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents:%s\n", uri, suite, comps
				if (match(opts, /signed-by=[^] ]+/))
					printf "Signed-By: %s\n", substr(opts, RSTART + 10, RLENGTH - 10)
				printf "\n"
			}' "$f"
	done
}

# Fetch (once) the postgresql-15 source matching the installed server into
# $cache; set $pgsrc to its tree and $srcver to its version.
fetch_source() {
	local installed codename entries dir v versions
	installed=$(dpkg-query -W -f='${Version}' postgresql-15)
	mkdir -p "$cache"
	# Reuse a tree of the installed version, or failing that whatever
	# tree is there (the newest one fetched earlier).
	for dir in "$cache/$installed" $(ls -d "$cache"/*/ 2>/dev/null | sort -rV); do
		if [[ -f $dir/src/test/regress/parallel_schedule ]]; then
			pgsrc=${dir%/}
			srcver=$(basename "$pgsrc")
			[[ $srcver == "$installed" ]] && return 0
			break
		fi
	done
	# The archive did not serve the installed version last time: ask it
	# again only when told to (CORE_DDL_REFETCH=1), not on every run.
	if [[ -n ${pgsrc:-} && -f $cache/.unavailable-$installed && -z ${CORE_DDL_REFETCH:-} ]]; then
		say "reusing source $srcver (source $installed was not available; CORE_DDL_REFETCH=1 asks again)"
		return 0
	fi

	codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
	entries=$(debsrc_deb822 "$codename"; debsrc_oneline "$codename")
	if [[ -z $entries ]]; then
		[[ -n ${pgsrc:-} ]] && { say "no Debian entry in /etc/apt for deb-src; reusing source $srcver"; return 0; }
		die "no Debian $codename entry found in /etc/apt to add deb-src for"
	fi
	if [[ ! -f $apt_list ]] || [[ $(cat "$apt_list") != "$entries" ]]; then
		say "writing $apt_list (deb-src for this machine's Debian entries)"
		printf '%s\n' "$entries" >"$apt_list"
	fi
	say "apt-get update"
	apt-get update -qq

	# The installed version first, then the others newest first: an
	# index may list a version whose files the mirror does not serve.
	versions=$(apt-cache showsrc --only-source postgresql-15 |
		sed -n 's/^Version: //p' | sort -rV | uniq)
	[[ -n $versions ]] || die "no postgresql-15 source package in the archive"
	if grep -qxF "$installed" <<<"$versions"; then
		versions=$(printf '%s\n' "$installed"; grep -vxF "$installed" <<<"$versions")
	else
		touch "$cache/.unavailable-$installed"
	fi
	for v in $versions; do
		if [[ -n ${pgsrc:-} ]] && dpkg --compare-versions "$srcver" ge "$v"; then
			say "reusing source $srcver (installed server: $installed)"
			return 0
		fi
		dir=$(mktemp -d "$cache/fetch.XXXXXX")
		# apt downloads as _apt when it can write there
		chown _apt "$dir" 2>/dev/null || true
		say "apt-get source postgresql-15=$v into $cache"
		if (cd "$dir" && apt-get source -qq --only-source "postgresql-15=$v" >/dev/null); then
			rm -rf "${cache:?}/$v"
			mv "$dir"/postgresql-15-*/ "$cache/$v"
			rm -rf "$dir"
			break
		fi
		rm -rf "$dir"
		say "could not fetch source $v"
		[[ $v == "$installed" ]] && touch "$cache/.unavailable-$installed"
		v=
	done
	[[ -n $v ]] || die "could not fetch any postgresql-15 source package"
	[[ $v == "$installed" ]] ||
		say "source $v differs from the installed server $installed: upstream's expected output may differ, the migsafe comparison does not"
	pgsrc=$cache/$v
	srcver=$v
}

# ---------------------------------------------------------------- tests

# PostgreSQL's DDL tests, with the prerequisites they need (test_setup,
# create_index: see the head of parallel_schedule).  They run in
# parallel_schedule's order and groups.
tests="test_setup create_table create_type create_schema create_index
	create_view create_aggregate create_function_sql create_cast
	constraints triggers inherit typed_table drop_if_exists updatable_views
	create_am namespace privileges matview replica_identity rowsecurity
	object_address drop_operator identity generated create_table_like
	alter_generic alter_operator foreign_key cluster dependency
	foreign_data domain truncate alter_table sequence temp hash_part
	indexing partition_info reloptions event_trigger fast_default"
tests=${CORE_DDL_TESTS:-$tests}

# Write to stdout parallel_schedule reduced to the tests in $tests, in its
# order and groups; die if one of them is not in it.
make_schedule() {
	local sched=$1 t
	for t in $tests; do
		grep -Eq "^(test|ignore): (.* )?$t( |\$)" "$sched" ||
			die "test \"$t\" is not in $sched"
	done
	awk -v want="$tests" '
		BEGIN { n = split(want, w, /[ \t\n]+/); for (i = 1; i <= n; i++) keep[w[i]] = 1 }
		/^test:/ {
			line = ""
			for (i = 2; i <= NF; i++) if ($i in keep) line = line " " $i
			if (line != "") print "test:" line
		}' "$sched"
}

# Remove migsafe's own messages from a results file (stdin to stdout): the
# NOTICE of a kept snapshot, and every WARNING whose text is one of
# migsafe's (warn mode's refusal, a dependency on a temporary object, a
# lock wait, a snapshot's schema), each with the DETAIL, HINT and CONTEXT
# lines that follow it (only those: any other line after it stays, and
# shows as a difference if it is new).
filter_migsafe() {
	awk '
		function ours(msg) {
			return msg ~ /^NOTICE:  migsafe kept snapshot [0-9]+ of / ||
				msg ~ /^WARNING:  .* requires migsafe approval/ ||
				msg ~ /^WARNING:  .* depends on temporary / ||
				msg ~ /^WARNING:  .* will wait for a lock in .* mode on .* behind a long-running or idle transaction$/ ||
				msg ~ /^WARNING:  the data of migsafe snapshot [0-9]+ is kept in schema /
		}
		skipping && /^(DETAIL|HINT|CONTEXT):  / { next }
		{ skipping = 0 }
		ours($0) { skipping = 1; next }
		{ print }' | filter_migsafe_locks
}

# Known, intended difference: migsafe writes its audit row (and registers
# its snapshots) in the statement's own transaction, so that a rollback
# leaves neither the change nor its record; the transaction then holds
# RowExclusiveLock on migsafe.audit_log and its sequence (and on
# migsafe.snapshots), and the lock listings of alter_table (its my_locks
# view over pg_locks) show them.  Writing the row elsewhere would give that
# guarantee up (docs/development.md).  So, from a listing of locks only
# (a psql table with a column named "mode" or "max_lockmode"), the rows of
# migsafe's own tables, sequences and indexes are removed and the table
# is drawn again as psql draws it (text columns, header centred, row
# count); nothing else is touched.  stdin to stdout.
filter_migsafe_locks() {
	awk '
		function rep(c, n,   s) { s = ""; while (n-- > 0) s = s c; return s }
		function trim(x) { sub(/^ +/, "", x); sub(/ +$/, "", x); return x }
		function flush(   i, j, c, nc, nr, keep, drop, name, w, line, pad, l, h) {
			if (nb == 0)
				return
			nc = split(buf[1], h, /\|/)
			keep = 0
			for (c = 1; c <= nc; c++) {
				name = trim(h[c])
				hdr[c] = name
				if (name == "mode" || name == "max_lockmode")
					keep = 1
			}
			drop = 0
			nr = 0
			for (i = 3; i < nb; i++) {
				split(buf[i], cell, /\|/)
				if (keep && trim(cell[1]) ~ /^(audit_log|snapshots)(_id_seq|_pkey|_[a-z]+_idx)?$/) {
					drop++
					continue
				}
				nr++
				for (c = 1; c <= nc; c++)
					row[nr, c] = trim(cell[c])
			}
			if (drop == 0) {
				for (i = 1; i <= nb; i++)
					print buf[i]
				nb = 0
				return
			}
			for (c = 1; c <= nc; c++) {
				w[c] = length(hdr[c])
				for (i = 1; i <= nr; i++)
					if (length(row[i, c]) > w[c])
						w[c] = length(row[i, c])
			}
			line = ""
			for (c = 1; c <= nc; c++) {
				pad = w[c] - length(hdr[c])
				l = int(pad / 2)
				line = line (c > 1 ? "|" : "") " " rep(" ", l) hdr[c] rep(" ", pad - l) " "
			}
			print line
			line = ""
			for (c = 1; c <= nc; c++)
				line = line (c > 1 ? "+" : "") rep("-", w[c] + 2)
			print line
			for (i = 1; i <= nr; i++) {
				line = ""
				for (c = 1; c <= nc; c++)
					line = line (c > 1 ? "|" : "") " " row[i, c] (c < nc ? rep(" ", w[c] - length(row[i, c])) " " : "")
				print line
			}
			print "(" nr (nr == 1 ? " row)" : " rows)")
			nb = 0
		}
		# a table: header, separator, rows, "(N rows)"
		next_is_sep {
			next_is_sep = 0
			if ($0 ~ /^-+(\+-+)+$/) {
				buf[++nb] = pending
				buf[++nb] = $0
				next
			}
			print pending
		}
		nb == 0 && /\|/ { pending = $0; next_is_sep = 1; next }
		nb > 0 {
			buf[++nb] = $0
			if ($0 ~ /^\([0-9]+ rows?\)$/)
				flush()
			next
		}
		{ print }
		END {
			if (next_is_sep)
				print pending
			for (i = 1; i <= nb; i++)
				print buf[i]
		}'
}

# Since the fix of CVE-2026-6464 (backpatched to all branches, in 15.20
# here), psql skips the input up to the next "\." line after a COPY ... FROM
# stdin that fails before it starts; upstream's test files older than the
# fix (15.18's, the newest this archive serves) follow such a COPY with the
# next statement, which would then be lost with everything up to the next
# COPY's data, and alter_table, generated, privileges and rowsecurity would
# run only in part.  When psql is newer than the tests, add "\."
# after each COPY FROM stdin that carries no data: one whose next non-blank
# line is echoed right after it in the expected output (psql -a echoes
# statements, never COPY data).  Unchanged where the file already has it.
# Arguments: sql file (rewritten), expected file.
copy_terminators() {
	local sql=$1 exp=$2
	awk '
		FNR == NR { e[++ne] = $0; next }
		{ s[++ns] = $0 }
		END {
			pos = 1
			for (i = 1; i <= ns; i++) {
				print s[i]
				if (tolower(s[i]) !~ /^copy .* from stdin.*;[ \t]*(--.*)?$/)
					continue
				for (j = pos; j <= ne && e[j] != s[i]; j++)
					;
				if (j > ne)
					continue
				pos = j + 1
				for (k = j + 1; k <= ne && e[k] ~ /^(ERROR|DETAIL|HINT|CONTEXT|WARNING|NOTICE|LINE [0-9]+): |^ +\^$/; k++)
					;
				for (n = i + 1; n <= ns && s[n] ~ /^[ \t]*$/; n++)
					;
				if (n <= ns && s[n] != "\\." && k <= ne && e[k] == s[n])
					print "\\."
			}
		}' "$exp" "$sql" >"$sql.new"
	mv "$sql.new" "$sql"
}

# ---------------------------------------------------------------- main

start=$SECONDS
bash scripts/install-deps.sh >/dev/null || die "scripts/install-deps.sh failed"
# one fetch at a time into the shared cache
mkdir -p "$cache"
exec 8>"$cache/.lock"
flock 8
fetch_source
flock -u 8
if [[ -z ${MIGSAFE_TEST_LOCKED:-} ]]; then
	say "waiting for /tmp/migsafe-test.lock, then installing this checkout"
	exec 9>/tmp/migsafe-test.lock
	t0=$SECONDS
	flock 9
	say "lock taken after $((SECONDS - t0)) s"
	make -s >/dev/null || die "make failed"
	make -s install >/dev/null || die "make install failed"
fi
regress=$pgsrc/src/test/regress
pg_regress=$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress
[[ -x $pg_regress ]] || die "no pg_regress at $pg_regress"
say "PostgreSQL $(dpkg-query -W -f='${Version}' postgresql-15) server, tests from source $srcver"

# The tests read their data files as the server (user postgres), and
# test_setup loads functions from regress.so, which Debian does not ship:
# build it from the source's regress.c with PGXS, in a copy under /tmp.
work=$(mktemp -d /tmp/migsafe-core-ddl.XXXXXX)
mkdir "$work/regress"
cp -r "$regress/sql" "$regress/expected" "$regress/data" "$regress/regress.c" \
	"$regress/resultmap" "$work/regress/"
cat >"$work/regress/Makefile" <<'MAKE'
MODULES = regress
PG_CONFIG = pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
MAKE
make_schedule "$regress/parallel_schedule" >"$work/schedule"
if dpkg --compare-versions "$(psql --version | awk '{ print $3 }')" gt "${srcver%%-*}"; then
	for t in $tests; do
		copy_terminators "$work/regress/sql/$t.sql" "$work/regress/expected/$t.out"
	done
fi
# triggers loads contrib's spi modules from the same directory
for lib in autoinc refint; do
	ln -s "$(pg_config --pkglibdir)/$lib.so" "$work/regress/$lib.so"
done
chown -R postgres:postgres "$work"
chmod 755 "$work"
runuser -u postgres -- make -s -C "$work/regress" >"$work/regress/build.log" 2>&1 ||
	{ cat "$work/regress/build.log"; die "could not build regress.so"; }

# The migsafe runs: one per value of migsafe.snapshot.  With "on" (the
# default setting) approved drops keep snapshots, so what the dropped
# objects depended on shows there; "off" shows the gate and the audit log
# alone.
snapshot_modes=${CORE_DDL_SNAPSHOT:-on off}
: >"$work/vanilla.conf"
for snap in $snapshot_modes; do
	cat >"$work/migsafe-snapshot-$snap.conf" <<CONF
shared_preload_libraries = 'migsafe'
migsafe.mode = warn
migsafe.snapshot = $snap
CONF
done
port=$((58000 + $$ % 1000))

# run_pg_regress NAME PGOPTIONS [pg_regress option...]: one run of the
# schedule in a temporary instance configured by $work/NAME.conf, results
# in $work/NAME.  Only a run that produced no results at all is fatal.
run_pg_regress() {
	local name=$1 opts=$2 t0=$SECONDS status=0
	shift 2
	mkdir "$work/$name"
	chown postgres:postgres "$work/$name"
	runuser -u postgres -- env PATH="$PATH" HOME="$work" PGOPTIONS="$opts" \
		"$pg_regress" --bindir="$pgbin" --dlpath="$work/regress" \
		--inputdir="$work/regress" --outputdir="$work/$name" \
		--temp-instance="$work/$name/tmp_check" --temp-config="$work/$name.conf" \
		--port="$port" --no-locale --encoding=UTF8 \
		--schedule="$work/schedule" "$@" >"$work/$name/pg_regress.out" 2>&1 || status=$?
	say "$name: $((SECONDS - t0)) s (pg_regress exit $status)"
	if [[ ! -d $work/$name/results ]]; then
		cat "$work/$name/pg_regress.out"
		die "$name run produced no results"
	fi
}

run_pg_regress vanilla ""
failed=$(sed -n 's/^ *\(test \)\{0,1\}\([a-z_0-9]*\) .* \.\.\. FAILED.*/\2/p' "$work/vanilla/pg_regress.out" | tr '\n' ' ')
if [[ -n $failed ]]; then
	say "vanilla differs from upstream's expected output (this build, not migsafe) in: $failed"
	say "  (fixes in the server's minor release after the tests' are such differences); first lines:"
	head -n "${CORE_DDL_SHOW:-60}" "$work/vanilla/regression.diffs" | sed 's/^/  | /'
fi

# Each migsafe run against the vanilla results, migsafe's messages taken
# out; the approval comes from PGOPTIONS as a client setting.
bad=0
for snap in $snapshot_modes; do
	name=migsafe-snapshot-$snap
	run_pg_regress "$name" "-c migsafe.approve=*" --load-extension=migsafe
	: >"$work/$name.diffs"
	differ=()
	for t in $tests; do
		[[ -f $work/vanilla/results/$t.out ]] || continue
		if [[ -f $work/$name/results/$t.out ]]; then
			filter_migsafe <"$work/$name/results/$t.out" >"$work/$name/results/$t.filtered"
		else
			: >"$work/$name/results/$t.filtered"
		fi
		if ! diff -U3 --label "vanilla/$t.out" --label "$name/$t.out (migsafe messages removed)" \
			"$work/vanilla/results/$t.out" "$work/$name/results/$t.filtered" >>"$work/$name.diffs"; then
			differ+=("$t")
		fi
	done
	# what was taken out, for the record: "N kept snapshot NOTICEs, ..."
	cat "$work/$name"/results/*.out | awk '
		/^NOTICE:  migsafe kept snapshot / { n++ }
		/^WARNING:  .* requires migsafe approval/ { w++ }
		/^WARNING:  .* depends on temporary / { t++ }
		/^WARNING:  .* will wait for a lock / { l++ }
		/^WARNING:  the data of migsafe snapshot / { s++ }
		END { printf "core-ddl: %s: taken out: %d kept-snapshot NOTICEs, %d approval WARNINGs, %d temporary-dependency WARNINGs, %d lock-wait WARNINGs, %d snapshot-schema WARNINGs\n", name, n, w, t, l, s }' name="$name"
	# A run where migsafe did nothing would pass vacuously: with
	# snapshots on, an approved DROP TABLE of a table holding rows keeps
	# one (the default tests drop dozens), so none at all means migsafe
	# was not in force.  Not checked for a subset, which may drop nothing.
	if [[ $snap == on && -z ${CORE_DDL_TESTS:-} ]] &&
		! grep -q '^NOTICE:  migsafe kept snapshot ' "$work/$name"/results/*.out; then
		bad=1
		say "$name: migsafe kept no snapshot at all: was it loaded and in warn mode?"
	fi
	if [[ ${#differ[@]} -gt 0 ]]; then
		bad=1
		say "$name: ${#differ[@]} tests differ from vanilla: ${differ[*]}"
		say "  see $work/$name.diffs ($(grep -c '^[-+][^-+]' "$work/$name.diffs") lines differ); first lines:"
		head -n "${CORE_DDL_SHOW:-60}" "$work/$name.diffs" | sed 's/^/  | /'
	else
		say "$name: all results equal vanilla's apart from migsafe's messages"
	fi
done

ntests=$(wc -w <<<"$tests")
if [[ $bad -ne 0 ]]; then
	say "work directory kept: $work"
	echo "core-ddl: FAIL ($ntests PostgreSQL tests, $((SECONDS - start)) s: migsafe changes PostgreSQL's behaviour, see above)"
	exit 1
fi
if [[ -n ${CORE_DDL_KEEP:-} ]]; then
	say "work directory kept: $work"
else
	rm -rf "$work"
fi
echo "core-ddl: PASS ($ntests PostgreSQL tests with migsafe in warn mode identical to vanilla apart from migsafe's messages, $((SECONDS - start)) s)"
