/*-------------------------------------------------------------------------
 *
 * audit.c
 *	  Rows of migsafe.audit_log: building them, writing them in the
 *	  change's transaction or through the queue, keeping the table
 *	  append-only, and tying rows to the migration tool that ran them.
 *
 * Rows of changes that ran are inserted by the ProcessUtility hook after
 * the change, in its transaction, so a change that rolls back leaves no
 * row: as column values, which internal.c inserts without SQL (JSON is
 * built only for the server log), or, for rows that took snapshots, as
 * JSON through the INSERT that links the snapshots to them.  Rows of
 * blocked changes go through the queue of worker.c as JSON text, so that
 * they outlive the abort.  Both forms hold the same values.  Writing
 * happens in internal.c's log-writer section, whose flag the append-only
 * trigger here checks.
 *
 * Calls command.c (names of targets), worker.c (the queue), load.c (a
 * restore loading the log), internal.c (writing) and classify.c.
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
#include "catalog/objectaddress.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "utils/acl.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/pg_lsn.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "migsafe.h"
#include "audit.h"
#include "classify.h"
#include "command.h"
#include "internal.h"
#include "load.h"
#include "worker.h"

/*
 * Bytes kept of each free-text field in a queued row (a queue slot is 4 kB),
 * at first: see migsafe_audit_json()
 */
#define MIGSAFE_QUEUE_STMT_MAX	1500
#define MIGSAFE_QUEUE_TEXT_MAX	500
#define MIGSAFE_QUEUE_NAME_MAX	200

/* This transaction wrote audit rows: tie them to a migration at commit */
static bool audit_rows_this_xact = false;

bool		migsafe_audit_xact_wrote = false;

/* Rows of a statement that dropped the audit log, as JSON (TopTransactionContext) */
static List *dropped_rows = NIL;

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

/* Text cut to max * scale bytes, or whole when scale is 0 (no limit) */
static const char *
clip_scaled(const char *text, int max, double scale)
{
	return scale > 0 ? clip(text, (int) (max * scale)) : text;
}

/*
 * build_json
 *
 * One row as JSON.  With scale > 0 (a row for the queue), each free-text
 * field (statement, detail, approval, reason, names) keeps at most its
 * budget times scale bytes, cut with "...".
 */
static char *
build_json(MigsafeAuditRow *row, double scale)
{
	StringInfoData buf;
	FullTransactionId fxid = GetTopFullTransactionIdIfAny();
	char		num[64];

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	json_field(&buf, "ts", timestamptz_to_str(GetCurrentTimestamp()));
	if (FullTransactionIdIsValid(fxid))
	{
		snprintf(num, sizeof(num), UINT64_FORMAT, U64FromFullTransactionId(fxid));
		json_field(&buf, "xid", num);
	}
	snprintf(num, sizeof(num), "%d/%u", migsafe_my_backend_id(), migsafe_my_lxid());
	json_field(&buf, "vxid", num);
	json_field(&buf, "database",
			   clip_scaled(get_database_name(MyDatabaseId), NAMEDATALEN, scale));
	json_field(&buf, "session_role",
			   clip_scaled(GetUserNameFromId(GetSessionUserId(), true),
						   NAMEDATALEN, scale));
	json_field(&buf, "effective_role",
			   clip_scaled(GetUserNameFromId(GetUserId(), true),
						   NAMEDATALEN, scale));
	json_field(&buf, "client_addr", client_addr());
	json_field(&buf, "application_name",
			   application_name && application_name[0] ?
			   clip_scaled(application_name, NAMEDATALEN, scale) : NULL);
	snprintf(num, sizeof(num), "%d", MyProcPid);
	json_field(&buf, "backend_pid", num);
	json_field(&buf, "command_tag", row->command_tag);
	json_field(&buf, "object_type", row->object_type);
	json_field(&buf, "object_identity",
			   clip_scaled(row->object_identity, MIGSAFE_QUEUE_NAME_MAX, scale));
	json_field(&buf, "statement",
			   clip_scaled(row->statement, MIGSAFE_QUEUE_STMT_MAX, scale));
	json_field(&buf, "nested", row->nested ? "true" : "false");
	json_field(&buf, "scope", row->object_scope ? "object" : "command");
	json_field(&buf, "risk", row->destructive ? "destructive" : "schema");
	json_field(&buf, "decision", row->decision);
	json_field(&buf, "detail",
			   clip_scaled(row->detail, MIGSAFE_QUEUE_TEXT_MAX, scale));
	json_field(&buf, "approval",
			   migsafe_approve && migsafe_approve[0] ?
			   clip_scaled(migsafe_approve, MIGSAFE_QUEUE_TEXT_MAX, scale) : NULL);
	json_field(&buf, "approved_by",
			   clip_scaled(row->approved_by, MIGSAFE_QUEUE_NAME_MAX, scale));
	json_field(&buf, "reason",
			   migsafe_reason && migsafe_reason[0] ?
			   clip_scaled(migsafe_reason, MIGSAFE_QUEUE_TEXT_MAX, scale) : NULL);
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
 * migsafe_audit_json
 *
 * Serialize one row, with the session's facts (time, transaction,
 * database, roles, client, approval and reason in force).  A row for the
 * queue must fit a queue slot whatever a role puts in its statement or
 * settings, escaped (a control character takes six bytes in JSON): its
 * free-text fields are cut, with "...", until it does, never dropped.
 * Allocated in the current memory context.
 */
