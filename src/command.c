/*-------------------------------------------------------------------------
 *
 * command.c
 *	  Guarded statements and their targets: the frame stack, building
 *	  targets, and naming them in messages and audit rows.
 *
 * The ProcessUtility hook pushes one MigsafeCommand frame per guarded
 * statement (frames nest: a DO block runs a DROP) and pops it when the
 * statement ends, whether it succeeded or not.  A frame and its targets
 * live in a memory context of their own, a child of the statement's
 * context.  The object-access hook finds the innermost frame here to
 * collect what a dry run drops or to accept what the statement decided.
 * The stack is reset at transaction end, in case an error left frames
 * behind.
 *
 * Calls only approval.c (the names objects had when the transaction
 * began), catalog.c and classify.c.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/command.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "parser/scanner.h"
#include "parser/scansup.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "migsafe.h"
#include "approval.h"
#include "catalog.h"
#include "classify.h"
#include "command.h"

/* Longest statement text kept with a command */
#define MIGSAFE_STATEMENT_MAX	1000

/* The innermost guarded statement */
static MigsafeCommand *current_command = NULL;

/* ----------------------------------------------------------------
 * Frames
 * ----------------------------------------------------------------
 */

/* Whether the word at s[pos] is kw (ASCII, any case, a whole word) */
static bool
word_at(const char *s, int pos, const char *kw)
{
	int			n = strlen(kw);
	char		next;

	if (pg_strncasecmp(s + pos, kw, n) != 0)
		return false;
	next = s[pos + n];
	return !(IS_HIGHBIT_SET(next) || isalnum((unsigned char) next) ||
			 next == '_' || next == '$');
}

/* Whether a token at s[pos] is a string literal ('...', E'...', $$...$$) */
static bool
literal_at(const char *s, int pos)
{
	return s[pos] == '\'' || s[pos] == '$' ||
		((s[pos] == 'E' || s[pos] == 'e' || s[pos] == 'N' || s[pos] == 'n') &&
		 s[pos + 1] == '\'') ||
		((s[pos] == 'U' || s[pos] == 'u') && s[pos + 1] == '&' && s[pos + 2] == '\'');
}

/* Copy text into buf with every literal after PASSWORD or CONNECTION masked */
static void
mask_literals(StringInfo buf, const char *text)
{
	core_yyscan_t yyscanner;
	core_yy_extra_type yyextra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	int			copied = 0;
	int			pending = -1;	/* start of a literal being masked */
	bool		secret_next = false;

	yyscanner = scanner_init(text, &yyextra, &ScanKeywords, ScanKeywordTokens);
	for (;;)
	{
		int			tok = core_yylex(&yylval, &yylloc, yyscanner);
		int			at = tok == 0 ? (int) strlen(text) : yylloc;

		if (pending >= 0)
		{
			int			end = at;

			while (end > pending && scanner_isspace(text[end - 1]))
				end--;
			appendBinaryStringInfo(buf, text + copied, pending - copied);
			appendStringInfoString(buf, "'********'");
			copied = end;
			pending = -1;
		}
		if (tok == 0)
			break;
		if (secret_next && literal_at(text, yylloc))
			pending = yylloc;
		secret_next = word_at(text, yylloc, "password") ||
			word_at(text, yylloc, "connection");
	}
	scanner_finish(yyscanner);
	appendStringInfoString(buf, text + copied);
}

/*
 * mask_secrets
 *
 * A statement that can carry a password (CREATE/ALTER ROLE ... PASSWORD,
 * a user mapping's or server's password option, a subscription's
 * connection string), with the secret replaced by '********', as it is
 * recorded in the audit log, the server log and error messages.  Should
 * the text not scan, none of it is kept.
 */
static char *
mask_secrets(const char *text)
{
	MemoryContext cxt = CurrentMemoryContext;
	StringInfoData buf;

	initStringInfo(&buf);
	PG_TRY();
	{
		mask_literals(&buf, text);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		resetStringInfo(&buf);
		appendStringInfoString(&buf, "(statement not recorded: it may hold a password)");
	}
	PG_END_TRY();
	return buf.data;
}

/*
 * migsafe_command_statement_text
 *
 * Cut one statement out of a possibly multi-statement string, without
 * its trailing semicolon, with any password masked, at most
 * MIGSAFE_STATEMENT_MAX bytes.
 */
