/*-------------------------------------------------------------------------
 *
 * guard.c
 *	  The gate: the decision for each object a statement destroys, the
 *	  blocking error, and the orchestration of one guarded statement.
 *
 * Two hooks feed this file, both from migsafe.c.  The ProcessUtility hook
 * calls migsafe_guard_begin() before a schema change runs: collect.c works
 * out every table, column, sequence and materialized view it destroys and
 * locks them, this file decides each one (approval.c matches approvals and
 * exemptions) and raises the error before anything has changed, and
 * snapshot.c keeps what the approved ones lose.  After the statement,
 * migsafe_guard_record() writes its audit rows (audit.c).  The
 * object-access hook calls the migsafe_guard_drop_* and
 * migsafe_guard_truncate() functions for each object really being dropped
 * or truncated, whatever the path (cascades, extension scripts, internal
 * calls): objects decided up front pass, any other one is decided on the
 * spot.  The invariant both keep: no data-holding object is destroyed
 * unless approved, exempt, new in this transaction, verifiably empty under
 * lock, or migsafe.mode is not enforce.
 *
 * Only migsafe.c calls this file.  It calls collect.c, approval.c,
 * command.c, catalog.c, snapshot.c, audit.c, worker.c and classify.c.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/guard.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_event_trigger.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_authid.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_extension.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "commands/seclabel.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_func.h"
#include "replication/logicalworker.h"
#include "replication/worker_internal.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "migsafe.h"
#include "approval.h"
#include "audit.h"
#include "catalog.h"
#include "classify.h"
#include "collect.h"
#include "command.h"
#include "guard.h"
#include "internal.h"
#include "keptypes.h"
#include "storage.h"
#include "internal.h"
#include "locks.h"
#include "snapshot.h"
#include "storage.h"
#include "tools.h"
#include "worker.h"

/* Longest approval list repeated in the primary message of the error */
#define MIGSAFE_MESSAGE_APPROVAL_MAX	200

/* At most this many objects are described in the client's DETAIL */
#define MIGSAFE_DETAIL_MAX	100

/* At most so many ids of kept snapshots in a DETAIL */
#define MIGSAFE_KEPT_IDS_MAX	10


/* The database a DROP DATABASE running in this backend drops */
static Oid	dropping_dboid = InvalidOid;

static bool old_schema(int elevel, const char *what);
static void decide_target(MigsafeCommand *cmd, MigsafeTarget *t,
						  bool may_scan, const char *hook);

/* ----------------------------------------------------------------
 * Decisions
 * ----------------------------------------------------------------
 */

/*
 * Whether a target is migsafe itself: its extension, an object of its
 * schema (the audit log) or hanging off one.  migsafe.mode and the
 * exemptions do not apply to those: only an approval naming them does, so
 * that a superuser cannot quietly switch the audit log off and empty it.
 */
static bool
own_object(MigsafeTarget *t)
{
	if (t->protected || t->classid == ExtensionRelationId ||
		t->classid == DatabaseRelationId)
		return true;
	return t->classid == RelationRelationId &&
		get_rel_namespace(t->objid) == migsafe_catalog_namespace();
}

/* The target another target's data belongs to (sequence owner), or NULL */
static MigsafeTarget *
owning_target(MigsafeCommand *cmd, MigsafeTarget *t)
{
	Oid			owner;
	int32		ownercol;
	MigsafeTarget *o;

	if (cmd == NULL || t->relkind != RELKIND_SEQUENCE ||
		!migsafe_catalog_sequence_owner(t->objid, &owner, &ownercol) ||
		migsafe_catalog_sequence_owned_here(t->objid))
		return NULL;
	o = migsafe_command_find(cmd, RelationRelationId, owner, 0);
	if (o == NULL)
		o = migsafe_command_find(cmd, RelationRelationId, owner, ownercol);
	return o;
}

/*
 * follows_owner
 *
 * Whether an owned sequence takes its owner's decision: only when someone
 * approved (or exempted, or warn or off let through) the owner.  An empty
 * or new owner says nothing about the sequence, which may have been made
 * its property a moment ago (ALTER SEQUENCE ... OWNED BY): it is decided on
 * its own.
 */
static bool
follows_owner(MigsafeCommand *cmd, MigsafeTarget *owner, bool may_scan,
			  const char *hook)
{
	if (owner->decision == MIGSAFE_DECISION_NONE)
		decide_target(cmd, owner, may_scan, hook);
	switch (owner->decision)
	{
		case MIGSAFE_DECISION_APPROVED:
		case MIGSAFE_DECISION_EXEMPT:
		case MIGSAFE_DECISION_WARNED:
		case MIGSAFE_DECISION_REHEARSED:
		case MIGSAFE_DECISION_OFF:
		case MIGSAFE_DECISION_BLOCKED:
			return true;
		default:
			return false;
	}
}

/* Whether the target was measured empty (no rows, or no non-null value) */
static bool
target_is_empty(MigsafeTarget *t)
{
	if (t->relkind == RELKIND_SEQUENCE)
		return false;			/* its state is data; see docs/settings.md */
	return t->subid > 0 ? t->values == 0 : t->rows == 0;
}

/*
 * Decide a target nothing lets through: empty (measured under the lock
 * may_scan says is held), warned, or blocked, measured for the message.
 */
static void
decide_refused(MigsafeTarget *t, bool may_scan)
{
	bool		measurable = t->classid == RelationRelationId && may_scan &&
	!t->protected && !t->no_scan;

	if (measurable)
	{
		migsafe_catalog_measure(t, false);
		if (migsafe_allow_empty && target_is_empty(t))
		{
			t->decision = MIGSAFE_DECISION_EMPTY;
			return;
		}
	}
	if (migsafe_internal_rehearsing() && !own_object(t))
		t->decision = MIGSAFE_DECISION_REHEARSED;	/* rolled back, see
													 * rehearse.c */
	else if (migsafe_mode == MIGSAFE_MODE_WARN && !own_object(t))
		t->decision = MIGSAFE_DECISION_WARNED;
	else
		t->decision = MIGSAFE_DECISION_BLOCKED;
	if (measurable)
		migsafe_catalog_measure(t, true);
}

/* One NOTICE per decision, under migsafe.trace (migsafe's own tests) */
static void
trace_decision(MigsafeCommand *cmd, MigsafeTarget *t, const char *hook)
{
	ereport(NOTICE,
			(errmsg_internal("migsafe: %s: %s %s on %s: %s%s%s",
							 hook,
							 cmd ? cmd->tag : "(no statement)",
							 migsafe_classify_op_name(t->op),
							 t->ident,
							 migsafe_command_decision_name(t->decision),
							 t->matched ? " by " : "",
							 t->matched ? t->matched : "")));
}

/*
 * tool_copy_rebuilt
 *
 * A tool's scratch target t may go as scratch unless it is the copy of a
 * table the swap left empty while the copy holds rows: swapping in an
 * emptied copy is no rebuild, and the copy is then decided like any table.
 * For the run's audit row, t->snapshot_note says what the copy and the
 * table hold.
 */
static bool
tool_copy_rebuilt(MigsafeTarget *t)
{
	MigsafeTarget table;
	StringInfoData buf;

	if (!OidIsValid(t->copy_of) || t->subid != 0)
		return true;
	memset(&table, 0, sizeof(table));
	table.op = MIGSAFE_OP_ALTER;
	table.classid = RelationRelationId;
	table.objid = t->copy_of;
	table.relkind = RELKIND_RELATION;
	table.nspname = get_namespace_name(get_rel_namespace(t->copy_of));
	table.relname = get_rel_name(t->copy_of);
	migsafe_catalog_measure(t, true);
	migsafe_catalog_measure(&table, false);
	if (table.rows == 0 && t->rows > 0)
	{
		t->tool = NULL;
		t->copy_of = InvalidOid;
		return false;
	}
	migsafe_catalog_measure(&table, true);
	initStringInfo(&buf);
	migsafe_command_describe(&buf, t);
	migsafe_command_describe(&buf, &table);
	t->snapshot_note = buf.data;
	return true;
}

/*
 * decide_target
 *
 * Decide one target of cmd (which may be NULL outside any guarded
 * statement).  may_scan says whether a lock excluding writers is held, so
 * that emptiness can be verified.  Sets t->decision; raises nothing.
 */
