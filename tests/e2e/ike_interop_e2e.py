# ike_interop_e2e.py - the IKE SA's life in dpsec-ctld against strongSwan
# 5.9 (charon-systemd, userspace ESP in UDP 4500), and ike-scan against
# dpsec-ctld, in ike_e2e.py's namespaces: gateway A is dpsec (dpsecd +
# dpsec-ctld), B one namespace with 192.0.2.2 on its WAN link and host B's
# 10.2.0.2 on its loopback.
#
# --case responder: strongSwan initiates (swanctl --initiate); dpsec answers
#   as responder, the child SAs in AES-128-CBC with AES-XCBC-MAC-96 (RFC
#   3566: IKEv2 transform 5), which show qmsas and strongSwan's list-sas
#   name. Ping and a TCP transfer (socat) both ways; strongSwan rekeys the
#   child SA (the new pair in the same suite) and then the IKE SA (swanctl
#   --rekey) under a continuous ping (at most E.LOSS_TOLERANCE lost), then
#   re-authenticates it (--reauth), break-before-make and then
#   make-before-break (the old IKE SA gone, as many pairs on both sides, no
#   decrypted packet dropped as not its SA's rule's, the same loss
#   tolerance);
#   strongSwan terminates (swanctl --terminate --ike): dpsec's show mmsas
#   and qmsas are empty.
#   Then strongSwan initiates, is killed and restarted and initiates again:
#   its INITIAL_CONTACT makes dpsec drop the stale SAs at once.
# --case lifetimes: dpsec initiates, with --test-ike-lifetime IKE_LIFE,
#   --dpd-interval DPD and idle_seconds IDLE in the store, the child SAs in
#   AES-128-CCM-16 (RFC 4309; responder's are AES-CBC with AES-XCBC-MAC-96,
#   fragments' ChaCha20-Poly1305, the other cases' AES-GCM), which show
#   qmsas and strongSwan's list-sas name. dpsec rekeys the
#   IKE SA at its soft point under a continuous ping (no loss beyond the
#   tolerance; strongSwan holds the new SPIs); the traffic stops, dpsec
#   deletes the idle child SA (strongSwan's list shows no child SA); at the
#   IKE SA's next soft point, with no child SA left, dpsec deletes it
#   instead of rekeying it (strongSwan's list is empty).
#   Then a ping negotiates again, strongSwan is killed (SIGKILL) and
#   restarted: dpsec's dead peer detection takes the IKE SA and its child
#   SAs down (counted: PEER_TIMEOUTS), and the next pings negotiate with the
#   new strongSwan.
# --case ike-scan: `ike-scan -2 --dhgroup=14` from B gets an IKE_SA_INIT
#   answer: "Handshake returned" with the chosen transforms.
# --case fragments: both sides cut IKE messages longer than FRAGMENT bytes
#   into RFC 7383 fragments (dpsec-ctld --ike-fragment-size, charon's
#   fragment_size); strongSwan initiates: its IKE_AUTH request reaches dpsec
#   in fragments and dpsec's answer leaves in fragments (both counted by
#   dpsec), the SA comes up and pings pass both ways; its child SAs in
#   ChaCha20-Poly1305 (RFC 7634), which show qmsas and strongSwan's list-sas
#   name (the one ChaCha20 child strongSwan initiates).
# --case esp-fragments: a WAN link of WAN_MTU bytes, narrower than the
#   tunnel's packets. Pings of 1,328 bytes from B: strongSwan's kernel
#   cuts its ESP in UDP into fragments, which dpsecd reassembles before
#   decrypting (counted: reass_packets, reass_fragments); host A's replies
#   (no DF) dpsecd cuts before encapsulation (prefrag_packets), and B's
#   stack puts them together. All answered. dpsecd's WAN port here is
#   net_pcap on the veth (rx_iface_in), which passes fragments as they come
#   (the af_packet port has the kernel reassemble them first), held to the
#   link's MTU by dpsecd. Then the clear path over the same link: pings of
#   1,328 bytes from host A to B's WAN address without DF are cut by dpsecd
#   to fit the WAN (frag_packets), and B's kernel reassembles every one
#   (its Ip ReasmOKs and Icmp InEchos); with DF, host A's ping reports
#   gateway A's "fragmentation needed" naming the WAN's MTU. One ping from
#   host A to 192.0.2.3, which B's WAN interface takes only then: gateway A
#   holds it while it asks for the MAC and sends it once B answers (B's
#   kernel counts one echo request). And a ping from B with TTL 1 through the tunnel: gateway A decrypts it, its TTL runs
#   out, and the ICMP time exceeded from gateway A's LAN address goes back
#   through the tunnel; B's ping reports it. Last, host A pings an address
#   on the WAN link that nobody holds: once three ARP requests a second
#   apart went unanswered, gateway A answers with host unreachable from its
#   LAN address, which host A's ping reports, for the first ping too (held
#   while gateway A asked). And host A moves to another
#   MAC and sends a gratuitous ARP request: B's pings reach it there. Then
#   it moves again and says nothing (its own entry for gateway A made
#   permanent, so that it never asks for it either): gateway A, which asks
#   its neighbours again after NEIGH_REACHABLE seconds of silence here,
#   forgets the old MAC when three requests to it go unanswered, asks the
#   link, and B's pings reach host A again within NEIGH_FOLLOW seconds.
#   Gateway A's dpsecctl show neighbours then lists host A with that MAC,
#   B with its own, and 192.0.2.77 as failed.
# --case tunnel-pmtu: gateway A's LAN port held to LAN_MTU bytes. B pings
#   host A with DF through the tunnel, 1,328 bytes: gateway A decrypts a
#   packet too big for its LAN and sends "fragmentation needed" naming
#   LAN_MTU back through the tunnel, from its LAN address; B's ping reports
#   it, B's kernel keeps the MTU for host A (ip route get), and its next
#   ping that large fails at once ("message too long").
# --case path-mtu: a Linux router R between the gateways (proxy ARP: the
#   addresses stay as they are), its link to B held to PATH_MTU bytes, and
#   gateway A's filter action with df_bit = "set" (and dscp = PATH_DSCP,
#   which its outbound SA must carry too). Host A pings host B
#   without DF, 1,328 bytes: gateway A's ESP packet, with DF all the same,
#   does not pass R, whose kernel answers with ICMP fragmentation needed
#   naming PATH_MTU; dpsecd records it in the outbound SA (pmtu_learned;
#   show qmsas: path_mtu).
#   Then a ping of 1,328 bytes without DF is cut before encapsulation to
#   fit (prefrag_packets) and answered; and the next ping with DF is
#   refused by gateway A itself: host A's ping reports "fragmentation
#   needed" from 10.1.0.1 with the largest inner packet that fits PATH_MTU
#   once encapsulated, and a ping of exactly that size passes R and is
#   answered. Then strongSwan rekeys the child SA: gateway A's new outbound
#   SA starts with R's MTU, recorded for the peer (pmtu_inherited; show
#   qmsas), and a ping of 1,328 bytes without DF to an address of B that
#   host A has learned nothing about is cut before encapsulation and
#   answered, with no new report from R. Last, gateway A's own host stack
#   pings 10.2.0.3 with DF, 1,328 bytes: dpsecd answers it with
#   "fragmentation needed" from 10.2.0.3, naming what fits R's MTU once
#   encapsulated; the kernel keeps it (ip route get) and a ping of that
#   size passes.
# --case nat-rebind: a Linux router R doing source NAT (nftables) in front
#   of strongSwan (RFC 7296 §2.23): strongSwan's WAN on a private link
#   behind R (172.16.0.2), R's public address 192.0.2.2 (B's in the other
#   cases: gateway A's configuration is theirs), strongSwan's UDP leaving R
#   from a port of NAT_MAPS["port"][0]. strongSwan initiates, both sides detect the
#   NAT from IKE_SA_INIT's NAT_DETECTION notifies (dpsec-ctld's log,
#   charon's), ESP goes in UDP 4500 through R, and pings pass both ways.
#   Then R's mapping changes: its rule maps to the ports of
#   NAT_MAPS["port"][1] and its
#   conntrack table is flushed (conntrack -F), so that strongSwan's packets
#   leave R from a new public port (a capture on R's side of the WAN link,
#   where gateway A's packets show with R's public ports, says so). Host A
#   pings host B all along (5 a second; dropped as they leave host A from
#   half a second before the change until it is done, so that no answer in
#   flight leaves R by the new mapping): dpsec's ESP, still sent to the
#   old port, is lost, and strongSwan sends no ESP of its own, until its
#   dead peer detection
#   (dpd_delay SW_DPD: charon asks once nothing has come in for that long,
#   counted in whole seconds, so 1-3 s after the change, then every SW_DPD
#   s; never while ESP comes in) sends an authenticated INFORMATIONAL
#   request from the new port: dpsec answers it there and moves its child
#   SAs' outbound ESP to that port, SPIs kept. Checks: pings lost after
#   the change, then answered again within REBIND s; dpsec's ESP after
#   that to the new port alone; dpsec's IKE SA and child SAs keep their
#   SPIs (no rekey, no new SA); dpsec-ctld says once that the peer moved
#   and its outbound SA followed, which show qmsas gives the new port, its
#   sequence numbers gone on from where they were.
# --case nat-rebind-v1: the same in IKEv1 (ikev1_e2e.py's stores and
#   swanctl.conf): NAT-D in Main Mode, dead peer detection by RFC 3706's
#   R-U-THERE.
# --case nat-rebind-esp: the same without strongSwan's dead peer detection
#   (swanctl's default), host B pinging host A: strongSwan's ESP from the
#   new port, verified and new to the inbound SA's window, is what dpsecd
#   reports and dpsec-ctld follows (RFC 7296 §2.23: a packet whose
#   integrity protection validates), before the reply to that first ping
#   (no ping need be lost). Each case checks in dpsec-ctld's log which of
#   the two moved the SAs.
# --case nat-rebind-address: nat-rebind-esp with a NAT that keeps ports
#   (R maps strongSwan's UDP without a port range, so its port 4500 stays
#   4500) and changes its public address, from 192.0.2.2 to 192.0.2.3 (as
#   a NAT whose provider gave it a new address): ESP from the same port
#   and another address is the new mapping, which dpsec's outbound SA then
#   follows to that address.
# --case nat-rebind-v1-qm: nat-rebind in IKEv1 without strongSwan's dead
#   peer detection, host A pinging from after R's new mapping (no ping in
#   flight across it): strongSwan then sends nothing (dpsec's ESP is lost at
#   R) until its first message from there,
#   the Quick Mode of a rekey (swanctl --rekey). dpsec answers its Quick
#   Mode 1 where it came from and follows at its Quick Mode 3 (bound to
#   dpsec's fresh nonce: no replay moves it): the pings are answered again
#   after the rekey and not before, dpsec's ESP then to the new port alone,
#   dpsec-ctld's log says the move came from an ISAKMP message, and no ESP
#   reported one (natt_peer_moved 0).
#
# DPSEC_E2E_KEEP=DIR keeps every log of a failed run in DIR.
# Needs root, tshark/ethtool (ike_e2e's topology), strongSwan, socat and
# ike-scan, and for nat-rebind nft and conntrack: exit 77 (skip) when one
# is missing.
# usage: ike_interop_e2e.py --case responder|lifetimes|ike-scan|fragments|esp-fragments|
#        tunnel-pmtu|path-mtu|nat-rebind|nat-rebind-v1|nat-rebind-esp|nat-rebind-address|
#        nat-rebind-v1-qm DPSECD DPSEC_CTLD DPSECCTL
import collections
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctl_topo as T  # noqa: E402
import ike_e2e as E  # noqa: E402

