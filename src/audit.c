/*-------------------------------------------------------------------------
 *
 * audit.c
 *	  Rows of migsafe.audit_log: building them, writing them in the
 *	  change's transaction or through the queue, keeping the table
 *	  append-only, and tying rows to the migration tool that ran them.
 *
 * Every row is built once as JSON text, the form the server log line, the
 * queue and the INSERT (jsonb_populate_record) all take.  Rows of changes
 * that ran are inserted by the ProcessUtility hook after the change, in
 * its transaction, so a change that rolls back leaves no row.  Rows of
 * blocked changes go through the queue of worker.c, so that they outlive
 * the abort.  Only code in this file sets audit_writing, which the
 * append-only trigger checks.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/audit.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "migsafe.h"
#include "audit.h"
#include "guard.h"
#include "worker.h"

/* Statement text kept in a queued row (a queue slot is 4 kB) */
#define MIGSAFE_QUEUE_STMT_MAX	1500

/* The INSERT of audit rows given as a JSON array ($1) */
#define INSERT_SQL \
	"INSERT INTO migsafe.audit_log (ts, xid, vxid, database, session_role," \
	" effective_role, client_addr, application_name, backend_pid," \
	" command_tag, object_type, object_identity, statement, nested," \
	" scope, risk, decision, detail, approval, approved_by, reason," \
	" wal_lsn, snapshot_id)" \
	" SELECT r.ts, r.xid, r.vxid, r.database, r.session_role," \
	" r.effective_role, r.client_addr, r.application_name, r.backend_pid," \
	" r.command_tag, r.object_type, r.object_identity, r.statement," \
	" r.nested, r.scope, r.risk, r.decision, r.detail, r.approval," \
	" r.approved_by, r.reason, r.wal_lsn, r.snapshot_id" \
	" FROM pg_catalog.jsonb_populate_recordset(NULL::migsafe.audit_log," \
	" pg_catalog.jsonb_in($1::pg_catalog.cstring)) r"

/*
 * The same for rows that took snapshots: each new snapshot is linked back
 * to its row (the first one naming it: an owned sequence's row names its
 * table's snapshot too).  Only changes that ran take snapshots, so the queue's
 * writers never use it (and never lock migsafe.snapshots).
 */
#define INSERT_LINK_SQL \
	"WITH ins AS (" INSERT_SQL \
	" RETURNING id, snapshot_id, command_tag)" \
	" UPDATE migsafe.snapshots s SET audit_id = i.id" \
	" FROM (SELECT snapshot_id, pg_catalog.min(id) AS id FROM ins" \
	" WHERE command_tag OPERATOR(pg_catalog.<>) ALL" \
	" ('{RESTORE,PURGE SNAPSHOT,EVICT SNAPSHOT}'::pg_catalog.text[])" \
	" GROUP BY snapshot_id) i" \
	" WHERE s.id OPERATOR(pg_catalog.=) i.snapshot_id" \
	" AND s.audit_id IS NULL"

static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr insert_link_plan = NULL;

/* Set while migsafe itself writes migsafe.audit_log */
static bool audit_writing = false;

/* This transaction wrote audit rows: tie them to a migration at commit */
static bool audit_rows_this_xact = false;

/* Append "key": value (a JSON string, or null) to buf */
static void
json_field(StringInfo buf, const char *key, const char *value)
{
	if (buf->len > 1)
		appendStringInfoChar(buf, ',');
	escape_json(buf, key);
	appendStringInfoChar(buf, ':');
	if (value == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, value);
}

/*
 * Text cut to at most max bytes (on a character boundary), so that a row
 * of a blocked change fits a queue slot whatever a role puts in its
 * settings.
 */
static const char *
clip(const char *text, int max)
{
	int			len;

	if (text == NULL || (len = strlen(text)) <= max)
		return text;

	return psprintf("%.*s...", pg_mbcliplen(text, len, max), text);
}

/* The client address as text, or NULL for a local connection */
static const char *
client_addr(void)
{
	LOCAL_FCINFO(fcinfo, 0);
	Datum		d;

	if (MyProcPort == NULL)
		return NULL;
	InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
	d = inet_client_addr(fcinfo);
	if (fcinfo->isnull)
		return NULL;			/* a Unix-domain socket */
	return DatumGetCString(DirectFunctionCall1(inet_out, d));
}

