#!/usr/bin/env python3
"""sigterm_cleanup.py - a test stopped with SIGTERM (meson's timeout, a
cancelled CI job) still removes its network namespaces and stops what runs
in them: ctl_topo.cleanup_on_sigterm turns the signal into an exit through
the test's finally blocks.

A child builds a ctl_topo topology with a process in it, as the e2e tests
do, and waits; the parent sends it SIGTERM and checks that the child exited
through its cleanup, the namespaces are gone and the process with them.

    sigterm_cleanup.py          (the parent: the test)
    sigterm_cleanup.py --child  (what the parent starts)
"""
import os
import subprocess
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctl_topo as T  # noqa: E402


def child():
    T.cleanup_on_sigterm()
    topo = T.Topo("sig%d" % (os.getpid() % 100000))
    try:
        sleeper = subprocess.Popen(["ip", "netns", "exec", topo.ns_dp, "sleep", "600"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print("ready %s %d" % (topo.tag, sleeper.pid), flush=True)
        time.sleep(120)
    finally:
        topo.close()
    return 1   # not reached: SIGTERM comes first


def namespaces():
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


def alive(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return b"sleep" in f.read()
    except OSError:
        return False


def comes_up(pid):
    """Whether pid runs sleep within 5 s: `ip netns exec` is still becoming
    it when the child reports ready (its command line reads empty while
    the kernel swaps it for sleep's)."""
    for _ in range(50):
        if alive(pid):
            return True
        time.sleep(0.1)
    return False


def main():
    if os.geteuid() != 0:
        print("sigterm_cleanup: needs root (network namespaces); skipped")
        return 77
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child"],
                         stdout=subprocess.PIPE, text=True)
    ready = p.stdout.readline().split()
    if len(ready) != 3 or ready[0] != "ready":
        p.kill()
        print("FAIL the child did not build its topology")
        return 1
    tag, sleeper = ready[1], int(ready[2])
    errs = []
    if tag + "-dp" not in namespaces() or not comes_up(sleeper):
        errs.append("the topology or its process is missing before SIGTERM")
    p.terminate()
    try:
        rc = p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = None
    if rc != 143:
        errs.append("the child exited with %s, not 143 (through its cleanup)" % rc)
    for _ in range(50):   # the killed process may take a moment to be reaped
        if not alive(sleeper):
            break
        time.sleep(0.1)
    if tag in namespaces():
        errs.append("namespaces left behind: %s" % namespaces().split())
    if alive(sleeper):
        errs.append("the process in the namespace is still running")
    if errs:   # what the child left, removed here
        T.Topo.close(types.SimpleNamespace(ns_dp=tag + "-dp", ns_lan=tag + "-lan",
                                           ns_wan=tag + "-wan", work="/nonexistent"))
    return T.verdict(errs, "sigterm_cleanup", "namespaces and processes removed on SIGTERM")


if __name__ == "__main__":
    sys.exit(child() if sys.argv[1:] == ["--child"] else main())
