#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Seed corpora for fuzz_queue, fuzz_mem, fuzz_driver and fuzz_guest from the
# unit-test scenarios. Usage: make_seeds.py [OUT] [TARGET...] (default all).
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


# fuzz_driver: the device's registers and used ring (see fuzz_driver.c).
EVENT_IDX, INDIRECT_DESC, VERSION_1 = 1 << 29, 1 << 28, 1 << 32


def dev(version=0, devid=2, offered=EVENT_IDX | INDIRECT_DESC | VERSION_1 |
        0x26, qmax=16):
    return struct.pack("<BBQH", version, devid, offered, qmax)


D_INIT, D_NEG, D_VQ, D_SETUP, D_STATUS, D_ADD, D_USED, D_CB, D_CFG, \
    D_MISC, X_REG, X_SCRIPT, X_ELEM, X_IDX, X_FLAGS, X_DONE, X_SCRIB, \
    X_STMASK, X_GEN, X_CFG = range(20)


def d_up(q=0, s=3, w=3, g=0):
    """init, negotiate, ring of 1 << s entries, QueueReady, DRIVER_OK"""
    return bytes([D_INIT, D_NEG, w, D_VQ, q, s, g, D_SETUP, q, D_STATUS, 1])


def d_add(q, n_out, n_in, nd, kick=True, gpas=None):
    shape = n_out | n_in << 3 | (0x80 if kick else 0)
    gpas = gpas or [0x10 + i for i in range(n_out + n_in)]
    return bytes([D_ADD, q, shape, nd] + gpas)


driver = {
    "modern": dev() + d_up() + d_add(0, 1, 1, 2) +
    bytes([X_DONE, 0, 1, 5, D_USED, 0, 2, D_CB, 0, 0, D_CFG, 0, 8, 0,
           D_CFG, 4, 4, 1, D_MISC, 0, D_MISC, 2]),
    "indirect": dev() + d_up(s=2) + d_add(0, 2, 2, 0) + d_add(0, 1, 3, 1) +
    bytes([X_DONE, 0, 2, 9, D_USED, 0, 3, D_CB, 0, 1]),
    "legacy": dev(version=1) + d_up(s=0x83, w=0) + d_add(0, 1, 1, 2) +
    bytes([X_DONE, 0, 1, 1, D_USED, 0, 0]),
    "hostile_used": dev() + d_up() + d_add(0, 1, 1, 2) + d_add(0, 1, 0, 1) +
    bytes([X_ELEM, 0, 0, 9, 0, 7, 0, 0, 0, X_IDX, 0, 1, 1, 0, D_USED, 0, 1,
           X_ELEM, 0, 0, 1, 0, 7, 0, 0, 0, D_USED, 0, 1,
           X_IDX, 0, 0, 0x40, 0, D_USED, 0, 1, X_SCRIB, 0, 0] + [0xff] * 16 +
          [X_DONE, 0, 2, 1, D_USED, 0, 5]),
    "event_idx_kick": dev() + d_up() +
    bytes([X_FLAGS, 0, 1, 0, 0]) + d_add(0, 1, 0, 1) + d_add(0, 1, 0, 1) +
    bytes([X_FLAGS, 0, 0, 1, 0, D_CB, 0, 1]) + d_add(0, 0, 1, 1),
    "no_event_idx": dev(offered=VERSION_1) + d_up(w=0) +
    bytes([X_FLAGS, 0, 0, 1, 0]) + d_add(0, 1, 0, 1) +
    bytes([D_CB, 0, 1, X_DONE, 0, 1, 0, D_CB, 0, 0, D_USED, 0, 0]),
    "full_ring": dev() + d_up(s=1) + d_add(0, 1, 1, 2) + d_add(0, 1, 0, 1) +
    bytes([X_DONE, 0, 1, 0, D_USED, 0, 0]) + d_add(0, 1, 0, 1),
    "two_queues": dev() + d_up(q=1, s=4) + d_add(1, 2, 0, 2) +
    bytes([D_VQ, 0, 0, 0, D_SETUP, 0, X_DONE, 1, 1, 2, D_USED, 1, 0]),
    "scripted": dev() + bytes([X_SCRIPT, 3]) +
    struct.pack("<III", 0x74726976, 2, 0) + bytes([D_INIT]) +
    bytes([X_SCRIPT, 1, 0, 0, 0, 0, D_INIT, D_INIT, X_STMASK, 1, 0, D_NEG, 3,
           X_STMASK, 0, 8, D_NEG, 3]),
    "config_gen": dev() + bytes([D_INIT, X_CFG, 0, 1, 2, 3, 4, D_CFG, 0, 4, 0,
                                 X_GEN, 1, D_CFG, 0, 4, 0, D_CFG, 0x81, 0x81,
                                 0]),
    "setup_refused": dev(qmax=4) + bytes([D_INIT, D_NEG, 3, D_VQ, 0, 3, 0,
                                          D_SETUP, 0, D_SETUP, 0x82,
                                          X_REG, 13, 16, 0, 0, 0,
                                          D_SETUP, 0, D_SETUP, 0]),
    "bad_device": dev(version=3) + bytes([D_INIT]) +
    bytes([X_REG, 1, 2, 0, 0, 0, X_REG, 2, 0, 0, 0, 0, D_INIT, X_REG, 0,
           0, 0, 0, 0, D_INIT, D_MISC, 4, D_MISC, 9]),
}

