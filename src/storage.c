/*-------------------------------------------------------------------------
 *
 * storage.c
 *	  Where snapshots keep their data: the schemas, who may read them,
 *	  dropping and retiring them, and the limits on what is kept.
 *
 * The data of snapshot <id> lives in schema migsafe_snapshot_<id>, owned
 * by the bootstrap superuser, readable only by the roles that could read
 * the original; migsafe.snapshots registers it.  Its relations have names
 * of their own: the table is "kept", a moved table's indexes and sequences
 * kept_index_<n> and kept_sequence_<n>, their original names recorded in
 * the registry, so that a catalog query by name (information_schema, a
 * LIKE on relname) lists no second copy of the user's relations.  Retiring a snapshot
 * (purged by age or on request, evicted for space) drops its schema, marks
 * its row and audits it; storage that other objects depend on is kept,
 * with a WARNING.  Everything here runs inside an internal section,
 * connected to SPI, except the registry's trigger.
 *
 * Calls internal.c, audit.c (rows for what it retires), load.c (a restore
 * loading the registry) and command.c (the registry's TRUNCATE trigger).
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/storage.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "migsafe.h"
#include "audit.h"
#include "catalog.h"
#include "command.h"
#include "internal.h"
#include "load.h"
#include "storage.h"

/* The schema that holds the data of snapshot id */
char	   *
migsafe_storage_schema(int64 id)
{
	return psprintf(MIGSAFE_SNAPSHOT_SCHEMA_PREFIX INT64_FORMAT, id);
}

/* The table holding the rows of snapshot id, qualified and quoted */
char	   *
migsafe_storage_table(int64 id)
{
	return quote_qualified_identifier(migsafe_storage_schema(id),
									  MIGSAFE_SNAPSHOT_TABLE);
}

static int	text_cmp(const ListCell *a, const ListCell *b);

/* A relation of a snapshot's schema (see schema_relations) */
typedef struct StorageRel
{
	Oid			oid;
	char		relkind;
	char	   *relname;
	Oid			relowner;
	Acl		   *relacl;			/* NULL for none */
} StorageRel;

