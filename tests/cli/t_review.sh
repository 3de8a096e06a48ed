# t_review.sh - `kb review`: drafts listed oldest first, one draft shown
# with its duplicates, and accept / reject / merge each one commit by the
# reviewer, with refusals that change nothing.

fixture() { echo "$KB_SRCDIR/tests/fixtures/import/$1"; }

imported_kb() {
	make_kb kb
	kbrun --kb kb import notes "$(fixture notebook.txt)"
	expect_rc 0
	kbrun --kb kb import notes "$(fixture again.txt)"
	expect_rc 0
}

test_review_lists_drafts_oldest_first() {
	make_kb kb
	write_case kb/cases/PMP-0002.md PMP-0002 "Newer pump draft" draft
	write_case kb/cases/PMP-0001.md PMP-0001 "Validated pump" validated "reviewer: R <r@example.com>"
	sed 's/2024-05-12/2023-01-02/' kb/cases/PMP-0002.md | sed 's/PMP-0002/PMP-0003/; s/Newer/Older/' >kb/cases/PMP-0003.md
	git -C kb add cases && git -C kb commit -qm cases
	kbrun --kb kb review
	expect_rc 0
	[ "$(printf '%s\n' "$OUT" | awk '{print $1}' | tr '\n' ' ')" = "PMP-0003 PMP-0002 " ] ||
		fail "order: $OUT"
	expect_out "2023-01-02"
	expect_out "Older pump draft"
	expect_no_out "Validated pump"
	kbrun --kb kb review --json
	json_check 'len(d) == 2 and d[0]["id"] == "PMP-0003"'
}

test_review_no_drafts() {
	make_kb kb
	kbrun --kb kb review
	expect_rc 1
	expect_err "0 drafts"
}

test_review_show_draft_with_duplicates() {
	imported_kb
	kbrun --kb kb review CHL-0003
	expect_rc 0
	expect_out "## Original text"
	expect_out "05/06 plt3 ch#2 tripped HP."
	expect_out "## Likely duplicates"
	expect_out "CHL-0001"
	kbrun --kb kb review NOPE-0001
	expect_rc 1
}

test_review_accept() {
	imported_kb
	n=$(ncommits kb)
	kbrun --kb kb review CHL-0001 --accept --reviewer "Rita Reviewer <rita@example.com>"
	expect_rc 0
	expect_out "accepted CHL-0001"
	grep -q '^status: validated' kb/$(case_path CHL-0001) || fail "not validated"
	grep -q '^reviewer: Rita Reviewer <rita@example.com>' kb/$(case_path CHL-0001) || fail "no reviewer"
	[ "$(ncommits kb)" -eq $((n + 1)) ] || fail "expected one commit"
	[ "$(commits kb | head -1)" = "Rita Reviewer <rita@example.com>|Accept CHL-0001" ] || fail "$(commits kb)"
	kbrun --kb kb review CHL-0001 --accept
	expect_rc 2
	expect_err "not a draft"
}

test_review_accept_default_reviewer_is_author() {
	imported_kb
	kbrun --kb kb --author "Ana Silva <ana@example.com>" review CHL-0001 --accept
	expect_rc 0
	grep -q '^reviewer: Ana Silva <ana@example.com>' kb/$(case_path CHL-0001) || fail "no reviewer"
	[ "$(commits kb | head -1)" = "Ana Silva <ana@example.com>|Accept CHL-0001" ] || fail "$(commits kb)"
}

test_review_accept_invalid_changes_nothing() {
	imported_kb
	before=$(kb_state kb)
	kbrun --kb kb review AHU-0001 --accept
	expect_rc 1
	expect_err "missing section 'resolution'"
	same_state kb "$before"
}

test_review_reject() {
	imported_kb
	before=$(kb_state kb)
	kbrun --kb kb review BLR-0001 --reject
	expect_rc 2
	same_state kb "$before"
	kbrun --kb kb review BLR-0001 --reject --reason "not a fault"
	expect_rc 0
	grep -q '^status: archived' kb/$(case_path BLR-0001) || fail "not archived"
	grep -q '^rejected_reason: not a fault' kb/$(case_path BLR-0001) || fail "no reason"
	commits kb | head -1 | grep -q "|Reject BLR-0001$" || fail "$(commits kb)"
}

test_review_merge_keeps_text() {
	imported_kb
	n=$(ncommits kb)
	kbrun --kb kb review CHL-0003 --merge CHL-0001
	expect_rc 0
	grep -q '^## Original text (from CHL-0003)' kb/$(case_path CHL-0001) || fail "sections not appended"
	grep -q '05/06 plt3 ch#2 tripped HP.' kb/$(case_path CHL-0001) || fail "text dropped"
	grep -q '^links: \[CHL-0003\]' kb/$(case_path CHL-0001) || fail "no link"
	grep -q '^status: archived' kb/$(case_path CHL-0003) || fail "draft not archived"
	grep -q '^duplicate_of: CHL-0001' kb/$(case_path CHL-0003) || fail "no duplicate_of"
	[ "$(ncommits kb)" -eq $((n + 1)) ] || fail "expected one commit"
	commits kb | head -1 | grep -q "|Merge CHL-0003 into CHL-0001$" || fail "$(commits kb)"
	before=$(kb_state kb)
	kbrun --kb kb review CHL-0002 --merge NOPE-0009
	expect_rc 1
	kbrun --kb kb review CHL-0002 --merge CHL-0002
	expect_rc 2
	kbrun --kb kb review CHL-0002 --accept --reject --reason x
	expect_rc 2
	same_state kb "$before"
}
