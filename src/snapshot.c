/*-------------------------------------------------------------------------
 *
 * snapshot.c
 *	  Keep the data an approved destructive change destroys, before it runs.
 *
 * migsafe_guard_begin() calls migsafe_snapshot_take() once the statement's
 * targets are locked and decided.  Each approved (or warned) target that
 * holds data gets a snapshot, in the statement's transaction, so that a
 * rollback or a crash leaves neither the change nor the snapshot:
 *
 *	- a table dropped by a DROP TABLE that takes nothing else with it is
 *	  moved, whole, into a schema of its own (migsafe_snapshot_<id>), and
 *	  the DROP goes on without it: the cost does not depend on its size;
 *	- a table TRUNCATE empties, or any other statement drops, keeps its
 *	  storage as the snapshot: a new
 *	  table there takes over its heap and TOAST table as they are (dead
 *	  tuples too, which visibility keeps out as it did in the table: the
 *	  lock is held, so the rows it shows are those the latest snapshot
 *	  sees), and the table gets new, empty storage, which TRUNCATE then
 *	  replaces in turn, or the statement drops (swap.c): nothing is
 *	  copied, and the cost does not depend on its size either;
 *	- a table with a column of a composite or range type, or of an
 *	  enum or base type the same statement drops (a domain over a
 *	  built-in type is relabeled instead, see keptypes.c), or whose
 *	  rows a BEFORE TRUNCATE trigger
 *	  must see, is copied there (defined by CREATE TABLE AS ... WITH
 *	  NO DATA, filled by a scan with the latest snapshot, without the
 *	  planner, which would run the owner's index expressions as
 *	  superuser: the lock is held, so rows committed by others a moment
 *	  ago are copied too, also under REPEATABLE READ);
 *	- a dropped, retyped or blanked column is copied with the table's key;
 *	- a sequence keeps its state, a materialized view its definition, in
 *	  migsafe.snapshots.definition.
 *
 * Copies never depend on user types, collations or extensions (values of
 * such types are kept as text), so that a later cascade cannot take them
 * away; a kept storage keeps its column types, and keptypes.c converts
 * them before such a type goes.  Snapshot storage belongs to the bootstrap
 * superuser; only roles that could read the original may read it, never
 * PUBLIC.
 *
 * The statements that keep the data run in an internal section
 * (internal.c), which the hooks let through; where the data goes and how
 * long it stays is storage.c's.  Calls catalog.c, approval.c (waivers),
 * command.c (names), storage.c, swap.c, keptypes.c, internal.c and
 * classify.c.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/snapshot.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/xid8.h"

#include "migsafe.h"
#include "approval.h"
#include "catalog.h"
#include "classify.h"
#include "command.h"
#include "definition.h"
#include "internal.h"
#include "keptypes.h"
#include "snapshot.h"
#include "storage.h"
#include "swap.h"

/* ----------------------------------------------------------------
 * What to keep
 * ----------------------------------------------------------------
 */

/*
 * Whether a decided target loses data that a snapshot should keep: an
 * approved or warned (not exempt, empty or new) table, column, sequence or
 * materialized view of the user's.  An owned sequence goes with its table.
 */
static bool
wants_snapshot(MigsafeTarget *t)
{
	/*
	 * migsafe's own tables go with an approval naming them and keep no
	 * snapshot: a copy of the audit log or of migsafe.snapshots would outlive
	 * the extension, unregistered.
	 */
	if (t->classid != RelationRelationId || t->protected || t->follows ||
		get_rel_namespace(t->objid) == migsafe_catalog_namespace())
		return false;
	if (t->decision != MIGSAFE_DECISION_APPROVED &&
		t->decision != MIGSAFE_DECISION_WARNED)
		return false;
	switch (t->op)
	{
		case MIGSAFE_OP_DROP:
		case MIGSAFE_OP_TRUNCATE:
		case MIGSAFE_OP_RETYPE:
		case MIGSAFE_OP_BLANK:
			return t->relkind == RELKIND_RELATION ||
				t->relkind == RELKIND_SEQUENCE ||
				(t->relkind == RELKIND_MATVIEW && t->op == MIGSAFE_OP_DROP);
		case MIGSAFE_OP_RESTART:
			return t->relkind == RELKIND_SEQUENCE;
		case MIGSAFE_OP_DELETE:
		case MIGSAFE_OP_UPDATE:
			return t->relkind == RELKIND_RELATION;
		default:
			return false;
	}
}

/*
 * Whether the target still needs a snapshot after the settings: none with
 * migsafe.snapshot off, or waived by migsafe.skip_snapshot (the audit row
 * says so).  A table or column measured empty needs none.
 */
static bool
needs_snapshot(MigsafeTarget *t)
{
	char	   *waiver;

	if (!wants_snapshot(t))
		return false;
	if (!migsafe_snapshot)
	{
		t->snapshot_note = pstrdup("No snapshot: migsafe.snapshot is off.");
		return false;
	}
	if ((waiver = migsafe_approval_match(MIGSAFE_SETTING_SKIP_SNAPSHOT, t)) != NULL)
	{
		t->snapshot_note = psprintf("No snapshot: waived by migsafe.skip_snapshot (%s).",
									waiver);
		return false;
	}
	if (t->relkind == RELKIND_RELATION || t->relkind == RELKIND_MATVIEW)
	{
		/* approved targets were not measured by the decision */
		if (t->bytes < 0)
			migsafe_catalog_measure(t, true);
		/* a materialized view's definition is kept even when it is empty */
		if (t->relkind == RELKIND_RELATION &&
			(t->subid > 0 ? t->values == 0 : t->rows == 0))
			return false;
	}
	return true;
}

/* ----------------------------------------------------------------
 * Moving a dropped table
 * ----------------------------------------------------------------
 */

/*
 * Whether a constraint of relid uses an index with expressions or a
 * predicate (an exclusion constraint): such an index cannot be dropped
 * from a moved table, and its expressions would run as migsafe's superuser
 * in ANALYZE, VACUUM and REINDEX.
 */
static bool
has_constraint_expressions(Oid relid)
{
	Relation	rel = relation_open(relid, NoLock);
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		found = false;

	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));

		if (!HeapTupleIsValid(tup))
			continue;
		if ((!heap_attisnull(tup, Anum_pg_index_indexprs, NULL) ||
			 !heap_attisnull(tup, Anum_pg_index_indpred, NULL)) &&
			OidIsValid(get_index_constraint(lfirst_oid(lc))))
			found = true;
		ReleaseSysCache(tup);
	}
	relation_close(rel, NoLock);
	return found;
}

