#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
"""Write the seed inputs of fuzz_vhost_user into tests/fuzz/corpus/vhost_user/.

Each seed follows the input layout described in tests/fuzz/fuzz_vhost_user.c: one option byte,
then records (a front-end message with fds to attach, or a write into the guest's memfd).
Seeds: QEMU 7.2's start sequence with a FUSE INIT and GETATTR in a real ring, the stop and
restart of rings, SET_MEM_TABLE, every message we handle once, and malformed ones (sizes,
fds, indexes, regions, a truncated message, a lying size field).

Usage: tests/fuzz/gen_corpus_vhost_user.py [OUTDIR]
"""
import os
import struct
import sys

REQ = dict(GET_FEATURES=1, SET_FEATURES=2, SET_OWNER=3, RESET_OWNER=4, SET_MEM_TABLE=5,
           SET_VRING_NUM=8, SET_VRING_ADDR=9, SET_VRING_BASE=10, GET_VRING_BASE=11,
           SET_VRING_KICK=12, SET_VRING_CALL=13, SET_VRING_ERR=14, GET_PROTOCOL_FEATURES=15,
           SET_PROTOCOL_FEATURES=16, GET_QUEUE_NUM=17, SET_VRING_ENABLE=18,
           SET_BACKEND_REQ_FD=21, RESET_DEVICE=34, GET_MAX_MEM_SLOTS=36, ADD_MEM_REG=37,
           REM_MEM_REG=38)
V1, NEED_REPLY = 0x1, 0x8
FEATURES = (1 << 32) | (1 << 28) | (1 << 29) | (1 << 30)
PROTOCOL = (1 << 0) | (1 << 3) | (1 << 5) | (1 << 10) | (1 << 13) | (1 << 15)
MEM_SIZE = 64 * 1024
UADDR = 0x10000000
# Ring layout in guest memory (gpa 0 = memfd offset 0), for queue q at q * RING_STRIDE.
RING_STRIDE = 0x3000
DESC, AVAIL, USED = 0x0, 0x1000, 0x2000
REQ_BUF, REP_BUF = 0xa000, 0xb000

MEMFD, EVENTFD = 0x10, 0x00


def msg(req, payload=b"", fds=0, kind=EVENTFD, flags=V1 | NEED_REPLY, size=None, cut=False):
    k = fds | (kind if fds else 0) | (0x40 if size is not None else 0) | (0x80 if cut else 0)
    out = struct.pack("<BIIH", k, REQ[req] if isinstance(req, str) else req, flags,
                      len(payload))
    if size is not None:
        out += struct.pack("<I", size)
    return out + payload


def memwrite(off, data):
    return struct.pack("<BHH", 0x20, off, len(data)) + data


def u64(v):
    return struct.pack("<Q", v)


def state(idx, num):
    return struct.pack("<II", idx, num)


def region(gpa, size, uaddr, off):
    return struct.pack("<QQQQ", gpa, size, uaddr, off)


def vring_addr(idx, base):
    return struct.pack("<IIQQQQ", idx, 0, UADDR + base + DESC, UADDR + base + USED,
                       UADDR + base + AVAIL, 0)


def handshake():
    return (msg("GET_FEATURES", flags=V1) + msg("GET_PROTOCOL_FEATURES", flags=V1) +
            msg("SET_PROTOCOL_FEATURES", u64(PROTOCOL), flags=V1) +
            msg("GET_QUEUE_NUM", flags=V1) + msg("GET_MAX_MEM_SLOTS", flags=V1) +
            msg("SET_OWNER") + msg("SET_FEATURES", u64(FEATURES)) +
            msg("ADD_MEM_REG", u64(0) + region(0, MEM_SIZE, UADDR, 0), 1, MEMFD))


def ring(q, num=8, base=0):
    b = q * RING_STRIDE
    return (msg("SET_VRING_NUM", state(q, num)) + msg("SET_VRING_BASE", state(q, base)) +
            msg("SET_VRING_ADDR", vring_addr(q, b)) + msg("SET_VRING_KICK", u64(q), 1) +
            msg("SET_VRING_CALL", u64(q), 1) + msg("SET_VRING_ENABLE", state(q, 1)))


def stop_ring(q):
    return (msg("SET_VRING_ENABLE", state(q, 0)) + msg("GET_VRING_BASE", state(q, 0), flags=V1) +
            msg("SET_VRING_CALL", u64(q), 1))


def fuse_in(opcode, unique, nodeid, body):
    return struct.pack("<IIQQIIIHH", 40 + len(body), opcode, unique, nodeid, 0, 0, 1, 0, 0) + body


def chain_memory(q, reqs, buf=REQ_BUF):
    """Descriptors, avail ring and request buffers of queue q for the FUSE requests reqs:
    each one a readable descriptor and a writable one of 4 KiB (reply buffers overlap, as
    nothing reads them)."""
    b = q * RING_STRIDE
    out = b""
    off = buf
    descs = b""
    for i, r in enumerate(reqs):
        out += memwrite(off, r)
        descs += struct.pack("<QIHH", off, len(r), 1, 2 * i + 1)
        descs += struct.pack("<QIHH", REP_BUF, 4096, 2, 0)
        off += (len(r) + 63) & ~63
    avail = struct.pack("<HH", 0, len(reqs)) + b"".join(struct.pack("<H", 2 * i)
                                                        for i in range(len(reqs)))
    return out + memwrite(b + DESC, descs) + memwrite(b + AVAIL, avail)


INIT = fuse_in(26, 2, 0, struct.pack("<IIIII", 7, 36, 0, 0, 0) + bytes(44))
GETATTR = fuse_in(3, 4, 1, bytes(16))
FORGET = fuse_in(2, 6, 1, u64(1))


