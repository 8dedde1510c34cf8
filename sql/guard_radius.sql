-- What a blocked change would take with it: every table and column with
-- data (rows for each), the other objects that go along (views,
-- functions, indexes), the publications that publish a dropped or
-- truncated table.  And the lock settings only superusers set.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

-- 1. DROP SCHEMA ... CASCADE: every table with rows, and the rest
CREATE SCHEMA radius;
CREATE TABLE radius.orders (id int PRIMARY KEY, amount int);
INSERT INTO radius.orders SELECT g, g FROM generate_series(1, 30) g;
CREATE TABLE radius.items (id int PRIMARY KEY, order_id int REFERENCES radius.orders);
INSERT INTO radius.items SELECT g, g FROM generate_series(1, 12) g;
CREATE TABLE radius.empty (id int);
CREATE INDEX items_order ON radius.items (order_id);
CREATE VIEW radius.big_orders AS SELECT * FROM radius.orders WHERE amount > 10;
CREATE FUNCTION radius.total() RETURNS bigint LANGUAGE sql
	AS 'SELECT sum(amount) FROM radius.orders';
CREATE TYPE radius.state AS ENUM ('new', 'paid');
DROP SCHEMA radius CASCADE;
SELECT count(*) AS orders_intact FROM radius.orders;

-- 2. DROP TYPE ... CASCADE reaching columns of two tables
CREATE DOMAIN positive AS int CHECK (VALUE > 0);
CREATE TABLE radius_ledger (id int PRIMARY KEY, amount positive);
INSERT INTO radius_ledger VALUES (1, 5), (2, 7);
CREATE TABLE radius_budget (id int PRIMARY KEY, cap positive, note text);
INSERT INTO radius_budget VALUES (1, 100, 'x');
CREATE FUNCTION double_it(positive) RETURNS int LANGUAGE sql AS 'SELECT $1 * 2';
DROP DOMAIN positive CASCADE;

-- 3. more tables than one DETAIL lists: the client gets the first ones
CREATE SCHEMA many;
DO $$
BEGIN
	FOR i IN 1 .. 105 LOOP
		EXECUTE format('CREATE TABLE many.t%s (id int); INSERT INTO many.t%s VALUES (1)', i, i);
	END LOOP;
END $$;
\set VERBOSITY terse
DROP SCHEMA many CASCADE;
\set VERBOSITY default
SELECT count(*) AS tables_intact FROM pg_class
 WHERE relnamespace = 'many'::regnamespace AND relkind = 'r';
DO $$
DECLARE d text;
BEGIN
	DROP SCHEMA many CASCADE;
EXCEPTION WHEN SQLSTATE 'MS001' THEN
	GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
	RAISE NOTICE 'tables described: %, rest counted: %',
		(SELECT count(*) FROM regexp_matches(d, 'Table "many\.t\d+" holds', 'g')),
		substring(d from '\d+ more objects are affected \(the server log lists them all\)');
END $$;

-- 4. publications: their subscribers lose what a DROP or TRUNCATE takes
CREATE TABLE pubbed (id int PRIMARY KEY);
INSERT INTO pubbed VALUES (1), (2);
CREATE SCHEMA pubschema;
CREATE TABLE pubschema.events (id int);
INSERT INTO pubschema.events VALUES (1);
SET client_min_messages = error;	-- no wal_level = logical warning
CREATE PUBLICATION pub_a FOR TABLE pubbed;
CREATE PUBLICATION pub_b FOR TABLE pubbed;
CREATE PUBLICATION pub_s FOR TABLES IN SCHEMA pubschema;
RESET client_min_messages;
TRUNCATE pubbed;
DROP TABLE pubbed;
TRUNCATE pubschema.events;
-- a partition of a published partitioned table
CREATE TABLE pubparts (id int) PARTITION BY RANGE (id);
CREATE TABLE pubparts_1 PARTITION OF pubparts FOR VALUES FROM (0) TO (10);
INSERT INTO pubparts VALUES (1);
SET client_min_messages = error;
CREATE PUBLICATION pub_p FOR TABLE pubparts;
RESET client_min_messages;
TRUNCATE pubparts_1;
-- approved, the audit row names them too
BEGIN;
SET LOCAL migsafe.approve = 'public.pubbed';
SET LOCAL migsafe.skip_snapshot = 'public.pubbed';
TRUNCATE pubbed;
COMMIT;
SELECT decision, detail FROM migsafe.audit_log
 WHERE command_tag = 'TRUNCATE TABLE' AND scope = 'object'
   AND object_identity = 'public.pubbed' AND decision = 'approved';
-- a table in no publication says nothing of them
CREATE TABLE unpublished (id int);
INSERT INTO unpublished VALUES (1);
TRUNCATE unpublished;

-- 5. the lock settings are superuser-only
CREATE ROLE radius_app;
SET ROLE radius_app;
SET migsafe.lock_risk = off;
SET migsafe.ddl_lock_timeout = 0;
SET migsafe.lock_risk_after = '1h';
RESET ROLE;
SHOW migsafe.lock_risk;
SHOW migsafe.ddl_lock_timeout;
SHOW migsafe.lock_risk_after;
DROP ROLE radius_app;

-- 6. rows and sizes only for roles that may read the table: a
-- TRUNCATE-only grantee and a schema owner whose CASCADE reaches another
-- role's table learn that it holds data, not how much
CREATE ROLE radius_truncator;
CREATE TABLE secret_counts (id int, v text);
INSERT INTO secret_counts SELECT g, 'v' FROM generate_series(1, 37) g;
GRANT TRUNCATE ON secret_counts TO radius_truncator;
SET ROLE radius_truncator;
TRUNCATE secret_counts;
RESET ROLE;
GRANT ALL ON SCHEMA public TO radius_truncator;
SET ROLE radius_truncator;
CREATE TABLE own_tbl (id int, v text);
INSERT INTO own_tbl VALUES (1, 'a'), (2, 'b');
REVOKE SELECT ON own_tbl FROM radius_truncator;
GRANT SELECT (id) ON own_tbl TO radius_truncator;
ALTER TABLE own_tbl DROP COLUMN v;
RESET ROLE;
CREATE SCHEMA radius_owned AUTHORIZATION radius_truncator;
CREATE TABLE radius_owned.others (id int);
INSERT INTO radius_owned.others VALUES (1), (2), (3);
SET ROLE radius_truncator;
DROP SCHEMA radius_owned CASCADE;
RESET ROLE;
-- the audit row (written by the queue's writer) keeps the figures for
-- those who read the log
DO $$
BEGIN
	FOR i IN 1 .. 200 LOOP
		EXIT WHEN EXISTS (SELECT FROM migsafe.audit_log
						   WHERE object_identity = 'public.secret_counts' AND scope = 'object');
		PERFORM pg_sleep(0.05);
	END LOOP;
END $$;
SELECT decision, detail FROM migsafe.audit_log
 WHERE command_tag = 'TRUNCATE TABLE' AND object_identity = 'public.secret_counts'
   AND scope = 'object' ORDER BY id DESC LIMIT 1;
SET client_min_messages = warning;
BEGIN;
SET LOCAL migsafe.approve = 'radius_owned.*, public.secret_counts, public.own_tbl';
SET LOCAL migsafe.snapshot = off;
DROP SCHEMA radius_owned CASCADE;
DROP TABLE secret_counts, own_tbl;
COMMIT;
RESET client_min_messages;
REVOKE ALL ON SCHEMA public FROM radius_truncator;
DROP ROLE radius_truncator;
