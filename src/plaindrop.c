/*-------------------------------------------------------------------------
 *
 * plaindrop.c
 *	  A DROP TABLE or DROP COLUMN the dry run can be spared: what it takes
 *	  along, read from pg_depend as PostgreSQL's drop would walk it.
 *
 * collect.c runs a DROP or ALTER TABLE ... DROP COLUMN once in a
 * rolled-back subtransaction (the dry run) to learn what it destroys.  For
 * a plain DROP TABLE of an empty table, or a plain DROP COLUMN of any
 * table, that takes nothing but the table's own parts, this file adds the
 * same targets and dropped objects from pg_depend instead, before the
 * table is locked (migsafe_plaindrop_collect()), and tells once it is
 * locked whether the statement will run as collected
 * (migsafe_plaindrop_settled()); otherwise collect.c forgets what was
 * added and runs the dry run.  Called from the ProcessUtility hook's
 * guarded statements only; allocates in the statement's memory context.
 *
 * Calls command.c and catalog.c.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/plaindrop.c
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
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/bufmgr.h"
#include "storage/sinval.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "migsafe.h"
#include "catalog.h"
#include "command.h"
#include "plaindrop.h"


/* At most this many objects are followed before the dry run decides */
#define MIGSAFE_PARTS_MAX	64

/* The objects drop_closure() is going through, outermost last */
typedef struct MigsafeClosureStack
{
	const ObjectAddress *obj;
	struct MigsafeClosureStack *next;
} MigsafeClosureStack;

/* What drop_closure() has found so far */
typedef struct MigsafeClosure
{
	Relation	depRel;
	Oid			relid;			/* the table dropped, or whose column is */
	Oid			nsp;			/* migsafe's schema */
	List	   *seen;			/* every object reached (ObjectAddress *) */
	List	   *objs;			/* those done, in the order they are dropped */
} MigsafeClosure;

/* Whether objs (a List of ObjectAddress) holds exactly that object */
static bool
has_object(List *objs, const ObjectAddress *obj)
{
	ListCell   *lc;

	foreach(lc, objs)
	{
		ObjectAddress *o = lfirst(lc);

		if (o->classId == obj->classId && o->objectId == obj->objectId &&
			o->objectSubId == obj->objectSubId)
			return true;
	}
	return false;
}

/*
 * The order in which PostgreSQL visits the objects depending on one
 * object (newest OID first, then catalog, then sub-object, as
 * findDependentObjects() sorts them): the order of the objects it drops,
 * which the error names.
 */
static int
closure_order_cmp(const ListCell *a, const ListCell *b)
{
	const ObjectAddress *oa = lfirst(a);
	const ObjectAddress *ob = lfirst(b);

	if (oa->objectId != ob->objectId)
		return oa->objectId > ob->objectId ? -1 : 1;
	if (oa->classId != ob->classId)
		return oa->classId < ob->classId ? -1 : 1;
	if (oa->objectSubId != ob->objectSubId)
		return (uint32) oa->objectSubId < (uint32) ob->objectSubId ? -1 : 1;
	return 0;
}

/*
 * own_part
 *
 * Whether an object a drop of relid takes along is one of the table's own
 * parts, which the object-access hook passes over in a dry run: its
 * indexes and TOAST (outside migsafe's schema nsp), its row and array
 * types, and the constraints, defaults, triggers, rules, policies and
 * statistics that hang off the table itself.  Anything else (another
 * relation, an owned sequence, a trigger on another table) takes the dry
 * run.
 */
