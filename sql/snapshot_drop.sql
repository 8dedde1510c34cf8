--
-- Snapshots of dropped tables: a plain DROP TABLE moves the table into
-- its snapshot; drops that take other objects with them copy the rows.
-- Each case: approve, drop, check the snapshot row and its audit row,
-- restore, and compare the data (row count and md5 of the ordered rows).
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;
CREATE SCHEMA sd;
SET search_path = sd, public;

-- the newest snapshot of an object, for the cases below
CREATE FUNCTION snap(name text) RETURNS bigint LANGUAGE sql AS
$$ SELECT max(id) FROM migsafe.snapshots WHERE object_identity = name $$;
CREATE FUNCTION fingerprint(rel regclass) RETURNS text LANGUAGE plpgsql AS
$$ DECLARE r text;
BEGIN
	EXECUTE format('SELECT count(*) || '' '' || md5(coalesce(string_agg(t::text, '','' ORDER BY t::text), '''')) FROM %s t', rel)
	INTO r;
	RETURN r;
END $$;

-- 1. plain DROP TABLE: the table itself is kept, with everything on it
CREATE ROLE regress_snap_reader;
CREATE TABLE customers (
	id serial PRIMARY KEY,
	email text NOT NULL UNIQUE,
	name text DEFAULT 'anonymous',
	balance numeric(12,2) CHECK (balance >= 0),
	notes text
);
CREATE INDEX customers_name_idx ON customers (lower(name));
-- an index with a name like the ones snapshot storage gives
CREATE INDEX kept_index_1 ON customers (balance);
COMMENT ON TABLE customers IS 'paying customers';
GRANT SELECT ON customers TO regress_snap_reader;
INSERT INTO customers (email, name, balance, notes)
	SELECT 'c' || g || '@example.com', 'name ' || g, g * 1.5, repeat('n', g * 40)
	  FROM generate_series(1, 300) g;
SELECT fingerprint('customers') AS before \gset

BEGIN;
SET LOCAL migsafe.approve = 'sd.customers';
SET LOCAL migsafe.reason = 'JIRA-1: customers move to the CRM';
DROP TABLE customers;
COMMIT;
SELECT to_regclass('sd.customers') IS NULL AS gone;
SELECT operation, object_type, object_identity, method, row_count, rows_estimated,
	   size_bytes > 0 AS has_size, status, storage = format('migsafe_snapshot_%s.kept', id) AS storage_ok
  FROM migsafe.snapshots WHERE id = snap('sd.customers');
-- the snapshot and its audit row point at each other
SELECT a.command_tag, a.scope, a.decision, a.reason, a.snapshot_id = s.id AS linked,
	   a.detail LIKE 'Snapshot % the table itself, moved to schema migsafe_snapshot_%' AS detail_ok
  FROM migsafe.snapshots s JOIN migsafe.audit_log a ON a.id = s.audit_id
 WHERE s.id = snap('sd.customers');
-- the owned sequence went with the table
SELECT count(*) AS seqs FROM pg_class
 WHERE relkind = 'S' AND relnamespace = format('migsafe_snapshot_%s', snap('sd.customers'))::regnamespace;
-- snapshot storage has names of its own (a catalog query by name finds no
-- second "customers"), and the registry records the original ones
SELECT relname, relkind FROM pg_class
 WHERE relnamespace = format('migsafe_snapshot_%s', snap('sd.customers'))::regnamespace
 ORDER BY relname;
SELECT count(*) AS found_by_name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE relname IN ('customers', 'customers_pkey', 'customers_email_key', 'customers_id_seq')
   AND nspname LIKE 'migsafe\_snapshot\_%';
SELECT n->>'kept' AS kept, n->>'name' AS original FROM migsafe.snapshots s,
	   jsonb_array_elements(s.definition->'storage_names') n
 WHERE s.id = snap('sd.customers') ORDER BY 1;

SELECT migsafe.restore('sd.customers') AS restored;
SELECT fingerprint('customers') = :'before' AS same_data;
\d customers
SELECT obj_description('customers'::regclass, 'pg_class') AS comment;
SELECT has_table_privilege('regress_snap_reader', 'customers', 'SELECT') AS reader_can_read;
SELECT nextval('customers_id_seq') AS next_id;
SELECT status FROM migsafe.snapshots WHERE id = snap('sd.customers');
SELECT count(*) AS leftover_schemas FROM pg_namespace
 WHERE nspname = format('migsafe_snapshot_%s', snap('sd.customers'));
-- a restore is audited, and done once
SELECT command_tag, object_identity, decision, detail FROM migsafe.audit_log
 WHERE snapshot_id = snap('sd.customers') AND command_tag = 'RESTORE';
SELECT migsafe.restore(snap('sd.customers'));

-- 2. restore refuses, changing nothing, when the name is taken by a table
-- the rows do not fit (one they fit is filled: see restore_into)
BEGIN;
SET LOCAL migsafe.approve = 'sd.customers';
DROP TABLE customers;
COMMIT;
CREATE TABLE customers (id int);
SELECT migsafe.restore('sd.customers');
DROP TABLE customers;
-- or when one of its indexes' names is
CREATE TABLE other (id int CONSTRAINT customers_pkey PRIMARY KEY);
SELECT migsafe.restore('sd.customers');
DROP TABLE other;
SELECT migsafe.restore('sd.customers') AS restored;
SELECT fingerprint('customers') = :'before' AS same_data;

-- 3. a foreign key to another table does not act on the snapshot, and
-- comes back with the table
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers, total int);
INSERT INTO orders SELECT g, g, g * 10 FROM generate_series(1, 50) g;
BEGIN;
SET LOCAL migsafe.approve = 'sd.orders';
DROP TABLE orders;
COMMIT;
-- customers referenced by the kept orders can go
DELETE FROM customers WHERE id = 300;
SELECT migsafe.restore('sd.orders') AS restored;
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid = 'orders'::regclass ORDER BY conname;

-- 4. DROP ... CASCADE through a view: the view goes, the table keeps its
-- storage (nothing is copied) and comes back with all it had
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;
SELECT fingerprint('orders') AS orders_before \gset
BEGIN;
SET LOCAL migsafe.approve = 'sd.orders';
DROP TABLE orders CASCADE;
COMMIT;
SELECT method, row_count, key_columns FROM migsafe.snapshots WHERE id = snap('sd.orders');
-- the kept storage depends on nothing of the user's
SELECT count(*) AS deps FROM pg_depend d
 WHERE d.classid = 'pg_class'::regclass
   AND d.objid = (SELECT storage::regclass FROM migsafe.snapshots WHERE id = snap('sd.orders'))
   AND d.refobjid >= 16384 AND d.refclassid <> 'pg_namespace'::regclass;
SELECT migsafe.restore('sd.orders') AS restored;
SELECT fingerprint('orders') = :'orders_before' AS same_data;
\d orders

-- 5. several snapshots of one name: the newest is restored first
CREATE TABLE daily (day int, v text);
INSERT INTO daily VALUES (1, 'first');
BEGIN; SET LOCAL migsafe.approve = 'sd.daily'; DROP TABLE daily; COMMIT;
CREATE TABLE daily (day int, v text);
INSERT INTO daily VALUES (2, 'second');
BEGIN; SET LOCAL migsafe.approve = 'sd.daily'; DROP TABLE daily; COMMIT;
SELECT count(*) AS kept FROM migsafe.snapshots
 WHERE object_identity = 'sd.daily' AND status = 'kept';
SELECT migsafe.restore('daily') AS restored;
SELECT * FROM daily;
ALTER TABLE daily RENAME TO daily_2;
SELECT migsafe.restore('sd.daily') AS restored;
SELECT * FROM daily;
SELECT migsafe.restore('sd.daily');
SELECT migsafe.restore('sd.a.b.c');

-- 6. DROP SCHEMA ... CASCADE: tables keep their storage, a sequence's state and a
-- materialized view's definition kept
CREATE SCHEMA shop;
CREATE TABLE shop.items (id int PRIMARY KEY, label text);
CREATE TABLE shop.stock (item_id int REFERENCES shop.items, qty int);
INSERT INTO shop.items SELECT g, 'item ' || g FROM generate_series(1, 20) g;
INSERT INTO shop.stock SELECT g, g * 3 FROM generate_series(1, 20) g;
CREATE SEQUENCE shop.invoice_no START 1000;
SELECT nextval('shop.invoice_no'), nextval('shop.invoice_no');
CREATE MATERIALIZED VIEW shop.totals AS SELECT sum(qty) AS qty FROM shop.stock;
SELECT fingerprint('shop.items') AS items_before, fingerprint('shop.stock') AS stock_before \gset
BEGIN;
SET LOCAL migsafe.approve = 'shop.*';
DROP SCHEMA shop CASCADE;
COMMIT;
SELECT object_type, object_identity, method, row_count
  FROM migsafe.snapshots WHERE object_identity LIKE 'shop.%' ORDER BY object_identity;
SELECT migsafe.restore('shop.items');
CREATE SCHEMA shop;
SELECT migsafe.restore('shop.items') AS items, migsafe.restore('shop.stock') AS stock;
SELECT fingerprint('shop.items') = :'items_before' AS items_same,
	   fingerprint('shop.stock') = :'stock_before' AS stock_same;
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid IN ('shop.items'::regclass, 'shop.stock'::regclass) ORDER BY conname;
SELECT migsafe.restore('shop.invoice_no') AS restored;
SELECT nextval('shop.invoice_no');
SELECT migsafe.restore('shop.totals') AS restored;
SELECT * FROM shop.totals;

-- 7. a partition tree: each partition keeps its storage, the partitioned table
-- keeps its definition, and restoring it brings the whole tree back
CREATE TABLE readings (at int NOT NULL, v int, PRIMARY KEY (at)) PARTITION BY RANGE (at);
CREATE TABLE readings_1 PARTITION OF readings FOR VALUES FROM (0) TO (100);
CREATE TABLE readings_2 PARTITION OF readings FOR VALUES FROM (100) TO (200)
	PARTITION BY RANGE (at);
CREATE TABLE readings_2a PARTITION OF readings_2 FOR VALUES FROM (100) TO (150);
CREATE TABLE readings_2b PARTITION OF readings_2 FOR VALUES FROM (150) TO (200);
INSERT INTO readings SELECT g, g FROM generate_series(0, 199) g;
SELECT fingerprint('readings') AS readings_before \gset
BEGIN;
SET LOCAL migsafe.approve = 'sd.readings';
DROP TABLE readings;
COMMIT;
SELECT object_type, object_identity, method, row_count FROM migsafe.snapshots
 WHERE object_identity LIKE 'sd.readings%' ORDER BY 2;
SELECT migsafe.restore('sd.readings') AS restored;
SELECT fingerprint('readings') = :'readings_before' AS same_data;
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent IN ('readings'::regclass, 'readings_2'::regclass) ORDER BY 1;
SELECT count(*) AS kept FROM migsafe.snapshots
 WHERE object_identity LIKE 'sd.readings%' AND status = 'kept';
-- a partition alone: copied, and attached again when restored
BEGIN;
SET LOCAL migsafe.approve = 'sd.readings_1';
DROP TABLE readings_1;
COMMIT;
SELECT migsafe.restore('sd.readings_1') AS restored;
SELECT fingerprint('readings') = :'readings_before' AS same_data;
-- restoring any snapshot of a dropped tree brings the whole tree back,
-- whatever the order: here a sub-partition's first
BEGIN;
SET LOCAL migsafe.approve = 'sd.readings';
DROP TABLE readings;
COMMIT;
SELECT migsafe.restore(snap('sd.readings_2a')) AS restored;
SELECT fingerprint('readings') = :'readings_before' AS same_data;
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent IN ('readings'::regclass, 'readings_2'::regclass) ORDER BY 1;
SELECT count(*) AS kept FROM migsafe.snapshots
 WHERE object_identity LIKE 'sd.readings%' AND status = 'kept';

-- 8. empty tables and tables created in the same transaction keep nothing
CREATE TABLE empty_one (id int);
BEGIN;
CREATE TABLE fresh (id int);
INSERT INTO fresh VALUES (1);
DROP TABLE fresh, empty_one;
COMMIT;
SELECT count(*) AS snapshots FROM migsafe.snapshots
 WHERE object_identity IN ('sd.fresh', 'sd.empty_one');

DROP OWNED BY regress_snap_reader;
DROP ROLE regress_snap_reader;
