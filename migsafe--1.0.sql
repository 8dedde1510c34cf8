/* migsafe--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION migsafe" to load this file. \quit

-- Loading the library here also makes CREATE EXTENSION fail, with a hint,
-- when migsafe is not in shared_preload_libraries.
CREATE FUNCTION @extschema@.register_database()
RETURNS void
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'migsafe_register_database';

REVOKE ALL ON FUNCTION @extschema@.register_database() FROM PUBLIC;

COMMENT ON FUNCTION @extschema@.register_database() IS
'marks the current database as guarded by migsafe (DROP DATABASE needs approval from any database); run by CREATE EXTENSION';

SELECT @extschema@.register_database();

-- The audit log: one row per schema change (each DDL command and TRUNCATE)
-- and one per object a command destroys or rewrites, whatever the
-- decision.  Rows of changes that ran are written in the change's own
-- transaction; blocked attempts by a background worker, so that they
-- survive their transaction's rollback.  Append-only: only migsafe writes.
CREATE TABLE @extschema@.audit_log (
	id				bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	ts				timestamptz NOT NULL,
	xid				xid8,
	vxid			text NOT NULL,
	database		name NOT NULL,
	session_role	name,
	effective_role	name,
	client_addr		inet,
	application_name text,
	backend_pid		integer NOT NULL,
	command_tag		text NOT NULL,
	object_type		text,
	object_identity	text,
	statement		text,
	nested			boolean NOT NULL DEFAULT false,
	scope			text NOT NULL CHECK (scope IN ('command', 'object')),
	risk			text NOT NULL CHECK (risk IN ('destructive', 'schema')),
	decision		text NOT NULL,
	detail			text,
	approval		text,
	approved_by		text,
	reason			text,
	wal_lsn			pg_lsn,
	tool			text,
	migration		text,
	snapshot_id		bigint
);

COMMENT ON TABLE @extschema@.audit_log IS
'every schema change and every object destroyed or rewritten, allowed or not (append-only)';

CREATE INDEX audit_log_ts_idx ON @extschema@.audit_log (ts);
CREATE INDEX audit_log_object_idx ON @extschema@.audit_log (object_identity, ts);
CREATE INDEX audit_log_xid_idx ON @extschema@.audit_log (xid);

REVOKE ALL ON @extschema@.audit_log FROM PUBLIC;

-- Refuses INSERT, UPDATE and DELETE unless migsafe itself writes.  ENABLE
-- ALWAYS: session_replication_role does not switch it off.
CREATE FUNCTION @extschema@.audit_log_guard()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'migsafe_audit_log_guard';

CREATE TRIGGER audit_log_append_only
	BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.audit_log
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_log_guard();
ALTER TABLE @extschema@.audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;

-- TRUNCATE needs an approval like for any table with data; this trigger
-- also catches the TRUNCATE that logical replication applies, which no
-- other hook sees.
CREATE TRIGGER audit_log_no_truncate
	BEFORE TRUNCATE ON @extschema@.audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.audit_log_guard();
ALTER TABLE @extschema@.audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;

-- A row as compact JSON (NULLs left out), for log shipping.
CREATE FUNCTION @extschema@.audit_json(entry @extschema@.audit_log)
RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$ SELECT pg_catalog.jsonb_strip_nulls(pg_catalog.to_jsonb(entry)) $$;

-- The changes since a moment, blocked ones first.
CREATE FUNCTION @extschema@.changes_since(since timestamptz)
RETURNS SETOF @extschema@.audit_log
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT * FROM @extschema@.audit_log a
	 WHERE a.ts OPERATOR(pg_catalog.>=) since
	 ORDER BY (a.decision OPERATOR(pg_catalog.=) 'blocked') DESC, a.ts, a.id
$$;

-- After a deploy: one row per transaction and application, blocked first.
CREATE FUNCTION @extschema@.deploy_summary(
	since timestamptz DEFAULT pg_catalog.now() OPERATOR(pg_catalog.-) interval '1 hour')
RETURNS TABLE (
	first_ts timestamptz,
	last_ts timestamptz,
	vxid text,
	xid xid8,
	application_name text,
	session_role name,
	tool text,
	migration text,
	commands bigint,
	objects bigint,
	blocked bigint,
	approved bigint,
	warned bigint,
	command_tags text[]
)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT min(a.ts), max(a.ts), a.vxid, max(a.xid::text)::xid8,
		   max(a.application_name), max(a.session_role),
		   max(a.tool), max(a.migration),
		   count(*) FILTER (WHERE a.scope OPERATOR(pg_catalog.=) 'command'),
		   count(*) FILTER (WHERE a.scope OPERATOR(pg_catalog.=) 'object'),
		   count(*) FILTER (WHERE a.decision OPERATOR(pg_catalog.=) 'blocked'),
		   count(*) FILTER (WHERE a.decision OPERATOR(pg_catalog.=) 'approved'),
		   count(*) FILTER (WHERE a.decision OPERATOR(pg_catalog.=) 'warned'),
		   array_agg(DISTINCT a.command_tag ORDER BY a.command_tag)
	  FROM @extschema@.audit_log a
	 WHERE a.ts OPERATOR(pg_catalog.>=) since
	 GROUP BY a.vxid, a.backend_pid
	 ORDER BY count(*) FILTER (WHERE a.decision OPERATOR(pg_catalog.=) 'blocked')
			  OPERATOR(pg_catalog.>) 0 DESC,
			  min(a.ts)
$$;

-- The same for the last N minutes.
CREATE FUNCTION @extschema@.recent_changes(minutes integer DEFAULT 60)
RETURNS SETOF @extschema@.audit_log
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT * FROM @extschema@.changes_since(
		pg_catalog.now() OPERATOR(pg_catalog.-)
		pg_catalog.make_interval(mins => minutes))
$$;

REVOKE ALL ON FUNCTION @extschema@.changes_since(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.deploy_summary(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.recent_changes(integer) FROM PUBLIC;

-- Audit rows that took a snapshot, for the link back from the snapshot.
CREATE INDEX audit_log_snapshot_idx ON @extschema@.audit_log (snapshot_id)
	WHERE snapshot_id IS NOT NULL;

-- Snapshots: one row per object whose data an approved change destroyed,
-- kept before the change ran, in the same transaction.  The data itself
-- is in schema migsafe_snapshot_<id> (method "moved": the dropped table
-- itself; "copied": a copy of the rows, or of the key and the column), or
-- in the definition column (method "state": a sequence's state;
-- "definition": a materialized view's query).  Only migsafe writes it.
CREATE TABLE @extschema@.snapshots (
	id				bigint PRIMARY KEY,
	audit_id		bigint,
	created_at		timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	xid				xid8,
	command_tag		text NOT NULL,
	operation		text NOT NULL
					CHECK (operation IN ('drop', 'truncate', 'retype', 'blank', 'restart')),
	object_type		text NOT NULL,
	object_identity	text NOT NULL,
	schema_name		name NOT NULL,
	relation_name	name NOT NULL,
	column_name		name,
	owner			name,
	method			text NOT NULL
					CHECK (method IN ('moved', 'copied', 'definition', 'state')),
	storage			text,
	key_columns		name[],
	row_count		bigint,
	rows_estimated	boolean NOT NULL DEFAULT false,
	size_bytes		bigint NOT NULL DEFAULT 0,
	definition		jsonb NOT NULL DEFAULT '{}',
	status			text NOT NULL DEFAULT 'kept'
					CHECK (status IN ('kept', 'restored', 'purged', 'evicted')),
	status_changed_at timestamptz,
	status_changed_by name
);

CREATE SEQUENCE @extschema@.snapshots_id_seq OWNED BY @extschema@.snapshots.id;

COMMENT ON TABLE @extschema@.snapshots IS
'data kept before approved destructive changes; restore with migsafe.restore()';

CREATE INDEX snapshots_object_idx ON @extschema@.snapshots (object_identity, id);

-- The metadata is readable by all (names, sizes and definitions are in
-- the catalogs anyway); the data itself only by roles that could read the
-- original (privileges on migsafe_snapshot_<id>).
REVOKE ALL ON @extschema@.snapshots FROM PUBLIC;
GRANT SELECT ON @extschema@.snapshots TO PUBLIC;
REVOKE ALL ON SEQUENCE @extschema@.snapshots_id_seq FROM PUBLIC;

CREATE FUNCTION @extschema@.snapshots_guard()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'migsafe_snapshots_guard';

CREATE TRIGGER snapshots_migsafe_only
	BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.snapshots
	FOR EACH ROW EXECUTE FUNCTION @extschema@.snapshots_guard();
ALTER TABLE @extschema@.snapshots ENABLE ALWAYS TRIGGER snapshots_migsafe_only;

CREATE TRIGGER snapshots_no_truncate
	BEFORE TRUNCATE ON @extschema@.snapshots
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.snapshots_guard();
ALTER TABLE @extschema@.snapshots ENABLE ALWAYS TRIGGER snapshots_no_truncate;

-- The privileges of an ACL but its owner's, by role name: restore gives
-- them back one by one, so that a role dropped since costs only its own.
CREATE FUNCTION @extschema@.snapshot_grants(acl aclitem[], owner oid)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT jsonb_agg(jsonb_build_object(
		'grantee', CASE WHEN x.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
					   ELSE pg_get_userbyid(x.grantee) END,
		'privilege', x.privilege_type,
		'grantable', x.is_grantable)
		ORDER BY x.grantee, x.privilege_type)
  FROM aclexplode(acl) x
 WHERE x.grantee OPERATOR(pg_catalog.<>) owner
$$;

REVOKE ALL ON FUNCTION @extschema@.snapshot_grants(aclitem[], oid) FROM PUBLIC;

-- What restore needs to rebuild a relation: columns, constraints, indexes,
-- owned sequences, owner, privileges, comments.  Read with search_path =
-- pg_catalog, so every name in it is qualified.
CREATE FUNCTION @extschema@.snapshot_definition(rel oid)
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
					'builtin', a.atttypid OPERATOR(pg_catalog.<) 16384::oid,
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

REVOKE ALL ON FUNCTION @extschema@.snapshot_definition(oid) FROM PUBLIC;

-- Bring back what a snapshot kept (see README, "Snapshots and restore").
-- Returns the number of rows (or values) put back.
CREATE FUNCTION @extschema@.restore(snapshot_id bigint)
RETURNS bigint
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'migsafe_restore';

-- The same, for the newest kept snapshot of a table, sequence or column:
-- 'public.users' or 'public.users.email' (quoted as in SQL if needed).
CREATE FUNCTION @extschema@.restore(object_name text)
RETURNS bigint
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'migsafe_restore_by_name';

-- Drop snapshots older than the interval (all with NULL): superusers drop
-- any, other roles those of objects they own.  Returns how many.
CREATE FUNCTION @extschema@.purge_snapshots(older_than interval DEFAULT NULL)
RETURNS integer
LANGUAGE C
AS 'MODULE_PATHNAME', 'migsafe_purge_snapshots';

-- Roles need the schema to read migsafe.snapshots and call restore; the
-- audit log and the internal functions stay revoked.
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;
