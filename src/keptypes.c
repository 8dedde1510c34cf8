/*-------------------------------------------------------------------------
 *
 * keptypes.c
 *	  Kept storage whose columns are of a user's type: which types it may
 *	  keep, and what it becomes before such a type goes.
 *
 * A table's storage kept as its snapshot (swap.c) keeps its column types:
 * nothing is copied, whatever the table's size.  With a column of an enum,
 * a domain, a range, a base type of an extension or of the user, an array
 * of those, or a collation of the user's, the snapshot then depends on that type
 * (pg_depend), and without care it would keep the type from being dropped,
 * or a DROP ... CASCADE would take the snapshot's column with it.  So:
 *
 *	- migsafe_keptypes_keepable() says whether a column's type may be kept
 *	  (a user's range is, without statistics: see migsafe_keptypes_settle();
 *	  a composite type is, converted before its relation changes: see
 *	  release_rowtypes()), and
 *	  migsafe_keptypes_spared() whether the statement that keeps the storage
 *	  leaves those types alone, or the kept columns can let go of those it
 *	  drops without a rewrite (migsafe_keptypes_settle(): a DROP SCHEMA
 *	  that takes the table's enum with it keeps the labels' OIDs; one that
 *	  takes a range type gets a copy, whose values are text);
 *	- migsafe_keptypes_release(), called by the gate before every statement
 *	  that can drop such a type (DROP TYPE, DOMAIN, COLLATION, FUNCTION,
 *	  SCHEMA, EXTENSION, DROP OWNED, an ALTER TABLE ... CASCADE) or check
 *	  data against it (ALTER DOMAIN
 *	  ... ADD CONSTRAINT, SET NOT NULL, VALIDATE CONSTRAINT), converts the
 *	  kept columns that depend on what the statement names: a domain over
 *	  a built-in type to that type (no rewrite), anything else to text, with
 *	  the default collation.  restore casts each kept value to its column's
 *	  type, from either form.
 *
 * A kept column depends on a statement's objects when they are among what
 * its type and collation depend on, transitively in pg_depend (the type,
 * its base or element types, functions, schemas, extensions), or, for DROP
 * OWNED, when the roles own one of those.  A statement that drops the type
 * by another path (DROP TABLE ... CASCADE through a SQL function a
 * domain's default calls) reaches the kept column in its dry run:
 * migsafe_keptypes_release_targets() converts it then, and the gate
 * collects the statement's targets again; without CASCADE it meets the
 * dependency and fails.  The conversion runs in the statement's
 * transaction: it is undone with it.
 *
 * Calls internal.c and storage.c.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/keptypes.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/heap.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_shdepend.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "catalog.h"
#include "compat.h"
#include "internal.h"
#include "keptypes.h"
#include "migsafe.h"
#include "storage.h"

/* More objects than this under one column: treat it as depending on all */
#define MAX_CLOSURE		1000

/* Whether a column of type typid and collation collid has a user's either */
static bool
user_typed(Oid typid, Oid collid)
{
	return !MIGSAFE_BUILTIN_OBJECT(typid) ||
		(OidIsValid(collid) && !MIGSAFE_BUILTIN_OBJECT(collid));
}

/*
 * A scan of pg_depend (open as depRel) for what obj depends on, or with
 * dependents for what depends on it; key is the caller's, for two keys.
 */
static SysScanDesc
depend_scan(Relation depRel, bool dependents, const ObjectAddress *obj,
			ScanKeyData *key)
{
	ScanKeyInit(&key[0],
				dependents ? Anum_pg_depend_refclassid : Anum_pg_depend_classid,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(obj->classId));
	ScanKeyInit(&key[1],
				dependents ? Anum_pg_depend_refobjid : Anum_pg_depend_objid,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(obj->objectId));
	return systable_beginscan(depRel,
							  dependents ? DependReferenceIndexId : DependDependerIndexId,
							  true, NULL, 2, key);
}

/*
 * Run fn(arg) in an internal section (see internal.c): as migsafe's
 * superuser, past the hooks, the section ended on error.
 */
static void
in_section(void (*fn) (void *arg), void *arg)
{
	MigsafeInternal state;

	migsafe_internal_begin(&state);
	PG_TRY();
	{
		fn(arg);
	}
	PG_CATCH();
	{
		migsafe_internal_abort(&state);
		PG_RE_THROW();
	}
	PG_END_TRY();
	migsafe_internal_end(&state);
}

static bool composite_keepable(Oid relid);

/*
 * migsafe_keptypes_keepable
 *
 * Whether a column of type typid may stay of that type in kept storage:
 * built-in types, enums, base types (an extension's too), ranges and
 * multiranges of those, composite types of those (a table's row type or
 * CREATE TYPE AS), domains over and arrays of all these.  Not temporary
 * types or pseudo-types.
 */
bool
migsafe_keptypes_keepable(Oid typid)
{
	HeapTuple	tup;
	Form_pg_type form;
	bool		result;

	if (MIGSAFE_BUILTIN_OBJECT(typid))
		return true;
	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tup))
		return false;
	form = (Form_pg_type) GETSTRUCT(tup);
	/* a temporary type goes at session end, by a deletion no hook sees */
	if (isAnyTempNamespace(form->typnamespace))
	{
		ReleaseSysCache(tup);
		return false;
	}
	switch (form->typtype)
	{
		case TYPTYPE_ENUM:
			result = true;
			break;
		case TYPTYPE_BASE:
			result = !OidIsValid(form->typelem) || form->typlen != -1 ||
				migsafe_keptypes_keepable(form->typelem);
			break;
		case TYPTYPE_DOMAIN:
			result = migsafe_keptypes_keepable(form->typbasetype);
			break;
		case TYPTYPE_RANGE:
			/* kept without statistics: see migsafe_keptypes_settle() */
			result = migsafe_keptypes_keepable(get_range_subtype(typid));
			break;
		case TYPTYPE_MULTIRANGE:
			result = migsafe_keptypes_keepable(get_multirange_range(typid));
			break;
		case TYPTYPE_COMPOSITE:
			/* converted before its relation changes: see release_rowtypes() */
			result = composite_keepable(form->typrelid);
			break;
		default:
			result = false;
			break;
	}
	ReleaseSysCache(tup);
	return result;
}

/*
 * Whether a column of the row type of relation relid may be kept: a
 * composite type's, a table's, a view's or a foreign table's, whose
 * attributes are all of types it may keep.
 */
static bool
composite_keepable(Oid relid)
{
	Relation	rel = try_relation_open(relid, AccessShareLock);
	TupleDesc	desc;
	bool		result;
	int			i;

	if (rel == NULL)
		return false;
	desc = RelationGetDescr(rel);
	result = rel->rd_rel->relkind == RELKIND_COMPOSITE_TYPE ||
		rel->rd_rel->relkind == RELKIND_RELATION ||
		rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE ||
		rel->rd_rel->relkind == RELKIND_VIEW ||
		rel->rd_rel->relkind == RELKIND_MATVIEW ||
		rel->rd_rel->relkind == RELKIND_FOREIGN_TABLE;
	for (i = 0; i < desc->natts && result; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		result = att->attisdropped || migsafe_keptypes_keepable(att->atttypid);
	}
	relation_close(rel, AccessShareLock);
	return result;
}

