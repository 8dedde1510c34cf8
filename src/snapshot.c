/*-------------------------------------------------------------------------
 *
 * snapshot.c
 *	  Keep the data an approved destructive change destroys, before it runs.
 *
 * migsafe_guard_begin() calls migsafe_snapshot_take() once the statement's
 * targets are locked and decided.  Each approved (or warned) target that
 * holds data gets a snapshot, in the statement's transaction, so that a
 * rollback or a crash leaves neither the change nor the snapshot:
 *
 *	- a table dropped by a DROP TABLE that takes nothing else with it is
 *	  moved, whole, into a schema of its own (migsafe_snapshot_<id>), and
 *	  the DROP goes on without it: the cost does not depend on its size;
 *	- any other dropped or truncated table is copied there (CREATE TABLE
 *	  AS, with the latest snapshot: the lock is held, so rows committed by
 *	  others a moment ago are copied too, also under REPEATABLE READ);
 *	- a dropped, retyped or blanked column is copied with the table's key;
 *	- a sequence keeps its state, a materialized view its definition, in
 *	  migsafe.snapshots.definition.
 *
 * Copies never depend on user types, collations or extensions (values of
 * such types are kept as text), so that a later cascade cannot take them
 * away.  Snapshot storage belongs to the bootstrap superuser; only roles
 * that could read the original may read it, never PUBLIC.
 *
 * migsafe's own statements (here, in restore.c and when purging) run with
 * migsafe_internal_depth > 0: the hooks in migsafe.c let them through.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/snapshot.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "migsafe.h"
#include "audit.h"
#include "guard.h"
#include "snapshot.h"

/* Depth of migsafe's own statements: the hooks let them through */
int			migsafe_internal_depth = 0;

/* The role that called into the outermost internal section, for audit rows */
static Oid	internal_caller = InvalidOid;

/* The caller's search_path there, for the owner's code restore runs */
static char *internal_caller_path = NULL;

/* ----------------------------------------------------------------
 * Running migsafe's own statements
 * ----------------------------------------------------------------
 */

/*
 * Settings of migsafe's own statements: names resolve in pg_catalog only,
 * and values kept as text are written and read back the same whatever the
 * caller's settings (as pg_dump pins them).
 */
static const char *const internal_settings[][2] = {
	{"search_path", "pg_catalog, pg_temp"},
	{"datestyle", "ISO, MDY"},
	{"intervalstyle", "postgres"},
	{"extra_float_digits", "3"},
	{"bytea_output", "hex"},
	{"lc_monetary", "C"},
	{"array_nulls", "on"},
	{"xmloption", "content"},
};

/*
 * migsafe_snapshot_internal_begin
 *
 * Start a section of migsafe's own statements: the guard lets them
 * through, they run as the bootstrap superuser, and names resolve in
 * pg_catalog only.  End it with migsafe_snapshot_internal_end(); on an
 * error, transaction (or subtransaction) abort restores the user and the
 * settings, and the transaction callback the depth.
 */
void
migsafe_snapshot_internal_begin(MigsafeInternal *state)
{
	int			i;

	GetUserIdAndSecContext(&state->save_userid, &state->save_sec_context);
	if (migsafe_internal_depth == 0)
	{
		if (internal_caller_path != NULL)
			pfree(internal_caller_path);
		internal_caller_path = MemoryContextStrdup(TopMemoryContext,
												   namespace_search_path ? namespace_search_path : "");
	}
	state->save_nestlevel = NewGUCNestLevel();
	for (i = 0; i < lengthof(internal_settings); i++)
		(void) set_config_option(internal_settings[i][0], internal_settings[i][1],
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	/* no "drop cascades to" notices about migsafe's own storage */
	if (client_min_messages < WARNING)
		(void) set_config_option("client_min_messages", "warning",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	if (migsafe_internal_depth == 0)
		internal_caller = state->save_userid;

	/*
	 * Inside an extension's script, objects created become the extension's
	 * members: snapshot storage must not (DROP EXTENSION would need it gone).
	 */
	state->save_creating_extension = creating_extension;
	state->save_extension = CurrentExtensionObject;
	creating_extension = false;
	CurrentExtensionObject = InvalidOid;
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID,
						   state->save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	migsafe_internal_depth++;
}

/*
 * After an error in a section started by migsafe_snapshot_internal_begin():
 * the (sub)transaction abort restores the user and the settings.
 */
void
migsafe_snapshot_internal_abort(MigsafeInternal *state)
{
	migsafe_internal_depth--;
	creating_extension = state->save_creating_extension;
	CurrentExtensionObject = state->save_extension;
}

/* End a section started by migsafe_snapshot_internal_begin() */
void
migsafe_snapshot_internal_end(MigsafeInternal *state)
{
	migsafe_internal_depth--;
	creating_extension = state->save_creating_extension;
	CurrentExtensionObject = state->save_extension;
	SetUserIdAndSecContext(state->save_userid, state->save_sec_context);
	AtEOXact_GUC(true, state->save_nestlevel);
}

/*
 * migsafe_snapshot_as_user
 *
 * Inside an internal section, act as another role (InvalidOid: the
 * bootstrap superuser again).  Statements that run user code (casts,
 * triggers, constraint checks of the restored table) run as the table's
 * owner, never as a superuser.
 */
void
migsafe_snapshot_as_user(Oid userid)
{
	Oid			current;
	int			sec_context;

	GetUserIdAndSecContext(&current, &sec_context);
	SetUserIdAndSecContext(OidIsValid(userid) ? userid : BOOTSTRAP_SUPERUSERID,
						   sec_context);
}

/*
 * migsafe_snapshot_exec
 *
 * Run one statement through SPI (connected by the caller) with the latest
 * snapshot, not the transaction's: under REPEATABLE READ the catalogs,
 * privileges and snapshot storage migsafe reads must be what is committed
 * now, as the locked rows it copies are.  Returns SPI's result code;
 * errors raise.
 */
int
migsafe_snapshot_exec(const char *sql, int nargs, Oid *argtypes,
					  Datum *values, const char *nulls, long tcount)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);
	Snapshot	snap;
	int			ret;

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed (%s): %s",
			 SPI_result_code_string(SPI_result), sql);
	snap = RegisterSnapshot(GetLatestSnapshot());
	ret = SPI_execute_snapshot(plan, values, nulls, snap, InvalidSnapshot,
							   false, true, tcount);
	UnregisterSnapshot(snap);
	SPI_freeplan(plan);
	if (ret < 0)
		elog(ERROR, "SPI_execute_snapshot failed (%s): %s",
			 SPI_result_code_string(ret), sql);
	return ret;
}

/* The search_path of the session that called into migsafe's section */
const char *
migsafe_snapshot_caller_path(void)
{
	return internal_caller_path ? internal_caller_path : "\"$user\", public";
}

/* Run one statement (see migsafe_snapshot_exec) */
void
migsafe_snapshot_run(const char *sql)
{
	(void) migsafe_snapshot_exec(sql, 0, NULL, NULL, NULL, 0);
}

