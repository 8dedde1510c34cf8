/*-------------------------------------------------------------------------
 *
 * approval.c
 *	  Approvals and exemptions: parsing them once, the names objects had
 *	  when the transaction began, and matching the two.
 *
 * migsafe.approve, migsafe.exempt and migsafe.skip_snapshot are lists of
 * "*", "schema.*", "schema.relation", "schema.relation.column" and
 * "DATABASE name"; migsafe.exempt_roles a list of role names.  Each value
 * is parsed once, by its GUC check hook, into one malloc'd block (the
 * GUC's "extra", freed by the GUC machinery), and its assign hook keeps a
 * pointer to it here: deciding a target never parses again.
 *
 * Approvals name objects by the names they had when the transaction
 * began: the ProcessUtility hook calls migsafe_approval_track() before a
 * rename, SET SCHEMA or ATTACH PARTITION runs, and the earlier names are
 * kept in TopTransactionContext until migsafe_approval_at_eoxact().
 *
 * Calls only classify.c and catalog.c.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/approval.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "commands/extension.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "parser/scansup.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

#include "migsafe.h"
#include "approval.h"
#include "catalog.h"
#include "classify.h"

/* One parsed item of an approval list (or a role of exempt_roles) */
typedef struct MigsafeApproval
{
	const char *text;			/* the item as written, for messages */
	bool		all;			/* "*" */
	const char *dbname;			/* "DATABASE name" */
	const char *nspname;
	const char *relname;		/* NULL: "schema.*" */
	const char *attname;
} MigsafeApproval;

/* A parsed setting: the GUC's extra, one malloc'd block */
typedef struct MigsafeApprovalList
{
	int			n;
	MigsafeApproval items[FLEXIBLE_ARRAY_MEMBER];
	/* the strings follow the items */
} MigsafeApprovalList;

/* Why an item does not parse */
typedef enum MigsafeParseError
{
	MIGSAFE_PARSE_OK,
	MIGSAFE_PARSE_UNTERMINATED,
	MIGSAFE_PARSE_ZERO_LENGTH,
	MIGSAFE_PARSE_NO_IDENTIFIER,
	MIGSAFE_PARSE_STAR_NOT_LAST,
	MIGSAFE_PARSE_STAR_AFTER_RELATION,
	MIGSAFE_PARSE_TOO_MANY_PARTS,
	MIGSAFE_PARSE_NOT_QUALIFIED,
	MIGSAFE_PARSE_NO_COMMA,
	MIGSAFE_PARSE_EMPTY,
	MIGSAFE_PARSE_NO_DATABASE
} MigsafeParseError;

/* An object renamed or moved in this transaction, with its earlier name */
typedef struct MigsafeRename
{
	Oid			classid;
	Oid			objid;
	int32		subid;
	Oid			old_nspoid;		/* relations: schema before any move */
	char	   *old_name;
} MigsafeRename;

/* The parsed settings in force (set by the assign hooks) */
static MigsafeApprovalList *approve_list = NULL;
static MigsafeApprovalList *exempt_list = NULL;
static MigsafeApprovalList *skip_list = NULL;
static MigsafeApprovalList *role_list = NULL;

/* Objects renamed in this transaction (TopTransactionContext) */
static List *renames = NIL;

/* ----------------------------------------------------------------
 * Parsing
 * ----------------------------------------------------------------
 */

/*
 * read_ident
 *
 * Read one SQL identifier at *pp: "quoted" (with "" for a quote) or
 * unquoted (downcased), or a bare "*" when star_ok.  Returns NULL and sets
 * *err on a syntax error.
 */
