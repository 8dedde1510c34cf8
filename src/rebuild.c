/*-------------------------------------------------------------------------
 *
 * rebuild.c
 *	  Putting the parts of a restored table back: its columns, privileges,
 *	  triggers, policies, comments, constraints, indexes, sequences and
 *	  defaults, and the statements restore runs to do it.
 *
 * restore.c brings the data back; this file rebuilds what hangs off it,
 * from the definition the snapshot recorded (migsafe.snapshot_definition),
 * and refuses, with restore's own error (MS004), what would overwrite
 * anything.  Structural steps on migsafe's storage run as the bootstrap
 * superuser; every step that runs user code (casts back to the original
 * types, triggers, constraint checks, index expressions) runs as the owner
 * of the original object, with the guard on.  A part that cannot come
 * back (a constraint referencing a table gone since) is skipped with a
 * WARNING.  Everything runs inside restore's internal section, connected
 * to SPI.
 *
 * Calls only internal.c.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/rebuild.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_inherits.h"
#include "catalog/namespace.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "rewrite/prs2lock.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "migsafe.h"
#include "compat.h"
#include "internal.h"
#include "rebuild.h"

/* What migsafe_rebuild_run_in_subxact() runs */
typedef struct MigsafeRunArgs
{
	Oid			role;
	const char *sql;
	int64	   *processed;
} MigsafeRunArgs;

/*
 * Run sql as role (InvalidOid: the bootstrap superuser).  Statements run
 * as the object's owner may run the owner's code (triggers, casts,
 * constraint and index expressions), so the guard is back on for them:
 * whatever that code changes is decided and audited like any change.
 */
void
migsafe_rebuild_run_as(Oid role, const char *sql)
{
	volatile int depth = -1;
	volatile int level = 0;

	migsafe_internal_as_user(role);
	if (OidIsValid(role))
	{
		/* the owner's code finds its objects as the caller's session would */
		depth = migsafe_internal_suspend();
		level = NewGUCNestLevel();
		(void) set_config_option("search_path", migsafe_internal_caller_path(),
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	}
	PG_TRY();
	{
		migsafe_internal_run(sql);
	}
	PG_FINALLY();
	{
		if (depth >= 0)
			migsafe_internal_resume(depth);
	}
	PG_END_TRY();
	if (level > 0)
		AtEOXact_GUC(true, level);
	migsafe_internal_as_user(InvalidOid);
}

/*
 * migsafe_rebuild_run_as() with an approval of one object in force: restore's own
 * destructive step (a column changed back to its old type) goes through
 * the guard like any change, approved for that object only, and keeps a
 * snapshot of the values it converts.
 */
void
migsafe_rebuild_run_approved(Oid role, const char *approval, const char *sql)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("migsafe.approve", approval,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	migsafe_rebuild_run_as(role, sql);
	AtEOXact_GUC(true, level);
}

/* The statement of migsafe_rebuild_run_in_subxact(), in its subtransaction */
static void
run_body(void *arg)
{
	MigsafeRunArgs *a = arg;

	migsafe_rebuild_run_as(a->role, a->sql);
	if (a->processed)
		*a->processed = (int64) SPI_processed;
}

/*
 * Run sql as role in a subtransaction.  Returns NULL when it succeeded
 * (*processed gets SPI_processed, if given), or the error it raised, with
 * the subtransaction rolled back and the session as it was before.
 */
ErrorData  *
migsafe_rebuild_run_in_subxact(Oid role, const char *sql, int64 *processed)
{
	MigsafeRunArgs args = {role, sql, processed};
	ErrorData  *edata = migsafe_internal_subxact(run_body, &args, true);

	if (edata != NULL)
		migsafe_internal_as_user(InvalidOid);
	return edata;
}

/*
 * Run sql as role in a subtransaction; on error, WARN that what (a part
 * of the snapshot such as a constraint) could not be restored, and go on.
 */
void
migsafe_rebuild_try_as(Oid role, const char *sql, const char *what, MigsafeSnapshotRow *s)
{
	ErrorData  *edata = migsafe_rebuild_run_in_subxact(role, sql, NULL);

	if (edata != NULL)
		ereport(WARNING,
				(errmsg("could not restore %s of \"%s\": %s",
						_(what), s->object_identity, edata->message),
				 errdetail("The statement was: %s.", sql)));
}

/* Query the snapshot's definition (jsonb $1) */
List	   *
migsafe_rebuild_definition_rows(MigsafeSnapshotRow *s, const char *sql, int ncols)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(s->definition)};

	return migsafe_internal_rows(sql, 1, argtypes, values, ncols);
}

/*
 * migsafe_rebuild_description
 *
 * The object a snapshot kept, as messages name it, translated:
 * 'table "public.orders"', 'column "public.orders.note"'.
 */
