-- The MAINTAIN privilege and the pg_maintain role (PostgreSQL 17) let a
-- role that does not own a table VACUUM, ANALYZE, CLUSTER, REINDEX,
-- REFRESH and LOCK it.  None of those destroys data, and none of them
-- opens a way around the guard: what does still needs its own privilege,
-- then approval.  Before PostgreSQL 17 there is no MAINTAIN; that output is
-- guard_maintain_1.out.
SELECT current_setting('server_version_num')::int >= 170000 AS has_maintain \gset
\if :has_maintain
\else
\echo 'no MAINTAIN privilege before PostgreSQL 17'
\quit
\endif
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

CREATE ROLE regress_maint;
CREATE TABLE maint_t (id int PRIMARY KEY, v text);
INSERT INTO maint_t SELECT g, 'v' || g FROM generate_series(1, 50) g;
CREATE MATERIALIZED VIEW maint_mv AS SELECT id FROM maint_t;
GRANT MAINTAIN ON maint_t, maint_mv TO regress_maint;
SELECT max(id) AS mark FROM migsafe.audit_log \gset

-- 1. maintenance by a role with MAINTAIN passes, and the table keeps its
-- rows
SET ROLE regress_maint;
VACUUM FULL maint_t;
CLUSTER maint_t USING maint_t_pkey;
REINDEX TABLE maint_t;
REFRESH MATERIALIZED VIEW maint_mv;
BEGIN;
LOCK TABLE maint_t IN ACCESS EXCLUSIVE MODE;
COMMIT;
RESET ROLE;
SELECT count(*) AS rows, count(DISTINCT v) AS values FROM maint_t;
SELECT count(*) AS mv_rows FROM maint_mv;
-- the schema changes among them are audited, as the role's
SELECT effective_role, command_tag, decision FROM migsafe.audit_log
 WHERE id > :mark AND scope = 'command' ORDER BY id;

-- 2. MAINTAIN does not let it destroy: TRUNCATE needs the TRUNCATE
-- privilege, DROP and ALTER ownership, approved or not
SET ROLE regress_maint;
TRUNCATE maint_t;
BEGIN;
SET LOCAL migsafe.approve = 'public.maint_t';
TRUNCATE maint_t;
ROLLBACK;
ALTER TABLE maint_t DROP COLUMN v;
DROP TABLE maint_t;
DROP MATERIALIZED VIEW maint_mv;
RESET ROLE;
SELECT count(*) AS rows, count(DISTINCT v) AS values FROM maint_t;

-- 3. with the TRUNCATE privilege too, migsafe asks for approval
GRANT TRUNCATE ON maint_t TO regress_maint;
SET ROLE regress_maint;
TRUNCATE maint_t;
RESET ROLE;
SELECT count(*) AS rows FROM maint_t;
SET ROLE regress_maint;
BEGIN;
SET LOCAL migsafe.approve = 'public.maint_t';
TRUNCATE maint_t;
COMMIT;
RESET ROLE;
SELECT count(*) AS rows FROM maint_t;
SELECT object_identity, operation, row_count, status FROM migsafe.snapshots
 WHERE object_identity = 'public.maint_t' ORDER BY id;

-- 4. pg_maintain maintains migsafe's own tables, and cannot empty them
GRANT pg_maintain TO regress_maint;
SELECT count(*) AS audit_rows FROM migsafe.audit_log \gset
SET ROLE regress_maint;
VACUUM FULL migsafe.audit_log;
TRUNCATE migsafe.audit_log;
TRUNCATE migsafe.snapshots;
DELETE FROM migsafe.audit_log;
RESET ROLE;
SELECT count(*) >= :audit_rows AS audit_log_kept FROM migsafe.audit_log;

