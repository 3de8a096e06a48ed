#!/bin/sh
# Run every cmocka unit-test binary given on the command line, each in its
# own temporary directory; print a summary line "N passed, N failed".
# KB_VALGRIND=1 runs each binary under valgrind (leaks and errors fail).
build="$1"; shift
pass=0; fail=0; failed=""
root=$(mktemp -d "${TMPDIR:-/tmp}/kb-unit.XXXXXX")
for t in "$@"; do
	name=$(basename "$t")
	dir="$root/$name"; mkdir -p "$dir"
	log="$dir.log"
	abs=$(cd "$(dirname "$t")" && pwd)/$name
	if [ -n "${KB_VALGRIND:-}" ]; then
		run="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --suppressions=$PWD/tests/valgrind.supp"
	else
		run=""
	fi
	if (cd "$dir" && KB_SRCDIR="$OLDPWD" $run "$abs") >"$log" 2>&1; then
		n=$(grep -c '^\[       OK \]' "$log")
		pass=$((pass + n))
		printf '%-28s ok (%s tests)\n' "$name" "$n"
	else
		n=$(grep -c '^\[  FAILED  \]' "$log")
		[ "$n" -gt 0 ] || n=1
		fail=$((fail + n)); failed="$failed $name"
		printf '%-28s FAILED\n' "$name"
		sed 's/^/    /' "$log" | tail -n 40
	fi
done
rm -rf "$root"
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
