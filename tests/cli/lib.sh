# lib.sh - helpers for the end-to-end tests (sourced by tests/cli/run.sh).
# kbrun ARGS...      run $KB, capturing stdout in $OUT, stderr in $ERR, status in $RC
# expect_rc N        the last kbrun exited with N
# expect_out TEXT    stdout contains TEXT (fixed string)
# expect_err TEXT    stderr contains TEXT
# expect_no_out TEXT stdout does not contain TEXT
# fail MSG           fail the test
# make_kb DIR        `kb init DIR` with the fixed test identity

# kb_test_setup: called by run.sh in each test's fresh directory.
kb_test_setup() {
	export GIT_CONFIG_NOSYSTEM=1 HOME="$PWD" NO_COLOR=1 EDITOR=true
	unset KB_DIR KB_AUTHOR GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
	git config --global user.name "Test User"
	git config --global user.email "test@example.com"
	git config --global init.defaultBranch main
}

fail() { echo "FAIL: $*" >&2; exit 1; }

kbrun() {
	OUT=$("$KB" "$@" 2>"$PWD/.stderr"); RC=$?
	ERR=$(cat "$PWD/.stderr"); rm -f "$PWD/.stderr"
	return 0
}

kbrun_in() { # kbrun_in STDIN_FILE ARGS...
	local in="$1"; shift
	OUT=$("$KB" "$@" <"$in" 2>"$PWD/.stderr"); RC=$?
	ERR=$(cat "$PWD/.stderr"); rm -f "$PWD/.stderr"
	return 0
}

expect_rc() {
	[ "$RC" -eq "$1" ] || fail "exit $RC, expected $1; stdout: $OUT; stderr: $ERR"
}
expect_out() { case "$OUT" in *"$1"*) ;; *) fail "stdout lacks '$1': $OUT";; esac; }
expect_no_out() { case "$OUT" in *"$1"*) fail "stdout has '$1': $OUT";; esac; }
expect_err() { case "$ERR" in *"$1"*) ;; *) fail "stderr lacks '$1': $ERR";; esac; }

make_kb() {
	kbrun init "$1"
	expect_rc 0
}

# The git state of a KB as one string (HEAD, status, file hashes), to prove
# a failed command changed nothing.
kb_state() {
	(cd "$1" && git rev-parse HEAD 2>/dev/null; git status --porcelain=v1 --ignored;
	 find . -path ./.git -prune -o -type f -print0 | sort -z | xargs -0 sha1sum)
}
