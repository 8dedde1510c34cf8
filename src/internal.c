/*-------------------------------------------------------------------------
 *
 * internal.c
 *	  migsafe's own statements: the superuser section they run in, SPI
 *	  and subtransaction helpers, and writing the audit log.
 *
 * Snapshots, restore and purging run statements of their own (CREATE
 * SCHEMA, CREATE TABLE AS, ALTER TABLE ... SET SCHEMA, GRANT) inside an
 * internal section: as the bootstrap superuser, with pinned settings, and
 * with the depth counter up, which tells the hooks in migsafe.c to let
 * them through (their caller decided and audits them).  The audit log is
 * written in a smaller section of its own: as the bootstrap superuser, in
 * a security-restricted operation, with the flag that the append-only
 * triggers check.  Both switch roles the same way, here and only here.
 * Rows of changes that ran are inserted without SQL, through the table and
 * index APIs as INSERT would (triggers and constraints included); rows
 * that come as JSON (the queue's, and those linking snapshots) with a
 * prepared INSERT.
 *
 * This file calls nothing of migsafe's; every other module may call it.
 * An error inside a section is cleaned up by the (sub)transaction abort,
 * which restores the role and the settings, and by
 * migsafe_internal_at_eoxact() for the counters.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/internal.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/heapam.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/nodeModifyTable.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteHandler.h"
#include "storage/lmgr.h"
#include "storage/sinval.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "migsafe.h"
#include "internal.h"

/*
 * The INSERT of audit rows given as a JSON array ($1), with ids from $2 on
 * (see migsafe_internal_take_ids)
 */
#define INSERT_SQL \
	"INSERT INTO migsafe.audit_log (id, ts, xid, vxid, database, session_role," \
	" effective_role, client_addr, application_name, backend_pid," \
	" command_tag, object_type, object_identity, statement, nested," \
	" scope, risk, decision, detail, approval, approved_by, reason," \
	" wal_lsn, snapshot_id)" \
	" OVERRIDING SYSTEM VALUE" \
	" SELECT $2::pg_catalog.int8 OPERATOR(pg_catalog.+) r.ordinality OPERATOR(pg_catalog.-) 1," \
	" r.ts, r.xid, r.vxid, r.database, r.session_role," \
	" r.effective_role, r.client_addr, r.application_name, r.backend_pid," \
	" r.command_tag, r.object_type, r.object_identity, r.statement," \
	" r.nested, r.scope, r.risk, r.decision, r.detail, r.approval," \
	" r.approved_by, r.reason, r.wal_lsn, r.snapshot_id" \
	" FROM pg_catalog.jsonb_populate_recordset(NULL::migsafe.audit_log," \
	" pg_catalog.jsonb_in($1::pg_catalog.cstring)) WITH ORDINALITY r"

/*
 * The same for rows that took snapshots: each new snapshot is linked back
 * to its row (the first one naming it: an owned sequence's row names its
 * table's snapshot too).  Only changes that ran take snapshots, so the
 * queue's writers never use it (and never lock migsafe.snapshots).
 */
#define INSERT_LINK_SQL \
	"WITH ins AS (" INSERT_SQL \
	" RETURNING id, snapshot_id, command_tag)" \
	" UPDATE migsafe.snapshots s SET audit_id = i.id" \
	" FROM (SELECT snapshot_id, pg_catalog.min(id) AS id FROM ins" \
	" WHERE command_tag OPERATOR(pg_catalog.<>) ALL" \
	" ('{RESTORE,UNDO,PURGE SNAPSHOT,EVICT SNAPSHOT}'::pg_catalog.text[])" \
	" GROUP BY snapshot_id) i" \
	" WHERE s.id OPERATOR(pg_catalog.=) i.snapshot_id" \
	" AND s.audit_id IS NULL"

/* Depth of migsafe's own statements: the hooks let them through */
static int	internal_depth = 0;

/* Rehearsals running (migsafe.rehearse()), nested */
static int	rehearsal_depth = 0;

/* Set while migsafe itself writes migsafe.audit_log */
static bool writing_log = false;

/* The role that called into the outermost internal section, for audit rows */
static Oid	internal_caller = InvalidOid;

/* The caller's search_path there, for the owner's code restore runs */
static char *internal_caller_path = NULL;

/*
 * A blocked attempt that repeats one whose first attempt was made within
 * the window ($2), by the same roles from the same client with the same
 * approval and reason: the row written for it counts one more attempt and gets its time as last_ts,
 * or, when there is none, the row is inserted.  Returns the new count, or
 * 0 for a new row.
 */
#define REPEAT_SQL \
	"WITH r AS (SELECT * FROM pg_catalog.jsonb_populate_record(NULL::migsafe.audit_log," \
	" pg_catalog.jsonb_in($1::pg_catalog.cstring)))," \
	" prev AS (SELECT a.id FROM migsafe.audit_log a, r" \
	"  WHERE a.decision OPERATOR(pg_catalog.=) 'blocked'" \
	"    AND a.ts OPERATOR(pg_catalog.>=) (r.ts OPERATOR(pg_catalog.-) $2::pg_catalog.interval)" \
	"    AND a.database OPERATOR(pg_catalog.=) r.database" \
	"    AND a.session_role IS NOT DISTINCT FROM r.session_role" \
	"    AND a.effective_role IS NOT DISTINCT FROM r.effective_role" \
	"    AND a.client_addr IS NOT DISTINCT FROM r.client_addr" \
	"    AND a.application_name IS NOT DISTINCT FROM r.application_name" \
	"    AND a.approval IS NOT DISTINCT FROM r.approval" \
	"    AND a.reason IS NOT DISTINCT FROM r.reason" \
	"    AND a.command_tag OPERATOR(pg_catalog.=) r.command_tag" \
	"    AND a.scope OPERATOR(pg_catalog.=) r.scope" \
	"    AND a.object_identity IS NOT DISTINCT FROM r.object_identity" \
	"    AND a.statement IS NOT DISTINCT FROM r.statement" \
	"  ORDER BY a.id DESC LIMIT 1)," \
	" upd AS (UPDATE migsafe.audit_log a" \
	"   SET repeat_count = a.repeat_count OPERATOR(pg_catalog.+) 1, last_ts = r.ts" \
	"   FROM r, prev WHERE a.id OPERATOR(pg_catalog.=) prev.id" \
	"   RETURNING a.repeat_count)," \
	" ins AS (INSERT INTO migsafe.audit_log (id, ts, xid, vxid, database, session_role," \
	"   effective_role, client_addr, application_name, backend_pid," \
	"   command_tag, object_type, object_identity, statement, nested," \
	"   scope, risk, decision, detail, approval, approved_by, reason," \
	"   wal_lsn, snapshot_id, last_ts)" \
	"  OVERRIDING SYSTEM VALUE SELECT $3::pg_catalog.int8, r.ts, r.xid, r.vxid, r.database, r.session_role," \
	"   r.effective_role, r.client_addr, r.application_name, r.backend_pid," \
	"   r.command_tag, r.object_type, r.object_identity, r.statement," \
	"   r.nested, r.scope, r.risk, r.decision, r.detail, r.approval," \
	"   r.approved_by, r.reason, r.wal_lsn, r.snapshot_id, r.ts" \
	"  FROM r WHERE NOT EXISTS (SELECT FROM upd))" \
	" SELECT COALESCE((SELECT repeat_count FROM upd), 0)"

