-- Statements that do not come from the client directly: DO blocks, SQL and
-- PL/pgSQL functions, procedures, extension scripts, multi-statement
-- strings, event triggers, and errors caught by EXCEPTION blocks.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

CREATE TABLE payments (id int PRIMARY KEY, amount int, memo text);
INSERT INTO payments VALUES (1, 10, 'a'), (2, 20, 'b');

-- 1. DO block with EXECUTE
DO $$ BEGIN EXECUTE 'DROP TABLE payments'; END $$;
SELECT count(*) FROM payments;

-- 2. PL/pgSQL function
CREATE FUNCTION purge_payments() RETURNS void LANGUAGE plpgsql AS
$$ BEGIN TRUNCATE payments; END $$;
SELECT purge_payments();
SELECT count(*) FROM payments;

-- 3. SQL function
CREATE FUNCTION drop_memo() RETURNS void LANGUAGE sql AS
$$ ALTER TABLE payments DROP COLUMN memo $$;
SELECT drop_memo();
SELECT memo FROM payments ORDER BY id;

-- 4. procedure with a transaction of its own
CREATE PROCEDURE retype_amount() LANGUAGE plpgsql AS
$$ BEGIN ALTER TABLE payments ALTER COLUMN amount TYPE bigint; COMMIT; END $$;
CALL retype_amount();

-- 5. a multi-statement query string (one implicit transaction)
SELECT 1 AS before \; DROP TABLE payments \; SELECT 2 AS after;
SELECT count(*) FROM payments;

-- 6. an extension script
CREATE TABLE victim_ext (id int);
INSERT INTO victim_ext VALUES (1), (2), (3);
CREATE EXTENSION migsafe_test_dropper;
SELECT count(*) FROM victim_ext;
BEGIN;
SET LOCAL migsafe.approve = 'public.victim_ext';
CREATE EXTENSION migsafe_test_dropper;
COMMIT;
SELECT to_regclass('victim_ext') IS NULL AS gone;
DROP EXTENSION migsafe_test_dropper;

-- 7. an EXCEPTION block that swallows the error keeps the data
DO $$
BEGIN
	DROP TABLE payments;
EXCEPTION WHEN others THEN
	RAISE NOTICE 'caught: % (%)', SQLERRM, SQLSTATE;
END $$;
SELECT count(*) FROM payments;

-- 8. an approval set inside the function itself
CREATE FUNCTION approved_purge() RETURNS void LANGUAGE plpgsql AS
$$ BEGIN
	SET LOCAL migsafe.approve = 'public.payments';
	TRUNCATE payments;
END $$;
BEGIN;
SELECT approved_purge();
SELECT count(*) FROM payments;
ROLLBACK;

-- 9. event triggers fire once per statement, also for guarded ones
CREATE FUNCTION note_ddl() RETURNS event_trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE NOTICE 'event trigger: %', tg_tag; END $$;
CREATE EVENT TRIGGER note_ddl ON ddl_command_start EXECUTE FUNCTION note_ddl();
CREATE FUNCTION note_drop() RETURNS event_trigger LANGUAGE plpgsql AS
$$ DECLARE r record;
BEGIN
	FOR r IN SELECT object_type, object_identity FROM pg_event_trigger_dropped_objects()
		WHERE original ORDER BY 2 LOOP
		RAISE NOTICE 'dropped: % %', r.object_type, r.object_identity;
	END LOOP;
END $$;
CREATE EVENT TRIGGER note_drop ON sql_drop EXECUTE FUNCTION note_drop();
DROP TABLE payments;
-- an approved DROP TABLE moves the table into its snapshot: sql_drop does
-- not list it (the DROP runs without it) ...
BEGIN;
SET LOCAL migsafe.approve = 'public.payments';
DROP TABLE payments;
ROLLBACK;
-- ... unless snapshots are off
BEGIN;
SET LOCAL migsafe.approve = 'public.payments';
SET LOCAL migsafe.snapshot = off;
DROP TABLE payments;
COMMIT;
DROP EVENT TRIGGER note_ddl;
DROP EVENT TRIGGER note_drop;

-- 10. an event trigger that drops a table itself is guarded too
CREATE TABLE audit_copy (x int);
INSERT INTO audit_copy VALUES (1);
CREATE FUNCTION sneaky_drop() RETURNS event_trigger LANGUAGE plpgsql AS
$$ BEGIN EXECUTE 'DROP TABLE IF EXISTS public.audit_copy'; END $$;
CREATE EVENT TRIGGER sneaky ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
	EXECUTE FUNCTION sneaky_drop();
CREATE TABLE idx_t (x int);
CREATE INDEX ON idx_t (x);
DROP EVENT TRIGGER sneaky;
SELECT count(*) FROM audit_copy;

-- 11. a DROP's own event triggers fire for the statement that runs, never
-- for the dry run that foresees its cascade (a trigger's side effects
-- outside the transaction could not be rolled back with it: a sequence
-- stands for them here)
CREATE SEQUENCE drop_calls;
CREATE FUNCTION count_drop() RETURNS event_trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM nextval('drop_calls'); END $$;
CREATE EVENT TRIGGER count_drop ON sql_drop EXECUTE FUNCTION count_drop();
CREATE TABLE dropped_once (x int);
INSERT INTO dropped_once VALUES (1);
BEGIN;
SET LOCAL migsafe.approve = 'public.dropped_once';
SET LOCAL migsafe.skip_snapshot = 'public.dropped_once';
DROP TABLE dropped_once;
COMMIT;
SELECT last_value AS sql_drop_calls FROM drop_calls;
-- an sql_drop trigger dropping another table is guarded in its turn
CREATE TABLE kept_by_guard (x int);
INSERT INTO kept_by_guard VALUES (1);
CREATE FUNCTION drop_more() RETURNS event_trigger LANGUAGE plpgsql AS
$$ BEGIN EXECUTE 'DROP TABLE IF EXISTS public.kept_by_guard'; END $$;
CREATE EVENT TRIGGER drop_more ON sql_drop WHEN TAG IN ('DROP VIEW')
	EXECUTE FUNCTION drop_more();
CREATE VIEW any_view AS SELECT 1 AS one;
DROP VIEW any_view;
DROP EVENT TRIGGER drop_more;
DROP EVENT TRIGGER count_drop;
SELECT count(*) AS still_there FROM kept_by_guard;
