#!/usr/bin/python3
# run_xval.py - cross-validation of dpsecd's ESP and AH against an
# independent peer (scapy): for every algorithm x mode x address family x
# ESN, dpsecd encrypts what the peer must decrypt byte for byte and decrypts
# what the peer encrypted, plain and in UDP (RFC 3948); AH (RFC 4302) the
# same with two of its combinations, its ICVs also checked by a reference on
# python's hmac; tampered, replayed, truncated and misdirected packets must be
# dropped with the right counter; rx == fwd + host + control +
# natt_keepalives_in + drops always (one run with two workers).
#
#   run_xval.py DPSECD [--jobs N] [--only SUBSTR] [--keep] [--seed S]
#   run_xval.py --selftest      (the peer and the checks alone, no dpsecd)
#
# Prints one line per case and ends with "N passed, M failed"; exits 1 on any
# failure. Needs root (DPDK); the pcap vdev stands in for NICs.
import argparse
import concurrent.futures
import os
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import xval_cases  # noqa: E402
import xval_run  # noqa: E402


class Report:
    def __init__(self, verbose):
        self.passed = self.failed = 0
        self.verbose = verbose

    def case(self, name, errs, note=""):
        if errs:
            self.failed += 1
            print("FAIL %s%s" % (name, note))
            for e in errs[:12]:
                print("     %s" % e)
            if len(errs) > 12:
                print("     ... %d more" % (len(errs) - 12))
        else:
            self.passed += 1
            print("PASS %s%s" % (name, note))
        sys.stdout.flush()

    def final(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


def main():
    ap = argparse.ArgumentParser(description="cross-validation of dpsecd against scapy")
    ap.add_argument("dpsecd", nargs="?", help="path of the dpsecd binary")
    ap.add_argument("--selftest", action="store_true",
                    help="check the peer and the checks without dpsecd")
    ap.add_argument("--jobs", type=int, default=2, help="dpsecd runs at once (default 2)")
    ap.add_argument("--only", action="append", default=[],
                    help="run only the runs whose name contains this (repeatable)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--seed", default="1", help="seed of keys and random choices")
    ap.add_argument("--idle-ms", type=int, default=1000,
                    help="dpsecd --exit-when-idle (default 1000: room for a loaded machine)")
    args = ap.parse_args()

    rep = Report(verbose=True)
    tshark = shutil.which("tshark")
    if args.selftest:
        import xval_selftest
        xval_selftest.run(rep, args.seed, tshark)
        return rep.final()
    if not args.dpsecd or not os.access(args.dpsecd, os.X_OK):
        ap.error("dpsecd binary missing or not executable: %r" % args.dpsecd)
    dpsecd = os.path.abspath(args.dpsecd)
    if not tshark:
        print("note: tshark not found, the tshark checks are skipped")

    workdir = tempfile.mkdtemp(prefix="xval-")
    t0 = time.monotonic()
    builders = [(n, b) for n, b in xval_cases.plan(args.seed)
                if not args.only or any(s in n for s in args.only)]

    def job(ix):
        run = builders[ix][1]()
        res = xval_run.execute(run, dpsecd, workdir, args.idle_ms, ix)
        return run, res, xval_run.judge(run, res, tshark)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        for run, res, verdicts in ex.map(job, range(len(builders))):
            for name, errs in verdicts:
                rep.case(name, errs)
            print("     (%s: dpsecd %.1f s, %d+%d frames in, %d+%d out)"
                  % (run.name, res.elapsed, len(run.frames("lan")), len(run.frames("wan")),
                     len(res.lan), len(res.wan)))
    print("total %.1f s" % (time.monotonic() - t0))
    if rep.failed or args.keep:
        print("work directory kept: %s" % workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return rep.final()


if __name__ == "__main__":
    sys.exit(main())
