/*-------------------------------------------------------------------------
 *
 * findings.c
 *	  The preview's findings (one row of migsafe.check() each, with the
 *	  facts behind it) and what the preview knows of the script so far:
 *	  relations created, dropped and looked up, columns added, the
 *	  lock_timeout and approvals in force.
 *
 * A destructive finding is decided as the gate decides: approvals a
 * script sets are matched by approval.c, exemptions by the setting in
 * force.  Relations are looked up without a lock (lintdeps.c measures
 * them).
 *
 * Calls lintdeps.c, approval.c, catalog.c and classify.c.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/findings.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "migsafe.h"
#include "approval.h"
#include "catalog.h"
#include "classify.h"
#include "findings.h"

static int	filled_earlier(MigsafeLintState *st, RangeVar *rv);

/* ----------------------------------------------------------------
 * Findings
 * ----------------------------------------------------------------
 */

/* Whether a rule is switched off, per call or by migsafe.check_exclude */
static bool
excluded(MigsafeLintState *st, const char *rule)
{
	ListCell   *lc;

	foreach(lc, st->exclude)
		if (strcmp((char *) lfirst(lc), rule) == 0)
		return true;
	return false;
}

/* The lock_timeout in force for the statement (ms) and where it comes from */
static int
timeout_in_force(MigsafeLintState *st, const char **source)
{
	const char *reset;
	int			ms = 0;

	if (st->local_timeout >= 0)
	{
		*source = "SET LOCAL lock_timeout in the script";
		return st->local_timeout;
	}
	if (st->timeout >= 0 && st->local_timeout != -2)
	{
		*source = "SET lock_timeout in the script";
		return st->timeout;
	}
	reset = GetConfigOptionResetString("lock_timeout");
	if (reset != NULL && parse_int(reset, &ms, GUC_UNIT_MS, NULL) && ms > 0)
	{
		*source = "the server's lock_timeout";
		return ms;
	}
	if (migsafe_ddl_lock_timeout > 0)
	{
		*source = "migsafe.ddl_lock_timeout";
		return migsafe_ddl_lock_timeout;
	}
	*source = NULL;
	return 0;
}

/* Append "key": number or null */
void
migsafe_findings_json_num(StringInfo buf, const char *key, double value, bool isnull)
{
	appendStringInfo(buf, ", \"%s\": ", key);
	if (isnull)
		appendStringInfoString(buf, "null");
	else
		appendStringInfo(buf, "%.0f", value);
}

/* Append "key": "string" */
void
migsafe_findings_json_str(StringInfo buf, const char *key, const char *value)
{
	appendStringInfo(buf, ", \"%s\": ", key);
	if (value == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, value);
}

/*
 * finding
 *
 * Emit one finding for the statement being read.  rel (or NULL) is the
 * relation it is about; with lock given, the lock it takes there and the
 * lock_timeout in force are added to the message and the facts; rewrite
 * is 1 or 0 when known, -1 otherwise; extra is more facts ("key": value
 * pairs, each preceded by ", ") or NULL.
 */
