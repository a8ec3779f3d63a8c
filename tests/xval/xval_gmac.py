# xval_gmac.py - AES-GMAC in ESP (RFC 4543, ENCR_NULL_AUTH_AES_GMAC):
# integrity without confidentiality. scapy 2.5 lacks it and gets it here as
# CRYPT_ALGOS['NULL-AES-GMAC'] (register()): a CryptAlgo whose encrypt leaves
# the payload in clear and appends the ICV, and whose decrypt checks the ICV
# (IPSecIntegrityError on a mismatch, as scapy's AEAD algorithms) and
# returns the payload as it came.
#
# RFC 4543: the keymat is the AES key || a 4-byte salt, the nonce salt ||
# IV (the 8-byte IV after the ESP header), the ICV GCM's 16-byte tag over an
# empty plaintext, and the AAD (§3.3, Figures 4 and 5) SPI || sequence
# number (with ESN: SPI || high half || low half, the AAD of AES-GCM in
# RFC 4106 §5) || IV || payload || padding || pad length || next header.
#
# The GMAC is written here: GHASH (NIST SP 800-38D §6.4, multiplication in
# GF(2^128) with GCM's reflected bits, on byte tables of H) and the tag
# E(K, J0) ^ GHASH(A || len), with AES from `cryptography` (ECB for H and
# the last block). The reference in xval_esp uses `cryptography`'s AESGCM
# with an empty plaintext instead; the selftest holds both to NIST CAVP
# gcmEncryptExtIV128's vector (PTlen 0, AADlen 128, count 0), to each other
# on every AAD length up to 100 bytes and every key length, and checks an
# ESP packet the scapy algorithm builds, byte by byte.
import functools
import hmac
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from scapy.layers import ipsec as scapy_ipsec

NAME = "NULL-AES-GMAC"  # our name in scapy's CRYPT_ALGOS
IV = 8      # RFC 4543 §3.1
SALT = 4    # RFC 4543 §3.2
ICV = 16    # RFC 4543 §3.4: the full tag
BLOCK = 16
_R = 0xE1 << 120  # SP 800-38D §6.3: R = 11100001 || 0^120


def _ecb(key, block):
    e = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return e.update(block) + e.finalize()


@functools.lru_cache(maxsize=256)
def _tables(h):
    """For H (an int, the block's first bit its top bit): t[j][b] = the
    product with H of a block that is all zero but byte b at position j.
    SP 800-38D Algorithm 1: X.H is the XOR of V_i over the bits x_i set
    (bit 0 the leftmost), V_0 = H, V_{i+1} = V_i >> 1, ^ R when V_i's
    rightmost bit was 1."""
    v, vs = h, []
    for _ in range(128):
        vs.append(v)
        v = (v >> 1) ^ _R if v & 1 else v >> 1
    tables = []
    for j in range(BLOCK):
        t = [0] * 256
        for b in range(1, 256):
            low = b & -b  # the byte's lowest set bit: bit 7 - log2(low) from the left
            t[b] = t[b ^ low] ^ vs[8 * j + 7 - (low.bit_length() - 1)]
        tables.append(t)
    return tables


def ghash(h, data):
    """GHASH_H of data, zero-padded to whole blocks (SP 800-38D §6.4)."""
    t = _tables(int.from_bytes(h, "big"))
    y = 0
    data = bytes(data) + bytes(-len(data) % BLOCK)
    for i in range(0, len(data), BLOCK):
        x = y ^ int.from_bytes(data[i:i + BLOCK], "big")
        y = 0
        for j, b in enumerate(x.to_bytes(BLOCK, "big")):
            if b:
                y ^= t[j][b]
    return y.to_bytes(BLOCK, "big")


def gmac(key, nonce, aad):
    """GCM's tag over an empty plaintext with a 12-byte nonce (SP 800-38D
    §7.1: J0 = nonce || 0^31 || 1; S = GHASH(A || 0-pad || [len(A)]_64 ||
    [0]_64); T = E(K, J0) ^ S)."""
    if len(nonce) != 12:
        raise ValueError("GMAC nonce of %d bytes, ESP's is 12" % len(nonce))
    h = _ecb(key, bytes(BLOCK))
    aad = bytes(aad)
    s = ghash(h, aad + bytes(-len(aad) % BLOCK) + struct.pack("!QQ", 8 * len(aad), 0))
    ek = _ecb(key, bytes(nonce) + b"\x00\x00\x00\x01")
    return bytes(a ^ b for a, b in zip(ek, s))


def esp_aad(spi, seq_lo, iv, tail, esn_en=False, seq_hi=0):
    """RFC 4543 §3.3: what the ICV covers, with ESN the high half between
    the SPI and the low half (Figure 5); tail: payload || padding || pad
    length || next header."""
    hdr = struct.pack("!III", spi, seq_hi, seq_lo) if esn_en else struct.pack("!II", spi, seq_lo)
    return hdr + bytes(iv) + bytes(tail)


