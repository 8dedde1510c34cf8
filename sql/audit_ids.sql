-- Audit rows written without SQL: ids taken from the log's sequence in
-- nextval()'s order, the session's lastval() left alone, rows of
-- rolled-back subtransactions gone, and every index of the log filled,
-- also when the log or one of its indexes changes mid-transaction (what
-- the backend keeps of them is built again).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

-- the user's lastval() and currval() are untouched by audit rows
CREATE SEQUENCE ids_user_seq START 1000;
SELECT nextval('ids_user_seq');
CREATE TABLE ids_a (id int);
SELECT lastval(), currval('ids_user_seq');

-- consecutive ids within a transaction and across transactions; a
-- subtransaction rolled back takes its row away and leaves a gap, as
-- nextval() would
SELECT coalesce(max(id), 0) AS before_id FROM migsafe.audit_log \gset
BEGIN;
CREATE TABLE ids_b (id int);
SAVEPOINT s1;
CREATE TABLE ids_gone (id int);
ROLLBACK TO SAVEPOINT s1;
CREATE TABLE ids_c (id int);
COMMIT;
CREATE TABLE ids_d (id int);
SELECT id - :before_id AS rel_id, object_identity FROM migsafe.audit_log
 WHERE id > :before_id ORDER BY id;

-- a subtransaction that fails after writing a row
BEGIN;
SAVEPOINT s2;
CREATE TABLE ids_e (id int);
SELECT 1 / 0;
ROLLBACK TO SAVEPOINT s2;
CREATE TABLE ids_f (id int);
COMMIT;
SELECT id - :before_id AS rel_id, object_identity FROM migsafe.audit_log
 WHERE id > :before_id ORDER BY id;
SELECT lastval();

-- the sequence's tuple holds the last id taken, and a superuser's setval()
-- is followed as by nextval() (is_called false too: its value comes next)
SELECT last_value = (SELECT max(id) FROM migsafe.audit_log) AS seq_at_max,
	   is_called
  FROM migsafe.audit_log_id_seq;
SELECT setval('migsafe.audit_log_id_seq', :before_id + 100) IS NOT NULL AS set;
CREATE TABLE ids_g (id int);
SELECT setval('migsafe.audit_log_id_seq', :before_id + 200, false) IS NOT NULL AS set;
CREATE TABLE ids_h (id int);
SELECT id - :before_id AS rel_id, object_identity FROM migsafe.audit_log
 WHERE id > :before_id + 10 ORDER BY id;
SELECT lastval();

-- the log and its indexes changed mid-transaction: an index made, one
-- altered, the table altered, between rows of the same transaction
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*';
CREATE TABLE ids_i (id int);
CREATE INDEX audit_log_ids_test_idx ON migsafe.audit_log (command_tag, id);
CREATE TABLE ids_j (id int);
ALTER INDEX migsafe.audit_log_ts_idx SET (fillfactor = 80);
CREATE TABLE ids_k (id int);
ALTER TABLE migsafe.audit_log ALTER COLUMN statement SET STATISTICS 500;
CREATE TABLE ids_l (id int);
ANALYZE migsafe.audit_log;
CREATE TABLE ids_m (id int);
COMMIT;
CREATE TABLE ids_n (id int);
-- each index has an entry for every row
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*) AS by_new_index FROM migsafe.audit_log
 WHERE command_tag = 'CREATE TABLE' AND id > :before_id;
SELECT count(*) AS by_pkey FROM migsafe.audit_log
 WHERE id > :before_id AND command_tag = 'CREATE TABLE' AND id IS NOT NULL;
SELECT count(*) AS by_object FROM migsafe.audit_log
 WHERE object_identity LIKE 'public.ids\_%' AND id > :before_id;
SELECT count(*) AS by_ts FROM migsafe.audit_log
 WHERE ts > '-infinity' AND id > :before_id AND command_tag = 'CREATE TABLE';
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT count(*) AS by_heap FROM migsafe.audit_log
 WHERE command_tag = 'CREATE TABLE' AND id > :before_id;
SELECT object_identity FROM migsafe.audit_log
 WHERE id > :before_id + 200 ORDER BY id;

-- the index dropped mid-transaction: rows go on
BEGIN;
SET LOCAL migsafe.approve = 'migsafe.*';
CREATE TABLE ids_o (id int);
DROP INDEX migsafe.audit_log_ids_test_idx;
CREATE TABLE ids_p (id int);
ALTER INDEX migsafe.audit_log_ts_idx RESET (fillfactor);
ALTER TABLE migsafe.audit_log ALTER COLUMN statement SET STATISTICS -1;
COMMIT;
SELECT object_identity FROM migsafe.audit_log
 WHERE object_identity IN ('public.ids_o', 'public.ids_p') ORDER BY id;

SET client_min_messages = warning;
BEGIN;
SET LOCAL migsafe.approve = 'public.*';
DROP TABLE ids_a, ids_b, ids_c, ids_d, ids_f, ids_g, ids_h, ids_i, ids_j,
	ids_k, ids_l, ids_m, ids_n, ids_o, ids_p;
DROP SEQUENCE ids_user_seq;
COMMIT;
RESET client_min_messages;

-- every row is in each index whose predicate it satisfies: a partial
-- index of the log is opened only for a row that goes in it
SELECT count(*) > 0 AS with_snapshot FROM migsafe.audit_log
 WHERE snapshot_id IS NOT NULL;
SELECT count(*) > 0 AS blocked FROM migsafe.audit_log
 WHERE decision = 'blocked';
CREATE EXTENSION amcheck;
SELECT c.relname, (SELECT true FROM bt_index_check(c.oid, true)) AS checked
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'migsafe.audit_log'::regclass ORDER BY c.relname;
DROP EXTENSION amcheck;
