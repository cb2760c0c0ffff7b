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
FB_PACKAGES=(meson ninja-build gcc pkg-config clang libclang-rt-14-dev liburing-dev fuse3
	     libfuse3-dev attr acl libcap-ng-dev libseccomp-dev)

fb_log() { printf '== %s\n' "$*" >&2; }

# Install the packages of "$@" that are missing (apt-get update first, once).
fb_ensure_packages() {
	local missing=() p
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
	apt-get update -qq >&2 || return 1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
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
