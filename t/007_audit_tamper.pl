# Copyright (c) 2026, migsafe developers
#
# t/007_audit_tamper.pl
#	  Nobody, superuser included, rewrites history in migsafe.audit_log.
#
# The spec: the audit log "is append-only for everyone but the extension
# itself: no role, superuser included, can UPDATE or DELETE it through
# normal SQL without migsafe blocking or recording it; TRUNCATE and DROP of
# migsafe's own objects are destructive changes like any other."
#
# - A role without privileges cannot read or write the table at all
#   (PostgreSQL's permission errors, for the schema or the table); a role
#   that was granted DML on it is still refused by the append-only
#   trigger.
# - A superuser's UPDATE, DELETE, INSERT, COPY and MERGE fail with MS002,
#   change no row, and are themselves recorded as blocked rows; neither
#   session_replication_role = replica nor migsafe.mode = off or warn
#   lets a DELETE through.
# - Every DDL way around the trigger (disabling, demoting, dropping or
#   replacing it or its function, rules and triggers that swallow rows,
#   constraints that reject them, tables inheriting from the log, dropping
#   a column, moving the table, the schema or the extension) fails with
#   MS001, leaves the rows and the trigger as they were, and is recorded.
# - An approved TRUNCATE empties the log and is recorded: afterwards the
#   log holds exactly the TRUNCATE's own two rows.
# - migsafe.mode = off or warn does not lift the protection of the log:
#   the trigger cannot be switched off to delete rows without a trace.
#
# Why TAP: several login roles, superuser and not, with grants made on the
# extension's own schema, and the background writer's rows checked from
# other sessions; pg_regress runs as one superuser.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $FEW_SECONDS = 5;

my $node = PostgreSQL::Test::Cluster->new('tamper');
$node->init;
# one audit writer per database: 13 databases here
# a row per attempt: the markers and fingerprints below count rows
# (repeated attempts are t/011_coexistence.pl's)
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'migsafe'\nmax_worker_processes = 24\nmigsafe.audit_repeat_window = 0"
);
$node->start;

#
# Helpers
#

