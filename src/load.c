/*-------------------------------------------------------------------------
 *
 * load.c
 *	  Loading a dump's audit rows and snapshot registry rows back into
 *	  migsafe.audit_log and migsafe.snapshots (pg_restore, psql).
 *
 * Both tables are extension configuration tables: pg_dump writes their
 * rows as COPY (or INSERT) statements, and a restore loads them after
 * CREATE EXTENSION made the tables afresh.  Their triggers refuse every
 * write that migsafe does not make; they let such a row in only when
 * migsafe_load_allowed() says so:
 *
 * - the statement inserts (COPY FROM or INSERT; never UPDATE, DELETE or
 *	 TRUNCATE, so no row already there can be changed or removed by hand);
 * - the current role is a superuser (no other role has privileges on the
 *	 tables anyway: this is about what a superuser may do without leaving
 *	 a trace);
 * - session_replication_role is "replica", which only a superuser may set,
 *	 and which says "these rows were made elsewhere" as it does for
 *	 replicated rows;
 * - it is not a logical replication apply worker (which runs as replica
 *	 too): a subscription never writes into a subscriber's audit log or
 *	 registry.
 *
 * Each transaction that loads rows leaves an audit row of its own per
 * table (LOAD, written with its first row, by the trigger's caller):
 * forged rows cannot be slipped in without one.  A loaded row keeps its
 * id.  One already there with the same id and the same origin (time,
 * transaction, backend, command) is the same row loaded twice and is
 * skipped; another audit row in its way (one the restore itself wrote for
 * its own CREATE TABLE, which took ids from the new identity sequence)
 * moves to the next id, and again should that id be a later loaded row's
 * (each row's check sees the rows moved for the rows before it).  The
 * sequences are advanced past every loaded id, so that rows written later
 * never collide with loaded ones; pg_dump does not dump them (setting
 * them back to the dump's value would).  A snapshot row in the way of
 * another is a conflict: the restore fails for that table.
 *
 * XXX A superuser loading rows of their own making can thus give an
 * existing audit row another id (never other contents); the LOAD row
 * records that it happened.  And an audit row the audit worker inserts
 * concurrently, not yet committed, with the id a loaded row needs makes
 * the load wait and then fail on the primary key: restore into a database
 * nobody else uses.
 *
 * Called from the tables' trigger functions (audit.c, storage.c); calls
 * internal.c only.  Runs inside the trigger, connected to SPI here.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/load.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "replication/logicalworker.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "migsafe.h"
#include "internal.h"
#include "load.h"

/*
 * The audit row with this id, compared on what makes it that row: its
 * origin.  repeat_count and last_ts are left out (a blocked row counts
 * later attempts), and so is everything derived.
 */
#define AUDIT_SAME_SQL \
	"SELECT a.ts IS NOT DISTINCT FROM r.ts" \
	" AND a.vxid OPERATOR(pg_catalog.=) r.vxid" \
	" AND a.backend_pid OPERATOR(pg_catalog.=) r.backend_pid" \
	" AND a.command_tag OPERATOR(pg_catalog.=) r.command_tag" \
	" AND a.scope OPERATOR(pg_catalog.=) r.scope" \
	" AND a.object_identity IS NOT DISTINCT FROM r.object_identity" \
	" FROM migsafe.audit_log a, (SELECT ($2::migsafe.audit_log).*) r" \
	" WHERE a.id OPERATOR(pg_catalog.=) $1"

/* Move the audit row with id $1 to the next id, and its snapshot's link */
#define AUDIT_MOVE_SQL \
	"WITH moved AS (UPDATE migsafe.audit_log SET id = DEFAULT" \
	" WHERE id OPERATOR(pg_catalog.=) $1 RETURNING id)" \
	" UPDATE migsafe.snapshots s SET audit_id = moved.id FROM moved" \
	" WHERE s.audit_id OPERATOR(pg_catalog.=) $1"

/* The snapshot row with this id: the same snapshot? */
#define SNAPSHOT_SAME_SQL \
	"SELECT s.created_at IS NOT DISTINCT FROM r.created_at" \
	" AND s.xid IS NOT DISTINCT FROM r.xid" \
	" AND s.object_identity OPERATOR(pg_catalog.=) r.object_identity" \
	" AND s.operation OPERATOR(pg_catalog.=) r.operation" \
	" FROM migsafe.snapshots s, (SELECT ($2::migsafe.snapshots).*) r" \
	" WHERE s.id OPERATOR(pg_catalog.=) $1"

