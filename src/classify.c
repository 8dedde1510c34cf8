/*-------------------------------------------------------------------------
 *
 * classify.c
 *	  Decide which utility statements and which objects migsafe must look
 *	  at.
 *
 * Everything here is pure: it reads the parse tree and its arguments,
 * never the catalogs, never writes, and reports nothing above DEBUG.  It is
 * the one place that says what a statement, or an ALTER subcommand, does to
 * stored data and to the names approvals match: the gate (guard.c,
 * collect.c, approval.c) and the preview read the same answers.  It calls
 * nothing of migsafe's.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/classify.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_cast.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_conversion.h"
#include "catalog/pg_database.h"
#include "catalog/pg_event_trigger.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_foreign_data_wrapper.h"
#include "catalog/pg_foreign_server.h"
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
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "nodes/parsenodes.h"
#include "nodes/pathnodes.h"
#include "nodes/plannodes.h"
#include "parser/parsetree.h"
#include "parser/parse_type.h"
#include "tcop/utility.h"

#include "classify.h"

/*
 * drop_can_destroy_data
 *
 * Whether a DROP of this object type can remove a table, a column, a
 * sequence or a materialized view.  With CASCADE nearly anything can
 * (a type, domain, collation, function, operator, text search
 * configuration, access method or extension reaches columns and tables
 * through pg_depend); without it only the relations themselves, and
 * extensions, whose member tables go with them.  Indexes hold no data
 * and are rebuilt from their table.  DROP SCHEMA without CASCADE only
 * succeeds on an empty schema.
 */
static bool
drop_can_destroy_data(DropStmt *stmt)
{
	if (stmt->removeType == OBJECT_INDEX)
		return false;
	if (stmt->behavior == DROP_CASCADE)
		return true;

	switch (stmt->removeType)
	{
		case OBJECT_TABLE:
		case OBJECT_MATVIEW:
		case OBJECT_SEQUENCE:
		case OBJECT_EXTENSION:
			return true;
		case OBJECT_FOREIGN_TABLE:
			/* its data is elsewhere, but it may own sequences (serial) */
			return true;
		default:
			return false;
	}
}

/* Whether a list of DefElem has one named name */
static bool
has_option(Node *options, const char *name)
{
	ListCell   *lc;

	if (options == NULL || !IsA(options, List))
		return false;
	foreach(lc, (List *) options)
	{
		if (IsA(lfirst(lc), DefElem) &&
			strcmp(((DefElem *) lfirst(lc))->defname, name) == 0)
			return true;
	}
	return false;
}

/*
 * migsafe_classify_alter_cmd
 *
 * What one ALTER TABLE or ALTER TYPE subcommand does to stored data.  The
 * gate (which columns and sequences it collects) and the preview (what it
 * reports) both read it here, so that they cannot disagree: an identity's
 * SET INCREMENT BY keeps the sequence's value, only SET ... RESTART resets
 * it.
 */
MigsafeAlterEffect
migsafe_classify_alter_cmd(AlterTableCmd *cmd)
{
	switch (cmd->subtype)
	{
		case AT_DropColumn:
			return MIGSAFE_ALTER_DROP_COLUMN;
		case AT_AlterColumnType:
			return MIGSAFE_ALTER_RETYPE;
		case AT_DropIdentity:
			return MIGSAFE_ALTER_DROP_IDENTITY;
		case AT_SetUnLogged:
			return MIGSAFE_ALTER_UNLOG;
		case AT_SetIdentity:
			/* a list of sequence options and GENERATED ALWAYS/BY DEFAULT */
			return has_option(cmd->def, "restart") ?
				MIGSAFE_ALTER_RESTART : MIGSAFE_ALTER_KEEPS;
		default:
			return MIGSAFE_ALTER_KEEPS;
	}
}

/*
 * migsafe_classify_alter_op
 *
 * How the object an ALTER subcommand's effect reaches loses its data: the
 * column for a drop or a retype, the identity's sequence for DROP IDENTITY
 * and RESTART, the table for SET UNLOGGED.
 */
MigsafeOp
migsafe_classify_alter_op(MigsafeAlterEffect effect)
{
	switch (effect)
	{
		case MIGSAFE_ALTER_RETYPE:
			return MIGSAFE_OP_RETYPE;
		case MIGSAFE_ALTER_RESTART:
			return MIGSAFE_OP_RESTART;
		case MIGSAFE_ALTER_UNLOG:
			return MIGSAFE_OP_UNLOG;
		default:
			return MIGSAFE_OP_DROP;
	}
}

/*
 * classify_alter
 *
 * An ALTER TABLE / ALTER TYPE that drops or retypes a column can destroy
 * data.  When it only drops columns of a table, a dry run is cheap (no
 * rewrite) and gives the exact set, cascades to generated columns and
 * partitions included; otherwise (a retype would rewrite the table twice)
 * the columns are worked out from the statement.
 */
static MigsafeStmtKind
classify_alter(AlterTableStmt *stmt)
{
	ListCell   *lc;
	bool		destroys = false;
	bool		only_drops;

	/* a foreign table's serial columns own sequences: a dry run finds them */
	only_drops = stmt->objtype == OBJECT_TABLE ||
		stmt->objtype == OBJECT_FOREIGN_TABLE;

	foreach(lc, stmt->cmds)
	{
		MigsafeAlterEffect effect =
		migsafe_classify_alter_cmd(lfirst_node(AlterTableCmd, lc));

		if (effect != MIGSAFE_ALTER_KEEPS)
			destroys = true;
		if (effect != MIGSAFE_ALTER_DROP_COLUMN)
			only_drops = false;
	}
	if (!destroys)
		return MIGSAFE_STMT_OTHER;
	return only_drops ? MIGSAFE_STMT_DROP : MIGSAFE_STMT_ALTER;
}

