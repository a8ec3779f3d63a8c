# xval_esp.py - the independent ESP peer: scapy's SecurityAssociation does the
# encryption and decryption; a small reference built on the `cryptography`
# module (which scapy also uses) covers what scapy 2.5 lacks (the ESN high
# half in the ICVs of HMAC and the AES MACs, RFC 4303 §3.3.2.1), checks the
# trailer (scapy does not check ESP padding) and crafts packets with a valid
# ICV but a wrong trailer.
# ESP in UDP (RFC 3948) is scapy's too: SecurityAssociation(..., nat_t_header=).
# AES-CCM (RFC 4309) is scapy's CRYPT_ALGOS['AES-CCM'], its ICV length given
# as crypt_icv_size (scapy defaults to 16), its 3-byte salt split off by
# scapy itself (salt_size); the reference is the `cryptography` AESCCM.
# NULL encryption (RFC 2410) is scapy's CRYPT_ALGOS['NULL'] and, in the
# reference, the identity in place of CBC.
# AES-XCBC-MAC-96 (RFC 3566) and AES-CMAC-96 (RFC 4494) are xval_mac's in
# the reference; scapy's AES-CMAC-96 is its own (cryptography's CMAC), its
# AES-XCBC-MAC-96 the one xval_mac adds to it (held to RFC 3566's vectors).
# AES-GMAC (RFC 4543: integrity only, the payload in clear after an 8-byte
# IV, the ICV GCM's tag over SPI || seq (|| high half first with ESN) || IV
# || payload || trailer) is xval_gmac's CRYPT_ALGOS['NULL-AES-GMAC'] in
# scapy (its GHASH written there) and `cryptography`'s AESGCM with an empty
# plaintext in the reference (gmac: True).
# ALGS also names the AH transforms (ah: True); xval_ah.py is their peer.
import hmac
import os
import struct
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as c_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import ESP, SecurityAssociation, IPSecIntegrityError
from scapy.packet import Raw

import xval_gmac as G  # registers scapy's NULL-AES-GMAC
import xval_mac as M  # also registers scapy's AES-XCBC-MAC-96

