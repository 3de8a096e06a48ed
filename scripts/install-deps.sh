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
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
