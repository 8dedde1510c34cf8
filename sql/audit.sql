-- The audit log: the rows each kind of change leaves.  Times, ids, xids
-- and pids are compared as booleans; rows written by the background
-- writer (blocked changes) are waited for.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

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

CREATE VIEW log AS
  SELECT id, command_tag, object_type, object_identity, scope, risk, decision,
		 approved_by, reason, nested, tool, migration
	FROM migsafe.audit_log;

-- 1. plain schema changes: one command row each, naming the object
SELECT max(id) AS mark FROM migsafe.audit_log \gset
CREATE TABLE books (id serial PRIMARY KEY, title text, isbn text);
ALTER TABLE books ADD COLUMN price numeric;
CREATE INDEX books_title ON books (title);
CREATE VIEW cheap_books AS SELECT * FROM books WHERE price < 10;
DROP VIEW cheap_books;
CREATE FUNCTION book_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM books';
COMMENT ON TABLE books IS 'the catalogue';
INSERT INTO books (title, isbn) VALUES ('Dune', '1'), ('Emma', '2');
SELECT command_tag, object_type, object_identity, scope, risk, decision, nested
  FROM log WHERE id > :mark ORDER BY id;

-- the facts of the session are recorded
SELECT database = current_database() AS db, session_role = session_user AS srole,
	   effective_role = current_user AS erole, backend_pid = pg_backend_pid() AS pid,
	   application_name = current_setting('application_name') AS app,
	   statement = 'CREATE INDEX books_title ON books (title)' AS stmt,
	   xid IS NOT NULL AS has_xid, wal_lsn <= pg_current_wal_lsn() AS lsn_before,
	   ts <= now() AS ts_ok, client_addr IS NULL AS local_socket
  FROM migsafe.audit_log WHERE id > :mark AND command_tag = 'CREATE INDEX';

-- 2. a change that rolls back leaves no row
SELECT max(id) AS mark FROM migsafe.audit_log \gset
BEGIN;
CREATE TABLE never (id int);
SET LOCAL migsafe.approve = 'public.books';
DROP TABLE books;
ROLLBACK;
SELECT count(*) AS rows_after_rollback FROM migsafe.audit_log WHERE id > :mark;

-- 3. a blocked change leaves its rows, although its transaction aborts
SELECT max(id) AS mark FROM migsafe.audit_log \gset
BEGIN;
DROP TABLE books;
ROLLBACK;
SELECT wait_rows(:mark, 2);
SELECT command_tag, object_type, object_identity, scope, risk, decision, detail
  FROM migsafe.audit_log WHERE id > :mark ORDER BY id;

-- 4. an approved change: the approval, the item that matched and the reason
SELECT max(id) AS mark FROM migsafe.audit_log \gset
BEGIN;
SET LOCAL migsafe.approve = 'public.books.isbn, public.other';
SET LOCAL migsafe.reason = 'CAT-7: ISBNs move to their own table';
ALTER TABLE books DROP COLUMN isbn;
COMMIT;
SELECT command_tag, object_type, object_identity, scope, decision, approved_by, reason
  FROM log WHERE id > :mark ORDER BY id;
SELECT approval FROM migsafe.audit_log WHERE id > :mark ORDER BY id LIMIT 1;

-- 5. a cascade: one object row per table it destroys, empty ones too
SELECT max(id) AS mark FROM migsafe.audit_log \gset
CREATE SCHEMA old_reports;
CREATE TABLE old_reports.daily (d date);
CREATE TABLE old_reports.monthly (m int);
INSERT INTO old_reports.daily VALUES ('2026-01-01');
BEGIN;
SET LOCAL migsafe.approve = 'old_reports.*';
DROP SCHEMA old_reports CASCADE;
COMMIT;
SELECT command_tag, object_type, object_identity, scope, decision, approved_by
  FROM log WHERE id > :mark AND command_tag = 'DROP SCHEMA' ORDER BY scope, object_identity;

-- 6. nested statements (a DO block) are marked so
SELECT max(id) AS mark FROM migsafe.audit_log \gset
DO $$ BEGIN EXECUTE 'CREATE TABLE from_do (x int)'; END $$;
SELECT command_tag, object_identity, nested FROM log WHERE id > :mark ORDER BY id;

-- 7. warn mode: the change runs and its rows say so
SELECT max(id) AS mark FROM migsafe.audit_log \gset
INSERT INTO from_do VALUES (1);
SET migsafe.mode = warn;
TRUNCATE from_do;
RESET migsafe.mode;
SELECT command_tag, object_identity, scope, decision, detail
  FROM migsafe.audit_log WHERE id > :mark ORDER BY id;