char	   *
migsafe_audit_json(MigsafeAuditRow *row, bool for_queue)
{
	double		scale;
	char	   *json;

	if (!for_queue)
		return build_json(row, 0);
	for (scale = 1.0;; scale /= 2)
	{
		json = build_json(row, scale);
		if (strlen(json) <= MIGSAFE_QUEUE_ROW_MAX || scale < 0.001)
			return json;
		pfree(json);
	}
}

/* One server-log line per row, when migsafe.log_audit is on */
static void
log_row(const char *json)
{
	if (migsafe_log_audit)
		ereport(LOG,
				(errmsg("migsafe audit row"),
				 errdetail_log("%s", json),
				 errhidestmt(true), errhidecontext(true)));
}

/*
 * Put rows in the server log, whole, during recovery, when no audit table
 * can take them.  The WAL insert position, read before the change, means
 * nothing on a standby: it is left out.
 */
static void
log_recovery_rows(List *rows)
{
	ListCell   *lc;

	foreach(lc, rows)
	{
		MigsafeAuditRow *row = lfirst(lc);

		row->wal_lsn = InvalidXLogRecPtr;
		ereport(LOG,
				(errmsg("migsafe audit row written to the server log during recovery"),
				 errdetail_log("%s", migsafe_audit_json(row, false)),
				 errhidestmt(true), errhidecontext(true)));
	}
}

/*
 * migsafe_audit_log_dropped
 *
 * Rows (a List of MigsafeAuditRow) whose statement dropped extension
 * migsafe, and the audit log with it: kept in TopTransactionContext and
 * written to the server log when the transaction commits (see
 * migsafe_audit_pre_commit()), whatever migsafe.log_audit says; a
 * rolled-back drop leaves nothing.
 *
 * XXX: a drop rolled back to a savepoint is still logged at commit, with
 * its xid; the extension is then still there, and its log shows no drop.
 */
void
migsafe_audit_log_dropped(List *rows)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	ListCell   *lc;

	foreach(lc, rows)
		dropped_rows = lappend(dropped_rows,
							   migsafe_audit_json(lfirst(lc), false));
	MemoryContextSwitchTo(old);
}

/* A text column's value, or NULL */
static void
log_text(MigsafeLogRow *out, MigsafeLogColumn c, const char *value)
{
	out->nulls[c] = (value == NULL);
	out->values[c] = value ? CStringGetTextDatum(value) : (Datum) 0;
}

