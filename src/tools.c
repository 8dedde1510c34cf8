/*-------------------------------------------------------------------------
 *
 * tools.c
 *	  The maintenance tools DBAs run (pg_repack): their scratch objects are
 *	  not user data, and a run is audited once.
 *
 * pg_repack rebuilds a table in a scratch copy (repack.table_<oid>), logs
 * the changes made meanwhile in a scratch log (repack.log_<oid>, with its
 * sequence), swaps the two tables' storage and, in its own function
 * repack.repack_drop(), drops the copy (which then holds the old storage)
 * and the log.  Dropping them loses no data, but they are tables with
 * rows: without help the gate refuses, and the tool retries without end.
 *
 * A tool's scratch relation is recognised by what it is, not by its name
 * alone: it lives in the schema of the tool's extension, it is the log or
 * the copy of an existing table of the database, made after that table
 * (the log has a "row" column of that table's row type; the copy has that
 * table's columns), or the sequence or index of one.  It is decided
 * MIGSAFE_DECISION_SCRATCH only while one of the tool's own extension
 * functions drops it (tracked through the fmgr hook, for the functions
 * that are members of the tool's extension, cached per backend and read
 * again when functions change), or when a DELETE without WHERE empties the
 * log (migsafe.guard_dml), and only for a superuser: pg_repack's functions
 * rewrite the catalogs and are a superuser's tool.  A table someone puts in
 * that schema, a scratch table dropped by hand or by a role that is not a
 * superuser, is guarded like any other; guard.c also refuses a copy whose
 * table was left empty by the swap.
 *
 * Statements about a run's scratch objects, or about the tool's trigger on
 * the user's table, made by a superuser, write no audit rows (renames and
 * moves excepted: they are how a table would be made to look like
 * scratch); the drop of the copy writes one, for the table that was
 * rebuilt.  Other statements run while a tool function runs (a function
 * of the user's index expression, say) are audited as always.
 *
 * Calls catalog.c only.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/tools.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "migsafe.h"
#include "catalog.h"
#include "tools.h"

/* Deepest nesting of tool functions tracked */
#define MIGSAFE_TOOL_DEPTH_MAX	16

/*
 * A maintenance tool: its extension, and the names (with the OID of the
 * table they serve) of its scratch log, its copy and its key type.
 */
typedef struct MigsafeTool
{
	const char *extension;
	const char *log;			/* has a column "row" of the table's type */
	const char *copy;			/* has the table's columns */
	const char *type;			/* the log's key type */
	const char *trigger;		/* its trigger on the table, which logs */
} MigsafeTool;

static const MigsafeTool tools[] = {
	{"pg_repack", "log_%u%n", "table_%u%n", "pk_%u%n", "repack_trigger"},
};

/* The functions of installed tools, per backend (Oid -> tool index) */
typedef struct MigsafeToolFunction
{
	Oid			fn_oid;			/* hash key */
	int			tool;
} MigsafeToolFunction;

static HTAB *tool_functions = NULL;
static bool tool_functions_valid = false;
static bool loading = false;
static Oid	tool_schemas[lengthof(tools)];

/* The tool functions running now, innermost last */
static Oid	running[MIGSAFE_TOOL_DEPTH_MAX];
static int	running_tool[MIGSAFE_TOOL_DEPTH_MAX];
static int	depth = 0;

/* A function changed: the set of tool functions is read again */
static void
forget_functions(Datum arg, int cacheid, uint32 hashvalue)
{
	tool_functions_valid = false;
}

/*
 * Add the functions that are members of extension extoid, and take a
 * schema that is a member as the tool's schema (pg_repack creates
 * "repack" in its script).
 */
static void
load_members(Oid extoid, int tool)
{
	List	   *members = migsafe_catalog_dependents(ExtensionRelationId, extoid,
													 DEPENDENCY_EXTENSION);
	ListCell   *lc;

	foreach(lc, members)
	{
		ObjectAddress *member = lfirst(lc);
		MigsafeToolFunction *f;

		if (member->classId == NamespaceRelationId)
			tool_schemas[tool] = member->objectId;	/* one it creates itself */
		if (member->classId != ProcedureRelationId)
			continue;
		f = hash_search(tool_functions, &member->objectId, HASH_ENTER, NULL);
		f->tool = tool;
	}
	list_free_deep(members);
}

