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
 * Calls script.c, lintalter.c, findings.c, lintdeps.c, classify.c,
 * catalog.c and internal.c.
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
#include "findings.h"
#include "lintalter.h"
#include "lintdeps.h"
#include "script.h"

/* One statement read in a subtransaction */
typedef struct LintCall
{
	MigsafeLintState *st;
	MigsafeScriptStmt *stmt;
} LintCall;

/* Forget what a transaction's end undoes or makes permanent */
static void
end_transaction(MigsafeLintState *st)
{
	st->in_xact = false;
	st->created_xact = NIL;
	st->xact_begin = NULL;
	st->xact_saved = NULL;
	st->savepoints = NIL;
	st->local_timeout = -1;
	st->local_approve = NULL;
	list_free_deep(st->enum_values);
	st->enum_values = NIL;
}

/* What the script did so far, to be restored by a rollback */
static MigsafeLintSaved *
save_settings(MigsafeLintState *st, const char *name)
{
	MigsafeLintSaved *saved = palloc(sizeof(MigsafeLintSaved));

	saved->name = name ? pstrdup(name) : NULL;
	saved->timeout = st->timeout;
	saved->local_timeout = st->local_timeout;
	saved->approve = st->approve;
	saved->local_approve = st->local_approve;
	saved->created = list_copy(st->created);
	saved->created_xact = list_copy(st->created_xact);
	saved->filled = list_copy(st->filled);
	saved->dropped = list_copy(st->dropped);
	saved->renamed = list_copy(st->renamed);
	saved->renamed_columns = list_copy(st->renamed_columns);
	saved->new_columns = list_copy(st->new_columns);
	saved->added_columns = list_copy(st->added_columns);
	return saved;
}

/*
 * Undo what the script did since saved (ROLLBACK, ROLLBACK TO SAVEPOINT):
 * its settings, and the relations and columns it created, dropped or
 * renamed
 */
static void
restore_settings(MigsafeLintState *st, MigsafeLintSaved *saved)
{
	st->timeout = saved->timeout;
	st->local_timeout = saved->local_timeout;
	st->approve = saved->approve;
	st->local_approve = saved->local_approve;
	st->created = list_copy(saved->created);
	st->created_xact = list_copy(saved->created_xact);
	st->filled = list_copy(saved->filled);
	st->dropped = list_copy(saved->dropped);
	st->renamed = list_copy(saved->renamed);
	st->renamed_columns = list_copy(saved->renamed_columns);
	st->new_columns = list_copy(saved->new_columns);
	st->added_columns = list_copy(saved->added_columns);
}

/* TRUNCATE: every table it empties, as PostgreSQL expands it */
static void
rule_truncate(MigsafeLintState *st, TruncateStmt *stmt)
{
	List	   *relids = NIL;
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		RangeVar   *rv = lfirst_node(RangeVar, lc);
		MigsafeLintRel *rel = migsafe_findings_lookup(st, rv);

		if (rel != NULL && rel->created && rel->filled > 0)
			migsafe_findings_destroys(st, "truncate", rel, NULL, AccessExclusiveLock, -1,
									  psprintf("TRUNCATE removes every row of \"%s\", which", rel->name),
									  "To empty a table you may need again, rename it and create an empty one instead.");
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

		migsafe_findings_lock_timeout(st, rel, AccessExclusiveLock);
		migsafe_findings_destroys(st, "truncate", rel, NULL, AccessExclusiveLock, -1,
								  psprintf("TRUNCATE removes every row of \"%s\", which", rel->name),
								  "To empty a table you may need again, rename it and create an empty one instead.");
		pubs = migsafe_catalog_publications(rel->relid);
		if (pubs != NULL && migsafe_findings_has_rows(rel))
			migsafe_findings_emit(st, MIGSAFE_CLASS_DESTRUCTIVE, "table_in_publication", rel, NoLock, -1, NULL,
								  psprintf("\"%s\" is in %s: subscribers replicate the TRUNCATE and lose their rows too.",
										   rel->name, pubs));
	}
}

