/*-------------------------------------------------------------------------
 *
 * collect.h
 *	  What a statement destroys: dry run, expansions, lock order.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/collect.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_COLLECT_H
#define MIGSAFE_COLLECT_H

#include "tcop/utility.h"

#include "migsafe.h"
#include "classify.h"

extern void migsafe_collect_targets(MigsafeCommand *cmd, MigsafeStmtKind kind,
									PlannedStmt *pstmt,
									const char *queryString,
									ProcessUtilityContext context,
									ParamListInfo params,
									QueryEnvironment *queryEnv);
extern bool migsafe_collect_in_dry_run(void);
extern void migsafe_collect_at_eoxact(void);

#endif							/* MIGSAFE_COLLECT_H */
