# ike_e2e.py - IKEv2 end to end: two dpsec gateways (dpsecd + dpsec-ctld)
# in network namespaces, as tools/lab builds them, each with a PSK policy
# and a negotiate tunnel rule between the two LANs and no static SA.
#
#   hosta 10.1.0.2 -- gwa-lan [A] gwa-wan -- gwb-wan [B] gwb-lan -- hostb 10.2.0.2
#                          WAN 192.0.2.1 <-> 192.0.2.2
#
# A ping from host A raises an ACQUIRE at A; A's dpsec-ctld runs IKE_SA_INIT
# and IKE_AUTH with B's (IKE goes through each gateway's exception TAP),
# both install the child SA pair, the held packets go out, and the pings are
# answered. After 85% of the child SAs' lifetime (60 s), A rekeys the child
# SA and traffic still passes. Checks: show mmsas, the Main Mode table of
# both (main modes, quick modes, key additions), and the captures at both
# ends of the WAN hold IKE (UDP 500/4500) and ESP only. Needs root and tshark; exit 77 (skip) otherwise.
#
# With --peer strongswan, B is strongSwan 5.9 (charon-systemd, userspace
# ESP: kernel-libipsec, /work/shared/peers/strongswan.md) as the responder,
# host B's address on its loopback: its libipsec forces ESP in UDP 4500,
# which dpsec takes from the NAT detection. Exit 77 (skip) only when
# strongSwan is not installed (tools/deps installs it).
#
# With --peer wrong-psk, B's PSK differs: A's negotiation fails with
# AUTHENTICATION_FAILED, the filter action's fallback (a block) applies at
# once, and only IKE crosses the WAN.
#
# usage: ike_e2e.py [--peer dpsec|strongswan|wrong-psk] DPSECD DPSEC_CTLD DPSECCTL
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctl_topo as T  # noqa: E402

PSK = "ike-e2e shared key, test only"
LIFE = 60  # the child SAs' lifetime (the store's minimum): A (initiator) rekeys at 85%

# dpsecd's configuration: the lab's gateways without its IPv6 and site C.
GATEWAY = """
dataplane = { workers = 1; idle = "sleep"; idle_sleep_us = 50; };
ports = (
  { name = "lan"; device = "net_af_packet0,iface=gw%(gw)s-lan"; role = "protected";
    addresses = [ "%(lan_addr)s/24" ]; },
  { name = "wan"; device = "net_af_packet1,iface=gw%(gw)s-wan"; role = "unprotected";
    addresses = [ "%(wan)s/24" ]; }
);
exception = { interface = "dpsec0"; };
routes = ( { destination = "%(peer_lan)s"; via = "%(peer)s"; port = "wan"; } );
"""

STORE = """
assigned = "ike";
filter_lists = (
  { name = "lans"; filters = ( { source = "%(lan)s"; destination = "%(peer_lan)s";
                                 protocol = "any"; mirrored = true; } ); }
);
filter_actions = (
  { name = "ike-gcm"; action = "negotiate";
    methods = ( { protocol = "esp"; encryption = "aes128gcm16"; lifetime_seconds = %(life)d; } ); }
);
policies = (
  { name = "ike"; default_action = "permit"; rules = (
      { name = "to-peer"; filter_list = "lans"; filter_action = "ike-gcm"; priority = 10;
        tunnel_endpoint = "%(peer)s";
        authentication = ( { method = "psk"; psk = "%(psk)s"; } ); }
  ); }
);
"""

CHARON = "/usr/sbin/charon-systemd"
SWANCTL = "/usr/sbin/swanctl"

STRONGSWAN_CONF = """
charon-systemd {
  load_modular = no
  load = random nonce openssl kdf kernel-libipsec! kernel-netlink socket-default vici
  plugins { vici { socket = unix://%(work)s/charon.vici } }
  filelog { log { path = %(work)s/charon.log
                  default = 1
                  ike = 2
                  cfg = 2 } }
}
"""

SWANCTL_CONF = """
connections {
  dpsec {
    version = 2
    local_addrs = 192.0.2.2
    remote_addrs = 192.0.2.1
    proposals = aes256gcm16-prfsha256-ecp256,aes256-sha256-modp2048
    local { auth = psk
            id = 192.0.2.2 }
    remote { auth = psk
             id = 192.0.2.1 }
    children { lans { local_ts = 10.2.0.0/24
                      remote_ts = 10.1.0.0/24
                      esp_proposals = aes128gcm16 } }
  }
}
secrets { ike-1 { id-a = 192.0.2.1
                  id-b = 192.0.2.2
                  secret = "%(psk)s" } }
"""

