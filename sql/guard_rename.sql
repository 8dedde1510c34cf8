-- Approvals name the object actually destroyed: renaming it, moving it to
-- another schema, renaming its schema or column, or another search_path
-- gets around nothing.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

CREATE TABLE important (id int, secret text);
INSERT INTO important VALUES (1, 's');
CREATE SCHEMA trash;

-- 1. rename, then drop under the approved new name
BEGIN;
SET LOCAL migsafe.approve = 'public.scratch';
ALTER TABLE important RENAME TO scratch;
DROP TABLE scratch;
ROLLBACK;

-- 2. move to another schema, then drop with that schema approved
BEGIN;
SET LOCAL migsafe.approve = 'trash.*';
ALTER TABLE important SET SCHEMA trash;
DROP TABLE trash.important;
ROLLBACK;

-- 3. rename the schema
BEGIN;
SET LOCAL migsafe.approve = 'old_stuff.*';
ALTER SCHEMA public RENAME TO old_stuff;
DROP TABLE old_stuff.important;
ROLLBACK;

-- 4. rename a column, then drop it under the new name
BEGIN;
SET LOCAL migsafe.approve = 'public.important.junk';
ALTER TABLE important RENAME COLUMN secret TO junk;
ALTER TABLE important DROP COLUMN junk;
ROLLBACK;

-- 5. ALTER TABLE ... RENAME through a SQL function and a DO block
BEGIN;
SET LOCAL migsafe.approve = 'public.scratch';
DO $$ BEGIN EXECUTE 'ALTER TABLE important RENAME TO scratch'; END $$;
DROP TABLE scratch;
ROLLBACK;
SELECT count(*) FROM important;

-- 6. the original name approves it, whatever it is called now
BEGIN;
SET LOCAL migsafe.approve = 'public.important';
ALTER TABLE important RENAME TO scratch;
ALTER TABLE scratch SET SCHEMA trash;
DROP TABLE trash.scratch;
ROLLBACK;

-- 7. a rename committed earlier is the table's name now
ALTER TABLE important RENAME TO important_v2;
BEGIN;
SET LOCAL migsafe.approve = 'public.important_v2';
DROP TABLE important_v2;
ROLLBACK;

-- 8. search_path: approvals are always schema-qualified and matched
-- against the table's real schema
CREATE TABLE trash.important_v2 (id int);
INSERT INTO trash.important_v2 VALUES (1);
SET search_path = trash, public;
BEGIN;
SET LOCAL migsafe.approve = 'public.important_v2';
DROP TABLE important_v2;
ROLLBACK;
RESET search_path;
SELECT (SELECT count(*) FROM public.important_v2) AS public_t,
	   (SELECT count(*) FROM trash.important_v2) AS trash_t;

-- 9. any rename of a table counts, whatever ALTER form names it
CREATE TABLE accounts_2025 (id int);
INSERT INTO accounts_2025 VALUES (1);
BEGIN;
SET LOCAL migsafe.approve = 'public.junk';
ALTER INDEX accounts_2025 RENAME TO junk;
DROP TABLE junk;
ROLLBACK;

-- 10. attaching a table as a partition does not put it under its new
-- parent's approval in the same transaction, nor under any exemption
CREATE SCHEMA stage;
CREATE TABLE stage.p (id int) PARTITION BY RANGE (id);
BEGIN;
SET LOCAL migsafe.approve = 'stage.p';
ALTER TABLE stage.p ATTACH PARTITION accounts_2025 FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
TRUNCATE stage.p;
ROLLBACK;
SET migsafe.exempt = 'stage.*';
ALTER TABLE stage.p ATTACH PARTITION accounts_2025 FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
TRUNCATE stage.p;
ALTER TABLE stage.p DETACH PARTITION accounts_2025;
RESET migsafe.exempt;
SELECT count(*) FROM accounts_2025;

