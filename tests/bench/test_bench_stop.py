"""bench/run stopped by SIGTERM in its second case: it must exit 130 within
seconds, leave none of its dpsecds running (paused ones would hold their
hugepages), none of their shared segments or EAL runtime directories, and
write the finished first case as results that say the run was stopped
(and that --check-only refuses). No speed is asserted.

    test_bench_stop.py DPSECD RAW_CRYPTO"""

import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

RUN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "run")
CASES = "^(out|in)bound tunnel aes128gcm16 64 B, 1 flows, 1 SAs, 1 filters, 1 worker$"


def own_processes(pid):
    """The command lines of processes that bench/run pid started (its
    dpsecds' EAL file prefixes carry its pid)."""
    r = subprocess.run(["pgrep", "-af", "--", "--file-prefix bench-%d-" % pid], capture_output=True, text=True)
    return [l for l in r.stdout.splitlines() if "pgrep" not in l]


def leftovers(pid):
    """What bench/run pid left behind: its processes and its dpsecds'
    files, each removed once seen (so that a failure here does not hold
    the hugepages and cores of the tests after it)."""
    left = own_processes(pid)
    subprocess.run(["pkill", "-CONT", "-f", "--", "--file-prefix bench-%d-" % pid])
    subprocess.run(["pkill", "-KILL", "-f", "--", "--file-prefix bench-%d-" % pid])
    files = glob.glob("/dev/shm/dpsec.bench-%d-*" % pid) + glob.glob("/var/run/dpdk/bench-%d-*" % pid)
    for f in files:
        subprocess.run(["rm", "-rf", f])
    return left, files


def wait_for(what, cond, timeout):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def second_case_running(p, log):
    """Waits until case 1 is reported and case 2's dpsecd (its inbound
    configuration, past the ESP generation) polls its pcap."""
    wait_for("case 1's line", lambda: "[ 1/2]" in open(log).read(), 120)
    wait_for("case 2's dpsecd", lambda: any("inbound-" in l and "/b.conf" in l for l in own_processes(p.pid)), 60)
    assert p.poll() is None, "bench/run ended before it was stopped:\n" + open(log).read()
    time.sleep(1.5)   # into its slices


def main():
    if os.geteuid() != 0:
        print("needs root (DPDK, hugepages)")
        sys.exit(77)
    dpsecd, raw_crypto = sys.argv[1:3]
    with tempfile.TemporaryDirectory(prefix="bench-stop-") as out:
        log = os.path.join(out, "run.log")
        with open(log, "w") as lf:
            p = subprocess.Popen(["/usr/bin/python3", RUN, "--preset", "quick", "--match", CASES,
                                  "--seconds", "0.3", "--repeat", "8", "--dpsecd", dpsecd, "--raw-crypto",
                                  raw_crypto, "--out", out], stdout=lf, stderr=subprocess.STDOUT)
        try:
            second_case_running(p, log)
            p.send_signal(signal.SIGTERM)
            rc = p.wait(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            left, files = leftovers(p.pid)
        text = open(log).read()
        print(text)
        assert rc == 130, "bench/run exited with %d after SIGTERM" % rc
        assert "stopped by SIGTERM during case 2 of 2" in text, text
        assert not left, "processes left running: %s" % left
        assert not files, "files left behind: %s" % files
        with open(os.path.join(out, "results.json")) as f:
            res = json.load(f)
        assert res["stopped"] == "SIGTERM after 1 of 2 cases", res.get("stopped")
        assert [c["direction"] for c in res["cases"]] == ["outbound"], res["cases"]
        assert res["cases"][0]["mpps"] > 0 and "error" not in res["cases"][0], res["cases"][0]
        with open(os.path.join(out, "results.md")) as f:
            assert "**Stopped by SIGTERM after 1 of 2 cases**" in f.read()
        chk = subprocess.run(["/usr/bin/python3", RUN, "--check-only", out], capture_output=True, text=True)
        assert chk.returncode == 1 and "the run was stopped" in chk.stderr, chk.stderr
    print("ok")


if __name__ == "__main__":
    main()
