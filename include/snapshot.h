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

#include "nodes/plannodes.h"

#include "migsafe.h"

extern PlannedStmt *migsafe_snapshot_take(MigsafeCommand *cmd,
										  PlannedStmt *pstmt);
extern void migsafe_snapshot_verify(MigsafeCommand *cmd);
extern void migsafe_snapshot_late(MigsafeCommand *cmd, MigsafeTarget *t);

#endif							/* MIGSAFE_SNAPSHOT_H */
