# t_sync.sh - `kb remote` and `kb sync` end to end with bare repositories on
# file paths: fast-forward, silent merges, section merges, conflicts kept
# both ways, delete against edit, reuse logs, and every refusal and fault
# (unrelated or rewritten history, push race, uncommitted edits, bad URL,
# refused authentication, an interrupted sync, a full disk) with a retry.

# team: a bare server srv.git, clone a/ (made with kb init, pushed) and b/
# (a git clone of the server), both with origin set.
team() {
	make_kb a
	git init -q --bare srv.git
	(cd a && "$KB" remote add origin ../srv.git && "$KB" sync >/dev/null) || fail "first sync"
	git clone -q srv.git b
}

# put_case DIR ID: write a small case with Symptom, Cause, Resolution and commit it
put_case() {
	mkdir -p "$1/cases"
	cat >"$1/cases/$2.md" <<EOF
---
id: $2
title: Pump $2 trips
equipment: pump
status: draft
created: 2024-05-12
---

## Symptom

Trips.

## Cause

Bearing.

## Resolution

Replace.
EOF
	git -C "$1" add cases && git -C "$1" commit -qm "add $2"
}

# edit DIR ID OLD NEW: replace a line of a case and commit
edit() {
	sed -i "s/^$3\$/$4/" "$1/cases/$2.md"
	grep -q "^$4\$" "$1/cases/$2.md" || fail "edit of $2 did not apply"
	git -C "$1" commit -qam "edit $2"
}

# sync_in DIR ARGS...: kbrun sync ARGS in DIR
sync_in() { local d="$1"; shift; pushd "$d" >/dev/null; kbrun sync "$@"; popd >/dev/null; }

test_remote_add_list_remove() {
	make_kb a; cd a
	kbrun remote; expect_rc 0; [ -z "$OUT" ] || fail "remotes in a new KB: $OUT"
	kbrun remote add origin /srv/kb.git; expect_rc 0
	kbrun remote add origin /other; expect_rc 2; expect_err "already exists"
	kbrun remote add 'bad name' /x; expect_rc 2; expect_err "invalid remote name"
	kbrun remote list; expect_rc 0; expect_out "origin	/srv/kb.git"
	kbrun remote remove origin; expect_rc 0
	kbrun remote remove origin; expect_rc 1; expect_err "no remote 'origin'"
	kbrun sync; expect_rc 1; expect_err "no remote"
}

test_fast_forward_and_push() {
	team
	put_case a P-0001
	sync_in a; expect_rc 0; expect_out "pushed"
	sync_in b; expect_rc 0; expect_out "1 commit fetched, 1 case changed"; expect_out "nothing to push"
	[ -f b/cases/P-0001.md ] || fail "case not fetched"
	[ -z "$(git -C b status --porcelain)" ] || fail "b not clean: $(git -C b status --short)"
	(cd b && kbrun search Pump && expect_rc 0 && expect_out P-0001) || fail "index not updated"
	sync_in b --json; expect_rc 0; json_check 'd["commits_fetched"] == 0 and not d["pushed"]'
}

test_different_cases_merge_silently() {
	team
	put_case a P-0001
	put_case b P-0002
	sync_in a; expect_rc 0
	sync_in b; expect_rc 0; expect_out "pushed"; expect_no_out conflicts
	sync_in a; expect_rc 0
	[ -f a/cases/P-0002.md ] && [ -f b/cases/P-0001.md ] || fail "cases not exchanged"
	[ "$(git -C a rev-parse HEAD)" = "$(git -C b rev-parse HEAD)" ] || fail "clones differ"
	[ "$(git -C b log -1 --format=%p | wc -w)" -eq 2 ] || fail "no merge commit"
}

test_same_case_different_sections_merge() {
	team
	put_case a P-0001; sync_in a; sync_in b
	edit a P-0001 Trips. "Trips after ten minutes."
	edit b P-0001 Replace. "Replace bearing 6205."
	sync_in a; expect_rc 0
	sync_in b --json; expect_rc 0
	json_check 'd["cases_merged"] == 1 and d["conflicts"] == [] and d["merged"]'
	grep -q "^Trips after ten minutes.$" b/cases/P-0001.md || fail "symptom edit lost"
	grep -q "^Replace bearing 6205.$" b/cases/P-0001.md || fail "resolution edit lost"
	grep -q conflicts b/cases/P-0001.md && fail "marked as conflict"
	[ -z "$(git -C b status --porcelain)" ] || fail "b not clean"
}

