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
