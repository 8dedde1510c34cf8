/*-------------------------------------------------------------------------
 *
 * output.c
 *	  migsafe-check's output: findings, rehearsals and reports as a table
 *	  for people, JSON for programs, and GitHub Actions workflow commands.
 *
 * Everything here prints rows the driver has already fetched; nothing
 * talks to the server.  The findings' columns come in the order of
 * MIGSAFE_COL_*; rehearse()'s and report()'s are printed by their names
 * and types, whatever they are, so that the server side can grow a
 * column without a new client.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * cli/output.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "catalog/pg_type_d.h"
#include "fe_utils/print.h"
#include "lib/stringinfo.h"
#include "libpq-fe.h"

#include "migsafe-check.h"

/* ANSI colours of the text format */
#define COLOR_RESET		"\033[0m"
#define COLOR_BOLD		"\033[1m"
#define COLOR_DIM		"\033[2m"
#define COLOR_RED		"\033[1;31m"
#define COLOR_MAGENTA	"\033[1;35m"
#define COLOR_YELLOW	"\033[1;33m"
#define COLOR_CYAN		"\033[36m"

/* The classes, most severe first, as the summary line counts them */
static const char *const class_names[] = {
	"error", "destructive", "breaking", "locking", "advice"
};

#define NUM_CLASSES lengthof(class_names)

/* Indentation of a finding's message under its row in the text format */
#define TEXT_INDENT 4

/* Narrowest the text format wraps a message at */
#define TEXT_MIN_WIDTH 40

static int	class_severity(const char *class);
static const char *class_color(const char *class);
static void print_text(FILE *out, MigsafeInput *inputs, int ninputs,
					   const MigsafeOutput *opt);
static void print_wrapped(FILE *out, const char *text, int width,
						  const char *color, bool color_on);
static void print_json(FILE *out, MigsafeInput *inputs, int ninputs);
static void print_github(FILE *out, MigsafeInput *inputs, int ninputs,
						 const MigsafeOutput *opt);
static void json_string(FILE *out, const char *str);
static void json_value(FILE *out, const PGresult *res, int row, int col);
static void github_escape(FILE *out, const char *str, bool property);
static const char *first_line(const char *str, int maxlen, char *buf);

/*
 * migsafe_output_fails
 *
 * Whether a finding of this class makes the run fail at threshold fail_on.
 * A statement that does not parse ("error") fails at every threshold but
 * "none": a script the server cannot read was not reviewed.  A class this
 * program does not know (from a newer server) counts as advice.
 */
bool
migsafe_output_fails(const char *class, MigsafeSeverity fail_on)
{
	if (fail_on == MIGSAFE_SEVERITY_NONE)
		return false;
	if (strcmp(class, "error") == 0)
		return true;
	return class_severity(class) >= (int) fail_on;
}

/*
 * migsafe_output_findings
 *
 * Print the findings of migsafe.check() on every input in opt's format.
 */
void
migsafe_output_findings(FILE *out, MigsafeInput *inputs, int ninputs,
						const MigsafeOutput *opt)
{
	switch (opt->format)
	{
		case MIGSAFE_FORMAT_TEXT:
			print_text(out, inputs, ninputs, opt);
			break;
		case MIGSAFE_FORMAT_JSON:
			print_json(out, inputs, ninputs);
			break;
		case MIGSAFE_FORMAT_GITHUB:
			print_github(out, inputs, ninputs, opt);
			break;
	}
}

/*
 * migsafe_output_rehearsal
 *
 * Print the rows of migsafe.rehearse() on every input, whatever their
 * columns: a psql-style table per file, a JSON array of objects (with
 * "file" added), or one GitHub notice per row.
 */