char	   *
migsafe_rebuild_description(MigsafeSnapshotRow *s)
{
	const char *type = s->object_type;
	const char *name = s->object_identity;

	if (strcmp(type, "column") == 0)
		return psprintf(_("column \"%s\""), name);
	if (strcmp(type, "sequence") == 0)
		return psprintf(_("sequence \"%s\""), name);
	if (strcmp(type, "materialized view") == 0)
		return psprintf(_("materialized view \"%s\""), name);
	if (strcmp(type, "partitioned table") == 0)
		return psprintf(_("partitioned table \"%s\""), name);
	return psprintf(_("table \"%s\""), name);
}

/* The same, with its own hint */
void
migsafe_rebuild_conflict_hint(MigsafeSnapshotRow *s, const char *detail, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_MIGSAFE_RESTORE_CONFLICT),
			 errmsg("cannot restore migsafe snapshot " INT64_FORMAT " of %s",
					s->id, migsafe_rebuild_description(s)),
			 errdetail_internal("%s", detail),
			 errhint("%s", hint)));
}

/* The error a restore raises when it would overwrite something */
void
migsafe_rebuild_conflict(MigsafeSnapshotRow *s, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_MIGSAFE_RESTORE_CONFLICT),
			 errmsg("cannot restore migsafe snapshot " INT64_FORMAT " of %s",
					s->id, migsafe_rebuild_description(s)),
			 errdetail_internal("%s", detail),
			 errhint("Nothing was changed.  Rename or drop what is in the way, then restore again; the data stays readable in %s.",
					 s->storage ? s->storage : "migsafe.snapshots.definition")));
}

/* The original's schema, which must exist */
Oid
migsafe_rebuild_namespace(MigsafeSnapshotRow *s)
{
	Oid			nsp = get_namespace_oid(s->schema_name, true);

	if (!OidIsValid(nsp))
		migsafe_rebuild_conflict(s, psprintf(_("Schema \"%s\" does not exist."), s->schema_name));
	return nsp;
}

/* Refuse when a relation (or type) of that name exists in the schema */
void
migsafe_rebuild_check_name_free(MigsafeSnapshotRow *s, Oid nsp, const char *relname)
{
	if (OidIsValid(get_relname_relid(relname, nsp)))
		migsafe_rebuild_conflict(s, psprintf(_("Relation \"%s.%s\" already exists."),
											 s->schema_name, relname));
	if (OidIsValid(GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								   CStringGetDatum(relname),
								   ObjectIdGetDatum(nsp))))
		migsafe_rebuild_conflict(s, psprintf(_("Type \"%s.%s\" already exists."),
											 s->schema_name, relname));
}

/* The original relation, which must exist (truncate, column, restart) */
Oid
migsafe_rebuild_existing_relation(MigsafeSnapshotRow *s)
{
	Oid			relid = get_relname_relid(s->relation_name, migsafe_rebuild_namespace(s));

	if (!OidIsValid(relid))
		migsafe_rebuild_conflict(s, psprintf(_("Relation \"%s.%s\" does not exist any more."),
											 s->schema_name, s->relation_name));
	return relid;
}

/*
 * The type to restore a column as: its original type if it still exists,
 * else text (the value's text form, which the snapshot kept).
 */
char	   *
migsafe_rebuild_column_type(const char *type)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(type)};
	List	   *rows = migsafe_internal_rows("SELECT pg_catalog.to_regtype($1) IS NOT NULL",
											 1, argtypes, values, 1);

	if (strcmp(((char **) linitial(rows))[0], "t") == 0)
		return pstrdup(type);
	ereport(WARNING,
			(errmsg("type %s does not exist any more; the values are restored as text",
					type)));
	return pstrdup("text");
}

/*
 * GRANT statements from (grantee, privilege, grantable, on, columns) rows;
 * a privilege of a role dropped since is skipped with a WARNING, the
 * others are given back one by one.
 */
static void
grant_rows(MigsafeSnapshotRow *s, List *rows)
{
	ListCell   *lc;

	foreach(lc, rows)
	{
		char	  **r = lfirst(lc);
		bool		public = strcmp(r[0], "PUBLIC") == 0;

		if (!public && !OidIsValid(get_role_oid(r[0], true)))
		{
			ereport(WARNING,
					(errmsg("could not restore privilege %s of role \"%s\" on \"%s\": the role does not exist",
							r[1], r[0], s->object_identity)));
			continue;
		}
		migsafe_rebuild_try_as(InvalidOid,
							   psprintf("GRANT %s%s ON %s TO %s%s", r[1],
										r[4] ? psprintf(" (%s)", quote_identifier(r[4])) : "",
										r[3], public ? "PUBLIC" : quote_identifier(r[0]),
										strcmp(r[2], "true") == 0 ? " WITH GRANT OPTION" : ""),
							   gettext_noop("a privilege"), s);
	}
}

