# Copyright (c) 2026, migsafe developers
#
# t/003_roles.pl
#	  Who may change migsafe's settings, and who is guarded.
#
# migsafe.mode, migsafe.allow_empty, migsafe.exempt and migsafe.exempt_roles
# are superuser only: a migration run by an ordinary role must not be able
# to switch its own guard off, by SET, SET LOCAL, set_config(), ALTER ROLE
# or connection options.  migsafe.approve and migsafe.reason are for
# everyone.  A table owner is guarded like anybody else; a role without
# privileges gets PostgreSQL's own permission error, never migsafe's (which
# would tell it how much data the table holds).  migsafe.exempt_roles,
# set in the server configuration, exempts the members of the listed roles
# and nobody else.  A SECURITY DEFINER function does not get around the
# guard.
#
# Why TAP: several login roles, ALTER SYSTEM with a configuration reload,
# and connection-time options; pg_regress runs as one superuser against an
# instance configured once.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('roles');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'migsafe'");
$node->start;

my ($ret, $stdout, $stderr);

# Run $sql as $user in database postgres; returns (exit code, stdout,
# stderr), with SQLSTATEs shown.
sub psql_as
{
	my ($user, $sql) = @_;
	my ($out, $err);

	my $rc = $node->psql(
		'postgres', $sql,
		connstr => $node->connstr('postgres') . " user=$user",
		stdout => \$out,
		stderr => \$err,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return ($rc, $out, $err);
}

# $sql run as $user must fail with migsafe's error (SQLSTATE MS001) whose
# primary message is $msg.
sub is_blocked
{
	my ($user, $sql, $msg, $name) = @_;
	my ($rc, $out, $err) = psql_as($user, $sql);

	isnt($rc, 0, "$name: fails");
	like($err, qr/ERROR:  MS001: \Q$msg\E \(migsafe\.approve = '[^\n]*'\)$/m, "$name: migsafe's error");
	return;
}

# Row count of a table, or 'gone'
sub rows
{
	my ($table) = @_;

	return $node->safe_psql(
		'postgres', qq{
SELECT CASE WHEN to_regclass('$table') IS NULL THEN 'gone'
	ELSE (xpath('/row/n/text()',
		query_to_xml('SELECT count(*) AS n FROM $table', false, true, '')))[1]::text
	END});
}

$node->safe_psql(
	'postgres', q{
CREATE EXTENSION migsafe;
CREATE ROLE alice LOGIN;			-- owns tables
CREATE ROLE mallory LOGIN;			-- no privileges at all
CREATE ROLE carol LOGIN;			-- may truncate, not exempt
CREATE ROLE etl NOLOGIN;			-- the exempt role
CREATE ROLE etl_worker LOGIN IN ROLE etl;	-- a member of it
GRANT CREATE ON SCHEMA public TO alice;
});

#
# Superuser-only settings
#
my %values = (
	'migsafe.mode' => 'off',
	'migsafe.allow_empty' => 'on',
	'migsafe.exempt' => "'*'",
	'migsafe.exempt_roles' => 'alice');

foreach my $guc (sort keys %values)
{
	my $value = $values{$guc};
	my $quoted = $value =~ /^'/ ? $value : "'$value'";
	my %forms = (
		'SET' => "SET $guc = $value",
		'SET LOCAL' => "BEGIN; SET LOCAL $guc = $value; COMMIT;",
		'set_config() session' => "SELECT set_config('$guc', $quoted, false)",
		'set_config() local' =>
		  "BEGIN; SELECT set_config('$guc', $quoted, true); COMMIT;",
		'ALTER ROLE self SET' => "ALTER ROLE alice SET $guc = $value",
		'ALTER ROLE self IN DATABASE SET' =>
		  "ALTER ROLE alice IN DATABASE postgres SET $guc = $value");

	foreach my $form (sort keys %forms)
	{
		my ($rc, $out, $err) = psql_as('alice', $forms{$form});

		isnt($rc, 0, "non-superuser cannot $form $guc");
		like(
			$err,
			qr/ERROR:  42501: permission denied to set parameter "\Q$guc\E"$/m,
			"non-superuser $form $guc: permission denied");
	}

	# nor at connection time
	{
		local $ENV{PGOPTIONS} = "-c $guc=" . ($value =~ s/'//gr);
		my ($rc, $out, $err) = psql_as('alice', "SHOW $guc");

		isnt($rc, 0, "non-superuser cannot set $guc in PGOPTIONS");
		like(
			$err,
			qr/FATAL:  permission denied to set parameter "\Q$guc\E"/,
			"non-superuser $guc in PGOPTIONS: permission denied");
	}
}
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM pg_db_role_setting WHERE setrole = 'alice'::regrole"),
	'0',
	'no per-role setting was stored for alice');
is($node->safe_psql('postgres', 'SHOW migsafe.mode'),
	'enforce', 'migsafe.mode is still enforce');

# approve and reason are for everyone
($ret, $stdout, $stderr) = psql_as(
	'alice', q{
SET migsafe.approve = 'public.x';
SET migsafe.reason = 'JIRA-1';
SHOW migsafe.approve;
SHOW migsafe.reason;
BEGIN;
SET LOCAL migsafe.approve = 'public.y';
SELECT set_config('migsafe.reason', 'JIRA-2', true);
SHOW migsafe.approve;
COMMIT;
SHOW migsafe.approve;
});
is($ret, 0, 'non-superuser can set migsafe.approve and migsafe.reason');
is( $stdout,
	"public.x\nJIRA-1\nJIRA-2\npublic.y\npublic.x",
	'non-superuser: migsafe.approve and migsafe.reason take effect');

#
# A non-superuser table owner is guarded and can approve
#
psql_as('alice',
	'CREATE TABLE alice_t (a int, b int); INSERT INTO alice_t VALUES (1, 1), (2, 2);'
);
is_blocked('alice', 'DROP TABLE alice_t',
	'DROP TABLE on table "public.alice_t" requires migsafe approval',
	'owner: DROP TABLE');
is_blocked('alice', 'TRUNCATE alice_t',
	'TRUNCATE TABLE on table "public.alice_t" requires migsafe approval',
	'owner: TRUNCATE');
is_blocked('alice', 'ALTER TABLE alice_t DROP COLUMN b',
	'ALTER TABLE on column "public.alice_t.b" requires migsafe approval',
	'owner: DROP COLUMN');
is(rows('alice_t'), '2', 'owner: the rows are intact');

($ret, $stdout, $stderr) = psql_as(
	'alice', q{
BEGIN;
SET LOCAL migsafe.approve = 'public.alice_t';
SET LOCAL migsafe.reason = 'cleanup';
DROP TABLE alice_t;
COMMIT;
});
is($ret, 0, 'owner: approved DROP TABLE succeeds');
is(rows('alice_t'), 'gone', 'owner: the approved table is gone');

#
# No privileges: PostgreSQL's error, not migsafe's
#
psql_as('alice',
	'CREATE TABLE secret (a int, b int); INSERT INTO secret SELECT g, g FROM generate_series(1, 5) g;'
);
my %attempts = (
	'DROP TABLE' => [ 'DROP TABLE secret', qr/must be owner of table secret/ ],
	'TRUNCATE' =>
	  [ 'TRUNCATE secret', qr/permission denied for table secret/ ],
	'DROP COLUMN' => [
		'ALTER TABLE secret DROP COLUMN b', qr/must be owner of table secret/
	],
	'ALTER COLUMN TYPE' => [
		'ALTER TABLE secret ALTER COLUMN b TYPE text',
		qr/must be owner of table secret/
	],
	'DROP SCHEMA CASCADE' =>
	  [ 'DROP SCHEMA public CASCADE', qr/must be owner of schema public/ ]);
foreach my $what (sort keys %attempts)
{
	my ($sql, $expected) = @{ $attempts{$what} };
	my ($rc, $out, $err) = psql_as('mallory', $sql);

	isnt($rc, 0, "no privileges: $what fails");
	like($err, qr/ERROR:  42501: $expected$/m,
		"no privileges: $what gets PostgreSQL's permission error");
	unlike($err, qr/migsafe|MS001|holds/,
		"no privileges: $what says nothing of migsafe or the data");
}
is(rows('secret'), '5', 'no privileges: the rows are intact');

#
# A SECURITY DEFINER function owned by a superuser
#
$node->safe_psql(
	'postgres', q{
CREATE TABLE definer_t (a int);
INSERT INTO definer_t VALUES (1), (2), (3);
CREATE FUNCTION drop_definer_t() RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
	AS $$BEGIN DROP TABLE definer_t; END$$;
CREATE FUNCTION truncate_definer_t() RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
	AS $$BEGIN TRUNCATE definer_t; END$$;
GRANT EXECUTE ON FUNCTION drop_definer_t(), truncate_definer_t() TO mallory;
});

sub check_definer
{
	my ($when) = @_;

	# (re)fill the table, whatever an earlier failure left
	$node->safe_psql('postgres',
		'CREATE TABLE IF NOT EXISTS definer_t (a int);
DELETE FROM definer_t;
INSERT INTO definer_t VALUES (1), (2), (3);');

	is_blocked('mallory', 'SELECT drop_definer_t()',
		'DROP TABLE on table "public.definer_t" requires migsafe approval',
		"SECURITY DEFINER DROP called by a normal user$when");
	is_blocked('mallory', 'SELECT truncate_definer_t()',
		'TRUNCATE TABLE on table "public.definer_t" requires migsafe approval',
		"SECURITY DEFINER TRUNCATE called by a normal user$when");
	is(rows('definer_t'), '3', "SECURITY DEFINER$when: the rows are intact");
	return;
}
check_definer('');

#
# migsafe.exempt_roles, set by the superuser in the server configuration
#
psql_as('alice',
	'CREATE TABLE staging (a int); INSERT INTO staging VALUES (1), (2);
GRANT SELECT, INSERT, TRUNCATE ON staging TO etl, carol;');

$node->safe_psql('postgres', "ALTER SYSTEM SET migsafe.exempt_roles = 'etl'");
$node->reload;
$node->poll_query_until('postgres', 'SHOW migsafe.exempt_roles', 'etl')
  or die 'timed out waiting for migsafe.exempt_roles';

($ret, $stdout, $stderr) = psql_as('etl_worker', 'TRUNCATE staging');
is($ret, 0, 'a member of an exempt role can TRUNCATE without approval');
is(rows('staging'), '0', 'exempt member: the table was emptied');

psql_as('alice', 'INSERT INTO staging VALUES (1), (2);');
is_blocked('carol', 'TRUNCATE staging',
	'TRUNCATE TABLE on table "public.staging" requires migsafe approval',
	'a non-member of the exempt role');
is(rows('staging'), '2', 'non-member: the rows are intact');

# a superuser is not a member of etl, so is not exempt either
$ret = $node->psql(
	'postgres', 'TRUNCATE staging',
	stderr => \$stderr,
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($ret, 0, 'a superuser that is not a member of the exempt role: fails');
like(
	$stderr,
	qr/ERROR:  MS001: TRUNCATE TABLE on table "public.staging" requires migsafe approval \(migsafe\.approve = '[^']*'\)$/m,
	'a superuser that is not a member of the exempt role: migsafe\'s error');
is(rows('staging'), '2', 'superuser: the rows are intact');

# hence neither is a superuser's SECURITY DEFINER function
check_definer(' while exempt_roles is set');

$node->safe_psql('postgres', 'ALTER SYSTEM RESET migsafe.exempt_roles');
$node->reload;
$node->poll_query_until('postgres', 'SHOW migsafe.exempt_roles', '')
  or die 'timed out waiting for migsafe.exempt_roles';

psql_as('alice', 'DELETE FROM staging; INSERT INTO staging VALUES (1), (2);');
is_blocked('etl_worker', 'TRUNCATE staging',
	'TRUNCATE TABLE on table "public.staging" requires migsafe approval',
	'after exempt_roles is reset, the member is blocked');
is(rows('staging'), '2', 'after reset: the rows are intact');

$node->stop;

done_testing();
