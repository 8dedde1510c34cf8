/*-------------------------------------------------------------------------
 *
 * guard.h
 *	  The gate's entry points, called by the hooks in migsafe.c only.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/guard.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_GUARD_H
#define MIGSAFE_GUARD_H

#include "catalog/objectaddress.h"
#include "executor/execdesc.h"
#include "nodes/params.h"
#include "nodes/plannodes.h"
#include "tcop/utility.h"

#include "migsafe.h"

extern MigsafeCommand *migsafe_guard_begin(PlannedStmt *pstmt,
										   const char *queryString,
										   ProcessUtilityContext context,
										   ParamListInfo params,
										   QueryEnvironment *queryEnv,
										   PlannedStmt **run);
extern void migsafe_guard_record(MigsafeCommand *cmd);
extern void migsafe_guard_end(MigsafeCommand *cmd);
extern pg_attribute_noreturn()
void		migsafe_guard_fail(MigsafeCommand *cmd);
extern void migsafe_guard_after(PlannedStmt *pstmt);
extern void migsafe_guard_note_object(Oid classId, Oid objectId, int subId,
									  bool is_internal, bool created);
extern void migsafe_guard_note_dropped(Oid classId, Oid objectId, int subId);
extern void migsafe_guard_drop_relation(Oid relid, int subId);
extern void migsafe_guard_drop_extension(Oid extoid);
extern void migsafe_guard_drop_object(Oid classId, Oid objectId, int subId);
extern void migsafe_guard_truncate(Oid relid);
extern void migsafe_guard_check_dml(QueryDesc *queryDesc);
extern void migsafe_guard_relabel(const ObjectAddress *object,
								  const char *seclabel);

#endif							/* MIGSAFE_GUARD_H */
