# xval_cases.py - the cases, grouped into dpsecd runs:
#   tunnel/<alg>/<esn>     every address-family combination, both directions
#   transport/<alg>/<esn>  transport mode, IPv4 and IPv6
#                          (<alg> ESP, NULL encryption among them:
#                          null-sha256_128/noesn; or AH: ah-sha1_96/noesn,
#                          ah-sha256_128/esn, ah-sha384_192/noesn, ah-sha512_256/esn)
#   neg/<alg>/<esn>        tampering, replay, trailer and policy errors
#   neg/ah-<alg>/<esn>     AH: immutable and mutable fields, replay, header
#                          length, truncation, SPIs of the other protocol
#   generic                algorithm-independent drops (SPI, L2/L3 malformed,
#                          incomplete fragments, clear traffic, block, permit, TTL)
#   path-mtu, icmp-rate    packets too big once encapsulated: ICMP errors
#                          with the size that fits, and their rate limit
#   prefrag                IPv4 without DF too big: cut into fragments
#                          before tunnel encapsulation
#   port-mtu               packets forwarded in clear or decrypted too big
#                          for their port: cut, or ICMP errors
#   error-policy, error-default-block
#                          the gateway's ICMP errors through the outbound
#                          policy: secured, blocked, permitted
#   no-route               destination unreachable to the source of a
#                          packet with no route
#   outer-header           the outer DF and DSCP copied, or set as the SA says
#   reass                  ESP and AH arriving in fragments: reassembled
#   fragment-policy        a filter naming ports: later fragments classified
#                          with their first fragment's ports (RFC 4301 §7.3)
#   workers2               two workers: inbound SAs owned by each, hand-offs
#   natt/<alg>/<esn>       ESP in UDP (RFC 3948): tunnel and transport both
#                          ways, keepalives, IKE beside ESP, mismatches, lengths
#   natt-keepalive         the NAT keepalives silent UDP SAs send
#   tunnel+transport/3des-sha1_96/noesn
#                          3DES-CBC (RFC 2451): the tunnel matrix and
#                          transport mode both ways, in one run
#   integ/<aes mac>        AES-XCBC-MAC-96, AES-CMAC-96: their ESP (two
#                          ciphers) and AH, tunnel/, transport/ and neg/
#                          cases in one run per MAC
#   integ/aes-gmac         AES-GMAC (RFC 4543), its three key lengths: the
#                          tunnel/, transport/ and neg/ cases in one run
# Each case sends its own packets through its own rule and SAs, so cases in
# one run do not disturb each other; the run checks the global counters
# against the sum of what its cases expect.
import random
import struct

from scapy.layers.inet import UDP

import xval_ah as A
import xval_esp as E
import xval_topo as T
import xval_traffic as TR
from scapy.layers.inet import ICMP, IP, IPOption_EOL, IPOption_NOP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, PadN
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Raw
from scapy.utils import checksum
import xval_run
from xval_run import Case, Run

N = 20  # packets per direction and matrix cell


class Cell:
    """One rule with its outbound and inbound SA."""

    def __init__(self, run, name, alg, esn, inner=4, outer=4, mode="tunnel", local=None,
                 remote=None, replay_window=64, encap="none", ports=(4500, 4500),
                 protocol="any", local_net=None, dst_ports=None, remote_net=None):
        """local_net, remote_net: the tunnel's selectors on our side and
        the peer's (default: the LAN, the cell's remote subnet); dst_ports:
        the outbound destination ports its filter names (then protocol
        must name one that has ports). name (the rule's, its SAs' first
        part) is put after the run's sa_prefix."""
        name = run.sa_prefix + name
        self.run, self.inner, self.outer, self.mode = run, inner, outer, mode
        self.k = run.new_k()
        if mode == "tunnel":
            local, remote = T.gw_addr(outer), T.peer_addr(outer)
            filt = {"source": local_net or T.lan_net(inner),
                    "destination": remote_net or T.remote_net(inner, self.k)}
        else:
            filt = {"source": T.host_prefix(local), "destination": T.host_prefix(remote)}
            run.conf.add_neighbour(remote)
        filt.update(protocol=protocol, mirrored=True)
        if dst_ports is not None:
            filt["destination_ports"] = dst_ports
        self.local, self.remote = local, remote
        self.out, self.inb = T.sa_pair(name, run.new_spi(), mode, alg, esn, local, remote,
                                       run.rng, replay_window, encap, ports)
        run.register(self.out, self.inb)
        run.conf.add_rule(name, [filt], tunnel_endpoint=remote if mode == "tunnel" else None,
                          sa_out=self.out, sa_in=self.inb)

    # clear packets of this rule's traffic
    def inner_in(self, i, **kw):
        """remote protected host -> LAN host"""
        return TR.simple(self.inner, T.remote_host(self.inner, self.k, 6),
                         T.lan_host(self.inner), i, **kw)

    def inner_out(self, i, **kw):
        return TR.simple(self.inner, T.lan_host(self.inner), T.remote_host(self.inner, self.k),
                         i, **kw)

    def outer_hdr(self, inner, **kw):
        """The peer's outer header for inner: DSCP/ECN and DF copied (kw
        outer_ecn: the ECN field as a router on the way left it)."""
        tos = TR.ip_tos(inner)
        if "outer_ecn" in kw:
            tos = tos & ~3 | kw["outer_ecn"]
        if self.outer == 4:
            return IP(src=self.remote, dst=self.local, ttl=64, tos=tos,
                      id=kw.get("id", 0), flags="DF" if TR.ip_df(inner) else 0)
        return IPv6(src=self.remote, dst=self.local, hlim=64, tc=tos)

    def esp(self, inner, seq64, **kw):
        """inner protected with the inbound SA, as the peer sends it: ESP,
        or AH for an AH SA (xval_ah)."""
        if self.inb.p["ah"]:
            if self.mode == "tunnel":
                return A.protect_tunnel(self.inb, self.outer_hdr(inner, **kw), inner, seq64)
            return A.protect_transport(self.inb, inner, seq64)
        if self.mode == "tunnel":
            return E.encrypt_tunnel(self.inb, self.outer_hdr(inner, **kw), inner, seq64)
        return E.encrypt_transport(self.inb, inner, seq64)

    def seal(self, inner, seq64, **kw):
        """A packet with a chosen trailer and a valid ICV (E.seal_custom)."""
        return E.seal_custom(self.inb, self.outer_hdr(inner), seq64, inner, **kw)


# The most any SA adds (dpsecd's DP_IPSEC_MAX_OVERHEAD): an error about a
# decrypted packet, which goes back through a tunnel, quotes that much less.
IPSEC_MAX_OVERHEAD = 40 + 8 + 8 + 16 + 15 + 2 + 16


def icmp_error(fam, about, gateway, v4, v6, tunnel=False):
    """The ICMP error (v4: scapy's ICMP layer; v6: its ICMPv6 error layer)
    dpsecd must send the source of packet about, from the gateway's address
    given, quoting the packet as it arrived: 576 bytes in all (RFC 1812
    §4.3.2.3), 1280 for ICMPv6 (RFC 4443 §2.4 (c)); IPSEC_MAX_OVERHEAD
    less when it goes back through a tunnel."""
    room = IPSEC_MAX_OVERHEAD if tunnel else 0
    if fam == 4:
        return bytes(IP(src=gateway, dst=IP(about).src, tos=0xC0, ttl=64, id=0, flags="DF") / v4
                     / Raw(about[:576 - 28 - room]))
    return bytes(IPv6(src=gateway, dst=IPv6(about).src, hlim=64) / v6
                 / Raw(about[:1280 - 48 - room]))


def time_exceeded(fam, about, gateway, tunnel=False):
    """ICMP time exceeded (RFC 792; ICMPv6's, RFC 4443 §3.3) about about."""
    from scapy.layers.inet6 import ICMPv6TimeExceeded
    return icmp_error(fam, about, gateway, ICMP(type=11, code=0), ICMPv6TimeExceeded(code=0),
                      tunnel)


def unreachable(fam, about, gateway, tunnel=False):
    """ICMP destination unreachable, net unreachable (RFC 1812 §5.2.7.1;
    ICMPv6's no route to destination, RFC 4443 §3.1) about about."""
    from scapy.layers.inet6 import ICMPv6DestUnreach
    return icmp_error(fam, about, gateway, ICMP(type=3, code=0), ICMPv6DestUnreach(code=0),
                      tunnel)


def too_big(fam, about, gateway, fits, tunnel=False):
    """ICMP fragmentation needed (RFC 1191) or ICMPv6 packet too big (RFC
    4443 §3.2) about about, naming fits."""
    from scapy.layers.inet6 import ICMPv6PacketTooBig
    return icmp_error(fam, about, gateway, ICMP(type=3, code=4, nexthopmtu=fits),
                      ICMPv6PacketTooBig(mtu=fits), tunnel)


def _run(name, seed):
    return Run(name, random.Random("%s/%s" % (seed, name)))


def _transport_cell(run, name, fam, local, k):
    """A GCM transport mode SA pair of family fam between local, one of the
    gateway's addresses, and transport peer k."""
    return Cell(run, name, "aes128gcm16", False, fam, fam, "transport", local,
                T.transport_peer(fam, k))


def _esn_name(esn):
    return "esn" if esn else "noesn"


def _delivered(c, cl, i, seq):
    """Case c sends cl's inner packet i with sequence number seq: forwarded."""
    p = cl.inner_in(i)
    c.send_wan(cl.esp(p, seq))
    c.expect_lan(TR.routed(p))
    c.expect_sa(cl.inb, packets=1)


# ---- tunnel matrix ----------------------------------------------------------

def tunnel_run(alg, esn, seed):
    run = _run("tunnel/%s/%s" % (alg, _esn_name(esn)), seed)
    run.tshark = True
    _tunnel_cells(run, alg, esn)
    return run


def _tunnel_cells(run, alg, esn, encap="none"):
    """Every address-family combination, varied packets both ways."""
    for fam, (inner, outer) in T.FAMILIES.items():
        cell = Cell(run, ("u" if encap == "udp" else "t") + fam, alg, esn, inner, outer,
                    encap=encap)
        c = Case(run, fam + "/outbound")
        pkts = TR.varied(inner, T.lan_host(inner), T.remote_host(inner, cell.k))
        for p in pkts:
            c.send_lan(p, pad_to=60)  # short frames carry Ethernet padding, as on a wire
        c.expect_esp(cell.out, pkts)

        c = Case(run, fam + "/inbound")
        pkts = TR.varied(inner, T.remote_host(inner, cell.k, 6), T.lan_host(inner))
        for p, seq in zip(pkts, _inbound_seqs(len(pkts), esn)):
            c.send_wan(cell.esp(p, seq))
            c.expect_lan(TR.routed(p))
        c.expect_sa(cell.inb, packets=len(pkts), nbytes=sum(len(p) for p in pkts))


def _inbound_seqs(n, esn):
    """1..4, then a jump to just before the end of the 32-bit space and on
    across it (ESN: into the next epoch, the low half restarting at 0; no
    ESN: up to 0xffffffff), neighbours swapped (reordering inside the window)."""
    head = [1, 2, 3, 4]
    start = (1 << 32) - (n - len(head)) // 2 if esn else (1 << 32) - (n - len(head))
    seqs = head + list(range(start, start + n - len(head)))
    for i in range(0, n - 1, 2):
        seqs[i], seqs[i + 1] = seqs[i + 1], seqs[i]
    return seqs


# ---- transport ----------------------------------------------------------------

def transport_run(alg, esn, seed):
    run = _run("transport/%s/%s" % (alg, _esn_name(esn)), seed)
    run.tshark = True
    _transport_cells(run, alg, esn)
    return run


def _transport_cells(run, alg, esn, encap="none", ports4=(4500, 4500), k0=1):
    """IPv4 and IPv6: a LAN host's traffic to a transport peer, and ESP to
    the gateway's own address; ports4: the UDP ports (ours, the peer's) of
    the IPv4 SAs with encap "udp"; k0: the transport peers' first number
    (another k0, 10 on, for another set in the same run)."""
    for fam in (4, 6):
        k = k0 + fam  # k0 1: peers 192.0.2.25 (out), .26 (in); 2001:db8:ff::1b, ::1c
        ports = ports4 if fam == 4 else (4500, 4500)
        cell = Cell(run, "x%d" % fam, alg, esn, fam, fam, "transport", T.lan_host(fam),
                    T.transport_peer(fam, k), encap=encap, ports=ports)
        c = Case(run, "ipv%d/outbound-lan-host" % fam)
        pkts = TR.varied(fam, T.lan_host(fam), cell.remote, fragments=False)
        for p in pkts:
            c.send_lan(p, pad_to=60)
        c.expect_esp(cell.out, pkts)

        # to the gateway's own address: decrypted, then for the host stack,
        # which a pcap run does not have (no exception interface)
        own = T.WAN4_HOST if fam == 4 else T.WAN6_HOST
        cell = Cell(run, "h%d" % fam, alg, esn, fam, fam, "transport", own,
                    T.transport_peer(fam, k + 1), encap=encap, ports=ports)
        c = Case(run, "ipv%d/inbound-to-gateway" % fam)
        n = 8
        for i in range(n):
            p = TR.simple(fam, cell.remote, own, i, size=i * 37)
            c.send_wan(cell.esp(p, i + 1))
            c.expect_drop("no_host")
            c.expect_sa(cell.inb, nbytes=xval_run.protected_len(cell.inb, p))
        bad = bytearray(cell.esp(TR.simple(fam, cell.remote, own, 99), n + 1))
        bad[-1] ^= 0x80
        c.send_wan(bytes(bad))
        c.expect_drop("icv", sa=cell.inb)
        c.expect_sa(cell.inb, packets=n)
        c.send_wan(TR.simple(fam, cell.remote, own, 100))  # clear, but the rule says secure
        c.expect_drop("clear_should_be_secured")
        # IKE (UDP 500 and 4500, and with its non-ESP marker on an SA's own
        # NAT-T port) is exempt from the policy: in the clear to the host
        # stack (none in a pcap run), never "should have been secured"
        for port in sorted({500, 4500, ports[0] if encap == "udp" else 500}):
            c.send_wan(TR.ike(fam, cell.remote, own, port))
            c.expect_drop("no_host")


# ---- 3DES ---------------------------------------------------------------------

DES3 = "3des-sha1_96"  # one run, not the whole matrix: its ESP path is AES-CBC's


def des3_run(seed):
    """3DES-CBC with HMAC-SHA1-96 (the seeds' "High"), without ESN as IKEv1
    negotiates it: 8-byte IVs and blocks, every pad length both ways
    (TR.varied), tunnel and transport, IPv4 and IPv6."""
    run = _run("tunnel+transport/%s/noesn" % DES3, seed)
    run.tshark = True
    _tunnel_cells(run, DES3, False)
    _transport_cells(run, DES3, False)
    return run


# ---- AES-XCBC-MAC-96 and AES-CMAC-96 -------------------------------------------

# RFC 3566 and RFC 4494: each MAC's ESP (with AES-CBC and ESN, with 3DES or
# NULL without: CBC's tags never end in a whole block, theirs do every other
# or fourth time) and AH, one ESN setting each (the ESN high half in AH is
# hashed by scapy itself, in ESP by the reference only), in one dpsecd run
# per MAC: the tunnel matrix, transport mode and the negative cases of each,
# which take the CBC, NULL and AH paths the other runs cover but the MAC
AES_MAC_SETS = {
    "aesxcbc_96": (("aes128-aesxcbc_96", True), ("3des-aesxcbc_96", False),
                   ("ah-aesxcbc_96", False)),
    "aescmac_96": (("aes128-aescmac_96", True), ("null-aescmac_96", False),
                   ("ah-aescmac_96", True)),
}


