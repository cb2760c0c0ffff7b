#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# The man pages install and render: `meson install --destdir` into a temporary directory puts
# each page of docs/man under share/man/manN, and `man --warnings -l` formats each one without a
# warning at 80 columns. Usage: test_man.sh BUILD_DIR MAN_SOURCE_DIR. Exits 77 (skip) when man(1)
# is missing, after checking the install.
set -u
build=$1
mandir=$2
passed=0
failed=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }

if meson install -C "$build" --no-rebuild --quiet --destdir "$tmp/root" >"$tmp/install.log" 2>&1
then
	ok "meson install --destdir"
else
	cat "$tmp/install.log"
	bad "meson install --destdir"
fi
for page in "$mandir"/*.[0-9]; do
	name=$(basename "$page")
	sec=${name##*.}
	# fb-virtiofsd.1 installs only when its daemon is built (libcap-ng, libseccomp).
	if [ "$name" = fb-virtiofsd.1 ] && [ ! -x "$build/daemons/fb-virtiofsd" ]; then
		continue
	fi
	if [ -n "$(find "$tmp/root" -path "*/share/man/man$sec/$name" -type f)" ]; then
		ok "installed: share/man/man$sec/$name"
	else
		bad "installed: share/man/man$sec/$name"
	fi
done

if ! command -v man >/dev/null 2>&1; then
	echo "  skip: man(1) is not installed (apt-get install man-db): pages not rendered"
	echo "$passed passed, $failed failed, 1 skipped"
	[ "$failed" -eq 0 ] && exit 77
	exit 1
fi
for page in "$mandir"/*.[0-9]; do
	name=$(basename "$page")
	if MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" >"$tmp/out" 2>"$tmp/err" &&
	   [ ! -s "$tmp/err" ] && grep -q . "$tmp/out"; then
		ok "renders without warnings: $name"
	else
		sed 's/^/  /' "$tmp/err"
		bad "renders without warnings: $name"
	fi
done
echo "$passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
