# t_state.sh - repositories kb must not write to: not a git repository, a
# merge in progress, a read-only KB.  Each refusal is one line, non-zero,
# and leaves the KB exactly as it was.

test_not_a_git_repository() {
	mkdir plain
	cp "$KB_SRCDIR/kb/kb.conf" plain/
	write_case c.md PMP-0100
	kbrun --kb plain add c.md
	expect_rc 2
	one_line_err
	expect_err "plain"
	[ ! -e plain/cases ] && [ ! -e plain/.git ] || fail "plain was written to"
	kbrun --kb plain list
	expect_rc 2
	one_line_err
}

# A KB with a real conflicting `git merge` stopped half-way.
merge_kb() {
	make_kb kb
	write_case c.md PMP-0100
	kbrun --kb kb add c.md
	git -C kb checkout -q -b other
	sed -i 's/worn bearing/bent shaft/' kb/$(case_path PMP-0100)
	git -C kb commit -qam "other side"
	git -C kb checkout -q main
	sed -i 's/worn bearing/broken impeller/' kb/$(case_path PMP-0100)
	git -C kb commit -qam "this side"
	if git -C kb merge other >/dev/null 2>&1; then fail "merge did not conflict"; fi
	[ -f kb/.git/MERGE_HEAD ] || fail "no merge in progress"
}

test_merge_in_progress_refuses_writes() {
	merge_kb
	before=$(kb_state kb)
	write_case d.md PMP-0101
	kbrun --kb kb add d.md
	expect_rc 2
	one_line_err
	expect_err "merge"
	same_state kb "$before"
	kbrun --kb kb new --from d.md
	expect_rc 2
	expect_err "merge"
	same_state kb "$before"
}

# The editor is not even opened: nothing typed could be saved.
test_merge_in_progress_refuses_before_the_editor() {
	merge_kb
	write_case kb/cases/PMP-0102.md PMP-0102
	before=$(kb_state kb)
	printf '#!/bin/sh\ntouch "%s/editor-ran"\n' "$PWD" >ed.sh
	chmod +x ed.sh
	EDITOR="$PWD/ed.sh" kbrun --kb kb edit PMP-0102
	expect_rc 2
	one_line_err
	expect_err "merge"
	EDITOR="$PWD/ed.sh" kbrun --kb kb new
	expect_rc 2
	one_line_err
	[ ! -e editor-ran ] || fail "the editor was opened"
	same_state kb "$before"
}

test_read_only_kb() {
	make_kb kb
	write_case c.md PMP-0100
	before=$(kb_state kb)
	if ! mount --bind kb kb 2>/dev/null; then
		skip "read-only KB: 'mount --bind' is not permitted here"
	fi
	trap 'umount "$PWD/kb" 2>/dev/null' EXIT
	if ! mount -o remount,ro,bind kb kb 2>/dev/null; then
		skip "read-only KB: a read-only remount is not permitted here"
	fi
	kbrun --kb kb add c.md
	rc_add=$RC err_add=$ERR
	EDITOR=true kbrun --kb kb new
	umount kb
	trap - EXIT
	expect_rc 2
	one_line_err
	expect_err "read-only"
	RC=$rc_add ERR=$err_add
	expect_rc 2
	one_line_err
	expect_err "read-only"
	same_state kb "$before"
}

# Reading still works on a read-only KB: the index is built in memory.
test_search_read_only_kb() {
	make_kb kb
	kbrun --kb kb add "$KB_SRCDIR/kb/cases/CHL/000/CHL-0001.md" "$KB_SRCDIR/kb/cases/PMP/000/PMP-0005.md"
	expect_rc 0
	rm -rf kb/.git/kb
	before=$(kb_state kb)
	if ! mount --bind kb kb 2>/dev/null; then
		skip "read-only KB: 'mount --bind' is not permitted here"
	fi
	trap 'umount "$PWD/kb" 2>/dev/null' EXIT
	if ! mount -o remount,ro,bind kb kb 2>/dev/null; then
		skip "read-only KB: a read-only remount is not permitted here"
	fi
	kbrun --kb kb search "head pressure"
	rc_search=$RC out_search=$OUT
	kbrun --kb kb similar "pump seal leaking"
	umount kb
	trap - EXIT
	expect_rc 0
	expect_out "PMP-0005"
	RC=$rc_search OUT=$out_search
	expect_rc 0
	expect_out "CHL-0001"
	same_state kb "$before"
}