/*
 * Whether a rename changes a name that approvals are matched against: any
 * rename of a relation (ALTER INDEX, VIEW or SEQUENCE ... RENAME work on
 * tables too), of a column or a composite type's attribute (which CASCADE
 * renames in its typed tables), or of a schema.
 */
static bool
rename_matters(RenameStmt *stmt)
{
	switch (stmt->renameType)
	{
		case OBJECT_TABLE:
		case OBJECT_SEQUENCE:
		case OBJECT_MATVIEW:
		case OBJECT_FOREIGN_TABLE:
		case OBJECT_VIEW:
		case OBJECT_INDEX:
		case OBJECT_COLUMN:
		case OBJECT_ATTRIBUTE:
		case OBJECT_SCHEMA:
			return true;
		default:
			return false;
	}
}

/*
 * Whether ALTER ROLE/DATABASE ... SET stores a value of migsafe.approve or
 * migsafe.skip_snapshot: a standing approval (or waiver) for every later
 * session, which defeats the point of
 * approving one migration at a time.
 */
static bool
stores_approval(VariableSetStmt *setstmt)
{
	/* setting names are case-insensitive, "MIGSAFE.APPROVE" included */
	return setstmt != NULL &&
		(setstmt->kind == VAR_SET_VALUE || setstmt->kind == VAR_SET_CURRENT) &&
		setstmt->name != NULL &&
		(pg_strcasecmp(setstmt->name, "migsafe.approve") == 0 ||
		 pg_strcasecmp(setstmt->name, "migsafe.skip_snapshot") == 0);
}

/*
 * The SET clause of a CREATE or ALTER FUNCTION (options or actions) that
 * stores an approval: every call would run approved.  NULL when none.
 */
static VariableSetStmt *
function_stored_approval(List *options)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *d = lfirst_node(DefElem, lc);

		if (strcmp(d->defname, "set") == 0 && d->arg != NULL &&
			IsA(d->arg, VariableSetStmt) &&
			stores_approval((VariableSetStmt *) d->arg))
			return (VariableSetStmt *) d->arg;
	}
	return NULL;
}

/*
 * migsafe_classify_statement
 *
 * Map a utility statement to what the guard must do with it.  The caller
 * has already filtered on the node tag; this looks at the statement's
 * fields.  Never errors, allocates nothing.
 */
MigsafeStmtKind
migsafe_classify_statement(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_DropStmt:
			return drop_can_destroy_data((DropStmt *) parsetree) ?
				MIGSAFE_STMT_DROP : MIGSAFE_STMT_OTHER;
		case T_DropOwnedStmt:
			return MIGSAFE_STMT_DROP;
		case T_TruncateStmt:
			return MIGSAFE_STMT_TRUNCATE;
		case T_AlterTableStmt:
			return classify_alter((AlterTableStmt *) parsetree);
		case T_DropdbStmt:
			return MIGSAFE_STMT_DROPDB;
		case T_AlterSeqStmt:
			/* RESTART throws the sequence's value away */
			return has_option((Node *) ((AlterSeqStmt *) parsetree)->options,
							  "restart") ? MIGSAFE_STMT_ALTER : MIGSAFE_STMT_OTHER;
		case T_CreatedbStmt:
			return MIGSAFE_STMT_CREATEDB;
		case T_RenameStmt:
			return rename_matters((RenameStmt *) parsetree) ?
				MIGSAFE_STMT_RENAME : MIGSAFE_STMT_OTHER;
		case T_AlterRoleSetStmt:
			return stores_approval(((AlterRoleSetStmt *) parsetree)->setstmt) ?
				MIGSAFE_STMT_STORED_APPROVAL : MIGSAFE_STMT_OTHER;
		case T_AlterDatabaseSetStmt:
			return stores_approval(((AlterDatabaseSetStmt *) parsetree)->setstmt) ?
				MIGSAFE_STMT_STORED_APPROVAL : MIGSAFE_STMT_OTHER;
		case T_AlterSystemStmt:
			return stores_approval(((AlterSystemStmt *) parsetree)->setstmt) ?
				MIGSAFE_STMT_STORED_APPROVAL : MIGSAFE_STMT_OTHER;
		case T_CreateFunctionStmt:
			return function_stored_approval(((CreateFunctionStmt *) parsetree)->options) ?
				MIGSAFE_STMT_STORED_APPROVAL : MIGSAFE_STMT_OTHER;
		case T_AlterFunctionStmt:
			return function_stored_approval(((AlterFunctionStmt *) parsetree)->actions) ?
				MIGSAFE_STMT_STORED_APPROVAL : MIGSAFE_STMT_OTHER;
		case T_AlterObjectSchemaStmt:
			/* relations, and ALTER EXTENSION SET SCHEMA moves its tables */
			return ((AlterObjectSchemaStmt *) parsetree)->relation != NULL ||
				((AlterObjectSchemaStmt *) parsetree)->objectType == OBJECT_EXTENSION ?
				MIGSAFE_STMT_RENAME : MIGSAFE_STMT_OTHER;
		default:
			return MIGSAFE_STMT_OTHER;
	}
}

