# t_used.sh - `kb used`: one line in the author's own reuse file, one commit,
# counts in `kb show`, and refusals that change nothing.

test_used_records_and_counts() {
	make_kb kb
	write_case kb/cases/PMP-0001.md PMP-0001 "Pump one" validated "reviewer: R <r@example.com>"
	git -C kb add cases && git -C kb commit -qm cases
	n=$(ncommits kb)
	kbrun --kb kb used PMP-0001 --ticket WO-17 --note "same bearing, again"
	expect_rc 0
	expect_out "recorded reuse of PMP-0001"
	[ "$(commits kb | head -1)" = "Test User <test@example.com>|Record reuse of PMP-0001" ] ||
		fail "commit: $(commits kb | head -1)"
	[ "$(cut -f2- kb/reuse/test-example.com.log)" = "PMP-0001	WO-17	same bearing, again" ] ||
		fail "line: $(cat kb/reuse/test-example.com.log)"
	KB_AUTHOR="Other Tech <other@example.com>" kbrun --kb kb used PMP-0001
	expect_rc 0
	[ "$(commits kb | head -1)" = "Other Tech <other@example.com>|Record reuse of PMP-0001" ] ||
		fail "commit: $(commits kb | head -1)"
	[ -f kb/reuse/other-example.com.log ] || fail "no per-person file"
	[ "$(ncommits kb)" -eq $((n + 2)) ] || fail "not one commit per record"
	[ -z "$(git -C kb status --porcelain)" ] || fail "work tree dirty"
	kbrun --kb kb show PMP-0001
	expect_out "used 2 times (last $(date +%Y-%m-%d))"
	kbrun --kb kb show --json PMP-0001
	json_check 'd["reuse"]["count"] == 2'
}

test_used_bad_input_changes_nothing() {
	make_kb kb
	write_case kb/cases/PMP-0001.md PMP-0001 "Pump one" draft
	git -C kb add cases && git -C kb commit -qm cases
	before=$(kb_state kb)
	kbrun --kb kb used NOPE-0001
	expect_rc 1
	kbrun --kb kb used
	expect_rc 2
	kbrun --kb kb used PMP-0001 --bogus
	expect_rc 2
	same_state kb "$before"
	kbrun --kb kb show PMP-0001
	expect_no_out "used "
}
