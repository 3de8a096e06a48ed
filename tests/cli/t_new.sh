# t_new.sh - `kb new`: from a file, from stdin, in the editor; id
# generation from kb.conf prefixes; refusals that leave the KB as it was.

new_case_text() { # new_case_text [ID]
	printf -- '---\n'
	[ -n "${1:-}" ] && printf 'id: %s\n' "$1"
	printf 'title: Condenser fan contactor welded\nequipment: chiller\nstatus: draft\n---\n\n'
	printf '## Symptom\n\nFan runs with the unit off.\n\n## Resolution\n\nReplaced contactor.\n'
}

test_new_from_file_generates_id_author_created() {
	make_kb kb
	new_case_text >in.md
	kbrun --kb kb new --from in.md
	expect_rc 0
	[ "$OUT" = "CHL-0001" ] || fail "id: $OUT"
	grep -q '^author: Test User <test@example.com>' kb/$(case_path CHL-0001) || fail "author not filled"
	grep -q "^created: $(date +%Y-%m-%d)" kb/$(case_path CHL-0001) || fail "created not filled"
	[ "$(commits kb | head -1)" = "Test User <test@example.com>|Add case CHL-0001: Condenser fan contactor welded" ] ||
		fail "$(commits kb)"
	[ "$(ncommits kb)" -eq 2 ] || fail "not one commit"
}

test_new_id_follows_highest_number() {
	sample_kb kb
	high=$(find kb/cases -name 'CHL-*' -printf '%f\n' | sed 's/CHL-0*\([0-9]*\)\.md/\1/' | sort -n | tail -1)
	new_case_text >in.md
	KB_AUTHOR="Wang Hai <wang.hai@example.com>" kbrun_in in.md --kb kb new --from -
	expect_rc 0
	[ "$OUT" = "$(printf 'CHL-%04d' $((high + 1)))" ] || fail "id $OUT after CHL-$high"
	commits kb | head -1 | grep -q '^Wang Hai <wang.hai@example.com>|Add case CHL-' || fail "$(commits kb)"
}

test_new_prefix_from_idprefix_without_equipment() {
	make_kb kb
	printf -- '---\ntitle: Odd noise\nstatus: draft\n---\n\n## Symptom\n\nnoise\n' >in.md
	kbrun --kb kb new --from in.md
	expect_rc 0
	[ "$OUT" = "KB-0001" ] || fail "id: $OUT"
}

test_new_options_set_fields() {
	make_kb kb
	new_case_text >in.md
	kbrun --kb kb new --from in.md --id PMP-0042 --title "Seal leak" --equipment pump --tag seal --tag leak
	expect_rc 0
	[ "$OUT" = "PMP-0042" ] || fail "id: $OUT"
	grep -q '^title: Seal leak' kb/$(case_path PMP-0042) || fail "title"
	grep -q '^tags: \[seal, leak\]' kb/$(case_path PMP-0042) || fail "tags: $(cat kb/$(case_path PMP-0042))"
}

test_new_existing_id_refused() {
	make_kb kb
	new_case_text CHL-0007 >in.md
	kbrun --kb kb new --from in.md
	expect_rc 0
	before=$(kb_state kb)
	kbrun --kb kb new --from in.md
	expect_rc 2
	one_line_err
	expect_err "'CHL-0007' already exists"
	same_state kb "$before"
}

test_new_invalid_from_file() {
	make_kb kb
	before=$(kb_state kb)
	printf -- '---\ntitle: t\nstatus: bogus\n---\n\n## Symptom\n\nx\n' >in.md
	kbrun --kb kb new --from in.md
	expect_rc 1
	expect_err "in.md:3: error: unknown status 'bogus'"
	same_state kb "$before"
	kbrun --kb kb new --from in.md --id ../../etc/passwd
	expect_rc 2
	one_line_err
	same_state kb "$before"
}

test_new_in_editor() {
	make_kb kb
	cat >ed.sh <<'SH'
#!/bin/sh
sed -i -e 's/^title:.*/title: Chiller low oil pressure/' -e 's/^equipment:.*/equipment: chiller/' \
    -e 's/^What was observed.*/Oil pressure alarm on start./' "$1"
SH
	chmod +x ed.sh
	EDITOR="$PWD/ed.sh" kbrun --kb kb new
	expect_rc 0
	[ "$OUT" = "CHL-0001" ] || fail "id: $OUT"
	grep -q 'Oil pressure alarm on start.' kb/$(case_path CHL-0001) || fail "edit lost"
	commits kb | head -1 | grep -q '|Add case CHL-0001: Chiller low oil pressure$' || fail "$(commits kb)"
	[ -z "$(ls kb/.git/kb/new-* 2>/dev/null)" ] || fail "temporary file left"
}

test_new_in_editor_unchanged_template() {
	make_kb kb
	before=$(kb_state kb)
	EDITOR=true kbrun --kb kb new
	expect_rc 1
	expect_err "not changed"
	same_state kb "$before"
}

test_new_in_editor_invalid_keeps_text() {
	make_kb kb
	before=$(kb_state kb)
	printf '#!/bin/sh\nsed -i "s/^status:.*/status: bogus/" "$1"\n' >ed.sh
	chmod +x ed.sh
	EDITOR="$PWD/ed.sh" kbrun --kb kb new
	expect_rc 1
	expect_err "error: unknown status 'bogus'"
	kept=$(printf '%s\n' "$ERR" | sed -n "s/.*your text is in '\(.*\)'.*/\1/p")
	[ -f "$kept" ] && grep -q 'status: bogus' "$kept" || fail "edited text not kept: $ERR"
	same_state kb "$before"
}

test_new_in_editor_broken_yaml_keeps_text() {
	make_kb kb
	before=$(kb_state kb)
	printf '#!/bin/sh\nsed -i "s/^title:.*/title: [oops/" "$1"\n' >ed.sh
	chmod +x ed.sh
	EDITOR="$PWD/ed.sh" kbrun --kb kb new
	expect_rc 1
	expect_err ".md:3:"
	expect_err "your text is in"
	same_state kb "$before"
}
