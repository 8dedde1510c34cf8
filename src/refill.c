/*-------------------------------------------------------------------------
 *
 * refill.c
 *	  Restoring into what a down migration re-created: a dropped column's
 *	  values onto the rows of the column added again, a dropped table's
 *	  rows into the table created again, a dropped sequence's value into
 *	  the sequence created again.
 *
 * A migration tool's rollback (Django's migrate to the previous step,
 * alembic downgrade, node-pg-migrate down) re-creates what the deploy
 * dropped, empty.  restore.c hands a snapshot here when the object it
 * would otherwise create exists (migsafe_refill_applies()).  The data goes
 * only where the object holds none:
 *
 *	- a column gets a kept value on a row (found by the key the snapshot
 *	  recorded) only where it is NULL, already equal, or holds the value
 *	  its re-creation put on every existing row (ADD COLUMN ... DEFAULT,
 *	  as PostgreSQL remembers it in pg_attribute.attmissingval: Django
 *	  adds a NOT NULL column with DEFAULT '' and drops the default);
 *	- a table gets the kept rows when it is empty, or when none of their
 *	  primary key values is there;
 *	- values must convert to the type the object has now without loss.
 *
 * Everything is checked, under a lock that keeps writers out, before
 * anything is written; whatever is in the way is refused with MS004,
 * naming the rows or columns.  Rows written since the deploy are never
 * written.  Sequences move forward past the values put back, never back.
 *
 * Every statement that reads or writes the user's table runs as the
 * snapshot's runner (the original's owner, whose member the caller is),
 * with that role's privileges: nothing is lent to it, and the table's
 * data is never read as a superuser.  Runs inside restore's internal
 * section, connected to SPI.
 *
 * Calls rebuild.c, storage.c and internal.c.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/refill.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "migsafe.h"
#include "internal.h"
#include "rebuild.h"
#include "refill.h"
#include "storage.h"

/* A refusal names at most this many rows */
#define MAX_NAMED_ROWS	10

/* What query_body() runs */
typedef struct MigsafeQueryArgs
{
	Oid			role;
	const char *sql;
	int			ncols;
	List	   *rows;
} MigsafeQueryArgs;

/* A query as role, with the guard on for the code it may run */
static void
query_body(void *arg)
{
	MigsafeQueryArgs *a = arg;
	volatile int depth;

	migsafe_internal_as_user(a->role);
	depth = migsafe_internal_suspend();
	PG_TRY();
	{
		a->rows = migsafe_internal_rows(a->sql, 0, NULL, NULL, a->ncols);
	}
	PG_FINALLY();
	{
		migsafe_internal_resume(depth);
	}
	PG_END_TRY();
	migsafe_internal_as_user(InvalidOid);
}

/*
 * The rows of a query run as role.  With edata, in a subtransaction: an
 * error is returned there (NULL on success) instead of raised.
 */
static List *
query_as(Oid role, const char *sql, int ncols, ErrorData **edata)
{
	MigsafeQueryArgs args = {role, sql, ncols, NIL};

	if (edata == NULL)
	{
		query_body(&args);
		return args.rows;
	}
	*edata = migsafe_internal_subxact(query_body, &args, true);
	if (*edata != NULL)
		migsafe_internal_as_user(InvalidOid);
	return args.rows;
}

/*
 * "a, b, c and 4 more" from rows of (label, total count); *total gets the
 * count.
 */
static char *
named_rows(List *rows, int64 *total)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	*total = 0;
	foreach(lc, rows)
	{
		char	  **r = lfirst(lc);

		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "", r[0]);
		*total = pg_strtoint64(r[1]);
	}
	if (*total > list_length(rows))
		appendStringInfo(&buf, _(" and %lld more"),
						 (long long) (*total - list_length(rows)));
	return buf.data;
}

/*
 * The label of a row of the copy (alias s) in messages, as SQL: by its
 * key columns (quoted names) "(id)=(3)", or without a key the whole row.
 * order gets an ORDER BY list to go with it.
 */
