# t_layout.sh - the foldered layout (cases/PREFIX/NNN/ID.md): where kb writes
# new cases, cases of older flat KBs found and edited where they are, and
# `kb migrate-layout` (dry run, the one commit, refusals, idempotence, search
# index, history and audit figures across the move, sync with a clone that
# still edits the flat file).

# An older KB: cases written flat and committed with git, some history by
# three people.
flat_kb() {
	make_kb kb
	write_case kb/cases/PMP-0001.md PMP-0001 "Pump trips on overload" validated "reviewer: R <r@example.com>"
	write_case kb/cases/PMP-1002.md PMP-1002 "Pump seal weeps" draft
	write_case kb/cases/CHL-0003.md CHL-0003 "Chiller high head pressure" draft "equipment: chiller"
	sed -i 's/^equipment: pump$//' kb/cases/CHL-0003.md
	git -C kb add -A
	git -C kb -c user.name="Ann Lee" -c user.email=ann@example.com commit -qm "Old cases"
	echo "Follow-up by Bo." >>kb/cases/PMP-0001.md
	git -C kb -c user.name="Bo Chen" -c user.email=bo@example.com commit -qam "Bo edits"
	echo "Follow-up by Cy." >>kb/cases/CHL-0003.md
	git -C kb -c user.name="Cy Diaz" -c user.email=cy@example.com commit -qam "Cy edits"
}

test_new_and_add_write_the_foldered_layout() {
	make_kb kb
	write_case a.md PMP-0042
	kbrun --kb kb add a.md
	expect_rc 0
	[ -f kb/cases/PMP/000/PMP-0042.md ] || fail "not foldered: $(find kb/cases)"
	printf -- '---\ntitle: Odd noise\nequipment: pump\nstatus: draft\n---\n\n## Symptom\n\nnoise\n' >b.md
	kbrun --kb kb new --from b.md --id KB-123456
	expect_rc 0
	[ -f kb/cases/KB/123/KB-123456.md ] || fail "not foldered: $(find kb/cases)"
	kbrun --kb kb new --from b.md --id NODASH
	expect_rc 0
	[ -f kb/cases/NODASH.md ] || fail "an id without a number is not flat"
	git -C kb status --porcelain | grep -q . && fail "work tree not clean" || true
}

test_flat_cases_are_found_and_edited_in_place() {
	flat_kb
	kbrun --kb kb show PMP-0001
	expect_rc 0
	expect_out "Pump trips on overload"
	kbrun --kb kb show PMP-0001 --json
	json_check 'd["path"] == "cases/PMP-0001.md"'
	kbrun --kb kb status PMP-0001 --set archived
	expect_rc 0
	grep -q '^status: archived' kb/cases/PMP-0001.md || fail "not archived in place"
	[ -e kb/cases/PMP/000/PMP-0001.md ] && fail "a second file for PMP-0001" || true
	printf '#!/bin/sh\nsed -i "s/worn bearing/worn bearing and seal/" "$1"\n' >ed.sh
	chmod +x ed.sh
	EDITOR="$PWD/ed.sh" kbrun --kb kb edit CHL-0003
	expect_rc 0
	grep -q 'worn bearing and seal' kb/cases/CHL-0003.md || fail "edit not in place"
	# a case in a folder of its own choosing is found through git's index
	mkdir -p kb/cases/site3
	git -C kb mv cases/PMP-1002.md cases/site3/PMP-1002.md
	git -C kb commit -qm "site folder"
	kbrun --kb kb link PMP-1002 CHL-0003
	expect_rc 0
	grep -q '^links: \[CHL-0003\]' kb/cases/site3/PMP-1002.md || fail "link not in place"
	# an existing id is refused wherever the case is
	write_case c.md PMP-1002 "Again"
	kbrun --kb kb new --from c.md
	expect_rc 2
	expect_err "case 'PMP-1002' already exists (cases/site3/PMP-1002.md)"
	kbrun --kb kb add c.md
	expect_rc 2
	expect_err "already exists"
	kbrun --kb kb add --update c.md
	expect_rc 0
	grep -q '^title: Again' kb/cases/site3/PMP-1002.md || fail "not updated in place"
	[ -z "$(find kb/cases -name PMP-1002.md ! -path '*/site3/*')" ] || fail "PMP-1002 twice"
	# the next id counts the cases in every folder
	printf -- '---\ntitle: Odd noise\nequipment: pump\nstatus: draft\n---\n\n## Symptom\n\nnoise\n' >d.md
	printf '[equipment "pump"]\n\tprefix = PMP\n' >>kb/kb.conf
	git -C kb commit -qam prefix
	kbrun --kb kb new --from d.md
	expect_rc 0
	[ "$OUT" = "PMP-1003" ] || fail "next id $OUT"
	[ -f kb/cases/PMP/001/PMP-1003.md ] || fail "not foldered: $(find kb/cases)"
}

