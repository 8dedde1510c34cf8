# Copyright (c) 2026, migsafe developers
#
# t/006_audit_durable.pl
#	  Audit rows of blocked changes outlive their transaction, are never
#	  lost silently, and are never written twice.
#
# A blocked change aborts its transaction, so its audit rows cannot be
# inserted there: they are queued in shared memory and written by the
# database's "migsafe audit writer" background worker.  The spec says the
# attempt is recorded "within a couple of seconds at most" and survives the
# rollback, while a change that ran and was rolled back leaves no row.
# This file checks that contract under load and across events:
#
# - one blocked DROP, in a transaction block and in autocommit: a blocked
#   command row and a blocked object row arrive within seconds; an approved
#   DROP that is rolled back leaves nothing; an approved DROP that commits
#   has its approved rows (approval, approved_by, reason) at once; a row
#   whose text JSON escapes six times over still fits its queue slot, cut;
# - a burst of 1,000 blocked attempts from 16 concurrent sessions gives
#   exactly 1,000 command rows and 1,000 object rows, none lost or
#   duplicated, with no "could not queue" WARNING;
# - a fast restart while 300 attempts are still queued (the writer is held
#   up by a lock) loses none of them: the writer drains the queue before
#   the shutdown checkpoint;
# - with a 16-slot queue, every row either reaches the table or is
#   reported by a WARNING (with the row) in the server log: rows + lost =
#   attempts, nothing silent; when the queue stays full the backend gives
#   up on a row after waiting, with that WARNING;
# - a transient error in the writer (lock_timeout set for the database,
#   the table locked for longer) delays rows but does not lose them;
# - migsafe.log_audit = on puts each row in the server log as JSON;
# - with more guarded databases than free worker slots, every database's
#   blocked attempts are still recorded within seconds.
#
# A blocked attempt's rows are checked through a marker: the writer writes
# the queue in order, so once a blocked attempt made afterwards is in the
# table, everything queued before it is too (no fixed sleeps).
#
# Why TAP: background workers, concurrent sessions (pgbench), server
# restarts, a postmaster setting (migsafe.audit_queue_size) on a second
# node, and the server log; none of this fits pg_regress.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use IPC::Run;

# Blocked rows must arrive within this many seconds (the spec says "a
# couple"; a little slack for slow machines)
my $FEW_SECONDS = 5;

my $dir = PostgreSQL::Test::Utils::tempdir;

my $node = PostgreSQL::Test::Cluster->new('durable');
$node->init;
# every attempt is a row of its own here: repeats are t/011_coexistence.pl's
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'migsafe'\nmax_connections = 60\nmigsafe.audit_repeat_window = 0"
);
$node->start;

#
# Helpers
#

# Poll $query in database postgres of $n until it returns $expected, for
# at most $secs seconds.  Returns the seconds it took, or undef (after a
# diag) when it timed out.
sub wait_for
{
	my ($n, $query, $expected, $secs) = @_;
	my $start = time();
	my $last;

	for (;;)
	{
		$last = $n->safe_psql('postgres', $query);
		return time() - $start if $last eq $expected;
		last if time() - $start > $secs;
		usleep(50_000);
	}
	diag("waited $secs s for\n$query\nexpected: $expected\nlast: $last");
	return undef;
}

