/*-------------------------------------------------------------------------
 *
 * collect.c
 *	  What a statement destroys: every table, column and sequence, found
 *	  before it runs, and locked in a safe order.
 *
 * migsafe_guard_begin() calls migsafe_collect_targets() for a statement
 * that can destroy data.  DROP, DROP OWNED and ALTER TABLE ... DROP COLUMN
 * run once in a subtransaction that is always rolled back (the dry run):
 * the object-access hook adds every data-holding object they drop to the
 * statement's frame, which gives PostgreSQL's own cascade set; a plain
 * DROP TABLE of an empty table, or a plain DROP COLUMN of any table, that
 * takes nothing but the table's own parts is collected from pg_depend
 * instead (plaindrop.c).  TRUNCATE and the ALTERs that rewrite or reset (a retype, SET
 * UNLOGGED, an identity's RESTART) are expanded from the statement as the
 * executor would.  Then every target is locked again (the dry run's locks
 * went with it), tables before sequences, and its names read afresh.
 *
 * Calls plaindrop.c, command.c, catalog.c, classify.c and internal.c.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/collect.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/dependency.h"
#include "catalog/heap.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "commands/sequence.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "migsafe.h"
#include "catalog.h"
#include "classify.h"
#include "collect.h"
#include "command.h"
#include "internal.h"
#include "plaindrop.h"

/* Depth of dry runs in progress: statements run inside them are muted */
static int	dry_run_depth = 0;

/* What the dry run of one statement runs */
typedef struct MigsafeDryRun
{
	PlannedStmt *pstmt;
	const char *queryString;
	ProcessUtilityContext context;
	ParamListInfo params;
	QueryEnvironment *queryEnv;
	bool		loud;			/* notices shown (see dry_run()) */
} MigsafeDryRun;

/* Whether a dry run is in progress (its event triggers' statements) */
bool
migsafe_collect_in_dry_run(void)
{
	return dry_run_depth > 0;
}

/* At transaction end: an error may have left a dry run counted */
void
migsafe_collect_at_eoxact(void)
{
	dry_run_depth = 0;
}

/*
 * Whether a DROP OWNED can drop migsafe's own objects: one of its roles
 * owns the extension, its schema, or the audit log or snapshot registry.
 * Any other DROP OWNED leaves them alone (it may revoke privileges on
 * them, which takes no lock on the tables).
 */
static bool
drop_owned_reaches_migsafe(DropOwnedStmt *stmt, Oid nsp)
{
	List	   *owners = NIL;
	const char *const tables[] = {"audit_log", "snapshots"};
	HeapTuple	tup;
	ListCell   *lc;
	int			i;
	Relation	extrel;
	SysScanDesc scan;
	ScanKeyData key;

	/* the extension's owner (pg_extension has no syscache) */
	extrel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum(MIGSAFE_SCHEMA));
	scan = systable_beginscan(extrel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		owners = lappend_oid(owners,
							 ((Form_pg_extension) GETSTRUCT(tup))->extowner);
	systable_endscan(scan);
	table_close(extrel, AccessShareLock);

	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	if (HeapTupleIsValid(tup))
	{
		owners = lappend_oid(owners,
							 ((Form_pg_namespace) GETSTRUCT(tup))->nspowner);
		ReleaseSysCache(tup);
	}
	for (i = 0; i < lengthof(tables); i++)
	{
		tup = SearchSysCache1(RELOID,
							  ObjectIdGetDatum(get_relname_relid(tables[i], nsp)));
		if (!HeapTupleIsValid(tup))
			continue;
		owners = lappend_oid(owners, ((Form_pg_class) GETSTRUCT(tup))->relowner);
		ReleaseSysCache(tup);
	}
	foreach(lc, stmt->roles)
	{
		Oid			roleid = get_rolespec_oid(lfirst(lc), true);

		if (OidIsValid(roleid) && list_member_oid(owners, roleid))
			return true;
	}
	return false;
}

/*
 * lock_audit_log_first
 *
 * A statement that may drop migsafe.audit_log (DROP EXTENSION or DROP
 * SCHEMA naming migsafe, DROP OWNED by a role owning migsafe's objects)
 * takes the locks of the snapshot registry and of the log before anything
 * else.  PostgreSQL locks a dropped schema's members in dependency order,
 * the log's sequence before the log, while the audit writer inserting into
 * the log takes the table first: without this they deadlock.  The order is
 * the one every change keeps, registry before log: a change registers its
 * snapshots (snapshot.c) before its audit rows are written, and the
 * writers never touch the registry.  Taking the log first deadlocked with
 * concurrent approved drops.  The locks are taken outside the dry run, so
 * the statement keeps them.
 */
