# Copyright (c) 2026, migsafe developers
#
# t/019_dump_restore.pl
#	  A dump of a database with migsafe restores into a server with migsafe:
#	  the audit log and the snapshot registry come back whole, once, and a
#	  restored snapshot still restores; pg_restore --clean onto the live
#	  database needs an approval like any other destructive change.
#
# Checked here:
#
# - pg_dump | psql and pg_dump -Fc | pg_restore into a new database, run as
#   a superuser with session_replication_role = replica (the rule that lets
#   a restore load rows into migsafe.audit_log and migsafe.snapshots), give
#   back every audit row and registry row of the source with its id, once;
#   the restore's own audit rows are those of its schema changes and one
#   LOAD row per table loaded, named after the new database;
# - the same restore without session_replication_role = replica loads
#   none of them (the tables stay append-only);
# - loading the rows a second time adds none (the same rows are skipped);
#   with replica, UPDATE and DELETE are refused as before;
# - migsafe.restore() of a restored snapshot gives back the same rows;
# - pg_dump --create into another server brings the database back guarded
#   (its migsafe security label: DROP DATABASE needs an approval);
# - pg_restore --clean onto the live database is refused without an
#   approval (nothing changes) and runs with one, keeping a snapshot of
#   what it replaced, the audit log untouched;
# - a source with more audit rows than the restore writes before loading
#   them (a serial table with a view, DROP ... CASCADE; an identity table,
#   DROP; TRUNCATE; all in one transaction): pg_restore and pg_dump | psql
#   both move the restore's own rows out of the way of every loaded id,
#   also a row moved once already or the LOAD row, so the audit COPY does
#   not fail on the primary key; every snapshot restores the same rows.
#
# Why TAP: pg_dump, psql and pg_restore as separate programs, several
# databases, settings passed through PGOPTIONS.

use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'migsafe'");
$node->start;

local $ENV{PGHOST} = $node->host;
local $ENV{PGPORT} = $node->port;

my $tempdir = PostgreSQL::Test::Utils::tempdir;
my $dumpfile = "$tempdir/src.dump";

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql(
	'src', q{
CREATE EXTENSION migsafe;
CREATE TABLE orders (id int PRIMARY KEY, note text);
INSERT INTO orders SELECT g, 'n' || g FROM generate_series(1, 100) g;
CREATE TABLE old_stuff (id serial PRIMARY KEY, v text);
INSERT INTO old_stuff (v) SELECT 'v' || g FROM generate_series(1, 20) g;});

my $old_md5 = $node->safe_psql('src',
	'SELECT md5(string_agg(o::text, \'|\' ORDER BY id)) FROM old_stuff o');

$node->safe_psql(
	'src', q{
BEGIN;
SET LOCAL migsafe.approve = 'public.old_stuff';
DROP TABLE old_stuff;
COMMIT;});

# a blocked attempt too: its row is written by the audit worker
my ($ret, $stdout, $stderr) = $node->psql('src', 'DROP TABLE orders');
like($stderr, qr/requires migsafe approval/, 'an unapproved drop is refused');
ok( $node->poll_query_until(
		'src',
		q{SELECT count(*) > 0 FROM migsafe.audit_log WHERE decision = 'blocked'}),
	'and its blocked row is in the audit log');

# The source's rows, ids included, and its registry
my $audit_sql = q{
SELECT count(*) || ' ' || md5(string_agg(a::text, '|' ORDER BY id))
  FROM migsafe.audit_log a WHERE database = 'src'};
my $registry_sql = q{
SELECT count(*) || ' ' || md5(string_agg(s::text, '|' ORDER BY id))
  FROM migsafe.snapshots s};
my $src_audit = $node->safe_psql('src', $audit_sql);
my $src_registry = $node->safe_psql('src', $registry_sql);
is($node->safe_psql('src', 'SELECT count(*) FROM migsafe.snapshots'),
	'1', 'the source keeps one snapshot');

