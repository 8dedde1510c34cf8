/*-------------------------------------------------------------------------
 *
 * restore.c
 *	  migsafe.restore(): bring back what a snapshot kept; and purging.
 *
 * A restore runs in the caller's transaction and either puts everything
 * back or, with an error, nothing: it refuses up front when a name is
 * taken, and turns rows that collide with existing ones into its own
 * error (MS004).  This file puts the data back, per kind of snapshot
 * (a moved or copied table, a partition tree, a column, a sequence, a
 * materialized view); rebuild.c puts back what hangs off a table.  Every
 * restore and purge is audited.
 *
 * When a down migration re-created the column, table or sequence, the
 * snapshot goes into it instead (refill.c).
 *
 * Calls refill.c, rebuild.c, storage.c, audit.c and internal.c.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/restore.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "migsafe.h"
#include "audit.h"
#include "internal.h"
#include "rebuild.h"
#include "refill.h"
#include "restore.h"
#include "storage.h"

static int64 restore_updated(MigsafeSnapshotRow *s);
static int64 restore_children(MigsafeSnapshotRow *s);

/*
 * Insert the rows of a copy into the table relid, as its owner, with the
 * user's INSERT triggers off (see migsafe_rebuild_triggers_off).  Rows
 * that collide with existing ones make the restore fail with its own
 * error.  Returns the number of rows.
 */
static int64
insert_rows(MigsafeSnapshotRow *s, Oid relid)
{
	StringInfoData cols;
	StringInfoData exprs;
	char	   *sql;
	int64		rows = 0;
	ErrorData  *edata;
	List	   *enable;

	initStringInfo(&cols);
	initStringInfo(&exprs);
	migsafe_rebuild_copy_lists(s, relid, &cols, &exprs);
	sql = psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s s",
				   s->target, cols.data, exprs.data, s->storage);

	enable = migsafe_rebuild_triggers_off(s, relid, TRIGGER_TYPE_INSERT);
	edata = migsafe_rebuild_run_in_subxact(s->runner, sql, &rows);
	migsafe_rebuild_triggers_on(s, enable);
	if (edata != NULL)
	{
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION)
			ReThrowError(edata);
		if (edata->sqlerrcode == ERRCODE_UNIQUE_VIOLATION ||
			edata->sqlerrcode == ERRCODE_EXCLUSION_VIOLATION)
			migsafe_rebuild_conflict(s, psprintf(_("Its rows collide with rows of \"%s.%s\": %s."),
												 s->schema_name, s->relation_name, edata->message));
		/* a constraint added since (NOT VALID too), a parent row gone */
		migsafe_rebuild_conflict(s, psprintf(_("The kept rows do not fit into \"%s.%s\": %s%s%s"),
											 s->schema_name, s->relation_name,
											 edata->message, edata->detail ? ". " : ".",
											 edata->detail ? edata->detail : ""));
	}
	return rows;
}

/* A dropped table that was moved: move it back */
static int64
restore_moved(MigsafeSnapshotRow *s)
{
	Oid			nsp = migsafe_rebuild_namespace(s);
	Oid			argtypes[2] = {TEXTOID, OIDOID};
	Datum		values[2];
	List	   *rows;
	char	   *storage_nsp = migsafe_storage_schema(s->id);
	Oid			relid;

	migsafe_rebuild_check_name_free(s, nsp, s->relation_name);
	/* its indexes and sequences come back under their names too */
	relid = DatumGetObjectId(DirectFunctionCall1(regclassin,
												 CStringGetDatum(s->storage)));
	migsafe_storage_names_back(s->id, relid, s->relation_name);
	values[0] = CStringGetTextDatum(storage_nsp);
	values[1] = ObjectIdGetDatum(nsp);
	rows = migsafe_internal_rows("SELECT c.relname FROM pg_catalog.pg_class c"
								 " WHERE c.relnamespace OPERATOR(pg_catalog.=) $1::pg_catalog.regnamespace"
								 "   AND EXISTS (SELECT FROM pg_catalog.pg_class o"
								 "                WHERE o.relnamespace OPERATOR(pg_catalog.=) $2"
								 "                  AND o.relname OPERATOR(pg_catalog.=) c.relname)"
								 " ORDER BY 1",
								 2, argtypes, values, 1);
	if (rows != NIL)
		migsafe_rebuild_conflict(s, psprintf(_("Relation \"%s.%s\" (an index or sequence of the table) already exists."),
											 s->schema_name, ((char **) linitial(rows))[0]));

	migsafe_rebuild_run_as(InvalidOid, psprintf("ALTER TABLE %s SET SCHEMA %s",
												quote_qualified_identifier(storage_nsp, s->relation_name),
												quote_identifier(s->schema_name)));
	migsafe_rebuild_give_back(s);
	relid = get_relname_relid(s->relation_name, nsp);
	migsafe_rebuild_grants(s, "TABLE");
	migsafe_rebuild_sequence_grants(s);
	migsafe_rebuild_constraints(s, relid, true);
	migsafe_rebuild_indexes(s);
	migsafe_rebuild_security(s, true);
	(void) migsafe_storage_drop(s->id);
	return s->row_count;
}

