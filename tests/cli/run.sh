#!/usr/bin/env bash
# End-to-end tests: run the real `kb` binary in temporary directories.
# Each tests/cli/t_*.sh defines functions named test_*; each function runs
# in a subshell inside a fresh empty directory with $KB pointing at the
# binary and a fixed git identity.  A test may call `skip REASON` when the
# machine cannot run it.  Prints "cli: N passed, N failed, N skipped".
# Usage: tests/cli/run.sh /abs/path/to/kb [t_file.sh ...]
set -u
export KB="$1"; shift
here=$(cd "$(dirname "$0")" && pwd)
export KB_SRCDIR=$(cd "$here/../.." && pwd)
files=("$@")
[ ${#files[@]} -gt 0 ] || files=("$here"/t_*.sh)
pass=0; fail=0; skipped=0
root=$(mktemp -d "${TMPDIR:-/tmp}/kb-cli.XXXXXX")
for f in "${files[@]}"; do
	[ -f "$f" ] || f="$here/$f"
	fns=$(bash -c "source '$here/lib.sh'; source '$f'; declare -F" | awk '{print $3}' | grep '^test_')
	for fn in $fns; do
		dir="$root/$(basename "$f" .sh).$fn"; mkdir -p "$dir"
		export KB_SKIP_FILE="$dir.skip"
		if (cd "$dir" && source "$here/lib.sh" && source "$f" && kb_test_setup && set -e && "$fn") >"$dir.log" 2>&1; then
			if [ -f "$dir.skip" ]; then
				skipped=$((skipped + 1))
				echo "SKIPPED: $(basename "$f") $fn: $(cat "$dir.skip")"
			else
				pass=$((pass + 1))
			fi
		else
			fail=$((fail + 1))
			echo "FAILED: $(basename "$f") $fn"
			sed 's/^/    /' "$dir.log" | tail -n 30
		fi
	done
done
[ "$fail" -eq 0 ] && rm -rf "$root"
echo "cli: $pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
