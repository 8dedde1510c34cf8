# Copyright (c) 2026, migsafe developers
#
# t/001_preload.pl
#	  migsafe must be loaded through shared_preload_libraries.
#
# A guard that only some backends have is no guard, so without the library
# in shared_preload_libraries CREATE EXTENSION and LOAD must fail with a
# clear message and HINT.  Once preloaded, only the databases where the
# extension is installed are guarded, and the guard is still there after a
# server restart.
#
# Why TAP: this needs a server that starts without the library and is then
# restarted with it, several databases, and another restart; pg_regress
# runs inside one database of an instance configured once.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('preload');
$node->init;
$node->start;

my ($ret, $stdout, $stderr);

# Run $sql in $db; it must fail with migsafe's error (SQLSTATE MS001)
# whose primary message is $msg.
sub is_blocked
{
	my ($db, $sql, $msg, $name) = @_;
	my ($out, $err);

	my $rc = $node->psql(
		$db, $sql,
		stdout => \$out,
		stderr => \$err,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	isnt($rc, 0, "$name: fails");
	like($err, qr/ERROR:  MS001: \Q$msg\E \(migsafe\.approve = '[^\n]*'\)$/m, "$name: migsafe's error");
	return;
}

#
# Without the library preloaded
#
$ret = $node->psql('postgres', 'CREATE EXTENSION migsafe',
	stderr => \$stderr);
isnt($ret, 0, 'CREATE EXTENSION fails when migsafe is not preloaded');
like(
	$stderr,
	qr/ERROR:  migsafe must be loaded via shared_preload_libraries$/m,
	'CREATE EXTENSION: the error names shared_preload_libraries');
like(
	$stderr,
	qr/HINT:  Add migsafe to shared_preload_libraries in postgresql\.conf and restart the server\.$/m,
	'CREATE EXTENSION: the hint says what to do');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM pg_extension WHERE extname = 'migsafe'"),
	'0',
	'the extension was not created');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM pg_namespace WHERE nspname = 'migsafe'"),
	'0',
	'no schema migsafe left behind');

$ret = $node->psql('postgres', "LOAD 'migsafe'", stderr => \$stderr);
isnt($ret, 0, 'LOAD fails when migsafe is not preloaded');
like(
	$stderr,
	qr/ERROR:  migsafe must be loaded via shared_preload_libraries$/m,
	'LOAD: same error');
like($stderr, qr/HINT:  Add migsafe to shared_preload_libraries/,
	'LOAD: same hint');

#
# Preloaded
#
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'migsafe'");
$node->restart;

is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'),
	'migsafe', 'migsafe is preloaded after the restart');

$node->safe_psql('postgres', 'CREATE DATABASE guarded');
$node->safe_psql('postgres', 'CREATE DATABASE plain');

$ret = $node->psql('guarded', 'CREATE EXTENSION migsafe',
	stderr => \$stderr);
is($ret, 0, 'CREATE EXTENSION succeeds once migsafe is preloaded');
is($stderr, '', 'CREATE EXTENSION: no message');

foreach my $db ('guarded', 'plain')
{
	$node->safe_psql($db,
		'CREATE TABLE t1 (a int); INSERT INTO t1 SELECT generate_series(1, 3);'
	);
}

# a database without the extension is not guarded
$ret = $node->psql('plain', 'DROP TABLE t1', stderr => \$stderr);
is($ret, 0, 'database without the extension: DROP TABLE with data succeeds');
is($stderr, '', 'database without the extension: no message');
is($node->safe_psql('plain', "SELECT to_regclass('public.t1') IS NULL"),
	't', 'database without the extension: the table is gone');

# the database with it is
is_blocked('guarded', 'DROP TABLE t1',
	'DROP TABLE on table "public.t1" requires migsafe approval',
	'database with the extension: DROP TABLE');
is($node->safe_psql('guarded', 'SELECT count(*) FROM t1'),
	'3', 'database with the extension: the rows are intact');

#
# The guard survives a restart
#
$node->restart;

is_blocked('guarded', 'DROP TABLE t1',
	'DROP TABLE on table "public.t1" requires migsafe approval',
	'after a restart: DROP TABLE');
is_blocked('guarded', 'TRUNCATE t1',
	'TRUNCATE TABLE on table "public.t1" requires migsafe approval',
	'after a restart: TRUNCATE');
is($node->safe_psql('guarded', 'SELECT count(*) FROM t1'),
	'3', 'after a restart: the rows are intact');

$ret = $node->psql(
	'guarded', "BEGIN;
SET LOCAL migsafe.approve = 'public.t1';
DROP TABLE t1;
COMMIT;",
	stderr => \$stderr);
is($ret, 0, 'after a restart: an approved DROP TABLE succeeds');
is($node->safe_psql('guarded', "SELECT to_regclass('public.t1') IS NULL"),
	't', 'after a restart: the approved table is gone');

$node->stop;

done_testing();
