-- Schema changes that destroy no data pass untouched: with the decision
-- trace on, none of these makes a decision.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;
SET migsafe.trace = on;

CREATE TABLE items (id int PRIMARY KEY, name text);
INSERT INTO items VALUES (1, 'one');
ALTER TABLE items ADD COLUMN price numeric DEFAULT 0;
ALTER TABLE items ALTER COLUMN name SET NOT NULL;
ALTER TABLE items ALTER COLUMN price SET DEFAULT 1;
ALTER TABLE items ADD CONSTRAINT name_len CHECK (length(name) < 100);
ALTER TABLE items DROP CONSTRAINT name_len;
ALTER TABLE items RENAME COLUMN price TO cost;
CREATE INDEX items_name ON items (name);
DROP INDEX items_name;
CREATE VIEW items_v AS SELECT id, name FROM items;
DROP VIEW items_v;
CREATE FUNCTION items_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM items';
DROP FUNCTION items_count();
CREATE TYPE colour AS ENUM ('red');
DROP TYPE colour;
CREATE SCHEMA empty_schema;
DROP SCHEMA empty_schema;
COMMENT ON TABLE items IS 'catalog items';
GRANT SELECT ON items TO PUBLIC;
REVOKE SELECT ON items FROM PUBLIC;
VACUUM items;
ANALYZE items;
CLUSTER items USING items_pkey;
VACUUM FULL items;
REINDEX TABLE items;
BEGIN;
SET LOCAL lock_timeout = '1s';
LOCK TABLE items IN ACCESS EXCLUSIVE MODE;
COMMIT;
CREATE MATERIALIZED VIEW items_mv AS SELECT * FROM items;
REFRESH MATERIALIZED VIEW items_mv;
SELECT * FROM items;

-- The gate may take a statement's first lock itself, when nobody is in the
-- way: the statement then holds exactly the locks it holds without
-- migsafe, no stronger one.
BEGIN;
CREATE INDEX items_cost ON items (cost);
SELECT mode FROM pg_locks
 WHERE relation = 'items'::regclass AND pid = pg_backend_pid() ORDER BY mode;
ROLLBACK;
BEGIN;
ALTER TABLE items SET (fillfactor = 90);
SELECT mode FROM pg_locks
 WHERE relation = 'items'::regclass AND pid = pg_backend_pid() ORDER BY mode;
ROLLBACK;
BEGIN;
ALTER TABLE items ALTER COLUMN cost SET STATISTICS 200;
SELECT mode FROM pg_locks
 WHERE relation = 'items'::regclass AND pid = pg_backend_pid() ORDER BY mode;
ROLLBACK;

-- A schema change runs with migsafe.ddl_lock_timeout as its lock_timeout
-- when the session has none; the session's setting is back afterwards,
-- whether the change succeeded, was blocked, or failed inside a block
-- that caught the error, and a function's own SET clause is undone too.
CREATE FUNCTION shown_lock_timeout() RETURNS text LANGUAGE sql
  AS $$SELECT current_setting('lock_timeout')$$;
CREATE TABLE lt_items (id int, v int DEFAULT 1);
INSERT INTO lt_items (id) VALUES (1);
-- a volatile default is computed for the existing row by the ALTER itself
ALTER TABLE lt_items ADD COLUMN seen text DEFAULT shown_lock_timeout();
SELECT seen FROM lt_items;
SHOW lock_timeout;
DROP TABLE lt_items;
SHOW lock_timeout;
DO $$
BEGIN
  ALTER TABLE lt_items ADD COLUMN boom int CHECK (boom > 0) DEFAULT 0;
EXCEPTION WHEN check_violation THEN
  RAISE NOTICE 'caught: %, lock_timeout %', sqlerrm, current_setting('lock_timeout');
END $$;
SHOW lock_timeout;
CREATE FUNCTION short_wait() RETURNS int LANGUAGE sql
  SET lock_timeout = '250ms' AS $$SELECT 1$$;
ALTER TABLE lt_items ADD COLUMN w int DEFAULT short_wait();
SHOW lock_timeout;
SET lock_timeout = '3s';
ALTER TABLE lt_items ADD COLUMN seen2 text DEFAULT shown_lock_timeout();
SELECT seen, seen2 FROM lt_items;
RESET lock_timeout;
SHOW lock_timeout;
SET migsafe.ddl_lock_timeout = 0;
ALTER TABLE lt_items ADD COLUMN seen3 text DEFAULT shown_lock_timeout();
SELECT seen3 FROM lt_items;
RESET migsafe.ddl_lock_timeout;
-- a failing function that sets lock_timeout itself, alone and in a block
-- that catches the error
CREATE FUNCTION failing_wait() RETURNS int LANGUAGE plpgsql
  SET lock_timeout = '2s' AS $$BEGIN RAISE EXCEPTION 'boom'; END$$;
ALTER TABLE lt_items ADD COLUMN f int DEFAULT failing_wait();
SHOW lock_timeout;
DO $$
BEGIN
  ALTER TABLE lt_items ADD COLUMN f int DEFAULT failing_wait();
EXCEPTION WHEN others THEN NULL;
END $$;
SHOW lock_timeout;
-- what an event trigger sets before the change: SET LOCAL lasts to the
-- transaction's end, SET stays, and a rollback undoes it
CREATE FUNCTION et_set_timeout() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('test.et', true) = 'local' THEN
    PERFORM set_config('lock_timeout', '1s', true);
  ELSIF current_setting('test.et', true) = 'session' THEN
    PERFORM set_config('lock_timeout', '7s', false);
  END IF;
END $$;
CREATE EVENT TRIGGER et_timeout ON ddl_command_start EXECUTE FUNCTION et_set_timeout();
SET test.et = 'local';
ALTER TABLE lt_items ADD COLUMN et1 int;
SHOW lock_timeout;
SET test.et = 'session';
BEGIN;
ALTER TABLE lt_items ADD COLUMN et2 int;
ROLLBACK;
SHOW lock_timeout;
ALTER TABLE lt_items ADD COLUMN et3 int;
SHOW lock_timeout;
RESET test.et;
DROP EVENT TRIGGER et_timeout;
RESET lock_timeout;
DELETE FROM lt_items;
DROP TABLE lt_items;
DROP FUNCTION shown_lock_timeout(), short_wait(), failing_wait(), et_set_timeout();
