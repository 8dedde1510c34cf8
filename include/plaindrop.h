/*-------------------------------------------------------------------------
 *
 * plaindrop.h
 *	  A DROP TABLE or DROP COLUMN the dry run can be spared.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/plaindrop.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_PLAINDROP_H
#define MIGSAFE_PLAINDROP_H

#include "nodes/nodes.h"

#include "migsafe.h"

extern bool migsafe_plaindrop_collect(MigsafeCommand *cmd, Node *parsetree);
extern bool migsafe_plaindrop_settled(MigsafeCommand *cmd, Node *parsetree);

#endif							/* MIGSAFE_PLAINDROP_H */
