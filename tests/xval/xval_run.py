# xval_run.py - one dpsecd run: the cases that share it, the frames they feed
# each port, what they expect back (frames and counters), running dpsecd on
# pcap ports and judging the result.
import collections
import json
import os
import re
import shutil
import struct
import subprocess
import time
from socket import AF_INET6, inet_ntop, inet_pton

import xval_ah as A
import xval_esp as E
import xval_pcap
import xval_topo as T
import xval_traffic as TR
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, IPv6, in6_chksum
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

ETH_IPV4, ETH_IPV6 = 0x0800, 0x86DD

# Drop reasons whose packets are attributed to an inbound SA (its "drops").
SA_DROPS = ("replay", "icv", "bad_padding", "bad_next_header", "dummy", "inner_policy_mismatch")


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def summary(frame):
    try:
        return Ether(frame).summary()
    except Exception:  # noqa: BLE001 - a summary must never fail
        return frame[:32].hex()


class Case:
    """One line of the report: what it sends, and what it expects."""

    def __init__(self, run, name, contiguous=False):
        self.run = run
        self.contiguous = contiguous  # its frames go first, back to back (one burst)
        self.name = run.name + "/" + run.case_prefix + name
        self.lan_in, self.wan_in = [], []
        self.lan_out, self.wan_out = [], []  # expected frames, in order
        self.host_out = []                     # IP packets expected on the exception port
        self.host_by_manager = 0               # of them, how many the manager sends
        self.lan_forbidden = []                # frames of packets that must be dropped
        self.esp_out = []                      # EspOut checkers
        self.sa = {}                           # SA name -> {"packets": n, "drops": n}
        self.drops = collections.Counter()     # drop reason -> n
        self.worker = None                     # the worker whose tx queues all its output leaves by
        self.fwd = 0
        self.icmp = 0                          # ICMP errors dpsecd makes (among fwd)
        self.icmp_limited = 0                  # and those its rate limit held back
        self.cut = 0                           # packets dpsecd cuts into fragments
        self.fragments = 0                     # and the fragments they become
        self.port_cut = 0                      # packets cut to fit their port (clear, decrypted)
        self.port_fragments = 0                # and the fragments they become
        self.esp_cut = 0                       # ESP/AH packets cut to fit the wan port
        self.esp_fragments = 0                 # and the fragments they become
        self.reass_fragments = 0               # ESP/AH fragments that make whole packets
        self.reass_packets = 0                 # and the packets they make
        self.keepalives_in = 0                 # NAT keepalives it sends dpsecd (consumed)
        self.control = 0                       # packets handed to the manager
        self.counters = collections.Counter()  # further global counters it adds to
        self.keepalives_out = []               # outbound UDP SAs that must send keepalives
        run.cases.append(self)

    # --- what goes in
    def send_lan(self, ip_bytes, pad_to=0, dst=T.LAN_MAC, src=T.HOST_MAC):
        self.lan_in.append(TR.ether(dst, src, ip_bytes, pad_to))

    def send_wan(self, ip_bytes, dst=T.WAN_MAC, src=T.PEER_MAC, pad_to=0, inner=None):
        """inner: the clear packet inside, for a packet that must be dropped:
        should it reach the LAN anyway, this case is named."""
        self.wan_in.append(TR.ether(dst, src, ip_bytes, pad_to))
        self.forbid(inner)

    def send_wan_frame(self, frame, inner=None):
        self.wan_in.append(bytes(frame))
        self.forbid(inner)

    def forbid(self, inner):
        if inner is None:
            return
        ttl = inner[8] if inner[0] >> 4 == 4 else inner[7]
        self.lan_forbidden.append(TR.ether(T.HOST_MAC, T.LAN_MAC,
                                           TR.routed(inner) if ttl > 1 else inner))

    # --- what comes out
    def expect_host(self, ip_bytes):
        """ip_bytes delivered to the host's stack (a run with conf.host),
        to its MAC."""
        self.host_out.append(_no_frag_id(ip_bytes))

    def expect_host_from_manager(self, ip_bytes):
        """ip_bytes delivered to the host's stack by the manager (through
        the inject ring: control_tx, not host_packets), after the case's
        packet went to it (expect_control)."""
        self.expect_host(ip_bytes)
        self.host_by_manager += 1

    def expect_cut_to_host(self, ip_bytes):
        """ip_bytes, longer than the exception port's 1,500 bytes, delivered
        to the host's stack in fragments that fit it: as scapy's fragment()
        or fragment6() cuts it (IPv6 identifications, random, not
        compared)."""
        v6 = ip_bytes[0] >> 4 == 6
        frags = TR.cut6(ip_bytes, 1500) if v6 else TR.cut(ip_bytes, 1480)
        for f in frags:
            self.expect_host(f)
        self.port_cut += 1
        self.port_fragments += len(frags)

    def expect_lan(self, ip_bytes):
        """ip_bytes forwarded (already routed) to the LAN host."""
        self.lan_out.append(TR.ether(T.HOST_MAC, T.LAN_MAC, ip_bytes))
        self.fwd += 1

    def expect_icmp(self, ip_bytes, side="lan"):
        """An ICMP error dpsecd makes, routed to the LAN host or (side
        "wan") out in the clear: a packet sent that none received
        (icmp_errors_sent)."""
        if side == "lan":
            self.expect_lan(ip_bytes)
        else:
            self.expect_wan_clear(ip_bytes)
        self.icmp += 1

    def expect_icmp_back(self, sa, ip_bytes):
        """An ICMP error dpsecd makes about a decrypted packet, sent back
        through the tunnel with outbound sa (icmp_errors_sent)."""
        self.expect_esp(sa, [ip_bytes], routed=False)
        self.icmp += 1

    def expect_icmp_dropped(self, reason):
        """An ICMP error dpsecd makes and then drops (icmp_errors_sent and
        drop_<reason>)."""
        self.icmp += 1
        self.expect_drop(reason)

    def expect_icmp_limited(self, n):
        """n ICMP errors not made: over the gateway's rate."""
        self.icmp_limited += n

    def expect_wan_clear(self, ip_bytes):
        self.wan_out.append(TR.ether(T.PEER_MAC, T.WAN_MAC, ip_bytes))
        self.fwd += 1

    def expect_esp(self, sa, originals, routed=True):
        """originals (clear packets as sent on the LAN; with routed False,
        packets the gateway made) leave protected with sa: ESP, or AH for an
        AH SA."""
        self.esp_out.append(EspOut(sa, originals, routed))
        self.fwd += len(originals)
        self.expect_sa(sa, packets=len(originals),
                       nbytes=sum(protected_len(sa, p) for p in originals))

    def expect_esp_cut(self, sa, originals, each):
        """originals (IPv4 without DF, too big for sa's path once
        encapsulated) leave cut into fragments of each data bytes, every
        fragment protected with sa as a packet of its own."""
        frags = [f for o in originals for f in TR.cut(o, each)]
        self.expect_esp(sa, frags)
        self.cut += len(originals)
        self.fragments += len(frags)

    def expect_cut_after_esp(self, n, fragments):
        """n of the packets expect_esp expects (IPv4 without DF, transport
        mode) are too big for the wan port once encapsulated: each ESP
        packet is cut into fragments (checked joined by EspOut, and how
        they were cut by judge)."""
        self.fwd += (fragments - 1) * n
        self.port_cut += n
        self.port_fragments += fragments * n
        self.esp_cut += n
        self.esp_fragments += fragments * n

    def expect_cut_to_port(self, routed, each, side="lan"):
        """routed (IPv4 without DF, as routed) is too big for the port it
        leaves by: sent there in fragments of each data bytes, as scapy's
        fragment() cuts it, with no IPsec (forwarded in clear, or after
        decryption)."""
        frags = TR.cut(routed, each)
        for f in frags:
            if side == "lan":
                self.expect_lan(f)
            else:
                self.expect_wan_clear(f)
        self.port_cut += 1
        self.port_fragments += len(frags)

    def expect_reassembled(self, fragments):
        """fragments (ESP or AH to the gateway, or UDP it makes whole, sent
        by this case) make one packet, which then takes the inbound path as
        any that arrived whole (expect what becomes of it too)."""
        self.reass_fragments += fragments
        self.reass_packets += 1

    def expect_control(self, n, **counters):
        """n of its packets go to the manager (control_packets), which
        counts counters (name: n) of them."""
        self.control += n
        self.counters.update(counters)

    def expect_drop(self, reason, n=1, sa=None):
        self.drops[reason] += n
        if sa is not None:
            self.expect_sa(sa, drops=n)

    def expect_keepalive_in(self, n=1):
        """n NAT keepalives received: counted, consumed, never forwarded."""
        self.keepalives_in += n

    def expect_keepalives_out(self, sa):
        """The silent outbound UDP-encapsulated sa sends NAT keepalives: at
        least one (how many depends on how long dpsecd runs)."""
        self.keepalives_out.append(sa)

    def expect_sa(self, sa, packets=0, drops=0, nbytes=None):
        """Adds to what the SA's counters must show; None: not checked (for
        bytes, the protected bytes: the inner packet in tunnel mode, the
        transport payload in transport mode, checked only where every case
        using the SA says)."""
        e = self.sa.setdefault(sa.name, {"packets": 0, "drops": 0, "bytes": 0})
        for k, v in (("packets", packets), ("drops", drops), ("bytes", nbytes)):
            e[k] = None if v is None or e[k] is None else e[k] + v

    def n_in(self):
        return len(self.lan_in) + len(self.wan_in)