static char *
row_label(List *keys, StringInfo order)
{
	StringInfoData names;
	StringInfoData values;
	ListCell   *lc;

	if (keys == NIL)
	{
		appendStringInfoString(order, "1");
		return "ROW(s.*)::pg_catalog.text";
	}
	initStringInfo(&names);
	initStringInfo(&values);
	foreach(lc, keys)
	{
		appendStringInfo(&names, "%s%s", names.len > 0 ? ", " : "",
						 (char *) lfirst(lc));
		appendStringInfo(&values, "%ss.%s", values.len > 0 ? ", " : "",
						 (char *) lfirst(lc));
	}
	appendStringInfoString(order, values.data);
	return psprintf("%s OPERATOR(pg_catalog.||) ROW(%s)::pg_catalog.text",
					quote_literal_cstr(psprintf("(%s)=", names.data)),
					values.data);
}

/* The key columns a column snapshot recorded, quoted, or NIL */
static List *
snapshot_key(MigsafeSnapshotRow *s)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	List	   *rows;
	List	   *keys = NIL;
	ListCell   *lc;

	if (s->key_columns == NULL)
		return NIL;
	values[0] = CStringGetTextDatum(s->key_columns);
	rows = migsafe_internal_rows("SELECT pg_catalog.quote_ident(k)"
								 "  FROM pg_catalog.unnest($1::pg_catalog.name[]) WITH ORDINALITY u(k, n)"
								 " ORDER BY n",
								 1, argtypes, values, 1);
	foreach(lc, rows)
		keys = lappend(keys, ((char **) lfirst(lc))[0]);
	return keys;
}

/*
 * Refuse, with 42501, when the runner may not write the existing relation
 * (mode on the table, or on column attnum if given): the data goes in with
 * the privileges the owner of the original has on what is there now.
 */
static void
check_privilege(MigsafeSnapshotRow *s, Oid relid, AttrNumber attnum,
				AclMode mode)
{
	if (pg_class_aclcheck(relid, s->runner, mode) == ACLCHECK_OK)
		return;
	if (attnum != InvalidAttrNumber &&
		pg_attribute_aclcheck(relid, attnum, s->runner, mode) == ACLCHECK_OK)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to restore migsafe snapshot " INT64_FORMAT " into \"%s.%s\"",
					s->id, s->schema_name, s->relation_name),
			 errdetail("Role \"%s\", which restores it, has no %s privilege on \"%s.%s\"%s.",
					   GetUserNameFromId(s->runner, false),
					   mode == ACL_INSERT ? "INSERT" : "UPDATE",
					   s->schema_name, s->relation_name,
					   attnum != InvalidAttrNumber ? " or on the column" : "")));
}

/*
 * check_lossless
 *
 * Refuse when the kept values of column col (quoted) would not come back
 * unchanged as type, the column's type in the table now: each must cast
 * to it and read back the same as text.  label and order name the rows.
 * Nothing to check when the copy has that type already.
 */
static void
check_lossless(MigsafeSnapshotRow *s, const char *name, const char *type,
			   const char *label, const char *order)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2] = {CStringGetTextDatum(s->storage), CStringGetTextDatum(name)};
	char	   *kept;
	const char *col = quote_identifier(name);
	List	   *rows;
	ErrorData  *edata;
	int64		total;
	char	   *list;

	kept = migsafe_internal_value("SELECT pg_catalog.format_type(a.atttypid, a.atttypmod)"
								  "  FROM pg_catalog.pg_attribute a"
								  " WHERE a.attrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass"
								  "   AND a.attname OPERATOR(pg_catalog.=) $2 AND NOT a.attisdropped",
								  2, argtypes, values);
	if (kept == NULL || strcmp(kept, type) == 0)
		return;
	rows = query_as(s->runner,
					psprintf("SELECT %s, pg_catalog.count(*) OVER () FROM %s s"
							 " WHERE s.%s IS NOT NULL"
							 "   AND (s.%s::%s)::pg_catalog.text IS DISTINCT FROM s.%s::pg_catalog.text"
							 " ORDER BY %s LIMIT %d",
							 label, s->storage, col, col, type, col, order,
							 MAX_NAMED_ROWS),
					2, &edata);
	if (edata != NULL)
		migsafe_rebuild_conflict(s, psprintf(_("The kept values of column \"%s\" do not convert to %s, its type in \"%s.%s\" now: %s."),
											 name, type, s->schema_name, s->relation_name,
											 edata->message));
	if (rows == NIL)
		return;
	list = named_rows(rows, &total);
	migsafe_rebuild_conflict(s, psprintf(ngettext("Column \"%s\" of \"%s.%s\" is of type %s now, and the kept value of %lld row would not come back unchanged: %s.",
												  "Column \"%s\" of \"%s.%s\" is of type %s now, and the kept values of %lld rows would not come back unchanged: %s.",
												  (unsigned long) total),
										 name, s->schema_name, s->relation_name, type,
										 (long long) total, list));
}

