/*-------------------------------------------------------------------------
 *
 * lint.c
 *	  migsafe.check(sql): what a migration script will destroy, break or
 *	  lock in this database, read with PostgreSQL's parser and the live
 *	  catalog, without running it.
 *
 * The script is cut into statements (script.c) and read in order, with
 * what earlier statements did carried forward: tables and columns created
 * (new, empty), objects dropped, the lock_timeout and the approvals set,
 * the open transaction, enum values added.  Each statement is matched
 * against the rules below; what the gate would call destructive comes from
 * classify.c, the same code the gate decides with, and an approval the
 * script sets is matched as the gate matches it (approval.c).
 *
 * Nothing is changed and nothing is locked beyond ACCESS SHARE: relations
 * are looked up without a lock, and measured only when an ACCESS SHARE
 * lock is granted at once (released right after), otherwise from the
 * planner's statistics.  Exact figures are shown only to roles that may
 * read the table.  Each statement is read in a subtransaction, so that an
 * error while reading one becomes a finding of class "error" instead of
 * an exception.
 *
 * Calls script.c, lintdeps.c, classify.c, catalog.c, approval.c and
 * internal.c.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/lint.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "commands/tablecmds.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_coerce.h"
#include "parser/parse_type.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "migsafe.h"
#include "approval.h"
#include "catalog.h"
#include "classify.h"
#include "internal.h"
#include "lint.h"
#include "lintdeps.h"
#include "script.h"

/* Finding classes, most severe first */
#define CLASS_DESTRUCTIVE	"destructive"
#define CLASS_BREAKING		"breaking"
#define CLASS_LOCKING		"locking"
#define CLASS_ADVICE		"advice"
#define CLASS_ERROR			"error"

/* Per call: what the preview knows of the database and of the script */
typedef struct LintState
{
	Tuplestorestate *tupstore;
	TupleDesc	tupdesc;
	List	   *exclude;		/* rule names not to report */
	List	   *rels;			/* MigsafeLintRel, measured once per call */
	List	   *created;		/* "schema.name" or "name" created here */
	List	   *dropped;		/* the same, dropped here */
	List	   *new_columns;	/* "name.column" added here */
	List	   *enum_values;	/* values added in the open transaction */
	bool		in_xact;		/* inside an explicit BEGIN */
	MigsafeScriptStmt *xact_begin;	/* the BEGIN */
	int			timeout;		/* lock_timeout the script set (ms), or -1 */
	int			local_timeout;	/* SET LOCAL lock_timeout, or -1 */
	char	   *approve;		/* migsafe.approve the script set */
	char	   *local_approve;	/* SET LOCAL migsafe.approve */
	MigsafeScriptStmt *stmt;	/* the statement being read */
} LintState;

/* One statement read in a subtransaction */
typedef struct LintCall
{
	LintState  *st;
	MigsafeScriptStmt *stmt;
} LintCall;

/* ----------------------------------------------------------------
 * Findings
 * ----------------------------------------------------------------
 */

/* Whether a rule is switched off, per call or by migsafe.check_exclude */
static bool
excluded(LintState *st, const char *rule)
{
	ListCell   *lc;

	foreach(lc, st->exclude)
		if (strcmp((char *) lfirst(lc), rule) == 0)
			return true;
	return false;
}