/* list_sort comparator of StorageRel by OID */
static int
storage_rel_cmp(const ListCell *a, const ListCell *b)
{
	Oid			x = ((StorageRel *) lfirst(a))->oid;
	Oid			y = ((StorageRel *) lfirst(b))->oid;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * The relations of schema nspoid (a List of StorageRel *), in OID order,
 * read from pg_class without SQL: the schemas of snapshots hold a few
 * relations, and planning a query on pg_class cost more than the rest of
 * a snapshot.
 */
static List *
schema_relations(Oid nspoid)
{
	Relation	rel = table_open(RelationRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *result = NIL;

	ScanKeyInit(&key, Anum_pg_class_relnamespace, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(nspoid));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tup);
		StorageRel *r = palloc(sizeof(StorageRel));
		bool		isnull;
		Datum		acl = heap_getattr(tup, Anum_pg_class_relacl,
									   RelationGetDescr(rel), &isnull);

		r->oid = form->oid;
		r->relkind = form->relkind;
		r->relname = pstrdup(NameStr(form->relname));
		r->relowner = form->relowner;
		r->relacl = isnull ? NULL : DatumGetAclPCopy(acl);
		result = lappend(result, r);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	list_sort(result, storage_rel_cmp);
	return result;
}

/*
 * Add to *names the grantees of acl but owner, quoted for GRANT and
 * REVOKE (PUBLIC for everyone), once each: what aclexplode() lists
 */
static void
add_grantees(List **names, Acl *acl, Oid owner)
{
	AclItem    *items;
	int			i;

	if (acl == NULL)
		return;
	items = ACL_DAT(acl);
	for (i = 0; i < ACL_NUM(acl); i++)
	{
		Oid			grantee = items[i].ai_grantee;
		char	   *name;
		ListCell   *lc;
		bool		found = false;

		if (grantee == owner || ACLITEM_GET_PRIVS(items[i]) == 0)
			continue;
		name = grantee == ACL_ID_PUBLIC ? "PUBLIC" :
			(char *) quote_identifier(DatumGetCString(DirectFunctionCall1(pg_get_userbyid,
																		  ObjectIdGetDatum(grantee))));
		foreach(lc, *names)
		{
			if (strcmp(lfirst(lc), name) == 0)
				found = true;
		}
		if (!found)
			*names = lappend(*names, pstrdup(name));
	}
}

/* Whether name is one of the new names of renames (see rename_relations) */
static bool
is_new_name(List *renames, const char *name)
{
	ListCell   *lc;

	foreach(lc, renames)
	{
		if (strcmp(((char **) lfirst(lc))[2], name) == 0)
			return true;
	}
	return false;
}

/* A row for rename_relations() */
static char **
rename_row(const char *kind, const char *from, const char *to)
{
	char	  **r = palloc(sizeof(char *) * 3);

	r[0] = pstrdup(kind);
	r[1] = pstrdup(from);
	r[2] = pstrdup(to);
	return r;
}

/*
 * Rename relations of schema nsp: each row of renames is {kind (TABLE,
 * INDEX or SEQUENCE), from, to}.  When a new name is the old name of another of
 * them, everything goes through a name made of the relation's OID first,
 * so that no rename collides with one still to come.
 */
static void
rename_relations(const char *nsp, List *renames)
{
	Oid			nspid = get_namespace_oid(nsp, false);
	bool		two_steps = false;
	ListCell   *lc;
	ListCell   *lc2;

	foreach(lc, renames)
	{
		foreach(lc2, renames)
		{
			if (lc != lc2 &&
				strcmp(((char **) lfirst(lc))[2], ((char **) lfirst(lc2))[1]) == 0)
				two_steps = true;
		}
	}
	foreach(lc, renames)
	{
		char	  **r = lfirst(lc);
		char	   *from = r[1];

		if (two_steps && strcmp(from, r[2]) != 0)
		{
			Oid			relid = get_relname_relid(from, nspid);
			char	   *step = psprintf("migsafe_renaming_%u", relid);
			int			n = 1;

			/* a name nothing in the schema has, nor will have */
			while (OidIsValid(get_relname_relid(step, nspid)) ||
				   is_new_name(renames, step))
				step = psprintf("migsafe_renaming_%u_%d", relid, ++n);

			migsafe_internal_run(psprintf("ALTER %s %s RENAME TO %s", r[0],
										  quote_qualified_identifier(nsp, from),
										  quote_identifier(step)));
			r[1] = step;
		}
	}
	foreach(lc, renames)
	{
		char	  **r = lfirst(lc);

		if (strcmp(r[1], r[2]) == 0)
			continue;
		migsafe_internal_run(psprintf("ALTER %s %s RENAME TO %s", r[0],
									  quote_qualified_identifier(nsp, r[1]),
									  quote_identifier(r[2])));
	}
}

/*
 * migsafe_storage_name_relations
 *
 * Give a table moved into the schema of snapshot id, and the indexes and
 * sequences that moved with it, the names of snapshot storage: the table
 * becomes "kept", the others kept_index_<n> and kept_sequence_<n>, n in
 * OID order.  The original names are added to the snapshot's definition
 * (storage_names: [{kept, name}]) for migsafe_storage_names_back().
 */
void
migsafe_storage_name_relations(int64 id, Oid relid)
{
	char	   *nsp = migsafe_storage_schema(id);
	List	   *rows;
	ListCell   *lc;
	StringInfoData names;
	int			nseq = 0;
	int			nindex = 0;

	rows = NIL;
	foreach(lc, schema_relations(get_namespace_oid(nsp, false)))
	{
		StorageRel *r = lfirst(lc);
		bool		seq = (r->relkind == RELKIND_SEQUENCE);

		if (r->oid == relid ||
			(r->relkind != RELKIND_INDEX && r->relkind != RELKIND_SEQUENCE))
			continue;
		rows = lappend(rows, rename_row(seq ? "SEQUENCE" : "INDEX", r->relname,
										psprintf("%s%d",
												 seq ? "kept_sequence_" : "kept_index_",
												 seq ? ++nseq : ++nindex)));
	}
	initStringInfo(&names);
	appendStringInfoChar(&names, '[');
	foreach(lc, rows)
	{
		char	  **r = lfirst(lc);

		if (names.len > 1)
			appendStringInfoString(&names, ", ");
		appendStringInfoString(&names, "{\"kept\": ");
		escape_json(&names, r[2]);
		appendStringInfoString(&names, ", \"name\": ");
		escape_json(&names, r[1]);
		appendStringInfoChar(&names, '}');
	}
	appendStringInfoChar(&names, ']');
	rename_relations(nsp, lappend(rows, rename_row("TABLE", get_rel_name(relid),
												   MIGSAFE_SNAPSHOT_TABLE)));
	if (rows != NIL)
	{
		Oid			types[2] = {INT8OID, TEXTOID};
		Datum		args[2];

		args[0] = Int64GetDatum(id);
		args[1] = CStringGetTextDatum(names.data);
		(void) migsafe_internal_exec("UPDATE migsafe.snapshots"
									 "   SET definition = definition OPERATOR(pg_catalog.||)"
									 "       pg_catalog.jsonb_build_object('storage_names', $2::pg_catalog.jsonb)"
									 " WHERE id OPERATOR(pg_catalog.=) $1",
									 2, types, args, NULL, 0);
	}
}

/*
 * migsafe_storage_names_back
 *
 * Give the relations of snapshot id's storage their original names again,
 * in its schema: the table relid becomes relname, the indexes and
 * sequences named by migsafe_storage_name_relations() theirs.
 * Snapshots taken before storage had names of its own have none to give
 * back but the table's.
 */
void
migsafe_storage_names_back(int64 id, Oid relid, const char *relname)
{
	char	   *nsp = migsafe_storage_schema(id);
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	List	   *rows;

	values[0] = Int64GetDatum(id);
	rows = migsafe_internal_rows("SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'INDEX' END,"
								 "       n OPERATOR(pg_catalog.->>) 'kept', n OPERATOR(pg_catalog.->>) 'name'"
								 "  FROM migsafe.snapshots s,"
								 "       pg_catalog.jsonb_array_elements(s.definition OPERATOR(pg_catalog.->) 'storage_names') n,"
								 "       pg_catalog.pg_class c"
								 " WHERE s.id OPERATOR(pg_catalog.=) $1"
								 "   AND c.relnamespace OPERATOR(pg_catalog.=) ('migsafe_snapshot_' OPERATOR(pg_catalog.||) s.id)::pg_catalog.regnamespace"
								 "   AND c.relname OPERATOR(pg_catalog.=) (n OPERATOR(pg_catalog.->>) 'kept')"
								 " ORDER BY c.oid",
								 1, argtypes, values, 3);
	rows = lappend(rows, rename_row("TABLE", get_rel_name(relid), relname));
	rename_relations(nsp, rows);
}

/*
 * migsafe_storage_lock_down
 *
 * Make snapshot storage readable by readers only: revoke every privilege
 * on the schema and on the tables and sequences in it (column privileges
 * and any default privileges included) from everyone but the owner, then
 * grant USAGE and SELECT to readers (a list for GRANT, or NULL).
 */
void
migsafe_storage_lock_down(const char *nspname, const char *readers)
{
	Oid			nspoid = get_namespace_oid(nspname, false);
	char	   *grantees = NULL;
	const char *nsp = quote_identifier(nspname);
	List	   *names = NIL;
	ListCell   *lc;
	HeapTuple	tup;

	/* the grantees of the relations, of their columns and of the schema */
	foreach(lc, schema_relations(nspoid))
	{
		StorageRel *r = lfirst(lc);
		Relation	attrel = table_open(AttributeRelationId, AccessShareLock);
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	atttup;

		add_grantees(&names, r->relacl, r->relowner);
		ScanKeyInit(&key, Anum_pg_attribute_attrelid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(r->oid));
		scan = systable_beginscan(attrel, AttributeRelidNumIndexId, true,
								  NULL, 1, &key);
		while (HeapTupleIsValid(atttup = systable_getnext(scan)))
		{
			bool		isnull;
			Datum		acl = heap_getattr(atttup, Anum_pg_attribute_attacl,
										   RelationGetDescr(attrel), &isnull);

			if (!isnull)
				add_grantees(&names, DatumGetAclP(acl), r->relowner);
		}
		systable_endscan(scan);
		table_close(attrel, AccessShareLock);
	}
	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nspoid));
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		acl = SysCacheGetAttr(NAMESPACEOID, tup,
										  Anum_pg_namespace_nspacl, &isnull);

		if (!isnull)
			add_grantees(&names, DatumGetAclP(acl),
						 ((Form_pg_namespace) GETSTRUCT(tup))->nspowner);
		ReleaseSysCache(tup);
	}
	if (names != NIL)
	{
		StringInfoData buf;

		list_sort(names, text_cmp);
		initStringInfo(&buf);
		foreach(lc, names)
			appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
							 (char *) lfirst(lc));
		grantees = buf.data;
	}
	if (grantees != NULL)
	{
		migsafe_internal_run(psprintf("REVOKE ALL ON ALL TABLES IN SCHEMA %s FROM %s",
									  nsp, grantees));
		migsafe_internal_run(psprintf("REVOKE ALL ON ALL SEQUENCES IN SCHEMA %s FROM %s",
									  nsp, grantees));
		migsafe_internal_run(psprintf("REVOKE ALL ON SCHEMA %s FROM %s",
									  nsp, grantees));
	}
	if (readers != NULL)
	{
		migsafe_internal_run(psprintf("GRANT USAGE ON SCHEMA %s TO %s",
									  nsp, readers));
		migsafe_internal_run(psprintf("GRANT SELECT ON ALL TABLES IN SCHEMA %s TO %s",
									  nsp, readers));
	}
}

