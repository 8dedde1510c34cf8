/*-------------------------------------------------------------------------
 *
 * undo.c
 *	  migsafe.undo(): restore every kept snapshot of a migration, or of a
 *	  period, in one call.
 *
 * After a bad deploy a DBA runs the migration tool's own down migration,
 * then one migsafe.undo(): the snapshots the deploy's migration took (the
 * audit log ties a transaction to the tool's step, audit.c) are restored
 * newest first, each by migsafe_restore_snapshot(), so into what the down
 * migration re-created where it did (refill.c), or as restore() brings
 * them back otherwise.  All of it runs in the caller's transaction: one
 * refusal and nothing was changed.  Each snapshot gets an audit row of
 * its own with the command tag UNDO.
 *
 * The snapshots are found as the bootstrap superuser (the audit log is
 * not the caller's to read); each is then restored under restore's rules,
 * which check the caller may.
 *
 * Calls restore.c and internal.c.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/undo.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "migsafe.h"
#include "internal.h"
#include "restore.h"
#include "undo.h"

/* One snapshot of what is undone */
typedef struct MigsafeUndoItem
{
	int64		id;
	char	   *status;
	char	   *object_type;
	char	   *object_identity;
} MigsafeUndoItem;

/* The snapshots of a migration: kept or not, newest first */
#define MIGRATION_SQL \
	"SELECT s.id, s.status, s.object_type, s.object_identity" \
	"  FROM migsafe.snapshots s" \
	" WHERE EXISTS (SELECT FROM migsafe.audit_log a" \
	"                WHERE a.xid OPERATOR(pg_catalog.=) s.xid" \
	"                  AND (a.migration OPERATOR(pg_catalog.=) $1" \
	"                       OR (a.migration NOT LIKE 'down: %'" \
	"                           AND $1 OPERATOR(pg_catalog.=) ANY (pg_catalog.string_to_array(a.migration, ', ')))))" \
	" ORDER BY s.id DESC"

/*
 * The snapshots taken since a moment, newest first, but those of down
 * migrations and of restores: undoing them would undo the rollback.
 */
#define SINCE_SQL \
	"SELECT s.id, s.status, s.object_type, s.object_identity" \
	"  FROM migsafe.snapshots s" \
	" WHERE s.created_at OPERATOR(pg_catalog.>=) $1" \
	"   AND NOT EXISTS (SELECT FROM migsafe.audit_log a" \
	"                    WHERE a.xid OPERATOR(pg_catalog.=) s.xid" \
	"                      AND (a.migration LIKE 'down: %'" \
	"                           OR a.command_tag OPERATOR(pg_catalog.=) ANY ('{RESTORE,UNDO}'::pg_catalog.text[])))" \
	" ORDER BY s.id DESC"

/* One snapshot, for its status now */
#define ONE_SQL \
	"SELECT s.id, s.status, s.object_type, s.object_identity" \
	"  FROM migsafe.snapshots s WHERE s.id OPERATOR(pg_catalog.=) $1"

/*
 * The snapshots a query (one argument) finds, read as migsafe, in the
 * caller's memory context.
 */
static List *
find_snapshots(const char *sql, Oid argtype, Datum arg)
{
	MigsafeInternal state;
	MemoryContext caller = CurrentMemoryContext;
	List	   *volatile result = NIL;

	migsafe_internal_begin(&state);
	PG_TRY();
	{
		List	   *rows;
		ListCell   *lc;
		MemoryContext spi;

		SPI_connect();
		rows = migsafe_internal_rows(sql, 1, &argtype, &arg, 4);
		spi = MemoryContextSwitchTo(caller);
		foreach(lc, rows)
		{
			char	  **r = lfirst(lc);
			MigsafeUndoItem *item = palloc(sizeof(MigsafeUndoItem));

			item->id = pg_strtoint64(r[0]);
			item->status = pstrdup(r[1]);
			item->object_type = pstrdup(r[2]);
			item->object_identity = pstrdup(r[3]);
			result = lappend(result, item);
		}
		MemoryContextSwitchTo(spi);
		SPI_finish();
	}
	PG_CATCH();
	{
		migsafe_internal_abort(&state);
		PG_RE_THROW();
	}
	PG_END_TRY();
	migsafe_internal_end(&state);
	return result;
}

/* The kept ones among items */
static List *
kept_only(List *items)
{
	List	   *kept = NIL;
	ListCell   *lc;

	foreach(lc, items)
	{
		MigsafeUndoItem *item = lfirst(lc);

		if (strcmp(item->status, "kept") == 0)
			kept = lappend(kept, item);
	}
	return kept;
}

/*
 * undo_all
 *
 * Restore the snapshots (newest first) and return a row per snapshot
 * restored: (snapshot_id, object_type, object_identity, restored).  A
 * snapshot restored meanwhile by an earlier one (a partition with its
 * partitioned table) is skipped.  why goes into each audit row.
 */
static void
undo_all(FunctionCallInfo fcinfo, List *items, const char *why)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	foreach(lc, items)
	{
		MigsafeUndoItem *item = lfirst(lc);
		List	   *now = find_snapshots(ONE_SQL, INT8OID, Int64GetDatum(item->id));
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		if (now == NIL ||
			strcmp(((MigsafeUndoItem *) linitial(now))->status, "kept") != 0)
			continue;
		values[3] = Int64GetDatum(migsafe_restore_snapshot(item->id, "UNDO", why));
		values[0] = Int64GetDatum(item->id);
		values[1] = CStringGetTextDatum(item->object_type);
		values[2] = CStringGetTextDatum(item->object_identity);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

PG_FUNCTION_INFO_V1(migsafe_undo_migration);

/*
 * migsafe_undo_migration
 *
 * SQL function migsafe.undo(migration text): restore every kept snapshot
 * of the transactions the audit log ties to that step of a migration
 * tool ("shop.0002_remove_item_note" for Django, the file's name for
 * node-pg-migrate), newest first, all or nothing.  Returns a row per
 * snapshot restored.  Raises an error when there is none to restore.
 */
Datum
migsafe_undo_migration(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	List	   *all = find_snapshots(MIGRATION_SQL, TEXTOID, PG_GETARG_DATUM(0));
	List	   *kept = kept_only(all);

	if (all == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("migsafe keeps no snapshot of migration \"%s\"", name),
				 errhint("Name the migration as column \"migration\" of migsafe.audit_log does; SELECT * FROM migsafe.report() lists them.")));
	if (kept == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("every snapshot of migration \"%s\" was restored or purged already", name),
				 errdetail_plural("Its %d snapshot is no longer kept.",
								  "Its %d snapshots are no longer kept.",
								  list_length(all), list_length(all))));
	undo_all(fcinfo, kept, psprintf("Undo of migration %s.", name));
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(migsafe_undo_since);

/*
 * migsafe_undo_since
 *
 * SQL function migsafe.undo(since timestamptz): the same for every kept
 * snapshot taken since that moment, but those taken by down migrations
 * and restores themselves.
 */
Datum
migsafe_undo_since(PG_FUNCTION_ARGS)
{
	char	   *since = pstrdup(timestamptz_to_str(PG_GETARG_TIMESTAMPTZ(0)));
	List	   *kept = kept_only(find_snapshots(SINCE_SQL, TIMESTAMPTZOID,
												PG_GETARG_DATUM(0)));

	if (kept == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("migsafe keeps no snapshot taken since %s", since),
				 errhint("SELECT * FROM migsafe.report(...) lists what changed and what was kept.")));
	undo_all(fcinfo, kept, psprintf("Undo of the changes since %s.", since));
	return (Datum) 0;
}
