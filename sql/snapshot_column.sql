--
-- Snapshots of dropped, retyped and cascaded columns: the key and the old
-- values are copied; restore adds the column back (or its old type) and
-- puts every value back on its row.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;
CREATE SCHEMA sc;
SET search_path = sc, public;

CREATE FUNCTION csnap(name text) RETURNS bigint LANGUAGE sql AS
$$ SELECT max(id) FROM migsafe.snapshots WHERE object_identity = name $$;

CREATE TABLE people (id int PRIMARY KEY, name text, phone text, score numeric(6,2));
INSERT INTO people SELECT g, 'p' || g, CASE WHEN g % 4 <> 0 THEN '555-' || g END, g * 1.25
  FROM generate_series(1, 100) g;
SELECT md5(string_agg(format('%s|%s|%s', id, phone, score), ',' ORDER BY id)) AS before FROM people \gset

-- 1. DROP COLUMN: key and values kept
BEGIN;
SET LOCAL migsafe.approve = 'sc.people.phone';
ALTER TABLE people DROP COLUMN phone;
COMMIT;
SELECT operation, object_type, method, key_columns, row_count
  FROM migsafe.snapshots WHERE id = csnap('sc.people.phone');
-- a column of that name is in the way: refused
ALTER TABLE people ADD COLUMN phone int;
SELECT migsafe.restore('sc.people.phone');
ALTER TABLE people DROP COLUMN phone;
INSERT INTO people VALUES (101, 'new', 1);
SELECT migsafe.restore('sc.people.phone') AS restored;
SELECT md5(string_agg(format('%s|%s|%s', id, phone, score), ',' ORDER BY id)) = :'before' AS same_data
  FROM people WHERE id <= 100;
SELECT phone FROM people WHERE id = 101;

-- 2. ALTER COLUMN TYPE: a lossy conversion, undone
BEGIN;
SET LOCAL migsafe.approve = 'sc.people.score';
ALTER TABLE people ALTER COLUMN score TYPE int USING score::int;
COMMIT;
SELECT score FROM people WHERE id = 1;
SELECT operation, method, key_columns FROM migsafe.snapshots WHERE id = csnap('sc.people.score');
SELECT migsafe.restore('sc.people.score') AS restored;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'people'::regclass AND attname = 'score';
SELECT md5(string_agg(format('%s|%s|%s', id, phone, score), ',' ORDER BY id)) = :'before' AS same_data
  FROM people WHERE id <= 100;
-- changing the column back is itself a change of type, approved by the
-- restore for that column only: it keeps a snapshot of the values it
-- converted (row 101's), and is audited
SELECT operation, row_count, status FROM migsafe.snapshots
 WHERE object_identity = 'sc.people.score' ORDER BY id;
SELECT command_tag, decision, approved_by FROM migsafe.audit_log
 WHERE scope = 'object' AND object_identity = 'sc.people.score' ORDER BY id;

-- 3. DROP TYPE ... CASCADE drops a column; its values are kept as text,
-- independent of the type that goes
CREATE TYPE mood AS ENUM ('happy', 'sad');
ALTER TABLE people ADD COLUMN m mood;
UPDATE people SET m = CASE WHEN id % 2 = 0 THEN 'happy' ELSE 'sad' END::mood;
BEGIN;
SET LOCAL migsafe.approve = 'sc.people.m';
DROP TYPE mood CASCADE;
COMMIT;
SELECT format_type(a.atttypid, a.atttypmod) AS kept_as FROM pg_attribute a
 WHERE a.attrelid = (SELECT storage::regclass FROM migsafe.snapshots WHERE id = csnap('sc.people.m'))
   AND a.attname = 'm';
SELECT migsafe.restore('sc.people.m') AS restored;
SELECT m, count(*) FROM people GROUP BY m ORDER BY m;

-- 4. a table without a key: the whole row identifies a value
CREATE TABLE loose (a int, b text, c text);
INSERT INTO loose VALUES (1, 'x', 'c1'), (2, NULL, 'c2'), (2, NULL, 'c2'), (3, 'z', NULL);
BEGIN;
SET LOCAL migsafe.approve = 'sc.loose.c';
ALTER TABLE loose DROP COLUMN c;
COMMIT;
SELECT key_columns IS NULL AS whole_row, row_count FROM migsafe.snapshots WHERE id = csnap('sc.loose.c');
SELECT migsafe.restore('sc.loose.c') AS restored;
SELECT * FROM loose ORDER BY a, c;

-- 5. the column of a composite type that loses an attribute: kept, but
-- restore cannot put it back by itself
CREATE TYPE addr AS (street text, zip text);
CREATE TABLE shops (id int PRIMARY KEY, a addr);
INSERT INTO shops VALUES (1, ROW('Main St', '12345'));
BEGIN;
SET LOCAL migsafe.approve = 'sc.shops.a';
ALTER TYPE addr DROP ATTRIBUTE zip;
COMMIT;
SELECT operation, method FROM migsafe.snapshots WHERE id = csnap('sc.shops.a');
SELECT migsafe.restore('sc.shops.a');
