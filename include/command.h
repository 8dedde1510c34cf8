/*-------------------------------------------------------------------------
 *
 * command.h
 *	  Guarded statements (frames) and the targets they destroy.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/command.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_COMMAND_H
#define MIGSAFE_COMMAND_H

#include "lib/stringinfo.h"
#include "tcop/utility.h"

#include "migsafe.h"

extern MigsafeCommand *migsafe_command_push(PlannedStmt *pstmt,
											const char *queryString,
											ProcessUtilityContext context);
extern MigsafeCommand *migsafe_command_push_muted(void);
extern char *migsafe_command_statement_text(PlannedStmt *pstmt,
											const char *queryString);
extern void migsafe_command_pop(MigsafeCommand *cmd);
extern MigsafeCommand *migsafe_command_current(void);
extern void migsafe_command_standalone(MigsafeCommand *cmd, const char *tag,
									   const char *stmt_text, Oid audit_dbid);
extern void migsafe_command_at_eoxact(void);

extern MigsafeTarget *migsafe_command_find(MigsafeCommand *cmd, Oid classid,
										   Oid objid, int32 subid);
extern MigsafeTarget *migsafe_command_add_relation(MigsafeCommand *cmd,
												   MigsafeOp op, Oid relid,
												   int32 subid);
extern MigsafeTarget *migsafe_command_add_object(MigsafeCommand *cmd,
												 MigsafeOp op, Oid classid,
												 Oid objid, int32 subid,
												 bool protected);
extern MigsafeTarget *migsafe_command_add_database(MigsafeCommand *cmd,
												   MigsafeOp op, Oid dboid,
												   const char *dbname);
extern bool migsafe_command_refresh_names(MigsafeTarget *t);
extern void migsafe_command_note_dropped(MigsafeCommand *cmd, Oid classid,
										 Oid objid, int32 subid);
extern MigsafeTarget *migsafe_command_decided(MigsafeOp op, Oid classid,
											  Oid objid, int32 subid);
extern bool migsafe_command_truncate_approved(Oid relid);

extern char *migsafe_command_display_name(MigsafeTarget *t);
extern const char *migsafe_command_noun(MigsafeTarget *t);
extern char *migsafe_command_description(MigsafeTarget *t);
extern char *migsafe_command_identity(MigsafeTarget *t);
extern void migsafe_command_describe(StringInfo buf, MigsafeTarget *t);
extern void migsafe_command_describe_to_user(StringInfo buf, MigsafeTarget *t);
extern void migsafe_command_replication(StringInfo buf, MigsafeTarget *t);
extern const char *migsafe_command_decision_name(MigsafeDecision decision);
extern char *migsafe_command_others(MigsafeCommand *cmd);

#endif							/* MIGSAFE_COMMAND_H */