static void
decide_target(MigsafeCommand *cmd, MigsafeTarget *t, bool may_scan,
			  const char *hook)
{
	MigsafeTarget *owner;

	if (t->classid == RelationRelationId && !t->protected &&
		t->relkind == RELKIND_PARTITIONED_TABLE && t->subid == 0)
		t->decision = MIGSAFE_DECISION_NO_DATA;
	else if (t->classid == RelationRelationId && !t->protected &&
			 (t->tool = migsafe_tools_scratch(t->objid,
											  t->op == MIGSAFE_OP_DELETE ||
											  t->op == MIGSAFE_OP_UPDATE,
											  &t->copy_of)) != NULL &&
			 tool_copy_rebuilt(t))
		t->decision = MIGSAFE_DECISION_SCRATCH;
	else if (migsafe_mode == MIGSAFE_MODE_OFF && !own_object(t))
		t->decision = MIGSAFE_DECISION_OFF;
	else if ((owner = owning_target(cmd, t)) != NULL &&
			 follows_owner(cmd, owner, may_scan, hook))
	{
		/*
		 * An owned sequence's state belongs to its table or column: an
		 * approval (or exemption, warn or off) of that one covers it, and it
		 * is reported with it.
		 */
		t->decision = owner->decision;
		t->matched = owner->matched;
		t->follows = true;
	}
	else if (migsafe_allow_empty && t->classid == RelationRelationId &&
			 !t->protected && migsafe_catalog_created_here(t->objid))
		t->decision = MIGSAFE_DECISION_NEW;
	else if ((t->matched = migsafe_approval_match(MIGSAFE_SETTING_APPROVE, t)) != NULL)
		t->decision = MIGSAFE_DECISION_APPROVED;
	else if (!own_object(t) &&
			 ((t->matched = migsafe_approval_match(MIGSAFE_SETTING_EXEMPT, t)) != NULL ||
			  (t->matched = migsafe_approval_exempt_role()) != NULL))
		t->decision = MIGSAFE_DECISION_EXEMPT;
	else
		decide_refused(t, may_scan);

	/*
	 * The match lives as long as the target does: the object-access hook
	 * decides in contexts that are reset before the audit rows are written.
	 */
	if (t->matched != NULL)
		t->matched = MemoryContextStrdup(GetMemoryChunkContext(t), t->matched);

	/*
	 * An approved change to migsafe's own objects could disable the audit log
	 * and then empty it, its own row included: leave a trace outside.
	 */
	if (t->decision == MIGSAFE_DECISION_APPROVED && own_object(t))
		ereport(LOG,
				(errmsg("approved change to migsafe's own %s",
						migsafe_command_description(t)),
				 errdetail("The approval was \"%s\".  The statement was: %s.",
						   t->matched,
						   cmd && cmd->stmt_text ? cmd->stmt_text : "?")));

	if (migsafe_trace)
		trace_decision(cmd, t, hook);
}

/* ----------------------------------------------------------------
 * The blocking error
 * ----------------------------------------------------------------
 */

/*
 * The name a hint should use: for a partition, its topmost ancestor in the
 * set; for a partition's column, the root's column (only the root's can be
 * dropped or retyped).
 */
static char *
hint_ident(MigsafeCommand *cmd, MigsafeTarget *t)
{
	bool		partition = t->classid == RelationRelationId &&
	get_rel_relispartition(t->objid) &&
	!migsafe_approval_attached_here(t->objid);
	MigsafeTarget *best = NULL;
	ListCell   *lc;

	if (partition && t->subid > 0)
	{
		Oid			root = llast_oid(get_partition_ancestors(t->objid));
		char	   *nspname;
		char	   *relname;

		AttrNumber	rootatt = get_attnum(root, t->attname);
		char	   *attname = rootatt != InvalidAttrNumber ?
		migsafe_approval_att_identity(root, rootatt) : NULL;

		migsafe_approval_rel_identity(root, &nspname, &relname);
		return psprintf("%s.%s.%s", quote_identifier(nspname),
						quote_identifier(relname),
						quote_identifier(attname ? attname : t->attname));
	}
	if (!partition || cmd == NULL)
		return t->ident;
	foreach(lc, get_partition_ancestors(t->objid))
	{
		MigsafeTarget *a = migsafe_command_find(cmd, RelationRelationId,
												lfirst_oid(lc), 0);

		if (a != NULL)
			best = a;
	}
	return best != NULL ? best->ident : t->ident;
}

/*
 * The approval that lets the refused targets in list through, as a SQL
 * string literal's contents: each name once, and none that "schema.*" in
 * the same list covers ("migsafe.*" covers "migsafe.audit_log").
 */
static char *
approval_literal(MigsafeCommand *cmd, List *list)
{
	List	   *idents = NIL;
	StringInfoData approval;
	StringInfoData literal;
	ListCell   *lc;

	foreach(lc, list)
	{
		char	   *ident = hint_ident(cmd, lfirst(lc));

		if (!list_member(idents, makeString(ident)))
			idents = lappend(idents, makeString(ident));
	}
	initStringInfo(&approval);
	foreach(lc, idents)
	{
		char	   *ident = strVal(lfirst(lc));
		bool		covered = false;
		ListCell   *lc2;

		foreach(lc2, idents)
		{
			char	   *other = strVal(lfirst(lc2));
			size_t		len = strlen(other);

			if (other != ident && len > 2 && strcmp(other + len - 2, ".*") == 0 &&
				strchr(ident, '.') != NULL && strncmp(ident, other, len - 1) == 0)
				covered = true;
		}
		if (!covered)
			appendStringInfo(&approval, "%s%s", approval.len ? ", " : "", ident);
	}
	initStringInfo(&literal);
	for (const char *p = approval.data; *p; p++)
	{
		if (*p == '\'')
			appendStringInfoChar(&literal, '\'');
		appendStringInfoChar(&literal, *p);
	}
	return literal.data;
}

/*
 * refusal_detail
 *
 * The DETAIL of the blocking error: what each target holds (at most max
 * of them), the other objects the statement takes along, the statement.
 * to_user: the client's version, with rows and sizes only of what the user
 * may read; the server log gets them all.
 */
static char *
refusal_detail(MigsafeCommand *cmd, List *list, int max, bool to_user)
{
	StringInfoData detail;
	ListCell   *lc;
	int			n = 0;
	const char *stmt = cmd != NULL ? cmd->stmt_text : debug_query_string;
	char	   *others = cmd ? migsafe_command_others(cmd) : NULL;

	initStringInfo(&detail);
	foreach(lc, list)
	{
		if (n++ >= max)
			continue;
		if (to_user)
			migsafe_command_describe_to_user(&detail, lfirst(lc));
		else
			migsafe_command_describe(&detail, lfirst(lc));
	}
	if (n > max)
	{
		appendStringInfoChar(&detail, ' ');
		appendStringInfo(&detail,
						 ngettext("%d more object is affected (the server log lists them all).",
								  "%d more objects are affected (the server log lists them all).",
								  n - max),
						 n - max);
	}
	if (others != NULL)
		appendStringInfo(&detail, " %s", others);
	if (stmt != NULL)
	{
		appendStringInfoChar(&detail, ' ');
		appendStringInfo(&detail, _("The statement was: %s."), stmt);
	}
	return detail.data;
}

/*
 * report_targets
 *
 * Raise the blocking ERROR (or, in warn mode, the same text as a WARNING)
 * for the targets in list, all refused.  The primary message names the
 * operation, the first object and, for tools that show that line alone
 * (knex, node-pg-migrate, Prisma), the approval; DETAIL what each holds
 * and the statement; HINT the exact SET LOCAL.
 */
static void
report_targets(MigsafeCommand *cmd, List *list, int elevel)
{
	MigsafeTarget *first = linitial(list);
	const char *tag = cmd ? cmd->tag : "DROP";
	char	   *what = migsafe_command_description(first);
	int			nothers = list_length(list) - 1;
	char	   *literal = approval_literal(cmd, list);
	bool		database = first->classid == DatabaseRelationId &&
	strcmp(tag, "DROP DATABASE") == 0;
	bool		in_message = strlen(literal) <= MIGSAFE_MESSAGE_APPROVAL_MAX;

	ereport(elevel,
			(errcode(ERRCODE_MIGSAFE_NOT_APPROVED),
			 nothers == 0 && in_message ?
			 errmsg("%s on %s requires migsafe approval (migsafe.approve = '%s')",
					tag, what, literal) :
			 nothers == 0 ?
			 errmsg("%s on %s requires migsafe approval", tag, what) :
			 in_message ?
			 errmsg_plural("%s on %s and %d other object requires migsafe approval (migsafe.approve = '%s')",
						   "%s on %s and %d other objects require migsafe approval (migsafe.approve = '%s')",
						   nothers, tag, what, nothers, literal) :
			 errmsg_plural("%s on %s and %d other object requires migsafe approval",
						   "%s on %s and %d other objects require migsafe approval",
						   nothers, tag, what, nothers),
			 errdetail_internal("%s", refusal_detail(cmd, list, MIGSAFE_DETAIL_MAX, true)),
			 errdetail_log("%s", refusal_detail(cmd, list, INT_MAX, false)),
			 database ?
			 errhint("To approve it, run SET migsafe.approve = '%s' in the same session; DROP DATABASE cannot run inside a transaction block.",
					 literal) :
			 nothers == 0 ?
			 errhint("To approve it, run SET LOCAL migsafe.approve = '%s' in the same transaction.",
					 literal) :
			 errhint("To approve them, run SET LOCAL migsafe.approve = '%s' in the same transaction.",
					 literal)));
}

/* Order targets by identity, so that messages are stable */
static int
target_cmp(const ListCell *a, const ListCell *b)
{
	MigsafeTarget *ta = lfirst(a);
	MigsafeTarget *tb = lfirst(b);

	return strcmp(ta->ident, tb->ident);
}

/*
 * report_decisions
 *
 * Report every refused target of cmd: queue the audit rows of blocked ones
 * (the ERROR aborts the transaction) and raise the ERROR; WARN about
 * warned ones.
 */
