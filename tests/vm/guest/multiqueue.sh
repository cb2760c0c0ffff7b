# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# Scenario "multiqueue": run with num-request-queues=4 and -smp 2 on a kernel that spreads
# requests over the queues (6.12). Four writers, pinned two per CPU, each write a 16 MiB file
# and 300 small files; the checksums read back after dropping caches go to the host.
t_mq() {
	mkdir $MNT/mq
	for i in 0 1 2 3; do
		(
			cd $MNT/mq
			dd if=/dev/urandom of=big$i bs=1M count=16 2>/dev/null
			mkdir small$i
			j=0
			while [ $j -lt 300 ]; do echo $i.$j >small$i/f$j; j=$((j + 1)); done
		) &
		taskset -p $((1 << (i % 2))) $! >/dev/null 2>&1 || true
	done
	wait
	sync
	echo 3 >/proc/sys/vm/drop_caches
	for i in 0 1 2 3; do
		(sha256sum $MNT/mq/big$i | cut -d' ' -f1 >/tmp/sha$i) &
		taskset -p $((1 << (i % 2))) $! >/dev/null 2>&1 || true
	done
	wait
	for i in 0 1 2 3; do
		vt_data mq_sha256_$i "$(cat /tmp/sha$i)"
		expect_eq "$(ls $MNT/mq/small$i | wc -l)" 300 "small files of writer $i"
	done
}
vt_run multiqueue t_mq
