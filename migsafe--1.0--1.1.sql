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
