# Copyright (c) 2026, migsafe developers
#
# t/011_coexistence.pl
#	  The maintenance tools DBAs already run keep working with migsafe,
#	  and a retry loop cannot flood the audit log.
#
# With the real tools from Debian:
#
# - pg_repack (the program and its extension) repacks a table with rows,
#   indexes, a TOAST column and a session writing to it meanwhile, in
#   enforce mode and without any approval: every row is identical to a
#   shadow copy the writer kept in the same transactions, the table got
#   new storage, and the audit log has one row for the run.  A table with
#   a kept snapshot is repacked and the snapshot still restores (by key).
#   A table a user puts in pg_repack's schema, even under a scratch name,
#   is guarded like any other; pg_repack's functions called by hand cannot
#   pass a table off as a copy (a forged empty copy swapped in, an older
#   table renamed into a copy's name), and what runs inside them is
#   audited;
# - pg_partman's retention (run_maintenance() dropping old partitions) is
#   refused without approval, runs with SET LOCAL migsafe.approve naming
#   the partitioned table, keeping a snapshot of each partition dropped
#   (one is restored), or with migsafe.skip_snapshot waiving them;
# - a pg_cron job truncating a staging table runs with the approval in its
#   command (snapshot kept, reason audited); the same job without it fails
#   and is audited as blocked;
# - a client repeating a blocked DROP 3,000 times leaves one command row
#   and one object row, each with repeat_count = 3000, and the server log
#   says it repeats; 200 distinct attempts are still 200 rows, and so are
#   another role's and another application's; after the window (which
#   runs from the first attempt), or with the window off, a new row
#   starts;
# - pgaudit and pg_stat_statements preloaded with migsafe, in both orders
#   of shared_preload_libraries: pgaudit logs the DDL that ran (migsafe's
#   snapshot included) and not the refused attempt, pg_stat_statements
#   counts it, migsafe blocks, audits and keeps; pgaudit's own event
#   triggers (CREATE EXTENSION pgaudit) work beside migsafe's dry run.
#
# Why TAP: preloaded libraries in two orders (restarts), external programs
# (pg_repack), background workers (pg_cron, migsafe's audit writer), a
# concurrent writer session, and the server log.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('coexist');

# The tools come from Debian packages (scripts/install-deps.sh)
my $bindir = $node->config_data('--bindir');
my $sharedir = $node->config_data('--sharedir');
for my $ext ('pg_repack', 'pg_partman', 'pg_cron', 'pgaudit')
{
	plan skip_all => "$ext is not installed (scripts/install-deps.sh installs it)"
	  unless -f "$sharedir/extension/$ext.control";
}
plan skip_all => 'the pg_repack program is not installed'
  unless -x "$bindir/pg_repack";

$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'pg_cron, pgaudit, pg_stat_statements, migsafe'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 32
pgaudit.log = 'ddl'
});
$node->start;

# Poll until $sql returns $expected in $db, or fail the test named $name
sub wait_for
{
	my ($db, $sql, $expected, $name) = @_;
	ok($node->poll_query_until($db, $sql, $expected), $name);
}

#
# 1. pg_cron: jobs scheduled first; they run at the next minute, checked
# at the end of the file
#
$node->safe_psql(
	'postgres', q{
CREATE EXTENSION migsafe;
CREATE EXTENSION pg_cron;
CREATE TABLE staging (id int, v text);
INSERT INTO staging SELECT g, 'row ' || g FROM generate_series(1, 100) g;
CREATE TABLE staging_unapproved (LIKE staging);
INSERT INTO staging_unapproved SELECT * FROM staging;
SELECT cron.schedule('staging-reset', '* * * * *',
  $$SET LOCAL migsafe.approve = 'public.staging';
    SET LOCAL migsafe.reason = 'nightly staging reset';
    TRUNCATE staging$$);
SELECT cron.schedule('staging-reset-unapproved', '* * * * *',
  'TRUNCATE staging_unapproved');});