# Run $sql on $n in database postgres, going on after errors; returns
# (exit code, stdout, stderr) with SQLSTATEs shown.
sub run_sql
{
	my ($n, $sql) = @_;
	my ($out, $err);

	my $rc = $n->psql(
		'postgres', $sql,
		stdout => \$out,
		stderr => \$err,
		on_error_stop => 0,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return ($rc, $out, $err);
}

# Create table $t with $rows rows on $n
sub make_table
{
	my ($n, $t, $rows) = @_;

	$n->safe_psql('postgres',
		"CREATE TABLE $t (a int); INSERT INTO $t SELECT generate_series(1, $rows);"
	);
	return;
}

# "<command rows>|<object rows>" of decision $decision for statement $stmt
sub rows_of
{
	my ($stmt, $decision) = @_;

	return qq{SELECT count(*) FILTER (WHERE scope = 'command'),
		count(*) FILTER (WHERE scope = 'object')
	FROM migsafe.audit_log
	WHERE statement = '$stmt' AND decision = '$decision'};
}

# Wait until everything queued so far on $n is written: make one more
# blocked attempt (DROP TABLE marker) and wait for its row.  Returns true
# when it arrived within $secs seconds.
my %markers;

sub drain
{
	my ($n, $secs) = @_;
	my $name = $n->name;

	$markers{$name}++;
	my ($rc, $out, $err) = run_sql($n, 'DROP TABLE marker');
	like($err, qr/ERROR:  MS001:/, "$name: the marker DROP is blocked")
	  or return 0;
	return defined wait_for(
		$n,
		"SELECT count(*) FROM migsafe.audit_log
		 WHERE statement = 'DROP TABLE marker' AND scope = 'command'",
		$markers{$name}, $secs);
}

# Write a pgbench script making one blocked attempt per transaction: a DO
# block catching migsafe's error, because pgbench 15 aborts a client on an
# error.  The rows are queued before the error is raised.
sub attempt_script
{
	my ($table) = @_;
	my $path = "$dir/drop_$table.sql";

	PostgreSQL::Test::Utils::append_to_file($path,
		"DO \$\$ BEGIN DROP TABLE $table; EXCEPTION WHEN SQLSTATE 'MS001' THEN NULL; END \$\$;\n"
	);
	return $path;
}

# Start pgbench on $n in the background: $clients sessions making $tx
# attempts each with $script.  Returns a handle for pgbench_finish.
sub pgbench_start
{
	my ($n, $clients, $tx, $script) = @_;
	my %run = (out => '', err => '');

	$run{h} = IPC::Run::start(
		[
			'pgbench', '-n',
			'-h', $n->host,
			'-p', $n->port,
			'-c', $clients,
			'-j', ($clients < 4 ? $clients : 4),
			'-t', $tx,
			'-f', $script,
			'postgres'
		],
		'<', '/dev/null',
		'>', \$run{out},
		'2>', \$run{err});
	return \%run;
}

# Wait for a pgbench run; returns the number of attempts it processed
# (undef if it failed)
sub pgbench_finish
{
	my ($run) = @_;

	$run->{h}->finish;
	if ($run->{h}->result != 0
		|| $run->{out} !~
		/number of transactions actually processed: (\d+)\//)
	{
		diag("pgbench failed:\n$run->{out}\n$run->{err}");
		return undef;
	}
	return $1;
}

# WARNINGs "could not queue an audit row" in $n's log after $offset, for
# statement $stmt: returns (command rows lost, object rows lost, all lost)
sub lost_rows
{
	my ($n, $offset, $stmt) = @_;
	my $log = slurp_file($n->logfile, $offset);
	my ($cmd, $obj, $all) = (0, 0, 0);

	while ($log =~
		/WARNING:  migsafe could not queue an audit row; it is written to the server log instead\n[^\n]*DETAIL:  Audit row: (\{[^\n]*\})/g
	  )
	{
		my $row = $1;

		$all++;
		next unless $row =~ /"statement":"\Q$stmt\E"/;
		$cmd++ if $row =~ /"scope":"command"/;
		$obj++ if $row =~ /"scope":"object"/;
	}
	return ($cmd, $obj, $all);
}

$node->safe_psql('postgres', 'CREATE EXTENSION migsafe');
make_table($node, 'marker', 1);

my ($ret, $stdout, $stderr, $took, $offset);

#
# a) One blocked attempt, in a transaction block and in autocommit
#
make_table($node, $_, 100) foreach qw(a_txn a_auto a_rb a_ok);

($ret, $stdout, $stderr) =
  run_sql($node, "BEGIN;\nDROP TABLE a_txn;\nROLLBACK;");
like(
	$stderr,
	qr/ERROR:  MS001: DROP TABLE on table "public.a_txn" requires migsafe approval/,
	'DROP TABLE in a transaction block is blocked');
$took = wait_for($node, rows_of('DROP TABLE a_txn', 'blocked'),
	'1|1', $FEW_SECONDS);
ok(defined $took,
	"blocked DROP in BEGIN ... ROLLBACK: a blocked command row and object row within $FEW_SECONDS s"
);
note(sprintf('the rows took %.2f s', $took)) if defined $took;
is( $node->safe_psql(
		'postgres', q{
SELECT command_tag, object_type, object_identity, risk, nested,
	   detail LIKE '%100 rows%', database, session_role
  FROM migsafe.audit_log
 WHERE statement = 'DROP TABLE a_txn' AND scope = 'object'}),
	'DROP TABLE|table|public.a_txn|destructive|f|t|postgres|postgres',
	'blocked DROP in a transaction block: the object row describes the table and its data'
);

($ret, $stdout, $stderr) = run_sql($node, 'DROP TABLE a_auto');
like(
	$stderr,
	qr/ERROR:  MS001: DROP TABLE on table "public.a_auto" requires migsafe approval/,
	'DROP TABLE in autocommit is blocked');
$took = wait_for($node, rows_of('DROP TABLE a_auto', 'blocked'),
	'1|1', $FEW_SECONDS);
ok(defined $took,
	"blocked DROP in autocommit: a blocked command row and object row within $FEW_SECONDS s"
);
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM a_txn UNION ALL SELECT count(*) FROM a_auto"),
	"100\n100",
	'blocked DROPs: the tables keep their rows');

# an approved DROP that ran, then rolled back: no row at all
($ret, $stdout, $stderr) = run_sql(
	$node, q{
BEGIN;
SET LOCAL migsafe.approve = 'public.a_rb';
SET LOCAL migsafe.reason = 'rolled back';
DROP TABLE a_rb;
ROLLBACK;
});
unlike($stderr, qr/ERROR/, 'approved DROP then ROLLBACK: no error');
ok(drain($node, $FEW_SECONDS), 'approved DROP then ROLLBACK: queue drained');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM migsafe.audit_log WHERE statement = 'DROP TABLE a_rb'"
	),
	'0',
	'approved DROP then ROLLBACK: no audit row');
