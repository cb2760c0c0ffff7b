#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
"""Write the seed inputs of fuzz_virtq into tests/fuzz/corpus/virtq/.

Each seed follows the input layout described in tests/fuzz/fuzz_virtq.c: a 6-byte prologue
(queue size, options, base, image length), a guest memory image with the rings at fixed places
and FUSE requests in descriptor chains, then 3-byte patches the guest applies between kicks.
Seeds cover whole sessions over memfs (direct and indirect chains, buffers crossing the region
boundary), each kind of malformed chain followed by a good one, a broken avail index, EVENT_IDX,
index wrap-around, and chains published by later patches.

Usage: tests/fuzz/gen_corpus_virtq.py [OUTDIR]
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_corpus_server import create_in, name, read_in, req, write_in  # noqa: E402

REGION_SIZE = 16 * 1024
IMAGE_SIZE = 2 * REGION_SIZE
REGION0_GPA = 0x10000
REGION1_HOLE_GPA = 0x40000
DESC_AREA = 4096
AVAIL_AREA = 1024
BUFS = 8192            # buffers start here (after the rings)

F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4
O_EVENT_IDX, O_HOLE, O_NO_INIT, O_POP = 1, 2, 4, 8


class Guest:
    """A guest driver writing into the memory image."""

    def __init__(self, qsize=16, opts=0, base=0):
        self.qsize = qsize
        self.opts = opts
        self.base = base
        self.mem = bytearray(IMAGE_SIZE)
        self.bump = BUFS
        self.avail_idx = base
        self.next_desc = 0
        self.patches = []
        self.set16(DESC_AREA + 2, base)

    # addresses
    def gpa(self, off):
        if off < REGION_SIZE:
            return REGION0_GPA + off
        g1 = REGION1_HOLE_GPA if self.opts & O_HOLE else REGION0_GPA + REGION_SIZE
        return g1 + off - REGION_SIZE

    def alloc(self, n):
        off = (self.bump + 15) & ~15
        if off + n > IMAGE_SIZE:
            raise ValueError("image full")
        self.bump = off + n
        return off

    def alloc_cross(self, n, before):
        """n bytes, the first `before` of them at the end of region 0."""
        off = REGION_SIZE - before
        assert self.bump <= off
        self.bump = off + n
        return off

    def put(self, off, b):
        self.mem[off:off + len(b)] = b

    def set16(self, off, v):
        self.put(off, struct.pack("<H", v & 0xffff))

    # rings
    def desc_at(self, table, i, off_or_gpa, length, flags, nxt, raw_addr=False):
        addr = off_or_gpa if raw_addr else self.gpa(off_or_gpa)
        self.put(table + 16 * i, struct.pack("<QIHH", addr, length, flags, nxt))

    def desc(self, i, off, length, flags, nxt=0, raw_addr=False):
        self.desc_at(0, i, off, length, flags, nxt, raw_addr)

    def ring_slot(self, idx):
        return DESC_AREA + 4 + 2 * (idx % self.qsize)

    def publish(self, head):
        self.set16(self.ring_slot(self.avail_idx), head)
        self.avail_idx = (self.avail_idx + 1) & 0xffff
        self.set16(DESC_AREA + 2, self.avail_idx)

    def publish_later(self, head):
        """Publish @head with patches (the guest writes it after the first kick)."""
        slot = self.ring_slot(self.avail_idx)
        self.avail_idx = (self.avail_idx + 1) & 0xffff
        self.patches += [(slot, head & 0xff), (slot + 1, head >> 8),
                         (DESC_AREA + 2, self.avail_idx & 0xff),
                         (DESC_AREA + 3, self.avail_idx >> 8)]

    def kick(self):
        """Pad the patches so the next ones come after another kick."""
        while len(self.patches) % 8:
            self.patches.append((IMAGE_SIZE - 1, 0))

    def set_used_event(self, v):
        self.set16(DESC_AREA + 4 + 2 * self.qsize, v)

    def chain(self, bufs, indirect):
        """bufs: (image offset, length, write). Returns the head."""
        head = self.next_desc
        n = len(bufs)
        if indirect:
            t = self.alloc(16 * n)
            for i, (off, ln, w) in enumerate(bufs):
                self.desc_at(t, i, off, ln, (F_WRITE if w else 0) | (F_NEXT if i + 1 < n else 0),
                             i + 1 if i + 1 < n else 0)
            self.desc(head, t, 16 * n, F_INDIRECT)
            self.next_desc = (self.next_desc + 1) % self.qsize
        else:
            for i, (off, ln, w) in enumerate(bufs):
                idx = self.next_desc
                self.next_desc = (self.next_desc + 1) % self.qsize
                self.desc(idx, off, ln, (F_WRITE if w else 0) | (F_NEXT if i + 1 < n else 0),
                          self.next_desc if i + 1 < n else 0)
        return head

    def request(self, r, reply=256, first=None, chunk=None, indirect=True, cross=None,
                reply_cross=None, later=False):
        """Put request bytes @r and @reply writable bytes in a chain, and publish it."""
        off = self.alloc_cross(len(r), cross) if cross else self.alloc(len(r))
        self.put(off, r)
        bufs = []
        pos = 0
        while pos < len(r):
            piece = len(r) - pos
            if pos == 0 and first:
                piece = min(piece, first)
            elif pos and chunk:
                piece = min(piece, chunk)
            bufs.append((off + pos, piece, 0))
            pos += piece
        if reply:
            roff = self.alloc_cross(reply, reply_cross) if reply_cross else self.alloc(reply)
            bufs.append((roff, reply, 1))
        head = self.chain(bufs, indirect)
        if later:
            self.publish_later(head)
        else:
            self.publish(head)
        return head

    def seed(self):
        img = bytes(self.mem).rstrip(b"\0")
        out = bytes([self.qsize.bit_length() - 1, self.opts]) + struct.pack("<HH", self.base,
                                                                           len(img)) + img
        for off, v in self.patches:
            out += struct.pack("<HB", off, v)
        return out


def init_req():
    return req("INIT", 0, struct.pack("<IIII", 7, 45, 131072, 0xffffffff)
               + struct.pack("<I", 0x3ff) + b"\0" * 44)


def getattr_req(node=1):
    return req("GETATTR", node, struct.pack("<IIQ", 0, 0, 0))


def session(g, indirect=True, guest_init=False):
    if guest_init:
        g.request(init_req(), reply=128, indirect=indirect)
    g.request(req("LOOKUP", 1, name("nothing")), first=40, indirect=indirect)
    g.request(req("CREATE", 1, create_in() + name("f")), first=56, indirect=indirect)
    g.request(req("WRITE", 2, write_in(1, 0, bytes(range(256)) * 12)), first=80, chunk=1024,
              reply=24, indirect=indirect, cross=1500)
    g.request(req("READ", 2, read_in(1, 100, 2500)), reply=16 + 2500, indirect=indirect)
    g.request(req("MKDIR", 1, struct.pack("<II", 0o755, 0o22) + name("d")), indirect=indirect)
    g.request(req("OPENDIR", 3, struct.pack("<II", 0, 0)), indirect=indirect)
    g.request(req("READDIRPLUS", 1, read_in(0, 0, 1024)), reply=1040, indirect=indirect)
    g.request(getattr_req(2), indirect=indirect)
    g.request(req("FORGET", 3, struct.pack("<Q", 1)), reply=0, indirect=indirect)
    return g


def sessions():
    seeds = {}
    seeds["session_indirect"] = session(Guest(16)).seed()
    seeds["session_direct"] = session(Guest(64), indirect=False).seed()
    seeds["session_guest_init"] = session(Guest(16, O_NO_INIT), guest_init=True).seed()
    g = Guest(16, O_EVENT_IDX)
    g.set_used_event(3)
    seeds["session_event_idx"] = session(g).seed()
    seeds["session_pop_check"] = session(Guest(16, O_POP)).seed()
    seeds["session_wrap"] = session(Guest(16, 0, base=65530)).seed()

    # A READ whose reply crosses from region 0 into region 1, in 512-byte pieces.
    g = Guest(16)
    g.request(req("CREATE", 1, create_in() + name("f")))
    g.request(req("WRITE", 2, write_in(1, 0, b"\x5a" * 3000)), first=80, chunk=512, reply=24)
    r = req("READ", 2, read_in(1, 0, 3000))
    off = g.alloc(len(r))
    g.put(off, r)
    hdr = g.alloc(16)
    data = g.alloc_cross(3000, 1000)
    g.publish(g.chain([(off, len(r), 0), (hdr, 16, 1)] +
                      [(data + i, min(512, 3000 - i), 1) for i in range(0, 3000, 512)], True))
    seeds["read_cross"] = g.seed()

    # Chains published one kick at a time, by the guest's later writes.
    g = Guest(8, O_EVENT_IDX)
    g.request(getattr_req())
    for i in range(4):
        g.request(req("LOOKUP", 1, name("x%d" % i)), later=True)
        g.kick()
    seeds["kicks"] = g.seed()

    # One descriptor per chain fits a queue of 1: requests without a reply.
    g = Guest(1)
    g.request(req("FORGET", 1, struct.pack("<Q", 1)), reply=0, indirect=False)
    g.kick()
    g.request(req("BATCH_FORGET", 0, struct.pack("<IIQQ", 1, 0, 1, 1)), reply=0,
              indirect=False, later=True)
    seeds["queue_size_1"] = g.seed()
    g = Guest(256)
    for i in range(40):
        g.request(req("LOOKUP", 1, name("n%d" % i)), reply=64)
    seeds["queue_size_256"] = g.seed()
    return seeds


def malformed():
    seeds = {}

    def bad(label, build, opts=0, qsize=8):
        g = Guest(qsize, opts)
        build(g)
        g.request(getattr_req())
        seeds["bad_" + label] = g.seed()
        g = Guest(qsize, opts | O_POP)
        build(g)
        g.request(getattr_req())
        seeds["bad_" + label + "_pop"] = g.seed()

    def head_beyond(g):
        g.publish(g.qsize + 3)

    def next_beyond(g):
        a = g.alloc(16)
        g.desc(0, a, 16, F_NEXT, g.qsize)
        g.next_desc = 1
        g.publish(0)

    def loop(g):
        a = g.alloc(16)
        g.desc(0, a, 16, F_NEXT, 1)
        g.desc(1, a, 16, F_NEXT, 0)
        g.next_desc = 2
        g.publish(0)

    def write_then_read(g):
        a, b = g.alloc(16), g.alloc(16)
        g.publish(g.chain([(a, 16, 0), (b, 16, 1), (a, 16, 0)], True))

    def nested(g):
        a, t2, t = g.alloc(16), g.alloc(16), g.alloc(32)
        g.desc_at(t2, 0, a, 16, 0, 0)
        g.desc_at(t, 0, a, 16, F_NEXT, 1)
        g.desc_at(t, 1, t2, 16, F_INDIRECT, 0)
        g.desc(0, t, 32, F_INDIRECT)
        g.next_desc = 1
        g.publish(0)

    def indirect_next(g):
        a, t = g.alloc(16), g.alloc(16)
        g.desc_at(t, 0, a, 16, 0, 0)
        g.desc(0, t, 16, F_INDIRECT | F_NEXT, 1)
        g.desc(1, a, 16, F_WRITE)
        g.next_desc = 2
        g.publish(0)

    def indirect_len(n):
        def build(g):
            a, t = g.alloc(16), g.alloc(16 * 16)
            for i in range(16):
                g.desc_at(t, i, a, 16, F_NEXT if i < 15 else 0, i + 1)
            g.desc(0, t, n, F_INDIRECT)
            g.next_desc = 1
            g.publish(0)
        return build

    def indirect_loop(g):
        a, t = g.alloc(16), g.alloc(32)
        g.desc_at(t, 0, a, 16, F_NEXT, 1)
        g.desc_at(t, 1, a, 16, F_NEXT, 0)
        g.desc(0, t, 32, F_INDIRECT)
        g.next_desc = 1
        g.publish(0)

    def table_outside(g):
        g.desc(0, 0x1000, 32, F_INDIRECT, raw_addr=True)
        g.next_desc = 1
        g.publish(0)

    def buffer_outside(g):
        w = g.alloc(64)
        g.desc(0, 0xfffffffffffffff0, 64, F_NEXT, 1, raw_addr=True)
        g.desc(1, w, 64, F_WRITE)
        g.next_desc = 2
        g.publish(0)

    def across_hole(g):
        g.request(getattr_req(), cross=20)

    bad("head_beyond", head_beyond)
    bad("next_beyond", next_beyond)
    bad("loop", loop)
    bad("write_then_read", write_then_read)
    bad("nested_indirect", nested)
    bad("indirect_with_next", indirect_next)
    bad("indirect_len_0", indirect_len(0))
    bad("indirect_len_24", indirect_len(24))
    bad("indirect_too_long", indirect_len(16 * 16))
    bad("indirect_loop", indirect_loop)
    bad("table_outside", table_outside)
    bad("buffer_outside", buffer_outside)
    bad("across_hole", across_hole, opts=O_HOLE)

    # The avail index jumps past the queue size, then the guest puts it back.
    g = Guest(8)
    g.request(getattr_req())
    g.set16(DESC_AREA + 2, g.avail_idx + 20)
    g.patches += [(DESC_AREA + 2, g.avail_idx & 0xff), (DESC_AREA + 3, g.avail_idx >> 8)]
    g.kick()
    g.request(getattr_req(), later=True)
    seeds["broken_avail_idx"] = g.seed()

    # A request whose header lies about its length; one with no room for the reply.
    g = Guest(8)
    r = bytearray(getattr_req())
    r[0:4] = struct.pack("<I", 4000)
    g.request(bytes(r))
    g.request(getattr_req(), reply=8)
    g.request(getattr_req())
    seeds["bad_requests"] = g.seed()
    return seeds


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                             "corpus", "virtq")
    os.makedirs(out, exist_ok=True)
    seeds = {}
    seeds.update(sessions())
    seeds.update(malformed())
    for k, v in sorted(seeds.items()):
        with open(os.path.join(out, k), "wb") as f:
            f.write(v)
    print("%d seeds written to %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