static bool
own_part(const ObjectAddress *obj, Oid relid, Oid nsp)
{
	switch (obj->classId)
	{
		case RelationRelationId:
			{
				char		relkind = get_rel_relkind(obj->objectId);

				return (relkind == RELKIND_INDEX ||
						relkind == RELKIND_TOASTVALUE) &&
					get_rel_namespace(obj->objectId) != nsp;
			}
		case TypeRelationId:
			{
				HeapTuple	tup = SearchSysCache1(TYPEOID,
												  ObjectIdGetDatum(obj->objectId));
				bool		result;
				Form_pg_type typ;

				if (!HeapTupleIsValid(tup))
					return false;
				typ = (Form_pg_type) GETSTRUCT(tup);
				result = typ->typrelid == relid ||
					(!OidIsValid(typ->typrelid) && typ->typnamespace != nsp);
				ReleaseSysCache(tup);
				return result;
			}
		case ConstraintRelationId:
		case AttrDefaultRelationId:
		case TriggerRelationId:
		case RewriteRelationId:
		case PolicyRelationId:
		case StatisticExtRelationId:
			return migsafe_catalog_owning_relation(obj->classId,
												   obj->objectId) == relid;
		default:
			return false;
	}
}

/*
 * owned_on_stack
 *
 * Whether what obj itself depends on lets it go the way PostgreSQL's
 * walk reaches it: only ordinary dependencies, or internal ones on an
 * object the walk comes from (the index of a constraint, the TOAST table
 * of the table).  Part of an object not being dropped, of an extension or
 * of a partitioned object, the drop would fail, take more, or go in
 * another order.
 */
static bool
owned_on_stack(Relation depRel, const ObjectAddress *obj,
			   MigsafeClosureStack *stack)
{
	ScanKeyData key[3];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		result = true;
	int			nkeys = 2;

	ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(obj->classId));
	ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(obj->objectId));
	if (obj->objectSubId != 0)
		ScanKeyInit(&key[nkeys++], Anum_pg_depend_objsubid,
					BTEqualStrategyNumber, F_INT4EQ,
					Int32GetDatum(obj->objectSubId));
	scan = systable_beginscan(depRel, DependDependerIndexId, true, NULL,
							  nkeys, key);
	while (result && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
		MigsafeClosureStack *s;

		if (dep->refclassid == obj->classId &&
			dep->refobjid == obj->objectId && obj->objectSubId == 0)
			continue;			/* one of its own parts */
		if (dep->deptype == DEPENDENCY_NORMAL ||
			dep->deptype == DEPENDENCY_AUTO)
			continue;
		result = false;
		if (dep->deptype != DEPENDENCY_INTERNAL)
			continue;
		for (s = stack; s != NULL && !result; s = s->next)
			result = s->obj->classId == dep->refclassid &&
				s->obj->objectId == dep->refobjid &&
				(s->obj->objectSubId == dep->refobjsubid ||
				 s->obj->objectSubId == 0);
	}
	systable_endscan(scan);
	return result;
}

/*
 * closure_visit
 *
 * Follow what depends on obj, as findDependentObjects() does for a
 * RESTRICT drop, and add obj after them to c->objs.  False as soon as
 * something is not one of the table's own parts (see own_part()), would
 * make RESTRICT refuse or take more along, or is not simple enough to be
 * sure of.
 */
static bool
closure_visit(MigsafeClosure *c, ObjectAddress *obj,
			  MigsafeClosureStack *stack)
{
	ScanKeyData key[3];
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *dependents = NIL;
	List	   *normal = NIL;
	MigsafeClosureStack here;
	ListCell   *lc;
	bool		ok = true;
	int			nkeys = 2;

	if (has_object(c->seen, obj))
		return true;
	c->seen = lappend(c->seen, obj);
	if (list_length(c->seen) > MIGSAFE_PARTS_MAX ||
		(stack != NULL && !own_part(obj, c->relid, c->nsp)) ||
		!owned_on_stack(c->depRel, obj, stack))
		return false;

	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(obj->classId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(obj->objectId));
	if (obj->objectSubId != 0)
		ScanKeyInit(&key[nkeys++], Anum_pg_depend_refobjsubid,
					BTEqualStrategyNumber, F_INT4EQ,
					Int32GetDatum(obj->objectSubId));
	scan = systable_beginscan(c->depRel, DependReferenceIndexId, true, NULL,
							  nkeys, key);
	while (ok && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
		ObjectAddress *part;

		if (dep->classid == obj->classId && dep->objid == obj->objectId &&
			obj->objectSubId == 0)
			continue;			/* a column of the table dropped whole */
		part = palloc(sizeof(ObjectAddress));
		ObjectAddressSet(*part, dep->classid, dep->objid);
		if (dep->deptype == DEPENDENCY_NORMAL && dep->objsubid == 0)
			normal = lappend(normal, part);
		else if ((dep->deptype != DEPENDENCY_AUTO &&
				  dep->deptype != DEPENDENCY_INTERNAL) ||
				 dep->objsubid != 0)
			ok = false;			/* more goes along (a column elsewhere) */
		else
			dependents = lappend(dependents, part);
	}
	systable_endscan(scan);
	if (!ok || list_length(dependents) > MIGSAFE_PARTS_MAX)
		return false;

	/*
	 * A normal dependency makes RESTRICT refuse, unless the same object also
	 * depends on this one automatically (a CHECK constraint on the column
	 * records both): it goes along then.
	 */
	foreach(lc, normal)
	{
		if (!has_object(dependents, lfirst(lc)))
			return false;
	}

	list_sort(dependents, closure_order_cmp);
	here.obj = obj;
	here.next = stack;
	foreach(lc, dependents)
	{
		if (!closure_visit(c, lfirst(lc), &here))
			return false;
	}
	c->objs = lappend(c->objs, obj);
	return true;
}

