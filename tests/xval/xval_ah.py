# xval_ah.py - the independent AH peer (RFC 4302): scapy's
# SecurityAssociation(AH, ...) protects and verifies; a reference built on
# python's own hmac/hashlib (neither scapy nor `cryptography`) computes every
# ICV from the bytes alone: the packet with the ICV and the IP header's
# mutable fields zeroed (IPv4 TOS, flags and fragment offset, TTL, checksum;
# IPv6 traffic class, flow label, hop limit; §3.3.3.1), the padding after the
# ICV kept, and with ESN the high half of the sequence number appended
# (§3.3.3.2.1). scapy and the reference must agree on every packet the peer
# makes and on every packet dpsecd sends (scapy 2.5 does append the ESN high
# half for AH, unlike its ESP HMAC). AES-XCBC-MAC-96 and AES-CMAC-96 need AES,
# which python lacks: there the reference's MAC is xval_mac's (on
# `cryptography`'s AES, held to the RFCs' test vectors by the selftest),
# scapy's CMAC cryptography's own.
import hashlib
import hmac
import struct

from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import AH, IPSecIntegrityError, SecurityAssociation
from scapy.packet import Raw

import xval_mac as M  # also registers scapy's AES-XCBC-MAC-96

PROTO_AH = 51
FIXED = 12  # next header, length, reserved, SPI, sequence number
_HASH = {"sha1_96": hashlib.sha1, "sha256_128": hashlib.sha256, "sha384_192": hashlib.sha384,
         "sha512_256": hashlib.sha512}


class AhError(Exception):
    pass


def ah_len(spec, v6):
    """The AH header's length for spec: 12 + ICV, padded to 4 bytes over
    IPv4 and to 8 over IPv6 (RFC 4302 §2.2, §3.3.3.2.1)."""
    n = FIXED + spec.p["icv"]
    return n + (-n % (8 if v6 else 4))


def ah_offset(ip_bytes):
    """Offset of the AH header in an IPv4/IPv6 packet (IPv6: after the
    extension headers scapy puts before AH)."""
    v = ip_bytes[0] >> 4
    if v == 4:
        if ip_bytes[9] != PROTO_AH:
            raise AhError("IPv4 protocol %d, not AH" % ip_bytes[9])
        return (ip_bytes[0] & 15) * 4
    if v == 6:
        nh, off = ip_bytes[6], 40
        while nh in (0, 43, 60):
            nh, off = ip_bytes[off], off + (ip_bytes[off + 1] + 1) * 8
        if nh != PROTO_AH:
            raise AhError("IPv6 next header %d, not AH" % nh)
        return off
    raise AhError("IP version %d" % v)


def parse(ip_bytes):
    """(offset, next header, length field, reserved, SPI, seq) of the AH
    header of an AH packet."""
    off = ah_offset(ip_bytes)
    if len(ip_bytes) < off + FIXED:
        raise AhError("AH cut: %d bytes after the IP header" % (len(ip_bytes) - off))
    nh, plen, rsv, spi, seq = struct.unpack("!BBHII", ip_bytes[off:off + FIXED])
    return off, nh, plen, rsv, spi, seq


def zero_mutable(ip_bytes, off, icv_len):
    """The bytes the ICV covers: mutable fields and the ICV zeroed."""
    b = bytearray(ip_bytes)
    if b[0] >> 4 == 4:
        b[1] = 0                 # TOS (DSCP, ECN)
        b[6:8] = b"\x00\x00"     # flags, fragment offset
        b[8] = 0                 # TTL
        b[10:12] = b"\x00\x00"   # header checksum
    else:
        b[0:4] = b"\x60\x00\x00\x00"  # version kept; traffic class, flow label
        b[7] = 0                 # hop limit
    b[off + FIXED:off + FIXED + icv_len] = bytes(icv_len)
    return bytes(b)


def ref_icv(spec, ip_bytes, seq_hi=0):
    """The reference ICV of an AH packet (its ICV field ignored)."""
    off = ah_offset(ip_bytes)
    data = zero_mutable(ip_bytes, off, spec.p["icv"])
    if spec.esn:
        data += struct.pack("!I", seq_hi)
    return mac(spec, data)


def mac(spec, data):
    """spec's ICV over data: python's hmac, or xval_mac's AES MACs."""
    if spec.p["integ"] in M.AES_MACS:
        return M.tag(spec.p["integ"], spec.integ_key, data)[:spec.p["icv"]]
    return hmac.new(spec.integ_key, data, _HASH[spec.p["integ"]]).digest()[:spec.p["icv"]]


def ref_verify(spec, ip_bytes, seq_hi=0):
    off = ah_offset(ip_bytes)
    got = ip_bytes[off + FIXED:off + FIXED + spec.p["icv"]]
    if not hmac.compare_digest(ref_icv(spec, ip_bytes, seq_hi), got):
        raise AhError("reference: ICV mismatch")