/*
 * Whether a column of relid holds a user's range (see
 * migsafe_keptypes_holds_user_range()): moved, the table would be
 * migsafe's superuser's, and its ANALYZE and index builds would run the
 * range's subtype_diff as that superuser.  Such a table keeps its storage
 * instead, those columns without statistics (see keptypes.c).
 */
static bool
has_user_ranges(Oid relid)
{
	Relation	rel = relation_open(relid, NoLock);
	TupleDesc	desc = RelationGetDescr(rel);
	bool		found = false;
	int			i;

	for (i = 0; i < desc->natts && !found; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		found = !att->attisdropped &&
			migsafe_keptypes_holds_user_range(att->atttypid);
	}
	relation_close(rel, NoLock);
	return found;
}

/*
 * Whether a table can be moved instead of dropped: a plain table, not a
 * partition, not in an inheritance tree (moving it would keep it there),
 * depending on nothing of a user's but its schema (else it is copied: the
 * moved table would keep those objects from being dropped).
 */
static bool
movable(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class form;
	bool		result;

	if (!HeapTupleIsValid(tup))
		return false;
	form = (Form_pg_class) GETSTRUCT(tup);
	result = form->relkind == RELKIND_RELATION && !form->relispartition &&
		!form->relhassubclass && form->relpersistence == RELPERSISTENCE_PERMANENT;
	ReleaseSysCache(tup);
	/* an extension's member would stay one, in the snapshot */
	if (!result || has_superclass(relid) ||
		OidIsValid(getExtensionOfObject(RelationRelationId, relid)))
		return false;
	return !has_constraint_expressions(relid) && !has_user_ranges(relid) &&
		migsafe_catalog_self_contained(relid);
}

/*
 * Whether a truncated or dropped table keeps its storage as its snapshot
 * rather than a copy of its rows (see swap.c): a whole table, its storage
 * swappable, its columns of types it may keep, none of which the statement
 * drops along (see keptypes.c).  A partition or inheritance child is
 * swapped on its own, like any table the statement empties or drops.
 */
static bool
swappable(MigsafeCommand *cmd, MigsafeTarget *t)
{
	return (t->op == MIGSAFE_OP_TRUNCATE || t->op == MIGSAFE_OP_DROP) &&
		t->subid == 0 && t->relkind == RELKIND_RELATION &&
		migsafe_swap_possible(t->objid) &&
		migsafe_keptypes_spared(t->objid, cmd->dropped, &t->kept_types,
								&t->relabel, &t->to_oid);
}

/*
 * Whether a TRUNCATE fires a BEFORE TRUNCATE trigger on any table it
 * empties: the tables it names, their partitions and children, and those
 * CASCADE reaches (cmd's targets).  Then none of them keeps its storage
 * (see migsafe_swap_before_truncate).
 */
static bool
fires_before_truncate(MigsafeCommand *cmd, Node *stmt)
{
	ListCell   *lc;

	if (!IsA(stmt, TruncateStmt))
		return false;
	foreach(lc, ((TruncateStmt *) stmt)->relations)
	{
		Oid			relid = RangeVarGetRelid(lfirst(lc), NoLock, true);
		ListCell   *ic;

		if (!OidIsValid(relid))
			continue;
		foreach(ic, find_all_inheritors(relid, NoLock, NULL))
		{
			if (migsafe_swap_before_truncate(lfirst_oid(ic)))
				return true;
		}
	}
	foreach(lc, cmd->targets)
	{
		MigsafeTarget *t = lfirst(lc);

		if (t->classid == RelationRelationId && t->subid == 0 &&
			migsafe_swap_before_truncate(t->objid))
			return true;
	}
	return false;
}

/*
 * The relations named by a DROP TABLE, one per name (InvalidOid for a name
 * that does not resolve), before anything has moved.
 */
static List *
named_relations(DropStmt *stmt)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList(lfirst(lc));

		result = lappend_oid(result, RangeVarGetRelid(rv, NoLock, true));
	}
	return result;
}

/*
 * Whether everything the dry run saw dropped belongs to the named tables:
 * then moving a named table takes exactly what dropping it would have
 * (its indexes, constraints, TOAST, row type, owned sequences, triggers,
 * rules, policies, defaults, statistics), and no view, foreign key of
 * another table, publication membership or column elsewhere is involved.
 */
static bool
drop_is_self_contained(MigsafeCommand *cmd, List *named)
{
	ListCell   *lc;

	foreach(lc, cmd->dropped)
	{
		ObjectAddress *addr = lfirst(lc);
		Oid			owner = migsafe_catalog_owning_relation(addr->classId, addr->objectId);

		if (!OidIsValid(owner) || !list_member_oid(named, owner))
			return false;
	}
	return true;
}

/*
 * Whether anything outside the named tables depends on relid (or its row
 * type) now, under the lock the statement holds: a view or foreign key
 * created between the dry run, whose locks went with it, and the lock
 * taken again.  Such a table is copied, not moved: moving it would keep
 * the dependent, which the DROP would have refused or dropped.
 */
static bool
has_foreign_dependents(Oid relid, List *named)
{
	Relation	depRel = table_open(DependRelationId, AccessShareLock);
	Oid			rowtype = get_rel_type_id(relid);
	Oid			refs[3][2] = {{RelationRelationId, relid},
	{TypeRelationId, rowtype},
	{TypeRelationId, OidIsValid(rowtype) ? get_array_type(rowtype) : InvalidOid}};
	bool		found = false;
	int			i;

	for (i = 0; i < 3 && !found; i++)
	{
		ScanKeyData key[2];
		SysScanDesc scan;
		HeapTuple	tup;

		if (!OidIsValid(refs[i][1]))
			continue;
		ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(refs[i][0]));
		ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(refs[i][1]));
		scan = systable_beginscan(depRel, DependReferenceIndexId, true,
								  NULL, 2, key);
		while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
			Oid			owner = migsafe_catalog_owning_relation(dep->classid, dep->objid);

			if (!OidIsValid(owner) || !list_member_oid(named, owner))
				found = true;
		}
		systable_endscan(scan);
	}
	table_close(depRel, AccessShareLock);
	return found;
}