/*
 * drop_closure
 *
 * What dropping table relid (attnum 0) or its column attnum takes along,
 * from pg_depend, when that is only the table's own parts (see
 * own_part()), none of them anything else's, and nothing else depends on
 * any of them: a List of ObjectAddress in the order PostgreSQL drops them,
 * the dropped object last.  NIL otherwise, and for anything unusual: the
 * dry run tells then.
 */
static List *
drop_closure(Oid relid, AttrNumber attnum)
{
	MigsafeClosure c;
	ObjectAddress *root = palloc(sizeof(ObjectAddress));
	bool		ok;

	c.depRel = table_open(DependRelationId, AccessShareLock);
	c.relid = relid;
	c.nsp = migsafe_catalog_namespace();
	c.seen = NIL;
	c.objs = NIL;
	ObjectAddressSubSet(*root, RelationRelationId, relid, attnum);
	ok = closure_visit(&c, root, NULL);
	table_close(c.depRel, AccessShareLock);
	list_free(c.seen);
	return ok ? c.objs : NIL;
}

/* Whether two Lists of ObjectAddress hold the same objects, in order */
static bool
same_objects(List *a, List *b)
{
	ListCell   *la;
	ListCell   *lb;

	if (list_length(a) != list_length(b))
		return false;
	forboth(la, a, lb, b)
	{
		ObjectAddress *oa = lfirst(la);
		ObjectAddress *ob = lfirst(lb);

		if (oa->classId != ob->classId || oa->objectId != ob->objectId ||
			oa->objectSubId != ob->objectSubId)
			return false;
	}
	return true;
}

/*
 * Whether the session's settings leave nothing for a dry run to change
 * about dropping an empty table: empty tables allowed, no approval or
 * exemption that could apply, migsafe not off.
 */
static bool
plain_drop_settings(void)
{
	return migsafe_allow_empty && migsafe_mode != MIGSAFE_MODE_OFF &&
		(migsafe_approve == NULL || migsafe_approve[0] == '\0') &&
		(migsafe_exempt == NULL || migsafe_exempt[0] == '\0') &&
		(migsafe_exempt_roles == NULL || migsafe_exempt_roles[0] == '\0');
}

/*
 * What a plain drop names: the table of a DROP TABLE (one table,
 * RESTRICT; *colname NULL), or the table and column of an ALTER TABLE
 * with a single DROP COLUMN (RESTRICT).  False for anything else.
 */