/* A dropped table that was copied: create it again and fill it */
static int64
restore_copied_table(MigsafeSnapshotRow *s)
{
	Oid			nsp = migsafe_rebuild_namespace(s);
	StringInfoData def;
	List	   *rows;
	int64		count;
	Oid			relid;

	migsafe_rebuild_check_name_free(s, nsp, s->relation_name);
	initStringInfo(&def);
	migsafe_rebuild_column_definitions(s, &def);
	rows = migsafe_rebuild_definition_rows(s, "SELECT $1::pg_catalog.jsonb OPERATOR(pg_catalog.->>) 'unlogged'", 1);
	migsafe_rebuild_run_as(InvalidOid, psprintf("CREATE %sTABLE %s (%s)",
												((char **) linitial(rows))[0] != NULL &&
												strcmp(((char **) linitial(rows))[0], "true") == 0 ?
												"UNLOGGED " : "",
												s->target, def.data));
	relid = get_relname_relid(s->relation_name, nsp);
	migsafe_rebuild_run_as(InvalidOid, psprintf("ALTER TABLE %s OWNER TO %s", s->target,
												quote_identifier(GetUserNameFromId(s->runner, false))));
	count = insert_rows(s, relid);
	migsafe_rebuild_owned_sequences(s, NULL);
	migsafe_rebuild_sequence_grants(s);
	migsafe_rebuild_defaults(s, NULL);
	migsafe_rebuild_constraints(s, relid, false);
	migsafe_rebuild_attach_and_inherit(s);
	migsafe_rebuild_security(s, false);
	migsafe_rebuild_grants(s, "TABLE");
	migsafe_rebuild_comments(s, "TABLE");
	(void) migsafe_storage_drop(s->id);
	return count;
}

/*
 * A dropped partitioned table: create it again from its definition, then
 * restore the partitions dropped with it (kept snapshots of the same
 * transaction naming it as their parent), which attach themselves.
 */
static int64
restore_partitioned(MigsafeSnapshotRow *s)
{
	Oid			nsp = migsafe_rebuild_namespace(s);
	StringInfoData def;
	List	   *rows;
	Oid			relid;

	migsafe_rebuild_check_name_free(s, nsp, s->relation_name);
	initStringInfo(&def);
	migsafe_rebuild_column_definitions(s, &def);
	rows = migsafe_rebuild_definition_rows(s, "SELECT $1::pg_catalog.jsonb OPERATOR(pg_catalog.->>) 'partition_key'", 1);
	migsafe_rebuild_run_as(InvalidOid, psprintf("CREATE TABLE %s (%s) PARTITION BY %s",
												s->target, def.data, ((char **) linitial(rows))[0]));
	relid = get_relname_relid(s->relation_name, nsp);
	migsafe_rebuild_run_as(InvalidOid, psprintf("ALTER TABLE %s OWNER TO %s", s->target,
												quote_identifier(GetUserNameFromId(s->runner, false))));
	migsafe_rebuild_defaults(s, NULL);
	migsafe_rebuild_constraints(s, relid, false);
	migsafe_rebuild_attach_and_inherit(s);
	migsafe_rebuild_grants(s, "TABLE");
	migsafe_rebuild_comments(s, "TABLE");

	return restore_children(s);
}

/* A dropped or retyped column: put the column and its values back */
static int64
restore_column(MigsafeSnapshotRow *s)
{
	Oid			relid = migsafe_rebuild_existing_relation(s);
	AttrNumber	attnum = get_attnum(relid, s->column_name);
	const char *col = quote_identifier(s->column_name);
	List	   *rows;
	char	  **r;
	char	   *type;
	int64		count;
	List	   *enable;

	if (strcmp(s->operation, "blank") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("migsafe cannot put back the attribute values kept by snapshot " INT64_FORMAT,
						s->id),
				 errdetail("The composite type of column \"%s\" lost an attribute; the values with it are in %s.",
						   s->object_identity, s->storage),
				 errhint("Add the attribute to the type again and copy the values from %s.",
						 s->storage)));

	rows = migsafe_rebuild_definition_rows(s, psprintf("SELECT c OPERATOR(pg_catalog.->>) 'type', c OPERATOR(pg_catalog.->>) 'collation',"
													   "       c OPERATOR(pg_catalog.->>) 'notnull', c OPERATOR(pg_catalog.->>) 'identity'"
													   "  FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'columns') c"
													   " WHERE c OPERATOR(pg_catalog.->>) 'name' OPERATOR(pg_catalog.=) %s",
													   quote_literal_cstr(s->column_name)), 4);
	if (rows == NIL)
		elog(ERROR, "snapshot " INT64_FORMAT " has no definition of column \"%s\"",
			 s->id, s->column_name);
	r = linitial(rows);
	type = migsafe_rebuild_column_type(r[0]);

	if (strcmp(s->operation, "drop") == 0)
	{
		if (attnum != InvalidAttrNumber)
			migsafe_rebuild_conflict(s, psprintf(_("Column \"%s\" of \"%s.%s\" already exists."),
												 s->column_name, s->schema_name, s->relation_name));
		migsafe_rebuild_run_as(s->runner, psprintf("ALTER TABLE %s ADD COLUMN %s %s%s%s", s->target,
												   col, type,
												   r[1] != NULL && strcmp(type, r[0]) == 0 ? " COLLATE " : "",
												   r[1] != NULL && strcmp(type, r[0]) == 0 ? r[1] : ""));
	}
	else
	{
		Oid			curtype;
		int32		curtypmod;
		Oid			curcoll;

		if (attnum == InvalidAttrNumber)
			migsafe_rebuild_conflict(s, psprintf(_("Column \"%s\" of \"%s.%s\" does not exist any more."),
												 s->column_name, s->schema_name, s->relation_name));
		/* back to the old type (rows added since are converted) */
		get_atttypetypmodcoll(relid, attnum, &curtype, &curtypmod, &curcoll);
		if (strcmp(format_type_with_typemod(curtype, curtypmod), type) != 0)
			migsafe_rebuild_run_approved(s->runner,
										 psprintf("%s.%s", s->target, col),
										 psprintf("ALTER TABLE %s ALTER COLUMN %s TYPE %s USING %s::text::%s",
												  s->target, col, type, col, type));
	}

	enable = migsafe_rebuild_triggers_off(s, relid, TRIGGER_TYPE_UPDATE);
	migsafe_rebuild_run_as(s->runner, psprintf("UPDATE %s t SET %s = s.%s::%s FROM %s s WHERE %s",
											   s->target, col, col, type, s->storage,
											   migsafe_rebuild_match_condition(s, relid)));
	count = (int64) SPI_processed;
	migsafe_rebuild_triggers_on(s, enable);
	if (strcmp(s->operation, "drop") == 0)
	{
		if (strcmp(r[2], "true") == 0 || r[3] != NULL)
			migsafe_rebuild_try_as(s->runner, psprintf("ALTER TABLE %s ALTER COLUMN %s SET NOT NULL",
													   s->target, col),
								   gettext_noop("NOT NULL"), s);
		/* an identity column is one again, a serial one gets its sequence */
		if (r[3] != NULL)
			migsafe_rebuild_try_as(s->runner, psprintf("ALTER TABLE %s ALTER COLUMN %s ADD GENERATED %s AS IDENTITY",
													   s->target, col,
													   strcmp(r[3], "a") == 0 ? "ALWAYS" : "BY DEFAULT"),
								   gettext_noop("the identity"), s);
		migsafe_rebuild_owned_sequences(s, s->column_name);
		migsafe_rebuild_sequence_grants(s);
		migsafe_rebuild_defaults(s, s->column_name);
	}
	(void) migsafe_storage_drop(s->id);
	return count;
}

