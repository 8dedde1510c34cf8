/*-------------------------------------------------------------------------
 *
 * swap.h
 *	  Keeping a table's storage under a new table (see src/swap.c).
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/swap.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_SWAP_H
#define MIGSAFE_SWAP_H

extern bool migsafe_swap_possible(Oid relid);
extern bool migsafe_swap_before_truncate(Oid relid);
extern Oid	migsafe_swap_keep_storage(Oid relid);

#endif							/* MIGSAFE_SWAP_H */