is($node->safe_psql('postgres', 'SELECT count(*) FROM a_rb'),
	'100', 'approved DROP then ROLLBACK: the table is back');

# an approved DROP that commits: its rows are there at commit, no waiting
($ret, $stdout, $stderr) = run_sql(
	$node, q{
BEGIN;
SET LOCAL migsafe.approve = 'public.a_ok';
SET LOCAL migsafe.reason = 'CHG-42 remove a_ok';
DROP TABLE a_ok;
COMMIT;
});
unlike($stderr, qr/ERROR/, 'approved DROP committed: no error');
is( $node->safe_psql(
		'postgres', q{
SELECT scope, decision, approval, coalesce(approved_by, '-'), reason,
	   CASE scope WHEN 'object' THEN object_identity ELSE '-' END
  FROM migsafe.audit_log
 WHERE statement = 'DROP TABLE a_ok'
 ORDER BY scope}),
	"command|approved|public.a_ok|-|CHG-42 remove a_ok|-\n"
	  . "object|approved|public.a_ok|public.a_ok|CHG-42 remove a_ok|public.a_ok",
	'approved DROP committed: approved rows with approval, approved_by and reason, at commit'
);
is( $node->safe_psql(
		'postgres', q{
SELECT count(DISTINCT xid) = 1 AND bool_and(xid IS NOT NULL)
  FROM migsafe.audit_log WHERE statement = 'DROP TABLE a_ok'}),
	't',
	'approved DROP committed: both rows carry the transaction id');