/*
 * key_condition
 *
 * The condition matching a row of the table (t) with its row in a copy
 * (s) by the key the snapshot recorded, each key column cast to its type
 * in the table; refuses when there is none or the table lost one.
 */
static char *
key_condition(MigsafeSnapshotRow *s, Oid relid)
{
	Oid			argtypes[3] = {TEXTOID, OIDOID, TEXTOID};
	Datum		values[3];
	List	   *rows;
	ListCell   *lc;
	StringInfoData cond;

	if (s->key_columns == NULL)
		migsafe_rebuild_conflict_hint(s, psprintf(_("Table \"%s.%s\" had no key: which old values go on which row cannot be told."),
												  s->schema_name, s->relation_name),
									  psprintf(_("Nothing was changed.  Put the values back by hand from %s."),
											   s->storage));
	values[0] = CStringGetTextDatum(s->storage);
	values[1] = ObjectIdGetDatum(relid);
	values[2] = CStringGetTextDatum(s->key_columns);
	rows = migsafe_internal_rows("SELECT pg_catalog.quote_ident(a.attname),"
								 "       pg_catalog.format_type(t.atttypid, t.atttypmod),"
								 "       pg_catalog.cardinality($3::pg_catalog.name[])"
								 "  FROM pg_catalog.pg_attribute a"
								 "  JOIN pg_catalog.pg_attribute t ON t.attrelid OPERATOR(pg_catalog.=) $2"
								 "       AND t.attname OPERATOR(pg_catalog.=) a.attname AND NOT t.attisdropped"
								 " WHERE a.attrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass"
								 "   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
								 "   AND a.attname OPERATOR(pg_catalog.=) ANY ($3::pg_catalog.name[])"
								 " ORDER BY a.attnum",
								 3, argtypes, values, 3);
	if (rows == NIL || list_length(rows) != atoi(((char **) linitial(rows))[2]))
		migsafe_rebuild_conflict(s, _("The table no longer has the columns that identify its rows in the snapshot."));
	initStringInfo(&cond);
	foreach(lc, rows)
	{
		char	  **r = lfirst(lc);

		appendStringInfo(&cond, "%st.%s = s.%s::%s", cond.len ? " AND " : "",
						 r[0], r[0], r[1]);
	}
	return cond.data;
}

/*
 * An UPDATE that reached every row (migsafe.guard_dml): the rows that are
 * still there get their old values back, by key, as the table's owner:
 * every column but the key, generated and GENERATED ALWAYS ones.  Rows
 * added since are left alone.
 */
static int64
restore_updated(MigsafeSnapshotRow *s)
{
	Oid			relid = migsafe_rebuild_existing_relation(s);
	char	   *cond = key_condition(s, relid);
	Oid			argtypes[3] = {TEXTOID, OIDOID, TEXTOID};
	Datum		values[3];
	List	   *rows;
	ListCell   *lc;
	StringInfoData cols;
	StringInfoData exprs;
	List	   *enable;
	int64		count;

	values[0] = CStringGetTextDatum(s->storage);
	values[1] = ObjectIdGetDatum(relid);
	values[2] = CStringGetTextDatum(s->key_columns);
	rows = migsafe_internal_rows("SELECT pg_catalog.quote_ident(a.attname),"
								 "       pg_catalog.format_type(t.atttypid, t.atttypmod)"
								 "  FROM pg_catalog.pg_attribute a"
								 "  JOIN pg_catalog.pg_attribute t ON t.attrelid OPERATOR(pg_catalog.=) $2"
								 "       AND t.attname OPERATOR(pg_catalog.=) a.attname AND NOT t.attisdropped"
								 " WHERE a.attrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass"
								 "   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
								 "   AND a.attname OPERATOR(pg_catalog.<>) ALL ($3::pg_catalog.name[])"
								 "   AND t.attgenerated OPERATOR(pg_catalog.=) ''"
								 "   AND t.attidentity OPERATOR(pg_catalog.<>) 'a'"
								 " ORDER BY a.attnum",
								 3, argtypes, values, 2);
	if (rows == NIL)
		return 0;
	initStringInfo(&cols);
	initStringInfo(&exprs);
	foreach(lc, rows)
	{
		char	  **r = lfirst(lc);

		appendStringInfo(&cols, "%s%s", cols.len ? ", " : "", r[0]);
		appendStringInfo(&exprs, "%ss.%s::%s", exprs.len ? ", " : "", r[0], r[1]);
	}
	enable = migsafe_rebuild_triggers_off(s, relid, TRIGGER_TYPE_UPDATE);
	migsafe_rebuild_run_as(s->runner,
						   psprintf("UPDATE %s t SET (%s) = ROW(%s) FROM %s s WHERE %s",
									s->target, cols.data, exprs.data,
									s->storage, cond));
	count = (int64) SPI_processed;
	migsafe_rebuild_triggers_on(s, enable);
	return count;
}

