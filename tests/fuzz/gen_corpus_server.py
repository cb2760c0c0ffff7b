#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
"""Write the seed inputs of fuzz_server into tests/fuzz/corpus/server/.

Each seed follows the input layout described in tests/fuzz/fuzz_server.c: a 10-byte prologue
(kernel minor, INIT flags, options), then u16-length-prefixed requests encoded as the kernel
sends them. Seeds cover every opcode once, a few whole sessions over memfs (which numbers new
inodes from 2 upwards), extensions, and some malformed requests.

Usage: tests/fuzz/gen_corpus_server.py [OUTDIR]
"""
import os
import struct
import sys

ALL_FLAGS = ((1 << 43) - 1) & ~(1 << 31)

OP = dict(LOOKUP=1, FORGET=2, GETATTR=3, SETATTR=4, READLINK=5, SYMLINK=6, MKNOD=8, MKDIR=9,
          UNLINK=10, RMDIR=11, RENAME=12, LINK=13, OPEN=14, READ=15, WRITE=16, STATFS=17,
          RELEASE=18, FSYNC=20, SETXATTR=21, GETXATTR=22, LISTXATTR=23, REMOVEXATTR=24,
          FLUSH=25, INIT=26, OPENDIR=27, READDIR=28, RELEASEDIR=29, FSYNCDIR=30, GETLK=31,
          SETLK=32, SETLKW=33, ACCESS=34, CREATE=35, INTERRUPT=36, BMAP=37, DESTROY=38,
          IOCTL=39, POLL=40, NOTIFY_REPLY=41, BATCH_FORGET=42, FALLOCATE=43, READDIRPLUS=44,
          RENAME2=45, LSEEK=46, COPY_FILE_RANGE=47, SETUPMAPPING=48, REMOVEMAPPING=49,
          SYNCFS=50, TMPFILE=51, STATX=52, COPY_FILE_RANGE_64=53)


class Seq:
    """Unique numbers as the kernel hands them out (even; odd ones are interrupts)."""
    n = 2

    @classmethod
    def next(cls):
        cls.n += 2
        return cls.n


