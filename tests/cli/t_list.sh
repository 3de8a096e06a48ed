# t_list.sh - `kb list`: table, filters, JSON, unparsable files, no match.

test_list_table() {
	sample_kb kb
	kbrun --kb kb list
	expect_rc 0
	[ "$(printf '%s\n' "$OUT" | wc -l)" -eq "$(find kb/cases -name "*.md" | wc -l)" ] || fail "row count"
	printf '%s\n' "$OUT" | grep -qE '^CHL-0001 +validated +chiller +Chiller trips on high head pressure after restart$' ||
		fail "row: $OUT"
}

test_list_filters() {
	sample_kb kb
	kbrun --kb kb list --equipment CHILLER
	expect_rc 0
	expect_out "CHL-0001"
	expect_no_out "ELV-0001"
	kbrun --kb kb list --equipment chiller --tag 高压
	expect_rc 0
	expect_out "CHL-0006"
	expect_no_out "CHL-0001 "
	kbrun --kb kb list --author wang.hai@
	expect_rc 0
	expect_out "CHL-0006"
	kbrun --kb kb list --status draft --equipment nothing-like-this
	expect_rc 1
	[ -z "$OUT" ] || fail "output on no match"
	expect_err "no cases match"
}

test_list_json() {
	sample_kb kb
	kbrun --kb kb list --json --equipment elevator
	expect_rc 0
	json_check 'all(r["equipment"] == "elevator" for r in d) and any(r["id"] == "ELV-0001" for r in d)'
	json_check 'all(set(["id","title","path","status","tags"]) <= set(r) for r in d)'
}

test_list_warns_on_unparsable_file() {
	sample_kb kb
	printf -- '---\nid: X-1\ntitle: a\n\ttags: b\n---\n' >kb/cases/X-1.md
	kbrun --kb kb list
	expect_rc 0
	one_line_err
	expect_err "kb: warning: cases/X-1.md:4:"
	expect_out "CHL-0001"
}

test_list_not_a_kb() {
	mkdir plain
	kbrun --kb plain list
	expect_rc 2
	one_line_err
}

test_list_kb_dir_env_and_cwd() {
	sample_kb kb
	KB_DIR=kb kbrun list
	expect_rc 0
	expect_out "CHL-0001"
	cd kb/cases
	kbrun list --equipment pump
	expect_rc 0
	expect_out "PMP-0009"
}

test_list_cuts_titles_on_terminal_only() {
	command -v script >/dev/null || skip "terminal output: 'script' is not installed"
	sample_kb kb
	out=$(script -qec "stty cols 50; '$KB' --kb kb list --equipment chiller" /dev/null | tr -d '\r')
	printf '%s\n' "$out" | grep -q '^CHL-0001  validated  chiller  Chiller trips on h…$' || fail "not cut: $out"
	kbrun --kb kb list --equipment chiller
	expect_out "Chiller trips on high head pressure after restart"
}