/* pg_attribute.attidentity of a column */
static char
attidentity(Oid relid, AttrNumber attnum)
{
	HeapTuple	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid),
									  Int16GetDatum(attnum));
	char		result = '\0';

	if (HeapTupleIsValid(tup))
	{
		result = ((Form_pg_attribute) GETSTRUCT(tup))->attidentity;
		ReleaseSysCache(tup);
	}
	return result;
}

/* A sequence: create it again, or set its value back */
static int64
restore_sequence(MigsafeSnapshotRow *s)
{
	List	   *rows = migsafe_rebuild_definition_rows(s, "SELECT " SEQUENCE_FIELDS("($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'sequence')"), 8);
	char	  **r = linitial(rows);
	List	   *owned;
	char	  **o;
	Oid			tabid = InvalidOid;
	AttrNumber	attnum = InvalidAttrNumber;

	if (strcmp(s->operation, "drop") != 0)
	{
		(void) migsafe_rebuild_existing_relation(s);
		migsafe_rebuild_run_as(s->runner, migsafe_rebuild_setval_sql(s->target, r[7], r[4]));
		return 1;
	}

	/* the column it belonged to, if it is still there */
	owned = migsafe_rebuild_definition_rows(s, "SELECT $1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'owned_by' OPERATOR(pg_catalog.->>) 'table',"
											"       $1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'owned_by' OPERATOR(pg_catalog.->>) 'column',"
											"       $1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'owned_by' OPERATOR(pg_catalog.->>) 'identity',"
											"       pg_catalog.to_regclass($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'owned_by' OPERATOR(pg_catalog.->>) 'table')::pg_catalog.oid", 4);
	o = linitial(owned);
	if (o[0] != NULL && o[3] != NULL)
	{
		tabid = (Oid) strtoul(o[3], NULL, 10);
		attnum = get_attnum(tabid, o[1]);
	}

	/*
	 * An identity's sequence (DROP IDENTITY): the column becomes an identity
	 * again, with the value the sequence had.
	 */
	if (o[2] != NULL && attnum > 0 && attidentity(tabid, attnum) == '\0')
	{
		migsafe_rebuild_run_as(s->runner, psprintf("ALTER TABLE %s ALTER COLUMN %s ADD GENERATED %s AS IDENTITY",
												   o[0], quote_identifier(o[1]),
												   strcmp(o[2], "a") == 0 ? "ALWAYS" : "BY DEFAULT"));
		if (r[7] != NULL)
			migsafe_rebuild_run_as(s->runner, psprintf("SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence(%s, %s), %s, true)",
													   quote_literal_cstr(o[0]), quote_literal_cstr(o[1]), r[7]));
		return 1;
	}

	migsafe_rebuild_check_name_free(s, migsafe_rebuild_namespace(s), s->relation_name);
	migsafe_rebuild_run_as(InvalidOid, migsafe_rebuild_create_sequence_sql(s->target, r));
	migsafe_rebuild_run_as(InvalidOid, psprintf("ALTER SEQUENCE %s OWNER TO %s", s->target,
												quote_identifier(GetUserNameFromId(s->runner, false))));
	migsafe_rebuild_grants(s, "SEQUENCE");
	migsafe_rebuild_comments(s, "SEQUENCE");
	migsafe_rebuild_run_as(s->runner, migsafe_rebuild_setval_sql(s->target, r[7], r[4]));

	/* a serial's sequence: owned by its column again, and its default */
	if (o[2] == NULL && attnum > 0)
	{
		migsafe_rebuild_try_as(s->runner, psprintf("ALTER SEQUENCE %s OWNED BY %s.%s", s->target,
												   o[0], quote_identifier(o[1])),
							   gettext_noop("the sequence's column"), s);
		if (!OidIsValid(GetAttrDefaultOid(tabid, attnum)))
			migsafe_rebuild_try_as(s->runner, psprintf("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT pg_catalog.nextval(%s::pg_catalog.regclass)",
													   o[0], quote_identifier(o[1]),
													   quote_literal_cstr(s->target)),
								   gettext_noop("the column's default"), s);
	}
	return 1;
}

/* A materialized view: create it again from its query */
static int64
restore_matview(MigsafeSnapshotRow *s)
{
	List	   *rows = migsafe_rebuild_definition_rows(s, "SELECT $1::pg_catalog.jsonb OPERATOR(pg_catalog.->>) 'viewdef'", 1);
	char	   *viewdef = ((char **) linitial(rows))[0];
	int64		count;
	int			len = strlen(viewdef);

	migsafe_rebuild_check_name_free(s, migsafe_rebuild_namespace(s), s->relation_name);
	while (len > 0 && (viewdef[len - 1] == ';' || viewdef[len - 1] == '\n' ||
					   viewdef[len - 1] == ' '))
		viewdef[--len] = '\0';
	migsafe_rebuild_run_as(s->runner, psprintf("CREATE MATERIALIZED VIEW %s AS %s", s->target, viewdef));
	count = (int64) SPI_processed;
	migsafe_rebuild_indexes(s);
	migsafe_rebuild_grants(s, "TABLE");
	migsafe_rebuild_comments(s, "MATERIALIZED VIEW");
	return count;
}

/* Whether s kept a dropped table's storage, not the table (see take_swap) */
static bool
kept_storage(MigsafeSnapshotRow *s)
{
	List	   *rows = migsafe_rebuild_definition_rows(s, "SELECT $1::pg_catalog.jsonb OPERATOR(pg_catalog.->>) 'kept_storage'", 1);

	return ((char **) linitial(rows))[0] != NULL &&
		strcmp(((char **) linitial(rows))[0], "true") == 0;
}

