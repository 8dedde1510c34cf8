/*-------------------------------------------------------------------------
 *
 * storage.h
 *	  Where snapshots keep their data, and retiring it.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/storage.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_STORAGE_H
#define MIGSAFE_STORAGE_H

#include "postgres.h"

#include "nodes/pg_list.h"

/* Prefix of the schemas holding snapshot data: migsafe_snapshot_<id> */
#define MIGSAFE_SNAPSHOT_SCHEMA_PREFIX	"migsafe_snapshot_"

/*
 * The name of the table holding a snapshot's rows in its schema.  Snapshot
 * relations have names of their own (see migsafe_storage_name_relations),
 * so that a catalog query by name never finds a copy of a user's relation.
 */
#define MIGSAFE_SNAPSHOT_TABLE	"kept"

extern char *migsafe_storage_schema(int64 id);
extern char *migsafe_storage_table(int64 id);
extern void migsafe_storage_name_relations(int64 id, Oid relid);
extern void migsafe_storage_names_back(int64 id, Oid relid,
									   const char *relname);
extern void migsafe_storage_lock_down(const char *nspname,
									  const char *readers);
extern bool migsafe_storage_drop(int64 id);
extern bool migsafe_storage_retire(int64 id, const char *status,
								   const char *tag, const char *why);
extern Datum migsafe_storage_retention(void);
extern List *migsafe_storage_expired(Datum older_than, bool spare_current);
extern int64 migsafe_storage_kept(int max, char **ids);
extern void migsafe_storage_apply_limits(void);
extern void migsafe_storage_forget_role(Oid roleid);

#endif							/* MIGSAFE_STORAGE_H */