static char *
read_ident(const char **pp, bool star_ok, bool *is_star,
		   MigsafeParseError *err)
{
	const char *p = *pp;
	StringInfoData buf;

	*is_star = false;
	initStringInfo(&buf);
	if (*p == '"')
	{
		p++;
		for (;;)
		{
			if (*p == '\0')
			{
				*err = MIGSAFE_PARSE_UNTERMINATED;
				return NULL;
			}
			if (*p == '"')
			{
				if (p[1] != '"')
					break;
				p++;
			}
			appendStringInfoChar(&buf, *p);
			p++;
		}
		p++;
		if (buf.len == 0)
		{
			*err = MIGSAFE_PARSE_ZERO_LENGTH;
			return NULL;
		}
	}
	else if (*p == '*')
	{
		if (!star_ok)
		{
			*err = MIGSAFE_PARSE_STAR_NOT_LAST;
			return NULL;
		}
		p++;
		*is_star = true;
	}
	else
	{
		const char *start = p;

		while (*p != '\0' && (isalnum((unsigned char) *p) || *p == '_' ||
							  *p == '$' || IS_HIGHBIT_SET(*p)))
			p++;
		if (p == start || isdigit((unsigned char) *start) || *start == '$')
		{
			*err = MIGSAFE_PARSE_NO_IDENTIFIER;
			return NULL;
		}
		appendStringInfoString(&buf,
							   downcase_identifier(start, p - start,
												   false, false));
	}
	*pp = p;

	/* as the SQL parser does: names longer than NAMEDATALEN - 1 are cut */
	truncate_identifier(buf.data, buf.len, false);
	return buf.data;
}

/* Whether p starts the keyword DATABASE followed by white space or end */
static bool
at_database(const char *p)
{
	return pg_strncasecmp(p, "database", 8) == 0 &&
		(p[8] == '\0' || p[8] == ',' || scanner_isspace(p[8]));
}

/*
 * parse_item
 *
 * Parse one item at *pp into a, up to (not including) the comma or the end
 * that follows it.  Returns MIGSAFE_PARSE_OK or why it does not parse.
 */
static MigsafeParseError
parse_item(const char **pp, MigsafeApproval *a)
{
	const char *p = *pp;
	MigsafeParseError err = MIGSAFE_PARSE_OK;
	char	   *parts[3];
	int			nparts = 0;
	bool		star = false;

	if (at_database(p))
	{
		p += 8;
		while (scanner_isspace(*p))
			p++;
		if (*p == '\0' || *p == ',')
			return MIGSAFE_PARSE_NO_DATABASE;
		if ((a->dbname = read_ident(&p, false, &star, &err)) == NULL)
			return err;
		*pp = p;
		return MIGSAFE_PARSE_OK;
	}
	for (;;)
	{
		if ((parts[nparts] = read_ident(&p, true, &star, &err)) == NULL)
			return err;
		nparts++;
		if (star && *p == '.')
			return MIGSAFE_PARSE_STAR_NOT_LAST;
		if (star || *p != '.')
			break;
		if (nparts == 3)
			return MIGSAFE_PARSE_TOO_MANY_PARTS;
		p++;
	}
	if (star && nparts == 1)
		a->all = true;
	else if (star && nparts == 2)
		a->nspname = parts[0];
	else if (star)
		return MIGSAFE_PARSE_STAR_AFTER_RELATION;
	else if (nparts == 1)
		return MIGSAFE_PARSE_NOT_QUALIFIED;
	else
	{
		a->nspname = parts[0];
		a->relname = parts[1];
		a->attname = nparts == 3 ? parts[2] : NULL;
	}
	*pp = p;
	return MIGSAFE_PARSE_OK;
}

/*
 * parse_approvals
 *
 * Parse an approval list into a List of MigsafeApproval, allocated in the
 * current memory context.  Returns MIGSAFE_PARSE_OK, or why it does not
 * parse with *bad set to the offending item.
 */
static MigsafeParseError
parse_approvals(const char *value, List **result, char **bad)
{
	const char *p = value;

	*result = NIL;
	for (;;)
	{
		MigsafeApproval *a = palloc0(sizeof(MigsafeApproval));
		const char *start;
		MigsafeParseError err;

		while (scanner_isspace(*p))
			p++;
		if (*p == '\0' && *result == NIL)
			return MIGSAFE_PARSE_OK;	/* empty setting */
		start = p;
		if (*p == ',' || *p == '\0')
			err = MIGSAFE_PARSE_EMPTY;
		else
			err = parse_item(&p, a);
		if (err == MIGSAFE_PARSE_OK)
		{
			while (scanner_isspace(*p))
				p++;
			if (*p != ',' && *p != '\0')
				err = MIGSAFE_PARSE_NO_COMMA;
		}
		if (err != MIGSAFE_PARSE_OK)
		{
			const char *end = strchr(start, ',');

			*bad = end ? pnstrdup(start, end - start) : pstrdup(start);
			return err;
		}
		a->text = pnstrdup(start, p - start);
		*result = lappend(*result, a);
		if (*p == '\0')
			return MIGSAFE_PARSE_OK;
		p++;
	}
}

