# Copyright (c) 2026, migsafe developers
#
# t/016_fuzz.pl
#	  Thousands of random statements through the gate: no crash, no hang,
#	  clear errors, and no data lost without an approval and a snapshot.
#
# A seeded generator writes a script of DDL and DML over a small schema
# (tables with and without rows, partitions, inheritance, views,
# materialized views, sequences, enum and composite types, domains,
# temporary objects): DROP, TRUNCATE, ALTER ... DROP COLUMN / TYPE /
# RENAME / SET SCHEMA / OF, CASCADE, approvals set and reset (well formed
# and not), BEGIN / COMMIT / ROLLBACK / SAVEPOINT, DO blocks, functions,
# multi-statement strings, migsafe.check(), rehearse(), restore() and
# purge_snapshots(), and random junk.  One psql session runs it.
#
# After every statement, fuzzmeta.check() compares a census of the
# database (every table and materialized view, whether it holds rows,
# every column, whether it holds a value, and its type) with the census
# taken after the previous statement, in the same transaction.  Anything
# that held committed data (not created in the current transaction) and
# is gone, emptied or retyped must have been destroyed with an approval in
# force and a new snapshot of it (or of a parent), unless snapshots were
# waived with migsafe.skip_snapshot; DELETE and UPDATE may empty what
# stays.  The settings are read after the statement; where a statement
# set or cleared them itself (or restore() approved its own change), the
# approval or waiver in force is the one the object's audit row records.
# Every such approved loss has an audit row for the object, and
# any table or column that appeared, went, or changed name, schema or type
# has an audit row of the change (rows of a change that ran are written in
# its own transaction, so they are there when the check runs).  A census
# that is rolled back with its transaction stays in step with the data.
# Violations come out as WARNINGs that fail the test; after the run, three
# controls show that the check does catch an unapproved loss (warn mode),
# a loss without a snapshot and a change whose audit rows it cannot see.
#
# The test also fails on: a server crash or a lost connection, any
# statement that hits statement_timeout (a hang), an error without an
# SQLSTATE or with an internal one (XX...), migsafe.check() raising
# (outside an aborted transaction), a census that cannot run, a
# snapshot whose audit row never arrives, and a run in which the gate
# never blocked or never kept a snapshot (the fuzz would be testing
# nothing).
#
# FUZZ_SEED (default 1) and FUZZ_COUNT (default 2000) come from the
# environment; `make fuzz` runs FUZZ_COUNT=20000 with FUZZ_SEED or, by
# default, the time.  A failure prints the seed, the statement and its
# line in the script; the script and psql's output are kept in the test's
# tmp_check directory.
#
# Why TAP: a cluster of its own that may crash, a script generated at run
# time, and checks of the server log.

use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $seed = $ENV{FUZZ_SEED} // 1;
my $count = $ENV{FUZZ_COUNT} // 2000;
die "FUZZ_SEED must be an integer" unless $seed =~ /^\d+$/;
die "FUZZ_COUNT must be a positive integer" unless $count =~ /^[1-9]\d*$/;
note "fuzz: seed $seed, $count statements";
srand($seed);

my $node = PostgreSQL::Test::Cluster->new('fuzz');
$node->init;
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'migsafe'
# a statement that runs this long on a database this small hangs
statement_timeout = '60s'
lock_timeout = '60s'
restart_after_crash = off
});
$node->start;

$node->safe_psql('postgres', q{
CREATE DATABASE fuzz;
CREATE ROLE fuzzown;
});

# ----------------------------------------------------------------
# The census and the check, run after every statement
# ----------------------------------------------------------------
$node->safe_psql('fuzz', q{
CREATE EXTENSION migsafe;
CREATE SCHEMA fuzzmeta;
GRANT USAGE ON SCHEMA fuzzmeta TO PUBLIC;

-- One row per table or materialized view (attnum 0) and per column:
-- whether it holds data, its type, and the transaction that first saw it
CREATE TABLE fuzzmeta.census (
	relid oid,
	attnum int,
	nsp name,
	rel name,
	att name,
	typ text,
	ancestors name[],
	born xid8,
	data boolean,
	PRIMARY KEY (relid, attnum)
);
CREATE TABLE fuzzmeta.state (last_snap bigint NOT NULL, last_audit bigint NOT NULL);
INSERT INTO fuzzmeta.state VALUES (0, 0);

CREATE FUNCTION fuzzmeta.census_now() RETURNS SETOF fuzzmeta.census
LANGUAGE plpgsql AS $f$
DECLARE
	r record;
	cols text;
	names name[];
	types text[];
	nums int[];
	vals boolean[];
	i int;
BEGIN
	FOR r IN
		SELECT c.oid, n.nspname, c.relname, c.relkind, c.relispopulated,
			   ARRAY(WITH RECURSIVE up(oid) AS (
						SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = c.oid
						UNION
						SELECT i.inhparent FROM pg_inherits i JOIN up ON i.inhrelid = up.oid)
					 SELECT p.relname FROM up JOIN pg_class p ON p.oid = up.oid) AS ancestors
		  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't'
		   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'migsafe', 'fuzzmeta', 'pg_toast')
		   AND n.nspname NOT LIKE 'migsafe\_%' AND n.nspname NOT LIKE 'pg\_%'
	LOOP
		IF r.relkind = 'm' AND NOT r.relispopulated THEN
			CONTINUE;
		END IF;
		SELECT coalesce(string_agg(format(', bool_or(%I IS DISTINCT FROM NULL)', a.attname), '' ORDER BY a.attnum), ''),
			   array_agg(a.attname ORDER BY a.attnum),
			   array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum),
			   array_agg(a.attnum::int ORDER BY a.attnum)
		  INTO cols, names, types, nums
		  FROM pg_attribute a
		 WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
		   AND a.attgenerated = '' AND r.relkind = 'r';
		BEGIN
			EXECUTE format('SELECT ARRAY[count(*) > 0%s] FROM ONLY %I.%I',
						   cols, r.nspname, r.relname) INTO vals;
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'FUZZ-CENSUS cannot read %.%: %', r.nspname, r.relname, SQLERRM;
			CONTINUE;
		END;
		RETURN NEXT ROW(r.oid, 0, r.nspname, r.relname, NULL::name,
						CASE r.relkind WHEN 'm' THEN 'matview' ELSE 'table' END,
						r.ancestors, NULL::xid8, vals[1]);
		FOR i IN 1 .. coalesce(array_length(nums, 1), 0) LOOP
			RETURN NEXT ROW(r.oid, nums[i], r.nspname, r.relname, names[i], types[i],
							r.ancestors, NULL::xid8, coalesce(vals[i + 1], false));
		END LOOP;
	END LOOP;
