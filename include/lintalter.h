/*-------------------------------------------------------------------------
 *
 * lintalter.h
 *	  The preview's rules for ALTER TABLE and for new columns.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/lintalter.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_LINTALTER_H
#define MIGSAFE_LINTALTER_H

#include "findings.h"

extern void migsafe_lintalter_table(MigsafeLintState *st, AlterTableStmt *stmt);
extern void migsafe_lintalter_column_type(MigsafeLintState *st, MigsafeLintRel *rel, ColumnDef *col);

#endif							/* MIGSAFE_LINTALTER_H */
