/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  Catalog reads of migsafe: measuring, owners, migsafe's own objects.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/catalog.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_CATALOG_H
#define MIGSAFE_CATALOG_H

#include "access/transam.h"
#include "catalog/objectaddress.h"

#include "migsafe.h"

/*
 * Whether an object (a type, a collation) is built in: pinned by initdb,
 * so that nothing a role does can drop it.  Values of other types are kept
 * as text in snapshot copies.  The SQL of migsafe.snapshot_definition()
 * says the same with the same number (migsafe--1.0--1.1.sql).
 */
#define MIGSAFE_BUILTIN_OBJECT(oid)	((oid) < FirstUnpinnedObjectId)

extern void migsafe_catalog_measure(MigsafeTarget *t, bool full);
extern bool migsafe_catalog_created_here(Oid relid);
extern bool migsafe_catalog_sequence_owned_here(Oid seqid);
extern List *migsafe_catalog_typed_tables(Oid typoid);
extern bool migsafe_catalog_sequence_owner(Oid seqid, Oid *relid,
										   int32 *attnum);
extern Oid	migsafe_catalog_owning_relation(Oid classid, Oid objid);
extern Oid	migsafe_catalog_object_namespace(Oid classid, Oid objid);
extern List *migsafe_catalog_dependents(Oid refclassid, Oid refobjid,
										char deptype);
extern Oid	migsafe_catalog_any_namespace(const ObjectAddress *obj,
										  bool *exists);
extern bool migsafe_catalog_any_temp_schema(void);
extern bool migsafe_catalog_temp_dependency(Oid classid, Oid objid,
											ObjectAddress *ref);
extern bool migsafe_catalog_is_migsafe_object(Oid classid, Oid objid,
											  Oid *owner);
extern bool migsafe_catalog_is_migsafe_object_cached(Oid classid, Oid objid);
extern bool migsafe_catalog_is_migsafe_touched(Oid classid, Oid objid,
											   int32 subid, bool created);
extern Oid	migsafe_catalog_namespace(void);
extern Oid	migsafe_catalog_extension(void);
extern char *migsafe_catalog_version(void);
extern bool migsafe_catalog_address_member(List *list, Oid classid,
										   Oid objid);
extern bool migsafe_catalog_installed(void);
extern void migsafe_catalog_forget_installed(void);
extern bool migsafe_catalog_in_own_script(void);
extern bool migsafe_catalog_may_read(Oid relid, AttrNumber attnum);
extern char *migsafe_catalog_readers(Oid relid);
extern List *migsafe_catalog_reader_oids(Oid relid);
extern List *migsafe_catalog_foreign_keys(Oid relid);
extern List *migsafe_catalog_owner_code(Oid relid);
extern bool migsafe_catalog_self_contained(Oid relid);
extern char *migsafe_catalog_publications(Oid relid);
extern int	migsafe_catalog_wal_senders(void);

#endif							/* MIGSAFE_CATALOG_H */