def aes_mac_run(integ, seed):
    """integ/<integ>: for each of the MAC's sets, the cases of the tunnel/,
    transport/ and neg/ runs, named as there after the run's name (say
    integ/aescmac_96/tunnel/aes128-aescmac_96/esn/4in4/outbound); each
    set's rules and SAs named m<set>..., its transport peers 10 apart."""
    return _integ_run("integ/" + integ, AES_MAC_SETS[integ], seed)


# RFC 4543 AES-GMAC (ENCR_NULL_AUTH_AES_GMAC): integrity only, GCM's nonce
# and ICV over the clear payload, the IV authenticated with it. It takes
# GCM's paths but its engine op (the ICV over SPI/seq, the IV and the
# payload, the payload left as it is), so one run, like the AES MACs': each
# key length with the tunnel matrix, transport mode and the negative cases,
# 128 and 192 with ESN (the high half in the AAD), 256 without
GMAC_SETS = (("aes128gmac", True), ("aes256gmac", False), ("aes192gmac", True))
GMAC_RUN = "integ/aes-gmac"


def gmac_run(seed):
    """integ/aes-gmac: GMAC_SETS as aes_mac_run's sets (cases named, say,
    integ/aes-gmac/neg/aes256gmac/noesn/icv-flip-iv)."""
    return _integ_run(GMAC_RUN, GMAC_SETS, seed)


def _integ_run(name, sets, seed):
    """Run name holding, for each (alg, esn) of sets, the cases of the
    tunnel/, transport/ and neg/ runs, named as there after the run's name;
    each set's rules and SAs named m<set>..., its transport peers 10 apart."""
    run = _run(name, seed)
    run.tshark = True
    for i, (alg, esn) in enumerate(sets):
        tail = "%s/%s/" % (alg, _esn_name(esn))
        run.sa_prefix = "m%d" % i
        run.case_prefix = "tunnel/" + tail
        _tunnel_cells(run, alg, esn)
        run.case_prefix = "transport/" + tail
        _transport_cells(run, alg, esn, k0=1 + 10 * i)
        run.case_prefix = "neg/" + tail
        (_ah_neg_cases if E.ALGS[alg]["ah"] else _neg_cases)(run, alg, esn)
    run.case_prefix = run.sa_prefix = ""
    return run


# ---- negative cases, per algorithm and ESN ------------------------------------

def neg_run(alg, esn, seed):
    run = _run("neg/%s/%s" % (alg, _esn_name(esn)), seed)
    _neg_cases(run, alg, esn)
    return run


