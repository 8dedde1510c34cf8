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
-- a column of that name, of a type the values do not convert to, is in
-- the way: refused (a compatible one is filled: see restore_into)
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

-- 6. a column dropped together with other subcommands still counts for
-- the tables that store the row type (blanked there)
CREATE TABLE addr2 (street text, zip int, city text);
CREATE TABLE homes (id int PRIMARY KEY, home addr2);
INSERT INTO homes VALUES (1, ROW('Main St', 12345, 'Springfield')::addr2);
BEGIN;
SET LOCAL migsafe.approve = 'sc.addr2.zip';
ALTER TABLE addr2 DROP COLUMN zip, ALTER COLUMN street SET DEFAULT 'x';
ROLLBACK;
SELECT home FROM homes;

-- 7. values kept as text read back the same whatever the session's
-- DateStyle and float settings were
CREATE DOMAIN ddate AS date;
CREATE DOMAIN dfloat AS float8;
CREATE TABLE dd (id int PRIMARY KEY, d ddate, f dfloat);
INSERT INTO dd VALUES (1, '2020-02-01', 3.14159265358979);
SET datestyle = 'SQL, DMY';
SET extra_float_digits = -15;
BEGIN;
SET LOCAL migsafe.approve = 'sc.dd';
TRUNCATE dd;
COMMIT;
RESET datestyle;
RESET extra_float_digits;
SELECT migsafe.restore('sc.dd') AS restored;
SELECT id, d, f FROM dd;

-- 8. without a key, rows alike apart from the column but with different
-- values in it cannot be told apart: restore refuses
CREATE TABLE k (a int, b int);
INSERT INTO k VALUES (1, 10), (1, 20), (2, 30);
BEGIN;
SET LOCAL migsafe.approve = 'sc.k.b';
ALTER TABLE k DROP COLUMN b;
COMMIT;
SELECT migsafe.restore('sc.k.b');
SELECT count(*) AS still_kept FROM migsafe.snapshots WHERE object_identity = 'sc.k.b' AND status = 'kept';

-- 9. a serial or identity column comes back with its sequence and value
CREATE TABLE sq (k text PRIMARY KEY, n serial, g int GENERATED ALWAYS AS IDENTITY);
INSERT INTO sq (k) SELECT 'k' || g FROM generate_series(1, 5) g;
BEGIN;
SET LOCAL migsafe.approve = 'sc.sq.n, sc.sq.g';
ALTER TABLE sq DROP COLUMN n, DROP COLUMN g;
COMMIT;
SELECT migsafe.restore('sc.sq.n') AS n_restored, migsafe.restore('sc.sq.g') AS g_restored;
INSERT INTO sq (k) VALUES ('k6');
SELECT k, n, g FROM sq ORDER BY k;
\d sq

-- 10. DROP IDENTITY keeps the sequence's state, and restore makes the
-- column an identity again with it; an identity RESTART keeps one snapshot
CREATE TABLE idd (id int GENERATED ALWAYS AS IDENTITY, v int);
INSERT INTO idd (v) VALUES (1), (2), (3);
BEGIN;
SET LOCAL migsafe.approve = 'sc.idd';
ALTER TABLE idd ALTER COLUMN id RESTART;
COMMIT;
SELECT count(*) AS restart_snapshots FROM migsafe.snapshots
 WHERE object_identity = 'sc.idd_id_seq' AND operation = 'restart';
SELECT migsafe.restore('sc.idd_id_seq') AS restored;
BEGIN;
SET LOCAL migsafe.approve = 'sc.idd';
ALTER TABLE idd ALTER COLUMN id DROP IDENTITY;
COMMIT;
SELECT migsafe.restore('sc.idd_id_seq') AS restored;
INSERT INTO idd (v) VALUES (4);
SELECT id, v FROM idd ORDER BY v;

-- 11. arrays and XML kept as text read back the same whatever the
-- restoring session's array_nulls and xmloption say
CREATE DOMAIN textd AS text;
CREATE DOMAIN xmld AS xml;
CREATE TABLE an (id int PRIMARY KEY, ta textd[], x xmld);
INSERT INTO an VALUES (1, '{NULL,"NULL",x}', 'abc<a/>');
BEGIN;
SET LOCAL migsafe.approve = 'sc.an';
TRUNCATE an;
COMMIT;
BEGIN;
SET LOCAL array_nulls = off;
SET LOCAL xmloption = document;
SELECT migsafe.restore('sc.an') AS restored;
COMMIT;
SELECT ta, ta[1] IS NULL AS first_is_null, x::text FROM an;

-- 12. DROP COLUMN of a column with indexes and a constraint on it (decided
-- without a dry run) and of an inheritance parent's column (with one):
-- both kept and restored alike
CREATE TABLE ixc (id int PRIMARY KEY, v text, w int);
INSERT INTO ixc SELECT g, CASE WHEN g % 3 <> 0 THEN 'v' || g END, g FROM generate_series(1, 100) g;
CREATE INDEX ixc_v ON ixc (v);
ALTER TABLE ixc ADD CONSTRAINT ixc_v_key UNIQUE (v);
ALTER TABLE ixc ADD CONSTRAINT ixc_v_check CHECK (v <> '');
SELECT md5(string_agg(format('%s|%s', id, v), ',' ORDER BY id)) AS before FROM ixc \gset
BEGIN;
SET LOCAL migsafe.approve = 'sc.ixc.v';
ALTER TABLE ixc DROP COLUMN v;
COMMIT;
SELECT operation, object_type, method, key_columns, row_count
  FROM migsafe.snapshots WHERE id = csnap('sc.ixc.v');
SELECT migsafe.restore('sc.ixc.v') AS restored;
SELECT md5(string_agg(format('%s|%s', id, v), ',' ORDER BY id)) = :'before' AS same_data
  FROM ixc;
SELECT command_tag, object_identity, decision, approved_by, snapshot_id = csnap('sc.ixc.v') AS kept
  FROM migsafe.audit_log WHERE statement = 'ALTER TABLE ixc DROP COLUMN v'
 ORDER BY id;

CREATE TABLE inh_p (id int PRIMARY KEY, v int);
CREATE TABLE inh_c (id int PRIMARY KEY) INHERITS (inh_p);
INSERT INTO inh_p VALUES (1, 10), (2, NULL);
INSERT INTO inh_c VALUES (3, 30);
BEGIN;
SET LOCAL migsafe.approve = 'sc.inh_p.v, sc.inh_c.v';
ALTER TABLE inh_p DROP COLUMN v;
COMMIT;
SELECT object_identity, operation, row_count FROM migsafe.snapshots
 WHERE object_identity IN ('sc.inh_p.v', 'sc.inh_c.v') ORDER BY id;
SELECT command_tag, object_identity, decision, approved_by, snapshot_id IS NOT NULL AS kept
  FROM migsafe.audit_log WHERE statement = 'ALTER TABLE inh_p DROP COLUMN v'
 ORDER BY object_identity, id;
