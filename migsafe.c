/*-------------------------------------------------------------------------
 *
 * migsafe.c
 *	  Module entry: settings, hook installation and the thin hook
 *	  functions of migsafe.
 *
 * migsafe must be loaded through shared_preload_libraries.  It installs a
 * ProcessUtility hook (the gate, before any catalog change) and an
 * object-access hook (the safety net, on every object really dropped or
 * truncated), registers the security-label provider that marks the
 * databases it guards, and one transaction callback.  The hooks exit at
 * once for anything that cannot destroy data, then call into src/guard.c,
 * and always chain to the previous hook exactly once.
 *
 * Calls flow one way: this file calls guard.c, which calls the modules of
 * src/ below it (see docs/development.md); this file also reaches
 * the settings' parsers (approval.c), the queue (worker.c) and each
 * module's end-of-transaction reset.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * migsafe.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "executor/executor.h"
#include "commands/seclabel.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "tcop/utility.h"
#include "utils/guc.h"

#include "migsafe.h"
#include "approval.h"
#include "audit.h"
#include "classify.h"
#include "collect.h"
#include "command.h"
#include "guard.h"
#include "internal.h"
#include "tools.h"
#include "worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Settings */
bool		migsafe_allow_empty = true;
int			migsafe_ddl_lock_timeout = 5000;	/* ms */
bool		migsafe_guard_dml = false;
int			migsafe_lock_risk = MIGSAFE_LOCK_RISK_WARN;
int			migsafe_lock_risk_after = 10000;	/* ms */
char	   *migsafe_approve = NULL;
char	   *migsafe_check_exclude = NULL;
char	   *migsafe_exempt = NULL;
int			migsafe_audit_queue_size = 1024;
int			migsafe_audit_repeat_window = 60000;	/* ms */
char	   *migsafe_exempt_roles = NULL;
bool		migsafe_log_audit = false;
int			migsafe_mode = MIGSAFE_MODE_ENFORCE;
char	   *migsafe_reason = NULL;
char	   *migsafe_skip_snapshot = NULL;
bool		migsafe_snapshot = true;
int			migsafe_snapshot_max_copy_size = 1024 * 1024;	/* kB: 1 GB */
int			migsafe_snapshot_max_total_size = 0;	/* MB: no cap */
int			migsafe_snapshot_retention = 7 * 24 * 3600; /* seconds */
bool		migsafe_trace = false;

static const struct config_enum_entry lock_risk_options[] = {
	{"warn", MIGSAFE_LOCK_RISK_WARN, false},
	{"block", MIGSAFE_LOCK_RISK_BLOCK, false},
	{"off", MIGSAFE_LOCK_RISK_OFF, false},
	{NULL, 0, false}
};

static const struct config_enum_entry mode_options[] = {
	{"enforce", MIGSAFE_MODE_ENFORCE, false},
	{"warn", MIGSAFE_MODE_WARN, false},
	{"off", MIGSAFE_MODE_OFF, false},
	{NULL, 0, false}
};

/* Saved hook values */
static ProcessUtility_hook_type prev_ProcessUtility = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static needs_fmgr_hook_type prev_needs_fmgr_hook = NULL;
static fmgr_hook_type prev_fmgr_hook = NULL;
static object_access_hook_type prev_object_access_hook = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void migsafe_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
								   bool readOnlyTree,
								   ProcessUtilityContext context,
								   ParamListInfo params,
								   QueryEnvironment *queryEnv,
								   DestReceiver *dest, QueryCompletion *qc);
static void migsafe_ExecutorStart(QueryDesc *queryDesc, int eflags);
static bool migsafe_needs_fmgr_hook(Oid fn_oid);
static void migsafe_fmgr_hook(FmgrHookEventType event, FmgrInfo *flinfo,
							  Datum *private);
static void migsafe_object_access(ObjectAccessType access, Oid classId,
								  Oid objectId, int subId, void *arg);
static void migsafe_shmem_request(void);
static void migsafe_shmem_startup(void);
static void migsafe_xact_callback(XactEvent event, void *arg);
static void define_settings(void);

/*
 * define_settings
 *
 * Define migsafe's settings, in alphabetical order: a flat list, each with
 * its purpose and who may set it.
 */
