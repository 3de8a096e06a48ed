# t_basic.sh - the dispatcher: help, version, unknown commands.

test_help_lists_commands() {
	kbrun --help
	expect_rc 0
	expect_out "usage: kb"
	expect_out "version"
}

test_version() {
	kbrun --version
	expect_rc 0
	expect_out "kb "
	kbrun version
	expect_rc 0
	expect_out "sqlite 3."
}

test_unknown_command_is_usage_error() {
	kbrun frobnicate
	expect_rc 2
	expect_err "'frobnicate' is not a kb command"
}

test_no_command_is_usage_error() {
	kbrun
	expect_rc 2
}

all_commands="init new add edit show list log validate search similar reindex version"

test_every_command_has_help() {
	for c in $all_commands; do
		kbrun "$c" --help
		expect_rc 0
		expect_out "usage: kb $c"
	done
}

test_every_command_rejects_unknown_options() {
	make_kb kb
	for c in init new add edit show list log validate search similar reindex; do
		kbrun --kb kb "$c" --no-such-option x
		[ "$RC" -eq 2 ] || fail "kb $c --no-such-option: exit $RC"
	done
}

test_outside_any_kb() {
	for c in "list" "show CHL-0001" "search chiller" "validate" "reindex"; do
		# shellcheck disable=SC2086
		kbrun $c
		expect_rc 2
		one_line_err
	done
}

test_global_option_needs_value() {
	kbrun --kb
	expect_rc 2
	expect_err "'--kb' needs a value"
}