# 1. pg_dump | psql, as a superuser with session_replication_role = replica
$node->safe_psql('postgres', 'CREATE DATABASE dst_plain');
{
	local $ENV{PGOPTIONS} = '-c session_replication_role=replica';
	my ($out, $err);
	IPC::Run::run(
		[ 'pg_dump', '-d', 'src' ], '|',
		[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'dst_plain' ],
		'>', \$out, '2>', \$err)
	  or die "pg_dump | psql failed: $err";
	is($err, '', 'pg_dump | psql restores without an error');
}
is($node->safe_psql('dst_plain', $audit_sql),
	$src_audit, 'pg_dump | psql: every audit row of the source, once, same id');
is($node->safe_psql('dst_plain', $registry_sql),
	$src_registry, 'pg_dump | psql: the snapshot registry whole');
is( $node->safe_psql(
		'dst_plain', q{
SELECT string_agg(object_identity, ',' ORDER BY object_identity)
  FROM migsafe.audit_log WHERE command_tag = 'LOAD' AND database = 'dst_plain'}),
	'migsafe.audit_log,migsafe.snapshots',
	'loading leaves one LOAD row per table');
is( $node->safe_psql(
		'dst_plain', q{
SELECT count(*) FROM migsafe.audit_log
 WHERE database NOT IN ('src', 'dst_plain')}),
	'0', 'the other rows are the restore\'s own');

# rows written after the restore take new ids, after the loaded ones
$node->safe_psql('dst_plain', 'CREATE TABLE after_restore (id int)');
is( $node->safe_psql(
		'dst_plain', q{
SELECT id > (SELECT max(id) FROM migsafe.audit_log WHERE database = 'src')
  FROM migsafe.audit_log WHERE object_identity = 'public.after_restore'}),
	't', 'a row written after the restore has a new id');

# loading the same rows again adds none
$node->command_ok([ 'pg_dump', '-Fc', '-d', 'src', '-f', $dumpfile ],
	'pg_dump -Fc');
{
	local $ENV{PGOPTIONS} = '-c session_replication_role=replica';
	$node->command_ok(
		[
			'pg_restore', '--data-only', '-n', 'migsafe', '--exit-on-error',
			'-d', 'dst_plain', $dumpfile
		],
		'pg_restore --data-only of the same rows');
}
is( $node->safe_psql(
		'dst_plain',
		q{SELECT count(*) FROM migsafe.audit_log WHERE command_tag = 'LOAD'}),
	'4', 'the rows were loaded a second time');
is($node->safe_psql('dst_plain', $audit_sql),
	$src_audit, 'loading the audit rows again duplicates none');
is($node->safe_psql('dst_plain', $registry_sql),
	$src_registry, 'nor registry rows');

# replica lets in nothing but new rows: no UPDATE, DELETE or TRUNCATE
foreach my $sql (
	q{UPDATE migsafe.audit_log SET statement = 'nothing happened'},
	q{DELETE FROM migsafe.audit_log},
	q{UPDATE migsafe.snapshots SET status = 'purged'},
	q{DELETE FROM migsafe.snapshots})
{
	my ($ret, $stdout, $stderr) = $node->psql('dst_plain',
		"SET session_replication_role = replica; $sql");
	like($stderr, qr/ERROR:  .*(is not allowed|can only be changed by migsafe)/,
		"replica: $sql is refused");
}
is($node->safe_psql('dst_plain', $audit_sql),
	$src_audit, 'and the loaded rows are as they were');
is($node->safe_psql('dst_plain', $registry_sql),
	$src_registry, 'and so is the registry');

# 2. the same without session_replication_role = replica loads nothing
$node->safe_psql('postgres', 'CREATE DATABASE dst_refused');
{
	my ($out, $err);
	IPC::Run::run(
		[ 'pg_dump', '-d', 'src' ], '|',
		[ 'psql', '-X', '-q', '-d', 'dst_refused' ],
		'>', \$out, '2>', \$err);
	like(
		$err,
		qr/INSERT on table "migsafe\.audit_log" is not allowed/,
		'without replica the audit rows are refused');
	like(
		$err,
		qr/table "migsafe\.snapshots" can only be changed by migsafe/,
		'and so are the registry rows');
}
is( $node->safe_psql(
		'dst_refused',
		q{SELECT count(*) FROM migsafe.audit_log WHERE database = 'src'}),
	'0', 'no audit row of the source is loaded');

