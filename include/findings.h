/*-------------------------------------------------------------------------
 *
 * findings.h
 *	  The preview's findings and what it knows of a script so far: shared
 *	  by lint.c (statements) and lintalter.c (ALTER TABLE).
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/findings.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_FINDINGS_H
#define MIGSAFE_FINDINGS_H

#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "storage/lockdefs.h"
#include "utils/tuplestore.h"

#include "lintdeps.h"
#include "script.h"

/* Finding classes, most severe first */
#define MIGSAFE_CLASS_DESTRUCTIVE	"destructive"
#define MIGSAFE_CLASS_BREAKING		"breaking"
#define MIGSAFE_CLASS_LOCKING		"locking"
#define MIGSAFE_CLASS_ADVICE		"advice"
#define MIGSAFE_CLASS_ERROR			"error"

/* A relation the script renamed or moved: its new name and what it is */
typedef struct MigsafeLintRename
{
	char	   *key;			/* "schema.name" or "name", as renamed */
	Oid			relid;
} MigsafeLintRename;

/* A relation the script created, then may have written rows into */
typedef struct MigsafeLintFilled
{
	char	   *key;			/* "schema.name" or "name" */
	int			number;			/* the statement that wrote */
} MigsafeLintFilled;

/* The settings a script set, as saved at BEGIN and at each SAVEPOINT */
typedef struct MigsafeLintSaved
{
	char	   *name;			/* the savepoint's, or NULL for BEGIN */
	int			timeout;
	int			local_timeout;
	char	   *approve;
	char	   *local_approve;
	List	   *created;		/* what the script had done, as lists */
	List	   *created_xact;
	List	   *filled;
	List	   *dropped;
	List	   *renamed;
	List	   *renamed_columns;
	List	   *new_columns;
	List	   *added_columns;
} MigsafeLintSaved;

/* Per call: what the preview knows of the database and of the script */
typedef struct MigsafeLintState
{
	Tuplestorestate *tupstore;
	TupleDesc	tupdesc;
	List	   *exclude;		/* rule names not to report */
	List	   *rels;			/* MigsafeLintRel, measured once per call */
	List	   *created;		/* "schema.name" or "name" created here */
	List	   *created_xact;	/* the same, created in the open transaction */
	List	   *filled;			/* MigsafeLintFilled */
	List	   *dropped;		/* the same, dropped (or renamed away) here */
	List	   *renamed;		/* MigsafeLintRename */
	List	   *renamed_columns;	/* pairs: "name.column" as renamed, the
									 * column's name in the database */
	List	   *new_columns;	/* "name.column" added here, empty */
	List	   *added_columns;	/* "name.column" added here, all */
	List	   *enum_values;	/* values added in the open transaction */
	bool		in_xact;		/* inside an explicit BEGIN */
	MigsafeScriptStmt *xact_begin;	/* the BEGIN */
	int			timeout;		/* lock_timeout the script set (ms), or -1 */
	int			local_timeout;	/* SET LOCAL lock_timeout, or -1; -2: SET
								 * LOCAL to the server's default */
	char	   *approve;		/* migsafe.approve the script set */
	char	   *local_approve;	/* SET LOCAL migsafe.approve */
	MigsafeLintSaved *xact_saved;	/* the settings as the BEGIN found them */
	List	   *savepoints;		/* MigsafeLintSaved, innermost last */
	MigsafeScriptStmt *stmt;	/* the statement being read */
} MigsafeLintState;

extern void migsafe_findings_emit(MigsafeLintState *st, const char *class, const char *rule, MigsafeLintRel *rel, LOCKMODE lock, int rewrite, const char *extra, const char *message);
extern void migsafe_findings_destroys(MigsafeLintState *st, const char *rule, MigsafeLintRel *rel, const char *attname, LOCKMODE lock, int rewrite, const char *what, const char *safer);
extern void migsafe_findings_json_num(StringInfo buf, const char *key, double value, bool isnull);
extern void migsafe_findings_json_str(StringInfo buf, const char *key, const char *value);
extern char *migsafe_findings_key(const char *nspname, const char *relname);
extern bool migsafe_findings_names(List *keys, RangeVar *rv);
extern MigsafeLintRel *migsafe_findings_lookup(MigsafeLintState *st, RangeVar *rv);
extern List *migsafe_findings_forget(List *keys, const char *key);
extern void migsafe_findings_moved(MigsafeLintState *st, RangeVar *from, MigsafeLintRel *rel, const char *nspname, const char *relname);
extern const char *migsafe_findings_column(MigsafeLintState *st, MigsafeLintRel *rel, const char *attname);
extern void migsafe_findings_column_renamed(MigsafeLintState *st, MigsafeLintRel *rel, const char *from, const char *to);
extern bool migsafe_findings_added_column(MigsafeLintState *st, MigsafeLintRel *rel, const char *attname);
extern bool migsafe_findings_new_column(MigsafeLintState *st, MigsafeLintRel *rel, const char *attname);
extern bool migsafe_findings_creates(MigsafeLintState *st, RangeVar *rv);
extern void migsafe_findings_fills(MigsafeLintState *st, RangeVar *rv);
extern void migsafe_findings_end_statement(MigsafeLintState *st);
extern void migsafe_findings_exists(MigsafeLintState *st, const char *noun, const char *name);
extern bool migsafe_findings_has_rows(MigsafeLintRel *rel);
extern void migsafe_findings_lock_timeout(MigsafeLintState *st, MigsafeLintRel *rel, LOCKMODE lock);

#endif							/* MIGSAFE_FINDINGS_H */
