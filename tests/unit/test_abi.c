/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Cross-check of include/fuse_backend/abi.h against the system's <linux/fuse.h>.
 *
 * For every structure the system header has, the size and the offset and size of every field
 * must match ours; every constant it has must equal ours. The system header may be older than
 * ours (Debian 12 ships 7.38): fields it lacks are checked by the _Static_asserts in abi.h, and
 * where a newer minor turned padding into a field (open_out.backing_id, init_out.max_stack_depth)
 * the test compares the two by offset. The field lists follow the system header's declaration
 * order so that a field added there shows up as a compile error here.
 */
#include <stddef.h>
#include <string.h>
#include <stdint.h>
#include <linux/fuse.h>

#include "fuse_backend/abi.h"
#include "harness.h"

/* Same offset and width for a field of ours and the corresponding field of the system's. */
#define SAME_FIELD(ot, of, st, sf)                                                                 \
	do {                                                                                       \
		CHECK_EQ(offsetof(struct ot, of), offsetof(struct st, sf));                        \
		CHECK_EQ(sizeof(((struct ot *)0)->of), sizeof(((struct st *)0)->sf));              \
	} while (0)

/* Same offset only: a field whose width changed across minors, or a flexible array. */
#define SAME_OFFSET(ot, of, st, sf) CHECK_EQ(offsetof(struct ot, of), offsetof(struct st, sf))

#define SAME_SIZE(ot, st) CHECK_EQ(sizeof(struct ot), sizeof(struct st))

/* Same value; CHECK_EQ compares as long long, the cast to uint64_t catches 1 << 31 sign slips. */
#define SAME_CONST(o, s)                                                                           \
	do {                                                                                       \
		CHECK((uint64_t)(o) == (uint64_t)(s));                                             \
		CHECK_EQ((o), (s));                                                                \
	} while (0)

TEST(layout_attr)
{
	SAME_SIZE(fb_attr, fuse_attr);
	SAME_FIELD(fb_attr, ino, fuse_attr, ino);
	SAME_FIELD(fb_attr, size, fuse_attr, size);
	SAME_FIELD(fb_attr, blocks, fuse_attr, blocks);
	SAME_FIELD(fb_attr, atime, fuse_attr, atime);
	SAME_FIELD(fb_attr, mtime, fuse_attr, mtime);
	SAME_FIELD(fb_attr, ctime, fuse_attr, ctime);
	SAME_FIELD(fb_attr, atimensec, fuse_attr, atimensec);
	SAME_FIELD(fb_attr, mtimensec, fuse_attr, mtimensec);
	SAME_FIELD(fb_attr, ctimensec, fuse_attr, ctimensec);
	SAME_FIELD(fb_attr, mode, fuse_attr, mode);
	SAME_FIELD(fb_attr, nlink, fuse_attr, nlink);
	SAME_FIELD(fb_attr, uid, fuse_attr, uid);
	SAME_FIELD(fb_attr, gid, fuse_attr, gid);
	SAME_FIELD(fb_attr, rdev, fuse_attr, rdev);
	SAME_FIELD(fb_attr, blksize, fuse_attr, blksize);
	SAME_FIELD(fb_attr, flags, fuse_attr, flags);
}

TEST(layout_kstatfs)
{
	SAME_SIZE(fb_kstatfs, fuse_kstatfs);
	SAME_FIELD(fb_kstatfs, blocks, fuse_kstatfs, blocks);
	SAME_FIELD(fb_kstatfs, bfree, fuse_kstatfs, bfree);
	SAME_FIELD(fb_kstatfs, bavail, fuse_kstatfs, bavail);
	SAME_FIELD(fb_kstatfs, files, fuse_kstatfs, files);
	SAME_FIELD(fb_kstatfs, ffree, fuse_kstatfs, ffree);
	SAME_FIELD(fb_kstatfs, bsize, fuse_kstatfs, bsize);
	SAME_FIELD(fb_kstatfs, namelen, fuse_kstatfs, namelen);
	SAME_FIELD(fb_kstatfs, frsize, fuse_kstatfs, frsize);
	SAME_FIELD(fb_kstatfs, padding, fuse_kstatfs, padding);
	SAME_FIELD(fb_kstatfs, spare, fuse_kstatfs, spare);
}

TEST(layout_file_lock)
{
	SAME_SIZE(fb_file_lock, fuse_file_lock);
	SAME_FIELD(fb_file_lock, start, fuse_file_lock, start);
	SAME_FIELD(fb_file_lock, end, fuse_file_lock, end);
	SAME_FIELD(fb_file_lock, type, fuse_file_lock, type);
	SAME_FIELD(fb_file_lock, pid, fuse_file_lock, pid);
}

TEST(layout_entry_out)
{
	SAME_SIZE(fb_entry_out, fuse_entry_out);
	SAME_FIELD(fb_entry_out, nodeid, fuse_entry_out, nodeid);
	SAME_FIELD(fb_entry_out, generation, fuse_entry_out, generation);
	SAME_FIELD(fb_entry_out, entry_valid, fuse_entry_out, entry_valid);
	SAME_FIELD(fb_entry_out, attr_valid, fuse_entry_out, attr_valid);
	SAME_FIELD(fb_entry_out, entry_valid_nsec, fuse_entry_out, entry_valid_nsec);
	SAME_FIELD(fb_entry_out, attr_valid_nsec, fuse_entry_out, attr_valid_nsec);
	SAME_FIELD(fb_entry_out, attr, fuse_entry_out, attr);
}

TEST(layout_forget_in)
{
	SAME_SIZE(fb_forget_in, fuse_forget_in);
	SAME_FIELD(fb_forget_in, nlookup, fuse_forget_in, nlookup);
}

TEST(layout_forget_one)
{
	SAME_SIZE(fb_forget_one, fuse_forget_one);
	SAME_FIELD(fb_forget_one, nodeid, fuse_forget_one, nodeid);
	SAME_FIELD(fb_forget_one, nlookup, fuse_forget_one, nlookup);
}

TEST(layout_batch_forget_in)
{
	SAME_SIZE(fb_batch_forget_in, fuse_batch_forget_in);
	SAME_FIELD(fb_batch_forget_in, count, fuse_batch_forget_in, count);
	SAME_FIELD(fb_batch_forget_in, dummy, fuse_batch_forget_in, dummy);
}

TEST(layout_getattr_in)
{
	SAME_SIZE(fb_getattr_in, fuse_getattr_in);
	SAME_FIELD(fb_getattr_in, getattr_flags, fuse_getattr_in, getattr_flags);
	SAME_FIELD(fb_getattr_in, dummy, fuse_getattr_in, dummy);
	SAME_FIELD(fb_getattr_in, fh, fuse_getattr_in, fh);
}

