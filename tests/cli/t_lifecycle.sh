# t_lifecycle.sh - the lifecycle enforced outside `kb status`: a status
# changed in `kb edit` must be an allowed transition (validated records the
# reviewer and a Validated-by trailer), `kb validate` reports a disallowed
# status change against HEAD with file and line, and `kb add` / `kb new`
# refuse a validated case without a reviewer.

lc_kb() {
	make_kb kb
	write_case kb/cases/PMP-0001.md PMP-0001 "Pump one" draft
	write_case kb/cases/PMP-0002.md PMP-0002 "Pump two" validated "reviewer: R <r@example.com>"
	git -C kb add cases && git -C kb commit -qm cases
}

editor_sets_status() { # editor_sets_status STATUS: an $EDITOR script
	printf '#!/bin/sh\nsed -i "s/^status: .*/status: %s/" "$1"\n' "$1" >ed.sh
	chmod +x ed.sh
}

test_edit_refuses_disallowed_transition() {
	lc_kb
	before=$(kb_state kb)
	editor_sets_status archived
	EDITOR="$PWD/ed.sh" kbrun --kb kb edit PMP-0001
	expect_rc 2
	expect_err "cases/PMP-0001.md:5: status changed from 'draft' to 'archived': not an allowed transition"
	expect_err "your edit is in"
	same_state kb "$before"
	editor_sets_status draft
	EDITOR="$PWD/ed.sh" kbrun --kb kb edit PMP-0002
	expect_rc 2
	expect_err "from 'validated' to 'draft'"
	same_state kb "$before"
}

test_edit_to_validated_records_reviewer() {
	lc_kb
	editor_sets_status validated
	EDITOR="$PWD/ed.sh" kbrun --kb kb --author "Ana Silva <ana@example.com>" edit PMP-0001
	expect_rc 0
	grep -qx 'reviewer: Ana Silva <ana@example.com>' kb/cases/PMP-0001.md || fail "reviewer not recorded"
	grep -qx "validated: $(date +%Y-%m-%d)" kb/cases/PMP-0001.md || fail "validated date not recorded"
	[ "$(git -C kb log -1 --format='%(trailers:key=Validated-by,valueonly)')" = "Ana Silva <ana@example.com>" ] ||
		fail "trailer: $(git -C kb log -1 --format=%B)"
	git -C kb log -1 --format=%s | grep -qx "Edit case PMP-0001: Pump one" || fail "subject"
	# an allowed move that is not validation: no trailer
	editor_sets_status archived
	EDITOR="$PWD/ed.sh" kbrun --kb kb edit PMP-0002
	expect_rc 0
	[ -z "$(git -C kb log -1 --format='%(trailers:key=Validated-by)')" ] || fail "unexpected trailer"
}

test_validate_reports_status_change_against_head() {
	lc_kb
	kbrun --kb kb validate
	expect_rc 0
	sed -i 's/^status: validated/status: draft/' kb/cases/PMP-0002.md
	kbrun --kb kb validate
	expect_rc 1
	expect_out "cases/PMP-0002.md:5: error: status changed from 'validated' (committed) to 'draft': not an allowed transition"
	[ "$(printf '%s\n' "$OUT" | grep -c 'status changed')" -eq 1 ] || fail "reported twice: $OUT"
	# an allowed change in the work tree is fine
	sed -i 's/^status: draft/status: archived/' kb/cases/PMP-0002.md
	kbrun --kb kb validate
	expect_rc 0
}

test_add_and_new_refuse_validated_without_reviewer() {
	make_kb kb
	write_case v.md PMP-0009 "Pump nine" validated
	before=$(kb_state kb)
	kbrun --kb kb add v.md
	expect_rc 1
	expect_err "v.md:5: error: missing 'reviewer' for status 'validated'"
	same_state kb "$before"
	kbrun --kb kb new --from v.md
	expect_rc 1
	expect_err "missing 'reviewer' for status 'validated'"
	same_state kb "$before"
	write_case r.md PMP-0010 "Pump ten" validated "reviewer: R <r@example.com>"
	kbrun --kb kb add r.md
	expect_rc 0
}

test_add_update_refuses_disallowed_transition() {
	lc_kb
	write_case u.md PMP-0002 "Pump two" draft
	before=$(kb_state kb)
	kbrun --kb kb add --update u.md
	expect_rc 1
	expect_err "u.md:5: error: status changed from 'validated' (committed) to 'draft': not an allowed transition"
	same_state kb "$before"
	write_case u.md PMP-0002 "Pump two" archived
	kbrun --kb kb add --update u.md
	expect_rc 0
	grep -qx 'status: archived' kb/cases/PMP-0002.md || fail "update not written"
}