/* list_sort comparator of C strings */
static int
text_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp(lfirst(a), lfirst(b));
}

/*
 * outside_dependents
 *
 * The objects outside schema nspoid that depend on a relation or type in
 * it, described and comma-separated, or NULL when there is none.  The
 * schema of each dependent comes from catalog.c's one table of owners.
 */
static char *
outside_dependents(Oid nspoid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(nspoid)};
	List	   *found = NIL;
	List	   *unique = NIL;
	ListCell   *lc;
	StringInfoData buf;

	foreach(lc, migsafe_internal_rows("SELECT d.classid, d.objid, d.objsubid"
									  "  FROM pg_catalog.pg_depend d"
									  " WHERE ((d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
									  "         AND d.refobjid IN (SELECT c.oid FROM pg_catalog.pg_class c"
									  "                             WHERE c.relnamespace OPERATOR(pg_catalog.=) $1))"
									  "     OR (d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass"
									  "         AND d.refobjid IN (SELECT t.oid FROM pg_catalog.pg_type t"
									  "                             WHERE t.typnamespace OPERATOR(pg_catalog.=) $1)))"
									  "   AND d.deptype OPERATOR(pg_catalog.<>) 'i'",
									  1, argtypes, values, 3))
	{
		char	  **row = lfirst(lc);
		ObjectAddress addr;

		ObjectAddressSubSet(addr, (Oid) strtoul(row[0], NULL, 10),
							(Oid) strtoul(row[1], NULL, 10), atoi(row[2]));
		if (migsafe_catalog_object_namespace(addr.classId, addr.objectId) != nspoid)
			found = lappend(found, getObjectDescription(&addr, false));
	}
	if (found == NIL)
		return NULL;
	list_sort(found, text_cmp);
	initStringInfo(&buf);
	foreach(lc, found)
	{
		if (unique != NIL && strcmp(llast(unique), lfirst(lc)) == 0)
			continue;
		unique = lappend(unique, lfirst(lc));
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", (char *) lfirst(lc));
	}
	return buf.data;
}

