/*-------------------------------------------------------------------------
 *
 * rehearse.c
 *	  migsafe.rehearse(sql): run a migration script for real, statement by
 *	  statement, inside a subtransaction that is always rolled back, and
 *	  report what happened: the locks each statement took (read from the
 *	  lock manager), the relations it gave new storage (a changed
 *	  relfilenode), the rows it touched, the time it took, and where that
 *	  differs from what migsafe.check() predicted.
 *
 * For staging and CI databases: the statements take their real locks,
 * under a short lock_timeout and statement_timeout.  Destructive
 * statements run unapproved, since nothing of a rehearsal survives: the
 * gate decides what it would refuse as "rehearsed" while
 * migsafe_internal_rehearsing() is true (nothing is snapshotted), and one
 * audit row, written through the queue so that it outlives the rollback,
 * records the rehearsal.  Statements that cannot run in a transaction
 * block (CONCURRENTLY, VACUUM, transaction control) are reported as
 * skipped.  The first statement that fails ends the rehearsal, as it ends
 * a migration.  Refused on a standby.
 *
 * Calls script.c, classify.c, audit.c and internal.c; check() through SPI.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/rehearse.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timeout.h"

#include "migsafe.h"
#include "audit.h"
#include "classify.h"
#include "internal.h"
#include "rehearse.h"
#include "script.h"

/* Defaults for the timeouts a rehearsal runs under */
#define MIGSAFE_REHEARSE_LOCK_TIMEOUT		"2s"
#define MIGSAFE_REHEARSE_STATEMENT_TIMEOUT	"1min"

/* A relation's storage, to see which statements gave it new storage */
typedef struct RelStorage
{
	Oid			relid;
	Oid			relfilenode;
	char	   *name;			/* "schema.name" of a user table, or NULL */
} RelStorage;

/* What check() predicted of one statement */
typedef struct Prediction
{
	LOCKMODE	lock;			/* strongest lock it names, or NoLock */
	bool		rewrite;		/* some finding says the table is rewritten */
	bool		no_rewrite;		/* some finding says it is not */
	char	   *rules;			/* rule names, for the report */
} Prediction;

/* One statement's report */
typedef struct Rehearsed
{
	MigsafeScriptStmt *stmt;
	char	   *outcome;
	char	   *locks;
	char	   *rewritten;
	int64		rows;
	bool		ran;
	double		ms;
	char	   *predicted;
	char	   *differs;
} Rehearsed;

/* What a statement run in a subtransaction needs and gives */
typedef struct RunCall
{
	const char *text;
	int			timeout_ms;		/* statement_timeout for it, or 0 */
	int64		rows;
} RunCall;

/* list_sort() comparator of RelStorage by relation OID */
static int
compare_relids(const ListCell *a, const ListCell *b)
{
	Oid			ra = ((RelStorage *) lfirst(a))->relid;
	Oid			rb = ((RelStorage *) lfirst(b))->relid;

	return ra < rb ? -1 : ra > rb ? 1 : 0;
}

/* The storage of every relation of this database, in OID order */
static List *
storage_map(void)
{
	Relation	rel = table_open(RelationRelationId, AccessShareLock);
	TableScanDesc scan = table_beginscan_catalog(rel, 0, NULL);
	HeapTuple	tup;
	List	   *result = NIL;

	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tup);
		RelStorage *s;

		if (form->relkind != RELKIND_RELATION && form->relkind != RELKIND_MATVIEW &&
			form->relkind != RELKIND_PARTITIONED_TABLE)
			continue;
		s = palloc(sizeof(RelStorage));
		s->relid = form->oid;
		s->relfilenode = form->relfilenode;
		s->name = form->oid >= FirstNormalObjectId &&
			!IsCatalogNamespace(form->relnamespace) &&
			!IsToastNamespace(form->relnamespace) ?
			psprintf("%s.%s", get_namespace_name(form->relnamespace),
					 NameStr(form->relname)) : NULL;
		result = lappend(result, s);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	list_sort(result, compare_relids);
	return result;
}

/*
 * Tables and materialized views whose storage changed between two maps
 * (both in OID order: one pass over each, for scripts of thousands of
 * statements on databases of thousands of tables)
 */
