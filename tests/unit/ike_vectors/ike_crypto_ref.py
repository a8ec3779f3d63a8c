#!/usr/bin/python3
"""ike_crypto_ref.py - an independent reference for the IKE crypto tests.

The C tests (test_ike_prf.c, test_ike_dh.c, test_ike_sk.c, test_ike_v1.c)
run this with fixed inputs and compare: every formula of RFC 7296 (prf+,
SKEYSEED, SK_d..SK_pr, rekeyed SKEYSEED, Child SA KEYMAT) and RFC 2409
(SKEYID, SKEYID_d/a/e, appendix B key expansion and IVs, HASH_I, HASH_R,
Quick Mode HASH(1..3) and KEYMAT) written again from the RFCs with nothing
but hmac and hashlib, and for the AES PRFs (RFC 4434, RFC 4615) AES-XCBC-MAC
written again from RFC 3566 on the cryptography module's AES and its own
AES-CMAC; the MODP primes computed from their definition (RFC
2409 §6.2, RFC 3526: 2^n - 2^(n-64) - 1 + 2^64 * ([2^(n-130) pi] + c), pi
from Machin's formula); and IKEv2 Encrypted payloads and IKEv1 CBC chains
sealed, opened and decrypted with scapy's IPsec algorithms
(scapy.layers.ipsec, on the cryptography module).

Usage: ike_crypto_ref.py OP ARG... [-- OP ARG...]...; byte strings in hex,
"-" for empty. Prints hex, one value per line, the operations' values in
order. Exits non-zero with a message on error.
The IKEv2 Encrypted payload here pads with 1, 2, 3...: any padding must
open (RFC 7296 §3.14), not only dpsec's zeros.
"""
import hashlib
import hmac
import sys


def unhex(s):
    """Bytes of a hex argument; None for the others (names, numbers)."""
    try:
        return b"" if s == "-" else bytes.fromhex(s)
    except ValueError:
        return None


def aes_ecb(key, block):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def xcbc(key, msg):
    """AES-XCBC-MAC, RFC 3566 §4: K1..K3 from 0x01.., 0x02.., 0x03..; the
    last block XORed with K2 when whole, padded 0x80 0.. and XORed with K3
    when not (an empty message is one empty block)."""
    k1, k2, k3 = (aes_ecb(key, bytes([i]) * 16) for i in (1, 2, 3))
    blocks = [msg[i:i + 16] for i in range(0, len(msg), 16)] or [b""]
    e = bytes(16)
    for b in blocks[:-1]:
        e = aes_ecb(k1, xor(b, e))
    last = blocks[-1]
    last = xor(last, k2) if len(last) == 16 else \
        xor(last + b"\x80" + bytes(15 - len(last)), k3)
    return aes_ecb(k1, xor(last, e))


def aes_cmac(key, msg):
    from cryptography.hazmat.primitives import cmac
    from cryptography.hazmat.primitives.ciphers import algorithms
    c = cmac.CMAC(algorithms.AES(key))
    c.update(msg)
    return c.finalize()


AES_PRFS = {"aesxcbc": xcbc, "aescmac": aes_cmac}


def prf(md, key, *data):
    """HMAC with md, or an AES PRF: a key of other than 16 bytes is zero
    padded when shorter (RFC 4434 only), else made the MAC of itself under
    a zero key (RFC 4434 §2, RFC 4615 §3)."""
    if md in AES_PRFS:
        mac = AES_PRFS[md]
        if len(key) < 16 and md == "aesxcbc":
            key = key + bytes(16 - len(key))
        elif len(key) != 16:
            key = mac(bytes(16), key)
        return mac(key, b"".join(data))
    return hmac.new(key, b"".join(data), md).digest()


def prf_len(md):
    return 16 if md in AES_PRFS else hashlib.new(md).digest_size


def prf_plus(md, key, seed, length):
    """RFC 7296 §2.13."""
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = prf(md, key, t, seed, bytes([i]))
        out += t
        i += 1
    return out[:length]


def chain(md, key, first, nxt, length):
    """K1 = prf(key, first), Ki+1 = prf(key, Ki | nxt) (RFC 2409 App. B, §5.5)."""
    k = prf(md, key, first)
    out = k
    while len(out) < length:
        k = prf(md, key, k, nxt)
        out += k
    return out[:length]