static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr insert_link_plan = NULL;
static SPIPlanPtr repeat_plan = NULL;

/*
 * What writing rows of migsafe.audit_log directly (without SQL) needs
 * from the table's definition: where each column migsafe writes is, and
 * the executable form of the other columns' defaults, of the CHECK
 * constraints and of the partial indexes' predicates, which the executor
 * would otherwise plan again for every statement, and its indexes with
 * their IndexInfo, which ExecOpenIndices() would build again for every
 * statement.  Kept per backend in log_table_cxt until a relcache
 * invalidation of the table or of one of its indexes (ALTER TABLE, an
 * index made, changed or dropped, DROP EXTENSION) marks it stale; the next
 * write then builds it again.
 */
typedef struct LogTable
{
	Oid			relid;			/* InvalidOid: nothing kept */
	bool		valid;			/* no invalidation since it was built */
	bool		complete;		/* built to the end */
	AttrNumber	id_attnum;
	AttrNumber	attnums[MIGSAFE_LOG_NCOLS];
	int			natts;
	ExprState **defaults;		/* [natts]: defaults of the other columns */
	int			ncheck;
	ExprState **checks;			/* [ncheck], in the relcache's order */
	int			nindex;			/* its indexes, as ExecOpenIndices() lists
								 * them */
	Oid		   *index_oids;		/* [nindex] */
	IndexInfo **index_info;		/* [nindex]: as BuildIndexInfo() makes them */
	ExprState **preds;			/* [nindex]: partial indexes' predicates */
	bool		guard_only;		/* no BEFORE INSERT row trigger but the
								 * append-only guard */
	int			nguard;			/* the guard functions' PROCOID hashes */
	uint32		guard_hash[4];
} LogTable;

static LogTable log_table =
{
	InvalidOid, false
};
static MemoryContext log_table_cxt = NULL;
static bool log_table_callback = false;

/*
 * The oids of migsafe.audit_log and of its identity sequence, looked up by
 * name once per backend rather than for every audit row; InvalidOid when
 * unknown.  Forgotten on a relcache invalidation of either (dropped,
 * renamed, DROP EXTENSION) or any change to a schema (migsafe renamed or
 * dropped), which are the only ways the names could come to mean other
 * relations (see audit_sequence()).
 */
static Oid	audit_log_oid = InvalidOid;
static Oid	audit_seq_oid = InvalidOid;

/* The columns of MigsafeLogColumn: names and types */
static const struct
{
	const char *name;
	Oid			type;
}			log_columns[MIGSAFE_LOG_NCOLS] = {
	{"ts", TIMESTAMPTZOID},
	{"xid", XID8OID},
	{"vxid", TEXTOID},
	{"database", NAMEOID},
	{"session_role", NAMEOID},
	{"effective_role", NAMEOID},
	{"client_addr", INETOID},
	{"application_name", TEXTOID},
	{"backend_pid", INT4OID},
	{"command_tag", TEXTOID},
	{"object_type", TEXTOID},
	{"object_identity", TEXTOID},
	{"statement", TEXTOID},
	{"nested", BOOLOID},
	{"scope", TEXTOID},
	{"risk", TEXTOID},
	{"decision", TEXTOID},
	{"detail", TEXTOID},
	{"approval", TEXTOID},
	{"approved_by", TEXTOID},
	{"reason", TEXTOID},
	{"wal_lsn", PG_LSNOID},
	{"snapshot_id", INT8OID},
};

/*
 * Settings of migsafe's own statements: names resolve in pg_catalog only,
 * and values kept as text are written and read back the same whatever the
 * caller's settings (as pg_dump pins them).
 */
static const char *const internal_settings[][2] = {
	{"search_path", "pg_catalog, pg_temp"},
	{"datestyle", "ISO, MDY"},
	{"intervalstyle", "postgres"},
	{"extra_float_digits", "3"},
	{"bytea_output", "hex"},
	{"lc_monetary", "C"},
	{"array_nulls", "on"},
	{"xmloption", "content"},
};

/* ----------------------------------------------------------------
 * Sections
 * ----------------------------------------------------------------
 */

/*
 * Act as the bootstrap superuser, saving the current role and security
 * context: the one way migsafe takes its own privileges.
 */
static void
become_bootstrap(Oid *save_userid, int *save_sec_context, int flags)
{
	GetUserIdAndSecContext(save_userid, save_sec_context);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID,
						   *save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   flags);
}

/* Whether migsafe's own statements are running: the hooks let them pass */
bool
migsafe_internal_active(void)
{
	return internal_depth > 0;
}

/*
 * migsafe_internal_begin
 *
 * Start a section of migsafe's own statements: the guard lets them
 * through, they run as the bootstrap superuser, and names resolve in
 * pg_catalog only.  End it with migsafe_internal_end(); on an error call
 * migsafe_internal_abort(), and the (sub)transaction abort restores the
 * role and the settings.
 */
