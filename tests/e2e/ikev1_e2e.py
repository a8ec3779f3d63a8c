# ikev1_e2e.py - IKEv1 (Main Mode, Quick Mode) in dpsec-ctld end to end, in
# ike_e2e.py's namespaces and with its gateways, the store's policy saying
# main_mode = { ike_version = 1; }.
#
# --peer dpsec: two dpsec gateways, the ISAKMP SA's lifetime 45 s
#   (--test-ike-lifetime). A ping from host A raises the ACQUIRE, A's ctld
#   runs Main Mode and Quick Mode with B's, the pings are answered; show
#   mmsas on both names the peer and says IKEv1 with the cookies; both IKE
#   logs say the ISAKMP SA lives 45 s. Host B then streams UDP to host A.
#   At 85-90 % of the ISAKMP SA's lifetime A renews it: a new Main Mode, the
#   same new cookies on both sides, the Quick Mode SA adopted by the new SA
#   on B, the old one deleted. Past 85-90 % of the Quick Mode SAs' 60 s
#   lifetime B, which sent more, rekeys them (the seeds' rule; A's log says
#   it waited for B) under a continuous ping (a new inbound SPI at A, the
#   old pair gone, at most 2 pings lost); the Main Mode tables count the
#   main and quick modes; only IKE and ESP cross the WAN.
# --peer strongswan: B is strongSwan 5.9 with version = 1 (userspace ESP:
#   ESP in UDP 4500 after its faked NAT detection), Quick Mode with PFS
#   (ECP-256; dpsec's filter action says pfs = true). dpsec initiates (ping
#   through, show mmsas: IKEv1, initiator, the policy's ISAKMP SA lifetime
#   and a Quick Mode SA with PFS in the IKE log); strongSwan then deletes its SAs
#   (swanctl --terminate: DELETE notifications) and dpsec drops them; then
#   strongSwan initiates (swanctl --initiate) and dpsec responds: show mmsas
#   says IKEv1, responder, and pings pass again.
# --peer strongswan-cert: B is strongSwan with version = 1 and auth = pubkey,
#   both gateways with RSA certificates of ike_e2e.py's test root CA (Main
#   Mode authenticated by RSA signatures, RFC 2409 §5.1); dpsec initiates,
#   pings pass, show mmsas names B by its certificate's FQDN, and charon's
#   log says it verified A's RSA signature (PKCS#1 without DigestInfo); then,
#   as with --peer strongswan, strongSwan deletes its SAs and initiates, and
#   dpsec responds: show mmsas says responder, pings pass again.
# --peer scan: ike-scan from B's namespace probes dpsec-ctld (no strongSwan
#   running): its default Main Mode probe (3DES, SHA1, MODP-1024 first: the
#   policy allows legacy_suites) and --trans='(1=7,14=128,2=2,3=1,4=14)'
#   each get "Main Mode Handshake returned" with the transform dpsec chose;
#   a probe offering DES and MD5 only gets NO-PROPOSAL-CHOSEN, and so does
#   the AES-128 probe once a second policy, the same rule with IKEv2, is
#   assigned (dpsecctl policy assign: show rules says IKE version 2).
#
# Needs root, tshark, ethtool; strongSwan or ike-scan for those peers (exit
# 77, skip, when missing).
#
# usage: ikev1_e2e.py [--peer dpsec|strongswan|strongswan-cert|scan] DPSECD DPSEC_CTLD
#        DPSECCTL
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctl_topo as T  # noqa: E402
import ike_e2e as E  # noqa: E402

IKE_SCAN = "/usr/bin/ike-scan"
MM_MINUTES = 30  # the policy's Main Mode lifetime: the ISAKMP SA's
ISAKMP_LIFE = 45  # dpsec against dpsec: --test-ike-lifetime, A renews at 38-41 s