/* Report why an item does not parse, as a GUC check hook does */
static void
report_parse_error(MigsafeParseError err, const char *bad)
{
	switch (err)
	{
		case MIGSAFE_PARSE_OK:
			break;
		case MIGSAFE_PARSE_UNTERMINATED:
			GUC_check_errdetail("Item \"%s\" has an unterminated quoted identifier.", bad);
			break;
		case MIGSAFE_PARSE_ZERO_LENGTH:
			GUC_check_errdetail("Item \"%s\" has a zero-length quoted identifier.", bad);
			break;
		case MIGSAFE_PARSE_NO_IDENTIFIER:
			GUC_check_errdetail("Item \"%s\" lacks an identifier where one is expected.", bad);
			break;
		case MIGSAFE_PARSE_STAR_NOT_LAST:
			GUC_check_errdetail("Item \"%s\" has \"*\" before the last part of a name.", bad);
			break;
		case MIGSAFE_PARSE_STAR_AFTER_RELATION:
			GUC_check_errdetail("Item \"%s\" has \"*\" after a relation name; \"*\" may only follow a schema name.", bad);
			break;
		case MIGSAFE_PARSE_TOO_MANY_PARTS:
			GUC_check_errdetail("Item \"%s\" has more than three name parts (schema.relation.column).", bad);
			break;
		case MIGSAFE_PARSE_NOT_QUALIFIED:
			GUC_check_errdetail("Item \"%s\" is not schema-qualified.", bad);
			break;
		case MIGSAFE_PARSE_NO_COMMA:
			GUC_check_errdetail("Item \"%s\" lacks a comma between two approvals.", bad);
			break;
		case MIGSAFE_PARSE_EMPTY:
			GUC_check_errdetail("The list has an empty item.");
			break;
		case MIGSAFE_PARSE_NO_DATABASE:
			GUC_check_errdetail("Item \"%s\" lacks a database name after DATABASE.", bad);
			break;
	}
}

/* Copy a string into the block at *next, or NULL */
static const char *
flat_string(const char *s, char **next)
{
	char	   *result;

	if (s == NULL)
		return NULL;
	result = *next;
	strcpy(result, s);
	*next += strlen(s) + 1;
	return result;
}

/*
 * flatten
 *
 * Copy a List of MigsafeApproval into one malloc'd block, as GUC extras
 * must be.  Returns NULL when out of memory.
 */
static MigsafeApprovalList *
flatten(List *items)
{
	Size		size = offsetof(MigsafeApprovalList, items) +
	sizeof(MigsafeApproval) * list_length(items);
	MigsafeApprovalList *result;
	char	   *next;
	ListCell   *lc;
	int			i = 0;

	foreach(lc, items)
	{
		MigsafeApproval *a = lfirst(lc);
		const char *strings[5] = {a->text, a->dbname, a->nspname, a->relname,
		a->attname};
		int			s;

		for (s = 0; s < lengthof(strings); s++)
			if (strings[s] != NULL)
				size += strlen(strings[s]) + 1;
	}
	result = migsafe_guc_malloc(size);
	if (result == NULL)
		return NULL;
	result->n = list_length(items);
	next = (char *) &result->items[result->n];
	foreach(lc, items)
	{
		MigsafeApproval *a = lfirst(lc);
		MigsafeApproval *f = &result->items[i++];

		f->all = a->all;
		f->text = flat_string(a->text, &next);
		f->dbname = flat_string(a->dbname, &next);
		f->nspname = flat_string(a->nspname, &next);
		f->relname = flat_string(a->relname, &next);
		f->attname = flat_string(a->attname, &next);
	}
	return result;
}

/*
 * check_approval_list
 *
 * The syntax check shared by the settings in approval syntax: parse the
 * value in a memory context of its own (check hooks run in contexts that
 * may live long) and hand the result to the GUC machinery as *extra.
 */
static bool
check_approval_list(const char *value, void **extra)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "migsafe approvals",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	List	   *items = NIL;
	char	   *bad = NULL;
	MigsafeParseError err = MIGSAFE_PARSE_OK;
	MigsafeApprovalList *list = NULL;

	if (value != NULL)
		err = parse_approvals(value, &items, &bad);
	if (err == MIGSAFE_PARSE_OK)
		list = flatten(items);
	else
	{
		report_parse_error(err, bad);
		GUC_check_errhint("Write approvals as a comma-separated list of *, schema.*, schema.relation, schema.relation.column or DATABASE name, with SQL identifier quoting.");
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	if (list == NULL)
		return false;
	*extra = list;
	return true;
}

