/*-------------------------------------------------------------------------
 *
 * classify.h
 *	  Statement and object classification for migsafe: pure functions of
 *	  the parse tree, shared by the gate and the preview.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/classify.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_CLASSIFY_H
#define MIGSAFE_CLASSIFY_H

#include "nodes/params.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "storage/lockdefs.h"

#include "migsafe.h"

/* What the guard has to do with a utility statement */
typedef enum MigsafeStmtKind
{
	MIGSAFE_STMT_OTHER,			/* cannot destroy data: nothing to do */
	MIGSAFE_STMT_DROP,			/* DROP, DROP OWNED, DROP COLUMN: dry run */
	MIGSAFE_STMT_TRUNCATE,		/* TRUNCATE: expand and decide up front */
	MIGSAFE_STMT_ALTER,			/* ALTER TABLE/TYPE dropping or retyping */
	MIGSAFE_STMT_DROPDB,		/* DROP DATABASE: cluster-wide */
	MIGSAFE_STMT_CREATEDB,		/* CREATE DATABASE: inherit the guard mark */
	MIGSAFE_STMT_RENAME,		/* renames and moves that approvals see */
	MIGSAFE_STMT_STORED_APPROVAL	/* ALTER ROLE/DATABASE SET migsafe.approve */
} MigsafeStmtKind;

/* What one ALTER TABLE / ALTER TYPE subcommand does to stored data */
typedef enum MigsafeAlterEffect
{
	MIGSAFE_ALTER_KEEPS,		/* keeps every stored value */
	MIGSAFE_ALTER_DROP_COLUMN,	/* DROP COLUMN, DROP ATTRIBUTE */
	MIGSAFE_ALTER_RETYPE,		/* ALTER COLUMN / ATTRIBUTE ... TYPE */
	MIGSAFE_ALTER_DROP_IDENTITY,	/* drops the identity's sequence */
	MIGSAFE_ALTER_RESTART,		/* SET ... RESTART resets the identity */
	MIGSAFE_ALTER_UNLOG			/* SET UNLOGGED: rows lost at a crash */
} MigsafeAlterEffect;

/* What a rename or move changes of the names approvals match */
typedef enum MigsafeNameChange
{
	MIGSAFE_NAME_SCHEMA,		/* a schema renamed */
	MIGSAFE_NAME_RELATION,		/* a relation renamed or moved */
	MIGSAFE_NAME_COLUMN,		/* a column renamed */
	MIGSAFE_NAME_EXTENSION,		/* an extension's tables moved */
	MIGSAFE_NAME_ATTACH			/* a table attached as a partition */
} MigsafeNameChange;

/* One name a statement changes, as written in it */
typedef struct MigsafeRenamed
{
	MigsafeNameChange change;
	RangeVar   *relation;		/* RELATION, COLUMN, ATTACH */
	const char *name;			/* SCHEMA, EXTENSION; COLUMN: the column */
} MigsafeRenamed;

/* One relation a statement locks, and in which mode */
typedef struct MigsafeLockNeed
{
	RangeVar   *relation;
	LOCKMODE	mode;
	bool		first;			/* the statement's first lock, in this very
								 * mode, on this very relation */
} MigsafeLockNeed;

/* A table a DELETE or UPDATE reaches in every row */
typedef struct MigsafeDmlTarget
{
	Oid			relid;
	bool		is_delete;		/* DELETE, or UPDATE */
	bool		root;			/* the partitioned table named, no rows */
} MigsafeDmlTarget;

extern bool migsafe_classify_is_schema_change(Node *parsetree);
extern List *migsafe_classify_locks(Node *parsetree);
extern bool migsafe_classify_concurrent(Node *parsetree);
extern List *migsafe_classify_unqualified_dml(PlannedStmt *pstmt,
											  ParamListInfo params,
											  List **conditions);
extern MigsafeStmtKind migsafe_classify_statement(Node *parsetree);
extern MigsafeAlterEffect migsafe_classify_alter_cmd(AlterTableCmd *cmd);
extern MigsafeOp migsafe_classify_alter_op(MigsafeAlterEffect effect);
extern List *migsafe_classify_renames(Node *parsetree);
extern List *migsafe_classify_own_relations(Node *parsetree);
extern bool migsafe_classify_drops_extensions(Node *parsetree,
											  bool *names_migsafe);
extern const char *migsafe_classify_database(Node *parsetree);
extern const char *migsafe_classify_template(CreatedbStmt *stmt);
extern const char *migsafe_classify_stored_setting(Node *parsetree);
extern char *migsafe_classify_named_objects(Node *parsetree);
extern bool migsafe_classify_nameable_class(Oid classId);
extern bool migsafe_classify_relkind(char relkind);
extern const char *migsafe_classify_relkind_noun(char relkind);
extern const char *migsafe_classify_op_name(MigsafeOp op);
extern bool migsafe_classify_has_secret(Node *parsetree);
extern const char *migsafe_classify_lock_name(LOCKMODE mode);
extern const char *migsafe_classify_lock_blocks(LOCKMODE mode);

#endif							/* MIGSAFE_CLASSIFY_H */
