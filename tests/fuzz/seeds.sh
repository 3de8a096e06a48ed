# seeds.sh - sourced by replay.sh and run.sh: fuzz_seeds TARGET prints the
# repository paths (beside tests/fuzz/corpus/TARGET) that seed the target.
fuzz_seeds() {
	case "$1" in
	case) echo kb/cases tests/fixtures/cases/odd kb/templates ;;
	notes) echo tests/fixtures/notes tests/fixtures/import ;;
	tokenizer) echo kb/cases ;;
	lists) echo kb/synonyms.txt kb/abbreviations.txt ;;
	*) ;;
	esac
}
