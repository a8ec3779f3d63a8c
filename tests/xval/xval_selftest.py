# xval_selftest.py - checks the test's own side without dpsecd: every run can
# be built (the peer's ESP round-trips through the reference, its AH agrees
# with the AH reference), scapy's AH and the reference agree on ICVs (ESN,
# mutable and immutable fields), a correct gateway's output (made by the
# reference) passes the outbound checks and a wrong one fails them, what the
# peer sends decrypts to what the cases expect, tshark reads the input pcaps
# as ESP or AH with the same SPIs and sequences, and the judge passes a
# perfect run's result and fails flawed ones. The AES MACs (xval_mac, and the
# AES-XCBC-MAC-96 it gives scapy) against RFC 3566's and RFC 4493's vectors;
# AES-GMAC (xval_gmac, and the NULL-AES-GMAC it gives scapy) against NIST
# CAVP's vector, `cryptography`'s AES-GCM, and in the ESP packets it makes.
import collections
import os
import shutil
import struct
import subprocess
import tempfile

import xval_ah as A
import xval_cases
import xval_esp as E
import xval_gmac as G
import xval_mac as M
import xval_pcap
import xval_topo as T
import xval_traffic as TR
from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.packet import Raw
import xval_run
from xval_run import _parse_ipsec


def gateway_out(sa, originals, mutate=None, routed=True):
    """Frames a correct gateway sends for originals (forwarded, or with
    routed False its own) with outbound sa."""
    frames = []
    for i, orig in enumerate(originals):
        exp = TR.routed(orig) if routed and mutate != "no-ttl" else orig
        seq = i + 1 + (1 if mutate == "seq" else 0)
        if sa.p["ah"]:
            frames.append(TR.ether(T.PEER_MAC, T.WAN_MAC, _ah_gateway(sa, exp, seq, mutate)))
            continue
        if sa.mode == "tunnel":
            payload, nh = exp, (E.NH_IPV4 if exp[0] >> 4 == 4 else E.NH_IPV6)
        else:
            hl = (exp[0] & 15) * 4 if exp[0] >> 4 == 4 else 40
            payload, nh = exp[hl:], (exp[9] if hl != 40 else exp[6])
        n = E.min_pad(sa, len(payload))
        pad = E.default_padding(n) if mutate != "padding" else bytes(n)
        if mutate == "padding" and n == 0:
            pad = bytes(sa.p["align"])
        plain = payload + pad + bytes([len(pad), nh])
        esp = E.ref_seal(sa, seq, plain)
        if sa.mode == "tunnel":
            ip = E.ip_with_payload(_outer(sa, exp, mutate), 50, esp)
        else:
            h = IP(exp[:hl]) if hl != 40 else IPv6(exp[:40])
            h.remove_payload()
            ip = E.ip_with_payload(h, 50, esp)
        frames.append(TR.ether(T.PEER_MAC, T.WAN_MAC, ip))
    return frames


def _flow_label(sa, mutate):
    """A correct gateway's outer IPv6 flow label: the SA's own, never 0."""
    return 0 if mutate == "no-flow-label" else (sa.spi * 2654435761) % 0xFFFFF + 1


def _outer(sa, exp, mutate):
    if ":" in sa.remote:
        return IPv6(src=sa.local, dst=sa.remote, hlim=64, tc=TR.ip_tos(exp),
                    fl=_flow_label(sa, mutate))
    return IP(src=sa.local, dst=sa.remote, ttl=63 if mutate == "outer-ttl" else 64,
              tos=TR.ip_tos(exp), flags="DF" if TR.ip_df(exp) else 0)


AH_MUTATIONS = ("seq", "no-ttl", "icv", "length", "padding", "mutable", "esn")