/*
 * What a column of type typid with collation collid depends on: the type
 * and collation when they are the user's, and everything they depend on in
 * pg_depend, transitively, pinned objects aside (they cannot be dropped;
 * schema public can, and is followed).  NIL when the column is all
 * built-in.  Stops after MAX_CLOSURE objects, setting *overflow.
 */
static List *
closure(Oid typid, Oid collid, bool *overflow)
{
	List	   *objs = NIL;
	Relation	depRel;
	int			i;

	*overflow = false;
	if (!MIGSAFE_BUILTIN_OBJECT(typid))
	{
		ObjectAddress *a = palloc(sizeof(ObjectAddress));

		ObjectAddressSet(*a, TypeRelationId, typid);
		objs = lappend(objs, a);
	}
	if (OidIsValid(collid) && !MIGSAFE_BUILTIN_OBJECT(collid))
	{
		ObjectAddress *a = palloc(sizeof(ObjectAddress));

		ObjectAddressSet(*a, CollationRelationId, collid);
		objs = lappend(objs, a);
	}
	if (objs == NIL)
		return NIL;

	depRel = table_open(DependRelationId, AccessShareLock);
	for (i = 0; i < list_length(objs) && !*overflow; i++)
	{
		ObjectAddress *obj = list_nth(objs, i);
		ScanKeyData key[2];
		SysScanDesc scan = depend_scan(depRel, false, obj, key);
		HeapTuple	tup;
		Oid			typrelid = InvalidOid;

		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
			ObjectAddress *a;

			if (IsPinnedObject(dep->refclassid, dep->refobjid) ||
				migsafe_catalog_address_member(objs, dep->refclassid, dep->refobjid))
				continue;
			if (list_length(objs) >= MAX_CLOSURE)
			{
				*overflow = true;
				break;
			}
			a = palloc(sizeof(ObjectAddress));
			ObjectAddressSet(*a, dep->refclassid, dep->refobjid);
			objs = lappend(objs, a);
		}
		systable_endscan(scan);

		/*
		 * A composite type's values hold its attributes: what their types
		 * depend on, through its relation (which depends on the type of a
		 * CREATE TYPE AS, not the other way round).
		 */
		if (obj->classId == TypeRelationId)
			typrelid = get_typ_typrelid(obj->objectId);
		if (OidIsValid(typrelid) &&
			!migsafe_catalog_address_member(objs, RelationRelationId, typrelid))
		{
			ObjectAddress *a = palloc(sizeof(ObjectAddress));

			ObjectAddressSet(*a, RelationRelationId, typrelid);
			objs = lappend(objs, a);
		}

		/*
		 * A view's row type goes with the view, which goes with what its
		 * query reads (ALTER TABLE ... DROP CONSTRAINT ... CASCADE of the key
		 * it groups by): that is what its rule depends on.
		 */
		if (obj->classId == RelationRelationId &&
			(get_rel_relkind(obj->objectId) == RELKIND_VIEW ||
			 get_rel_relkind(obj->objectId) == RELKIND_MATVIEW))
		{
			scan = depend_scan(depRel, true, obj, key);
			while (HeapTupleIsValid(tup = systable_getnext(scan)))
			{
				Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
				ObjectAddress *a;

				if (dep->classid != RewriteRelationId ||
					migsafe_catalog_address_member(objs, dep->classid, dep->objid))
					continue;
				a = palloc(sizeof(ObjectAddress));
				ObjectAddressSet(*a, RewriteRelationId, dep->objid);
				objs = lappend(objs, a);
			}
			systable_endscan(scan);
		}
	}
	table_close(depRel, AccessShareLock);
	return objs;
}

static char *release_clause(Form_pg_attribute att);
static bool relabeled(Form_pg_attribute att);
static List *rowtype_users(List *rels);
static void release_found(void *found);
static List *rowtype_relations(Node *parsetree, List **restrict_objects);

/*
 * Whether column att is of an enum or a domain over one, the enum then
 * into *base.
 */
static bool
enum_based(Form_pg_attribute att, Oid *base)
{
	Oid			b = getBaseType(att->atttypid);

	if (!type_is_enum(b))
		return false;
	*base = b;
	return true;
}

/* Whether dropped (ObjectAddress) holds typid or anything it depends on */
static bool
drops_any(Oid typid, List *dropped)
{
	bool		overflow;
	List	   *deps = closure(typid, InvalidOid, &overflow);
	bool		result = overflow;
	ListCell   *lc;

	foreach(lc, deps)
	{
		ObjectAddress *a = lfirst(lc);

		if (migsafe_catalog_address_member(dropped, a->classId, a->objectId))
			result = true;
	}
	list_free_deep(deps);
	return result;
}

/*
 * migsafe_keptypes_spared
 *
 * Whether the storage of table relid may be kept with its column types by
 * a statement that drops the objects in dropped (ObjectAddress; NIL for a
 * TRUNCATE): every column's type is keepable, and nothing its types and
 * collations depend on is dropped with it, but for columns that can let
 * go of what is dropped without a rewrite, once the storage is kept (see
 * migsafe_keptypes_settle(); their attnums): *relabel those that become
 * their base type (a built-in one, or an enum the statement leaves) or
 * lose their collation, *to_oid those of an enum, or a domain over one,
 * whose enum the statement drops.  Sets *typed when a column is of a
 * user's type or collation.
 */
bool
migsafe_keptypes_spared(Oid relid, List *dropped, bool *typed,
						List **relabel, List **to_oid)
{
	Relation	rel = relation_open(relid, NoLock);
	TupleDesc	desc = RelationGetDescr(rel);
	bool		result = true;
	int			i;

	*typed = false;
	*relabel = NIL;
	*to_oid = NIL;
	for (i = 0; i < desc->natts && result; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		List	   *deps;
		ListCell   *lc;
		bool		overflow;
		bool		hit = false;
		Oid			base = InvalidOid;

		if (att->attisdropped ||
			!user_typed(att->atttypid, att->attcollation))
			continue;
		*typed = true;
		if (!migsafe_keptypes_keepable(att->atttypid))
		{
			result = false;
			break;
		}
		deps = closure(att->atttypid, att->attcollation, &overflow);
		hit = overflow && dropped != NIL;
		foreach(lc, deps)
		{
			ObjectAddress *a = lfirst(lc);

			if (migsafe_catalog_address_member(dropped, a->classId, a->objectId))
				hit = true;
		}
		list_free_deep(deps);

		/*
		 * The statement drops what the column's type depends on: keep the
		 * storage only if the kept column can become its base type (or lose
		 * its collation) without a rewrite, right after it is kept, or, an
		 * enum's being dropped too, the OIDs of its labels.
		 */
		if (hit && (relabeled(att) || enum_based(att, &base)))
		{
			if (OidIsValid(base) && drops_any(base, dropped))
				*to_oid = lappend_int(*to_oid, att->attnum);
			else
				*relabel = lappend_int(*relabel, att->attnum);
		}
		else if (hit)
			result = false;
	}
	relation_close(rel, NoLock);
	return result;
}

