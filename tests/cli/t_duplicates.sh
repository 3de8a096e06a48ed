# t_duplicates.sh - `kb duplicates` on the sample KB: near-duplicate twins
# (English/Chinese) found with their scores, linked pairs left out unless
# --all, --threshold/--limit/--status/--json, usage errors that write
# nothing.

test_duplicates_sample_kb() {
	sample_kb kb
	kbrun --kb kb duplicates
	expect_rc 0
	# AHU-0001/AHU-0004: the same damper fault on AHU-3, both in English
	printf '%s\n' "$OUT" | head -1 | grep -qE '^0\.[0-9][0-9]  AHU-0001  AHU-0004$' ||
		fail "first pair: $OUT"
	expect_out "    AHU-0004: Frozen coil on West Wing AHU-3 during cold snap"
	# SWG-0001 (Chinese) / SWG-0004 (English): met through synonyms.txt
	expect_out "  SWG-0001  SWG-0004"
	# BLR-0001 links BLR-0009 in the sample: left out ...
	expect_no_out "BLR-0001  BLR-0009"
	kbrun --kb kb duplicates --all --json
	expect_rc 0
	# ... unless --all
	json_check '["BLR-0001", "BLR-0009"] in [[p["a"], p["b"]] for p in d]'
	json_check 'all(p["a"] < p["b"] and p["score"] >= 0.25 for p in d)'
	json_check '[p["score"] for p in d] == sorted([p["score"] for p in d], reverse=True)'
	json_check 'len(set((p["a"], p["b"]) for p in d)) == len(d)'
	json_check 'd[0]["title_a"] == "AHU-3 freeze stat trip and frozen preheat coil"'
}

test_duplicates_options() {
	sample_kb kb
	kbrun --kb kb duplicates --json --threshold 0.1 --limit 3
	expect_rc 0
	json_check 'len(d) == 3 and d[0]["a"] == "AHU-0001"'
	kbrun --kb kb duplicates --json --threshold 0.9
	expect_rc 1
	expect_err "no pairs of cases score 0.90 or more"
	json_check 'd == []'
	# no sample case is obsolete; drafts: pairs with a draft on either side
	kbrun --kb kb duplicates --status obsolete
	expect_rc 1
	[ -z "$OUT" ] || fail "output without pairs: $OUT"
	drafts=$(grep -rl --include='*.md' '^status: draft' "$(sample_cases)" | sort | xargs -n1 basename | sed 's/\.md$//' | tr '\n' ' ')
	kbrun --kb kb duplicates --status draft --threshold 0.1 --json
	expect_rc 0
	json_check "len(d) > 0 and all(p['a'] in '$drafts'.split() or p['b'] in '$drafts'.split() for p in d)"
}

test_duplicates_after_link() {
	sample_kb kb
	kbrun --kb kb link AHU-0004 AHU-0001 --as duplicate-of
	expect_rc 0
	kbrun --kb kb duplicates
	expect_rc 0
	expect_no_out "AHU-0001  AHU-0004"
	expect_out "SWG-0001  SWG-0004"
}

test_duplicates_usage_errors() {
	sample_kb kb
	before=$(kb_state kb)
	kbrun --kb kb duplicates --threshold abc
	expect_rc 2
	expect_err "option '--threshold' wants a number"
	one_line_err
	kbrun --kb kb duplicates --threshold 0
	expect_rc 2
	kbrun --kb kb duplicates --status drafty
	expect_rc 2
	expect_err "unknown status 'drafty'"
	kbrun --kb kb duplicates extra
	expect_rc 2
	expect_err "unexpected argument 'extra'"
	kbrun --kb kb duplicates --bogus
	expect_rc 2
	same_state kb "$before"
	kbrun --kb kb duplicates --help
	expect_rc 0
	expect_out "usage: kb duplicates"
	mkdir notkb
	cd notkb && kbrun duplicates
	expect_rc 2
}
