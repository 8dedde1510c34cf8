-- migsafe.allow_empty: no data, no friction.  Tables created in the same
-- transaction and tables or columns that are verifiably empty may be
-- destroyed without approval; temporary tables are never guarded.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;
SET migsafe.trace = on;

-- 1. an empty table
CREATE TABLE no_rows (id int);
DROP TABLE no_rows;

-- 2. created earlier in the same transaction, with rows
BEGIN;
CREATE TABLE scratch (id int);
INSERT INTO scratch SELECT generate_series(1, 100);
TRUNCATE scratch;
INSERT INTO scratch VALUES (1);
ALTER TABLE scratch ALTER COLUMN id TYPE bigint;
DROP TABLE scratch;
COMMIT;

-- 3. a table whose rows were all deleted is empty
CREATE TABLE emptied (id int);
INSERT INTO emptied VALUES (1);
DELETE FROM emptied;
DROP TABLE emptied;

-- 4. a column of NULLs holds no data; one non-NULL value does
CREATE TABLE cols (id int, unused text, used text);
INSERT INTO cols VALUES (1, NULL, NULL), (2, NULL, 'x');
ALTER TABLE cols DROP COLUMN unused;
ALTER TABLE cols DROP COLUMN used;
ALTER TABLE cols ALTER COLUMN used TYPE varchar(5);

-- 5. a column added (without default) in this transaction
BEGIN;
ALTER TABLE cols ADD COLUMN tmp int;
ALTER TABLE cols DROP COLUMN tmp;
COMMIT;

-- 6. with allow_empty off, empty and new objects need approval too
SET migsafe.allow_empty = off;
CREATE TABLE empty_2 (id int);
DROP TABLE empty_2;
BEGIN;
CREATE TABLE new_2 (id int);
DROP TABLE new_2;
ROLLBACK;
RESET migsafe.allow_empty;
DROP TABLE empty_2;

-- 7. temporary tables are never guarded, whatever the path
RESET migsafe.trace;
CREATE TEMP TABLE tmp_a (id int);
INSERT INTO tmp_a VALUES (1);
TRUNCATE tmp_a;
INSERT INTO tmp_a VALUES (1);
ALTER TABLE tmp_a ALTER COLUMN id TYPE bigint;
DROP TABLE tmp_a;
BEGIN;
CREATE TEMP TABLE tmp_b (id int) ON COMMIT DROP;
INSERT INTO tmp_b VALUES (1);
COMMIT;
CREATE TEMP TABLE tmp_c (id int);
INSERT INTO tmp_c VALUES (1);
DISCARD TEMP;
SELECT count(*) FROM pg_class WHERE relpersistence = 't';

-- 8. an unlogged table holds data like any other
CREATE UNLOGGED TABLE cache (k int);
INSERT INTO cache VALUES (1);
DROP TABLE cache;
