/*-------------------------------------------------------------------------
 *
 * load.h
 *	  Loading a dump's rows into migsafe.audit_log and migsafe.snapshots.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/load.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_LOAD_H
#define MIGSAFE_LOAD_H

#include "postgres.h"

#include "access/htup.h"
#include "commands/trigger.h"

extern bool migsafe_load_allowed(TriggerData *trigdata);
extern HeapTuple migsafe_load_audit_row(TriggerData *trigdata, bool *first);
extern HeapTuple migsafe_load_snapshot_row(TriggerData *trigdata,
										   bool *first);

#endif							/* MIGSAFE_LOAD_H */