/*
 * migsafe_audit_json
 *
 * Serialize one row, with the session's facts (time, transaction,
 * database, roles, client, approval and reason in force).  A row for the
 * queue keeps at most MIGSAFE_QUEUE_STMT_MAX bytes of the statement.
 * Allocated in the current memory context.
 */
char	   *
migsafe_audit_json(MigsafeAuditRow *row, bool for_queue)
{
	StringInfoData buf;
	FullTransactionId fxid = GetTopFullTransactionIdIfAny();
	char		num[64];
	const char *stmt = row->statement;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	json_field(&buf, "ts", timestamptz_to_str(GetCurrentTimestamp()));
	if (FullTransactionIdIsValid(fxid))
	{
		snprintf(num, sizeof(num), UINT64_FORMAT, U64FromFullTransactionId(fxid));
		json_field(&buf, "xid", num);
	}
	snprintf(num, sizeof(num), "%d/%u", MyProc->backendId, MyProc->lxid);
	json_field(&buf, "vxid", num);
	json_field(&buf, "database", get_database_name(MyDatabaseId));
	json_field(&buf, "session_role", GetUserNameFromId(GetSessionUserId(), true));
	json_field(&buf, "effective_role", GetUserNameFromId(GetUserId(), true));
	json_field(&buf, "client_addr", client_addr());
	json_field(&buf, "application_name",
			   application_name && application_name[0] ? application_name : NULL);
	snprintf(num, sizeof(num), "%d", MyProcPid);
	json_field(&buf, "backend_pid", num);
	json_field(&buf, "command_tag", row->command_tag);
	json_field(&buf, "object_type", row->object_type);
	json_field(&buf, "object_identity", row->object_identity);
	if (for_queue)
		stmt = clip(stmt, MIGSAFE_QUEUE_STMT_MAX);
	json_field(&buf, "statement", stmt);
	json_field(&buf, "nested", row->nested ? "true" : "false");
	json_field(&buf, "scope", row->object_scope ? "object" : "command");
	json_field(&buf, "risk", row->destructive ? "destructive" : "schema");
	json_field(&buf, "decision", row->decision);
	json_field(&buf, "detail", for_queue ? clip(row->detail, 500) : row->detail);
	json_field(&buf, "approval",
			   migsafe_approve && migsafe_approve[0] ?
			   (for_queue ? clip(migsafe_approve, 500) : migsafe_approve) : NULL);
	json_field(&buf, "approved_by",
			   for_queue ? clip(row->approved_by, 200) : row->approved_by);
	json_field(&buf, "reason",
			   migsafe_reason && migsafe_reason[0] ?
			   (for_queue ? clip(migsafe_reason, 500) : migsafe_reason) : NULL);
	if (row->wal_lsn != InvalidXLogRecPtr)
	{
		snprintf(num, sizeof(num), "%X/%X", LSN_FORMAT_ARGS(row->wal_lsn));
		json_field(&buf, "wal_lsn", num);
	}
	if (row->snapshot_id > 0)
	{
		snprintf(num, sizeof(num), INT64_FORMAT, row->snapshot_id);
		json_field(&buf, "snapshot_id", num);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * Write migsafe.audit_log as the bootstrap superuser, whoever runs the
 * change (no role has privileges on the table), with the append-only
 * trigger told that migsafe is writing.  Undone by back_from_owner.
 */
static void
as_owner(Oid *save_userid, int *save_sec_context)
{
	GetUserIdAndSecContext(save_userid, save_sec_context);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID,
						   *save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	audit_writing = true;
}

static void
back_from_owner(Oid save_userid, int save_sec_context)
{
	audit_writing = false;
	SetUserIdAndSecContext(save_userid, save_sec_context);
}

/* Whether migsafe is writing its audit log right now (for triggers) */
bool
migsafe_audit_writing(void)
{
	return audit_writing;
}

/* One server-log line per row, when migsafe.log_audit is on */
static void
log_row(const char *json)
{
	if (migsafe_log_audit)
		ereport(LOG,
				(errmsg_internal("migsafe audit: %s", json),
				 errhidestmt(true), errhidecontext(true)));
}

/*
 * migsafe_audit_insert_json
 *
 * Insert rows given as a JSON array of row objects into migsafe.audit_log,
 * in one statement, in the current transaction (with an active snapshot).
 * Used by the ProcessUtility hook and by the queue's writers.  Errors
 * propagate.
 */
void
migsafe_audit_insert_json(const char *rows, bool link)
{
	SPIPlanPtr *planp = link ? &insert_link_plan : &insert_plan;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	int			ret;
	Oid			save_userid;
	int			save_sec_context;

	values[0] = CStringGetTextDatum(rows);
	SPI_connect();
	as_owner(&save_userid, &save_sec_context);
	PG_TRY();
	{
		/*
		 * Prepared once per backend (parsing and planning it for every row
		 * cost more than the row); the plan cache re-plans it if the
		 * extension is dropped and created again.
		 */
		if (*planp == NULL)
		{
			SPIPlanPtr	plan = SPI_prepare(link ? INSERT_LINK_SQL : INSERT_SQL,
										   1, argtypes);

			if (plan == NULL)
				elog(ERROR, "SPI_prepare failed: %s",
					 SPI_result_code_string(SPI_result));
			if (SPI_keepplan(plan) != 0)
				elog(ERROR, "SPI_keepplan failed");
			*planp = plan;
		}
		ret = SPI_execute_plan(*planp, values, NULL, false, 0);
		if (ret != (link ? SPI_OK_UPDATE : SPI_OK_INSERT))
			elog(ERROR, "SPI_execute_plan returned %s",
				 SPI_result_code_string(ret));
	}
	PG_FINALLY();
	{
		back_from_owner(save_userid, save_sec_context);
	}
	PG_END_TRY();
	SPI_finish();
}

/*
 * migsafe_audit_write
 *
 * Write rows (a List of MigsafeAuditRow) in the current transaction: the
 * change they describe ran.  Called after the change, so a change that
 * fails leaves none.
 */
void
migsafe_audit_write(List *rows)
{
	ListCell   *lc;
	bool		pushed = false;
	bool		link = false;
	StringInfoData array;

	if (rows == NIL)
		return;

	/*
	 * A schema change allowed in a read-only transaction (ALTER SYSTEM,
	 * CLUSTER...) cannot insert: its rows go through the queue.  On a standby
	 * nothing can be written: they go to the server log.
	 */
	if (RecoveryInProgress())
	{
		foreach(lc, rows)
			ereport(LOG,
					(errmsg_internal("migsafe audit: %s",
									 migsafe_audit_json(lfirst(lc), false)),
					 errhidestmt(true)));
		return;
	}
	if (XactReadOnly)
	{
		migsafe_audit_queue(MyDatabaseId, rows);
		return;
	}
	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed = true;
	}
	initStringInfo(&array);
	appendStringInfoChar(&array, '[');
	foreach(lc, rows)
	{
		char	   *json = migsafe_audit_json(lfirst(lc), false);

		if (((MigsafeAuditRow *) lfirst(lc))->snapshot_id > 0)
			link = true;

		if (array.len > 1)
			appendStringInfoChar(&array, ',');
		appendStringInfoString(&array, json);
		log_row(json);
	}
	appendStringInfoChar(&array, ']');
	migsafe_audit_insert_json(array.data, link);
	if (pushed)
		PopActiveSnapshot();
	audit_rows_this_xact = true;
}

/*
 * migsafe_audit_queue
 *
 * Hand rows of a blocked change to the queue, to be written by this
 * database's writer outside the aborting transaction.  Never errors.
 */
void
migsafe_audit_queue(Oid dbid, List *rows)
{
	ListCell   *lc;

	foreach(lc, rows)
	{
		char	   *json = migsafe_audit_json(lfirst(lc), true);

		(void) migsafe_worker_enqueue(dbid, json);
		log_row(json);
	}
}

PG_FUNCTION_INFO_V1(migsafe_audit_log_guard);

/*
 * migsafe_audit_log_guard
 *
 * Trigger function of migsafe.audit_log (BEFORE INSERT OR UPDATE OR
 * DELETE, FOR EACH ROW, ENABLE ALWAYS): only migsafe writes the table.
 * The refused attempt is itself queued as a blocked audit row.
 */
Datum
migsafe_audit_log_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *tag;
	MigsafeAuditRow row = {0};

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "migsafe_audit_log_guard: not called by trigger manager");

	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
	{
		/* a TRUNCATE the guard approved (ProcessUtility decided it) */
		if (migsafe_guard_truncate_approved(RelationGetRelid(trigdata->tg_relation)))
			return PointerGetDatum(NULL);
	}
	else if (audit_writing)
	{
		if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
			return PointerGetDatum(trigdata->tg_newtuple);
		return PointerGetDatum(trigdata->tg_trigtuple);
	}

	tag = TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ? "INSERT" :
		TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? "UPDATE" :
		TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event) ? "TRUNCATE" : "DELETE";
	row.command_tag = tag;
	row.object_type = "table";
	row.object_identity = "migsafe.audit_log";
	row.statement = debug_query_string;
	row.object_scope = true;
	row.destructive = true;
	row.decision = "blocked";
	row.wal_lsn = InvalidXLogRecPtr;
	migsafe_audit_queue(MyDatabaseId, list_make1(&row));

	ereport(ERROR,
			(errcode(ERRCODE_MIGSAFE_AUDIT_APPEND_ONLY),
			 errmsg("%s on table \"migsafe.audit_log\" is not allowed", tag),
			 errdetail("The migsafe audit log is append-only; only migsafe writes it."),
			 errhint("Old rows can only go with an approved TRUNCATE or DROP EXTENSION migsafe.")));
	PG_RETURN_NULL();			/* keep compiler quiet */
}

