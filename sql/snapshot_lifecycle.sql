--
-- Snapshot settings and lifecycle: migsafe.snapshot, the copy size cap
-- and its waiver, retention, purging and the total size cap (eviction).
-- Every purge and eviction is audited.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;
CREATE SCHEMA sl;
SET search_path = sl, public;

-- a BEFORE TRUNCATE trigger: TRUNCATE copies the rows, which the trigger
-- must still see (other tables keep their storage instead, and copy
-- nothing; see snapshot_swap and snapshot_types)
CREATE TABLE batch (id int, payload text);
INSERT INTO batch SELECT g, repeat('x', 200) FROM generate_series(1, 2000) g;
CREATE FUNCTION batch_noop() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER batch_before_truncate BEFORE TRUNCATE ON batch
	FOR EACH STATEMENT EXECUTE FUNCTION batch_noop();

-- 1. a copy larger than migsafe.snapshot_max_copy_size is refused...
SET migsafe.snapshot_max_copy_size = '64kB';
BEGIN;
SET LOCAL migsafe.approve = 'sl.batch';
TRUNCATE batch;
ROLLBACK;
SELECT count(*) AS intact FROM batch;
-- ... unless the snapshot is waived for that table (audited)
BEGIN;
SET LOCAL migsafe.approve = 'sl.batch';
SET LOCAL migsafe.skip_snapshot = 'sl.batch';
TRUNCATE batch;
COMMIT;
SELECT decision, snapshot_id, detail FROM migsafe.audit_log
 WHERE command_tag = 'TRUNCATE TABLE' AND object_identity = 'sl.batch'
 ORDER BY id DESC LIMIT 1;
-- a plain DROP TABLE of a table that depends on nothing of a user's
-- moves the table: no copy, no cap
INSERT INTO batch SELECT g, repeat('x', 200) FROM generate_series(1, 2000) g;
CREATE TABLE batch_plain (id int, payload text);
INSERT INTO batch_plain SELECT g, repeat('x', 200) FROM generate_series(1, 2000) g;
BEGIN;
SET LOCAL migsafe.approve = 'sl.batch_plain';
DROP TABLE batch_plain;
COMMIT;
SELECT method, row_count FROM migsafe.snapshots WHERE object_identity = 'sl.batch_plain' ORDER BY id DESC LIMIT 1;
RESET migsafe.snapshot_max_copy_size;
SELECT migsafe.restore('sl.batch_plain') AS restored;

-- the waiver, like approvals, cannot be stored
ALTER ROLE CURRENT_USER SET migsafe.skip_snapshot = 'sl.batch';
SET migsafe.skip_snapshot = 'not a name';

-- 2. migsafe.snapshot = off: approved changes keep nothing (audited);
-- only superusers may switch it
CREATE ROLE regress_migrator;
SET ROLE regress_migrator;
SET migsafe.snapshot = off;
RESET ROLE;
DROP ROLE regress_migrator;
SET migsafe.snapshot = off;
BEGIN;
SET LOCAL migsafe.approve = 'sl.batch';
TRUNCATE batch;
COMMIT;
RESET migsafe.snapshot;
SELECT count(*) AS kept FROM migsafe.snapshots WHERE object_identity = 'sl.batch' AND status = 'kept';
SELECT decision, snapshot_id, detail FROM migsafe.audit_log
 WHERE command_tag = 'TRUNCATE TABLE' AND object_identity = 'sl.batch'
 ORDER BY id DESC LIMIT 1;

-- 3. purge_snapshots(): kept snapshots older than the interval go
CREATE TABLE t1 (id int); INSERT INTO t1 VALUES (1);
CREATE TABLE t2 (id int); INSERT INTO t2 VALUES (2);
CREATE TABLE t3 (id int); INSERT INTO t3 VALUES (3);
BEGIN; SET LOCAL migsafe.approve = 'sl.t1'; DROP TABLE t1; COMMIT;
BEGIN; SET LOCAL migsafe.approve = 'sl.t2'; DROP TABLE t2; COMMIT;
SELECT migsafe.purge_snapshots(interval '1 hour') AS purged_none;
SELECT migsafe.purge_snapshots(interval '0') > 0 AS purged_some;
SELECT object_identity, status, status_changed_by IS NOT NULL AS by_whom
  FROM migsafe.snapshots WHERE object_identity IN ('sl.t1', 'sl.t2') ORDER BY id;
SELECT count(*) AS storage_left FROM pg_namespace n
  JOIN migsafe.snapshots s ON n.nspname = format('migsafe_snapshot_%s', s.id)
 WHERE s.object_identity IN ('sl.t1', 'sl.t2');
