/*-------------------------------------------------------------------------
 *
 * classify.h
 *	  Statement and object classification for migsafe.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/classify.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_CLASSIFY_H
#define MIGSAFE_CLASSIFY_H

#include "nodes/parsenodes.h"

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

/* How an object loses its data */
typedef enum MigsafeOp
{
	MIGSAFE_OP_DROP,			/* relation, column or database removed */
	MIGSAFE_OP_TRUNCATE,		/* every row removed */
	MIGSAFE_OP_RETYPE,			/* column values converted to a new type */
	MIGSAFE_OP_BLANK,			/* attribute of a composite value removed */
	MIGSAFE_OP_ALTER,			/* one of migsafe's own objects changed */
	MIGSAFE_OP_UNLOG,			/* SET UNLOGGED: rows lost at the next crash */
	MIGSAFE_OP_RESTART			/* a sequence's value reset */
} MigsafeOp;

extern bool migsafe_classify_is_schema_change(Node *parsetree);
extern MigsafeStmtKind migsafe_classify_statement(Node *parsetree);
extern bool migsafe_classify_relkind(char relkind);
extern const char *migsafe_classify_relkind_noun(char relkind);

#endif							/* MIGSAFE_CLASSIFY_H */