/*
 * The columns of kept storage whose enum the statement dropped are kept as
 * the OIDs of its labels (see migsafe_keptypes_settle()): make them the
 * labels, text, as a copy has them, before anything reads the storage.
 */
static void
labels_back(MigsafeSnapshotRow *s)
{
	List	   *rows;
	ListCell   *lc;
	StringInfoData sql;

	if (strcmp(s->method, "moved") != 0)
		return;
	rows = migsafe_rebuild_definition_rows(s, "SELECT e.key, e.value::pg_catalog.text"
										   "  FROM pg_catalog.jsonb_each($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'kept_enums') e",
										   2);
	if (rows == NIL)
		return;
	initStringInfo(&sql);
	foreach(lc, rows)
	{
		char	  **r = lfirst(lc);
		const char *col = quote_identifier(r[0]);

		appendStringInfo(&sql, "%s ALTER COLUMN %s TYPE pg_catalog.text COLLATE pg_catalog.\"default\""
						 " USING %s::pg_catalog.jsonb OPERATOR(pg_catalog.->>) %s::pg_catalog.text",
						 sql.len > 0 ? "," : "", col, quote_literal_cstr(r[1]), col);
	}
	migsafe_internal_run(psprintf("ALTER TABLE %s%s", s->storage, sql.data));
}

/* Restore s by its kind */
static int64
restore_by_kind(MigsafeSnapshotRow *s)
{
	labels_back(s);
	/* a down migration re-created the column, table or sequence */
	if (s->refill)
		return migsafe_refill(s);
	/* rows a TRUNCATE or DELETE removed: copied, or the table's own storage */
	if ((strcmp(s->method, "copied") == 0 || strcmp(s->method, "moved") == 0) &&
		(strcmp(s->operation, "truncate") == 0 ||
		 strcmp(s->operation, "delete") == 0))
	{
		int64		count = insert_rows(s, migsafe_rebuild_existing_relation(s));

		migsafe_rebuild_catch_up_sequences(s);
		return count;
	}
	/* a dropped table whose storage was kept: created again, like a copy */
	if (strcmp(s->method, "moved") == 0 && strcmp(s->operation, "drop") == 0 &&
		kept_storage(s))
		return restore_copied_table(s) + restore_children(s);
	if (strcmp(s->method, "moved") == 0)
		return restore_moved(s) + restore_children(s);
	if (strcmp(s->object_type, "column") == 0)
		return restore_column(s);
	if (strcmp(s->method, "copied") == 0 &&
		strcmp(s->operation, "update") == 0)
		return restore_updated(s);
	if (strcmp(s->method, "copied") == 0)
		return restore_copied_table(s) + restore_children(s);
	if (strcmp(s->method, "state") == 0)
		return restore_sequence(s);
	if (strcmp(s->object_type, "partitioned table") == 0)
		return restore_partitioned(s);
	return restore_matview(s);
}

/*
 * restore_by_kind(), with a name another session took after restore
 * checked it was free (and committed while restore waited for its lock)
 * turned into restore's own refusal.
 */
static int64
restore_dispatch(MigsafeSnapshotRow *s)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile int64 count = 0;

	PG_TRY();
	{
		count = restore_by_kind(s);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();

		/*
		 * XXX: a name taken meanwhile shows only as a unique violation of the
		 * catalogs' name indexes, recognised by their names.  Should core
		 * rename them, such a race is reported as the raw error.
		 */
		if (edata->sqlerrcode != ERRCODE_UNIQUE_VIOLATION ||
			edata->constraint_name == NULL ||
			(strcmp(edata->constraint_name, "pg_class_relname_nsp_index") != 0 &&
			 strcmp(edata->constraint_name, "pg_type_typname_nsp_index") != 0))
			PG_RE_THROW();
		FlushErrorState();
		migsafe_rebuild_conflict(s, psprintf(_("A relation or type named like it, or like one of its indexes or sequences, was created in schema \"%s\" meanwhile."),
											 s->schema_name));
	}
	PG_END_TRY();
	return count;
}

/* Read snapshot id, locked against a concurrent restore or purge */
static MigsafeSnapshotRow *
read_snapshot(int64 id)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	List	   *rows;
	char	  **r;
	MigsafeSnapshotRow *s = palloc0(sizeof(MigsafeSnapshotRow));

	rows = migsafe_internal_rows("SELECT status, method, operation, object_type, object_identity,"
								 "       schema_name, relation_name, column_name, owner, storage,"
								 "       key_columns, row_count, definition, rows_estimated"
								 "  FROM migsafe.snapshots WHERE id OPERATOR(pg_catalog.=) $1 FOR UPDATE",
								 1, argtypes, values, 14);
	if (rows == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("migsafe snapshot " INT64_FORMAT " does not exist", id)));
	r = linitial(rows);
	s->id = id;
	s->status = r[0];
	s->method = r[1];
	s->operation = r[2];
	s->object_type = r[3];
	s->object_identity = r[4];
	s->schema_name = r[5];
	s->relation_name = r[6];
	s->column_name = r[7];
	s->owner = r[8];
	s->storage = r[9];
	s->key_columns = r[10];
	s->row_count = r[11] ? pg_strtoint64(r[11]) : 0;
	s->definition = r[12];
	s->rows_estimated = strcmp(r[13], "t") == 0;
	s->owner_oid = s->owner ? get_role_oid(s->owner, true) : InvalidOid;
	s->target = quote_qualified_identifier(s->schema_name, s->relation_name);
	return s;
}

/* Whether the user may restore or purge s: superuser, or the owner's member */
static bool
may_manage(MigsafeSnapshotRow *s, Oid userid)
{
	return superuser_arg(userid) ||
		(OidIsValid(s->owner_oid) && has_privs_of_role(userid, s->owner_oid));
}