/* One relation a DROP removes (named or taken along) */
static void
drop_relation(MigsafeLintState *st, MigsafeLintRel *rel, const char *how,
			  const char *through)
{
	const char *verb = through ? "also drops" : "destroys";
	char	   *via = through ? psprintf(" (it depends on %s)", through) : "";
	char	   *pubs;

	if (rel == NULL)
		return;

	if (!migsafe_classify_relkind(rel->relkind) &&
		rel->relkind != RELKIND_PARTITIONED_TABLE)
		return;
	if (rel->relkind == RELKIND_SEQUENCE)
	{
		Oid			owner;
		int32		attnum;

		/*
		 * A sequence a column owns, taken along with its table, is decided
		 * with it; dropped by name it is data of its own.
		 */
		if (through != NULL && OidIsValid(rel->relid) &&
			migsafe_catalog_sequence_owner(rel->relid, &owner, &attnum))
			return;
		migsafe_findings_destroys(st, "drop_sequence", rel, NULL, AccessExclusiveLock, -1,
								  psprintf("%s %s sequence \"%s\"%s and its current value",
										   how, verb, rel->name, via),
								  "Drop it only once no column default uses it, and keep its last value (SELECT last_value) in case.");
	}
	else
		migsafe_findings_destroys(st, "drop_table", rel, NULL, AccessExclusiveLock, -1,
								  psprintf("%s %s %s \"%s\"%s, which", how, verb,
										   migsafe_classify_relkind_noun(rel->relkind), rel->name, via),
								  "To keep a way back, rename the table now and drop it in a later release, once nothing uses it.");
	pubs = OidIsValid(rel->relid) ? migsafe_catalog_publications(rel->relid) : NULL;
	if (pubs != NULL)
		migsafe_findings_emit(st, MIGSAFE_CLASS_BREAKING, "table_in_publication", rel, NoLock, -1, NULL,
							  psprintf("\"%s\" is in %s: subscribers stop receiving its changes and keep a copy that no longer follows this database. Remove it from the publication (ALTER PUBLICATION ... DROP TABLE) and tell the subscribers first.",
									   rel->name, pubs));
}

/* What a DROP takes along: dependents listed, data-holding ones decided */
static void
drop_dependents(MigsafeLintState *st, const ObjectAddress *root, const char *rootdesc,
				bool cascade, const char *how)
{
	MigsafeLintDeps deps;
	ListCell   *lc;

	migsafe_lintdeps_walk(root, cascade, &deps, &st->rels);
	if (!cascade && deps.blockers != NIL)
	{
		StringInfoData extra;

		initStringInfo(&extra);
		migsafe_findings_json_str(&extra, "dependents", migsafe_lintdeps_names(deps.blockers, 20));
		migsafe_findings_emit(st, MIGSAFE_CLASS_BREAKING, "drop_has_dependents", NULL, NoLock, -1, extra.data,
							  psprintf("%s fails: %s depend%s on %s. Drop or change those first; CASCADE would drop them too.",
									   how, migsafe_lintdeps_names(deps.blockers, 20),
									   list_length(deps.blockers) == 1 ? "s" : "", rootdesc));
		return;
	}
	if (deps.others != NIL)
	{
		StringInfoData extra;

		initStringInfo(&extra);
		migsafe_findings_json_str(&extra, "cascade", migsafe_lintdeps_names(deps.others, 50));
		migsafe_findings_emit(st, MIGSAFE_CLASS_BREAKING, "drop_cascade", NULL, NoLock, -1, extra.data,
							  psprintf("%s also drops what depends on %s: %s.",
									   how, rootdesc, migsafe_lintdeps_names(deps.others, 20)));
	}
	foreach(lc, deps.relations)
		drop_relation(st, lfirst(lc), how, rootdesc);
	foreach(lc, deps.columns)
	{
		MigsafeLintColumn *col = lfirst(lc);

		migsafe_findings_destroys(st, "drop_column", col->rel, col->attname, AccessExclusiveLock, -1,
								  psprintf("%s also drops column \"%s\" of \"%s\" (it depends on %s); the table",
										   how, col->attname, col->rel->name, rootdesc),
								  "Change the column's type first, or drop it on purpose in its own statement.");
	}
}

