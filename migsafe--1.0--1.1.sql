/* migsafe--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migsafe UPDATE TO '1.1'" to load this file. \quit

-- audit_json() formats the row's timestamps in the session's TimeZone: its
-- result depends on a setting, so it is STABLE, not IMMUTABLE.
ALTER FUNCTION @extschema@.audit_json(@extschema@.audit_log) STABLE;
