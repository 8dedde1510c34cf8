--
-- Who may read and restore a snapshot: the roles that could read the
-- original (its owner and SELECT grantees), superusers; never PUBLIC.
-- Only migsafe writes the registry.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

CREATE ROLE regress_snap_owner;
CREATE ROLE regress_snap_grantee;
CREATE ROLE regress_snap_writer;
CREATE ROLE regress_snap_stranger;
CREATE SCHEMA vault AUTHORIZATION regress_snap_owner;
SET ROLE regress_snap_owner;
CREATE TABLE vault.secrets (id int PRIMARY KEY, secret text);
INSERT INTO vault.secrets VALUES (1, 'alpha'), (2, 'beta');
GRANT SELECT ON vault.secrets TO regress_snap_grantee;
GRANT INSERT, UPDATE ON vault.secrets TO regress_snap_writer;
GRANT SELECT ON vault.secrets TO PUBLIC;
GRANT USAGE ON SCHEMA vault TO PUBLIC;
-- the owner approves and drops its own table
BEGIN;
SET LOCAL migsafe.approve = 'vault.secrets';
DROP TABLE vault.secrets;
COMMIT;
RESET ROLE;
SELECT max(id) AS snap FROM migsafe.snapshots WHERE object_identity = 'vault.secrets' \gset
SELECT owner, method FROM migsafe.snapshots WHERE id = :snap;
-- who could read the original: role OIDs, as JSON strings
SELECT jsonb_typeof(r) AS type, pg_get_userbyid((r #>> '{}')::oid) AS reader
  FROM migsafe.snapshots, jsonb_array_elements(definition -> 'readers') r
 WHERE id = :snap ORDER BY 2;
SELECT storage AS storage FROM migsafe.snapshots WHERE id = :snap \gset

-- the storage belongs to migsafe's owner; readers may read, nobody writes
SELECT pg_get_userbyid(relowner) = (SELECT rolname FROM pg_roles WHERE oid = 10) AS owned_by_bootstrap
  FROM pg_class WHERE oid = :'storage'::regclass;
SELECT r.rolname,
	   has_table_privilege(r.rolname, :'storage', 'SELECT') AS can_select,
	   has_table_privilege(r.rolname, :'storage', 'INSERT') AS can_insert,
	   has_table_privilege(r.rolname, :'storage', 'DELETE') AS can_delete
  FROM pg_roles r WHERE r.rolname LIKE 'regress\_snap\_%' ORDER BY 1;
SELECT count(*) AS public_grants FROM pg_class c, aclexplode(c.relacl) x
 WHERE c.oid = :'storage'::regclass AND x.grantee = 0;
SET ROLE regress_snap_grantee;
SELECT * FROM :storage ORDER BY id;
DELETE FROM :storage;
RESET ROLE;
SET ROLE regress_snap_stranger;
SELECT * FROM :storage ORDER BY id;
-- the registry shows a snapshot (its size, rows, definition) only to the
-- roles that could read the original, and is writable by none
SELECT object_identity, method FROM migsafe.snapshots WHERE id = :snap;
UPDATE migsafe.snapshots SET status = 'restored' WHERE id = :snap;
-- only the owner (or a superuser) restores
SELECT migsafe.restore(:snap);
SELECT migsafe.purge_snapshots(interval '0');
RESET ROLE;
SET ROLE regress_snap_grantee;
SELECT object_identity, method, row_count IS NOT NULL AS sees_rows
  FROM migsafe.snapshots WHERE id = :snap;
SELECT migsafe.restore(:snap);
RESET ROLE;
SET ROLE regress_snap_owner;
SELECT object_identity, method FROM migsafe.snapshots WHERE id = :snap;
RESET ROLE;
UPDATE migsafe.snapshots SET status = 'restored' WHERE id = :snap;
DELETE FROM migsafe.snapshots WHERE id = :snap;

SET ROLE regress_snap_owner;
SELECT migsafe.restore(:snap) AS restored;
RESET ROLE;
-- the original privileges are back, and only those
SELECT pg_get_userbyid(relowner) AS owner, relacl FROM pg_class WHERE oid = 'vault.secrets'::regclass;
SELECT session_role, effective_role, command_tag, decision FROM migsafe.audit_log
 WHERE snapshot_id = :snap ORDER BY id;

-- a copied snapshot: the same rules
SET ROLE regress_snap_owner;
CREATE VIEW vault.secret_view AS SELECT * FROM vault.secrets;
BEGIN;
SET LOCAL migsafe.approve = 'vault.secrets';
TRUNCATE vault.secrets;
COMMIT;
RESET ROLE;
SELECT max(id) AS snap2 FROM migsafe.snapshots WHERE object_identity = 'vault.secrets' \gset
SELECT storage AS storage2 FROM migsafe.snapshots WHERE id = :snap2 \gset
SELECT r.rolname, has_table_privilege(r.rolname, :'storage2', 'SELECT') AS can_select
  FROM pg_roles r WHERE r.rolname LIKE 'regress\_snap\_%' ORDER BY 1;
SET ROLE regress_snap_stranger;
SELECT * FROM :storage2;
RESET ROLE;

-- the owner's code that restore runs (a CHECK constraint's function here;
-- the user's INSERT triggers do not fire for restored rows) is guarded
-- like any other: it cannot use the restore to destroy data unapproved
SET ROLE regress_snap_owner;
CREATE TABLE vault.victim (id int);
INSERT INTO vault.victim VALUES (1), (2);
CREATE FUNCTION vault.sneaky(int) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN TRUNCATE vault.victim; RETURN true; END $$;
ALTER TABLE vault.secrets ADD CONSTRAINT sneaky CHECK (vault.sneaky(id));
SELECT migsafe.restore(:snap2);
SELECT count(*) AS victim_rows FROM vault.victim;
SELECT status FROM migsafe.snapshots WHERE id = :snap2;
ALTER TABLE vault.secrets DROP CONSTRAINT sneaky;
RESET ROLE;

-- a role that can read a snapshot is dropped like any grantee: its grant
-- on the snapshot goes without DROP OWNED, not the one on vault.secrets
DROP ROLE regress_snap_grantee;
DROP OWNED BY regress_snap_grantee;
DROP ROLE regress_snap_grantee;
SET ROLE regress_snap_owner;
SELECT migsafe.restore(:snap2) AS restored;
RESET ROLE;
BEGIN;
SET LOCAL migsafe.approve = 'vault.*';
SET LOCAL migsafe.snapshot = off;
DROP SCHEMA vault CASCADE;
COMMIT;

-- a moved table belongs to migsafe's superuser: none of its owner's code
-- that maintenance runs as the table's owner stays on it (expression and
-- partial indexes, extended statistics); restore builds them again
CREATE ROLE regress_snap_owner2;
CREATE SCHEMA vault2 AUTHORIZATION regress_snap_owner2;
SET ROLE regress_snap_owner2;
GRANT USAGE ON SCHEMA vault2 TO regress_snap_stranger;
CREATE FUNCTION vault2.f(int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT $1 * 2 $$;
CREATE TABLE vault2.m (id int PRIMARY KEY, x int, who text);
INSERT INTO vault2.m SELECT g, g, 'w' || g FROM generate_series(1, 50) g;
CREATE INDEX m_fx ON vault2.m (vault2.f(x));
CREATE INDEX m_part ON vault2.m (x) WHERE x > 10;
CREATE STATISTICS vault2.m_st ON id, x FROM vault2.m;
GRANT SELECT, UPDATE ON vault2.m TO regress_snap_stranger;
BEGIN;
SET LOCAL migsafe.approve = 'vault2.m';
DROP TABLE vault2.m;
COMMIT;
RESET ROLE;
SELECT storage AS mstore, id AS msnap FROM migsafe.snapshots
 WHERE object_identity = 'vault2.m' ORDER BY id DESC LIMIT 1 \gset
SELECT count(*) FILTER (WHERE i.indexprs IS NOT NULL OR i.indpred IS NOT NULL) AS user_code_indexes,
	   count(*) AS indexes,
	   (SELECT count(*) FROM pg_statistic_ext WHERE stxrelid = :'mstore'::regclass) AS statistics
  FROM pg_index i WHERE i.indrelid = :'mstore'::regclass;
SET ROLE regress_snap_owner2;
SELECT migsafe.restore(:msnap) AS restored;
RESET ROLE;
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) LIKE '%WHERE%' AS partial
  FROM pg_index WHERE indrelid = 'vault2.m'::regclass ORDER BY indexrelid::regclass::text;
SELECT stxname FROM pg_statistic_ext WHERE stxrelid = 'vault2.m'::regclass;

-- with row-level security, grantees saw some rows only: only the owner
-- may read the snapshot
SET ROLE regress_snap_owner2;
ALTER TABLE vault2.m ENABLE ROW LEVEL SECURITY;
CREATE POLICY mine ON vault2.m FOR SELECT USING (who = 'w1');
BEGIN;
SET LOCAL migsafe.approve = 'vault2.m';
TRUNCATE vault2.m;
COMMIT;
RESET ROLE;
SELECT storage AS rstore FROM migsafe.snapshots
 WHERE object_identity = 'vault2.m' ORDER BY id DESC LIMIT 1 \gset
SELECT r.rolname, has_table_privilege(r.rolname, :'rstore', 'SELECT') AS can_select
  FROM pg_roles r WHERE r.rolname IN ('regress_snap_owner2', 'regress_snap_stranger') ORDER BY 1;

-- the storage is dropped only when nothing of others depends on it: a
-- view on a snapshot keeps it (restore still works, purge skips it)
SET ROLE regress_snap_owner2;
CREATE VIEW vault2.peek AS SELECT count(*) AS n FROM :rstore;
SELECT migsafe.purge_snapshots(interval '0') AS purged;
SELECT migsafe.restore('vault2.m') AS restored;
SELECT count(*) AS rows_back FROM vault2.m;
SELECT * FROM vault2.peek;
RESET ROLE;

-- the privileges of a table's own sequences come back with it
SET ROLE regress_snap_owner2;
CREATE TABLE vault2.ss (id serial PRIMARY KEY, v text);
INSERT INTO vault2.ss (v) VALUES ('a');
GRANT SELECT, INSERT ON vault2.ss TO regress_snap_stranger;
GRANT USAGE ON SEQUENCE vault2.ss_id_seq TO regress_snap_stranger;
BEGIN;
SET LOCAL migsafe.approve = 'vault2.ss';
DROP TABLE vault2.ss;
COMMIT;
SELECT migsafe.restore('vault2.ss') AS restored;
RESET ROLE;
SET ROLE regress_snap_stranger;
INSERT INTO vault2.ss (v) VALUES ('b');
RESET ROLE;
SELECT id, v FROM vault2.ss ORDER BY id;
-- privileges come back one by one: a grantee dropped since loses only
-- its own
CREATE ROLE regress_snap_gone;
SET ROLE regress_snap_owner2;
CREATE TABLE vault2.pv (id int);
INSERT INTO vault2.pv VALUES (1);
GRANT SELECT ON vault2.pv TO regress_snap_gone;
GRANT SELECT, INSERT ON vault2.pv TO regress_snap_stranger;
BEGIN;
SET LOCAL migsafe.approve = 'vault2.pv';
DROP TABLE vault2.pv;
COMMIT;
RESET ROLE;
DROP OWNED BY regress_snap_gone;
DROP ROLE regress_snap_gone;
SET ROLE regress_snap_owner2;
SELECT migsafe.restore('vault2.pv') AS restored;
RESET ROLE;
SELECT relacl FROM pg_class WHERE oid = 'vault2.pv'::regclass;

-- a copied table owned by an ordinary role: its serial sequence, policies,
-- triggers and row-level security come back, and its owner reads the
-- snapshot whole
SET ROLE regress_snap_owner2;
CREATE TABLE vault2.cp (id serial PRIMARY KEY, who text);
INSERT INTO vault2.cp (who) VALUES ('a'), ('b');
CREATE VIEW vault2.cp_v AS SELECT * FROM vault2.cp;
CREATE FUNCTION vault2.stamp() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN NEW.who := NEW.who || '!'; RETURN NEW; END $$;
CREATE TRIGGER stamp BEFORE INSERT ON vault2.cp FOR EACH ROW EXECUTE FUNCTION vault2.stamp();
ALTER TABLE vault2.cp DISABLE TRIGGER stamp;
ALTER TABLE vault2.cp ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_a ON vault2.cp FOR SELECT TO PUBLIC USING (who = 'a');
BEGIN;
SET LOCAL migsafe.approve = 'vault2.cp';
DROP TABLE vault2.cp CASCADE;
COMMIT;
SELECT migsafe.restore('vault2.cp') AS restored;
SELECT pg_get_serial_sequence('vault2.cp', 'id') AS owned_sequence;
INSERT INTO vault2.cp (who) VALUES ('c');
RESET ROLE;
SELECT id, who FROM vault2.cp ORDER BY id;
SELECT relrowsecurity, (SELECT count(*) FROM pg_policy WHERE polrelid = 'vault2.cp'::regclass) AS policies,
	   (SELECT tgenabled FROM pg_trigger WHERE tgrelid = 'vault2.cp'::regclass AND tgname = 'stamp') AS trigger
  FROM pg_class WHERE oid = 'vault2.cp'::regclass;
-- a moved table with row-level security: only its owner reads it, whole
SET ROLE regress_snap_owner2;
BEGIN;
SET LOCAL migsafe.approve = 'vault2.cp';
DROP TABLE vault2.cp;
COMMIT;
SELECT storage AS cpstore FROM migsafe.snapshots
 WHERE object_identity = 'vault2.cp' ORDER BY id DESC LIMIT 1 \gset
SELECT count(*) AS owner_sees FROM :cpstore;
SELECT migsafe.restore('vault2.cp') AS restored;
RESET ROLE;
SELECT relrowsecurity FROM pg_class WHERE oid = 'vault2.cp'::regclass;

-- a column of a role's own range type: its subtype_diff would run in
-- ANALYZE as the owner of a moved table, migsafe's superuser; the table
-- keeps its storage instead, without statistics of that column, and
-- maintenance runs none of it
SET ROLE regress_snap_owner2;
CREATE FUNCTION vault2.diff(a float8, b float8) RETURNS float8 LANGUAGE plpgsql IMMUTABLE AS
$$ BEGIN RAISE WARNING 'subtype_diff runs as %', current_user; RETURN a - b; END $$;
CREATE TYPE vault2.frange AS RANGE (SUBTYPE = float8, SUBTYPE_DIFF = vault2.diff);
CREATE TABLE vault2.rt (id int, r vault2.frange);
INSERT INTO vault2.rt SELECT g, vault2.frange(g, g + 1) FROM generate_series(1, 20) g;
BEGIN;
SET LOCAL migsafe.approve = 'vault2.rt';
DROP TABLE vault2.rt;
COMMIT;
RESET ROLE;
SELECT method, storage AS rtstore FROM migsafe.snapshots
 WHERE object_identity = 'vault2.rt' ORDER BY id DESC LIMIT 1 \gset
SELECT :'method' AS method;
ANALYZE :rtstore;
SET ROLE regress_snap_owner2;
SELECT migsafe.restore('vault2.rt') AS restored;
RESET ROLE;

-- DROP OWNED revokes the owner's access to the snapshot it takes (the
-- command revokes every privilege of the role): restore still reads it
CREATE ROLE regress_snap_leaving;
GRANT CREATE, USAGE ON SCHEMA vault2 TO regress_snap_leaving;
SET ROLE regress_snap_leaving;
CREATE TABLE vault2.lv (id serial PRIMARY KEY, v text);
INSERT INTO vault2.lv (v) VALUES ('x'), ('y');
RESET ROLE;
BEGIN;
SET LOCAL migsafe.approve = 'vault2.lv';
DROP OWNED BY regress_snap_leaving;
COMMIT;
SELECT method FROM migsafe.snapshots WHERE object_identity = 'vault2.lv' ORDER BY id DESC LIMIT 1;
SELECT migsafe.restore('vault2.lv') AS restored;
SELECT id, v FROM vault2.lv ORDER BY id;
SET migsafe.approve = 'vault2.lv';
SET migsafe.snapshot = off;
DROP OWNED BY regress_snap_leaving;
RESET migsafe.approve;
RESET migsafe.snapshot;
DROP ROLE regress_snap_leaving;

BEGIN;
SET LOCAL migsafe.approve = 'vault2.*';
SET LOCAL migsafe.snapshot = off;
DROP SCHEMA vault2 CASCADE;
COMMIT;
DROP OWNED BY regress_snap_owner, regress_snap_owner2, regress_snap_writer, regress_snap_stranger;
DROP ROLE regress_snap_owner, regress_snap_owner2, regress_snap_writer, regress_snap_stranger;
