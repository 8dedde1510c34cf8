/*-------------------------------------------------------------------------
 *
 * definition.c
 *	  The definition a snapshot records of a plain table, read from the
 *	  catalogs without SQL.
 *
 * migsafe.snapshot_definition(oid) (migsafe--1.0--1.1.sql) is what restore
 * rebuilds a relation from.  As an SQL function it is parsed and planned
 * at every call, which cost more than the rest of an approved DROP TABLE
 * of a small table.  migsafe_definition_of_table() builds the same jsonb
 * for the common case, a table or partitioned table (partitions and
 * children too) that has no policies, through
 * the syscache, index scans and the same ruleutils functions; it returns
 * NULL for anything else, and the caller runs the SQL function.  The two
 * must agree key for key: the SQL function stays the reference (its
 * comments say what each key is for), and a build with
 * -DMIGSAFE_CHECK_DEFINITION computes both for every snapshot and warns
 * on any difference (see relation_definition() in snapshot.c).  Runs
 * inside an internal section, whose search_path (pg_catalog, pg_temp) is
 * the function's.
 *
 * Calls nothing of migsafe's.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/definition.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_sequence.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/comment.h"
#include "commands/sequence.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "definition.h"

/*
 * The version of the extension whose migsafe.snapshot_definition() this
 * file mirrors: with another one installed (1.0 before ALTER EXTENSION
 * UPDATE called fewer types built in), the SQL function answers.
 */
#define DEFINITION_VERSION	"1.1"

/* Types pinned by initdb, as the SQL function says (a.atttypid < 12000) */
#define DEFINITION_BUILTIN_LIMIT	12000

/* One privilege of aclexplode(): for the "grants" arrays */
typedef struct Grant
{
	Oid			grantee;
	const char *privilege;
	bool		grantable;
	int			seq;			/* keeps the ACL's order among equals */
} Grant;

/* One named entry (trigger, constraint...) with its JSON, for sorting */
typedef struct Entry
{
	char	   *key;			/* sort key (a name) */
	bool		last;			/* sorts after every entry without it */
	Oid			oid;			/* sort key when key is NULL */
	char	   *json;
} Entry;

/* aclexplode()'s name of a privilege bit */
static const char *
privilege_name(AclMode bit)
{
	switch (bit)
	{
		case ACL_INSERT:
			return "INSERT";
		case ACL_SELECT:
			return "SELECT";
		case ACL_UPDATE:
			return "UPDATE";
		case ACL_DELETE:
			return "DELETE";
		case ACL_TRUNCATE:
			return "TRUNCATE";
		case ACL_REFERENCES:
			return "REFERENCES";
		case ACL_TRIGGER:
			return "TRIGGER";
		case ACL_EXECUTE:
			return "EXECUTE";
		case ACL_USAGE:
			return "USAGE";
		case ACL_CREATE:
			return "CREATE";
		case ACL_CREATE_TEMP:
			return "TEMPORARY";
		case ACL_CONNECT:
			return "CONNECT";
		case ACL_SET:
			return "SET";
		case ACL_ALTER_SYSTEM:
			return "ALTER SYSTEM";
#ifdef ACL_MAINTAIN
		case ACL_MAINTAIN:
			return "MAINTAIN";
#endif
	}
	elog(ERROR, "unrecognized privilege bit: %d", (int) bit);
	return NULL;
}

/* qsort comparator of grants: grantee, then privilege name, as the SQL */
static int
grant_cmp(const void *a, const void *b)
{
	const Grant *ga = a;
	const Grant *gb = b;
	int			r;

	if (ga->grantee != gb->grantee)
		return ga->grantee < gb->grantee ? -1 : 1;
	r = strcmp(ga->privilege, gb->privilege);
	if (r != 0)
		return r;
	return ga->seq - gb->seq;
}

/* qsort comparator of entries: last, then key (or OID) */
static int
entry_cmp(const void *a, const void *b)
{
	const Entry *ea = a;
	const Entry *eb = b;

	if (ea->last != eb->last)
		return ea->last ? 1 : -1;
	if (ea->key != NULL && eb->key != NULL)
		return strcmp(ea->key, eb->key);
	if (ea->oid != eb->oid)
		return ea->oid < eb->oid ? -1 : 1;
	return 0;
}

