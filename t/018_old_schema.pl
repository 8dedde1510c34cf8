# Copyright (c) 2026, migsafe developers
#
# t/018_old_schema.pl
#	  A database whose extension is still at version 1.0, under the
#	  library of version 1.1, then updated in place, without a restart.
#
# A server gets a new migsafe library (a package upgrade and a restart)
# long before every database runs ALTER EXTENSION migsafe UPDATE.  Until
# then the library must keep guarding, auditing and restoring with the
# objects of 1.0, and refuse what needs the objects of 1.1 with a message
# that names the update:
#
# - the guard refuses an unapproved DROP TABLE, and each refused attempt
#   is a row of the 1.0 audit log (which cannot count repeats);
# - approved DROP TABLE, DROP COLUMN and TRUNCATE keep snapshots that
#   restore() and restore(name) (1.0's, by name) put back;
# - migsafe.guard_dml still refuses an unapproved DELETE, but an approved
#   one is refused (its snapshot needs 1.1), nothing deleted;
# - CREATE SUBSCRIPTION warns that replicated TRUNCATE is not guarded;
# - after an approved ALTER EXTENSION migsafe UPDATE in the same running
#   server, the log and the snapshots are intact, the approved DELETE
#   keeps its snapshot, and the 1.0 snapshots still restore.
#
# Why TAP: the library and the extension's objects must differ in one
# running server, and the CREATE SUBSCRIPTION warning needs a server log
# free of pg_regress's other databases.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('old_schema');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'migsafe'");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE old');
$node->safe_psql(
	'old', q{
CREATE EXTENSION migsafe VERSION '1.0';
CREATE TABLE t (id int PRIMARY KEY, c text);
INSERT INTO t SELECT g, 'c' || g FROM generate_series(1, 10) g;
CREATE TABLE u (id int PRIMARY KEY);
INSERT INTO u SELECT generate_series(1, 5);});
is($node->safe_psql('old',
		"SELECT extversion FROM pg_extension WHERE extname = 'migsafe'"),
	'1.0', 'the extension is at 1.0');