static void
report_decisions(MigsafeCommand *cmd, List *targets)
{
	List	   *blocked = NIL;
	List	   *warned = NIL;
	ListCell   *lc;

	foreach(lc, targets)
	{
		MigsafeTarget *t = lfirst(lc);

		if (t->follows)
			continue;
		if (t->decision == MIGSAFE_DECISION_BLOCKED)
			blocked = lappend(blocked, t);
		else if (t->decision == MIGSAFE_DECISION_WARNED)
			warned = lappend(warned, t);
	}
	list_sort(blocked, target_cmp);
	list_sort(warned, target_cmp);
	if (blocked != NIL)
	{
		migsafe_audit_queue(OidIsValid(cmd->audit_dbid) ?
							cmd->audit_dbid : MyDatabaseId,
							migsafe_audit_rows(cmd, blocked, "blocked"));
		report_targets(cmd, blocked, ERROR);
	}
	if (warned != NIL)
		report_targets(cmd, warned, WARNING);
}

/*
 * Decide one target of a standalone frame (no statement of the gate's
 * own: DROP DATABASE, a security label) and report it if refused.
 */
static void
decide_alone(MigsafeCommand *cmd, MigsafeTarget *t, const char *hook)
{
	decide_target(NULL, t, false, hook);
	if (t->decision == MIGSAFE_DECISION_BLOCKED ||
		t->decision == MIGSAFE_DECISION_WARNED)
		report_decisions(cmd, list_make1(t));
}

/* ----------------------------------------------------------------
 * Statements the gate judges before they run
 * ----------------------------------------------------------------
 */

/*
 * guard_dropdb
 *
 * DROP DATABASE of a database that carries migsafe's security label (set
 * by CREATE EXTENSION migsafe there, and inherited by CREATE DATABASE from
 * a marked template) needs an approval naming it, from any database.
 * Databases the user may not drop are left to DROP DATABASE's own error.
 * Not skipped with migsafe.mode = off: the database holds migsafe's audit
 * log, which the mode does not switch off.
 */
static void
guard_dropdb(DropdbStmt *stmt, const char *tag)
{
	Oid			dboid = get_database_oid(stmt->dbname, true);
	ObjectAddress addr;
	MigsafeCommand cmd;
	MigsafeTarget *t;

	if (!OidIsValid(dboid) || !migsafe_database_ownercheck(dboid, GetUserId()))
		return;
	ObjectAddressSet(addr, DatabaseRelationId, dboid);
	if (GetSecurityLabel(&addr, MIGSAFE_LABEL_PROVIDER) == NULL)
		return;

	/* the audit row goes to the dropped database's log, where migsafe is */
	migsafe_command_standalone(&cmd, tag,
							   psprintf("DROP DATABASE %s",
										quote_identifier(stmt->dbname)),
							   dboid);
	t = migsafe_command_add_database(&cmd, MIGSAFE_OP_DROP, dboid,
									 stmt->dbname);
	if (migsafe_database_aclcheck(dboid, GetUserId(), ACL_CONNECT) == ACLCHECK_OK)
		t->bytes = DatumGetInt64(DirectFunctionCall1(pg_database_size_oid,
													 ObjectIdGetDatum(dboid)));
	decide_alone(&cmd, t, "ProcessUtility");
}

/*
 * check_object
 *
 * An object is being dropped, truncated or (protected) changed.  In a dry
 * run, collect it.  Otherwise accept it if the statement decided it, or
 * decide it now and raise the blocking error if refused.
 */
static void
check_object(MigsafeOp op, Oid classid, Oid objid, int32 subid,
			 bool locked, bool protected, const char *hook)
{
	MigsafeCommand *cmd = migsafe_command_current();
	MigsafeTarget *t;
	MigsafeCommand scratch;

	if (cmd != NULL && cmd->muted)
		return;
	if (cmd != NULL && cmd->collecting)
	{
		(void) migsafe_command_add_object(cmd, op, classid, objid, subid,
										  protected);
		return;
	}
	if ((t = migsafe_command_decided(op, classid, objid, subid)) != NULL)
	{
		/*
		 * A table or column found empty may have been given data since: by a
		 * ddl_command_start event trigger, which runs after the decision and
		 * before the deletion.  Measured again, under the statement's lock,
		 * right before it goes, and decided anew if it holds data.
		 */
		if (locked && t->decision == MIGSAFE_DECISION_EMPTY)
		{
			decide_refused(t, true);
			if (t->decision != MIGSAFE_DECISION_EMPTY)
			{
				report_decisions(cmd, list_make1(t));
				migsafe_snapshot_late(cmd, t);
			}
		}
		return;
	}

	/*
	 * Not decided up front: a path the ProcessUtility hook did not foresee (a
	 * cascade that grew after the dry run, an extension's C code, a command
	 * without a frame).  Decide here, in a scratch frame when there is no
	 * statement frame.
	 */
	if (cmd == NULL)
	{
		migsafe_command_standalone(&scratch,
								   op == MIGSAFE_OP_TRUNCATE ? "TRUNCATE TABLE" : "DROP",
								   debug_query_string, InvalidOid);
		cmd = &scratch;
	}
	t = migsafe_command_add_object(cmd, op, classid, objid, subid, protected);
	if (t == NULL)
		return;
	decide_target(cmd, t, locked, hook);
	report_decisions(cmd, list_make1(t));
	if (locked)
		migsafe_snapshot_late(cmd, t);
}

/*
 * guard_own_objects
 *
 * Statements about migsafe's own tables that the object-access hook cannot
 * judge afterwards (see migsafe_classify_own_relations()).  They need an
 * approval like any change to migsafe's objects.
 */
static void
guard_own_objects(Node *parsetree)
{
	Oid			nsp = migsafe_catalog_namespace();
	ListCell   *lc;

	/*
	 * The relations are named, and found through the syscache: their schema
	 * is read there too, the catalogs being settled before the statement runs
	 * (migsafe_catalog_is_migsafe_object() reads pg_class itself, for objects
	 * the object-access hook sees being created or moved).
	 */
	if (!OidIsValid(nsp))
		return;
	foreach(lc, migsafe_classify_own_relations(parsetree))
	{
		Oid			relid = RangeVarGetRelid(lfirst_node(RangeVar, lc),
											 NoLock, true);

		if (OidIsValid(relid) && get_rel_namespace(relid) == nsp)
			check_object(MIGSAFE_OP_ALTER, RelationRelationId, relid, 0,
						 false, true, "ProcessUtility");
	}
}

/*
 * Whether renaming or moving relid to newnsp.newrel (NULL: unchanged)
 * brings a relation that may hold data under migsafe.exempt.
 */
static bool
exempting_move(Oid relid, const char *newnsp, const char *newrel)
{
	if (!OidIsValid(relid) || !migsafe_classify_relkind(get_rel_relkind(relid)))
		return false;
	if (newnsp == NULL)
		newnsp = get_namespace_name(get_rel_namespace(relid));
	if (newrel == NULL)
		newrel = get_rel_name(relid);
	if (newnsp == NULL || newrel == NULL)
		return false;			/* dropped meanwhile */
	return migsafe_approval_exempts_name(newnsp, newrel) &&
		!migsafe_approval_exempts_name(get_namespace_name(get_rel_namespace(relid)),
									   get_rel_name(relid));
}

/*
 * The trigger that submits a replicated TRUNCATE to the gate on a
 * subscriber's table (see guard_subscribed_tables()): dropping, renaming
 * or disabling it, or making it fire only for the origin (ENABLE without
 * ALWAYS, also by ALL or USER), would let the next published TRUNCATE
 * empty the table unseen.  Each of those is a change to one of migsafe's
 * objects: it needs an approval of migsafe's (migsafe.*).  Dropping the
 * table takes the trigger along, decided with the table.
 */
#define MIGSAFE_SUBSCRIBER_TRIGGER "migsafe_replicated_truncate"

static void
guard_subscriber_trigger(RangeVar *rv, const char *trigname, MigsafeOp op)
{
	Oid			relid;
	Oid			trigoid;

	if (rv == NULL ||
		(trigname != NULL && strcmp(trigname, MIGSAFE_SUBSCRIBER_TRIGGER) != 0))
		return;
	relid = RangeVarGetRelid(rv, NoLock, true);
	if (!OidIsValid(relid))
		return;
	trigoid = get_trigger_oid(relid, MIGSAFE_SUBSCRIBER_TRIGGER, true);
	if (OidIsValid(trigoid))
		check_object(op, TriggerRelationId, trigoid, 0, false, true,
					 "ProcessUtility");
}

