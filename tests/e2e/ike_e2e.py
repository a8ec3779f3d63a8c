# ike_e2e.py - IKEv2 end to end: two dpsec gateways (dpsecd + dpsec-ctld)
# in network namespaces, as tools/lab builds them, each with a PSK policy
# and a negotiate tunnel rule between the two LANs and no static SA.
#
#   hosta 10.1.0.2 -- gwa-lan [A] gwa-wan -- gwb-wan [B] gwb-lan -- hostb 10.2.0.2
#                          WAN 192.0.2.1 <-> 192.0.2.2
#
# A ping from host A raises an ACQUIRE at A; A's dpsec-ctld runs IKE_SA_INIT
# and IKE_AUTH with B's (IKE goes through each gateway's exception TAP),
# both install the child SA pair (B, the responder, before it answers), the
# held packets go out, and the pings are
# answered (against dpsec, B's dpsec-ctld is stopped for the first 1.6 s, so
# that A holds 4 pings, drops and counts the rest, then sends the 4). After
# 85-90 % of the child SAs' lifetime (60 s), A rekeys the child SA under a
# continuous ping that loses at most LOSS_TOLERANCE pings; before that
# (dpsec against dpsec, ctld's --test-ike-lifetime 45) A has rekeyed the
# IKE SA, the same new one on both sides. Checks: show mmsas, the Main Mode
# table of both (main modes, quick modes, key additions), and the captures
# at both ends of the WAN hold IKE (UDP 500/4500) and ESP only; after the
# first pings, 5 more whose payload repeats a pattern (ping -p): in the
# captures, the ESP packets of each direction (requests, replies) carry it
# in clear when the child SAs are NULL or AES-GMAC (RFC 2410, RFC 4543:
# integrity only), none does with a cipher,
# and never a packet outside ESP; then (dpsec
# against dpsec) the hosts' kernels learn the tunnel's path MTU from gateway
# A's ICMP fragmentation needed, and a ping with TTL 1 draws its time
# exceeded; last (dpsec and strongSwan) A's dpsecd is killed and started
# again: its child SAs are deleted with B and new ones negotiated. The child
# SAs are AES-128-CBC with HMAC-SHA-384-192 (RFC 4868) between two dpsec,
# AES-256-CBC with AES-CMAC-96 (RFC 4494: IKEv2 transform 8) against
# strongSwan (show qmsas names them, and strongSwan's list-sas its own;
# HMAC-SHA-512-256 against strongSwan is ikev1_e2e.py's).
# Needs root and tshark; exit 77 (skip) otherwise.
#
# With --peer strongswan, B is strongSwan 5.9 (charon-systemd, userspace
# ESP: kernel-libipsec, /work/shared/peers/strongswan.md) as the responder,
# host B's address on its loopback: its libipsec forces ESP in UDP 4500,
# which dpsec takes from the NAT detection. Exit 77 (skip) only when
# strongSwan is not installed (tools/deps installs it).
#
# With --peer dpsec-crossed, both gateways negotiate at once (run_crossed):
# their IKE_SA_INIT requests cross on the WAN.
#
# With --peer wrong-psk, B's PSK differs: A's negotiation fails with
# AUTHENTICATION_FAILED, the filter action's fallback (a block) applies at
# once, and only IKE crosses the WAN.
#
# With --peer dpsec-cert and strongswan-cert, the gateways authenticate with
# certificates the test makes with the openssl command (one root CA; A's
# key RSA, signing with RSA-PSS; B's ECDSA P-256), identities the FQDNs of
# their subjectAltNames; the private keys are read by dpsec-ctld's key
# process only. These check establishment, traffic and the peer's identity,
# not the rekey (which authentication does not touch). With
# strongswan-cert-initiator, strongSwan initiates (swanctl --initiate) and
# dpsec answers, and the key types swap: A ECDSA, B RSA. With revoked-cert,
# A checks the root's CRL (revocation level 1), which lists B's
# certificate: A refuses B's IKE_AUTH answer. The certificate worlds'
# child SAs against strongSwan are ChaCha20-Poly1305 (RFC 7634; the store's
# only method, show qmsas names it), but strongswan-cert-initiator's are ESP
# NULL with HMAC-SHA-256-128 (RFC 2410, integrity only: "null-sha256" in
# swanctl.conf, show qmsas names NULL/HMAC-SHA-256-128, and the inner
# packets cross the WAN in clear); dpsec-cert's, between two dpsec, are
# AES-256-GMAC (RFC 4543: IKEv2 transform 21 with a key length of 256,
# integrity only, the inner packets in clear on the WAN; strongSwan's
# userspace ESP has no GMAC). Against strongSwan with dpsec initiating, the IKE SA
# is ChaCha20-Poly1305 (over Curve25519, strongSwan's only proposal; show mmsas
# names it); in strongswan (PSK) and strongswan-cert-initiator A's policy names
# two Main Mode methods outside dpsec's suites: first AES-256-GCM over ECP-521,
# which strongSwan lacks, then one it offers after one of dpsec's suites
# (AES-128-CBC with AES-XCBC-96 and PRF AES-XCBC, RFC 3566 and RFC 4434;
# AES-256-CBC with AES-CMAC-96 and PRF AES-CMAC, RFC 4494 and RFC 4615; over
# ECP-384), and the IKE SA is in that one (show mmsas, strongSwan's list-sas;
# show policy lists the two).
#
# usage: ike_e2e.py [--peer dpsec|strongswan|wrong-psk|dpsec-cert|strongswan-cert]
#        [|strongswan-cert-initiator|revoked-cert] DPSECD DPSEC_CTLD DPSECCTL
import collections
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctl_topo as T  # noqa: E402

PSK = "ike-e2e shared key, test only"
LIFE = 60  # the child SAs' lifetime (the store's minimum): A (initiator) rekeys at 85-90 %
LOSS_TOLERANCE = 2  # pings of a continuous stream (5 a second) a rekey may cost under load
IKE_LIFE = 45  # dpsec against dpsec: --test-ike-lifetime, A rekeys the IKE SA at 38-41 s
SYNCED = "the dataplane is in line with the store"  # dpsec-ctld, once attached

# dpsecd's configuration: the lab's gateways without its IPv6 and site C.
GATEWAY = """
dataplane = { workers = 1; idle = "sleep"; idle_sleep_us = 50;%(dp_extra)s };
ports = (
  { name = "lan"; device = "net_af_packet0,iface=gw%(gw)s-lan"; role = "protected";
    addresses = [ "%(lan_addr)s/24" ];%(lan_extra)s },
  { name = "wan"; device = "%(wan_device)s"; role = "unprotected";
    addresses = [ "%(wan)s/24" ];%(wan_extra)s }
);
exception = { interface = "dpsec0"; };
routes = ( { destination = "%(peer_lan)s"; via = "%(peer)s"; port = "wan"; } );
"""

# A child SA's protection: the store's encryption and integrity,
# strongSwan's esp_proposals, dpsec's show qmsas.
EspSuite = collections.namedtuple("EspSuite", "cipher integ swan shown")
ESP_SUITES = {
    "gcm": EspSuite("aes128gcm16", "none", "aes128gcm16", "AES-128-GCM"),
    "chacha": EspSuite("chacha20poly1305", "none", "chacha20poly1305", "ChaCha20-Poly1305"),
    "sha384": EspSuite("aes128", "sha384_192", "aes128-sha384", "AES-128-CBC/HMAC-SHA-384-192"),
    "null": EspSuite("null", "sha256_128", "null-sha256", "NULL/HMAC-SHA-256-128"),
    "ccm": EspSuite("aes128ccm16", "none", "aes128ccm16", "AES-128-CCM-16"),
    "xcbc": EspSuite("aes128", "aesxcbc_96", "aes128-aesxcbc", "AES-128-CBC/AES-XCBC-MAC-96"),
    "cmac": EspSuite("aes256", "aescmac_96", "aes256-aescmac", "AES-256-CBC/AES-CMAC-96"),
    "gmac": EspSuite("aes256gmac", "none", "aes256gmac", "AES-256-GMAC"),
}
# How strongSwan's swanctl --list-sas names some of them, by esp_proposals.
SWAN_LISTED = {"aes128-aesxcbc": "AES_CBC-128/AES_XCBC_96",
               "aes256-aescmac": "AES_CBC-256/AES_CMAC_96",
               "chacha20poly1305": "ESP:CHACHA20_POLY1305"}
