--
-- Keeping a snapshot runs none of the table owner's code as a superuser:
-- the copy of a table is made without the planner, which would evaluate
-- (constant-fold) the IMMUTABLE functions of its indexes' expressions and
-- predicates.  The function below fails unless its owner calls it.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

CREATE ROLE regress_oc_owner;
CREATE SCHEMA oc AUTHORIZATION regress_oc_owner;
SET ROLE regress_oc_owner;
CREATE FUNCTION oc.ifun(int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS $$
BEGIN
	IF current_user <> 'regress_oc_owner' THEN
		RAISE EXCEPTION 'oc.ifun(%) called by %', $1, current_user;
	END IF;
	RETURN $1;
END $$;
CREATE TYPE oc.mood AS ENUM ('sad', 'ok');
CREATE TABLE oc.ptab (a int, b text, m oc.mood) PARTITION BY RANGE (a);
CREATE TABLE oc.part PARTITION OF oc.ptab FOR VALUES FROM (1) TO (10);
CREATE INDEX ON oc.ptab ((oc.ifun(a) + oc.ifun(0))) WHERE oc.ifun(a + 10) > oc.ifun(10);
INSERT INTO oc.ptab VALUES (1, 'one', 'ok'), (2, NULL, NULL);
CREATE TABLE oc.tab (a int, b text);
CREATE INDEX ON oc.tab (oc.ifun(a)) WHERE oc.ifun(a) > oc.ifun(0);
INSERT INTO oc.tab VALUES (1, 'one'), (2, 'two');
RESET ROLE;

-- a superuser truncates and drops the owner's tables: snapshots are kept
-- (TRUNCATE keeps the storage, DROP OWNED the partition's, whose column
-- of the enum it drops too keeps the labels' OIDs)
SELECT coalesce(max(id), 0) AS mark FROM migsafe.snapshots \gset
SET client_min_messages = warning;	-- notices name snapshot ids
SET migsafe.approve = '*';
TRUNCATE oc.tab;
DROP OWNED BY regress_oc_owner;
RESET migsafe.approve;
RESET client_min_messages;
SELECT object_identity, method, row_count
  FROM migsafe.snapshots WHERE id > :mark ORDER BY id;
SELECT storage AS part_copy, definition -> 'kept_enums' -> 'm' AS labels
  FROM migsafe.snapshots
 WHERE id > :mark AND object_identity = 'oc.part' \gset
SELECT a, b, :'labels'::jsonb ->> m::text AS m FROM :part_copy ORDER BY a;
SELECT storage AS tab_copy FROM migsafe.snapshots
 WHERE id > :mark AND object_identity = 'oc.tab' \gset
SELECT * FROM :tab_copy ORDER BY a;

DROP ROLE regress_oc_owner;