END
$f$;

-- Compare the database with the census of the previous statement, then
-- take a new one.  dml: the statement was a DELETE or UPDATE, which may
-- empty a table or a column that stays.  A change that ran has its audit
-- rows written in its own transaction, before this runs: they are the
-- rows after the last one seen by the previous check (ids only grow).
CREATE FUNCTION fuzzmeta.check(stmt int, dml boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE
	me xid8 := pg_current_xact_id();
	cur fuzzmeta.census[];
	p fuzzmeta.census;
	q fuzzmeta.census;
	relq fuzzmeta.census;
	last bigint;
	last_audit bigint;
	changed text;
	approve text := current_setting('migsafe.approve');
	skip text := current_setting('migsafe.skip_snapshot');
	snap boolean;
	aud_approved boolean;
	aud_waived boolean;
BEGIN
	SELECT s.last_snap, s.last_audit INTO last, last_audit FROM fuzzmeta.state s;
	cur := ARRAY(SELECT ROW(n.relid, n.attnum, n.nsp, n.rel, n.att, n.typ, n.ancestors,
							coalesce(o.born, me), n.data)::fuzzmeta.census
				   FROM fuzzmeta.census_now() n
				   LEFT JOIN fuzzmeta.census o USING (relid, attnum));
	FOR p IN
		SELECT * FROM fuzzmeta.census c
		 WHERE c.data AND pg_xact_status(c.born) IS DISTINCT FROM 'in progress'
		 ORDER BY c.relid, c.attnum
	LOOP
		SELECT * INTO q FROM unnest(cur) u WHERE u.relid = p.relid AND u.attnum = p.attnum;
		IF FOUND AND q.data AND q.typ IS NOT DISTINCT FROM p.typ THEN
			CONTINUE;			-- still there, still holding data
		END IF;
		SELECT * INTO relq FROM unnest(cur) u WHERE u.relid = p.relid AND u.attnum = 0;
		IF p.attnum > 0 AND (NOT FOUND OR NOT relq.data) THEN
			CONTINUE;			-- the table's own loss covers its columns
		END IF;
		IF dml AND relq.relid IS NOT NULL THEN
			CONTINUE;			-- DELETE or UPDATE emptied it
		END IF;
		IF p.typ = 'matview' AND relq.relid IS NOT NULL THEN
			CONTINUE;			-- REFRESH: its rows follow its query
		END IF;
		snap := EXISTS (
			SELECT 1 FROM migsafe.snapshots s
			 WHERE s.id > last
			   AND ((s.schema_name = p.nsp AND s.relation_name = p.rel)
					OR s.relation_name = ANY (p.ancestors))
			   AND (p.attnum = 0 OR s.column_name IS NULL OR s.column_name = p.att));
		-- The settings are read after the statement: one that set them
		-- for itself (SET LOCAL ... \; DROP ... in one query string), or
		-- cleared them after its DROP, or a restore() that changed a
		-- column back to its old type (approved by the restore for that
		-- column, docs/snapshots.md) has the approval in force, or the waiver,
		-- recorded in the object's audit row
		SELECT coalesce(bool_or(a.decision = 'approved'
								AND coalesce(a.approval, '') <> ''), false),
			   coalesce(bool_or(a.detail LIKE '%waived by migsafe.skip_snapshot%'), false)
		  INTO aud_approved, aud_waived
		  FROM migsafe.audit_log a
		 WHERE a.id > last_audit AND a.scope = 'object'
		   AND (strpos(a.object_identity, p.rel) > 0
				OR EXISTS (SELECT 1 FROM unnest(p.ancestors) an
							WHERE strpos(a.object_identity, an) > 0));
		IF (approve = '' AND NOT aud_approved)
		   OR (NOT snap AND skip = '' AND NOT aud_waived) THEN
			RAISE WARNING 'FUZZ-VIOLATION statement %: % lost its data (% -> %) with migsafe.approve = ''%'', new snapshot: %',
				stmt, p.nsp || '.' || p.rel || coalesce('.' || p.att, ''),
				p.typ,
				CASE WHEN q.relid IS NULL THEN 'gone' WHEN NOT q.data THEN 'empty' ELSE q.typ END,
				approve, snap;
		ELSIF NOT EXISTS (
			SELECT 1 FROM migsafe.audit_log a
			 WHERE a.id > last_audit AND a.scope = 'object'
			   AND a.decision <> 'blocked'
			   AND (strpos(a.object_identity, p.rel) > 0
					OR EXISTS (SELECT 1 FROM unnest(p.ancestors) an
								WHERE strpos(a.object_identity, an) > 0))) THEN
			RAISE WARNING 'FUZZ-UNAUDITED statement %: % lost its data (% -> %) with no audit row for it',
				stmt, p.nsp || '.' || p.rel || coalesce('.' || p.att, ''),
				p.typ,
				CASE WHEN q.relid IS NULL THEN 'gone' WHEN NOT q.data THEN 'empty' ELSE q.typ END;
		END IF;
	END LOOP;
	-- Any table, matview or column that appeared, went, or changed name,
	-- schema or type is a schema change: it has an audit row
	SELECT string_agg(d, ', ') INTO changed FROM (
		(SELECT 'new ' || nsp || '.' || rel || coalesce('.' || att, '') || ' ' || typ AS d
		   FROM unnest(cur)
		 EXCEPT
		 SELECT 'new ' || nsp || '.' || rel || coalesce('.' || att, '') || ' ' || typ
		   FROM fuzzmeta.census)
		UNION ALL
		(SELECT 'gone ' || nsp || '.' || rel || coalesce('.' || att, '') || ' ' || typ
		   FROM fuzzmeta.census
		 EXCEPT
		 SELECT 'gone ' || nsp || '.' || rel || coalesce('.' || att, '') || ' ' || typ
		   FROM unnest(cur))
		ORDER BY 1 LIMIT 5) x;
	IF changed IS NOT NULL AND NOT EXISTS (
		SELECT 1 FROM migsafe.audit_log a
		 WHERE a.id > last_audit AND a.decision <> 'blocked') THEN
		RAISE WARNING 'FUZZ-UNAUDITED statement %: the schema changed with no audit row: %',
			stmt, changed;
	END IF;
	DELETE FROM fuzzmeta.census WHERE true;
	INSERT INTO fuzzmeta.census SELECT * FROM unnest(cur);
	UPDATE fuzzmeta.state
	   SET last_snap = coalesce((SELECT max(id) FROM migsafe.snapshots), 0),
		   last_audit = coalesce((SELECT max(id) FROM migsafe.audit_log), 0);
END
$f$;
});

