# Copyright (c) 2026, migsafe developers
#
# t/002_dropdb.pl
#	  DROP DATABASE of a database guarded by migsafe.
#
# CREATE EXTENSION migsafe marks its database with the security label
# "guarded" (provider migsafe); DROP DATABASE of a marked database is then
# blocked from any database, with or without the extension, unless the
# session runs SET migsafe.approve = 'DATABASE name' (session level, since
# DROP DATABASE cannot run in a transaction block).  The mark is copied by
# CREATE DATABASE ... TEMPLATE, removed by an approved DROP EXTENSION, and
# only a superuser may change it by hand.
#
# Why TAP: every case needs several databases (DROP DATABASE cannot run in
# the database it drops, nor in a transaction block), a non-superuser
# database owner, a second session connected to the victim, and the dropdb
# client program.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dropdb');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'migsafe'");
$node->start;

my ($ret, $stdout, $stderr);

# Run $sql in $db (as $user, when given); it must fail with migsafe's error
# (SQLSTATE MS001) whose primary message is $msg.
sub is_blocked
{
	my ($db, $sql, $msg, $name, $user) = @_;
	my ($out, $err);
	my $connstr = $node->connstr($db) . (defined $user ? " user=$user" : '');

	my $rc = $node->psql(
		$db, $sql,
		connstr => $connstr,
		stdout => \$out,
		stderr => \$err,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	isnt($rc, 0, "$name: fails");
	like($err, qr/ERROR:  MS001: \Q$msg\E \(migsafe\.approve = '[^\n]*'\)$/m, "$name: migsafe's error");
	return $err;
}

# Whether database $db exists
sub db_exists
{
	my ($db) = @_;

	return $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_database WHERE datname = '$db'");
}

# Create database $db, with the extension and some data when $guarded
sub create_db
{
	my ($db, $guarded) = @_;

	$node->safe_psql('postgres', "CREATE DATABASE $db");
	return unless $guarded;
	$node->safe_psql($db,
		'CREATE EXTENSION migsafe; CREATE TABLE t (a int); INSERT INTO t VALUES (1);'
	);
	return;
}

create_db('victim', 1);
create_db('plain',  0);

is( $node->safe_psql(
		'postgres', q{
SELECT d.datname, l.label
FROM pg_shseclabel l JOIN pg_database d ON d.oid = l.objoid
WHERE l.classoid = 'pg_database'::regclass AND l.provider = 'migsafe'
ORDER BY 1}),
	'victim|guarded',
	'CREATE EXTENSION marks its database, and only it');

#
# Blocked from any database
#
my $err = is_blocked('postgres', 'DROP DATABASE victim',
	'DROP DATABASE on database "victim" requires migsafe approval',
	'DROP DATABASE from postgres');
like(
	$err,
	qr/DETAIL:  Database "victim" is guarded by migsafe and holds .*\. The statement was: DROP DATABASE victim\.$/m,
	'DROP DATABASE: DETAIL says the database is guarded');
like(
	$err,
	qr/HINT:  To approve it, run SET migsafe\.approve = 'DATABASE victim' in the same session; DROP DATABASE cannot run inside a transaction block\.$/m,
	'DROP DATABASE: HINT gives the session-level SET');
is(db_exists('victim'), '1', 'victim still exists');
is($node->safe_psql('victim', 'SELECT count(*) FROM t'),
	'1', 'victim: data intact');

is_blocked('plain', 'DROP DATABASE victim',
	'DROP DATABASE on database "victim" requires migsafe approval',
	'DROP DATABASE from a database without the extension');
is(db_exists('victim'), '1', 'victim still exists');

is_blocked('postgres', 'DROP DATABASE IF EXISTS victim',
	'DROP DATABASE on database "victim" requires migsafe approval',
	'DROP DATABASE IF EXISTS');

is_blocked(
	'postgres', "SET migsafe.approve = 'DATABASE plain, public.t, victim.*';
DROP DATABASE victim;",
	'DROP DATABASE on database "victim" requires migsafe approval',
	'an approval naming other objects does not approve it');
is(db_exists('victim'), '1', 'victim still exists');

# migsafe.mode = off does not unguard it: the database holds an audit log
is_blocked('postgres', "SET migsafe.mode = off;\nDROP DATABASE victim",
	'DROP DATABASE on database "victim" requires migsafe approval',
	'DROP DATABASE with migsafe.mode = off');
is(db_exists('victim'), '1', 'victim still exists after mode off');

# WITH (FORCE) must be refused before it terminates anybody
my $bg = $node->background_psql('victim');
$bg->query_safe('SELECT 1');
is_blocked('postgres', 'DROP DATABASE victim WITH (FORCE)',
	'DROP DATABASE on database "victim" requires migsafe approval',
	'DROP DATABASE WITH (FORCE)');
is(db_exists('victim'), '1', 'victim still exists');
is($bg->query_safe('SELECT count(*) FROM t'),
	'1', 'a session connected to victim survived the refused FORCE');
$bg->quit;

# the dropdb client program
$node->command_fails_like(
	[ 'dropdb', '--maintenance-db', $node->connstr('postgres'), 'victim' ],
	qr/DROP DATABASE on database "victim" requires migsafe approval/,
	'dropdb is blocked');
$node->command_fails_like(
	[
		'dropdb', '--force', '--maintenance-db',
		$node->connstr('postgres'), 'victim'
	],
	qr/DROP DATABASE on database "victim" requires migsafe approval/,
	'dropdb --force is blocked');
is(db_exists('victim'), '1', 'victim still exists');

# renaming the database keeps the mark (it follows the OID)
$node->safe_psql('postgres', 'ALTER DATABASE victim RENAME TO victim2');
is_blocked('postgres', 'DROP DATABASE victim2',
	'DROP DATABASE on database "victim2" requires migsafe approval',
	'DROP DATABASE after a rename');
$node->safe_psql('postgres', 'ALTER DATABASE victim2 RENAME TO victim');

#
# Approved
#
$ret = $node->psql(
	'postgres', "SET migsafe.approve = 'DATABASE victim';
DROP DATABASE victim;",
	stderr => \$stderr);
is($ret, 0, "SET migsafe.approve = 'DATABASE victim' approves the DROP");
is($stderr, '', 'approved DROP DATABASE: no message');
is(db_exists('victim'), '0', 'victim is gone');

create_db('starred', 1);
$ret = $node->psql(
	'plain', "SET migsafe.approve = '*';
DROP DATABASE starred;",
	stderr => \$stderr);
is($ret, 0, "SET migsafe.approve = '*' approves DROP DATABASE");
is(db_exists('starred'), '0', 'starred is gone');

# dropdb with the approval passed as a connection option
create_db('viaclient', 1);
{
	local $ENV{PGOPTIONS} = '-c migsafe.approve=DATABASE\ viaclient';
	$node->command_ok(
		[
			'dropdb', '--maintenance-db', $node->connstr('postgres'),
			'viaclient'
		],
		'dropdb with PGOPTIONS carrying the approval succeeds');
}
is(db_exists('viaclient'), '0', 'viaclient is gone');

# a database without the extension drops freely
$ret = $node->psql('postgres', 'DROP DATABASE plain', stderr => \$stderr);
is($ret, 0, 'DROP DATABASE of a database without the extension succeeds');
is($stderr, '', 'unguarded DROP DATABASE: no message');
is(db_exists('plain'), '0', 'plain is gone');

#
# DROP EXTENSION removes the mark
#
create_db('unguard', 1);
# the audit log goes with the extension, and it holds the rows of the
# tables created in unguard
is_blocked('unguard', 'DROP EXTENSION migsafe',
	'DROP EXTENSION on extension "migsafe" and 2 other objects require migsafe approval',
	'DROP EXTENSION migsafe without approval');
is_blocked('postgres', 'DROP DATABASE unguard',
	'DROP DATABASE on database "unguard" requires migsafe approval',
	'refused DROP EXTENSION left the mark');
$node->safe_psql(
	'unguard', "BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*';
DROP EXTENSION migsafe;
COMMIT;");
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM pg_shseclabel l JOIN pg_database d ON d.oid = l.objoid
WHERE d.datname = 'unguard' AND l.provider = 'migsafe'}),
	'0',
	'approved DROP EXTENSION removed the mark');
