# Copyright (c) 2026, migsafe developers
#
# t/014_streaming.pl
#	  A streaming standby gets the audit log and the snapshots; the hook is
#	  harmless there; after promotion the guard, the audit log and restore
#	  work on the new primary.
#
# migsafe keeps everything in ordinary WAL-logged tables, so a physical
# standby (pg_basebackup, streaming) must receive, for an approved DROP
# TABLE on the primary: its audit rows, its row in migsafe.snapshots and
# the kept data, readable there.  On the standby, which is read-only:
#
# - a schema change fails with PostgreSQL's read-only error (SQLSTATE
#   25006), and the server keeps running;
# - so does an unapproved DROP TABLE, approved or not: migsafe's dry run
#   meets the read-only check before migsafe decides, so there is no audit
#   row, only PostgreSQL's ERROR in the server log, and nothing is kept;
# - DROP DATABASE of a guarded database, which migsafe decides before
#   PostgreSQL's checks, is refused with MS001, and its audit rows, which
#   no writer can store during recovery, are written to the server log,
#   with their content, at once (not queued in shared memory, where they
#   would vanish at the standby's next restart, or be written after a
#   promotion that may never come);
# - no backend crashes and no audit writer starts.
#
# After promotion: an unapproved DROP TABLE of a table with rows is refused
# with MS001, its blocked rows reach the new primary's audit log (through
# the audit writer, which could not run during recovery), so do those of a
# DROP DATABASE, but not those of the one refused during recovery (they are
# in the server log only), and migsafe.restore() of the snapshot taken on
# the old primary brings the table back with its rows, guarded again.
#
# Why TAP: two clusters, pg_basebackup, streaming replication, promotion
# and the server log; pg_regress runs one instance.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('stream_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf',
	"shared_preload_libraries = 'migsafe'\nmigsafe.audit_repeat_window = 0");
$primary->start;