/*
 * The value the column's re-creation put on every row that existed then
 * (ADD COLUMN with a default: pg_attribute.attmissingval), as text, or
 * NULL when PostgreSQL does not know it (no default, or the table was
 * rewritten since).  *notnull gets attnotnull.  The output function is a
 * type's, installed by a superuser.
 */
static char *
recreation_value(Oid relid, AttrNumber attnum, bool *notnull)
{
	HeapTuple	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid),
									  Int16GetDatum(attnum));
	Form_pg_attribute att;
	char	   *result = NULL;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for attribute %d of relation %u",
			 attnum, relid);
	att = (Form_pg_attribute) GETSTRUCT(tup);
	*notnull = att->attnotnull;
	if (att->atthasmissing)
	{
		bool		isnull;
		Datum		d = SysCacheGetAttr(ATTNUM, tup, Anum_pg_attribute_attmissingval,
										&isnull);

		if (!isnull)
		{
			Datum	   *elems;
			bool	   *nulls;
			int			n;
			Oid			output;
			bool		varlena;

			deconstruct_array(DatumGetArrayTypeP(d), att->atttypid, att->attlen,
							  att->attbyval, att->attalign, &elems, &nulls, &n);
			if (n == 1 && !nulls[0])
			{
				getTypeOutputInfo(att->atttypid, &output, &varlena);
				result = OidOutputFunctionCall(output, elems[0]);
			}
		}
	}
	ReleaseSysCache(tup);
	return result;
}

/*
 * Move the sequences of the table's columns (identity, serial; one column
 * if only is set) forward past the largest value in it, as the runner;
 * a sequence is never moved back.  A failure is a WARNING.
 */
static void
advance_sequences(MigsafeSnapshotRow *s, Oid relid, const char *only)
{
	Oid			argtypes[3] = {OIDOID, TEXTOID, TEXTOID};
	Datum		values[3] = {ObjectIdGetDatum(relid), CStringGetTextDatum(s->target),
	CStringGetTextDatum(only ? only : "")};
	List	   *rows;
	ListCell   *lc;

	rows = migsafe_internal_rows("SELECT pg_catalog.quote_ident(a.attname),"
								 "       pg_catalog.pg_get_serial_sequence($2, a.attname)"
								 "  FROM pg_catalog.pg_attribute a"
								 " WHERE a.attrelid OPERATOR(pg_catalog.=) $1"
								 "   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
								 "   AND ($3 OPERATOR(pg_catalog.=) '' OR a.attname OPERATOR(pg_catalog.=) $3)"
								 " ORDER BY a.attnum",
								 3, argtypes, values, 2);
	foreach(lc, rows)
	{
		char	  **r = lfirst(lc);
		const char *seq;

		if (r[1] == NULL)
			continue;
		seq = quote_literal_cstr(r[1]);
		migsafe_rebuild_try_as(s->runner,
							   psprintf("SELECT pg_catalog.setval(%s, x.m, true)"
										"  FROM (SELECT pg_catalog.max(t.%s)::pg_catalog.int8 AS m FROM %s t) x,"
										"       pg_catalog.pg_sequence q"
										" WHERE q.seqrelid OPERATOR(pg_catalog.=) %s::pg_catalog.regclass"
										"   AND q.seqincrement OPERATOR(pg_catalog.>) 0"
										"   AND x.m OPERATOR(pg_catalog.>) COALESCE(pg_catalog.pg_sequence_last_value(q.seqrelid),"
										"                                           q.seqstart OPERATOR(pg_catalog.-) 1)",
										seq, r[0], s->target, seq),
							   gettext_noop("a sequence's value"), s);
	}
}

