# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# Scenario "reboot": the guest reboots without unmounting; QEMU keeps the vhost-user connection
# and the next kernel sends a new INIT with no DESTROY. The boot count lives in the share; after
# boot $VT_ARG the guest powers off. "VMTEST data boot N" is where the host samples the daemon's
# open files and RSS: the same work every boot, so the samples must stay flat.
t_boot() {
	n=$(cat $MNT/boots 2>/dev/null || echo 0)
	n=$((n + 1))
	echo $n >$MNT/boots
	expect_eq "$(cat $MNT/boots)" $n "boot counter"
	ls -l $MNT/data >/dev/null
	cat $MNT/data/* >/dev/null
	echo "boot $n" >$MNT/data/lastboot
	mkdir -p $MNT/scratch
	i=0
	while [ $i -lt 100 ]; do echo $i >$MNT/scratch/s$i; i=$((i + 1)); done
	rm -r $MNT/scratch
	echo $n >/tmp/boot
}
vt_run work t_boot
exec 3<$MNT/data/f0   # a file open at reboot time (in this shell: vt_run's subshell has ended)
n=$(cat /tmp/boot 2>/dev/null || echo 0)
vt_data boot $n
sleep 1   # the host samples the daemon now
if [ "$n" -gt 0 ] && [ "$n" -lt "${VT_ARG:-5}" ]; then
	vt_finish reboot-now
fi
exec 3<&-
vt_finish