# 3. pg_dump -Fc | pg_restore (the dump made above)
$node->safe_psql('postgres', 'CREATE DATABASE dst_custom');
{
	local $ENV{PGOPTIONS} = '-c session_replication_role=replica';
	$node->command_ok(
		[ 'pg_restore', '--exit-on-error', '-d', 'dst_custom', $dumpfile ],
		'pg_restore into a new database');
}
is($node->safe_psql('dst_custom', $audit_sql),
	$src_audit, 'pg_restore: every audit row of the source, once, same id');
is($node->safe_psql('dst_custom', $registry_sql),
	$src_registry, 'pg_restore: the snapshot registry whole');

# the restored snapshot restores
is($node->safe_psql('dst_custom', 'SELECT migsafe.restore(1)'),
	'20', 'a restored snapshot restores');
is( $node->safe_psql(
		'dst_custom',
		'SELECT md5(string_agg(o::text, \'|\' ORDER BY id)) FROM old_stuff o'),
	$old_md5,
	'with the same rows');

# 4. pg_dump --create into another server: the database comes back
# guarded (its migsafe security label), with its rows
my $other = PostgreSQL::Test::Cluster->new('other');
$other->init;
$other->append_conf('postgresql.conf',
	"shared_preload_libraries = 'migsafe'");
$other->start;
{
	local $ENV{PGOPTIONS} = '-c session_replication_role=replica';
	my ($out, $err);
	IPC::Run::run(
		[ 'pg_dump', '--create', '-d', 'src' ], '|',
		[
			'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
			'-d', $other->connstr('postgres')
		],
		'>', \$out, '2>', \$err)
	  or die "pg_dump --create | psql failed: $err";
	is($err, '', 'pg_dump --create | psql into another server');
}
# the restore's own rows name a database "src" too here: compare by id
my $src_ids = $node->safe_psql('src',
	"SELECT string_agg(id::text, ',' ORDER BY id) FROM migsafe.audit_log WHERE database = 'src'"
);
is($other->safe_psql('src', "$audit_sql AND id IN ($src_ids)"),
	$src_audit, 'another server: every audit row of the source, same id');
is($other->safe_psql('src', $registry_sql),
	$src_registry, 'another server: the snapshot registry');
is( $other->safe_psql(
		'src', q{
SELECT label FROM pg_seclabels
 WHERE objtype = 'database' AND provider = 'migsafe'}),
	'guarded',
	'the restored database is guarded');
($ret, $stdout, $stderr) = $other->psql('postgres', 'DROP DATABASE src');
like($stderr, qr/DROP DATABASE on database "src" requires migsafe approval/,
	'and its DROP DATABASE needs an approval');
$other->stop;

# 5. pg_restore --clean onto the live database: user data only (migsafe's
# own objects stay as they are live), refused without an approval
$node->safe_psql('src',
	q{INSERT INTO orders SELECT g, 'late' FROM generate_series(101, 150) g});
my $listfile = "$tempdir/user.list";
{
	my ($out, $err);
	IPC::Run::run([ 'pg_restore', '-l', $dumpfile ], '>', \$out, '2>', \$err)
	  or die "pg_restore -l failed: $err";
	my @user = grep { !/ migsafe/ } split /\n/, $out;
	open my $fh, '>', $listfile or die "could not write $listfile: $!";
	print $fh join("\n", @user), "\n";
	close $fh;
	ok((grep { /TABLE DATA public orders/ } @user),
		'the list keeps the user tables');
}

my $before_clean =
  $node->safe_psql('src', 'SELECT max(id) FROM migsafe.audit_log');
my $audit_before = $node->safe_psql('src',
	"SELECT md5(string_agg(a::text, '|' ORDER BY id)) FROM migsafe.audit_log a WHERE id <= $before_clean"
);