/* Give back the privileges the original had (table and columns) */
void
migsafe_rebuild_grants(MigsafeSnapshotRow *s, const char *kind)
{
	const char *on = psprintf("%s %s", kind, s->target);

	grant_rows(s, migsafe_rebuild_definition_rows(s, psprintf("SELECT g OPERATOR(pg_catalog.->>) 'grantee',"
															  "       g OPERATOR(pg_catalog.->>) 'privilege',"
															  "       g OPERATOR(pg_catalog.->>) 'grantable', %s, NULL"
															  "  FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'grants') g"
															  " UNION ALL"
															  " SELECT g OPERATOR(pg_catalog.->>) 'grantee',"
															  "       g OPERATOR(pg_catalog.->>) 'privilege',"
															  "       g OPERATOR(pg_catalog.->>) 'grantable', %s,"
															  "       c OPERATOR(pg_catalog.->>) 'name'"
															  "  FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'columns') c,"
															  "       pg_catalog.jsonb_array_elements(c OPERATOR(pg_catalog.->) 'grants') g",
															  quote_literal_cstr(on), quote_literal_cstr(on)),
												  5));
}

/* The privileges the table's own sequences had (serial, identity) */
void
migsafe_rebuild_sequence_grants(MigsafeSnapshotRow *s)
{
	grant_rows(s, migsafe_rebuild_definition_rows(s, "SELECT g OPERATOR(pg_catalog.->>) 'grantee',"
												  "       g OPERATOR(pg_catalog.->>) 'privilege',"
												  "       g OPERATOR(pg_catalog.->>) 'grantable',"
												  "       'SEQUENCE ' OPERATOR(pg_catalog.||) (q OPERATOR(pg_catalog.->>) 'name'), NULL"
												  "  FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'sequences') q,"
												  "       pg_catalog.jsonb_array_elements(q OPERATOR(pg_catalog.->) 'grants') g",
												  5));
}

/*
 * The triggers, row-level security and policies of a re-created table (a
 * moved table kept them; its row-level security was switched off while it
 * was kept, for its owner to read it whole).
 */
void
migsafe_rebuild_security(MigsafeSnapshotRow *s, bool moved)
{
	List	   *rows;
	ListCell   *lc;

	if (!moved)
	{
		rows = migsafe_rebuild_definition_rows(s, "SELECT t OPERATOR(pg_catalog.->>) 'definition', t OPERATOR(pg_catalog.->>) 'name',"
											   "       t OPERATOR(pg_catalog.->>) 'enabled'"
											   "  FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'triggers') t"
											   " UNION ALL"
											   " SELECT p OPERATOR(pg_catalog.->>) 'definition', NULL, NULL"
											   "  FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'policies') p", 3);
		foreach(lc, rows)
		{
			char	  **r = lfirst(lc);

			migsafe_rebuild_try_as(s->runner, r[0], r[1] ? gettext_noop("a trigger") : gettext_noop("a policy"), s);
			if (r[1] != NULL && strcmp(r[2], "O") != 0)
				migsafe_rebuild_try_as(s->runner,
									   psprintf("ALTER TABLE %s %s TRIGGER %s", s->target,
												strcmp(r[2], "D") == 0 ? "DISABLE" :
												strcmp(r[2], "A") == 0 ? "ENABLE ALWAYS" : "ENABLE REPLICA",
												quote_identifier(r[1])),
									   gettext_noop("a trigger's state"), s);
		}
	}
	rows = migsafe_rebuild_definition_rows(s, "SELECT $1::pg_catalog.jsonb OPERATOR(pg_catalog.->>) 'rls',"
										   "       $1::pg_catalog.jsonb OPERATOR(pg_catalog.->>) 'force_rls'", 2);
	if (strcmp(((char **) linitial(rows))[0], "true") == 0)
		migsafe_rebuild_try_as(s->runner, psprintf("ALTER TABLE %s ENABLE ROW LEVEL SECURITY", s->target),
							   gettext_noop("row-level security"), s);
	if (strcmp(((char **) linitial(rows))[1], "true") == 0)
		migsafe_rebuild_try_as(s->runner, psprintf("ALTER TABLE %s FORCE ROW LEVEL SECURITY", s->target),
							   gettext_noop("row-level security"), s);
}