/* Whether an EXPLAIN ANALYZE runs a CREATE TABLE AS (and so creates it) */
static bool
explains_create_table_as(ExplainStmt *stmt)
{
	Query	   *query = (Query *) stmt->query;
	ListCell   *lc;

	if (query == NULL || !IsA(query, Query) ||
		query->commandType != CMD_UTILITY ||
		!IsA(query->utilityStmt, CreateTableAsStmt))
		return false;

	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "analyze") == 0)
			return opt->arg == NULL || defGetBoolean(opt);
	}
	return false;
}

/*
 * migsafe_classify_is_schema_change
 *
 * Whether a utility statement is a schema change that the audit log
 * records: what log_statement = 'ddl' logs, plus TRUNCATE.  The cheap
 * cases come first: this runs for every utility statement.
 */
bool
migsafe_classify_is_schema_change(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_TransactionStmt:
		case T_VariableSetStmt:
		case T_VariableShowStmt:
		case T_DiscardStmt:
		case T_CopyStmt:
		case T_PrepareStmt:
		case T_ExecuteStmt:
		case T_DeallocateStmt:
		case T_DeclareCursorStmt:
		case T_ClosePortalStmt:
		case T_FetchStmt:
		case T_CallStmt:
		case T_DoStmt:
		case T_VacuumStmt:
		case T_LockStmt:
		case T_NotifyStmt:
		case T_ListenStmt:
		case T_UnlistenStmt:
		case T_CheckPointStmt:
		case T_LoadStmt:
		case T_ConstraintsSetStmt:
			return false;
		case T_TruncateStmt:
			return true;
		case T_ExplainStmt:
			/* EXPLAIN ANALYZE CREATE TABLE AS creates the table */
			return explains_create_table_as((ExplainStmt *) parsetree);
		default:
			return GetCommandLogLevel(parsetree) == LOGSTMT_DDL;
	}
}

/*
 * migsafe_classify_relkind
 *
 * Whether a relation of this kind holds data of its own that a DROP or
 * TRUNCATE destroys.  Partitioned tables hold none (their partitions are
 * judged one by one), views, foreign tables (their data lives elsewhere),
 * indexes, TOAST tables (part of their table) and composite types hold
 * none either.
 */
bool
migsafe_classify_relkind(char relkind)
{
	switch (relkind)
	{
		case RELKIND_RELATION:
		case RELKIND_MATVIEW:
		case RELKIND_SEQUENCE:
			return true;
		default:
			return false;
	}
}

/* The noun used in messages for a relation of this kind */
const char *
migsafe_classify_relkind_noun(char relkind)
{
	switch (relkind)
	{
		case RELKIND_MATVIEW:
			return "materialized view";
		case RELKIND_SEQUENCE:
			return "sequence";
		case RELKIND_PARTITIONED_TABLE:
			return "partitioned table";
		default:
			return "table";
	}
}

/* The name of an operation, as traces and migsafe.snapshots.operation say */
const char *
migsafe_classify_op_name(MigsafeOp op)
{
	switch (op)
	{
		case MIGSAFE_OP_DROP:
			return "drop";
		case MIGSAFE_OP_TRUNCATE:
			return "truncate";
		case MIGSAFE_OP_RETYPE:
			return "retype";
		case MIGSAFE_OP_BLANK:
			return "blank";
		case MIGSAFE_OP_ALTER:
			return "alter";
		case MIGSAFE_OP_UNLOG:
			return "unlog";
		case MIGSAFE_OP_RESTART:
			return "restart";
		case MIGSAFE_OP_DELETE:
			return "delete";
		case MIGSAFE_OP_UPDATE:
			return "update";
	}
	return "drop";				/* keep compiler quiet */
}

/* Append one name a statement changes to list */
static List *
renamed(List *list, MigsafeNameChange change, RangeVar *relation,
		const char *name)
{
	MigsafeRenamed *r = palloc(sizeof(MigsafeRenamed));

	r->change = change;
	r->relation = relation;
	r->name = name;
	return lappend(list, r);
}

/*
 * migsafe_classify_renames
 *
 * The names a rename, SET SCHEMA or ATTACH PARTITION changes, as written
 * (a List of MigsafeRenamed): approvals keep naming objects by the names
 * they had when the transaction began, and a table attached now is not
 * covered by an approval of its new parent.
 */
List	   *
migsafe_classify_renames(Node *parsetree)
{
	List	   *result = NIL;
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				if (stmt->renameType == OBJECT_SCHEMA)
					result = renamed(result, MIGSAFE_NAME_SCHEMA, NULL,
									 stmt->subname);
				else if (stmt->relation != NULL &&
						 (stmt->renameType == OBJECT_COLUMN ||
						  stmt->renameType == OBJECT_ATTRIBUTE))
					result = renamed(result, MIGSAFE_NAME_COLUMN,
									 stmt->relation, stmt->subname);
				else if (stmt->relation != NULL)
					result = renamed(result, MIGSAFE_NAME_RELATION,
									 stmt->relation, NULL);
				break;
			}
		case T_AlterObjectSchemaStmt:
			{
				AlterObjectSchemaStmt *stmt = (AlterObjectSchemaStmt *) parsetree;

				if (stmt->relation != NULL)
					result = renamed(result, MIGSAFE_NAME_RELATION,
									 stmt->relation, NULL);
				else if (stmt->objectType == OBJECT_EXTENSION)
					result = renamed(result, MIGSAFE_NAME_EXTENSION, NULL,
									 strVal(stmt->object));
				break;
			}
		case T_AlterTableStmt:
			foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
			{
				AlterTableCmd *c = lfirst_node(AlterTableCmd, lc);

				if (c->subtype == AT_AttachPartition)
					result = renamed(result, MIGSAFE_NAME_ATTACH,
									 ((PartitionCmd *) c->def)->name, NULL);
			}
			break;
		default:
			break;
	}
	return result;
}