# Run $sql in $db as $user (undef: the superuser), going on after errors;
# returns (exit code, stdout, stderr) with SQLSTATEs shown.
sub psql_as
{
	my ($db, $user, $sql) = @_;
	my ($out, $err);
	my $connstr = $node->connstr($db);

	$connstr .= " user=$user" if defined $user;
	my $rc = $node->psql(
		$db, $sql,
		connstr => $connstr,
		stdout => \$out,
		stderr => \$err,
		on_error_stop => 0,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return ($rc, $out, $err);
}

# Poll $query in $db until it returns $expected, for at most $secs
# seconds; true if it did.
sub wait_for
{
	my ($db, $query, $expected, $secs) = @_;
	my $start = time();
	my $last;

	for (;;)
	{
		$last = $node->safe_psql($db, $query);
		return 1 if $last eq $expected;
		last if time() - $start > $secs;
		usleep(50_000);
	}
	diag("waited $secs s for\n$query\nexpected: $expected\nlast: $last");
	return 0;
}

# Everything queued so far in $db is written: make one more blocked attempt
# (DROP TABLE marker) and wait for its row; the writer writes in order.
my %markers;

sub drain
{
	my ($db) = @_;

	$markers{$db}++;
	psql_as($db, undef, 'DROP TABLE marker');
	return wait_for(
		$db,
		"SELECT count(*) FROM migsafe.audit_log
		  WHERE statement = 'DROP TABLE marker' AND scope = 'command'",
		$markers{$db}, $FEW_SECONDS);
}

# A fingerprint of the rows with id <= $max: their number and an md5 of
# their text
sub fingerprint
{
	my ($db, $max) = @_;

	return $node->safe_psql(
		$db, qq{
SELECT count(*) || ' ' || md5(coalesce(string_agg(a::text, ',' ORDER BY id), ''))
  FROM migsafe.audit_log a WHERE id <= $max});
}

# Install migsafe in a new database $db, with a marker table and a few
# audit rows; returns the highest audit row id.
sub setup_db
{
	my ($db) = @_;

	$node->safe_psql('postgres', "CREATE DATABASE $db")
	  unless $db eq 'postgres';
	$node->safe_psql(
		$db, q{
CREATE EXTENSION migsafe;
CREATE TABLE marker (a int);
INSERT INTO marker VALUES (1);
CREATE TABLE history (a int);
ALTER TABLE history ADD COLUMN b int;
CREATE FUNCTION skip_row() RETURNS trigger LANGUAGE plpgsql
	AS 'BEGIN RETURN NULL; END';
});
	drain($db);
	return $node->safe_psql($db, 'SELECT max(id) FROM migsafe.audit_log');
}

# The state of the append-only protection of the log in $db: both triggers
# enabled ALWAYS, their C function, no other trigger, no rule, no extra
# constraint, no child table, the column, table, schema and extension
# membership in place.
my $INTACT = 'A,A|c|migsafe_audit_log_guard|2|0|3|0|1|1';

sub protection
{
	my ($db) = @_;

	return $node->safe_psql(
		$db, q{
SELECT (SELECT string_agg(tgenabled::text, ',' ORDER BY tgname) FROM pg_trigger
		 WHERE tgrelid = 'migsafe.audit_log'::regclass
		   AND tgname IN ('audit_log_append_only', 'audit_log_no_truncate')),
	   (SELECT l.lanname || '|' || p.prosrc FROM pg_proc p
		  JOIN pg_language l ON l.oid = p.prolang
		 WHERE p.oid = 'migsafe.audit_log_guard()'::regprocedure),
	   (SELECT count(*) FROM pg_trigger
		 WHERE tgrelid = 'migsafe.audit_log'::regclass AND NOT tgisinternal),
	   (SELECT count(*) FROM pg_rewrite
		 WHERE ev_class = 'migsafe.audit_log'::regclass),
	   (SELECT count(*) FROM pg_constraint
		 WHERE conrelid = 'migsafe.audit_log'::regclass),
	   (SELECT count(*) FROM pg_inherits
		 WHERE inhparent = 'migsafe.audit_log'::regclass),
	   (SELECT count(*) FROM pg_attribute
		 WHERE attrelid = 'migsafe.audit_log'::regclass
		   AND attname = 'statement' AND NOT attisdropped),
	   (SELECT count(*) FROM pg_depend
		 WHERE classid = 'pg_class'::regclass
		   AND objid = 'migsafe.audit_log'::regclass
		   AND refclassid = 'pg_extension'::regclass AND deptype = 'e')});
}

my ($ret, $stdout, $stderr);

my $max = setup_db('postgres');
cmp_ok($max, '>', 0, 'the log has some rows to protect');
is(protection('postgres'), $INTACT, 'the protection is in place');

#
# Roles that are not superusers
#
$node->safe_psql(
	'postgres', q{
CREATE ROLE mallory LOGIN;		-- nothing granted
CREATE ROLE auditor LOGIN;		-- may look up the schema, not the table
CREATE ROLE reader LOGIN;		-- may read the log
CREATE ROLE granted LOGIN;		-- was granted DML on the log
GRANT USAGE ON SCHEMA migsafe TO auditor, reader, granted;
GRANT SELECT ON migsafe.audit_log TO reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON migsafe.audit_log TO granted;
});

my %dml = (
	SELECT => 'SELECT count(*) FROM migsafe.audit_log',
	INSERT => q{INSERT INTO migsafe.audit_log (ts, vxid, database, backend_pid,
	command_tag, scope, risk, decision)
	VALUES (now(), '1/1', 'postgres', 1, 'DROP TABLE', 'command', 'destructive', 'allowed')},
	UPDATE => q{UPDATE migsafe.audit_log SET decision = 'allowed'},
	DELETE => 'DELETE FROM migsafe.audit_log',
	TRUNCATE => 'TRUNCATE migsafe.audit_log');

foreach my $what (sort keys %dml)
{
	($ret, $stdout, $stderr) = psql_as('postgres', 'mallory', $dml{$what});
	like(
		$stderr,
		qr/ERROR:  42501: permission denied for table audit_log/,
		"a role without privileges: $what is refused");

	($ret, $stdout, $stderr) = psql_as('postgres', 'auditor', $dml{$what});
	like(
		$stderr,
		qr/ERROR:  42501: permission denied for table audit_log/,
		"a role with USAGE on the schema: $what is refused on the table");
}

($ret, $stdout, $stderr) = psql_as('postgres', 'reader', $dml{SELECT});
is($ret, 0, 'a role granted SELECT reads the log');
foreach my $what (qw(INSERT UPDATE DELETE TRUNCATE))
{
	($ret, $stdout, $stderr) = psql_as('postgres', 'reader', $dml{$what});
	like(
		$stderr,
		qr/ERROR:  42501: permission denied for table audit_log/,
		"a role granted SELECT only: $what is refused");
}

# privileges granted by mistake do not open the log
foreach my $what (qw(INSERT UPDATE DELETE))
{
	($ret, $stdout, $stderr) = psql_as('postgres', 'granted', $dml{$what});
	like(
		$stderr,
		qr/ERROR:  MS002: $what on table "migsafe.audit_log" is not allowed/,
		"a role granted $what is still refused by the append-only trigger");
}
ok(drain('postgres'), 'queue drained');
is( $node->safe_psql(
		'postgres', q{
SELECT string_agg(command_tag, ',' ORDER BY command_tag)
  FROM migsafe.audit_log
 WHERE session_role = 'granted' AND decision = 'blocked'
   AND object_identity = 'migsafe.audit_log'}),
	'DELETE,INSERT,UPDATE',
	"the granted role's attempts are recorded as blocked rows");
my $print = fingerprint('postgres', $max);

#
# A superuser's DML: refused, recorded, nothing changed
#
my @su_dml = (
	[ 'UPDATE', 'UPDATE', q{UPDATE migsafe.audit_log SET statement = 'nothing happened'} ],
	[ 'DELETE', 'DELETE', 'DELETE FROM migsafe.audit_log WHERE id > 0' ],
	[ 'INSERT', 'INSERT', $dml{INSERT} ],
	[
		'COPY FROM', 'INSERT',
		q{COPY migsafe.audit_log (ts, vxid, database, backend_pid, command_tag, scope, risk, decision) FROM PROGRAM 'echo 2020-01-01,1/1,postgres,1,DROP TABLE,command,destructive,allowed' (FORMAT csv)}
	],
	[
		'MERGE ... DELETE', 'DELETE',
		q{MERGE INTO migsafe.audit_log a USING (SELECT 1 AS id) s ON a.id >= s.id WHEN MATCHED THEN DELETE}
	],
	[
		'DELETE as session_replication_role = replica', 'DELETE',
		q{SET session_replication_role = replica;
DELETE FROM migsafe.audit_log WHERE id > 1}
	],
	[
		'DELETE with migsafe.mode = off', 'DELETE',
		q{SET migsafe.mode = off;
DELETE FROM migsafe.audit_log WHERE id > 2}
	],
	[
		'DELETE with migsafe.mode = warn', 'DELETE',
		q{SET migsafe.mode = warn;
DELETE FROM migsafe.audit_log WHERE id > 3}
	],
	[
		'DELETE in a DO block', 'DELETE',
		q{DO $$ BEGIN DELETE FROM migsafe.audit_log WHERE id > 4; END $$}
	]);

foreach my $case (@su_dml)
{
	my ($what, $tag, $sql) = @$case;

	($ret, $stdout, $stderr) = psql_as('postgres', undef, $sql);
	like(
		$stderr,
		qr/ERROR:  MS002: $tag on table "migsafe.audit_log" is not allowed/,
		"superuser: $what fails with MS002");
	is(fingerprint('postgres', $max), $print, "superuser: $what changes no row");
}
ok(drain('postgres'), 'queue drained');
foreach my $case (@su_dml)
{
	my ($what, $tag, $sql) = @$case;
	my $last = (split /\n/, $sql)[-1];

	$last =~ s/'/''/g;
	is( $node->safe_psql(
			'postgres', qq{
SELECT count(*) FROM migsafe.audit_log
 WHERE command_tag = '$tag' AND object_type = 'table'
   AND object_identity = 'migsafe.audit_log' AND decision = 'blocked'
   AND session_role = 'postgres' AND position('$last' IN statement) > 0}),
		'1',
		"superuser: $what is recorded as one blocked $tag row");
}

#
# DDL around the trigger: refused, recorded, nothing changed
#
my @ddl = (
	'ALTER TABLE migsafe.audit_log DISABLE TRIGGER audit_log_append_only',
	'ALTER TABLE migsafe.audit_log DISABLE TRIGGER ALL',
	'ALTER TABLE migsafe.audit_log DISABLE TRIGGER USER',
	'ALTER TABLE migsafe.audit_log ENABLE REPLICA TRIGGER audit_log_append_only',
	'ALTER TABLE migsafe.audit_log ENABLE TRIGGER audit_log_append_only',
	'DROP TRIGGER audit_log_append_only ON migsafe.audit_log',
	q{CREATE OR REPLACE FUNCTION migsafe.audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'},
	'CREATE RULE r AS ON DELETE TO migsafe.audit_log DO INSTEAD NOTHING',
	q{CREATE RULE r AS ON INSERT TO migsafe.audit_log WHERE new.command_tag <> 'CREATE RULE' DO INSTEAD NOTHING},
	'CREATE TRIGGER a_skip BEFORE INSERT ON migsafe.audit_log FOR EACH ROW EXECUTE FUNCTION skip_row()',
	'ALTER TABLE migsafe.audit_log DROP COLUMN statement',
	'ALTER TABLE migsafe.audit_log ADD COLUMN forged boolean',
	'ALTER TABLE migsafe.audit_log RENAME TO audit_log_old',
	'ALTER TABLE migsafe.audit_log SET SCHEMA public',
	'ALTER EXTENSION migsafe DROP TABLE migsafe.audit_log',
	'ALTER SCHEMA migsafe RENAME TO x',
	'TRUNCATE migsafe.audit_log',
	'DROP EXTENSION migsafe CASCADE',
	'DROP SCHEMA migsafe CASCADE',
	q{DO $$ BEGIN EXECUTE 'alter table migsafe.audit_log disable trigger user'; END $$});

# the statement each one is recorded with (a DO block's: the nested one)
my %recorded = map { $_ => [ $_, 'false' ] } @ddl;
$recorded{ $ddl[-1] } =
  [ 'alter table migsafe.audit_log disable trigger user', 'true' ];

foreach my $sql (@ddl)
{
	($ret, $stdout, $stderr) = psql_as('postgres', undef, $sql);
	like(
		$stderr,
		qr/ERROR:  MS001: [^\n]* on [^\n]*migsafe[^\n]* requires? migsafe approval/,
		"superuser: $sql fails with MS001 naming the object");
}
is(protection('postgres'), $INTACT,
	'after the DDL attempts: the protection is in place');
is(fingerprint('postgres', $max), $print,
	'after the DDL attempts: no row changed');
ok(drain('postgres'), 'queue drained');
foreach my $sql (@ddl)
{
	my ($stmt, $nested) = @{ $recorded{$sql} };
	my $q = $stmt =~ s/'/''/gr;

	is( $node->safe_psql(
			'postgres', qq{
SELECT count(*) > 0 FROM migsafe.audit_log
 WHERE decision = 'blocked' AND scope = 'command' AND statement = '$q'
   AND nested = $nested}),
		't',
		"superuser: $sql is recorded as blocked");
}

# DROP TABLE of the log: PostgreSQL's own error (the extension needs it)
($ret, $stdout, $stderr) =
  psql_as('postgres', undef, 'DROP TABLE migsafe.audit_log');
like($stderr, qr/ERROR:  (2BP01|MS001)/, 'superuser: DROP TABLE of the log fails');
is(protection('postgres'), $INTACT, 'after DROP TABLE: the protection is in place');

#
# A constraint that rejects the writer's rows
#
# migsafe.audit_log ... ADD CONSTRAINT ... NOT VALID: existing rows are not
# checked, so the command passes its own audit row; from then on every
# blocked attempt would fail to be written (the writer puts it in the
# server log and gives up on it).
my $cmax = setup_db('constr');
($ret, $stdout, $stderr) = psql_as('constr', undef,
	q{ALTER TABLE migsafe.audit_log ADD CONSTRAINT no_blocked CHECK (decision <> 'blocked') NOT VALID}
);
like(
	$stderr,
	qr/ERROR:  MS001: [^\n]* requires? migsafe approval/,
	'superuser: ADD CONSTRAINT ... NOT VALID on the log fails with MS001');
$node->safe_psql('constr', 'CREATE TABLE victim (a int); INSERT INTO victim VALUES (1)');
psql_as('constr', undef, 'DROP TABLE victim');
ok(drain('constr'), 'constraint: blocked attempts are still recorded');
is( $node->safe_psql(
		'constr',
		"SELECT count(*) FROM migsafe.audit_log WHERE statement = 'DROP TABLE victim' AND decision = 'blocked'"
	),
	'2',
	'constraint: the blocked DROP after the attempt is recorded');

#
# A table inheriting from the log
#
# Rows inserted into a child table show in SELECT ... FROM migsafe.audit_log
# (and in changes_since(), deploy_summary()...) although migsafe never
# wrote them, and can be deleted again, even by DELETE FROM
# migsafe.audit_log (the append-only trigger is the parent's only),
# without a trace.
my $imax = setup_db('inherit');
($ret, $stdout, $stderr) = psql_as('inherit', undef,
	'CREATE TABLE public.forged () INHERITS (migsafe.audit_log)');
like(
	$stderr,
	qr/ERROR:  MS001: [^\n]* requires? migsafe approval/,
	'superuser: CREATE TABLE ... INHERITS (migsafe.audit_log) fails with MS001');
$node->safe_psql('inherit',
	'CREATE TABLE public.forged2 (LIKE migsafe.audit_log INCLUDING CONSTRAINTS INCLUDING DEFAULTS)'
);
($ret, $stdout, $stderr) = psql_as('inherit', undef,
	'ALTER TABLE public.forged2 INHERIT migsafe.audit_log');
like(
	$stderr,
	qr/ERROR:  MS001: [^\n]* requires? migsafe approval/,
	'superuser: ALTER TABLE ... INHERIT migsafe.audit_log fails with MS001');
foreach my $child (qw(forged forged2))
{
	psql_as(
		'inherit', undef, qq{
INSERT INTO public.$child (id, ts, vxid, database, backend_pid, command_tag,
	object_type, object_identity, statement, scope, risk, decision, approval,
	approved_by, reason)
VALUES (100000, now(), '1/1', 'inherit', 1, 'DROP TABLE', 'table', 'public.orders',
	'DROP TABLE orders', 'object', 'destructive', 'approved', 'public.orders',
	'public.orders', 'approved by the CTO')});
}
is( $node->safe_psql(
		'inherit',
		"SELECT count(*) FROM migsafe.audit_log WHERE tableoid <> 'migsafe.audit_log'::regclass"
	),
	'0',
	'inheritance: no forged row shows in migsafe.audit_log');
is(protection('inherit'), $INTACT, 'inheritance: the protection is in place');

#
# An approved TRUNCATE: the log then holds exactly the TRUNCATE's rows
#
ok(drain('postgres'), 'queue drained before the TRUNCATE');
($ret, $stdout, $stderr) = psql_as(
	'postgres', undef, q{
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*';
SET LOCAL migsafe.reason = 'yearly purge';
TRUNCATE migsafe.audit_log;
COMMIT;
});
unlike($stderr, qr/ERROR/, 'approved TRUNCATE of the log succeeds');
is( $node->safe_psql(
		'postgres', q{
SELECT command_tag, object_type, object_identity, scope, decision,
	   approval, coalesce(approved_by, '-'), reason, session_role
  FROM migsafe.audit_log ORDER BY id}),
	"TRUNCATE TABLE|table|migsafe.audit_log|command|approved|migsafe.*|-|yearly purge|postgres\n"
	  . "TRUNCATE TABLE|table|migsafe.audit_log|object|approved|migsafe.*|migsafe.*|yearly purge|postgres",
	'approved TRUNCATE: the log holds exactly its own command and object rows');
is(protection('postgres'), $INTACT, 'after the TRUNCATE: the protection is in place');

# and the log goes on
my $after = $node->safe_psql('postgres', 'SELECT max(id) FROM migsafe.audit_log');
$node->safe_psql('postgres', 'CREATE TABLE after_purge (a int)');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM migsafe.audit_log WHERE id > $after AND command_tag = 'CREATE TABLE'"
	),
	'1',
	'after the TRUNCATE: a new change is recorded');
