-- migsafe.mode, exemptions, the decision trace, and migsafe protecting its
-- own extension.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

CREATE TABLE w (id int);
INSERT INTO w VALUES (1), (2);

-- 1. warn: the same text as a WARNING, and the change proceeds
SET migsafe.mode = warn;
BEGIN;
DROP TABLE w;
SELECT to_regclass('w') IS NULL AS gone;
ROLLBACK;

-- 2. off: no checks at all
SET migsafe.mode = off;
BEGIN;
TRUNCATE w;
SELECT count(*) FROM w;
ROLLBACK;
RESET migsafe.mode;
SHOW migsafe.mode;

-- 3. migsafe.exempt: objects never blocked
CREATE SCHEMA staging;
CREATE TABLE staging.load (id int);
INSERT INTO staging.load VALUES (1);
SET migsafe.exempt = 'staging.*';
TRUNCATE staging.load;
SELECT count(*) FROM staging.load;
INSERT INTO staging.load VALUES (1);
TRUNCATE w;
RESET migsafe.exempt;
TRUNCATE staging.load;

-- 4. migsafe.exempt_roles: a role and its members are never blocked
CREATE ROLE regress_etl;
CREATE ROLE regress_etl_worker IN ROLE regress_etl;
CREATE ROLE regress_other;
GRANT USAGE ON SCHEMA staging TO regress_etl, regress_other;
GRANT ALL ON staging.load TO regress_etl, regress_other;
SET migsafe.exempt_roles = 'regress_etl';
SET ROLE regress_etl_worker;
TRUNCATE staging.load;
RESET ROLE;
INSERT INTO staging.load VALUES (1);
SET ROLE regress_other;
TRUNCATE staging.load;
RESET ROLE;
RESET migsafe.exempt_roles;

-- 5. only superusers change the mode, the exemptions and allow_empty
SET ROLE regress_other;
SET migsafe.mode = off;
BEGIN;
SET LOCAL migsafe.mode = warn;
ROLLBACK;
SELECT set_config('migsafe.mode', 'off', false);
SET migsafe.exempt = '*';
SET migsafe.exempt_roles = 'regress_other';
SET migsafe.allow_empty = off;
SET migsafe.approve = 'staging.load';
SHOW migsafe.approve;
RESET ROLE;
RESET migsafe.approve;

-- approvals cannot be stored for later sessions, by anyone
ALTER ROLE regress_other SET migsafe.approve = '*';
ALTER DATABASE contrib_regression SET migsafe.approve = 'public.w';
ALTER ROLE regress_other IN DATABASE contrib_regression SET migsafe.approve = '*';
ALTER ROLE regress_other SET migsafe.approve FROM CURRENT;
ALTER SYSTEM SET migsafe.approve = '*';
-- setting names are case-insensitive
ALTER ROLE regress_other SET "MIGSAFE.APPROVE" = '*';
ALTER SYSTEM SET "Migsafe.Skip_Snapshot" = '*';
-- nor in a function: every call would run approved
CREATE FUNCTION approved_wipe() RETURNS void LANGUAGE sql
  SET migsafe.approve = '*' AS 'SELECT 1';
CREATE FUNCTION plain_fn() RETURNS int LANGUAGE sql AS 'SELECT 1';
ALTER FUNCTION plain_fn() SET "migsafe.APPROVE" = 'public.w';
ALTER FUNCTION plain_fn() SET migsafe.skip_snapshot FROM CURRENT;
ALTER FUNCTION plain_fn() SET work_mem = '8MB';
ALTER FUNCTION plain_fn() RESET migsafe.approve;
DROP FUNCTION plain_fn();
ALTER ROLE regress_other RESET migsafe.approve;
-- a session's approval goes with DISCARD ALL (what poolers run)
SET migsafe.approve = 'public.w';
DISCARD ALL;
SHOW migsafe.approve;
-- exemptions are for superusers to store
ALTER ROLE regress_etl SET migsafe.exempt = 'staging.*';
ALTER ROLE regress_etl RESET migsafe.exempt;

-- 6. the decision trace: one NOTICE per decision, naming the hook
SET migsafe.trace = on;
BEGIN;
SET LOCAL migsafe.approve = 'public.w';
DROP TABLE w;
ROLLBACK;
CREATE TABLE new_one (id int);
DROP TABLE new_one;
RESET migsafe.trace;

-- 7. DROP EXTENSION migsafe removes the guard and the audit log: it needs
-- approval itself, by every path (terse: the log's size varies)
\set VERBOSITY terse
DROP EXTENSION migsafe;
DROP SCHEMA migsafe CASCADE;
\set VERBOSITY default
-- one approval covers both: the hint says 'migsafe.*' only
DO $$
DECLARE
	hint text;
BEGIN
	DROP EXTENSION migsafe;
EXCEPTION WHEN SQLSTATE 'MS001' THEN
	GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
	RAISE NOTICE '%', hint;
END $$;
-- (naming the snapshots it keeps too: see drop_extension.sql)
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*, migsafe.snapshots';
DROP EXTENSION migsafe;
-- the database is no longer guarded once this commits
SELECT count(*) FROM pg_shseclabel l
  WHERE l.provider = 'migsafe' AND l.objoid = (SELECT oid FROM pg_database WHERE datname = current_database());
ROLLBACK;
SELECT label FROM pg_shseclabel l
  WHERE l.provider = 'migsafe' AND l.objoid = (SELECT oid FROM pg_database WHERE datname = current_database());

-- 8. the guard mark only accepts "guarded", on databases
SECURITY LABEL FOR migsafe ON TABLE w IS 'guarded';
SECURITY LABEL FOR migsafe ON DATABASE contrib_regression IS 'yes';
SET ROLE regress_other;
SECURITY LABEL FOR migsafe ON DATABASE contrib_regression IS NULL;
RESET ROLE;
-- removing the mark unguards DROP DATABASE: superusers need an approval,
-- whatever migsafe.mode says
SET migsafe.mode = off;
SECURITY LABEL FOR migsafe ON DATABASE contrib_regression IS NULL;
RESET migsafe.mode;
BEGIN;
SET LOCAL migsafe.approve = 'DATABASE contrib_regression';
SECURITY LABEL FOR migsafe ON DATABASE contrib_regression IS NULL;
SELECT count(*) AS marks FROM pg_shseclabel WHERE provider = 'migsafe'
   AND objoid = (SELECT oid FROM pg_database WHERE datname = current_database());
ROLLBACK;

BEGIN;
SET LOCAL migsafe.approve = 'staging.*';
DROP SCHEMA staging CASCADE;
COMMIT;
-- the snapshot of staging.load is readable by the roles that could read
-- the table: DROP OWNED revokes that, as for any other grant
DROP ROLE regress_etl_worker, regress_etl, regress_other;
DROP OWNED BY regress_etl, regress_other;
DROP ROLE regress_etl_worker, regress_etl, regress_other;