def _ah_gateway(sa, exp, seq, mutate):
    """A correct gateway's AH packet for exp (routed) by the reference, or a
    flawed one: ICV flipped, a length field 4 bytes long, padding not zero,
    mutable fields hashed as sent, the ESN high half not hashed."""
    if sa.mode == "tunnel":
        o, nh, payload = _outer(sa, exp, mutate), (4 if exp[0] >> 4 == 4 else 41), exp
    else:
        hl = (exp[0] & 15) * 4 if exp[0] >> 4 == 4 else 40
        o = IP(exp[:hl]) if hl != 40 else IPv6(exp[:40])
        o.remove_payload()
        nh, payload = (exp[9] if hl != 40 else exp[6]), exp[hl:]
    b = bytearray(A.build(sa, o, nh, payload, seq))
    off, n = A.ah_offset(b), sa.p["icv"]
    if mutate == "icv":
        b[off + A.FIXED] ^= 1
    elif mutate == "length":
        b[off + 1] += 1
    elif mutate == "padding":  # a padding byte (or, without padding, the reserved field)
        k = off + A.FIXED + n
        b[k if k < off + A.ah_len(sa, b[0] >> 4 == 6) else off + 3] = 1
    elif mutate == "mutable":
        z = bytes(b[:off + A.FIXED]) + bytes(n) + bytes(b[off + A.FIXED + n:])
        b[off + A.FIXED:off + A.FIXED + n] = _hmac(sa, z + (bytes(4) if sa.esn else b""))
    elif mutate == "esn" and sa.esn:
        z = A.zero_mutable(bytes(b), off, n)
        b[off + A.FIXED:off + A.FIXED + n] = _hmac(sa, z)
    if mutate in ("length", "padding"):
        b = bytearray(A.resign(sa, bytes(b)))
    return bytes(b)


def _hmac(sa, data):
    return A.mac(sa, data)


def _ah_reference(seed):
    """scapy's AH and the reference agree both ways (IPv4 and IPv6, both
    ICVs, ESN high half 1); the ESN high half changes the ICV; mutable
    fields changed keep it valid for both, immutable ones do not."""
    import random
    errs = []
    rng = random.Random(seed)
    for alg in E.AH_ALGS:
        for fam in (4, 6):
            sa = E.SaSpec("a", 0x99, "inbound", "tunnel", T.gw_addr(fam), T.peer_addr(fam), alg,
                          True).keygen(rng)
            inner = TR.simple(fam, T.remote_host(fam, 2), T.lan_host(fam), 1)
            hdr = IPv6(src=sa.remote, dst=sa.local) if fam == 6 else IP(src=sa.remote,
                                                                         dst=sa.local)
            seq = (1 << 32) | 7
            ref = A.build(sa, hdr, 4, inner, seq)
            if A.build(sa, hdr, 4, inner, 7) == ref:
                errs.append("%s/ipv%d: the ESN high half does not change the ICV" % (alg, fam))
            try:
                if A.scapy_verify(sa, ref, 1) != inner:
                    errs.append("%s/ipv%d: scapy takes AH out wrongly" % (alg, fam))
            except A.AhError as e:
                errs.append("%s/ipv%d: scapy refuses the reference's AH: %s" % (alg, fam, e))
            try:
                A.ref_verify(sa, A.protect(sa, _with_nh(hdr, inner), seq), 1)
            except A.AhError as e:
                errs.append("%s/ipv%d: the reference refuses scapy's AH: %s" % (alg, fam, e))
            for what, k, v, ok in _field_changes(fam):
                b = bytearray(ref)
                b[k] = v
                if fam == 4:
                    b[10:12] = b"\x00\x00"
                    b[10:12] = bytes(IP(bytes(b[:20])))[10:12]
                got = []
                for verify in (lambda x: A.ref_verify(sa, x, 1),
                               lambda x: A.scapy_verify(sa, x, 1)):
                    try:
                        verify(bytes(b))
                        got.append(True)
                    except A.AhError:
                        got.append(False)
                if got != [ok, ok]:
                    errs.append("%s/ipv%d: %s changed: reference, scapy accept %s, expected %s"
                                % (alg, fam, what, got, ok))
    return errs


def _matrix_cases(r):
    """The cases of run r the build checks take: all of a tunnel/ or
    transport/ run's, of an integ/ run (xval_cases.aes_mac_run) those of its
    tunnel/ and transport/ parts (its neg/ ones are the neg/ runs', which
    these checks leave out too)."""
    if not r.name.startswith("integ/"):
        return r.cases
    return [c for c in r.cases if c.name.startswith((r.name + "/tunnel/",
                                                      r.name + "/transport/"))]


def _with_nh(hdr, inner):
    o = hdr.copy()
    if isinstance(o, IP):
        o.proto = 4
    else:
        o.nh = 4
    return o / Raw(inner)


def _field_changes(fam):
    """(field, byte offset, new value, still valid) for an AH packet."""
    if fam == 4:
        return [("TTL", 8, 9, True), ("TOS", 1, 0xB8, True), ("flags", 6, 0x40, True),
                ("identification", 5, 0x77, False), ("source", 15, 0x63, False)]
    return [("hop limit", 7, 9, True), ("traffic class", 0, 0x6B, True),
            ("flow label", 3, 0x5A, True), ("source", 23, 0x63, False),
            ("payload", -1, 0x00, False)]


