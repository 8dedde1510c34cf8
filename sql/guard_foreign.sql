--
-- A foreign table holds no data here, but its serial columns own
-- sequences: dropping the table or the column drops them, and they are
-- decided (and kept) like any sequence, before the statement runs.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

CREATE FOREIGN DATA WRAPPER gf_fdw;
CREATE SERVER gf_srv FOREIGN DATA WRAPPER gf_fdw;
CREATE FOREIGN TABLE gf_t (c1 int) SERVER gf_srv;
ALTER FOREIGN TABLE gf_t ADD COLUMN c2 serial, ADD COLUMN c3 serial, ADD COLUMN c4 int;
SELECT nextval('gf_t_c2_seq') + nextval('gf_t_c3_seq') AS advanced;

-- unapproved: refused, naming the sequence
ALTER FOREIGN TABLE gf_t DROP COLUMN c2;
DROP FOREIGN TABLE gf_t;

SELECT coalesce(max(id), 0) AS mark FROM migsafe.snapshots \gset
SET client_min_messages = warning;	-- notices name snapshot ids
BEGIN;
SET LOCAL migsafe.approve = 'public.gf_t_c2_seq';
ALTER FOREIGN TABLE gf_t DROP COLUMN c2, ALTER COLUMN c4 TYPE bigint;
COMMIT;
BEGIN;
SET LOCAL migsafe.approve = 'public.gf_t_c3_seq';
DROP FOREIGN TABLE gf_t;
COMMIT;
RESET client_min_messages;
SELECT object_identity, operation, method FROM migsafe.snapshots
 WHERE id > :mark ORDER BY id;

DROP SERVER gf_srv;
DROP FOREIGN DATA WRAPPER gf_fdw;
