# xval_mac.py - the AES-128 MACs of ESP and AH, both CBC-MACs that treat the
# last block apart: AES-XCBC-MAC-96 (RFC 3566 §2.3), which scapy 2.5 lacks
# and gets here as AUTH_ALGOS['AES-XCBC-MAC-96'] (register()), and AES-CMAC
# (RFC 4493 §2.4; AES-CMAC-96, RFC 4494, is scapy's own on the
# `cryptography` CMAC). Both are written here on AES-128 (ECB for the
# subkeys, CBC for the chain) from `cryptography`, with the MAC interface
# scapy's AuthAlgo drives (update, finalize, copy, verify): AuthAlgo.new_mac
# calls mac(key, digestmod(), backend) for every mac but cryptography's CMAC.
# They are the references' MACs (xval_esp, xval_ah); the selftest holds them
# to RFC 3566 §4's and RFC 4493 §4's test vectors, and our CMAC to
# cryptography's on every length up to 100 bytes.
import functools
import hmac

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from scapy.layers import ipsec as scapy_ipsec

BLOCK = 16
ICV = 12  # both truncated to 96 bits in IPsec (RFC 3566 §2.4, RFC 4494 §2.2)


def _ecb(key, block):
    e = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return e.update(block) + e.finalize()


def _xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


class AES128:
    """The digestmod scapy's AuthAlgo instantiates and hands to the MAC: the
    block cipher's name only (the key comes first, as HMAC's)."""
    name = "aes128"
    block_size = BLOCK


class _CbcMac:
    """CBC-MAC with AES-128 under the chain key, zero IV; the last block,
    when whole, XORed with sub_whole, else padded with 10* and XORed with
    sub_padded (an empty message is one padded block). update() gathers the
    message, finalize() makes the tag in one CBC pass (IPsec's messages are
    short)."""

    def __init__(self, key, algorithm=None, backend=None):
        key = bytes(key)
        if len(key) != BLOCK:
            raise ValueError("%s: key of %d bytes, AES-128 takes 16"
                             % (type(self).__name__, len(key)))
        self._keys = _subkeys(type(self), key)  # (chain key, sub_whole, sub_padded)
        self._msg = b""
        self._done = False

    @staticmethod
    def derive(key):
        """(the chain's key, sub_whole, sub_padded) of key."""
        raise NotImplementedError

    def update(self, data):
        if self._done:
            raise ValueError("update() after finalize()")
        self._msg += bytes(data)

    def finalize(self):
        if self._done:
            raise ValueError("finalize() twice")
        self._done = True
        chain, sub_whole, sub_padded = self._keys
        m = self._msg
        cut = (len(m) - 1) // BLOCK * BLOCK if m else 0  # where the last block starts
        last = m[cut:]
        if len(last) == BLOCK:
            last = _xor(last, sub_whole)
        else:
            last = _xor(last + b"\x80" + bytes(BLOCK - 1 - len(last)), sub_padded)
        e = Cipher(algorithms.AES(chain), modes.CBC(bytes(BLOCK))).encryptor()
        return (e.update(m[:cut] + last) + e.finalize())[-BLOCK:]

    def copy(self):
        c = type(self).__new__(type(self))
        c.__dict__.update(self.__dict__)
        return c

    def verify(self, signature):
        if not hmac.compare_digest(self.finalize()[:len(signature)], bytes(signature)):
            raise scapy_ipsec.IPSecIntegrityError("%s mismatch" % type(self).__name__)


@functools.lru_cache(maxsize=1024)
def _subkeys(cls, key):
    return cls.derive(key)


class AesXcbcMac(_CbcMac):
    """AES-XCBC-MAC (RFC 3566 §2.3): K1 = E(K, 0x01..), K2 = E(K, 0x02..),
    K3 = E(K, 0x03..); the chain under K1, a whole last block XORed with
    K2, a padded one with K3."""

    @staticmethod
    def derive(key):
        k1, k2, k3 = (_ecb(key, bytes([i]) * BLOCK) for i in (1, 2, 3))
        return k1, k2, k3


def _dbl(b):
    """Doubling in GF(2^128) (RFC 4493 §2.3: shift left, 0x87 if the top bit
    went out)."""
    n = int.from_bytes(b, "big") << 1
    if n >> 128:
        n = (n ^ 0x87) & ((1 << 128) - 1)
    return n.to_bytes(BLOCK, "big")


class AesCmac(_CbcMac):
    """AES-CMAC (RFC 4493 §2.3-2.4): L = E(K, 0), K1 = dbl(L), K2 =
    dbl(K1); the chain under K, a whole last block XORed with K1, a padded
    one with K2."""

    @staticmethod
    def derive(key):
        k1 = _dbl(_ecb(key, bytes(BLOCK)))
        return key, k1, _dbl(k1)


# integrity name in dpsecd's configuration -> our MAC, scapy's name for it
AES_MACS = {"aesxcbc_96": (AesXcbcMac, "AES-XCBC-MAC-96"),
            "aescmac_96": (AesCmac, "AES-CMAC-96")}


def tag(integ, key, data):
    """The whole 16-byte tag of integrity algorithm integ (a key of
    AES_MACS) over data; IPsec's ICV is its first 12 bytes."""
    m = AES_MACS[integ][0](key)
    m.update(data)
    return m.finalize()