/* ----------------------------------------------------------------
 * Converting kept columns before their type goes
 * ----------------------------------------------------------------
 */

/* What a statement may take away from a kept column's type */
typedef struct MigsafeTypeThreat
{
	List	   *objects;		/* ObjectAddress it drops or checks */
	List	   *roles;			/* DROP OWNED: OIDs of the roles */
	List	   *answered;		/* of MigsafeTypeAnswer */
} MigsafeTypeThreat;

/* Whether columns of one type and collation meet a statement's threat */
typedef struct MigsafeTypeAnswer
{
	Oid			typid;
	Oid			collid;
	bool		threatened;
} MigsafeTypeAnswer;

/*
 * Whether the current user may drop the object at addr, as RemoveObjects()
 * decides it: its owner, or its schema's owner.  A role that may not gets
 * the statement's own error; nothing of migsafe's is done for it first.
 */
static bool
may_drop(ObjectAddress addr)
{
	Oid			nsp = get_object_namespace(&addr);
	AttrNumber	ownercol = get_object_attnum_owner(addr.classId);
	Oid			owner = InvalidOid;
	Relation	catalog;
	HeapTuple	tup;

	if (OidIsValid(nsp) && migsafe_namespace_ownercheck(nsp, GetUserId()))
		return true;
	if (ownercol == InvalidAttrNumber)
		return superuser();
	catalog = table_open(addr.classId, AccessShareLock);
	tup = get_catalog_object_by_oid(catalog,
									get_object_attnum_oid(addr.classId),
									addr.objectId);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, ownercol, RelationGetDescr(catalog),
									 &isnull);

		if (!isnull)
			owner = DatumGetObjectId(d);
	}
	table_close(catalog, AccessShareLock);
	return OidIsValid(owner) && has_privs_of_role(GetUserId(), owner);
}

/*
 * The objects a DROP names that the current user may drop.  Objects other
 * than relations are resolved and locked as RemoveObjects() does it, before
 * its permission check; relations without a lock (the statement checks
 * its permissions first, then locks), and only with CASCADE: without it,
 * dropping one takes no type a kept column could be of.  Objects that do
 * not exist, or that the user may not drop, are left to the statement and
 * its errors.
 */
static List *
drop_objects(DropStmt *stmt)
{
	List	   *result = NIL;
	bool		is_relation = false;
	ListCell   *lc;

	switch (stmt->removeType)
	{
		case OBJECT_TABLE:
		case OBJECT_VIEW:
		case OBJECT_MATVIEW:
		case OBJECT_SEQUENCE:
		case OBJECT_FOREIGN_TABLE:
			if (stmt->behavior != DROP_CASCADE)
				return NIL;
			is_relation = true;
			break;
		case OBJECT_INDEX:
		case OBJECT_TRIGGER:
		case OBJECT_POLICY:
		case OBJECT_RULE:
		case OBJECT_TABCONSTRAINT:
		case OBJECT_DOMCONSTRAINT:
			/* a kept column's type depends on none of these */
			return NIL;
		default:
			break;
	}
	foreach(lc, stmt->objects)
	{
		ObjectAddress addr;

		if (is_relation)
		{
			Oid			relid = RangeVarGetRelid(makeRangeVarFromNameList(castNode(List, lfirst(lc))),
												 NoLock, true);

			ObjectAddressSet(addr, RelationRelationId, relid);
		}
		else
		{
			Relation	rel = NULL;

			addr = get_object_address(stmt->removeType, lfirst(lc), &rel,
									  AccessExclusiveLock, true);
			Assert(rel == NULL);
		}
		if (OidIsValid(addr.objectId) && may_drop(addr))
		{
			ObjectAddress *a = palloc(sizeof(ObjectAddress));

			*a = addr;
			result = lappend(result, a);
		}
	}
	return result;
}

/*
 * The table an ALTER TABLE (or ALTER TYPE of a composite type) drops a
 * column or constraint of with CASCADE, which can reach a kept column's
 * type (a SQL function of a domain's default that reads the column or
 * groups by the key); NIL for any other ALTER, or a role that does not own
 * the table (it gets the statement's own error).  The whole table counts:
 * converting a kept column that did not need it is harmless.
 */
static List *
alter_cascades(AlterTableStmt *stmt)
{
	ListCell   *lc;
	Oid			relid;
	ObjectAddress *a;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		if ((cmd->subtype == AT_DropColumn ||
			 cmd->subtype == AT_DropConstraint) &&
			cmd->behavior == DROP_CASCADE)
			break;
	}
	if (lc == NULL)
		return NIL;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid) || !migsafe_rel_ownercheck(relid, GetUserId()))
		return NIL;
	a = palloc(sizeof(ObjectAddress));
	ObjectAddressSet(*a, RelationRelationId, relid);
	return list_make1(a);
}

/*
 * What parsetree threatens: the objects it drops, or the domain whose data
 * it checks.  False when it threatens no kept column's type.
 */
static bool
threat_of(Node *parsetree, MigsafeTypeThreat *threat)
{
	threat->objects = NIL;
	threat->roles = NIL;
	threat->answered = NIL;
	switch (nodeTag(parsetree))
	{
		case T_DropStmt:
			threat->objects = drop_objects((DropStmt *) parsetree);
			break;
		case T_AlterTableStmt:
			threat->objects = alter_cascades((AlterTableStmt *) parsetree);
			break;
		case T_DropOwnedStmt:
			{
				ListCell   *lc;

				foreach(lc, ((DropOwnedStmt *) parsetree)->roles)
				{
					Oid			roleid = get_rolespec_oid(lfirst(lc), true);

					/* DROP OWNED refuses roles whose rights the user lacks */
					if (OidIsValid(roleid) &&
						has_privs_of_role(GetUserId(), roleid))
						threat->roles = lappend_oid(threat->roles, roleid);
				}
				break;
			}
		case T_AlterDomainStmt:
			{
				AlterDomainStmt *stmt = (AlterDomainStmt *) parsetree;
				TypeName   *name = makeTypeNameFromNameList(stmt->typeName);
				Oid			typid = LookupTypeNameOid(NULL, name, true);

				/*
				 * The changes that check the data of every column, by the
				 * domain's owner (others get the statement's error).
				 */
				if (!OidIsValid(typid) ||
					!migsafe_type_ownercheck(typid, GetUserId()) ||
					!(stmt->subtype == 'O' || stmt->subtype == 'V' ||
					  (stmt->subtype == 'C' && stmt->def != NULL &&
					   IsA(stmt->def, Constraint) &&
					   !((Constraint *) stmt->def)->skip_validation)))
					break;
				{
					ObjectAddress *a = palloc(sizeof(ObjectAddress));

					ObjectAddressSet(*a, TypeRelationId, typid);
					threat->objects = list_make1(a);
				}
				break;
			}
		default:
			break;
	}
	return threat->objects != NIL || threat->roles != NIL;
}

