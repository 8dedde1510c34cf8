# Copyright (c) 2026, migsafe developers
#
# t/017_logical_truncate.pl
#	  A TRUNCATE that logical replication applies on a subscriber passes
#	  the gate like any other: refused without an exemption, audited.
#
# The apply worker runs a published TRUNCATE through ExecuteTruncateGuts()
# directly: neither ProcessUtility nor the object-access hook sees it.
# migsafe puts an ENABLE ALWAYS BEFORE TRUNCATE trigger on every table a
# subscription writes into (at CREATE and ALTER SUBSCRIPTION), which
# submits the apply worker's TRUNCATE to the gate.  Checked here, with a
# real publisher and subscriber:
#
# - CREATE SUBSCRIPTION puts the trigger on the subscribed tables, a
#   partitioned table's partitions included, ALTER SUBSCRIPTION ...
#   REFRESH PUBLICATION on tables published later;
# - a TRUNCATE approved on the publisher is refused on the subscriber (the
#   apply worker stops with MS001 and retries), the subscriber's rows stay,
#   and each refusal is in the subscriber's audit log as blocked;
# - exempting the table on the subscriber (migsafe.exempt in its
#   configuration) lets the next retry through, audited as exempt, and
#   replication goes on;
# - a session's own TRUNCATE on the subscriber is decided once, by the
#   hooks, not again by the trigger;
# - the trigger is migsafe's: removing or disabling it needs an approval;
# - a subscription to the audit log cannot write into the subscriber's.
#
# Why TAP: two clusters, a publication and a subscription.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pub = PostgreSQL::Test::Cluster->new('publisher');
$pub->init(allows_streaming => 'logical');
$pub->append_conf('postgresql.conf', "shared_preload_libraries = 'migsafe'");
$pub->start;

my $sub = PostgreSQL::Test::Cluster->new('subscriber');
$sub->init;
$sub->append_conf('postgresql.conf', "shared_preload_libraries = 'migsafe'");
$sub->append_conf('postgresql.conf', "wal_retrieve_retry_interval = '200ms'");
$sub->start;