def seeds():
    opt = bytes([0])
    yield "qemu72_start", opt + handshake() + ring(0) + ring(1)
    yield "threads_init_getattr", (bytes([8]) + handshake() + chain_memory(1, [INIT, GETATTR]) +
                                   ring(0) + ring(1) + stop_ring(1) + ring(1, base=2))
    yield "qemu72_init_getattr", (opt + handshake() + chain_memory(1, [INIT, GETATTR]) +
                                  ring(0) + ring(1))
    yield "qemu72_forget_hiprio", (opt + handshake() + chain_memory(1, [INIT]) +
                                   chain_memory(0, [FORGET], REQ_BUF + 0x800) + ring(1) +
                                   ring(0))
    yield "qemu72_poweroff_restart", (opt + handshake() + chain_memory(1, [INIT]) + ring(0) +
                                      ring(1) + stop_ring(0) + stop_ring(1) + ring(0) +
                                      ring(1, base=1))
    yield "four_queues", bytes([3 << 1]) + handshake() + b"".join(ring(q) for q in range(5))
    yield "no_dax", bytes([1]) + handshake() + msg("SET_BACKEND_REQ_FD", fds=1)
    yield "backend_req_fd", opt + handshake() + msg("SET_BACKEND_REQ_FD", fds=1)
    table = struct.pack("<II", 2, 0) + region(0, 0x8000, UADDR, 0) + \
        region(0x100000, 0x8000, UADDR + 0x8000, 0x8000)
    yield "set_mem_table", (opt + msg("SET_FEATURES", u64(FEATURES)) +
                            msg("SET_MEM_TABLE", table, 2, MEMFD) + ring(1) +
                            msg("SET_MEM_TABLE", table, 2, MEMFD))
    yield "rem_mem_reg_under_ring", (opt + handshake() + ring(1) +
                                     msg("REM_MEM_REG", u64(0) + region(0, MEM_SIZE, UADDR, 0),
                                         1, MEMFD) +
                                     msg("ADD_MEM_REG", u64(0) + region(0, MEM_SIZE, UADDR, 0),
                                         1, MEMFD))
    yield "reset_device", opt + handshake() + ring(1) + msg("RESET_DEVICE") + ring(1)
    yield "reset_owner", opt + handshake() + ring(1) + msg("RESET_OWNER")
    yield "no_protocol_features", (opt + msg("SET_FEATURES", u64(1 << 32)) +
                                   msg("ADD_MEM_REG", u64(0) + region(0, MEM_SIZE, UADDR, 0),
                                       1, MEMFD) +
                                   msg("SET_VRING_NUM", state(1, 8)) +
                                   msg("SET_VRING_ADDR", vring_addr(1, RING_STRIDE)) +
                                   msg("SET_VRING_KICK", u64(1), 1))
    yield "vring_err_nofd", opt + handshake() + msg("SET_VRING_ERR", u64(1), 1) + \
        msg("SET_VRING_ERR", u64(1 | 0x100)) + msg("SET_VRING_CALL", u64(0x100))
    # Malformed.
    bad = [
        msg("SET_FEATURES", b"abcd"),
        msg("SET_FEATURES", u64(1 << 40)),
        msg("SET_OWNER", fds=2),
        msg("SET_VRING_NUM", state(0, 100)),
        msg("SET_VRING_NUM", state(9, 8)),
        msg("SET_VRING_NUM", state(0, 4096)),
        msg("SET_VRING_BASE", state(0, 1 << 20)),
        msg("SET_VRING_KICK", u64(0x100)),
        msg("SET_VRING_KICK", u64(0x100), 1),
        msg("SET_VRING_KICK", u64(0x200), 1),
        msg("SET_VRING_ADDR", vring_addr(1, MEM_SIZE)),
        msg("ADD_MEM_REG", u64(0) + region(0x1000, 0x1000, UADDR, 0), 1, MEMFD),
        msg("ADD_MEM_REG", u64(0) + region(1 << 40, MEM_SIZE, 1 << 44, 0x1000), 1, MEMFD),
        msg("ADD_MEM_REG", u64(0) + region(1 << 40, 0x1000, 1 << 44, 0), 1, EVENTFD),
        msg("ADD_MEM_REG", u64(0) + region(2**64 - 4096, 0x2000, 1 << 44, 0), 1, MEMFD),
        msg("REM_MEM_REG", u64(0) + region(5, 5, 5, 5)),
        msg("SET_MEM_TABLE", struct.pack("<II", 1, 0) + region(0, 4096, 0, 0), 9, MEMFD),
        msg("SET_MEM_TABLE", struct.pack("<II", 3, 0)),
        msg(99, b"xyz", 1),
        msg("SET_VRING_ENABLE", state(0, 5)),
        msg("SET_BACKEND_REQ_FD"),
        msg("GET_QUEUE_NUM", flags=V1),
    ]
    yield "malformed", opt + handshake() + b"".join(bad)
    yield "get_vring_base_bad_index", opt + handshake() + msg("GET_VRING_BASE", state(7, 0))
    yield "bad_version", opt + msg("SET_OWNER", flags=2)
    yield "huge_size", opt + msg("SET_OWNER", size=1 << 30)
    yield "lying_size", opt + handshake() + msg("SET_FEATURES", u64(FEATURES), size=16)
    yield "truncated", opt + handshake() + msg("SET_VRING_ADDR", vring_addr(1, 0), cut=True)
    yield "broken_avail", (opt + handshake() + ring(1) +
                           memwrite(RING_STRIDE + AVAIL, struct.pack("<HH", 0, 0x8000)) +
                           msg("GET_VRING_BASE", state(1, 0), flags=V1))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                             "corpus", "vhost_user")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