# What patterned_pings' payload repeats (ping -p: 16 bytes at most); on the
# WAN it shows in the ESP packets with NULL encryption or AES-GMAC (RFC
# 2410, RFC 4543: integrity only), and nowhere else.
CLEAR_PATTERN = "dpsec-clear-text"
GATEWAYS = {("192.0.2.1", "192.0.2.2"): "A to B", ("192.0.2.2", "192.0.2.1"): "B to A"}

STORE = """
assigned = "ike";
filter_lists = (
  { name = "lans"; filters = ( { source = "%(lan)s"; destination = "%(peer_lan)s";
                                 protocol = "any"; mirrored = true; } ); }
);
filter_actions = (
  { name = "ike-gcm"; action = "negotiate";
    methods = ( { protocol = "esp"; encryption = "%(esp)s"; integrity = "%(integ)s";
                  lifetime_seconds = %(life)d; } ); }
);
policies = (
  { name = "ike"; default_action = "permit"; %(main_mode)s rules = (
      { name = "to-peer"; filter_list = "lans"; filter_action = "ike-gcm"; priority = 10;
        tunnel_endpoint = "%(peer)s";
        authentication = ( %(auth)s ); }
  ); }
);
"""
# A policy's own Main Mode method (docs/policy-store.md), none of dpsec's
# suites, by world: as dpsec's store names it, as show policy lists it,
# strongSwan's proposal, and how dpsec's show mmsas and strongSwan's
# list-sas both name the IKE SA. The PSK world's (dpsec initiating) takes
# AES-XCBC (RFC 3566's MAC, RFC 4434's PRF: the PSK, longer than 16
# bytes, is made a key by it), the certificate world's (strongSwan
# initiating) AES-CMAC (RFC 4494, RFC 4615)
MmMethod = collections.namedtuple("MmMethod", "store listed swan shown")
MM_XCBC = MmMethod('encryption = "aes128"; integrity = "aesxcbc_96"; prf = "aesxcbc"; '
                   'dh_group = "ecp384";', "aes128-aesxcbc_96/aesxcbc/ecp384",
                   "aes128-aesxcbc-prfaesxcbc-ecp384",
                   "AES_CBC-128/AES_XCBC_96/PRF_AES128_XCBC/ECP_384")
MM_CMAC = MmMethod('encryption = "aes256"; integrity = "aescmac_96"; prf = "aescmac"; '
                   'dh_group = "ecp384";', "aes256-aescmac_96/aescmac/ecp384",
                   "aes256-aescmac-prfaescmac-ecp384",
                   "AES_CBC-256/AES_CMAC_96/PRF_AES128_CMAC/ECP_384")
# A method gateway A's policy names first, before the one it shares with
# strongSwan, which strongSwan is not configured with: both sides must pass
# over it (and show policy lists the two)
MM_UNSHARED = MmMethod('encryption = "aes256gcm16"; integrity = "none"; prf = "sha512"; '
                       'dh_group = "ecp521";', "aes256gcm16/sha512/ecp521", None, None)
PSK_AUTH = '{ method = "psk"; psk = "%s"; }'
CERT_AUTH = """{ method = "certificate"; roots = [ "%(work)s/ca.pem" ];
          certificates = ( { certificate = "%(work)s/%(gw)s.pem"; private_key = "%(work)s/%(gw)s.key"; } );
          rsa_signature = "pss"; identity = "fqdn"; %(crl)s}"""
CRL_CHECK = 'revocation = 1; crls = [ "%s/ca.crl" ]; '

# A minimal CA for "openssl ca" to revoke a certificate and issue the CRL.
CA_CONF = """
[ ca ]
default_ca = dpsec_e2e
[ dpsec_e2e ]
database = %(work)s/index.txt
crlnumber = %(work)s/crlnumber
default_md = sha256
default_crl_days = 2
"""

CHARON = "/usr/sbin/charon-systemd"
SWANCTL = "/usr/sbin/swanctl"

# charon-systemd's strongswan.conf. Its openssl plugin has no AES-XCBC or
# AES-CMAC: the xcbc and cmac plugins bring them (without them libipsec
# refuses such a child SA: "unsupported integrity algorithm").
STRONGSWAN_CONF = """
charon-systemd {
  %(extra)s
  load_modular = no
  load = random nonce openssl kdf pem pkcs1 pkcs8 x509 pubkey constraints xcbc cmac kernel-libipsec! kernel-netlink socket-default vici
  plugins { vici { socket = unix://%(work)s/charon.vici } }
  filelog { log { path = %(work)s/charon.log
                  flush_line = yes
                  default = 1
                  ike = 2
                  cfg = 2 } }
}
"""

# B's swanctl.conf: "lans" is the pair the tests make; "outside" (a LAN A's
# policy does not hold) is started only by a test that wants it refused.
SWANCTL_CONF = """
connections {
  dpsec {
    version = 2
    local_addrs = 192.0.2.2
    remote_addrs = 192.0.2.1
    proposals = %(proposals)s
    local { %(local)s }
    remote { %(remote)s }
    children { lans { local_ts = 10.2.0.0/24
                      remote_ts = 10.1.0.0/24
                      esp_proposals = %(esp)s }
               outside { local_ts = 10.2.0.0/24
                         remote_ts = 10.9.0.0/24
                         esp_proposals = %(esp)s } }
  }
}
%(secrets)s
"""
SWANCTL_PSK = dict(local="auth = psk\n            id = 192.0.2.2",
                   remote="auth = psk\n             id = 192.0.2.1",
                   secrets='secrets { ike-1 { id-a = 192.0.2.1\n                  id-b = 192.0.2.2\n'
                           '                  secret = "%s" } }' % PSK)
# B with its certificate (x509/, x509ca/, private/ beside the file).
SWANCTL_CERT = dict(local="auth = pubkey\n            certs = b.pem\n            id = b.example",
                    remote="auth = pubkey\n             id = a.example", secrets="")

GW = {"a": dict(lan="10.1.0.0/24", lan_addr="10.1.0.1", wan="192.0.2.1", peer_lan="10.2.0.0/24",
                peer="192.0.2.2"),
      "b": dict(lan="10.2.0.0/24", lan_addr="10.2.0.1", wan="192.0.2.2", peer_lan="10.1.0.0/24",
                peer="192.0.2.1")}


