/*-------------------------------------------------------------------------
 *
 * swap.c
 *	  Keep a table's storage under a new table and give the table new,
 *	  empty storage: a TRUNCATE's snapshot without copying a row.
 *
 * migsafe_swap_keep_storage() is called by snapshot.c, inside an internal
 * section, for a table the statement holds ACCESS EXCLUSIVE and is about
 * to truncate.  It builds an empty heap with the table's physical layout
 * (make_new_heap(), as CLUSTER does: dropped columns included, a TOAST
 * table if the table has one), then exchanges the two tables' storage in
 * pg_class (relfilenode, size statistics, relfrozenxid and relminmxid,
 * which belong with the tuples) and their TOAST tables, by link as CLUSTER
 * does: a TOAST pointer names its TOAST table by OID, so the kept tuples
 * must keep that table.  TRUNCATE then replaces the new, empty storage
 * now attached to the table, as it would have replaced the old one.
 *
 * Everything is catalog updates in the statement's transaction: a
 * rollback or a crash before commit leaves the table as it was (the new
 * heap's files go with the rollback, or stay as orphans after a crash,
 * as CLUSTER's do), and after commit the kept storage belongs to the new
 * table only.  Nothing here marks the table's storage as new in this
 * transaction (RelationAssumeNewRelfilenode()), so TRUNCATE never takes
 * its non-transactional shortcut (heap_truncate_one_rel()) on indexes that
 * existed before.  It takes it only when the table's storage was new in
 * this subtransaction already (truncated twice): then it empties, in
 * place, the storage given here, and the indexes built in this
 * subtransaction, never the kept storage, which belongs to the new table
 * by then.
 *
 * Calls nothing of migsafe's.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/swap.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/toast_internals.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/heap.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "commands/cluster.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#include "migsafe.h"
#include "swap.h"

/*
 * migsafe_swap_before_truncate
 *
 * Whether relid has a BEFORE TRUNCATE trigger that may fire (enabled in
 * any session_replication_role).  A TRUNCATE that fires one keeps no
 * storage: the swap happens before the statement runs, and the trigger
 * must see the rows the statement is about to remove (in any of its
 * tables), as it does without migsafe.
 */
bool
migsafe_swap_before_truncate(Oid relid)
{
	Relation	rel = try_relation_open(relid, NoLock);
	TriggerDesc *trigdesc;
	bool		result = false;
	int			i;

	if (rel == NULL)
		return false;
	trigdesc = rel->trigdesc;

	for (i = 0; trigdesc != NULL && i < trigdesc->numtriggers; i++)
	{
		Trigger    *trig = &trigdesc->triggers[i];

		if (TRIGGER_FOR_TRUNCATE(trig->tgtype) &&
			TRIGGER_FOR_BEFORE(trig->tgtype) &&
			trig->tgenabled != TRIGGER_DISABLED)
			result = true;
	}
	relation_close(rel, NoLock);
	return result;
}

/*
 * migsafe_swap_possible
 *
 * Whether the storage of table relid can be kept by a swap: a heap table,
 * permanent or unlogged (a temporary table's heap would be created in
 * pg_temp), not mapped or a catalog, locked ACCESS EXCLUSIVE by this
 * transaction, and with the name make_new_heap() gives the new heap free
 * in its schema (any role that may create tables there could take it).
 */
bool
migsafe_swap_possible(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class form;
	bool		result;

	if (!HeapTupleIsValid(tup))
		return false;
	form = (Form_pg_class) GETSTRUCT(tup);
	result = form->relkind == RELKIND_RELATION &&
		form->relam == HEAP_TABLE_AM_OID &&
		OidIsValid(form->relfilenode) &&
		!IsCatalogRelationOid(relid) &&
		(form->relpersistence == RELPERSISTENCE_PERMANENT ||
		 form->relpersistence == RELPERSISTENCE_UNLOGGED) &&
		!OidIsValid(get_relname_relid(psprintf("pg_temp_%u", relid),
									  form->relnamespace));
	ReleaseSysCache(tup);
	if (!result || !CheckRelationOidLockedByMe(relid, AccessExclusiveLock,
											   false))
		return false;
	return true;
}

/*
 * Give the columns of newrelid the values that rows of relid written before
 * a column was added read for it (attmissingval): the kept tuples are the
 * old ones, and without it they would read NULL there.
 */
