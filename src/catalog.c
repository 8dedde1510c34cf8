/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  What migsafe reads of the catalogs and of tables: how much data a
 *	  target holds, which relation an object belongs to, which objects are
 *	  migsafe's own, and who may read a table.
 *
 * Everything here reads through the relation, syscache and index-scan
 * APIs, never SPI, and calls nothing of migsafe's.  Measuring scans a
 * relation the caller has locked against writers.  Results are allocated
 * in the current memory context.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/catalog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_index.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_publication.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/sequence.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "optimizer/plancat.h"
#include "replication/walsender.h"
#include "replication/walsender_private.h"
#include "storage/bufmgr.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "migsafe.h"
#include "catalog.h"

/* Tables up to this many blocks (8 MB) get exact row counts in messages */
#define MIGSAFE_EXACT_COUNT_BLOCKS	1024

/* cache of "is migsafe installed in this database", per transaction */
static LocalTransactionId installed_lxid = InvalidLocalTransactionId;
static bool installed_here = false;

/*
 * The OIDs of migsafe's schema and extension, kept across transactions
 * until an invalidation says they may have changed: a change to any schema
 * (syscache callback on pg_namespace), to any function (on pg_proc: the
 * extension cannot be created or dropped without its functions), or a
 * cache reset.  A missing extension is remembered only for the command
 * that looked (its creation by this very command shows once that command
 * is over), and after migsafe_catalog_forget_installed() (an extension
 * created or being dropped) nothing is remembered until the command is
 * over: its last step may delete the row without touching any function.
 */
static bool own_callbacks = false;
static bool own_nsp_valid = false;
static Oid	own_nsp = InvalidOid;
static bool own_ext_valid = false;
static Oid	own_ext = InvalidOid;
static LocalTransactionId own_ext_lxid = InvalidLocalTransactionId;
static CommandId own_ext_cid = InvalidCommandId;
static LocalTransactionId forgot_lxid = InvalidLocalTransactionId;
static CommandId forgot_cid = InvalidCommandId;

/*
 * Whether the database has a temporary schema (pg_temp_N, pg_toast_temp_N)
 * at all, kept like the OIDs above until a change to any schema: without
 * one, nothing can depend on a temporary object.  Backends make theirs the
 * first time they need one, and it stays.
 */
static bool temp_schemas_valid = false;
static bool temp_schemas = false;

/* Whether the database has a publication, kept until one changes */
static bool publications_valid = false;
static bool publications = false;

static void watch_own_oids(void);

/* ----------------------------------------------------------------
 * Measuring: is it empty, how much is at stake
 * ----------------------------------------------------------------
 */

/*
 * migsafe_catalog_measure
 *
 * Scan a relation target with the latest snapshot (the caller holds a lock
 * that excludes writers) and set rows, values (non-null values of a column
 * target) and bytes.  With full false the scan stops at the first row (or
 * first non-null value) and only emptiness is known.  Small relations are
 * counted exactly; larger ones get the catalog's estimate.
 */
void
migsafe_catalog_measure(MigsafeTarget *t, bool full)
{
	Relation	rel;
	Snapshot	snap;
	TableScanDesc scan;
	TupleTableSlot *slot;
	BlockNumber nblocks;
	bool		exact;

	t->rows = t->values = 0;
	t->rows_exact = true;
	if (t->relkind == RELKIND_SEQUENCE ||
		t->relkind == RELKIND_PARTITIONED_TABLE)
	{
		t->bytes = 0;
		return;
	}

	rel = relation_open(t->objid, NoLock);
	nblocks = RelationGetNumberOfBlocks(rel);
	t->bytes = (int64) nblocks * BLCKSZ;
	if (OidIsValid(rel->rd_rel->reltoastrelid))
	{
		/* the TOAST table is gone already at the table's own OAT_DROP */
		Relation	toast = try_relation_open(rel->rd_rel->reltoastrelid,
											  AccessShareLock);

		if (toast != NULL)
		{
			t->bytes += (int64) RelationGetNumberOfBlocks(toast) * BLCKSZ;
			relation_close(toast, AccessShareLock);
		}
	}

	exact = full && nblocks <= MIGSAFE_EXACT_COUNT_BLOCKS;
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snap, 0, NULL);
	/*
	 * A table's rows counted exactly, a column's values: a page at a time
	 * where possible
	 */
	if ((t->subid == 0 && !exact) ||
		!migsafe_heap_count(rel, scan, t->subid, !exact, &t->rows,
							&t->values))
	{
		slot = table_slot_create(rel, NULL);
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			CHECK_FOR_INTERRUPTS();
			t->rows++;
			if (t->subid > 0 && !slot_attisnull(slot, t->subid))
				t->values++;
			if (!exact && (t->subid > 0 ? t->values > 0 : t->rows > 0))
				break;
		}
		ExecDropSingleTupleTableSlot(slot);
	}
	table_endscan(scan);
	UnregisterSnapshot(snap);

	if (full && !exact)
	{
		BlockNumber pages;
		double		tuples;
		double		allvisfrac;

		estimate_rel_size(rel, NULL, &pages, &tuples, &allvisfrac);
		t->rows = Max(tuples, t->rows);
		t->rows_exact = false;
	}
	relation_close(rel, NoLock);
}

/* Whether the relation was created in this transaction */
bool
migsafe_catalog_created_here(Oid relid)
{
	Relation	rel = relation_open(relid, NoLock);
	bool		result = rel->rd_createSubid != InvalidSubTransactionId;

	relation_close(rel, NoLock);
	return result;
}

/* ----------------------------------------------------------------
 * Owners: which relation, which schema an object belongs to
 * ----------------------------------------------------------------
 */

/*
 * Catalogs whose objects belong to a relation (reloid) or live in a schema
 * of their own (nspoid), and where to read which.  The one table behind
 * migsafe_catalog_owning_relation(), migsafe_catalog_object_namespace()
 * and migsafe_catalog_is_migsafe_object().
 */
