# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# Scenario "multiqueue": run with num-request-queues=4 and -smp 2 on a kernel that spreads
# requests over the queues (6.12: each CPU sends on the queue mapped to it). Four writers, each
# started under taskset on one CPU (two per CPU), write a 16 MiB file and 300 small files; the
# checksums read back after dropping caches (readers pinned the same way) go to the host, which
# also reads from fb-virtiofsd's log that more than one request queue served requests.
t_mq() {
	expect_eq "$(nproc)" 2 "CPUs"
	mkdir $MNT/mq
	cat >/tmp/mq-writer.sh <<-EOT
		cd $MNT/mq
		dd if=/dev/urandom of=big\$1 bs=1M count=16 2>/dev/null
		mkdir small\$1
		j=0
		while [ \$j -lt 300 ]; do echo \$1.\$j >small\$1/f\$j; j=\$((j + 1)); done
	EOT
	# pinned from the start: busybox taskset runs the command on the CPU mask
	for i in 0 1 2 3; do
		taskset $((1 << (i % 2))) sh /tmp/mq-writer.sh $i &
	done
	wait
	sync
	echo 3 >/proc/sys/vm/drop_caches
	for i in 0 1 2 3; do
		taskset $((1 << (i % 2))) sh -c "sha256sum $MNT/mq/big$i | cut -d' ' -f1 >/tmp/sha$i" &
	done
	wait
	for i in 0 1 2 3; do
		vt_data mq_sha256_$i "$(cat /tmp/sha$i)"
		expect_eq "$(ls $MNT/mq/small$i | wc -l)" 300 "small files of writer $i"
	done
}
vt_run multiqueue t_mq