/*
 * The statement that keeps the row type of a loaded snapshot's kept
 * storage (a TRUNCATE's, or a DROP's with kept_storage) from PUBLIC, as
 * snapshot.c did when it kept it: pg_dump does not dump a row type's
 * privileges.  No row when the snapshot moved a table, or its storage is
 * not there.
 */
#define SEAL_SQL \
	"SELECT pg_catalog.format('REVOKE USAGE ON TYPE %s FROM PUBLIC'," \
	"                         pg_catalog.to_regtype(r.storage))" \
	" FROM (SELECT ($1::migsafe.snapshots).*) r" \
	" WHERE r.method OPERATOR(pg_catalog.=) 'moved'" \
	"   AND (r.operation OPERATOR(pg_catalog.<>) 'drop'" \
	"        OR r.definition OPERATOR(pg_catalog.->>) 'kept_storage' OPERATOR(pg_catalog.=) 'true')" \
	"   AND pg_catalog.to_regtype(r.storage) IS NOT NULL"

/* Advance a sequence past a loaded id (never back) */
#define ADVANCE_SQL \
	"SELECT pg_catalog.setval(q.q, $1) FROM pg_catalog.pg_get_serial_sequence(" \
	"$2, 'id') q(q) WHERE COALESCE(pg_catalog.pg_sequence_last_value(q.q), 0)" \
	" OPERATOR(pg_catalog.<) $1"

/* The transaction that loaded a row last, per table */
static LocalTransactionId audit_lxid = InvalidLocalTransactionId;
static LocalTransactionId snapshots_lxid = InvalidLocalTransactionId;

/*
 * Whether this is the first row the current transaction loads (and note
 * it).  Per transaction, not per statement: the rows migsafe moves and
 * writes in between advance the command counter.
 */
static bool
first_of_transaction(LocalTransactionId *lxid)
{
	if (*lxid == migsafe_my_lxid())
		return false;
	*lxid = migsafe_my_lxid();
	return true;
}

/*
 * migsafe_load_allowed
 *
 * Whether the trigger event is a restore loading a row into migsafe's
 * tables (see the file header for the rule and why).
 */
bool
migsafe_load_allowed(TriggerData *trigdata)
{
	return TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) &&
		TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) &&
		SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA &&
		!IsLogicalWorker() &&
		superuser();
}

/*
 * Compare the loaded row with the one holding its id (SPI connected):
 * 1 the same row, 0 another row, -1 none.
 *
 * Not read-only: the query must see what this transaction wrote since the
 * loading statement began.  A COPY fires this trigger for every row under
 * the one snapshot it started with, so a read-only query (which uses that
 * snapshot) would miss a row moved out of the way for an earlier loaded
 * row, or the LOAD row written with the first one; when that row sits on
 * the id of a later loaded row, the insert would then fail on the primary
 * key instead of moving it.  A non-read-only query increments the command
 * counter and takes a snapshot that sees them.
 */
static int
same_row(const char *sql, TriggerData *trigdata, int64 id)
{
	Relation	rel = trigdata->tg_relation;
	Oid			argtypes[2] = {INT8OID, rel->rd_rel->reltype};
	Datum		values[2];
	int			ret;
	bool		isnull;
	Datum		same;

	values[0] = Int64GetDatum(id);
	values[1] = heap_copy_tuple_as_datum(trigdata->tg_trigtuple,
										 RelationGetDescr(rel));
	ret = SPI_execute_with_args(sql, 2, argtypes, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args returned %s",
			 SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return -1;
	same = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
						 &isnull);
	return !isnull && DatumGetBool(same) ? 1 : 0;
}

/* Advance the table's id sequence past id (SPI connected) */
static void
advance_sequence(const char *table, int64 id)
{
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	int			ret;

	values[0] = Int64GetDatum(id);
	values[1] = CStringGetTextDatum(table);
	ret = SPI_execute_with_args(ADVANCE_SQL, 2, argtypes, values, NULL,
								false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args returned %s",
			 SPI_result_code_string(ret));
}

/*
 * Revoke USAGE on the row type of the loaded snapshot's kept storage from
 * PUBLIC (see SEAL_SQL), in an internal section (SPI connected).
 */