void
migsafe_internal_begin(MigsafeInternal *state)
{
	int			i;
	Oid			userid;
	int			sec_context;

	GetUserIdAndSecContext(&userid, &sec_context);
	if (internal_depth == 0)
	{
		if (internal_caller_path != NULL)
			pfree(internal_caller_path);
		internal_caller_path = MemoryContextStrdup(TopMemoryContext,
												   namespace_search_path ? namespace_search_path : "");
		internal_caller = userid;
	}
	state->save_nestlevel = NewGUCNestLevel();
	for (i = 0; i < lengthof(internal_settings); i++)
		(void) set_config_option(internal_settings[i][0], internal_settings[i][1],
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	/* no "drop cascades to" notices about migsafe's own storage */
	if (client_min_messages < WARNING)
		(void) set_config_option("client_min_messages", "warning",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);

	/*
	 * Inside an extension's script, objects created become the extension's
	 * members: snapshot storage must not (DROP EXTENSION would need it gone).
	 */
	state->save_creating_extension = creating_extension;
	state->save_extension = CurrentExtensionObject;
	creating_extension = false;
	CurrentExtensionObject = InvalidOid;
	become_bootstrap(&state->save_userid, &state->save_sec_context, 0);
	internal_depth++;
}

/* After an error in a section: the abort restores role and settings */
void
migsafe_internal_abort(MigsafeInternal *state)
{
	internal_depth--;
	creating_extension = state->save_creating_extension;
	CurrentExtensionObject = state->save_extension;
}

/* End a section started by migsafe_internal_begin() */
void
migsafe_internal_end(MigsafeInternal *state)
{
	internal_depth--;
	creating_extension = state->save_creating_extension;
	CurrentExtensionObject = state->save_extension;
	SetUserIdAndSecContext(state->save_userid, state->save_sec_context);
	AtEOXact_GUC(true, state->save_nestlevel);
}

/*
 * migsafe_internal_as_user
 *
 * Inside a section, act as another role (InvalidOid: the bootstrap
 * superuser again).  Statements that run user code (casts, triggers,
 * constraint checks of a restored table) run as the table's owner, never
 * as a superuser.
 */
void
migsafe_internal_as_user(Oid userid)
{
	Oid			current;
	int			sec_context;

	GetUserIdAndSecContext(&current, &sec_context);
	SetUserIdAndSecContext(OidIsValid(userid) ? userid : BOOTSTRAP_SUPERUSERID,
						   sec_context);
}

/*
 * migsafe_internal_suspend
 *
 * Inside a section, put the guard back on for statements that run a
 * user's code: whatever that code changes is decided and audited like
 * any change.  Returns what migsafe_internal_resume() needs.
 */
int
migsafe_internal_suspend(void)
{
	int			depth = internal_depth;

	internal_depth = 0;
	return depth;
}

/* Undo migsafe_internal_suspend() */
void
migsafe_internal_resume(int depth)
{
	internal_depth = depth;
}

/* The role that called into the outermost section (audit rows name it) */
Oid
migsafe_internal_caller(void)
{
	return internal_caller;
}

/* The search_path of the session that called into the outermost section */
const char *
migsafe_internal_caller_path(void)
{
	return internal_caller_path ? internal_caller_path : "\"$user\", public";
}

/* ----------------------------------------------------------------
 * SPI helpers (the caller is connected to SPI)
 * ----------------------------------------------------------------
 */

/*
 * migsafe_internal_exec
 *
 * Run one statement through SPI with the latest snapshot, not the
 * transaction's: under REPEATABLE READ the catalogs, privileges and
 * snapshot storage migsafe reads must be what is committed now, as the
 * locked rows it copies are.  Returns SPI's result code; errors raise.
 */
int
migsafe_internal_exec(const char *sql, int nargs, Oid *argtypes,
					  Datum *values, const char *nulls, long tcount)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);
	Snapshot	snap;
	int			ret;

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed (%s): %s",
			 SPI_result_code_string(SPI_result), sql);
	snap = RegisterSnapshot(GetLatestSnapshot());
	ret = SPI_execute_snapshot(plan, values, nulls, snap, InvalidSnapshot,
							   false, true, tcount);
	UnregisterSnapshot(snap);
	SPI_freeplan(plan);
	if (ret < 0)
		elog(ERROR, "SPI_execute_snapshot failed (%s): %s",
			 SPI_result_code_string(ret), sql);
	return ret;
}

/* Run one statement without arguments (see migsafe_internal_exec) */
void
migsafe_internal_run(const char *sql)
{
	(void) migsafe_internal_exec(sql, 0, NULL, NULL, NULL, 0);
}

/* The first column of the first row of a query as text, or NULL */
char	   *
migsafe_internal_value(const char *sql, int nargs, Oid *argtypes,
					   Datum *values)
{
	(void) migsafe_internal_exec(sql, nargs, argtypes, values, NULL, 1);
	if (SPI_processed == 0)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/* All rows of a query, columns 1..ncols as text (NULL for SQL NULL) */
List	   *
migsafe_internal_rows(const char *sql, int nargs, Oid *argtypes,
					  Datum *values, int ncols)
{
	List	   *result = NIL;
	uint64		i;

	(void) migsafe_internal_exec(sql, nargs, argtypes, values, NULL, 0);
	for (i = 0; i < SPI_processed; i++)
	{
		char	  **row = palloc0(sizeof(char *) * ncols);
		int			c;

		for (c = 0; c < ncols; c++)
			row[c] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
								  c + 1);
		result = lappend(result, row);
	}
	return result;
}

/*
 * migsafe_internal_subxact
 *
 * Run fn(arg) in a subtransaction.  With keep, a subtransaction that
 * succeeded is committed; without, it is always rolled back (a dry run).
 * Returns NULL when fn succeeded, or the error it raised, copied into the
 * caller's memory context, with the subtransaction rolled back and the
 * resource owner and memory context as they were.
 */
ErrorData  *
migsafe_internal_subxact(MigsafeSubxactFn fn, void *arg, bool keep)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		fn(arg);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	if (keep && edata == NULL)
		ReleaseCurrentSubTransaction();
	else
		RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
	return edata;
}

/* ----------------------------------------------------------------
 * Writing the audit log
 * ----------------------------------------------------------------
 */

/*
 * migsafe_internal_log_begin
 *
 * Write migsafe.audit_log as the bootstrap superuser, whoever runs the
 * change (no role has privileges on the table), in a security-restricted
 * operation, with the append-only triggers told that migsafe is writing.
 * Undone by migsafe_internal_log_end(), or by the transaction's abort.
 */
void
migsafe_internal_log_begin(MigsafeLogWriter *state)
{
	become_bootstrap(&state->save_userid, &state->save_sec_context,
					 SECURITY_RESTRICTED_OPERATION);
	state->save_writing = writing_log;
	writing_log = true;
}

/* End a section started by migsafe_internal_log_begin() */
void
migsafe_internal_log_end(MigsafeLogWriter *state)
{
	writing_log = state->save_writing;
	SetUserIdAndSecContext(state->save_userid, state->save_sec_context);
}

/* Whether migsafe is writing its audit log right now (for triggers) */
bool
migsafe_internal_writing_log(void)
{
	return writing_log;
}

static void forget_log_table(Datum arg, Oid relid);
static void forget_log_table_guard(Datum arg, int cacheid, uint32 hashvalue);
static void forget_log_oids(Datum arg, int cacheid, uint32 hashvalue);