/* A name column's value (cut as namein() cuts it), or NULL */
static void
log_name(MigsafeLogRow *out, MigsafeLogColumn c, const char *value)
{
	out->nulls[c] = (value == NULL);
	out->values[c] = value ?
		DirectFunctionCall1(namein, CStringGetDatum(value)) : (Datum) 0;
}

/*
 * log_row_values
 *
 * One row as the values of the audit log's columns, with the session's
 * facts, as build_json() puts them for the queue's rows (whole, none cut):
 * both forms of a row hold the same values.
 */
static void
log_row_values(MigsafeAuditRow *row, MigsafeLogRow *out)
{
	LOCAL_FCINFO(fcinfo, 0);
	FullTransactionId fxid = GetTopFullTransactionIdIfAny();
	Datum		addr = (Datum) 0;
	bool		addr_null = true;

	out->values[MIGSAFE_LOG_TS] = TimestampTzGetDatum(GetCurrentTimestamp());
	out->nulls[MIGSAFE_LOG_TS] = false;
	out->values[MIGSAFE_LOG_XID] = FullTransactionIdGetDatum(fxid);
	out->nulls[MIGSAFE_LOG_XID] = !FullTransactionIdIsValid(fxid);
	log_text(out, MIGSAFE_LOG_VXID,
			 psprintf("%d/%u", migsafe_my_backend_id(), migsafe_my_lxid()));
	log_name(out, MIGSAFE_LOG_DATABASE, get_database_name(MyDatabaseId));
	log_name(out, MIGSAFE_LOG_SESSION_ROLE,
			 GetUserNameFromId(GetSessionUserId(), true));
	log_name(out, MIGSAFE_LOG_EFFECTIVE_ROLE,
			 GetUserNameFromId(GetUserId(), true));
	if (MyProcPort != NULL)
	{
		InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
		addr = inet_client_addr(fcinfo);
		addr_null = fcinfo->isnull; /* a Unix-domain socket */
	}
	out->values[MIGSAFE_LOG_CLIENT_ADDR] = addr;
	out->nulls[MIGSAFE_LOG_CLIENT_ADDR] = addr_null;
	log_text(out, MIGSAFE_LOG_APPLICATION_NAME,
			 application_name && application_name[0] ? application_name : NULL);
	out->values[MIGSAFE_LOG_BACKEND_PID] = Int32GetDatum(MyProcPid);
	out->nulls[MIGSAFE_LOG_BACKEND_PID] = false;
	log_text(out, MIGSAFE_LOG_COMMAND_TAG, row->command_tag);
	log_text(out, MIGSAFE_LOG_OBJECT_TYPE, row->object_type);
	log_text(out, MIGSAFE_LOG_OBJECT_IDENTITY, row->object_identity);
	log_text(out, MIGSAFE_LOG_STATEMENT, row->statement);
	out->values[MIGSAFE_LOG_NESTED] = BoolGetDatum(row->nested);
	out->nulls[MIGSAFE_LOG_NESTED] = false;
	log_text(out, MIGSAFE_LOG_SCOPE, row->object_scope ? "object" : "command");
	log_text(out, MIGSAFE_LOG_RISK, row->destructive ? "destructive" : "schema");
	log_text(out, MIGSAFE_LOG_DECISION, row->decision);
	log_text(out, MIGSAFE_LOG_DETAIL, row->detail);
	log_text(out, MIGSAFE_LOG_APPROVAL,
			 migsafe_approve && migsafe_approve[0] ? migsafe_approve : NULL);
	log_text(out, MIGSAFE_LOG_APPROVED_BY, row->approved_by);
	log_text(out, MIGSAFE_LOG_REASON,
			 migsafe_reason && migsafe_reason[0] ? migsafe_reason : NULL);
	out->values[MIGSAFE_LOG_WAL_LSN] = LSNGetDatum(row->wal_lsn);
	out->nulls[MIGSAFE_LOG_WAL_LSN] = (row->wal_lsn == InvalidXLogRecPtr);
	out->values[MIGSAFE_LOG_SNAPSHOT_ID] = Int64GetDatum(row->snapshot_id);
	out->nulls[MIGSAFE_LOG_SNAPSHOT_ID] = (row->snapshot_id <= 0);
}