/* Whether a role of roles owns objectId of classId (pg_shdepend) */
static bool
owned_by(Oid classId, Oid objectId, List *roles)
{
	Relation	shdep;
	ScanKeyData key[3];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		result = false;

	if (roles == NIL)
		return false;
	shdep = table_open(SharedDependRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_shdepend_dbid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(MyDatabaseId));
	ScanKeyInit(&key[1], Anum_pg_shdepend_classid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(classId));
	ScanKeyInit(&key[2], Anum_pg_shdepend_objid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(objectId));
	scan = systable_beginscan(shdep, SharedDependDependerIndexId, true, NULL,
							  3, key);
	while (!result && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_shdepend sh = (Form_pg_shdepend) GETSTRUCT(tup);

		if (sh->deptype == SHARED_DEPENDENCY_OWNER &&
			list_member_oid(roles, sh->refobjid))
			result = true;
	}
	systable_endscan(scan);
	table_close(shdep, AccessShareLock);
	return result;
}

/*
 * Whether a column of type typid and collation collid meets threat.  The
 * answers are kept in threat->answered: kept columns of many snapshots
 * often share their types.
 */
static bool
threatened(Oid typid, Oid collid, MigsafeTypeThreat *threat)
{
	bool		overflow;
	List	   *deps;
	bool		result;
	ListCell   *lc;
	MigsafeTypeAnswer *answer;

	if (!user_typed(typid, collid))
		return false;
	foreach(lc, threat->answered)
	{
		answer = lfirst(lc);
		if (answer->typid == typid && answer->collid == collid)
			return answer->threatened;
	}

	deps = closure(typid, collid, &overflow);
	result = overflow;
	foreach(lc, deps)
	{
		ObjectAddress *a = lfirst(lc);

		if (result)
			break;
		result = migsafe_catalog_address_member(threat->objects, a->classId, a->objectId) ||
			owned_by(a->classId, a->objectId, threat->roles);
	}
	list_free_deep(deps);
	answer = palloc(sizeof(MigsafeTypeAnswer));
	answer->typid = typid;
	answer->collid = collid;
	answer->threatened = result;
	threat->answered = lappend(threat->answered, answer);
	return result;
}

/*
 * Whether a column of kept table relid meets threat, read from the
 * catalog without a lock: only a table that has one is locked.
 */
static bool
table_threatened(Oid relid, MigsafeTypeThreat *threat)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	int			natts;
	int			i;
	bool		result = false;

	if (!HeapTupleIsValid(tup))
		return false;
	natts = ((Form_pg_class) GETSTRUCT(tup))->relnatts;
	ReleaseSysCache(tup);
	for (i = 1; i <= natts && !result; i++)
	{
		Form_pg_attribute att;

		tup = SearchSysCacheAttNum(relid, (AttrNumber) i);
		if (!HeapTupleIsValid(tup))
			continue;
		att = (Form_pg_attribute) GETSTRUCT(tup);
		result = !att->attisdropped &&
			threatened(att->atttypid, att->attcollation, threat);
		ReleaseSysCache(tup);
	}
	return result;
}

/*
 * The ALTER COLUMN clause that frees column att of the user's type and
 * collation: a domain over a built-in type becomes that type (the values
 * stay as they are), anything else text; collatable results get the
 * default collation.
 */
static char *
release_clause(Form_pg_attribute att)
{
	const char *col = quote_identifier(NameStr(att->attname));
	int32		typmod = att->atttypmod;
	Oid			base = getBaseTypeAndTypmod(att->atttypid, &typmod);
	Oid			target = MIGSAFE_BUILTIN_OBJECT(base) ? base : TEXTOID;
	char	   *type;
	const char *collate;

	if (target != base)
		typmod = -1;
	type = format_type_with_typemod(target, typmod);
	collate = type_is_collatable(target) ? " COLLATE pg_catalog.\"default\"" : "";

	/*
	 * Text as the type's output function writes it, never through a cast
	 * (a cast to text its owner wrote would run as migsafe's superuser);
	 * a domain is relabeled as its base type, which runs nothing.
	 */
	if (target == TEXTOID && base != TEXTOID)
		return psprintf("ALTER COLUMN %s TYPE %s%s USING"
						" CASE WHEN pg_catalog.num_nulls(%s) OPERATOR(pg_catalog.=) 0"
						" THEN pg_catalog.format('%%s', %s) END",
						col, type, collate, col, col);
	return psprintf("ALTER COLUMN %s TYPE %s%s USING %s::%s",
					col, type, collate, col, type);
}

/*
 * The ALTER COLUMN clause that makes column att, of a domain, its base
 * type, or that takes its collation away (see migsafe_keptypes_spared()):
 * a relabeling, nothing is rewritten or run.
 */
static char *
relabel_clause(Form_pg_attribute att)
{
	const char *col = quote_identifier(NameStr(att->attname));
	Oid			base = getBaseType(att->atttypid);
	char	   *type;

	if (MIGSAFE_BUILTIN_OBJECT(base))
		return release_clause(att);
	type = format_type_be_qualified(base);
	return psprintf("ALTER COLUMN %s TYPE %s USING %s::%s", col, type, col,
					type);
}

/*
 * Make column attnum of kept table relid, of an enum or a domain over one
 * (enumid) that the statement drops, a column of type oid, without a
 * rewrite: an enum's value is the OID of its label in pg_enum, stored as
 * an oid is (four bytes, by value, int-aligned), and so is the value a
 * column added with a default reads for older rows (attmissingval, which
 * is made an oid[]).  The column then depends on no type of the user's.
 * Appends to labels the enum's labels, as a JSON object from OID to label,
 * from which restore writes the labels back (see restore.c).
 */