/* The lock_timeout in force for the statement (ms) and where it comes from */
static int
timeout_in_force(LintState *st, const char **source)
{
	const char *reset;
	int			ms = 0;

	if (st->local_timeout >= 0)
	{
		*source = "SET LOCAL lock_timeout in the script";
		return st->local_timeout;
	}
	if (st->timeout >= 0)
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
static void
json_num(StringInfo buf, const char *key, double value, bool isnull)
{
	appendStringInfo(buf, ", \"%s\": ", key);
	if (isnull)
		appendStringInfoString(buf, "null");
	else
		appendStringInfo(buf, "%.0f", value);
}

/* Append "key": "string" */
static void
json_str(StringInfo buf, const char *key, const char *value)
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
static void
finding(LintState *st, const char *class, const char *rule, MigsafeLintRel *rel,
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
		json_str(&facts, "relation", rel->name);
		json_str(&facts, "relkind", rel->relkind ? psprintf("%c", rel->relkind) : NULL);
		appendStringInfo(&facts, ", \"new\": %s", rel->created ? "true" : "false");
		json_num(&facts, "rows", rel->rows, rel->rows < 0);
		appendStringInfo(&facts, ", \"rows_exact\": %s", rel->rows_exact ? "true" : "false");
		json_num(&facts, "bytes", (double) rel->bytes, rel->bytes < 0);
	}
	if (lock != NoLock)
	{
		const char *source;
		int			ms = timeout_in_force(st, &source);

		json_str(&facts, "lock", migsafe_classify_lock_name(lock));
		json_str(&facts, "blocks", migsafe_classify_lock_blocks(lock));
		json_num(&facts, "lock_timeout_ms", ms, false);
		json_str(&facts, "lock_timeout_source", source);
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
static void
destroys(LintState *st, const char *rule, MigsafeLintRel *rel, const char *attname,
		 LOCKMODE lock, int rewrite, const char *what, const char *safer)
{
	MigsafeTarget t;
	const char *approve = st->local_approve ? st->local_approve : st->approve;
	char	   *matched = NULL;
	char	   *exempt = NULL;
	char	   *ident;
	StringInfoData msg;
	StringInfoData extra;

	if (rel->created)
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
	json_str(&extra, "column", attname);
	json_str(&extra, "approval", ident);
	if (matched != NULL)
	{
		appendStringInfo(&msg, " Approved by migsafe.approve item '%s' earlier in the script: migsafe lets it run and keeps a snapshot first.",
						 matched);
		json_str(&extra, "approved_by", matched);
		finding(st, CLASS_ADVICE, rule, rel, lock, rewrite, extra.data, msg.data);
	}
	else if (rel->rows == 0 && rel->rows_exact && migsafe_allow_empty &&
			 !t.protected && rel->relkind != RELKIND_SEQUENCE)
	{
		appendStringInfoString(&msg, " migsafe lets it run without approval (migsafe.allow_empty), after checking under its lock that it is still empty.");
		finding(st, CLASS_ADVICE, rule, rel, lock, rewrite, extra.data, msg.data);
	}
	else if (exempt != NULL && !t.protected)
	{
		appendStringInfo(&msg, " migsafe.exempt names it ('%s'): the change runs without approval and without a snapshot.",
						 exempt);
		json_str(&extra, "exempt_by", exempt);
		finding(st, CLASS_ADVICE, rule, rel, lock, rewrite, extra.data, msg.data);
	}
	else
	{
		appendStringInfo(&msg, " migsafe refuses it unless the transaction approves it with SET LOCAL migsafe.approve = '%s' (a snapshot is kept). %s",
						 ident, safer);
		finding(st, CLASS_DESTRUCTIVE, rule, rel, lock, rewrite, extra.data, msg.data);
	}
}

/* ----------------------------------------------------------------
 * What the script did so far
 * ----------------------------------------------------------------
 */

/* The key a relation name is remembered under: "schema.name" or "name" */
static char *
rel_key(const char *nspname, const char *relname)
{
	return nspname ? psprintf("%s.%s", nspname, relname) : pstrdup(relname);
}

/* Whether a list of keys holds the name, qualified or not */
static bool
names_rel(List *keys, RangeVar *rv)
{
	ListCell   *lc;

	foreach(lc, keys)
	{
		const char *key = lfirst(lc);
		const char *dot = strrchr(key, '.');

		if (rv->schemaname != NULL && strcmp(key, rel_key(rv->schemaname, rv->relname)) == 0)
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
static MigsafeLintRel *
lookup(LintState *st, RangeVar *rv)
{
	Oid			relid;

	if (rv == NULL)
		return NULL;
	if (names_rel(st->created, rv))
		return migsafe_lintdeps_new_rel(&st->rels, rv->schemaname, rv->relname);
	if (names_rel(st->dropped, rv))
		return NULL;
	relid = RangeVarGetRelidExtended(rv, NoLock, RVR_MISSING_OK, NULL, NULL);
	if (!OidIsValid(relid))
		return NULL;
	return migsafe_lintdeps_rel(&st->rels, relid);
}

/* A list of keys without the given one */
static List *
forget(List *keys, const char *key)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, keys)
		if (strcmp(lfirst(lc), key) != 0)
			result = lappend(result, lfirst(lc));
	return result;
}

/* Whether the script added this column earlier */
static bool
column_is_new(LintState *st, MigsafeLintRel *rel, const char *attname)
{
	char	   *key;
	ListCell   *lc;

	if (rel->created)
		return true;
	key = psprintf("%s.%s", rel->relname, attname);
	foreach(lc, st->new_columns)
		if (strcmp(lfirst(lc), key) == 0)
			return true;
	return false;
}

/* Remember a relation the statement creates; true if it exists already */
static bool
creates(LintState *st, RangeVar *rv)
{
	bool		exists;

	if (rv == NULL)
		return false;
	exists = lookup(st, rv) != NULL;
	st->created = lappend(st->created, rel_key(rv->schemaname, rv->relname));
	return exists;
}

/* Forget what a transaction's end undoes or makes permanent */
static void
end_transaction(LintState *st)
{
	st->in_xact = false;
	st->xact_begin = NULL;
	st->local_timeout = -1;
	st->local_approve = NULL;
	list_free_deep(st->enum_values);
	st->enum_values = NIL;
}

/* A finding for CREATE of something that is there already */
static void
already_exists(LintState *st, const char *noun, const char *name)
{
	finding(st, CLASS_BREAKING, "object_already_exists", NULL, NoLock, -1, NULL,
			psprintf("%s \"%s\" already exists in this database: the statement fails and the migration stops. Write CREATE ... IF NOT EXISTS (or CREATE OR REPLACE) so that a re-run succeeds, or check that the migration was not applied already.",
					 noun, name));
}

/* ----------------------------------------------------------------
 * Rules
 * ----------------------------------------------------------------
 */

/* Whether a relation has rows, or may have (unknown counts as rows) */
static bool
has_rows(MigsafeLintRel *rel)
{
	if (rel == NULL || rel->created)
		return false;
	migsafe_lintdeps_measure(rel);
	return rel->rows != 0;
}

/* ACCESS EXCLUSIVE on a table with rows and no lock_timeout in force */
static void
rule_lock_timeout(LintState *st, MigsafeLintRel *rel, LOCKMODE lock)
{
	const char *source;

	if (rel == NULL || rel->created || lock < AccessExclusiveLock ||
		timeout_in_force(st, &source) > 0)
		return;
	finding(st, CLASS_LOCKING, "require_lock_timeout", rel, lock, -1, NULL,
			"Set a lock_timeout first (SET LOCAL lock_timeout = '5s', or migsafe.ddl_lock_timeout on the server) and retry the migration on a timeout.");
}

/* Whether a raw expression calls a function that is volatile */
static bool
volatile_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncCall))
	{
		FuncCall   *fc = (FuncCall *) node;
		FuncCandidateList cands;

		cands = FuncnameGetCandidates(fc->funcname, -1, NIL, false, false,
									  false, true);
		for (; cands != NULL; cands = cands->next)
			if (func_volatile(cands->oid) == PROVOLATILE_VOLATILE)
				return true;
	}
	if (IsA(node, SQLValueFunction))
		return false;			/* CURRENT_TIMESTAMP and friends: stable */
	return raw_expression_tree_walker(node, volatile_walker, context);
}

/* The type name of a column definition is a serial type */
static bool
is_serial(TypeName *tn)
{
	const char *name;

	if (tn == NULL || list_length(tn->names) > 2 || tn->arrayBounds != NIL)
		return false;
	name = strVal(llast(tn->names));
	return strcmp(name, "serial") == 0 || strcmp(name, "bigserial") == 0 ||
		strcmp(name, "smallserial") == 0 || strcmp(name, "serial2") == 0 ||
		strcmp(name, "serial4") == 0 || strcmp(name, "serial8") == 0;
}