($ret, $stdout, $stderr) =
  psql_as('postgres', undef, 'DELETE FROM migsafe.audit_log');
like(
	$stderr,
	qr/ERROR:  MS002: DELETE on table "migsafe.audit_log" is not allowed/,
	'after the TRUNCATE: DELETE is still refused');

#
# migsafe.mode = off or warn does not lift the protection of the log
#
# A superuser may switch the guard off for ordinary tables, but must not be
# able to switch the trigger off (or replace its function, or add a trigger
# that swallows new rows) and then rewrite or delete rows without a trace:
# the row recording the ALTER TABLE would be deleted with the rest.
my $case = 0;
foreach my $mode (qw(off warn))
{
	foreach my $sql (
		'ALTER TABLE migsafe.audit_log DISABLE TRIGGER audit_log_append_only',
		'ALTER TABLE migsafe.audit_log ENABLE REPLICA TRIGGER audit_log_append_only',
		'DROP TRIGGER audit_log_append_only ON migsafe.audit_log',
		q{CREATE OR REPLACE FUNCTION migsafe.audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'},
		'CREATE TRIGGER a_skip BEFORE INSERT ON migsafe.audit_log FOR EACH ROW EXECUTE FUNCTION skip_row()'
	  )
	{
		# a database of its own for each case
		my $db = 'mode_' . $mode . '_' . ++$case;
		my $mmax = setup_db($db);
		my $mprint = fingerprint($db, $mmax);

		($ret, $stdout, $stderr) = psql_as(
			$db, undef, qq{
SET migsafe.mode = $mode;
$sql;
UPDATE migsafe.audit_log SET statement = 'nothing happened';
DELETE FROM migsafe.audit_log;
});
		like($stderr, qr/ERROR:  MS00[12]:/,
			"mode $mode: $sql, then UPDATE and DELETE: refused");
		is(fingerprint($db, $mmax), $mprint,
			"mode $mode: $sql, then UPDATE and DELETE: no row changed");
		is(protection($db), $INTACT,
			"mode $mode: $sql: the protection is in place");
	}
}

$node->stop;

done_testing();
