# t_status.sh - `kb status`: the summary (text and --json) and lifecycle
# transitions with --set: one commit each with the Validated-by trailer,
# refused transitions that change nothing.

status_kb() {
	make_kb kb
	write_case kb/cases/PMP-0001.md PMP-0001 "Pump one" draft
	write_case kb/cases/PMP-0002.md PMP-0002 "Pump two" validated "reviewer: R <r@example.com>"
	write_case kb/cases/PMP-0003.md PMP-0003 "Older pump" draft
	sed -i 's/2024-05-12/2023-02-03/' kb/cases/PMP-0003.md
	git -C kb add cases && git -C kb commit -qm cases
}

test_status_summary() {
	status_kb
	echo "edit" >>kb/cases/PMP-0002.md
	kbrun --kb kb status
	expect_rc 0
	expect_out "3 cases: 2 draft, 1 validated, 0 archived, 0 obsolete"
	expect_out "pending review: 2 drafts"
	[ "$(printf '%s\n' "$OUT" | grep -o 'PMP-000[13]' | tr '\n' ' ')" = "PMP-0003 PMP-0001 " ] ||
		fail "order: $OUT"
	expect_out "uncommitted edits: 1"
	expect_out "cases/PMP-0002.md"
	expect_out "head: $(git -C kb rev-parse HEAD)"
	kbrun --kb kb status --json
	json_check 'd["counts"]["draft"] == 2 and d["drafts"][0]["id"] == "PMP-0003" and d["uncommitted"] == ["cases/PMP-0002.md"]'
}

test_status_set_transitions() {
	status_kb
	KB_AUTHOR="Senior Tech <senior@example.com>" kbrun --kb kb status PMP-0001 --set validated
	expect_rc 0
	expect_out "PMP-0001 is now validated"
	[ "$(commits kb | head -1)" = "Senior Tech <senior@example.com>|Validate PMP-0001" ] ||
		fail "commit: $(commits kb | head -1)"
	git -C kb log -1 --format=%B | grep -qx 'Validated-by: Senior Tech <senior@example.com>' ||
		fail "no trailer: $(git -C kb log -1 --format=%B)"
	grep -qx 'reviewer: Senior Tech <senior@example.com>' kb/cases/PMP-0001.md || fail "reviewer"
	grep -qx "validated: $(date +%Y-%m-%d)" kb/cases/PMP-0001.md || fail "validated date"
	kbrun --kb kb status PMP-0002 --set archived
	expect_rc 0
	[ "$(commits kb | head -1 | cut -d'|' -f2)" = "Archive PMP-0002" ] || fail "archive"
	kbrun --kb kb status PMP-0002 --set validated
	expect_rc 0
	[ "$(commits kb | head -1 | cut -d'|' -f2)" = "Restore PMP-0002" ] || fail "restore"
	kbrun --kb kb status PMP-0002 --set obsolete --superseded-by PMP-0001
	expect_rc 0
	grep -qx 'superseded_by: PMP-0001' kb/cases/PMP-0002.md || fail "superseded_by"
	[ -z "$(git -C kb status --porcelain)" ] || fail "work tree dirty"
	kbrun --kb kb validate
	expect_rc 0
}

test_status_refusals_change_nothing() {
	status_kb
	before=$(kb_state kb)
	kbrun --kb kb status PMP-0001 --set archived
	expect_rc 2
	expect_err "transition 'draft' -> 'archived' is not allowed"
	one_line_err
	kbrun --kb kb status PMP-0002 --set obsolete
	expect_rc 2
	expect_err "superseded-by"
	kbrun --kb kb status PMP-0002 --set obsolete --superseded-by NOPE-0001
	expect_rc 2
	kbrun --kb kb status PMP-0002 --set draft
	expect_rc 2
	kbrun --kb kb status NOPE-0001 --set archived
	expect_rc 1
	kbrun --kb kb status PMP-0001
	expect_rc 2
	same_state kb "$before"
	sed -i '/^## Resolution/,$d' kb/cases/PMP-0003.md
	git -C kb commit -qam "no resolution"
	before=$(kb_state kb)
	kbrun --kb kb status PMP-0003 --set validated
	expect_rc 1
	expect_err "resolution"
	same_state kb "$before"
}