/* ALTER TABLE ... ADD COLUMN */
static void
rule_add_column(LintState *st, MigsafeLintRel *rel, AlterTableCmd *cmd, LOCKMODE lock)
{
	ColumnDef  *col = castNode(ColumnDef, cmd->def);
	bool		not_null = col->is_not_null;
	bool		has_default = col->raw_default != NULL;
	bool		rewrites = is_serial(col->typeName);
	ListCell   *lc;

	if (OidIsValid(rel->relid) && !rel->created &&
		get_attnum(rel->relid, col->colname) != InvalidAttrNumber)
	{
		if (!cmd->missing_ok)
			already_exists(st, "column", psprintf("%s.%s", rel->name, col->colname));
		return;
	}
	foreach(lc, col->constraints)
	{
		Constraint *c = lfirst_node(Constraint, lc);

		switch (c->contype)
		{
			case CONSTR_NOTNULL:
			case CONSTR_PRIMARY:
				not_null = true;
				break;
			case CONSTR_DEFAULT:
				has_default = true;
				if (volatile_walker(c->raw_expr, NULL))
					rewrites = true;
				break;
			case CONSTR_IDENTITY:
			case CONSTR_GENERATED:
				has_default = true;
				rewrites = true;
				break;
			default:
				break;
		}
		if ((c->contype == CONSTR_PRIMARY || c->contype == CONSTR_UNIQUE) &&
			has_rows(rel))
			finding(st, CLASS_LOCKING, "disallowed_unique_constraint", rel, lock, -1, NULL,
					psprintf("ADD COLUMN ... %s builds a unique index on \"%s\" while holding the lock. Add the column first, build the index with CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX.",
							 c->contype == CONSTR_PRIMARY ? "PRIMARY KEY" : "UNIQUE",
							 rel->name));
	}
	if (col->raw_default != NULL && volatile_walker(col->raw_default, NULL))
		rewrites = true;
	st->new_columns = lappend(st->new_columns,
							  psprintf("%s.%s", rel->relname, col->colname));
	if (!has_rows(rel))
		return;
	if (not_null && !has_default)
		finding(st, CLASS_BREAKING, "adding_required_field", rel, NoLock, -1, NULL,
				psprintf("ADD COLUMN \"%s\" NOT NULL without a DEFAULT fails on \"%s\", which %s: its rows would hold NULL. Add the column with a DEFAULT, or add it nullable, backfill it, then SET NOT NULL.",
						 col->colname, rel->name, migsafe_lintdeps_rows_phrase(rel)));
	if (rewrites)
		finding(st, CLASS_LOCKING, "adding_field_with_volatile_default", rel, lock, 1, NULL,
				psprintf("ADD COLUMN \"%s\" with a volatile default (or a serial, identity or stored generated column) rewrites \"%s\", which %s, computing a value for every row while holding the lock. Add the column without the default, set the default with ALTER COLUMN ... SET DEFAULT, and backfill the rows in batches.",
						 col->colname, rel->name, migsafe_lintdeps_rows_phrase(rel)));
}

/*
 * Whether ALTER COLUMN ... TYPE keeps the stored bytes (no rewrite): the
 * same type with a typmod that only widens (varchar, varbit, numeric with
 * the same scale, time types' precision), or a binary-coercible type with
 * no or a wider length limit, and no USING.
 */
static bool
retype_keeps_storage(Oid relid, AttrNumber attnum, ColumnDef *def)
{
	HeapTuple	tup;
	Oid			oldtype;
	int32		oldmod;
	Oid			newtype;
	int32		newmod;
	Type		typ;

	if (def->raw_default != NULL || def->typeName == NULL)
		return false;			/* USING computes new values */
	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
	if (!HeapTupleIsValid(tup))
		return false;
	oldtype = ((Form_pg_attribute) GETSTRUCT(tup))->atttypid;
	oldmod = ((Form_pg_attribute) GETSTRUCT(tup))->atttypmod;
	ReleaseSysCache(tup);
	typ = LookupTypeName(NULL, def->typeName, &newmod, true);
	if (typ == NULL)
		return false;
	newtype = ((Form_pg_type) GETSTRUCT(typ))->oid;
	ReleaseSysCache(typ);

	if (newtype == oldtype)
	{
		if (newmod == oldmod || newmod < 0)
			return true;
		if (oldmod < 0)
			return false;
		switch (newtype)
		{
			case VARCHAROID:
			case VARBITOID:
			case TIMESTAMPOID:
			case TIMESTAMPTZOID:
			case TIMEOID:
			case TIMETZOID:
			case INTERVALOID:
				return newmod >= oldmod;
			case NUMERICOID:
				/* (precision << 16 | scale) + VARHDRSZ: same scale, wider */
				return ((newmod - VARHDRSZ) & 0xffff) == ((oldmod - VARHDRSZ) & 0xffff) &&
					newmod >= oldmod;
			default:
				return false;
		}
	}
	return IsBinaryCoercible(oldtype, newtype) && newmod < 0;
}

/* Whether a validated CHECK (col IS NOT NULL) already proves SET NOT NULL */
static bool
proven_not_null(Oid relid, const char *attname)
{
	List	   *checks = migsafe_lintdeps_not_null_checks(relid);
	ListCell   *lc;
	AttrNumber	attnum = get_attnum(relid, attname);

	foreach(lc, checks)
		if (lfirst_int(lc) == attnum)
			return true;
	return false;
}

