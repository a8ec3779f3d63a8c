#!/usr/bin/env python3
# neigh_e2e.py - dpsecd's neighbour discovery against Linux hosts, IPv6
# mostly: one dpsecd routing between two links (policy: permit), a Linux
# host on each, nothing configured about them,
# dataplane.neighbour_reachable_seconds at 2. Checks, in order:
#   announced  host A held a stale entry for the gateway's IPv4 and IPv6
#              addresses at another MAC (a gateway replaced): within a few
#              seconds of dpsecd's start it holds its MAC, taken from its
#              gratuitous ARP and unsolicited advertisement, and the IPv6
#              entry marks it a router (RFC 4861 §7.2.4: dpsecd routes).
#   resolve    host A pings host B: dpsecd learns both by ND (multicast
#              solicitations answered, the hosts' solicitations for the
#              gateway answered) and forwards.
#   anycast    host A solicits the Subnet-Router anycast address of its
#              link's prefix (RFC 4291 §2.6.1): dpsecd answers (after a
#              random wait of up to a second, RFC 4861 §7.2.7) and A
#              holds the gateway's MAC for it, a router.
#   probe      A pings B for 6 s, both hosts otherwise silent: dpsecd
#              asks each again (both in use) by a unicast solicitation to
#              its address and MAC, which Linux answers with a solicited
#              advertisement without a link-layer option (RFC 4861
#              §7.2.4): each is kept, none forgotten.
#   moved      host B takes another MAC and says nothing: dpsecd's unicast
#              requests to the old MAC go unanswered, it forgets it, asks
#              the link, and A's pings reach B again.
#   unreachable A pings an address on B's link nobody holds: after three
#              unanswered solicitations a second apart A's pings are
#              answered with address unreachable (RFC 4443 §3.1), the
#              first, held while dpsecd asked, included.
#   believed   from B's link (scapy): an advertisement for an address
#              nobody asked for is not believed (neigh_unsolicited), a
#              solicitation with hop limit 64 is refused (neigh_invalid);
#              show neighbours lists A and B with their MACs, the
#              unanswered address failed, the unsolicited one not at all.
#   duplicate  host B takes the gateway's IPv6 address: its duplicate
#              address detection meets dpsecd's answer and the address is
#              dadfailed (RFC 4862 §5.4); then host B claims the gateway's
#              IPv4 address by a gratuitous ARP (scapy): a conflict,
#              counted and logged, and the address announced again.
#   stale      A pings B, then no more traffic: both hosts are listed
#              stale, not asked again (RFC 4861 §7.3.3), and forgotten
#              after twice neighbour_reachable_seconds
#              (neigh_stale_removed); A's next pings of B find both again.
#   dad        dpsecd started again while host B holds the gateway's IPv6
#              address on B's link: dpsecd's duplicate address detection
#              (one solicitation from ::, read by tshark) meets B's answer:
#              counted (neigh_dad_failed), logged, that address never
#              announced while the other three are, three times each.
#   link       dpsecd started again with port b on a TAP bridged to B's
#              link (af_packet reports no link changes; a TAP's follows
#              its interface); the TAP taken down while host B's entries
#              for the gateway go stale at another MAC, then up: dpsecd
#              counts and logs both, shows the link down then up (show
#              ports, with the port's MAC, role and sent packets), tests
#              its IPv6 address on that link again (one solicitation from
#              ::) and announces both of its addresses there three times,
#              not port a's; host B follows.
# Needs root; exit 77 without it. Traffic stays inside namespaces it
# creates (2001:db8::/32, documentation addresses; 10.61.0.0/24, private).
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctl_topo as T  # noqa: E402

GW_A_MAC, GW_B_MAC = "02:00:00:00:61:01", "02:00:00:00:62:01"
HOST_A_MAC, HOST_B_MAC, HOST_B_MOVED = "02:00:00:00:61:10", "02:00:00:00:62:10", "02:00:00:00:62:77"
HOST_A, HOST_B, NOBODY, UNASKED = "2001:db8:61::10", "2001:db8:62::10", "2001:db8:62::77", \
    "2001:db8:62::99"