def _check_flow_label(sa, fl):
    """An outbound SA's outer IPv6 flow label (RFC 6437): not 0, and the
    same on all its packets (one ECMP path for the SA); the first one seen
    is kept in sa."""
    seen = getattr(sa, "flow_label", None)
    if fl == 0:
        return ["outer flow label 0, expected the SA's own (RFC 6437)"]
    if seen is not None and fl != seen:
        return ["outer flow label 0x%05x, the SA's earlier packets had 0x%05x" % (fl, seen)]
    sa.flow_label = fl
    return []


def keepalive_frame(sa):
    """The NAT keepalive of outbound sa as scapy builds it (RFC 3948 §2.3):
    one 0xff byte in UDP from the SA's local port to the peer's; IPv4 with
    identification 0 and UDP checksum 0, IPv6 with its UDP checksum."""
    if ":" in sa.local:
        ip = IPv6(src=sa.local, dst=sa.remote, hlim=64) / UDP(sport=sa.udp_sport, dport=sa.udp_dport)
    else:
        ip = IP(src=sa.local, dst=sa.remote, ttl=64, id=0) / \
            UDP(sport=sa.udp_sport, dport=sa.udp_dport, chksum=0)
    return bytes(Ether(dst=T.PEER_MAC, src=T.WAN_MAC) / ip / Raw(b"\xff"))


def protected_len(sa, ip_bytes):
    """Bytes ESP protects of a clear packet: all of it in tunnel mode, what
    follows the IP header in transport mode."""
    if sa.mode == "tunnel":
        return len(ip_bytes)
    return len(ip_bytes) - ((ip_bytes[0] & 15) * 4 if ip_bytes[0] >> 4 == 4 else 40)


def outer_tos(sa, inner):
    """The tunnel's outer TOS / traffic class for inner: its DSCP and ECN
    (RFC 4301 §5.1.2.1, RFC 6040), or the SA's fixed DSCP with its ECN."""
    tos = TR.ip_tos(inner)
    return tos if sa.dscp is None else sa.dscp << 2 | tos & 3


