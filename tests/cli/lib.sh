# lib.sh - helpers for the end-to-end tests (sourced by tests/cli/run.sh).
# kbrun ARGS...      run $KB, capturing stdout in $OUT, stderr in $ERR, status in $RC
# expect_rc N        the last kbrun exited with N
# expect_out TEXT    stdout contains TEXT (fixed string)
# expect_err TEXT    stderr contains TEXT
# expect_no_out TEXT stdout does not contain TEXT
# fail MSG           fail the test
# skip REASON        the machine cannot run this test (reported by run.sh)
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
skip() { echo "$*" >"$KB_SKIP_FILE"; exit 0; }

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

# ---- helpers added for the command tests --------------------------------
# sample_cases       directory of the bundled sample cases (kb/cases)
# sample_kb DIR      make_kb DIR, then add the sample cases in one commit
# write_case F ID [TITLE [STATUS]] [KEY: VALUE lines...]  a small valid case
# commits DIR        `git log` of DIR as "author <email>|subject" lines
# ncommits DIR       number of commits of DIR
# same_state DIR BEFORE   kb_state DIR equals BEFORE
# one_line_err       stderr is exactly one line

sample_cases() { echo "$KB_SRCDIR/kb/cases"; }

sample_kb() {
	make_kb "$1"
	kbrun --kb "$1" add "$(sample_cases)"
	expect_rc 0
}

write_case() {
	local f="$1" id="$2" title="${3:-Pump trips on overload}" status="${4:-draft}"
	shift 4 2>/dev/null || shift $#
	{
		echo "---"
		echo "id: $id"
		echo "title: $title"
		echo "equipment: pump"
		echo "status: $status"
		echo "author: Case Writer <writer@example.com>"
		echo "created: 2024-05-12"
		for l in "$@"; do echo "$l"; done
		echo "---"
		echo
		echo "## Symptom"
		echo
		echo "Motor overload relay trips ten minutes after start, current 12 A."
		echo
		echo "## Resolution"
		echo
		echo "Replaced the worn bearing and reset the relay."
	} >"$f"
}

# case_path ID: where kb writes a new case ID (kb_store_case_relpath):
# cases/PREFIX/NNN/ID.md for PREFIX-NUMBER (NNN = NUMBER / 1000), else cases/ID.md
case_path() {
	local id="$1" num="${1##*-}"
	case "$id" in
	?*-*[0-9]) case "$num" in *[!0-9]*) echo "cases/$id.md"; return;; esac
		printf 'cases/%s/%03d/%s.md\n' "${id%-*}" $((10#$num / 1000)) "$id";;
	*) echo "cases/$id.md";;
	esac
}

commits() { git -C "$1" log --format='%an <%ae>|%s'; }
ncommits() { git -C "$1" rev-list --count HEAD; }

same_state() {
	[ "$(kb_state "$1")" = "$2" ] || fail "the KB changed: $(git -C "$1" status --short)"
}

one_line_err() {
	[ -n "$ERR" ] || fail "no message on stderr"
	[ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ] || fail "stderr is not one line: $ERR"
}

# json_check FILTER: run python on $OUT parsed as JSON (`d`); FILTER is an
# assert expression, e.g. 'd[0]["id"] == "CHL-0001"'.
json_check() {
	printf '%s' "$OUT" | python3 -c "import json,sys
d = json.load(sys.stdin)
assert $1, d" || fail "json check failed: $1"
}