/*
 * migsafe_approval_check_approve
 *
 * GUC check hook of migsafe.approve and migsafe.skip_snapshot: refuse a
 * malformed value at SET time, with the item and the reason.  A value
 * stored with ALTER ROLE or ALTER DATABASE (refused since migsafe is
 * loaded, but possibly older) or in a configuration file is not applied:
 * it would approve every session.
 */
bool
migsafe_approval_check_approve(char **newval, void **extra, GucSource source)
{
	if (*newval != NULL && (*newval)[0] != '\0' &&
		(source == PGC_S_DATABASE || source == PGC_S_USER ||
		 source == PGC_S_DATABASE_USER || source == PGC_S_FILE))
	{
		GUC_check_errdetail("Approvals cannot be stored in configuration files or with ALTER ROLE or ALTER DATABASE.");
		return false;
	}
	return check_approval_list(*newval, extra);
}

/*
 * migsafe_approval_check_exempt
 *
 * GUC check hook of migsafe.exempt (superuser only, so it may be stored
 * per database or role): syntax only.
 */
bool
migsafe_approval_check_exempt(char **newval, void **extra, GucSource source)
{
	return check_approval_list(*newval, extra);
}

/*
 * migsafe_approval_check_roles
 *
 * GUC check hook of migsafe.exempt_roles: a comma-separated list of role
 * names, which need not exist yet.  Each becomes an item's text.
 */
bool
migsafe_approval_check_roles(char **newval, void **extra, GucSource source)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "migsafe roles",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	List	   *names = NIL;
	List	   *items = NIL;
	ListCell   *lc;
	bool		ok = true;
	MigsafeApprovalList *list = NULL;

	if (*newval != NULL && !SplitIdentifierString(pstrdup(*newval), ',', &names))
	{
		GUC_check_errdetail("List syntax is invalid.");
		ok = false;
	}
	foreach(lc, names)
	{
		MigsafeApproval *a = palloc0(sizeof(MigsafeApproval));

		a->text = lfirst(lc);
		items = lappend(items, a);
	}
	if (ok)
		list = flatten(items);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	if (list == NULL)
		return false;
	*extra = list;
	return true;
}

/* GUC assign hooks: keep the parsed value in force */
void
migsafe_approval_assign_approve(const char *newval, void *extra)
{
	approve_list = extra;
}

void
migsafe_approval_assign_exempt(const char *newval, void *extra)
{
	exempt_list = extra;
}

void
migsafe_approval_assign_skip_snapshot(const char *newval, void *extra)
{
	skip_list = extra;
}

void
migsafe_approval_assign_roles(const char *newval, void *extra)
{
	role_list = extra;
}

/* ----------------------------------------------------------------
 * Names as of transaction start
 * ----------------------------------------------------------------
 */

static MigsafeRename *
find_rename(Oid classid, Oid objid, int32 subid)
{
	ListCell   *lc;

	foreach(lc, renames)
	{
		MigsafeRename *r = lfirst(lc);

		if (r->classid == classid && r->objid == objid && r->subid == subid)
			return r;
	}
	return NULL;
}

/* Record the name an object has now, unless this transaction did already */
static void
remember_name(Oid classid, Oid objid, int32 subid)
{
	MemoryContext old;
	MigsafeRename *r;

	if (!OidIsValid(objid) || find_rename(classid, objid, subid) != NULL)
		return;
	old = MemoryContextSwitchTo(TopTransactionContext);
	r = palloc0(sizeof(MigsafeRename));
	r->classid = classid;
	r->objid = objid;
	r->subid = subid;
	if (classid == NamespaceRelationId)
		r->old_name = get_namespace_name(objid);
	else if (subid > 0)
		r->old_name = get_attname(objid, (AttrNumber) subid, true);
	else
	{
		r->old_name = get_rel_name(objid);
		r->old_nspoid = get_rel_namespace(objid);
	}
	if (r->old_name != NULL)
		renames = lappend(renames, r);
	MemoryContextSwitchTo(old);
}

/*
 * Remember the name of a column a RENAME renames, and of the columns the
 * rename recurses to: the inheritance children's and partitions', and,
 * for an attribute of a composite type (ALTER TYPE ... RENAME ATTRIBUTE
 * ... CASCADE), the typed tables' and theirs.  A column the rename does
 * not reach keeps its name, so remembering it changes nothing.
 */
