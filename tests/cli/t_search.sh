# t_search.sh - `kb search`, `kb similar` and `kb reindex` on the sample
# KB, in English and Chinese, text and JSON.

hits_shape='isinstance(d, list) and len(d) > 0 and all(set(["id","title","score","path"]) <= set(h) for h in d) and all(isinstance(h["score"], (int, float)) for h in d) and [h["score"] for h in d] == sorted([h["score"] for h in d], reverse=True)'

test_search_english() {
	sample_kb kb
	kbrun --kb kb search chiller high head pressure trip
	expect_rc 0
	printf '%s\n' "$OUT" | head -1 | grep -qE '^CHL-0001 +[0-9.]+  Chiller trips on high head pressure after restart$' ||
		fail "first line: $OUT"
	printf '%s\n' "$OUT" | sed -n 2p | grep -q '^    .*\[[Cc]hiller\]' || fail "snippet markers: $OUT"
}

test_search_json() {
	sample_kb kb
	kbrun --kb kb search --json --limit 5 chiller high head pressure trip
	expect_rc 0
	json_check "$hits_shape"
	json_check 'd[0]["id"] == "CHL-0001" and d[0]["path"] == "cases/CHL/000/CHL-0001.md" and d[0]["equipment"] == "chiller"'
	json_check 'len(d) <= 5'
}

test_search_chinese() {
	sample_kb kb
	kbrun --kb kb search --json 冷机 高压 跳闸
	expect_rc 0
	json_check "$hits_shape"
	json_check 'd[0]["id"] == "CHL-0006"'
	# 跳闸 = trip (synonyms.txt): the English twin of the case matches too
	json_check '"CHL-0001" in [h["id"] for h in d]'
	kbrun --kb kb search 高压 跳机
	expect_rc 0
	printf '%s\n' "$OUT" | head -1 | grep -q '^CHL-0006 ' || fail "first hit: $OUT"
}

test_search_filters_and_no_hits() {
	sample_kb kb
	kbrun --kb kb search --equipment elevator --json door
	expect_rc 0
	json_check 'all(h["equipment"] == "elevator" for h in d)'
	kbrun --kb kb search --equipment pump chiller high head pressure
	expect_rc 1
	[ -z "$OUT" ] || fail "output on no hits: $OUT"
	expect_err "no cases match"
	kbrun --kb kb search --json zzzyzzy
	expect_rc 1
	json_check 'd == []'
}

test_search_usage_errors() {
	sample_kb kb
	kbrun --kb kb search
	expect_rc 2
	kbrun --kb kb search --limit 0 chiller
	expect_rc 2
	expect_err "--limit"
	kbrun --kb kb search --bogus chiller
	expect_rc 2
	kbrun --kb kb search -- '-"unbalanced' 'title:' 'OR' '"'
	[ "$RC" -le 1 ] || fail "odd query: exit $RC: $ERR"
}

test_search_sees_uncommitted_and_new_commits() {
	sample_kb kb
	write_case kb/cases/PMP-0777.md PMP-0777 "Impeller rubbing zorblax noise"
	kbrun --kb kb search zorblax
	expect_rc 0
	expect_out "PMP-0777"
	rm kb/cases/PMP-0777.md
	kbrun --kb kb search zorblax
	expect_rc 1
}

test_similar_english_explain() {
	sample_kb kb
	kbrun --kb kb similar --explain --limit 3 "Chiller tripped on high head pressure again after restart, condenser fans not all running"
	expect_rc 0
	printf '%s\n' "$OUT" | head -1 | grep -q '^CHL-' || fail "first hit: $OUT"
	expect_out "    why: "
	kbrun --kb kb similar --json --explain "Chiller tripped on high head pressure after restart"
	expect_rc 0
	json_check "$hits_shape"
	json_check 'd[0]["id"].startswith("CHL-") and "explain" in d[0]'
}

test_similar_chinese() {
	sample_kb kb
	kbrun --kb kb similar --json "冷机 高压 跳闸"
	expect_rc 0
	json_check "$hits_shape"
	json_check 'd[0]["id"] == "CHL-0006"'
}

