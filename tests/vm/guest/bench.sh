# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# Scenario "bench": the files scenario's heavy phases, each timed by the guest itself
# (vt_timed: /proc/uptime before and after, 10 ms steps, reported as "VMTEST data time_NAME S").
# bench/virtiofsd-vs-qemu runs it against two daemons. Caches are dropped before each phase
# that reads, so every read reaches the daemon.
B=$MNT/bench
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# 128 MiB in 1 MiB writes, then fsync (zeros: the guest's /dev/urandom would cost more TCG
# time than the daemon's whole phase, and the daemon does not look at the bytes)
t_write() {
	mkdir $B
	dd if=/dev/zero of=$B/big bs=1M count=128 conv=fsync 2>/tmp/dd.err || die "$(cat /tmp/dd.err)"
	expect_eq "$(stat -c %s $B/big)" 134217728 "size"
}
# read it back cold, 1 MiB at a time (the files scenario checksums it too: sha256 of 128 MiB
# is seconds of the guest's TCG time that no daemon changes, so it is left out)
t_read() {
	dd if=$B/big of=/dev/null bs=1M 2>/tmp/dd.err || die "$(cat /tmp/dd.err)"
	grep -q '^128+0 records in' /tmp/dd.err || die "short read: $(cat /tmp/dd.err)"
}
# 3000 small files: LOOKUP, CREATE, WRITE, FLUSH, RELEASE each
t_create() {
	mkdir $B/small
	cd $B/small
	i=0
	while [ $i -lt 3000 ]; do
		echo "file $i" >f$i
		i=$((i + 1))
	done
}
# list them with attributes, cold (READDIRPLUS, or READDIR and LOOKUPs)
t_list() {
	expect_eq "$(ls -l $B/small | grep -c '^-')" 3000 "entries listed"
}
# open and read each of them, cold
t_readsmall() {
	cd $B/small
	expect_eq "$(cat f* | wc -l)" 3000 "lines read"
}
# the files scenario's rmtree: 100 dirs of 2 files and a symlink, 411 entries
t_tree() {
	make_tree $B/tree
}
# remove the tree and the 3000 files (cold: names looked up again)
t_rmtree() {
	cd $MNT
	rm -rf $B/tree $B/small
	[ ! -e $B/tree ] && [ ! -e $B/small ] || die "rm -rf left entries"
}

vt_timed write t_write
drop
vt_timed read t_read
vt_timed create t_create
drop
vt_timed list t_list
drop
vt_timed readsmall t_readsmall
vt_timed tree t_tree
drop
vt_timed rmtree t_rmtree
