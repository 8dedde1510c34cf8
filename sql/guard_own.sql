-- migsafe's own objects: anything that changes how audit rows are written
-- or who sees them needs migsafe.approve = 'migsafe.*', in every mode:
-- defaults, row level security, policies, rules, triggers, storage,
-- collation, constraints, the identity's sequence, inheritance, owner.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

CREATE TABLE own_attempts (n serial, stmt text);
INSERT INTO own_attempts (stmt) VALUES
	('ALTER TABLE migsafe.audit_log ALTER COLUMN reason SET DEFAULT ''forged'''),
	('ALTER TABLE migsafe.audit_log ALTER COLUMN id DROP DEFAULT'),
	('ALTER TABLE migsafe.audit_log ENABLE ROW LEVEL SECURITY'),
	('ALTER TABLE migsafe.audit_log FORCE ROW LEVEL SECURITY'),
	('CREATE POLICY hide ON migsafe.audit_log USING (false)'),
	('ALTER TABLE migsafe.audit_log SET (autovacuum_enabled = false)'),
	('ALTER TABLE migsafe.audit_log RESET (fillfactor)'),
	('ALTER TABLE migsafe.audit_log ALTER COLUMN reason SET STORAGE EXTERNAL'),
	('ALTER TABLE migsafe.audit_log ALTER COLUMN reason SET COMPRESSION pglz'),
	('ALTER TABLE migsafe.audit_log ALTER COLUMN reason TYPE text COLLATE "C"'),
	('ALTER TABLE migsafe.audit_log ALTER COLUMN statement SET STATISTICS 0'),
	('CREATE RULE quiet AS ON INSERT TO migsafe.audit_log DO INSTEAD NOTHING'),
	('CREATE TRIGGER quiet BEFORE INSERT ON migsafe.audit_log FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()'),
	('ALTER TABLE migsafe.audit_log DISABLE TRIGGER ALL'),
	('ALTER TABLE migsafe.audit_log ADD COLUMN z int DEFAULT 1'),
	('ALTER TABLE migsafe.audit_log ADD CONSTRAINT never CHECK (false) NOT VALID'),
	('ALTER TABLE migsafe.audit_log OWNER TO pg_monitor'),
	('ALTER TABLE migsafe.audit_log REPLICA IDENTITY NOTHING'),
	('ALTER TABLE migsafe.audit_log SET WITHOUT CLUSTER'),
	('ALTER TABLE migsafe.snapshots ALTER COLUMN status SET DEFAULT ''purged'''),
	('ALTER SEQUENCE migsafe.audit_log_id_seq MAXVALUE 1000000 CYCLE'),
	('ALTER TABLE migsafe.audit_log_id_seq OWNER TO pg_monitor'),
	('ALTER INDEX migsafe.audit_log_repeat_idx SET (fillfactor = 10)');

-- every attempt is refused, in enforce and in warn mode
CREATE FUNCTION try_all() RETURNS TABLE (n int, outcome text)
LANGUAGE plpgsql AS $$
DECLARE
	a record;
BEGIN
	FOR a IN SELECT * FROM own_attempts ORDER BY 1 LOOP
		BEGIN
			EXECUTE a.stmt;
			n := a.n; outcome := 'ran';
		EXCEPTION WHEN OTHERS THEN
			n := a.n; outcome := SQLSTATE || ' ' || split_part(SQLERRM, ' requires', 1);
		END;
		RETURN NEXT;
	END LOOP;
END $$;
SELECT * FROM try_all();
SET migsafe.mode = warn;
SELECT count(*) FILTER (WHERE outcome LIKE 'MS001%') AS refused_in_warn_mode,
	   count(*) AS attempts
  FROM try_all();
RESET migsafe.mode;

-- nothing changed
SELECT relrowsecurity, relforcerowsecurity, reloptions
  FROM pg_class WHERE oid = 'migsafe.audit_log'::regclass;
SELECT count(*) AS defaults_on_reason FROM pg_attrdef
 WHERE adrelid = 'migsafe.audit_log'::regclass
   AND adnum = (SELECT attnum FROM pg_attribute
				 WHERE attrelid = 'migsafe.audit_log'::regclass AND attname = 'reason');