/* Once per backend: the callbacks that make what is kept of the log stale */
static void
register_log_callbacks(void)
{
	if (log_table_callback)
		return;
	CacheRegisterRelcacheCallback(forget_log_table, (Datum) 0);
	CacheRegisterSyscacheCallback(PROCOID, forget_log_table_guard, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, forget_log_oids, (Datum) 0);
	log_table_callback = true;
}

/*
 * The identity sequence of migsafe.audit_log, after locking the log as the
 * INSERT will: the log before its sequence, the order DROP EXTENSION
 * migsafe takes them in (see lock_audit_log_first() in collect.c), which
 * nextval() in the INSERT kept by itself.  Both oids are kept across
 * transactions (see audit_log_oid).
 */
static Oid
audit_sequence(Oid *logidp)
{
	Oid			logid;
	Oid			seqid;

	register_log_callbacks();
	for (;;)
	{
		if (!OidIsValid(audit_log_oid) || !OidIsValid(audit_seq_oid))
		{
			uint64		inval_count = SharedInvalidMessageCounter;
			Oid			nsp = get_namespace_oid(MIGSAFE_SCHEMA, false);

			/*
			 * Looked up into locals: a catalog read may take in invalidations
			 * (a cache reset among them), whose callback forgets the oids.
			 * Kept only when none came in meanwhile, else looked up again.
			 */
			logid = get_relname_relid("audit_log", nsp);
			seqid = get_relname_relid("audit_log_id_seq", nsp);
			if (!OidIsValid(logid) || !OidIsValid(seqid))
				elog(ERROR, "table \"%s.audit_log\" or its sequence does not exist",
					 MIGSAFE_SCHEMA);
			if (inval_count != SharedInvalidMessageCounter)
				continue;
			audit_log_oid = logid;
			audit_seq_oid = seqid;
		}
		logid = audit_log_oid;
		seqid = audit_seq_oid;
		LockRelationOid(logid, RowExclusiveLock);

		/*
		 * The lock took in the invalidations sent before it was granted: if
		 * they touched the log, its sequence or a schema, the oids are
		 * looked up again, as RangeVarGetRelidExtended() would.
		 */
		if (audit_log_oid == logid && audit_seq_oid == seqid)
			break;
		UnlockRelationOid(logid, RowExclusiveLock);
	}
	if (logidp != NULL)
		*logidp = logid;
	return seqid;
}

/*
 * migsafe_internal_take_ids
 *
 * Take n consecutive values of one of migsafe's sequences (increment 1)
 * and return the first, without nextval(): nextval() would make them the
 * session's lastval(), which would then answer the user with the id of an
 * audit row or snapshot (or with "permission denied for sequence").  The
 * sequence is locked against other takers (ShareUpdateExclusiveLock, which
 * conflicts with itself but not with the RowExclusiveLock that takers
 * before keep until their transaction ends; released at once: as with
 * nextval(), values taken are never given back, whatever the transaction
 * does), read, and advanced with setval(), which is WAL-logged before the
 * transaction can commit, as nextval() is, and sets only that sequence's
 * currval().  Every id of the audit log and of the snapshot registry is
 * taken here (nothing else calls nextval() on them: no role but
 * superusers may).  Errors (the sequence exhausted) propagate.  Runs as
 * migsafe's superuser.
 */
int64
migsafe_internal_take_ids(Oid seqid, int64 n)
{
	LOCAL_FCINFO(fcinfo, 1);
	HeapTuple	tup;
	int64		first;

	Assert(n > 0);
	LockRelationOid(seqid, ShareUpdateExclusiveLock);
	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = ObjectIdGetDatum(seqid);
	fcinfo->args[0].isnull = false;
	first = DatumGetInt64(pg_sequence_last_value(fcinfo));
	if (fcinfo->isnull)
	{
		/*
		 * Never called, or set with is_called false (setval(..., false),
		 * ALTER SEQUENCE RESTART): its last_value comes first, as nextval()
		 * gives it.  The sequence's only tuple is updated in place.
		 */
		Relation	seqrel = table_open(seqid, AccessShareLock);
		TableScanDesc scan = table_beginscan(seqrel, SnapshotAny, 0, NULL);

		tup = heap_getnext(scan, ForwardScanDirection);
		if (!HeapTupleIsValid(tup))
			elog(ERROR, "sequence %u has no tuple", seqid);
		first = ((Form_pg_sequence_data) GETSTRUCT(tup))->last_value;
		table_endscan(scan);
		table_close(seqrel, AccessShareLock);
	}
	else
		first++;
	(void) DirectFunctionCall3(setval3_oid, ObjectIdGetDatum(seqid),
							   Int64GetDatum(first + n - 1), BoolGetDatum(true));
	UnlockRelationOid(seqid, ShareUpdateExclusiveLock);
	return first;
}

/*
 * migsafe_internal_insert_log
 *
 * Insert rows given as a JSON array of row objects into migsafe.audit_log,
 * in one statement, in the current transaction (with an active snapshot);
 * with link, point each new snapshot at its row.  Used by the queue's
 * writers, whose rows come as JSON, and for rows that took snapshots:
 * linking them in the same statement keeps the registry's pages as they
 * always were (see migsafe_internal_write_log()).  Errors propagate.
 */
