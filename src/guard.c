/*-------------------------------------------------------------------------
 *
 * guard.c
 *	  The gate: approvals, the objects a command destroys, the decision and
 *	  the blocking error.
 *
 * Two hooks feed this file.  The ProcessUtility hook calls
 * migsafe_guard_begin() before the statement runs: it works out every
 * table, column, sequence and materialized view the statement will destroy
 * (for DROP and DROP OWNED by running the statement once in a
 * subtransaction that is rolled back, the "dry run", which gives the exact
 * cascade set), locks them, decides each one and raises the error before
 * anything has changed.  The object-access hook sees each object really
 * being dropped or truncated, whatever the path (cascades, extension
 * scripts, internal calls); it accepts objects decided up front and decides
 * any other one on the spot.  The invariant both keep: no data-holding
 * object is destroyed unless approved, exempt, new in this transaction,
 * verifiably empty under lock, or migsafe.mode is not enforce.
 *
 * Backend-local state: a stack of MigsafeCommand frames (one per guarded
 * statement, in a memory context under the statement's own), and the list
 * of objects renamed in this transaction (TopTransactionContext, cleared at
 * transaction end).
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/guard.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/dependency.h"
#include "catalog/heap.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/partition.h"
#include "catalog/pg_am.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_cast.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_conversion.h"
#include "catalog/pg_database.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_event_trigger.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_foreign_data_wrapper.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_language.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_publication.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_subscription.h"
#include "catalog/pg_tablespace.h"
#include "catalog/pg_transform.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_ts_config.h"
#include "catalog/pg_ts_dict.h"
#include "catalog/pg_ts_parser.h"
#include "catalog/pg_ts_template.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "commands/seclabel.h"
#include "commands/sequence.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/plancat.h"
#include "parser/parse_type.h"
#include "parser/scansup.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "migsafe.h"
#include "audit.h"
#include "classify.h"
#include "guard.h"
#include "snapshot.h"
#include "worker.h"

/* Tables up to this many blocks (8 MB) get exact row counts in messages */
#define MIGSAFE_EXACT_COUNT_BLOCKS	1024

/* Longest approval list repeated in the primary message of the error */
#define MIGSAFE_MESSAGE_APPROVAL_MAX	200

/* At most this many objects are described in one DETAIL */
#define MIGSAFE_DETAIL_MAX	10

/* One parsed item of migsafe.approve or migsafe.exempt */
typedef struct MigsafeApproval
{
	char	   *text;			/* the item as written, for messages */
	bool		all;			/* "*" */
	char	   *dbname;			/* "DATABASE name" */
	char	   *nspname;
	char	   *relname;		/* NULL: "schema.*" */
	char	   *attname;
} MigsafeApproval;

/* An object renamed or moved in this transaction, with its earlier name */
typedef struct MigsafeRename
{
	Oid			classid;
	Oid			objid;
	int32		subid;
	Oid			old_nspoid;		/* relations: schema before any move */
	char	   *old_name;
} MigsafeRename;

static bool in_own_script(void);
static void decide_target(MigsafeCommand *cmd, MigsafeTarget *t, bool may_scan,
						  const char *hook);
static void remember_extension_members(Oid extoid);
static void remember_attach(Oid relid);
static bool is_migsafe_object(Oid classId, Oid objectId, Oid *owner);
static void check_object(MigsafeOp op, Oid classid, Oid objid, int32 subid,
						 bool locked, bool protected, const char *hook);
static char *display_name(MigsafeTarget *t);
static const char *target_noun(MigsafeTarget *t);

static MigsafeCommand *current_command = NULL;
static int	dry_run_depth = 0;
static Oid	dropping_dboid = InvalidOid;	/* of the DROP DATABASE running */
static List *renames = NIL;

/* cache of "is migsafe installed in this database", per transaction */
static LocalTransactionId installed_lxid = InvalidLocalTransactionId;
static bool installed_here = false;

/* ----------------------------------------------------------------
 * Approvals
 * ----------------------------------------------------------------
 */

/*
 * parse_ident
 *
 * Read one SQL identifier at *pp: "quoted" (with "" for a quote) or
 * unquoted (downcased), or a bare "*" when star_ok.  Returns NULL and sets
 * *err on a syntax error.
 */