/*
 * refill_column
 *
 * A dropped column that a down migration added again: its kept values go
 * back onto their rows, by key, where the column is NULL or holds the
 * value its re-creation put there.  Returns the number of values written.
 */
static int64
refill_column(MigsafeSnapshotRow *s, Oid relid)
{
	AttrNumber	attnum = get_attnum(relid, s->column_name);
	const char *col = quote_identifier(s->column_name);
	Oid			curtype;
	int32		curtypmod;
	Oid			curcoll;
	char	   *type;
	StringInfoData order;
	char	   *label;
	char	   *match;
	List	   *enable;
	char	   *filler;
	char	   *refilled;
	bool		notnull;
	List	   *rows;
	int64		total;
	char	   *list;
	int64		count = 0;
	ErrorData  *edata;

	check_privilege(s, relid, attnum, ACL_UPDATE);
	/* no writer changes the rows between the checks and the UPDATE */
	LockRelationOid(relid, ShareRowExclusiveLock);

	get_atttypetypmodcoll(relid, attnum, &curtype, &curtypmod, &curcoll);
	type = format_type_with_typemod(curtype, curtypmod);
	initStringInfo(&order);
	label = row_label(snapshot_key(s), &order);
	check_lossless(s, s->column_name, type, label, order.data);
	match = migsafe_rebuild_match_condition(s, relid);

	/* a value of its own (not NULL, not the re-creation's, not the kept one) */
	filler = recreation_value(relid, attnum, &notnull);
	rows = query_as(s->runner,
					psprintf("SELECT %s, pg_catalog.count(*) OVER () FROM %s t, %s s"
							 " WHERE %s AND t.%s IS NOT NULL"
							 "   AND t.%s::pg_catalog.text IS DISTINCT FROM (s.%s::%s)::pg_catalog.text%s%s"
							 " ORDER BY %s LIMIT %d",
							 label, s->target, s->storage, match, col,
							 col, col, type,
							 filler ? psprintf(" AND t.%s::pg_catalog.text OPERATOR(pg_catalog.<>) ", col) : "",
							 filler ? quote_literal_cstr(filler) : "",
							 order.data, MAX_NAMED_ROWS),
					2, NULL);
	if (rows != NIL)
	{
		list = named_rows(rows, &total);
		migsafe_rebuild_conflict_hint(s,
									  psprintf(ngettext("Column \"%s\" of \"%s.%s\" already holds a value other than the kept one on %lld row: %s.",
														"Column \"%s\" of \"%s.%s\" already holds values other than the kept ones on %lld rows: %s.",
														(unsigned long) total),
											   s->column_name, s->schema_name, s->relation_name,
											   (long long) total, list),
									  psprintf(_("Nothing was changed.  If those values may go, set them to NULL and restore again; the kept values are readable in %s."),
											   s->storage));
	}

	/* a kept NULL cannot replace the re-creation's value in a NOT NULL column */
	if (notnull)
	{
		rows = query_as(s->runner,
						psprintf("SELECT %s, pg_catalog.count(*) OVER () FROM %s t, %s s"
								 " WHERE %s AND s.%s IS NULL AND t.%s IS NOT NULL"
								 " ORDER BY %s LIMIT %d",
								 label, s->target, s->storage, match, col, col,
								 order.data, MAX_NAMED_ROWS),
						2, NULL);
		if (rows != NIL)
		{
			list = named_rows(rows, &total);
			migsafe_rebuild_conflict_hint(s,
										  psprintf(ngettext("Column \"%s\" of \"%s.%s\" is NOT NULL now, and the snapshot keeps NULL for it on %lld row: %s.",
															"Column \"%s\" of \"%s.%s\" is NOT NULL now, and the snapshot keeps NULL for it on %lld rows: %s.",
															(unsigned long) total),
												   s->column_name, s->schema_name, s->relation_name,
												   (long long) total, list),
										  psprintf(_("Nothing was changed.  Allow NULL in the column and restore again, or put the values back by hand from %s."),
												   s->storage));
		}
	}

	/*
	 * Only where the column is NULL or the re-creation's value, again: the
	 * checks above ran under the lock, this keeps the statement itself from
	 * ever overwriting a value of its own.  It runs with the caller's
	 * search_path (rebuild.c), so every operator is qualified.
	 */
	refilled = psprintf("(t.%s IS NULL AND s.%s IS NOT NULL)", col, col);
	if (filler)
		refilled = psprintf("(%s OR (t.%s::pg_catalog.text OPERATOR(pg_catalog.=) %s"
							" AND ((s.%s::%s)::pg_catalog.text OPERATOR(pg_catalog.<>) %s) IS NOT FALSE))",
							refilled, col, quote_literal_cstr(filler),
							col, type, quote_literal_cstr(filler));
	enable = migsafe_rebuild_triggers_off(s, relid, TRIGGER_TYPE_UPDATE);
	edata = migsafe_rebuild_run_in_subxact(s->runner,
										   psprintf("UPDATE %s t SET %s = s.%s::%s FROM %s s WHERE %s AND %s",
													s->target, col, col, type, s->storage,
													match, refilled),
										   &count);
	migsafe_rebuild_triggers_on(s, enable);
	if (edata != NULL)
	{
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION)
			ReThrowError(edata);
		migsafe_rebuild_conflict(s, psprintf(_("The kept values do not fit column \"%s\" of \"%s.%s\": %s%s%s"),
											 s->column_name, s->schema_name, s->relation_name,
											 edata->message, edata->detail ? ". " : ".",
											 edata->detail ? edata->detail : ""));
	}
	advance_sequences(s, relid, s->column_name);
	return count;
}

