# Copyright (c) 2026, migsafe developers
#
# t/013_cli.pl
#	  migsafe-check, the command-line preview, as CI and a DBA run it.
#
# The program is installed with the extension (make install puts it into
# pg_config --bindir, which is on PATH); it reads migration files or
# standard input, sends each file whole to migsafe.check() and decides
# its exit status from the findings' classes:
#
# - the exit status at every --fail-on level (0 below the threshold, 1 at
#   or above it, an unparsable statement failing at every level but
#   "none"), checked against the classes the JSON output reports;
# - the three formats: the text table (colour on a terminal only, and not
#   with NO_COLOR), one JSON document, GitHub workflow commands (errors
#   at the threshold, warnings below it, escaping);
# - standard input, several files and a hundred files with each finding
#   on the right file and line, a 1 MB script, --exclude;
# - exit status 2 and a "migsafe-check: error:" message for a connection
#   failure, a missing file, a usage error, a database without migsafe;
# - --rehearse (and that it leaves nothing behind); --report, its lines
#   as text and JSON, and its errors where migsafe or report() is missing;
#   --version;
# - Django's sqlmigrate output piped in: the DeleteModel migration fails
#   the check, the same migration with its SET LOCAL migsafe.approve
#   passes it.
#
# Why TAP: this runs a client program against a server, with files,
# standard input, a terminal and another tool (Django) around it;
# pg_regress can only send SQL.

use strict;
use warnings;

use File::Spec;
use FindBin;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('cli');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'migsafe'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION migsafe');
$node->safe_psql(
	'postgres', q{
	CREATE TABLE t (x int, a int);
	INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g;
	ANALYZE t;
});

my $dir = PostgreSQL::Test::Utils::tempdir;

# write_file NAME CONTENT: a file in $dir; returns its path
sub write_file
{
	my ($name, $content) = @_;
	my $path = "$dir/$name";

	open my $fh, '>', $path or die "could not write $path: $!";
	print $fh $content;
	close $fh;
	return $path;
}