static char *
read_ident(const char **pp, bool star_ok, bool *is_star, const char **err)
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
				*err = "unterminated quoted identifier";
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
			*err = "zero-length quoted identifier";
			return NULL;
		}
	}
	else if (*p == '*')
	{
		if (!star_ok)
		{
			*err = "\"*\" may only stand alone or as the last part of a name";
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
			*err = "expected an identifier";
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

/*
 * parse_approvals
 *
 * Parse a migsafe.approve / migsafe.exempt value into a List of
 * MigsafeApproval, allocated in the current memory context.  Items are
 * separated by commas: "*", "DATABASE name", "schema.*", "schema.relation"
 * or "schema.relation.column".  Returns false and sets *err (a static
 * string) and *bad (the offending item) on a syntax error.
 */
static bool
parse_approvals(const char *value, List **result, const char **err,
				char **bad)
{
	const char *p = value;

	*result = NIL;
	for (;;)
	{
		MigsafeApproval *a = palloc0(sizeof(MigsafeApproval));
		const char *start;
		char	   *parts[3];
		int			nparts = 0;
		bool		star = false;

		while (scanner_isspace(*p))
			p++;
		if (*p == '\0' && *result == NIL)
			return true;		/* empty setting */
		start = p;

		if (*p == ',' || (*p == '\0' && *result != NIL))
		{
			*err = "an approval is empty";
			goto bad_item;
		}
		if (pg_strncasecmp(p, "database", 8) == 0 &&
			(p[8] == '\0' || p[8] == ',' || scanner_isspace(p[8])))
		{
			const char *after = p + 8;

			while (scanner_isspace(*after))
				after++;
			if (*after == '\0' || *after == ',')
			{
				*err = "DATABASE must be followed by a database name";
				goto bad_item;
			}
		}
		if (pg_strncasecmp(p, "database", 8) == 0 && scanner_isspace(p[8]))
		{
			p += 8;
			while (scanner_isspace(*p))
				p++;
			a->dbname = read_ident(&p, false, &star, err);
			if (a->dbname == NULL)
				goto bad_item;
		}
		else
		{
			for (;;)
			{
				parts[nparts] = read_ident(&p, true, &star, err);
				if (parts[nparts] == NULL)
					goto bad_item;
				nparts++;
				if (star && *p == '.')
				{
					*err = "\"*\" must be the last part of a name";
					goto bad_item;
				}
				if (star || *p != '.')
					break;
				if (nparts == 3)
				{
					*err = "a name has at most three parts (schema.relation.column)";
					goto bad_item;
				}
				p++;
			}
			if (star && nparts == 1)
				a->all = true;
			else if (star && nparts == 2)
				a->nspname = parts[0];
			else if (star)
			{
				*err = "\"*\" may only follow a schema name";
				goto bad_item;
			}
			else if (nparts == 1)
			{
				*err = "a name must be schema-qualified";
				goto bad_item;
			}
			else
			{
				a->nspname = parts[0];
				a->relname = parts[1];
				a->attname = nparts == 3 ? parts[2] : NULL;
			}
		}

		while (scanner_isspace(*p))
			p++;
		if (*p != ',' && *p != '\0')
		{
			*err = "expected a comma between approvals";
			goto bad_item;
		}
		a->text = pnstrdup(start, p - start);
		*result = lappend(*result, a);
		if (*p == '\0')
			return true;
		p++;
		continue;

bad_item:
		{
			const char *end = strchr(start, ',');

			*bad = end ? pnstrdup(start, end - start) : pstrdup(start);
			return false;
		}
	}
}

/* Syntax check shared by migsafe.approve and migsafe.exempt */
static bool
check_approval_list(const char *value)
{
	List	   *items;
	const char *err = NULL;
	char	   *bad = NULL;

	if (value == NULL || parse_approvals(value, &items, &err, &bad))
		return true;
	GUC_check_errdetail("Item \"%s\": %s.", bad, err);
	GUC_check_errhint("Write approvals as a comma-separated list of *, schema.*, schema.relation, schema.relation.column or DATABASE name, with SQL identifier quoting.");
	return false;
}

/*
 * migsafe_guard_check_approve
 *
 * GUC check hook of migsafe.approve: refuse a malformed value at SET time,
 * with the item and the reason.  A value stored with ALTER ROLE or ALTER
 * DATABASE (refused since migsafe is loaded, but possibly older) is not
 * applied at login: it would approve every session.
 */
bool
migsafe_guard_check_approve(char **newval, void **extra, GucSource source)
{
	if (*newval != NULL && (*newval)[0] != '\0' &&
		(source == PGC_S_DATABASE || source == PGC_S_USER ||
		 source == PGC_S_DATABASE_USER || source == PGC_S_FILE))
	{
		GUC_check_errdetail("Approvals cannot be stored in configuration files or with ALTER ROLE or ALTER DATABASE.");
		return false;
	}
	return check_approval_list(*newval);
}

/*
 * migsafe_guard_check_exempt
 *
 * GUC check hook of migsafe.exempt (superuser only, so it may be stored
 * per database or role): syntax only.
 */
bool
migsafe_guard_check_exempt(char **newval, void **extra, GucSource source)
{
	return check_approval_list(*newval);
}

/*
 * migsafe_guard_check_roles
 *
 * GUC check hook of migsafe.exempt_roles: a comma-separated list of role
 * names.  Roles need not exist yet.
 */
bool
migsafe_guard_check_roles(char **newval, void **extra, GucSource source)
{
	char	   *copy;
	List	   *names;

	if (*newval == NULL)
		return true;
	copy = pstrdup(*newval);
	if (!SplitIdentifierString(copy, ',', &names))
	{
		GUC_check_errdetail("List syntax is invalid.");
		return false;
	}
	return true;
}

/* Whether the current role has the privileges of a role in exempt_roles */
static char *
exempt_role_match(void)
{
	char	   *copy;
	List	   *names;
	ListCell   *lc;

	if (migsafe_exempt_roles == NULL || migsafe_exempt_roles[0] == '\0')
		return NULL;
	copy = pstrdup(migsafe_exempt_roles);
	if (!SplitIdentifierString(copy, ',', &names))
		return NULL;
	foreach(lc, names)
	{
		Oid			roleid = get_role_oid((char *) lfirst(lc), true);

		/*
		 * Membership, not privileges: has_privs_of_role() is true for every
		 * superuser, which would exempt them all (and every SECURITY DEFINER
		 * function they own).
		 */
		if (OidIsValid(roleid) && is_member_of_role_nosuper(GetUserId(), roleid))
			return psprintf("role %s", quote_identifier(lfirst(lc)));
	}
	return NULL;
}

/* ----------------------------------------------------------------
 * Identities: the names approvals are matched against
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
 * track_rename
 *
 * Before a rename or SET SCHEMA runs, remember the names the object had, so
 * that approvals keep naming the object by the name it had when this
 * transaction began (renaming a table does not make an approval for its new
 * name apply to it).
 */
static void
track_rename(Node *parsetree)
{
	if (IsA(parsetree, RenameStmt))
	{
		RenameStmt *stmt = (RenameStmt *) parsetree;

		if (stmt->renameType == OBJECT_SCHEMA)
			remember_name(NamespaceRelationId,
						  get_namespace_oid(stmt->subname, true), 0);
		else if (stmt->relation != NULL)
		{
			Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);

			if (stmt->renameType == OBJECT_COLUMN)
			{
				if (OidIsValid(relid))
					remember_name(RelationRelationId, relid,
								  get_attnum(relid, stmt->subname));
			}
			else
				remember_name(RelationRelationId, relid, 0);
		}
	}
	else if (IsA(parsetree, AlterObjectSchemaStmt))
	{
		AlterObjectSchemaStmt *stmt = (AlterObjectSchemaStmt *) parsetree;

		if (stmt->relation != NULL)
			remember_name(RelationRelationId,
						  RangeVarGetRelid(stmt->relation, NoLock, true), 0);
		else if (stmt->objectType == OBJECT_EXTENSION)
			remember_extension_members(get_extension_oid(strVal(stmt->object),
														 true));
	}
	else if (IsA(parsetree, AlterTableStmt))
	{
		ListCell   *lc;

		/* a partition attached now is not covered by its new parent */
		foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
		{
			AlterTableCmd *c = lfirst_node(AlterTableCmd, lc);

			if (c->subtype == AT_AttachPartition)
				remember_attach(RangeVarGetRelid(((PartitionCmd *) c->def)->name,
												 NoLock, true));
		}
	}
}

/* Remember the names of the tables of an extension moved to a new schema */
static void
remember_extension_members(Oid extoid)
{
	Relation	depRel;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;

	if (!OidIsValid(extoid))
		return;
	depRel = table_open(DependRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(ExtensionRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(extoid));
	scan = systable_beginscan(depRel, DependReferenceIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		if (dep->deptype == DEPENDENCY_EXTENSION &&
			dep->classid == RelationRelationId)
			remember_name(RelationRelationId, dep->objid, 0);
	}
	systable_endscan(scan);
	table_close(depRel, AccessShareLock);
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

/* The schema and relation names a relation had when this transaction began */
static void
rel_identity(Oid relid, char **nspname, char **relname)
{
	MigsafeRename *r = find_rename(RelationRelationId, relid, 0);
	Oid			nspoid = r ? r->old_nspoid : get_rel_namespace(relid);
	MigsafeRename *s = find_rename(NamespaceRelationId, nspoid, 0);

	*relname = r ? pstrdup(r->old_name) : get_rel_name(relid);
	*nspname = s ? pstrdup(s->old_name) : get_namespace_name(nspoid);
}

/* Same for a column */
static char *
att_identity(Oid relid, AttrNumber attnum)
{
	MigsafeRename *r = find_rename(RelationRelationId, relid, attnum);

	return r ? pstrdup(r->old_name) : get_attname(relid, attnum, true);
}

/* Whether one approval item names relation relid (column attnum, or 0) */
static bool
item_names_rel(MigsafeApproval *a, Oid relid, AttrNumber attnum)
{
	char	   *nspname;
	char	   *relname;

	if (a->all)
		return true;
	if (a->dbname != NULL)
		return false;
	rel_identity(relid, &nspname, &relname);
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
	relname = att_identity(relid, attnum);
	return relname != NULL && strcmp(a->attname, relname) == 0;
}

/*
 * item_matches
 *
 * Whether an approval item covers a target.  A relation's approval covers
 * its columns; with related, also a partitioned table's covers its
 * partitions (not one attached in this transaction: attaching a table
 * must not bring it under an approval of its new parent) and a table's (or
 * column's) covers the sequences it owns.  Exemptions are not related:
 * they name objects themselves.
 */
static bool
item_matches(MigsafeApproval *a, MigsafeTarget *t, bool related)
{
	Oid			owner;
	int32		ownercol;

	if (t->classid == DatabaseRelationId)
		return a->all || (a->dbname != NULL && strcmp(a->dbname, t->relname) == 0);
	if (t->classid == ExtensionRelationId || t->protected)
	{
		if (a->all || (a->nspname != NULL && a->relname == NULL &&
					   strcmp(a->nspname, "migsafe") == 0))
			return true;
		/* a relation of migsafe's may also be named itself */
		return t->classid == RelationRelationId &&
			item_names_rel(a, t->objid, (AttrNumber) t->subid);
	}

	if (item_names_rel(a, t->objid, (AttrNumber) t->subid))
		return true;
	if (!related)
		return false;

	if (get_rel_relispartition(t->objid) &&
		find_rename(InheritsRelationId, t->objid, 0) == NULL)
	{
		List	   *ancestors = get_partition_ancestors(t->objid);
		ListCell   *lc;

		/* partitions have their parent's columns, under the same names */
		foreach(lc, ancestors)
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
	}
	if (t->relkind == RELKIND_SEQUENCE &&
		(sequenceIsOwned(t->objid, DEPENDENCY_AUTO, &owner, &ownercol) ||
		 sequenceIsOwned(t->objid, DEPENDENCY_INTERNAL, &owner, &ownercol)))
		return item_names_rel(a, owner, (AttrNumber) ownercol);
	return false;
}

/* The first item of a setting that covers the target, as written, or NULL */
static char *
setting_match(const char *value, MigsafeTarget *t, bool related)
{
	List	   *items;
	const char *err;
	char	   *bad;
	ListCell   *lc;

	if (value == NULL || value[0] == '\0' ||
		!parse_approvals(value, &items, &err, &bad))
		return NULL;
	foreach(lc, items)
	{
		MigsafeApproval *a = lfirst(lc);

		if (item_matches(a, t, related))
			return a->text;
	}
	return NULL;
}

/* ----------------------------------------------------------------
 * Targets
 * ----------------------------------------------------------------
 */

/* Is migsafe installed in the current database?  Cached per transaction. */
static bool
installed(void)
{
	if (installed_lxid != MyProc->lxid)
	{
		installed_here = OidIsValid(get_extension_oid("migsafe", true));
		installed_lxid = MyProc->lxid;
	}
	return installed_here;
}

static MigsafeTarget *
find_target(MigsafeCommand *cmd, Oid classid, Oid objid, int32 subid)
{
	ListCell   *lc;

	foreach(lc, cmd->targets)
	{
		MigsafeTarget *t = lfirst(lc);

		if (t->classid == classid && t->objid == objid && t->subid == subid)
			return t;
	}
	return NULL;
}

/*
 * fill_names
 *
 * (Re)read the current names and the approval identity of a relation or
 * column target.  Returns false when the object no longer exists.
 */
static bool
fill_names(MigsafeTarget *t)
{
	char	   *id_nsp;
	char	   *id_rel;
	char	   *id_att = NULL;

	t->relkind = get_rel_relkind(t->objid);
	t->relname = get_rel_name(t->objid);
	if (t->relkind == '\0' || t->relname == NULL)
		return false;
	t->nspname = get_namespace_name(get_rel_namespace(t->objid));
	t->attname = NULL;
	if (t->subid > 0)
	{
		t->attname = get_attname(t->objid, (AttrNumber) t->subid, true);
		if (t->attname == NULL)
			return false;
		id_att = att_identity(t->objid, (AttrNumber) t->subid);
	}
	rel_identity(t->objid, &id_nsp, &id_rel);
	t->renamed = strcmp(id_nsp, t->nspname) != 0 ||
		strcmp(id_rel, t->relname) != 0 ||
		(id_att != NULL && strcmp(id_att, t->attname) != 0);
	t->orig_name = id_att ? psprintf("%s.%s.%s", id_nsp, id_rel, id_att) :
		psprintf("%s.%s", id_nsp, id_rel);
	if (id_att != NULL)
		t->ident = psprintf("%s.%s.%s", quote_identifier(id_nsp),
							quote_identifier(id_rel), quote_identifier(id_att));
	else
		t->ident = psprintf("%s.%s", quote_identifier(id_nsp),
							quote_identifier(id_rel));
	return true;
}

/*
 * add_rel_target
 *
 * Add a relation (subid 0) or column target to cmd, once.  Returns the
 * target, or NULL when the relation holds no data of its own (temporary,
 * view, index...) or no longer exists.  Allocates in cmd->cxt.
 */
static MigsafeTarget *
add_rel_target(MigsafeCommand *cmd, MigsafeOp op, Oid relid, int32 subid)
{
	MigsafeTarget *t = find_target(cmd, RelationRelationId, relid, subid);
	MemoryContext old;
	char		relkind = get_rel_relkind(relid);

	if (t != NULL)
		return t;
	/* partitioned tables are kept to name the tree in hints, columns not */
	if (!migsafe_classify_relkind(relkind) &&
		!(relkind == RELKIND_PARTITIONED_TABLE && subid == 0))
		return NULL;
	if (isAnyTempNamespace(get_rel_namespace(relid)))
		return NULL;
	old = MemoryContextSwitchTo(cmd->cxt);
	t = palloc0(sizeof(MigsafeTarget));
	t->op = op;
	t->classid = RelationRelationId;
	t->objid = relid;
	t->subid = subid;
	t->bytes = -1;
	if (!fill_names(t))
		t = NULL;
	else
		cmd->targets = lappend(cmd->targets, t);
	MemoryContextSwitchTo(old);
	return t;
}

/* Add the migsafe extension itself as a target of cmd (its guard is data) */
static MigsafeTarget *
add_extension_target(MigsafeCommand *cmd, Oid extoid)
{
	MemoryContext old = MemoryContextSwitchTo(cmd->cxt);
	MigsafeTarget *t = palloc0(sizeof(MigsafeTarget));

	t->op = MIGSAFE_OP_DROP;
	t->classid = ExtensionRelationId;
	t->objid = extoid;
	t->relname = pstrdup("migsafe");
	t->ident = pstrdup("migsafe.*");
	t->orig_name = t->ident;
	t->bytes = -1;
	cmd->targets = lappend(cmd->targets, t);
	MemoryContextSwitchTo(old);
	return t;
}

/* ----------------------------------------------------------------
 * Measuring: is it empty, how much is at stake
 * ----------------------------------------------------------------
 */

/*
 * measure_target
 *
 * Scan a relation target with the latest snapshot (the caller holds a lock
 * that excludes writers) and set rows, values (non-null values of a column
 * target) and bytes.  With full false the scan stops at the first row (or
 * first non-null value) and only emptiness is known.  Small relations are
 * counted exactly; larger ones get the catalog's estimate.
 */
static void
measure_target(MigsafeTarget *t, bool full)
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

/* measure_target() for snapshot.c: the caller holds a lock */
void
migsafe_guard_measure(MigsafeTarget *t, bool full)
{
	measure_target(t, full);
}

/* The first item of a setting (approve syntax) naming t itself, or NULL */
char	   *
migsafe_guard_setting_match(const char *value, MigsafeTarget *t)
{
	return setting_match(value, t, true);
}

/* Whether the target was measured empty (no rows, or no non-null value) */
static bool
target_is_empty(MigsafeTarget *t)
{
	if (t->relkind == RELKIND_SEQUENCE)
		return false;			/* its state is data; see README */
	return t->subid > 0 ? t->values == 0 : t->rows == 0;
}

/* Whether the relation was created in this transaction */
static bool
created_here(Oid relid)
{
	Relation	rel = relation_open(relid, NoLock);
	bool		result = rel->rd_createSubid != InvalidSubTransactionId;

	relation_close(rel, NoLock);
	return result;
}

/* ----------------------------------------------------------------
 * Decisions and the error
 * ----------------------------------------------------------------
 */

/* Name of a decision, for traces and (later) the audit log */
const char *
migsafe_guard_decision_name(MigsafeDecision decision)
{
	switch (decision)
	{
		case MIGSAFE_DECISION_NONE:
			return "undecided";
		case MIGSAFE_DECISION_NO_DATA:
			return "no data";
		case MIGSAFE_DECISION_OFF:
			return "off";
		case MIGSAFE_DECISION_NEW:
			return "new";
		case MIGSAFE_DECISION_EMPTY:
			return "empty";
		case MIGSAFE_DECISION_APPROVED:
			return "approved";
		case MIGSAFE_DECISION_EXEMPT:
			return "exempt";
		case MIGSAFE_DECISION_WARNED:
			return "warned";
		case MIGSAFE_DECISION_BLOCKED:
			return "blocked";
	}
	return "?";
}

/*
 * Whether a target is migsafe itself: its extension, an object of its
 * schema (the audit log) or hanging off one.  migsafe.mode and the
 * exemptions do not apply to those: only an approval naming them does, so
 * that a superuser cannot quietly switch the audit log off and empty it.
 */
static bool
own_object(MigsafeTarget *t)
{
	if (t->protected || t->classid == ExtensionRelationId ||
		t->classid == DatabaseRelationId)
		return true;
	return t->classid == RelationRelationId &&
		get_rel_namespace(t->objid) == get_namespace_oid("migsafe", true);
}

/* The target another target's data belongs to (sequence owner), or NULL */
static MigsafeTarget *
owning_target(MigsafeCommand *cmd, MigsafeTarget *t)
{
	Oid			owner;
	int32		ownercol;
	MigsafeTarget *o;

	if (cmd == NULL || t->relkind != RELKIND_SEQUENCE)
		return NULL;
	if (!sequenceIsOwned(t->objid, DEPENDENCY_AUTO, &owner, &ownercol) &&
		!sequenceIsOwned(t->objid, DEPENDENCY_INTERNAL, &owner, &ownercol))
		return NULL;
	o = find_target(cmd, RelationRelationId, owner, 0);
	if (o == NULL)
		o = find_target(cmd, RelationRelationId, owner, ownercol);
	return o;
}

/*
 * follows_owner
 *
 * Whether an owned sequence takes its owner's decision: only when someone
 * approved (or exempted, or warn or off let through) the owner.  An empty
 * or new owner says nothing about the sequence, which may have been made
 * its property a moment ago (ALTER SEQUENCE ... OWNED BY): it is decided on
 * its own.
 */
static bool
follows_owner(MigsafeCommand *cmd, MigsafeTarget *owner, bool may_scan,
			  const char *hook)
{
	if (owner->decision == MIGSAFE_DECISION_NONE)
		decide_target(cmd, owner, may_scan, hook);
	switch (owner->decision)
	{
		case MIGSAFE_DECISION_APPROVED:
		case MIGSAFE_DECISION_EXEMPT:
		case MIGSAFE_DECISION_WARNED:
		case MIGSAFE_DECISION_OFF:
		case MIGSAFE_DECISION_BLOCKED:
			return true;
		default:
			return false;
	}
}

/*
 * decide_target
 *
 * Decide one target of cmd (which may be NULL outside any guarded
 * statement).  may_scan says whether a lock excluding writers is held, so
 * that emptiness can be verified.  Sets t->decision; raises nothing.
 */
static void
decide_target(MigsafeCommand *cmd, MigsafeTarget *t, bool may_scan,
			  const char *hook)
{
	MigsafeTarget *owner;

	if (t->classid == RelationRelationId && !t->protected &&
		t->relkind == RELKIND_PARTITIONED_TABLE && t->subid == 0)
		t->decision = MIGSAFE_DECISION_NO_DATA;
	else if (migsafe_mode == MIGSAFE_MODE_OFF && !own_object(t))
		t->decision = MIGSAFE_DECISION_OFF;
	else if ((owner = owning_target(cmd, t)) != NULL &&
			 follows_owner(cmd, owner, may_scan, hook))
	{
		/*
		 * An owned sequence's state belongs to its table or column: an
		 * approval (or exemption, warn or off) of that one covers it, and it
		 * is reported with it.
		 */
		t->decision = owner->decision;
		t->matched = owner->matched;
		t->follows = true;
	}
	else if (migsafe_allow_empty && t->classid == RelationRelationId &&
			 !t->protected && created_here(t->objid))
		t->decision = MIGSAFE_DECISION_NEW;
	else if ((t->matched = setting_match(migsafe_approve, t, true)) != NULL)
		t->decision = MIGSAFE_DECISION_APPROVED;
	else if (!own_object(t) &&
			 ((t->matched = setting_match(migsafe_exempt, t, false)) != NULL ||
			  (t->matched = exempt_role_match()) != NULL))
		t->decision = MIGSAFE_DECISION_EXEMPT;
	else
	{
		if (t->classid == RelationRelationId && may_scan && !t->protected &&
			!t->no_scan)
		{
			measure_target(t, false);
			if (migsafe_allow_empty && target_is_empty(t))
				t->decision = MIGSAFE_DECISION_EMPTY;
		}
		if (t->decision != MIGSAFE_DECISION_EMPTY)
		{
			t->decision = migsafe_mode == MIGSAFE_MODE_WARN && !own_object(t) ?
				MIGSAFE_DECISION_WARNED : MIGSAFE_DECISION_BLOCKED;
			if (t->classid == RelationRelationId && may_scan && !t->protected &&
				!t->no_scan)
				measure_target(t, true);
		}
	}

	/*
	 * An approved change to migsafe's own objects could disable the audit log
	 * and then empty it, its own row included: leave a trace outside.
	 */
	if (t->decision == MIGSAFE_DECISION_APPROVED && own_object(t))
		ereport(LOG,
				(errmsg("approved change to migsafe's own %s \"%s\"",
						target_noun(t), display_name(t)),
				 errdetail("Approval: %s.  Statement: %s", t->matched,
						   cmd && cmd->stmt_text ? cmd->stmt_text : "?")));

	if (migsafe_trace)
		ereport(NOTICE,
				(errmsg_internal("migsafe: %s: %s %s on %s: %s%s%s",
								 hook,
								 cmd ? cmd->tag : "(no statement)",
								 t->op == MIGSAFE_OP_TRUNCATE ? "truncate" :
								 t->op == MIGSAFE_OP_RETYPE ? "retype" :
								 t->op == MIGSAFE_OP_BLANK ? "blank" :
								 t->op == MIGSAFE_OP_ALTER ? "alter" :
								 t->op == MIGSAFE_OP_UNLOG ? "unlog" :
								 t->op == MIGSAFE_OP_RESTART ? "restart" : "drop",
								 t->ident,
								 migsafe_guard_decision_name(t->decision),
								 t->matched ? " by " : "",
								 t->matched ? t->matched : "")));
}

/* The display name of a target: "public.orders" or "public.orders.note" */
static char *
display_name(MigsafeTarget *t)
{
	if (t->protected)
		return t->obj_identity;
	if (t->classid != RelationRelationId)
		return t->relname;
	if (t->subid > 0)
		return psprintf("%s.%s.%s", t->nspname, t->relname, t->attname);
	return psprintf("%s.%s", t->nspname, t->relname);
}

static const char *
target_noun(MigsafeTarget *t)
{
	if (t->protected)
		return t->obj_type;
	if (t->classid == DatabaseRelationId)
		return "database";
	if (t->classid == ExtensionRelationId)
		return "extension";
	if (t->subid > 0)
		return "column";
	return migsafe_classify_relkind_noun(t->relkind);
}

/* One sentence of DETAIL saying what a target holds */
static void
describe_target(StringInfo buf, MigsafeTarget *t)
{
	char	   *name = display_name(t);
	char	   *size = NULL;

	if (t->bytes >= 0)
		size = text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_size_pretty,
																  Int64GetDatum(t->bytes))));
	if (buf->len > 0)
		appendStringInfoChar(buf, ' ');

	if (t->classid == DatabaseRelationId)
	{
		if (size)
			appendStringInfo(buf, _("Database \"%s\" is guarded by migsafe and holds %s."),
							 name, size);
		else
			appendStringInfo(buf, _("Database \"%s\" is guarded by migsafe."), name);
	}
	else if (t->classid == ExtensionRelationId)
		appendStringInfoString(buf, _("Dropping extension \"migsafe\" removes the guard from this database."));
	else if (t->protected)
		appendStringInfo(buf, _("%s \"%s\" belongs to migsafe, which keeps the audit log append-only."),
						 t->obj_type, name);
	else if (t->relkind == RELKIND_SEQUENCE)
		appendStringInfo(buf, _("Sequence \"%s\" would lose its current value."), name);
	else if (t->bytes < 0)
		appendStringInfo(buf, _("%s \"%s\" was not measured (migsafe may not read it) and counts as holding data."),
						 t->subid > 0 ? _("Column") : _("Table"), name);
	else if (t->subid > 0 && t->rows_exact)
		appendStringInfo(buf,
						 ngettext("Column \"%s\" holds %.0f non-null value (table size %s).",
								  "Column \"%s\" holds %.0f non-null values (table size %s).",
								  (unsigned long) t->values),
						 name, t->values, size ? size : "?");
	else if (t->subid > 0)
		appendStringInfo(buf, _("Column \"%s\" holds data in a table of about %.0f rows (%s)."),
						 name, t->rows, size ? size : "?");
	else if (t->rows_exact)
		appendStringInfo(buf,
						 ngettext("%s \"%s\" holds %.0f row (%s).",
								  "%s \"%s\" holds %.0f rows (%s).",
								  (unsigned long) t->rows),
						 t->relkind == RELKIND_MATVIEW ? _("Materialized view") : _("Table"),
						 name, t->rows, size ? size : "?");
	else
		appendStringInfo(buf, _("%s \"%s\" holds about %.0f rows (%s)."),
						 t->relkind == RELKIND_MATVIEW ? _("Materialized view") : _("Table"),
						 name, t->rows, size ? size : "?");

	if (t->renamed)
		appendStringInfo(buf, _(" It was named \"%s\" when this transaction began."),
						 t->orig_name);
}