# a row whose text JSON escapes six times over (control characters) still
# fits a queue slot: its statement and reason are cut, with "...", and it
# reaches the table
make_table($node, 'esc_victim', 10);
$offset = -s $node->logfile;
($ret, $stdout, $stderr) = run_sql($node,
	"SELECT set_config('migsafe.reason', repeat(chr(1), 3000), false);\n"
	  . "DROP TABLE esc_victim /*" . ("\x01" x 1400) . "*/;");
like($stderr, qr/ERROR:  MS001: DROP TABLE on table "public.esc_victim"/,
	'escaped row: the DROP is blocked');
ok( $node->poll_query_until(
		'postgres', q{
SELECT count(*) FROM migsafe.audit_log
 WHERE decision = 'blocked' AND statement LIKE 'DROP TABLE esc_victim /*%...'
   AND reason LIKE '%...'},
		'2'),
	'escaped row: the command and object rows reach the table, cut with "..."');
my ($esc_c, $esc_o, $esc_lost) = lost_rows($node, $offset, 'x');
is($esc_lost, 0, 'escaped row: no "could not queue an audit row" WARNING');

#
# b) A burst: 1,000 blocked attempts from 16 concurrent sessions
#
make_table($node, 'burst_victim', 1000);
my $burst = attempt_script('burst_victim');
$offset = -s $node->logfile;

my $start = time();
my @runs = (
	pgbench_start($node, 8, 63, $burst),    # 504 attempts
	pgbench_start($node, 8, 62, $burst));   # 496 attempts
my $attempts = 0;
foreach my $run (@runs)
{
	my $done = pgbench_finish($run);
	$attempts += $done // 0;
}
is($attempts, 1000, 'burst: pgbench made 1,000 attempts from 16 sessions');
note(sprintf('the burst took %.1f s', time() - $start));

ok(drain($node, 60), 'burst: queue drained within 60 s');
is( $node->safe_psql('postgres', rows_of('DROP TABLE burst_victim', 'blocked')),
	'1000|1000',
	'burst: exactly 1,000 blocked command rows and 1,000 object rows');
is( $node->safe_psql(
		'postgres', q{
SELECT count(DISTINCT (backend_pid, vxid)), count(DISTINCT backend_pid),
	   bool_and(nested), bool_and(object_identity = 'public.burst_victim')
  FROM migsafe.audit_log
 WHERE statement = 'DROP TABLE burst_victim' AND scope = 'object'}),
	'1000|16|t|t',
	'burst: one object row per attempt (none duplicated), from 16 sessions');
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM (
  SELECT vxid, backend_pid FROM migsafe.audit_log
   WHERE statement = 'DROP TABLE burst_victim'
   GROUP BY 1, 2
  HAVING count(*) FILTER (WHERE scope = 'command') <> 1
      OR count(*) FILTER (WHERE scope = 'object') <> 1) bad}),
	'0',
	'burst: every attempt has exactly one command row and one object row');
my ($lc, $lo, $lost) = lost_rows($node, $offset, 'DROP TABLE burst_victim');
is($lost, 0, 'burst: no "could not queue an audit row" WARNING');
ok(!$node->log_contains('could not record a row', $offset),
	'burst: the writer recorded every row');
is($node->safe_psql('postgres', 'SELECT count(*) FROM burst_victim'),
	'1000', 'burst: the table keeps its rows');

#
# c) A fast restart while 300 attempts are still queued
#
# A session holds a SHARE lock on the audit log, so that the writer cannot
# insert: the rows of the attempts stay in the queue until the restart's
# fast shutdown ends that session.  The writer must then write them all
# before it exits.
make_table($node, 'restart_victim', 10);
my $restart_script = attempt_script('restart_victim');
$offset = -s $node->logfile;