def ref_tag(key, nonce, aad):
    """The same tag by `cryptography`'s AES-GCM, the plaintext empty."""
    return AESGCM(bytes(key)).encrypt(bytes(nonce), b"", bytes(aad))


class GmacAlgo(scapy_ipsec.CryptAlgo):
    """ENCR_NULL_AUTH_AES_GMAC for scapy's SecurityAssociation: sa.crypt_key
    the AES key, sa.crypt_salt the 4-byte salt (scapy splits them by
    salt_size), the IV 8 bytes (sa.encrypt(iv=...): dpsecd's is the
    sequence number), padding to 4 bytes (block_size 1) as scapy pads."""

    def __init__(self):
        super().__init__(NAME, cipher=None, mode=None, block_size=1, iv_size=IV,
                         key_size=(16, 24, 32), icv_size=ICV, salt_size=SALT,
                         format_mode_iv=lambda sa, iv, **kw: sa.crypt_salt + iv)
        self.is_aead = True  # its own ICV, over an AAD, as scapy's AEADs

    def _icv(self, sa, key, spi, seq, iv, tail, icv_size, esn_en, esn):
        aad = esp_aad(spi, seq, iv, tail, esn_en, esn)
        return gmac(key, self._format_mode_iv(sa=sa, iv=iv), aad)[:icv_size]

    def encrypt(self, sa, esp, key, icv_size=None, esn_en=False, esn=0):
        """The ESP packet: IV, the payload and its trailer in clear, the ICV."""
        self.check_key(key)
        icv_size = icv_size or self.icv_size
        tail = esp.data_for_encryption()
        iv = bytes(esp.iv)
        icv = self._icv(sa, key, esp.spi, esp.seq, iv, tail, icv_size, esn_en, esn)
        return scapy_ipsec.ESP(spi=esp.spi, seq=esp.seq, data=iv + tail + icv)

    def decrypt(self, sa, esp, key, icv_size=None, esn_en=False, esn=0):
        """Checks the ICV (IPSecIntegrityError if wrong) and returns the
        packet's parts as scapy's _ESPPlain; nothing to decipher."""
        icv_size = icv_size or self.icv_size
        data = bytes(esp.data)
        if len(data) < self.iv_size + 2 + icv_size:
            raise scapy_ipsec.IPSecIntegrityError("%s: ESP data of %d bytes" % (NAME, len(data)))
        iv, tail, icv = data[:self.iv_size], data[self.iv_size:-icv_size], data[-icv_size:]
        want = self._icv(sa, key, esp.spi, esp.seq, iv, tail, icv_size, esn_en, esn)
        if not hmac.compare_digest(want, icv):
            raise scapy_ipsec.IPSecIntegrityError("%s ICV mismatch" % NAME)
        padlen, nh = tail[-2], tail[-1]
        end = max(0, len(tail) - 2 - padlen)
        return scapy_ipsec._ESPPlain(spi=esp.spi, seq=esp.seq, iv=iv, data=tail[:end],
                                     padding=tail[end:-2], padlen=padlen, nh=nh, icv=icv)


def register():
    """NULL-AES-GMAC in scapy's encryption algorithms (once)."""
    if NAME not in scapy_ipsec.CRYPT_ALGOS:
        scapy_ipsec.CRYPT_ALGOS[NAME] = GmacAlgo()


register()


# ---- the test vector the selftest checks (not written here) -----------------

# NIST CAVP gcmEncryptExtIV128.rsp, [Keylen = 128] [IVlen = 96] [PTlen = 0]
# [AADlen = 128] [Taglen = 128], Count = 0
CAVP = dict(key="77be63708971c4e240d1cb79e8d77feb", iv="e0e00f19fed7ba0136a797f3",
            aad="7a43ec1d9c0a5a78a0b16533a6213cab", tag="209fcc8d3675ed938e9c7166709dd946")