SELECT count(*) AS policies FROM pg_policy WHERE polrelid = 'migsafe.audit_log'::regclass;
SELECT seqmax > 1000000 AS seq_max_unchanged FROM pg_sequence
 WHERE seqrelid = 'migsafe.audit_log_id_seq'::regclass;

-- a role granted SELECT on the log sees every row
CREATE ROLE own_auditor;
GRANT SELECT ON migsafe.audit_log TO own_auditor;
SELECT count(*) AS rows_as_owner FROM migsafe.audit_log \gset
SET ROLE own_auditor;
SELECT count(*) = :rows_as_owner AS auditor_sees_all FROM migsafe.audit_log;
RESET ROLE;
REVOKE SELECT ON migsafe.audit_log FROM own_auditor;
DROP ROLE own_auditor;

-- approved, such a change runs (and is audited)
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*';
ALTER TABLE migsafe.audit_log ALTER COLUMN statement SET STATISTICS 500;
ALTER TABLE migsafe.audit_log ALTER COLUMN statement SET STATISTICS -1;
COMMIT;
SELECT scope, decision, approved_by FROM migsafe.audit_log
 WHERE command_tag = 'ALTER TABLE' AND statement LIKE '%SET STATISTICS 500%'
 ORDER BY id;

DROP FUNCTION try_all();
SET client_min_messages = warning;
BEGIN;
SET LOCAL migsafe.approve = 'public.own_attempts';
DROP TABLE own_attempts;
COMMIT;
RESET client_min_messages;

-- an approved trigger of the DBA's on the log fires on the rows migsafe
-- writes, beside the append-only guard
CREATE FUNCTION tag_row() RETURNS trigger LANGUAGE plpgsql
  AS $$BEGIN NEW.reason := coalesce(NEW.reason, 'tagged'); RETURN NEW; END$$;
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*';
CREATE TRIGGER tag BEFORE INSERT ON migsafe.audit_log
  FOR EACH ROW EXECUTE FUNCTION tag_row();
COMMIT;
CREATE TABLE own_tagged (id int);
SELECT command_tag, object_identity, reason FROM migsafe.audit_log
 WHERE object_identity = 'public.own_tagged' ORDER BY id;
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*';
DROP TRIGGER tag ON migsafe.audit_log;
COMMIT;
CREATE INDEX ON own_tagged (id);
SELECT command_tag, object_identity, reason FROM migsafe.audit_log
 WHERE object_identity LIKE 'public.own_tagged%' ORDER BY id;
DROP TABLE own_tagged;
DROP FUNCTION tag_row();

-- the guard function replaced (approved) is called for migsafe's rows
-- again, also by a session that wrote rows before: which trigger
-- functions can be skipped is not remembered past a change to them
CREATE TABLE own_replaced_before (id int);
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*';
CREATE OR REPLACE FUNCTION migsafe.audit_log_guard() RETURNS trigger
  LANGUAGE plpgsql
  AS $$BEGIN NEW.reason := coalesce(NEW.reason, 'replaced'); RETURN NEW; END$$;
COMMIT;
CREATE TABLE own_replaced (id int);
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*';
CREATE OR REPLACE FUNCTION migsafe.audit_log_guard() RETURNS trigger
  LANGUAGE C AS '$libdir/migsafe', 'migsafe_audit_log_guard';
COMMIT;
CREATE TABLE own_replaced_after (id int);
SELECT command_tag, object_identity, reason FROM migsafe.audit_log
 WHERE object_identity LIKE 'public.own_replaced%' ORDER BY id;
DROP TABLE own_replaced_before, own_replaced, own_replaced_after;

-- schema migsafe is not renamed, even approved: migsafe would no longer
-- know it is installed, and would neither guard nor audit
CREATE TABLE own_after_rename (id int);
INSERT INTO own_after_rename VALUES (1);
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*';
ALTER SCHEMA migsafe RENAME TO migsafe_renamed;
ROLLBACK;
ALTER SCHEMA migsafe RENAME TO migsafe_renamed;
DROP TABLE own_after_rename;
SELECT count(*) AS still_there FROM own_after_rename;
SET client_min_messages = warning;
BEGIN;
SET LOCAL migsafe.approve = 'public.own_after_rename';
DROP TABLE own_after_rename;
COMMIT;
RESET client_min_messages;