/* ----------------------------------------------------------------
 * Tying rows to the migration tool of the transaction
 * ----------------------------------------------------------------
 */

/* Bookkeeping tables of migration tools, and the column naming the step */
typedef struct MigsafeToolTable
{
	const char *tool;
	const char *nspname;		/* NULL: search_path */
	const char *relname;
	const char *column;
	const char *column2;		/* prefixed with a dot, if set */
} MigsafeToolTable;

static const MigsafeToolTable tool_tables[] = {
	{"django", NULL, "django_migrations", "app", "name"},
	{"rails", NULL, "schema_migrations", "version", NULL},
	{"alembic", NULL, "alembic_version", "version_num", NULL},
	{"flyway", NULL, "flyway_schema_history", "version", "description"},
	{"prisma", NULL, "_prisma_migrations", "migration_name", NULL},
	{"node-pg-migrate", NULL, "pgmigrations", "name", NULL},
	{"knex", NULL, "knex_migrations", "name", NULL},
	{"sqitch", "sqitch", "changes", "change", NULL},
};

/* Text of column attname of a tuple, or NULL */
static char *
tuple_text(TupleTableSlot *slot, Relation rel, const char *attname)
{
	AttrNumber	attnum;
	bool		isnull;
	Datum		d;
	Oid			typoutput;
	bool		varlena;

	if (attname == NULL)
		return NULL;
	attnum = attnameAttNum(rel, attname, false);
	if (attnum <= 0)
		return NULL;
	d = slot_getattr(slot, attnum, &isnull);
	if (isnull)
		return NULL;
	getTypeOutputInfo(TupleDescAttr(RelationGetDescr(rel), attnum - 1)->atttypid,
					  &typoutput, &varlena);
	return OidOutputFunctionCall(typoutput, d);
}