typedef struct MigsafeOwnerField
{
	Oid			catalog;
	Oid			index;			/* its OID index */
	AttrNumber	reloid;			/* owning relation, or InvalidAttrNumber */
	AttrNumber	nspoid;			/* schema, or InvalidAttrNumber */
} MigsafeOwnerField;

static const MigsafeOwnerField owner_fields[] = {
	{RelationRelationId, ClassOidIndexId, InvalidAttrNumber, Anum_pg_class_relnamespace},
	{ProcedureRelationId, ProcedureOidIndexId, InvalidAttrNumber, Anum_pg_proc_pronamespace},
	{TypeRelationId, TypeOidIndexId, Anum_pg_type_typrelid, Anum_pg_type_typnamespace},
	{ConstraintRelationId, ConstraintOidIndexId, Anum_pg_constraint_conrelid, Anum_pg_constraint_connamespace},
	{TriggerRelationId, TriggerOidIndexId, Anum_pg_trigger_tgrelid, InvalidAttrNumber},
	{RewriteRelationId, RewriteOidIndexId, Anum_pg_rewrite_ev_class, InvalidAttrNumber},
	{PolicyRelationId, PolicyOidIndexId, Anum_pg_policy_polrelid, InvalidAttrNumber},
	{AttrDefaultRelationId, AttrDefaultOidIndexId, Anum_pg_attrdef_adrelid, InvalidAttrNumber},
	{StatisticExtRelationId, StatisticExtOidIndexId, Anum_pg_statistic_ext_stxrelid, Anum_pg_statistic_ext_stxnamespace},
};

/* The entry of owner_fields for a catalog, or NULL */
static const MigsafeOwnerField *
owner_field(Oid classid)
{
	int			i;

	for (i = 0; i < lengthof(owner_fields); i++)
		if (owner_fields[i].catalog == classid)
			return &owner_fields[i];
	return NULL;
}

/*
 * catalog_oid_field
 *
 * An OID column of a catalog row found by its OID, read with SnapshotSelf:
 * at OAT_POST_CREATE the row was inserted by this very command, before any
 * CommandCounterIncrement, and syscaches do not see it yet.
 */
static void catalog_oid_fields(const MigsafeOwnerField *f, AttrNumber attnum,
							   AttrNumber attnum2, Oid objid, Oid *result,
							   Oid *result2);

static Oid
catalog_oid_field(const MigsafeOwnerField *f, AttrNumber attnum, Oid objid)
{
	Oid			result;

	catalog_oid_fields(f, attnum, InvalidAttrNumber, objid, &result, NULL);
	return result;
}

/*
 * catalog_oid_fields
 *
 * Two OID columns of the same row (attnum2 may be InvalidAttrNumber),
 * read at once as catalog_oid_field() reads one; InvalidOid for a missing
 * row or a null.
 */
