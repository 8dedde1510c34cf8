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

-- a column's values as its rows have them: a default added since holds
-- for the rows stored before (none of them has the column), a deleted
-- row's value is gone; over more than one page
CREATE TABLE colvals (id int, pad text);
INSERT INTO colvals SELECT g, repeat('p', 100) FROM generate_series(1, 300) g;
ALTER TABLE colvals ADD COLUMN d int DEFAULT 5, ADD COLUMN n int, ADD COLUMN x text;
UPDATE colvals SET x = 'v' WHERE id = 300;
DELETE FROM colvals WHERE id = 300;
ALTER TABLE colvals DROP COLUMN d;
ALTER TABLE colvals DROP COLUMN n;
ALTER TABLE colvals DROP COLUMN x;
INSERT INTO colvals (id, pad) VALUES (301, NULL);
ALTER TABLE colvals DROP COLUMN pad;
DELETE FROM colvals;
DROP TABLE colvals;

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

-- 9. DROP COLUMN of a table with rows.  A plain one (one column, RESTRICT)
-- that reaches nothing but the table's own parts in pg_depend is decided
-- without its dry run; anything else keeps the dry run.  Either way the
-- decisions, errors and audit rows are the same.  The updates of
-- pg_attribute a transaction made tell which way it went: the dry run
-- marks the column dropped once more, in a subtransaction rolled back
-- (the statistics count both).  Snapshots are left to snapshot_column.
CREATE SCHEMA dropcol;
SET search_path = dropcol, public;
CREATE FUNCTION att_updates() RETURNS bigint LANGUAGE sql AS
$$ SELECT pg_stat_get_xact_tuples_updated('pg_attribute'::regclass) $$;
-- this section's DROP COLUMN statements and the audit rows they leave
CREATE FUNCTION dropcol_rows(since bigint)
RETURNS TABLE (id bigint, statement text, object_identity text, scope text,
			   decision text, approved_by text, detail text, kept boolean,
			   repeat_count bigint)
LANGUAGE sql AS
$$ SELECT id, statement, object_identity, scope, decision, approved_by, detail,
		  snapshot_id IS NOT NULL, repeat_count FROM migsafe.audit_log
	WHERE id > since AND statement ~
	  '^ALTER TABLE (wide|idx|deps|typed|busy|parent|child|parted|parted_1) DROP COLUMN' $$;
-- wait until the writer has recorded n of them as blocked
CREATE FUNCTION wait_blocked(since bigint, n int) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1 .. 200 LOOP
		IF (SELECT count(*) FROM dropcol_rows(since)
			 WHERE decision = 'blocked') >= n THEN
			RETURN true;
		END IF;
		PERFORM pg_sleep(0.05);
	END LOOP;
	RETURN false;
END $$;
SELECT max(id) AS mark FROM migsafe.audit_log \gset
CREATE TABLE wide (id int PRIMARY KEY, nulls int, vals text);
INSERT INTO wide SELECT g, NULL, 'v' || g FROM generate_series(1, 100) g;
-- a column of NULLs: allowed, one run
BEGIN;
SELECT att_updates() AS u0 \gset
ALTER TABLE wide DROP COLUMN nulls;
SELECT att_updates() - :u0 AS attribute_updates;
COMMIT;
-- a column with values: blocked, data intact
ALTER TABLE wide DROP COLUMN vals;
SELECT count(vals) FROM wide;
-- in warn mode the same text comes as a WARNING
BEGIN;
SET LOCAL migsafe.mode = warn;
SET LOCAL migsafe.snapshot = off;
ALTER TABLE wide DROP COLUMN vals;
ROLLBACK;
-- approved: one run
BEGIN;
SET LOCAL migsafe.approve = 'dropcol.wide.vals';
SET LOCAL migsafe.snapshot = off;
SELECT att_updates() AS u0 \gset
ALTER TABLE wide DROP COLUMN vals;
SELECT att_updates() - :u0 AS attribute_updates;
COMMIT;

-- indexes, a constraint, statistics on the column go with it, named in
-- the error in the order PostgreSQL drops them
CREATE TABLE idx (id int PRIMARY KEY, v int, w int CHECK (w > 0));
INSERT INTO idx SELECT g, g, g FROM generate_series(1, 100) g;
CREATE INDEX idx_v ON idx (v);
CREATE INDEX idx_w_part ON idx (w) WHERE v > 10;
ALTER TABLE idx ADD CONSTRAINT idx_v_key UNIQUE (v);
ALTER TABLE idx ADD CONSTRAINT idx_v_check CHECK (v > 0);
CREATE INDEX idx_vw_expr ON idx ((v + w));
CREATE STATISTICS idx_stats ON v, w FROM idx;
ALTER TABLE idx DROP COLUMN v;
BEGIN;
SET LOCAL migsafe.mode = warn;
SET LOCAL migsafe.snapshot = off;
SELECT att_updates() AS u0 \gset
ALTER TABLE idx DROP COLUMN v;
SELECT att_updates() - :u0 AS attribute_updates;
ROLLBACK;
UPDATE idx SET v = NULL;
BEGIN;
SELECT att_updates() AS u0 \gset
ALTER TABLE idx DROP COLUMN v;
SELECT att_updates() - :u0 AS attribute_updates;
COMMIT;
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'idx'::regclass ORDER BY 1;

-- what reaches beyond the table's own parts keeps the dry run: a view,
-- a trigger's column list, a policy, a foreign key (the other table's
-- triggers), a generated column, an owned sequence, a publication's
-- column list; PostgreSQL's own errors come first
CREATE TABLE deps (id int PRIMARY KEY, a int, b int, c int, d int, e int,
				   g int GENERATED ALWAYS AS (e * 2) STORED, s serial,
				   f int REFERENCES wide (id));