/* The schema of an extension (get_extension_schema() is static in 15) */
static Oid
extension_schema(Oid extoid)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return nsp;
}

/* (Re)read the functions and schemas of the installed tools */
static void
load_functions(void)
{
	HASHCTL		ctl;
	int			i;

	if (tool_functions == NULL)
	{
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(MigsafeToolFunction);
		ctl.hcxt = TopMemoryContext;
		tool_functions = hash_create("migsafe tool functions", 64, &ctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		CacheRegisterSyscacheCallback(PROCOID, forget_functions, (Datum) 0);
	}
	else
	{
		HASH_SEQ_STATUS status;
		MigsafeToolFunction *f;

		hash_seq_init(&status, tool_functions);
		while ((f = hash_seq_search(&status)) != NULL)
			(void) hash_search(tool_functions, &f->fn_oid, HASH_REMOVE, NULL);
	}
	loading = true;
	for (i = 0; i < lengthof(tools); i++)
	{
		Oid			extoid = get_extension_oid(tools[i].extension, true);

		tool_schemas[i] = OidIsValid(extoid) ?
			extension_schema(extoid) : InvalidOid;
		if (OidIsValid(extoid))
			load_members(extoid, i);
	}
	loading = false;
	tool_functions_valid = true;
}

/* Whether any tool is installed in this database */
static bool
tool_installed(void)
{
	int			i;

	if (!tool_functions_valid && !loading)
		load_functions();
	for (i = 0; i < lengthof(tools); i++)
		if (OidIsValid(tool_schemas[i]))
			return true;
	return false;
}

/* The tool a function belongs to, or -1 */
static int
tool_of_function(Oid fn_oid)
{
	MigsafeToolFunction *f;

	/* built-in functions are no tool's, and need no lookup */
	if (loading || fn_oid < FirstNormalObjectId)
		return -1;
	if (!tool_functions_valid)
		load_functions();
	f = hash_search(tool_functions, &fn_oid, HASH_FIND, NULL);
	return f ? f->tool : -1;
}

/*
 * migsafe_tools_needs_fmgr
 *
 * needs_fmgr_hook: whether a function is one of an installed tool's, whose
 * calls the fmgr hook tracks.  A hash lookup once the set is read.
 */
bool
migsafe_tools_needs_fmgr(Oid fn_oid)
{
	return tool_of_function(fn_oid) >= 0;
}

/*
 * migsafe_tools_fmgr
 *
 * fmgr_hook: a tool function starts or ends (normally or by an error).
 */
void
migsafe_tools_fmgr(FmgrHookEventType event, FmgrInfo *flinfo)
{
	int			tool;

	switch (event)
	{
		case FHET_START:
			tool = tool_of_function(flinfo->fn_oid);
			if (tool < 0 || depth >= MIGSAFE_TOOL_DEPTH_MAX)
				return;
			running[depth] = flinfo->fn_oid;
			running_tool[depth] = tool;
			depth++;
			if (migsafe_trace)
				ereport(NOTICE,
						(errmsg_internal("migsafe: fmgr: %s runs %s",
										 tools[tool].extension,
										 get_func_name(flinfo->fn_oid))));
			break;
		case FHET_END:
		case FHET_ABORT:
			if (depth > 0 && running[depth - 1] == flinfo->fn_oid)
				depth--;
			break;
	}
}

/*
 * Whether the tools' decisions may apply now: a superuser, in one of their
 * functions
 */
static bool
in_run(void)
{
	return depth > 0 && superuser();
}

/* Whether name is pattern with one OID in it, and that OID */
static bool
named_for(const char *name, const char *pattern, Oid *relid)
{
	unsigned int oid;
	int			end = -1;

	if (name == NULL || sscanf(name, pattern, &oid, &end) != 1 ||
		end != (int) strlen(name))
		return false;
	*relid = (Oid) oid;
	return true;
}

/* Whether the user columns of copy are those of relid (names and types) */
static bool
same_columns(Oid copy, Oid relid)
{
	HeapTuple	tup;
	int			ncopy = 0;
	int			nrel = 0;
	AttrNumber	attnum;

	for (attnum = 1;; attnum++)
	{
		Form_pg_attribute att;

		tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(copy),
							  Int16GetDatum(attnum));
		if (!HeapTupleIsValid(tup))
			break;
		att = (Form_pg_attribute) GETSTRUCT(tup);
		if (!att->attisdropped)
		{
			ncopy++;
			if (get_attnum(relid, NameStr(att->attname)) == InvalidAttrNumber ||
				get_atttype(relid, get_attnum(relid, NameStr(att->attname))) != att->atttypid)
			{
				ReleaseSysCache(tup);
				return false;
			}
		}
		ReleaseSysCache(tup);
	}
	for (attnum = 1;; attnum++)
	{
		tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid),
							  Int16GetDatum(attnum));
		if (!HeapTupleIsValid(tup))
			break;
		if (!((Form_pg_attribute) GETSTRUCT(tup))->attisdropped)
			nrel++;
		ReleaseSysCache(tup);
	}
	return ncopy > 0 && ncopy == nrel;
}