test_same_section_conflict_keeps_both() {
	team
	put_case a P-0001; sync_in a; sync_in b
	edit a P-0001 Bearing. "Bearing worn out."
	edit b P-0001 Bearing. "Bearing ran dry."
	sync_in a; expect_rc 0
	sync_in b; expect_rc 0; expect_out "conflicts kept for review: P-0001"; expect_out "kb conflicts"
	grep -q "^Bearing worn out.$" b/cases/P-0001.md || fail "remote side lost"
	grep -q "^Bearing ran dry.$" b/cases/P-0001.md || fail "local side lost"
	grep -q "^conflicts:" b/cases/P-0001.md || fail "not marked for review"
	cd b; kbrun conflicts; cd ..
	expect_rc 0; expect_out P-0001
	sync_in a; expect_rc 0
	cmp -s a/cases/P-0001.md b/cases/P-0001.md || fail "the marked case did not reach a"
}

test_delete_vs_edit_keeps_edit() {
	team
	put_case a P-0001; sync_in a; sync_in b
	git -C a rm -q cases/P-0001.md && git -C a commit -qm "delete P-0001"
	edit b P-0001 Bearing. "Bearing seized."
	sync_in a; expect_rc 0
	sync_in b --json; expect_rc 0; json_check 'd["conflicts"] == ["P-0001"]'
	grep -q "^Bearing seized.$" b/cases/P-0001.md || fail "edit lost"
	sync_in a; expect_rc 0
	[ -f a/cases/P-0001.md ] || fail "edited case not restored on the deleting side"
}

test_reuse_logs_union() {
	team
	put_case a P-0001; sync_in a; sync_in b
	mkdir -p a/reuse b/reuse
	printf '2024-05-01\tP-0001\tWO-1\t\n' >a/reuse/team.log
	git -C a add reuse && git -C a commit -qm "reuse a"
	printf '2024-05-02\tP-0001\tWO-2\t\n' >b/reuse/team.log
	git -C b add reuse && git -C b commit -qm "reuse b"
	sync_in a; expect_rc 0
	sync_in b; expect_rc 0
	grep -q WO-1 b/reuse/team.log && grep -q WO-2 b/reuse/team.log || fail "$(cat b/reuse/team.log)"
}

test_other_file_conflict_refused() {
	team
	printf 'one\n' >a/notes.txt; git -C a add notes.txt; git -C a commit -qm n; sync_in a; sync_in b
	printf 'two\n' >a/notes.txt; git -C a commit -qam a
	printf 'three\n' >b/notes.txt; git -C b commit -qam b
	sync_in a; expect_rc 0
	before=$(kb_state b)
	sync_in b; expect_rc 1; expect_err "'notes.txt'"; one_line_err
	same_state b "$before"
}

test_unrelated_history_refused() {
	make_kb a
	kbrun --author "Other Team <other@example.com>" init c; expect_rc 0
	git init -q --bare srv.git
	(cd a && "$KB" remote add origin ../srv.git && "$KB" sync >/dev/null)
	cd c && "$KB" remote add origin ../srv.git
	before=$(kb_state .)
	kbrun sync; expect_rc 1; expect_err "shares no history"; one_line_err
	same_state . "$before"
}

test_force_pushed_remote_refused() {
	team
	put_case a P-0001; sync_in a; sync_in b
	git -C a reset -q --hard HEAD~1 && git -C a push -qf origin main
	put_case b P-0002
	before=$(kb_state b)
	sync_in b; expect_rc 1; expect_err "rewritten"; one_line_err
	same_state b "$before"
	[ -n "$(git -C srv.git log --format=%H main | grep "$(git -C b rev-parse HEAD~1)")" ] && fail "pushed"
	true
}

