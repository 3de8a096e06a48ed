#!/usr/bin/env bash
# sync-bench.sh - time `kb sync` of 1,000 new remote cases into a clone of the
# N-case benchmark KB (index update included), over git:// on 127.0.0.1, as a
# median of RUNS runs, against plain `git pull --ff-only` of another 1,000
# cases in the same run.  Figures go to stdout (a table) and OUT/sync.txt.
#
# usage: sync-bench.sh KB KB-GEN SAMPLE-CASES-DIR N SEED OUT RUNS
#
# Setup (untimed, kept in OUT/sync-N-sSEED/ and reused): the generated KB
# (bench/mkkb.sh, shared with `make bench`) cloned bare as the server's
# repository; 2 x RUNS batches of 1,000 new cases (kb-gen with other seeds,
# ids suffixed so they are new), each committed on top of the base commit as
# refs/batches/bI of the server; a clone with its full index.  Each run points
# the server's main at a fresh batch, resets the clone to the base commit
# (and its index, with an incremental `kb reindex`), then times the sync.
set -eu
kb=$1 gen=$2 sample=$3 n=$4 seed=$5 out=$6 runs=$7
here=$(cd "$(dirname "$0")" && pwd)
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
mkdir -p "$out"
kb=$(abs "$kb") gen=$(abs "$gen") sample=$(abs "$sample") out=$(abs "$out")
base_dir="$out/kb-$n-s$seed"
d="$out/sync-$n-s$seed"
nb=$((2 * runs))

export GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1 KB_NO_GAPS_LOG=1 GIT_TERMINAL_PROMPT=0
export KB_AUTHOR="Bench Sync <bench@example.com>"
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com

"$here/mkkb.sh" "$gen" "$sample" "$n" "$seed" "$base_dir" >&2
base=$(git -C "$base_dir/kb" rev-parse bench-base)
branch=$(git -C "$base_dir/kb" symbolic-ref --short HEAD)

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.3f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