def ikev1_store(legacy):
    """ike_e2e's store with an IKEv1 policy and ESP AES-128-CBC/SHA1."""
    mm = 'main_mode = { ike_version = 1; lifetime_minutes = %d;%s };' % (
        MM_MINUTES, " legacy_suites = true;" if legacy else "")
    store = E.STORE.replace('default_action = "permit";', 'default_action = "permit"; ' + mm)
    return store.replace('encryption = "aes128gcm16";', 'encryption = "aes128"; integrity = "sha1_96";')


def with_ikev2_policy(store):
    """The store with a second policy, "ike-v2": the same rule, IKEv2."""
    head, policies = store.split("policies = (\n")
    ike = policies.rstrip().rsplit(");", 1)[0].rstrip()
    v2 = re.sub(r"main_mode = \{[^}]*\};", "", ike.replace('name = "ike";', 'name = "ike-v2";'))
    return head + "policies = (\n" + ike + ",\n" + v2 + "\n);\n"


def use_ikev1(legacy=False, pfs=False):
    """ike_e2e's stores and swanctl.conf for IKEv1; with pfs, Quick Mode
    with a new ECP-256 exchange on both."""
    store = with_ikev2_policy(ikev1_store(legacy))
    E.STORE = store.replace('action = "negotiate";', 'action = "negotiate"; pfs = true;') if pfs \
        else store
    E.SWANCTL_CONF = (E.SWANCTL_CONF.replace("version = 2", "version = 1")
                      .replace("aes256gcm16-prfsha256-ecp256,aes256-sha256-modp2048",
                               "aes128-sha1-modp2048")
                      .replace("esp_proposals = aes128gcm16",
                               "esp_proposals = aes128-sha1" + ("-ecp256" if pfs else "")))


def wait_until(what, cond, timeout=30):
    """cond() true before the timeout, polled; else RuntimeError naming what."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for " + what)
        time.sleep(0.25)


def check_mmsa(w, errs, gw, role, peer_id):
    """gw's show mmsas: one IKEv1 SA with the peer, in role, with cookies."""
    sas = w.show(gw, "mmsas")
    print("gateway %s: IKE SAs %s" % (gw, sas))
    ok = (len(sas) == 1 and sas[0].get("version") == "IKEv1" and sas[0]["role"] == role
          and sas[0]["peer_id"] == peer_id
          and re.fullmatch(r"[0-9a-f]{16}:[0-9a-f]{16}", sas[0].get("cookies", "")))
    if not ok:
        errs.append("gateway %s: show mmsas: %s, expected one IKEv1 SA with cookies, %s, peer %s"
                    % (gw, sas, role, peer_id))
    text = w.ctl(gw, "show", "mmsas")
    if ok and not re.search(r"^%s\s+IKEv1\s+to-peer\s+%s\s" % (sas[0]["cookies"], role), text,
                            re.M):
        errs.append("gateway %s: show mmsas (text) without the IKEv1 SA's row:\n%s" % (gw, text))


def check_pings(errs, what, answered, out, expected):
    if not set(expected) <= set(answered):
        errs.append("%s: pings answered %s, expected at least %s:\n%s"
                    % (what, answered, sorted(expected), out))


def check_counts(w, errs, gws):
    for g in gws:
        m = w.mm(g)
        print("gateway %s: main modes %d, quick modes %d, key additions %d, key updates %d"
              % (g, m["ike_main_mode"], m["ike_quick_mode"], m["key_additions"], m["key_updates"]))
        if m["ike_main_mode"] < 1 or m["ike_quick_mode"] < 2 or m["key_additions"] < 2:
            errs.append("gateway %s: Main Mode table %s: expected a main mode, and two quick "
                        "modes (the first and its rekey) with their SAs" % (g, m))


def udp_stream_from_b(w):
    """Host B sends 50 KB/s of UDP to host A (discard port) through the
    tunnel: B sends far more than it receives."""
    code = ("import socket, time\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "while True:\n"
            "    s.sendto(b'x' * 1000, ('10.1.0.2', 9))\n"
            "    time.sleep(0.02)\n")
    return subprocess.Popen(["ip", "netns", "exec", w.ns["hb"], "python3", "-c", code])