test_push_race_retries() {
	team
	put_case a P-0001
	put_case b P-0002
	# b pushes after a has fetched and merged, before a pushes
	export KB_TEST_SYNC_BEFORE_PUSH="cd '$PWD/b' && env -u KB_TEST_SYNC_BEFORE_PUSH '$KB' sync >/dev/null 2>&1"
	sync_in a --json; expect_rc 0
	unset KB_TEST_SYNC_BEFORE_PUSH
	json_check 'd["attempts"] == 2 and d["pushed"]'
	[ "$(git -C a rev-parse HEAD)" = "$(git -C srv.git rev-parse main)" ] || fail "a not on the server"
	git -C srv.git show main:cases/P-0002.md >/dev/null || fail "b's push lost"
}

test_uncommitted_edits_refused() {
	team
	put_case a P-0001; sync_in a; sync_in b
	edit a P-0001 Trips. "Trips twice."; sync_in a
	echo "local note" >>b/cases/P-0001.md
	before=$(kb_state b)
	sync_in b; expect_rc 2; expect_err "cases/P-0001.md"; one_line_err
	same_state b "$before"
	git -C b checkout -q -- cases
	sync_in b; expect_rc 0
	grep -q "^Trips twice.$" b/cases/P-0001.md || fail "retry incomplete"
}

test_unreachable_and_wrong_url() {
	make_kb a; cd a
	put_case . P-0001
	kbrun remote add origin "$PWD/../nowhere.git"; expect_rc 0
	before=$(kb_state .)
	kbrun sync; expect_rc 3; expect_err "cannot fetch from 'origin'"; one_line_err
	same_state . "$before"
	kbrun remote add lan git://127.0.0.1:1/kb.git
	kbrun sync lan; expect_rc 3; expect_err "cannot fetch from 'lan'"
	same_state . "$before"
	git init -q --bare ../nowhere.git
	kbrun sync origin; expect_rc 0; expect_out pushed
}

test_auth_refused() {
	command -v python3 >/dev/null || skip "no python3"
	cat >srv.py <<'EOF'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="kb"')
        self.send_header("Content-Length", "0")
        self.end_headers()
    do_POST = do_GET
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_port, flush=True)
s.serve_forever()
EOF
	python3 srv.py >port &
	pid=$!
	for _ in $(seq 50); do [ -s port ] && break; sleep 0.1; done
	make_kb a; cd a
	kbrun remote add origin "http://127.0.0.1:$(cat ../port)/kb.git"
	before=$(kb_state .)
	KB_GIT_USERNAME=u KB_GIT_PASSWORD=wrong kbrun sync
	kill $pid
	expect_rc 3; expect_err "authentication refused"; one_line_err
	same_state . "$before"
}

test_interrupted_sync_reruns() {
	team
	put_case a P-0001; sync_in a; sync_in b
	put_case a P-0002; edit a P-0001 Trips. "Trips at night."; sync_in a
	# as if killed after the files moved and before the branch did
	git -C b fetch -q origin
	old=$(git -C b rev-parse HEAD) new=$(git -C b rev-parse origin/main)
	git -C b checkout -q "$new" -- cases
	mkdir -p b/.git/kb/sync && echo "$old $new refs/heads/main" >b/.git/kb/sync/journal
	echo half >b/cases/P-0001.md.kbsync-tmp   # a temporary the killed sync left
	sync_in b; expect_rc 0
	[ ! -e b/cases/P-0001.md.kbsync-tmp ] || fail "stale temporary left"
	[ "$(git -C b rev-parse HEAD)" = "$new" ] || fail "not synced"
	[ -z "$(git -C b status --porcelain)" ] || fail "b not clean: $(git -C b status --short)"
	[ ! -e b/.git/kb/sync/journal ] || fail "journal left"
	# killed after the branch moved, before git's index was written
	edit a P-0002 Bearing. "Bearing cracked."; sync_in a
	git -C b fetch -q origin
	old=$(git -C b rev-parse HEAD) new=$(git -C b rev-parse origin/main)
	git -C b update-ref refs/heads/main "$new"
	echo "$old $new refs/heads/main" >b/.git/kb/sync/journal
	sync_in b; expect_rc 0
	grep -q "^Bearing cracked.$" b/cases/P-0002.md || fail "files not finished"
	[ -z "$(git -C b status --porcelain)" ] || fail "b not clean: $(git -C b status --short)"
}