my $locker = $node->background_psql('postgres', on_error_stop => 0);
$locker->query_safe(
	'BEGIN; LOCK TABLE migsafe.audit_log IN SHARE MODE; SELECT 1');

my $in_flight = pgbench_finish(pgbench_start($node, 8, 38, $restart_script))
  // 0;
is($in_flight, 304, 'restart: 304 attempts made from 8 sessions');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM migsafe.audit_log WHERE statement = 'DROP TABLE restart_victim'"
	),
	'0',
	'restart: none of their rows is written yet (the writer waits for the lock)'
);

# no waiting: restart (fast shutdown) at once
$node->restart;
eval { $locker->quit; };

is( $node->safe_psql('postgres',
		rows_of('DROP TABLE restart_victim', 'blocked')),
	"$in_flight|$in_flight",
	'restart: every queued attempt was written before the shutdown');
($lc, $lo, $lost) = lost_rows($node, $offset, 'DROP TABLE restart_victim');
is($lost, 0, 'restart: no "could not queue an audit row" WARNING');
ok( !$node->log_contains('could not record a row', $offset),
	'restart: the writer recorded every row');
is($node->safe_psql('postgres', 'SELECT count(*) FROM restart_victim'),
	'10', 'restart: the table keeps its rows');

# and the writer starts again after the restart
($ret, $stdout, $stderr) = run_sql($node, 'DROP TABLE restart_victim');
like($stderr, qr/ERROR:  MS001:/, 'after the restart: DROP is blocked');
ok( defined wait_for(
		$node,
		rows_of('DROP TABLE restart_victim', 'blocked'),
		($in_flight + 1) . '|' . ($in_flight + 1),
		$FEW_SECONDS),
	'after the restart: a new attempt is recorded within seconds');

#
# d) A small queue: 16 slots
#
my $small = PostgreSQL::Test::Cluster->new('smallqueue');
$small->init;
$small->append_conf('postgresql.conf',
	"shared_preload_libraries = 'migsafe'\nmigsafe.audit_queue_size = 16\nmax_connections = 40\nmigsafe.audit_repeat_window = 0"
);
$small->start;
$small->safe_psql('postgres', 'CREATE EXTENSION migsafe');
is($small->safe_psql('postgres', 'SHOW migsafe.audit_queue_size'),
	'16', 'small queue: 16 slots');
make_table($small, 'marker', 1);
make_table($small, 'small_victim', 50);
$offset = -s $small->logfile;

# 200 attempts (400 rows) from 8 sessions
$attempts =
  pgbench_finish(pgbench_start($small, 8, 25, attempt_script('small_victim')))
  // 0;
is($attempts, 200, 'small queue: 200 attempts from 8 sessions');
ok(drain($small, 60), 'small queue: queue drained');
my ($cmd_rows, $obj_rows) = split /\|/,
  $small->safe_psql('postgres', rows_of('DROP TABLE small_victim', 'blocked'));
($lc, $lo, $lost) = lost_rows($small, $offset, 'DROP TABLE small_victim');
note("small queue: $cmd_rows + $obj_rows rows written, $lc + $lo lost with a WARNING");
is($cmd_rows + $lc, 200,
	'small queue: command rows written + reported lost = attempts');
is($obj_rows + $lo, 200,
	'small queue: object rows written + reported lost = attempts');
is( $small->safe_psql(
		'postgres', q{
SELECT count(*) - count(DISTINCT (backend_pid, vxid, scope))
  FROM migsafe.audit_log WHERE statement = 'DROP TABLE small_victim'}),
	'0',
	'small queue: no row written twice');

# The queue stays full: the writer is held up by a lock.  8 attempts (16
# rows) fill it; the 9th attempt's two rows find no room after the wait:
# each is reported with a WARNING that carries the row, to the client and
# in the server log, and the attempt is still refused.
make_table($small, 'full_victim', 5);
$offset = -s $small->logfile;
$locker = $small->background_psql('postgres', on_error_stop => 0);
$locker->query_safe(
	'BEGIN; LOCK TABLE migsafe.audit_log IN SHARE MODE; SELECT 1');