void
migsafe_internal_insert_log(const char *rows, bool link)
{
	SPIPlanPtr *planp = link ? &insert_link_plan : &insert_plan;
	Oid			argtypes[2] = {TEXTOID, INT8OID};
	Datum		values[2];
	int			ret;
	int32		n;
	MigsafeLogWriter state;

	values[0] = CStringGetTextDatum(rows);
	n = DatumGetInt32(DirectFunctionCall1(jsonb_array_length,
										  DirectFunctionCall1(jsonb_in,
															  CStringGetDatum(rows))));
	if (n <= 0)
		return;
	SPI_connect();
	migsafe_internal_log_begin(&state);
	PG_TRY();
	{
		values[1] = Int64GetDatum(migsafe_internal_take_ids(audit_sequence(NULL), n));

		/*
		 * Prepared once per backend (parsing and planning it for every row
		 * cost more than the row); the plan cache re-plans it if the
		 * extension is dropped and created again.
		 */
		if (*planp == NULL)
		{
			SPIPlanPtr	plan = SPI_prepare(link ? INSERT_LINK_SQL : INSERT_SQL,
										   2, argtypes);

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
		migsafe_internal_log_end(&state);
	}
	PG_END_TRY();
	SPI_finish();
}

/* Relcache callback: the audit log's definition changed, or everything did */
static void
forget_log_table(Datum arg, Oid relid)
{
	int			i;

	if (!OidIsValid(relid) || relid == log_table.relid)
		log_table.valid = false;
	for (i = 0; log_table.valid && i < log_table.nindex; i++)
		if (relid == log_table.index_oids[i])
			log_table.valid = false;
	if (!OidIsValid(relid) || relid == audit_log_oid || relid == audit_seq_oid)
		audit_log_oid = audit_seq_oid = InvalidOid;
}

/* Syscache callback: a schema changed, maybe migsafe's (see audit_log_oid) */
static void
forget_log_oids(Datum arg, int cacheid, uint32 hashvalue)
{
	audit_log_oid = audit_seq_oid = InvalidOid;
}

/*
 * Syscache callback: a function changed.  guard_only depends on the
 * definition of the guard trigger's function (CREATE OR REPLACE FUNCTION
 * changes it without touching the audit log's relcache entry): a change
 * to it, or to every function, makes the log's description be read again.
 */
static void
forget_log_table_guard(Datum arg, int cacheid, uint32 hashvalue)
{
	int			i;

	if (hashvalue == 0)
	{
		log_table.valid = false;
		return;
	}
	for (i = 0; i < log_table.nguard; i++)
		if (log_table.guard_hash[i] == hashvalue)
			log_table.valid = false;
}

/*
 * only_guard_before_insert
 *
 * Whether the only BEFORE INSERT row triggers of rel (the audit log) are
 * migsafe's append-only guard: C function migsafe_audit_log_guard of this
 * library (migsafe.control's module_pathname), which hands back the row unchanged while migsafe writes it, so
 * that calling it changes nothing.  A trigger a DBA added still fires.
 */
static bool
only_guard_before_insert(Relation rel)
{
	TriggerDesc *trigdesc = rel->trigdesc;
	int			i;

	log_table.nguard = 0;
	if (trigdesc == NULL)
		return true;
	for (i = 0; i < trigdesc->numtriggers; i++)
	{
		Trigger    *trigger = &trigdesc->triggers[i];
		HeapTuple	tup;
		Form_pg_proc proc;
		bool		guard = false;

		if (!TRIGGER_TYPE_MATCHES(trigger->tgtype, TRIGGER_TYPE_ROW,
								  TRIGGER_TYPE_BEFORE, TRIGGER_TYPE_INSERT))
			continue;
		/* a replaced function must be looked at again (see above) */
		if (log_table.nguard >= lengthof(log_table.guard_hash))
			return false;
		log_table.guard_hash[log_table.nguard++] =
			GetSysCacheHashValue1(PROCOID, ObjectIdGetDatum(trigger->tgfoid));
		tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(trigger->tgfoid));
		if (!HeapTupleIsValid(tup))
			return false;
		proc = (Form_pg_proc) GETSTRUCT(tup);
		if (proc->prolang == ClanguageId && trigger->tgqual == NULL &&
			trigger->tgnattr == 0)
		{
			bool		srcnull;
			bool		binnull;
			Datum		src = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_prosrc,
											  &srcnull);
			Datum		bin = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_probin,
											  &binnull);

			guard = !srcnull && !binnull &&
				strcmp(TextDatumGetCString(src), "migsafe_audit_log_guard") == 0 &&
				strcmp(TextDatumGetCString(bin), "$libdir/migsafe") == 0;
		}
		ReleaseSysCache(tup);
		if (!guard)
			return false;
	}
	return true;
}

/*
 * log_table_for
 *
 * The LogTable of rel (migsafe.audit_log, open and locked), built again
 * when stale.  Building it locks the log's indexes as the INSERT will.  The old one's memory goes to the
 * transaction's context rather than away at once: a write still running
 * further up the stack (a trigger of the log writing rows itself) may use
 * it until the transaction ends.
 */
static LogTable *
log_table_for(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	MemoryContext old;
	List	   *indexes;
	ListCell   *lc;
	int			i;
	int			c;

	if (log_table.valid && log_table.complete &&
		log_table.relid == RelationGetRelid(rel))
		return &log_table;
	register_log_callbacks();
	if (log_table_cxt != NULL)
		MemoryContextSetParent(log_table_cxt, TopTransactionContext);
	log_table_cxt = AllocSetContextCreate(CacheMemoryContext,
										  "migsafe audit log",
										  ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(log_table_cxt);

	/*
	 * Valid from here on, so that an invalidation taken in while it is built
	 * (locking an index does) makes the next write build it again; used only
	 * once complete, so that an error below leaves it to be built again.
	 */
	log_table.relid = RelationGetRelid(rel);
	log_table.valid = true;
	log_table.complete = false;
	log_table.nindex = 0;
	log_table.nguard = 0;
	log_table.natts = desc->natts;
	log_table.id_attnum = InvalidAttrNumber;
	for (c = 0; c < MIGSAFE_LOG_NCOLS; c++)
		log_table.attnums[c] = InvalidAttrNumber;
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		if (strcmp(NameStr(att->attname), "id") == 0 && att->atttypid == INT8OID)
			log_table.id_attnum = att->attnum;
		for (c = 0; c < MIGSAFE_LOG_NCOLS; c++)
			if (strcmp(NameStr(att->attname), log_columns[c].name) == 0 &&
				att->atttypid == log_columns[c].type)
				log_table.attnums[c] = att->attnum;
	}
	if (log_table.id_attnum == InvalidAttrNumber)
		elog(ERROR, "table \"%s.audit_log\" has no column \"id\" of type bigint",
			 MIGSAFE_SCHEMA);
	for (c = 0; c < MIGSAFE_LOG_NCOLS; c++)
		if (log_table.attnums[c] == InvalidAttrNumber)
			elog(ERROR, "table \"%s.audit_log\" has no column \"%s\" of type %s",
				 MIGSAFE_SCHEMA, log_columns[c].name,
				 format_type_be(log_columns[c].type));

	/* the other columns: their defaults, as an INSERT naming ours computes */
	log_table.defaults = palloc0(sizeof(ExprState *) * desc->natts);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		Node	   *expr;

		if (att->attisdropped || att->attgenerated ||
			att->attnum == log_table.id_attnum)
			continue;
		for (c = 0; c < MIGSAFE_LOG_NCOLS; c++)
			if (log_table.attnums[c] == att->attnum)
				break;
		if (c < MIGSAFE_LOG_NCOLS)
			continue;
		expr = build_column_default(rel, att->attnum);
		if (expr != NULL)
			log_table.defaults[i] = ExecInitExpr(expression_planner((Expr *) expr),
												 NULL);
	}

	/* CHECK constraints, as ExecRelCheck() prepares them */
	log_table.ncheck = desc->constr ? desc->constr->num_check : 0;
	log_table.checks = NULL;
	if (log_table.ncheck > 0)
	{
		log_table.checks = palloc(sizeof(ExprState *) * log_table.ncheck);
		for (i = 0; i < log_table.ncheck; i++)
			log_table.checks[i] =
				ExecInitExpr(expression_planner(stringToNode(desc->constr->check[i].ccbin)),
							 NULL);
	}

	/*
	 * The indexes in ExecOpenIndices()'s order, their IndexInfo, and partial
	 * indexes' predicates as ExecInsertIndexTuples() prepares them
	 */
	indexes = rel->rd_rel->relhasindex ? RelationGetIndexList(rel) : NIL;
	log_table.index_oids = palloc(sizeof(Oid) * Max(list_length(indexes), 1));
	log_table.index_info = palloc(sizeof(IndexInfo *) * Max(list_length(indexes), 1));
	log_table.preds = palloc0(sizeof(ExprState *) * Max(list_length(indexes), 1));
	foreach(lc, indexes)
	{
		Relation	index = index_open(lfirst_oid(lc), RowExclusiveLock);
		IndexInfo  *ii = BuildIndexInfo(index);

		log_table.index_oids[log_table.nindex] = RelationGetRelid(index);
		log_table.index_info[log_table.nindex] = ii;
		if (ii->ii_Predicate != NIL)
			log_table.preds[log_table.nindex] =
				ExecInitQual((List *) expression_planner((Expr *) copyObject(ii->ii_Predicate)),
							 NULL);
		log_table.nindex++;
		index_close(index, NoLock);
	}
	log_table.guard_only = only_guard_before_insert(rel);
	log_table.complete = true;
	MemoryContextSwitchTo(old);
	return &log_table;
}