/* ALTER TABLE and its subcommands */
static void
rule_alter_table(LintState *st, AlterTableStmt *stmt)
{
	MigsafeLintRel    *rel = lookup(st, stmt->relation);
	LOCKMODE	lock;
	ListCell   *lc;

	if (rel == NULL || stmt->objtype != OBJECT_TABLE)
		return;
	lock = AlterTableGetLockLevel(stmt->cmds);
	rule_lock_timeout(st, rel, lock);

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		MigsafeAlterEffect effect = migsafe_classify_alter_cmd(cmd);

		switch (effect)
		{
			case MIGSAFE_ALTER_DROP_COLUMN:
				if (!column_is_new(st, rel, cmd->name))
					destroys(st, "drop_column", rel, cmd->name, lock, 0,
							 psprintf("DROP COLUMN destroys column \"%s\" of \"%s\", whose table",
									  cmd->name, rel->name),
							 "To be able to roll back, stop using the column in the application first and drop it in a later release.");
				continue;
			case MIGSAFE_ALTER_RETYPE:
				if (!column_is_new(st, rel, cmd->name))
				{
					AttrNumber	attnum = OidIsValid(rel->relid) ?
					get_attnum(rel->relid, cmd->name) : InvalidAttrNumber;
					bool		keeps = attnum != InvalidAttrNumber &&
					retype_keeps_storage(rel->relid, attnum,
										 castNode(ColumnDef, cmd->def));

					destroys(st, "changing_column_type", rel, cmd->name, lock, keeps ? 0 : 1,
							 psprintf(keeps ?
									  "ALTER COLUMN \"%s\" TYPE converts every value of the column (the stored bytes stay, no rewrite) in \"%s\", whose table" :
									  "ALTER COLUMN \"%s\" TYPE converts every value and rewrites \"%s\" while holding the lock; the table",
									  cmd->name, rel->name),
							 "The safer way: add a column of the new type, write both from the application, backfill in batches, then switch over.");
				}
				continue;
			case MIGSAFE_ALTER_DROP_IDENTITY:
				destroys(st, "drop_identity", rel, cmd->name, lock, -1,
						 psprintf("DROP IDENTITY destroys the sequence behind column \"%s\" of \"%s\" (its next value is lost); the table",
								  cmd->name, rel->name),
						 "Keep the identity, or record the sequence's value first.");
				continue;
			case MIGSAFE_ALTER_RESTART:
				destroys(st, "sequence_restart", rel, cmd->name, lock, -1,
						 psprintf("SET ... RESTART resets the identity sequence of column \"%s\" of \"%s\": new rows may take key values that exist already; the table",
								  cmd->name, rel->name),
						 "Restart only to a value above the column's maximum.");
				continue;
			case MIGSAFE_ALTER_UNLOG:
				destroys(st, "set_unlogged", rel, NULL, lock, 1,
						 psprintf("SET UNLOGGED rewrites \"%s\"; afterwards standbys lose the table and a crash empties it. The table",
								  rel->name),
						 "Keep the table logged; for a bulk load, load into a new unlogged table and swap it in.");
				continue;
			case MIGSAFE_ALTER_KEEPS:
				break;
		}

		switch (cmd->subtype)
		{
			case AT_AddColumn:
				rule_add_column(st, rel, cmd, lock);
				break;
			case AT_SetNotNull:
				if (has_rows(rel) && !column_is_new(st, rel, cmd->name) &&
					!(OidIsValid(rel->relid) && proven_not_null(rel->relid, cmd->name)))
					finding(st, CLASS_LOCKING, "setting_not_nullable_field", rel, lock, 0, NULL,
							psprintf("SET NOT NULL on column \"%s\" scans all of \"%s\", which %s, while holding the lock. First ADD CONSTRAINT ... CHECK (\"%s\" IS NOT NULL) NOT VALID, then VALIDATE CONSTRAINT (which does not block writes), then SET NOT NULL, which uses the validated constraint and skips the scan.",
									 cmd->name, rel->name, migsafe_lintdeps_rows_phrase(rel), cmd->name));
				break;
			case AT_DropNotNull:
				if (!column_is_new(st, rel, cmd->name))
					finding(st, CLASS_BREAKING, "dropping_not_null", rel, NoLock, -1, NULL,
							psprintf("DROP NOT NULL on column \"%s\" of \"%s\" lets NULL in: code that reads the column may not expect it, and a rollback cannot SET NOT NULL again once NULLs exist.",
									 cmd->name, rel->name));
				break;
			case AT_ColumnDefault:
				if (cmd->def == NULL && !column_is_new(st, rel, cmd->name))
					finding(st, CLASS_BREAKING, "dropping_default", rel, NoLock, -1, NULL,
							psprintf("DROP DEFAULT on column \"%s\" of \"%s\": inserts that leave the column out get NULL, or fail if it is NOT NULL. Deploy the application that sets the column first.",
									 cmd->name, rel->name));
				break;
			case AT_DropConstraint:
				if (!rel->created)
					finding(st, CLASS_BREAKING, "dropping_constraint", rel, NoLock, -1, NULL,
							psprintf("DROP CONSTRAINT \"%s\" on \"%s\": rows the constraint kept out can come in, and a rollback has to validate it again.",
									 cmd->name, rel->name));
				break;
			case AT_AddConstraint:
				{
					Constraint *c = castNode(Constraint, cmd->def);

					if (!has_rows(rel))
						break;
					if (c->contype == CONSTR_FOREIGN && !c->skip_validation)
						finding(st, CLASS_LOCKING, "adding_foreign_key_constraint", rel, lock, 0, NULL,
								psprintf("ADD FOREIGN KEY checks every row of \"%s\", which %s, while holding the lock, which also blocks writes to the referenced table. Add it NOT VALID, then VALIDATE CONSTRAINT in a later transaction (which does not block writes).",
										 rel->name, migsafe_lintdeps_rows_phrase(rel)));
					else if (c->contype == CONSTR_CHECK && !c->skip_validation)
						finding(st, CLASS_LOCKING, "constraint_missing_not_valid", rel, lock, 0, NULL,
								psprintf("ADD CONSTRAINT ... CHECK scans all of \"%s\", which %s, while holding the lock. Add it NOT VALID, then VALIDATE CONSTRAINT in a later transaction (which does not block writes).",
										 rel->name, migsafe_lintdeps_rows_phrase(rel)));
					else if ((c->contype == CONSTR_PRIMARY || c->contype == CONSTR_UNIQUE ||
							  c->contype == CONSTR_EXCLUSION) && c->indexname == NULL)
						finding(st, CLASS_LOCKING, "disallowed_unique_constraint", rel, lock, 0, NULL,
								psprintf("ADD %s builds its index on \"%s\", which %s, while holding the lock. Build the index first with CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX.",
										 c->contype == CONSTR_PRIMARY ? "PRIMARY KEY" :
										 c->contype == CONSTR_UNIQUE ? "UNIQUE" : "EXCLUDE",
										 rel->name, migsafe_lintdeps_rows_phrase(rel)));
					break;
				}
			case AT_DetachPartition:
				if (!((PartitionCmd *) cmd->def)->concurrent)
				{
					MigsafeLintRel    *part = lookup(st, ((PartitionCmd *) cmd->def)->name);

					if (has_rows(rel) || has_rows(part))
						finding(st, CLASS_LOCKING, "require_concurrent_detach_partition", rel, lock, -1, NULL,
								psprintf("DETACH PARTITION takes an ACCESS EXCLUSIVE lock on the partitioned table \"%s\" and blocks every query on it. Use DETACH PARTITION ... CONCURRENTLY (outside a transaction block).",
										 rel->name));
				}
				break;
			case AT_SetLogged:
			case AT_SetTableSpace:
				if (has_rows(rel))
					finding(st, CLASS_LOCKING, "table_rewrite", rel, lock, 1, NULL,
							psprintf("%s rewrites \"%s\", which %s, while holding the lock. Plan it for a maintenance window, or use a tool that copies online (pg_repack).",
									 cmd->subtype == AT_SetLogged ? "SET LOGGED" : "SET TABLESPACE",
									 rel->name, migsafe_lintdeps_rows_phrase(rel)));
				break;
			default:
				break;
		}
	}
}