/*
 * The name a hint should use: for a partition, its topmost ancestor in the
 * set; for a partition's column, the root's column (only the root's can be
 * dropped or retyped).
 */
static char *
hint_ident(MigsafeCommand *cmd, MigsafeTarget *t)
{
	if (t->classid == RelationRelationId && t->subid > 0 &&
		get_rel_relispartition(t->objid) &&
		find_rename(InheritsRelationId, t->objid, 0) == NULL)
	{
		Oid			root = llast_oid(get_partition_ancestors(t->objid));
		char	   *nspname;
		char	   *relname;

		rel_identity(root, &nspname, &relname);
		return psprintf("%s.%s.%s", quote_identifier(nspname),
						quote_identifier(relname), quote_identifier(t->attname));
	}
	if (cmd != NULL && t->classid == RelationRelationId && t->subid == 0 &&
		get_rel_relispartition(t->objid) &&
		find_rename(InheritsRelationId, t->objid, 0) == NULL)
	{
		List	   *ancestors = get_partition_ancestors(t->objid);
		MigsafeTarget *best = NULL;
		ListCell   *lc;

		foreach(lc, ancestors)
		{
			MigsafeTarget *a = find_target(cmd, RelationRelationId,
										   lfirst_oid(lc), 0);

			if (a != NULL)
				best = a;
		}
		if (best != NULL)
			return best->ident;
	}
	return t->ident;
}

/*
 * report_targets
 *
 * Raise the blocking ERROR (or, in warn mode, the same text as a WARNING)
 * for the targets in list, all refused.  The primary message names the
 * operation and the first object; DETAIL what each holds and the statement;
 * HINT the exact approval.
 */