/*
 * An INSERT into one of migsafe's own tables, run without SQL: the table,
 * its executor state (indexes open), a slot and the transition state of
 * its triggers.
 */
typedef struct InsertState
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	TransitionCaptureState *transition;
	/* the audit log's indexes and partial index predicates, or NULL */
	Oid		   *log_index_oids;
	ExprState **log_preds;
} InsertState;

/*
 * Set up the indexes of the audit log (lt) for an INSERT, as
 * ExecOpenIndices() does, from the IndexInfo kept in lt: each one copied,
 * without the state an execution leaves in it, into the executor state's
 * memory.  A partial index is opened only once a row satisfies its
 * predicate (open_partial_log_indices()): most rows go in neither of the
 * log's (blocked attempts, rows with a snapshot), and ExecInsertIndexTuples()
 * and ExecCloseIndices() pass over an index that is not open.
 */
static void
open_log_indices(ResultRelInfo *rri, LogTable *lt)
{
	int			i;

	rri->ri_NumIndices = lt->nindex;
	if (lt->nindex == 0)
		return;
	rri->ri_IndexRelationDescs = palloc0(sizeof(Relation) * lt->nindex);
	rri->ri_IndexRelationInfo = palloc(sizeof(IndexInfo *) * lt->nindex);
	for (i = 0; i < lt->nindex; i++)
	{
		IndexInfo  *ii = makeNode(IndexInfo);

		if (lt->preds[i] == NULL)
			rri->ri_IndexRelationDescs[i] = index_open(lt->index_oids[i],
													   RowExclusiveLock);
		memcpy(ii, lt->index_info[i], sizeof(IndexInfo));
		ii->ii_ExpressionsState = NIL;
		ii->ii_PredicateState = lt->preds[i];
		ii->ii_AmCache = NULL;
		ii->ii_Context = CurrentMemoryContext;
		rri->ri_IndexRelationInfo[i] = ii;
	}
}

/*
 * Open the audit log's partial indexes whose predicate the row in st
 * satisfies.  The index list is the one taken at insert_open(): a write
 * of the log nested in this one (a trigger a DBA added) may build the
 * LogTable again meanwhile, the old arrays staying valid until the
 * transaction ends.
 */
static void
open_partial_log_indices(InsertState *st)
{
	ResultRelInfo *rri = st->rri;
	ExprContext *econtext = NULL;
	int			i;

	for (i = 0; i < rri->ri_NumIndices; i++)
	{
		if (st->log_preds[i] == NULL || rri->ri_IndexRelationDescs[i] != NULL)
			continue;
		if (econtext == NULL)
		{
			econtext = GetPerTupleExprContext(st->estate);
			econtext->ecxt_scantuple = st->slot;
		}
		if (ExecQual(st->log_preds[i], econtext))
			rri->ri_IndexRelationDescs[i] = index_open(st->log_index_oids[i],
													   RowExclusiveLock);
	}
}

/*
 * Open relid for an INSERT (see insert_slot(); end with insert_close());
 * with log, relid is the audit log, whose LogTable is returned in *ltp.
 */
static void
insert_open(InsertState *st, Oid relid, LogTable **ltp)
{
	st->rel = table_open(relid, RowExclusiveLock);
	st->estate = CreateExecutorState();
	st->rri = makeNode(ResultRelInfo);
	st->log_index_oids = NULL;
	st->log_preds = NULL;
	InitResultRelInfo(st->rri, st->rel, 0, NULL, 0);
	if (ltp != NULL)
	{
		/* after the log's lock: no invalidation of it until done */
		*ltp = log_table_for(st->rel);
		open_log_indices(st->rri, *ltp);
		st->log_index_oids = (*ltp)->index_oids;
		st->log_preds = (*ltp)->preds;
	}
	else
		ExecOpenIndices(st->rri, false);
	st->estate->es_opened_result_relations = list_make1(st->rri);
	st->estate->es_output_cid = GetCurrentCommandId(true);
	st->slot = table_slot_create(st->rel, &st->estate->es_tupleTable);
	st->transition = MakeTransitionCaptureState(st->rel->trigdesc, relid,
												CMD_INSERT);
}

/* The statement's start: its BEFORE statement triggers */
static void
insert_start(InsertState *st)
{
	AfterTriggerBeginQuery();
	ExecBSInsertTriggers(st->estate, st->rri);
}

/*
 * insert_slot
 *
 * Insert the row in st's slot as INSERT does: BEFORE row triggers (unless
 * skip_before), stored generated columns, constraints, the heap tuple, its
 * index entries, AFTER row triggers.  False when a BEFORE trigger skipped
 * the row.
 */