/* Append "key": to an object being built, after a comma but first */
static void
add_key(StringInfo buf, const char *key)
{
	if (buf->data[buf->len - 1] != '{')
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
}

/* A string member, left out when NULL (jsonb_strip_nulls) */
static void
add_string(StringInfo buf, const char *key, const char *value)
{
	if (value == NULL)
		return;
	add_key(buf, key);
	escape_json(buf, value);
}

/* A member that is JSON already, left out when NULL */
static void
add_json(StringInfo buf, const char *key, const char *json)
{
	if (json == NULL)
		return;
	add_key(buf, key);
	appendStringInfoString(buf, json);
}

static void
add_bool(StringInfo buf, const char *key, bool value)
{
	add_key(buf, key);
	appendStringInfoString(buf, value ? "true" : "false");
}

/* A "char" as to_jsonb writes it: a one-letter string, "" for none */
static void
add_char(StringInfo buf, const char *key, char value)
{
	char		s[2] = {value, '\0'};

	add_string(buf, key, s);
}

/* The text of a ruleutils function of one OID argument, or NULL */
static char *
oid_text(PGFunction fn, Oid oid)
{
	Datum		d = DirectFunctionCall1(fn, ObjectIdGetDatum(oid));

	return d == (Datum) 0 ? NULL : TextDatumGetCString(d);
}

/* pg_get_userbyid() */
static char *
user_name(Oid roleid)
{
	return DatumGetCString(DirectFunctionCall1(pg_get_userbyid,
											   ObjectIdGetDatum(roleid)));
}

/*
 * migsafe.snapshot_grants(acl, owner): the privileges of an ACL but the
 * owner's, ordered by grantee OID and privilege, or NULL for none
 */
