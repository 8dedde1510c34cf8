/*-------------------------------------------------------------------------
 *
 * script.c
 *	  A migration script cut into its statements for the preview
 *	  (migsafe.check()) and the rehearsal (migsafe.rehearse()).
 *
 * Statements are numbered as PostgreSQL's raw parser counts them over the
 * whole script: comments and empty statements do not count, and a
 * BEGIN ATOMIC body belongs to its function.  When the script parses as a
 * whole, the parser's own statements are used.  When it does not, the
 * script is cut at top-level semicolons with the core scanner (quotes,
 * dollar quotes and comments respected) and each piece is parsed alone,
 * so that one bad statement is reported where it is and the others are
 * still read.  Nothing here raises on any input: parser and scanner
 * errors are caught in a subtransaction and kept as the statement's error.
 *
 * Calls internal.c (subtransactions) only.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/script.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "parser/scansup.h"

#include "internal.h"
#include "script.h"

/* What a parse in a subtransaction is given and gives back */
typedef struct ParseCall
{
	const char *text;
	List	   *result;
} ParseCall;

/* What a cut in a subtransaction is given and gives back */
typedef struct CutCall
{
	const char *script;
	List	   *ends;			/* byte offsets just past each piece */
} CutCall;

/* Line numbers of byte offsets, counted forward from the last one asked */
typedef struct LineCounter
{
	const char *script;
	int			pos;
	int			line;
} LineCounter;

/* The 1-based line of byte offset pos (offsets asked in increasing order) */
static int
line_of(LineCounter *lc, int pos)
{
	if (pos < lc->pos)
	{
		lc->pos = 0;
		lc->line = 1;
	}
	for (; lc->pos < pos && lc->script[lc->pos] != '\0'; lc->pos++)
		if (lc->script[lc->pos] == '\n' ||
			(lc->script[lc->pos] == '\r' && lc->script[lc->pos + 1] != '\n'))
			lc->line++;
	return lc->line;
}

/* The offset of the first token at or after pos: blanks and comments skipped */
static int
skip_blanks(const char *s, int pos, int end)
{
	while (pos < end)
	{
		if (scanner_isspace(s[pos]))
			pos++;
		else if (s[pos] == '-' && pos + 1 < end && s[pos + 1] == '-')
		{
			while (pos < end && s[pos] != '\n')
				pos++;
		}
		else if (s[pos] == '/' && pos + 1 < end && s[pos + 1] == '*')
		{
			int			depth = 1;
			int			start = pos;

			pos += 2;
			while (pos < end && depth > 0)
			{
				if (s[pos] == '/' && pos + 1 < end && s[pos + 1] == '*')
				{
					depth++;
					pos += 2;
				}
				else if (s[pos] == '*' && pos + 1 < end && s[pos + 1] == '/')
				{
					depth--;
					pos += 2;
				}
				else
					pos++;
			}
			if (depth > 0)
				return start;	/* unterminated: the parser reports it */
		}
		else
			break;
	}
	return pos;
}

/* The text between start and end without blanks and a trailing semicolon */
static char *
trimmed(const char *s, int start, int end)
{
	start = skip_blanks(s, start, end);
	while (end > start && (scanner_isspace(s[end - 1]) || s[end - 1] == ';'))
		end--;
	return pnstrdup(s + start, end - start);
}

static void
parse_call(void *arg)
{
	ParseCall  *call = arg;

	call->result = raw_parser(call->text, RAW_PARSE_DEFAULT);
}

/* Whether the word at s[pos] is kw (ASCII, any case, whole word) */
static bool
word_is(const char *s, int pos, const char *kw)
{
	int			n = strlen(kw);

	return pg_strncasecmp(s + pos, kw, n) == 0 &&
		!(IS_HIGHBIT_SET(s[pos + n]) || isalnum((unsigned char) s[pos + n]) ||
		  s[pos + n] == '_' || s[pos + n] == '$');
}

/*
 * cut_call
 *
 * Record where each top-level statement ends: at a semicolon, except
 * inside the BEGIN ATOMIC ... END body of a CREATE FUNCTION or CREATE
 * PROCEDURE (where CASE ... END nests).  Parentheses are not counted: an
 * unbalanced one must not swallow the statements after it.  Raises on
 * what the scanner refuses (an unterminated quote): the ends found so far
 * are kept by the caller.
 */