# ----------------------------------------------------------------
# The schema the statements work on
# ----------------------------------------------------------------
my $fixture = q{
CREATE SCHEMA fz1;
CREATE SCHEMA fz2;
CREATE TYPE fz1.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE fz1.pair AS (a int, b text);
CREATE DOMAIN fz1.pos AS int CHECK (VALUE > 0);
CREATE DOMAIN fz2.label AS text;
CREATE SEQUENCE fz1.seq;
CREATE TABLE fz1.t1 (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	c1 int, c2 text, c3 fz1.pos, c4 fz1.mood, c5 jsonb, c6 numeric(8,2),
	c7 int[], c8 fz1.pair, c9 timestamptz DEFAULT now(), c10 bytea,
	g int GENERATED ALWAYS AS (c1 * 2) STORED);
INSERT INTO fz1.t1 (c1, c2, c3, c4, c5, c6, c7, c8, c10)
	SELECT g, 'r' || g, g, 'ok', jsonb_build_object('g', g), g / 3.0,
		   ARRAY[g, g], ROW(g, 'p')::fz1.pair, '\x00ff'
	  FROM generate_series(1, 20) g;
CREATE TABLE fz1.t2 (id serial PRIMARY KEY, c1 int REFERENCES fz1.t1 (id), c2 fz2.label, c3 text);
INSERT INTO fz1.t2 (c1, c2, c3) SELECT g, 'l' || g, NULL FROM generate_series(1, 10) g;
CREATE TABLE fz1.t3 (c1 int, c2 text);
CREATE TABLE fz2.t4 (c1 int, c2 text, c3 fz1.mood);
INSERT INTO fz2.t4 VALUES (1, 'a', 'sad'), (2, NULL, NULL);
CREATE TABLE fz2.t5 OF fz1.pair;
INSERT INTO fz2.t5 VALUES (1, 'x');
CREATE TABLE fz1.p1 (c1 int, c2 text) PARTITION BY RANGE (c1);
CREATE TABLE fz1.p1_a PARTITION OF fz1.p1 FOR VALUES FROM (0) TO (100);
CREATE TABLE fz1.p1_b PARTITION OF fz1.p1 FOR VALUES FROM (100) TO (200);
INSERT INTO fz1.p1 SELECT g, 'p' || g FROM generate_series(1, 150, 7) g;
CREATE TABLE fz2.ih (c1 int, c2 text);
CREATE TABLE fz2.ih_c (c3 int) INHERITS (fz2.ih);
INSERT INTO fz2.ih_c VALUES (1, 'i', 3);
CREATE VIEW fz1.v1 AS SELECT id, c1, c2 FROM fz1.t1;
CREATE MATERIALIZED VIEW fz2.mv1 AS SELECT c1, c2 FROM fz2.t4;
ALTER TABLE fz2.t4 OWNER TO fuzzown;
GRANT ALL ON SCHEMA fz1, fz2 TO fuzzown;
};
$node->safe_psql('fuzz', $fixture);
$node->safe_psql('fuzz', 'SELECT fuzzmeta.check(0, false)');

