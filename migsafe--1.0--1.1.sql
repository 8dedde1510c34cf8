/* migsafe--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migsafe UPDATE TO '1.1'" to load this file. \quit

-- audit_json() formats the row's timestamps in the session's TimeZone: its
-- result depends on a setting, so it is STABLE, not IMMUTABLE.
ALTER FUNCTION @extschema@.audit_json(@extschema@.audit_log) STABLE;

-- migsafe.restore('42') resolved to the text overload and looked for an
-- object named 42.  The text overload now takes a snapshot id written as
-- digits too; a relation whose name is all digits is named quoted, as in
-- SQL ('"42"').
CREATE OR REPLACE FUNCTION @extschema@.restore(object_name text)
RETURNS bigint
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'migsafe_restore_1_1';

COMMENT ON FUNCTION @extschema@.restore(text) IS
'restore the newest kept snapshot of schema.table[.column], or snapshot id given as digits';

-- A column's "builtin" flag says whether snapshot copies keep its values as
-- they are: only for types pinned by initdb (below FirstUnpinnedObjectId,
-- 12000), as the C code decides (MIGSAFE_BUILTIN_OBJECT in
-- include/catalog.h).  1.0 said 16384, calling the types initdb creates
-- unpinned (information_schema's domains) built in.
CREATE OR REPLACE FUNCTION @extschema@.snapshot_definition(rel oid)
RETURNS jsonb
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
SELECT jsonb_strip_nulls(jsonb_build_object(
	'relkind', c.relkind,
	'owner', pg_get_userbyid(c.relowner),
	'acl', c.relacl::text,
	'grants', @extschema@.snapshot_grants(c.relacl, c.relowner),
	'rls', c.relrowsecurity,
	'force_rls', c.relforcerowsecurity,
	'comment', obj_description(c.oid, 'pg_class'),
	'owned_by', (SELECT jsonb_build_object(
					 'table', dep.refobjid::regclass::text,
					 'column', a.attname,
					 'identity', NULLIF(a.attidentity, ''))
				   FROM pg_depend dep
				   JOIN pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) dep.refobjid
						AND a.attnum OPERATOR(pg_catalog.=) dep.refobjsubid
				  WHERE c.relkind OPERATOR(pg_catalog.=) 'S'
					AND dep.classid OPERATOR(pg_catalog.=) 'pg_class'::regclass
					AND dep.objid OPERATOR(pg_catalog.=) c.oid
					AND dep.refclassid OPERATOR(pg_catalog.=) 'pg_class'::regclass
					AND dep.deptype IN ('a', 'i')
				  LIMIT 1),
	'triggers', (SELECT jsonb_agg(jsonb_build_object(
					 'name', tg.tgname,
					 'definition', pg_get_triggerdef(tg.oid),
					 'enabled', tg.tgenabled) ORDER BY tg.tgname)
				   FROM pg_trigger tg
				  WHERE tg.tgrelid OPERATOR(pg_catalog.=) c.oid AND NOT tg.tgisinternal),
	'policies', (SELECT jsonb_agg(jsonb_build_object(
					 'name', po.polname,
					 'definition', format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s',
						po.polname, c.oid::regclass,
						CASE WHEN po.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
						CASE po.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'
							WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
						(SELECT string_agg(CASE WHEN r OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
											ELSE quote_ident(pg_get_userbyid(r)) END, ', ')
						   FROM unnest(po.polroles) r),
						' USING (' OPERATOR(pg_catalog.||) pg_get_expr(po.polqual, po.polrelid) OPERATOR(pg_catalog.||) ')',
						' WITH CHECK (' OPERATOR(pg_catalog.||) pg_get_expr(po.polwithcheck, po.polrelid) OPERATOR(pg_catalog.||) ')'))
					 ORDER BY po.polname)
				   FROM pg_policy po
				  WHERE po.polrelid OPERATOR(pg_catalog.=) c.oid),
	'unlogged', c.relpersistence OPERATOR(pg_catalog.=) 'u',
	'partition_of', (SELECT i.inhparent::regclass::text FROM pg_inherits i
					  WHERE i.inhrelid OPERATOR(pg_catalog.=) c.oid AND c.relispartition),
	'partition_bound', CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
	'inherits', (SELECT jsonb_agg(i.inhparent::regclass::text ORDER BY i.inhseqno)
				  FROM pg_inherits i
				 WHERE i.inhrelid OPERATOR(pg_catalog.=) c.oid AND NOT c.relispartition),
	'viewdef', CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'm' THEN pg_get_viewdef(c.oid) END,
	'partition_key', CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'p' THEN pg_get_partkeydef(c.oid) END,
	'columns', (SELECT jsonb_agg(jsonb_build_object(
					'name', a.attname,
					'type', format_type(a.atttypid, a.atttypmod),
					'builtin', a.atttypid OPERATOR(pg_catalog.<) 12000::oid,
					'notnull', a.attnotnull,
					'default', CASE WHEN a.attgenerated OPERATOR(pg_catalog.=) '' THEN pg_get_expr(d.adbin, d.adrelid) END,
					'generated', CASE WHEN a.attgenerated OPERATOR(pg_catalog.<>) '' THEN pg_get_expr(d.adbin, d.adrelid) END,
					'identity', NULLIF(a.attidentity, ''),
					'collation', CASE WHEN a.attcollation OPERATOR(pg_catalog.<>) 0
						AND a.attcollation OPERATOR(pg_catalog.<>) t.typcollation
						THEN (SELECT quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) quote_ident(co.collname)
							  FROM pg_collation co JOIN pg_namespace n ON n.oid OPERATOR(pg_catalog.=) co.collnamespace
							 WHERE co.oid OPERATOR(pg_catalog.=) a.attcollation) END,
					'acl', a.attacl::text,
					'grants', @extschema@.snapshot_grants(a.attacl, c.relowner),
					'comment', col_description(c.oid, a.attnum))
					ORDER BY a.attnum)
				  FROM pg_attribute a
				  JOIN pg_type t ON t.oid OPERATOR(pg_catalog.=) a.atttypid
				  LEFT JOIN pg_attrdef d ON d.adrelid OPERATOR(pg_catalog.=) a.attrelid
					   AND d.adnum OPERATOR(pg_catalog.=) a.attnum
				 WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid
				   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped),
	'constraints', (SELECT jsonb_agg(jsonb_build_object(
						'name', co.conname,
						'type', co.contype,
						'definition', pg_get_constraintdef(co.oid))
						ORDER BY co.contype OPERATOR(pg_catalog.=) 'f', co.conname)
					 FROM pg_constraint co
					WHERE co.conrelid OPERATOR(pg_catalog.=) c.oid
					  AND co.contype IN ('p', 'u', 'c', 'f', 'x')
					  AND co.conislocal),
	'indexes', (SELECT jsonb_agg(jsonb_build_object(
					'name', ic.relname,
					'definition', pg_get_indexdef(i.indexrelid)) ORDER BY i.indexrelid)
				 FROM pg_index i
				 JOIN pg_class ic ON ic.oid OPERATOR(pg_catalog.=) i.indexrelid
				WHERE i.indrelid OPERATOR(pg_catalog.=) c.oid
				  AND NOT EXISTS (SELECT FROM pg_constraint co
								   WHERE co.conindid OPERATOR(pg_catalog.=) i.indexrelid
									 AND co.conrelid OPERATOR(pg_catalog.=) c.oid)),
	'statistics', (SELECT jsonb_agg(jsonb_build_object(
					   'name', st.stxname,
					   'definition', pg_get_statisticsobjdef(st.oid)) ORDER BY st.oid)
					FROM pg_statistic_ext st
				   WHERE st.stxrelid OPERATOR(pg_catalog.=) c.oid),
	'sequences', (SELECT jsonb_agg(jsonb_build_object(
					  'name', s.seqrelid::regclass::text,
					  'grants', (SELECT @extschema@.snapshot_grants(sc.relacl, sc.relowner)
								  FROM pg_class sc
								 WHERE sc.oid OPERATOR(pg_catalog.=) s.seqrelid),
					  'column', a.attname,
					  'identity', a.attidentity OPERATOR(pg_catalog.<>) '',
					  'type', format_type(s.seqtypid, NULL),
					  'start', s.seqstart, 'increment', s.seqincrement,
					  'min', s.seqmin, 'max', s.seqmax, 'cache', s.seqcache,
					  'cycle', s.seqcycle,
					  'last_value', pg_sequence_last_value(s.seqrelid))
					  ORDER BY s.seqrelid)
				   FROM pg_depend dep
				   JOIN pg_sequence s ON s.seqrelid OPERATOR(pg_catalog.=) dep.objid
				   JOIN pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) dep.refobjid
						AND a.attnum OPERATOR(pg_catalog.=) dep.refobjsubid
				  WHERE dep.classid OPERATOR(pg_catalog.=) 'pg_class'::regclass
					AND dep.refclassid OPERATOR(pg_catalog.=) 'pg_class'::regclass
					AND dep.refobjid OPERATOR(pg_catalog.=) c.oid
					AND dep.deptype IN ('a', 'i')),
	'sequence', (SELECT jsonb_build_object(
					 'type', format_type(s.seqtypid, NULL),
					 'start', s.seqstart, 'increment', s.seqincrement,
					 'min', s.seqmin, 'max', s.seqmax, 'cache', s.seqcache,
					 'cycle', s.seqcycle,
					 'last_value', pg_sequence_last_value(s.seqrelid))
				   FROM pg_sequence s WHERE s.seqrelid OPERATOR(pg_catalog.=) c.oid)))
  FROM pg_class c
 WHERE c.oid OPERATOR(pg_catalog.=) rel
$$;

-- migsafe.guard_dml keeps the rows a DELETE or UPDATE without WHERE
-- reaches: two more operations.
ALTER TABLE @extschema@.snapshots
	DROP CONSTRAINT snapshots_operation_check,
	ADD CONSTRAINT snapshots_operation_check
		CHECK (operation IN ('drop', 'truncate', 'retype', 'blank', 'restart',
							 'delete', 'update'));

-- A blocked attempt repeated within migsafe.audit_repeat_window of the
-- first one counts on its row: repeat_count attempts, the last at last_ts
-- (ts stays the first).  The index finds that row among recent blocked
-- ones.
ALTER TABLE @extschema@.audit_log
	ADD COLUMN repeat_count bigint NOT NULL DEFAULT 1,
	ADD COLUMN last_ts timestamptz;
CREATE INDEX audit_log_repeat_idx ON @extschema@.audit_log (ts)
	WHERE decision = 'blocked';

-- The preview: what a migration script will destroy, break or lock in this
-- database, without running it (see README, "Preview").  Reads the catalog
-- only; a role sees exact figures only for tables it may read.
CREATE FUNCTION @extschema@.check(script text, exclude text[] DEFAULT '{}')
RETURNS TABLE (statement_no integer, line integer, statement text,
			   class text, rule text, message text, facts jsonb)
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'migsafe_check';
COMMENT ON FUNCTION @extschema@.check(text, text[]) IS
'what a migration script will destroy, break or lock in this database, without running it';
GRANT EXECUTE ON FUNCTION @extschema@.check(text, text[]) TO PUBLIC;

-- The rehearsal: runs a script for real in a subtransaction that is always
-- rolled back and reports each statement's locks, rewrites, rows and time
-- (see README, "Preview").  It takes real locks: for staging and CI
-- databases, granted by the DBA to whoever runs the rehearsals.
CREATE FUNCTION @extschema@.rehearse(script text,
									 lock_timeout text DEFAULT '2s',
									 statement_timeout text DEFAULT '1min')
RETURNS TABLE (statement_no integer, line integer, statement text,
			   outcome text, locks text, rewritten text, rows bigint,
			   ms double precision, predicted text, differs text)
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'migsafe_rehearse';
COMMENT ON FUNCTION @extschema@.rehearse(text, text, text) IS
'runs a migration script in a subtransaction that is always rolled back and reports what each statement did';
REVOKE ALL ON FUNCTION @extschema@.rehearse(text, text, text) FROM PUBLIC;
