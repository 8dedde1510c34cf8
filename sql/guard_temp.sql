-- Permanent data cannot be made to depend on temporary objects: at the
-- end of the session or at DISCARD TEMP (what connection poolers run),
-- PostgreSQL drops temporary objects and, in the same internal cleanup,
-- what depends on them, without asking any hook.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

CREATE TYPE pg_temp.tmp_pair AS (a int, b text);
CREATE DOMAIN pg_temp.tmp_int AS int;
CREATE FUNCTION pg_temp.tmp_double(int) RETURNS int IMMUTABLE
  LANGUAGE sql AS 'SELECT $1 * 2';
CREATE COLLATION pg_temp.tmp_c (locale = 'C');

CREATE TABLE typed_later (a int, b text);
INSERT INTO typed_later VALUES (1, 'kept');
CREATE TABLE wide (id int PRIMARY KEY);
INSERT INTO wide VALUES (1), (2);

-- 1. refused, whatever the statement
ALTER TABLE typed_later OF pg_temp.tmp_pair;
ALTER TABLE wide ADD COLUMN c pg_temp.tmp_int DEFAULT 5;
ALTER TABLE wide ADD COLUMN g int GENERATED ALWAYS AS (pg_temp.tmp_double(id)) STORED;
ALTER TABLE wide ADD COLUMN t text COLLATE pg_temp.tmp_c;
CREATE TABLE new_typed OF pg_temp.tmp_pair;
CREATE TABLE new_col (c pg_temp.tmp_int);
CREATE TABLE new_gen (id int, g int GENERATED ALWAYS AS (pg_temp.tmp_double(id)) STORED);
CREATE TABLE new_as AS SELECT 1::pg_temp.tmp_int AS c;
CREATE TYPE perm_pair AS (x pg_temp.tmp_int);
CREATE DOMAIN perm_int AS pg_temp.tmp_int;
CREATE FUNCTION perm_double(int) RETURNS int IMMUTABLE LANGUAGE sql
  BEGIN ATOMIC SELECT pg_temp.tmp_double($1); END;
-- and every link of a chain: what depends on a permanent object that
-- depends on a temporary one goes at the cleanup too
CREATE VIEW perm_view AS SELECT pg_temp.tmp_double(1) AS x;
CREATE MATERIALIZED VIEW perm_mv AS SELECT pg_temp.tmp_double(g) FROM generate_series(1, 3) g;
CREATE OPERATOR public.|~| (function = pg_temp.tmp_double, rightarg = int);
CREATE FUNCTION pg_temp.tmp_validator(text[], oid) RETURNS void
  LANGUAGE plpgsql AS 'BEGIN END';
CREATE FOREIGN DATA WRAPPER perm_fdw VALIDATOR pg_temp.tmp_validator;
CREATE TABLE becomes_view (x int);
CREATE RULE "_RETURN" AS ON SELECT TO becomes_view DO INSTEAD
  SELECT pg_temp.tmp_double(1) AS x;
CREATE TABLE retyped (id int, c int);
ALTER TABLE retyped ALTER COLUMN c TYPE pg_temp.tmp_int;
-- even approved: the later cleanup would not be
BEGIN;
SET LOCAL migsafe.approve = '*';
ALTER TABLE wide ADD COLUMN c pg_temp.tmp_int;
ROLLBACK;

-- 2. allowed: temporary objects depending on temporary objects, and
-- permanent objects whose loss is no data (a default, a check, an index)
CREATE TEMP TABLE tmp_typed OF pg_temp.tmp_pair;
CREATE TABLE with_default (id int DEFAULT pg_temp.tmp_double(1));
CREATE TABLE with_check (id int CHECK (pg_temp.tmp_double(id) > 0));
CREATE INDEX wide_double ON wide (pg_temp.tmp_double(id));
CREATE FUNCTION pg_temp.tmp_trigger() RETURNS trigger LANGUAGE plpgsql
  AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER wide_temp BEFORE INSERT ON wide
  FOR EACH ROW EXECUTE FUNCTION pg_temp.tmp_trigger();

-- 3. the cleanup takes nothing that holds data
DISCARD TEMP;
SELECT * FROM typed_later;
SELECT * FROM wide ORDER BY id;
SELECT count(*) AS survivors FROM pg_class
 WHERE relname IN ('with_default', 'with_check', 'typed_later', 'wide',
                   'becomes_view');

-- 4. warn mode lets it through, with a WARNING
SET migsafe.mode = warn;
CREATE DOMAIN pg_temp.tmp_int AS int;
CREATE TABLE warned (c pg_temp.tmp_int);
RESET migsafe.mode;
DROP TABLE warned;
