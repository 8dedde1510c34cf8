/*-------------------------------------------------------------------------
 *
 * migsafe.h
 *	  Shared types, settings and error codes of migsafe.
 *
 * The settings are defined in migsafe.c and read everywhere else through
 * the externs below.  The SQLSTATEs are defined here once and listed in
 * docs/errors.md.  The types are the ones every layer of the gate hands down:
 * a guarded statement (MigsafeCommand) and each object whose data it
 * destroys (MigsafeTarget).  Only types live here, no functions, so that
 * any module may include it without depending on another.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/migsafe.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_H
#define MIGSAFE_H

#include "access/xlogdefs.h"
#include "catalog/objectaddress.h"
#include "nodes/pg_list.h"
#include "nodes/plannodes.h"
#include "utils/elog.h"
#include "utils/palloc.h"

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
extern int	migsafe_ddl_lock_timeout;
extern bool migsafe_guard_dml;
extern int	migsafe_lock_risk;
extern int	migsafe_lock_risk_after;
extern char *migsafe_approve;
extern char *migsafe_check_exclude;
extern int	migsafe_audit_queue_size;
extern int	migsafe_audit_repeat_window;
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

/* Values of migsafe.lock_risk */
typedef enum MigsafeLockRisk
{
	MIGSAFE_LOCK_RISK_OFF,
	MIGSAFE_LOCK_RISK_WARN,
	MIGSAFE_LOCK_RISK_BLOCK
} MigsafeLockRisk;

/* Name of the label provider that marks databases guarded by migsafe */
#define MIGSAFE_LABEL_PROVIDER	"migsafe"
#define MIGSAFE_LABEL_GUARDED	"guarded"

/* The schema of the extension's objects (migsafe.control: schema) */
#define MIGSAFE_SCHEMA			"migsafe"

/* How an object loses its data */
typedef enum MigsafeOp
{
	MIGSAFE_OP_DROP,			/* relation, column or database removed */
	MIGSAFE_OP_TRUNCATE,		/* every row removed */
	MIGSAFE_OP_RETYPE,			/* column values converted to a new type */
	MIGSAFE_OP_BLANK,			/* attribute of a composite value removed */
	MIGSAFE_OP_ALTER,			/* one of migsafe's own objects changed */
	MIGSAFE_OP_UNLOG,			/* SET UNLOGGED: rows lost at the next crash */
	MIGSAFE_OP_RESTART,			/* a sequence's value reset */
	MIGSAFE_OP_DELETE,			/* every row deleted (migsafe.guard_dml) */
	MIGSAFE_OP_UPDATE			/* every row updated (migsafe.guard_dml) */
} MigsafeOp;

/* What the gate decided for one target */
typedef enum MigsafeDecision
{
	MIGSAFE_DECISION_NONE,		/* not decided yet (collected in a dry run) */
	MIGSAFE_DECISION_NO_DATA,	/* holds no data of its own */
	MIGSAFE_DECISION_SCRATCH,	/* a maintenance tool's scratch object */
	MIGSAFE_DECISION_OFF,		/* migsafe.mode = off */
	MIGSAFE_DECISION_NEW,		/* created in this transaction */
	MIGSAFE_DECISION_EMPTY,		/* verifiably empty, under lock */
	MIGSAFE_DECISION_APPROVED,	/* an approval names it */
	MIGSAFE_DECISION_EXEMPT,	/* migsafe.exempt or migsafe.exempt_roles */
	MIGSAFE_DECISION_WARNED,	/* migsafe.mode = warn */
	MIGSAFE_DECISION_REHEARSED, /* let run in a rehearsal, rolled back */
	MIGSAFE_DECISION_BLOCKED	/* refused */
} MigsafeDecision;

/*
 * One object whose data a command destroys: a table, sequence or
 * materialized view (subid 0), a column (subid = attnum), a database or the
 * migsafe extension itself.  Names are taken when the target is collected,
 * while the object still exists.
 */
typedef struct MigsafeTarget
{
	MigsafeOp	op;
	Oid			classid;
	Oid			objid;
	int32		subid;
	char		relkind;
	char	   *nspname;		/* current names */
	char	   *relname;
	char	   *attname;
	char	   *ident;			/* identity for approvals, already quoted */
	char	   *orig_name;		/* the same, unquoted, for messages */
	bool		renamed;		/* identity differs from the current name */
	bool		follows;		/* owned sequence: decided with its owner */
	bool		protected;		/* one of migsafe's own objects */
	bool		no_scan;		/* not to be measured (no privilege) */
	char	   *obj_type;		/* protected objects: type and identity */
	char	   *obj_identity;
	char	   *obj_desc;		/* and description, for messages */
	bool		rows_exact;
	double		rows;
	double		values;			/* non-null values (columns) */
	int64		bytes;			/* -1: not measured */
	MigsafeDecision decision;
	char	   *matched;		/* the approval or exemption that matched */
	int64		snapshot_id;	/* the snapshot kept of it, or 0 */
	const char *tool;			/* SCRATCH: the maintenance tool's name */
	Oid			copy_of;		/* SCRATCH: the table it is the tool's copy of */
	char	   *snapshot_note;	/* for the audit row: kept where, or why not */
	bool		storage_kept;	/* dropped table whose storage its snapshot
								 * took: the statement must drop it */
	bool		kept_types;		/* storage kept with columns of a user's type
								 * or collation (keptypes.c) */
	List	   *relabel;		/* attnums of those to relabel once kept */
	List	   *to_oid;			/* and of those of an enum it drops */
	char	   *kept_enums;		/* those enums' labels (JSON), once kept */
} MigsafeTarget;

/*
 * One utility statement being guarded.  Frames nest (a DO block runs a
 * DROP): the object-access hook looks for decided targets in the innermost
 * frame, snapshots for those kept by enclosing ones.
 */
typedef struct MigsafeCommand
{
	struct MigsafeCommand *outer;
	MemoryContext cxt;
	Node	   *parsetree;
	const char *tag;			/* command tag, "DROP TABLE" */
	char	   *stmt_text;		/* the statement, cut out of its string */
	bool		nested;			/* run by a function, DO block, script... */
	bool		destructive;	/* a statement that can destroy data */
	XLogRecPtr	wal_lsn;		/* WAL insert position before it ran */
	ObjectAddress object;		/* first object it created or altered */
	List	   *touched;		/* relations, types, functions it created or
								 * altered (ObjectAddress) */
	List	   *targets;		/* of MigsafeTarget */
	bool		collecting;		/* inside this command's dry run */
	bool		muted;			/* a statement run inside a dry run */
	Oid			audit_dbid;		/* database whose log gets blocked rows */
	List	   *dropped;		/* every object the dry run dropped */
	uint64		collected_at;	/* SharedInvalidMessageCounter before dropped
								 * was read from pg_depend (plaindrop.c), or 0 */
	List	   *lock_facts;		/* who was in the way of its locks (locks.c) */
	int			lock_nestlevel; /* GUC level of its lock_timeout, or 0 */
	int			lock_timeout;	/* migsafe.ddl_lock_timeout it got (ms), or 0 */
	bool		lock_refused;	/* refused by migsafe.lock_risk */
} MigsafeCommand;

#endif							/* MIGSAFE_H */
