#!/usr/bin/env python3
# test_bench_ports.py - bench/run with real ports: dpsecd's ports are
# net_af_packet on veths in a namespace of their own, and the generator is
# another program on another "machine": dpdk-testpmd in a second namespace,
# replaying the pcap bench/run names ({pcap}) into the veth of the port it
# names ({port}). Two runs of the quick preset's AES-128-GCM 64 B tunnel
# cases, one outbound and one inbound, each checked by --check and by
# captures on the generator's side of the wire:
#   outbound  the ESP leaving dpsecd's WAN port decrypts with scapy (not
#             dpsec's code) under the harness's key into the harness's
#             UDP flow;
#   inbound   the decrypted 60-byte frames leave dpsecd's LAN port for the
#             harness's host MAC.
# results.json must name the ports and the generator, the entering port of
# each case, and counters that add up exactly. No speed is asserted.
# Needs root (exit 77 without). Traffic stays in the namespaces it creates.
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(HERE, "..", "..", "bench", "run")
_loader = importlib.machinery.SourceFileLoader("bench_run", RUN)
bench = importlib.util.module_from_spec(importlib.util.spec_from_loader("bench_run", _loader))
_loader.exec_module(bench)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import ctl_topo as T  # noqa: E402  (namespaces: sh, delete_netns)

GENERATOR = ("ip netns exec %s dpdk-testpmd --no-huge -m 1024 --no-pci --file-prefix %s-gen --lcores 0@0,1@0 "
             "--log-level=*:warning --vdev net_pcap0,rx_pcap={pcap},infinite_rx=1 "
             "--vdev net_af_packet1,iface={port}_g -- --forward-mode=io --stats-period 1 --total-num-mbufs 8192")


class Wire:
    """Namespace dut holds dpsecd's ports lan_d and wan_d; namespace gen
    their peers lan_g and wan_g, where the generator sends and the
    captures listen."""

    def __init__(self, tag):
        self.tag, self.dut, self.gen = tag, tag + "-dut", tag + "-gen"
        self.work = T.make_workdir("dpsec-bench-ports-")
        for ns in (self.dut, self.gen):
            T.add_netns(ns)
            T.sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1", ns=ns)
        for p in ("lan", "wan"):
            T.sh("ip", "link", "add", p + "_d", "netns", self.dut, "type", "veth", "peer", p + "_g", "netns", self.gen)
            T.sh("ip", "link", "set", p + "_d", "up", ns=self.dut)
            T.sh("ip", "link", "set", p + "_g", "up", ns=self.gen)

    def path(self, name):
        return os.path.join(self.work, name)

    def close(self):
        for ns in (self.dut, self.gen):
            T.delete_netns(ns)
        T.remove_workdir(self.work)
        # testpmd, unlike dpsecd, leaves its EAL runtime directory behind
        T.remove_tree("/var/run/dpdk/%s-gen" % self.tag)


def start_capture(wire, iface, bpf, name):
    """dumpcap on the generator's side of the wire, its first 20 frames
    that bpf passes; capturing when it returns."""
    return T.dumpcap(wire, name, wire.gen, iface, "-f", bpf, "-c", "20")


def run_bench(wire, args, direction, dpsecd, raw_crypto, tag):
    out = os.path.join(wire.work, direction)
    cmd = ["ip", "netns", "exec", wire.dut, "/usr/bin/python3", RUN, "--preset", "quick", "--only", direction,
           "--only", "tunnel aes128gcm16 64 B", "--repeat", "1", "--seconds", "0.3", "--dpsecd", dpsecd,
           "--raw-crypto", raw_crypto, "--out", out, "--check", "--lan-port", "net_af_packet0,iface=lan_d",
           "--wan-port", "net_af_packet1,iface=wan_d", "--generator", GENERATOR % (wire.gen, tag)] + args
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=240)
    print(r.stdout)
    if r.returncode != 0:
        raise AssertionError("bench/run with real ports failed (%d)" % r.returncode)
    with open(os.path.join(out, "results.json")) as f:
        return json.load(f)