static void
guard_subscriber_triggers(Node *parsetree)
{
	ListCell   *lc;

	if (IsA(parsetree, DropStmt) &&
		((DropStmt *) parsetree)->removeType == OBJECT_TRIGGER)
	{
		foreach(lc, ((DropStmt *) parsetree)->objects)
		{
			List	   *name = lfirst_node(List, lc);

			if (list_length(name) < 2)
				continue;
			guard_subscriber_trigger(makeRangeVarFromNameList(list_truncate(list_copy(name),
																			list_length(name) - 1)),
									 strVal(llast(name)), MIGSAFE_OP_DROP);
		}
	}
	else if (IsA(parsetree, RenameStmt) &&
			 ((RenameStmt *) parsetree)->renameType == OBJECT_TRIGGER)
		guard_subscriber_trigger(((RenameStmt *) parsetree)->relation,
								 ((RenameStmt *) parsetree)->subname,
								 MIGSAFE_OP_ALTER);
	else if (IsA(parsetree, AlterTableStmt))
	{
		foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

			switch (cmd->subtype)
			{
				case AT_EnableTrig:
				case AT_EnableReplicaTrig:
				case AT_DisableTrig:
					guard_subscriber_trigger(((AlterTableStmt *) parsetree)->relation,
											 cmd->name, MIGSAFE_OP_ALTER);
					break;
				case AT_EnableTrigAll:
				case AT_DisableTrigAll:
				case AT_EnableTrigUser:
				case AT_DisableTrigUser:
					guard_subscriber_trigger(((AlterTableStmt *) parsetree)->relation,
											 NULL, MIGSAFE_OP_ALTER);
					break;
				default:
					break;
			}
		}
	}
}

/*
 * guard_exempt_moves
 *
 * A rename or a move (ALTER ... SET SCHEMA) that brings a relation holding
 * data under migsafe.exempt would let a later transaction destroy it
 * unapproved: the move itself needs an approval of the relation, unless it
 * holds no data.  Decided in a frame of its own, so that the statement's
 * own targets (and their snapshots) are untouched.
 */
static void
guard_exempt_moves(MigsafeCommand *cmd, Node *parsetree)
{
	RangeVar   *rv = NULL;
	const char *newnsp = NULL;
	const char *newrel = NULL;
	Oid			relid;
	MigsafeCommand scratch;
	MigsafeTarget *t;

	if (IsA(parsetree, AlterObjectSchemaStmt))
	{
		rv = ((AlterObjectSchemaStmt *) parsetree)->relation;
		newnsp = ((AlterObjectSchemaStmt *) parsetree)->newschema;
	}
	else if (IsA(parsetree, RenameStmt) &&
			 ((RenameStmt *) parsetree)->subname == NULL)
	{
		rv = ((RenameStmt *) parsetree)->relation;
		newrel = ((RenameStmt *) parsetree)->newname;
	}
	if (rv == NULL)
		return;

	/*
	 * Look without a lock first: most renames and moves (all of indexes,
	 * which the statement locks ShareUpdateExclusive only) bring nothing
	 * under migsafe.exempt and must not take a stronger lock than the
	 * statement.  One that does is of a table, materialized view or sequence,
	 * which the statement locks AccessExclusive anyway: lock it so now,
	 * before measuring, and look again.
	 *
	 * XXX: a concurrent rename that makes the name point to another relation
	 * between this look and the statement's own lookup escapes the decision;
	 * that needs concurrent DDL on the very name being moved.
	 */
	relid = RangeVarGetRelid(rv, NoLock, true);
	if (!exempting_move(relid, newnsp, newrel))
		return;
	relid = RangeVarGetRelid(rv, AccessExclusiveLock, true);
	if (!exempting_move(relid, newnsp, newrel))
		return;

	migsafe_command_standalone(&scratch, cmd->tag, cmd->stmt_text, InvalidOid);
	t = migsafe_command_add_object(&scratch, MIGSAFE_OP_DROP, RelationRelationId,
								   relid, 0, false);
	if (t == NULL)
		return;
	decide_target(&scratch, t, true, "ProcessUtility");
	report_decisions(&scratch, list_make1(t));
}

/*
 * release_databases
 *
 * Commands that refuse to run while another process is connected to a
 * database (DROP DATABASE, CREATE DATABASE from a template, renaming it or
 * moving it to another tablespace): let migsafe's audit writer for that
 * database finish and disconnect first, so that it is never the one in the
 * way.
 */
static void
release_databases(Node *parsetree)
{
	const char *dbname = migsafe_classify_database(parsetree);

	if (dbname == NULL)
		return;
	if (IsA(parsetree, DropdbStmt))
		dropping_dboid = get_database_oid(dbname, true);
	migsafe_worker_release(get_database_oid(dbname, true));
}

/*
 * Refuse an ALTER ROLE/DATABASE/SYSTEM or a function's SET clause that
 * would store an approval
 */
static void
refuse_stored_approval(Node *parsetree)
{
	const char *name = migsafe_classify_stored_setting(parsetree);

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s cannot be stored with ALTER ROLE, ALTER DATABASE, ALTER SYSTEM or a function's SET clause",
					name),
			 strcmp(name, "migsafe.skip_snapshot") == 0 ?
			 errdetail("A stored waiver would waive the snapshots of every later session's approved changes.") :
			 errdetail("A stored approval would approve every later session's destructive changes."),
			 errhint("Approve each migration with SET LOCAL migsafe.approve, or ask a superuser for migsafe.exempt or migsafe.exempt_roles.")));
}

/*
 * Refuse to rename schema migsafe, even approved (an unapproved rename is
 * refused as any change to migsafe's objects is).  migsafe knows whether
 * it is installed in a database, and which objects are its own, by that
 * name (see migsafe_catalog_extension()): renamed, the database would be
 * neither guarded nor audited any more, from the very statement on.
 */
static void
refuse_own_schema_rename(Node *parsetree)
{
	RenameStmt *stmt = (RenameStmt *) parsetree;

	if (!IsA(parsetree, RenameStmt) || stmt->renameType != OBJECT_SCHEMA ||
		stmt->subname == NULL || strcmp(stmt->subname, MIGSAFE_SCHEMA) != 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("schema \"%s\" cannot be renamed", MIGSAFE_SCHEMA),
			 errdetail("migsafe finds its objects, and whether it is installed in a database, by the name of its schema: renamed, it would stop guarding and auditing this database."),
			 errhint("To remove migsafe, drop the extension (see docs/upgrading.md, \"Removing migsafe\").")));
}

/* How many snapshots are kept, and the first ids (see migsafe_storage_kept) */
static int64
count_kept(MemoryContext cxt, char **ids)
{
	MigsafeInternal state;
	int64		kept = 0;

	migsafe_internal_begin(&state);
	PG_TRY();
	{
		SPI_connect();
		kept = migsafe_storage_kept(MIGSAFE_KEPT_IDS_MAX, ids);
		if (*ids != NULL)
			*ids = MemoryContextStrdup(cxt, *ids);
		SPI_finish();
	}
	PG_CATCH();
	{
		migsafe_internal_abort(&state);
		PG_RE_THROW();
	}
	PG_END_TRY();
	migsafe_internal_end(&state);
	return kept;
}

/*
 * guard_kept_snapshots
 *
 * Dropping migsafe (DROP EXTENSION, or DROP SCHEMA or DROP OWNED taking
 * it along) takes migsafe.snapshots and migsafe.restore() with it: the
 * snapshots it keeps would stay behind as schemas nobody knows how to
 * restore.  While any is kept, an approval of the extension ("migsafe.*",
 * "*") is not enough: it must also name "migsafe.snapshots" itself.  The
 * refusal is audited like any other.
 */
static void
guard_kept_snapshots(MigsafeCommand *cmd)
{
	MigsafeTarget *ext = NULL;
	ListCell   *lc;
	int64		kept;
	char	   *ids = NULL;

	foreach(lc, cmd->targets)
	{
		MigsafeTarget *t = lfirst(lc);

		if (t->classid == ExtensionRelationId && t->op == MIGSAFE_OP_DROP &&
			t->objid == migsafe_catalog_extension() &&
			t->decision == MIGSAFE_DECISION_APPROVED)
			ext = t;
	}
	if (ext == NULL ||
		migsafe_approval_names_exactly(MIGSAFE_SCHEMA, "snapshots") != NULL)
		return;
	kept = count_kept(cmd->cxt, &ids);
	if (kept == 0)
		return;

	ext->decision = MIGSAFE_DECISION_BLOCKED;
	migsafe_audit_queue(MyDatabaseId,
						migsafe_audit_rows(cmd, list_make1(ext), "blocked"));
	ereport(ERROR,
			(errcode(ERRCODE_MIGSAFE_NOT_APPROVED),
			 errmsg_plural("%s on extension \"migsafe\" requires migsafe approval of its %lld kept snapshot (migsafe.approve = 'migsafe.*, migsafe.snapshots')",
						   "%s on extension \"migsafe\" requires migsafe approval of its %lld kept snapshots (migsafe.approve = 'migsafe.*, migsafe.snapshots')",
						   (unsigned long) kept, cmd->tag, (long long) kept),
			 errdetail_plural("migsafe keeps snapshot %s: its data would stay behind in schema migsafe_snapshot_<id>, but migsafe.snapshots, which says what it holds, and migsafe.restore() go with the extension.  The statement was: %s.",
							  "migsafe keeps snapshots %s: their data would stay behind in schemas migsafe_snapshot_<id>, but migsafe.snapshots, which says what each holds, and migsafe.restore() go with the extension.  The statement was: %s.",
							  (unsigned long) kept,
							  kept > MIGSAFE_KEPT_IDS_MAX ? psprintf("%s, ...", ids) : ids,
							  cmd->stmt_text ? cmd->stmt_text : "?"),
			 errhint("Export the audit log and the snapshots first (see docs/upgrading.md, \"Removing migsafe\"), then run SET LOCAL migsafe.approve = 'migsafe.*, migsafe.snapshots' in the same transaction.")));
}

