# Makefile for migsafe (PGXS)
#
# make            build
# make install    install into the PostgreSQL found by PG_CONFIG (the
#                 extension, and migsafe-check into its bindir)
# make test       install what is missing, build, install, run every suite
#                 (pg_regress, isolation, TAP, e2e, core-ddl, the .deb)
#                 as user postgres in throwaway instances,
#                 on the host's PostgreSQL 15
# make test PG=17 the same on PostgreSQL 17, in a Debian trixie root made
#                 with debootstrap under /var/tmp (scripts/test-chroot.sh)
# make demo       the same preparation, then a walk-through on a throwaway
#                 cluster
# make fuzz       t/016_fuzz.pl with FUZZ_COUNT (default 20000) random
#                 statements and FUZZ_SEED (default: the time, printed)
# make bench      every benchmark in bench/ (as root; builds and installs
#                 migsafe, or PGBIN=another installation's bin); QUICK=1
#                 small and one round, SAVE=1 writes bench/results-*
# make core-ddl   PostgreSQL's own DDL regression tests, vanilla and with
#                 migsafe in warn mode, compared (as root; migsafe installed)
# make indent     pgindent-style formatting with pg_bsd_indent
# make deb        Debian packages postgresql-NN-migsafe in dist/ (debian/)
# make dist       the PGXN zip in dist/, META.json made from META.json.in
#
# The version is written only in migsafe.control (default_version): the
# program migsafe-check gets it as MIGSAFE_VERSION (cli/Makefile), make deb
# and make dist write it into debian/changelog and META.json.

MODULE_big = migsafe
OBJS = \
	$(WIN32RES) \
	migsafe.o \
	src/approval.o \
	src/audit.o \
	src/catalog.o \
	src/classify.o \
	src/collect.o \
	src/command.o \
	src/definition.o \
	src/guard.o \
	src/findings.o \
	src/internal.o \
	src/keptypes.o \
	src/lint.o \
	src/lintalter.o \
	src/lintdeps.o \
	src/load.o \
	src/locks.o \
	src/plaindrop.o \
	src/rebuild.o \
	src/refill.o \
	src/rehearse.o \
	src/restore.o \
	src/script.o \
	src/snapshot.o \
	src/storage.o \
	src/swap.o \
	src/tools.o \
	src/undo.o \
	src/worker.o

EXTENSION = migsafe
DATA = $(notdir $(wildcard $(srcdir)/migsafe--*.sql))
PGFILEDESC = "migsafe - approvals for destructive schema changes"

PG_CPPFLAGS = -I$(srcdir)/include
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers

REGRESS = upgrade approve audit guard_drop_table guard_truncate guard_alter guard_cascade \
	guard_nested guard_empty guard_rename guard_modes guard_nondestructive \
	snapshot_drop snapshot_truncate snapshot_column snapshot_access \
	snapshot_lifecycle guard_radius guard_temp guard_dml guard_maintain guard_own \
	check rehearse restore_into bad_input snapshot_swap snapshot_owner_code \
	guard_foreign snapshot_depends restore_identity snapshot_types audit_ids drop_extension
REGRESS_OPTS = --temp-config=$(srcdir)/migsafe.conf --temp-instance=./tmp_check
ISOLATION = $(basename $(notdir $(wildcard $(srcdir)/specs/*.spec)))
ISOLATION_OPTS = --temp-config=$(srcdir)/migsafe.conf --temp-instance=./tmp_check_iso
TAP_TESTS = 1

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The objects share the types in include/ (structs, enums): rebuild them all
# when a header changes (PGXS tracks dependencies only with --enable-depend).
$(OBJS): $(wildcard $(srcdir)/include/*.h)

# migsafe-check, the command-line preview, is a program of its own in cli/
# (PGXS builds one MODULE_big or one PROGRAM per Makefile).
all: cli-all
install: cli-install
uninstall: cli-uninstall
clean: cli-clean

cli-all cli-install cli-uninstall cli-clean:
	$(MAKE) -C cli PG_CONFIG=$(PG_CONFIG) $(patsubst cli-%,%,$@)

.PHONY: test core-ddl fuzz demo bench deps indent deb dist cli-all cli-install cli-uninstall cli-clean

deps:
	bash scripts/install-deps.sh

# PG: another PostgreSQL major version than the host's 15 (17), tested in
# a Debian root that has it
test:
ifeq ($(filter-out 15,$(PG)),)
	bash scripts/run-tests.sh
else
	bash scripts/test-chroot.sh $(PG)
endif

fuzz:
	@seed=$${FUZZ_SEED:-$$(date +%s)}; count=$${FUZZ_COUNT:-20000}; \
	echo "fuzz: FUZZ_SEED=$$seed FUZZ_COUNT=$$count"; \
	FUZZ_SEED=$$seed FUZZ_COUNT=$$count REGRESS= ISOLATION= \
	PROVE_TESTS=t/016_fuzz.pl E2E= bash scripts/run-tests.sh

core-ddl:
	bash scripts/core-ddl.sh

demo:
	bash scripts/demo.sh

bench:
	bash scripts/bench.sh

indent:
	bash scripts/indent.sh

deb:
	bash scripts/deb.sh

dist:
	bash scripts/dist.sh
