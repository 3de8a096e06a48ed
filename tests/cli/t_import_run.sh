# t_import_run.sh - how an import run behaves as a process: the progress bar
# (on a terminal, never on a pipe, --progress / --no-progress), and an import
# killed with SIGKILL half-way that leaves the KB at its previous commit and
# finishes on the next run without duplicates.

# N notes of one line each, blank-line separated, all different.
make_notes() { # make_notes FILE N
	local i
	for i in $(seq 1 "$2"); do
		printf '2024-03-%02d pump P-%d tripped on overload %d times, reset breaker B%d\n\n' \
			$((i % 28 + 1)) "$i" "$i" $((i * 7))
	done >"$1"
}

# Run a command on a pseudo-terminal (util-linux script), output in $OUT.
on_tty() {
	command -v script >/dev/null 2>&1 || skip "no script(1) to give kb a terminal"
	OUT=$(script -qec "$*" /dev/null </dev/null); RC=$?
}

test_import_progress_on_tty_only() {
	make_kb kb
	make_notes notes.txt 300
	on_tty "'$KB' --kb kb import notes notes.txt"
	[ "$RC" -eq 0 ] || fail "exit $RC: $OUT"
	case "$OUT" in *"importing: "*" records, "*" of "*"%"*"/s"*) ;; *) fail "no progress bar: $OUT";; esac
	case "$OUT" in *"300 created"*) ;; *) fail "no summary: $OUT";; esac
	# on a pipe: no bar, no carriage return
	make_kb kb2
	make_notes more.txt 20
	kbrun --kb kb2 import notes more.txt
	expect_rc 0
	case "$ERR" in *importing:*|*$'\r'*) fail "progress on a pipe: $ERR";; esac
	expect_err "20 created"
}

test_import_progress_options() {
	make_kb kb
	make_notes notes.txt 30
	kbrun --kb kb import notes --progress notes.txt
	expect_rc 0
	expect_err "importing: "
	expect_err "30 created"
	make_kb kb2
	on_tty "'$KB' --kb kb2 import notes --no-progress notes.txt"
	[ "$RC" -eq 0 ] || fail "exit $RC: $OUT"
	case "$OUT" in *importing:*) fail "progress despite --no-progress: $OUT";; esac
	case "$OUT" in *"30 created"*) ;; *) fail "no summary: $OUT";; esac
}

test_import_sigkill_half_way_then_rerun() {
	make_kb kb
	make_notes notes.txt 400
	before=$(kb_state kb)
	KB_TEST_IMPORT_PAUSE=200 "$KB" --kb kb import notes notes.txt >out.txt 2>err.txt &
	pid=$!
	# wait (up to a minute) until the import has staged 200 drafts and paused
	for _ in $(seq 1 600); do
		grep -q "test pause after 200 records" err.txt && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q "test pause after 200 records" err.txt || fail "never paused: $(cat err.txt)"
	kill -KILL "$pid"
	wait "$pid" && fail "the import was not killed" || true
	same_state kb "$before"
	git -C kb fsck --no-dangling >/dev/null 2>&1 || fail "fsck after the kill"
	find kb -name '*.kbtmp-*' | grep -q . && fail "temporary files left" || true
	# the next run does the whole job, once
	kbrun --kb kb import notes notes.txt
	expect_rc 0
	expect_err "400 created, 0 duplicates linked, 0 skipped"
	[ "$(ncommits kb)" -eq 2 ] || fail "expected one import commit: $(commits kb)"
	[ "$(ls kb/cases | grep -c '^PMP-')" -eq 400 ] || fail "not 400 drafts: $(ls kb/cases | head)"
	[ -z "$(git -C kb status --porcelain)" ] || fail "work tree or index not clean"
	kbrun --kb kb import notes notes.txt
	expect_rc 0
	expect_err "0 created, 0 duplicates linked, 400 skipped"
}