/*
 * decide_command
 *
 * Collect, lock and decide the targets of a guarded statement, raise the
 * blocking error, then keep what the approved ones lose.  Returns the
 * statement to run (see migsafe_snapshot_take()).
 */
static PlannedStmt *
decide_command(MigsafeCommand *cmd, MigsafeStmtKind kind, PlannedStmt *pstmt,
			   const char *queryString, ProcessUtilityContext context,
			   ParamListInfo params, QueryEnvironment *queryEnv)
{
	ListCell   *lc;

	guard_own_objects(cmd->parsetree);
	guard_subscriber_triggers(cmd->parsetree);
	guard_exempt_moves(cmd, cmd->parsetree);
	/* kept snapshots let go of a type the statement drops or checks */
	migsafe_keptypes_release(cmd->parsetree);

	/*
	 * With migsafe.mode = off the command is only audited; but kept
	 * snapshots are migsafe's own: a DROP that reaches a kept column by a
	 * path migsafe_keptypes_release() does not follow is found by its dry
	 * run in every mode, and so is an ALTER TYPE that blanks a kept
	 * column's attribute (a kept column that another transaction committed
	 * while this one waited for its lock: migsafe_keptypes_release() looked
	 * before).
	 */
	if ((kind == MIGSAFE_STMT_DROP || kind == MIGSAFE_STMT_ALTER) &&
		migsafe_mode == MIGSAFE_MODE_OFF && migsafe_keptypes_exist())
	{
		migsafe_collect_targets(cmd, kind, pstmt, queryString, context,
								params, queryEnv);
		(void) migsafe_keptypes_release_targets(cmd->targets,
												 cmd->parsetree);
		cmd->targets = NIL;
		cmd->dropped = NIL;
	}
	if (!cmd->destructive || kind == MIGSAFE_STMT_DROPDB ||
		migsafe_mode == MIGSAFE_MODE_OFF)
		kind = MIGSAFE_STMT_OTHER;
	migsafe_collect_targets(cmd, kind, pstmt, queryString, context, params,
							queryEnv);
	/* a kept column its dry run reached by another path: let go, again */
	if (migsafe_keptypes_release_targets(cmd->targets, cmd->parsetree))
	{
		cmd->targets = NIL;
		cmd->dropped = NIL;
		migsafe_collect_targets(cmd, kind, pstmt, queryString, context,
								params, queryEnv);
	}
	foreach(lc, cmd->targets)
	{
		MigsafeTarget *t = lfirst(lc);

		if (t->decision == MIGSAFE_DECISION_NONE)
			decide_target(cmd, t, true, "ProcessUtility");
	}
	report_decisions(cmd, cmd->targets);
	guard_kept_snapshots(cmd);

	/* allowed: keep what the approved targets lose, before it runs */
	return migsafe_snapshot_take(cmd, pstmt);
}

/* ----------------------------------------------------------------
 * The ProcessUtility hook's calls
 * ----------------------------------------------------------------
 */

/*
 * forget_dropped_roles
 *
 * DROP ROLE of a role that could read a table migsafe kept a snapshot of:
 * the snapshot's grants would keep the role from being dropped, which
 * PostgreSQL alone would allow.  Revoke them first (storage.c), audited,
 * for the roles the user may drop; the statement's own checks and errors
 * follow, and its rollback undoes the revocation.
 */
static void
forget_dropped_roles(DropRoleStmt *stmt)
{
	MigsafeInternal state;
	List	   *volatile roles = NIL;
	ListCell   *lc;

	if (!has_createrole_privilege(GetUserId()))
		return;					/* DROP ROLE refuses it */
	foreach(lc, stmt->roles)
	{
		Oid			roleid = get_rolespec_oid(lfirst(lc), true);

		if (OidIsValid(roleid) && roleid != BOOTSTRAP_SUPERUSERID &&
			(!superuser_arg(roleid) || superuser()))
			roles = lappend_oid(roles, roleid);
	}
	if (roles == NIL)
		return;
	migsafe_internal_begin(&state);
	PG_TRY();
	{
		SPI_connect();
		foreach(lc, (List *) roles)
			migsafe_storage_forget_role(lfirst_oid(lc));
		SPI_finish();
	}
	PG_CATCH();
	{
		migsafe_internal_abort(&state);
		PG_RE_THROW();
	}
	PG_END_TRY();
	migsafe_internal_end(&state);
}

/*
 * migsafe_guard_begin
 *
 * Called by the ProcessUtility hook before a statement that passed the
 * node-tag fast path runs.  Returns the frame of a guarded statement, which
 * the caller must hand to migsafe_guard_end() whether the statement
 * succeeds or fails, or NULL when there is nothing to guard; *run gets the
 * statement to run (pstmt, or the same DROP without the tables a snapshot
 * moved away).  Raises the blocking error (with nothing changed) when a
 * target is refused.  The frame lives in a child of the caller's memory
 * context.
 */
MigsafeCommand *
migsafe_guard_begin(PlannedStmt *pstmt, const char *queryString,
					ProcessUtilityContext context, ParamListInfo params,
					QueryEnvironment *queryEnv, PlannedStmt **run)
{
	Node	   *parsetree = pstmt->utilityStmt;
	MigsafeStmtKind kind = migsafe_classify_statement(parsetree);
	MigsafeCommand *cmd;

	*run = pstmt;

	/*
	 * Statements run during a dry run (by an ENABLE ALWAYS event trigger):
	 * rolled back with it, and not the dry-run statement's doing.
	 */
	if (migsafe_collect_in_dry_run())
		return migsafe_command_push_muted();
	if (kind == MIGSAFE_STMT_STORED_APPROVAL)
		refuse_stored_approval(parsetree);

	/* DROP DATABASE is guarded from every database, migsafe or not */
	if (kind == MIGSAFE_STMT_DROPDB)
		guard_dropdb((DropdbStmt *) parsetree,
					 GetCommandTagName(CreateCommandTag(parsetree)));
	release_databases(parsetree);

	/* Everything else only where migsafe is installed, but not its script */
	if (!migsafe_catalog_installed() || migsafe_catalog_in_own_script())
		return NULL;
	if (kind == MIGSAFE_STMT_RENAME || IsA(parsetree, AlterTableStmt))
		migsafe_approval_track(parsetree);
	if (IsA(parsetree, DropRoleStmt))
		forget_dropped_roles((DropRoleStmt *) parsetree);

	/*
	 * Statements expanded from another one (the index of a PRIMARY KEY, a
	 * serial's sequence) are part of that command and its audit row, and so
	 * are the plain schema changes of an extension script (the CREATE
	 * EXTENSION row stands for them).  None of them can destroy data;
	 * destructive statements in scripts are guarded like any other.
	 */
	if ((kind == MIGSAFE_STMT_OTHER || kind == MIGSAFE_STMT_RENAME ||
		 kind == MIGSAFE_STMT_CREATEDB) &&
		(context == PROCESS_UTILITY_SUBCOMMAND || creating_extension))
	{
		/* an update script's DROP TYPE: kept snapshots let go of it */
		if (creating_extension)
			migsafe_keptypes_release(parsetree);
		return NULL;
	}

	cmd = migsafe_command_push(pstmt, queryString, context);
	cmd->destructive = kind == MIGSAFE_STMT_DROP ||
		kind == MIGSAFE_STMT_TRUNCATE || kind == MIGSAFE_STMT_ALTER ||
		kind == MIGSAFE_STMT_DROPDB;
	PG_TRY();
	{
		/* before any lock is taken: its lock_timeout, who is in the way */
		migsafe_locks_begin(cmd);
		*run = decide_command(cmd, kind, pstmt, queryString, context, params,
							  queryEnv);
	}
	PG_CATCH();
	{
		migsafe_guard_fail(cmd);
	}
	PG_END_TRY();
	return cmd;
}

/* The decision of a command row: the strongest of its targets' */
static const char *
command_decision(List *targets)
{
	const char *decision = "allowed";
	ListCell   *lc;

	foreach(lc, targets)
	{
		MigsafeTarget *t = lfirst(lc);

		if (t->decision == MIGSAFE_DECISION_WARNED)
			decision = "warned";
		else if (t->decision == MIGSAFE_DECISION_APPROVED &&
				 strcmp(decision, "warned") != 0)
			decision = "approved";
		else if (t->decision == MIGSAFE_DECISION_EXEMPT &&
				 strcmp(decision, "allowed") == 0)
			decision = "exempt";
	}
	return decision;
}

/*
 * Whether a statement is one of a maintenance tool's run: it destroys
 * nothing but the tool's scratch objects (and what holds no data in the
 * tool's schema), and either destroys some or is otherwise part of the run
 * (see migsafe_tools_part_of_run()).  Anything it takes along outside the
 * tool's schema, even empty, is audited as always.
 */