TEST(layout_attr_out)
{
	SAME_SIZE(fb_attr_out, fuse_attr_out);
	SAME_FIELD(fb_attr_out, attr_valid, fuse_attr_out, attr_valid);
	SAME_FIELD(fb_attr_out, attr_valid_nsec, fuse_attr_out, attr_valid_nsec);
	SAME_FIELD(fb_attr_out, dummy, fuse_attr_out, dummy);
	SAME_FIELD(fb_attr_out, attr, fuse_attr_out, attr);
}

TEST(layout_mknod_in)
{
	SAME_SIZE(fb_mknod_in, fuse_mknod_in);
	SAME_FIELD(fb_mknod_in, mode, fuse_mknod_in, mode);
	SAME_FIELD(fb_mknod_in, rdev, fuse_mknod_in, rdev);
	SAME_FIELD(fb_mknod_in, umask, fuse_mknod_in, umask);
	SAME_FIELD(fb_mknod_in, padding, fuse_mknod_in, padding);
}

TEST(layout_mkdir_in)
{
	SAME_SIZE(fb_mkdir_in, fuse_mkdir_in);
	SAME_FIELD(fb_mkdir_in, mode, fuse_mkdir_in, mode);
	SAME_FIELD(fb_mkdir_in, umask, fuse_mkdir_in, umask);
}

TEST(layout_rename_in)
{
	SAME_SIZE(fb_rename_in, fuse_rename_in);
	SAME_FIELD(fb_rename_in, newdir, fuse_rename_in, newdir);
}

TEST(layout_rename2_in)
{
	SAME_SIZE(fb_rename2_in, fuse_rename2_in);
	SAME_FIELD(fb_rename2_in, newdir, fuse_rename2_in, newdir);
	SAME_FIELD(fb_rename2_in, flags, fuse_rename2_in, flags);
	SAME_FIELD(fb_rename2_in, padding, fuse_rename2_in, padding);
}

TEST(layout_link_in)
{
	SAME_SIZE(fb_link_in, fuse_link_in);
	SAME_FIELD(fb_link_in, oldnodeid, fuse_link_in, oldnodeid);
}

TEST(layout_setattr_in)
{
	SAME_SIZE(fb_setattr_in, fuse_setattr_in);
	SAME_FIELD(fb_setattr_in, valid, fuse_setattr_in, valid);
	SAME_FIELD(fb_setattr_in, padding, fuse_setattr_in, padding);
	SAME_FIELD(fb_setattr_in, fh, fuse_setattr_in, fh);
	SAME_FIELD(fb_setattr_in, size, fuse_setattr_in, size);
	SAME_FIELD(fb_setattr_in, lock_owner, fuse_setattr_in, lock_owner);
	SAME_FIELD(fb_setattr_in, atime, fuse_setattr_in, atime);
	SAME_FIELD(fb_setattr_in, mtime, fuse_setattr_in, mtime);
	SAME_FIELD(fb_setattr_in, ctime, fuse_setattr_in, ctime);
	SAME_FIELD(fb_setattr_in, atimensec, fuse_setattr_in, atimensec);
	SAME_FIELD(fb_setattr_in, mtimensec, fuse_setattr_in, mtimensec);
	SAME_FIELD(fb_setattr_in, ctimensec, fuse_setattr_in, ctimensec);
	SAME_FIELD(fb_setattr_in, mode, fuse_setattr_in, mode);
	SAME_FIELD(fb_setattr_in, unused4, fuse_setattr_in, unused4);
	SAME_FIELD(fb_setattr_in, uid, fuse_setattr_in, uid);
	SAME_FIELD(fb_setattr_in, gid, fuse_setattr_in, gid);
	SAME_FIELD(fb_setattr_in, unused5, fuse_setattr_in, unused5);
}

TEST(layout_open_in)
{
	SAME_SIZE(fb_open_in, fuse_open_in);
	SAME_FIELD(fb_open_in, flags, fuse_open_in, flags);
	SAME_FIELD(fb_open_in, open_flags, fuse_open_in, open_flags);
}

TEST(layout_create_in)
{
	SAME_SIZE(fb_create_in, fuse_create_in);
	SAME_FIELD(fb_create_in, flags, fuse_create_in, flags);
	SAME_FIELD(fb_create_in, mode, fuse_create_in, mode);
	SAME_FIELD(fb_create_in, umask, fuse_create_in, umask);
	SAME_FIELD(fb_create_in, open_flags, fuse_create_in, open_flags);
}

TEST(layout_open_out)
{
	SAME_SIZE(fb_open_out, fuse_open_out);
	SAME_FIELD(fb_open_out, fh, fuse_open_out, fh);
	SAME_FIELD(fb_open_out, open_flags, fuse_open_out, open_flags);
	SAME_FIELD(fb_open_out, backing_id, fuse_open_out, padding);
}

TEST(layout_release_in)
{
	SAME_SIZE(fb_release_in, fuse_release_in);
	SAME_FIELD(fb_release_in, fh, fuse_release_in, fh);
	SAME_FIELD(fb_release_in, flags, fuse_release_in, flags);
	SAME_FIELD(fb_release_in, release_flags, fuse_release_in, release_flags);
	SAME_FIELD(fb_release_in, lock_owner, fuse_release_in, lock_owner);
}

TEST(layout_flush_in)
{
	SAME_SIZE(fb_flush_in, fuse_flush_in);
	SAME_FIELD(fb_flush_in, fh, fuse_flush_in, fh);
	SAME_FIELD(fb_flush_in, unused, fuse_flush_in, unused);
	SAME_FIELD(fb_flush_in, padding, fuse_flush_in, padding);
	SAME_FIELD(fb_flush_in, lock_owner, fuse_flush_in, lock_owner);
}

TEST(layout_read_in)
{
	SAME_SIZE(fb_read_in, fuse_read_in);
	SAME_FIELD(fb_read_in, fh, fuse_read_in, fh);
	SAME_FIELD(fb_read_in, offset, fuse_read_in, offset);
	SAME_FIELD(fb_read_in, size, fuse_read_in, size);
	SAME_FIELD(fb_read_in, read_flags, fuse_read_in, read_flags);
	SAME_FIELD(fb_read_in, lock_owner, fuse_read_in, lock_owner);
	SAME_FIELD(fb_read_in, flags, fuse_read_in, flags);
	SAME_FIELD(fb_read_in, padding, fuse_read_in, padding);
}

TEST(layout_write_in)
{
	SAME_SIZE(fb_write_in, fuse_write_in);
	SAME_FIELD(fb_write_in, fh, fuse_write_in, fh);
	SAME_FIELD(fb_write_in, offset, fuse_write_in, offset);
	SAME_FIELD(fb_write_in, size, fuse_write_in, size);
	SAME_FIELD(fb_write_in, write_flags, fuse_write_in, write_flags);
	SAME_FIELD(fb_write_in, lock_owner, fuse_write_in, lock_owner);
	SAME_FIELD(fb_write_in, flags, fuse_write_in, flags);
	SAME_FIELD(fb_write_in, padding, fuse_write_in, padding);
}

