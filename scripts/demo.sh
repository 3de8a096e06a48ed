#!/bin/sh
# demo.sh - kb's main job on the bundled sample: create a fresh knowledge base
# from kb/ in a build folder, then look up the prior cases most similar to a
# new fault description, in English and in Chinese.
# Usage: scripts/demo.sh /abs/path/to/kb DEMO_DIR
set -eu
KB="$1"
demo="$2"
src=$(cd "$(dirname "$0")/.." && pwd)

rm -rf "$demo"
# Commits need an author: use git's if set, else a demo identity.
if [ -z "${KB_AUTHOR:-}" ] && ! git config user.name >/dev/null 2>&1; then
	KB_AUTHOR="kb demo <demo@example.com>"
	export KB_AUTHOR
fi

echo "== kb init $demo"
"$KB" init "$demo"
echo "== kb add: $(find "$src/kb/cases" -name '*.md' | wc -l) sample cases from kb/cases"
"$KB" --kb "$demo" add "$src/kb/cases"
"$KB" --kb "$demo" reindex

q1="Chiller tripped on high head pressure again after restart, condenser fans not all running"
echo
echo "== kb similar \"$q1\""
"$KB" --kb "$demo" similar --limit 5 "$q1"

q2="冷水机组重启后高压报警跳机，冷凝器风扇有一台不转"
echo
echo "== kb similar \"$q2\""
"$KB" --kb "$demo" similar --limit 5 "$q2"

echo
echo "== kb search 'elevator door'"
"$KB" --kb "$demo" search --limit 3 "elevator door"
echo
echo "Demo knowledge base: $demo  (try: $KB --kb $demo list)"