#
# 2. pg_repack
#
$node->safe_psql('postgres', 'CREATE DATABASE rp');
$node->safe_psql(
	'rp', q{
CREATE EXTENSION migsafe;
CREATE EXTENSION pg_repack;
CREATE TABLE big (id bigserial PRIMARY KEY, v text, doc text, n int);
CREATE INDEX big_v ON big (v);
CREATE INDEX big_n_even ON big (n) WHERE n % 2 = 0;
INSERT INTO big (v, doc, n)
  SELECT 'v' || g,
         (SELECT string_agg(md5(g::text || '/' || i::text), '')
            FROM generate_series(1, 150) i),
         g
    FROM generate_series(1, 6000) g;
DELETE FROM big WHERE id % 2 = 0;
CREATE TABLE big_shadow AS SELECT * FROM big;
CREATE TABLE writer_stop (stop bool);
INSERT INTO writer_stop VALUES (false);});
is( $node->safe_psql(
		'rp',
		"SELECT pg_relation_size(reltoastrelid) > 0 FROM pg_class WHERE oid = 'big'::regclass"
	),
	't',
	'pg_repack: the table has a TOAST table with data');

my $big_oid = $node->safe_psql('rp', "SELECT 'big'::regclass::oid");
my $filenode_before =
  $node->safe_psql('rp', "SELECT pg_relation_filenode('big')");
my $audit_before =
  $node->safe_psql('rp', 'SELECT COALESCE(max(id), 0) FROM migsafe.audit_log');

# A writer inserts and updates, in big and in its shadow in the same
# transactions, until told to stop
my $writer = $node->background_psql('rp', on_error_stop => 0);
$writer->query_until(
	qr/writing/, q{
\echo writing
DO $$
DECLARE
  i int := 0;
BEGIN
  LOOP
    i := i + 1;
    WITH n AS (INSERT INTO big (v, doc, n)
               VALUES ('w' || i, repeat(md5(i::text), 100), i) RETURNING *)
      INSERT INTO big_shadow SELECT * FROM n;
    UPDATE big SET v = v || '+' WHERE id = 2 * i + 1;
    UPDATE big_shadow SET v = v || '+' WHERE id = 2 * i + 1;
    COMMIT;
    EXIT WHEN (SELECT stop FROM writer_stop);
    PERFORM pg_sleep(0.005);
  END LOOP;
END
$$;
});
$node->poll_query_until('rp',
	"SELECT count(*) >= 20 FROM big_shadow WHERE v LIKE 'w%'");
my $written_before =
  $node->safe_psql('rp', "SELECT count(*) FROM big_shadow WHERE v LIKE 'w%'");

$node->command_ok(
	[
		'timeout', '300', 'pg_repack', '--host', $node->host,
		'--port', $node->port, '--dbname', 'rp', '--table', 'public.big',
		'--wait-timeout', '60'
	],
	'pg_repack: repacks a table with migsafe installed, enforce mode, no approval'
);

my $written_after =
  $node->safe_psql('rp', "SELECT count(*) FROM big_shadow WHERE v LIKE 'w%'");
$node->safe_psql('rp', 'UPDATE writer_stop SET stop = true');
$writer->quit;
cmp_ok($written_after, '>', $written_before,
	'pg_repack: the writer kept writing while it ran');

isnt($node->safe_psql('rp', "SELECT pg_relation_filenode('big')"),
	$filenode_before, 'pg_repack: the table has new storage');
is( $node->safe_psql(
		'rp', q{
SELECT (SELECT string_agg(md5(b::text), ',' ORDER BY id) FROM big b)
     = (SELECT string_agg(md5(s::text), ',' ORDER BY id) FROM big_shadow s),
       (SELECT count(*) FROM big) = (SELECT count(*) FROM big_shadow)}),
	't|t',
	'pg_repack: every row, TOAST values included, is identical to the shadow copy'
);
is( $node->safe_psql(
		'rp', q{
SET enable_seqscan = off;
SELECT count(*) FILTER (WHERE indisvalid),
       (SELECT count(*) FROM big WHERE v = 'v1')
         = (SELECT count(*) FROM big_shadow WHERE v = 'v1'),
       (SELECT count(*) FROM big WHERE n % 2 = 0 AND n = 6)
         = (SELECT count(*) FROM big_shadow WHERE n % 2 = 0 AND n = 6)
  FROM pg_index WHERE indrelid = 'big'::regclass}),
	'3|t|t',
	'pg_repack: the three indexes are valid and answer as the shadow copy does');

# One audit row for the run, none blocked: a refused attempt made
# afterwards marks the end of what the writer has queued
$node->psql('rp', 'DROP TABLE big');
wait_for('rp',
	"SELECT count(*) FROM migsafe.audit_log WHERE decision = 'blocked' AND statement = 'DROP TABLE big' AND scope = 'command'",
	'1', 'pg_repack: the marker attempt is audited');
