-- Upgrading in place: install 1.0 (migsafe--1.0.sql, frozen), fill the
-- audit log and keep snapshots, run ALTER EXTENSION migsafe UPDATE, and
-- show that everything is still there and working, with 1.1's fixes.
-- Runs in a database of its own, so that snapshot ids elsewhere do not
-- depend on it.
SET client_min_messages = warning;
DROP DATABASE IF EXISTS migsafe_upgrade;
CREATE DATABASE migsafe_upgrade;
\c migsafe_upgrade
SET client_min_messages = warning;
CREATE EXTENSION migsafe VERSION '1.0';
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'migsafe';

-- wait until at least n rows are newer than id "since" (writer rows)
CREATE FUNCTION wait_rows(since bigint, n int) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1 .. 200 LOOP
		IF (SELECT count(*) FROM migsafe.audit_log WHERE id > since) >= n THEN
			RETURN true;
		END IF;
		PERFORM pg_sleep(0.05);
	END LOOP;
	RETURN false;
END $$;

-- 1. under 1.0: a blocked and an approved drop, a truncate, a column
CREATE TABLE kept (id int PRIMARY KEY, note text);
INSERT INTO kept SELECT g, 'row ' || g FROM generate_series(1, 5) g;
CREATE TABLE gone (id int PRIMARY KEY, amount int);
INSERT INTO gone SELECT g, g * 10 FROM generate_series(1, 3) g;
CREATE TABLE counters (id int PRIMARY KEY, n information_schema.cardinal_number);
INSERT INTO counters VALUES (1, 7), (2, 8);
SELECT coalesce(max(id), 0) AS mark FROM migsafe.audit_log \gset
DROP TABLE gone;
SELECT wait_rows(:mark, 2);
BEGIN;
SET LOCAL migsafe.approve = 'public.gone, public.counters.n';
DROP TABLE gone;
ALTER TABLE counters DROP COLUMN n;
COMMIT;

-- 1.0 called information_schema's types built in, but copied them as text
SELECT (definition -> 'columns' -> 1 ->> 'builtin')::boolean AS builtin_1_0,
	   (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
		 WHERE a.attrelid = (s.storage)::regclass AND a.attname = 'n') AS kept_as
  FROM migsafe.snapshots s WHERE object_identity = 'public.counters.n';

CREATE TEMP TABLE before AS
  SELECT id, command_tag, object_identity, scope, decision, snapshot_id
	FROM migsafe.audit_log;
SELECT id, object_identity, operation, method, status
  FROM migsafe.snapshots ORDER BY id;
SELECT p.provolatile AS audit_json_volatility
  FROM pg_proc p WHERE p.oid = 'migsafe.audit_json(migsafe.audit_log)'::regprocedure;
-- 1.0's restore('1') looks for an object named 1
SELECT migsafe.restore('1');

-- 2. the update changes migsafe's own objects: it needs their approval
SELECT max(id) AS mark FROM migsafe.audit_log \gset
ALTER EXTENSION migsafe UPDATE;
SELECT wait_rows(:mark, 2);
SELECT extversion FROM pg_extension WHERE extname = 'migsafe';
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*';
ALTER EXTENSION migsafe UPDATE;
COMMIT;
SELECT extversion FROM pg_extension WHERE extname = 'migsafe';

-- every audit row and snapshot is still there, unchanged
SELECT count(*) AS rows_before,
	   count(*) FILTER (WHERE a.id IS NULL) AS rows_lost,
	   count(*) FILTER (WHERE (a.command_tag, a.object_identity, a.scope,
							   a.decision, a.snapshot_id)
						IS DISTINCT FROM (b.command_tag, b.object_identity,
										  b.scope, b.decision, b.snapshot_id))
		 AS rows_changed
  FROM before b LEFT JOIN migsafe.audit_log a USING (id);
SELECT id, object_identity, operation, method, status
  FROM migsafe.snapshots ORDER BY id;
-- the update is audited: refused, then approved
SELECT command_tag, object_identity, scope, decision, approved_by
  FROM migsafe.audit_log
 WHERE id > (SELECT max(id) FROM before) AND command_tag = 'ALTER EXTENSION'
 ORDER BY id;

-- 3. 1.1's fixes
SELECT p.provolatile AS audit_json_volatility
  FROM pg_proc p WHERE p.oid = 'migsafe.audit_json(migsafe.audit_log)'::regprocedure;
-- digits name a snapshot id; a quoted name is still a name
SELECT migsafe.restore('"1"');
SELECT migsafe.restore('1');
SELECT * FROM gone ORDER BY id;
-- the builtin flag now says what the copy does
CREATE TABLE counters2 (id int PRIMARY KEY, n information_schema.cardinal_number,
						m int);
INSERT INTO counters2 VALUES (1, 7, 70);
BEGIN;
SET LOCAL migsafe.approve = 'public.counters2';
ALTER TABLE counters2 DROP COLUMN n, DROP COLUMN m;
COMMIT;
SELECT s.column_name, (c ->> 'builtin')::boolean AS builtin,
	   (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
		 WHERE a.attrelid = (s.storage)::regclass
		   AND a.attname = s.column_name) AS kept_as
  FROM migsafe.snapshots s,
	   jsonb_array_elements(s.definition -> 'columns') c
 WHERE s.relation_name = 'counters2' AND c ->> 'name' = s.column_name
 ORDER BY s.column_name;
SELECT migsafe.restore('public.counters2.n');
SELECT * FROM counters2 ORDER BY id;

-- the rollback functions, callable by every role like restore(): undo()
-- applies restore's rules, report() reads the audit log with the
-- caller's rights
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns,
	   p.proretset AS set, has_function_privilege('public', p.oid, 'EXECUTE') AS public
  FROM pg_proc p
 WHERE p.pronamespace = 'migsafe'::regnamespace AND p.proname IN ('undo', 'report')
 ORDER BY 1::text;

-- 4. the guard still guards, and the kept 1.0 snapshot still restores
DROP TABLE kept;
SELECT migsafe.restore('public.counters.n');
SELECT * FROM counters ORDER BY id;

\c contrib_regression
SET migsafe.approve = 'DATABASE migsafe_upgrade';
DROP DATABASE migsafe_upgrade;
RESET migsafe.approve;
