/*-------------------------------------------------------------------------
 *
 * locks.c
 *	  Lock safety: a schema change never leaves the application's queries
 *	  queued behind it for long.
 *
 * The most common outage a migration causes is a lock queue: an ALTER
 * TABLE waits for its ACCESS EXCLUSIVE lock behind one long transaction,
 * and every query on the table queues behind the ALTER.  For each schema
 * change the gate inspects, migsafe_locks_begin()
 *
 *	- gives it migsafe.ddl_lock_timeout as its lock_timeout when the
 *	  session has none in force (not to the CONCURRENTLY forms, which wait
 *	  for older transactions by design without making queries wait), and
 *	- looks, before it queues, at who holds or awaits a conflicting lock
 *	  on the tables it names (migsafe_classify_locks()): a session idle in
 *	  transaction, or one whose transaction is older than
 *	  migsafe.lock_risk_after, is a risk, and migsafe.lock_risk says
 *	  whether to warn about it or refuse at once (audited as blocked).
 *
 * When the timeout expires, migsafe_locks_explain() turns the lock
 * timeout error into one that names the lock, the table and who was in
 * the way, from the facts gathered before the statement queued.
 *
 * The look is cheap when nobody is in the way (the lock manager's
 * conflict check, no SPI); the facts are read from pg_locks and
 * pg_stat_activity as migsafe's superuser only when someone is, and the
 * query text of another role's session is shown only to roles that may
 * read it in pg_stat_activity.
 *
 * Calls classify.c, command.c, audit.c and internal.c.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/locks.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/catalog.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "migsafe.h"
#include "audit.h"
#include "classify.h"
#include "command.h"
#include "compat.h"
#include "internal.h"
#include "locks.h"

/* At most this many sessions are described per table */
#define MIGSAFE_LOCK_HOLDERS_MAX	5

/* Who is in the way of one lock a schema change needs */
typedef struct MigsafeLockFact
{
	char	   *relation;		/* 'table "public.orders"' */
	LOCKMODE	mode;
	char	   *sessions;		/* sentences, one per session */
	char	   *sessions_log;	/* the same without query texts, to audit */
	int			risky_pid;		/* a session that is a risk, or 0 */
	char	   *risky_gid;		/* or a prepared transaction that is */
} MigsafeLockFact;

/* A duration in milliseconds, as a reader wants it */
static char *
duration_text(int64 ms)
{
	if (ms < 1000)
		return psprintf(_("%d ms"), (int) ms);
	if (ms < 120 * 1000)
		return psprintf(_("%d s"), (int) (ms / 1000));
	if (ms < 120 * 60 * 1000)
		return psprintf(_("%d min"), (int) (ms / 60000));
	return psprintf(_("%d h"), (int) (ms / 3600000));
}

/*
 * conflicting_modes
 *
 * The names pg_locks gives the modes that conflict with mode, as a
 * text[] for SQL.
 */