char	   *
migsafe_command_statement_text(PlannedStmt *pstmt, const char *queryString)
{
	int			loc = pstmt->stmt_location;
	int			len = pstmt->stmt_len;

	if (queryString == NULL)
		return "";
	if (loc < 0 || loc > (int) strlen(queryString))
		loc = 0;
	if (len <= 0)
		len = strlen(queryString) - loc;
	while (len > 0 && scanner_isspace(queryString[loc]))
		loc++, len--;
	while (len > 0 && (scanner_isspace(queryString[loc + len - 1]) ||
					   queryString[loc + len - 1] == ';'))
		len--;
	if (pstmt->utilityStmt != NULL &&
		migsafe_classify_has_secret(pstmt->utilityStmt))
	{
		queryString = mask_secrets(pnstrdup(queryString + loc, len));
		loc = 0;
		len = strlen(queryString);
	}
	if (len > MIGSAFE_STATEMENT_MAX)
		return psprintf("%.*s...",
						pg_mbcliplen(queryString + loc, len,
									 MIGSAFE_STATEMENT_MAX),
						queryString + loc);
	return pnstrdup(queryString + loc, len);
}

/* A new frame on top of the stack, in a child of the current context */
static MigsafeCommand *
push_frame(void)
{
	MigsafeCommand *cmd;

	cmd = MemoryContextAllocZero(CurrentMemoryContext, sizeof(MigsafeCommand));
	cmd->cxt = AllocSetContextCreate(CurrentMemoryContext, "migsafe command",
									 ALLOCSET_SMALL_SIZES);
	cmd->outer = current_command;
	current_command = cmd;
	return cmd;
}

/*
 * migsafe_command_push
 *
 * Push the frame of a statement about to be guarded: its tag, its own
 * text cut out of the query string, and the WAL position before it runs.
 * The caller must hand it to migsafe_command_pop() however the statement
 * ends.
 */
MigsafeCommand *
migsafe_command_push(PlannedStmt *pstmt, const char *queryString,
					 ProcessUtilityContext context)
{
	MigsafeCommand *cmd = push_frame();

	cmd->parsetree = pstmt->utilityStmt;
	cmd->tag = GetCommandTagName(CreateCommandTag(pstmt->utilityStmt));
	cmd->stmt_text = migsafe_command_statement_text(pstmt, queryString);
	cmd->nested = context != PROCESS_UTILITY_TOPLEVEL;
	cmd->wal_lsn = GetXLogInsertRecPtr();
	return cmd;
}

/*
 * migsafe_command_push_muted
 *
 * Push the frame of a statement run inside a dry run (by an ENABLE ALWAYS
 * event trigger): rolled back with it and not the dry-run statement's
 * doing, so the object-access hook collects nothing while it runs.
 */
MigsafeCommand *
migsafe_command_push_muted(void)
{
	MigsafeCommand *cmd = push_frame();

	cmd->muted = true;
	return cmd;
}

/* Pop a frame (NULL is accepted) and free its memory */
void
migsafe_command_pop(MigsafeCommand *cmd)
{
	if (cmd == NULL)
		return;
	current_command = cmd->outer;
	MemoryContextDelete(cmd->cxt);
	pfree(cmd);
}

/* The innermost frame, or NULL outside any guarded statement */
MigsafeCommand *
migsafe_command_current(void)
{
	return current_command;
}

/*
 * migsafe_command_standalone
 *
 * Fill a frame the caller owns (on its stack, never pushed) for a decision
 * made outside any guarded statement: DROP DATABASE, a security label, an
 * object the object-access hook sees without a frame.  Its targets are
 * allocated in the current memory context.
 */
void
migsafe_command_standalone(MigsafeCommand *cmd, const char *tag,
						   const char *stmt_text, Oid audit_dbid)
{
	memset(cmd, 0, sizeof(MigsafeCommand));
	cmd->cxt = CurrentMemoryContext;
	cmd->tag = tag;
	cmd->stmt_text = pstrdup(stmt_text ? stmt_text : "");
	cmd->destructive = true;
	cmd->wal_lsn = GetXLogInsertRecPtr();
	cmd->audit_dbid = audit_dbid;
}

/* At transaction end: frames an error left behind are gone with memory */
void
migsafe_command_at_eoxact(void)
{
	current_command = NULL;
}

/* ----------------------------------------------------------------
 * Targets
 * ----------------------------------------------------------------
 */