/*
 * migsafe_audit_write
 *
 * Write rows (a List of MigsafeAuditRow) in the current transaction: the
 * change they describe ran.  Called after the change, so a change that
 * fails leaves none.  The rows go in as values, not through SQL (see
 * migsafe_internal_write_log()), and JSON is built only for the server
 * log; rows that took snapshots link each snapshot to its row.
 */
void
migsafe_audit_write(List *rows)
{
	ListCell   *lc;
	bool		pushed = false;
	bool		link = false;
	MigsafeLogRow *values;
	int			n = 0;

	if (rows == NIL)
		return;

	/*
	 * A schema change allowed in a read-only transaction (ALTER SYSTEM,
	 * CLUSTER...) cannot insert: its rows go through the queue.  On a standby
	 * nothing can be written: they go to the server log.
	 */
	if (RecoveryInProgress())
	{
		log_recovery_rows(rows);
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
	foreach(lc, rows)
	{
		if (((MigsafeAuditRow *) lfirst(lc))->snapshot_id > 0)
			link = true;
	}
	values = palloc(sizeof(MigsafeLogRow) * list_length(rows));
	foreach(lc, rows)
	{
		if (migsafe_log_audit)
			log_row(migsafe_audit_json(lfirst(lc), false));
		log_row_values(lfirst(lc), &values[n++]);
	}
	/* rows that took snapshots link them (see migsafe_internal_write_log) */
	migsafe_internal_write_log(values, n, link);
	if (pushed)
		PopActiveSnapshot();
	audit_rows_this_xact = true;
}

/*
 * migsafe_audit_queue
 *
 * Hand rows of a blocked change to the queue, to be written by this
 * database's writer outside the aborting transaction.  Never errors.
 *
 * The queue lives in shared memory, which a crash (any process killed,
 * the writer or the launcher included) or an immediate shutdown wipes
 * out: each row goes to the server log first, whatever migsafe.log_audit
 * says, so that a row the writer never stores is still on record, with
 * its content, and never lost silently.  All rows of the change are
 * logged before the first is queued: a backend killed while it waits for
 * room in a full queue has logged them all.
 *
 * During recovery no writer can run (a standby is read-only, and the
 * writers start once recovery is over): the rows go to the server log
 * only, whole, as migsafe_audit_write() does, rather than wait in shared
 * memory for a promotion that may never come, filling the queue so that
 * later attempts wait for room and then only warn.  A standby's rows thus
 * never reach an audit table, even after its promotion.  The check is a
 * read of shared memory during recovery and of a backend-local flag once
 * it is over, and runs only for blocked changes.
 */
void
migsafe_audit_queue(Oid dbid, List *rows)
{
	List	   *jsons = NIL;
	ListCell   *lc;

	if (RecoveryInProgress())
	{
		log_recovery_rows(rows);
		return;
	}
	foreach(lc, rows)
	{
		char	   *json = migsafe_audit_json(lfirst(lc), true);

		ereport(LOG,
				(errmsg("migsafe audit row"),
				 errdetail_log("%s", json),
				 errhidestmt(true), errhidecontext(true)));
		jsons = lappend(jsons, json);
	}
	foreach(lc, jsons)
		(void) migsafe_worker_enqueue(dbid, lfirst(lc));
}

/*
 * relation_names
 *
 * What getObjectTypeDescription() and getObjectIdentity() say of a
 * relation or one of its columns, read from its relcache entry: the
 * relation a statement just made or altered has one, while its syscache
 * row would have to be read from the catalog.  Both see the catalogs as of
 * the last CommandCounterIncrement.  False when there is no entry to read.
 */
static bool
relation_names(const ObjectAddress *addr, const char **type,
			   const char **identity)
{
	Relation	rel;
	const char *noun;
	char	   *nspname;
	char	   *name;

	if (addr->classId != RelationRelationId || addr->objectSubId < 0)
		return false;
	rel = RelationIdGetRelation(addr->objectId);
	if (rel == NULL)
		return false;
	switch (rel->rd_rel->relkind)
	{
		case RELKIND_RELATION:
		case RELKIND_PARTITIONED_TABLE:
			noun = "table";
			break;
		case RELKIND_INDEX:
		case RELKIND_PARTITIONED_INDEX:
			noun = "index";
			break;
		case RELKIND_SEQUENCE:
			noun = "sequence";
			break;
		case RELKIND_TOASTVALUE:
			noun = "toast table";
			break;
		case RELKIND_VIEW:
			noun = "view";
			break;
		case RELKIND_MATVIEW:
			noun = "materialized view";
			break;
		case RELKIND_COMPOSITE_TYPE:
			noun = "composite type";
			break;
		case RELKIND_FOREIGN_TABLE:
			noun = "foreign table";
			break;
		default:
			RelationClose(rel);
			return false;
	}
	if (addr->objectSubId > RelationGetNumberOfAttributes(rel))
	{
		RelationClose(rel);
		return false;
	}
	nspname = get_namespace_name_or_temp(RelationGetNamespace(rel));
	if (nspname == NULL)
	{
		RelationClose(rel);
		return false;
	}
	name = quote_qualified_identifier(nspname, RelationGetRelationName(rel));
	if (addr->objectSubId > 0)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel),
											  addr->objectSubId - 1);

		*type = psprintf("%s column", noun);
		*identity = psprintf("%s.%s", name,
							 quote_identifier(NameStr(att->attname)));
	}
	else
	{
		*type = noun;
		*identity = name;
	}
	RelationClose(rel);
	return true;
}