static Datum
conflicting_modes(const LOCKTAG *tag, LOCKMODE mode)
{
	LockMethod	method = GetLockTagsMethodTable(tag);
	Datum		names[MAX_LOCKMODES];
	int			n = 0;
	int			m;

	for (m = 1; m <= method->numLockModes; m++)
		if (method->conflictTab[mode] & LOCKBIT_ON(m))
			names[n++] = CStringGetTextDatum(GetLockmodeName(DEFAULT_LOCKMETHOD, m));
	return PointerGetDatum(construct_array(names, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/* The lock mode pg_locks names mode_text */
static LOCKMODE
mode_of(const char *mode_text)
{
	LOCKMODE	m;

	for (m = 1; m < MAX_LOCKMODES; m++)
		if (strcmp(GetLockmodeName(DEFAULT_LOCKMETHOD, m), mode_text) == 0)
			return m;
	return NoLock;
}

/* A query's first line, at most 200 bytes, for a message */
static char *
query_line(const char *query)
{
	int			len = strlen(query);

	if (len <= 200)
		return pstrdup(query);
	return psprintf("%.*s...", pg_mbcliplen(query, len, 200), query);
}

/*
 * describe_session
 *
 * One sentence about a session (or prepared transaction) in the way, from
 * a row of the query in gather_facts(); *risky says whether it is a risk
 * to queue behind.  Its state, age and query's first line are told when
 * caller may see them in pg_stat_activity (a member of its role or of
 * pg_read_all_stats), the query only with with_query.
 */
static char *
describe_session(char **r, Oid caller, bool with_query, bool *risky)
{
	int			pid = r[0] ? atoi(r[0]) : 0;
	const char *mode = migsafe_classify_lock_name(mode_of(r[1]));
	bool		granted = strcmp(r[2], "t") == 0;
	const char *user = r[3] ? r[3] : "?";
	const char *app = r[4] && r[4][0] ? r[4] : "?";
	bool		idle = r[5] != NULL && strncmp(r[5], "idle in transaction", 19) == 0;
	int64		age = r[6] ? strtoll(r[6], NULL, 10) : 0;
	Oid			userid = r[8] ? (Oid) strtoul(r[8], NULL, 10) : InvalidOid;
	const char *gid = r[9];
	bool		visible = has_privs_of_role(caller, ROLE_PG_READ_ALL_STATS) ||
		(OidIsValid(userid) && has_privs_of_role(caller, userid));
	StringInfoData buf;

	*risky = gid != NULL || idle || age >= (int64) migsafe_lock_risk_after;
	initStringInfo(&buf);
	if (gid != NULL)
		appendStringInfo(&buf, _("Prepared transaction \"%s\" (user \"%s\") holds a lock in %s mode on it, prepared %s ago; only COMMIT PREPARED or ROLLBACK PREPARED ends it."),
						 gid, user, mode, duration_text(age));
	else if (!visible)
		appendStringInfo(&buf, granted ?
						 _("Process %d (user \"%s\", application \"%s\") holds a lock in %s mode on it.") :
						 _("Process %d (user \"%s\", application \"%s\") waits for a lock in %s mode on it."),
						 pid, user, app, mode);
	else if (!granted)
		appendStringInfo(&buf, _("Process %d (user \"%s\", application \"%s\") has waited %s for a lock in %s mode on it."),
						 pid, user, app, duration_text(age), mode);
	else if (idle)
		appendStringInfo(&buf, _("Process %d (user \"%s\", application \"%s\") holds a lock in %s mode on it and has been idle in transaction for %s."),
						 pid, user, app, mode, duration_text(age));
	else
		appendStringInfo(&buf, _("Process %d (user \"%s\", application \"%s\") holds a lock in %s mode on it, in a transaction running for %s."),
						 pid, user, app, mode, duration_text(age));
	if (visible && with_query && gid == NULL && r[7] != NULL && r[7][0] != '\0')
	{
		if (idle)
			appendStringInfo(&buf, _(" Its last query was \"%s\"."), query_line(r[7]));
		else
			appendStringInfo(&buf, _(" It runs \"%s\"."), query_line(r[7]));
	}
	return buf.data;
}

/*
 * gather_facts
 *
 * Who holds or awaits a lock on relid that conflicts with mode, from
 * pg_locks and pg_stat_activity, read as migsafe's superuser (the decision
 * needs every session's state; only the query text is hidden from roles
 * that may not see it).  Autovacuum, which cancels itself when it blocks
 * a lock request, is left out.  Allocated in the current memory context;
 * NULL when nobody is in the way any more.
 */
static MigsafeLockFact *
gather_facts(Oid relid, LOCKMODE mode, const LOCKTAG *tag)
{
	MigsafeInternal state;
	MemoryContext cxt = CurrentMemoryContext;
	Oid			caller = GetUserId();
	MigsafeLockFact *fact = palloc0(sizeof(MigsafeLockFact));
	Oid			argtypes[3] = {OIDOID, OIDOID, TEXTARRAYOID};
	Datum		values[3];
	List	   *rows;
	ListCell   *lc;
	StringInfoData buf;
	StringInfoData log;
	int			n = 0;

	values[0] = ObjectIdGetDatum(MyDatabaseId);
	values[1] = ObjectIdGetDatum(relid);
	values[2] = conflicting_modes(tag, mode);
	migsafe_internal_begin(&state);
	PG_TRY();
	{
		SPI_connect();
		rows = migsafe_internal_rows("SELECT l.pid, l.mode, l.granted,"
									 "       COALESCE(a.usename, p.owner), a.application_name, a.state,"
									 "       (pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()"
									 "          OPERATOR(pg_catalog.-) CASE WHEN p.gid IS NOT NULL THEN p.prepared"
									 "               WHEN NOT l.granted THEN l.waitstart"
									 "               WHEN a.state LIKE 'idle in transaction%' THEN a.state_change"
									 "               ELSE COALESCE(a.xact_start, a.query_start) END)"
									 "        OPERATOR(pg_catalog.*) 1000)::pg_catalog.int8,"
									 "       pg_catalog.split_part(a.query, E'\\n', 1), a.usesysid, p.gid"
									 "  FROM pg_catalog.pg_locks l"
									 "  LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) l.pid"
									 "  LEFT JOIN pg_catalog.pg_prepared_xacts p ON l.pid IS NULL"
									 "       AND EXISTS (SELECT FROM pg_catalog.pg_locks x"
									 "            WHERE x.pid IS NULL AND x.locktype OPERATOR(pg_catalog.=) 'transactionid'"
									 "              AND x.virtualtransaction OPERATOR(pg_catalog.=) l.virtualtransaction"
									 "              AND x.transactionid OPERATOR(pg_catalog.=) p.transaction)"
									 " WHERE l.locktype OPERATOR(pg_catalog.=) 'relation'"
									 "   AND l.database OPERATOR(pg_catalog.=) $1"
									 "   AND l.relation OPERATOR(pg_catalog.=) $2"
									 "   AND l.mode OPERATOR(pg_catalog.=) ANY ($3)"
									 "   AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid()"
									 "   AND (a.pid IS NOT NULL OR p.gid IS NOT NULL)"
									 "   AND a.backend_type IS DISTINCT FROM 'autovacuum worker'"
									 " ORDER BY l.granted DESC, 7 DESC, 1",
									 3, argtypes, values, 10);
		MemoryContextSwitchTo(cxt);
		initStringInfo(&buf);
		initStringInfo(&log);
		foreach(lc, rows)
		{
			char	  **r = lfirst(lc);
			bool		risky;
			char	   *sentence = describe_session(r, caller, true, &risky);
			char	   *logged = describe_session(r, caller, false, &risky);

			if (risky && fact->risky_pid == 0 && fact->risky_gid == NULL)
			{
				fact->risky_pid = r[0] ? atoi(r[0]) : 0;
				fact->risky_gid = r[9];
			}
			if (n++ < MIGSAFE_LOCK_HOLDERS_MAX)
			{
				appendStringInfo(&buf, "%s%s", buf.len ? " " : "", sentence);
				appendStringInfo(&log, "%s%s", log.len ? " " : "", logged);
			}
		}
		if (n > MIGSAFE_LOCK_HOLDERS_MAX)
		{
			char	   *more = psprintf(ngettext("%d more session is in the way.",
												 "%d more sessions are in the way.",
												 n - MIGSAFE_LOCK_HOLDERS_MAX),
										n - MIGSAFE_LOCK_HOLDERS_MAX);

			appendStringInfo(&buf, " %s", more);
			appendStringInfo(&log, " %s", more);
		}
		SPI_finish();
	}
	PG_CATCH();
	{
		migsafe_internal_abort(&state);
		PG_RE_THROW();
	}
	PG_END_TRY();
	migsafe_internal_end(&state);
	if (n == 0)
		return NULL;
	fact->sessions = buf.data;
	fact->sessions_log = log.data;
	fact->mode = mode;
	return fact;
}

/*
 * The relation a lock is taken for: an index's table, whose lock queues.
 * *named says whether that is the relation named.
 */
static Oid
queued_relation(RangeVar *rv, bool *named)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);
	char		relkind;

	*named = true;
	if (OidIsValid(relid) &&
		((relkind = get_rel_relkind(relid)) == RELKIND_INDEX ||
		 relkind == RELKIND_PARTITIONED_INDEX))
	{
		relid = IndexGetRelation(relid, true);
		*named = false;
	}
	return relid;
}

/*
 * take_first_lock
 *
 * Take a statement's first lock now, if nobody is in the way: only the
 * lock the statement itself takes first (same relation, same mode, before
 * any other: not a partition, whose parent DROP locks first), so that it
 * then finds the lock held and nothing else changes, and only on a table
 * the role owns, which core locks only after checking that (nobody gets a
 * lock core would have refused), and not where core refuses the statement
 * before any lock (a read-only transaction, a standby, parallel mode).  One
 * question to the lock manager instead of two: asking who holds a lock
 * that conflicts with a strong one looks at every backend's fast-path
 * locks, and so does taking it.
 */
static bool
take_first_lock(MigsafeLockNeed *need, Oid relid, bool named, bool only)
{
	return need->first && named && only && relid >= FirstNormalObjectId &&
		!XactReadOnly && !RecoveryInProgress() && !IsInParallelMode() &&
		!get_rel_relispartition(relid) &&
		migsafe_rel_ownercheck(relid, GetUserId()) &&
		ConditionalLockRelationOid(relid, need->mode);
}

/*
 * look_before_queue
 *
 * For each relation the statement locks in a mode that makes queries wait
 * (SHARE or stronger), whether another session holds a conflicting lock:
 * the lock manager answers without reading any catalog.  Only then are
 * the facts gathered, and kept in cmd for the messages.
 */
static void
look_before_queue(MigsafeCommand *cmd)
{
	List	   *needs = migsafe_classify_locks(cmd->parsetree);
	ListCell   *lc;

	foreach(lc, needs)
	{
		MigsafeLockNeed *need = lfirst(lc);
		LOCKTAG		tag;
		Oid			relid;
		bool		named;
		int			count = 0;
		MigsafeLockFact *fact;
		MemoryContext old;

		if (need->mode < ShareLock ||
			!OidIsValid(relid = queued_relation(need->relation, &named)) ||
			IsSharedRelation(relid) ||
			take_first_lock(need, relid, named, list_length(needs) == 1))
			continue;
		/*
		 * Any lock on the table, not only one that conflicts with ours: a
		 * session waiting ahead (an ALTER behind a reader) makes us wait too,
		 * and waits only while some lock is held.
		 */
		SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
		(void) GetLockConflicts(&tag, AccessExclusiveLock, &count);
		if (count == 0)
			continue;
		old = MemoryContextSwitchTo(cmd->cxt);
		fact = gather_facts(relid, need->mode, &tag);
		if (fact != NULL)
		{
			fact->relation = psprintf(_("table \"%s\""),
									  quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
																 get_rel_name(relid)));
			cmd->lock_facts = lappend(cmd->lock_facts, fact);
		}
		MemoryContextSwitchTo(old);
	}
}

