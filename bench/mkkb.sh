#!/bin/sh
# mkkb.sh - build the synthetic KB of N cases for the benchmark, or reuse the
# cached one: kb-gen writes the case files and query lists, the sample KB's
# config files are copied, and git makes one commit (timed), tagged bench-base.
# usage: mkkb.sh KB-GEN SAMPLE-CASES-DIR N SEED OUT-DIR
set -eu
gen=$1 sample=$2 n=$3 seed=$4 dir=$5
if [ -f "$dir/.done" ]; then
	echo "bench: reusing $dir"
	exit 0
fi
echo "bench: generating $n cases (seed $seed) into $dir"
rm -rf "$dir"
mkdir -p "$dir"
"$gen" "$sample" "$n" "$seed" "$dir/kb" "$dir/queries" > "$dir/gen.txt"
conf=$(dirname "$sample")
for f in kb.conf synonyms.txt abbreviations.txt templates/case.md; do
	if [ -f "$conf/$f" ]; then
		mkdir -p "$dir/kb/$(dirname "$f")"
		cp "$conf/$f" "$dir/kb/$f"
	fi
done
[ -f "$dir/kb/kb.conf" ] || printf '[kb]\n\tname = bench\n' > "$dir/kb/kb.conf"
cd "$dir/kb"
t0=$(date +%s.%N)
git init -q .
git add -A
git -c user.name=bench -c user.email=bench@example.com commit -q -m "bench: $n generated cases"
t1=$(date +%s.%N)
git tag bench-base
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "git_add_commit_s %.2f\n", b - a }' >> "$dir/gen.txt"
touch "$dir/.done"
