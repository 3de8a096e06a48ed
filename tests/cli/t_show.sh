# t_show.sh - `kb show` (text, HTML, JSON) and `kb log` (text, JSON).

show_kb() {
	make_kb kb
	write_case c.md PMP-0100 "Pump trips on overload" draft "tags: [bearing, 过载]"
	kbrun --kb kb add c.md
	expect_rc 0
}

test_show_text() {
	show_kb
	kbrun --kb kb show PMP-0100
	expect_rc 0
	expect_out "id:        PMP-0100"
	expect_out "title:     Pump trips on overload"
	expect_out "tags:      bearing, 过载"
	expect_out "## Symptom"
	expect_out "Replaced the worn bearing"
}

test_show_html() {
	show_kb
	kbrun --kb kb show --html PMP-0100
	expect_rc 0
	expect_out "<h2>"
	expect_out "Replaced the worn bearing"
}

test_show_json() {
	show_kb
	kbrun --kb kb show --json PMP-0100
	expect_rc 0
	json_check 'd["schema_version"] == 1 and d["id"] == "PMP-0100" and d["path"] == "cases/PMP/000/PMP-0100.md"'
	json_check 'd["fields"]["tags"] == ["bearing", "过载"] and d["fields"]["equipment"] == "pump"'
	json_check '[s["kind"] for s in d["sections"]] == ["symptom", "resolution"]'
	json_check 'd["status"] == "draft"'
}

test_show_sample_chinese_case() {
	sample_kb kb
	kbrun --kb kb show CHL-0006
	expect_rc 0
	expect_out "三厂2号风冷机组开机后高压跳机"
}

test_show_unknown_and_bad_ids() {
	show_kb
	kbrun --kb kb show PMP-9999
	expect_rc 1
	one_line_err
	kbrun --kb kb show ../../etc/passwd
	expect_rc 2
	one_line_err
	expect_err "../../etc/passwd"
	kbrun --kb kb show
	expect_rc 2
}

test_show_symlink_out_of_kb_refused() {
	show_kb
	write_case outside.md PMP-0200
	ln -s "$PWD/outside.md" kb/cases/PMP-0200.md
	before=$(kb_state kb)
	kbrun --kb kb show PMP-0200
	expect_rc 2
	one_line_err
	expect_err "PMP-0200.md"
	EDITOR=true kbrun --kb kb edit PMP-0200
	expect_rc 2
	expect_err "PMP-0200.md"
	same_state kb "$before"
}

test_show_unparsable_names_line() {
	show_kb
	printf -- '---\nid: PMP-0300\ntitle: a\ntitle: b\n---\n' >kb/cases/PMP-0300.md
	kbrun --kb kb show PMP-0300
	expect_rc 2
	one_line_err
	expect_err "cases/PMP-0300.md:4:"
}

test_log_lists_commits() {
	show_kb
	printf '#!/bin/sh\nsed -i "s/worn bearing/new bearing/" "$1"\n' >ed.sh
	chmod +x ed.sh
	EDITOR="$PWD/ed.sh" kbrun --kb kb --author "Ana Silva <ana@example.com>" edit PMP-0100
	expect_rc 0
	kbrun --kb kb log PMP-0100
	expect_rc 0
	[ "$(printf '%s\n' "$OUT" | wc -l)" -eq 2 ] || fail "expected 2 lines: $OUT"
	printf '%s\n' "$OUT" | head -1 | grep -qE '^[0-9a-f]{10}  [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}  Ana Silva  Edit case PMP-0100: Pump trips on overload$' ||
		fail "line: $OUT"
	expect_out "Test User  Add 1 case"
	kbrun --kb kb log --json PMP-0100
	expect_rc 0
	json_check 'len(d) == 2 and d[0]["author"] == "Ana Silva" and d[0]["email"] == "ana@example.com"'
	json_check 'd[1]["summary"] == "Add 1 case" and len(d[0]["commit"]) == 40 and d[0]["path"] == "cases/PMP/000/PMP-0100.md"'
}

test_log_unknown_case() {
	show_kb
	kbrun --kb kb log PMP-9999
	expect_rc 1
	one_line_err
}

test_show_keeps_text_outside_sections() {
	show_kb
	printf -- '---\nid: PMP-0400\ntitle: t\nstatus: draft\n---\nImported from the CMMS.\n\n## Symptom\n\nNoise.\n\n# Appendix\n\nLoose text.\n' >kb/cases/PMP-0400.md
	kbrun --kb kb show PMP-0400
	expect_rc 0
	expect_out "Imported from the CMMS."
	expect_out "Loose text."
	kbrun --kb kb show --json PMP-0400
	json_check 'd["body"].startswith("Imported from the CMMS.") and "Loose text." in d["body"]'
}