static void
relabel_to_oid(Oid relid, AttrNumber attnum, Oid enumid, StringInfo labels)
{
	Relation	attrel = table_open(AttributeRelationId, RowExclusiveLock);
	Relation	depRel;
	HeapTuple	tup = SearchSysCacheCopyAttNum(relid, attnum);
	HeapTuple	newtup;
	Form_pg_attribute att;
	Datum		values[Natts_pg_attribute];
	bool		nulls[Natts_pg_attribute];
	bool		replace[Natts_pg_attribute];
	Oid			oldtype;
	ScanKeyData key[2];
	ObjectAddress rel;
	SysScanDesc scan;
	CatCList   *list;
	int			i;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for attribute %d of relation %u",
			 attnum, relid);
	att = (Form_pg_attribute) GETSTRUCT(tup);
	oldtype = att->atttypid;
	Assert(att->attlen == sizeof(Oid) && att->attbyval &&
		   att->attalign == TYPALIGN_INT);
	memset(values, 0, sizeof(values));
	memset(nulls, false, sizeof(nulls));
	memset(replace, false, sizeof(replace));
	values[Anum_pg_attribute_atttypid - 1] = ObjectIdGetDatum(OIDOID);
	replace[Anum_pg_attribute_atttypid - 1] = true;
	values[Anum_pg_attribute_atttypmod - 1] = Int32GetDatum(-1);
	replace[Anum_pg_attribute_atttypmod - 1] = true;
	values[Anum_pg_attribute_attcollation - 1] = ObjectIdGetDatum(InvalidOid);
	replace[Anum_pg_attribute_attcollation - 1] = true;
	if (att->atthasmissing)
	{
		bool		isnull;
		Datum		missing = heap_getattr(tup, Anum_pg_attribute_attmissingval,
										   RelationGetDescr(attrel), &isnull);

		if (!isnull)
		{
			int			one = 1;
			Datum		value = array_get_element(missing, 1, &one, -1,
												  att->attlen, att->attbyval,
												  att->attalign, &isnull);

			values[Anum_pg_attribute_attmissingval - 1] =
				PointerGetDatum(construct_array(&value, 1, OIDOID, sizeof(Oid),
												true, TYPALIGN_INT));
			replace[Anum_pg_attribute_attmissingval - 1] = true;
		}
	}
	newtup = heap_modify_tuple(tup, RelationGetDescr(attrel), values, nulls,
							   replace);
	CatalogTupleUpdate(attrel, &newtup->t_self, newtup);
	table_close(attrel, RowExclusiveLock);

	/* its dependency on the type goes: the column does not use it any more */
	ObjectAddressSet(rel, RelationRelationId, relid);
	depRel = table_open(DependRelationId, RowExclusiveLock);
	scan = depend_scan(depRel, false, &rel, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		if (dep->objsubid == attnum && dep->refclassid == TypeRelationId &&
			dep->refobjid == oldtype)
			CatalogTupleDelete(depRel, &tup->t_self);
	}
	systable_endscan(scan);
	table_close(depRel, RowExclusiveLock);
	RemoveStatistics(relid, attnum);
	CacheInvalidateRelcacheByRelid(relid);

	appendStringInfoString(labels, labels->len > 0 ? ", " : "{");
	escape_json(labels, get_attname(relid, attnum, false));
	appendStringInfoString(labels, ": {");
	list = SearchSysCacheList1(ENUMTYPOIDNAME, ObjectIdGetDatum(enumid));
	for (i = 0; i < list->n_members; i++)
	{
		Form_pg_enum en = (Form_pg_enum) GETSTRUCT(&list->members[i]->tuple);

		appendStringInfo(labels, "%s\"%u\": ", i > 0 ? ", " : "", en->oid);
		escape_json(labels, NameStr(en->enumlabel));
	}
	ReleaseSysCacheList(list);
	appendStringInfoChar(labels, '}');
	CommandCounterIncrement();
}

/*
 * Close rel (a kept table, locked) and run ALTER TABLE on it with the
 * given clauses, if any: ALTER TABLE refuses a relation this session
 * still has open.
 */
static void
alter_kept(Relation rel, const char *clauses)
{
	char	   *name = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												  RelationGetRelationName(rel));

	relation_close(rel, NoLock);
	if (clauses != NULL && clauses[0] != '\0')
		migsafe_internal_run(psprintf("ALTER TABLE %s %s", name, clauses));
}

/*
 * Whether release_clause() changes att without a rewrite: a domain over a
 * built-in type without a type modifier becomes that type (a relabeling),
 * a built-in type loses its collation.
 */
static bool
relabeled(Form_pg_attribute att)
{
	int32		typmod = att->atttypmod;
	Oid			base = getBaseTypeAndTypmod(att->atttypid, &typmod);

	if (!MIGSAFE_BUILTIN_OBJECT(base))
		return false;
	return base == att->atttypid || typmod == -1;
}

/*
 * migsafe_keptypes_holds_user_range
 *
 * Whether values of type typid are, or hold, a user's range or multirange
 * (a domain over or an array of one): its subtype_diff, which any role may
 * write, runs in ANALYZE and in GiST index builds, as the table's owner.
 */
bool
migsafe_keptypes_holds_user_range(Oid typid)
{
	Oid			base = getBaseType(typid);
	Oid			elem = get_element_type(base);

	if (OidIsValid(elem))
		return migsafe_keptypes_holds_user_range(elem);
	return !MIGSAFE_BUILTIN_OBJECT(base) &&
		(type_is_range(base) || type_is_multirange(base));
}

/*
 * migsafe_keptypes_settle
 *
 * Called by snapshot.c, in its internal section, right after it kept a
 * table's storage as the table kept (relid), owned by migsafe's superuser:
 *
 *	- the columns at attnums relabel (see migsafe_keptypes_spared()) become
 *	  their base type or lose their collation, and those at to_oid become
 *	  oid columns, so that the statement dropping the domain, collation or
 *	  enum does not reach them; returns the labels of those enums, as
 *	  a JSON object from column name to an object from OID to label, for
 *	  the snapshot's definition (kept_enums), or NULL;
 *	- a column of a user's range type (or multirange, a domain over or an
 *	  array of one) gets no statistics: ANALYZE of the kept table, which
 *	  autovacuum or a DBA runs as its owner, would otherwise run the
 *	  range's subtype_diff function, which any role may write, as
 *	  migsafe's superuser.  The kept table has no index a build would run
 *	  it in either.
 *
 * Nothing is rewritten.
 */
char *
migsafe_keptypes_settle(Oid relid, List *relabel, List *to_oid)
{
	Relation	rel;
	TupleDesc	desc;
	StringInfoData sql;
	StringInfoData labels;
	ListCell   *lc;
	int			i;

	rel = relation_open(relid, AccessExclusiveLock);
	desc = RelationGetDescr(rel);
	initStringInfo(&labels);
	foreach(lc, to_oid)
		relabel_to_oid(relid, lfirst_int(lc),
					   getBaseType(TupleDescAttr(desc, lfirst_int(lc) - 1)->atttypid),
					   &labels);
	if (to_oid != NIL)
	{
		appendStringInfoChar(&labels, '}');
		/* the relabeled descriptor */
		relation_close(rel, NoLock);
		rel = relation_open(relid, AccessExclusiveLock);
		desc = RelationGetDescr(rel);
	}
	initStringInfo(&sql);
	foreach(lc, relabel)
	{
		Form_pg_attribute att = TupleDescAttr(desc, lfirst_int(lc) - 1);

		appendStringInfo(&sql, "%s%s", sql.len > 0 ? ", " : "",
						 relabel_clause(att));
	}
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped &&
			migsafe_keptypes_holds_user_range(att->atttypid))
			appendStringInfo(&sql, "%sALTER COLUMN %s SET STATISTICS 0",
							 sql.len > 0 ? ", " : "",
							 quote_identifier(NameStr(att->attname)));
	}
	alter_kept(rel, sql.data);
	return to_oid != NIL ? labels.data : NULL;
}

