-- TRUNCATE in all its forms.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

CREATE TABLE logs (id bigserial PRIMARY KEY, msg text);
INSERT INTO logs (msg) SELECT 'line ' || g FROM generate_series(1, 20) g;

-- 1. plain TRUNCATE
TRUNCATE logs;
SELECT count(*) FROM logs;
BEGIN;
SET LOCAL migsafe.approve = 'public.logs';
TRUNCATE logs RESTART IDENTITY;
COMMIT;
SELECT count(*) FROM logs;

-- 2. TRUNCATE of several tables, TABLE keyword
CREATE TABLE t_a (x int);
CREATE TABLE t_b (x int);
INSERT INTO t_a VALUES (1);
INSERT INTO t_b VALUES (1);
TRUNCATE TABLE t_a, t_b;
BEGIN;
SET LOCAL migsafe.approve = 'public.t_a';
TRUNCATE TABLE t_a, t_b;
ROLLBACK;
SELECT (SELECT count(*) FROM t_a) AS a, (SELECT count(*) FROM t_b) AS b;

-- 3. TRUNCATE ... CASCADE reaches referencing tables, which need their own
-- approval
CREATE TABLE customers (id int PRIMARY KEY);
CREATE TABLE invoices (id int, customer_id int REFERENCES customers);
INSERT INTO customers VALUES (1);
INSERT INTO invoices VALUES (1, 1);
TRUNCATE customers CASCADE;
BEGIN;
SET LOCAL migsafe.approve = 'public.customers';
TRUNCATE customers CASCADE;
ROLLBACK;
SELECT (SELECT count(*) FROM customers) AS c, (SELECT count(*) FROM invoices) AS i;
BEGIN;
SET LOCAL migsafe.approve = 'public.customers, public.invoices';
TRUNCATE customers CASCADE;
COMMIT;
SELECT (SELECT count(*) FROM customers) AS c, (SELECT count(*) FROM invoices) AS i;

-- 4. TRUNCATE of a partitioned table
CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events
	FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events
	FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO events VALUES (1, '2025-05-01'), (2, '2026-05-01');
TRUNCATE events;
SELECT count(*) FROM events;
-- one partition only
TRUNCATE events_2025;
BEGIN;
SET LOCAL migsafe.approve = 'public.events_2025';
TRUNCATE events_2025;
COMMIT;
BEGIN;
SET LOCAL migsafe.approve = 'public.events';
TRUNCATE events;
COMMIT;
SELECT count(*) FROM events;

-- 5. TRUNCATE ONLY of an inheritance parent leaves the children alone;
-- without ONLY the children count too
CREATE TABLE hist (id int);
CREATE TABLE hist_old () INHERITS (hist);
INSERT INTO hist VALUES (1);
INSERT INTO hist_old VALUES (2);
TRUNCATE hist;
BEGIN;
SET LOCAL migsafe.approve = 'public.hist';
TRUNCATE hist;
ROLLBACK;
BEGIN;
SET LOCAL migsafe.approve = 'public.hist';
TRUNCATE ONLY hist;
COMMIT;
SELECT count(*) FROM hist_old;

-- 6. an empty table truncates freely
CREATE TABLE empty_t (x int);
TRUNCATE empty_t;

-- 7. RESTART IDENTITY resets the sequences, whose values are data even
-- when the table is empty; an approval of the table covers them
CREATE TABLE numbered (id int GENERATED ALWAYS AS IDENTITY, v int);
INSERT INTO numbered (v) SELECT generate_series(1, 10);
DELETE FROM numbered;
TRUNCATE numbered RESTART IDENTITY;
SELECT last_value FROM numbered_id_seq;
TRUNCATE numbered;
BEGIN;
SET LOCAL migsafe.approve = 'public.numbered';
TRUNCATE numbered RESTART IDENTITY;
COMMIT;
SELECT last_value, is_called FROM numbered_id_seq;