static void
cut_call(void *arg)
{
	CutCall    *call = arg;
	core_yyscan_t yyscanner;
	core_yy_extra_type yyextra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	int			atomic = 0;
	int			words = 0;		/* words since the statement began */
	bool		create = false; /* the statement begins with CREATE */
	bool		routine = false;	/* CREATE [OR REPLACE] FUNCTION/PROCEDURE */
	bool		after_begin = false;

	yyscanner = scanner_init(call->script, &yyextra, &ScanKeywords,
							 ScanKeywordTokens);
	for (;;)
	{
		int			tok = core_yylex(&yylval, &yylloc, yyscanner);
		const char *s = call->script;

		if (tok == 0)
			break;
		if (tok == ';' && atomic == 0)
		{
			call->ends = lappend_int(call->ends, yylloc + 1);
			words = 0;
			create = false;
			routine = false;
			after_begin = false;
			continue;
		}
		if (isalpha((unsigned char) s[yylloc]))
		{
			words++;
			if (words == 1)
				create = word_is(s, yylloc, "create");
			else if (create && words <= 4 &&
					 (word_is(s, yylloc, "function") ||
					  word_is(s, yylloc, "procedure")))
				routine = true;
			if (routine && after_begin && word_is(s, yylloc, "atomic"))
				atomic++;
			else if (atomic > 0 && word_is(s, yylloc, "case"))
				atomic++;
			else if (atomic > 0 && word_is(s, yylloc, "end"))
				atomic--;
			after_begin = word_is(s, yylloc, "begin");
			continue;
		}
		words++;
		after_begin = false;
	}
	scanner_finish(yyscanner);
}

/*
 * pieces
 *
 * The statements of a piece of the script, parsed alone, appended to
 * result: usually one; none for a piece of comments; several when the
 * cut missed a boundary (each then gets its own text); one that does not
 * parse, with the parser's message and line.
 */
static List *
pieces(List *result, const char *script, int start, int end,
	   LineCounter *lines)
{
	MigsafeScriptStmt *st = palloc0(sizeof(MigsafeScriptStmt));
	ParseCall	call;
	ErrorData  *edata;
	int			first = skip_blanks(script, start, end);
	ListCell   *lc;

	st->line = line_of(lines, first);
	st->text = trimmed(script, start, end);
	call.text = st->text;
	call.result = NIL;
	edata = migsafe_internal_subxact(parse_call, &call, true);
	if (edata != NULL)
	{
		st->error = edata->message ? pstrdup(edata->message) : pstrdup("syntax error");
		st->error_line = st->line;
		if (edata->cursorpos > 0)
		{
			/* cursorpos counts characters of the piece's text, from 1 */
			int			bytes = pg_mbcharcliplen(st->text, strlen(st->text),
												 edata->cursorpos - 1);
			int			i;

			for (i = 0; i < bytes; i++)
				if (st->text[i] == '\n' ||
					(st->text[i] == '\r' && st->text[i + 1] != '\n'))
					st->error_line++;
		}
		FreeErrorData(edata);
		st->number = list_length(result) + 1;
		return lappend(result, st);
	}
	foreach(lc, call.result)
	{
		RawStmt    *raw = lfirst_node(RawStmt, lc);
		MigsafeScriptStmt *one = palloc0(sizeof(MigsafeScriptStmt));
		int			len = raw->stmt_len > 0 ? raw->stmt_len :
		(int) strlen(st->text) - raw->stmt_location;
		int			skip = skip_blanks(st->text, raw->stmt_location,
									   raw->stmt_location + len);
		int			i;

		one->line = st->line;
		for (i = 0; i < skip; i++)
			if (st->text[i] == '\n' ||
				(st->text[i] == '\r' && st->text[i + 1] != '\n'))
				one->line++;
		one->text = trimmed(st->text, raw->stmt_location, raw->stmt_location + len);
		one->raw = raw;
		one->number = list_length(result) + 1;
		result = lappend(result, one);
	}
	return result;
}

/*
 * migsafe_script_split
 *
 * Cut a script into its statements (a List of MigsafeScriptStmt), numbered
 * from 1.  Never raises for anything the script contains; a statement that
 * does not parse has raw NULL and the parser's message in error.
 * Allocates in the current memory context.
 */
List	   *
migsafe_script_split(const char *script)
{
	ParseCall	call;
	ErrorData  *edata;
	LineCounter lines = {script, 0, 1};
	List	   *result = NIL;
	ListCell   *lc;
	int			len = strlen(script);

	call.text = script;
	call.result = NIL;
	edata = migsafe_internal_subxact(parse_call, &call, true);
	if (edata == NULL)
	{
		foreach(lc, call.result)
		{
			RawStmt    *raw = lfirst_node(RawStmt, lc);
			MigsafeScriptStmt *st = palloc0(sizeof(MigsafeScriptStmt));
			int			start = raw->stmt_location;
			int			end = raw->stmt_len > 0 ? start + raw->stmt_len : len;

			st->number = list_length(result) + 1;
			st->line = line_of(&lines, skip_blanks(script, start, end));
			st->text = trimmed(script, start, end);
			st->raw = raw;
			result = lappend(result, st);
		}
		return result;
	}
	FreeErrorData(edata);

	/* cut at top-level semicolons and parse each piece alone */
	{
		CutCall		cut;
		int			start = 0;

		cut.script = script;
		cut.ends = NIL;
		edata = migsafe_internal_subxact(cut_call, &cut, true);
		if (edata != NULL)
			FreeErrorData(edata);	/* the rest is one piece, see below */
		foreach(lc, cut.ends)
		{
			result = pieces(result, script, start, lfirst_int(lc), &lines);
			start = lfirst_int(lc);
		}
		if (skip_blanks(script, start, len) < len)
			result = pieces(result, script, start, len, &lines);
	}
	return result;
}