-- 8. the migration tool that ran the change: django_migrations and
-- schema_migrations rows written by the same transaction
SELECT max(id) AS mark FROM migsafe.audit_log \gset
CREATE TABLE django_migrations (id serial, app text, name text, applied timestamptz);
CREATE TABLE schema_migrations (version text PRIMARY KEY);
BEGIN;
CREATE TABLE shop_order (id int);
ALTER TABLE shop_order ADD COLUMN total int;
INSERT INTO django_migrations (app, name, applied) VALUES ('shop', '0001_initial', now());
COMMIT;
BEGIN;
CREATE TABLE rails_thing (id int);
INSERT INTO schema_migrations VALUES ('20261123000000');
COMMIT;
-- the step may be recorded by COPY, a function, a writable WITH, or
-- removed by a DELETE (a rollback of the step)
BEGIN;
CREATE TABLE rails_copied (id int);
COPY schema_migrations FROM STDIN;
20261123000001
\.
COMMIT;
CREATE FUNCTION record_step(v text) RETURNS void LANGUAGE plpgsql
  AS $$BEGIN INSERT INTO schema_migrations VALUES (v); END$$;
BEGIN;
CREATE TABLE rails_by_function (id int);
SELECT record_step('20261123000002');
COMMIT;
BEGIN;
CREATE TABLE rails_by_cte (id int);
WITH s AS (INSERT INTO schema_migrations VALUES ('20261123000003') RETURNING 1)
SELECT count(*) FROM s;
COMMIT;
BEGIN;
DROP TABLE rails_by_cte;
DELETE FROM schema_migrations WHERE version = '20261123000003';
COMMIT;
DROP FUNCTION record_step(text);
-- a bookkeeping table made with its first step, by CREATE TABLE AS or
-- SELECT INTO
CREATE SCHEMA tool_ctas;
SET search_path = tool_ctas, public;
BEGIN;
CREATE TABLE tool_ctas.m2 (a int);
CREATE TABLE schema_migrations AS SELECT '20260102'::varchar AS version;
COMMIT;
BEGIN;
CREATE TABLE tool_ctas.m3 (a int);
SELECT 'app'::varchar AS app, '0001_first'::varchar AS name INTO django_migrations;
COMMIT;
RESET search_path;
BEGIN;
SET LOCAL migsafe.approve = 'tool_ctas.*';
SET LOCAL migsafe.snapshot = off;
SET LOCAL client_min_messages = warning;
DROP SCHEMA tool_ctas CASCADE;
COMMIT;
-- a change in a transaction that records no migration gets none, even
-- when it reads the bookkeeping
BEGIN;
SELECT count(*) FROM schema_migrations;
CREATE TABLE unrelated (id int);
COMMIT;
SELECT command_tag, object_identity, tool, migration
  FROM log WHERE id > :mark ORDER BY id;

-- EXPLAIN ANALYZE CREATE TABLE AS creates a table too
SELECT max(id) AS mark FROM migsafe.audit_log \gset
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) CREATE TABLE explained AS SELECT 1 AS x;
SELECT command_tag, object_type, object_identity FROM log WHERE id > :mark ORDER BY id;

-- a schema change allowed in a read-only transaction is still recorded
SELECT max(id) AS mark FROM migsafe.audit_log \gset
CREATE TABLE ro_t (id int PRIMARY KEY);
BEGIN READ ONLY;
CLUSTER ro_t USING ro_t_pkey;
COMMIT;
SELECT wait_rows(:mark, 2);
SELECT command_tag, object_identity FROM log WHERE id > :mark ORDER BY id;

-- 9. reading it after a deploy
SELECT max(id) AS mark FROM migsafe.audit_log \gset
SELECT count(*) > 0 AS some FROM migsafe.changes_since(now() - interval '1 hour');
SELECT count(*) > 0 AS some FROM migsafe.recent_changes(60);
-- blocked transactions come first
SELECT blocked > 0 AS blocked FROM migsafe.deploy_summary() LIMIT 1;
SELECT tool, migration, commands, objects, blocked, command_tags
  FROM migsafe.deploy_summary() WHERE tool IS NOT NULL ORDER BY migration;
-- a compact JSON form: NULL fields left out
SELECT array_agg(k ORDER BY k) FROM
  (SELECT * FROM migsafe.audit_log WHERE command_tag = 'CREATE INDEX'
	ORDER BY id LIMIT 1) a,
  LATERAL jsonb_object_keys(migsafe.audit_json(a)) k;

-- 10. append-only, for superusers too
SELECT count(*) AS before, max(id) AS before_id FROM migsafe.audit_log \gset
UPDATE migsafe.audit_log SET decision = 'allowed' WHERE decision = 'blocked';
DELETE FROM migsafe.audit_log;
INSERT INTO migsafe.audit_log (ts, vxid, database, backend_pid, command_tag, scope, risk, decision)
  VALUES (now(), '1/1', 'x', 1, 'FAKE', 'command', 'schema', 'allowed');
SET session_replication_role = replica;
DELETE FROM migsafe.audit_log WHERE true;	-- another statement: no repeat
RESET session_replication_role;
SELECT count(*) >= :before AS nothing_lost FROM migsafe.audit_log;
-- the log's own machinery is protected like a table with data
ALTER TABLE migsafe.audit_log DISABLE TRIGGER audit_log_append_only;
DROP TRIGGER audit_log_append_only ON migsafe.audit_log;
CREATE RULE hide AS ON INSERT TO migsafe.audit_log DO INSTEAD NOTHING;
CREATE FUNCTION swallow() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
CREATE TRIGGER a_swallow BEFORE INSERT ON migsafe.audit_log
  FOR EACH ROW EXECUTE FUNCTION swallow();
