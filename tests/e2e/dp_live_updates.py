#!/usr/bin/python3
"""dp_live_updates.py - dpsecd's tables change under traffic without a
packet lost, duplicated, or carried by the wrong SA or rule.

A real dpsecd on af_packet ports in network namespaces carries a paced
stream of sequence-numbered UDP through a static ESP tunnel (its own
configuration: rule 1, SA 0), while bench/ctl_rate, speaking the real
shared-memory protocol, makes thousands of changes around it: unrelated SAs
added and deleted, an unrelated rule with filters added and removed, and the
whole policy replaced by an equal one (a new SPD built and swapped in each
time), then a policy of 10,000 more filters is built and swapped in twice,
each time followed by 1,000 changes of rule 1's outbound SA in place
(RULE_SA, as a rekey sends; to the SA it carries).
The peer side's capture, decrypted by scapy, must show every packet dpsecd
received once, in order, on the tunnel's SPI, nothing in the clear, and
dpsecd's counters no loss (ctl_topo.check_stream).

    dp_live_updates.py DPSECD CTL_RATE
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctl_topo as T  # noqa: E402

KEY = bytes(range(20))  # 16-byte AES key + 4-byte salt (test only)
KEY_IN = bytes(range(20, 40))  # the other direction's: never an AES-GCM key both ways
SPI_OUT, SPI_IN = 0x1001, 0x2001
POLICY = """
policy = { default_action = "permit";
  filter_lists = ( { name = "ab"; filters = ( { source = "10.1.0.0/24";
      destination = "10.2.0.0/24"; protocol = "any"; mirrored = true; } ); } );
  filter_actions = ( { name = "secure"; action = "negotiate"; } );
  rules = ( { name = "to-b"; filter_list = "ab"; filter_action = "secure";
      tunnel_endpoint = "192.0.2.2"; outbound_sa = "a-to-b"; inbound_sa = "b-to-a"; } ); };
security_associations = (
  { name = "a-to-b"; spi = 0x1001; direction = "outbound"; mode = "tunnel";
    local = "192.0.2.1"; remote = "192.0.2.2"; encryption = "aes128gcm16";
    encryption_key = "0x%(key)s"; },
  { name = "b-to-a"; spi = 0x2001; direction = "inbound"; mode = "tunnel";
    local = "192.0.2.1"; remote = "192.0.2.2"; encryption = "aes128gcm16";
    encryption_key = "0x%(key_in)s"; } );
"""
RATE = 5000  # packets per second, for as long as the changes take


def make_changes(ctl_rate, instance, errs):
    """2,000 small changes, then two swaps of 10,000 filters."""
    changes = swaps = 0
    for what in [["--churn", "400"]] * 5 + [["--policy-only", "--filters", "10000"]] * 2:
        r = subprocess.run([ctl_rate, "--instance", instance] + what, capture_output=True,
                           text=True)
        if r.returncode != 0:
            errs.append("ctl_rate %s: %s %s" % (what[0], r.stdout.strip(), r.stderr.strip()))
            break
        if what[0] == "--churn":
            changes += 400
        else:
            swaps += 1
    return changes, swaps


def main():
    dpsecd, ctl_rate = sys.argv[1:3]
    if os.geteuid() != 0:
        print("dp_live_updates: needs root (namespaces, DPDK); skipped")
        return 77
    topo = T.Topo("dlu%d" % (os.getpid() % 100000))
    errs, changes, swaps, count = [], 0, 0, 0
    try:
        d = T.start_dpsecd(topo, dpsecd, "dlu%d" % os.getpid(),
                           extra_conf=POLICY % dict(key=KEY.hex(), key_in=KEY_IN.hex()))
        cap, pcap = T.start_capture(topo, "wan")
        sender = T.start_sender(topo, "10.2.0.5", RATE)
        time.sleep(0.5)
        changes, swaps = make_changes(ctl_rate, "dlu%d" % os.getpid(), errs)
        time.sleep(0.5)
        count = sender.finish()
        time.sleep(0.5)
        cap.stop()
        d.stop()
        w = T.WanCapture(pcap, {SPI_OUT: KEY})
        with open(topo.path("dpsecd-stats.json")) as f:
            g = json.load(f)["global"]
        lost = g["drops"] + g["rx_packets"] - g["fwd_packets"]
        T.check_stream(errs, "tunnel", w, SPI_OUT, count, RATE, lost)
        if changes < 2000 or swaps < 2:
            errs.append("only %d changes and %d large swaps while traffic flowed" % (changes, swaps))
    finally:
        topo.close()
    return T.verdict(errs, "dp_live_updates: %d changes and %d swaps of 10,000 filters under %d "
                     "packets" % (changes, swaps, count), "every packet once, in order, on its SA")


if __name__ == "__main__":
    T.cleanup_on_sigterm()
    sys.exit(main())
