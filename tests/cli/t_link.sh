# t_link.sh - `kb link`: one commit per link by the author, links shown
# both ways by `kb show` (text and --json), and refusals that change nothing.

link_kb() {
	make_kb kb
	write_case kb/cases/PMP-0001.md PMP-0001 "Pump one" draft
	write_case kb/cases/PMP-0002.md PMP-0002 "Pump two" draft
	write_case kb/cases/PMP-0003.md PMP-0003 "Pump three" draft
	git -C kb add cases && git -C kb commit -qm cases
}

test_link_related_and_typed() {
	link_kb
	n=$(ncommits kb)
	kbrun --kb kb link PMP-0001 PMP-0002
	expect_rc 0
	expect_out "linked PMP-0001 to PMP-0002 (related)"
	[ "$(commits kb | head -1)" = "Test User <test@example.com>|Link PMP-0001 to PMP-0002 (related)" ] ||
		fail "commit: $(commits kb | head -1)"
	grep -qx 'links: \[PMP-0002\]' kb/cases/PMP-0001.md || fail "links not stored"
	kbrun --kb kb link PMP-0003 PMP-0001 --as duplicate-of
	expect_rc 0
	[ "$(commits kb | head -1)" = "Test User <test@example.com>|Link PMP-0003 to PMP-0001 (duplicate-of)" ] ||
		fail "commit: $(commits kb | head -1)"
	grep -qx 'duplicate_of: PMP-0001' kb/cases/PMP-0003.md || fail "duplicate_of not stored"
	[ "$(ncommits kb)" -eq $((n + 2)) ] || fail "not one commit per link"
	[ -z "$(git -C kb status --porcelain)" ] || fail "work tree dirty"
	kbrun --kb kb validate
	expect_rc 0
}

test_show_links_both_ways() {
	link_kb
	kbrun --kb kb link PMP-0001 PMP-0002 --as caused-by
	kbrun --kb kb link PMP-0003 PMP-0001 --as supersedes
	kbrun --kb kb show PMP-0001
	expect_rc 0
	expect_out "-> PMP-0002 (caused-by)"
	expect_out "<- PMP-0003 (supersedes)"
	kbrun --kb kb show PMP-0002
	expect_out "<- PMP-0001 (caused-by)"
	kbrun --kb kb show --json PMP-0001
	json_check 'd["links"] == [{"id": "PMP-0002", "type": "caused-by", "direction": "out"}, {"id": "PMP-0003", "type": "supersedes", "direction": "in"}]'
}

test_link_refusals_change_nothing() {
	link_kb
	kbrun --kb kb link PMP-0001 PMP-0002
	before=$(kb_state kb)
	kbrun --kb kb link PMP-0001 PMP-0002 --as duplicate-of
	expect_rc 2
	expect_err "already links to 'PMP-0002'"
	one_line_err
	kbrun --kb kb link PMP-0001 PMP-0001
	expect_rc 2
	expect_err "itself"
	kbrun --kb kb link PMP-0001 NOPE-0001
	expect_rc 2
	expect_err "unknown case 'NOPE-0001'"
	kbrun --kb kb link NOPE-0001 PMP-0001
	expect_rc 2
	kbrun --kb kb link PMP-0001 PMP-0003 --as sibling
	expect_rc 2
	expect_err "unknown link type 'sibling'"
	kbrun --kb kb link PMP-0001
	expect_rc 2
	same_state kb "$before"
}