/*
 * Refuse to restore s: a caller who may not, a snapshot no longer kept,
 * storage dropped outside migsafe.
 */
static void
check_restorable(MigsafeSnapshotRow *s, Oid caller)
{
	char	   *what = migsafe_rebuild_description(s);

	if (!may_manage(s, caller))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to restore migsafe snapshot " INT64_FORMAT, s->id),
				 errdetail("Only superusers and members of role \"%s\", the owner of \"%s\", may restore it.",
						   s->owner ? s->owner : "?", s->object_identity)));
	if (strcmp(s->status, "restored") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("migsafe snapshot " INT64_FORMAT " of %s was restored", s->id, what),
				 errdetail("Its data is no longer kept.")));
	if (strcmp(s->status, "purged") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("migsafe snapshot " INT64_FORMAT " of %s was purged", s->id, what),
				 errdetail("Its data is no longer kept.")));
	if (strcmp(s->status, "kept") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("migsafe snapshot " INT64_FORMAT " of %s was evicted", s->id, what),
				 errdetail("Its data is no longer kept.")));
	if (s->storage != NULL &&
		!OidIsValid(get_namespace_oid(migsafe_storage_schema(s->id), true)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the data of migsafe snapshot " INT64_FORMAT " is gone", s->id),
				 errdetail("Its schema was dropped outside migsafe.")));
}

/*
 * The condition, on snapshots p and s of one transaction, that p kept a
 * parent of the table s kept (a partitioned table or an inheritance
 * parent): by OID when both recorded it, by name for snapshots taken
 * before they did.
 */
#define PARENT_OF_CONDITION \
	"(CASE WHEN p.definition OPERATOR(pg_catalog.?) 'relid'" \
	"       AND s.definition OPERATOR(pg_catalog.?) 'parents'" \
	"      THEN (s.definition OPERATOR(pg_catalog.->) 'parents')" \
	"           OPERATOR(pg_catalog.@>) (p.definition OPERATOR(pg_catalog.->) 'relid')" \
	"      ELSE pg_catalog.format('%I.%I', p.schema_name, p.relation_name)" \
	"           OPERATOR(pg_catalog.=) (s.definition OPERATOR(pg_catalog.->>) 'partition_of') END)"

/*
 * The kept snapshot of the parent (partitioned table or inheritance
 * parent) of s's table, when the same transaction dropped both and the
 * parent is not back: restoring s then restores the whole tree from its
 * root, whatever the order in which the snapshots are restored.  0 when
 * there is none.
 */
static int64
tree_snapshot(MigsafeSnapshotRow *s)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(s->id)};
	char	   *parent;

	if (s->column_name != NULL || strcmp(s->operation, "drop") != 0)
		return 0;
	parent = migsafe_internal_value("SELECT p.id FROM migsafe.snapshots p, migsafe.snapshots s"
									" WHERE s.id OPERATOR(pg_catalog.=) $1"
									"   AND p.xid OPERATOR(pg_catalog.=) s.xid"
									"   AND p.id OPERATOR(pg_catalog.<>) s.id"
									"   AND p.status OPERATOR(pg_catalog.=) 'kept'"
									"   AND p.operation OPERATOR(pg_catalog.=) 'drop'"
									"   AND p.column_name IS NULL"
									"   AND " PARENT_OF_CONDITION
									"   AND pg_catalog.to_regclass(pg_catalog.format('%I.%I', p.schema_name, p.relation_name)) IS NULL"
									" ORDER BY p.id DESC LIMIT 1",
									1, argtypes, values);
	return parent ? pg_strtoint64(parent) : 0;
}

/* Whether snapshot id is still kept */
static bool
still_kept(int64 id)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	char	   *status = migsafe_internal_value("SELECT status FROM migsafe.snapshots"
												" WHERE id OPERATOR(pg_catalog.=) $1",
												1, argtypes, values);

	return status != NULL && strcmp(status, "kept") == 0;
}

/*
 * Restore the kept snapshots of the tables dropped with s's table, in the
 * same transaction, that were its partitions or inheritance children: a
 * tree comes back whole.  Returns the rows they put back.
 */
static int64
restore_children(MigsafeSnapshotRow *s)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(s->id)};
	List	   *children;
	ListCell   *lc;
	int64		count = 0;

	if (s->column_name != NULL || strcmp(s->operation, "drop") != 0)
		return 0;
	children = migsafe_internal_rows("SELECT s.id FROM migsafe.snapshots p, migsafe.snapshots s"
									 " WHERE p.id OPERATOR(pg_catalog.=) $1"
									 "   AND s.xid OPERATOR(pg_catalog.=) p.xid"
									 "   AND s.id OPERATOR(pg_catalog.<>) p.id"
									 "   AND s.status OPERATOR(pg_catalog.=) 'kept'"
									 "   AND s.operation OPERATOR(pg_catalog.=) 'drop'"
									 "   AND s.column_name IS NULL"
									 "   AND " PARENT_OF_CONDITION
									 " ORDER BY s.id",
									 1, argtypes, values, 1);
	foreach(lc, children)
	{
		int64		id = pg_strtoint64(((char **) lfirst(lc))[0]);

		/* restored meanwhile as a child of an earlier one */
		if (!still_kept(id))
			continue;
		count += migsafe_restore_snapshot(id, "RESTORE", NULL);
	}
	return count;
}

/*
 * migsafe_restore_snapshot
 *
 * Restore snapshot id in the current transaction, as migsafe_restore()
 * says, into what re-created the object if something did (refill.c).
 * tag is the audit row's command tag ("RESTORE", "UNDO"), why (or NULL)
 * a sentence for its detail saying what asked for it.  Returns the number
 * of rows (or column values) put back.  Raises an error, having changed
 * nothing, when the caller may not restore it or something is in the way.
 */