/* The first column of the first row of a query as text, or NULL */
static char *
query_text(const char *sql, int nargs, Oid *argtypes, Datum *values)
{
	(void) migsafe_snapshot_exec(sql, nargs, argtypes, values, NULL, 1);
	if (SPI_processed == 0)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/* The schema that holds the data of snapshot id */
static char *
storage_schema(int64 id)
{
	return psprintf(MIGSAFE_SNAPSHOT_SCHEMA_PREFIX INT64_FORMAT, id);
}

/*
 * The roles that may read a snapshot of relid: its owner and the roles
 * granted SELECT on the table itself, never PUBLIC.  With row-level
 * security on, the grantees saw only some rows: only the owner may read
 * the snapshot (its copy has no policies).  A list for GRANT, or NULL.
 */
static char *
readers_of(Oid relid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};

	return query_text("SELECT pg_catalog.string_agg(pg_catalog.quote_ident(r.rolname), ', ' ORDER BY r.rolname)"
					  "  FROM pg_catalog.pg_roles r"
					  " WHERE r.oid OPERATOR(pg_catalog.<>) 10"
					  "   AND r.oid IN (SELECT c.relowner FROM pg_catalog.pg_class c"
					  "                  WHERE c.oid OPERATOR(pg_catalog.=) $1"
					  "                 UNION"
					  "                 SELECT x.grantee FROM pg_catalog.pg_class c,"
					  "                        pg_catalog.aclexplode(c.relacl) x"
					  "                  WHERE c.oid OPERATOR(pg_catalog.=) $1"
					  "                    AND NOT c.relrowsecurity"
					  "                    AND x.privilege_type OPERATOR(pg_catalog.=) 'SELECT')",
					  1, argtypes, values);
}

/*
 * migsafe_snapshot_lock_down
 *
 * Make snapshot storage readable by readers only: revoke every privilege
 * on the schema and on the tables and sequences in it (column privileges
 * and any default privileges included) from everyone but the owner, then
 * grant USAGE and SELECT to readers (a list for GRANT, or NULL).
 */
void
migsafe_snapshot_lock_down(const char *nspname, const char *readers)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(nspname)};
	char	   *grantees;
	const char *nsp = quote_identifier(nspname);

	grantees = query_text("SELECT pg_catalog.string_agg(DISTINCT g, ', ') FROM ("
						  " SELECT CASE WHEN x.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'"
						  "        ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END g"
						  "   FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) x"
						  "  WHERE c.relnamespace OPERATOR(pg_catalog.=) $1::pg_catalog.regnamespace"
						  "    AND x.grantee OPERATOR(pg_catalog.<>) c.relowner"
						  " UNION"
						  " SELECT CASE WHEN x.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'"
						  "        ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END"
						  "   FROM pg_catalog.pg_class c"
						  "   JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid,"
						  "        pg_catalog.aclexplode(a.attacl) x"
						  "  WHERE c.relnamespace OPERATOR(pg_catalog.=) $1::pg_catalog.regnamespace"
						  "    AND x.grantee OPERATOR(pg_catalog.<>) c.relowner"
						  " UNION"
						  " SELECT CASE WHEN x.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'"
						  "        ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END"
						  "   FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) x"
						  "  WHERE n.oid OPERATOR(pg_catalog.=) $1::pg_catalog.regnamespace"
						  "    AND x.grantee OPERATOR(pg_catalog.<>) n.nspowner) q",
						  1, argtypes, values);
	if (grantees != NULL)
	{
		migsafe_snapshot_run(psprintf("REVOKE ALL ON ALL TABLES IN SCHEMA %s FROM %s",
									  nsp, grantees));
		migsafe_snapshot_run(psprintf("REVOKE ALL ON ALL SEQUENCES IN SCHEMA %s FROM %s",
									  nsp, grantees));
		migsafe_snapshot_run(psprintf("REVOKE ALL ON SCHEMA %s FROM %s",
									  nsp, grantees));
	}
	if (readers != NULL)
	{
		migsafe_snapshot_run(psprintf("GRANT USAGE ON SCHEMA %s TO %s",
									  nsp, readers));
		migsafe_snapshot_run(psprintf("GRANT SELECT ON ALL TABLES IN SCHEMA %s TO %s",
									  nsp, readers));
	}
}

/*
 * migsafe_snapshot_drop_storage
 *
 * Drop the storage of snapshot id, if it has any left.  Objects of others
 * that depend on it (a view on the snapshot's table, a column of its row
 * type) are never dropped with it: the storage is then kept, with a
 * WARNING naming them, and false is returned.
 */
bool
migsafe_snapshot_drop_storage(int64 id)
{
	char	   *nsp = storage_schema(id);
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(nsp)};
	char	   *outside;

	if (!OidIsValid(get_namespace_oid(nsp, true)))
		return true;
	outside = query_text("SELECT pg_catalog.string_agg(DISTINCT"
						 "        pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid), ', ')"
						 "  FROM pg_catalog.pg_depend d"
						 " WHERE ((d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
						 "         AND d.refobjid IN (SELECT c.oid FROM pg_catalog.pg_class c"
						 "                             WHERE c.relnamespace OPERATOR(pg_catalog.=) $1::pg_catalog.regnamespace))"
						 "     OR (d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass"
						 "         AND d.refobjid IN (SELECT t.oid FROM pg_catalog.pg_type t"
						 "                             WHERE t.typnamespace OPERATOR(pg_catalog.=) $1::pg_catalog.regnamespace)))"
						 "   AND d.deptype OPERATOR(pg_catalog.<>) 'i'"
						 "   AND NOT coalesce(CASE"
						 "    WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass THEN"
						 "     (SELECT c.relnamespace FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) d.objid)"
						 "    WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass THEN"
						 "     (SELECT t.typnamespace FROM pg_catalog.pg_type t WHERE t.oid OPERATOR(pg_catalog.=) d.objid)"
						 "    WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_constraint'::pg_catalog.regclass THEN"
						 "     (SELECT o.connamespace FROM pg_catalog.pg_constraint o WHERE o.oid OPERATOR(pg_catalog.=) d.objid)"
						 "    WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass THEN"
						 "     (SELECT x.stxnamespace FROM pg_catalog.pg_statistic_ext x WHERE x.oid OPERATOR(pg_catalog.=) d.objid)"
						 "    WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass THEN"
						 "     (SELECT c.relnamespace FROM pg_catalog.pg_attrdef a JOIN pg_catalog.pg_class c"
						 "       ON c.oid OPERATOR(pg_catalog.=) a.adrelid WHERE a.oid OPERATOR(pg_catalog.=) d.objid)"
						 "    WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN"
						 "     (SELECT c.relnamespace FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_class c"
						 "       ON c.oid OPERATOR(pg_catalog.=) g.tgrelid WHERE g.oid OPERATOR(pg_catalog.=) d.objid)"
						 "    WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_policy'::pg_catalog.regclass THEN"
						 "     (SELECT c.relnamespace FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c"
						 "       ON c.oid OPERATOR(pg_catalog.=) p.polrelid WHERE p.oid OPERATOR(pg_catalog.=) d.objid)"
						 "    WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN"
						 "     (SELECT c.relnamespace FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c"
						 "       ON c.oid OPERATOR(pg_catalog.=) r.ev_class WHERE r.oid OPERATOR(pg_catalog.=) d.objid)"
						 "   END OPERATOR(pg_catalog.=) $1::pg_catalog.regnamespace, false)",
						 1, argtypes, values);
	if (outside != NULL)
	{
		ereport(WARNING,
				(errmsg("the data of migsafe snapshot " INT64_FORMAT " is kept in schema \"%s\"",
						id, nsp),
				 errdetail("Other objects depend on it: %s.", outside),
				 errhint("Drop or change them, then drop the schema.")));
		return false;
	}
	migsafe_snapshot_run(psprintf("DROP SCHEMA %s CASCADE", quote_identifier(nsp)));
	return true;
}

/*
 * migsafe_snapshot_audit
 *
 * An audit row for something migsafe did to a snapshot (kept, restored,
 * purged, evicted), in the current transaction.
 */