def check_renewed(w, errs, first):
    """A, the initiator, renewed the ISAKMP SA at 85-90 % of ISAKMP_LIFE,
    before B's soft point: each holds one IKEv1 SA, with new cookies, the
    same on both, A its initiator; B adopted the Quick Mode SA (the
    rekey that followed ran on the new SA)."""
    now = {g: w.show(g, "mmsas") for g in ("a", "b")}
    print("ISAKMP SAs before the renewal %s, after %s"
          % ({g: [s["cookies"] for s in first[g]] for g in first},
             {g: [(s["cookies"], s["role"]) for s in now[g]] for g in now}))
    if any(len(now[g]) != 1 or now[g][0]["cookies"] == first[g][0]["cookies"] for g in now) or \
            now["a"][0]["cookies"] != now["b"][0]["cookies"] or now["a"][0]["role"] != "initiator":
        errs.append("ISAKMP SA renewal by A: before %s, after %s: expected one new SA on each "
                    "side, the same cookies, A its initiator" % (first, now))
    E.check_ike_log(w, errs, "b", "replaces an older ISAKMP SA: 1 quick mode SAs adopted")
    E.check_ike_log(w, errs, "a", "replaced by a new Main Mode")


def check_rekey_side(errs, ctld):
    """The seeds' rule: B, which sent more (its UDP stream), rekeyed the
    pair A made; A waited for it."""
    if not re.search(r"rekeying SPI in 0x[0-9a-f]+ at its soft lifetime \(we sent more\)",
                     ctld["b"].text()):
        errs.append("gateway b sent more but did not rekey the Quick Mode SA")
    if "the peer sent more" not in ctld["a"].text():
        errs.append("gateway a did not leave the Quick Mode rekey to b, which sent more")


def run_dpsec(w, errs):
    w.ctld_args = ["--test-ike-lifetime", str(ISAKMP_LIFE)]
    w.topology()
    caps = [w.capture(g) for g in ("a", "b")]
    ctld = {g: w.gateway(g) for g in ("a", "b")}
    t_up = time.monotonic()
    answered, out = E.ping(w, 10)
    check_pings(errs, "ping 10.1.0.2 -> 10.2.0.2", answered, out, range(6, 11))
    stream = udp_stream_from_b(w)
    check_mmsa(w, errs, "a", "initiator", "IPv4 192.0.2.2")
    check_mmsa(w, errs, "b", "responder", "IPv4 192.0.2.1")
    first = {g: w.show(g, "mmsas") for g in ("a", "b")}
    E.check_ike_log(w, errs, "a", "-> ESTABLISHED")
    for g in ("a", "b"):
        E.check_ike_log(w, errs, g, "main mode up with IPv4 %s, lifetime %d s"
                        % (E.GW[g]["peer"], ISAKMP_LIFE))
    E.rekey(w, errs, t_up)
    stream.kill()
    stream.wait()
    check_renewed(w, errs, first)
    check_rekey_side(errs, ctld)
    for c, _ in caps:
        c.signal(2)
        c.p.wait(10)
    check_counts(w, errs, ("a", "b"))
    for g, (_, pcap) in zip(("a", "b"), caps):
        k = E.wan_kinds(pcap)
        print("WAN at %s: %d IKE, %d ESP, %d ESP in UDP" % (g, k["ike"], k["esp"], k["esp-in-udp"]))
        if not k["ike"] or not k["esp"] or k["other"]:
            errs.append("WAN at %s: expected IKE and ESP only, got %s" % (g, k))
    if errs:
        for g in ("a", "b"):
            print("---- dpsec-ctld %s ----\n%s" % (g, ctld[g].text()[-6000:]))


def swanctl(w, *args):
    return T.sh(E.SWANCTL, *args, "--uri", "unix://" + w.path("charon.vici"), ns=w.ns["gb"],
                check=False)


