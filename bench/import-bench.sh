#!/bin/sh
# import-bench.sh - time `kb import notes` of N generated notes into the
# generated KB of bench/mkkb.sh (with de-duplication against its cases):
# wall time, records/s, peak RSS, the counts, commits made, and the objects
# written (loose vs packed, `git count-objects -v`).  The KB is reset to its
# tag bench-base afterwards and the packs the import wrote are removed.
# With "empty" the same notes go into a new empty KB instead: the pipeline,
# packing and commit without the cost of similar-case lookups in a large
# index (the KB is removed afterwards).
# usage: import-bench.sh KB-BIN BENCH-DIR N [empty]    (BENCH-DIR from mkkb.sh)
set -eu
kb=$1 dir=$2 n=$3 mode=${4:-}
repo=$dir/kb
notes=$dir/import-notes-$n.txt

# Notes: one in ten is a rewording of an existing case (its title and the
# first sentence of its symptom, with a date in front), the rest are new
# faults built from word pools, English and Chinese; fixed seed.
if [ ! -f "$notes" ]; then
	echo "bench: generating $n notes into $notes"
	(cd "$repo/cases" && find . -name '*.md' | sed 's|^\./||' | LC_ALL=C sort) |
	awk -v n="$n" -v cases="$repo/cases" '
	BEGIN {
		srand(42)
		ne = split("pump fan chiller boiler compressor valve conveyor motor gearbox " \
			   "elevator transformer breaker cooling-tower air-handler", equip, " ")
		nf = split("tripped on overload|bearing noise and vibration|high head pressure alarm|" \
			   "low flow after restart|seal leaking at the shaft|belt slipping under load|" \
			   "overheating at full speed|would not start, contactor chatter|" \
			   "intermittent fault code E%d|pressure swings every few minutes", fault, "|")
		na = split("reset the breaker and checked insulation|replaced the bearing|" \
			   "cleaned the condenser coil|tightened the terminals|replaced the mechanical seal|" \
			   "re-tensioned the belt|adjusted the set point|replaced the contactor|" \
			   "flushed the strainer|updated the controller firmware", act, "|")
		nz = split("水泵|风机|冷水机组|锅炉|空压机|阀门|输送机|电机|电梯|变压器", zeq, "|")
		nzf = split("过载跳闸|轴承异响振动大|高压报警|重启后流量低|轴封漏水|皮带打滑|" \
			    "满载过热|无法启动接触器抖动|间歇报故障代码|压力周期波动", zf, "|")
		nza = split("复位断路器并测绝缘|更换轴承|清洗冷凝器|紧固接线端子|更换机械密封|" \
			    "重新张紧皮带|调整设定值|更换接触器|清洗过滤器|升级控制器程序", za, "|")
	}
	{ file[NR] = $0 }
	END {
		for (i = 1; i <= n; i++) {
			d = sprintf("2025-%02d-%02d", i % 12 + 1, i % 28 + 1)
			if (i % 10 == 0 && NR > 0) {
				f = cases "/" file[int(rand() * NR) + 1]
				title = ""; sym = ""; insym = 0
				while ((getline line < f) > 0) {
					if (line ~ /^title: /) title = substr(line, 8)
					else if (line ~ /^## (Symptom|故障现象)/) insym = 1
					else if (insym && line != "") { sym = line; break }
				}
				close(f)
				printf "%s %s. %s\n\n", d, title, sym
			} else if (i % 2) {
				e = equip[int(rand() * ne) + 1]
				printf "%s %s %s-%d %s, %s; ticket WO-%d\n\n", d, e, toupper(substr(e, 1, 1)), \
				       int(rand() * 900) + 100, sprintf(fault[int(rand() * nf) + 1], i % 97), \
				       act[int(rand() * na) + 1], i
			} else {
				printf "%s %s%d号%s，%s。工单 WO-%d\n\n", d, zeq[int(rand() * nz) + 1], \
				       int(rand() * 9) + 1, zf[int(rand() * nzf) + 1], za[int(rand() * nza) + 1], i
			}
		}
	}' > "$notes.tmp"
	mv "$notes.tmp" "$notes"
fi

objects() { git -C "$target" count-objects -v | awk '/^(count|in-pack|packs):/ { printf "%s %s ", $1, $2 }'; }

if [ "$mode" = empty ]; then
	target=$dir/import-empty
	rm -rf "$target"
	"$kb" init "$target" > /dev/null
	what="a new empty KB"
else
	target=$repo
	git -C "$repo" reset -q --hard bench-base
	git -C "$repo" clean -qfd
	ls "$repo/.git/objects/pack" > "$dir/import-packs-before.txt"
	echo "bench: building the search index of $(find "$repo/cases" -name '*.md' | wc -l) cases (not timed)"
	"$kb" --kb "$repo" search pump > /dev/null
	what="the KB of $(find "$repo/cases" -name '*.md' | wc -l) cases"
fi
head=$(git -C "$target" rev-parse HEAD)
echo "bench: objects before: $(objects)"
echo "bench: kb import notes of $n notes ($(wc -c < "$notes") bytes) into $what"
t0=$(date +%s.%N)
if [ -x /usr/bin/time ]; then
	/usr/bin/time -f "cpu_s %U %S peak_rss_kb %M" -o "$dir/import-time.txt" \
		"$kb" --kb "$target" --author "bench <bench@example.com>" import notes --no-progress \
		"$notes" > "$dir/import-out.txt" 2> "$dir/import-err.txt"
else
	"$kb" --kb "$target" --author "bench <bench@example.com>" import notes --no-progress \
		"$notes" > "$dir/import-out.txt" 2> "$dir/import-err.txt"
	echo "cpu_s ? ? peak_rss_kb ?" > "$dir/import-time.txt"
fi
t1=$(date +%s.%N)
summary=$(tail -1 "$dir/import-err.txt")
commits=$(git -C "$target" rev-list --count "$head"..HEAD)
echo "bench: objects after:  $(objects)"
read -r _ user sys _ rss < "$dir/import-time.txt"
awk -v a="$t0" -v b="$t1" -v n="$n" -v s="$summary" -v c="$commits" -v u="$user" -v y="$sys" \
    -v rss="$rss" -v w="$what" 'BEGIN {
	printf "import: %d notes into %s in %.1f s (cpu %s s user, %s s sys), %.0f records/s, " \
	       "peak RSS %s kB, %d commit(s); %s\n", n, w, b - a, u, y, n / (b - a), rss, c, s
}' | tee -a "$dir/import.txt"
if [ "$mode" = empty ]; then
	rm -rf "$target"
	exit 0
fi
# back to the generated KB, without the packs this run wrote
git -C "$repo" reset -q --hard bench-base
git -C "$repo" clean -qfd
ls "$repo/.git/objects/pack" | grep -vxF -f "$dir/import-packs-before.txt" |
	sed "s|^|$repo/.git/objects/pack/|" | xargs -r rm -f
