#!/usr/bin/env bash
# run-tests.sh - what `make test` runs (as root, from the checkout).
#
# Installs missing packages, builds and installs migsafe into the system
# PostgreSQL (15, or the major version MIGSAFE_PG names: scripts/test-chroot.sh
# sets it for `make test PG=17` in a Debian trixie root), then runs `make installcheck` (pg_regress, isolation, TAP;
# each suite starts its own throwaway instance) as user postgres on a copy
# of the checkout in /tmp, because the checkout may not be readable by
# postgres (e.g. under /root).
#
# Then, as root, test/e2e/run.sh: real migration tools (psql, Django,
# node-pg-migrate) against a throwaway cluster of their own; then
# scripts/core-ddl.sh: PostgreSQL 15's own DDL regression tests, vanilla
# and with migsafe in warn mode, whose results must be the same (PostgreSQL
# 15 only: the tests come from its source package); and last test/deb/run.sh: `make
# deb`'s package installed on a clean Debian root as the README's
# "Install" section says (about 1 min the first time, 20 s once the root
# is cached under /var/tmp).
#
# Subsets: REGRESS=..., ISOLATION=..., PROVE_TESTS=... from the environment
# (`make test REGRESS=x` exports them).  Set but empty means: skip that suite.
# E2E=1 (or a list of e2e suites, "django psql") runs the end-to-end suite,
# E2E= skips it; unset, it runs unless one of the other subsets is given, so
# that `make test REGRESS=x` stays fast.  DEB works the same way for
# test/deb/run.sh (DEB=1 runs it, DEB= skips it), CORE_DDL for
# scripts/core-ddl.sh (CORE_DDL=1 runs it, CORE_DDL= skips it) and BENCH
# for `make bench QUICK=1` (scripts/bench.sh: every benchmark, small and
# one round, nothing saved; a few minutes), so that the benchmarks keep
# working.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
src=$PWD
export MIGSAFE_PG=${MIGSAFE_PG:-15}
export PATH=/usr/lib/postgresql/$MIGSAFE_PG/bin:$PATH
# Keep an outer `make test` from leaking its flags and jobserver into ours.
unset MAKEFLAGS MFLAGS MAKELEVEL

if [[ $(id -u) -ne 0 ]]; then
	echo "run-tests: must run as root (installs packages and migsafe, uses runuser)" >&2
	exit 1
fi

# One run at a time on this machine: every run installs into the same
# system PostgreSQL, so a second checkout's run would swap the library
# under the first one's clusters.
exec 9>/tmp/migsafe-test.lock
flock 9

bash scripts/install-deps.sh
echo "run-tests: building and installing into $(pg_config --pkglibdir)"
make -s
make -s install
# test-only extension whose script drops a table (sql/guard_nested.sql)
install -m 644 test/extension/migsafe_test_dropper.control \
	test/extension/migsafe_test_dropper--1.0.sql "$(pg_config --sharedir)/extension/"

# Suite selection passed on to make.
args=()
[[ -v REGRESS ]] && args+=("REGRESS=$REGRESS")
[[ -v ISOLATION ]] && args+=("ISOLATION=$ISOLATION")
if [[ -v PROVE_TESTS ]]; then
	if [[ -z $PROVE_TESTS ]]; then
		args+=("TAP_TESTS=")	# PGXS runs t/*.pl for an empty PROVE_TESTS
	else
		args+=("PROVE_TESTS=$PROVE_TESTS")
	fi
fi

run_e2e=1
if [[ -v E2E ]]; then
	[[ -n $E2E ]] || run_e2e=0
elif [[ -v REGRESS || -v ISOLATION || -v PROVE_TESTS ]]; then
	run_e2e=0
fi
run_core_ddl=1
if [[ -v CORE_DDL ]]; then
	[[ -n $CORE_DDL ]] || run_core_ddl=0
elif [[ -v REGRESS || -v ISOLATION || -v PROVE_TESTS || -v E2E ]]; then
	run_core_ddl=0
fi
if [[ $run_core_ddl -eq 1 && $MIGSAFE_PG != 15 ]]; then
	echo "run-tests: scripts/core-ddl.sh runs PostgreSQL 15's tests only; skipped for $MIGSAFE_PG"
	run_core_ddl=0
fi
run_bench=1
if [[ -v BENCH ]]; then
	[[ -n $BENCH ]] || run_bench=0
elif [[ -v REGRESS || -v ISOLATION || -v PROVE_TESTS || -v E2E || -v DEB ]]; then
	run_bench=0
fi
run_deb=1
if [[ -v DEB ]]; then
	[[ -n $DEB ]] || run_deb=0
elif [[ -v REGRESS || -v ISOLATION || -v PROVE_TESTS || -v E2E || -v BENCH ]]; then
	run_deb=0
fi

