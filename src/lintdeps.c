/*-------------------------------------------------------------------------
 *
 * lintdeps.c
 *	  What the preview (lint.c) knows of the relations a script touches:
 *	  rows and size, and what a DROP, TRUNCATE or DROP OWNED takes along,
 *	  read from the catalog without running the statement.
 *
 * The gate learns what a DROP destroys from a rolled-back dry run; the
 * preview must not run anything (a dry run takes ACCESS EXCLUSIVE locks,
 * which a standby replays), so it follows pg_depend as DROP would: auto,
 * internal, extension and partition dependents go with their object,
 * normal ones make a RESTRICT fail and go with CASCADE.  Views come in
 * through their rules, columns of other tables through their types.
 *
 * Relations are never locked beyond an ACCESS SHARE lock granted at once
 * and released after measuring; a role that may not read a table gets
 * the planner's statistics, which pg_class shows everyone anyway (so
 * does a role behind a row level security policy, or without USAGE on
 * the schema).
 *
 * Measurements are remembered for the rest of the SQL command, per role:
 * a query that checks many scripts at once (migsafe-check batches them
 * with unnest() and one check() per script) scans each small table once,
 * not once per script that touches it.
 *
 * Calls catalog.c and classify.c.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/lintdeps.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/heap.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/primnodes.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "migsafe.h"
#include "catalog.h"
#include "classify.h"
#include "lintdeps.h"

/* Objects a walk looks at, at most: a catalog walk must stay cheap */
#define MIGSAFE_LINT_WALK_MAX	5000

/*
 * migsafe_lintdeps_rel
 *
 * The preview's record of an existing relation, made once per call and
 * kept in *rels.  NULL for InvalidOid or a relation gone meanwhile.
 */
MigsafeLintRel *
migsafe_lintdeps_rel(List **rels, Oid relid)
{
	MigsafeLintRel *rel;
	ListCell   *lc;
	char	   *relname;

	if (!OidIsValid(relid))
		return NULL;
	foreach(lc, *rels)
	{
		rel = lfirst(lc);
		if (rel->relid == relid)
			return rel;
	}
	relname = get_rel_name(relid);
	if (relname == NULL)
		return NULL;
	rel = palloc0(sizeof(MigsafeLintRel));
	rel->relid = relid;
	rel->relkind = get_rel_relkind(relid);
	rel->relname = relname;
	rel->nspname = get_namespace_name(get_rel_namespace(relid));
	rel->name = psprintf("%s.%s", rel->nspname ? rel->nspname : "?", relname);
	rel->rows = rel->bytes = -1;
	*rels = lappend(*rels, rel);
	return rel;
}

/* The record of a relation the script created (new and empty) */
MigsafeLintRel *
migsafe_lintdeps_new_rel(List **rels, const char *nspname, const char *relname)
{
	MigsafeLintRel *rel = palloc0(sizeof(MigsafeLintRel));

	rel->created = true;
	rel->relkind = RELKIND_RELATION;
	rel->nspname = nspname ? pstrdup(nspname) : NULL;
	rel->relname = pstrdup(relname);
	rel->name = nspname ? psprintf("%s.%s", nspname, relname) : pstrdup(relname);
	rel->measured = true;
	rel->rows_exact = true;
	return rel;
}

/*
 * What one role measured of one relation (attnum 0) or column, remembered
 * until the end of the SQL command: check() reads, never writes, and
 * scanning a table of up to 8 MB again for every script of a batch would
 * cost far more than the checks themselves.  A table that changes within
 * one command (another session's commit) is measured at some moment of
 * that command either way.
 */
typedef struct MeasureMemo
{
	Oid			relid;
	int			attnum;
	Oid			userid;
	double		rows;
	bool		exact;
	int64		bytes;
	bool		empty;			/* column: known to hold no value */
} MeasureMemo;

/* MeasureMemos of memo_lxid's memo_cid, in TopTransactionContext */
static List *measure_memos = NIL;
static LocalTransactionId memo_lxid = InvalidLocalTransactionId;
static CommandId memo_cid = InvalidCommandId;

static void measure_now(Oid relid, char relkind, double *rows, bool *exact,
						int64 *bytes);

/*
 * measure_memo
 *
 * The remembered measurement of relid (attnum 0) or of one of its columns
 * by the current role in this command, or NULL; with create, a new blank
 * one (relid set) when there is none.  Forgets everything when the
 * transaction or the command is not the one the memos are of: a memo of
 * an earlier transaction went with its TopTransactionContext.
 */