is( $node->safe_psql(
		'rp',
		"SELECT string_agg(command_tag || ' ' || object_identity || ' ' || decision, '; ' ORDER BY id)
		   FROM migsafe.audit_log
		  WHERE id > $audit_before AND statement IS DISTINCT FROM 'DROP TABLE big'"
	),
	'pg_repack public.big allowed',
	'pg_repack: the run is one audit row, on the table it rebuilt');
like(
	$node->safe_psql(
		'rp',
		"SELECT detail FROM migsafe.audit_log WHERE command_tag = 'pg_repack'"),
	qr/^Rebuilt by pg_repack: its copy repack\.table_$big_oid/,
	'pg_repack: the audit row says what was dropped');

# A table with a kept snapshot is repacked, and the snapshot still
# restores its column by key
$node->safe_psql(
	'rp', q{
CREATE TABLE kept (id int PRIMARY KEY, a text, b int);
INSERT INTO kept SELECT g, 'a' || g, g * 3 FROM generate_series(1, 2000) g;
BEGIN;
SET LOCAL migsafe.approve = 'public.kept.b';
ALTER TABLE kept DROP COLUMN b;
COMMIT;
DELETE FROM kept WHERE id % 3 = 0;});
$node->command_ok(
	[
		'timeout', '300', 'pg_repack', '--host', $node->host,
		'--port', $node->port, '--dbname', 'rp', '--table', 'public.kept'
	],
	'pg_repack: repacks a table with a kept snapshot');
$node->safe_psql('rp', "SELECT migsafe.restore('public.kept.b')");
is( $node->safe_psql(
		'rp',
		'SELECT count(*), count(*) FILTER (WHERE b = id * 3) FROM kept'),
	'1334|1334',
	'pg_repack: the snapshot restores every value to its row after the repack');

# A user's tables in pg_repack's schema are guarded, scratch names too,
# outside a run of pg_repack's functions
my ($ret, $out, $err) = $node->psql(
	'rp', qq{
CREATE TABLE repack.table_$big_oid (LIKE big);
INSERT INTO repack.table_$big_oid SELECT * FROM big LIMIT 10;
CREATE TABLE repack.notes (note text);
INSERT INTO repack.notes VALUES ('mine');
DROP TABLE repack.table_$big_oid;});
like(
	$err,
	qr/DROP TABLE on table "repack\.table_$big_oid" requires migsafe approval/,
	'pg_repack: a table named like its copy, made by hand, is guarded');
($ret, $out, $err) = $node->psql('rp', 'DROP TABLE repack.notes');
like($err, qr/DROP TABLE on table "repack\.notes" requires migsafe approval/,
	'pg_repack: a user table in its schema is guarded');

# pg_repack's functions called by hand cannot pass a table off as a copy:
# a forged empty copy swapped in, then "cleaned up"
$node->safe_psql(
	'rp', q{
CREATE TABLE victim (id int PRIMARY KEY, v text);
INSERT INTO victim SELECT g, 'v' || g FROM generate_series(1, 100) g;
CREATE TABLE victim2 (id int, v text);
INSERT INTO victim2 SELECT g, 'w' || g FROM generate_series(1, 50) g;
CREATE TABLE decoy (LIKE victim2);});
my $victim_oid = $node->safe_psql('rp', "SELECT 'victim'::regclass::oid");
my $victim_idx = $node->safe_psql('rp',
	"SELECT indexrelid FROM pg_index WHERE indrelid = 'victim'::regclass");
my $decoy_oid = $node->safe_psql('rp', "SELECT 'decoy'::regclass::oid");
($ret, $out, $err) = $node->psql(
	'rp', qq{
CREATE TABLE repack.table_$victim_oid (LIKE victim);
CREATE UNIQUE INDEX index_$victim_idx ON repack.table_$victim_oid (id);
BEGIN;
-- pg_repack 1.5 swaps and drops only under the locks its program takes
LOCK TABLE victim, repack.table_$victim_oid IN ACCESS EXCLUSIVE MODE;
SELECT repack.repack_swap('victim'::regclass);
SELECT repack.repack_drop('victim'::regclass, 4);
COMMIT;});
like(
	$err,
	qr/DROP TABLE on table "repack\.table_$victim_oid" requires migsafe approval/,
	'pg_repack by hand: a copy whose table the swap left empty is guarded');
