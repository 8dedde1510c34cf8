/*-------------------------------------------------------------------------
 *
 * rehearse.h
 *	  migsafe.rehearse(): a migration script run for real and rolled back,
 *	  with the locks, rewrites, rows and time of each statement.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/rehearse.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_REHEARSE_H
#define MIGSAFE_REHEARSE_H

#include "fmgr.h"

extern PGDLLEXPORT Datum migsafe_rehearse(PG_FUNCTION_ARGS);

#endif							/* MIGSAFE_REHEARSE_H */
