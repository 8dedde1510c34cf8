/*-------------------------------------------------------------------------
 *
 * migsafe-check.c
 *	  migsafe-check: review migration scripts with migsafe.check() (or run
 *	  them with migsafe.rehearse()) on a live database, for CI and for a
 *	  DBA before a deploy.
 *
 * Every FILE argument ("-" is standard input) is read whole and gets a
 * migsafe.check() call of its own, on one connection made with libpq's
 * usual settings (PGHOST, PGPORT, PGDATABASE, PGUSER, a connection string
 * or URI in --dbname); up to a thousand files share one query, a text[]
 * parameter, so that many files cost one round trip.  The server does all
 * the work: it parses each script with PostgreSQL's own parser and reads
 * its own catalog, so line numbers and statement numbers are those of each
 * file.
 * All files are read and checked before anything is printed: an error
 * leaves nothing half printed, in particular no half JSON document.
 *
 * Exit status: 0 when no finding reaches the --fail-on threshold, 1 when
 * one does, 2 for a usage, file, connection or server error (the message
 * goes to standard error as "migsafe-check: error: ...").
 *
 * The names in a script resolve with the session's search_path, as they
 * will when the migration runs, so the program leaves search_path alone.
 * It never builds SQL from its input: scripts, rule names and --report's
 * time are query parameters.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * cli/migsafe-check.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <unistd.h>
#include <sys/ioctl.h>

#include "common/logging.h"
#include "fe_utils/simple_list.h"
#include "getopt_long.h"
#include "lib/stringinfo.h"
#include "libpq-fe.h"

#include "migsafe-check.h"

/* Exit statuses */
#define EXIT_CLEAN		0		/* nothing at or above the threshold */
#define EXIT_FINDINGS	1		/* a finding at or above the threshold */
#define EXIT_TROUBLE	2		/* usage, file, connection, server error */

/*
 * Files checked by one query: each gets its own migsafe.check() call, but
 * one round trip serves them all, so that a hundred files cost little more
 * than the connection.  A batch stays far below the 1 GB a text[]
 * parameter can hold.
 */
#define BATCH_MAX_FILES		1000
#define BATCH_MAX_BYTES		(16 * 1024 * 1024)

/*
 * The batch query: column 0 is the file's number in the batch, then the
 * columns MIGSAFE_COL_* name, in the order of the files and, within each,
 * in the order check() returns them.
 */
#define CHECK_QUERY \
	"SELECT f.n, c.statement_no, c.line, c.statement, c.class, c.rule," \
	" c.message, c.facts" \
	" FROM pg_catalog.unnest($1::pg_catalog.text[]) WITH ORDINALITY AS f (script, n)," \
	" LATERAL migsafe.check(f.script, $2::pg_catalog.text[]) WITH ORDINALITY AS c" \
	" ORDER BY f.n, c.ordinality"

/* Codes of the long options that have no short form */
enum
{
	OPT_FAIL_ON = 256,
	OPT_REHEARSE,
	OPT_REPORT,
	OPT_COLOR,
	OPT_STDIN_FILENAME
};

static const char *progname;

static void usage(void);
static void usage_error(const char *fmt,...) pg_attribute_printf(1, 2);
static void read_input(const char *path, const char *stdin_name,
					   MigsafeInput *input);
static PGconn *connect_server(const char *host, const char *port,
							  const char *user, const char *dbname);
static PGresult *run_query(PGconn *conn, const char *what, const char *query,
						   int nparams, const char *const *params);
static int	check_batch(PGconn *conn, MigsafeInput *inputs, int ninputs,
						const char *excludes);
static void require_report(PGconn *conn);
static void flush_output(void);
static void append_array_element(StringInfo buf, const char *value);
static bool want_color(const char *when);
static int	terminal_columns(void);

