#!/usr/bin/python3
"""Runs ike_emit (argv[1]), which prints messages built by the dpsec codec,
and parses each with scapy, asserting the fields ike_emit set: the codec's
output read by an independent implementation. Run by meson as 'ike_scapy'."""
import subprocess
import sys

from scapy.contrib.ikev2 import (IKEv2, IKEv2_payload_SA, IKEv2_payload_Transform,
                                 IKEv2_payload_KE, IKEv2_payload_Nonce,
                                 IKEv2_payload_Notify, IKEv2_payload_VendorID,
                                 IKEv2_payload_TSi, IKEv2_payload_IDr)
from scapy.layers.isakmp import (ISAKMP, ISAKMP_payload_SA, ISAKMP_payload_Transform,
                                 ISAKMP_payload_VendorID, ISAKMP_payload_Nonce,
                                 ISAKMP_payload_KE, ISAKMP_payload_ID)
import hashlib


def transforms(sa):
    t = sa.prop.trans
    while t is not None and isinstance(t, IKEv2_payload_Transform):
        yield t
        t = t.payload if isinstance(t.payload, IKEv2_payload_Transform) else None


def check_ikev2_sa_init(p):
    assert p.exch_type == 34 and p.flags == 0x08, p.summary()
    assert p.length == len(bytes(p))
    sa = p[IKEv2_payload_SA]
    tr = [(t.transform_type, t.transform_id) for t in transforms(sa)]
    assert tr == [(1, 12), (2, 5), (3, 12), (4, 14)], tr
    assert sa.prop.trans.key_length == 256
    assert p[IKEv2_payload_KE].group == 14 and len(p[IKEv2_payload_KE].load) == 32
    assert p[IKEv2_payload_Nonce].load == bytes(range(32, 64))
    assert p[IKEv2_payload_Notify].type == 16388
    assert p[IKEv2_payload_Notify].load == bytes(range(64, 84))
    assert p[IKEv2_payload_VendorID].vendorID == hashlib.md5(b"strongSwan").digest()


def check_ikev2_ts(p):
    assert p.exch_type == 36 and p.flags == 0x20 and p.id == 5
    ts = p[IKEv2_payload_TSi].traffic_selector[0]
    assert (ts.IP_protocol_ID, ts.start_port, ts.end_port) == (6, 80, 443)
    assert ts.starting_address_v4 == "10.0.0.1" and ts.ending_address_v4 == "10.0.0.254"
    assert p[IKEv2_payload_IDr].IDtype == 2 and p[IKEv2_payload_IDr].ID == b"peer.example"


def check_isakmp_main_mode(p):
    assert p.exch_type == 2 and p.length == len(bytes(p))
    sa = p[ISAKMP_payload_SA]
    assert sa.DOI == 1 and sa.situation == 1
    attrs = dict(p[ISAKMP_payload_Transform].transforms)  # scapy gives names
    assert attrs == {"Encryption": "AES-CBC", "KeyLength": 128, "Hash": "SHA2-256",
                     "Authentication": "PSK", "GroupDesc": "2048MODPgr",
                     "LifeType": "Seconds", "LifeDuration": 3600}, attrs
    assert p[ISAKMP_payload_VendorID].load == hashlib.md5(b"RFC 3947").digest()
    assert p[ISAKMP_payload_Nonce].load == bytes(range(16))


def check_isakmp_aggressive(p):
    assert p.exch_type == 4
    assert p[ISAKMP_payload_KE].load == bytes(range(64))
    idp = p[ISAKMP_payload_ID]
    assert (idp.IDtype, idp.ProtoID, idp.Port, idp.load) == (1, 17, 500, b"\xc0\x00\x02\x09")


CHECKS = {
    "ikev2_sa_init": (IKEv2, check_ikev2_sa_init),
    "ikev2_ts": (IKEv2, check_ikev2_ts),
    "isakmp_main_mode": (ISAKMP, check_isakmp_main_mode),
    "isakmp_aggressive": (ISAKMP, check_isakmp_aggressive),
}


def main():
    out = subprocess.run([sys.argv[1]], check=True, capture_output=True, text=True).stdout
    seen = set()
    for line in out.splitlines():
        name, hexstr = line.split()
        cls, check = CHECKS[name]
        raw = bytes.fromhex(hexstr)
        pkt = cls(raw)
        check(pkt)
        seen.add(name)
        print("ok", name)
    assert seen == set(CHECKS), seen


if __name__ == "__main__":
    main()