def _esp_packet_errors(rng):
    """An ESP packet scapy's NULL-AES-GMAC builds (tunnel mode, IPv4): the
    payload in clear right after SPI, sequence number and IV, padding
    1,2,3,... to 4 bytes, the ICV AESGCM's tag over SPI || seq || IV ||
    payload || trailer, salt || IV the nonce; with ESN the same bytes but
    the ICV, which covers SPI || high || low; decrypt gives the payload back
    and refuses a flipped bit anywhere (payload, IV, trailer, ICV, seq)."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.ipsec import ESP, SecurityAssociation
    from scapy.packet import Raw
    errs = []
    for klen in (16, 24, 32):
        keymat = bytes(rng.getrandbits(8) for _ in range(klen + SALT))
        key, salt = keymat[:klen], keymat[klen:]
        inner = bytes(IP(src="10.2.0.6", dst="10.1.0.10") / UDP(sport=1, dport=2)
                      / Raw(bytes(range(klen + 1))))
        outer = IP(src="192.0.2.2", dst="192.0.2.1", proto=4)
        spi, seq_hi, seq_lo = 0x1234, 5, 0xffffffd0 + klen
        iv = struct.pack("!Q", seq_hi << 32 | seq_lo)
        got = {}
        for esn_en in (False, True):
            sa = SecurityAssociation(ESP, spi=spi, crypt_algo=NAME, crypt_key=keymat,
                                     esn_en=esn_en, esn=seq_hi)
            sa.seq_num = seq_lo
            b = bytes(sa.encrypt(outer / Raw(inner), iv=iv))
            got[esn_en] = b
            esp = b[20:]
            what = "AES-%d-GMAC%s" % (8 * klen, " ESN" if esn_en else "")
            n = -(len(inner) + 2) % 4
            tail = inner + bytes(range(1, n + 1)) + bytes([n, 4])
            hdr = struct.pack("!II", spi, seq_lo)
            if esp[:8] != hdr or esp[8:16] != iv:
                errs.append("%s: ESP header/IV %s" % (what, esp[:16].hex()))
            if esp[16:16 + len(inner)] != inner:
                errs.append("%s: the payload is not in clear after SPI/seq/IV" % what)
            if esp[16:-ICV] != tail:
                errs.append("%s: payload || trailer %s, expected %s"
                            % (what, esp[16:-ICV].hex(), tail.hex()))
            aad = (struct.pack("!III", spi, seq_hi, seq_lo) if esn_en else hdr) + iv + tail
            want = ref_tag(key, salt + iv, aad)
            if esp[-ICV:] != want:
                errs.append("%s: ICV %s, AESGCM's tag over the AAD %s"
                            % (what, esp[-ICV:].hex(), want.hex()))
            rx = SecurityAssociation(ESP, spi=spi, crypt_algo=NAME, crypt_key=keymat,
                                     tunnel_header=IP(), esn_en=esn_en, esn=seq_hi)
            try:
                if bytes(rx.decrypt(IP(b))) != inner:
                    errs.append("%s: scapy's decrypt does not give the payload back" % what)
            except scapy_ipsec.IPSecIntegrityError as e:
                errs.append("%s: scapy refuses its own packet: %s" % (what, e))
            for where, k in (("payload", 20 + 16 + 3), ("IV", 20 + 9),
                             ("trailer", len(b) - ICV - 1), ("ICV", len(b) - 1),
                             ("sequence number", 20 + 7)):
                bad = bytearray(b)
                bad[k] ^= 0x04
                try:
                    rx.decrypt(IP(bytes(bad)))
                    errs.append("%s: a flipped bit in the %s accepted" % (what, where))
                except scapy_ipsec.IPSecIntegrityError:
                    pass
        a, e = got[False], got[True]
        if len(a) != len(e) or a[:-ICV] != e[:-ICV] or a[-ICV:] == e[-ICV:]:
            errs.append("AES-%d-GMAC: the ESN packet should differ in the ICV alone" % (8 * klen))
    return errs


def selfcheck():
    """Errors of our GMAC and of scapy's NULL-AES-GMAC: the CAVP vector by
    ours and by `cryptography`'s AESGCM, ours against AESGCM on AADs of
    0..100 bytes (every key length), and ESP packets (_esp_packet_errors)."""
    import random
    errs = []
    key, iv, aad = (bytes.fromhex(CAVP[k]) for k in ("key", "iv", "aad"))
    for who, f in (("our GMAC", gmac), ("cryptography's AESGCM", ref_tag)):
        got = f(key, iv, aad).hex()
        if got != CAVP["tag"]:
            errs.append("NIST CAVP gcmEncryptExtIV128 PTlen 0 AADlen 128 count 0: %s %s, "
                        "expected %s" % (who, got, CAVP["tag"]))
    rng = random.Random(4543)
    for klen in (16, 24, 32):
        key = bytes(rng.getrandbits(8) for _ in range(klen))
        nonce = bytes(rng.getrandbits(8) for _ in range(12))
        data = bytes(rng.getrandbits(8) for _ in range(100))
        for n in range(101):
            if gmac(key, nonce, data[:n]) != ref_tag(key, nonce, data[:n]):
                errs.append("our GMAC and AESGCM differ: %d-byte key, %d-byte AAD" % (klen, n))
                break
    errs += _esp_packet_errors(rng)
    alg = scapy_ipsec.CRYPT_ALGOS.get(NAME)
    if not isinstance(alg, GmacAlgo) or \
            (alg.iv_size, alg.icv_size, alg.salt_size) != (IV, ICV, SALT):
        errs.append("scapy's %s is not ours, or its sizes are wrong" % NAME)
    return errs