static void
remember_columns(Oid relid, const char *attname)
{
	List	   *rels = list_make1_oid(relid);
	ListCell   *lc;

	if (get_rel_relkind(relid) == RELKIND_COMPOSITE_TYPE)
		rels = list_concat(rels, migsafe_catalog_typed_tables(get_rel_type_id(relid)));
	foreach(lc, rels)
	{
		ListCell   *lc2;

		foreach(lc2, find_all_inheritors(lfirst_oid(lc), NoLock, NULL))
		{
			AttrNumber	attnum = get_attnum(lfirst_oid(lc2), attname);

			if (attnum != InvalidAttrNumber)
				remember_name(RelationRelationId, lfirst_oid(lc2), attnum);
		}
	}
}

/* Remember the names of the tables of an extension moved to a new schema */
static void
remember_extension_members(Oid extoid)
{
	List	   *members;
	ListCell   *lc;

	if (!OidIsValid(extoid))
		return;
	members = migsafe_catalog_dependents(ExtensionRelationId, extoid,
										 DEPENDENCY_EXTENSION);
	foreach(lc, members)
	{
		ObjectAddress *member = lfirst(lc);

		if (member->classId == RelationRelationId)
			remember_name(RelationRelationId, member->objectId, 0);
	}
	list_free_deep(members);
}

/* Remember that a table became a partition in this transaction */
static void
remember_attach(Oid relid)
{
	MemoryContext old;
	MigsafeRename *r;

	if (!OidIsValid(relid) || find_rename(InheritsRelationId, relid, 0) != NULL)
		return;
	old = MemoryContextSwitchTo(TopTransactionContext);
	r = palloc0(sizeof(MigsafeRename));
	r->classid = InheritsRelationId;	/* marks an attach, not a rename */
	r->objid = relid;
	renames = lappend(renames, r);
	MemoryContextSwitchTo(old);
}

/*
 * migsafe_approval_track
 *
 * Before a rename, SET SCHEMA or ATTACH PARTITION runs, remember the names
 * the objects it changes have now, so that approvals keep naming them by
 * the names they had when this transaction began (renaming a table does
 * not make an approval for its new name apply to it).
 */
void
migsafe_approval_track(Node *parsetree)
{
	ListCell   *lc;

	foreach(lc, migsafe_classify_renames(parsetree))
	{
		MigsafeRenamed *r = lfirst(lc);
		Oid			relid = r->relation ?
		RangeVarGetRelid(r->relation, NoLock, true) : InvalidOid;

		switch (r->change)
		{
			case MIGSAFE_NAME_SCHEMA:
				remember_name(NamespaceRelationId,
							  get_namespace_oid(r->name, true), 0);
				break;
			case MIGSAFE_NAME_RELATION:
				remember_name(RelationRelationId, relid, 0);
				break;
			case MIGSAFE_NAME_COLUMN:
				if (OidIsValid(relid))
					remember_columns(relid, r->name);
				break;
			case MIGSAFE_NAME_EXTENSION:
				remember_extension_members(get_extension_oid(r->name, true));
				break;
			case MIGSAFE_NAME_ATTACH:
				remember_attach(relid);
				break;
		}
	}
}

/* The schema and relation names a relation had when this transaction began */
void
migsafe_approval_rel_identity(Oid relid, char **nspname, char **relname)
{
	MigsafeRename *r = find_rename(RelationRelationId, relid, 0);
	Oid			nspoid = r ? r->old_nspoid : get_rel_namespace(relid);
	MigsafeRename *s = find_rename(NamespaceRelationId, nspoid, 0);

	*relname = r ? pstrdup(r->old_name) : get_rel_name(relid);
	*nspname = s ? pstrdup(s->old_name) : get_namespace_name(nspoid);
}

/* Same for a column */
char	   *
migsafe_approval_att_identity(Oid relid, AttrNumber attnum)
{
	MigsafeRename *r = find_rename(RelationRelationId, relid, attnum);

	return r ? pstrdup(r->old_name) : get_attname(relid, attnum, true);
}

/* Whether a table was attached as a partition in this transaction */
bool
migsafe_approval_attached_here(Oid relid)
{
	return find_rename(InheritsRelationId, relid, 0) != NULL;
}