static void
catalog_oid_fields(const MigsafeOwnerField *f, AttrNumber attnum,
				   AttrNumber attnum2, Oid objid, Oid *result, Oid *result2)
{
	Relation	rel = table_open(f->catalog, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	*result = InvalidOid;
	if (result2 != NULL)
		*result2 = InvalidOid;

	/* every catalog of owner_fields has its OID as first column */
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(objid));
	scan = systable_beginscan(rel, f->index, true, SnapshotSelf, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, attnum, RelationGetDescr(rel),
									 &isnull);

		if (!isnull)
			*result = DatumGetObjectId(d);
		if (attnum2 != InvalidAttrNumber && result2 != NULL)
		{
			d = heap_getattr(tup, attnum2, RelationGetDescr(rel), &isnull);
			if (!isnull)
				*result2 = DatumGetObjectId(d);
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/*
 * migsafe_catalog_sequence_owner
 *
 * Whether a sequence belongs to a table's column (OWNED BY, serial, or
 * identity); *relid and *attnum get the column.
 */
bool
migsafe_catalog_sequence_owner(Oid seqid, Oid *relid, int32 *attnum)
{
	return sequenceIsOwned(seqid, DEPENDENCY_AUTO, relid, attnum) ||
		sequenceIsOwned(seqid, DEPENDENCY_INTERNAL, relid, attnum);
}

/*
 * migsafe_catalog_sequence_owned_here
 *
 * Whether this transaction made an existing sequence its table's (ALTER
 * SEQUENCE ... OWNED BY, or OWNED BY NONE then again): the table's
 * approval must not cover a sequence that was not its own when the
 * transaction began.  A sequence created here is new anyway.
 */
bool
migsafe_catalog_sequence_owned_here(Oid seqid)
{
	Relation	depRel;
	ScanKeyData key[3];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		result = false;

	if (migsafe_catalog_created_here(seqid))
		return false;
	depRel = table_open(DependRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(RelationRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(seqid));
	ScanKeyInit(&key[2], Anum_pg_depend_objsubid, BTEqualStrategyNumber,
				F_INT4EQ, Int32GetDatum(0));
	scan = systable_beginscan(depRel, DependDependerIndexId, true, NULL, 3, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		if (dep->refclassid == RelationRelationId &&
			(dep->deptype == DEPENDENCY_AUTO ||
			 dep->deptype == DEPENDENCY_INTERNAL) &&
			TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)))
			result = true;
	}
	systable_endscan(scan);
	table_close(depRel, AccessShareLock);
	return result;
}

/*
 * migsafe_catalog_typed_tables
 *
 * The typed tables of a composite type (CREATE TABLE ... OF type), which
 * ALTER TYPE ... CASCADE changes too.
 */
List *
migsafe_catalog_typed_tables(Oid typoid)
{
	List	   *result = NIL;
	ListCell   *lc;

	/* a typed table depends on its type (pg_class.reloftype) */
	foreach(lc, migsafe_catalog_dependents(TypeRelationId, typoid,
										   DEPENDENCY_NORMAL))
	{
		ObjectAddress *obj = lfirst(lc);
		HeapTuple	tup;

		if (obj->classId != RelationRelationId)
			continue;
		tup = SearchSysCache1(RELOID, ObjectIdGetDatum(obj->objectId));
		if (!HeapTupleIsValid(tup))
			continue;
		if (((Form_pg_class) GETSTRUCT(tup))->relkind == RELKIND_RELATION &&
			((Form_pg_class) GETSTRUCT(tup))->reloftype == typoid)
			result = list_append_unique_oid(result, obj->objectId);
		ReleaseSysCache(tup);
	}
	return result;
}

/* The table a relation that holds none of its own data belongs to */
static Oid
relation_owner(Oid relid)
{
	Oid			owner = InvalidOid;
	int32		col;

	switch (get_rel_relkind(relid))
	{
		case RELKIND_INDEX:
		case RELKIND_PARTITIONED_INDEX:
			owner = IndexGetRelation(relid, true);
			/* a TOAST table's index belongs to the TOAST's table */
			return OidIsValid(owner) ?
				relation_owner(owner) : InvalidOid;
		case RELKIND_SEQUENCE:
			if (migsafe_catalog_sequence_owner(relid, &owner, &col))
				return owner;
			return InvalidOid;
		case RELKIND_TOASTVALUE:
			{
				/*
				 * XXX: the TOAST table is named pg_toast_<table OID> by
				 * create_toast_table(), and rewrites keep that name (see
				 * finish_heap_swap()); no catalog links it back to its table
				 * more cheaply.  Should core ever name it otherwise, this
				 * returns InvalidOid and the table is copied, not moved.
				 */
				char	   *name = get_rel_name(relid);
				unsigned int table;

				if (name != NULL && sscanf(name, "pg_toast_%u", &table) == 1)
					return (Oid) table;
				return InvalidOid;
			}
		default:
			return relid;
	}
}

/*
 * migsafe_catalog_owning_relation
 *
 * The table an object belongs to (an index, TOAST table, owned sequence,
 * row type, constraint, trigger, rule, policy, default or statistics
 * object), the relation itself for a table, or InvalidOid.
 */
Oid
migsafe_catalog_owning_relation(Oid classid, Oid objid)
{
	const MigsafeOwnerField *f;

	switch (classid)
	{
		case RelationRelationId:
			return relation_owner(objid);
		case TypeRelationId:
			{
				Oid			elem = get_element_type(objid);

				return get_typ_typrelid(OidIsValid(elem) ? elem : objid);
			}
		case TriggerRelationId:
			{
				const MigsafeOwnerField *c = owner_field(ConstraintRelationId);
				Oid			con;

				f = owner_field(TriggerRelationId);
				con = catalog_oid_field(f, Anum_pg_trigger_tgconstraint, objid);
				/* a foreign key's triggers on the referenced table */
				if (OidIsValid(con))
					return catalog_oid_field(c, c->reloid, con);
				return catalog_oid_field(f, f->reloid, objid);
			}
		default:
			f = owner_field(classid);
			if (f == NULL || f->reloid == InvalidAttrNumber)
				return InvalidOid;
			return catalog_oid_field(f, f->reloid, objid);
	}
}

/*
 * migsafe_catalog_object_namespace
 *
 * The schema an object lives in: its own, or its relation's for objects
 * that have none (triggers, rules, policies, defaults).  InvalidOid for an
 * object of another catalog, or one that does not exist.
 */
Oid
migsafe_catalog_object_namespace(Oid classid, Oid objid)
{
	const MigsafeOwnerField *f = owner_field(classid);
	const MigsafeOwnerField *rel = owner_field(RelationRelationId);
	Oid			relid;

	if (f == NULL)
		return InvalidOid;
	if (f->nspoid != InvalidAttrNumber)
		return catalog_oid_field(f, f->nspoid, objid);
	relid = catalog_oid_field(f, f->reloid, objid);
	if (!OidIsValid(relid))
		return InvalidOid;
	return catalog_oid_field(rel, rel->nspoid, relid);
}

/*
 * migsafe_catalog_any_namespace
 *
 * The schema of any object: its own for the catalogs that have one, its
 * relation's for objects that hang off one (see
 * migsafe_catalog_object_namespace()), else InvalidOid.  *exists says
 * whether the object is there (a statement may drop what it made).
 */
Oid
migsafe_catalog_any_namespace(const ObjectAddress *obj, bool *exists)
{
	Relation	rel;
	HeapTuple	tup;
	AttrNumber	nspcol;
	Oid			nsp = InvalidOid;
	bool		isnull;

	*exists = true;

	/*
	 * The common classes through the syscache, which sees what the catalog
	 * scan below sees (both as of the last CommandCounterIncrement).  A
	 * schema has no schema of its own.
	 */
	switch (obj->classId)
	{
		case NamespaceRelationId:
			*exists = SearchSysCacheExists1(NAMESPACEOID,
											ObjectIdGetDatum(obj->objectId));
			return InvalidOid;
		case RelationRelationId:
			nsp = get_rel_namespace(obj->objectId);
			*exists = OidIsValid(nsp);
			return nsp;
		case TypeRelationId:
			tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(obj->objectId));
			*exists = HeapTupleIsValid(tup);
			if (!*exists)
				return InvalidOid;
			nsp = ((Form_pg_type) GETSTRUCT(tup))->typnamespace;
			ReleaseSysCache(tup);
			return nsp;
		case ProcedureRelationId:
			tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(obj->objectId));
			*exists = HeapTupleIsValid(tup);
			if (!*exists)
				return InvalidOid;
			nsp = ((Form_pg_proc) GETSTRUCT(tup))->pronamespace;
			ReleaseSysCache(tup);
			return nsp;
		default:
			break;
	}
	if (!is_objectclass_supported(obj->classId))
		return migsafe_catalog_object_namespace(obj->classId, obj->objectId);
	rel = table_open(obj->classId, AccessShareLock);
	tup = get_catalog_object_by_oid(rel, get_object_attnum_oid(obj->classId),
									obj->objectId);
	if (tup == NULL)
		*exists = false;
	else if ((nspcol = get_object_attnum_namespace(obj->classId)) != InvalidAttrNumber)
	{
		Datum		d = heap_getattr(tup, nspcol, RelationGetDescr(rel), &isnull);

		if (!isnull)
			nsp = DatumGetObjectId(d);
	}
	table_close(rel, AccessShareLock);
	if (*exists && !OidIsValid(nsp))
		nsp = migsafe_catalog_object_namespace(obj->classId, obj->objectId);
	return nsp;
}