/* The tool whose extension schema nsp is, or -1 */
static int
tool_of_schema(Oid nsp)
{
	int			i;

	if (!OidIsValid(nsp))
		return -1;
	if (!tool_functions_valid && !loading)
		load_functions();
	for (i = 0; i < lengthof(tools); i++)
		if (nsp == tool_schemas[i])
			return i;
	return -1;
}

/*
 * scratch_of
 *
 * Whether relid is one of a tool's scratch relations: *relid_of gets the
 * table it serves, *copy whether it is the copy (else the log, or the
 * log's sequence).  Returns the tool's index, or -1.
 */
static int
scratch_of(Oid relid, Oid *relid_of, bool *copy)
{
	int			tool = tool_of_schema(get_rel_namespace(relid));
	char	   *name;
	Oid			owner;
	int32		col;
	AttrNumber	row;

	*copy = false;
	if (tool < 0 || (name = get_rel_name(relid)) == NULL)
		return -1;
	if (get_rel_relkind(relid) == RELKIND_SEQUENCE)
	{
		/* the log's id sequence */
		if (!migsafe_catalog_sequence_owner(relid, &owner, &col))
			return -1;
		relid = owner;
		name = get_rel_name(relid);
	}
	if (get_rel_relkind(relid) != RELKIND_RELATION)
		return -1;

	/*
	 * A tool makes its scratch relations after the table they serve: an
	 * older table renamed into the schema is no scratch.  (After an OID
	 * wraparound a real copy may look older: it is then guarded, and the
	 * run fails without losing anything.)
	 */
	if (named_for(name, tools[tool].log, relid_of) &&
		relid > *relid_of &&
		get_rel_relkind(*relid_of) == RELKIND_RELATION &&
		(row = get_attnum(relid, "row")) != InvalidAttrNumber &&
		get_atttype(relid, row) == get_rel_type_id(*relid_of))
		return tool;
	if (named_for(name, tools[tool].copy, relid_of) &&
		relid > *relid_of &&
		get_rel_relkind(*relid_of) == RELKIND_RELATION &&
		same_columns(relid, *relid_of))
	{
		*copy = true;
		return tool;
	}
	return -1;
}

/*
 * migsafe_tools_scratch
 *
 * The tool whose scratch relation relid is, when it may destroy it now (a
 * superuser runs one of its functions, or dml says a superuser's DELETE
 * or UPDATE empties it), or NULL.  *copy_of, when given, gets the table whose copy it is (else
 * InvalidOid).
 */
const char *
migsafe_tools_scratch(Oid relid, bool dml, Oid *copy_of)
{
	Oid			of;
	bool		copy;
	int			tool;

	if (copy_of != NULL)
		*copy_of = InvalidOid;
	if (!(in_run() || (dml && superuser())) ||
		(tool = scratch_of(relid, &of, &copy)) < 0)
		return NULL;
	if (copy_of != NULL && copy)
		*copy_of = of;
	return tools[tool].extension;
}

/* Whether a type is a tool's key type for an existing table */
static bool
scratch_type(Oid typid)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	int			tool;
	Oid			of;
	bool		result = false;

	if (!HeapTupleIsValid(tup))
		return false;
	tool = tool_of_schema(((Form_pg_type) GETSTRUCT(tup))->typnamespace);
	if (tool >= 0)
		result = named_for(NameStr(((Form_pg_type) GETSTRUCT(tup))->typname),
						   tools[tool].type, &of) &&
			get_rel_relkind(of) == RELKIND_RELATION;
	ReleaseSysCache(tup);
	return result;
}