static char *
storage_changes(List *before, List *after)
{
	StringInfoData buf;
	ListCell   *a;
	int			i = 0;

	initStringInfo(&buf);
	foreach(a, after)
	{
		RelStorage *s = lfirst(a);
		RelStorage *o = NULL;

		while (i < list_length(before) &&
			   ((RelStorage *) list_nth(before, i))->relid < s->relid)
			i++;
		if (i < list_length(before) &&
			((RelStorage *) list_nth(before, i))->relid == s->relid)
			o = list_nth(before, i);
		if (o == NULL || o->relfilenode == s->relfilenode)
			continue;
		if (get_rel_relkind(s->relid) != RELKIND_RELATION &&
			get_rel_relkind(s->relid) != RELKIND_MATVIEW)
			continue;
		appendStringInfo(&buf, "%s%s.%s", buf.len ? ", " : "",
						 get_namespace_name(get_rel_namespace(s->relid)),
						 get_rel_name(s->relid));
	}
	return buf.len ? buf.data : NULL;
}

/* The relation locks this backend holds: "relid:mode" strings */
static List *
held_locks(void)
{
	LockData   *data = GetLockStatusData();
	List	   *result = NIL;
	int			i;

	for (i = 0; i < data->nelements; i++)
	{
		LockInstanceData *inst = &data->locks[i];
		LOCKMODE	mode;

		if (inst->pid != MyProcPid ||
			inst->locktag.locktag_type != LOCKTAG_RELATION ||
			inst->locktag.locktag_field1 != MyDatabaseId)
			continue;
		for (mode = 1; mode <= MaxLockMode; mode++)
			if (inst->holdMask & LOCKBIT_ON(mode))
				result = lappend(result, psprintf("%u:%d",
												  inst->locktag.locktag_field2,
												  mode));
	}
	return result;
}