void
migsafe_snapshot_audit(const char *tag, int64 id, const char *object_type,
					   const char *identity, const char *detail)
{
	MigsafeAuditRow *row = palloc0(sizeof(MigsafeAuditRow));
	Oid			current;
	int			sec_context;

	row->command_tag = tag;
	row->object_type = object_type;
	row->object_identity = identity;
	row->statement = debug_query_string ? debug_query_string : "";
	row->nested = true;
	row->object_scope = true;
	row->destructive = strcmp(tag, "RESTORE") != 0;
	row->decision = "allowed";
	row->detail = detail;
	row->wal_lsn = InvalidXLogRecPtr;
	row->snapshot_id = id;

	/* the row names the role that called migsafe, not migsafe's own */
	GetUserIdAndSecContext(&current, &sec_context);
	SetUserIdAndSecContext(OidIsValid(internal_caller) ? internal_caller : current,
						   sec_context);
	migsafe_audit_write(list_make1(row));
	SetUserIdAndSecContext(current, sec_context);
}

/* ----------------------------------------------------------------
 * What to keep
 * ----------------------------------------------------------------
 */

/* The operation of a target, as migsafe.snapshots.operation names it */
static const char *
operation_name(MigsafeOp op)
{
	switch (op)
	{
		case MIGSAFE_OP_TRUNCATE:
			return "truncate";
		case MIGSAFE_OP_RETYPE:
			return "retype";
		case MIGSAFE_OP_BLANK:
			return "blank";
		case MIGSAFE_OP_RESTART:
			return "restart";
		default:
			return "drop";
	}
}

/* The object type of a target, as migsafe.snapshots.object_type names it */
static const char *
object_type_name(MigsafeTarget *t)
{
	if (t->subid > 0)
		return "column";
	return migsafe_classify_relkind_noun(t->relkind);
}

/* The unquoted name of a target: "public.orders" or "public.orders.note" */
static char *
object_name(MigsafeTarget *t)
{
	if (t->subid > 0)
		return psprintf("%s.%s.%s", t->nspname, t->relname, t->attname);
	return psprintf("%s.%s", t->nspname, t->relname);
}

/*
 * Whether a decided target loses data that a snapshot should keep: an
 * approved or warned (not exempt, empty or new) table, column, sequence or
 * materialized view of the user's.  An owned sequence goes with its table.
 */
static bool
wants_snapshot(MigsafeTarget *t)
{
	/*
	 * migsafe's own tables go with an approval naming them and keep no
	 * snapshot: a copy of the audit log or of migsafe.snapshots would outlive
	 * the extension, unregistered.
	 */
	if (t->classid != RelationRelationId || t->protected || t->follows ||
		get_rel_namespace(t->objid) == get_namespace_oid("migsafe", true))
		return false;
	if (t->decision != MIGSAFE_DECISION_APPROVED &&
		t->decision != MIGSAFE_DECISION_WARNED)
		return false;
	switch (t->op)
	{
		case MIGSAFE_OP_DROP:
		case MIGSAFE_OP_TRUNCATE:
		case MIGSAFE_OP_RETYPE:
		case MIGSAFE_OP_BLANK:
			return t->relkind == RELKIND_RELATION ||
				t->relkind == RELKIND_SEQUENCE ||
				(t->relkind == RELKIND_MATVIEW && t->op == MIGSAFE_OP_DROP);
		case MIGSAFE_OP_RESTART:
			return t->relkind == RELKIND_SEQUENCE;
		default:
			return false;
	}
}

/*
 * Whether the target still needs a snapshot after the settings: none with
 * migsafe.snapshot off, or waived by migsafe.skip_snapshot (the audit row
 * says so).  A table or column measured empty needs none.
 */
static bool
needs_snapshot(MigsafeTarget *t)
{
	char	   *waiver;

	if (!wants_snapshot(t))
		return false;
	if (!migsafe_snapshot)
	{
		t->snapshot_note = pstrdup("No snapshot: migsafe.snapshot is off.");
		return false;
	}
	if ((waiver = migsafe_guard_setting_match(migsafe_skip_snapshot, t)) != NULL)
	{
		t->snapshot_note = psprintf("No snapshot: waived by migsafe.skip_snapshot (%s).",
									waiver);
		return false;
	}
	if (t->relkind == RELKIND_RELATION || t->relkind == RELKIND_MATVIEW)
	{
		/* approved targets were not measured by the decision */
		if (t->bytes < 0)
			migsafe_guard_measure(t, true);
		/* a materialized view's definition is kept even when it is empty */
		if (t->relkind == RELKIND_RELATION &&
			(t->subid > 0 ? t->values == 0 : t->rows == 0))
			return false;
	}
	return true;
}

/* ----------------------------------------------------------------
 * Moving a dropped table
 * ----------------------------------------------------------------
 */

/* The table of a constraint (InvalidOid for a domain's) */
static Oid
constraint_relid(Oid conid)
{
	return migsafe_guard_catalog_oid(ConstraintRelationId, ConstraintOidIndexId,
									 Anum_pg_constraint_conrelid, conid);
}

/* The table an object belongs to (index, TOAST, row type...), if known */
static Oid
owning_relation(Oid classid, Oid objid)
{
	Oid			relid = InvalidOid;
	int32		col;

	switch (classid)
	{
		case RelationRelationId:
			switch (get_rel_relkind(objid))
			{
				case RELKIND_INDEX:
				case RELKIND_PARTITIONED_INDEX:
					relid = IndexGetRelation(objid, true);
					/* a TOAST table's index belongs to the TOAST's table */
					return OidIsValid(relid) ?
						owning_relation(RelationRelationId, relid) : InvalidOid;
				case RELKIND_SEQUENCE:
					if (sequenceIsOwned(objid, DEPENDENCY_AUTO, &relid, &col) ||
						sequenceIsOwned(objid, DEPENDENCY_INTERNAL, &relid, &col))
						return relid;
					return InvalidOid;
				case RELKIND_TOASTVALUE:
					{
						/* named pg_toast_<table OID>, kept so by rewrites */
						char	   *name = get_rel_name(objid);
						unsigned int owner;

						if (name != NULL &&
							sscanf(name, "pg_toast_%u", &owner) == 1)
							return (Oid) owner;
						return InvalidOid;
					}
				default:
					return objid;
			}
		case TypeRelationId:
			{
				Oid			elem = get_element_type(objid);

				return get_typ_typrelid(OidIsValid(elem) ? elem : objid);
			}
		case ConstraintRelationId:
			return constraint_relid(objid);
		case TriggerRelationId:
			{
				Oid			con = migsafe_guard_catalog_oid(TriggerRelationId,
															TriggerOidIndexId,
															Anum_pg_trigger_tgconstraint,
															objid);

				/* a foreign key's triggers on the referenced table */
				if (OidIsValid(con))
					return constraint_relid(con);
				return migsafe_guard_catalog_oid(TriggerRelationId,
												 TriggerOidIndexId,
												 Anum_pg_trigger_tgrelid,
												 objid);
			}
		case RewriteRelationId:
			return migsafe_guard_catalog_oid(RewriteRelationId,
											 RewriteOidIndexId,
											 Anum_pg_rewrite_ev_class,
											 objid);
		case PolicyRelationId:
			return migsafe_guard_catalog_oid(PolicyRelationId,
											 PolicyOidIndexId,
											 Anum_pg_policy_polrelid,
											 objid);
		case AttrDefaultRelationId:
			return migsafe_guard_catalog_oid(AttrDefaultRelationId,
											 AttrDefaultOidIndexId,
											 Anum_pg_attrdef_adrelid,
											 objid);
		case StatisticExtRelationId:
			return migsafe_guard_catalog_oid(StatisticExtRelationId,
											 StatisticExtOidIndexId,
											 Anum_pg_statistic_ext_stxrelid,
											 objid);
		default:
			return InvalidOid;
	}
}

