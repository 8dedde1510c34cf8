-- DROP TABLE and the other DROPs of data-holding relations.
-- Each case: data set up, the blocked error (DETAIL, HINT), the data intact,
-- then the approved statement succeeding.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

CREATE TABLE orders (id serial PRIMARY KEY, note text);
INSERT INTO orders (note) SELECT 'order ' || g FROM generate_series(1, 5) g;

-- 1. plain DROP TABLE
DROP TABLE orders;
SELECT count(*) FROM orders;
-- an approval naming another object does not help
BEGIN;
SET LOCAL migsafe.approve = 'public.other, public.orders.note, other.*';
DROP TABLE orders;
ROLLBACK;
SELECT count(*) FROM orders;
-- SET LOCAL approval ends with its transaction
BEGIN;
SET LOCAL migsafe.approve = 'public.orders';
SHOW migsafe.approve;
ROLLBACK;
SHOW migsafe.approve;
DROP TABLE orders;
-- approved: the table and its owned sequence go
BEGIN;
SET LOCAL migsafe.approve = 'public.orders';
DROP TABLE orders;
COMMIT;
SELECT to_regclass('orders') IS NULL AS gone, to_regclass('orders_id_seq') IS NULL AS seq_gone;

-- 2. DROP TABLE of several tables: one error names every table
CREATE TABLE a1 (x int);
CREATE TABLE a2 (x int);
CREATE TABLE a3 (x int);
INSERT INTO a1 VALUES (1);
INSERT INTO a2 VALUES (1), (2);
DROP TABLE a1, a2, a3;
SELECT (SELECT count(*) FROM a1) AS a1, (SELECT count(*) FROM a2) AS a2;
BEGIN;
SET LOCAL migsafe.approve = 'public.a1';
DROP TABLE a1, a2, a3;
ROLLBACK;
BEGIN;
SET LOCAL migsafe.approve = 'public.a1, public.a2';
DROP TABLE a1, a2, a3;
COMMIT;

-- 3. DROP TABLE ... CASCADE through a view and a foreign key: the view and
-- the constraint hold no data, the referencing table keeps its rows
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (id int, parent_id int REFERENCES parent);
INSERT INTO parent VALUES (1);
INSERT INTO child VALUES (10, 1);
CREATE VIEW parent_v AS SELECT * FROM parent;
DROP TABLE parent CASCADE;
SELECT count(*) FROM parent_v;
BEGIN;
SET LOCAL migsafe.approve = 'public.parent';
DROP TABLE parent CASCADE;
COMMIT;
SELECT count(*) FROM child;

-- 4. DROP TABLE CASCADE reaching a table whose column has the dropped
-- table's row type
CREATE TABLE rowsrc (a int);
CREATE TABLE rowuser (id int, r rowsrc);
INSERT INTO rowuser VALUES (1, ROW(1));
DROP TABLE rowsrc CASCADE;
BEGIN;
SET LOCAL migsafe.approve = 'public.rowsrc';
DROP TABLE rowsrc CASCADE;
ROLLBACK;
BEGIN;
SET LOCAL migsafe.approve = 'public.rowsrc, public.rowuser.r';
DROP TABLE rowsrc CASCADE;
COMMIT;
SELECT * FROM rowuser;

-- 5. DROP TABLE of a partitioned table: every partition with rows counts,
-- the hint names the root, whose approval covers the tree
CREATE TABLE meas (id int, v int) PARTITION BY RANGE (id);
CREATE TABLE meas_1 PARTITION OF meas FOR VALUES FROM (0) TO (10);
CREATE TABLE meas_2 PARTITION OF meas FOR VALUES FROM (10) TO (20)
	PARTITION BY RANGE (id);
CREATE TABLE meas_2a PARTITION OF meas_2 FOR VALUES FROM (10) TO (20);
INSERT INTO meas VALUES (1, 1), (11, 2);
DROP TABLE meas;
SELECT count(*) FROM meas;
-- dropping one partition needs only its own approval
DROP TABLE meas_1;
BEGIN;
SET LOCAL migsafe.approve = 'public.meas';
DROP TABLE meas;
COMMIT;

-- 6. DROP TABLE CASCADE of an inheritance parent takes the children
CREATE TABLE inh_p (id int);
CREATE TABLE inh_c () INHERITS (inh_p);
INSERT INTO inh_c VALUES (1);
DROP TABLE inh_p CASCADE;
BEGIN;
SET LOCAL migsafe.approve = 'public.inh_p';
DROP TABLE inh_p CASCADE;
ROLLBACK;
BEGIN;
SET LOCAL migsafe.approve = 'public.inh_p, public.inh_c';
DROP TABLE inh_p CASCADE;
COMMIT;

-- 7. DROP MATERIALIZED VIEW
CREATE MATERIALIZED VIEW mv AS SELECT g FROM generate_series(1, 3) g;
DROP MATERIALIZED VIEW mv;
SELECT count(*) FROM mv;
BEGIN;
SET LOCAL migsafe.approve = 'public.mv';
DROP MATERIALIZED VIEW mv;
COMMIT;

-- 8. DROP SEQUENCE: its current value is data
CREATE SEQUENCE invoice_no;
SELECT nextval('invoice_no');
DROP SEQUENCE invoice_no;
SELECT currval('invoice_no');
BEGIN;
SET LOCAL migsafe.approve = 'public.invoice_no';
DROP SEQUENCE invoice_no;
COMMIT;

-- 9. DROP TABLE IF EXISTS, quoted names and "schema.*"
CREATE SCHEMA "Sales Data";
CREATE TABLE "Sales Data"."Q1" (x int);
INSERT INTO "Sales Data"."Q1" VALUES (1);
DROP TABLE IF EXISTS "Sales Data"."Q1", no_such_table;
BEGIN;
SET LOCAL migsafe.approve = '"Sales Data".*';
DROP TABLE IF EXISTS "Sales Data"."Q1", no_such_table;
COMMIT;

-- 10. "*" approves everything
CREATE TABLE star (x int);
INSERT INTO star VALUES (1);
BEGIN;
SET LOCAL migsafe.approve = '*';
DROP TABLE star;
COMMIT;

-- 11. an error the DROP raises by itself is raised as usual
CREATE TABLE dep_t (x int);
INSERT INTO dep_t VALUES (1);
CREATE VIEW dep_v AS SELECT x FROM dep_t;
BEGIN;
SET LOCAL migsafe.approve = 'public.dep_t';
DROP TABLE dep_t;
ROLLBACK;
DROP TABLE no_such_table;
DROP VIEW dep_v;
BEGIN;
SET LOCAL migsafe.approve = 'public.dep_t';
DROP TABLE dep_t;
COMMIT;

-- 12. a sequence made the property of a new (or empty) table does not go
-- with it unapproved: its value is data
CREATE SEQUENCE receipt_no;
SELECT setval('receipt_no', 41234);
BEGIN;
CREATE TABLE tmp_owner (id int);
ALTER SEQUENCE receipt_no OWNED BY tmp_owner.id;
DROP TABLE tmp_owner;
ROLLBACK;
SELECT last_value FROM receipt_no;

-- a DROP that fails gives the notices it gives before its error
CREATE TABLE gd_base (id int);
CREATE VIEW gd_view AS SELECT * FROM gd_base;
DROP TABLE IF EXISTS gd_nosuch, gd_base;
DROP VIEW gd_view;
DROP TABLE gd_base;
