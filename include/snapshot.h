/*-------------------------------------------------------------------------
 *
 * snapshot.h
 *	  Keeping the data an approved destructive change destroys.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/snapshot.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_SNAPSHOT_H
#define MIGSAFE_SNAPSHOT_H

#include "access/xact.h"
#include "nodes/plannodes.h"

#include "guard.h"

/* Prefix of the schemas holding snapshot data: migsafe_snapshot_<id> */
#define MIGSAFE_SNAPSHOT_SCHEMA_PREFIX	"migsafe_snapshot_"

/*
 * State saved while migsafe runs its own statements (snapshots, restore,
 * purge): they bypass the guard and run as the bootstrap superuser with
 * search_path = pg_catalog, pg_temp.
 */
typedef struct MigsafeInternal
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	bool		save_creating_extension;	/* storage is no extension's */
	Oid			save_extension;
} MigsafeInternal;

/* Depth of migsafe's own statements: the hooks let them through */
extern int	migsafe_internal_depth;

extern void migsafe_snapshot_take(MigsafeCommand *cmd, PlannedStmt *pstmt);
extern void migsafe_snapshot_late(MigsafeCommand *cmd, MigsafeTarget *t);
extern void migsafe_snapshot_internal_begin(MigsafeInternal *state);
extern void migsafe_snapshot_internal_end(MigsafeInternal *state);
extern void migsafe_snapshot_internal_abort(MigsafeInternal *state);
extern void migsafe_snapshot_as_user(Oid userid);
extern int	migsafe_snapshot_exec(const char *sql, int nargs, Oid *argtypes,
								  Datum *values, const char *nulls,
								  long tcount);
extern void migsafe_snapshot_run(const char *sql);
extern const char *migsafe_snapshot_caller_path(void);
extern void migsafe_snapshot_lock_down(const char *nspname, const char *readers);
extern bool migsafe_snapshot_drop_storage(int64 id);
extern bool migsafe_snapshot_retire(int64 id, const char *status,
									const char *tag, const char *why);
extern void migsafe_snapshot_audit(const char *tag, int64 id,
								   const char *object_type,
								   const char *identity,
								   const char *detail);
extern Datum migsafe_snapshot_retention_interval(void);
extern List *migsafe_snapshot_expired(Datum older_than, bool spare_current);
extern void migsafe_snapshot_xact_callback(XactEvent event, void *arg);

#endif							/* MIGSAFE_SNAPSHOT_H */
