# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# Scenario "remount": umount and mount the share again, three times (each sends DESTROY, then a
# new INIT on the same connection). The host checks before and after1..3 afterwards.
t_remount() {
	cd /
	echo before >$MNT/before
	ls -l $MNT >/dev/null
	for i in 1 2 3; do
		umount $MNT || die "umount $i"
		[ -e $MNT/before ] && die "still mounted after umount $i"
		mount -t virtiofs "$VT_TAG" $MNT || die "mount $i"
		expect_eq "$(cat $MNT/before)" before "file from before, mount $i"
		echo after$i >$MNT/after$i
		expect_eq "$(cat $MNT/after$i)" after$i "file written after mount $i"
	done
}
vt_run remount t_remount