static void
lock_audit_log_first(Node *parsetree)
{
	bool		names_migsafe;
	Oid			nsp;
	Oid			relid;

	if (!migsafe_classify_drops_extensions(parsetree, &names_migsafe) ||
		!names_migsafe)
		return;
	nsp = migsafe_catalog_namespace();
	if (!OidIsValid(nsp))
		return;
	if (IsA(parsetree, DropOwnedStmt) &&
		!drop_owned_reaches_migsafe((DropOwnedStmt *) parsetree, nsp))
		return;
	relid = get_relname_relid("snapshots", nsp);
	if (OidIsValid(relid))
		LockRelationOid(relid, AccessExclusiveLock);
	relid = get_relname_relid("audit_log", nsp);
	if (OidIsValid(relid))
		LockRelationOid(relid, AccessExclusiveLock);
}

/* The statement of a dry run, run in its subtransaction */
static void
dry_run_body(void *arg)
{
	MigsafeDryRun *d = arg;

	if (!d->loud)
		(void) set_config_option("client_min_messages", "error",
								 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
								 true, 0, false);

	/*
	 * XXX: standard_ProcessUtility, not the hook chain: the hooks loaded
	 * after migsafe (pgaudit, pg_stat_statements...) would log, count or act
	 * on a statement that never happens.  Those loaded before migsafe already
	 * saw it once and see it again when it really runs.  A hook of another
	 * extension that must see the dry run too cannot.
	 */
	standard_ProcessUtility(d->pstmt, d->queryString, true, d->context,
							d->params, d->queryEnv, None_Receiver, NULL);
}

/*
 * The context a dry run gives its statement.  A top-level statement is
 * run as a subcommand: PostgreSQL fires event triggers only for complete
 * queries, and those of a statement that never happens would act on it
 * (pgaudit's refuses to run for a statement its hook did not see, and
 * one calling out through dblink could not be rolled back).  Nested in
 * another schema change (its event trigger's statements), the statement
 * keeps its context: as a subcommand, whatever it did would be collected
 * into the outer statement's event-trigger state, which no rollback
 * undoes.
 */
static ProcessUtilityContext
dry_run_context(MigsafeCommand *cmd, ProcessUtilityContext context)
{
	return cmd->outer == NULL ? PROCESS_UTILITY_SUBCOMMAND : context;
}

/*
 * dry_run
 *
 * Run a DROP, DROP OWNED or ALTER TABLE ... DROP COLUMN in a
 * subtransaction that is always rolled back, with cmd collecting: the
 * object-access hook adds every table, column, sequence and materialized
 * view the statement drops, cascades and partitions included.  Notices are
 * silenced for the dry run (the setting reverts with the subtransaction).
 * Event triggers do not fire for a top-level statement's dry run (see
 * dry_run_context()); those of a nested one do, whatever they do is rolled
 * back with it, and statements they run are not collected (a muted
 * frame).  Switching them off with session_replication_role would reset
 * every cached plan of the session twice per statement.  An error the statement raises is
 * raised as it would have been, after the notices that precede it.
 */
static void
dry_run(MigsafeCommand *cmd, MigsafeDryRun *d)
{
	ErrorData  *edata;

	d->context = dry_run_context(cmd, d->context);
	d->loud = false;
	cmd->collecting = true;
	dry_run_depth++;
	edata = migsafe_internal_subxact(dry_run_body, d, false);

	/*
	 * The statement fails: it will not run, and the notices it gives before
	 * its error (an event trigger's "does not exist, skipping") would be
	 * lost.  Run it once more with them shown, as it would run alone; it
	 * raises the same error, which is raised.
	 */
	if (edata != NULL)
	{
		FreeErrorData(edata);
		d->loud = true;
		edata = migsafe_internal_subxact(dry_run_body, d, false);
	}
	dry_run_depth--;
	cmd->collecting = false;
	if (edata != NULL)
		ReThrowError(edata);
}

/*
 * collect_truncate
 *
 * The relations a TRUNCATE empties: those named, their inheritance
 * children unless ONLY, and with CASCADE every table referencing them by a
 * foreign key, as ExecuteTruncate() expands them.  Relations the user may
 * not truncate are left to TRUNCATE's own permission error.
 */