/* The DETAIL saying who is in the way of each lock (for the log: no queries) */
static char *
facts_detail(List *facts, bool for_log)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, facts)
	{
		MigsafeLockFact *fact = lfirst(lc);

		appendStringInfo(&buf, "%s", buf.len ? " " : "");
		appendStringInfo(&buf, _("It needs a lock in %s mode on %s."),
						 migsafe_classify_lock_name(fact->mode), fact->relation);
		appendStringInfo(&buf, " %s", for_log ? fact->sessions_log : fact->sessions);
	}
	return buf.data;
}

/*
 * refuse_or_warn
 *
 * Act on the sessions that are a risk to queue behind, per
 * migsafe.lock_risk: a WARNING, or an ERROR (audited as blocked) before
 * the statement queues.
 */
static void
refuse_or_warn(MigsafeCommand *cmd)
{
	MigsafeLockFact *risky = NULL;
	ListCell   *lc;
	char	   *detail;
	List	   *rows;

	foreach(lc, cmd->lock_facts)
	{
		MigsafeLockFact *fact = lfirst(lc);

		if ((fact->risky_pid != 0 || fact->risky_gid != NULL) && risky == NULL)
			risky = fact;
	}
	if (risky == NULL || migsafe_lock_risk == MIGSAFE_LOCK_RISK_OFF)
		return;
	detail = facts_detail(cmd->lock_facts, false);
	if (migsafe_lock_risk == MIGSAFE_LOCK_RISK_WARN)
	{
		ereport(WARNING,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("%s will wait for a lock in %s mode on %s behind a long-running or idle transaction",
						cmd->tag, migsafe_classify_lock_name(risky->mode), risky->relation),
				 errdetail("%s Queries on the table wait behind it meanwhile.", detail),
				 cmd->lock_timeout > 0 ?
				 errhint("It waits at most %s (migsafe.ddl_lock_timeout).",
						 duration_text(cmd->lock_timeout)) :
				 LockTimeout > 0 ?
				 errhint("It waits at most %s (lock_timeout).",
						 duration_text(LockTimeout)) :
				 errhint("Set lock_timeout to bound the wait.")));
		return;
	}

	rows = migsafe_audit_rows(cmd, NIL, "blocked");
	((MigsafeAuditRow *) linitial(rows))->detail = facts_detail(cmd->lock_facts, true);
	migsafe_audit_queue(MyDatabaseId, rows);
	cmd->lock_refused = true;
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("%s would wait for a lock in %s mode on %s behind a long-running or idle transaction",
					cmd->tag, migsafe_classify_lock_name(risky->mode), risky->relation),
			 errdetail("%s Queries on the table would wait behind it.", detail),
			 risky->risky_gid != NULL ?
			 errhint("Nothing was changed.  Retry when prepared transaction \"%s\" is committed or rolled back; migsafe.lock_risk = block refuses to queue behind it.",
					 risky->risky_gid) :
			 errhint("Nothing was changed.  Retry when process %d has finished, or end it with SELECT pg_terminate_backend(%d); migsafe.lock_risk = block refuses to queue behind it.",
					 risky->risky_pid, risky->risky_pid)));
}