/*
 * migsafe_classify_own_relations
 *
 * The relations (RangeVars) a statement alters, renames, moves, puts a
 * policy, rule or trigger on, or makes another table inherit from: for
 * migsafe's own tables every one of these needs an approval, and the
 * object-access hook cannot judge them all afterwards (a moved table no
 * longer looks like migsafe's; pg_inherits is written after the creation
 * hook; ADD INHERIT, ENABLE ROW LEVEL SECURITY, SET DEFAULT and storage
 * parameters fire no hook on the table).  Any ALTER TABLE of the audit log
 * can change how its rows are written or who sees them, so every
 * subcommand counts.
 */
List	   *
migsafe_classify_own_relations(Node *parsetree)
{
	List	   *relations = NIL;
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_RenameStmt:
			if (((RenameStmt *) parsetree)->relation)
				relations = list_make1(((RenameStmt *) parsetree)->relation);
			break;
		case T_AlterObjectSchemaStmt:
			if (((AlterObjectSchemaStmt *) parsetree)->relation)
				relations = list_make1(((AlterObjectSchemaStmt *) parsetree)->relation);
			break;
		case T_CreateStmt:
			relations = list_copy(((CreateStmt *) parsetree)->inhRelations);
			break;
		case T_AlterTableStmt:
			relations = list_make1(((AlterTableStmt *) parsetree)->relation);
			foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
			{
				AlterTableCmd *c = lfirst_node(AlterTableCmd, lc);

				if (c->subtype == AT_AddInherit && c->def != NULL &&
					IsA(c->def, RangeVar))
					relations = lappend(relations, c->def);
			}
			break;
		case T_AlterSeqStmt:
			relations = list_make1(((AlterSeqStmt *) parsetree)->sequence);
			break;
		case T_CreatePolicyStmt:
			relations = list_make1(((CreatePolicyStmt *) parsetree)->table);
			break;
		case T_AlterPolicyStmt:
			relations = list_make1(((AlterPolicyStmt *) parsetree)->table);
			break;
		case T_RuleStmt:
			relations = list_make1(((RuleStmt *) parsetree)->relation);
			break;
		case T_CreateTrigStmt:
			relations = list_make1(((CreateTrigStmt *) parsetree)->relation);
			break;
		default:
			break;
	}
	return relations;
}

/*
 * migsafe_classify_drops_extensions
 *
 * Whether a statement can drop extensions (DROP EXTENSION, DROP SCHEMA,
 * DROP OWNED): then the extension itself is the target that guards
 * everything of migsafe's going with it.  *names_migsafe, when given, says
 * whether it can drop migsafe's own (it names "migsafe", or is DROP
 * OWNED): its audit log must then be locked first.
 */
bool
migsafe_classify_drops_extensions(Node *parsetree, bool *names_migsafe)
{
	DropStmt   *stmt;
	ListCell   *lc;

	if (names_migsafe)
		*names_migsafe = false;
	if (IsA(parsetree, DropOwnedStmt))
	{
		if (names_migsafe)
			*names_migsafe = true;
		return true;
	}
	if (!IsA(parsetree, DropStmt))
		return false;
	stmt = (DropStmt *) parsetree;
	if (stmt->removeType != OBJECT_EXTENSION &&
		stmt->removeType != OBJECT_SCHEMA)
		return false;
	foreach(lc, stmt->objects)
	{
		if (names_migsafe && IsA(lfirst(lc), String) &&
			strcmp(strVal(lfirst(lc)), MIGSAFE_SCHEMA) == 0)
			*names_migsafe = true;
	}
	return true;
}

/*
 * migsafe_classify_template
 *
 * The template a CREATE DATABASE copies: its TEMPLATE option, or
 * template1.
 */
const char *
migsafe_classify_template(CreatedbStmt *stmt)
{
	const char *template = "template1";
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "template") == 0 && opt->arg != NULL)
			template = defGetString(opt);
	}
	return template;
}

/*
 * migsafe_classify_database
 *
 * The database a statement refuses to work on while another process is
 * connected to it (DROP DATABASE, the template of CREATE DATABASE, ALTER
 * DATABASE, RENAME of a database), or NULL.
 */
const char *
migsafe_classify_database(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_DropdbStmt:
			return ((DropdbStmt *) parsetree)->dbname;
		case T_CreatedbStmt:
			return migsafe_classify_template((CreatedbStmt *) parsetree);
		case T_AlterDatabaseStmt:
			return ((AlterDatabaseStmt *) parsetree)->dbname;
		case T_RenameStmt:
			if (((RenameStmt *) parsetree)->renameType == OBJECT_DATABASE)
				return ((RenameStmt *) parsetree)->subname;
			return NULL;
		default:
			return NULL;
	}
}

/*
 * migsafe_classify_stored_setting
 *
 * The setting an ALTER ROLE, ALTER DATABASE or ALTER SYSTEM ... SET, or a
 * function's SET clause, that classifies as MIGSAFE_STMT_STORED_APPROVAL
 * would store, named as migsafe names it.
 */