$primary->safe_psql(
	'postgres', q{
CREATE EXTENSION migsafe;
CREATE TABLE kept (id int PRIMARY KEY, v text);
INSERT INTO kept SELECT g, 'row ' || g FROM generate_series(1, 50) g;
CREATE TABLE guarded (a int);
INSERT INTO guarded VALUES (1), (2), (3);
CREATE DATABASE guarded_db;
});
$primary->safe_psql('guarded_db', 'CREATE EXTENSION migsafe');

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('stream_standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# Run $sql on $node, going on after errors; returns (exit code, stdout,
# stderr) with SQLSTATEs shown
sub run_sql
{
	my ($node, $sql) = @_;
	my ($out, $err);

	my $rc = $node->psql(
		'postgres', $sql,
		stdout => \$out,
		stderr => \$err,
		on_error_stop => 0,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return ($rc, $out, $err);
}

#
# a) What an approved DROP TABLE writes on the primary reaches the standby
#
my ($rc, $out, $err) = run_sql(
	$primary, q{
BEGIN;
SET LOCAL migsafe.approve = 'public.kept';
SET LOCAL migsafe.reason = 'CHG-14 drop kept';
DROP TABLE kept;
COMMIT;});
unlike($err, qr/ERROR/, 'primary: the approved DROP TABLE runs');

# a blocked attempt on the primary too: its row comes through the writer
($rc, $out, $err) = run_sql($primary, 'DROP TABLE guarded');
like($err, qr/ERROR:  MS001: DROP TABLE on table "public.guarded"/,
	'primary: an unapproved DROP TABLE is blocked');
ok( $primary->poll_query_until(
		'postgres',
		q{SELECT count(*) FROM migsafe.audit_log
		   WHERE statement = 'DROP TABLE guarded' AND decision = 'blocked'},
		'2'),
	'primary: the blocked rows are written');

my $snap_id = $primary->safe_psql('postgres',
	q{SELECT id FROM migsafe.snapshots WHERE object_identity = 'public.kept'});
like($snap_id, qr/^\d+$/, 'primary: the DROP kept a snapshot');
my $storage = $primary->safe_psql('postgres',
	"SELECT storage FROM migsafe.snapshots WHERE id = $snap_id");

$primary->wait_for_catchup($standby);

my $audit_query = q{
SELECT scope, decision, coalesce(reason, '-'), snapshot_id IS NOT NULL
  FROM migsafe.audit_log
 WHERE statement LIKE '%DROP TABLE kept%' OR statement = 'DROP TABLE guarded'
 ORDER BY id};
my $audit_primary = $primary->safe_psql('postgres', $audit_query);
is( $audit_primary,
	"command|approved|CHG-14 drop kept|f\n"
	  . "object|approved|CHG-14 drop kept|t\n"
	  . "command|blocked|-|f\n"
	  . "object|blocked|-|f",
	'primary: the audit rows of both DROPs');
is($standby->safe_psql('postgres', $audit_query),
	$audit_primary, 'standby: the same audit rows after catchup');

my $snap_query = qq{
SELECT id, audit_id, operation, method, storage, row_count, status
  FROM migsafe.snapshots WHERE id = $snap_id};
my $snap_primary = $primary->safe_psql('postgres', $snap_query);
like($snap_primary, qr/\|drop\|\w+\|.+\|50\|kept$/,
	'primary: the snapshot row keeps the 50 rows');
is($standby->safe_psql('postgres', $snap_query),
	$snap_primary, 'standby: the same snapshot row');

my $data_query = "SELECT count(*), sum(id), max(v) FROM $storage";
is($standby->safe_psql('postgres', $data_query),
	'50|1275|row 9', 'standby: the kept table is there and readable');
is( $standby->safe_psql(
		'postgres', "SELECT to_regclass('public.kept') IS NULL"),
	't', 'standby: the table is gone there too');

#
# b) The hook on the read-only standby
#
my $offset = -s $standby->logfile;
($rc, $out, $err) = run_sql($standby, 'CREATE TABLE on_standby (a int)');
like(
	$err,
	qr/ERROR:  25006: cannot execute CREATE TABLE in a read-only transaction/,
	'standby: CREATE TABLE fails with the read-only error');

# migsafe's dry run of the DROP (which finds what it would take along)
# meets PostgreSQL's read-only check before migsafe decides anything: no
# blocked row, only PostgreSQL's own ERROR in the server log
($rc, $out, $err) = run_sql($standby, 'DROP TABLE guarded');
like(
	$err,
	qr/ERROR:  25006: cannot execute DROP TABLE in a read-only transaction/,
	'standby: an unapproved DROP TABLE fails with the read-only error');

($rc, $out, $err) = run_sql(
	$standby, q{
BEGIN;
SET LOCAL migsafe.approve = 'public.guarded';
DROP TABLE guarded;
COMMIT;});
like(
	$err,
	qr/ERROR:  25006: cannot execute DROP TABLE in a read-only transaction/,
	'standby: an approved DROP TABLE fails with the read-only error');
ok( $standby->log_contains(
		qr/ERROR:  cannot execute DROP TABLE in a read-only transaction\n[^\n]*STATEMENT:  DROP TABLE guarded/,
		$offset),
	'standby: the server log has the failed DROP TABLE');
ok(!$standby->log_contains(qr/migsafe audit row/, $offset),
	'standby: no audit row for a change PostgreSQL refused');

# DROP DATABASE of a guarded database is decided before PostgreSQL's
# checks: refused by migsafe, and its audit rows, which no writer can
# store during recovery, go to the server log at once
($rc, $out, $err) = run_sql($standby, 'DROP DATABASE guarded_db');
like(
	$err,
	qr/ERROR:  MS001: DROP DATABASE on database "guarded_db" requires migsafe approval/,
	'standby: an unapproved DROP DATABASE is refused by migsafe');
unlike($err, qr/WARNING/,
	'standby: no WARNING about the queue or the writer');
ok( $standby->log_contains(
		qr/LOG:  migsafe audit row written to the server log during recovery\n[^\n]*DETAIL:  \{[^\n]*"command_tag":"DROP DATABASE"[^\n]*guarded_db[^\n]*"decision":"blocked"/,
		$offset),
	'standby: the blocked DROP DATABASE row is in the server log, with its content'
);
ok( !$standby->log_contains(
		qr/during recovery\n[^\n]*DETAIL:  [^\n]*"wal_lsn"/, $offset),
	'standby: the rows logged there carry no WAL position');
is($standby->safe_psql('postgres', 'SELECT 1'),
	'1', 'standby: the server is still up');
ok( !$standby->log_contains(
		qr/server process .* was terminated|terminating any other active/,
		$offset),
	'standby: no backend crashed');
is( $standby->safe_psql(
		'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'migsafe audit writer'"
	),
	'0',
	'standby: no audit writer was started during recovery');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM guarded'),
	'3', 'standby: the table keeps its rows');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM migsafe.snapshots'),
	'1', 'standby: nothing was kept for the refused DROP');

#
# c) After promotion
#
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'timed out waiting for the promotion';

($rc, $out, $err) = run_sql($standby, 'DROP TABLE guarded');
like(
	$err,
	qr/ERROR:  MS001: DROP TABLE on table "public.guarded" requires migsafe approval/,
	'promoted: an unapproved DROP TABLE with rows is refused');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM guarded'),
	'3', 'promoted: the table keeps its rows');
