-- ALTER TABLE ... DROP COLUMN, ALTER COLUMN ... TYPE, and ALTER TYPE on
-- composite types.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

CREATE TABLE accounts (id int PRIMARY KEY, email text, balance numeric(10,2),
					   legacy text);
INSERT INTO accounts VALUES (1, 'a@example.com', 1.57, NULL),
	(2, 'b@example.com', 2.49, NULL);

-- 1. DROP COLUMN
ALTER TABLE accounts DROP COLUMN email;
SELECT email FROM accounts ORDER BY id;
-- approving another column does not help; the column or its table does
BEGIN;
SET LOCAL migsafe.approve = 'public.accounts.balance';
ALTER TABLE accounts DROP COLUMN email;
ROLLBACK;
BEGIN;
SET LOCAL migsafe.approve = 'public.accounts.email';
ALTER TABLE accounts DROP COLUMN email;
COMMIT;
-- a column holding only NULLs holds no data
ALTER TABLE accounts DROP COLUMN legacy;

-- 2. ALTER COLUMN TYPE: every type change counts, lossy or not
ALTER TABLE accounts ALTER COLUMN balance TYPE int USING balance::int;
ALTER TABLE accounts ALTER COLUMN balance TYPE numeric(12,2);
SELECT balance FROM accounts ORDER BY id;
BEGIN;
SET LOCAL migsafe.approve = 'public.accounts';
ALTER TABLE accounts ALTER COLUMN balance TYPE int USING balance::int;
COMMIT;
SELECT balance FROM accounts ORDER BY id;

-- 3. DROP COLUMN ... CASCADE takes a generated column along
CREATE TABLE prices (net int, gross int GENERATED ALWAYS AS (net * 2) STORED,
					 label text);
INSERT INTO prices (net, label) VALUES (10, 'x');
ALTER TABLE prices DROP COLUMN net CASCADE;
BEGIN;
SET LOCAL migsafe.approve = 'public.prices.net';
ALTER TABLE prices DROP COLUMN net CASCADE;
ROLLBACK;
BEGIN;
SET LOCAL migsafe.approve = 'public.prices.net, public.prices.gross';
ALTER TABLE prices DROP COLUMN net CASCADE;
COMMIT;
SELECT * FROM prices;

-- 4. DROP COLUMN and ALTER TYPE on a partitioned table reach every
-- partition; the hint names the root's column
CREATE TABLE readings (id int, v numeric) PARTITION BY RANGE (id);
CREATE TABLE readings_1 PARTITION OF readings FOR VALUES FROM (0) TO (10);
CREATE TABLE readings_2 PARTITION OF readings FOR VALUES FROM (10) TO (20);
INSERT INTO readings VALUES (1, 1.5), (11, 2.5);
ALTER TABLE readings DROP COLUMN v;
ALTER TABLE readings ALTER COLUMN v TYPE int;
BEGIN;
SET LOCAL migsafe.approve = 'public.readings.v';
ALTER TABLE readings ALTER COLUMN v TYPE int;
COMMIT;
SELECT * FROM readings ORDER BY id;

-- 5. ALTER COLUMN TYPE on an inheritance parent recurses into children,
-- whose approval is their own (here the parent itself holds no rows)
CREATE TABLE base (id int, code text);
CREATE TABLE derived () INHERITS (base);
INSERT INTO derived VALUES (1, 'abc');
ALTER TABLE base ALTER COLUMN code TYPE varchar(10);

-- 6. ALTER TYPE ... DROP ATTRIBUTE blanks the attribute in every stored
-- value of the type, and drops it from typed tables (CASCADE)
CREATE TYPE address AS (street text, zip text);
CREATE TABLE shops (id int, addr address);
CREATE TABLE addr_typed OF address;
INSERT INTO shops VALUES (1, ROW('Main St', '12345'));
INSERT INTO addr_typed VALUES ('Side St', '54321');
ALTER TYPE address DROP ATTRIBUTE zip CASCADE;
SELECT * FROM shops;
SELECT * FROM addr_typed;
BEGIN;
SET LOCAL migsafe.approve = 'public.shops.addr, public.addr_typed.zip';
ALTER TYPE address DROP ATTRIBUTE zip CASCADE;
COMMIT;
SELECT * FROM shops;
-- values nested in an array of the type count too
CREATE TYPE pair AS (a int, b int);
CREATE TABLE pairs (id int, ps pair[]);
INSERT INTO pairs VALUES (1, ARRAY[ROW(1, 2)::pair]);
ALTER TYPE pair DROP ATTRIBUTE b;

-- 7. ALTER TYPE ... ALTER ATTRIBUTE ... TYPE CASCADE retypes typed tables
CREATE TYPE money_t AS (amount int);
CREATE TABLE ledger OF money_t;
INSERT INTO ledger VALUES (5);
ALTER TYPE money_t ALTER ATTRIBUTE amount TYPE bigint CASCADE;
BEGIN;
SET LOCAL migsafe.approve = 'public.ledger';
ALTER TYPE money_t ALTER ATTRIBUTE amount TYPE bigint CASCADE;
COMMIT;