def _neg_cases(run, alg, esn):
    """The ESP negative cases of neg_run, for alg and esn, in run."""
    def cell(name):
        return Cell(run, name, alg, esn)

    def ok(c, cl, i, seq, **kw):
        p = cl.inner_in(i, **kw)
        c.send_wan(cl.esp(p, seq))
        c.expect_lan(TR.routed(p))
        c.expect_sa(cl.inb, packets=1)

    # a bit flipped in the ciphertext, the ICV, the IV: ICV failure, nothing
    # forwarded. NULL (RFC 2410) has no IV and its "ciphertext" is the clear
    # payload; in place of the IV its clear next header, which must fail the
    # ICV too, not reach the trailer checks (drop_bad_next_header). AES-GMAC
    # (RFC 4543) has both: an IV (in its ICV) and a clear payload and trailer
    icv = E.ALGS[alg]["icv"]
    where_all = ("ciphertext", "icv") + (("iv",) if E.ALGS[alg]["iv"] else ()) + \
        (("trailer",) if E.clear_payload(E.ALGS[alg]) else ())
    for where in where_all:
        cl = cell("icv_" + where)
        c = Case(run, "icv-flip-" + where)
        ok(c, cl, 1, 1)
        bad = bytearray(cl.esp(cl.inner_in(2), 2))
        off = E.esp_offset(bad)
        idx = {"ciphertext": off + 8 + cl.inb.p["iv"] + 3, "icv": len(bad) - 1,
               "iv": off + 8 + 1, "trailer": len(bad) - icv - 1}[where]
        bad[idx] ^= 0x10
        c.send_wan(bytes(bad), inner=cl.inner_in(2))
        c.expect_drop("icv", sa=cl.inb)
        ok(c, cl, 3, 3)

    # a forged packet must not move the window: the genuine one with the same
    # sequence number is accepted afterwards (also with a forged seq field)
    cl = cell("icv_window")
    c = Case(run, "icv-fail-keeps-window")
    ok(c, cl, 1, 1)
    bad = bytearray(cl.esp(cl.inner_in(2), 2))
    bad[-2] ^= 0x01
    c.send_wan(bytes(bad), inner=cl.inner_in(2))
    c.expect_drop("icv", sa=cl.inb)
    ok(c, cl, 2, 2)
    bad = bytearray(cl.esp(cl.inner_in(3), 3))
    off = E.esp_offset(bad)
    bad[off + 4:off + 8] = struct.pack("!I", 5)  # the sequence number is authenticated
    c.send_wan(bytes(bad), inner=cl.inner_in(3))
    c.expect_drop("icv", sa=cl.inb)
    ok(c, cl, 5, 5)

    _replay_cases(run, cell, ok, esn)

    # authenticated packets with a wrong trailer
    align = E.ALGS[alg]["align"]
    cl = cell("padding")
    c = Case(run, "bad-padding-bytes")
    p = cl.inner_in(1)
    n = E.min_pad(cl.inb, len(p)) + align
    pad = bytearray(E.default_padding(n))
    pad[n // 2] ^= 0x40
    c.send_wan(cl.seal(p, 1, nh=E.NH_IPV4, padding=bytes(pad)), inner=p)
    c.expect_drop("bad_padding", sa=cl.inb)
    ok(c, cl, 2, 2)

    cl = cell("padlen")
    c = Case(run, "bad-pad-length")
    p = cl.inner_in(1, size=0)
    pad = E.default_padding(E.min_pad(cl.inb, len(p)))
    c.send_wan(cl.seal(p, 1, nh=E.NH_IPV4, padding=pad, padlen=len(p) + len(pad) + 1), inner=p)
    c.expect_drop("bad_padding", sa=cl.inb)
    ok(c, cl, 2, 2)

    cl = cell("longpad")
    c = Case(run, "long-padding-accepted")
    p = cl.inner_in(1)
    c.send_wan(cl.seal(p, 1, nh=E.NH_IPV4,
                       padding=E.default_padding(E.min_pad(cl.inb, len(p)) + 64)))
    c.expect_lan(TR.routed(p))
    c.expect_sa(cl.inb, packets=1)

    cl = cell("nh")
    c = Case(run, "bad-next-header")
    c.send_wan(cl.seal(cl.inner_in(1), 1, nh=6))  # TCP in a tunnel SA
    c.expect_drop("bad_next_header", sa=cl.inb)
    ok(c, cl, 2, 2)

    cl = cell("dummy")
    c = Case(run, "dummy-packet")
    c.send_wan(cl.seal(bytes(range(40)), 1, nh=59))  # RFC 4303 §2.6: discarded
    c.expect_drop("dummy", sa=cl.inb)
    ok(c, cl, 2, 2)

    # decrypted fine, but the inner packet is not the rule's traffic. The SA
    # did decrypt it: its packet count includes it (what SA lifetimes count,
    # as in Linux XFRM and VPP), and its drop count too.
    cl = cell("mismatch")
    other = cell("other")
    c = Case(run, "inner-policy-mismatch")
    ok(c, cl, 1, 1)
    wrong = [TR.simple(4, "10.99.0.5", T.HOST4, 2),                      # source outside
             TR.simple(4, T.remote_host(4, cl.k, 6), "10.1.1.10", 3),    # destination outside
             other.inner_in(4),                                          # another rule's
             TR.simple(6, "2001:db8:%x::6" % cl.k, T.HOST6, 5)]          # IPv6 in a v4 rule
    for s, p in enumerate(wrong, 2):
        c.send_wan(cl.esp(p, s), inner=p)
        c.expect_drop("inner_policy_mismatch", sa=cl.inb)
        c.expect_sa(cl.inb, packets=1)
    ok(c, cl, 6, 6)

    # too short for the SA
    cl = cell("trunc")
    c = Case(run, "truncated")
    ok(c, cl, 1, 1)
    hdr = cl.outer_hdr(cl.inner_in(0))
    spi = struct.pack("!I", cl.inb.spi)
    p = cl.inb.p
    for esp in (spi,                                                   # no sequence number
                spi + struct.pack("!I", 2),                            # nothing after it
                spi + struct.pack("!I", 2) + bytes(p["iv"] + p["icv"])):  # no ciphertext
        c.send_wan(E.ip_with_payload(hdr, 50, esp))
        c.expect_drop("esp_truncated")
    full = cl.esp(cl.inner_in(2), 2)
    cut = full[:-2]  # misaligned: not whole 4-byte words (GCM, NULL) / blocks (CBC)
    c.send_wan(E.ip_with_payload(IP(cut[:20]) if cl.outer == 4 else IPv6(cut[:40]), 50,
                                 cut[E.esp_offset(cut):]), inner=cl.inner_in(2))
    c.expect_drop("esp_truncated")
    ok(c, cl, 2, 2)  # the truncated one did not take seq 2
    c.expect_sa(cl.inb, drops=None)

    # routing after decryption: TTL 1 cannot be forwarded; its source is
    # told back through the tunnel, from the gateway's LAN address
    cl = cell("ttl")
    c = Case(run, "inner-ttl-expired")
    p = cl.inner_in(1, ttl=1)
    c.send_wan(cl.esp(p, 1), inner=p)
    c.expect_drop("ttl_exceeded")
    c.expect_icmp_back(cl.out, time_exceeded(4, p, T.LAN4, tunnel=True))
    c.expect_sa(cl.inb, packets=1)  # decrypted: the SA counts it; routing drops it
    ok(c, cl, 2, 2, ttl=2)
    c = Case(run, "outbound-ttl-expired")
    p = cl.inner_out(3, ttl=1)
    c.send_lan(p)
    c.expect_drop("ttl_exceeded")
    c.expect_icmp(time_exceeded(4, p, T.LAN4))
    c.expect_sa(cl.out, drops=None)


def _replay_cases(run, cell, ok, esn):
    """Anti-replay (RFC 4303 §3.4.3, RFC 4302 §3.4.3), the same for ESP and
    AH: cell(name) makes a tunnel cell of the run's SA type, ok(c, cl, i,
    seq) sends its inner packet i with sequence number seq, which must pass."""
    # duplicates inside the window
    cl = cell("dup")
    c = Case(run, "replay-duplicate")
    pk = {s: cl.esp(cl.inner_in(s), s) for s in (1, 2, 3)}
    for s in (1, 2):
        c.send_wan(pk[s])
        c.expect_lan(TR.routed(cl.inner_in(s)))
    c.send_wan(pk[2], inner=cl.inner_in(2))
    c.send_wan(pk[1], inner=cl.inner_in(1))
    c.expect_drop("replay", 2, sa=cl.inb)
    c.send_wan(pk[3])
    c.expect_lan(TR.routed(cl.inner_in(3)))
    c.expect_sa(cl.inb, packets=3)

    # the window's left edge (64 packets): top-63 accepted, top-64 and far
    # behind refused. With ESN, RFC 4303 Appendix A places a number left of
    # the window in the next epoch (high half + 1), so the ICV fails instead.
    cl = cell("window")
    c = Case(run, "replay-window-edge")
    for s in (1, 200, 137):
        ok(c, cl, s, s)
    for s in (136, 100):
        c.send_wan(cl.esp(cl.inner_in(s), s), inner=cl.inner_in(s))
        c.expect_drop("icv" if esn else "replay", sa=cl.inb)
    ok(c, cl, 150, 150)
    c.send_wan(cl.esp(cl.inner_in(150), 150), inner=cl.inner_in(150))
    c.expect_drop("replay", sa=cl.inb)
    ok(c, cl, 201, 201)

    # sequence number 0 is never sent (RFC 4303 §3.3.3)
    cl = cell("seq0")
    c = Case(run, "replay-seq-zero")
    ok(c, cl, 1, 1)
    c.send_wan(cl.esp(cl.inner_in(0), 0), inner=cl.inner_in(0))
    c.expect_drop("replay", sa=cl.inb)
    ok(c, cl, 2, 2)

    # the end of the 32-bit space
    cl = cell("wrap")
    c = Case(run, "seq-wrap")
    ok(c, cl, 1, 1)
    ok(c, cl, 2, 0xFFFFFFFF)
    if esn:
        ok(c, cl, 3, (1 << 32) | 5)           # low half restarts: next epoch
        ok(c, cl, 4, 0xFFFFFFF0)              # late packet of the previous epoch, in window
        c.send_wan(cl.esp(cl.inner_in(4), 0xFFFFFFF0), inner=cl.inner_in(4))
        c.expect_drop("replay", sa=cl.inb)
        c.send_wan(cl.esp(cl.inner_in(6), 6), inner=cl.inner_in(6))  # high half 0 in the ICV, receiver infers 1
        c.expect_drop("icv", sa=cl.inb)
        ok(c, cl, 7, (1 << 32) | 7)
    else:
        c.send_wan(cl.esp(cl.inner_in(3), 5), inner=cl.inner_in(3))  # no ESN: cannot wrap, 5 is far behind
        c.expect_drop("replay", sa=cl.inb)
        ok(c, cl, 4, 0xFFFFFFF0)

    if esn:
        # one burst: a jump to the end of epoch 0, then a packet of epoch 1.
        # Processed in order (RFC 4303 Appendix A), all three are accepted.
        cl = cell("epochjump")
        c = Case(run, "esn-epoch-change-within-one-burst", contiguous=True)
        ok(c, cl, 1, 1)
        ok(c, cl, 2, 0xFFFFFFFF)
        ok(c, cl, 3, (1 << 32) | 1)


# ---- AH (RFC 4302): negative cases and mutable fields -------------------------

def ah_neg_run(alg, esn, seed):
    """AH SAs: tampered immutable fields and payload (drop_icv), tampered
    mutable fields (accepted: the ICV leaves them out), replay, header
    length and truncation (drop_ah_bad_length), SPIs of the wrong protocol
    (the SAD key includes it), next header, inner policy, IPv6 extension
    headers before AH; the time exceeded about an inner packet with TTL 1
    back through the tunnel."""
    run = _run("neg/%s/%s" % (alg, _esn_name(esn)), seed)
    _ah_neg_cases(run, alg, esn)
    return run


def _ah_neg_cases(run, alg, esn):
    """The AH negative cases of ah_neg_run, for alg and esn, in run
    (transport peers 30 and 31)."""
    def cell(name, fam=4):
        return Cell(run, name, alg, esn, fam, fam)

    def ok(c, cl, i, seq, **kw):
        p = cl.inner_in(i, **kw)
        c.send_wan(cl.esp(p, seq))
        c.expect_lan(TR.routed(p))
        c.expect_sa(cl.inb, packets=1)

    def tampered(c, cl, i, seq, fn, reason="icv"):
        """cl's AH packet i, changed by fn(bytearray) (the IPv4 checksum
        made right again): dropped for reason."""
        p = cl.inner_in(i)
        b = bytearray(cl.esp(p, seq))
        fn(b)
        if cl.outer == 4:
            _fix_ipv4_sum(b)
        c.send_wan(bytes(b), inner=p)
        c.expect_drop(reason, sa=cl.inb if reason in xval_run.SA_DROPS + ("ah_bad_length",)
                      else None)

    def accepted(c, cl, i, seq, fn, pad_to=0):
        """The same, changed in mutable fields only: forwarded."""
        p = cl.inner_in(i)
        b = bytearray(cl.esp(p, seq))
        fn(b)
        if cl.outer == 4:
            _fix_ipv4_sum(b)
        c.send_wan(bytes(b), pad_to=pad_to)
        c.expect_lan(TR.routed(p))
        c.expect_sa(cl.inb, packets=1)

    def at(b, k, v):  # b[k:k+len(v)] = v
        b[k:k + len(v)] = v

    for fam in (4, 6):
        off = 20 if fam == 4 else 40  # AH's offset
        # the payload, the ICV, the authenticated header fields: ICV failure,
        # and the window stays where it was
        cl = cell("ai%d" % fam, fam)
        c = Case(run, "ipv%d/icv-tampered" % fam)
        ok(c, cl, 1, 1)
        flips = [lambda b: b.__setitem__(-1, b[-1] ^ 0x01),                 # payload
                 lambda b: b.__setitem__(off + 12, b[off + 12] ^ 0x80),     # ICV
                 lambda b: at(b, off + 8, struct.pack("!I", 5)),            # sequence number
                 lambda b: at(b, off + 2, b"\x00\x01"),                     # reserved
                 lambda b: b.__setitem__(off, 41 if fam == 4 else 4)]      # next header
        if fam == 4:
            flips += [lambda b: at(b, 12, bytes([192, 0, 2, 99])),          # source address
                      lambda b: at(b, 4, b"\x12\x34")]                      # identification
        else:
            flips += [lambda b: b.__setitem__(8 + 15, b[8 + 15] ^ 0x40)]    # source address
        if A.ah_len(cl.inb, fam == 6) > A.FIXED + cl.inb.p["icv"]:
            n = A.FIXED + cl.inb.p["icv"]
            flips.append(lambda b: b.__setitem__(off + n, 0x01))             # padding (§3.3.3.2.1)
        for fn in flips:
            tampered(c, cl, 2, 2, fn)
        ok(c, cl, 2, 2)
        ok(c, cl, 5, 5)

        # mutable fields changed en route: the ICV leaves them out (§3.3.3.1)
        cl = cell("am%d" % fam, fam)
        c = Case(run, "ipv%d/mutable-fields-accepted" % fam)
        if fam == 4:
            muts = [lambda b: b.__setitem__(8, 3),                           # TTL
                    lambda b: b.__setitem__(1, 0xB8),                        # DSCP
                    lambda b: b.__setitem__(6, b[6] | 0x40),                 # DF
                    lambda b: (b.__setitem__(8, 200), b.__setitem__(1, 0x28),
                               b.__setitem__(6, 0x40))]
        else:
            muts = [lambda b: b.__setitem__(7, 9),                           # hop limit
                    lambda b: at(b, 0, b"\x6b\x80\x00\x00"),                 # traffic class
                    lambda b: at(b, 1, b"\x0a\xbc\xde"),                     # flow label
                    lambda b: (at(b, 0, b"\x62\x8a\xbc\xde"), b.__setitem__(7, 200))]
        for i, fn in enumerate(muts, 1):
            accepted(c, cl, i, i, fn)
        accepted(c, cl, 9, 9, lambda b: None, pad_to=300)  # L2 bytes after the packet

    # an IPv4 checksum is checked before AH (a router that changes a mutable
    # field fixes it); flags and fragment offset are mutable, but fragments
    # wait for the rest of their packet, which never comes here: dropped
    # when their time runs out (the reass run has whole sets)
    cl = cell("ac4")
    c = Case(run, "ipv4-checksum-and-fragments")
    p = cl.inner_in(1)
    b = bytearray(cl.esp(p, 1))
    b[10] ^= 0xFF
    c.send_wan(bytes(b), inner=p)
    c.expect_drop("ipv4_malformed")
    for flags in (0x20, 0x00):  # offset 64, with MF (a middle fragment) and without (the last)
        b = bytearray(cl.esp(p, 1))
        at(b, 6, bytes([flags, 8]))
        _fix_ipv4_sum(b)
        c.send_wan(bytes(b), inner=p)
        # a fragment but the last carries a multiple of 8 bytes, or none is taken
        short = flags and (len(b) - 20) % 8
        c.expect_drop("esp_fragment" if short else "reass_failed")
    ok(c, cl, 1, 1)

    # anti-replay, the same cases as for ESP
    _replay_cases(run, cell, ok, esn)

    # the header length is the SA's or nothing (§2.2), the packet holds it
    cl = cell("al4")
    cl6 = cell("al6", 6)
    c = Case(run, "ah-bad-length")
    for x in (cl, cl6):
        good = A.ah_len(x.inb, x.outer == 6) // 4 - 2
        off = 20 if x.outer == 4 else 40
        for n in (good + 1, good - 1, 0, 0xFF):
            tampered(c, x, 2, 2, lambda b, n=n, off=off: b.__setitem__(off + 1, n),
                     "ah_bad_length")
        ok(c, x, 2, 2)

    c = Case(run, "ah-truncated")
    for x in (cl, cl6):
        p = x.inner_in(3)
        full = x.esp(p, 3)
        off = 20 if x.outer == 4 else 40
        hdr = x.outer_hdr(p)
        for cut in (4, 8):       # no SPI / no sequence number: before the SA lookup
            c.send_wan(E.ip_with_payload(hdr, A.PROTO_AH, full[off:off + cut]))
            c.expect_drop("ah_bad_length")
        # found the SA, but no ICV, part of it, all but a byte of it (or of the padding)
        for cut in (A.FIXED, A.FIXED + 5, A.ah_len(x.inb, x.outer == 6) - 1):
            c.send_wan(E.ip_with_payload(hdr, A.PROTO_AH, full[off:off + cut]))
            c.expect_drop("ah_bad_length", sa=x.inb)
        ok(c, x, 3, 3)

    # the SAD key is (SPI, protocol, destination): an ESP SA's SPI in AH, an
    # AH SA's in ESP, an unknown SPI, the outbound SA's, another address
    cl = cell("as4")
    esp = Cell(run, "es4", "aes128gcm16", False, 4, 4)
    c = Case(run, "bad-spi")
    p = cl.inner_in(1)
    for spi in (0x7EADBEEF, esp.inb.spi, cl.out.spi):
        b = bytearray(cl.esp(p, 1))
        at(b, 24, struct.pack("!I", spi))
        c.send_wan(bytes(b), inner=p)
    b = bytearray(esp.esp(esp.inner_in(1), 1))
    at(b, 20, struct.pack("!I", cl.inb.spi))
    c.send_wan(bytes(b), inner=esp.inner_in(1))
    ah = cl.esp(p, 1)
    c.send_wan(E.ip_with_payload(IP(src=T.PEER4, dst=T.WAN4_HOST), A.PROTO_AH, ah[20:]), inner=p)
    c.expect_drop("bad_spi", 5)
    ok(c, cl, 1, 1)
    _delivered(c, esp, 2, 1)

    # authenticated, but not what a tunnel SA carries
    cl = cell("an4")
    c = Case(run, "bad-next-header")
    p = cl.inner_in(1)
    c.send_wan(A.build(cl.inb, cl.outer_hdr(p), 6, p, 1), inner=p)  # TCP in a tunnel SA
    c.expect_drop("bad_next_header", sa=cl.inb)
    ok(c, cl, 2, 2)

    cl = cell("ap4")
    other = cell("ao4")
    c = Case(run, "inner-policy-mismatch")
    wrong = [TR.simple(4, "10.99.0.5", T.HOST4, 2), other.inner_in(3),
             TR.simple(6, "2001:db8:%x::6" % cl.k, T.HOST6, 4)]
    for s, p in enumerate(wrong, 1):
        c.send_wan(cl.esp(p, s), inner=p)
        c.expect_drop("inner_policy_mismatch", sa=cl.inb)
        c.expect_sa(cl.inb, packets=1)
    ok(c, cl, 5, 5)

    # IPv6 extension headers before AH would need their mutable options
    # zeroed: refused both ways
    cl = cell("ax6", 6)
    c = Case(run, "ipv6-extension-header-before-ah")
    p = cl.inner_in(1)
    b = cl.esp(p, 1)
    dst_opt = bytes([A.PROTO_AH, 0, 1, 4, 0, 0, 0, 0])  # PadN
    h = IPv6(b[:40])
    h.remove_payload()
    h.nh, h.plen = 60, None
    c.send_wan(bytes(h / Raw(dst_opt + b[40:])), inner=p)
    c.expect_drop("unsupported_ext_headers", sa=cl.inb)
    ok(c, cl, 1, 1)
    # (after a packet that passes: a refused one may have taken a sequence
    # number, which leaves a gap, as with ESP)
    xt = Cell(run, "ax6t", alg, esn, 6, 6, "transport", T.HOST6, T.transport_peer(6, 30))
    q = TR.simple(6, T.HOST6, xt.remote, 2)
    c.send_lan(q)
    c.expect_esp(xt.out, [q])
    c.send_lan(bytes(IPv6(src=T.HOST6, dst=xt.remote) /
                     IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00" * 4)]) /
                     UDP(sport=7, dport=9) / Raw(b"x" * 20)))
    c.expect_drop("unsupported_ext_headers")
    c.expect_sa(xt.out, drops=None)

    # transport mode to the gateway's own address: mutable fields restored
    # and changed ones accepted, immutable ones not
    for fam in (4, 6):
        own = T.WAN4_HOST if fam == 4 else T.WAN6_HOST
        cl = Cell(run, "ah%d" % fam, alg, esn, fam, fam, "transport", own,
                  T.transport_peer(fam, 31))
        c = Case(run, "ipv%d/transport-to-gateway" % fam)
        fns = ([lambda b: b.__setitem__(8, 5), lambda b: b.__setitem__(1, 0xB8)] if fam == 4
               else [lambda b: b.__setitem__(7, 5), lambda b: at(b, 1, b"\x0f\xed\xcb")])
        for i, fn in enumerate([lambda b: None] + fns, 1):
            p = TR.simple(fam, cl.remote, own, i, size=i * 29)
            b = bytearray(cl.esp(p, i))
            fn(b)
            if fam == 4:
                _fix_ipv4_sum(b)
            c.send_wan(bytes(b))
            c.expect_drop("no_host")
            c.expect_sa(cl.inb, packets=1, nbytes=xval_run.protected_len(cl.inb, p))
        b = bytearray(cl.esp(TR.simple(fam, cl.remote, own, 9), 9))
        b[12 if fam == 4 else 8 + 15] ^= 0x01  # the source address
        if fam == 4:
            _fix_ipv4_sum(b)
        c.send_wan(bytes(b))
        c.expect_drop("icv", sa=cl.inb)
    # an AH-verified packet whose TTL runs out: its time exceeded goes back
    # with the tunnel's outbound AH SA, from the gateway's LAN address
    for fam in (4, 6):
        cl = cell("ttl%d" % fam, fam)
        c = Case(run, "ipv%d/inner-ttl-expired" % fam)
        p = cl.inner_in(1, ttl=1)
        c.send_wan(cl.esp(p, 1), inner=p)
        c.expect_drop("ttl_exceeded")
        c.expect_icmp_back(cl.out, time_exceeded(fam, p, T.LAN4 if fam == 4 else T.LAN6,
                                                 tunnel=True))
        c.expect_sa(cl.inb, packets=1)


def _fix_ipv4_sum(b):
    """The IPv4 header checksum of bytearray b made right."""
    hl = (b[0] & 15) * 4
    b[10:12] = b"\x00\x00"
    b[10:12] = struct.pack("!H", checksum(bytes(b[:hl])))


# ---- algorithm-independent cases ----------------------------------------------

def generic_run(seed):
    run = _run("generic", seed)
    alg = "aes128gcm16"
    c4 = Cell(run, "g4", alg, False, 4, 4)
    c6 = Cell(run, "g6", alg, False, 6, 6)
    host4 = Cell(run, "gh4", alg, False, 4, 4, "transport", T.WAN4_HOST,
                 T.transport_peer(4, 40))

    # unknown SPI, or a known SPI with the wrong destination or direction
    c = Case(run, "bad-spi")
    p = c4.inner_in(1)
    e = bytearray(c4.esp(p, 1))
    e[20:24] = struct.pack("!I", 0x7EADBEEF)
    c.send_wan(bytes(e), inner=p)
    esp = c4.esp(p, 2)[20:]
    c.send_wan(E.ip_with_payload(IPv6(src=T.PEER6, dst=T.WAN6), 50, esp), inner=p)   # v4 SA's SPI to v6
    c.send_wan(E.ip_with_payload(IP(src=T.PEER4, dst=T.WAN4_HOST), 50, esp), inner=p)  # other address
    e = bytearray(c4.esp(p, 3))
    e[20:24] = struct.pack("!I", c4.out.spi)                                   # outbound SA's
    c.send_wan(bytes(e))
    e = bytearray(host4.esp(TR.simple(4, host4.remote, host4.local, 1), 1))
    e[20:24] = struct.pack("!I", c4.inb.spi)      # tunnel SA's SPI on the transport address
    c.send_wan(bytes(e))
    c.expect_drop("bad_spi", 5)
    _delivered(c, c4, 4, 4)

    # clear traffic where the policy says secure
    c = Case(run, "clear-should-be-secured")
    c.send_wan(c4.inner_in(10), inner=c4.inner_in(10))
    c.send_wan(c6.inner_in(11), inner=c6.inner_in(11))
    c.expect_drop("clear_should_be_secured", 2)

    # packets to a group (multicast; IPv4's limited broadcast and class E)
    # are never routed, whatever their TTL, and draw no ICMP error (RFC
    # 1812 §5.3.5.1): an IGMP-like TTL 1 among them, from either side
    c = Case(run, "group-destinations")
    udp = UDP(sport=5353, dport=5353) / Raw(b"group")
    for dst, ttl in (("224.0.0.22", 1), ("239.1.2.3", 64), ("255.255.255.255", 64),
                     ("240.0.0.1", 64)):
        c.send_lan(bytes(IP(src=T.HOST4, dst=dst, ttl=ttl) / udp))
    for dst, hlim in (("ff02::16", 1), ("ff02::fb", 255), ("ff05::1:3", 64)):
        c.send_lan(bytes(IPv6(src=T.HOST6, dst=dst, hlim=hlim) / udp))
    c.send_wan(bytes(IP(src=T.PEER4, dst="224.0.0.251", ttl=255) / udp))
    c.expect_drop("multicast", 8)

    # a unicast packet in a link-layer broadcast or multicast frame is
    # neither routed nor taken (RFC 1812 §5.3.4): clear ones that would be
    # forwarded, and a genuine ESP packet to the gateway; a group packet in
    # such a frame is still a group packet
    c = Case(run, "link-broadcast-unicast")
    c.send_lan(TR.simple(4, T.HOST4, T.PERMIT4, 12), dst="ff:ff:ff:ff:ff:ff")
    c.send_lan(TR.simple(6, T.HOST6, "2001:db8:ee::5", 13), dst="33:33:00:00:00:01")
    c.send_wan(TR.simple(4, T.PERMIT4, T.HOST4, 14), dst="01:00:5e:00:00:01",
               inner=TR.simple(4, T.PERMIT4, T.HOST4, 14))
    p = c4.inner_in(60)
    c.send_wan(c4.esp(p, 60), dst="ff:ff:ff:ff:ff:ff", inner=p)
    c.expect_drop("l2_group_unicast", 4)
    c.send_lan(bytes(IP(src=T.HOST4, dst="255.255.255.255") / udp), dst="ff:ff:ff:ff:ff:ff")
    c.expect_drop("multicast")

    # sources no host has, and the gateway's own addresses from outside,
    # are neither forwarded nor taken (RFC 1812 §5.3.7; RFC 4291 §2.5.2,
    # §2.5.3, §2.7); link-local sources and destinations, and loopback and
    # network-0 destinations, never leave their link (RFC 3927 §7, RFC
    # 4291 §2.5.6)
    c = Case(run, "martians")
    for src in ("127.0.0.1", "0.1.2.3", "224.0.0.5", "240.0.0.1", "255.255.255.255"):
        c.send_lan(TR.simple(4, src, T.PERMIT4, 20))
    for src in ("::1", "::", "ff02::1"):
        c.send_lan(TR.simple(6, src, "2001:db8:ee::5", 21))
    for src, dst in ((T.WAN4, T.HOST4), (T.LAN4, T.HOST4), (T.WAN6, T.HOST6)):
        c.send_wan(TR.simple(4 if "." in src else 6, src, dst, 22),
                   inner=TR.simple(4 if "." in src else 6, src, dst, 22))
    c.send_wan(TR.ike(4, "127.0.0.1", T.WAN4, 500))  # to the gateway: not taken either
    c.expect_drop("martian_source", 12)
    for src, dst in ((T.HOST4, "169.254.1.1"), (T.HOST4, "127.0.0.1"), (T.HOST4, "0.0.0.9"),
                     ("169.254.7.7", T.PERMIT4), (T.HOST6, "fe80::1"), (T.HOST6, "::1"),
                     ("fe80::10", "2001:db8:ee::5")):
        c.send_lan(TR.simple(4 if "." in src else 6, src, dst, 23))
    c.send_wan(TR.simple(4, T.PERMIT4, "169.254.1.1", 24))
    c.expect_drop("stays_on_link", 8)

    # the same checks on decrypted packets, which the SA's selectors let
    # through: a tunnel for UDP port 7777 between any addresses; the
    # gateway's own LAN address as a source too (a peer speaking for the
    # gateway to its LAN, as Linux's martian check refuses)
    for fam, any_net in ((4, "0.0.0.0/0"), (6, "::/0")):
        cl = Cell(run, "gm%d" % fam, alg, False, fam, 4, protocol="udp", dst_ports="7777",
                  local_net=any_net, remote_net=any_net)
        ip = IP if fam == 4 else IPv6
        far = T.remote_host(fam, cl.k, 6)
        for seq, (src, dst, reason) in enumerate(
                (("127.0.0.1", T.HOST4, "martian_source"), (T.LAN4, T.HOST4, "martian_source"),
                 (far, "169.254.1.1", "stays_on_link"), (far, "239.1.2.3", "multicast"))
                if fam == 4 else
                (("::1", T.HOST6, "martian_source"), (T.LAN6, T.HOST6, "martian_source"),
                 (far, "fe80::1", "stays_on_link"), (far, "ff05::1:3", "multicast")), 1):
            p = bytes(ip(src=src, dst=dst) / UDP(sport=7777, dport=4000) / Raw(b"x" * 20))
            c.send_wan(cl.esp(p, seq), inner=p)
            c.expect_drop(reason)
        c.expect_sa(cl.inb, packets=4)  # decrypted: the SA counts them; routing drops them

    # the broadcast address of a subnet the gateway is on is not forwarded
    # to it (RFC 2644), clear from either side or decrypted, and draws no
    # ICMP error even when its TTL runs out (RFC 1812 §4.3.2.7)
    c = Case(run, "directed-broadcasts")
    c.send_lan(TR.simple(4, T.HOST4, "192.0.2.255", 15))
    c.send_wan(TR.simple(4, T.PERMIT4, "10.1.0.255", 16),
               inner=TR.simple(4, T.PERMIT4, "10.1.0.255", 16))
    c.send_lan(TR.simple(4, T.HOST4, "10.1.0.255", 17))  # back where it came from
    p = TR.simple(4, T.remote_host(4, c4.k, 6), "10.1.0.255", 18)
    c.send_wan(c4.esp(p, 61), inner=p)
    c.expect_sa(c4.inb, packets=1)  # decrypted: the SA counts it; routing drops it
    c.expect_drop("directed_broadcast", 4)
    c.send_wan(TR.simple(4, T.PERMIT4, "10.1.0.255", 19, ttl=1))
    c.expect_drop("ttl_exceeded")

    # ESP fragments whose packet never completes (a first, a middle and a
    # last with holes between; IPv6 a first and a last): dropped when their
    # time runs out (the reass run has whole sets)
    c = Case(run, "esp-fragments-incomplete")
    p = c4.inner_in(20, size=300)
    full = c4.esp(p, 20)
    h = IP(full[:20])
    h.remove_payload()
    for flags, frag in (("MF", 0), (0, 64), ("MF", 32)):
        f = h.copy()
        f.flags, f.frag = flags, frag
        c.send_wan(E.ip_with_payload(f, 50, full[20:20 + 200] if flags else full[20:]), inner=p)
    p6 = c6.inner_in(21, size=300)
    full6 = c6.esp(p6, 21)
    for off, m in ((0, 1), (50, 0)):
        f = IPv6(src=T.PEER6, dst=T.WAN6) / IPv6ExtHdrFragment(nh=50, offset=off, m=m, id=7) / \
            Raw(full6[40:40 + 200] if m else full6[40:])
        c.send_wan(bytes(f), inner=p6)
    c.expect_drop("reass_failed", 5)
    c.send_wan(full)  # the whole packet afterwards: fine
    c.expect_lan(TR.routed(p))
    c.send_wan(full6)
    c.expect_lan(TR.routed(p6))
    c.expect_sa(c4.inb, packets=1)
    c.expect_sa(c6.inb, packets=1)

    # malformed outer IPv4 headers around a genuine ESP packet
    c = Case(run, "ipv4-malformed")
    good = bytearray(c4.esp(c4.inner_in(30), 30))

    def mangled(fn):
        b = bytearray(good)
        fn(b)
        return bytes(b)

    def fix_sum(b):
        b[10:12] = b"\x00\x00"
        h = IP(bytes(b[:20]))
        h.chksum = None
        b[10:12] = bytes(IP(bytes(h)))[10:12]

    def ihl4(b):
        b[0] = 0x44
        fix_sum(b)

    def too_long(b):
        b[2:4] = struct.pack("!H", len(b) + 20)
        fix_sum(b)

    def too_short(b):
        b[2:4] = struct.pack("!H", 16)
        fix_sum(b)

    def bad_sum(b):
        b[10] ^= 0xFF

    def version5(b):
        b[0] = 0x55
        fix_sum(b)

    for fn in (ihl4, too_long, too_short, bad_sum, version5):
        c.send_wan(mangled(fn), inner=c4.inner_in(30))
    c.expect_drop("ipv4_malformed", 5)
    opt = IP(src=T.PEER4, dst=T.WAN4,
             options=[IPOption_NOP(), IPOption_NOP(), IPOption_NOP(), IPOption_EOL()])
    c.send_wan(E.ip_with_payload(opt, 50, bytes(good[20:])), inner=c4.inner_in(30))
    c.expect_drop("ipv4_options")
    c.send_wan(bytes(good), pad_to=len(good) + 14 + 24)  # L2 bytes past the IP packet: ignored
    c.expect_lan(TR.routed(c4.inner_in(30)))
    c.expect_sa(c4.inb, packets=1)

    c = Case(run, "ipv6-malformed")
    good6 = bytearray(c6.esp(c6.inner_in(31), 31))
    b = bytearray(good6)
    b[4:6] = struct.pack("!H", len(b) - 40 + 8)  # payload length past the frame
    c.send_wan(bytes(b), inner=c6.inner_in(31))
    b = bytearray(good6)
    b[0] = 0x40 | (b[0] & 0x0F)  # version 4 in an IPv6 frame
    c.send_wan_frame(TR.ether(T.WAN_MAC, T.PEER_MAC, b"\x60" + bytes(b[1:]))[:14] + bytes(b))
    c.send_wan_frame(TR.ether(T.WAN_MAC, T.PEER_MAC, bytes(good6))[:14 + 30])  # cut header
    c.expect_drop("ipv6_malformed", 3)
    c.send_wan(bytes(good6))
    c.expect_lan(TR.routed(c6.inner_in(31)))
    c.expect_sa(c6.inb, packets=1)

    # the ethertype, not the version nibble, says which protocol a frame
    # carries: a valid packet of the other version in it is malformed
    e4 = Cell(run, "ge4", alg, False, 4, 4)
    e6 = Cell(run, "ge6", alg, False, 6, 6)
    c = Case(run, "ethertype-mismatch")
    eth = bytes(Ether(dst=T.WAN_MAC, src=T.PEER_MAC))[:12]
    c.send_wan_frame(eth + b"\x08\x00" + e6.esp(e6.inner_in(1), 1), inner=e6.inner_in(1))  # IPv6 in an IPv4 frame
    c.expect_drop("ipv4_malformed")
    c.send_wan_frame(eth + b"\x86\xdd" + e4.esp(e4.inner_in(2), 2), inner=e4.inner_in(2))  # IPv4 in an IPv6 frame
    c.expect_drop("ipv6_malformed")
    _delivered(c, e6, 3, 3)
    _delivered(c, e4, 4, 4)

    c = Case(run, "layer2")
    esp = c4.esp(c4.inner_in(40), 40)
    c.send_wan(esp, dst="02:00:00:00:99:99", inner=c4.inner_in(40))                     # another unicast MAC
    c.expect_drop("not_for_us")
    c.send_wan_frame(bytes(Ether(dst=T.WAN_MAC, src=T.PEER_MAC) / Dot1Q(vlan=5) / IP(esp)))
    c.send_wan_frame(bytes(Ether(dst=T.WAN_MAC, src=T.PEER_MAC, type=0x88B5) / Raw(esp)))
    c.send_wan_frame(TR.ether(T.WAN_MAC, T.PEER_MAC, esp)[:12])  # no ethertype
    c.expect_drop("unsupported_l2", 3)
    c.send_wan(esp)  # the same packet, properly addressed
    c.expect_lan(TR.routed(c4.inner_in(40)))
    c.expect_sa(c4.inb, packets=1)

    # block and permit
    run.conf.add_rule("blk", [{"source": T.lan_net(4), "destination": "10.66.0.0/24",
                               "protocol": "any", "mirrored": True}], action="deny")
    c = Case(run, "policy-block")
    c.send_lan(TR.simple(4, T.HOST4, "10.66.0.5", 1))
    c.send_wan(TR.simple(4, "10.66.0.5", T.HOST4, 2), inner=TR.simple(4, "10.66.0.5", T.HOST4, 2))
    c.expect_drop("policy_block", 2)

    c = Case(run, "default-permit")
    for fam, far in ((4, T.PERMIT4), (6, "2001:db8:ee::5")):
        p = TR.simple(fam, T.lan_host(fam), far, 3, tos=0x2E << 2)
        c.send_lan(p)
        c.expect_wan_clear(TR.routed(p))
        p = TR.simple(fam, far, T.lan_host(fam), 4)
        c.send_wan(p)
        c.expect_lan(TR.routed(p))

    # TTL out: ICMP time exceeded to the source from the gateway's address
    # on the port it came in by; about a decrypted packet, from its LAN
    # address back through the tunnel
    c = Case(run, "ttl-expired")
    for fam, far, i in ((4, T.PERMIT4, 5), (6, "2001:db8:ee::5", 6)):
        p = TR.simple(fam, T.lan_host(fam), far, i, ttl=1)
        c.send_lan(p)
        c.expect_icmp(time_exceeded(fam, p, T.LAN4 if fam == 4 else T.LAN6))
    p = c6.inner_in(7, ttl=1)
    c.send_wan(c6.esp(p, 50), inner=p)
    c.expect_sa(c6.inb, packets=1)  # decrypted: the SA counts it; routing drops it
    c.expect_icmp_back(c6.out, time_exceeded(6, p, T.LAN6, tunnel=True))
    p = TR.simple(4, T.PERMIT4, T.HOST4, 8, ttl=0)
    c.send_wan(p)
    c.expect_icmp(time_exceeded(4, p, T.WAN4), side="wan")
    c.expect_drop("ttl_exceeded", 4)  # groups with TTL 1: group-destinations
    return run


# ---- path MTU (RFC 4301 §8.2) ------------------------------------------------

# The ports' MTU in these runs (net_pcap's default), and what ESP adds: in
# tunnel mode the outer header, in transport mode nothing before the packet's
# own header; then the ESP header, the IV, the payload and its 2-byte trailer
# padded to the cipher's alignment, the ICV (RFC 4303 §2.4, §2.8; GCM: an
# 8-byte IV, 4-byte alignment and a 16-byte ICV, RFC 4106; AES-CBC: a
# 16-byte IV and block, HMAC-SHA1-96's 12-byte ICV, RFC 3602, RFC 2404).
PORT_MTU = 1500
ESP_SIZES = {"aes128gcm16": (8, 4, 16), "aes128-sha1_96": (16, 16, 12)}  # IV, alignment, ICV
AH_HDR = {"ah-sha1_96": 12 + 12}  # RFC 4302 §2: 12 bytes and the ICV, over IPv4 a multiple of 4


def _esp_len(alg, total, kept, outer):
    if alg in AH_HDR:
        return total + outer + AH_HDR[alg]
    iv, align, icv = ESP_SIZES[alg]
    return kept + outer + 8 + iv + (total - kept + 2 + align - 1) // align * align + icv


def _largest_fitting(alg, kept, outer, mtu=PORT_MTU):
    return max(n for n in range(kept, mtu) if _esp_len(alg, n, kept, outer) <= mtu)


def _fragment_data(alg, outer=20, mtu=PORT_MTU):
    """Data bytes in each fragment (but the last) of an IPv4 packet cut for
    a tunnel over outer bytes of outer headers in mtu: a multiple of 8."""
    return (_largest_fitting(alg, 0, outer, mtu) - 20) // 8 * 8


def _sized(fam, src, dst, i, total, df=False, icmp_type=None):
    """An IP packet of total bytes: UDP, or an ICMP(v4) message of type
    icmp_type; DF set if df."""
    if fam == 4:
        ip = IP(src=src, dst=dst, id=i, flags="DF" if df else 0)
        l4 = UDP(sport=30000 + i, dport=4000) if icmp_type is None else ICMP(type=icmp_type, code=1)
    else:
        ip = IPv6(src=src, dst=dst, fl=i)
        l4 = UDP(sport=30000 + i, dport=4000)
    head = ip / l4
    return bytes(head / Raw(bytes((i + k) & 0xFF for k in range(total - len(head)))))


def _too_big_error(fam, about, fits):
    """The error dpsecd must send the LAN host about packet about: from the
    gateway's LAN address."""
    return too_big(fam, about, T.LAN4 if fam == 4 else T.LAN6, fits)


def _fits_and_one_more(run, name, cl, alg, fam, kept, outer):
    """The largest packet that fits goes out protected; one byte more is
    dropped and its source told the size that fits."""
    src, dst = T.lan_host(fam), cl.remote if cl.mode == "transport" else T.remote_host(fam, cl.k)
    fits = _largest_fitting(alg, kept, outer)
    c = Case(run, name)
    ok = _sized(fam, src, dst, 1, fits, df=True)
    c.send_lan(ok)
    c.expect_esp(cl.out, [ok])
    big = _sized(fam, src, dst, 2, fits + 1, df=True)
    c.send_lan(big)
    c.expect_drop("too_big")
    c.expect_icmp(_too_big_error(fam, big, fits))
    return c, src, dst, fits


def path_mtu_run(seed):
    """A packet that no longer fits the WAN port once encapsulated is
    dropped (too_big) and its source told the largest that fits: ICMP
    fragmentation needed (RFC 1191) with IPv4 DF, ICMPv6 packet too big
    (RFC 4443 §3.2). Tunnel mode over IPv4 and IPv6 with GCM, with AES-CBC
    (16-byte blocks) and with AH, transport mode with AES-CBC; nothing is
    said about an ICMP error. IPv4 without DF: in transport mode cut after
    encapsulation (_transport_whole_datagrams; tunnel mode cuts it before,
    the prefrag run)."""
    run = _run("path-mtu", seed)
    for fam, outer in ((4, 20), (6, 40)):
        cl = Cell(run, "gp%d" % fam, "aes128gcm16", False, fam, fam)
        c, src, dst, fits = _fits_and_one_more(run, "tunnel-gcm-ipv%d" % fam, cl, "aes128gcm16",
                                               fam, 0, outer)
        if fam == 4:
            c.send_lan(_sized(4, src, dst, 4, fits + 1, df=True, icmp_type=3))  # an ICMP error
            c.expect_drop("too_big")
    cl = Cell(run, "cp4", "aes128-sha1_96", False, 4, 4)
    _fits_and_one_more(run, "tunnel-cbc-ipv4", cl, "aes128-sha1_96", 4, 0, 20)
    cl = Cell(run, "ap4", "ah-sha1_96", False, 4, 4)
    _fits_and_one_more(run, "tunnel-ah-ipv4", cl, "ah-sha1_96", 4, 0, 20)
    # transport with 16-byte blocks: the 20-byte header that stays in front
    # is not a multiple of them, so it changes where the padding falls
    cl = Cell(run, "tp4", "aes128-sha1_96", False, 4, 4, "transport", T.HOST4,
              T.transport_peer(4, 30))
    c, src, dst, fits = _fits_and_one_more(run, "transport-cbc-ipv4", cl, "aes128-sha1_96", 4,
                                           20, 0)
    _transport_whole_datagrams(run, fits)
    _pmtu_reports_limited(run)
    return run


def _pmtu_reports_limited(run):
    """A router's fragmentation needed about one of our ESP packets, twenty
    times at once: a worker hands the manager ten (its burst; 100 a second
    after) and drops the rest (pmtu_report_limited), so that a flood cannot
    fill the control ring ARP and ND share. The manager records the MTU."""
    cl = Cell(run, "pr4", "aes128gcm16", False, 4, 4)
    quoted = IP(src=cl.local, dst=cl.remote, flags="DF", ttl=63, proto=50) / \
        Raw(struct.pack("!II", cl.out.spi, 1) + bytes(1372))
    report = bytes(IP(src="192.0.2.254", dst=cl.local, ttl=64) /
                   ICMP(type=3, code=4, nexthopmtu=1300) / Raw(bytes(quoted)[:576 - 28]))
    c = Case(run, "pmtu-reports-limited")
    for _ in range(20):
        c.send_wan(report)
    c.expect_control(10, pmtu_reports=10)
    c.expect_drop("pmtu_report_limited", 10)


def _transport_whole_datagrams(run, fits):
    """Transport mode carries whole datagrams (RFC 4303 §3.1.1): IPv4 without
    DF too big for the port once encapsulated leaves in one ESP packet cut
    into fragments that fit; fragments of a datagram (as a host's stack cuts
    one longer than its interface's MTU) are made whole first and leave in
    one ESP packet, itself cut if it does not fit; a datagram longer than a
    packet buffer too (6,000 bytes: made whole in a buffer of the big
    pool)."""
    cl = Cell(run, "tn4", "aes128-sha1_96", False, 4, 4, "transport", T.HOST4,
              T.transport_peer(4, 31))
    src, dst = T.lan_host(4), cl.remote
    c = Case(run, "transport-cbc-ipv4-no-df")
    big = _sized(4, src, dst, 3, fits + 1)
    c.send_lan(big)
    c.expect_esp(cl.out, [big])
    c.expect_cut_after_esp(1, 2)
    cl = Cell(run, "tf4", "aes128gcm16", False, 4, 4, "transport", T.HOST4,
              T.transport_peer(4, 32))
    src, dst = T.lan_host(4), cl.remote
    c = Case(run, "transport-gcm-ipv4-fragments")
    fitting, too_big = _sized(4, src, dst, 5, 1000), _sized(4, src, dst, 6, 1600)
    for f in TR.cut(fitting, 496) + TR.cut(too_big, 1400):
        c.send_lan(f)
    c.expect_reassembled(2)
    c.expect_reassembled(2)
    c.expect_esp(cl.out, [fitting, too_big])
    c.expect_cut_after_esp(1, 2)
    c = Case(run, "transport-gcm-ipv4-fragments-with-df")
    with_df = _sized(4, src, dst, 11, 1600, df=True)  # fragments that say "no further"
    for f in TR.cut(with_df, 1400):
        c.send_lan(f)
    c.expect_reassembled(2)
    c.expect_drop("too_big")
    c.expect_icmp(_too_big_error(4, with_df, _largest_fitting("aes128gcm16", 20, 0)))
    cl = Cell(run, "tl4", "aes128gcm16", False, 4, 4, "transport", T.HOST4,
              T.transport_peer(4, 34))
    src, dst = T.lan_host(4), cl.remote
    c = Case(run, "transport-gcm-ipv4-6000-bytes")
    longer = _sized(4, src, dst, 10, 6000)  # longer than a packet buffer
    for f in TR.cut(longer, 1376):
        c.send_lan(f)
    c.expect_reassembled(5)
    c.expect_esp(cl.out, [longer])
    c.expect_cut_after_esp(1, 5)
    _transport_whole_datagrams6(run)


def _transport_whole_datagrams6(run):
    """The same over IPv6, where only a packet's source may cut it (RFC 8200
    §4.5): a datagram the host's stack cut (scapy's fragment6()) is made
    whole and leaves in one ESP packet, which dpsecd, sending it as the
    host's own, cuts to fit the port (a fragment header behind the IPv6
    header); a whole datagram too big once encapsulated is still refused,
    its source told the size that fits, so that its stack cuts it."""
    cl = Cell(run, "tf6", "aes128gcm16", False, 6, 6, "transport", T.HOST6,
              T.transport_peer(6, 33))
    src, dst = T.lan_host(6), cl.remote
    c = Case(run, "transport-gcm-ipv6-fragments")
    fitting, too_big = _sized(6, src, dst, 7, 1000), _sized(6, src, dst, 8, 1600)
    longer = _sized(6, src, dst, 10, 6000)  # longer than a packet buffer
    for whole, size in ((fitting, 520), (too_big, 1400), (longer, 1400)):
        pieces = TR.cut6(whole, size)
        for f in pieces:
            c.send_lan(f)
        c.expect_reassembled(len(pieces))
    c.expect_esp(cl.out, [fitting, too_big, longer])
    c.expect_cut_after_esp(1, 2)
    c.expect_cut_after_esp(1, 5)
    fits = _largest_fitting("aes128gcm16", 40, 0)
    big = _sized(6, src, dst, 9, fits + 1)
    c.send_lan(big)
    c.expect_drop("too_big")
    c.expect_icmp(_too_big_error(6, big, fits))


def fragment_policy_run(seed):
    """A rule whose filter names a port (UDP to port 4000 of a remote
    network, negotiate; the default permits): a later fragment, which has no
    ports, must take its first fragment's rule (RFC 4301 §7.3), not match as
    ANY ports and leave in clear. Both fragments of a datagram to port 4000
    leave in the tunnel (IPv4, and IPv6 cut by fragment6()), those of one
    to port 5000 in clear; a later
    fragment whose first never came is dropped (fragment_unseen); the
    peer's datagram from port 4000 in two ESP packets, a fragment in each:
    both decrypted and forwarded, the later one checked against the SA's
    rule with its first's ports."""
    run = _run("fragment-policy", seed)
    cl = Cell(run, "fp", "aes128gcm16", False, 4, 4, protocol="udp", dst_ports="4000")
    src, dst = T.lan_host(4), T.remote_host(4, cl.k)
    c = Case(run, "later-fragment-takes-its-first-rule")
    secured = TR.cut(_sized(4, src, dst, 1, 1200), 600)
    clear = TR.cut(_port(_sized(4, src, dst, 2, 1200), 5000), 600)
    for f in secured + clear:
        c.send_lan(f)
    c.expect_esp(cl.out, secured)
    for f in clear:
        c.expect_wan_clear(TR.routed(f))
    cl6 = Cell(run, "fp6", "aes128gcm16", False, 6, 4, protocol="udp", dst_ports="4000")
    c = Case(run, "later-fragment-takes-its-first-rule-ipv6")
    secured = TR.cut6(_sized(6, T.lan_host(6), T.remote_host(6, cl6.k), 5, 1200), 640)
    for f in secured:
        c.send_lan(f)
    c.expect_esp(cl6.out, secured)
    c = Case(run, "later-fragment-alone")
    c.send_lan(TR.cut(_sized(4, src, dst, 3, 1200), 600)[1])
    c.expect_drop("fragment_unseen")
    c = Case(run, "decrypted-later-fragment")
    back = TR.cut(_port(_sized(4, dst, src, 4, 1200), 4000, sport=True), 600)
    for seq, f in enumerate(back, 1):
        c.send_wan(cl.esp(f, seq))
        c.expect_lan(TR.routed(f))
    c.expect_sa(cl.inb, packets=len(back))
    return run


def _port(ip_bytes, port, sport=False):
    """UDP packet ip_bytes with its destination (or source) port changed."""
    p = IP(ip_bytes)
    if sport:
        p[UDP].sport = port
    else:
        p[UDP].dport = port
    p[UDP].chksum = None
    return bytes(p)


def _fragment(whole, offset8, more):
    """whole (IPv4) relabelled as a fragment at offset8 (8-byte units), with
    MF if more: as a host or router before dpsecd had cut it."""
    h = IP(whole)
    h.frag, h.flags, h.chksum = offset8, "MF" if more else 0, None
    return bytes(h)


def prefrag_run(seed):
    """IPv4 without DF too big for its tunnel once encapsulated is cut into
    fragments that fit (RFC 791; the inner packet cut, RFC 4459), every
    fragment protected on its own and checked byte for byte against
    scapy's fragment() of the packet as routed: a whole packet, the
    largest-but-one, a first fragment (its pieces all keep MF) and a later
    one (its pieces' offsets count from its own, the last without MF), with
    GCM, AES-CBC (16-byte blocks) and AH; GCM in UDP (NAT traversal: 8
    bytes less room). And 100 such packets in one
    burst: 200 fragments, sent in rounds of up to a burst, in order, their
    sequence numbers 1..200. A fragment whose pieces would pass 65,535
    bytes is dropped."""
    run = _run("prefrag", seed)
    for alg in ("aes128gcm16", "aes128-sha1_96", "ah-sha1_96"):
        cl = Cell(run, "pf-" + alg, alg, False, 4, 4)
        fits = _largest_fitting(alg, 0, 20)
        src, dst = T.HOST4, T.remote_host(4, cl.k)
        sent = [_sized(4, src, dst, 1, PORT_MTU), _sized(4, src, dst, 2, fits + 1),
                _fragment(_sized(4, src, dst, 3, PORT_MTU), 0, True),
                _fragment(_sized(4, src, dst, 4, PORT_MTU), 185, False)]
        c = Case(run, "tunnel-" + alg)
        for p in sent:
            c.send_lan(p)
        c.expect_esp_cut(cl.out, sent, _fragment_data(alg))
    cl = Cell(run, "pf-natt", "aes128gcm16", False, 4, 4, encap="udp")
    whole = _sized(4, T.HOST4, T.remote_host(4, cl.k), 5, PORT_MTU)
    c = Case(run, "tunnel-natt-aes128gcm16")
    c.send_lan(whole)
    c.expect_esp_cut(cl.out, [whole], _fragment_data("aes128gcm16", outer=28))
    cl = Cell(run, "pf-burst", "aes128gcm16", False, 4, 4)
    c = Case(run, "burst-of-100", contiguous=True)
    dst = T.remote_host(4, cl.k)
    sent = [_sized(4, T.HOST4, dst, 10 + i, PORT_MTU - i % 50) for i in range(100)]
    for p in sent:
        c.send_lan(p)
    c.expect_esp_cut(cl.out, sent, _fragment_data("aes128gcm16"))
    # a last fragment whose pieces would reach past the 65,535 bytes a
    # datagram may have (offset 8100 of 8191, 1480 data bytes): dropped
    cl = Cell(run, "pf-far", "aes128gcm16", False, 4, 4)
    c = Case(run, "beyond-65535")
    c.send_lan(_fragment(_sized(4, T.HOST4, T.remote_host(4, cl.k), 6, PORT_MTU), 8100, False))
    c.expect_drop("too_big")
    return run


def prefrag_narrow_run(seed):
    """A WAN port held to 200 bytes (net_pcap cannot set an MTU: dpsecd
    keeps to it): a 1500-byte packet without DF leaves in 13 fragments of
    120 data bytes, byte for byte scapy's."""
    run = _run("prefrag-narrow", seed)
    run.conf.wan_mtu = 200
    for alg in ("aes128gcm16", "aes128-sha1_96"):
        cl = Cell(run, "pn-" + alg, alg, False, 4, 4)
        whole = _sized(4, T.HOST4, T.remote_host(4, cl.k), 1, PORT_MTU)
        c = Case(run, "wan-200-" + alg)
        c.send_lan(whole)
        c.expect_esp_cut(cl.out, [whole], _fragment_data(alg, mtu=200))
    return run


def prefrag_smallest_run(seed):
    """A WAN of 128 bytes: with GCM, fragments of 68 bytes fit (48 data
    bytes; 68 is the least every IPv4 link carries, RFC 791): a 1500-byte
    packet leaves in 31, byte for byte scapy's. With AES-CBC they would be
    60 bytes: no fragment that small is made, the packet is dropped
    (too_big), without an ICMP error (no DF)."""
    run = _run("prefrag-128", seed)
    run.conf.wan_mtu = 128
    cl = Cell(run, "ps-gcm", "aes128gcm16", False, 4, 4)
    whole = _sized(4, T.HOST4, T.remote_host(4, cl.k), 1, PORT_MTU)
    c = Case(run, "wan-128-aes128gcm16")
    c.send_lan(whole)
    c.expect_esp_cut(cl.out, [whole], _fragment_data("aes128gcm16", mtu=128))
    cl = Cell(run, "ps-cbc", "aes128-sha1_96", False, 4, 4)
    c = Case(run, "wan-128-aes128-sha1_96")
    c.send_lan(_sized(4, T.HOST4, T.remote_host(4, cl.k), 2, PORT_MTU))
    c.expect_drop("too_big")
    return run


def prefrag_too_narrow_run(seed):
    """A WAN of 68 bytes: no room for any data once encapsulated: dropped."""
    run = _run("prefrag-68", seed)
    run.conf.wan_mtu = 68
    cl = Cell(run, "pt", "aes128gcm16", False, 4, 4)
    c = Case(run, "wan-68")
    c.send_lan(_sized(4, T.HOST4, T.remote_host(4, cl.k), 1, PORT_MTU))
    c.expect_drop("too_big")
    return run


PORT_CUT_MTU = 1300  # both ports' MTU in the port-mtu run
FAR6 = "2001:db8:ee::5"  # a clear IPv6 destination beyond the peer (default permit)


def port_mtu_run(seed):
    """Packets forwarded without IPsec, in clear or decrypted, that exceed
    the MTU of the port they leave by, as any router treats them (RFC 1812
    §4.2.2.7, §5.2.6; RFC 8200 §5): IPv4 without DF is cut into fragments
    of that MTU, byte for byte scapy's fragment() of the packet as routed
    (a whole packet, a first fragment whose pieces all keep MF, a later one
    whose offsets count from its own), in either direction and after
    decryption; 60 in one burst leave as 120 fragments in order. IPv4 with
    DF and IPv6 are dropped (too_big) and their source told the MTU (ICMP
    fragmentation needed, ICMPv6 packet too big), on the LAN or beyond the
    peer; about a decrypted packet, from the LAN address back through its
    tunnel, quoting less to leave room for the encapsulation, or not at all
    when the policy would send the error in clear. A packet of exactly the
    MTU passes whole."""
    run = _run("port-mtu", seed)
    run.conf.wan_mtu = run.conf.lan_mtu = PORT_CUT_MTU
    each = (PORT_CUT_MTU - 20) // 8 * 8
    c = Case(run, "lan-to-wan-ipv4")
    fits = _sized(4, T.HOST4, T.PERMIT4, 1, PORT_CUT_MTU)
    c.send_lan(fits)
    c.expect_wan_clear(TR.routed(fits))
    for p in (_sized(4, T.HOST4, T.PERMIT4, 2, PORT_CUT_MTU + 1),
              _fragment(_sized(4, T.HOST4, T.PERMIT4, 3, PORT_MTU), 0, True),
              _fragment(_sized(4, T.HOST4, T.PERMIT4, 4, PORT_MTU), 185, False)):
        c.send_lan(p)
        c.expect_cut_to_port(TR.routed(p), each, side="wan")
    c = Case(run, "lan-to-wan-ipv4-df")
    big = _sized(4, T.HOST4, T.PERMIT4, 5, PORT_CUT_MTU + 1, df=True)
    c.send_lan(big)
    c.expect_drop("too_big")
    c.expect_icmp(_too_big_error(4, big, PORT_CUT_MTU))
    c = Case(run, "lan-to-wan-ipv6")
    big = _sized(6, T.HOST6, FAR6, 6, PORT_CUT_MTU + 1)
    c.send_lan(big)
    c.expect_drop("too_big")
    c.expect_icmp(_too_big_error(6, big, PORT_CUT_MTU))
    c = Case(run, "wan-to-lan-ipv4")
    p = _sized(4, T.PERMIT4, T.HOST4, 7, PORT_MTU)
    c.send_wan(p)
    c.expect_cut_to_port(TR.routed(p), each)
    big = _sized(4, T.PERMIT4, T.HOST4, 8, PORT_MTU, df=True)
    c.send_wan(big)
    c.expect_drop("too_big")
    c.expect_icmp(too_big(4, big, T.WAN4, PORT_CUT_MTU), side="wan")
    cl = Cell(run, "pm-gcm4", "aes128gcm16", False, 4, 4)
    c = Case(run, "decrypted-ipv4")
    p = cl.inner_in(1, size=1400)
    c.send_wan(cl.esp(p, 1))
    c.expect_cut_to_port(TR.routed(p), each)
    big = _sized(4, T.remote_host(4, cl.k), T.HOST4, 2, 1400, df=True)
    c.send_wan(cl.esp(big, 2), inner=big)
    c.expect_drop("too_big")
    c.expect_icmp_back(cl.out, too_big(4, big, T.LAN4, PORT_CUT_MTU, tunnel=True))
    c.expect_sa(cl.inb, packets=2)
    cl = Cell(run, "pm-gcm6", "aes128gcm16", False, 6, 6)
    c = Case(run, "decrypted-ipv6")
    big = cl.inner_in(3, size=1400)
    c.send_wan(cl.esp(big, 1), inner=big)
    c.expect_drop("too_big")
    c.expect_icmp_back(cl.out, too_big(6, big, T.LAN6, PORT_CUT_MTU, tunnel=True))
    c.expect_sa(cl.inb, packets=1)
    # a tunnel for UDP only: the error (ICMP) is not its traffic, and the
    # policy would send it in clear: dropped
    cl = Cell(run, "pm-udp", "aes128gcm16", False, 4, 4, protocol="udp")
    c = Case(run, "decrypted-error-not-secured")
    big = _sized(4, T.remote_host(4, cl.k), T.HOST4, 4, 1400, df=True)
    c.send_wan(cl.esp(big, 1), inner=big)
    c.expect_drop("too_big")
    c.expect_icmp_dropped("icmp_error_unsecured")
    c.expect_sa(cl.inb, packets=1)
    c = Case(run, "burst-of-60", contiguous=True)
    sent = [_sized(4, T.HOST4, T.PERMIT4, 20 + i, PORT_MTU - i % 50) for i in range(60)]
    for p in sent:
        c.send_lan(p)
    for p in sent:
        c.expect_cut_to_port(TR.routed(p), each, side="wan")
    return run


ERR_MTU = 1400  # the WAN port's MTU in the error-policy run


def error_policy_run(seed):
    """The ICMP errors dpsecd makes are the gateway's own packets and go
    through the outbound policy like any other (RFC 4301 §5): a rule that
    secures the gateway's traffic to the source carries the error in its SA
    (here transport mode from the WAN address, time exceeded about a clear
    packet from that source), a block rule drops it (time exceeded, too big
    for the WAN port, too big once encapsulated: each made, then dropped as
    policy_block), while the packets they are about are treated as ever."""
    run = _run("error-policy", seed)
    run.conf.wan_mtu = ERR_MTU
    for fam in (4, 6):
        src = T.WAN4 if fam == 4 else T.WAN6
        cl = _transport_cell(run, "es%d" % fam, fam, src, 40)
        c = Case(run, "secured/ipv%d" % fam)
        p = TR.simple(fam, cl.remote, T.lan_host(fam), fam, ttl=1)
        c.send_wan(p)
        c.expect_drop("ttl_exceeded")
        c.expect_icmp_back(cl.out, time_exceeded(fam, p, src))
    for fam, proto in ((4, "icmp"), (6, "icmpv6")):
        gw = T.LAN4 if fam == 4 else T.LAN6
        gw_to_lan = {"source": T.host_prefix(gw), "destination": T.lan_net(fam),
                     "protocol": proto, "mirrored": False}
        run.conf.add_rule("eb%d" % fam, [gw_to_lan], action="deny")
    cl = Cell(run, "et4", "aes128gcm16", False, 4, 4)
    c = Case(run, "blocked")
    for fam, far in ((4, T.PERMIT4), (6, FAR6)):
        p = TR.simple(fam, T.lan_host(fam), far, 10 + fam, ttl=1)
        c.send_lan(p)
        c.expect_drop("ttl_exceeded")
        c.expect_icmp_dropped("policy_block")
        big = _sized(fam, T.lan_host(fam), far, 20 + fam, ERR_MTU + 1, df=True)
        c.send_lan(big)
        c.expect_drop("too_big")
        c.expect_icmp_dropped("policy_block")
    big = _sized(4, T.HOST4, T.remote_host(4, cl.k), 30, ERR_MTU - 20, df=True)
    c.send_lan(big)
    c.expect_drop("too_big")
    c.expect_icmp_dropped("policy_block")
    c = Case(run, "not-about-gateway")  # the blocked traffic is the gateway's only
    p = TR.simple(4, T.HOST4, T.PERMIT4, 40)
    c.send_lan(p)
    c.expect_wan_clear(TR.routed(p))
    p = cl.inner_out(41)
    c.send_lan(p)
    c.expect_esp(cl.out, [p])
    return run


def error_default_block_run(seed):
    """With default_action "block", an error no rule permits is dropped as
    any other unmatched packet, though the packet it is about was
    permitted; a rule permitting the gateway's ICMPv6 to the LAN lets it
    through."""
    run = _run("error-default-block", seed)
    run.conf.default_action = "block"
    for fam, far in ((4, T.PERMIT4), (6, FAR6)):
        lan_far = {"source": T.lan_net(fam), "destination": T.host_prefix(far),
                   "protocol": "any", "mirrored": True}
        run.conf.add_rule("ok%d" % fam, [lan_far], action="allow")
    run.conf.add_rule("icmp6", [{"source": T.host_prefix(T.LAN6), "destination": T.lan_net(6),
                                 "protocol": "icmpv6", "mirrored": False}], action="allow")
    c = Case(run, "permitted")
    for fam, far in ((4, T.PERMIT4), (6, FAR6)):
        p = TR.simple(fam, T.lan_host(fam), far, fam)
        c.send_lan(p)
        c.expect_wan_clear(TR.routed(p))
    c = Case(run, "error-unmatched")
    p = TR.simple(4, T.HOST4, T.PERMIT4, 5, ttl=1)
    c.send_lan(p)
    c.expect_drop("ttl_exceeded")
    c.expect_icmp_dropped("policy_block")
    c = Case(run, "error-permitted")
    p = TR.simple(6, T.HOST6, FAR6, 6, ttl=1)
    c.send_lan(p)
    c.expect_drop("ttl_exceeded")
    c.expect_icmp(time_exceeded(6, p, T.LAN6))
    return run


def outer_header_run(seed):
    """The outer IPv4 header's DF as each SA says (RFC 4301 §8.1, df_bit):
    copied from the inner IPv4 header (and clear for inner IPv6) by
    default, always set, or always clear; for ESP (GCM, IPv4 and IPv6
    inside) and AH, with inner packets with and without DF, the outer
    header checked by EspOut against scapy's decryption. And the outer
    DSCP (dscp): copied, or fixed with the inner ECN kept (RFC 6040), over
    IPv4 and IPv6 tunnels, ESP and AH, inner packets with DSCP and ECN set."""
    run = _run("outer-header", seed)
    for name, alg, dscp, outer in (("qc", "aes128gcm16", None, 4), ("qf", "aes128gcm16", 10, 4),
                                   ("q6", "aes128gcm16", 46, 6), ("qa", "ah-sha1_96", 0, 4)):
        for inner in (4, 6):
            cl = Cell(run, "%s%d" % (name, inner), alg, False, inner, outer)
            cl.out.dscp = dscp
            c = Case(run, "%s/dscp-%s/ipv%d-in-ipv%d" % (alg, dscp, inner, outer))
            sent = [cl.inner_out(i, tos=tos) for i, tos in enumerate((0x2E << 2 | 1, 0x08 | 3, 0))]
            for p in sent:
                c.send_lan(p)
            c.expect_esp(cl.out, sent)
    for name, alg, df in (("dc", "aes128gcm16", "copy"), ("ds", "aes128gcm16", "set"),
                          ("dx", "aes128gcm16", "clear"), ("as", "ah-sha1_96", "set"),
                          ("ax", "ah-sha256_128", "clear")):
        for inner in (4, 6):
            cl = Cell(run, "%s%d" % (name, inner), alg, False, inner, 4)
            cl.out.df_bit = df
            c = Case(run, "%s/%s/ipv%d-in-ipv4" % (alg, df, inner))
            sent = []
            for i, with_df in enumerate((False, True)):
                p = cl.inner_out(i)
                if inner == 4 and with_df:
                    h = IP(p)
                    h.flags, h.chksum = "DF", None
                    p = bytes(h)
                sent.append(p)
                c.send_lan(p)
            c.expect_esp(cl.out, sent)
    return run


# RFC 6040 §4.2, Figure 4, by codepoint (0 Not-ECT, 1 ECT(1), 2 ECT(0),
# 3 CE): for each arriving inner ECN field, the one the packet leaves with
# under each arriving outer one; None: dropped.
ECN_EGRESS = {0: (0, 0, 0, None), 1: (1, 1, 1, 3), 2: (2, 1, 2, 3), 3: (3, 3, 3, 3)}
ECN_UNUSED = {(0, 1), (0, 2), (3, 1)}  # (inner, outer) the figure marks (!!!), not dropped


def with_ecn(ip_bytes, ecn):
    """ip_bytes with its ECN field ecn (scapy rebuilds the IPv4 checksum)."""
    if ip_bytes[0] >> 4 == 4:
        h = IP(ip_bytes)
        h.tos, h.chksum = h.tos & ~3 | ecn, None
    else:
        h = IPv6(ip_bytes)
        h.tc = h.tc & ~3 | ecn
    return bytes(h)


def ecn_egress_run(seed):
    """At the tunnel's egress the outer header's ECN field, as routers on
    the way left it, is merged into the decapsulated packet's (RFC 6040
    §4.2): every combination of inner and outer codepoint, for ESP over
    IPv4 and IPv6 and AH, each packet built and protected by scapy and
    the one delivered compared byte for byte with the figure's (DSCP
    kept, IPv4 checksum scapy's); CE outside a packet that is not
    ECN-capable dropped (ecn_ce_not_ect), the combinations the RFC calls
    unused counted (ecn_unused_combinations)."""
    run = _run("ecn-egress", seed)
    i = 0
    for name, alg, inner, outer in (("xg", "aes128gcm16", 4, 4), ("x6", "aes128-sha256_128", 6, 6),
                                    ("xa", "ah-sha1_96", 6, 4)):
        cl = Cell(run, name, alg, False, inner, outer)
        seq = 1
        for inner_ecn, leaves in sorted(ECN_EGRESS.items()):
            c = Case(run, "%s/ipv%d-in-ipv%d/inner-ecn-%d" % (alg, inner, outer, inner_ecn))
            for outer_ecn, want in enumerate(leaves):
                p = cl.inner_in(i, tos=0x2E << 2 | inner_ecn)
                i += 1
                sent = cl.esp(p, seq, outer_ecn=outer_ecn)
                seq += 1
                if want is None:
                    c.send_wan(sent, inner=p)
                    c.expect_drop("ecn_ce_not_ect", sa=cl.inb)
                    continue
                c.send_wan(sent)
                c.expect_lan(TR.routed(with_ecn(p, want)))
                c.expect_sa(cl.inb, packets=1)
                if (inner_ecn, outer_ecn) in ECN_UNUSED:
                    c.counters["ecn_unused_combinations"] += 1
    return run


UNROUTED = {4: "203.0.113.5", 6: "2001:db9::5"}  # no route covers these


def no_route_run(seed):
    """A packet with no route is dropped (no_route) and its source sent ICMP
    destination unreachable, net unreachable (RFC 1812 §5.2.7.1; ICMPv6 no
    route to destination, RFC 4443 §3.1), byte for byte scapy's: from the
    LAN address to a LAN host, from the WAN address to a source beyond the
    peer, quoting the packet as it arrived; about a decrypted packet (a
    tunnel whose selector on our side is everything), from the LAN address
    back through the tunnel. Nothing about an ICMP error or a later
    fragment."""
    run = _run("no-route", seed)
    c = Case(run, "from-lan")
    for fam in (4, 6):
        p = TR.simple(fam, T.lan_host(fam), UNROUTED[fam], fam)
        c.send_lan(p)
        c.expect_drop("no_route")
        c.expect_icmp(unreachable(fam, p, T.LAN4 if fam == 4 else T.LAN6))
    c = Case(run, "from-wan")
    for fam, far in ((4, T.PERMIT4), (6, FAR6)):
        p = TR.simple(fam, far, UNROUTED[fam], 10 + fam)
        c.send_wan(p)
        c.expect_drop("no_route")
        c.expect_icmp(unreachable(fam, p, T.WAN4 if fam == 4 else T.WAN6), side="wan")
    c = Case(run, "not-told")
    c.send_lan(_sized(4, T.HOST4, UNROUTED[4], 20, 100, icmp_type=3))  # an ICMP error
    c.send_lan(_fragment(_sized(4, T.HOST4, UNROUTED[4], 21, 100), 10, False))
    c.expect_drop("no_route", 2)
    for fam in (4, 6):
        cl = Cell(run, "nr%d" % fam, "aes128gcm16", False, fam, fam,
                  local_net="0.0.0.0/0" if fam == 4 else "::/0")
        c = Case(run, "decrypted/ipv%d" % fam)
        p = TR.simple(fam, T.remote_host(fam, cl.k), UNROUTED[fam], 30 + fam)
        c.send_wan(cl.esp(p, 1))
        c.expect_sa(cl.inb, packets=1)
        c.expect_drop("no_route")
        c.expect_icmp_back(cl.out, unreachable(fam, p, T.LAN4 if fam == 4 else T.LAN6,
                                               tunnel=True))
    return run


def _outer_fragment(whole, offset8, more, data):
    """The IPv4 header of whole as a fragment at offset8 (8-byte units),
    with MF if more, carrying data."""
    h = IP(whole[:20])
    h.remove_payload()
    h.frag, h.flags, h.len, h.chksum = offset8, "MF" if more else 0, None, None
    return bytes(h / Raw(data))


def _reassembled(c, cl, frags, inner, order=None):
    """Case c sends frags (of one packet protecting inner, in order, or in
    the order of the indexes given): reassembled, then forwarded."""
    for i in order or range(len(frags)):
        c.send_wan(frags[i], inner=inner)
    c.expect_reassembled(len(frags))
    c.expect_lan(TR.routed(inner))
    c.expect_sa(cl.inb, packets=1)


def reass_run(seed):
    """ESP and AH packets that reach the gateway in fragments (a path
    narrower than the peer's packets with the outer DF clear; IPv6 cut at
    the source) are reassembled before they are processed (RFC 4303
    §3.4.1, RFC 4302 §3.4.1). Fragments cut by scapy's fragment() and
    fragment6(): in order, the last first, two packets' interleaved; GCM,
    AES-CBC + HMAC-SHA1 and AH, tunnel and transport mode, IPv4 and IPv6;
    each packet decrypts to the one sent; ESP in UDP over IPv4 and IPv6,
    whose later fragments are taken once its first came, two packets at
    once whose first fragments dpsecd remembers in one set, and one whose
    later fragment came first (held until the first shows whose it is);
    IKE's fragments are the host's as they came, or made whole for it
    when the later came first. What cannot make a
    packet is dropped and counted: a lone fragment once its time runs out,
    a duplicate, an overlap, a ninth fragment; fragments empty, not a
    multiple of 8 bytes before the last, reaching past 65,535 bytes, or
    behind another IPv6 header. A fragment changed on
    the way fails its packet's ICV. A packet longer than a packet buffer is
    made whole in a buffer of the big pool, decrypted, and its inner packet
    cut to fit the LAN port."""
    run = _run("reass", seed)
    ids = iter(range(101, 1000))  # IPv4 identification: one packet each, as a peer numbers them
    gcm = None
    for alg in ("aes128gcm16", "aes128-sha1_96", "ah-sha1_96"):
        cl = Cell(run, "r4-" + alg, alg, False, 4, 4)
        gcm = gcm or cl
        c = Case(run, "ipv4-tunnel-" + alg)
        p = cl.inner_in(1, size=1400)
        _reassembled(c, cl, TR.cut(cl.esp(p, 1, id=next(ids)), 600), p)
        p = cl.inner_in(2, size=1400)
        _reassembled(c, cl, TR.cut(cl.esp(p, 2, id=next(ids)), 600), p, order=(2, 1, 0))
    c = Case(run, "ipv4-interleaved")
    pa, pb = gcm.inner_in(3, size=1400), gcm.inner_in(4, size=1000)
    a, b = TR.cut(gcm.esp(pa, 3, id=next(ids)), 600), TR.cut(gcm.esp(pb, 4, id=next(ids)), 600)
    assert (len(a), len(b)) == (3, 2)
    for f in (a[0], b[0], a[1], b[1], a[2]):  # b completes first, then a
        c.send_wan(f, inner=pa)
    c.expect_reassembled(2)
    c.expect_lan(TR.routed(pb))
    c.expect_reassembled(3)
    c.expect_lan(TR.routed(pa))
    c.expect_sa(gcm.inb, packets=2)
    for alg in ("aes128gcm16", "ah-sha256_128"):
        cl = Cell(run, "r6-" + alg, alg, False, 6, 6)
        c = Case(run, "ipv6-tunnel-" + alg)
        p = cl.inner_in(5, size=1400)
        _reassembled(c, cl, TR.cut6(cl.esp(p, 1), 600, next(ids)), p)
    cl6 = cl
    # ESP in UDP (RFC 3948): only the first fragment shows the NAT-T port;
    # the later ones are let in because it came
    udp = {}
    for fam in (4, 6):
        cl = Cell(run, "ru%d" % fam, "aes128gcm16", False, fam, fam, encap="udp")
        c = Case(run, "ipv%d-esp-in-udp" % fam)
        p = cl.inner_in(8, size=1400)
        e = cl.esp(p, 1, id=next(ids)) if fam == 4 else cl.esp(p, 1)
        _reassembled(c, cl, TR.cut(e, 600) if fam == 4 else TR.cut6(e, 600, next(ids)), p)
        udp[fam] = cl
    udp4, udp6 = udp[4], udp[6]
    c = Case(run, "esp-in-udp-sharing-a-set")
    # dpsecd remembers first fragments of ESP in UDP in sets of four by
    # hash (crc32c of the key, 256 sets): these identifications' keys share
    # one, where a table of one entry a set lost the first packet
    p4, p6 = udp4.inner_in(13, size=1400), udp6.inner_in(13, size=1400)
    f4 = TR.cut(udp4.esp(p4, 3, id=1234), 600)
    f6 = TR.cut6(udp6.esp(p6, 2), 600, 3256955889)
    assert (len(f4), len(f6)) == (3, 3)
    for f, inner in zip((f4[0], f6[0], f4[1], f6[1], f4[2], f6[2]), (p4, p6) * 3):
        c.send_wan(f, inner=inner)
    for p, cl in ((p4, udp4), (p6, udp6)):
        c.expect_reassembled(3)
        c.expect_lan(TR.routed(p))
        c.expect_sa(cl.inb, packets=1)
    c = Case(run, "esp-in-udp-later-fragment-first")
    p = udp4.inner_in(9, size=1400)
    frags = TR.cut(udp4.esp(p, 2, id=next(ids)), 600)
    _reassembled(c, udp4, frags, p, order=(1, 0, 2))  # the second held until the first shows
    c = Case(run, "ike-fragments-to-the-host")
    frags = TR.cut(_ike_datagram(4, next(ids)), 600)
    for f in frags:  # the non-ESP marker first: IKE, all of it the host's as it came
        c.send_wan(f)
    c.expect_drop("no_host", 2)
    c = Case(run, "ike-later-fragment-first")
    for f in reversed(TR.cut(_ike_datagram(4, next(ids)), 600)):
        c.send_wan(f)
    c.expect_reassembled(2)  # held, then its first too: the host's whole
    c.expect_drop("no_host")
    # transport mode to the gateway's own address: decrypted, then for the
    # host stack, which a pcap run does not have
    cl = Cell(run, "rt4", "aes128-sha1_96", False, 4, 4, "transport", T.WAN4_HOST,
              T.transport_peer(4, 11))
    c = Case(run, "ipv4-transport")
    p = TR.simple(4, cl.remote, T.WAN4_HOST, 7, size=1400)
    for f in TR.cut(cl.esp(p, 1), 600):
        c.send_wan(f)
    c.expect_reassembled(3)
    c.expect_drop("no_host")
    c.expect_sa(cl.inb, packets=1)

    c = Case(run, "tampered-fragment")
    p = gcm.inner_in(6, size=1400)
    frags = TR.cut(gcm.esp(p, 5, id=next(ids)), 600)
    mid = bytearray(frags[1])
    mid[-1] ^= 1  # data, not header: only the ICV sees it
    for f in (frags[0], bytes(mid), frags[2]):
        c.send_wan(f, inner=p)
    c.expect_reassembled(3)
    c.expect_drop("icv", sa=gcm.inb)

    cl = Cell(run, "rf", "aes128gcm16", False, 4, 4)
    c = Case(run, "fragments-given-up")
    p = cl.inner_in(10, size=1400)
    frags = TR.cut(cl.esp(p, 1, id=next(ids)), 600)
    c.send_wan(frags[0], inner=p)                   # alone: its time runs out
    frags = TR.cut(cl.esp(p, 2, id=next(ids)), 600)
    for i in (0, 0, 1, 2):                          # the first twice: the packet is void,
        c.send_wan(frags[i], inner=p)               # the rest waits in vain
    whole = cl.esp(p, 3, id=next(ids))
    data = whole[20:]
    c.send_wan(_outer_fragment(whole, 0, True, data[:600]), inner=p)
    c.send_wan(_outer_fragment(whole, 74, False, data[592:]), inner=p)  # 8 bytes overlap
    frags = TR.cut(cl.esp(p, 4, id=next(ids)), 168)
    assert len(frags) == 9, len(frags)
    for f in frags:                                 # one more than a packet may have
        c.send_wan(f, inner=p)
    c.expect_drop("reass_failed", 1 + 4 + 2 + 9)

    c = Case(run, "longer-than-a-buffer")
    big = cl.inner_in(11, size=2200)  # made whole in a buffer of the big pool
    frags = TR.cut(cl.esp(big, 5, id=next(ids)), 600)
    for f in frags:
        c.send_wan(f, inner=big)
    c.expect_reassembled(len(frags))
    c.expect_sa(cl.inb, packets=1)
    c.expect_cut_to_port(TR.routed(big), 1480)

    c = Case(run, "fragments-refused")
    whole = cl.esp(p, 6, id=next(ids))
    data = whole[20:]
    c.send_wan(_outer_fragment(whole, 0, True, b""), inner=p)           # empty
    c.send_wan(_outer_fragment(whole, 0, True, data[:601]), inner=p)    # not a multiple of 8
    c.send_wan(_outer_fragment(whole, 8189, False, data[:100]), inner=p)  # past 65,535
    p6 = cl6.inner_in(12, size=1400)
    e6 = cl6.esp(p6, 2)
    f6 = IPv6(src=T.PEER6, dst=T.WAN6, nh=60) / IPv6ExtHdrDestOpt(nh=44) / \
        IPv6ExtHdrFragment(nh=51, offset=0, m=1, id=next(ids)) / Raw(e6[40:640])
    c.send_wan(bytes(f6), inner=p6)                 # another header before the fragment's
    c.expect_drop("esp_fragment", 4)
    return run


def to_host_run(seed):
    """With an exception port (a pcap standing for the host's stack, 1,500
    bytes): a peer's transport mode ESP to the gateway's own address is
    decrypted and its packet delivered to the host, as it came (no TTL
    taken); one of 3,000 bytes, whose ESP packet came in fragments (made
    whole in a buffer of the big pool), is cut to fit the exception port,
    IPv6 too (the host, its destination, makes it whole again), where sent
    whole the TAP would refuse it and the rest of its batch. IKE in
    fragments goes to the host as it came, or whole when its later
    fragment came first (dpsecd made it whole to see whose it was)."""
    run = _run("to-host", seed)
    run.conf.host = True
    _to_host_cases(run, 4, T.WAN4_HOST)
    _to_host_cases(run, 6, T.WAN6_HOST)
    for fam in (4, 6):
        _ike_in_fragments(run, fam)
    _natt_report_quoting_8_bytes(run)
    return run


def _natt_report_quoting_8_bytes(run):
    """A router's fragmentation needed that quotes only the UDP header of a
    datagram from our NAT-T port (RFC 792's 8 bytes): ESP in UDP or the
    host's IKE, the peer's path either way. The manager records it for the
    peer (pmtu_learned; its SAs take it at the lifetime scan) and passes
    the message on to the host, as it came."""
    quoted = bytes(IP(src=T.WAN4, dst=T.PEER4, flags="DF", ttl=63, len=1400) /
                   UDP(sport=4500, dport=4500))[:28]
    report = bytes(IP(src="192.0.2.254", dst=T.WAN4, ttl=64) /
                   ICMP(type=3, code=4, nexthopmtu=1300) / Raw(quoted))
    c = Case(run, "natt-report-quoting-8-bytes")
    c.send_wan(report)
    c.expect_control(1, pmtu_reports=1, pmtu_learned=1, control_tx=1)
    c.expect_host_from_manager(report)
    c = Case(run, "ike-report-quoting-it-all")
    ike = bytes(IP(src=T.WAN4, dst=T.PEER4, flags="DF", ttl=63) / UDP(sport=4500, dport=4500) /
                Raw(bytes(4) + bytes(range(256)) * 5))
    report = bytes(IP(src="192.0.2.254", dst=T.WAN4, ttl=64) /
                   ICMP(type=3, code=4, nexthopmtu=1000) / Raw(ike[:576 - 28]))
    c.send_wan(report)  # the non-ESP marker quoted: IKE's, the host's alone
    c.expect_host(report)


def _ike_datagram(fam, ident):
    """IKE (the non-ESP marker, 1,028 bytes) from the peer to the
    gateway's WAN address on port 4500, of IPv4 identification ident."""
    ike = UDP(sport=4500, dport=4500) / Raw(b"\x00" * 4 + bytes(range(256)) * 4)
    if fam == 4:
        return bytes(IP(src=T.PEER4, dst=T.WAN4, id=ident) / ike)
    return bytes(IPv6(src=T.PEER6, dst=T.WAN6) / ike)


def _ike_in_fragments(run, fam):
    """IKE cut to 600 bytes to the gateway: in order, the host gets the
    fragments as they came; the second first, the host gets it whole."""
    cut = (lambda b, i: TR.cut(b, 600)) if fam == 4 else (lambda b, i: TR.cut6(b, 600, i))
    c = Case(run, "ipv%d-ike-fragments" % fam)
    for f in cut(_ike_datagram(fam, 501), 501):
        c.send_wan(f)
        c.expect_host(f)
    c = Case(run, "ipv%d-ike-later-fragment-first" % fam)
    whole = _ike_datagram(fam, 502)
    for f in reversed(cut(whole, 502)):
        c.send_wan(f)
    c.expect_reassembled(2)
    c.expect_host(whole)


def _to_host_cases(run, fam, local):
    """to_host_run's cases over family fam, to the gateway's address local."""
    cl = _transport_cell(run, "th%d" % fam, fam, local, 12)
    c = Case(run, "ipv%d-fits" % fam)
    p = TR.simple(fam, cl.remote, local, 1, size=1400)
    c.send_wan(cl.esp(p, 1))
    c.expect_sa(cl.inb, packets=1)
    c.expect_host(p)
    c = Case(run, "ipv%d-longer-than-the-port" % fam)
    p = TR.simple(fam, cl.remote, local, 2, size=3000)
    frags = TR.cut(cl.esp(p, 2), 1400) if fam == 4 else TR.cut6(cl.esp(p, 2), 1400)
    for f in frags:
        c.send_wan(f)
    c.expect_reassembled(len(frags))
    c.expect_sa(cl.inb, packets=1)
    c.expect_cut_to_host(p)


def icmp_rate_run(seed, rate=None):
    """60 packets too big in one burst: the gateway makes at most 50 ICMP
    errors at once by default (icmp_errors_limited counts the other 10), or
    the burst of rate (dataplane.icmp_errors_per_second, icmp_error_burst)."""
    run = _run("icmp-rate" if rate is None else "icmp-rate-%d-%d" % rate, seed)
    run.conf.icmp_rate = rate
    burst = 50 if rate is None else rate[1] if rate[0] else 0
    cl = Cell(run, "rl4", "aes128gcm16", False, 4, 4)
    fits = _largest_fitting("aes128gcm16", 0, 20)
    c = Case(run, "burst-of-60", contiguous=True)
    for i in range(60):
        big = _sized(4, T.HOST4, T.remote_host(4, cl.k), 10 + i, fits + 1, df=True)
        c.send_lan(big)
        if i < burst:
            c.expect_icmp(_too_big_error(4, big, fits))
    c.expect_drop("too_big", 60)
    c.expect_icmp_limited(60 - burst)
    return run


# ---- two workers ------------------------------------------------------------

def workers_run(seed):
    """dataplane.workers = 2. A pcap port has one rx queue, polled by worker
    0, which decrypts and encrypts everything it receives and sends it by its
    own tx queue (0): no worker hands packets to another (the inbound SAs'
    windows are shared, see tests/e2e/dp_fat_tunnel.py for one SA on both
    workers). Four SAs' ESP interleaved packet by packet, with replays and
    tampered packets."""
    run = _run("workers2", seed)
    run.workers = 2
    run.tshark = True
    specs = [("aes128gcm16", False, 4, 4), ("aes128-sha256_128", True, 6, 6),
             ("aes256gcm16", True, 4, 6), ("aes128-sha1_96", False, 6, 4)]
    cells = [Cell(run, "w%d" % i, alg, esn, inner, outer)
             for i, (alg, esn, inner, outer) in enumerate(specs)]
    for i, cl in enumerate(cells):
        fam = "%din%d" % (cl.inner, cl.outer)
        c = Case(run, "sa%d-%s/inbound" % (i, fam))
        c.worker = 0  # the receiving worker decrypts
        pkts = TR.varied(cl.inner, T.remote_host(cl.inner, cl.k, 6), T.lan_host(cl.inner), n=16)
        n = len(pkts)
        seqs = list(range(1, n + 1))
        for j in range(i % 2, n - 1, 2):  # reordered inside the window
            seqs[j], seqs[j + 1] = seqs[j + 1], seqs[j]
        sent = {}
        for p, seq in zip(pkts, seqs):
            sent[seq] = cl.esp(p, seq)
            c.send_wan(sent[seq])
            c.expect_lan(TR.routed(p))
        nbytes = sum(len(p) for p in pkts)
        for seq in (3, n - 1):  # duplicates: replays
            c.send_wan(sent[seq], inner=pkts[seqs.index(seq)])
        c.expect_drop("replay", 2, sa=cl.inb)
        if i in (1, 2):  # a tampered packet (ICV), then the genuine one with its number
            p = cl.inner_in(100)
            bad = bytearray(cl.esp(p, n + 1))
            bad[-1] ^= 0x04
            c.send_wan(bytes(bad), inner=p)
            c.expect_drop("icv", sa=cl.inb)
            c.send_wan(cl.esp(p, n + 1))
            c.expect_lan(TR.routed(p))
            nbytes += len(p)
        c.expect_sa(cl.inb, packets=c.fwd, nbytes=nbytes)

        c = Case(run, "sa%d-%s/outbound" % (i, fam))
        c.worker = 0  # the receiving worker encrypts
        pkts = TR.varied(cl.inner, T.lan_host(cl.inner), T.remote_host(cl.inner, cl.k), n=16)
        for p in pkts:
            c.send_lan(p, pad_to=60)
        c.expect_esp(cl.out, pkts)

    # an unknown SPI, and clear traffic
    c = Case(run, "bad-spi-and-clear")
    c.worker = 0
    e = bytearray(cells[1].esp(cells[1].inner_in(1), 1))
    off = E.esp_offset(e)
    e[off:off + 4] = struct.pack("!I", 0x7EADBEEF)
    c.send_wan(bytes(e), inner=cells[1].inner_in(1))
    c.expect_drop("bad_spi")
    for fam, far in ((4, T.PERMIT4), (6, "2001:db8:ee::5")):
        p = TR.simple(fam, T.lan_host(fam), far, 3)
        c.send_lan(p)
        c.expect_wan_clear(TR.routed(p))
        p = TR.simple(fam, far, T.lan_host(fam), 4)
        c.send_wan(p)
        c.expect_lan(TR.routed(p))
    return run


# ---- NAT traversal: ESP in UDP (RFC 3948) ---------------------------------------

def natt_run(alg, esn, seed):
    """UDP-encapsulated SAs: the tunnel matrix and transport mode both ways
    (the IPv4 transport SAs on port 4600 of ours), then what arrives on a NAT
    port besides ESP, and ESP that does not fit its SA."""
    run = _run("natt/%s/%s" % (alg, _esn_name(esn)), seed)
    run.tshark = True
    run.conf.natt_keepalive = 0  # keepalives are natt-keepalive's, not this run's
    _tunnel_cells(run, alg, esn, encap="udp")
    _transport_cells(run, alg, esn, encap="udp", ports4=(4600, 4500))
    _natt_arrivals(run, alg, esn)
    return run


def _natt_arrivals(run, alg, esn):
    udp4 = Cell(run, "n4", alg, esn, 4, 4, encap="udp")
    udp6 = Cell(run, "n6", alg, esn, 6, 6, encap="udp")
    plain = Cell(run, "p4", alg, esn, 4, 4)

    c = Case(run, "keepalive-consumed")
    for fam, src, dst in ((4, T.PEER4, T.WAN4), (6, T.PEER6, T.WAN6)):
        c.send_wan(TR.natt_keepalive(fam, src, dst))
        c.expect_keepalive_in()
    _delivered(c, udp4, 1, 1)

    c = Case(run, "ike-non-esp-marker")  # to the host, which a pcap run lacks
    c.send_wan(TR.ike(4, T.PEER4, T.WAN4, 4500))
    c.send_wan(TR.ike(6, T.PEER6, T.WAN6, 4500))
    c.expect_drop("no_host", 2)

    c = Case(run, "plain-esp-for-udp-sa")
    p = udp4.inner_in(2)
    c.send_wan(_without_udp(udp4.esp(p, 2)), inner=p)
    p6 = udp6.inner_in(2)
    c.send_wan(_without_udp(udp6.esp(p6, 2)), inner=p6)
    c.expect_drop("natt_mismatch", 2)
    _delivered(c, udp4, 3, 2)  # the refused one did not take its sequence number
    _delivered(c, udp6, 4, 2)

    c = Case(run, "udp-esp-for-plain-sa")
    p = plain.inner_in(1)
    c.send_wan(_with_udp(plain.esp(p, 1)), inner=p)
    c.expect_drop("natt_mismatch")
    _delivered(c, plain, 2, 1)

    c = Case(run, "udp-lengths")
    p = udp4.inner_in(5)
    esp = udp4.esp(p, 5)[28:]
    hdr = udp4.outer_hdr(p)
    for length in (len(esp) + 8 + 4, len(esp) + 8 - 1):  # beyond the packet, short of it
        c.send_wan(E.ip_with_payload(hdr, 17, E.udp_wrap(udp4.inb, esp, length)), inner=p)
    c.send_wan(E.ip_with_payload(hdr, 17, E.udp_wrap(udp4.inb, b"")[:4]))  # UDP header cut
    c.expect_drop("natt_bad_length", 3)
    c.send_wan(E.ip_with_payload(hdr, 17, E.udp_wrap(udp4.inb, esp[:4])))  # ESP cut after the SPI
    c.expect_drop("esp_truncated")
    c.send_wan(_first_fragment(hdr, E.udp_wrap(udp4.inb, esp)), inner=p)
    c.expect_drop("reass_failed")  # the rest never comes (the reass run has whole sets)
    _delivered(c, udp4, 6, 5)


def _first_fragment(hdr, udp_payload):
    """The first fragment (MF) of an IPv4 packet carrying udp_payload."""
    f = hdr.copy()
    f.flags = "MF"
    return E.ip_with_payload(f, 17, udp_payload[:96])


def _without_udp(ip_bytes):
    """The same ESP as plain ESP: the UDP header taken out (RFC 3948 in
    reverse), the IP header's protocol and length fixed."""
    v4 = ip_bytes[0] >> 4 == 4
    hl = 20 if v4 else 40
    hdr = IP(ip_bytes[:hl]) if v4 else IPv6(ip_bytes[:hl])
    hdr.remove_payload()
    return E.ip_with_payload(hdr, 50, ip_bytes[hl + 8:])


def _with_udp(ip_bytes):
    """Plain ESP put in UDP 4500 -> 4500 (IPv4, 20-byte header)."""
    hdr = IP(ip_bytes[:20])
    hdr.remove_payload()
    return E.ip_with_payload(hdr, 17, bytes(UDP(sport=4500, dport=4500, chksum=0)
                                            / Raw(ip_bytes[20:])))


def natt_keepalive_run(seed):
    """dataplane.natt_keepalive_seconds = 1 and dpsecd kept 3.5 s: outbound
    UDP SAs that send nothing send keepalives (IPv4 and IPv6, the port 4600
    of ours too), a plain SA none."""
    run = _run("natt-keepalive", seed)
    run.conf.natt_keepalive = 1
    run.min_idle_ms = 3500
    alg = "aes128gcm16"
    c = Case(run, "silent-sas-send-keepalives")
    for name, fam, ports in (("k4", 4, (4500, 4500)), ("k6", 6, (4500, 4500)), ("kp", 4, (4600, 4500))):
        cell = Cell(run, name, alg, False, fam, fam, encap="udp", ports=ports)
        c.expect_keepalives_out(cell.out)
    Cell(run, "kplain", alg, False, 4, 4)  # sends nothing at all: "nothing else left a port"
    c.send_wan(TR.natt_keepalive(4, T.PEER4, T.WAN4))  # dpsecd must receive something
    c.expect_keepalive_in()
    return run


# RFC 4868's longer HMACs take the CBC + HMAC path that the SHA-1 and
# SHA-256 runs cover with and without ESN: one ESN setting each. NULL
# without ESN, where scapy 2.5 checks the HMAC itself (it leaves the ESN
# high half out); its ESN ICV is the CBC runs' path. AES-192-GCM takes
# the path of the other GCM keys, which run with and without ESN. AES-CCM
# (RFC 4309) takes the combined modes' path with its own salt (3 bytes) and
# ICV: one ESN setting per key and ICV length, a 16-byte ICV with ESN and the
# 8-byte one (scapy's crypt_icv_size) without
ONE_ESN = {"aes128-sha384_192": False, "aes256-sha512_256": True, "null-sha256_128": False,
           "aes192gcm16": True, "aes128ccm16": True, "aes256ccm8": False}


def plan(seed):
    """Every run as (name, builder), in the order they are reported."""
    runs = []
    aes_mac_algs = {a for sets in AES_MAC_SETS.values() for a, _ in sets}
    aes_mac_algs |= {a for a, _ in GMAC_SETS}  # integ/aes-gmac's
    for alg in (a for a in E.ESP_ALGS if a != DES3 and a not in aes_mac_algs):
        for esn in (ONE_ESN[alg],) if alg in ONE_ESN else (False, True):
            tail = "%s/%s" % (alg, _esn_name(esn))
            runs.append(("tunnel/" + tail, lambda a=alg, e=esn: tunnel_run(a, e, seed)))
            runs.append(("transport/" + tail, lambda a=alg, e=esn: transport_run(a, e, seed)))
            runs.append(("neg/" + tail, lambda a=alg, e=esn: neg_run(a, e, seed)))
    for alg, esn in (("ah-sha1_96", False), ("ah-sha256_128", True), ("ah-sha384_192", False),
                     ("ah-sha512_256", True)):  # AH: every ICV, ESN
        tail = "%s/%s" % (alg, _esn_name(esn))
        runs.append(("tunnel/" + tail, lambda a=alg, e=esn: tunnel_run(a, e, seed)))
        runs.append(("transport/" + tail, lambda a=alg, e=esn: transport_run(a, e, seed)))
        runs.append(("neg/" + tail, lambda a=alg, e=esn: ah_neg_run(a, e, seed)))
    runs.append(("generic", lambda: generic_run(seed)))
    runs.append(("path-mtu", lambda: path_mtu_run(seed)))
    runs.append(("icmp-rate", lambda: icmp_rate_run(seed)))
    runs.append(("icmp-rate-1-20", lambda: icmp_rate_run(seed, (1, 20))))
    runs.append(("icmp-rate-0-1", lambda: icmp_rate_run(seed, (0, 1))))
    runs.append(("prefrag", lambda: prefrag_run(seed)))
    runs.append(("prefrag-narrow", lambda: prefrag_narrow_run(seed)))
    runs.append(("prefrag-128", lambda: prefrag_smallest_run(seed)))
    runs.append(("prefrag-68", lambda: prefrag_too_narrow_run(seed)))
    runs.append(("port-mtu", lambda: port_mtu_run(seed)))
    runs.append(("error-policy", lambda: error_policy_run(seed)))
    runs.append(("error-default-block", lambda: error_default_block_run(seed)))
    runs.append(("no-route", lambda: no_route_run(seed)))
    runs.append(("outer-header", lambda: outer_header_run(seed)))
    runs.append(("ecn-egress", lambda: ecn_egress_run(seed)))
    runs.append(("reass", lambda: reass_run(seed)))
    runs.append(("to-host", lambda: to_host_run(seed)))
    runs.append(("fragment-policy", lambda: fragment_policy_run(seed)))
    runs.append(("workers2", lambda: workers_run(seed)))
    for alg, esn in (("aes128gcm16", False), ("aes128-sha256_128", True)):  # GCM, CBC+HMAC
        name = "natt/%s/%s" % (alg, _esn_name(esn))
        runs.append((name, lambda a=alg, e=esn: natt_run(a, e, seed)))
    runs.append(("natt-keepalive", lambda: natt_keepalive_run(seed)))
    runs.append(("tunnel+transport/%s/noesn" % DES3, lambda: des3_run(seed)))
    for integ in AES_MAC_SETS:
        runs.append(("integ/" + integ, lambda i=integ: aes_mac_run(i, seed)))
    runs.append((GMAC_RUN, lambda: gmac_run(seed)))
    return runs
