# xval_traffic.py - clear packets of varied protocols and sizes, and what a
# router makes of them (TTL or hop limit minus one, IPv4 checksum updated),
# computed with scapy.
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import (ICMPv6EchoRequest, IPv6, IPv6ExtHdrDestOpt,
                                IPv6ExtHdrFragment, PadN)
from scapy.layers.l2 import Ether
from scapy.packet import Raw

MAX_INNER = 1384  # inner IP packets stay within a 1500-byte MTU once encapsulated
# (the most ESP adds is 113 bytes: IPv6 header 40, ESP header 8, AES-CBC IV 16,
# padding and trailer up to 17, a 32-byte ICV)

_TOS = [0x00, 0xB8, 0x02, 0x03, 0x28, 0x00, 0x01, 0x00]


def _payload(n, seed):
    return bytes((seed * 31 + i * 7) & 0xFF for i in range(n))


def _l4(fam, kind, n, i):
    """Transport header and payload of n bytes."""
    if kind == "udp":
        return UDP(sport=40000 + i, dport=5000 + i % 7) / Raw(_payload(n, i))
    if kind == "tcp":
        return TCP(sport=50000 + i, dport=443, seq=1000 * i, ack=77, flags="PA" if n else "S",
                   window=29200,
                   options=[] if i % 2 == 0 else [("MSS", 1360), ("SAckOK", b""), ("WScale", 7),
                                         ("Timestamp", (i, 0))]) / Raw(_payload(n, i))
    if kind == "icmp":
        if fam == 4:
            return ICMP(type=8, id=0x4242, seq=i) / Raw(_payload(n, i))
        return ICMPv6EchoRequest(id=0x4242, seq=i, data=_payload(n, i))
    raise ValueError(kind)


def _body(fam, kind, n, i):
    if kind == "other":
        return Raw(_payload(n, i))
    return _l4(fam, kind, n, i)


def _ip(fam, src, dst, i, **kw):
    tos = _TOS[i % len(_TOS)]
    if fam == 4:
        return IP(src=src, dst=dst, id=0x100 + i, tos=tos, ttl=kw.get("ttl", 64),
                  flags="DF" if i % 3 == 0 else 0)
    return IPv6(src=src, dst=dst, tc=tos, fl=(0x12345 + i) if i % 2 else 0,
                hlim=kw.get("ttl", 64))


def varied(fam, src, dst, n=20, fragments=True):
    """n clear IP packets (bytes) from src to dst: ICMP, UDP, TCP and other
    protocols; payloads of 0 to ~1400 bytes whose lengths cover every
    alignment; DSCP/ECN and DF varied; one with TTL 2 (it must still pass);
    fragments and (IPv6) extension headers (fragments=False: two more UDP
    packets instead, for transport mode)."""
    kinds = ["icmp", "udp", "tcp", "udp", "other", "tcp", "udp", "icmp"]
    free = [i for i in range(n) if i not in (4, 12)]  # 4 and 12 become fragments
    pkts = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        ttl = 2 if i == 7 else 64
        ip = _ip(fam, src, dst, i, ttl=ttl)
        if kind == "other":
            if fam == 4:
                ip.proto = 47
            else:
                ip.nh = 132
        base = len(bytes(ip / _body(fam, kind, 0, i)))
        if i == n - 1:
            size = MAX_INNER - base
        elif i == n - 2:
            size = 1000
        elif i in free[:16]:  # (length + 2) mod 16 takes every value: every CBC pad length
            size = (free.index(i) - base - 2) % 16 + 16 * (i % 3)
        else:
            size = 0
        pkts.append(bytes(ip / _body(fam, kind, size, i)))
    # fragments and extension headers: any-protocol filters match them too
    if not fragments:
        pkts[4] = simple(fam, src, dst, 4, size=3)
        pkts[12] = simple(fam, src, dst, 12, size=11)
    elif fam == 4:
        frag = IP(src=src, dst=dst, id=0x7777, proto=17, frag=100, flags=0, tos=0x10) / Raw(
            _payload(40, 99))
        first = IP(src=src, dst=dst, id=0x7778, flags="MF", tos=0) / UDP(
            sport=1, dport=2, len=500) / Raw(_payload(56, 98))
        pkts[4] = bytes(frag)
        pkts[12] = bytes(first)
    else:
        fr = IPv6(src=src, dst=dst, tc=0x20) / IPv6ExtHdrFragment(id=0x1234, offset=10, m=1,
                                                                  nh=17) / Raw(_payload(64, 97))
        do = IPv6(src=src, dst=dst) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00" * 4)]) / \
            UDP(sport=7, dport=9) / Raw(_payload(33, 96))
        pkts[4] = bytes(fr)
        pkts[12] = bytes(do)
    return pkts