/*
 * migsafe_catalog_dependents
 *
 * The objects that depend on an object (any of its sub-objects) with
 * dependency type deptype (the members of an extension, the internal parts
 * of a relation), as a List of ObjectAddress without sub-object.
 */
List *
migsafe_catalog_dependents(Oid refclassid, Oid refobjid, char deptype)
{
	Relation	depRel = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *result = NIL;

	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(refclassid));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(refobjid));
	scan = systable_beginscan(depRel, DependReferenceIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
		ObjectAddress *obj;

		if (dep->deptype != deptype)
			continue;
		obj = palloc(sizeof(ObjectAddress));
		ObjectAddressSet(*obj, dep->classid, dep->objid);
		result = lappend(result, obj);
	}
	systable_endscan(scan);
	table_close(depRel, AccessShareLock);
	return result;
}

/*
 * Answers of temp_reference() for the current command: a statement's
 * objects and their internal parts overlap (a table's row type is both).
 */
#define MIGSAFE_TEMP_MEMO	32

typedef struct MigsafeTempMemo
{
	Oid			classid;
	Oid			objid;
	bool		found;
	ObjectAddress ref;
} MigsafeTempMemo;

static MigsafeTempMemo temp_memo[MIGSAFE_TEMP_MEMO];
static int	temp_memo_len = 0;
static LocalTransactionId temp_memo_lxid = InvalidLocalTransactionId;
static CommandId temp_memo_cid = InvalidCommandId;

static bool temp_reference_scan(Oid classid, Oid objid, ObjectAddress *ref);

/* Whether an object depends directly on one in a temporary schema */
static bool
temp_reference(Oid classid, Oid objid, ObjectAddress *ref)
{
	int			i;
	bool		found;

	if (temp_memo_lxid != migsafe_my_lxid() ||
		temp_memo_cid != GetCurrentCommandId(false))
	{
		temp_memo_len = 0;
		temp_memo_lxid = migsafe_my_lxid();
		temp_memo_cid = GetCurrentCommandId(false);
	}
	for (i = 0; i < temp_memo_len; i++)
		if (temp_memo[i].classid == classid && temp_memo[i].objid == objid)
		{
			if (temp_memo[i].found)
				*ref = temp_memo[i].ref;
			return temp_memo[i].found;
		}
	found = temp_reference_scan(classid, objid, ref);
	if (temp_memo_len < MIGSAFE_TEMP_MEMO)
	{
		temp_memo[temp_memo_len].classid = classid;
		temp_memo[temp_memo_len].objid = objid;
		temp_memo[temp_memo_len].found = found;
		if (found)
			temp_memo[temp_memo_len].ref = *ref;
		temp_memo_len++;
	}
	return found;
}

/* temp_reference(), from pg_depend */
static bool
temp_reference_scan(Oid classid, Oid objid, ObjectAddress *ref)
{
	Relation	depRel = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(classid));
	ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(objid));
	scan = systable_beginscan(depRel, DependDependerIndexId, true, NULL, 2, key);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
		Oid			nsp;

		bool		exists;

		ObjectAddressSubSet(*ref, dep->refclassid, dep->refobjid,
							dep->refobjsubid);
		nsp = migsafe_catalog_any_namespace(ref, &exists);
		found = OidIsValid(nsp) && isAnyTempNamespace(nsp);
	}
	systable_endscan(scan);
	table_close(depRel, AccessShareLock);
	return found;
}

/*
 * migsafe_catalog_any_temp_schema
 *
 * Whether any temporary schema exists in this database (see temp_schemas):
 * without one, no object is temporary.
 */
