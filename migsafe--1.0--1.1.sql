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
-- database, without running it (see docs/preview.md).  Reads the catalog
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
-- (see docs/preview.md).  It takes real locks: for staging and CI
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

-- Rollback of a deploy.  restore() now also fills what a migration tool's
-- down migration re-created (see docs/snapshots.md);
-- undo() restores every kept snapshot of one migration, or of a period,
-- newest first, all or nothing, and returns a row per snapshot restored.
-- Like restore(), any role may call them: each snapshot is restored only
-- if the caller may restore it.
CREATE FUNCTION @extschema@.undo(migration text)
RETURNS TABLE (snapshot_id bigint, object_type text, object_identity text,
			   restored bigint)
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'migsafe_undo_migration';

COMMENT ON FUNCTION @extschema@.undo(text) IS
'restore every kept snapshot of a migration (as audit_log.migration names it), newest first, all or nothing';

CREATE FUNCTION @extschema@.undo(since timestamptz)
RETURNS TABLE (snapshot_id bigint, object_type text, object_identity text,
			   restored bigint)
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'migsafe_undo_since';

COMMENT ON FUNCTION @extschema@.undo(timestamptz) IS
'restore every kept snapshot taken since a moment (but those of down migrations and restores), newest first, all or nothing';

-- The post-deploy report a person reads: per transaction (and the
-- migration it ran), what changed, what was destroyed and kept, what was
-- refused and why, and the undo() or restore() that brings it back.
-- migsafe-check --report prints it.  Any role may call it, like
-- restore(); it runs with the caller's rights, so only roles that may
-- read migsafe.audit_log get a report.
CREATE FUNCTION @extschema@.report(
	since timestamptz DEFAULT pg_catalog.now() OPERATOR(pg_catalog.-) interval '1 hour')
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t record;
	r record;
	m text;
	kept integer;
	any_rows boolean := false;
