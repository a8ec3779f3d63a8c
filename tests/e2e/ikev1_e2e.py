# ikev1_e2e.py - IKEv1 (Main Mode, Quick Mode) in dpsec-ctld end to end, in
# ike_e2e.py's namespaces and with its gateways, the store's policy saying
# main_mode = { ike_version = 1; }.
#
# --peer dpsec: two dpsec gateways, the ISAKMP SA's lifetime 45 s
#   (--test-ike-lifetime). A ping from host A raises the ACQUIRE, A's ctld
#   runs Main Mode and Quick Mode with B's, the pings are answered; show
#   mmsas on both names the peer and says IKEv1 with the cookies; both IKE
#   logs say the ISAKMP SA lives 45 s. The pair is ESP AES-256-GMAC (RFC
#   4543: ESP ID 23 with Key Length 256; show qmsas names it), integrity
#   only: 5 pings whose payload repeats a pattern cross the WAN with it in
#   clear inside ESP, each way. Host B then streams UDP to host A.
#   At 85-90 % of the ISAKMP SA's lifetime A renews it: a new Main Mode, the
#   same new cookies on both sides, the Quick Mode SA adopted by the new SA
#   on B, the old one deleted. Past 85-90 % of the Quick Mode SAs' 60 s
#   lifetime B, which sent more, rekeys them (the seeds' rule; A does not)
#   under a continuous ping (a new inbound SPI at A, the
#   old pair gone, at most 2 pings lost); the Main Mode tables count the
#   main and quick modes; only IKE and ESP cross the WAN.
# --peer strongswan: B is strongSwan 5.9 with version = 1 (userspace ESP:
#   ESP in UDP 4500 after its faked NAT detection), Quick Mode with PFS
#   (ECP-256; dpsec's filter action says pfs = true) for AES-128-CBC with
#   HMAC-SHA-512-256 (RFC 4868). dpsec initiates (ping through, show mmsas:
#   IKEv1, initiator, the policy's ISAKMP SA lifetime, a Quick Mode SA with
#   PFS in the IKE log, show qmsas names the integrity strongSwan's
#   list-sas does); strongSwan then deletes its SAs
#   (swanctl --terminate: DELETE notifications) and dpsec drops them; then
#   strongSwan initiates (swanctl --initiate) and dpsec responds: show mmsas
#   says IKEv1, responder, and pings pass again. The policy names its own
#   Main Mode method (AES-CBC-192, SHA-384, ECP-384), which strongSwan offers
#   after one of dpsec's suites: both ISAKMP SAs are in it. Last, strongSwan
#   asks for a pair with 10.9.0.0/24, outside dpsec's policy: dpsec refuses
#   it with INVALID-ID-INFORMATION naming strongSwan's ESP SPI, charon
#   reports that notify and its initiation fails; the SAs up stay. Then
#   strongSwan rekeys the pair and deletes the newer one first: dpsec drops
#   its per-peer rule with it and negotiates a third pair, on which pings
#   pass, sending nothing on the old one (which strongSwan keeps REKEYED).
# --peer strongswan-cert: B is strongSwan with version = 1 and auth = pubkey,
#   both gateways with RSA certificates of ike_e2e.py's test root CA (Main
#   Mode authenticated by RSA signatures, RFC 2409 §5.1), ESP AES-256-CCM-8
#   (RFC 4309: ESP ID 14, Key Length 256); dpsec initiates,
#   pings pass, show mmsas names B by its certificate's FQDN, show qmsas
#   and strongSwan's list-sas name AES-256-CCM-8, and charon's
#   log says it verified A's RSA signature (PKCS#1 without DigestInfo); then,
#   as with --peer strongswan, strongSwan deletes its SAs and initiates, and
#   dpsec responds: show mmsas says responder, pings pass again.
# --peer strongswan-lifetimes: B is strongSwan with version = 1 and short
#   lifetimes, one run of about 85-90 s: dpsec-ctld with --test-ike-lifetime
#   42 and --dpd-interval 1, strongSwan's Quick Mode life_time 20 s (its own
#   rekey off; dpsec takes the shorter offer, strongSwan holds every pair to
#   its 20 s). dpsec initiates; each step below runs under a continuous ping
#   that may lose at most E.LOSS_TOLERANCE pings.
#   - strongSwan re-authenticates (swanctl --rekey --ike --reauth: a new
#     Main Mode, the pairs moved to it): dpsec adopts the pair (the same
#     SPIs on both sides, under the new SA at strongSwan) and, since
#     strongSwan keeps the old SA, deletes it 5 s later: one ISAKMP SA on
#     each side, the new cookies, dpsec responder; charon logs the DELETE.
#   - strongSwan rekeys the pair (swanctl --rekey --child): both install
#     the new pair and dpsec's traffic moves to it at once (the old
#     outbound SA carries no more); strongSwan keeps the old one REKEYED,
#     deletes it at its 20 s and dpsec drops it on that DELETE.
#   - a 1 MB TCP transfer from host A through that pair (socat, checked
#     byte for byte) makes dpsec the side that sent more: at 85-90 % of the
#     20 s dpsec rekeys it, a new pair on both sides, the old one gone on
#     both, charon logging dpsec's DELETE of it.
#   - at 92-97 % of the 42 s dpsec renews the ISAKMP SA strongSwan made: a
#     new Main Mode, new cookies on both sides, exactly one SA each, the
#     pair unchanged and under the new SA at strongSwan, dpsec's DELETE of
#     the old SA in charon's log.
#   - charon is killed (SIGKILL): dpsec's R-U-THERE goes unanswered and
#     about 33 s later dpsec holds no ISAKMP SA and no pair (show mmsas and
#     qmsas empty, the Main Mode table's SA count 0, audit and IKE log
#     "dead peer").
#   - the store reloaded (SIGHUP) with idle_seconds 3 and charon restarted:
#     the next pings negotiate again; once they stop, dpsec deletes the
#     idle pair (audited, its DELETE in charon's log) and strongSwan drops
#     its CHILD_SA, keeping the ISAKMP SA; pings again get a Quick Mode on
#     that ISAKMP SA (no new Main Mode).
# --peer scan: ike-scan from B's namespace probes dpsec-ctld (no strongSwan
#   running): its default Main Mode probe (3DES, SHA1, MODP-1024 first: the
#   policy allows legacy_suites), --trans='(1=7,14=128,2=2,3=1,4=14)', and
#   DES with SHA1 and with MD5 over MODP-1024 (legacy too) each get "Main
#   Mode Handshake returned" with the transform dpsec chose; DES/MD5 over
#   group 1 (MODP-768, never accepted) gets NO-PROPOSAL-CHOSEN, and so does
#   DES/SHA1 once the same policy without legacy_suites is assigned
#   (dpsecctl policy assign), and the AES-128 probe once a policy with the
#   same rule and IKEv2 is (show rules says IKE version 2).
#
# Needs root, tshark, ethtool; strongSwan, socat or ike-scan for those peers
# (exit 77, skip, when missing). DPSEC_E2E_KEEP=DIR keeps the logs of a
# failed strongswan-lifetimes run (ike_interop_e2e.py's run_case).
#
# --peer dpsec-ah: two dpsec gateways whose filter action offers only the
#   model's "Medium" method (AH with HMAC-SHA1): Quick Mode agrees on AH,
#   pings pass, show qmsas on both says AH/HMAC-SHA1-96, and only IKE and
#   AH (tshark: an inner IP packet after AH) cross the WAN.
#
# usage: ikev1_e2e.py [--peer dpsec|dpsec-ah|strongswan|strongswan-cert|scan|
#        strongswan-lifetimes] DPSECD DPSEC_CTLD DPSECCTL
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctl_topo as T  # noqa: E402
import ike_e2e as E  # noqa: E402
import ike_interop_e2e as I  # noqa: E402