# name -> parameters. key: encryption keymat length (GCM, ChaCha20-Poly1305:
# key || 4-byte salt; CCM: key || 3-byte salt); salt: the keymat's last bytes,
# the nonce's first (combined modes only)
ALGS = {
    "aes128gcm16": dict(enc="aes128gcm16", integ=None, key=20, ikey=0, scapy_crypt="AES-GCM",
                        scapy_auth=None, iv=8, icv=16, align=4, aead=True, salt=4, ah=False),
    "aes256gcm16": dict(enc="aes256gcm16", integ=None, key=36, ikey=0, scapy_crypt="AES-GCM",
                        scapy_auth=None, iv=8, icv=16, align=4, aead=True, salt=4, ah=False),
    "aes192gcm16": dict(enc="aes192gcm16", integ=None, key=28, ikey=0, scapy_crypt="AES-GCM",
                        scapy_auth=None, iv=8, icv=16, align=4, aead=True, salt=4, ah=False),
    # RFC 4309: key || 3-byte salt, nonce salt || IV (11 bytes), ICV 8, 12 or 16
    # bytes (the name's last number); scapy's AES-CCM, crypt_icv_size= the ICV
    "aes128ccm16": dict(enc="aes128ccm16", integ=None, key=19, ikey=0, scapy_crypt="AES-CCM",
                        scapy_auth=None, iv=8, icv=16, align=4, aead=True, salt=3, ah=False),
    "aes256ccm8": dict(enc="aes256ccm8", integ=None, key=35, ikey=0, scapy_crypt="AES-CCM",
                       scapy_auth=None, iv=8, icv=8, align=4, aead=True, salt=3, ah=False),
    "chacha20poly1305": dict(enc="chacha20poly1305", integ=None, key=36, ikey=0,
                             scapy_crypt="CHACHA20-POLY1305", scapy_auth=None, iv=8, icv=16,
                             align=4, aead=True, salt=4, ah=False),
    "aes128-sha1_96": dict(enc="aes128", integ="sha1_96", key=16, ikey=20, scapy_crypt="AES-CBC",
                           scapy_auth="HMAC-SHA1-96", iv=16, icv=12, align=16, aead=False,
                           ah=False),
    "aes128-sha256_128": dict(enc="aes128", integ="sha256_128", key=16, ikey=32,
                              scapy_crypt="AES-CBC", scapy_auth="SHA2-256-128", iv=16, icv=16,
                              align=16, aead=False, ah=False),
    "aes256-sha256_128": dict(enc="aes256", integ="sha256_128", key=32, ikey=32,
                              scapy_crypt="AES-CBC", scapy_auth="SHA2-256-128", iv=16, icv=16,
                              align=16, aead=False, ah=False),
    # RFC 4868: the ICV half the hash, the key the whole hash
    "aes128-sha384_192": dict(enc="aes128", integ="sha384_192", key=16, ikey=48,
                              scapy_crypt="AES-CBC", scapy_auth="SHA2-384-192", iv=16, icv=24,
                              align=16, aead=False, ah=False),
    "aes256-sha512_256": dict(enc="aes256", integ="sha512_256", key=32, ikey=64,
                              scapy_crypt="AES-CBC", scapy_auth="SHA2-512-256", iv=16, icv=32,
                              align=16, aead=False, ah=False),
    # RFC 2451: 8-byte IV and blocks; the seeds' "High" with SHA-1
    "3des-sha1_96": dict(enc="3des", integ="sha1_96", key=24, ikey=20, scapy_crypt="3DES",
                         scapy_auth="HMAC-SHA1-96", iv=8, icv=12, align=8, aead=False, ah=False),
    # RFC 2410: ESP with integrity only, the payload in clear: no key, no IV,
    # the trailer aligned to 4 bytes; the ICV as for CBC
    "null-sha256_128": dict(enc="null", integ="sha256_128", key=0, ikey=32, scapy_crypt="NULL",
                            scapy_auth="SHA2-256-128", iv=0, icv=16, align=4, aead=False,
                            ah=False),
    # RFC 4543 AES-GMAC: GCM's keymat (key || 4-byte salt), nonce (salt ||
    # IV) and 16-byte ICV, the IV the sequence number; nothing encrypted,
    # the ICV over SPI, seq, IV and the clear payload with its trailer
    "aes128gmac": dict(enc="aes128gmac", integ=None, key=20, ikey=0, scapy_crypt=G.NAME,
                       scapy_auth=None, iv=8, icv=16, align=4, aead=True, salt=4, ah=False,
                       gmac=True),
    "aes192gmac": dict(enc="aes192gmac", integ=None, key=28, ikey=0, scapy_crypt=G.NAME,
                       scapy_auth=None, iv=8, icv=16, align=4, aead=True, salt=4, ah=False,
                       gmac=True),
    "aes256gmac": dict(enc="aes256gmac", integ=None, key=36, ikey=0, scapy_crypt=G.NAME,
                       scapy_auth=None, iv=8, icv=16, align=4, aead=True, salt=4, ah=False,
                       gmac=True),
    # AES-XCBC-MAC-96 (RFC 3566) and AES-CMAC-96 (RFC 4494): a 16-byte key,
    # a 12-byte ICV. What they tag with AES-CBC (8 + 16 + 16n bytes, with ESN
    # 4 more) never ends in a whole block; with 3DES (8 + 8 + 8n) every other
    # length does, with NULL (8 + 4n) one in four
    "aes128-aesxcbc_96": dict(enc="aes128", integ="aesxcbc_96", key=16, ikey=16,
                              scapy_crypt="AES-CBC", scapy_auth="AES-XCBC-MAC-96", iv=16,
                              icv=12, align=16, aead=False, ah=False),
    "3des-aesxcbc_96": dict(enc="3des", integ="aesxcbc_96", key=24, ikey=16, scapy_crypt="3DES",
                            scapy_auth="AES-XCBC-MAC-96", iv=8, icv=12, align=8, aead=False,
                            ah=False),
    "aes128-aescmac_96": dict(enc="aes128", integ="aescmac_96", key=16, ikey=16,
                              scapy_crypt="AES-CBC", scapy_auth="AES-CMAC-96", iv=16, icv=12,
                              align=16, aead=False, ah=False),
    "null-aescmac_96": dict(enc="null", integ="aescmac_96", key=0, ikey=16, scapy_crypt="NULL",
                            scapy_auth="AES-CMAC-96", iv=0, icv=12, align=4, aead=False,
                            ah=False),
    # AH (RFC 4302): integrity only, no key or IV for encryption
    "ah-sha1_96": dict(enc=None, integ="sha1_96", key=0, ikey=20, scapy_crypt=None,
                       scapy_auth="HMAC-SHA1-96", iv=0, icv=12, align=4, aead=False, ah=True),
    "ah-sha256_128": dict(enc=None, integ="sha256_128", key=0, ikey=32, scapy_crypt=None,
                          scapy_auth="SHA2-256-128", iv=0, icv=16, align=4, aead=False,
                          ah=True),
    "ah-sha384_192": dict(enc=None, integ="sha384_192", key=0, ikey=48, scapy_crypt=None,
                          scapy_auth="SHA2-384-192", iv=0, icv=24, align=4, aead=False,
                          ah=True),
    "ah-sha512_256": dict(enc=None, integ="sha512_256", key=0, ikey=64, scapy_crypt=None,
                          scapy_auth="SHA2-512-256", iv=0, icv=32, align=4, aead=False,
                          ah=True),
    "ah-aesxcbc_96": dict(enc=None, integ="aesxcbc_96", key=0, ikey=16, scapy_crypt=None,
                          scapy_auth="AES-XCBC-MAC-96", iv=0, icv=12, align=4, aead=False,
                          ah=True),
    "ah-aescmac_96": dict(enc=None, integ="aescmac_96", key=0, ikey=16, scapy_crypt=None,
                          scapy_auth="AES-CMAC-96", iv=0, icv=12, align=4, aead=False,
                          ah=True),
}
ESP_ALGS = [a for a, p in ALGS.items() if not p["ah"]]
AH_ALGS = [a for a, p in ALGS.items() if p["ah"]]

