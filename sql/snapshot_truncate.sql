--
-- Snapshots of truncated tables: the rows are kept before TRUNCATE runs
-- (the table's own storage, user types included; see snapshot_swap and
-- snapshot_types) and restore inserts them again, refusing when they
-- would collide.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;
CREATE SCHEMA st;
SET search_path = st, public;

CREATE FUNCTION tsnap(name text) RETURNS bigint LANGUAGE sql AS
$$ SELECT max(id) FROM migsafe.snapshots WHERE object_identity = name $$;
CREATE FUNCTION tfingerprint(rel regclass) RETURNS text LANGUAGE plpgsql AS
$$ DECLARE r text;
BEGIN
	EXECUTE format('SELECT count(*) || '' '' || md5(coalesce(string_agg(t::text, '','' ORDER BY t::text), '''')) FROM %s t', rel)
	INTO r;
	RETURN r;
END $$;

-- 1. TRUNCATE: every row, TOASTed values and user types included
CREATE TYPE status AS ENUM ('new', 'paid', 'shipped');
CREATE DOMAIN cents AS bigint CHECK (VALUE >= 0);
CREATE TABLE invoices (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	st status NOT NULL,
	amount cents,
	doc jsonb,
	blob text,
	total_with_tax numeric GENERATED ALWAYS AS (amount * 1.2) STORED
);
INSERT INTO invoices (st, amount, doc, blob)
	SELECT (ARRAY['new', 'paid', 'shipped'])[g % 3 + 1]::status, g * 100,
		   jsonb_build_object('n', g), repeat(md5(g::text), 300)
	  FROM generate_series(1, 200) g;
SELECT tfingerprint('invoices') AS before \gset
BEGIN;
SET LOCAL migsafe.approve = 'st.invoices';
TRUNCATE invoices;
COMMIT;
SELECT count(*) AS left_after_truncate FROM invoices;
SELECT operation, method, row_count, status FROM migsafe.snapshots WHERE id = tsnap('st.invoices');
-- the kept storage keeps the user's types (see snapshot_types)
SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
 WHERE a.attrelid = (SELECT storage::regclass FROM migsafe.snapshots WHERE id = tsnap('st.invoices'))
   AND a.attnum > 0 ORDER BY a.attnum;
-- rows inserted since collide: the restore refuses and changes nothing
INSERT INTO invoices (id, st, amount) OVERRIDING SYSTEM VALUE VALUES (5, 'new', 1);
SELECT migsafe.restore('st.invoices');
SELECT count(*) AS still_one FROM invoices;
DELETE FROM invoices;
SELECT migsafe.restore('st.invoices') AS restored;
SELECT tfingerprint('invoices') = :'before' AS same_data;
SELECT status FROM migsafe.snapshots WHERE id = tsnap('st.invoices');
-- the enum type and the domain can go now: the kept columns become text
-- and bigint first
BEGIN;
SET LOCAL migsafe.approve = 'st.invoices';
TRUNCATE invoices;
COMMIT;
BEGIN;
SET LOCAL migsafe.approve = 'st.invoices';
DROP TABLE invoices;
DROP TYPE status;
DROP DOMAIN cents;
COMMIT;
SELECT object_identity, operation, method, status FROM migsafe.snapshots
 WHERE object_identity = 'st.invoices' ORDER BY id;

-- 2. TRUNCATE ... CASCADE and RESTART IDENTITY
CREATE TABLE parents (id serial PRIMARY KEY, name text);
CREATE TABLE kids (id int, parent_id int REFERENCES parents);
INSERT INTO parents (name) SELECT 'p' || g FROM generate_series(1, 10) g;
INSERT INTO kids SELECT g, g FROM generate_series(1, 10) g;
SELECT tfingerprint('parents') AS parents_before, tfingerprint('kids') AS kids_before \gset
BEGIN;
SET LOCAL migsafe.approve = 'st.parents, st.kids';
TRUNCATE parents RESTART IDENTITY CASCADE;
COMMIT;
SELECT object_identity, operation, method, row_count FROM migsafe.snapshots
 WHERE object_identity IN ('st.parents', 'st.kids', 'st.parents_id_seq')
 ORDER BY id;
SELECT nextval('parents_id_seq') AS reset_to;
-- parents first, then the rows that reference them
SELECT migsafe.restore('st.kids');
SELECT migsafe.restore('st.parents') AS parents, migsafe.restore('st.kids') AS kids;
SELECT tfingerprint('parents') = :'parents_before' AS parents_same,
	   tfingerprint('kids') = :'kids_before' AS kids_same;
-- RESTART IDENTITY reset the sequence: restore moves it past the rows again
SELECT nextval('parents_id_seq') AS next_id;

-- 3. the restore puts rows back into the table as it is now, and refuses
-- when a column of the snapshot is gone
CREATE TABLE events (id int, what text, extra text);
INSERT INTO events VALUES (1, 'a', 'x'), (2, 'b', 'y');
BEGIN;
SET LOCAL migsafe.approve = 'st.events';
TRUNCATE events;
COMMIT;
ALTER TABLE events DROP COLUMN extra;
SELECT migsafe.restore('st.events');
ALTER TABLE events ADD COLUMN extra text, ADD COLUMN added_later int DEFAULT 7;
SELECT migsafe.restore('st.events') AS restored;
SELECT * FROM events ORDER BY id;

-- 4. warn mode keeps snapshots too; mode off keeps none
CREATE TABLE logs (id int);
INSERT INTO logs VALUES (1), (2);
SET migsafe.mode = warn;
TRUNCATE logs;
RESET migsafe.mode;
SELECT migsafe.restore('st.logs') AS restored;
SET migsafe.mode = off;
TRUNCATE logs;
RESET migsafe.mode;
SELECT count(*) AS kept_in_off_mode FROM migsafe.snapshots
 WHERE object_identity = 'st.logs' AND status = 'kept';