/*
 * migsafe_locks_begin
 *
 * Called by migsafe_guard_begin() for each guarded schema change, before
 * it takes any lock: set its lock_timeout, look at who is in the way, and
 * warn or refuse per migsafe.lock_risk.
 */
void
migsafe_locks_begin(MigsafeCommand *cmd)
{
	if (cmd->muted || cmd->parsetree == NULL)
		return;

	/*
	 * A session's own lock_timeout wins; the CONCURRENTLY forms wait for
	 * older transactions by design and make no query wait.
	 */
	if (migsafe_ddl_lock_timeout > 0 && LockTimeout == 0 &&
		!migsafe_classify_concurrent(cmd->parsetree))
	{
		cmd->lock_nestlevel = NewGUCNestLevel();
		(void) set_config_option("lock_timeout",
								 psprintf("%d", migsafe_ddl_lock_timeout),
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
		cmd->lock_timeout = migsafe_ddl_lock_timeout;
	}
	if (migsafe_lock_risk == MIGSAFE_LOCK_RISK_OFF && LockTimeout == 0)
		return;
	look_before_queue(cmd);
	refuse_or_warn(cmd);
}

/*
 * migsafe_locks_end
 *
 * After the statement succeeded: the session's lock_timeout is back.  On
 * an error the (sub)transaction's abort restores it.
 */
void
migsafe_locks_end(MigsafeCommand *cmd)
{
	if (cmd->lock_nestlevel > 0)
		AtEOXact_GUC(true, cmd->lock_nestlevel);
	cmd->lock_nestlevel = 0;
}

/*
 * migsafe_locks_explain
 *
 * In the error handler of a guarded statement: when the error is a lock
 * timeout (not migsafe's own refusal), the error to raise in its place,
 * allocated in cxt, naming the lock and who was in the way, after the
 * blocked attempt's audit rows are queued.  NULL for any other error.
 */
MigsafeLockTimeout *
migsafe_locks_explain(MigsafeCommand *cmd, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	ErrorData  *edata = CopyErrorData();
	MigsafeLockTimeout *timeout = NULL;
	int			ms = cmd->lock_timeout > 0 ? cmd->lock_timeout : LockTimeout;
	List	   *rows;

	/*
	 * Only core's lock timeout (by its untranslated text: NOWAIT failures and
	 * errors an inner statement explained already share the code), and not
	 * for a CONCURRENTLY form, which may have changed something already (an
	 * index left invalid).
	 */
	if (edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE && !cmd->lock_refused &&
		!cmd->muted && ms > 0 && edata->message_id != NULL &&
		strcmp(edata->message_id, "canceling statement due to lock timeout") == 0 &&
		!migsafe_classify_concurrent(cmd->parsetree))
	{
		timeout = palloc0(sizeof(MigsafeLockTimeout));
		timeout->message = cmd->lock_timeout > 0 ?
			psprintf(_("%s could not get its locks within migsafe.ddl_lock_timeout (%s)"),
					 cmd->tag, duration_text(ms)) :
			psprintf(_("%s could not get its locks within lock_timeout (%s)"),
					 cmd->tag, duration_text(ms));
		timeout->detail = cmd->lock_facts != NIL ?
			facts_detail(cmd->lock_facts, false) :
			pstrdup(_("Nobody held a conflicting lock on the tables it names when it started: the lock it waited for was taken meanwhile, or on another object."));
		timeout->hint = pstrdup(_("Nothing was changed, and queries waited behind it for the timeout at most.  Retry the migration later; the migration-tool recipes (docs/tools.md) show a retry loop."));
		rows = migsafe_audit_rows(cmd, NIL, "blocked");
		((MigsafeAuditRow *) linitial(rows))->detail =
			psprintf("%s. %s", timeout->message,
					 cmd->lock_facts != NIL ?
					 facts_detail(cmd->lock_facts, true) : timeout->detail);
		migsafe_audit_queue(MyDatabaseId, rows);
	}
	FreeErrorData(edata);
	MemoryContextSwitchTo(old);
	return timeout;
}

/* Raise the explained lock timeout in place of the error being handled */
void
migsafe_locks_raise(MigsafeLockTimeout *timeout)
{
	FlushErrorState();
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg_internal("%s", timeout->message),
			 errdetail_internal("%s", timeout->detail),
			 errhint("%s", timeout->hint)));
}