/* Comments of the relation and its columns */
void
migsafe_rebuild_comments(MigsafeSnapshotRow *s, const char *kind)
{
	List	   *rows;
	ListCell   *lc;

	rows = migsafe_rebuild_definition_rows(s, "SELECT NULL, $1::pg_catalog.jsonb OPERATOR(pg_catalog.->>) 'comment'"
										   " WHERE $1::pg_catalog.jsonb ? 'comment'"
										   " UNION ALL"
										   " SELECT c OPERATOR(pg_catalog.->>) 'name', c OPERATOR(pg_catalog.->>) 'comment'"
										   "   FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'columns') c"
										   "  WHERE c ? 'comment'", 2);
	foreach(lc, rows)
	{
		char	  **r = lfirst(lc);

		if (r[0] == NULL)
			migsafe_rebuild_try_as(InvalidOid, psprintf("COMMENT ON %s %s IS %s", kind, s->target,
														quote_literal_cstr(r[1])),
								   gettext_noop("the comment"), s);
		else
			migsafe_rebuild_try_as(InvalidOid, psprintf("COMMENT ON COLUMN %s.%s IS %s", s->target,
														quote_identifier(r[0]),
														quote_literal_cstr(r[1])),
								   gettext_noop("a column comment"), s);
	}
}

/* Revoke what migsafe granted on its storage, and give the table back */
void
migsafe_rebuild_give_back(MigsafeSnapshotRow *s)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(s->target)};
	List	   *rows;

	rows = migsafe_internal_rows("SELECT pg_catalog.string_agg(DISTINCT CASE WHEN x.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'"
								 "       ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END, ', ')"
								 "  FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) x"
								 " WHERE c.oid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass"
								 "   AND x.grantee OPERATOR(pg_catalog.<>) c.relowner",
								 1, argtypes, values, 1);
	if (((char **) linitial(rows))[0] != NULL)
		migsafe_rebuild_run_as(InvalidOid, psprintf("REVOKE ALL ON TABLE %s FROM %s", s->target,
													((char **) linitial(rows))[0]));
	migsafe_rebuild_run_as(InvalidOid, psprintf("ALTER TABLE %s OWNER TO %s", s->target,
												quote_identifier(GetUserNameFromId(s->runner, false))));
}

/* Constraints (all, or foreign keys only) and indexes from the definition */
void
migsafe_rebuild_constraints(MigsafeSnapshotRow *s, Oid relid, bool fk_only)
{
	List	   *rows;
	ListCell   *lc;

	rows = migsafe_rebuild_definition_rows(s, "SELECT c OPERATOR(pg_catalog.->>) 'name', c OPERATOR(pg_catalog.->>) 'definition',"
										   "       c OPERATOR(pg_catalog.->>) 'type'"
										   "  FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'constraints') c", 3);
	foreach(lc, rows)
	{
		char	  **r = lfirst(lc);
		Oid			argtypes[2] = {OIDOID, TEXTOID};
		Datum		values[2] = {ObjectIdGetDatum(relid), CStringGetTextDatum(r[0])};

		if (fk_only && strcmp(r[2], "f") != 0)
			continue;
		/* already there (a moved table keeps all but its foreign keys) */
		if (migsafe_internal_rows("SELECT 1 FROM pg_catalog.pg_constraint"
								  " WHERE conrelid OPERATOR(pg_catalog.=) $1"
								  "   AND conname OPERATOR(pg_catalog.=) $2",
								  2, argtypes, values, 1) != NIL)
			continue;
		migsafe_rebuild_try_as(s->runner, psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s",
												   s->target, quote_identifier(r[0]), r[1]),
							   gettext_noop("a constraint"), s);
	}
	if (fk_only)
		return;
	migsafe_rebuild_indexes(s);
}

/*
 * The indexes (not backing constraints) and extended statistics of the
 * definition that do not exist: all of them for a re-created table; for a
 * moved one, those dropped when it was moved (their expressions would have
 * run as migsafe's superuser in ANALYZE and VACUUM).
 */
void
migsafe_rebuild_indexes(MigsafeSnapshotRow *s)
{
	List	   *rows;
	ListCell   *lc;
	const char *nsp = quote_literal_cstr(s->schema_name);

	rows = migsafe_rebuild_definition_rows(s, psprintf("SELECT i OPERATOR(pg_catalog.->>) 'definition', 'an index'"
													   "  FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'indexes') i"
													   " WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_class r"
													   "                    WHERE r.relname OPERATOR(pg_catalog.=) (i OPERATOR(pg_catalog.->>) 'name')"
													   "                      AND r.relnamespace OPERATOR(pg_catalog.=) %s::pg_catalog.regnamespace)"
													   " UNION ALL"
													   " SELECT x OPERATOR(pg_catalog.->>) 'definition', 'extended statistics'"
													   "  FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'statistics') x"
													   " WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_statistic_ext e"
													   "                    WHERE e.stxname OPERATOR(pg_catalog.=) (x OPERATOR(pg_catalog.->>) 'name')"
													   "                      AND e.stxnamespace OPERATOR(pg_catalog.=) %s::pg_catalog.regnamespace)",
													   nsp, nsp), 2);
	foreach(lc, rows)
		migsafe_rebuild_try_as(s->runner, ((char **) lfirst(lc))[0], ((char **) lfirst(lc))[1], s);
}

