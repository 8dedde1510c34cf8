-- A table re-created by a restore gets its identity column's sequence
-- options back (start, increment, bounds, cache, cycle), not only its
-- value: the column's definition alone would give the defaults.
SET client_min_messages = warning;
CREATE SCHEMA ident;
CREATE TABLE ident.t (id int GENERATED ALWAYS AS IDENTITY
                        (START 10 INCREMENT 5 MAXVALUE 100000 CACHE 3 CYCLE),
                      v text);
INSERT INTO ident.t (v) VALUES ('a'), ('b');
CREATE VIEW ident.opts AS
  SELECT seqstart, seqincrement, seqmax, seqcache, seqcycle FROM pg_sequence
   WHERE seqrelid = pg_get_serial_sequence('ident.t', 'id')::regclass;
SELECT * FROM ident.opts;
-- DROP SCHEMA ... CASCADE keeps the table's storage; restore re-creates
-- the table from its definition
BEGIN;
SET LOCAL migsafe.approve = 'ident.*';
DROP SCHEMA ident CASCADE;
COMMIT;
CREATE SCHEMA ident;
SELECT migsafe.restore('ident.t') AS restored;
SELECT seqstart, seqincrement, seqmax, seqcache, seqcycle FROM pg_sequence
 WHERE seqrelid = pg_get_serial_sequence('ident.t', 'id')::regclass;
INSERT INTO ident.t (v) VALUES ('c');
SELECT * FROM ident.t ORDER BY id;
BEGIN;
SET LOCAL migsafe.approve = 'ident.*';
SET LOCAL migsafe.snapshot = off;
DROP SCHEMA ident CASCADE;
COMMIT;
RESET client_min_messages;