static void
copy_missing_values(Oid relid, Oid newrelid)
{
	Relation	attRel = table_open(AttributeRelationId, RowExclusiveLock);
	Relation	rel = table_open(relid, NoLock);
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		HeapTuple	oldtup;
		HeapTuple	newtup;
		HeapTuple	tup;
		Datum		missing;
		bool		isnull;
		Datum		values[Natts_pg_attribute];
		bool		nulls[Natts_pg_attribute];
		bool		replace[Natts_pg_attribute];

		if (att->attisdropped || !att->atthasmissing)
			continue;
		oldtup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid),
								 Int16GetDatum(att->attnum));
		if (!HeapTupleIsValid(oldtup))
			elog(ERROR, "cache lookup failed for attribute %d of relation %u",
				 att->attnum, relid);
		missing = SysCacheGetAttr(ATTNUM, oldtup,
								  Anum_pg_attribute_attmissingval, &isnull);
		newtup = SearchSysCacheCopy2(ATTNUM, ObjectIdGetDatum(newrelid),
									 Int16GetDatum(att->attnum));
		if (!HeapTupleIsValid(newtup))
			elog(ERROR, "cache lookup failed for attribute %d of relation %u",
				 att->attnum, newrelid);
		memset(replace, false, sizeof(replace));
		memset(nulls, false, sizeof(nulls));
		replace[Anum_pg_attribute_atthasmissing - 1] = true;
		values[Anum_pg_attribute_atthasmissing - 1] = BoolGetDatum(!isnull);
		replace[Anum_pg_attribute_attmissingval - 1] = true;
		values[Anum_pg_attribute_attmissingval - 1] = missing;
		nulls[Anum_pg_attribute_attmissingval - 1] = isnull;
		tup = heap_modify_tuple(newtup, RelationGetDescr(attRel), values,
								nulls, replace);
		CatalogTupleUpdate(attRel, &tup->t_self, tup);
		ReleaseSysCache(oldtup);
		heap_freetuple(tup);
		heap_freetuple(newtup);
	}
	table_close(rel, NoLock);
	table_close(attRel, RowExclusiveLock);
}

/* Make toastid's internal dependency point at its new owner relid */
static void
move_toast_dependency(Oid toastid, Oid relid)
{
	ObjectAddress toast;
	ObjectAddress owner;
	long		count;

	/* a TOAST table's only dependency is on its owner (see toasting.c) */
	count = deleteDependencyRecordsFor(RelationRelationId, toastid, false);
	if (count != 1)
		elog(ERROR, "expected one dependency record for TOAST table %u, found %ld",
			 toastid, count);
	ObjectAddressSet(toast, RelationRelationId, toastid);
	ObjectAddressSet(owner, RelationRelationId, relid);
	recordDependencyOn(&toast, &owner, DEPENDENCY_INTERNAL);
}

/*
 * Rename relation relid in place (and clear relrewrite, which
 * make_new_heap() sets on the new TOAST table: logical decoding skips the
 * changes of a relation that has it).
 */
static void
set_relname(Oid relid, const char *name)
{
	Relation	classRel = table_open(RelationRelationId, RowExclusiveLock);
	HeapTuple	tup = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class form;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	form = (Form_pg_class) GETSTRUCT(tup);
	namestrcpy(&form->relname, name);
	form->relrewrite = InvalidOid;
	CatalogTupleUpdate(classRel, &tup->t_self, tup);
	heap_freetuple(tup);
	table_close(classRel, RowExclusiveLock);
	CommandCounterIncrement();
}

/*
 * Give each TOAST table (and its index) the name of its new owner, as a
 * TOAST table created for it would have (pg_toast_<owner oid>): pg_upgrade
 * checks these names.  oldtoast belonged to relid and now to newrelid;
 * newtoast (or InvalidOid) the other way round.
 */
static void
rename_toast(Oid relid, Oid newrelid, Oid oldtoast, Oid newtoast)
{
	Oid			oldindex;
	Oid			newindex = InvalidOid;

	LockRelationOid(oldtoast, AccessExclusiveLock);
	oldindex = toast_get_valid_index(oldtoast, AccessExclusiveLock);
	if (OidIsValid(newtoast))
	{
		newindex = toast_get_valid_index(newtoast, AccessExclusiveLock);
		/* out of the way first: names are unique in pg_toast */
		set_relname(oldtoast, psprintf("pg_toast_%u_migsafe", newrelid));
		set_relname(oldindex, psprintf("pg_toast_%u_migsafe_index", newrelid));
		set_relname(newtoast, psprintf("pg_toast_%u", relid));
		set_relname(newindex, psprintf("pg_toast_%u_index", relid));
	}
	set_relname(oldtoast, psprintf("pg_toast_%u", newrelid));
	set_relname(oldindex, psprintf("pg_toast_%u_index", newrelid));
}

/*
 * The columns of newrelid are its own, plain columns: make_new_heap()
 * copied the table's descriptor, with the inheritance counts of a
 * partition or inheritance child, but the new table has no parent (an
 * ALTER of one of its columns would be refused as "inherited"), and with
 * generated and identity columns, but not their expressions and sequences
 * (an ALTER of their type would be refused, pg_dump would leave generated
 * values out of the kept table's data).  The kept values are data.
 */