static void
report_targets(MigsafeCommand *cmd, List *list, int elevel)
{
	MigsafeTarget *first = linitial(list);
	StringInfoData detail;
	StringInfoData approval;
	StringInfoData literal;
	List	   *idents = NIL;
	ListCell   *lc;
	int			n = 0;
	int			nobjs = list_length(list);
	const char *tag = cmd ? cmd->tag : "DROP";
	bool		database = first->classid == DatabaseRelationId &&
	strcmp(tag, "DROP DATABASE") == 0;
	const char *stmt = debug_query_string;

	if (cmd != NULL)
		stmt = cmd->stmt_text;
	initStringInfo(&detail);
	initStringInfo(&approval);
	foreach(lc, list)
	{
		MigsafeTarget *t = lfirst(lc);
		char	   *ident = hint_ident(cmd, t);

		if (n++ < MIGSAFE_DETAIL_MAX)
			describe_target(&detail, t);
		if (!list_member(idents, makeString(ident)))
		{
			idents = lappend(idents, makeString(ident));
			appendStringInfo(&approval, "%s%s", approval.len ? ", " : "", ident);
		}
	}
	/* "migsafe.*" covers "migsafe.audit_log": keep the shorter list */
	initStringInfo(&approval);
	foreach(lc, idents)
	{
		char	   *ident = strVal(lfirst(lc));
		const char *dot = strrchr(ident, '.');
		bool		covered = false;
		ListCell   *lc2;

		foreach(lc2, idents)
		{
			char	   *other = strVal(lfirst(lc2));
			size_t		len = strlen(other);

			if (other != ident && len > 2 && strcmp(other + len - 2, ".*") == 0 &&
				dot != NULL && strncmp(ident, other, len - 1) == 0)
				covered = true;
		}
		if (!covered)
			appendStringInfo(&approval, "%s%s", approval.len ? ", " : "", ident);
	}
	if (n > MIGSAFE_DETAIL_MAX)
		appendStringInfo(&detail, " ");
	if (n > MIGSAFE_DETAIL_MAX)
		appendStringInfo(&detail,
						 ngettext("%d more object is affected.",
								  "%d more objects are affected.",
								  n - MIGSAFE_DETAIL_MAX),
						 n - MIGSAFE_DETAIL_MAX);
	if (stmt != NULL)
		appendStringInfo(&detail, _(" Statement: %s"), stmt);

	/* the approval as a SQL string literal */
	initStringInfo(&literal);
	for (const char *p = approval.data; *p; p++)
	{
		if (*p == '\'')
			appendStringInfoChar(&literal, '\'');
		appendStringInfoChar(&literal, *p);
	}

	/*
	 * The approval also goes in the primary message: many migration tools
	 * (knex, node-pg-migrate, Prisma) show that line alone.  A long list is
	 * left to the HINT.
	 */
	if (literal.len > MIGSAFE_MESSAGE_APPROVAL_MAX)
		ereport(elevel,
				(errcode(ERRCODE_MIGSAFE_NOT_APPROVED),
				 nobjs == 1 ?
				 errmsg("%s on %s \"%s\" requires migsafe approval",
						tag, target_noun(first), display_name(first)) :
				 errmsg_plural("%s on %s \"%s\" and %d other object requires migsafe approval",
							   "%s on %s \"%s\" and %d other objects require migsafe approval",
							   nobjs - 1,
							   tag, target_noun(first), display_name(first),
							   nobjs - 1),
				 errdetail_internal("%s", detail.data),
				 errhint("To approve them, run SET LOCAL migsafe.approve = '%s' in the same transaction.",
						 literal.data)));
	ereport(elevel,
			(errcode(ERRCODE_MIGSAFE_NOT_APPROVED),
			 nobjs == 1 ?
			 errmsg("%s on %s \"%s\" requires migsafe approval (migsafe.approve = '%s')",
					tag, target_noun(first), display_name(first), literal.data) :
			 errmsg_plural("%s on %s \"%s\" and %d other object requires migsafe approval (migsafe.approve = '%s')",
						   "%s on %s \"%s\" and %d other objects require migsafe approval (migsafe.approve = '%s')",
						   nobjs - 1,
						   tag, target_noun(first), display_name(first),
						   nobjs - 1, literal.data),
			 errdetail_internal("%s", detail.data),
			 database ?
			 errhint("To approve it, run SET migsafe.approve = '%s' in the same session; DROP DATABASE cannot run inside a transaction block.",
					 literal.data) :
			 nobjs == 1 ?
			 errhint("To approve it, run SET LOCAL migsafe.approve = '%s' in the same transaction.",
					 literal.data) :
			 errhint("To approve them, run SET LOCAL migsafe.approve = '%s' in the same transaction.",
					 literal.data)));
}

/* The identity of a target, as PostgreSQL names objects (quoted) */
static char *
target_identity(MigsafeTarget *t)
{
	if (t->protected)
		return t->obj_identity;
	if (t->classid == DatabaseRelationId)
		return pstrdup(quote_identifier(t->relname));
	if (t->classid == ExtensionRelationId)
		return pstrdup("migsafe");
	if (t->subid > 0)
		return psprintf("%s.%s", quote_qualified_identifier(t->nspname, t->relname),
						quote_identifier(t->attname));
	return quote_qualified_identifier(t->nspname, t->relname);
}

/* The names a DROP or TRUNCATE names, as written */
static char *
named_objects(Node *parsetree)
{
	StringInfoData buf;
	List	   *objects = NIL;
	ListCell   *lc;

	initStringInfo(&buf);
	if (IsA(parsetree, DropStmt))
		objects = ((DropStmt *) parsetree)->objects;
	else if (IsA(parsetree, TruncateStmt))
		objects = ((TruncateStmt *) parsetree)->relations;
	foreach(lc, objects)
	{
		Node	   *obj = lfirst(lc);
		char	   *name = NULL;

		if (IsA(obj, List))
			name = NameListToString((List *) obj);
		else if (IsA(obj, String))
			name = strVal(obj);
		else if (IsA(obj, TypeName))
			name = TypeNameToString((TypeName *) obj);
		else if (IsA(obj, ObjectWithArgs))
			name = NameListToString(((ObjectWithArgs *) obj)->objname);
		else if (IsA(obj, RangeVar))
			name = ((RangeVar *) obj)->schemaname ?
				psprintf("%s.%s", ((RangeVar *) obj)->schemaname,
						 ((RangeVar *) obj)->relname) :
				((RangeVar *) obj)->relname;
		if (name != NULL)
			appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", name);
	}
	return buf.len ? buf.data : NULL;
}

/*
 * command_object
 *
 * Type and identity of the object a command is about: for DROP and
 * TRUNCATE the names as written (the objects are gone, their rows say
 * exactly what went), otherwise the first object the command created or
 * altered, named after it ran.
 */
static void
command_object(MigsafeCommand *cmd, const char **type, const char **identity)
{
	Node	   *parsetree = cmd->parsetree;

	*type = NULL;
	*identity = NULL;
	if (parsetree != NULL && IsA(parsetree, DropStmt))
	{
		char	   *t = pstrdup(cmd->tag + strlen("DROP "));
		char	   *p;

		for (p = t; *p; p++)
			*p = pg_ascii_tolower((unsigned char) *p);
		*type = t;
		*identity = named_objects(parsetree);
	}
	else if (parsetree != NULL && IsA(parsetree, TruncateStmt))
	{
		*type = "table";
		*identity = named_objects(parsetree);
	}
	else if (parsetree != NULL && IsA(parsetree, DropdbStmt))
	{
		*type = "database";
		*identity = quote_identifier(((DropdbStmt *) parsetree)->dbname);
	}
	else if (parsetree != NULL && IsA(parsetree, CreateStmt) &&
			 OidIsValid(RangeVarGetRelid(((CreateStmt *) parsetree)->relation,
										 NoLock, true)))
	{
		/* not the sequence of a serial column, made first */
		ObjectAddress addr;

		ObjectAddressSet(addr, RelationRelationId,
						 RangeVarGetRelid(((CreateStmt *) parsetree)->relation,
										  NoLock, true));
		*type = getObjectTypeDescription(&addr, true);
		*identity = getObjectIdentity(&addr, true);
	}
	else if (OidIsValid(cmd->object.classId))
	{
		*type = getObjectTypeDescription(&cmd->object, true);
		*identity = getObjectIdentity(&cmd->object, true);
	}
	else if (parsetree != NULL && IsA(parsetree, AlterTableStmt))
	{
		RangeVar   *rv = ((AlterTableStmt *) parsetree)->relation;

		*type = ((AlterTableStmt *) parsetree)->objtype == OBJECT_TYPE ?
			"type" : "table";
		*identity = rv->schemaname ?
			psprintf("%s.%s", rv->schemaname, rv->relname) : rv->relname;
	}
}

/*
 * audit_rows
 *
 * The audit rows of cmd: one for the command, with the given decision, and
 * one per target in list.  Allocated in the current memory context.
 */