const char *
migsafe_classify_stored_setting(Node *parsetree)
{
	VariableSetStmt *setstmt = NULL;

	if (IsA(parsetree, AlterRoleSetStmt))
		setstmt = ((AlterRoleSetStmt *) parsetree)->setstmt;
	else if (IsA(parsetree, AlterDatabaseSetStmt))
		setstmt = ((AlterDatabaseSetStmt *) parsetree)->setstmt;
	else if (IsA(parsetree, AlterSystemStmt))
		setstmt = ((AlterSystemStmt *) parsetree)->setstmt;
	else if (IsA(parsetree, CreateFunctionStmt))
		setstmt = function_stored_approval(((CreateFunctionStmt *) parsetree)->options);
	else if (IsA(parsetree, AlterFunctionStmt))
		setstmt = function_stored_approval(((AlterFunctionStmt *) parsetree)->actions);
	if (setstmt == NULL || setstmt->name == NULL)
		return "migsafe.approve";
	return pg_strcasecmp(setstmt->name, "migsafe.skip_snapshot") == 0 ?
		"migsafe.skip_snapshot" : "migsafe.approve";
}

/*
 * The name of an object a DROP names by a list: a qualified name, or for
 * a cast (two TypeNames) its types as "(int AS ct)", for a transform (a
 * TypeName and a language) "FOR int LANGUAGE sql".  NameListToString()
 * takes only Strings.
 */
static char *
list_to_name(List *names)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		plain = true;

	foreach(lc, names)
	{
		if (!IsA(lfirst(lc), String))
			plain = false;
	}
	if (plain)
		return NameListToString(names);
	initStringInfo(&buf);
	if (list_length(names) == 2 && IsA(linitial(names), TypeName) &&
		IsA(lsecond(names), String))
	{
		appendStringInfo(&buf, "FOR %s LANGUAGE %s",
						 TypeNameToString(linitial_node(TypeName, names)),
						 strVal(lsecond(names)));
		return buf.data;
	}
	appendStringInfoChar(&buf, '(');
	foreach(lc, names)
	{
		Node	   *part = lfirst(lc);

		if (lc != list_head(names))
			appendStringInfoString(&buf, " AS ");
		if (IsA(part, TypeName))
			appendStringInfoString(&buf, TypeNameToString((TypeName *) part));
		else if (IsA(part, String))
			appendStringInfoString(&buf, strVal(part));
		else
			appendStringInfoChar(&buf, '?');
	}
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/*
 * migsafe_classify_named_objects
 *
 * The names a DROP or TRUNCATE names, as written, comma-separated, or NULL.
 * Allocated in the current memory context.
 */
char	   *
migsafe_classify_named_objects(Node *parsetree)
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
			name = list_to_name((List *) obj);
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
 * migsafe_classify_nameable_class
 *
 * Whether objects of a catalog can be named with getObjectIdentity(): some
 * catalogs that fire object-access events are not object classes (role
 * settings, pg_index during CLUSTER), and naming them raises an error.
 */
bool
migsafe_classify_nameable_class(Oid classId)
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

/* Append a relation a statement locks to list */
static List *
lock_need(List *list, RangeVar *relation, LOCKMODE mode)
{
	MigsafeLockNeed *need;

	if (relation == NULL)
		return list;
	need = palloc(sizeof(MigsafeLockNeed));
	need->relation = relation;
	need->mode = mode;
	need->first = false;
	return lappend(list, need);
}

/* The tables a list of constraints references by foreign keys */
static List *
foreign_key_locks(List *list, List *constraints)
{
	ListCell   *lc;

	foreach(lc, constraints)
	{
		Constraint *con = lfirst(lc);

		if (IsA(con, Constraint) && con->contype == CONSTR_FOREIGN)
			list = lock_need(list, con->pktable, ShareRowExclusiveLock);
	}
	return list;
}

/* The locks of an ALTER TABLE, as AlterTable() takes them */
static List *
alter_table_locks(AlterTableStmt *stmt)
{
	List	   *result;
	ListCell   *lc;

	if (stmt->objtype == OBJECT_TYPE)
		return NIL;				/* a composite type: no relation lock */
	/* the lock ATController() takes first, on the relation named */
	result = lock_need(NIL, stmt->relation,
					   AlterTableGetLockLevel(stmt->cmds));
	if (result != NIL)
		((MigsafeLockNeed *) linitial(result))->first = true;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *c = lfirst_node(AlterTableCmd, lc);

		if (c->subtype == AT_AddConstraint && c->def != NULL)
			result = foreign_key_locks(result, list_make1(c->def));
		else if (c->subtype == AT_AddColumn && c->def != NULL &&
				 IsA(c->def, ColumnDef))
			result = foreign_key_locks(result,
									   ((ColumnDef *) c->def)->constraints);
		else if ((c->subtype == AT_AttachPartition ||
				  c->subtype == AT_DetachPartition) &&
				 !((PartitionCmd *) c->def)->concurrent)
			result = lock_need(result, ((PartitionCmd *) c->def)->name,
							   AccessExclusiveLock);
	}
	return result;
}

/* The locks of a CREATE TABLE: a partition's parent, referenced tables */
static List *
create_table_locks(CreateStmt *stmt)
{
	List	   *result = NIL;
	ListCell   *lc;

	if (stmt->partbound != NULL && stmt->inhRelations != NIL)
		result = lock_need(result, linitial(stmt->inhRelations),
						   AccessExclusiveLock);
	result = foreign_key_locks(result, stmt->constraints);
	foreach(lc, stmt->tableElts)
	{
		if (IsA(lfirst(lc), ColumnDef))
			result = foreign_key_locks(result,
									   ((ColumnDef *) lfirst(lc))->constraints);
		else if (IsA(lfirst(lc), Constraint))
			result = foreign_key_locks(result, list_make1(lfirst(lc)));
	}
	return result;
}