/* TRUNCATE: every table it empties, as PostgreSQL expands it */
static void
rule_truncate(LintState *st, TruncateStmt *stmt)
{
	List	   *relids = NIL;
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		RangeVar   *rv = lfirst_node(RangeVar, lc);
		MigsafeLintRel *rel = lookup(st, rv);

		if (rel == NULL || rel->created)
			continue;			/* new in this script: nothing to lose */
		relids = list_concat_unique_oid(relids, rv->inh ?
										find_all_inheritors(rel->relid, NoLock, NULL) :
										list_make1_oid(rel->relid));
	}
	foreach(lc, migsafe_lintdeps_truncated(relids, stmt->behavior == DROP_CASCADE,
										   &st->rels))
	{
		MigsafeLintRel *rel = lfirst(lc);
		char	   *pubs;

		rule_lock_timeout(st, rel, AccessExclusiveLock);
		destroys(st, "truncate", rel, NULL, AccessExclusiveLock, -1,
				 psprintf("TRUNCATE removes every row of \"%s\", which", rel->name),
				 "To empty a table you may need again, rename it and create an empty one instead.");
		pubs = migsafe_catalog_publications(rel->relid);
		if (pubs != NULL && has_rows(rel))
			finding(st, CLASS_DESTRUCTIVE, "table_in_publication", rel, NoLock, -1, NULL,
					psprintf("\"%s\" is in %s: subscribers replicate the TRUNCATE and lose their rows too.",
							 rel->name, pubs));
	}
}

/* One relation a DROP removes (named or taken along) */
static void
drop_relation(LintState *st, MigsafeLintRel *rel, const char *how,
			  const char *through)
{
	const char *verb = through ? "also drops" : "destroys";
	char	   *via = through ? psprintf(" (it depends on %s)", through) : "";

	char	   *pubs;

	if (!migsafe_classify_relkind(rel->relkind) &&
		rel->relkind != RELKIND_PARTITIONED_TABLE)
		return;
	if (rel->relkind == RELKIND_SEQUENCE)
	{
		Oid			owner;
		int32		attnum;

		/* a sequence a column owns goes with its table, decided with it */
		if (OidIsValid(rel->relid) &&
			migsafe_catalog_sequence_owner(rel->relid, &owner, &attnum))
			return;
		destroys(st, "drop_sequence", rel, NULL, AccessExclusiveLock, -1,
				 psprintf("%s %s sequence \"%s\"%s and its current value",
						  how, verb, rel->name, via),
				 "Drop it only once no column default uses it, and keep its last value (SELECT last_value) in case.");
	}
	else
		destroys(st, "drop_table", rel, NULL, AccessExclusiveLock, -1,
				 psprintf("%s %s %s \"%s\"%s, which", how, verb,
						  migsafe_classify_relkind_noun(rel->relkind), rel->name, via),
				 "To keep a way back, rename the table now and drop it in a later release, once nothing uses it.");
	pubs = OidIsValid(rel->relid) ? migsafe_catalog_publications(rel->relid) : NULL;
	if (pubs != NULL)
		finding(st, CLASS_BREAKING, "table_in_publication", rel, NoLock, -1, NULL,
				psprintf("\"%s\" is in %s: subscribers stop receiving its changes and keep a copy that no longer follows this database. Remove it from the publication (ALTER PUBLICATION ... DROP TABLE) and tell the subscribers first.",
						 rel->name, pubs));
}

/* What a DROP takes along: dependents listed, data-holding ones decided */
static void
drop_dependents(LintState *st, const ObjectAddress *root, const char *rootdesc,
				bool cascade, const char *how)
{
	MigsafeLintDeps deps;
	ListCell   *lc;

	migsafe_lintdeps_walk(root, cascade, &deps, &st->rels);
	if (!cascade && deps.blockers != NIL)
	{
		StringInfoData extra;

		initStringInfo(&extra);
		json_str(&extra, "dependents", migsafe_lintdeps_names(deps.blockers, 20));
		finding(st, CLASS_BREAKING, "drop_has_dependents", NULL, NoLock, -1, extra.data,
				psprintf("%s fails: %s depend%s on %s. Drop or change those first; CASCADE would drop them too.",
						 how, migsafe_lintdeps_names(deps.blockers, 20),
						 list_length(deps.blockers) == 1 ? "s" : "", rootdesc));
		return;
	}
	if (deps.others != NIL)
	{
		StringInfoData extra;

		initStringInfo(&extra);
		json_str(&extra, "cascade", migsafe_lintdeps_names(deps.others, 50));
		finding(st, CLASS_BREAKING, "drop_cascade", NULL, NoLock, -1, extra.data,
				psprintf("%s also drops what depends on %s: %s.",
						 how, rootdesc, migsafe_lintdeps_names(deps.others, 20)));
	}
	foreach(lc, deps.relations)
		drop_relation(st, lfirst(lc), how, rootdesc);
	foreach(lc, deps.columns)
	{
		MigsafeLintColumn *col = lfirst(lc);

		destroys(st, "drop_column", col->rel, col->attname, AccessExclusiveLock, -1,
				 psprintf("%s also drops column \"%s\" of \"%s\" (it depends on %s); the table",
						  how, col->attname, col->rel->name, rootdesc),
				 "Change the column's type first, or drop it on purpose in its own statement.");
	}
}

/* DROP of relations, schemas, types, extensions and the rest */
static void
rule_drop(LintState *st, DropStmt *stmt)
{
	bool		cascade = stmt->behavior == DROP_CASCADE;
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		Node	   *object = lfirst(lc);
		ObjectAddress addr;
		Relation	relation = NULL;
		MigsafeLintRel    *rel = NULL;

		if (stmt->removeType == OBJECT_TABLE || stmt->removeType == OBJECT_MATVIEW ||
			stmt->removeType == OBJECT_SEQUENCE || stmt->removeType == OBJECT_INDEX ||
			stmt->removeType == OBJECT_VIEW || stmt->removeType == OBJECT_FOREIGN_TABLE)
		{
			RangeVar   *rv = makeRangeVarFromNameList(castNode(List, object));

			rel = lookup(st, rv);
			if (rel != NULL && rel->created)
			{
				st->created = forget(st->created, rel_key(rv->schemaname, rv->relname));
				continue;
			}
			if (rel == NULL)
				continue;
			st->dropped = lappend(st->dropped, rel_key(rv->schemaname, rv->relname));
			ObjectAddressSet(addr, RelationRelationId, rel->relid);
			if (stmt->removeType == OBJECT_INDEX)
			{
				MigsafeLintRel    *table = migsafe_lintdeps_rel(&st->rels,
														 IndexGetRelation(rel->relid, false));

				finding(st, CLASS_BREAKING, "dropping_index", table, NoLock, -1, NULL,
						psprintf("DROP INDEX \"%s\": queries that use it on \"%s\" get slower%s. Check that nothing needs it first.",
								 rel->name, table->name,
								 migsafe_lintdeps_index_is_unique(rel->relid) ?
								 ", and the uniqueness it enforces is gone" : ""));
				if (!stmt->concurrent && has_rows(table))
				{
					rule_lock_timeout(st, table, AccessExclusiveLock);
					finding(st, CLASS_LOCKING, "require_concurrent_index_deletion", table,
							AccessExclusiveLock, -1, NULL,
							"DROP INDEX without CONCURRENTLY locks the table. Use DROP INDEX CONCURRENTLY (outside a transaction block).");
				}
			}
			else
			{
				rule_lock_timeout(st, rel, AccessExclusiveLock);
				drop_relation(st, rel, CreateCommandName((Node *) stmt), NULL);
			}
		}
		else
		{
			if (stmt->removeType == OBJECT_SCHEMA)
				st->dropped = lappend(st->dropped, pstrdup(strVal(object)));
			addr = get_object_address(stmt->removeType, object, &relation,
									  AccessShareLock, true);
			if (relation != NULL)
				relation_close(relation, NoLock);
			if (!OidIsValid(addr.objectId))
				continue;
		}
		drop_dependents(st, &addr, getObjectDescription(&addr, false),
						cascade || stmt->removeType == OBJECT_EXTENSION,
						CreateCommandName((Node *) stmt));
	}
}