/* ----------------------------------------------------------------
 * Taking snapshots
 * ----------------------------------------------------------------
 */

/*
 * The id of a new snapshot.  An id whose schema name is taken already
 * (someone created a schema of that name) is skipped: a role that may
 * create schemas must not be able to make approved changes fail.  Taken
 * without nextval(), which would change the session's lastval().
 */
static int64
next_id(void)
{
	Oid			seqid = get_relname_relid("snapshots_id_seq",
										  migsafe_catalog_namespace());
	Oid			regid = get_relname_relid("snapshots",
										  migsafe_catalog_namespace());

	if (!OidIsValid(seqid) || !OidIsValid(regid))
		elog(ERROR, "table \"migsafe.snapshots\" or its sequence does not exist");
	/* the registry before its sequence, as DROP EXTENSION migsafe locks them */
	LockRelationOid(regid, RowExclusiveLock);
	for (;;)
	{
		int64		id = migsafe_internal_take_ids(seqid, 1);

		if (!OidIsValid(get_namespace_oid(migsafe_storage_schema(id), true)))
			return id;
	}
}

/*
 * The definition of relation relid as migsafe.snapshot_definition() gives
 * it (see definition.c)
 */
static Jsonb *
relation_definition(Oid relid)
{
	Jsonb	   *def = migsafe_definition_of_table(relid,
												  migsafe_catalog_version());
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	char	   *text;

#ifdef MIGSAFE_CHECK_DEFINITION
	if (def != NULL)
	{
		char	   *sql = migsafe_internal_value("SELECT migsafe.snapshot_definition($1)",
												 1, argtypes, values);
		Jsonb	   *ref = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(sql)));

		if (!DatumGetBool(DirectFunctionCall2(jsonb_eq, JsonbPGetDatum(ref),
											  JsonbPGetDatum(def))))
			elog(WARNING, "DEFINITION MISMATCH\nC:   %s\nSQL: %s",
				 JsonbToCString(NULL, &def->root, VARSIZE(def)), sql);
	}
#endif
	if (def != NULL)
		return def;
	text = migsafe_internal_value("SELECT migsafe.snapshot_definition($1)",
								  1, argtypes, values);

	if (text == NULL)
		elog(ERROR, "could not read the definition of relation %u", relid);
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
}

/*
 * What the registry adds to a relation's definition: who could read it
 * (only they see the row, see the 1.1 script; role OIDs as JSON strings,
 * as to_jsonb(oid[]) wrote them before), its OID, its parents in
 * order (null for none), whether a dropped table's storage is kept
 * (restore creates the table again from it), and the labels of the enums
 * whose columns it keeps as OIDs (see migsafe_keptypes_settle()).
 */
static Jsonb *
registry_additions(Oid relid, List *readers, bool storage_kept,
				   bool kept_types, const char *kept_enums)
{
	StringInfoData buf;
	Relation	inh = table_open(InheritsRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	ListCell   *lc;
	int			nparents = 0;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"readers\": [");
	foreach(lc, readers)
		appendStringInfo(&buf, "%s\"%u\"", foreach_current_index(lc) > 0 ? ", " : "",
						 lfirst_oid(lc));
	appendStringInfo(&buf, "], \"relid\": %u, \"parents\": ", relid);
	ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(inh, InheritsRelidSeqnoIndexId, true, NULL, 1,
							  &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		appendStringInfo(&buf, "%s%u", nparents++ > 0 ? ", " : "[",
						 ((Form_pg_inherits) GETSTRUCT(tup))->inhparent);
	systable_endscan(scan);
	table_close(inh, AccessShareLock);
	appendStringInfoString(&buf, nparents > 0 ? "]" : "null");
	if (storage_kept)
		appendStringInfoString(&buf, ", \"kept_storage\": true");
	if (kept_types)
		appendStringInfoString(&buf, ", \"kept_types\": true");
	if (kept_enums != NULL)
		appendStringInfo(&buf, ", \"kept_enums\": %s", kept_enums);
	appendStringInfoChar(&buf, '}');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
											  CStringGetDatum(buf.data)));
}

/*
 * Record snapshot id of target t in migsafe.snapshots, with the definition
 * of its relation as it is now (before the change).  The row goes in
 * without SQL (see migsafe_internal_insert_row()), the definition read in
 * C (see definition.c): parsing and planning the INSERT and
 * migsafe.snapshot_definition() cost more than the rest of the snapshot.
 */
