/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every PostgreSQL-version conditional of migsafe lives here.
 *
 * migsafe targets PostgreSQL 15 and later.  Older servers are refused at
 * build time; every call whose name or shape changed in a later major
 * version goes through a macro here, and nowhere else does the code test
 * PG_VERSION_NUM, so that a port to a new major version is a change to
 * this file alone.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_COMPAT_H
#define MIGSAFE_COMPAT_H

#if PG_VERSION_NUM < 150000
#error "migsafe requires PostgreSQL 15 or later"
#endif

/*
 * PostgreSQL 16 replaced pg_class_ownercheck(), pg_database_ownercheck(),
 * pg_database_aclcheck() and pg_namespace_aclcheck() with
 * object_ownercheck() and object_aclcheck().
 */
#if PG_VERSION_NUM >= 160000
#define migsafe_rel_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#define migsafe_database_ownercheck(dbid, roleid) \
	object_ownercheck(DatabaseRelationId, (dbid), (roleid))
#define migsafe_database_aclcheck(dbid, roleid, mode) \
	object_aclcheck(DatabaseRelationId, (dbid), (roleid), (mode))
#define migsafe_namespace_aclcheck(nspid, roleid, mode) \
	object_aclcheck(NamespaceRelationId, (nspid), (roleid), (mode))
#else
#define migsafe_rel_ownercheck(relid, roleid) \
	pg_class_ownercheck((relid), (roleid))
#define migsafe_database_ownercheck(dbid, roleid) \
	pg_database_ownercheck((dbid), (roleid))
#define migsafe_database_aclcheck(dbid, roleid, mode) \
	pg_database_aclcheck((dbid), (roleid), (mode))
#define migsafe_namespace_aclcheck(nspid, roleid, mode) \
	pg_namespace_aclcheck((nspid), (roleid), (mode))
#endif

/*
 * PostgreSQL 17 moved a backend's local transaction id and its number
 * into PGPROC.vxid (and renamed backend ids to proc numbers).
 */
#if PG_VERSION_NUM >= 170000
#define migsafe_my_lxid()		(MyProc->vxid.lxid)
#define migsafe_my_backend_id()	(MyProc->vxid.procNumber)
#else
#define migsafe_my_lxid()		(MyProc->lxid)
#define migsafe_my_backend_id()	(MyProc->backendId)
#endif

/*
 * A GUC check hook's "extra" is malloc'd and freed by the GUC machinery
 * with free(); PostgreSQL 16 exports guc_malloc() for it, which reports
 * running out of memory.  NULL when out of memory.
 */
#if PG_VERSION_NUM >= 160000
#define migsafe_guc_malloc(size)	guc_malloc(LOG, (size))
#else
#define migsafe_guc_malloc(size)	malloc(size)
#endif

#endif							/* MIGSAFE_COMPAT_H */