TEST(layout_write_out)
{
	SAME_SIZE(fb_write_out, fuse_write_out);
	SAME_FIELD(fb_write_out, size, fuse_write_out, size);
	SAME_FIELD(fb_write_out, padding, fuse_write_out, padding);
}

TEST(layout_statfs_out)
{
	SAME_SIZE(fb_statfs_out, fuse_statfs_out);
	SAME_FIELD(fb_statfs_out, st, fuse_statfs_out, st);
}

TEST(layout_fsync_in)
{
	SAME_SIZE(fb_fsync_in, fuse_fsync_in);
	SAME_FIELD(fb_fsync_in, fh, fuse_fsync_in, fh);
	SAME_FIELD(fb_fsync_in, fsync_flags, fuse_fsync_in, fsync_flags);
	SAME_FIELD(fb_fsync_in, padding, fuse_fsync_in, padding);
}

TEST(layout_setxattr_in)
{
	SAME_SIZE(fb_setxattr_in, fuse_setxattr_in);
	SAME_FIELD(fb_setxattr_in, size, fuse_setxattr_in, size);
	SAME_FIELD(fb_setxattr_in, flags, fuse_setxattr_in, flags);
	SAME_FIELD(fb_setxattr_in, setxattr_flags, fuse_setxattr_in, setxattr_flags);
	SAME_FIELD(fb_setxattr_in, padding, fuse_setxattr_in, padding);
}

TEST(layout_getxattr_in)
{
	SAME_SIZE(fb_getxattr_in, fuse_getxattr_in);
	SAME_FIELD(fb_getxattr_in, size, fuse_getxattr_in, size);
	SAME_FIELD(fb_getxattr_in, padding, fuse_getxattr_in, padding);
}

TEST(layout_getxattr_out)
{
	SAME_SIZE(fb_getxattr_out, fuse_getxattr_out);
	SAME_FIELD(fb_getxattr_out, size, fuse_getxattr_out, size);
	SAME_FIELD(fb_getxattr_out, padding, fuse_getxattr_out, padding);
}

TEST(layout_lk_in)
{
	SAME_SIZE(fb_lk_in, fuse_lk_in);
	SAME_FIELD(fb_lk_in, fh, fuse_lk_in, fh);
	SAME_FIELD(fb_lk_in, owner, fuse_lk_in, owner);
	SAME_FIELD(fb_lk_in, lk, fuse_lk_in, lk);
	SAME_FIELD(fb_lk_in, lk_flags, fuse_lk_in, lk_flags);
	SAME_FIELD(fb_lk_in, padding, fuse_lk_in, padding);
}

TEST(layout_lk_out)
{
	SAME_SIZE(fb_lk_out, fuse_lk_out);
	SAME_FIELD(fb_lk_out, lk, fuse_lk_out, lk);
}

TEST(layout_access_in)
{
	SAME_SIZE(fb_access_in, fuse_access_in);
	SAME_FIELD(fb_access_in, mask, fuse_access_in, mask);
	SAME_FIELD(fb_access_in, padding, fuse_access_in, padding);
}

TEST(layout_init_in)
{
	SAME_SIZE(fb_init_in, fuse_init_in);
	SAME_FIELD(fb_init_in, major, fuse_init_in, major);
	SAME_FIELD(fb_init_in, minor, fuse_init_in, minor);
	SAME_FIELD(fb_init_in, max_readahead, fuse_init_in, max_readahead);
	SAME_FIELD(fb_init_in, flags, fuse_init_in, flags);
	SAME_FIELD(fb_init_in, flags2, fuse_init_in, flags2);
	SAME_FIELD(fb_init_in, unused, fuse_init_in, unused);
}

TEST(layout_init_out)
{
	SAME_SIZE(fb_init_out, fuse_init_out);
	SAME_FIELD(fb_init_out, major, fuse_init_out, major);
	SAME_FIELD(fb_init_out, minor, fuse_init_out, minor);
	SAME_FIELD(fb_init_out, max_readahead, fuse_init_out, max_readahead);
	SAME_FIELD(fb_init_out, flags, fuse_init_out, flags);
	SAME_FIELD(fb_init_out, max_background, fuse_init_out, max_background);
	SAME_FIELD(fb_init_out, congestion_threshold, fuse_init_out, congestion_threshold);
	SAME_FIELD(fb_init_out, max_write, fuse_init_out, max_write);
	SAME_FIELD(fb_init_out, time_gran, fuse_init_out, time_gran);
	SAME_FIELD(fb_init_out, max_pages, fuse_init_out, max_pages);
	SAME_FIELD(fb_init_out, map_alignment, fuse_init_out, map_alignment);
	SAME_FIELD(fb_init_out, flags2, fuse_init_out, flags2);
	SAME_OFFSET(fb_init_out, max_stack_depth, fuse_init_out, unused);
}

TEST(layout_cuse_init_in)
{
	SAME_SIZE(fb_cuse_init_in, cuse_init_in);
	SAME_FIELD(fb_cuse_init_in, major, cuse_init_in, major);
	SAME_FIELD(fb_cuse_init_in, minor, cuse_init_in, minor);
	SAME_FIELD(fb_cuse_init_in, unused, cuse_init_in, unused);
	SAME_FIELD(fb_cuse_init_in, flags, cuse_init_in, flags);
}

TEST(layout_cuse_init_out)
{
	SAME_SIZE(fb_cuse_init_out, cuse_init_out);
	SAME_FIELD(fb_cuse_init_out, major, cuse_init_out, major);
	SAME_FIELD(fb_cuse_init_out, minor, cuse_init_out, minor);
	SAME_FIELD(fb_cuse_init_out, unused, cuse_init_out, unused);
	SAME_FIELD(fb_cuse_init_out, flags, cuse_init_out, flags);
	SAME_FIELD(fb_cuse_init_out, max_read, cuse_init_out, max_read);
	SAME_FIELD(fb_cuse_init_out, max_write, cuse_init_out, max_write);
	SAME_FIELD(fb_cuse_init_out, dev_major, cuse_init_out, dev_major);
	SAME_FIELD(fb_cuse_init_out, dev_minor, cuse_init_out, dev_minor);
	SAME_FIELD(fb_cuse_init_out, spare, cuse_init_out, spare);
}

TEST(layout_interrupt_in)
{
	SAME_SIZE(fb_interrupt_in, fuse_interrupt_in);
	SAME_FIELD(fb_interrupt_in, unique, fuse_interrupt_in, unique);
}