# Run $sql in old; return (exit code, stderr), verbose errors
sub run
{
	my ($sql) = @_;
	my ($out, $err);
	my $rc = $node->psql(
		'old', $sql,
		stdout => \$out,
		stderr => \$err,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return ($rc, $err);
}

# 1. the guard guards, and each refused attempt is audited
for my $i (1 .. 2)
{
	my ($rc, $err) = run('DROP TABLE t');
	isnt($rc, 0, "unapproved DROP TABLE $i fails");
	like($err, qr/ERROR:  MS001: DROP TABLE on table "public\.t" requires migsafe approval/,
		"unapproved DROP TABLE $i: migsafe's error");
}
ok( $node->poll_query_until(
		'old', q{
SELECT count(*) = 2 FROM migsafe.audit_log
 WHERE decision = 'blocked' AND scope = 'object' AND object_identity = 'public.t'}),
	'both refused attempts are rows of the 1.0 audit log');

# 2. snapshots: kept under 1.0, restored by id and by name
$node->safe_psql(
	'old', q{
BEGIN;
SET LOCAL migsafe.approve = 'public.t';
ALTER TABLE t DROP COLUMN c;
COMMIT;
BEGIN;
SET LOCAL migsafe.approve = 'public.u';
TRUNCATE u;
COMMIT;});
is( $node->safe_psql(
		'old', q{
SELECT string_agg(id || ':' || object_identity || ':' || operation || ':' || status, ' ' ORDER BY id)
  FROM migsafe.snapshots}),
	'1:public.t.c:drop:kept 2:public.u:truncate:kept',
	'approved DROP COLUMN and TRUNCATE keep snapshots');
is( $node->safe_psql(
		'old', q{
SELECT string_agg(command_tag || ':' || decision || ':' || snapshot_id, ' ' ORDER BY id)
  FROM migsafe.audit_log WHERE scope = 'object' AND snapshot_id IS NOT NULL}),
	'ALTER TABLE:approved:1 TRUNCATE TABLE:approved:2',
	'their audit rows name the snapshots');
is($node->safe_psql('old', q{SELECT migsafe.restore('public.t.c')}),
	'10', 'restore(name) of 1.0 puts the column back');
is($node->safe_psql('old', 'SELECT migsafe.restore(2)'),
	'5', 'restore(id) puts the truncated rows back');
is( $node->safe_psql(
		'old', q{SELECT count(*) || ':' || count(c) FROM t}),
	'10:10', 'the column holds its values again');
is($node->safe_psql('old', 'SELECT count(*) FROM u'),
	'5', 'the truncated table holds its rows again');
$node->safe_psql(
	'old', q{
BEGIN;
SET LOCAL migsafe.approve = 'public.u';
DROP TABLE u;
COMMIT;});

# 3. migsafe.guard_dml: blocking works, a snapshot of DELETE needs 1.1
my ($rc, $err) = run(q{SET migsafe.guard_dml = on; DELETE FROM t});
isnt($rc, 0, 'unapproved DELETE without WHERE fails');
like($err, qr/ERROR:  MS001: DELETE on table "public\.t" requires migsafe approval/,
	'unapproved DELETE: migsafe\'s error');
($rc, $err) = run(
	q{SET migsafe.guard_dml = on;
BEGIN;
SET LOCAL migsafe.approve = 'public.t';
DELETE FROM t;
COMMIT;});
like(
	$err,
	qr/ERROR:  55000: the snapshot of a DELETE or UPDATE of every row \(migsafe\.guard_dml\) needs version 1\.1 of extension "migsafe"\n.*DETAIL:  The extension is at version 1\.0 in database "old"; the library loaded is newer\.\n.*HINT:  Update it with ALTER EXTENSION migsafe UPDATE, after SET LOCAL migsafe\.approve = 'migsafe\.\*' in the same transaction\./s,
	'approved DELETE under 1.0: refused, naming ALTER EXTENSION migsafe UPDATE');
is($node->safe_psql('old', 'SELECT count(*) FROM t'),
	'10', 'nothing was deleted');

# 4. CREATE SUBSCRIPTION: replicated TRUNCATE is not guarded, say so
($rc, $err) = run(
	q{CREATE SUBSCRIPTION s CONNECTION 'dbname=postgres' PUBLICATION p
WITH (connect = false, slot_name = NONE)});
is($rc, 0, 'CREATE SUBSCRIPTION runs');
like(
	$err,
	qr/WARNING:  55000: guarding the TRUNCATE that subscriptions apply is skipped: it needs version 1\.1 of extension "migsafe"\n.*HINT:  Update it with ALTER EXTENSION migsafe UPDATE/s,
	'CREATE SUBSCRIPTION under 1.0 warns, naming ALTER EXTENSION migsafe UPDATE');
$node->safe_psql('old', 'DROP SUBSCRIPTION s');

# 5. the update, in the running server: everything is still there
my $rows_before = $node->safe_psql('old',
	q{SELECT count(*) || ':' || max(id) FROM migsafe.audit_log});
($rc, $err) = run('ALTER EXTENSION migsafe UPDATE');
like($err, qr/ERROR:  MS001: ALTER EXTENSION on extension migsafe requires migsafe approval/,
	'the update itself needs an approval');
$node->safe_psql(
	'old', q{
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*';
ALTER EXTENSION migsafe UPDATE;
COMMIT;});
is($node->safe_psql('old',
		"SELECT extversion FROM pg_extension WHERE extname = 'migsafe'"),
	'1.1', 'the extension is at 1.1');
my ($n_before, $max_before) = split /:/, $rows_before;
is( $node->safe_psql(
		'old', "SELECT count(*) FROM migsafe.audit_log WHERE id <= $max_before"),
	$n_before, 'every audit row written under 1.0 is still there');
is( $node->safe_psql(
		'old', q{
SELECT string_agg(id || ':' || status, ' ' ORDER BY id) FROM migsafe.snapshots}),
	'1:restored 2:restored 3:kept',
	'every snapshot kept under 1.0 is still there');

# the approved DELETE now keeps its snapshot
$node->safe_psql(
	'old', q{
SET migsafe.guard_dml = on;
BEGIN;
SET LOCAL migsafe.approve = 'public.t';
DELETE FROM t;
COMMIT;});
is( $node->safe_psql(
		'old', q{
SELECT (SELECT count(*) FROM t) || ':' || operation || ':' || status
  FROM migsafe.snapshots WHERE id = 4}),
	'0:delete:kept', 'after the update, an approved DELETE keeps a snapshot');
is($node->safe_psql('old', 'SELECT migsafe.restore(4)'),
	'10', 'and it restores');
is($node->safe_psql('old', 'SELECT migsafe.restore(3)'),
	'5', 'the table dropped under 1.0 restores after the update');
is($node->safe_psql('old', 'SELECT count(*) FROM u'),
	'5', 'with its rows');

# 6. removal: refused while a snapshot is kept unless the approval names
# them; the rows of the approved drop go to the server log, with the log
$node->safe_psql(
	'old', q{
BEGIN;
SET LOCAL migsafe.approve = 'public.t';
DROP TABLE t;
COMMIT;});
($rc, $err) = run(
	q{BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*';
DROP EXTENSION migsafe;
COMMIT;});
like(
	$err,
	qr/ERROR:  MS001: DROP EXTENSION on extension "migsafe" requires migsafe approval of its 1 kept snapshot \(migsafe\.approve = 'migsafe\.\*, migsafe\.snapshots'\)\n.*DETAIL:  migsafe keeps snapshot 5: /s,
	'DROP EXTENSION with a kept snapshot: migsafe.* is not enough');
my $offset = -s $node->logfile;
$node->safe_psql(
	'old', q{
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*, migsafe.snapshots';
DROP EXTENSION migsafe;
COMMIT;});
is($node->safe_psql('old',
		"SELECT count(*) FROM pg_extension WHERE extname = 'migsafe'"),
	'0', 'approved naming the snapshots, the extension is dropped');
is($node->safe_psql('old', 'SELECT count(*) FROM migsafe_snapshot_5.kept'),
	'10', 'the kept snapshot\'s data stays behind');
my $log = slurp_file($node->logfile, $offset);
like(
	$log,
	qr/LOG:  migsafe audit row written to the server log: extension "migsafe" was dropped with its audit log\n.*DETAIL:  \{[^\n]*"command_tag" ?: ?"DROP EXTENSION"[^\n]*"decision" ?: ?"approved"/,
	'the approved DROP EXTENSION is audited to the server log');
like($log, qr/DETAIL:  \{[^\n]*"object_identity" ?: ?"migsafe"[^\n]*"approved_by" ?: ?"migsafe\.\*"/,
	'with the extension\'s row and its approval');

$node->stop;
done_testing();