static bool
insert_slot(InsertState *st, bool skip_before)
{
	ResultRelInfo *rri = st->rri;
	EState	   *estate = st->estate;
	Relation	rel = st->rel;
	List	   *recheck = NIL;

	if (!skip_before && rri->ri_TrigDesc &&
		rri->ri_TrigDesc->trig_insert_before_row &&
		!ExecBRInsertTriggers(estate, rri, st->slot))
		return false;
	if (rel->rd_att->constr && rel->rd_att->constr->has_generated_stored)
		ExecComputeStoredGenerated(rri, estate, st->slot, CMD_INSERT);
	if (rel->rd_att->constr)
		ExecConstraints(rri, st->slot, estate);
	table_tuple_insert(rel, st->slot, estate->es_output_cid, 0, NULL);
	if (st->log_preds != NULL)
		open_partial_log_indices(st);
	if (rri->ri_NumIndices > 0)
		recheck = migsafe_insert_index_tuples(rri, st->slot, estate);
	ExecARInsertTriggers(estate, rri, st->slot, recheck, st->transition);
	list_free(recheck);
	return true;
}

/*
 * The statement's end: its AFTER statement triggers, the queued AFTER
 * triggers fired, everything closed (the table's lock kept, and the audit
 * log's indexes' too, so that its next row in the transaction finds them
 * taken: whoever waits for them waits for the table's anyway), and the
 * rows made visible to the next command
 */
static void
insert_close(InsertState *st)
{
	ExecASInsertTriggers(st->estate, st->rri, st->transition);
	AfterTriggerEndQuery(st->estate);
	if (st->log_preds != NULL)
	{
		int			i;

		for (i = 0; i < st->rri->ri_NumIndices; i++)
			if (st->rri->ri_IndexRelationDescs[i] != NULL)
			{
				migsafe_index_insert_cleanup(st->rri->ri_IndexRelationDescs[i],
											 st->rri->ri_IndexRelationInfo[i]);
				index_close(st->rri->ri_IndexRelationDescs[i], NoLock);
				st->rri->ri_IndexRelationDescs[i] = NULL;
			}
	}
	ExecCloseResultRelations(st->estate);
	ExecResetTupleTable(st->estate->es_tupleTable, false);
	FreeExecutorState(st->estate);
	table_close(st->rel, NoLock);
	CommandCounterIncrement();
}

/*
 * insert_rows
 *
 * Insert rows into the audit log (logid, locked) as INSERT would, without
 * SQL: ids from first_id on, the other columns' defaults, triggers
 * (statement and row, before and after, the append-only one included),
 * NOT NULL and CHECK constraints, stored generated columns, every index.
 * inserted[i] tells whether row i went in (a trigger may skip it).
 */
static void
insert_rows(Oid logid, MigsafeLogRow *rows, int n, int64 first_id,
			bool *inserted)
{
	InsertState st;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	ExprContext *econtext;
	LogTable   *lt;
	int			i;

	insert_open(&st, logid, &lt);
	rri = st.rri;
	slot = st.slot;
	econtext = GetPerTupleExprContext(st.estate);
	if (lt->ncheck > 0)
		rri->ri_ConstraintExprs = lt->checks;

	insert_start(&st);
	for (i = 0; i < n; i++)
	{
		int			a;
		int			c;

		ExecClearTuple(slot);
		for (a = 0; a < lt->natts; a++)
		{
			slot->tts_values[a] = (Datum) 0;
			slot->tts_isnull[a] = true;
			if (lt->defaults[a] != NULL)
				slot->tts_values[a] = ExecEvalExpr(lt->defaults[a], econtext,
												   &slot->tts_isnull[a]);
		}
		slot->tts_values[lt->id_attnum - 1] = Int64GetDatum(first_id + i);
		slot->tts_isnull[lt->id_attnum - 1] = false;
		for (c = 0; c < MIGSAFE_LOG_NCOLS; c++)
		{
			slot->tts_values[lt->attnums[c] - 1] = rows[i].values[c];
			slot->tts_isnull[lt->attnums[c] - 1] = rows[i].nulls[c];
		}
		ExecStoreVirtualTuple(slot);

		inserted[i] = insert_slot(&st, lt->guard_only);
	}
	insert_close(&st);
}

/*
 * migsafe_internal_insert_row
 *
 * Insert one row into relid, one of migsafe's own tables, as an INSERT
 * naming columns names[0..ncols) would, without SQL: values[i] (of type
 * types[i], NULL where nulls[i]) for the columns named, their defaults for
 * the others; statement and row triggers, NOT NULL and CHECK constraints,
 * stored generated columns, every index.  A column missing or of another
 * type is an error.  Runs in an internal section (its role bypasses row
 * security, as the INSERT did); the row is visible to the next command.
 * Returns false when a trigger skipped the row.
 */
bool
migsafe_internal_insert_row(Oid relid, int ncols, const char *const *names,
							const Oid *types, const Datum *values,
							const bool *nulls)
{
	InsertState st;
	Relation	rel;
	TupleDesc	desc;
	TupleTableSlot *slot;
	ExprContext *econtext;
	bool	   *given;
	bool		inserted;
	int			a;
	int			c;

	insert_open(&st, relid, NULL);
	rel = st.rel;
	desc = RelationGetDescr(rel);
	slot = st.slot;
	econtext = GetPerTupleExprContext(st.estate);
	given = palloc0(sizeof(bool) * Max(desc->natts, 1));

	ExecClearTuple(slot);
	for (a = 0; a < desc->natts; a++)
	{
		slot->tts_values[a] = (Datum) 0;
		slot->tts_isnull[a] = true;
	}
	for (c = 0; c < ncols; c++)
	{
		for (a = 0; a < desc->natts; a++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, a);

			if (!att->attisdropped &&
				strcmp(NameStr(att->attname), names[c]) == 0)
				break;
		}
		if (a == desc->natts || TupleDescAttr(desc, a)->atttypid != types[c])
			elog(ERROR, "table \"%s\" has no column \"%s\" of type %s",
				 RelationGetRelationName(rel), names[c],
				 format_type_be(types[c]));
		slot->tts_values[a] = values[c];
		slot->tts_isnull[a] = nulls[c];
		given[a] = true;
	}
	/* the other columns: their defaults, as an INSERT naming ours computes */
	for (a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);
		Node	   *expr;

		if (given[a] || att->attisdropped || att->attgenerated)
			continue;
		expr = build_column_default(rel, att->attnum);
		if (expr != NULL)
			slot->tts_values[a] =
				ExecEvalExpr(ExecInitExpr(expression_planner((Expr *) expr), NULL),
							 econtext, &slot->tts_isnull[a]);
	}
	ExecStoreVirtualTuple(slot);

	insert_start(&st);
	inserted = insert_slot(&st, false);
	insert_close(&st);
	return inserted;
}

