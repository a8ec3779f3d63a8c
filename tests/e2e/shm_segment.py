#!/usr/bin/env python3
"""shm_segment.py - dpsecctl and dpsec-ctld given a segment that no sound
dpsecd wrote: each names what is wrong with it and reads nothing from it.

dpsecctl reads dpsecd's segment itself when dpsec-ctld is not running
(show stats, neighbours, ports), dpsec-ctld maps it to manage dpsecd, and
bench/ctl_rate to drive its rings; all trust an area only once the
header's offsets place it inside the segment (dpsec_shm_areas_fit). This test writes segments under /dev/shm by hand, as a damaged or
foreign file would be: missing, shorter than a header, another magic,
another layout, a size that is not the file's, an area past the end, an
offset so large that adding the area's length wraps around (it passed the
old checks, and the read then went far outside the mapping), an offset off
its cache line. dpsecctl must exit 2 naming the problem, without a crash;
dpsec-ctld must keep waiting for dpsecd, logging why, and never attach;
ctl_rate must exit 1 saying why.

    shm_segment.py DPSECCTL DPSEC_CTLD CTL_RATE
"""
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHM_H = os.path.join(HERE, "..", "..", "include", "dpsec_shm.h")
MAGIC = 0x4D48534345535044  # "DPSECSHM", little-endian
BIG = 16 << 20              # a sparse file larger than every area


def layout():
    """The layout this tree's readers expect."""
    with open(SHM_H) as f:
        return int(re.search(r"#define DPSEC_SHM_LAYOUT (\d+)", f.read()).group(1))


def header(size, magic=MAGIC, lay=None, offs=None):
    """struct dpsec_shm_hdr (include/dpsec_shm.h): magic, layout, message
    version, generation, size, dpsecd's pid, SA capacity, workers,
    counters, then the areas' offsets (commands, events, statistics, SA
    directory, neighbours, ports), heartbeat, ready, ctld pid, managed."""
    offs = offs or {}
    area = [offs.get(k, 128) for k in ("cmd", "ev", "stats", "sa", "neigh", "ports")]
    return struct.pack("<QIIQQIIII6QQIII", magic, layout() if lay is None else lay, 3, 1, size,
                       1, 4, 1, 100, *area, 0, 1, 0, 0)


def write_segment(path, body, size):
    with open(path, "wb") as f:
        f.write(body)
        f.truncate(size)


# name -> (segment bytes and file size, or None: no file; what dpsecctl must say)
CASES = {
    "missing": (None, "no dpsecd segment"),
    "short": ((b"DPSEC", 5), "shorter than a segment header"),
    "magic": ((header(BIG, magic=0x1234), BIG), "not a dpsec segment"),
    "layout": ((header(BIG, lay=1), BIG), "different builds"),
    "size": ((header(BIG + 4096), BIG), "do not match its header"),
    "past-end": ((header(BIG, offs={"ports": BIG - 64}), BIG), "do not match its header"),
    "wraps": ((header(BIG, offs={"stats": 2**64 - 64}), BIG), "do not match its header"),
    "misaligned": ((header(BIG, offs={"neigh": 4096 + 8}), BIG), "do not match its header"),
}


def check_dpsecctl(ctl, instance, sock, want, errs, name):
    for what in ("stats", "neighbours", "ports"):
        r = subprocess.run([ctl, "--instance", instance, "--socket", sock, "show", what],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 2 or want not in r.stderr or r.stdout:
            errs.append("%s: dpsecctl show %s: exit %d, stdout %r, stderr %r (wanted exit 2 "
                        "and %r)" % (name, what, r.returncode, r.stdout[:200], r.stderr.strip(),
                                     want))


GEOMETRY = ("size", "past-end", "wraps", "misaligned")  # right magic and layout, areas wrong


def check_ctl_rate(ctl_rate, instance, errs, name):
    want = "do not match its header" if name in GEOMETRY else "no dpsecd segment"
    try:
        r = subprocess.run([ctl_rate, "--instance", instance, "--sas", "1"], capture_output=True,
                           text=True, timeout=10)
    except subprocess.TimeoutExpired:
        errs.append("%s: ctl_rate still running after 10 s (wanted exit 1 and %r)" % (name, want))
        return
    if r.returncode != 1 or want not in r.stderr:
        errs.append("%s: ctl_rate: exit %d, stderr %r (wanted exit 1 and %r)"
                    % (name, r.returncode, r.stderr.strip(), want))


def check_ctld(ctld, instance, work, errs, name):
    """dpsec-ctld waits, saying why, and stays unattached."""
    store = os.path.join(work, "store.conf")
    with open(os.open(store, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write("filter_lists = ();\n")
    log = os.path.join(work, "ctld-%s.log" % name)
    with open(log, "w") as out:
        p = subprocess.Popen([ctld, "--store", store, "--instance", instance, "--socket",
                              os.path.join(work, "ctld.sock"), "--log-level", "6"],
                             stdout=out, stderr=subprocess.STDOUT)
    try:
        time.sleep(1.5)
        alive = p.poll() is None
    finally:
        p.terminate()
        p.wait(timeout=10)
    text = open(log).read()
    if not alive:
        errs.append("%s: dpsec-ctld exited (%d): %s" % (name, p.returncode, text[-300:]))
    if "waiting for dpsecd" not in text or "attached to dpsecd" in text:
        errs.append("%s: dpsec-ctld did not wait unattached, saying why: %s" % (name, text[-300:]))


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    ctl, ctld, ctl_rate = sys.argv[1:]
    errs = []
    with tempfile.TemporaryDirectory(prefix="dpsec-seg-") as work:
        for name, (seg, want) in CASES.items():
            instance = "segtest%d%s" % (os.getpid(), name.replace("-", ""))
            path = "/dev/shm/dpsec." + instance
            if seg is not None:
                write_segment(path, *seg)
            try:
                check_dpsecctl(ctl, instance, os.path.join(work, "none.sock"), want, errs, name)
                if seg is not None and name in ("magic", "size", "wraps"):
                    check_ctld(ctld, instance, work, errs, name)
                if seg is None or name in GEOMETRY:
                    check_ctl_rate(ctl_rate, instance, errs, name)
            finally:
                if os.path.exists(path):
                    os.unlink(path)
    for e in errs:
        print("FAIL", e)
    print("%d cases, %d failures" % (len(CASES), len(errs)))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
