# Copyright (c) 2026, migsafe developers
#
# t/021_audit_ids_crash.pl
#	  Ids of audit rows are never used twice, after a crash or on a
#	  standby promoted.
#
# migsafe takes the log's ids without nextval() (which would change the
# session's lastval()): it reads the sequence and advances it with
# setval(), WAL-logged before the transaction commits (src/internal.c,
# migsafe_internal_take_ids).  After a crash, replay puts the sequence
# after every id taken, so no id is given again; the same on a standby
# promoted.  Checked: audit rows written before an immediate shutdown
# (some right after a checkpoint), and rows written after the restart and
# after a promotion, all with ids above every id written before, the
# primary key intact.
#
# Why TAP: an immediate shutdown and a standby; pg_regress cannot.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('primary');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'migsafe'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION migsafe');

# n audit rows, one per statement, each in its own transaction
sub ddl
{
	my ($node, $prefix, $n) = @_;
	$node->safe_psql('postgres',
		join('', map { "CREATE TABLE ${prefix}_$_ (id int);\n" } 1 .. $n));
}

sub max_id
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		'SELECT coalesce(max(id), 0) FROM migsafe.audit_log');
}

# a) immediate shutdown after a few takes
ddl($node, 'a', 5);
my $before = max_id($node);
$node->stop('immediate');
$node->start;
ddl($node, 'b', 3);
cmp_ok(
	$node->safe_psql('postgres',
		"SELECT min(id) FROM migsafe.audit_log WHERE object_identity LIKE 'public.b\\_%'"),
	'>', $before, 'crash: ids after the restart are above every id before');

# b) takes right after a checkpoint
$node->safe_psql('postgres', 'CHECKPOINT');
ddl($node, 'c', 2);
$before = max_id($node);
$node->stop('immediate');
$node->start;
ddl($node, 'd', 2);
cmp_ok(
	$node->safe_psql('postgres',
		"SELECT min(id) FROM migsafe.audit_log WHERE object_identity LIKE 'public.d\\_%'"),
	'>', $before, 'crash after a checkpoint: no id used twice');

# c) a standby promoted goes on after every id the primary gave
$node->backup('ids');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'ids', has_streaming => 1);
$standby->start;
ddl($node, 'e', 4);
$node->wait_for_catchup($standby);
$before = max_id($node);
$node->stop('immediate');
$standby->promote;
ddl($standby, 'f', 2);
cmp_ok(
	$standby->safe_psql('postgres',
		"SELECT min(id) FROM migsafe.audit_log WHERE object_identity LIKE 'public.f\\_%'"),
	'>', $before, 'promoted standby: ids above every id of the primary');

is( $standby->safe_psql('postgres',
		'SELECT count(*) = count(DISTINCT id) FROM migsafe.audit_log'),
	't', 'promoted standby: every id once');
is( $standby->safe_psql('postgres',
		"SELECT count(*) FROM migsafe.audit_log WHERE object_identity ~ '^public\\.[a-f]_'"),
	'18', 'promoted standby: every committed row kept');

$standby->stop;

done_testing();