static MeasureMemo *
measure_memo(Oid relid, int attnum, bool create)
{
	ListCell   *lc;
	MeasureMemo *memo;
	MemoryContext oldcxt;

	if (memo_lxid != migsafe_my_lxid() ||
		memo_cid != GetCurrentCommandId(false))
	{
		if (memo_lxid == migsafe_my_lxid())
			list_free_deep(measure_memos);
		measure_memos = NIL;
		memo_lxid = migsafe_my_lxid();
		memo_cid = GetCurrentCommandId(false);
	}
	foreach(lc, measure_memos)
	{
		memo = lfirst(lc);
		if (memo->relid == relid && memo->attnum == attnum &&
			memo->userid == GetUserId())
			return memo;
	}
	if (!create)
		return NULL;

	memo = MemoryContextAllocZero(TopTransactionContext, sizeof(MeasureMemo));
	memo->relid = relid;
	memo->attnum = attnum;
	memo->userid = GetUserId();
	oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	measure_memos = lappend(measure_memos, memo);
	MemoryContextSwitchTo(oldcxt);
	return memo;
}

/* Rows and size of one table or materialized view, measured once a command */
static void
measure_one(Oid relid, char relkind, double *rows, bool *exact, int64 *bytes)
{
	MeasureMemo *memo = measure_memo(relid, 0, false);

	if (memo != NULL)
	{
		*rows = memo->rows;
		*exact = memo->exact;
		*bytes = memo->bytes;
		return;
	}
	measure_now(relid, relkind, rows, exact, bytes);
	memo = measure_memo(relid, 0, true);
	memo->rows = *rows;
	memo->exact = *exact;
	memo->bytes = *bytes;
}

/* Rows and size of one table or materialized view */
static void
measure_now(Oid relid, char relkind, double *rows, bool *exact, int64 *bytes)
{
	HeapTuple	tup;

	*rows = *bytes = -1;
	*exact = false;

	/*
	 * Counting rows under SERIALIZABLE would leave predicate locks on the
	 * table until the transaction ends, where they can make other
	 * transactions fail: a preview takes the estimate there.
	 */
	if (!IsolationIsSerializable() &&
		migsafe_catalog_may_read(relid, 0) &&
		ConditionalLockRelationOid(relid, AccessShareLock))
	{
		if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		{
			MigsafeTarget t;

			memset(&t, 0, sizeof(t));
			t.classid = RelationRelationId;
			t.objid = relid;
			t.relkind = relkind;
			migsafe_catalog_measure(&t, true);
			*rows = t.rows;
			*exact = t.rows_exact;
			*bytes = t.bytes;
		}
		UnlockRelationOid(relid, AccessShareLock);
		return;
	}

	/* no privilege, or the table is locked: what pg_class shows everyone */
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tup);

		*bytes = (int64) form->relpages * BLCKSZ;
		if (form->reltuples >= 0)
			*rows = form->reltuples;
		ReleaseSysCache(tup);
	}
}

/*
 * migsafe_lintdeps_measure
 *
 * Fill in a relation's rows and size, once: exact for small tables the
 * caller may read, estimated otherwise; a partitioned table sums its
 * partitions.  Relations that hold no rows of their own count as empty.
 */
void
migsafe_lintdeps_measure(MigsafeLintRel *rel)
{
	if (rel->measured)
		return;
	rel->measured = true;
	rel->rows_exact = true;
	rel->rows = rel->bytes = 0;
	if (rel->relkind == RELKIND_PARTITIONED_TABLE)
	{
		ListCell   *lc;

		foreach(lc, find_all_inheritors(rel->relid, NoLock, NULL))
		{
			Oid			part = lfirst_oid(lc);
			char		kind = get_rel_relkind(part);
			double		rows;
			bool		exact;
			int64		bytes;

			if (kind != RELKIND_RELATION && kind != RELKIND_MATVIEW)
				continue;
			measure_one(part, kind, &rows, &exact, &bytes);
			if (rows < 0 || rel->rows < 0)
				rel->rows = -1;
			else
				rel->rows += rows;
			if (bytes < 0 || rel->bytes < 0)
				rel->bytes = -1;
			else
				rel->bytes += bytes;
			rel->rows_exact = rel->rows_exact && exact;
		}
	}
	else if (rel->relkind == RELKIND_RELATION || rel->relkind == RELKIND_MATVIEW)
		measure_one(rel->relid, rel->relkind, &rel->rows, &rel->rows_exact,
					&rel->bytes);
}