-- moving or renaming a table with data under migsafe.exempt needs an
-- approval: a later transaction could destroy it unapproved
CREATE SCHEMA scratch;
SET migsafe.exempt = 'scratch.*, public.tmp_import';
CREATE TABLE keep_me (id int);
INSERT INTO keep_me VALUES (1), (2);
ALTER TABLE keep_me SET SCHEMA scratch;
ALTER TABLE keep_me RENAME TO tmp_import;
-- empty, it moves
CREATE TABLE empty_one (id int);
ALTER TABLE empty_one SET SCHEMA scratch;
-- approved, it moves; then it is exempt
BEGIN;
SET LOCAL migsafe.approve = 'public.keep_me';
ALTER TABLE keep_me SET SCHEMA scratch;
COMMIT;
DROP TABLE scratch.keep_me;
RESET migsafe.exempt;
SET client_min_messages = warning;
BEGIN;
SET LOCAL migsafe.approve = 'scratch.*';
DROP SCHEMA scratch CASCADE;
COMMIT;
RESET client_min_messages;

-- 11. renames that recurse: a column renamed on a partitioned or an
-- inheritance parent is renamed in every child, an attribute renamed with
-- ALTER TYPE ... CASCADE in every typed table; each keeps its name at the
-- start of the transaction for approvals (and in the hint)
CREATE TABLE rn_parts (id int, c text) PARTITION BY LIST (id);
CREATE TABLE rn_parts_1 PARTITION OF rn_parts FOR VALUES IN (1);
INSERT INTO rn_parts VALUES (1, 'a');
BEGIN;
ALTER TABLE rn_parts RENAME COLUMN c TO d;
SET LOCAL migsafe.approve = 'public.rn_parts.d';
ALTER TABLE rn_parts DROP COLUMN d;
ROLLBACK;
CREATE TABLE rn_base (id int, c text);
CREATE TABLE rn_child (extra int) INHERITS (rn_base);
INSERT INTO rn_child VALUES (1, 'a', 2);
BEGIN;
ALTER TABLE rn_base RENAME COLUMN c TO d;
SET LOCAL migsafe.approve = 'public.rn_base.d, public.rn_child.d';
ALTER TABLE rn_base DROP COLUMN d;
ROLLBACK;
CREATE TYPE rn_pair AS (a int, b text);
CREATE TABLE rn_typed OF rn_pair;
INSERT INTO rn_typed VALUES (1, 'x');
CREATE TABLE rn_junk (id int, junk text);
BEGIN;
ALTER TYPE rn_pair RENAME ATTRIBUTE b TO junk CASCADE;
SET LOCAL migsafe.approve = 'public.rn_typed.junk';
ALTER TYPE rn_pair DROP ATTRIBUTE junk CASCADE;
ROLLBACK;
SELECT count(*) AS typed_value_kept FROM rn_typed WHERE b = 'x';

-- 12. a sequence made a table's in this transaction (OWNED BY) is not
-- covered by the table's approval: it was not the table's when the
-- transaction began
CREATE TABLE rn_owner (id int, x int);
INSERT INTO rn_owner VALUES (1, 1);
CREATE SEQUENCE rn_valuable;
SELECT nextval('rn_valuable') + nextval('rn_valuable') AS advanced;
BEGIN;
ALTER SEQUENCE rn_valuable OWNED BY rn_owner.x;
SET LOCAL migsafe.approve = 'public.rn_owner';
DROP TABLE rn_owner;
ROLLBACK;
SELECT last_value AS still_there FROM rn_valuable;
SET client_min_messages = warning;
BEGIN;
SET LOCAL migsafe.approve = 'public.rn_parts, public.rn_base, public.rn_child, public.rn_typed, public.rn_owner, public.rn_valuable';
SET LOCAL migsafe.skip_snapshot = 'public.rn_parts, public.rn_base, public.rn_child, public.rn_typed, public.rn_owner, public.rn_valuable';
DROP TABLE rn_parts, rn_child, rn_base, rn_typed, rn_junk, rn_owner;
DROP TYPE rn_pair;
DROP SEQUENCE rn_valuable;
COMMIT;
RESET client_min_messages;