int
main(int argc, char **argv)
{
	static struct option long_options[] = {
		{"dbname", required_argument, NULL, 'd'},
		{"host", required_argument, NULL, 'h'},
		{"port", required_argument, NULL, 'p'},
		{"username", required_argument, NULL, 'U'},
		{"format", required_argument, NULL, 'f'},
		{"exclude", required_argument, NULL, 'x'},
		{"fail-on", required_argument, NULL, OPT_FAIL_ON},
		{"rehearse", no_argument, NULL, OPT_REHEARSE},
		{"report", optional_argument, NULL, OPT_REPORT},
		{"color", optional_argument, NULL, OPT_COLOR},
		{"stdin-filename", required_argument, NULL, OPT_STDIN_FILENAME},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, '?'},
		{NULL, 0, NULL, 0}
	};

	const char *host = NULL;
	const char *port = NULL;
	const char *user = NULL;
	const char *dbname = NULL;
	const char *color_when = "auto";
	const char *stdin_name = "<stdin>";
	const char *report_since = NULL;
	bool		rehearse = false;
	bool		report = false;
	SimpleStringList excludes = {NULL, NULL};
	SimpleStringListCell *cell;
	MigsafeOutput output;
	MigsafeInput *inputs;
	int			ninputs;
	PGconn	   *conn;
	StringInfoData exclude_array;
	int			status = EXIT_CLEAN;
	int			c;
	int			optindex;

	pg_logging_init(argv[0]);
	progname = get_progname(argv[0]);

	/* Like PostgreSQL's programs: --help and --version first */
	if (argc > 1)
	{
		if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0)
		{
			usage();
			exit(EXIT_CLEAN);
		}
		if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		{
			puts("migsafe-check (migsafe) " MIGSAFE_VERSION);
			exit(EXIT_CLEAN);
		}
	}

	memset(&output, 0, sizeof(output));
	output.format = MIGSAFE_FORMAT_TEXT;
	output.fail_on = MIGSAFE_SEVERITY_DESTRUCTIVE;

	while ((c = getopt_long(argc, argv, "d:f:h:p:U:x:V?", long_options,
							&optindex)) != -1)
	{
		switch (c)
		{
			case 'd':
				dbname = optarg;
				break;
			case 'h':
				host = optarg;
				break;
			case 'p':
				port = optarg;
				break;
			case 'U':
				user = optarg;
				break;
			case 'f':
				if (strcmp(optarg, "text") == 0)
					output.format = MIGSAFE_FORMAT_TEXT;
				else if (strcmp(optarg, "json") == 0)
					output.format = MIGSAFE_FORMAT_JSON;
				else if (strcmp(optarg, "github") == 0)
					output.format = MIGSAFE_FORMAT_GITHUB;
				else
					usage_error("invalid value \"%s\" for option %s, must be \"%s\", \"%s\" or \"%s\"",
								optarg, "--format", "text", "json", "github");
				break;
			case 'x':
				simple_string_list_append(&excludes, optarg);
				break;
			case OPT_FAIL_ON:
				if (strcmp(optarg, "destructive") == 0)
					output.fail_on = MIGSAFE_SEVERITY_DESTRUCTIVE;
				else if (strcmp(optarg, "breaking") == 0)
					output.fail_on = MIGSAFE_SEVERITY_BREAKING;
				else if (strcmp(optarg, "locking") == 0)
					output.fail_on = MIGSAFE_SEVERITY_LOCKING;
				else if (strcmp(optarg, "advice") == 0)
					output.fail_on = MIGSAFE_SEVERITY_ADVICE;
				else if (strcmp(optarg, "none") == 0)
					output.fail_on = MIGSAFE_SEVERITY_NONE;
				else
					usage_error("invalid value \"%s\" for option %s, must be \"%s\", \"%s\", \"%s\", \"%s\" or \"%s\"",
								optarg, "--fail-on", "destructive",
								"breaking", "locking", "advice", "none");
				break;
			case OPT_REHEARSE:
				rehearse = true;
				break;
			case OPT_REPORT:
				report = true;
				report_since = optarg;
				break;
			case OPT_COLOR:
				color_when = optarg ? optarg : "always";
				if (strcmp(color_when, "auto") != 0 &&
					strcmp(color_when, "always") != 0 &&
					strcmp(color_when, "never") != 0)
					usage_error("invalid value \"%s\" for option %s, must be \"%s\", \"%s\" or \"%s\"",
								color_when, "--color", "auto", "always",
								"never");
				break;
			case OPT_STDIN_FILENAME:
				stdin_name = optarg;
				break;
			case 'V':
				puts("migsafe-check (migsafe) " MIGSAFE_VERSION);
				exit(EXIT_CLEAN);
			case '?':
				/* --help anywhere, or an option getopt did not know */
				if (optind > 0 && optind <= argc &&
					(strcmp(argv[optind - 1], "--help") == 0 ||
					 strcmp(argv[optind - 1], "-?") == 0))
				{
					usage();
					exit(EXIT_CLEAN);
				}
				pg_log_error_hint("Try \"%s --help\" for more information.",
								  progname);
				exit(EXIT_TROUBLE);
			default:
				/* getopt_long returns only the codes above */
				pg_log_error_hint("Try \"%s --help\" for more information.",
								  progname);
				exit(EXIT_TROUBLE);
		}
	}

	if (rehearse && report)
		usage_error("options %s and %s cannot be used together",
					"--rehearse", "--report");
	if (report && optind < argc)
		usage_error("option %s takes no file", "--report");
	if (!report && optind >= argc)
		usage_error("no file to check (use \"-\" for standard input)");
	if (rehearse && excludes.head != NULL)
		usage_error("options %s and %s cannot be used together",
					"--rehearse", "--exclude");

	output.color = want_color(color_when);
	output.columns = terminal_columns();

	/* Read every file before connecting: a missing file costs no login */
	ninputs = argc - optind;
	inputs = pg_malloc0(sizeof(MigsafeInput) * Max(ninputs, 1));
	for (int i = 0; i < ninputs; i++)
		read_input(argv[optind + i], stdin_name, &inputs[i]);

	conn = connect_server(host, port, user, dbname);
	output.encoding = PQclientEncoding(conn);

	if (report)
	{
		PGresult   *res;

		require_report(conn);
		if (report_since != NULL)
		{
			const char *params[1] = {report_since};

			res = run_query(conn, "run migsafe.report()",
							"SELECT * FROM migsafe.report($1::pg_catalog.timestamptz)",
							1, params);
		}
		else
			res = run_query(conn, "run migsafe.report()",
							"SELECT * FROM migsafe.report()", 0, NULL);
		migsafe_output_report(stdout, res, &output);
		flush_output();
		PQclear(res);
		PQfinish(conn);
		return EXIT_CLEAN;
	}

	/* --exclude's rule names as one text[] parameter */
	initStringInfo(&exclude_array);
	appendStringInfoChar(&exclude_array, '{');
	for (cell = excludes.head; cell != NULL; cell = cell->next)
		append_array_element(&exclude_array, cell->val);	/* quoted, with its comma */
	appendStringInfoChar(&exclude_array, '}');

	if (rehearse)
	{
		/* one file at a time: each rehearsal takes real locks */
		for (int i = 0; i < ninputs; i++)
		{
			const char *params[1] = {inputs[i].script};
			char	   *what = psprintf("rehearse file \"%s\"", inputs[i].name);

			inputs[i].result = run_query(conn, what,
										 "SELECT * FROM migsafe.rehearse($1)",
										 1, params);
			inputs[i].first_row = 0;
			inputs[i].nrows = PQntuples(inputs[i].result);
			inputs[i].owns_result = true;
			pg_free(what);
		}
	}
	else
	{
		for (int i = 0; i < ninputs;)
			i += check_batch(conn, inputs + i, ninputs - i, exclude_array.data);
	}
	PQfinish(conn);

	if (rehearse)
		migsafe_output_rehearsal(stdout, inputs, ninputs, &output);
	else
	{
		migsafe_output_findings(stdout, inputs, ninputs, &output);
		for (int i = 0; i < ninputs; i++)
		{
			MigsafeInput *input = &inputs[i];

			for (int row = input->first_row;
				 row < input->first_row + input->nrows; row++)
				if (migsafe_output_fails(PQgetvalue(input->result, row,
													MIGSAFE_COL_CLASS),
										 output.fail_on))
					status = EXIT_FINDINGS;
		}
	}

	flush_output();

	for (int i = 0; i < ninputs; i++)
	{
		if (inputs[i].owns_result)
			PQclear(inputs[i].result);
		pg_free(inputs[i].script);
	}
	pg_free(inputs);
	pfree(exclude_array.data);
	return status;
}