void
migsafe_output_rehearsal(FILE *out, MigsafeInput *inputs, int ninputs,
						 const MigsafeOutput *opt)
{
	if (opt->format == MIGSAFE_FORMAT_TEXT)
	{
		for (int i = 0; i < ninputs; i++)
		{
			printQueryOpt popt;

			memset(&popt, 0, sizeof(popt));
			popt.topt.format = opt->columns > 0 ? PRINT_WRAPPED : PRINT_ALIGNED;
			popt.topt.border = 1;
			popt.topt.start_table = true;
			popt.topt.stop_table = true;
			popt.topt.default_footer = true;
			popt.topt.encoding = opt->encoding;
			popt.topt.env_columns = opt->columns;
			popt.topt.columns = opt->columns;
			popt.title = (char *) inputs[i].name;
			printQuery(inputs[i].result, &popt, out, false, NULL);
			if (i < ninputs - 1)
				fputc('\n', out);
		}
	}
	else if (opt->format == MIGSAFE_FORMAT_JSON)
	{
		bool		first = true;

		fputc('[', out);
		for (int i = 0; i < ninputs; i++)
		{
			PGresult   *res = inputs[i].result;

			for (int row = inputs[i].first_row;
				 row < inputs[i].first_row + inputs[i].nrows; row++)
			{
				fputs(first ? "\n  {\"file\": " : ",\n  {\"file\": ", out);
				first = false;
				json_string(out, inputs[i].name);
				for (int col = 0; col < PQnfields(res); col++)
				{
					fputs(", ", out);
					json_string(out, PQfname(res, col));
					fputs(": ", out);
					json_value(out, res, row, col);
				}
				fputc('}', out);
			}
		}
		fputs(first ? "]\n" : "\n]\n", out);
	}
	else
	{
		for (int i = 0; i < ninputs; i++)
		{
			PGresult   *res = inputs[i].result;
			int			line_col = PQfnumber(res, "line");
			int			no_col = PQfnumber(res, "statement_no");

			for (int row = inputs[i].first_row;
				 row < inputs[i].first_row + inputs[i].nrows; row++)
			{
				bool		first = true;

				fputs("::notice file=", out);
				github_escape(out, inputs[i].name, true);
				if (line_col >= 0 && !PQgetisnull(res, row, line_col))
					fprintf(out, ",line=%s", PQgetvalue(res, row, line_col));
				fputs(",title=migsafe rehearse", out);
				if (no_col >= 0 && !PQgetisnull(res, row, no_col))
					fprintf(out, " of statement %s", PQgetvalue(res, row, no_col));
				fputs("::", out);
				/* "column: value" lines, but for empty ones */
				for (int col = 0; col < PQnfields(res); col++)
				{
					if (col == line_col || col == no_col ||
						PQgetisnull(res, row, col))
						continue;
					if (!first)
						github_escape(out, "\n", false);
					first = false;
					github_escape(out, PQfname(res, col), false);
					fputs(": ", out);
					github_escape(out, PQgetvalue(res, row, col), false);
				}
				fputc('\n', out);
			}
		}
	}
}

/*
 * migsafe_output_report
 *
 * Print the lines of migsafe.report(): as they are, or as a JSON array of
 * strings.
 */
void
migsafe_output_report(FILE *out, const PGresult *res, const MigsafeOutput *opt)
{
	if (opt->format == MIGSAFE_FORMAT_JSON)
	{
		fputc('[', out);
		for (int row = 0; row < PQntuples(res); row++)
		{
			fputs(row == 0 ? "\n  " : ",\n  ", out);
			if (PQgetisnull(res, row, 0))
				fputs("null", out);
			else
				json_string(out, PQgetvalue(res, row, 0));
		}
		fputs(PQntuples(res) > 0 ? "\n]\n" : "]\n", out);
		return;
	}
	for (int row = 0; row < PQntuples(res); row++)
	{
		fputs(PQgetvalue(res, row, 0), out);
		fputc('\n', out);
	}
}

/* Severity of a class; unknown classes count as advice */
static int
class_severity(const char *class)
{
	if (strcmp(class, "destructive") == 0)
		return MIGSAFE_SEVERITY_DESTRUCTIVE;
	if (strcmp(class, "breaking") == 0)
		return MIGSAFE_SEVERITY_BREAKING;
	if (strcmp(class, "locking") == 0)
		return MIGSAFE_SEVERITY_LOCKING;
	return MIGSAFE_SEVERITY_ADVICE;
}

/* Colour of a class in the text format */
static const char *
class_color(const char *class)
{
	if (strcmp(class, "error") == 0 || strcmp(class, "destructive") == 0)
		return COLOR_RED;
	if (strcmp(class, "breaking") == 0)
		return COLOR_MAGENTA;
	if (strcmp(class, "locking") == 0)
		return COLOR_YELLOW;
	return COLOR_CYAN;
}

