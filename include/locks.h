/*-------------------------------------------------------------------------
 *
 * locks.h
 *	  Lock safety of schema changes: their lock_timeout, and who is in the
 *	  way of the locks they need.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/locks.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_LOCKS_H
#define MIGSAFE_LOCKS_H

#include "migsafe.h"

/* A lock timeout of a schema change, explained: raised after its frame */
typedef struct MigsafeLockTimeout
{
	char	   *message;
	char	   *detail;
	char	   *hint;
} MigsafeLockTimeout;

extern void migsafe_locks_begin(MigsafeCommand *cmd);
extern void migsafe_locks_end(MigsafeCommand *cmd);
extern MigsafeLockTimeout *migsafe_locks_explain(MigsafeCommand *cmd,
												 MemoryContext cxt);
extern void migsafe_locks_raise(MigsafeLockTimeout *timeout);

#endif							/* MIGSAFE_LOCKS_H */