SELECT command_tag, object_identity, decision, detail FROM migsafe.audit_log
 WHERE command_tag = 'PURGE SNAPSHOT' AND object_identity IN ('sl.t1', 'sl.t2') ORDER BY id;
SELECT migsafe.restore('sl.t1');
SELECT migsafe.restore(snapshot_id => -1);

-- 4. the total size cap evicts the oldest snapshots first, never the new one
CREATE TABLE big1 (id int, pad text);
CREATE TABLE big2 (id int, pad text);
INSERT INTO big1 SELECT g, repeat('a', 1000) FROM generate_series(1, 700) g;
INSERT INTO big2 SELECT g, repeat('b', 1000) FROM generate_series(1, 700) g;
BEGIN; SET LOCAL migsafe.approve = 'sl.big1'; DROP TABLE big1; COMMIT;
SET migsafe.snapshot_max_total_size = '1MB';
BEGIN; SET LOCAL migsafe.approve = 'sl.big2'; DROP TABLE big2; COMMIT;
RESET migsafe.snapshot_max_total_size;
SELECT object_identity, status FROM migsafe.snapshots
 WHERE object_identity IN ('sl.big1', 'sl.big2') ORDER BY id;
SELECT command_tag, object_identity, detail FROM migsafe.audit_log
 WHERE command_tag = 'EVICT SNAPSHOT' ORDER BY id;
SELECT migsafe.restore('sl.big2') AS restored;

-- 5. retention: snapshots older than migsafe.snapshot_retention are
-- purged when a new one is taken, and by purge_snapshots() without an
-- interval; 0 keeps them until purged
CREATE TABLE r1 (id int); INSERT INTO r1 VALUES (1);
CREATE TABLE r2 (id int); INSERT INTO r2 VALUES (2);
BEGIN; SET LOCAL migsafe.approve = 'sl.r1'; DROP TABLE r1; COMMIT;
SELECT pg_sleep(1.2);
SET migsafe.snapshot_retention = 0;
SELECT migsafe.purge_snapshots() AS none_without_retention;
SET migsafe.snapshot_retention = '1s';
BEGIN; SET LOCAL migsafe.approve = 'sl.r2'; DROP TABLE r2; COMMIT;
SELECT object_identity, status FROM migsafe.snapshots
 WHERE object_identity IN ('sl.r1', 'sl.r2') ORDER BY id;
SELECT detail FROM migsafe.audit_log
 WHERE command_tag = 'PURGE SNAPSHOT' AND object_identity = 'sl.r1';
SELECT pg_sleep(1.2);
SELECT migsafe.purge_snapshots() AS purged_by_retention;
RESET migsafe.snapshot_retention;
SELECT count(*) AS kept FROM migsafe.snapshots WHERE status = 'kept'
   AND object_identity IN ('sl.r1', 'sl.r2');

-- 6. the registry itself goes only with an approved TRUNCATE (the data
-- schemas stay); it cannot be written otherwise
BEGIN;
-- (terse: the DETAIL gives the registry's size, which varies between builds)
\set VERBOSITY terse
TRUNCATE migsafe.snapshots;
\set VERBOSITY default
ROLLBACK;
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.snapshots';
TRUNCATE migsafe.snapshots;
SELECT count(*) AS registry_rows FROM migsafe.snapshots;
ROLLBACK;

-- 7. restored data is data at once: destroying it again in the same
-- transaction needs an approval, and takes a new snapshot
CREATE TABLE sl.again (id int PRIMARY KEY, note text);
INSERT INTO sl.again SELECT g, 'n' || g FROM generate_series(1, 5) g;
SET client_min_messages = warning;
BEGIN;
SET LOCAL migsafe.approve = 'sl.again';
DROP TABLE sl.again;
COMMIT;
RESET client_min_messages;
SELECT max(id) AS again_id FROM migsafe.snapshots WHERE object_identity = 'sl.again' \gset
BEGIN;
SELECT migsafe.restore(:again_id) AS restored_rows;
DROP TABLE sl.again;
ROLLBACK;
BEGIN;
SELECT migsafe.restore(:again_id) AS restored_rows;
TRUNCATE sl.again;
ROLLBACK;
BEGIN;
SELECT migsafe.restore(:again_id) AS restored_rows;
ALTER TABLE sl.again DROP COLUMN note;
ROLLBACK;
SET client_min_messages = warning;
BEGIN;
SELECT migsafe.restore(:again_id) AS restored_rows;
SET LOCAL migsafe.approve = 'sl.again';
TRUNCATE sl.again;
COMMIT;
RESET client_min_messages;
SELECT operation, status, row_count FROM migsafe.snapshots
 WHERE object_identity = 'sl.again' ORDER BY id;