bool
migsafe_catalog_any_temp_schema(void)
{
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;

	watch_own_oids();
	if (temp_schemas_valid)
		return temp_schemas;
	temp_schemas = false;
	rel = table_open(NamespaceRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (!temp_schemas && HeapTupleIsValid(tup = systable_getnext(scan)))
		temp_schemas = isAnyTempNamespace(((Form_pg_namespace) GETSTRUCT(tup))->oid);
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	temp_schemas_valid = true;
	return temp_schemas;
}

/*
 * migsafe_catalog_temp_dependency
 *
 * Whether an object depends on one in a temporary schema (a type, a
 * domain, a function, a collation...): PostgreSQL drops that one at the
 * end of its session or at DISCARD TEMP, and what depends on it with it.
 * *ref gets the first such object.  The object's columns count, and so do
 * its internal parts (a view's rule, a generated column's expression),
 * whose loss takes the whole object along.
 */
bool
migsafe_catalog_temp_dependency(Oid classid, Oid objid, ObjectAddress *ref)
{
	List	   *parts;
	ListCell   *lc;

	/* no temporary schema, no temporary object */
	if (!migsafe_catalog_any_temp_schema())
		return false;
	if (temp_reference(classid, objid, ref))
		return true;
	parts = migsafe_catalog_dependents(classid, objid, DEPENDENCY_INTERNAL);
	foreach(lc, parts)
	{
		ObjectAddress *part = lfirst(lc);

		if (temp_reference(part->classId, part->objectId, ref))
			return true;
	}
	return false;
}

/* ----------------------------------------------------------------
 * migsafe's own objects
 * ----------------------------------------------------------------
 */

/* Syscache callback: a schema or a function changed, or everything did */
static void
forget_own_oids(Datum arg, int cacheid, uint32 hashvalue)
{
	if (cacheid == NAMESPACEOID)
	{
		own_nsp_valid = false;
		temp_schemas_valid = false;
	}
	if (cacheid == PUBLICATIONOID)
	{
		publications_valid = false;
		return;
	}
	own_ext_valid = false;
}

/* Register forget_own_oids() once per backend */
static void
watch_own_oids(void)
{
	if (own_callbacks)
		return;
	CacheRegisterSyscacheCallback(NAMESPACEOID, forget_own_oids, (Datum) 0);
	CacheRegisterSyscacheCallback(PROCOID, forget_own_oids, (Datum) 0);
	CacheRegisterSyscacheCallback(PUBLICATIONOID, forget_own_oids, (Datum) 0);
	own_callbacks = true;
}

/* The OID of migsafe's schema, or InvalidOid */
Oid
migsafe_catalog_namespace(void)
{
	watch_own_oids();
	if (!own_nsp_valid)
	{
		own_nsp = get_namespace_oid(MIGSAFE_SCHEMA, true);
		own_nsp_valid = true;
	}
	return own_nsp;
}

/*
 * The OID of the migsafe extension in this database, or InvalidOid.  The
 * extension lives in its schema (migsafe.control: not relocatable, made
 * with the extension when missing; the guard refuses to rename it, see
 * refuse_own_schema_rename()): without the schema, whose OID the
 * syscache answers and invalidates, there is no extension to look for in
 * pg_extension, which has no syscache.
 */
Oid
migsafe_catalog_extension(void)
{
	if (!OidIsValid(migsafe_catalog_namespace()))
		return InvalidOid;
	if (own_ext_valid && !OidIsValid(own_ext) &&
		(own_ext_lxid != migsafe_my_lxid() ||
		 own_ext_cid != GetCurrentCommandId(false)))
		own_ext_valid = false;
	if (!own_ext_valid)
	{
		own_ext = get_extension_oid("migsafe", true);
		own_ext_lxid = migsafe_my_lxid();
		own_ext_cid = GetCurrentCommandId(false);
		own_ext_valid = forgot_lxid != own_ext_lxid ||
			forgot_cid != own_ext_cid;
	}
	return own_ext;
}

/*
 * migsafe_catalog_version
 *
 * The version of migsafe's SQL objects in this database (pg_extension's
 * extversion), or NULL when it is not installed.  It lags behind the
 * library's until ALTER EXTENSION migsafe UPDATE runs:
 * callers of objects added later check it.  Allocates in the current
 * memory context.
 */
char	   *
migsafe_catalog_version(void)
{
	Oid			extoid = migsafe_catalog_extension();
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	char	   *result = NULL;

	if (!OidIsValid(extoid))
		return NULL;
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_extension_extversion,
									 RelationGetDescr(rel), &isnull);

		if (!isnull)
			result = text_to_cstring(DatumGetTextPP(d));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * migsafe_catalog_installed
 *
 * Whether migsafe is installed in the current database.  Cached per
 * transaction; migsafe_catalog_forget_installed() drops the cache when an
 * extension is created or dropped.
 */
bool
migsafe_catalog_installed(void)
{
	if (installed_lxid != migsafe_my_lxid())
	{
		installed_here = OidIsValid(migsafe_catalog_extension());
		installed_lxid = migsafe_my_lxid();
	}
	return installed_here;
}

/* An extension was created or dropped: ask again next time */
void
migsafe_catalog_forget_installed(void)
{
	installed_lxid = InvalidLocalTransactionId;
	own_ext_valid = false;
	forgot_lxid = migsafe_my_lxid();
	forgot_cid = GetCurrentCommandId(false);
}

/* Whether the migsafe extension's own script is running */
bool
migsafe_catalog_in_own_script(void)
{
	return creating_extension &&
		CurrentExtensionObject == migsafe_catalog_extension();
}

/*
 * migsafe_catalog_is_migsafe_object
 *
 * Whether an object is one of migsafe's own, or hangs off one: its schema,
 * its extension, anything in its schema, and the triggers, rules, policies,
 * constraints, defaults and statistics of its tables.  *owner, when given,
 * gets the table the object hangs off (InvalidOid if none).
 */
bool
migsafe_catalog_is_migsafe_object(Oid classid, Oid objid, Oid *owner)
{
	Oid			migsafe_nsp = migsafe_catalog_namespace();
	const MigsafeOwnerField *f;
	Oid			relid;
	Oid			nsp = InvalidOid;

	if (owner != NULL)
		*owner = InvalidOid;
	if (!OidIsValid(migsafe_nsp))
		return false;
	if (classid == NamespaceRelationId)
		return objid == migsafe_nsp;
	if (classid == ExtensionRelationId)
		return objid == migsafe_catalog_extension();
	f = owner_field(classid);
	if (f == NULL)
		return false;
	relid = InvalidOid;
	if (classid == RelationRelationId)
		relid = objid;
	else if (f->reloid != InvalidAttrNumber)
	{
		/* the relation, and the schema too if there is one: one read */
		catalog_oid_fields(f, f->reloid, f->nspoid, objid, &relid, &nsp);
		if (!OidIsValid(relid))
			return nsp == migsafe_nsp;
	}
	if (owner != NULL)
		*owner = relid;

	/*
	 * An object that hangs off a relation is migsafe's when the relation is,
	 * wherever it lives itself (statistics on a user's table may be put in
	 * schema migsafe, and are the user's).
	 */
	if (OidIsValid(relid) && classid != RelationRelationId)
		return migsafe_catalog_object_namespace(RelationRelationId, relid) == migsafe_nsp;
	return migsafe_catalog_object_namespace(classid, objid) == migsafe_nsp;
}

/*
 * relation_namespace_now
 *
 * The schema of a relation the current statement has open, from its
 * relcache entry, or InvalidOid when there is none to read (then the
 * caller reads the catalog); *created (when given) says whether the
 * relation was made in this transaction.  The entry sees the catalogs as
 * of the last CommandCounterIncrement, or as heap_create() built it for a
 * relation made in this transaction: exact unless the current command
 * moved the relation to another schema, which the callers rule out.
 */
static Oid
relation_namespace_now(Oid relid, bool *created)
{
	Relation	rel = RelationIdGetRelation(relid);
	Oid			nsp;

	if (rel == NULL)
		return InvalidOid;
	nsp = RelationGetNamespace(rel);
	if (created != NULL)
		*created = rel->rd_createSubid != InvalidSubTransactionId;
	RelationClose(rel);
	return nsp;
}

/*
 * migsafe_catalog_is_migsafe_touched
 *
 * migsafe_catalog_is_migsafe_object() for an object the object-access hook
 * sees being created (created: OAT_POST_CREATE) or altered, for less where
 * the relcache tells the schema of the relation involved: a relation made
 * in this transaction, whose entry heap_create() built from the very values
 * it inserted (the syscache does not see the row yet), the relation of a
 * column created or altered, and the relation of a new constraint, rule,
 * trigger, policy, default or statistics object.  None of those statements
 * also moves the relation to another schema (ALTER ... SET SCHEMA is a
 * statement of its own).  A new type needs one read of its row.
 */
bool
migsafe_catalog_is_migsafe_touched(Oid classid, Oid objid, int32 subid,
								   bool created)
{
	Oid			migsafe_nsp = migsafe_catalog_namespace();
	const MigsafeOwnerField *f = owner_field(classid);
	Oid			relid;
	Oid			nsp;

	if (!OidIsValid(migsafe_nsp))
		return false;
	if (classid == RelationRelationId && (subid != 0 || created))
	{
		bool		new_here;

		nsp = relation_namespace_now(objid, &new_here);
		if (OidIsValid(nsp) && (subid != 0 || new_here))
			return nsp == migsafe_nsp;
	}
	else if (created && f != NULL && f->reloid != InvalidAttrNumber)
	{
		/* the relation, and the schema too if there is one: one read */
		catalog_oid_fields(f, f->reloid, f->nspoid, objid, &relid, &nsp);

		/*
		 * A new type with a relation is that relation's row type, made
		 * before the relation's own row: the relation's event judges them
		 * both.
		 */
		if (classid == TypeRelationId)
			return !OidIsValid(relid) && nsp == migsafe_nsp;
		if (!OidIsValid(relid))
			return nsp == migsafe_nsp;
		nsp = relation_namespace_now(relid, NULL);
		if (OidIsValid(nsp))
			return nsp == migsafe_nsp;
	}
	return migsafe_catalog_is_migsafe_object(classid, objid, NULL);
}

/*
 * migsafe_catalog_is_migsafe_object_cached
 *
 * migsafe_catalog_is_migsafe_object() read through the syscache where one
 * has the columns (relations, types, functions, constraints, statistics):
 * the same answer for less, when the current command has not yet moved
 * the object.  The syscache sees the catalogs as of the last
 * CommandCounterIncrement, SnapshotSelf also what the current command did
 * since.  That holds for an object the object-access hook sees being
 * dropped (every step of a deletion ends with a CommandCounterIncrement,
 * and no step before an object's deletion moves it to another schema or
 * relation), and for a statement's relations before it runs.
 */
bool
migsafe_catalog_is_migsafe_object_cached(Oid classid, Oid objid)
{
	Oid			migsafe_nsp = migsafe_catalog_namespace();
	Oid			relid;
	Oid			nsp;
	HeapTuple	tup;

	if (!OidIsValid(migsafe_nsp))
		return false;
	switch (classid)
	{
		case RelationRelationId:
			return get_rel_namespace(objid) == migsafe_nsp;
		case TypeRelationId:
			tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(objid));
			if (!HeapTupleIsValid(tup))
				return false;
			relid = ((Form_pg_type) GETSTRUCT(tup))->typrelid;
			nsp = ((Form_pg_type) GETSTRUCT(tup))->typnamespace;
			break;
		case ProcedureRelationId:
			tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(objid));
			if (!HeapTupleIsValid(tup))
				return false;
			relid = InvalidOid;
			nsp = ((Form_pg_proc) GETSTRUCT(tup))->pronamespace;
			break;
		case ConstraintRelationId:
			tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(objid));
			if (!HeapTupleIsValid(tup))
				return false;
			relid = ((Form_pg_constraint) GETSTRUCT(tup))->conrelid;
			nsp = ((Form_pg_constraint) GETSTRUCT(tup))->connamespace;
			break;
		case StatisticExtRelationId:
			tup = SearchSysCache1(STATEXTOID, ObjectIdGetDatum(objid));
			if (!HeapTupleIsValid(tup))
				return false;
			relid = ((Form_pg_statistic_ext) GETSTRUCT(tup))->stxrelid;
			nsp = ((Form_pg_statistic_ext) GETSTRUCT(tup))->stxnamespace;
			break;
		default:
			return migsafe_catalog_is_migsafe_object(classid, objid, NULL);
	}
	ReleaseSysCache(tup);
	if (OidIsValid(relid))
		return get_rel_namespace(relid) == migsafe_nsp;
	return nsp == migsafe_nsp;
}