class World:
    """Four namespaces, two gateways, their ctlds; close() removes all."""

    # the child SAs' protection with a PSK, by peer (ESP_SUITES; AES-GCM
    # for the others): AES-256-CBC with AES-CMAC-96 (RFC 4494) against
    # strongSwan, AES-128-CBC with HMAC-SHA-384-192 between two dpsec
    PSK_ESP = {"strongswan": "cmac", "dpsec": "sha384"}

    def cert_esp(self):
        """The certificate worlds' child SAs (ESP_SUITES' key)."""
        if self.swan_initiates:
            return "null"
        return "gmac" if self.peer == "dpsec" else "chacha"

    def __init__(self, peer, dpsecd, ctld, ctl):
        self.tag = "ike%d" % os.getpid()
        self.work = T.make_workdir("dpsec-ike-e2e-")
        self.swan_initiates = peer.endswith("-initiator")
        peer = peer[:-len("-initiator")] if self.swan_initiates else peer
        self.cert = peer.endswith("-cert")
        self.peer = peer[:-len("-cert")] if self.cert else peer
        # B is one namespace (no dpsec there) unless it is a dpsec gateway
        self.b_alone = self.peer not in ("dpsec", "wrong-psk", "revoked")
        names = ("ha", "ga", "gb") if self.b_alone else ("ha", "ga", "gb", "hb")
        self.store_extra, self.ctld_args = "", []  # ike_interop_e2e.py's timeouts and options
        self.charon_extra = ""  # and charon's (strongswan.conf's charon-systemd section)
        # strongSwan's IKE proposals, its preferred first, and the child
        # SAs' protection: ChaCha20-Poly1305 (RFC 7634) for both in the
        # certificate worlds against strongSwan, but the child SAs NULL
        # with HMAC-SHA-256-128 (RFC 2410) when strongSwan initiates, and
        # AES-256-GMAC (RFC 4543, which strongSwan's userspace ESP lacks)
        # between two dpsec; PSK_ESP's in the others
        self.sw_proposals = "chacha20poly1305-prfsha256-x25519" if self.cert else \
            "aes256gcm16-prfsha256-ecp256,aes256-sha256-modp2048"
        self.mm_method = None  # the Main Mode method A's policy shares with strongSwan (use_mm_methods)
        self.mm_before = None  # one A's policy names before it
        self.esp = ESP_SUITES[self.cert_esp() if self.cert else self.PSK_ESP.get(self.peer, "gcm")]
        # the WAN port's device (%(gw)s: a or b) and more of its settings,
        # and of the LAN port's
        self.wan_device, self.wan_extra = "net_af_packet1,iface=gw%(gw)s-wan", ""
        self.lan_extra = ""
        self.dp_extra = ""  # more of the dataplane group's settings
        self.ns = {n: "%s-%s" % (self.tag, n) for n in names}
        self.procs, self.ctl_bin = [], ctl
        self.dpsecd, self.ctld = dpsecd, ctld

    def use_mm_methods(self, method, before=None):
        """Gateway A's policy names a Main Mode method outside dpsec's
        suites, which strongSwan offers after one of them, and before it
        the method before (if any), which strongSwan lacks: an IKE SA in
        method shows that A offered, or as responder chose, by its policy
        alone, and passed over what the peer does not share."""
        self.mm_method, self.mm_before = method, before
        self.sw_proposals += "," + method.swan

    def mm_methods(self):
        """A's policy's Main Mode methods, in order."""
        return [m for m in (self.mm_before, self.mm_method) if m is not None]

    def main_mode(self):
        """The store's main_mode group for gateway A's policy."""
        if self.mm_method is None:
            return ""
        return "main_mode = { methods = ( %s ); };" % ", ".join("{ %s }" % m.store
                                                               for m in self.mm_methods())

    def path(self, name):
        return os.path.join(self.work, name)

    def topology(self):
        """The lab's namespaces; with strongSwan (or ike-scan), B is one
        namespace: its WAN address on the link, host B's on its loopback."""
        ns = self.ns
        for n in ns.values():
            T.add_netns(n)
            T.sh("ip", "-n", n, "link", "set", "lo", "up")
        T.sh("ip", "-n", ns["ga"], "link", "add", "gwa-lan", "type", "veth", "peer", "name",
             "hosta-eth0", "netns", ns["ha"])
        T.sh("ip", "-n", ns["ga"], "link", "add", "gwa-wan", "type", "veth", "peer", "name",
             "gwb-wan", "netns", ns["gb"])
        links = [(ns["ga"], "gwa-lan"), (ns["ga"], "gwa-wan")]
        hosts = [(ns["ha"], "hosta-eth0", "10.1.0.2/24", "10.1.0.1")]
        if not self.b_alone:
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
        with open(self.path("gw%s.conf" % gw), "w") as f:
            f.write(GATEWAY % dict(GW[gw], gw=gw, wan_device=self.wan_device % dict(gw=gw),
                                   wan_extra=self.wan_extra, lan_extra=self.lan_extra,
                                   dp_extra=self.dp_extra))
        self.write_store(gw)
        self.dataplane(gw)
        return self.control(gw)

    def write_store(self, gw):
        """Gateway gw's policy store (mode 0600: it holds the PSK)."""
        store = self.path("store%s.conf" % gw)
        with open(os.open(store, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            wrong = self.peer == "wrong-psk" and gw == "b"
            # only A checks CRLs: B, checking its own certificate, would not use it
            crl = CRL_CHECK % self.work if self.peer == "revoked" and gw == "a" else ""
            auth = CERT_AUTH % dict(work=self.work, gw=gw, crl=crl) if self.cert else \
                PSK_AUTH % (PSK + (" but B's differs" if wrong else ""))
            f.write(STORE % dict(GW[gw], auth=auth, life=LIFE, esp=self.esp.cipher,
                                 integ=self.esp.integ,
                                 main_mode=self.main_mode() if gw == "a" else "")
                    + self.store_extra)

    def control(self, gw):
        """Gateway gw's dpsec-ctld, started on its store, attached and the
        dataplane synced (until then dpsecd runs its own configuration's
        policy: these have none)."""
        c = self.proc("ctld-" + gw, [self.ctld, "--store", self.path("store%s.conf" % gw), "--instance",
                                     "%s-g%s" % (self.tag, gw), "--socket", self.path("ctld-%s.sock" % gw),
                                     "--log-level", "7", "--ike-log", self.ike_log(gw)] + self.ctld_args,
                      self.ns["g" + gw])
        c.wait_for(SYNCED)
        return c

    def dataplane(self, gw):
        """Gateway gw's dpsecd, started on its configuration, ready."""
        T.track_dpsecd("%s-g%s" % (self.tag, gw))
        d = self.proc("dpsecd-" + gw, [self.dpsecd, "--no-huge", "-m", "256", "--no-pci",
                                       "--file-prefix", "%s-g%s" % (self.tag, gw), "-l", "0,1",
                                       "--", "-c", self.path("gw%s.conf" % gw),
                                       "--stats-file", self.path("stats-%s.json" % gw)],
                      self.ns["g" + gw])
        d.wait_for("dpsecd: ready")
        return d

    def ike_log(self, gw):
        return self.path("ike-%s.log" % gw)

    def strongswan(self):
        """charon-systemd as gateway B, the connection loaded (it answers)."""
        conf, sw = self.path("strongswan.conf"), self.path("swanctl.conf")
        with open(conf, "w") as f:
            f.write(STRONGSWAN_CONF % dict(work=self.work, extra=self.charon_extra))
        with open(os.open(sw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(SWANCTL_CONF % dict(SWANCTL_CERT if self.cert else SWANCTL_PSK,
                                        proposals=self.sw_proposals, esp=self.esp.swan))
        if self.cert:
            self.swanctl_dir()
        os.environ["STRONGSWAN_CONF"] = conf
        c = self.proc("charon", [CHARON], self.ns["gb"])
        deadline = time.monotonic() + 15
        while not os.path.exists(self.path("charon.vici")):
            if c.p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("charon-systemd did not start:\n" + c.text())
            time.sleep(0.1)
        r = T.sh(SWANCTL, "--load-all", "--file", sw, "--uri", "unix://" + self.path("charon.vici"),
                 ns=self.ns["gb"], check=False)
        if r.returncode != 0:
            raise RuntimeError("swanctl --load-all failed:\n" + r.stdout)
        return c

    def key_types(self):
        """A's and B's keys: A RSA and B ECDSA, the other way round when
        strongSwan initiates (so that each side signs and checks both)."""
        return ("ec", "rsa") if self.swan_initiates else ("rsa", "ec")

    def certificates(self):
        """A root CA, A's and B's certificates (RSA or ECDSA P-256), with
        their FQDNs and addresses as subjectAltNames."""
        def ossl(*args):
            T.sh("openssl", *args)
        p = self.path
        ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("ca.key"), "-out",
             p("ca.pem"), "-days", "2", "-subj", "/O=dpsec e2e/CN=e2e root", "-addext",
             "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        keys = {"rsa": ["-newkey", "rsa:2048"],
                "ec": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]}
        for gw, key in zip(("a", "b"), (keys[k] for k in self.key_types())):
            with open(p(gw + ".ext"), "w") as f:
                f.write("subjectAltName = DNS:%s.example,IP:%s\n"
                        % (gw, "192.0.2.1" if gw == "a" else "192.0.2.2"))
            ossl("req", *key, "-nodes", "-keyout", p(gw + ".key"), "-out", p(gw + ".csr"), "-subj",
                 "/O=dpsec e2e/CN=gateway %s" % gw)
            ossl("x509", "-req", "-in", p(gw + ".csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
                 "-set_serial", "1%d" % ord(gw), "-days", "2", "-extfile", p(gw + ".ext"),
                 "-out", p(gw + ".pem"))

    def revoke_b(self):
        """A CRL of the root CA that lists B's certificate."""
        p = self.path
        with open(p("ca.cnf"), "w") as f:
            f.write(CA_CONF % dict(work=self.work))
        open(p("index.txt"), "w").close()
        with open(p("crlnumber"), "w") as f:
            f.write("01\n")
        for args in (["-revoke", p("b.pem")], ["-gencrl", "-out", p("ca.crl")]):
            T.sh("openssl", "ca", "-config", p("ca.cnf"), "-keyfile", p("ca.key"), "-cert",
                 p("ca.pem"), *args)

    def swanctl(self, *args, check=True):
        return T.sh(SWANCTL, *args, "--uri", "unix://" + self.path("charon.vici"),
                    ns=self.ns["gb"], check=check).stdout

    def sw_sas(self):
        """strongSwan's IKE SAs: [(ike state, [child states])] by --list-sas."""
        sas, out = [], self.swanctl("--list-sas", check=False)
        for line in out.splitlines():
            m = re.match(r"^\S+: #\d+, (\w+), IKEv2", line)
            if m:
                sas.append((m.group(1), []))
            m = re.match(r"^\s+\S+: #\d+, reqid \d+, (\w+), TUNNEL", line)
            if m and sas:
                sas[-1][1].append(m.group(1))
        return sas

    def swanctl_dir(self):
        """swanctl --file reads credentials beside the file: x509/, x509ca/, private/."""
        for sub, name in (("x509", "b.pem"), ("x509ca", "ca.pem"), ("private", "b.key")):
            os.makedirs(self.path(sub), exist_ok=True)
            shutil.copy(self.path(name), os.path.join(self.path(sub), name))

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
            T.delete_netns(n)
        for gw in ("a", "b"):
            T.remove_dpsecd_leftovers("%s-g%s" % (self.tag, gw))
        T.remove_workdir(self.work)


def settled(read, timeout=2):
    """read() again every 100 ms until two reads agree, at most timeout
    seconds: dpsecd publishes its counters every 10 ms, later when the
    machine is busy, so a count read just after the traffic may miss it."""
    now, deadline = read(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.1)
        again = read()
        if again == now:
            break
        now = again
    return now


def wait_until(what, cond, timeout, step=0.5):
    """cond() until it is true (its value) or timeout seconds: None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    print("timed out after %d s waiting for %s" % (timeout, what))
    return None


class Pinger:
    """A continuous ping (5 a second) from host A to host B."""

    IN_FLIGHT = 10  # the last pings sent (2 s) may still be on their way: not judged

    def __init__(self, w):
        self.p = subprocess.Popen(["ip", "netns", "exec", w.ns["ha"], "ping", "-n", "-i", "0.2",
                                   "10.2.0.2"], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)

    def stop(self):
        """(judged, lost): the pings sent but the last IN_FLIGHT, and the
        sequence numbers of those not answered."""
        self.p.send_signal(signal.SIGINT)
        out = self.p.communicate(timeout=10)[0]
        m = re.search(r"(\d+) packets transmitted", out)
        judged = max(0, int(m.group(1)) - self.IN_FLIGHT) if m else 0
        seqs = {int(x) for x in re.findall(r"bytes from .*icmp_seq=(\d+)", out)}
        return judged, [q for q in range(1, judged + 1) if q not in seqs]


def stream_check(errs, what, pinger):
    judged, lost = pinger.stop()
    print("%s: %d pings judged, lost %s" % (what, judged, lost))
    if judged < 10 or len(lost) > LOSS_TOLERANCE:
        errs.append("%s: %d of %d pings lost (%s), at most %d may be"
                    % (what, len(lost), judged, lost, LOSS_TOLERANCE))


def answered_seqs(out):
    return sorted({int(l.split("icmp_seq=")[1].split()[0]) for l in out.splitlines()
                   if "bytes from" in l})


def ping(w, count):
    """Pings host B from host A; the sequence numbers answered."""
    out = T.sh("ping", "-n", "-c", str(count), "-i", "0.5", "-W", "2", "10.2.0.2",
               ns=w.ns["ha"], check=False).stdout
    return answered_seqs(out), out


HELD = ("reinject_in", "acquire_overflow", "acquire_dropped")
ACQ_HOLD = 4  # dpsecd's DP_ACQ_HOLD: packets held per (rule, peer) for an ACQUIRE
PEER_PAUSE = 1.6  # s: B's dpsec-ctld stopped while the first pings go


def first_pings(w, errs, ctld):
    """The pings that start the negotiation (5 a second). Gateway A holds
    the first ACQ_HOLD for the ACQUIRE, drops and counts those after them
    (acquire_overflow) and, once the SA is up, sends the held ones through
    it (reinject_in): the answers are pings 1 to held, then every ping
    from the first after the dropped ones. Against dpsec B's dpsec-ctld is
    stopped for PEER_PAUSE s first (A's IKE_SA_INIT waits in its socket,
    A retransmits), so that the negotiation outlasts the hold: 4 held, some
    dropped. When strongSwan initiated, the SA is up first: none held.
    No dpsecd built its classifier for the new pair: the tunnel rule, whose
    endpoint is the peer, carries it itself."""
    count, slow = 30, w.peer == "dpsec" and not w.cert
    before = dp_counts(w, HELD)
    builds = {g: policy_counts(w, g)[0] for g in ctld}
    if slow:
        ctld["b"].signal(signal.SIGSTOP)
    p = subprocess.Popen(["ip", "netns", "exec", w.ns["ha"], "ping", "-n", "-c", str(count),
                          "-i", "0.2", "-W", "2", "10.2.0.2"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    if slow:
        time.sleep(PEER_PAUSE)
        ctld["b"].signal(signal.SIGCONT)
    out = p.communicate(timeout=60)[0]
    answered = answered_seqs(out)
    after = settled(lambda: dp_counts(w, HELD))
    held, dropped, freed = (after[n] - before[n] for n in HELD)
    print("first pings: answered %s; gateway A held %d (sent when the SA came up), dropped %d, "
          "freed %d" % (answered, held, dropped, freed))
    for g in ctld:
        now = policy_counts(w, g)[0]
        print("gateway %s: classifier builds %d -> %d" % (g, builds[g], now))
        if now != builds[g]:
            errs.append("first pings: gateway %s built its classifier %d times for the tunnel's "
                        "first pair: expected none (its rule carries the pair)" % (g, now - builds[g]))
    expect = list(range(1, held + 1)) + list(range(held + dropped + 1, count + 1))
    if answered != expect or freed or held > ACQ_HOLD or (dropped and held < ACQ_HOLD) or \
            (slow and not dropped) or (not held and not w.swan_initiates):
        errs.append("first pings: answered %s, gateway A held %d, dropped %d, freed %d: expected "
                    "%s, at most %d held (all %d before any dropped, %s), none freed:\n%s"
                    % (answered, held, dropped, freed, expect, ACQ_HOLD, ACQ_HOLD,
                       "some dropped while B's dpsec-ctld was stopped" if slow
                       else "the first held" if not w.swan_initiates else "none held", out))


def path_mtu(w, errs):
    """RFC 4301 §8.2 against the hosts' own kernels: with both hosts' links
    raised to 1500 bytes, a 1500-byte ping with DF set, too big for the
    tunnel, is answered by gateway A with ICMP fragmentation needed; host
    A's kernel takes the size named there as the path MTU to host B (ip
    route get shows it), a ping of exactly that size crosses the tunnel
    both ways, and one byte more with DF (the kernel's cache flushed first)
    draws the error again."""
    ha = w.ns["ha"]
    for n, dev in ((ha, "hosta-eth0"), (w.ns["hb"], "hostb-eth0")):
        T.sh("ip", "-n", n, "link", "set", dev, "mtu", "1500")

    def df_ping(mode, size):
        return T.sh("ping", "-n", "-c", "1", "-W", "2", "-M", mode, "-s", str(size), "10.2.0.2",
                    ns=ha, check=False).stdout

    out = df_ping("do", 1472)
    m = re.search(r"From 10\.1\.0\.1 .*Frag needed and DF set \(mtu = (\d+)\)", out)
    if not m:
        errs.append("path MTU: a 1500-byte ping with DF got no fragmentation needed from "
                    "gateway A:\n%s" % out)
        return
    mtu = int(m.group(1))
    route = T.sh("ip", "route", "get", "10.2.0.2", ns=ha).stdout
    print("path MTU: gateway A says %d; host A: %s" % (mtu, " ".join(route.split())))
    if not 1300 < mtu < 1500 or "mtu %d" % mtu not in route:
        errs.append("path MTU: gateway A named %d, host A's route: %s" % (mtu, route))
    out = df_ping("do", mtu - 28)
    if "bytes from 10.2.0.2" not in out:
        errs.append("path MTU: a %d-byte ping with DF was not answered:\n%s" % (mtu, out))
    T.sh("ip", "route", "flush", "cache", ns=ha)
    out = df_ping("do", mtu - 27)
    if "Frag needed and DF set (mtu = %d)" % mtu not in out:
        errs.append("path MTU: a %d-byte ping with DF drew no fragmentation needed (mtu = %d):\n%s"
                    % (mtu + 1, mtu, out))


def dp_counts(w, names, gw="a"):
    """Gateway gw's dataplane counters of those names."""
    rows = json.loads(w.ctl(gw, "show", "stats", "--all", "--json"))["dataplane"]
    c = {r["name"]: r["value"] for r in rows}
    return {n: c[n] for n in names}


def prefrag_counts(w):
    """(packets cut, fragments made) by gateways A and B."""
    return {gw: tuple(dp_counts(w, ("prefrag_packets", "prefrag_fragments"), gw).values())
            for gw in ("a", "b")}


def pre_fragment(w, errs):
    """IPv4 without DF too big for the tunnel is cut by the gateways before
    encapsulation and put together by the hosts' own kernels: with host A's
    path MTU cache flushed (after path_mtu), pings without DF of 1500 and
    1490 bytes cross both ways, gateway A cutting the requests and gateway
    B the replies, each 4 packets into 8 fragments. (Whole packets only:
    DPDK 22.11's af_packet port has the kernel put fragments together
    before it reads them, and its frames end at 1518 bytes.)"""
    ha = w.ns["ha"]
    T.sh("ip", "route", "flush", "cache", ns=ha)
    before = prefrag_counts(w)
    for size in (1472, 1462):
        out = T.sh("ping", "-n", "-c", "2", "-W", "2", "-M", "dont", "-s", str(size), "10.2.0.2",
                   ns=ha, check=False).stdout
        if "%d bytes from 10.2.0.2" % (size + 8) not in out:
            errs.append("pre-fragmentation: a %d-byte ping without DF was not answered:\n%s"
                        % (size + 28, out))
    after = settled(lambda: prefrag_counts(w))
    for gw in ("a", "b"):
        cut = tuple(x - y for x, y in zip(after[gw], before[gw]))
        print("pre-fragmentation: gateway %s cut %d packets into %d fragments" % ((gw.upper(),) + cut))
        if cut != (4, 8):
            errs.append("pre-fragmentation: gateway %s cut %d packets into %d fragments, "
                        "expected 4 into 8" % ((gw.upper(),) + cut))


def ttl_exceeded(w, errs):
    """A ping with TTL 1 from host A: gateway A, the first hop, answers with
    ICMP time exceeded, as host A's ping reports it."""
    out = T.sh("ping", "-n", "-c", "1", "-W", "2", "-t", "1", "10.2.0.2", ns=w.ns["ha"],
               check=False).stdout
    if not re.search(r"From 10\.1\.0\.1 .*Time to live exceeded", out):
        errs.append("a ping with TTL 1 got no time exceeded from gateway A:\n%s" % out)


WanFrame = collections.namedtuple("WanFrame", "protocols src dst data")


def pcapng_frames(pcap):
    """The bytes of each frame of a pcapng file (what dumpcap writes), in
    order: its Enhanced and Simple Packet Blocks."""
    frames = []
    with open(pcap, "rb") as f:
        raw = f.read()
    off = 0
    while off + 12 <= len(raw):
        kind, length = struct.unpack_from("<II", raw, off)
        if length < 12:
            raise ValueError("%s: a block of %d bytes at %d" % (pcap, length, off))
        if kind == 6:  # Enhanced Packet Block: interface, time, lengths, data
            caplen = struct.unpack_from("<I", raw, off + 20)[0]
            frames.append(raw[off + 28:off + 28 + caplen])
        elif kind == 3:  # Simple Packet Block
            frames.append(raw[off + 12:off + length - 4])
        off += length
    return frames


def wan_read(pcap):
    """A WAN capture read once: each frame's protocols and IPv4 addresses
    by tshark's dissection, and its bytes."""
    out = subprocess.run(["tshark", "-n", "-r", pcap, "-T", "fields", "-e", "frame.protocols",
                          "-e", "ip.src", "-e", "ip.dst"], check=True, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout.splitlines()
    data = pcapng_frames(pcap)
    if len(out) != len(data):
        raise ValueError("%s: tshark read %d frames, the file holds %d" % (pcap, len(out), len(data)))
    return [WanFrame(*line.split("\t"), d) for line, d in zip(out, data)]


def wan_kinds(frames):
    """What crossed the WAN (wan_read's frames), by tshark's dissection:
    IKE (on 500 or, with the non-ESP marker, 4500), ESP, ESP in UDP, NAT
    keepalives (strongSwan sends them: it fakes a NAT), AH carrying an inner
    IP packet, and anything else over IP."""
    kinds = {"ike": 0, "esp": 0, "esp-in-udp": 0, "keepalive": 0, "ah": 0, "other": []}
    for p in (f.protocols for f in frames if "ip" in f.protocols.split(":")):
        if p.endswith((":ip:udp:isakmp", ":ip:udp:udpencap:isakmp")):
            kinds["ike"] += 1
        elif p.endswith(":ip:esp"):
            kinds["esp"] += 1
        elif ":ip:ah:ip" in p:  # AH in tunnel mode: tshark reads the inner packet on
            kinds["ah"] += 1
        elif p.endswith(":ip:udp:udpencap:esp"):
            kinds["esp-in-udp"] += 1
        elif p.endswith(":ip:udp:udpencap"):
            kinds["keepalive"] += 1
        else:
            kinds["other"].append(p)
    return kinds


def check_mmsas(w, errs):
    """A's show mmsas: the IKE SA it initiated, with B's identity (its
    certificate's FQDN with certificates); with strongSwan, in the Main
    Mode method A's policy shares with it where the policy names methods,
    else, with certificates, in the ChaCha20-Poly1305 suite strongSwan
    alone offers."""
    sas = w.show("a", "mmsas")
    want = "FQDN b.example" if w.cert else "IPv4 192.0.2.2"
    role = "responder" if w.swan_initiates else "initiator"
    print("gateway a: IKE SAs %s" % [(m["role"], m["peer_id"], m["algorithms"]) for m in sas])
    if len(sas) != 1 or sas[0]["role"] != role or sas[0]["peer_id"] != want:
        errs.append("gateway A: show mmsas: %s, expected one IKE SA, %s, peer %s"
                    % (sas, role, want))
    elif w.mm_method and sas[0]["algorithms"] != w.mm_method.shown:
        errs.append("gateway A: IKE SA in %s, expected its policy's Main Mode method, %s"
                    % (sas[0]["algorithms"], w.mm_method.shown))
    elif not w.mm_method and w.cert and w.peer == "strongswan" and \
            not sas[0]["algorithms"].startswith("CHACHA20_POLY1305/"):
        errs.append("gateway A: IKE SA in %s, expected strongSwan's only proposal, "
                    "ChaCha20-Poly1305 (RFC 7634)" % sas[0]["algorithms"])
    if w.mm_method:
        check_mm_methods_shown(w, errs)


def check_mm_methods_shown(w, errs):
    """A's show policy: its policy's Main Mode methods, in order;
    strongSwan's list-sas: the IKE SA in the shared one."""
    pol = [p for p in json.loads(w.ctl("a", "show", "policy", "--json"))["policies"]
           if p["name"] == "ike"]
    want = [dict(re.findall(r'(\w+) = "([^"]+)"', m.store)) for m in w.mm_methods()]
    if len(pol) != 1 or pol[0]["main_mode_methods"] != want:
        errs.append("gateway A: show policy: %s, expected main_mode_methods %s" % (pol, want))
    text = w.ctl("a", "show", "policy")
    listed = ", ".join(m.listed for m in w.mm_methods())
    if "\n  Main Mode methods: %s\n" % listed not in text:
        errs.append("gateway A: show policy (text) without the Main Mode methods %s:\n%s" % (listed, text))
    sas = w.swanctl("--list-sas", check=False)
    if w.mm_method.shown not in sas:
        errs.append("strongSwan's IKE SA is not %s:\n%s" % (w.mm_method.shown, sas))
    if w.mm_before and not w.swan_initiates:
        # A sent its KE in the first method's group; strongSwan asked for
        # the shared one's (RFC 7296 §1.3: INVALID_KE_PAYLOAD)
        ike = {r["name"]: r["value"] for r in json.loads(w.ctl("a", "show", "stats", "--json"))["ike"]}
        print("gateway a: INVALID_KE_PAYLOAD exchanged %d" % ike["INVALID_KE"])
        if ike["INVALID_KE"] < 1:
            errs.append("gateway A: no INVALID_KE_PAYLOAD for its first method's group: %s" % ike)


def check_esp_cipher(w, errs):
    """A's show qmsas: the SA pair in the cipher the store names."""
    algs = {q["algorithms"] for q in w.show("a", "qmsas")}
    print("gateway a: child SAs' algorithms %s" % sorted(algs))
    if algs != {w.esp.shown}:
        errs.append("gateway A: child SAs in %s, expected %s" % (sorted(algs), w.esp.shown))


def check_swan_cipher(w, errs):
    """strongSwan's list-sas: its child SA in the suite (SWAN_LISTED)."""
    sas = w.swanctl("--list-sas", check=False)
    print("strongSwan: child SAs %s" % re.findall(r"ESP:\S+", sas))
    if SWAN_LISTED[w.esp.swan] not in sas:
        errs.append("strongSwan's child SA is not %s:\n%s" % (SWAN_LISTED[w.esp.swan], sas))


def patterned_pings(w, errs, count=5):
    """Pings from host A whose payload repeats CLEAR_PATTERN (ping -p),
    for esp_in_clear to look for on the WAN: at most LOSS_TOLERANCE lost.
    How many were answered."""
    out = T.sh("ping", "-n", "-c", str(count), "-i", "0.2", "-W", "2", "-s", "120", "-p",
               CLEAR_PATTERN.encode().hex(), "10.2.0.2", ns=w.ns["ha"], check=False).stdout
    answered = answered_seqs(out)
    print("pings with the pattern %r: answered %s" % (CLEAR_PATTERN, answered))
    if len(answered) < count - LOSS_TOLERANCE:
        errs.append("pings with the pattern %r: answered %s of 1-%d, at most %d may be lost:\n%s"
                    % (CLEAR_PATTERN, answered, count, LOSS_TOLERANCE, out))
    return len(answered)


def esp_in_clear(w, errs, captures, count):
    """The WAN after patterned_pings, count of them answered: with NULL
    encryption or AES-GMAC (RFC 2410, RFC 4543: integrity only) each
    direction's ESP packets (in UDP against
    strongSwan) carry the inner packet in clear, so that at least count of
    them, the echo requests from A to B and the replies from B to A, hold
    CLEAR_PATTERN; with a cipher none does. Never a frame that is not ESP
    holds it. Each direction by the capture that saw the most (a capture
    beside dpsecd's af_packet port sees what dpsecd receives, not what it
    sends). captures: wan_read's frames of each."""
    pattern = CLEAR_PATTERN.encode()
    esp, clear, outside = (collections.Counter(), collections.Counter(), collections.Counter())
    for frames in captures:
        seen = (collections.Counter(), collections.Counter(), collections.Counter())
        for f in frames:
            is_esp = "esp" in f.protocols.split(":")
            if is_esp:
                seen[0][(f.src, f.dst)] += 1
            if pattern in f.data:
                seen[1 if is_esp else 2][(f.src, f.dst)] += 1
        for total, counts in zip((esp, clear, outside), seen):
            for k, n in counts.items():
                total[k] = max(total[k], n)
    readable = w.esp.cipher == "null" or w.esp.cipher.endswith("gmac")
    for k, what in GATEWAYS.items():
        print("WAN %s: %d ESP packets, %d with the pings' pattern in clear"
              % (what, esp[k], clear[k]))
        if readable and clear[k] < count:
            errs.append("WAN %s: %d of %d ESP packets hold the pings' pattern in clear, "
                        "expected %d or more (%s)" % (what, clear[k], esp[k], count, w.esp.shown))
        if not readable and (clear[k] or not esp[k]):
            errs.append("WAN %s: %d of %d ESP packets hold the pings' pattern in clear, "
                        "expected ESP and none (%s)" % (what, clear[k], esp[k], w.esp.shown))
    if outside:
        errs.append("WAN: the pings' pattern outside ESP: %s" % dict(outside))


def check_charon_auth(w, errs):
    """strongSwan verified A's signature (RFC 7427: RSA-PSS, or ECDSA) over
    A's certificate, and signed with its own key (ECDSA, or RSA)."""
    scheme = {"rsa": "RSA_EMSA_PSS", "ec": "ECDSA_WITH_SHA256_DER"}
    a, b = w.key_types()
    lines = [l.strip() for l in w.charon_log().splitlines() if "authentication of" in l]
    print("charon: %s" % lines)
    if not any("'a.example' with " + scheme[a] in l and "successful" in l for l in lines):
        errs.append("charon did not verify A's %s signature: %s" % (scheme[a], lines))
    if not any("'b.example' (myself) with " + ("ECDSA" if b == "ec" else "RSA") in l
               for l in lines):
        errs.append("charon did not sign with its %s key: %s" % (b, lines))


def check_cert_store(w, errs):
    """dpsec-ctld --check builds the certificate methods: A's store passes;
    with its private key file missing, it names the certificate and file."""
    for key, want in (("a.key", "policy store OK"), ("nowhere.key", "has no private key: ")):
        store = w.path("check.conf")
        auth = (CERT_AUTH % dict(work=w.work, gw="a", crl="")).replace("a.key", key)
        with open(os.open(store, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(STORE % dict(GW["a"], auth=auth, life=LIFE, esp=w.esp.cipher,
                                 integ=w.esp.integ, main_mode=w.main_mode()))
        r = subprocess.run([w.ctld, "--check", "--store", store], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        print("dpsec-ctld --check: %s" % r.stdout.strip())
        if want not in r.stdout or (r.returncode == 0) != (key == "a.key"):
            errs.append("dpsec-ctld --check with %s: %s (exit %d)" % (key, r.stdout, r.returncode))


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


def policy_counts(w, gw):
    """dpsecd's classifier builds and in-place SA changes of rules."""
    rows = json.loads(w.ctl(gw, "show", "stats", "--all", "--json"))["dataplane"]
    value = {r["name"]: r["value"] for r in rows}
    return value["policy_builds"], value["policy_sa_changes"]


def rekey(w, errs, t_up):
    """Across A's soft lifetime (85-90 % of LIFE), before B's (92-97 %), under a
    continuous ping: the child SA was rekeyed (a new inbound SPI, the old
    pair removed) and at most LOSS_TOLERANCE pings were lost. No dpsecd
    built its classifier for it: the per-peer rule took the new outbound SA
    in place."""
    gws = ("a", "b") if w.peer == "dpsec" else ("a",)
    counts = {g: policy_counts(w, g) for g in gws}
    before = inbound_spis(w)
    time.sleep(max(0, t_up + LIFE * 0.85 - 5 - time.monotonic()))
    pinger = Pinger(w)
    wait_until("A's child SA rekey", lambda: inbound_spis(w) - before and
               len(inbound_spis(w)) == 1, 25)
    time.sleep(2)
    stream_check(errs, "child SA rekey by A", pinger)
    after = inbound_spis(w)
    print("gateway a: inbound SPIs %s before the soft lifetime, %s after"
          % ([hex(x) for x in before], [hex(x) for x in after]))
    if len(after) != 1 or after == before:
        errs.append("rekey: inbound SPIs %s before, %s after: expected one new SPI"
                    % (before, after))
    for g in gws:
        (builds, changes), now = counts[g], policy_counts(w, g)
        print("gateway %s: classifier builds %d -> %d, rules' SAs changed in place %d -> %d"
              % (g, builds, now[0], changes, now[1]))
        if now[0] != builds or now[1] <= changes:
            errs.append("rekey: gateway %s built its classifier %d times and changed a rule's SA "
                        "in place %d times: expected 0 and at least 1"
                        % (g, now[0] - builds, now[1] - changes))


def ike_rekeyed(w, errs, first, key="spis", what="IKE SA rekey"):
    """dpsec against dpsec: A, the initiator, rekeyed the IKE SA (IKEv1:
    renewed the ISAKMP SA, key "cookies") at 85-90 % of its lifetime, before
    B's soft point (92-97 %): each holds one IKE SA, with new SPIs, the same
    on both sides, A still its initiator."""
    now = {g: w.show(g, "mmsas") for g in ("a", "b")}
    print("IKE SAs before the %s %s, after %s"
          % (what, {g: [s[key] for s in first[g]] for g in first},
             {g: [(s[key], s["role"]) for s in now[g]] for g in now}))
    if any(len(now[g]) != 1 or now[g][0][key] == first[g][0][key] for g in now) or \
            now["a"][0][key] != now["b"][0][key] or now["a"][0]["role"] != "initiator":
        errs.append("%s by A: before %s, after %s: expected one new IKE SA on each side, the "
                    "same %s, A its initiator" % (what, first, now, key))


def dataplane_restart(w, errs, ctld, first=1):
    """Gateway A's dpsecd dies (SIGKILL) and a new one starts: the child
    SAs IKE installed died with it, and the peer would go on sending with
    them. A's dpsec-ctld deletes them with the peer over the IKE SA, which
    stays; the next ping negotiates a new pair over it (CREATE_CHILD_SA,
    the ping held meanwhile), and every ping from the first on is answered
    (IKEv1: from the second, as the initiator sends on a new pair before
    the responder has Quick Mode's last message). B then holds that one
    pair alone (dpsec: show qmsas; strongSwan: swanctl --list-sas)."""
    old = [p for p in w.procs if p.name == "dpsecd-a" and p.p.poll() is None]
    for p in old:
        p.p.kill()
        p.p.wait(10)
    synced = ctld["a"].text().count(SYNCED)
    w.dataplane("a")
    if not wait_until("dpsec-ctld A attached to the new dpsecd and synced",
                      lambda: ctld["a"].text().count(SYNCED) > synced, 10):
        errs.append("dataplane restart: dpsec-ctld A did not sync the new dpsecd")
        return
    answered, out = ping(w, 10)
    lost = re.findall(r"IKE child SA SPI in 0x([0-9a-f]+) lost with the dpsecd", ctld["a"].text())
    print("dataplane restart: pings answered %s; child SAs deleted with the peer: %s"
          % (answered, lost))
    if not answered or answered[0] > first or answered != list(range(answered[0], 11)):
        errs.append("dataplane restart: pings answered %s, expected %d-10:\n%s"
                    % (answered, first, out))
    if not lost:
        errs.append("dataplane restart: dpsec-ctld A deleted no child SA with the peer")
    peer_holds_one_pair(w, errs, "dataplane restart")


def peer_holds_one_pair(w, errs, what):
    """Gateway B (dpsec: show qmsas) or strongSwan (swanctl --list-sas)
    holds one SA pair, the new one: none left of those A dropped."""
    if w.peer == "dpsec":
        sas = w.show("b", "qmsas")
        if len(sas) != 2:
            errs.append("%s: gateway B holds %d SAs, expected the new pair alone: %s"
                        % (what, len(sas), [s["name"] for s in sas]))
    else:
        sas = w.sw_sas()
        if len(sas) != 1 or sas[0][1] != ["INSTALLED"]:
            errs.append("%s: strongSwan holds %s, expected one IKE SA with the new child SA alone"
                        % (what, sas))


def ping_from_b(w, count):
    """Pings host A from host B (strongSwan: from its own LAN address)."""
    if w.b_alone:
        ns, args = w.ns["gb"], ["-I", "10.2.0.2"]
    else:
        ns, args = w.ns["hb"], []
    out = T.sh("ping", "-n", "-c", str(count), "-i", "0.5", "-W", "2", *args, "10.1.0.2",
               ns=ns, check=False).stdout
    return answered_seqs(out), out


def control_restart(w, errs, ctld, first=1):
    """Gateway A's dpsec-ctld dies (SIGKILL) and starts again while dpsecd
    runs: its IKE SAs died with it, so it drops the negotiated SAs it reads
    back and negotiates with their peer at once, which (INITIAL_CONTACT)
    drops its own. Traffic only the peer starts then flows again: every
    ping from B's side is answered, from the first (IKEv1: the second) on,
    where without the reconnect the peer goes on sending on the dropped
    SAs (drop_bad_spi at A) until its dead peer detection gives up. The
    peer ends with the new pair alone."""
    before = {s["name"] for s in w.show("a", "qmsas")}
    reconnects = ctld["a"].text().count("reconnecting to")
    ctld["a"].kill9()
    ctld["a"] = w.control("a")
    if not wait_until("dpsec-ctld A's reconnect", lambda: ctld["a"].text().count("reconnecting to")
                      > reconnects, 10):
        errs.append("control restart: dpsec-ctld A did not reconnect to its peer")
    fresh = wait_until("a new SA pair at A", lambda: [s for s in w.show("a", "qmsas")
                                                       if s["name"] not in before], 15)
    answered, out = ping_from_b(w, 10)
    print("control restart: new SAs at A %s; pings from B answered %s"
          % (sorted(s["name"] for s in fresh or []), answered))
    if not fresh or len(fresh) != 2:
        errs.append("control restart: gateway A holds %s new SAs, expected a pair" % (fresh or []))
    if not answered or answered[0] > first or answered != list(range(answered[0], 11)):
        errs.append("control restart: pings from B answered %s, expected %d-10:\n%s"
                    % (answered, first, out))
    peer_holds_one_pair(w, errs, "control restart")


def control_restart_unanswered(w, errs, ctld):
    """Gateway A's dpsec-ctld restarts while B's does not answer (stopped,
    SIGSTOP): the reconnect fails at the fallback timeout, which must not
    apply the filter action's fallback (a block of B for block_seconds)
    nor count a failed negotiation. Once B answers again, A's pings are
    answered: negotiated by the reconnect's IKE SA or anew by the pings'
    ACQUIRE, not blocked."""
    failed = ctld["a"].text().count("reconnect to 192.0.2.2")
    ctld["b"].signal(signal.SIGSTOP)
    try:
        ctld["a"].kill9()
        ctld["a"] = w.control("a")
        gave_up = wait_until("A's reconnect to give up", lambda: "failed" in "".join(
            ctld["a"].text().split("reconnect to 192.0.2.2")[failed + 1:]), 15)
    finally:
        ctld["b"].signal(signal.SIGCONT)
    answered, out = ping(w, 10)
    m = w.mm("a")
    print("control restart, B silent: reconnect gave up: %s; pings answered %s; negotiation "
          "failures %d" % (bool(gave_up), answered, m["negotiation_failures"]))
    if not gave_up:
        errs.append("control restart, B silent: A's reconnect did not give up at the fallback timeout")
    if not answered or answered[-1] != 10 or len(answered) < 6:
        errs.append("control restart, B silent: pings answered %s once B answered again, expected "
                    "the last ones (B blocked?):\n%s" % (answered, out))
    if m["negotiation_failures"] or m["soft_associations"]:
        errs.append("control restart, B silent: A counted %d failed negotiations, %d soft "
                    "associations for its reconnect" % (m["negotiation_failures"],
                                                         m["soft_associations"]))


def run_refused(w, errs, why):
    """B's PSK differs, or B's certificate is revoked (A checks CRLs):
    IKE_AUTH fails with AUTHENTICATION_FAILED, A applies the filter
    action's fallback at once (no fallback to clear: the peer is blocked),
    its IKE log says why, and nothing but IKE crosses the WAN."""
    w.topology()
    if w.cert:
        w.certificates()
        w.revoke_b()
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
        errs.append("%s: pings answered %s" % (w.peer, answered))
    if m["negotiation_failures"] != 1 or m["authentication_failures"] != 1 or m["ike_main_mode"] \
            or m["soft_associations"]:
        errs.append("gateway A: expected one failed negotiation, counted as an authentication "
                    "failure, no main mode and no soft association: %s" % m)
    if 'negotiation failed: rule "to-peer", peer 192.0.2.2' not in ctld["a"].text():
        errs.append("gateway A: no audit line for the failed negotiation")
    check_ike_log(w, errs, "a", why)
    for g, (_, pcap) in zip(("a", "b"), caps):
        k = wan_kinds(wan_read(pcap))
        if not k["ike"] or k["esp"] or k["esp-in-udp"] or k["other"]:
            errs.append("WAN at %s: expected IKE only, got %s" % (g, k))
    if errs:
        for g in ("a", "b"):
            print("---- dpsec-ctld %s ----\n%s" % (g, ctld[g].text()[-6000:]))


def crossed_pings(w):
    """Pings from both hosts at once, 5 a second for 4 s (both gateways'
    ACQUIREs then come together): the sequence numbers each host had
    answered, A's and B's."""
    cmds = [["ip", "netns", "exec", w.ns[h], "ping", "-n", "-c", "20", "-i", "0.2", "-W", "2", dst]
            for h, dst in (("ha", "10.2.0.2"), ("hb", "10.1.0.2"))]
    ps = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for c in cmds]
    return [answered_seqs(p.communicate(timeout=60)[0]) for p in ps]


def pairs_match(w, errs, what):
    """Every outbound SA of each gateway is an inbound SA of the other, and
    the reverse: no SA whose packets the peer cannot take."""
    sas = {g: w.show(g, "qmsas") for g in ("a", "b")}
    spis = {(g, d): sorted(q["spi"] for q in sas[g] if q["direction"] == d)
            for g in ("a", "b") for d in ("inbound", "outbound")}
    print("%s: A out %s in %s; B out %s in %s" % (what, spis["a", "outbound"], spis["a", "inbound"],
                                                   spis["b", "outbound"], spis["b", "inbound"]))
    if spis["a", "outbound"] != spis["b", "inbound"] or spis["b", "outbound"] != spis["a", "inbound"] \
            or not spis["a", "outbound"] or len(spis["a", "outbound"]) > 2:
        errs.append("%s: the gateways' SAs do not pair up (one or two pairs expected): A out %s, "
                    "B in %s; B out %s, A in %s" % (what, spis["a", "outbound"], spis["b", "inbound"],
                                                    spis["b", "outbound"], spis["a", "inbound"]))


def run_crossed(w, errs):
    """Both gateways negotiate at once: with both dpsec-ctlds stopped, host
    A pings host B and host B host A, so that both dataplanes hold packets
    for an ACQUIRE; both dpsec-ctlds go on together and each sends its
    IKE_SA_INIT before it reads the other's. Each side answers the other's
    exchange as well as completing its own (two IKE SAs, or one if an
    initiation had not begun), every child SA a gateway installs pairs with
    one of the other's; the packets each gateway held for its ACQUIRE go
    out once its own negotiation is done and are answered (not at once
    through the pair it answered, which its peer installs only when the
    answer arrives), both streams are answered from then on, and pings
    after that all are; the WAN carries IKE and ESP only. (One packet a
    gateway sends through the pair it answered before its peer installs it
    may be lost: the window every IKEv2 responder has.)"""
    w.topology()
    caps = [w.capture(g) for g in ("a", "b")]
    ctld = {g: w.gateway(g) for g in ("a", "b")}
    for g in ("a", "b"):
        ctld[g].signal(signal.SIGSTOP)
    pings = threading.Thread(target=lambda: crossed.append(crossed_pings(w)))
    crossed = []
    pings.start()
    time.sleep(1)  # both dataplanes hold packets, their ACQUIREs wait in the rings
    for g in ("a", "b"):
        ctld[g].signal(signal.SIGCONT)
    pings.join(60)
    answered = crossed[0] if crossed else [[], []]
    print("crossed: A answered %s; B answered %s" % tuple(answered))
    for g, got in zip(("a", "b"), answered):
        held = settled(lambda: dp_counts(w, HELD, g))
        print("crossed: gateway %s held %d (sent once the SAs were up), dropped %d, freed %d"
              % (g, *(held[n] for n in HELD)))
        want = set(range(1, held["reinject_in"] + 1)) | set(range(9, 21))
        if held["reinject_in"] < 1 or held["acquire_dropped"] or not want <= set(got):
            errs.append("crossed: host %s's pings answered %s, its gateway held %s: expected the "
                        "held ones and all from #9 answered" % (g.upper(), got, held))
    mm = {g: w.show(g, "mmsas") for g in ("a", "b")}
    print("crossed: IKE SAs A %d, B %d" % (len(mm["a"]), len(mm["b"])))
    if not 1 <= len(mm["a"]) <= 2 or len(mm["a"]) != len(mm["b"]):
        errs.append("crossed: IKE SAs A %d, B %d: expected one or two, the same on both"
                    % (len(mm["a"]), len(mm["b"])))
    pairs_match(w, errs, "crossed")
    again = ping(w, 6)[0], ping_from_b(w, 6)[0]
    print("crossed, then: A answered %s, B answered %s" % again)
    if again != (list(range(1, 7)), list(range(1, 7))):
        errs.append("crossed: pings after the negotiation answered %s (A), %s (B): expected all 6"
                    % again)
    time.sleep(1)  # dumpcap reads the kernel's capture blocks every 250 ms: the last ones too
    for c, _ in caps:
        c.signal(2)
        c.p.wait(10)
    for g, (_, pcap) in zip(("a", "b"), caps):
        k = wan_kinds(wan_read(pcap))
        print("WAN at %s: %d IKE, %d ESP" % (g, k["ike"], k["esp"]))
        if not k["ike"] or not k["esp"] or k["other"]:
            errs.append("crossed: WAN at %s: expected IKE and ESP only, got %s" % (g, k))
    if errs:
        for g in ("a", "b"):
            print("---- dpsec-ctld %s ----\n%s" % (g, ctld[g].text()[-6000:]))


def run(w, errs):
    if w.peer in ("wrong-psk", "revoked"):
        run_refused(w, errs, "AUTHENTICATION_FAILED" if w.peer == "wrong-psk"
                    else "certificate CN=gateway b,O=dpsec e2e is revoked")
        return
    if w.peer == "dpsec" and not w.cert:  # both rekey their IKE SA's before the child SA's rekey
        w.ctld_args = ["--test-ike-lifetime", str(IKE_LIFE)]
    if w.peer == "strongswan" and (w.swan_initiates or not w.cert):
        # the cert world, dpsec initiating, keeps dpsec's suites
        w.use_mm_methods(MM_CMAC if w.cert else MM_XCBC, before=MM_UNSHARED)
    w.topology()
    if w.cert:
        w.certificates()
        check_cert_store(w, errs)
    gws = ("a", "b") if w.peer == "dpsec" else ("a",)
    caps = [w.capture(g) for g in ("a", "b")]
    ctld = {g: w.gateway(g) for g in gws}
    if w.peer == "strongswan":
        w.strongswan()
    if w.swan_initiates:
        r = T.sh(SWANCTL, "--initiate", "--child", "lans", "--timeout", "10", "--uri",
                 "unix://" + w.path("charon.vici"), ns=w.ns["gb"], check=False)
        if r.returncode != 0:
            errs.append("strongSwan's initiation failed:\n" + r.stdout[-3000:])
    t_up = time.monotonic()
    first_pings(w, errs, ctld)
    check_mmsas(w, errs)
    check_esp_cipher(w, errs)
    if w.peer == "strongswan" and w.esp.swan in SWAN_LISTED:
        check_swan_cipher(w, errs)
    check_ike_log(w, errs, "a", "-> ESTABLISHED")
    patterned = patterned_pings(w, errs)
    if w.cert and w.peer == "strongswan":
        check_charon_auth(w, errs)
    if not w.cert:
        first = {g: w.show(g, "mmsas") for g in gws}
        rekey(w, errs, t_up)
        if w.peer == "dpsec":
            ike_rekeyed(w, errs, first)
            path_mtu(w, errs)
            pre_fragment(w, errs)
            ttl_exceeded(w, errs)
        dataplane_restart(w, errs, ctld)
    time.sleep(1)  # dumpcap reads the kernel's capture blocks every 250 ms: the last ones too
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
    if (mm["a"]["total_acquire"] < 1 and not w.swan_initiates) or mm["a"]["soft_associations"]:
        errs.append("gateway A: acquires %d, soft associations %d: expected an ACQUIRE answered "
                    "by IKE" % (mm["a"]["total_acquire"], mm["a"]["soft_associations"]))
    if not w.cert:  # after the counters: a new dpsec-ctld's start from zero
        control_restart(w, errs, ctld)
        if w.peer == "dpsec":
            control_restart_unanswered(w, errs, ctld)
    frames = {g: wan_read(pcap) for g, (_, pcap) in zip(("a", "b"), caps)}
    for g in ("a", "b"):
        k = wan_kinds(frames[g])
        print("WAN at %s: %d IKE, %d ESP, %d ESP in UDP" % (g, k["ike"], k["esp"], k["esp-in-udp"]))
        if not k["ike"] or not (k["esp"] or k["esp-in-udp"]) or k["other"]:
            errs.append("WAN at %s: expected IKE and ESP only, got %s" % (g, k))
        if w.peer == "strongswan" and k["esp"]:
            errs.append("WAN at %s: %d plain ESP: strongSwan's libipsec takes ESP in UDP only"
                        % (g, k["esp"]))
    esp_in_clear(w, errs, frames.values(), patterned)
    if errs:
        for g in gws:
            print("---- dpsec-ctld %s ----\n%s" % (g, ctld[g].text()[-6000:]))
        if w.peer == "strongswan":
            print("---- charon ----\n%s" % w.charon_log()[-6000:])


def main():
    args, peer = sys.argv[1:], "dpsec"
    if args[:1] == ["--peer"] and len(args) > 1:
        peer, args = args[1], args[2:]
    peers = ("dpsec", "dpsec-crossed", "strongswan", "wrong-psk", "dpsec-cert", "strongswan-cert",
             "strongswan-cert-initiator", "revoked-cert")
    if len(args) != 3 or peer not in peers:
        print("usage: ike_e2e.py [--peer %s] DPSECD DPSEC_CTLD DPSECCTL" % "|".join(peers),
              file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("ike_e2e: needs root (network namespaces); skipped")
        return 77
    if shutil.which("tshark") is None or shutil.which("ethtool") is None:
        print("ike_e2e: tshark or ethtool missing (tools/deps installs them); skipped")
        return 77
    if peer.startswith("strongswan") and not (os.access(CHARON, os.X_OK)
                                              and os.access(SWANCTL, os.X_OK)):
        print("ike_e2e: strongSwan is not installed (%s, %s: tools/deps installs it); skipped"
              % (CHARON, SWANCTL))
        return 77
    if peer == "dpsec-crossed":
        return run_world(World("dpsec", *args), run_crossed, "ike_e2e (two dpsec, both initiating)")
    return run_world(World(peer, *args), run, "ike_e2e (peer %s)" % peer)


def run_world(w, body, what):
    """body(w, errs) then w.close(); the failures listed, the exit status."""
    errs = []
    try:
        body(w, errs)
    finally:
        w.close()
    return T.verdict(errs, what, "passed")


if __name__ == "__main__":
    T.cleanup_on_sigterm()
    sys.exit(main())