_HASH = {"sha1_96": hashes.SHA1, "sha256_128": hashes.SHA256, "sha384_192": hashes.SHA384,
         "sha512_256": hashes.SHA512}


def _aead(spec):
    """The SA's combined-mode cipher (RFC 4106 AES-GCM, RFC 4309 AES-CCM,
    RFC 7634 ChaCha20-Poly1305; RFC 4543 AES-GMAC: AES-GCM) and salt: each
    splits its keymat into key || salt (4 bytes; 3 for CCM, whose nonce is
    11 bytes) and takes salt || IV as the nonce."""
    n = spec.p["salt"]
    key, salt = spec.enc_key[:-n], spec.enc_key[-n:]
    if spec.p["scapy_crypt"] == "AES-CCM":
        return AESCCM(key, tag_length=spec.p["icv"]), salt
    return (ChaCha20Poly1305 if spec.p["enc"] == "chacha20poly1305" else AESGCM)(key), salt


def _cbc(spec, iv):
    """The SA's CBC cipher (AES, or 3DES for "3des") under iv."""
    alg = algorithms.TripleDES if spec.p["enc"] == "3des" else algorithms.AES
    return Cipher(alg(spec.enc_key), modes.CBC(iv))


def _cbc_crypt(spec, iv, data, encrypt):
    """data through the SA's CBC cipher; "null" is the identity (RFC 2410:
    no IV, nothing to decrypt)."""
    if spec.p["enc"] == "null":
        return data
    c = _cbc(spec, iv)
    c = c.encryptor() if encrypt else c.decryptor()
    return c.update(data) + c.finalize()


def encrypts(p):
    """Whether an ALGS entry hides the payload: ESP with a cipher, not
    NULL, not AES-GMAC, not AH (what dpsecd's confidential_bytes_* count)."""
    return not p["ah"] and p["enc"] != "null" and not p.get("gmac")