# fuzz_guest: a guest's program against blk, console or rng.
G_REG, G_READ, G_NEG, G_SETUP, G_DRVOK, G_DESC, G_AVAIL, G_TABLE, G_HDR, \
    G_SEG, G_DATA, G_NOTIFY, G_EVENT, G_RESET, G_CFG, G_RING, G_ACK, \
    G_REQ, G_MEM, G_REGA = range(20)
IN, OUT, FLUSH, GET_ID, DISCARD, WZ = range(6)


def g_up(*queues):
    return bytes([G_NEG, 0] + sum(([G_SETUP, q, 4] for q in queues), []) +
                 [G_DRVOK])


def g_req(q, kind, ln=0):
    return bytes([G_REQ, q, kind, ln])


def g_desc(q, i, kind, off, ln, flags, nxt, op=G_DESC):
    return bytes([op, q, i, kind]) + struct.pack("<HHBB", off, ln, flags, nxt)


blk_all = b"".join(g_req(0, k | s << 3, ln) for k, s, ln in
                   ((OUT, 2, 0), (IN, 2, 0), (FLUSH, 0, 0), (GET_ID, 0, 0),
                    (DISCARD, 1, 1), (WZ, 1, 2), (OUT | 0x40, 3, 1),
                    (IN | 0x80, 3, 1), (OUT | 0x80 | 0x20, 4, 3)))
guest = {
    "blk_all_types": bytes([0x00, 0]) + g_up(0) + blk_all,
    "blk_legacy": bytes([0x04, 0]) + g_up(0) + blk_all,
    "blk_read_only": bytes([0x10, 0]) + g_up(0) + blk_all,
    "blk_mq_serial": bytes([0x60, 0]) + g_up(0, 1) + g_req(1, GET_ID) +
    g_req(1, OUT, 1) + g_req(0, IN, 1),
    "blk_no_features": bytes([0x08, 0x3f]) + g_up(0) + blk_all,
    "blk_raw_chain": bytes([0x00, 0]) + g_up(0) +
    bytes([G_HDR, 0, 0x80, 2]) + struct.pack("<I", 0x42) + bytes(8) +
    g_desc(0, 0, 0, 0, 16, 1, 1) + g_desc(0, 1, 1 << 3, 0, 0x8001, 3, 2) +
    g_desc(0, 2, 2 << 3, 0, 1, 2, 0) +
    bytes([G_AVAIL, 0, 0, 0x80, G_EVENT, 0]),
    "blk_discard_list": bytes([0x00, 0]) + g_up(0) +
    bytes([G_HDR, 0, DISCARD, 4, G_SEG, 0, 0, 4, 0, 8, 0,
           G_SEG, 0, 1, 8, 1, 8, 0]) +
    g_desc(0, 0, 0, 0, 48, 1, 1) + g_desc(0, 1, 1 << 3, 0, 1, 2, 0) +
    bytes([G_AVAIL, 0, 0, 0xc0]),
    "blk_hostile_loop": bytes([0x00, 0]) + g_up(0) +
    g_desc(0, 0, 0, 0, 16, 1, 1) + g_desc(0, 1, 0, 0, 16, 1, 0) +
    bytes([G_AVAIL, 0, 0, 0x80, G_RESET]) + g_up(0) + g_req(0, IN),
    "console_tx_rx": bytes([0x01, 0]) + g_up(0, 1) + g_req(1, 0, 20) +
    bytes([G_EVENT, 3, 5]) + b"hello" + g_req(0, 0, 63) +
    bytes([G_EVENT, 2]) + g_req(1, 0x80, 200),
    "console_legacy_emerg": bytes([0x05, 0]) + g_up(0, 1) +
    bytes([G_CFG, 8, 2, 0x41, 0, 0, 0, G_CFG | 0x20, 0, 2, 0, 0, 0, 0]) +
    g_req(1, 0, 9),
    "console_backpressure": bytes([0x01, 0]) + g_up(0, 1) +
    b"".join(g_req(1, 0, 255) for _ in range(24)) +
    bytes([G_EVENT, 2, G_EVENT, 2]),
    "console_split_mem": bytes([0x09, 0]) + g_up(0, 1) +
    g_desc(1, 0, 9 << 3, 0xff0, 0x40, 0, 0) + bytes([G_AVAIL, 1, 0, 0x80]) +
    bytes([G_MEM, 0, G_EVENT, 2]),
    "rng_requests": bytes([0x02, 0]) + g_up(0) + g_req(0, 0, 3) +
    g_req(0, 0x80, 255) + g_req(0, 0x20, 0),
    "rng_rate_limited": bytes([0x12, 0]) + g_up(0) +
    b"".join(g_req(0, 0, 255) for _ in range(6)) + bytes([G_EVENT, 0]),
    "rng_legacy_indirect": bytes([0x26, 0]) + g_up(0) +
    g_desc(0, 0, 4, 0, 32, 4, 0) + g_desc(0, 0, 0, 0, 64, 3, 1, G_TABLE) +
    g_desc(0, 1, 1 << 3, 0, 64, 2, 0, G_TABLE) +
    bytes([G_AVAIL, 0, 0, 0x80, G_ACK]),
}

targets = sys.argv[2:] or ["queue", "mem", "driver", "guest"]
for name, seeds in (("queue", queue), ("mem", mem), ("driver", driver),
                    ("guest", guest)):
    if name not in targets:
        continue
    os.makedirs(f"{out}/{name}", exist_ok=True)
    for k, v in seeds.items():
        with open(f"{out}/{name}/{k}", "wb") as f:
            f.write(v)