def pi_scaled(bits):
    """floor(2^bits * pi) by Machin: pi = 16 atan(1/5) - 4 atan(1/239)."""
    def atan_inv(x, one):
        total = term = one // x
        n, sign = 1, -1
        while term:
            term //= x * x
            total += sign * (term // (2 * n + 1))
            sign, n = -sign, n + 1
        return total
    one = 1 << (bits + 64)
    return (16 * atan_inv(5, one) - 4 * atan_inv(239, one)) >> 64


def modp_prime(group):
    bits, c = {2: (1024, 129093), 14: (2048, 124476), 15: (3072, 1690314),
               16: (4096, 240904)}[group]
    return 2**bits - 2**(bits - 64) - 1 + 2**64 * (pi_scaled(bits - 130) + c)


def ikev2_keys(md, skeyseed, ni, nr, spii, spir, a_len, e_len):
    p_len = prf_len(md)
    sizes = [p_len, a_len, a_len, e_len, e_len, p_len, p_len]
    km = prf_plus(md, skeyseed, ni + nr + spii + spir, sum(sizes))
    keys, off = [], 0
    for n in sizes:
        keys.append(km[off:off + n])
        off += n
    return keys


def ikev1_keys(md, skeyid, gxy, ckyi, ckyr, key_len):
    d = prf(md, skeyid, gxy, ckyi, ckyr, b"\0")
    a = prf(md, skeyid, d, gxy, ckyi, ckyr, b"\1")
    e = prf(md, skeyid, a, gxy, ckyi, ckyr, b"\2")
    key = e[:key_len] if len(e) >= key_len else chain(md, e, b"\0", b"", key_len)
    return [d, a, e, key]


def ikev1_hash(md, skeyid, gxi, gxr, ckyi, ckyr, sai_b, id_b, who):
    if who == "i":
        return prf(md, skeyid, gxi, gxr, ckyi, ckyr, sai_b, id_b)
    return prf(md, skeyid, gxr, gxi, ckyr, ckyi, sai_b, id_b)


# ---- ciphers, through scapy's IPsec algorithm table ----

def scapy_algos():
    from scapy.layers.ipsec import AUTH_ALGOS, CRYPT_ALGOS
    return CRYPT_ALGOS, AUTH_ALGOS


def cbc(name, key, iv, data, encrypt):
    crypt, _ = scapy_algos()
    c = crypt[name].new_cipher(key, iv)
    op = c.encryptor() if encrypt else c.decryptor()
    return op.update(data) + op.finalize()


def icv_len(auth, integ):
    return 12 if integ == "AES-XCBC-MAC-96" else auth[integ].icv_size


def icv(integ, key, data):
    if integ == "AES-XCBC-MAC-96":  # scapy has no XCBC (RFC 3566)
        return xcbc(key, data)[:12]
    _, auth = scapy_algos()
    mac = auth[integ].new_mac(key)
    mac.update(data)
    return mac.finalize()[:auth[integ].icv_size]


def gcm_algo():
    crypt, _ = scapy_algos()
    return crypt["AES-GCM"]


def sk_open(cipher, ekey, integ, akey, aad_len, msg):
    """RFC 7296 §3.14 / RFC 5282: check, decrypt, strip padding."""
    if int.from_bytes(msg[24:28], "big") != len(msg):
        raise ValueError("IKE header length is not the message's")
    body = msg[aad_len:]
    if cipher == "AES-GCM":
        algo = gcm_algo()
        iv, rest = body[:8], body[8:]
        pt = algo.cipher(ekey[:-4]).decrypt(ekey[-4:] + iv, rest, msg[:aad_len])
    else:
        crypt, auth = scapy_algos()
        ivl, icvl = crypt[cipher].iv_size, icv_len(auth, integ)
        if not hmac.compare_digest(icv(integ, akey, msg[:-icvl]), msg[-icvl:]):
            raise ValueError("ICV mismatch")
        pt = cbc(cipher, ekey, body[:ivl], body[ivl:-icvl], False)
    return pt[:len(pt) - pt[-1] - 1]


def sk_seal(cipher, ekey, integ, akey, aad_len, plain_len, iv, msg, pad_length=None):
    """Fills a codec-built skeleton whose plaintext sits after the IV;
    pad_length, if given, is written instead of the true Pad Length."""
    msg = bytearray(msg)
    if cipher == "AES-GCM":
        ivl, icvl = 8, 16
    else:
        crypt, auth = scapy_algos()
        ivl, icvl = crypt[cipher].iv_size, icv_len(auth, integ)
    ct_at, ct_len = aad_len + ivl, len(msg) - aad_len - ivl - icvl
    pad = ct_len - plain_len - 1
    pad_byte = pad if pad_length is None else pad_length
    pt = bytes(msg[ct_at:ct_at + plain_len]) + bytes(range(1, pad + 1)) + bytes([pad_byte])
    msg[aad_len:ct_at] = iv
    if cipher == "AES-GCM":
        out = gcm_algo().cipher(ekey[:-4]).encrypt(ekey[-4:] + iv, pt, bytes(msg[:aad_len]))
        msg[ct_at:] = out
    else:
        msg[ct_at:ct_at + ct_len] = cbc(cipher, ekey, iv, pt, True)
        msg[-icvl:] = icv(integ, akey, bytes(msg[:-icvl]))
    return bytes(msg)


def v1_decrypt_chain(cipher, key, iv, *cts):
    """RFC 2409 appendix B: each message's IV is the last block before it."""
    out = []
    for ct in cts:
        out.append(cbc(cipher, key, iv, ct, False))
        iv = ct[-len(iv):]
    return out + [iv]


def main(op, *a):
    h = [unhex(x) for x in a]
    if op == "prfplus":
        return [prf_plus(a[0], h[1], h[2], int(a[3]))]
    if op == "skeyseed":  # RFC 7296 §2.14: the AES PRFs take 8 bytes of each nonce
        cut = 8 if a[0] in AES_PRFS else None
        return [prf(a[0], h[1][:cut] + h[2][:cut], h[3])]
    if op == "skeyseed-rekey":
        return [prf(a[0], h[1], h[2], h[3], h[4])]
    if op == "keys":
        return ikev2_keys(a[0], *h[1:6], int(a[6]), int(a[7]))
    if op == "child":
        return [prf_plus(a[0], h[1], h[2] + h[3] + h[4], int(a[5]))]
    if op == "v1-skeyid-psk":
        return [prf(a[0], h[1], h[2], h[3])]
    if op == "v1-skeyid-sig":
        return [prf(a[0], h[1] + h[2], h[3])]
    if op == "v1-keys":
        return ikev1_keys(a[0], *h[1:5], int(a[5]))
    if op == "v1-hash":
        return [ikev1_hash(a[0], *h[1:8], a[8])]
    if op == "v1-iv":  # hash(g^xi | g^xr) or hash(last Phase 1 block | M-ID), cut
        return [hashlib.new(a[0], h[1] + h[2]).digest()[:int(a[3])]]
    if op == "v1-qm-hash1":
        return [prf(a[0], h[1], h[2], h[3])]
    if op == "v1-qm-hash2":
        return [prf(a[0], h[1], h[2], h[3], h[4])]
    if op == "v1-qm-hash3":
        return [prf(a[0], h[1], b"\0", h[2], h[3], h[4])]
    if op == "v1-keymat":
        seed = h[2] + h[3] + h[4] + h[5] + h[6]
        return [chain(a[0], h[1], seed, seed, int(a[7]))]
    if op == "modp-prime":
        p = modp_prime(int(a[0]))
        return [p.to_bytes((p.bit_length() + 7) // 8, "big")]
    if op == "sk-open":
        return [sk_open(a[0], h[1], a[2], h[3], int(a[4]), h[5])]
    if op == "sk-seal":
        return [sk_seal(a[0], h[1], a[2], h[3], int(a[4]), int(a[5]), h[6], h[7],
                        *[int(x) for x in a[8:9]])]
    if op == "v1-decrypt-chain":
        return v1_decrypt_chain(a[0], h[1], h[2], *h[3:])
    raise ValueError("unknown operation " + op)


def operations(argv):
    op = []
    for arg in argv + ["--"]:
        if arg != "--":
            op.append(arg)
        elif op:
            yield op
            op = []


if __name__ == "__main__":
    for args in operations(sys.argv[1:]):
        try:
            for value in main(*args):
                print(value.hex())
        except Exception as e:  # the C test shows this and fails
            print(f"ike_crypto_ref.py {args[0]}: {type(e).__name__}: {e}", file=sys.stderr)
            sys.exit(1)