IKE_SCAN = "/usr/bin/ike-scan"
DES_SHA1_G2 = "--trans=(1=1,2=2,3=1,4=2)"  # DES, SHA1, pre-shared key, MODP-1024
MM_MINUTES = 30  # the policy's Main Mode lifetime: the ISAKMP SA's
# An IKEv1 policy's own Main Mode method (AES-192-CBC, SHA-384 as hash and
# PRF, ECP-384: RFC 5903's groups serve IKEv1 too), strongSwan's name of
# it, and how dpsec's show mmsas names it.
MM_METHODS_V1 = ' methods = ( { encryption = "aes192"; prf = "sha384"; dh_group = "ecp384"; } );'
MM_SWAN_V1 = "aes192-sha384-ecp384"
MM_SHOWN_V1 = "AES_CBC-192/PRF_HMAC_SHA2_384/ECP_384"
ISAKMP_LIFE = 45  # dpsec against dpsec: --test-ike-lifetime, A renews at 38-41 s


def ikev1_store(legacy, integ, enc="aes128", methods=""):
    """ike_e2e's store with an IKEv1 policy and ESP enc (AES-128-CBC) with
    integ, and the policy's Main Mode methods (none: dpsec's suites)."""
    mm = 'main_mode = { ike_version = 1; lifetime_minutes = %d;%s%s };' % (
        MM_MINUTES, " legacy_suites = true;" if legacy else "", methods)
    store = E.STORE.replace('default_action = "permit";', 'default_action = "permit"; ' + mm)
    return store.replace('encryption = "%(esp)s"; integrity = "%(integ)s";',
                         'encryption = "%s"; integrity = "%s";' % (enc, integ))


def with_ikev2_policy(store):
    """The store with a second policy, "ike-v2": the same rule, IKEv2."""
    head, policies = store.split("policies = (\n")
    ike = policies.rstrip().rsplit(");", 1)[0].rstrip()
    v2 = re.sub(r"main_mode = \{(?:[^{}]|\{[^{}]*\})*\};", "",
                ike.replace('name = "ike";', 'name = "ike-v2";'))
    return head + "policies = (\n" + ike + ",\n" + v2 + "\n);\n"


def with_added_policy(store, other, name):
    """The store with other's one policy added to its own, named name."""
    policy = other.split("policies = (\n")[1].rstrip().rsplit(");", 1)[0].rstrip()
    policy = policy.replace('name = "ike";', 'name = "%s";' % name)
    return store.rstrip().rsplit(");", 1)[0].rstrip() + ",\n" + policy + "\n);\n"


def use_ikev1(legacy=False, pfs=False, ccm=False, gmac=False):
    """ike_e2e's stores and swanctl.conf for IKEv1; with pfs, Quick Mode
    with a new ECP-256 exchange on both, and HMAC-SHA-512-256 for ESP
    instead of HMAC-SHA1-96; with ccm, ESP AES-256-CCM-8 (RFC 4309)
    instead of AES-128-CBC with HMAC-SHA1-96; with gmac, ESP AES-256-GMAC
    (RFC 4543: ESP ID 23, integrity only; dpsec against dpsec); with
    legacy, a third policy, "ike-v1-strict", IKEv1 without the legacy
    suites."""
    integ, sw_integ = ("sha512_256", "sha512") if pfs else ("sha1_96", "sha1")
    enc, integ, sw_esp = ("aes256ccm8", "none", "aes256ccm8") if ccm else \
        ("aes256gmac", "none", "aes256gmac") if gmac else \
        ("aes128", integ, "aes128-" + sw_integ + ("-ecp256" if pfs else ""))
    # with pfs (strongSwan's PSK run) the policy names its Main Mode
    # method, none of dpsec's suites, which strongSwan offers second
    methods, sw_ike = (MM_METHODS_V1, "aes128-sha1-modp2048," + MM_SWAN_V1) if pfs else \
        ("", "aes128-sha1-modp2048")
    store = with_ikev2_policy(ikev1_store(legacy, integ, enc, methods))
    if legacy:
        store = with_added_policy(store, ikev1_store(False, integ, enc), "ike-v1-strict")
    E.STORE = store.replace('action = "negotiate";', 'action = "negotiate"; pfs = true;') if pfs \
        else store
    E.SWANCTL_CONF = (E.SWANCTL_CONF.replace("version = 2", "version = 1")
                      .replace("proposals = %(proposals)s", "proposals = " + sw_ike)
                      .replace("esp_proposals = %(esp)s", "esp_proposals = " + sw_esp))


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
    E.ike_rekeyed(w, errs, first, key="cookies", what="ISAKMP SA renewal")
    E.check_ike_log(w, errs, "b", "replaces an older ISAKMP SA: 1 quick mode SAs adopted")
    E.check_ike_log(w, errs, "a", "replaced by a new Main Mode")


