/*-------------------------------------------------------------------------
 *
 * keptypes.h
 *	  Kept storage with columns of a user's type (see src/keptypes.c).
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/keptypes.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_KEPTYPES_H
#define MIGSAFE_KEPTYPES_H

#include "nodes/nodes.h"
#include "nodes/pg_list.h"

extern bool migsafe_keptypes_keepable(Oid typid);
extern bool migsafe_keptypes_holds_user_range(Oid typid);
extern bool migsafe_keptypes_spared(Oid relid, List *dropped, bool *typed,
									List **relabel, List **to_oid);
extern char *migsafe_keptypes_settle(Oid relid, List *relabel, List *to_oid);
extern void migsafe_keptypes_release(Node *parsetree);
extern bool migsafe_keptypes_release_targets(List *targets, Node *parsetree);
extern bool migsafe_keptypes_exist(void);
extern bool migsafe_keptypes_kept_column(Oid relid, int subid);

#endif							/* MIGSAFE_KEPTYPES_H */
