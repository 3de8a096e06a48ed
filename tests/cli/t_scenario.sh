# t_scenario.sh - a short run of the three-clone scenario (tests/scenario/,
# `make scenario` runs the full 500 operations): 60 random operations against
# a git daemon on 127.0.0.1, then every check of the scenario must hold.

test_scenario_short_run() {
	"$KB" sync --help >/dev/null 2>&1 || skip "kb has no 'sync' command yet (branch h/sync not merged)"
	rc=0
	"$KB_SRCDIR/tests/scenario/scenario.sh" "$KB" --ops 60 --seed 7 --dir "$PWD/run" >out.txt 2>&1 || rc=$?
	cat out.txt
	[ "$rc" -eq 0 ] || fail "scenario exited $rc (log: $PWD/run/scenario.log)"
	grep -q '^scenario: ok$' out.txt || fail "no 'scenario: ok'"
}