$node->command_fails_like(
	[
		'pg_restore', '--clean', '--single-transaction',
		'--exit-on-error', '-L', $listfile, '-d', 'src', $dumpfile
	],
	qr/on table "public\.orders" requires migsafe approval/,
	'pg_restore --clean is refused without an approval');
is($node->safe_psql('src', 'SELECT count(*) FROM orders'),
	'150', 'the live table is intact');

{
	local $ENV{PGOPTIONS} = '-c migsafe.approve=public.*';
	$node->command_ok(
		[
			'pg_restore', '--clean', '--single-transaction',
			'--exit-on-error', '-L', $listfile, '-d', 'src', $dumpfile
		],
		'pg_restore --clean runs approved');
}
is($node->safe_psql('src', 'SELECT count(*) FROM orders'),
	'100', 'the table is as dumped');
my $kept = $node->safe_psql(
	'src', q{
SELECT id FROM migsafe.snapshots
 WHERE object_identity = 'public.orders' AND status = 'kept'});
like($kept, qr/^\d+$/, 'the replaced table is kept as a snapshot');
is($node->safe_psql('src', "SELECT count(*) FROM migsafe_snapshot_$kept.kept"),
	'150', 'with the live rows');
is( $node->safe_psql(
		'src',
		"SELECT md5(string_agg(a::text, '|' ORDER BY id)) FROM migsafe.audit_log a WHERE id <= $before_clean"
	),
	$audit_before,
	'the live audit log keeps its rows');
is( $node->safe_psql(
		'src', qq{
SELECT count(*) > 0 FROM migsafe.audit_log
 WHERE id > $before_clean AND command_tag = 'DROP TABLE'
   AND object_identity = 'public.orders' AND decision = 'approved'}),
	't',
	'and records the approved drop');

# 6. More audit rows in the source than the restore writes before it
# loads them: the restore's own rows (about ten here) are moved out of the
# way of the loaded ids during the audit log's COPY, some of them twice,
# and the LOAD row is in the way too.  Every check of that COPY must see
# the rows moved for the rows before it.
$node->safe_psql('postgres', 'CREATE DATABASE src2');
$node->safe_psql(
	'src2', q{
CREATE EXTENSION migsafe;
CREATE TABLE a (id serial PRIMARY KEY, v text);
INSERT INTO a (v) VALUES ('x');
CREATE VIEW av AS SELECT * FROM a;
CREATE TABLE b (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, w text);
INSERT INTO b (w) VALUES ('x'), ('y');
CREATE TABLE c (id int);
INSERT INTO c VALUES (1), (2);});

my %table_md5;
my $table_md5_sql =
  q{SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM %s t};
foreach my $t ('a', 'b', 'c')
{
	$table_md5{$t} = $node->safe_psql('src2', sprintf($table_md5_sql, $t));
}

$node->safe_psql(
	'src2', q{
BEGIN;
SET LOCAL migsafe.approve = '*';
DROP TABLE a CASCADE;
DROP TABLE b;
TRUNCATE c;
COMMIT;});

my $audit2_sql = q{
SELECT count(*) || ' ' || md5(string_agg(a::text, '|' ORDER BY id))
  FROM migsafe.audit_log a WHERE database = 'src2'};
my $src2_audit = $node->safe_psql('src2', $audit2_sql);
my $src2_registry = $node->safe_psql('src2', $registry_sql);
is($node->safe_psql('src2', 'SELECT count(*) FROM migsafe.snapshots'),
	'3', 'the second source keeps three snapshots');

my $dumpfile2 = "$tempdir/src2.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-d', 'src2', '-f', $dumpfile2 ],
	'pg_dump -Fc of the second source');

$node->safe_psql('postgres', 'CREATE DATABASE dst2_custom');
$node->safe_psql('postgres', 'CREATE DATABASE dst2_plain');
{
	local $ENV{PGOPTIONS} = '-c session_replication_role=replica';
	$node->command_ok(
		[ 'pg_restore', '--exit-on-error', '-d', 'dst2_custom', $dumpfile2 ],
		'second source: pg_restore into a new database');

	my ($out, $err);
	IPC::Run::run(
		[ 'pg_dump', '-d', 'src2' ], '|',
		[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'dst2_plain' ],
		'>', \$out, '2>', \$err);
	is($err, '', 'second source: pg_dump | psql restores without an error');
}

