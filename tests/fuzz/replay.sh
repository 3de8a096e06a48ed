#!/bin/sh
# replay.sh BUILD - run every fuzz target's replay binary over its saved
# corpus (tests/fuzz/corpus/<target>/) and the repository's own samples;
# part of `make test` and `make check-asan`.  `make fuzz` does the fuzzing.
build="$1"
cd "$(dirname "$0")/../.."
. tests/fuzz/seeds.sh
fail=0; n=0
for bin in "$build"/fuzz/fuzz_*-replay; do
	t=$(basename "$bin" -replay); t=${t#fuzz_}
	# shellcheck disable=SC2046
	if out=$("$bin" tests/fuzz/corpus/"$t" $(fuzz_seeds "$t") 2>&1); then
		n=$((n + 1))
		printf '%-28s ok (%s)\n' "fuzz_$t" "$(echo "$out" | sed -n 's/.*: \([0-9]* inputs\)$/\1/p')"
	else
		fail=$((fail + 1))
		printf '%-28s FAILED\n' "fuzz_$t"
		echo "$out" | tail -n 30 | sed 's/^/    /'
	fi
done
echo "fuzz-replay: $n passed, $fail failed"
[ "$fail" -eq 0 ]
