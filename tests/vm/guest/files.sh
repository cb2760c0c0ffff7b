# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# Scenario "files": file operations over virtio-fs, each a subtest. tests/vm/run checks on the
# host what they leave in the share (contents, owners, links, xattrs, the 128 MiB checksum).
# The host put hostfile (random bytes) and hostfile.sha256 in the share before the boot.
D=$MNT/files

t_fileops() {
	mkdir $D
	cd $D
	echo hello >a
	echo world >>a
	expect_eq "$(cat a)" "hello
world" "write and append"
	expect_eq "$(stat -c %s a)" 12 "size"
	truncate -s 5 a
	expect_eq "$(cat a)" hello "truncate"
	dd if=/dev/zero of=sparse bs=1 count=1 seek=1048575 2>/dev/null
	expect_eq "$(stat -c %s sparse)" 1048576 "sparse size"
	mkdir -p d1/d2/d3
	echo deep >d1/d2/d3/f
	expect_eq "$(cat d1/d2/d3/f)" deep "nested"
	rmdir d1/d2/d3 2>/dev/null && die "rmdir of a non-empty dir succeeded"
	rm d1/d2/d3/f
	rmdir d1/d2/d3
	[ ! -e d1/d2/d3 ] || die "rmdir left the dir"
	touch -d '2001-02-03 04:05:06' a
	expect_eq "$(stat -c %Y a)" "$(date -d '2001-02-03 04:05:06' +%s)" "mtime"
	chmod 640 a
	expect_eq "$(stat -c %a a)" 640 "chmod"
	ls -la >/dev/null
	echo "guest content" >from-guest
}

t_perms() {
	mkdir -p $D/perm/userdir $D/perm/rootonly
	cd $D/perm
	chown 1000:1000 userdir
	chmod 755 rootonly
	echo secret >rootonly/secret
	chmod 600 rootonly/secret
	echo public >rootonly/public
	chmod 644 rootonly/public
	expect_eq "$(as_user 'id -u')" 1000 "su to fbuser"
	as_user "echo mine >$D/perm/userdir/userfile" || die "user cannot create in own dir"
	expect_eq "$(stat -c %u:%g userdir/userfile)" 1000:1000 "owner of a user's file"
	as_user "mkdir $D/perm/userdir/sub && chmod 700 $D/perm/userdir/sub" || die "user mkdir"
	as_user "echo x >$D/perm/rootonly/nope" 2>/dev/null && die "user created in root's 755 dir"
	as_user "cat $D/perm/rootonly/secret" 2>/dev/null && die "user read a 600 root file"
	expect_eq "$(as_user "cat $D/perm/rootonly/public")" public "user reads a 644 file"
	as_user "rm -f $D/perm/rootonly/public" 2>/dev/null && die "user removed from root's dir"
	as_user "chmod 777 $D/perm/rootonly/public" 2>/dev/null && die "user chmod of root's file"
	as_user "chown 0 $D/perm/userdir/userfile" 2>/dev/null && die "user chown to root"
	# setgid directories hand their group down
	mkdir sgid
	chown 0:1000 sgid
	chmod 2775 sgid
	touch sgid/f
	expect_eq "$(stat -c %g sgid/f)" 1000 "group from a setgid dir"
	[ -e rootonly/nope ] && die "a refused create left a file"
	true
}

t_rename() {
	mkdir -p $D/ren/x $D/ren/y
	cd $D/ren
	echo one >x/one
	mv x/one x/uno
	[ ! -e x/one ] && [ "$(cat x/uno)" = one ] || die "rename in a dir"
	mv x/uno y/one
	expect_eq "$(cat y/one)" one "rename across dirs"
	echo two >y/two
	mv y/two y/one
	expect_eq "$(cat y/one)" two "rename over a file"
	mkdir x/sub
	echo s >x/sub/f
	mv x/sub y/sub
	expect_eq "$(cat y/sub/f)" s "rename a dir"
	mv y x/moved
	expect_eq "$(cat x/moved/sub/f)" s "rename a dir with children"
}

t_links() {
	mkdir -p $D/links
	cd $D/links
	echo data >orig
	ln orig hard
	expect_eq "$(stat -c %h orig)" 2 "link count"
	expect_eq "$(stat -c %i orig)" "$(stat -c %i hard)" "same inode"
	echo more >>hard
	expect_eq "$(cat orig)" "data
more" "data shared by links"
	ln -s orig sym
	ln -s /nowhere/at/all dangling
	expect_eq "$(readlink sym)" orig "readlink"
	expect_eq "$(cat sym)" "data
more" "read through a symlink"
	[ -L dangling ] && [ ! -e dangling ] || die "dangling symlink"
	ln hard hard2
	rm orig
	expect_eq "$(stat -c %h hard)" 2 "link count after unlink"
	[ -e sym ] && die "symlink to a removed name still resolves"
	true
}

t_xattr() {
	mkdir -p $D/xattr
	cd $D/xattr
	echo x >f
	fbxattr set f user.vmtest guest-value
	expect_eq "$(fbxattr get f user.vmtest)" guest-value "getxattr"
	fbxattr set f user.gone bye
	fbxattr list f | grep -qx user.gone || die "listxattr: $(fbxattr list f)"
	must_fail "XATTR_CREATE on an existing name" fbxattr create f user.gone again
	fbxattr remove f user.gone
	must_fail "getxattr of a removed name" fbxattr get f user.gone
	mkdir d
	fbxattr set d user.dir on-a-dir
	expect_eq "$(fbxattr get d user.dir)" on-a-dir "xattr on a dir"
}

t_hostfile() {
	expect_eq "$(sha256sum $MNT/hostfile | cut -d' ' -f1)" "$(cat $MNT/hostfile.sha256)" \
		"checksum of the host's file"
}

t_bigfile() {
	dd if=/dev/urandom of=$MNT/big bs=1M count=128 2>/tmp/dd.err || die "$(cat /tmp/dd.err)"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	expect_eq "$(stat -c %s $MNT/big)" 134217728 "size"
	vt_data big_sha256 "$(sha256sum $MNT/big | cut -d' ' -f1)"
}

t_smallfiles() {
	mkdir $MNT/small
	cd $MNT/small
	i=0
	while [ $i -lt 3000 ]; do
		echo "file $i" >f$i
		i=$((i + 1))
	done
	expect_eq "$(ls | wc -l)" 3000 "entries listed"
	expect_eq "$(cat f0 f1234 f2999)" "file 0
file 1234
file 2999" "contents"
	i=0
	while [ $i -lt 3000 ]; do
		[ -f f$i ] || die "f$i missing"
		i=$((i + 3))
	done
}

t_rmtree() {
	make_tree $MNT/tree
	cd $MNT
	rm -rf $MNT/tree
	[ ! -e $MNT/tree ] || die "rm -rf left $(find $MNT/tree | wc -l) entries"
}

# FILES_SUBTESTS: which to run (another scenario may source this file with fewer)
for t in ${FILES_SUBTESTS:-fileops perms rename links xattr hostfile bigfile smallfiles rmtree}; do
	vt_run $t t_$t
done
