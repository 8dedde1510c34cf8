-- migsafe.rehearse(): a script run for real in a subtransaction that is
-- always rolled back, with what each statement did.  Destructive
-- statements run unapproved (nothing survives) and leave one audit row.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

CREATE SCHEMA reh;
SET search_path = reh, public;
CREATE TABLE orders (id int PRIMARY KEY, note text, code varchar(10), at timestamp);
INSERT INTO orders SELECT g, 'n' || g, 'c' || g, '2026-01-01' FROM generate_series(1, 200) g;
CREATE TABLE items (id int PRIMARY KEY, order_id int REFERENCES orders (id));
INSERT INTO items SELECT g, g FROM generate_series(1, 20) g;
CREATE VIEW order_notes AS SELECT id, note FROM orders;
SELECT md5(string_agg(o::text, ',' ORDER BY id)) AS orders_md5 FROM orders o \gset
-- rehearsals are audited through the queue: wait for the writer
CREATE FUNCTION wait_rehearsals(n int) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1 .. 400 LOOP
		IF (SELECT count(*) FROM migsafe.audit_log WHERE command_tag = 'REHEARSE') >= n THEN
			RETURN true;
		END IF;
		PERFORM pg_sleep(0.05);
	END LOOP;
	RETURN false;
END $$;
SELECT count(*) AS rehearsals_before FROM migsafe.audit_log WHERE command_tag = 'REHEARSE' \gset
SELECT count(*) AS snapshots_before FROM migsafe.snapshots \gset

-- every statement: its outcome, the locks it took first, what it gave new
-- storage, the rows it touched, and check()'s prediction
SET timezone = 'UTC';
SELECT statement_no, line, outcome, locks, rewritten, rows, predicted, differs,
	   ms >= 0 AS timed
  FROM migsafe.rehearse($$
ALTER TABLE orders ADD COLUMN extra int;
UPDATE orders SET extra = id WHERE id <= 10;
CREATE INDEX ON items (order_id);
ALTER TABLE orders ALTER COLUMN code TYPE text;
ALTER TABLE orders ALTER COLUMN at TYPE timestamptz;
ALTER TABLE orders ALTER COLUMN code TYPE int USING length(code);
CREATE INDEX CONCURRENTLY ON orders (note);
BEGIN;
TRUNCATE items;
DROP TABLE orders CASCADE;
COMMIT;
$$);
RESET timezone;

-- nothing of it survived: rows, columns, view, index
SELECT md5(string_agg(o::text, ',' ORDER BY id)) = :'orders_md5' AS orders_intact FROM orders o;
SELECT count(*) AS items FROM items;
SELECT count(*) AS view_kept FROM order_notes;
SELECT count(*) AS indexes_on_items FROM pg_indexes WHERE schemaname = 'reh' AND tablename = 'items';
-- one audit row, "rehearsed", and no approval recorded
SELECT wait_rehearsals(:rehearsals_before + 1);
SELECT command_tag, decision, approved_by, detail
  FROM migsafe.audit_log WHERE command_tag = 'REHEARSE'
 ORDER BY id DESC LIMIT 1;
SELECT count(*) - :snapshots_before AS snapshots_kept FROM migsafe.snapshots;

-- a table the statement drops is named with its lock
SELECT statement_no, outcome, locks FROM migsafe.rehearse('DROP TABLE items');
SELECT count(*) AS items_back FROM items;

-- a rehearsal cut short by the caller's statement_timeout is audited
-- too (its row is queued before anything runs)
SELECT count(*) AS rehearsals_so_far FROM migsafe.audit_log WHERE command_tag = 'REHEARSE' \gset
SET statement_timeout = '300ms';
SELECT statement_no, outcome FROM migsafe.rehearse('SELECT pg_sleep(5)', statement_timeout => '1min');
RESET statement_timeout;
SELECT wait_rehearsals(:rehearsals_so_far + 1) AS interrupted_one_audited;

-- the first error ends the rehearsal, as it ends a migration
SELECT statement_no, outcome, rows
  FROM migsafe.rehearse($$DELETE FROM items WHERE id > 15;
UPDATE no_such_table SET x = 1;
DROP TABLE items;$$);
SELECT statement_no, outcome FROM migsafe.rehearse('SELECT 1; SELEC 2; SELECT 3');
SELECT count(*) AS items_still FROM items;

-- migsafe's own objects stay protected inside a rehearsal
SELECT statement_no, outcome FROM migsafe.rehearse('TRUNCATE migsafe.audit_log');

-- the timeouts it runs under
SELECT statement_no, outcome
  FROM migsafe.rehearse('SELECT pg_sleep(0.5)', statement_timeout => '100ms');
SELECT statement_no, outcome
  FROM migsafe.rehearse('SELECT 1', statement_timeout => 'soon');
SELECT statement_no, outcome
  FROM migsafe.rehearse('SELECT 1', lock_timeout => '-1s');

-- not for everyone: the DBA grants it
CREATE ROLE reh_ci;
SET ROLE reh_ci;
SELECT * FROM migsafe.rehearse('SELECT 1');
RESET ROLE;
DROP ROLE reh_ci;

RESET search_path;
SET client_min_messages = warning;
BEGIN;
SET LOCAL migsafe.approve = 'reh.*';
DROP SCHEMA reh CASCADE;
COMMIT;