test_similar_from_file_stdin_and_case() {
	sample_kb kb
	echo "冷水机组重启后高压报警跳机，冷凝器风扇有一台不转" >desc.txt
	kbrun --kb kb similar --file desc.txt --limit 2
	expect_rc 0
	printf '%s\n' "$OUT" | head -1 | grep -q '^CHL-' || fail "from file: $OUT"
	kbrun_in desc.txt --kb kb similar --limit 2
	expect_rc 0
	printf '%s\n' "$OUT" | head -1 | grep -q '^CHL-' || fail "from stdin: $OUT"
	kbrun --kb kb similar --json --case CHL-0001
	expect_rc 0
	json_check "$hits_shape"
	json_check 'all(h["id"] != "CHL-0001" for h in d)'
	kbrun --kb kb similar --case NOPE-0001
	[ "$RC" -ne 0 ] || fail "unknown case accepted"
	kbrun --kb kb similar --case CHL-0001 more text
	expect_rc 2
}

test_reindex() {
	sample_kb kb
	n=$(find kb/cases -name "*.md" | wc -l)
	kbrun --kb kb reindex
	expect_rc 0
	expect_out "$n cases indexed"
	expect_err "reindex took"
	kbrun --kb kb reindex --full --json
	expect_rc 0
	json_check "d['schema_version'] == 1 and d['rebuilt'] is True and d['cases'] == $n and d['added'] == $n"
	json_check "len(d['commit']) == 40"
}

test_reindex_after_removing_the_cache() {
	sample_kb kb
	kbrun --kb kb reindex
	rm -rf kb/.git/kb
	kbrun --kb kb search chiller
	expect_rc 0
	expect_out "CHL-0001"
}

test_search_bold_on_terminal_only() {
	command -v script >/dev/null || skip "terminal output: 'script' is not installed"
	sample_kb kb
	out=$(NO_COLOR= script -qec "'$KB' --kb kb search --limit 1 chiller high head pressure" /dev/null)
	case "$out" in *$'\033[1m'*) ;; *) fail "no bold on a terminal: $out";; esac
	case "$out" in *"[Chiller]"*) fail "plain markers on a terminal: $out";; esac
	kbrun --kb kb search --limit 1 chiller high head pressure
	case "$OUT" in *$'\033'*) fail "escape codes on a pipe: $OUT";; esac
}

test_similar_empty_description() {
	sample_kb kb
	kbrun_in /dev/null --kb kb similar
	expect_rc 2
	expect_err "empty"
	kbrun --kb kb search --explain chiller
	expect_rc 2
}

test_search_since() {
	sample_kb kb
	kbrun --kb kb search --since bogus chiller
	expect_rc 2
	expect_err "--since"
	kbrun --kb kb search --json --since 2024-01-01 chiller
	expect_rc 0
	json_check "$hits_shape"
}

# A second search opens the index without git (kb_index_open_current) once
# the first recorded the state; it must still see a new commit at once,
# and a search without hits is still logged as a gap.
test_search_after_commit_and_gap() {
	sample_kb kb
	kbrun --kb kb search zanzibar
	expect_rc 1
	kbrun --kb kb search chiller
	expect_rc 0
	write_case kb/cases/PMP-0100.md PMP-0100 "Zanzibar pump seal weeps" draft
	kbrun --kb kb add kb/cases/PMP-0100.md
	expect_rc 0
	kbrun --kb kb search zanzibar
	expect_rc 0
	expect_out "PMP-0100"
	(cd kb/cases && kbrun search zanzibar && expect_rc 0 && expect_out "PMP-0100")
	kbrun --kb kb search quokka
	expect_rc 1
	grep -q "quokka" kb/.git/kb/gaps.log || fail "gap not logged: $(cat kb/.git/kb/gaps.log)"
	KB_NO_GAPS_LOG=1 kbrun --kb kb search wombat
	expect_rc 1
	! grep -q "wombat" kb/.git/kb/gaps.log || fail "gap logged with KB_NO_GAPS_LOG"
}

# A damaged index is rebuilt by the next search, also once the state was
# recorded for the git-free open (pages in the middle of the file zeroed).
test_search_damaged_index_rebuilt() {
	sample_kb kb
	kbrun --kb kb search chiller
	expect_rc 0
	kbrun --kb kb search chiller
	expect_rc 0
	dd if=/dev/zero of=kb/.git/kb/index.sqlite bs=4096 seek=40 count=60 conv=notrunc 2>/dev/null
	kbrun --kb kb search chiller
	expect_rc 0
	expect_out "CHL-0001"
	kbrun --kb kb search chiller
	expect_rc 0
	expect_out "CHL-0001"
}