/* CREATE INDEX */
static void
rule_create_index(LintState *st, IndexStmt *stmt)
{
	MigsafeLintRel    *rel = lookup(st, stmt->relation);

	if (stmt->idxname != NULL &&
		lookup(st, makeRangeVar(stmt->relation->schemaname, stmt->idxname, -1)) != NULL)
	{
		if (!stmt->if_not_exists)
			already_exists(st, "index", stmt->idxname);
		return;					/* fails, or does nothing */
	}
	if (stmt->idxname != NULL)
		creates(st, makeRangeVar(stmt->relation->schemaname, stmt->idxname, -1));
	if (stmt->concurrent || !has_rows(rel))
		return;
	rule_lock_timeout(st, rel, ShareLock);
	finding(st, CLASS_LOCKING, "require_concurrent_index_creation", rel, ShareLock, -1, NULL,
			psprintf("CREATE INDEX without CONCURRENTLY blocks writes to \"%s\", which %s, for as long as the build takes. Use CREATE INDEX CONCURRENTLY (outside a transaction block).",
					 rel->name, migsafe_lintdeps_rows_phrase(rel)));
}

/* REINDEX */
static void
rule_reindex(LintState *st, ReindexStmt *stmt)
{
	MigsafeLintRel    *rel;

	if (migsafe_classify_concurrent((Node *) stmt) || stmt->relation == NULL)
		return;
	rel = lookup(st, stmt->relation);
	if (rel != NULL && stmt->kind == REINDEX_OBJECT_INDEX && OidIsValid(rel->relid))
		rel = migsafe_lintdeps_rel(&st->rels, IndexGetRelation(rel->relid, true));
	if (!has_rows(rel))
		return;
	finding(st, CLASS_LOCKING, "require_concurrent_reindex", rel, ShareLock, -1, NULL,
			psprintf("REINDEX without CONCURRENTLY blocks writes to \"%s\" (and reads that use the index) while it rebuilds. Use REINDEX ... CONCURRENTLY (outside a transaction block).",
					 rel->name));
}

/* A statement PostgreSQL refuses inside a transaction block */
static void
rule_outside_transaction(LintState *st, Node *node)
{
	if (!st->in_xact)
		return;
	if (migsafe_classify_concurrent(node))
		finding(st, CLASS_BREAKING, "concurrently_in_transaction", NULL, NoLock, -1, NULL,
				psprintf("CONCURRENTLY cannot run inside the transaction block opened at statement %d: the statement fails. Run it in its own transaction (most migration tools have a per-migration switch for it, such as Django's atomic = False).",
						 st->xact_begin->number));
	else if (IsA(node, VacuumStmt) || IsA(node, CreatedbStmt) || IsA(node, DropdbStmt) ||
			 IsA(node, AlterSystemStmt) || IsA(node, CreateTableSpaceStmt) ||
			 IsA(node, DropTableSpaceStmt))
		finding(st, CLASS_BREAKING, "not_in_transaction_block", NULL, NoLock, -1, NULL,
				psprintf("This statement cannot run inside the transaction block opened at statement %d: it fails. Run it in its own transaction.",
						 st->xact_begin->number));
}

/* SET and RESET of what the preview follows */
static void
rule_set(LintState *st, VariableSetStmt *stmt)
{
	char	   *value = NULL;
	int			ms;

	if (stmt->name == NULL)
	{
		if (stmt->kind == VAR_RESET_ALL)
		{
			st->timeout = st->local_timeout = -1;
			st->approve = st->local_approve = NULL;
		}
		return;
	}
	if (stmt->kind == VAR_SET_VALUE)
		value = ExtractSetVariableArgs(stmt);
	if (pg_strcasecmp(stmt->name, "lock_timeout") == 0)
	{
		if (value == NULL || !parse_int(value, &ms, GUC_UNIT_MS, NULL))
			ms = -1;
		if (stmt->is_local)
			st->local_timeout = ms;
		else
			st->timeout = ms;
	}
	else if (pg_strcasecmp(stmt->name, "migsafe.approve") == 0)
	{
		if (stmt->is_local)
			st->local_approve = value;
		else
			st->approve = value;
	}
	else if (pg_strcasecmp(stmt->name, "search_path") == 0 && value != NULL)
		(void) set_config_option("search_path", value, PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, WARNING, false);
}

/* BEGIN, COMMIT and the rest */
static void
rule_transaction(LintState *st, TransactionStmt *stmt)
{
	switch (stmt->kind)
	{
		case TRANS_STMT_BEGIN:
		case TRANS_STMT_START:
			if (st->in_xact)
				finding(st, CLASS_ADVICE, "transaction_nesting", NULL, NoLock, -1, NULL,
						psprintf("BEGIN inside the transaction opened at statement %d does nothing (PostgreSQL only warns), and the COMMIT that follows ends the outer transaction early. Remove the inner BEGIN; migration tools often open the transaction themselves.",
								 st->xact_begin->number));
			else
			{
				st->in_xact = true;
				st->xact_begin = st->stmt;
			}
			break;
		case TRANS_STMT_COMMIT:
		case TRANS_STMT_ROLLBACK:
		case TRANS_STMT_PREPARE:
			if (!st->in_xact)
				finding(st, CLASS_ADVICE, "transaction_nesting", NULL, NoLock, -1, NULL,
						"This ends a transaction the script did not open: if the migration tool opened one, it ends the tool's transaction early, and PostgreSQL only warns otherwise. Let the tool manage the transaction, or open it with BEGIN in the script.");
			end_transaction(st);
			break;
		default:
			break;
	}
}

