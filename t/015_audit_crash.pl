# Copyright (c) 2026, migsafe developers
#
# t/015_audit_crash.pl
#	  A crash or an immediate shutdown never loses a queued audit row
#	  silently.
#
# Rows of blocked changes wait in a shared-memory queue for the database's
# "migsafe audit writer" (src/worker.c).  Shared memory does not survive
# the postmaster's crash restart nor an immediate shutdown, so a row that
# was queued but not yet stored must already be in the server log, with
# its content (the JSON row), whatever migsafe.log_audit says.  After each
# event below, every row of every blocked attempt is either in
# migsafe.audit_log or in the server log, never in neither:
#
# a) kill -9 of the audit writer while it holds rows it cannot store yet
#    (a session holds a lock on the audit log);
# b) kill -9 of the audit launcher while rows wait in the queue;
# c) an immediate shutdown while the queue (16 slots) is full and one more
#    backend waits for room in it.
#
# In each case the rows cannot have reached the table (the lock holds up
# the writer until the crash ends that session), so the test checks that
# the server log has each of them; and after the restart the guard and the
# writer work again.
#
# Why TAP: killing background workers, the postmaster's crash restart, an
# immediate shutdown, a postmaster setting (migsafe.audit_queue_size) and
# the server log; pg_regress and the isolation tester cannot do any of it.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

# a psql killed with its server must not take the test with it
$SIG{PIPE} = 'IGNORE';

my $node = PostgreSQL::Test::Cluster->new('auditcrash');
$node->init;
# migsafe.log_audit stays off (its default): the rows must be logged anyway
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'migsafe'
restart_after_crash = on
migsafe.audit_queue_size = 16
migsafe.audit_repeat_window = 0
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION migsafe; CREATE TABLE marker (a int); INSERT INTO marker VALUES (1)');

#
# Helpers
#

# Run $sql in database postgres, going on after errors; returns stderr
sub run_sql
{
	my ($sql) = @_;
	my ($out, $err);

	$node->psql(
		'postgres', $sql,
		stdout => \$out,
		stderr => \$err,
		on_error_stop => 0,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return $err;
}

# Tables $prefix_1 .. $prefix_$n, each with $i rows
sub make_tables
{
	my ($prefix, $n) = @_;

	$node->safe_psql('postgres',
		join('', map { "CREATE TABLE ${prefix}_$_ (a int); INSERT INTO ${prefix}_$_ SELECT generate_series(1, $_);\n" } 1 .. $n));
	return;
}

# A session holding a SHARE lock on the audit log: the writer cannot store
# anything until it ends
sub hold_log
{
	my $locker = $node->background_psql('postgres', on_error_stop => 0);

	$locker->query_safe(
		'BEGIN; LOCK TABLE migsafe.audit_log IN SHARE MODE; SELECT 1');
	return $locker;
}

# Make one blocked attempt per table $prefix_1 .. $prefix_$n; checks that
# each is refused
sub attempts
{
	my ($prefix, $n, $what) = @_;
	my $refused = 0;

	foreach my $i (1 .. $n)
	{
		my $err = run_sql("DROP TABLE ${prefix}_$i");

		$refused++
		  if $err =~ /ERROR:  MS001: DROP TABLE on table "public.${prefix}_$i"/;
	}
	is($refused, $n, "$what: $n blocked attempts refused");
	return;
}

# Wait until the writer of database postgres waits for the lock on the
# audit log; returns its pid
sub writer_waiting
{
	$node->poll_query_until(
		'postgres', q{
SELECT count(*) FROM pg_stat_activity
 WHERE backend_type = 'migsafe audit writer' AND wait_event_type = 'Lock'},
		'1')
	  or return undef;
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'migsafe audit writer'"
	);
}

# The pid of the launcher, a child of the postmaster (it has no database
# connection, so pg_stat_activity does not list it)
sub launcher_pid
{
	my ($postmaster) =
	  split /\n/, slurp_file($node->data_dir . '/postmaster.pid');
	my ($out, $err);

	IPC::Run::run([ 'ps', '-o', 'pid=,args=', '--ppid', $postmaster ],
		'>', \$out, '2>', \$err);
	foreach my $line (split /\n/, $out)
	{
		return $1 if $line =~ /^\s*(\d+)\s.*migsafe audit launcher/;
	}
	diag("no launcher among the postmaster's children:\n$out");
	return undef;
}

# Wait for the crash restart after $offset to be over
sub wait_restarted
{
	my ($offset) = @_;

	ok( $node->wait_for_log(
			qr/all server processes terminated; reinitializing/, $offset),
		'the postmaster restarts everything');
	$node->poll_query_until('postgres', 'SELECT 1', '1')
	  or die 'timed out waiting for the restart';
	return;
}