static void
own_columns(Oid newrelid)
{
	Relation	attRel = table_open(AttributeRelationId, RowExclusiveLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&key, Anum_pg_attribute_attrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(newrelid));
	scan = systable_beginscan(attRel, AttributeRelidNumIndexId, true, NULL,
							  1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_attribute att = (Form_pg_attribute) GETSTRUCT(tup);
		HeapTuple	copy;

		if (att->attnum <= 0 ||
			(att->attislocal && att->attinhcount == 0 &&
			 att->attgenerated == '\0' && att->attidentity == '\0'))
			continue;
		copy = heap_copytuple(tup);
		att = (Form_pg_attribute) GETSTRUCT(copy);
		att->attislocal = true;
		att->attinhcount = 0;
		att->attgenerated = '\0';
		att->attidentity = '\0';
		CatalogTupleUpdate(attRel, &copy->t_self, copy);
		heap_freetuple(copy);
	}
	systable_endscan(scan);
	table_close(attRel, RowExclusiveLock);
}

/*
 * Exchange the storage of relid and newrelid in pg_class: relfilenode,
 * the TOAST link, size statistics and the freeze horizons of the tuples.
 * Returns the TOAST tables of relid and newrelid as they were.
 */
static void
swap_class_rows(Oid relid, Oid newrelid, Oid *oldtoast, Oid *newtoast)
{
	Relation	classRel = table_open(RelationRelationId, RowExclusiveLock);
	HeapTuple	tup1 = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(relid));
	HeapTuple	tup2 = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(newrelid));
	Form_pg_class form1;
	Form_pg_class form2;
	FormData_pg_class save;

	if (!HeapTupleIsValid(tup1) || !HeapTupleIsValid(tup2))
		elog(ERROR, "cache lookup failed for relation %u or %u",
			 relid, newrelid);
	form1 = (Form_pg_class) GETSTRUCT(tup1);
	form2 = (Form_pg_class) GETSTRUCT(tup2);
	if (form1->reltablespace != form2->reltablespace ||
		form1->relpersistence != form2->relpersistence)
		elog(ERROR, "relations %u and %u differ in tablespace or persistence",
			 relid, newrelid);
	*oldtoast = form1->reltoastrelid;
	*newtoast = form2->reltoastrelid;

	memcpy(&save, form1, sizeof(save));
	form1->relfilenode = form2->relfilenode;
	form1->reltoastrelid = form2->reltoastrelid;
	form1->relpages = form2->relpages;
	form1->reltuples = form2->reltuples;
	form1->relallvisible = form2->relallvisible;
	form1->relfrozenxid = form2->relfrozenxid;
	form1->relminmxid = form2->relminmxid;
	form2->relfilenode = save.relfilenode;
	form2->reltoastrelid = save.reltoastrelid;
	form2->relpages = save.relpages;
	form2->reltuples = save.reltuples;
	form2->relallvisible = save.relallvisible;
	form2->relfrozenxid = save.relfrozenxid;
	form2->relminmxid = save.relminmxid;
	/* it is a table of its own now, not the transient heap of a rewrite */
	form2->relrewrite = InvalidOid;

	CatalogTupleUpdate(classRel, &tup1->t_self, tup1);
	CatalogTupleUpdate(classRel, &tup2->t_self, tup2);
	heap_freetuple(tup1);
	heap_freetuple(tup2);
	table_close(classRel, RowExclusiveLock);

	if (OidIsValid(*oldtoast))
		move_toast_dependency(*oldtoast, newrelid);
	if (OidIsValid(*newtoast))
		move_toast_dependency(*newtoast, relid);

	/*
	 * Both relcache entries are rebuilt at the next CommandCounterIncrement;
	 * close their smgr links first, so that neither is left pointing at the
	 * other's (see swap_relation_files() in cluster.c; compat.h: not needed
	 * from 17 on).
	 */
	migsafe_close_smgr(relid);
	migsafe_close_smgr(newrelid);
	CommandCounterIncrement();
}

/*
 * migsafe_swap_keep_storage
 *
 * Create a table in relid's schema, named pg_temp_<relid> and owned by
 * relid's owner, that holds relid's current storage (heap, its forks and
 * its TOAST table), and give relid new, empty storage instead.  relid must
 * pass migsafe_swap_possible().  The new table has relid's columns
 * (dropped ones included, without defaults, constraints or indexes).
 * Returns its OID.  Raises an error if a catalog row is missing.
 */
Oid
migsafe_swap_keep_storage(Oid relid)
{
	Relation	rel = table_open(relid, NoLock);
	Oid			tablespace = rel->rd_rel->reltablespace;
	Oid			accessmethod = rel->rd_rel->relam;
	char		persistence = rel->rd_rel->relpersistence;
	Oid			newrelid;
	Oid			oldtoast;
	Oid			newtoast;

	table_close(rel, NoLock);
	newrelid = make_new_heap(relid, tablespace, accessmethod, persistence,
							 AccessExclusiveLock);
	/* each updates the new table's pg_attribute rows: one after the other */
	own_columns(newrelid);
	CommandCounterIncrement();
	copy_missing_values(relid, newrelid);
	swap_class_rows(relid, newrelid, &oldtoast, &newtoast);
	if (OidIsValid(oldtoast))
		rename_toast(relid, newrelid, oldtoast, newtoast);
	return newrelid;
}