static List *
audit_rows(MigsafeCommand *cmd, List *list, const char *decision)
{
	MigsafeAuditRow *row = palloc0(sizeof(MigsafeAuditRow));
	List	   *rows;
	ListCell   *lc;

	row->command_tag = cmd->tag;
	command_object(cmd, &row->object_type, &row->object_identity);
	row->statement = cmd->stmt_text;
	row->nested = cmd->nested;
	row->destructive = cmd->destructive || list != NIL;
	row->decision = decision;
	row->wal_lsn = cmd->wal_lsn;
	rows = list_make1(row);

	foreach(lc, list)
	{
		MigsafeTarget *t = lfirst(lc);
		MigsafeAuditRow *r = palloc0(sizeof(MigsafeAuditRow));

		r->command_tag = cmd->tag;
		r->object_type = target_noun(t);
		r->object_identity = target_identity(t);
		r->statement = cmd->stmt_text;
		r->nested = cmd->nested;
		r->object_scope = true;
		r->destructive = true;
		r->decision = migsafe_guard_decision_name(t->decision);
		r->approved_by = t->matched;
		r->snapshot_id = t->snapshot_id;
		if (t->decision == MIGSAFE_DECISION_BLOCKED ||
			t->decision == MIGSAFE_DECISION_WARNED)
		{
			StringInfoData detail;

			initStringInfo(&detail);
			describe_target(&detail, t);
			if (t->snapshot_note)
				appendStringInfo(&detail, " %s", t->snapshot_note);
			r->detail = detail.data;
		}
		else
			r->detail = t->snapshot_note;
		r->wal_lsn = cmd->wal_lsn;
		rows = lappend(rows, r);
	}
	return rows;
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

/* Order targets by identity, so that messages are stable */
static int
target_cmp(const ListCell *a, const ListCell *b)
{
	MigsafeTarget *ta = lfirst(a);
	MigsafeTarget *tb = lfirst(b);

	return strcmp(ta->ident, tb->ident);
}

/* Report every refused target of cmd: ERROR if any is blocked */
static void
report_decisions(MigsafeCommand *cmd, List *targets)
{
	List	   *blocked = NIL;
	List	   *warned = NIL;
	ListCell   *lc;

	foreach(lc, targets)
	{
		MigsafeTarget *t = lfirst(lc);

		if (t->follows)
			continue;
		if (t->decision == MIGSAFE_DECISION_BLOCKED)
			blocked = lappend(blocked, t);
		else if (t->decision == MIGSAFE_DECISION_WARNED)
			warned = lappend(warned, t);
	}
	list_sort(blocked, target_cmp);
	list_sort(warned, target_cmp);
	if (blocked != NIL)
	{
		/* the ERROR aborts the transaction: the rows go through the queue */
		migsafe_audit_queue(OidIsValid(cmd->audit_dbid) ?
							cmd->audit_dbid : MyDatabaseId,
							audit_rows(cmd, blocked, "blocked"));
		report_targets(cmd, blocked, ERROR);
	}
	if (warned != NIL)
		report_targets(cmd, warned, WARNING);
}

/* ----------------------------------------------------------------
 * Working out the targets of a statement
 * ----------------------------------------------------------------
 */

/*
 * lock_audit_log_first
 *
 * A statement that may drop migsafe.audit_log (DROP EXTENSION or DROP
 * SCHEMA naming migsafe, DROP OWNED) takes the log's lock before anything
 * else.  PostgreSQL locks a dropped schema's members in dependency order,
 * the log's sequence before the log, while the audit writer inserting into
 * the log takes the table first: without this they deadlock.  The lock is
 * taken outside the dry run, so the statement keeps it.
 */
static void
lock_audit_log_first(Node *parsetree)
{
	bool		may_drop_log = IsA(parsetree, DropOwnedStmt);
	Oid			nsp;
	Oid			relid;

	if (IsA(parsetree, DropStmt) &&
		(((DropStmt *) parsetree)->removeType == OBJECT_EXTENSION ||
		 ((DropStmt *) parsetree)->removeType == OBJECT_SCHEMA))
	{
		ListCell   *lc;

		foreach(lc, ((DropStmt *) parsetree)->objects)
			if (IsA(lfirst(lc), String) &&
				strcmp(strVal(lfirst(lc)), "migsafe") == 0)
			may_drop_log = true;
	}
	if (!may_drop_log)
		return;
	nsp = get_namespace_oid("migsafe", true);
	relid = OidIsValid(nsp) ? get_relname_relid("audit_log", nsp) : InvalidOid;
	if (OidIsValid(relid))
		LockRelationOid(relid, AccessExclusiveLock);
	/* then the snapshot registry, which changes write after the log */
	relid = OidIsValid(nsp) ? get_relname_relid("snapshots", nsp) : InvalidOid;
	if (OidIsValid(relid))
		LockRelationOid(relid, AccessExclusiveLock);
}

/*
 * dry_run
 *
 * Run a DROP, DROP OWNED or ALTER TABLE ... DROP COLUMN in a
 * subtransaction that is always rolled back, with cmd collecting: the
 * object-access hook adds every table, column, sequence and materialized
 * view the statement drops, cascades and partitions included.  Notices are
 * silenced for the dry run (the setting reverts with the subtransaction).
 * Event triggers fire in it too, and whatever they do is rolled back with
 * it; statements they run are not collected (a muted frame).  Switching
 * them off with session_replication_role would reset every cached plan of
 * the session twice per statement.  An error the statement raises is
 * raised as it would have been.
 */
static void
dry_run(MigsafeCommand *cmd, PlannedStmt *pstmt, const char *queryString,
		ProcessUtilityContext context, ParamListInfo params,
		QueryEnvironment *queryEnv)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	cmd->collecting = true;
	dry_run_depth++;
	PG_TRY();
	{
		(void) set_config_option("client_min_messages", "error",
								 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
								 true, 0, false);
		standard_ProcessUtility(pstmt, queryString, true, context, params,
								queryEnv, None_Receiver, NULL);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		dry_run_depth--;
		cmd->collecting = false;
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		ReThrowError(edata);
	}
	PG_END_TRY();
	dry_run_depth--;
	cmd->collecting = false;
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
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
		{
			List	   *children = find_all_inheritors(relid,
													   AccessExclusiveLock,
													   NULL);

			relids = list_concat_unique_oid(relids, children);
		}
	}

	if (stmt->behavior == DROP_CASCADE)
	{
		for (;;)
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
	}

	foreach(lc, relids)
	{
		(void) add_rel_target(cmd, MIGSAFE_OP_TRUNCATE, lfirst_oid(lc), 0);

		/*
		 * RESTART IDENTITY resets the sequences the tables own: their values
		 * are data even when the table is empty (they follow an approval of
		 * the table, not its emptiness).
		 */
		if (stmt->restart_seqs)
		{
			ListCell   *sc;

			foreach(sc, getOwnedSequences(lfirst_oid(lc)))
				(void) add_rel_target(cmd, MIGSAFE_OP_RESTART, lfirst_oid(sc), 0);
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

				if (relkind == RELKIND_RELATION)
					(void) add_rel_target(cmd, MIGSAFE_OP_BLANK, dep->objid,
										  dep->objsubid);
				if (relkind == RELKIND_RELATION ||
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
				(void) add_rel_target(cmd, op, lfirst_oid(lc), attnum);
		}
	}
	systable_endscan(scan);
	table_close(classRel, AccessShareLock);
}

/*
 * collect_generated
 *
 * DROP COLUMN ... CASCADE also drops the generated columns computed from
 * the column (and those computed from them): the only columns a column
 * drop cascades to.  Walks pg_depend.
 */
static void
collect_generated(MigsafeCommand *cmd, Oid relid, AttrNumber attnum)
{
	Relation	depRel = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[3];
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *found = NIL;
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
			found = lappend_oid(found, dep->objid);
	}
	systable_endscan(scan);
	table_close(depRel, AccessShareLock);

	/* the columns those expressions compute */
	depRel = table_open(AttrDefaultRelationId, AccessShareLock);
	foreach(lc, found)
	{
		ScanKeyData okey;

		ScanKeyInit(&okey, Anum_pg_attrdef_oid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(lfirst_oid(lc)));
		scan = systable_beginscan(depRel, AttrDefaultOidIndexId, true,
								  NULL, 1, &okey);
		tup = systable_getnext(scan);
		if (HeapTupleIsValid(tup))
		{
			Form_pg_attrdef def = (Form_pg_attrdef) GETSTRUCT(tup);

			if (def->adrelid == relid && def->adnum != attnum &&
				find_target(cmd, RelationRelationId, relid, def->adnum) == NULL)
				columns = lappend_int(columns, def->adnum);
		}
		systable_endscan(scan);
	}
	table_close(depRel, AccessShareLock);
	found = columns;
	foreach(lc, found)
	{
		(void) add_rel_target(cmd, MIGSAFE_OP_DROP, relid, lfirst_int(lc));
		collect_generated(cmd, relid, lfirst_int(lc));
	}
}

/*
 * collect_alter
 *
 * The columns an ALTER TABLE drops or retypes (with the same column of
 * inheritance children and partitions, unless ONLY), or, for ALTER TYPE on
 * a composite type, the columns whose stored values lose or change an
 * attribute.  Statements on objects the user does not own are left to
 * ALTER's own permission error.
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
		/* ALTER SEQUENCE ... RESTART */
		relid = RangeVarGetRelid(((AlterSeqStmt *) parsetree)->sequence,
								 NoLock, true);
		if (OidIsValid(relid) && migsafe_rel_ownercheck(relid, GetUserId()))
			(void) add_rel_target(cmd, MIGSAFE_OP_RESTART, relid, 0);
		return;
	}
	stmt = (AlterTableStmt *) parsetree;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid) || !migsafe_rel_ownercheck(relid, GetUserId()))
		return;
	LockRelationOid(relid, AccessExclusiveLock);

	if (stmt->objtype == OBJECT_TYPE)
	{
		Oid			typid = get_rel_type_id(relid);

		foreach(lc, stmt->cmds)
		{
			AlterTableCmd *c = lfirst_node(AlterTableCmd, lc);

			if (c->subtype == AT_DropColumn)
				collect_type_users(cmd, typid);
			if (c->behavior == DROP_CASCADE &&
				(c->subtype == AT_DropColumn || c->subtype == AT_AlterColumnType))
				collect_typed_tables(cmd,
									 c->subtype == AT_DropColumn ?
									 MIGSAFE_OP_DROP : MIGSAFE_OP_RETYPE,
									 typid, c->name);
		}
		return;
	}

	rels = stmt->relation->inh ?
		find_all_inheritors(relid, AccessExclusiveLock, NULL) :
		list_make1_oid(relid);

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *c = lfirst_node(AlterTableCmd, lc);
		AttrNumber	attnum;
		Oid			seqid;

		/* an unlogged table is emptied by the next crash, and by failover */
		if (c->subtype == AT_SetUnLogged)
			(void) add_rel_target(cmd, MIGSAFE_OP_UNLOG, relid, 0);

		/*
		 * DROP IDENTITY drops the identity's sequence, with its current
		 * value; SET ... RESTART resets it.
		 */
		if (c->subtype != AT_DropIdentity && c->subtype != AT_SetIdentity)
			continue;
		attnum = get_attnum(relid, c->name);
		seqid = attnum > 0 ? getIdentitySequence(relid, attnum, true) : InvalidOid;
		if (!OidIsValid(seqid))
			continue;
		if (c->subtype == AT_DropIdentity)
			(void) add_rel_target(cmd, MIGSAFE_OP_DROP, seqid, 0);
		else
			(void) add_rel_target(cmd, MIGSAFE_OP_RESTART, seqid, 0);
	}
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *c = lfirst_node(AlterTableCmd, lc);
		ListCell   *rc;

		if (c->subtype != AT_DropColumn && c->subtype != AT_AlterColumnType)
			continue;
		foreach(rc, rels)
		{
			Oid			r = lfirst_oid(rc);
			HeapTuple	atttup = SearchSysCacheAttName(r, c->name);
			Form_pg_attribute att;

			if (!HeapTupleIsValid(atttup))
				continue;
			att = (Form_pg_attribute) GETSTRUCT(atttup);

			/*
			 * A child's column goes with the parent's only when it was
			 * inherited from that parent alone; partitions always follow.
			 */
			if (r == relid || c->subtype == AT_AlterColumnType ||
				get_rel_relispartition(r) ||
				(!att->attislocal && att->attinhcount == 1))
			{
				(void) add_rel_target(cmd,
									  c->subtype == AT_DropColumn ?
									  MIGSAFE_OP_DROP : MIGSAFE_OP_RETYPE,
									  r, att->attnum);
				if (c->subtype == AT_DropColumn && c->behavior == DROP_CASCADE)
					collect_generated(cmd, r, att->attnum);
			}
			ReleaseSysCache(atttup);
		}
	}
}

/* Cut one statement out of a possibly multi-statement string */
static char *
statement_text(PlannedStmt *pstmt, const char *queryString)
{
	int			loc = pstmt->stmt_location;
	int			len = pstmt->stmt_len;
	char	   *s;

	if (queryString == NULL)
		return NULL;
	if (loc < 0 || loc > (int) strlen(queryString))
		loc = 0;
	if (len <= 0)
		len = strlen(queryString) - loc;
	while (len > 0 && scanner_isspace(queryString[loc]))
		loc++, len--;
	while (len > 0 && (scanner_isspace(queryString[loc + len - 1]) ||
					   queryString[loc + len - 1] == ';'))
		len--;
	if (len > 1000)
		s = psprintf("%.*s...",
					 pg_mbcliplen(queryString + loc, len, 1000),
					 queryString + loc);
	else
		s = pnstrdup(queryString + loc, len);
	return s;
}

/*
 * guard_dropdb
 *
 * DROP DATABASE of a database that carries migsafe's security label (set
 * by CREATE EXTENSION migsafe there, and inherited by CREATE DATABASE from
 * a marked template) needs an approval naming it, from any database.
 * Databases the user may not drop are left to DROP DATABASE's own error.
 */