class EspOut:
    """Checks the ESP packets one outbound SA sent: outer headers, SPI, the
    sequence numbers 1..N in order, the ICV, the trailer and the decrypted
    inner packets, byte for byte. For an AH SA the same outer checks, then
    the AH header (_check_ah)."""

    def __init__(self, sa, originals, routed=True):
        """routed: originals are packets forwarded (the TTL taken), not the
        gateway's own."""
        self.sa = sa
        self.originals = originals
        self.routed = routed
        self.expected = [TR.routed(p) if routed else p for p in originals]

    def check(self, frames):
        errs = []
        sa = self.sa
        if len(frames) != len(self.expected):
            errs.append("SA %s (spi 0x%x): %d ESP packets out, %d expected"
                        % (sa.name, sa.spi, len(frames), len(self.expected)))
        ivs = set()
        for i, (fr, exp) in enumerate(zip(frames, self.expected)):
            e = self._check_one(i, fr, exp, ivs)
            errs += ["packet %d (seq %d): %s" % (i + 1, i + 1, x) for x in e]
            if len(errs) > 8:
                errs.append("...")
                break
        return errs

    def _check_one(self, i, fr, exp, ivs):
        sa, errs = self.sa, []
        outer_fam = 6 if ":" in sa.remote else 4
        if fr[0:6] != mac(T.PEER_MAC) or fr[6:12] != mac(T.WAN_MAC):
            errs.append("Ethernet %s -> %s, expected %s -> %s"
                        % (fr[6:12].hex(":"), fr[0:6].hex(":"), T.WAN_MAC, T.PEER_MAC))
        et = struct.unpack("!H", fr[12:14])[0]
        if et != (ETH_IPV4 if outer_fam == 4 else ETH_IPV6):
            errs.append("ethertype 0x%04x" % et)
        ip = fr[14:]
        tunnel = sa.mode == "tunnel"
        udp = E.UDP_LEN if sa.encap == "udp" else 0
        want_proto = 17 if udp else A.PROTO_AH if sa.p["ah"] else 50
        proto = ip[9] if outer_fam == 4 else ip[6]
        if proto != want_proto:
            errs.append("outer protocol %d, expected %d" % (proto, want_proto))
        if outer_fam == 4:
            tot = struct.unpack("!H", ip[2:4])[0]
            if tot != len(ip) and not (len(fr) == 60 and tot < len(ip)):
                errs.append("IPv4 total length %d, frame holds %d" % (tot, len(ip)))
            ip = ip[:tot]
            h = IP(ip)
            if h.ihl != 5:
                errs.append("outer IHL %d" % h.ihl)
            chk = h.chksum
            h2 = IP(ip[:20])
            h2.chksum = None
            if IP(bytes(h2)).chksum != chk:
                errs.append("outer IPv4 checksum 0x%04x wrong" % chk)
            if tunnel:
                if (h.src, h.dst) != (sa.local, sa.remote):
                    errs.append("outer %s -> %s, expected %s -> %s"
                                % (h.src, h.dst, sa.local, sa.remote))
                if h.ttl != 64:
                    errs.append("outer TTL %d, expected 64" % h.ttl)
                if h.frag or h.flags.MF:
                    errs.append("outer fragment offset %d MF %d" % (h.frag, h.flags.MF))
                if h.tos != outer_tos(sa, exp):
                    errs.append("outer TOS 0x%02x, expected 0x%02x (inner 0x%02x, dscp %s)"
                                % (h.tos, outer_tos(sa, exp), TR.ip_tos(exp), sa.dscp))
                want_df = {"set": True, "clear": False}.get(
                    sa.df_bit, exp[0] >> 4 == 4 and TR.ip_df(exp))
                if bool(h.flags.DF) != want_df:
                    errs.append("outer DF %d, expected %d (inner DF %d, df_bit %s)"
                                % (h.flags.DF, want_df, exp[0] >> 4 == 4 and TR.ip_df(exp),
                                   sa.df_bit))
        else:
            plen = struct.unpack("!H", ip[4:6])[0]
            if plen + 40 != len(ip):
                errs.append("IPv6 payload length %d, frame holds %d" % (plen, len(ip) - 40))
            ip = ip[:40 + plen]
            h = IPv6(ip)
            if tunnel:
                if (h.src, h.dst) != (sa.local, sa.remote):
                    errs.append("outer %s -> %s, expected %s -> %s"
                                % (h.src, h.dst, sa.local, sa.remote))
                if h.hlim != 64:
                    errs.append("outer hop limit %d, expected 64" % h.hlim)
                if h.tc != outer_tos(sa, exp):
                    errs.append("outer traffic class 0x%02x, expected 0x%02x (inner 0x%02x, "
                                "dscp %s)" % (h.tc, outer_tos(sa, exp), TR.ip_tos(exp), sa.dscp))
                errs += _check_flow_label(sa, h.fl)
        if udp:
            errs += _check_udp(sa, ip, 20 if outer_fam == 4 else 40)
        if errs:
            return errs
        if sa.p["ah"]:
            return self._check_ah(i, ip, exp)
        try:
            off = E.esp_offset(ip)
        except E.EspError as ex:
            return [str(ex)]
        spi, seq = struct.unpack("!II", ip[off:off + 8])
        if spi != sa.spi:
            errs.append("SPI 0x%x" % spi)
        if seq != i + 1:
            errs.append("sequence number %d, expected %d" % (seq, i + 1))
        esp_len = len(ip) - off
        if (esp_len - 8 - sa.p["iv"] - sa.p["icv"]) % sa.p["align"]:
            errs.append("ESP ciphertext of %d bytes not aligned to %d"
                        % (esp_len - 8 - sa.p["iv"] - sa.p["icv"], sa.p["align"]))
            return errs
        try:
            data, nh, padlen, iv = E.scapy_decrypt(sa, ip, seq_hi=0)
        except (E.EspError, ValueError, IndexError) as ex:
            return errs + ["scapy cannot verify/decrypt: %s" % ex]
        try:
            riv, plain = E.ref_open(sa, ip[off:], seq_hi=0)
            payload, padding, rpadlen, rnh = E.split_trailer(plain)
        except E.EspError as ex:
            return errs + ["reference cannot open: %s" % ex]
        if (payload, rnh, rpadlen) != (data, nh, padlen):
            errs.append("scapy and the reference disagree on the plaintext")
        if padding != E.default_padding(rpadlen):
            errs.append("padding %s, expected 1,2,3,..." % padding.hex())
        if rpadlen != E.min_pad(sa, len(payload)):
            errs.append("pad length %d, minimum is %d" % (rpadlen, E.min_pad(sa, len(payload))))
        if sa.p["aead"]:
            if iv != struct.pack("!Q", seq):
                errs.append("%s IV %s, expected the sequence number" % (sa.p["enc"], iv.hex()))
        elif sa.p["iv"]:  # NULL has none: an IV written anyway fails the payload check
            if iv in ivs:
                errs.append("CBC IV %s repeated" % iv.hex())
            ivs.add(iv)
        errs += _check_carried(sa, ip, off - udp, data, nh, exp)
        return errs + _check_scapy_natt(sa, ip, exp)

    def _check_ah(self, i, ip, exp):
        """RFC 4302: next header, length (words - 2), reserved 0, SPI, seq,
        zero padding after the ICV (to 4 bytes over IPv4, 8 over IPv6), the
        ICV by the reference (python's hmac) and by scapy's receive path,
        and what follows AH byte for byte."""
        sa, errs = self.sa, []
        try:
            off, nh, plen, rsv, spi, seq = A.parse(ip)
        except A.AhError as ex:
            return [str(ex)]
        n = A.ah_len(sa, ip[0] >> 4 == 6)
        if spi != sa.spi:
            errs.append("SPI 0x%x" % spi)
        if seq != i + 1:
            errs.append("sequence number %d, expected %d" % (seq, i + 1))
        if plen != n // 4 - 2:
            errs.append("AH length field %d, expected %d (%d bytes)" % (plen, n // 4 - 2, n))
        if rsv:
            errs.append("AH reserved 0x%04x, expected 0" % rsv)
        if len(ip) < off + n:
            return errs + ["AH cut: %d bytes from its header on, %d expected"
                           % (len(ip) - off, n)]
        pad = ip[off + A.FIXED + sa.p["icv"]:off + n]
        if pad != bytes(len(pad)):
            errs.append("AH padding %s, expected zeros" % pad.hex())
        try:
            A.ref_verify(sa, ip)
        except A.AhError as ex:
            errs.append(str(ex))
        data = ip[off + n:]
        try:
            got = A.scapy_verify(sa, ip)
            if got != data:
                errs.append("scapy takes AH out and gets %s, the bytes after AH are %s"
                            % (_brief(got), _brief(data)))
        except (A.AhError, ValueError, IndexError, TypeError, AttributeError) as ex:
            errs.append("scapy cannot verify: %s" % ex)
        return errs + _check_carried(sa, ip, off, data, nh, exp)


def _brief(b):
    return "%d B %s" % (len(b), b[:48].hex())


def _check_carried(sa, ip, off, data, nh, exp):
    """What ESP or AH (at off, next header nh) carried, data, against exp:
    in tunnel mode the inner packet, in transport mode the payload under the
    original header (_check_transport)."""
    if sa.mode != "tunnel":
        return _check_transport(ip, off, data, nh, exp)
    errs = []
    want_nh = E.NH_IPV4 if exp[0] >> 4 == 4 else E.NH_IPV6
    if nh != want_nh:
        errs.append("next header %d, expected %d" % (nh, want_nh))
    if data != exp:
        errs.append("inner packet differs: got %s, expected %s" % (_brief(data), _brief(exp)))
    return errs


def _check_udp(sa, ip, hl):
    """The UDP header of ESP in UDP (RFC 3948 §2.1): the SA's ports, the
    length of all after the IP header, checksum 0 over IPv4; over IPv6 the
    checksum scapy computes (RFC 8200 §8.1)."""
    errs = []
    sport, dport, ulen, cks = struct.unpack("!HHHH", ip[hl:hl + 8])
    if (sport, dport) != (sa.udp_sport, sa.udp_dport):
        errs.append("UDP %d -> %d, expected %d -> %d" % (sport, dport, sa.udp_sport, sa.udp_dport))
    if ulen != len(ip) - hl:
        errs.append("UDP length %d, the packet holds %d" % (ulen, len(ip) - hl))
    if hl == 20 and cks != 0:
        errs.append("UDP checksum 0x%04x over IPv4, expected 0" % cks)
    if hl == 40:
        want = in6_chksum(17, IPv6(ip[:40]), ip[40:46] + b"\x00\x00" + ip[48:]) or 0xFFFF
        if cks != want:
            errs.append("UDP checksum 0x%04x over IPv6, expected 0x%04x" % (cks, want))
    return errs


def _check_scapy_natt(sa, ip, exp):
    """ESP in UDP through scapy's own receive path
    (SecurityAssociation(..., nat_t_header=UDP(...)).decrypt), where scapy
    2.5 has one: port 4500 (which it dissects as ESP), no ESN with HMAC, and
    tunnel mode or IPv4 (its IPv6 transport path breaks on the UDP header)."""
    if sa.encap != "udp" or 4500 not in (sa.udp_sport, sa.udp_dport) or \
            (sa.esn and not sa.p["aead"]) or (sa.mode != "tunnel" and ip[0] >> 4 == 6):
        return []
    try:
        got = E.scapy_decrypt_packet(sa, ip)
    except (E.EspError, ValueError, IndexError, TypeError, AttributeError) as ex:
        return ["scapy's NAT-T receive path refuses it: %s" % ex]
    if got != exp:
        return ["scapy's NAT-T receive path gives %s, expected %s" % (_brief(got), _brief(exp))]
    return []


def _check_transport(ip, off, data, nh, exp):
    """Transport mode: the outer header is the original one (routed), with
    the protocol/next header and the length changed for ESP or AH (at off;
    data: the packet's payload, nh: the protocol it had)."""
    errs = []
    if ip[0] >> 4 == 4:
        hl = (ip[0] & 15) * 4
        if off != hl:
            errs.append("ESP/AH at offset %d, IPv4 header is %d" % (off, hl))
        rebuilt = bytearray(ip[:hl])
        rebuilt[9] = nh
        rebuilt[2:4] = struct.pack("!H", hl + len(data))
        h = IP(bytes(rebuilt))
        h.chksum = None
        rebuilt = bytes(IP(bytes(h)))[:hl]
        if ip[8] != exp[8]:
            errs.append("TTL %d, expected %d" % (ip[8], exp[8]))
        if rebuilt + data != exp:
            errs.append("header+payload differ: got %s, expected %s"
                        % (_brief(rebuilt + data), _brief(exp)))
    else:
        if off != 40:
            errs.append("ESP/AH at offset %d" % off)
        rebuilt = bytearray(ip[:40])
        rebuilt[6] = nh
        rebuilt[4:6] = struct.pack("!H", len(data))
        if bytes(rebuilt) + data != exp:
            errs.append("header+payload differ: got %s, expected %s"
                        % (_brief(bytes(rebuilt) + data), _brief(exp)))
    return errs


class Run:
    """One dpsecd invocation shared by several cases."""

    def __init__(self, name, rng):
        self.name = name
        self.rng = rng
        self.conf = T.Config()
        self.cases = []
        self._k = 1
        self._spi = 0x1000
        self.tshark = False
        self.sas = {}
        self.min_idle_ms = 0  # dpsecd lives at least this long after its last packet
        # what the cases and the rules (cells) made now are named with first:
        # a run that holds several runs' cases keeps their names apart
        self.case_prefix = ""
        self.sa_prefix = ""

    @property
    def workers(self):
        return self.conf.workers

    @workers.setter
    def workers(self, n):
        self.conf.workers = n

    def new_k(self):
        self._k += 1
        return self._k

    def new_spi(self):
        self._spi += 1
        return self._spi

    def register(self, *sas):
        for s in sas:
            self.sas[s.name] = s

    def frames(self, side):
        """The cases' frames for one port, interleaved round-robin so that
        consecutive packets switch SAs (order within a case is kept);
        contiguous cases first, each in one block."""
        out = [fr for c in self.cases if c.contiguous for fr in getattr(c, side + "_in")]
        lists = [getattr(c, side + "_in") for c in self.cases if not c.contiguous]
        i = 0
        while any(i < len(x) for x in lists):
            out += [x[i] for x in lists if i < len(x)]
            i += 1
        return out


class Result:
    def __init__(self):
        self.rc = None
        self.error = None
        self.stats = None
        self.lan = []    # frames sent on a port, the tx queues' pcaps concatenated
        self.wan = []
        self.host = []   # frames to the exception port (runs with conf.host)
        self.txq = {}    # "lan"/"wan"/"host" -> [frames of tx queue (worker) 0, 1, ...]
        self.tx_paths = {}  # "lan"/"wan"/"host" -> [pcap path per tx queue]
        self.log = ""
        self.elapsed = 0.0
        self.dir = None


def execute(run, dpsecd, workdir, idle_ms, uid):
    """Runs dpsecd on the run's pcaps; returns a Result."""
    res = Result()
    d = os.path.join(workdir, run.name.replace("/", "_"))
    os.makedirs(d, exist_ok=True)
    res.dir = d
    p = {k: os.path.join(d, k + ".pcap") for k in ("in-lan", "in-wan", "in-host")}
    xval_pcap.write(p["in-lan"], run.frames("lan"))
    xval_pcap.write(p["in-wan"], run.frames("wan"))
    xval_pcap.write(p["in-host"], [])
    sides = ("lan", "wan", "host") if run.conf.host else ("lan", "wan")
    for side in sides:  # one tx queue, and one pcap, per worker
        res.tx_paths[side] = [os.path.join(d, "out-%s.pcap" % side)] if run.workers == 1 else \
            [os.path.join(d, "out-%s.%d.pcap" % (side, q)) for q in range(run.workers)]
        for path in res.tx_paths[side]:
            if os.path.exists(path):
                os.unlink(path)
    conf = os.path.join(d, "dpsecd.conf")
    run.conf.write(conf, lan_rx=p["in-lan"], lan_tx=res.tx_paths["lan"], wan_rx=p["in-wan"],
                   wan_tx=res.tx_paths["wan"], host_rx=p["in-host"],
                   host_tx=res.tx_paths.get("host"))
    stats = os.path.join(d, "stats.json")
    prefix = "xval-%d-%s" % (os.getpid(), uid)
    idle_ms = max(idle_ms, run.min_idle_ms)
    cmd = [dpsecd, "--no-huge", "-m", "256", "--no-pci", "--file-prefix", prefix] + \
        eal_lcores(run.workers + 1) + ["--log-level=user1:info", "--", "-c", conf,
           "--stats-file", stats, "--exit-when-idle", str(idle_ms)]
    with open(os.path.join(d, "cmd"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    t0 = time.monotonic()
    logf = os.path.join(d, "dpsecd.log")
    try:
        with open(logf, "wb") as lf:
            cp = subprocess.run(cmd, stdout=lf, stderr=subprocess.STDOUT, timeout=90,
                                stdin=subprocess.DEVNULL)
        res.rc = cp.returncode
    except subprocess.TimeoutExpired:
        res.error = "dpsecd did not exit within 90 s (--exit-when-idle %d)" % idle_ms
    res.elapsed = time.monotonic() - t0
    shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)
    with open(logf, "rb") as lf:
        res.log = lf.read().decode("utf-8", "replace")
    if res.error is None and res.rc != 0:
        res.error = "dpsecd exited with status %d" % res.rc
    try:
        with open(stats) as f:
            res.stats = json.load(f)
    except (OSError, ValueError) as e:
        if res.error is None:
            res.error = "no stats file: %s" % e
    try:
        for side in res.tx_paths:
            res.txq[side] = [xval_pcap.read(path) for path in res.tx_paths[side]]
        # the order between tx queues is not defined, within one it is
        res.lan = [fr for q in res.txq["lan"] for fr in q]
        res.wan = [fr for q in res.txq["wan"] for fr in q]
        res.host = [fr for q in res.txq.get("host", []) for fr in q]
    except (OSError, ValueError) as e:
        if res.error is None:
            res.error = "tx pcap: %s" % e
    if res.error:
        tail = [ln for ln in res.log.splitlines() if ln.strip()][-6:]
        res.error += "; log: " + " | ".join(tail)
    return res


def eal_lcores(n):
    """EAL options for n lcores (the manager and the workers), one CPU each
    while there are enough, the extra ones sharing the last CPU."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= n:
        return ["-l", ",".join(str(c) for c in cpus[:n])]
    return ["--lcores", ",".join("%d@%d" % (i, cpus[min(i, len(cpus) - 1)]) for i in range(n))]


def _no_frag_id(ip):
    """An IPv6 fragment (its fragment header behind the IPv6 header) with
    identification 0; any other packet as it is."""
    if len(ip) >= 48 and ip[0] >> 4 == 6 and ip[6] == 44:
        return ip[:44] + bytes(4) + ip[48:]
    return ip


def _host_mac_errors(frames):
    """Frames on the exception port not addressed to the host's MAC."""
    mac = bytes.fromhex(T.KERNEL_MAC.replace(":", ""))
    return ["to the host, but to MAC %s: %s" % (fr[:6].hex(":"), summary(fr))
            for fr in frames if fr[:6] != mac]


def _ipv4_fragment(fr):
    """The IPv4 header fields of a frame that is an IPv4 fragment of ESP or
    AH (MF, or an offset): (key, offset in bytes, MF, header length), or
    None."""
    if len(fr) < 34 or struct.unpack("!H", fr[12:14])[0] != ETH_IPV4 or fr[23] not in (50, 51):
        return None
    fo = struct.unpack("!H", fr[20:22])[0]
    if not fo & 0x3FFF:
        return None
    return fr[26:34] + fr[18:20] + fr[23:24], (fo & 0x1FFF) * 8, bool(fo & 0x2000), \
        (fr[14] & 0x0F) * 4


def _ipv6_fragment(fr):
    """The same for an IPv6 fragment of ESP or AH, its fragment header right
    behind the IPv6 header (as dpsecd, the packet's source, puts it): (key,
    offset in bytes, M, 48), or None."""
    if len(fr) < 62 or struct.unpack("!H", fr[12:14])[0] != ETH_IPV6 or fr[20] != 44 \
            or fr[54] not in (50, 51):
        return None
    fo = struct.unpack("!H", fr[56:58])[0]
    return fr[22:54] + fr[58:62] + fr[54:55], fo & 0xFFF8, bool(fo & 1), 48


def _ipsec_fragment(fr):
    return _ipv4_fragment(fr) or _ipv6_fragment(fr)


def _join_fragments(parts, mtu):
    """One ESP/AH packet (its frame) from the frames of its fragments, as
    the peer would reassemble it; with what is wrong with how it was cut:
    a fragment longer than the port's mtu, data not a multiple of 8 bytes
    before the last, a gap or overlap, DF."""
    errs, data, end = [], b"", 0
    parts = sorted(parts, key=lambda p: p[1][1])
    v6 = struct.unpack("!H", parts[0][0][12:14])[0] == ETH_IPV6
    for i, (fr, (_, off, more, hl)) in enumerate(parts):
        ip = fr[14:54 + struct.unpack("!H", fr[18:20])[0]] if v6 else \
            fr[14:14 + struct.unpack("!H", fr[16:18])[0]]
        if len(ip) > mtu:
            errs.append("fragment of %d bytes, more than the port's %d" % (len(ip), mtu))
        if off != end or more != (i < len(parts) - 1) or (more and (len(ip) - hl) % 8):
            errs.append("fragments at offsets %s do not make one packet"
                        % [(p[1][1], p[1][2]) for p in parts])
            break
        if not v6 and ip[6] & 0x40:
            errs.append("fragment with DF")
        data += ip[hl:]
        end += len(ip) - hl
    if v6:
        hdr = bytearray(parts[0][0][14:54])
        hdr[4:6] = struct.pack("!H", len(data))
        hdr[6] = parts[0][0][54]
        return parts[0][0][:14] + bytes(hdr) + data, errs
    hdr = bytearray(parts[0][0][14:14 + parts[0][1][3]])
    hdr[2:4] = struct.pack("!H", len(hdr) + len(data))
    hdr[6:8] = b"\x00\x00"
    hdr[10:12] = b"\x00\x00"
    hdr[10:12] = struct.pack("!H", _ipv4_checksum(bytes(hdr)))
    return parts[0][0][:14] + bytes(hdr) + data, errs


def _ipv4_checksum(hdr):
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def join_ipsec_fragments(frames, mtu):
    """frames with the fragments of each ESP/AH packet dpsecd cut after
    encapsulation (transport mode: IPv4 without DF, IPv6 made whole) joined
    into that packet, where its first fragment was; with the number of
    packets so joined, of fragments, and the errors in how they were cut to
    fit mtu."""
    groups, order = {}, []
    for fr in frames:
        f = _ipsec_fragment(fr)
        if f is None:
            order.append(("frame", fr))
            continue
        if f[0] not in groups:
            groups[f[0]] = []
            order.append(("packet", f[0]))
        groups[f[0]].append((fr, f))
    out, errs = [], []
    for kind, x in order:
        if kind == "frame":
            out.append(x)
            continue
        joined, e = _join_fragments(groups[x], mtu)
        out.append(joined)
        errs += e
    return out, (len(groups), sum(len(g) for g in groups.values())), errs


def _parse_ipsec(fr):
    """(ip bytes, SPI, seq, protocol 50 or 51) of an ESP or AH frame, or None
    (a fragment of one too: judged joined)."""
    if len(fr) < 14 or _ipsec_fragment(fr):
        return None
    et = struct.unpack("!H", fr[12:14])[0]
    if et not in (ETH_IPV4, ETH_IPV6):
        return None
    ip = fr[14:]
    try:
        off = E.esp_offset(ip)
    except (E.EspError, IndexError):
        try:
            _, _, _, _, spi, seq = A.parse(ip)
            return ip, spi, seq, A.PROTO_AH
        except (A.AhError, IndexError, struct.error):
            return None
    if len(ip) < off + 8:
        return None
    spi, seq = struct.unpack("!II", ip[off:off + 8])
    return ip, spi, seq, 50


def judge(run, res, tshark_bin):
    """Returns [(case name, [errors])] for every case of the run and for the
    run itself (counters, invariant, unexpected frames, tshark)."""
    out = []
    if res.error:
        for c in run.cases:
            out.append((c.name, ["dpsecd failed, see %s/counters" % run.name]))
        out.append((run.name + "/counters", [res.error, "files: %s" % res.dir]))
        return out
    g = res.stats.get("global", {})
    qm = res.stats.get("quick_mode", {})
    sas = {s.get("name"): s for s in res.stats.get("sas", [])}
    # frames out: ESP and AH by SPI, the rest by exact bytes
    by_spi = collections.defaultdict(list)
    clear_wan = []
    out_spis = {e.sa.spi for c in run.cases for e in c.esp_out}
    wan, joined, cut_errs = join_ipsec_fragments(res.wan, run.conf.wan_mtu or 1500)
    for fr in wan:
        pe = _parse_ipsec(fr)
        if pe and pe[1] in out_spis:
            by_spi[pe[1]].append(fr)
        else:
            clear_wan.append(fr)
    left = {"lan": collections.Counter(res.lan), "wan": collections.Counter(clear_wan),
            "host": collections.Counter(_no_frag_id(fr[14:]) for fr in res.host)}
    keepalives = _take_keepalives(run, left["wan"])
    announced, announce_errs = _take_announcements(left)
    clear_wan = [fr for fr in clear_wan if fr not in keepalives[1]]
    order = {"lan": res.lan, "wan": clear_wan}
    txq_of = collections.defaultdict(set)   # (side, frame) -> tx queues it left by
    esp_txq = collections.defaultdict(set)  # SPI -> tx queues its ESP left by
    for side, qs in res.txq.items():
        for q, frs in enumerate(qs):
            for fr in frs:
                txq_of[(side, fr)].add(q)
                pe = _parse_ipsec(fr) if side == "wan" else None
                if pe:
                    esp_txq[pe[1]].add(q)
    sa_want = {}  # cases may share an SA: its counters must show their sum
    for c in run.cases:
        for name, want in c.sa.items():
            tot = sa_want.setdefault(name, {"packets": 0, "drops": 0, "bytes": 0})
            for k in tot:
                tot[k] = None if tot[k] is None or want[k] is None else tot[k] + want[k]
    for c in run.cases:
        errs = []
        for e in c.esp_out:
            errs += e.check(by_spi.pop(e.sa.spi, []))
        for side, exp in (("lan", c.lan_out), ("wan", c.wan_out)):
            missing = []
            for fr in exp:
                if left[side][fr] > 0:
                    left[side][fr] -= 1
                else:
                    missing.append(fr)
            for fr in missing[:4]:
                errs.append("not forwarded to %s: %s" % (side, summary(fr)))
            if len(missing) > 4:
                errs.append("... %d frames missing on %s" % (len(missing), side))
            if not missing and exp:
                exp_set = set(exp)
                got = [fr for fr in order[side] if fr in exp_set]
                if _dedupe_order(got) != _dedupe_order(exp):
                    errs.append("frames on %s out of order" % side)
        for ip in c.host_out:
            if left["host"][ip] > 0:
                left["host"][ip] -= 1
            else:
                errs.append("not delivered to the host: %s" % summary(TR.ether(T.KERNEL_MAC,
                                                                           T.WAN_MAC, ip)))
        if c.worker is not None and run.workers > 1:
            errs += _judge_txq(c, txq_of, esp_txq)
        c.errs = errs
    for c in run.cases:  # what nobody expected but a case's dropped packet would give
        for fr in c.lan_forbidden:
            if left["lan"][fr] > 0:
                left["lan"][fr] -= 1
                c.errs.append("forwarded although it must be dropped: %s" % summary(fr))
    for c in run.cases:
        errs = c.errs
        for sa in c.keepalives_out:
            if keepalives[0][sa.name] == 0:
                errs.append("SA %s sent no NAT keepalive (expected %s)"
                            % (sa.name, summary(keepalive_frame(sa))))
        for name in c.sa:
            want = sa_want[name]
            s = sas.get(name)
            if s is None:
                errs.append("SA %s missing from the stats" % name)
                continue
            for k in ("packets", "drops", "bytes"):
                if want[k] is not None and s.get(k) != want[k]:
                    errs.append("SA %s (spi 0x%x) %s = %s, expected %d"
                                % (name, run.sas[name].spi, k, s.get(k), want[k]))
        out.append((c.name, errs))
    errs = announce_errs + _judge_counters(run, g, qm, left, by_spi, res.stats.get("workers"),
                                           announced)
    errs += _judge_sa_sums(run, g, sa_want) + cut_errs + _host_mac_errors(res.host)
    errs += _judge_ecn_log(res.log, g)
    want_cut = (sum(c.esp_cut for c in run.cases), sum(c.esp_fragments for c in run.cases))
    if joined != want_cut:
        errs.append("%d ESP/AH packets left in %d fragments, expected %d in %d"
                    % (joined + want_cut))
    if g.get("natt_keepalives_out") != sum(keepalives[0].values()):
        errs.append("natt_keepalives_out = %s, %d keepalives on wan"
                    % (g.get("natt_keepalives_out"), sum(keepalives[0].values())))
    for p in res.stats.get("ports", []):
        if p.get("name") not in ("lan", "wan"):
            continue
        n = len(run.frames(p["name"]))
        if p.get("ipackets") != n:
            errs.append("port %s received %s of the %d frames of its pcap (exited early?)"
                        % (p.get("name"), p.get("ipackets"), n))
    out.append((run.name + "/counters", errs))
    if run.tshark:
        out.append((run.name + "/tshark", _judge_tshark(res, tshark_bin)))
    return out


ECN_LOG = re.compile(r"RFC 6040: since the last report, (\d+) decapsulated packets .*?: "
                     r"(\d+) CE outside .*?, (\d+) of the combinations")


def _judge_ecn_log(log, g):
    """RFC 6040 §4.2's log of the ECN combinations no tunnel ingress makes:
    dpsecd's reports (rate-limited, the rest at exit) must add up to its
    counters, and say nothing when they stayed 0."""
    got = [tuple(int(x) for x in m.groups()) for m in ECN_LOG.finditer(log)]
    dropped, unused = sum(r[1] for r in got), sum(r[2] for r in got)
    want = (g.get("drop_ecn_ce_not_ect", 0), g.get("ecn_unused_combinations", 0))
    errs = ["RFC 6040 report of %d packets is not %d + %d" % r for r in got if r[0] != r[1] + r[2]]
    if (dropped, unused) != want:
        errs.append("the RFC 6040 reports in dpsecd's log count %d CE over Not-ECT and %d unused "
                    "combinations; its counters %d and %d" % ((dropped, unused) + want))
    return errs


def _take_keepalives(run, left_wan):
    """The NAT keepalives the cases expect, taken out of what is left on wan:
    ({SA name: how many}, {their frames})."""
    count, frames = collections.Counter(), set()
    for c in run.cases:
        for sa in c.keepalives_out:
            fr = keepalive_frame(sa)
            count[sa.name] += left_wan.pop(fr, 0)
            frames.add(fr)
    return count, frames


# The gateway's addresses on each port, and the port's MAC (xval_topo's
# configuration): what dpsecd announces at start.
PORT_ADDRS = {"lan": (T.LAN_MAC, {T.LAN4, T.LAN6}),
              "wan": (T.WAN_MAC, {T.WAN4, T.WAN6, T.WAN4_HOST, T.WAN6_HOST})}


def _announced_address(fr, mac, addrs):
    """The address fr announces, read by scapy, if it is one of dpsecd's
    announcements at start for one of addrs from mac: a gratuitous ARP
    request (RFC 5227 §3: sender and target address the same, target MAC
    zero, broadcast) or an unsolicited neighbour advertisement (RFC 4861
    §7.2.6: to all nodes, hop limit 255, override and router flags set,
    solicited clear, its target link-layer option our MAC, checksum right);
    else None."""
    p = Ether(fr)
    if p.src.lower() != mac:
        return None
    if ARP in p:
        a = p[ARP]
        ok = (p.dst == "ff:ff:ff:ff:ff:ff" and a.op == 1 and a.psrc == a.pdst and
              a.hwsrc.lower() == mac and a.hwdst == "00:00:00:00:00:00")
        return a.psrc if ok and a.psrc in addrs else None
    if ICMPv6ND_NA not in p or ICMPv6NDOptDstLLAddr not in p:
        return None
    ip, na = p[IPv6], p[ICMPv6ND_NA]
    sum_ok = in6_chksum(58, ip, bytes(na)[:2] + b"\0\0" + bytes(na)[4:]) == na.cksum
    ok = (p.dst == "33:33:00:00:00:01" and ip.dst == "ff02::1" and ip.hlim == 255 and
          na.R == 1 and na.S == 0 and na.O == 1 and na.tgt == ip.src and sum_ok and
          p[ICMPv6NDOptDstLLAddr].lladdr.lower() == mac)
    return na.tgt if ok and na.tgt in addrs else None


def _tested_address(fr, mac, addrs):
    """The address fr tests, read by scapy, if it is dpsecd's duplicate
    address detection of one of addrs from mac at start (RFC 4862 §5.4.2):
    a solicitation from the unspecified address to the target's
    solicited-node group (and its MAC), hop limit 255, no option, checksum
    right; else None."""
    p = Ether(fr)
    if p.src.lower() != mac or ICMPv6ND_NS not in p:
        return None
    ip, ns = p[IPv6], p[ICMPv6ND_NS]
    low = inet_pton(AF_INET6, ns.tgt)[13:]
    group = inet_ntop(AF_INET6, bytes.fromhex("ff02" + "00" * 9 + "01ff") + low)
    sum_ok = in6_chksum(58, ip, bytes(ns)[:2] + b"\0\0" + bytes(ns)[4:]) == ns.cksum
    ok = (ip.src == "::" and ip.dst == group and ip.hlim == 255 and ip.plen == 24 and sum_ok and
          p.dst == "33:33:ff:" + ":".join("%02x" % b for b in low))
    return ns.tgt if ok and ns.tgt in addrs else None


def _take_announcements(left):
    """dpsecd's announcements of its addresses at start, taken out of what
    is left on lan and wan: at most three of each address (three rounds a
    second apart; a short run sees fewer), and of each IPv6 one at most one
    duplicate address detection before. Returns (how many, errors for
    more)."""
    errs, total = [], 0
    for side, (mac, addrs) in PORT_ADDRS.items():
        seen, tested = collections.Counter(), collections.Counter()
        for fr in list(left[side]):
            addr = _announced_address(fr, mac, addrs)
            if addr is not None:
                seen[addr] += left[side].pop(fr)
            elif _tested_address(fr, mac, addrs) is not None:
                tested[_tested_address(fr, mac, addrs)] += left[side].pop(fr)
        total += sum(seen.values()) + sum(tested.values())
        errs += ["%s announced %d times on %s, expected at most 3" % (a, n, side)
                 for a, n in seen.items() if n > 3]
        errs += ["%s tested for duplicates %d times on %s, expected at most once" % (a, n, side)
                 for a, n in tested.items() if n > 1]
    return total, errs


def _judge_txq(c, txq_of, esp_txq):
    """Every frame of case c left by the tx queue of c.worker, the worker that
    processed its packets (the receiver, or the owner of the inbound SA)."""
    errs = []
    for side, exp in (("lan", c.lan_out), ("wan", c.wan_out)):
        bad = [(fr, txq_of[(side, fr)]) for fr in exp
               if (side, fr) in txq_of and txq_of[(side, fr)] != {c.worker}]
        for fr, qs in bad[:2]:
            errs.append("left %s by tx queue %s, expected %d (worker %d handles it): %s"
                        % (side, sorted(qs), c.worker, c.worker, summary(fr)))
        if len(bad) > 2:
            errs.append("... %d frames on the wrong tx queue of %s" % (len(bad), side))
    for e in c.esp_out:
        qs = esp_txq.get(e.sa.spi, set())
        if qs - {c.worker}:
            errs.append("ESP of SA %s left wan by tx queues %s, expected %d"
                        % (e.sa.name, sorted(qs), c.worker))
    return errs


def _dedupe_order(frames):
    seen, out = set(), []
    for f in frames:
        if f not in seen:
            seen.add(f)
            out.append(f)
    return out


def _judge_counters(run, g, qm, left, by_spi, workers, announced):
    errs = []
    want = collections.Counter({"control_tx": announced})  # worker 0 sent them
    for c in run.cases:
        want["rx_packets"] += c.n_in()
        want["fwd_packets"] += c.fwd
        want["host_packets"] += len(c.host_out) - c.host_by_manager
        want["icmp_errors_sent"] += c.icmp
        want["icmp_errors_limited"] += c.icmp_limited
        want["natt_keepalives_in"] += c.keepalives_in
        want["prefrag_packets"] += c.cut
        want["prefrag_fragments"] += c.fragments
        want["frag_packets"] += c.port_cut
        want["frag_fragments"] += c.port_fragments
        want["reass_fragments"] += c.reass_fragments
        want["reass_packets"] += c.reass_packets
        want["control_packets"] += c.control
        want.update(c.counters)
        for r, n in c.drops.items():
            want["drop_" + r] += n
    want["drops"] = sum(n for k, n in want.items() if k.startswith("drop_"))
    ends = (want["fwd_packets"] + want["host_packets"] + want["drops"] + want["natt_keepalives_in"]
            + want["reass_fragments"] + want["control_packets"])
    starts = (want["rx_packets"] + want["icmp_errors_sent"] + want["prefrag_fragments"]
              - want["prefrag_packets"] + want["frag_fragments"] - want["frag_packets"]
              + want["reass_packets"])
    if starts != ends:
        errs.append("test bug: cases account for %d of %d packets" % (ends, starts))
    for k in ("rx_packets", "fwd_packets", "host_packets", "control_packets", "drops",
              "natt_keepalives_in", "icmp_errors_sent", "icmp_errors_limited",
              "prefrag_packets", "prefrag_fragments", "frag_packets", "frag_fragments",
              "reass_fragments", "reass_packets", "reass_held",
              *sorted({k for c in run.cases for k in c.counters})):
        if g.get(k) != want[k]:
            errs.append("%s = %s, expected %d" % (k, g.get(k), want[k]))
    for k in sorted(set(g) | {k for k in want if k.startswith("drop_")}):
        if k.startswith("drop_") and g.get(k, 0) != want[k]:
            errs.append("%s = %s, expected %d" % (k, g.get(k), want[k]))
    try:
        # every packet a worker received, got back from the manager or made
        # (an ICMP error, the fragments of a packet cut, before
        # encapsulation or to fit its port: one becomes k; a
        # packet reassembled: k become one) ends exactly once: sent, to the
        # host, to the manager (ARP/ND or awaiting an SA), part of a
        # reassembled packet, held for the rest of one, or dropped
        inv = (g["fwd_packets"] + g["host_packets"] + g["control_packets"]
               + g["acquire_packets"] + g["natt_keepalives_in"] + g["reass_fragments"]
               + g["reass_held"] + g["drops"])
        start = (g["rx_packets"] + g["reinject_in"] + g["icmp_errors_sent"]
                 + g["prefrag_fragments"] - g["prefrag_packets"]
                 + g["frag_fragments"] - g["frag_packets"] + g["reass_packets"])
        if start != inv:
            errs.append("invariant broken: rx_packets + reinject_in + icmp_errors_sent + "
                        "prefrag_fragments - prefrag_packets + frag_fragments - "
                        "frag_packets + reass_packets %d != "
                        "fwd+host+control+acquire+natt_keepalives_in+reass_fragments+"
                        "reass_held+drops %d" % (start, inv))
        dsum = sum(v for k, v in g.items() if k.startswith("drop_"))
        if dsum != g["drops"]:
            errs.append("drops %d != sum of drop_* %d" % (g["drops"], dsum))
    except (KeyError, TypeError) as e:
        errs.append("global counters incomplete: %s" % e)
    if not isinstance(workers, list) or len(workers) != run.workers:
        errs.append("stats: workers %r, expected %d entries" % (workers, run.workers))
    else:
        rx = sum(w.get("rx_packets") or 0 for w in workers)
        if rx != g.get("rx_packets"):
            errs.append("workers' rx_packets sum to %d, global %s" % (rx, g.get("rx_packets")))
    for qk, gk in (("packets_not_authenticated", "drop_icv"),
                   ("packets_with_replay_detection", "drop_replay"),
                   ("bad_spi_packets", "drop_bad_spi")):
        if qm.get(qk) != g.get(gk):
            errs.append("quick_mode.%s = %s, global %s = %s" % (qk, qm.get(qk), gk, g.get(gk)))
    for side in ("lan", "wan", "host"):
        extra = [fr for fr, n in left[side].items() for _ in range(n)]
        for fr in extra[:4]:
            fr = TR.ether(T.KERNEL_MAC, T.WAN_MAC, fr) if side == "host" else fr
            errs.append("unexpected frame on %s: %s" % (side, summary(fr)))
        if len(extra) > 4:
            errs.append("... %d unexpected frames on %s" % (len(extra), side))
    for spi, frs in by_spi.items():
        errs.append("%d ESP/AH frames with SPI 0x%x nobody expected" % (len(frs), spi))
    return errs


def _judge_sa_sums(run, g, sa_want):
    """The global protocol counters are sums over the SAs' expectations:
    {esp,ah}_{out,in}_packets by protocol and direction,
    authenticated_bytes_* over every SA, confidential_bytes_* over the ESP
    SAs that encrypt only (not AH, not NULL); a byte sum no case states in
    full is not checked."""
    want, unknown = collections.Counter(), set()
    for name, w in sa_want.items():
        sa = run.sas[name]
        proto = "ah" if sa.p["ah"] else "esp"
        out = sa.direction == "outbound"
        want["%s_%s_packets" % (proto, "out" if out else "in")] += w["packets"]
        for k in ["authenticated_bytes_"] + (["confidential_bytes_"] if E.encrypts(sa.p) else []):
            k += "sent" if out else "received"
            if w["bytes"] is None:
                unknown.add(k)
            else:
                want[k] += w["bytes"]
    errs = []
    for k in ("esp_out_packets", "esp_in_packets", "ah_out_packets", "ah_in_packets",
              "authenticated_bytes_sent", "authenticated_bytes_received",
              "confidential_bytes_sent", "confidential_bytes_received"):
        if k not in unknown and g.get(k) != want[k]:
            errs.append("%s = %s, expected %d (the sum over the SAs)" % (k, g.get(k), want[k]))
    return errs


def _judge_tshark(res, tshark_bin):
    """tshark (an independent dissector) must see every ESP and AH frame we
    parsed as such, with the same SPI and sequence number."""
    if not tshark_bin:
        return []
    rows = []
    for path in res.tx_paths.get("wan") or [os.path.join(res.dir, "out-wan.pcap")]:
        cp = subprocess.run([tshark_bin, "-n", "-r", path, "-d", "udp.port==4600,udpencap",
                             "-T", "fields", "-e", "frame.number",
                             "-e", "esp.spi", "-e", "esp.sequence", "-e", "ah.spi",
                             "-e", "ah.sequence"], capture_output=True,
                            text=True, timeout=60)
        if cp.returncode != 0:
            return ["tshark failed on %s: %s" % (os.path.basename(path),
                                                  cp.stderr.strip()[-200:])]
        rows += [ln.split("\t") for ln in cp.stdout.splitlines()]
    errs = []
    if len(rows) != len(res.wan):
        errs.append("tshark read %d frames, we read %d" % (len(rows), len(res.wan)))
    for fr, row in zip(res.wan, rows):
        pe = _parse_ipsec(fr)
        if pe is None:
            continue
        col, what = (3, "AH") if pe[3] == A.PROTO_AH else (1, "ESP")
        try:
            spi, seq = int(row[col].split(",")[0], 0), int(row[col + 1].split(",")[0], 0)
        except (IndexError, ValueError):
            errs.append("frame %s: tshark does not see %s (%r)" % (row[0], what, row))
            continue
        if (spi, seq) != pe[1:3]:
            errs.append("frame %s: tshark SPI/seq 0x%x/%d, we parsed 0x%x/%d"
                        % (row[0], spi, seq, pe[1], pe[2]))
        if len(errs) > 5:
            break
    return errs
