# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# Shared by the scripts: installing what is missing, and building one build directory.
# Sourced, not run.

FB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages the project needs, and why (the README's dependency table says the same):
#   meson ninja-build gcc pkg-config   the build
#   clang libclang-rt-14-dev           libFuzzer targets and the sanitizer runtime for clang
#   liburing-dev                       FUSE over io_uring
#   fuse3                              fusermount3, for mounts by non-root users
#   libfuse3-dev                       libfuse's example daemons, built only by bench/ to compare
#   attr acl                           getfattr/setfacl used by the e2e tests
#   libcap-ng-dev libseccomp-dev       fb-virtiofsd's sandbox: capabilities and seccomp
#   abigail-tools                      abidw/abidiff: the ABI check of scripts/abi
#   man-db                             man: the man-page test renders every page with --warnings
FB_PACKAGES=(meson ninja-build gcc pkg-config clang libclang-rt-14-dev liburing-dev fuse3
	     libfuse3-dev attr acl libcap-ng-dev libseccomp-dev abigail-tools
	     man-db)

fb_log() { printf '== %s\n' "$*" >&2; }

# apt-get "$@", waiting for another apt or dpkg to finish instead of failing on its lock: dpkg's
# lock through DPkg::Lock::Timeout; the lists lock of 'apt-get update' is not covered by that
# option in Debian 12's apt, so retry (up to 15 minutes) while the error names a lock.
fb_apt() {
	local try out
	for try in $(seq 1 180); do
		if out=$(DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 "$@" 2>&1)
		then
			printf '%s\n' "$out" | tail -n 3 >&2
			return 0
		fi
		if ! grep -qiE 'could not get lock|unable to acquire|lock.*held' <<<"$out"; then
			printf '%s\n' "$out" >&2
			return 1
		fi
		[ "$try" = 1 ] && fb_log "apt is busy (another apt or dpkg runs); waiting"
		sleep 5
	done
	printf '%s\n' "$out" >&2
	return 1
}

# 'apt-get update', once per run of a script.
fb_apt_updated=0
fb_apt_update() {
	[ $fb_apt_updated = 1 ] && return 0
	fb_apt update -qq && fb_apt_updated=1
}

# fb_ensure_packages [--no-install-recommends] PKG...: install the packages that are missing
# (apt-get update first, once). The option is handed to apt-get install.
fb_ensure_packages() {
	local opts=() missing=() p
	if [ "${1:-}" = --no-install-recommends ]; then
		opts+=("$1")
		shift
	fi
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing Debian packages: ${missing[*]} (run as root or install them)" >&2
		return 1
	fi
	fb_log "installing ${missing[*]}"
	fb_apt_update || return 1
	fb_apt install -y -qq "${opts[@]}" "${missing[@]}"
}

# fb_build DIR [meson setup options...]: configure DIR once, then build it.
fb_build() {
	local dir=$1
	shift
	if [ ! -f "$FB_TOP/$dir/build.ninja" ]; then
		meson setup "$FB_TOP/$dir" "$FB_TOP" "$@" >&2 || return 1
	fi
	ninja -C "$FB_TOP/$dir" >&2
}