GW = {"a": dict(lan="10.1.0.0/24", lan_addr="10.1.0.1", wan="192.0.2.1", peer_lan="10.2.0.0/24",
                peer="192.0.2.2"),
      "b": dict(lan="10.2.0.0/24", lan_addr="10.2.0.1", wan="192.0.2.2", peer_lan="10.1.0.0/24",
                peer="192.0.2.1")}


class World:
    """Four namespaces, two gateways, their ctlds; close() removes all."""

    def __init__(self, peer, dpsecd, ctld, ctl):
        self.tag = "ike%d" % os.getpid()
        self.work = tempfile.mkdtemp(prefix="dpsec-ike-e2e-")
        self.peer = peer
        names = ("ha", "ga", "gb") if peer == "strongswan" else ("ha", "ga", "gb", "hb")
        self.ns = {n: "%s-%s" % (self.tag, n) for n in names}
        self.procs, self.ctl_bin = [], ctl
        self.dpsecd, self.ctld = dpsecd, ctld

    def path(self, name):
        return os.path.join(self.work, name)

    def topology(self):
        """The lab's namespaces; with strongSwan, B is one namespace: its
        WAN address on the link, host B's on its loopback."""
        ns = self.ns
        for n in ns.values():
            T.sh("ip", "netns", "add", n)
            T.sh("ip", "-n", n, "link", "set", "lo", "up")
        T.sh("ip", "-n", ns["ga"], "link", "add", "gwa-lan", "type", "veth", "peer", "name",
             "hosta-eth0", "netns", ns["ha"])
        T.sh("ip", "-n", ns["ga"], "link", "add", "gwa-wan", "type", "veth", "peer", "name",
             "gwb-wan", "netns", ns["gb"])
        links = [(ns["ga"], "gwa-lan"), (ns["ga"], "gwa-wan")]
        hosts = [(ns["ha"], "hosta-eth0", "10.1.0.2/24", "10.1.0.1")]
        if self.peer != "strongswan":
            T.sh("ip", "-n", ns["gb"], "link", "add", "gwb-lan", "type", "veth", "peer", "name",
                 "hostb-eth0", "netns", ns["hb"])
            links += [(ns["gb"], "gwb-wan"), (ns["gb"], "gwb-lan")]
            hosts.append((ns["hb"], "hostb-eth0", "10.2.0.2/24", "10.2.0.1"))
        else:
            self.no_offloads(ns["gb"], "gwb-wan")
            T.sh("ip", "-n", ns["gb"], "link", "set", "gwb-wan", "up")
            T.sh("ip", "-n", ns["gb"], "addr", "add", "192.0.2.2/24", "dev", "gwb-wan")
            T.sh("ip", "-n", ns["gb"], "addr", "add", "10.2.0.2/32", "dev", "lo")
        for n, dev in links:
            T.sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % dev,
                 "net.ipv4.conf.%s.rp_filter=1" % dev, "net.ipv4.conf.%s.arp_ignore=8" % dev, ns=n)
            self.no_offloads(n, dev)
            T.sh("ip", "-n", n, "link", "set", dev, "up")
        for n, dev, addr, gw in hosts:
            self.no_offloads(n, dev)
            T.sh("ip", "-n", n, "link", "set", dev, "mtu", "1400", "up")
            T.sh("ip", "-n", n, "addr", "add", addr, "dev", dev)
            T.sh("ip", "-n", n, "route", "add", "default", "via", gw)

    @staticmethod
    def no_offloads(ns, dev):
        T.sh("ethtool", "-K", dev, "rx", "off", "tx", "off", "tso", "off", "gso", "off", "gro",
             "off", ns=ns, check=False)

    def proc(self, name, cmd, ns):
        p = T.Proc(self, name, cmd, ns=ns)
        self.procs.append(p)
        return p

    def gateway(self, gw):
        conf, store = self.path("gw%s.conf" % gw), self.path("store%s.conf" % gw)
        with open(conf, "w") as f:
            f.write(GATEWAY % dict(GW[gw], gw=gw))
        with open(os.open(store, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            wrong = self.peer == "wrong-psk" and gw == "b"
            f.write(STORE % dict(GW[gw], psk=PSK + (" but B's differs" if wrong else ""), life=LIFE))
        ns, prefix = self.ns["g" + gw], "%s-g%s" % (self.tag, gw)
        d = self.proc("dpsecd-" + gw, [self.dpsecd, "--no-huge", "-m", "256", "--no-pci",
                                       "--file-prefix", prefix, "-l", "0,1", "--", "-c", conf,
                                       "--stats-file", self.path("stats-%s.json" % gw)], ns)
        d.wait_for("dpsecd: ready")
        c = self.proc("ctld-" + gw, [self.ctld, "--store", store, "--instance", prefix, "--socket",
                                     self.path("ctld-%s.sock" % gw), "--log-level", "7",
                                     "--ike-log", self.ike_log(gw)], ns)
        c.wait_for("attached to dpsecd")
        return c

    def ike_log(self, gw):
        return self.path("ike-%s.log" % gw)

    def strongswan(self):
        """charon-systemd as gateway B, the connection loaded (it answers)."""
        conf, sw = self.path("strongswan.conf"), self.path("swanctl.conf")
        with open(conf, "w") as f:
            f.write(STRONGSWAN_CONF % dict(work=self.work))
        with open(os.open(sw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(SWANCTL_CONF % dict(psk=PSK))
        os.environ["STRONGSWAN_CONF"] = conf
        c = self.proc("charon", [CHARON], self.ns["gb"])
        deadline = time.monotonic() + 15
        while not os.path.exists(self.path("charon.vici")):
            if c.p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("charon-systemd did not start:\n" + c.text())
            time.sleep(0.1)
        T.sh(SWANCTL, "--load-all", "--file", sw, "--uri", "unix://" + self.path("charon.vici"),
             ns=self.ns["gb"])
        return c

    def charon_log(self):
        try:
            with open(self.path("charon.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def capture(self, gw):
        out = self.path("wan-%s.pcapng" % gw)
        c = self.proc("tshark-" + gw, ["tshark", "-n", "-q", "-i", "gw%s-wan" % gw, "-w", out],
                      self.ns["g" + gw])
        c.wait_for("Capturing on")
        return c, out

    def ctl(self, gw, *args):
        return subprocess.run([self.ctl_bin, "--socket", self.path("ctld-%s.sock" % gw)] +
                              list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, check=True).stdout

    def show(self, gw, what):
        return json.loads(self.ctl(gw, "show", what, "--json"))[what]

    def mm(self, gw):
        return {r["name"]: r["value"]
                for r in json.loads(self.ctl(gw, "show", "stats", "--json"))["main_mode"]}

    def close(self):
        for p in reversed(self.procs):
            p.stop(5)
        for n in self.ns.values():
            T.sh("ip", "netns", "del", n, check=False)
        for gw in ("a", "b"):  # the EAL's runtime directories (--file-prefix)
            shutil.rmtree("/var/run/dpdk/%s-g%s" % (self.tag, gw), ignore_errors=True)
        shutil.rmtree(self.work, ignore_errors=True)


def ping(w, count):
    """Pings host B from host A; the sequence numbers answered."""
    out = T.sh("ping", "-n", "-c", str(count), "-i", "0.5", "-W", "2", "10.2.0.2",
               ns=w.ns["ha"], check=False).stdout
    return sorted({int(l.split("icmp_seq=")[1].split()[0]) for l in out.splitlines()
                   if "bytes from" in l}), out


def wan_kinds(pcap):
    """What crossed the WAN, by tshark's dissection: IKE (on 500 or, with
    the non-ESP marker, 4500), ESP, ESP in UDP, NAT keepalives (strongSwan
    sends them: it fakes a NAT), and anything else over IP."""
    protos = subprocess.run(["tshark", "-n", "-r", pcap, "-T", "fields", "-e", "frame.protocols",
                             "-Y", "ip"], check=True, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True).stdout.split("\n")
    kinds = {"ike": 0, "esp": 0, "esp-in-udp": 0, "keepalive": 0, "other": []}
    for p in filter(None, protos):
        if p.endswith((":ip:udp:isakmp", ":ip:udp:udpencap:isakmp")):
            kinds["ike"] += 1
        elif p.endswith(":ip:esp"):
            kinds["esp"] += 1
        elif p.endswith(":ip:udp:udpencap:esp"):
            kinds["esp-in-udp"] += 1
        elif p.endswith(":ip:udp:udpencap"):
            kinds["keepalive"] += 1
        else:
            kinds["other"].append(p)
    return kinds


def check_mmsas(w, errs):
    """A's show mmsas: the IKE SA it initiated, with B's identity."""
    sas = w.show("a", "mmsas")
    print("gateway a: IKE SAs %s" % [(m["role"], m["peer_id"], m["algorithms"]) for m in sas])
    if len(sas) != 1 or sas[0]["role"] != "initiator" or sas[0]["peer_id"] != "IPv4 192.0.2.2":
        errs.append("gateway A: show mmsas: %s, expected one IKE SA, initiator, peer IPv4 "
                    "192.0.2.2" % sas)


def check_ike_log(w, errs, gw, expected):
    """The gateway's IKE (Oakley) log file holds the negotiation: time-stamped
    entries, among them the line EXPECTED."""
    try:
        lines = open(w.ike_log(gw)).read().splitlines()
    except OSError as e:
        errs.append("gateway %s: IKE log: %s" % (gw, e))
        return
    stamped = [l for l in lines if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z \w+ ", l)]
    print("gateway %s: IKE log: %d entries" % (gw, len(lines)))
    if not lines or len(stamped) != len(lines) or not any(expected in l for l in lines):
        errs.append("gateway %s: IKE log: %d entries, %d time-stamped, none with %r"
                    % (gw, len(lines), len(stamped), expected))


def inbound_spis(w):
    return {q["spi"] for q in w.show("a", "qmsas") if q["direction"] == "inbound"}


def rekey(w, errs, t_up):
    """Past A's soft lifetime (85% of LIFE), before B's (95%): the child
    SA was rekeyed (a new inbound SPI, the old pair removed) and traffic
    still passes."""
    before = inbound_spis(w)
    time.sleep(max(0, t_up + LIFE * 0.85 + 3 - time.monotonic()))
    answered, out = ping(w, 4)
    after = inbound_spis(w)
    print("gateway a: inbound SPIs %s before the soft lifetime, %s after"
          % ([hex(x) for x in before], [hex(x) for x in after]))
    if len(after) != 1 or after == before:
        errs.append("rekey: inbound SPIs %s before, %s after: expected one new SPI"
                    % (before, after))
    if not {2, 3, 4} <= set(answered):
        errs.append("rekey: ping after the rekey: answered %s, expected 2-4:\n%s" % (answered, out))


def run_wrong_psk(w, errs):
    """B's PSK differs: B refuses A's IKE_AUTH (AUTHENTICATION_FAILED), A
    applies the filter action's fallback at once (no fallback to clear:
    the peer is blocked), and nothing but IKE crosses the WAN."""
    w.topology()
    caps = [w.capture(g) for g in ("a", "b")]
    ctld = {g: w.gateway(g) for g in ("a", "b")}
    answered, out = ping(w, 4)
    for c, _ in caps:
        c.signal(2)
        c.p.wait(10)
    m = w.mm("a")
    print("gateway a: negotiation failures %d, authentication failures %d, main modes %d, "
          "soft associations %d" % (m["negotiation_failures"], m["authentication_failures"],
                                    m["ike_main_mode"], m["soft_associations"]))
    if answered:
        errs.append("wrong PSK: pings answered %s" % answered)
    if m["negotiation_failures"] != 1 or m["authentication_failures"] != 1 or m["ike_main_mode"] \
            or m["soft_associations"]:
        errs.append("gateway A: expected one failed negotiation, counted as an authentication "
                    "failure, no main mode and no soft association: %s" % m)
    if 'negotiation failed: rule "to-peer", peer 192.0.2.2' not in ctld["a"].text():
        errs.append("gateway A: no audit line for the failed negotiation")
    check_ike_log(w, errs, "a", "AUTHENTICATION_FAILED")
    for g, (_, pcap) in zip(("a", "b"), caps):
        k = wan_kinds(pcap)
        if not k["ike"] or k["esp"] or k["esp-in-udp"] or k["other"]:
            errs.append("WAN at %s: expected IKE only, got %s" % (g, k))
    if errs:
        for g in ("a", "b"):
            print("---- dpsec-ctld %s ----\n%s" % (g, ctld[g].text()[-6000:]))


def run(w, errs):
    if w.peer == "wrong-psk":
        run_wrong_psk(w, errs)
        return
    w.topology()
    gws = ("a", "b") if w.peer == "dpsec" else ("a",)
    caps = [w.capture(g) for g in ("a", "b")]
    ctld = {g: w.gateway(g) for g in gws}
    if w.peer == "strongswan":
        w.strongswan()
    t_up = time.monotonic()
    answered, out = ping(w, 10)
    if not {6, 7, 8, 9, 10} <= set(answered):
        errs.append("ping 10.1.0.2 -> 10.2.0.2: answered %s, expected at least 6-10:\n%s"
                    % (answered, out))
    check_mmsas(w, errs)
    check_ike_log(w, errs, "a", "-> ESTABLISHED")
    rekey(w, errs, t_up)
    for c, _ in caps:
        c.signal(2)
        c.p.wait(10)
    mm = {g: w.mm(g) for g in gws}
    for g in gws:
        print("gateway %s: main modes %d, quick modes %d, key additions %d, key updates %d"
              % (g, mm[g]["ike_main_mode"], mm[g]["ike_quick_mode"], mm[g]["key_additions"],
                 mm[g]["key_updates"]))
    for g in gws:
        m = mm[g]
        if m["ike_main_mode"] < 1 or m["ike_quick_mode"] < 1:
            errs.append("gateway %s: main modes %d, quick modes %d: expected 1 or more each"
                        % (g, m["ike_main_mode"], m["ike_quick_mode"]))
        if m["key_additions"] < 1 or m["key_updates"] < 1:
            errs.append("gateway %s: key additions %d, updates %d: expected an SA pair"
                        % (g, m["key_additions"], m["key_updates"]))
    if mm["a"]["total_acquire"] < 1 or mm["a"]["soft_associations"]:
        errs.append("gateway A: acquires %d, soft associations %d: expected an ACQUIRE answered "
                    "by IKE" % (mm["a"]["total_acquire"], mm["a"]["soft_associations"]))
    for g, (_, pcap) in zip(("a", "b"), caps):
        k = wan_kinds(pcap)
        print("WAN at %s: %d IKE, %d ESP, %d ESP in UDP" % (g, k["ike"], k["esp"], k["esp-in-udp"]))
        if not k["ike"] or not (k["esp"] or k["esp-in-udp"]) or k["other"]:
            errs.append("WAN at %s: expected IKE and ESP only, got %s" % (g, k))
        if w.peer == "strongswan" and k["esp"]:
            errs.append("WAN at %s: %d plain ESP: strongSwan's libipsec takes ESP in UDP only"
                        % (g, k["esp"]))
    if errs:
        for g in gws:
            print("---- dpsec-ctld %s ----\n%s" % (g, ctld[g].text()[-6000:]))
        if w.peer == "strongswan":
            print("---- charon ----\n%s" % w.charon_log()[-6000:])


def finish(name, peer, w, run_test):
    """Runs run_test(w, errs), removes the world, prints the verdict;
    the exit status."""
    errs = []
    try:
        run_test(w, errs)
    finally:
        w.close()
    for e in errs:
        print("FAIL " + e)
    print("%s (peer %s): %s" % (name, peer, "FAILED" if errs else "passed"))
    return 1 if errs else 0


def main():
    args, peer = sys.argv[1:], "dpsec"
    if args[:1] == ["--peer"] and len(args) > 1:
        peer, args = args[1], args[2:]
    if len(args) != 3 or peer not in ("dpsec", "strongswan", "wrong-psk"):
        print("usage: ike_e2e.py [--peer dpsec|strongswan|wrong-psk] DPSECD DPSEC_CTLD DPSECCTL",
              file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("ike_e2e: needs root (network namespaces); skipped")
        return 77
    if shutil.which("tshark") is None or shutil.which("ethtool") is None:
        print("ike_e2e: tshark or ethtool missing (tools/deps installs them); skipped")
        return 77
    if peer == "strongswan" and not (os.access(CHARON, os.X_OK) and os.access(SWANCTL, os.X_OK)):
        print("ike_e2e: strongSwan is not installed (%s, %s: tools/deps installs it); skipped"
              % (CHARON, SWANCTL))
        return 77
    return finish("ike_e2e", peer, World(peer, *args), run)


if __name__ == "__main__":
    sys.exit(main())