void
migsafe_findings_emit(MigsafeLintState *st, const char *class, const char *rule, MigsafeLintRel *rel,
					  LOCKMODE lock, int rewrite, const char *extra, const char *message)
{
	StringInfoData facts;
	StringInfoData msg;
	Datum		values[7];
	bool		nulls[7] = {false};

	if (excluded(st, rule))
		return;

	initStringInfo(&msg);
	appendStringInfoString(&msg, message);
	initStringInfo(&facts);
	appendStringInfoString(&facts, "{\"rule\": ");
	escape_json(&facts, rule);
	if (rel != NULL)
	{
		migsafe_lintdeps_measure(rel);
		migsafe_findings_json_str(&facts, "relation", rel->name);
		migsafe_findings_json_str(&facts, "relkind", rel->relkind ? psprintf("%c", rel->relkind) : NULL);
		appendStringInfo(&facts, ", \"new\": %s", rel->created ? "true" : "false");
		migsafe_findings_json_num(&facts, "rows", rel->rows, rel->rows < 0);
		appendStringInfo(&facts, ", \"rows_exact\": %s", rel->rows_exact ? "true" : "false");
		migsafe_findings_json_num(&facts, "bytes", (double) rel->bytes, rel->bytes < 0);
	}
	if (lock != NoLock)
	{
		const char *source;
		int			ms = timeout_in_force(st, &source);

		migsafe_findings_json_str(&facts, "lock", migsafe_classify_lock_name(lock));
		migsafe_findings_json_str(&facts, "blocks", migsafe_classify_lock_blocks(lock));
		migsafe_findings_json_num(&facts, "lock_timeout_ms", ms, false);
		migsafe_findings_json_str(&facts, "lock_timeout_source", source);
		if (rel != NULL)
		{
			const char *name = migsafe_classify_lock_name(lock);

			appendStringInfo(&msg, " It takes %s %s lock on \"%s\", which %s",
							 name[0] == 'A' || name[0] == 'E' ? "an" : "a",
							 name, rel->name, migsafe_classify_lock_blocks(lock));
			if (ms > 0 && ms % 1000 == 0)
				appendStringInfo(&msg, ", waiting at most %d s for it (%s).",
								 ms / 1000, source);
			else if (ms > 0)
				appendStringInfo(&msg, ", waiting at most %d ms for it (%s).",
								 ms, source);
			else
				appendStringInfoString(&msg, ", with no lock_timeout in force: while it waits for the lock, every query on the table queues behind it.");
		}
	}
	if (rewrite >= 0)
		appendStringInfo(&facts, ", \"rewrite\": %s", rewrite ? "true" : "false");
	if (extra != NULL)
		appendStringInfoString(&facts, extra);
	appendStringInfoChar(&facts, '}');

	values[0] = Int32GetDatum(st->stmt->number);
	values[1] = Int32GetDatum(st->stmt->line);
	values[2] = CStringGetTextDatum(st->stmt->text);
	values[3] = CStringGetTextDatum(class);
	values[4] = CStringGetTextDatum(rule);
	values[5] = CStringGetTextDatum(msg.data);
	values[6] = DirectFunctionCall1(jsonb_in, CStringGetDatum(facts.data));
	tuplestore_putvalues(st->tupstore, st->tupdesc, values, nulls);
}

/*
 * destroys
 *
 * A finding for data the statement destroys: class destructive, unless an
 * approval the script set covers it (as the gate would match it), or
 * migsafe.exempt does, or it holds nothing (created by the script), then
 * advice.  attname is the column, or NULL for the relation itself.
 */
