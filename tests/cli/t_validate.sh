# t_validate.sh - `kb validate`: the whole KB or given files; diagnostics
# as path:line: error: message; summary on stderr; exit codes.

test_validate_sample_kb_clean() {
	sample_kb kb
	kbrun --kb kb validate
	expect_rc 0
	expect_err "files checked: 0 errors"
}

test_validate_reports_each_problem() {
	sample_kb kb
	printf -- '---\nid: PMP-0500\ntitle: t\nstatus: validated\ncreated: 2024-13-01\n---\n\n## Symptom\n\nx\n' >kb/cases/PMP-0500.md
	write_case kb/cases/wrong-name.md PMP-0501
	printf -- '---\nid: PMP-0502\ntitle: a\ntitle: b\n---\n' >kb/cases/PMP-0502.md
	kbrun --kb kb validate
	expect_rc 1
	expect_out "cases/PMP-0500.md:4: error: missing section 'resolution' for status 'validated'"
	expect_out "cases/PMP-0500.md:5: error: invalid date '2024-13-01' in 'created'"
	expect_out "cases/wrong-name.md:2: error: file name"
	expect_out "cases/PMP-0502.md:4: error: duplicate key 'title'"
	expect_err "errors"
}

test_validate_duplicate_ids() {
	make_kb kb
	write_case kb/cases/PMP-0100.md PMP-0100
	mkdir kb/cases/old
	write_case kb/cases/old/PMP-0100.md PMP-0100
	kbrun --kb kb validate
	expect_rc 1
	expect_out "duplicate case id 'PMP-0100'"
}

test_validate_given_files() {
	write_case good.md PMP-0100
	printf -- '---\nid: PMP-0101\ntitle: t\nstatus: draft\n---\n\nno heading\n' >bad.md
	kbrun validate good.md
	expect_rc 0
	kbrun validate good.md bad.md
	expect_rc 1
	expect_out "bad.md:1: error: missing section 'symptom'"
	expect_err "2 files checked: 1 error"
	kbrun validate nosuch.md
	expect_rc 2
}

test_validate_warning_only_is_ok() {
	write_case w.md PMP-0100 "t" draft "updated: 2999-01-01"
	kbrun validate w.md
	expect_rc 0
	expect_out "w.md:8: warning: date '2999-01-01' in 'updated' is in the future"
}
