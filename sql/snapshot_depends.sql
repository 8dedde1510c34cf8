--
-- A dropped table that depends on a user's objects (a trigger's function,
-- a domain or composite type of a column, a function a default calls) is
-- not moved: its storage is kept under a new table, which keeps none of
-- those objects from being dropped (a kept column of a composite type
-- becomes text before the type goes).
-- A table depending on nothing of the user's is moved.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

CREATE FUNCTION sd_trf() RETURNS trigger LANGUAGE plpgsql
  AS 'BEGIN RETURN NEW; END';
CREATE FUNCTION sd_default() RETURNS int LANGUAGE sql AS 'SELECT 7';
CREATE DOMAIN sd_dom AS int CHECK (VALUE > 0);
CREATE TYPE sd_pair AS (x int, y int);
CREATE TABLE sd_trig (a int);
CREATE TRIGGER sd_t BEFORE INSERT ON sd_trig FOR EACH ROW EXECUTE FUNCTION sd_trf();
INSERT INTO sd_trig VALUES (1);
CREATE TABLE sd_domain (a sd_dom);
INSERT INTO sd_domain VALUES (2);
CREATE TABLE sd_composite (p sd_pair);
INSERT INTO sd_composite VALUES (ROW(1, 2));
CREATE TABLE sd_defaults (a int DEFAULT sd_default(), b int);
INSERT INTO sd_defaults (b) VALUES (3);
CREATE ROLE regress_sd_role;
CREATE TABLE sd_policy (a int);
CREATE POLICY sd_p ON sd_policy TO regress_sd_role USING (true);
INSERT INTO sd_policy VALUES (4);
CREATE TABLE sd_plain (id serial PRIMARY KEY, v text DEFAULT 'x');
INSERT INTO sd_plain (v) VALUES ('y');

SELECT coalesce(max(id), 0) AS mark FROM migsafe.snapshots \gset
SET client_min_messages = warning;	-- notices name snapshot ids
SET migsafe.approve = 'public.sd_trig, public.sd_domain, public.sd_composite, public.sd_defaults, public.sd_policy, public.sd_plain';
DROP TABLE sd_trig;
DROP TABLE sd_domain;
DROP TABLE sd_composite;
DROP TABLE sd_defaults;
DROP TABLE sd_policy;
DROP TABLE sd_plain;
RESET migsafe.approve;
RESET client_min_messages;
SELECT object_identity, method, row_count FROM migsafe.snapshots
 WHERE id > :mark ORDER BY id;

-- the objects they used can go now, without CASCADE
DROP FUNCTION sd_trf();
DROP FUNCTION sd_default();
DROP DOMAIN sd_dom;
DROP TYPE sd_pair;
DROP ROLE regress_sd_role;

-- the snapshots keep the values (the composite type's column became
-- text, the domain's its base type, when they were dropped)
SELECT storage AS copy FROM migsafe.snapshots
 WHERE id > :mark AND object_identity = 'public.sd_composite' \gset
SELECT * FROM :copy;
SELECT storage AS copy FROM migsafe.snapshots
 WHERE id > :mark AND object_identity = 'public.sd_domain' \gset
SELECT * FROM :copy;

-- a role that could read a dropped table may read its snapshot; DROP
-- ROLE revokes that first (audited), as PostgreSQL would drop the role
-- with the table gone
CREATE ROLE regress_sd_reader;
CREATE TABLE sd_read (a int);
INSERT INTO sd_read VALUES (5);
GRANT SELECT ON sd_read TO regress_sd_reader;
SELECT coalesce(max(id), 0) AS mark FROM migsafe.snapshots \gset
SET client_min_messages = warning;
SET migsafe.approve = 'public.sd_read';
DROP TABLE sd_read;
RESET migsafe.approve;
RESET client_min_messages;
SELECT storage AS copy FROM migsafe.snapshots
 WHERE id > :mark AND object_identity = 'public.sd_read' \gset
SELECT has_table_privilege('regress_sd_reader', :'copy', 'SELECT') AS reader_reads;
-- not dropped after all: the grant stays
BEGIN;
DROP ROLE regress_sd_reader;
ROLLBACK;
SELECT has_table_privilege('regress_sd_reader', :'copy', 'SELECT') AS reader_reads;
SELECT max(id) AS amark FROM migsafe.audit_log \gset
DROP ROLE regress_sd_reader;
SELECT command_tag, object_type, object_identity,
	   snapshot_id = :mark + 1 AS its_snapshot,
	   regexp_replace(detail, '[0-9]+', 'N', 'g') AS detail
  FROM migsafe.audit_log WHERE id > :amark ORDER BY id;

-- migsafe takes the ids of its audit rows and snapshots without
-- nextval(): the session's lastval() stays the user's
CREATE SEQUENCE sd_seq;
SELECT nextval('sd_seq') AS first_value;
CREATE TABLE sd_last (a int);
INSERT INTO sd_last VALUES (1);
SET client_min_messages = warning;
SET migsafe.approve = 'public.sd_last, public.sd_seq';
DROP TABLE sd_last;
SELECT lastval(), currval('sd_seq');
DROP SEQUENCE sd_seq;
RESET migsafe.approve;
RESET client_min_messages;
SELECT lastval();