test_migrate_layout() {
	flat_kb
	kbrun --kb kb status
	expect_out "layout: 3 case files outside cases/PREFIX/NNN/; run 'kb migrate-layout'"
	kbrun --kb kb status --json
	json_check 'd["outside_layout"] == 3'
	kbrun --kb kb search overload
	expect_rc 0
	before=$(kb_state kb)
	n=$(ncommits kb)
	kbrun --kb kb migrate-layout --dry-run
	expect_rc 0
	[ "$OUT" = "cases/CHL-0003.md -> cases/CHL/000/CHL-0003.md
cases/PMP-0001.md -> cases/PMP/000/PMP-0001.md
cases/PMP-1002.md -> cases/PMP/001/PMP-1002.md" ] || fail "dry run: $OUT"
	expect_err "would move 3 cases (dry run, nothing written)"
	same_state kb "$before"
	kbrun --kb kb --author "Mia Ops <mia@example.com>" migrate-layout
	expect_rc 0
	expect_out "cases/PMP-1002.md -> cases/PMP/001/PMP-1002.md"
	expect_err "moved 3 cases to the foldered layout"
	[ "$(ncommits kb)" -eq $((n + 1)) ] || fail "not one commit"
	[ "$(commits kb | head -1)" = "Mia Ops <mia@example.com>|Move 3 cases to the foldered layout" ] ||
		fail "$(commits kb | head -1)"
	[ -z "$(git -C kb status --porcelain)" ] || fail "not clean: $(git -C kb status --porcelain)"
	[ "$(git -C kb show --format= -M --name-status HEAD | grep -c '^R100')" -eq 3 ] || fail "not renames"
	# the search index follows without a reindex; show, log, status too
	kbrun --kb kb search overload --json
	json_check 'd[0]["id"] == "PMP-0001" and d[0]["path"] == "cases/PMP/000/PMP-0001.md"'
	kbrun --kb kb log PMP-0001
	expect_rc 0
	expect_out "Bo Chen"
	expect_out "Ann Lee"
	kbrun --kb kb status
	expect_no_out "layout:"
	# again: nothing to do
	after=$(kb_state kb)
	kbrun --kb kb migrate-layout
	expect_rc 0
	expect_err "nothing to move"
	same_state kb "$after"
}

test_migrate_layout_refusals() {
	flat_kb
	echo "more" >>kb/cases/PMP-0001.md
	before=$(kb_state kb)
	kbrun --kb kb migrate-layout
	expect_rc 2
	one_line_err
	expect_err "uncommitted changes to 'cases/PMP-0001.md'"
	same_state kb "$before"
	git -C kb checkout -q cases/PMP-0001.md
	mkdir -p kb/cases/old
	write_case kb/cases/old/PMP-0001.md PMP-0001
	git -C kb add -A && git -C kb commit -qm "a second copy"
	before=$(kb_state kb)
	kbrun --kb kb migrate-layout --dry-run
	expect_rc 2
	expect_err "'cases/PMP-0001.md' and 'cases/old/PMP-0001.md' both belong at 'cases/PMP/000/PMP-0001.md'"
	kbrun --kb kb migrate-layout
	expect_rc 2
	one_line_err
	same_state kb "$before"
	# a file whose id is not its name stays, with a warning; the rest moves
	git -C kb rm -q cases/old/PMP-0001.md
	sed -i 's/^id: CHL-0003$/id: CHL-0004/' kb/cases/CHL-0003.md
	git -C kb commit -qam "mismatch"
	kbrun --kb kb migrate-layout
	expect_rc 0
	expect_err "cases/CHL-0003.md:2: warning: id 'CHL-0004' differs from the file name"
	[ -f kb/cases/CHL-0003.md ] || fail "the mismatched file moved"
	[ -f kb/cases/PMP/000/PMP-0001.md ] || fail "PMP-0001 not moved"
	kbrun --kb kb migrate-layout extra
	expect_rc 2
}

# Killed after the branch moved, before the work tree followed: the next kb
# command finishes the move (kb_txn's recovery), and nothing is lost.
test_migrate_layout_killed_after_the_commit() {
	flat_kb
	KB_TEST_TXN_KILL=after-ref "$KB" --kb kb migrate-layout >out.txt 2>err.txt &&
		fail "not killed" || true
	[ "$(commits kb | head -1)" = "Test User <test@example.com>|Move 3 cases to the foldered layout" ] ||
		fail "no commit: $(commits kb | head -1)"
	[ -f kb/cases/PMP-0001.md ] || fail "the work tree moved before the kill"
	kbrun --kb kb status
	expect_rc 0
	[ -z "$(git -C kb status --porcelain --ignored)" ] || fail "not clean: $(git -C kb status --porcelain --ignored)"
	grep -q 'Follow-up by Bo.' kb/cases/PMP/000/PMP-0001.md || fail "content lost"
	[ ! -e kb/cases/PMP-0001.md ] || fail "old file left"
	kbrun --kb kb migrate-layout
	expect_rc 0
	expect_err "nothing to move"
}

# The audits' JSON of the KB (caches deleted first, unless $1 is "warm"),
# without the case paths (the move changes them: the health audit lists
# them).  The activity audit's "people" of a month are compared too: the
# author of the move commit is no contributor, so not one more person.
audit_figures() {
	local a all=""
	[ "${1:-}" = warm ] || rm -f kb/.git/kb/audit-history kb/.git/kb/audit-cases
	for a in risk activity health; do
		kbrun --kb kb audit $a --json
		expect_rc 0
		all="$all$(printf '%s\n' "$OUT" | grep -v -e '"path": ')"
	done
	printf '%s' "$all"
}

test_migrate_layout_keeps_audit_figures() {
	flat_kb
	for i in 1 2 3 4 5 6; do
		write_case kb/cases/AHU-000$i.md AHU-000$i "Air handler $i" validated \
			"reviewer: R <r@example.com>" "failure_mode: belt"
		sed -i 's/^equipment: pump$/equipment: air handler/' kb/cases/AHU-000$i.md
		git -C kb add -A
		GIT_AUTHOR_DATE="2024-0$i-0${i}T10:00:00Z" git -C kb -c user.name="Person $((i % 3))" \
			-c user.email=p$((i % 3))@example.com commit -qm "AHU $i"
	done
	before=$(audit_figures)
	kbrun --kb kb --author "Mia Ops <mia@example.com>" migrate-layout
	expect_rc 0
	after=$(audit_figures warm)
	[ "$before" = "$after" ] || fail "audit figures changed by the move (cache updated):
$(diff <(echo "$before") <(echo "$after"))"
	after=$(audit_figures)
	[ "$before" = "$after" ] || fail "audit figures changed by the move (cold):
$(diff <(echo "$before") <(echo "$after"))"
	echo "Mia was here" >>kb/cases/AHU/000/AHU-0001.md
	git -C kb -c user.name="Mia Ops" -c user.email=mia@example.com commit -qam "Mia edits"
	[ "$(audit_figures)" != "$before" ] || fail "an edit after the move changes nothing"
}

# layout_team: a server, clone a (made with kb init) and clone b, both with
# the flat cases P-0001 and P-0002 (helpers of t_sync.sh, written again).
layout_team() {
	local id
	make_kb a
	git init -q --bare srv.git
	for id in PMP-0001 PMP-0002; do
		write_case a/cases/$id.md $id "Pump $id trips"
	done
	git -C a add -A && git -C a commit -qm "flat cases"
	(cd a && "$KB" remote add origin ../srv.git && "$KB" sync >/dev/null) || fail "first sync"
	git clone -q srv.git b
}

# The edit of a clone that still has the flat file lands in the file the
# other clone moved, whichever side syncs first; nothing is left at the old
# path, and no conflict is reported when the two did not edit the same part.
test_sync_edit_of_a_flat_file_follows_the_move() {
	layout_team
	(cd a && "$KB" migrate-layout >/dev/null 2>&1) || fail "migrate"
	sync_layout a
	sed -i 's/worn bearing/worn bearing and seal/' b/cases/PMP-0001.md
	git -C b commit -qam "b edits the flat file"
	sync_layout b
	expect_no_out "conflict"
	sync_layout a
	for c in a b; do
		[ -z "$(find $c/cases -maxdepth 1 -name '*.md')" ] || fail "$c: a flat file is back: $(find $c/cases)"
		grep -q 'worn bearing and seal' $c/cases/PMP/000/PMP-0001.md || fail "$c: the edit is lost"
		[ -z "$(git -C $c status --porcelain)" ] || fail "$c not clean"
	done
	# the other way round: b edits first and pushes, a moves without having it
	sed -i 's/Motor overload/Motor overload (again)/' b/cases/PMP/000/PMP-0002.md
	git -C b mv cases/PMP/000/PMP-0002.md cases/PMP-0002.md
	git -C b commit -qam "b moves PMP-0002 back and edits it"
	sync_layout b
	sed -i 's/reset the relay/reset the relay twice/' a/cases/PMP/000/PMP-0002.md
	git -C a commit -qam "a edits PMP-0002"
	sync_layout a
	expect_no_out "conflict"
	grep -q 'Motor overload (again)' a/cases/PMP-0002.md && grep -q 'relay twice' a/cases/PMP-0002.md ||
		fail "edits not merged into the moved file: $(find a/cases; cat a/cases/PMP-0002.md)"
	[ ! -e a/cases/PMP/000/PMP-0002.md ] || fail "PMP-0002 twice"
}

# Both sides changed the same section: one file, the conflict kept in it.
test_sync_conflict_across_the_move_keeps_both() {
	layout_team
	(cd a && "$KB" migrate-layout >/dev/null 2>&1) || fail "migrate"
	sed -i 's/worn bearing/cracked bearing/' a/cases/PMP/000/PMP-0001.md
	git -C a commit -qam "a edits after the move"
	sync_layout a
	sed -i 's/worn bearing/dry bearing/' b/cases/PMP-0001.md
	git -C b commit -qam "b edits the flat file"
	sync_layout b
	expect_out "conflicts kept for review: PMP-0001"
	[ ! -e b/cases/PMP-0001.md ] || fail "the flat file is still there"
	grep -q 'cracked bearing' b/cases/PMP/000/PMP-0001.md || fail "a's side lost"
	grep -q 'dry bearing' b/cases/PMP/000/PMP-0001.md || fail "b's side lost"
	(cd b && kbrun conflicts && expect_out "PMP-0001")
}

sync_layout() {
	pushd "$1" >/dev/null
	kbrun sync
	popd >/dev/null
	expect_rc 0
}