static void
register_snapshot(MigsafeCommand *cmd, MigsafeTarget *t, int64 id,
				  const char *method, const char *storage, List *keys,
				  double rows, bool estimated, int64 bytes)
{
	static const char *const names[17] = {"id", "xid", "command_tag",
		"operation", "object_type", "object_identity", "schema_name",
		"relation_name", "column_name", "owner", "method", "storage",
	"key_columns", "row_count", "rows_estimated", "size_bytes", "definition"};
	static const Oid types[17] = {INT8OID, XID8OID, TEXTOID, TEXTOID, TEXTOID,
		TEXTOID, NAMEOID, NAMEOID, NAMEOID, NAMEOID, TEXTOID, TEXTOID,
	NAMEARRAYOID, INT8OID, BOOLOID, INT8OID, JSONBOID};
	Datum		values[17];
	bool		nulls[17];
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(t->objid));
	Form_pg_class form;
	char	   *nspname;
	Jsonb	   *more;
	Oid			regid = get_relname_relid("snapshots", migsafe_catalog_namespace());

	if (!HeapTupleIsValid(tup) || !OidIsValid(regid))
		elog(ERROR, "could not record migsafe snapshot " INT64_FORMAT, id);
	form = (Form_pg_class) GETSTRUCT(tup);
	nspname = get_namespace_name(form->relnamespace);
	if (nspname == NULL)
		elog(ERROR, "could not record migsafe snapshot " INT64_FORMAT, id);

	memset(nulls, false, sizeof(nulls));
	values[0] = Int64GetDatum(id);
	values[1] = FullTransactionIdGetDatum(GetTopFullTransactionId());
	values[2] = CStringGetTextDatum(cmd->tag);
	values[3] = CStringGetTextDatum(migsafe_classify_op_name(t->op));
	values[4] = CStringGetTextDatum(migsafe_command_noun(t));
	values[5] = CStringGetTextDatum(migsafe_command_display_name(t));
	values[6] = DirectFunctionCall1(namein, CStringGetDatum(nspname));
	values[7] = NameGetDatum(&form->relname);
	if (t->subid > 0)
		values[8] = DirectFunctionCall1(namein, CStringGetDatum(t->attname));
	else
		nulls[8] = true;
	values[9] = DirectFunctionCall1(pg_get_userbyid,
									ObjectIdGetDatum(form->relowner));
	values[10] = CStringGetTextDatum(method);
	if (storage)
		values[11] = CStringGetTextDatum(storage);
	else
		nulls[11] = true;
	if (keys != NIL)
	{
		Datum	   *elems = palloc(sizeof(Datum) * list_length(keys));
		int			i = 0;
		ListCell   *lc;

		foreach(lc, keys)
			elems[i++] = DirectFunctionCall1(namein, CStringGetDatum(lfirst(lc)));
		values[12] = PointerGetDatum(construct_array(elems, i, NAMEOID,
													 NAMEDATALEN, false,
													 TYPALIGN_CHAR));
	}
	else
		nulls[12] = true;
	if (rows >= 0)
		values[13] = Int64GetDatum((int64) rows);
	else
		nulls[13] = true;
	values[14] = BoolGetDatum(estimated);
	values[15] = Int64GetDatum(Max(bytes, 0));
	more = registry_additions(t->objid, migsafe_catalog_reader_oids(t->objid),
							  t->storage_kept, t->kept_types, t->kept_enums);
	values[16] = DirectFunctionCall2(jsonb_concat,
									 JsonbPGetDatum(relation_definition(t->objid)),
									 JsonbPGetDatum(more));
	if (!migsafe_internal_insert_row(regid, 17, names, types, values, nulls))
		elog(ERROR, "could not record migsafe snapshot " INT64_FORMAT, id);
	ReleaseSysCache(tup);
	t->snapshot_id = id;
}

/*
 * Set the audit note of t.  Snapshots are taken inside SPI, whose memory
 * goes at SPI_finish(): the note lives with the statement's frame.
 */
static void
set_note(MigsafeCommand *cmd, MigsafeTarget *t, char *note)
{
	t->snapshot_note = MemoryContextStrdup(cmd->cxt, note);
}

/* Total size of a relation (with TOAST and indexes) */
static int64
total_size(Oid relid)
{
	return DatumGetInt64(DirectFunctionCall1(pg_total_relation_size,
											 ObjectIdGetDatum(relid)));
}

/*
 * Move a table dropped by a plain DROP TABLE into migsafe_snapshot_<id>,
 * with everything that hangs off it.  Its foreign keys to other tables are
 * dropped (they would keep acting on the snapshot; restore adds them back),
 * it is given to the bootstrap superuser, and only its readers may read it.
 */
static void
take_move(MigsafeCommand *cmd, MigsafeTarget *t)
{
	int64		id = next_id();
	char	   *nsp = migsafe_storage_schema(id);
	char	   *readers = migsafe_catalog_readers(t->objid);
	char	   *orig = quote_qualified_identifier(t->nspname, t->relname);
	List	   *fks = migsafe_catalog_foreign_keys(t->objid);
	List	   *code = migsafe_catalog_owner_code(t->objid);
	ListCell   *lc;
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(t->objid));
	bool		rls = false;

	if (HeapTupleIsValid(tup))
	{
		rls = ((Form_pg_class) GETSTRUCT(tup))->relrowsecurity ||
			((Form_pg_class) GETSTRUCT(tup))->relforcerowsecurity;
		ReleaseSysCache(tup);
	}
	register_snapshot(cmd, t, id, "moved", migsafe_storage_table(id), NIL,
					  t->rows, !t->rows_exact, total_size(t->objid));

	foreach(lc, fks)
		migsafe_internal_run(psprintf("ALTER TABLE %s DROP CONSTRAINT %s",
									  orig, quote_identifier(lfirst(lc))));

	/*
	 * The table will belong to migsafe's superuser: nothing of the owner's
	 * code may stay on it that maintenance runs as the table's owner.  Its
	 * indexes with expressions or predicates and its extended statistics are
	 * dropped (restore builds them again from the definition); triggers,
	 * defaults and constraints only run on writes, which nobody makes.
	 */
	foreach(lc, code)
	{
		ObjectAddress *addr = lfirst(lc);

		migsafe_internal_run(psprintf("DROP %s %s",
									  addr->classId == RelationRelationId ?
									  "INDEX" : "STATISTICS",
									  getObjectIdentity(addr, false)));
	}

	migsafe_internal_run(psprintf("CREATE SCHEMA %s", quote_identifier(nsp)));
	migsafe_internal_run(psprintf("ALTER TABLE %s SET SCHEMA %s", orig,
								  quote_identifier(nsp)));
	migsafe_storage_name_relations(id, t->objid);
	migsafe_internal_run(psprintf("ALTER TABLE %s OWNER TO %s",
								  migsafe_storage_table(id),
								  quote_identifier(GetUserNameFromId(BOOTSTRAP_SUPERUSERID,
																	 false))));
	/* only the owner may read it (see migsafe_catalog_readers): whole */
	if (rls)
		migsafe_internal_run(psprintf("ALTER TABLE %s NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY",
									  migsafe_storage_table(id)));
	migsafe_storage_lock_down(nsp, readers);
	set_note(cmd, t, psprintf("Snapshot " INT64_FORMAT ": the table itself, moved to schema %s.",
							  id, nsp));
}

/*
 * Keep the storage of a table that TRUNCATE empties, or a statement drops,
 * as its snapshot: a new table in migsafe_snapshot_<id> takes the table's
 * heap and TOAST table as they are, and the table gets new, empty ones,
 * which TRUNCATE replaces in turn, or the statement drops with the table
 * (and whatever it takes with it: the cascade runs on an empty table).
 * Nothing is copied: the cost does not depend on the table's size.  The
 * kept table has the table's columns (dropped ones too, which restore
 * ignores; generated and identity ones as plain columns), no indexes,
 * constraints, triggers or defaults; it is given to
 * the bootstrap superuser, and only the table's readers may read it.  A
 * dropped table's snapshot says so in its definition (kept_storage):
 * restore creates the table again from it, as for a copy.
 */