/* Append a bookkeeping row's step ("app.name", or one column) to buf */
static void
append_step(StringInfo buf, TupleTableSlot *slot, Relation rel,
			const MigsafeToolTable *tt)
{
	char	   *a = tuple_text(slot, rel, tt->column);
	char	   *b = tuple_text(slot, rel, tt->column2);

	if (a == NULL && b == NULL)
		return;
	if (buf->len > 0)
		appendStringInfoString(buf, ", ");
	if (a != NULL && b != NULL)
		appendStringInfo(buf, "%s.%s", a, b);
	else
		appendStringInfoString(buf, a ? a : b);
}

/*
 * tool_steps
 *
 * The migrations this transaction recorded in one bookkeeping table: rows
 * it inserted (a migration applied), or, when it inserted none, rows it
 * deleted (a migration unapplied: Django, Rails, knex and node-pg-migrate
 * delete their row), as "down: name".  Rows are this transaction's when
 * their xmin (or deleting xmax) is one of its own, subtransactions
 * included; every version of the table is looked at (SnapshotAny), since
 * deleted rows are invisible to the transaction itself.
 */
static void
tool_steps(const MigsafeToolTable *tt, StringInfo steps)
{
	Oid			relid;
	Relation	rel;
	TableScanDesc scan;
	TupleTableSlot *slot;
	StringInfoData deleted;

	if (tt->nspname != NULL)
	{
		Oid			nsp = get_namespace_oid(tt->nspname, true);

		relid = OidIsValid(nsp) ? get_relname_relid(tt->relname, nsp) : InvalidOid;
	}
	else
		relid = RelnameGetRelid(tt->relname);
	if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_RELATION)
		return;

	initStringInfo(&deleted);
	rel = table_open(relid, AccessShareLock);
	scan = table_beginscan(rel, SnapshotAny, 0, NULL);
	slot = table_slot_create(rel, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		should_free;
		HeapTuple	tup = ExecFetchSlotHeapTuple(slot, false, &should_free);
		HeapTupleHeader htup = tup->t_data;
		bool		inserted = TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetRawXmin(htup));
		bool		removed = !(htup->t_infomask & HEAP_XMAX_INVALID) &&
		!HEAP_XMAX_IS_LOCKED_ONLY(htup->t_infomask) &&
		TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetUpdateXid(htup));

		if (inserted && !removed)
			append_step(steps, slot, rel, tt);
		else if (removed && !inserted &&
				 TransactionIdDidCommit(HeapTupleHeaderGetRawXmin(htup)))
			append_step(&deleted, slot, rel, tt);
		if (should_free)
			heap_freetuple(tup);
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	if (steps->len == 0 && deleted.len > 0)
		appendStringInfo(steps, "down: %s", deleted.data);
}