/* The type and identity of an object, as the audit row names them */
static void
object_names(const ObjectAddress *addr, const char **type,
			 const char **identity)
{
	if (relation_names(addr, type, identity))
		return;
	*type = getObjectTypeDescription(addr, true);
	*identity = getObjectIdentity(addr, true);
}

/*
 * command_object
 *
 * Type and identity of the object a command is about: for DROP and
 * TRUNCATE the names as written (the objects are gone, their rows say
 * exactly what went), otherwise the first object the command created or
 * altered, named after it ran.
 */
static void
command_object(MigsafeCommand *cmd, const char **type, const char **identity)
{
	Node	   *parsetree = cmd->parsetree;
	Oid			relid;

	*type = NULL;
	*identity = NULL;
	if (parsetree != NULL && IsA(parsetree, DropStmt))
	{
		char	   *t = pstrdup(cmd->tag + strlen("DROP "));
		char	   *p;

		for (p = t; *p; p++)
			*p = pg_ascii_tolower((unsigned char) *p);
		*type = t;
		*identity = migsafe_classify_named_objects(parsetree);
	}
	else if (parsetree != NULL && IsA(parsetree, TruncateStmt))
	{
		*type = "table";
		*identity = migsafe_classify_named_objects(parsetree);
	}
	else if (parsetree != NULL && IsA(parsetree, DropdbStmt))
	{
		*type = "database";
		*identity = quote_identifier(((DropdbStmt *) parsetree)->dbname);
	}
	else if (parsetree != NULL && IsA(parsetree, CreateStmt) &&
			 OidIsValid(relid = RangeVarGetRelid(((CreateStmt *) parsetree)->relation,
												 NoLock, true)))
	{
		/* not the sequence of a serial column, made first */
		ObjectAddress addr;

		ObjectAddressSet(addr, RelationRelationId, relid);
		object_names(&addr, type, identity);
	}
	else if (OidIsValid(cmd->object.classId))
		object_names(&cmd->object, type, identity);
	else if (parsetree != NULL && IsA(parsetree, AlterTableStmt))
	{
		RangeVar   *rv = ((AlterTableStmt *) parsetree)->relation;

		*type = ((AlterTableStmt *) parsetree)->objtype == OBJECT_TYPE ?
			"type" : "table";
		*identity = rv->schemaname ?
			psprintf("%s.%s", rv->schemaname, rv->relname) : rv->relname;
	}
}

