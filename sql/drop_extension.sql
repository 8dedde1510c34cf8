-- Removing migsafe on purpose: DROP EXTENSION migsafe takes the audit log
-- and the snapshot registry with it.  It needs 'migsafe.*'; while
-- snapshots are kept, the approval must also name migsafe.snapshots
-- (docs/upgrading.md, "Removing migsafe").  Runs in a database of its own, so that
-- snapshot ids elsewhere do not depend on it.
SET client_min_messages = warning;
DROP DATABASE IF EXISTS migsafe_remove;
CREATE DATABASE migsafe_remove;
\c migsafe_remove
SET client_min_messages = warning;
CREATE EXTENSION migsafe;
RESET client_min_messages;

-- wait until at least n rows are newer than id "since" (writer rows)
CREATE FUNCTION wait_rows(since bigint, n int) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1 .. 200 LOOP
		IF (SELECT count(*) FROM migsafe.audit_log
			 WHERE id > since AND (scope = 'command' OR object_type = 'extension')) >= n THEN
			RETURN true;
		END IF;
		PERFORM pg_sleep(0.05);
	END LOOP;
	RETURN false;
END $$;

-- two kept snapshots
CREATE TABLE gone (id int PRIMARY KEY);
INSERT INTO gone SELECT generate_series(1, 3);
CREATE TABLE emptied (id int PRIMARY KEY);
INSERT INTO emptied SELECT generate_series(1, 4);
BEGIN;
SET LOCAL migsafe.approve = 'public.gone, public.emptied';
DROP TABLE gone;
TRUNCATE emptied;
COMMIT;
SELECT id, object_identity, operation, status FROM migsafe.snapshots ORDER BY id;

-- (the refusals' rows come through the writer, in their own time)
SELECT max(id) AS mark FROM migsafe.audit_log \gset
-- 1. without approval: refused as always
\set VERBOSITY terse
DROP EXTENSION migsafe;
\set VERBOSITY default

-- 2. 'migsafe.*' (or '*') approves the extension, not its kept snapshots
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*';
DROP EXTENSION migsafe;
ROLLBACK;
BEGIN;
SET LOCAL migsafe.approve = '*';
DROP SCHEMA migsafe CASCADE;
ROLLBACK;
-- a column of the registry, or the registry alone, is not it either
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*, migsafe.snapshots.id';
DROP EXTENSION migsafe;
ROLLBACK;
\set VERBOSITY terse
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.snapshots';
DROP EXTENSION migsafe;
ROLLBACK;
\set VERBOSITY default
-- each refusal is audited, the extension's row as blocked
SELECT wait_rows(:mark, 10);
SELECT command_tag, object_identity, scope, decision, approval
  FROM migsafe.audit_log
 WHERE id > :mark AND (scope = 'command' OR object_type = 'extension')
 ORDER BY id;

-- 3. what a DBA exports first (docs/upgrading.md): the audit log and the registry
COPY (SELECT command_tag, object_identity, decision FROM migsafe.audit_log
	   WHERE snapshot_id IS NOT NULL ORDER BY id) TO STDOUT WITH (FORMAT csv);
COPY (SELECT id, object_identity, storage, status FROM migsafe.snapshots
	   ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER);

-- 4. naming the snapshots approves it; their data stays behind
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*, migsafe.snapshots';
DROP EXTENSION migsafe;
SELECT nspname FROM pg_namespace WHERE nspname LIKE 'migsafe%' ORDER BY 1;
SELECT count(*) FROM migsafe_snapshot_1.kept;
ROLLBACK;

-- 5. with none kept (restored, purged), 'migsafe.*' is enough
SELECT migsafe.restore(1);
SELECT migsafe.purge_snapshots('0');
SELECT id, status FROM migsafe.snapshots ORDER BY id;
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*';
DROP EXTENSION migsafe;
COMMIT;
SELECT count(*) FROM pg_extension WHERE extname = 'migsafe';
SELECT nspname FROM pg_namespace WHERE nspname LIKE 'migsafe%' ORDER BY 1;
-- CREATE EXTENSION made schema migsafe, which stays: drop it too
DROP SCHEMA migsafe;
SELECT count(*) FROM gone;

\c contrib_regression
DROP DATABASE migsafe_remove;