/*
 * The primary key of the table now, as quoted names, with the name of
 * the first of them missing from the copy in *missing (or NULL).
 */
static List *
primary_key(MigsafeSnapshotRow *s, Oid relid, char **missing)
{
	Oid			argtypes[2] = {OIDOID, TEXTOID};
	Datum		values[2] = {ObjectIdGetDatum(relid), CStringGetTextDatum(s->storage)};
	List	   *rows;
	List	   *keys = NIL;
	ListCell   *lc;

	*missing = NULL;
	rows = migsafe_internal_rows("SELECT pg_catalog.quote_ident(a.attname), a.attname,"
								 "       EXISTS (SELECT FROM pg_catalog.pg_attribute c"
								 "                WHERE c.attrelid OPERATOR(pg_catalog.=) $2::pg_catalog.regclass"
								 "                  AND c.attname OPERATOR(pg_catalog.=) a.attname"
								 "                  AND NOT c.attisdropped)"
								 "  FROM pg_catalog.pg_index i"
								 "  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid"
								 "       AND a.attnum OPERATOR(pg_catalog.=) ANY (i.indkey::pg_catalog.int2[])"
								 " WHERE i.indrelid OPERATOR(pg_catalog.=) $1 AND i.indisprimary"
								 " ORDER BY pg_catalog.array_position(i.indkey::pg_catalog.int2[], a.attnum)",
								 2, argtypes, values, 3);
	foreach(lc, rows)
	{
		char	  **r = lfirst(lc);

		keys = lappend(keys, r[0]);
		if (*missing == NULL && strcmp(r[2], "t") != 0)
			*missing = r[1];
	}
	return keys;
}

/*
 * refill_table
 *
 * A dropped table that a down migration created again: the kept rows go
 * into it, when it is empty or none of their keys is there.  Returns the
 * number of rows.
 */
