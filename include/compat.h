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
 * pg_namespace_ownercheck(), pg_type_ownercheck(), pg_database_aclcheck()
 * and pg_namespace_aclcheck() with
 * object_ownercheck() and object_aclcheck(), which take the catalog's OID.
 */
#if PG_VERSION_NUM >= 160000
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "utils/acl.h"
#define migsafe_rel_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#define migsafe_database_ownercheck(dbid, roleid) \
	object_ownercheck(DatabaseRelationId, (dbid), (roleid))
#define migsafe_database_aclcheck(dbid, roleid, mode) \
	object_aclcheck(DatabaseRelationId, (dbid), (roleid), (mode))
#define migsafe_namespace_aclcheck(nspid, roleid, mode) \
	object_aclcheck(NamespaceRelationId, (nspid), (roleid), (mode))
#define migsafe_namespace_ownercheck(nspid, roleid) \
	object_ownercheck(NamespaceRelationId, (nspid), (roleid))
#define migsafe_type_ownercheck(typid, roleid) \
	object_ownercheck(TypeRelationId, (typid), (roleid))
#else
#define migsafe_rel_ownercheck(relid, roleid) \
	pg_class_ownercheck((relid), (roleid))
#define migsafe_database_ownercheck(dbid, roleid) \
	pg_database_ownercheck((dbid), (roleid))
#define migsafe_database_aclcheck(dbid, roleid, mode) \
	pg_database_aclcheck((dbid), (roleid), (mode))
#define migsafe_namespace_aclcheck(nspid, roleid, mode) \
	pg_namespace_aclcheck((nspid), (roleid), (mode))
#define migsafe_namespace_ownercheck(nspid, roleid) \
	pg_namespace_ownercheck((nspid), (roleid))
#define migsafe_type_ownercheck(typid, roleid) \
	pg_type_ownercheck((typid), (roleid))
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
 * Closing a relation's smgr link before its relfilenode changes under it
 * (swap.c, as cluster.c's swap_relation_files() did): needed up to 16;
 * 17 gave relcache entries smgr links that survive the rebuild and
 * removed RelationCloseSmgrByOid().
 */
#if PG_VERSION_NUM >= 170000
#define migsafe_close_smgr(relid)	((void) (relid))
#else
#define migsafe_close_smgr(relid)	RelationCloseSmgrByOid(relid)
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

/*
 * PostgreSQL 16 gave stringToQualifiedNameList() a soft-error context;
 * NULL keeps raising errors as before.
 */
#if PG_VERSION_NUM >= 160000
#define migsafe_string_to_qualified_name_list(string) \
	stringToQualifiedNameList((string), NULL)
#else
#define migsafe_string_to_qualified_name_list(string) \
	stringToQualifiedNameList(string)
#endif

/*
 * PostgreSQL 17 added WHEN NOT MATCHED BY SOURCE to MERGE and replaced
 * MergeAction.matched with matchKind.  An action "matches" (reaches rows
 * of the target that the source joins) only with MERGE_WHEN_MATCHED.
 *
 * XXX: a WHEN NOT MATCHED BY SOURCE action is not counted.  Without
 * condition it deletes or updates the target's rows that no source row
 * joins: every row when none does (an empty source, ON false), which the
 * plan does not tell, so migsafe.guard_dml judges it to reach some rows.
 */
#if PG_VERSION_NUM >= 170000
#define migsafe_merge_action_matched(action) \
	((action)->matchKind == MERGE_WHEN_MATCHED)
#else
#define migsafe_merge_action_matched(action)	((action)->matched)
#endif

/*
 * PostgreSQL 17's getIdentitySequence() takes the open relation (a
 * partition's identity column uses its parent's sequence).  The caller
 * holds a lock on the relation.
 */
#if PG_VERSION_NUM >= 170000
#include "access/relation.h"
#include "catalog/dependency.h"

static inline Oid
migsafe_identity_sequence(Oid relid, AttrNumber attnum, bool missing_ok)
{
	Relation	rel = relation_open(relid, NoLock);
	Oid			seqid = getIdentitySequence(rel, attnum, missing_ok);

	relation_close(rel, NoLock);
	return seqid;
}
#else
#define migsafe_identity_sequence(relid, attnum, missing_ok) \
	getIdentitySequence((relid), (attnum), (missing_ok))
#endif

/*
 * Enable or disable one trigger of one relation, without recursing to
 * partitions: PostgreSQL 16 gave EnableDisableTrigger() the arguments that
 * 15's minor releases added as EnableDisableTriggerNew2().
 */
#if PG_VERSION_NUM >= 160000
#define migsafe_set_trigger_state(rel, name, state, lockmode) \
	EnableDisableTrigger((rel), (name), InvalidOid, (state), false, false, (lockmode))
#else
#define migsafe_set_trigger_state(rel, name, state, lockmode) \
	EnableDisableTriggerNew2((rel), (name), InvalidOid, (state), false, false, (lockmode))
#endif

/*
 * Index entries of a new row (PG 16 added onlySummarizing).
 */
#if PG_VERSION_NUM >= 160000
#define migsafe_insert_index_tuples(rri, slot, estate) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL, \
						  false)