IKE_LIFE = 30       # --test-ike-lifetime: A rekeys the IKE SA at 85-90 %
DPD = 3             # --dpd-interval
IDLE = 8            # the store's idle_seconds
TRANSFER = 1 << 20  # bytes of each TCP transfer
PROBES = 3          # ike-scan probes, should a datagram be lost
FRAGMENT = 150      # bytes: IKE_AUTH with PSK is longer, both ways (charon's count
                    # the IP and UDP headers too: it gets FRAGMENT + 28)
WAN_MTU = 1000      # esp-fragments: the WAN link, narrower than the tunnel's packets
BIG_PINGS = 5       # esp-fragments: pings of 1,328 bytes from B
NEIGH_REACHABLE = 2 # esp-fragments: gateway A's neighbour_reachable_seconds
NEIGH_FOLLOW = 15   # esp-fragments: seconds for gateway A to find host A's new MAC
LAN_MTU = 1200      # tunnel-pmtu: gateway A's LAN port
PATH_MTU = 1300     # path-mtu: router R's link to B
PATH_DSCP = 10      # path-mtu: the outer DSCP gateway A's filter action fixes
# nat-rebind: R's mappings of strongSwan's UDP before and after the change,
# by what changes: R's public address and the range of ports it maps to
# (None: strongSwan's own port, 4500, kept)
Mapping = collections.namedtuple("Mapping", "addr ports")
NAT_MAPS = {"port": (Mapping("192.0.2.2", "40000-40999"), Mapping("192.0.2.2", "50000-50999")),
            "address": (Mapping("192.0.2.2", None), Mapping("192.0.2.3", None))}
SW_DPD = 2          # nat-rebind: strongSwan's dpd_delay, seconds
REBIND = 20         # nat-rebind: seconds for the pings to be answered again after the change
LATE = 0.5          # nat-rebind: an answer this long after the flush crossed R's new mapping


class Interop(E.World):
    """ike_e2e's world with strongSwan as B, driven through swanctl."""

    PSK_ESP = {}  # AES-GCM, whose overhead the path-MTU and fragment cases count on

    def mmsas(self):
        return self.show("a", "mmsas")

    def qmsas(self):
        return self.show("a", "qmsas")

    def ike_stat(self, name):
        rows = json.loads(self.ctl("a", "show", "stats", "--json"))["ike"]
        return {r["name"]: r["value"] for r in rows}[name]


def ping_ok(w, count=3, from_b=False):
    ns, dst = (w.ns["gb"], "10.1.0.2") if from_b else (w.ns["ha"], "10.2.0.2")
    extra = ["-I", "10.2.0.2"] if from_b else []
    r = T.sh("ping", "-n", *extra, "-c", str(count), "-i", "0.3", "-W", "2", dst, ns=ns,
             check=False)
    return " 0 received" not in r.stdout and r.returncode == 0


def tcp_transfer(w, errs, to_b):
    """TRANSFER random bytes over TCP through the tunnel; the receiver's copy
    must be identical."""
    data = os.urandom(TRANSFER)
    src, dst = w.path("tcp-src"), w.path("tcp-dst")
    with open(src, "wb") as f:
        f.write(data)
    rns, sns, addr = (w.ns["gb"], w.ns["ha"], "10.2.0.2") if to_b else \
        (w.ns["ha"], w.ns["gb"], "10.1.0.2")
    bind = "" if to_b else ",bind=10.2.0.2"
    rx = subprocess.Popen(["ip", "netns", "exec", rns, "socat", "-u",
                           "TCP-LISTEN:5001,reuseaddr", "CREATE:" + dst])
    time.sleep(0.5)
    tx = T.sh("timeout", "60", "socat", "-u", "OPEN:" + src, "TCP:%s:5001%s,retry=5" % (addr, bind),
              ns=sns, check=False)
    try:
        rx.wait(30)
    except subprocess.TimeoutExpired:
        rx.kill()
        rx.wait()
    with open(dst, "rb") as f:
        got = f.read()
    what = "TCP A -> B" if to_b else "TCP B -> A"
    print("%s: %d bytes sent, %d received" % (what, TRANSFER, len(got)))
    if tx.returncode != 0 or hashlib.sha256(got).digest() != hashlib.sha256(data).digest():
        errs.append("%s: the %d bytes did not arrive intact (socat: %d, %s; got %d bytes)"
                    % (what, TRANSFER, tx.returncode, tx.stdout.strip(), len(got)))
    os.unlink(dst)


def check_empty(w, errs, what):
    """dpsec holds no IKE SA and no child SA."""
    ok = E.wait_until(what, lambda: not w.mmsas() and not w.qmsas(), 20)
    if not ok:
        errs.append("%s: dpsec still holds IKE SAs %s and child SAs %s"
                    % (what, w.mmsas(), [hex(q["spi"]) for q in w.qmsas()]))


def run_responder(w, errs):
    w.esp = E.ESP_SUITES["xcbc"]
    w.topology()
    w.gateway("a")
    w.strongswan()
    out = w.swanctl("--initiate", "--child", "lans", "--timeout", "20", check=False)
    sas = w.mmsas()
    print("strongSwan initiated; dpsec's IKE SAs: %s" % [(s["role"], s["peer_id"]) for s in sas])
    if len(sas) != 1 or sas[0]["role"] != "responder" or sas[0]["peer_id"] != "IPv4 192.0.2.2":
        errs.append("swanctl --initiate: dpsec's show mmsas %s, expected one IKE SA as responder "
                    "with IPv4 192.0.2.2; swanctl said:\n%s" % (sas, out))
        return
    if not E.wait_until("a ping A -> B", lambda: ping_ok(w), 15):
        errs.append("ping A -> B through the tunnel strongSwan initiated: no answer")
    if not ping_ok(w, from_b=True):
        errs.append("ping B -> A through the tunnel strongSwan initiated: no answer")
    E.check_esp_cipher(w, errs)
    E.check_swan_cipher(w, errs)
    tcp_transfer(w, errs, to_b=True)
    tcp_transfer(w, errs, to_b=False)

    before = {q["spi"] for q in w.qmsas() if q["direction"] == "inbound"}
    pinger = E.Pinger(w)
    time.sleep(3)
    w.swanctl("--rekey", "--child", "lans")
    moved = E.wait_until("dpsec's child SA rekeyed by strongSwan", lambda: (
        {q["spi"] for q in w.qmsas() if q["direction"] == "inbound"} - before and
        len([q for q in w.qmsas() if q["direction"] == "inbound"]) == 1), 20)
    time.sleep(3)
    E.stream_check(errs, "child SA rekey by strongSwan", pinger)
    if not moved:
        errs.append("swanctl --rekey --child: dpsec's inbound SPIs %s, expected one new one "
                    "(before: %s)" % ([hex(q["spi"]) for q in w.qmsas()], before))
    E.check_esp_cipher(w, errs)

    spis = {s["spis"] for s in w.mmsas()}
    pinger = E.Pinger(w)
    time.sleep(3)
    w.swanctl("--rekey", "--ike", "dpsec")
    moved = E.wait_until("dpsec's IKE SA rekeyed by strongSwan", lambda: (
        len(w.mmsas()) == 1 and {s["spis"] for s in w.mmsas()} != spis), 20)
    time.sleep(3)
    E.stream_check(errs, "IKE SA rekey by strongSwan", pinger)
    if not moved or len(w.qmsas()) != 2:
        errs.append("swanctl --rekey --ike: dpsec's IKE SAs %s (before %s), child SAs %d: "
                    "expected one new IKE SA keeping its child SA pair"
                    % (w.mmsas(), spis, len(w.qmsas())))
    if not ping_ok(w):
        errs.append("ping after strongSwan's IKE SA rekey: no answer")
    reauth_by_strongswan(w, errs)

    w.swanctl("--terminate", "--ike", "dpsec", "--timeout", "10", check=False)
    check_empty(w, errs, "swanctl --terminate --ike")
    initial_contact(w, errs)


