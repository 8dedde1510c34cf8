# Copyright (c) 2026, migsafe developers
#
# t/010_locks.pl
#	  A migration never stalls production behind a lock.
#
# With a session idle in transaction holding a lock on a busy table:
#
# - a migration's ALTER TABLE warns (migsafe.lock_risk = warn) naming the
#   holder, waits at most migsafe.ddl_lock_timeout, and fails with an
#   error naming the lock, the table and the holder's pid (its state and
#   query only to roles that may see them), while another session's SELECT
#   on the table gets its answer;
# - with migsafe.lock_risk = block (set per role, then per database) it
#   fails at once, and the attempt is audited as blocked; a role that may
#   not read the holder's query does not see it;
# - a transaction older than migsafe.lock_risk_after is a risk too, a
#   younger one is not;
# - the session's own lock_timeout wins, a statement_timeout is not made a
#   lock timeout; a prepared transaction is named; only superusers set the
#   settings;
# - ordinary queries keep waiting as long as they always did, the
#   session's lock_timeout is back after the DDL, and CREATE INDEX
#   CONCURRENTLY waits for older transactions as long as it must.
#
# Why TAP: several concurrent sessions, one of them waiting on a lock
# while another reads, and settings stored per role and per database.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('locks');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'migsafe'\nmigsafe.ddl_lock_timeout = '2s'\nmax_prepared_transactions = 2"
);
$node->start;
$node->safe_psql(
	'postgres', q{
CREATE EXTENSION migsafe;
CREATE ROLE app LOGIN;
CREATE TABLE busy (id int PRIMARY KEY, v text);
INSERT INTO busy SELECT g, 'v' || g FROM generate_series(1, 100) g;
ALTER TABLE busy OWNER TO app;});

# Run SQL as a role, with SQLSTATEs in the messages
sub run_as
{
	my ($role, $sql) = @_;
	my ($out, $err);
	my $ret = $node->psql(
		'postgres', $sql,
		stdout => \$out,
		stderr => \$err,
		extra_params => [ '-U', $role, '-v', 'VERBOSITY=verbose' ]);
	return ($ret, $out, $err);
}

# Start a psql running $sql in the background; returns the harness and
# references to its stdout and stderr
sub start_psql
{
	my ($role, $sql) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[
			'psql', '-X', '-v', 'VERBOSITY=verbose', '-U', $role,
			'-d', $node->connstr('postgres'), '-c', $sql
		],
		'>', \$out, '2>', \$err);
	return ($h, \$out, \$err);
}

# Wait until a session runs $pattern and waits for a lock
sub wait_until_waiting
{
	my ($pattern) = @_;
	return $node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '$pattern'"
	);
}

# Whether a session running $pattern still waits for a lock
sub still_waiting
{
	my ($pattern) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '$pattern'"
	);
}

sub has_column
{
	my ($col) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_attribute WHERE attrelid = 'busy'::regclass AND attname = '$col'"
	);
}

#
# A session idle in transaction holds ACCESS SHARE on busy
#
my $holder = $node->background_psql('postgres', on_error_stop => 0);
my $hpid = $holder->query_safe('SELECT pg_backend_pid()');
$holder->query_safe('BEGIN');
$holder->query_safe('SELECT count(*) FROM busy');

# 1. warn (the default): it warns, waits at most the timeout, then fails
# naming the holder; a reader meanwhile gets its answer
my ($mig, $mout, $merr) =
  start_psql('app', 'ALTER TABLE busy ADD COLUMN c1 int');
ok(wait_until_waiting('ALTER TABLE busy ADD COLUMN c1%'),
	'warn: the migration waits for its lock');
is($node->safe_psql('postgres', 'SELECT count(*) FROM busy'),
	'100', 'warn: a reader on the busy table gets its answer');
$mig->finish;
like(
	$$merr,
	qr/WARNING:  55P03: ALTER TABLE will wait for a lock in ACCESS EXCLUSIVE mode on table "public.busy" behind a long-running or idle transaction/,
	'warn: a WARNING before it queues');
like(
	$$merr,
	qr/ERROR:  55P03: ALTER TABLE could not get its locks within migsafe.ddl_lock_timeout \(2 s\)\nDETAIL:  It needs a lock in ACCESS EXCLUSIVE mode on table "public.busy"\. Process $hpid \(user "postgres", application "[^"]*"\) holds a lock in ACCESS SHARE mode on it\.\n/,
	'warn: the lock timeout error names the lock, the table and the holder');
like($$merr, qr/HINT:  Nothing was changed/, 'warn: the hint says nothing changed');
unlike($$merr, qr/Its last query|idle in transaction for/,
	'warn: a role that may not read the holder\'s activity does not see its state or query');
