# t_init.sh - `kb init`: the author of the first commit from --author,
# KB_AUTHOR or git config; refusing a second init.

test_init_uses_git_config_author() {
	kbrun init kb
	expect_rc 0
	[ -f kb/kb.conf ] && [ -f kb/templates/case.md ] || fail "starter files missing"
	[ "$(ncommits kb)" -eq 1 ] || fail "expected one commit"
	commits kb | grep -q '^Test User <test@example.com>|' || fail "author: $(commits kb)"
}

test_init_author_option_wins() {
	export KB_AUTHOR="Env Person <env@example.com>"
	kbrun --author "Li Wei <li.wei@example.com>" init kb
	expect_rc 0
	commits kb | grep -q '^Li Wei <li.wei@example.com>|' || fail "author: $(commits kb)"
}

test_init_kb_author_env() {
	KB_AUTHOR="Env Person <env@example.com>" kbrun init kb
	expect_rc 0
	commits kb | grep -q '^Env Person <env@example.com>|' || fail "author: $(commits kb)"
}

test_init_twice_is_refused() {
	make_kb kb
	before=$(kb_state kb)
	kbrun init kb
	expect_rc 2
	one_line_err
	same_state kb "$before"
}

test_init_without_any_author_fails() {
	rm -f .gitconfig
	kbrun init kb
	expect_rc 2
	expect_err "author"
}

test_init_help() {
	kbrun init --help
	expect_rc 0
	expect_out "usage: kb init"
	kbrun init --bogus
	expect_rc 2
}

test_init_git_author_env() {
	GIT_AUTHOR_NAME="Chen Jing" GIT_AUTHOR_EMAIL="chen.jing@example.com" kbrun init kb
	expect_rc 0
	commits kb | grep -q '^Chen Jing <chen.jing@example.com>|' || fail "author: $(commits kb)"
}