# cli ARGS [stdin => TEXT] [env => {...}] [pty => 1]: run migsafe-check
# with the node's connection settings; returns (exit status, stdout,
# stderr)
sub cli
{
	my ($args, %opts) = @_;
	my ($out, $err) = ('', '');
	my $in = $opts{stdin} // '';

	local %ENV = %ENV;
	delete $ENV{NO_COLOR};
	delete $ENV{COLUMNS};
	$ENV{PGHOST} = $node->host;
	$ENV{PGPORT} = $node->port;
	$ENV{PGDATABASE} = 'postgres';
	%ENV = (%ENV, %{ $opts{env} // {} });

	IPC::Run::run([ 'migsafe-check', @$args ],
		'<', \$in, ($opts{pty} ? '>pty>' : '>'), \$out, '2>', \$err)
	  ;
	return ($? >> 8, $out, $err);
}

# findings ARGS...: the JSON findings of a run (dies if not JSON)
sub findings
{
	my ($rc, $out, $err) = cli([ '--format=json', @_ ]);
	my $doc = eval { decode_json($out) };

	ok(defined $doc && ref $doc eq 'ARRAY',
		"--format=json @_: one JSON array")
	  or diag("exit $rc, stdout: $out\nstderr: $err");
	return @{ $doc // [] };
}

# matching LIST, KEY => VALUE...: the findings matching all pairs
sub matching
{
	my ($list, %want) = @_;

	return grep {
		my $f = $_;
		!grep { !defined $f->{$_} || $f->{$_} ne $want{$_} } keys %want
	} @$list;
}

my %severity = (advice => 1, locking => 2, breaking => 3, destructive => 4);

# The exit status the findings call for at threshold $level
sub expected_status
{
	my ($level, @findings) = @_;

	return 0 if $level eq 'none';
	for my $f (@findings)
	{
		return 1 if $f->{class} eq 'error';
		return 1 if ($severity{ $f->{class} } // 1) >= $severity{$level};
	}
	return 0;
}

my $drop = write_file('drop.sql', "-- the old table goes\n\nDROP TABLE t;\n");
my $index = write_file('index.sql', "SELECT 1;\nCREATE INDEX ON t (x);\n");
my $rename =
  write_file('rename.sql', "ALTER TABLE t RENAME COLUMN a TO b;\n");
my $bad =
  write_file('bad.sql', "SELECT 1;\n\nCREATE TABLE (;\nSELECT 2;\n");
my $clean = write_file('clean.sql', "SELECT 1;\n");
my $approved = write_file('approved.sql',
	"BEGIN;\nSET LOCAL migsafe.approve = 'public.t';\nDROP TABLE t;\nCOMMIT;\n"
);

my ($rc, $out, $err);

#
# What check() finds, file by file, as JSON
#
my @drop = findings($drop);
my ($f) = matching(\@drop, rule => 'drop_table');
ok($f, 'drop.sql: a drop_table finding');
is($f->{class}, 'destructive', 'drop.sql: drop_table is destructive');
is($f->{file}, $drop, 'drop.sql: the finding names the file');
is($f->{line}, 3, 'drop.sql: on line 3, after the comment');
is($f->{statement_no}, 1, 'drop.sql: statement 1 (comments do not count)');
like($f->{statement}, qr/DROP TABLE t/, 'drop.sql: the statement text');
like($f->{message}, qr/\S/, 'drop.sql: a message');
is(ref $f->{facts}, 'HASH', 'drop.sql: facts are a JSON object');
is(scalar(matching(\@drop, file => $drop)),
	scalar(@drop), 'drop.sql: every finding names the file');

my @index = findings($index);
($f) = matching(\@index, rule => 'require_concurrent_index_creation');
ok($f, 'index.sql: a require_concurrent_index_creation finding');
is($f->{class}, 'locking', 'index.sql: it is locking');
is($f->{line}, 2, 'index.sql: on line 2');
is($f->{statement_no}, 2, 'index.sql: statement 2');
ok(!matching(\@index, class => 'destructive'),
	'index.sql: nothing destructive');

my @rename = findings($rename);
($f) = matching(\@rename, rule => 'renaming_column');
ok($f, 'rename.sql: a renaming_column finding');
is($f->{class}, 'breaking', 'rename.sql: it is breaking');
is($f->{line}, 1, 'rename.sql: on line 1');

my @bad = findings($bad);
($f) = matching(\@bad, class => 'error');
ok($f, 'bad.sql: an error finding');
is($f->{rule}, 'syntax_error', 'bad.sql: rule syntax_error');
is($f->{line}, 3, 'bad.sql: on the line of the parse error');
like($f->{message}, qr/syntax error/, "bad.sql: the parser's message");

my @clean = findings($clean);
is(scalar(@clean), 0, 'clean.sql: no findings');

my @approved = findings($approved);
ok(matching(\@approved, class => 'advice'),
	'approved.sql: the approved DROP TABLE is reported as advice');
ok(!matching(\@approved, class => 'destructive'),
	'approved.sql: nothing destructive once approved');

# check() measures a table once per SQL command (a batch of files is one
# command), not once per script: every file of a batch sees the same
# rows, and the next command measures afresh
$node->safe_psql('postgres',
	'INSERT INTO t SELECT g, g FROM generate_series(1001, 1005) g');
($rc, $out) = cli([ '--format=json', $drop, $rename, $drop ]);
is( join(',',
		map { $_->{facts}{rows} } matching([ @{ decode_json($out) } ], rule => 'drop_table')),
	'1005,1005',
	'a batch: both files see the rows as the command began');
$node->safe_psql('postgres', 'DELETE FROM t WHERE x > 1000');
($rc, $out) = cli([ '--format=json', $drop ]);
is(join(',', map { $_->{facts}{rows} } matching([ @{ decode_json($out) } ], rule => 'drop_table')),
	'1000', 'the next run measures again');
my $rows_q = q{SELECT facts->>'rows' FROM migsafe.check('DROP TABLE t') WHERE rule = 'drop_table'};
is( $node->safe_psql(
		'postgres', "BEGIN; $rows_q;
		INSERT INTO t SELECT g, g FROM generate_series(1001, 1005) g;
		$rows_q; ROLLBACK;"),
	"1000\n1005",
	'a later command of the same transaction measures again');
is( $node->safe_psql(
		'postgres', "BEGIN; $rows_q;
		ALTER TABLE t ADD COLUMN e int;
		SELECT count(*) FROM migsafe.check('ALTER TABLE t DROP COLUMN e')
		 WHERE class = 'destructive';
		UPDATE t SET e = 1 WHERE x = 1;
		SELECT count(*) FROM migsafe.check('ALTER TABLE t DROP COLUMN e')
		 WHERE class = 'destructive'; ROLLBACK;"),
	"1000\n0\n1",
	'an empty column, then one with a value, in one transaction');

#
# Exit status at each --fail-on level
#
my %files = (
	drop => [ $drop, \@drop ],
	index => [ $index, \@index ],
	rename => [ $rename, \@rename ],
	bad => [ $bad, \@bad ],
	clean => [ $clean, \@clean ],
	approved => [ $approved, \@approved ]);

for my $level (qw(destructive breaking locking advice none))
{
	for my $name (sort keys %files)
	{
		my ($path, $list) = @{ $files{$name} };

		($rc, $out, $err) = cli([ "--fail-on=$level", $path ]);
		is($rc, expected_status($level, @$list),
			"--fail-on=$level $name.sql: exit status as its classes call for");
		is($err, '', "--fail-on=$level $name.sql: nothing on stderr");
	}
}

# The same, spelt out for the contract's examples
my %want = (
	destructive => { drop => 1, index => 0, rename => 0, bad => 1, clean => 0,
		approved => 0 },
	breaking => { drop => 1, index => 0, rename => 1, bad => 1, clean => 0 },
	locking => { drop => 1, index => 1, rename => 1, bad => 1, clean => 0 },
	advice => { drop => 1, index => 1, rename => 1, bad => 1, clean => 0,
		approved => 1 },
	none => { drop => 0, index => 0, rename => 0, bad => 0, clean => 0,
		approved => 0 });
for my $level (sort keys %want)
{
	for my $name (sort keys %{ $want{$level} })
	{
		($rc) = cli([ '--fail-on', $level, $files{$name}[0] ]);
		is($rc, $want{$level}{$name}, "--fail-on $level $name.sql: exit $want{$level}{$name}");
	}
}
($rc) = cli([$drop]);
is($rc, 1, 'default --fail-on is destructive: drop.sql fails');
($rc) = cli([$rename]);
is($rc, 0, 'default --fail-on is destructive: rename.sql passes');

#
# Text format
#
($rc, $out, $err) = cli([ $drop, $index ]);
is($rc, 1, 'text: exit 1');
like($out, qr/^LOCATION\s+CLASS\s+RULE$/m, 'text: a header');
like(
	$out,
	qr/^\Q$drop\E:3\s+destructive\s+drop_table$/m,
	'text: the drop_table row with file and line');
like(
	$out,
	qr/^\Q$index\E:2\s+locking\s+require_concurrent_index_creation$/m,
	'text: the index row');
like($out, qr/^    statement 1: DROP TABLE t;?$/m,
	'text: the statement under its row');
like($out, qr/^\d+ findings in 2 files: .*1 destructive.*\(\d+ fails? --fail-on=destructive\)$/m,
	'text: a summary line');
unlike($out, qr/\e\[/, 'text: no colour into a pipe');

($rc, $out) = cli([ '--color=always', $drop ]);
like($out, qr/\e\[1;31mdestructive/, '--color=always: classes in colour');
($rc, $out) = cli([ '--color=never', $drop ], pty => 1);
unlike($out, qr/\e\[/, '--color=never: no colour on a terminal');
($rc, $out) = cli([$drop], pty => 1);
like($out, qr/\e\[1;31mdestructive/, 'a terminal gets colour');
($rc, $out) = cli([$drop], pty => 1, env => { NO_COLOR => '1' });
unlike($out, qr/\e\[/, 'NO_COLOR: no colour on a terminal');
($rc, $out) = cli([$clean]);
is($out, "1 file checked, no findings\n", 'text: no findings');

#
# GitHub format
#
($rc, $out, $err) = cli([ '--format=github', $drop, $index, $bad ]);
is($rc, 1, 'github: exit 1');
like(
	$out,
	qr/^::error file=\Q$drop\E,line=3,title=migsafe drop_table::\S/m,
	'github: a destructive finding is an error at the default threshold');
like(
	$out,
	qr/^::warning file=\Q$index\E,line=2,title=migsafe require_concurrent_index_creation::\S/m,
	'github: a locking finding is a warning at the default threshold');
like(
	$out,
	qr/^::error file=\Q$bad\E,line=3,title=migsafe syntax_error::.*syntax error/m,
	'github: a syntax error is an error');
ok(!grep({ !/^::(error|warning) file=/ } split /\n/, $out),
	'github: one workflow command a line, nothing else');

($rc, $out) = cli([ '--format=github', '--fail-on=locking', $index ]);
like(
	$out,
	qr/^::error file=\Q$index\E,line=2,title=migsafe require_concurrent_index_creation::/m,
	'github: --fail-on=locking makes the locking finding an error');
($rc, $out) = cli([ '--format=github', '--fail-on=none', $bad ]);
is($rc, 0, 'github --fail-on=none: exit 0');
like($out, qr/^::warning file=\Q$bad\E,line=3,title=migsafe syntax_error::/m,
	'github --fail-on=none: even a syntax error is a warning');

my $odd = write_file('100%,odd:name.sql', "DROP TABLE t;\n");
($rc, $out) = cli([ '--format=github', $odd ]);
like(
	$out,
	qr/^::error file=\Q$dir\E\/100%25%2Codd%3Aname\.sql,line=1,title=migsafe drop_table::/m,
	'github: %, comma and colon escaped in the file property');
my ($message) = matching([ findings($odd) ], rule => 'drop_table');
my $escaped = $message->{message};
$escaped =~ s/%/%25/g;
$escaped =~ s/\r/%0D/g;
$escaped =~ s/\n/%0A/g;
like($out, qr/::\Q$escaped\E$/m, 'github: the message, escaped');

#
# Standard input, several files
#
($rc, $out, $err) =
  cli([ '--format=json', '-' ], stdin => "SELECT 1;\n\n\nDROP TABLE t;\n");
my @stdin = @{ decode_json($out) };
($f) = matching(\@stdin, rule => 'drop_table');
is($f->{file}, '<stdin>', 'stdin: named <stdin>');
is($f->{line}, 4, 'stdin: line 4');
is($f->{statement_no}, 2, 'stdin: statement 2');
is($rc, 1, 'stdin: exit 1');

($rc, $out) = cli([ '--format=json', '--stdin-filename=migrations/0004.sql', $index, '-' ],
	stdin => "DROP TABLE t;\n");
my @mixed = @{ decode_json($out) };
is(scalar(matching(\@mixed, file => 'migrations/0004.sql', rule => 'drop_table')),
	1, '--stdin-filename names standard input');
is(scalar(matching(\@mixed, file => $index, rule => 'require_concurrent_index_creation')),
	1, 'a file and stdin in one run');

($rc, $out) = cli([ '--format=json', $rename, $drop, $index, $bad ]);
my @several = @{ decode_json($out) };
my %where = map { ("$_->{rule}" => "$_->{file}:$_->{line}:$_->{statement_no}") }
  grep { $_->{rule} =~ /^(drop_table|require_concurrent_index_creation|renaming_column|syntax_error)$/ }
  @several;
is($where{renaming_column}, "$rename:1:1", 'several files: renaming_column on rename.sql:1');
is($where{drop_table}, "$drop:3:1", 'several files: drop_table on drop.sql:3');
is($where{require_concurrent_index_creation}, "$index:2:2",
	'several files: require_concurrent_index_creation on index.sql:2');
like($where{syntax_error}, qr/^\Q$bad\E:3:/, 'several files: syntax_error on bad.sql:3');
my @order = map { $_->{file} } @several;
my @files_seen;
for my $file (@order)
{
	push @files_seen, $file unless @files_seen && $files_seen[-1] eq $file;
}
is_deeply(\@files_seen, [ $rename, $drop, $index, $bad ],
	'several files: findings in the order of the arguments');

# A hundred files, one connection
my @many;
for my $i (1 .. 100)
{
	push @many,
	  write_file(sprintf('V%03d__step.sql', $i), ("SELECT 1;\n" x ($i % 7)) . "CREATE INDEX ON t (x);\n");
}
($rc, $out, $err) = cli([ '--format=json', @many ]);
my @hundred = matching([ @{ decode_json($out) } ], rule => 'require_concurrent_index_creation');
is(scalar(@hundred), 100, '100 files: one index finding each');
is(scalar(grep { $hundred[$_ - 1]{file} eq $many[$_ - 1] && $hundred[$_ - 1]{line} == $_ % 7 + 1 } 1 .. 100),
	100, '100 files: each on its own file and line');

# A 1 MB script: ten thousand comment lines, then the statement
my $big = write_file('big.sql', ('-- ' . ('x' x 100) . "\n") x 10000 . "DROP TABLE t;\n");
cmp_ok(-s $big, '>', 1_000_000, 'big.sql is over 1 MB');
($rc, $out, $err) = cli([ '--format=json', $big ]);
($f) = matching([ @{ decode_json($out) } ], rule => 'drop_table');
is($f->{line}, 10001, '1 MB script: the finding on line 10001');
is($rc, 1, '1 MB script: exit 1');

# Scripts that need quoting in the text[] literal of a batch, and batches
# split by size: 20 links to the 1 MB script make more than one batch
my $null = write_file('null.sql', "NULL");
my $empty = write_file('empty.sql', '');
my $quotes = write_file('quotes.sql', "SELECT '{\"a\": \"b\\\\c\"}', 'x,y';\nDROP TABLE t;\n");
($rc, $out, $err) = cli([ '--format=json', $null, $empty, $quotes, $drop ]);
my @quoted = @{ decode_json($out) };
is(scalar(matching(\@quoted, file => $null, class => 'error')), 1,
	'a file that says only NULL: a syntax error, not a null script');
is(scalar(matching(\@quoted, file => $empty)), 0, 'an empty file: no findings');
is(scalar(matching(\@quoted, file => $quotes, rule => 'drop_table', line => 2)), 1,
	'quotes, braces, a backslash and a comma in a script: still its own findings');
is(scalar(matching(\@quoted, file => $drop, rule => 'drop_table', line => 3)), 1,
	'... and the next file keeps its own');
my @links;
for my $i (1 .. 20)
{
	push @links, "$dir/big$i.sql";
	symlink(File::Spec->rel2abs($big), $links[-1]) or die "symlink: $!";
}
($rc, $out, $err) = cli([ '--format=json', @links ]);
my @bigs = matching([ @{ decode_json($out) } ], rule => 'drop_table');
is_deeply([ map { "$_->{file}:$_->{line}" } @bigs ], [ map { "$_:10001" } @links ],
	'20 MB in 20 files (more than one query): each finding on its file and line');

#
# --exclude
#
($rc, $out) = cli([ '--format=json', '--exclude=drop_table', $drop ]);
ok(!matching([ @{ decode_json($out) } ], rule => 'drop_table'),
	'--exclude=drop_table: no drop_table finding');
is($rc, expected_status('destructive', @{ decode_json($out) }),
	'--exclude=drop_table: exit status from what is left');
($rc, $out) = cli([ '--format=json', '-x', 'drop_table', '-x', 'require_concurrent_index_creation',
	'--exclude', 'no such "rule", {really}', $drop, $index ]);
ok(!matching([ @{ decode_json($out) } ], rule => 'drop_table')
	  && !matching([ @{ decode_json($out) } ], rule => 'require_concurrent_index_creation'),
	'--exclude twice (and a name that needs quoting in an array)');
($rc, $out) = cli([ '--format=json', '-x', 'renaming_column', $rename ]);
my @left = @{ decode_json($out) };
($rc) = cli([ '-x', 'renaming_column', '--fail-on=breaking', $rename ]);
is($rc, expected_status('breaking', @left),
	'--exclude=renaming_column --fail-on=breaking: exit status from what is left');
is($rc, 0, '--exclude=renaming_column: rename.sql passes --fail-on=breaking');

#
# Errors: exit 2, a message on stderr, nothing on stdout
#
($rc, $out, $err) = cli([$drop], env => { PGHOST => "$dir/nosocket" });
is($rc, 2, 'connection failure: exit 2');
like($err, qr/^migsafe-check: error: connection to server .*failed/m,
	'connection failure: the error');
is($out, '', 'connection failure: nothing on stdout');

($rc, $out, $err) = cli([ $drop, "$dir/missing.sql" ]);
is($rc, 2, 'missing file: exit 2');
like($err, qr/^migsafe-check: error: could not open file "\Q$dir\E\/missing\.sql": No such file or directory$/m,
	'missing file: the error');
is($out, '', 'missing file: nothing on stdout');

($rc, $out, $err) = cli([]);
is($rc, 2, 'no file: exit 2');
like($err, qr/^migsafe-check: error: no file to check/m, 'no file: the error');
like($err, qr/^migsafe-check: hint: Try "migsafe-check --help" for more information\.$/m,
	'no file: the hint');
($rc, $out, $err) = cli([ '--fail-on=severe', $drop ]);
is($rc, 2, 'bad --fail-on: exit 2');
like($err, qr/^migsafe-check: error: invalid value "severe" for option --fail-on/m,
	'bad --fail-on: the error');
($rc, $out, $err) = cli([ '--format=xml', $drop ]);
is($rc, 2, 'bad --format: exit 2');
($rc, $out, $err) = cli([ '--no-such-option', $drop ]);
is($rc, 2, 'unknown option: exit 2');

$node->safe_psql('postgres', 'CREATE DATABASE plain');
($rc, $out, $err) = cli([ $drop, $index ], env => { PGDATABASE => 'plain' });
is($rc, 2, 'database without migsafe: exit 2');
like($err, qr/^migsafe-check: error: could not check file "\Q$drop\E": .*migsafe/m,
	'database without migsafe: the error names the (first) file');
is($out, '', 'database without migsafe: nothing on stdout');
like($err, qr/^migsafe-check: hint: Is the migsafe extension installed/m,
	'database without migsafe: the hint');
($rc, $out, $err) = cli([ '-d', 'dbname=plain', $drop ]);
is($rc, 2, '-d with a connection string reaches that database');
($rc, $out, $err) = cli([ '-d', 'postgresql:///postgres?host=' . $node->host . '&port=' . $node->port, $drop ],
	env => { PGHOST => "$dir/nosocket", PGDATABASE => 'plain' });
is($rc, 1, '-d with a URI overrides the environment');

my $nul = write_file('nul.sql', "SELECT 1;\0");
($rc, $out, $err) = cli([$nul]);
is($rc, 2, 'a zero byte: exit 2');
like($err, qr/^migsafe-check: error: file ".*nul\.sql" contains a zero byte$/m,
	'a zero byte: the error');

#
# --rehearse: runs the script, rolled back
#
my $before = $node->safe_psql('postgres',
	"SELECT count(*) FROM pg_index WHERE indrelid = 'public.t'::regclass");
($rc, $out, $err) = cli([ '--rehearse', '--format=json', $index ]);
is($rc, 0, '--rehearse: exit 0') or diag($err);
my @rehearsal = @{ decode_json($out) };
($f) = grep { $_->{statement_no} == 2 } @rehearsal;
ok($f, '--rehearse: a row for statement 2');
is($f->{line}, 2, '--rehearse: on line 2');
is($f->{file}, $index, '--rehearse: with the file');
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_index WHERE indrelid = 'public.t'::regclass"),
	$before,
	'--rehearse: the index is not left behind');
($rc, $out, $err) = cli([ '--rehearse', $approved ]);
is($rc, 0, '--rehearse approved.sql: exit 0');
like($out, qr/DROP TABLE t/, '--rehearse approved.sql: the DROP TABLE row');
is($err, '', '--rehearse: what rehearsed statements say (NOTICEs) is not shown');
is($node->safe_psql('postgres', "SELECT count(*) FROM t"), '1000',
	'--rehearse approved.sql: the table is still there');
($rc, $out) = cli([ '--rehearse', $index ]);
like($out, qr/^\s*\Q$index\E\s*$/m, '--rehearse text: a table titled with the file');
like($out, qr/statement_no.*\|.*line/, '--rehearse text: the result columns');

#
# --report, --version, --help
#
# migsafe.report() may not exist yet (it comes with undo and restore):
# --report must then say so, and work where it exists.  Without it, a
# stand-in with its signature, in a database of its own, shows that
# --report prints whatever lines report() returns.
($rc, $out, $err) = cli([ '--report' ], env => { PGDATABASE => 'plain' });
is($rc, 2, '--report where migsafe is not installed: exit 2');
like($err, qr/^migsafe-check: error: extension "migsafe" is not installed in database "plain"$/m,
	'--report where migsafe is not installed: says so');
is($out, '', '--report where migsafe is not installed: nothing on stdout');

my $has_report = $node->safe_psql('postgres',
	"SELECT to_regprocedure('migsafe.report(timestamptz)') IS NOT NULL") eq 't';
my $reportdb = 'postgres';
if (!$has_report)
{
	($rc, $out, $err) = cli([ '--report' ]);
	is($rc, 2, '--report without migsafe.report(): exit 2');
	like($err,
		qr/^migsafe-check: error: function migsafe\.report\(timestamptz\) does not exist in database "postgres"$/m,
		'--report without migsafe.report(): says what is missing');
	like($err, qr/^migsafe-check: detail: The database has migsafe version \S+, which has no report\(\)\.$/m,
		'--report without migsafe.report(): the installed version');
	like($err, qr/^migsafe-check: hint: Install a version of migsafe that provides migsafe\.report\(\)/m,
		'--report without migsafe.report(): the hint');
	is($out, '', '--report without migsafe.report(): nothing on stdout');

	$reportdb = 'reported';
	$node->safe_psql('postgres', "CREATE DATABASE $reportdb");
	$node->safe_psql(
		$reportdb, q{
		CREATE EXTENSION migsafe;
		BEGIN;
		SET LOCAL migsafe.approve = 'migsafe.*';
		CREATE FUNCTION migsafe.report(since timestamptz DEFAULT now() - interval '1 hour')
		RETURNS SETOF text LANGUAGE sql STABLE
		AS $$ VALUES ('migsafe report since ' || since::date), (''), ('line "3", \ and ,') $$;
		COMMIT;
	});
}
my $want = $node->safe_psql($reportdb,
	"SELECT string_agg(r, E'\\n') FROM migsafe.report('2000-01-01') r");
($rc, $out, $err) = cli([ '--report=2000-01-01' ], env => { PGDATABASE => $reportdb });
is($rc, 0, '--report=SINCE: exit 0') or diag($err);
is($out, "$want\n", '--report=SINCE: the lines of migsafe.report(SINCE)');
like($out, qr/\S/, '--report=SINCE: a report that says something');
($rc, $out, $err) = cli([ '--report=2000-01-01', '--format=json' ],
	env => { PGDATABASE => $reportdb });
is_deeply(decode_json($out), [ split /\n/, $want, -1 ],
	'--report --format=json: an array of the lines');
($rc, $out, $err) = cli([ '--report' ], env => { PGDATABASE => $reportdb });
is($rc, 0, '--report without SINCE: exit 0 (report()\'s default period)');
($rc, $out, $err) = cli([ '--report=not a time' ], env => { PGDATABASE => $reportdb });
is($rc, 2, '--report=SINCE that is not a time: exit 2');
like($err, qr/^migsafe-check: error: could not run migsafe\.report\(\): invalid input syntax for type timestamp with time zone/m,
	'--report=SINCE that is not a time: the server\'s message');
($rc, $out, $err) = cli([ '--report', $drop ]);
is($rc, 2, '--report takes no file');

my $control = slurp_file("$FindBin::RealBin/../migsafe.control");
my ($version) = $control =~ /^default_version\s*=\s*'([^']+)'/m;
($rc, $out) = cli([ '--version' ]);
is($out, "migsafe-check (migsafe) $version\n", '--version: the control file\'s version');
($rc, $out) = cli([ '--help' ]);
is($rc, 0, '--help: exit 0');
like($out, qr/--fail-on=CLASS/, '--help: the options');

#
# Django: sqlmigrate output piped in
#
my $django = "$FindBin::RealBin/../test/e2e/django";
my %django_env = (
	PYTHONDONTWRITEBYTECODE => 1,
	E2E_PGHOST => $node->host,
	E2E_PGPORT => $node->port,
	E2E_PGDATABASE => 'django',
	E2E_PGUSER => scalar(getpwuid($>)));

# manage ARGS...: run Django's manage.py; returns (exit status, stdout)
sub manage
{
	my ($module, @args) = @_;
	my ($mout, $merr) = ('', '');

	local %ENV = (%ENV, %django_env, SHOP_MIGRATIONS => $module);
	IPC::Run::run([ '/usr/bin/python3', "$django/manage.py", @args ],
		'>', \$mout, '2>', \$merr);
	diag($merr) if $?;
	return ($? >> 8, $mout);
}

$node->safe_psql('postgres', 'CREATE DATABASE django');
$node->safe_psql('django', 'CREATE EXTENSION migsafe');
($rc) = manage('shop.migrations', 'migrate', '--no-input', 'shop', '0001');
is($rc, 0, 'django: migrate shop 0001 (tables with rows)');

my $sql;
($rc, $sql) = manage('shop.migrations', 'sqlmigrate', 'shop', '0004');
is($rc, 0, 'django: sqlmigrate shop 0004');
like($sql, qr/DROP TABLE "shop_coupon"/, 'django: 0004 drops shop_coupon');
my @sqllines = split /\n/, $sql;
my ($dropline) = grep { $sqllines[ $_ - 1 ] =~ /DROP TABLE/ } 1 .. @sqllines;

($rc, $out, $err) = cli([ '--format=json', '--stdin-filename=shop/migrations/0004_delete_coupon.py', '-' ],
	stdin => $sql, env => { PGDATABASE => 'django' });
is($rc, 1, 'django: sqlmigrate 0004 | migsafe-check fails');
($f) = matching([ @{ decode_json($out) } ], rule => 'drop_table');
ok($f, 'django: a drop_table finding');
is($f->{class}, 'destructive', 'django: destructive');
is($f->{line}, $dropline, 'django: on the line of DROP TABLE in the sqlmigrate output');
like($f->{message}, qr/shop_coupon/, 'django: the message names the table');

($rc, $sql) = manage('shop.migrations_approved', 'sqlmigrate', 'shop', '0004');
like($sql, qr/SET LOCAL migsafe\.approve = 'public\.shop_coupon'/,
	'django: the approved 0004 carries its approval');
($rc, $out, $err) = cli([ '-' ], stdin => $sql, env => { PGDATABASE => 'django' });
is($rc, 0, 'django: the approved 0004 passes migsafe-check')
  or diag($out, $err);

$node->stop;
done_testing();