# ----------------------------------------------------------------
# The generator
# ----------------------------------------------------------------
sub pick { return $_[ int(rand(@_)) ]; }
sub chance { return rand() < $_[0]; }

my @schemas = qw(fz1 fz2 fz3);
my @tables = qw(t1 t2 t3 t4 t5 t6 p1 p1_a p1_b ih ih_c);
my @columns = qw(id c1 c2 c3 c4 c5 c6 c7 c8 c9 c10 g);
my @types = ('int', 'bigint', 'text', 'varchar(3)', 'numeric', 'jsonb',
	'fz1.pos', 'fz1.mood', 'fz2.label', 'int[]', 'boolean', 'fz1.pair',
	'pg_temp.tdom');

# Mostly names that exist in the fixture
sub sch { return pick(qw(fz1 fz1 fz1 fz2 fz2 fz3)); }
sub tbl
{
	return pick('fz1.t1', 'fz1.t2', 'fz1.t3', 'fz2.t4', 'fz2.t5', 'fz1.p1',
		'fz1.p1_a', 'fz1.p1_b', 'fz2.ih', 'fz2.ih_c')
	  if chance(0.6);
	return sch() . '.' . pick(@tables);
}
sub col { return pick(@columns); }
sub typ { return pick(@types); }
sub opt { my ($p, $s) = @_; return chance($p) ? $s : ''; }
sub behaviour { return pick('', '', ' CASCADE', ' RESTRICT'); }

# Approvals: well formed, off target, and malformed (refused at SET)
sub approval
{
	my $r = rand();

	return pick('*', 'fz1.*', 'fz2.*', 'fz1.*, fz2.*, fz3.*') if $r < 0.45;
	return pick(tbl(), tbl() . ', ' . tbl(), tbl() . '.' . col(),
		'"fz1".' . pick(@tables), 'fz3.*', 'DATABASE fuzz', '')
	  if $r < 0.75;
	return pick(
		'fz1.', '.t1', 'fz1.t1,', ',', 'fz1.t1.c1.x', 'fz1.*.c1', '*.t1',
		'DATABASE', 'fz1."t1', 'fz1.t1 fz1.t2', '"".t1', 'fz1.t1,,fz1.t2',
		'x' x 300, 'fz1.' . ('é' x 70), "fz1.t1\tfz1.t2", 't1');
}

# Words for junk: every quote and parenthesis comes whole, so that junk
# never runs into the next line of the script
my @junk_words = (qw(DROP TRUNCATE ALTER TABLE COLUMN TYPE SCHEMA CASCADE
	  RESTRICT RENAME TO SET DATA USING ONLY IF EXISTS NOT NULL SELECT FROM
	  WHERE DELETE UPDATE INSERT INTO VALUES DEFAULT OWNED BY VIEW SEQUENCE
	  DOMAIN MATERIALIZED PARTITION OF ATTACH DETACH FOR ADD CONSTRAINT
	  PRIMARY KEY REFERENCES DATABASE EXTENSION migsafe fz1 fz2 t1 t2 c1 c2
	  . * = + - 0 1 -1 99999999999999999999 1e999 ::int ::text ::regclass
	  WITH RECURSIVE AS BEGIN END DO COMMIT ROLLBACK SAVEPOINT LOCAL
	  CURRENT_USER), ',', "'x'", "'*'", "''", '"t 1"', '""""', '()', '(1)',
	'(c1)', "E'\\\\x00'", "'\\x'", "'é'", '/* c */', 'ÿ', "U&'\\0041'");

sub junk
{
	my $n = 1 + int(rand(12));
	return join(' ', map { pick(@junk_words) } 1 .. $n);
}