TEST(layout_bmap_in)
{
	SAME_SIZE(fb_bmap_in, fuse_bmap_in);
	SAME_FIELD(fb_bmap_in, block, fuse_bmap_in, block);
	SAME_FIELD(fb_bmap_in, blocksize, fuse_bmap_in, blocksize);
	SAME_FIELD(fb_bmap_in, padding, fuse_bmap_in, padding);
}

TEST(layout_bmap_out)
{
	SAME_SIZE(fb_bmap_out, fuse_bmap_out);
	SAME_FIELD(fb_bmap_out, block, fuse_bmap_out, block);
}

TEST(layout_ioctl_in)
{
	SAME_SIZE(fb_ioctl_in, fuse_ioctl_in);
	SAME_FIELD(fb_ioctl_in, fh, fuse_ioctl_in, fh);
	SAME_FIELD(fb_ioctl_in, flags, fuse_ioctl_in, flags);
	SAME_FIELD(fb_ioctl_in, cmd, fuse_ioctl_in, cmd);
	SAME_FIELD(fb_ioctl_in, arg, fuse_ioctl_in, arg);
	SAME_FIELD(fb_ioctl_in, in_size, fuse_ioctl_in, in_size);
	SAME_FIELD(fb_ioctl_in, out_size, fuse_ioctl_in, out_size);
}

TEST(layout_ioctl_iovec)
{
	SAME_SIZE(fb_ioctl_iovec, fuse_ioctl_iovec);
	SAME_FIELD(fb_ioctl_iovec, base, fuse_ioctl_iovec, base);
	SAME_FIELD(fb_ioctl_iovec, len, fuse_ioctl_iovec, len);
}

TEST(layout_ioctl_out)
{
	SAME_SIZE(fb_ioctl_out, fuse_ioctl_out);
	SAME_FIELD(fb_ioctl_out, result, fuse_ioctl_out, result);
	SAME_FIELD(fb_ioctl_out, flags, fuse_ioctl_out, flags);
	SAME_FIELD(fb_ioctl_out, in_iovs, fuse_ioctl_out, in_iovs);
	SAME_FIELD(fb_ioctl_out, out_iovs, fuse_ioctl_out, out_iovs);
}

TEST(layout_poll_in)
{
	SAME_SIZE(fb_poll_in, fuse_poll_in);
	SAME_FIELD(fb_poll_in, fh, fuse_poll_in, fh);
	SAME_FIELD(fb_poll_in, kh, fuse_poll_in, kh);
	SAME_FIELD(fb_poll_in, flags, fuse_poll_in, flags);
	SAME_FIELD(fb_poll_in, events, fuse_poll_in, events);
}

TEST(layout_poll_out)
{
	SAME_SIZE(fb_poll_out, fuse_poll_out);
	SAME_FIELD(fb_poll_out, revents, fuse_poll_out, revents);
	SAME_FIELD(fb_poll_out, padding, fuse_poll_out, padding);
}

TEST(layout_notify_poll_wakeup_out)
{
	SAME_SIZE(fb_notify_poll_wakeup_out, fuse_notify_poll_wakeup_out);
	SAME_FIELD(fb_notify_poll_wakeup_out, kh, fuse_notify_poll_wakeup_out, kh);
}

TEST(layout_fallocate_in)
{
	SAME_SIZE(fb_fallocate_in, fuse_fallocate_in);
	SAME_FIELD(fb_fallocate_in, fh, fuse_fallocate_in, fh);
	SAME_FIELD(fb_fallocate_in, offset, fuse_fallocate_in, offset);
	SAME_FIELD(fb_fallocate_in, length, fuse_fallocate_in, length);
	SAME_FIELD(fb_fallocate_in, mode, fuse_fallocate_in, mode);
	SAME_FIELD(fb_fallocate_in, padding, fuse_fallocate_in, padding);
}

TEST(layout_in_header)
{
	SAME_SIZE(fb_in_header, fuse_in_header);
	SAME_FIELD(fb_in_header, len, fuse_in_header, len);
	SAME_FIELD(fb_in_header, opcode, fuse_in_header, opcode);
	SAME_FIELD(fb_in_header, unique, fuse_in_header, unique);
	SAME_FIELD(fb_in_header, nodeid, fuse_in_header, nodeid);
	SAME_FIELD(fb_in_header, uid, fuse_in_header, uid);
	SAME_FIELD(fb_in_header, gid, fuse_in_header, gid);
	SAME_FIELD(fb_in_header, pid, fuse_in_header, pid);
	SAME_FIELD(fb_in_header, total_extlen, fuse_in_header, total_extlen);
	SAME_FIELD(fb_in_header, padding, fuse_in_header, padding);
}

TEST(layout_out_header)
{
	SAME_SIZE(fb_out_header, fuse_out_header);
	SAME_FIELD(fb_out_header, len, fuse_out_header, len);
	SAME_FIELD(fb_out_header, error, fuse_out_header, error);
	SAME_FIELD(fb_out_header, unique, fuse_out_header, unique);
}

TEST(layout_dirent)
{
	SAME_SIZE(fb_dirent, fuse_dirent);
	SAME_FIELD(fb_dirent, ino, fuse_dirent, ino);
	SAME_FIELD(fb_dirent, off, fuse_dirent, off);
	SAME_FIELD(fb_dirent, namelen, fuse_dirent, namelen);
	SAME_FIELD(fb_dirent, type, fuse_dirent, type);
	SAME_OFFSET(fb_dirent, name, fuse_dirent, name);
}

TEST(layout_direntplus)
{
	SAME_SIZE(fb_direntplus, fuse_direntplus);
	SAME_FIELD(fb_direntplus, entry_out, fuse_direntplus, entry_out);
	SAME_FIELD(fb_direntplus, dirent, fuse_direntplus, dirent);
}

TEST(layout_notify_inval_inode_out)
{
	SAME_SIZE(fb_notify_inval_inode_out, fuse_notify_inval_inode_out);
	SAME_FIELD(fb_notify_inval_inode_out, ino, fuse_notify_inval_inode_out, ino);
	SAME_FIELD(fb_notify_inval_inode_out, off, fuse_notify_inval_inode_out, off);
	SAME_FIELD(fb_notify_inval_inode_out, len, fuse_notify_inval_inode_out, len);
}

TEST(layout_notify_inval_entry_out)
{
	SAME_SIZE(fb_notify_inval_entry_out, fuse_notify_inval_entry_out);
	SAME_FIELD(fb_notify_inval_entry_out, parent, fuse_notify_inval_entry_out, parent);
	SAME_FIELD(fb_notify_inval_entry_out, namelen, fuse_notify_inval_entry_out, namelen);
	SAME_FIELD(fb_notify_inval_entry_out, flags, fuse_notify_inval_entry_out, flags);
}