def check_rekey_side(errs, ctld):
    """The seeds' rule: B, which sent more (its UDP stream), rekeyed the
    pair A made; A, whichever soft point came first, did not (when its own
    came first it logged that it waits for B's)."""
    if not re.search(r"rekeying SPI in 0x[0-9a-f]+ at its soft lifetime \(we sent more\)",
                     ctld["b"].text()):
        errs.append("gateway b sent more but did not rekey the Quick Mode SA")
    if re.search(r"rekeying SPI in 0x[0-9a-f]+ at its soft lifetime|the peer did not rekey",
                 ctld["a"].text()):
        errs.append("gateway a rekeyed the Quick Mode SA although b sent more")


def run_dpsec(w, errs):
    w.ctld_args = ["--test-ike-lifetime", str(ISAKMP_LIFE)]
    w.esp = E.ESP_SUITES["gmac"]  # use_ikev1(gmac=True)'s
    w.topology()
    caps = [w.capture(g) for g in ("a", "b")]
    ctld = {g: w.gateway(g) for g in ("a", "b")}
    t_up = time.monotonic()
    answered, out = E.ping(w, 10)
    check_pings(errs, "ping 10.1.0.2 -> 10.2.0.2", answered, out, range(6, 11))
    E.check_esp_cipher(w, errs)
    patterned = E.patterned_pings(w, errs)
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
    E.dataplane_restart(w, errs, ctld, first=2)
    for c, _ in caps:
        c.signal(2)
        c.p.wait(10)
    check_counts(w, errs, ("a", "b"))
    E.control_restart(w, errs, ctld, first=2)  # after the counts: a new dpsec-ctld's start from zero
    frames = [E.wan_read(pcap) for _, pcap in caps]
    for g, f in zip(("a", "b"), frames):
        k = E.wan_kinds(f)
        print("WAN at %s: %d IKE, %d ESP, %d ESP in UDP" % (g, k["ike"], k["esp"], k["esp-in-udp"]))
        if not k["ike"] or not k["esp"] or k["other"]:
            errs.append("WAN at %s: expected IKE and ESP only, got %s" % (g, k))
    E.esp_in_clear(w, errs, frames, patterned)
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
    check_mm_method(w, errs)
    E.check_ike_log(w, errs, "a", "lifetime %d s" % (MM_MINUTES * 60))
    E.check_ike_log(w, errs, "a", ", PFS")
    check_esp(w, errs, "AES-128-CBC/HMAC-SHA-512-256", "AES_CBC-128/HMAC_SHA2_512_256")
    strongswan_initiates(w, errs, "IPv4 192.0.2.2")
    quick_mode_refused(w, errs)
    newer_pair_deleted_first(w, errs)
    if errs:
        print("---- dpsec-ctld a ----\n%s" % ctld.text()[-6000:])
        print("---- swanctl --list-sas ----\n%s" % swanctl(w, "--list-sas").stdout)
        print("---- charon ----\n%s" % w.charon_log()[-6000:])


def check_mm_method(w, errs):
    """The ISAKMP SA in the policy's one Main Mode method (MM_METHODS_V1),
    which strongSwan offered after a suite of dpsec's own."""
    sas = w.show("a", "mmsas")
    if [m["algorithms"] for m in sas] != [MM_SHOWN_V1]:
        errs.append("gateway a: ISAKMP SA in %s, expected the policy's Main Mode method, %s"
                    % ([m["algorithms"] for m in sas], MM_SHOWN_V1))


def check_esp(w, errs, shown, swan):
    """The pair's algorithms on both sides: dpsec's show qmsas says shown,
    strongSwan's list-sas swan (its names of RFC 4868's HMAC-SHA-512-256,
    which IKEv1 carries as Authentication Algorithm 7, and of RFC 4309's
    AES-CCM, ESP IDs 14-16 with a Key Length)."""
    algs = {q["algorithms"] for q in w.show("a", "qmsas")}
    sas = swanctl(w, "--list-sas").stdout
    print("gateway a: child SAs' algorithms %s; strongSwan: %s" % (
        sorted(algs), re.findall(r"AES_(?:CBC|CCM)\S*", sas)))
    if algs != {shown} or swan not in sas:
        errs.append("child SAs: dpsec %s, strongSwan:\n%s" % (sorted(algs), sas))


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
    if w.peer == "strongswan" and not w.cert:
        check_mm_method(w, errs)
    answered, out = E.ping(w, 6)
    check_pings(errs, "strongSwan initiating: ping 10.1.0.2 -> 10.2.0.2", answered, out,
                range(2, 7))


