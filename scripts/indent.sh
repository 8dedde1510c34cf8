#!/usr/bin/env bash
# indent.sh - what `make indent` runs: pg_bsd_indent with pgindent's options
# on migsafe's C files.  pgindent needs every typedef name; Debian ships no
# typedefs.list for the server, so PostgreSQL's names are read off the
# installed server headers and merged with migsafe's own typedefs.list.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

inc=$(pg_config --includedir-server)
# libpq's own headers, for cli/ (PGconn, PGresult, PQExpBufferData)
libpq_inc="$(pg_config --includedir)/libpq-fe.h $(pg_config --includedir)/internal/pqexpbuffer.h"
list=$(mktemp)
trap 'rm -f "$list" "$list".*' EXIT
{
	cat typedefs.list
	grep -rhoE '^\}\s*[A-Za-z_][A-Za-z0-9_]*;' "$inc" $libpq_inc | sed -E 's/^\}\s*//; s/;$//'
	grep -rhoE '^typedef\s[^;()]*\b[A-Za-z_][A-Za-z0-9_]*;' "$inc" $libpq_inc |
		sed -E 's/;$//; s/.*[^A-Za-z0-9_]//'
	grep -rhoE '^typedef\s.*\(\s*\*\s*[A-Za-z_][A-Za-z0-9_]*\)' "$inc" |
		sed -E 's/.*\(\s*\*\s*//; s/\)$//'
} | sort -u >"$list"

for f in migsafe.c src/*.c include/*.h cli/*.c cli/*.h; do
	pg_bsd_indent -bad -bap -bbb -bc -bl -cli1 -cp33 -cdb -nce -d0 -di12 \
		-nfc1 -i4 -l79 -lp -lpl -nip -npro -sac -tpg -ts4 \
		-U"$list" "$f" "$f.indented"
	if ! cmp -s "$f" "$f.indented"; then
		mv "$f.indented" "$f"
		echo "indent: reformatted $f"
	else
		rm -f "$f.indented"
	fi
done