copy=$(mktemp -d /tmp/migsafe-test.XXXXXX)
echo "run-tests: copying checkout to $copy"
tar -C "$src" -cf - \
	--exclude=./.git --exclude='./tmp_check*' --exclude=./results \
	--exclude=./output_iso --exclude=./log \
	--exclude=./regression.diffs --exclude=./regression.out \
	. | tar -C "$copy" -xf -
chown -R postgres:postgres "$copy"
chmod 755 "$copy"

out=$copy/installcheck.out
echo "run-tests: make installcheck ${args[*]} (as postgres)"
cd "$copy"
status=0
runuser -u postgres -- env PATH="$PATH" HOME="$copy" \
	make -C "$copy" installcheck "${args[@]}" 2>&1 | tee "$out" || status=$?

if [[ $status -ne 0 ]]; then
	while IFS= read -r -d '' f; do
		echo "======== $f"
		cat "$f"
	done < <(find "$copy" -name regression.diffs -print0)
	for f in "$copy"/tmp_check*/log/* "$copy"/log/* "$copy"/output_iso/log/*; do
		[[ -f $f ]] || continue
		echo "======== last 80 lines of $f"
		tail -n 80 "$f"
	done
	echo "run-tests: FAILED (make installcheck exit $status); test copy kept in $copy" >&2
	exit 1
fi

# pg_regress/isolation: "All N tests passed."; prove: "Files=N, Tests=M, ...".
passed=$(awk '
	/All [0-9]+ tests passed/ { for (i = 1; i < NF; i++) if ($i == "All") n += $(i + 1) }
	/^Files=[0-9]+,/ { split($1, a, /[=,]/); n += a[2] }
	END { print n + 0 }' "$out")
cd /
rm -rf "$copy"

skipped=0
if [[ $run_e2e -eq 1 ]]; then
	e2e_out=$(mktemp /tmp/migsafe-e2e-out.XXXXXX)
	echo "run-tests: test/e2e/run.sh (real migration tools)"
	status=0
	E2E=${E2E:-all} bash "$src/test/e2e/run.sh" 2>&1 | tee "$e2e_out" || status=$?
	# "e2e: N passed, M failed, K skipped"
	read -r e2e_passed e2e_skipped < <(awk '
		/^e2e: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$/ { p = $2; s = $6 }
		END { print p + 0, s + 0 }' "$e2e_out")
	rm -f "$e2e_out"
	if [[ $status -ne 0 ]]; then
		echo "run-tests: FAILED (test/e2e/run.sh exit $status)" >&2
		exit 1
	fi
	passed=$((passed + e2e_passed))
	skipped=$((skipped + e2e_skipped))
fi

if [[ $run_core_ddl -eq 1 ]]; then
	core_out=$(mktemp /tmp/migsafe-core-ddl-out.XXXXXX)
	echo "run-tests: scripts/core-ddl.sh (PostgreSQL's DDL tests, vanilla and with migsafe)"
	status=0
	MIGSAFE_TEST_LOCKED=1 bash "$src/scripts/core-ddl.sh" 2>&1 | tee "$core_out" || status=$?
	# "core-ddl: PASS (N PostgreSQL tests ..."
	core_passed=$(awk '/^core-ddl: PASS \([0-9]+ / { n = substr($3, 2) } END { print n + 0 }' "$core_out")
	rm -f "$core_out"
	if [[ $status -ne 0 ]]; then
		echo "run-tests: FAILED (scripts/core-ddl.sh exit $status)" >&2
		exit 1
	fi
	passed=$((passed + core_passed))
fi

if [[ $run_bench -eq 1 ]]; then
	# migsafe is installed and the lock held: bench.sh neither builds nor
	# locks when PGBIN names the installation
	echo "run-tests: make bench QUICK=1 (every benchmark, small, one round)"
	if ! QUICK=1 SAVE=0 PGBIN=/usr/lib/postgresql/$MIGSAFE_PG/bin bash "$src/scripts/bench.sh"; then
		echo "run-tests: FAILED (scripts/bench.sh QUICK=1)" >&2
		exit 1
	fi
	passed=$((passed + 1))
fi

if [[ $run_deb -eq 1 ]]; then
	# The package test neither installs into nor starts the system
	# PostgreSQL (its cluster runs in a root of its own): let other runs
	# have the lock.
	exec 9>&-
	echo "run-tests: test/deb/run.sh (the .deb on a clean Debian root)"
	if ! bash "$src/test/deb/run.sh"; then
		echo "run-tests: FAILED (test/deb/run.sh)" >&2
		exit 1
	fi
	passed=$((passed + 1))
fi

if [[ $skipped -gt 0 ]]; then
	echo "migsafe: $passed passed, 0 failed, $skipped skipped"
else
	echo "migsafe: $passed passed, 0 failed"
fi