/*
 * Convert the columns of kept table relid that meet threat; false when
 * none does.
 */
static bool
release_table(Oid relid, MigsafeTypeThreat *threat)
{
	Relation	rel;
	StringInfoData sql;
	TupleDesc	desc;
	int			i;

	if (!table_threatened(relid, threat))
		return false;
	/* looked at again under the lock: another session may have converted */
	rel = try_relation_open(relid, AccessExclusiveLock);
	if (rel == NULL)
		return false;
	initStringInfo(&sql);
	desc = RelationGetDescr(rel);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped ||
			!threatened(att->atttypid, att->attcollation, threat))
			continue;
		appendStringInfo(&sql, "%s%s", sql.len > 0 ? ", " : "",
						 release_clause(att));
	}
	alter_kept(rel, sql.data);
	return sql.len > 0;
}

/* Whether relid is the table of a snapshot's storage */
static bool
is_kept_table(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class form;
	char	   *nspname;
	bool		result;

	if (!HeapTupleIsValid(tup))
		return false;
	form = (Form_pg_class) GETSTRUCT(tup);
	result = form->relowner == BOOTSTRAP_SUPERUSERID &&
		strcmp(NameStr(form->relname), MIGSAFE_SNAPSHOT_TABLE) == 0;
	nspname = result ? get_namespace_name(form->relnamespace) : NULL;
	ReleaseSysCache(tup);
	return nspname != NULL &&
		strncmp(nspname, MIGSAFE_SNAPSHOT_SCHEMA_PREFIX,
				strlen(MIGSAFE_SNAPSHOT_SCHEMA_PREFIX)) == 0;
}

/*
 * migsafe_keptypes_release_targets
 *
 * Called by the gate after a statement's targets are collected: a target
 * that is a kept column of a user's type (the statement's dry run reached
 * it through a path migsafe_keptypes_release() does not look at, such as
 * a DROP TABLE ... CASCADE that takes a domain through a function of its
 * default) is converted, in an internal section, so that the statement no
 * longer reaches it; so is a kept column that holds the row type of a
 * relation the statement drops, or drops or changes a column of.  Returns
 * whether any was: then the caller collects the statement's targets
 * again.
 */
bool
migsafe_keptypes_release_targets(List *targets, Node *parsetree)
{
	List	   *kept = NIL;
	List	   *rels = NIL;
	List	   *done = NIL;
	List	   *found;
	ListCell   *lc;

	/* the relations whose kept row types release_rowtypes() saw to */
	if (IsA(parsetree, AlterTableStmt))
	{
		List	   *restrict_objects;

		done = rowtype_relations(parsetree, &restrict_objects);
	}
	foreach(lc, targets)
	{
		MigsafeTarget *t = lfirst(lc);

		if (t->classid != RelationRelationId)
			continue;
		if (migsafe_keptypes_kept_column(t->objid, t->subid))
		{
			ObjectAddress *a = palloc(sizeof(ObjectAddress));

			ObjectAddressSubSet(*a, RelationRelationId, t->objid, t->subid);
			kept = lappend(kept, a);
		}

		/*
		 * a column dropped or changed by another path (a generated column
		 * goes with the function its expression calls): its table's row
		 * type changes under kept columns that hold it.  (A relation the
		 * statement drops takes its row type, and the kept columns of it
		 * are among the targets.)
		 */
		else if (t->subid > 0 &&
				 (t->op == MIGSAFE_OP_DROP || t->op == MIGSAFE_OP_RETYPE ||
				  t->op == MIGSAFE_OP_BLANK) &&
				 !list_member_oid(done, t->objid))
			rels = list_append_unique_oid(rels, t->objid);
	}
	found = list_concat(kept, rowtype_users(rels));
	if (found == NIL)
		return false;
	in_section(release_found, found);
	return true;
}

/*
 * The tables of the snapshots that kept a table's storage with a user's
 * types (OIDs, in the caller's memory context), read as migsafe: the
 * registry shows a role only the rows it may read.  Call in an internal
 * section.
 */
static List *
kept_typed_tables(void)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *rows;
	List	   *result = NIL;
	ListCell   *lc;

	SPI_connect();
	rows = migsafe_internal_rows("SELECT pg_catalog.to_regclass(storage)::pg_catalog.oid"
								 "  FROM migsafe.snapshots"
								 " WHERE status OPERATOR(pg_catalog.=) 'kept'"
								 "   AND method OPERATOR(pg_catalog.=) 'moved'"
								 "   AND definition OPERATOR(pg_catalog.?) 'kept_types'"
								 " ORDER BY id",
								 0, NULL, NULL, 1);
	foreach(lc, rows)
	{
		char	  **r = lfirst(lc);
		MemoryContext old;

		if (r[0] == NULL)
			continue;
		/* SPI_finish() frees what was allocated since SPI_connect() */
		old = MemoryContextSwitchTo(caller);
		result = lappend_oid(result,
							 DatumGetObjectId(DirectFunctionCall1(oidin,
																  CStringGetDatum(r[0]))));
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	return result;
}

/* kept_typed_tables() into *(List **) result */
static void
read_kept_typed_tables(void *result)
{
	*(List **) result = kept_typed_tables();
}

/*
 * migsafe_keptypes_exist
 *
 * Whether any kept snapshot has columns of a user's type: the gate then
 * collects a DROP's targets even with migsafe.mode = off, so that
 * migsafe_keptypes_release_targets() sees the kept columns it reaches.
 */
bool
migsafe_keptypes_exist(void)
{
	List	   *tables = NIL;

	in_section(read_kept_typed_tables, &tables);
	return tables != NIL;
}

/*
 * migsafe_keptypes_kept_column
 *
 * Whether column subid of relid is a kept column of a user's type or
 * collation (the gate refuses to let a statement drop one).
 */
bool
migsafe_keptypes_kept_column(Oid relid, int subid)
{
	HeapTuple	tup;
	Form_pg_attribute att;
	bool		result;

	if (subid <= 0 || !is_kept_table(relid))
		return false;
	tup = SearchSysCacheAttNum(relid, (AttrNumber) subid);
	if (!HeapTupleIsValid(tup))
		return false;
	att = (Form_pg_attribute) GETSTRUCT(tup);
	result = !att->attisdropped &&
		user_typed(att->atttypid, att->attcollation);
	ReleaseSysCache(tup);
	return result;
}

/*
 * Whether a DROP ... RESTRICT of objects fails whatever migsafe does:
 * something other than a kept column depends on them, or on what goes
 * with them (auto, internal and extension dependents: a type's array),
 * by a normal dependency.  Then nothing is converted for it: the
 * statement raises its own error at once.
 */