is($node->safe_psql('rp', 'SELECT count(*) FROM victim'),
	'100', 'pg_repack by hand: the table kept its rows');

# an older table renamed into a copy's name is no copy, and the rename is
# audited
($ret, $out, $err) = $node->psql(
	'rp', qq{
ALTER TABLE victim2 SET SCHEMA repack;
ALTER TABLE repack.victim2 RENAME TO table_$decoy_oid;
BEGIN;
LOCK TABLE decoy, repack.table_$decoy_oid IN ACCESS EXCLUSIVE MODE;
SELECT repack.repack_drop($decoy_oid, 4);
COMMIT;});
like(
	$err,
	qr/DROP TABLE on table "repack\.table_$decoy_oid" requires migsafe approval/,
	'pg_repack by hand: a table renamed into a copy\'s name is guarded');
is( $node->safe_psql(
		'rp',
		"SELECT count(*) FROM migsafe.audit_log WHERE command_tag = 'ALTER TABLE' AND object_identity IN ('repack.victim2', 'repack.table_$decoy_oid')"
	),
	'2',
	'pg_repack by hand: the move and the rename are audited');

# what a function runs inside a pg_repack function is audited as always
$node->safe_psql(
	'rp', q{
CREATE FUNCTION inside_repack(int) RETURNS SETOF victim LANGUAGE plpgsql
  AS $$ BEGIN CREATE TABLE made_inside (x int); RETURN; END $$;
SELECT repack.repack_apply('SELECT * FROM public.inside_repack($1)',
                           'x', 'x', 'x', 'x', 1);});
is( $node->safe_psql(
		'rp',
		"SELECT count(*) FROM migsafe.audit_log WHERE command_tag = 'CREATE TABLE' AND object_identity = 'public.made_inside'"
	),
	'1',
	'pg_repack by hand: a statement run inside its function is audited');

#
# 3. A retry loop: one counted row per distinct blocked attempt
#
$node->safe_psql('postgres', 'CREATE DATABASE rep');
$node->safe_psql(
	'rep', q{
CREATE EXTENSION migsafe;
CREATE TABLE victim (id int);
INSERT INTO victim SELECT generate_series(1, 10);
CREATE ROLE other_app LOGIN;
GRANT ALL ON SCHEMA public TO other_app;
ALTER TABLE victim OWNER TO other_app;});
my $log_offset = -s $node->logfile;
$node->psql('rep', "DROP TABLE victim;\n" x 3000, on_error_stop => 0);
wait_for('rep',
	"SELECT COALESCE(sum(repeat_count), 0) FROM migsafe.audit_log WHERE statement = 'DROP TABLE victim' AND scope = 'command'",
	'3000', 'repeat: 3,000 blocked attempts are counted');
