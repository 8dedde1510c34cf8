--
-- Tables with columns of a user's type (enum, domain, an extension's type,
-- arrays of those, a user's collation) keep their own storage as their
-- snapshot, like any other table: nothing is copied.  The kept columns
-- keep their types until a statement drops such a type, or checks data
-- against it: then, and only then, they become text (a domain over a
-- built-in type: that type), and restore casts them back.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
CREATE EXTENSION IF NOT EXISTS citext SCHEMA public;
RESET client_min_messages;
CREATE SCHEMA ty;
SET search_path = ty, public;

CREATE FUNCTION fp(rel regclass) RETURNS text LANGUAGE plpgsql AS
$$ DECLARE r text;
BEGIN
	EXECUTE format('SELECT count(*) || '' '' || md5(coalesce(string_agg(t::text, '','' ORDER BY t::text), '''')) FROM %s t', rel)
	INTO r;
	RETURN r;
END $$;
CREATE FUNCTION snap(name text) RETURNS bigint LANGUAGE sql AS
$$ SELECT max(id) FROM migsafe.snapshots WHERE object_identity = name $$;
CREATE FUNCTION kept_types(name text) RETURNS TABLE (col name, type text, coll name)
LANGUAGE sql AS
$$ SELECT a.attname, format_type(a.atttypid, a.atttypmod), c.collname
     FROM migsafe.snapshots s
     JOIN pg_attribute a ON a.attrelid = s.storage::regclass
     LEFT JOIN pg_collation c ON c.oid = a.attcollation
    WHERE s.id = snap(name) AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY a.attnum $$;

CREATE TYPE mood AS ENUM ('ok', 'sad', 'glad');
CREATE DOMAIN cents AS bigint CHECK (VALUE >= 0);
CREATE DOMAIN feeling AS mood;
CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE diary (
	id int PRIMARY KEY,
	m mood NOT NULL,
	ms mood[],
	price cents,
	f feeling,
	email citext,
	note text COLLATE nocase
);
INSERT INTO diary
	SELECT g, (ARRAY['ok', 'sad', 'glad'])[g % 3 + 1]::mood,
		   ARRAY['ok', 'glad']::mood[], g * 10, 'sad', 'User' || g || '@Example.com',
		   'Note ' || g
	  FROM generate_series(1, 100) g;
SELECT fp('diary') AS before \gset

-- 1. TRUNCATE keeps the table's own storage, with its column types
SELECT pg_relation_filenode('diary') AS node_before \gset
BEGIN;
SET LOCAL migsafe.approve = 'ty.diary';
SET LOCAL client_min_messages = warning;
TRUNCATE diary;
COMMIT;
SELECT operation, method, row_count,
	   pg_relation_filenode(storage::regclass) = :node_before AS same_storage,
	   definition ? 'kept_types' AS kept_types
  FROM migsafe.snapshots WHERE id = snap('ty.diary');
SELECT * FROM kept_types('ty.diary');
SELECT migsafe.restore('ty.diary') AS restored;
SELECT fp('diary') = :'before' AS same_data;

-- 2. a dropped table keeps its storage too; its types can still be
-- dropped, and the kept columns become text first
BEGIN;
SET LOCAL migsafe.approve = 'ty.diary';
SET LOCAL client_min_messages = warning;
DROP TABLE diary;
COMMIT;
SELECT operation, method, definition->>'kept_storage' AS kept_storage
  FROM migsafe.snapshots WHERE id = snap('ty.diary');
-- a rolled back DROP TYPE leaves the kept columns as they were
BEGIN;
DROP DOMAIN feeling;
DROP TYPE mood CASCADE;
ROLLBACK;
SELECT * FROM kept_types('ty.diary');
DROP DOMAIN feeling;
DROP TYPE mood;
SELECT * FROM kept_types('ty.diary');
-- the collation and the extension can go as well
DROP COLLATION nocase;
DROP EXTENSION citext;
SELECT * FROM kept_types('ty.diary');
-- restore casts the values back once the types exist again
SELECT migsafe.restore('ty.diary');
CREATE TYPE mood AS ENUM ('ok', 'sad', 'glad');
CREATE DOMAIN feeling AS mood;
CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
SET client_min_messages = warning;
CREATE EXTENSION citext SCHEMA public;
RESET client_min_messages;
SELECT migsafe.restore('ty.diary') AS restored;
SELECT fp('diary') = :'before' AS same_data;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'diary'::regclass AND attnum > 0 ORDER BY attnum;

-- 3. a domain constraint checks every column of the domain: kept columns
-- are converted first, so the snapshot's rows do not stop it
CREATE DOMAIN coins AS bigint;
CREATE TABLE wallet (id int, amount coins);
INSERT INTO wallet VALUES (1, 5), (2, 500);
BEGIN;
SET LOCAL migsafe.approve = 'ty.wallet';
SET LOCAL client_min_messages = warning;
TRUNCATE wallet;
COMMIT;
SELECT * FROM kept_types('ty.wallet');
ALTER DOMAIN coins ADD CONSTRAINT coins_big CHECK (VALUE >= 100) NOT VALID;
SELECT * FROM kept_types('ty.wallet');
ALTER DOMAIN coins VALIDATE CONSTRAINT coins_big;
SELECT * FROM kept_types('ty.wallet');
-- the kept row that breaks the constraint keeps restore from going on
DO $$
DECLARE d text;
BEGIN
	PERFORM migsafe.restore('ty.wallet');
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
	RAISE NOTICE 'restore refused: %', d;
END $$;
SELECT count(*) AS wallet_rows FROM wallet;

-- 4. DROP OWNED of the role owning the type, not the table
CREATE ROLE regress_ty_owner;
CREATE TYPE shade AS ENUM ('light', 'dark');
ALTER TYPE shade OWNER TO regress_ty_owner;
CREATE TABLE paint (id int, s shade);
INSERT INTO paint VALUES (1, 'dark');
BEGIN;
SET LOCAL migsafe.approve = 'ty.paint';
SET LOCAL client_min_messages = warning;
TRUNCATE paint;
COMMIT;
ALTER TABLE paint DROP COLUMN s;
DROP OWNED BY regress_ty_owner;
SELECT * FROM kept_types('ty.paint');
DROP ROLE regress_ty_owner;

-- 5. a statement that drops a table with its enum keeps the storage too:
-- before the statement drops the enum, the kept column becomes an oid
-- column (an enum's value is its label's OID: no rewrite), and the labels
-- go in the snapshot's definition; a domain over an enum the statement
-- leaves becomes that enum, over a built-in type that type (no rewrite)
CREATE SCHEMA ty_gone;
CREATE TYPE ty_gone.tint AS ENUM ('red', 'blue');
CREATE DOMAIN ty_gone.dtint AS ty_gone.tint;
CREATE DOMAIN ty_gone.dmood AS mood;
CREATE TABLE ty_gone.pens (id int, t ty_gone.tint, dt ty_gone.dtint,
	dm ty_gone.dmood);
INSERT INTO ty_gone.pens VALUES (1, 'red', 'blue', 'sad'), (2, 'blue', NULL, 'glad');
-- a column added with a default since: older rows read it from attmissingval
ALTER TABLE ty_gone.pens ADD COLUMN late ty_gone.tint DEFAULT 'blue';
INSERT INTO ty_gone.pens VALUES (3, NULL, 'red', NULL, NULL);
SELECT fp('ty_gone.pens') AS pens_before \gset
SELECT pg_relation_filenode('ty_gone.pens') AS pens_node \gset
-- an array of an enum names its type in every value: that table is copied
CREATE TABLE ty_gone.pen_sets (id int, ts ty_gone.tint[]);
INSERT INTO ty_gone.pen_sets VALUES (1, '{red,blue}');
CREATE DOMAIN ty_gone.qty AS int CHECK (VALUE >= 0);
CREATE TABLE ty_gone.stock (id int, q ty_gone.qty);
INSERT INTO ty_gone.stock VALUES (1, 7);
SELECT pg_relation_filenode('ty_gone.stock') AS stock_node \gset
CREATE TABLE ty_gone.plain (id int, t mood);
INSERT INTO ty_gone.plain VALUES (1, 'glad');
BEGIN;
SET LOCAL migsafe.approve = 'ty_gone.*';
SET LOCAL client_min_messages = warning;
DROP SCHEMA ty_gone CASCADE;
COMMIT;
SELECT object_identity, method, row_count FROM migsafe.snapshots
 WHERE object_identity LIKE 'ty_gone.%' ORDER BY id;
SELECT * FROM kept_types('ty_gone.pens');
SELECT * FROM kept_types('ty_gone.plain');
SELECT * FROM kept_types('ty_gone.stock');
SELECT pg_relation_filenode(storage::regclass) = :stock_node AS not_rewritten
  FROM migsafe.snapshots WHERE id = snap('ty_gone.stock');
SELECT pg_relation_filenode(storage::regclass) = :pens_node AS not_rewritten
  FROM migsafe.snapshots WHERE id = snap('ty_gone.pens');
-- the kept OIDs are the labels' in the definition, the attmissingval too
SELECT storage AS pens_kept FROM migsafe.snapshots
 WHERE id = snap('ty_gone.pens') \gset
SELECT k.id, d.definition -> 'kept_enums' -> 't' ->> k.t::text AS t,
	   d.definition -> 'kept_enums' -> 'dt' ->> k.dt::text AS dt,
	   d.definition -> 'kept_enums' -> 'late' ->> k.late::text AS late
  FROM :pens_kept k, migsafe.snapshots d
 WHERE d.id = snap('ty_gone.pens') ORDER BY k.id;
-- and depend on no type any more
SELECT count(*) AS type_deps FROM pg_depend
 WHERE classid = 'pg_class'::regclass AND objid = :'pens_kept'::regclass
   AND refclassid = 'pg_type'::regclass AND refobjid <> 'ty.mood'::regtype;
-- restore writes the labels back, as the enum made again
CREATE SCHEMA ty_gone;
CREATE TYPE ty_gone.tint AS ENUM ('red', 'blue');
CREATE DOMAIN ty_gone.dtint AS ty_gone.tint;
CREATE DOMAIN ty_gone.dmood AS mood;
SELECT migsafe.restore('ty_gone.pens') AS restored;
SELECT * FROM ty_gone.pens ORDER BY id;
SELECT fp('ty_gone.pens') = :'pens_before' AS same_rows;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'ty_gone.pens'::regclass AND attnum > 0 ORDER BY attnum;
-- or as text, with a warning, when it is not made again
BEGIN;
SET LOCAL migsafe.approve = 'ty_gone.*';
SET LOCAL client_min_messages = warning;
DROP SCHEMA ty_gone CASCADE;
COMMIT;
SELECT method FROM migsafe.snapshots WHERE id = snap('ty_gone.pens');
CREATE SCHEMA ty_gone;
SELECT migsafe.restore('ty_gone.pens') AS restored;
SELECT * FROM ty_gone.pens ORDER BY id;
SELECT migsafe.restore('ty_gone.pen_sets') AS restored;
SELECT * FROM ty_gone.pen_sets;

-- 6. composite types keep their storage too, nested, a table's or a
-- view's row type, a typed table's: before a statement changes or drops
-- the relation whose row type a kept column holds (ALTER TABLE, ALTER
-- TYPE, DROP), or a dry run finds it changes (a generated column goes
-- with its function), the kept column becomes text; nothing else locks
-- the kept table
CREATE TYPE pair AS (x int, y int);
CREATE TYPE nested AS (p pair, n int);
CREATE TABLE addr (street text, city text);
CREATE TYPE base_t AS (a int, b int);
CREATE TABLE typed OF base_t;
CREATE TABLE parent (a int, b int) PARTITION BY RANGE (a);
CREATE TABLE child PARTITION OF parent FOR VALUES FROM (0) TO (10);
CREATE VIEW v AS SELECT 1 AS a, 'x'::text AS b;
CREATE FUNCTION dbl(int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT $1 * 2';
CREATE TABLE gen (a int, d int GENERATED ALWAYS AS (dbl(a)) STORED);
CREATE TABLE pairs (id int, p pair, ns nested, home addr, t typed,
	c child, vv v, g gen, ps pair[]);
INSERT INTO pairs VALUES
	(1, ROW(1, 2), ROW(ROW(3, 4), 5), ROW('Main St', 'Springfield'),
	 ROW(6, 7), ROW(8, 9), ROW(1, 'x'), ROW(3, 6), ARRAY[ROW(1, 2)::pair]),
	(2, NULL, ROW(NULL, 1), ROW(NULL, 'X'), NULL, NULL, NULL, NULL, '{}');
SELECT fp('pairs') AS pairs_before \gset
SELECT pg_relation_filenode('pairs') AS pairs_node \gset
BEGIN;
SET LOCAL migsafe.approve = 'ty.pairs';
SET LOCAL client_min_messages = warning;
TRUNCATE pairs;
COMMIT;
SELECT method FROM migsafe.snapshots WHERE id = snap('ty.pairs');
SELECT pg_relation_filenode(storage::regclass) = :pairs_node AS not_rewritten
  FROM migsafe.snapshots WHERE id = snap('ty.pairs');
SELECT * FROM kept_types('ty.pairs');
-- restore while nothing changed: the same rows, of the same types
SELECT migsafe.restore('ty.pairs') AS restored;
SELECT fp('pairs') = :'pairs_before' AS same_rows;
BEGIN;
SET LOCAL migsafe.approve = 'ty.pairs';
SET LOCAL client_min_messages = warning;
TRUNCATE pairs;
COMMIT;
-- the table's own columns go (empty: no approval needed), then every
-- change of those row types meets only the kept columns
ALTER TABLE pairs DROP COLUMN p, DROP COLUMN ns, DROP COLUMN home,
	DROP COLUMN t, DROP COLUMN c, DROP COLUMN vv, DROP COLUMN g,
	DROP COLUMN ps;
SELECT storage AS pairs_kept FROM migsafe.snapshots
 WHERE id = snap('ty.pairs') \gset
-- a role that may not change them converts nothing
CREATE ROLE regress_ty_hostile;
GRANT USAGE ON SCHEMA ty TO regress_ty_hostile;
SET ROLE regress_ty_hostile;
ALTER TABLE addr DROP COLUMN city;
DROP TABLE addr;
ALTER TYPE pair DROP ATTRIBUTE y;
RESET ROLE;
REVOKE USAGE ON SCHEMA ty FROM regress_ty_hostile;
DROP ROLE regress_ty_hostile;
SELECT * FROM kept_types('ty.pairs');
ALTER TYPE pair DROP ATTRIBUTE y;				-- p, ns and ps
ALTER TABLE addr ALTER COLUMN city TYPE varchar(40);	-- home
ALTER TYPE base_t ALTER ATTRIBUTE a TYPE bigint CASCADE;	-- t
ALTER TABLE parent ALTER COLUMN b TYPE bigint;	-- c, through the partition
DROP VIEW v;									-- vv
DROP FUNCTION dbl(int) CASCADE;					-- g, its column d goes
SELECT * FROM kept_types('ty.pairs');
SELECT * FROM :pairs_kept ORDER BY id;
DROP TABLE pairs, addr, typed, parent, gen;
DROP TYPE nested, pair, base_t;

-- an attribute added is no change of the kept values: they read it as
-- NULL, and come back so
CREATE TYPE grow AS (x int, y text);
CREATE TABLE grows (id int, g grow);
INSERT INTO grows VALUES (1, ROW(1, 'one'));
BEGIN;
SET LOCAL migsafe.approve = 'ty.grows';
SET LOCAL client_min_messages = warning;
DROP TABLE grows;
COMMIT;
ALTER TYPE grow ADD ATTRIBUTE z int;
SELECT * FROM kept_types('ty.grows');
SELECT migsafe.restore('ty.grows') AS restored;
SELECT * FROM grows;
-- so is a column added to a table without a value for every row (no
-- default, a NULL one, a domain without constraints or default); with a
-- default, which PostgreSQL refuses to compute while a column uses the
-- row type, the kept column becomes text first
CREATE DOMAIN plain_int AS int;
CREATE TABLE base_row (a int, b text);
CREATE TABLE rows_held (id int, r base_row);
INSERT INTO rows_held VALUES (1, ROW(1, 'one'));
BEGIN;
SET LOCAL migsafe.approve = 'ty.rows_held';
SET LOCAL client_min_messages = warning;
TRUNCATE rows_held;
COMMIT;
ALTER TABLE rows_held DROP COLUMN r;
ALTER TABLE base_row ADD COLUMN c int, ADD COLUMN e plain_int, ADD COLUMN g text DEFAULT NULL;
SELECT * FROM kept_types('ty.rows_held');
ALTER TABLE rows_held ADD COLUMN r base_row;
SELECT migsafe.restore('ty.rows_held') AS restored;
SELECT id, r FROM rows_held;
BEGIN;
SET LOCAL migsafe.approve = 'ty.rows_held';
SET LOCAL client_min_messages = warning;
TRUNCATE rows_held;
COMMIT;
ALTER TABLE rows_held DROP COLUMN r;
ALTER TABLE base_row ADD COLUMN d text DEFAULT 'dee';
SELECT * FROM kept_types('ty.rows_held');

-- a view's row type goes with what the view reads: an ALTER ... CASCADE
-- that drops the view converts the kept column first
CREATE TABLE keyed (a int PRIMARY KEY, b text);
CREATE VIEW by_key AS SELECT a, b FROM keyed GROUP BY a;
CREATE TYPE two AS (x int, y text);
CREATE TABLE twos (k two);
CREATE VIEW first_of AS SELECT (k).x AS xx FROM twos;
CREATE TABLE views_held (id int, r by_key, f first_of);
INSERT INTO views_held VALUES (1, ROW(3, 's'), ROW(1));
BEGIN;
SET LOCAL migsafe.approve = 'ty.views_held';
SET LOCAL client_min_messages = warning;
DROP TABLE views_held;
COMMIT;
ALTER TABLE keyed DROP CONSTRAINT keyed_pkey CASCADE;
ALTER TYPE two DROP ATTRIBUTE x CASCADE;
SELECT * FROM kept_types('ty.views_held');
SELECT storage AS views_kept FROM migsafe.snapshots
 WHERE id = snap('ty.views_held') \gset
SELECT * FROM :views_kept;
DROP TABLE keyed, twos;
DROP TYPE two;

-- a reader of the snapshot may not make a column, domain or type of the
-- kept table's row type (only a superuser may): it would keep those
-- conversions from happening
CREATE ROLE regress_ty_reader;
CREATE SCHEMA ty_reader AUTHORIZATION regress_ty_reader;
CREATE TYPE held AS (x int);
CREATE TABLE helds (id int, h held);
INSERT INTO helds VALUES (1, ROW(1));
GRANT SELECT ON helds TO regress_ty_reader;
BEGIN;
SET LOCAL migsafe.approve = 'ty.helds';
SET LOCAL client_min_messages = warning;
TRUNCATE helds;
COMMIT;
SELECT storage AS helds_kept FROM migsafe.snapshots
 WHERE id = snap('ty.helds') \gset
SELECT set_config('ty.kept', :'helds_kept', false) IS NOT NULL AS set;
SET ROLE regress_ty_reader;
SELECT * FROM :helds_kept;
DO $$
DECLARE
	stmt text;
BEGIN
	FOREACH stmt IN ARRAY ARRAY[
		'CREATE TABLE ty_reader.c (x %s)', 'CREATE TABLE ty_reader.a (x %s[])',
		'CREATE DOMAIN ty_reader.d AS %s', 'CREATE TYPE ty_reader.t AS (x %s)']
	LOOP
		BEGIN
			EXECUTE format(stmt, current_setting('ty.kept'));
			RAISE NOTICE '%: done', split_part(stmt, ' ', 2);
		EXCEPTION WHEN insufficient_privilege THEN
			RAISE NOTICE '%: %', split_part(stmt, ' ', 2), SQLSTATE;
		END;
	END LOOP;
END $$;
RESET ROLE;
DROP SCHEMA ty_reader;
REVOKE SELECT ON helds FROM regress_ty_reader;
DROP ROLE regress_ty_reader;

-- generated and identity columns are kept as plain ones (their expression
-- and sequence go with the table): their type can be converted like any
CREATE TYPE gen_pair AS (a int, b int);
CREATE TABLE gens (id int GENERATED ALWAYS AS IDENTITY, a int,
	m mood GENERATED ALWAYS AS ('sad'::mood) STORED,
	p gen_pair GENERATED ALWAYS AS ((a, a * 3)) STORED);
INSERT INTO gens (a) VALUES (1), (2);
CREATE VIEW gens_v AS SELECT id FROM gens;
BEGIN;
SET LOCAL migsafe.approve = 'ty.gens';
SET LOCAL client_min_messages = warning;
DROP TABLE gens CASCADE;
COMMIT;
SELECT a.attname, a.attgenerated, a.attidentity
  FROM migsafe.snapshots s JOIN pg_attribute a ON a.attrelid = s.storage::regclass
 WHERE s.id = snap('ty.gens') AND a.attnum > 0 ORDER BY a.attnum;
DROP TYPE gen_pair;
SELECT * FROM kept_types('ty.gens');
CREATE TYPE gen_pair AS (a int, b int);
SELECT migsafe.restore('ty.gens') AS restored;
SELECT * FROM gens ORDER BY id;

-- a statement that drops the table with its composite type copies it
CREATE SCHEMA ty_pt;
CREATE TYPE ty_pt.pt AS (x int, y int);
CREATE TABLE ty_pt.pts (id int, p ty_pt.pt);
INSERT INTO ty_pt.pts VALUES (1, ROW(1, 2));
BEGIN;
SET LOCAL migsafe.approve = 'ty_pt.*';
SET LOCAL client_min_messages = warning;
DROP SCHEMA ty_pt CASCADE;
COMMIT;
SELECT method FROM migsafe.snapshots WHERE id = snap('ty_pt.pts');
SELECT * FROM kept_types('ty_pt.pts');

-- 7. a cascade that reaches a kept column by another path (a domain whose
-- default calls a SQL function reading the dropped table): the kept
-- column is converted once the dry run finds it, and the cascade leaves it
CREATE TABLE rates (r int);
INSERT INTO rates VALUES (3);
CREATE FUNCTION rate() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT max(r) FROM ty.rates; END;
CREATE DOMAIN rated AS int DEFAULT rate();
CREATE TABLE fees (id int, fee rated);
INSERT INTO fees VALUES (1, 5), (2, 6);
BEGIN;
SET LOCAL migsafe.approve = 'ty.fees';
SET LOCAL client_min_messages = warning;
TRUNCATE fees;
COMMIT;
SELECT * FROM kept_types('ty.fees');
BEGIN;
SET LOCAL migsafe.approve = 'ty.rates';
SET LOCAL client_min_messages = warning;
DROP TABLE rates CASCADE;
COMMIT;
SELECT * FROM kept_types('ty.fees');
SELECT object_identity, method FROM migsafe.snapshots
 WHERE object_identity LIKE 'migsafe_snapshot_%';
ALTER TABLE fees ADD COLUMN fee int;
SELECT migsafe.restore('ty.fees') AS restored;
SELECT * FROM fees ORDER BY id;

-- 8. a role's own cast to text never runs in the conversion (it would run
-- as migsafe's superuser): the type's output function writes the text
CREATE ROLE regress_ty_caster;
GRANT CREATE, USAGE ON SCHEMA ty TO regress_ty_caster;
SET ROLE regress_ty_caster;
CREATE TYPE ty.hue AS ENUM ('red', 'green');
CREATE FUNCTION ty.hue_text(h ty.hue) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN RAISE WARNING 'cast runs as %', current_user; RETURN 'cast:' || format('%s', h); END $$;
CREATE CAST (ty.hue AS text) WITH FUNCTION ty.hue_text(ty.hue);
CREATE TABLE ty.swatch (id int, h ty.hue);
INSERT INTO ty.swatch VALUES (1, 'red'), (2, NULL);
BEGIN;
SET LOCAL migsafe.approve = 'ty.swatch';
SET LOCAL client_min_messages = warning;
TRUNCATE ty.swatch;
COMMIT;
DROP TABLE ty.swatch;
DROP TYPE ty.hue CASCADE;
RESET ROLE;
SELECT * FROM kept_types('ty.swatch');
SELECT storage AS kept_swatch FROM migsafe.snapshots WHERE id = snap('ty.swatch') \gset
SELECT id, h, h IS NULL AS is_null FROM :kept_swatch ORDER BY id;

-- 9. with migsafe.mode = off too: a domain whose default takes a
-- sequence's values goes with DROP SEQUENCE ... CASCADE, and the kept
-- column becomes its base type first
CREATE SEQUENCE ticket_seq;
CREATE DOMAIN ticket AS bigint DEFAULT nextval('ty.ticket_seq');
CREATE TABLE tickets (id int, t ticket);
INSERT INTO tickets VALUES (1, 10), (2, 20);
BEGIN;
SET LOCAL migsafe.approve = 'ty.tickets';
SET LOCAL client_min_messages = warning;
DROP TABLE tickets;
COMMIT;
BEGIN;
SET LOCAL migsafe.mode = off;
DROP SEQUENCE ticket_seq CASCADE;
COMMIT;
SELECT * FROM kept_types('ty.tickets');
SELECT storage AS kept_tickets FROM migsafe.snapshots WHERE id = snap('ty.tickets') \gset
SELECT * FROM :kept_tickets ORDER BY id;

-- 10. ALTER TABLE ... DROP CONSTRAINT ... CASCADE takes a SQL function
-- that groups by the key, and with it a domain whose default calls it:
-- the kept column becomes the domain's base type first, in every mode
CREATE TABLE levels (id int PRIMARY KEY, r int);
INSERT INTO levels VALUES (1, 3);
CREATE FUNCTION top_level() RETURNS int LANGUAGE sql
BEGIN ATOMIC SELECT r FROM ty.levels GROUP BY id; END;
CREATE DOMAIN leveled AS int DEFAULT top_level();
CREATE TABLE charges (id int, c leveled);
INSERT INTO charges VALUES (1, 5);
BEGIN;
SET LOCAL migsafe.approve = 'ty.charges';
SET LOCAL client_min_messages = warning;
DROP TABLE charges;
COMMIT;
BEGIN;
SET LOCAL migsafe.mode = off;
ALTER TABLE levels DROP CONSTRAINT levels_pkey CASCADE;
COMMIT;
SELECT * FROM kept_types('ty.charges');

-- 11. partitions keep their storage as tables of their own (no inherited
-- columns): DROP SCHEMA relabels a kept partition's domain column, and a
-- later DROP TYPE converts a kept partition's enum column
CREATE SCHEMA ty_parts;
CREATE DOMAIN ty_parts.amount AS int;
CREATE TABLE ty_parts.sales (id int, a ty_parts.amount) PARTITION BY RANGE (id);
CREATE TABLE ty_parts.sales_1 PARTITION OF ty_parts.sales FOR VALUES FROM (0) TO (100);
INSERT INTO ty_parts.sales VALUES (1, 10), (2, 20);
-- a column added with a default since: the kept rows read it from
-- attmissingval, which the kept partition's columns take along
ALTER TABLE ty_parts.sales ADD COLUMN flag int DEFAULT 7;
BEGIN;
SET LOCAL migsafe.approve = 'ty_parts.*';
SET LOCAL client_min_messages = warning;
DROP SCHEMA ty_parts CASCADE;
COMMIT;
SELECT * FROM kept_types('ty_parts.sales_1');
SELECT storage AS kept_sales FROM migsafe.snapshots WHERE id = snap('ty_parts.sales_1') \gset
SELECT * FROM :kept_sales ORDER BY id;
CREATE TYPE season AS ENUM ('spring', 'fall');
CREATE TABLE crops (id int, s season) PARTITION BY LIST (s);
CREATE TABLE crops_spring PARTITION OF crops FOR VALUES IN ('spring');
INSERT INTO crops VALUES (1, 'spring');
BEGIN;
SET LOCAL migsafe.approve = 'ty.crops, ty.crops_spring';
SET LOCAL client_min_messages = warning;
TRUNCATE crops;
COMMIT;
DROP TABLE crops;
DROP TYPE season;
SELECT * FROM kept_types('ty.crops_spring');

-- 12. a copy never keeps a user's collation, even a domain's: the domain
-- and the collation can go after the column's snapshot
CREATE COLLATION plain_c (provider = icu, locale = 'und');
CREATE DOMAIN code AS varchar(10) COLLATE plain_c;
CREATE TABLE codes (id int PRIMARY KEY, c code);
INSERT INTO codes VALUES (1, 'abc');
BEGIN;
SET LOCAL migsafe.approve = 'ty.codes.c';
SET LOCAL client_min_messages = warning;
ALTER TABLE codes DROP COLUMN c;
COMMIT;
SELECT * FROM kept_types('ty.codes.c');
DROP DOMAIN code;
DROP COLLATION plain_c;

-- 13. a user's range (its multirange, arrays of it) keeps its storage too,
-- its columns without statistics: ANALYZE of the kept table, as its owner
-- migsafe's superuser, would run the range's subtype_diff, which any role
-- may write
CREATE FUNCTION fdiff(a float8, b float8) RETURNS float8 LANGUAGE plpgsql IMMUTABLE AS
$$ BEGIN RAISE WARNING 'subtype_diff runs as %', current_user; RETURN a - b; END $$;
CREATE TYPE frange AS RANGE (SUBTYPE = float8, SUBTYPE_DIFF = fdiff);
CREATE DOMAIN short_span AS frange CHECK (upper(VALUE) - lower(VALUE) < 10);
CREATE TABLE spans (id int, r frange, rs frange[], m fmultirange, d short_span,
					t tstzrange);
-- the table's own GiST index runs subtype_diff, as the table's owner
CREATE INDEX spans_r ON spans USING gist (r);
SET client_min_messages = error;
INSERT INTO spans
	SELECT g, frange(g, g + 1), ARRAY[frange(g, g + 2)], fmultirange(frange(g, g + 3)),
		   frange(g, g + 4), tstzrange('2026-01-01', '2026-02-01')
	  FROM generate_series(1, 50) g;
RESET client_min_messages;
SELECT fp('spans') AS spans_before \gset
BEGIN;
SET LOCAL migsafe.approve = 'ty.spans';
SET LOCAL client_min_messages = warning;
TRUNCATE spans;
COMMIT;
SELECT method, storage AS spans_store FROM migsafe.snapshots
 WHERE id = snap('ty.spans') \gset
SELECT :'method' AS method;
SELECT * FROM kept_types('ty.spans');
SELECT attname, coalesce(attstattarget, -1) = 0 AS no_statistics FROM pg_attribute
 WHERE attrelid = :'spans_store'::regclass AND attnum > 0 ORDER BY attnum;
SELECT count(*) AS kept_indexes FROM pg_index WHERE indrelid = :'spans_store'::regclass;
ANALYZE :spans_store;
VACUUM :spans_store;
SET client_min_messages = error;
SELECT migsafe.restore(snap('ty.spans')) AS restored;
RESET client_min_messages;
SELECT fp('spans') = :'spans_before' AS same_rows;
-- the range goes: the kept columns become its text
BEGIN;
SET LOCAL migsafe.approve = 'ty.spans';
SET LOCAL client_min_messages = warning;
TRUNCATE spans;
COMMIT;
SELECT storage AS spans_store FROM migsafe.snapshots WHERE id = snap('ty.spans') \gset
DROP TABLE spans;
DROP TYPE frange CASCADE;
SELECT * FROM kept_types('ty.spans');
SELECT id, r, rs, m, d FROM :spans_store WHERE id = 7;

BEGIN;
SET LOCAL migsafe.approve = 'ty.*, ty_gone.*';
SET LOCAL client_min_messages = warning;
DROP SCHEMA ty, ty_gone CASCADE;
COMMIT;
DROP OWNED BY regress_ty_caster;
DROP ROLE regress_ty_caster;