static bool
restrict_fails(List *objects)
{
	List	   *going = list_copy(objects);
	List	   *normal = NIL;
	Relation	depRel = table_open(DependRelationId, AccessShareLock);
	ListCell   *lc;
	int			i;

	/* what goes with them, and what depends on any of it normally */
	for (i = 0; i < list_length(going) && i < MAX_CLOSURE; i++)
	{
		ScanKeyData key[2];
		SysScanDesc scan = depend_scan(depRel, true, list_nth(going, i), key);
		HeapTuple	tup;

		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
			ObjectAddress *a = palloc(sizeof(ObjectAddress));

			ObjectAddressSubSet(*a, dep->classid, dep->objid, dep->objsubid);
			if (dep->deptype == DEPENDENCY_NORMAL)
				normal = lappend(normal, a);
			else if (!migsafe_catalog_address_member(going, dep->classid, dep->objid))
				going = lappend(going, a);
		}
		systable_endscan(scan);
	}
	table_close(depRel, AccessShareLock);
	if (list_length(going) >= MAX_CLOSURE)
		return false;

	/* a normal dependent that does not go with them, but a kept column */
	foreach(lc, normal)
	{
		ObjectAddress *a = lfirst(lc);

		if (!migsafe_catalog_address_member(going, a->classId, a->objectId) &&
			!(a->classId == RelationRelationId && a->objectSubId > 0 &&
			  is_kept_table(a->objectId)))
			return true;
	}
	return false;
}

/* Convert the columns of every kept table that meet a MigsafeTypeThreat */
static void
release_tables(void *threat)
{
	List	   *tables = kept_typed_tables();
	ListCell   *lc;

	SPI_connect();
	foreach(lc, tables)
	{
		Oid			relid = lfirst_oid(lc);

		if (release_table(relid, (MigsafeTypeThreat *) threat))
			ereport(DEBUG1,
					(errmsg_internal("migsafe: kept columns of %s converted before their type is dropped or checked",
									 get_rel_name(relid))));
	}
	SPI_finish();
}

/* ----------------------------------------------------------------
 * Kept columns of a row type
 *
 * A kept column of a composite type (a table's row type, or CREATE TYPE
 * AS) keeps its values as they were written: an ALTER TABLE of the table
 * whose row type it is (or ALTER TYPE) would be refused (ALTER COLUMN
 * TYPE, a rewrite), or would blank an attribute in every kept value (DROP
 * COLUMN, DROP ATTRIBUTE), and a DROP of that table would fail or take
 * the column.  Before such a statement runs, the kept columns whose
 * values hold that row type, however deep, become text.
 * ----------------------------------------------------------------
 */

/*
 * The kept columns (ObjectAddress, a column's) whose values hold the row
 * type of a relation in rels (OIDs): of that type, of an array, domain or
 * range over it, of a composite or row type with an attribute of it, or
 * of the row type of a table typed by it (ALTER TYPE ... CASCADE reaches
 * it), found in pg_depend as find_composite_type_dependencies() finds
 * them, breadth first, each type looked at once.
 */
static List *
rowtype_users(List *rels)
{
	List	   *queue = NIL;
	List	   *found = NIL;
	HTAB	   *seen = NULL;
	Relation	depRel;
	ListCell   *lc;
	int			i;

	foreach(lc, rels)
	{
		Oid			reltype = get_rel_type_id(lfirst_oid(lc));

		if (OidIsValid(reltype))
			queue = lappend_oid(queue, reltype);
	}
	if (queue == NIL)
		return NIL;
	depRel = table_open(DependRelationId, AccessShareLock);
	for (i = 0; i < list_length(queue); i++)
	{
		Oid			typid = list_nth_oid(queue, i);
		ObjectAddress type;
		ScanKeyData key[2];
		SysScanDesc scan;
		HeapTuple	tup;

		/* a list while it is short (the row type and its array), then a hash */
		if (seen == NULL && i >= 16)
		{
			HASHCTL		ctl;
			int			j;

			ctl.keysize = sizeof(Oid);
			ctl.entrysize = sizeof(Oid);
			ctl.hcxt = CurrentMemoryContext;
			seen = hash_create("migsafe row types looked at", 256, &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
			for (j = 0; j < i; j++)
			{
				Oid			done = list_nth_oid(queue, j);

				(void) hash_search(seen, &done, HASH_ENTER, NULL);
			}
		}
		if (seen != NULL)
		{
			bool		present;

			(void) hash_search(seen, &typid, HASH_ENTER, &present);
			if (present)
				continue;
		}
		else
		{
			int			j;

			for (j = 0; j < i && list_nth_oid(queue, j) != typid; j++)
				;
			if (j < i)
				continue;
		}

		ObjectAddressSet(type, TypeRelationId, typid);
		scan = depend_scan(depRel, true, &type, key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

			if (dep->classid == TypeRelationId)
				queue = lappend_oid(queue, dep->objid);
			else if (dep->classid == RelationRelationId && dep->objsubid > 0 &&
					 is_kept_table(dep->objid))
			{
				ObjectAddress *a = palloc(sizeof(ObjectAddress));

				ObjectAddressSubSet(*a, RelationRelationId, dep->objid,
									dep->objsubid);
				found = lappend(found, a);
			}
			else if (dep->classid == RelationRelationId)
			{
				Oid			reltype = get_rel_type_id(dep->objid);

				if (OidIsValid(reltype))
					queue = lappend_oid(queue, reltype);
			}
		}
		systable_endscan(scan);
		CHECK_FOR_INTERRUPTS();
	}
	table_close(depRel, AccessShareLock);
	if (seen != NULL)
		hash_destroy(seen);
	return found;
}

/*
 * Whether ADD COLUMN def computes a value for every row (a default, an
 * identity or generated column, a domain with constraints or a default, a
 * type not known yet, such as serial), which PostgreSQL refuses while a
 * column uses the table's row type.  Stored values of the row type read a
 * column added otherwise as NULL.  PostgreSQL stores no default that is
 * a NULL constant, but for a domain (its NULL is a CoerceToDomain).
 */
static bool
add_writes_rows(ColumnDef *def)
{
	ListCell   *lc;
	Oid			typid;
	Node	   *expr = def->raw_default;
	bool		null_default = false;

	if (def->cooked_default != NULL || def->identity != '\0' ||
		def->generated != '\0')
		return true;
	foreach(lc, def->constraints)
	{
		Constraint *c = lfirst_node(Constraint, lc);

		if (c->contype == CONSTR_IDENTITY || c->contype == CONSTR_GENERATED)
			return true;
		if (c->contype == CONSTR_DEFAULT && c->raw_expr != NULL)
			expr = c->raw_expr;
	}
	if (expr != NULL)
	{
		Node	   *arg = IsA(expr, TypeCast) ? ((TypeCast *) expr)->arg : expr;

		if (!IsA(arg, A_Const) || !((A_Const *) arg)->isnull)
			return true;
		null_default = true;
	}
	if (def->typeName == NULL)
		return true;
	typid = LookupTypeNameOid(NULL, def->typeName, true);
	if (!OidIsValid(typid))
		return true;
	return get_typtype(typid) == TYPTYPE_DOMAIN &&
		(null_default || DomainHasConstraints(typid) ||
		 get_typdefault(typid) != NULL);
}

/*
 * Whether an ALTER TABLE (TYPE ...) may change what values of the row type
 * hold, or be refused while a column uses it: it drops or retypes a column
 * or an attribute, or rewrites the table (SET ACCESS METHOD, SET LOGGED or
 * UNLOGGED, a new column's value in every row).  Any other (an attribute
 * added, constraints, defaults, storage, owner, triggers, partitions...)
 * leaves stored values of the row type as they are, and what it adds reads
 * as NULL in them.
 */
static bool
alter_changes_rowtype(AlterTableStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		switch (cmd->subtype)
		{
			case AT_AddColumn:
				/*
				 * ALTER TYPE ... ADD ATTRIBUTE: stored values read the new
				 * attribute as NULL (a typed table's new column too)
				 */
				if (stmt->objtype == OBJECT_TYPE)
					break;
				if (stmt->objtype != OBJECT_TABLE &&
					stmt->objtype != OBJECT_FOREIGN_TABLE)
					return true;
				if (add_writes_rows(castNode(ColumnDef, cmd->def)))
					return true;
				break;
			case AT_DropColumn:
			case AT_AlterColumnType:
			case AT_SetAccessMethod:
			case AT_SetLogged:
			case AT_SetUnLogged:
#if PG_VERSION_NUM >= 170000
			case AT_SetExpression:
#endif
				return true;
			default:
				break;
		}
	}
	return false;
}