/*
 * print_text
 *
 * The format for people: one row per finding with aligned columns
 * (where, class, rule), the message under it, wrapped to the terminal,
 * and the statement's first line; then a summary line with the count of
 * each class and how many reach the --fail-on threshold.
 */
static void
print_text(FILE *out, MigsafeInput *inputs, int ninputs,
		   const MigsafeOutput *opt)
{
	int			loc_width = strlen("LOCATION");
	int			class_width = strlen("CLASS");
	int			nfindings = 0;
	int			nfailing = 0;
	int			counts[NUM_CLASSES + 1] = {0};
	int			width;
	bool color = opt->color;
	bool		first = true;
	StringInfoData loc;
	StringInfoData summary;

	initStringInfo(&loc);

	/* column widths over all findings */
	for (int i = 0; i < ninputs; i++)
	{
		PGresult   *res = inputs[i].result;

		for (int row = inputs[i].first_row;
			 row < inputs[i].first_row + inputs[i].nrows; row++)
		{
			int			len;

			len = strlen(inputs[i].name) + 1 +
				PQgetlength(res, row, MIGSAFE_COL_LINE);
			loc_width = Max(loc_width, len);
			len = PQgetlength(res, row, MIGSAFE_COL_CLASS);
			class_width = Max(class_width, len);
			nfindings++;
		}
	}

	width = opt->columns > 0 ? Max(opt->columns - TEXT_INDENT, TEXT_MIN_WIDTH) : 0;

	if (nfindings > 0)
		fprintf(out, "%s%-*s  %-*s  %s%s\n",
				color ? COLOR_BOLD : "",
				loc_width, "LOCATION", class_width, "CLASS", "RULE",
				color ? COLOR_RESET : "");

	for (int i = 0; i < ninputs; i++)
	{
		PGresult   *res = inputs[i].result;

		for (int row = inputs[i].first_row;
			 row < inputs[i].first_row + inputs[i].nrows; row++)
		{
			const char *class = PQgetvalue(res, row, MIGSAFE_COL_CLASS);
			const char *no = PQgetvalue(res, row, MIGSAFE_COL_STATEMENT_NO);
			char		stmt[128];
			int			k;

			if (!first)
				fputc('\n', out);
			first = false;

			resetStringInfo(&loc);
			appendStringInfoString(&loc, inputs[i].name);
			if (!PQgetisnull(res, row, MIGSAFE_COL_LINE))
				appendStringInfo(&loc, ":%s",
								  PQgetvalue(res, row, MIGSAFE_COL_LINE));

			fprintf(out, "%-*s  %s%-*s%s  %s%s%s\n",
					loc_width, loc.data,
					color ? class_color(class) : "", class_width, class,
					color ? COLOR_RESET : "",
					color ? COLOR_BOLD : "",
					PQgetvalue(res, row, MIGSAFE_COL_RULE),
					color ? COLOR_RESET : "");
			print_wrapped(out, PQgetvalue(res, row, MIGSAFE_COL_MESSAGE),
						  width, NULL, color);
			if (!PQgetisnull(res, row, MIGSAFE_COL_STATEMENT))
			{
				char	   *label = psprintf("statement %s: %s", no,
											 first_line(PQgetvalue(res, row, MIGSAFE_COL_STATEMENT),
														72, stmt));

				print_wrapped(out, label, width, COLOR_DIM, color);
				pg_free(label);
			}

			for (k = 0; k < (int) NUM_CLASSES; k++)
				if (strcmp(class, class_names[k]) == 0)
					break;
			counts[k]++;
			if (migsafe_output_fails(class, opt->fail_on))
				nfailing++;
		}
	}

	/* the summary */
	initStringInfo(&summary);
	if (nfindings == 0)
		appendStringInfo(&summary, "%d %s checked, no findings", ninputs,
						  ninputs == 1 ? "file" : "files");
	else
	{
		const char *sep = ": ";

		appendStringInfo(&summary, "\n%d %s in %d %s", nfindings,
						  nfindings == 1 ? "finding" : "findings",
						  ninputs, ninputs == 1 ? "file" : "files");
		for (int k = 0; k <= (int) NUM_CLASSES; k++)
		{
			if (counts[k] == 0)
				continue;
			if (k == 0)
				appendStringInfo(&summary, "%s%d %s", sep, counts[k],
								  counts[k] == 1 ? "error" : "errors");
			else
				appendStringInfo(&summary, "%s%d %s", sep, counts[k],
								  k < (int) NUM_CLASSES ? class_names[k] : "other");
			sep = ", ";
		}
		if (opt->fail_on != MIGSAFE_SEVERITY_NONE && nfailing == 0)
			appendStringInfo(&summary, " (none fails --fail-on=%s)",
							  class_names[NUM_CLASSES - opt->fail_on]);
		else if (opt->fail_on != MIGSAFE_SEVERITY_NONE)
			appendStringInfo(&summary, " (%d %s --fail-on=%s)", nfailing,
							  nfailing == 1 ? "fails" : "fail",
							  class_names[NUM_CLASSES - opt->fail_on]);
	}
	fprintf(out, "%s\n", summary.data);

	pfree(summary.data);
	pfree(loc.data);
}