GW_A6, GW_A4, STALE_MAC = "2001:db8:61::1", "10.61.0.1", "02:00:00:00:61:99"
GW_A_ANYCAST = "2001:db8:61::"
REACHABLE_S = 2
FOLLOW_S = 15  # a moved neighbour is followed within 2 s silent + 3 probes + a request

DP_CONF = """
dataplane = { workers = 1; idle = "sleep"; idle_sleep_us = 50;
              neighbour_reachable_seconds = %d; sequence_file = "%%(seq_file)s"; };
ports = (
  { name = "a"; device = "net_af_packet0,iface=gwa"; role = "protected";
    addresses = [ "2001:db8:61::1/64", "10.61.0.1/24" ]; mac = "%s"; },
  { name = "b"; device = "%%(port_b)s"; role = "unprotected";
    addresses = [ "2001:db8:62::1/64", "10.62.0.1/24" ]; mac = "%s"; }
);
""" % (REACHABLE_S, GW_A_MAC, GW_B_MAC)
PORT_B_VETH = "net_af_packet1,iface=gwb"
PORT_B_TAP = "net_tap0,iface=gwbtap"  # the link step's: a link dpsecd can see go down

# Run in host B's namespace: an unsolicited advertisement (override) for
# UNASKED, and a solicitation for the gateway's address with hop limit 64.
FORGED = r"""
from scapy.all import Ether, IPv6, sendp
from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr
mac, gw_mac, unasked, host = "%s", "%s", "%s", "%s"
na = Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=unasked, dst="ff02::1", hlim=255) / \
    ICMPv6ND_NA(tgt=unasked, R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=mac)
ns = Ether(src=mac, dst=gw_mac) / IPv6(src=host, dst="2001:db8:62::1", hlim=64) / \
    ICMPv6ND_NS(tgt="2001:db8:62::1") / ICMPv6NDOptSrcLLAddr(lladdr=mac)
sendp([na, ns], iface="hostb", verbose=0)
"""


# Run in host B's namespace: a gratuitous ARP request claiming ADDR.
GARP = r"""
from scapy.all import ARP, Ether, sendp
mac, addr = "%s", "%s"
sendp(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=mac, psrc=addr, pdst=addr),
      iface="hostb", verbose=0)
"""


