# t_merge.sh - `kb merge A B`: the duplicate folded into the survivor in one
# commit by the author (nothing dropped, both heading languages), and the
# refusals (unknown id, A == B, already archived) that change nothing.

merge_kb() {
	make_kb kb
	write_case kb/cases/PMP-0001.md PMP-0001 "Pump one" validated "reviewer: R <r@example.com>"
	write_case kb/cases/PMP-0002.md PMP-0002 "Pump two" draft "tags: [bearing]"
	cat >kb/cases/PMP-0003.md <<'CASE'
---
id: PMP-0003
title: 水泵过载跳闸
status: draft
---

## 故障现象

运行十分钟后过载跳闸。

## 处理方法

更换轴承。
CASE
	git -C kb add cases && git -C kb commit -qm cases
}

test_merge_folds_duplicate() {
	merge_kb
	n=$(ncommits kb)
	kbrun --kb kb merge PMP-0002 PMP-0001
	expect_rc 0
	expect_out "merged PMP-0002 into PMP-0001"
	[ "$(commits kb | head -1)" = "Test User <test@example.com>|Merge PMP-0002 into PMP-0001" ] ||
		fail "commit: $(commits kb | head -1)"
	[ "$(ncommits kb)" -eq $((n + 1)) ] || fail "not one commit"
	[ -z "$(git -C kb status --porcelain)" ] || fail "work tree dirty"
	grep -qx 'status: archived' kb/cases/PMP-0002.md || fail "duplicate not archived"
	grep -qx 'duplicate_of: PMP-0001' kb/cases/PMP-0002.md || fail "duplicate_of missing"
	grep -qx '## Symptom (from PMP-0002)' kb/cases/PMP-0001.md || fail "symptom not appended"
	grep -qx '## Resolution (from PMP-0002)' kb/cases/PMP-0001.md || fail "resolution not appended"
	grep -qx 'links: \[PMP-0002\]' kb/cases/PMP-0001.md || fail "link missing"
	grep -qx 'tags: \[bearing\]' kb/cases/PMP-0001.md || fail "tags not merged"
	kbrun --kb kb show PMP-0002
	expect_rc 0
	kbrun --kb kb validate
	expect_rc 0
}

test_merge_chinese_headings() {
	merge_kb
	kbrun --kb kb merge PMP-0003 PMP-0001
	expect_rc 0
	grep -qx '## 故障现象 (from PMP-0003)' kb/cases/PMP-0001.md || fail "故障现象 not appended"
	grep -qx '更换轴承。' kb/cases/PMP-0001.md || fail "处理方法 text lost"
	kbrun --kb kb show --json PMP-0001
	json_check 'd["sections"][0]["kind"] == "symptom" and d["sections"][2]["heading"] == "故障现象 (from PMP-0003)" and d["sections"][2]["kind"] == "other"'
}

test_merge_refusals_change_nothing() {
	merge_kb
	before=$(kb_state kb)
	kbrun --kb kb merge PMP-0002 NOPE-0001
	expect_rc 2
	expect_err "unknown case 'NOPE-0001'"
	one_line_err
	kbrun --kb kb merge NOPE-0001 PMP-0001
	expect_rc 2
	kbrun --kb kb merge PMP-0001 PMP-0001
	expect_rc 2
	expect_err "cannot merge 'PMP-0001' into itself"
	kbrun --kb kb merge PMP-0002
	expect_rc 2
	same_state kb "$before"
	kbrun --kb kb merge PMP-0002 PMP-0001
	expect_rc 0
	before=$(kb_state kb)
	kbrun --kb kb merge PMP-0002 PMP-0001
	expect_rc 2
	expect_err "'PMP-0002' is already archived"
	kbrun --kb kb merge PMP-0003 PMP-0002
	expect_rc 2
	expect_err "'PMP-0002' is already archived"
	same_state kb "$before"
}