/* At transaction end: the names are forgotten with their memory */
void
migsafe_approval_at_eoxact(void)
{
	renames = NIL;
}

/* ----------------------------------------------------------------
 * Matching
 * ----------------------------------------------------------------
 */

/* Whether one approval item names relation relid (column attnum, or 0) */
static bool
item_names_rel(const MigsafeApproval *a, Oid relid, AttrNumber attnum)
{
	char	   *nspname;
	char	   *relname;

	if (a->all)
		return true;
	if (a->dbname != NULL)
		return false;
	migsafe_approval_rel_identity(relid, &nspname, &relname);
	if (nspname == NULL || relname == NULL || strcmp(a->nspname, nspname) != 0)
		return false;
	if (a->relname == NULL)
		return true;
	if (strcmp(a->relname, relname) != 0)
		return false;
	if (a->attname == NULL)
		return true;
	if (attnum <= 0)
		return false;
	relname = migsafe_approval_att_identity(relid, attnum);
	return relname != NULL && strcmp(a->attname, relname) == 0;
}

/* Whether an item names a partition's ancestor (the same column of it) */
static bool
item_names_ancestor(const MigsafeApproval *a, MigsafeTarget *t)
{
	ListCell   *lc;

	/* attaching a table must not bring it under its new parent's approval */
	if (!get_rel_relispartition(t->objid) ||
		migsafe_approval_attached_here(t->objid))
		return false;

	/* partitions have their parent's columns, under the same names */
	foreach(lc, get_partition_ancestors(t->objid))
	{
		Oid			anc = lfirst_oid(lc);
		AttrNumber	attnum = 0;

		if (t->subid > 0)
		{
			attnum = get_attnum(anc, t->attname);
			if (attnum == InvalidAttrNumber)
				continue;
		}
		if (item_names_rel(a, anc, attnum))
			return true;
	}
	return false;
}

/*
 * item_matches
 *
 * Whether an approval item covers a target.  A relation's approval covers
 * its columns; with related, also a partitioned table's covers its
 * partitions and a table's (or column's) covers the sequences it owns.
 * Exemptions are not related: they name objects themselves.
 */
static bool
item_matches(const MigsafeApproval *a, MigsafeTarget *t, bool related)
{
	Oid			owner;
	int32		ownercol;

	if (t->classid == DatabaseRelationId)
		return a->all || (a->dbname != NULL && strcmp(a->dbname, t->relname) == 0);
	if (t->classid == ExtensionRelationId || t->protected)
	{
		if (a->all || (a->nspname != NULL && a->relname == NULL &&
					   strcmp(a->nspname, MIGSAFE_SCHEMA) == 0))
			return true;
		/* a relation of migsafe's may also be named itself */
		return t->classid == RelationRelationId &&
			item_names_rel(a, t->objid, (AttrNumber) t->subid);
	}

	if (item_names_rel(a, t->objid, (AttrNumber) t->subid))
		return true;
	if (!related)
		return false;
	if (item_names_ancestor(a, t))
		return true;
	if (t->relkind == RELKIND_SEQUENCE &&
		migsafe_catalog_sequence_owner(t->objid, &owner, &ownercol) &&
		!migsafe_catalog_sequence_owned_here(t->objid))
		return item_names_rel(a, owner, (AttrNumber) ownercol);
	return false;
}

/*
 * migsafe_approval_match
 *
 * The first item of a setting that covers the target, as written, or
 * NULL.  migsafe.approve and migsafe.skip_snapshot cover related objects
 * (partitions, owned sequences), migsafe.exempt only those it names.
 */
char	   *
migsafe_approval_match(MigsafeApprovalSetting setting, MigsafeTarget *t)
{
	MigsafeApprovalList *list;
	int			i;

	switch (setting)
	{
		case MIGSAFE_SETTING_APPROVE:
			list = approve_list;
			break;
		case MIGSAFE_SETTING_EXEMPT:
			list = exempt_list;
			break;
		default:
			list = skip_list;
			break;
	}
	if (list == NULL)
		return NULL;
	for (i = 0; i < list->n; i++)
		if (item_matches(&list->items[i], t,
						 setting != MIGSAFE_SETTING_EXEMPT))
			return pstrdup(list->items[i].text);
	return NULL;
}

/*
 * migsafe_approval_exempt_role
 *
 * "role name" when the current role is a member of a role in
 * migsafe.exempt_roles, else NULL.
 */