int64
migsafe_restore_snapshot(int64 id, const char *tag, const char *why)
{
	MigsafeInternal state;
	MigsafeSnapshotRow *s;
	int64		count = 0;
	Oid			caller = GetUserId();
	Oid			nspid;
	const char *lend;
	int64		tree = 0;

	migsafe_internal_begin(&state);
	PG_TRY();
	{
		SPI_connect();
		s = read_snapshot(id);
		check_restorable(s, caller);
		tree = tree_snapshot(s);
	}
	PG_CATCH();
	{
		migsafe_internal_abort(&state);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (tree > 0)
	{
		SPI_finish();
		migsafe_internal_end(&state);
		return migsafe_restore_snapshot(tree, tag, why);
	}
	PG_TRY();
	{
		s->runner = OidIsValid(s->owner_oid) ? s->owner_oid : caller;
		s->refill = migsafe_refill_applies(s);

		/*
		 * The owner reads the storage to put the rows back, also when its
		 * privileges on it went since (DROP OWNED revokes them).
		 */
		if (s->storage != NULL)
		{
			const char *nsp = quote_identifier(migsafe_storage_schema(id));
			const char *role = quote_identifier(GetUserNameFromId(s->runner, false));

			migsafe_internal_run(psprintf("GRANT USAGE ON SCHEMA %s TO %s", nsp, role));
			migsafe_internal_run(psprintf("GRANT SELECT ON ALL TABLES IN SCHEMA %s TO %s",
										  nsp, role));
		}

		/*
		 * The owner runs the statements that put data back into its schema:
		 * if it may no longer use it or create in it (DROP OWNED revoked
		 * that), it may for this restore only.
		 */
		nspid = get_namespace_oid(s->schema_name, true);
		lend = NULL;

		/*
		 * Into an existing object the owner writes with the privileges it
		 * has: nothing is lent.
		 */
		if (s->refill)
			nspid = InvalidOid;
		if (OidIsValid(nspid) &&
			migsafe_namespace_aclcheck(nspid, s->runner, ACL_USAGE) != ACLCHECK_OK)
			lend = "USAGE";
		if (OidIsValid(nspid) &&
			migsafe_namespace_aclcheck(nspid, s->runner, ACL_CREATE) != ACLCHECK_OK)
			lend = lend ? "USAGE, CREATE" : "CREATE";
		if (lend)
			migsafe_internal_run(psprintf("GRANT %s ON SCHEMA %s TO %s", lend,
										  quote_identifier(s->schema_name),
										  quote_identifier(GetUserNameFromId(s->runner, false))));

		count = restore_dispatch(s);

		if (lend)
			migsafe_internal_run(psprintf("REVOKE %s ON SCHEMA %s FROM %s", lend,
										  quote_identifier(s->schema_name),
										  quote_identifier(GetUserNameFromId(s->runner, false))));
		if (strcmp(s->operation, "truncate") == 0 ||
			strcmp(s->operation, "delete") == 0 ||
			strcmp(s->operation, "update") == 0)
			(void) migsafe_storage_drop(s->id);
		{
			Oid			argtypes[1] = {INT8OID};
			Datum		values[1] = {Int64GetDatum(id)};

			if (migsafe_internal_exec("UPDATE migsafe.snapshots SET status = 'restored',"
									  " status_changed_at = pg_catalog.clock_timestamp(),"
									  " status_changed_by = pg_catalog.session_user()"
									  " WHERE id OPERATOR(pg_catalog.=) $1",
									  1, argtypes, values, NULL, 0) != SPI_OK_UPDATE)
				elog(ERROR, "could not mark migsafe snapshot " INT64_FORMAT, id);
		}
		migsafe_audit_event(tag, id, s->object_type, s->object_identity,
							psprintf("Snapshot " INT64_FORMAT " restored%s: %s" INT64_FORMAT " %s put back.%s%s",
									 id,
									 s->refill ? " into the existing object" : "",
									 strcmp(s->method, "moved") == 0 &&
									 strcmp(s->operation, "drop") == 0 &&
									 s->rows_estimated && !s->refill ? "about " : "",
									 count,
									 strcmp(s->object_type, "column") == 0 ? "values" : "rows",
									 why ? " " : "", why ? why : ""));
		SPI_finish();
	}
	PG_CATCH();
	{
		migsafe_internal_abort(&state);
		PG_RE_THROW();
	}
	PG_END_TRY();
	migsafe_internal_end(&state);
	return count;
}

PG_FUNCTION_INFO_V1(migsafe_restore);

/*
 * migsafe_restore
 *
 * SQL function migsafe.restore(snapshot_id bigint): put back what the
 * snapshot kept, in the current transaction.  Returns the number of rows
 * (or column values) put back.  Superusers and members of the original
 * object's owner may restore; a snapshot is restored once.
 */
Datum
migsafe_restore(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(migsafe_restore_snapshot(PG_GETARG_INT64(0), "RESTORE", NULL));
}

/*
 * pick_in_path
 *
 * Among the kept snapshots of one relation name in SPI_tuptable (columns
 * id, schema_name; newest first), the one a name without schema means:
 * the first schema of search_path holding one wins, as for a table name;
 * outside search_path the name must be unique.
 */
static uint64
pick_in_path(const char *rel)
{
	char	   *first = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	List	   *path = fetch_search_path(false);
	ListCell   *lc;
	uint64		i;

	foreach(lc, path)
	{
		char	   *name = get_namespace_name(lfirst_oid(lc));

		for (i = 0; name != NULL && i < SPI_processed; i++)
			if (strcmp(name, SPI_getvalue(SPI_tuptable->vals[i],
										  SPI_tuptable->tupdesc, 2)) == 0)
				return i;
	}
	for (i = 1; i < SPI_processed; i++)
		if (strcmp(first, SPI_getvalue(SPI_tuptable->vals[i],
									   SPI_tuptable->tupdesc, 2)) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_AMBIGUOUS_PARAMETER),
					 errmsg("snapshots of \"%s\" exist in more than one schema", rel),
					 errhint("Qualify the name with its schema.")));
	return 0;
}