void
migsafe_findings_destroys(MigsafeLintState *st, const char *rule, MigsafeLintRel *rel, const char *attname,
						  LOCKMODE lock, int rewrite, const char *what, const char *safer)
{
	MigsafeTarget t;
	const char *approve = st->local_approve ? st->local_approve : st->approve;
	char	   *matched = NULL;
	char	   *exempt = NULL;
	char	   *ident;
	StringInfoData msg;
	StringInfoData extra;

	if (rel->created && rel->filled == 0)
		return;					/* new in this script: nothing to lose */
	migsafe_lintdeps_measure(rel);

	memset(&t, 0, sizeof(t));
	t.classid = RelationRelationId;
	t.objid = rel->relid;
	t.relkind = rel->relkind;
	t.nspname = rel->nspname;
	t.relname = rel->relname;
	t.attname = (char *) attname;
	if (attname != NULL && OidIsValid(rel->relid))
		t.subid = get_attnum(rel->relid, attname);
	t.protected = OidIsValid(rel->relid) &&
		migsafe_catalog_is_migsafe_object(RelationRelationId, rel->relid, NULL);
	if (OidIsValid(rel->relid))
	{
		matched = migsafe_approval_match_value(approve, &t);
		exempt = migsafe_approval_match(MIGSAFE_SETTING_EXEMPT, &t);
	}
	else
		matched = migsafe_approval_value_names(approve, rel->nspname,
											   rel->relname, attname);
	ident = attname ?
		psprintf("%s.%s", quote_qualified_identifier(rel->nspname, rel->relname),
				 quote_identifier(attname)) :
		(char *) quote_qualified_identifier(rel->nspname, rel->relname);

	initStringInfo(&msg);
	if (rel->relkind == RELKIND_SEQUENCE)
		appendStringInfo(&msg, "%s.", what);
	else
		appendStringInfo(&msg, "%s %s.", what, migsafe_lintdeps_rows_phrase(rel));
	initStringInfo(&extra);
	migsafe_findings_json_str(&extra, "column", attname);
	migsafe_findings_json_str(&extra, "approval", ident);
	if (matched != NULL)
	{
		appendStringInfo(&msg, " Approved by migsafe.approve item '%s' earlier in the script: migsafe lets it run and keeps a snapshot first.",
						 matched);
		migsafe_findings_json_str(&extra, "approved_by", matched);
		migsafe_findings_emit(st, MIGSAFE_CLASS_ADVICE, rule, rel, lock, rewrite, extra.data, msg.data);
	}
	else if (migsafe_allow_empty && !t.protected &&
			 rel->relkind != RELKIND_SEQUENCE &&
			 ((rel->rows == 0 && rel->rows_exact) ||
			  (t.subid > 0 && migsafe_lintdeps_column_empty(rel, t.subid))))
	{
		appendStringInfoString(&msg, rel->rows == 0 ? " migsafe lets it run without approval (migsafe.allow_empty), after checking under its lock that it is still empty." :
							   " The column holds no value (all NULL): migsafe lets it run without approval (migsafe.allow_empty), after checking under its lock that it still holds none.");
		migsafe_findings_emit(st, MIGSAFE_CLASS_ADVICE, rule, rel, lock, rewrite, extra.data, msg.data);
	}
	else if (exempt != NULL && !t.protected)
	{
		appendStringInfo(&msg, " migsafe.exempt names it ('%s'): the change runs without approval and without a snapshot.",
						 exempt);
		migsafe_findings_json_str(&extra, "exempt_by", exempt);
		migsafe_findings_emit(st, MIGSAFE_CLASS_ADVICE, rule, rel, lock, rewrite, extra.data, msg.data);
	}
	else
	{
		appendStringInfo(&msg, " migsafe refuses it unless the transaction approves it with SET LOCAL migsafe.approve = '%s' (a snapshot is kept). %s",
						 ident, safer);
		migsafe_findings_emit(st, MIGSAFE_CLASS_DESTRUCTIVE, rule, rel, lock, rewrite, extra.data, msg.data);
	}
}

/* ----------------------------------------------------------------
 * What the script did so far
 * ----------------------------------------------------------------
 */

/* The key a relation name is remembered under: "schema.name" or "name" */
char	   *
migsafe_findings_key(const char *nspname, const char *relname)
{
	return nspname ? psprintf("%s.%s", nspname, relname) : pstrdup(relname);
}

/* Whether a list of keys holds the name, qualified or not */
bool
migsafe_findings_names(List *keys, RangeVar *rv)
{
	ListCell   *lc;

	foreach(lc, keys)
	{
		const char *key = lfirst(lc);
		const char *dot = strrchr(key, '.');

		if (rv->schemaname != NULL && strcmp(key, migsafe_findings_key(rv->schemaname, rv->relname)) == 0)
			return true;
		if (strcmp(dot ? dot + 1 : key, rv->relname) == 0 &&
			(rv->schemaname == NULL || dot == NULL))
			return true;
	}
	return false;
}

/*
 * lookup
 *
 * What the preview knows of the relation a statement names: created
 * earlier in the script (new, empty), dropped earlier (gone), or as the
 * database has it (looked up without a lock).  Returns NULL for a
 * relation that exists nowhere.
 */