/*
 * usage
 *
 * The --help text.
 */
static void
usage(void)
{
	printf("%s reviews migration scripts with migsafe on a live database.\n\n",
		   progname);
	printf("Usage:\n");
	printf("  %s [OPTION]... FILE...\n", progname);
	printf("  %s --report[=SINCE] [OPTION]...\n", progname);
	printf("\nFILE \"-\" reads standard input.\n");
	printf("\nOptions:\n");
	printf("  -f, --format=FORMAT        output format: text (default), json, github\n");
	printf("      --fail-on=CLASS        exit 1 when a finding is of CLASS or worse:\n"
		   "                             destructive (default), breaking, locking,\n"
		   "                             advice, or none\n");
	printf("  -x, --exclude=RULE         do not report RULE (repeatable)\n");
	printf("      --rehearse             run each script with migsafe.rehearse(), rolled\n"
		   "                             back, and show what it did (takes real locks)\n");
	printf("      --report[=SINCE]       print migsafe.report(SINCE), by default of the\n"
		   "                             last hour\n");
	printf("      --color[=WHEN]         colour the text format: auto (default), always,\n"
		   "                             never\n");
	printf("      --stdin-filename=NAME  name standard input NAME in the output\n");
	printf("  -V, --version              output version information, then exit\n");
	printf("  -?, --help                 show this help, then exit\n");
	printf("\nConnection options:\n");
	printf("  -d, --dbname=DBNAME        database name or connection string (URI)\n");
	printf("  -h, --host=HOSTNAME        database server host or socket directory\n");
	printf("  -p, --port=PORT            database server port\n");
	printf("  -U, --username=USERNAME    database user name\n");
	printf("\nUnset options come from the PGDATABASE, PGHOST, PGPORT and PGUSER\n"
		   "environment variables and libpq's defaults.\n");
	printf("\nExit status: 0 no finding at or above --fail-on, 1 at least one\n"
		   "(a statement that does not parse always counts, unless --fail-on=none),\n"
		   "2 usage, file, connection or server error.\n");
}