def register():
    """AES-XCBC-MAC-96 in scapy's integrity algorithms (once): our class,
    a 12-byte ICV, a 16-byte key."""
    if "AES-XCBC-MAC-96" not in scapy_ipsec.AUTH_ALGOS:
        scapy_ipsec.AUTH_ALGOS["AES-XCBC-MAC-96"] = scapy_ipsec.AuthAlgo(
            "AES-XCBC-MAC-96", mac=AesXcbcMac, digestmod=AES128, icv_size=ICV,
            key_size=(BLOCK,))


register()


# ---- the test vectors the selftest checks (not written here) ----------------

# RFC 3566 §4, key 000102...0f: (message, AES-XCBC-MAC; -96 is its first 12 bytes)
RFC3566_KEY = bytes(range(16))
RFC3566 = [
    (b"", "75f0251d528ac01c4573dfd584d79f29"),
    (bytes(range(3)), "5b376580ae2f19afe7219ceef172756f"),
    (bytes(range(16)), "d2a246fa349b68a79998a4394ff7a263"),
    (bytes(range(20)), "47f51b4564966215b8985c63055ed308"),
    (bytes(range(32)), "f54f0ec8d2b9f3d36807734bd5283fd4"),
    (bytes(range(34)), "becbb3bccdb518a30677d5481fb6b4d8"),
    (bytes(1000), "f0dafee895db30253761103b5d84528f"),
]
# RFC 4493 §4 (the AES-CMAC of RFC 4494), key 2b7e1516...: the first n bytes
# of one message, their AES-CMAC
RFC4493_KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
RFC4493_MSG = bytes.fromhex(
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
RFC4493 = [(0, "bb1d6929e95937287fa37d129b756746"), (16, "070a16b46b4d4144f79bdd9dd04a287c"),
           (40, "dfa66747de9ae63030ca32611497c827"), (64, "51f0bebf7e3b9d92fc49741779363cfe")]


def _pieces(cls, key, msg, step):
    """msg fed to a new cls MAC step bytes at a time (a copy() taken halfway
    must give the same tag)."""
    m = cls(key)
    half = None
    for i in range(0, len(msg), step):
        m.update(msg[i:i + step])
        if half is None and i >= len(msg) // 2:
            half = (m.copy(), i + step)
    if half is not None:
        c, at = half
        c.update(msg[at:])
        return m.finalize(), c.finalize()
    t = m.finalize()
    return t, t


def selfcheck():
    """Errors of our MACs and of scapy's two AES MACs against the RFCs'
    vectors: whole, fed in pieces, and through scapy's AuthAlgo (new_mac,
    sign/verify's entry point); our CMAC against cryptography's (scapy's
    AES-CMAC-96) on every length 0..100."""
    import random
    errs = []
    xcbc = scapy_ipsec.AUTH_ALGOS["AES-XCBC-MAC-96"]
    cmac = scapy_ipsec.AUTH_ALGOS["AES-CMAC-96"]
    for i, (msg, want) in enumerate(RFC3566, 1):
        for step in (max(1, len(msg)), 1, 7, 16, 17):
            for got in _pieces(AesXcbcMac, RFC3566_KEY, msg, step):
                if got.hex() != want:
                    errs.append("RFC 3566 case %d (%d bytes, fed %d at a time): AES-XCBC-MAC %s, "
                                "expected %s" % (i, len(msg), step, got.hex(), want))
        m = xcbc.new_mac(RFC3566_KEY)
        m.update(msg)
        got = m.finalize()[:xcbc.icv_size]
        if got.hex() != want[:24]:
            errs.append("RFC 3566 case %d: scapy's AES-XCBC-MAC-96 %s, expected %s"
                        % (i, got.hex(), want[:24]))
    for n, want in RFC4493:
        for step in (max(1, n), 1, 5, 16):
            for got in _pieces(AesCmac, RFC4493_KEY, RFC4493_MSG[:n], step):
                if got.hex() != want:
                    errs.append("RFC 4493 %d bytes (fed %d at a time): our AES-CMAC %s, "
                                "expected %s" % (n, step, got.hex(), want))
        m = cmac.new_mac(RFC4493_KEY)
        m.update(RFC4493_MSG[:n])
        got = m.finalize()[:cmac.icv_size]
        if got.hex() != want[:24]:
            errs.append("RFC 4493 %d bytes: scapy's AES-CMAC-96 %s, expected %s"
                        % (n, got.hex(), want[:24]))
    rng = random.Random(4493)
    key = bytes(rng.getrandbits(8) for _ in range(16))
    data = bytes(rng.getrandbits(8) for _ in range(100))
    for n in range(101):
        m = cmac.new_mac(key)
        m.update(data[:n])
        if m.finalize() != tag("aescmac_96", key, data[:n]):
            errs.append("our AES-CMAC and cryptography's differ on %d bytes" % n)
    if xcbc.icv_size != ICV or cmac.icv_size != ICV:
        errs.append("scapy's ICV sizes %d, %d, expected 12" % (xcbc.icv_size, cmac.icv_size))
    try:
        AesXcbcMac(bytes(20))
        errs.append("AES-XCBC-MAC took a 20-byte key")
    except ValueError:
        pass
    return errs