MigsafeLintRel *
migsafe_findings_lookup(MigsafeLintState *st, RangeVar *rv)
{
	Oid			relid;
	int			i;

	if (rv == NULL)
		return NULL;
	for (i = list_length(st->renamed) - 1; i >= 0; i--)
	{
		MigsafeLintRename *r = list_nth(st->renamed, i);

		if (migsafe_findings_names(list_make1(r->key), rv))
			return migsafe_lintdeps_rel(&st->rels, r->relid);
	}
	if (migsafe_findings_names(st->created, rv))
	{
		MigsafeLintRel *rel = migsafe_lintdeps_new_rel(&st->rels, rv->schemaname,
													   rv->relname);

		rel->filled = filled_earlier(st, rv);
		if (rel->filled > 0)
		{
			rel->rows = -1;
			rel->rows_exact = false;
			if (rel->nspname == NULL)
			{
				/* where it was created: the approval must name its schema */
				List	   *path = fetch_search_path(false);

				if (path != NIL)
					rel->nspname = get_namespace_name(linitial_oid(path));
				if (rel->nspname != NULL)
					rel->name = psprintf("%s.%s", rel->nspname, rel->relname);
			}
		}
		return rel;
	}
	if (migsafe_findings_names(st->dropped, rv))
		return NULL;
	relid = RangeVarGetRelidExtended(rv, NoLock, RVR_MISSING_OK, NULL, NULL);
	if (!OidIsValid(relid))
		return NULL;
	return migsafe_lintdeps_rel(&st->rels, relid);
}

/*
 * migsafe_findings_moved
 *
 * Remember that the script renamed or moved relation rel (named from) to
 * nspname.relname (nspname NULL: the same schema as before): later
 * statements naming it reach the same relation, and its data.
 */
void
migsafe_findings_moved(MigsafeLintState *st, RangeVar *from,
					   MigsafeLintRel *rel, const char *nspname,
					   const char *relname)
{
	char	   *oldkey = migsafe_findings_key(from->schemaname, from->relname);
	char	   *newkey = migsafe_findings_key(nspname ? nspname : from->schemaname,
											  relname);
	MigsafeLintRename *r;

	if (rel->created)
	{
		st->created = migsafe_findings_forget(st->created, oldkey);
		st->created = lappend(st->created, newkey);
		return;
	}
	st->dropped = lappend(st->dropped, oldkey);
	r = palloc(sizeof(MigsafeLintRename));
	r->key = newkey;
	r->relid = rel->relid;
	st->renamed = lappend(st->renamed, r);
}

/*
 * migsafe_findings_column
 *
 * The name in the database of the column a statement calls attname,
 * following the script's RENAME COLUMNs.
 */
const char *
migsafe_findings_column(MigsafeLintState *st, MigsafeLintRel *rel,
						const char *attname)
{
	char	   *key = psprintf("%s.%s", rel->relname, attname);
	int			i;

	for (i = list_length(st->renamed_columns) - 2; i >= 0; i -= 2)
		if (strcmp(list_nth(st->renamed_columns, i), key) == 0)
			return list_nth(st->renamed_columns, i + 1);
	return attname;
}

/* Remember a RENAME COLUMN of the script */
void
migsafe_findings_column_renamed(MigsafeLintState *st, MigsafeLintRel *rel,
								const char *from, const char *to)
{
	st->renamed_columns = lappend(st->renamed_columns,
								  psprintf("%s.%s", rel->relname, to));
	st->renamed_columns = lappend(st->renamed_columns,
								  pstrdup(migsafe_findings_column(st, rel, from)));
}

/* A list of keys without the given one */
List	   *
migsafe_findings_forget(List *keys, const char *key)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, keys)
		if (strcmp(lfirst(lc), key) != 0)
		result = lappend(result, lfirst(lc));
	return result;
}

/* Whether the script added this column earlier, with or without values */
bool
migsafe_findings_added_column(MigsafeLintState *st, MigsafeLintRel *rel,
							  const char *attname)
{
	char	   *key = psprintf("%s.%s", rel->relname, attname);
	ListCell   *lc;

	foreach(lc, st->added_columns)
		if (strcmp(lfirst(lc), key) == 0)
			return true;
	return false;
}

/* Whether the script added this column earlier */
bool
migsafe_findings_new_column(MigsafeLintState *st, MigsafeLintRel *rel, const char *attname)
{
	char	   *key;
	ListCell   *lc;

	if (rel->created && rel->filled == 0)
		return true;
	key = psprintf("%s.%s", rel->relname, attname);
	foreach(lc, st->new_columns)
		if (strcmp(lfirst(lc), key) == 0)
		return true;
	return false;
}