static int64
refill_table(MigsafeSnapshotRow *s, Oid relid)
{
	char		relkind = get_rel_relkind(relid);
	List	   *cols;
	List	   *keys;
	char	   *missing;
	StringInfoData order;
	char	   *label;
	ListCell   *lc;
	List	   *enable;
	List	   *rows;
	StringInfoData insert_cols;
	StringInfoData exprs;
	int64		count = 0;
	ErrorData  *edata;

	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		migsafe_rebuild_conflict(s, psprintf(_("Relation \"%s.%s\" exists and is not a table."),
											 s->schema_name, s->relation_name));
	check_privilege(s, relid, InvalidAttrNumber, ACL_INSERT);
	LockRelationOid(relid, ShareRowExclusiveLock);

	/* every kept column is there (generated ones are computed again) */
	cols = migsafe_rebuild_kept_columns(s, relid);
	foreach(lc, cols)
	{
		char	  **r = lfirst(lc);

		if (r[1] == NULL)
			migsafe_rebuild_conflict(s, psprintf(_("Table \"%s.%s\" has no column \"%s\", which the kept rows have."),
												 s->schema_name, s->relation_name, r[0]));
	}

	keys = primary_key(s, relid, &missing);
	initStringInfo(&order);
	label = row_label(missing == NULL ? keys : NIL, &order);
	foreach(lc, cols)
	{
		char	  **r = lfirst(lc);

		if (r[2][0] == '\0')
			check_lossless(s, r[0], r[1], label, order.data);
	}

	/* rows there already: the kept rows' keys must be absent */
	rows = query_as(s->runner, psprintf("SELECT EXISTS (SELECT FROM %s)", s->target), 1, NULL);
	if (strcmp(((char **) linitial(rows))[0], "t") == 0)
	{
		StringInfoData cond;
		int64		total;
		char	   *list;

		if (keys == NIL)
			migsafe_rebuild_conflict(s, psprintf(_("Table \"%s.%s\" has rows and no primary key: whether the kept rows are among them cannot be told."),
												 s->schema_name, s->relation_name));
		if (missing != NULL)
			migsafe_rebuild_conflict(s, psprintf(_("Table \"%s.%s\" has rows, and the kept rows have no column \"%s\" of its primary key."),
												 s->schema_name, s->relation_name, missing));
		initStringInfo(&cond);
		foreach(lc, keys)
			appendStringInfo(&cond, "%st.%s OPERATOR(pg_catalog.=) s.%s",
							 cond.len > 0 ? " AND " : "",
							 (char *) lfirst(lc), (char *) lfirst(lc));
		rows = query_as(s->runner,
						psprintf("SELECT %s, pg_catalog.count(*) OVER () FROM %s s"
								 " WHERE EXISTS (SELECT FROM %s t WHERE %s)"
								 " ORDER BY %s LIMIT %d",
								 label, s->storage, s->target, cond.data,
								 order.data, MAX_NAMED_ROWS),
						2, NULL);
		if (rows != NIL)
		{
			list = named_rows(rows, &total);
			migsafe_rebuild_conflict_hint(s,
										  psprintf(ngettext("Table \"%s.%s\" already has a row with the key of %lld kept row: %s.",
															"Table \"%s.%s\" already has rows with the keys of %lld kept rows: %s.",
															(unsigned long) total),
												   s->schema_name, s->relation_name,
												   (long long) total, list),
										  psprintf(_("Nothing was changed.  If those rows may go, delete them and restore again; the kept rows are readable in %s."),
												   s->storage));
		}
	}

	initStringInfo(&insert_cols);
	initStringInfo(&exprs);
	migsafe_rebuild_copy_lists(s, relid, &insert_cols, &exprs);
	enable = migsafe_rebuild_triggers_off(s, relid, TRIGGER_TYPE_INSERT);
	edata = migsafe_rebuild_run_in_subxact(s->runner,
										   psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s s",
													s->target, insert_cols.data, exprs.data,
													s->storage),
										   &count);
	migsafe_rebuild_triggers_on(s, enable);
	if (edata != NULL)
	{
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION)
			ReThrowError(edata);
		migsafe_rebuild_conflict(s, psprintf(_("The kept rows do not fit into \"%s.%s\": %s%s%s"),
											 s->schema_name, s->relation_name,
											 edata->message, edata->detail ? ". " : ".",
											 edata->detail ? edata->detail : ""));
	}
	advance_sequences(s, relid, NULL);
	return count;
}

