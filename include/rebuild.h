/*-------------------------------------------------------------------------
 *
 * rebuild.h
 *	  Putting the parts of a restored table back.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/rebuild.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_REBUILD_H
#define MIGSAFE_REBUILD_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/elog.h"

/* One snapshot row, as text */
typedef struct MigsafeSnapshotRow
{
	int64		id;
	char	   *status;
	char	   *method;
	char	   *operation;
	char	   *object_type;
	char	   *object_identity;
	char	   *schema_name;
	char	   *relation_name;
	char	   *column_name;
	char	   *owner;
	char	   *storage;
	char	   *key_columns;	/* text of a name[] */
	int64		row_count;
	bool		rows_estimated; /* row_count is the planner's estimate */
	char	   *definition;		/* jsonb as text */
	Oid			owner_oid;		/* InvalidOid when the role is gone */
	Oid			runner;			/* who runs user code: owner, or caller */
	char	   *target;			/* quoted qualified name of the original */
	bool		refill;			/* goes into what re-created it (refill.c) */
} MigsafeSnapshotRow;

/* The fields of a sequence's saved definition, for SELECT lists */
#define SEQUENCE_FIELDS(obj) \
	obj " OPERATOR(pg_catalog.->>) 'type', " obj " OPERATOR(pg_catalog.->>) 'increment', " \
	obj " OPERATOR(pg_catalog.->>) 'min', " obj " OPERATOR(pg_catalog.->>) 'max', " \
	obj " OPERATOR(pg_catalog.->>) 'start', " obj " OPERATOR(pg_catalog.->>) 'cache', " \
	obj " OPERATOR(pg_catalog.->>) 'cycle', " obj " OPERATOR(pg_catalog.->>) 'last_value'"

extern void migsafe_rebuild_run_as(Oid role, const char *sql);
extern void migsafe_rebuild_run_approved(Oid role, const char *approval,
										 const char *sql);
extern ErrorData *migsafe_rebuild_run_in_subxact(Oid role, const char *sql, int64 *processed);
extern List *migsafe_rebuild_triggers_off(MigsafeSnapshotRow *s, Oid relid,
										  int16 events);
extern void migsafe_rebuild_triggers_on(MigsafeSnapshotRow *s, List *enable);
extern void migsafe_rebuild_try_as(Oid role, const char *sql, const char *what, MigsafeSnapshotRow *s);
extern List *migsafe_rebuild_definition_rows(MigsafeSnapshotRow *s, const char *sql, int ncols);
extern char *migsafe_rebuild_description(MigsafeSnapshotRow *s);
extern void migsafe_rebuild_conflict_hint(MigsafeSnapshotRow *s, const char *detail, const char *hint);
extern void migsafe_rebuild_conflict(MigsafeSnapshotRow *s, const char *detail);
extern Oid	migsafe_rebuild_namespace(MigsafeSnapshotRow *s);
extern void migsafe_rebuild_check_name_free(MigsafeSnapshotRow *s, Oid nsp, const char *relname);
extern Oid	migsafe_rebuild_existing_relation(MigsafeSnapshotRow *s);
extern char *migsafe_rebuild_column_type(const char *type);
extern void migsafe_rebuild_grants(MigsafeSnapshotRow *s, const char *kind);
extern void migsafe_rebuild_sequence_grants(MigsafeSnapshotRow *s);
extern void migsafe_rebuild_security(MigsafeSnapshotRow *s, bool moved);
extern void migsafe_rebuild_comments(MigsafeSnapshotRow *s, const char *kind);
extern void migsafe_rebuild_give_back(MigsafeSnapshotRow *s);
extern void migsafe_rebuild_constraints(MigsafeSnapshotRow *s, Oid relid, bool fk_only);
extern void migsafe_rebuild_indexes(MigsafeSnapshotRow *s);
extern char *migsafe_rebuild_setval_sql(const char *seq, const char *last_value, const char *start);
extern char *migsafe_rebuild_create_sequence_sql(const char *name, char **r);
extern void migsafe_rebuild_owned_sequences(MigsafeSnapshotRow *s, const char *only);
extern void migsafe_rebuild_catch_up_sequences(MigsafeSnapshotRow *s);
extern void migsafe_rebuild_defaults(MigsafeSnapshotRow *s, const char *only);
extern void migsafe_rebuild_column_definitions(MigsafeSnapshotRow *s, StringInfo def);
extern void migsafe_rebuild_attach_and_inherit(MigsafeSnapshotRow *s);
extern List *migsafe_rebuild_kept_columns(MigsafeSnapshotRow *s, Oid relid);
extern void migsafe_rebuild_copy_lists(MigsafeSnapshotRow *s, Oid relid,
									   StringInfo cols, StringInfo exprs);
extern char *migsafe_rebuild_match_condition(MigsafeSnapshotRow *s, Oid relid);

#endif							/* MIGSAFE_REBUILD_H */