INSERT INTO deps (id, a, b, c, d, e, f) SELECT g, g, g, g, g, g, g FROM generate_series(1, 100) g;
CREATE VIEW deps_a AS SELECT a FROM deps;
CREATE FUNCTION deps_trig() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER deps_b BEFORE UPDATE OF b ON deps FOR EACH ROW EXECUTE FUNCTION deps_trig();
CREATE POLICY deps_c ON deps USING (c > 0);
SET client_min_messages = error;
CREATE PUBLICATION deps_pub FOR TABLE deps (id, d);
RESET client_min_messages;
ALTER TABLE deps DROP COLUMN a;
ALTER TABLE deps DROP COLUMN b;
ALTER TABLE deps DROP COLUMN c;
ALTER TABLE deps DROP COLUMN d;
ALTER TABLE deps DROP COLUMN e;
ALTER TABLE deps DROP COLUMN s;
ALTER TABLE deps DROP COLUMN f;
DROP PUBLICATION deps_pub;
BEGIN;
SET LOCAL migsafe.approve = 'dropcol.deps.d';
SET LOCAL migsafe.snapshot = off;
SELECT att_updates() AS u0 \gset
ALTER TABLE deps DROP COLUMN d;
SELECT att_updates() - :u0 AS attribute_updates;
COMMIT;

-- a typed table's columns cannot be dropped
CREATE TYPE pair AS (x int, y int);
CREATE TABLE typed OF pair;
INSERT INTO typed VALUES (1, 1);
ALTER TABLE typed DROP COLUMN y;

-- a table in use in this transaction: PostgreSQL's error
CREATE TABLE busy (id int, v int);
INSERT INTO busy VALUES (1, 1);
CREATE FUNCTION busy_trig() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER busy_later AFTER INSERT ON busy
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION busy_trig();
BEGIN;
INSERT INTO busy VALUES (2, 2);
ALTER TABLE busy DROP COLUMN v;
ROLLBACK;
BEGIN;
DECLARE cur CURSOR FOR SELECT * FROM busy;
FETCH cur;
ALTER TABLE busy DROP COLUMN v;
ROLLBACK;

-- inheritance and partitions: the column goes from the children too
CREATE TABLE parent (id int, v int);
CREATE TABLE child () INHERITS (parent);
INSERT INTO parent VALUES (1, NULL);
INSERT INTO child VALUES (2, 2);
ALTER TABLE parent DROP COLUMN v;
ALTER TABLE child DROP COLUMN v;
UPDATE child SET v = NULL;
BEGIN;
SELECT att_updates() AS u0 \gset
ALTER TABLE parent DROP COLUMN v;
SELECT att_updates() - :u0 AS attribute_updates;
COMMIT;
CREATE TABLE parted (id int, v int) PARTITION BY RANGE (id);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10);
INSERT INTO parted VALUES (1, 1);
ALTER TABLE parted DROP COLUMN v;
ALTER TABLE parted_1 DROP COLUMN v;
ALTER TABLE parted DROP COLUMN id;
UPDATE parted SET v = NULL;
BEGIN;
SELECT att_updates() AS u0 \gset
ALTER TABLE parted DROP COLUMN v;
SELECT att_updates() - :u0 AS attribute_updates;
COMMIT;

-- the audit rows of this section
RESET migsafe.trace;
SELECT wait_blocked(:mark, 12) AS written;
SELECT statement, object_identity, scope, decision, approved_by, detail,
	   kept, repeat_count
  FROM dropcol_rows(:mark)
 ORDER BY statement, scope, object_identity, decision, id;
SET client_min_messages = warning;
BEGIN;
SET LOCAL migsafe.approve = 'dropcol.*';
SET LOCAL migsafe.snapshot = off;
DROP SCHEMA dropcol CASCADE;
COMMIT;
RESET client_min_messages;
RESET search_path;

-- a table or column found empty and given data before it goes (by a
-- ddl_command_start event trigger, which fires after the decision) is
-- measured again and refused
CREATE TABLE evt_t (id int, c text);
CREATE TABLE evt_c (id int, c text);
INSERT INTO evt_c VALUES (1, NULL);
CREATE FUNCTION evt_fill() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  IF tg_tag = 'DROP TABLE' THEN INSERT INTO evt_t VALUES (1, 'x'); END IF;
  IF tg_tag = 'ALTER TABLE' THEN UPDATE evt_c SET c = 'secret'; END IF;
END$$;
CREATE EVENT TRIGGER evt_fill ON ddl_command_start EXECUTE FUNCTION evt_fill();
DROP TABLE evt_t;
ALTER TABLE evt_c DROP COLUMN c;
DROP EVENT TRIGGER evt_fill;
SELECT count(*) FROM evt_t;
SELECT * FROM evt_c;
BEGIN;
SET LOCAL migsafe.approve = 'public.evt_c';
SET LOCAL migsafe.snapshot = off;
DROP TABLE evt_c, evt_t;
COMMIT;
DROP FUNCTION evt_fill();

-- a materialized view storing the table's row type holds the values a
-- dropped column blanks, though the table is empty
CREATE TABLE rt (a int, c text);
CREATE MATERIALIZED VIEW rt_mv AS SELECT ROW(1, 'secret')::rt AS x;
ALTER TABLE rt DROP COLUMN c;
SELECT * FROM rt_mv;
BEGIN;
SET LOCAL migsafe.approve = 'public.rt_mv';
SET LOCAL migsafe.snapshot = off;
DROP MATERIALIZED VIEW rt_mv;
DROP TABLE rt;
COMMIT;
