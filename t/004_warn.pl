# Copyright (c) 2026, migsafe developers
#
# t/004_warn.pl
#	  migsafe.mode set in the server configuration and per database.
#
# In warn mode an unapproved destructive change runs, and migsafe reports
# the text it would have blocked with as a WARNING (same SQLSTATE, primary
# message, DETAIL and HINT).  In off mode it runs silently.  The mode can be
# set in postgresql.conf (applied on reload) or per database with ALTER
# DATABASE ... SET, and going back to enforce blocks again.
#
# Why TAP: the mode is superuser-only and comes from postgresql.conf and a
# reload, or from per-database settings read at connection time; the
# pg_regress instance is configured once and runs in one database.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('warn');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'migsafe'");
$node->start;

# Run $sql in $db; returns (exit code, stderr), with SQLSTATEs shown
sub run
{
	my ($db, $sql) = @_;
	my ($out, $err);

	my $rc = $node->psql(
		$db, $sql,
		stdout => \$out,
		stderr => \$err,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return ($rc, $err);
}

# Create table $t in $db with $n rows
sub make_table
{
	my ($db, $t, $n) = @_;

	$node->safe_psql($db,
		"CREATE TABLE $t (a int); INSERT INTO $t SELECT generate_series(1, $n);"
	);
	return;
}

# Row count of table $t in $db, or 'gone'
sub rows
{
	my ($db, $t) = @_;

	return $node->safe_psql(
		$db, qq{
SELECT CASE WHEN to_regclass('$t') IS NULL THEN 'gone'
	ELSE (xpath('/row/n/text()',
		query_to_xml('SELECT count(*) AS n FROM $t', false, true, '')))[1]::text
	END});
}

# Set migsafe.mode in postgresql.conf (the last line wins) and reload
sub set_conf_mode
{
	my ($mode) = @_;

	$node->append_conf('postgresql.conf', "migsafe.mode = $mode");
	$node->reload;
	$node->poll_query_until('postgres', 'SHOW migsafe.mode', $mode)
	  or die "timed out waiting for migsafe.mode = $mode";
	return;
}

$node->safe_psql('postgres', 'CREATE DATABASE d');
$node->safe_psql('postgres', 'CREATE EXTENSION migsafe');
$node->safe_psql('d',        'CREATE EXTENSION migsafe');

my ($ret, $stderr);

#
# enforce (the default) blocks
#
make_table('postgres', 'e1', 3);
($ret, $stderr) = run('postgres', 'DROP TABLE e1');
isnt($ret, 0, 'enforce: DROP TABLE fails');
like(
	$stderr,
	qr/ERROR:  MS001: DROP TABLE on table "public.e1" requires migsafe approval \(migsafe\.approve = '[^']*'\)$/m,
	'enforce: migsafe\'s error');
is(rows('postgres', 'e1'), '3', 'enforce: the rows are intact');

#
# warn in postgresql.conf
#
set_conf_mode('warn');

make_table('postgres', 'w1', 3);
($ret, $stderr) = run('postgres', 'DROP TABLE w1');
is($ret, 0, 'warn: DROP TABLE succeeds');
like(
	$stderr,
	qr/WARNING:  MS001: DROP TABLE on table "public.w1" requires migsafe approval \(migsafe\.approve = '[^']*'\)$/m,
	'warn: the WARNING has the same SQLSTATE and primary text');
like(
	$stderr,
	qr/^DETAIL:  Table "public\.w1" holds 3 rows \(8192 bytes\)\. The statement was: DROP TABLE w1\.$/m,
	'warn: the WARNING has the DETAIL');
like(
	$stderr,
	qr/^HINT:  To approve it, run SET LOCAL migsafe\.approve = 'public\.w1' in the same transaction\.$/m,
	'warn: the WARNING has the HINT');
unlike($stderr, qr/ERROR/, 'warn: no ERROR');
is(rows('postgres', 'w1'), 'gone', 'warn: the table is gone');

make_table('postgres', 'w2', 2);
($ret, $stderr) = run('postgres', 'TRUNCATE w2');
is($ret, 0, 'warn: TRUNCATE succeeds');
like(
	$stderr,
	qr/WARNING:  MS001: TRUNCATE TABLE on table "public.w2" requires migsafe approval \(migsafe\.approve = '[^']*'\)$/m,
	'warn: TRUNCATE warns');
is(rows('postgres', 'w2'), '0', 'warn: the table was emptied');

# an approved change needs no warning
make_table('postgres', 'w3', 2);
($ret, $stderr) = run(
	'postgres', "BEGIN;
SET LOCAL migsafe.approve = 'public.w3';
DROP TABLE w3;
COMMIT;");
is($ret, 0, 'warn: an approved DROP TABLE succeeds');
unlike($stderr, qr/WARNING/, 'warn: no WARNING for an approved change');

# a non-superuser cannot go back to enforce or to off either
$node->safe_psql('postgres', 'CREATE ROLE mig LOGIN');
$ret = $node->psql(
	'postgres', 'SET migsafe.mode = off',
	connstr => $node->connstr('postgres') . ' user=mig',
	stderr => \$stderr);
isnt($ret, 0, 'warn: a non-superuser cannot change the mode');
like(
	$stderr,
	qr/ERROR:  permission denied to set parameter "migsafe\.mode"$/m,
	'warn: non-superuser: permission denied');

#
# off in postgresql.conf
#
set_conf_mode('off');

make_table('postgres', 'o1', 3);
($ret, $stderr) = run('postgres', 'DROP TABLE o1');
is($ret, 0, 'off: DROP TABLE succeeds');
is($stderr, '', 'off: silently');
is(rows('postgres', 'o1'), 'gone', 'off: the table is gone');

make_table('postgres', 'o2', 3);
($ret, $stderr) = run('postgres', 'TRUNCATE o2');
is($ret, 0, 'off: TRUNCATE succeeds');
is($stderr, '', 'off: TRUNCATE silently');
is(rows('postgres', 'o2'), '0', 'off: the table was emptied');

#
# back to enforce, then warn for one database only
#
set_conf_mode('enforce');

make_table('postgres', 'e2', 3);
make_table('d',        'e2', 3);
($ret, $stderr) = run('d', 'DROP TABLE e2');
isnt($ret, 0, 'enforce again: DROP TABLE fails');
like(
	$stderr,
	qr/ERROR:  MS001: DROP TABLE on table "public.e2" requires migsafe approval \(migsafe\.approve = '[^']*'\)$/m,
	'enforce again: migsafe\'s error');
is(rows('d', 'e2'), '3', 'enforce again: the rows are intact');

$node->safe_psql('postgres', 'ALTER DATABASE d SET migsafe.mode = warn');
is($node->safe_psql('d', 'SHOW migsafe.mode'),
	'warn', 'ALTER DATABASE d SET migsafe.mode = warn applies in d');

($ret, $stderr) = run('d', 'DROP TABLE e2');
is($ret, 0, 'warn in d: DROP TABLE succeeds');
like(
	$stderr,
	qr/WARNING:  MS001: DROP TABLE on table "public.e2" requires migsafe approval \(migsafe\.approve = '[^']*'\)$/m,
	'warn in d: WARNING');
is(rows('d', 'e2'), 'gone', 'warn in d: the table is gone');

($ret, $stderr) = run('postgres', 'DROP TABLE e2');
isnt($ret, 0, 'other database still enforces');
like(
	$stderr,
	qr/ERROR:  MS001: DROP TABLE on table "public.e2" requires migsafe approval \(migsafe\.approve = '[^']*'\)$/m,
	'other database: migsafe\'s error');
is(rows('postgres', 'e2'), '3', 'other database: the rows are intact');

$node->safe_psql('postgres', 'ALTER DATABASE d RESET migsafe.mode');
make_table('d', 'e3', 3);
($ret, $stderr) = run('d', 'DROP TABLE e3');
isnt($ret, 0, 'd back to enforce: DROP TABLE fails');
like(
	$stderr,
	qr/ERROR:  MS001: DROP TABLE on table "public.e3" requires migsafe approval \(migsafe\.approve = '[^']*'\)$/m,
	'd back to enforce: migsafe\'s error');
is(rows('d', 'e3'), '3', 'd back to enforce: the rows are intact');

$node->stop;

done_testing();
