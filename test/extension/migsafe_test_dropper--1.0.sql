/* test/extension/migsafe_test_dropper--1.0.sql */
\echo Use "CREATE EXTENSION migsafe_test_dropper" to load this file. \quit

DROP TABLE public.victim_ext;