static bool
tool_run(MigsafeCommand *cmd)
{
	bool		scratch = false;
	ListCell   *lc;

	foreach(lc, cmd->targets)
	{
		MigsafeTarget *t = lfirst(lc);

		switch (t->decision)
		{
			case MIGSAFE_DECISION_SCRATCH:
				scratch = true;
				break;
			case MIGSAFE_DECISION_NO_DATA:
			case MIGSAFE_DECISION_EMPTY:
			case MIGSAFE_DECISION_NEW:
				if (t->classid != RelationRelationId ||
					!migsafe_tools_in_schema(t->objid))
					return false;
				break;
			default:
				return false;
		}
	}
	return scratch || migsafe_tools_part_of_run(cmd);
}

/*
 * record_tool_run
 *
 * A run's statements write no audit rows, but the drop of the copy whose
 * storage the tool swapped writes one, for the table it rebuilt.
 */
static void
record_tool_run(MigsafeCommand *cmd)
{
	ListCell   *lc;

	foreach(lc, cmd->targets)
	{
		MigsafeTarget *t = lfirst(lc);
		List	   *rows;
		MigsafeAuditRow *row;
		char	   *name;

		if (t->decision != MIGSAFE_DECISION_SCRATCH || t->subid != 0 ||
			!OidIsValid(t->copy_of) ||
			(name = get_rel_name(t->copy_of)) == NULL)
			continue;
		rows = migsafe_audit_rows(cmd, NIL, "allowed");
		row = linitial(rows);
		row->command_tag = t->tool;
		row->object_type = "table";
		row->object_identity =
			quote_qualified_identifier(get_namespace_name(get_rel_namespace(t->copy_of)),
									   name);
		row->detail = psprintf(_("Rebuilt by %s: its copy %s and its other scratch objects were dropped without approval. %s"),
							   t->tool, migsafe_command_identity(t),
							   t->snapshot_note ? t->snapshot_note : "");
		migsafe_audit_write(rows);
	}
}

/*
 * A temporary object as messages name it: this session's schema
 * (pg_temp_3) written as pg_temp, as the user wrote it
 */
static char *
temp_description(const ObjectAddress *ref)
{
	char	   *desc = getObjectDescription(ref, false);
	bool		exists;
	Oid			nsp = migsafe_catalog_any_namespace(ref, &exists);
	char	   *nspname;
	char	   *qualified;
	char	   *at;

	if (!isTempNamespace(nsp) || (nspname = get_namespace_name(nsp)) == NULL)
		return desc;
	qualified = psprintf("%s.", nspname);
	if ((at = strstr(desc, qualified)) == NULL)
		return desc;
	*at = '\0';
	return psprintf("%spg_temp.%s", desc, at + strlen(qualified));
}

/*
 * Whether an object may depend on a temporary one: its loss at the
 * cleanup destroys no data, and nothing that holds data can depend on it
 * (a column default, a constraint, a trigger, a policy, statistics, an
 * index).  A generated column's expression is part of its column, checked
 * with its table.
 */
static bool
harmless_dependent(const ObjectAddress *obj)
{
	char		relkind;

	switch (obj->classId)
	{
		case AttrDefaultRelationId:
		case ConstraintRelationId:
		case TriggerRelationId:
		case PolicyRelationId:
		case StatisticExtRelationId:
		case EventTriggerRelationId:
			return true;
		case RelationRelationId:
			relkind = get_rel_relkind(obj->objectId);
			return relkind == RELKIND_INDEX ||
				relkind == RELKIND_PARTITIONED_INDEX;
		default:
			return false;
	}
}

/*
 * refuse_temp_dependencies
 *
 * The statement made an object outside the temporary schemas depend on a
 * temporary object (a table typed by a temporary composite type, a column
 * of a temporary domain, a generated column or a view calling a temporary
 * function, an operator or a foreign-data wrapper implemented by one).
 * At the end of the session, or at DISCARD TEMP, which connection poolers
 * run between clients, PostgreSQL drops the temporary object and, in the
 * same internal cleanup, everything that depends on it, directly or
 * through others, data included, without asking any hook.  So no
 * permanent object may depend on a temporary one (but those whose loss
 * is harmless): then no chain of them can reach data either.  Refused
 * whatever the approvals (warned in warn mode), and audited as blocked.
 */
static void
refuse_temp_dependencies(MigsafeCommand *cmd)
{
	ListCell   *lc;

	/* without a temporary schema there is no temporary object */
	if (migsafe_mode == MIGSAFE_MODE_OFF || !migsafe_catalog_any_temp_schema())
		return;
	foreach(lc, cmd->touched)
	{
		ObjectAddress *obj = lfirst(lc);
		ObjectAddress ref;
		Oid			nsp;
		bool		exists;
		char	   *what;
		char	   *on;
		List	   *rows;

		if (harmless_dependent(obj))
			continue;
		nsp = migsafe_catalog_any_namespace(obj, &exists);
		if (!exists || (OidIsValid(nsp) && isAnyTempNamespace(nsp)) ||
			!migsafe_catalog_temp_dependency(obj->classId, obj->objectId, &ref))
			continue;
		what = getObjectDescription(obj, false);
		on = temp_description(&ref);
		if (migsafe_mode == MIGSAFE_MODE_WARN)
		{
			ereport(WARNING,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("%s depends on temporary %s", what, on),
					 errdetail("When the session ends, or at DISCARD TEMP, PostgreSQL drops the temporary object and what depends on it, without migsafe approval.")));
			continue;
		}
		rows = migsafe_audit_rows(cmd, NIL, "blocked");
		((MigsafeAuditRow *) linitial(rows))->detail =
			psprintf("Refused: %s would depend on temporary %s.", what, on);
		migsafe_audit_queue(OidIsValid(cmd->audit_dbid) ?
							cmd->audit_dbid : MyDatabaseId, rows);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("migsafe refuses to make %s depend on temporary %s",
						what, on),
				 errdetail("When the session ends, or at DISCARD TEMP, PostgreSQL drops the temporary object and what depends on it, data included, without asking migsafe."),
				 errhint("Use a permanent object, or make the dependent object temporary too.")));
	}
}

/*
 * migsafe_guard_record
 *
 * Called by the ProcessUtility hook after the statement of cmd succeeded
 * (NULL is accepted): write its audit rows in the current transaction,
 * the command's and one per object it destroyed or rewrote.
 */
void
migsafe_guard_record(MigsafeCommand *cmd)
{
	MemoryContext old;

	if (cmd != NULL)
		migsafe_locks_end(cmd);

	if (cmd == NULL || cmd->muted)
		return;

	migsafe_snapshot_verify(cmd);
	old = MemoryContextSwitchTo(cmd->cxt);

	/*
	 * DROP EXTENSION migsafe took the audit log with it (asked afresh: the
	 * cached answer may predate the drop): its rows go to the server log, the
	 * only record left of who removed the guard.
	 */
	if (!OidIsValid(migsafe_catalog_extension()))
	{
		migsafe_audit_log_dropped(migsafe_audit_rows(cmd, cmd->targets,
													 command_decision(cmd->targets)));
		MemoryContextSwitchTo(old);
		return;
	}
	refuse_temp_dependencies(cmd);
	if (tool_run(cmd))
		record_tool_run(cmd);
	else
		migsafe_audit_write(migsafe_audit_rows(cmd, cmd->targets,
											   command_decision(cmd->targets)));
	MemoryContextSwitchTo(old);
}

/*
 * migsafe_guard_fail
 *
 * In the error handler of a guarded statement (NULL is accepted): pop its
 * frame and raise the error again; a lock timeout is raised as one that
 * names the lock and who was in the way (see locks.c).  Never returns.
 */
void
migsafe_guard_fail(MigsafeCommand *cmd)
{
	MigsafeLockTimeout *timeout = NULL;

	if (cmd != NULL)
		timeout = migsafe_locks_explain(cmd, MemoryContextGetParent(cmd->cxt));
	migsafe_command_pop(cmd);
	if (timeout != NULL)
		migsafe_locks_raise(timeout);
	PG_RE_THROW();
}

/* Pop a frame returned by migsafe_guard_begin() (NULL is accepted) */
void
migsafe_guard_end(MigsafeCommand *cmd)
{
	migsafe_command_pop(cmd);
}

/*
 * guard_subscribed_tables
 *
 * After CREATE or ALTER SUBSCRIPTION: every table the subscriptions of
 * this database write into gets the trigger that submits a replicated
 * TRUNCATE to the gate (migsafe.guard_subscribed_tables(), from version
 * 1.1 of the extension on).
 */
static void
guard_subscribed_tables(void)
{
	Oid			fn;
	MigsafeInternal state;

	if (!migsafe_catalog_installed())
		return;
	fn = LookupFuncName(list_make2(makeString(MIGSAFE_SCHEMA),
								   makeString("guard_subscribed_tables")),
						0, NULL, true);
	if (!OidIsValid(fn))
	{
		(void) old_schema(WARNING, "guarding the TRUNCATE that subscriptions apply");
		return;
	}
	migsafe_internal_begin(&state);
	(void) OidFunctionCall0(fn);
	migsafe_internal_end(&state);
}

/*
 * guard_replicated_truncate
 *
 * Decide a TRUNCATE that the apply worker is about to run, in a frame of
 * its own (no hook made one), and audit it in the apply worker's
 * transaction once allowed; refused, the error stops the worker, which
 * retries, and each refusal is audited as blocked.
 */