/* ----------------------------------------------------------------
 * Privileges and the owner's code on a table
 * ----------------------------------------------------------------
 */

/* list_sort comparator of role names, as ORDER BY rolname sorts them */
static int
name_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp(lfirst(a), lfirst(b));
}

/*
 * migsafe_catalog_readers
 *
 * The roles that may read a copy of relid's data: its owner and the roles
 * granted SELECT on the table itself (not on some of its columns), never
 * PUBLIC, never the bootstrap superuser.  With row-level security on, the
 * grantees saw only some rows: only the owner.  Quoted, comma-separated,
 * sorted by name, for GRANT; NULL when there is none.
 */
char	   *
migsafe_catalog_readers(Oid relid)
{
	List	   *names = NIL;
	StringInfoData buf;
	ListCell   *lc;

	foreach(lc, migsafe_catalog_reader_oids(relid))
	{
		char	   *name = GetUserNameFromId(lfirst_oid(lc), true);

		if (name != NULL)
			names = lappend(names, name);
	}
	if (names == NIL)
		return NULL;
	list_sort(names, name_cmp);
	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "",
						 quote_identifier(lfirst(lc)));
	return buf.data;
}

/*
 * migsafe_catalog_reader_oids
 *
 * The same roles as migsafe_catalog_readers(), as OIDs (NIL for none):
 * the registry keeps them, so that only they see the snapshot's row.
 */