class World:
    def __init__(self, bins):
        self.dpsecd, self.dpsecctl = bins
        self.instance = "neigh-%d" % os.getpid()
        self.ns_dp, self.ns_a, self.ns_b = ("nb%s-%d" % (s, os.getpid()) for s in ("dp", "a", "b"))
        self.namespaces = []
        self.work = None
        self.dp = None

    def setup(self):
        self.work = T.make_workdir("dpsec-neigh-")
        for ns in (self.ns_dp, self.ns_a, self.ns_b):
            T.add_netns(ns)
            self.namespaces.append(ns)
            T.sh("ip", "link", "set", "lo", "up", ns=ns)
        self.link("gwa", "hosta", self.ns_a, HOST_A_MAC, HOST_A, GW_A6)
        self.link("gwb", "hostb", self.ns_b, HOST_B_MAC, HOST_B, "2001:db8:62::1")
        T.sh("ip", "addr", "add", "10.61.0.10/24", "dev", "hosta", ns=self.ns_a)
        for gw in (GW_A6, GW_A4):  # as a replaced gateway's were
            T.sh("ip", "neigh", "replace", gw, "lladdr", STALE_MAC, "dev", "hosta", "nud",
                 "stale", ns=self.ns_a)
        self.start_dpsecd("dpsecd")

    def start_dpsecd(self, name, port_b=PORT_B_VETH):
        """dpsecd on DP_CONF, its port b on port_b, its output in the work
        directory as name.log."""
        conf = os.path.join(self.work, "dpsecd.conf")
        with open(conf, "w") as f:
            f.write(DP_CONF % dict(port_b=port_b, seq_file=os.path.join(self.work, "dpsecd.seq")))
        T.track_dpsecd(self.instance)
        self.dp = T.Proc(self, name, [self.dpsecd, "--no-huge", "-m", "512", "--no-pci",
                                      "--file-prefix", self.instance, "-l", "0,1", "--",
                                      "-c", conf], ns=self.ns_dp)
        self.dp.wait_for("dpsecd: ready")

    def path(self, name):
        return os.path.join(self.work, name)

    def link(self, gw_dev, host_dev, ns_host, mac, addr, gw_addr):
        """A veth: dpsecd's end up with no kernel address (IPv6 off: the
        namespace's kernel must not answer ND itself), the host's with its
        MAC, address (no duplicate address detection) and default route."""
        T.sh("ip", "link", "add", gw_dev, "netns", self.ns_dp, "type", "veth", "peer", host_dev,
             "netns", ns_host)
        T.sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % gw_dev, ns=self.ns_dp)
        T.sh("ip", "link", "set", gw_dev, "up", ns=self.ns_dp)
        T.sh("ethtool", "-K", host_dev, "rx", "off", "tx", "off", ns=ns_host, check=False)
        T.sh("ip", "link", "set", host_dev, "address", mac, "up", ns=ns_host)
        T.sh("ip", "addr", "add", addr + "/64", "dev", host_dev, "nodad", ns=ns_host)
        T.sh("ip", "-6", "route", "add", "default", "via", gw_addr, ns=ns_host)

    def ctl(self, *args):
        r = subprocess.run([self.dpsecctl, "--instance", self.instance] + list(args),
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("dpsecctl %s: exit %d: %s%s" % (" ".join(args), r.returncode,
                                                                r.stdout, r.stderr))
        return json.loads(r.stdout)

    def counters(self, *names):
        rows = self.ctl("show", "stats", "--all", "--json")["dataplane"]
        stats = {r["name"]: r["value"] for r in rows}
        return {n: stats[n] for n in names}

    def ports(self):
        return {r["name"]: r for r in self.ctl("show", "ports", "--json")["ports"]}

    def neighbours(self):
        return {r["address"]: r for r in self.ctl("show", "neighbours", "--json")["neighbours"]}

    def ping(self, dst, count=3, interval="0.3", wait="1"):
        return T.sh("ping", "-6", "-n", "-c", str(count), "-i", interval, "-W", wait, dst,
                    ns=self.ns_a, check=False).stdout

    def close(self):
        if self.dp is not None:
            self.dp.stop()
            log = self.dp.text()
            print("dpsecd's log, without its closing statistics:\n"
                  + log[:log.find("== ")][-1500:])
        for ns in self.namespaces:
            T.delete_netns(ns)  # and what still runs there (the dad step's dumpcap)
        T.remove_dpsecd_leftovers(self.instance)
        if self.work:
            T.remove_workdir(self.work)


def received(out):
    m = re.search(r"(\d+) received", out)
    return int(m.group(1)) if m else 0


def announced(w, errs):
    held = {}

    def follows():
        for gw in (GW_A6, GW_A4):
            rows = json.loads(T.sh("ip", "-j", "neigh", "show", gw, "dev", "hosta",
                                   ns=w.ns_a).stdout)
            held[gw] = rows[0] if rows else None
        return all(e is not None and e.get("lladdr") == GW_A_MAC for e in held.values()) and \
            "router" in held[GW_A6]
    ok = T.wait_until(follows, 5)
    print("announced: host A's entries for the gateway: %s" % held)
    if not ok:
        errs.append("announced: host A, which held %s for the gateway's addresses, did not "
                    "follow its announcements to %s (IPv6 as a router): %s"
                    % (STALE_MAC, GW_A_MAC, held))


def resolve(w, errs):
    out = w.ping(HOST_B)
    print("resolve: host A's pings of host B: %d of 3 answered" % received(out))
    if received(out) < 2:
        errs.append("resolve: host A's pings of host B through dpsecd, which learns both by "
                    "ND, were not answered:\n" + out)


def anycast(w, errs):
    T.sh("ip", "neigh", "flush", "to", GW_A_ANYCAST, "dev", "hosta", ns=w.ns_a, check=False)
    w.ping(GW_A_ANYCAST, count=1, wait="2")  # the packet itself is dropped: no host port
    rows = json.loads(T.sh("ip", "-j", "neigh", "show", GW_A_ANYCAST, "dev", "hosta",
                           ns=w.ns_a).stdout)
    entry = rows[0] if rows else {}
    print("anycast: host A's entry for %s: %s" % (GW_A_ANYCAST, entry))
    if entry.get("lladdr") != GW_A_MAC or "router" not in entry:
        errs.append("anycast: host A's solicitation for the Subnet-Router anycast address %s "
                    "was not answered with the gateway's MAC %s as a router: %s"
                    % (GW_A_ANYCAST, GW_A_MAC, entry))


def probe(w, errs):
    names = ("neigh_probes", "neigh_expired")
    before = w.counters(*names)
    out = w.ping(HOST_B, count=2 * (REACHABLE_S + 4), interval="0.5")
    after = w.counters(*names)
    got = {n: after[n] - before[n] for n in names}
    shown = w.neighbours()
    print("probe: A's pings of B for %d s, %d answered: %s; listed %s"
          % (REACHABLE_S + 4, received(out), got,
             {a: (r["state"], r.get("mac")) for a, r in shown.items()}))
    if got["neigh_probes"] < 2 or got["neigh_expired"] != 0:
        errs.append("probe: dpsecd asked the silent hosts %d times and forgot %d of them: Linux's "
                    "answers to its unicast solicitations (no link-layer option) must keep them"
                    % (got["neigh_probes"], got["neigh_expired"]))
    for addr, mac in ((HOST_A, HOST_A_MAC), (HOST_B, HOST_B_MAC)):
        if addr not in shown or shown[addr].get("mac") != mac:
            errs.append("probe: %s not listed with its MAC %s: %s" % (addr, mac, shown.get(addr)))


def moved(w, errs):
    T.sh("ip", "link", "set", "hostb", "address", HOST_B_MOVED, ns=w.ns_b)
    before = w.counters("neigh_expired")["neigh_expired"]
    start = time.monotonic()
    ok = T.wait_until(lambda: received(w.ping(HOST_B, count=1, wait="1")) == 1, FOLLOW_S)
    expired = w.counters("neigh_expired")["neigh_expired"] - before
    print("moved: host B took %s silently; A's pings %s after %.1f s; %d neighbours forgotten"
          % (HOST_B_MOVED, "answered" if ok else "not answered", time.monotonic() - start,
             expired))
    if not ok or expired < 1:
        errs.append("moved: host B at a new MAC without a word: A's pings %s within %d s, %d "
                    "neighbours forgotten" % ("answered" if ok else "not answered", FOLLOW_S,
                                              expired))


def unreachable(w, errs):
    out = w.ping(NOBODY, count=8, interval="0.5")
    told = re.findall(r"From 2001:db8:61::1 icmp_seq=(\d+) Destination unreachable: "
                      r"Address unreachable", out)
    print("unreachable: host A's pings of %s, which nobody holds: %s answered with address "
          "unreachable" % (NOBODY, told))
    if "1" not in told:
        errs.append("unreachable: no address unreachable from dpsecd for the first ping of an "
                    "address on its link that does not answer ND:\n" + out)


def counted_each(w, before, timeout):
    """Whether each counter of before (name: value) grew within timeout
    seconds; and by how much each did."""
    got = {}

    def grown():
        after = w.counters(*before)
        got.update({n: after[n] - before[n] for n in before})
        return all(n >= 1 for n in got.values())
    return T.wait_until(grown, timeout), got


def believed(w, errs):
    names = ("neigh_unsolicited", "neigh_invalid")
    before = w.counters(*names)
    T.sh("/usr/bin/python3", "-c", FORGED % (HOST_B_MOVED, GW_B_MAC, UNASKED, HOST_B),
         ns=w.ns_b)
    ok, got = counted_each(w, before, 2)
    print("believed: an unsolicited advertisement and a solicitation with hop limit 64: %s" % got)
    if not ok:
        errs.append("believed: expected one advertisement not believed and one solicitation "
                    "refused, counted %s" % got)
    want = {HOST_A: HOST_A_MAC, HOST_B: HOST_B_MOVED}
    shown = w.neighbours()
    for addr, mac in want.items():
        if addr not in shown or shown[addr].get("mac") != mac:
            errs.append("believed: %s not listed with its MAC %s: %s" % (addr, mac,
                                                                          shown.get(addr)))
    if shown.get(NOBODY, {}).get("state") != "failed":
        errs.append("believed: %s not listed as failed: %s" % (NOBODY, shown.get(NOBODY)))
    if UNASKED in shown:
        errs.append("believed: %s, advertised unasked, listed: %s" % (UNASKED, shown[UNASKED]))


def duplicate(w, errs):
    names = ("neigh_address_conflicts", "neigh_announced")
    before = w.counters(*names)
    T.sh("ip", "addr", "add", "2001:db8:62::1/64", "dev", "hostb", ns=w.ns_b)
    dad = T.wait_until(lambda: "dadfailed" in T.sh("ip", "-6", "addr", "show", "dev", "hostb",
                                                 ns=w.ns_b).stdout, 5)
    T.sh("ip", "addr", "del", "2001:db8:62::1/64", "dev", "hostb", ns=w.ns_b, check=False)
    T.sh("/usr/bin/python3", "-c", GARP % (HOST_B_MOVED, "10.62.0.1"), ns=w.ns_b)
    ok, got = counted_each(w, before, 3)
    logged = "10.62.0.1 is claimed by %s too" % HOST_B_MOVED in w.dp.text()
    print("duplicate: host B's duplicate address detection of the gateway's IPv6 address %s; "
          "its gratuitous ARP for 10.62.0.1: %s, %s"
          % ("failed" if dad else "passed", got, "logged" if logged else "not logged"))
    if not dad:
        errs.append("duplicate: host B took the gateway's IPv6 address without dpsecd's answer "
                    "to its duplicate address detection failing it")
    if not ok or not logged:
        errs.append("duplicate: host B's gratuitous ARP for the gateway's IPv4 address: %s, %s; "
                    "expected a conflict counted and logged and an announcement"
                    % (got, "logged" if logged else "not logged"))


def stale(w, errs):
    # The steps before may have left either host silent long enough to be
    # forgotten already: A's pings of B make both reachable again first, so
    # that the time without traffic starts here.
    warm = w.ping(HOST_B)
    names = ("neigh_stale_removed", "neigh_expired")
    before = w.counters(*names)
    seen = {HOST_A: set(), HOST_B: set()}

    def gone():
        shown = w.neighbours()
        for addr, states in seen.items():
            if addr in shown:
                states.add(shown[addr]["state"])
        return not any(addr in shown for addr in seen)
    ok = T.wait_until(gone, 4 * REACHABLE_S + 10)
    after = w.counters(*names)
    got = {n: after[n] - before[n] for n in names}
    out = w.ping(HOST_B)
    print("stale: without traffic the hosts went through %s, %s; %s; A's pings of B then: %d "
          "of 3 answered" % ({a: sorted(s) for a, s in seen.items()},
                             "forgotten" if ok else "still listed", got, received(out)))
    if not ok or got["neigh_stale_removed"] < 2 or got["neigh_expired"] or \
            any("stale" not in states for states in seen.values()):
        errs.append("stale: hosts A and B, no packet sent to them, were not listed stale and "
                    "forgotten unasked (their states %s; counted %s)"
                    % ({a: sorted(s) for a, s in seen.items()}, got))
    if received(warm) < 2:
        errs.append("stale: A's first pings of B were not answered:\n" + warm)
    if received(out) < 2:
        errs.append("stale: once forgotten, A's pings of B did not find both again:\n" + out)


def tshark_fields(pcap, *fields):
    out = T.sh("tshark", "-r", pcap, "-T", "fields", "-E", "separator=|",
               *[x for f in fields for x in ("-e", f)]).stdout
    return [dict(zip(fields, line.split("|"))) for line in out.splitlines()]


def dad(w, errs):
    gw_b6 = "2001:db8:62::1"
    w.dp.stop()
    T.sh("ip", "addr", "add", gw_b6 + "/64", "dev", "hostb", "nodad", ns=w.ns_b)
    cap, pcap = T.dumpcap(w, "dad", w.ns_b, "hostb", "-f", "icmp6")
    w.start_dpsecd("dpsecd-dad")
    failed, got = counted_each(w, {"neigh_dad_failed": 0}, 5)
    time.sleep(4)  # the rounds of announcements: a second apart
    announced = w.counters("neigh_announced")["neigh_announced"]
    cap.stop()
    frames = tshark_fields(pcap, "eth.src", "ipv6.src", "ipv6.dst", "ipv6.hlim", "icmpv6.type",
                           "icmpv6.nd.ns.target_address", "icmpv6.nd.na.target_address",
                           "icmpv6.opt.type", "icmpv6.checksum.status")
    ours = [f for f in frames if f["eth.src"] == GW_B_MAC]
    tests = [f for f in ours if f["icmpv6.type"] == "135" and f["ipv6.src"] == "::"]
    adverts = [f for f in ours if f["icmpv6.nd.na.target_address"] == gw_b6]
    logged = "%s is already in use on the link by %s" % (gw_b6, HOST_B_MOVED) in w.dp.text()
    print("dad: host B holds %s: dpsecd's tests of it %s; %s; %s; announcements %d, of it %d"
          % (gw_b6, tests, got, "logged" if logged else "not logged", announced, len(adverts)))
    want = {"ipv6.dst": "ff02::1:ff00:1", "ipv6.hlim": "255", "icmpv6.nd.ns.target_address": gw_b6,
            "icmpv6.opt.type": "", "icmpv6.checksum.status": "1"}
    if len(tests) != 1 or any(tests[0].get(k) != v for k, v in want.items()):
        errs.append("dad: expected one duplicate address detection solicitation for %s (%s), "
                    "captured %s" % (gw_b6, want, tests))
    if not failed or not logged:
        errs.append("dad: host B's answer did not fail the detection: %s, %s"
                    % (got, "logged" if logged else "not logged"))
    if adverts or announced != 9:
        errs.append("dad: %d advertisements of the duplicate address, %d announcements in all "
                    "(expected 9: three rounds of the other three addresses)"
                    % (len(adverts), announced))


def link(w, errs):
    gw_b6, gw_b4 = "2001:db8:62::1", "10.62.0.1"
    w.dp.stop()
    T.sh("ip", "addr", "del", gw_b6 + "/64", "dev", "hostb", ns=w.ns_b, check=False)
    T.sh("ip", "addr", "add", "10.62.0.10/24", "dev", "hostb", ns=w.ns_b)
    T.sh("ip", "link", "add", "brb", "type", "bridge", ns=w.ns_dp)
    T.sh("sysctl", "-qw", "net.ipv6.conf.brb.disable_ipv6=1", ns=w.ns_dp)
    T.sh("ip", "link", "set", "gwb", "master", "brb", ns=w.ns_dp)
    T.sh("ip", "link", "set", "brb", "up", ns=w.ns_dp)
    w.start_dpsecd("dpsecd-link", PORT_B_TAP)
    T.sh("sysctl", "-qw", "net.ipv6.conf.gwbtap.disable_ipv6=1", ns=w.ns_dp)
    T.sh("ip", "link", "set", "gwbtap", "master", "brb", ns=w.ns_dp)
    time.sleep(4)  # the start's rounds of announcements over
    names = ("port_link_down", "port_link_up", "neigh_announced")
    before = w.counters(*names)
    cap, pcap = T.dumpcap(w, "link", w.ns_b, "hostb", "-f", "arp or icmp6")
    T.sh("ip", "link", "set", "gwbtap", "down", ns=w.ns_dp)
    down, _ = counted_each(w, {"port_link_down": before["port_link_down"]}, 3)
    shown_down = w.ports()
    for gw in (gw_b6, gw_b4):  # host B's caches lose the gateway meanwhile
        T.sh("ip", "neigh", "replace", gw, "lladdr", STALE_MAC, "dev", "hostb", "nud", "stale",
             ns=w.ns_b)
    T.sh("ip", "link", "set", "gwbtap", "up", ns=w.ns_dp)
    up, _ = counted_each(w, {"port_link_up": before["port_link_up"]}, 3)
    time.sleep(3.5)  # the test, then three rounds a second apart
    after = w.counters(*names)
    shown_up = w.ports()
    cap.stop()
    got = {n: after[n] - before[n] for n in names}
    frames = tshark_fields(pcap, "eth.src", "arp.opcode", "arp.src.proto_ipv4",
                           "arp.dst.proto_ipv4", "ipv6.src", "icmpv6.type",
                           "icmpv6.nd.ns.target_address", "icmpv6.nd.na.target_address",
                           "icmpv6.nd.na.flag.o", "icmpv6.checksum.status")
    ours = [f for f in frames if f["eth.src"] == GW_B_MAC]
    tests = [f for f in ours if f["icmpv6.type"] == "135" and f["ipv6.src"] == "::"
             and f["icmpv6.nd.ns.target_address"] == gw_b6]
    arps = [f for f in ours if f["arp.opcode"] == "1" and f["arp.src.proto_ipv4"] == gw_b4
            and f["arp.dst.proto_ipv4"] == gw_b4]
    adverts = [f for f in ours if f["icmpv6.type"] == "136"
               and f["icmpv6.nd.na.target_address"] == gw_b6
               and f["icmpv6.nd.na.flag.o"] in ("1", "True")
               and f["icmpv6.checksum.status"] == "1"]
    held = {}
    for gw in (gw_b6, gw_b4):
        rows = json.loads(T.sh("ip", "-j", "neigh", "show", gw, "dev", "hostb", ns=w.ns_b).stdout)
        held[gw] = rows[0].get("lladdr") if rows else None
    text = w.dp.text()
    logged = "port b: link down" in text and "port b: link up" in text
    print("link: port b's TAP down and up: counted %s, %s; on B's link since: %d tests of %s, "
          "%d gratuitous ARPs, %d advertisements; host B's entries %s"
          % (got, "logged" if logged else "not logged", len(tests), gw_b6, len(arps),
             len(adverts), held))
    if not down or not up or got["port_link_down"] != 1 or got["port_link_up"] != 1 \
            or not logged:
        errs.append("link: port b's link down then up: counted %s, %s; expected one of each, "
                    "logged" % (got, "logged" if logged else "not logged"))
    if len(tests) != 1 or len(arps) != 3 or len(adverts) != 3:
        errs.append("link: after port b's link came back, expected one duplicate address test of "
                    "%s, three gratuitous ARPs for %s and three advertisements of %s with the "
                    "override flag on its link; captured %d, %d, %d"
                    % (gw_b6, gw_b4, gw_b6, len(tests), len(arps), len(adverts)))
    if got["neigh_announced"] != 6:
        errs.append("link: %d announcements after port b's link came back, expected 6 (its two "
                    "addresses; port a's link never went down)" % got["neigh_announced"])
    links = [(p["a"]["link"], p["b"]["link"]) for p in (shown_down, shown_up)]
    sent = shown_up["b"]["tx_packets"] - shown_down["b"]["tx_packets"]
    print("link: show ports: links (a, b) %s while down, %s after; port b sent %d frames since"
          % (links[0], links[1], sent))
    if links != [("up", "down"), ("up", "up")] or sent < 7:
        errs.append("link: show ports gave the links (a, b) as %s while b was down and %s after, "
                    "port b sending %d frames since (at least 7: its test and announcements)"
                    % (links[0], links[1], sent))
    b = shown_up["b"]
    if (b["mac"], b["role"], b["mtu"]) != (GW_B_MAC, "unprotected", 1500):
        errs.append("link: show ports gave port b as %s" % b)
    if any(mac != GW_B_MAC for mac in held.values()):
        errs.append("link: host B's entries for the gateway did not follow its announcements "
                    "back to %s: %s" % (GW_B_MAC, held))


def main():
    if os.geteuid() != 0:
        print("neigh_e2e: needs root; skipped")
        return 77
    T.cleanup_on_sigterm()
    w = World(sys.argv[1:3])
    errs = []
    try:
        w.setup()
        for step in (announced, resolve, anycast, probe, moved, unreachable, believed, duplicate,
                     stale, dad, link):
            step(w, errs)
    finally:
        w.close()
    return T.verdict(errs, "neigh_e2e")


if __name__ == "__main__":
    sys.exit(main())
