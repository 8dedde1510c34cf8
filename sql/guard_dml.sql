-- migsafe.guard_dml: a DELETE or UPDATE that reaches every row (no WHERE)
-- of a table with data is decided like a TRUNCATE: approval, snapshot,
-- audit, restore.  Off by default.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

CREATE TABLE accounts_dml (id int PRIMARY KEY, email text, balance int);
CREATE TABLE one_row (id int);
INSERT INTO one_row VALUES (1);
INSERT INTO accounts_dml
  SELECT g, 'U' || g || '@example.com', g * 10 FROM generate_series(1, 5) g;

-- 1. off by default: a DELETE without WHERE is an ordinary DELETE
SHOW migsafe.guard_dml;
BEGIN;
DELETE FROM accounts_dml;
ROLLBACK;

-- 2. on: refused without an approval, nothing changed
SET migsafe.guard_dml = on;
DELETE FROM accounts_dml;
UPDATE accounts_dml SET email = lower(email);
-- a condition the planner folds to true is no condition
DELETE FROM accounts_dml WHERE true;
UPDATE accounts_dml SET balance = balance + 1 WHERE 1 = 1;
-- a subquery in SET still reaches every row
UPDATE accounts_dml SET balance = (SELECT 0);
SELECT count(*) AS rows_kept, sum(balance) AS balance_kept FROM accounts_dml;
-- in WITH, from a function too
WITH gone AS (DELETE FROM accounts_dml RETURNING id) SELECT count(*) FROM gone;
CREATE FUNCTION wipe_accounts() RETURNS void LANGUAGE sql
  AS 'DELETE FROM accounts_dml';
SELECT wipe_accounts();

-- a join without condition reaches every row: USING, FROM, MERGE ON true
DELETE FROM accounts_dml USING one_row;
UPDATE accounts_dml SET balance = 0 FROM one_row;
MERGE INTO accounts_dml a USING (VALUES (1)) v(id) ON true
  WHEN MATCHED THEN DELETE;
MERGE INTO accounts_dml a USING (VALUES (1)) v(id) ON true
  WHEN MATCHED THEN UPDATE SET balance = 0
  WHEN NOT MATCHED THEN INSERT VALUES (v.id);
DELETE FROM accounts_dml USING one_row a, one_row b;
-- a condition that lets every row through or none counts as every row
DELETE FROM accounts_dml WHERE (SELECT true);
DELETE FROM accounts_dml WHERE EXISTS (SELECT 1 FROM one_row);
-- a generic plan: a condition on a parameter is decided with its value
SET plan_cache_mode = force_generic_plan;
PREPARE wipe_if(bool) AS DELETE FROM accounts_dml WHERE $1;
EXECUTE wipe_if(true);
PREPARE wipe_or(bool) AS DELETE FROM accounts_dml WHERE id = 0 OR $1;
EXECUTE wipe_or(true);
BEGIN;
EXECUTE wipe_if(false);
EXECUTE wipe_or(false);
ROLLBACK;
DEALLOCATE wipe_if;
DEALLOCATE wipe_or;
RESET plan_cache_mode;
SELECT count(*) AS rows_kept FROM accounts_dml;

-- 3. what is not guarded: a WHERE, a join, EXPLAIN, empty and new tables
BEGIN;
DELETE FROM accounts_dml WHERE id = 5;
DELETE FROM accounts_dml a USING (VALUES (4)) v(id) WHERE a.id = v.id;
UPDATE accounts_dml SET balance = 0 WHERE id > 3;
-- a join on a key, a MERGE action with a condition
MERGE INTO accounts_dml a USING (VALUES (1)) v(id) ON a.id = v.id
  WHEN MATCHED THEN DELETE;
MERGE INTO accounts_dml a USING (VALUES (1)) v(id) ON true
  WHEN MATCHED AND a.id = 2 THEN DELETE;
SELECT count(*) AS rows_left FROM accounts_dml;
ROLLBACK;
EXPLAIN (COSTS OFF) DELETE FROM accounts_dml;
CREATE TABLE empty_dml (id int);
DELETE FROM empty_dml;
BEGIN;
CREATE TABLE new_dml (id int);
INSERT INTO new_dml VALUES (1);
DELETE FROM new_dml;
ROLLBACK;

-- 4. approved: kept first, audited, and restore puts the old values back
-- by key; a row added since stays as it is
BEGIN;
SET LOCAL migsafe.approve = 'public.accounts_dml';
UPDATE accounts_dml SET balance = 0, email = lower(email);
COMMIT;
SELECT operation, method, key_columns, row_count
  FROM migsafe.snapshots WHERE relation_name = 'accounts_dml' ORDER BY id;
-- (refused attempts reach the log through the background writer: not shown)
SELECT command_tag, object_identity, scope, decision, approved_by
  FROM migsafe.audit_log WHERE command_tag = 'UPDATE' AND decision <> 'blocked'
 ORDER BY id;
INSERT INTO accounts_dml VALUES (6, 'new@example.com', 60);
SELECT migsafe.restore('public.accounts_dml');
SELECT * FROM accounts_dml ORDER BY id;

-- a DELETE: the rows come back
BEGIN;
SET LOCAL migsafe.approve = 'public.accounts_dml';
DELETE FROM accounts_dml WHERE true;
COMMIT;
SELECT count(*) AS after_delete FROM accounts_dml;
SELECT migsafe.restore('public.accounts_dml');
SELECT * FROM accounts_dml ORDER BY id;

-- 5. a partitioned table: each partition with rows is a target
CREATE TABLE events_dml (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE events_dml_2025 PARTITION OF events_dml
  FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_dml_2026 PARTITION OF events_dml
  FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO events_dml VALUES (1, '2025-06-01'), (2, '2026-06-01');
DELETE FROM events_dml;
-- the partitioned table's approval covers its partitions
BEGIN;
SET LOCAL migsafe.approve = 'public.events_dml';
SET LOCAL migsafe.skip_snapshot = 'public.events_dml';
DELETE FROM events_dml;
COMMIT;
SELECT count(*) AS events_left FROM events_dml;

-- 6. without a key, the old values of an UPDATE cannot go back
CREATE TABLE keyless_dml (a int, b text);
INSERT INTO keyless_dml VALUES (1, 'x'), (2, 'y');
BEGIN;
SET LOCAL migsafe.approve = 'public.keyless_dml';
UPDATE keyless_dml SET b = 'z';
COMMIT;
SELECT migsafe.restore('public.keyless_dml');
SELECT * FROM keyless_dml ORDER BY a;

-- 7. warn mode lets it run, keeps and audits it
SET migsafe.mode = warn;
UPDATE keyless_dml SET b = 'w';
RESET migsafe.mode;
SELECT decision FROM migsafe.audit_log
 WHERE command_tag = 'UPDATE' AND object_identity = 'public.keyless_dml'
 ORDER BY id;

-- 8. only superusers set it
RESET migsafe.guard_dml;
CREATE ROLE dml_app;
SET ROLE dml_app;
SET migsafe.guard_dml = on;
RESET ROLE;
DROP ROLE dml_app;