static void
collect_truncate(MigsafeCommand *cmd, TruncateStmt *stmt)
{
	List	   *relids = NIL;
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		RangeVar   *rv = lfirst_node(RangeVar, lc);
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);

		if (!OidIsValid(relid) ||
			pg_class_aclcheck(relid, GetUserId(), ACL_TRUNCATE) != ACLCHECK_OK)
			continue;
		LockRelationOid(relid, AccessExclusiveLock);
		relids = list_append_unique_oid(relids, relid);
		if (rv->inh)
			relids = list_concat_unique_oid(relids,
											find_all_inheritors(relid,
																AccessExclusiveLock,
																NULL));
	}

	while (stmt->behavior == DROP_CASCADE)
	{
		List	   *more = heap_truncate_find_FKs(relids);
		int			before = list_length(relids);

		foreach(lc, more)
		{
			Oid			relid = lfirst_oid(lc);

			if (list_member_oid(relids, relid) ||
				pg_class_aclcheck(relid, GetUserId(), ACL_TRUNCATE) != ACLCHECK_OK)
				continue;
			LockRelationOid(relid, AccessExclusiveLock);
			relids = lappend_oid(relids, relid);
		}
		if (list_length(relids) == before)
			break;
	}

	foreach(lc, relids)
	{
		(void) migsafe_command_add_relation(cmd, MIGSAFE_OP_TRUNCATE,
											lfirst_oid(lc), 0);

		/*
		 * RESTART IDENTITY resets the sequences the tables own: their values
		 * are data even when the table is empty (they follow an approval of
		 * the table, not its emptiness).
		 */
		if (stmt->restart_seqs)
		{
			ListCell   *sc;

			foreach(sc, getOwnedSequences(lfirst_oid(lc)))
				(void) migsafe_command_add_relation(cmd, MIGSAFE_OP_RESTART,
													lfirst_oid(sc), 0);
		}
	}
}

/*
 * collect_type_users
 *
 * Columns that store values of composite type typid, directly, in arrays,
 * domains, or nested in other row types: dropping one of its attributes
 * blanks that attribute in every stored value.  Walks pg_depend.
 */
static void
collect_type_users(MigsafeCommand *cmd, Oid typid)
{
	List	   *types = list_make1_oid(typid);
	ListCell   *lc;
	Relation	depRel = table_open(DependRelationId, AccessShareLock);

	foreach(lc, types)
	{
		ScanKeyData key[2];
		SysScanDesc scan;
		HeapTuple	tup;

		ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(TypeRelationId));
		ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(lfirst_oid(lc)));
		scan = systable_beginscan(depRel, DependReferenceIndexId, true,
								  NULL, 2, key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

			if (dep->classid == TypeRelationId)
				types = list_append_unique_oid(types, dep->objid);
			else if (dep->classid == RelationRelationId && dep->objsubid > 0)
			{
				char		relkind = get_rel_relkind(dep->objid);

				if (relkind == RELKIND_RELATION || relkind == RELKIND_MATVIEW)
					(void) migsafe_command_add_relation(cmd, MIGSAFE_OP_BLANK,
														dep->objid,
														dep->objsubid);
				if (relkind == RELKIND_RELATION || relkind == RELKIND_MATVIEW ||
					relkind == RELKIND_COMPOSITE_TYPE)
					types = list_append_unique_oid(types,
												   get_rel_type_id(dep->objid));
			}
		}
		systable_endscan(scan);
	}
	table_close(depRel, AccessShareLock);
}

/*
 * collect_row_type_users
 *
 * A column dropped from a table also disappears from every stored value
 * of the table's row type (a column of type "addr" when "addr" is a
 * table): those columns are blanked like by ALTER TYPE ... DROP ATTRIBUTE.
 */
static void
collect_row_type_users(MigsafeCommand *cmd)
{
	List	   *types = NIL;
	ListCell   *lc;

	foreach(lc, cmd->targets)
	{
		MigsafeTarget *t = lfirst(lc);

		if (t->classid == RelationRelationId && t->subid > 0 &&
			t->op == MIGSAFE_OP_DROP)
			types = list_append_unique_oid(types, get_rel_type_id(t->objid));
	}
	foreach(lc, types)
		collect_type_users(cmd, lfirst_oid(lc));
}