def clear_payload(p):
    """ESP that carries its payload in clear: NULL (RFC 2410), AES-GMAC
    (RFC 4543)."""
    return not p["ah"] and not encrypts(p)

NH_IPV4 = 4
NH_IPV6 = 41
NATT_PORTS = (4500, 4600)  # UDP ports the cases use for ESP in UDP
UDP_LEN = 8


@dataclass
class SaSpec:
    """One SA as written into dpsecd's configuration. For inbound SAs the
    peer sends remote -> local; for outbound SAs dpsecd sends local -> remote."""
    name: str
    spi: int
    direction: str      # "outbound" | "inbound"
    mode: str           # "tunnel" | "transport"
    local: str
    remote: str
    alg: str            # key of ALGS
    esn: bool
    enc_key: bytes = b""
    integ_key: bytes = b""
    replay_window: int = 64
    encap: str = "none"  # "udp": ESP in UDP (RFC 3948)
    udp_sport: int = 4500  # the UDP ports of the SA's packets (source, destination)
    udp_dport: int = 4500
    df_bit: str = "copy"   # the outer IPv4 DF: "copy" (from the inner), "set" or "clear"
    dscp: object = None    # the outer DSCP: None copies the inner one's, else 0..63
    p: dict = field(init=False)

    def __post_init__(self):
        self.p = ALGS[self.alg]

    def keygen(self, rng):
        self.enc_key = bytes(rng.getrandbits(8) for _ in range(self.p["key"]))
        self.integ_key = bytes(rng.getrandbits(8) for _ in range(self.p["ikey"]))
        return self


class EspError(Exception):
    pass


def nat_t_header(spec):
    """scapy's UDP header for an SA with UDP encapsulation, else None."""
    if spec.encap != "udp":
        return None
    return UDP(sport=spec.udp_sport, dport=spec.udp_dport)


def _scapy_sa(spec, esn_hi=0):
    """scapy's SA for spec; a combined mode's ICV length given to it
    (crypt_icv_size: scapy takes 16 otherwise, wrong for CCM's 8 and 12)."""
    sa = SecurityAssociation(
        ESP, spi=spec.spi, crypt_algo=spec.p["scapy_crypt"], crypt_key=spec.enc_key,
        crypt_icv_size=spec.p["icv"] if spec.p["aead"] else None,
        auth_algo=spec.p["scapy_auth"], auth_key=spec.integ_key or None,
        esn_en=spec.esn, esn=esn_hi, nat_t_header=nat_t_header(spec))
    if spec.p["aead"] and len(sa.crypt_salt) != spec.p["salt"]:
        raise EspError("peer self-check: scapy's %s salt is %d bytes, the SA's %d"
                       % (spec.p["scapy_crypt"], len(sa.crypt_salt), spec.p["salt"]))
    return sa


def scapy_decrypt_packet(spec, ip_bytes):
    """scapy's whole receive path (SecurityAssociation.decrypt, UDP
    encapsulation included) on an ESP packet; returns the bytes it gives back:
    the inner packet (tunnel) or the restored IP packet (transport)."""
    cls = IP if ip_bytes[0] >> 4 == 4 else IPv6
    sa = _scapy_sa(spec)
    if spec.mode == "tunnel":
        sa.tunnel_header = cls()  # scapy then returns the inner packet
    try:
        return bytes(sa.decrypt(cls(ip_bytes)))
    except IPSecIntegrityError as e:
        raise EspError("scapy: %s" % e) from e


def min_pad(spec, data_len):
    """RFC 4303 §2.4: the minimum padding that aligns data || pad || 2."""
    return -(data_len + 2) % spec.p["align"]


def default_padding(n):
    return bytes(range(1, n + 1))


# ---- the reference implementation (cryptography) ---------------------------

