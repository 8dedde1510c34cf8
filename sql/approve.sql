-- migsafe.approve and migsafe.exempt: syntax, checked at SET time.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS migsafe;
RESET client_min_messages;

-- accepted forms
SET migsafe.approve = '*';
SET migsafe.approve = 'public.*';
SET migsafe.approve = 'public.orders';
SET migsafe.approve = 'public.orders.note';
SET migsafe.approve = '"My Schema"."Order ""Lines""".qty, public.*';
SET migsafe.approve = 'DATABASE victim, database "Other DB"';
SET migsafe.approve = '  public.a ,public.b  ';
SET migsafe.approve = '';
SET migsafe.approve TO 'public.a', 'public.b';
SHOW migsafe.approve;
RESET migsafe.approve;

-- refused forms
SET migsafe.approve = 'orders';
SET migsafe.approve = 'public.';
SET migsafe.approve = 'public.orders.note.extra';
SET migsafe.approve = 'public."unterminated';
SET migsafe.approve = 'public.""';
SET migsafe.approve = '*.orders';
SET migsafe.approve = 'public.*.note';
SET migsafe.approve = 'public.a public.b';
SET migsafe.approve = 'public.a,,public.b';
SET migsafe.approve = 'DATABASE';
SET migsafe.exempt = 'staging';
SET migsafe.exempt_roles = 'etl,"unterminated';
-- a refused value leaves the setting as it was
SHOW migsafe.approve;

-- unquoted names are folded to lower case, quoted ones are not
CREATE TABLE "CamelCase" (x int);
INSERT INTO "CamelCase" VALUES (1);
BEGIN;
SET LOCAL migsafe.approve = 'public.CamelCase';
DROP TABLE "CamelCase";
ROLLBACK;
BEGIN;
SET LOCAL migsafe.approve = 'public."CamelCase"';
DROP TABLE "CamelCase";
COMMIT;

-- migsafe.reason is free text for any role
SET migsafe.reason = 'JIRA-1234: drop legacy tables';
SHOW migsafe.reason;
RESET migsafe.reason;

-- settings are reserved under the migsafe prefix
SET migsafe.no_such_setting = 'x';

-- names longer than 63 bytes are cut, as PostgreSQL cuts table names
CREATE TABLE a_table_name_that_is_much_longer_than_sixty_three_bytes_allow_x (x int);
INSERT INTO a_table_name_that_is_much_longer_than_sixty_three_bytes_allow_x VALUES (1);
BEGIN;
SET LOCAL migsafe.approve = 'public.a_table_name_that_is_much_longer_than_sixty_three_bytes_allow_xyz_and_more';
DROP TABLE a_table_name_that_is_much_longer_than_sixty_three_bytes_allow_x;
COMMIT;
