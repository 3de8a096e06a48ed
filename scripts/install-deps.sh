#!/bin/sh
# Install the Debian packages kb needs to build, test, benchmark and demo.
# Idempotent: does nothing when every package is already installed.
# Uses sudo when not run as root.
set -eu

PACKAGES="
build-essential
pkg-config
clang
git
libsqlite3-dev
libgit2-dev
libcmark-dev
libyaml-dev
libutf8proc-dev
libstemmer-dev
libcurl4-openssl-dev
libjansson-dev
libcsv-dev
libgmime-3.0-dev
libcmocka-dev
sqlite3
ripgrep
valgrind
python3
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive

# Optional: headless Chromium renders `kb audit report --html` in the end-to-end
# tests.  A machine that cannot install it still builds and tests (that check
# is skipped with a message), so its failure is not fatal.
optional="chromium fonts-noto-cjk"
want=""
for p in $optional; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || want="$want $p"
done

[ -z "$missing" ] && [ -z "$want" ] && exit 0

if ! $SUDO apt-get update -qq; then
	# Offline: fine as long as nothing required is missing.
	[ -n "$missing" ] && exit 1
	exit 0
fi
if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing" >&2
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ -n "$want" ]; then
	echo "install-deps: installing (optional):$want" >&2
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $want >/dev/null ||
		echo "install-deps: could not install$want; the HTML report's browser check will be skipped" >&2
fi