/* The target of cmd for an object, or NULL */
MigsafeTarget *
migsafe_command_find(MigsafeCommand *cmd, Oid classid, Oid objid, int32 subid)
{
	ListCell   *lc;

	foreach(lc, cmd->targets)
	{
		MigsafeTarget *t = lfirst(lc);

		if (t->classid == classid && t->objid == objid && t->subid == subid)
			return t;
	}
	return NULL;
}

/* A new target of cmd, allocated in its context */
static MigsafeTarget *
new_target(MigsafeCommand *cmd, MigsafeOp op, Oid classid, Oid objid,
		   int32 subid)
{
	MigsafeTarget *t = MemoryContextAllocZero(cmd->cxt, sizeof(MigsafeTarget));

	t->op = op;
	t->classid = classid;
	t->objid = objid;
	t->subid = subid;
	t->bytes = -1;
	return t;
}

/*
 * migsafe_command_refresh_names
 *
 * (Re)read the current names and the approval identity of a relation or
 * column target.  Returns false when the object no longer exists.
 * Allocates in the current memory context.
 */
bool
migsafe_command_refresh_names(MigsafeTarget *t)
{
	char	   *id_nsp;
	char	   *id_rel;
	char	   *id_att = NULL;

	t->relkind = get_rel_relkind(t->objid);
	t->relname = get_rel_name(t->objid);
	if (t->relkind == '\0' || t->relname == NULL)
		return false;
	t->nspname = get_namespace_name(get_rel_namespace(t->objid));
	t->attname = NULL;
	if (t->subid > 0)
	{
		t->attname = get_attname(t->objid, (AttrNumber) t->subid, true);
		if (t->attname == NULL)
			return false;
		id_att = migsafe_approval_att_identity(t->objid, (AttrNumber) t->subid);
	}
	migsafe_approval_rel_identity(t->objid, &id_nsp, &id_rel);
	t->renamed = strcmp(id_nsp, t->nspname) != 0 ||
		strcmp(id_rel, t->relname) != 0 ||
		(id_att != NULL && strcmp(id_att, t->attname) != 0);
	t->orig_name = id_att ? psprintf("%s.%s.%s", id_nsp, id_rel, id_att) :
		psprintf("%s.%s", id_nsp, id_rel);
	if (id_att != NULL)
		t->ident = psprintf("%s.%s.%s", quote_identifier(id_nsp),
							quote_identifier(id_rel), quote_identifier(id_att));
	else
		t->ident = psprintf("%s.%s", quote_identifier(id_nsp),
							quote_identifier(id_rel));
	return true;
}

/*
 * migsafe_command_add_relation
 *
 * Add a relation (subid 0) or column target to cmd, once.  Returns the
 * target, or NULL when the relation holds no data of its own (temporary,
 * view, index...) or no longer exists.  Partitioned tables are kept, to
 * name the tree in hints; their columns are not.
 */
MigsafeTarget *
migsafe_command_add_relation(MigsafeCommand *cmd, MigsafeOp op, Oid relid,
							 int32 subid)
{
	MigsafeTarget *t = migsafe_command_find(cmd, RelationRelationId, relid,
											subid);
	MemoryContext old;
	char		relkind = get_rel_relkind(relid);

	if (t != NULL)
		return t;
	if (!migsafe_classify_relkind(relkind) &&
		!(relkind == RELKIND_PARTITIONED_TABLE && subid == 0))
		return NULL;
	if (isAnyTempNamespace(get_rel_namespace(relid)))
		return NULL;
	t = new_target(cmd, op, RelationRelationId, relid, subid);
	old = MemoryContextSwitchTo(cmd->cxt);
	if (!migsafe_command_refresh_names(t))
		t = NULL;
	else
		cmd->targets = lappend(cmd->targets, t);
	MemoryContextSwitchTo(old);
	return t;
}

/*
 * migsafe_command_add_database
 *
 * Add a database target (DROP DATABASE, or its guard mark removed) to cmd.
 */
MigsafeTarget *
migsafe_command_add_database(MigsafeCommand *cmd, MigsafeOp op, Oid dboid,
							 const char *dbname)
{
	MigsafeTarget *t = new_target(cmd, op, DatabaseRelationId, dboid, 0);
	MemoryContext old = MemoryContextSwitchTo(cmd->cxt);

	t->relname = pstrdup(dbname);
	t->ident = psprintf("DATABASE %s", quote_identifier(dbname));
	t->orig_name = t->ident;
	cmd->targets = lappend(cmd->targets, t);
	MemoryContextSwitchTo(old);
	return t;
}

