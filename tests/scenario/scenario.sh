#!/usr/bin/env bash
# scenario.sh - three clones of one KB, served by `git daemon` on 127.0.0.1,
# run N random operations (new, edit of a random section, merge A B, used,
# sync) from a fixed seed; then every clone syncs until all agree, and the
# result is checked:
#   1. every case created by any clone is present in all clones;
#   2. every conflict the operations made (two clones editing the same
#      section of a case without having seen each other's edit, found from
#      the git history) was surfaced by `kb conflicts` in some clone;
#   3. nothing was lost: each edit that no later edit replaced is still in
#      the case file;
#   4. all clones and the server have the same HEAD tree, nothing uncommitted.
# Prints one line per expected conflict and the figures (ops, syncs,
# conflicts, merges, time).  Exit 0 when every check holds, 1 otherwise,
# 2 on bad usage, 77 when kb has no sync command.
#
# usage: scenario.sh KB-BINARY [--ops N] [--seed S] [--dir DIR] [--quiet]
#   --dir DIR   work there (kept afterwards) instead of a temporary directory
set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../.." && pwd)
KB=${1:?usage: scenario.sh KB-BINARY [--ops N] [--seed S] [--dir DIR] [--quiet]}
shift
case "$KB" in /*) ;; *) KB="$PWD/$KB" ;; esac
OPS=500 SEED=1 WORK= QUIET=
while [ $# -gt 0 ]; do
	case "$1" in
	--ops) OPS=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--dir) WORK=$2; shift 2 ;;
	--quiet) QUIET=1; shift ;;
	*) echo "scenario: unknown option '$1'" >&2; exit 2 ;;
	esac
done
case "$OPS$SEED" in *[!0-9]*) echo "scenario: --ops and --seed take numbers" >&2; exit 2 ;; esac
if ! "$KB" sync --help >/dev/null 2>&1; then
	echo "scenario: '$KB' has no sync command" >&2
	exit 77
fi
# Until `kb conflicts` exists (branch h/merge), the conflicted cases are read
# from the `conflicts:` front-matter key kb sync writes; `kb merge` is then
# refused as an unknown command and counted as refused.
HAVE_CONFLICTS=
"$KB" conflicts --help >/dev/null 2>&1 && HAVE_CONFLICTS=1

keep=1
if [ -z "$WORK" ]; then
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/kb-scenario.XXXXXX")
	keep=
fi
mkdir -p "$WORK" && cd "$WORK" || exit 2
WORK=$PWD
export GIT_CONFIG_NOSYSTEM=1 HOME="$WORK" NO_COLOR=1 KB_NO_GAPS_LOG=1 GIT_TERMINAL_PROMPT=0
unset KB_DIR KB_AUTHOR GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
git config --global user.name "Scenario Seed"
git config --global user.email "seed@example.com"
git config --global init.defaultBranch main
SERVER_LOGS="$WORK/server-logs"
# shellcheck source=../cli/servers.sh
source "$srcdir/tests/cli/servers.sh"

LOG="$WORK/scenario.log"
: >"$LOG"
say() { [ -n "$QUIET" ] || echo "$*"; echo "$*" >>"$LOG"; }
log() { echo "$*" >>"$LOG"; }
die() { echo "scenario: $*" >&2; echo "FATAL: $*" >>"$LOG"; echo "scenario: log in $LOG" >&2; exit 1; }

# ---- a deterministic random number generator (64-bit LCG, high bits) -------
RNG=$(( SEED * 2862933555777941757 + 3037000493 ))
R=0
rand() { # rand N: R = a number in [0, N)
	RNG=$(( RNG * 6364136223846793005 + 1442695040888963407 ))
	R=$(( ((RNG >> 33) & 0x7fffffff) % $1 ))
}

CLONES=(c1 c2 c3)
SECTIONS=(Symptom Environment Cause Resolution)

# kbx CLONE ARGS...: run kb in CLONE as that clone's technician; output in
# $OUT/$ERR, status in $RC.  An exit of 3 (internal error; for sync also a
# network failure) or more (a crash) stops the scenario.
kbx() {
	local c="$1"; shift
	OUT=$(KB_AUTHOR="Tech $c <$c@example.com>" "$KB" --kb "$WORK/$c" "$@" 2>"$WORK/.err")
	RC=$?
	ERR=$(cat "$WORK/.err")
	log "  $c: kb $* -> $RC${ERR:+ ($(echo "$ERR" | head -3 | tr '\n' ' '))}"
	[ "$RC" -lt 3 ] || die "kb $* in $c exited $RC: $ERR"
}

case_file() { # case_file FILE ID TITLE CLONE: a new draft case with four sections
	cat >"$1" <<EOF
---
id: $2
title: $3
equipment: pump
status: draft
author: Tech $4 <$4@example.com>
created: 2024-05-12
---

## Symptom

$2 symptom as first written.

## Environment

$2 environment as first written.

## Cause

$2 cause as first written.

## Resolution

$2 resolution as first written.
EOF
}

# ---- the seed KB on the server, and three clones ---------------------------
"$KB" init seed >/dev/null 2>&1 || die "kb init failed"
for i in 1 2 3 4 5 6; do
	case_file "seed/cases/SEED-000$i.md" "SEED-000$i" "Seed case $i" seed
done
git -C seed add cases && git -C seed commit -qm "Add seed cases" || die "seed commit"
mkdir -p srv && bare_repo srv/kb.git && git -C seed push -q "$WORK/srv/kb.git" main || die "seed push"
start_git_daemon srv || die "git daemon did not start"
for c in "${CLONES[@]}"; do
	git clone -q "$GIT_URL/kb.git" "$c" || die "git clone $GIT_URL/kb.git"
done
say "scenario: $OPS operations, seed $SEED, 3 clones of $GIT_URL/kb.git, work in $WORK"
[ -n "$HAVE_CONFLICTS" ] || say "scenario: no 'kb conflicts' in this kb: conflicted cases read from the 'conflicts:' key"

# ---- state ------------------------------------------------------------------
declare -A NEXTID=([c1]=0 [c2]=0 [c3]=0)
declare -A SURFACED=()      # "ID/section" -> first op at which `kb conflicts` listed it
declare -A LISTED=()        # "clone ID/section" -> 1 when listed by the clone's last `kb conflicts`
CREATED=()                  # ids of cases created by `kb new`
EVENTS="$WORK/edits.tsv"    # case, section, clone, commit, op, text of each edit
: >"$EVENTS"
n_new=0 n_edit=0 n_used=0 n_merge=0 n_sync=0
f_new=0 f_edit=0 f_used=0 f_merge=0 f_sync=0
sync_time=0

ids_of() { # ids_of CLONE: IDS = the case ids in CLONE's work tree
	IDS=()
	local f
	while IFS= read -r f; do
		f=${f##*/}; IDS+=("${f%.md}")
	done < <(find "$WORK/$1/cases" -name '*.md' | LC_ALL=C sort)
}