# One destructive or structural statement (also used inside DO blocks)
sub ddl
{
	my $r = rand();
	my $t = tbl();

	return "DROP TABLE " . opt(0.3, 'IF EXISTS ') . $t
	  . opt(0.2, ', ' . tbl()) . behaviour()
	  if $r < 0.10;
	return "TRUNCATE " . opt(0.3, 'TABLE ') . opt(0.1, 'ONLY ') . $t
	  . opt(0.2, ', ' . tbl()) . opt(0.2, ' RESTART IDENTITY')
	  . behaviour()
	  if $r < 0.20;
	return "ALTER TABLE " . opt(0.2, 'IF EXISTS ') . opt(0.1, 'ONLY ') . $t
	  . " DROP COLUMN " . opt(0.2, 'IF EXISTS ') . col() . behaviour()
	  if $r < 0.30;
	if ($r < 0.38)
	{
		my ($c, $ty) = (col(), typ());
		return "ALTER TABLE $t ALTER COLUMN $c " . opt(0.5, 'SET DATA ')
		  . "TYPE $ty" . opt(0.5, " USING $c\::text::$ty");
	}
	return "ALTER TABLE $t RENAME TO " . pick(@tables) if $r < 0.42;
	return "ALTER TABLE $t RENAME COLUMN " . col() . " TO " . col()
	  if $r < 0.46;
	return "ALTER TABLE $t SET SCHEMA " . sch() if $r < 0.50;
	return "ALTER TABLE $t ADD COLUMN " . opt(0.3, 'IF NOT EXISTS ') . col()
	  . ' ' . typ() . opt(0.3, ' DEFAULT 1')
	  if $r < 0.55;
	return "DROP " . pick('VIEW', 'MATERIALIZED VIEW') . ' '
	  . opt(0.3, 'IF EXISTS ') . sch() . '.' . pick('v1', 'mv1') . behaviour()
	  if $r < 0.58;
	return "DROP " . pick('TYPE fz1.mood', 'TYPE fz1.pair', 'DOMAIN fz1.pos',
		'DOMAIN fz2.label', 'SEQUENCE fz1.seq', 'TYPE pg_temp.ttyp',
		'DOMAIN pg_temp.tdom')
	  . behaviour()
	  if $r < 0.63;
	return "DROP SCHEMA " . opt(0.3, 'IF EXISTS ') . sch() . behaviour()
	  if $r < 0.66;
	return pick(
		'ALTER TYPE fz1.pair DROP ATTRIBUTE ' . pick('a', 'b') . behaviour(),
		'ALTER TYPE fz1.pair RENAME ATTRIBUTE ' . pick('a', 'b') . ' TO '
		  . pick('a', 'b') . behaviour(),
		'ALTER TYPE fz1.pair ALTER ATTRIBUTE '
		  . pick('a', 'b') . ' TYPE ' . pick('text', 'bigint')
		  . behaviour(),
		'ALTER TYPE fz1.pair ADD ATTRIBUTE ' . pick('a', 'b', 'c') . ' int'
		  . behaviour())
	  if $r < 0.70;
	return "ALTER TABLE $t " . pick('OF fz1.pair', 'NOT OF', 'OF pg_temp.ttyp')
	  if $r < 0.73;
	return "ALTER TABLE fz1.p1 DETACH PARTITION " . tbl() if $r < 0.76;
	return "ALTER TABLE fz1.p1 ATTACH PARTITION $t FOR VALUES FROM ("
	  . pick(200, 300, 0) . ") TO (" . pick(300, 400, 50) . ")"
	  if $r < 0.79;
	return "ALTER TABLE $t " . pick('INHERIT fz2.ih', 'NO INHERIT fz2.ih')
	  if $r < 0.81;
	return "ALTER SEQUENCE fz1.seq OWNED BY " . pick("$t." . col(), 'NONE')
	  if $r < 0.83;
	return "DROP OWNED BY fuzzown" . behaviour() if $r < 0.85;
	return "ALTER TABLE $t OWNER TO " . pick('fuzzown', 'CURRENT_USER')
	  if $r < 0.87;
	return "ALTER TABLE $t ALTER COLUMN " . col() . " DROP DEFAULT"
	  if $r < 0.89;
	return "ALTER TABLE $t ALTER COLUMN " . col() . " DROP EXPRESSION"
	  if $r < 0.90;
	return "ALTER TABLE $t ALTER COLUMN " . col() . " DROP IDENTITY IF EXISTS"
	  if $r < 0.91;
	return "VACUUM FULL $t" if $r < 0.92;
	return "ALTER TABLE $t SET " . pick('UNLOGGED', 'LOGGED') if $r < 0.94;
	return "CLUSTER $t USING " . pick('t1_pkey', 't2_pkey') if $r < 0.95;
	return "ALTER MATERIALIZED VIEW " . sch() . ".mv1 RENAME TO mv1"
	  if $r < 0.96;
	return "DROP INDEX " . sch() . "." . pick('t1_pkey', 't2_pkey', 'ix')
	  . behaviour();
}