is(has_column('c1'), '0', 'warn: the column was not added');

# the timeout is audited as a blocked attempt
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) > 0 FROM migsafe.audit_log WHERE command_tag = 'ALTER TABLE' AND decision = 'blocked' AND detail LIKE '%within migsafe.ddl_lock_timeout%Process $hpid%'"
	),
	'warn: the lock timeout is audited as blocked');

# a superuser sees the holder's query
my ($ret, $out, $err) =
  run_as('postgres', 'ALTER TABLE busy ADD COLUMN c2 int');
like($err, qr/Process $hpid \([^)]*\) holds a lock in ACCESS SHARE mode on it and has been idle in transaction for \d+ (ms|s)\. Its last query was "SELECT count\(\*\) FROM busy"\./,
	'a superuser sees the holder\'s state and query');

# 2. block, set for the role: it fails at once, audited
$node->safe_psql('postgres', 'ALTER ROLE app SET migsafe.lock_risk = block');
($ret, $out, $err) = run_as('app', 'ALTER TABLE busy ADD COLUMN c3 int');
like(
	$err,
	qr/ERROR:  55P03: ALTER TABLE would wait for a lock in ACCESS EXCLUSIVE mode on table "public.busy" behind a long-running or idle transaction\nDETAIL:  It needs a lock in ACCESS EXCLUSIVE mode on table "public.busy"\. Process $hpid /,
	'block (role): refused before it queues, naming the holder');
like($err, qr/HINT:  Nothing was changed\.  Retry when process $hpid has finished, or end it with SELECT pg_terminate_backend\($hpid\)/,
	'block: the hint names the way out');
unlike($err, qr/could not get its locks/, 'block: no lock timeout: it never queued');
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) > 0 FROM migsafe.audit_log WHERE command_tag = 'ALTER TABLE' AND decision = 'blocked' AND statement = 'ALTER TABLE busy ADD COLUMN c3 int' AND detail LIKE '%Process $hpid%'"
	),
	'block: the refused attempt is audited as blocked');
$node->safe_psql('postgres', 'ALTER ROLE app RESET migsafe.lock_risk');

# block, set for the database
$node->safe_psql('postgres', 'ALTER DATABASE postgres SET migsafe.lock_risk = block');
($ret, $out, $err) = run_as('app', 'ALTER TABLE busy ADD COLUMN c4 int');
like($err, qr/ERROR:  55P03: ALTER TABLE would wait for a lock/,
	'block (database): refused before it queues');
$node->safe_psql('postgres', 'ALTER DATABASE postgres RESET migsafe.lock_risk');

# only superusers set them
for my $setting ('migsafe.lock_risk = off', 'migsafe.ddl_lock_timeout = 0',
	"migsafe.lock_risk_after = '1h'")
{
	($ret, $out, $err) = run_as('app', "SET $setting");
	like($err, qr/permission denied to set parameter/,
		"a role may not SET $setting");
}

# 3. the session's own lock_timeout wins
($ret, $out, $err) = run_as('app',
	"SET lock_timeout = '300ms'; ALTER TABLE busy ADD COLUMN c5 int");
like(
	$err,
	qr/ERROR:  55P03: ALTER TABLE could not get its locks within lock_timeout \(300 ms\)/,
	'the session\'s own lock_timeout wins');

# another cancellation is not a lock timeout: statement_timeout stays itself
($ret, $out, $err) = run_as('app',
	"SET lock_timeout = '10s'; SET statement_timeout = '300ms'; ALTER TABLE busy ADD COLUMN c5 int"
);
like($err, qr/ERROR:  57014: canceling statement due to statement timeout/,
	'a statement timeout is reported as such');
unlike($err, qr/could not get its locks/,
	'a statement timeout is not rewritten as a lock timeout');
$holder->query_safe('COMMIT');

# a prepared transaction holding a lock is always a risk: nothing but
# COMMIT PREPARED ends it
$node->safe_psql('postgres',
	"BEGIN; SELECT count(*) FROM busy; PREPARE TRANSACTION 'deploy_42'");
($ret, $out, $err) = run_as('postgres',
	"SET migsafe.lock_risk = block; ALTER TABLE busy ADD COLUMN c9 int");
like(
	$err,
	qr/ERROR:  55P03: ALTER TABLE would wait for a lock [^\n]*\nDETAIL:  [^\n]*Prepared transaction "deploy_42" \(user "postgres"\) holds a lock in ACCESS SHARE mode on it, prepared [^\n]* ago; only COMMIT PREPARED or ROLLBACK PREPARED ends it\./,
	'block: a prepared transaction holding a lock is named');
