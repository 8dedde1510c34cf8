/*-------------------------------------------------------------------------
 *
 * internal.h
 *	  migsafe's own statements: the superuser section, SPI and
 *	  subtransaction helpers, writing the audit log.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/internal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_INTERNAL_H
#define MIGSAFE_INTERNAL_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/elog.h"

/*
 * State saved while migsafe runs its own statements (snapshots, restore,
 * purge): they bypass the guard and run as the bootstrap superuser with
 * search_path = pg_catalog, pg_temp.
 */
typedef struct MigsafeInternal
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	bool		save_creating_extension;	/* storage is no extension's */
	Oid			save_extension;
} MigsafeInternal;

/* State saved while migsafe writes its audit log */
typedef struct MigsafeLogWriter
{
	Oid			save_userid;
	int			save_sec_context;
	bool		save_writing;
} MigsafeLogWriter;

/* A function run in a subtransaction by migsafe_internal_subxact() */
/*
 * The columns of migsafe.audit_log that migsafe writes, besides id (taken
 * from its sequence); the others get their defaults.
 */
typedef enum MigsafeLogColumn
{
	MIGSAFE_LOG_TS,
	MIGSAFE_LOG_XID,
	MIGSAFE_LOG_VXID,
	MIGSAFE_LOG_DATABASE,
	MIGSAFE_LOG_SESSION_ROLE,
	MIGSAFE_LOG_EFFECTIVE_ROLE,
	MIGSAFE_LOG_CLIENT_ADDR,
	MIGSAFE_LOG_APPLICATION_NAME,
	MIGSAFE_LOG_BACKEND_PID,
	MIGSAFE_LOG_COMMAND_TAG,
	MIGSAFE_LOG_OBJECT_TYPE,
	MIGSAFE_LOG_OBJECT_IDENTITY,
	MIGSAFE_LOG_STATEMENT,
	MIGSAFE_LOG_NESTED,
	MIGSAFE_LOG_SCOPE,
	MIGSAFE_LOG_RISK,
	MIGSAFE_LOG_DECISION,
	MIGSAFE_LOG_DETAIL,
	MIGSAFE_LOG_APPROVAL,
	MIGSAFE_LOG_APPROVED_BY,
	MIGSAFE_LOG_REASON,
	MIGSAFE_LOG_WAL_LSN,
	MIGSAFE_LOG_SNAPSHOT_ID,
	MIGSAFE_LOG_NCOLS
} MigsafeLogColumn;

/* One audit row, as the values of its columns (of the columns' types) */
typedef struct MigsafeLogRow
{
	Datum		values[MIGSAFE_LOG_NCOLS];
	bool		nulls[MIGSAFE_LOG_NCOLS];
} MigsafeLogRow;

typedef void (*MigsafeSubxactFn) (void *arg);

extern bool migsafe_internal_active(void);
extern void migsafe_internal_begin(MigsafeInternal *state);
extern void migsafe_internal_end(MigsafeInternal *state);
extern void migsafe_internal_abort(MigsafeInternal *state);
extern void migsafe_internal_as_user(Oid userid);
extern int	migsafe_internal_suspend(void);
extern void migsafe_internal_resume(int depth);
extern Oid	migsafe_internal_caller(void);
extern const char *migsafe_internal_caller_path(void);
extern int	migsafe_internal_exec(const char *sql, int nargs, Oid *argtypes,
								  Datum *values, const char *nulls,
								  long tcount);
extern void migsafe_internal_run(const char *sql);
extern char *migsafe_internal_value(const char *sql, int nargs,
									Oid *argtypes, Datum *values);
extern List *migsafe_internal_rows(const char *sql, int nargs, Oid *argtypes,
								   Datum *values, int ncols);
extern ErrorData *migsafe_internal_subxact(MigsafeSubxactFn fn, void *arg,
										   bool keep);
extern void migsafe_internal_log_begin(MigsafeLogWriter *state);
extern void migsafe_internal_log_end(MigsafeLogWriter *state);
extern bool migsafe_internal_writing_log(void);
extern int64 migsafe_internal_take_ids(Oid seqid, int64 n);
extern void migsafe_internal_insert_log(const char *rows, bool link);
extern void migsafe_internal_write_log(MigsafeLogRow *rows, int n, bool link);
extern bool migsafe_internal_insert_row(Oid relid, int ncols,
										const char *const *names,
										const Oid *types, const Datum *values,
										const bool *nulls);
extern int64 migsafe_internal_repeat_log(const char *row, int window_ms);
extern void migsafe_internal_rehearsal(bool on);
extern bool migsafe_internal_rehearsing(void);
extern void migsafe_internal_at_eoxact(void);

#endif							/* MIGSAFE_INTERNAL_H */