def run(rep, seed, tshark):
    tmp = tempfile.mkdtemp(prefix="xval-selftest-")
    # HMAC ICV with ESN covers the high half: it must differ from the plain one
    sa = E.SaSpec("s", 1, "inbound", "tunnel", T.WAN4, T.PEER4, "aes128-sha1_96", True)
    sa.keygen(__import__("random").Random(seed))
    body = struct.pack("!II", 1, 1) + bytes(32)
    errs = []
    if E._hmac_icv(sa, body, 0) == E._hmac_icv(sa, body, 1):
        errs.append("ESN high half not in the HMAC")
    for alg in ("aes128-aesxcbc_96", "aes128-aescmac_96"):
        x = E.SaSpec("x", 1, "inbound", "tunnel", T.WAN4, T.PEER4, alg, True)
        x.keygen(__import__("random").Random(seed))
        if E._hmac_icv(x, body, 0) == E._hmac_icv(x, body, 1):
            errs.append("ESN high half not in the %s ICV" % alg)
        if E._hmac_icv(x, body, 1) != M.tag(x.p["integ"], x.integ_key, body + b"\0\0\0\1")[:12]:
            errs.append("%s ICV with ESN is not the MAC over ESP || high half" % alg)
    sa.esn = False
    plain = E.ref_seal(sa, 1, bytes(14) + b"\x00\x04")
    if E.ref_seal(sa, 1, plain[:0] + bytes(14) + b"\x00\x04", iv=plain[8:24]) != plain:
        errs.append("reference not deterministic for a given IV")
    rep.case("selftest/esn-hmac", errs)
    rep.case("selftest/aes-mac-vectors", M.selfcheck())
    rep.case("selftest/gmac", G.selfcheck())
    rep.case("selftest/ah-reference", _ah_reference(seed))

    tshark_input = []
    built = {}
    for ix, (name, build) in enumerate(xval_cases.plan(seed)):
        try:
            r = build()
        except Exception as e:  # noqa: BLE001 - report and go on
            rep.case("selftest/build/%d" % ix, ["%s: %s" % (type(e).__name__, e)])
            continue
        rep.case("selftest/build/" + r.name, [])
        built[name] = r
        if not r.name.startswith(("tunnel/", "transport/", "integ/")):
            continue
        cases = _matrix_cases(r)
        # outbound: a correct gateway passes, a wrong one fails
        errs = []
        for c in cases:
            for eo in c.esp_out:
                got = eo.check(gateway_out(eo.sa, eo.originals, routed=eo.routed))
                if got:
                    errs.append("%s: correct output rejected: %s" % (c.name, got[:2]))
                muts = list(AH_MUTATIONS if eo.sa.p["ah"] else ["padding", "seq", "no-ttl"])
                if eo.sa.p["ah"] and not eo.sa.esn:
                    muts.remove("esn")
                if eo.sa.mode == "tunnel":
                    muts.append("outer-ttl" if ":" not in eo.sa.remote else "no-flow-label")
                for m in muts:
                    if not eo.check(gateway_out(eo.sa, eo.originals, m, eo.routed)):
                        errs.append("%s: wrong output (%s) accepted" % (c.name, m))
        rep.case("selftest/outbound-checks/" + r.name, errs)
        # inbound: the peer's packets decrypt to what the cases expect
        errs = []
        if r.name.startswith(("tunnel/", "integ/")):
            by_spi = {s.spi: s for s in r.sas.values() if s.direction == "inbound"}
            for c in cases:
                if not c.wan_in or not c.name.startswith(("tunnel/", r.name + "/tunnel/")):
                    continue
                got = []
                for fr in c.wan_in:
                    ip, spi, seq, _ = _parse_ipsec(fr)
                    s = by_spi[spi]
                    for hi in (0, 1):
                        try:
                            if s.p["ah"]:
                                A.ref_verify(s, ip, hi)
                                data = A.scapy_verify(s, ip, hi)
                            else:
                                data, nh, _, _ = E.scapy_decrypt(s, ip, hi)
                            break
                        except (E.EspError, A.AhError):
                            data = None
                    got.append(TR.ether(T.HOST_MAC, T.LAN_MAC, TR.routed(data))
                               if data else b"")
                if collections.Counter(got) != collections.Counter(c.lan_out):
                    errs.append("%s: decrypted inbound differs from the expectation" % c.name)
        rep.case("selftest/inbound-peer/" + r.name, errs)
        # tshark reads our input pcaps as ESP with our SPIs and sequences
        # (one tshark over every run's frames: starting it costs 0.5 s)
        tshark_input.append((r.name, r.frames("wan") if cases is r.cases
                             else [fr for c in cases for fr in c.wan_in]))
    if tshark:
        _check_tshark_input(rep, tshark, tmp, tshark_input)
    # the judge: a perfect result passes, a flawed one fails where it should
    for name, r in built.items():
        if not name.startswith(("tunnel/aes128gcm16/esn", "neg/aes128-sha1_96/esn", "generic",
                                "workers2", "tunnel/ah-sha1_96", "neg/ah-sha256_128",
                                "reass", "tunnel/null-sha256_128",
                                xval_cases.GMAC_RUN)):
            continue
        errs = []
        muts = (None, "extra", "missing", "counter", "sa", "protocol-counter", "held")
        if r.tshark:
            muts += ("tshark",)
        if r.workers > 1:
            muts += ("txq", "worker-rx")
        if any(E.clear_payload(s.p) for s in r.sas.values()):
            muts += ("confidential",)
        for mut in muts:
            res = fake_result(r, mut, tmp)
            # tshark reads the frames, which the other flaws leave as tshark
            # reads them: once per run, and for the flaw that is its to see
            bad = [(n, e) for n, e in
                   xval_run.judge(r, res, tshark if mut in (None, "tshark") else None) if e]
            if mut is None and bad:
                errs.append("perfect result rejected: %s" % bad[:2])
            if mut is not None and not bad:
                errs.append("flawed result (%s) accepted" % mut)
        rep.case("selftest/judge/" + name, errs)
    # config files render and are private
    r = built[xval_cases.plan(seed)[-1][0]]
    p = os.path.join(tmp, "c.conf")
    r.conf.write(p, lan_rx="a", lan_tx="b", wan_rx="c", wan_tx="d")
    st = os.stat(p)
    rep.case("selftest/config-mode", [] if st.st_mode & 0o777 == 0o600 else
             ["mode %o" % (st.st_mode & 0o777)])
    shutil.rmtree(tmp, ignore_errors=True)