static void
take_swap(MigsafeCommand *cmd, MigsafeTarget *t)
{
	int64		id = next_id();
	char	   *nsp = migsafe_storage_schema(id);
	char	   *readers = migsafe_catalog_readers(t->objid);
	char	   *kept = migsafe_storage_table(id);
	Oid			keptid;

	migsafe_internal_run(psprintf("CREATE SCHEMA %s", quote_identifier(nsp)));
	keptid = migsafe_swap_keep_storage(t->objid);
	migsafe_internal_run(psprintf("ALTER TABLE %s SET SCHEMA %s",
								  quote_qualified_identifier(t->nspname,
															 get_rel_name(keptid)),
								  quote_identifier(nsp)));
	migsafe_internal_run(psprintf("ALTER TABLE %s RENAME TO %s",
								  quote_qualified_identifier(nsp,
															 get_rel_name(keptid)),
								  MIGSAFE_SNAPSHOT_TABLE));
	migsafe_internal_run(psprintf("ALTER TABLE %s OWNER TO %s", kept,
								  quote_identifier(GetUserNameFromId(BOOTSTRAP_SUPERUSERID,
																	 false))));
	/*
	 * a domain, collation or enum the statement drops too: let go of it
	 * now (an enum's labels go in the definition, kept_enums); and
	 * no statistics of a user's range (see keptypes.c)
	 */
	t->kept_enums = migsafe_keptypes_settle(keptid, t->relabel, t->to_oid);
	t->storage_kept = (t->op == MIGSAFE_OP_DROP);
	register_snapshot(cmd, t, id, "moved", kept, NIL, t->rows,
					  !t->rows_exact, total_size(keptid));
	migsafe_storage_lock_down(nsp, readers);

	/*
	 * Nobody makes a column, domain or type of the kept table's row type:
	 * it would keep keptypes.c from converting the kept columns before their
	 * types change (ALTER TABLE refuses a table whose row type a column uses)
	 */
	migsafe_internal_run(psprintf("REVOKE USAGE ON TYPE %s FROM PUBLIC", kept));
	set_note(cmd, t, psprintf("Snapshot " INT64_FORMAT ": the table's storage, moved to schema %s.",
							  id, nsp));
}

/*
 * Append a column of a copy to a select list.  Values of built-in types
 * are copied as they are (with the default collation instead of a user
 * one); values of other types (enums, domains, composites, extension
 * types) as their text output, so that the copy depends on no user
 * object.  format() calls the type's output function, not a cast a role
 * may have defined.
 */
static void
append_copy_column(StringInfo buf, Form_pg_attribute att)
{
	const char *name = quote_identifier(NameStr(att->attname));

	if (buf->len > 0)
		appendStringInfoString(buf, ", ");
	if (MIGSAFE_BUILTIN_OBJECT(att->atttypid))
	{
		if (OidIsValid(att->attcollation) &&
			!MIGSAFE_BUILTIN_OBJECT(att->attcollation))
			appendStringInfo(buf, "%s COLLATE pg_catalog.\"default\" AS %s",
							 name, name);
		else
			appendStringInfoString(buf, name);
	}
	else
		/* format() keeps a domain's collation: the copy's is the default */
		appendStringInfo(buf,
						 "CASE WHEN pg_catalog.num_nulls(%s) OPERATOR(pg_catalog.=) 0"
						 " THEN pg_catalog.format('%%s', %s) END"
						 " COLLATE pg_catalog.\"default\" AS %s",
						 name, name, name);
}

/*
 * The key of a column snapshot: the columns of the primary key, or of a
 * unique index on NOT NULL columns without expressions or predicate, not
 * containing the column itself.  NIL when there is none: the whole row is
 * kept.
 */
static List *
key_columns(Relation rel, AttrNumber skip)
{
	List	   *indexes = RelationGetIndexList(rel);
	Oid			pk = rel->rd_pkindex;
	TupleDesc	desc = RelationGetDescr(rel);
	ListCell   *lc;
	int			pass;

	for (pass = 0; pass < 2; pass++)
	{
		foreach(lc, indexes)
		{
			Oid			indexoid = lfirst_oid(lc);
			HeapTuple	tup;
			Form_pg_index idx;
			List	   *cols = NIL;
			bool		ok;
			int			i;

			if ((pass == 0) != (indexoid == pk))
				continue;
			tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
			if (!HeapTupleIsValid(tup))
				continue;
			idx = (Form_pg_index) GETSTRUCT(tup);
			ok = idx->indisunique && idx->indimmediate && idx->indisvalid &&
				heap_attisnull(tup, Anum_pg_index_indexprs, NULL) &&
				heap_attisnull(tup, Anum_pg_index_indpred, NULL);
			for (i = 0; ok && i < idx->indnkeyatts; i++)
			{
				AttrNumber	attnum = idx->indkey.values[i];
				Form_pg_attribute att;

				if (attnum <= 0 || attnum == skip)
				{
					ok = false;
					break;
				}
				att = TupleDescAttr(desc, attnum - 1);
				if (!att->attnotnull)
					ok = false;
				else
					cols = lappend_int(cols, attnum);
			}
			ReleaseSysCache(tup);
			if (ok && cols != NIL)
				return cols;
		}
	}
	return NIL;
}

/*
 * Estimated size of a copy: the table's size for rows, its share of the
 * row width for a column and its key.
 */
static int64
copy_estimate(MigsafeTarget *t)
{
	Relation	rel;
	TupleDesc	desc;
	List	   *keys;
	double		all = 24;
	double		part = 24;
	int			i;

	if (t->bytes < 0)
		migsafe_catalog_measure(t, true);
	if (t->subid == 0)
		return t->bytes;
	rel = relation_open(t->objid, NoLock);
	desc = RelationGetDescr(rel);
	keys = key_columns(rel, (AttrNumber) t->subid);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		int32		width;

		if (att->attisdropped)
			continue;
		width = get_attavgwidth(t->objid, att->attnum);
		if (width <= 0)
			width = get_typavgwidth(att->atttypid, att->atttypmod);
		all += width;
		if (keys == NIL || att->attnum == t->subid ||
			list_member_int(keys, att->attnum))
			part += width;
	}
	relation_close(rel, NoLock);
	return (int64) (t->bytes * (part / all));
}