/*
 * migsafe_audit_rows
 *
 * The audit rows of cmd: one for the command, with the given decision, and
 * one per target in list.  Allocated in the current memory context.
 */
List	   *
migsafe_audit_rows(MigsafeCommand *cmd, List *list, const char *decision)
{
	MigsafeAuditRow *row = palloc0(sizeof(MigsafeAuditRow));
	List	   *rows;
	ListCell   *lc;

	row->command_tag = cmd->tag;
	command_object(cmd, &row->object_type, &row->object_identity);
	row->statement = cmd->stmt_text;
	row->nested = cmd->nested;
	row->destructive = cmd->destructive || list != NIL;
	row->decision = decision;
	row->wal_lsn = cmd->wal_lsn;
	rows = list_make1(row);

	foreach(lc, list)
	{
		MigsafeTarget *t = lfirst(lc);
		MigsafeAuditRow *r = palloc0(sizeof(MigsafeAuditRow));

		r->command_tag = cmd->tag;
		r->object_type = migsafe_command_noun(t);
		r->object_identity = migsafe_command_identity(t);
		r->statement = cmd->stmt_text;
		r->nested = cmd->nested;
		r->object_scope = true;
		r->destructive = true;
		r->decision = migsafe_command_decision_name(t->decision);
		r->approved_by = t->matched;
		r->snapshot_id = t->snapshot_id;
		if (t->decision == MIGSAFE_DECISION_BLOCKED ||
			t->decision == MIGSAFE_DECISION_WARNED)
		{
			StringInfoData detail;

			initStringInfo(&detail);
			migsafe_command_describe(&detail, t);
			if (t->snapshot_note)
				appendStringInfo(&detail, " %s", t->snapshot_note);
			r->detail = detail.data;
		}
		else
		{
			StringInfoData detail;

			/* approved: what replication adds, and where the data went */
			initStringInfo(&detail);
			migsafe_command_replication(&detail, t);
			if (t->snapshot_note)
				appendStringInfo(&detail, "%s%s", detail.len ? " " : "",
								 t->snapshot_note);
			r->detail = detail.len ? detail.data : NULL;
		}
		r->wal_lsn = cmd->wal_lsn;
		rows = lappend(rows, r);
	}
	return rows;
}

/*
 * migsafe_audit_event
 *
 * An audit row for something migsafe did itself to a snapshot (restored,
 * purged, evicted), written in the current transaction.  The row names the
 * role that called into migsafe, not migsafe's own.
 */
void
migsafe_audit_event(const char *tag, int64 snapshot_id,
					const char *object_type, const char *identity,
					const char *detail)
{
	MigsafeAuditRow *row = palloc0(sizeof(MigsafeAuditRow));
	Oid			caller = migsafe_internal_caller();
	Oid			current;
	int			sec_context;

	row->command_tag = tag;
	row->object_type = object_type;
	row->object_identity = identity;
	row->statement = debug_query_string ? debug_query_string : "";
	row->nested = true;
	row->object_scope = true;
	row->destructive = strcmp(tag, "RESTORE") != 0 && strcmp(tag, "UNDO") != 0;
	row->decision = "allowed";
	row->detail = detail;
	row->wal_lsn = InvalidXLogRecPtr;
	row->snapshot_id = snapshot_id;

	GetUserIdAndSecContext(&current, &sec_context);
	SetUserIdAndSecContext(OidIsValid(caller) ? caller : current, sec_context);
	migsafe_audit_write(list_make1(row));
	SetUserIdAndSecContext(current, sec_context);
}