ok( $standby->poll_query_until(
		'postgres', q{
SELECT count(*) FILTER (WHERE scope = 'command') || '|'
	   || count(*) FILTER (WHERE scope = 'object'
						   AND object_identity = 'public.guarded')
  FROM migsafe.audit_log
 WHERE statement = 'DROP TABLE guarded' AND decision = 'blocked'},
		'2|2'),
	'promoted: the blocked attempt is written to the new primary\'s audit log'
);

# DROP DATABASE refused during recovery is in the standby's server log
# only: once promoted, only the attempt made since reaches guarded_db's
# audit log (the writer stores a database's rows in the order queued, so
# once the new attempt is there, an older one would be too)
($rc, $out, $err) = run_sql($standby, 'DROP DATABASE guarded_db');
like(
	$err,
	qr/ERROR:  MS001: DROP DATABASE on database "guarded_db" requires migsafe approval/,
	'promoted: an unapproved DROP DATABASE is refused');
ok( $standby->poll_query_until(
		'guarded_db',
		q{SELECT count(*) > 0 FROM migsafe.audit_log
		   WHERE command_tag = 'DROP DATABASE' AND decision = 'blocked'}),
	'promoted: the blocked DROP DATABASE is written to its database\'s log');
is( $standby->safe_psql(
		'guarded_db',
		q{SELECT count(*) FROM migsafe.audit_log
		   WHERE command_tag = 'DROP DATABASE' AND scope = 'command'}),
	'1',
	'promoted: the attempt refused during recovery is not written as well');

($rc, $out, $err) = run_sql($standby, "SELECT migsafe.restore($snap_id)");
unlike($err, qr/ERROR/, 'promoted: restore() of the old primary\'s snapshot runs');
is( $standby->safe_psql(
		'postgres', 'SELECT count(*), sum(id), max(v) FROM kept'),
	'50|1275|row 9',
	'promoted: the table is back with its rows');
is( $standby->safe_psql(
		'postgres', "SELECT status FROM migsafe.snapshots WHERE id = $snap_id"),
	'restored', 'promoted: the snapshot is marked restored');
is( $standby->safe_psql(
		'postgres',
		"SELECT count(*) FROM migsafe.audit_log WHERE command_tag = 'RESTORE' AND snapshot_id = $snap_id"
	),
	'1',
	'promoted: the restore is audited');

# the restored table is data: dropping it again needs an approval
($rc, $out, $err) = run_sql($standby, 'DROP TABLE kept');
like($err, qr/ERROR:  MS001: DROP TABLE on table "public.kept"/,
	'promoted: the restored table is guarded');

# the old primary still has its own state
is($primary->safe_psql('postgres', 'SELECT to_regclass(\'public.kept\') IS NULL'),
	't', 'old primary: unchanged by what the promoted standby did');

$standby->stop;
$primary->stop;

done_testing();