/*
 * usage_error
 *
 * Report a command-line mistake with the --help hint and exit 2.
 */
static void
usage_error(const char *fmt,...)
{
	va_list		ap;
	char		buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pg_log_error("%s", buf);
	pg_log_error_hint("Try \"%s --help\" for more information.", progname);
	exit(EXIT_TROUBLE);
}

/*
 * read_input
 *
 * Read the whole of path ("-": standard input, shown as stdin_name) into
 * input.  Exits with status 2 when it cannot be read, or when it holds a
 * zero byte, which no text parameter can carry.
 */
static void
read_input(const char *path, const char *stdin_name, MigsafeInput *input)
{
	bool		is_stdin = strcmp(path, "-") == 0;
	FILE	   *file;
	size_t		size = 8192;
	size_t		len = 0;
	char	   *buf;

	input->name = is_stdin ? stdin_name : path;
	if (is_stdin)
		file = stdin;
	else if ((file = fopen(path, "rb")) == NULL)
	{
		pg_log_error("could not open file \"%s\": %m", path);
		exit(EXIT_TROUBLE);
	}

	buf = pg_malloc(size);
	for (;;)
	{
		size_t		n;

		if (size - len < 2)
		{
			size *= 2;
			buf = pg_realloc(buf, size);
		}
		n = fread(buf + len, 1, size - len - 1, file);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(file))
	{
		pg_log_error("could not read file \"%s\": %m", input->name);
		exit(EXIT_TROUBLE);
	}
	if (!is_stdin)
		fclose(file);
	buf[len] = '\0';

	if (memchr(buf, '\0', len) != NULL)
	{
		pg_log_error("file \"%s\" contains a zero byte", input->name);
		pg_log_error_detail("A migration script is text; is this a binary file?");
		exit(EXIT_TROUBLE);
	}

	input->script = buf;
	input->len = len;
}

/*
 * connect_server
 *
 * Connect with the given settings (NULL: libpq's environment and
 * defaults; dbname may be a connection string or URI).  Exits with
 * status 2 when the connection fails.  No password prompt: this runs in
 * CI, so a password comes from PGPASSWORD, the password file or the
 * connection string.
 */