/*
 * Whether a constraint of relid uses an index with expressions or a
 * predicate (an exclusion constraint): such an index cannot be dropped
 * from a moved table, and its expressions would run as migsafe's superuser
 * in ANALYZE, VACUUM and REINDEX.
 */
static bool
has_constraint_expressions(Oid relid)
{
	Relation	rel = relation_open(relid, NoLock);
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		found = false;

	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));

		if (!HeapTupleIsValid(tup))
			continue;
		if ((!heap_attisnull(tup, Anum_pg_index_indexprs, NULL) ||
			 !heap_attisnull(tup, Anum_pg_index_indpred, NULL)) &&
			OidIsValid(get_index_constraint(lfirst_oid(lc))))
			found = true;
		ReleaseSysCache(tup);
	}
	relation_close(rel, NoLock);
	return found;
}

/*
 * Whether a column of relid is of a user's range type (or a domain over
 * one): its subtype_diff function, which any role may write, runs in
 * ANALYZE and in GiST index builds, as the table's owner, that is as
 * migsafe's superuser once the table is moved.  Such a table is copied:
 * the copy keeps the values as text.
 */
static bool
has_user_ranges(Oid relid)
{
	Relation	rel = relation_open(relid, NoLock);
	TupleDesc	desc = RelationGetDescr(rel);
	bool		found = false;
	int			i;

	for (i = 0; i < desc->natts && !found; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		Oid			base;

		if (att->attisdropped)
			continue;
		base = getBaseType(att->atttypid);
		if (base >= FirstUnpinnedObjectId &&
			(type_is_range(base) || type_is_multirange(base)))
			found = true;
	}
	relation_close(rel, NoLock);
	return found;
}

/*
 * Whether a table can be moved instead of dropped: a plain table, not a
 * partition, not in an inheritance tree (moving it would keep it there).
 */
static bool
movable(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class form;
	bool		result;

	if (!HeapTupleIsValid(tup))
		return false;
	form = (Form_pg_class) GETSTRUCT(tup);
	result = form->relkind == RELKIND_RELATION && !form->relispartition &&
		!form->relhassubclass && form->relpersistence == RELPERSISTENCE_PERMANENT;
	ReleaseSysCache(tup);
	/* an extension's member would stay one, in the snapshot */
	if (!result || has_superclass(relid) ||
		OidIsValid(getExtensionOfObject(RelationRelationId, relid)))
		return false;
	return !has_constraint_expressions(relid) && !has_user_ranges(relid);
}

/*
 * The relations named by a DROP TABLE, one per name (InvalidOid for a name
 * that does not resolve), before anything has moved.
 */
static List *
named_relations(DropStmt *stmt)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList(lfirst(lc));

		result = lappend_oid(result, RangeVarGetRelid(rv, NoLock, true));
	}
	return result;
}

/*
 * Whether everything the dry run saw dropped belongs to the named tables:
 * then moving a named table takes exactly what dropping it would have
 * (its indexes, constraints, TOAST, row type, owned sequences, triggers,
 * rules, policies, defaults, statistics), and no view, foreign key of
 * another table, publication membership or column elsewhere is involved.
 */
static bool
drop_is_self_contained(MigsafeCommand *cmd, List *named)
{
	ListCell   *lc;

	foreach(lc, cmd->dropped)
	{
		ObjectAddress *addr = lfirst(lc);
		Oid			owner = owning_relation(addr->classId, addr->objectId);

		if (!OidIsValid(owner) || !list_member_oid(named, owner))
			return false;
	}
	return true;
}

/*
 * Whether anything outside the named tables depends on relid (or its row
 * type) now, under the lock the statement holds: a view or foreign key
 * created between the dry run, whose locks went with it, and the lock
 * taken again.  Such a table is copied, not moved: moving it would keep
 * the dependent, which the DROP would have refused or dropped.
 */
static bool
has_foreign_dependents(Oid relid, List *named)
{
	Relation	depRel = table_open(DependRelationId, AccessShareLock);
	Oid			rowtype = get_rel_type_id(relid);
	Oid			refs[3][2] = {{RelationRelationId, relid},
	{TypeRelationId, rowtype},
	{TypeRelationId, OidIsValid(rowtype) ? get_array_type(rowtype) : InvalidOid}};
	bool		found = false;
	int			i;

	for (i = 0; i < 3 && !found; i++)
	{
		ScanKeyData key[2];
		SysScanDesc scan;
		HeapTuple	tup;

		if (!OidIsValid(refs[i][1]))
			continue;
		ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(refs[i][0]));
		ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(refs[i][1]));
		scan = systable_beginscan(depRel, DependReferenceIndexId, true,
								  NULL, 2, key);
		while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
			Oid			owner = owning_relation(dep->classid, dep->objid);

			if (!OidIsValid(owner) || !list_member_oid(named, owner))
				found = true;
		}
		systable_endscan(scan);
	}
	table_close(depRel, AccessShareLock);
	return found;
}

/* ----------------------------------------------------------------
 * Taking snapshots
 * ----------------------------------------------------------------
 */

/*
 * The id of a new snapshot.  An id whose schema name is taken already
 * (someone created a schema of that name) is skipped: a role that may
 * create schemas must not be able to make approved changes fail.
 */
static int64
next_id(void)
{
	for (;;)
	{
		int64		id = pg_strtoint64(query_text("SELECT pg_catalog.nextval('migsafe.snapshots_id_seq')",
												  0, NULL, NULL));

		if (!OidIsValid(get_namespace_oid(storage_schema(id), true)))
			return id;
	}
}

/*
 * Record snapshot id of target t in migsafe.snapshots, with the definition
 * of its relation as it is now (before the change).
 */
static void
register_snapshot(MigsafeCommand *cmd, MigsafeTarget *t, int64 id,
				  const char *method, const char *storage, List *keys,
				  double rows, bool estimated, int64 bytes)
{
	Oid			argtypes[13] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	NAMEOID, TEXTOID, TEXTOID, NAMEARRAYOID, INT8OID, BOOLOID, INT8OID, OIDOID};
	Datum		values[13];
	char		nulls[13];
	int			ret;

	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int64GetDatum(id);
	values[1] = CStringGetTextDatum(cmd->tag);
	values[2] = CStringGetTextDatum(operation_name(t->op));
	values[3] = CStringGetTextDatum(object_type_name(t));
	values[4] = CStringGetTextDatum(object_name(t));
	if (t->subid > 0)
		values[5] = DirectFunctionCall1(namein, CStringGetDatum(t->attname));
	else
		nulls[5] = 'n';
	values[6] = CStringGetTextDatum(method);
	if (storage)
		values[7] = CStringGetTextDatum(storage);
	else
		nulls[7] = 'n';
	if (keys != NIL)
	{
		Datum	   *elems = palloc(sizeof(Datum) * list_length(keys));
		int			i = 0;
		ListCell   *lc;

		foreach(lc, keys)
			elems[i++] = DirectFunctionCall1(namein, CStringGetDatum(lfirst(lc)));
		values[8] = PointerGetDatum(construct_array(elems, i, NAMEOID,
													NAMEDATALEN, false,
													TYPALIGN_CHAR));
	}
	else
		nulls[8] = 'n';
	if (rows >= 0)
		values[9] = Int64GetDatum((int64) rows);
	else
		nulls[9] = 'n';
	values[10] = BoolGetDatum(estimated);
	values[11] = Int64GetDatum(Max(bytes, 0));
	values[12] = ObjectIdGetDatum(t->objid);

	ret = migsafe_snapshot_exec("INSERT INTO migsafe.snapshots (id, xid, command_tag,"
								" operation, object_type, object_identity, schema_name,"
								" relation_name, column_name, owner, method, storage,"
								" key_columns, row_count, rows_estimated, size_bytes,"
								" definition)"
								" SELECT $1, pg_catalog.pg_current_xact_id(), $2, $3, $4, $5,"
								" n.nspname, c.relname, $6,"
								" pg_catalog.pg_get_userbyid(c.relowner), $7, $8, $9, $10,"
								" $11, $12, migsafe.snapshot_definition(c.oid)"
								" FROM pg_catalog.pg_class c"
								" JOIN pg_catalog.pg_namespace n"
								" ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
								" WHERE c.oid OPERATOR(pg_catalog.=) $13",
								13, argtypes, values, nulls, 0);
	if (ret != SPI_OK_INSERT || SPI_processed != 1)
		elog(ERROR, "could not record migsafe snapshot " INT64_FORMAT, id);
	t->snapshot_id = id;
}

