"""bench/run --secgw end to end: DPDK's ipsec-secgw example, built from the
dpdk-doc package's sources, runs an outbound and an inbound case in the
slices beside dpsecd. Inbound it must decrypt the ESP dpsecd made for the
case's SAs, or bench/run counts its drops and fails the case; the results
must carry its figures and results.md its table. No speed is asserted.

    test_bench_secgw.py DPSECD RAW_CRYPTO"""

import json
import os
import subprocess
import sys
import tempfile

RUN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "run")
CASES = "^(out|in)bound tunnel aes128gcm16 64 B, 1 flows, 1 SAs, 1 filters, 1 worker$"


def main():
    if os.geteuid() != 0:
        print("needs root (DPDK, hugepages)")
        sys.exit(77)
    dpsecd, raw_crypto = sys.argv[1:3]
    with tempfile.TemporaryDirectory(prefix="bench-secgw-") as out:
        r = subprocess.run(["/usr/bin/python3", RUN, "--preset", "full", "--match", CASES, "--secgw",
                            "--seconds", "0.2", "--repeat", "2", "--dpsecd", dpsecd, "--raw-crypto", raw_crypto,
                            "--out", out, "--check"], capture_output=True, text=True, timeout=280)
        print(r.stdout + r.stderr)
        assert r.returncode == 0, "bench/run --secgw exited with %d" % r.returncode
        with open(os.path.join(out, "results.json")) as f:
            cases = json.load(f)["cases"]
        assert sorted(c["direction"] for c in cases) == ["inbound", "outbound"], cases
        for c in cases:
            s = c.get("secgw")
            assert s, "no ipsec-secgw figures for the %s case" % c["direction"]
            assert "error" not in s and "end_error" not in s, s
            assert s["type"] == "cpu-crypto" and len(s["speedups"]) == 2, s
            assert s["mpps_wall"] > 0 and s["efficiency"] > 0, s
        with open(os.path.join(out, "results.md")) as f:
            md = f.read()
        assert "DPDK's ipsec-secgw example" in md, md
        for d in ("outbound", "inbound"):
            assert md.count("| %s tunnel aes128gcm16 64 B, 1 flows" % d) == 1, md
    print("ok")


if __name__ == "__main__":
    main()