static char *
grants_json(Datum acldatum, bool isnull, Oid owner)
{
	Acl		   *acl;
	AclItem    *items;
	Grant	   *grants;
	int			n = 0;
	int			i;
	StringInfoData buf;

	if (isnull)
		return NULL;
	acl = DatumGetAclP(acldatum);
	items = ACL_DAT(acl);
	grants = palloc(sizeof(Grant) * (ACL_NUM(acl) * N_ACL_RIGHTS + 1));
	for (i = 0; i < ACL_NUM(acl); i++)
	{
		int			b;

		if (items[i].ai_grantee == owner)
			continue;
		for (b = 0; b < N_ACL_RIGHTS; b++)
		{
			AclMode		bit = ((AclMode) 1) << b;

			if ((ACLITEM_GET_PRIVS(items[i]) & bit) == 0)
				continue;
			grants[n].grantee = items[i].ai_grantee;
			grants[n].privilege = privilege_name(bit);
			grants[n].grantable = (ACLITEM_GET_GOPTIONS(items[i]) & bit) != 0;
			grants[n].seq = n;
			n++;
		}
	}
	if (n == 0)
		return NULL;
	qsort(grants, n, sizeof(Grant), grant_cmp);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoChar(&buf, '{');
		add_string(&buf, "grantee", grants[i].grantee == ACL_ID_PUBLIC ?
				   "PUBLIC" : user_name(grants[i].grantee));
		add_string(&buf, "privilege", grants[i].privilege);
		add_bool(&buf, "grantable", grants[i].grantable);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

/* An array of entries, sorted, or NULL for none (jsonb_agg) */
static char *
entries_json(Entry *entries, int n)
{
	StringInfoData buf;
	int			i;

	if (n == 0)
		return NULL;
	qsort(entries, n, sizeof(Entry), entry_cmp);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (i = 0; i < n; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "", entries[i].json);
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

/* Grow an array of entries */
static Entry *
entry_add(Entry **entries, int *n, int *size)
{
	if (*n >= *size)
	{
		*size = *size * 2;
		*entries = repalloc(*entries, sizeof(Entry) * *size);
	}
	memset(&(*entries)[*n], 0, sizeof(Entry));
	return &(*entries)[(*n)++];
}

/* Whether any row of catalog relid's index indexid has key = value */
static bool
any_row(Oid relid, Oid indexid, AttrNumber attnum, Oid value)
{
	Relation	rel = table_open(relid, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	bool		found;

	ScanKeyInit(&key, attnum, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(value));
	scan = systable_beginscan(rel, indexid, true, NULL, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * The parents of relid as regclass text (qualified unless visible), in
 * inhseqno order: a JSON array, or NULL for none
 */
static char *
parents_json(Oid relid, bool first_only)
{
	Relation	rel = table_open(InheritsRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	StringInfoData buf;
	int			n = 0;

	initStringInfo(&buf);
	ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, InheritsRelidSeqnoIndexId, true, NULL, 1,
							  &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		char	   *name = DatumGetCString(DirectFunctionCall1(regclassout,
															   ObjectIdGetDatum(((Form_pg_inherits) GETSTRUCT(tup))->inhparent)));

		if (first_only)
		{
			escape_json(&buf, name);
			n++;
			break;
		}
		appendStringInfoString(&buf, n++ > 0 ? ", " : "[");
		escape_json(&buf, name);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (n == 0)
		return NULL;
	if (!first_only)
		appendStringInfoChar(&buf, ']');
	return buf.data;
}

/* pg_sequence_last_value(seqid) as JSON, or NULL when never called */
static char *
sequence_last_value(Oid seqid)
{
	LOCAL_FCINFO(fcinfo, 1);
	Datum		d;

	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = ObjectIdGetDatum(seqid);
	fcinfo->args[0].isnull = false;
	d = pg_sequence_last_value(fcinfo);
	return fcinfo->isnull ? NULL : psprintf(INT64_FORMAT, DatumGetInt64(d));
}

/*
 * The "sequences" array: the sequences relid owns ('a' or 'i' dependencies
 * of a sequence on one of its columns), by OID
 */
static char *
sequences_json(Oid relid)
{
	Relation	rel = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	int			n = 0;
	int			size = 4;
	Entry	   *entries = palloc(sizeof(Entry) * size);

	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(RelationRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, DependReferenceIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
		HeapTuple	seqtup;
		HeapTuple	atttup;
		HeapTuple	classtup;
		Form_pg_sequence seq;
		Form_pg_attribute att;
		Entry	   *e;
		StringInfoData buf;

		if (dep->classid != RelationRelationId ||
			(dep->deptype != DEPENDENCY_AUTO &&
			 dep->deptype != DEPENDENCY_INTERNAL))
			continue;
		seqtup = SearchSysCache1(SEQRELID, ObjectIdGetDatum(dep->objid));
		if (!HeapTupleIsValid(seqtup))
			continue;
		atttup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid),
								 Int16GetDatum(dep->refobjsubid));
		if (!HeapTupleIsValid(atttup))
		{
			ReleaseSysCache(seqtup);
			continue;
		}
		seq = (Form_pg_sequence) GETSTRUCT(seqtup);
		att = (Form_pg_attribute) GETSTRUCT(atttup);
		e = entry_add(&entries, &n, &size);
		e->oid = seq->seqrelid;
		initStringInfo(&buf);
		appendStringInfoChar(&buf, '{');
		add_string(&buf, "name",
				   DatumGetCString(DirectFunctionCall1(regclassout,
													   ObjectIdGetDatum(seq->seqrelid))));
		classtup = SearchSysCache1(RELOID, ObjectIdGetDatum(seq->seqrelid));
		if (HeapTupleIsValid(classtup))
		{
			bool		aclnull;
			Datum		acl = SysCacheGetAttr(RELOID, classtup,
											  Anum_pg_class_relacl, &aclnull);

			add_json(&buf, "grants",
					 grants_json(acl, aclnull,
								 ((Form_pg_class) GETSTRUCT(classtup))->relowner));
			ReleaseSysCache(classtup);
		}
		add_string(&buf, "column", NameStr(att->attname));
		add_bool(&buf, "identity", att->attidentity != '\0');
		add_string(&buf, "type",
				   format_type_extended(seq->seqtypid, -1,
										FORMAT_TYPE_ALLOW_INVALID));
		add_json(&buf, "start", psprintf(INT64_FORMAT, seq->seqstart));
		add_json(&buf, "increment", psprintf(INT64_FORMAT, seq->seqincrement));
		add_json(&buf, "min", psprintf(INT64_FORMAT, seq->seqmin));
		add_json(&buf, "max", psprintf(INT64_FORMAT, seq->seqmax));
		add_json(&buf, "cache", psprintf(INT64_FORMAT, seq->seqcache));
		add_bool(&buf, "cycle", seq->seqcycle);
		add_json(&buf, "last_value", sequence_last_value(seq->seqrelid));
		appendStringInfoChar(&buf, '}');
		e->json = buf.data;
		ReleaseSysCache(atttup);
		ReleaseSysCache(seqtup);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return entries_json(entries, n);
}

/* The "triggers" array: the table's own triggers, by name */
static char *
triggers_json(Oid relid)
{
	Relation	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	int			n = 0;
	int			size = 4;
	Entry	   *entries = palloc(sizeof(Entry) * size);

	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, TriggerRelidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_trigger tg = (Form_pg_trigger) GETSTRUCT(tup);
		Entry	   *e;
		StringInfoData buf;

		if (tg->tgisinternal)
			continue;
		e = entry_add(&entries, &n, &size);
		e->key = pstrdup(NameStr(tg->tgname));
		initStringInfo(&buf);
		appendStringInfoChar(&buf, '{');
		add_string(&buf, "name", NameStr(tg->tgname));
		add_string(&buf, "definition", oid_text(pg_get_triggerdef, tg->oid));
		add_char(&buf, "enabled", tg->tgenabled);
		appendStringInfoChar(&buf, '}');
		e->json = buf.data;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return entries_json(entries, n);
}

/*
 * The "constraints" array (local primary key, unique, check, foreign key
 * and exclusion constraints, foreign keys last, by name), and in *indexes
 * the OIDs of the indexes any constraint of the table uses
 */
static char *
constraints_json(Oid relid, List **indexes)
{
	Relation	rel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	int			n = 0;
	int			size = 4;
	Entry	   *entries = palloc(sizeof(Entry) * size);

	*indexes = NIL;
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, ConstraintRelidTypidNameIndexId, true,
							  NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
		Entry	   *e;
		StringInfoData buf;

		if (OidIsValid(con->conindid))
			*indexes = lappend_oid(*indexes, con->conindid);
		if (!con->conislocal ||
			(con->contype != CONSTRAINT_PRIMARY &&
			 con->contype != CONSTRAINT_UNIQUE &&
			 con->contype != CONSTRAINT_CHECK &&
			 con->contype != CONSTRAINT_FOREIGN &&
			 con->contype != CONSTRAINT_EXCLUSION))
			continue;
		e = entry_add(&entries, &n, &size);
		e->key = pstrdup(NameStr(con->conname));
		e->last = con->contype == CONSTRAINT_FOREIGN;
		initStringInfo(&buf);
		appendStringInfoChar(&buf, '{');
		add_string(&buf, "name", NameStr(con->conname));
		add_char(&buf, "type", con->contype);
		add_string(&buf, "definition",
				   oid_text(pg_get_constraintdef, con->oid));
		appendStringInfoChar(&buf, '}');
		e->json = buf.data;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return entries_json(entries, n);
}

/* The "indexes" array: indexes no constraint of the table uses, by OID */
static char *
indexes_json(Oid relid, List *constraint_indexes)
{
	Relation	rel = table_open(IndexRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	int			n = 0;
	int			size = 4;
	Entry	   *entries = palloc(sizeof(Entry) * size);

	ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, IndexIndrelidIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Oid			indexid = ((Form_pg_index) GETSTRUCT(tup))->indexrelid;
		char	   *name = get_rel_name(indexid);
		Entry	   *e;
		StringInfoData buf;

		if (list_member_oid(constraint_indexes, indexid) || name == NULL)
			continue;
		e = entry_add(&entries, &n, &size);
		e->oid = indexid;
		initStringInfo(&buf);
		appendStringInfoChar(&buf, '{');
		add_string(&buf, "name", name);
		add_string(&buf, "definition", oid_text(pg_get_indexdef, indexid));
		appendStringInfoChar(&buf, '}');
		e->json = buf.data;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return entries_json(entries, n);
}

/* The "statistics" array: extended statistics, by OID */
static char *
statistics_json(Oid relid)
{
	Relation	rel = table_open(StatisticExtRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	int			n = 0;
	int			size = 4;
	Entry	   *entries = palloc(sizeof(Entry) * size);

	ScanKeyInit(&key, Anum_pg_statistic_ext_stxrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, StatisticExtRelidIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_statistic_ext st = (Form_pg_statistic_ext) GETSTRUCT(tup);
		Entry	   *e = entry_add(&entries, &n, &size);
		StringInfoData buf;

		e->oid = st->oid;
		initStringInfo(&buf);
		appendStringInfoChar(&buf, '{');
		add_string(&buf, "name", NameStr(st->stxname));
		add_string(&buf, "definition",
				   oid_text(pg_get_statisticsobjdef, st->oid));
		appendStringInfoChar(&buf, '}');
		e->json = buf.data;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return entries_json(entries, n);
}

/* The collation of a column when not its type's, schema-qualified, or NULL */
static char *
collation_name(Oid collid, Oid typid)
{
	HeapTuple	tup;
	Form_pg_collation coll;
	char	   *nsp;
	char	   *result;

	if (!OidIsValid(collid) || collid == get_typcollation(typid))
		return NULL;
	tup = SearchSysCache1(COLLOID, ObjectIdGetDatum(collid));
	if (!HeapTupleIsValid(tup))
		return NULL;
	coll = (Form_pg_collation) GETSTRUCT(tup);
	nsp = get_namespace_name(coll->collnamespace);
	result = nsp == NULL ? NULL :
		psprintf("%s.%s", quote_identifier(nsp),
				 quote_identifier(NameStr(coll->collname)));
	ReleaseSysCache(tup);
	return result;
}

/* The "columns" array, by attribute number */
static char *
columns_json(Relation rel, Oid owner)
{
	TupleDesc	desc = RelationGetDescr(rel);
	TupleConstr *constr = desc->constr;
	Oid			relid = RelationGetRelid(rel);
	StringInfoData buf;
	int			i;
	int			n = 0;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		char	   *expr = NULL;
		HeapTuple	tup;
		Datum		acl = (Datum) 0;
		bool		aclnull = true;
		char	   *comment;
		int			d;

		if (att->attisdropped)
			continue;
		for (d = 0; constr != NULL && d < constr->num_defval; d++)
		{
			if (constr->defval[d].adnum == att->attnum)
				expr = TextDatumGetCString(DirectFunctionCall2(pg_get_expr,
															   CStringGetTextDatum(constr->defval[d].adbin),
															   ObjectIdGetDatum(relid)));
		}
		tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid),
							  Int16GetDatum(att->attnum));
		if (HeapTupleIsValid(tup))
			acl = SysCacheGetAttr(ATTNUM, tup, Anum_pg_attribute_attacl,
								  &aclnull);

		appendStringInfoString(&buf, n++ > 0 ? ", {" : "{");
		add_string(&buf, "name", NameStr(att->attname));
		add_string(&buf, "type",
				   TextDatumGetCString(DirectFunctionCall2(format_type,
														   ObjectIdGetDatum(att->atttypid),
														   Int32GetDatum(att->atttypmod))));
		add_bool(&buf, "builtin", att->atttypid < DEFINITION_BUILTIN_LIMIT);
		add_bool(&buf, "notnull", att->attnotnull);
		if (att->attgenerated == '\0')
			add_string(&buf, "default", expr);
		else
			add_string(&buf, "generated", expr);
		if (att->attidentity != '\0')
			add_char(&buf, "identity", att->attidentity);
		add_string(&buf, "collation",
				   collation_name(att->attcollation, att->atttypid));
		if (!aclnull)
		{
			add_string(&buf, "acl",
					   OidOutputFunctionCall(F_ARRAY_OUT, acl));
			add_json(&buf, "grants", grants_json(acl, false, owner));
		}
		comment = GetComment(relid, RelationRelationId, att->attnum);
		add_string(&buf, "comment", comment);
		appendStringInfoChar(&buf, '}');
		if (HeapTupleIsValid(tup))
			ReleaseSysCache(tup);
	}
	appendStringInfoChar(&buf, ']');
	return n > 0 ? buf.data : NULL;
}

/*
 * migsafe_definition_of_table
 *
 * migsafe.snapshot_definition(relid) of a table or partitioned table
 * (a partition or child too) that has no policies, as jsonb,
 * when version (the extension's installed version) is the one this file
 * mirrors; NULL otherwise, and the caller gets the definition from the
 * SQL function.  The caller holds a lock on relid.  Allocates in the
 * current memory context.
 */
Jsonb	   *
migsafe_definition_of_table(Oid relid, const char *version)
{
	HeapTuple	tup;
	Form_pg_class form;
	Relation	rel;
	Datum		acl;
	bool		aclnull;
	List	   *constraint_indexes;
	StringInfoData buf;
	char	   *constraints;

	if (version == NULL || strcmp(version, DEFINITION_VERSION) != 0)
		return NULL;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		return NULL;
	form = (Form_pg_class) GETSTRUCT(tup);
	if ((form->relkind != RELKIND_RELATION &&
		 form->relkind != RELKIND_PARTITIONED_TABLE) ||
		any_row(PolicyRelationId, PolicyPolrelidPolnameIndexId,
				Anum_pg_policy_polrelid, relid))
	{
		ReleaseSysCache(tup);
		return NULL;
	}

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	add_char(&buf, "relkind", form->relkind);
	add_string(&buf, "owner", user_name(form->relowner));
	acl = SysCacheGetAttr(RELOID, tup, Anum_pg_class_relacl, &aclnull);
	if (!aclnull)
	{
		add_string(&buf, "acl", OidOutputFunctionCall(F_ARRAY_OUT, acl));
		add_json(&buf, "grants", grants_json(acl, false, form->relowner));
	}
	add_bool(&buf, "rls", form->relrowsecurity);
	add_bool(&buf, "force_rls", form->relforcerowsecurity);
	add_string(&buf, "comment", GetComment(relid, RelationRelationId, 0));
	add_json(&buf, "triggers", triggers_json(relid));
	add_bool(&buf, "unlogged", form->relpersistence == RELPERSISTENCE_UNLOGGED);
	if (form->relispartition)
	{
		Datum		bound;
		bool		boundnull;

		add_json(&buf, "partition_of", parents_json(relid, true));
		bound = SysCacheGetAttr(RELOID, tup, Anum_pg_class_relpartbound,
								&boundnull);
		if (!boundnull)
			add_string(&buf, "partition_bound",
					   TextDatumGetCString(DirectFunctionCall2(pg_get_expr, bound,
															   ObjectIdGetDatum(relid))));
	}
	else
		add_json(&buf, "inherits", parents_json(relid, false));
	if (form->relkind == RELKIND_PARTITIONED_TABLE)
		add_string(&buf, "partition_key", oid_text(pg_get_partkeydef, relid));
	rel = relation_open(relid, NoLock);
	add_json(&buf, "columns", columns_json(rel, form->relowner));
	relation_close(rel, NoLock);
	constraints = constraints_json(relid, &constraint_indexes);
	add_json(&buf, "constraints", constraints);
	add_json(&buf, "indexes", indexes_json(relid, constraint_indexes));
	add_json(&buf, "statistics", statistics_json(relid));
	add_json(&buf, "sequences", sequences_json(relid));
	appendStringInfoChar(&buf, '}');
	ReleaseSysCache(tup);

	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
											  CStringGetDatum(buf.data)));
}