/* Whether a later statement uses an enum value added in this transaction */
static void
rule_enum_values(LintState *st)
{
	ListCell   *lc;

	foreach(lc, st->enum_values)
	{
		char	   *quoted = quote_literal_cstr(lfirst(lc));

		if (strstr(st->stmt->text, quoted) != NULL)
			finding(st, CLASS_BREAKING, "enum_value_used_in_transaction", NULL, NoLock, -1, NULL,
					psprintf("The value %s is added to its enum type earlier in this transaction; using it before COMMIT fails with \"unsafe use of new value\". Commit the ALTER TYPE ... ADD VALUE first, in its own transaction.",
							 quoted));
	}
}

/*
 * read_statement
 *
 * Match one statement against the rules and carry what it does forward.
 * Runs in a subtransaction (read_call).
 */
static void
read_statement(LintState *st, Node *node)
{
	if (st->in_xact && st->enum_values != NIL)
		rule_enum_values(st);
	rule_outside_transaction(st, node);

	switch (nodeTag(node))
	{
		case T_TransactionStmt:
			rule_transaction(st, (TransactionStmt *) node);
			break;
		case T_VariableSetStmt:
			rule_set(st, (VariableSetStmt *) node);
			break;
		case T_CreateStmt:
			{
				CreateStmt *cs = (CreateStmt *) node;

				if (creates(st, cs->relation) && !cs->if_not_exists)
					already_exists(st, "relation", cs->relation->relname);
				break;
			}
		case T_CreateTableAsStmt:
			{
				CreateTableAsStmt *ctas = (CreateTableAsStmt *) node;

				if (creates(st, ctas->into->rel) && !ctas->if_not_exists)
					already_exists(st, "relation", ctas->into->rel->relname);
				break;
			}
		case T_ViewStmt:
			{
				ViewStmt   *vs = (ViewStmt *) node;

				if (creates(st, vs->view) && !vs->replace)
					already_exists(st, "relation", vs->view->relname);
				break;
			}
		case T_CreateSeqStmt:
			{
				CreateSeqStmt *cs = (CreateSeqStmt *) node;

				if (creates(st, cs->sequence) && !cs->if_not_exists)
					already_exists(st, "relation", cs->sequence->relname);
				break;
			}
		case T_CreateSchemaStmt:
			{
				CreateSchemaStmt *cs = (CreateSchemaStmt *) node;

				if (cs->schemaname != NULL && !cs->if_not_exists &&
					!names_rel(st->dropped, makeRangeVar(NULL, cs->schemaname, -1)) &&
					OidIsValid(get_namespace_oid(cs->schemaname, true)))
					already_exists(st, "schema", cs->schemaname);
				break;
			}
		case T_CreateExtensionStmt:
			{
				CreateExtensionStmt *ce = (CreateExtensionStmt *) node;

				if (!ce->if_not_exists && OidIsValid(get_extension_oid(ce->extname, true)))
					already_exists(st, "extension", ce->extname);
				break;
			}
		case T_AlterTableStmt:
			rule_alter_table(st, (AlterTableStmt *) node);
			break;
		case T_TruncateStmt:
			rule_truncate(st, (TruncateStmt *) node);
			break;
		case T_DropStmt:
			rule_drop(st, (DropStmt *) node);
			break;
		case T_DropOwnedStmt:
			{
				ListCell   *lc;

				foreach(lc, migsafe_lintdeps_owned(((DropOwnedStmt *) node)->roles, &st->rels))
					drop_relation(st, lfirst(lc), "DROP OWNED", NULL);
				break;
			}
		case T_DropdbStmt:
			finding(st, CLASS_DESTRUCTIVE, "drop_database", NULL, NoLock, -1, NULL,
					psprintf("DROP DATABASE destroys database \"%s\" and everything in it. migsafe refuses it unless the transaction approves it with SET LOCAL migsafe.approve = 'DATABASE %s'.",
							 ((DropdbStmt *) node)->dbname,
							 quote_identifier(((DropdbStmt *) node)->dbname)));
			break;
		case T_AlterSeqStmt:
			if (migsafe_classify_statement(node) == MIGSAFE_STMT_ALTER)
			{
				MigsafeLintRel    *rel = lookup(st, ((AlterSeqStmt *) node)->sequence);

				if (rel != NULL)
					destroys(st, "sequence_restart", rel, NULL, NoLock, -1,
							 psprintf("ALTER SEQUENCE ... RESTART throws away the current value of \"%s\": new rows may take key values that exist already; the sequence",
									  rel->name),
							 "Restart only to a value above every key in use (setval()).");
			}
			break;
		case T_RenameStmt:
			{
				RenameStmt *rs = (RenameStmt *) node;
				MigsafeLintRel    *rel = lookup(st, rs->relation);

				if (rel == NULL || rel->created)
					break;
				if (rs->renameType == OBJECT_COLUMN &&
					!column_is_new(st, rel, rs->subname))
					finding(st, CLASS_BREAKING, "renaming_column", rel, NoLock, -1, NULL,
							psprintf("RENAME COLUMN \"%s\" of \"%s\" to \"%s\": running application code that names the old column fails at once. Add the new column, write both, backfill, move readers over, then drop the old one.",
									 rs->subname, rel->name, rs->newname));
				else if (rs->renameType == OBJECT_TABLE || rs->renameType == OBJECT_VIEW ||
						 rs->renameType == OBJECT_MATVIEW)
				{
					finding(st, CLASS_BREAKING, "renaming_table", rel, NoLock, -1, NULL,
							psprintf("RENAME of \"%s\" to \"%s\": running application code that names the old table fails at once. Create the new name as a view first, or rename in a release where nothing uses the old name.",
									 rel->name, rs->newname));
					st->dropped = lappend(st->dropped, rel_key(rs->relation->schemaname, rs->relation->relname));
					st->created = lappend(st->created, rel_key(rs->relation->schemaname, rs->newname));
				}
				if (rs->renameType != OBJECT_INDEX)
					rule_lock_timeout(st, rel, AccessExclusiveLock);
				break;
			}
		case T_IndexStmt:
			rule_create_index(st, (IndexStmt *) node);
			break;
		case T_ReindexStmt:
			rule_reindex(st, (ReindexStmt *) node);
			break;
		case T_VacuumStmt:
			{
				VacuumStmt *vs = (VacuumStmt *) node;
				ListCell   *lc;
				bool		full = false;

				foreach(lc, vs->options)
					if (strcmp(lfirst_node(DefElem, lc)->defname, "full") == 0)
						full = lfirst_node(DefElem, lc)->arg == NULL ||
							defGetBoolean(lfirst_node(DefElem, lc));
				if (!vs->is_vacuumcmd || !full)
					break;
				foreach(lc, vs->rels)
				{
					MigsafeLintRel    *rel = lookup(st, lfirst_node(VacuumRelation, lc)->relation);

					if (rel != NULL)
						finding(st, CLASS_LOCKING, "vacuum_full", rel, AccessExclusiveLock, 1, NULL,
								psprintf("VACUUM FULL rewrites \"%s\", which %s, while holding the lock. Use pg_repack, or plain VACUUM.",
										 rel->name, migsafe_lintdeps_rows_phrase(rel)));
				}
				if (vs->rels == NIL)
					finding(st, CLASS_LOCKING, "vacuum_full", NULL, NoLock, 1, NULL,
							"VACUUM FULL rewrites every table of the database in turn, each under an ACCESS EXCLUSIVE lock that blocks reads and writes. Use pg_repack, or plain VACUUM.");
				break;
			}
		case T_ClusterStmt:
			{
				MigsafeLintRel    *rel = lookup(st, ((ClusterStmt *) node)->relation);

				if (rel == NULL || has_rows(rel))
					finding(st, CLASS_LOCKING, "cluster", rel, rel ? AccessExclusiveLock : NoLock, 1, NULL,
							"CLUSTER rewrites the table in index order while holding an ACCESS EXCLUSIVE lock, which blocks reads and writes. Use pg_repack --order-by instead.");
				break;
			}
		case T_LockStmt:
			{
				LockStmt   *ls = (LockStmt *) node;
				ListCell   *lc;

				foreach(lc, ls->relations)
				{
					MigsafeLintRel    *rel = lookup(st, lfirst_node(RangeVar, lc));

					if (rel != NULL && !rel->created)
						finding(st, CLASS_LOCKING, "lock_table", rel, (LOCKMODE) ls->mode, -1, NULL,
								"LOCK TABLE holds the lock until the transaction ends. Keep the transaction short, and set a lock_timeout before it.");
				}
				break;
			}
		case T_AlterDomainStmt:
			{
				AlterDomainStmt *ad = (AlterDomainStmt *) node;

				if (ad->subtype == 'C' &&
					!castNode(Constraint, ad->def)->skip_validation)
					finding(st, CLASS_LOCKING, "alter_domain_add_constraint", NULL, NoLock, 0, NULL,
							"ALTER DOMAIN ... ADD CONSTRAINT checks every column of the domain in every table, each under a SHARE lock that blocks writes. Add it NOT VALID, then VALIDATE CONSTRAINT.");
				break;
			}
		case T_AlterEnumStmt:
			{
				AlterEnumStmt *ae = (AlterEnumStmt *) node;

				if (ae->newVal != NULL && ae->oldVal == NULL && st->in_xact)
					st->enum_values = lappend(st->enum_values, pstrdup(ae->newVal));
				break;
			}
		default:
			break;
	}
}