def req(op, nodeid, args=b"", unique=None, uid=0, gid=0, ext=b""):
    unique = Seq.next() if unique is None else unique
    body = args + ext
    hdr = struct.pack("<IIQQIIIHH", 40 + len(body), OP[op] if isinstance(op, str) else op,
                      unique, nodeid, uid, gid, 1234, len(ext) // 8, 0)
    return hdr + body


def rec(r, keep_len=False):
    n = len(r) | (0x8000 if keep_len else 0)
    return struct.pack("<H", n) + r


def prologue(minor=45, flags=ALL_FLAGS, opts=0):
    return bytes([(minor - 27) % 20]) + struct.pack("<Q", flags) + bytes([opts])


def name(s):
    return s.encode() + b"\0"


def read_in(fh=0, off=0, size=4096):
    return struct.pack("<QQIIQII", fh, off, size, 0, 0, 0, 0)


def write_in(fh, off, data):
    return struct.pack("<QQIIQII", fh, off, len(data), 0, 0, 0, 0) + data


def create_in(flags=0o102, mode=0o100644, umask=0o22):
    return struct.pack("<IIII", flags, mode, umask, 0)


def ext_groups(groups):
    body = struct.pack("<I", len(groups)) + b"".join(struct.pack("<I", g) for g in groups)
    size = (8 + len(body) + 7) // 8 * 8
    return (struct.pack("<II", size, 32) + body).ljust(size, b"\0")


def ext_secctx(nm, val):
    body = struct.pack("<II", len(val), 0) + name(nm) + val
    size = (8 + len(body) + 7) // 8 * 8
    return (struct.pack("<II", size, 1) + body).ljust(size, b"\0")


def one_of_each():
    """One well-formed request per opcode, against inode 2 (created first)."""
    seeds = {}
    mk = rec(req("MKDIR", 1, struct.pack("<II", 0o755, 0o22) + name("d")))
    cr = rec(req("CREATE", 1, create_in() + name("f")))
    setup = mk + cr
    fixed = {
        "LOOKUP": (1, name("d")),
        "FORGET": (2, struct.pack("<Q", 1)),
        "GETATTR": (3, struct.pack("<IIQ", 0, 0, 0)),
        "SETATTR": (3, struct.pack("<IIQQQQQQIIIIIIII", 0x8 | 0x1, 0, 0, 10, 0, 0, 0, 0, 0,
                                   0, 0, 0o600, 0, 0, 0, 0)),
        "READLINK": (3, b""),
        "SYMLINK": (1, name("l") + name("target")),
        "MKNOD": (1, struct.pack("<IIII", 0o10644, 0, 0o22, 0) + name("fifo")),
        "UNLINK": (1, name("f")),
        "RMDIR": (1, name("d")),
        "RENAME": (1, struct.pack("<Q", 2) + name("f") + name("g")),
        "LINK": (1, struct.pack("<Q", 3) + name("hard")),
        "OPEN": (3, struct.pack("<II", 2, 0)),
        "READ": (3, read_in(1, 0, 100)),
        "WRITE": (3, write_in(1, 0, b"hello fuzz")),
        "STATFS": (1, b""),
        "RELEASE": (3, struct.pack("<QIIQ", 1, 2, 0, 0)),
        "FSYNC": (3, struct.pack("<QII", 1, 1, 0)),
        "SETXATTR": (3, struct.pack("<IIII", 3, 0, 0, 0) + name("user.a") + b"xyz"),
        "GETXATTR": (3, struct.pack("<II", 64, 0) + name("user.a")),
        "LISTXATTR": (3, struct.pack("<II", 64, 0)),
        "REMOVEXATTR": (3, name("user.a")),
        "FLUSH": (3, struct.pack("<QIIQ", 1, 0, 0, 7)),
        "OPENDIR": (2, struct.pack("<II", 0, 0)),
        "READDIR": (2, read_in(0, 0, 4096)),
        "RELEASEDIR": (2, struct.pack("<QIIQ", 0, 0, 0, 0)),
        "FSYNCDIR": (2, struct.pack("<QII", 0, 0, 0)),
        "GETLK": (3, struct.pack("<QQQQIIII", 1, 5, 0, 100, 1, 1234, 0, 0)),
        "SETLK": (3, struct.pack("<QQQQIIII", 1, 5, 0, 100, 1, 1234, 0, 0)),
        "SETLKW": (3, struct.pack("<QQQQIIII", 1, 5, 0, 0, 1, 1234, 1, 0)),
        "ACCESS": (3, struct.pack("<II", 4, 0)),
        "INTERRUPT": (0, struct.pack("<Q", 1000)),
        "BMAP": (3, struct.pack("<QII", 0, 512, 0)),
        "DESTROY": (0, b""),
        "IOCTL": (3, struct.pack("<QIIQII", 1, 0, 0x80045401, 0, 4, 8) + b"abcd"),
        "POLL": (3, struct.pack("<QQII", 1, 99, 1, 1)),
        "NOTIFY_REPLY": (3, struct.pack("<QQIIQQ", 0, 0, 4, 0, 0, 0) + b"data"),
        "BATCH_FORGET": (0, struct.pack("<II", 2, 0) + struct.pack("<QQQQ", 2, 1, 3, 1)),
        "FALLOCATE": (3, struct.pack("<QQQII", 1, 0, 8192, 0, 0)),
        "READDIRPLUS": (2, read_in(0, 0, 4096)),
        "RENAME2": (1, struct.pack("<QII", 1, 1, 0) + name("f") + name("h")),
        "LSEEK": (3, struct.pack("<QQII", 1, 0, 3, 0)),
        "COPY_FILE_RANGE": (3, struct.pack("<QQQQQQQ", 1, 0, 3, 1, 100, 10, 0)),
        "SETUPMAPPING": (3, struct.pack("<QQQQQ", 1, 0, 4096, 1, 0)),
        "REMOVEMAPPING": (0, struct.pack("<I", 1) + struct.pack("<QQ", 0, 4096)),
        "SYNCFS": (1, struct.pack("<Q", 0)),
        "TMPFILE": (1, create_in(2, 0o100600) + name("/")),
        "STATX": (3, struct.pack("<IIQII", 0, 0, 0, 0, 0x7ff)),
        "COPY_FILE_RANGE_64": (3, struct.pack("<QQQQQQQ", 1, 0, 3, 1, 100, 10, 0)),
    }
    for op, (node, args) in fixed.items():
        seeds["op_" + op.lower()] = prologue() + setup + rec(req(op, node, args))
    return seeds


def sessions():
    seeds = {}
    s = prologue()
    s += rec(req("MKDIR", 1, struct.pack("<II", 0o755, 0o22) + name("dir")))
    s += rec(req("CREATE", 2, create_in() + name("file")))
    s += rec(req("WRITE", 3, write_in(1, 0, b"x" * 5000)))
    s += rec(req("READ", 3, read_in(1, 100, 200)))
    s += rec(req("OPENDIR", 2, struct.pack("<II", 0, 0)))
    s += rec(req("READDIRPLUS", 2, read_in(2, 0, 4096)))
    s += rec(req("READDIR", 2, read_in(2, 1, 4096)))
    s += rec(req("RELEASEDIR", 2, struct.pack("<QIIQ", 2, 0, 0, 0)))
    s += rec(req("RELEASE", 3, struct.pack("<QIIQ", 1, 2, 0, 0)))
    s += rec(req("FORGET", 3, struct.pack("<Q", 2)))
    s += rec(req("UNLINK", 2, name("file")))
    s += rec(req("RMDIR", 1, name("dir")))
    s += rec(req("FORGET", 2, struct.pack("<Q", 1)))
    s += rec(req("DESTROY", 0))
    seeds["session_basic"] = s

    s = prologue(opts=1)  # max_write 4096
    s += rec(req("CREATE", 1, create_in() + name("a")))
    s += rec(req("SETXATTR", 2, struct.pack("<IIII", 5, 0, 0, 0) + name("user.k") + b"value"))
    s += rec(req("GETXATTR", 2, struct.pack("<II", 0, 0) + name("user.k")))
    s += rec(req("LISTXATTR", 2, struct.pack("<II", 100, 0)))
    s += rec(req("SYMLINK", 1, name("s") + name("a")))
    s += rec(req("READLINK", 3))
    s += rec(req("LINK", 1, struct.pack("<Q", 2) + name("b")))
    s += rec(req("RENAME2", 1, struct.pack("<QII", 1, 2, 0) + name("a") + name("b")))
    s += rec(req("STATX", 2, struct.pack("<IIQII", 0, 0, 0, 0, 0xfff)))
    s += rec(req("LSEEK", 2, struct.pack("<QQII", 1, 0, 4, 0)))
    s += rec(req("WRITE", 2, write_in(1, 0, b"y" * 4096)))
    seeds["session_xattr_links"] = s

    s = prologue(minor=45, opts=2)
    grp = ext_groups([100, 200])
    sec = ext_secctx("security.selinux", b"u:r:t:s0")
    s += rec(req("MKDIR", 1, struct.pack("<II", 0o775, 0o2) + name("g"), ext=grp))
    s += rec(req("CREATE", 1, create_in() + name("s"), ext=sec + grp))
    s += rec(req("MKNOD", 1, struct.pack("<IIII", 0o140644, 0, 0, 0) + name("sock"), ext=sec))
    s += rec(req("SYMLINK", 1, name("ln") + name("g"), ext=grp))
    seeds["session_extensions"] = s

    for minor in (27, 31, 36, 38, 40, 46):
        seeds["init_minor_%d" % minor] = prologue(minor=minor) + rec(
            req("LOOKUP", 1, name("nothing")))
    seeds["init_no_ext"] = prologue(flags=ALL_FLAGS & ~(1 << 30)) + rec(
        req("GETATTR", 1, struct.pack("<IIQ", 0, 0, 0)))
    seeds["init_twice"] = prologue() + rec(req("INIT", 0, struct.pack("<IIII", 7, 45, 0, 0)))
    seeds["debug_log"] = prologue(opts=4) + rec(req("LOOKUP", 1, name("x"))) + rec(
        req("STATFS", 1))
    return seeds


def malformed():
    seeds = {}
    p = prologue()
    seeds["bad_len"] = p + rec(req("LOOKUP", 1, name("x"))[:-1] + b"\0\0", keep_len=True)
    seeds["short_header"] = p + rec(b"\x28\0\0\0\x01\0\0\0")
    seeds["no_nul"] = p + rec(req("LOOKUP", 1, b"abc"))
    seeds["long_name"] = p + rec(req("LOOKUP", 1, name("n" * 1100)))
    seeds["dotdot"] = p + rec(req("LOOKUP", 1, name("..")))
    seeds["write_lying"] = p + rec(req("CREATE", 1, create_in() + name("f"))) + rec(
        req("WRITE", 2, struct.pack("<QQIIQII", 1, 0, 100, 0, 0, 0, 0) + b"x" * 10))
    seeds["batch_forget_lying"] = p + rec(
        req("BATCH_FORGET", 0, struct.pack("<II", 1000, 0) + struct.pack("<QQ", 2, 1)))
    bad_ext = req("MKDIR", 1, struct.pack("<II", 0o755, 0) + name("d"), ext=ext_groups([1]))
    bad_ext = bad_ext[:40 + 8 + 2] + struct.pack("<I", 4096) + bad_ext[40 + 8 + 2 + 4:]
    seeds["bad_extension"] = p + rec(bad_ext)
    seeds["unknown_opcode"] = p + rec(req(999, 1, b"\0" * 16))
    seeds["interrupt_unknown"] = p + rec(req("INTERRUPT", 0, struct.pack("<Q", 12345)))
    seeds["ioctl_unrestricted"] = p + rec(req("IOCTL", 1, struct.pack("<QIIQII", 0, 2, 1, 0,
                                                                        0, 0)))
    return seeds


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                             "corpus", "server")
    os.makedirs(out, exist_ok=True)
    seeds = {}
    seeds.update(one_of_each())
    seeds.update(sessions())
    seeds.update(malformed())
    for k, v in sorted(seeds.items()):
        with open(os.path.join(out, k), "wb") as f:
            f.write(v)
    print("%d seeds written to %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
