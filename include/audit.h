/*-------------------------------------------------------------------------
 *
 * audit.h
 *	  Rows of migsafe.audit_log: building, writing, protecting.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/audit.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_AUDIT_H
#define MIGSAFE_AUDIT_H

#include "access/xact.h"
#include "access/xlogdefs.h"
#include "nodes/pg_list.h"

/* One audit row before it is serialized */
typedef struct MigsafeAuditRow
{
	const char *command_tag;
	const char *object_type;
	const char *object_identity;
	const char *statement;
	bool		nested;
	bool		object_scope;	/* a row for an object, not the command */
	bool		destructive;
	const char *decision;
	const char *detail;
	const char *approved_by;
	XLogRecPtr	wal_lsn;
	int64		snapshot_id;	/* 0: none */
} MigsafeAuditRow;

extern char *migsafe_audit_json(MigsafeAuditRow *row, bool for_queue);
extern void migsafe_audit_write(List *rows);
extern void migsafe_audit_queue(Oid dbid, List *rows);
extern void migsafe_audit_insert_json(const char *rows, bool link);
extern bool migsafe_audit_writing(void);
extern void migsafe_audit_xact_callback(XactEvent event, void *arg);

#endif							/* MIGSAFE_AUDIT_H */