/*
 * migsafe_storage_drop
 *
 * Drop the storage of snapshot id, if it has any left.  Objects of others
 * that depend on it (a view on the snapshot's table, a column of its row
 * type) are never dropped with it: the storage is then kept, with a
 * WARNING naming them, and false is returned.
 */
bool
migsafe_storage_drop(int64 id)
{
	char	   *nsp = migsafe_storage_schema(id);
	Oid			nspoid = get_namespace_oid(nsp, true);
	char	   *outside;

	if (!OidIsValid(nspoid))
		return true;
	outside = outside_dependents(nspoid);
	if (outside != NULL)
	{
		ereport(WARNING,
				(errmsg("the data of migsafe snapshot " INT64_FORMAT " is kept in schema \"%s\"",
						id, nsp),
				 errdetail("Other objects depend on it: %s.", outside),
				 errhint("Drop or change them, then drop the schema.")));
		return false;
	}
	migsafe_internal_run(psprintf("DROP SCHEMA %s CASCADE", quote_identifier(nsp)));
	return true;
}

/*
 * migsafe_storage_retire
 *
 * Evict or purge one snapshot: drop its storage, mark it, audit it.  Runs
 * in an internal section, connected to SPI.
 */
bool
migsafe_storage_retire(int64 id, const char *status, const char *tag,
					   const char *why)
{
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(id), CStringGetTextDatum(status)};
	int			ret;
	char	   *type;
	char	   *identity;

	/*
	 * Lock the snapshot's row first: a restore holds it, and one that
	 * committed leaves it no longer kept.
	 */
	if (migsafe_internal_exec("SELECT 1 FROM migsafe.snapshots"
							  " WHERE id OPERATOR(pg_catalog.=) $1"
							  "   AND status OPERATOR(pg_catalog.=) 'kept' FOR UPDATE",
							  1, argtypes, values, NULL, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not lock migsafe snapshot " INT64_FORMAT, id);
	if (SPI_processed == 0)
		return false;
	if (!migsafe_storage_drop(id))
		return false;
	ret = migsafe_internal_exec("UPDATE migsafe.snapshots"
								"   SET status = $2,"
								"       status_changed_at = pg_catalog.clock_timestamp(),"
								"       status_changed_by = pg_catalog.session_user()"
								" WHERE id OPERATOR(pg_catalog.=) $1"
								" RETURNING object_type, object_identity",
								2, argtypes, values, NULL, 0);
	if (ret != SPI_OK_UPDATE_RETURNING || SPI_processed != 1)
		elog(ERROR, "could not mark migsafe snapshot " INT64_FORMAT, id);
	type = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	identity = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	migsafe_audit_event(tag, id, type, identity,
						psprintf("Snapshot " INT64_FORMAT " %s: %s.", id,
								 status, why));
	return true;
}

/* migsafe.snapshot_retention as an interval */
Datum
migsafe_storage_retention(void)
{
	return DirectFunctionCall3(interval_in,
							   CStringGetDatum(psprintf("%d seconds",
														migsafe_snapshot_retention)),
							   ObjectIdGetDatum(InvalidOid),
							   Int32GetDatum(-1));
}

/* list_sort comparator of int64 * */
static int
id_cmp(const ListCell *a, const ListCell *b)
{
	int64		x = *(int64 *) lfirst(a);
	int64		y = *(int64 *) lfirst(b);

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * migsafe_storage_expired
 *
 * The ids (as text) of the kept snapshots older than an interval, oldest
 * first; with spare_current, not those of the current transaction.  Reads
 * migsafe.snapshots with the latest snapshot, as a query through
 * migsafe_internal_exec() would, but without SQL: planning one cost as
 * much as a small table's snapshot.  Runs in an internal section.
 */
List	   *
migsafe_storage_expired(Datum older_than, bool spare_current)
{
	Oid			regid = get_relname_relid("snapshots", migsafe_catalog_namespace());
	Relation	rel;
	TupleDesc	desc;
	AttrNumber	id_att = InvalidAttrNumber;
	AttrNumber	status_att = InvalidAttrNumber;
	AttrNumber	created_att = InvalidAttrNumber;
	AttrNumber	xid_att = InvalidAttrNumber;
	TimestampTz cutoff;
	uint64		current = 0;
	Snapshot	snap;
	TableScanDesc scan;
	TupleTableSlot *slot;
	List	   *found = NIL;
	List	   *ids = NIL;
	ListCell   *lc;
	int			i;

	if (!OidIsValid(regid))
		elog(ERROR, "could not read migsafe.snapshots");
	rel = table_open(regid, AccessShareLock);
	desc = RelationGetDescr(rel);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		if (strcmp(NameStr(att->attname), "id") == 0 && att->atttypid == INT8OID)
			id_att = att->attnum;
		else if (strcmp(NameStr(att->attname), "status") == 0 && att->atttypid == TEXTOID)
			status_att = att->attnum;
		else if (strcmp(NameStr(att->attname), "created_at") == 0 &&
				 att->atttypid == TIMESTAMPTZOID)
			created_att = att->attnum;
		else if (strcmp(NameStr(att->attname), "xid") == 0 && att->atttypid == XID8OID)
			xid_att = att->attnum;
	}
	if (id_att == InvalidAttrNumber || status_att == InvalidAttrNumber ||
		created_att == InvalidAttrNumber || xid_att == InvalidAttrNumber)
		elog(ERROR, "could not read migsafe.snapshots");

	cutoff = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
													 TimestampTzGetDatum(GetCurrentTimestamp()),
													 older_than));
	if (spare_current)
		current = U64FromFullTransactionId(GetTopFullTransactionId());

	/* what the transaction did so far counts, as for migsafe_internal_exec() */
	CommandCounterIncrement();
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snap, 0, NULL);
	slot = table_slot_create(rel, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		d;
		int64	   *id;

		d = slot_getattr(slot, status_att, &isnull);
		if (isnull || strcmp(TextDatumGetCString(d), "kept") != 0)
			continue;
		d = slot_getattr(slot, created_att, &isnull);
		if (isnull || DatumGetTimestampTz(d) > cutoff)
			continue;
		if (spare_current)
		{
			d = slot_getattr(slot, xid_att, &isnull);
			if (!isnull &&
				U64FromFullTransactionId(DatumGetFullTransactionId(d)) == current)
				continue;
		}
		d = slot_getattr(slot, id_att, &isnull);
		if (isnull)
			continue;
		id = palloc(sizeof(int64));
		*id = DatumGetInt64(d);
		found = lappend(found, id);
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(rel, NoLock);

	list_sort(found, id_cmp);
	foreach(lc, found)
		ids = lappend(ids, psprintf(INT64_FORMAT, *(int64 *) lfirst(lc)));
	return ids;
}