static void
guard_replicated_truncate(Oid relid)
{
	MigsafeCommand cmd;
	MigsafeTarget *t;

	if (!migsafe_classify_relkind(get_rel_relkind(relid)) ||
		!migsafe_catalog_installed())
		return;
	migsafe_command_standalone(&cmd, "TRUNCATE TABLE",
							   psprintf("TRUNCATE applied by logical replication (subscription %s)",
										MySubscription ? MySubscription->name : "?"),
							   InvalidOid);
	t = migsafe_command_add_object(&cmd, MIGSAFE_OP_TRUNCATE,
								   RelationRelationId, relid, 0, false);
	if (t == NULL)
		return;
	decide_target(&cmd, t, true, "replication");
	report_decisions(&cmd, list_make1(t));
	migsafe_snapshot_late(&cmd, t);
	migsafe_audit_write(migsafe_audit_rows(&cmd, cmd.targets,
										   command_decision(cmd.targets)));
}

/*
 * migsafe_replicated_truncate_guard
 *
 * The trigger function behind migsafe.replicated_truncate_guard(): a
 * TRUNCATE that a logical replication apply worker runs is decided like
 * one a session runs (refused without an exemption, audited).  The
 * relation is locked ACCESS EXCLUSIVE already.  A session's TRUNCATE was
 * decided by the hooks before the trigger fires.
 */
PG_FUNCTION_INFO_V1(migsafe_replicated_truncate_guard);

Datum
migsafe_replicated_truncate_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s must be fired by TRUNCATE",
						"migsafe.replicated_truncate_guard()")));
	if (IsLogicalWorker())
		guard_replicated_truncate(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

/*
 * migsafe_guard_after
 *
 * Called by the ProcessUtility hook after a statement succeeded.  A
 * dropped database's writer is forgotten; a database created from a
 * template that migsafe guards is guarded too: it holds the extension
 * already.
 */
void
migsafe_guard_after(PlannedStmt *pstmt)
{
	CreatedbStmt *stmt;
	ObjectAddress addr;

	if (IsA(pstmt->utilityStmt, DropdbStmt))
	{
		migsafe_worker_forget(dropping_dboid);
		return;
	}
	if (IsA(pstmt->utilityStmt, CreateSubscriptionStmt) ||
		IsA(pstmt->utilityStmt, AlterSubscriptionStmt))
	{
		guard_subscribed_tables();
		return;
	}
	if (!IsA(pstmt->utilityStmt, CreatedbStmt))
		return;
	stmt = (CreatedbStmt *) pstmt->utilityStmt;
	ObjectAddressSet(addr, DatabaseRelationId,
					 get_database_oid(migsafe_classify_template(stmt), true));
	if (!OidIsValid(addr.objectId) ||
		GetSecurityLabel(&addr, MIGSAFE_LABEL_PROVIDER) == NULL)
		return;
	ObjectAddressSet(addr, DatabaseRelationId,
					 get_database_oid(stmt->dbname, false));
	SetSecurityLabel(&addr, MIGSAFE_LABEL_PROVIDER, MIGSAFE_LABEL_GUARDED);
}

/* ----------------------------------------------------------------
 * The ExecutorStart hook's call
 * ----------------------------------------------------------------
 */

/* Whether an expression has parameters only the executor can fill */
static bool
has_exec_params(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind != PARAM_EXTERN)
		return true;
	return expression_tree_walker(node, has_exec_params, context);
}

/*
 * Whether the one-time conditions of a generic plan hold with the
 * statement's parameters ("DELETE FROM t WHERE $1" with $1 true).  One
 * that needs the executor (an initplan's output: "WHERE (SELECT true)")
 * counts as holding: it lets every row through or none, and the
 * statement is decided as though it lets them all.
 */
static bool
conditions_hold(List *conditions, ParamListInfo params)
{
	EState	   *estate;
	bool		result = true;
	ListCell   *lc;

	if (conditions == NIL)
		return true;
	estate = CreateExecutorState();
	estate->es_param_list_info = params;
	foreach(lc, conditions)
	{
		List	   *qual = (List *) lfirst(lc);

		if (has_exec_params((Node *) qual, NULL))
			continue;
		if (!ExecQual(ExecPrepareQual(qual, estate),
					  GetPerTupleExprContext(estate)))
		{
			result = false;
			break;
		}
	}
	FreeExecutorState(estate);
	return result;
}

/*
 * old_schema
 *
 * Whether migsafe's objects in this database predate version 1.1, which
 * brought what is asked for (what: snapshots of DELETE and UPDATE, the
 * trigger guarding replicated TRUNCATE): the extension was not updated
 * since the library was.  If so, raise elevel (ERROR refuses, WARNING
 * tells that it is skipped) naming the command that fixes it.
 */
static bool
old_schema(int elevel, const char *what)
{
	char	   *version = migsafe_catalog_version();

	if (version == NULL || strcmp(version, "1.0") != 0)
		return false;
	ereport(elevel,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 elevel >= ERROR ?
			 errmsg("%s needs version 1.1 of extension \"migsafe\"", what) :
			 errmsg("%s is skipped: it needs version 1.1 of extension \"migsafe\"", what),
			 errdetail("The extension is at version %s in database \"%s\"; the library loaded is newer.",
					   version, get_database_name(MyDatabaseId)),
			 errhint("Update it with ALTER EXTENSION migsafe UPDATE, after SET LOCAL migsafe.approve = 'migsafe.*' in the same transaction.")));
	return true;
}

/*
 * migsafe_guard_check_dml
 *
 * Called by the ExecutorStart hook, with migsafe.guard_dml on, for a
 * DELETE, UPDATE or MERGE about to run.  When it reaches every row of a table
 * that holds data (no WHERE: see migsafe_classify_unqualified_dml()), it
 * is decided like a TRUNCATE: refused without an approval, and once
 * approved (or warned) a copy of the table is kept first and the change
 * is audited, in its transaction.  The result relations are locked
 * ROW EXCLUSIVE: rows other sessions commit meanwhile are measured and
 * kept as they stand when it starts.
 */
void
migsafe_guard_check_dml(QueryDesc *queryDesc)
{
	List	   *found;
	List	   *conditions;
	MigsafeCommand cmd;
	List	   *destroyed = NIL;
	ListCell   *lc;
	MigsafeDmlTarget *first;

	if (!migsafe_catalog_installed() ||
		(found = migsafe_classify_unqualified_dml(queryDesc->plannedstmt,
												  queryDesc->params,
												  &conditions)) == NIL ||
		!conditions_hold(conditions, queryDesc->params))
		return;
	first = linitial(found);
	migsafe_command_standalone(&cmd,
							   queryDesc->plannedstmt->commandType == CMD_MERGE ? "MERGE" :
							   first->is_delete ? "DELETE" : "UPDATE",
							   migsafe_command_statement_text(queryDesc->plannedstmt,
															  queryDesc->sourceText),
							   InvalidOid);
	ObjectAddressSet(cmd.object, RelationRelationId, first->relid);
	foreach(lc, found)
	{
		MigsafeDmlTarget *d = lfirst(lc);

		(void) migsafe_command_add_relation(&cmd,
											d->is_delete ? MIGSAFE_OP_DELETE : MIGSAFE_OP_UPDATE,
											d->relid, 0);
	}
	foreach(lc, cmd.targets)
	{
		MigsafeTarget *t = lfirst(lc);

		decide_target(&cmd, t, true, "ExecutorStart");
		if (t->decision != MIGSAFE_DECISION_EMPTY &&
			t->decision != MIGSAFE_DECISION_NEW &&
			t->decision != MIGSAFE_DECISION_NO_DATA &&
			t->decision != MIGSAFE_DECISION_SCRATCH)
			destroyed = lappend(destroyed, t);
	}
	report_decisions(&cmd, cmd.targets);
	if (destroyed == NIL)
		return;
	(void) old_schema(ERROR, "the snapshot of a DELETE or UPDATE of every row (migsafe.guard_dml)");
	(void) migsafe_snapshot_take(&cmd, NULL);
	migsafe_audit_write(migsafe_audit_rows(&cmd, destroyed,
										   command_decision(destroyed)));
}

/* ----------------------------------------------------------------
 * The object-access hook's calls
 * ----------------------------------------------------------------
 */

/* Remember an object a statement created or altered (see refuse_temp_dependencies()) */
static void
note_touched(MigsafeCommand *cmd, Oid classId, Oid objectId)
{
	MemoryContext old;
	ObjectAddress *addr;

	if (cmd->touched != NIL)
	{
		addr = llast(cmd->touched);
		if (addr->classId == classId && addr->objectId == objectId)
			return;
	}
	old = MemoryContextSwitchTo(cmd->cxt);
	addr = palloc(sizeof(ObjectAddress));
	ObjectAddressSet(*addr, classId, objectId);
	cmd->touched = lappend(cmd->touched, addr);
	MemoryContextSwitchTo(old);
}