/*
 * print_wrapped
 *
 * Print text indented by TEXT_INDENT, each of its lines wrapped at spaces
 * to width display columns (0: not wrapped), in color if color_on.
 * Widths count characters, not bytes, of UTF-8 text; close enough for
 * wrapping prose.
 */
static void
print_wrapped(FILE *out, const char *text, int width, const char *color,
			  bool color_on)
{
	const char *p = text;

	do
	{
		const char *end = strchr(p, '\n');
		const char *brk;
		const char *q;
		int			cols;

		if (end == NULL)
			end = p + strlen(p);

		/* one output line per iteration: as many words as fit */
		do
		{
			brk = NULL;
			cols = 0;
			for (q = p; q < end; q++)
			{
				if ((*q & 0xC0) == 0x80)
					continue;	/* a UTF-8 continuation byte */
				if (*q == ' ' && q > p)
					brk = q;
				if (width > 0 && ++cols > width && brk != NULL)
					break;
			}
			if (q == end)
				brk = end;
			fprintf(out, "%*s%s%.*s%s\n", TEXT_INDENT, "",
					color_on && color ? color : "",
					(int) (brk - p), p,
					color_on && color ? COLOR_RESET : "");
			p = brk;
			while (p < end && *p == ' ')
				p++;
		} while (p < end);

		p = *end == '\n' ? end + 1 : end;
	} while (*p != '\0');
}

/*
 * print_json
 *
 * One JSON document: an array of findings, one object a line, with keys
 * file, statement_no, line, statement, class, rule, message and facts (a
 * JSON object as the server gave it).
 */
static void
print_json(FILE *out, MigsafeInput *inputs, int ninputs)
{
	static const char *const keys[] = {
		"statement_no", "line", "statement", "class", "rule", "message",
		"facts"
	};
	bool		first = true;

	fputc('[', out);
	for (int i = 0; i < ninputs; i++)
	{
		PGresult   *res = inputs[i].result;

		for (int row = inputs[i].first_row;
			 row < inputs[i].first_row + inputs[i].nrows; row++)
		{
			fputs(first ? "\n  {\"file\": " : ",\n  {\"file\": ", out);
			first = false;
			json_string(out, inputs[i].name);
			for (int col = 0; col < (int) lengthof(keys); col++)
			{
				fprintf(out, ", \"%s\": ", keys[col]);
				json_value(out, res, row, MIGSAFE_COL_STATEMENT_NO + col);
			}
			fputc('}', out);
		}
	}
	fputs(first ? "]\n" : "\n]\n", out);
}

/*
 * print_github
 *
 * GitHub Actions workflow commands: an ::error annotation for a finding
 * that fails the run, a ::warning for the others, on the file and line of
 * the statement.
 */
