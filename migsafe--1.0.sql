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