/*
 * The identity of an object just created, not visible to syscaches yet,
 * for the audit log: "new trigger on migsafe.audit_log".
 */
static char *
new_object_identity(Oid classid, Oid objid, const char *type)
{
	Oid			owner = InvalidOid;

	(void) migsafe_catalog_is_migsafe_object(classid, objid, &owner);
	if (OidIsValid(owner) && get_rel_name(owner) != NULL)
		return psprintf("new %s on %s", type,
						quote_qualified_identifier(get_namespace_name(get_rel_namespace(owner)),
												   get_rel_name(owner)));
	return psprintf("new %s", type);
}

/* The description of an object just created, not visible to syscaches yet */
static char *
new_object_description(Oid classid, Oid objid)
{
	Oid			owner = InvalidOid;
	ObjectAddress addr;
	char	   *rel;

	(void) migsafe_catalog_is_migsafe_object(classid, objid, &owner);
	ObjectAddressSet(addr, RelationRelationId, owner);
	rel = OidIsValid(owner) ? getObjectDescription(&addr, true) : NULL;
	if (rel == NULL)
		return pstrdup(_("new object in schema migsafe"));
	switch (classid)
	{
		case TriggerRelationId:
			return psprintf(_("new trigger on %s"), rel);
		case RewriteRelationId:
			return psprintf(_("new rule on %s"), rel);
		case PolicyRelationId:
			return psprintf(_("new policy on %s"), rel);
		case ConstraintRelationId:
			return psprintf(_("new constraint on %s"), rel);
		case AttrDefaultRelationId:
			return psprintf(_("new default on %s"), rel);
		case StatisticExtRelationId:
			return psprintf(_("new statistics object on %s"), rel);
		default:
			return psprintf(_("new object on %s"), rel);
	}
}

/*
 * migsafe_command_add_object
 *
 * Add the target for an object seen by the object-access hook: a data
 * relation or column, the migsafe extension, or (protected) another of
 * migsafe's own objects.  Returns NULL when the object is not a target.
 */
MigsafeTarget *
migsafe_command_add_object(MigsafeCommand *cmd, MigsafeOp op, Oid classid,
						   Oid objid, int32 subid, bool protected)
{
	MigsafeTarget *t;
	MemoryContext old;
	ObjectAddress addr;

	if (!protected && classid == RelationRelationId)
		return migsafe_command_add_relation(cmd, op, objid, subid);
	if ((t = migsafe_command_find(cmd, classid, objid, subid)) != NULL)
		return t;

	t = new_target(cmd, op, classid, objid, subid);
	old = MemoryContextSwitchTo(cmd->cxt);
	if (!protected)
	{
		/* the migsafe extension itself: its guard is data */
		t->relname = pstrdup("migsafe");
		t->ident = pstrdup("migsafe.*");
		t->orig_name = t->ident;
	}
	else
	{
		ObjectAddressSubSet(addr, classid, objid,
							classid == RelationRelationId ? subid : 0);
		t->protected = true;
		t->obj_type = getObjectTypeDescription(&addr, true);
		t->obj_identity = getObjectIdentity(&addr, true);
		t->obj_desc = getObjectDescription(&addr, true);
		if (t->obj_type == NULL)
			t->obj_type = pstrdup("object");
		if (t->obj_desc == NULL)
			t->obj_desc = new_object_description(classid, objid);
		if (t->obj_identity == NULL)
			t->obj_identity = new_object_identity(classid, objid, t->obj_type);
		t->ident = pstrdup("migsafe.*");
		t->orig_name = t->obj_identity;
	}
	cmd->targets = lappend(cmd->targets, t);
	MemoryContextSwitchTo(old);
	return t;
}

/*
 * migsafe_command_note_dropped
 *
 * In a dry run: remember every object the statement drops (a DROP TABLE
 * that takes nothing but its own parts may move the table instead).
 */
void
migsafe_command_note_dropped(MigsafeCommand *cmd, Oid classid, Oid objid,
							 int32 subid)
{
	MemoryContext old = MemoryContextSwitchTo(cmd->cxt);
	ObjectAddress *addr = palloc(sizeof(ObjectAddress));

	ObjectAddressSubSet(*addr, classid, objid, subid);
	cmd->dropped = lappend(cmd->dropped, addr);
	MemoryContextSwitchTo(old);
}

