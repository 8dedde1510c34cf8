/*-------------------------------------------------------------------------
 *
 * script.h
 *	  A migration script cut into its statements, as PostgreSQL's raw
 *	  parser counts them, for the preview and the rehearsal.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/script.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_SCRIPT_H
#define MIGSAFE_SCRIPT_H

#include "nodes/parsenodes.h"

/* One statement of a script */
typedef struct MigsafeScriptStmt
{
	int			number;			/* 1-based, as the raw parser counts */
	int			line;			/* 1-based line where it starts */
	char	   *text;			/* its text, without surrounding blanks */
	RawStmt    *raw;			/* NULL: it does not parse */
	char	   *error;			/* the parser's message, when it does not */
	int			error_line;		/* line of the error position */
} MigsafeScriptStmt;

extern List *migsafe_script_split(const char *script);

#endif							/* MIGSAFE_SCRIPT_H */
