/*-------------------------------------------------------------------------
 *
 * lintdeps.h
 *	  What the preview knows of the relations a script touches: their
 *	  figures, and what a DROP or TRUNCATE takes along.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/lintdeps.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_LINTDEPS_H
#define MIGSAFE_LINTDEPS_H

#include "catalog/objectaddress.h"
#include "nodes/parsenodes.h"

/* A relation as the preview sees it */
typedef struct MigsafeLintRel
{
	Oid			relid;			/* InvalidOid: created by the script */
	bool		created;		/* created earlier in the script */
	int			filled;			/* created in an earlier transaction of the
								 * script, and the statement (1-based) that
								 * may have written rows into it, or 0 */
	char		relkind;
	char	   *nspname;		/* NULL for an unqualified new relation */
	char	   *relname;
	char	   *name;			/* "schema.name", for messages */
	bool		measured;
	double		rows;			/* -1: unknown */
	bool		rows_exact;
	int64		bytes;			/* -1: unknown */
} MigsafeLintRel;

/* A column another object's DROP ... CASCADE takes along */
typedef struct MigsafeLintColumn
{
	MigsafeLintRel *rel;
	char	   *attname;
} MigsafeLintColumn;

/* What dropping an object takes along */
typedef struct MigsafeLintDeps
{
	List	   *blockers;		/* descriptions: what makes RESTRICT fail */
	List	   *others;			/* descriptions of other objects dropped */
	List	   *relations;		/* MigsafeLintRel that may hold data */
	List	   *columns;		/* MigsafeLintColumn of other tables */
} MigsafeLintDeps;

extern MigsafeLintRel *migsafe_lintdeps_rel(List **rels, Oid relid);
extern MigsafeLintRel *migsafe_lintdeps_new_rel(List **rels,
												const char *nspname,
												const char *relname);
extern void migsafe_lintdeps_measure(MigsafeLintRel *rel);
extern bool migsafe_lintdeps_column_empty(MigsafeLintRel *rel, int attnum);
extern char *migsafe_lintdeps_rows_phrase(MigsafeLintRel *rel);
extern void migsafe_lintdeps_walk(const ObjectAddress *root, bool cascade,
								  MigsafeLintDeps *deps, List **rels);
extern char *migsafe_lintdeps_names(List *names, int max);
extern List *migsafe_lintdeps_not_null_checks(Oid relid);
extern bool migsafe_lintdeps_index_is_unique(Oid indexid);
extern List *migsafe_lintdeps_truncated(List *relids, bool cascade,
										List **rels);
extern List *migsafe_lintdeps_owned(List *roles, List **rels);

#endif							/* MIGSAFE_LINTDEPS_H */