/*
 * migsafe_lintdeps_column_empty
 *
 * Whether column attnum of an existing table is known to hold no value
 * (counted exactly, under an ACCESS SHARE lock granted at once, by a role
 * that may read it): then the gate lets its drop or retype pass as empty.
 */
bool
migsafe_lintdeps_column_empty(MigsafeLintRel *rel, int attnum)
{
	MigsafeTarget t;
	MeasureMemo *memo;
	bool		empty = false;

	if (!OidIsValid(rel->relid) || rel->relkind != RELKIND_RELATION ||
		!migsafe_catalog_may_read(rel->relid, (AttrNumber) attnum))
		return false;
	memo = measure_memo(rel->relid, attnum, false);
	if (memo != NULL)
		return memo->empty;
	if (!ConditionalLockRelationOid(rel->relid, AccessShareLock))
		return false;			/* not remembered: it may be free later */
	if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(rel->relid)))
	{
		memset(&t, 0, sizeof(t));
		t.classid = RelationRelationId;
		t.objid = rel->relid;
		t.subid = attnum;
		t.relkind = rel->relkind;
		migsafe_catalog_measure(&t, true);
		empty = t.rows_exact && t.values == 0;
	}
	UnlockRelationOid(rel->relid, AccessShareLock);
	measure_memo(rel->relid, attnum, true)->empty = empty;
	return empty;
}

/* "1.2 MB" */
static char *
size_text(int64 bytes)
{
	return text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_size_pretty,
															  Int64GetDatum(bytes))));
}

/*
 * migsafe_lintdeps_rows_phrase
 *
 * What a relation holds, to follow "which" in a message: "holds about
 * 200000 rows (25 MB)", "holds no rows", "is new in this script".
 */
char	   *
migsafe_lintdeps_rows_phrase(MigsafeLintRel *rel)
{
	migsafe_lintdeps_measure(rel);
	if (rel->created && rel->filled > 0)
		return psprintf("is created earlier in this script, in another transaction, and may hold the rows statement %d wrote into it",
						rel->filled);
	if (rel->created)
		return pstrdup("is created earlier in this script and holds no rows yet");
	if (rel->rows < 0)
		return rel->bytes > 0 ?
			psprintf("holds an unknown number of rows (%s on disk, no statistics)",
					 size_text(rel->bytes)) :
			pstrdup("holds an unknown number of rows (no statistics)");
	if (rel->rows == 0 && rel->rows_exact)
		return pstrdup("holds no rows");
	return psprintf("holds %s%.0f %s (%s)", rel->rows_exact ? "" : "about ",
					rel->rows, rel->rows == 1 ? "row" : "rows",
					size_text(Max(rel->bytes, 0)));
}

/* Whether an address is in a list of them (a relation's column: the relation) */
static bool
address_seen(List *seen, const ObjectAddress *obj)
{
	ListCell   *lc;

	foreach(lc, seen)
	{
		ObjectAddress *s = lfirst(lc);

		if (s->classId == obj->classId && s->objectId == obj->objectId &&
			(s->objectSubId == obj->objectSubId || s->objectSubId == 0))
			return true;
	}
	return false;
}

/* Whether a relation is among those seen, as a whole */
static bool
relation_seen(List *seen, Oid relid)
{
	ObjectAddress obj;

	ObjectAddressSet(obj, RelationRelationId, relid);
	return OidIsValid(relid) && address_seen(seen, &obj);
}

/*
 * migsafe_lintdeps_walk
 *
 * What dropping root takes along, read from pg_depend: with cascade, every
 * dependent; without, the auto, internal, extension and partition ones,
 * and the normal ones listed as blockers (the DROP fails).  A view comes
 * in for its rule; a dependent that belongs to a relation already taken
 * (its index, default, constraint, trigger) is not listed.
 */
