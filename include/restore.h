/*-------------------------------------------------------------------------
 *
 * restore.h
 *	  migsafe.restore() and migsafe.purge_snapshots(), called from SQL;
 *	  restoring one snapshot, for migsafe.undo().
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/restore.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_RESTORE_H
#define MIGSAFE_RESTORE_H

#include "fmgr.h"

extern int64 migsafe_restore_snapshot(int64 id, const char *tag,
									  const char *why);

extern PGDLLEXPORT Datum migsafe_restore(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum migsafe_restore_by_name(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum migsafe_restore_1_1(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum migsafe_purge_snapshots(PG_FUNCTION_ARGS);

#endif							/* MIGSAFE_RESTORE_H */
