#!/usr/bin/python3
"""Builds IKEv2 and ISAKMP messages with scapy (an implementation
independent of ours) and writes each as a hex file next to this script;
test_ike_codec.c and test_isakmp_codec.c parse them and assert the fields
set here. Regenerate (and commit) with:
    /usr/bin/python3 tests/unit/ike_vectors/make_vectors.py
Field values must stay in step with the C tests."""
import os
from scapy.contrib.ikev2 import (IKEv2, IKEv2_payload_SA, IKEv2_payload_Proposal,
                                 IKEv2_payload_Transform, IKEv2_payload_KE,
                                 IKEv2_payload_Nonce, IKEv2_payload_Notify,
                                 IKEv2_payload_VendorID, IKEv2_payload_IDi,
                                 IKEv2_payload_TSi, IKEv2_payload_TSr,
                                 IPv4TrafficSelector, IKEv2_payload_Encrypted)
from scapy.layers.isakmp import (ISAKMP, ISAKMP_payload_SA, ISAKMP_payload_Proposal,
                                 ISAKMP_payload_Transform, ISAKMP_payload_VendorID,
                                 ISAKMP_payload_KE, ISAKMP_payload_Nonce,
                                 ISAKMP_payload_ID)
import hashlib

HERE = os.path.dirname(os.path.abspath(__file__))


# scapy 2.5 does not chain IKEv2 next-payload fields itself: each payload
# below names the one after it.
def write(name, pkt):
    with open(os.path.join(HERE, name + ".hex"), "w") as f:
        f.write(bytes(pkt).hex() + "\n")


def ikev2_sa_init():
    prop = IKEv2_payload_Proposal(proposal=1, proto=1, trans_nb=4, trans=(
        IKEv2_payload_Transform(next_payload=3, transform_type=1, transform_id=12,
                                length=12, key_length=256)  # scapy drops the attribute unless told its length
        / IKEv2_payload_Transform(next_payload=3, transform_type=2, transform_id=5)
        / IKEv2_payload_Transform(next_payload=3, transform_type=3, transform_id=12)
        / IKEv2_payload_Transform(next_payload=0, transform_type=4, transform_id=14)))
    return (IKEv2(init_SPI=bytes(range(1, 9)), resp_SPI=b"\0" * 8, exch_type=34,
                  flags="Initiator", id=0)
            / IKEv2_payload_SA(next_payload=34, prop=prop)
            / IKEv2_payload_KE(next_payload=40, group=14, load=bytes([0xa5]) * 256)
            / IKEv2_payload_Nonce(next_payload=41, load=bytes(range(32)))
            / IKEv2_payload_Notify(next_payload=43, proto=0, type=16388, load=bytes([0x11]) * 20)
            / IKEv2_payload_VendorID(next_payload=0, vendorID=hashlib.md5(b"strongSwan").digest()))


def ikev2_ts():
    # IKE_AUTH contents as if decrypted, sent in the clear for the test
    return (IKEv2(init_SPI=bytes(range(1, 9)), resp_SPI=bytes(range(9, 17)), exch_type=35,
                  flags="Response", id=1)
            / IKEv2_payload_IDi(next_payload=44, IDtype=2, ID=b"gw.example.org", length=8 + 14)  # scapy cannot size IDi itself
            / IKEv2_payload_TSi(next_payload=45, traffic_selector=[
                IPv4TrafficSelector(IP_protocol_ID=6, start_port=0, end_port=65535,
                                    starting_address_v4="10.1.0.0",
                                    ending_address_v4="10.1.255.255")])
            / IKEv2_payload_TSr(next_payload=0, traffic_selector=[
                IPv4TrafficSelector(IP_protocol_ID=17, start_port=500, end_port=500,
                                    starting_address_v4="192.0.2.1",
                                    ending_address_v4="192.0.2.1"),
                IPv4TrafficSelector(IP_protocol_ID=0, start_port=0, end_port=65535,
                                    starting_address_v4="0.0.0.0",
                                    ending_address_v4="255.255.255.255")]))


def ikev2_sk():
    return (IKEv2(init_SPI=bytes(range(1, 9)), resp_SPI=bytes(range(9, 17)), exch_type=37,
                  flags="Initiator", id=2)
            / IKEv2_payload_Encrypted(next_payload=42, load=bytes(range(16)) + b"\xee" * 32 +
                                      b"\xcc" * 16))


def isakmp_main_mode():
    tr = ISAKMP_payload_Transform(num=1, id=1, transforms=[
        ("Encryption", "AES-CBC"), ("KeyLength", 256), ("Hash", "SHA"),
        ("Authentication", "PSK"), ("GroupDesc", 14), ("LifeType", "Seconds"),
        ("LifeDuration", 28800)])
    return (ISAKMP(init_cookie=bytes(range(0x21, 0x29)), resp_cookie=b"\0" * 8, exch_type=2)
            / ISAKMP_payload_SA(DOI=1, situation=1,
                                prop=ISAKMP_payload_Proposal(proposal=1, proto=1, trans_nb=1,
                                                             trans=tr))
            / ISAKMP_payload_VendorID(load=hashlib.md5(b"RFC 3947").digest())
            / ISAKMP_payload_VendorID(load=bytes.fromhex("afcad71368a1f1c96b8696fc77570100")))


def isakmp_aggressive():
    return (ISAKMP(init_cookie=bytes(range(0x21, 0x29)), resp_cookie=bytes(range(0x31, 0x39)),
                   exch_type=4, id=0)
            / ISAKMP_payload_KE(load=bytes([0x5a]) * 128)
            / ISAKMP_payload_Nonce(load=bytes(range(20)))
            / ISAKMP_payload_ID(IDtype=1, ProtoID=17, Port=500, load=bytes([192, 0, 2, 7])))


if __name__ == "__main__":
    write("ikev2_sa_init", ikev2_sa_init())
    write("ikev2_ts", ikev2_ts())
    write("ikev2_sk", ikev2_sk())
    write("isakmp_main_mode", isakmp_main_mode())
    write("isakmp_aggressive", isakmp_aggressive())
