# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# Sourced by the guest's /init: reporting and checks for the scenarios in /vmtest/*.sh.
VT_FAILS=0

vt_begin() { echo "VMTEST begin $1"; }
vt_ok() { echo "VMTEST ok $1"; }
vt_fail() {
	VT_FAILS=$((VT_FAILS + 1))
	echo "VMTEST fail $1 $(echo "$2" | tr '\n' ' ' | cut -c1-400)"
}
# fd 9 is the console (saved by /init), so data reaches the host from inside vt_run too.
vt_data() { echo "VMTEST data $*" >&9; }

# vt_run NAME FUNCTION: run FUNCTION in a subshell with set -e; ok, or fail with the last lines
# it printed (die and expect_* print what went wrong).
vt_run() {
	vt_begin "$1"
	if (set -e; "$2") </dev/null >/tmp/vt.out 2>&1; then
		vt_ok "$1"
	else
		vt_fail "$1" "$(tail -n 4 /tmp/vt.out)"
	fi
}

# vt_timed NAME FUNCTION: vt_run, and the guest's own time for it (centiseconds of
# /proc/uptime) as "VMTEST data time_NAME SECONDS".
vt_timed() {
	local t0 t1
	t0=$(cut -d' ' -f1 /proc/uptime)
	vt_run "$1" "$2"
	t1=$(cut -d' ' -f1 /proc/uptime)
	t0=${t0%.*}${t0#*.} t1=${t1%.*}${t1#*.}
	t1=$((t1 - t0))
	vt_data "time_$1" "$((t1 / 100)).$(printf %02d $((t1 % 100)))"
}

die() { echo "$*" >&2; exit 1; }
# expect_eq ACTUAL EXPECTED WHAT
expect_eq() { [ "$1" = "$2" ] || die "$3: got '$1', expected '$2'"; }
# must_fail WHAT COMMAND...: COMMAND has to fail.
must_fail() {
	local what=$1
	shift
	if "$@" 2>/dev/null; then die "$what: succeeded, should have failed"; fi
}
# as_user COMMAND: run a shell command as fbuser (uid/gid 1000).
as_user() { su -s /bin/sh fbuser -c "$1"; }

# make_tree DIR: 100 directories of 2 files and a symlink below DIR (411 entries with DIR)
make_tree() {
	mkdir "$1"
	cd "$1"
	for a in 0 1 2 3 4 5 6 7 8 9; do
		for b in 0 1 2 3 4 5 6 7 8 9; do
			mkdir -p $a/$b
			echo x >$a/$b/f1
			echo y >$a/$b/f2
			ln -s f1 $a/$b/l
		done
	done
	expect_eq "$(find . | wc -l)" 411 "tree entries"
}

# vt_finish [reboot|poweroff-now|reboot-now]: report and power off (default: sync and unmount
# first). The -now forms skip the unmount, as a crashing or rebooting guest would.
vt_finish() {
	cd /
	case "${1:-poweroff}" in
	poweroff)
		sync
		umount $MNT 2>/tmp/umount.err || vt_fail umount "$(cat /tmp/umount.err)"
		echo "VMTEST done $VT_FAILS"
		poweroff -f ;;
	reboot-now)
		echo "VMTEST done $VT_FAILS"
		reboot -f ;;
	poweroff-now)
		echo "VMTEST done $VT_FAILS"
		poweroff -f ;;
	esac
	sleep 30
}
