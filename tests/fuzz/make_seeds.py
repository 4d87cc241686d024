#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Seed corpora for fuzz_queue and fuzz_mem from the unit-test scenarios.
import os
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__file__) + "/corpus"
RAM0 = 0x1000
NEXT, WRITE, INDIRECT = 1, 2, 4


def ring(descs, heads, avail_off=256, extra=b""):
    b = bytearray(1024)
    for i, (addr, ln, fl, nx) in enumerate(descs):
        struct.pack_into("<QIHH", b, 16 * i, addr, ln, fl, nx)
    struct.pack_into("<HH", b, avail_off, 0, len(heads))
    for i, h in enumerate(heads):
        struct.pack_into("<H", b, avail_off + 4 + 2 * i, h)
    b[768:768 + len(extra)] = extra
    return bytes(b)


def ops(*o):
    return b"".join(bytes(x) for x in o)


POP, PUSH, ADD, PUB, UNPOP, EN, DIS, POKE, RESET, SAVE, RW = range(11)
DATA = RAM0 + 0x2000
std = ops((POP, 8, 0, 0), (RW, 0, 0, 16), (RW, 0, 0, 1), (PUSH, 0, 1, 0),
          (EN, 0, 0, 0), (POP, 8, 0, 0))
queue = {
    "direct3": bytes([3, 0, 0]) + bytes(6) + ring(
        [(DATA, 16, NEXT, 1), (DATA + 16, 512, NEXT | WRITE, 2),
         (DATA + 600, 1, WRITE, 0)], [0]) + std,
    "indirect": bytes([3, 1, 0]) + bytes(6) + ring(
        [(RAM0 + 768, 48, INDIRECT, 0)], [0],
        extra=struct.pack("<QIHHQIHHQIHH", DATA, 16, NEXT, 1,
                          DATA + 16, 512, NEXT | WRITE, 2,
                          DATA + 600, 1, WRITE, 0)) + std,
    "event_idx_batch": bytes([3, 3, 0]) + bytes(6) + ring(
        [(DATA, 16, 0, 0), (DATA + 32, 16, WRITE, 0), (DATA + 64, 8, 0, 0)],
        [0, 1, 2]) + ops((DIS, 0, 0, 0), (POP, 4, 0, 0), (POP, 4, 0, 0),
                         (POP, 4, 0, 0), (UNPOP, 1, 0, 0), (ADD, 0, 0, 0),
                         (ADD, 0, 0, 0), (PUB, 0, 0, 0), (EN, 0, 0, 0),
                         (SAVE, 0, 0, 0)),
    "loop": bytes([3, 0, 0]) + bytes(6) + ring(
        [(DATA, 16, NEXT, 1), (DATA, 16, NEXT, 0)], [0]) + std,
    "cross_region": bytes([3, 0, 0]) + bytes(6) + ring(
        [(RAM0 + 0x8000 - 8, 16, 0, 0)], [0]) + std,
    "rom_write": bytes([3, 0, 0]) + bytes(6) + ring(
        [(0x20000, 16, WRITE, 0)], [0]) + std,
    "misplaced": bytes([4, 2, 1]) + struct.pack("<HHH", 8, 300, 260) +
    ring([(DATA, 16, 0, 0)], [0]) + std + ops((RESET, 0, 0, 0)),
}


def region(gpa, size, ro=0):
    return struct.pack("<QQB", gpa, size, ro)


def mop(code, gpa, ln, val=0):
    return struct.pack("<BQQB", code, gpa, ln, val)


mem = {
    "two_adjacent": bytes([1]) + region(0x1000, 0x1000) +
    region(0x2000, 0x1000, 1) + mop(0, 0x1ff8, 16) + mop(1, 0x1ff8, 16) +
    mop(2, 0x1000, 16, 1) + mop(3, 0x1ff0, 32) + mop(4, 0x1002, 0) +
    mop(5, 0x2000, 0, 7),
    "wrap": bytes([0]) + region(0xfffffffffffff000, 0x1000) +
    mop(0, 0xfffffffffffffff8, 16) + mop(3, 0xffffffffffffff00, 0x200),
    "overlap": bytes([1]) + region(0x1000, 0x2000) + region(0x2000, 0x1000),
}

for name, seeds in (("queue", queue), ("mem", mem)):
    os.makedirs(f"{out}/{name}", exist_ok=True)
    for k, v in seeds.items():
        with open(f"{out}/{name}/{k}", "wb") as f:
            f.write(v)