/* The relations a DROP of relations names, each with ACCESS EXCLUSIVE */
static List *
drop_locks(DropStmt *stmt)
{
	List	   *result = NIL;
	ListCell   *lc;

	switch (stmt->removeType)
	{
		case OBJECT_TABLE:
		case OBJECT_MATVIEW:
		case OBJECT_SEQUENCE:
		case OBJECT_VIEW:
		case OBJECT_FOREIGN_TABLE:
		case OBJECT_INDEX:
			break;
		default:
			return NIL;
	}
	if (stmt->concurrent)
		return NIL;
	foreach(lc, stmt->objects)
		result = lock_need(result, makeRangeVarFromNameList(lfirst(lc)),
						   AccessExclusiveLock);

	/*
	 * RemoveRelations()' first lock, on the one relation named (but on an
	 * index's table, or a partition's parent: see take_first_lock())
	 */
	if (list_length(result) == 1 && stmt->removeType != OBJECT_INDEX)
		((MigsafeLockNeed *) linitial(result))->first = true;
	return result;
}

/*
 * migsafe_classify_locks
 *
 * The relations a schema change locks in a mode that can make other
 * sessions' queries wait, and the mode, as the command takes them (a List
 * of MigsafeLockNeed; relations as written, not looked up).  Only the
 * relations the statement names or references: the locks it takes on
 * others (inheritance children, dependent views) follow from these.  The
 * CONCURRENTLY forms, which do not make queries wait, have none.
 */
List	   *
migsafe_classify_locks(Node *parsetree)
{
	List	   *result = NIL;
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
			return alter_table_locks((AlterTableStmt *) parsetree);
		case T_CreateStmt:
			return create_table_locks((CreateStmt *) parsetree);
		case T_DropStmt:
			return drop_locks((DropStmt *) parsetree);
		case T_IndexStmt:
			if (((IndexStmt *) parsetree)->concurrent)
				return NIL;
			/* DefineIndex()'s first lock, on the table */
			result = lock_need(NIL, ((IndexStmt *) parsetree)->relation,
							   ShareLock);
			if (result != NIL)
				((MigsafeLockNeed *) linitial(result))->first = true;
			return result;
		case T_TruncateStmt:
			foreach(lc, ((TruncateStmt *) parsetree)->relations)
				result = lock_need(result, lfirst(lc), AccessExclusiveLock);
			/* ExecuteTruncate()'s first lock, on the one table named */
			if (list_length(result) == 1)
				((MigsafeLockNeed *) linitial(result))->first = true;
			return result;
		case T_RenameStmt:
			return lock_need(NIL, ((RenameStmt *) parsetree)->relation,
							 ((RenameStmt *) parsetree)->renameType == OBJECT_INDEX ?
							 ShareUpdateExclusiveLock : AccessExclusiveLock);
		case T_AlterObjectSchemaStmt:
			return lock_need(NIL, ((AlterObjectSchemaStmt *) parsetree)->relation,
							 AccessExclusiveLock);
		case T_CreateTrigStmt:
			return lock_need(NIL, ((CreateTrigStmt *) parsetree)->relation,
							 ShareRowExclusiveLock);
		case T_CreatePolicyStmt:
			return lock_need(NIL, ((CreatePolicyStmt *) parsetree)->table,
							 AccessExclusiveLock);
		case T_AlterPolicyStmt:
			return lock_need(NIL, ((AlterPolicyStmt *) parsetree)->table,
							 AccessExclusiveLock);
		case T_RuleStmt:
			return lock_need(NIL, ((RuleStmt *) parsetree)->relation,
							 AccessExclusiveLock);
		case T_ClusterStmt:
			return lock_need(NIL, ((ClusterStmt *) parsetree)->relation,
							 AccessExclusiveLock);
		case T_RefreshMatViewStmt:
			return lock_need(NIL, ((RefreshMatViewStmt *) parsetree)->relation,
							 ((RefreshMatViewStmt *) parsetree)->concurrent ?
							 ExclusiveLock : AccessExclusiveLock);
		case T_ReindexStmt:
			if (((ReindexStmt *) parsetree)->kind != REINDEX_OBJECT_TABLE ||
				migsafe_classify_concurrent(parsetree))
				return NIL;
			return lock_need(NIL, ((ReindexStmt *) parsetree)->relation,
							 ShareLock);
		default:
			return NIL;
	}
}

/*
 * migsafe_classify_concurrent
 *
 * Whether a statement is a CONCURRENTLY form (CREATE, DROP or REINDEX
 * INDEX CONCURRENTLY, DETACH PARTITION CONCURRENTLY): it waits for older
 * transactions by design, without making other sessions' queries wait.
 */
bool
migsafe_classify_concurrent(Node *parsetree)
{
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_IndexStmt:
			return ((IndexStmt *) parsetree)->concurrent;
		case T_DropStmt:
			return ((DropStmt *) parsetree)->concurrent;
		case T_ReindexStmt:
			return has_option((Node *) ((ReindexStmt *) parsetree)->params,
							  "concurrently");
		case T_AlterTableStmt:
			foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
			{
				AlterTableCmd *c = lfirst_node(AlterTableCmd, lc);

				if (c->subtype == AT_DetachPartition &&
					((PartitionCmd *) c->def)->concurrent)
					return true;
			}
			return false;
		default:
			return false;
	}
}