static PGconn *
connect_server(const char *host, const char *port, const char *user,
			   const char *dbname)
{
	const char *keywords[6];
	const char *values[6];
	PGconn	   *conn;
	PGresult   *res;

	keywords[0] = "host";
	values[0] = host;
	keywords[1] = "port";
	values[1] = port;
	keywords[2] = "user";
	values[2] = user;
	keywords[3] = "dbname";
	values[3] = dbname;
	keywords[4] = "fallback_application_name";
	values[4] = progname;
	keywords[5] = NULL;
	values[5] = NULL;

	conn = PQconnectdbParams(keywords, values, true);
	if (conn == NULL)
	{
		pg_log_error("out of memory");
		exit(EXIT_TROUBLE);
	}
	if (PQstatus(conn) == CONNECTION_BAD)
	{
		pg_log_error("%s", PQerrorMessage(conn));
		exit(EXIT_TROUBLE);
	}

	/*
	 * What a rehearsed statement says as it runs (a NOTICE that a snapshot
	 * was kept, and the like) is undone with it: the rows say what happened.
	 * Warnings still reach standard error.
	 */
	res = PQexec(conn, "SET client_min_messages = warning");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		pg_log_error("could not set client_min_messages: %s",
					 PQerrorMessage(conn));
		exit(EXIT_TROUBLE);
	}
	PQclear(res);
	return conn;
}

/*
 * run_query
 *
 * Run query with nparams text parameters (types inferred by the server)
 * and return its rows.  On an error, says what could not be done ("check
 * file ...") and the server's message, and exits with status 2.
 */