TEST(layout_notify_delete_out)
{
	SAME_SIZE(fb_notify_delete_out, fuse_notify_delete_out);
	SAME_FIELD(fb_notify_delete_out, parent, fuse_notify_delete_out, parent);
	SAME_FIELD(fb_notify_delete_out, child, fuse_notify_delete_out, child);
	SAME_FIELD(fb_notify_delete_out, namelen, fuse_notify_delete_out, namelen);
	SAME_FIELD(fb_notify_delete_out, padding, fuse_notify_delete_out, padding);
}

TEST(layout_notify_store_out)
{
	SAME_SIZE(fb_notify_store_out, fuse_notify_store_out);
	SAME_FIELD(fb_notify_store_out, nodeid, fuse_notify_store_out, nodeid);
	SAME_FIELD(fb_notify_store_out, offset, fuse_notify_store_out, offset);
	SAME_FIELD(fb_notify_store_out, size, fuse_notify_store_out, size);
	SAME_FIELD(fb_notify_store_out, padding, fuse_notify_store_out, padding);
}

TEST(layout_notify_retrieve_out)
{
	SAME_SIZE(fb_notify_retrieve_out, fuse_notify_retrieve_out);
	SAME_FIELD(fb_notify_retrieve_out, notify_unique, fuse_notify_retrieve_out, notify_unique);
	SAME_FIELD(fb_notify_retrieve_out, nodeid, fuse_notify_retrieve_out, nodeid);
	SAME_FIELD(fb_notify_retrieve_out, offset, fuse_notify_retrieve_out, offset);
	SAME_FIELD(fb_notify_retrieve_out, size, fuse_notify_retrieve_out, size);
	SAME_FIELD(fb_notify_retrieve_out, padding, fuse_notify_retrieve_out, padding);
}

TEST(layout_notify_retrieve_in)
{
	SAME_SIZE(fb_notify_retrieve_in, fuse_notify_retrieve_in);
	SAME_FIELD(fb_notify_retrieve_in, dummy1, fuse_notify_retrieve_in, dummy1);
	SAME_FIELD(fb_notify_retrieve_in, offset, fuse_notify_retrieve_in, offset);
	SAME_FIELD(fb_notify_retrieve_in, size, fuse_notify_retrieve_in, size);
	SAME_FIELD(fb_notify_retrieve_in, dummy2, fuse_notify_retrieve_in, dummy2);
	SAME_FIELD(fb_notify_retrieve_in, dummy3, fuse_notify_retrieve_in, dummy3);
	SAME_FIELD(fb_notify_retrieve_in, dummy4, fuse_notify_retrieve_in, dummy4);
}

TEST(layout_lseek_in)
{
	SAME_SIZE(fb_lseek_in, fuse_lseek_in);
	SAME_FIELD(fb_lseek_in, fh, fuse_lseek_in, fh);
	SAME_FIELD(fb_lseek_in, offset, fuse_lseek_in, offset);
	SAME_FIELD(fb_lseek_in, whence, fuse_lseek_in, whence);
	SAME_FIELD(fb_lseek_in, padding, fuse_lseek_in, padding);
}

TEST(layout_lseek_out)
{
	SAME_SIZE(fb_lseek_out, fuse_lseek_out);
	SAME_FIELD(fb_lseek_out, offset, fuse_lseek_out, offset);
}

TEST(layout_copy_file_range_in)
{
	SAME_SIZE(fb_copy_file_range_in, fuse_copy_file_range_in);
	SAME_FIELD(fb_copy_file_range_in, fh_in, fuse_copy_file_range_in, fh_in);
	SAME_FIELD(fb_copy_file_range_in, off_in, fuse_copy_file_range_in, off_in);
	SAME_FIELD(fb_copy_file_range_in, nodeid_out, fuse_copy_file_range_in, nodeid_out);
	SAME_FIELD(fb_copy_file_range_in, fh_out, fuse_copy_file_range_in, fh_out);
	SAME_FIELD(fb_copy_file_range_in, off_out, fuse_copy_file_range_in, off_out);
	SAME_FIELD(fb_copy_file_range_in, len, fuse_copy_file_range_in, len);
	SAME_FIELD(fb_copy_file_range_in, flags, fuse_copy_file_range_in, flags);
}

TEST(layout_setupmapping_in)
{
	SAME_SIZE(fb_setupmapping_in, fuse_setupmapping_in);
	SAME_FIELD(fb_setupmapping_in, fh, fuse_setupmapping_in, fh);
	SAME_FIELD(fb_setupmapping_in, foffset, fuse_setupmapping_in, foffset);
	SAME_FIELD(fb_setupmapping_in, len, fuse_setupmapping_in, len);
	SAME_FIELD(fb_setupmapping_in, flags, fuse_setupmapping_in, flags);
	SAME_FIELD(fb_setupmapping_in, moffset, fuse_setupmapping_in, moffset);
}

TEST(layout_removemapping_in)
{
	SAME_SIZE(fb_removemapping_in, fuse_removemapping_in);
	SAME_FIELD(fb_removemapping_in, count, fuse_removemapping_in, count);
}

TEST(layout_removemapping_one)
{
	SAME_SIZE(fb_removemapping_one, fuse_removemapping_one);
	SAME_FIELD(fb_removemapping_one, moffset, fuse_removemapping_one, moffset);
	SAME_FIELD(fb_removemapping_one, len, fuse_removemapping_one, len);
}

TEST(layout_syncfs_in)
{
	SAME_SIZE(fb_syncfs_in, fuse_syncfs_in);
	SAME_FIELD(fb_syncfs_in, padding, fuse_syncfs_in, padding);
}

TEST(layout_secctx)
{
	SAME_SIZE(fb_secctx, fuse_secctx);
	SAME_FIELD(fb_secctx, size, fuse_secctx, size);
	SAME_FIELD(fb_secctx, padding, fuse_secctx, padding);
}

TEST(layout_secctx_header)
{
	SAME_SIZE(fb_secctx_header, fuse_secctx_header);
	SAME_FIELD(fb_secctx_header, size, fuse_secctx_header, size);
	SAME_FIELD(fb_secctx_header, nr_secctx, fuse_secctx_header, nr_secctx);
}

TEST(layout_ext_header)
{
	SAME_SIZE(fb_ext_header, fuse_ext_header);
	SAME_FIELD(fb_ext_header, size, fuse_ext_header, size);
	SAME_FIELD(fb_ext_header, type, fuse_ext_header, type);
}

