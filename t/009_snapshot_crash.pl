# Copyright (c) 2026, migsafe developers
#
# t/009_snapshot_crash.pl
#	  A crash never leaves half a snapshot, nor a change without one.
#
# An approved destructive change keeps its snapshot in its own transaction
# (docs/snapshots.md).  After a crash, the database must
# therefore be in one of two states, never in between:
#
# - intact: the original table as it was (same rows, same md5 over the
#   rows in key order), no kept snapshot of it, and no migsafe_snapshot_*
#   schema that no kept snapshot owns;
# - complete: the change done, its snapshot kept with row_count equal to
#   the rows the table had, its storage holding exactly those rows, and
#   migsafe.restore() giving back identical data.
#
# The backend is killed (kill -9, then the postmaster's crash restart):
#
# a) during copying snapshots: TRUNCATE of a table with a BEFORE TRUNCATE
#    trigger (copied: the trigger must see the rows; any other table keeps
#    its storage instead) while it waits for its lock, as soon as the copy
#    has begun, halfway through the copy, and after the statement but
#    before COMMIT; in autocommit near the end of the statement (either
#    state may result); an approved
#    TRUNCATE and an approved DROP ... CASCADE, which keep the table's
#    storage instead of copying it: TRUNCATE while it waits for its lock,
#    both after the statement but before COMMIT; a DROP TYPE that converts
#    the columns of a kept storage of an enum and a domain, and an ALTER
#    TYPE that converts a kept column of a composite type, before COMMIT;
# b) during a plain DROP TABLE, which moves the table: while it waits for
#    its lock, and after the move but before COMMIT (the move also dropped
#    the table's foreign key, which must be back);
# c) right after COMMIT of an approved DROP (moved), TRUNCATE and DROP
#    SCHEMA ... CASCADE (their tables' storage kept), the server stops with
#    an immediate shutdown: after the restart the snapshots are complete,
#    the TRUNCATE's and DROP SCHEMA's holding the tables' old storage (an
#    enum dropped along kept as its labels' OIDs); with wal_level minimal (new storage is not
#    WAL-logged, only synced at commit) and replica (it is WAL-logged);
# d) during migsafe.restore() of the TRUNCATE's snapshot: the snapshot is
#    still kept and the table still empty, and a second restore works.
#
# "The copy has begun" is seen from outside: the backend holds a lock on a
# relation that no other session can see in pg_class yet (the table
# CREATE TABLE AS is filling).  Delays into a statement are fractions of
# its duration measured in a rehearsal that rolls back, not fixed times.
#
# Why TAP: killing a backend, the postmaster's crash restart and an
# immediate shutdown; pg_regress and the isolation tester cannot.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use IPC::Run;

# a psql killed with its server must not take the test with it
$SIG{PIPE} = 'IGNORE';

# rows of the big table, whose copy takes a second or so
my $BIG_ROWS = 600_000;

my $node = PostgreSQL::Test::Cluster->new('snapcrash');
$node->init;
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'migsafe'
restart_after_crash = on
log_statement = none
});
$node->start;

#
# Helpers
#

# One query on database postgres, dying on error
sub query
{
	my ($sql) = @_;

	return $node->safe_psql('postgres', $sql);
}

# A query giving the number of rows of $rel and an md5 over them in key
# order: "<rows> <md5>"
sub fingerprint
{
	my ($rel) = @_;

	return
	  "SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY id)), '-') FROM $rel t";
}

# Start psql in the background (script from stdin, stop on the first
# error); returns a session with its backend's pid
sub start_session
{
	my %s = (in => '', out => '', err => '');

	$s{timer} = IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default);
	$s{h} = IPC::Run::start(
		[
			'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1',
			'-d', $node->connstr('postgres'),
			'-f', '-'
		],
		'<', \$s{in},
		'>', \$s{out},
		'2>', \$s{err},
		$s{timer});
	$s{in} .= "SELECT pg_backend_pid();\n";
	pump_until($s{h}, $s{timer}, \$s{out}, qr/^\d+\n/m)
	  or die "no backend pid: $s{err}";
	($s{pid}) = $s{out} =~ /^(\d+)$/m;
	$s{out} = '';
	return \%s;
}