def quick_mode_refused(w, errs):
    """strongSwan asks for a pair between its LAN and 10.9.0.0/24, which
    dpsec's policy does not hold: dpsec refuses the Quick Mode with an
    INVALID-ID-INFORMATION notification that names strongSwan's ESP SPI
    (the offer it refuses), which charon parses and reports, and its
    initiation fails; the ISAKMP SA and the pair already up stay."""
    r = swanctl(w, "--initiate", "--child", "outside", "--timeout", "20")
    print("swanctl --initiate --child outside: exit %d" % r.returncode)
    if r.returncode == 0:
        errs.append("strongSwan's Quick Mode for 10.9.0.0/24 was not refused:\n%s" % r.stdout[-2000:])
    log = w.charon_log()
    print("charon: %s" % [x.strip() for x in log.splitlines() if "INVALID_ID_INFORMATION" in x or
                          "N(INVAL_ID)" in x])
    if "received INVALID_ID_INFORMATION error notify" not in log:
        errs.append("charon did not report dpsec's INVALID-ID-INFORMATION:\n%s" % log[-3000:])
    if len(w.show("a", "mmsas")) != 1:
        errs.append("gateway a: ISAKMP SAs after the refusal: %s" % w.show("a", "mmsas"))
    answered, out = E.ping(w, 3)
    check_pings(errs, "after the refusal: ping 10.1.0.2 -> 10.2.0.2", answered, out, range(3, 4))


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
    check_esp(w, errs, "AES-256-CCM-8", "AES_CCM_8-256")
    strongswan_initiates(w, errs, "FQDN b.example")
    check_esp(w, errs, "AES-256-CCM-8", "AES_CCM_8-256")
    if errs:
        print("---- dpsec-ctld a ----\n%s" % ctld.text()[-6000:])
        print("---- charon ----\n%s" % w.charon_log()[-6000:])


# --peer strongswan-lifetimes: shortened lifetimes against strongSwan.
SW_QM_LIFE = 20  # strongSwan's Quick Mode lifetime (life_time, its own rekey off): dpsec
                 # takes the shorter offer and rekeys at 85-90 % of it
LIFE_IKE = 42    # --test-ike-lifetime: dpsec renews the ISAKMP SA strongSwan made at
                 # 92-97 % (39-41 s); the one it makes lasts past the DPD check
LIFE_DPD = 1     # --dpd-interval; the R-U-THERE is given up 31.5 s after it is sent
LIFE_IDLE = 3    # the store's idle_seconds once strongSwan is restarted
QM_REKEY_AT = 10  # s after the first pair: strongSwan rekeys it (before its 20 s end)
PEER_RENEWED_GRACE = 5  # s dpsec leaves the peer to delete the ISAKMP SA its reauth replaced


def newer_pair_deleted_first(w, errs):
    """strongSwan rekeys the pair (a Quick Mode of its own; it keeps the old
    pair, REKEYED, for what is still on its way), then deletes the new pair
    alone (swanctl --terminate --child-id), which takes its policies with
    it: strongSwan sends nothing on the old pair. dpsec drops the new pair
    and its per-peer rule with it, though the old pair lives on: the next
    packets negotiate a third pair (dpsec's Quick Mode), on which the pings
    pass, and none goes out on the old pair, which the peer would answer on
    nothing."""
    what = "the newer pair deleted first"
    old = installed_pair(w, (0, 0))
    swanctl(w, "--rekey", "--child", "lans")
    new = E.wait_until(what + ": a rekey", lambda: installed_pair(w, old), 10, step=0.2)
    ids = [c["id"] for sa in sw_v1_sas(w) for c in sa["children"] if c["pair"] == new]
    if not old or not new or len(ids) != 1:
        errs.append("%s: pairs %s then %s, strongSwan's %s" % (what, hexpair(old), hexpair(new),
                                                               sw_v1_sas(w)))
        return
    r = swanctl(w, "--terminate", "--child-id", str(ids[0]), "--timeout", "10")
    print("%s: pair %s rekeyed to %s, swanctl --terminate --child-id %d: exit %d"
          % (what, hexpair(old), hexpair(new), ids[0], r.returncode))
    if not E.wait_until(what + ": dpsec dropping the new pair",
                        lambda: ("inbound", new[0]) not in qm_packets(w), 10, step=0.2):
        errs.append("%s: dpsec kept the pair strongSwan deleted: %s" % (what, qm_packets(w)))
        return
    before = qm_packets(w)
    answered, out = E.ping(w, 5)
    check_pings(errs, what + ": ping 10.1.0.2 -> 10.2.0.2", answered, out, range(2, 6))
    third = installed_pair(w, old)
    carried = qm_packets(w).get(("outbound", old[1]), 0) - before.get(("outbound", old[1]), 0)
    print("%s: a third pair %s, packets out on the old one over the pings: %d; strongSwan %s"
          % (what, hexpair(third), carried, sw_children(w)))
    if not third or third == new:
        errs.append("%s: no third pair on both sides: dpsec %s, strongSwan %s"
                    % (what, qm_packets(w), sw_children(w)))
    if carried != 0:
        errs.append("%s: %d packets out on the old pair %s, which strongSwan answers on nothing"
                    % (what, carried, hexpair(old)))


def sw_v1_sas(w):
    """strongSwan's IKEv1 SAs (swanctl --list-sas): [{"cookies": "CKY-I:CKY-R",
    "state": ..., "children": [{"id": its unique id, "state": ..., "pair": (dpsec's in,
    dpsec's out)}]}]."""
    sas = []
    for line in swanctl(w, "--list-sas").stdout.splitlines():
        m = re.match(r"^\S+: #\d+, (\w+), IKEv1, ([0-9a-f]{16})_i\*? ([0-9a-f]{16})_r", line)
        if m:
            sas.append({"state": m.group(1), "cookies": m.group(2) + ":" + m.group(3),
                        "children": []})
            continue
        m = re.match(r"^\s+\S+: #(\d+), reqid \d+, (\w+), TUNNEL", line)
        if m and sas:
            sas[-1]["children"].append({"id": int(m.group(1)), "state": m.group(2), "in": None,
                                        "out": None})
            continue
        m = re.match(r"^\s+(in|out)\s+([0-9a-f]{8})", line)
        if m and sas and sas[-1]["children"]:
            # strongSwan's inbound SPI is dpsec's outbound one, and the other way round
            sas[-1]["children"][-1]["out" if m.group(1) == "in" else "in"] = int(m.group(2), 16)
    for sa in sas:
        for c in sa["children"]:
            c["pair"] = (c.pop("in"), c.pop("out"))
    return sas


