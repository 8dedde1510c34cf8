/*-------------------------------------------------------------------------
 *
 * guard.h
 *	  The gate: approvals, targets, decisions and the blocking error.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/guard.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_GUARD_H
#define MIGSAFE_GUARD_H

#include "access/xact.h"
#include "access/xlogdefs.h"
#include "catalog/objectaccess.h"
#include "catalog/objectaddress.h"
#include "nodes/params.h"
#include "nodes/plannodes.h"
#include "tcop/utility.h"
#include "utils/guc.h"

#include "classify.h"

/* What the gate decided for one target */
typedef enum MigsafeDecision
{
	MIGSAFE_DECISION_NONE,		/* not decided yet (collected in a dry run) */
	MIGSAFE_DECISION_NO_DATA,	/* holds no data of its own */
	MIGSAFE_DECISION_OFF,		/* migsafe.mode = off */
	MIGSAFE_DECISION_NEW,		/* created in this transaction */
	MIGSAFE_DECISION_EMPTY,		/* verifiably empty, under lock */
	MIGSAFE_DECISION_APPROVED,	/* an approval names it */
	MIGSAFE_DECISION_EXEMPT,	/* migsafe.exempt or migsafe.exempt_roles */
	MIGSAFE_DECISION_WARNED,	/* migsafe.mode = warn */
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
	bool		rows_exact;
	double		rows;
	double		values;			/* non-null values (columns) */
	int64		bytes;
	MigsafeDecision decision;
	char	   *matched;		/* the approval or exemption that matched */
	int64		snapshot_id;	/* the snapshot kept of it, or 0 */
	char	   *snapshot_note;	/* for the audit row: kept where, or why not */
} MigsafeTarget;

/*
 * One utility statement being guarded.  Frames nest (a DO block runs a
 * DROP): the object-access hook looks for decided targets in every frame.
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
	List	   *targets;		/* of MigsafeTarget */
	bool		collecting;		/* inside this command's dry run */
	bool		muted;			/* a statement run inside a dry run */
	Oid			audit_dbid;		/* database whose log gets blocked rows */
	List	   *dropped;		/* every object the dry run dropped */
	PlannedStmt *replacement;	/* statement to run instead (moved tables) */
} MigsafeCommand;

extern MigsafeCommand *migsafe_guard_begin(PlannedStmt *pstmt,
										   const char *queryString,
										   ProcessUtilityContext context,
										   ParamListInfo params,
										   QueryEnvironment *queryEnv);
extern void migsafe_guard_record(MigsafeCommand *cmd);
extern void migsafe_guard_end(MigsafeCommand *cmd);
extern void migsafe_guard_after(PlannedStmt *pstmt);
extern void migsafe_guard_object_access(ObjectAccessType access, Oid classId,
										Oid objectId, int subId, void *arg);
extern bool migsafe_guard_truncate_approved(Oid relid);
extern void migsafe_guard_relabel(const ObjectAddress *object,
								  const char *seclabel);
extern void migsafe_guard_xact_callback(XactEvent event, void *arg);
extern bool migsafe_guard_check_approve(char **newval, void **extra,
										GucSource source);
extern bool migsafe_guard_check_exempt(char **newval, void **extra,
									   GucSource source);
extern bool migsafe_guard_check_roles(char **newval, void **extra,
									  GucSource source);
extern const char *migsafe_guard_decision_name(MigsafeDecision decision);
extern void migsafe_guard_measure(MigsafeTarget *t, bool full);
extern char *migsafe_guard_setting_match(const char *value, MigsafeTarget *t);
extern Oid	migsafe_guard_catalog_oid(Oid catalog, Oid index, AttrNumber attnum,
									  Oid objid);

#endif							/* MIGSAFE_GUARD_H */
