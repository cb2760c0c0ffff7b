# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# Scenario "kill": the guest writes without end; the host kills QEMU (SIGKILL) 2 s after
# "VMTEST data writing" and checks that the daemon exits.
vt_begin write
echo start >$MNT/killfile
sync
vt_data writing 1
dd if=/dev/zero of=$MNT/killfile bs=1M count=100000 conv=notrunc 2>/dev/null
vt_fail write "the write ended: QEMU was not killed"