# Send $sql to session $s without waiting for it
sub send_sql
{
	my ($s, $sql) = @_;

	$s->{in} .= $sql;
	$s->{h}->pump_nb;
	return;
}

# Wait for session $s to print $re (dies on timeout)
sub wait_output
{
	my ($s, $re) = @_;

	pump_until($s->{h}, $s->{timer}, \$s->{out}, $re)
	  or die "session output did not match $re: $s->{out} $s->{err}";
	return;
}

# Wait for a session's psql to end after its server process died
sub finish_killed
{
	my ($s) = @_;

	eval { $s->{h}->finish; };
	return $s->{err};
}

# Poll $sql through watcher $w until it returns true; returns the time
# it did, or undef after $secs seconds
sub poll_until
{
	my ($w, $sql, $secs) = @_;
	my $start = time();

	for (;;)
	{
		my $got = $w->query_safe($sql);

		return time() if $got eq 't';
		return undef if time() - $start > $secs;
		usleep(5_000);
	}
}

# Whether backend $pid runs a statement starting with $prefix
sub active_sql
{
	my ($pid, $prefix) = @_;

	return qq{SELECT EXISTS (SELECT FROM pg_stat_activity
		 WHERE pid = $pid AND state = 'active' AND query LIKE '$prefix%')};
}

# Whether backend $pid holds a lock on a relation this session cannot see:
# one it created and has not committed, such as a snapshot's copy
sub copying_sql
{
	my ($pid) = @_;

	return qq{SELECT EXISTS (SELECT FROM pg_locks l
		 WHERE l.pid = $pid AND l.locktype = 'relation' AND l.granted
		   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		   AND NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = l.relation))};
}

# kill -9 the backend of $s, wait for the crash restart; returns the
# stderr of the killed psql
sub kill_and_recover
{
	my ($s, @others) = @_;
	my $offset = -s $node->logfile;

	kill 'KILL', $s->{pid};
	$node->wait_for_log(
		qr/server process \(PID $s->{pid}\) was terminated by signal 9/,
		$offset);
	# from the same offset: the lines may all be there at the first look
	$node->wait_for_log(qr/all server processes terminated; reinitializing/,
		$offset);
	$node->wait_for_log(qr/database system is ready to accept connections/,
		$offset);
	$node->poll_query_until('postgres', 'SELECT true')
	  or die 'no connection after the crash restart';
	foreach my $o (@others)
	{
		eval { $o->quit; };
	}
	return finish_killed($s);
}

# Snapshot storage schemas that no kept snapshot owns
my $stray_schemas = q{
SELECT count(*) FROM pg_namespace n
 WHERE n.nspname LIKE 'migsafe\_snapshot\_%'
   AND NOT EXISTS (SELECT FROM migsafe.snapshots s
					WHERE s.status = 'kept'
					  AND n.nspname = 'migsafe_snapshot_' || s.id)};

# A query counting the kept snapshots of public.$table
sub kept_of
{
	my ($table) = @_;

	return
	  "SELECT count(*) FROM migsafe.snapshots WHERE object_identity = 'public.$table' AND status = 'kept'";
}