is( $node->safe_psql(
		'rep',
		"SELECT scope, count(*), sum(repeat_count), bool_and(last_ts > ts)
		   FROM migsafe.audit_log WHERE statement = 'DROP TABLE victim'
		  GROUP BY scope ORDER BY scope"),
	"command|1|3000|t\nobject|1|3000|t",
	'repeat: one command row and one object row, each counted 3000 times, first and last times kept'
);
like(
	slurp_file($node->logfile, $log_offset),
	qr/LOG:  migsafe audit row repeats: the same blocked attempt was made 1000 times/,
	'repeat: the server log says the attempt repeats');

# distinct attempts are rows of their own: other statements, another role
$node->psql('rep',
	join('', map { "DROP TABLE victim /* attempt $_ */;\n" } 1 .. 200),
	on_error_stop => 0);
$node->psql('rep', "DROP TABLE victim;", on_error_stop => 0,
	extra_params => [ '-U', 'other_app' ]);
wait_for('rep',
	"SELECT count(*) FROM migsafe.audit_log WHERE statement = 'DROP TABLE victim' AND session_role = 'other_app' AND scope = 'command'",
	'1', 'repeat: another role\'s attempt is a row of its own');
is( $node->safe_psql(
		'rep',
		"SELECT count(*), sum(repeat_count) FROM migsafe.audit_log
		  WHERE statement LIKE 'DROP TABLE victim /* attempt %' AND scope = 'command'"),
	'200|200',
	'repeat: 200 distinct attempts are 200 rows');

# with the window off, each attempt is a row
$node->append_conf('postgresql.conf', 'migsafe.audit_repeat_window = 0');
$node->reload;
$node->poll_query_until('rep', 'SHOW migsafe.audit_repeat_window', '0');
$node->psql('rep', "DROP TABLE victim /* off */;\n" x 5, on_error_stop => 0);
wait_for('rep',
	"SELECT count(*) FROM migsafe.audit_log WHERE statement = 'DROP TABLE victim /* off */' AND scope = 'command'",
	'5', 'repeat: with the window off, 5 attempts are 5 rows');

# after a 1 s window, the same attempt starts a new row
$node->append_conf('postgresql.conf', "migsafe.audit_repeat_window = '1s'");
$node->reload;
$node->poll_query_until('rep', 'SHOW migsafe.audit_repeat_window', '1s');
$node->psql('rep', "DROP TABLE victim /* window */;\n" x 3, on_error_stop => 0);
wait_for('rep',
	"SELECT COALESCE(sum(repeat_count), 0) FROM migsafe.audit_log WHERE statement = 'DROP TABLE victim /* window */' AND scope = 'command'",
	'3', 'repeat: three attempts within the window are counted');
$node->safe_psql('rep', 'SELECT pg_sleep(1.5)');
$node->psql('rep', "DROP TABLE victim /* window */;", on_error_stop => 0);
wait_for('rep',
	"SELECT count(*) FROM migsafe.audit_log WHERE statement = 'DROP TABLE victim /* window */' AND scope = 'command'",
	'2', 'repeat: after the window the same attempt starts a new row');

# the window runs from the first attempt: a loop retrying more often than
# the window still gets a new row once the window is over
$node->append_conf('postgresql.conf', "migsafe.audit_repeat_window = '2s'");
$node->reload;
$node->poll_query_until('rep', 'SHOW migsafe.audit_repeat_window', '2s');
$node->psql('rep',
	join("SELECT pg_sleep(1.2);\n",
		("DROP TABLE victim /* loop */;\n") x 3),
	on_error_stop => 0);
wait_for('rep',
	"SELECT COALESCE(sum(repeat_count), 0) FROM migsafe.audit_log WHERE statement = 'DROP TABLE victim /* loop */' AND scope = 'command'",
	'3', 'repeat: a slow loop\'s three attempts are counted');
cmp_ok(
	$node->safe_psql('rep',
		"SELECT count(*) FROM migsafe.audit_log WHERE statement = 'DROP TABLE victim /* loop */' AND scope = 'command'"),
	'>=', 2,
	'repeat: the window runs from the first attempt, not the last');

# the same statement from another application is an attempt of its own
$node->psql('rep',
	"SET application_name = 'other_tool';\nDROP TABLE victim /* loop */;",
	on_error_stop => 0);
wait_for('rep',
	"SELECT count(*) FROM migsafe.audit_log WHERE statement = 'DROP TABLE victim /* loop */' AND scope = 'command' AND application_name = 'other_tool'",
	'1', 'repeat: another application\'s attempt is a row of its own');
is($node->safe_psql('rep', 'SELECT count(*) FROM victim'),
	'10', 'repeat: the table kept its rows');

#
# 4. pg_partman retention
#
$node->safe_psql('postgres', 'CREATE DATABASE pm');
$node->safe_psql(
	'pm', q{
CREATE EXTENSION migsafe;
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;});
# pg_partman 5 (Debian trixie's, with PostgreSQL 17) dropped the partition
# type 'native' (now the only one) and takes the interval as an interval;
# 4 (bookworm's) wants the type and 'daily'.  The same daily partitions
# either way.
my $partman_major = $node->safe_psql('pm',
	"SELECT split_part(extversion, '.', 1) FROM pg_extension WHERE extname = 'pg_partman'"
);
my $partman_interval =
  $partman_major >= 5 ? q{'1 day'} : q{'native', 'daily'};
# 24 rows in each of the 8 days before today, from the first partition's
# start: rows counted back from now() left that partition empty after
# 23:00, and an empty partition is dropped without a snapshot.
$node->safe_psql(
	'pm', qq{
CREATE TABLE events (id bigserial, created_at timestamptz NOT NULL, v text)
  PARTITION BY RANGE (created_at);
SELECT partman.create_parent('public.events', 'created_at', $partman_interval,
  p_premake := 2, p_start_partition := (now() - interval '8 days')::date::text);
INSERT INTO events (created_at, v)
  SELECT (now() - interval '8 days')::date + make_interval(hours => g), 'v' || g
    FROM generate_series(0, 8 * 24 - 1) g;
UPDATE partman.part_config SET retention = '5 days', retention_keep_table = false
 WHERE parent_table = 'public.events';});
my $partitions_sql =
  "SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass";
my $rows_sql = 'SELECT count(*) FROM events';
my ($partitions, $rows) = (
	$node->safe_psql('pm', $partitions_sql),
	$node->safe_psql('pm', $rows_sql));

($ret, $out, $err) =
  $node->psql('pm', "SELECT partman.run_maintenance('public.events')");
# (pg_partman 4 names a day's partition events_p2026_01_31, 5 events_p20260131)
like($err, qr/DROP TABLE on table "public\.events_p\d{4}_?\d{2}_?\d{2}" requires migsafe approval/,
	'pg_partman: retention without approval is refused');
is($node->safe_psql('pm', $partitions_sql) . '|' . $node->safe_psql('pm', $rows_sql),
	"$partitions|$rows", 'pg_partman: nothing was dropped');

$node->safe_psql(
	'pm', q{
BEGIN;
SET LOCAL migsafe.approve = 'public.events';
SET LOCAL migsafe.reason = 'partman retention';
SELECT partman.run_maintenance('public.events');
COMMIT;});
my $dropped = $node->safe_psql(
	'pm',
	"SELECT count(*), sum(row_count) FROM migsafe.snapshots WHERE operation = 'drop' AND relation_name LIKE 'events_p%'"
);
my ($kept_partitions, $kept_rows) = split /\|/, $dropped;
cmp_ok($kept_partitions, '>=', 2,
	'pg_partman: approved by the partitioned table, retention drops old partitions with snapshots'
);
is($node->safe_psql('pm', $rows_sql) + $kept_rows,
	$rows, 'pg_partman: the snapshots hold every row the retention dropped');
is( $node->safe_psql(
		'pm',
		"SELECT count(*) FROM migsafe.audit_log WHERE decision = 'approved' AND command_tag = 'DROP TABLE' AND scope = 'object' AND approved_by = 'public.events' AND reason = 'partman retention'"
	),
	$kept_partitions,
	'pg_partman: each drop is audited as approved, with the reason');

# a dropped partition comes back from its snapshot
my $restored = $node->safe_psql(
	'pm',
	"SELECT object_identity || '|' || row_count FROM migsafe.snapshots WHERE relation_name LIKE 'events_p%' ORDER BY id LIMIT 1"
);
my ($restored_name, $restored_rows) = split /\|/, $restored;
$node->safe_psql('pm', "SELECT migsafe.restore('$restored_name')");
is($node->safe_psql('pm', "SELECT count(*) FROM $restored_name"),
	$restored_rows, 'pg_partman: a dropped partition is restored with its rows');

# the snapshot deliberately waived
$node->safe_psql(
	'pm', q{
UPDATE partman.part_config SET retention = '3 days'
 WHERE parent_table = 'public.events';
BEGIN;
SET LOCAL migsafe.approve = 'public.events';
SET LOCAL migsafe.skip_snapshot = 'public.events';
SELECT partman.run_maintenance('public.events');
COMMIT;});
is( $node->safe_psql(
		'pm',
		"SELECT count(*) FROM migsafe.snapshots WHERE operation = 'drop' AND relation_name LIKE 'events_p%'"
	),
	$kept_partitions,
	'pg_partman: with migsafe.skip_snapshot, no new snapshot');
like(
	$node->safe_psql(
		'pm',
		"SELECT string_agg(DISTINCT detail, ' ') FROM migsafe.audit_log WHERE approval LIKE '%skip_snapshot%' OR detail LIKE '%waived by migsafe.skip_snapshot%'"
	),
	qr/waived by migsafe\.skip_snapshot \(public\.events\)/,
	'pg_partman: the audit rows say the snapshot was waived');
cmp_ok($node->safe_psql('pm', $rows_sql),
	'<', $rows - $kept_rows, 'pg_partman: more partitions were dropped');

#
# 5. pg_cron: the jobs scheduled at the start have run by now, or will
# within a minute
#
wait_for('postgres',
	"SELECT count(DISTINCT j.jobname) FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE d.status IN ('succeeded', 'failed')",
	'2', 'pg_cron: both jobs ran');
is( $node->safe_psql(
		'postgres',
		"SELECT d.status FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = 'staging-reset' ORDER BY d.runid LIMIT 1"
	),
	'succeeded',
	'pg_cron: the job with the approval in its command succeeds');
is($node->safe_psql('postgres', 'SELECT count(*) FROM staging'),
	'0', 'pg_cron: the staging table was truncated');
is( $node->safe_psql(
		'postgres',
		"SELECT s.row_count || '|' || a.reason FROM migsafe.snapshots s JOIN migsafe.audit_log a ON a.snapshot_id = s.id WHERE s.object_identity = 'public.staging' AND a.scope = 'object'"
	),
	'100|nightly staging reset',
	'pg_cron: a snapshot of the 100 rows was kept, the reason audited');
like(
	$node->safe_psql(
		'postgres',
		"SELECT d.status || ' ' || d.return_message FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = 'staging-reset-unapproved' ORDER BY d.runid LIMIT 1"
	),
	qr/^failed .*TRUNCATE (TABLE )?on table "public\.staging_unapproved" requires migsafe approval/,
	'pg_cron: the job without approval fails, saying why');
is($node->safe_psql('postgres', 'SELECT count(*) FROM staging_unapproved'),
	'100', 'pg_cron: its table kept its rows');
wait_for('postgres',
	"SELECT count(*) > 0 FROM migsafe.audit_log WHERE decision = 'blocked' AND object_identity = 'public.staging_unapproved'",
	't', 'pg_cron: the refused job is audited as blocked');

#
# 6. pgaudit and pg_stat_statements, in both orders
#
sub check_neighbours
{
	my ($order, $n) = @_;
	my $db = "aud$n";
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql(
		$db, qq{
CREATE EXTENSION migsafe;
CREATE EXTENSION pgaudit;
CREATE EXTENSION pg_stat_statements;
CREATE TABLE neighbours_$n (id int);
INSERT INTO neighbours_$n VALUES (1), (2), (3);});
	my $offset = -s $node->logfile;
	my ($r, $o, $e) = $node->psql($db, "DROP TABLE neighbours_$n");
	like($e, qr/requires migsafe approval/, "$order: migsafe blocks the DROP");
	$node->safe_psql(
		$db, qq{
BEGIN;
SET LOCAL migsafe.approve = 'public.neighbours_$n';
DROP TABLE neighbours_$n;
COMMIT;});
	my $log = slurp_file($node->logfile, $offset);
	my @drops = $log =~ /AUDIT: SESSION,\d+,\d+,DDL,DROP TABLE,[^\n]*DROP TABLE neighbours_$n/g;
	is(scalar(@drops), 1,
		"$order: pgaudit logs the approved DROP, and only the DROP that ran");
	like(
		$log,
		qr/AUDIT: SESSION,\d+,\d+,DDL,ALTER TABLE,TABLE,migsafe_snapshot_\d+\.neighbours_$n,/,
		"$order: pgaudit logs migsafe's snapshot of the table too");
	is( $node->safe_psql(
			$db,
			"SELECT sum(calls) FROM pg_stat_statements WHERE query = 'DROP TABLE neighbours_$n'"
		),
		'1',
		"$order: pg_stat_statements counts the DROP that ran");
	is( $node->safe_psql(
			$db,
			"SELECT count(*) FROM migsafe.snapshots WHERE object_identity = 'public.neighbours_$n'"
		),
		'1',
		"$order: migsafe kept a snapshot");
	wait_for($db,
		"SELECT string_agg(decision, ',' ORDER BY decision) FROM migsafe.audit_log WHERE object_identity = 'public.neighbours_$n' AND scope = 'object' AND command_tag = 'DROP TABLE'",
		'approved,blocked',
		"$order: migsafe audits the approved and the blocked DROP");
	return;
}

check_neighbours('migsafe last', 1);

$node->adjust_conf('postgresql.conf', 'shared_preload_libraries',
	"'migsafe, pg_stat_statements, pgaudit, pg_cron'");
$node->restart;
is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'),
	'migsafe, pg_stat_statements, pgaudit, pg_cron',
	'restarted with migsafe first');
check_neighbours('migsafe first', 2);

$node->stop;
done_testing();