/*
 * migsafe_command_decided
 *
 * The target the innermost statement decided for this object and
 * operation, or NULL.  Decisions of outer statements are not reused: the
 * object may have changed since (rows inserted by a trigger, say), so an
 * inner statement's undecided objects are decided afresh.
 */
MigsafeTarget *
migsafe_command_decided(MigsafeOp op, Oid classid, Oid objid, int32 subid)
{
	MigsafeTarget *t;

	if (current_command == NULL)
		return NULL;
	t = migsafe_command_find(current_command, classid, objid, subid);
	if (t == NULL || t->decision == MIGSAFE_DECISION_NONE ||
		(t->op == MIGSAFE_OP_TRUNCATE) != (op == MIGSAFE_OP_TRUNCATE))
		return NULL;
	return t;
}

/*
 * migsafe_command_truncate_approved
 *
 * For the TRUNCATE triggers of migsafe's tables: whether the statement
 * running now is a TRUNCATE the gate let through for relid.  A TRUNCATE
 * applied by logical replication runs no hook, so it finds no decision.
 */
bool
migsafe_command_truncate_approved(Oid relid)
{
	MigsafeTarget *t = migsafe_command_decided(MIGSAFE_OP_TRUNCATE,
											   RelationRelationId, relid, 0);

	return t != NULL && t->decision != MIGSAFE_DECISION_BLOCKED;
}

/* ----------------------------------------------------------------
 * Naming targets
 * ----------------------------------------------------------------
 */

/* Name of a decision, for traces and the audit log */
const char *
migsafe_command_decision_name(MigsafeDecision decision)
{
	switch (decision)
	{
		case MIGSAFE_DECISION_NONE:
			return "undecided";
		case MIGSAFE_DECISION_NO_DATA:
			return "no data";
		case MIGSAFE_DECISION_SCRATCH:
			return "scratch";
		case MIGSAFE_DECISION_OFF:
			return "off";
		case MIGSAFE_DECISION_NEW:
			return "new";
		case MIGSAFE_DECISION_EMPTY:
			return "empty";
		case MIGSAFE_DECISION_APPROVED:
			return "approved";
		case MIGSAFE_DECISION_EXEMPT:
			return "exempt";
		case MIGSAFE_DECISION_WARNED:
			return "warned";
		case MIGSAFE_DECISION_REHEARSED:
			return "rehearsed";
		case MIGSAFE_DECISION_BLOCKED:
			return "blocked";
	}
	return "undecided";			/* keep compiler quiet */
}

/* The display name of a target: "public.orders" or "public.orders.note" */
char	   *
migsafe_command_display_name(MigsafeTarget *t)
{
	if (t->protected)
		return t->obj_identity;
	if (t->classid != RelationRelationId)
		return t->relname;
	if (t->subid > 0)
		return psprintf("%s.%s.%s", t->nspname, t->relname, t->attname);
	return psprintf("%s.%s", t->nspname, t->relname);
}

/*
 * migsafe_command_description
 *
 * A target as messages name it, translated, as getObjectDescription()
 * names objects: 'table "public.orders"', 'column "public.orders.note"'.
 */
char	   *
migsafe_command_description(MigsafeTarget *t)
{
	char	   *name = migsafe_command_display_name(t);

	if (t->protected)
		return t->obj_desc;
	if (t->classid == DatabaseRelationId)
		return psprintf(_("database \"%s\""), name);
	if (t->classid == ExtensionRelationId)
		return psprintf(_("extension \"%s\""), name);
	if (t->subid > 0)
		return psprintf(_("column \"%s\""), name);
	switch (t->relkind)
	{
		case RELKIND_MATVIEW:
			return psprintf(_("materialized view \"%s\""), name);
		case RELKIND_SEQUENCE:
			return psprintf(_("sequence \"%s\""), name);
		case RELKIND_PARTITIONED_TABLE:
			return psprintf(_("partitioned table \"%s\""), name);
		default:
			return psprintf(_("table \"%s\""), name);
	}
}

/* The type of a target, as the audit log's object_type names it */
const char *
migsafe_command_noun(MigsafeTarget *t)
{
	if (t->protected)
		return t->obj_type;
	if (t->classid == DatabaseRelationId)
		return "database";
	if (t->classid == ExtensionRelationId)
		return "extension";
	if (t->subid > 0)
		return "column";
	return migsafe_classify_relkind_noun(t->relkind);
}