/*
 * Set the audit note of t.  Snapshots are taken inside SPI, whose memory
 * goes at SPI_finish(): the note lives with the statement's frame.
 */
static void
set_note(MigsafeCommand *cmd, MigsafeTarget *t, char *note)
{
	t->snapshot_note = MemoryContextStrdup(cmd->cxt, note);
}

/* Total size of a relation (with TOAST and indexes) */
static int64
total_size(Oid relid)
{
	return DatumGetInt64(DirectFunctionCall1(pg_total_relation_size,
											 ObjectIdGetDatum(relid)));
}

/*
 * Move a table dropped by a plain DROP TABLE into migsafe_snapshot_<id>,
 * with everything that hangs off it.  Its foreign keys to other tables are
 * dropped (they would keep acting on the snapshot; restore adds them back),
 * it is given to the bootstrap superuser, and only its readers may read it.
 */
static void
take_move(MigsafeCommand *cmd, MigsafeTarget *t)
{
	int64		id = next_id();
	char	   *nsp = storage_schema(id);
	char	   *readers = readers_of(t->objid);
	char	   *orig = quote_qualified_identifier(t->nspname, t->relname);
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(t->objid)};
	uint64		i;
	List	   *fks = NIL;
	ListCell   *lc;
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(t->objid));
	bool		rls = false;

	if (HeapTupleIsValid(tup))
	{
		rls = ((Form_pg_class) GETSTRUCT(tup))->relrowsecurity ||
			((Form_pg_class) GETSTRUCT(tup))->relforcerowsecurity;
		ReleaseSysCache(tup);
	}
	register_snapshot(cmd, t, id, "moved",
					  quote_qualified_identifier(nsp, t->relname), NIL,
					  t->rows, !t->rows_exact, total_size(t->objid));

	if (migsafe_snapshot_exec("SELECT conname FROM pg_catalog.pg_constraint"
							  " WHERE conrelid OPERATOR(pg_catalog.=) $1"
							  "   AND contype OPERATOR(pg_catalog.=) 'f'"
							  "   AND confrelid OPERATOR(pg_catalog.<>) conrelid",
							  1, argtypes, values, NULL, 0) < 0)
		elog(ERROR, "could not read foreign keys of \"%s\"", orig);
	for (i = 0; i < SPI_processed; i++)
		fks = lappend(fks, SPI_getvalue(SPI_tuptable->vals[i],
										SPI_tuptable->tupdesc, 1));
	foreach(lc, fks)
		migsafe_snapshot_run(psprintf("ALTER TABLE %s DROP CONSTRAINT %s",
									  orig, quote_identifier(lfirst(lc))));

	/*
	 * The table will belong to migsafe's superuser: nothing of the owner's
	 * code may stay on it that maintenance runs as the table's owner.  Its
	 * indexes with expressions or predicates and its extended statistics are
	 * dropped (restore builds them again from the definition); triggers,
	 * defaults and constraints only run on writes, which nobody makes.
	 */
	if (migsafe_snapshot_exec("SELECT pg_catalog.format('DROP INDEX %s', i.indexrelid::pg_catalog.regclass)"
							  "  FROM pg_catalog.pg_index i"
							  " WHERE i.indrelid OPERATOR(pg_catalog.=) $1"
							  "   AND (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL)"
							  " UNION ALL"
							  " SELECT pg_catalog.format('DROP STATISTICS %I.%I', n.nspname, x.stxname)"
							  "  FROM pg_catalog.pg_statistic_ext x"
							  "  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) x.stxnamespace"
							  " WHERE x.stxrelid OPERATOR(pg_catalog.=) $1",
							  1, argtypes, values, NULL, 0) < 0)
		elog(ERROR, "could not read indexes of \"%s\"", orig);
	fks = NIL;
	for (i = 0; i < SPI_processed; i++)
		fks = lappend(fks, SPI_getvalue(SPI_tuptable->vals[i],
										SPI_tuptable->tupdesc, 1));
	foreach(lc, fks)
		migsafe_snapshot_run(lfirst(lc));

	migsafe_snapshot_run(psprintf("CREATE SCHEMA %s", quote_identifier(nsp)));
	migsafe_snapshot_run(psprintf("ALTER TABLE %s SET SCHEMA %s", orig,
								  quote_identifier(nsp)));
	migsafe_snapshot_run(psprintf("ALTER TABLE %s OWNER TO %s",
								  quote_qualified_identifier(nsp, t->relname),
								  quote_identifier(GetUserNameFromId(BOOTSTRAP_SUPERUSERID,
																	 false))));
	/* only the owner may read it (readers_of): whole, as the owner could */
	if (rls)
		migsafe_snapshot_run(psprintf("ALTER TABLE %s NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY",
									  quote_qualified_identifier(nsp, t->relname)));
	migsafe_snapshot_lock_down(nsp, readers);
	set_note(cmd, t, psprintf("Snapshot " INT64_FORMAT ": the table itself, moved to schema %s.",
							  id, nsp));
}

/*
 * Append a column of a copy to a select list.  Values of built-in types
 * are copied as they are (with the default collation instead of a user
 * one); values of other types (enums, domains, composites, extension
 * types) as their text output, so that the copy depends on no user
 * object.  format() calls the type's output function, not a cast a role
 * may have defined.
 */
static void
append_copy_column(StringInfo buf, Form_pg_attribute att)
{
	const char *name = quote_identifier(NameStr(att->attname));

	if (buf->len > 0)
		appendStringInfoString(buf, ", ");
	if (att->atttypid < FirstUnpinnedObjectId)
	{
		if (OidIsValid(att->attcollation) &&
			att->attcollation >= FirstUnpinnedObjectId)
			appendStringInfo(buf, "%s COLLATE pg_catalog.\"default\" AS %s",
							 name, name);
		else
			appendStringInfoString(buf, name);
	}
	else
		appendStringInfo(buf,
						 "CASE WHEN pg_catalog.num_nulls(%s) OPERATOR(pg_catalog.=) 0"
						 " THEN pg_catalog.format('%%s', %s) END AS %s",
						 name, name, name);
}

/*
 * The key of a column snapshot: the columns of the primary key, or of a
 * unique index on NOT NULL columns without expressions or predicate, not
 * containing the column itself.  NIL when there is none: the whole row is
 * kept.
 */
