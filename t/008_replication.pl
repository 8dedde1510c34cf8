# Copyright (c) 2026, migsafe developers
#
# t/008_replication.pl
#	  Logical replication cannot empty the audit log; what replication
#	  adds to a change's loss is in its error.
#
# A logical replication apply worker runs TRUNCATE (and INSERT) without
# ProcessUtility or the object-access hook, so only triggers see it; the
# audit log's ENABLE ALWAYS triggers must refuse both, and the subscriber's
# log must keep its rows.
#
# Why TAP: three clusters, a publication, a subscription and a standby
# (where the preview must work and the rehearsal must be refused).

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pub = PostgreSQL::Test::Cluster->new('publisher');
$pub->init(allows_streaming => 'logical');
$pub->append_conf('postgresql.conf', "shared_preload_libraries = 'migsafe'");
$pub->start;

my $sub = PostgreSQL::Test::Cluster->new('subscriber');
$sub->init;
$sub->append_conf('postgresql.conf', "shared_preload_libraries = 'migsafe'");
$sub->start;

for my $node ($pub, $sub)
{
	$node->safe_psql('postgres', 'CREATE EXTENSION migsafe');
	$node->safe_psql('postgres', 'CREATE TABLE t (id int PRIMARY KEY)');
}

$pub->safe_psql('postgres',
	'CREATE PUBLICATION log_pub FOR TABLE migsafe.audit_log');
my $connstr = $pub->connstr . ' dbname=postgres';
$sub->safe_psql('postgres',
	"CREATE SUBSCRIPTION log_sub CONNECTION '$connstr' PUBLICATION log_pub WITH (copy_data = false)"
);
$pub->wait_for_catchup('log_sub');

my $before = $sub->safe_psql('postgres', 'SELECT count(*) FROM migsafe.audit_log');
cmp_ok($before, '>', 0, 'the subscriber has audit rows of its own');

# an approved TRUNCATE of the log on the publisher is replicated as a TRUNCATE
$pub->safe_psql(
	'postgres', q{
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*';
TRUNCATE migsafe.audit_log;
COMMIT;});

my $offset = -s $sub->logfile;
ok( $sub->wait_for_log(
		qr/TRUNCATE on table "migsafe.audit_log" is not allowed/, $offset),
	'the apply worker is refused the TRUNCATE');
is($sub->safe_psql('postgres', 'SELECT count(*) >= ' . $before . ' FROM migsafe.audit_log'),
	't', 'the subscriber keeps its audit rows');

# with a standby streaming, SET UNLOGGED says that the table's rows no
# longer reach it
$pub->backup('for_standby');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($pub, 'for_standby', has_streaming => 1);
$standby->start;
$pub->wait_for_catchup($standby);
$pub->safe_psql('postgres', 'INSERT INTO t VALUES (1)');
my ($ret, $out, $err) = $pub->psql('postgres', 'ALTER TABLE t SET UNLOGGED');
like(
	$err,
	qr/ALTER TABLE on table "public.t" requires migsafe approval.*\nDETAIL:  Table "public.t" holds 1 row \(8192 bytes\)\. This server streams WAL to \d+ standbys? or subscribers?: an unlogged table's rows no longer reach (it|them), and after a failover the table is empty\./,
	'SET UNLOGGED: the error says the standbys lose the table');

# the preview on a standby: check() reads the catalog and works;
# rehearse() takes real locks and writes, and is refused
$pub->wait_for_catchup($standby);
is( $standby->safe_psql(
		'postgres',
		q{SELECT class || ' ' || rule FROM migsafe.check('TRUNCATE t')}),
	'destructive truncate',
	'check() previews on a standby');
($ret, $out, $err) =
  $standby->psql('postgres', q{SELECT * FROM migsafe.rehearse('TRUNCATE t')});
like(
	$err,
	qr/ERROR:  cannot rehearse a migration on a standby/,
	'rehearse() is refused on a standby');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM t'),
	'1', 'and the standby still has the row');

$standby->stop;
$sub->safe_psql('postgres', 'DROP SUBSCRIPTION log_sub');
$sub->stop;
$pub->stop;

done_testing();