BEGIN
	FOR t IN
		SELECT a.vxid, a.backend_pid, pg_catalog.min(a.ts) AS first_ts,
			   pg_catalog.max(a.xid::text) AS xid,
			   pg_catalog.max(a.tool) AS tool, pg_catalog.max(a.migration) AS migration,
			   pg_catalog.max(a.session_role) AS role,
			   pg_catalog.max(a.application_name) AS app
		  FROM @extschema@.audit_log a
		 WHERE a.ts OPERATOR(pg_catalog.>=) since
		 GROUP BY a.vxid, a.backend_pid
		 ORDER BY pg_catalog.min(a.ts), pg_catalog.min(a.id)
	LOOP
		any_rows := true;
		RETURN NEXT pg_catalog.format('%s  %s, transaction %s, role %s%s',
			pg_catalog.to_char(t.first_ts, 'YYYY-MM-DD HH24:MI:SS TZ'),
			CASE WHEN t.migration IS NOT NULL
				 THEN pg_catalog.format('migration %s (%s)', t.migration, t.tool)
				 ELSE 'no migration tool' END,
			COALESCE(t.xid, t.vxid), COALESCE(t.role, '?'),
			CASE WHEN COALESCE(t.app, '') OPERATOR(pg_catalog.<>) ''
				 THEN pg_catalog.format(', application %s', t.app) ELSE '' END);
		FOR r IN
			SELECT a.*, s.status AS snapshot_status, s.row_count AS snapshot_rows,
				   s.rows_estimated AS snapshot_estimated,
				   s.object_identity AS snapshot_of
			  FROM @extschema@.audit_log a
			  LEFT JOIN @extschema@.snapshots s ON s.id OPERATOR(pg_catalog.=) a.snapshot_id
			 WHERE a.vxid OPERATOR(pg_catalog.=) t.vxid
			   AND a.backend_pid OPERATOR(pg_catalog.=) t.backend_pid
			   AND a.ts OPERATOR(pg_catalog.>=) since
			 ORDER BY a.id
		LOOP
			IF r.command_tag OPERATOR(pg_catalog.=) ANY ('{RESTORE,UNDO}'::text[]) THEN
				RETURN NEXT pg_catalog.format('  restored: %s "%s" (%s): %s',
					r.object_type, r.object_identity, r.command_tag, r.detail);
			ELSIF r.command_tag OPERATOR(pg_catalog.=) ANY ('{PURGE SNAPSHOT,EVICT SNAPSHOT}'::text[]) THEN
				RETURN NEXT pg_catalog.format('  %s: %s "%s": %s',
					CASE r.command_tag WHEN 'PURGE SNAPSHOT' THEN 'purged' ELSE 'evicted' END,
					r.object_type, r.object_identity, r.detail);
			ELSIF r.decision OPERATOR(pg_catalog.=) 'blocked' THEN
				IF r.scope OPERATOR(pg_catalog.=) 'object' THEN
					RETURN NEXT pg_catalog.format('  refused: %s of %s "%s"%s: %s To approve it: SET LOCAL migsafe.approve = %L;',
						r.command_tag, r.object_type, r.object_identity,
						CASE WHEN r.repeat_count OPERATOR(pg_catalog.>) 1
							 THEN pg_catalog.format(' (%s attempts)', r.repeat_count) ELSE '' END,
						COALESCE(r.detail, 'it destroys data.'), r.object_identity);
				ELSIF r.detail IS NOT NULL THEN
					RETURN NEXT pg_catalog.format('  refused: %s: %s', r.command_tag, r.detail);
				END IF;
			ELSIF r.scope OPERATOR(pg_catalog.=) 'command' THEN
				RETURN NEXT pg_catalog.format('  changed: %s%s%s', r.command_tag,
					CASE WHEN r.object_identity IS NOT NULL
						 THEN ' ' OPERATOR(pg_catalog.||) r.object_identity ELSE '' END,
					CASE WHEN r.decision OPERATOR(pg_catalog.<>) 'allowed'
						 THEN pg_catalog.format(' (%s)', r.decision) ELSE '' END);
			ELSIF r.decision OPERATOR(pg_catalog.=) ANY ('{no data,new,empty,scratch}'::text[]) THEN
				RETURN NEXT pg_catalog.format('  destroyed: %s "%s" by %s, which held no data (%s)',
					r.object_type, r.object_identity, r.command_tag, r.decision);
			ELSIF r.snapshot_of OPERATOR(pg_catalog.<>) r.object_identity THEN
				RETURN NEXT pg_catalog.format('  destroyed: %s "%s" by %s (%s): kept with snapshot %s of "%s" (%s)',
					r.object_type, r.object_identity, r.command_tag, r.decision,
					r.snapshot_id, r.snapshot_of, r.snapshot_status);
			ELSIF r.snapshot_id IS NOT NULL THEN
				RETURN NEXT pg_catalog.format('  destroyed: %s "%s" by %s (%s): %s%s rows kept by snapshot %s (%s)',
					r.object_type, r.object_identity, r.command_tag, r.decision,
					CASE WHEN r.snapshot_estimated THEN 'about ' ELSE '' END,
					COALESCE(r.snapshot_rows::text, '?'), r.snapshot_id,
					COALESCE(r.snapshot_status, 'gone'));
			ELSE
				RETURN NEXT pg_catalog.format('  destroyed: %s "%s" by %s (%s), not kept%s',
					r.object_type, r.object_identity, r.command_tag, r.decision,
					CASE WHEN r.detail IS NOT NULL THEN ': ' OPERATOR(pg_catalog.||) r.detail ELSE '' END);
			END IF;
		END LOOP;

		-- how to bring back what this transaction destroyed and is kept
		SELECT pg_catalog.count(*) INTO kept
		  FROM @extschema@.snapshots s
		 WHERE s.xid::text OPERATOR(pg_catalog.=) t.xid
		   AND s.status OPERATOR(pg_catalog.=) 'kept';
		IF kept OPERATOR(pg_catalog.>) 0 THEN
			IF t.migration IS NOT NULL AND t.migration NOT LIKE 'down: %' THEN
				FOREACH m IN ARRAY pg_catalog.string_to_array(t.migration, ', ') LOOP
					RETURN NEXT pg_catalog.format('  undo: SELECT * FROM migsafe.undo(%L);', m);
				END LOOP;
			END IF;
			FOR r IN
				SELECT s.id, s.object_type, s.object_identity
				  FROM @extschema@.snapshots s
				 WHERE s.xid::text OPERATOR(pg_catalog.=) t.xid
				   AND s.status OPERATOR(pg_catalog.=) 'kept'
				 ORDER BY s.id DESC
			LOOP
				RETURN NEXT pg_catalog.format('  restore: SELECT migsafe.restore(%s);  -- %s "%s"',
					r.id, r.object_type, r.object_identity);
			END LOOP;
		END IF;
	END LOOP;
	IF NOT any_rows THEN
		RETURN NEXT pg_catalog.format('no schema change since %s',
			COALESCE(pg_catalog.to_char(since, 'YYYY-MM-DD HH24:MI:SS TZ'), since::text));
	END IF;