# Something that creates or fills (statement, is it DML)
sub build
{
	my $r = rand();
	my $t = tbl();
	my $n = pick(0, 1, 3, 10);

	return ("CREATE SCHEMA " . opt(0.5, 'IF NOT EXISTS ') . sch(), 0)
	  if $r < 0.06;
	return (
		"CREATE TABLE " . opt(0.3, 'IF NOT EXISTS ') . $t . " (c1 int, c2 "
		  . typ() . ", c3 " . typ() . opt(0.3, ', id serial') . ")",
		0) if $r < 0.18;
	return ("CREATE TABLE $t AS SELECT g AS c1, 'v' || g AS c2 FROM generate_series(1, $n) g",
		0)
	  if $r < 0.26;
	return ("CREATE TABLE $t OF " . pick('fz1.pair', 'pg_temp.ttyp'), 0)
	  if $r < 0.29;
	return ("CREATE TABLE $t PARTITION OF fz1.p1 FOR VALUES FROM ("
		  . pick(200, 300) . ") TO (" . pick(300, 400) . ")", 0)
	  if $r < 0.32;
	return ("INSERT INTO $t (c1) SELECT g FROM generate_series(1, $n) g", 0)
	  if $r < 0.45;
	return ("INSERT INTO $t SELECT * FROM $t", 0) if $r < 0.50;
	return ("INSERT INTO $t (c1, c2) VALUES (" . pick(1, 150, 250, -1) . ", "
		  . pick("'x'", 'NULL', "'sad'", "'(1,x)'") . ")", 0)
	  if $r < 0.57;
	return ("UPDATE $t SET " . col() . " = NULL" . opt(0.5, ' WHERE c1 > 5'), 1)
	  if $r < 0.62;
	return ("DELETE FROM $t" . pick(' WHERE c1 > 5', ' WHERE true', ''), 1)
	  if $r < 0.67;
	return ("CREATE " . opt(0.5, 'OR REPLACE ') . "VIEW " . sch()
		  . ".v1 AS SELECT * FROM $t", 0)
	  if $r < 0.72;
	return ("CREATE MATERIALIZED VIEW " . sch() . ".mv1 AS SELECT * FROM $t"
		  . opt(0.3, ' WITH NO DATA'), 0)
	  if $r < 0.76;
	return ("REFRESH MATERIALIZED VIEW " . sch() . ".mv1", 0) if $r < 0.78;
	return (
		pick(
			"CREATE TYPE fz1.mood AS ENUM ('sad', 'ok', 'happy')",
			"CREATE TYPE fz1.pair AS (a int, b text)",
			"CREATE DOMAIN fz1.pos AS int CHECK (VALUE > 0)",
			"CREATE DOMAIN fz2.label AS text",
			"CREATE SEQUENCE " . opt(0.5, 'IF NOT EXISTS ') . "fz1.seq",
			"CREATE TYPE pg_temp.ttyp AS (c1 int, c2 text)",
			"CREATE DOMAIN pg_temp.tdom AS int",
			"CREATE TEMP TABLE tt (c1 int, c2 text)",
			"CREATE INDEX ix ON $t (c1)",
			"ALTER TABLE $t ADD PRIMARY KEY (c1)",
			"ALTER TABLE $t ADD FOREIGN KEY (c1) REFERENCES fz1.t1 (id)"),
		0) if $r < 0.92;
	return ("SELECT nextval('fz1.seq')", 0);
}

# Approvals, roles, settings
sub control
{
	my $r = rand();

	return "SET " . opt(0.4, 'LOCAL ') . "migsafe.approve = "
	  . quote(approval())
	  if $r < 0.40;
	return "RESET migsafe.approve" if $r < 0.55;
	return "SET LOCAL migsafe.reason = " . quote(junk()) if $r < 0.60;
	return "SET " . opt(0.7, 'LOCAL ') . "migsafe.skip_snapshot = "
	  . quote(pick(approval(), ''))
	  if $r < 0.64;
	return "RESET migsafe.skip_snapshot" if $r < 0.70;
	return pick('DISCARD TEMP', 'DISCARD ALL') if $r < 0.76;
	return pick('SET LOCAL ROLE fuzzown', 'SET ROLE fuzzown', 'RESET ROLE',
		'RESET ROLE')
	  if $r < 0.86;
	return "SET search_path = " . pick('fz1, fz2', 'fz2', 'public', 'fz3, fz1');
}

# Transaction control
my $in_transaction = 0;

sub transaction
{
	my $r = rand();

	if ($in_transaction ? $r < 0.05 : $r < 0.7)
	{
		$in_transaction = 1;
		return "BEGIN";
	}
	if ($r < 0.70)
	{
		$in_transaction = 0;
		return pick("COMMIT", "ROLLBACK", "END", "COMMIT");
	}
	return "SAVEPOINT " . pick('s1', 's2') if $r < 0.82;
	return "ROLLBACK TO " . pick('s1', 's2') if $r < 0.94;
	return "RELEASE " . pick('s1', 's2');
}

# Put the schema back, each statement on its own (most fail: it is there)
sub restock
{
	my @s = grep { /\S/ } split /;\n/, $fixture;
	my $list = join(', ', map { my $x = $_; $x =~ s/\s+/ /g; quote($x) } @s);

	return "DO \$r\$DECLARE s text; BEGIN FOREACH s IN ARRAY ARRAY[$list] LOOP BEGIN EXECUTE s; EXCEPTION WHEN OTHERS THEN NULL; END; END LOOP; END\$r\$";
}

