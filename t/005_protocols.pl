# Copyright (c) 2026, migsafe developers
#
# t/005_protocols.pl
#	  The guard on every way a statement reaches the server.
#
# A migration tool may send its DDL through the extended query protocol
# (Parse/Bind/Execute, possibly pipelined, as most drivers do), through
# prepared statements, or as one multi-statement simple-query string.
# Every form must be blocked the same way, leave the data intact, and
# accept an approval made in the same transaction.
#
# Why TAP: pg_regress and psql only speak the simple query protocol (one
# statement at a time); pgbench -M extended / -M prepared and its
# \startpipeline drive the extended protocol, and psql -c sends one
# multi-statement string.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('protocols');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'migsafe'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION migsafe');

my $dir = PostgreSQL::Test::Utils::tempdir;

# Write a pgbench script, return its path
sub script
{
	my ($name, $text) = @_;
	my $path = "$dir/$name.sql";

	PostgreSQL::Test::Utils::append_to_file($path, $text);
	return $path;
}

# Create table $t with $n rows (again)
sub make_table
{
	my ($t, $n) = @_;

	$node->safe_psql('postgres',
		"CREATE TABLE $t (a int); INSERT INTO $t SELECT generate_series(1, $n);"
	);
	return;
}

# Row count of table $t, or 'gone'
sub rows
{
	my ($t) = @_;

	return $node->safe_psql(
		'postgres', qq{
SELECT CASE WHEN to_regclass('$t') IS NULL THEN 'gone'
	ELSE (xpath('/row/n/text()',
		query_to_xml('SELECT count(*) AS n FROM $t', false, true, '')))[1]::text
	END});
}

my $blocked = qr/ERROR:  DROP TABLE on table "public\.victim" requires migsafe approval/;

my $drop = script('drop', "DROP TABLE victim;\n");
my $approved = script(
	'approved', "BEGIN;
SET LOCAL migsafe.approve = 'public.victim';
DROP TABLE victim;
COMMIT;
");
my $pipeline = script(
	'pipeline', "\\startpipeline
SELECT 1;
DROP TABLE victim;
\\endpipeline
");

make_table('victim', 3);

#
# Blocked, whatever the protocol
#
foreach my $mode ('simple', 'extended', 'prepared')
{
	# pgbench exits with 2 when a client aborts
	$node->command_checks_all(
		[ 'pgbench', '-n', '-t', '1', '-M', $mode, '-f', $drop, 'postgres' ],
		2,
		[qr/number of transactions actually processed: 0\/1/],
		[$blocked],
		"pgbench -M $mode: DROP TABLE is blocked");
	is(rows('victim'), '3', "pgbench -M $mode: the rows are intact");
}

$node->command_checks_all(
	[ 'pgbench', '-n', '-t', '1', '-M', 'extended', '-f', $pipeline, 'postgres' ],
	2,
	[qr/number of transactions actually processed: 0\/1/],
	[$blocked],
	'pgbench pipeline: DROP TABLE is blocked');
is(rows('victim'), '3', 'pgbench pipeline: the rows are intact');

#
# Approved in the same transaction
#
foreach my $mode ('extended', 'prepared')
{
	make_table('victim', 3) if rows('victim') eq 'gone';
	$node->command_checks_all(
		[ 'pgbench', '-n', '-t', '1', '-M', $mode, '-f', $approved, 'postgres' ],
		0,
		[qr/number of transactions actually processed: 1\/1/],
		[qr/\ANOTICE:  migsafe kept snapshot \d+ of table "public\.victim"\nHINT:  Restore it with SELECT migsafe\.restore\(\d+\)\.\n\z/],
		"pgbench -M $mode: approved DROP TABLE succeeds, with a snapshot");
	is(rows('victim'), 'gone', "pgbench -M $mode: the table is gone");
}

#
# A multi-statement simple-query string
#
make_table('v2', 2);
$node->command_checks_all(
	[
		'psql', '-XAtq', '-d', $node->connstr('postgres'),
		'-c', 'SELECT 1; DROP TABLE v2; SELECT 2'
	],
	1,
	[qr/^1$/],
	[qr/ERROR:  DROP TABLE on table "public\.v2" requires migsafe approval/],
	'multi-statement string: DROP TABLE is blocked');
is(rows('v2'), '2', 'multi-statement string: the rows are intact');

# statements before the DROP in the same string are rolled back with it
make_table('v3', 2);
$node->command_checks_all(
	[
		'psql', '-XAtq', '-d', $node->connstr('postgres'),
		'-c', 'INSERT INTO v3 VALUES (3); DROP TABLE v3'
	],
	1,
	[qr/^$/],
	[qr/ERROR:  DROP TABLE on table "public\.v3" requires migsafe approval/],
	'multi-statement string: INSERT then DROP TABLE is blocked');
is(rows('v3'), '2', 'multi-statement string: the whole string rolled back');

# a string is one transaction: SET LOCAL in it approves its own DROP...
$node->command_checks_all(
	[
		'psql', '-XAtq', '-d', $node->connstr('postgres'),
		'-c', "SET LOCAL migsafe.approve = 'public.v3'; DROP TABLE v3"
	],
	0,
	[qr/^$/],
	[qr/\ANOTICE:  migsafe kept snapshot \d+ of table "public\.v3"\nHINT:  Restore it with SELECT migsafe\.restore\(\d+\)\.\n\z/],
	'multi-statement string: SET LOCAL approves the DROP in the same string, with a snapshot');
is(rows('v3'), 'gone', 'multi-statement string: the approved table is gone');

# ... and nothing after it
make_table('v4', 2);
$node->command_checks_all(
	[
		'psql', '-XAtq', '-d', $node->connstr('postgres'),
		'-c', "SET LOCAL migsafe.approve = 'public.v4'; SELECT 1",
		'-c', 'DROP TABLE v4'
	],
	1,
	[qr/^1$/],
	[qr/ERROR:  DROP TABLE on table "public\.v4" requires migsafe approval/],
	'multi-statement string: the approval ends with the string');
is(rows('v4'), '2', 'approval ended: the rows are intact');

$node->stop;

done_testing();