/*
 * migsafe_storage_kept
 *
 * How many snapshots migsafe keeps (status 'kept'), with the ids of the
 * first max of them, as "1, 2, 3", in *ids (NULL when none).  Runs in an
 * internal section, connected to SPI.
 */
int64
migsafe_storage_kept(int max, char **ids)
{
	StringInfoData buf;
	uint64		i;

	if (migsafe_internal_exec("SELECT id FROM migsafe.snapshots"
							  " WHERE status OPERATOR(pg_catalog.=) 'kept'"
							  " ORDER BY id",
							  0, NULL, NULL, NULL, 0) < 0)
		elog(ERROR, "could not read migsafe.snapshots");
	*ids = NULL;
	if (SPI_processed == 0)
		return 0;
	initStringInfo(&buf);
	for (i = 0; i < SPI_processed && i < max; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "",
						 SPI_getvalue(SPI_tuptable->vals[i],
									  SPI_tuptable->tupdesc, 1));
	*ids = buf.data;
	return (int64) SPI_processed;
}

/*
 * migsafe_storage_apply_limits
 *
 * Apply migsafe.snapshot_retention and migsafe.snapshot_max_total_size
 * after new snapshots were taken: purge the expired ones, then evict the
 * oldest until the total fits.  Snapshots of the current transaction are
 * never evicted (a snapshot larger than the cap alone is kept).  Runs in
 * an internal section, connected to SPI.
 */
