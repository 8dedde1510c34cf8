/*-------------------------------------------------------------------------
 *
 * migsafe-check.h
 *	  Types shared by the migsafe-check program's driver and its output.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * cli/migsafe-check.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_CHECK_H
#define MIGSAFE_CHECK_H

#include "libpq-fe.h"

/* cli/Makefile passes migsafe.control's default_version */
#ifndef MIGSAFE_VERSION
#define MIGSAFE_VERSION "(unknown version: built without cli/Makefile)"
#endif

/* Output formats (--format) */
typedef enum MigsafeFormat
{
	MIGSAFE_FORMAT_TEXT,
	MIGSAFE_FORMAT_JSON,
	MIGSAFE_FORMAT_GITHUB
} MigsafeFormat;

/*
 * Severity of a finding's class, lowest first.  --fail-on takes one of
 * these as its threshold; MIGSAFE_SEVERITY_NONE is above every class, so
 * that nothing fails.  Class "error" (a statement that does not parse) is
 * not in the order: it fails at every threshold but "none".
 */
typedef enum MigsafeSeverity
{
	MIGSAFE_SEVERITY_ADVICE = 1,
	MIGSAFE_SEVERITY_LOCKING,
	MIGSAFE_SEVERITY_BREAKING,
	MIGSAFE_SEVERITY_DESTRUCTIVE,
	MIGSAFE_SEVERITY_NONE
} MigsafeSeverity;

/* One FILE argument: its script, and what the server said about it */
typedef struct MigsafeInput
{
	const char *name;			/* as shown in the output */
	char	   *script;			/* the whole file, NUL-terminated */
	size_t		len;			/* its length in bytes */
	PGresult   *result;			/* rows of migsafe.check() or rehearse() */
	int			first_row;		/* this file's rows of result */
	int			nrows;
	bool		owns_result;	/* result is to be freed with this file */
} MigsafeInput;

/* How to print */
typedef struct MigsafeOutput
{
	MigsafeFormat format;
	MigsafeSeverity fail_on;
	bool color;					/* ANSI colours in the text format */
	int			columns;		/* terminal width to wrap at, 0 for none */
	int			encoding;		/* client encoding, for the table printer */
} MigsafeOutput;

/*
 * Columns of the driver's query on migsafe.check(), which selects them by
 * name (so that a column added later changes nothing) after the number of
 * the file in its batch.
 */
#define MIGSAFE_COL_STATEMENT_NO	1
#define MIGSAFE_COL_LINE			2
#define MIGSAFE_COL_STATEMENT		3
#define MIGSAFE_COL_CLASS			4
#define MIGSAFE_COL_RULE			5
#define MIGSAFE_COL_MESSAGE			6
#define MIGSAFE_COL_FACTS			7

extern bool migsafe_output_fails(const char *class, MigsafeSeverity fail_on);
extern void migsafe_output_findings(FILE *out, MigsafeInput *inputs,
									int ninputs, const MigsafeOutput *opt);
extern void migsafe_output_rehearsal(FILE *out, MigsafeInput *inputs,
									 int ninputs, const MigsafeOutput *opt);
extern void migsafe_output_report(FILE *out, const PGresult *res,
								  const MigsafeOutput *opt);

#endif							/* MIGSAFE_CHECK_H */
