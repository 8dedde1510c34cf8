--
-- Rollback of a deploy: the migration tool's down migration re-creates
-- what the deploy dropped, empty; restore() fills it (values back by key,
-- rows back, sequences forward), refusing and changing nothing when
-- anything is in the way.  migsafe.undo() restores every kept snapshot of
-- a migration or period, newest first, all or nothing; migsafe.report()
-- is the readable summary.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;
CREATE SCHEMA ri;
SET search_path = ri, public;

CREATE FUNCTION rsnap(name text) RETURNS bigint LANGUAGE sql AS
$$ SELECT max(id) FROM migsafe.snapshots WHERE object_identity = name $$;
CREATE FUNCTION fp(rel text, cols text DEFAULT 't.*') RETURNS text LANGUAGE plpgsql AS
$$ DECLARE r text;
BEGIN
	EXECUTE format('SELECT count(*) || '' '' || md5(coalesce(string_agg(row(%s)::text, '','' ORDER BY t.id), '''')) FROM %s t',
				   cols, rel)
	INTO r;
	RETURN r;
END $$;

CREATE TABLE items (id int PRIMARY KEY, sku text NOT NULL, note text);
INSERT INTO items SELECT g, 'sku-' || g, CASE WHEN g % 4 <> 0 THEN 'note ' || g END
  FROM generate_series(1, 40) g;
SELECT fp('items', 't.id, t.note') AS notes \gset

-- 1. the column re-added empty (ALTER TABLE ... ADD COLUMN note text)
BEGIN;
SET LOCAL migsafe.approve = 'ri.items.note';
ALTER TABLE items DROP COLUMN note;
COMMIT;
-- a row written since the deploy
INSERT INTO items VALUES (41, 'sku-41');
ALTER TABLE items ADD COLUMN note text;
UPDATE items SET note = 'written since' WHERE id = 41;
SELECT migsafe.restore('ri.items.note') AS restored;
SELECT fp('(SELECT * FROM ri.items WHERE id <= 40)', 't.id, t.note') = :'notes' AS same_notes;
SELECT note FROM items WHERE id = 41;
SELECT status FROM migsafe.snapshots WHERE id = rsnap('ri.items.note');
SELECT command_tag, decision, detail FROM migsafe.audit_log
 WHERE command_tag = 'RESTORE' AND object_identity = 'ri.items.note' ORDER BY id;

-- 2. Django's reverse of RemoveField: ADD COLUMN ... NOT NULL DEFAULT '',
-- then DROP DEFAULT; every row holds '' (the re-creation's value)
UPDATE items SET note = coalesce(note, 'was null ' || id);
SELECT fp('items', 't.id, t.note') AS notes \gset
BEGIN;
SET LOCAL migsafe.approve = 'ri.items.note';
ALTER TABLE items DROP COLUMN note;
COMMIT;
INSERT INTO items VALUES (42, 'sku-42');
BEGIN;
ALTER TABLE items ADD COLUMN note varchar(40) DEFAULT '' NOT NULL;
ALTER TABLE items ALTER COLUMN note DROP DEFAULT;
COMMIT;
-- a value the application wrote on a kept row, and one on a new row
UPDATE items SET note = 'app wrote this' WHERE id IN (7, 9);
UPDATE items SET note = 'new row' WHERE id = 42;
SELECT migsafe.restore('ri.items.note');
-- the same value as kept is no conflict
UPDATE items SET note = 'note 7' WHERE id = 7;
SELECT migsafe.restore('ri.items.note');
UPDATE items SET note = '' WHERE id = 9;
SELECT migsafe.restore('ri.items.note') AS restored;
SELECT fp('(SELECT * FROM ri.items WHERE id <= 41)', 't.id, t.note') = :'notes' AS same_notes;
SELECT id, note FROM items WHERE id >= 41 ORDER BY id;
SELECT format_type(atttypid, atttypmod), attnotnull FROM pg_attribute
 WHERE attrelid = 'items'::regclass AND attname = 'note';

-- 3. a type that would lose data is refused, naming the rows
BEGIN;
SET LOCAL migsafe.approve = 'ri.items.note';
ALTER TABLE items DROP COLUMN note;
COMMIT;
ALTER TABLE items ADD COLUMN note varchar(6);
SELECT migsafe.restore('ri.items.note');
ALTER TABLE items DROP COLUMN note;
ALTER TABLE items ADD COLUMN note int;
SELECT migsafe.restore('ri.items.note');
SELECT count(note) AS untouched FROM items;
ALTER TABLE items DROP COLUMN note;
ALTER TABLE items ADD COLUMN note text;
SELECT migsafe.restore('ri.items.note') AS restored;

-- a column kept with a type that does not come back: numeric into int
CREATE TABLE prices (id int PRIMARY KEY, amount numeric(8,2));
INSERT INTO prices VALUES (1, 10), (2, 12.5), (3, NULL), (4, 7.25);
BEGIN;
SET LOCAL migsafe.approve = 'ri.prices.amount';
ALTER TABLE prices DROP COLUMN amount;
COMMIT;
ALTER TABLE prices ADD COLUMN amount int;
SELECT migsafe.restore('ri.prices.amount');
ALTER TABLE prices ALTER COLUMN amount TYPE numeric;
SELECT migsafe.restore('ri.prices.amount') AS restored;
SELECT * FROM prices ORDER BY id;

-- a kept NULL cannot go into a column re-created NOT NULL; after a table
-- rewrite PostgreSQL no longer knows the value the re-creation put on
-- every row, so those values are a value of their own
CREATE TABLE flags (id int PRIMARY KEY, label text);
INSERT INTO flags VALUES (1, 'a'), (2, NULL), (3, 'c');
BEGIN;
SET LOCAL migsafe.approve = 'ri.flags.label';
ALTER TABLE flags DROP COLUMN label;
COMMIT;
ALTER TABLE flags ADD COLUMN label text NOT NULL DEFAULT '';
SELECT migsafe.restore('ri.flags.label');
ALTER TABLE flags ALTER COLUMN label DROP NOT NULL;
VACUUM FULL flags;
SELECT migsafe.restore('ri.flags.label');
UPDATE flags SET label = NULL;
SELECT migsafe.restore('ri.flags.label') AS restored;
SELECT * FROM flags ORDER BY id;

-- 4. the table re-created empty: rows back, sequences forward
CREATE TABLE coupons (id bigserial PRIMARY KEY, code varchar(20) NOT NULL UNIQUE,
					  percent int NOT NULL,
					  serial_no int GENERATED BY DEFAULT AS IDENTITY);
INSERT INTO coupons (code, percent) SELECT 'SAVE' || g, g % 50 + 1 FROM generate_series(1, 30) g;
SELECT fp('coupons') AS coupons \gset
BEGIN;
SET LOCAL migsafe.approve = 'ri.coupons';
DROP TABLE coupons;
COMMIT;
SELECT method FROM migsafe.snapshots WHERE id = rsnap('ri.coupons');
CREATE TABLE coupons (id bigserial PRIMARY KEY, code varchar(20) NOT NULL UNIQUE,
					  percent int NOT NULL,
					  serial_no int GENERATED BY DEFAULT AS IDENTITY);
SELECT migsafe.restore('ri.coupons') AS restored;
SELECT fp('coupons') = :'coupons' AS same_coupons;
-- the sequences hand out values past the restored ones
INSERT INTO coupons (code, percent) VALUES ('NEW', 5) RETURNING id, serial_no;

-- 5. partial overlap: rows with the kept keys are refused, named; other
-- rows are no obstacle and stay as they are
DELETE FROM coupons WHERE code = 'NEW';
SELECT fp('coupons') AS coupons \gset
BEGIN;
SET LOCAL migsafe.approve = 'ri.coupons';
DROP TABLE coupons CASCADE;
COMMIT;
CREATE TABLE coupons (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
					  code varchar(20) NOT NULL UNIQUE, percent int NOT NULL,
					  serial_no int);
INSERT INTO coupons (id, code, percent) VALUES (3, 'X3', 1), (4, 'X4', 1), (1000, 'LATER', 9);
SELECT migsafe.restore('ri.coupons');
SELECT count(*) AS unchanged FROM coupons;
DELETE FROM coupons WHERE id IN (3, 4);
-- another unique key collides: refused with the constraint's words
INSERT INTO coupons (id, code, percent) VALUES (2000, 'SAVE7', 1);
SELECT migsafe.restore('ri.coupons');
DELETE FROM coupons WHERE id = 2000;
SELECT migsafe.restore('ri.coupons') AS restored;
SELECT fp('(SELECT * FROM ri.coupons WHERE id < 1000)') = :'coupons' AS same_coupons;
SELECT id, code, percent FROM coupons WHERE id >= 1000;
SELECT pg_sequence_last_value(pg_get_serial_sequence('ri.coupons', 'id')) AS id_seq;
-- a table without a primary key takes the rows only when empty
CREATE TABLE notes (id int, body text);
INSERT INTO notes VALUES (1, 'a'), (2, 'b');
BEGIN;
SET LOCAL migsafe.approve = 'ri.notes';
DROP TABLE notes;
COMMIT;
CREATE TABLE notes (id int, body text, extra text);
INSERT INTO notes VALUES (9, 'z');
SELECT migsafe.restore('ri.notes');
DELETE FROM notes;
SELECT migsafe.restore('ri.notes') AS restored;
SELECT * FROM notes ORDER BY id;
-- a table re-created without a kept column
CREATE TABLE tags (id int PRIMARY KEY, name text, color text);
INSERT INTO tags VALUES (1, 'red', 'r');
BEGIN;
SET LOCAL migsafe.approve = 'ri.tags';
DROP TABLE tags;
COMMIT;
CREATE TABLE tags (id int PRIMARY KEY, name text);
SELECT migsafe.restore('ri.tags');
ALTER TABLE tags ADD COLUMN color text;
SELECT migsafe.restore('ri.tags') AS restored;

-- 6. a dropped sequence created again moves forward, never back
CREATE SEQUENCE invoice_no START 100;
SELECT setval('invoice_no', 500);
BEGIN;
SET LOCAL migsafe.approve = 'ri.invoice_no';
DROP SEQUENCE invoice_no;
COMMIT;
CREATE SEQUENCE invoice_no START 100;
SELECT migsafe.restore('ri.invoice_no') AS restored;
SELECT nextval('invoice_no');

-- 7. privileges: a restore writes with the rights of the original's owner
-- into what is there now; another role's table is not its to fill
CREATE ROLE regress_ri_owner;
CREATE ROLE regress_ri_other;
GRANT USAGE, CREATE ON SCHEMA ri TO regress_ri_owner, regress_ri_other;
SET ROLE regress_ri_owner;
CREATE TABLE ledger (id int PRIMARY KEY, amount int);
INSERT INTO ledger SELECT g, g * 100 FROM generate_series(1, 5) g;
BEGIN;
SET LOCAL migsafe.approve = 'ri.ledger';
DROP TABLE ledger;
COMMIT;
RESET ROLE;
SET ROLE regress_ri_other;
CREATE TABLE ledger (id int PRIMARY KEY, amount int);
INSERT INTO ledger VALUES (100, 1);
-- not the snapshot's owner: may not restore at all
SELECT migsafe.restore('ri.ledger');
SELECT * FROM migsafe.undo(now() - interval '1 minute');
RESET ROLE;
SET ROLE regress_ri_owner;
-- the snapshot's owner: may not write another role's table
SELECT migsafe.restore('ri.ledger');
RESET ROLE;
-- a superuser neither: the restore runs as the original's owner
SELECT migsafe.restore('ri.ledger');
SELECT * FROM ledger ORDER BY id;
-- with the privilege granted, it fills, around the other role's row
GRANT SELECT, INSERT ON ledger TO regress_ri_owner;
SET ROLE regress_ri_owner;
SELECT migsafe.restore('ri.ledger') AS restored;
RESET ROLE;
SELECT * FROM ledger ORDER BY id;
-- a column of a table that changed hands since: the snapshot's owner
-- needs UPDATE on it, and values there are never overwritten
SET ROLE regress_ri_other;
ALTER TABLE ledger ADD COLUMN memo text;
UPDATE ledger SET memo = 'm' || id;
BEGIN;
SET LOCAL migsafe.approve = 'ri.ledger.memo';
ALTER TABLE ledger DROP COLUMN memo;
COMMIT;
RESET ROLE;
ALTER TABLE ledger OWNER TO regress_ri_owner;
ALTER TABLE ledger ADD COLUMN memo text;
SET ROLE regress_ri_other;
SELECT migsafe.restore('ri.ledger.memo');
RESET ROLE;
GRANT SELECT, UPDATE (memo) ON ledger TO regress_ri_other;
UPDATE ledger SET memo = 'mine' WHERE id = 100;
UPDATE ledger SET memo = 'other' WHERE id = 2;
SET ROLE regress_ri_other;
SELECT migsafe.restore('ri.ledger.memo');
RESET ROLE;
SELECT * FROM ledger ORDER BY id;
UPDATE ledger SET memo = NULL WHERE id IN (2, 100);
SET ROLE regress_ri_other;
SELECT migsafe.restore('ri.ledger.memo') AS restored;
RESET ROLE;
SELECT * FROM ledger ORDER BY id;

-- 8. undo(migration): a deploy's migration (the audit log ties it to the
-- tool's bookkeeping row), rolled back by the tool, then undone
CREATE TABLE django_migrations (id serial PRIMARY KEY, app text, name text,
								applied timestamptz DEFAULT now());
CREATE TABLE shop_customer (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
							name text NOT NULL, legacy_notes text NOT NULL);
INSERT INTO shop_customer (name, legacy_notes)
  SELECT 'customer ' || g, 'note ' || g FROM generate_series(1, 50) g;
CREATE TABLE shop_coupon (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
						  code varchar(20) NOT NULL, percent int NOT NULL);
INSERT INTO shop_coupon (code, percent) SELECT 'C' || g, g FROM generate_series(1, 20) g;
SELECT fp('shop_customer', 't.id, t.legacy_notes') AS notes, fp('shop_coupon') AS coupons \gset
SELECT clock_timestamp() AS t0 \gset

BEGIN;
SET LOCAL migsafe.approve = 'ri.shop_customer.legacy_notes, ri.shop_coupon';
ALTER TABLE shop_customer DROP COLUMN legacy_notes;
DROP TABLE shop_coupon;
INSERT INTO django_migrations (app, name) VALUES ('shop', '0002_remove_notes_delete_coupon');
COMMIT;
SELECT DISTINCT tool, migration FROM migsafe.audit_log
 WHERE object_identity IN ('ri.shop_customer.legacy_notes', 'ri.shop_coupon') AND decision = 'approved';
-- the application writes rows after the deploy
INSERT INTO shop_customer (name) VALUES ('after deploy 1'), ('after deploy 2');
SELECT fp('(SELECT * FROM ri.shop_customer WHERE id > 50)', 't.id, t.name') AS newrows \gset
-- the tool's down migration
BEGIN;
CREATE TABLE shop_coupon (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
						  code varchar(20) NOT NULL, percent int NOT NULL);
ALTER TABLE shop_customer ADD COLUMN legacy_notes text DEFAULT '' NOT NULL;
ALTER TABLE shop_customer ALTER COLUMN legacy_notes DROP DEFAULT;
DELETE FROM django_migrations WHERE name = '0002_remove_notes_delete_coupon';
COMMIT;
-- all or nothing: the table goes first (newest), then the column refuses
UPDATE shop_customer SET legacy_notes = 'edited after rollback' WHERE id = 5;
SELECT * FROM migsafe.undo('shop.0002_remove_notes_delete_coupon');
SELECT count(*) AS coupons_still_empty FROM shop_coupon;
SELECT object_identity, status FROM migsafe.snapshots
 WHERE object_identity IN ('ri.shop_customer.legacy_notes', 'ri.shop_coupon')
   AND status = 'kept' ORDER BY id;
UPDATE shop_customer SET legacy_notes = '' WHERE id = 5;
SELECT * FROM migsafe.undo('shop.0002_remove_notes_delete_coupon');
SELECT fp('(SELECT * FROM ri.shop_customer WHERE id <= 50)', 't.id, t.legacy_notes') = :'notes' AS same_notes,
	   fp('shop_coupon') = :'coupons' AS same_coupons,
	   fp('(SELECT * FROM ri.shop_customer WHERE id > 50)', 't.id, t.name') = :'newrows' AS new_rows_untouched;
SELECT id, legacy_notes FROM shop_customer WHERE id > 50 ORDER BY id;
INSERT INTO shop_coupon (code, percent) VALUES ('NEXT', 1) RETURNING id;
-- audited as UNDO, a row per object
SELECT command_tag, object_identity, risk, detail FROM migsafe.audit_log
 WHERE command_tag = 'UNDO' ORDER BY id;
-- done once
SELECT * FROM migsafe.undo('shop.0002_remove_notes_delete_coupon');
SELECT * FROM migsafe.undo('shop.0099_unknown');

-- 9. undo(since): every kept snapshot since a moment, newest first, but
-- those of down migrations and restores
SELECT clock_timestamp() AS t1 \gset
BEGIN;
SET LOCAL migsafe.approve = 'ri.shop_customer.name';
ALTER TABLE shop_customer DROP COLUMN name;
COMMIT;
BEGIN;
SET LOCAL migsafe.approve = 'ri.shop_coupon';
DROP TABLE shop_coupon;
COMMIT;
-- a down migration's own snapshot is not undone: 0003 added a column,
-- its down migration drops it
BEGIN;
ALTER TABLE prices ADD COLUMN discount int;
INSERT INTO django_migrations (app, name) VALUES ('shop', '0003_prices_discount');
COMMIT;
UPDATE prices SET discount = 5;
BEGIN;
DELETE FROM django_migrations WHERE name = '0003_prices_discount';
SET LOCAL migsafe.approve = 'ri.prices.discount';
ALTER TABLE prices DROP COLUMN discount;
COMMIT;
SELECT DISTINCT migration FROM migsafe.audit_log
 WHERE object_identity = 'ri.prices.discount' AND scope = 'object';
ALTER TABLE shop_customer ADD COLUMN name text;
SELECT * FROM migsafe.undo(:'t1'::timestamptz);
SELECT count(name) AS names, count(*) FROM shop_customer;
SELECT count(*) AS coupons FROM shop_coupon;
SELECT object_identity, status FROM migsafe.snapshots
 WHERE object_identity = 'ri.prices.discount' ORDER BY id;
SELECT count(*) AS discount_column FROM pg_attribute
 WHERE attrelid = 'prices'::regclass AND attname = 'discount' AND NOT attisdropped;
SELECT * FROM migsafe.undo('infinity'::timestamptz);

-- 10. the report of the deploy and its undo, and of a refused attempt
-- (written by migsafe's background writer a moment later)
CREATE FUNCTION wait_blocked(since timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1 .. 200 LOOP
		IF EXISTS (SELECT FROM migsafe.audit_log
					WHERE ts >= since AND decision = 'blocked' AND scope = 'object') THEN
			RETURN true;
		END IF;
		PERFORM pg_sleep(0.05);
	END LOOP;
	RETURN false;
END $$;
DROP TABLE shop_coupon;
SELECT wait_blocked(:'t0');
SELECT regexp_replace(regexp_replace(line, '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?( [A-Z]+|[+-]\d\d(:\d\d)?)?', '<time>', 'g'),
					  'transaction [0-9/]+', 'transaction <xid>') AS report
  FROM migsafe.report(:'t0'::timestamptz) line;
SELECT * FROM migsafe.report('infinity');

-- every role may call them, like restore(): undo() applies restore's
-- rules, report() reads the audit log with the caller's rights
SELECT p.oid::regprocedure AS function, p.prosecdef AS security_definer,
	   has_function_privilege('regress_ri_other', p.oid, 'EXECUTE') AS public_execute
  FROM pg_proc p
 WHERE p.pronamespace = 'migsafe'::regnamespace AND p.proname IN ('undo', 'report', 'restore')
 ORDER BY 1::text;
\set VERBOSITY terse
SET ROLE regress_ri_other;
SELECT * FROM migsafe.report();
\set VERBOSITY default
RESET ROLE;
GRANT SELECT ON migsafe.audit_log TO regress_ri_other;
SET ROLE regress_ri_other;
SELECT count(*) > 0 AS has_lines FROM migsafe.report(:'t0'::timestamptz);
RESET ROLE;
REVOKE SELECT ON migsafe.audit_log FROM regress_ri_other;

SET client_min_messages = warning;
SET migsafe.approve = '*';
DROP OWNED BY regress_ri_owner, regress_ri_other CASCADE;
RESET migsafe.approve;
DROP ROLE regress_ri_owner, regress_ri_other;
RESET client_min_messages;
