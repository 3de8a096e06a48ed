# t_audit_walk.sh - the audit's history walk reads packs itself (delta
# chains resolved by core/audit_odb.c) and loose objects through libgit2, lists
# a linear history itself and a merged one through libgit2's revwalk, and
# splits a long walk over two threads: the figures must not depend on any of
# that.  Each test takes the audits' JSON on loose objects, then again (caches
# deleted) after git packs the same history in other ways.

# A history of 90 commits on 6 cases by 5 people (one with stray spaces and
# a tab in the name): section edits, status changes, front-matter edits, two
# renames (one with an edit), a delete and a re-add.
walk_history() {
	local i k who name status
	make_kb kb
	for k in 1 2 3 4 5 6; do
		write_case kb/cases/PMP-000$k.md PMP-000$k "Pump case $k" draft "failure_mode: mode $((k % 3))"
		sed -i '/^author:/d' kb/cases/PMP-000$k.md
	done
	git -C kb add -A
	git -C kb -c user.name="Ann Lee" -c user.email=ann@example.com commit -q -m "Cases"
	for i in $(seq 1 90); do
		k=$(( (i * 5) % 6 + 1 ))
		who=$(( i % 5 ))
		name=("Ann Lee" "Bo Chen" "  Cy	Diaz " "Di Roe" "陈静")
		f=$(ls kb/cases/PMP-000$k.md kb/cases/moved/PMP-000$k.md 2>/dev/null | head -n 1)
		if [ -z "$f" ]; then
			write_case kb/cases/PMP-000$k.md PMP-000$k "Pump case $k again" draft
		elif [ $((i % 31)) -eq 0 ]; then
			mkdir -p kb/cases/moved
			git -C kb mv "${f#kb/}" cases/moved/PMP-000$k.md
			[ $((i % 2)) -eq 0 ] && echo "Moved and edited $i." >>kb/cases/moved/PMP-000$k.md
		elif [ $i -eq 47 ]; then
			git -C kb rm -q "${f#kb/}"
		elif [ $((i % 3)) -eq 0 ]; then
			status=$([ $((i % 2)) -eq 0 ] && echo validated || echo draft)
			sed -i "s/^status: .*/status: $status/" "$f"
		elif [ $((i % 3)) -eq 1 ]; then
			echo "Follow-up $i." >>"$f"
		else
			sed -i "s/^created: .*/created: 2024-05-$(( i % 28 + 1 ))/" "$f"
		fi
		git -C kb add -A
		GIT_AUTHOR_DATE="2024-$(( i / 28 + 1 ))-$(( i % 28 + 1 ))T10:00:00Z" \
			git -C kb -c user.name="${name[$who]}" -c user.email=p$who@example.com \
			commit -q --allow-empty -m "Change $i" || fail "commit $i"
	done
}

# The audits' JSON of KB $1 (default kb), with both caches deleted unless
# $2 is "warm".
walk_figures() {
	local a all="" d="${1:-kb}"
	[ "${2:-}" = warm ] || rm -f "$d"/.git/kb/audit-history "$d"/.git/kb/audit-cases
	for a in risk activity health; do
		kbrun --kb "$d" audit $a --json
		expect_rc 0
		all="$all$OUT"
	done
	printf '%s' "$all"
}

# One more commit in KB $1 (same author and date in every copy).
walk_more() {
	echo "More $2." >>"$1/cases/PMP-0002.md"
	GIT_AUTHOR_DATE="2024-06-0${2}T10:00:00Z" git -C "$1" -c user.name="Bo Chen" \
		-c user.email=p1@example.com commit -q -a -m "More $2" || fail "commit"
}

test_audit_walk_packed_same_as_loose() {
	walk_history
	[ -z "$(ls kb/.git/objects/pack/*.pack 2>/dev/null)" ] || skip "kb add wrote a pack"
	cp -a kb loose
	loose=$(walk_figures loose)
	printf '%s' "$loose" | grep -q '"created": ' || fail "no activity: $loose"
	printf '%s' "$loose" | grep -q 'Cy Diaz' || fail "stray spaces not trimmed: $loose"
	git -C kb gc -q --aggressive
	[ -n "$(ls kb/.git/objects/pack/*.pack 2>/dev/null)" ] || fail "git gc wrote no pack"
	[ "$(walk_figures)" = "$loose" ] || fail "figures differ after git gc --aggressive"
	git -C kb repack -q -a -d -f --depth=3 --window=5
	[ "$(walk_figures)" = "$loose" ] || fail "figures differ after a shallow-delta repack"
	# bases named by id (REF_DELTA) instead of by offset
	git -C kb -c repack.useDeltaBaseOffset=false repack -q -a -d -f
	[ "$(walk_figures)" = "$loose" ] || fail "figures differ with REF_DELTA bases"
	# an index whose offsets past 1000 are in the 64-bit table
	pack=$(ls kb/.git/objects/pack/*.pack)
	rm -f "${pack%.pack}.idx"
	git index-pack --index-version=2,1000 "$pack" >/dev/null 2>&1 || fail "index-pack"
	[ "$(walk_figures)" = "$loose" ] || fail "figures differ with 64-bit offsets"
	# two packs and loose objects beside them, against the same commits loose
	walk_more kb 1
	git -C kb repack -q -d
	walk_more kb 2
	walk_more loose 1
	walk_more loose 2
	[ "$(ls kb/.git/objects/pack/*.pack | wc -l)" -ge 2 ] || fail "expected two packs"
	loose=$(walk_figures loose)
	[ "$(walk_figures)" = "$loose" ] || fail "figures differ with two packs and loose objects"
}

test_audit_walk_merges_same_as_loose() {
	walk_history
	branch=$(git -C kb rev-parse --abbrev-ref HEAD)
	git -C kb checkout -q -b side HEAD~20
	echo "Side edit." >>kb/cases/PMP-0001.md
	git -C kb -c user.name="Side Person" -c user.email=side@example.com commit -q -a -m "Side"
	git -C kb checkout -q "$branch"
	git -C kb -c user.name="Ann Lee" -c user.email=ann@example.com merge -q --no-edit side ||
		fail "merge"
	loose=$(walk_figures)
	printf '%s' "$loose" | grep -q 'Side Person' || fail "side branch edit not counted: $loose"
	git -C kb gc -q --aggressive
	[ "$(walk_figures)" = "$loose" ] || fail "figures differ after git gc on a merged history"
}

test_audit_walk_incremental_same_as_cold() {
	walk_history
	git -C kb gc -q
	cold=$(walk_figures)
	rm -f kb/.git/kb/audit-history
	git -C kb reset -q --hard HEAD~30
	kbrun --kb kb audit activity
	expect_rc 0
	git -C kb reset -q --hard ORIG_HEAD
	[ "$(walk_figures kb warm)" = "$cold" ] || fail "a walk of the last 30 commits differs"
}
