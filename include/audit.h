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

#include "access/xlogdefs.h"
#include "nodes/pg_list.h"

#include "migsafe.h"

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

/*
 * Set by the hooks when the transaction runs an INSERT, UPDATE, DELETE,
 * MERGE, COPY FROM, CREATE TABLE AS or SELECT INTO: only then can it have
 * written a migration tool's bookkeeping (see migsafe_audit_pre_commit()).
 */
extern PGDLLIMPORT bool migsafe_audit_xact_wrote;

extern List *migsafe_audit_rows(MigsafeCommand *cmd, List *targets,
								const char *decision);
extern char *migsafe_audit_json(MigsafeAuditRow *row, bool for_queue);
extern void migsafe_audit_write(List *rows);
extern void migsafe_audit_log_dropped(List *rows);
extern void migsafe_audit_queue(Oid dbid, List *rows);
extern void migsafe_audit_event(const char *tag, int64 snapshot_id,
								const char *object_type, const char *identity,
								const char *detail);
extern void migsafe_audit_load(const char *table);
extern void migsafe_audit_pre_commit(void);
extern void migsafe_audit_at_eoxact(void);

#endif							/* MIGSAFE_AUDIT_H */
