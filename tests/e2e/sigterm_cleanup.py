#!/usr/bin/env python3
"""sigterm_cleanup.py - a test stopped by meson (its timeout, a cancelled
CI job) still removes its network namespaces, the processes in them and
its work directory. Meson sends SIGTERM to the test's process group, then
SIGKILL half a second later if the test has not exited.

A child builds a ctl_topo topology with a process in it, as the e2e tests
do, and waits; the parent stops it twice over:
- SIGTERM alone: the child must exit through its cleanup
  (ctl_topo.cleanup_on_sigterm turns the signal into an exit through the
  test's finally blocks), status 143;
- as meson does, to a child whose cleanup is slow (as one that stops its
  daemons gracefully is): the SIGKILL cuts the cleanup short, and the
  janitor (ctl_topo.janitor) must remove what it left.
Either way, the namespaces, the process and the work directory must be
gone.

    sigterm_cleanup.py                 (the parent: the test)
    sigterm_cleanup.py --child [slow]  (what the parent starts)
"""
import os
import signal
import subprocess
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctl_topo as T  # noqa: E402


MESON_GRACE = 0.5  # s between meson's SIGTERM to a test's process group and its SIGKILL


def child(slow):
    T.cleanup_on_sigterm()
    topo = T.Topo("sig%d" % (os.getpid() % 100000))
    try:
        sleeper = subprocess.Popen(["ip", "netns", "exec", topo.ns_dp, "sleep", "600"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print("ready %s %d %s" % (topo.tag, sleeper.pid, topo.work), flush=True)
        time.sleep(120)
    finally:
        if slow:
            time.sleep(5 * MESON_GRACE)
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


def start_child(slow):
    """The child, in a process group of its own as meson starts a test;
    (process, tag, the sleeper's pid, work directory), or None."""
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child"]
                         + (["slow"] if slow else []),
                         stdout=subprocess.PIPE, text=True, start_new_session=True)
    ready = p.stdout.readline().split()
    if len(ready) != 4 or ready[0] != "ready":
        p.kill()
        return None
    return p, ready[1], int(ready[2]), ready[3]


def stop_as_meson(p):
    """SIGTERM to the group; SIGKILL to it if p is still there after the
    grace. The exit status."""
    os.killpg(p.pid, signal.SIGTERM)
    try:
        return p.wait(timeout=MESON_GRACE)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        return p.wait()


def one_stop(how):
    """Starts a child and stops it (how: "sigterm" or "meson"); the errors."""
    started = start_child(slow=how == "meson")
    if started is None:
        return ["%s: the child did not build its topology" % how]
    p, tag, sleeper, work = started
    errs = []
    if tag + "-dp" not in namespaces() or not comes_up(sleeper):
        errs.append("%s: the topology or its process is missing before the stop" % how)
    if how == "sigterm":
        p.terminate()
        try:
            rc = p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = None
        if rc != 143:
            errs.append("sigterm: the child exited with %s, not 143 (through its cleanup)" % rc)
    elif stop_as_meson(p) != -signal.SIGKILL:
        errs.append("meson: the slow cleanup was not cut short by SIGKILL: the case tests nothing")
    # the killed process may take a moment to be reaped, the janitor to run
    T.wait_until(lambda: tag not in namespaces() and not alive(sleeper) and
                 not os.path.exists(work), 10, step=0.1)
    if tag in namespaces():
        errs.append("%s: namespaces left behind: %s" % (how, namespaces().split()))
    if alive(sleeper):
        errs.append("%s: the process in the namespace is still running" % how)
    if os.path.exists(work):
        errs.append("%s: work directory %s left behind" % (how, work))
    if errs:   # what the child left, removed here
        T.Topo.close(types.SimpleNamespace(ns_dp=tag + "-dp", ns_lan=tag + "-lan",
                                           ns_wan=tag + "-wan", work=work, instances=()))
    return errs


def main():
    if os.geteuid() != 0:
        print("sigterm_cleanup: needs root (network namespaces); skipped")
        return 77
    errs = one_stop("sigterm") + one_stop("meson")
    return T.verdict(errs, "sigterm_cleanup", "namespaces, processes and work directories removed")


if __name__ == "__main__":
    sys.exit(child(sys.argv[2:] == ["slow"]) if sys.argv[1:2] == ["--child"] else main())