static List *
key_columns(Relation rel, AttrNumber skip)
{
	List	   *indexes = RelationGetIndexList(rel);
	Oid			pk = rel->rd_pkindex;
	TupleDesc	desc = RelationGetDescr(rel);
	ListCell   *lc;
	int			pass;

	for (pass = 0; pass < 2; pass++)
	{
		foreach(lc, indexes)
		{
			Oid			indexoid = lfirst_oid(lc);
			HeapTuple	tup;
			Form_pg_index idx;
			List	   *cols = NIL;
			bool		ok;
			int			i;

			if ((pass == 0) != (indexoid == pk))
				continue;
			tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
			if (!HeapTupleIsValid(tup))
				continue;
			idx = (Form_pg_index) GETSTRUCT(tup);
			ok = idx->indisunique && idx->indimmediate && idx->indisvalid &&
				heap_attisnull(tup, Anum_pg_index_indexprs, NULL) &&
				heap_attisnull(tup, Anum_pg_index_indpred, NULL);
			for (i = 0; ok && i < idx->indnkeyatts; i++)
			{
				AttrNumber	attnum = idx->indkey.values[i];
				Form_pg_attribute att;

				if (attnum <= 0 || attnum == skip)
				{
					ok = false;
					break;
				}
				att = TupleDescAttr(desc, attnum - 1);
				if (!att->attnotnull)
					ok = false;
				else
					cols = lappend_int(cols, attnum);
			}
			ReleaseSysCache(tup);
			if (ok && cols != NIL)
				return cols;
		}
	}
	return NIL;
}

/*
 * Estimated size of a copy: the table's size for rows, its share of the
 * row width for a column and its key.
 */
static int64
copy_estimate(MigsafeTarget *t)
{
	Relation	rel;
	TupleDesc	desc;
	List	   *keys;
	double		all = 24;
	double		part = 24;
	int			i;

	if (t->bytes < 0)
		migsafe_guard_measure(t, true);
	if (t->subid == 0)
		return t->bytes;
	rel = relation_open(t->objid, NoLock);
	desc = RelationGetDescr(rel);
	keys = key_columns(rel, (AttrNumber) t->subid);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		int32		width;

		if (att->attisdropped)
			continue;
		width = get_attavgwidth(t->objid, att->attnum);
		if (width <= 0)
			width = get_typavgwidth(att->atttypid, att->atttypmod);
		all += width;
		if (keys == NIL || att->attnum == t->subid ||
			list_member_int(keys, att->attnum))
			part += width;
	}
	relation_close(rel, NoLock);
	return (int64) (t->bytes * (part / all));
}

/*
 * Copy the rows of a dropped or truncated table, or the key and values of
 * a column, into migsafe_snapshot_<id>.  The caller holds a lock that
 * excludes writers; the copy reads with the latest snapshot, so it holds
 * every row the change will destroy.
 */
static void
take_copy(MigsafeCommand *cmd, MigsafeTarget *t)
{
	Relation	rel = relation_open(t->objid, NoLock);
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *keys = NIL;
	List	   *keynames = NIL;
	StringInfoData cols;
	int64		id;
	char	   *nsp;
	char	   *readers;
	char	   *sql;
	SPIPlanPtr	plan;
	Snapshot	snap;
	int			ret;
	uint64		rows;
	Oid			copyid;
	int			i;

	if (t->subid > 0)
		keys = key_columns(rel, (AttrNumber) t->subid);
	initStringInfo(&cols);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		if (t->subid > 0 && keys != NIL && att->attnum != t->subid &&
			!list_member_int(keys, att->attnum))
			continue;
		append_copy_column(&cols, att);
		if (list_member_int(keys, att->attnum))
			keynames = lappend(keynames, pstrdup(NameStr(att->attname)));
	}
	relation_close(rel, NoLock);

	id = next_id();
	nsp = storage_schema(id);
	readers = readers_of(t->objid);
	migsafe_snapshot_run(psprintf("CREATE SCHEMA %s", quote_identifier(nsp)));
	sql = psprintf("CREATE TABLE %s AS SELECT %s FROM ONLY %s",
				   quote_qualified_identifier(nsp, t->relname), cols.data,
				   quote_qualified_identifier(t->nspname, t->relname));
	plan = SPI_prepare(sql, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed (%s): %s",
			 SPI_result_code_string(SPI_result), sql);
	snap = RegisterSnapshot(GetLatestSnapshot());
	ret = SPI_execute_snapshot(plan, NULL, NULL, snap, InvalidSnapshot,
							   false, true, 0);
	UnregisterSnapshot(snap);
	if (ret < 0)
		elog(ERROR, "SPI_execute_snapshot failed (%s): %s",
			 SPI_result_code_string(ret), sql);
	rows = SPI_processed;
	SPI_freeplan(plan);

	copyid = get_relname_relid(t->relname, get_namespace_oid(nsp, false));
	register_snapshot(cmd, t, id, "copied",
					  quote_qualified_identifier(nsp, t->relname), keynames,
					  (double) rows, false, total_size(copyid));
	migsafe_snapshot_lock_down(nsp, readers);
	if (t->subid > 0)
		set_note(cmd, t, psprintf(ngettext("Snapshot " INT64_FORMAT ": the column in " UINT64_FORMAT " row, with %s, copied to schema %s.",
										   "Snapshot " INT64_FORMAT ": the column in " UINT64_FORMAT " rows, with %s, copied to schema %s.",
										   (unsigned long) rows),
								  id, rows,
								  keys != NIL ? "the table's key" : "the rest of the row",
								  nsp));
	else
		set_note(cmd, t, psprintf(ngettext("Snapshot " INT64_FORMAT ": " UINT64_FORMAT " row, copied to schema %s.",
										   "Snapshot " INT64_FORMAT ": " UINT64_FORMAT " rows, copied to schema %s.",
										   (unsigned long) rows),
								  id, rows, nsp));
}

/* Keep a sequence's state, a materialized view's or partitioned table's definition */
static void
take_definition(MigsafeCommand *cmd, MigsafeTarget *t)
{
	int64		id = next_id();

	if (t->relkind == RELKIND_SEQUENCE)
	{
		register_snapshot(cmd, t, id, "state", NULL, NIL, -1, false, 0);
		set_note(cmd, t, psprintf("Snapshot " INT64_FORMAT ": the sequence's state.",
								  id));
	}
	else if (t->relkind == RELKIND_PARTITIONED_TABLE)
	{
		register_snapshot(cmd, t, id, "definition", NULL, NIL, -1, false, 0);
		set_note(cmd, t, psprintf("Snapshot " INT64_FORMAT ": the partitioned table's definition (restore brings its partitions back with it).",
								  id));
	}
	else
	{
		register_snapshot(cmd, t, id, "definition", NULL, NIL,
						  t->rows, !t->rows_exact, 0);
		set_note(cmd, t, psprintf("Snapshot " INT64_FORMAT ": the materialized view's definition (restore runs its query again).",
								  id));
	}
}

/* Refuse a copy larger than migsafe.snapshot_max_copy_size */
static void
check_copy_size(MigsafeTarget *t)
{
	int64		estimate = copy_estimate(t);
	char	   *name = object_name(t);

	if (migsafe_snapshot_max_copy_size <= 0 ||
		estimate <= (int64) migsafe_snapshot_max_copy_size * 1024)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_MIGSAFE_SNAPSHOT_TOO_LARGE),
			 errmsg("snapshot of %s \"%s\" would copy more than migsafe.snapshot_max_copy_size",
					object_type_name(t), name),
			 errdetail("The copy would take about %s; the limit is %s.",
					   text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_size_pretty,
																		  Int64GetDatum(estimate)))),
					   text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_size_pretty,
																		  Int64GetDatum((int64) migsafe_snapshot_max_copy_size * 1024))))),
			 errhint("Back the data up another way and waive the snapshot with SET LOCAL migsafe.skip_snapshot = '%s', or ask a superuser to raise migsafe.snapshot_max_copy_size.",
					 t->ident)));
}