def sw_children(w):
    return [(c["state"], c["pair"]) for sa in sw_v1_sas(w) for c in sa["children"]]


def qm_packets(w):
    """dpsec's Quick Mode SAs: {(direction, SPI): packets}."""
    return {(q["direction"], q["spi"]): q["packets"] for q in w.show("a", "qmsas")}


def hexpair(p):
    return "(in 0x%08x, out 0x%08x)" % p if p else str(p)


def installed_pair(w, old):
    """A pair other than old that strongSwan has installed and dpsec holds
    both SAs of; or None."""
    qm = qm_packets(w)
    for state, pair in sw_children(w):
        if state == "INSTALLED" and pair[0] != old[0] and pair[1] != old[1] and \
                ("inbound", pair[0]) in qm and ("outbound", pair[1]) in qm:
            return pair
    return None


def pair_gone(w, pair):
    """Neither side holds any SA of pair."""
    qm = qm_packets(w)
    return ("inbound", pair[0]) not in qm and ("outbound", pair[1]) not in qm and \
        not any(p[0] == pair[0] or p[1] == pair[1] for _, p in sw_children(w))


def qm_rekey_by_strongswan(w, errs, old):
    """swanctl --rekey --child: strongSwan's Quick Mode (its SW_QM_LIFE s
    offered, dpsec takes them) brings a new pair that both install; dpsec's
    outbound traffic moves to it at once (the old pair carries no more),
    while strongSwan keeps the old one REKEYED until it expires (it sends
    no DELETE after a rekey: delete_rekeyed = no). At most
    E.LOSS_TOLERANCE pings lost. The new pair and when both held it, or
    None."""
    what = "Quick Mode rekey by strongSwan"
    pinger = E.Pinger(w)
    time.sleep(1)
    swanctl(w, "--rekey", "--child", "lans")
    new = E.wait_until(what, lambda: installed_pair(w, old), 10, step=0.2)
    t_new = time.monotonic()
    time.sleep(2)
    before = qm_packets(w)
    time.sleep(1)
    after = qm_packets(w)
    E.stream_check(errs, what, pinger)
    sw = sw_children(w)
    print("%s: pair %s -> %s; strongSwan %s" % (what, hexpair(old), hexpair(new), sw))
    if not new:
        errs.append("%s: no new pair on both sides: dpsec %s, strongSwan %s"
                    % (what, qm_packets(w), sw))
        return None, None
    grew = lambda spi: after.get(("outbound", spi), 0) - before.get(("outbound", spi), 0)
    if grew(new[1]) < 3 or grew(old[1]) != 0:
        errs.append("%s: dpsec's outbound packets over 1 s: %d on the new SA 0x%08x, %d on the "
                    "old 0x%08x: expected the traffic on the new one only"
                    % (what, grew(new[1]), new[1], grew(old[1]), old[1]))
    if ("REKEYED", old) not in sw:
        errs.append("%s: strongSwan's children %s, expected the old pair %s REKEYED"
                    % (what, sw, hexpair(old)))
    return new, t_new


def qm_rekey_by_dpsec(w, errs, ctld, old, t_old):
    """At its soft point (85-90 % of SW_QM_LIFE) dpsec, which sent more,
    rekeys the pair strongSwan made: a new pair on both sides, then dpsec's
    DELETE, which strongSwan takes (the old pair gone on both sides, charon
    logs the DELETE). At most E.LOSS_TOLERANCE pings lost. The new pair,
    or None."""
    what = "Quick Mode rekey by dpsec"
    pinger = E.Pinger(w)
    new = E.wait_until(what, lambda: (lambda p: p if p and pair_gone(w, old) else None)(
        installed_pair(w, old)), max(5, t_old + SW_QM_LIFE + 3 - time.monotonic()), step=0.2)
    t_new = time.monotonic()
    time.sleep(2)
    E.stream_check(errs, what, pinger)
    dels = [l.strip() for l in w.charon_log().splitlines()
            if "received DELETE for ESP CHILD_SA with SPI %08x" % old[0] in l]
    print("%s after %.1f s of %d: pair %s -> %s; strongSwan %s; charon: %s"
          % (what, t_new - t_old, SW_QM_LIFE, hexpair(old), hexpair(new), sw_children(w), dels))
    if not new or t_new - t_old < SW_QM_LIFE * 0.8:
        errs.append("%s: expected a new pair at 85-90 %% of %d s, the old %s gone on both sides: "
                    "dpsec %s, strongSwan %s" % (what, SW_QM_LIFE, hexpair(old), qm_packets(w),
                                                 sw_children(w)))
        return None
    if not dels:
        errs.append("%s: charon did not log dpsec's DELETE of the old pair (SPI %08x)"
                    % (what, old[0]))
    if "rekeying SPI in 0x%08x at its soft lifetime (we sent more)" % old[0] not in ctld.text():
        errs.append("%s: dpsec's log does not say it rekeyed SPI in 0x%08x as the side that "
                    "sent more" % (what, old[0]))
    return new