def resign(spec, ip_bytes, seq_hi=0):
    """ip_bytes with its ICV made valid again by the reference (for packets
    changed on purpose, say a wrong next header, that must reach dpsecd
    authenticated)."""
    off = ah_offset(ip_bytes)
    n = spec.p["icv"]
    return ip_bytes[:off + FIXED] + ref_icv(spec, ip_bytes, seq_hi) + ip_bytes[off + FIXED + n:]


def _scapy_sa(spec, seq_hi=0):
    return SecurityAssociation(AH, spi=spec.spi, auth_algo=spec.p["scapy_auth"],
                               auth_key=spec.integ_key, esn_en=spec.esn, esn=seq_hi)


def scapy_verify(spec, ip_bytes, seq_hi=0):
    """scapy's receive path (SecurityAssociation.decrypt: SPI, ICV, AH taken
    out); returns the bytes after AH (the inner packet, or the transport
    payload)."""
    cls = IP if ip_bytes[0] >> 4 == 4 else IPv6
    sa = _scapy_sa(spec, seq_hi)
    sa.tunnel_header = cls()  # scapy then returns what followed AH
    try:
        return bytes(sa.decrypt(cls(ip_bytes)))
    except IPSecIntegrityError as e:
        raise AhError("scapy: %s" % e) from e


def protect(spec, ip_pkt, seq64):
    """AH on ip_pkt (scapy IP/IPv6: in tunnel mode the outer header over
    Raw(inner packet), in transport mode the packet itself) with scapy; AH
    goes right after the IP header. Returns the bytes, checked by the
    reference: the ICV, the header fields, the payload untouched."""
    seq_lo, seq_hi = seq64 & 0xFFFFFFFF, seq64 >> 32
    payload = bytes(ip_pkt.payload)
    sa = _scapy_sa(spec, seq_hi)
    sa.seq_num = seq_lo  # not seq_num=seq_lo: scapy takes a 0 for "not given"
    b = bytes(sa.encrypt(ip_pkt, esn_en=spec.esn, esn=seq_hi))
    off, nh, plen, rsv, spi, seq = parse(b)
    n = ah_len(spec, b[0] >> 4 == 6)
    want_nh = ip_pkt.proto if isinstance(ip_pkt, IP) else ip_pkt.nh
    if (nh, plen, rsv, spi, seq) != (want_nh, n // 4 - 2, 0, spec.spi, seq_lo) or \
            b[off + n:] != payload or b[off + FIXED + spec.p["icv"]:off + n] != bytes(
                n - FIXED - spec.p["icv"]):
        raise AhError("peer self-check: scapy's AH header or payload is not as expected")
    try:
        ref_verify(spec, b, seq_hi)
    except AhError as e:
        raise AhError("peer self-check: scapy's ICV is not the reference's") from e
    return b


def protect_tunnel(spec, outer, inner, seq64):
    """inner (bytes of an IPv4/IPv6 packet) under outer (a scapy IP/IPv6
    header, no payload) and AH."""
    o = outer.copy()
    nh = 4 if inner[0] >> 4 == 4 else 41
    if isinstance(o, IP):
        o.proto, o.len, o.chksum = nh, None, None
    else:
        o.nh, o.plen = nh, None
    return protect(spec, o / Raw(inner), seq64)


def protect_transport(spec, ip_bytes, seq64):
    """ip_bytes (a plain IPv4/IPv6 packet, no extension headers) with AH
    after its header."""
    cls = IP if ip_bytes[0] >> 4 == 4 else IPv6
    hl = (ip_bytes[0] & 15) * 4 if cls is IP else 40
    h = cls(ip_bytes[:hl])
    h.remove_payload()
    if cls is IP:
        h.len, h.chksum = None, None
    else:
        h.plen = None
    return protect(spec, h / Raw(ip_bytes[hl:]), seq64)


def build(spec, hdr, nh, payload, seq64, length=None, icv=None):
    """An AH packet made by hand (the reference, not scapy): hdr (scapy
    IP/IPv6, no payload) / AH(nh, length field, SPI, seq) / payload, the
    ICV the reference's unless icv is given."""
    v6 = isinstance(hdr, IPv6)
    n = ah_len(spec, v6)
    ah = struct.pack("!BBHII", nh, n // 4 - 2 if length is None else length, 0, spec.spi,
                     seq64 & 0xFFFFFFFF) + bytes(n - FIXED)
    o = hdr.copy()
    if v6:
        o.nh, o.plen = PROTO_AH, None
    else:
        o.proto, o.len, o.chksum = PROTO_AH, None, None
    b = bytes(o / Raw(ah + payload))
    off = ah_offset(b)
    val = ref_icv(spec, b, seq64 >> 32) if icv is None else icv
    return b[:off + FIXED] + val + b[off + FIXED + len(val):]