void
migsafe_storage_apply_limits(void)
{
	List	   *ids = NIL;
	ListCell   *lc;
	uint64		i;

	if (migsafe_snapshot_retention > 0)
	{
		ids = migsafe_storage_expired(migsafe_storage_retention(), true);
		foreach(lc, ids)
			migsafe_storage_retire(pg_strtoint64(lfirst(lc)), "purged", "PURGE SNAPSHOT",
								   "older than migsafe.snapshot_retention");
	}

	if (migsafe_snapshot_max_total_size > 0)
	{
		int64		cap = (int64) migsafe_snapshot_max_total_size * 1024 * 1024;
		int64		total = 0;
		List	   *sizes = NIL;
		ListCell   *sc;

		ids = NIL;
		if (migsafe_internal_exec("SELECT id, size_bytes,"
								  "       xid IS NOT DISTINCT FROM pg_catalog.pg_current_xact_id()"
								  "  FROM migsafe.snapshots"
								  " WHERE status OPERATOR(pg_catalog.=) 'kept' ORDER BY id",
								  0, NULL, NULL, NULL, 0) < 0)
			elog(ERROR, "could not read migsafe.snapshots");
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			int64		size = pg_strtoint64(SPI_getvalue(tup, SPI_tuptable->tupdesc, 2));

			total += size;
			if (strcmp(SPI_getvalue(tup, SPI_tuptable->tupdesc, 3), "t") != 0)
			{
				ids = lappend(ids, SPI_getvalue(tup, SPI_tuptable->tupdesc, 1));
				sizes = lappend(sizes, SPI_getvalue(tup, SPI_tuptable->tupdesc, 2));
			}
		}
		forboth(lc, ids, sc, sizes)
		{
			if (total <= cap)
				break;
			/* one that others depend on is kept: the next oldest goes */
			if (migsafe_storage_retire(pg_strtoint64(lfirst(lc)), "evicted", "EVICT SNAPSHOT",
									   "the oldest snapshot, over migsafe.snapshot_max_total_size"))
				total -= pg_strtoint64(lfirst(sc));
		}
	}
}