# For the blocked attempts on $prefix_1 .. $prefix_$n, count the rows
# (command and object) that are in the audit log, that are in the server
# log after $offset with their content (JSON), and that are in neither
sub account
{
	my ($prefix, $n, $offset) = @_;
	my $log = slurp_file($node->logfile, $offset);
	my %logged;
	my ($in_table, $in_log, $lost) = (0, 0, 0);

	while ($log =~ /DETAIL:  (?:Audit row: )?(\{[^\n]*\})/g)
	{
		my $row = $1;

		next unless $row =~ /"decision":"blocked"/;
		next unless $row =~ /"statement":"DROP TABLE (\Q$prefix\E_\d+)"/;
		my $t = $1;
		$logged{"$t|command"} = 1 if $row =~ /"scope":"command"/;
		$logged{"$t|object"} = 1
		  if $row =~ /"object_identity":"public.$t"[^\n]*"scope":"object"[^\n]*"detail":"Table \\"public.$t\\" holds \d+ rows?/;
	}
	foreach my $i (1 .. $n)
	{
		my $t = "${prefix}_$i";
		my $stored = $node->safe_psql(
			'postgres', qq{
SELECT count(*) FILTER (WHERE scope = 'command') || '|'
	   || count(*) FILTER (WHERE scope = 'object')
  FROM migsafe.audit_log
 WHERE statement = 'DROP TABLE $t' AND decision = 'blocked'});
		my ($c, $o) = split /\|/, $stored;

		foreach my $scope ([ 'command', $c ], [ 'object', $o ])
		{
			my ($s, $count) = @$scope;

			$in_table++ if $count > 0;
			$in_log++ if $logged{"$t|$s"};
			if ($count == 0 && !$logged{"$t|$s"})
			{
				$lost++;
				diag("$s row of DROP TABLE $t: neither in the table nor in the server log");
			}
		}
	}
	return ($in_table, $in_log, $lost);
}

# After a restart: a new blocked attempt is refused and written
sub works_again
{
	my ($what) = @_;
	my $before = $node->safe_psql('postgres',
		"SELECT count(*) FROM migsafe.audit_log WHERE statement = 'DROP TABLE marker'"
	);

	like(run_sql('DROP TABLE marker'), qr/ERROR:  MS001:/,
		"$what: after the restart the guard blocks");
	ok( $node->poll_query_until(
			'postgres',
			"SELECT count(*) FROM migsafe.audit_log WHERE statement = 'DROP TABLE marker'",
			$before + 2),
		"$what: after the restart the writer stores rows again");
	return;
}

my ($offset, $locker, $pid, $in_table, $in_log, $lost);

# a writer that runs, for the first case
works_again('before');

#
# a) kill -9 of the audit writer with rows in hand
#
make_tables('w', 5);
$offset = -s $node->logfile;
$locker = hold_log();
attempts('w', 5, 'writer killed');
$pid = writer_waiting();
ok(defined $pid, 'writer killed: the writer waits for the audit log');
is(kill('KILL', $pid), 1, 'writer killed: kill -9 of the writer');
wait_restarted($offset);
eval { $locker->quit; };

($in_table, $in_log, $lost) = account('w', 5, $offset);
is($lost, 0, 'writer killed: no row lost silently');
is($in_table, 0, 'writer killed: no row was stored before the crash');
is($in_log, 10,
	'writer killed: the server log has all 10 rows (5 commands, 5 objects)');
works_again('writer killed');

#
# b) kill -9 of the launcher with rows in the queue
#
make_tables('l', 4);
$offset = -s $node->logfile;
$locker = hold_log();
attempts('l', 4, 'launcher killed');
ok(defined writer_waiting(), 'launcher killed: the writer waits for the audit log');
$pid = launcher_pid();
ok(defined $pid, 'launcher killed: the launcher runs');
is(kill('KILL', $pid), 1, 'launcher killed: kill -9 of the launcher');
wait_restarted($offset);
eval { $locker->quit; };

($in_table, $in_log, $lost) = account('l', 4, $offset);
is($lost, 0, 'launcher killed: no row lost silently');
is($in_table, 0, 'launcher killed: no row was stored before the crash');
is($in_log, 8, 'launcher killed: the server log has all 8 rows');
works_again('launcher killed');

#
# c) an immediate shutdown with a full queue, and a backend waiting for room
#
make_tables('f', 9);
$offset = -s $node->logfile;
$locker = hold_log();

# 8 attempts, 2 rows each: the 16 slots are taken
attempts('f', 8, 'full queue');

# the 9th waits for room (up to 5 s): shut down while it does
my ($in, $out, $err) = ('', '', '');
my $waiter = IPC::Run::start(
	[
		'psql', '-XAtq', '-d', $node->connstr('postgres'),
		'-c', 'DROP TABLE f_9'
	],
	'<', \$in, '>', \$out, '2>', \$err);
ok( $node->poll_query_until(
		'postgres', q{
SELECT count(*) FROM pg_stat_activity
 WHERE query = 'DROP TABLE f_9' AND wait_event_type = 'Extension'},
		'1'),
	'full queue: the 9th attempt waits for room');
$node->stop('immediate');
$waiter->finish;
eval { $locker->quit; };
$node->start;

($in_table, $in_log, $lost) = account('f', 9, $offset);
is($lost, 0, 'immediate shutdown: no row lost silently');
is($in_table, 0, 'immediate shutdown: no row was stored before it');
is($in_log, 18,
	'immediate shutdown: the server log has the 16 queued rows and the 2 rows waiting for room'
);
is( $node->safe_psql('postgres', 'SELECT count(*) FROM f_9'),
	'9', 'immediate shutdown: the tables keep their rows');
works_again('immediate shutdown');

$node->stop;

done_testing();