/*
 * Fill a copy made by take_copy() with the rows of fromid visible to the
 * latest snapshot, columns attnums in order: values of built-in types as
 * they are, others as their type's output (what append_copy_column()
 * declared as text).  Returns the number of rows.
 *
 * The rows are read and written without the planner: planning a scan of
 * the table evaluates its indexes' expressions and predicates (constant
 * folding of IMMUTABLE functions), which are its owner's code and must
 * never run as migsafe's superuser.  Output functions of types are C
 * functions, which only a superuser can create.  The caller holds a lock
 * on fromid that excludes writers, and created toid in this transaction.
 */
static uint64
fill_copy(Oid fromid, Oid toid, List *attnums)
{
	Relation	from = table_open(fromid, NoLock);
	Relation	to = table_open(toid, NoLock);
	TupleDesc	fdesc = RelationGetDescr(from);
	int			ncols = list_length(attnums);
	FmgrInfo   *out = palloc0(sizeof(FmgrInfo) * Max(ncols, 1));
	bool	   *as_text = palloc0(sizeof(bool) * Max(ncols, 1));
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	TableScanDesc scan = table_beginscan(from, snap, 0, NULL);
	TupleTableSlot *fslot = table_slot_create(from, NULL);
	TupleTableSlot *tslot = MakeSingleTupleTableSlot(RelationGetDescr(to),
													 &TTSOpsVirtual);
	BulkInsertState bistate = GetBulkInsertState();
	CommandId	cid = GetCurrentCommandId(true);
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext,
												 "migsafe copy row",
												 ALLOCSET_DEFAULT_SIZES);
	MemoryContext oldcxt;
	uint64		rows = 0;
	ListCell   *lc;
	int			j;

	Assert(RelationGetDescr(to)->natts == ncols);
	j = 0;
	foreach(lc, attnums)
	{
		Form_pg_attribute att = TupleDescAttr(fdesc, lfirst_int(lc) - 1);

		if (!MIGSAFE_BUILTIN_OBJECT(att->atttypid))
		{
			Oid			outfn;
			bool		varlena;

			getTypeOutputInfo(att->atttypid, &outfn, &varlena);
			fmgr_info(outfn, &out[j]);
			as_text[j] = true;
		}
		j++;
	}

	while (table_scan_getnextslot(scan, ForwardScanDirection, fslot))
	{
		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(rowcxt);
		oldcxt = MemoryContextSwitchTo(rowcxt);
		slot_getallattrs(fslot);
		ExecClearTuple(tslot);
		j = 0;
		foreach(lc, attnums)
		{
			int			k = lfirst_int(lc) - 1;

			tslot->tts_isnull[j] = fslot->tts_isnull[k];
			if (fslot->tts_isnull[k])
				tslot->tts_values[j] = (Datum) 0;
			else if (as_text[j])
				tslot->tts_values[j] =
					CStringGetTextDatum(OutputFunctionCall(&out[j],
														   fslot->tts_values[k]));
			else
				tslot->tts_values[j] = fslot->tts_values[k];
			j++;
		}
		ExecStoreVirtualTuple(tslot);
		table_tuple_insert(to, tslot, cid, 0, bistate);
		MemoryContextSwitchTo(oldcxt);
		rows++;
	}

	FreeBulkInsertState(bistate);
	table_finish_bulk_insert(to, 0);
	ExecDropSingleTupleTableSlot(tslot);
	ExecDropSingleTupleTableSlot(fslot);
	table_endscan(scan);
	UnregisterSnapshot(snap);
	MemoryContextDelete(rowcxt);
	table_close(to, NoLock);
	table_close(from, NoLock);
	return rows;
}

/*
 * Copy the rows of a dropped or truncated table, or the key and values of
 * a column, into migsafe_snapshot_<id>.  The caller holds a lock that
 * excludes writers; the copy reads with the latest snapshot, so it holds
 * every row the change will destroy.
 */
static void
take_copy(MigsafeCommand *cmd, MigsafeTarget *t)
{
	Relation	rel = relation_open(t->objid, NoLock);
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *keys = NIL;
	List	   *keynames = NIL;
	List	   *attnums = NIL;
	StringInfoData cols;
	int64		id;
	char	   *nsp;
	char	   *readers;
	uint64		rows;
	Oid			copyid;
	int			i;

	/* a column's values, or the rows an UPDATE changes, go back by key */
	if (t->subid > 0 || t->op == MIGSAFE_OP_UPDATE)
		keys = key_columns(rel, (AttrNumber) t->subid);
	initStringInfo(&cols);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		if (t->subid > 0 && keys != NIL && att->attnum != t->subid &&
			!list_member_int(keys, att->attnum))
			continue;
		append_copy_column(&cols, att);
		attnums = lappend_int(attnums, att->attnum);
		if (list_member_int(keys, att->attnum))
			keynames = lappend(keynames, pstrdup(NameStr(att->attname)));
	}
	relation_close(rel, NoLock);

	id = next_id();
	nsp = migsafe_storage_schema(id);
	readers = migsafe_catalog_readers(t->objid);
	migsafe_internal_run(psprintf("CREATE SCHEMA %s", quote_identifier(nsp)));

	/*
	 * WITH NO DATA defines the copy from the select list without planning it;
	 * the rows are copied by fill_copy(), which runs no planner either.
	 */
	migsafe_internal_run(psprintf("CREATE TABLE %s AS SELECT %s FROM ONLY %s WITH NO DATA",
								  migsafe_storage_table(id), cols.data,
								  quote_qualified_identifier(t->nspname, t->relname)));
	copyid = get_relname_relid(MIGSAFE_SNAPSHOT_TABLE,
							   get_namespace_oid(nsp, false));
	rows = fill_copy(t->objid, copyid, attnums);


	register_snapshot(cmd, t, id, "copied", migsafe_storage_table(id), keynames,
					  (double) rows, false, total_size(copyid));
	migsafe_storage_lock_down(nsp, readers);
	if (t->subid > 0)
		set_note(cmd, t, psprintf(ngettext("Snapshot " INT64_FORMAT ": the column in " UINT64_FORMAT " row, with %s, copied to schema %s.",
										   "Snapshot " INT64_FORMAT ": the column in " UINT64_FORMAT " rows, with %s, copied to schema %s.",
										   (unsigned long) rows),
								  id, rows,
								  keys != NIL ? "the table's key" : "the rest of the row",
								  nsp));
	else
		set_note(cmd, t, psprintf(ngettext("Snapshot " INT64_FORMAT ": " UINT64_FORMAT " row, copied to schema %s.",
										   "Snapshot " INT64_FORMAT ": " UINT64_FORMAT " rows, copied to schema %s.",
										   (unsigned long) rows),
								  id, rows, nsp));
}