/* Whether a row of command tag tag links its snapshot (as INSERT_LINK_SQL) */
static bool
links_snapshot(MigsafeLogRow *row)
{
	char	   *tag;

	if (row->nulls[MIGSAFE_LOG_SNAPSHOT_ID] || row->nulls[MIGSAFE_LOG_COMMAND_TAG])
		return false;
	tag = TextDatumGetCString(row->values[MIGSAFE_LOG_COMMAND_TAG]);
	return strcmp(tag, "RESTORE") != 0 && strcmp(tag, "UNDO") != 0 &&
		strcmp(tag, "PURGE SNAPSHOT") != 0 && strcmp(tag, "EVICT SNAPSHOT") != 0;
}

/*
 * Point each snapshot that rows name at the first of them (ids from
 * first_id on), as INSERT_LINK_SQL does: a snapshot already linked keeps
 * its row.  Connected to SPI, in the log writer's section.
 */
static void
link_snapshots(MigsafeLogRow *rows, int n, int64 first_id, bool *inserted)
{
	Oid			argtypes[2] = {INT8OID, INT8OID};
	SPIPlanPtr	plan = NULL;
	int			i;
	int			j;

	for (i = 0; i < n; i++)
	{
		Datum		values[2];
		int64		snapshot_id;
		bool		earlier = false;
		int			ret;

		if (!inserted[i] || !links_snapshot(&rows[i]))
			continue;
		snapshot_id = DatumGetInt64(rows[i].values[MIGSAFE_LOG_SNAPSHOT_ID]);
		for (j = 0; j < i && !earlier; j++)
			earlier = inserted[j] && links_snapshot(&rows[j]) &&
				DatumGetInt64(rows[j].values[MIGSAFE_LOG_SNAPSHOT_ID]) == snapshot_id;
		if (earlier)
			continue;
		if (plan == NULL &&
			(plan = SPI_prepare("UPDATE migsafe.snapshots SET audit_id = $2"
								" WHERE id OPERATOR(pg_catalog.=) $1"
								" AND audit_id IS NULL", 2, argtypes)) == NULL)
			elog(ERROR, "SPI_prepare failed: %s",
				 SPI_result_code_string(SPI_result));
		values[0] = Int64GetDatum(snapshot_id);
		values[1] = Int64GetDatum(first_id + i);
		ret = SPI_execute_plan(plan, values, NULL, false, 0);
		if (ret != SPI_OK_UPDATE)
			elog(ERROR, "SPI_execute_plan returned %s",
				 SPI_result_code_string(ret));
	}
	if (plan != NULL)
		SPI_freeplan(plan);
}

/*
 * migsafe_internal_write_log
 *
 * Insert n rows into migsafe.audit_log in the current transaction (with
 * an active snapshot), ids taken in order, without SQL (see insert_rows):
 * the rows of changes that ran.  With link, each new snapshot the rows
 * name is pointed at the first row naming it (an owned sequence's row
 * names its table's snapshot too), as migsafe_internal_insert_log() does
 * for rows that come as JSON.  The values are the caller's (its role, its
 * time).  Errors propagate.
 */
void
migsafe_internal_write_log(MigsafeLogRow *rows, int n, bool link)
{
	MigsafeLogWriter state;

	if (n <= 0)
		return;
	if (link)
		SPI_connect();
	migsafe_internal_log_begin(&state);
	PG_TRY();
	{
		Oid			logid;
		Oid			seqid = audit_sequence(&logid);
		int64		first_id = migsafe_internal_take_ids(seqid, n);
		bool	   *inserted = palloc(sizeof(bool) * n);

		insert_rows(logid, rows, n, first_id, inserted);
		if (link)
			link_snapshots(rows, n, first_id, inserted);
	}
	PG_FINALLY();
	{
		migsafe_internal_log_end(&state);
	}
	PG_END_TRY();
	if (link)
		SPI_finish();
}

/*
 * migsafe_internal_repeat_log
 *
 * Write the row of a blocked attempt (JSON) as one more attempt of the
 * same blocked change first made within window_ms (same statement, roles,
 * client, application, approval, reason, database, command, object), or
 * as a new row.  Returns how many attempts
 * the row now counts, or 0 when the row is new.  Errors propagate.
 */
int64
migsafe_internal_repeat_log(const char *row, int window_ms)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, INT8OID};
	Datum		values[3];
	int			ret;
	volatile int64 count = 0;
	MigsafeLogWriter state;

	values[0] = CStringGetTextDatum(row);
	values[1] = CStringGetTextDatum(psprintf("%d milliseconds", window_ms));
	SPI_connect();
	migsafe_internal_log_begin(&state);
	PG_TRY();
	{
		/* the id of a new row; unused (a gap) when an old row counts one more */
		values[2] = Int64GetDatum(migsafe_internal_take_ids(audit_sequence(NULL), 1));
		if (repeat_plan == NULL)
		{
			SPIPlanPtr	plan = SPI_prepare(REPEAT_SQL, 3, argtypes);

			if (plan == NULL)
				elog(ERROR, "SPI_prepare failed: %s",
					 SPI_result_code_string(SPI_result));
			if (SPI_keepplan(plan) != 0)
				elog(ERROR, "SPI_keepplan failed");
			repeat_plan = plan;
		}
		ret = SPI_execute_plan(repeat_plan, values, NULL, false, 0);
		if (ret != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "SPI_execute_plan returned %s",
				 SPI_result_code_string(ret));
		count = pg_strtoint64(SPI_getvalue(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 1));
	}
	PG_FINALLY();
	{
		migsafe_internal_log_end(&state);
	}
	PG_END_TRY();
	SPI_finish();
	return count;
}

/*
 * migsafe_internal_rehearsal
 *
 * Enter (on) or leave a rehearsal: migsafe.rehearse() runs a script in a
 * subtransaction it always rolls back, and while it does the gate lets
 * what it would refuse run, decided and audited as "rehearsed".  Left at
 * transaction end in any case.
 */
void
migsafe_internal_rehearsal(bool on)
{
	if (on)
		rehearsal_depth++;
	else if (rehearsal_depth > 0)
		rehearsal_depth--;
}

/* Whether a rehearsal is running in this backend */
bool
migsafe_internal_rehearsing(void)
{
	return rehearsal_depth > 0;
}

/* At transaction end: an error may have left a section open */
void
migsafe_internal_at_eoxact(void)
{
	internal_depth = 0;
	rehearsal_depth = 0;
	writing_log = false;
}
