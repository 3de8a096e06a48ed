# t_remote_readd.sh - KNOWN BUG, kept out of `make test` (not under
# tests/cli/t_*.sh) until fixed: `kb remote remove NAME` does not delete kb's
# record of what the last sync saw on NAME (core/sync_remote.c unlinks
# <cachedir>/sync/NAME, core/sync.c keeps it in <cachedir>/sync/remote-NAME),
# so a remote removed and added again under the same name, pointing at
# another server, is refused as "history rewritten (force push)".
# Run: tests/cli/run.sh "$PWD/build/kb" "$PWD/tests/cli/known-bugs/t_remote_readd.sh"

test_remote_removed_and_added_again_syncs() {
	make_kb seed
	git init -q --bare one.git && git -C seed push -q "$PWD/one.git" main
	git clone -q one.git a
	git init -q --bare two.git && git -C seed push -q "$PWD/two.git" main
	# two.git moves on with a commit one.git never had.
	git clone -q two.git w && write_case w/cases/PMP-0001.md PMP-0001
	git -C w add cases && git -C w commit -qm "Add case PMP-0001" && git -C w push -q origin main
	# a syncs a case of its own to one.git: the last sync saw a's commit there.
	write_case a.md PMP-0002
	kbrun --kb a new --from a.md
	expect_rc 0
	kbrun --kb a sync
	expect_rc 0
	kbrun --kb a remote remove origin
	expect_rc 0
	kbrun --kb a remote add origin "$PWD/two.git"
	expect_rc 0
	kbrun --kb a sync
	expect_rc 0
	[ -f a/cases/PMP-0001.md ] || fail "not synced with the new origin"
	[ -f a/cases/PMP-0002.md ] || fail "lost a's own case"
}