/* Keep a sequence's state, a materialized view's or partitioned table's definition */
static void
take_definition(MigsafeCommand *cmd, MigsafeTarget *t)
{
	int64		id = next_id();

	if (t->relkind == RELKIND_SEQUENCE)
	{
		register_snapshot(cmd, t, id, "state", NULL, NIL, -1, false, 0);
		set_note(cmd, t, psprintf("Snapshot " INT64_FORMAT ": the sequence's state.",
								  id));
	}
	else if (t->relkind == RELKIND_PARTITIONED_TABLE)
	{
		register_snapshot(cmd, t, id, "definition", NULL, NIL, -1, false, 0);
		set_note(cmd, t, psprintf("Snapshot " INT64_FORMAT ": the partitioned table's definition (restore brings its partitions back with it).",
								  id));
	}
	else
	{
		register_snapshot(cmd, t, id, "definition", NULL, NIL,
						  t->rows, !t->rows_exact, 0);
		set_note(cmd, t, psprintf("Snapshot " INT64_FORMAT ": the materialized view's definition (restore runs its query again).",
								  id));
	}
}

/* Refuse a copy larger than migsafe.snapshot_max_copy_size */
static void
check_copy_size(MigsafeTarget *t)
{
	int64		estimate = copy_estimate(t);

	if (migsafe_snapshot_max_copy_size <= 0 ||
		estimate <= (int64) migsafe_snapshot_max_copy_size * 1024)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_MIGSAFE_SNAPSHOT_TOO_LARGE),
			 errmsg("snapshot of %s would copy more than migsafe.snapshot_max_copy_size",
					migsafe_command_description(t)),
			 errdetail("The copy would take about %s; the limit is %s.",
					   text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_size_pretty,
																		  Int64GetDatum(estimate)))),
					   text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_size_pretty,
																		  Int64GetDatum((int64) migsafe_snapshot_max_copy_size * 1024))))),
			 errhint("Back the data up another way and waive the snapshot with SET LOCAL migsafe.skip_snapshot = '%s', or ask a superuser to raise migsafe.snapshot_max_copy_size.",
					 t->ident)));
}

/* Tell the user where the data went */
static void
report_snapshot(MigsafeTarget *t)
{
	ereport(NOTICE,
			(errmsg("migsafe kept snapshot " INT64_FORMAT " of %s",
					t->snapshot_id, migsafe_command_description(t)),
			 errhint("Restore it with SELECT migsafe.restore(" INT64_FORMAT ").",
					 t->snapshot_id)));
}

/* The same object's snapshot taken by an enclosing statement, or NULL */
static MigsafeTarget *
enclosing_snapshot(MigsafeCommand *cmd, MigsafeTarget *t)
{
	MigsafeCommand *outer;

	for (outer = cmd->outer; outer != NULL; outer = outer->outer)
	{
		ListCell   *lc;

		foreach(lc, outer->targets)
		{
			MigsafeTarget *o = lfirst(lc);

			if (o->classid == t->classid && o->objid == t->objid &&
				o->subid == t->subid && o->snapshot_id > 0)
				return o;
		}
	}
	return NULL;
}

/*
 * Take the snapshots of todo (moving those in moves, keeping the storage
 * of those in swaps), then apply limits
 */
static void
take_all(MigsafeCommand *cmd, List *todo, List *moves, List *swaps)
{
	ListCell   *lc;

	SPI_connect();
	foreach(lc, todo)
	{
		MigsafeTarget *t = lfirst(lc);

		if (list_member_ptr(moves, t))
			take_move(cmd, t);
		else if (list_member_ptr(swaps, t))
			take_swap(cmd, t);
		else if (t->relkind == RELKIND_RELATION)
			take_copy(cmd, t);
		else
			take_definition(cmd, t);
	}
	migsafe_storage_apply_limits();
	SPI_finish();
}

