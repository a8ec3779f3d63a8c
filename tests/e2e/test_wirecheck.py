# test_wirecheck.py - tools/wirecheck, the lab's check that nothing crossed a
# WAN link in the clear, on captures built with scapy: what may cross (ESP
# both ways, ARP, neighbour discovery, the kernels' multicast listener
# reports, and with --ike IKE, ESP in UDP and NAT keepalives) passes; each
# kind of leak alone fails it, as do ESP in one direction only and --ike
# without IKE.
# usage: test_wirecheck.py WIRECHECK
import os
import subprocess
import sys
import tempfile

from scapy.layers.inet import IP, UDP, ICMP
from scapy.layers.inet6 import (IPv6, IPv6ExtHdrHopByHop, RouterAlert, ICMPv6MLReport2,
                                ICMPv6MLDMultAddrRec, ICMPv6ND_NS)
from scapy.layers.ipsec import ESP
from scapy.layers.isakmp import ISAKMP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

A, B = "192.0.2.1", "192.0.2.2"
ETH = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def esp(src, dst):
    return ETH / IP(src=src, dst=dst) / ESP(spi=0x100, seq=1) / Raw(bytes(32))


def esp_in_udp(src, dst):
    return ETH / IP(src=src, dst=dst) / UDP(sport=4500, dport=4500) / ESP(spi=0x200, seq=1) / \
        Raw(bytes(32))


def mld(src):
    return Ether(dst="33:33:00:00:00:16") / IPv6(src=src, dst="ff02::16", hlim=1) / \
        IPv6ExtHdrHopByHop(options=[RouterAlert()]) / \
        ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(dst="ff02::1:ff00:1")])


BASE = [esp(A, B), esp(B, A),
        ETH / ARP(psrc=A, pdst=B),
        ETH / IPv6(src="fe80::1", dst="ff02::1:ff00:2", hlim=255) / ICMPv6ND_NS(tgt="fe80::2"),
        mld("fe80::1")]
IKE = [ETH / IP(src=A, dst=B) / UDP(sport=500, dport=500) / ISAKMP(init_cookie=b"cookie01"),
       esp_in_udp(A, B), esp_in_udp(B, A),
       ETH / IP(src=A, dst=B) / UDP(sport=4500, dport=4500) / Raw(b"\xff")]
LEAKS = {
    "clear UDP between the gateways": ETH / IP(src=A, dst=B) / UDP(sport=1, dport=2) / Raw(b"x"),
    "a LAN packet": ETH / IP(src="10.1.0.2", dst="10.2.0.2") / ICMP(),
    "ESP to a third address": esp(A, "192.0.2.9"),
    "an ICMP error quoting ESP": ETH / IP(src=A, dst=B) / ICMP(type=3, code=4) /
    IP(src=B, dst=A) / ESP(spi=0x100, seq=1),
    "MLD from a global address": mld("2001:db8::1"),
    "ESP in UDP without --ike": esp_in_udp(A, B),
}


# The counts wirecheck prints for the captures that pass, each frame of
# BASE and IKE in its kind (ESP in UDP counted as ESP too).
COUNTS = {
    "what may cross": "5 frames: ESP %s->%s 1, ESP %s->%s 1, ARP 1, ND 1, MLD 1, other 0"
    % (A, B, B, A),
    "what may cross, --ike": "9 frames: ESP %s->%s 2, ESP %s->%s 2, ARP 1, ND 1, MLD 1, of the "
    "ESP in UDP 2, IKE 1, NAT keepalives 1, other 0" % (A, B, B, A),
}


def wirecheck(tool, tmp, frames, ike=False):
    path = os.path.join(tmp, "cap.pcap")
    wrpcap(path, frames)
    args = [tool, "--peers", "%s,%s" % (A, B)] + (["--ike"] if ike else []) + [path]
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return r.returncode, r.stdout


def main():
    tool, errs = sys.argv[1], []
    with tempfile.TemporaryDirectory() as tmp:
        cases = [("what may cross", BASE, False, 0), ("what may cross, --ike", BASE + IKE, True, 0),
                 ("ESP one way only", BASE[1:], False, 1), ("--ike without IKE", BASE, True, 1)]
        cases += [("leak: " + name, BASE + [f], False, 1) for name, f in LEAKS.items()]
        for name, frames, ike, want in cases:
            rc, out = wirecheck(tool, tmp, frames, ike)
            counted = COUNTS.get(name, "")
            good = rc == want and counted in out
            print("%s %s: exit %d" % ("PASS" if good else "FAIL", name, rc))
            if not good:
                errs.append("%s: exit %d, expected %d%s:\n%s"
                            % (name, rc, want, ", counts " + counted if counted else "", out))
    for e in errs:
        print(e)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