List *
migsafe_catalog_reader_oids(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class form;
	List	   *roles = NIL;
	Datum		aclDatum;
	bool		isnull;

	if (!HeapTupleIsValid(tup))
		return NIL;
	form = (Form_pg_class) GETSTRUCT(tup);
	roles = list_make1_oid(form->relowner);
	aclDatum = SysCacheGetAttr(RELOID, tup, Anum_pg_class_relacl, &isnull);
	if (!isnull && !form->relrowsecurity)
	{
		Acl		   *acl = DatumGetAclP(aclDatum);
		AclItem    *items = ACL_DAT(acl);
		int			i;

		for (i = 0; i < ACL_NUM(acl); i++)
			if ((ACLITEM_GET_PRIVS(items[i]) & ACL_SELECT) &&
				items[i].ai_grantee != ACL_ID_PUBLIC)
				roles = list_append_unique_oid(roles, items[i].ai_grantee);
	}
	ReleaseSysCache(tup);
	return list_delete_oid(roles, BOOTSTRAP_SUPERUSERID);
}

/*
 * migsafe_catalog_foreign_keys
 *
 * The names of relid's foreign keys to other tables (a List of char *).
 */
List	   *
migsafe_catalog_foreign_keys(Oid relid)
{
	Relation	rel = relation_open(relid, NoLock);
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, RelationGetFKeyList(rel))
	{
		ForeignKeyCacheInfo *fk = lfirst_node(ForeignKeyCacheInfo, lc);

		if (fk->confrelid != fk->conrelid)
			result = lappend(result, get_constraint_name(fk->conoid));
	}
	relation_close(rel, NoLock);
	return result;
}

/*
 * migsafe_catalog_owner_code
 *
 * The objects on relid whose code maintenance runs as the table's owner:
 * its indexes with expressions or predicates, then its extended
 * statistics.  A List of ObjectAddress *.
 */
List	   *
migsafe_catalog_owner_code(Oid relid)
{
	Relation	rel = relation_open(relid, NoLock);
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, RelationGetIndexList(rel))
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID,
										  ObjectIdGetDatum(lfirst_oid(lc)));

		if (!HeapTupleIsValid(tup))
			continue;
		if (!heap_attisnull(tup, Anum_pg_index_indexprs, NULL) ||
			!heap_attisnull(tup, Anum_pg_index_indpred, NULL))
		{
			ObjectAddress *addr = palloc(sizeof(ObjectAddress));

			ObjectAddressSet(*addr, RelationRelationId, lfirst_oid(lc));
			result = lappend(result, addr);
		}
		ReleaseSysCache(tup);
	}
	foreach(lc, RelationGetStatExtList(rel))
	{
		ObjectAddress *addr = palloc(sizeof(ObjectAddress));

		ObjectAddressSet(*addr, StatisticExtRelationId, lfirst_oid(lc));
		result = lappend(result, addr);
	}
	relation_close(rel, NoLock);
	return result;
}

/* ----------------------------------------------------------------
 * Replication: who else loses what a change destroys
 * ----------------------------------------------------------------
 */

/*
 * migsafe_catalog_publications
 *
 * The publications that publish relid (by name, through its schema or its
 * partitioned ancestors, or FOR ALL TABLES), as 'publication "a",
 * publication "b"' sorted by name, or NULL when none does.
 */
char	   *
migsafe_catalog_publications(Oid relid)
{
	List	   *pubs;
	List	   *names = NIL;
	ListCell   *lc;
	StringInfoData buf;

	/* none in the database (known until one changes): none of relid's */
	watch_own_oids();
	if (!publications_valid)
	{
		Relation	rel = table_open(PublicationRelationId, AccessShareLock);
		SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, NULL,
											  0, NULL);

		publications = HeapTupleIsValid(systable_getnext(scan));
		systable_endscan(scan);
		table_close(rel, AccessShareLock);
		publications_valid = true;
	}
	if (!publications)
		return NULL;
	pubs = GetRelationPublications(relid);

	pubs = list_concat_unique_oid(pubs,
								  GetSchemaPublications(get_rel_namespace(relid)));
	if (get_rel_relispartition(relid))
	{
		foreach(lc, get_partition_ancestors(relid))
		{
			pubs = list_concat_unique_oid(pubs, GetRelationPublications(lfirst_oid(lc)));
			pubs = list_concat_unique_oid(pubs,
										  GetSchemaPublications(get_rel_namespace(lfirst_oid(lc))));
		}
	}
	pubs = list_concat_unique_oid(pubs, GetAllTablesPublications());
	foreach(lc, pubs)
	{
		char	   *name = get_publication_name(lfirst_oid(lc), true);

		if (name != NULL)
			names = lappend(names, name);
	}
	if (names == NIL)
		return NULL;
	list_sort(names, name_cmp);
	initStringInfo(&buf);
	foreach(lc, names)
	{
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfo(&buf, _("publication \"%s\""), (char *) lfirst(lc));
	}
	return buf.data;
}

