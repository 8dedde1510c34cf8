/*-------------------------------------------------------------------------
 *
 * definition.h
 *	  The definition a snapshot records of a plain table, without SQL.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/definition.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_DEFINITION_H
#define MIGSAFE_DEFINITION_H

#include "utils/jsonb.h"

extern Jsonb *migsafe_definition_of_table(Oid relid, const char *version);

#endif							/* MIGSAFE_DEFINITION_H */
