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