/*
 * snapshot_of_name
 *
 * The newest kept snapshot of a table, sequence or materialized view
 * ("schema.name") or of a column ("schema.table.column"), quoted as in
 * SQL.  A name without schema is looked up along search_path.
 */
static int64
snapshot_of_name(const char *name)
{
	List	   *names = migsafe_string_to_qualified_name_list(name);
	const char *nsp = NULL;
	const char *rel = NULL;
	const char *col = NULL;
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	int64		id = 0;

	if (list_length(names) < 1 || list_length(names) > 3)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid object name \"%s\"", name),
				 errhint("Name a table as schema.table, or a column as schema.table.column.")));
	if (list_length(names) == 1)
		rel = strVal(linitial(names));
	else
	{
		nsp = strVal(linitial(names));
		rel = strVal(lsecond(names));
		col = list_length(names) == 3 ? strVal(lthird(names)) : NULL;
	}

	values[0] = nsp ? CStringGetTextDatum(nsp) : (Datum) 0;
	nulls[0] = nsp ? ' ' : 'n';
	values[1] = CStringGetTextDatum(rel);
	values[2] = col ? CStringGetTextDatum(col) : (Datum) 0;
	nulls[2] = col ? ' ' : 'n';
	SPI_connect();
	if (migsafe_internal_exec("SELECT id, schema_name FROM migsafe.snapshots"
							  " WHERE status OPERATOR(pg_catalog.=) 'kept'"
							  "   AND ($1 IS NULL OR schema_name OPERATOR(pg_catalog.=) $1)"
							  "   AND relation_name OPERATOR(pg_catalog.=) $2"
							  "   AND column_name IS NOT DISTINCT FROM $3"
							  " ORDER BY id DESC",
							  3, argtypes, values, nulls, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read migsafe.snapshots");
	if (SPI_processed > 0)
		id = pg_strtoint64(SPI_getvalue(SPI_tuptable->vals[nsp ? 0 : pick_in_path(rel)],
										SPI_tuptable->tupdesc, 1));
	SPI_finish();
	if (id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("migsafe keeps no snapshot of \"%s\"", name),
				 errhint("See SELECT * FROM migsafe.snapshots WHERE status = 'kept'.")));
	return id;
}

/* Whether a string is a snapshot id written as digits */
static bool
is_snapshot_id(const char *s)
{
	const char *p = s;

	while (isdigit((unsigned char) *p))
		p++;
	return p != s && *p == '\0';
}

PG_FUNCTION_INFO_V1(migsafe_restore_by_name);

/*
 * migsafe_restore_by_name
 *
 * SQL function migsafe.restore(object_name text) of version 1.0: restore
 * the newest kept snapshot of an object named as snapshot_of_name() says.
 * Kept for databases that have not run ALTER EXTENSION migsafe UPDATE.
 */
Datum
migsafe_restore_by_name(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(migsafe_restore_snapshot(snapshot_of_name(text_to_cstring(PG_GETARG_TEXT_PP(0))),
											 "RESTORE", NULL));
}

PG_FUNCTION_INFO_V1(migsafe_restore_1_1);

/*
 * migsafe_restore_1_1
 *
 * SQL function migsafe.restore(object_name text) from version 1.1: a
 * string of digits is a snapshot id ('42', which SQL resolves to this
 * overload rather than the bigint one), anything else a name as for
 * migsafe_restore_by_name().  An unquoted SQL identifier cannot start with
 * a digit, so no name is taken for an id: a relation named 42 is '"42"'.
 */
Datum
migsafe_restore_1_1(PG_FUNCTION_ARGS)
{
	char	   *arg = text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (is_snapshot_id(arg))
		PG_RETURN_INT64(migsafe_restore_snapshot(pg_strtoint64(arg), "RESTORE", NULL));
	PG_RETURN_INT64(migsafe_restore_snapshot(snapshot_of_name(arg), "RESTORE", NULL));
}

PG_FUNCTION_INFO_V1(migsafe_purge_snapshots);

/*
 * migsafe_purge_snapshots
 *
 * SQL function migsafe.purge_snapshots(older_than interval DEFAULT NULL):
 * drop the kept snapshots older than the interval (NULL: older than
 * migsafe.snapshot_retention, or none when that is 0).  Superusers purge
 * any, other roles the snapshots of objects their roles own.  Each purge
 * is audited.  Returns how many were purged.
 */
Datum
migsafe_purge_snapshots(PG_FUNCTION_ARGS)
{
	MigsafeInternal state;
	Oid			caller = GetUserId();
	Datum		older_than;
	List	   *ids = NIL;
	ListCell   *lc;
	int			purged = 0;

	if (PG_ARGISNULL(0))
	{
		if (migsafe_snapshot_retention <= 0)
			PG_RETURN_INT32(0);
		older_than = migsafe_storage_retention();
	}
	else
		older_than = PG_GETARG_DATUM(0);

	migsafe_internal_begin(&state);
	PG_TRY();
	{
		SPI_connect();
		ids = migsafe_storage_expired(older_than, false);
		foreach(lc, ids)
		{
			int64		id = pg_strtoint64(lfirst(lc));
			MigsafeSnapshotRow *s = read_snapshot(id);

			if (!may_manage(s, caller))
				continue;
			if (migsafe_storage_retire(id, "purged", "PURGE SNAPSHOT",
									   "purged by migsafe.purge_snapshots()"))
				purged++;
		}
		SPI_finish();
	}
	PG_CATCH();
	{
		migsafe_internal_abort(&state);
		PG_RE_THROW();
	}
	PG_END_TRY();
	migsafe_internal_end(&state);
	PG_RETURN_INT32(purged);
}
