/*-------------------------------------------------------------------------
 *
 * classify.c
 *	  Decide which utility statements and which objects migsafe must look
 *	  at.
 *
 * Everything here is pure: it reads the parse tree and its arguments,
 * never the catalogs, never writes, and reports nothing above DEBUG.  It is
 * called from the ProcessUtility hook after the node-tag fast path, and from
 * the object-access hook.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/classify.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"
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
	bool		only_drops = stmt->objtype == OBJECT_TABLE;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		if (cmd->subtype == AT_DropColumn ||
			cmd->subtype == AT_AlterColumnType ||
			cmd->subtype == AT_DropIdentity ||
			cmd->subtype == AT_SetUnLogged ||
			(cmd->subtype == AT_SetIdentity && has_option(cmd->def, "restart")))
			destroys = true;
		if (cmd->subtype != AT_DropColumn)
			only_drops = false;
	}
	if (!destroys)
		return MIGSAFE_STMT_OTHER;
	return only_drops ? MIGSAFE_STMT_DROP : MIGSAFE_STMT_ALTER;
}

/*
 * Whether a rename changes a name that approvals are matched against: any
 * rename of a relation (ALTER INDEX, VIEW or SEQUENCE ... RENAME work on
 * tables too), of a column, or of a schema.
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
	return setstmt != NULL &&
		(setstmt->kind == VAR_SET_VALUE || setstmt->kind == VAR_SET_CURRENT) &&
		setstmt->name != NULL &&
		(strcmp(setstmt->name, "migsafe.approve") == 0 ||
		 strcmp(setstmt->name, "migsafe.skip_snapshot") == 0);
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
