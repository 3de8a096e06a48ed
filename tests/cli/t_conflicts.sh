# t_conflicts.sh - `kb conflicts`: cases a merge marked for review, as text
# and JSON; `kb validate` warns about them (fails for a validated case) and
# `kb status --set validated` refuses them until the key is removed.

conflicts_kb() {
	make_kb kb
	write_case kb/cases/PMP-0001.md PMP-0001 "Pump one" draft
	write_case kb/cases/PMP-0002.md PMP-0002 "Pump two" draft "conflicts: [cause, site]"
	write_case kb/cases/PMP-0003.md PMP-0003 "泵三" draft "conflicts: [deleted on origin]"
	git -C kb add cases && git -C kb commit -qm cases
}

test_conflicts_lists_marked_cases() {
	conflicts_kb
	kbrun --kb kb conflicts
	expect_rc 0
	[ "$OUT" = "PMP-0002  Pump two  cause, site
PMP-0003  泵三  deleted on origin" ] || fail "output: $OUT"
	kbrun --kb kb conflicts --json
	expect_rc 0
	json_check 'd == [{"id": "PMP-0002", "title": "Pump two", "path": "cases/PMP-0002.md", "conflicts": ["cause", "site"]}, {"id": "PMP-0003", "title": "泵三", "path": "cases/PMP-0003.md", "conflicts": ["deleted on origin"]}]'
}

test_conflicts_none() {
	make_kb kb
	kbrun --kb kb conflicts
	expect_rc 0
	[ -z "$OUT" ] || fail "output: $OUT"
	kbrun --kb kb conflicts --json
	json_check 'd == []'
	kbrun --kb kb conflicts extra
	expect_rc 2
}

test_validate_and_lifecycle_refuse_conflicts() {
	conflicts_kb
	kbrun --kb kb validate
	expect_rc 0
	expect_out "cases/PMP-0002.md:8: warning: unresolved merge conflicts (cause, site)"
	before=$(kb_state kb)
	kbrun --kb kb status PMP-0002 --set validated
	expect_rc 1
	expect_err "unresolved merge conflicts"
	same_state kb "$before"
	# resolved: the key removed, the case can be validated
	sed -i '/^conflicts:/d' kb/cases/PMP-0002.md
	git -C kb commit -qam resolve
	kbrun --kb kb status PMP-0002 --set validated
	expect_rc 0
	# a validated case that still has conflicts fails validation
	write_case kb/cases/PMP-0004.md PMP-0004 "Pump four" validated "reviewer: R <r@example.com>" "conflicts: [cause]"
	kbrun --kb kb validate
	expect_rc 1
	expect_out "cases/PMP-0004.md:9: error: unresolved merge conflicts (cause) for status 'validated'"
}
