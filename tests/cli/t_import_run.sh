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
	[ "$(find kb/cases -name 'PMP-*' | wc -l)" -eq 400 ] || fail "not 400 drafts: $(ls kb/cases | head)"
	[ -z "$(git -C kb status --porcelain)" ] || fail "work tree or index not clean"
	kbrun --kb kb import notes notes.txt
	expect_rc 0
	expect_err "0 created, 0 duplicates linked, 400 skipped"
}

# An import killed (KB_TEST_TXN_KILL, core/txn.c) after the commit moved the
# branch but before the work tree and git's index were updated: the next kb
# command finishes that commit's job, so a re-run adds nothing.
test_import_sigkill_after_ref_update_then_rerun() {
	make_kb kb
	make_notes notes.txt 50
	KB_TEST_TXN_KILL=after-ref "$KB" --kb kb import notes notes.txt >out.txt 2>err.txt &&
		fail "the import was not killed" || true
	[ "$(ncommits kb)" -eq 2 ] || fail "the branch did not move: $(commits kb)"
	[ -n "$(ls kb/.git | grep '^kb-txn-')" ] || fail "no marker of the interrupted commit"
	# the state the kill leaves: committed files missing from the work tree
	[ "$(git -C kb ls-tree -r --name-only HEAD:cases | grep -c "PMP-")" -eq 50 ] || fail "not 50 files committed"
	[ -n "$(git -C kb status --porcelain)" ] || fail "the kill left nothing to recover"
	kbrun --kb kb import notes notes.txt
	expect_rc 0
	expect_err "0 created, 0 duplicates linked, 50 skipped"
	[ "$(ncommits kb)" -eq 2 ] || fail "a second import commit: $(commits kb)"
	[ "$(find kb/cases -name 'PMP-*' | wc -l)" -eq 50 ] || fail "not 50 drafts: $(ls -a kb/cases | head)"
	[ -z "$(git -C kb status --porcelain --ignored)" ] || fail "not clean: $(git -C kb status --porcelain --ignored | head)"
	[ -z "$(ls kb/.git | grep '^kb-txn-')" ] || fail "marker left"
	git -C kb diff --quiet HEAD || fail "work tree differs from HEAD"
	kbrun --kb kb show PMP-0050
	expect_rc 0
	expect_out "P-50 tripped"
}

# Killed after the temporaries were written but before the branch moved:
# the KB stays at its previous commit, the temporaries go, a re-run does it all.
test_import_sigkill_before_ref_update_then_rerun() {
	make_kb kb
	make_notes notes.txt 30
	before=$(kb_state kb)
	KB_TEST_TXN_KILL=before-ref "$KB" --kb kb import notes notes.txt >out.txt 2>err.txt &&
		fail "the import was not killed" || true
	[ -n "$(find kb/cases -name '.*.kbtmp-*')" ] || fail "no temporaries at the kill point"
	kbrun --kb kb status
	expect_rc 0
	same_state kb "$before"
	[ -z "$(ls kb/.git | grep '^kb-txn-')" ] || fail "marker left"
	kbrun --kb kb import notes notes.txt
	expect_rc 0
	expect_err "30 created, 0 duplicates linked, 0 skipped"
	[ "$(ncommits kb)" -eq 2 ] || fail "expected one import commit: $(commits kb)"
	[ -z "$(git -C kb status --porcelain --ignored)" ] || fail "work tree or index not clean"
}

test_import_merge_folds_duplicate() {
	make_kb kb
	kbrun --kb kb import notes "$KB_SRCDIR/tests/fixtures/import/notebook.txt"
	expect_rc 0
	cp "$KB_SRCDIR/tests/fixtures/import/again.txt" again.txt
	kbrun --kb kb import notes --merge again.txt
	expect_rc 0
	expect_out "merged into CHL-0001 again.txt:1 (score "
	expect_out "created BLR-0001 again.txt:3"
	expect_err "1 created, 0 duplicates linked, 1 merged, 0 skipped"
	[ "$(commits kb | head -1)" = "Test User <test@example.com>|Import 2 notes from again.txt" ] ||
		fail "$(commits kb)"
	[ -e kb/$(case_path CHL-0003) ] && fail "a draft was created for the merged note" || true
	grep -q '^merged_sources: \["again.txt:1"\]' kb/$(case_path CHL-0001) || fail "no provenance"
	grep -q '^merged_hashes: \[[0-9a-f]\{16\}\]' kb/$(case_path CHL-0001) || fail "no hash"
	grep -q '^## .* (imported from again.txt:1)' kb/$(case_path CHL-0001) || fail "no section"
	grep -q '05/06 plt3 ch#2 tripped HP' kb/$(case_path CHL-0001) || fail "original text dropped"
	grep -q 'tripped HP again' kb/$(case_path CHL-0001) || fail "the case lost its own text"
	[ -z "$(git -C kb status --porcelain)" ] || fail "work tree or index not clean"
	kbrun --kb kb validate
	expect_rc 0
	# a re-run finds the merged note through merged_hashes
	before=$(kb_state kb)
	kbrun --kb kb import notes --merge again.txt
	expect_rc 0
	expect_out "skipped again.txt:1: already imported as CHL-0001"
	same_state kb "$before"
}