static bool
plain_drop_names(Node *parsetree, RangeVar **rv, const char **colname)
{
	*colname = NULL;
	if (IsA(parsetree, DropStmt))
	{
		DropStmt   *stmt = (DropStmt *) parsetree;

		if (stmt->removeType != OBJECT_TABLE ||
			stmt->behavior != DROP_RESTRICT || stmt->concurrent ||
			list_length(stmt->objects) != 1)
			return false;
		*rv = makeRangeVarFromNameList(linitial(stmt->objects));
		return true;
	}
	if (IsA(parsetree, AlterTableStmt))
	{
		AlterTableStmt *stmt = (AlterTableStmt *) parsetree;
		AlterTableCmd *sub;

		if (stmt->objtype != OBJECT_TABLE || list_length(stmt->cmds) != 1)
			return false;
		sub = linitial_node(AlterTableCmd, stmt->cmds);
		if (sub->subtype != AT_DropColumn || sub->behavior != DROP_RESTRICT ||
			sub->name == NULL)
			return false;
		*rv = stmt->relation;
		*colname = sub->name;
		return true;
	}
	return false;
}

/*
 * plain_drop_object
 *
 * The table (*attnum 0), or the table and column (colname), a plain drop
 * destroys, if PostgreSQL would let the role drop it without recursing to
 * another table: an ordinary table of the role's, neither temporary,
 * partitioned, a partition, an inheritance parent nor migsafe's; a column
 * of its own (not inherited), not of a typed table.  A DROP TABLE also
 * needs a table that looks empty (no page, as of its last VACUUM, ANALYZE
 * or TRUNCATE) under settings that leave nothing to approve (see
 * migsafe_plaindrop_settled()).  Reads the catalogs as they are: the caller
 * checks again once the table is locked.
 */
static bool
plain_drop_object(RangeVar *rv, const char *colname, Oid *relid,
				  AttrNumber *attnum)
{
	HeapTuple	tup;
	Form_pg_class rel;
	bool		ok;

	*relid = RangeVarGetRelid(rv, NoLock, true);
	*attnum = 0;
	if (!OidIsValid(*relid) || *relid < FirstNormalObjectId)
		return false;
	if (colname != NULL)
	{
		tup = SearchSysCacheAttName(*relid, colname);
		if (!HeapTupleIsValid(tup))
			return false;
		if (((Form_pg_attribute) GETSTRUCT(tup))->attinhcount == 0)
			*attnum = ((Form_pg_attribute) GETSTRUCT(tup))->attnum;
		ReleaseSysCache(tup);
		if (*attnum <= 0)
			return false;
	}
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(*relid));
	if (!HeapTupleIsValid(tup))
		return false;
	rel = (Form_pg_class) GETSTRUCT(tup);
	ok = rel->relkind == RELKIND_RELATION && !rel->relispartition &&
		!rel->relhassubclass && rel->relpersistence != RELPERSISTENCE_TEMP &&
		rel->relnamespace != migsafe_catalog_namespace() &&
		!isAnyTempNamespace(rel->relnamespace) &&
		(colname != NULL ? !OidIsValid(rel->reloftype) :
		 rel->relpages == 0 && plain_drop_settings());
	ReleaseSysCache(tup);
	return ok && migsafe_rel_ownercheck(*relid, GetUserId());
}

/*
 * migsafe_plaindrop_collect
 *
 * For a top-level plain DROP TABLE or ALTER TABLE ... DROP COLUMN (see
 * plain_drop_names() and plain_drop_object()) that would succeed and take
 * nothing but the table's own parts, add what its dry run would have
 * collected: the table or column as the target, and every object dropped,
 * in the order the dry run would have seen them go.  Returns false, having
 * added nothing, for anything else, which the dry run handles: another
 * object, CASCADE, inheritance and partitions, temporary tables, migsafe's
 * own, a role that does not own the table (the statement's permission
 * error comes first, and no lock is taken for it), a column missing,
 * inherited or of a typed table, a table with pages, an approval or
 * exemption set (for DROP TABLE).  The dry run would lock the table and
 * let go of it before the targets are locked again, which lets a session
 * waiting for it in between: whatever may end in a dry run after all (see
 * migsafe_plaindrop_settled()) is kept from locking first, as far as the
 * catalogs tell before the lock.
 */