/* Remember a relation the statement creates; true if it exists already */
bool
migsafe_findings_creates(MigsafeLintState *st, RangeVar *rv)
{
	bool		exists;
	char	   *key;

	if (rv == NULL)
		return false;
	exists = migsafe_findings_lookup(st, rv) != NULL;
	key = migsafe_findings_key(rv->schemaname, rv->relname);
	st->created = lappend(st->created, key);
	st->created_xact = lappend(st->created_xact, key);
	return exists;
}

/*
 * migsafe_findings_fills
 *
 * Remember that the statement may write rows into a relation the script
 * created (rv), or into any of them (rv NULL: a DO block, CALL or
 * EXECUTE may write anywhere).  Such a relation stops being "new and
 * empty" for the gate once its transaction has ended: destroying it later
 * takes an approval, as for any table with data.
 */
void
migsafe_findings_fills(MigsafeLintState *st, RangeVar *rv)
{
	ListCell   *lc;

	foreach(lc, st->created)
	{
		char	   *key = lfirst(lc);
		MigsafeLintFilled *f;

		if (rv != NULL && !migsafe_findings_names(list_make1(key), rv))
			continue;
		f = palloc(sizeof(MigsafeLintFilled));
		f->key = key;
		f->number = st->stmt->number;
		st->filled = lappend(st->filled, f);
	}
}

/*
 * migsafe_findings_end_statement
 *
 * After each statement: outside an explicit transaction block, the
 * statement was a transaction of its own, and what it created is no
 * longer "created in this transaction" for the next one.
 */
void
migsafe_findings_end_statement(MigsafeLintState *st)
{
	if (!st->in_xact)
		st->created_xact = NIL;
}

/*
 * The statement that may have written rows into a relation the script
 * created in an earlier transaction, or 0: the gate lets a table created
 * in the same transaction, or empty, go without an approval.
 */
static int
filled_earlier(MigsafeLintState *st, RangeVar *rv)
{
	int			i;

	if (migsafe_findings_names(st->created_xact, rv))
		return 0;
	for (i = list_length(st->filled) - 1; i >= 0; i--)
	{
		MigsafeLintFilled *f = list_nth(st->filled, i);

		if (migsafe_findings_names(list_make1(f->key), rv))
			return f->number;
	}
	return 0;
}

/* A finding for CREATE of something that is there already */
void
migsafe_findings_exists(MigsafeLintState *st, const char *noun, const char *name)
{
	migsafe_findings_emit(st, MIGSAFE_CLASS_BREAKING, "object_already_exists", NULL, NoLock, -1, NULL,
						  psprintf("%s \"%s\" already exists in this database: the statement fails and the migration stops. Write CREATE ... IF NOT EXISTS (or CREATE OR REPLACE) so that a re-run succeeds, or check that the migration was not applied already.",
								   noun, name));
}

/* ----------------------------------------------------------------
 * Rules
 * ----------------------------------------------------------------
 */

/* Whether a relation has rows, or may have (unknown counts as rows) */
bool
migsafe_findings_has_rows(MigsafeLintRel *rel)
{
	if (rel == NULL)
		return false;
	if (rel->created)
		return rel->filled > 0;
	migsafe_lintdeps_measure(rel);
	return rel->rows != 0;
}

/* ACCESS EXCLUSIVE on a table with rows and no lock_timeout in force */
void
migsafe_findings_lock_timeout(MigsafeLintState *st, MigsafeLintRel *rel, LOCKMODE lock)
{
	const char *source;

	if (rel == NULL || rel->created || lock < AccessExclusiveLock ||
		timeout_in_force(st, &source) > 0)
		return;
	migsafe_findings_emit(st, MIGSAFE_CLASS_LOCKING, "require_lock_timeout", rel, lock, -1, NULL,
						  "Set a lock_timeout first (SET LOCAL lock_timeout = '5s', or migsafe.ddl_lock_timeout on the server) and retry the migration on a timeout.");
}