static void
guard_dropdb(DropdbStmt *stmt, const char *tag)
{
	Oid			dboid = get_database_oid(stmt->dbname, true);
	ObjectAddress addr;
	MigsafeTarget *t;
	char	   *label;

	/*
	 * Not skipped with migsafe.mode = off: the database holds migsafe's audit
	 * log, which the mode does not switch off.
	 */
	if (!OidIsValid(dboid) || !pg_database_ownercheck(dboid, GetUserId()))
		return;
	ObjectAddressSet(addr, DatabaseRelationId, dboid);
	label = GetSecurityLabel(&addr, MIGSAFE_LABEL_PROVIDER);
	if (label == NULL)
		return;

	t = palloc0(sizeof(MigsafeTarget));
	t->op = MIGSAFE_OP_DROP;
	t->classid = DatabaseRelationId;
	t->objid = dboid;
	t->relname = pstrdup(stmt->dbname);
	t->ident = psprintf("DATABASE %s", quote_identifier(stmt->dbname));
	t->bytes = -1;
	if (pg_database_aclcheck(dboid, GetUserId(), ACL_CONNECT) == ACLCHECK_OK)
		t->bytes = DatumGetInt64(DirectFunctionCall1(pg_database_size_oid,
													 ObjectIdGetDatum(dboid)));
	decide_target(NULL, t, false, "ProcessUtility");
	if (t->decision == MIGSAFE_DECISION_BLOCKED ||
		t->decision == MIGSAFE_DECISION_WARNED)
	{
		MigsafeCommand fake = {0};

		fake.tag = tag;
		fake.stmt_text = psprintf("DROP DATABASE %s",
								  quote_identifier(stmt->dbname));
		fake.destructive = true;
		fake.wal_lsn = GetXLogInsertRecPtr();
		/* the row goes to the dropped database's log, where migsafe is */
		fake.audit_dbid = dboid;
		report_decisions(&fake, list_make1(t));
	}
}

/*
 * guard_own_objects
 *
 * Statements about migsafe's own tables that the object-access hook cannot
 * judge afterwards: a rename or SET SCHEMA (once moved, the table no
 * longer looks like migsafe's), and a table made to inherit from the audit
 * log (its rows would show in the log; pg_inherits is written after the
 * creation hook, and ADD INHERIT fires none).  They need an approval like
 * any change to migsafe's objects.
 */
static void
guard_own_objects(Node *parsetree)
{
	List	   *relations = NIL;
	ListCell   *lc;

	if (IsA(parsetree, RenameStmt) && ((RenameStmt *) parsetree)->relation)
		relations = list_make1(((RenameStmt *) parsetree)->relation);
	else if (IsA(parsetree, AlterObjectSchemaStmt) &&
			 ((AlterObjectSchemaStmt *) parsetree)->relation)
		relations = list_make1(((AlterObjectSchemaStmt *) parsetree)->relation);
	else if (IsA(parsetree, CreateStmt))
		relations = ((CreateStmt *) parsetree)->inhRelations;
	else if (IsA(parsetree, AlterTableStmt))
	{
		foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
		{
			AlterTableCmd *c = lfirst_node(AlterTableCmd, lc);

			if (c->subtype == AT_AddInherit && c->def != NULL &&
				IsA(c->def, RangeVar))
				relations = lappend(relations, c->def);
		}
	}

	foreach(lc, relations)
	{
		Oid			relid = RangeVarGetRelid(lfirst_node(RangeVar, lc),
											 NoLock, true);

		if (OidIsValid(relid) &&
			is_migsafe_object(RelationRelationId, relid, NULL))
			check_object(MIGSAFE_OP_ALTER, RelationRelationId, relid, 0,
						 false, true, "ProcessUtility");
	}
}

/*
 * release_databases
 *
 * Commands that refuse to run while another process is connected to a
 * database (DROP DATABASE, CREATE DATABASE from a template, renaming it or
 * moving it to another tablespace): let migsafe's audit writer for that
 * database finish and disconnect first, so that it is never the one in the
 * way.
 */
static void
release_databases(Node *parsetree)
{
	const char *dbname = NULL;

	if (IsA(parsetree, DropdbStmt))
	{
		dbname = ((DropdbStmt *) parsetree)->dbname;
		dropping_dboid = get_database_oid(dbname, true);
	}
	else if (IsA(parsetree, CreatedbStmt))
	{
		ListCell   *lc;

		dbname = "template1";
		foreach(lc, ((CreatedbStmt *) parsetree)->options)
		{
			DefElem    *opt = lfirst_node(DefElem, lc);

			if (strcmp(opt->defname, "template") == 0 && opt->arg != NULL)
				dbname = defGetString(opt);
		}
	}
	else if (IsA(parsetree, AlterDatabaseStmt))
		dbname = ((AlterDatabaseStmt *) parsetree)->dbname;
	else if (IsA(parsetree, RenameStmt) &&
			 ((RenameStmt *) parsetree)->renameType == OBJECT_DATABASE)
		dbname = ((RenameStmt *) parsetree)->subname;
	if (dbname != NULL)
		migsafe_worker_release(get_database_oid(dbname, true));
}

/* The setting an ALTER ROLE/DATABASE/SYSTEM ... SET would store */
static const char *
stored_setting_name(Node *parsetree)
{
	VariableSetStmt *setstmt = NULL;

	if (IsA(parsetree, AlterRoleSetStmt))
		setstmt = ((AlterRoleSetStmt *) parsetree)->setstmt;
	else if (IsA(parsetree, AlterDatabaseSetStmt))
		setstmt = ((AlterDatabaseSetStmt *) parsetree)->setstmt;
	else if (IsA(parsetree, AlterSystemStmt))
		setstmt = ((AlterSystemStmt *) parsetree)->setstmt;
	return setstmt && setstmt->name ? setstmt->name : "migsafe.approve";
}

/*
 * migsafe_guard_begin
 *
 * Called by the ProcessUtility hook before a statement that passed the
 * node-tag fast path runs.  Returns the frame of a guarded statement, which
 * the caller must hand to migsafe_guard_end() whether the statement
 * succeeds or fails, or NULL when there is nothing to guard.  Raises the
 * blocking error (with nothing changed) when a target is refused.
 * The frame lives in a child of the caller's memory context.
 */
MigsafeCommand *
migsafe_guard_begin(PlannedStmt *pstmt, const char *queryString,
					ProcessUtilityContext context, ParamListInfo params,
					QueryEnvironment *queryEnv)
{
	Node	   *parsetree = pstmt->utilityStmt;
	MigsafeStmtKind kind = migsafe_classify_statement(parsetree);
	MigsafeCommand *cmd;
	ListCell   *lc;

	/*
	 * Statements run during a dry run (by an ENABLE ALWAYS event trigger):
	 * rolled back with it, and not the dry-run statement's doing.  A muted
	 * frame keeps the object-access hook from collecting what they touch.
	 */
	if (dry_run_depth > 0)
	{
		cmd = MemoryContextAllocZero(CurrentMemoryContext, sizeof(MigsafeCommand));
		cmd->cxt = AllocSetContextCreate(CurrentMemoryContext, "migsafe command",
										 ALLOCSET_SMALL_SIZES);
		cmd->muted = true;
		cmd->outer = current_command;
		current_command = cmd;
		return cmd;
	}
	if (kind == MIGSAFE_STMT_STORED_APPROVAL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s cannot be stored with ALTER ROLE, ALTER DATABASE or ALTER SYSTEM",
						stored_setting_name(parsetree)),
				 strcmp(stored_setting_name(parsetree), "migsafe.skip_snapshot") == 0 ?
				 errdetail("A stored waiver would waive the snapshots of every later session's approved changes.") :
				 errdetail("A stored approval would approve every later session's destructive changes."),
				 errhint("Approve each migration with SET LOCAL migsafe.approve, or ask a superuser for migsafe.exempt or migsafe.exempt_roles.")));

	/* DROP DATABASE is guarded from every database, migsafe or not */
	if (kind == MIGSAFE_STMT_DROPDB)
		guard_dropdb((DropdbStmt *) parsetree,
					 GetCommandTagName(CreateCommandTag(parsetree)));
	release_databases(parsetree);

	/* Everything else only where migsafe is installed, but not its script */
	if (!installed() || in_own_script())
		return NULL;
	if (kind == MIGSAFE_STMT_RENAME || IsA(parsetree, AlterTableStmt))
		track_rename(parsetree);

	/*
	 * Statements expanded from another one (the index of a PRIMARY KEY, a
	 * serial's sequence) are part of that command and its audit row, and so
	 * are the plain schema changes of an extension script (the CREATE
	 * EXTENSION row stands for them).  None of them can destroy data;
	 * destructive statements in scripts are guarded like any other.
	 */
	if (kind == MIGSAFE_STMT_OTHER || kind == MIGSAFE_STMT_RENAME ||
		kind == MIGSAFE_STMT_CREATEDB)
	{
		if (context == PROCESS_UTILITY_SUBCOMMAND || creating_extension)
			return NULL;
	}

	cmd = MemoryContextAllocZero(CurrentMemoryContext, sizeof(MigsafeCommand));
	cmd->cxt = AllocSetContextCreate(CurrentMemoryContext, "migsafe command",
									 ALLOCSET_SMALL_SIZES);
	cmd->parsetree = parsetree;
	cmd->tag = GetCommandTagName(CreateCommandTag(parsetree));
	cmd->stmt_text = statement_text(pstmt, queryString);
	if (cmd->stmt_text == NULL)
		cmd->stmt_text = "";
	cmd->nested = context != PROCESS_UTILITY_TOPLEVEL;
	cmd->destructive = kind == MIGSAFE_STMT_DROP ||
		kind == MIGSAFE_STMT_TRUNCATE || kind == MIGSAFE_STMT_ALTER ||
		kind == MIGSAFE_STMT_DROPDB;
	cmd->wal_lsn = GetXLogInsertRecPtr();
	cmd->outer = current_command;
	current_command = cmd;

	PG_TRY();
	{
		List	   *live = NIL;

		guard_own_objects(parsetree);

		/* with migsafe.mode = off the command is only audited */
		if (!cmd->destructive || kind == MIGSAFE_STMT_DROPDB ||
			migsafe_mode == MIGSAFE_MODE_OFF)
			kind = MIGSAFE_STMT_OTHER;

		switch (kind)
		{
			case MIGSAFE_STMT_DROP:
				lock_audit_log_first(parsetree);
				dry_run(cmd, pstmt, queryString, context, params, queryEnv);
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

		/*
		 * The dry run's locks went with its subtransaction: lock again,
		 * before measuring, and re-read names that may have changed since.
		 * Tables are locked before sequences, as an INSERT does (table, then
		 * its identity or serial sequence): locking in the dry run's order
		 * (dependents first) could deadlock with a concurrent writer.
		 */
		list_sort(cmd->targets, lock_order_cmp);
		foreach(lc, cmd->targets)
		{
			MigsafeTarget *t = lfirst(lc);

			if (t->classid == RelationRelationId && !t->protected &&
				t->op == MIGSAFE_OP_BLANK)
			{
				/*
				 * Tables storing a composite type that loses an attribute:
				 * core locks none, so only keep writers out while measuring,
				 * and only tables the user may read (else they count as
				 * holding data, unmeasured).
				 */
				t->no_scan = pg_class_aclcheck(t->objid, GetUserId(),
											   ACL_SELECT) != ACLCHECK_OK;
				if (!t->no_scan)
					LockRelationOid(t->objid, ShareLock);
				if (!fill_names(t))
					continue;
			}
			else if (t->classid == RelationRelationId && !t->protected)
			{
				LockRelationOid(t->objid, AccessExclusiveLock);
				if (!fill_names(t))
					continue;
			}
			live = lappend(live, t);
		}
		cmd->targets = live;
		foreach(lc, cmd->targets)
		{
			MigsafeTarget *t = lfirst(lc);

			if (t->decision == MIGSAFE_DECISION_NONE)
				decide_target(cmd, t, true, "ProcessUtility");
		}
		report_decisions(cmd, cmd->targets);

		/* allowed: keep what the approved targets lose, before it runs */
		migsafe_snapshot_take(cmd, pstmt);
	}
	PG_CATCH();
	{
		migsafe_guard_end(cmd);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return cmd;
}

/*
 * migsafe_guard_record
 *
 * Called by the ProcessUtility hook after the statement of cmd succeeded
 * (NULL is accepted): write its audit rows in the current transaction,
 * the command's and one per object it destroyed or rewrote.
 */
void
migsafe_guard_record(MigsafeCommand *cmd)
{
	const char *decision = "allowed";
	ListCell   *lc;
	MemoryContext old;

	/*
	 * DROP EXTENSION migsafe took the audit log with it (asked afresh: the
	 * cached answer may predate the drop).
	 */
	if (cmd == NULL || cmd->muted ||
		!OidIsValid(get_extension_oid("migsafe", true)))
		return;

	foreach(lc, cmd->targets)
	{
		MigsafeTarget *t = lfirst(lc);

		if (t->decision == MIGSAFE_DECISION_WARNED)
			decision = "warned";
		else if (t->decision == MIGSAFE_DECISION_APPROVED &&
				 strcmp(decision, "warned") != 0)
			decision = "approved";
		else if (t->decision == MIGSAFE_DECISION_EXEMPT &&
				 strcmp(decision, "allowed") == 0)
			decision = "exempt";
	}
	old = MemoryContextSwitchTo(cmd->cxt);
	migsafe_audit_write(audit_rows(cmd, cmd->targets, decision));
	MemoryContextSwitchTo(old);
}

/*
 * migsafe_guard_end
 *
 * Pop a frame returned by migsafe_guard_begin (NULL is accepted) and free
 * its memory.
 */
void
migsafe_guard_end(MigsafeCommand *cmd)
{
	if (cmd == NULL)
		return;
	current_command = cmd->outer;
	MemoryContextDelete(cmd->cxt);
	pfree(cmd);
}

/*
 * migsafe_guard_after
 *
 * Called by the ProcessUtility hook after a statement succeeded.  A
 * database created from a template that migsafe guards is guarded too: it
 * holds the extension already.
 */
void
migsafe_guard_after(PlannedStmt *pstmt)
{
	CreatedbStmt *stmt;
	const char *template = "template1";
	ObjectAddress addr;
	ListCell   *lc;

	if (IsA(pstmt->utilityStmt, DropdbStmt))
	{
		migsafe_worker_forget(dropping_dboid);
		return;
	}
	if (!IsA(pstmt->utilityStmt, CreatedbStmt))
		return;
	stmt = (CreatedbStmt *) pstmt->utilityStmt;
	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "template") == 0 && opt->arg != NULL)
			template = defGetString(opt);
	}
	ObjectAddressSet(addr, DatabaseRelationId,
					 get_database_oid(template, true));
	if (!OidIsValid(addr.objectId) ||
		GetSecurityLabel(&addr, MIGSAFE_LABEL_PROVIDER) == NULL)
		return;
	ObjectAddressSet(addr, DatabaseRelationId,
					 get_database_oid(stmt->dbname, false));
	SetSecurityLabel(&addr, MIGSAFE_LABEL_PROVIDER, MIGSAFE_LABEL_GUARDED);
}