/* DROP of relations, schemas, types, extensions and the rest */
static void
rule_drop(MigsafeLintState *st, DropStmt *stmt)
{
	bool		cascade = stmt->behavior == DROP_CASCADE;
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		Node	   *object = lfirst(lc);
		ObjectAddress addr;
		Relation	relation = NULL;
		MigsafeLintRel *rel = NULL;

		if (stmt->removeType == OBJECT_TABLE || stmt->removeType == OBJECT_MATVIEW ||
			stmt->removeType == OBJECT_SEQUENCE || stmt->removeType == OBJECT_INDEX ||
			stmt->removeType == OBJECT_VIEW || stmt->removeType == OBJECT_FOREIGN_TABLE)
		{
			RangeVar   *rv = makeRangeVarFromNameList(castNode(List, object));

			rel = migsafe_findings_lookup(st, rv);
			if (rel != NULL && rel->created)
			{
				if (rel->filled > 0 && stmt->removeType != OBJECT_INDEX)
					drop_relation(st, rel, CreateCommandName((Node *) stmt), NULL);
				st->created = migsafe_findings_forget(st->created, migsafe_findings_key(rv->schemaname, rv->relname));
				continue;
			}
			if (rel == NULL)
				continue;
			st->dropped = lappend(st->dropped, migsafe_findings_key(rv->schemaname, rv->relname));
			ObjectAddressSet(addr, RelationRelationId, rel->relid);
			if (stmt->removeType == OBJECT_INDEX)
			{
				MigsafeLintRel *table = migsafe_lintdeps_rel(&st->rels,
															 IndexGetRelation(rel->relid, true));

				if (table == NULL)
					continue;	/* not an index, or gone meanwhile */
				migsafe_findings_emit(st, MIGSAFE_CLASS_BREAKING, "dropping_index", table, NoLock, -1, NULL,
									  psprintf("DROP INDEX \"%s\": queries that use it on \"%s\" get slower%s. Check that nothing needs it first.",
											   rel->name, table->name,
											   migsafe_lintdeps_index_is_unique(rel->relid) ?
											   ", and the uniqueness it enforces is gone" : ""));
				if (!stmt->concurrent && migsafe_findings_has_rows(table))
				{
					migsafe_findings_lock_timeout(st, table, AccessExclusiveLock);
					migsafe_findings_emit(st, MIGSAFE_CLASS_LOCKING, "require_concurrent_index_deletion", table,
										  AccessExclusiveLock, -1, NULL,
										  "DROP INDEX without CONCURRENTLY locks the table. Use DROP INDEX CONCURRENTLY (outside a transaction block).");
				}
			}
			else
			{
				migsafe_findings_lock_timeout(st, rel, AccessExclusiveLock);
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
rule_create_index(MigsafeLintState *st, IndexStmt *stmt)
{
	MigsafeLintRel *rel = migsafe_findings_lookup(st, stmt->relation);

	if (stmt->idxname != NULL &&
		migsafe_findings_lookup(st, makeRangeVar(stmt->relation->schemaname, stmt->idxname, -1)) != NULL)
	{
		if (!stmt->if_not_exists)
			migsafe_findings_exists(st, "index", stmt->idxname);
		return;					/* fails, or does nothing */
	}
	if (stmt->idxname != NULL)
		migsafe_findings_creates(st, makeRangeVar(stmt->relation->schemaname, stmt->idxname, -1));
	if (stmt->concurrent || !migsafe_findings_has_rows(rel))
		return;
	migsafe_findings_lock_timeout(st, rel, ShareLock);
	migsafe_findings_emit(st, MIGSAFE_CLASS_LOCKING, "require_concurrent_index_creation", rel, ShareLock, -1, NULL,
						  psprintf("CREATE INDEX without CONCURRENTLY blocks writes to \"%s\", which %s, for as long as the build takes. Use CREATE INDEX CONCURRENTLY (outside a transaction block).",
								   rel->name, migsafe_lintdeps_rows_phrase(rel)));
}

/* REINDEX */
static void
rule_reindex(MigsafeLintState *st, ReindexStmt *stmt)
{
	MigsafeLintRel *rel;

	if (migsafe_classify_concurrent((Node *) stmt) || stmt->relation == NULL)
		return;
	rel = migsafe_findings_lookup(st, stmt->relation);
	if (rel != NULL && stmt->kind == REINDEX_OBJECT_INDEX && OidIsValid(rel->relid))
		rel = migsafe_lintdeps_rel(&st->rels, IndexGetRelation(rel->relid, true));
	if (!migsafe_findings_has_rows(rel))
		return;
	migsafe_findings_emit(st, MIGSAFE_CLASS_LOCKING, "require_concurrent_reindex", rel, ShareLock, -1, NULL,
						  psprintf("REINDEX without CONCURRENTLY blocks writes to \"%s\" (and reads that use the index) while it rebuilds. Use REINDEX ... CONCURRENTLY (outside a transaction block).",
								   rel->name));
}

/* A statement PostgreSQL refuses inside a transaction block */
static void
rule_outside_transaction(MigsafeLintState *st, Node *node)
{
	if (!st->in_xact)
		return;
	if (migsafe_classify_concurrent(node))
		migsafe_findings_emit(st, MIGSAFE_CLASS_BREAKING, "concurrently_in_transaction", NULL, NoLock, -1, NULL,
							  psprintf("CONCURRENTLY cannot run inside the transaction block opened at statement %d: the statement fails. Run it in its own transaction (most migration tools have a per-migration switch for it, such as Django's atomic = False).",
									   st->xact_begin->number));
	else if (IsA(node, VacuumStmt) || IsA(node, CreatedbStmt) || IsA(node, DropdbStmt) ||
			 IsA(node, AlterSystemStmt) || IsA(node, CreateTableSpaceStmt) ||
			 IsA(node, DropTableSpaceStmt))
		migsafe_findings_emit(st, MIGSAFE_CLASS_BREAKING, "not_in_transaction_block", NULL, NoLock, -1, NULL,
							  psprintf("This statement cannot run inside the transaction block opened at statement %d: it fails. Run it in its own transaction.",
									   st->xact_begin->number));
}

/* SET and RESET of what the preview follows */
static void
rule_set(MigsafeLintState *st, VariableSetStmt *stmt)
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

	/*
	 * SET LOCAL lasts to the transaction's end; a plain SET, RESET or SET TO
	 * DEFAULT replaces it at once.  DEFAULT and RESET give back what the
	 * session started with (-1, NULL: nothing set by the script).
	 */
	if (pg_strcasecmp(stmt->name, "lock_timeout") == 0)
	{
		if (value == NULL || !parse_int(value, &ms, GUC_UNIT_MS, NULL))
			ms = -1;
		if (stmt->is_local && stmt->kind == VAR_SET_VALUE)
			st->local_timeout = ms;
		else if (stmt->is_local)
			st->local_timeout = -2; /* the server's default: see findings.c */
		else
		{
			st->timeout = ms;
			st->local_timeout = -1;
		}
	}
	else if (pg_strcasecmp(stmt->name, "migsafe.approve") == 0)
	{
		if (stmt->is_local)
			st->local_approve = value ? value : "";
		else
		{
			st->approve = value;
			st->local_approve = NULL;
		}
	}
	else if (pg_strcasecmp(stmt->name, "search_path") == 0 && value != NULL)
		(void) set_config_option("search_path", value, PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, WARNING, false);
}

/* BEGIN, COMMIT and the rest */
static void
rule_transaction(MigsafeLintState *st, TransactionStmt *stmt)
{
	switch (stmt->kind)
	{
		case TRANS_STMT_BEGIN:
		case TRANS_STMT_START:
			if (st->in_xact)
				migsafe_findings_emit(st, MIGSAFE_CLASS_ADVICE, "transaction_nesting", NULL, NoLock, -1, NULL,
									  psprintf("BEGIN inside the transaction opened at statement %d does nothing (PostgreSQL only warns), and the COMMIT that follows ends the outer transaction early. Remove the inner BEGIN; migration tools often open the transaction themselves.",
											   st->xact_begin->number));
			else
			{
				st->in_xact = true;
				st->xact_begin = st->stmt;
				st->xact_saved = save_settings(st, NULL);
			}
			break;
		case TRANS_STMT_COMMIT:
		case TRANS_STMT_ROLLBACK:
		case TRANS_STMT_PREPARE:
			if (!st->in_xact)
				migsafe_findings_emit(st, MIGSAFE_CLASS_ADVICE, "transaction_nesting", NULL, NoLock, -1, NULL,
									  "This ends a transaction the script did not open: if the migration tool opened one, it ends the tool's transaction early, and PostgreSQL only warns otherwise. Let the tool manage the transaction, or open it with BEGIN in the script.");
			/* a rollback undoes plain SETs too */
			if (stmt->kind == TRANS_STMT_ROLLBACK && st->xact_saved != NULL)
				restore_settings(st, st->xact_saved);
			end_transaction(st);
			break;
		case TRANS_STMT_SAVEPOINT:
			st->savepoints = lappend(st->savepoints,
									 save_settings(st, stmt->savepoint_name));
			break;
		case TRANS_STMT_ROLLBACK_TO:
		case TRANS_STMT_RELEASE:
			{
				int			i;

				/* the innermost savepoint of that name, and those after it */
				for (i = list_length(st->savepoints) - 1; i >= 0; i--)
				{
					MigsafeLintSaved *saved = list_nth(st->savepoints, i);

					if (saved->name == NULL || stmt->savepoint_name == NULL ||
						strcmp(saved->name, stmt->savepoint_name) != 0)
						continue;
					if (stmt->kind == TRANS_STMT_ROLLBACK_TO)
					{
						restore_settings(st, saved);
						st->savepoints = list_truncate(st->savepoints, i + 1);
					}
					else
						st->savepoints = list_truncate(st->savepoints, i);
					break;
				}
				break;
			}
		default:
			break;
	}
}

/* Whether a later statement uses an enum value added in this transaction */
static void
rule_enum_values(MigsafeLintState *st)
{
	ListCell   *lc;

	foreach(lc, st->enum_values)
	{
		char	   *quoted = quote_literal_cstr(lfirst(lc));

		if (strstr(st->stmt->text, quoted) != NULL)
			migsafe_findings_emit(st, MIGSAFE_CLASS_BREAKING, "enum_value_used_in_transaction", NULL, NoLock, -1, NULL,
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
read_statement(MigsafeLintState *st, Node *node)
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

				ListCell   *lc;

				if (migsafe_findings_creates(st, cs->relation) && !cs->if_not_exists)
					migsafe_findings_exists(st, "relation", cs->relation->relname);
				foreach(lc, cs->tableElts)
					if (IsA(lfirst(lc), ColumnDef))
					migsafe_lintalter_column_type(st, NULL, lfirst(lc));
				break;
			}
		case T_CreateTableAsStmt:
			{
				CreateTableAsStmt *ctas = (CreateTableAsStmt *) node;

				if (migsafe_findings_creates(st, ctas->into->rel) && !ctas->if_not_exists)
					migsafe_findings_exists(st, "relation", ctas->into->rel->relname);
				if (!ctas->into->skipData)
					migsafe_findings_fills(st, ctas->into->rel);
				break;
			}
		case T_ViewStmt:
			{
				ViewStmt   *vs = (ViewStmt *) node;

				if (migsafe_findings_creates(st, vs->view) && !vs->replace)
					migsafe_findings_exists(st, "relation", vs->view->relname);
				break;
			}
		case T_CreateSeqStmt:
			{
				CreateSeqStmt *cs = (CreateSeqStmt *) node;

				if (migsafe_findings_creates(st, cs->sequence) && !cs->if_not_exists)
					migsafe_findings_exists(st, "relation", cs->sequence->relname);
				break;
			}
		case T_CreateSchemaStmt:
			{
				CreateSchemaStmt *cs = (CreateSchemaStmt *) node;

				if (cs->schemaname != NULL && !cs->if_not_exists &&
					!migsafe_findings_names(st->dropped, makeRangeVar(NULL, cs->schemaname, -1)) &&
					OidIsValid(get_namespace_oid(cs->schemaname, true)))
					migsafe_findings_exists(st, "schema", cs->schemaname);
				break;
			}
		case T_CreateExtensionStmt:
			{
				CreateExtensionStmt *ce = (CreateExtensionStmt *) node;

				if (!ce->if_not_exists && OidIsValid(get_extension_oid(ce->extname, true)))
					migsafe_findings_exists(st, "extension", ce->extname);
				break;
			}
		case T_AlterTableStmt:
			migsafe_lintalter_table(st, (AlterTableStmt *) node);
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
			migsafe_findings_emit(st, MIGSAFE_CLASS_DESTRUCTIVE, "drop_database", NULL, NoLock, -1, NULL,
								  psprintf("DROP DATABASE destroys database \"%s\" and everything in it. migsafe refuses it unless the transaction approves it with SET LOCAL migsafe.approve = 'DATABASE %s'.",
										   ((DropdbStmt *) node)->dbname,
										   quote_identifier(((DropdbStmt *) node)->dbname)));
			break;
		case T_AlterSeqStmt:
			if (migsafe_classify_statement(node) == MIGSAFE_STMT_ALTER)
			{
				MigsafeLintRel *rel = migsafe_findings_lookup(st, ((AlterSeqStmt *) node)->sequence);

				if (rel != NULL)
					migsafe_findings_destroys(st, "sequence_restart", rel, NULL, NoLock, -1,
											  psprintf("ALTER SEQUENCE ... RESTART throws away the current value of \"%s\": new rows may take key values that exist already; the sequence",
													   rel->name),
											  "Restart only to a value above every key in use (setval()).");
			}
			break;
		case T_RenameStmt:
			{
				RenameStmt *rs = (RenameStmt *) node;
				MigsafeLintRel *rel = migsafe_findings_lookup(st, rs->relation);

				if (rel == NULL)
					break;
				if (rel->created)
				{
					if (rs->renameType == OBJECT_TABLE && rs->subname == NULL)
						migsafe_findings_moved(st, rs->relation, rel, NULL, rs->newname);
					break;
				}
				if (rs->renameType == OBJECT_COLUMN)
					migsafe_findings_column_renamed(st, rel, rs->subname, rs->newname);
				if (rs->renameType == OBJECT_COLUMN &&
					!migsafe_findings_new_column(st, rel, rs->subname))
					migsafe_findings_emit(st, MIGSAFE_CLASS_BREAKING, "renaming_column", rel, NoLock, -1, NULL,
										  psprintf("RENAME COLUMN \"%s\" of \"%s\" to \"%s\": running application code that names the old column fails at once. Add the new column, write both, backfill, move readers over, then drop the old one.",
												   rs->subname, rel->name, rs->newname));
				else if (rs->renameType == OBJECT_TABLE || rs->renameType == OBJECT_VIEW ||
						 rs->renameType == OBJECT_MATVIEW)
				{
					migsafe_findings_emit(st, MIGSAFE_CLASS_BREAKING, "renaming_table", rel, NoLock, -1, NULL,
										  psprintf("RENAME of \"%s\" to \"%s\": running application code that names the old table fails at once. Create the new name as a view first, or rename in a release where nothing uses the old name.",
												   rel->name, rs->newname));
					migsafe_findings_moved(st, rs->relation, rel, NULL, rs->newname);
				}
				if (rs->renameType != OBJECT_INDEX)
					migsafe_findings_lock_timeout(st, rel, AccessExclusiveLock);
				break;
			}
		case T_AlterObjectSchemaStmt:
			{
				AlterObjectSchemaStmt *as = (AlterObjectSchemaStmt *) node;
				MigsafeLintRel *rel = as->relation ?
				migsafe_findings_lookup(st, as->relation) : NULL;

				if (rel != NULL)
					migsafe_findings_moved(st, as->relation, rel, as->newschema,
										   as->relation->relname);
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
					MigsafeLintRel *rel = migsafe_findings_lookup(st, lfirst_node(VacuumRelation, lc)->relation);

					if (rel != NULL)
						migsafe_findings_emit(st, MIGSAFE_CLASS_LOCKING, "vacuum_full", rel, AccessExclusiveLock, 1, NULL,
											  psprintf("VACUUM FULL rewrites \"%s\", which %s, while holding the lock. Use pg_repack, or plain VACUUM.",
													   rel->name, migsafe_lintdeps_rows_phrase(rel)));
				}
				if (vs->rels == NIL)
					migsafe_findings_emit(st, MIGSAFE_CLASS_LOCKING, "vacuum_full", NULL, NoLock, 1, NULL,
										  "VACUUM FULL rewrites every table of the database in turn, each under an ACCESS EXCLUSIVE lock that blocks reads and writes. Use pg_repack, or plain VACUUM.");
				break;
			}
		case T_ClusterStmt:
			{
				MigsafeLintRel *rel = migsafe_findings_lookup(st, ((ClusterStmt *) node)->relation);

				if (rel == NULL || migsafe_findings_has_rows(rel))
					migsafe_findings_emit(st, MIGSAFE_CLASS_LOCKING, "cluster", rel, rel ? AccessExclusiveLock : NoLock, 1, NULL,
										  "CLUSTER rewrites the table in index order while holding an ACCESS EXCLUSIVE lock, which blocks reads and writes. Use pg_repack --order-by instead.");
				break;
			}
		case T_LockStmt:
			{
				LockStmt   *ls = (LockStmt *) node;
				ListCell   *lc;

				foreach(lc, ls->relations)
				{
					MigsafeLintRel *rel = migsafe_findings_lookup(st, lfirst_node(RangeVar, lc));

					if (rel != NULL && !rel->created)
						migsafe_findings_emit(st, MIGSAFE_CLASS_LOCKING, "lock_table", rel, (LOCKMODE) ls->mode, -1, NULL,
											  "LOCK TABLE holds the lock until the transaction ends. Keep the transaction short, and set a lock_timeout before it.");
				}
				break;
			}
		case T_CreateDomainStmt:
			if (((CreateDomainStmt *) node)->constraints != NIL)
				migsafe_findings_emit(st, MIGSAFE_CLASS_ADVICE, "ban_create_domain_with_constraint", NULL, NoLock, -1, NULL,
									  "A domain's constraint is checked on every column of the domain in every table: changing it later scans them all, each table under a lock that blocks writes. Put the CHECK on the table's column instead.");
			break;
		case T_AlterDomainStmt:
			{
				AlterDomainStmt *ad = (AlterDomainStmt *) node;

				if (ad->subtype == 'C' &&
					!castNode(Constraint, ad->def)->skip_validation)
					migsafe_findings_emit(st, MIGSAFE_CLASS_LOCKING, "alter_domain_add_constraint", NULL, NoLock, 0, NULL,
										  "ALTER DOMAIN ... ADD CONSTRAINT checks every column of the domain in every table, each under a SHARE lock that blocks writes. Add it NOT VALID, then VALIDATE CONSTRAINT.");
				break;
			}
		case T_DiscardStmt:
			if (((DiscardStmt *) node)->target == DISCARD_ALL)
			{
				st->timeout = st->local_timeout = -1;
				st->approve = st->local_approve = NULL;
			}
			break;
		case T_SelectStmt:
			{
				IntoClause *into = ((SelectStmt *) node)->intoClause;

				if (into != NULL)
				{
					if (migsafe_findings_creates(st, into->rel))
						migsafe_findings_exists(st, "relation", into->rel->relname);
					migsafe_findings_fills(st, into->rel);
				}
				break;
			}
		case T_InsertStmt:
			migsafe_findings_fills(st, ((InsertStmt *) node)->relation);
			break;
		case T_MergeStmt:
			migsafe_findings_fills(st, ((MergeStmt *) node)->relation);
			break;
		case T_CopyStmt:
			if (((CopyStmt *) node)->is_from)
				migsafe_findings_fills(st, ((CopyStmt *) node)->relation);
			break;
		case T_DoStmt:
		case T_CallStmt:
		case T_ExecuteStmt:
			migsafe_findings_fills(st, NULL);	/* may write anywhere */
			break;
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
	MigsafeLintState st;
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
			migsafe_findings_json_num(&extra, "error_line", stmt->error_line, false);
			stmt->line = stmt->error_line;
			migsafe_findings_emit(&st, MIGSAFE_CLASS_ERROR, "syntax_error", NULL, NoLock, -1, extra.data,
								  psprintf("The statement does not parse: %s (line %d).",
										   stmt->error, stmt->error_line));
			continue;
		}
		call.st = &st;
		call.stmt = stmt;
		edata = migsafe_internal_subxact(read_call, &call, true);
		if (edata != NULL)
		{
			migsafe_findings_emit(&st, MIGSAFE_CLASS_ERROR, "check_failed", NULL, NoLock, -1, NULL,
								  psprintf("migsafe could not read this statement against the database: %s",
										   edata->message ? edata->message : "internal error"));
			FreeErrorData(edata);
		}
		migsafe_findings_end_statement(&st);
	}
	if (st.in_xact)
	{
		st.stmt = st.xact_begin;
		migsafe_findings_emit(&st, MIGSAFE_CLASS_BREAKING, "unterminated_transaction", NULL, NoLock, -1, NULL,
							  "This BEGIN has no COMMIT before the script ends: when the connection closes, the transaction rolls back and nothing of the migration stays. End the script with COMMIT.");
	}
	AtEOXact_GUC(false, save_nestlevel);
	return (Datum) 0;
}