def reauth_by_strongswan(w, errs):
    """strongSwan re-authenticates the IKE SA (swanctl --rekey --ike
    --reauth): first as 5.9 does by default, break-before-make (it deletes
    the IKE SA and its child SA, then sets up new ones), then, its setting
    reloaded, make-before-break (the new IKE SA and child SA set up beside
    the old ones, which it then deletes). In the first, host A's pings
    (100 a second) make dpsec negotiate too as soon as the old pair is
    gone, so that two pairs for the same rule and peer come up (a second
    IKE SA from dpsec, or a second child SA on strongSwan's new one): those
    share one rule. Each time the old IKE SA goes, dpsec and strongSwan
    hold as many pairs, a continuous ping (across the make-before-break
    one; after the break-before-make one, whose gap is strongSwan's
    choice) loses at most LOSS_TOLERANCE, and nothing decrypted is dropped
    as not matching its SA's rule (two rules alike would drop all on the
    pair the lookup does not pick)."""
    # strongSwan reads the setting when it makes an IKE SA: the one of the
    # moment re-authenticates break-before-make, the one that makes, the
    # other way
    with open(w.path("strongswan.conf"), "w") as f:
        f.write(E.STRONGSWAN_CONF % dict(work=w.work, extra="make_before_break = yes"))
    w.swanctl("--reload-settings")
    for mbb in (False, True):
        what = "strongSwan's reauthentication, %s" % (
            "make-before-break" if mbb else "break-before-make")
        old = {s["spis"] for s in w.mmsas()}
        log_from = len(w.charon_log())
        mismatch = E.dp_counts(w, ["drop_inner_policy_mismatch"])
        # break-before-make leaves a gap with no SA, whose pings the rush
        # fills the ACQUIRE's hold with: the stream is judged after it
        pinger = E.Pinger(w) if mbb else None
        rush = None if mbb else subprocess.Popen(
            ["ip", "netns", "exec", w.ns["ha"], "ping", "-q", "-i", "0.01", "-w", "8", "10.2.0.2"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(3)
        w.swanctl("--rekey", "--ike", "dpsec", "--reauth")
        done = E.wait_until(what, lambda: reauth_done(w, old), 20)
        if rush is not None:
            pinger = E.Pinger(w)
            rush.wait()
        time.sleep(4 if mbb else 7)  # stream_check judges 10 pings or more
        E.stream_check(errs, what, pinger)
        made_first = "IKE_REAUTH_COMPLETE" in w.charon_log()[log_from:]
        print("%s: dpsec's IKE SAs %s, %d child SAs; strongSwan's %s"
              % (what, [(s["role"], s["spis"]) for s in w.mmsas()], len(w.qmsas()), w.sw_sas()))
        if not done or made_first != mbb:
            errs.append("%s: dpsec's IKE SAs %s (before: %s), %d child SAs; strongSwan %s, "
                        "its new SA made %s the old one's delete: expected new IKE SAs and "
                        "pairs, alike on both sides" % (what, w.mmsas(), old, len(w.qmsas()),
                                                        w.sw_sas(), "before" if made_first else
                                                        "after"))
        if E.dp_counts(w, ["drop_inner_policy_mismatch"]) != mismatch:
            errs.append("%s: decrypted packets dropped as not matching their SA's rule: %s, "
                        "before %s" % (what, E.dp_counts(w, ["drop_inner_policy_mismatch"]),
                                       mismatch))


def reauth_done(w, old):
    """No IKE SA of old left; the new ones established, with as many pairs
    on dpsec's side as on strongSwan's, at least one."""
    sas, sw = w.mmsas(), w.sw_sas()
    pairs = sum(len(children) for _, children in sw)
    return (sas and not {s["spis"] for s in sas} & old and len(sw) == len(sas) and pairs >= 1
            and len(w.qmsas()) == 2 * pairs
            and all(state == "ESTABLISHED" and set(children) == {"INSTALLED"}
                    for state, children in sw))


def initial_contact(w, errs):
    """strongSwan initiates, is killed (no DELETE) and restarted, and
    initiates again: its IKE_AUTH carries INITIAL_CONTACT, so dpsec takes
    the stale IKE SA and child SAs down at once (no waiting for dead peer
    detection) and holds only the new ones; pings pass."""
    w.swanctl("--initiate", "--child", "lans", "--timeout", "20", check=False)
    old = {s["spis"] for s in w.mmsas()}
    w.procs[-1].kill9()
    os.unlink(w.path("charon.vici"))
    w.strongswan()
    out = w.swanctl("--initiate", "--child", "lans", "--timeout", "20", check=False)
    sas, contacts = w.mmsas(), w.ike_stat("INITIAL_CONTACTS")
    print("strongSwan restarted and initiated: dpsec's IKE SAs %s (before: %s), %d taken down by "
          "INITIAL_CONTACT, %d child SAs" % ([s["spis"] for s in sas], old, contacts,
                                             len(w.qmsas())))
    if len(old) != 1 or len(sas) != 1 or sas[0]["spis"] in old or contacts != 1 or \
            len(w.qmsas()) != 2:
        errs.append("INITIAL_CONTACT: IKE SAs %s before the restart, %s after, %d taken down, "
                    "%d child SAs: expected the old one replaced by one new one and its pair; "
                    "swanctl said:\n%s" % (old, sas, contacts, len(w.qmsas()), out))
    if not E.wait_until("a ping after the restart", lambda: ping_ok(w), 15):
        errs.append("INITIAL_CONTACT: no ping answered through strongSwan's new SA")


def run_lifetimes(w, errs):
    w.store_extra = "timeouts = { idle_seconds = %d; };\n" % IDLE
    # strongSwan prefers MODP-2048, dpsec's first IKE method ECP-256: its
    # IKE_SA_INIT and its IKE SA rekey are each answered INVALID_KE_PAYLOAD
    # and sent again with MODP-2048
    w.sw_proposals = "aes256-sha256-modp2048,aes256gcm16-prfsha256-ecp256"
    w.ctld_args = ["--test-ike-lifetime", str(IKE_LIFE), "--dpd-interval", str(DPD)]
    w.esp = E.ESP_SUITES["ccm"]
    w.topology()
    ctld = w.gateway("a")
    w.strongswan()
    if not E.wait_until("the first negotiation", lambda: ping_ok(w), 20):
        errs.append("dpsec initiating: no ping answered")
        return
    E.check_esp_cipher(w, errs)
    if "AES_CCM_16-128" not in w.swanctl("--list-sas"):
        errs.append("strongSwan's child SA is not AES_CCM_16-128:\n%s" % w.swanctl("--list-sas"))
    t_up = time.monotonic()
    first = w.mmsas()
    pinger = E.Pinger(w)
    rekeyed = E.wait_until("dpsec's IKE SA rekey", lambda: (
        len(w.mmsas()) == 1 and w.mmsas()[0]["spis"] != first[0]["spis"]), IKE_LIFE + 10)
    time.sleep(2)
    E.stream_check(errs, "IKE SA rekey by dpsec", pinger)
    t_rekey = time.monotonic()
    sw = w.sw_sas()
    print("dpsec's IKE SA rekeyed after %.1f s of %d; strongSwan: %s"
          % (t_rekey - t_up, IKE_LIFE, sw))
    if not rekeyed or t_rekey - t_up < IKE_LIFE * 0.8:
        errs.append("dpsec's IKE SA: %s then %s: expected a rekey at 85-90 %% of %d s"
                    % (first, w.mmsas(), IKE_LIFE))
    if len(sw) != 1 or sw[0] != ("ESTABLISHED", ["INSTALLED"]):
        errs.append("strongSwan after dpsec's IKE rekey: %s, expected one IKE SA with its child"
                    % sw)
    got = {n: w.ike_stat(n) for n in ("INVALID_KE", "IKE_REKEYS")}
    if got != {"INVALID_KE": 2, "IKE_REKEYS": 1} or "MODP_2048" not in w.swanctl("--list-sas"):
        errs.append("dpsec's IKE SA with strongSwan: %s, expected INVALID_KE 2 (IKE_SA_INIT and "
                    "the rekey, each sent again with strongSwan's MODP-2048) and IKE_REKEYS 1:\n%s"
                    % (got, w.swanctl("--list-sas")))
    idle = E.wait_until("the idle child SA's delete", lambda: (
        not w.qmsas() and w.sw_sas() == [("ESTABLISHED", [])]), IDLE + 15)
    print("idle: dpsec's child SAs %d, strongSwan %s" % (len(w.qmsas()), w.sw_sas()))
    if not idle:
        errs.append("no traffic for %d s: expected dpsec to delete the child SA with strongSwan "
                    "(dpsec %d child SAs, strongSwan %s)" % (IDLE, len(w.qmsas()), w.sw_sas()))
    gone = E.wait_until("the childless IKE SA's soft lifetime",
                      lambda: not w.mmsas() and not w.sw_sas(),
                      max(5, t_rekey + IKE_LIFE + 15 - time.monotonic()))
    if not gone:
        errs.append("IKE SA without child SAs at its soft lifetime: dpsec %s, strongSwan %s, "
                    "expected dpsec to delete it on both sides" % (w.mmsas(), w.sw_sas()))
    run_dead_peer(w, errs, ctld)


def run_dead_peer(w, errs, ctld):
    """strongSwan killed and restarted: DPD takes the IKE SA and its child
    SAs down (show mmsas and qmsas empty, the IKE SA count back to 0,
    PEER_TIMEOUTS counted, audited), and the traffic negotiates again with
    the new strongSwan."""
    if not E.wait_until("a new negotiation", lambda: ping_ok(w), 20):
        errs.append("after the IKE SA's expiry: no ping answered")
        return
    timeouts = w.ike_stat("PEER_TIMEOUTS")
    old = w.mmsas()
    w.procs[-1].kill9()
    os.unlink(w.path("charon.vici"))
    w.strongswan()
    t_kill = time.monotonic()
    gone = E.wait_until("dead peer detection", lambda: not w.mmsas(), DPD + 60)
    left = {"mmsas": w.mmsas(), "qmsas": [hex(q["spi"]) for q in w.qmsas()],
            "isadb_list_size": w.mm("a")["isadb_list_size"],
            "PEER_TIMEOUTS": w.ike_stat("PEER_TIMEOUTS")}
    print("strongSwan killed: after %.1f s dpsec holds %s (PEER_TIMEOUTS before: %d)"
          % (time.monotonic() - t_kill, left, timeouts))
    if not gone or left["qmsas"] or left["isadb_list_size"] or \
            left["PEER_TIMEOUTS"] != timeouts + 1:
        errs.append("strongSwan killed: dpsec's IKE SA was %s, now %s: expected no IKE SA, no "
                    "child SA, one more peer timeout" % (old, left))
    if "audit: IKE SA down: the peer did not answer" not in ctld.text():
        errs.append("no audit line for the dead peer's IKE SA")
    if not E.wait_until("the new strongSwan's SA", lambda: ping_ok(w) and w.sw_sas(), 30):
        errs.append("after dead peer detection: no new negotiation with the restarted strongSwan")


def run_ike_scan(w, errs):
    """ike-scan's IKEv2 probe (AES-CBC, SHA1/MD5 PRFs, group 14, a KE of
    random bytes, which dpsec takes as RFC 6989 allows for safe primes):
    a handshake returned with the suite dpsec's responder accepts from
    that offer, and nothing counted as a failure. A probe is retried
    (PROBES in all) only if no answer came at all. Then A's dpsec-ctld
    starts again on a policy that names its own Main Mode method: the
    suites dpsec accepts only as a responder's extras go with dpsec's own,
    and the probe gets NO_PROPOSAL_CHOSEN."""
    w.topology()
    ctld = w.gateway("a")
    n, out = scan_probe(w)
    m = re.search(r"192\.0\.2\.1\s+IKEv2 SA_INIT Handshake returned.*?SA=\(([^)]*)\)", out, re.S)
    if not m:
        errs.append("ike-scan -2: no IKE_SA_INIT handshake returned in %d probes:\n%s" % (n, out))
        return
    sa = m.group(1)
    for want in ("Encr=AES_CBC,KeyLength=256", "Integ=HMAC_SHA1_96", "Prf=HMAC_SHA1",
                 "DH_Group=14:modp2048"):
        if want not in sa:
            errs.append("ike-scan -2: the answer's SA (%s) has no %s" % (sa, want))
    failures = w.mm("a")["negotiation_failures"]
    if failures:
        errs.append("ike-scan -2: %d negotiation failures counted for a probe dpsec answered"
                    % failures)
    ctld.kill9()
    w.use_mm_methods(E.MM_XCBC)
    w.write_store("a")
    w.control("a")
    n, out = scan_probe(w)
    if "NO-PROPOSAL-CHOSEN" not in out.upper().replace("_", "-") or "Handshake returned" in out:
        errs.append("ike-scan -2 against a policy with its own Main Mode method: expected "
                    "NO_PROPOSAL_CHOSEN (probe %d):\n%s" % (n, out))


def scan_probe(w):
    """ike-scan's IKEv2 probe from B until an answer comes (PROBES at
    most): the probe number and ike-scan's output."""
    for n in range(1, PROBES + 1):
        out = T.sh("ike-scan", "-2", "--dhgroup=14", "--sport=0", "--retry=1", "192.0.2.1",
                   ns=w.ns["gb"], check=False).stdout
        m = re.search(r"(\d+) returned handshake; (\d+) returned notify", out)
        if m and (int(m.group(1)) or int(m.group(2))):  # its summary says "0 returned ..." too
            break
    print("probe %d:\n%s" % (n, out))
    return n, out


def run_fragments(w, errs):
    w.esp = E.ESP_SUITES["chacha"]
    w.ctld_args = ["--ike-fragment-size", str(FRAGMENT)]
    w.charon_extra = "fragment_size = %d" % (FRAGMENT + 28)
    w.topology()
    w.gateway("a")
    w.strongswan()
    out = w.swanctl("--initiate", "--child", "lans", "--timeout", "20", check=False)
    sas = w.mmsas()
    sent, joined = w.ike_stat("FRAGMENTED"), w.ike_stat("REASSEMBLED")
    print("strongSwan initiated with %d-byte fragments; dpsec's IKE SAs %s; messages sent in "
          "fragments %d, received in fragments %d" % (FRAGMENT, sas, sent, joined))
    if len(sas) != 1 or sas[0]["role"] != "responder":
        errs.append("fragments: dpsec's show mmsas %s, expected one IKE SA as responder; swanctl "
                    "said:\n%s" % (sas, out))
        return
    if sent < 1 or joined < 1:
        errs.append("fragments: dpsec sent %d and received %d messages in fragments, expected "
                    "IKE_AUTH both ways" % (sent, joined))
    if not E.wait_until("a ping A -> B", lambda: ping_ok(w), 15) or not ping_ok(w, from_b=True):
        errs.append("fragments: no ping answered through the tunnel")
    E.check_esp_cipher(w, errs)
    E.check_swan_cipher(w, errs)


def fragment_counts(w):
    """Gateway A's counts of reassembly and of cutting before encapsulation,
    once settled."""
    return settled_counts(w, ("reass_packets", "reass_fragments", "reass_held",
                              "prefrag_packets", "frag_packets"))


def run_esp_fragments(w, errs):
    w.wan_device = "net_pcap1,rx_iface_in=gw%(gw)s-wan,tx_iface=gw%(gw)s-wan"
    w.wan_extra = " mtu = %d;" % WAN_MTU
    w.dp_extra = " neighbour_reachable_seconds = %d;" % NEIGH_REACHABLE
    w.topology()
    for ns, dev in ((w.ns["ga"], "gwa-wan"), (w.ns["gb"], "gwb-wan")):
        T.sh("ip", "-n", ns, "link", "set", dev, "mtu", str(WAN_MTU))
    w.gateway("a")
    w.strongswan()
    if not E.wait_until("the first negotiation", lambda: ping_ok(w), 20):
        errs.append("esp-fragments: no ping answered through the tunnel")
        return
    before = fragment_counts(w)
    r = T.sh("ping", "-n", "-I", "10.2.0.2", "-c", str(BIG_PINGS), "-i", "0.3", "-W", "2",
             "-s", "1300", "10.1.0.2", ns=w.ns["gb"], check=False)
    after = fragment_counts(w)
    got = {n: after[n] - before[n] for n in after if n != "reass_held"}
    answered = re.search(r"(\d+) received", r.stdout)
    print("esp-fragments: %s of %d pings of 1,328 bytes answered; gateway A: %s, %d held"
          % (answered.group(1) if answered else "?", BIG_PINGS, got, after["reass_held"]))
    if not answered or int(answered.group(1)) != BIG_PINGS:
        errs.append("esp-fragments: pings of 1,328 bytes from B over a %d-byte WAN: %s"
                    % (WAN_MTU, r.stdout))
    if got["reass_packets"] < BIG_PINGS or got["reass_fragments"] < 2 * BIG_PINGS or \
            got["prefrag_packets"] < BIG_PINGS or after["reass_held"]:
        errs.append("esp-fragments: gateway A reassembled %d packets of %d fragments and cut %d "
                    "(%d held): expected at least %d, %d and %d, none held"
                    % (got["reass_packets"], got["reass_fragments"], got["prefrag_packets"],
                       after["reass_held"], BIG_PINGS, 2 * BIG_PINGS, BIG_PINGS))
    clear_too_big(w, errs)
    held_while_asked(w, errs)
    ttl_back_through_tunnel(w, errs)
    neighbour_unreachable(w, errs)
    neighbour_moves(w, errs)
    neighbour_moves_silently(w, errs)
    neighbours_listed(w, errs)


# Sent in host A's namespace: a gratuitous ARP request (its own address
# asked for, from its new MAC, as an HA pair's new master announces itself)
GARP = ("from scapy.all import ARP, Ether, sendp; "
        "sendp(Ether(src='%(mac)s', dst='ff:ff:ff:ff:ff:ff') / ARP(op=1, hwsrc='%(mac)s', "
        "psrc='10.1.0.2', pdst='10.1.0.2'), iface='hosta-eth0', verbose=0)")


def neighbour_moves(w, errs):
    """Host A takes another MAC and says so with a gratuitous ARP request:
    gateway A, which learnt its old MAC from the pings before, sends B's
    pings to the new one (RFC 826: a known sender is updated by any ARP it
    sends), and they are answered; host A's kernel drops frames to its old
    MAC."""
    mac = "02:00:00:00:0a:77"
    T.sh("ip", "-n", w.ns["ha"], "link", "set", "hosta-eth0", "address", mac)
    T.sh("/usr/bin/python3", "-c", GARP % {"mac": mac}, ns=w.ns["ha"])
    moved = ping_ok(w, from_b=True)
    print("neighbour: host A moved to %s and sent a gratuitous ARP; B's pings %s"
          % (mac, "answered" if moved else "not answered"))
    if not moved:
        errs.append("neighbour: after host A's gratuitous ARP from its new MAC, gateway A "
                    "still sent B's pings elsewhere")


def held_while_asked(w, errs):
    """Host A sends one ping in clear to 192.0.2.3, an address B's WAN
    interface takes now, which gateway A has never asked for: gateway A
    holds the request while it asks and sends it when B answers, so B's
    kernel receives it (its replies go into its tunnel, as above)."""
    T.sh("ip", "-n", w.ns["gb"], "addr", "add", "192.0.2.3/24", "dev", "gwb-wan")
    names = ("neigh_held", "neigh_held_sent", "drop_no_neighbour")
    before, b_before = settled_counts(w, names), snmp(w.ns["gb"])
    T.sh("ping", "-n", "-c", "1", "-W", "2", "192.0.2.3", ns=w.ns["ha"], check=False)
    after, b_after = settled_counts(w, names), snmp(w.ns["gb"])
    got = {n: after[n] - before[n] for n in names}
    echoes = b_after["Icmp.InEchos"] - b_before["Icmp.InEchos"]
    print("neighbour: host A's one ping of 192.0.2.3, not yet resolved: B received %d echo "
          "requests; gateway A: %s" % (echoes, got))
    if echoes != 1 or got["neigh_held"] != 1 or got["neigh_held_sent"] != 1:
        errs.append("neighbour: a ping to a next hop not yet resolved was not held and sent "
                    "once it answered: B received %d; gateway A: %s" % (echoes, got))


def neighbour_moves_silently(w, errs):
    """Host A takes a third MAC and sends nothing: gateway A's unicast
    requests to the old MAC go unanswered, it forgets it (neigh_expired),
    asks the link, and B's pings reach host A again."""
    mac = "02:00:00:00:0a:78"
    gw = json.loads(T.sh("ip", "-j", "-n", w.ns["ha"], "neigh", "show", "10.1.0.1", "dev",
                         "hosta-eth0").stdout)
    if not gw or "lladdr" not in gw[0]:
        errs.append("neighbour: host A holds no MAC for gateway A: %s" % gw)
        return
    T.sh("ip", "-n", w.ns["ha"], "neigh", "replace", "10.1.0.1", "lladdr", gw[0]["lladdr"],
         "dev", "hosta-eth0", "nud", "permanent")
    names = ("neigh_probes", "neigh_expired")
    before = settled_counts(w, names)
    T.sh("ip", "-n", w.ns["ha"], "link", "set", "hosta-eth0", "address", mac)
    start = time.monotonic()
    followed = E.wait_until("B's pings to reach host A at its new MAC",
                            lambda: ping_ok(w, count=1, from_b=True), NEIGH_FOLLOW)
    after = settled_counts(w, names)
    got = {n: after[n] - before[n] for n in names}
    print("neighbour: host A moved to %s silently; B's pings %s after %.1f s; gateway A: %s"
          % (mac, "answered" if followed else "not answered", time.monotonic() - start, got))
    if not followed or got["neigh_expired"] < 1 or got["neigh_probes"] < 3:
        errs.append("neighbour: host A moved to another MAC without a word: B's pings %s "
                    "within %d s; gateway A asked %d times and forgot %d neighbours (expected "
                    "at least 3 and 1)" % ("answered" if followed else "not answered",
                                           NEIGH_FOLLOW, got["neigh_probes"], got["neigh_expired"]))


def link_mac(ns, dev):
    return json.loads(T.sh("ip", "-j", "-n", ns, "link", "show", dev).stdout)[0]["address"]


def neighbours_listed(w, errs):
    """dpsecctl show neighbours on gateway A, after the steps above: host A
    on the LAN port with the MAC its interface has now, B on the WAN port
    with its own, and 192.0.2.77, which never answered, failed and without
    a MAC. (dpsecd publishes its neighbours within 20 ms of a change: read
    until they agree, for 2 s.)"""
    want = {"10.1.0.2": ("lan", link_mac(w.ns["ha"], "hosta-eth0"), ("reachable", "probe")),
            "192.0.2.2": ("wan", link_mac(w.ns["gb"], "gwb-wan"), ("reachable", "probe")),
            "192.0.2.77": ("wan", None, ("failed",))}
    wrong = []

    def agree():
        rows = json.loads(w.ctl("a", "show", "neighbours", "--json"))["neighbours"]
        shown = {r["address"]: r for r in rows}
        wrong[:] = ["%s for %s; expected port %s, MAC %s, state %s"
                    % (shown.get(a), a, port, mac, " or ".join(states))
                    for a, (port, mac, states) in want.items()
                    if a not in shown or shown[a]["port"] != port or
                    shown[a].get("mac") != mac or shown[a]["state"] not in states]
        print("neighbour: gateway A shows %s" % rows)
        return not wrong
    if not E.wait_until("show neighbours to list them", agree, 2, step=0.25):
        errs.append("neighbour: show neighbours on gateway A gives %s" % "; ".join(wrong))


def neighbour_unreachable(w, errs):
    """Host A pings an address on gateway A's WAN link that nobody holds:
    its ARP requests go unanswered, and once three have, a second apart,
    host A's pings are answered with host unreachable from gateway A's
    LAN address (RFC 1812 §5.2.7.1), which host A's kernel hands its ping:
    the first ones too, which gateway A held while it asked."""
    out = T.sh("ping", "-n", "-c", "10", "-i", "0.5", "-W", "1", "192.0.2.77", ns=w.ns["ha"],
               check=False).stdout
    told = re.findall(r"From 10\.1\.0\.1 icmp_seq=(\d+) Destination Host Unreachable", out)
    print("neighbour: host A's pings of 192.0.2.77, which nobody holds: %s answered with host "
          "unreachable by gateway A" % told)
    if "1" not in told:
        errs.append("neighbour: no host unreachable from gateway A for the first ping of an "
                    "address on its WAN link that does not answer ARP:\n%s" % out)


def ttl_back_through_tunnel(w, errs):
    """B's ping with TTL 1 to host A: gateway A's time exceeded comes back
    through the tunnel (in clear, B's policy would not take it)."""
    out = T.sh("ping", "-n", "-I", "10.2.0.2", "-c", "1", "-t", "1", "-W", "2", "10.1.0.2",
               ns=w.ns["gb"], check=False).stdout
    print("tunnel TTL: %s" % " | ".join(ln for ln in out.splitlines() if "From" in ln))
    if not re.search(r"From 10\.1\.0\.1 .*Time to live exceeded", out):
        errs.append("tunnel TTL: B's ping with TTL 1 got no time exceeded from gateway A's "
                    "LAN address back through the tunnel:\n%s" % out)


def snmp(ns):
    """The IPv4 and ICMP counters of namespace ns's kernel, as
    {"Ip.ReasmOKs": n, "Icmp.InEchos": n, ...} (/proc/net/snmp)."""
    rows = [ln.split() for ln in T.sh("cat", "/proc/net/snmp", ns=ns).stdout.splitlines()]
    out = {}
    for names, values in zip(rows[::2], rows[1::2]):
        for n, v in zip(names[1:], values[1:]):
            out[names[0].rstrip(":") + "." + n] = int(v)
    return out


def clear_too_big(w, errs):
    """Host A pings B's WAN address in clear (the policy permits it), past
    the WAN's MTU: without DF gateway A cuts each request to fit and B's
    kernel puts it together (B's replies go into its tunnel, whose policy
    does not carry them: only the requests are counted); with DF, host A is
    told the WAN's MTU."""
    before, b_before = fragment_counts(w), snmp(w.ns["gb"])
    T.sh("ping", "-n", "-M", "dont", "-c", str(BIG_PINGS), "-i", "0.2", "-W", "1", "-s", "1300",
         "192.0.2.2", ns=w.ns["ha"], check=False)
    after, b_after = fragment_counts(w), snmp(w.ns["gb"])
    cut = after["frag_packets"] - before["frag_packets"]
    joined = b_after["Ip.ReasmOKs"] - b_before["Ip.ReasmOKs"]
    echoes = b_after["Icmp.InEchos"] - b_before["Icmp.InEchos"]
    print("clear path: gateway A cut %d pings of 1,328 bytes for its %d-byte WAN; B's kernel "
          "reassembled %d and received %d echo requests" % (cut, WAN_MTU, joined, echoes))
    if cut != BIG_PINGS or joined < BIG_PINGS or echoes < BIG_PINGS:
        errs.append("clear path: %d pings without DF: gateway A cut %d, B reassembled %d and "
                    "received %d" % (BIG_PINGS, cut, joined, echoes))
    out = T.sh("ping", "-n", "-M", "do", "-c", "1", "-W", "2", "-s", "1300", "192.0.2.2",
               ns=w.ns["ha"], check=False).stdout
    if not re.search(r"From 10\.1\.0\.1 .*Frag needed and DF set \(mtu = %d\)" % WAN_MTU, out):
        errs.append("clear path: a ping of 1,328 bytes with DF got no fragmentation needed "
                    "naming %d from gateway A:\n%s" % (WAN_MTU, out))


def run_tunnel_pmtu(w, errs):
    w.lan_extra = " mtu = %d;" % LAN_MTU
    w.topology()
    w.gateway("a")
    w.strongswan()
    if not E.wait_until("the first negotiation", lambda: ping_ok(w), 20):  # A's ACQUIRE
        errs.append("tunnel-pmtu: no ping answered through the tunnel")
        return

    def df_ping():
        return T.sh("ping", "-n", "-I", "10.2.0.2", "-M", "do", "-c", "1", "-W", "2", "-s", "1300",
                    "10.1.0.2", ns=w.ns["gb"], check=False).stdout
    first = df_ping()
    route = T.sh("ip", "route", "get", "10.1.0.2", "from", "10.2.0.2", ns=w.ns["gb"],
                 check=False).stdout
    second = df_ping()
    print("tunnel-pmtu: B's first ping: %s; B's route: %s" % (
        " | ".join(ln for ln in first.splitlines() if "From" in ln), " ".join(route.split())))
    if not re.search(r"From 10\.1\.0\.1 .*Frag needed and DF set \(mtu = %d\)" % LAN_MTU, first):
        errs.append("tunnel-pmtu: B's ping of 1,328 bytes with DF got no fragmentation needed "
                    "naming %d from gateway A's LAN address:\n%s" % (LAN_MTU, first))
    if "mtu %d" % LAN_MTU not in route:
        errs.append("tunnel-pmtu: B's kernel did not keep the MTU %d for host A: %s"
                    % (LAN_MTU, route))
    if "message too long, mtu=%d" % LAN_MTU not in second:
        errs.append("tunnel-pmtu: B's second ping of 1,328 bytes with DF did not fail at once "
                    "with message too long, mtu=%d:\n%s" % (LAN_MTU, second))


def insert_router(w):
    """Router R between the gateways: B's end of the WAN link moves into R
    (as r-a) and a new link joins R (r-b, PATH_MTU bytes) to B. R forwards
    and answers ARP for each side (proxy ARP), so neither gateway's
    addresses or routes change; its own address, for its ICMP errors, is
    192.0.2.254."""
    r, gb = w.ns["r"], w.ns["gb"]
    T.sh("ip", "-n", gb, "link", "set", "gwb-wan", "netns", r)
    T.sh("ip", "-n", r, "link", "set", "gwb-wan", "name", "r-a")
    T.sh("ip", "-n", r, "link", "add", "r-b", "type", "veth", "peer", "name", "gwb-wan",
         "netns", gb)
    for ns, dev in ((r, "r-a"), (r, "r-b"), (gb, "gwb-wan")):
        w.no_offloads(ns, dev)
    T.sh("ip", "-n", gb, "link", "set", "gwb-wan", "mtu", str(PATH_MTU), "up")
    T.sh("ip", "-n", gb, "addr", "add", "192.0.2.2/24", "dev", "gwb-wan")
    T.sh("sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", ns=r)
    for dev, mtu, peer in (("r-a", 1500, "192.0.2.1"), ("r-b", PATH_MTU, "192.0.2.2")):
        T.sh("sysctl", "-qw", "net.ipv4.conf.%s.proxy_arp=1" % dev,
             "net.ipv4.conf.%s.rp_filter=0" % dev, ns=r)
        T.sh("ip", "-n", r, "link", "set", dev, "mtu", str(mtu), "up")
        T.sh("ip", "-n", r, "route", "add", peer + "/32", "dev", dev)
    T.sh("ip", "-n", r, "addr", "add", "192.0.2.254/32", "dev", "r-a")


def settled_counts(w, names):
    """dp_counts once they settle (E.settled)."""
    return E.settled(lambda: E.dp_counts(w, names))


def ping_a(w, size, df=True):
    """One ping from host A to host B of size payload bytes."""
    return T.sh("ping", "-n", "-M", "do" if df else "dont", "-c", "1", "-W", "2", "-s", str(size),
                "10.2.0.2", ns=w.ns["ha"], check=False).stdout


def run_path_mtu(w, errs):
    w.ns["r"] = "%s-r" % w.tag
    E.STORE = E.STORE.replace('action = "negotiate";',
                              'action = "negotiate"; df_bit = "set"; dscp = %d;' % PATH_DSCP)
    w.topology()
    insert_router(w)
    w.gateway("a")
    w.strongswan()
    if not E.wait_until("the first negotiation", lambda: ping_ok(w), 20):
        errs.append("path-mtu: no ping answered through the tunnel and router R")
        return
    names = ("pmtu_reports", "pmtu_learned", "pmtu_ignored", "prefrag_packets",
             "frag_packets", "icmp_errors_sent", "esp_out_packets")
    before = settled_counts(w, names)
    lost = ping_a(w, 1300, df=False)  # the outer header has DF all the same
    learned = E.wait_until("gateway A's record of R's MTU", lambda: (
        E.dp_counts(w, names)["pmtu_learned"] > before["pmtu_learned"]), 5)
    host_route = T.sh("ip", "route", "get", "10.2.0.2", ns=w.ns["ha"]).stdout.strip()
    cut = ping_a(w, 1300, df=False)  # before host A learns anything itself
    refused = ping_a(w, 1300)
    m = re.search(r"From 10\.1\.0\.1 .*Frag needed and DF set \(mtu = (\d+)\)", refused)
    fits = int(m.group(1)) if m else 0
    exact = ping_a(w, fits - 28) if fits else ""
    E.wait_until("gateway A's count of packets cut", lambda: (
        E.dp_counts(w, names)["prefrag_packets"] > before["prefrag_packets"]), 3)
    after = settled_counts(w, names)
    got = {n: after[n] - before[n] for n in names}
    out_sas = [q for q in json.loads(w.ctl("a", "show", "qmsas", "--json"))["qmsas"]
               if q["direction"] == "outbound"]
    shown = [q.get("path_mtu") for q in out_sas]
    df_bits = [(q.get("df_bit"), q.get("dscp")) for q in out_sas]
    shown_fa = json.loads(w.ctl("a", "show", "filteractions", "--json"))["filter_actions"]
    actions = [(a.get("df_bit"), a.get("dscp")) for a in shown_fa if a["name"] == "ike-gcm"]
    print("path-mtu: R's MTU %d; gateway A counted %s, shows %s for its outbound SA; host A told "
          "mtu %d; a ping of %d bytes %s; without DF %s"
          % (PATH_MTU, got, shown, fits, fits, "answered" if " 1 received" in exact else "lost",
             "answered" if " 1 received" in cut else "lost"))
    if " 1 received" in lost or df_bits != [("set", PATH_DSCP)] or \
            actions != [("set", PATH_DSCP)]:
        errs.append("path-mtu: the first ping of 1,328 bytes, without DF, passed router R's "
                    "%d-byte link (the filter action's df_bit \"set\", shown as %s; gateway A's "
                    "outbound SAs show %s):\n%s" % (PATH_MTU, actions, df_bits, lost))
    if not learned or got["pmtu_reports"] < 1 or got["pmtu_ignored"] or shown != [PATH_MTU]:
        errs.append("path-mtu: gateway A did not record R's fragmentation needed: %s; its "
                    "outbound SAs' path_mtu: %s" % (got, shown))
    if not m or not PATH_MTU - 120 < fits < PATH_MTU - 30:
        errs.append("path-mtu: host A's second ping got no fragmentation needed from gateway A "
                    "naming what fits %d bytes once encapsulated:\n%s" % (PATH_MTU, refused))
    elif " 1 received" not in exact:
        errs.append("path-mtu: a ping of %d bytes with DF, what gateway A said fits, was not "
                    "answered:\n%s" % (fits, exact))
    if " 1 received" not in cut or got["prefrag_packets"] < 1:
        errs.append("path-mtu: a ping of 1,328 bytes without DF was not cut to fit R's link "
                    "by gateway A (counted %s; host A's route before it: %s):\n%s"
                    % (got, host_route, cut))
    rekey_keeps_path_mtu(w, errs)
    host_learns_path_mtu(w, errs)


def out_spis(w):
    return {q["spi"] for q in w.qmsas() if q["direction"] == "outbound"}


def rekey_keeps_path_mtu(w, errs):
    """strongSwan rekeys the child SA; gateway A's new outbound SA must start
    with R's MTU. B answers 10.2.0.3 too, so that host A's own path MTU
    cache (learned for 10.2.0.2) does not cut the ping itself."""
    names = ("pmtu_reports", "pmtu_learned", "pmtu_inherited", "prefrag_packets")
    T.sh("ip", "-n", w.ns["gb"], "addr", "add", "10.2.0.3/32", "dev", "lo")
    old = out_spis(w)
    before = settled_counts(w, names)
    w.swanctl("--rekey", "--child", "lans")
    moved = E.wait_until("gateway A's outbound SA rekeyed", lambda: (
        len(out_spis(w)) == 1 and not out_spis(w) & old), 20)
    shown = [(hex(q["spi"]), q.get("path_mtu")) for q in w.qmsas()
             if q["direction"] == "outbound"]
    out = T.sh("ping", "-n", "-M", "dont", "-c", "1", "-W", "2", "-s", "1300", "10.2.0.3",
               ns=w.ns["ha"], check=False).stdout
    E.wait_until("gateway A's counters", lambda: (
        E.dp_counts(w, names)["prefrag_packets"] > before["prefrag_packets"]), 3)
    got = {n: v - before[n] for n, v in settled_counts(w, names).items()}
    print("path-mtu: after strongSwan's rekey gateway A's outbound SAs %s (before %s); counted "
          "%s; a ping of 1,328 bytes without DF to 10.2.0.3 %s"
          % (shown, [hex(s) for s in old], got, "answered" if " 1 received" in out else "lost"))
    if not moved or [m for _, m in shown] != [PATH_MTU] or got["pmtu_inherited"] < 1:
        errs.append("path-mtu: gateway A's outbound SA after strongSwan's rekey did not start "
                    "with R's MTU %d: %s (before: %s), counted %s"
                    % (PATH_MTU, shown, [hex(s) for s in old], got))
    if " 1 received" not in out or got["prefrag_packets"] < 1 or got["pmtu_learned"]:
        errs.append("path-mtu: after the rekey, a ping of 1,328 bytes without DF was not cut "
                    "before encapsulation by what gateway A knew (counted %s):\n%s" % (got, out))


def ping_from_gateway(w, size):
    """One ping with DF from gateway A's own host stack (its LAN address,
    which the tunnel covers) to 10.2.0.3."""
    return T.sh("ping", "-n", "-M", "do", "-c", "1", "-W", "2", "-I", "10.1.0.1", "-s", str(size),
                "10.2.0.3", ns=w.ns["ga"], check=False).stdout


def host_learns_path_mtu(w, errs):
    """Gateway A's own host stack sends through the tunnel a ping with DF
    too big for R's MTU: dpsecd tells it, as R would (from the ping's
    destination), so that the kernel keeps the MTU and its next ping of
    that size passes."""
    refused = ping_from_gateway(w, 1300)
    m = re.search(r"From 10\.2\.0\.3 .*Frag needed and DF set \(mtu = (\d+)\)", refused)
    fits = int(m.group(1)) if m else 0
    route = T.sh("ip", "route", "get", "10.2.0.3", "from", "10.1.0.1", ns=w.ns["ga"]).stdout
    exact = ping_from_gateway(w, fits - 28) if fits else ""
    print("path-mtu: gateway A's own ping of 1,328 bytes with DF told mtu %d; its kernel: %s; a "
          "ping of that size %s" % (fits, route.strip().replace("\n", " "),
                                    "answered" if " 1 received" in exact else "lost"))
    if not m or not PATH_MTU - 120 < fits < PATH_MTU - 30 or "mtu %d" % fits not in route:
        errs.append("path-mtu: gateway A's host stack was not told the tunnel's path MTU for "
                    "its own ping (its route: %s):\n%s" % (route, refused))
    elif " 1 received" not in exact:
        errs.append("path-mtu: gateway A's own ping of %d bytes with DF, what it was told fits, "
                    "was not answered:\n%s" % (fits, exact))


# R's source NAT (nat_map): strongSwan's UDP leaves with the public address
# given, and a port of the range given or its own
NFT_NAT = """table ip nat {
  chain post { type nat hook postrouting priority srcnat; policy accept; }
}
flush chain ip nat post
add rule ip nat post oifname "r-a" ip saddr 172.16.0.0/24 meta l4proto udp snat to %s
"""
# A UDP datagram of nat_flows: time (epoch seconds), addresses and ports,
# and tshark's last protocol: isakmp, esp (in UDP) or udpencap (a keepalive)
Flow = collections.namedtuple("Flow", "t src sport dst dport kind")


def insert_nat(w, first):
    """Router R in front of strongSwan: B's end of the WAN link moves into R
    (as r-a) with B's address, 192.0.2.2, now R's public one; a new link
    joins R (r-b, 172.16.0.1) to B (gwb-wan, 172.16.0.2, R its default
    route), and R maps strongSwan's UDP as first, the first of a case's
    NAT_MAPS. R also has the public address 192.0.2.3, for a later
    mapping."""
    r, gb = w.ns["r"], w.ns["gb"]
    T.sh("ip", "-n", gb, "link", "set", "gwb-wan", "netns", r)
    T.sh("ip", "-n", r, "link", "set", "gwb-wan", "name", "r-a")
    T.sh("ip", "-n", r, "link", "add", "r-b", "type", "veth", "peer", "name", "gwb-wan",
         "netns", gb)
    for ns, dev, addr in ((r, "r-a", "192.0.2.2/24"), (r, "r-b", "172.16.0.1/24"),
                          (gb, "gwb-wan", "172.16.0.2/24")):
        w.no_offloads(ns, dev)
        T.sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % dev, ns=ns)
        T.sh("ip", "-n", ns, "link", "set", dev, "up")
        T.sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
    T.sh("ip", "-n", r, "addr", "add", "192.0.2.3/24", "dev", "r-a")
    T.sh("ip", "-n", gb, "route", "add", "default", "via", "172.16.0.1")
    T.sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=r)
    nat_map(w, first)