PG_FUNCTION_INFO_V1(migsafe_snapshots_guard);

/*
 * migsafe_snapshots_guard
 *
 * Trigger function of migsafe.snapshots: only migsafe writes it.
 */
Datum
migsafe_snapshots_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "migsafe_snapshots_guard: not called by trigger manager");
	/* an approved TRUNCATE (the ProcessUtility hook decided it) */
	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event) &&
		migsafe_command_truncate_approved(RelationGetRelid(trigdata->tg_relation)))
		return PointerGetDatum(NULL);
	if (migsafe_internal_active() || migsafe_internal_writing_log())
	{
		if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
			return PointerGetDatum(trigdata->tg_newtuple);
		return PointerGetDatum(trigdata->tg_trigtuple);
	}
	if (migsafe_load_allowed(trigdata))
	{
		/* a restore loading a dump's rows (see load.c for the rule) */
		bool		first;
		HeapTuple	tuple = migsafe_load_snapshot_row(trigdata, &first);

		if (first)
			migsafe_audit_load("migsafe.snapshots");
		return PointerGetDatum(tuple);
	}
	ereport(ERROR,
			(errcode(ERRCODE_MIGSAFE_AUDIT_APPEND_ONLY),
			 errmsg("table \"migsafe.snapshots\" can only be changed by migsafe"),
			 errhint("Use migsafe.restore() and migsafe.purge_snapshots().")));
	PG_RETURN_NULL();			/* keep compiler quiet */
}