TEST(constants)
{
	SAME_CONST(FB_KERNEL_VERSION, FUSE_KERNEL_VERSION);
	SAME_CONST(FB_ROOT_ID, FUSE_ROOT_ID);
	SAME_CONST(FB_FATTR_MODE, FATTR_MODE);
	SAME_CONST(FB_FATTR_UID, FATTR_UID);
	SAME_CONST(FB_FATTR_GID, FATTR_GID);
	SAME_CONST(FB_FATTR_SIZE, FATTR_SIZE);
	SAME_CONST(FB_FATTR_ATIME, FATTR_ATIME);
	SAME_CONST(FB_FATTR_MTIME, FATTR_MTIME);
	SAME_CONST(FB_FATTR_FH, FATTR_FH);
	SAME_CONST(FB_FATTR_ATIME_NOW, FATTR_ATIME_NOW);
	SAME_CONST(FB_FATTR_MTIME_NOW, FATTR_MTIME_NOW);
	SAME_CONST(FB_FATTR_LOCKOWNER, FATTR_LOCKOWNER);
	SAME_CONST(FB_FATTR_CTIME, FATTR_CTIME);
	SAME_CONST(FB_FATTR_KILL_SUIDGID, FATTR_KILL_SUIDGID);
	SAME_CONST(FB_FOPEN_DIRECT_IO, FOPEN_DIRECT_IO);
	SAME_CONST(FB_FOPEN_KEEP_CACHE, FOPEN_KEEP_CACHE);
	SAME_CONST(FB_FOPEN_NONSEEKABLE, FOPEN_NONSEEKABLE);
	SAME_CONST(FB_FOPEN_CACHE_DIR, FOPEN_CACHE_DIR);
	SAME_CONST(FB_FOPEN_STREAM, FOPEN_STREAM);
	SAME_CONST(FB_FOPEN_NOFLUSH, FOPEN_NOFLUSH);
	SAME_CONST(FB_FOPEN_PARALLEL_DIRECT_WRITES, FOPEN_PARALLEL_DIRECT_WRITES);
	SAME_CONST(FB_ASYNC_READ, FUSE_ASYNC_READ);
	SAME_CONST(FB_POSIX_LOCKS, FUSE_POSIX_LOCKS);
	SAME_CONST(FB_FILE_OPS, FUSE_FILE_OPS);
	SAME_CONST(FB_ATOMIC_O_TRUNC, FUSE_ATOMIC_O_TRUNC);
	SAME_CONST(FB_EXPORT_SUPPORT, FUSE_EXPORT_SUPPORT);
	SAME_CONST(FB_BIG_WRITES, FUSE_BIG_WRITES);
	SAME_CONST(FB_DONT_MASK, FUSE_DONT_MASK);
	SAME_CONST(FB_SPLICE_WRITE, FUSE_SPLICE_WRITE);
	SAME_CONST(FB_SPLICE_MOVE, FUSE_SPLICE_MOVE);
	SAME_CONST(FB_SPLICE_READ, FUSE_SPLICE_READ);
	SAME_CONST(FB_FLOCK_LOCKS, FUSE_FLOCK_LOCKS);
	SAME_CONST(FB_HAS_IOCTL_DIR, FUSE_HAS_IOCTL_DIR);
	SAME_CONST(FB_AUTO_INVAL_DATA, FUSE_AUTO_INVAL_DATA);
	SAME_CONST(FB_DO_READDIRPLUS, FUSE_DO_READDIRPLUS);
	SAME_CONST(FB_READDIRPLUS_AUTO, FUSE_READDIRPLUS_AUTO);
	SAME_CONST(FB_ASYNC_DIO, FUSE_ASYNC_DIO);
	SAME_CONST(FB_WRITEBACK_CACHE, FUSE_WRITEBACK_CACHE);
	SAME_CONST(FB_NO_OPEN_SUPPORT, FUSE_NO_OPEN_SUPPORT);
	SAME_CONST(FB_PARALLEL_DIROPS, FUSE_PARALLEL_DIROPS);
	SAME_CONST(FB_HANDLE_KILLPRIV, FUSE_HANDLE_KILLPRIV);
	SAME_CONST(FB_POSIX_ACL, FUSE_POSIX_ACL);
	SAME_CONST(FB_ABORT_ERROR, FUSE_ABORT_ERROR);
	SAME_CONST(FB_MAX_PAGES, FUSE_MAX_PAGES);
	SAME_CONST(FB_CACHE_SYMLINKS, FUSE_CACHE_SYMLINKS);
	SAME_CONST(FB_NO_OPENDIR_SUPPORT, FUSE_NO_OPENDIR_SUPPORT);
	SAME_CONST(FB_EXPLICIT_INVAL_DATA, FUSE_EXPLICIT_INVAL_DATA);
	SAME_CONST(FB_MAP_ALIGNMENT, FUSE_MAP_ALIGNMENT);
	SAME_CONST(FB_SUBMOUNTS, FUSE_SUBMOUNTS);
	SAME_CONST(FB_HANDLE_KILLPRIV_V2, FUSE_HANDLE_KILLPRIV_V2);
	SAME_CONST(FB_SETXATTR_EXT, FUSE_SETXATTR_EXT);
	SAME_CONST(FB_INIT_EXT, FUSE_INIT_EXT);
	/*
	 * The system's FUSE_INIT_RESERVED is (1 << 31), which overflows int (UBSan reports it),
	 * so it is not evaluated here; ours is 64-bit and must be bit 31.
	 */
	CHECK_EQ(FB_INIT_RESERVED, 0x80000000LL);
	SAME_CONST(FB_SECURITY_CTX, FUSE_SECURITY_CTX);
	SAME_CONST(FB_HAS_INODE_DAX, FUSE_HAS_INODE_DAX);
	SAME_CONST(FB_HAS_EXPIRE_ONLY, FUSE_HAS_EXPIRE_ONLY);
	SAME_CONST(FB_CUSE_UNRESTRICTED_IOCTL, CUSE_UNRESTRICTED_IOCTL);
	SAME_CONST(FB_RELEASE_FLUSH, FUSE_RELEASE_FLUSH);
	SAME_CONST(FB_RELEASE_FLOCK_UNLOCK, FUSE_RELEASE_FLOCK_UNLOCK);
	SAME_CONST(FB_GETATTR_FH, FUSE_GETATTR_FH);
	SAME_CONST(FB_LK_FLOCK, FUSE_LK_FLOCK);
	SAME_CONST(FB_WRITE_CACHE, FUSE_WRITE_CACHE);
	SAME_CONST(FB_WRITE_LOCKOWNER, FUSE_WRITE_LOCKOWNER);
	SAME_CONST(FB_WRITE_KILL_SUIDGID, FUSE_WRITE_KILL_SUIDGID);
	SAME_CONST(FB_WRITE_KILL_PRIV, FUSE_WRITE_KILL_PRIV);
	SAME_CONST(FB_READ_LOCKOWNER, FUSE_READ_LOCKOWNER);
	SAME_CONST(FB_IOCTL_COMPAT, FUSE_IOCTL_COMPAT);
	SAME_CONST(FB_IOCTL_UNRESTRICTED, FUSE_IOCTL_UNRESTRICTED);
	SAME_CONST(FB_IOCTL_RETRY, FUSE_IOCTL_RETRY);
	SAME_CONST(FB_IOCTL_32BIT, FUSE_IOCTL_32BIT);
	SAME_CONST(FB_IOCTL_DIR, FUSE_IOCTL_DIR);
	SAME_CONST(FB_IOCTL_COMPAT_X32, FUSE_IOCTL_COMPAT_X32);
	SAME_CONST(FB_IOCTL_MAX_IOV, FUSE_IOCTL_MAX_IOV);
	SAME_CONST(FB_POLL_SCHEDULE_NOTIFY, FUSE_POLL_SCHEDULE_NOTIFY);
	SAME_CONST(FB_FSYNC_FDATASYNC, FUSE_FSYNC_FDATASYNC);
	SAME_CONST(FB_ATTR_SUBMOUNT, FUSE_ATTR_SUBMOUNT);
	SAME_CONST(FB_ATTR_DAX, FUSE_ATTR_DAX);
	SAME_CONST(FB_OPEN_KILL_SUIDGID, FUSE_OPEN_KILL_SUIDGID);
	SAME_CONST(FB_SETXATTR_ACL_KILL_SGID, FUSE_SETXATTR_ACL_KILL_SGID);
	SAME_CONST(FB_EXPIRE_ONLY, FUSE_EXPIRE_ONLY);
	SAME_CONST(FB_MIN_READ_BUFFER, FUSE_MIN_READ_BUFFER);
	SAME_CONST(FB_COMPAT_ENTRY_OUT_SIZE, FUSE_COMPAT_ENTRY_OUT_SIZE);
	SAME_CONST(FB_COMPAT_ATTR_OUT_SIZE, FUSE_COMPAT_ATTR_OUT_SIZE);
	SAME_CONST(FB_COMPAT_MKNOD_IN_SIZE, FUSE_COMPAT_MKNOD_IN_SIZE);
	SAME_CONST(FB_COMPAT_WRITE_IN_SIZE, FUSE_COMPAT_WRITE_IN_SIZE);
	SAME_CONST(FB_COMPAT_STATFS_SIZE, FUSE_COMPAT_STATFS_SIZE);
	SAME_CONST(FB_COMPAT_SETXATTR_IN_SIZE, FUSE_COMPAT_SETXATTR_IN_SIZE);
	SAME_CONST(FB_COMPAT_INIT_OUT_SIZE, FUSE_COMPAT_INIT_OUT_SIZE);
	SAME_CONST(FB_COMPAT_22_INIT_OUT_SIZE, FUSE_COMPAT_22_INIT_OUT_SIZE);
	SAME_CONST(FB_CUSE_INIT_INFO_MAX, CUSE_INIT_INFO_MAX);
	SAME_CONST(FB_NAME_OFFSET, FUSE_NAME_OFFSET);
	SAME_CONST(FB_NAME_OFFSET_DIRENTPLUS, FUSE_NAME_OFFSET_DIRENTPLUS);
	SAME_CONST(FB_DEV_IOC_MAGIC, FUSE_DEV_IOC_MAGIC);
	SAME_CONST(FB_DEV_IOC_CLONE, FUSE_DEV_IOC_CLONE);
	SAME_CONST(FB_SETUPMAPPING_FLAG_WRITE, FUSE_SETUPMAPPING_FLAG_WRITE);
	SAME_CONST(FB_SETUPMAPPING_FLAG_READ, FUSE_SETUPMAPPING_FLAG_READ);
}

