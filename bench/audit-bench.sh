#!/bin/sh
# audit-bench.sh - time `kb audit` on a KB with a long history: kb-gen writes
# N cases, kb-histgen plays C commits over them through `git fast-import`
# (cached per N, C, seed and layout), then the median of RUNS runs of: all
# audits cold (no history cache), warm, and after one new commit; and the
# baseline `git log --name-status` over the same history.
# usage: audit-bench.sh KB KB-GEN KB-HISTGEN SAMPLE-CASES N C SEED OUT-DIR [--flat|--by-prefix]
# (the layout of cases/, see bench/histgen.c; default folders of ~100 cases)
set -eu
kb=$1 gen=$2 histgen=$3 sample=$4 n=$5 c=$6 seed=$7 out=$8 layout=${9:-}
# absolute paths: the script works inside the generated KB
abs() { case $1 in /*) echo "$1" ;; */*) echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" ;; *) echo "$1" ;; esac; }
kb=$(abs "$kb") gen=$(abs "$gen") histgen=$(abs "$histgen") sample=$(abs "$sample")
mkdir -p "$out" && out=$(cd "$out" && pwd)
runs=${RUNS:-3}
dir=$out/audit-$n-$c-s$seed${layout#-}

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
now() { date +%s.%N; }

if [ ! -f "$dir/.done" ]; then
	echo "audit bench: generating $n cases, $c commits (seed $seed) into $dir"
	rm -rf "$dir"
	mkdir -p "$dir"
	"$gen" "$sample" "$n" "$seed" "$dir/gen" "$dir/queries" > /dev/null
	mkdir -p "$dir/kb"
	conf=$(dirname "$sample")
	for f in kb.conf synonyms.txt abbreviations.txt templates/case.md; do
		if [ -f "$conf/$f" ]; then
			mkdir -p "$dir/kb/$(dirname "$f")"
			cp "$conf/$f" "$dir/kb/$f"
		fi
	done
	cd "$dir/kb"
	git init -q -b main .
	git add -A
	GIT_AUTHOR_DATE='2019-01-01T00:00:00Z' GIT_COMMITTER_DATE='2019-01-01T00:00:00Z' \
		git -c user.name=bench -c user.email=bench@example.com commit -q -m "Initialise knowledge base"
	t0=$(now)
	{ "$histgen" $layout --from refs/heads/main^0 "$dir/gen/cases" "$c" "$seed" ||
		touch "$dir/histgen.failed"; } | git fast-import --quiet --depth=20
	if [ -f "$dir/histgen.failed" ] || [ "$(git rev-list --count main)" -ne $((c + 1)) ]; then
		echo "audit bench: building the history failed" >&2
		exit 1
	fi
	t1=$(now)
	git reset -q --hard main
	t2=$(now)
	echo "fast_import_s $(secs "$t0" "$t1")" > "$dir/build.txt"
	echo "checkout_s $(secs "$t1" "$t2")" >> "$dir/build.txt"
	echo "pack_bytes $(du -sb .git/objects | cut -f1)" >> "$dir/build.txt"
	git tag bench-base
	rm -rf "$dir/gen"
	touch "$dir/.done"
	cd - > /dev/null
fi
cd "$dir/kb"
git reset -q --hard bench-base
cache=$(git rev-parse --git-dir)/kb/audit-history
cases_cache=$(git rev-parse --git-dir)/kb/audit-cases
echo "audit bench: $(git rev-list --count HEAD) commits, $(find cases -name '*.md' | wc -l) cases," \
     "$(cat "$dir/build.txt" | tr '\n' ' ')"

# Run a command, appending its wall time to the list named $1 and its CPU
# time (user + system, when /usr/bin/time is there) to the list ${1}_cpu:
# on a shared machine the CPU time is the steadier figure.
timed() {
	var=$1; shift
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%e %U %S' -o "$dir/time.txt" "$@"
	else
		t0=$(now); "$@"; t1=$(now); echo "$(secs "$t0" "$t1") 0 0" > "$dir/time.txt"
	fi
	eval "$var=\"\$$var \$(cut -d' ' -f1 \"\$dir/time.txt\")\""
	eval "${var}_cpu=\"\$${var}_cpu \$(awk '{ printf \"%.2f\", \$2 + \$3 }' \"\$dir/time.txt\")\""
}

# baseline: git's own walk of the same history, page cache warm (one run first)
base="" base_cpu=""
git log --name-status --format='%H %an %ae %at' > /dev/null
for i in $(seq "$runs"); do
	timed base git log --name-status --format='%H %an %ae %at' > /dev/null
done

# one process computing every audit (risk, coverage, activity, health, gaps)
report="$kb audit report --html $dir/report.html"
each_cmd='for a in coverage health risk activity; do "$0" audit $a || exit 1; done'
cold="" warm="" one="" each="" cold_cpu="" warm_cpu="" one_cpu="" each_cpu=""
for i in $(seq "$runs"); do
	rm -f "$cache" "$cases_cache"
	timed cold $report 2> "$dir/audit.err" > /dev/null
	timed warm $report 2> /dev/null > /dev/null
	f=$(find cases -name '*.md' | sort | sed -n "${i}p")
	printf '\nBench follow-up %s.\n' "$i" >> "$f"
	git -c user.name="Bench Person" -c user.email=bench@example.com commit -q -a -m "Edit case"
	timed one $report 2> /dev/null > /dev/null
	timed each sh -c "$each_cmd" "$kb" > /dev/null 2>&1
done
git reset -q --hard bench-base
rm -f "$cache" "$cases_cache"

row() { # label, list, cpu list
	echo "| $1 | $(echo "$2" | median) | $(echo "$3" | median) |"
}
mb=$(echo "$base_cpu" | median) mc=$(echo "$cold_cpu" | median)
echo
echo "| $n cases, $c commits (median of $runs) | wall s | CPU s |"
echo "|---|---:|---:|"
row "\`git log --name-status\` (baseline)" "$base" "$base_cpu"
row "\`kb audit report --html\`, cold (full history walk, cache written)" "$cold" "$cold_cpu"
row "\`kb audit report --html\`, warm (cache reflects HEAD)" "$warm" "$warm_cpu"
row "\`kb audit report --html\` after one new commit" "$one" "$one_cpu"
row "\`kb audit coverage\`, \`health\`, \`risk\`, \`activity\` in turn, warm" "$each" "$each_cpu"
[ "$mb" != 0 ] && [ "$mb" != 0.00 ] &&
	echo "cold report CPU / git log CPU: $(awk -v a="$mc" -v b="$mb" 'BEGIN { printf "%.1f", a / b }')x"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -s "$dir/audit.err" ]; then
	echo
	echo "warnings of the last run: $(wc -l < "$dir/audit.err") lines, first: $(head -1 "$dir/audit.err")"
fi