/*
 * migsafe_guard_note_object
 *
 * An object was created (created: OAT_POST_CREATE) or altered
 * (OAT_POST_ALTER) by the current statement: remember the first one for the command's audit
 * row, and guard migsafe's own objects (the audit log, its trigger,
 * functions, schema), which only an approved change may touch.  GRANT and
 * REVOKE are let through: they cannot unseal the audit log (its trigger
 * refuses writes whatever the privileges).  Internal creations and
 * alterations (a table's row type, an index's storage) are part of the
 * statement that caused them, which this function saw.  ALTER EXTENSION
 * migsafe UPDATE changes migsafe's own objects too, so it needs an
 * approval naming them: while its script runs, whatever else runs (an
 * event trigger) could change them unseen.
 */
void
migsafe_guard_note_object(Oid classId, Oid objectId, int subId,
						  bool is_internal, bool created)
{
	MigsafeCommand *cmd = migsafe_command_current();

	if (classId == ExtensionRelationId)
		migsafe_catalog_forget_installed();
	if (cmd == NULL || cmd->collecting || cmd->muted)
		return;
	note_touched(cmd, classId, objectId);
	if (is_internal || !migsafe_classify_nameable_class(classId))
		return;
	if (classId != RelationRelationId)
		subId = 0;				/* only columns have sub-objects to name */
	/* CREATE TABLE and CREATE VIEW make the row type first */
	if (!OidIsValid(cmd->object.classId) ||
		(cmd->object.classId == TypeRelationId &&
		 classId == RelationRelationId))
		ObjectAddressSubSet(cmd->object, classId, objectId, subId);
	if (cmd->parsetree != NULL && IsA(cmd->parsetree, GrantStmt))
		return;
	if (migsafe_catalog_is_migsafe_touched(classId, objectId, subId, created))
	{
		check_object(MIGSAFE_OP_ALTER, classId, objectId, subId, false, true,
					 "object_access");
		/* approved or not, migsafe's schema keeps its name */
		if (classId == NamespaceRelationId && cmd->parsetree != NULL)
			refuse_own_schema_rename(cmd->parsetree);
	}
}

/*
 * migsafe_guard_note_dropped
 *
 * Every object a statement's dry run drops (internal deletions included):
 * whether a DROP TABLE takes anything but the table's own parts decides
 * whether it may move the table instead of copying it.
 */
void
migsafe_guard_note_dropped(Oid classId, Oid objectId, int subId)
{
	MigsafeCommand *cmd = migsafe_command_current();

	if (cmd != NULL && cmd->collecting)
		migsafe_command_note_dropped(cmd, classId, objectId, subId);
}

/*
 * migsafe_guard_drop_extension
 *
 * An extension is being dropped: dropping migsafe's own needs an approval
 * (its objects go with it); once that commits, the database is no longer
 * guarded.
 */
void
migsafe_guard_drop_extension(Oid extoid)
{
	MigsafeCommand *cmd = migsafe_command_current();
	ObjectAddress addr;

	migsafe_catalog_forget_installed();
	if (!migsafe_catalog_installed() || extoid != migsafe_catalog_extension())
		return;
	check_object(MIGSAFE_OP_DROP, ExtensionRelationId, extoid, 0, true, false,
				 "object_access");
	if (cmd != NULL && cmd->collecting)
		return;
	ObjectAddressSet(addr, DatabaseRelationId, MyDatabaseId);
	SetSecurityLabel(&addr, MIGSAFE_LABEL_PROVIDER, NULL);
}

/*
 * migsafe_guard_drop_object
 *
 * Another object is being dropped: migsafe's own objects that are not
 * members of the extension (the audit log's trigger) need an approval.
 * Members can only go with DROP EXTENSION, which is guarded as such, and
 * so do they with DROP SCHEMA or DROP OWNED, whose extension target covers
 * them.
 */
void
migsafe_guard_drop_object(Oid classId, Oid objectId, int subId)
{
	MigsafeCommand *cmd = migsafe_command_current();

	if (!migsafe_catalog_installed() || migsafe_catalog_in_own_script())
		return;
	if (cmd != NULL && cmd->parsetree != NULL &&
		migsafe_classify_drops_extensions(cmd->parsetree, NULL))
		return;
	if (migsafe_catalog_is_migsafe_object_cached(classId, objectId) &&
		getExtensionOfObject(classId, objectId) != migsafe_catalog_extension())
		check_object(MIGSAFE_OP_DROP, classId, objectId, subId, false, true,
					 "object_access");
}

/*
 * migsafe_guard_drop_relation
 *
 * A relation or a column is being dropped: a table, column, sequence or
 * materialized view holding data needs its decision; any other relation
 * of migsafe's own (an index of the log) is judged as one of its objects.
 */
void
migsafe_guard_drop_relation(Oid relid, int subId)
{
	char		relkind = get_rel_relkind(relid);

	/*
	 * A kept snapshot's column of a user's type: the gate converts it before
	 * any statement that drops its type runs (keptypes.c).  One reached all
	 * the same (by a path the dry run did not take) is refused rather than
	 * lost, in every mode.
	 */
	if (subId > 0 && !migsafe_collect_in_dry_run() &&
		migsafe_keptypes_kept_column(relid, subId))
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop column \"%s\" of migsafe's snapshot storage \"%s.%s\"",
						get_attname(relid, (AttrNumber) subId, false),
						get_namespace_name(get_rel_namespace(relid)),
						get_rel_name(relid)),
				 errdetail("The statement drops the column's type, or what the type depends on, by a path migsafe did not see before it started."),
				 errhint("Restore or purge that snapshot first.")));

	if ((subId > 0 ? relkind == RELKIND_RELATION :
		 (migsafe_classify_relkind(relkind) ||
		  relkind == RELKIND_PARTITIONED_TABLE)) &&
		!isAnyTempNamespace(get_rel_namespace(relid)) &&
		migsafe_catalog_installed())
		check_object(MIGSAFE_OP_DROP, RelationRelationId, relid, subId, true,
					 false, "object_access");
	else
		migsafe_guard_drop_object(RelationRelationId, relid, subId);
}

/*
 * migsafe_guard_truncate
 *
 * A relation is being truncated (OAT_TRUNCATE).  For relations named in
 * TRUNCATE this fires before TRUNCATE checks privileges and takes its
 * lock.  A role that may not truncate gets TRUNCATE's own error right
 * after (migsafe's would tell it the table's size).  An undecided relation
 * is locked here, with the lock TRUNCATE takes next anyway, so that it can
 * be measured.
 */
void
migsafe_guard_truncate(Oid relid)
{
	MigsafeCommand *cmd = migsafe_command_current();

	if (!migsafe_classify_relkind(get_rel_relkind(relid)) ||
		isAnyTempNamespace(get_rel_namespace(relid)) ||
		!migsafe_catalog_installed())
		return;
	if (pg_class_aclcheck(relid, GetUserId(), ACL_TRUNCATE) != ACLCHECK_OK)
		return;
	if (cmd == NULL || cmd->collecting ||
		migsafe_command_decided(MIGSAFE_OP_TRUNCATE, RelationRelationId,
								relid, 0) == NULL)
		LockRelationOid(relid, AccessExclusiveLock);
	check_object(MIGSAFE_OP_TRUNCATE, RelationRelationId, relid, 0, true,
				 false, "object_access");
}

/* ----------------------------------------------------------------
 * The guard mark on databases
 * ----------------------------------------------------------------
 */

/*
 * migsafe_guard_relabel
 *
 * The security-label provider "migsafe" marks databases where migsafe is
 * installed, so that DROP DATABASE can be guarded from any database.  Only
 * the extension sets and clears the mark; by hand, only a superuser may,
 * and only with the value "guarded" (pg_dump and pg_upgrade restore it).
 * Removing the mark unguards DROP DATABASE: it needs an approval.
 */
void
migsafe_guard_relabel(const ObjectAddress *object, const char *seclabel)
{
	MigsafeCommand cmd;
	char	   *dbname;

	if (object->classId != DatabaseRelationId)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("migsafe security labels apply only to databases")));
	if (seclabel != NULL && strcmp(seclabel, MIGSAFE_LABEL_GUARDED) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid migsafe security label \"%s\"", seclabel),
				 errhint("The only valid label is \"%s\".",
						 MIGSAFE_LABEL_GUARDED)));
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to change migsafe security labels"),
				 errdetail("Only superusers can mark a database as guarded by migsafe or remove the mark.")));
	if (seclabel != NULL ||
		(dbname = get_database_name(object->objectId)) == NULL)
		return;
	migsafe_command_standalone(&cmd, "SECURITY LABEL", debug_query_string,
							   object->objectId);
	decide_alone(&cmd,
				 migsafe_command_add_database(&cmd, MIGSAFE_OP_ALTER,
											  object->objectId, dbname),
				 "label");
}

PG_FUNCTION_INFO_V1(migsafe_register_database);

/*
 * migsafe_register_database
 *
 * SQL function migsafe.register_database(), run by the extension's install
 * script: mark the current database as guarded.
 */
Datum
migsafe_register_database(PG_FUNCTION_ARGS)
{
	ObjectAddress addr;

	ObjectAddressSet(addr, DatabaseRelationId, MyDatabaseId);
	SetSecurityLabel(&addr, MIGSAFE_LABEL_PROVIDER, MIGSAFE_LABEL_GUARDED);
	PG_RETURN_VOID();
}