def nat_map(w, mapping):
    """R's one NAT rule, mapping to mapping (a Mapping), replaced atomically."""
    to = mapping.addr + (":" + mapping.ports if mapping.ports else "")
    T.sh("nft", "-f", "-", input=NFT_NAT % to, ns=w.ns["r"])


def capture_nat(w):
    """tshark on R's public side of the WAN link (r-a): gateway A's packets
    and strongSwan's, with R's public ports."""
    pcap = w.path("nat.pcapng")
    c = w.proc("tshark-r", ["tshark", "-n", "-q", "-i", "r-a", "-w", pcap], w.ns["r"])
    c.wait_for("Capturing on")
    return c, pcap


def nat_flows(pcap):
    """The capture's UDP datagrams (not those quoted in ICMP errors), as Flows."""
    out = subprocess.run(["tshark", "-n", "-r", pcap, "-Y", "udp && !icmp", "-T", "fields",
                          "-e", "frame.time_epoch", "-e", "ip.src", "-e", "udp.srcport", "-e",
                          "ip.dst", "-e", "udp.dstport", "-e", "frame.protocols"], check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    flows = []
    for line in out.splitlines():
        t, src, sport, dst, dport, protocols = line.split("\t")
        flows.append(Flow(float(t), src, int(sport), dst, int(dport), protocols.split(":")[-1]))
    return flows


def b_replies(text):
    """The answers in the output of B's ping -D: [(epoch seconds, icmp_seq)]."""
    return [(float(t), int(q)) for t, q in
            re.findall(r"^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+)", text, re.M)]


def sa_spis(w):
    """dpsec's IKE SAs' SPIs (IKEv1: cookies) and its child SAs' directions
    and SPIs."""
    return (sorted(s.get("spis", s.get("cookies")) for s in w.mmsas()),
            sorted((q["direction"], hex(q["spi"])) for q in w.qmsas()))


def nat_detected(w, errs, ctld, version):
    """Both sides found the NAT from IKE_SA_INIT's NAT_DETECTION notifies
    (IKEv1: Main Mode's NAT-D payloads): dpsec-ctld says the peer is behind
    it, charon that it is."""
    ours = "NAT detection: we are not behind a NAT, the peer is behind one" if version == 2 \
        else "NAT detected: the peer is behind it"
    theirs = "local host is behind NAT"
    if ours not in ctld.text() or theirs not in w.charon_log():
        errs.append("nat-rebind: the NAT was not detected as it is: dpsec-ctld's log %s %r, "
                    "charon's %s %r" % ("has" if ours in ctld.text() else "lacks", ours,
                                        "has" if theirs in w.charon_log() else "lacks", theirs))


def run_nat_rebind_v1(w, errs):
    """nat-rebind with IKEv1 on both sides (ikev1_e2e.py's stores and
    swanctl.conf): strongSwan's dead peer detection is RFC 3706's
    R-U-THERE, an Informational of the ISAKMP SA."""
    import ikev1_e2e
    ikev1_e2e.use_ikev1()
    run_nat_rebind(w, errs, 1)


def run_nat_rebind_v1_qm(w, errs):
    """nat-rebind-v1 without dead peer detection, pings from host A: the
    first message of strongSwan's from R's new mapping is its rekey's Quick
    Mode, which moves dpsec."""
    import ikev1_e2e
    ikev1_e2e.use_ikev1()
    maps = NAT_MAPS["port"]
    up = nat_tunnel_up(w, errs, "nat-rebind-v1-qm", 1, False, maps)
    if up is None:
        return
    ctld, cap, pcap = up
    time.sleep(1)  # no ping in flight: an answer crossing R's new mapping would move dpsec
    nat_map(w, maps[1])
    T.sh("conntrack", "-F", ns=w.ns["r"])
    t_flushed = time.time()
    pinger = pings_across(w, from_b=False)
    time.sleep(3)  # nothing of strongSwan's tells dpsec: the pings go unanswered
    t_rekey = time.time()
    w.swanctl("--rekey", "--child", "lans", check=False)
    back = E.wait_until("the pings answered again after strongSwan's rekey", lambda: [
        r for r in b_replies(pinger.text()) if r[0] > t_rekey], REBIND) or []
    time.sleep(2)
    pinger.signal(2)
    pinger.p.wait(10)
    time.sleep(1)
    cap.signal(2)
    cap.p.wait(10)
    flows = nat_flows(pcap)
    replies = b_replies(pinger.text())
    early = [q for t, q in replies if t < t_rekey]
    new = sw_sources(flows, lambda f: f.t > t_flushed)
    esp_back = a_destinations(flows, "esp", lambda f: back and f.t > back[0][0])
    print("nat-rebind-v1-qm: answered between the change and the rekey %s, again from %s; "
          "strongSwan from %s after the change, dpsec's ESP once answered again to %s"
          % (early, back[:1], new, esp_back))
    if early:
        errs.append("nat-rebind-v1-qm: pings answered before strongSwan's rekey (%s): something "
                    "else moved dpsec" % early)
    if not back or len(new) != 1 or not mapped_as(new[0], maps[1]) or esp_back != new:
        errs.append("nat-rebind-v1-qm: after strongSwan's rekey from R's new mapping %s, pings "
                    "answered again %s, dpsec's ESP to %s" % (new, back[:1], esp_back))
    told = "the peer's NAT mapping changed (an ISAKMP message)"
    if told not in ctld.text():
        errs.append("nat-rebind-v1-qm: dpsec-ctld's log lacks %r" % told)
    check_esp_reports(w, errs, 0)


def hold_pings(w, on):
    """Host A's packets dropped as they leave it (on), or let go again:
    with no ping in flight across R's new mapping, no answer leaves R by the
    new one and moves dpsec by ESP before strongSwan's dead peer detection
    can. (ping goes on through the drop, its echo requests counted lost.)"""
    nft = ["nft", "add", "table", "inet", "hold"] if on else ["nft", "delete", "table", "inet", "hold"]
    T.sh(*nft, ns=w.ns["ha"])
    if on:
        T.sh("nft", "add chain inet hold out { type filter hook output priority 0; }", ns=w.ns["ha"])
        T.sh("nft", "add rule inet hold out ip daddr 10.2.0.0/24 drop", ns=w.ns["ha"])


def pings_across(w, from_b):
    """Pings through the tunnel, 5 a second, timestamped (ping -D): from
    host B, whose ESP then reaches dpsec from strongSwan's new port at once
    after a change; or from host A, so that after the change nothing of
    strongSwan's but its dead peer detection tells dpsec where it is."""
    if from_b:
        return w.proc("ping-b", ["ping", "-n", "-D", "-i", "0.2", "-I", "10.2.0.2", "10.1.0.2"],
                      w.ns["gb"])
    return w.proc("ping-a", ["ping", "-n", "-D", "-i", "0.2", "10.2.0.2"], w.ns["ha"])


def run_nat_rebind_esp(w, errs):
    """nat-rebind without strongSwan's dead peer detection (swanctl's
    default): only its ESP from the new port tells dpsec."""
    run_nat_rebind(w, errs, dpd=False)


def run_nat_rebind_address(w, errs):
    """nat-rebind-esp behind a NAT that keeps strongSwan's port and changes
    its public address: ESP from the same port and a new address."""
    run_nat_rebind(w, errs, dpd=False, change="address")


def nat_tunnel_up(w, errs, case, version, dpd, maps):
    """strongSwan behind R (mapped as maps[0]), with dead peer detection if
    dpd, initiates; pings pass both ways and both sides found the NAT.
    (dpsec-ctld, the capture on R's public side, its pcap), or None."""
    w.ns["r"] = "%s-r" % w.tag
    E.SWANCTL_CONF = E.SWANCTL_CONF.replace(
        "local_addrs = 192.0.2.2", "local_addrs = 172.16.0.2" +
        ("\n    dpd_delay = %ds" % SW_DPD if dpd else ""))
    w.topology()
    insert_nat(w, maps[0])
    cap, pcap = capture_nat(w)
    ctld = w.gateway("a")
    w.strongswan()
    out = w.swanctl("--initiate", "--child", "lans", "--timeout", "20", check=False)
    if not ping_ok(w) or not ping_ok(w, from_b=True):
        errs.append("%s: no ping answered through the tunnel strongSwan initiated from behind "
                    "R's NAT; swanctl said:\n%s" % (case, out))
        return None
    nat_detected(w, errs, ctld, version)
    return ctld, cap, pcap


def run_nat_rebind(w, errs, version=2, dpd=True, change="port"):
    maps = NAT_MAPS[change]
    up = nat_tunnel_up(w, errs, "nat-rebind", version, dpd, maps)
    if up is None:
        return
    ctld, cap, pcap = up
    before = sa_spis(w)
    out_before = [q for q in w.qmsas() if q["direction"] == "outbound"]
    pinger = pings_across(w, from_b=not dpd)
    time.sleep(2)
    if dpd:
        hold_pings(w, True)
        time.sleep(0.5)
    t_change = time.time()
    nat_map(w, maps[1])
    T.sh("conntrack", "-F", ns=w.ns["r"])
    t_flushed = time.time()
    if dpd:
        hold_pings(w, False)
    back = E.wait_until("the pings answered again after R's new mapping", lambda: [
        r for r in b_replies(pinger.text()) if r[0] > t_flushed + LATE], REBIND)
    time.sleep(2)  # more pings, for dpsec's ESP after the recovery
    pinger.signal(2)
    pinger.p.wait(10)
    time.sleep(1)  # dumpcap reads the kernel's capture blocks every 250 ms: the last ones too
    cap.signal(2)
    cap.p.wait(10)
    flows = nat_flows(pcap)
    check_rebind(errs, flows, b_replies(pinger.text()), back, (t_change, t_flushed), dpd, maps)
    after = sa_spis(w)
    if after != before:
        errs.append("nat-rebind: dpsec's IKE SA and child SAs were %s before R's new mapping, "
                    "%s after: expected the same SPIs (no rekey, no new SA)" % (before, after))
    check_moved_sa(w, errs, ctld, out_before, flows, t_flushed)
    seen_in = "an IKE request" if version == 2 else "an ISAKMP message"
    told = "the peer's NAT mapping changed (%s)" % (seen_in if dpd else "ESP")
    if told not in ctld.text():
        errs.append("nat-rebind: dpsec-ctld's log lacks %r: the move did not come from %s"
                    % (told, "strongSwan's dead peer detection" if dpd else "its ESP"))
    check_esp_reports(w, errs, 0 if dpd else 1)


def check_esp_reports(w, errs, want):
    """dpsecd's natt_peer_moved: how often ESP from a new source (address
    or port) was reported, once a source (the next packets from there are
    the moved inbound SA's); none when the move came from dead peer
    detection, while strongSwan sent no ESP of its own."""
    stats = json.loads(w.ctl("a", "show", "stats", "--all", "--json"))
    got = {r["name"]: r["value"] for r in stats["dataplane"]}["natt_peer_moved"]
    if got != want:
        errs.append("nat-rebind: dpsecd reported ESP from a new source %d times "
                    "(natt_peer_moved), expected %d" % (got, want))


def sw_sources(flows, sel):
    """strongSwan's UDP sources as R maps them, [(address, port)], among the
    flows sel picks."""
    return sorted({(f.src, f.sport) for f in flows if f.dst == "192.0.2.1" and f.dport == 4500
                   and sel(f)})


def a_destinations(flows, kind, sel):
    """Where gateway A sent its UDP of kind (esp, isakmp), [(address, port)],
    among the flows sel picks."""
    return sorted({(f.dst, f.dport) for f in flows if f.src == "192.0.2.1" and f.kind == kind
                   and sel(f)})


def check_moved_sa(w, errs, ctld, out_before, flows, t_flushed):
    """dpsec-ctld said the peer moved and its outbound SAs followed; show
    qmsas gives each strongSwan's new address and port, and the sequence
    numbers went on from where they were (the same SAs, moved, not new
    ones). Usually one SA; two when dpsec's own Quick Mode for the first
    ping crossed strongSwan's (IKEv1 keeps both pairs)."""
    new = sw_sources(flows, lambda f: f.t > t_flushed)
    moved = re.findall(r"IKE peer moved to (\S+) port (\d+) \(its NAT's mapping "
                       r"changed\): (\d+) outbound SAs follow", ctld.text())
    out_after = [q for q in w.qmsas() if q["direction"] == "outbound"]

    def ends(sas):
        return [(q["remote"], q["remote_port"], q["seq"]) for q in sas]
    print("nat-rebind: dpsec-ctld: %s; outbound SA before %s, after %s" % (
        moved, ends(out_before), ends(out_after)))
    if [(a, int(p), int(n)) for a, p, n in moved] != [(a, p, len(out_before)) for a, p in new]:
        errs.append("nat-rebind: dpsec-ctld should have said once that the peer moved to %s "
                    "and its %d outbound SAs followed; it said %s" % (new, len(out_before), moved))
    if not out_before or len(out_after) != len(out_before) or \
            {(q["remote"], q["remote_port"]) for q in out_after} != set(new) or \
            max(q["seq"] for q in out_after) <= max(q["seq"] for q in out_before):
        errs.append("nat-rebind: show qmsas gave the outbound SA (address, port, sequence "
                    "number) %s before the change, %s after: expected %s after, its numbers "
                    "gone on" % (ends(out_before), ends(out_after), new))


def mapped_as(source, mapping):
    """Whether strongSwan's source (address, port) is what mapping makes."""
    if source[0] != mapping.addr:
        return False
    if mapping.ports is None:
        return source[1] == 4500
    low, high = (int(p) for p in mapping.ports.split("-"))
    return low <= source[1] <= high


def check_rebind(errs, flows, replies, back, times, dpd, maps):
    """What the capture on R's public side and the pings say about R's new
    mapping (maps: before and after; times: when it changed, when R's
    table was flushed): strongSwan's packets from a new source, then
    (back: the answers after the change) answered, dpsec's ESP to the new
    source; with dpd (the move waits for strongSwan's dead peer
    detection), pings lost before."""
    t_change, t_flushed = times
    sw_before = sw_sources(flows, lambda f: f.t < t_change)
    sw_after = sw_sources(flows, lambda f: f.t > t_flushed)
    esp_after = a_destinations(flows, "esp", lambda f: f.t > t_flushed)
    ike_after = a_destinations(flows, "isakmp", lambda f: f.t > t_flushed)
    dpd = [f for f in flows if f.dst == "192.0.2.1" and f.kind == "isakmp" and f.t > t_flushed]
    print("nat-rebind: strongSwan's UDP from R's %s before the change, %s after; its first "
          "IKE message from there %s; dpsec's ESP after the change to %s, its IKE to %s"
          % (sw_before, sw_after, "%.1f s after the change" % (dpd[0].t - t_change)
             if dpd else "none", esp_after, ike_after))
    if len(sw_before) != 1 or len(sw_after) != 1 or sw_before == sw_after or \
            not mapped_as(sw_before[0], maps[0]) or not mapped_as(sw_after[0], maps[1]):
        errs.append("nat-rebind: R's mapping did not change as it should: strongSwan's packets "
                    "left R from %s before the change and %s after (expected %s, then %s)"
                    % (sw_before, sw_after, maps[0], maps[1]))
    last = max([q for t, q in replies if t <= t_flushed + LATE], default=0)
    if not back:
        errs.append("nat-rebind: the pings to host A were not answered again within %d s of R's "
                    "new mapping (the last answered, #%d, was before it): after the change "
                    "dpsec sent its ESP to %s, while strongSwan's packets came from %s "
                    "(before it: %s) and its first IKE request from there %s"
                    % (REBIND, last, esp_after, sw_after, sw_before,
                       "%.1f s after the change" % (dpd[0].t - t_change) if dpd else "never came"))
        return
    t_back, first = back[0]
    print("nat-rebind: %d of the pings lost after the change (from #%d), answered again from "
          "#%d, %.1f s after it" % (first - last - 1, last + 1, first, t_back - t_change))
    if dpd and first - last < 2:
        errs.append("nat-rebind: no ping was lost after R's new mapping (#%d answered "
                    "before it, #%d after): the change did not reach dpsec's replies"
                    % (last, first))
    esp_back = a_destinations(flows, "esp", lambda f: f.t > t_back)
    if not esp_back or esp_back != sw_after:
        errs.append("nat-rebind: once the pings were answered again, dpsec's ESP went to %s, "
                    "expected strongSwan's new source %s alone" % (esp_back, sw_after))


def main():
    args = sys.argv[1:]
    cases = {"responder": run_responder, "lifetimes": run_lifetimes, "ike-scan": run_ike_scan,
             "fragments": run_fragments, "esp-fragments": run_esp_fragments,
             "tunnel-pmtu": run_tunnel_pmtu, "path-mtu": run_path_mtu,
             "nat-rebind": run_nat_rebind, "nat-rebind-v1": run_nat_rebind_v1,
             "nat-rebind-esp": run_nat_rebind_esp, "nat-rebind-address": run_nat_rebind_address,
             "nat-rebind-v1-qm": run_nat_rebind_v1_qm}
    if len(args) != 5 or args[0] != "--case" or args[1] not in cases:
        print("usage: ike_interop_e2e.py --case responder|lifetimes|ike-scan|fragments|"
              "esp-fragments|tunnel-pmtu|path-mtu|nat-rebind|nat-rebind-v1|nat-rebind-esp|"
              "nat-rebind-address DPSECD DPSEC_CTLD DPSECCTL",
              file=sys.stderr)
        return 2
    case = args[1]
    if os.geteuid() != 0:
        print("ike_interop_e2e: needs root (network namespaces); skipped")
        return 77
    need = ["tshark", "ethtool"] + (["ike-scan"] if case == "ike-scan" else ["socat"]) + \
        (["nft", "conntrack"] if case.startswith("nat-rebind") else [])
    missing = [n for n in need if shutil.which(n) is None]
    if case != "ike-scan" and not (os.access(E.CHARON, os.X_OK) and os.access(E.SWANCTL, os.X_OK)):
        missing.append("strongSwan")
    if missing:
        print("ike_interop_e2e: %s missing (tools/deps installs them); skipped" % missing)
        return 77
    w = Interop("ike-scan" if case == "ike-scan" else "strongswan", *args[2:])
    return E.run_world(w, lambda w, errs: run_case(w, errs, cases[case]),
                       "ike_interop_e2e (%s)" % case)


def run_case(w, errs, body):
    """body, and on failure ctld's and charon's logs (all of them in
    $DPSEC_E2E_KEEP when it is set)."""
    body(w, errs)
    if not errs:
        return
    for p in w.procs:
        if p.name.startswith("ctld"):
            print("---- %s ----\n%s" % (p.name, p.text()[-8000:]))
    print("---- charon ----\n%s" % w.charon_log()[-6000:])
    if os.environ.get("DPSEC_E2E_KEEP"):
        shutil.copytree(w.work, os.environ["DPSEC_E2E_KEEP"], dirs_exist_ok=True,
                        ignore=not_regular_files)


def not_regular_files(d, names):
    """copytree's ignore: the unix sockets (charon's, ctld's) and FIFOs of
    a run, which cannot be copied."""
    return [n for n in names if not (os.path.isdir(os.path.join(d, n))
                                     or os.path.isfile(os.path.join(d, n)))]

if __name__ == "__main__":
    T.cleanup_on_sigterm()
    sys.exit(main())