/* setval() of a sequence to a saved last_value (NULL: never called) */
char	   *
migsafe_rebuild_setval_sql(const char *seq, const char *last_value, const char *start)
{
	if (last_value != NULL)
		return psprintf("SELECT pg_catalog.setval(%s, %s, true)",
						quote_literal_cstr(seq), last_value);
	return psprintf("SELECT pg_catalog.setval(%s, %s, false)",
					quote_literal_cstr(seq), start);
}

/* CREATE SEQUENCE from a saved definition (keys of "sequence" or "sequences") */
char	   *
migsafe_rebuild_create_sequence_sql(const char *name, char **r)
{
	return psprintf("CREATE SEQUENCE %s AS %s INCREMENT %s MINVALUE %s MAXVALUE %s START %s CACHE %s %s",
					name, r[0], r[1], r[2], r[3], r[4], r[5],
					strcmp(r[6], "true") == 0 ? "CYCLE" : "NO CYCLE");
}

/*
 * The owned sequences of a re-created table: identity sequences get their
 * value back, serial sequences are created again (when the name is free)
 * and owned by their column.
 */
void
migsafe_rebuild_owned_sequences(MigsafeSnapshotRow *s, const char *only)
{
	List	   *rows;
	ListCell   *lc;

	rows = migsafe_rebuild_definition_rows(s, "SELECT " SEQUENCE_FIELDS("q") ","
										   " q OPERATOR(pg_catalog.->>) 'name', q OPERATOR(pg_catalog.->>) 'column',"
										   " q OPERATOR(pg_catalog.->>) 'identity'"
										   "  FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'sequences') q", 11);
	foreach(lc, rows)
	{
		char	  **r = lfirst(lc);

		if (only != NULL && strcmp(only, r[9]) != 0)
			continue;
		if (strcmp(r[10], "true") == 0)
		{
			char	   *seq = psprintf("pg_catalog.pg_get_serial_sequence(%s, %s)",
									   quote_literal_cstr(s->target),
									   quote_literal_cstr(r[9]));

			/* its options, which the column's definition does not carry */
			migsafe_rebuild_try_as(InvalidOid, psprintf("ALTER TABLE %s ALTER COLUMN %s"
														" SET INCREMENT BY %s SET MINVALUE %s"
														" SET MAXVALUE %s SET START WITH %s"
														" SET CACHE %s SET %s",
														s->target, quote_identifier(r[9]),
														r[1], r[2], r[3], r[4], r[5],
														strcmp(r[6], "true") == 0 ?
														"CYCLE" : "NO CYCLE"),
								   gettext_noop("an identity's options"), s);
			if (r[7] != NULL)
				migsafe_rebuild_try_as(InvalidOid, psprintf("SELECT pg_catalog.setval(%s, %s, true)",
															seq, r[7]),
									   gettext_noop("an identity's value"), s);
			continue;
		}
		migsafe_rebuild_try_as(InvalidOid, migsafe_rebuild_create_sequence_sql(r[8], r), gettext_noop("a sequence"), s);
		migsafe_rebuild_try_as(InvalidOid, migsafe_rebuild_setval_sql(r[8], r[7], r[4]), gettext_noop("a sequence's value"), s);
		migsafe_rebuild_try_as(InvalidOid, psprintf("ALTER SEQUENCE %s OWNER TO %s", r[8],
													quote_identifier(GetUserNameFromId(s->runner, false))),
							   gettext_noop("a sequence's owner"), s);
		migsafe_rebuild_try_as(InvalidOid, psprintf("ALTER SEQUENCE %s OWNED BY %s.%s", r[8],
													s->target, quote_identifier(r[9])),
							   gettext_noop("a sequence's owner"), s);
	}
}

/*
 * After truncated rows are back: the table's own sequences must not hand
 * out their values again (TRUNCATE ... RESTART IDENTITY reset them), so
 * each is moved up to at least the value it had when the snapshot was
 * taken.
 */
void
migsafe_rebuild_catch_up_sequences(MigsafeSnapshotRow *s)
{
	List	   *rows;
	ListCell   *lc;

	rows = migsafe_rebuild_definition_rows(s, "SELECT q OPERATOR(pg_catalog.->>) 'column', q OPERATOR(pg_catalog.->>) 'last_value'"
										   "  FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'sequences') q"
										   " WHERE q OPERATOR(pg_catalog.->>) 'last_value' IS NOT NULL", 2);
	foreach(lc, rows)
	{
		char	  **r = lfirst(lc);
		char	   *seq = psprintf("pg_catalog.pg_get_serial_sequence(%s, %s)",
								   quote_literal_cstr(s->target),
								   quote_literal_cstr(r[0]));

		migsafe_rebuild_try_as(s->runner,
							   psprintf("SELECT pg_catalog.setval(%s, pg_catalog.max(v), true)"
										"  FROM (SELECT %s::bigint AS v"
										"        UNION ALL SELECT pg_catalog.pg_sequence_last_value(%s::pg_catalog.regclass)) q"
										" WHERE %s IS NOT NULL",
										seq, r[1], seq, seq),
							   gettext_noop("a sequence's value"), s);
	}
}

