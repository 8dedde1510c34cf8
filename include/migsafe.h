/*-------------------------------------------------------------------------
 *
 * migsafe.h
 *	  Shared types, settings and error codes of migsafe.
 *
 * The settings are defined in migsafe.c and read everywhere else through
 * the externs below.  The SQLSTATEs are defined here once and listed in
 * README.md.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/migsafe.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_H
#define MIGSAFE_H

#include "utils/elog.h"

#include "compat.h"

/*
 * migsafe's own SQLSTATEs, class "MS" (implementation-defined; used neither
 * by the SQL standard nor by PostgreSQL).
 */
#define ERRCODE_MIGSAFE_NOT_APPROVED	MAKE_SQLSTATE('M','S','0','0','1')
#define ERRCODE_MIGSAFE_AUDIT_APPEND_ONLY	MAKE_SQLSTATE('M','S','0','0','2')
#define ERRCODE_MIGSAFE_SNAPSHOT_TOO_LARGE	MAKE_SQLSTATE('M','S','0','0','3')
#define ERRCODE_MIGSAFE_RESTORE_CONFLICT	MAKE_SQLSTATE('M','S','0','0','4')

/* Values of migsafe.mode */
typedef enum MigsafeMode
{
	MIGSAFE_MODE_OFF,
	MIGSAFE_MODE_WARN,
	MIGSAFE_MODE_ENFORCE
} MigsafeMode;

/* Settings (GUCs), defined in migsafe.c */
extern bool migsafe_allow_empty;
extern char *migsafe_approve;
extern int	migsafe_audit_queue_size;
extern char *migsafe_exempt;
extern char *migsafe_exempt_roles;
extern bool migsafe_log_audit;
extern int	migsafe_mode;
extern char *migsafe_reason;
extern char *migsafe_skip_snapshot;
extern bool migsafe_snapshot;
extern int	migsafe_snapshot_max_copy_size;
extern int	migsafe_snapshot_max_total_size;
extern int	migsafe_snapshot_retention;
extern bool migsafe_trace;

/* Name of the label provider that marks databases guarded by migsafe */
#define MIGSAFE_LABEL_PROVIDER	"migsafe"
#define MIGSAFE_LABEL_GUARDED	"guarded"

#endif							/* MIGSAFE_H */
