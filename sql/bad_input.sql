--
-- bad_input: malformed settings and restore() calls that cannot succeed.
-- Each is refused with a clear error and an SQLSTATE, and changes nothing:
-- an approval in force stays in force, a snapshot stays as it was.
--
-- Snapshot ids depend on the files run before this one: they are kept in
-- psql variables, never printed (errors that name one go through
-- pg_temp.try(), which writes N for every number).
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

-- The SQLSTATE, message and detail of an error, numbers replaced by N
CREATE FUNCTION pg_temp.describe(st text, msg text, det text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT st || ': ' ||
		regexp_replace(msg || coalesce(' / ' || nullif(det, ''), ''),
					   '[0-9]+', 'N', 'g')
$$;

-- Run a statement; say what it returned or how it failed
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	result text;
	st text;
	msg text;
	det text;
BEGIN
	EXECUTE stmt INTO result;
	RETURN 'ok: ' || coalesce(result, 'NULL');
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		det = PG_EXCEPTION_DETAIL;
	RETURN pg_temp.describe(st, msg, det);
END
$$;

-- Set a parameter (for this transaction); say what it holds, or the
-- SQLSTATE and the detail of the error (its message repeats the value)
CREATE FUNCTION pg_temp.try_set(guc text, val text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	st text;
	det text;
BEGIN
	PERFORM pg_catalog.set_config(guc, val, true);
	RETURN 'ok: ' || pg_catalog.current_setting(guc);
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, det = PG_EXCEPTION_DETAIL;
	RETURN st || ': ' || left(det, 100);
END
$$;

--
-- 1. Malformed approvals, refused at SET time.  As a user sees them:
--
SET migsafe.approve = 'public.keep';
SET migsafe.approve = 'public.orders,';
SET migsafe.approve = '.orders';
SET migsafe.approve = 'public.orders.*';
SET migsafe.approve = 'DATABASE ';
SET migsafe.approve = 'DATABASE *';
-- a refused value leaves the one in force alone
SHOW migsafe.approve;
BEGIN;
SET LOCAL migsafe.approve = 'public."x';
SHOW migsafe.approve;
ROLLBACK;
SHOW migsafe.approve;
RESET migsafe.approve;

-- Every shape, through set_config(): the SQLSTATE and the reason
CREATE TABLE bad_approvals (n serial, val text);
INSERT INTO bad_approvals (val) VALUES
	-- quotes
	('public."unterminated'), ('"public'), ('"'), ('""'), ('public.""'),
	('"a"b".c'), ('public."a"x'),
	-- empty items, commas
	(','), (',,'), ('public.a,'), ('public.a ,'), (',public.a'),
	('public.a,,public.b'), ('public.a, ,public.b'), (' , '),
	-- missing parts
	('public.'), ('.orders'), ('.'), ('..'), ('public..a'), ('public.a.'),
	('orders'), ('"orders"'), ('public'),
	-- too many parts
	('a.b.c.d'), ('a.b.c.d.e'), ('"a"."b"."c"."d"'),
	-- stars
	('*.*'), ('*.orders'), ('public.*.note'), ('public.orders.*'),
	('**'), ('* *'), ('public.**'), ('*public'), ('DATABASE *'),
	-- DATABASE
	('DATABASE'), ('database'), ('DATABASE '), ('DATABASE ,public.a'),
	('public.a, DATABASE'), ('DATABASE a b'), ('DATABASE "x'),
	('DATABASE a.b'), ('DATABASE ""'),
	-- not identifiers
	('1abc.t'), ('public.1t'), ('$a.b'), ('public.a-b'), ('public.a;b'),
	('public.a public.b'), ('public.(a)'), ('public.a''b'), ('-'),
	('public.a/*x*/'), ('public.a -- x'),
	-- white space that is not SQL white space, control characters
	(E'public.a\x0bpublic.b'), (E'public.\x01a'), (E'\x7f'), (E'public.a\x1b'),
	-- multibyte, unquoted and quoted, and misplaced
	('публичная.'), ('"ñ".*.x'), ('public.日本 語');
SELECT n, val, pg_temp.try_set('migsafe.approve', val) AS result
  FROM bad_approvals ORDER BY n;

-- Accepted: white space around items, identifier rules, multibyte
SELECT v, pg_temp.try_set('migsafe.approve', v) AS result
  FROM (VALUES (E' \t\n public.a \r\n, \f public.b '), ('PUBLIC.A'),
			   ('"Public"."A b"."c ""d"""'), ('DATABASE   "Db"'),
			   ('public.日本'), ('"schéma".*'), ('"*".x'),
			   ('database.x'), ('')) AS t(v)
  ORDER BY v COLLATE "C";

-- Huge values: refused or accepted like small ones; a name longer than
-- NAMEDATALEN is cut as the SQL parser cuts it
SELECT pg_temp.try_set('migsafe.approve',
					   'public.a,' || repeat('x', 100000)) AS huge_unqualified;
SELECT pg_temp.try_set('migsafe.approve',
					   repeat('public.a, ', 20000) || ',') AS huge_trailing_comma;
SELECT pg_temp.try_set('migsafe.approve',
					   '"' || repeat('x', 100000)) AS huge_unterminated;
SELECT length(pg_temp.try_set('migsafe.approve',
							  repeat('public.a,', 50000) || 'public.b'))
	AS huge_list_accepted_length;
SELECT pg_temp.try_set('migsafe.approve', 'public.' || repeat('é', 100))
	AS long_multibyte_name_cut;

-- migsafe.skip_snapshot and migsafe.exempt parse the same way
-- (rows listed here differ)
SELECT n, val, pg_temp.try_set('migsafe.approve', val) AS approve,
	   pg_temp.try_set('migsafe.skip_snapshot', val) AS skip_snapshot,
	   pg_temp.try_set('migsafe.exempt', val) AS exempt
  FROM bad_approvals
 WHERE pg_temp.try_set('migsafe.skip_snapshot', val) IS DISTINCT FROM
	   pg_temp.try_set('migsafe.approve', val)
	OR pg_temp.try_set('migsafe.exempt', val) IS DISTINCT FROM
	   pg_temp.try_set('migsafe.approve', val)
 ORDER BY n;
SELECT count(*) AS refused_everywhere, count(*) = (SELECT count(*) FROM bad_approvals) AS all_refused
  FROM bad_approvals
 WHERE pg_temp.try_set('migsafe.approve', val) LIKE '22023:%'
   AND pg_temp.try_set('migsafe.skip_snapshot', val) LIKE '22023:%'
   AND pg_temp.try_set('migsafe.exempt', val) LIKE '22023:%';
SET migsafe.skip_snapshot = 'public.a,';
SET migsafe.exempt = 'DATABASE';
-- migsafe.exempt_roles is a list of role names
SET migsafe.exempt_roles = 'a,,b';
SET migsafe.exempt_roles = '"unterminated';
SHOW migsafe.skip_snapshot;
SHOW migsafe.exempt;
SHOW migsafe.exempt_roles;

-- A malformed approval approves nothing: the DROP is still blocked
CREATE TABLE bad_kept (a int);
INSERT INTO bad_kept VALUES (1), (2);
BEGIN;
SET LOCAL migsafe.approve = 'public.bad_kept,';
ROLLBACK;
BEGIN;
SELECT pg_temp.try('DROP TABLE bad_kept') AS still_blocked;
ROLLBACK;
SELECT count(*) AS rows_intact FROM bad_kept;

--
-- 2. restore() that cannot succeed: each a clear error, nothing changed
--
CREATE TABLE bad_restored (id int PRIMARY KEY, v text);
INSERT INTO bad_restored VALUES (1, 'one'), (2, 'two');
CREATE TABLE bad_purged (id int PRIMARY KEY);
INSERT INTO bad_purged VALUES (1);
BEGIN;
SET LOCAL migsafe.approve = 'public.bad_restored, public.bad_purged';
-- the NOTICEs name snapshot ids
SET LOCAL client_min_messages = warning;
DROP TABLE bad_restored;
DROP TABLE bad_purged;
COMMIT;
SELECT max(id) AS restored_id FROM migsafe.snapshots
 WHERE object_identity = 'public.bad_restored' \gset
SELECT max(id) AS purged_id FROM migsafe.snapshots
 WHERE object_identity = 'public.bad_purged' \gset
SELECT max(id) AS last_id FROM migsafe.snapshots \gset
SELECT migsafe.restore(:restored_id) AS restored_rows;
SELECT count(*) AS rows_back FROM bad_restored;
-- purge every kept snapshot (this file runs last)
SELECT migsafe.purge_snapshots(interval '0') > 0 AS purged;
SELECT status FROM migsafe.snapshots WHERE id = :purged_id;

-- Two kept snapshots of "twin", in two schemas outside search_path
CREATE SCHEMA bad_s1;
CREATE SCHEMA bad_s2;
CREATE TABLE bad_s1.twin (a int);
CREATE TABLE bad_s2.twin (a int);
INSERT INTO bad_s1.twin VALUES (1);
INSERT INTO bad_s2.twin VALUES (2);
BEGIN;
SET LOCAL migsafe.approve = 'bad_s1.*, bad_s2.*';
SET LOCAL client_min_messages = warning;
DROP TABLE bad_s1.twin, bad_s2.twin;
COMMIT;

SELECT count(*) AS snapshots_before,
	   count(*) FILTER (WHERE status = 'kept') AS kept_before
  FROM migsafe.snapshots \gset

SELECT c AS "case", left(pg_temp.try(stmt), 110) AS result
  FROM (VALUES
	(1, 'missing id', format('SELECT migsafe.restore(%s::bigint)', :last_id + 1000)),
	(2, 'id 0', 'SELECT migsafe.restore(0::bigint)'),
	(3, 'negative id', 'SELECT migsafe.restore(-1::bigint)'),
	(4, 'largest bigint', 'SELECT migsafe.restore(9223372036854775807)'),
	(5, 'NULL id', 'SELECT migsafe.restore(NULL::bigint)'),
	(6, 'NULL name', 'SELECT migsafe.restore(NULL::text)'),
	(7, 'already restored, by id', format('SELECT migsafe.restore(%s::bigint)', :restored_id)),
	(8, 'already restored, by name', 'SELECT migsafe.restore(''public.bad_restored'')'),
	(9, 'purged, by id', format('SELECT migsafe.restore(%s::bigint)', :purged_id)),
	(10, 'purged, by digits', format('SELECT migsafe.restore(%L)', :purged_id)),
	(11, 'purged, by name', 'SELECT migsafe.restore(''public.bad_purged'')'),
	(12, 'name of nothing', 'SELECT migsafe.restore(''public.no_such_table'')'),
	(13, 'column of nothing', 'SELECT migsafe.restore(''public.bad_kept.a'')'),
	(14, 'empty name', 'SELECT migsafe.restore('''')'),
	(15, 'blank name', 'SELECT migsafe.restore(''  '')'),
	(16, 'four parts', 'SELECT migsafe.restore(''a.b.c.d'')'),
	(17, 'unterminated quote', 'SELECT migsafe.restore(''public."bad'')'),
	(18, 'trailing dot', 'SELECT migsafe.restore(''public.'')'),
	(19, 'leading dot', 'SELECT migsafe.restore(''.bad_purged'')'),
	(20, 'star', 'SELECT migsafe.restore(''public.*'')'),
	(21, 'digits too large', 'SELECT migsafe.restore(''99999999999999999999999'')'),
	(22, 'negative digits', 'SELECT migsafe.restore(''-1'')'),
	(23, 'huge name', format('SELECT migsafe.restore(%L)', repeat('x', 100000))),
	(24, 'multibyte name', 'SELECT migsafe.restore(''public.日本'')'),
	(25, 'ambiguous name', 'SELECT migsafe.restore(''twin'')'),
	(26, 'quoted digits, no such table', 'SELECT migsafe.restore(''"42"'')')
  ) AS t(n, c, stmt)
 ORDER BY n;

-- Nothing changed: no snapshot restored, the tables still gone or back
SELECT count(*) = :snapshots_before AS same_snapshots,
	   count(*) FILTER (WHERE status = 'kept') = :kept_before AS same_kept
  FROM migsafe.snapshots;
SELECT to_regclass('public.bad_purged') IS NULL AS purged_still_gone,
	   to_regclass('bad_s1.twin') IS NULL AND
	   to_regclass('bad_s2.twin') IS NULL AS twins_still_gone,
	   (SELECT count(*) FROM bad_restored) AS restored_rows_unchanged;

-- The ambiguity is resolved by a schema, or by search_path
SELECT migsafe.restore('bad_s2.twin') AS twin_rows;
SELECT * FROM bad_s2.twin;
SET search_path = bad_s1, public;
SELECT migsafe.restore('twin') AS twin_rows;
RESET search_path;
SELECT * FROM bad_s1.twin;

-- A failed restore changed nothing: inside a transaction, after a
-- rollback to a savepoint, it fails the same way again
BEGIN;
SAVEPOINT a;
SELECT pg_temp.try(format('SELECT migsafe.restore(%s::bigint)', :restored_id)) AS again;
ROLLBACK TO a;
SELECT pg_temp.try(format('SELECT migsafe.restore(%s::bigint)', :restored_id)) AS and_again;
COMMIT;

RESET migsafe.approve;
RESET migsafe.skip_snapshot;
RESET migsafe.exempt;
RESET migsafe.exempt_roles;