def run_strongswan(w, errs):
    w.topology()
    ctld = w.gateway("a")
    w.strongswan()
    answered, out = E.ping(w, 10)
    check_pings(errs, "dpsec initiating: ping 10.1.0.2 -> 10.2.0.2", answered, out, range(6, 11))
    check_mmsa(w, errs, "a", "initiator", "IPv4 192.0.2.2")
    E.check_ike_log(w, errs, "a", "lifetime %d s" % (MM_MINUTES * 60))
    E.check_ike_log(w, errs, "a", ", PFS")
    strongswan_initiates(w, errs, "IPv4 192.0.2.2")
    if errs:
        print("---- dpsec-ctld a ----\n%s" % ctld.text()[-6000:])
        print("---- swanctl --list-sas ----\n%s" % swanctl(w, "--list-sas").stdout)
        print("---- charon ----\n%s" % w.charon_log()[-6000:])


def strongswan_initiates(w, errs, peer_id):
    """strongSwan deletes its SAs (dpsec drops them), then initiates
    again: dpsec responds and pings pass."""
    r = swanctl(w, "--terminate", "--ike", "dpsec", "--timeout", "20")
    print("swanctl --terminate: exit %d" % r.returncode)
    try:
        wait_until("A to drop the SAs strongSwan deleted",
                   lambda: not w.show("a", "mmsas") and not E.inbound_spis(w))
    except RuntimeError as e:
        errs.append("%s: mmsas %s, qmsas %s" % (e, w.show("a", "mmsas"), w.show("a", "qmsas")))
    r = swanctl(w, "--initiate", "--child", "lans", "--timeout", "30")
    if r.returncode != 0:
        errs.append("strongSwan initiating: swanctl --initiate: exit %d:\n%s"
                    % (r.returncode, r.stdout[-3000:]))
    check_mmsa(w, errs, "a", "responder", peer_id)
    answered, out = E.ping(w, 6)
    check_pings(errs, "strongSwan initiating: ping 10.1.0.2 -> 10.2.0.2", answered, out,
                range(2, 7))


def run_strongswan_cert(w, errs):
    w.key_types = lambda: ("rsa", "rsa")  # IKEv1 signatures are RSA
    w.topology()
    w.certificates()
    ctld = w.gateway("a")
    w.strongswan()
    answered, out = E.ping(w, 10)
    check_pings(errs, "dpsec initiating: ping 10.1.0.2 -> 10.2.0.2", answered, out, range(6, 11))
    check_mmsa(w, errs, "a", "initiator", "FQDN b.example")
    lines = [l.strip() for l in w.charon_log().splitlines() if "authentication of" in l]
    print("charon: %s" % lines)
    # RSA_EMSA_PKCS1_NULL: PKCS#1 without DigestInfo, IKEv1's SIG
    if not any("'a.example' with RSA_EMSA_PKCS1_NULL successful" in l for l in lines):
        errs.append("charon did not verify A's RSA signature: %s" % lines)
    strongswan_initiates(w, errs, "FQDN b.example")
    if errs:
        print("---- dpsec-ctld a ----\n%s" % ctld.text()[-6000:])
        print("---- charon ----\n%s" % w.charon_log()[-6000:])


def ike_scan(w, *args):
    """ike-scan from B's namespace to A's WAN address; its output."""
    return T.sh(IKE_SCAN, "--retry=5", "--timeout=2000", *args, "192.0.2.1", ns=w.ns["gb"],
                check=False).stdout


def scan_answer(out):
    """The handshake's SA=(...) attributes, or None without a handshake."""
    if "Main Mode Handshake returned" not in out:
        return None
    m = re.search(r"SA=\(([^)]*)\)", out)
    return dict(kv.split("=", 1) for kv in m.group(1).split() if "=" in kv) if m else {}


