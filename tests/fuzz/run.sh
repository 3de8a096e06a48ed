#!/bin/sh
# run.sh BUILD SECONDS [TARGET...] - fuzz each target with libFuzzer for
# SECONDS, starting from its saved corpus and the repository's samples.
# New inputs go to BUILD/corpus/<target>; a crash or violated property is
# written to BUILD/artifacts/ and fails the run: copy it into
# tests/fuzz/corpus/<target>/ once fixed, so `make test` replays it.
build="$1"; secs="$2"; shift 2
cd "$(dirname "$0")/../.."
. tests/fuzz/seeds.sh
targets="$*"
[ -n "$targets" ] || targets=$(for b in "$build"/fuzz/fuzz_*; do case "$b" in *-replay) ;; *) basename "$b" | sed 's/^fuzz_//' ;; esac; done)
mkdir -p "$build/artifacts"
fail=0
for t in $targets; do
	mkdir -p "$build/corpus/$t"
	# libFuzzer runs file arguments once instead of fuzzing: copy every seed in
	for seed in tests/fuzz/corpus/"$t" $(fuzz_seeds "$t"); do
		if [ -d "$seed" ]; then
			find "$seed" -maxdepth 1 -type f -exec cp {} "$build/corpus/$t/" \;
		else
			cp "$seed" "$build/corpus/$t/"
		fi
	done
	echo "== fuzz_$t for ${secs}s"
	if ! "$build/fuzz/fuzz_$t" -max_total_time="$secs" -max_len=65536 -timeout=20 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" \
		"$build/corpus/$t" \
		>"$build/fuzz-$t.log" 2>&1; then
		fail=1
		echo "fuzz_$t FAILED: see $build/fuzz-$t.log and $build/artifacts/"
		grep -E 'ERROR|property violated|SUMMARY' "$build/fuzz-$t.log" | head -n 5
	else
		grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$build/fuzz-$t.log" | tr '\n' ' '
		echo
	fi
done
exit $fail