/*
 * Whether a scan's filter lets every row through: none, or, in a generic
 * plan, one that folds to true once the statement's parameters are bound
 * ("WHERE id = 0 OR $1" with $1 true), as it would have in a custom plan.
 */
static bool
qual_holds(List *qual, ParamListInfo params)
{
	PlannerGlobal *glob;
	PlannerInfo *root;
	Node	   *folded;

	if (qual == NIL)
		return true;
	if (params == NULL || params->numParams == 0)
		return false;
	/* the planner's folding, with the parameters bound as for a custom plan */
	glob = makeNode(PlannerGlobal);
	glob->boundParams = params;
	root = makeNode(PlannerInfo);
	root->glob = glob;
	folded = eval_const_expressions(root, (Node *) make_ands_explicit(qual));
	return folded != NULL && IsA(folded, Const) &&
		!((Const *) folded)->constisnull &&
		DatumGetBool(((Const *) folded)->constvalue);
}

/*
 * The table an unfiltered sequential scan of one of mt's result relations
 * reads, or InvalidOid
 */
static Oid
unfiltered_scan(PlannedStmt *pstmt, ModifyTable *mt, Plan *plan,
				ParamListInfo params)
{
	RangeTblEntry *rte;
	Index		scanrelid;

	if (plan == NULL || !IsA(plan, SeqScan) || !qual_holds(plan->qual, params))
		return InvalidOid;
	scanrelid = ((Scan *) plan)->scanrelid;
	if (!list_member_int(mt->resultRelations, (int) scanrelid))
		return InvalidOid;
	rte = rt_fetch(scanrelid, pstmt->rtable);
	return rte->rtekind == RTE_RELATION ? rte->relid : InvalidOid;
}

/* Whether a plan reads mt's result relations: a scan, or an Append of them */
static bool
reads_result(PlannedStmt *pstmt, ModifyTable *mt, Plan *plan,
			 ParamListInfo params)
{
	if (plan != NULL && (IsA(plan, Append) || IsA(plan, MergeAppend)))
	{
		List	   *children = IsA(plan, Append) ?
		((Append *) plan)->appendplans : ((MergeAppend *) plan)->mergeplans;

		return children != NIL &&
			OidIsValid(unfiltered_scan(pstmt, mt, linitial(children), params));
	}
	return OidIsValid(unfiltered_scan(pstmt, mt, plan, params));
}

/*
 * The part of a DELETE's, UPDATE's or MERGE's source plan that reads its
 * table, under joins without any condition (DELETE ... USING a, b, MERGE
 * ... ON true), or NULL: every row of that side meets every row of the
 * others (when they have any: an empty one makes the statement change
 * nothing, and it is decided as though it had some).
 */
static Plan *
target_side(PlannedStmt *pstmt, ModifyTable *mt, Plan *plan,
			ParamListInfo params)
{
	Plan	   *sides[2];
	int			i;

	if (plan != NULL && IsA(plan, Material))
		plan = outerPlan(plan);
	if (reads_result(pstmt, mt, plan, params))
		return plan;
	if (plan == NULL || !IsA(plan, NestLoop) ||
		!qual_holds(plan->qual, params) ||
		!qual_holds(((Join *) plan)->joinqual, params) ||
		((NestLoop *) plan)->nestParams != NIL ||
		((Join *) plan)->jointype == JOIN_SEMI ||
		((Join *) plan)->jointype == JOIN_ANTI)
		return NULL;
	sides[0] = outerPlan(plan);
	sides[1] = innerPlan(plan);
	for (i = 0; i < 2; i++)
	{
		Plan	   *side = target_side(pstmt, mt, sides[i], params);

		if (side != NULL)
			return side;
	}
	return NULL;
}

/*
 * Whether a MERGE deletes or updates every row it matches: an action
 * WHEN MATCHED without AND condition.  *is_delete says which.
 */
static bool
merge_reaches_all(ModifyTable *mt, bool *is_delete)
{
	bool		found = false;
	ListCell   *lc;
	ListCell   *ac;

	*is_delete = false;
	foreach(lc, mt->mergeActionLists)
	{
		foreach(ac, (List *) lfirst(lc))
		{
			MergeAction *action = lfirst_node(MergeAction, ac);

			if (!migsafe_merge_action_matched(action) ||
				action->qual != NULL ||
				(action->commandType != CMD_DELETE &&
				 action->commandType != CMD_UPDATE))
				continue;
			found = true;
			if (action->commandType == CMD_DELETE)
				*is_delete = true;
		}
	}
	return found;
}

/* Append a table a DELETE or UPDATE reaches to list */
static List *
dml_target(List *list, Oid relid, bool is_delete, bool root)
{
	MigsafeDmlTarget *t = palloc(sizeof(MigsafeDmlTarget));

	t->relid = relid;
	t->is_delete = is_delete;
	t->root = root;
	return lappend(list, t);
}

/*
 * Add the tables one DELETE, UPDATE or MERGE node reaches in every row,
 * and the one-time conditions (gating Result nodes, whose parameters only
 * the executor knows) that must hold for it to: see
 * migsafe_classify_unqualified_dml().
 */