/*
 * tie_to_migration
 *
 * At commit of a transaction that wrote audit rows: if it also recorded
 * steps in a known migration tool's bookkeeping table, put the tool and the
 * steps on this transaction's rows.
 */
static void
tie_to_migration(void)
{
	int			i;

	for (i = 0; i < lengthof(tool_tables); i++)
	{
		StringInfoData steps;

		initStringInfo(&steps);
		tool_steps(&tool_tables[i], &steps);
		if (steps.len > 0)
		{
			Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
			Datum		values[3];
			char		xid[64];
			Oid			save_userid;
			int			save_sec_context;

			snprintf(xid, sizeof(xid), UINT64_FORMAT,
					 U64FromFullTransactionId(GetTopFullTransactionId()));
			values[0] = CStringGetTextDatum(tool_tables[i].tool);
			values[1] = CStringGetTextDatum(steps.data);
			values[2] = CStringGetTextDatum(xid);
			SPI_connect();
			as_owner(&save_userid, &save_sec_context);
			PG_TRY();
			{
				SPI_execute_with_args("UPDATE migsafe.audit_log"
									  " SET tool = $1, migration = $2"
									  " WHERE xid OPERATOR(pg_catalog.=) $3::pg_catalog.xid8"
									  " AND tool IS NULL",
									  3, argtypes, values, NULL, false, 0);
			}
			PG_FINALLY();
			{
				back_from_owner(save_userid, save_sec_context);
			}
			PG_END_TRY();
			SPI_finish();
			break;
		}
	}
}

/*
 * migsafe_audit_xact_callback
 *
 * Before commit, tie this transaction's rows to its migration; at the end,
 * forget that it wrote any.
 */
void
migsafe_audit_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			if (audit_rows_this_xact)
			{
				bool		pushed = false;

				audit_rows_this_xact = false;
				if (!ActiveSnapshotSet())
				{
					PushActiveSnapshot(GetTransactionSnapshot());
					pushed = true;
				}
				tie_to_migration();
				if (pushed)
					PopActiveSnapshot();
			}
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			audit_rows_this_xact = false;
			audit_writing = false;
			break;
		default:
			break;
	}
}