static PGresult *
run_query(PGconn *conn, const char *what, const char *query, int nparams,
		  const char *const *params)
{
	PGresult   *res;
	const char *sqlstate;
	const char *detail;

	res = PQexecParams(conn, query, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;

	if (PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) != NULL)
		pg_log_error("could not %s: %s", what,
					 PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	else
		pg_log_error("could not %s: %s", what, PQerrorMessage(conn));
	detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	if (detail != NULL)
		pg_log_error_detail("%s", detail);

	/* no such function or schema: migsafe is missing or too old here */
	sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (sqlstate != NULL &&
		(strcmp(sqlstate, "42883") == 0 || strcmp(sqlstate, "3F000") == 0))
		pg_log_error_hint("Is the migsafe extension installed, at version %s or later, in database \"%s\"?",
						  MIGSAFE_VERSION, PQdb(conn));
	exit(EXIT_TROUBLE);
}

/*
 * check_batch
 *
 * Check the first files of inputs (as many as fit in a batch, at least
 * one) with one query, and point each at its rows of the result.  Returns
 * how many it checked.  check() never raises on a script; if the query
 * fails all the same, the files are checked one by one to name the one at
 * fault, and the program exits with status 2.
 */
static int
check_batch(PGconn *conn, MigsafeInput *inputs, int ninputs,
			const char *excludes)
{
	StringInfoData scripts;
	const char *params[2];
	PGresult   *res;
	size_t		bytes = 0;
	int			n = 0;
	int			row = 0;

	while (n < ninputs && n < BATCH_MAX_FILES &&
		   (n == 0 || bytes + inputs[n].len <= BATCH_MAX_BYTES))
		bytes += inputs[n++].len;

	initStringInfo(&scripts);
	appendStringInfoChar(&scripts, '{');
	for (int i = 0; i < n; i++)
		append_array_element(&scripts, inputs[i].script);
	appendStringInfoChar(&scripts, '}');
	params[0] = scripts.data;
	params[1] = excludes;

	res = PQexecParams(conn, CHECK_QUERY, 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK && n > 1)
	{
		PQclear(res);
		for (int i = 0; i < n; i++)
			check_batch(conn, inputs + i, 1, excludes);
		/* they all passed on their own: run the batch again to say why */
		res = PQexecParams(conn, CHECK_QUERY, 2, NULL, params, NULL, NULL, 0);
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		char	   *what = n == 1 ?
		psprintf("check file \"%s\"", inputs[0].name) :
		psprintf("check files \"%s\" to \"%s\"", inputs[0].name,
				 inputs[n - 1].name);

		PQclear(res);
		/* run_query() reports the error and exits */
		run_query(conn, what, CHECK_QUERY, 2, params);
		pg_free(what);
		exit(EXIT_TROUBLE);		/* not reached unless the error went away */
	}
	pfree(scripts.data);

	for (int i = 0; i < n; i++)
	{
		char		number[32];

		snprintf(number, sizeof(number), "%d", i + 1);
		inputs[i].result = res;
		inputs[i].owns_result = i == 0;
		inputs[i].first_row = row;
		while (row < PQntuples(res) && strcmp(PQgetvalue(res, row, 0), number) == 0)
			row++;
		inputs[i].nrows = row - inputs[i].first_row;
	}
	return n;
}

/*
 * require_report
 *
 * Exit with status 2, saying what is missing, unless the database has
 * migsafe.report(timestamptz): migsafe may not be installed there, or be
 * a version without report().  Asked before the call, so that the message
 * names what is missing instead of how the call failed.
 */
static void
require_report(PGconn *conn)
{
	PGresult   *res;

	res = run_query(conn, "look for migsafe.report()",
					"SELECT e.extversion,"
					" pg_catalog.to_regprocedure('migsafe.report(pg_catalog.timestamptz)') IS NOT NULL"
					" FROM pg_catalog.pg_extension e WHERE e.extname = 'migsafe'",
					0, NULL);
	if (PQntuples(res) == 0)
	{
		pg_log_error("extension \"migsafe\" is not installed in database \"%s\"",
					 PQdb(conn));
		pg_log_error_hint("--report prints migsafe.report(), which the migsafe extension provides.");
		exit(EXIT_TROUBLE);
	}
	if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
	{
		pg_log_error("function migsafe.report(timestamptz) does not exist in database \"%s\"",
					 PQdb(conn));
		pg_log_error_detail("The database has migsafe version %s, which has no report().",
							PQgetvalue(res, 0, 0));
		pg_log_error_hint("Install a version of migsafe that provides migsafe.report(), then run ALTER EXTENSION migsafe UPDATE in that database.");
		exit(EXIT_TROUBLE);
	}
	PQclear(res);
}

/* Flush standard output; a write error (a full disk) is exit status 2 */
static void
flush_output(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
	{
		pg_log_error("could not write to standard output: %m");
		exit(EXIT_TROUBLE);
	}
}

/*
 * want_color
 *
 * Colour for --color=when: "always", "never", or "auto", which colours
 * only a terminal and honours NO_COLOR (https://no-color.org: set and not
 * empty means no colour).
 */
static bool
want_color(const char *when)
{
	const char *no_color;

	if (strcmp(when, "always") == 0)
		return true;
	if (strcmp(when, "never") == 0)
		return false;
	no_color = getenv("NO_COLOR");
	if (no_color != NULL && no_color[0] != '\0')
		return false;
	return isatty(fileno(stdout));
}

/*
 * terminal_columns
 *
 * Width to wrap the text format at: the terminal's, or $COLUMNS when
 * stdout is not a terminal but COLUMNS says how wide to be; 0 (no
 * wrapping) otherwise, so that piped output has one line per finding.
 */
static int
terminal_columns(void)
{
	const char *env;

#ifdef TIOCGWINSZ
	if (isatty(fileno(stdout)))
	{
		struct winsize ws;

		if (ioctl(fileno(stdout), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
			return ws.ws_col;
	}
#endif
	env = getenv("COLUMNS");
	if (env != NULL && atoi(env) > 0)
		return atoi(env);
	return 0;
}

/*
 * Append value to the text of an array literal that buf holds ("{" and
 * what follows), quoted as an element, after a comma unless it is the
 * first: any text, quotes and backslashes included, comes back the same.
 */
static void
append_array_element(StringInfo buf, const char *value)
{
	if (buf->data[buf->len - 1] != '{')
		appendStringInfoChar(buf, ',');
	appendStringInfoChar(buf, '"');
	for (; *value; value++)
	{
		if (*value == '"' || *value == '\\')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, *value);
	}
	appendStringInfoChar(buf, '"');
}