# nobody but a superuser may use the row type of kept storage (a column
# of it would keep migsafe from converting the kept columns); pg_dump does
# not dump a row type's privileges, so loading the registry revokes them
my $sealed_sql = q{
SELECT string_agg(s.object_identity || ' ' ||
                  has_type_privilege('public', s.storage::regtype, 'USAGE'),
                  ',' ORDER BY s.object_identity)
  FROM migsafe.snapshots s};
is($node->safe_psql('src2', $sealed_sql),
	'public.a false,public.b true,public.c false',
	'src2: PUBLIC may not use the row type of kept storage (a moved table keeps its own)');

foreach my $db ('dst2_custom', 'dst2_plain')
{
	is($node->safe_psql($db, $sealed_sql),
		'public.a false,public.b true,public.c false',
		"$db: PUBLIC may not use the row type of kept storage, as in the source");
	is($node->safe_psql($db, $audit2_sql),
		$src2_audit, "$db: every audit row of the source, once, same id");
	is($node->safe_psql($db, $registry_sql),
		$src2_registry, "$db: the snapshot registry whole");
	is( $node->safe_psql(
			$db, q{
SELECT count(*) FROM (
  SELECT 1 FROM migsafe.audit_log
   GROUP BY ts, vxid, backend_pid, command_tag, scope, object_identity
  HAVING count(*) > 1) d}),
		'0',
		"$db: no audit row twice");
	is( $node->safe_psql(
			$db, qq{
SELECT string_agg(object_identity, ',' ORDER BY object_identity)
  FROM migsafe.audit_log WHERE command_tag = 'LOAD' AND database = '$db'}),
		'migsafe.audit_log,migsafe.snapshots',
		"$db: one LOAD row per table");
	is( $node->safe_psql(
			$db, qq{
SELECT count(*) FROM migsafe.audit_log
 WHERE command_tag = 'CREATE TABLE' AND database = '$db'
   AND object_identity = 'public.c'}),
		'1',
		"$db: the restore's own rows are kept");
	# what the case is about: the restore wrote fewer rows before loading
	# the audit log than the source has, so rows moved out of the way of
	# the first loaded ids were in the way of later ones
	is( $node->safe_psql(
			$db, qq{
SELECT count(*) < (SELECT max(id) FROM migsafe.audit_log WHERE database = 'src2')
  FROM migsafe.audit_log
 WHERE database = '$db' AND command_tag <> 'LOAD'
   AND ts < (SELECT ts FROM migsafe.audit_log
              WHERE command_tag = 'LOAD' AND database = '$db'
                AND object_identity = 'migsafe.audit_log')}),
		't',
		"$db: the restore's rows written first were in the way of loaded rows");
	is( $node->safe_psql(
			$db, qq{
SELECT count(*) FROM migsafe.audit_log WHERE database NOT IN ('src2', '$db')}),
		'0',
		"$db: the other rows are the restore's own");

	# each snapshot restores, with the rows the source had
	foreach my $snap ([ 1, 'a' ], [ 2, 'b' ], [ 3, 'c' ])
	{
		my ($id, $t) = @$snap;
		$node->safe_psql($db, "SELECT migsafe.restore($id)");
		is($node->safe_psql($db, sprintf($table_md5_sql, $t)),
			$table_md5{$t}, "$db: snapshot $id restores table $t as it was");
	}

	# rows written after the restore take new ids, after every other row
	$node->safe_psql($db, 'CREATE TABLE after_restore (id int)');
	is( $node->safe_psql(
			$db, q{
SELECT id > (SELECT max(id) FROM migsafe.audit_log
              WHERE object_identity IS DISTINCT FROM 'public.after_restore')
  FROM migsafe.audit_log WHERE object_identity = 'public.after_restore'}),
		't',
		"$db: a row written after the restore has a new id");
}

$node->stop;
done_testing();