/* take_all() in an internal section */
static void
take_internal(MigsafeCommand *cmd, List *todo, List *moves, List *swaps)
{
	MigsafeInternal state;

	migsafe_internal_begin(&state);
	PG_TRY();
	{
		take_all(cmd, todo, moves, swaps);
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
 * The targets of cmd that need a snapshot, and (for the tree to be built
 * again) the partitioned tables dropped with them.  Targets an enclosing
 * statement kept already (the ALTER SEQUENCE of an identity's RESTART)
 * point at that snapshot instead.
 */
static List *
targets_to_keep(MigsafeCommand *cmd)
{
	List	   *todo = NIL;
	ListCell   *lc;

	foreach(lc, cmd->targets)
	{
		MigsafeTarget *t = lfirst(lc);
		MigsafeTarget *kept = enclosing_snapshot(cmd, t);

		if (kept != NULL)
		{
			t->snapshot_id = kept->snapshot_id;
			t->snapshot_note = psprintf("Kept by the enclosing statement in snapshot " INT64_FORMAT ".",
										kept->snapshot_id);
		}
		else if (needs_snapshot(t))
			todo = lappend(todo, t);
	}
	if (todo == NIL)
		return NIL;

	foreach(lc, cmd->targets)
	{
		MigsafeTarget *t = lfirst(lc);

		if (t->classid == RelationRelationId && !t->protected &&
			t->relkind == RELKIND_PARTITIONED_TABLE && t->subid == 0 &&
			t->op == MIGSAFE_OP_DROP && migsafe_snapshot &&
			get_rel_namespace(t->objid) != migsafe_catalog_namespace())
			todo = lappend(todo, t);
	}
	return todo;
}

/*
 * The targets of a plain DROP TABLE to move rather than copy: tables it
 * names, taking nothing outside themselves with them.  *named gets the
 * relations the statement names, in its order.
 */
static List *
targets_to_move(MigsafeCommand *cmd, Node *parsetree, List *todo,
				List **named)
{
	List	   *moves = NIL;
	ListCell   *lc;

	*named = NIL;
	if (parsetree == NULL || !IsA(parsetree, DropStmt) ||
		((DropStmt *) parsetree)->removeType != OBJECT_TABLE ||
		((DropStmt *) parsetree)->concurrent)
		return NIL;
	*named = named_relations((DropStmt *) parsetree);
	if (!drop_is_self_contained(cmd, *named))
		return NIL;
	foreach(lc, todo)
	{
		MigsafeTarget *t = lfirst(lc);

		if (t->subid == 0 && list_member_oid(*named, t->objid) &&
			movable(t->objid) && !has_foreign_dependents(t->objid, *named))
			moves = lappend(moves, t);
	}
	return moves;
}

/* A copy of a DROP TABLE without the tables that are moved */
static PlannedStmt *
drop_without(PlannedStmt *pstmt, List *named, List *moves)
{
	PlannedStmt *copy = copyObject(pstmt);
	DropStmt   *stmt = (DropStmt *) copy->utilityStmt;
	List	   *objects = NIL;
	ListCell   *lc;
	ListCell   *oc;

	forboth(lc, stmt->objects, oc, named)
	{
		bool		moved = false;
		ListCell   *mc;

		foreach(mc, moves)
			if (((MigsafeTarget *) lfirst(mc))->objid == lfirst_oid(oc))
			moved = true;
		if (!moved)
			objects = lappend(objects, lfirst(lc));
	}
	stmt->objects = objects;
	return copy;
}

/* Owned sequences were kept with their table (moved, or its definition) */
static void
link_owned_sequences(MigsafeCommand *cmd, List *todo)
{
	ListCell   *lc;

	foreach(lc, cmd->targets)
	{
		MigsafeTarget *t = lfirst(lc);
		Oid			owner;
		int32		col;
		ListCell   *oc;

		if (!t->follows || t->relkind != RELKIND_SEQUENCE ||
			!migsafe_catalog_sequence_owner(t->objid, &owner, &col))
			continue;
		foreach(oc, todo)
		{
			MigsafeTarget *o = lfirst(oc);

			if (o->objid == owner && o->snapshot_id > 0 && t->snapshot_id == 0)
			{
				t->snapshot_id = o->snapshot_id;
				t->snapshot_note = psprintf("Kept with its table in snapshot " INT64_FORMAT ".",
											o->snapshot_id);
			}
		}
	}
}

/*
 * migsafe_snapshot_take
 *
 * Called by migsafe_guard_begin() after cmd's targets are locked and
 * decided, before the statement runs: keep what each approved target
 * loses.  Returns the statement to run in pstmt's place: pstmt itself, or,
 * when a DROP TABLE's tables were moved rather than copied, the same DROP
 * without them (they are gone already).  pstmt is NULL for a DELETE or
 * UPDATE (migsafe.guard_dml): its tables are copied.  Raises an error, before anything
 * changed, when a copy would exceed migsafe.snapshot_max_copy_size.
 */
PlannedStmt *
migsafe_snapshot_take(MigsafeCommand *cmd, PlannedStmt *pstmt)
{
	List	   *todo = targets_to_keep(cmd);
	List	   *moves;
	List	   *swaps = NIL;
	List	   *named;
	ListCell   *lc;
	PlannedStmt *run = pstmt;

	if (todo == NIL)
		return pstmt;
	moves = targets_to_move(cmd, pstmt ? pstmt->utilityStmt : NULL, todo,
							&named);

	/*
	 * The tables a TRUNCATE empties keep their storage: TRUNCATE replaces it
	 * anyway.  So do the tables a statement drops and does not move (a
	 * cascade, DROP SCHEMA, DROP OWNED, partitions...): it drops them with
	 * new, empty storage.
	 */
	if (pstmt != NULL && pstmt->utilityStmt != NULL &&
		!fires_before_truncate(cmd, pstmt->utilityStmt))
	{
		foreach(lc, todo)
		{
			MigsafeTarget *t = lfirst(lc);

			if (!list_member_ptr(moves, t) && swappable(cmd, t))
				swaps = lappend(swaps, t);
		}
	}

	/* refuse oversized copies before anything is done */
	foreach(lc, todo)
	{
		MigsafeTarget *t = lfirst(lc);

		if (t->relkind == RELKIND_RELATION && !list_member_ptr(moves, t) &&
			!list_member_ptr(swaps, t))
			check_copy_size(t);
	}
	if (moves != NIL)
		run = drop_without(pstmt, named, moves);

	take_internal(cmd, todo, moves, swaps);
	link_owned_sequences(cmd, todo);
	foreach(lc, todo)
		report_snapshot(lfirst(lc));
	return run;
}

/*
 * migsafe_snapshot_verify
 *
 * Called after cmd's statement succeeded: every table whose storage was
 * taken for its snapshot because the statement drops it must be gone.  One
 * still there (another session changed what the statement drops between
 * its dry run and its locks: an owner or a partition changed) would be
 * left empty, its rows in the snapshot: the statement fails instead,
 * changing nothing.
 */
void
migsafe_snapshot_verify(MigsafeCommand *cmd)
{
	ListCell   *lc;

	foreach(lc, cmd->targets)
	{
		MigsafeTarget *t = lfirst(lc);

		if (t->storage_kept &&
			SearchSysCacheExists1(RELOID, ObjectIdGetDatum(t->objid)))
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("%s did not drop table \"%s.%s\", whose data migsafe kept",
							cmd->tag, t->nspname, t->relname),
					 errdetail("What the statement drops changed while it waited for its locks; nothing was changed."),
					 errhint("Run the statement again.")));
	}
}

/*
 * migsafe_snapshot_late
 *
 * The object-access hook decided a target the ProcessUtility hook did not
 * foresee (it was not part of the statement when it started).  Its data is
 * being dropped right now, too late to copy it safely: unless it holds no
 * data or needs no snapshot, refuse.
 */
void
migsafe_snapshot_late(MigsafeCommand *cmd, MigsafeTarget *t)
{
	if (!needs_snapshot(t))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_MIGSAFE_NOT_APPROVED),
			 errmsg("migsafe cannot keep a snapshot of %s",
					migsafe_command_description(t)),
			 errdetail("%s destroys it by a path migsafe did not see before the statement started.",
					   cmd->tag),
			 errhint("Run the change again; if it still fails, waive the snapshot with SET LOCAL migsafe.skip_snapshot = '%s'.",
					 t->ident)));
}