# The state after a crash: 'intact' or 'complete' (checked in full),
# else a description of what is wrong
sub outcome
{
	my ($table, $op, $before) = @_;
	my $exists = query("SELECT to_regclass('public.$table') IS NOT NULL");
	my $kept = query(kept_of($table));
	my ($n) = split / /, $before;

	is(query($stray_schemas), '0',
		"$table: no migsafe_snapshot_* schema without its kept snapshot");
	if ($kept eq '0')
	{
		return "no snapshot, and the table is gone" if $exists ne 't';
		my $now = query(fingerprint($table));
		return $now eq $before ? 'intact' : "no snapshot, and the table changed: $now";
	}
	return "$kept snapshots kept" if $kept ne '1';

	# complete: the change is done, the snapshot holds every row
	my ($id, $rows, $storage) = split /\|/, query(
		"SELECT id, row_count, storage FROM migsafe.snapshots
		  WHERE object_identity = 'public.$table' AND status = 'kept'");
	if ($op eq 'drop')
	{
		return 'snapshot kept, but the table still exists' if $exists eq 't';
	}
	else
	{
		my $left = query("SELECT count(*) FROM $table");
		return "snapshot kept, but the table still has $left rows"
		  if $left ne '0';
	}
	return "snapshot row_count $rows, not $n" if $rows ne $n;
	my $kept_rows = query(fingerprint($storage));
	return "snapshot storage $storage differs: $kept_rows"
	  if $kept_rows ne $before;
	my $restored = query("SELECT migsafe.restore($id)");
	return "restore put back $restored rows, not $n" if $restored ne $n;
	my $now = query(fingerprint($table));
	return "restored table differs: $now" if $now ne $before;
	return 'complete';
}

#
# Setup
#
query('CREATE EXTENSION migsafe');
query(qq{
CREATE TABLE big (id int PRIMARY KEY, v text, n numeric, at timestamptz);
INSERT INTO big
SELECT g, md5(g::text), g * 1.5, timestamptz '2026-01-01' + g * interval '1 s'
  FROM generate_series(1, $BIG_ROWS) g;
CREATE VIEW big_v AS SELECT id FROM big;
-- the same rows with a BEFORE TRUNCATE trigger: its snapshot is a copy
-- (the trigger must see the rows)
CREATE TABLE bigc (id int PRIMARY KEY, v text, n numeric, at timestamptz);
INSERT INTO bigc SELECT * FROM big;
CREATE FUNCTION bigc_noop() RETURNS trigger LANGUAGE plpgsql AS
\$\$ BEGIN RETURN NULL; END \$\$;
CREATE TRIGGER bigc_before_truncate BEFORE TRUNCATE ON bigc
	FOR EACH STATEMENT EXECUTE FUNCTION bigc_noop();
-- dropped with its schema: its storage is kept
CREATE SCHEMA gone;
CREATE TABLE gone.t (id int PRIMARY KEY, v text);
INSERT INTO gone.t SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
-- its enum goes with it: the kept column becomes the labels' OIDs
CREATE TYPE gone.gmood AS ENUM ('ok', 'sad', 'glad');
CREATE TABLE gone.e (id int PRIMARY KEY, m gone.gmood);
INSERT INTO gone.e
SELECT g, (ARRAY['ok', 'sad', 'glad'])[g % 3 + 1]::gone.gmood
  FROM generate_series(1, 20000) g;
CREATE TABLE parent (id int PRIMARY KEY);
INSERT INTO parent SELECT generate_series(1, 100);
CREATE TABLE mv (id int PRIMARY KEY, v text, p int REFERENCES parent);
INSERT INTO mv SELECT g, repeat('x', g % 50), g % 100 + 1
  FROM generate_series(1, 50000) g;
VACUUM ANALYZE;
});
my $big = query(fingerprint('big'));
my $bigc = query(fingerprint('bigc'));
my $gone = query(fingerprint('gone.t'));
my $gone_e = query(fingerprint('gone.e'));
my $mv = query(fingerprint('mv'));
is((split / /, $big)[0], $BIG_ROWS, "big holds $BIG_ROWS rows");

my ($res, $s, $w, $err, $t0, $t1);

#
# a) kill -9 during a copying snapshot
#

# The rehearsal: how long the copy of TRUNCATE bigc takes, from
# the moment it has begun to the end of the statement (rolled back)
$w = $node->background_psql('postgres');
$s = start_session();
send_sql($s,
	"BEGIN;\nSET LOCAL migsafe.approve = 'public.bigc';\nTRUNCATE bigc;\n\\echo done\nROLLBACK;\n"
);
$t0 = poll_until($w, copying_sql($s->{pid}), 60);
ok(defined $t0, 'rehearsal: the copy of TRUNCATE bigc is seen to begin');
wait_output($s, qr/^done$/m);
$t1 = time();
$s->{in} .= "\\q\n";
$s->{h}->finish;
my $copy_secs = $t1 - ($t0 // $t1);
note(sprintf('rehearsal: the copy and the rest of the TRUNCATE took %.2f s',
		$copy_secs));
like($s->{err}, qr/migsafe kept snapshot \d+ of table "public.bigc"/,
	'rehearsal: the TRUNCATE kept a snapshot');
is(query(fingerprint('bigc')), $bigc, 'rehearsal: rolled back, bigc is intact');

# while the TRUNCATE waits for its lock: a second session reads bigc
my $blocker = $node->background_psql('postgres');
$blocker->query_safe('BEGIN; LOCK TABLE bigc IN ACCESS SHARE MODE');
$s = start_session();
send_sql($s,
	"BEGIN;\nSET LOCAL migsafe.approve = 'public.bigc';\nTRUNCATE bigc;\nCOMMIT;\n"
);
ok( defined poll_until(
		$w, qq{SELECT EXISTS (SELECT FROM pg_stat_activity
		 WHERE pid = $s->{pid} AND wait_event_type = 'Lock')}, 60),
	'TRUNCATE waiting for its lock');
$err = kill_and_recover($s, $w, $blocker);
like($err, qr/server closed the connection unexpectedly|connection to server was lost/,
	'killed while waiting for the lock: psql lost its connection');
is(outcome('bigc', 'truncate', $bigc), 'intact',
	'killed while the TRUNCATE waits for its lock: bigc is intact');

# as soon as the copy has begun, and halfway through it
foreach my $case ([ 'as soon as the copy has begun', 0 ],
	[ 'halfway through the copy', 0.5 ])
{
	my ($when, $frac) = @$case;

	$w = $node->background_psql('postgres');
	$s = start_session();
	send_sql($s,
		"BEGIN;\nSET LOCAL migsafe.approve = 'public.bigc';\nTRUNCATE bigc;\nCOMMIT;\n"
	);
	$t0 = poll_until($w, copying_sql($s->{pid}), 60);
	ok(defined $t0, "$when: the copy has begun");
	usleep(1_000_000 * $frac * $copy_secs) if $frac > 0;
	my $still = $w->query_safe(active_sql($s->{pid}, 'TRUNCATE bigc'));
	note("$when: the TRUNCATE still running when killed: $still");
	kill_and_recover($s, $w);
	is(outcome('bigc', 'truncate', $bigc), 'intact',
		"killed $when (TRUNCATE, before COMMIT): bigc is intact");
}

# after the statement, before COMMIT
$w = $node->background_psql('postgres');
$s = start_session();
send_sql($s,
	"BEGIN;\nSET LOCAL migsafe.approve = 'public.bigc';\nTRUNCATE bigc;\nSELECT pg_sleep(600);\nCOMMIT;\n"
);
ok(defined poll_until($w, active_sql($s->{pid}, 'SELECT pg_sleep'), 60),
	'TRUNCATE done, COMMIT not yet');
kill_and_recover($s, $w);
is(outcome('bigc', 'truncate', $bigc), 'intact',
	'killed after TRUNCATE, before COMMIT: bigc is intact');

# in autocommit, near the end of the statement: either state
$w = $node->background_psql('postgres');
$s = start_session();
send_sql($s,
	"SET migsafe.approve = 'public.bigc';\nTRUNCATE bigc;\n");
$t0 = poll_until($w, copying_sql($s->{pid}), 60);
ok(defined $t0, 'autocommit: the copy has begun');
usleep(1_000_000 * 0.95 * $copy_secs);
kill_and_recover($s, $w);
$res = outcome('bigc', 'truncate', $bigc);
like($res, qr/^(intact|complete)$/,
	'killed near the end of an autocommit TRUNCATE: intact or complete');
note("autocommit TRUNCATE killed near its end: $res");

# an approved TRUNCATE, which keeps big's storage as its snapshot (nothing
# is copied): while it waits for its lock, and once big's storage belongs
# to the snapshot and the TRUNCATE is done, before COMMIT
$w = $node->background_psql('postgres');
$blocker = $node->background_psql('postgres');
$blocker->query_safe('BEGIN; LOCK TABLE big IN ACCESS SHARE MODE');
$s = start_session();
send_sql($s,
	"BEGIN;\nSET LOCAL migsafe.approve = 'public.big';\nTRUNCATE big;\nCOMMIT;\n");
ok( defined poll_until(
		$w, qq{SELECT EXISTS (SELECT FROM pg_stat_activity
		 WHERE pid = $s->{pid} AND wait_event_type = 'Lock')}, 60),
	'TRUNCATE waiting for its lock');
kill_and_recover($s, $w, $blocker);
is(outcome('big', 'truncate', $big), 'intact',
	'killed while the TRUNCATE waits for its lock: big is intact');

$w = $node->background_psql('postgres');
$s = start_session();
send_sql($s,
	"BEGIN;\nSET LOCAL migsafe.approve = 'public.big';\nTRUNCATE big;\nSELECT pg_sleep(600);\nCOMMIT;\n"
);
ok(defined poll_until($w, active_sql($s->{pid}, 'SELECT pg_sleep'), 60),
	'TRUNCATE done (storage kept), COMMIT not yet');
kill_and_recover($s, $w);
is(outcome('big', 'truncate', $big), 'intact',
	'killed after the TRUNCATE kept its storage, before COMMIT: big is intact');
is(query("SELECT count(*) FROM pg_class WHERE relname LIKE 'pg\\_temp\\_%'"),
	'0', 'killed before COMMIT: no transient table left in the catalog');

# an approved DROP ... CASCADE of big, which keeps big's storage too (the
# cascade drops big empty): killed once the DROP is done, before COMMIT
$w = $node->background_psql('postgres');
$s = start_session();
send_sql($s,
	"BEGIN;\nSET LOCAL migsafe.approve = 'public.big';\nDROP TABLE big CASCADE;\nSELECT pg_sleep(600);\nCOMMIT;\n"
);
ok(defined poll_until($w, active_sql($s->{pid}, 'SELECT pg_sleep'), 60),
	'DROP CASCADE done (storage kept), COMMIT not yet');
kill_and_recover($s, $w);
is(outcome('big', 'drop', $big), 'intact',
	'killed after DROP CASCADE kept big\'s storage, before COMMIT: big is intact');
is(query("SELECT to_regclass('public.big_v') IS NOT NULL"),
	't', 'killed before COMMIT: the view on big is still there');

# a table with columns of an enum, a domain and an array of the enum keeps
# its storage with those types; a DROP TYPE then converts the kept columns
# first: killed after the conversion, before COMMIT, the snapshot still has
# its columns of the types, which are still there
query(q{
CREATE TYPE tmood AS ENUM ('ok', 'sad', 'glad');
CREATE DOMAIN tcents AS bigint CHECK (VALUE >= 0);
CREATE TABLE typed (id int PRIMARY KEY, m tmood, ms tmood[], c tcents);
INSERT INTO typed
SELECT g, (ARRAY['ok', 'sad', 'glad'])[g % 3 + 1]::tmood,
       ARRAY['ok', 'glad']::tmood[], g
  FROM generate_series(1, 20000) g;
});
my $typed = query(fingerprint('typed'));
my $typed_filenode = query("SELECT pg_relation_filenode('typed')");
query("BEGIN; SET LOCAL migsafe.approve = 'public.typed'; TRUNCATE typed; COMMIT;");
my ($yid, $ystorage) = split /\|/, query(
	"SELECT id, storage FROM migsafe.snapshots
	  WHERE object_identity = 'public.typed' AND status = 'kept'");
my $kept_types = "SELECT string_agg(format_type(atttypid, atttypmod), ' ' ORDER BY attnum)
  FROM pg_attribute WHERE attrelid = '$ystorage'::regclass AND attnum > 0";
is( query("SELECT pg_relation_filenode('$ystorage') = $typed_filenode") . ' '
	  . query($kept_types),
	't integer tmood tmood[] tcents',
	'TRUNCATE of a table of user types: its own storage kept, with its types');
$w = $node->background_psql('postgres');
$s = start_session();
send_sql($s,
	"BEGIN;\nDROP TABLE typed;\nDROP TYPE tmood;\nDROP DOMAIN tcents;\nSELECT pg_sleep(600);\nCOMMIT;\n"
);
ok(defined poll_until($w, active_sql($s->{pid}, 'SELECT pg_sleep'), 60),
	'DROP TYPE done (kept columns converted), COMMIT not yet');
kill_and_recover($s, $w);
is(query($kept_types), 'integer tmood tmood[] tcents',
	'killed after DROP TYPE converted the kept columns, before COMMIT: they keep their types');
is(query("SELECT to_regtype('tmood') IS NOT NULL AND to_regclass('typed') IS NOT NULL"),
	't', 'killed before COMMIT: the types and the table are still there');
is(query(fingerprint($ystorage)), $typed,
	'killed before COMMIT: the kept storage holds every row');
query("DROP TABLE typed; DROP TYPE tmood; DROP DOMAIN tcents;");
is(query($kept_types), 'integer text text bigint',
	'after DROP TYPE and DROP DOMAIN: the kept columns are text and bigint');
is(query(fingerprint($ystorage)), $typed,
	'the converted kept storage holds the same rows');
query(q{
CREATE TYPE tmood AS ENUM ('ok', 'sad', 'glad');
CREATE DOMAIN tcents AS bigint CHECK (VALUE >= 0);
CREATE TABLE typed (id int PRIMARY KEY, m tmood, ms tmood[], c tcents);
});
is(query("SELECT migsafe.restore($yid)"), '20000',
	'restore of the converted snapshot');
is(query(fingerprint('typed')), $typed, 'restored typed is identical');

# a table with a column of a composite type keeps its storage with that
# type; an ALTER TYPE then converts the kept column to text first: killed
# after the conversion, before COMMIT, the kept column still has its type
query(q{
CREATE TYPE tpair AS (x int, y text);
CREATE TABLE comp (id int PRIMARY KEY, p tpair);
INSERT INTO comp SELECT g, ROW(g, md5(g::text))::tpair FROM generate_series(1, 20000) g;
});
my $comp = query(fingerprint('comp'));
my $comp_filenode = query("SELECT pg_relation_filenode('comp')");
query("BEGIN; SET LOCAL migsafe.approve = 'public.comp'; TRUNCATE comp; COMMIT;");
my ($cid, $cstorage) = split /\|/, query(
	"SELECT id, storage FROM migsafe.snapshots
	  WHERE object_identity = 'public.comp' AND status = 'kept'");
my $kept_comp = "SELECT format_type(atttypid, atttypmod)
  FROM pg_attribute WHERE attrelid = '$cstorage'::regclass AND attname = 'p'";
is( query("SELECT pg_relation_filenode('$cstorage') = $comp_filenode") . ' '
	  . query($kept_comp),
	't tpair',
	'TRUNCATE of a table of a composite type: its own storage kept, with its type');
$w = $node->background_psql('postgres');
$s = start_session();
send_sql($s,
	"BEGIN;\nALTER TABLE comp DROP COLUMN p;\nALTER TYPE tpair DROP ATTRIBUTE y;\nSELECT pg_sleep(600);\nCOMMIT;\n"
);
ok(defined poll_until($w, active_sql($s->{pid}, 'SELECT pg_sleep'), 60),
	'ALTER TYPE done (kept column converted), COMMIT not yet');
kill_and_recover($s, $w);
is(query($kept_comp), 'tpair',
	'killed after ALTER TYPE converted the kept column, before COMMIT: it keeps its type');
is(query(fingerprint($cstorage)), $comp,
	'killed before COMMIT: the kept storage holds every row');
query("ALTER TABLE comp DROP COLUMN p; ALTER TYPE tpair DROP ATTRIBUTE y;");
is(query($kept_comp), 'text',
	'after ALTER TYPE ... DROP ATTRIBUTE: the kept column is text');
is(query(fingerprint($cstorage)), $comp,
	'the converted kept storage holds the same values, the attribute too');
query("ALTER TYPE tpair ADD ATTRIBUTE y text; ALTER TABLE comp ADD COLUMN p tpair;");
is(query("SELECT migsafe.restore($cid)"), '20000',
	'restore of the converted snapshot');
is(query(fingerprint('comp')), $comp, 'restored comp is identical');

#
# b) kill -9 during a plain DROP TABLE, which moves the table
#
$w = $node->background_psql('postgres');
$blocker = $node->background_psql('postgres');
$blocker->query_safe('BEGIN; LOCK TABLE mv IN ACCESS SHARE MODE');
$s = start_session();
send_sql($s,
	"BEGIN;\nSET LOCAL migsafe.approve = 'public.mv';\nDROP TABLE mv;\nCOMMIT;\n");
ok( defined poll_until(
		$w, qq{SELECT EXISTS (SELECT FROM pg_stat_activity
		 WHERE pid = $s->{pid} AND wait_event_type = 'Lock')}, 60),
	'plain DROP waiting for its lock');
kill_and_recover($s, $w, $blocker);
is(outcome('mv', 'drop', $mv), 'intact',
	'killed while the plain DROP waits for its lock: mv is intact');

$w = $node->background_psql('postgres');
$s = start_session();
send_sql($s,
	"BEGIN;\nSET LOCAL migsafe.approve = 'public.mv';\nDROP TABLE mv;\nSELECT pg_sleep(600);\nCOMMIT;\n"
);
ok(defined poll_until($w, active_sql($s->{pid}, 'SELECT pg_sleep'), 60),
	'plain DROP done (moved), COMMIT not yet');
kill_and_recover($s, $w);
is(outcome('mv', 'drop', $mv), 'intact',
	'killed after the move, before COMMIT: mv is intact');
is( query(
		"SELECT count(*) FROM pg_constraint WHERE conrelid = 'mv'::regclass AND contype = 'f'"),
	'1',
	'killed after the move, before COMMIT: its foreign key is still there');

#
# c) immediate shutdown right after COMMIT; d) kill -9 during restore
#
foreach my $wal_level ('minimal', 'replica')
{
	if ($wal_level ne 'minimal')
	{
		$node->append_conf('postgresql.conf', "wal_level = $wal_level");
		$node->restart;
	}
	is(query('SHOW wal_level'), $wal_level, "wal_level $wal_level");

	my $big_filenode = query("SELECT pg_relation_filenode('big')");
	my $gone_filenode = query("SELECT pg_relation_filenode('gone.t')");
	my $gone_e_filenode = query("SELECT pg_relation_filenode('gone.e')");
	query(q{
BEGIN;
SET LOCAL migsafe.approve = 'public.big, public.mv, gone.*';
TRUNCATE big;
DROP TABLE mv;
DROP SCHEMA gone CASCADE;
COMMIT;
});
	$node->stop('immediate');
	$node->start;

	my ($tid, $tmethod, $tstorage) = split /\|/, query(
		"SELECT id, method, storage FROM migsafe.snapshots
		  WHERE object_identity = 'public.big' AND status = 'kept'");
	my ($mid, $mmethod, $mrows, $mstorage) = split /\|/, query(
		"SELECT id, method, row_count, storage FROM migsafe.snapshots
		  WHERE object_identity = 'public.mv' AND status = 'kept'");
	# a kept storage's row count is an estimate above 8 MB, as a moved
	# table's: the fingerprint below counts the rows
	is($tmethod, 'moved',
		"$wal_level, after COMMIT and a crash: TRUNCATE's snapshot kept, its storage moved"
	);
	is( query(
			"SELECT pg_relation_filenode('$tstorage') = $big_filenode
			    AND pg_relation_filenode('big') <> $big_filenode"),
		't',
		"$wal_level: the snapshot has big's old storage, big new storage");
	is("$mmethod $mrows", 'moved 50000',
		"$wal_level, after COMMIT and a crash: DROP's snapshot kept, moved, all rows counted"
	);
	is(query(fingerprint($tstorage)),
		$big, "$wal_level: the kept storage holds exactly big's rows");
	is(query(fingerprint($mstorage)),
		$mv, "$wal_level: the moved table holds exactly mv's rows");
	is(query("SELECT count(*) FROM big"), '0', "$wal_level: big is empty");
	is(query("SELECT to_regclass('public.mv') IS NULL"),
		't', "$wal_level: mv is gone");
	my ($gid, $gstorage) = split /\|/, query(
		"SELECT id, storage FROM migsafe.snapshots
		  WHERE object_identity = 'gone.t' AND status = 'kept'
		    AND method = 'moved' AND definition->>'kept_storage' = 'true'");
	is( query("SELECT pg_relation_filenode('$gstorage') = $gone_filenode"),
		't',
		"$wal_level, after COMMIT and a crash: DROP SCHEMA's snapshot has gone.t's storage"
	);
	is(query(fingerprint($gstorage)),
		$gone, "$wal_level: the kept storage holds exactly gone.t's rows");
	is(query("SELECT to_regnamespace('gone') IS NULL"),
		't', "$wal_level: schema gone is gone");
	my ($eid, $estorage) = split /\|/, query(
		"SELECT id, storage FROM migsafe.snapshots
		  WHERE object_identity = 'gone.e' AND status = 'kept'
		    AND method = 'moved' AND definition ? 'kept_enums'");
	is( query(
			"SELECT pg_relation_filenode('$estorage') = $gone_e_filenode
			    AND format_type(atttypid, atttypmod) = 'oid'
			   FROM pg_attribute WHERE attrelid = '$estorage'::regclass AND attname = 'm'"),
		't',
		"$wal_level, after COMMIT and a crash: gone.e's storage kept, its enum column as the labels' OIDs"
	);

	if ($wal_level eq 'minimal')
	{
		# d) kill -9 halfway through the restore; rehearse it first
		$s = start_session();
		$w = $node->background_psql('postgres');
		$t0 = time();
		send_sql($s,
			"BEGIN;\nSELECT migsafe.restore($tid);\n\\echo done\nROLLBACK;\n");
		wait_output($s, qr/^done$/m);
		my $restore_secs = time() - $t0;
		note(sprintf('rehearsal: the restore took %.2f s', $restore_secs));
		is(query(kept_of('big')), '1',
			'rehearsal of the restore: rolled back, the snapshot is kept');

		send_sql($s, "SELECT migsafe.restore($tid);\n");
		ok( defined poll_until(
				$w, active_sql($s->{pid}, 'SELECT migsafe.restore'), 60),
			'restore running');
		usleep(1_000_000 * 0.5 * $restore_secs);
		kill_and_recover($s, $w);
		is(query(kept_of('big')), '1',
			'killed during restore: the snapshot is still kept');
		is(query("SELECT count(*) FROM big"), '0',
			'killed during restore: big is still empty');
		is(query($stray_schemas), '0',
			'killed during restore: no stray snapshot schema');
		is(query(fingerprint($tstorage)),
			$big, 'killed during restore: the kept storage still holds every row');
	}

	is(query("SELECT migsafe.restore($tid)"),
		$BIG_ROWS, "$wal_level: restore of TRUNCATE's snapshot");
	# the rows inserted are counted, not estimated
	like( query(
			"SELECT detail FROM migsafe.audit_log
			  WHERE command_tag = 'RESTORE' AND object_identity = 'public.big'
			  ORDER BY id DESC LIMIT 1"),
		qr/^Snapshot $tid restored: $BIG_ROWS rows put back\./,
		"$wal_level: the RESTORE audit row counts the rows put back");
	is(query(fingerprint('big')), $big,
		"$wal_level: restored big is identical (md5 over the rows)");
	is(query("SELECT migsafe.restore('public.mv')"),
		'50000', "$wal_level: restore of the moved mv");
	is(query(fingerprint('mv')), $mv,
		"$wal_level: restored mv is identical (md5 over the rows)");
	is( query(
			"SELECT count(*) FILTER (WHERE contype = 'p') || ' ' || count(*) FILTER (WHERE contype = 'f')
			   FROM pg_constraint WHERE conrelid = 'mv'::regclass"),
		'1 1',
		"$wal_level: restored mv has its primary key and its foreign key back");
	query('CREATE SCHEMA gone');
	is(query("SELECT migsafe.restore($gid)"),
		'20000', "$wal_level: restore of gone.t from its kept storage");
	is(query(fingerprint('gone.t')), $gone,
		"$wal_level: restored gone.t is identical (md5 over the rows)");
	query("CREATE TYPE gone.gmood AS ENUM ('ok', 'sad', 'glad')");
	is(query("SELECT migsafe.restore($eid)"),
		'20000', "$wal_level: restore of gone.e, the labels written back");
	is(query(fingerprint('gone.e')), $gone_e,
		"$wal_level: restored gone.e is identical (md5 over the rows)");
	is(query("SELECT status FROM migsafe.snapshots WHERE id IN ($tid, $mid, $gid, $eid) ORDER BY id"),
		"restored\nrestored\nrestored\nrestored", "$wal_level: the snapshots are marked restored");
	is(query($stray_schemas), '0', "$wal_level: no snapshot schema left");
}

$node->stop;

done_testing();
