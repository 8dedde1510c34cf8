-- Cascades: objects that are not tables take tables and columns with them.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

-- 1. DROP SCHEMA ... CASCADE: every table in it, one error
CREATE SCHEMA app;
CREATE TABLE app.users (id int);
CREATE TABLE app.sessions (id int);
CREATE TABLE app.empty (id int);
INSERT INTO app.users VALUES (1), (2);
INSERT INTO app.sessions VALUES (1);
DROP SCHEMA app CASCADE;
SELECT count(*) FROM app.users;
BEGIN;
SET LOCAL migsafe.approve = 'app.users';
DROP SCHEMA app CASCADE;
ROLLBACK;
BEGIN;
SET LOCAL migsafe.approve = 'app.*';
DROP SCHEMA app CASCADE;
COMMIT;

-- 2. DROP TYPE (enum) ... CASCADE drops the columns of that type
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE TABLE diary (id int, m mood);
INSERT INTO diary VALUES (1, 'ok');
DROP TYPE mood CASCADE;
SELECT m FROM diary;
BEGIN;
SET LOCAL migsafe.approve = 'public.diary.m';
DROP TYPE mood CASCADE;
COMMIT;
SELECT * FROM diary;

-- 3. DROP DOMAIN ... CASCADE
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE TABLE stock (id int, qty posint);
INSERT INTO stock VALUES (1, 5);
DROP DOMAIN posint CASCADE;
BEGIN;
SET LOCAL migsafe.approve = 'public.stock';
DROP DOMAIN posint CASCADE;
COMMIT;

-- 4. DROP FUNCTION ... CASCADE drops a generated column using it (a column
-- default using it only loses the default: no data)
CREATE FUNCTION twice(int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT $1 * 2';
CREATE FUNCTION seed() RETURNS int LANGUAGE sql AS 'SELECT 7';
CREATE TABLE calc (a int, g int GENERATED ALWAYS AS (twice(a)) STORED,
				   d int DEFAULT seed());
INSERT INTO calc (a) VALUES (1);
DROP FUNCTION seed() CASCADE;
DROP FUNCTION twice(int) CASCADE;
SELECT * FROM calc;
BEGIN;
SET LOCAL migsafe.approve = 'public.calc.g';
DROP FUNCTION twice(int) CASCADE;
COMMIT;

-- 5. DROP COLLATION ... CASCADE
CREATE COLLATION mycoll (provider = icu, locale = 'und');
CREATE TABLE names (id int, n text COLLATE mycoll);
INSERT INTO names VALUES (1, 'x');
DROP COLLATION mycoll CASCADE;
BEGIN;
SET LOCAL migsafe.approve = 'public.names.n';
DROP COLLATION mycoll CASCADE;
COMMIT;

-- 6. DROP EXTENSION ... CASCADE drops columns of the extension's types
CREATE EXTENSION hstore;
CREATE TABLE props (id int, kv hstore);
INSERT INTO props VALUES (1, 'a=>1');
DROP EXTENSION hstore CASCADE;
SELECT kv FROM props;
BEGIN;
SET LOCAL migsafe.approve = 'public.props.kv';
DROP EXTENSION hstore CASCADE;
COMMIT;

-- 7. DROP VIEW ... CASCADE drops columns of the view's row type
CREATE VIEW one_v AS SELECT 1 AS x;
CREATE TABLE snapshots_of_v (id int, v one_v);
INSERT INTO snapshots_of_v VALUES (1, ROW(1));
DROP VIEW one_v CASCADE;
BEGIN;
SET LOCAL migsafe.approve = 'public.snapshots_of_v.v';
DROP VIEW one_v CASCADE;
COMMIT;

-- 8. DROP ACCESS METHOD ... CASCADE drops the tables using it
CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler;
CREATE TABLE on_heap2 (x int) USING heap2;
INSERT INTO on_heap2 VALUES (1);
DROP ACCESS METHOD heap2 CASCADE;
BEGIN;
SET LOCAL migsafe.approve = 'public.on_heap2';
DROP ACCESS METHOD heap2 CASCADE;
COMMIT;

-- 9. DROP TEXT SEARCH CONFIGURATION ... CASCADE drops a generated column
CREATE TEXT SEARCH CONFIGURATION my_ts (COPY = simple);
CREATE TABLE docs (body text,
				   tsv tsvector GENERATED ALWAYS AS (to_tsvector('my_ts', body)) STORED);
INSERT INTO docs (body) VALUES ('hello world');
DROP TEXT SEARCH CONFIGURATION my_ts CASCADE;
BEGIN;
SET LOCAL migsafe.approve = 'public.docs.tsv';
DROP TEXT SEARCH CONFIGURATION my_ts CASCADE;
COMMIT;

-- 10. DROP OWNED drops every table a role owns
CREATE ROLE regress_owner;
GRANT CREATE ON SCHEMA public TO regress_owner;
SET ROLE regress_owner;
CREATE TABLE owned_1 (x int);
CREATE TABLE owned_2 (x int);
INSERT INTO owned_1 VALUES (1);
RESET ROLE;
DROP OWNED BY regress_owner;
SELECT count(*) FROM owned_1;
BEGIN;
SET LOCAL migsafe.approve = 'public.owned_1';
DROP OWNED BY regress_owner;
COMMIT;
SELECT to_regclass('owned_1') IS NULL AS gone;
DROP ROLE regress_owner;