static void
seal_kept_rowtype(TriggerData *trigdata)
{
	Relation	rel = trigdata->tg_relation;
	Oid			argtypes[1] = {rel->rd_rel->reltype};
	Datum		values[1];
	char	   *revoke;
	MigsafeInternal state;

	values[0] = heap_copy_tuple_as_datum(trigdata->tg_trigtuple,
										 RelationGetDescr(rel));
	if (SPI_execute_with_args(SEAL_SQL, 1, argtypes, values, NULL, true,
							  1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the loaded snapshot's storage");
	if (SPI_processed == 0)
		return;
	revoke = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	migsafe_internal_begin(&state);
	PG_TRY();
	{
		migsafe_internal_run(revoke);
	}
	PG_CATCH();
	{
		migsafe_internal_abort(&state);
		PG_RE_THROW();
	}
	PG_END_TRY();
	migsafe_internal_end(&state);
}

/* The id column (the first) of the loaded row */
static int64
loaded_id(TriggerData *trigdata)
{
	bool		isnull;
	Datum		id;

	id = heap_getattr(trigdata->tg_trigtuple, 1,
					  RelationGetDescr(trigdata->tg_relation), &isnull);
	if (isnull)
		elog(ERROR, "loaded row has no id");
	return DatumGetInt64(id);
}

/*
 * migsafe_load_audit_row
 *
 * A row a restore loads into migsafe.audit_log (migsafe_load_allowed()
 * said yes): returns the tuple to insert, or NULL to skip the row, which
 * is already there.  An audit row of another origin holding the id moves
 * to the next id.  *first is set when the row is the transaction's first.
 * Errors propagate.
 */
HeapTuple
migsafe_load_audit_row(TriggerData *trigdata, bool *first)
{
	int64		id = loaded_id(trigdata);
	MigsafeLogWriter state;
	volatile int same;

	*first = first_of_transaction(&audit_lxid);
	SPI_connect();
	migsafe_internal_log_begin(&state);
	PG_TRY();
	{
		same = same_row(AUDIT_SAME_SQL, trigdata, id);
		if (same == 0)
		{
			Oid			argtypes[1] = {INT8OID};
			Datum		values[1] = {Int64GetDatum(id)};
			int			ret;

			ret = SPI_execute_with_args(AUDIT_MOVE_SQL, 1, argtypes, values,
										NULL, false, 0);
			if (ret != SPI_OK_UPDATE)
				elog(ERROR, "SPI_execute_with_args returned %s",
					 SPI_result_code_string(ret));
		}
		if (same != 1)
			advance_sequence("migsafe.audit_log", id);
	}
	PG_FINALLY();
	{
		migsafe_internal_log_end(&state);
	}
	PG_END_TRY();
	SPI_finish();
	return same == 1 ? NULL : trigdata->tg_trigtuple;
}

/*
 * migsafe_load_snapshot_row
 *
 * A row a restore loads into migsafe.snapshots (migsafe_load_allowed()
 * said yes): returns the tuple to insert, or NULL when that snapshot is
 * registered already.  Another snapshot with its id is a conflict: its
 * storage schema is named after the id.  *first as for audit rows.
 */
HeapTuple
migsafe_load_snapshot_row(TriggerData *trigdata, bool *first)
{
	int64		id = loaded_id(trigdata);
	MigsafeLogWriter state;
	volatile int same;

	*first = first_of_transaction(&snapshots_lxid);
	SPI_connect();
	migsafe_internal_log_begin(&state);
	PG_TRY();
	{
		same = same_row(SNAPSHOT_SAME_SQL, trigdata, id);
		if (same == 0)
			ereport(ERROR,
					(errcode(ERRCODE_MIGSAFE_RESTORE_CONFLICT),
					 errmsg("snapshot %lld of the dump is another snapshot in this database",
							(long long) id),
					 errdetail("Table \"migsafe.snapshots\" already has a row with id %lld for another object or time.",
							   (long long) id),
					 errhint("Restore the dump into a database whose migsafe has no snapshots of its own.")));
		if (same != 1)
		{
			advance_sequence("migsafe.snapshots", id);
			seal_kept_rowtype(trigdata);
		}
	}
	PG_FINALLY();
	{
		migsafe_internal_log_end(&state);
	}
	PG_END_TRY();
	SPI_finish();
	return same == 1 ? NULL : trigdata->tg_trigtuple;
}