#else
#define migsafe_insert_index_tuples(rri, slot, estate) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL)
#endif

/*
 * An index's end of inserts, as ExecCloseIndices() gives it before closing
 * (PG 17 added the access method's aminsertcleanup: BRIN's lets go of its
 * buffers).
 */
#if PG_VERSION_NUM >= 170000
#define migsafe_index_insert_cleanup(index, ii) \
	index_insert_cleanup((index), (ii))
#else
#define migsafe_index_insert_cleanup(index, ii) ((void) 0)
#endif

/*
 * Counting the rows of a small heap, and a column's values: PostgreSQL 15
 * and 16 export heapgetpage(), which leaves the tuples of a page visible to
 * the scan's snapshot in rs_vistuples (rs_ntuples of them), as the scan
 * would return them one by one (on an all-visible page without testing
 * each).  For a column (attnum > 0), each visible tuple's header is read
 * on the pinned page, as heap_getattr() would tell (a column added since
 * with a default has it for older tuples too); with stop, the count stops
 * at the first non-null value.  17 reads pages through a read stream
 * instead; there, and for another table access method, the caller counts
 * row by row (false).
 */
#if PG_VERSION_NUM < 170000
#include "access/heapam.h"
#include "catalog/pg_am.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"

static inline bool
migsafe_heap_count(Relation rel, TableScanDesc scan, AttrNumber attnum,
				   bool stop, double *rows, double *values)
{
	HeapScanDesc hscan = (HeapScanDesc) scan;
	TupleDesc	desc = RelationGetDescr(rel);
	BlockNumber blkno;

	if (rel->rd_rel->relam != HEAP_TABLE_AM_OID ||
		(scan->rs_flags & SO_ALLOW_PAGEMODE) == 0)
		return false;
	for (blkno = 0; blkno < hscan->rs_nblocks; blkno++)
	{
		Page		page;
		int			i;

		CHECK_FOR_INTERRUPTS();
		heapgetpage(scan, blkno);
		if (attnum <= 0)
		{
			*rows += hscan->rs_ntuples;
			continue;
		}
		page = BufferGetPage(hscan->rs_cbuf);
		for (i = 0; i < hscan->rs_ntuples; i++)
		{
			ItemId		lpp = PageGetItemId(page, hscan->rs_vistuples[i]);
			HeapTupleData tuple;

			tuple.t_data = (HeapTupleHeader) PageGetItem(page, lpp);
			tuple.t_len = ItemIdGetLength(lpp);
			(*rows)++;
			if (!heap_attisnull(&tuple, attnum, desc))
			{
				(*values)++;
				if (stop)
					return true;
			}
		}
	}
	return true;
}
#else
#define migsafe_heap_count(rel, scan, attnum, stop, rows, values)	false
#endif

#endif							/* MIGSAFE_COMPAT_H */