sub quote { my $s = shift; $s =~ s/'/''/g; return "'$s'"; }

# A script for migsafe.check(): statements, junk and broken lexemes
sub script
{
	my $n = 1 + int(rand(5));
	my @parts;

	for (1 .. $n)
	{
		push @parts,
		  pick(ddl(), ddl(), (build())[0], junk(), "'unterminated",
			'"unterminated', '/* open', "\$x\$ open", 'BEGIN', 'COMMIT',
			'SET LOCAL migsafe.approve = ' . quote(approval()), '', ';');
	}
	my $s = join(pick(";\n", '; ', ' '), @parts);
	$s =~ s/\$q\$//g;
	return $s;
}

# Wrap a statement so that it runs nested: DO block, function, or both
sub nested
{
	my ($s) = @_;
	my $q = $s;

	$q =~ s/'/''/g;
	return pick(
		"DO \$d\$BEGIN EXECUTE '$q'; END\$d\$",
		"DO \$d\$BEGIN EXECUTE '$q'; EXCEPTION WHEN OTHERS THEN NULL; END\$d\$",
		"CREATE OR REPLACE FUNCTION fz1.fn() RETURNS void LANGUAGE plpgsql AS \$d\$BEGIN EXECUTE '$q'; END\$d\$ \\; SELECT fz1.fn()",
		"CREATE OR REPLACE PROCEDURE fz1.pr() LANGUAGE sql AS \$d\$$s\$d\$ \\; CALL fz1.pr()");
}

# One statement of the script: (text, is it DML)
sub statement
{
	my $r = rand();

	# short transactions: most statements fail, and abort them
	return (transaction(), 0)
	  if rand() < ($in_transaction ? 0.15 : 0.06);
	return (ddl(), 0) if $r < 0.30;
	return build() if $r < 0.50;
	return (control(), 0) if $r < 0.62;
	return (nested(ddl()), 0) if $r < 0.70;
	if ($r < 0.74)
	{
		my ($b, $dml) = build();
		my $second = pick(0, 1, 2);

		return (ddl() . ' \\; ' . (ddl(), control(), $b)[$second],
			$second == 2 ? $dml : 0);
	}
	return (junk(), 0) if $r < 0.80;
	return ("SELECT count(*) FROM migsafe.check(\$q\$" . script() . "\$q\$)", 0)
	  if $r < 0.88;
	return ("SELECT count(*) FROM migsafe.rehearse(\$q\$" . script() . "\$q\$)", 0)
	  if $r < 0.90;
	return (restock(), 0) if $r < 0.94;
	return (
		pick(
			"SELECT migsafe.restore((SELECT max(id) FROM migsafe.snapshots WHERE status = 'kept'))",
			"SELECT migsafe.restore((SELECT min(id) FROM migsafe.snapshots))",
			"SELECT migsafe.restore(" . pick(-1, 0, 999999) . ")",
			"SELECT migsafe.restore(" . quote(tbl() . opt(0.3, '.' . col())) . ")",
			"SELECT migsafe.purge_snapshots(" . pick("interval '1 hour'", '') . ")"),
		0);
}

# ----------------------------------------------------------------
# Write the script: each statement on a line of its own, then the check
# ----------------------------------------------------------------
my $dir = $PostgreSQL::Test::Utils::tmp_check;
my $file = "$dir/fuzz_${seed}_$count.sql";
my @lines = ("\\set VERBOSITY verbose", "\\set SHOW_CONTEXT never",
	"SET client_min_messages = warning");
my %line_of;    # script line number => [statement number, 'stmt' or 'check']
my %text_of;    # statement number => text

for my $i (1 .. $count)
{
	my ($s, $dml) = statement();

	$s =~ s/\n/ /g;
	$text_of{$i} = $s;
	push @lines, "-- statement $i";
	push @lines, "$s;";
	$line_of{ scalar @lines } = [ $i, 'stmt' ];
	push @lines, "SELECT fuzzmeta.check($i, " . ($dml ? 'true' : 'false') . ");";
	$line_of{ scalar @lines } = [ $i, 'check' ];
}
push @lines, 'ROLLBACK;', 'RESET ALL;';
push @lines, "SELECT fuzzmeta.check(" . ($count + 1) . ", false);";
$line_of{ scalar @lines } = [ $count + 1, 'check' ];
$text_of{ $count + 1 } = '(end of the run)';
PostgreSQL::Test::Utils::append_to_file($file, join("\n", @lines) . "\n");

# ----------------------------------------------------------------
# Run it
# ----------------------------------------------------------------
my $log_offset = -s $node->logfile;
my $out = '';
my $timer = IPC::Run::timeout(120 + $count);
my $ran = eval {
	IPC::Run::run(
		[
			'psql', '-X', '-q', '-d', $node->connstr('fuzz'),
			'-f', $file
		],
		'<', \undef, '>&', \$out, $timer);
	1;
};
PostgreSQL::Test::Utils::append_to_file("$file.out", $out);
ok($ran, "the script runs to its end (no hang)")
  or diag("psql did not finish: $@");

my (%states, @problems);
my ($stmt_errors, $blocked, $check_runs) = (0, 0, 0);
for my $line (split /\n/, $out)
{
	my ($lno, $level, $rest) =
	  $line =~ /^psql:[^:]*:(\d+): (\w+):\s+(.*)$/
	  or next;
	my $where = $line_of{$lno} // [ '?', 'stmt' ];
	my $what = "statement $where->[0] ($where->[1], line $lno)";

	if ($level eq 'WARNING' && $rest =~ /FUZZ-/)
	{
		push @problems, "$what: $rest";
		next;
	}
	next if $level eq 'WARNING' || $level eq 'NOTICE';
	if ($level ne 'ERROR')
	{
		push @problems, "$what: $level: $rest";
		next;
	}
	my ($state) = $rest =~ /^([0-9A-Z]{5}): /;
	if (!defined $state)
	{
		push @problems, "$what: error without SQLSTATE: $rest";
		next;
	}
	if ($where->[1] eq 'check')
	{
		# the check cannot run in a transaction the statement aborted
		push @problems, "$what: check failed: $rest" if $state ne '25P02';
		next;
	}
	# migsafe.check() never raises, whatever the script
	push @problems, "$what: migsafe.check() raised: $rest"
	  if $text_of{ $where->[0] } =~ /^SELECT count\(\*\) FROM migsafe\.check\(/
	  && $state ne '25P02';
	$states{$state}++;
	$stmt_errors++;
	$blocked++ if $state eq 'MS001';
	push @problems, "$what: internal error or hang: $rest"
	  if $state =~ /^(XX|57|53|58)/;
}
for my $line (split /\n/, $out)
{
	push @problems, "psql: $line"
	  if $line =~ /server closed the connection|connection to server was lost|no connection to the server|terminated by signal/;
}

my $log = slurp_file($node->logfile, $log_offset);
push @problems, "server log: $1"
  while $log =~ /^(.*(?:terminated by signal|PANIC:|TRAP:|was terminated by exception).*)$/mg;

my $snapshots = $node->safe_psql('fuzz', 'SELECT count(*) FROM migsafe.snapshots');
diag sprintf("fuzz: seed %d, %d statements, %d errors (%d blocked by migsafe), %s snapshots; errors by SQLSTATE: %s",
	$seed, $count, $stmt_errors, $blocked, $snapshots,
	join(' ', map { "$_=$states{$_}" } sort keys %states));

is(scalar @problems, 0, "no crash, no hang, no internal error, no data lost unapproved (seed $seed)")
  or do
{
	my %seen;
	for my $p (@problems[ 0 .. ($#problems < 30 ? $#problems : 29) ])
	{
		diag($p);
		my ($n) = $p =~ /^statement (\d+)/;
		diag("  statement $n: $text_of{$n}") if defined $n && $text_of{$n} && !$seen{$n}++;
	}
	diag("script: $file (FUZZ_SEED=$seed FUZZ_COUNT=$count)");
};

is($node->safe_psql('fuzz', 'SELECT 1'), '1', 'the server is still up');
ok($blocked > 0, 'the gate blocked some statements');
ok($snapshots > 0, 'approved changes kept snapshots');

# Every snapshot's audit row arrives (written after commit by the worker)
ok( $node->poll_query_until(
		'fuzz', q{
SELECT count(*) FROM migsafe.snapshots s
 WHERE NOT EXISTS (SELECT 1 FROM migsafe.audit_log a WHERE a.id = s.audit_id)},
		'0'),
	'every snapshot has its audit row');

# ----------------------------------------------------------------
# The check itself catches what it is there for: a loss with no
# approval (the gate in warn mode lets it through), a loss with no
# snapshot (snapshots off), and changes whose audit rows it cannot see
# (the rows it has seen are pushed forward by hand)
# ----------------------------------------------------------------
sub control_run
{
	my ($sql) = @_;
	my (undef, $stdout, $stderr) = $node->psql(
		'fuzz', qq{
ROLLBACK;
RESET ALL;
SET client_min_messages = warning;
SET migsafe.approve = 'fzc.*';
DROP SCHEMA IF EXISTS fzc CASCADE;
CREATE SCHEMA fzc;
CREATE TABLE fzc.a (c1 int, c2 text);
INSERT INTO fzc.a VALUES (1, 'x');
SELECT fuzzmeta.check(0, false);
RESET migsafe.approve;
$sql});
	return $stderr;
}

my $err = control_run(q{
SET migsafe.mode = 'warn';
DROP TABLE fzc.a;
SELECT fuzzmeta.check(-1, false);
});
like($err, qr/FUZZ-VIOLATION statement -1: fzc\.a lost its data \(table -> gone\)/,
	'control: an unapproved loss is caught');

$err = control_run(q{
SET migsafe.snapshot = off;
SET migsafe.approve = 'fzc.a';
ALTER TABLE fzc.a DROP COLUMN c2;
SELECT fuzzmeta.check(-2, false);
});
like($err, qr/FUZZ-VIOLATION statement -2: fzc\.a\.c2 lost its data .* new snapshot: f/,
	'control: a loss without a snapshot is caught');

$err = control_run(q{
SET migsafe.approve = 'fzc.a';
DROP TABLE fzc.a;
UPDATE fuzzmeta.state SET last_audit = last_audit + 1000000;
SELECT fuzzmeta.check(-3, false);
});
unlike($err, qr/FUZZ-VIOLATION/, 'control: an approved loss with a snapshot passes');
like($err, qr/FUZZ-UNAUDITED statement -3: fzc\.a lost its data \(table -> gone\) with no audit row/,
	'control: a loss with no audit row is caught');
like($err, qr/FUZZ-UNAUDITED statement -3: the schema changed with no audit row: gone fzc\.a /,
	'control: a schema change with no audit row is caught');

$node->stop;
done_testing();
