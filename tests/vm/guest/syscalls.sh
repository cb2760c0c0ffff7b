# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# Scenario "syscalls": the e2e POSIX suite (tests/e2e/e2e_syscalls.c, built static into the
# initramfs) run by the guest in the virtio-fs mount. One report line per failed test (with the
# lines it printed), then the suite's summary as the subtest's result.
t_syscalls() {
	[ -x /bin/e2e_syscalls ] || die "no /bin/e2e_syscalls in the initramfs"
	mkdir -p $MNT/sys
	chmod 755 $MNT/sys
	rc=0
	# virtio-fs has no notification channel: a mode the daemon changes itself reaches the
	# guest only at the attribute timeout, so the "at once" case cannot hold here.
	FB_TEST_SKIP=direct_write_owner_clears_suid_now \
		FB_TEST_DIR=$MNT/sys FB_TEST_DEFAULT_PERMISSIONS=1 e2e_syscalls >/tmp/sys.out 2>&1 || rc=$?
	detail= skipped=
	while IFS= read -r line; do
		case "$line" in
		"FAIL "*) echo "VMTEST fail syscalls.${line#FAIL } $detail" >&9; detail= ;;
		"skip "*) skipped="$skipped ${line#skip }($(echo "$detail" | sed 's/^ *skip: //' | cut -c1-60))"; detail= ;;
		"ok "*) detail= ;;
		*" passed, "*) echo "$line" ;;
		*) detail="$detail $(echo "$line" | cut -c1-200)" ;;
		esac
	done </tmp/sys.out
	[ $rc = 0 ] || die "e2e_syscalls exit status $rc: $(tail -n 1 /tmp/sys.out)"
	vt_data syscalls "$(tail -n 1 /tmp/sys.out)${skipped:+; skipped:$skipped}"
}
vt_run syscalls t_syscalls