/*
 * migsafe_snapshot_retire
 *
 * Evict or purge one snapshot: drop its storage, mark it, audit it.  Runs
 * in an internal section, connected to SPI.
 */
bool
migsafe_snapshot_retire(int64 id, const char *status, const char *tag,
						const char *why)
{
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(id), CStringGetTextDatum(status)};
	int			ret;
	char	   *type;
	char	   *identity;

	/*
	 * Lock the snapshot's row first: a restore holds it, and one that
	 * committed leaves it no longer kept.
	 */
	if (migsafe_snapshot_exec("SELECT 1 FROM migsafe.snapshots"
							  " WHERE id OPERATOR(pg_catalog.=) $1"
							  "   AND status OPERATOR(pg_catalog.=) 'kept' FOR UPDATE",
							  1, argtypes, values, NULL, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not lock migsafe snapshot " INT64_FORMAT, id);
	if (SPI_processed == 0)
		return false;
	if (!migsafe_snapshot_drop_storage(id))
		return false;
	ret = migsafe_snapshot_exec("UPDATE migsafe.snapshots"
								"   SET status = $2,"
								"       status_changed_at = pg_catalog.clock_timestamp(),"
								"       status_changed_by = pg_catalog.session_user()"
								" WHERE id OPERATOR(pg_catalog.=) $1"
								" RETURNING object_type, object_identity",
								2, argtypes, values, NULL, 0);
	if (ret != SPI_OK_UPDATE_RETURNING || SPI_processed != 1)
		elog(ERROR, "could not mark migsafe snapshot " INT64_FORMAT, id);
	type = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	identity = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	migsafe_snapshot_audit(tag, id, type, identity,
						   psprintf("Snapshot " INT64_FORMAT " %s: %s.", id,
									status, why));
	return true;
}

/* migsafe.snapshot_retention as an interval */
Datum
migsafe_snapshot_retention_interval(void)
{
	return DirectFunctionCall3(interval_in,
							   CStringGetDatum(psprintf("%d seconds",
														migsafe_snapshot_retention)),
							   ObjectIdGetDatum(InvalidOid),
							   Int32GetDatum(-1));
}

/*
 * migsafe_snapshot_expired
 *
 * The ids (as text) of the kept snapshots older than an interval, oldest
 * first; with spare_current, not those of the current transaction.  Runs
 * in an internal section, connected to SPI.
 */
List	   *
migsafe_snapshot_expired(Datum older_than, bool spare_current)
{
	Oid			argtypes[1] = {INTERVALOID};
	Datum		values[1] = {older_than};
	List	   *ids = NIL;
	uint64		i;

	if (migsafe_snapshot_exec(psprintf("SELECT id FROM migsafe.snapshots"
									   " WHERE status OPERATOR(pg_catalog.=) 'kept'"
									   "   AND created_at OPERATOR(pg_catalog.<=) (pg_catalog.clock_timestamp()"
									   "       OPERATOR(pg_catalog.-) $1)%s"
									   " ORDER BY id",
									   spare_current ?
									   " AND xid IS DISTINCT FROM pg_catalog.pg_current_xact_id()" : ""),
							  1, argtypes, values, NULL, 0) < 0)
		elog(ERROR, "could not read migsafe.snapshots");
	for (i = 0; i < SPI_processed; i++)
		ids = lappend(ids, SPI_getvalue(SPI_tuptable->vals[i],
										SPI_tuptable->tupdesc, 1));
	return ids;
}

/*
 * Apply migsafe.snapshot_retention and migsafe.snapshot_max_total_size
 * after new snapshots were taken: purge the expired ones, then evict the
 * oldest until the total fits.  Snapshots of the current transaction are
 * never evicted (a snapshot larger than the cap alone is kept).
 */
static void
apply_limits(void)
{
	List	   *ids = NIL;
	ListCell   *lc;
	uint64		i;

	if (migsafe_snapshot_retention > 0)
	{
		ids = migsafe_snapshot_expired(migsafe_snapshot_retention_interval(), true);
		foreach(lc, ids)
			migsafe_snapshot_retire(pg_strtoint64(lfirst(lc)), "purged", "PURGE SNAPSHOT",
									"older than migsafe.snapshot_retention");
	}

	if (migsafe_snapshot_max_total_size > 0)
	{
		int64		cap = (int64) migsafe_snapshot_max_total_size * 1024 * 1024;
		int64		total = 0;
		List	   *sizes = NIL;
		ListCell   *sc;

		ids = NIL;
		if (migsafe_snapshot_exec("SELECT id, size_bytes,"
								  "       xid IS NOT DISTINCT FROM pg_catalog.pg_current_xact_id()"
								  "  FROM migsafe.snapshots"
								  " WHERE status OPERATOR(pg_catalog.=) 'kept' ORDER BY id",
								  0, NULL, NULL, NULL, 0) < 0)
			elog(ERROR, "could not read migsafe.snapshots");
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			int64		size = pg_strtoint64(SPI_getvalue(tup, SPI_tuptable->tupdesc, 2));

			total += size;
			if (strcmp(SPI_getvalue(tup, SPI_tuptable->tupdesc, 3), "t") != 0)
			{
				ids = lappend(ids, SPI_getvalue(tup, SPI_tuptable->tupdesc, 1));
				sizes = lappend(sizes, SPI_getvalue(tup, SPI_tuptable->tupdesc, 2));
			}
		}
		forboth(lc, ids, sc, sizes)
		{
			if (total <= cap)
				break;
			/* one that others depend on is kept: the next oldest goes */
			if (migsafe_snapshot_retire(pg_strtoint64(lfirst(lc)), "evicted", "EVICT SNAPSHOT",
										"the oldest snapshot, over migsafe.snapshot_max_total_size"))
				total -= pg_strtoint64(lfirst(sc));
		}
	}
}

/* Tell the user where the data went */
static void
report_snapshot(MigsafeTarget *t)
{
	ereport(NOTICE,
			(errmsg("migsafe kept snapshot " INT64_FORMAT " of %s \"%s\"",
					t->snapshot_id, object_type_name(t), object_name(t)),
			 errhint("Restore it with SELECT migsafe.restore(" INT64_FORMAT ").",
					 t->snapshot_id)));
}

/* The same object's snapshot taken by an enclosing statement, or NULL */
static MigsafeTarget *
enclosing_snapshot(MigsafeCommand *cmd, MigsafeTarget *t)
{
	MigsafeCommand *outer;

	for (outer = cmd->outer; outer != NULL; outer = outer->outer)
	{
		ListCell   *lc;

		foreach(lc, outer->targets)
		{
			MigsafeTarget *o = lfirst(lc);

			if (o->classid == t->classid && o->objid == t->objid &&
				o->subid == t->subid && o->snapshot_id > 0)
				return o;
		}
	}
	return NULL;
}

/* Take the snapshots of todo (moving those in moves), then apply limits */
static void
take_all(MigsafeCommand *cmd, List *todo, List *moves)
{
	ListCell   *lc;

	SPI_connect();
	foreach(lc, todo)
	{
		MigsafeTarget *t = lfirst(lc);

		if (list_member_ptr(moves, t))
			take_move(cmd, t);
		else if (t->relkind == RELKIND_RELATION)
			take_copy(cmd, t);
		else
			take_definition(cmd, t);
	}
	apply_limits();
	SPI_finish();
}