my $schema = q{
CREATE EXTENSION migsafe;
CREATE TABLE orders (id int PRIMARY KEY, note text);
CREATE TABLE events (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE later (id int PRIMARY KEY);
};
$pub->safe_psql('postgres', $schema);
$sub->safe_psql('postgres', $schema);

$pub->safe_psql(
	'postgres', q{
INSERT INTO orders SELECT g, 'n' || g FROM generate_series(1, 50) g;
INSERT INTO events SELECT g, '2026-06-01' FROM generate_series(1, 20) g;
CREATE PUBLICATION shop FOR TABLE orders, events;});
my $connstr = $pub->connstr . ' dbname=postgres';
$sub->safe_psql('postgres',
	"CREATE SUBSCRIPTION shop_sub CONNECTION '$connstr' PUBLICATION shop");
$sub->wait_for_subscription_sync($pub, 'shop_sub');

is($sub->safe_psql('postgres', 'SELECT count(*) FROM orders'),
	'50', 'the subscriber has the published rows');

my $triggers_sql = q{
SELECT string_agg(tgrelid::regclass::text || ':' || tgenabled::text, ' ' ORDER BY tgrelid::regclass::text)
  FROM pg_trigger WHERE tgname = 'migsafe_replicated_truncate'};
is($sub->safe_psql('postgres', $triggers_sql),
	'events_2026:A orders:A',
	'CREATE SUBSCRIPTION puts an ENABLE ALWAYS trigger on each subscribed table');

# 1. an approved TRUNCATE on the publisher is refused on the subscriber
my $offset = -s $sub->logfile;
$pub->safe_psql(
	'postgres', q{
BEGIN;
SET LOCAL migsafe.approve = 'public.orders';
TRUNCATE orders;
COMMIT;});
is($pub->safe_psql('postgres', 'SELECT count(*) FROM orders'),
	'0', 'the publisher truncated its table (approved)');
ok( $sub->wait_for_log(
		qr/TRUNCATE TABLE on table "public\.orders" requires migsafe approval/,
		$offset),
	'the apply worker is refused the TRUNCATE');
is($sub->safe_psql('postgres', 'SELECT count(*) FROM orders'),
	'50', 'the subscriber keeps its rows');
ok( $sub->poll_query_until(
		'postgres',
		q{SELECT count(*) > 0 FROM migsafe.audit_log
		   WHERE decision = 'blocked' AND object_identity = 'public.orders'}),
	'the refusal is in the subscriber\'s audit log');

# 2. an exemption on the subscriber lets the next retry through
$sub->append_conf('postgresql.conf', "migsafe.exempt = 'public.orders'");
$sub->reload;
ok( $sub->poll_query_until('postgres', 'SELECT count(*) = 0 FROM orders'),
	'exempted, the replicated TRUNCATE is applied');
ok( $sub->poll_query_until(
		'postgres',
		q{SELECT count(*) > 0 FROM migsafe.audit_log
		   WHERE decision = 'exempt' AND object_identity = 'public.orders'}),
	'and audited as exempt');
$pub->safe_psql('postgres', 'INSERT INTO orders VALUES (51, \'after\')');
$pub->wait_for_catchup('shop_sub');
is($sub->safe_psql('postgres', 'SELECT count(*) FROM orders'),
	'1', 'replication goes on after it');

# 3. a partition of a published partitioned table is guarded the same way
$offset = -s $sub->logfile;
$pub->safe_psql(
	'postgres', q{
BEGIN;
SET LOCAL migsafe.approve = 'public.events';
TRUNCATE events;
COMMIT;});
ok( $sub->wait_for_log(
		qr/TRUNCATE TABLE on table "public\.events_2026" requires migsafe approval/,
		$offset),
	'a replicated TRUNCATE of a partitioned table is refused for its partition');
is($sub->safe_psql('postgres', 'SELECT count(*) FROM events'),
	'20', 'the partition keeps its rows');
$sub->append_conf('postgresql.conf',
	"migsafe.exempt = 'public.orders, public.events_2026'");
$sub->reload;
ok($sub->poll_query_until('postgres', 'SELECT count(*) = 0 FROM events'),
	'exempted, it is applied');

# 4. ALTER SUBSCRIPTION ... REFRESH PUBLICATION guards tables added later
$pub->safe_psql('postgres', 'ALTER PUBLICATION shop ADD TABLE later');
$sub->safe_psql('postgres',
	'ALTER SUBSCRIPTION shop_sub REFRESH PUBLICATION');
like($sub->safe_psql('postgres', $triggers_sql),
	qr/\blater:A\b/, 'REFRESH PUBLICATION guards the new table');

# 5. a session's TRUNCATE on the subscriber is decided by the hooks once
$sub->safe_psql('postgres', 'INSERT INTO later VALUES (1), (2)');
my $mark = $sub->safe_psql('postgres',
	'SELECT coalesce(max(id), 0) FROM migsafe.audit_log');
my ($ret, $out, $err) = $sub->psql('postgres', 'TRUNCATE later');
like(
	$err,
	qr/TRUNCATE TABLE on table "public\.later" requires migsafe approval/,
	'a session\'s TRUNCATE of a subscribed table is refused as usual');
$sub->safe_psql(
	'postgres', q{
BEGIN;
SET LOCAL migsafe.approve = 'public.later';
TRUNCATE later;
COMMIT;});
is( $sub->safe_psql(
		'postgres',
		"SELECT count(*) FROM migsafe.snapshots WHERE relation_name = 'later'"),
	'1',
	'approved, it keeps one snapshot (the trigger does not decide it again)');

# the trigger is migsafe's: dropping, renaming or disabling it, or making
# it fire for the origin only, needs an approval of migsafe's objects
for my $change (
	'DROP TRIGGER migsafe_replicated_truncate ON orders',
	'ALTER TRIGGER migsafe_replicated_truncate ON orders RENAME TO other',
	'ALTER TABLE orders DISABLE TRIGGER migsafe_replicated_truncate',
	'ALTER TABLE orders ENABLE TRIGGER migsafe_replicated_truncate',
	'ALTER TABLE orders DISABLE TRIGGER USER',
	'ALTER TABLE orders ENABLE TRIGGER ALL')
{
	($ret, $out, $err) = $sub->psql('postgres', $change);
	like($err, qr/requires migsafe approval \(migsafe\.approve = 'migsafe\.\*'\)/,
		"refused: $change");
}
($ret, $out, $err) = $sub->psql(
	'postgres', q{
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*';
ALTER TABLE orders DISABLE TRIGGER migsafe_replicated_truncate;
ROLLBACK;});
is($ret, 0, 'approved as migsafe\'s, it may be disabled');

# the triggers stay until the subscription's tables go
is($sub->safe_psql('postgres', $triggers_sql),
	'events_2026:A later:A orders:A', 'the triggers are all still there');

# 6. a subscription never writes into the subscriber's audit log, not
# even as a superuser running as replica (what a restore's load uses)
$pub->safe_psql('postgres',
	'CREATE PUBLICATION log_pub FOR TABLE migsafe.audit_log');
$sub->safe_psql('postgres',
	"CREATE SUBSCRIPTION log_sub CONNECTION '$connstr' PUBLICATION log_pub WITH (copy_data = false)"
);
$pub->wait_for_catchup('log_sub');
$offset = -s $sub->logfile;
$pub->safe_psql('postgres', 'CREATE TABLE forged_by_publisher (id int)');
ok( $sub->wait_for_log(
		qr/INSERT on table "migsafe\.audit_log" is not allowed/, $offset),
	'a replicated INSERT into the audit log is refused');
is( $sub->safe_psql(
		'postgres',
		q{SELECT count(*) FROM migsafe.audit_log
		   WHERE statement LIKE '%forged_by_publisher%'}),
	'0',
	'the publisher\'s audit row is not in the subscriber\'s log');
$sub->safe_psql('postgres', 'DROP SUBSCRIPTION log_sub');

$sub->safe_psql('postgres', 'DROP SUBSCRIPTION shop_sub');
$sub->stop;
$pub->stop;

done_testing();