/*
 * migsafe_audit_load
 *
 * The audit row of a transaction that loads a dump's rows into one of
 * migsafe's tables (table, qualified), written in the current transaction
 * with the transaction's first row: loading leaves a trace.
 */
void
migsafe_audit_load(const char *table)
{
	MigsafeAuditRow row = {0};

	row.command_tag = "LOAD";
	row.object_type = "table";
	row.object_identity = table;
	row.statement = debug_query_string ? debug_query_string : "";
	row.decision = "allowed";
	row.detail = "Rows of a dump loaded with session_replication_role = replica.";
	row.wal_lsn = InvalidXLogRecPtr;
	migsafe_audit_write(list_make1(&row));
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
		if (migsafe_command_truncate_approved(RelationGetRelid(trigdata->tg_relation)))
			return PointerGetDatum(NULL);
	}
	else if (migsafe_internal_writing_log())
	{
		if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
			return PointerGetDatum(trigdata->tg_newtuple);
		return PointerGetDatum(trigdata->tg_trigtuple);
	}
	else if (migsafe_load_allowed(trigdata))
	{
		/* a restore loading a dump's rows (see load.c for the rule) */
		bool		first;
		HeapTuple	tuple = migsafe_load_audit_row(trigdata, &first);

		if (first)
			migsafe_audit_load("migsafe.audit_log");
		return PointerGetDatum(tuple);
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
 *
 * XXX: this reads heap tuple headers (xmin, xmax, infomask) directly,
 * below the table access method API, so it works for heap tables only (a
 * bookkeeping table of another access method is skipped), and depends on
 * the header layout staying what heapam uses.  Scanning SnapshotAny costs
 * a pass over the whole bookkeeping table at each commit that wrote audit
 * rows; those tables stay small.
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

	rel = table_open(relid, AccessShareLock);
	if (rel->rd_rel->relam != HEAP_TABLE_AM_OID)
	{
		table_close(rel, AccessShareLock);
		return;
	}
	initStringInfo(&deleted);
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
			MigsafeLogWriter state;

			snprintf(xid, sizeof(xid), UINT64_FORMAT,
					 U64FromFullTransactionId(GetTopFullTransactionId()));
			values[0] = CStringGetTextDatum(tool_tables[i].tool);
			values[1] = CStringGetTextDatum(steps.data);
			values[2] = CStringGetTextDatum(xid);
			SPI_connect();
			migsafe_internal_log_begin(&state);
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
				migsafe_internal_log_end(&state);
			}
			PG_END_TRY();
			SPI_finish();
			break;
		}
	}
}

/*
 * migsafe_audit_pre_commit
 *
 * Before commit: log the rows of a dropped audit log, tie this
 * transaction's rows to its migration.
 */
void
migsafe_audit_pre_commit(void)
{
	bool		pushed = false;
	ListCell   *lc;

	foreach(lc, dropped_rows)
		ereport(LOG,
				(errmsg("migsafe audit row written to the server log: extension \"migsafe\" was dropped with its audit log"),
				 errdetail_log("%s", (char *) lfirst(lc)),
				 errhidestmt(true), errhidecontext(true)));
	dropped_rows = NIL;

	/*
	 * The migration tools record their steps with INSERT, UPDATE or DELETE
	 * (or COPY, CREATE TABLE AS): a transaction that ran none of those has
	 * no step to tie its rows to, and needs no look at the tools' tables.
	 */
	if (!audit_rows_this_xact || !migsafe_audit_xact_wrote)
		return;
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

/* At transaction end: forget that it wrote rows */
void
migsafe_audit_at_eoxact(void)
{
	audit_rows_this_xact = false;
	migsafe_audit_xact_wrote = false;
	dropped_rows = NIL;
}