def mm_renewed(w, errs, what, old, pair, role, timeout):
    """A new ISAKMP SA replaced old on both sides (the same cookies, dpsec
    in role; exactly one on each side, dpsec having deleted the old one:
    charon logs its DELETE), the pair moved to it unchanged (strongSwan
    lists it INSTALLED under the new SA), under a continuous ping. The new
    SA's row of show mmsas (with "t": when both held it), or None."""
    pinger = E.Pinger(w)
    deletes = lambda: w.charon_log().count("received DELETE for IKE_SA")
    before = deletes()

    def renewed():
        d, s = w.show("a", "mmsas"), sw_v1_sas(w)
        if len(d) == 1 and d[0]["cookies"] != old and len(s) == 1 and \
                s[0]["cookies"] == d[0]["cookies"] and s[0]["state"] == "ESTABLISHED":
            return d[0]
        return None
    new = E.wait_until(what, renewed, timeout, step=0.2)
    t_new = time.monotonic()
    time.sleep(2)
    E.stream_check(errs, what, pinger)
    d, s, qm = w.show("a", "mmsas"), sw_v1_sas(w), qm_packets(w)
    print("%s: ISAKMP SA %s -> %s; strongSwan %s" % (what, old, [(x["cookies"], x["role"])
                                                               for x in d], s))
    if not new or new["role"] != role:
        errs.append("%s: dpsec %s, strongSwan %s: expected one new ISAKMP SA on each side, dpsec "
                    "its %s, the old %s gone" % (what, d, s, role, old))
        return None
    if ("inbound", pair[0]) not in qm or ("outbound", pair[1]) not in qm or \
            not any(c["state"] == "INSTALLED" and c["pair"] == pair for c in s[0]["children"]):
        errs.append("%s: expected the pair %s kept on both sides, under the new SA at strongSwan: "
                    "dpsec %s, strongSwan %s" % (what, hexpair(pair), qm, s))
    if deletes() != before + 1:
        errs.append("%s: charon logged %d DELETEs of an ISAKMP SA, expected dpsec's one"
                    % (what, deletes() - before))
    new["t"] = t_new
    return new


def run_strongswan_lifetimes(w, errs):
    E.SWANCTL_CONF = E.SWANCTL_CONF.replace(
        "esp_proposals = aes128-sha1",
        "esp_proposals = aes128-sha1\n                      life_time = %ds\n"
        "                      rekey_time = 0s" % SW_QM_LIFE)
    w.ctld_args = ["--test-ike-lifetime", str(LIFE_IKE), "--dpd-interval", str(LIFE_DPD)]
    w.topology()
    ctld = w.gateway("a")
    w.strongswan()
    if not E.wait_until("dpsec's first negotiation", lambda: I.ping_ok(w), 20):
        errs.append("dpsec initiating: no ping answered")
        return
    t_up = time.monotonic()
    mm = w.show("a", "mmsas")
    sw = sw_v1_sas(w)
    print("up: dpsec %s, strongSwan %s" % ([(s["cookies"], s["role"]) for s in mm], sw))
    if len(mm) != 1 or len(sw) != 1 or len(sw[0]["children"]) != 1:
        errs.append("dpsec initiating: ISAKMP SAs %s, strongSwan %s: expected one each with a pair"
                    % (mm, sw))
        return
    first = sw[0]["children"][0]["pair"]
    # 1. strongSwan re-authenticates (IKEv1: a new Main Mode that takes the
    # pairs along); dpsec adopts them and deletes the old SA
    t_reauth = time.monotonic()
    swanctl(w, "--rekey", "--ike", "dpsec", "--reauth")
    mm2 = mm_renewed(w, errs, "ISAKMP SA reauthenticated by strongSwan", mm[0]["cookies"], first,
                     "responder", PEER_RENEWED_GRACE + 5)
    if not mm2:
        return
    E.check_ike_log(w, errs, "a", "replaces an older ISAKMP SA: 1 quick mode SAs adopted")
    if "replaced by the peer's new Main Mode, which did not delete it, deleting it" not in \
            ctld.text():
        errs.append("no audit line for dpsec's delete of the ISAKMP SA strongSwan replaced")
    # 2. Quick Mode rekeys, placed (a wait for a point in time, not for an
    # event) so that dpsec's, at 85-90 % of strongSwan's SW_QM_LIFE s, comes
    # well before dpsec renews the ISAKMP SA and that the pair it makes
    # (SW_QM_LIFE s at strongSwan too) outlives that renewal
    time.sleep(max(0, t_up + QM_REKEY_AT - 1 - time.monotonic()))
    pair, t_pair = qm_rekey_by_strongswan(w, errs, first)
    if not pair:
        return
    # through strongSwan's pair: dpsec sent more, its rekey to make
    I.tcp_transfer(w, errs, to_b=True)
    pair = qm_rekey_by_dpsec(w, errs, ctld, pair, t_pair)
    if not pair:
        return
    # strongSwan deleted the first pair (REKEYED) at its SW_QM_LIFE s, dpsec
    # dropped it (its own lifetime, 60 s, has not run out)
    qm = qm_packets(w)
    sent = [l for l in w.charon_log().splitlines()
            if "sending DELETE for ESP CHILD_SA with SPI %08x" % first[1] in l]
    print("the first pair %s: strongSwan's DELETE %s, dpsec %s" % (
        hexpair(first), sent, "holds it" if ("inbound", first[0]) in qm else "dropped it"))
    if not sent or ("inbound", first[0]) in qm or ("outbound", first[1]) in qm:
        errs.append("strongSwan's DELETE of the first pair %s (%s): dpsec still holds it or "
                    "none was sent" % (hexpair(first), sent))
    # 3. dpsec renews the ISAKMP SA it answered at its soft point (92-97 %)
    mm3 = mm_renewed(w, errs, "ISAKMP SA renewed by dpsec", mm2["cookies"], pair, "initiator",
                     max(5, t_reauth + LIFE_IKE * 0.97 + 3 - time.monotonic()))
    if not mm3:
        return
    t_renew = mm3["t"] - t_reauth
    print("dpsec renewed the ISAKMP SA after %.1f s of %d" % (t_renew, LIFE_IKE))
    if t_renew < LIFE_IKE * 0.9:
        errs.append("ISAKMP SA renewed by dpsec after %.1f s, expected 92-97 %% of %d s"
                    % (t_renew, LIFE_IKE))
    E.check_ike_log(w, errs, "a", "replaced by a new Main Mode")
    # 4. dead peer detection; 5. with strongSwan back, an idle pair
    run_v1_dead_peer(w, errs, ctld)
    run_v1_idle(w, errs, ctld)