my $sql = "DO \$\$ BEGIN DROP TABLE full_victim; EXCEPTION WHEN SQLSTATE 'MS001' THEN NULL; END \$\$;\n"
  x 8;
($ret, $stdout, $stderr) = run_sql($small, $sql);
is($ret, 0, 'full queue: 8 attempts fill the queue');
unlike($stderr, qr/WARNING/, 'full queue: no WARNING while there is room');

$start = time();
($ret, $stdout, $stderr) = run_sql($small, 'DROP TABLE full_victim');
my $waited = time() - $start;
like($stderr, qr/ERROR:  MS001: DROP TABLE on table "public.full_victim"/,
	'full queue: the 9th attempt is still blocked');
is( scalar(
		() = $stderr =~
		  /WARNING:  53400: migsafe could not queue an audit row; it is written to the server log instead/g
	),
	2,
	'full queue: the client is warned once per row that found no room');
ok($waited >= 4.5, 'full queue: the backend waited for room before giving up')
  or diag("waited $waited s");
note(sprintf('the 9th attempt took %.1f s', $waited));
($lc, $lo, $lost) = lost_rows($small, $offset, 'DROP TABLE full_victim');
is("$lc|$lo", '1|1',
	'full queue: the server log has both lost rows, command and object');

$locker->query_safe('COMMIT');
$locker->quit;
ok(drain($small, 30), 'full queue: queue drained once the lock is gone');
is($small->safe_psql('postgres', rows_of('DROP TABLE full_victim', 'blocked')),
	'8|8', 'full queue: the 8 queued attempts were written');
is($small->safe_psql('postgres', 'SELECT count(*) FROM full_victim'),
	'5', 'full queue: the table keeps its rows');

$small->stop;

#
# e) A transient error in the writer loses nothing
#
# With lock_timeout set for the database (a common production default),
# the writer's INSERT times out while another session holds a conflicting
# lock on the audit log.  The rows must be written once the lock is gone,
# not dropped to the server log.
$node->safe_psql('postgres',
	"ALTER DATABASE postgres SET lock_timeout = '200ms'");

# a new writer, which picks up the database setting
$node->restart;
make_table($node, 'timeout_victim', 3);
$offset = -s $node->logfile;
$locker = $node->background_psql('postgres', on_error_stop => 0);
$locker->query_safe(
	"SET lock_timeout = 0; BEGIN; LOCK TABLE migsafe.audit_log IN SHARE MODE; SELECT 1"
);
($ret, $stdout, $stderr) = run_sql($node, 'DROP TABLE timeout_victim');
like($stderr, qr/ERROR:  MS001:/, 'lock_timeout: the DROP is blocked');
usleep(1_500_000);    # longer than lock_timeout: the writer has tried
$locker->query_safe('COMMIT');
$locker->quit;
ok( defined wait_for(
		$node, rows_of('DROP TABLE timeout_victim', 'blocked'),
		'1|1', $FEW_SECONDS),
	'lock_timeout: the rows are written once the lock is released');
ok( !$node->log_contains('could not record a row', $offset),
	'lock_timeout: the writer did not give up on the rows');
$node->safe_psql('postgres', 'ALTER DATABASE postgres RESET lock_timeout');

#
# f) migsafe.log_audit = on: every row is also a JSON line in the server log
#
$node->safe_psql('postgres', 'ALTER SYSTEM SET migsafe.log_audit = on');
$node->reload;
$node->poll_query_until('postgres', 'SHOW migsafe.log_audit', 'on')
  or die 'timed out waiting for migsafe.log_audit';
