#!/bin/sh
# import-threshold.sh - the score distribution behind kb import's duplicate
# threshold: best similar-case scores of true near-duplicates (notes written
# from each sample case: its title without the last word, the first sentence
# of its symptom and of its resolution, English lower-cased) against those of
# unrelated notes (the 400 raw work orders of maint-notes: mining equipment,
# not the sample KB's building plant), on a KB of the sample cases, with
# `kb import notes --dry-run --threshold 0.01` (every best match reported).
# Prints percentiles per set and, per candidate threshold, how many
# near-duplicates are linked (recall) and how many unrelated notes are
# wrongly linked.  Nothing is written to the repository.
# usage: eval/import-threshold.sh KB-BIN SAMPLE-KB-DIR [MAINT-NOTES.jsonl]
set -eu
kb=$1 sample=$2 maint=${3:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/kb-threshold.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME="$work"
git config --global user.name eval
git config --global user.email eval@example.com

"$kb" init "$work/kb" > /dev/null
cp "$sample/kb.conf" "$sample/abbreviations.txt" "$sample/synonyms.txt" "$work/kb/" 2>/dev/null || true
"$kb" --kb "$work/kb" add "$sample/cases" > /dev/null 2>&1

# near-duplicates: one note per case, "ID<TAB>note" in ids.txt
for f in $(find "$sample/cases" -name '*.md' | LC_ALL=C sort); do
	awk '
	function first(s) { sub(/(\. |。|！|；|!|;).*/, "", s); sub(/\.$/, "", s); return s }
	/^id: / { id = $2 }
	/^title: / { t = substr($0, 8); sub(/[ ]*[^ ]+$/, "", t); if (t == "") t = substr($0, 8) }
	/^## / { sec = $0; next }
	sec ~ /Symptom|故障现象/ && $0 != "" && !sym { sym = first($0) }
	sec ~ /Resolution|处理方法|解决方案/ && $0 != "" && !res { r = $0; sub(/^[0-9]+\. /, "", r); res = first(r) }
	END {
		n = t ". " sym ". " res
		if (n ~ /^[ -~]*$/) n = tolower(n)
		printf "%s\t%s\n", id, n
	}' "$f"
done > "$work/ids.txt"
cut -f2 "$work/ids.txt" | awk '{ print; print "---" }' > "$work/dups.txt"

"$kb" --kb "$work/kb" import notes --dry-run --threshold 0.01 --no-progress "$work/dups.txt" \
	> "$work/dups.out" 2> /dev/null || true

# notes are separated by "---" lines: note k is on line 2k-1
# "would link" lines: duplicate of ID FILE:LINE (would link X, score S)
awk -v ids="$work/ids.txt" '
BEGIN { while ((getline l < ids) > 0) { split(l, p, "\t"); want[++n] = p[1] } }
/^duplicate of / {
	split($4, w, ":"); k = (w[2] + 1) / 2
	s = $NF; sub(/\)$/, "", s)
	print (($3 == want[k]) ? "dup-right" : "dup-wrong"), s
}
/^would create / { print "dup-none", 0 }' "$work/dups.out" > "$work/scores.txt"

if [ -n "$maint" ] && [ -f "$maint" ]; then
	sed -n 's/.*"raw": "\([^"]*\)".*/\1/p' "$maint" | awk '{ print; print "---" }' > "$work/unrelated.txt"
	"$kb" --kb "$work/kb" import notes --dry-run --threshold 0.01 --no-progress "$work/unrelated.txt" \
		> "$work/unrelated.out" 2> /dev/null || true
	awk '/^duplicate of / { s = $NF; sub(/\)$/, "", s); print "unrelated", s }
	     /^would create / { print "unrelated", 0 }' "$work/unrelated.out" >> "$work/scores.txt"
fi

sort -k1,1 -k2,2g "$work/scores.txt" | awk '
{ v[$1, ++c[$1]] = $2; all[NR] = $0 }
function pct(set, p,   i) { i = int(p * (c[set] - 1) + 1.5); if (i > c[set]) i = c[set]; return v[set, i] }
END {
	printf "%-10s %5s %6s %6s %6s %6s %6s\n", "set", "n", "min", "p10", "p50", "p90", "max"
	for (s in c)
		printf "%-10s %5d %6.2f %6.2f %6.2f %6.2f %6.2f\n", s, c[s], v[s, 1], pct(s, 0.1), pct(s, 0.5),
		       pct(s, 0.9), v[s, c[s]]
	printf "\nthreshold  near-dups linked to the right case   unrelated linked\n"
	for (t = 0.30; t <= 0.801; t += 0.05) {
		r = 0; u = 0
		for (i = 1; i <= c["dup-right"]; i++) if (v["dup-right", i] >= t) r++
		for (i = 1; i <= c["unrelated"]; i++) if (v["unrelated", i] >= t) u++
		nd = c["dup-right"] + c["dup-wrong"] + c["dup-none"]
		printf "%9.2f  %5d of %d (%5.1f%%)                   %5d of %d (%5.1f%%)\n", t, r, nd,
		       nd ? 100 * r / nd : 0, u, c["unrelated"], c["unrelated"] ? 100 * u / c["unrelated"] : 0
	}
}'