/* Defaults of the columns, from the definition (all, or one column) */
void
migsafe_rebuild_defaults(MigsafeSnapshotRow *s, const char *only)
{
	List	   *rows;
	ListCell   *lc;

	rows = migsafe_rebuild_definition_rows(s, "SELECT c OPERATOR(pg_catalog.->>) 'name', c OPERATOR(pg_catalog.->>) 'default'"
										   "  FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'columns') c"
										   " WHERE c ? 'default'", 2);
	foreach(lc, rows)
	{
		char	  **r = lfirst(lc);

		if (only && strcmp(only, r[0]) != 0)
			continue;
		migsafe_rebuild_try_as(s->runner, psprintf("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s",
												   s->target, quote_identifier(r[0]), r[1]),
							   gettext_noop("a column default"), s);
	}
}

/* The column list of a table to create from the definition */
void
migsafe_rebuild_column_definitions(MigsafeSnapshotRow *s, StringInfo def)
{
	List	   *rows;
	ListCell   *lc;

	rows = migsafe_rebuild_definition_rows(s, "SELECT c OPERATOR(pg_catalog.->>) 'name', c OPERATOR(pg_catalog.->>) 'type',"
										   "       c OPERATOR(pg_catalog.->>) 'collation', c OPERATOR(pg_catalog.->>) 'notnull',"
										   "       c OPERATOR(pg_catalog.->>) 'identity', c OPERATOR(pg_catalog.->>) 'generated'"
										   "  FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'columns') c", 6);
	foreach(lc, rows)
	{
		char	  **r = lfirst(lc);
		char	   *type = migsafe_rebuild_column_type(r[1]);

		if (def->len > 0)
			appendStringInfoString(def, ", ");
		appendStringInfo(def, "%s %s", quote_identifier(r[0]), type);
		if (r[2] != NULL && strcmp(type, r[1]) == 0)
			appendStringInfo(def, " COLLATE %s", r[2]);
		if (strcmp(r[3], "true") == 0)
			appendStringInfoString(def, " NOT NULL");
		if (r[4] != NULL)
			appendStringInfo(def, " GENERATED %s AS IDENTITY",
							 strcmp(r[4], "a") == 0 ? "ALWAYS" : "BY DEFAULT");
		if (r[5] != NULL)
			appendStringInfo(def, " GENERATED ALWAYS AS (%s) STORED", r[5]);
	}
}

/*
 * migsafe_rebuild_copy_lists
 *
 * The insert list (cols) and select list (exprs, over the copy as "s")
 * that put a copy's rows back into the table relid, each value cast to
 * its column's type there; generated columns are left to be computed.
 * Refuses when the table lacks a column of the copy.
 */
/*
 * migsafe_rebuild_kept_columns
 *
 * The columns of a copy, in order, each as (name, its type in the table
 * relid or NULL when the table has no such column, attgenerated there):
 * what putting the kept rows back into relid needs to know.
 */
List	   *
migsafe_rebuild_kept_columns(MigsafeSnapshotRow *s, Oid relid)
{
	Oid			argtypes[2] = {TEXTOID, OIDOID};
	Datum		values[2] = {CStringGetTextDatum(s->storage), ObjectIdGetDatum(relid)};

	return migsafe_internal_rows("SELECT a.attname,"
								 "       pg_catalog.format_type(t.atttypid, t.atttypmod), t.attgenerated"
								 "  FROM pg_catalog.pg_attribute a"
								 "  LEFT JOIN pg_catalog.pg_attribute t ON t.attrelid OPERATOR(pg_catalog.=) $2"
								 "       AND t.attname OPERATOR(pg_catalog.=) a.attname AND NOT t.attisdropped"
								 " WHERE a.attrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass"
								 "   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
								 " ORDER BY a.attnum",
								 2, argtypes, values, 3);
}

