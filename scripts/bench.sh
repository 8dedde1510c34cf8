#!/usr/bin/env bash
# bench.sh - what `make bench` runs (as root, from the checkout): every
# benchmark in bench/, one after the other, each comparing its
# configurations side by side in its own run (alternated, medians over
# ROUNDS rounds).
#
# Installs missing packages (scripts/install-deps.sh: pgaudit, gnuplot),
# then, unless PGBIN names another installation, builds and installs
# migsafe into the system PostgreSQL and holds make test's lock
# (/tmp/migsafe-test.lock) until the last benchmark is done, so that no
# other checkout's run swaps the library under the benchmarks.
# scripts/run-tests.sh, which holds the lock and has installed migsafe
# already, sets MIGSAFE_TEST_LOCKED=1.
#
# Environment:
#   QUICK=1     small sizes, one round each (a few minutes): a check that
#               the scripts work, as make test runs it; never saved
#   SAVE=1      each benchmark writes its bench/results-*.md (and sizes.sh
#               its plot); refused together with QUICK=1
#   ROUNDS=5    rounds for every benchmark that has them
#   BENCHES="memory sizes"  a subset of bench/*.sh, by name
#   PGBIN=...   bin directory of another installation with migsafe (and
#               pgaudit) installed: nothing is built, installed or locked
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
src=$PWD
quick=${QUICK:-0}
save=${SAVE:-0}
rounds=${ROUNDS:-5}
unset MAKEFLAGS MFLAGS MAKELEVEL

if [[ $(id -u) -ne 0 ]]; then
	echo "bench: must run as root (installs packages, clusters run as postgres)" >&2
	exit 1
fi
if [[ $quick == 1 && $save == 1 ]]; then
	echo "bench: QUICK=1 results are not saved; run without QUICK to SAVE" >&2
	exit 1
fi
if [[ $quick != 1 ]] && { ! [[ $rounds =~ ^[0-9]+$ ]] || ((rounds < 5)); }; then
	echo "bench: ROUNDS must be at least 5 (got '$rounds')" >&2
	exit 1
fi

all=(fastpath instructions check cli snapshots sizes memory migration)
read -r -a benches <<<"${BENCHES:-${all[*]}}"
for b in "${benches[@]}"; do
	[[ -f bench/$b.sh ]] || { echo "bench: no bench/$b.sh" >&2; exit 1; }
done

bash scripts/install-deps.sh
if [[ -z ${PGBIN:-} ]]; then
	export PATH=/usr/lib/postgresql/15/bin:$PATH
	if [[ -z ${MIGSAFE_TEST_LOCKED:-} ]]; then
		exec 9>/tmp/migsafe-test.lock
		echo "bench: waiting for /tmp/migsafe-test.lock"
		flock 9
		echo "bench: building and installing into $(pg_config --pkglibdir)"
		make -s
		make -s install
	fi
fi

# Each benchmark's own knobs: QUICK=1 makes every one small; a full run
# takes ROUNDS rounds of each, and shorter pgbench runs than fastpath.sh's
# default so that the whole stays near 20 minutes on 2 cores.
env_of() {
	if [[ $quick == 1 ]]; then
		echo "QUICK=1 SAVE=0"
		return
	fi
	case $1 in
	fastpath) echo "SECONDS=3 ROUNDS=$rounds" ;;
	instructions) echo "" ;; # exact counts: no rounds
	cli) echo "ROUNDS=$((rounds > 7 ? rounds : 7))" ;;
	memory) echo "" ;;       # one session: no rounds
	*) echo "ROUNDS=$rounds" ;;
	esac
}

port=56390
summary=()
t_all=$(date +%s)
for b in "${benches[@]}"; do
	port=$((port + 1))
	echo "bench: ==== bench/$b.sh $(env_of "$b") ===="
	t0=$(date +%s)
	# shellcheck disable=SC2046
	env $(env_of "$b") SAVE="$save" PGPORT_BENCH=$port bash "$src/bench/$b.sh"
	summary+=("$b $(($(date +%s) - t0)) s")
done
echo "bench: done in $(($(date +%s) - t_all)) s ($(IFS=,; echo "${summary[*]}" | sed 's/,/, /g'))"