static void
define_settings(void)
{
	/*
	 * migsafe.allow_empty: let a table or column that holds no data (created
	 * in this transaction, or verifiably empty under lock) be destroyed
	 * without approval.  Superuser only: it widens what passes unapproved.
	 */
	DefineCustomBoolVariable("migsafe.allow_empty",
							 gettext_noop("Allows destroying tables and columns that hold no data without approval."),
							 NULL,
							 &migsafe_allow_empty,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/*
	 * migsafe.approve: the approvals in force, set by whoever runs the
	 * migration, preferably with SET LOCAL.  Checked for syntax at SET time.
	 */
	DefineCustomStringVariable("migsafe.approve",
							   gettext_noop("Approves destructive schema changes of the listed objects."),
							   gettext_noop("A comma-separated list of *, schema.*, schema.relation, schema.relation.column or DATABASE name."),
							   &migsafe_approve,
							   "",
							   PGC_USERSET,
							   GUC_LIST_INPUT,
							   migsafe_approval_check_approve,
							   migsafe_approval_assign_approve, NULL);

	/*
	 * migsafe.audit_queue_size: slots (4 kB each) of the shared-memory queue
	 * that carries audit rows of blocked changes out of their aborting
	 * transaction.  Postmaster: sized at startup.
	 */
	DefineCustomIntVariable("migsafe.audit_queue_size",
							gettext_noop("Sets how many audit rows of blocked changes can wait to be written."),
							NULL,
							&migsafe_audit_queue_size,
							1024, 16, 65536,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

	/*
	 * migsafe.audit_repeat_window: a blocked attempt repeating the same one
	 * (statement, roles, database, objects) made within this window counts on
	 * that attempt's row (repeat_count, last_ts) instead of adding one, so
	 * that a retry loop cannot flood the log.  0: a row per attempt. Read by
	 * the audit writers: server configuration (reload).
	 */
	DefineCustomIntVariable("migsafe.audit_repeat_window",
							gettext_noop("Sets the window in which a repeated blocked attempt counts on its first row."),
							gettext_noop("0 writes a row for every attempt."),
							&migsafe_audit_repeat_window,
							60000, 0, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	/*
	 * migsafe.check_exclude: preview rules migsafe.check() does not report,
	 * for the whole server, a database or a role.  Superuser only: a team's
	 * CI must not switch off the rules the DBA wants seen.
	 */
	DefineCustomStringVariable("migsafe.check_exclude",
							   gettext_noop("Preview rules that migsafe.check() does not report."),
							   gettext_noop("A comma-separated list of rule names."),
							   &migsafe_check_exclude,
							   "",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   NULL, NULL, NULL);

	/*
	 * migsafe.ddl_lock_timeout: the lock_timeout a schema change gets when
	 * the session has none, so that it never queues the application's queries
	 * behind it for long.  Superuser only (per database or role too): a
	 * migration must not switch its own bound off.
	 */
	DefineCustomIntVariable("migsafe.ddl_lock_timeout",
							gettext_noop("Sets the lock_timeout of schema changes when the session has none."),
							gettext_noop("0 turns it off.  CONCURRENTLY forms are left alone."),
							&migsafe_ddl_lock_timeout,
							5000, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	/*
	 * migsafe.exempt: objects never blocked (a staging schema an ETL job
	 * truncates nightly).  Superuser only, same syntax as migsafe.approve.
	 */
	DefineCustomStringVariable("migsafe.exempt",
							   gettext_noop("Exempts the listed objects from blocking."),
							   gettext_noop("Same syntax as migsafe.approve."),
							   &migsafe_exempt,
							   "",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   migsafe_approval_check_exempt,
							   migsafe_approval_assign_exempt, NULL);

	/*
	 * migsafe.exempt_roles: roles (and their members) never blocked.
	 * Superuser only.
	 */
	DefineCustomStringVariable("migsafe.exempt_roles",
							   gettext_noop("Exempts the listed roles and their members from blocking."),
							   NULL,
							   &migsafe_exempt_roles,
							   "",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   migsafe_approval_check_roles,
							   migsafe_approval_assign_roles, NULL);

	/*
	 * migsafe.guard_dml: treat a DELETE or UPDATE that reaches every row of a
	 * table with data (no WHERE) like a TRUNCATE: approval, snapshot, audit.
	 * Off by default: data migrations are not schema changes. Superuser only
	 * (per database or role too).
	 */
	DefineCustomBoolVariable("migsafe.guard_dml",
							 gettext_noop("Guards DELETE and UPDATE without WHERE like TRUNCATE."),
							 NULL,
							 &migsafe_guard_dml,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/*
	 * migsafe.lock_risk: what to do when a schema change would queue behind a
	 * session idle in transaction or a transaction older than
	 * migsafe.lock_risk_after: warn, refuse at once (block) or nothing.
	 * Superuser only (per database or role too).
	 */
	DefineCustomEnumVariable("migsafe.lock_risk",
							 gettext_noop("Sets what happens when a schema change would queue behind a long-running or idle transaction."),
							 NULL,
							 &migsafe_lock_risk,
							 MIGSAFE_LOCK_RISK_WARN,
							 lock_risk_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/*
	 * migsafe.lock_risk_after: how old a conflicting transaction (or lock
	 * wait) must be to count as a risk for migsafe.lock_risk; a session idle
	 * in transaction always counts.  Superuser only.
	 */
	DefineCustomIntVariable("migsafe.lock_risk_after",
							gettext_noop("Sets how long a conflicting transaction must have run to count as a lock risk."),
							NULL,
							&migsafe_lock_risk_after,
							10000, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	/*
	 * migsafe.log_audit: also write every audit row, as one JSON line, to the
	 * server log (for log shipping).  Superuser only.
	 */
	DefineCustomBoolVariable("migsafe.log_audit",
							 gettext_noop("Writes every migsafe audit row to the server log as JSON."),
							 NULL,
							 &migsafe_log_audit,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/*
	 * migsafe.mode: enforce, warn or off.  Superuser only: a migration must
	 * not be able to switch its own guard off.
	 */
	DefineCustomEnumVariable("migsafe.mode",
							 gettext_noop("Sets whether unapproved destructive schema changes are blocked, warned about, or not checked."),
							 NULL,
							 &migsafe_mode,
							 MIGSAFE_MODE_ENFORCE,
							 mode_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/*
	 * migsafe.reason: free text (a ticket, a deploy id) recorded with
	 * approved changes.  Any role.
	 */
	DefineCustomStringVariable("migsafe.reason",
							   gettext_noop("Records why destructive changes are approved."),
							   NULL,
							   &migsafe_reason,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	/*
	 * migsafe.skip_snapshot: objects whose approved destruction goes ahead
	 * without a snapshot (a table too large to copy, backed up another way).
	 * Any role, like migsafe.approve, and never stored; audited.
	 */
	DefineCustomStringVariable("migsafe.skip_snapshot",
							   gettext_noop("Waives the snapshot of the listed objects' approved destructive changes."),
							   gettext_noop("Same syntax as migsafe.approve."),
							   &migsafe_skip_snapshot,
							   "",
							   PGC_USERSET,
							   GUC_LIST_INPUT,
							   migsafe_approval_check_approve,
							   migsafe_approval_assign_skip_snapshot, NULL);

	/*
	 * migsafe.snapshot: keep the data of approved destructive changes.
	 * Superuser only: a migration must not be able to skip its own backup.
	 */
	DefineCustomBoolVariable("migsafe.snapshot",
							 gettext_noop("Keeps a snapshot of the data approved destructive changes destroy."),
							 NULL,
							 &migsafe_snapshot,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/*
	 * migsafe.snapshot_max_copy_size: the largest copy a snapshot may make
	 * (0: no limit); above it the change is refused.  Superuser only.
	 */
	DefineCustomIntVariable("migsafe.snapshot_max_copy_size",
							gettext_noop("Sets the largest amount of data a snapshot may copy."),
							gettext_noop("0 means no limit.  Tables dropped by DROP TABLE alone are moved, not copied."),
							&migsafe_snapshot_max_copy_size,
							1024 * 1024, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	/*
	 * migsafe.snapshot_max_total_size: the space all kept snapshots may hold
	 * (0: no cap); the oldest are evicted when a new one exceeds it.
	 * Superuser only.
	 */
	DefineCustomIntVariable("migsafe.snapshot_max_total_size",
							gettext_noop("Sets the space all kept snapshots may use before the oldest are evicted."),
							gettext_noop("0 means no cap."),
							&migsafe_snapshot_max_total_size,
							0, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MB,
							NULL, NULL, NULL);

	/*
	 * migsafe.snapshot_retention: how long snapshots are kept (0: until
	 * purged); older ones are purged when a new one is taken, and by
	 * migsafe.purge_snapshots().  Superuser only.
	 */
	DefineCustomIntVariable("migsafe.snapshot_retention",
							gettext_noop("Sets how long snapshots are kept."),
							gettext_noop("0 keeps them until purged."),
							&migsafe_snapshot_retention,
							7 * 24 * 3600, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	/*
	 * migsafe.trace: one NOTICE per decision, naming the hook that made it.
	 * Hidden; for migsafe's own tests.
	 */
	DefineCustomBoolVariable("migsafe.trace",
							 gettext_noop("Reports every migsafe decision as a NOTICE."),
							 NULL,
							 &migsafe_trace,
							 false,
							 PGC_USERSET,
							 GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							 NULL, NULL, NULL);
}

/*
 * _PG_init
 *
 * Module load callback.  Refuses to load outside shared_preload_libraries:
 * a guard that only some backends have is no guard.
 */
void
_PG_init(void)
{
	/*
	 * pg_upgrade restores the "migsafe" security label of guarded databases,
	 * so the provider must exist; the guard itself stands aside in
	 * binary-upgrade mode.
	 */
	if (IsBinaryUpgrade)
	{
		register_label_provider(MIGSAFE_LABEL_PROVIDER, migsafe_guard_relabel);
		return;
	}

	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("migsafe must be loaded via shared_preload_libraries"),
				 errhint("Add migsafe to shared_preload_libraries in postgresql.conf and restart the server.")));

	define_settings();
	MarkGUCPrefixReserved("migsafe");

	register_label_provider(MIGSAFE_LABEL_PROVIDER, migsafe_guard_relabel);
	RegisterXactCallback(migsafe_xact_callback, NULL);

	/* the worker that starts audit writers when backends could not */
	migsafe_worker_register_launcher();

	/* Install hooks: the audit queue in shared memory */
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = migsafe_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = migsafe_shmem_startup;
	/* the gate */
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = migsafe_ProcessUtility;
	/* DELETE and UPDATE without WHERE, when migsafe.guard_dml is on */
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = migsafe_ExecutorStart;
	/* the functions of maintenance tools (pg_repack), to know their runs */
	prev_needs_fmgr_hook = needs_fmgr_hook;
	needs_fmgr_hook = migsafe_needs_fmgr_hook;
	prev_fmgr_hook = fmgr_hook;
	fmgr_hook = migsafe_fmgr_hook;
	/* and the safety net */
	prev_object_access_hook = object_access_hook;
	object_access_hook = migsafe_object_access;
}

/* Run the rest of the ProcessUtility chain: the previous hook or core */
static void
chain_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
					 bool readOnlyTree, ProcessUtilityContext context,
					 ParamListInfo params, QueryEnvironment *queryEnv,
					 DestReceiver *dest, QueryCompletion *qc)
{
	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
							params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

/*
 * migsafe_ProcessUtility
 *
 * Every utility statement passes here, at every nesting level (DO blocks,
 * functions, procedures and extension scripts arrive with context QUERY).
 */
static void
migsafe_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
					   bool readOnlyTree, ProcessUtilityContext context,
					   ParamListInfo params, QueryEnvironment *queryEnv,
					   DestReceiver *dest, QueryCompletion *qc)
{
	MigsafeCommand *cmd;
	PlannedStmt *run;

	/*
	 * Fast path: a statement that is not a schema change (BEGIN, COMMIT, SET,
	 * SHOW, COPY, VACUUM, EXPLAIN...) chains at once, without catalog access
	 * or allocation.  Whatever it might still drop indirectly is caught by
	 * the object-access hook.  migsafe's own statements (snapshots, restore,
	 * purge) pass too: they are decided and audited by their caller.
	 */
	if (!migsafe_classify_is_schema_change(pstmt->utilityStmt) ||
		migsafe_internal_active())
	{
		/* a write that may record a migration step (see audit.h) */
		if (IsA(pstmt->utilityStmt, CopyStmt) &&
			((CopyStmt *) pstmt->utilityStmt)->is_from)
			migsafe_audit_xact_wrote = true;
		chain_ProcessUtility(pstmt, queryString, readOnlyTree, context,
							 params, queryEnv, dest, qc);
		return;
	}

	/* CREATE TABLE AS and SELECT INTO write their rows as a SELECT */
	if (IsA(pstmt->utilityStmt, CreateTableAsStmt))
		migsafe_audit_xact_wrote = true;

	/* Decide before anything runs; this raises the blocking error */
	cmd = migsafe_guard_begin(pstmt, queryString, context, params, queryEnv,
							  &run);

	PG_TRY();
	{
		/*
		 * run is pstmt, or the same DROP without the tables a snapshot moved
		 * away: they are gone already.
		 */
		chain_ProcessUtility(run, queryString, readOnlyTree, context,
							 params, queryEnv, dest, qc);
		/* it ran: its audit rows go in its own transaction */
		migsafe_guard_record(cmd);
	}
	PG_CATCH();
	{
		/* pops the frame; a lock timeout is explained */
		migsafe_guard_fail(cmd);
	}
	PG_END_TRY();
	migsafe_guard_end(cmd);

	migsafe_guard_after(pstmt);
}

/*
 * migsafe_ExecutorStart
 *
 * Every query passes here.  It notes that the transaction wrote (see
 * audit.h).  Fast path: unless migsafe.guard_dml is on and
 * the query is a DELETE or UPDATE or has one in WITH (not an EXPLAIN
 * without ANALYZE, not migsafe's own), it chains at once, without catalog
 * access.
 */
static void
migsafe_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	/* a write may record a migration step (see audit.h) */
	if (queryDesc->operation != CMD_SELECT ||
		queryDesc->plannedstmt->hasModifyingCTE)
		migsafe_audit_xact_wrote = true;
	if (migsafe_guard_dml &&
		(queryDesc->operation == CMD_DELETE ||
		 queryDesc->operation == CMD_UPDATE ||
		 queryDesc->operation == CMD_MERGE ||
		 queryDesc->plannedstmt->hasModifyingCTE) &&
		(eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0 &&
		!migsafe_internal_active() && !migsafe_internal_writing_log())
		migsafe_guard_check_dml(queryDesc);
	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/*
 * migsafe_needs_fmgr_hook
 *
 * Whether calls of a function go through migsafe_fmgr_hook: another
 * module's, or a maintenance tool's function (a hash lookup).
 */
static bool
migsafe_needs_fmgr_hook(Oid fn_oid)
{
	if (prev_needs_fmgr_hook && prev_needs_fmgr_hook(fn_oid))
		return true;
	return migsafe_tools_needs_fmgr(fn_oid);
}

/*
 * migsafe_fmgr_hook
 *
 * A function that needs the hook starts or ends: tools.c follows the
 * maintenance tools' functions.  private is left to the other modules.
 */
static void
migsafe_fmgr_hook(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	if (prev_fmgr_hook)
		prev_fmgr_hook(event, flinfo, private);
	migsafe_tools_fmgr(event, flinfo);
}

/*
 * migsafe_object_access
 *
 * Sees every object created, altered, dropped or truncated; switched on
 * the access type, then on the object's class.  Drops and truncations of
 * data, and changes to migsafe's own objects, concern the gate.
 */
static void
migsafe_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					  int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);

	/* migsafe's own statements: decided by their caller */
	if (migsafe_internal_active())
		return;

	switch (access)
	{
		case OAT_POST_CREATE:
			migsafe_guard_note_object(classId, objectId, subId,
									  ((ObjectAccessPostCreate *) arg)->is_internal,
									  true);
			break;
		case OAT_POST_ALTER:
			migsafe_guard_note_object(classId, objectId, subId,
									  ((ObjectAccessPostAlter *) arg)->is_internal,
									  false);
			break;
		case OAT_DROP:
			{
				ObjectAccessDrop *drop = (ObjectAccessDrop *) arg;

				migsafe_guard_note_dropped(classId, objectId, subId);

				/*
				 * Internal deletions are the old storage of a rewritten table
				 * (ALTER TYPE, VACUUM FULL, CLUSTER: the rewrite itself is
				 * guarded in ProcessUtility), temporary objects at commit,
				 * DISCARD or exit, and an identity's sequence after DROP
				 * IDENTITY.  Blocking those would make COMMIT or backend exit
				 * fail.
				 *
				 * XXX: the cleanup of temporary objects cascades to whatever
				 * depends on them, and a permanent table can be made to (a
				 * typed table of a temporary composite type, a column of a
				 * temporary domain): that cascade is not seen here.
				 */
				if (drop != NULL && (drop->dropflags & PERFORM_DELETION_INTERNAL))
					break;
				switch (classId)
				{
					case RelationRelationId:
						migsafe_guard_drop_relation(objectId, subId);
						break;
					case ExtensionRelationId:
						migsafe_guard_drop_extension(objectId);
						break;
					default:
						migsafe_guard_drop_object(classId, objectId, subId);
						break;
				}
				break;
			}
		case OAT_TRUNCATE:
			migsafe_guard_truncate(objectId);
			break;
		default:
			break;
	}
}

/*
 * migsafe_xact_callback
 *
 * The one transaction callback.  Before commit, tie the transaction's
 * audit rows to its migration; at its end, reset each module's state
 * (memory in transaction contexts is gone, and an error may have left
 * frames, dry runs or sections open).
 */
static void
migsafe_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			migsafe_audit_pre_commit();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			migsafe_approval_at_eoxact();
			migsafe_command_at_eoxact();
			migsafe_collect_at_eoxact();
			migsafe_audit_at_eoxact();
			migsafe_internal_at_eoxact();
			migsafe_tools_at_eoxact();
			break;
		default:
			break;
	}
}

/* shmem_request_hook: reserve the audit queue */
static void
migsafe_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	migsafe_worker_shmem_request();
}

/* shmem_startup_hook: attach to the audit queue */
static void
migsafe_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	migsafe_worker_shmem_startup();
}
