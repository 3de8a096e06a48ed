# t_add.sh - `kb add`: one commit for many files, all or nothing, existing
# ids, and every kind of bad input leaving the KB exactly as it was.

test_add_samples_one_commit() {
	make_kb kb
	n=$(find "$(sample_cases)" -name '*.md' | wc -l)
	kbrun --kb kb add "$(sample_cases)"
	expect_rc 0
	expect_out "Add $n cases"
	[ "$(ncommits kb)" -eq 2 ] || fail "expected exactly one new commit"
	[ "$(commits kb | head -1)" = "Test User <test@example.com>|Add $n cases" ] || fail "$(commits kb)"
	[ "$(find kb/cases -name "*.md" | wc -l)" -eq "$n" ] || fail "files not placed"
	git -C kb status --porcelain | grep -q . && fail "work tree not clean" || true
}

test_add_places_file_by_id_byte_for_byte() {
	make_kb kb
	write_case notes.md PMP-0100
	kbrun --kb kb --author "Ana Silva <ana@example.com>" add notes.md
	expect_rc 0
	cmp notes.md kb/$(case_path PMP-0100) || fail "content changed"
	[ "$(commits kb | head -1)" = "Ana Silva <ana@example.com>|Add 1 case" ] || fail "$(commits kb)"
}

test_add_existing_id_is_refused_then_update() {
	make_kb kb
	write_case a.md PMP-0100
	kbrun --kb kb add a.md
	before=$(kb_state kb)
	write_case b.md PMP-0100 "Pump trips again"
	kbrun --kb kb add b.md
	expect_rc 2
	expect_err "b.md"
	expect_err "already exists"
	same_state kb "$before"
	kbrun --kb kb add --update b.md
	expect_rc 0
	grep -q "Pump trips again" kb/$(case_path PMP-0100) || fail "not updated"
	commits kb | head -1 | grep -q "|Update 1 case$" || fail "$(commits kb)"
}

test_add_all_or_nothing() {
	make_kb kb
	before=$(kb_state kb)
	mkdir in
	write_case in/good.md PMP-0100
	printf -- '---\nid: PMP-0101\ntitle: no symptom\nstatus: draft\n---\n\nbody\n' >in/bad.md
	printf -- '---\nid: PMP-0102\ntitle: [unclosed\n---\n' >in/worse.md
	kbrun --kb kb add in
	expect_rc 1
	expect_err "in/bad.md"
	expect_err "in/worse.md"
	expect_err "nothing added"
	same_state kb "$before"
}

test_add_duplicate_ids_in_batch() {
	make_kb kb
	before=$(kb_state kb)
	write_case a.md PMP-0100
	write_case b.md PMP-0100
	kbrun --kb kb add a.md b.md
	expect_rc 1
	expect_err "b.md: error: case id 'PMP-0100' also used by 'a.md'"
	same_state kb "$before"
}

# Each bad file: a non-zero exit, one problem line naming the file (and the
# line where there is one), and the KB exactly as before.
bad_add() { # bad_add FILE EXPECTED_TEXT
	make_kb kb
	before=$(kb_state kb)
	kbrun --kb kb add "$1"
	[ "$RC" -ne 0 ] || fail "exit 0 for $1"
	one_line_err
	problems=$ERR
	case "$problems" in "$1"*) ;; *) fail "message '$problems' does not start with '$1'";; esac
	case "$problems" in *"$2"*) ;; *) fail "message '$problems' lacks '$2'";; esac
	same_state kb "$before"
}

test_add_bad_truncated_front_matter() {
	printf -- '---\nid: PMP-0100\ntitle: "unterminated\n' >bad.md
	bad_add bad.md "bad.md:1: error: unterminated front matter"
}

test_add_bad_missing_closing_marker() {
	printf -- '---\nid: PMP-0100\ntitle: t\nstatus: draft\n\n## Symptom\n\nx\n' >bad.md
	bad_add bad.md "bad.md:1: error: unterminated front matter"
}

test_add_bad_malformed_yaml() {
	printf -- '---\nid: PMP-0100\ntitle: [a, b\nstatus: draft\n---\n\n## Symptom\n\nx\n' >bad.md
	bad_add bad.md "bad.md:3: error:"
}

test_add_bad_tab_indentation() {
	printf -- '---\nid: PMP-0100\ntitle: t\ntags:\n\t- a\nstatus: draft\n---\n\n## Symptom\n\nx\n' >bad.md
	bad_add bad.md "bad.md:5: error: tab"
}

test_add_bad_duplicate_key() {
	printf -- '---\nid: PMP-0100\ntitle: t\ntitle: u\nstatus: draft\n---\n\n## Symptom\n\nx\n' >bad.md
	bad_add bad.md "bad.md:4: error: duplicate key"
}

test_add_bad_invalid_utf8() {
	printf -- '---\nid: PMP-0100\ntitle: caf\xe9\nstatus: draft\n---\n\n## Symptom\n\nx\n' >bad.md
	bad_add bad.md "bad.md:3: error: invalid utf-8"
}

test_add_bad_nul_byte() {
	printf -- '---\nid: PMP-0100\ntitle: t\nstatus: draft\n---\n\n## Symptom\n\nx\0y\n' >bad.md
	bad_add bad.md "bad.md:9: error: nul byte"
}

test_add_bad_huge_file() {
	write_case big.md PMP-0100
	head -c 50000000 /dev/zero | tr '\0' 'a' >>big.md
	bad_add big.md "too large"
}

test_add_bad_id_path_traversal() {
	write_case bad.md "../../etc/passwd"
	bad_add bad.md "bad.md:2: error: invalid id"
	[ ! -e etc ] && [ ! -e ../etc/passwd ] || fail "wrote outside the KB"
}

test_add_missing_file_is_usage_error() {
	make_kb kb
	kbrun --kb kb add nosuch.md
	expect_rc 2
	expect_err "nosuch.md"
}

test_add_file_written_into_cases() {
	make_kb kb
	write_case kb/cases/PMP-0100.md PMP-0100
	kbrun --kb kb add kb/cases/PMP-0100.md
	expect_rc 0
	[ -z "$(git -C kb status --porcelain)" ] || fail "not committed: $(git -C kb status --porcelain)"
	before=$(kb_state kb)
	kbrun --kb kb add kb/cases/PMP-0100.md
	expect_rc 2
	expect_err "already exists"
	same_state kb "$before"
}

test_add_bad_author() {
	make_kb kb
	before=$(kb_state kb)
	write_case c.md PMP-0100
	kbrun --kb kb --author "Broken <nobody@example.com" add c.md
	expect_rc 2
	one_line_err
	same_state kb "$before"
}