/* ----------------------------------------------------------------
 * The object-access hook: every object really dropped or truncated
 * ----------------------------------------------------------------
 */

/*
 * decided_target
 *
 * The target the innermost statement decided for this object and
 * operation, or NULL.  Decisions of outer statements are not reused: the
 * object may have changed since (rows inserted by a trigger, say), so an
 * inner statement's undecided objects are decided afresh.
 */
static MigsafeTarget *
decided_target(MigsafeOp op, Oid classid, Oid objid, int32 subid)
{
	MigsafeTarget *t;

	if (current_command == NULL)
		return NULL;
	t = find_target(current_command, classid, objid, subid);
	if (t == NULL || t->decision == MIGSAFE_DECISION_NONE ||
		(t->op == MIGSAFE_OP_TRUNCATE) != (op == MIGSAFE_OP_TRUNCATE))
		return NULL;
	return t;
}

/*
 * catalog_oid_field
 *
 * An OID column of a catalog row found by its OID, read with SnapshotSelf:
 * at OAT_POST_CREATE the row was inserted by this very command, before any
 * CommandCounterIncrement, and syscaches do not see it yet.
 */
static Oid
catalog_oid_field(Oid catalog, Oid index, AttrNumber attnum, Oid objid)
{
	Relation	rel = table_open(catalog, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			result = InvalidOid;

	ScanKeyInit(&key, 1 /* oid */ , BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(objid));
	scan = systable_beginscan(rel, index, true, SnapshotSelf, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, attnum, RelationGetDescr(rel),
									 &isnull);

		if (!isnull)
			result = DatumGetObjectId(d);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

/* catalog_oid_field() for snapshot.c */
Oid
migsafe_guard_catalog_oid(Oid catalog, Oid index, AttrNumber attnum, Oid objid)
{
	return catalog_oid_field(catalog, index, attnum, objid);
}

/*
 * Catalogs whose objects belong to a relation (reloid) or to a schema
 * (nspoid), and where to read which: for is_migsafe_object().
 */
typedef struct MigsafeOwnerField
{
	Oid			catalog;
	Oid			index;
	AttrNumber	reloid;			/* owning relation, or InvalidAttrNumber */
	AttrNumber	nspoid;			/* schema, or InvalidAttrNumber */
} MigsafeOwnerField;

static const MigsafeOwnerField owner_fields[] = {
	{RelationRelationId, ClassOidIndexId, InvalidAttrNumber, Anum_pg_class_relnamespace},
	{ProcedureRelationId, ProcedureOidIndexId, InvalidAttrNumber, Anum_pg_proc_pronamespace},
	{TypeRelationId, TypeOidIndexId, InvalidAttrNumber, Anum_pg_type_typnamespace},
	{ConstraintRelationId, ConstraintOidIndexId, Anum_pg_constraint_conrelid, Anum_pg_constraint_connamespace},
	{TriggerRelationId, TriggerOidIndexId, Anum_pg_trigger_tgrelid, InvalidAttrNumber},
	{RewriteRelationId, RewriteOidIndexId, Anum_pg_rewrite_ev_class, InvalidAttrNumber},
	{PolicyRelationId, PolicyOidIndexId, Anum_pg_policy_polrelid, InvalidAttrNumber},
	{AttrDefaultRelationId, AttrDefaultOidIndexId, Anum_pg_attrdef_adrelid, InvalidAttrNumber},
};

/*
 * is_migsafe_object
 *
 * Whether an object is one of migsafe's own, or hangs off one: its schema,
 * its extension, anything in its schema, and the triggers, rules, policies,
 * constraints and defaults of its tables.  (A table made to inherit from the
 * audit log is refused before the statement runs: guard_own_objects.)
 * *owner, when given, gets the table the object hangs off.
 */
static bool
is_migsafe_object(Oid classId, Oid objectId, Oid *owner)
{
	Oid			migsafe_nsp = get_namespace_oid("migsafe", true);
	Oid			nsp = InvalidOid;
	Oid			relid = InvalidOid;
	int			i;

	if (!OidIsValid(migsafe_nsp))
		return false;
	if (classId == NamespaceRelationId)
		return objectId == migsafe_nsp;
	if (classId == ExtensionRelationId)
		return objectId == get_extension_oid("migsafe", true);

	for (i = 0; i < lengthof(owner_fields); i++)
	{
		const MigsafeOwnerField *f = &owner_fields[i];

		if (f->catalog != classId)
			continue;
		if (f->reloid != InvalidAttrNumber)
			relid = catalog_oid_field(f->catalog, f->index, f->reloid, objectId);
		if (OidIsValid(relid))
			nsp = catalog_oid_field(RelationRelationId, ClassOidIndexId,
									Anum_pg_class_relnamespace, relid);
		else if (f->nspoid != InvalidAttrNumber)
			nsp = catalog_oid_field(f->catalog, f->index, f->nspoid, objectId);
		if (classId == RelationRelationId)
			relid = objectId;
		if (owner != NULL)
			*owner = relid;
		return nsp == migsafe_nsp;
	}
	return false;
}

/*
 * add_object_target
 *
 * Add the target for an object seen by the object-access hook: a data
 * relation or column, the migsafe extension, or (protected) another of
 * migsafe's own objects.  Returns NULL when the object is not a target.
 */
static MigsafeTarget *
add_object_target(MigsafeCommand *cmd, MigsafeOp op, Oid classid, Oid objid,
				  int32 subid, bool protected)
{
	MigsafeTarget *t;
	MemoryContext old;
	ObjectAddress addr;

	if (!protected)
	{
		if (classid == RelationRelationId)
			return add_rel_target(cmd, op, objid, subid);
		return add_extension_target(cmd, objid);
	}
	t = find_target(cmd, classid, objid, subid);
	if (t != NULL)
		return t;

	old = MemoryContextSwitchTo(cmd->cxt);
	ObjectAddressSubSet(addr, classid, objid,
						classid == RelationRelationId ? subid : 0);
	t = palloc0(sizeof(MigsafeTarget));
	t->op = op;
	t->classid = classid;
	t->objid = objid;
	t->subid = subid;
	t->protected = true;
	t->obj_type = getObjectTypeDescription(&addr, true);
	t->obj_identity = getObjectIdentity(&addr, true);
	if (t->obj_type == NULL)
		t->obj_type = pstrdup("object");
	if (t->obj_identity == NULL)
	{
		Oid			owner = InvalidOid;

		/* just created: not visible to the catalog snapshot yet */
		(void) is_migsafe_object(classid, objid, &owner);
		if (OidIsValid(owner) && get_rel_name(owner) != NULL)
			t->obj_identity = psprintf("new %s on %s", t->obj_type,
									   quote_qualified_identifier(get_namespace_name(get_rel_namespace(owner)),
																  get_rel_name(owner)));
		else
			t->obj_identity = psprintf("new %s", t->obj_type);
	}
	t->ident = pstrdup("migsafe.*");
	t->orig_name = t->obj_identity;
	t->bytes = -1;
	cmd->targets = lappend(cmd->targets, t);
	MemoryContextSwitchTo(old);
	return t;
}

/*
 * check_object
 *
 * An object is being dropped, truncated or (protected) changed.  In a dry
 * run, collect it.  Otherwise accept it if the statement decided it, or
 * decide it now and raise the blocking error if refused.
 */
static void
check_object(MigsafeOp op, Oid classid, Oid objid, int32 subid,
			 bool locked, bool protected, const char *hook)
{
	MigsafeCommand *cmd = current_command;
	MigsafeTarget *t;
	MigsafeCommand scratch = {0};

	if (cmd != NULL && cmd->muted)
		return;
	if (cmd != NULL && cmd->collecting)
	{
		(void) add_object_target(cmd, op, classid, objid, subid, protected);
		return;
	}

	if (decided_target(op, classid, objid, subid) != NULL)
		return;

	/*
	 * Not decided up front: a path the ProcessUtility hook did not foresee (a
	 * cascade that grew after the dry run, an extension's C code, a command
	 * without a frame).  Decide here, in a scratch frame when there is no
	 * statement frame.
	 */
	if (cmd == NULL)
	{
		scratch.cxt = CurrentMemoryContext;
		scratch.tag = op == MIGSAFE_OP_TRUNCATE ? "TRUNCATE TABLE" : "DROP";
		scratch.stmt_text = debug_query_string ? pstrdup(debug_query_string) : "";
		scratch.destructive = true;
		scratch.wal_lsn = GetXLogInsertRecPtr();
		cmd = &scratch;
	}
	t = add_object_target(cmd, op, classid, objid, subid, protected);
	if (t == NULL)
		return;
	decide_target(cmd, t, locked, hook);
	report_decisions(cmd, list_make1(t));
	if (locked)
		migsafe_snapshot_late(cmd, t);
}

/*
 * Whether the current statement can drop the migsafe extension (DROP
 * EXTENSION, DROP SCHEMA, DROP OWNED): then the extension itself is the
 * target that guards everything of migsafe's that goes with it.
 */
static bool
drops_extensions(void)
{
	Node	   *parsetree;

	if (current_command == NULL || current_command->parsetree == NULL)
		return false;
	parsetree = current_command->parsetree;
	if (IsA(parsetree, DropOwnedStmt))
		return true;
	return IsA(parsetree, DropStmt) &&
		(((DropStmt *) parsetree)->removeType == OBJECT_EXTENSION ||
		 ((DropStmt *) parsetree)->removeType == OBJECT_SCHEMA);
}

/* Whether the migsafe extension's own script is running */
static bool
in_own_script(void)
{
	return creating_extension &&
		CurrentExtensionObject == get_extension_oid("migsafe", true);
}

/*
 * Whether objects of a catalog can be named with getObjectIdentity(): some
 * catalogs that fire object-access events are not object classes (role
 * settings, pg_index during CLUSTER), and naming them raises an error.
 */
static bool
nameable_class(Oid classId)
{
	switch (classId)
	{
		case RelationRelationId:
		case TypeRelationId:
		case ProcedureRelationId:
		case NamespaceRelationId:
		case ConstraintRelationId:
		case TriggerRelationId:
		case RewriteRelationId:
		case PolicyRelationId:
		case AttrDefaultRelationId:
		case ExtensionRelationId:
		case CollationRelationId:
		case ConversionRelationId:
		case LanguageRelationId:
		case OperatorRelationId:
		case OperatorClassRelationId:
		case OperatorFamilyRelationId:
		case AccessMethodRelationId:
		case CastRelationId:
		case TSConfigRelationId:
		case TSDictionaryRelationId:
		case TSParserRelationId:
		case TSTemplateRelationId:
		case ForeignDataWrapperRelationId:
		case ForeignServerRelationId:
		case EventTriggerRelationId:
		case PublicationRelationId:
		case SubscriptionRelationId:
		case StatisticExtRelationId:
		case TransformRelationId:
		case DatabaseRelationId:
		case AuthIdRelationId:
		case TableSpaceRelationId:
			return true;
		default:
			return false;
	}
}

/*
 * note_object
 *
 * An object was created or altered by the current statement: remember the
 * first one for the command's audit row, and guard migsafe's own objects
 * (the audit log, its trigger, functions, schema), which only an approved
 * change may touch.  GRANT and REVOKE are let through: they cannot unseal
 * the audit log (its trigger refuses writes whatever the privileges).
 */
static void
note_object(ObjectAccessType access, Oid classId, Oid objectId, int subId,
			void *arg)
{
	MigsafeCommand *cmd = current_command;
	bool		is_internal;

	if (cmd == NULL || cmd->collecting || cmd->muted)
		return;
	is_internal = access == OAT_POST_CREATE ?
		((ObjectAccessPostCreate *) arg)->is_internal :
		((ObjectAccessPostAlter *) arg)->is_internal;
	if (is_internal || !nameable_class(classId))
		return;
	if (classId != RelationRelationId)
		subId = 0;				/* only columns have sub-objects to name */
	/* CREATE TABLE and CREATE VIEW make the row type first */
	if (!OidIsValid(cmd->object.classId) ||
		(cmd->object.classId == TypeRelationId &&
		 classId == RelationRelationId))
		ObjectAddressSubSet(cmd->object, classId, objectId, subId);
	if (cmd->parsetree != NULL && IsA(cmd->parsetree, GrantStmt))
		return;
	if (is_migsafe_object(classId, objectId, NULL))
		check_object(MIGSAFE_OP_ALTER, classId, objectId, subId, false, true,
					 "object_access");
}

/*
 * migsafe_guard_truncate_approved
 *
 * For the audit log's TRUNCATE trigger: whether the statement running now
 * is a TRUNCATE the guard let through for relid (approved, as a table with
 * data needs).  A TRUNCATE applied by logical replication runs no hook, so
 * it finds no decision and is refused.
 */
bool
migsafe_guard_truncate_approved(Oid relid)
{
	MigsafeTarget *t = decided_target(MIGSAFE_OP_TRUNCATE, RelationRelationId,
									  relid, 0);

	return t != NULL && t->decision != MIGSAFE_DECISION_BLOCKED;
}

/*
 * migsafe_guard_object_access
 *
 * The object-access hook's work.  Creations and alterations matter inside
 * a guarded statement; drops and truncations of relations and columns that
 * hold data, and of migsafe's own objects, wherever migsafe is installed.
 */
void
migsafe_guard_object_access(ObjectAccessType access, Oid classId,
							Oid objectId, int subId, void *arg)
{
	char		relkind;

	if (classId == ExtensionRelationId &&
		(access == OAT_POST_CREATE || access == OAT_DROP))
		installed_lxid = InvalidLocalTransactionId;

	if (access == OAT_POST_CREATE || access == OAT_POST_ALTER)
		note_object(access, classId, objectId, subId, arg);
	else if (access == OAT_DROP)
	{
		ObjectAccessDrop *drop = (ObjectAccessDrop *) arg;

		/* everything a DROP TABLE takes with it decides whether to move */
		if (current_command != NULL && current_command->collecting)
		{
			MemoryContext old = MemoryContextSwitchTo(current_command->cxt);
			ObjectAddress *addr = palloc(sizeof(ObjectAddress));

			ObjectAddressSubSet(*addr, classId, objectId, subId);
			current_command->dropped = lappend(current_command->dropped, addr);
			MemoryContextSwitchTo(old);
		}

		/*
		 * Internal deletions are the old storage of a rewritten table (ALTER
		 * TYPE, VACUUM FULL, CLUSTER: the rewrite itself is guarded in
		 * ProcessUtility), temporary objects at commit, DISCARD or exit, and
		 * an identity's sequence after DROP IDENTITY.  Blocking those would
		 * make COMMIT or backend exit fail; none is a user's data.
		 */
		if (drop != NULL && (drop->dropflags & PERFORM_DELETION_INTERNAL))
			return;

		if (classId == ExtensionRelationId)
		{
			if (!installed() ||
				objectId != get_extension_oid("migsafe", true))
				return;
			check_object(MIGSAFE_OP_DROP, classId, objectId, 0, true, false,
						 "object_access");
			if (current_command == NULL || !current_command->collecting)
			{
				ObjectAddress addr;

				/* the database is no longer guarded once this commits */
				ObjectAddressSet(addr, DatabaseRelationId, MyDatabaseId);
				SetSecurityLabel(&addr, MIGSAFE_LABEL_PROVIDER, NULL);
			}
			return;
		}
		if (classId == RelationRelationId)
		{
			relkind = get_rel_relkind(objectId);
			if ((subId > 0 ? relkind == RELKIND_RELATION :
				 (migsafe_classify_relkind(relkind) ||
				  relkind == RELKIND_PARTITIONED_TABLE)) &&
				!isAnyTempNamespace(get_rel_namespace(objectId)) &&
				installed())
			{
				check_object(MIGSAFE_OP_DROP, classId, objectId, subId, true,
							 false, "object_access");
				return;
			}
		}

		/*
		 * migsafe's own objects that are not members of the extension (the
		 * audit log's trigger): members can only go with DROP EXTENSION,
		 * which is guarded as such.
		 */
		if (installed() && !in_own_script() && !drops_extensions() &&
			is_migsafe_object(classId, objectId, NULL) &&
			getExtensionOfObject(classId, objectId) != get_extension_oid("migsafe", true))
			check_object(MIGSAFE_OP_DROP, classId, objectId, subId, false,
						 true, "object_access");
	}
	else if (access == OAT_TRUNCATE)
	{
		relkind = get_rel_relkind(objectId);
		if (!migsafe_classify_relkind(relkind) ||
			isAnyTempNamespace(get_rel_namespace(objectId)) || !installed())
			return;

		/*
		 * For relations named in TRUNCATE this fires before TRUNCATE checks
		 * privileges and takes its lock.  A role that may not truncate gets
		 * TRUNCATE's own error right after (migsafe's would tell it the
		 * table's size).  An undecided relation is locked here, with the lock
		 * TRUNCATE takes next anyway, so that it can be measured.
		 */
		if (pg_class_aclcheck(objectId, GetUserId(), ACL_TRUNCATE) != ACLCHECK_OK)
			return;
		if (current_command == NULL || current_command->collecting ||
			decided_target(MIGSAFE_OP_TRUNCATE, classId, objectId, 0) == NULL)
			LockRelationOid(objectId, AccessExclusiveLock);
		check_object(MIGSAFE_OP_TRUNCATE, classId, objectId, 0, true, false,
					 "object_access");
	}
}

/* ----------------------------------------------------------------
 * The guard mark on databases, and transaction end
 * ----------------------------------------------------------------
 */

/*
 * migsafe_guard_relabel
 *
 * The security-label provider "migsafe" marks databases where migsafe is
 * installed, so that DROP DATABASE can be guarded from any database.  Only
 * the extension sets and clears the mark; by hand, only a superuser may,
 * and only with the value "guarded" (pg_dump and pg_upgrade restore it).
 */
void
migsafe_guard_relabel(const ObjectAddress *object, const char *seclabel)
{
	if (object->classId != DatabaseRelationId)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("migsafe security labels apply only to databases")));
	if (seclabel != NULL && strcmp(seclabel, MIGSAFE_LABEL_GUARDED) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid migsafe security label \"%s\"", seclabel),
				 errhint("The only valid label is \"%s\".",
						 MIGSAFE_LABEL_GUARDED)));
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to change migsafe security labels"),
				 errdetail("Only superusers can mark a database as guarded by migsafe or remove the mark.")));

	/* removing the mark unguards DROP DATABASE: it needs an approval */
	if (seclabel == NULL)
	{
		MigsafeTarget *t = palloc0(sizeof(MigsafeTarget));
		MigsafeCommand fake = {0};
		char	   *dbname = get_database_name(object->objectId);

		if (dbname == NULL)
			return;
		t->op = MIGSAFE_OP_ALTER;
		t->classid = DatabaseRelationId;
		t->objid = object->objectId;
		t->relname = dbname;
		t->ident = psprintf("DATABASE %s", quote_identifier(dbname));
		t->orig_name = t->ident;
		t->bytes = -1;
		fake.tag = "SECURITY LABEL";
		fake.stmt_text = debug_query_string ? pstrdup(debug_query_string) : "";
		fake.destructive = true;
		fake.audit_dbid = object->objectId;
		decide_target(NULL, t, false, "label");
		report_decisions(&fake, list_make1(t));
	}
}

/*
 * migsafe_guard_xact_callback
 *
 * At transaction end forget renames (their memory goes with
 * TopTransactionContext) and any frame an error left behind.
 */
void
migsafe_guard_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			renames = NIL;
			current_command = NULL;
			dry_run_depth = 0;
			break;
		default:
			break;
	}
}

PG_FUNCTION_INFO_V1(migsafe_register_database);

/*
 * migsafe_register_database
 *
 * SQL function migsafe.register_database(), run by the extension's install
 * script: mark the current database as guarded.
 */
Datum
migsafe_register_database(PG_FUNCTION_ARGS)
{
	ObjectAddress addr;

	ObjectAddressSet(addr, DatabaseRelationId, MyDatabaseId);
	SetSecurityLabel(&addr, MIGSAFE_LABEL_PROVIDER, MIGSAFE_LABEL_GUARDED);
	PG_RETURN_VOID();
}