# conflicts_of CLONE OP: record what `kb conflicts --json` lists in CLONE, as
# "ID/name" (name: a key, or a section kind such as "cause").  Until kb has
# that command, the `conflicts:` front-matter key is read instead.
conflicts_of() {
	local c=$1 k
	if [ -n "$HAVE_CONFLICTS" ]; then
		kbx "$c" conflicts --json
		[ "$RC" -eq 0 ] || die "kb conflicts in $c exited $RC: $ERR"
	else
		OUT=$(cd "$WORK/$c/cases" && for f in $(grep -rl --include='*.md' '^conflicts:' .); do
			printf '{"id": "%s", "conflicts": [%s]}\n' "$(basename "$f" .md)" \
				"$(sed -n 's/^conflicts: *\[\(.*\)\]$/\1/p' "$f" | sed 's/\([^,]*\)/"\1"/g; s/" */"/g')"
		done | paste -sd, | sed 's/^/[/; s/$/]/')
	fi
	for k in "${!LISTED[@]}"; do
		[ "${k%% *}" != "$c" ] || unset "LISTED[$k]"
	done
	for k in $(printf '%s' "$OUT" | python3 -c 'import json, sys
for c in json.load(sys.stdin):
    for n in c["conflicts"]:
        print("%s/%s" % (c["id"], n.replace(" ", "_")))'); do
		[ -n "${SURFACED[$k]:-}" ] || SURFACED[$k]=$2
		LISTED["$c $k"]=1
	done
}

now_ms() { date +%s%3N; }

op_new() {
	local c=$1 n=$2 id
	NEXTID[$c]=$(( ${NEXTID[$c]} + 1 ))
	printf -v id '%s-%04d' "${c^^}" "${NEXTID[$c]}"
	case_file "$WORK/.new.md" "$id" "Case $id written at op $n" "$c"
	kbx "$c" new --from "$WORK/.new.md"
	if [ "$RC" -eq 0 ]; then
		CREATED+=("$id"); n_new=$((n_new + 1))
	else
		f_new=$((f_new + 1))
	fi
}

op_edit() {
	local c=$1 n=$2 id sect text
	# Half the edits go to the six seed cases every clone has, so that clones
	# meet on the same sections often enough to make conflicts.
	rand 2
	if [ "$R" -eq 0 ]; then
		rand 6; id="SEED-000$((R + 1))"
	else
		ids_of "$c"; rand ${#IDS[@]}; id=${IDS[$R]}
	fi
	rand ${#SECTIONS[@]}; sect=${SECTIONS[$R]}
	text="Edit at op $n by $c of $sect in $id."
	EDITOR="python3 $srcdir/tests/cli/edit-section.py" KB_SECTION="$sect" KB_SECTION_TEXT="$text" \
		kbx "$c" edit "$id"
	if [ "$RC" -eq 0 ]; then
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$sect" "$c" "$(git -C "$WORK/$c" rev-parse HEAD)" "$n" "$text" >>"$EVENTS"
		n_edit=$((n_edit + 1))
	else
		f_edit=$((f_edit + 1))
	fi
}

op_used() {
	local c=$1 n=$2 id
	ids_of "$c"; rand ${#IDS[@]}; id=${IDS[$R]}
	kbx "$c" used "$id" --ticket "WO-$n"
	if [ "$RC" -eq 0 ]; then n_used=$((n_used + 1)); else f_used=$((f_used + 1)); fi
}

op_merge() {
	local c=$1 a b
	ids_of "$c"; rand ${#IDS[@]}; a=${IDS[$R]}
	rand ${#IDS[@]}; b=${IDS[$R]}
	[ "$a" != "$b" ] || { rand ${#IDS[@]}; b=${IDS[$R]}; }
	[ "$a" != "$b" ] || return 0
	kbx "$c" merge "$a" "$b"
	if [ "$RC" -eq 0 ]; then n_merge=$((n_merge + 1)); else f_merge=$((f_merge + 1)); fi
}

op_sync() {
	local c=$1 n=$2 t0
	t0=$(now_ms)
	kbx "$c" sync
	sync_time=$((sync_time + $(now_ms) - t0))
	if [ "$RC" -eq 0 ]; then n_sync=$((n_sync + 1)); else f_sync=$((f_sync + 1)); fi
	conflicts_of "$c" "$n"
}

# ---- the random operations ---------------------------------------------------
start=$(now_ms)
for n in $(seq 1 "$OPS"); do
	rand 3; c=${CLONES[$R]}
	rand 100
	if [ "$R" -lt 15 ]; then kind=new
	elif [ "$R" -lt 60 ]; then kind=edit
	elif [ "$R" -lt 70 ]; then kind=used
	elif [ "$R" -lt 77 ]; then kind=merge
	else kind=sync
	fi
	log "op $n: $c $kind"
	"op_$kind" "$c" "$n"
	[ -n "$QUIET" ] || [ $((n % 50)) -ne 0 ] || echo "scenario: $n operations done"
done

# ---- quiescence: every clone syncs until all agree (at most 5 rounds) ----------
rounds=0 agreed=
want=
for rounds in 1 2 3 4 5; do
	for c in "${CLONES[@]}"; do op_sync "$c" "final"; done
	want=$(git -C srv/kb.git rev-parse 'main^{tree}')
	agreed=1
	for c in "${CLONES[@]}"; do
		[ "$(git -C "$c" rev-parse 'HEAD^{tree}')" = "$want" ] || agreed=
		[ -z "$(git -C "$c" status --porcelain)" ] || agreed=
	done
	[ -z "$agreed" ] || break
done
elapsed=$(( $(now_ms) - start ))

# ---- checks ----------------------------------------------------------------------
bad=0
check() { say "FAIL: $*"; bad=$((bad + 1)); }

[ -n "$agreed" ] || check "clones and server still differ after $rounds rounds of sync"
# One operation at a time against a server that is always up: no sync may fail.
[ "$f_sync" -eq 0 ] || check "$f_sync syncs failed (see 'sync ->' in $LOG)"
for c in "${CLONES[@]}"; do
	for id in "${CREATED[@]}"; do
		[ -n "$(find "$c/cases" -name "$id.md")" ] || check "$c lacks case $id"
	done
done

# Every edit commit must still be in the history: the analysis below reads
# concurrency from ancestry.
head=$(git -C c1 rev-parse HEAD)
while IFS=$'\t' read -r id sect c commit n text; do
	git -C c1 merge-base --is-ancestor "$commit" "$head" 2>/dev/null ||
		check "the edit of op $n ($c, $id $sect) is not in the final history"
done <"$EVENTS"

# Two edits of the same case and section by different clones, neither an
# ancestor of the other, are concurrent: the sync that met them had to keep
# both and surface the case.  An edit that a later edit of the same section
# (its descendant) replaced may be gone; every other must still be there.
expected=0 missed=0
mapfile -t ev <"$EVENTS"
declare -A EXPECTED=()
for ((i = 0; i < ${#ev[@]}; i++)); do
	IFS=$'\t' read -r id sect c commit n text <<<"${ev[$i]}"
	replaced=
	for ((j = 0; j < ${#ev[@]}; j++)); do
		[ "$i" -ne "$j" ] || continue
		IFS=$'\t' read -r id2 sect2 c2 commit2 n2 text2 <<<"${ev[$j]}"
		[ "$id2" = "$id" ] && [ "$sect2" = "$sect" ] || continue
		if git -C c1 merge-base --is-ancestor "$commit" "$commit2" 2>/dev/null; then
			[ "$commit" = "$commit2" ] || replaced=1
		elif [ "$j" -gt "$i" ] && [ "$c2" != "$c" ] &&
			! git -C c1 merge-base --is-ancestor "$commit2" "$commit" 2>/dev/null; then
			expected=$((expected + 1))
			k="$id/${sect,,}"
			EXPECTED[$k]=1
			if [ -n "${SURFACED[$k]:-}" ]; then
				say "conflict: $id $sect: op $n ($c) and op $n2 ($c2), first listed at op ${SURFACED[$k]}"
			else
				say "conflict: $id $sect: op $n ($c) and op $n2 ($c2), NOT surfaced"
				missed=$((missed + 1))
			fi
		fi
	done
	[ -n "$replaced" ] || grep -qF -- "$text" $(find c1/cases -name "$id.md") ||
		check "lost: op $n ($c) wrote '$text' into $id $sect, no longer in c1's $id.md"
done
[ "$missed" -eq 0 ] || check "$missed expected conflicts were not surfaced by kb conflicts"
# Nobody resolves a conflict here, so at the end every clone still lists each.
for k in "${!EXPECTED[@]}"; do
	for c in "${CLONES[@]}"; do
		[ -n "${LISTED["$c $k"]:-}" ] || check "kb conflicts in $c no longer lists $k at the end"
	done
done

merges=$(git -C c1 rev-list --merges --count HEAD)
cases=$(find c1/cases -name '*.md' | wc -l)
say "figures: $OPS ops (seed $SEED) in $((elapsed / 1000)).$(printf '%03d' $((elapsed % 1000))) s" \
	"($((OPS > 0 ? elapsed / OPS : 0)) ms/op), $rounds final sync rounds"
say "  new $n_new (+$f_new refused), edit $n_edit (+$f_edit refused), used $n_used (+$f_used refused)," \
	"merge $n_merge (+$f_merge refused)"
say "  sync $n_sync ok, $f_sync failed, mean $(( (n_sync + f_sync) > 0 ? sync_time / (n_sync + f_sync) : 0 )) ms;" \
	"git merge commits $merges; cases $cases"
say "  conflicts: $expected pairs of concurrent edits of one section (${#EXPECTED[@]} case sections)," \
	"$missed not surfaced; kb conflicts listed ${#SURFACED[@]} case sections or keys in all"
stop_servers
if [ "$bad" -gt 0 ]; then
	say "scenario: FAILED ($bad checks); log in $LOG"
	exit 1
fi
say "scenario: ok"
[ -n "$keep" ] || { cd / && rm -rf "$WORK"; }
exit 0
