/*-------------------------------------------------------------------------
 *
 * tools.h
 *	  The maintenance tools migsafe recognises (pg_repack): their runs and
 *	  their scratch objects.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/tools.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_TOOLS_H
#define MIGSAFE_TOOLS_H

#include "fmgr.h"

#include "migsafe.h"

extern bool migsafe_tools_needs_fmgr(Oid fn_oid);
extern void migsafe_tools_fmgr(FmgrHookEventType event, FmgrInfo *flinfo);
extern const char *migsafe_tools_scratch(Oid relid, bool dml, Oid *copy_of);
extern bool migsafe_tools_part_of_run(MigsafeCommand *cmd);
extern bool migsafe_tools_in_schema(Oid relid);
extern void migsafe_tools_at_eoxact(void);

#endif							/* MIGSAFE_TOOLS_H */