def run_v1_dead_peer(w, errs, ctld):
    """strongSwan killed (SIGKILL): dpsec's DPD (R-U-THERE unanswered)
    takes the ISAKMP SA and its pairs down, audited and in the IKE log."""
    old = w.show("a", "mmsas")
    w.procs[-1].kill9()
    os.unlink(w.path("charon.vici"))
    t_kill = time.monotonic()
    gone = E.wait_until("dead peer detection", lambda: not w.show("a", "mmsas"),
                        LIFE_DPD + 45, step=0.5)
    left = {"mmsas": w.show("a", "mmsas"), "qmsas": qm_packets(w),
            "isadb_list_size": w.mm("a")["isadb_list_size"]}
    print("strongSwan killed: after %.1f s dpsec holds %s" % (time.monotonic() - t_kill, left))
    if not gone or left["qmsas"] or left["isadb_list_size"]:
        errs.append("strongSwan killed: dpsec's ISAKMP SA was %s, now %s: expected no ISAKMP SA "
                    "and no pair" % (old, left))
    if "audit: IKE SA down: dead peer" not in ctld.text():
        errs.append("no audit line for the dead peer's ISAKMP SA")
    E.check_ike_log(w, errs, "a", "dead peer: no R-U-THERE-ACK")
    v1 = {r["name"]: r["value"] for r in
          json.loads(w.ctl("a", "show", "stats", "--json"))["ikev1"]}
    print("IKEv1 engine: R-U-THERE sent %d, given up %d" % (v1["DPD_SENT"], v1["PEER_TIMEOUTS"]))
    if v1["DPD_SENT"] < 1 or v1["PEER_TIMEOUTS"] < 1:
        errs.append("show stats: IKEv1 engine counts R-U-THERE sent %d, exchanges given up %d: "
                    "expected the unanswered liveness check counted" % (v1["DPD_SENT"],
                                                                       v1["PEER_TIMEOUTS"]))


def run_v1_idle(w, errs, ctld):
    """The store reloaded (SIGHUP) with idle_seconds LIFE_IDLE, strongSwan
    restarted: the next pings negotiate with it; once they stop, dpsec
    deletes the idle pair (its DELETE in charon's log) and strongSwan drops
    its CHILD_SA, keeping the ISAKMP SA; new traffic then gets a Quick Mode
    on that ISAKMP SA."""
    with open(w.path("storea.conf"), "a") as f:
        f.write("timeouts = { idle_seconds = %d; };\n" % LIFE_IDLE)
    ctld.signal(signal.SIGHUP)
    if not E.wait_until("the store's reload", lambda: "configuration reloaded" in ctld.text(),
                        10, step=0.2):
        errs.append("dpsec-ctld did not reload the store on SIGHUP")
        return
    w.strongswan()
    if not E.wait_until("the new strongSwan's SAs", lambda: I.ping_ok(w) and sw_children(w), 30):
        errs.append("after dead peer detection: no new negotiation with the restarted strongSwan")
        return
    pair = sw_children(w)[0][1]
    t_quiet = time.monotonic()
    idle = E.wait_until("the idle pair's delete", lambda: not qm_packets(w) and
                        sw_v1_sas(w) and not sw_children(w), LIFE_IDLE + 10, step=0.2)
    dels = [l.strip() for l in w.charon_log().splitlines()
            if "received DELETE for ESP CHILD_SA with SPI %08x" % pair[0] in l]
    print("idle: after %.1f s dpsec holds %s, strongSwan %s; charon: %s"
          % (time.monotonic() - t_quiet, qm_packets(w), sw_v1_sas(w), dels))
    if not idle or not dels:
        errs.append("no traffic for %d s: expected dpsec to delete the pair %s with strongSwan "
                    "(dpsec %s, strongSwan %s, charon %s)" % (LIFE_IDLE, hexpair(pair),
                                                            qm_packets(w), sw_v1_sas(w), dels))
    if "idle for %d s: deleting it" % LIFE_IDLE not in ctld.text():
        errs.append("no audit line for the idle pair's delete")
    again_on_existing(w, errs)


