/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every PostgreSQL-version conditional of migsafe lives here.
 *
 * migsafe targets PostgreSQL 15.  Older servers are refused at build time;
 * newer APIs go behind PG_VERSION_NUM here and nowhere else.
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
 * PostgreSQL 16 replaced pg_class_ownercheck() and friends with
 * object_ownercheck().
 */
#if PG_VERSION_NUM >= 160000
#define migsafe_rel_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#else
#define migsafe_rel_ownercheck(relid, roleid) \
	pg_class_ownercheck((relid), (roleid))
#endif

#endif							/* MIGSAFE_COMPAT_H */