def _check_tshark_input(rep, tshark, tmp, runs):
    """Dissects the input frames of every run (name, frames) with one tshark
    and reports, per run, whether it reads our SPIs and sequence numbers."""
    p = os.path.join(tmp, "tshark-input.pcap")
    xval_pcap.write(p, [fr for _, frames in runs for fr in frames])
    cp = subprocess.run([tshark, "-n", "-r", p, "-T", "fields", "-e", "esp.spi",
                         "-e", "esp.sequence", "-e", "ah.spi", "-e", "ah.sequence"],
                        capture_output=True, text=True, timeout=120)
    rows = [ln.split("\t") for ln in cp.stdout.splitlines()]
    total = sum(len(frames) for _, frames in runs)
    if cp.returncode != 0 or len(rows) != total:
        rep.case("selftest/tshark-input", ["tshark read %d of %d frames (exit %d): %s"
                                           % (len(rows), total, cp.returncode,
                                              cp.stderr.strip()[-200:])])
        return
    at = 0
    for name, frames in runs:
        errs = []
        for fr, row in zip(frames, rows[at:at + len(frames)]):
            pe = _parse_ipsec(fr)
            col = 2 if pe and pe[3] == A.PROTO_AH else 0
            if pe and (int(row[col], 0), int(row[col + 1])) != pe[1:3]:
                errs.append("tshark %r, we wrote 0x%x/%d" % (row, pe[1], pe[2]))
                break
        at += len(frames)
        rep.case("selftest/tshark-input/" + name, errs)