/* take_all() in an internal section */
static void
take_internal(MigsafeCommand *cmd, List *todo, List *moves)
{
	MigsafeInternal state;

	migsafe_snapshot_internal_begin(&state);
	PG_TRY();
	{
		take_all(cmd, todo, moves);
	}
	PG_CATCH();
	{
		migsafe_snapshot_internal_abort(&state);
		PG_RE_THROW();
	}
	PG_END_TRY();
	migsafe_snapshot_internal_end(&state);
}

/*
 * migsafe_snapshot_take
 *
 * Called by migsafe_guard_begin() after cmd's targets are locked and
 * decided, before the statement runs: keep what each approved target
 * loses.  When a DROP TABLE's tables are moved rather than copied, sets
 * cmd->replacement to the statement to run instead (the same DROP without
 * the moved tables).  Raises an error, before anything changed, when a
 * copy would exceed migsafe.snapshot_max_copy_size.
 */
void
migsafe_snapshot_take(MigsafeCommand *cmd, PlannedStmt *pstmt)
{
	List	   *todo = NIL;
	List	   *moves = NIL;
	List	   *named = NIL;
	ListCell   *lc;
	Node	   *parsetree = pstmt->utilityStmt;

	foreach(lc, cmd->targets)
	{
		MigsafeTarget *t = lfirst(lc);
		MigsafeTarget *kept = enclosing_snapshot(cmd, t);

		/*
		 * A statement run by another (the ALTER SEQUENCE of an identity's
		 * RESTART) keeps nothing twice.
		 */
		if (kept != NULL)
		{
			t->snapshot_id = kept->snapshot_id;
			t->snapshot_note = psprintf("Kept by the enclosing statement in snapshot " INT64_FORMAT ".",
										kept->snapshot_id);
		}
		else if (needs_snapshot(t))
			todo = lappend(todo, t);
	}
	if (todo == NIL)
		return;

	/*
	 * A partitioned table dropped with partitions that keep snapshots: keep
	 * its definition too, so that restore can build the tree again.
	 */
	foreach(lc, cmd->targets)
	{
		MigsafeTarget *t = lfirst(lc);

		if (t->classid == RelationRelationId && !t->protected &&
			t->relkind == RELKIND_PARTITIONED_TABLE && t->subid == 0 &&
			t->op == MIGSAFE_OP_DROP && migsafe_snapshot &&
			get_rel_namespace(t->objid) != get_namespace_oid("migsafe", true))
			todo = lappend(todo, t);
	}

	/* a plain DROP TABLE: move the tables instead of copying them */
	if (IsA(parsetree, DropStmt) &&
		((DropStmt *) parsetree)->removeType == OBJECT_TABLE &&
		!((DropStmt *) parsetree)->concurrent)
	{
		named = named_relations((DropStmt *) parsetree);
		if (drop_is_self_contained(cmd, named))
		{
			foreach(lc, todo)
			{
				MigsafeTarget *t = lfirst(lc);

				if (t->subid == 0 && list_member_oid(named, t->objid) &&
					movable(t->objid) &&
					!has_foreign_dependents(t->objid, named))
					moves = lappend(moves, t);
			}
		}
	}

	/* refuse oversized copies before anything is done */
	foreach(lc, todo)
	{
		MigsafeTarget *t = lfirst(lc);

		if (t->relkind == RELKIND_RELATION && !list_member_ptr(moves, t))
			check_copy_size(t);
	}

	if (moves != NIL)
	{
		PlannedStmt *copy = copyObject(pstmt);
		DropStmt   *stmt = (DropStmt *) copy->utilityStmt;
		List	   *objects = NIL;
		ListCell   *oc;

		forboth(lc, stmt->objects, oc, named)
		{
			bool		moved = false;
			ListCell   *mc;

			foreach(mc, moves)
				if (((MigsafeTarget *) lfirst(mc))->objid == lfirst_oid(oc))
				moved = true;
			if (!moved)
				objects = lappend(objects, lfirst(lc));
		}
		stmt->objects = objects;
		cmd->replacement = copy;
	}

	take_internal(cmd, todo, moves);

	/* owned sequences were kept with their table (moved, or its definition) */
	foreach(lc, cmd->targets)
	{
		MigsafeTarget *t = lfirst(lc);
		Oid			owner;
		int32		col;
		ListCell   *oc;

		if (!t->follows || t->relkind != RELKIND_SEQUENCE ||
			!(sequenceIsOwned(t->objid, DEPENDENCY_AUTO, &owner, &col) ||
			  sequenceIsOwned(t->objid, DEPENDENCY_INTERNAL, &owner, &col)))
			continue;
		foreach(oc, todo)
		{
			MigsafeTarget *o = lfirst(oc);

			if (o->objid == owner && o->snapshot_id > 0 && t->snapshot_id == 0)
			{
				t->snapshot_id = o->snapshot_id;
				t->snapshot_note = psprintf("Kept with its table in snapshot " INT64_FORMAT ".",
											o->snapshot_id);
			}
		}
	}

	foreach(lc, todo)
		report_snapshot(lfirst(lc));
}

/*
 * migsafe_snapshot_late
 *
 * The object-access hook decided a target the ProcessUtility hook did not
 * foresee (it was not part of the statement when it started).  Its data is
 * being dropped right now, too late to copy it safely: unless it holds no
 * data or needs no snapshot, refuse.
 */
void
migsafe_snapshot_late(MigsafeCommand *cmd, MigsafeTarget *t)
{
	if (!needs_snapshot(t))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_MIGSAFE_NOT_APPROVED),
			 errmsg("migsafe cannot keep a snapshot of %s \"%s\"",
					object_type_name(t), object_name(t)),
			 errdetail("It is destroyed by a path migsafe did not see before the statement started (%s).",
					   cmd && cmd->tag ? cmd->tag : "no statement"),
			 errhint("Run the change again; if it still fails, waive the snapshot with SET LOCAL migsafe.skip_snapshot = '%s'.",
					 t->ident)));
}

PG_FUNCTION_INFO_V1(migsafe_snapshots_guard);

/*
 * migsafe_snapshots_guard
 *
 * Trigger function of migsafe.snapshots: only migsafe writes it.
 */
Datum
migsafe_snapshots_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "migsafe_snapshots_guard: not called by trigger manager");
	/* an approved TRUNCATE (the ProcessUtility hook decided it) */
	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event) &&
		migsafe_guard_truncate_approved(RelationGetRelid(trigdata->tg_relation)))
		return PointerGetDatum(NULL);
	if (migsafe_internal_depth > 0 || migsafe_audit_writing())
	{
		if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
			return PointerGetDatum(trigdata->tg_newtuple);
		return PointerGetDatum(trigdata->tg_trigtuple);
	}
	ereport(ERROR,
			(errcode(ERRCODE_MIGSAFE_AUDIT_APPEND_ONLY),
			 errmsg("table \"migsafe.snapshots\" can only be changed by migsafe"),
			 errhint("Use migsafe.restore() and migsafe.purge_snapshots().")));
	PG_RETURN_NULL();			/* keep compiler quiet */
}

/*
 * migsafe_snapshot_xact_callback
 *
 * An error inside an internal section leaves the depth behind; the
 * transaction's end resets it.
 */
void
migsafe_snapshot_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			migsafe_internal_depth = 0;
			break;
		default:
			break;
	}
}