test_disk_full_then_retry() {
	# RLIMIT_FSIZE (ulimit -f, 1 KiB blocks) with SIGXFSZ ignored: writes past
	# the limit fail with EFBIG, as on a full disk
	team
	put_case a P-0001
	head -c 300000 /dev/urandom | base64 >>a/cases/P-0001.md
	git -C a commit -qam big; sync_in a
	before=$(kb_state b)
	(cd b && trap '' XFSZ && ulimit -f 64 && exec "$KB" sync) >out 2>err && fail "sync passed the limit"
	grep -q "File too large" err || fail "no clear message: $(cat err)"
	same_state b "$before"
	sync_in b; expect_rc 0
	[ -f b/cases/P-0001.md ] || fail "retry incomplete"
	# the objects are here (fetched), the work-tree file is what cannot be written
	head -c 300000 /dev/urandom | base64 >>a/cases/P-0001.md
	git -C a commit -qam bigger; sync_in a
	git -C b fetch -q origin
	before=$(kb_state b)
	(cd b && trap '' XFSZ && ulimit -f 500 && exec "$KB" sync) >out 2>err && fail "sync passed the limit"
	grep -q "cannot write 'cases/P-0001.md': File too large" err || fail "no clear message: $(cat err)"
	same_state b "$before"
	sync_in b; expect_rc 0
	cmp -s a/cases/P-0001.md b/cases/P-0001.md || fail "retry incomplete"
}

test_status_shows_sync_state() {
	make_kb a; cd a
	kbrun status; expect_rc 0; expect_out "sync: no remote"
	kbrun status --json; expect_rc 0; json_check 'd["sync"] is None'
	git init -q --bare ../srv.git
	kbrun remote add origin ../srv.git
	kbrun status; expect_out "sync: origin/main, never fetched, last sync never"
	kbrun sync; expect_rc 0
	put_case . P-0001
	kbrun status; expect_rc 0; expect_out "sync: origin/main, 1 ahead, 0 behind (as of the last fetch)"
	kbrun status --json
	json_check 'd["sync"]["ahead"] == 1 and d["sync"]["behind"] == 0 and d["sync"]["last_sync"] > 0'
}

test_insteadof_url_rewriting() {
	make_kb a
	git init -q --bare srv.git
	git config --global url."$PWD/srv.git".insteadOf team:kb
	cd a
	kbrun remote add origin team:kb; expect_rc 0
	kbrun sync; expect_rc 0; expect_out pushed
	[ "$(git rev-parse HEAD)" = "$(git -C ../srv.git rev-parse main)" ] || fail "not pushed"
}

test_concurrent_sync_refused() {
	command -v flock >/dev/null || skip "no flock(1)"
	team
	put_case b P-0001
	mkdir -p b/.git/kb/sync
	before=$(kb_state b)
	# another sync holds the lock while this one starts
	flock b/.git/kb/sync/lock -c "cd b && '$KB' sync" >out 2>err && fail "ran under the lock"
	grep -q "another kb sync is running" err || fail "$(cat err)"
	same_state b "$before"
	sync_in b; expect_rc 0; expect_out pushed
}

test_killed_before_push_reruns() {
	team
	put_case a P-0001
	put_case b P-0002
	sync_in b; expect_rc 0
	# SIGKILL kb itself after it merged, before it pushes
	KB_TEST_SYNC_BEFORE_PUSH='kill -9 $PPID' kbrun --kb a sync
	[ "$RC" -eq 137 ] || fail "not killed: exit $RC $ERR"
	[ -z "$(git -C a status --porcelain)" ] || fail "a not clean: $(git -C a status --short)"
	git -C srv.git show main:cases/P-0001.md >/dev/null 2>&1 && fail "pushed before the kill"
	sync_in a; expect_rc 0; expect_out pushed
	git -C srv.git show main:cases/P-0001.md >/dev/null || fail "not pushed after the re-run"
	[ "$(git -C a rev-parse HEAD)" = "$(git -C srv.git rev-parse main)" ] || fail "a and server differ"
}