/*
 * refill_sequence
 *
 * A dropped sequence created again: it moves forward to the value it had
 * (never back).  Returns 1 if it moved.
 */
static int64
refill_sequence(MigsafeSnapshotRow *s, Oid relid)
{
	List	   *rows;
	char	  **r;
	const char *seq = quote_literal_cstr(s->target);

	if (get_rel_relkind(relid) != RELKIND_SEQUENCE)
		migsafe_rebuild_conflict(s, psprintf(_("Relation \"%s.%s\" exists and is not a sequence."),
											 s->schema_name, s->relation_name));
	check_privilege(s, relid, InvalidAttrNumber, ACL_UPDATE);
	rows = migsafe_rebuild_definition_rows(s, "SELECT " SEQUENCE_FIELDS("($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'sequence')"), 8);
	r = linitial(rows);
	if (r[7] == NULL)
		return 0;
	migsafe_rebuild_run_as(s->runner,
						   psprintf("SELECT pg_catalog.setval(%s, %s, true) FROM pg_catalog.pg_sequence q"
									" WHERE q.seqrelid OPERATOR(pg_catalog.=) %s::pg_catalog.regclass"
									"   AND q.seqincrement OPERATOR(pg_catalog.>) 0"
									"   AND %s::pg_catalog.int8 OPERATOR(pg_catalog.>) COALESCE(pg_catalog.pg_sequence_last_value(q.seqrelid),"
									"                                 q.seqstart OPERATOR(pg_catalog.-) 1)",
									seq, r[7], seq, r[7]));
	return (int64) SPI_processed;
}

/*
 * migsafe_refill_applies
 *
 * Whether snapshot s goes into an existing object: it kept a dropped
 * column, table or sequence, and one of that name is there now.
 * (Partitioned tables and materialized views are created again only.)
 */
bool
migsafe_refill_applies(MigsafeSnapshotRow *s)
{
	Oid			nsp;
	Oid			relid;

	if (strcmp(s->operation, "drop") != 0 ||
		strcmp(s->object_type, "partitioned table") == 0 ||
		strcmp(s->object_type, "materialized view") == 0)
		return false;
	if (strcmp(s->object_type, "column") != 0 &&
		strcmp(s->method, "moved") != 0 && strcmp(s->method, "copied") != 0 &&
		strcmp(s->method, "state") != 0)
		return false;
	nsp = get_namespace_oid(s->schema_name, true);
	if (!OidIsValid(nsp))
		return false;
	relid = get_relname_relid(s->relation_name, nsp);
	if (!OidIsValid(relid))
		return false;
	if (strcmp(s->object_type, "column") == 0)
		return get_attnum(relid, s->column_name) != InvalidAttrNumber;
	return true;
}

/*
 * migsafe_refill
 *
 * Put what snapshot s kept into the object that re-created it (see the
 * file header), then drop the snapshot's storage.  Returns the number of
 * rows or values put back.  Raises MS004, having changed nothing, when
 * anything is in the way; 42501 when the runner may not write there.
 */
int64
migsafe_refill(MigsafeSnapshotRow *s)
{
	Oid			relid = migsafe_rebuild_existing_relation(s);
	int64		count;

	if (strcmp(s->object_type, "column") == 0)
		count = refill_column(s, relid);
	else if (strcmp(s->method, "state") == 0)
		return refill_sequence(s, relid);
	else
		count = refill_table(s, relid);
	(void) migsafe_storage_drop(s->id);
	return count;
}