/*
 * The relations whose row types parsetree may change or drop: what an
 * ALTER TABLE (VIEW, TYPE ...) names, by its owner, and what a DROP TABLE
 * (VIEW, MATERIALIZED VIEW, FOREIGN TABLE) names, by who may drop it
 * (others get the statement's own error), with their inheritance children
 * and partitions, which the statement reaches too.  *restrict_objects gets
 * a DROP ... RESTRICT's relations.
 */
static List *
rowtype_relations(Node *parsetree, List **restrict_objects)
{
	List	   *names = NIL;
	List	   *result = NIL;
	bool		alter = IsA(parsetree, AlterTableStmt);
	ListCell   *lc;

	*restrict_objects = NIL;
	if (alter && !alter_changes_rowtype((AlterTableStmt *) parsetree))
		return NIL;
	if (alter)
		names = list_make1(((AlterTableStmt *) parsetree)->relation);
	else
	{
		DropStmt   *stmt = (DropStmt *) parsetree;

		if (stmt->removeType != OBJECT_TABLE &&
			stmt->removeType != OBJECT_VIEW &&
			stmt->removeType != OBJECT_MATVIEW &&
			stmt->removeType != OBJECT_FOREIGN_TABLE)
			return NIL;
		foreach(lc, stmt->objects)
			names = lappend(names,
							makeRangeVarFromNameList(castNode(List, lfirst(lc))));
	}
	foreach(lc, names)
	{
		RangeVar   *rv = lfirst(lc);
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);
		ObjectAddress addr;

		if (!OidIsValid(relid))
			continue;
		ObjectAddressSet(addr, RelationRelationId, relid);
		if (alter ? !migsafe_rel_ownercheck(relid, GetUserId()) : !may_drop(addr))
			continue;
		if (!alter && ((DropStmt *) parsetree)->behavior == DROP_RESTRICT)
		{
			ObjectAddress *a = palloc(sizeof(ObjectAddress));

			*a = addr;
			*restrict_objects = lappend(*restrict_objects, a);
		}
		if ((rv->inh || !alter) && has_subclass(relid))
			result = list_concat_unique_oid(result,
											find_all_inheritors(relid, NoLock, NULL));
		else
			result = list_append_unique_oid(result, relid);
	}
	return result;
}

/*
 * Convert the kept columns in found (ObjectAddress, a column's) that are
 * still of a user's type, one ALTER TABLE per kept table
 */
static void
release_found(void *found)
{
	List	   *done = NIL;
	ListCell   *lc;

	SPI_connect();
	foreach(lc, (List *) found)
	{
		ObjectAddress *a = lfirst(lc);
		Relation	rel;
		StringInfoData sql;
		ListCell   *lc2;

		if (list_member_oid(done, a->objectId))
			continue;
		done = lappend_oid(done, a->objectId);
		rel = try_relation_open(a->objectId, AccessExclusiveLock);
		if (rel == NULL)
			continue;
		initStringInfo(&sql);
		foreach(lc2, (List *) found)
		{
			ObjectAddress *b = lfirst(lc2);
			Form_pg_attribute att;

			if (b->objectId != a->objectId ||
				b->objectSubId > RelationGetDescr(rel)->natts)
				continue;
			att = TupleDescAttr(RelationGetDescr(rel), b->objectSubId - 1);
			/* looked at again under the lock: converted meanwhile */
			if (att->attisdropped ||
				!user_typed(att->atttypid, att->attcollation))
				continue;
			appendStringInfo(&sql, "%s%s", sql.len > 0 ? ", " : "",
							 release_clause(att));
		}
		alter_kept(rel, sql.data);
		ereport(DEBUG1,
				(errmsg_internal("migsafe: kept columns of %s converted before their row type changes",
								 get_rel_name(a->objectId))));
	}
	SPI_finish();
}

/*
 * Before an ALTER or DROP of a relation whose row type kept columns hold
 * (see above): convert those columns.  Only their tables are locked; for
 * any other relation this costs a look at pg_depend.
 */
static void
release_rowtypes(Node *parsetree)
{
	List	   *restrict_objects;
	List	   *rels = rowtype_relations(parsetree, &restrict_objects);
	List	   *found;

	if (rels == NIL)
		return;
	found = rowtype_users(rels);
	/* no rewrite of kept tables for a DROP bound to fail */
	if (found == NIL ||
		(restrict_objects != NIL && restrict_fails(restrict_objects)))
		return;
	in_section(release_found, found);
}

/*
 * migsafe_keptypes_release
 *
 * Called by the gate before parsetree runs, where migsafe is installed:
 * when it drops or checks a type (or what a type depends on) that a kept
 * snapshot's column is of, convert that column first (see the file
 * header).  Does nothing, without reading the registry, for any other
 * statement, or for a role that may not run it (it gets the statement's
 * own error).  Only tables with such a column are locked.
 */
void
migsafe_keptypes_release(Node *parsetree)
{
	MigsafeTypeThreat threat;

	if (!IsA(parsetree, DropStmt) && !IsA(parsetree, DropOwnedStmt) &&
		!IsA(parsetree, AlterDomainStmt) && !IsA(parsetree, AlterTableStmt))
		return;
	if (IsA(parsetree, DropStmt) || IsA(parsetree, AlterTableStmt))
		release_rowtypes(parsetree);
	if (!threat_of(parsetree, &threat))
		return;
	/* no rewrite of kept tables for a statement bound to fail */
	if (IsA(parsetree, DropStmt) &&
		((DropStmt *) parsetree)->behavior == DROP_RESTRICT &&
		restrict_fails(threat.objects))
		return;

	in_section(release_tables, &threat);
}