def simple(fam, src, dst, i, size=32, ttl=64, tos=0):
    """A UDP packet, the unit of the negative cases: i makes it unique."""
    if fam == 4:
        p = IP(src=src, dst=dst, id=i & 0xFFFF, ttl=ttl, tos=tos) / UDP(
            sport=30000 + (i & 0x3FFF), dport=4000) / Raw(_payload(size, i))
    else:
        p = IPv6(src=src, dst=dst, hlim=ttl, fl=i & 0xFFFFF, tc=tos) / UDP(
            sport=30000 + (i & 0x3FFF), dport=4000) / Raw(_payload(size, i))
    return bytes(p)


def ike(fam, src, dst, port):
    """An IKE message in the clear (its content does not matter here)."""
    ip = IP(src=src, dst=dst) if fam == 4 else IPv6(src=src, dst=dst)
    return bytes(ip / UDP(sport=port, dport=port) / Raw(b"\x00" * 28))


def natt_keepalive(fam, src, dst):
    """A NAT keepalive (RFC 3948 §2.3): one 0xff byte in UDP 4500 -> 4500."""
    ip = IP(src=src, dst=dst) if fam == 4 else IPv6(src=src, dst=dst)
    return bytes(ip / UDP(sport=4500, dport=4500) / Raw(b"\xff"))


def routed(ip_bytes):
    """What a router forwards: TTL/hop limit minus one and, for IPv4, the
    header checksum recomputed (by scapy)."""
    if ip_bytes[0] >> 4 == 4:
        ihl = (ip_bytes[0] & 15) * 4
        hdr = IP(ip_bytes[:ihl])
        hdr.remove_payload()
        hdr.ttl -= 1
        hdr.chksum = None
        return bytes(hdr) + ip_bytes[ihl:]
    h = IPv6(ip_bytes[:40])
    h.remove_payload()
    h.hlim -= 1
    return bytes(h) + ip_bytes[40:]


def cut(ip_bytes, each):
    """An IPv4 packet cut into fragments carrying each bytes of data (a
    multiple of 8) but the last, as scapy's fragment() cuts it: offsets
    and MF carried over from a packet that was a fragment already."""
    from scapy.layers.inet import fragment
    return [bytes(f) for f in fragment(IP(ip_bytes), fragsize=each)]


def cut6(ip_bytes, size, ident=None):
    """An IPv6 packet cut by scapy's fragment6() into fragments of at most
    size bytes, a fragment header right behind the IPv6 header, with
    identification ident (None: fragment6's random one)."""
    from scapy.layers.inet6 import fragment6
    pkt = IPv6(ip_bytes)
    if ident is not None:
        nh = pkt.nh
        pkt.remove_payload()
        pkt.nh, pkt.plen = 44, None
        pkt = pkt / IPv6ExtHdrFragment(nh=nh, id=ident) / Raw(ip_bytes[40:])
    return [bytes(f) for f in fragment6(pkt, size)]


def ip_tos(ip_bytes):
    """DSCP/ECN byte of an IPv4 or IPv6 header."""
    if ip_bytes[0] >> 4 == 4:
        return ip_bytes[1]
    return ((ip_bytes[0] & 0x0F) << 4) | (ip_bytes[1] >> 4)


def ip_df(ip_bytes):
    return ip_bytes[0] >> 4 == 4 and bool(ip_bytes[6] & 0x40)


def ether(dst, src, ip_bytes, pad_to=0):
    # IPv6 only for version 6: a mangled version (say 5) rides in an IPv4 frame
    et = 0x86DD if ip_bytes[0] >> 4 == 6 else 0x0800
    fr = bytes(Ether(dst=dst, src=src, type=et)) + ip_bytes
    if len(fr) < pad_to:
        fr += b"\x00" * (pad_to - len(fr))
    return fr