/* Typed tables (CREATE TABLE ... OF typid) and their column attname */
static void
collect_typed_tables(MigsafeCommand *cmd, MigsafeOp op, Oid typid,
					 const char *attname)
{
	Relation	classRel = table_open(RelationRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&key, Anum_pg_class_reloftype, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(typid));
	scan = systable_beginscan(classRel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		/* a typed partitioned table's partitions have no reloftype */
		List	   *rels = find_all_inheritors(((Form_pg_class) GETSTRUCT(tup))->oid,
											   NoLock, NULL);
		ListCell   *lc;

		foreach(lc, rels)
		{
			AttrNumber	attnum = get_attnum(lfirst_oid(lc), attname);

			if (attnum > 0)
				(void) migsafe_command_add_relation(cmd, op, lfirst_oid(lc),
													attnum);
		}
	}
	systable_endscan(scan);
	table_close(classRel, AccessShareLock);
}

/* The generated columns of relid whose expression uses column attnum */
static List *
generated_from(MigsafeCommand *cmd, Oid relid, AttrNumber attnum)
{
	Relation	depRel = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[3];
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *defaults = NIL;
	List	   *columns = NIL;
	ListCell   *lc;

	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(RelationRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	ScanKeyInit(&key[2], Anum_pg_depend_refobjsubid, BTEqualStrategyNumber,
				F_INT4EQ, Int32GetDatum(attnum));
	scan = systable_beginscan(depRel, DependReferenceIndexId, true,
							  NULL, 3, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		/* a generation expression using the column */
		if (dep->classid == AttrDefaultRelationId)
			defaults = lappend_oid(defaults, dep->objid);
	}
	systable_endscan(scan);
	table_close(depRel, AccessShareLock);

	/* the columns those expressions compute */
	foreach(lc, defaults)
	{
		ObjectAddress col = GetAttrDefaultColumnAddress(lfirst_oid(lc));
		AttrNumber	adnum = (AttrNumber) col.objectSubId;

		if (col.objectId == relid && adnum > 0 && adnum != attnum &&
			migsafe_command_find(cmd, RelationRelationId, relid, adnum) == NULL)
			columns = lappend_int(columns, adnum);
	}
	return columns;
}

/*
 * collect_generated
 *
 * DROP COLUMN ... CASCADE also drops the generated columns computed from
 * the column (and those computed from them): the only columns a column
 * drop cascades to.
 */
static void
collect_generated(MigsafeCommand *cmd, Oid relid, AttrNumber attnum)
{
	ListCell   *lc;

	foreach(lc, generated_from(cmd, relid, attnum))
	{
		(void) migsafe_command_add_relation(cmd, MIGSAFE_OP_DROP, relid,
											lfirst_int(lc));
		collect_generated(cmd, relid, lfirst_int(lc));
	}
}

/*
 * collect_alter_type
 *
 * ALTER TYPE on a composite type: the columns whose stored values lose an
 * attribute, and with CASCADE the columns of typed tables dropped or
 * retyped with it.
 */
static void
collect_alter_type(MigsafeCommand *cmd, AlterTableStmt *stmt, Oid relid)
{
	Oid			typid = get_rel_type_id(relid);
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *c = lfirst_node(AlterTableCmd, lc);
		MigsafeAlterEffect effect = migsafe_classify_alter_cmd(c);

		if (effect == MIGSAFE_ALTER_DROP_COLUMN)
			collect_type_users(cmd, typid);
		if (c->behavior == DROP_CASCADE &&
			(effect == MIGSAFE_ALTER_DROP_COLUMN ||
			 effect == MIGSAFE_ALTER_RETYPE))
			collect_typed_tables(cmd, migsafe_classify_alter_op(effect),
								 typid, c->name);
	}
}

/*
 * The sequences a foreign table's column owns (serial), which go with the
 * column.  A table's column is a target whose decision they follow; a
 * foreign table's holds no data here and is none, so they are decided on
 * their own.
 */
static void
collect_owned_sequences(MigsafeCommand *cmd, Oid relid, AttrNumber attnum)
{
	ListCell   *lc;

	foreach(lc, getOwnedSequences(relid))
	{
		Oid			owner;
		int32		col;

		if (migsafe_catalog_sequence_owner(lfirst_oid(lc), &owner, &col) &&
			owner == relid && col == attnum)
			(void) migsafe_command_add_relation(cmd, MIGSAFE_OP_DROP,
												lfirst_oid(lc), 0);
	}
}

/*
 * collect_alter_columns
 *
 * The columns an ALTER TABLE subcommand drops or retypes, in relid and
 * rels (its inheritance children and partitions, unless ONLY).
 */