def _hmac_icv(spec, esp_bytes, seq_hi):
    """The ICV of a CBC or NULL SA: HMAC, or the AES MACs of xval_mac."""
    data = esp_bytes + (struct.pack("!I", seq_hi) if spec.esn else b"")  # RFC 4303 §2.2.1
    if spec.p["integ"] in M.AES_MACS:
        return M.tag(spec.p["integ"], spec.integ_key, data)[:spec.p["icv"]]
    h = c_hmac.HMAC(spec.integ_key, _HASH[spec.p["integ"]]())
    h.update(data)
    return h.finalize()[:spec.p["icv"]]


def ref_seal(spec, seq64, plaintext, iv=None):
    """ESP header || IV || ciphertext || ICV for a plaintext that already
    holds payload || padding || pad length || next header."""
    seq_lo, seq_hi = seq64 & 0xFFFFFFFF, seq64 >> 32
    hdr = struct.pack("!II", spec.spi, seq_lo)
    if spec.p["aead"]:
        cipher, salt = _aead(spec)
        iv = struct.pack("!Q", seq64) if iv is None else iv
        aad = hdr if not spec.esn else struct.pack("!III", spec.spi, seq_hi, seq_lo)
        if spec.p.get("gmac"):  # RFC 4543 §3.3: all in the AAD, nothing encrypted
            return hdr + iv + plaintext + cipher.encrypt(salt + iv, b"", aad + iv + plaintext)
        return hdr + iv + cipher.encrypt(salt + iv, plaintext, aad)
    iv = os.urandom(spec.p["iv"]) if iv is None else iv
    if len(plaintext) % spec.p["align"]:
        raise EspError("CBC plaintext of %d bytes" % len(plaintext))
    body = hdr + iv + _cbc_crypt(spec, iv, plaintext, True)
    return body + _hmac_icv(spec, body, seq_hi)


def ref_open(spec, esp_bytes, seq_hi=0):
    """Verifies and decrypts ESP bytes (from the SPI on); returns
    (iv, plaintext with trailer). Raises EspError on a bad ICV."""
    p = spec.p
    if len(esp_bytes) < 8 + p["iv"] + p["icv"]:
        raise EspError("ESP too short: %d bytes" % len(esp_bytes))
    hdr, iv = esp_bytes[:8], esp_bytes[8:8 + p["iv"]]
    ct, icv = esp_bytes[8 + p["iv"]:-p["icv"]], esp_bytes[-p["icv"]:]
    if p["aead"]:
        cipher, salt = _aead(spec)
        spi, seq_lo = struct.unpack("!II", hdr)
        aad = hdr if not spec.esn else struct.pack("!III", spi, seq_hi, seq_lo)
        try:
            if p.get("gmac"):  # the tag over an empty ciphertext; ct is the clear payload
                cipher.decrypt(salt + iv, icv, aad + iv + ct)
                return iv, ct
            return iv, cipher.decrypt(salt + iv, ct + icv, aad)
        except Exception as e:
            raise EspError("%s tag mismatch" % p["enc"]) from e
    if not hmac.compare_digest(_hmac_icv(spec, esp_bytes[:-p["icv"]], seq_hi), icv):
        raise EspError("%s ICV mismatch" % p["integ"])
    if len(ct) % p["align"]:
        raise EspError("CBC ciphertext of %d bytes" % len(ct))
    return iv, _cbc_crypt(spec, iv, ct, False)


def split_trailer(plain):
    """(payload, padding, pad length, next header) of a decrypted plaintext."""
    if len(plain) < 2:
        raise EspError("plaintext of %d bytes" % len(plain))
    padlen, nh = plain[-2], plain[-1]
    if padlen > len(plain) - 2:
        raise EspError("pad length %d > %d" % (padlen, len(plain) - 2))
    end = len(plain) - 2 - padlen
    return plain[:end], plain[end:-2], padlen, nh


# ---- the peer: scapy ------------------------------------------------------