def again_on_existing(w, errs):
    """Traffic again after the idle delete: a Quick Mode on the ISAKMP SA
    that is still up, no new Main Mode."""
    before = [m["cookies"] for m in w.show("a", "mmsas")]
    ok = E.wait_until("a pair on the existing ISAKMP SA", lambda: I.ping_ok(w) and qm_packets(w), 20)
    after = [m["cookies"] for m in w.show("a", "mmsas")]
    print("traffic again: ISAKMP SAs %s before, %s after; pairs %s" % (before, after, qm_packets(w)))
    if not ok or len(before) != 1 or after != before:
        errs.append("traffic after the idle delete: expected a new pair on the ISAKMP SA %s, got "
                    "ISAKMP SAs %s and pairs %s" % (before, after, qm_packets(w)))


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
    g2 = {"Group": "2:modp1024", "Auth": "PSK"}
    probes = [("default probe", [], dict(g2, Enc="3DES", Hash="SHA1")),
              ("AES-128 probe", ["--trans=(1=7,14=128,2=2,3=1,4=14)"],
               {"Enc": "AES", "KeyLength": "128", "Hash": "SHA1", "Group": "14:modp2048",
                "Auth": "PSK"}),
              ("DES/SHA1 probe", [DES_SHA1_G2], dict(g2, Enc="DES", Hash="SHA1")),
              ("DES/MD5 probe", ["--trans=(1=1,2=1,3=1,4=2)"], dict(g2, Enc="DES", Hash="MD5"))]
    for what, args, want in probes:
        out = ike_scan(w, *args)
        sa = scan_answer(out)
        print("ike-scan %s: %s" % (what, out))
        if sa is None or any(sa.get(k) != v for k, v in want.items()):
            errs.append("ike-scan %s: expected a Main Mode handshake with %s:\n%s"
                        % (what, want, out))
    scan_refused(w, errs, "DES/MD5/group 1 probe (MODP-768: never)", "--trans=(1=1,2=1,3=1,4=1)")
    w.ctl("a", "policy", "assign", "ike-v1-strict")
    scan_refused(w, errs, "DES/SHA1 probe without legacy_suites", DES_SHA1_G2)
    scan_ikev2_policy(w, errs)
    if errs:
        print("---- dpsec-ctld a ----\n%s" % ctld.text()[-6000:])


def scan_refused(w, errs, what, trans):
    """ike-scan offering trans only gets NO-PROPOSAL-CHOSEN."""
    out = ike_scan(w, trans)
    print("ike-scan %s: %s" % (what, out.strip().splitlines()[1:2]))
    if "NO-PROPOSAL-CHOSEN" not in out or "Handshake returned" in out:
        errs.append("ike-scan %s: expected NO-PROPOSAL-CHOSEN:\n%s" % (what, out))


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


def run_dpsec_ah(w, errs):
    """The filter action's only method the model's "Medium" (AH with
    HMAC-SHA1): Quick Mode agrees on AH, both dpsecd carry the pair, pings
    pass, show qmsas says AH, and the WAN holds IKE and AH only."""
    E.STORE = re.sub(r"methods = \( \{[^}]*\} \);", 'methods = ( "Medium" );', E.STORE)
    w.topology()
    caps = [w.capture(g) for g in ("a", "b")]
    ctld = {g: w.gateway(g) for g in ("a", "b")}
    answered, out = E.ping(w, 10)
    check_pings(errs, "ping 10.1.0.2 -> 10.2.0.2 over AH", answered, out, range(6, 11))
    for g in ("a", "b"):
        algs = {q["algorithms"] for q in w.show(g, "qmsas")}
        print("gateway %s: Quick Mode SAs %s" % (g, algs))
        if algs != {"AH/HMAC-SHA1-96"}:
            errs.append("gateway %s: show qmsas algorithms %s, expected AH/HMAC-SHA1-96" % (g, algs))
    for c, _ in caps:
        c.signal(2)
        c.p.wait(10)
    for g, (_, pcap) in zip(("a", "b"), caps):
        k = E.wan_kinds(E.wan_read(pcap))
        print("WAN at %s: %d IKE, %d AH, %d ESP" % (g, k["ike"], k["ah"], k["esp"]))
        if not k["ike"] or not k["ah"] or k["esp"] or k["esp-in-udp"] or k["other"]:
            errs.append("WAN at %s: expected IKE and AH only, got %s" % (g, k))
    if errs:
        for g in ("a", "b"):
            print("---- dpsec-ctld %s ----\n%s" % (g, ctld[g].text()[-6000:]))


def missing(peer):
    """Why the test cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if shutil.which("tshark") is None or shutil.which("ethtool") is None:
        return "tshark or ethtool missing (tools/deps installs them)"
    if peer.startswith("strongswan") and not (os.access(E.CHARON, os.X_OK) and os.access(E.SWANCTL, os.X_OK)):
        return "strongSwan is not installed (tools/deps installs it)"
    if peer == "strongswan-lifetimes" and shutil.which("socat") is None:
        return "socat is not installed (tools/deps installs it)"
    if peer == "scan" and not os.access(IKE_SCAN, os.X_OK):
        return "ike-scan is not installed"
    return None


def main():
    args, peer = sys.argv[1:], "dpsec"
    if args[:1] == ["--peer"] and len(args) > 1:
        peer, args = args[1], args[2:]
    runs = {"dpsec": run_dpsec, "dpsec-ah": run_dpsec_ah, "strongswan": run_strongswan,
            "strongswan-cert": run_strongswan_cert, "scan": run_scan,
            # on failure, ctld's and charon's logs (I.run_case)
            "strongswan-lifetimes": lambda w, errs: I.run_case(w, errs, run_strongswan_lifetimes)}
    if len(args) != 3 or peer not in runs:
        print("usage: ikev1_e2e.py [--peer dpsec|dpsec-ah|strongswan|strongswan-cert|scan|"
              "strongswan-lifetimes] DPSECD DPSEC_CTLD DPSECCTL", file=sys.stderr)
        return 2
    why = missing(peer)
    if why:
        print("ikev1_e2e: %s; skipped" % why)
        return 77
    use_ikev1(legacy=peer == "scan", pfs=peer == "strongswan", ccm=peer == "strongswan-cert",
              gmac=peer == "dpsec")
    # the scan needs B's namespace as strongSwan's: the WAN address in the kernel
    world = {"dpsec-ah": "dpsec", "strongswan-cert": "strongswan-cert", "dpsec": "dpsec"}
    kind = I.Interop if peer == "strongswan-lifetimes" else E.World
    w = kind(world.get(peer, "strongswan"), *args)
    return E.run_world(w, runs[peer], "ikev1_e2e (peer %s)" % peer)


if __name__ == "__main__":
    T.cleanup_on_sigterm()
    sys.exit(main())