static void
collect_alter_columns(MigsafeCommand *cmd, AlterTableCmd *c,
					  MigsafeAlterEffect effect, Oid relid, List *rels)
{
	ListCell   *rc;

	foreach(rc, rels)
	{
		Oid			r = lfirst_oid(rc);
		HeapTuple	atttup = SearchSysCacheAttName(r, c->name);
		Form_pg_attribute att;

		if (!HeapTupleIsValid(atttup))
			continue;
		att = (Form_pg_attribute) GETSTRUCT(atttup);

		/*
		 * A child's column goes with the parent's only when it was inherited
		 * from that parent alone; partitions always follow.
		 */
		if (r == relid || effect == MIGSAFE_ALTER_RETYPE ||
			get_rel_relispartition(r) ||
			(!att->attislocal && att->attinhcount == 1))
		{
			(void) migsafe_command_add_relation(cmd,
												migsafe_classify_alter_op(effect),
												r, att->attnum);
			if (effect == MIGSAFE_ALTER_DROP_COLUMN &&
				c->behavior == DROP_CASCADE)
				collect_generated(cmd, r, att->attnum);
			if (effect == MIGSAFE_ALTER_DROP_COLUMN &&
				get_rel_relkind(r) == RELKIND_FOREIGN_TABLE)
				collect_owned_sequences(cmd, r, att->attnum);
		}
		ReleaseSysCache(atttup);
	}
}

/*
 * collect_alter
 *
 * What an ALTER TABLE (or ALTER TYPE, or ALTER SEQUENCE ... RESTART)
 * destroys, subcommand by subcommand as migsafe_classify_alter_cmd() says:
 * the table set unlogged, the identity sequence dropped or restarted, the
 * columns dropped or retyped.  Statements on objects the user does not own
 * are left to ALTER's own permission error.
 */
static void
collect_alter(MigsafeCommand *cmd, Node *parsetree)
{
	AlterTableStmt *stmt;
	Oid			relid;
	List	   *rels;
	ListCell   *lc;

	if (IsA(parsetree, AlterSeqStmt))
	{
		relid = RangeVarGetRelid(((AlterSeqStmt *) parsetree)->sequence,
								 NoLock, true);
		if (OidIsValid(relid) && migsafe_rel_ownercheck(relid, GetUserId()))
			(void) migsafe_command_add_relation(cmd, MIGSAFE_OP_RESTART,
												relid, 0);
		return;
	}
	stmt = (AlterTableStmt *) parsetree;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid) || !migsafe_rel_ownercheck(relid, GetUserId()))
		return;
	LockRelationOid(relid, AccessExclusiveLock);
	if (stmt->objtype == OBJECT_TYPE)
	{
		collect_alter_type(cmd, stmt, relid);
		return;
	}

	rels = stmt->relation->inh ?
		find_all_inheritors(relid, AccessExclusiveLock, NULL) :
		list_make1_oid(relid);

	/* the table itself, and its identity sequences */
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *c = lfirst_node(AlterTableCmd, lc);
		MigsafeAlterEffect effect = migsafe_classify_alter_cmd(c);
		AttrNumber	attnum;
		Oid			seqid;

		if (effect == MIGSAFE_ALTER_UNLOG)
			(void) migsafe_command_add_relation(cmd, MIGSAFE_OP_UNLOG, relid, 0);
		if (effect != MIGSAFE_ALTER_DROP_IDENTITY &&
			effect != MIGSAFE_ALTER_RESTART)
			continue;
		attnum = get_attnum(relid, c->name);
		seqid = attnum > 0 ?
			migsafe_identity_sequence(relid, attnum, true) : InvalidOid;
		if (OidIsValid(seqid))
			(void) migsafe_command_add_relation(cmd,
												migsafe_classify_alter_op(effect),
												seqid, 0);
	}
	/* then the columns */
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *c = lfirst_node(AlterTableCmd, lc);
		MigsafeAlterEffect effect = migsafe_classify_alter_cmd(c);

		if (effect == MIGSAFE_ALTER_DROP_COLUMN ||
			effect == MIGSAFE_ALTER_RETYPE)
			collect_alter_columns(cmd, c, effect, relid, rels);
	}
}

/* Lock order: tables (by OID) before sequences, other objects last */
static int
lock_order_cmp(const ListCell *a, const ListCell *b)
{
	MigsafeTarget *ta = lfirst(a);
	MigsafeTarget *tb = lfirst(b);
	int			ra = ta->classid != RelationRelationId ? 2 :
	ta->relkind == RELKIND_SEQUENCE ? 1 : 0;
	int			rb = tb->classid != RelationRelationId ? 2 :
	tb->relkind == RELKIND_SEQUENCE ? 1 : 0;

	if (ra != rb)
		return ra - rb;
	if (ta->objid != tb->objid)
		return ta->objid < tb->objid ? -1 : 1;
	return ta->subid - tb->subid;
}