if [ ! -f "$d/.done" ] || [ "$(cat "$d/.done")" != "$base $nb" ]; then
	echo "bench: setting up the sync benchmark in $d" >&2
	rm -rf "$d"
	mkdir -p "$d"
	git clone -q --bare "$base_dir/kb" "$d/remote.git"
	git -C "$d/remote.git" config receive.denyNonFastForwards false
	for i in $(seq 1 "$nb"); do
		b="$d/batch$i"
		"$gen" "$sample" 1000 $((seed * 1000 + i)) "$b" "$b.queries" >/dev/null
		# New ids: CHL-000123 becomes CHL-000123-b3, in the file name and the front matter;
		# such an id has no number at its end, so its file is cases/<ID>.md (flat).
		python3 - "$b/cases" "b$i" <<-'EOF'
		import os, sys
		d, tag = sys.argv[1], sys.argv[2]
		for top, dirs, files in os.walk(d):
		    for f in files:
		        if not f.endswith(".md"):
		            continue
		        old = f[:-3]
		        with open(os.path.join(top, f), encoding="utf-8") as fh:
		            text = fh.read()
		        text = text.replace("\nid: %s\n" % old, "\nid: %s-%s\n" % (old, tag), 1)
		        with open(os.path.join(d, "%s-%s.md" % (old, tag)), "w", encoding="utf-8") as fh:
		            fh.write(text)
		        os.remove(os.path.join(top, f))
		EOF
		export GIT_INDEX_FILE="$d/batch.index"
		git -C "$d/remote.git" read-tree "$base"
		(cd "$b" && git --git-dir="$d/remote.git" --work-tree=. update-index --add -- cases/*.md)
		tree=$(git -C "$d/remote.git" write-tree)
		unset GIT_INDEX_FILE
		rm -f "$d/batch.index"
		c=$(git -C "$d/remote.git" commit-tree -p "$base" -m "Add 1000 cases (batch $i)" "$tree")
		git -C "$d/remote.git" update-ref "refs/batches/b$i" "$c"
		rm -rf "$b" "$b.queries"
	done
	git clone -q "$d/remote.git" "$d/clone"
	t0=$(now)
	(cd "$d/clone" && "$kb" reindex >/dev/null 2>&1)
	echo "bench: full index of the clone: $(secs "$t0" "$(now)") s" >&2
	echo "$base $nb" >"$d/.done"
fi

SERVER_LOGS="$d/server-logs"
# shellcheck source=../tests/cli/servers.sh
source "$here/../tests/cli/servers.sh"
start_git_daemon "$d"
url="$GIT_URL/remote.git"
git -C "$d/clone" remote set-url origin "$url"

# reset_run I: the server's branch at batch I, the clone (and its index) at the base.
reset_run() {
	git -C "$d/remote.git" update-ref "refs/heads/$branch" "refs/batches/b$1"
	git -C "$d/clone" reset -q --hard "$base"
	# Forget the remote (its tracking branches and kb's record of what the
	# last sync saw there, which the server's branch moving to a sibling
	# batch would otherwise make look like a force push): like a clone
	# that has the base commit and never synced.
	(cd "$d/clone" && "$kb" remote remove origin && "$kb" remote add origin "$url") >/dev/null
	(cd "$d/clone" && "$kb" reindex >/dev/null 2>&1)
}

# check_run I: the clone's HEAD has batch I's tree.
check_run() {
	[ "$(git -C "$d/clone" rev-parse 'HEAD^{tree}')" = "$(git -C "$d/remote.git" rev-parse "refs/batches/b$1^{tree}")" ] || {
		echo "bench: run with batch $1: the clone does not have the remote's tree" >&2
		exit 1
	}
}

sync_s=() idx_s=() total_s=() git_s=()
for r in $(seq 1 "$runs"); do
	# Baseline: plain git fetch + fast-forward of another 1,000 cases.
	i=$((2 * r - 1))
	reset_run "$i"
	t0=$(now)
	git -C "$d/clone" pull -q --ff-only origin "$branch"
	t1=$(now)
	check_run "$i"
	git_s+=("$(secs "$t0" "$t1")")

	i=$((2 * r))
	reset_run "$i"
	t0=$(now)
	(cd "$d/clone" && "$kb" sync >"$d/sync.out" 2>"$d/sync.err") || {
		echo "bench: kb sync failed:" >&2
		cat "$d/sync.err" >&2
		exit 1
	}
	t1=$(now)
	# Whatever index work kb sync left undone, the next command pays.
	(cd "$d/clone" && "$kb" reindex >/dev/null 2>&1)
	t2=$(now)
	check_run "$i"
	sync_s+=("$(secs "$t0" "$t1")")
	idx_s+=("$(secs "$t1" "$t2")")
	total_s+=("$(secs "$t0" "$t2")")
	echo "bench: sync run $r: git pull ${git_s[-1]} s, kb sync ${sync_s[-1]} s + reindex ${idx_s[-1]} s" >&2
done
stop_servers

m_sync=$(median "${sync_s[@]}") m_idx=$(median "${idx_s[@]}")
m_total=$(median "${total_s[@]}") m_git=$(median "${git_s[@]}")
{
	echo "sync_cases $n"
	echo "sync_new_cases 1000"
	echo "sync_runs $runs"
	echo "sync_kb_s $m_sync"
	echo "sync_reindex_after_s $m_idx"
	echo "sync_total_s $m_total"
	echo "sync_git_pull_s $m_git"
	echo "sync_kb_all ${sync_s[*]}"
	echo "sync_reindex_all ${idx_s[*]}"
	echo "sync_git_pull_all ${git_s[*]}"
} >"$d/sync.txt"
ratio=$(awk -v a="$m_total" -v b="$m_git" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
met=$(awk -v a="$m_total" 'BEGIN { print (a < 5) ? "yes" : "NO" }')
echo
echo "#### kb sync: 1,000 new remote cases into a $n-case clone (git:// on 127.0.0.1, median of $runs)"
echo
echo "| measure                              |      kb | baseline (same run)        |  ratio | target  | met |"
echo "|--------------------------------------|--------:|-----------------------------|-------:|---------|-----|"
printf '| kb sync (s)                          | %7s | git pull --ff-only %-8s |        | -       | n/a |\n' "$m_sync" "$m_git"
printf '| reindex right after (s)              | %7s |                             |        | -       | n/a |\n' "$m_idx"
printf '| sync + index update (s)              | %7s | git pull --ff-only %-8s | %5sx | < 5 s   | %-3s |\n' "$m_total" "$m_git" "$ratio" "$met"
echo
echo "runs (s): kb sync ${sync_s[*]}; reindex after ${idx_s[*]}; git pull ${git_s[*]}"