void
migsafe_lintdeps_walk(const ObjectAddress *root, bool cascade,
					  MigsafeLintDeps *deps, List **rels)
{
	Relation	depRel = table_open(DependRelationId, AccessShareLock);
	ObjectAddress *first = palloc(sizeof(ObjectAddress));
	List	   *queue;
	List	   *seen;

	memset(deps, 0, sizeof(*deps));
	*first = *root;
	queue = list_make1(first);
	seen = list_make1(first);
	while (queue != NIL && list_length(seen) < MIGSAFE_LINT_WALK_MAX)
	{
		ObjectAddress *cur = linitial(queue);
		ScanKeyData key[2];
		SysScanDesc scan;
		HeapTuple	tup;

		queue = list_delete_first(queue);
		ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(cur->classId));
		ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(cur->objectId));
		scan = systable_beginscan(depRel, DependReferenceIndexId, true, NULL, 2, key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
			ObjectAddress *obj;
			Oid			owner;

			if (cur->objectSubId != 0 && dep->refobjsubid != cur->objectSubId)
				continue;		/* depends on another column */
			obj = palloc(sizeof(ObjectAddress));
			ObjectAddressSubSet(*obj, dep->classid, dep->objid, dep->objsubid);

			/* a view's rule stands for the view */
			if (obj->classId == RewriteRelationId)
			{
				owner = migsafe_catalog_owning_relation(obj->classId, obj->objectId);
				if (OidIsValid(owner) &&
					(get_rel_relkind(owner) == RELKIND_VIEW ||
					 get_rel_relkind(owner) == RELKIND_MATVIEW))
					ObjectAddressSet(*obj, RelationRelationId, owner);
			}
			if (address_seen(seen, obj))
				continue;
			owner = migsafe_catalog_owning_relation(obj->classId, obj->objectId);
			if (obj->classId != RelationRelationId && relation_seen(seen, owner))
			{
				seen = lappend(seen, obj);	/* goes with its relation */
				continue;
			}
			if (dep->deptype == DEPENDENCY_NORMAL && !cascade)
			{
				deps->blockers = lappend(deps->blockers,
										 getObjectDescription(obj, true));
				seen = lappend(seen, obj);
				continue;
			}
			seen = lappend(seen, obj);
			queue = lappend(queue, obj);

			/*
			 * The expression of a stored generated column is its default: it
			 * cannot go without the column, which goes with it (and what
			 * depends on the column).
			 */
			if (obj->classId == AttrDefaultRelationId)
			{
				ObjectAddress col = GetAttrDefaultColumnAddress(obj->objectId);

				if (OidIsValid(col.objectId) &&
					get_attgenerated(col.objectId, col.objectSubId) != '\0' &&
					!address_seen(seen, &col))
				{
					obj = palloc(sizeof(ObjectAddress));
					*obj = col;
					seen = lappend(seen, obj);
					queue = lappend(queue, obj);
				}
				else
				{
					deps->others = lappend(deps->others, getObjectDescription(obj, true));
					continue;
				}
			}

			if (obj->classId == RelationRelationId)
			{
				char		relkind = get_rel_relkind(obj->objectId);
				MigsafeLintRel *rel;

				if (relkind == RELKIND_TOASTVALUE || relkind == RELKIND_INDEX ||
					relkind == RELKIND_PARTITIONED_INDEX)
					continue;
				rel = migsafe_lintdeps_rel(rels, obj->objectId);
				if (rel == NULL)
					continue;
				if (obj->objectSubId != 0)
				{
					MigsafeLintColumn *col = palloc(sizeof(MigsafeLintColumn));

					col->rel = rel;
					col->attname = get_attname(obj->objectId, obj->objectSubId, false);
					deps->columns = lappend(deps->columns, col);
				}
				else if (get_rel_relispartition(obj->objectId) &&
						 relation_seen(seen, get_partition_parent(obj->objectId, true)))
					continue;	/* counted with its partitioned table */
				else if (migsafe_classify_relkind(relkind) ||
						 relkind == RELKIND_PARTITIONED_TABLE)
					deps->relations = lappend(deps->relations, rel);
				else
					deps->others = lappend(deps->others, getObjectDescription(obj, true));
			}
			else if (obj->classId != TypeRelationId && dep->deptype != DEPENDENCY_INTERNAL)
				deps->others = lappend(deps->others, getObjectDescription(obj, true));
		}
		systable_endscan(scan);
	}
	table_close(depRel, AccessShareLock);
}

/* "a, b and 3 more" of a list of descriptions */
char	   *
migsafe_lintdeps_names(List *names, int max)
{
	StringInfoData buf;
	ListCell   *lc;
	int			n = 0;

	initStringInfo(&buf);
	foreach(lc, names)
	{
		if (lfirst(lc) == NULL)
			continue;
		if (n == max)
		{
			appendStringInfo(&buf, " and %d more", list_length(names) - n);
			break;
		}
		if (n > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, lfirst(lc));
		n++;
	}
	return buf.data;
}