/* The identity of a target, as PostgreSQL names objects (quoted) */
char	   *
migsafe_command_identity(MigsafeTarget *t)
{
	if (t->protected)
		return t->obj_identity;
	if (t->classid == DatabaseRelationId)
		return pstrdup(quote_identifier(t->relname));
	if (t->classid == ExtensionRelationId)
		return pstrdup("migsafe");
	if (t->subid > 0)
		return psprintf("%s.%s", quote_qualified_identifier(t->nspname, t->relname),
						quote_identifier(t->attname));
	return quote_qualified_identifier(t->nspname, t->relname);
}

/* pg_size_pretty() of a size */
static char *
pretty_size(int64 bytes)
{
	return text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_size_pretty,
															  Int64GetDatum(bytes))));
}

/* The sentence saying what a measured relation (not a column) holds */
static void
describe_rows(StringInfo buf, MigsafeTarget *t, const char *name,
			  const char *size)
{
	bool		matview = t->relkind == RELKIND_MATVIEW;

	if (t->rows_exact && matview)
		appendStringInfo(buf,
						 ngettext("Materialized view \"%s\" holds %.0f row (%s).",
								  "Materialized view \"%s\" holds %.0f rows (%s).",
								  (unsigned long) t->rows),
						 name, t->rows, size);
	else if (t->rows_exact)
		appendStringInfo(buf,
						 ngettext("Table \"%s\" holds %.0f row (%s).",
								  "Table \"%s\" holds %.0f rows (%s).",
								  (unsigned long) t->rows),
						 name, t->rows, size);
	else if (matview)
		appendStringInfo(buf, _("Materialized view \"%s\" holds about %.0f rows (%s)."),
						 name, t->rows, size);
	else
		appendStringInfo(buf, _("Table \"%s\" holds about %.0f rows (%s)."),
						 name, t->rows, size);
}

/*
 * may_see_figures
 *
 * Whether the current user may learn how much a target holds: its rows and
 * size are shown only to roles that may read it (SELECT on the table, or
 * on the column, with USAGE on its schema and no row level security in
 * the way).  Others (a TRUNCATE-only grantee, a schema owner whose CASCADE
 * reaches another role's table) learn that it holds data.
 */
static bool
may_see_figures(MigsafeTarget *t)
{
	if (t->classid != RelationRelationId || t->protected)
		return true;
	return migsafe_catalog_may_read(t->objid, (AttrNumber) Max(t->subid, 0));
}

/*
 * describe
 *
 * Append to buf one sentence (two for a renamed object) saying what a
 * target holds; with figures false, that it holds data, without rows or
 * size.
 */
static void
describe(StringInfo buf, MigsafeTarget *t, bool figures)
{
	char	   *name = migsafe_command_display_name(t);
	char	   *size = t->bytes >= 0 ? pretty_size(t->bytes) : "?";

	if (buf->len > 0)
		appendStringInfoChar(buf, ' ');

	if (t->classid == DatabaseRelationId && t->bytes >= 0)
		appendStringInfo(buf, _("Database \"%s\" is guarded by migsafe and holds %s."),
						 name, size);
	else if (t->classid == DatabaseRelationId)
		appendStringInfo(buf, _("Database \"%s\" is guarded by migsafe."), name);
	else if (t->classid == ExtensionRelationId)
		appendStringInfoString(buf, _("Dropping extension \"migsafe\" removes the guard from this database."));
	else if (t->protected && t->classid == TriggerRelationId &&
			 !migsafe_catalog_is_migsafe_object(t->classid, t->objid, NULL))
		appendStringInfo(buf, _("The %s belongs to migsafe: it guards the table against a TRUNCATE that logical replication applies."),
						 t->obj_desc);
	else if (t->protected)
		appendStringInfo(buf, _("The %s belongs to migsafe, which keeps the audit log append-only."),
						 t->obj_desc);
	else if (t->relkind == RELKIND_SEQUENCE)
		appendStringInfo(buf, _("Sequence \"%s\" would lose its current value."), name);
	else if (!figures && t->subid > 0)
		appendStringInfo(buf, _("Column \"%s\" holds data (how much is shown only to roles that may read it)."),
						 name);
	else if (!figures)
		appendStringInfo(buf, _("%s \"%s\" holds data (how much is shown only to roles that may read it)."),
						 t->relkind == RELKIND_MATVIEW ? _("Materialized view") : _("Table"),
						 name);
	else if (t->bytes < 0 && t->subid > 0)
		appendStringInfo(buf, _("Column \"%s\" was not measured (migsafe may not read it) and counts as holding data."),
						 name);
	else if (t->bytes < 0)
		appendStringInfo(buf, _("Table \"%s\" was not measured (migsafe may not read it) and counts as holding data."),
						 name);
	else if (t->subid > 0 && t->rows_exact)
		appendStringInfo(buf,
						 ngettext("Column \"%s\" holds %.0f non-null value (table size %s).",
								  "Column \"%s\" holds %.0f non-null values (table size %s).",
								  (unsigned long) t->values),
						 name, t->values, size);
	else if (t->subid > 0)
		appendStringInfo(buf, _("Column \"%s\" holds data in a table of about %.0f rows (%s)."),
						 name, t->rows, size);
	else
		describe_rows(buf, t, name, size);

	if (t->renamed)
		appendStringInfo(buf, _(" It was named \"%s\" when this transaction began."),
						 t->orig_name);
	migsafe_command_replication(buf, t);
}