END
$$;

COMMENT ON FUNCTION @extschema@.report(timestamptz) IS
'what changed, was destroyed, kept and refused since a moment, with the undo() or restore() that brings it back, as readable lines';

-- Logical replication applies a published TRUNCATE on a subscriber
-- without ProcessUtility or the object-access hook: only triggers see it.
-- Every table a subscription writes into gets this ENABLE ALWAYS trigger
-- (at CREATE and ALTER SUBSCRIPTION, and here for the subscriptions that
-- exist already), which submits the apply worker's TRUNCATE to the gate
-- like any other: refused without migsafe.exempt (or warn/off mode),
-- audited either way.  Other TRUNCATEs pass it: the hooks decide them.
CREATE FUNCTION @extschema@.replicated_truncate_guard()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'migsafe_replicated_truncate_guard';

REVOKE ALL ON FUNCTION @extschema@.replicated_truncate_guard() FROM PUBLIC;

COMMENT ON FUNCTION @extschema@.replicated_truncate_guard() IS
'trigger: the gate for a TRUNCATE that logical replication applies';

CREATE FUNCTION @extschema@.guard_subscribed_tables()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel regclass;
	added integer := 0;
BEGIN
	FOR rel IN
		SELECT DISTINCT c.oid
		  FROM (SELECT sr.srrelid FROM pg_catalog.pg_subscription_rel sr
				UNION
				SELECT t.relid FROM pg_catalog.pg_subscription_rel sr,
					   LATERAL pg_catalog.pg_partition_tree(sr.srrelid) t) r
		  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.srrelid
		 WHERE c.relkind OPERATOR(pg_catalog.=) 'r'
		   AND c.relnamespace OPERATOR(pg_catalog.<>) '@extschema@'::pg_catalog.regnamespace
		   AND NOT EXISTS (SELECT FROM pg_catalog.pg_trigger g
							WHERE g.tgrelid OPERATOR(pg_catalog.=) c.oid
							  AND g.tgname OPERATOR(pg_catalog.=) 'migsafe_replicated_truncate')
	LOOP
		EXECUTE pg_catalog.format('CREATE TRIGGER migsafe_replicated_truncate BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.replicated_truncate_guard()', rel);
		EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER migsafe_replicated_truncate', rel);
		added := added OPERATOR(pg_catalog.+) 1;
	END LOOP;
	RETURN added;
END
$$;

REVOKE ALL ON FUNCTION @extschema@.guard_subscribed_tables() FROM PUBLIC;

COMMENT ON FUNCTION @extschema@.guard_subscribed_tables() IS
'puts the replicated-TRUNCATE trigger on every table a subscription of this database writes into; returns how many it added';

SELECT @extschema@.guard_subscribed_tables();

-- The registry shows a snapshot's row (its size, row count and definition:
-- a sequence's value, a table's columns and grants) only to the roles
-- that could read the original: the roles recorded in definition ->
-- 'readers' (its owner and SELECT grantees, as the snapshot's own storage
-- is granted), or, for snapshots taken before 1.1, its owner.  Superusers
-- and migsafe itself see every row.
CREATE FUNCTION @extschema@.snapshot_visible(definition jsonb, owner name)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN definition ? 'readers' THEN
		EXISTS (SELECT FROM jsonb_array_elements_text(definition -> 'readers') r
				 WHERE pg_has_role(r::oid, 'USAGE'))
	ELSE
		EXISTS (SELECT FROM pg_roles r
				 WHERE r.rolname = owner AND pg_has_role(r.oid, 'USAGE'))
	END
$$;

COMMENT ON FUNCTION @extschema@.snapshot_visible(jsonb, name) IS
'whether the current role could read the original of a snapshot (the row policy of migsafe.snapshots)';

CREATE POLICY snapshots_readers ON @extschema@.snapshots
	FOR SELECT USING (@extschema@.snapshot_visible(definition, owner));
ALTER TABLE @extschema@.snapshots ENABLE ROW LEVEL SECURITY;

-- pg_dump keeps the audit log and the snapshot registry (with the
-- migsafe_snapshot_<id> schemas it describes), so that a restored
-- snapshot still restores.  A restore loads the rows as a superuser with
-- session_replication_role = replica, the only writes the tables' triggers
-- let in besides migsafe's own (see docs/dump-restore.md).  The
-- sequences are not dumped: loading advances them past every loaded id,
-- and a dumped value could set them back below rows the restore wrote.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.snapshots', '');