/* The first position in a sorted list of strings at or after s */
static int
lower_bound(List *sorted, const char *s)
{
	int			lo = 0;
	int			hi = list_length(sorted);

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (strcmp(list_nth(sorted, mid), s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Whether a sorted list of strings holds s */
static bool
has_string(List *sorted, const char *s)
{
	int			i = lower_bound(sorted, s);

	return i < list_length(sorted) && strcmp(list_nth(sorted, i), s) == 0;
}

/* Whether a sorted held_locks() list holds any lock on relid */
static bool
locked_before(List *sorted, Oid relid)
{
	char	   *prefix = psprintf("%u:", relid);
	int			i = lower_bound(sorted, prefix);

	return i < list_length(sorted) &&
		strncmp(list_nth(sorted, i), prefix, strlen(prefix)) == 0;
}

/* The name a storage_map() (OID order) gives relid, or NULL */
static const char *
storage_name(List *storage, Oid relid)
{
	int			lo = 0;
	int			hi = list_length(storage);

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;
		RelStorage *s = list_nth(storage, mid);

		if (s->relid == relid)
			return s->name;
		if (s->relid < relid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* list_sort() comparator for C strings */
static int
compare_names(const ListCell *a, const ListCell *b)
{
	return strcmp(lfirst(a), lfirst(b));
}

/*
 * new_locks
 *
 * The tables and materialized views (outside migsafe's own schema) the
 * statement locked that were not locked before it, each with the strongest
 * mode held on it now, as "schema.name MODE".  *strongest gets the
 * strongest of those.
 */
static char *
new_locks(List *before, List *after, List *storage, LOCKMODE *strongest)
{
	StringInfoData buf;
	ListCell   *lc;
	List	   *items = NIL;
	int			i;

	/*
	 * Sorted, the modes held on one relation are next to each other, and
	 * what was held before is found by binary search: a script of thousands
	 * of statements holds thousands of locks by its end.
	 */
	list_sort(before, compare_names);
	list_sort(after, compare_names);
	*strongest = NoLock;
	for (i = 0; i < list_length(after); i++)
	{
		Oid			relid;
		int			mode;
		LOCKMODE	best = NoLock;
		char		relkind;
		Oid			nspoid;
		int			j;

		if (has_string(before, list_nth(after, i)) ||
			sscanf(list_nth(after, i), "%u:%d", &relid, &mode) != 2 ||
			locked_before(before, relid))
			continue;
		/* the strongest mode held on relid now; skip its other entries */
		for (j = i; j < list_length(after); j++)
		{
			Oid			r;
			int			m;

			if (sscanf(list_nth(after, j), "%u:%d", &r, &m) != 2 || r != relid)
				break;
			best = Max(best, m);
		}
		i = j - 1;
		relkind = get_rel_relkind(relid);
		nspoid = get_rel_namespace(relid);
		if (!OidIsValid(nspoid))
		{
			/* dropped by the statement: named as it was before */
			const char *gone = storage_name(storage, relid);

			if (gone == NULL || strncmp(gone, MIGSAFE_SCHEMA ".", strlen(MIGSAFE_SCHEMA) + 1) == 0)
				continue;
			items = lappend(items, psprintf("%s %s (dropped)", gone,
											migsafe_classify_lock_name(best)));
			*strongest = Max(*strongest, best);
			continue;
		}
		if ((relkind != RELKIND_RELATION && relkind != RELKIND_MATVIEW &&
			 relkind != RELKIND_PARTITIONED_TABLE) ||
			IsCatalogNamespace(nspoid) ||
			IsToastNamespace(nspoid) || nspoid == get_namespace_oid(MIGSAFE_SCHEMA, true))
			continue;			/* not a user table */
		items = lappend(items, psprintf("%s.%s %s", get_namespace_name(nspoid),
										get_rel_name(relid),
										migsafe_classify_lock_name(best)));
		*strongest = Max(*strongest, best);
	}
	if (items == NIL)
		return NULL;
	/* by name: the lock manager's order is its hash table's */
	list_sort(items, compare_names);
	initStringInfo(&buf);
	foreach(lc, items)
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", (char *) lfirst(lc));
	return buf.data;
}

/* A lock mode from its name as migsafe_classify_lock_name() spells it */
static LOCKMODE
lock_by_name(const char *name)
{
	LOCKMODE	mode;

	for (mode = 1; mode <= MaxLockMode; mode++)
		if (strcmp(migsafe_classify_lock_name(mode), name) == 0)
			return mode;
	return NoLock;
}

/* What check() predicts of each statement, indexed by statement number */
static Prediction *
predictions(const char *script, int nstmts, MemoryContext cxt)
{
	Prediction *pred;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(script)};
	uint64		i;

	pred = MemoryContextAllocZero(cxt, sizeof(Prediction) * (nstmts + 1));
	if (SPI_execute_with_args("SELECT statement_no, rule,"
							  " facts OPERATOR(pg_catalog.->>) 'lock',"
							  " (facts OPERATOR(pg_catalog.->>) 'rewrite')::pg_catalog.bool"
							  " FROM " MIGSAFE_SCHEMA ".check($1)",
							  1, argtypes, values, NULL, true, 0) < 0)
		return pred;
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int			n = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		char	   *rule = SPI_getvalue(tup, desc, 2);
		char	   *lock = SPI_getvalue(tup, desc, 3);
		Datum		rewrite = SPI_getbinval(tup, desc, 4, &isnull);
		Prediction *p;

		if (n < 1 || n > nstmts)
			continue;
		p = &pred[n];
		if (lock != NULL)
			p->lock = Max(p->lock, lock_by_name(lock));
		if (!isnull && DatumGetBool(rewrite))
			p->rewrite = true;
		else if (!isnull)
			p->no_rewrite = true;
		p->rules = p->rules ?
			MemoryContextStrdup(cxt, psprintf("%s, %s", p->rules, rule)) :
			MemoryContextStrdup(cxt, rule);
	}
	return pred;
}

/* Why a statement cannot run in a rehearsal, or NULL */
static const char *
cannot_rehearse(Node *node)
{
	if (IsA(node, TransactionStmt))
		return "transaction control: the rehearsal runs the whole script in one subtransaction";
	if (migsafe_classify_concurrent(node) || IsA(node, VacuumStmt) ||
		IsA(node, CreatedbStmt) || IsA(node, DropdbStmt) ||
		IsA(node, AlterSystemStmt) || IsA(node, CreateTableSpaceStmt) ||
		IsA(node, DropTableSpaceStmt))
		return "cannot run inside a transaction block; see migsafe.check() for its locks";
	return NULL;
}

/*
 * Run one statement.  statement_timeout is armed once per top-level
 * statement, so setting it here would not reach the rehearsed ones: the
 * timer is armed for each of them instead, unless the caller's own
 * statement_timeout is already running.
 */
static void
run_call(void *arg)
{
	RunCall    *call = arg;
	volatile bool armed = false;
	volatile int ret = 0;

	if (call->timeout_ms > 0 && !get_timeout_active(STATEMENT_TIMEOUT))
	{
		enable_timeout_after(STATEMENT_TIMEOUT, call->timeout_ms);
		armed = true;
	}
	PG_TRY();
	{
		ret = SPI_execute(call->text, false, 0);
	}
	PG_FINALLY();
	{
		if (armed)
			disable_timeout(STATEMENT_TIMEOUT, false);
	}
	PG_END_TRY();
	if (ret < 0)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	call->rows = (int64) SPI_processed;
}

/* Compare what ran with the prediction, for the report */
static char *
differences(Rehearsed *r, Prediction *p, LOCKMODE strongest)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (p->lock != NoLock && strongest != NoLock && strongest != p->lock)
		appendStringInfo(&buf, "check() predicted an %s lock, the statement took %s",
						 migsafe_classify_lock_name(p->lock),
						 migsafe_classify_lock_name(strongest));
	if (r->rewritten != NULL && p->no_rewrite && !p->rewrite)
		appendStringInfo(&buf, "%scheck() predicted no rewrite, the statement gave %s new storage",
						 buf.len ? "; " : "", r->rewritten);
	if (r->rewritten == NULL && p->rewrite)
		appendStringInfo(&buf, "%scheck() predicted a rewrite, none happened",
						 buf.len ? "; " : "");
	if (p->rules == NULL && strongest >= AccessExclusiveLock && r->rows == 0 &&
		r->rewritten != NULL)
		appendStringInfo(&buf, "%scheck() found nothing, the statement rewrote %s under an %s lock",
						 buf.len ? "; " : "", r->rewritten,
						 migsafe_classify_lock_name(strongest));
	return buf.len ? buf.data : NULL;
}

/*
 * The audit row that records a rehearsal, queued (so that it outlives the
 * rollback) before anything runs (so that a rehearsal interrupted by a
 * timeout or a cancel is recorded too)
 */
static void
audit_rehearsal(const char *script, int nstmts)
{
	MigsafeAuditRow *row = palloc0(sizeof(MigsafeAuditRow));
	int			len = strlen(script);

	row->command_tag = "REHEARSE";
	row->statement = len > 2000 ? psprintf("%.*s...", pg_mbcliplen(script, len, 2000), script) :
		script;
	row->decision = "rehearsed";
	row->detail = psprintf(ngettext("migsafe.rehearse() runs %d statement and rolls it back.",
									"migsafe.rehearse() runs %d statements and rolls them back.",
									nstmts),
						   nstmts);
	migsafe_audit_queue(MyDatabaseId, list_make1(row));
}

/*
 * rehearse_script
 *
 * Run the statements in a subtransaction the caller rolls back, and return
 * the reports (allocated in cxt).
 */
static List *
rehearse_script(const char *script, List *stmts, const char *lock_timeout,
				int timeout_ms, MemoryContext cxt)
{
	List	   *result = NIL;
	Prediction *pred;
	ListCell   *lc;
	bool		stopped = false;

	/* recorded first, so that an interrupted rehearsal is recorded too */
	audit_rehearsal(script, list_length(stmts));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	pred = predictions(script, list_length(stmts), cxt);
	(void) set_config_option("lock_timeout", lock_timeout, PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);

	foreach(lc, stmts)
	{
		MigsafeScriptStmt *stmt = lfirst(lc);
		Rehearsed  *r = MemoryContextAllocZero(cxt, sizeof(Rehearsed));
		Prediction *p = &pred[stmt->number];
		const char *skip;
		MemoryContext old;

		r->stmt = stmt;
		r->predicted = p->rules;
		old = MemoryContextSwitchTo(cxt);
		result = lappend(result, r);	/* outlives SPI_finish() */
		MemoryContextSwitchTo(old);
		if (stopped)
			r->outcome = "not run: an earlier statement failed";
		else if (stmt->raw == NULL)
		{
			r->outcome = MemoryContextStrdup(cxt, psprintf("error: %s", stmt->error));
			stopped = true;
		}
		else if ((skip = cannot_rehearse(stmt->raw->stmt)) != NULL)
			r->outcome = MemoryContextStrdup(cxt, psprintf("skipped: %s", skip));
		else
		{
			List	   *locks_before = held_locks();
			List	   *storage_before = storage_map();
			RunCall		call;
			ErrorData  *edata;
			instr_time	start;
			instr_time	duration;
			LOCKMODE	strongest;

			call.text = stmt->text;
			call.timeout_ms = timeout_ms;
			call.rows = 0;
			INSTR_TIME_SET_CURRENT(start);
			edata = migsafe_internal_subxact(run_call, &call, true);
			INSTR_TIME_SET_CURRENT(duration);
			INSTR_TIME_SUBTRACT(duration, start);

			old = MemoryContextSwitchTo(cxt);
			r->ran = true;
			r->ms = INSTR_TIME_GET_MILLISEC(duration);
			r->rows = call.rows;
			r->locks = new_locks(locks_before, held_locks(), storage_before, &strongest);
			r->rewritten = storage_changes(storage_before, storage_map());
			if (edata != NULL)
			{
				r->outcome = psprintf("error: %s", edata->message);
				stopped = true;
				FreeErrorData(edata);
			}
			else
			{
				r->outcome = "ok";
				r->differs = differences(r, p, strongest);
			}
			MemoryContextSwitchTo(old);
		}
	}
	SPI_finish();
	return result;
}

PG_FUNCTION_INFO_V1(migsafe_rehearse);

/*
 * migsafe_rehearse
 *
 * migsafe.rehearse(script text, lock_timeout text, statement_timeout text):
 * one row per statement (statement_no, line, statement, outcome, locks,
 * rewritten, rows, ms, predicted, differs).  Everything the script does is
 * rolled back before it returns.  Raises on a standby.
 */
Datum
migsafe_rehearse(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	const char *script;
	const char *lock_timeout = PG_ARGISNULL(1) ? MIGSAFE_REHEARSE_LOCK_TIMEOUT :
	text_to_cstring(PG_GETARG_TEXT_PP(1));
	const char *statement_timeout = PG_ARGISNULL(2) ? MIGSAFE_REHEARSE_STATEMENT_TIMEOUT :
	text_to_cstring(PG_GETARG_TEXT_PP(2));
	List	   *stmts;
	List	   *reports = NIL;
	ListCell   *lc;
	int			timeout_ms;
	int			lock_ms;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot rehearse a migration on a standby"),
				 errhint("Run migsafe.rehearse() on a staging copy of the primary, or use migsafe.check(), which changes nothing.")));
	if (!parse_int(statement_timeout, &timeout_ms, GUC_UNIT_MS, NULL) || timeout_ms < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for statement_timeout: \"%s\"", statement_timeout),
				 errhint("Give a duration, such as '1min' or '500ms'.")));
	if (!parse_int(lock_timeout, &lock_ms, GUC_UNIT_MS, NULL) || lock_ms < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for lock_timeout: \"%s\"", lock_timeout),
				 errhint("Give a duration, such as '2s' or '500ms'.")));
	script = text_to_cstring(PG_GETARG_TEXT_PP(0));
	InitMaterializedSRF(fcinfo, 0);
	stmts = migsafe_script_split(script);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	migsafe_internal_rehearsal(true);
	PG_TRY();
	{
		reports = rehearse_script(script, stmts, lock_timeout, timeout_ms, cxt);
	}
	PG_CATCH();
	{
		/* the subtransaction goes before the error does */
		migsafe_internal_rehearsal(false);
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		PG_RE_THROW();
	}
	PG_END_TRY();
	migsafe_internal_rehearsal(false);
	/* nothing of a rehearsal survives */
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;

	foreach(lc, reports)
	{
		Rehearsed  *r = lfirst(lc);
		Datum		values[10];
		bool		nulls[10] = {false};

		values[0] = Int32GetDatum(r->stmt->number);
		values[1] = Int32GetDatum(r->stmt->line);
		values[2] = CStringGetTextDatum(r->stmt->text);
		values[3] = CStringGetTextDatum(r->outcome);
		nulls[4] = r->locks == NULL;
		values[4] = nulls[4] ? (Datum) 0 : CStringGetTextDatum(r->locks);
		nulls[5] = r->rewritten == NULL;
		values[5] = nulls[5] ? (Datum) 0 : CStringGetTextDatum(r->rewritten);
		nulls[6] = !r->ran;
		values[6] = Int64GetDatum(r->rows);
		nulls[7] = !r->ran;
		values[7] = Float8GetDatum(r->ms);
		nulls[8] = r->predicted == NULL;
		values[8] = nulls[8] ? (Datum) 0 : CStringGetTextDatum(r->predicted);
		nulls[9] = r->differs == NULL;
		values[9] = nulls[9] ? (Datum) 0 : CStringGetTextDatum(r->differs);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