static void
read_call(void *arg)
{
	LintCall   *call = arg;

	read_statement(call->st, call->stmt->raw->stmt);
}

/* ----------------------------------------------------------------
 * migsafe.check()
 * ----------------------------------------------------------------
 */

/* The rule names of a comma-separated list, or of a text[] */
static List *
exclusions(ArrayType *arr)
{
	List	   *result = NIL;
	char	   *copy;
	List	   *names;
	ListCell   *lc;

	if (migsafe_check_exclude != NULL && *migsafe_check_exclude != '\0')
	{
		copy = pstrdup(migsafe_check_exclude);
		if (SplitIdentifierString(copy, ',', &names))
			foreach(lc, names)
				result = lappend(result, pstrdup(lfirst(lc)));
	}
	if (arr != NULL)
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n;
		int			i;

		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		for (i = 0; i < n; i++)
			if (!nulls[i])
				result = lappend(result, TextDatumGetCString(elems[i]));
	}
	return result;
}

PG_FUNCTION_INFO_V1(migsafe_check);

/*
 * migsafe_check
 *
 * migsafe.check(script text, exclude text[]): one row per finding,
 * (statement_no, line, statement, class, rule, message, facts).  Never
 * raises for anything the script contains; changes nothing; leaves no
 * lock stronger than ACCESS SHARE.  The search_path a script sets is
 * applied for the call only.
 */
Datum
migsafe_check(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LintState	st;
	List	   *stmts;
	ListCell   *lc;
	int			save_nestlevel;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	InitMaterializedSRF(fcinfo, 0);
	memset(&st, 0, sizeof(st));
	st.tupstore = rsinfo->setResult;
	st.tupdesc = rsinfo->setDesc;
	st.exclude = exclusions(PG_ARGISNULL(1) ? NULL : PG_GETARG_ARRAYTYPE_P(1));
	st.timeout = st.local_timeout = -1;

	save_nestlevel = NewGUCNestLevel();
	stmts = migsafe_script_split(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	foreach(lc, stmts)
	{
		MigsafeScriptStmt *stmt = lfirst(lc);
		LintCall	call;
		ErrorData  *edata;

		CHECK_FOR_INTERRUPTS();
		st.stmt = stmt;
		if (stmt->raw == NULL)
		{
			StringInfoData extra;

			initStringInfo(&extra);
			json_num(&extra, "error_line", stmt->error_line, false);
			stmt->line = stmt->error_line;
			finding(&st, CLASS_ERROR, "syntax_error", NULL, NoLock, -1, extra.data,
					psprintf("The statement does not parse: %s (line %d).",
							 stmt->error, stmt->error_line));
			continue;
		}
		call.st = &st;
		call.stmt = stmt;
		edata = migsafe_internal_subxact(read_call, &call, true);
		if (edata != NULL)
		{
			finding(&st, CLASS_ERROR, "check_failed", NULL, NoLock, -1, NULL,
					psprintf("migsafe could not read this statement against the database: %s",
							 edata->message ? edata->message : "internal error"));
			FreeErrorData(edata);
		}
	}
	if (st.in_xact)
	{
		st.stmt = st.xact_begin;
		finding(&st, CLASS_BREAKING, "unterminated_transaction", NULL, NoLock, -1, NULL,
				"This BEGIN has no COMMIT before the script ends: when the connection closes, the transaction rolls back and nothing of the migration stays. End the script with COMMIT.");
	}
	AtEOXact_GUC(false, save_nestlevel);
	return (Datum) 0;
}