bool
migsafe_plaindrop_collect(MigsafeCommand *cmd, Node *parsetree)
{
	RangeVar   *rv;
	const char *colname;
	Oid			relid;
	AttrNumber	attnum;
	List	   *objs;
	ListCell   *lc;

	/*
	 * PostgreSQL refuses a read-only transaction's, a standby's or a parallel
	 * operation's DROP before locking anything; the dry run meets that
	 * refusal first.
	 */
	if (cmd->outer != NULL || XactReadOnly || RecoveryInProgress() ||
		IsInParallelMode())
		return false;
	if (!plain_drop_names(parsetree, &rv, &colname) ||
		!plain_drop_object(rv, colname, &relid, &attnum))
		return false;

	cmd->collected_at = SharedInvalidMessageCounter;
	objs = drop_closure(relid, attnum);
	if (objs == NIL)
		return false;
	foreach(lc, objs)
	{
		ObjectAddress *obj = lfirst(lc);

		migsafe_command_note_dropped(cmd, obj->classId, obj->objectId,
									 obj->objectSubId);
	}
	return migsafe_command_add_object(cmd, MIGSAFE_OP_DROP, RelationRelationId,
									  relid, attnum, false) != NULL;
}

/*
 * plain_settled
 *
 * Whether a DROP TABLE or DROP COLUMN collected by
 * migsafe_plaindrop_collect() runs as collected, now that its table is
 * locked: its name leads to the same table (and column), under the same
 * conditions, nothing new depends on them (a view or an index made while
 * it waited for the lock, a sequence given to the table or column: the
 * drop would take it along unseen, and a snapshot it needs could not be
 * taken so late), and neither ALTER TABLE nor DROP TABLE will refuse the
 * table as in use in this session (an open cursor, pending trigger events:
 * CheckTableNotInUse()).  Then the statement succeeds (a DROP COLUMN
 * whatever the column holds), and it can be decided, refused or kept
 * before it runs, as after its dry run.
 */
static bool
plain_settled(MigsafeCommand *cmd, MigsafeTarget *t, Node *parsetree)
{
	RangeVar   *rv;
	const char *colname;
	Oid			relid;
	AttrNumber	attnum;
	Relation	rel;
	bool		in_use;

	rel = relation_open(t->objid, NoLock);
	in_use = rel->rd_refcnt != (rel->rd_isnailed ? 2 : 1) ||
		AfterTriggerPendingOnRel(t->objid);
	relation_close(rel, NoLock);
	if (in_use)
		return false;

	/*
	 * The catalogs this backend sees change only with the invalidation
	 * messages it takes in (as RangeVarGetRelidExtended() reasons): none
	 * since the objects were collected, and a second look would find
	 * the same.  Waiting for the lock takes in what others committed.
	 */
	if (cmd->collected_at != 0 &&
		cmd->collected_at == SharedInvalidMessageCounter)
		return true;
	if (!plain_drop_names(parsetree, &rv, &colname) ||
		(colname != NULL) != (t->subid > 0) ||
		!plain_drop_object(rv, colname, &relid, &attnum) ||
		relid != t->objid || attnum != t->subid)
		return false;
	return same_objects(drop_closure(relid, attnum), cmd->dropped);
}

/*
 * migsafe_plaindrop_settled
 *
 * Whether a statement collected by migsafe_plaindrop_collect() could have
 * gone another way without its dry run, now that its targets are locked:
 * when it will run as collected (see plain_settled()), and for a DROP
 * TABLE only when its table is empty too (no block: no snapshot, nothing
 * to report); else the dry run is run after all, so that PostgreSQL's own
 * errors still come first.
 */
bool
migsafe_plaindrop_settled(MigsafeCommand *cmd, Node *parsetree)
{
	ListCell   *lc;

	if (cmd->targets == NIL)
		return false;
	foreach(lc, cmd->targets)
	{
		MigsafeTarget *t = lfirst(lc);
		Relation	rel;
		bool		empty;

		if (t->classid != RelationRelationId || t->protected ||
			t->op != MIGSAFE_OP_DROP || t->relkind != RELKIND_RELATION)
			return false;
		if (!plain_settled(cmd, t, parsetree))
			return false;
		if (t->subid > 0)
			continue;
		rel = relation_open(t->objid, NoLock);
		empty = RelationGetNumberOfBlocks(rel) == 0;
		relation_close(rel, NoLock);
		if (!empty)
			return false;
	}
	return true;
}
