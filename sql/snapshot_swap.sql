--
-- Snapshots of truncated tables that keep the table's own storage: the
-- snapshot takes the table's heap and TOAST table as they are (nothing is
-- copied), the table gets new, empty storage, and restore inserts the
-- rows again.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;
CREATE SCHEMA sw;
SET search_path = sw, public;

CREATE FUNCTION fp(rel regclass) RETURNS text LANGUAGE plpgsql AS
$$ DECLARE r text;
BEGIN
	EXECUTE format('SELECT count(*) || '' '' || md5(coalesce(string_agg(t::text, '','' ORDER BY t::text), '''')) FROM %s t', rel)
	INTO r;
	RETURN r;
END $$;
CREATE FUNCTION kept(name text) RETURNS regclass LANGUAGE sql AS
$$ SELECT storage::regclass FROM migsafe.snapshots
    WHERE object_identity = name ORDER BY id DESC LIMIT 1 $$;
-- a TOAST table is named after the table that owns it
CREATE FUNCTION toast_named_right(rel regclass) RETURNS boolean LANGUAGE sql AS
$$ SELECT t.relname = 'pg_toast_' || c.oid AND i.relname = t.relname || '_index'
          AND t.relrewrite = 0 AND d.refobjid = c.oid
     FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid
     JOIN pg_index x ON x.indrelid = t.oid JOIN pg_class i ON i.oid = x.indexrelid
     JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = t.oid
    WHERE c.oid = rel $$;

-- 1. dropped columns, TOASTed values, a column added with a default after
-- the rows were written (the kept rows read it from attmissingval), an
-- index and a default
CREATE TABLE docs (
	id int PRIMARY KEY,
	gone text,
	body text,
	added_at timestamptz DEFAULT now()
);
ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;
INSERT INTO docs (id, gone, body)
	SELECT g, 'gone ' || g, repeat(md5(g::text), 100 + g) FROM generate_series(1, 300) g;
UPDATE docs SET added_at = '2026-01-01 00:00+00';
BEGIN;
SET LOCAL migsafe.approve = 'sw.docs.gone';
ALTER TABLE docs DROP COLUMN gone;
COMMIT;
ALTER TABLE docs ADD COLUMN flag int NOT NULL DEFAULT 7;
SELECT fp('docs') AS before \gset
SELECT pg_relation_filenode('docs') AS heap_before, reltoastrelid AS toast_before
  FROM pg_class WHERE oid = 'docs'::regclass \gset
-- values are TOASTed out of line
SELECT pg_relation_size(:toast_before) > 0 AS toasted;
BEGIN;
SET LOCAL migsafe.approve = 'sw.docs';
TRUNCATE docs;
COMMIT;
SELECT count(*) AS left_after_truncate FROM docs;
SELECT operation, method, row_count, rows_estimated, size_bytes > 0 AS has_size
  FROM migsafe.snapshots WHERE object_identity = 'sw.docs';
-- nothing was copied: the snapshot holds the table's old heap and TOAST
-- table, the table has new ones
SELECT pg_relation_filenode(kept('sw.docs')) = :heap_before AS kept_old_heap,
	   pg_relation_filenode('docs') <> :heap_before AS table_has_new_heap,
	   (SELECT reltoastrelid FROM pg_class WHERE oid = kept('sw.docs')) = :toast_before AS kept_old_toast,
	   (SELECT reltoastrelid FROM pg_class WHERE oid = 'docs'::regclass) NOT IN (0, :toast_before) AS table_has_new_toast;
SELECT toast_named_right('docs') AS table_toast, toast_named_right(kept('sw.docs')) AS kept_toast;
-- the kept table: the table's columns, the dropped one too, owned by the
-- bootstrap superuser, without index or default, readable by nobody else
SELECT attnum, attisdropped, format_type(atttypid, atttypmod),
	   attnotnull, atthasdef, atthasmissing
  FROM pg_attribute WHERE attrelid = kept('sw.docs') AND attnum > 0 ORDER BY attnum;
SELECT relowner = 10 AS bootstrap_owner, relhasindex, relacl, relrewrite,
	   relpersistence, relkind
  FROM pg_class WHERE oid = kept('sw.docs');
-- its rows read as the table's did: TOASTed values, the added column's
-- default
SELECT fp(kept('sw.docs')) = :'before' AS kept_rows_same;
SELECT migsafe.restore('sw.docs') AS restored;
SELECT fp('docs') = :'before' AS same_data;

-- 2. nothing is copied, so migsafe.snapshot_max_copy_size does not apply
SET migsafe.snapshot_max_copy_size = '8kB';
BEGIN;
SET LOCAL migsafe.approve = 'sw.docs';
TRUNCATE docs;
COMMIT;
RESET migsafe.snapshot_max_copy_size;
SELECT method, row_count FROM migsafe.snapshots WHERE object_identity = 'sw.docs' ORDER BY id DESC LIMIT 1;
SELECT migsafe.restore('sw.docs') AS restored;
SELECT fp('docs') = :'before' AS same_data;

-- 3. rolled back: the table keeps its storage and rows, nothing is kept,
-- no transient table is left
SELECT pg_relation_filenode('docs') AS heap_before \gset
SELECT count(*) AS snapshots_before FROM migsafe.snapshots \gset
BEGIN;
SET LOCAL migsafe.approve = 'sw.docs';
TRUNCATE docs;
ROLLBACK;
SELECT fp('docs') = :'before' AS intact,
	   pg_relation_filenode('docs') = :heap_before AS same_heap,
	   (SELECT count(*) FROM migsafe.snapshots) = :snapshots_before AS nothing_kept,
	   NOT EXISTS (SELECT FROM pg_class WHERE relname LIKE 'pg\_temp\_%' AND relkind = 'r') AS no_transient;
-- ... also when TRUNCATE itself fails after the snapshot was taken
CREATE TABLE refs (doc_id int REFERENCES docs);
BEGIN;
SET LOCAL migsafe.approve = 'sw.docs';
TRUNCATE docs;
ROLLBACK;
SELECT fp('docs') = :'before' AS intact, pg_relation_filenode('docs') = :heap_before AS same_heap;
DROP TABLE refs;

-- 4. an unlogged table: the kept storage is unlogged too, as the table was
CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY, v text);
INSERT INTO scratch SELECT g, repeat('s', 3000) FROM generate_series(1, 50) g;
SELECT fp('scratch') AS before \gset
SELECT pg_relation_filenode('scratch') AS heap_before \gset
BEGIN;
SET LOCAL migsafe.approve = 'sw.scratch';
TRUNCATE scratch;
COMMIT;
SELECT method, row_count FROM migsafe.snapshots WHERE object_identity = 'sw.scratch';
SELECT relpersistence, pg_relation_filenode(oid) = :heap_before AS kept_old_heap
  FROM pg_class WHERE oid = kept('sw.scratch');
SELECT relpersistence, pg_relation_filenode(oid) <> :heap_before AS new_heap
  FROM pg_class WHERE oid = 'scratch'::regclass;
SELECT migsafe.restore('sw.scratch') AS restored;
SELECT fp('scratch') = :'before' AS same_data;

-- 5. TRUNCATE ... CASCADE through a foreign key: each table keeps its
-- storage; the indexes are rebuilt by TRUNCATE and filled by restore
CREATE TABLE accounts (id int PRIMARY KEY, email text UNIQUE);
CREATE TABLE orders (id int PRIMARY KEY, account_id int REFERENCES accounts, total numeric);
CREATE INDEX ON orders (account_id);
INSERT INTO accounts SELECT g, 'a' || g || '@example.com' FROM generate_series(1, 100) g;
INSERT INTO orders SELECT g, g % 100 + 1, g * 1.5 FROM generate_series(1, 400) g;
SELECT fp('accounts') AS accounts_before, fp('orders') AS orders_before \gset
SELECT pg_relation_filenode('accounts') AS accounts_heap, pg_relation_filenode('orders') AS orders_heap \gset
BEGIN;
SET LOCAL migsafe.approve = 'sw.accounts, sw.orders';
TRUNCATE accounts CASCADE;
COMMIT;
SELECT object_identity, method, row_count FROM migsafe.snapshots
 WHERE object_identity IN ('sw.accounts', 'sw.orders') ORDER BY id;
SELECT pg_relation_filenode(kept('sw.accounts')) = :accounts_heap AS accounts_kept,
	   pg_relation_filenode(kept('sw.orders')) = :orders_heap AS orders_kept;
SELECT migsafe.restore('sw.accounts') AS accounts, migsafe.restore('sw.orders') AS orders;
SELECT fp('accounts') = :'accounts_before' AS accounts_same,
	   fp('orders') = :'orders_before' AS orders_same;
SET enable_seqscan = off;
SELECT count(*) AS by_index FROM orders WHERE account_id = 42;
SELECT id FROM accounts WHERE email = 'a42@example.com';
RESET enable_seqscan;

-- 6. truncated twice in one transaction: the second TRUNCATE empties
-- storage created in the same transaction; each keeps what it removed
CREATE TABLE twice (id int, v text);
INSERT INTO twice VALUES (1, 'first');
BEGIN;
SET LOCAL migsafe.approve = 'sw.twice';
TRUNCATE twice;
INSERT INTO twice VALUES (2, 'second');
TRUNCATE twice;
INSERT INTO twice VALUES (3, 'third');
COMMIT;
SELECT * FROM twice;
SELECT method, row_count FROM migsafe.snapshots WHERE object_identity = 'sw.twice' ORDER BY id;
SELECT migsafe.restore(min(id)) AS first, migsafe.restore(max(id)) AS second
  FROM migsafe.snapshots WHERE object_identity = 'sw.twice';
SELECT * FROM twice ORDER BY id;

-- 7. partitions keep their storage each
CREATE TABLE measures (at int, v text) PARTITION BY RANGE (at);
CREATE TABLE measures_1 PARTITION OF measures FOR VALUES FROM (0) TO (100);
CREATE TABLE measures_2 PARTITION OF measures FOR VALUES FROM (100) TO (200);
INSERT INTO measures SELECT g, 'm' || g FROM generate_series(0, 199) g;
SELECT fp('measures') AS before \gset
BEGIN;
SET LOCAL migsafe.approve = 'sw.measures, sw.measures_1, sw.measures_2';
TRUNCATE measures;
COMMIT;
SELECT object_identity, method, row_count FROM migsafe.snapshots
 WHERE object_identity LIKE 'sw.measures%' ORDER BY id;
SELECT migsafe.restore('sw.measures_1'), migsafe.restore('sw.measures_2');
SELECT fp('measures') = :'before' AS same_data;

-- 8. a column of a user's type keeps its storage too (see snapshot_types);
-- still copied: a table whose transient name is taken
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE TABLE moods (id int, m mood);
INSERT INTO moods VALUES (1, 'ok'), (2, 'sad');
BEGIN;
SET LOCAL migsafe.approve = 'sw.moods';
TRUNCATE moods;
COMMIT;
SELECT method, row_count FROM migsafe.snapshots WHERE object_identity = 'sw.moods';
SELECT migsafe.restore('sw.moods') AS restored;
CREATE TABLE squatted (id int);
INSERT INTO squatted VALUES (1);
DO $$ BEGIN EXECUTE format('CREATE TABLE %I (x int)', 'pg_temp_' || 'squatted'::regclass::oid); END $$;
BEGIN;
SET LOCAL migsafe.approve = 'sw.squatted';
TRUNCATE squatted;
COMMIT;
SELECT method, row_count FROM migsafe.snapshots WHERE object_identity = 'sw.squatted';
SELECT migsafe.restore('sw.squatted') AS restored;

-- 9. only dropped columns needed TOAST: the table is left without a TOAST
-- table (as CLUSTER leaves it), the kept storage takes the old one
CREATE TABLE wide (id int, big text);
ALTER TABLE wide ALTER COLUMN big SET STORAGE EXTERNAL;
INSERT INTO wide SELECT g, repeat('w', 5000) FROM generate_series(1, 20) g;
BEGIN;
SET LOCAL migsafe.approve = 'sw.wide.big';
ALTER TABLE wide DROP COLUMN big;
COMMIT;
SELECT reltoastrelid AS toast_before FROM pg_class WHERE oid = 'wide'::regclass \gset
BEGIN;
SET LOCAL migsafe.approve = 'sw.wide';
TRUNCATE wide;
COMMIT;
SELECT reltoastrelid = 0 AS table_has_no_toast FROM pg_class WHERE oid = 'wide'::regclass;
SELECT reltoastrelid = :toast_before AS kept_old_toast, toast_named_right(oid) AS kept_toast
  FROM pg_class WHERE oid = kept('sw.wide');
SELECT migsafe.restore('sw.wide') AS restored;
ALTER TABLE wide ADD COLUMN again text;
INSERT INTO wide VALUES (21, repeat('v', 100000));
SELECT count(*), max(length(again)) FROM wide;

-- 10. a BEFORE TRUNCATE trigger sees the rows TRUNCATE is about to remove,
-- as without migsafe: the table's rows are copied instead of its storage
-- kept; a disabled one does not stand in the way
CREATE TABLE watched (id int PRIMARY KEY, v text);
CREATE TABLE watch_log (rows_seen bigint);
CREATE FUNCTION count_before_truncate() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN
	EXECUTE format('INSERT INTO sw.watch_log SELECT count(*) FROM %s', TG_RELID::regclass);
	RETURN NULL;
END $$;
CREATE TRIGGER before_truncate BEFORE TRUNCATE ON watched
	FOR EACH STATEMENT EXECUTE FUNCTION count_before_truncate();
INSERT INTO watched SELECT g, 'v' || g FROM generate_series(1, 5) g;
BEGIN;
SET LOCAL migsafe.approve = 'sw.watched';
TRUNCATE watched;
COMMIT;
SELECT rows_seen FROM watch_log;
SELECT method, row_count FROM migsafe.snapshots WHERE object_identity = 'sw.watched';
SELECT migsafe.restore('sw.watched') AS restored;
ALTER TABLE watched DISABLE TRIGGER before_truncate;
BEGIN;
SET LOCAL migsafe.approve = 'sw.watched';
TRUNCATE watched;
COMMIT;
SELECT method, row_count FROM migsafe.snapshots
 WHERE object_identity = 'sw.watched' ORDER BY id DESC LIMIT 1;
SELECT migsafe.restore('sw.watched') AS restored;

-- 11. restore puts back the rows that were kept: the user's INSERT
-- triggers (a BEFORE trigger that stamps rows, an AFTER trigger that logs
-- them) do not fire for them and are as they were afterwards; foreign keys
-- are still checked
CREATE TABLE stamped (id int PRIMARY KEY, v text, updated_at timestamptz);
CREATE TABLE stamp_log (id int);
CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE FUNCTION log_insert() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO sw.stamp_log VALUES (NEW.id); RETURN NULL; END $$;
CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON stamped
	FOR EACH ROW EXECUTE FUNCTION stamp();
CREATE TRIGGER log_insert AFTER INSERT ON stamped
	FOR EACH ROW EXECUTE FUNCTION log_insert();
ALTER TABLE stamped ENABLE ALWAYS TRIGGER log_insert;
INSERT INTO stamped SELECT g, 'v' || g, NULL FROM generate_series(1, 4) g;
UPDATE stamped SET updated_at = '2020-01-01 00:00:00+00';
DELETE FROM stamp_log;
SELECT fp('stamped') AS stamped_before \gset
BEGIN;
SET LOCAL migsafe.approve = 'sw.stamped';
TRUNCATE stamped;
COMMIT;
SELECT migsafe.restore('sw.stamped') AS restored;
SELECT fp('stamped') = :'stamped_before' AS same_rows, count(*) AS logged
  FROM stamp_log;
SELECT tgname, tgenabled FROM pg_trigger
 WHERE tgrelid = 'stamped'::regclass AND NOT tgisinternal ORDER BY tgname;
INSERT INTO stamped VALUES (5, 'new', NULL);
SELECT updated_at IS NOT NULL AS stamped_again FROM stamped WHERE id = 5;
SELECT count(*) AS logged_again FROM stamp_log;
-- a column's values go back without the user's UPDATE triggers either
-- (the stamp trigger would rewrite updated_at on every row)
SELECT md5(string_agg(id || ':' || v || ':' || coalesce(updated_at::text, ''), ',' ORDER BY id))
	AS stamped_now FROM stamped \gset
BEGIN;
SET LOCAL migsafe.approve = 'sw.stamped.v';
ALTER TABLE stamped DROP COLUMN v;
COMMIT;
SELECT migsafe.restore('sw.stamped.v') AS restored;
SELECT md5(string_agg(id || ':' || v || ':' || coalesce(updated_at::text, ''), ',' ORDER BY id))
	= :'stamped_now' AS same_values FROM stamped;
SELECT tgname, tgenabled FROM pg_trigger
 WHERE tgrelid = 'stamped'::regclass AND NOT tgisinternal ORDER BY tgname;
CREATE TABLE owners (id int PRIMARY KEY);
CREATE TABLE pets (id int, owner_id int REFERENCES owners);
INSERT INTO owners VALUES (1);
INSERT INTO pets VALUES (1, 1);
BEGIN;
SET LOCAL migsafe.approve = 'sw.pets';
TRUNCATE pets;
COMMIT;
DELETE FROM owners;
SELECT migsafe.restore('sw.pets');

-- 12. a table dropped with other objects (CASCADE, DROP SCHEMA, DROP
-- OWNED, partitions) keeps its storage too, TOAST included: the statement
-- drops it empty, and restore creates it again with its rows
CREATE SCHEMA gone_soon;
CREATE TABLE gone_soon.big (id int PRIMARY KEY, v text);
ALTER TABLE gone_soon.big ALTER COLUMN v SET STORAGE EXTERNAL;
INSERT INTO gone_soon.big SELECT g, repeat('b', 3000) || g FROM generate_series(1, 50) g;
CREATE VIEW gone_soon.big_v AS SELECT * FROM gone_soon.big;
SELECT fp('gone_soon.big') AS big_before \gset
SELECT pg_relation_filenode('gone_soon.big') AS big_node \gset
BEGIN;
SET LOCAL migsafe.approve = 'gone_soon.*';
DROP SCHEMA gone_soon CASCADE;
COMMIT;
SELECT method, row_count, pg_relation_filenode(storage::regclass) = :big_node AS same_storage,
	   definition->>'kept_storage' AS kept_storage
  FROM migsafe.snapshots WHERE object_identity = 'gone_soon.big';
CREATE SCHEMA gone_soon;
SELECT migsafe.restore('gone_soon.big') AS restored;
SELECT fp('gone_soon.big') = :'big_before' AS same_rows;
\d gone_soon.big

-- 13. a table whose storage was kept for a drop that then did not drop it
-- (here an event trigger gives it away between the dry run and the drop;
-- in production, another session between the dry run and the locks)
-- would be left empty: the statement fails, changing nothing
CREATE ROLE regress_swap_leaving;
CREATE ROLE regress_swap_staying;
GRANT CREATE, USAGE ON SCHEMA sw TO regress_swap_leaving;
SET ROLE regress_swap_leaving;
CREATE TABLE sw.slippery (id int, v text);
INSERT INTO sw.slippery SELECT g, 'v' || g FROM generate_series(1, 10) g;
RESET ROLE;
CREATE FUNCTION sw.give_away() RETURNS event_trigger LANGUAGE plpgsql AS
$$ BEGIN
	-- once migsafe has kept the table's storage, before the drop runs
	IF EXISTS (SELECT FROM migsafe.snapshots
				WHERE object_identity = 'sw.slippery' AND status = 'kept') THEN
		ALTER TABLE sw.slippery OWNER TO regress_swap_staying;
	END IF;
END $$;
CREATE EVENT TRIGGER give_away ON ddl_command_start
	WHEN TAG IN ('DROP OWNED') EXECUTE FUNCTION sw.give_away();
BEGIN;
SET LOCAL migsafe.approve = 'sw.slippery';
DROP OWNED BY regress_swap_leaving;
ROLLBACK;
DROP EVENT TRIGGER give_away;
SELECT count(*) AS rows_still_there, pg_get_userbyid(c.relowner) AS owner
  FROM sw.slippery, pg_class c WHERE c.oid = 'sw.slippery'::regclass GROUP BY c.relowner;
SELECT count(*) AS kept FROM migsafe.snapshots WHERE object_identity = 'sw.slippery';
BEGIN;
SET LOCAL migsafe.approve = 'sw.slippery';
DROP TABLE sw.slippery;
COMMIT;
REVOKE CREATE, USAGE ON SCHEMA sw FROM regress_swap_leaving;
DROP ROLE regress_swap_leaving, regress_swap_staying;

-- 14. restore writes where the rows were kept, or refuses: a rule on
-- INSERT would send them elsewhere (or nowhere)
CREATE TABLE ruled (id int, v text);
INSERT INTO ruled SELECT g, 'r' || g FROM generate_series(1, 5) g;
BEGIN;
SET LOCAL migsafe.approve = 'sw.ruled';
TRUNCATE ruled;
COMMIT;
CREATE RULE swallow AS ON INSERT TO ruled DO INSTEAD NOTHING;
SELECT migsafe.restore('sw.ruled');
SELECT status FROM migsafe.snapshots WHERE object_identity = 'sw.ruled';
DROP RULE swallow ON ruled;
SELECT migsafe.restore('sw.ruled') AS restored;

-- 15. the user's triggers are set aside table by table: a deferred foreign
-- key's pending checks do not stand in the way, and each partition's
-- trigger keeps its own state
CREATE TABLE dparent (id int PRIMARY KEY);
INSERT INTO dparent SELECT generate_series(1, 10);
CREATE TABLE dchild (id int, pid int REFERENCES dparent DEFERRABLE INITIALLY DEFERRED,
					 updated_at timestamptz);
INSERT INTO dchild SELECT g, g, '2020-01-01' FROM generate_series(1, 10) g;
CREATE TRIGGER stamp BEFORE INSERT ON dchild FOR EACH ROW EXECUTE FUNCTION stamp();
BEGIN;
SET LOCAL migsafe.approve = 'sw.dchild';
TRUNCATE dchild;
COMMIT;
SELECT migsafe.restore('sw.dchild') AS restored;
SELECT count(*) FILTER (WHERE updated_at = '2020-01-01') AS kept_stamps FROM dchild;
CREATE TABLE plog (tbl text, id int);
CREATE FUNCTION plog() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO sw.plog VALUES (TG_TABLE_NAME, NEW.id); RETURN NEW; END $$;
CREATE TABLE parted (id int, v text) PARTITION BY RANGE (id);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (100);
CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (100) TO (200);
CREATE TABLE parted_3 PARTITION OF parted FOR VALUES FROM (200) TO (300);
CREATE TRIGGER plog AFTER INSERT ON parted FOR EACH ROW EXECUTE FUNCTION plog();
ALTER TABLE parted_2 DISABLE TRIGGER plog;
ALTER TABLE parted_3 ENABLE ALWAYS TRIGGER plog;
INSERT INTO parted SELECT g, 'p' || g FROM generate_series(1, 250, 10) g;
DELETE FROM plog;
BEGIN;
SET LOCAL migsafe.approve = 'sw.*';
TRUNCATE parted;
COMMIT;
SELECT migsafe.restore(id) FROM migsafe.snapshots
 WHERE object_identity LIKE 'sw.parted%' AND status = 'kept' ORDER BY id;
SELECT count(*) AS rows_back, (SELECT count(*) FROM plog) AS logged FROM parted;
SELECT tgrelid::regclass, tgenabled FROM pg_trigger WHERE tgname = 'plog' ORDER BY 1;

-- 16. a BEFORE TRUNCATE trigger on a partitioned table sees its
-- partitions' rows: none of the tables the statement empties keeps its
-- storage
CREATE TABLE seen (n bigint);
CREATE FUNCTION count_parted() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO sw.seen SELECT count(*) FROM sw.parted; RETURN NULL; END $$;
CREATE TRIGGER count_parted BEFORE TRUNCATE ON parted
	FOR EACH STATEMENT EXECUTE FUNCTION count_parted();
BEGIN;
SET LOCAL migsafe.approve = 'sw.*';
TRUNCATE parted;
COMMIT;
SELECT n AS rows_seen FROM seen;
SELECT object_identity, method FROM migsafe.snapshots
 WHERE object_identity LIKE 'sw.parted%' AND status = 'kept' ORDER BY 1;

-- 17. an inheritance tree dropped together comes back whole, whichever of
-- its snapshots is restored first
CREATE TABLE ipar (id int, v text);
CREATE TABLE ichi (extra int) INHERITS (ipar);
INSERT INTO ipar VALUES (1, 'p');
INSERT INTO ichi VALUES (2, 'c', 9);
BEGIN;
SET LOCAL migsafe.approve = 'sw.ipar, sw.ichi';
DROP TABLE ipar CASCADE;
COMMIT;
SELECT migsafe.restore('sw.ichi') AS restored;
SELECT tableoid::regclass, * FROM ipar ORDER BY id;
SELECT count(*) AS kept FROM migsafe.snapshots
 WHERE object_identity IN ('sw.ipar', 'sw.ichi') AND status = 'kept';

-- 18. a moved table whose indexes have the names snapshot storage uses
-- (kept, and the intermediate name of another one) comes back with them
CREATE TABLE clash (id int PRIMARY KEY, v text, w text);
CREATE INDEX clash_v ON clash (v);
CREATE INDEX clash_w ON clash (w);
SELECT 'migsafe_renaming_' || 'clash_w'::regclass::oid AS step_name \gset
ALTER INDEX clash_v RENAME TO :"step_name";
ALTER INDEX clash_w RENAME TO kept;
INSERT INTO clash VALUES (1, 'a', 'b');
BEGIN;
SET LOCAL migsafe.approve = 'sw.clash';
DROP TABLE clash;
COMMIT;
SELECT migsafe.restore('sw.clash') AS restored;
SELECT relname = :'step_name' AS step_named, pg_get_indexdef(indexrelid) LIKE '%(v)' AS on_v
  FROM pg_index JOIN pg_class ON oid = indexrelid
 WHERE indrelid = 'clash'::regclass AND relname <> 'clash_pkey' AND relname <> 'kept';
SELECT pg_get_indexdef('sw.kept'::regclass) LIKE '%(w)' AS kept_on_w;

-- 19. trees are followed by OID: a table given a dropped tree's name in
-- the same transaction does not mix the two trees up
CREATE TABLE tp (id int) PARTITION BY LIST (id);
CREATE TABLE tp_a PARTITION OF tp FOR VALUES IN (1);
INSERT INTO tp VALUES (1);
CREATE TABLE tq (id int) PARTITION BY LIST (id);
CREATE TABLE tq_b PARTITION OF tq FOR VALUES IN (2);
INSERT INTO tq VALUES (2);
BEGIN;
SET LOCAL migsafe.approve = 'sw.*';
DROP TABLE tp;
ALTER TABLE tq RENAME TO tp;
DROP TABLE tp;
COMMIT;
SELECT migsafe.restore('sw.tp_a') AS restored;
SELECT tableoid::regclass, id FROM tp ORDER BY id;
SELECT object_identity, status FROM migsafe.snapshots
 WHERE object_identity IN ('sw.tp', 'sw.tp_a', 'sw.tq_b') ORDER BY id;
