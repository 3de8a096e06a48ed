# t_edit.sh - `kb edit`: an editor that changes the case (one commit,
# updated stamped), one that changes nothing, one that breaks the case.

edit_kb() {
	make_kb kb
	write_case c.md PMP-0100
	kbrun --kb kb add c.md
	expect_rc 0
}

test_edit_commits_change() {
	edit_kb
	printf '#!/bin/sh\nsed -i "s/worn bearing/worn bearing and seal/" "$1"\n' >ed.sh
	chmod +x ed.sh
	EDITOR="$PWD/ed.sh" kbrun --kb kb --author "Ana Silva <ana@example.com>" edit PMP-0100
	expect_rc 0
	grep -q 'worn bearing and seal' kb/$(case_path PMP-0100) || fail "edit lost"
	grep -q "^updated: $(date +%Y-%m-%d)" kb/$(case_path PMP-0100) || fail "updated not set"
	[ "$(commits kb | head -1)" = "Ana Silva <ana@example.com>|Edit case PMP-0100: Pump trips on overload" ] ||
		fail "$(commits kb)"
	[ "$(ncommits kb)" -eq 3 ] || fail "not one commit"
}

test_edit_visual_wins_over_editor() {
	edit_kb
	printf '#!/bin/sh\nsed -i "s/worn bearing/bent shaft/" "$1"\n' >ed.sh
	chmod +x ed.sh
	VISUAL="$PWD/ed.sh" EDITOR=false kbrun --kb kb edit PMP-0100
	expect_rc 0
	grep -q 'bent shaft' kb/$(case_path PMP-0100) || fail "VISUAL not used"
}

test_edit_unchanged_no_commit() {
	edit_kb
	before=$(kb_state kb)
	EDITOR=true kbrun --kb kb edit PMP-0100
	expect_rc 0
	expect_err "no changes to 'PMP-0100'"
	same_state kb "$before"
}

test_edit_invalid_keeps_copy() {
	edit_kb
	before=$(kb_state kb)
	printf '#!/bin/sh\nsed -i "s/^created:.*/created: 2024-02-30/" "$1"\n' >ed.sh
	chmod +x ed.sh
	EDITOR="$PWD/ed.sh" kbrun --kb kb edit PMP-0100
	expect_rc 1
	expect_err "$(case_path PMP-0100):7: error: invalid date '2024-02-30'"
	kept=$(printf '%s\n' "$ERR" | sed -n "s/.*your edit is in '\(.*\)'.*/\1/p")
	[ -f "$kept" ] && grep -q '2024-02-30' "$kept" || fail "edit not kept: $ERR"
	same_state kb "$before"
}

test_edit_broken_yaml_keeps_copy() {
	edit_kb
	before=$(kb_state kb)
	printf '#!/bin/sh\nsed -i "s/^title:.*/title: [broken/" "$1"\n' >ed.sh
	chmod +x ed.sh
	EDITOR="$PWD/ed.sh" kbrun --kb kb edit PMP-0100
	expect_rc 1
	expect_err "$(case_path PMP-0100):3:"
	expect_err "your edit is in"
	same_state kb "$before"
}

test_edit_failing_editor() {
	edit_kb
	before=$(kb_state kb)
	EDITOR=false kbrun --kb kb edit PMP-0100
	[ "$RC" -ne 0 ] || fail "exit 0"
	expect_err "editor 'false' failed"
	same_state kb "$before"
}

test_edit_unknown_case() {
	edit_kb
	kbrun --kb kb edit PMP-9999
	expect_rc 1
	one_line_err
	expect_err "PMP-9999"
}

test_edit_repairs_a_broken_case() {
	edit_kb
	sed -i 's/^title:.*/title: [broken/' kb/$(case_path PMP-0100)
	git -C kb commit -qam "break it"
	printf '#!/bin/sh\nsed -i "s/^title:.*/title: Pump trips on overload/" "$1"\n' >ed.sh
	chmod +x ed.sh
	EDITOR="$PWD/ed.sh" kbrun --kb kb edit PMP-0100
	expect_rc 0
	kbrun --kb kb validate
	expect_rc 0
	commits kb | head -1 | grep -q '|Edit case PMP-0100: Pump trips on overload$' || fail "$(commits kb)"
}