/*
 * Whether a DROP is the cleanup a tool function runs: of its key types
 * (by the names written, as the type is gone when the statement is
 * audited) or of its trigger on the table.
 */
static bool
cleanup_of_run(DropStmt *stmt)
{
	ListCell   *lc;

	if (!in_run() ||
		(stmt->removeType != OBJECT_TYPE && stmt->removeType != OBJECT_TRIGGER))
		return false;
	foreach(lc, stmt->objects)
	{
		int			tool = running_tool[depth - 1];
		List	   *names;
		Oid			of;

		if (stmt->removeType == OBJECT_TRIGGER)
		{
			names = castNode(List, lfirst(lc));
			if (strcmp(strVal(llast(names)), tools[tool].trigger) != 0)
				return false;
			continue;
		}
		names = lfirst_node(TypeName, lc)->names;
		if (list_length(names) != 2 ||
			get_namespace_oid(strVal(linitial(names)), true) != tool_schemas[tool] ||
			!named_for(strVal(lsecond(names)), tools[tool].type, &of) ||
			get_rel_relkind(of) != RELKIND_RELATION)
			return false;
	}
	return true;
}

/*
 * migsafe_tools_part_of_run
 *
 * Whether a superuser's statement belongs to a tool's run: it is about one
 * of the tool's scratch relations (the log, the copy, an index on the
 * copy) or types, or about a trigger that calls one of its functions
 * (pg_repack's trigger on the user's table, created and enabled by the
 * tool), or the cleanup of its type and trigger by one of its functions.
 * A rename or a move is not: it could make a table look like scratch.
 */
bool
migsafe_tools_part_of_run(MigsafeCommand *cmd)
{
	Oid			relid;

	if (cmd->parsetree != NULL && IsA(cmd->parsetree, DropStmt) &&
		tool_installed() && cleanup_of_run((DropStmt *) cmd->parsetree))
		return true;
	if (!OidIsValid(cmd->object.objectId) || !superuser() ||
		(cmd->parsetree != NULL &&
		 (IsA(cmd->parsetree, RenameStmt) ||
		  IsA(cmd->parsetree, AlterObjectSchemaStmt))) ||
		!tool_installed())
		return false;
	switch (cmd->object.classId)
	{
		case RelationRelationId:
			{
				Oid			of;
				bool		copy;

				if (get_rel_relkind(cmd->object.objectId) == RELKIND_COMPOSITE_TYPE)
					return scratch_type(get_rel_type_id(cmd->object.objectId));
				relid = migsafe_catalog_owning_relation(RelationRelationId,
														cmd->object.objectId);
				return OidIsValid(relid) && scratch_of(relid, &of, &copy) >= 0;
			}
		case TypeRelationId:
			return scratch_type(cmd->object.objectId);
		case TriggerRelationId:
			{
				HeapTuple	tup;
				Relation	rel = table_open(TriggerRelationId, AccessShareLock);
				ScanKeyData key;
				SysScanDesc scan;
				bool		tools_trigger = false;

				ScanKeyInit(&key, Anum_pg_trigger_oid, BTEqualStrategyNumber,
							F_OIDEQ, ObjectIdGetDatum(cmd->object.objectId));
				scan = systable_beginscan(rel, TriggerOidIndexId, true,
										  SnapshotSelf, 1, &key);
				if (HeapTupleIsValid(tup = systable_getnext(scan)))
					tools_trigger =
						tool_of_function(((Form_pg_trigger) GETSTRUCT(tup))->tgfoid) >= 0;
				systable_endscan(scan);
				table_close(rel, AccessShareLock);
				return tools_trigger;
			}
		default:
			return false;
	}
}

/* Whether a relation is in a tool's schema */
bool
migsafe_tools_in_schema(Oid relid)
{
	int			i;

	/* no tool installed: no need to look the relation up (it may be gone) */
	if (!tool_functions_valid && !loading)
		load_functions();
	for (i = 0; i < lengthof(tools); i++)
		if (OidIsValid(tool_schemas[i]))
			return tool_of_schema(get_rel_namespace(relid)) >= 0;
	return false;
}

/* At transaction end: no tool function runs any more */
void
migsafe_tools_at_eoxact(void)
{
	depth = 0;
}
