-- migsafe demo: a migration that would lose data is blocked, approved
-- (with a snapshot of what it destroys), audited, and undone.
-- Run by `make demo` on a throwaway cluster with migsafe preloaded.
\set VERBOSITY default
\pset footer off

CREATE EXTENSION migsafe;

-- A production table with data.
CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL, legacy_notes text);
INSERT INTO customers (email, legacy_notes)
  SELECT 'user' || g || '@example.com', 'note ' || g FROM generate_series(1, 1000) g;

-- 1. A migration drops a column, the way Django or Rails would emit it.
--    migsafe refuses: the column holds data and nobody approved losing it.
BEGIN;
ALTER TABLE customers DROP COLUMN legacy_notes;
ROLLBACK;

-- The data is intact.
SELECT count(legacy_notes) AS notes_still_there FROM customers;

-- 2. Renaming first does not get around it: approvals name the object by
--    the name it had when the transaction began.
BEGIN;
SET LOCAL migsafe.approve = 'public.old_customers';
ALTER TABLE customers RENAME TO old_customers;
DROP TABLE old_customers;
ROLLBACK;

-- 3. The migration is reviewed and approved, inside its own transaction.
BEGIN;
SET LOCAL migsafe.approve = 'public.customers.legacy_notes';
SET LOCAL migsafe.reason = 'TICKET-42: legacy notes moved to the CRM';
ALTER TABLE customers DROP COLUMN legacy_notes;
COMMIT;

-- 4. The approval ended with its transaction: the next destructive step is
--    blocked again, wherever it comes from (here a DO block).
DO $$ BEGIN EXECUTE 'TRUNCATE customers'; END $$;

-- 5. Tables that hold no data go freely: no friction for scratch tables.
CREATE TABLE scratch (id int);
DROP TABLE scratch;

-- 6. Cascades are counted object by object.
CREATE SCHEMA reporting;
CREATE TABLE reporting.daily (day date, total int);
INSERT INTO reporting.daily VALUES (current_date, 42);
DROP SCHEMA reporting CASCADE;
BEGIN;
SET LOCAL migsafe.approve = 'reporting.*';
DROP SCHEMA reporting CASCADE;
COMMIT;

-- 7. Every approved change kept a snapshot of what it destroyed first.
SELECT id, operation, object_type, object_identity, method, row_count, status
  FROM migsafe.snapshots ORDER BY id;

-- 8. The notes turn out to be needed after all: one call puts the column
--    back, every value on its row.
SELECT migsafe.restore('public.customers.legacy_notes') AS values_restored;
SELECT id, email, legacy_notes FROM customers ORDER BY id LIMIT 3;

-- And a dropped table comes back whole (a plain DROP TABLE moves it aside,
-- whatever its size, instead of copying it).
BEGIN;
SET LOCAL migsafe.approve = 'public.customers';
DROP TABLE customers;
COMMIT;
SELECT migsafe.restore('public.customers') AS rows_restored;
SELECT count(*) AS customers, count(legacy_notes) AS notes FROM customers;

-- 9. Everything above is in the audit log, the blocked attempts included
--    (their transactions rolled back; a background worker wrote them), with
--    the snapshot each approved change took and each restore.
SELECT pg_sleep(0.5);
SELECT id, command_tag, object_identity, scope, decision, approved_by, snapshot_id
  FROM migsafe.audit_log
 WHERE risk = 'destructive' OR command_tag = 'RESTORE'
 ORDER BY ts, id;

-- After a deploy: one line per transaction, blocked ones first.
SELECT application_name, commands, objects, blocked, approved, command_tags
  FROM migsafe.deploy_summary();