def scapy_encrypt(spec, ip_pkt, seq64, iv=None):
    """Encrypts ip_pkt (an IP/IPv6 scapy packet whose payload is what goes
    inside ESP: the inner packet in tunnel mode, the transport payload in
    transport mode) with scapy. Returns the bytes of the ESP packet (outer
    header included). ESN with HMAC: scapy 2.5 leaves the high half out of the
    ICV, so the ICV is recomputed with the reference."""
    seq_lo, seq_hi = seq64 & 0xFFFFFFFF, seq64 >> 32
    if iv is None and spec.p["aead"]:
        iv = struct.pack("!Q", seq64)
    sa = _scapy_sa(spec, seq_hi)
    sa.seq_num = seq_lo  # not seq_num=seq_lo: scapy takes a 0 for "not given"
    pkt = sa.encrypt(ip_pkt, iv=iv, esn_en=spec.esn, esn=seq_hi)
    b = _fix_scapy_udp_len(spec, bytes(pkt))
    if struct.unpack("!II", b[esp_offset(b):esp_offset(b) + 8]) != (spec.spi, seq_lo):
        raise EspError("peer self-check: scapy wrote the wrong SPI or sequence number")
    if spec.esn and not spec.p["aead"]:
        off = esp_offset(b)
        icv = _hmac_icv(spec, b[off:-spec.p["icv"]], seq_hi)
        b = b[:-spec.p["icv"]] + icv
    return b


def _fix_scapy_udp_len(spec, b):
    """scapy 2.5 freezes the IPv4 header before ESP is attached, so the UDP
    length of its ESP in UDP over IPv4 says 8 (its IPv6 path is right): set
    it to what follows the IP header, as a real peer does. The UDP checksum
    is 0 and the IP checksum does not cover UDP: nothing else changes."""
    if spec.encap != "udp" or b[0] >> 4 != 4:
        return b
    hl = (b[0] & 15) * 4
    return b[:hl + 4] + struct.pack("!H", len(b) - hl) + b[hl + 6:]


def scapy_decrypt(spec, ip_bytes, seq_hi=0):
    """Verifies and decrypts an ESP packet (IP bytes, outer header included)
    with scapy. Returns (payload bytes, next header, pad length, iv).
    Raises EspError when verification fails."""
    off = esp_offset(ip_bytes)
    esp = ESP(ip_bytes[off:])
    sa = _scapy_sa(spec, seq_hi)
    try:
        if not spec.p["aead"]:
            if spec.esn:  # scapy cannot: verify with the reference
                if not hmac.compare_digest(
                        _hmac_icv(spec, ip_bytes[off:-spec.p["icv"]], seq_hi),
                        ip_bytes[-spec.p["icv"]:]):
                    raise EspError("%s ICV (ESN) mismatch" % spec.p["integ"])
            else:
                sa.auth_algo.verify(esp, sa.auth_key)
        icv_size = sa.crypt_icv_size or sa.crypt_algo.icv_size or sa.auth_algo.icv_size
        plain = sa.crypt_algo.decrypt(sa, esp, sa.crypt_key, icv_size,
                                      esn_en=spec.esn, esn=seq_hi)
    except IPSecIntegrityError as e:
        raise EspError("scapy: %s" % e) from e
    data = plain.data
    data = bytes(data) if not isinstance(data, (bytes, bytearray)) else bytes(data)
    return data, plain.nh, plain.padlen, bytes(plain.iv)


def _after_udp(ip_bytes, off):
    """Offset of ESP in UDP whose header is at off (RFC 3948: a NAT-T port,
    and not the non-ESP marker of IKE)."""
    if len(ip_bytes) < off + UDP_LEN:
        raise EspError("UDP header cut short (a later fragment?)")
    sport, dport = struct.unpack("!HH", ip_bytes[off:off + 4])
    if sport not in NATT_PORTS and dport not in NATT_PORTS:
        raise EspError("UDP %d -> %d, not a NAT-T port" % (sport, dport))
    if ip_bytes[off + UDP_LEN:off + UDP_LEN + 4] == bytes(4):
        raise EspError("UDP with the non-ESP marker (IKE)")
    return off + UDP_LEN