test_import_csv_saved_map() {
	local map="title=Summary,symptom=Problem,resolution=Fix,equipment=Asset"
	make_kb kb
	cp "$KB_SRCDIR/tests/fixtures/import/workorders.csv" wo.csv
	kbrun --kb kb import csv --map "$map" --save-map workorders wo.csv
	expect_rc 0
	expect_out "created CHL-0001 wo.csv:2"
	[ "$(git -C kb config -f kb.conf import.workorders.map)" = "$map" ] || fail "map not saved"
	git -C kb show --stat --format=%s HEAD | grep -q 'kb.conf' || fail "kb.conf not in the import commit"
	[ "$(ncommits kb)" -eq 2 ] || fail "expected one commit: $(commits kb)"
	[ -z "$(git -C kb status --porcelain)" ] || fail "work tree not clean"
	# the saved map, by name, on another export of the same source
	sed -e 's/Chiller trips/Chiller trips at night/' -e 's/^1002,/2002,/' wo.csv > wo2.csv
	kbrun --kb kb import csv --map-name workorders wo2.csv
	expect_rc 0
	expect_out "wo2.csv:2"
	expect_err "2 duplicates linked"
	# bad uses: unknown name, both, a name that is not one, notes
	before=$(kb_state kb)
	kbrun --kb kb import csv --map-name nope wo2.csv
	[ "$RC" -ne 0 ] || fail "unknown map name accepted"
	expect_err "no saved map 'nope'"
	kbrun --kb kb import csv --map "$map" --map-name workorders wo2.csv
	expect_rc 2
	kbrun --kb kb import csv --map "$map" --save-map 'a b' wo2.csv
	expect_rc 2
	expect_err "bad map name 'a b'"
	kbrun --kb kb import notes --save-map x wo2.csv
	expect_rc 2
	same_state kb "$before"
}

test_import_csv_stream_bad_input() {
	make_kb kb
	before=$(kb_state kb)
	: > empty.csv
	kbrun --kb kb import csv --map title=Summary empty.csv
	expect_rc 1
	expect_out "skipped empty.csv:0: empty"
	printf 'Summary,Problem\nok,fine\nbad \377\376 bytes,x\n' > neither.csv
	kbrun --kb kb import csv --map title=Summary neither.csv
	expect_rc 2
	expect_err "neither.csv:3"
	expect_err "neither UTF-8 nor GB18030"
	{ printf 'Summary,Problem\nok,fine\nbig,'; head -c 1100000 /dev/zero | tr '\0' x; printf '\n'; } > big.csv
	kbrun --kb kb import csv --map title=Summary big.csv
	expect_rc 2
	expect_err "big.csv:3: record 3 too large"
	expect_err "nothing imported"
	same_state kb "$before"
}

# Notes are streamed (importers/notes.c): bad bytes far into a file, a huge
# single line and an over-long note stop the run with the file and line,
# exit 2, even after earlier notes of the run were staged; nothing written.
test_import_notes_stream_bad_input() {
	make_kb kb
	before=$(kb_state kb)
	make_notes good.txt 3000
	{ cat good.txt; printf 'pump P-9 \377 noisy\n'; } > late.txt
	kbrun --kb kb import notes --split date late.txt
	expect_rc 2
	expect_err "late.txt:6001: invalid UTF-8 at byte "
	same_state kb "$before"
	{ cat good.txt; printf 'PK\003\004\000\000'; } > late.bin.txt
	kbrun --kb kb import notes good.txt late.bin.txt
	expect_rc 2
	expect_err "late.bin.txt:6001: binary file (NUL byte), not notes"
	same_state kb "$before"
	{ printf '03/04 ch tripped\n\n'; head -c 1100000 /dev/zero | tr '\0' x; } > oneline.txt
	kbrun --kb kb import notes oneline.txt
	expect_rc 2
	expect_err "oneline.txt:3: line 3 too long (over 1048576 bytes)"
	expect_err "nothing imported"
	same_state kb "$before"
	{ printf '2024-01-02 small\n2024-01-03 big log\n'; seq 1 200000 | sed 's/^/entry /'; } > bignote.txt
	kbrun --kb kb import notes bignote.txt
	expect_rc 2
	expect_err "bignote.txt:2: note too large (over 1048576 bytes"
	same_state kb "$before"
	# the good file alone, as one note, imports
	kbrun --kb kb import notes --split whole --dry-run good.txt
	expect_rc 0
	expect_err "1 created"
}