/*
 * migsafe_command_describe
 *
 * Append to buf what a target holds, with its rows and size, as the audit
 * row and the server log say it.
 */
void
migsafe_command_describe(StringInfo buf, MigsafeTarget *t)
{
	describe(buf, t, true);
}

/*
 * migsafe_command_describe_to_user
 *
 * The same for the blocking error the user sees: rows and size only when
 * the user may read the target (see may_see_figures()).
 */
void
migsafe_command_describe_to_user(StringInfo buf, MigsafeTarget *t)
{
	describe(buf, t, may_see_figures(t));
}

/*
 * migsafe_command_replication
 *
 * Append to buf what replication adds to a target's loss, if anything: the
 * publications of a table dropped or truncated (their subscribers are
 * affected too), the standbys of a table set unlogged (its rows no longer
 * reach them).
 */
void
migsafe_command_replication(StringInfo buf, MigsafeTarget *t)
{
	char	   *pubs;
	int			senders;

	if (t->classid != RelationRelationId || t->protected || t->subid != 0 ||
		(t->relkind != RELKIND_RELATION &&
		 t->relkind != RELKIND_PARTITIONED_TABLE))
		return;
	if (t->op == MIGSAFE_OP_DROP || t->op == MIGSAFE_OP_TRUNCATE)
	{
		if ((pubs = migsafe_catalog_publications(t->objid)) == NULL)
			return;
		if (buf->len > 0)
			appendStringInfoChar(buf, ' ');
		if (t->op == MIGSAFE_OP_DROP)
			appendStringInfo(buf, _("It is published by %s: their subscribers stop receiving it."),
							 pubs);
		else
			appendStringInfo(buf, _("It is published by %s: their subscribers receive the TRUNCATE too."),
							 pubs);
	}
	else if (t->op == MIGSAFE_OP_UNLOG &&
			 (senders = migsafe_catalog_wal_senders()) > 0)
	{
		if (buf->len > 0)
			appendStringInfoChar(buf, ' ');
		appendStringInfo(buf,
						 ngettext("This server streams WAL to %d standby or subscriber: an unlogged table's rows no longer reach it, and after a failover the table is empty.",
								  "This server streams WAL to %d standbys or subscribers: an unlogged table's rows no longer reach them, and after a failover the table is empty.",
								  senders),
						 senders);
	}
}

/* ----------------------------------------------------------------
 * What else a statement drops
 * ----------------------------------------------------------------
 */

/* At most this many other objects dropped along are named */
#define MIGSAFE_OTHERS_MAX	10

/* The unqualified name of one object a DROP names, as written */
static const char *
named_last(Node *obj)
{
	/*
	 * A cast or transform is named by a list of a TypeName and a TypeName or
	 * language name: it names no relation, function or type by itself.
	 */
	if (IsA(obj, List))
		return IsA(llast((List *) obj), String) &&
			IsA(linitial((List *) obj), String) ?
			strVal(llast((List *) obj)) : NULL;
	if (IsA(obj, String))
		return strVal(obj);
	if (IsA(obj, TypeName))
		return strVal(llast(((TypeName *) obj)->names));
	if (IsA(obj, ObjectWithArgs))
		return strVal(llast(((ObjectWithArgs *) obj)->objname));
	return NULL;
}

