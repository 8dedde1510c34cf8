-- migsafe.check(): the preview of a migration script against this
-- database.  A corpus of statements over tables with rows (f_*) and
-- without (e_*), scripts whose statements depend on earlier ones, bad
-- input, and proof that a preview changes nothing and keeps no lock.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

CREATE SCHEMA lint;
SET search_path = lint, public;
CREATE TABLE f_orders (id serial PRIMARY KEY, note text, amount numeric(10,2),
					   code varchar(10), state text);
INSERT INTO f_orders (note, amount, code, state)
	SELECT 'n' || g, g, 'c' || g, 'new' FROM generate_series(1, 300) g;
CREATE TABLE f_items (id int PRIMARY KEY, order_id int REFERENCES f_orders (id), qty int);
INSERT INTO f_items SELECT g, g, 1 FROM generate_series(1, 50) g;
CREATE TABLE e_orders (id int PRIMARY KEY, note text, code varchar(10));
CREATE TABLE f_checked (id int, v text, CONSTRAINT v_nn CHECK (v IS NOT NULL));
INSERT INTO f_checked VALUES (1, 'a');
CREATE VIEW v_orders AS SELECT id, note FROM f_orders;
CREATE INDEX f_orders_note ON f_orders (note);
CREATE UNIQUE INDEX f_orders_code ON f_orders (code);
CREATE INDEX e_orders_note ON e_orders (note);
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE DOMAIN posint AS int;
CREATE TABLE f_moods (id int, m mood, p posint);
INSERT INTO f_moods VALUES (1, 'ok', 1);
CREATE SEQUENCE counter;
CREATE TABLE f_parts (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE f_parts_2026 PARTITION OF f_parts FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO f_parts VALUES (1, '2026-05-01'), (2, '2026-06-01');
CREATE ROLE lint_owner;
CREATE TABLE f_owned (id int);
INSERT INTO f_owned VALUES (1);
ALTER TABLE f_owned OWNER TO lint_owner;
CREATE TABLE "Mixed Case" ("Odd Col" int);
INSERT INTO "Mixed Case" VALUES (1);
ANALYZE;

-- every finding of one script, as a DBA reads it
CREATE FUNCTION chk(script text, exclude text[] DEFAULT '{}')
RETURNS TABLE (n int, line int, class text, rule text, message text)
LANGUAGE sql AS $$
	SELECT statement_no, line, class, rule, message
	  FROM migsafe.check(script, exclude) ORDER BY 1, 4, 5
$$;

-- 1. The corpus: each statement alone (class and rule of each finding;
-- a statement with none shows one row of NULLs)
CREATE TABLE corpus (id serial, stmt text);
INSERT INTO corpus (stmt) VALUES
	('DROP TABLE f_items'),
	('DROP TABLE e_orders'),
	('DROP TABLE IF EXISTS no_such_table'),
	('DROP TABLE f_orders'),
	('DROP TABLE f_orders CASCADE'),
	('DROP TABLE f_parts'),
	('DROP MATERIALIZED VIEW IF EXISTS no_mv'),
	('DROP VIEW v_orders'),
	('DROP SEQUENCE counter'),
	('DROP SCHEMA lint'),
	('DROP TYPE mood CASCADE'),
	('DROP DOMAIN posint CASCADE'),
	('DROP DATABASE some_db'),
	('DROP OWNED BY lint_owner'),
	('TRUNCATE f_items'),
	('TRUNCATE e_orders'),
	('TRUNCATE f_orders CASCADE'),
	('TRUNCATE f_parts'),
	('TRUNCATE ONLY f_parts_2026'),
	('ALTER TABLE f_orders DROP COLUMN note'),
	('ALTER TABLE e_orders DROP COLUMN note'),
	('ALTER TABLE f_orders ALTER COLUMN code TYPE varchar(20)'),
	('ALTER TABLE f_orders ALTER COLUMN code TYPE text'),
	('ALTER TABLE f_orders ALTER COLUMN code TYPE varchar(5)'),
	('ALTER TABLE f_orders ALTER COLUMN amount TYPE numeric(12,2)'),
	('ALTER TABLE f_orders ALTER COLUMN amount TYPE numeric(12,4)'),
	('ALTER TABLE f_orders ALTER COLUMN amount TYPE int USING amount::int'),
	('ALTER TABLE e_orders ALTER COLUMN code TYPE int USING code::int'),
	('ALTER TABLE f_orders ALTER COLUMN id DROP IDENTITY IF EXISTS'),
	('ALTER TABLE f_orders SET UNLOGGED'),
	('ALTER TABLE f_orders SET LOGGED'),
	('ALTER SEQUENCE counter RESTART'),
	('ALTER SEQUENCE counter INCREMENT BY 2'),
	('ALTER TABLE f_orders RENAME TO orders2'),
	('ALTER TABLE e_orders RENAME TO orders3'),
	('ALTER TABLE f_orders RENAME COLUMN note TO notes'),
	('ALTER TABLE f_orders ADD COLUMN x int NOT NULL'),
	('ALTER TABLE e_orders ADD COLUMN x int NOT NULL'),
	('ALTER TABLE f_orders ADD COLUMN x int NOT NULL DEFAULT 0'),
	('ALTER TABLE f_orders ADD COLUMN x int'),
	('ALTER TABLE f_orders ADD COLUMN y uuid DEFAULT gen_random_uuid()'),
	('ALTER TABLE f_orders ADD COLUMN y timestamptz DEFAULT clock_timestamp()'),
	('ALTER TABLE f_orders ADD COLUMN z timestamptz DEFAULT now()'),
	('ALTER TABLE f_orders ADD COLUMN s bigserial'),
	('ALTER TABLE e_orders ADD COLUMN s bigserial'),
	('ALTER TABLE f_orders ADD COLUMN g int GENERATED ALWAYS AS (id * 2) STORED'),
	('ALTER TABLE f_orders ADD COLUMN u int UNIQUE'),
	('ALTER TABLE f_orders ADD COLUMN note text'),
	('ALTER TABLE f_orders ADD COLUMN IF NOT EXISTS note text'),
	('ALTER TABLE f_orders ALTER COLUMN note SET NOT NULL'),
	('ALTER TABLE e_orders ALTER COLUMN note SET NOT NULL'),
	('ALTER TABLE f_checked ALTER COLUMN v SET NOT NULL'),
	('ALTER TABLE f_orders ALTER COLUMN id DROP NOT NULL'),
	('ALTER TABLE f_orders ALTER COLUMN id DROP DEFAULT'),
	('ALTER TABLE f_orders ALTER COLUMN state SET DEFAULT ''old'''),
	('ALTER TABLE f_orders DROP CONSTRAINT f_orders_pkey CASCADE'),
	('ALTER TABLE f_items ADD CONSTRAINT fk2 FOREIGN KEY (order_id) REFERENCES f_orders (id)'),
	('ALTER TABLE f_items ADD CONSTRAINT fk2 FOREIGN KEY (order_id) REFERENCES f_orders (id) NOT VALID'),
	('ALTER TABLE f_items VALIDATE CONSTRAINT f_items_order_id_fkey'),
	('ALTER TABLE f_orders ADD CONSTRAINT pos CHECK (amount > 0)'),
	('ALTER TABLE f_orders ADD CONSTRAINT pos CHECK (amount > 0) NOT VALID'),
	('ALTER TABLE e_orders ADD CONSTRAINT pos CHECK (id > 0)'),
	('ALTER TABLE f_orders ADD CONSTRAINT u_note UNIQUE (note)'),
	('ALTER TABLE f_orders ADD CONSTRAINT u_code UNIQUE USING INDEX f_orders_code'),
	('ALTER TABLE f_items ADD PRIMARY KEY (id, qty)'),
	('ALTER TABLE f_parts DETACH PARTITION f_parts_2026'),
	('ALTER TABLE f_parts DETACH PARTITION f_parts_2026 CONCURRENTLY'),
	('CREATE INDEX ON f_orders (state)'),
	('CREATE INDEX CONCURRENTLY ON f_orders (state)'),
	('CREATE INDEX ON e_orders (code)'),
	('CREATE INDEX f_orders_note ON f_orders (note)'),
	('CREATE INDEX IF NOT EXISTS f_orders_note ON f_orders (note)'),
	('DROP INDEX f_orders_note'),
	('DROP INDEX CONCURRENTLY f_orders_note'),
	('DROP INDEX e_orders_note'),
	('REINDEX TABLE f_orders'),
	('REINDEX TABLE CONCURRENTLY f_orders'),
	('REINDEX INDEX f_orders_note'),
	('VACUUM FULL f_orders'),
	('VACUUM f_orders'),
	('CLUSTER f_orders USING f_orders_pkey'),
	('LOCK TABLE f_orders IN ACCESS EXCLUSIVE MODE'),
	('LOCK TABLE f_orders IN SHARE MODE'),
	('ALTER DOMAIN posint ADD CONSTRAINT pos CHECK (VALUE > 0)'),
	('ALTER DOMAIN posint ADD CONSTRAINT pos CHECK (VALUE > 0) NOT VALID'),
	('CREATE TABLE f_orders (id int)'),
	('CREATE TABLE IF NOT EXISTS f_orders (id int)'),
	('CREATE TABLE brand_new (id int)'),
	('CREATE SCHEMA lint'),
	('CREATE VIEW v_orders AS SELECT 1'),
	('CREATE OR REPLACE VIEW v_orders AS SELECT id, note FROM f_orders'),
	('CREATE SEQUENCE counter'),
	('CREATE EXTENSION migsafe'),
	('ALTER TABLE "Mixed Case" DROP COLUMN "Odd Col"'),
	('ALTER TABLE "Mixed Case" RENAME COLUMN "Odd Col" TO "Even Col"'),
	('UPDATE f_orders SET state = ''x'''),
	('SELECT count(*) FROM f_orders'),
	('COMMENT ON TABLE f_orders IS ''orders'''),
	('GRANT SELECT ON f_orders TO PUBLIC'),
	('CREATE TABLE t_types (id serial PRIMARY KEY, n int, c char(3), v varchar(40), t text, at timestamp, atz timestamptz)'),
	('CREATE TABLE t_ident (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, k bigint PRIMARY KEY)'),
	('ALTER TABLE f_orders ADD COLUMN at2 timestamp'),
	('CREATE DOMAIN pos2 AS int CHECK (VALUE > 0)'),
	('CREATE DOMAIN plain2 AS int');
SELECT c.id, c.stmt, f.class, f.rule
  FROM corpus c LEFT JOIN LATERAL chk(c.stmt) f ON true
 ORDER BY c.id, f.rule;
SELECT count(*) >= 80 AS corpus_of_80 FROM corpus;

-- 2. The messages of a few, in full: facts from this database
SELECT * FROM chk('DROP TABLE f_orders');
SELECT * FROM chk('TRUNCATE f_orders CASCADE');
SELECT * FROM chk('DROP TYPE mood CASCADE');
SELECT * FROM chk('ALTER TABLE f_orders ALTER COLUMN code TYPE varchar(20)');
SELECT * FROM chk('CREATE INDEX ON f_orders (state)');
SELECT * FROM chk('ALTER TABLE f_orders ADD COLUMN y uuid DEFAULT gen_random_uuid()');
SELECT * FROM chk('ALTER TABLE f_orders RENAME COLUMN note TO notes');
SELECT * FROM chk('ALTER TABLE f_parts DETACH PARTITION f_parts_2026');
SELECT * FROM chk('DROP TABLE f_parts');

-- the facts behind a finding
SELECT facts - 'bytes' AS facts
  FROM migsafe.check('ALTER TABLE f_orders ADD CONSTRAINT pos CHECK (amount > 0)');

-- 3. Scripts: what earlier statements did carries forward
-- a table created earlier is new and empty; a column added earlier exists
SELECT * FROM chk($$
CREATE TABLE fresh (id int PRIMARY KEY, a text);
CREATE INDEX ON fresh (a);
ALTER TABLE fresh ADD COLUMN b int NOT NULL;
ALTER TABLE fresh DROP COLUMN a;
ALTER TABLE f_orders ADD COLUMN extra text;
ALTER TABLE f_orders ALTER COLUMN extra TYPE int USING 0;
ALTER TABLE f_orders DROP COLUMN extra;
DROP TABLE fresh;
ALTER TABLE f_orders DROP COLUMN note;
$$);
-- lock_timeout: none, then set, then reset at COMMIT (LOCAL)
SET migsafe.ddl_lock_timeout = 0;
SELECT n, class, rule, message FROM chk($$
ALTER TABLE f_orders ADD COLUMN a1 int;
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE f_orders ADD COLUMN a2 int;
COMMIT;
ALTER TABLE f_orders ADD COLUMN a3 int;
SET lock_timeout = 1500;
ALTER TABLE f_orders ADD COLUMN a4 int;
$$);
RESET migsafe.ddl_lock_timeout;
SELECT n, f.facts->>'lock_timeout_ms' AS timeout_ms, f.facts->>'lock_timeout_source' AS source
  FROM migsafe.check('CREATE INDEX ON f_orders (state);') f(n);
-- an approval set earlier marks what it covers as approved (advice);
-- what it does not cover stays destructive; COMMIT ends it
SELECT * FROM chk($$
BEGIN;
SET LOCAL migsafe.approve = 'lint.f_items, lint.f_orders.note';
DROP TABLE f_items;
ALTER TABLE f_orders DROP COLUMN note;
ALTER TABLE f_orders DROP COLUMN code;
COMMIT;
TRUNCATE f_orders CASCADE;
$$) WHERE class IN ('destructive', 'advice');
-- an approval that does not parse approves nothing
SELECT class, rule FROM chk($$SET LOCAL migsafe.approve = 'lint.';
DROP TABLE f_items;$$);
-- transactions: nesting, an unterminated BEGIN, CONCURRENTLY and VACUUM
-- inside one, an enum value used before COMMIT
SELECT * FROM chk($$
COMMIT;
BEGIN;
BEGIN;
CREATE INDEX CONCURRENTLY ON f_orders (state);
VACUUM f_orders;
ALTER TYPE mood ADD VALUE 'glad';
INSERT INTO f_moods VALUES (2, 'glad');
COMMIT;
ALTER TYPE mood ADD VALUE 'meh';
INSERT INTO f_moods VALUES (3, 'meh');
BEGIN;
SELECT 1;
$$);
-- search_path set by the script applies to later statements
SELECT n, class, rule FROM chk($$SET search_path = public; DROP TABLE f_items;
SET search_path = lint; DROP TABLE f_items;$$);

-- what an adversarial review found the preview missing: a renamed or
-- moved table is the same table, with its data
SELECT n, class, rule FROM chk($$ALTER TABLE f_items RENAME TO items_old;
DROP TABLE items_old;$$) WHERE class <> 'breaking';
SELECT n, class, rule FROM chk($$CREATE SCHEMA lint_archive;
ALTER TABLE f_items SET SCHEMA lint_archive;
TRUNCATE lint_archive.f_items;$$);
-- a renamed column is the same column
SELECT n, class, rule FROM chk($$ALTER TABLE f_orders RENAME COLUMN note TO memo;
ALTER TABLE f_orders DROP COLUMN memo;$$) WHERE class <> 'breaking';
-- a column added with a default holds values at once
SELECT n, class, rule FROM chk($$ALTER TABLE f_orders ADD COLUMN flag bigint DEFAULT 0;
ALTER TABLE f_orders DROP COLUMN flag;$$);
-- the approval in force follows RESET, ROLLBACK, ROLLBACK TO and DISCARD
SELECT n, class, rule FROM chk($$BEGIN;
SET LOCAL migsafe.approve = 'lint.f_items';
RESET migsafe.approve;
DROP TABLE f_items;
ROLLBACK;
BEGIN;
SET migsafe.approve = 'lint.f_items';
ROLLBACK;
TRUNCATE f_items;
BEGIN;
SAVEPOINT a;
SET LOCAL migsafe.approve = 'lint.f_items';
ROLLBACK TO a;
TRUNCATE f_items;
SAVEPOINT b;
SET LOCAL migsafe.approve = 'lint.f_items';
RELEASE b;
TRUNCATE f_items;
COMMIT;
SET migsafe.approve = 'lint.f_items';
DISCARD ALL;
TRUNCATE f_items;$$) WHERE class IN ('destructive', 'advice');
-- no false alarms: a column that does not exist, a column of NULLs
SELECT n, class, rule FROM chk('ALTER TABLE f_orders DROP COLUMN IF EXISTS no_such_column');
ALTER TABLE f_checked ADD COLUMN unused text;
SELECT n, class, rule FROM chk('ALTER TABLE f_checked DROP COLUMN unused');
ALTER TABLE f_checked DROP COLUMN unused;
-- a sequence dropped by name is data, owned or not
SELECT n, class, rule FROM chk('DROP SEQUENCE f_orders_id_seq CASCADE') WHERE class = 'destructive';
-- a script that does not parse as a whole: an unbalanced parenthesis and
-- a column named "begin" do not swallow the statements after them
SELECT n, line, class, rule FROM chk($$CREATE TABLE x (a int;
DROP TABLE f_items;
SELECT begin atomic FROM (SELECT 1 AS begin) s;
TRUNCATE f_items;
SELECT 1 AS end;
SELEC typo;
ALTER TABLE f_orders DROP COLUMN note;$$);
-- a table the script created and filled in an earlier transaction holds
-- data by the time it is dropped (the gate refuses it then); in the same
-- transaction, or never written to, it is new and empty
SELECT n, class, rule FROM chk($$CREATE TABLE s_filled (id int, v text);
INSERT INTO s_filled VALUES (1, 'a');
DROP TABLE s_filled;
CREATE TABLE s_ctas AS SELECT 1 AS x;
TRUNCATE s_ctas;
CREATE TABLE s_empty (id int);
DROP TABLE s_empty;
BEGIN;
CREATE TABLE s_same (id int);
INSERT INTO s_same VALUES (1);
DROP TABLE s_same;
COMMIT;
BEGIN;
CREATE TABLE s_kept (id int, v text);
COPY s_kept FROM STDIN;
COMMIT;
BEGIN;
SET LOCAL migsafe.approve = 'lint.s_kept.v';
ALTER TABLE s_kept DROP COLUMN v;
COMMIT;
CREATE TABLE s_do (id int);
DO 'BEGIN INSERT INTO s_do VALUES (1); END';
DROP TABLE s_do;$$);
-- a DROP COLUMN on an inheritance parent drops the children's inherited
-- column too, unless ONLY; a stored generated column goes with the
-- function its expression calls; ALTER TYPE ... CASCADE reaches the typed
-- tables of the type
CREATE TABLE f_parent (id int, c text);
CREATE TABLE f_child (d int) INHERITS (f_parent);
INSERT INTO f_child VALUES (1, 'x', 2);
SELECT n, class, rule, message ~ 'f_child' AS names_child
  FROM chk('ALTER TABLE f_parent DROP COLUMN c');
SELECT n, class, rule, message ~ 'f_child' AS names_child
  FROM chk('ALTER TABLE ONLY f_parent DROP COLUMN c');
CREATE FUNCTION twice(int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT $1 * 2';
CREATE TABLE f_generated (a int, b int GENERATED ALWAYS AS (twice(a)) STORED);
INSERT INTO f_generated VALUES (1);
SELECT statement_no AS n, class, rule, facts->>'column' AS col
  FROM migsafe.check('DROP FUNCTION twice(int) CASCADE') WHERE class = 'destructive';
CREATE TYPE pair AS (a int, b text);
CREATE TABLE f_typed OF pair;
INSERT INTO f_typed VALUES (1, 'q');
SELECT statement_no AS n, class, rule, facts->>'column' AS col
  FROM migsafe.check('ALTER TYPE pair DROP ATTRIBUTE b CASCADE') ORDER BY 1, 3;
SELECT statement_no AS n, class, rule, facts->>'column' AS col
  FROM migsafe.check('ALTER TYPE pair ALTER ATTRIBUTE b TYPE int CASCADE') ORDER BY 1, 3;
-- ADD COLUMN of a domain with a constraint checks every row: a rewrite
CREATE DOMAIN checked_int AS int CHECK (VALUE > 0);
SELECT statement_no AS n, class, rule, facts->>'rewrite' AS rewrite
  FROM migsafe.check('ALTER TABLE f_items ADD COLUMN w checked_int')
 WHERE rule <> 'require_lock_timeout';
SELECT n, class, rule FROM chk('ALTER TABLE f_items ADD COLUMN w posint') WHERE rule <> 'require_lock_timeout';
-- DROP IDENTITY and RESTART of a column that is no identity column (a
-- serial is not one): a no-op (IF EXISTS) or an error, nothing destroyed;
-- of an identity column, the sequence's state
CREATE TABLE f_ident (id int GENERATED ALWAYS AS IDENTITY, v text);
INSERT INTO f_ident (v) VALUES ('a');
SELECT n, class, rule FROM chk($$ALTER TABLE f_items ALTER COLUMN qty DROP IDENTITY IF EXISTS;
ALTER TABLE f_orders ALTER COLUMN id RESTART;
ALTER TABLE f_ident ALTER COLUMN id RESTART;
ALTER TABLE f_ident ALTER COLUMN id DROP IDENTITY$$) WHERE rule <> 'require_lock_timeout';
-- lines with CR-only line ends
SELECT n, line, class, rule FROM chk(E'SELECT 1;\rSELECT 2;\rDROP TABLE f_items;');

-- 4. Rules switched off: per call, and per server
SELECT rule FROM chk('DROP INDEX f_orders_note', '{dropping_index}');
SET migsafe.check_exclude = 'require_concurrent_index_deletion';
SELECT rule FROM chk('DROP INDEX f_orders_note');
RESET migsafe.check_exclude;
SET ROLE pg_monitor;
SET migsafe.check_exclude = 'drop_table';	-- superuser only
RESET ROLE;

-- 5. Numbering and lines: comments and empty statements do not count,
-- BEGIN and SET do, a BEGIN ATOMIC body belongs to its function
SELECT n, line, class, rule, f.statement
  FROM migsafe.check($$-- header comment
/* block
   comment */ ;;
BEGIN;
CREATE FUNCTION lint.f() RETURNS int LANGUAGE sql
BEGIN ATOMIC
  SELECT 1;
  SELECT CASE WHEN true THEN 2 END;
END;

SET lock_timeout = '1s';
   DROP TABLE f_items;
COMMIT;$$) f(n, line);

-- 6. Bad input: never an exception
SELECT count(*) AS empty FROM migsafe.check('');
SELECT count(*) AS blanks FROM migsafe.check(E'  \n\t ');
SELECT count(*) AS comments FROM migsafe.check('-- nothing here /* nor here */');
SELECT count(*) AS null_gives_no_rows FROM migsafe.check(NULL);
SELECT * FROM chk('this is not sql');
SELECT * FROM chk($$SELECT 'unterminated$$);
SELECT * FROM chk($$SELECT $x$ unterminated dollar$$);
SELECT * FROM chk(E'SELECT 1;\n/* unterminated comment');
SELECT * FROM chk(E'DROP TABLE f_items;\nSELEC 1;\nTRUNCATE f_orders CASCADE;\nSELECT (;');
SELECT * FROM chk('DROP TABLE "unterminated');
SELECT * FROM chk(repeat('(', 100000) || '1' || repeat(')', 100000));
SELECT * FROM chk(E'DROP TABLE f_items\\; x');
-- a 1 MB script and 10,000 statements: counted, and the findings found
SELECT count(*) AS findings, max(n) AS last_statement
  FROM chk(repeat('CREATE TABLE IF NOT EXISTS brand_new (id int); ', 10000) ||
		   'DROP TABLE f_items;');
SELECT length(s) > 1000000 AS one_mb, (SELECT count(*) FROM chk(s)) AS findings
  FROM (SELECT 'SELECT ''' || repeat('x', 1000000) || '''; TRUNCATE f_items;' AS s) q;

-- 7. A preview changes nothing and leaves no lock beyond ACCESS SHARE
BEGIN;
CREATE TEMP TABLE before_catalog AS
	SELECT oid, relname, relfilenode, relnatts FROM pg_class WHERE relnamespace = 'lint'::regnamespace;
CREATE TEMP TABLE before_data AS
	SELECT (SELECT count(*) FROM f_orders) AS orders, (SELECT count(*) FROM f_items) AS items;
SELECT coalesce(max(id), 0) AS audit_mark FROM migsafe.audit_log \gset
SELECT count(*) AS findings FROM corpus c, chk(c.stmt);
-- (writers add earlier tests' blocked rows late: count only the corpus's)
SELECT count(*) AS audit_rows_from_previews FROM migsafe.audit_log
 WHERE id > :audit_mark AND statement IN (SELECT stmt FROM corpus);
SELECT count(*) AS locks_stronger_than_access_share
  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND l.mode <> 'AccessShareLock'
   AND c.relnamespace = 'lint'::regnamespace;
SELECT (SELECT count(*) FROM (SELECT oid, relname, relfilenode, relnatts FROM pg_class
								WHERE relnamespace = 'lint'::regnamespace
							  EXCEPT SELECT * FROM before_catalog) d) AS catalog_changes,
	   (SELECT orders = (SELECT count(*) FROM f_orders) AND items = (SELECT count(*) FROM f_items)
		  FROM before_data) AS data_unchanged;
SELECT current_setting('search_path') AS search_path_unchanged;
COMMIT;
-- under SERIALIZABLE a count would leave predicate locks until the end of
-- the transaction: the preview takes the estimate instead
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT rule, facts->>'rows_exact' AS rows_exact
  FROM migsafe.check('DROP TABLE f_items') WHERE rule = 'drop_table';
SELECT count(*) AS predicate_locks FROM pg_locks
 WHERE pid = pg_backend_pid() AND mode = 'SIReadLock';
COMMIT;

-- 8. A role that may not read a table sees the planner's estimate only
CREATE ROLE lint_reader;
GRANT USAGE ON SCHEMA lint TO lint_reader;
SET ROLE lint_reader;
SELECT class, rule, message FROM migsafe.check('TRUNCATE lint.f_items');
RESET ROLE;
-- nor one behind a row level security policy
CREATE TABLE lint.f_tenants (id int);
INSERT INTO lint.f_tenants SELECT generate_series(1, 77);
ALTER TABLE lint.f_tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY none_visible ON lint.f_tenants FOR SELECT USING (false);
GRANT SELECT ON lint.f_tenants TO lint_reader;
SET ROLE lint_reader;
SELECT count(*) AS visible FROM lint.f_tenants;
SELECT f.facts->>'rows_exact' AS rows_exact, f.message ~ ' 77 rows' AS shows_77
  FROM migsafe.check('DROP TABLE lint.f_tenants') f WHERE rule = 'drop_table';
RESET ROLE;
REVOKE SELECT ON lint.f_tenants FROM lint_reader;
REVOKE USAGE ON SCHEMA lint FROM lint_reader;
DROP ROLE lint_reader;

RESET search_path;
REASSIGN OWNED BY lint_owner TO CURRENT_USER;
SET client_min_messages = warning;
BEGIN;
SET LOCAL migsafe.approve = 'lint.*';
DROP SCHEMA lint CASCADE;
COMMIT;
DROP ROLE lint_owner;