SELECT count(*) AS rules_and_triggers FROM pg_rewrite
  WHERE ev_class = 'migsafe.audit_log'::regclass AND rulename = 'hide'
  UNION ALL SELECT count(*) FROM pg_trigger
  WHERE tgrelid = 'migsafe.audit_log'::regclass AND tgname = 'a_swallow';
-- and the attempts themselves are recorded
SELECT wait_rows(:before_id, 13);
SELECT command_tag, object_type, object_identity, scope, decision
  FROM migsafe.audit_log WHERE id > (SELECT max(id) FROM migsafe.audit_log) - 20
   AND (object_identity LIKE '%audit_log%')
 ORDER BY id;

-- statistics hang off their table: on the log they are migsafe's, on a
-- user's table the user's, whatever schema they are put in
SELECT max(id) AS before_stats FROM migsafe.audit_log \gset
CREATE STATISTICS public.log_stats ON command_tag, decision FROM migsafe.audit_log;
SELECT wait_rows(:before_stats, 2);
CREATE TABLE stat_t (a int, b int);
INSERT INTO stat_t VALUES (1, 2);
CREATE STATISTICS migsafe.user_stats ON a, b FROM stat_t;
BEGIN;
SET LOCAL migsafe.approve = 'public.stat_t';
SET LOCAL migsafe.skip_snapshot = 'public.stat_t';
ALTER TABLE stat_t DROP COLUMN b;
DROP TABLE stat_t;
COMMIT;
SELECT count(*) AS statistics_left FROM pg_statistic_ext
 WHERE stxname IN ('log_stats', 'user_stats');

-- secrets never reach the log: passwords of roles, user mappings and
-- servers, and subscriptions' connection strings are masked
SELECT max(id) AS mark FROM migsafe.audit_log \gset
CREATE ROLE audit_pw LOGIN PASSWORD 'hunter2';
ALTER ROLE audit_pw WITH ENCRYPTED PASSWORD E'hun\'ter3' VALID UNTIL 'infinity';
ALTER USER audit_pw PASSWORD $pw$dollar secret$pw$;
CREATE FOREIGN DATA WRAPPER audit_fdw;
CREATE SERVER audit_srv FOREIGN DATA WRAPPER audit_fdw OPTIONS (host 'h', password 'srvsecret');
CREATE USER MAPPING FOR audit_pw SERVER audit_srv OPTIONS (user 'u', password 'mapsecret');
ALTER USER MAPPING FOR audit_pw SERVER audit_srv OPTIONS (SET password 'newsecret');
SET client_min_messages = error;
CREATE SUBSCRIPTION audit_sub CONNECTION 'host=h password=subsecret' PUBLICATION p
  WITH (connect = false);
RESET client_min_messages;
SELECT command_tag, statement FROM migsafe.audit_log
 WHERE id > :mark AND scope = 'command' ORDER BY id;
SELECT count(*) AS secrets_in_log FROM migsafe.audit_log
 WHERE statement ~ '(hunter|ter3|dollar|secret)' AND id > :mark;
ALTER SUBSCRIPTION audit_sub SET (slot_name = NONE);
DROP SUBSCRIPTION audit_sub;
DROP USER MAPPING FOR audit_pw SERVER audit_srv;
DROP SERVER audit_srv;
DROP FOREIGN DATA WRAPPER audit_fdw;
DROP ROLE audit_pw;

-- DROPs that name objects by lists of type names (casts, transforms) or
-- by signatures (operators, aggregates, operator classes) are audited
-- under those names
SELECT max(id) AS mark FROM migsafe.audit_log \gset
CREATE TYPE audit_ct AS (a int);
CREATE FUNCTION audit_ct_of(int) RETURNS audit_ct LANGUAGE sql
  AS 'SELECT ROW($1)::audit_ct';
CREATE CAST (int AS audit_ct) WITH FUNCTION audit_ct_of(int);
SELECT 1::audit_ct AS cast_works;
SET migsafe.approve = '*';
DROP CAST (int AS audit_ct);
DROP CAST IF EXISTS (text AS text);
DROP TRANSFORM IF EXISTS FOR int LANGUAGE sql;
DROP OPERATOR IF EXISTS ### (int, int);
DROP AGGREGATE IF EXISTS audit_no_agg(int);
DROP OPERATOR CLASS IF EXISTS audit_no_opc USING btree;
DROP OPERATOR FAMILY IF EXISTS audit_no_opf USING btree;
RESET migsafe.approve;
SELECT command_tag, object_type, object_identity FROM log
 WHERE id > :mark AND command_tag LIKE 'DROP %' ORDER BY id;
DROP FUNCTION audit_ct_of(int);
DROP TYPE audit_ct;

DROP FUNCTION wait_rows(bigint, int);
DROP FUNCTION swallow();
DROP VIEW log;
