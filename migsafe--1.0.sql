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