def esp_offset(ip_bytes):
    """Offset of the ESP header in an IPv4/IPv6 packet, plain or in UDP (no
    extension headers other than those scapy's split_for_transport puts
    before ESP)."""
    v = ip_bytes[0] >> 4
    if v == 4:
        off = (ip_bytes[0] & 15) * 4
        if ip_bytes[9] == 17:
            return _after_udp(ip_bytes, off)
        if ip_bytes[9] != 50:
            raise EspError("IPv4 protocol %d, not ESP" % ip_bytes[9])
        return off
    if v == 6:
        nh, off = ip_bytes[6], 40
        while nh in (0, 43, 60):
            nh, off = ip_bytes[off], off + (ip_bytes[off + 1] + 1) * 8
        if nh == 17:
            return _after_udp(ip_bytes, off)
        if nh != 50:
            raise EspError("IPv6 next header %d, not ESP" % nh)
        return off
    raise EspError("IP version %d" % v)


def udp_wrap(spec, esp, length=None):
    """A UDP header for spec's ports in front of ESP bytes (length: the UDP
    length field, normally 8 + the ESP bytes; checksum 0)."""
    n = UDP_LEN + len(esp) if length is None else length
    return struct.pack("!HHHH", spec.udp_sport, spec.udp_dport, n, 0) + esp


def ip_with_esp(spec, outer, esp):
    """outer carrying ESP bytes as the SA sends them: in UDP or plain."""
    if spec.encap == "udp":
        return ip_with_payload(outer, 17, udp_wrap(spec, esp))
    return ip_with_payload(outer, 50, esp)


def seal_custom(spec, outer, seq64, payload, nh, padding=None, padlen=None):
    """An ESP packet (outer header bytes included) with a chosen trailer and a
    valid ICV: the reference builds it, so that bad padding or a bad next
    header reach dpsecd authenticated. outer: scapy IP/IPv6 header without
    payload (its protocol/length fields are set here)."""
    if padding is None:
        padding = default_padding(min_pad(spec, len(payload)))
    plen = len(padding) if padlen is None else padlen
    plain = payload + padding + bytes([plen, nh])
    if not spec.p["aead"]:
        # CBC needs whole blocks: the caller keeps payload+padding+2 aligned
        if len(plain) % spec.p["align"]:
            raise EspError("custom CBC trailer misaligned")
    esp = ref_seal(spec, seq64, plain)
    return ip_with_esp(spec, outer, esp)


def ip_with_payload(outer, proto, payload):
    """Bytes of outer (scapy IP/IPv6, no payload) carrying payload as proto."""
    o = outer.copy()
    if isinstance(o, IP):
        o.proto = proto
        o.len = None
        o.chksum = None
    else:
        o.nh = proto
        o.plen = None
    return bytes(o / Raw(payload))


def encrypt_tunnel(spec, outer, inner, seq64):
    """inner (bytes of an IPv4/IPv6 packet) in tunnel mode under outer (a scapy
    IP/IPv6 header) with scapy. Checks with the reference that the inner bytes
    went in unchanged (scapy re-dissects packets on the way)."""
    o = outer.copy()
    nh = NH_IPV4 if inner[0] >> 4 == 4 else NH_IPV6
    if isinstance(o, IP):
        o.proto = nh
    else:
        o.nh = nh
    b = scapy_encrypt(spec, o / Raw(inner), seq64)
    _selfcheck(spec, b, seq64, inner, nh)
    return b


def encrypt_transport(spec, ip_bytes, seq64):
    """ip_bytes (a plain IPv4/IPv6 packet, no extension headers) in transport
    mode with scapy."""
    cls = IP if ip_bytes[0] >> 4 == 4 else IPv6
    b = scapy_encrypt(spec, cls(ip_bytes), seq64)
    hl = (ip_bytes[0] & 15) * 4 if cls is IP else 40
    nh = ip_bytes[9] if cls is IP else ip_bytes[6]
    _selfcheck(spec, b, seq64, ip_bytes[hl:], nh)
    return b


def _selfcheck(spec, b, seq64, payload, nh):
    _, plain = ref_open(spec, b[esp_offset(b):], seq64 >> 32)
    got, padding, _, got_nh = split_trailer(plain)
    if got != payload or got_nh != nh or padding != default_padding(len(padding)):
        raise EspError("peer self-check: scapy's ESP does not carry the packet intact")