TEST(enum_values)
{
	SAME_CONST(FB_MAX_NR_SECCTX, FUSE_MAX_NR_SECCTX);
	SAME_CONST(FB_LOOKUP, FUSE_LOOKUP);
	SAME_CONST(FB_FORGET, FUSE_FORGET);
	SAME_CONST(FB_GETATTR, FUSE_GETATTR);
	SAME_CONST(FB_SETATTR, FUSE_SETATTR);
	SAME_CONST(FB_READLINK, FUSE_READLINK);
	SAME_CONST(FB_SYMLINK, FUSE_SYMLINK);
	SAME_CONST(FB_MKNOD, FUSE_MKNOD);
	SAME_CONST(FB_MKDIR, FUSE_MKDIR);
	SAME_CONST(FB_UNLINK, FUSE_UNLINK);
	SAME_CONST(FB_RMDIR, FUSE_RMDIR);
	SAME_CONST(FB_RENAME, FUSE_RENAME);
	SAME_CONST(FB_LINK, FUSE_LINK);
	SAME_CONST(FB_OPEN, FUSE_OPEN);
	SAME_CONST(FB_READ, FUSE_READ);
	SAME_CONST(FB_WRITE, FUSE_WRITE);
	SAME_CONST(FB_STATFS, FUSE_STATFS);
	SAME_CONST(FB_RELEASE, FUSE_RELEASE);
	SAME_CONST(FB_FSYNC, FUSE_FSYNC);
	SAME_CONST(FB_SETXATTR, FUSE_SETXATTR);
	SAME_CONST(FB_GETXATTR, FUSE_GETXATTR);
	SAME_CONST(FB_LISTXATTR, FUSE_LISTXATTR);
	SAME_CONST(FB_REMOVEXATTR, FUSE_REMOVEXATTR);
	SAME_CONST(FB_FLUSH, FUSE_FLUSH);
	SAME_CONST(FB_INIT, FUSE_INIT);
	SAME_CONST(FB_OPENDIR, FUSE_OPENDIR);
	SAME_CONST(FB_READDIR, FUSE_READDIR);
	SAME_CONST(FB_RELEASEDIR, FUSE_RELEASEDIR);
	SAME_CONST(FB_FSYNCDIR, FUSE_FSYNCDIR);
	SAME_CONST(FB_GETLK, FUSE_GETLK);
	SAME_CONST(FB_SETLK, FUSE_SETLK);
	SAME_CONST(FB_SETLKW, FUSE_SETLKW);
	SAME_CONST(FB_ACCESS, FUSE_ACCESS);
	SAME_CONST(FB_CREATE, FUSE_CREATE);
	SAME_CONST(FB_INTERRUPT, FUSE_INTERRUPT);
	SAME_CONST(FB_BMAP, FUSE_BMAP);
	SAME_CONST(FB_DESTROY, FUSE_DESTROY);
	SAME_CONST(FB_IOCTL, FUSE_IOCTL);
	SAME_CONST(FB_POLL, FUSE_POLL);
	SAME_CONST(FB_NOTIFY_REPLY, FUSE_NOTIFY_REPLY);
	SAME_CONST(FB_BATCH_FORGET, FUSE_BATCH_FORGET);
	SAME_CONST(FB_FALLOCATE, FUSE_FALLOCATE);
	SAME_CONST(FB_READDIRPLUS, FUSE_READDIRPLUS);
	SAME_CONST(FB_RENAME2, FUSE_RENAME2);
	SAME_CONST(FB_LSEEK, FUSE_LSEEK);
	SAME_CONST(FB_COPY_FILE_RANGE, FUSE_COPY_FILE_RANGE);
	SAME_CONST(FB_SETUPMAPPING, FUSE_SETUPMAPPING);
	SAME_CONST(FB_REMOVEMAPPING, FUSE_REMOVEMAPPING);
	SAME_CONST(FB_SYNCFS, FUSE_SYNCFS);
	SAME_CONST(FB_TMPFILE, FUSE_TMPFILE);
	SAME_CONST(FB_CUSE_INIT, CUSE_INIT);
	SAME_CONST(FB_CUSE_INIT_BSWAP_RESERVED, CUSE_INIT_BSWAP_RESERVED);
	SAME_CONST(FB_INIT_BSWAP_RESERVED, FUSE_INIT_BSWAP_RESERVED);
	SAME_CONST(FB_NOTIFY_POLL, FUSE_NOTIFY_POLL);
	SAME_CONST(FB_NOTIFY_INVAL_INODE, FUSE_NOTIFY_INVAL_INODE);
	SAME_CONST(FB_NOTIFY_INVAL_ENTRY, FUSE_NOTIFY_INVAL_ENTRY);
	SAME_CONST(FB_NOTIFY_STORE, FUSE_NOTIFY_STORE);
	SAME_CONST(FB_NOTIFY_RETRIEVE, FUSE_NOTIFY_RETRIEVE);
	SAME_CONST(FB_NOTIFY_DELETE, FUSE_NOTIFY_DELETE);
}

