/*-------------------------------------------------------------------------
 *
 * approval.h
 *	  Approvals and exemptions: parsed once, matched against the names
 *	  objects had when the transaction began.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/approval.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_APPROVAL_H
#define MIGSAFE_APPROVAL_H

#include "utils/guc.h"

#include "migsafe.h"

/* The settings written in approval syntax */
typedef enum MigsafeApprovalSetting
{
	MIGSAFE_SETTING_APPROVE,	/* migsafe.approve */
	MIGSAFE_SETTING_EXEMPT,		/* migsafe.exempt */
	MIGSAFE_SETTING_SKIP_SNAPSHOT	/* migsafe.skip_snapshot */
} MigsafeApprovalSetting;

/* GUC hooks, installed by migsafe.c */
extern bool migsafe_approval_check_approve(char **newval, void **extra,
										   GucSource source);
extern bool migsafe_approval_check_exempt(char **newval, void **extra,
										  GucSource source);
extern bool migsafe_approval_check_roles(char **newval, void **extra,
										 GucSource source);
extern void migsafe_approval_assign_approve(const char *newval, void *extra);
extern void migsafe_approval_assign_exempt(const char *newval, void *extra);
extern void migsafe_approval_assign_skip_snapshot(const char *newval,
												  void *extra);
extern void migsafe_approval_assign_roles(const char *newval, void *extra);

extern void migsafe_approval_track(Node *parsetree);
extern void migsafe_approval_rel_identity(Oid relid, char **nspname,
										  char **relname);
extern char *migsafe_approval_att_identity(Oid relid, AttrNumber attnum);
extern bool migsafe_approval_attached_here(Oid relid);
extern char *migsafe_approval_match(MigsafeApprovalSetting setting,
									MigsafeTarget *t);
extern char *migsafe_approval_match_value(const char *value,
										  MigsafeTarget *t);
extern char *migsafe_approval_value_names(const char *value,
										  const char *nspname,
										  const char *relname,
										  const char *attname);
extern char *migsafe_approval_names_exactly(const char *nspname,
											const char *relname);
extern bool migsafe_approval_exempts_name(const char *nspname,
										  const char *relname);
extern char *migsafe_approval_exempt_role(void);
extern void migsafe_approval_at_eoxact(void);

#endif							/* MIGSAFE_APPROVAL_H */