make_table($node, 'logged_victim', 7);
$offset = -s $node->logfile;
($ret, $stdout, $stderr) = run_sql($node, 'DROP TABLE logged_victim');
like($stderr, qr/ERROR:  MS001:/, 'log_audit: the DROP is blocked');
my $log = slurp_file($node->logfile, $offset);
like(
	$log,
	qr/LOG:  migsafe audit row\n[^\n]*DETAIL:  \{[^\n]*"statement":"DROP TABLE logged_victim"[^\n]*"scope":"command"[^\n]*"decision":"blocked"/,
	'log_audit: the blocked command row is a JSON line in the server log');
like(
	$log,
	qr/LOG:  migsafe audit row\n[^\n]*DETAIL:  \{[^\n]*"object_identity":"public.logged_victim"[^\n]*"scope":"object"[^\n]*"decision":"blocked"[^\n]*"detail":"Table \\"public.logged_victim\\" holds 7 rows/,
	'log_audit: the blocked object row too, with its detail');
ok( defined wait_for(
		$node, rows_of('DROP TABLE logged_victim', 'blocked'),
		'1|1', $FEW_SECONDS),
	'log_audit: the rows are in the table as well');

# a change that runs is logged too
$offset = -s $node->logfile;
$node->safe_psql('postgres', 'CREATE TABLE logged_new (a int)');
ok( $node->log_contains(
		qr/LOG:  migsafe audit row\n[^\n]*DETAIL:  \{[^\n]*"command_tag":"CREATE TABLE"[^\n]*"decision":"allowed"/,
		$offset),
	'log_audit: an allowed change is logged');

$node->safe_psql('postgres', 'ALTER SYSTEM RESET migsafe.log_audit');
$node->reload;

#
# g) More guarded databases than background worker slots
#
# Each database has its own writer, which stays idle for minutes after its
# last row.  With the default max_worker_processes (8, one of them taken by
# the logical replication launcher) a blocked attempt in the 8th database
# must still be recorded within seconds, not wait for a worker slot (and
# be lost at the next shutdown).
is($node->safe_psql('postgres', 'SHOW max_worker_processes'),
	'8', 'many databases: the default max_worker_processes');
foreach my $i (1 .. 8)
{
	my $db = "guarded$i";

	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db,
		'CREATE EXTENSION migsafe; CREATE TABLE victim (a int); INSERT INTO victim VALUES (1);'
	);
	$node->psql($db, 'DROP TABLE victim');
}
foreach my $i (1 .. 8)
{
	my $db = "guarded$i";
	my $start = time();
	my $got;

	for (;;)
	{
		$got = $node->safe_psql($db,
			"SELECT count(*) FROM migsafe.audit_log WHERE statement = 'DROP TABLE victim' AND decision = 'blocked'"
		);
		last if $got eq '2' || time() - $start > 2 * $FEW_SECONDS;
		usleep(100_000);
	}
	is($got, '2', "many databases: the blocked DROP in $db is recorded within seconds");
}

#
# h) the log's identity sequence set out of range by hand (setval is not
# DDL): the writer cannot insert, keeps the rows and retries; once the
# sequence is set right, they arrive.  Nothing is dropped.
#
$node->safe_psql('guarded1',
	"SELECT setval('migsafe.audit_log_id_seq', 9223372036854775807)");
$node->psql('guarded1', 'DROP TABLE victim');
sleep(2);
is( $node->safe_psql('guarded1',
		"SELECT count(*) FROM migsafe.audit_log WHERE statement = 'DROP TABLE victim'"),
	'2',
	'sequence out of range: the new rows are not written yet');
$node->safe_psql('guarded1',
	"SELECT setval('migsafe.audit_log_id_seq', (SELECT max(id) FROM migsafe.audit_log))");
ok( $node->poll_query_until(
		'guarded1',
		"SELECT count(*) FROM migsafe.audit_log WHERE statement = 'DROP TABLE victim'",
		'4'),
	'sequence set right: the retried rows arrive');

$node->stop;

done_testing();
