#!/usr/bin/python3
"""Main Mode messages 1 to 4 of a dpsec IKEv1 run (hex, argv[1..4]) parsed by
scapy's ISAKMP dissector, an independent implementation, with their fields
asserted: the suite AES-CBC-256 / SHA2-256 / PSK / group 19 / 28800 s, the
NAT-T (RFC 3947) and DPD vendor IDs, KE and nonce sizes, and the NAT-D
hashes recomputed with hashlib for the addresses argv[5] (initiator) and
argv[6] (responder), "a.b.c.d:port". Run by test_ikev1_main.c."""
import hashlib
import socket
import sys

from scapy.layers.isakmp import (ISAKMP, ISAKMP_payload_SA, ISAKMP_payload_Transform,
                                 ISAKMP_payload_VendorID, ISAKMP_payload_KE,
                                 ISAKMP_payload_Nonce, ISAKMPTransformTypes)

SUITE = {"Encryption": 7, "KeyLength": 256, "Hash": 4, "Authentication": 1,
         "GroupDesc": 19, "LifeType": 1, "LifeDuration": 28800}
VID_RFC3947 = hashlib.md5(b"RFC 3947").digest()
VID_DPD = bytes.fromhex("afcad71368a1f1c96b8696fc77570100")


def attrs(t):
    out = {}
    for name, value in t.transforms:
        if isinstance(value, str):  # scapy names the values it knows
            value = ISAKMPTransformTypes[name][1][value]
        out[name] = value
    return out


def vendor_ids(p):
    out, v = [], p.getlayer(ISAKMP_payload_VendorID)
    while v is not None:
        out.append(bytes(v.load))
        v = v.payload.getlayer(ISAKMP_payload_VendorID)
    return out


def check_sa_message(p, n_transforms):
    assert p.exch_type == 2, p.exch_type  # identity protection (Main Mode)
    sa = p[ISAKMP_payload_SA]
    assert sa.DOI == 1 and sa.situation == 1
    assert sa.prop.proto == 1 and sa.prop.trans_nb == n_transforms
    assert attrs(sa.prop[ISAKMP_payload_Transform]) == SUITE, attrs(sa.prop.trans)
    assert VID_RFC3947 in vendor_ids(p) and VID_DPD in vendor_ids(p), vendor_ids(p)


def nat_d(p, cky_i, cky_r, endpoint):
    ip, port = endpoint.split(":")
    return hashlib.sha256(cky_i + cky_r + socket.inet_aton(ip) +
                          int(port).to_bytes(2, "big")).digest()


def nat_d_payloads(p):
    """NAT-D (type 20) follow the nonce; scapy leaves them raw."""
    nonce = p[ISAKMP_payload_Nonce]
    nxt, raw, out = nonce.next_payload, bytes(nonce.payload), []
    while nxt == 20:
        length = int.from_bytes(raw[2:4], "big")
        out.append(raw[4:length])
        nxt, raw = raw[0], raw[length:]
    return out


def check_ke_message(p, peer, me, cky_i, cky_r):
    assert len(p[ISAKMP_payload_KE].load) == 64  # ECP-256: x | y
    assert len(p[ISAKMP_payload_Nonce].load) == 32
    assert nat_d_payloads(p) == [nat_d(p, cky_i, cky_r, peer), nat_d(p, cky_i, cky_r, me)]


def main(mm1, mm2, mm3, mm4, ep_i, ep_r):
    m = [ISAKMP(bytes.fromhex(x)) for x in (mm1, mm2, mm3, mm4)]
    cky_i, cky_r = bytes(m[0].init_cookie), bytes(m[1].resp_cookie)
    assert bytes(m[0].resp_cookie) == bytes(8) and cky_r != bytes(8)
    assert all(bytes(x.init_cookie) == cky_i for x in m)
    check_sa_message(m[0], 1)
    check_sa_message(m[1], 1)
    check_ke_message(m[2], ep_r, ep_i, cky_i, cky_r)
    check_ke_message(m[3], ep_i, ep_r, cky_i, cky_r)
    print("ok")


if __name__ == "__main__":
    main(*sys.argv[1:7])