/*
 * lock_targets
 *
 * The dry run's locks went with its subtransaction: lock again, before
 * measuring, and re-read names that may have changed since.  Tables are
 * locked before sequences, as an INSERT does (table, then its identity or
 * serial sequence): locking in the dry run's order (dependents first)
 * could deadlock with a concurrent writer.  Targets gone meanwhile are
 * dropped from the list.
 */
static void
lock_targets(MigsafeCommand *cmd)
{
	List	   *live = NIL;
	ListCell   *lc;

	list_sort(cmd->targets, lock_order_cmp);
	foreach(lc, cmd->targets)
	{
		MigsafeTarget *t = lfirst(lc);

		if (t->classid == RelationRelationId && !t->protected &&
			t->op == MIGSAFE_OP_BLANK)
		{
			/*
			 * Tables storing a composite type that loses an attribute: core
			 * locks none, so only keep writers out while measuring, and only
			 * tables the user may read (else they count as holding data,
			 * unmeasured).
			 */
			t->no_scan = pg_class_aclcheck(t->objid, GetUserId(),
										   ACL_SELECT) != ACLCHECK_OK;
			if (!t->no_scan)
				LockRelationOid(t->objid, ShareLock);
			if (!migsafe_command_refresh_names(t))
				continue;
		}
		else if (t->classid == RelationRelationId && !t->protected)
		{
			LockRelationOid(t->objid, AccessExclusiveLock);
			if (!migsafe_command_refresh_names(t))
				continue;
		}
		live = lappend(live, t);
	}
	cmd->targets = live;
}

/*
 * migsafe_collect_targets
 *
 * Fill cmd->targets with everything a statement of this kind destroys, and
 * lock them.  An error the dry run raises is the statement's own, raised
 * before anything changed.
 */
void
migsafe_collect_targets(MigsafeCommand *cmd, MigsafeStmtKind kind,
						PlannedStmt *pstmt, const char *queryString,
						ProcessUtilityContext context, ParamListInfo params,
						QueryEnvironment *queryEnv)
{
	Node	   *parsetree = pstmt->utilityStmt;
	MigsafeDryRun d = {pstmt, queryString, context, params, queryEnv};

	switch (kind)
	{
		case MIGSAFE_STMT_DROP:
			lock_audit_log_first(parsetree);
			if (migsafe_plaindrop_collect(cmd, parsetree))
			{
				if (IsA(parsetree, AlterTableStmt))
					collect_row_type_users(cmd);
				if (list_length(cmd->targets) == 1)
				{
					Oid			relid = ((MigsafeTarget *) linitial(cmd->targets))->objid;
					LOCKTAG		tag;

					/*
					 * Locked twice, here and by lock_targets(), so that
					 * releasing both gives the lock back exactly as held
					 * before, whether the transaction held it or not.
					 */
					SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
					(void) LockAcquire(&tag, AccessExclusiveLock, false, false);
					lock_targets(cmd);
					/*
					 * A column of the table's row type made while this
					 * waited for the lock (CREATE TABLE u (x t) locks
					 * nothing of t's) loses the column's values too: look
					 * again now, and let the dry run's path decide them.
					 */
					if (migsafe_plaindrop_settled(cmd, parsetree))
					{
						if (IsA(parsetree, AlterTableStmt))
							collect_row_type_users(cmd);
						if (list_length(cmd->targets) == 1)
							return;
					}

					/*
					 * Not so plain after all: as if only the dry run had
					 * locked the table, and let go of it.
					 */
					UnlockRelationOid(relid, AccessExclusiveLock);
					UnlockRelationOid(relid, AccessExclusiveLock);
				}
				cmd->targets = NIL;
				cmd->dropped = NIL;
			}
			dry_run(cmd, &d);
			if (IsA(parsetree, AlterTableStmt))
				collect_row_type_users(cmd);
			break;
		case MIGSAFE_STMT_TRUNCATE:
			collect_truncate(cmd, (TruncateStmt *) parsetree);
			break;
		case MIGSAFE_STMT_ALTER:
			collect_alter(cmd, parsetree);
			/* a column dropped along with other subcommands */
			if (IsA(parsetree, AlterTableStmt))
				collect_row_type_users(cmd);
			break;
		default:
			break;
	}
	lock_targets(cmd);
}
