# Copyright (c) 2026, migsafe developers
#
# t/020_memory.pl
#	  A backend's memory stays flat over thousands of schema changes.
#
# One psql session runs 12,000 schema changes, ten per cycle on one table
# with rows (CREATE TABLE, ADD COLUMN, CREATE INDEX, two COMMENTs, RENAME
# COLUMN, DROP INDEX and, approved, DROP COLUMN, TRUNCATE and DROP TABLE,
# each keeping a snapshot), and purges its snapshots every 1,000
# statements, as bench/memory.sh does.  Right after the purges at 2,000
# and at 12,000 statements it reads the sum of total_bytes over its own
# pg_backend_memory_contexts.  Anything migsafe kept per statement in a
# long-lived context (TopMemoryContext, CacheMemoryContext, a list or hash
# table of its own) would grow that sum with the number of statements:
# 32 bytes a statement is more than the margin allowed.
#
# Measured right after a purge, the figure depends on no timing: in
# bench/memory.sh's runs it stayed between 4176 and 4295 kB from 1,000
# to 100,000 statements, and the margin is twice that spread.  (A
# database without migsafe, where nothing is purged, grows by about 170
# bytes a statement in PostgreSQL's own caches in the same session; each
# purge here drops some 300 snapshots in one transaction, more
# invalidation messages than the queue holds, which resets the caches.)

# Why TAP: a cluster of its own, one long session with a generated script.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('memory');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'migsafe'
fsync = off
synchronous_commit = off
autovacuum = off
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION migsafe');

my $margin = 256 * 1024;
my @marks = (2000, 12000);
my $script = "SET client_min_messages = warning;\n";
for my $c (1 .. $marks[-1] / 10)
{
	$script .= <<'SQL';
CREATE TABLE mt (id int PRIMARY KEY, a int, t text);
INSERT INTO mt SELECT g, g, 'x' FROM generate_series(1, 10) g;
ALTER TABLE mt ADD COLUMN b int;
CREATE INDEX mt_a ON mt (a);
COMMENT ON TABLE mt IS 'memory test';
COMMENT ON COLUMN mt.a IS 'a';
ALTER TABLE mt RENAME COLUMN b TO c;
DROP INDEX mt_a;
BEGIN; SET LOCAL migsafe.approve = 'public.mt.t'; ALTER TABLE mt DROP COLUMN t; COMMIT;
BEGIN; SET LOCAL migsafe.approve = 'public.mt'; TRUNCATE mt; COMMIT;
INSERT INTO mt SELECT g, g FROM generate_series(1, 10) g;
BEGIN; SET LOCAL migsafe.approve = 'public.mt'; DROP TABLE mt; COMMIT;
SQL
	next unless ($c * 10) % 1000 == 0;
	$script .= "SELECT migsafe.purge_snapshots(interval '0') \\g /dev/null\n";
	$script .= "SELECT 'mem', " . ($c * 10)
	  . ", sum(total_bytes) FROM pg_backend_memory_contexts;\n"
	  if grep { $_ == $c * 10 } @marks;
}

my ($ret, $stdout, $stderr) = $node->psql(
	'postgres', $script,
	extra_params => [ '-v', 'ON_ERROR_STOP=1' ],
	timeout => $PostgreSQL::Test::Utils::timeout_default * 10);
is($ret, 0, 'the session ran every statement') or diag($stderr);

my %bytes = map { (split /\|/)[ 1, 2 ] } grep { /^mem\|/ } split /\n/, $stdout;
is(scalar(keys %bytes), 2, 'memory measured at 2,000 and 12,000 statements');

# the session did what it says: every destructive change kept its snapshot
is( $node->safe_psql(
		'postgres', "SELECT count(*) FROM migsafe.snapshots WHERE status = 'purged'"),
	$marks[-1] / 10 * 3,
	'three snapshots a cycle, all purged');

my $growth = $bytes{ $marks[-1] } - $bytes{ $marks[0] };
note "memory contexts: $bytes{$marks[0]} bytes at $marks[0] statements, "
  . "$bytes{$marks[-1]} at $marks[-1] (growth $growth)";
cmp_ok($growth, '<', $margin,
	"memory grows by less than $margin bytes over "
	  . ($marks[-1] - $marks[0])
	  . ' statements');

$node->stop;
done_testing();