/*
 * migsafe_catalog_wal_senders
 *
 * How many WAL senders (standbys, logical subscribers, base backups) this
 * server streams to now.
 */
int
migsafe_catalog_wal_senders(void)
{
	int			n = 0;
	int			i;

	if (WalSndCtl == NULL)
		return 0;
	for (i = 0; i < max_wal_senders; i++)
	{
		WalSnd	   *walsnd = &WalSndCtl->walsnds[i];
		pid_t		pid;

		SpinLockAcquire(&walsnd->mutex);
		pid = walsnd->pid;
		SpinLockRelease(&walsnd->mutex);
		if (pid != 0)
			n++;
	}
	return n;
}

/*
 * migsafe_catalog_may_read
 *
 * Whether the current user may learn how many rows a relation holds: it
 * may SELECT it (or, with attnum, that column), use its schema, and no
 * row level security policy stands between it and the rows.
 */
bool
migsafe_catalog_may_read(Oid relid, AttrNumber attnum)
{
	Oid			userid = GetUserId();

	if (migsafe_namespace_aclcheck(get_rel_namespace(relid), userid,
								   ACL_USAGE) != ACLCHECK_OK)
		return false;
	if (pg_class_aclcheck(relid, userid, ACL_SELECT) != ACLCHECK_OK &&
		(attnum <= 0 ||
		 pg_attribute_aclcheck(relid, attnum, userid, ACL_SELECT) != ACLCHECK_OK))
		return false;
	return check_enable_rls(relid, InvalidOid, true) != RLS_ENABLED;
}

/*
 * migsafe_catalog_address_member
 *
 * Whether a List of ObjectAddress * holds the object classid/objid (any
 * of its sub-objects).
 */
bool
migsafe_catalog_address_member(List *list, Oid classid, Oid objid)
{
	ListCell   *lc;

	foreach(lc, list)
	{
		ObjectAddress *a = lfirst(lc);

		if (a->classId == classid && a->objectId == objid)
			return true;
	}
	return false;
}

/* Whether a part of a table goes before a move (see take_move) */
static bool
dropped_before_move(Oid relid, Oid classid, Oid objid, List *code)
{
	if (classid == ConstraintRelationId)
	{
		HeapTuple	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(objid));
		bool		fk = false;

		if (HeapTupleIsValid(tup))
		{
			Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);

			fk = con->contype == CONSTRAINT_FOREIGN &&
				con->conrelid == relid && con->confrelid != relid;
			ReleaseSysCache(tup);
		}
		return fk;
	}
	return migsafe_catalog_address_member(code, classid, objid);
}

/*
 * migsafe_catalog_self_contained
 *
 * Whether a table and what hangs off it (columns, defaults, constraints,
 * indexes, triggers, rules, policies, owned sequences, its row type)
 * depend on nothing of a user's but the table itself and its schema: only
 * such a table can be moved into snapshot storage.  Anything else it
 * depended on (a trigger's function, a domain or composite type of a
 * column, a function a default or policy calls, another table a rule
 * reads, a role a policy names) could then not be dropped without the
 * snapshot, as docs/snapshots.md promises.  Foreign keys to other tables and the owner's code in indexes
 * and statistics (migsafe_catalog_owner_code) do not count: a move drops
 * them first.
 */
bool
migsafe_catalog_self_contained(Oid relid)
{
	List	   *code = migsafe_catalog_owner_code(relid);
	List	   *parts = NIL;
	Relation	depRel = table_open(DependRelationId, AccessShareLock);
	Oid			nsp = get_rel_namespace(relid);
	ObjectAddress *self = palloc(sizeof(ObjectAddress));
	bool		result = true;
	int			i;

	ObjectAddressSet(*self, RelationRelationId, relid);
	parts = lappend(parts, self);

	/* the parts: everything that depends on the table, or on a part, auto */
	for (i = 0; i < list_length(parts); i++)
	{
		ObjectAddress *part = list_nth(parts, i);
		ScanKeyData key[2];
		SysScanDesc scan;
		HeapTuple	tup;

		ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(part->classId));
		ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(part->objectId));
		scan = systable_beginscan(depRel, DependReferenceIndexId, true,
								  NULL, 2, key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
			ObjectAddress *a;

			if ((dep->deptype != DEPENDENCY_AUTO &&
				 dep->deptype != DEPENDENCY_INTERNAL) ||
				migsafe_catalog_address_member(parts, dep->classid, dep->objid) ||
				dropped_before_move(relid, dep->classid, dep->objid, code))
				continue;
			a = palloc(sizeof(ObjectAddress));
			ObjectAddressSet(*a, dep->classid, dep->objid);
			parts = lappend(parts, a);
		}
		systable_endscan(scan);
	}

	/* what the parts depend on: built-in objects, the schema, each other */
	for (i = 0; i < list_length(parts) && result; i++)
	{
		ObjectAddress *part = list_nth(parts, i);
		ScanKeyData key[2];
		SysScanDesc scan;
		HeapTuple	tup;

		/* a policy names roles (pg_shdepend), which could not be dropped */
		if (part->classId == PolicyRelationId)
		{
			result = false;
			break;
		}

		ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(part->classId));
		ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(part->objectId));
		scan = systable_beginscan(depRel, DependDependerIndexId, true,
								  NULL, 2, key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

			if (MIGSAFE_BUILTIN_OBJECT(dep->refobjid) ||
				(dep->refclassid == NamespaceRelationId && dep->refobjid == nsp) ||
				migsafe_catalog_address_member(parts, dep->refclassid, dep->refobjid))
				continue;
			result = false;
			break;
		}
		systable_endscan(scan);
	}
	table_close(depRel, AccessShareLock);
	return result;
}