$ret = $node->psql('postgres', 'DROP DATABASE unguard', stderr => \$stderr);
is($ret, 0, 'after DROP EXTENSION, DROP DATABASE needs no approval');
is(db_exists('unguard'), '0', 'unguard is gone');

# a rolled-back DROP EXTENSION keeps the mark
create_db('keep', 1);
$node->safe_psql(
	'keep', "BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*';
DROP EXTENSION migsafe;
ROLLBACK;");
is_blocked('postgres', 'DROP DATABASE keep',
	'DROP DATABASE on database "keep" requires migsafe approval',
	'rolled-back DROP EXTENSION left the mark');

#
# CREATE DATABASE ... TEMPLATE copies the mark
#
create_db('tmpl', 1);
$node->safe_psql('postgres', 'CREATE DATABASE copy TEMPLATE tmpl');
is( $node->safe_psql(
		'postgres', q{
SELECT l.label FROM pg_shseclabel l JOIN pg_database d ON d.oid = l.objoid
WHERE d.datname = 'copy' AND l.provider = 'migsafe'}),
	'guarded',
	'the copy of a guarded template is marked');
is_blocked('postgres', 'DROP DATABASE copy',
	'DROP DATABASE on database "copy" requires migsafe approval',
	'DROP DATABASE of the copy of a guarded template');
is_blocked('copy', 'DROP TABLE t',
	'DROP TABLE on table "public.t" requires migsafe approval',
	'the copy guards its tables too');
is(db_exists('copy'), '1', 'copy still exists');

#
# A non-superuser database owner
#
$node->safe_psql('postgres', 'CREATE ROLE dbowner LOGIN CREATEDB');
$node->safe_psql('postgres', 'CREATE ROLE stranger LOGIN');
$node->safe_psql('postgres', 'CREATE DATABASE owned OWNER dbowner');
$node->safe_psql('owned', 'CREATE EXTENSION migsafe');

foreach my $value ('NULL', "'guarded'", "'other'")
{
	$ret = $node->psql(
		'owned', "SECURITY LABEL FOR migsafe ON DATABASE owned IS $value",
		connstr => $node->connstr('owned') . ' user=dbowner',
		stderr => \$stderr);
	isnt($ret, 0, "database owner cannot set the migsafe label to $value");
	like($stderr, qr/ERROR:  (permission denied|invalid migsafe security label)/,
		"database owner setting the label to $value: refused");
}
is( $node->safe_psql(
		'postgres', q{
SELECT l.label FROM pg_shseclabel l JOIN pg_database d ON d.oid = l.objoid
WHERE d.datname = 'owned' AND l.provider = 'migsafe'}),
	'guarded',
	'owned is still marked');

$ret = $node->psql(
	'postgres', 'SECURITY LABEL FOR migsafe ON DATABASE owned IS NULL',
	connstr => $node->connstr('postgres') . ' user=dbowner',
	stderr => \$stderr);
isnt($ret, 0, 'database owner cannot remove the mark from another database');
like(
	$stderr,
	qr/ERROR:  permission denied to change migsafe security labels$/m,
	'removing the mark: permission denied');

is_blocked('postgres', 'DROP DATABASE owned',
	'DROP DATABASE on database "owned" requires migsafe approval',
	'owner dropping their own guarded database', 'dbowner');
is(db_exists('owned'), '1', 'owned still exists');

# who may not drop it at all gets core's error, not migsafe's
$ret = $node->psql(
	'postgres', "SET migsafe.approve = 'DATABASE owned';
DROP DATABASE owned;",
	connstr => $node->connstr('postgres') . ' user=stranger',
	stderr => \$stderr);
isnt($ret, 0, 'a role that does not own the database cannot drop it');
like($stderr, qr/ERROR:  must be owner of database owned$/m,
	'non-owner: core error');
unlike($stderr, qr/migsafe/, 'non-owner: no migsafe message');
is(db_exists('owned'), '1', 'owned still exists');

$ret = $node->psql(
	'postgres', "SET migsafe.approve = 'DATABASE owned';
DROP DATABASE owned;",
	connstr => $node->connstr('postgres') . ' user=dbowner',
	stderr => \$stderr);
is($ret, 0, 'owner can drop their guarded database with approval');
is(db_exists('owned'), '0', 'owned is gone');

$node->stop;

done_testing();