/* The columns a validated CHECK (col IS NOT NULL) covers, as attnums */
List	   *
migsafe_lintdeps_not_null_checks(Oid relid)
{
	Relation	conRel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *result = NIL;

	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(conRel, ConstraintRelidTypidNameIndexId, true,
							  NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
		bool		isnull;
		Datum		bin;
		Node	   *expr;

		if (con->contype != CONSTRAINT_CHECK || !con->convalidated)
			continue;
		bin = heap_getattr(tup, Anum_pg_constraint_conbin,
						   RelationGetDescr(conRel), &isnull);
		if (isnull)
			continue;
		expr = stringToNode(TextDatumGetCString(bin));
		if (IsA(expr, NullTest) &&
			((NullTest *) expr)->nulltesttype == IS_NOT_NULL &&
			IsA(((NullTest *) expr)->arg, Var))
			result = lappend_int(result, ((Var *) ((NullTest *) expr)->arg)->varattno);
	}
	systable_endscan(scan);
	table_close(conRel, AccessShareLock);
	return result;
}

/* Whether an index enforces uniqueness */
bool
migsafe_lintdeps_index_is_unique(Oid indexid)
{
	HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexid));
	bool		unique = false;

	if (HeapTupleIsValid(tup))
	{
		unique = ((Form_pg_index) GETSTRUCT(tup))->indisunique;
		ReleaseSysCache(tup);
	}
	return unique;
}

/*
 * migsafe_lintdeps_truncated
 *
 * The tables a TRUNCATE empties, given the ones it names (with their
 * inheritors when not ONLY): with CASCADE, also every table whose foreign
 * key references one of them, as PostgreSQL expands it.  Partitions are
 * left out when their partitioned table is in the list (its figures sum
 * theirs).
 */
List	   *
migsafe_lintdeps_truncated(List *relids, bool cascade, List **rels)
{
	List	   *all = list_copy(relids);
	List	   *result = NIL;
	ListCell   *lc;

	if (cascade)
	{
		for (;;)
		{
			List	   *more = list_difference_oid(heap_truncate_find_FKs(all), all);

			if (more == NIL)
				break;
			foreach(lc, more)
				all = list_concat(all, find_all_inheritors(lfirst_oid(lc), NoLock, NULL));
			all = list_concat_unique_oid(NIL, all);
		}
	}
	foreach(lc, all)
	{
		Oid			relid = lfirst_oid(lc);
		MigsafeLintRel *rel;

		if (get_rel_relispartition(relid) &&
			list_member_oid(all, get_partition_parent(relid, true)))
			continue;
		rel = migsafe_lintdeps_rel(rels, relid);
		if (rel != NULL && (rel->relkind == RELKIND_RELATION ||
							rel->relkind == RELKIND_PARTITIONED_TABLE))
			result = lappend(result, rel);
	}
	return result;
}

/*
 * migsafe_lintdeps_owned
 *
 * The tables, materialized views and sequences of this database that
 * DROP OWNED BY the given roles drops (leaving out partitions of a
 * partitioned table it drops).
 */
List	   *
migsafe_lintdeps_owned(List *roles, List **rels)
{
	List	   *owners = NIL;
	List	   *relids = NIL;
	List	   *result = NIL;
	Relation	classRel;
	TableScanDesc scan;
	HeapTuple	tup;
	ListCell   *lc;

	foreach(lc, roles)
	{
		Oid			roleid = get_rolespec_oid(lfirst(lc), true);

		if (OidIsValid(roleid))
			owners = lappend_oid(owners, roleid);
	}
	if (owners == NIL)
		return NIL;
	classRel = table_open(RelationRelationId, AccessShareLock);
	scan = table_beginscan_catalog(classRel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tup);

		if (list_member_oid(owners, form->relowner) &&
			(migsafe_classify_relkind(form->relkind) ||
			 form->relkind == RELKIND_PARTITIONED_TABLE) &&
			!isAnyTempNamespace(form->relnamespace) &&
			!MIGSAFE_BUILTIN_OBJECT(form->oid))
			relids = lappend_oid(relids, form->oid);
	}
	table_endscan(scan);
	table_close(classRel, AccessShareLock);

	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);
		MigsafeLintRel *rel;

		if (get_rel_relispartition(relid) &&
			list_member_oid(relids, get_partition_parent(relid, true)))
			continue;
		rel = migsafe_lintdeps_rel(rels, relid);
		if (rel != NULL)		/* NULL: dropped since the scan */
			result = lappend(result, rel);
	}
	return result;
}