/* The name of a relation, function or type, without schema */
static char *
object_name(const ObjectAddress *addr)
{
	switch (addr->classId)
	{
		case RelationRelationId:
			return get_rel_name(addr->objectId);
		case ProcedureRelationId:
			return get_func_name(addr->objectId);
		case TypeRelationId:
			{
				HeapTuple	tup = SearchSysCache1(TYPEOID,
												  ObjectIdGetDatum(addr->objectId));
				char	   *name = NULL;

				if (HeapTupleIsValid(tup))
				{
					name = pstrdup(NameStr(((Form_pg_type) GETSTRUCT(tup))->typname));
					ReleaseSysCache(tup);
				}
				return name;
			}
		default:
			return NULL;
	}
}

/* Whether the DROP of cmd names the object itself */
static bool
named_by_drop(MigsafeCommand *cmd, const ObjectAddress *addr)
{
	char	   *name;
	ListCell   *lc;

	if (cmd->parsetree == NULL || !IsA(cmd->parsetree, DropStmt) ||
		(name = object_name(addr)) == NULL)
		return false;
	foreach(lc, ((DropStmt *) cmd->parsetree)->objects)
	{
		const char *named = named_last(lfirst(lc));

		if (named != NULL && strcmp(named, name) == 0)
			return true;
	}
	return false;
}

/* Whether an object was dropped in cmd's dry run */
static bool
dropped_too(MigsafeCommand *cmd, Oid classid, Oid objid)
{
	return migsafe_catalog_address_member(cmd->dropped, classid, objid);
}

/*
 * Whether an object a dry run dropped is one a DBA would miss: a view,
 * index, foreign table or type, a function or procedure, that the
 * statement does not name, that is no part of a table described already
 * (its indexes, row type, TOAST) nor a member of an extension dropped
 * with it.
 */
static bool
other_object(MigsafeCommand *cmd, ObjectAddress *addr)
{
	Oid			owner;
	Oid			ext;

	switch (addr->classId)
	{
		case RelationRelationId:
			if (addr->objectSubId != 0 ||
				get_rel_namespace(addr->objectId) == PG_TOAST_NAMESPACE)
				return false;
			switch (get_rel_relkind(addr->objectId))
			{
				case RELKIND_VIEW:
				case RELKIND_INDEX:
				case RELKIND_PARTITIONED_INDEX:
				case RELKIND_FOREIGN_TABLE:
				case RELKIND_COMPOSITE_TYPE:
					break;
				default:
					return false;
			}
			break;
		case ProcedureRelationId:
			break;
		case TypeRelationId:
			if (OidIsValid(get_typ_typrelid(addr->objectId)) ||
				OidIsValid(get_element_type(addr->objectId)))
				return false;
			break;
		default:
			return false;
	}
	owner = migsafe_catalog_owning_relation(addr->classId, addr->objectId);
	if (OidIsValid(owner) && owner != addr->objectId &&
		migsafe_command_find(cmd, RelationRelationId, owner, 0) != NULL)
		return false;
	ext = getExtensionOfObject(addr->classId, addr->objectId);
	if (OidIsValid(ext) && dropped_too(cmd, ExtensionRelationId, ext))
		return false;
	return !named_by_drop(cmd, addr);
}

/*
 * migsafe_command_others
 *
 * The sentence naming the other objects a statement drops with its
 * targets (views, functions, indexes...), from its dry run, or NULL.
 */
char	   *
migsafe_command_others(MigsafeCommand *cmd)
{
	StringInfoData names;
	ListCell   *lc;
	int			n = 0;

	initStringInfo(&names);
	foreach(lc, cmd->dropped)
	{
		ObjectAddress *addr = lfirst(lc);
		char	   *desc;

		if (!other_object(cmd, addr) ||
			(desc = getObjectDescription(addr, true)) == NULL)
			continue;
		if (n++ < MIGSAFE_OTHERS_MAX)
			appendStringInfo(&names, "%s%s", names.len ? ", " : "", desc);
	}
	if (n == 0)
		return NULL;
	if (n > MIGSAFE_OTHERS_MAX)
		appendStringInfoString(&names, ", ...");
	return psprintf(ngettext("The statement also drops %d other object: %s.",
							 "The statement also drops %d other objects: %s.",
							 n),
					n, names.data);
}
