#!/bin/sh
# checksrc.sh - style checks run by `make checksrc` (and `make test`):
#  1. banned functions (strcpy, strcat, sprintf, vsprintf, strtok, atoi, atol, gets);
#  2. every public header compiles on its own;
#  3. every C file opens with a comment saying what it is for.
set -u
cd "$(dirname "$0")/.."
status=0
files=$(ls core/*.c importers/*.c cli/*.c eval/*.c bench/*.c tests/unit/*.c tests/unit/support/*.c tests/fuzz/*.c 2>/dev/null)

banned='\<(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets)[[:space:]]*\('
if grep -nE "$banned" $files include/kb/*.h /dev/null; then
	echo "checksrc: banned function used (see above)" >&2
	status=1
fi

cflags=$(pkg-config --cflags sqlite3 libgit2 libcmark yaml-0.1 libutf8proc 2>/dev/null)
for h in include/kb/*.h; do
	# shellcheck disable=SC2086
	if ! printf '#include "kb/%s"\n' "$(basename "$h")" |
		${CC:-cc} -std=c11 -Wall -Wextra -Werror -Iinclude $cflags -fsyntax-only -x c - ; then
		echo "checksrc: $h does not compile on its own" >&2
		status=1
	fi
done

for f in $files; do
	head -n 1 "$f" | grep -q '^/\*' || { echo "checksrc: $f does not open with a comment" >&2; status=1; }
done
[ $status -eq 0 ] && echo "checksrc: ok"
exit $status