/* Things the system header has in a form that cannot be compared one to one. */
TEST(versions_and_helpers)
{
	struct fb_dirent d = {.namelen = 5};
	struct fuse_dirent sd = {.namelen = 5};
	struct fb_direntplus dp = {.dirent = {.namelen = 17}};
	struct fuse_direntplus sdp = {.dirent = {.namelen = 17}};

	/* Ours may be newer than the system's, never older. */
	CHECK(FB_KERNEL_MINOR_VERSION >= FUSE_KERNEL_MINOR_VERSION);
	CHECK_EQ(FB_KERNEL_MINOR_VERSION, 45);
	CHECK((int)FB_NOTIFY_CODE_MAX >= (int)FUSE_NOTIFY_CODE_MAX);

	CHECK_EQ(FB_DIRENT_SIZE(&d), FUSE_DIRENT_SIZE(&sd));
	CHECK_EQ(FB_DIRENT_SIZE(&d), 32);
	CHECK_EQ(FB_DIRENTPLUS_SIZE(&dp), FUSE_DIRENTPLUS_SIZE(&sdp));
	CHECK_EQ(FB_DIRENT_ALIGN(0), 0);
	CHECK_EQ(FB_DIRENT_ALIGN(1), 8);
	CHECK_EQ(FB_DIRENT_ALIGN(8), 8);
	CHECK_EQ(FB_DIRENT_ALIGN(25), 32);
	CHECK_EQ(FB_REMOVEMAPPING_MAX_ENTRY(4096), 256);
}

/* 7.39..7.45 items the Debian 12 header lacks: values from the protocol's documentation. */
TEST(newer_constants)
{
	CHECK_EQ(FB_STATX, 52);
	CHECK_EQ(FB_COPY_FILE_RANGE_64, 53);
	CHECK_EQ(FB_NOTIFY_RESEND, 7);
	CHECK_EQ(FB_NOTIFY_INC_EPOCH, 8);
	CHECK_EQ(FB_NOTIFY_PRUNE, 9);
	CHECK_EQ(FB_EXT_GROUPS, 32);
	CHECK(FB_CREATE_SUPP_GROUP == (1ULL << 34));
	CHECK(FB_DIRECT_IO_ALLOW_MMAP == (1ULL << 36));
	CHECK(FB_PASSTHROUGH == (1ULL << 37));
	CHECK(FB_NO_EXPORT_SUPPORT == (1ULL << 38));
	CHECK(FB_HAS_RESEND == (1ULL << 39));
	CHECK(FB_ALLOW_IDMAP == (1ULL << 40));
	CHECK(FB_OVER_IO_URING == (1ULL << 41));
	CHECK(FB_REQUEST_TIMEOUT == (1ULL << 42));
	CHECK(FB_UNIQUE_RESEND == (1ULL << 63));
	CHECK_EQ(FB_FOPEN_PASSTHROUGH, 1 << 7);
	CHECK_EQ(FB_IO_URING_CMD_REGISTER, 1);
	CHECK_EQ(FB_IO_URING_CMD_COMMIT_AND_FETCH, 2);
	/* The ioctl numbers as encoded on x86-64 and arm64 (the generic _IOC layout). */
	CHECK_EQ(FB_DEV_IOC_CLONE, 0x8004e500LL);
	CHECK_EQ(FB_DEV_IOC_BACKING_OPEN, 0x4010e501LL);
	CHECK_EQ(FB_DEV_IOC_BACKING_CLOSE, 0x4004e502LL);
	CHECK_EQ(FB_DEV_IOC_SYNC_INIT, 0xe503LL);
	/* Capability bits split at the wire: the high half of one uint64 is flags2. */
	CHECK_EQ((uint32_t)(FB_PASSTHROUGH >> 32), 1 << 5);
}

/* Names for logs. */
TEST(names)
{
	CHECK_STR(fb_opcode_name(FB_LOOKUP), "LOOKUP");
	CHECK_STR(fb_opcode_name(FB_COPY_FILE_RANGE_64), "COPY_FILE_RANGE_64");
	CHECK_STR(fb_opcode_name(FB_CUSE_INIT), "CUSE_INIT");
	CHECK_STR(fb_opcode_name(0), "UNKNOWN");
	CHECK_STR(fb_opcode_name(7), "UNKNOWN");
	CHECK_STR(fb_opcode_name(19), "UNKNOWN");
	CHECK_STR(fb_opcode_name(54), "UNKNOWN");
	CHECK_STR(fb_opcode_name(UINT32_MAX), "UNKNOWN");
	CHECK_STR(fb_notify_name(FB_NOTIFY_INVAL_ENTRY), "INVAL_ENTRY");
	CHECK_STR(fb_notify_name(FB_NOTIFY_PRUNE), "PRUNE");
	CHECK_STR(fb_notify_name(0), "UNKNOWN");
	CHECK_STR(fb_notify_name(-2), "UNKNOWN");
	CHECK_STR(fb_notify_name(FB_NOTIFY_CODE_MAX), "UNKNOWN");
	for (uint32_t op = 1; op <= FB_COPY_FILE_RANGE_64; op++) {
		if (op == 7 || op == 19)
			continue;
		CHECK(strcmp(fb_opcode_name(op), "UNKNOWN") != 0);
	}
}

TEST_MAIN()