/*
 * migsafe_storage_forget_role
 *
 * Before DROP ROLE: revoke what roleid was granted on snapshot storage in
 * this database (a role that could read a dropped table may read its
 * snapshot), with one audit row per snapshot, so that no snapshot keeps
 * the role from being dropped.  Storage in other databases holds it like
 * any object there does (PostgreSQL asks for DROP OWNED in each).  Runs
 * in an internal section, connected to SPI; the DROP ROLE's transaction
 * undoes it if the role is not dropped.
 */
void
migsafe_storage_forget_role(Oid roleid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(roleid)};
	const char *rolname = GetUserNameFromId(roleid, false);
	List	   *schemas = NIL;
	ListCell   *lc;
	uint64		i;

	if (migsafe_internal_exec("SELECT n.nspname FROM pg_catalog.pg_shdepend d, pg_catalog.pg_class c,"
							  "       pg_catalog.pg_namespace n"
							  " WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
							  "   AND c.oid OPERATOR(pg_catalog.=) d.objid"
							  "   AND n.oid OPERATOR(pg_catalog.=) c.relnamespace"
							  "   AND d.dbid OPERATOR(pg_catalog.=) (SELECT oid FROM pg_catalog.pg_database"
							  "        WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database())"
							  "   AND d.refobjid OPERATOR(pg_catalog.=) $1 AND d.deptype OPERATOR(pg_catalog.=) 'a'"
							  "   AND n.nspname OPERATOR(pg_catalog.~) '^migsafe_snapshot_[0-9]+$'"
							  " UNION"
							  " SELECT n.nspname FROM pg_catalog.pg_shdepend d, pg_catalog.pg_namespace n"
							  " WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass"
							  "   AND n.oid OPERATOR(pg_catalog.=) d.objid"
							  "   AND d.dbid OPERATOR(pg_catalog.=) (SELECT oid FROM pg_catalog.pg_database"
							  "        WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database())"
							  "   AND d.refobjid OPERATOR(pg_catalog.=) $1 AND d.deptype OPERATOR(pg_catalog.=) 'a'"
							  "   AND n.nspname OPERATOR(pg_catalog.~) '^migsafe_snapshot_[0-9]+$'"
							  " ORDER BY 1",
							  1, argtypes, values, NULL, 0) < 0)
		elog(ERROR, "could not read the grants on snapshot storage");
	for (i = 0; i < SPI_processed; i++)
		schemas = lappend(schemas, SPI_getvalue(SPI_tuptable->vals[i],
												SPI_tuptable->tupdesc, 1));
	foreach(lc, schemas)
	{
		const char *nspname = lfirst(lc);
		const char *nsp = quote_identifier(nspname);
		const char *role = quote_identifier(rolname);
		int64		id = pg_strtoint64(nspname + strlen(MIGSAFE_SNAPSHOT_SCHEMA_PREFIX));

		migsafe_internal_run(psprintf("REVOKE ALL ON ALL TABLES IN SCHEMA %s FROM %s",
									  nsp, role));
		migsafe_internal_run(psprintf("REVOKE ALL ON ALL SEQUENCES IN SCHEMA %s FROM %s",
									  nsp, role));
		migsafe_internal_run(psprintf("REVOKE ALL ON SCHEMA %s FROM %s",
									  nsp, role));
		migsafe_audit_event("REVOKE", id, "role", role,
							psprintf("Role %s is being dropped: its access to snapshot " INT64_FORMAT " (schema %s) is revoked.",
									 role, id, nspname));
	}
}