def check_results(res, direction, errs):
    ports = res.get("ports", {})
    if (ports.get("mode"), ports.get("lan"), ports.get("wan")) != \
            ("real", "net_af_packet0,iface=lan_d", "net_af_packet1,iface=wan_d"):
        errs.append("%s: results.json names the ports %r" % (direction, ports))
    if "{pcap}" not in ports.get("generator", ""):
        errs.append("%s: results.json does not name the generator: %r" % (direction, ports))
    if len(res["cases"]) != 1:
        errs.append("%s: %d cases, expected 1" % (direction, len(res["cases"])))
        return
    c = res["cases"][0]
    entry = "lan" if direction == "outbound" else "wan"
    if c.get("wire", {}).get("entry_port") != entry:
        errs.append("%s: wire %r, expected entry port %s" % (direction, c.get("wire"), entry))
    n = c["counters"]
    if not (n["exact"] and n["fwd_packets"] > 0 and n["fwd_packets"] + n["drops"] == n["rx_packets"]):
        errs.append("%s: counters %r" % (direction, n))


def check_outbound_esp(pcap, errs):
    """The ESP from dpsecd's WAN port, decrypted by scapy with the key the
    harness configured (bench.sa_text: key(20, spi))."""
    from scapy.all import ESP, IP, UDP, SecurityAssociation, rdpcap
    sa = SecurityAssociation(ESP, spi=0x10000, crypt_algo="AES-GCM",
                             crypt_key=bytes.fromhex(bench.key(20, 0x10000)[2:]),
                             tunnel_header=IP(src="192.0.2.1", dst="192.0.2.2"))
    frames = [f for f in rdpcap(pcap) if ESP in f]
    if len(frames) < 10:
        errs.append("outbound: %d ESP frames captured on the wire" % len(frames))
    for f in frames:
        if (f[IP].src, f[IP].dst, f[ESP].spi) != ("192.0.2.1", "192.0.2.2", 0x10000):
            errs.append("outbound: unexpected ESP %s" % f.summary())
            return
        inner = sa.decrypt(f[IP])
        if UDP not in inner or (inner.src, inner.dst, inner[UDP].dport) != ("10.1.0.2", "10.2.0.0", 5001):
            errs.append("outbound: decrypted to %s" % inner.summary())
            return


def check_inbound_clear(pcap, errs):
    from scapy.all import IP, UDP, rdpcap
    frames = rdpcap(pcap)
    if len(frames) < 10:
        errs.append("inbound: %d decrypted frames captured on the wire" % len(frames))
    for f in frames:
        if UDP not in f or len(f) != 60 or (f[IP].src, f[IP].dst) != ("10.1.0.2", "10.2.0.0"):
            errs.append("inbound: unexpected frame %s (%d bytes)" % (f.summary(), len(f)))
            return


def main():
    if os.geteuid() != 0:
        print("skip: needs root (network namespaces)")
        sys.exit(77)
    T.cleanup_on_sigterm()
    dpsecd, raw_crypto = sys.argv[1:3]
    tag = "bp%d" % os.getpid()
    wire = Wire(tag)
    errs = []
    try:
        cap, pcap = start_capture(wire, "wan_g", "esp", "wan-esp")
        res = run_bench(wire, [], "outbound", dpsecd, raw_crypto, tag)
        cap.stop()
        check_results(res, "outbound", errs)
        check_outbound_esp(pcap, errs)
        # the decrypted frames: 60 bytes to the harness's host (the I/O-only
        # twin's clear frames are as long as the ESP ones)
        cap, pcap = start_capture(wire, "lan_g", "ether dst %s and udp dst port 5001 and len <= 60"
                                  % bench.HOST_MAC, "lan-clear")
        res = run_bench(wire, [], "inbound", dpsecd, raw_crypto, tag)
        cap.stop()
        check_results(res, "inbound", errs)
        check_inbound_clear(pcap, errs)
    finally:
        wire.close()
    sys.exit(T.verdict(errs, "bench with real ports"))


if __name__ == "__main__":
    main()
