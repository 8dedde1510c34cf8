/*-------------------------------------------------------------------------
 *
 * undo.h
 *	  migsafe.undo(): restore every kept snapshot of a migration or period.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/undo.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_UNDO_H
#define MIGSAFE_UNDO_H

#include "fmgr.h"

extern PGDLLEXPORT Datum migsafe_undo_migration(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum migsafe_undo_since(PG_FUNCTION_ARGS);

#endif							/* MIGSAFE_UNDO_H */