static void
print_github(FILE *out, MigsafeInput *inputs, int ninputs,
			 const MigsafeOutput *opt)
{
	for (int i = 0; i < ninputs; i++)
	{
		PGresult   *res = inputs[i].result;

		for (int row = inputs[i].first_row;
			 row < inputs[i].first_row + inputs[i].nrows; row++)
		{
			const char *class = PQgetvalue(res, row, MIGSAFE_COL_CLASS);

			fprintf(out, "::%s file=",
					migsafe_output_fails(class, opt->fail_on) ? "error" : "warning");
			github_escape(out, inputs[i].name, true);
			if (!PQgetisnull(res, row, MIGSAFE_COL_LINE))
				fprintf(out, ",line=%s", PQgetvalue(res, row, MIGSAFE_COL_LINE));
			fputs(",title=migsafe ", out);
			github_escape(out, PQgetvalue(res, row, MIGSAFE_COL_RULE), true);
			fputs("::", out);
			github_escape(out, PQgetvalue(res, row, MIGSAFE_COL_MESSAGE), false);
			fputc('\n', out);
		}
	}
}

/* Write str as a JSON string */
static void
json_string(FILE *out, const char *str)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *) str; *p; p++)
	{
		switch (*p)
		{
			case '"':
				fputs("\\\"", out);
				break;
			case '\\':
				fputs("\\\\", out);
				break;
			case '\n':
				fputs("\\n", out);
				break;
			case '\r':
				fputs("\\r", out);
				break;
			case '\t':
				fputs("\\t", out);
				break;
			case '\b':
				fputs("\\b", out);
				break;
			case '\f':
				fputs("\\f", out);
				break;
			default:
				if (*p < 0x20)
					fprintf(out, "\\u%04x", *p);
				else
					fputc(*p, out);
		}
	}
	fputc('"', out);
}

/*
 * json_value
 *
 * Write a field as JSON by its type: numbers as numbers (but NaN and
 * infinities, which JSON has not, as strings), booleans, json and jsonb
 * as they are, NULL as null, anything else (no function of migsafe's
 * returns arrays) as a string.
 */
static void
json_value(FILE *out, const PGresult *res, int row, int col)
{
	const char *val;

	if (PQgetisnull(res, row, col))
	{
		fputs("null", out);
		return;
	}
	val = PQgetvalue(res, row, col);

	switch (PQftype(res, col))
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
			fputs(val, out);
			return;
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			if (strspn(val, "0123456789.-+eE") == strlen(val))
				fputs(val, out);
			else
				json_string(out, val);
			return;
		case BOOLOID:
			fputs(strcmp(val, "t") == 0 ? "true" : "false", out);
			return;
		case JSONOID:
		case JSONBOID:
			fputs(val, out);
			return;
		default:
			break;
	}
	json_string(out, val);
}

/*
 * github_escape
 *
 * Write str escaped for a workflow command: '%', CR and LF always, and
 * ':' and ',' too in a property (file=, title=), where they would end it.
 */
static void
github_escape(FILE *out, const char *str, bool property)
{
	for (const char *p = str; *p; p++)
	{
		if (*p == '%')
			fputs("%25", out);
		else if (*p == '\r')
			fputs("%0D", out);
		else if (*p == '\n')
			fputs("%0A", out);
		else if (property && *p == ':')
			fputs("%3A", out);
		else if (property && *p == ',')
			fputs("%2C", out);
		else
			fputc(*p, out);
	}
}

/*
 * first_line
 *
 * The first line of statement str that is neither blank nor a "--"
 * comment, without leading blanks, cut to about maxlen bytes (at a
 * character boundary) in buf, which has room for maxlen + 5 bytes; " ..."
 * marks that the statement goes on.
 */
static const char *
first_line(const char *str, int maxlen, char *buf)
{
	const char *p = str;
	int			len;

	for (;;)
	{
		p += strspn(p, " \t\r\n");
		if (strncmp(p, "--", 2) != 0)
			break;
		p += strcspn(p, "\n");
	}
	if (*p == '\0')
		p = str;				/* only comments: show the first */

	len = strcspn(p, "\r\n");
	if (len > maxlen)
	{
		len = maxlen;
		while (len > 0 && (p[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(buf, p, len);
	buf[len] = '\0';
	if (p[len + strspn(p + len, " \t\r\n")] != '\0')
		strcat(buf, " ...");
	return buf;
}