def fake_result(r, mutate, tmp):
    """What a correct dpsecd would leave behind for run r (frames and stats),
    or a flawed variant: an extra frame that a case's dropped packet would
    give, a missing frame, a wrong drop counter, a wrong SA counter, AH
    packets counted as ESP (protocol-counter), a
    packet counted by the wrong worker (worker-rx), a frame sent by the
    wrong worker's tx queue (txq), NULL encryption's or AES-GMAC's bytes
    counted as confidential (confidential), a WAN capture whose frames are
    not in the order of those judged (tshark: its SPIs and sequence numbers
    then differ from ours)."""
    res = xval_run.Result()
    res.rc = 0
    res.dir = os.path.join(tmp, "judge-" + r.name.replace("/", "_"))
    os.makedirs(res.dir, exist_ok=True)
    txq = {side: [[] for _ in range(r.workers)] for side in ("lan", "wan")}
    for c in r.cases:
        q = c.worker or 0
        txq["lan"][q] += c.lan_out
        txq["wan"][q] += c.wan_out
        for eo in c.esp_out:
            txq["wan"][q] += gateway_out(eo.sa, eo.originals, routed=eo.routed)
    if mutate == "txq":
        txq["lan"][1].append(txq["lan"][0].pop())
    g = collections.Counter()
    sas = {}
    for c in r.cases:
        g["rx_packets"] += c.n_in()
        g["fwd_packets"] += c.fwd
        g["icmp_errors_sent"] += c.icmp
        g["icmp_errors_limited"] += c.icmp_limited
        g["prefrag_packets"] += c.cut
        g["prefrag_fragments"] += c.fragments
        g["frag_packets"] += c.port_cut
        g["frag_fragments"] += c.port_fragments
        g["reass_fragments"] += c.reass_fragments
        g["reass_packets"] += c.reass_packets
        g["natt_keepalives_in"] += c.keepalives_in
        for k, n in c.drops.items():
            g["drop_" + k] += n
        for n, want in c.sa.items():
            e = sas.setdefault(n, {"name": n, "packets": 0, "drops": 0, "bytes": 0})
            for k in ("packets", "drops", "bytes"):
                e[k] += want[k] or 0
    for n, e in sas.items():  # the protocol counters: sums over the SAs
        spec = r.sas[n]
        out = spec.direction == "outbound"
        proto = "ah" if spec.p["ah"] else "esp"
        g["%s_%s_packets" % (proto, "out" if out else "in")] += e["packets"]
        conf = ["confidential_bytes_"] if E.encrypts(spec.p) else []  # not AH, NULL, GMAC
        if mutate == "confidential" and E.clear_payload(spec.p):  # counted as encrypted
            conf = ["confidential_bytes_"]
        for k in ["authenticated_bytes_"] + conf:
            g[k + ("sent" if out else "received")] += e["bytes"]
    if mutate == "protocol-counter":  # AH counted as ESP (or ESP off by one)
        if g["ah_in_packets"]:
            g["esp_in_packets"] += g["ah_in_packets"]
            g["ah_in_packets"] = 0
        else:
            g["esp_in_packets"] += 1
    g["drops"] = sum(v for k, v in g.items() if k.startswith("drop_"))
    for k in ("host_packets", "control_packets", "acquire_packets", "reinject_in",
              "natt_keepalives_out", "reass_held", "drop_icv", "drop_replay", "drop_bad_spi",
              "esp_out_packets", "esp_in_packets", "ah_out_packets", "ah_in_packets",
              "authenticated_bytes_sent", "authenticated_bytes_received",
              "confidential_bytes_sent", "confidential_bytes_received"):
        g[k] += 0
    workers = [{"lcore": i + 1, "rx_packets": 0 if i else g["rx_packets"]}
               for i in range(r.workers)]
    if mutate == "worker-rx":  # the workers' counts do not add up to the global one
        workers[-1]["rx_packets"] += 1
    res.txq = txq
    res.lan = [fr for q in txq["lan"] for fr in q]
    res.wan = [fr for q in txq["wan"] for fr in q]
    forbidden = [fr for c in r.cases for fr in c.lan_forbidden]
    if mutate == "extra":
        res.lan.append(forbidden[0] if forbidden else res.lan[0])
    elif mutate == "missing":
        (res.lan or res.wan).pop()
    elif mutate == "counter":
        g["drop_tx_full"] += 1
        g["drops"] += 1
        g["rx_packets"] += 1
    elif mutate == "held":  # a fragment still held when dpsecd exits
        g["reass_held"] += 1
    elif mutate == "sa":
        next(iter(sas.values()))["packets"] += 1
    res.stats = {"global": dict(g),
                 "quick_mode": {"packets_not_authenticated": g["drop_icv"],
                                "packets_with_replay_detection": g["drop_replay"],
                                "bad_spi_packets": g["drop_bad_spi"]},
                 "sas": list(sas.values()),
                 "ports": [{"name": "lan", "ipackets": len(r.frames("lan"))},
                           {"name": "wan", "ipackets": len(r.frames("wan"))}],
                 "workers": workers}
    res.tx_paths["wan"] = []
    for q, frames in enumerate(txq["wan"]):
        res.tx_paths["wan"].append(os.path.join(res.dir, "out-wan.%d.pcap" % q))
        xval_pcap.write(res.tx_paths["wan"][-1], frames[::-1] if mutate == "tshark" else frames)
    return res
