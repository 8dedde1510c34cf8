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
