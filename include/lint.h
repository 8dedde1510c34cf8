/*-------------------------------------------------------------------------
 *
 * lint.h
 *	  migsafe.check(): what a migration script will destroy, break or
 *	  lock in this database, read without running it.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/lint.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_LINT_H
#define MIGSAFE_LINT_H

#include "fmgr.h"

extern PGDLLEXPORT Datum migsafe_check(PG_FUNCTION_ARGS);

#endif							/* MIGSAFE_LINT_H */