-- 8. several subcommands: one error for all columns at stake
CREATE TABLE multi (a int, b int, c int);
INSERT INTO multi VALUES (1, 2, 3);
ALTER TABLE multi DROP COLUMN a, ALTER COLUMN b TYPE bigint, ADD COLUMN d int;
SELECT * FROM multi;

-- 9. a cascade the statement does not name is still caught, by the
-- object-access hook, as each object is really dropped (the trace shows
-- which hook decided)
CREATE TABLE totals (net int, gross int GENERATED ALWAYS AS (net * 2) STORED);
INSERT INTO totals (net) VALUES (10);
SET migsafe.trace = on;
BEGIN;
SET LOCAL migsafe.approve = 'public.totals.net';
ALTER TABLE totals DROP COLUMN net CASCADE, ADD COLUMN note text;
ROLLBACK;
BEGIN;
SET LOCAL migsafe.approve = 'public.totals.net, public.totals.gross';
ALTER TABLE totals DROP COLUMN net CASCADE, ADD COLUMN note text;
COMMIT;
RESET migsafe.trace;
SELECT * FROM totals;

-- 10. dropping a column of a table that is also a row type blanks that
-- field in every stored value of the type, even when the table is empty
CREATE TABLE addr (street text, zip text);
CREATE TABLE customer (id int, a addr);
INSERT INTO customer VALUES (1, ROW('Main St', '12345'));
ALTER TABLE addr DROP COLUMN zip;
SELECT * FROM customer;

-- 11. DROP IDENTITY drops the identity's sequence, and its current value
CREATE TABLE tickets (id int GENERATED ALWAYS AS IDENTITY, t text);
INSERT INTO tickets (t) VALUES ('a'), ('b');
ALTER TABLE tickets ALTER COLUMN id DROP IDENTITY;
BEGIN;
SET LOCAL migsafe.approve = 'public.tickets.id';
ALTER TABLE tickets ALTER COLUMN id DROP IDENTITY;
COMMIT;

-- 12. a typed partitioned table: its partitions are retyped too
CREATE TYPE reading_t AS (a int, b numeric);
CREATE TABLE typed_parts OF reading_t PARTITION BY RANGE (a);
CREATE TABLE typed_parts_1 PARTITION OF typed_parts FOR VALUES FROM (0) TO (100);
INSERT INTO typed_parts VALUES (1, 1.7);
ALTER TYPE reading_t ALTER ATTRIBUTE b TYPE int CASCADE;
SELECT * FROM typed_parts;

-- 13. SET UNLOGGED: the next crash (or a failover) empties the table
CREATE TABLE sessions_kept (id int);
INSERT INTO sessions_kept VALUES (1);
ALTER TABLE sessions_kept SET UNLOGGED;
BEGIN;
SET LOCAL migsafe.approve = 'public.sessions_kept';
ALTER TABLE sessions_kept SET UNLOGGED;
COMMIT;
-- SET LOGGED loses nothing
ALTER TABLE sessions_kept SET LOGGED;

-- 14. resetting a sequence throws its value away
CREATE SEQUENCE order_no;
SELECT setval('order_no', 500);
ALTER SEQUENCE order_no RESTART;
SELECT last_value FROM order_no;
CREATE TABLE with_identity (id int GENERATED BY DEFAULT AS IDENTITY, x int);
INSERT INTO with_identity (x) VALUES (1), (2);
ALTER TABLE with_identity ALTER COLUMN id RESTART WITH 1;
BEGIN;
SET LOCAL migsafe.approve = 'public.with_identity.id, public.order_no';
ALTER TABLE with_identity ALTER COLUMN id RESTART WITH 1;
ALTER SEQUENCE order_no RESTART;
COMMIT;
-- other sequence options lose nothing
ALTER SEQUENCE order_no INCREMENT BY 2;

-- 15. an identity's SET INCREMENT BY keeps the sequence's value: with only
-- the retyped column approved, the mixed statement runs, and the sequence
-- is no target (its RESTART still is)
CREATE TABLE ident_mix (id int GENERATED BY DEFAULT AS IDENTITY, v int);
INSERT INTO ident_mix (v) VALUES (1), (2);
BEGIN;
SET LOCAL migsafe.approve = 'public.ident_mix.v';
SET LOCAL migsafe.skip_snapshot = 'public.ident_mix.v';
ALTER TABLE ident_mix ALTER id SET INCREMENT BY 7, ALTER v TYPE bigint;
COMMIT;
INSERT INTO ident_mix (v) VALUES (3) RETURNING id;
SELECT object_type, object_identity, decision FROM migsafe.audit_log
 WHERE statement LIKE 'ALTER TABLE ident_mix ALTER id SET INCREMENT BY 7%'
   AND scope = 'object' ORDER BY id;
ALTER TABLE ident_mix ALTER id SET INCREMENT BY 1, ALTER id RESTART;