static List *
unqualified_modify(List *result, PlannedStmt *pstmt, ModifyTable *mt,
				   ParamListInfo params, List **conditions)
{
	Plan	   *source = outerPlan(mt);
	Plan	   *side;
	List	   *children;
	List	   *found = NIL;
	List	   *gates = NIL;
	bool		is_delete = mt->operation == CMD_DELETE;
	RangeTblEntry *root;
	ListCell   *lc;

	if (mt->operation == CMD_MERGE)
	{
		if (!merge_reaches_all(mt, &is_delete))
			return result;
	}
	else if (mt->operation != CMD_DELETE && mt->operation != CMD_UPDATE)
		return result;

	/* a gating Result: a condition that does not depend on the row */
	while (source != NULL && IsA(source, Result) && source->qual == NIL &&
		   outerPlan(source) != NULL)
	{
		if (((Result *) source)->resconstantqual != NULL)
			gates = lappend(gates, ((Result *) source)->resconstantqual);
		source = outerPlan(source);
	}
	if ((side = target_side(pstmt, mt, source, params)) != NULL)
		source = side;
	if (source != NULL && IsA(source, Append) && source->qual == NIL)
		children = ((Append *) source)->appendplans;
	else if (source != NULL && IsA(source, MergeAppend) && source->qual == NIL)
		children = ((MergeAppend *) source)->mergeplans;
	else
		children = list_make1(source);
	foreach(lc, children)
	{
		Oid			relid;

		/* a foreign table's rows are not here */
		if (lfirst(lc) != NULL && IsA(lfirst(lc), ForeignScan))
			continue;
		if (!OidIsValid(relid = unfiltered_scan(pstmt, mt, lfirst(lc), params)))
			return result;
		found = dml_target(found, relid, is_delete, false);
	}
	if (found == NIL)
		return result;

	/* the partitioned table named, for the approval a hint proposes */
	root = rt_fetch(mt->nominalRelation, pstmt->rtable);
	if (root->rtekind == RTE_RELATION && root->relkind == RELKIND_PARTITIONED_TABLE)
		found = dml_target(found, root->relid, is_delete, true);
	*conditions = list_concat(*conditions, gates);
	return list_concat(result, found);
}

/*
 * migsafe_classify_unqualified_dml
 *
 * The tables a DELETE, UPDATE or MERGE reaches in every row (a List of
 * MigsafeDmlTarget): its ModifyTable reads them with sequential scans that
 * filter nothing (no WHERE, or one the planner folded to true), directly
 * or under an Append of partitions or inheritance children (foreign ones
 * hold no local rows); a MERGE when an action WHEN MATCHED without
 * condition deletes or updates.  The statement's own, and those in WITH
 * (planned as subplans).  A join without condition (USING other, a
 * MERGE's ON true) reaches every row too.  A condition, a join on one
 * (USING, FROM, a MERGE's source ON a key), or an action's AND reaches only
 * some rows, as far as the plan tells.  *conditions gets
 * the one-time conditions of a generic plan (WHERE $1): the caller
 * evaluates them with the statement's parameters.
 */
List	   *
migsafe_classify_unqualified_dml(PlannedStmt *pstmt, ParamListInfo params,
								 List **conditions)
{
	List	   *result = NIL;
	ListCell   *lc;

	*conditions = NIL;
	if (pstmt->planTree != NULL && IsA(pstmt->planTree, ModifyTable))
		result = unqualified_modify(result, pstmt,
									(ModifyTable *) pstmt->planTree,
									params, conditions);
	foreach(lc, pstmt->subplans)
	{
		if (lfirst(lc) != NULL && IsA(lfirst(lc), ModifyTable))
			result = unqualified_modify(result, pstmt, lfirst(lc), params,
										conditions);
	}
	return result;
}

/* A lock mode as LOCK TABLE spells it ("ACCESS EXCLUSIVE") */
const char *
migsafe_classify_lock_name(LOCKMODE mode)
{
	switch (mode)
	{
		case AccessShareLock:
			return "ACCESS SHARE";
		case RowShareLock:
			return "ROW SHARE";
		case RowExclusiveLock:
			return "ROW EXCLUSIVE";
		case ShareUpdateExclusiveLock:
			return "SHARE UPDATE EXCLUSIVE";
		case ShareLock:
			return "SHARE";
		case ShareRowExclusiveLock:
			return "SHARE ROW EXCLUSIVE";
		case ExclusiveLock:
			return "EXCLUSIVE";
		case AccessExclusiveLock:
			return "ACCESS EXCLUSIVE";
		default:
			return "no";
	}
}

/* What ordinary traffic a lock mode makes wait, for messages */
const char *
migsafe_classify_lock_blocks(LOCKMODE mode)
{
	if (mode >= AccessExclusiveLock)
		return "blocks reads and writes";
	if (mode >= ShareLock)
		return "blocks writes";
	if (mode >= ShareUpdateExclusiveLock)
		return "blocks other schema changes and VACUUM, not reads or writes";
	return "blocks no reads or writes";
}

/*
 * migsafe_classify_has_secret
 *
 * Whether a statement can carry a password in its text: a role's
 * PASSWORD, the options of a user mapping or foreign server, a
 * subscription's connection string.
 */
bool
migsafe_classify_has_secret(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_CreateRoleStmt:
		case T_AlterRoleStmt:
		case T_CreateUserMappingStmt:
		case T_AlterUserMappingStmt:
		case T_CreateForeignServerStmt:
		case T_AlterForeignServerStmt:
		case T_CreateSubscriptionStmt:
		case T_AlterSubscriptionStmt:
			return true;
		default:
			return false;
	}
}