like($err, qr/HINT:  Nothing was changed\.  Retry when prepared transaction "deploy_42" is committed or rolled back/,
	'block: the hint says how a prepared transaction ends');
$node->safe_psql('postgres', "ROLLBACK PREPARED 'deploy_42'");

# 4. an active transaction older than migsafe.lock_risk_after is a risk;
# a younger one is not
$holder->query_safe('BEGIN');
$holder->query_safe('SELECT count(*) FROM busy');
my $sleeper = $node->background_psql('postgres', on_error_stop => 0);
my $spid = $sleeper->query_safe('SELECT pg_backend_pid()');
$sleeper->query_safe('BEGIN');
$sleeper->query_safe('SELECT count(*) FROM busy');
$holder->query_safe('COMMIT');
$sleeper->query_until(qr/^$/, "SELECT pg_sleep(600);\n");
$node->poll_query_until('postgres',
	"SELECT state = 'active' FROM pg_stat_activity WHERE pid = $spid");
($ret, $out, $err) = run_as('postgres',
	"SET migsafe.lock_risk = block; SET migsafe.lock_risk_after = '1h'; ALTER TABLE busy ADD COLUMN c6 int"
);
like($err,
	qr/ERROR:  55P03: ALTER TABLE could not get its locks within migsafe.ddl_lock_timeout/,
	'a young active transaction is no risk: it queues, within the timeout');
($ret, $out, $err) = run_as('postgres',
	"SELECT pg_sleep(0.1); SET migsafe.lock_risk = block; SET migsafe.lock_risk_after = '10ms'; ALTER TABLE busy ADD COLUMN c7 int"
);
like(
	$err,
	qr/ERROR:  55P03: ALTER TABLE would wait for a lock in ACCESS EXCLUSIVE mode on table "public.busy" behind a long-running or idle transaction\nDETAIL:  [^\n]*Process $spid \(user "postgres", application "[^"]*"\) holds a lock in ACCESS SHARE mode on it, in a transaction running for /,
	'an active transaction older than lock_risk_after is a risk');
$node->safe_psql('postgres', "SELECT pg_cancel_backend($spid)");
$sleeper->quit;
is(has_column('c6') . has_column('c7'), '00', 'no column was added');

# 5. ordinary queries are untouched: a SELECT waits for a lock as long as
# it always did, longer than migsafe.ddl_lock_timeout
$holder->query_safe('BEGIN');
$holder->query_safe('LOCK TABLE busy IN ACCESS EXCLUSIVE MODE');
my ($reader, $rout, $rerr) = start_psql('postgres', 'SELECT count(*) FROM busy');
ok(wait_until_waiting('SELECT count(*) FROM busy'), 'a reader waits for the lock');
$node->safe_psql('postgres', 'SELECT pg_sleep(3)');
is(still_waiting('SELECT count(*) FROM busy'),
	't', 'it still waits after migsafe.ddl_lock_timeout: no timeout for queries');
$holder->query_safe('COMMIT');
$reader->finish;
like($$rout, qr/100/, 'the reader gets its answer once the lock is free');

# the session's lock_timeout is back after a schema change
($ret, $out, $err) = run_as('postgres',
	"ALTER TABLE busy ADD COLUMN c8 int; SHOW lock_timeout");
is($out, '0', 'lock_timeout is back to 0 after the schema change');
is(has_column('c8'), '1', 'with nobody in the way the column is added');

# 6. CREATE INDEX CONCURRENTLY waits for older writers as long as it must
$holder->query_safe('BEGIN');
$holder->query_safe("INSERT INTO busy VALUES (1000, 'w')");
my ($cic, $cout, $cerr) =
  start_psql('postgres', 'CREATE INDEX CONCURRENTLY busy_v ON busy (v)');
ok(wait_until_waiting('CREATE INDEX CONCURRENTLY%'),
	'CREATE INDEX CONCURRENTLY waits for the older writer');
$node->safe_psql('postgres', 'SELECT pg_sleep(3)');
is(still_waiting('CREATE INDEX CONCURRENTLY%'),
	't', 'it still waits after migsafe.ddl_lock_timeout');
$holder->query_safe('COMMIT');
$cic->finish;
is($node->safe_psql('postgres',
		"SELECT indisvalid FROM pg_index WHERE indexrelid = 'busy_v'::regclass"),
	't', 'the index is built');
unlike($$cerr, qr/lock/, 'without any lock message');

$holder->quit;
$node->stop;
done_testing();