char	   *
migsafe_approval_exempt_role(void)
{
	int			i;

	if (role_list == NULL)
		return NULL;
	for (i = 0; i < role_list->n; i++)
	{
		Oid			roleid = get_role_oid(role_list->items[i].text, true);

		/*
		 * Membership, not privileges: has_privs_of_role() is true for every
		 * superuser, which would exempt them all (and every SECURITY DEFINER
		 * function they own).
		 */
		if (OidIsValid(roleid) && is_member_of_role_nosuper(GetUserId(), roleid))
			return psprintf("role %s",
							quote_identifier(role_list->items[i].text));
	}
	return NULL;
}

/*
 * migsafe_approval_match_value
 *
 * Whether an approval list given as text (one a script sets, read by the
 * preview) covers a target, matched as migsafe_approval_match() matches
 * the setting in force.  Returns the item that matched, or NULL, also
 * when the text does not parse (the gate would refuse to set it).
 * Allocates in the current memory context.
 */
char	   *
migsafe_approval_match_value(const char *value, MigsafeTarget *t)
{
	List	   *items;
	char	   *bad;
	ListCell   *lc;

	if (value == NULL ||
		parse_approvals(value, &items, &bad) != MIGSAFE_PARSE_OK)
		return NULL;
	foreach(lc, items)
	{
		MigsafeApproval *a = lfirst(lc);

		if (item_matches(a, t, true))
			return pstrdup(a->text);
	}
	return NULL;
}

/*
 * migsafe_approval_exempts_name
 *
 * Whether migsafe.exempt names a relation of this name (schema.* or
 * schema.relation, or *): for a rename or a move, which would bring a
 * table under an exemption.
 */
bool
migsafe_approval_exempts_name(const char *nspname, const char *relname)
{
	int			i;

	if (exempt_list == NULL || nspname == NULL || relname == NULL)
		return false;
	for (i = 0; i < exempt_list->n; i++)
	{
		const MigsafeApproval *a = &exempt_list->items[i];

		if (a->all)
			return true;
		if (a->dbname != NULL || a->attname != NULL ||
			strcmp(a->nspname, nspname) != 0)
			continue;
		if (a->relname == NULL || strcmp(a->relname, relname) == 0)
			return true;
	}
	return false;
}

/*
 * migsafe_approval_names_exactly
 *
 * The item of migsafe.approve that names relation nspname.relname itself
 * (neither "*", "schema.*" nor one of its columns), as written, or NULL.
 * For a change that an approval must name on purpose: dropping migsafe
 * while it keeps snapshots needs "migsafe.snapshots" besides "migsafe.*".
 */
char	   *
migsafe_approval_names_exactly(const char *nspname, const char *relname)
{
	int			i;

	if (approve_list == NULL)
		return NULL;
	for (i = 0; i < approve_list->n; i++)
	{
		const MigsafeApproval *a = &approve_list->items[i];

		if (!a->all && a->dbname == NULL && a->relname != NULL &&
			a->attname == NULL && strcmp(a->nspname, nspname) == 0 &&
			strcmp(a->relname, relname) == 0)
			return pstrdup(a->text);
	}
	return NULL;
}

/*
 * migsafe_approval_value_names
 *
 * Whether an approval text names a relation (or its column, attname not
 * NULL) that exists only in a script the preview reads: by its names,
 * since it has no OID yet.  nspname NULL stands for any schema.  Returns
 * the item that matched, or NULL.
 */
char *
migsafe_approval_value_names(const char *value, const char *nspname,
							 const char *relname, const char *attname)
{
	List	   *items;
	char	   *bad;
	ListCell   *lc;

	if (value == NULL ||
		parse_approvals(value, &items, &bad) != MIGSAFE_PARSE_OK)
		return NULL;
	foreach(lc, items)
	{
		MigsafeApproval *a = lfirst(lc);

		if (a->all)
			return pstrdup(a->text);
		if (a->dbname != NULL || a->nspname == NULL ||
			(nspname != NULL && strcmp(a->nspname, nspname) != 0))
			continue;
		if (a->relname == NULL ||
			(strcmp(a->relname, relname) == 0 &&
			 (a->attname == NULL ||
			  (attname != NULL && strcmp(a->attname, attname) == 0))))
			return pstrdup(a->text);
	}
	return NULL;
}
