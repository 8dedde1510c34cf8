/*-------------------------------------------------------------------------
 *
 * refill.h
 *	  Restoring into what a down migration re-created.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/refill.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_REFILL_H
#define MIGSAFE_REFILL_H

#include "postgres.h"

#include "rebuild.h"

extern bool migsafe_refill_applies(MigsafeSnapshotRow *s);
extern int64 migsafe_refill(MigsafeSnapshotRow *s);

#endif							/* MIGSAFE_REFILL_H */