void
migsafe_rebuild_copy_lists(MigsafeSnapshotRow *s, Oid relid, StringInfo cols, StringInfo exprs)
{
	ListCell   *lc;

	/* generated columns are computed again; every other must still be there */
	foreach(lc, migsafe_rebuild_kept_columns(s, relid))
	{
		char	  **r = lfirst(lc);
		const char *col = quote_identifier(r[0]);

		if (r[1] == NULL)
			migsafe_rebuild_conflict(s, psprintf(_("Table \"%s.%s\" has no column \"%s\" any more."),
												 s->schema_name, s->relation_name, r[0]));
		if (r[2][0] != '\0')
			continue;

		if (cols->len > 0)
		{
			appendStringInfoString(cols, ", ");
			appendStringInfoString(exprs, ", ");
		}
		appendStringInfoString(cols, col);
		appendStringInfo(exprs, "s.%s::%s", col, r[1]);
	}
}

/*
 * migsafe_rebuild_match_condition
 *
 * The condition matching a row of the table (t) with its row in a column
 * copy (s): by key, or when there was none by all other columns.  Refuses
 * when rows cannot be told apart.
 */
char	   *
migsafe_rebuild_match_condition(MigsafeSnapshotRow *s, Oid relid)
{
	Oid			argtypes[4] = {TEXTOID, OIDOID, TEXTOID, TEXTOID};
	Datum		values[4] = {CStringGetTextDatum(s->storage), ObjectIdGetDatum(relid),
		CStringGetTextDatum(s->column_name),
	CStringGetTextDatum(s->key_columns ? s->key_columns : "{}")};
	List	   *rows;
	ListCell   *lc;
	StringInfoData lhs;
	StringInfoData rhs;
	bool		keyed = s->key_columns != NULL;

	rows = migsafe_internal_rows("SELECT pg_catalog.quote_ident(a.attname),"
								 "       pg_catalog.format_type(t.atttypid, t.atttypmod)"
								 "  FROM pg_catalog.pg_attribute a"
								 "  JOIN pg_catalog.pg_attribute t ON t.attrelid OPERATOR(pg_catalog.=) $2"
								 "       AND t.attname OPERATOR(pg_catalog.=) a.attname AND NOT t.attisdropped"
								 " WHERE a.attrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass"
								 "   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
								 "   AND a.attname OPERATOR(pg_catalog.<>) $3"
								 "   AND (a.attname OPERATOR(pg_catalog.=) ANY ($4::pg_catalog.name[])"
								 "        OR pg_catalog.cardinality($4::pg_catalog.name[]) OPERATOR(pg_catalog.=) 0)"
								 " ORDER BY a.attnum",
								 4, argtypes, values, 2);
	if (rows == NIL)
		migsafe_rebuild_conflict(s, _("The table no longer has the columns that identify its rows in the snapshot."));
	initStringInfo(&lhs);
	initStringInfo(&rhs);
	foreach(lc, rows)
	{
		char	  **r = lfirst(lc);

		if (keyed)
		{
			if (lhs.len > 0)
				appendStringInfoString(&lhs, " AND ");
			appendStringInfo(&lhs, "t.%s = s.%s::%s", r[0], r[0], r[1]);
		}
		else
		{
			if (lhs.len > 0)
			{
				appendStringInfoString(&lhs, ", ");
				appendStringInfoString(&rhs, ", ");
			}
			appendStringInfo(&lhs, "t.%s", r[0]);
			appendStringInfo(&rhs, "s.%s::%s", r[0], r[1]);
		}
	}
	if (keyed)
		return lhs.data;

	/*
	 * Without a key, rows that are the same apart from the column must have
	 * had the same value in it: otherwise which value goes on which row
	 * cannot be told, and the restore refuses.
	 */
	{
		StringInfoData plain;

		initStringInfo(&plain);
		foreach(lc, rows)
			appendStringInfo(&plain, "%ss.%s", plain.len > 0 ? ", " : "",
							 ((char **) lfirst(lc))[0]);
		if (migsafe_internal_rows(psprintf("SELECT 1 FROM %s s GROUP BY ROW(%s)::text"
										   " HAVING count(DISTINCT ROW(s.%s)::text) > 1 LIMIT 1",
										   s->storage, plain.data,
										   quote_identifier(s->column_name)),
								  0, NULL, NULL, 1) != NIL)
			migsafe_rebuild_conflict_hint(s, psprintf(_("Table \"%s.%s\" has no key, and rows that are identical apart from column \"%s\" held different values in it."),
													  s->schema_name, s->relation_name, s->column_name),
										  psprintf("Nothing was changed.  Put the values back by hand from %s.",
												   s->storage));
	}
	return psprintf("ROW(%s)::text = ROW(%s)::text", lhs.data, rhs.data);
}