def run_scan(w, errs):
    w.topology()
    ctld = w.gateway("a")
    probes = [("default probe", [], {"Enc": "3DES", "Hash": "SHA1", "Group": "2:modp1024",
                                    "Auth": "PSK"}),
              ("AES-128 probe", ["--trans=(1=7,14=128,2=2,3=1,4=14)"],
               {"Enc": "AES", "KeyLength": "128", "Hash": "SHA1", "Group": "14:modp2048",
                "Auth": "PSK"})]
    for what, args, want in probes:
        out = ike_scan(w, *args)
        sa = scan_answer(out)
        print("ike-scan %s: %s" % (what, out))
        if sa is None or any(sa.get(k) != v for k, v in want.items()):
            errs.append("ike-scan %s: expected a Main Mode handshake with %s:\n%s"
                        % (what, want, out))
    out = ike_scan(w, "--trans=(1=1,2=1,3=1,4=1)")
    print("ike-scan DES/MD5 probe: %s" % out.strip().splitlines()[1:2])
    if "NO-PROPOSAL-CHOSEN" not in out or "Handshake returned" in out:
        errs.append("ike-scan DES/MD5/group 1 probe: expected NO-PROPOSAL-CHOSEN:\n" + out)
    scan_ikev2_policy(w, errs)
    if errs:
        print("---- dpsec-ctld a ----\n%s" % ctld.text()[-6000:])


def ike_version_shown(w):
    return json.loads(w.ctl("a", "show", "rules", "--json"))["policies"][0]["ike_version"]


def scan_ikev2_policy(w, errs):
    """Once an IKEv2 policy is assigned (a static change: the store is
    saved), show rules says so and IKEv1 gets NO-PROPOSAL-CHOSEN."""
    before = ike_version_shown(w)
    w.ctl("a", "policy", "assign", "ike-v2")
    after = ike_version_shown(w)
    out = ike_scan(w, "--trans=(1=7,14=128,2=2,3=1,4=14)")
    print("show rules: IKE version %s, then %s; ike-scan under the IKEv2 policy: %s"
          % (before, after, out.strip().splitlines()[1:2]))
    if (before, after) != (1, 2):
        errs.append("show rules: IKE version %s, then %s after assigning ike-v2: expected 1, 2"
                    % (before, after))
    if "NO-PROPOSAL-CHOSEN" not in out or "Handshake returned" in out:
        errs.append("ike-scan under an IKEv2 policy: expected NO-PROPOSAL-CHOSEN:\n" + out)


def missing(peer):
    """Why the test cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if shutil.which("tshark") is None or shutil.which("ethtool") is None:
        return "tshark or ethtool missing (tools/deps installs them)"
    if peer.startswith("strongswan") and not (os.access(E.CHARON, os.X_OK) and os.access(E.SWANCTL, os.X_OK)):
        return "strongSwan is not installed (tools/deps installs it)"
    if peer == "scan" and not os.access(IKE_SCAN, os.X_OK):
        return "ike-scan is not installed"
    return None


def main():
    args, peer = sys.argv[1:], "dpsec"
    if args[:1] == ["--peer"] and len(args) > 1:
        peer, args = args[1], args[2:]
    runs = {"dpsec": run_dpsec, "strongswan": run_strongswan,
            "strongswan-cert": run_strongswan_cert, "scan": run_scan}
    if len(args) != 3 or peer not in runs:
        print("usage: ikev1_e2e.py [--peer dpsec|strongswan|strongswan-cert|scan] DPSECD "
              "DPSEC_CTLD DPSECCTL", file=sys.stderr)
        return 2
    why = missing(peer)
    if why:
        print("ikev1_e2e: %s; skipped" % why)
        return 77
    use_ikev1(legacy=peer == "scan", pfs=peer == "strongswan")
    # the scan needs B's namespace as strongSwan's: the WAN address in the kernel
    w = E.World(peer if peer in ("dpsec", "strongswan-cert") else "strongswan", *args)
    return E.run_world(w, runs[peer], "ikev1_e2e (peer %s)" % peer)


if __name__ == "__main__":
    sys.exit(main())