/* Back into its partitioned table or inheritance parents, if they exist */
void
migsafe_rebuild_attach_and_inherit(MigsafeSnapshotRow *s)
{
	List	   *rows;
	ListCell   *lc;

	rows = migsafe_rebuild_definition_rows(s, "SELECT $1::pg_catalog.jsonb OPERATOR(pg_catalog.->>) 'partition_of',"
										   "       $1::pg_catalog.jsonb OPERATOR(pg_catalog.->>) 'partition_bound'", 2);
	if (((char **) linitial(rows))[0] != NULL)
		migsafe_rebuild_try_as(s->runner, psprintf("ALTER TABLE %s ATTACH PARTITION %s %s",
												   ((char **) linitial(rows))[0], s->target,
												   ((char **) linitial(rows))[1]),
							   gettext_noop("the attachment to its partitioned table"), s);
	rows = migsafe_rebuild_definition_rows(s, "SELECT p FROM pg_catalog.jsonb_array_elements_text("
										   "$1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'inherits') p", 1);
	foreach(lc, rows)
		migsafe_rebuild_try_as(s->runner, psprintf("ALTER TABLE %s INHERIT %s", s->target,
												   ((char **) lfirst(lc))[0]),
							   gettext_noop("the inheritance from its parents"), s);
}

/* A user's trigger that restore disabled, and the state it had */
typedef struct TriggerState
{
	Oid			relid;
	char	   *name;
	char		enabled;
} TriggerState;

/* Set the state of trigger name of relid (see migsafe_rebuild_triggers_off) */
static void
set_trigger_state(Oid relid, const char *name, char state)
{
	Relation	rel = table_open(relid, NoLock);

	migsafe_set_trigger_state(rel, name, state, ShareRowExclusiveLock);
	table_close(rel, NoLock);
}

/*
 * migsafe_rebuild_triggers_off
 *
 * Disable the user's triggers that fire on the given events
 * (TRIGGER_TYPE_INSERT, TRIGGER_TYPE_UPDATE) and are enabled, on s's table
 * relid and the tables a write to it reaches (partitions, inheritance
 * children), while restore writes the kept values back: they are the
 * values that were kept, not values a BEFORE trigger sets (an updated_at
 * := now()) or rows an AFTER trigger records again, as pg_restore
 * --disable-triggers writes data.  Foreign-key checks and other internal
 * triggers stay on.  Each trigger is set on its own table, not through
 * ALTER TABLE, which would carry a partitioned table's state over to its
 * partitions and refuses a table with pending trigger events (a deferred
 * foreign key's checks).  A table with a rule on those events would send
 * the values elsewhere, or nowhere: restore refuses it (MS004).  Returns
 * what migsafe_rebuild_triggers_on() needs to set them back as they were
 * (a rollback does the same).
 */
List	   *
migsafe_rebuild_triggers_off(MigsafeSnapshotRow *s, Oid relid, int16 events)
{
	List	   *rels = find_all_inheritors(relid, ShareRowExclusiveLock, NULL);
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, rels)
	{
		Relation	rel = table_open(lfirst_oid(lc), NoLock);
		TriggerDesc *trigdesc = rel->trigdesc;
		RuleLock   *rules = rel->rd_rules;
		int			i;

		for (i = 0; rules != NULL && i < rules->numLocks; i++)
		{
			RewriteRule *rule = rules->rules[i];

			if ((rule->event == CMD_INSERT && (events & TRIGGER_TYPE_INSERT)) ||
				(rule->event == CMD_UPDATE && (events & TRIGGER_TYPE_UPDATE)))
			{
				char	   *relname = pstrdup(RelationGetRelationName(rel));

				table_close(rel, NoLock);
				migsafe_rebuild_conflict(s, psprintf(_("Table \"%s\" has a rule on %s: the kept values would not go into it as they were kept."),
													 relname,
													 rule->event == CMD_INSERT ? "INSERT" : "UPDATE"));
			}
		}
		for (i = 0; trigdesc != NULL && i < trigdesc->numtriggers; i++)
		{
			Trigger    *trig = &trigdesc->triggers[i];
			TriggerState *state;

			if (trig->tgisinternal || (trig->tgtype & events) == 0 ||
				trig->tgenabled == TRIGGER_DISABLED)
				continue;
			state = palloc(sizeof(TriggerState));
			state->relid = RelationGetRelid(rel);
			state->name = pstrdup(trig->tgname);
			state->enabled = trig->tgenabled;
			result = lappend(result, state);
		}
		table_close(rel, NoLock);
	}
	foreach(lc, result)
	{
		TriggerState *state = lfirst(lc);

		set_trigger_state(state->relid, state->name, TRIGGER_DISABLED);
	}
	CommandCounterIncrement();
	return result;
}

/* Set the triggers migsafe_rebuild_triggers_off() disabled back as they were */
void
migsafe_rebuild_triggers_on(MigsafeSnapshotRow *s, List *disabled)
{
	ListCell   *lc;

	foreach(lc, disabled)
	{
		TriggerState *state = lfirst(lc);

		set_trigger_state(state->relid, state->name, state->enabled);
	}
	CommandCounterIncrement();
}
