#!/usr/bin/python3
"""ctl_e2e.py - dpsec-ctld managing a real dpsecd through the real shared
memory, driven by dpsecctl, in network namespaces the test creates:

  hitless     a paced stream of sequence-numbered packets through a static
              tunnel while ctld makes 1,000 changes (dynamic filters added
              and removed, static SAs added and deleted, the policy
              reassigned); every packet must come out once, in order, on its
              SA, nothing in the clear; show ports counts them in on the
              LAN port and out on the WAN port, both links up
  restarts    kill -9 ctld under traffic: forwarding goes on and dpsecctl
              show stats (read from the segment) keeps rising; a new ctld
              reads the dataplane back: show qmsas identical, sequence
              numbers not restarted; dpsecd restarted: ctld replays, traffic
              resumes on the same SAs, their static keys' numbers going on
              from the default sequence file (/var/lib/dpsec/INSTANCE.seq,
              mode 0600, removed after)
  cli         pre-shared keys never shown; a user other than root refused by
              dpsec-ctld itself; static changes saved to the store, dynamic
              ones not; bad changes refused with the reason
  expiry      an SA reaches its hard lifetime: dpsecd stops it, dpsec-ctld
              deletes it and audits it
  negotiate   a negotiate rule without SAs and no IKE answer: after the
              fallback timeout a rule allowing fallback gets a soft
              association (held packets and later ones leave in the clear,
              counted); one that does not is blocked for block_seconds, then
              tried again
  fail-closed dpsecd restarted with room for fewer SAs than the store's:
              ctld's sync fails and says so, and the dataplane it leaves
              blocks: nothing crosses the WAN, every packet counted dropped
  policy-refused  a policy whose classifier outgrows dataplane.policy_memory_mb
              is refused whole: the tunnel in force carries a stream
              throughout, the change is reverted (store, audit) without a
              second build, and the next change goes in; a store assigning
              it to a new dpsecd fails closed, its sync tried again less and
              less often

    ctl_e2e.py DPSECD DPSEC_CTLD DPSECCTL [TEST...]
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctl_topo as T  # noqa: E402

KEY_AB = bytes(range(20))        # a-to-b: 16-byte AES key + salt (test only)
KEY_BA = bytes(range(20, 40))
SPI_AB, SPI_BA = 0x1001, 0x2001
SYNC_FAILED = "bringing the dataplane in line with the store failed"  # dpsec-ctld

STORE = """
assigned = "site";
timeouts = { fallback_ms = 700; block_seconds = 3; idle_seconds = 300; };
filter_lists = (
  { name = "a-b"; filters = ( { source = "10.1.0.0/24"; destination = "10.2.0.0/24";
        protocol = "any"; mirrored = true; } ); },
  { name = "a-c"; filters = ( { source = "10.1.0.0/24"; destination = "10.3.0.0/24";
        protocol = "any"; mirrored = true; } ); },
  { name = "a-d"; filters = ( { source = "10.1.0.0/24"; destination = "10.4.0.0/24";
        protocol = "any"; mirrored = true; } ); },
  { name = "unrelated"; filters = ( { source = "10.1.0.0/24"; destination = "10.9.0.0/24";
        protocol = "udp"; mirrored = true; } ); }
);
filter_actions = (
  { name = "secure"; action = "negotiate";
    methods = ( { protocol = "esp"; encryption = "aes128gcm16"; } ); },
  { name = "secure-or-clear"; action = "negotiate"; fallback_to_clear = true;
    methods = ( { protocol = "esp"; encryption = "aes128gcm16"; } ); },
  { name = "deny"; action = "block"; }
);
policies = (
  { name = "site"; rules = (
      { name = "to-b"; filter_list = "a-b"; filter_action = "secure"; tunnel_endpoint = "192.0.2.2";
        authentication = ( { method = "psk"; psk = "not-used-without-ike"; } );
        outbound_sa = "a-to-b"; inbound_sa = "b-to-a"; },
      { name = "to-c"; filter_list = "a-c"; filter_action = "secure-or-clear";
        authentication = ( { method = "psk"; psk = "not-used-without-ike"; } ); },
      { name = "to-d"; filter_list = "a-d"; filter_action = "secure";
        authentication = ( { method = "psk"; psk = "not-used-without-ike"; } ); },
      { name = "noise"; filter_list = "unrelated"; filter_action = "deny"; priority = 50; }
  ); },
  { name = "site-alt"; rules = (
      { name = "to-b"; filter_list = "a-b"; filter_action = "secure"; tunnel_endpoint = "192.0.2.2";
        authentication = ( { method = "psk"; psk = "not-used-without-ike"; } );
        outbound_sa = "a-to-b"; inbound_sa = "b-to-a"; }
  ); }
);
security_associations = (
  { name = "a-to-b"; spi = 0x1001; direction = "outbound"; mode = "tunnel";
    local = "192.0.2.1"; remote = "192.0.2.2"; encryption = "aes128gcm16";
    encryption_key = "0x%(ab)s"; },
  { name = "b-to-a"; spi = 0x2001; direction = "inbound"; mode = "tunnel";
    local = "192.0.2.1"; remote = "192.0.2.2"; encryption = "aes128gcm16";
    encryption_key = "0x%(ba)s"; }
);
"""


def wide_filters(n):
    """n TCP filters between networks of 10.100/14, each with port ranges
    of its own: a classifier of several MiB (rte_acl)."""
    return ",\n    ".join(
        '{ source = "10.%d.%d.0/24"; destination = "10.%d.%d.0/24"; protocol = "tcp"; '
        'source_ports = "%d-%d"; destination_ports = "%d-%d"; mirrored = true; }'
        % (100 + i // 256 % 4, i % 256, 104 + i // 256 % 4, (i * 7) % 256, i * 37 % 60000,
           i * 37 % 60000 + 100 + i % 4000, i * 53 % 60000, i * 53 % 60000 + 100 + i * 7 % 4000)
        for i in range(n))


# policy-refused's: "site" and a rule over the wide list (added to the
# store by that case alone: 2,000 filters would slow every other change)
SITE_WIDE = """{ name = "site-wide"; rules = (
      { name = "to-b"; filter_list = "a-b"; filter_action = "secure"; tunnel_endpoint = "192.0.2.2";
        authentication = ( { method = "psk"; psk = "not-used-without-ike"; } );
        outbound_sa = "a-to-b"; inbound_sa = "b-to-a"; },
      { name = "wide"; filter_list = "wide"; filter_action = "deny"; }
  ); },
"""


def add_site_wide(w):
    """The wide list and the site-wide policy written into the store, which
    dpsec-ctld reloads (SIGHUP): nothing it sends changes."""
    with open(w.store) as f:
        text = f.read()
    text = text.replace("filter_lists = (\n", "filter_lists = (\n  { name = \"wide\"; filters = ( %s ); },\n"
                        % wide_filters(2000), 1).replace("policies = (\n", "policies = (\n" + SITE_WIDE, 1)
    with open(w.store, "w") as f:
        f.write(text)
    reloads = w.ctld.text().count("configuration reloaded")
    w.ctld.signal(signal.SIGHUP)
    return T.wait_until(lambda: w.ctld.text().count("configuration reloaded") > reloads, 10)


class World:
    def __init__(self, dpsecd, ctld, ctl):
        self.bins = dpsecd, ctld, ctl
        self.topo = T.Topo("ce%d" % (os.getpid() % 100000))
        self.instance = "ce%d" % os.getpid()
        self.sock = self.topo.path("ctld.sock")
        self.store = self.topo.path("store.conf")
        with open(os.open(self.store, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(STORE % dict(ab=KEY_AB.hex(), ba=KEY_BA.hex()))
        self.dp = self.ctld = None
        self.n_ctld = 0
        self.made_state_dir = not os.path.isdir(os.path.dirname(T.default_seq_file(self.instance)))

    def start_dpsecd(self):
        # no sequence_file named: the default path, which the dpsecd
        # restart below reads back (close() removes the file)
        self.dp = T.start_dpsecd(self.topo, self.bins[0], self.instance, seq_file="")

    def start_ctld(self):
        self.n_ctld += 1
        self.ctld = T.Proc(self.topo, "ctld-%d" % self.n_ctld,
                           [self.bins[1], "--store", self.store, "--instance", self.instance,
                            "--socket", self.sock, "--log-level", "6"])
        self.wait_synced()

    def ctl(self, *args, check=True):
        r = subprocess.run([self.bins[2], "--socket", self.sock, "--instance", self.instance]
                           + list(args), capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError("dpsecctl %s: exit %d: %s%s" % (" ".join(args), r.returncode,
                                                                r.stdout, r.stderr))
        return r

    def show(self, what):
        return json.loads(self.ctl("show", what, "--json").stdout)

    def wait_synced(self, timeout=20):
        """Until ctld answers and the dataplane holds the static SAs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.ctl("show", "qmsas", "--json", check=False)
            if r.returncode == 0 and len(json.loads(r.stdout).get("qmsas", [])) >= 1:
                return
            time.sleep(0.2)
        raise RuntimeError("ctld not in sync; its log:\n" + self.ctld.text()[-3000:])

    def close(self):
        try:
            for p in (self.ctld, self.dp):
                if p is not None:
                    p.stop()
        finally:
            self.topo.close()
            if os.path.exists(T.default_seq_file(self.instance)):
                os.unlink(T.default_seq_file(self.instance))
            if self.made_state_dir:  # dpsecd made it for the file: gone with it, if empty
                try:
                    os.rmdir(os.path.dirname(T.default_seq_file(self.instance)))
                except OSError:
                    pass


def dp_drops(w, timeout=5):
    """dpsecd's drops so far, read from its shared memory by dpsecctl. Just
    after a dataplane restart, while ctld re-attaches, the table can be
    missing from "show stats" for a moment: read again until it is there."""
    deadline = time.monotonic() + timeout
    while True:
        stats = json.loads(w.ctl("show", "stats", "--all", "--json").stdout)
        if "dataplane" in stats or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return sum(x["value"] for x in stats["dataplane"] if x["name"].startswith("drop_"))


def stream_for(w, name, rate, seconds):
    """Host A's stream to 10.2.0.5 at rate a second for seconds, the WAN
    captured: (the capture, packets sent, dpsecd's drops before)."""
    cap, pcap = T.start_capture(w.topo, name)
    drops = dp_drops(w)
    sender = T.start_sender(w.topo, "10.2.0.5", rate)
    time.sleep(seconds)
    count = sender.finish()
    time.sleep(0.5)
    cap.stop()
    return pcap, count, drops


def check_stream(errs, pcap, count, what, drops_before, w, rate):
    wan = T.WanCapture(pcap, {SPI_AB: KEY_AB})
    T.check_stream(errs, what, wan, SPI_AB, count, rate, dp_drops(w) - drops_before)
    return wan.esp_seq.get(SPI_AB, [])


def hitless(w, errs):
    cap, pcap = T.start_capture(w.topo, "hitless")
    drops = dp_drops(w)
    sender = T.start_sender(w.topo, "10.2.0.5", 3000)
    changes = 0
    for i in range(200):  # 5 changes each
        for cmd in (["dynamic", "add", "filter", "filterlist=unrelated", "src=10.1.0.0/24",
                     "dst=10.9.%d.0/24" % (i % 250), "protocol=tcp", "mirrored=yes"],
                    ["dynamic", "delete", "filter", "filterlist=unrelated", "src=10.1.0.0/24",
                     "dst=10.9.%d.0/24" % (i % 250), "protocol=tcp", "mirrored=yes"],
                    ["sa", "add", "extra-%d" % i, "spi=0x%x" % (0x5000 + i), "direction=outbound",
                     "mode=tunnel", "local=192.0.2.1", "remote=192.0.2.%d" % (100 + i % 100),
                     "encryption=aes128gcm16", "encryption_key=0x" + bytes([i % 256] * 20).hex()],
                    ["sa", "delete", "extra-%d" % i],
                    ["policy", "assign", "site-alt" if i % 2 == 0 else "site"]):
            w.ctl(*cmd)
            changes += 1
    w.ctl("policy", "assign", "site")
    count = sender.finish()
    time.sleep(0.5)
    cap.stop()
    crossed = check_stream(errs, pcap, count, "hitless", drops, w, 3000)
    ports_counted(w, errs, len(crossed))
    if changes < 1000:
        errs.append("hitless: only %d changes" % changes)
    return "%d changes under %d packets" % (changes, count)


def ports_counted(w, errs, count):
    """show ports (through ctld): the count packets of the stream seen on
    the WAN, at least, in on the LAN port and out on the WAN port (not all
    that were sent: the kernel drops what overflows the af_packet ring when
    the machine is loaded, before dpsecd, and DPDK 22.11's af_packet does
    not read its drop count); both links up; the text form a row per port
    under its header."""
    ports = {p["name"]: p for p in w.show("ports")["ports"]}
    got = {n: (p["link"], p["rx_packets"], p["tx_packets"]) for n, p in ports.items()}
    text = w.ctl("show", "ports").stdout.splitlines()
    if set(got) != {"lan", "wan"} or got["lan"][0] != "up" or got["wan"][0] != "up" or \
            got["lan"][1] < count or got["wan"][2] < count:
        errs.append("hitless: show ports gave (link, rx, tx) %s after %d packets crossed from "
                    "the LAN to the WAN" % (got, count))
    if len(text) != 3 or not text[0].startswith("port") or \
            sorted(line.split()[0] for line in text[1:]) != ["lan", "wan"]:
        errs.append("hitless: show ports as text:\n" + "\n".join(text))


def qm_table(w):
    return {r["name"]: r["value"] for r in w.show("stats")["quick_mode"]}


def neighbours_from_segment(w, errs):
    """With ctld down, dpsecctl show neighbours reads dpsecd's segment: the
    two configured neighbours, permanent, with their MACs and ports."""
    rows = w.show("neighbours")["neighbours"]
    got = {(r["port"], r["address"], r.get("mac"), r["state"]) for r in rows}
    want = {("lan", "10.1.0.10", T.HOST_MAC.lower(), "permanent"),
            ("wan", "192.0.2.2", T.PEER_MAC.lower(), "permanent")}
    if not want <= got:
        errs.append("restarts: with ctld down, show neighbours gave %s; expected among them %s"
                    % (sorted(got), sorted(want)))


def restarts(w, errs):
    cap, pcap = T.start_capture(w.topo, "restarts")
    drops = dp_drops(w)
    sender = T.start_sender(w.topo, "10.2.0.5", 2000)
    time.sleep(1)
    before = w.ctl("show", "qmsas").stdout
    w.ctld.kill9()
    sent1 = qm_table(w)["confidential_bytes_sent"]     # ctld down: read from the segment
    time.sleep(1.5)
    sent2 = qm_table(w)["confidential_bytes_sent"]
    if not sent2 > sent1:
        errs.append("restarts: with ctld down the counters did not rise (%d, %d)" % (sent1, sent2))
    neighbours_from_segment(w, errs)
    w.start_ctld()
    after = w.ctl("show", "qmsas").stdout
    if strip_volatile(after) != strip_volatile(before):
        errs.append("restarts: show qmsas differs after the ctld restart:\n%s\n---\n%s"
                    % (before, after))
    time.sleep(1)
    count = sender.finish()
    time.sleep(0.5)
    cap.stop()
    before_restart = check_stream(errs, pcap, count, "ctld restart", drops, w, 2000)  # numbers went on
    # the dataplane restarts: ctld replays its state and traffic resumes
    w.dp.stop()
    w.start_dpsecd()
    w.wait_synced()
    pcap, count, drops = stream_for(w, "dp-restart", 2000, 2)
    esp = check_stream(errs, pcap, count, "dpsecd restart", drops, w, 2000)
    check_default_seq_file(errs, w)
    # the static key's numbers went on past those its last chunk reserved
    # (dataplane.sequence_file): starting at 1 again, AES-GCM would repeat
    # its nonces under the same key, and the peer's window refuse them
    if esp and before_restart and esp[0] <= before_restart[-1]:
        errs.append("dpsecd restart: the new dataplane's SA started at sequence number %d, not "
                    "past %d, the last the previous one sent" % (esp[0], before_restart[-1]))
    print("dpsecd restart: sequence numbers %s.. before, %s.. after" % (
        before_restart[-1] if before_restart else None, esp[0] if esp else None))
    return "ctld killed and restarted, dpsecd restarted (sequence numbers went on)"


def check_default_seq_file(errs, w):
    """The static keys' numbers were reserved in the default file, made by
    dpsecd for its instance, readable by root alone, one record a key."""
    path = T.default_seq_file(w.instance)
    if not os.path.exists(path):
        errs.append("no %s: the default sequence_file was not made" % path)
        return
    mode = os.stat(path).st_mode & 0o777
    if mode != 0o600:
        errs.append("%s: mode %o, not 600" % (path, mode))
    with open(path) as f:
        records = [line.split() for line in f if not line.startswith("#")]
    if not records or any(len(r) != 2 or len(r[0]) != 32 or int(r[1]) < 1 << 26 for r in records):
        errs.append("%s: not \"fingerprint end-of-a-chunk\" records: %s" % (path, records))


def strip_volatile(text):
    """show qmsas without the columns that move with traffic and time."""
    keep = []
    for line in text.splitlines():
        keep.append(" ".join(f for f in line.split() if not f.isdigit()))
    return "\n".join(keep)


def mm_stats(w):
    return {r["name"]: r["value"] for r in w.show("stats")["main_mode"]}


def dp_counter(w, name):
    return {r["name"]: r["value"] for r in json.loads(
        w.ctl("show", "stats", "--all", "--json").stdout)["dataplane"]}[name]


def negotiate(w, errs):
    cap, pcap = T.start_capture(w.topo, "negotiate")
    before = mm_stats(w)
    before_dp = {k: dp_counter(w, k) for k in ("acquire_overflow", "drop_policy_block")}
    # to-c: fallback allowed. 20 a second, so that the tail after the
    # 700 ms fallback is there even when a busy machine (e2e tests run two
    # at a time) brings the soft association a second or two late
    s = T.start_sender(w.topo, "10.3.0.5", 20, 60)
    s.p.wait()
    s = T.start_sender(w.topo, "10.4.0.5", 50, 60, 1000)  # to-d: no fallback
    s.p.wait()
    time.sleep(2.5)
    # after the block: tried again (3 s of packets, for a block that began late)
    s = T.start_sender(w.topo, "10.4.0.5", 20, 60, 2000)
    s.p.wait()
    time.sleep(1.5)
    cap.stop()
    after = mm_stats(w)
    wc = T.WanCapture(pcap, {})
    to_c = [n for n in wc.clear if n < 1000]
    to_d = [n for n in wc.clear if n >= 1000]
    # the first 4 were held and sent once the soft association existed; those
    # that came while the 4 waited were dropped (acquire_overflow); the rest
    # left in the clear, each once
    tail = sorted(n for n in set(to_c) if n >= 4)
    if sorted(to_c)[:4] != [0, 1, 2, 3] or len(to_c) != len(set(to_c)) or not tail or \
            tail != list(range(tail[0], 60)):
        errs.append("negotiate: packets to 10.3.0.5 in the clear: %s; expected 0-3 (held) and "
                    "a contiguous tail up to 59, each once" % sorted(to_c))
    dropped = dp_counter(w, "acquire_overflow") - before_dp["acquire_overflow"]
    if dropped + len(to_c) < 60:
        errs.append("negotiate: %d packets to 10.3.0.5 neither sent nor counted as acquire_overflow "
                    "(%d)" % (60 - len(to_c), dropped))
    if dp_counter(w, "drop_policy_block") <= before_dp["drop_policy_block"]:
        errs.append("negotiate: no packet to 10.4.0.5 counted as blocked during the block")
    if to_d:
        errs.append("negotiate: %d packets to 10.4.0.5 left in the clear" % len(to_d))
    if after["soft_associations"] - before["soft_associations"] != 1:
        errs.append("negotiate: soft associations %d -> %d, expected +1"
                    % (before["soft_associations"], after["soft_associations"]))
    if after["total_acquire"] - before["total_acquire"] < 3:
        errs.append("negotiate: total acquire %d -> %d, expected 3 or more (to-c, to-d, to-d "
                    "again after the block)" % (before["total_acquire"], after["total_acquire"]))
    if after["negotiation_failures"] - before["negotiation_failures"] < 1:
        errs.append("negotiate: no negotiation failure counted for to-d")
    return "soft association and 3 s block"


def cli(w, errs):
    """Keys never shown; access limited to root; static changes saved, dynamic
    ones not; clear refusals."""
    for args in (["show", "rules"], ["show", "rules", "--json"]):
        out = w.ctl(*args).stdout
        if "not-used-without-ike" in out or "psk (set)" not in out:
            errs.append("cli: show rules must say 'psk (set)' and never the key")
    os.chmod(w.topo.work, 0o755)
    os.chmod(w.sock, 0o666)  # the file lets anybody in: dpsec-ctld's own check must not
    r = subprocess.run(["runuser", "-u", "nobody", "--", w.bins[2], "--socket", w.sock, "show",
                        "stats"], capture_output=True, text=True)
    if r.returncode == 0 or "permission denied" not in r.stderr:
        errs.append("cli: user nobody was not refused (exit %d: %s)" % (r.returncode, r.stderr))
    os.chmod(w.sock, 0o660)
    filt = ["filterlist=unrelated", "src=10.1.0.0/24", "dst=10.8.0.0/24", "protocol=udp"]
    w.ctl("dynamic", "add", "filter", *filt)
    if "10.8.0.0/24" in open(w.store).read():
        errs.append("cli: a dynamic change was written to the store")
    w.ctl("dynamic", "delete", "filter", *filt)
    w.ctl("static", "add", "filter", *filt)
    if "10.8.0.0/24" not in open(w.store).read():
        errs.append("cli: a static change was not written to the store")
    w.ctl("static", "delete", "filter", *filt)
    for args, want in ((["static", "add", "filter", "filterlist=a-c", "src=10.1.0.0/24",
                         "dst=10.8.0.0/24", "mirrored=no"], "mirrored"),
                       (["policy", "assign", "nope"], "no policy named \"nope\""),
                       (["static", "add", "rule", "policy=site", "name=r9", "filterlist=a-c",
                         "filteraction=deny", "priority=high"], "priority: expected a number"),
                       (["static", "add", "rule", "policy=site", "name=r9", "filterlist=a-c",
                         "filteraction=deny", "priority=2000000"], "priority"),
                       (["static", "add", "rule", "policy=site", "name=r9", "filterlist=" + "a" * 70,
                         "filteraction=deny"], "filterlist: at most 63 characters"),
                       (["static", "add", "rule", "policy=site", "name=r9", "filterlist=a-c",
                         "filteraction=secure", "psk=short"], "too short"),
                       (["static", "add", "rule", "policy=site", "filterlist=a-c",
                         "filteraction=deny"], "name= is required"),
                       (["static", "delete", "rule", "policy=" + "s" * 64, "name=r9"],
                        "policy: at most 63 characters"),
                       (["sa", "delete", "a-to-b"], "used by rule \"to-b\""),
                       (["sa", "add", "n", "spi=0x7003", "direction=outbound", "mode=tunnel",
                         "local=192.0.2.1", "remote=192.0.2.79", "encryption=null",
                         "encryption_key=0x00112233", "integrity=sha1_96",
                         "integrity_key=0x" + "11" * 20], "takes no key (RFC 2410)"),
                       (["sa", "add", "a", "spi=0x7005", "direction=outbound", "mode=tunnel",
                         "local=192.0.2.1", "remote=192.0.2.81", "protocol=ah",
                         "encryption=aes128", "integrity=sha1_96",
                         "integrity_key=0x" + "11" * 20], "protocol \"ah\" encrypts nothing"),
                       (["sa", "add", "c", "spi=0x7007", "direction=outbound", "mode=tunnel",
                         "local=192.0.2.1", "remote=192.0.2.83", "encryption=aes192ccm16",
                         "encryption_key=0x" + "22" * 27], "192-bit key is not supported"),
                       (["sa", "add", "x", "spi=0x7008", "direction=outbound", "mode=tunnel",
                         "local=192.0.2.1", "remote=192.0.2.84", "encryption=aes128",
                         "encryption_key=0x" + "22" * 16, "integrity=aesxcbc_96",
                         "integrity_key=0x" + "33" * 20], "RFC 3566"),
                       (["show", "nonsense"], "usage")):
        r = w.ctl(*args, check=False)
        if r.returncode == 0 or want not in r.stderr + r.stdout:
            errs.append("cli: %s: exit %d, expected a refusal naming '%s', got: %s"
                        % (" ".join(args), r.returncode, want, (r.stderr + r.stdout).strip()))
    dataplane_refusal_audited(w, errs)
    for what in ("policy", "rules", "filters", "filteractions", "mmsas", "qmsas", "ports",
                 "stats"):
        try:
            w.show(what)
        except ValueError as e:
            errs.append("cli: show %s --json is not JSON: %s" % (what, e))
    return "keys hidden, access checked, static vs dynamic, refusals, JSON"


def dataplane_refusal_audited(w, errs):
    """An SA that passes the store's checks but not dpsecd's: a second
    outbound SA with a-to-b's AES-GCM key (their nonces would repeat, RFC
    4106 §3.1). The CLI says why and that the change was not kept; the audit
    trail holds its install, dpsecd's refusal of that same command and the
    change reverted; the store is as before, so the next change (expiry's)
    syncs; the refused SA's slot is free again: the next SA takes it."""
    r = w.ctl("sa", "add", "twin", "spi=0x7009", "direction=outbound", "mode=tunnel",
              "local=192.0.2.1", "remote=192.0.2.85", "encryption=aes128gcm16",
              "encryption_key=0x" + KEY_AB.hex(), check=False)
    said = r.stderr + r.stdout
    if r.returncode == 0 or "RFC 4106" not in said or "the change was not kept" not in said:
        errs.append("cli: sa add with a-to-b's GCM key: exit %d, expected dpsecd's refusal "
                    "naming RFC 4106 and the SA not kept, got: %s" % (r.returncode, said.strip()))
    text = w.ctld.text()
    sent = re.search(r"audit: SA install: twin SPI 0x00007009 outbound, id \d+ \(command (\d+)\)",
                     text)
    refused = re.search(r"audit: SA install refused by dpsecd \(command (\d+)\): SA twin: "
                        r"another installed outbound SA has the same key", text)
    if not sent or not refused or sent.group(1) != refused.group(1):
        errs.append("cli: the refused SA's audit lines: install %s, refusal %s"
                    % (sent and sent.group(0), refused and refused.group(0)))
    if 'audit: configuration change reverted (static): add SA "twin"' not in text:
        errs.append("cli: no audit line for the refused SA's change reverted")
    if "twin" in qmsa_names(w):
        errs.append("cli: the SA dpsecd refused is shown in qmsas")
    w.ctl("sa", "add", "twin2", "spi=0x700a", "direction=outbound", "mode=tunnel",
          "local=192.0.2.1", "remote=192.0.2.85", "encryption=aes128gcm16",
          "encryption_key=0x" + bytes(range(200, 220)).hex())
    taken = re.search(r"audit: SA install: twin2 SPI 0x0000700a outbound, id (\d+) ", w.ctld.text())
    if sent and (not taken or taken.group(1) != re.search(r"id (\d+)", sent.group(0)).group(1)):
        errs.append("cli: the refused SA's slot was not given to the next SA: %s, then %s"
                    % (sent.group(0), taken and taken.group(0)))
    w.ctl("sa", "delete", "twin2")


def qmsa_names(w):
    return {s["name"]: s for s in w.show("qmsas")["qmsas"]}


def expiry(w, errs):
    """An SA's hard lifetime: dpsecd stops it by itself, reports it, and
    dpsec-ctld deletes it (audited); by volume too, under traffic. The SA
    is added with its outer header's DF bit and DSCP, which dpsecd shows; beside
    it, an SA with NULL encryption (integrity only, AES-XCBC-MAC-96), one
    with AES-CCM's 8-byte ICV and 3-byte salt (RFC 4309) and an AH SA
    (AES-CMAC-96) added and deleted."""
    w.ctl("sa", "add", "short", "spi=0x7001", "direction=outbound", "mode=tunnel",
          "local=192.0.2.1", "remote=192.0.2.77", "encryption=aes128gcm16",
          "encryption_key=0x" + bytes(range(50, 70)).hex(), "lifetime_seconds=2",
          "df_bit=clear", "dscp=12")
    sa = qmsa_names(w).get("short")
    if sa is None:
        errs.append("expiry: the SA was not installed")
    elif (sa.get("df_bit"), sa.get("dscp")) != ("clear", 12):
        errs.append("expiry: sa add df_bit=clear dscp=12 installed df_bit %s, dscp %s"
                    % (sa.get("df_bit"), sa.get("dscp")))
    w.ctl("sa", "add", "clear-text", "spi=0x7002", "direction=outbound", "mode=tunnel",
          "local=192.0.2.1", "remote=192.0.2.78", "encryption=null", "integrity=aesxcbc_96",
          "integrity_key=0x" + bytes(range(70, 86)).hex())  # RFC 2410: no encryption_key
    alg = qmsa_names(w).get("clear-text", {}).get("algorithms")
    if alg != "NULL/AES-XCBC-MAC-96":
        errs.append("expiry: sa add encryption=null integrity=aesxcbc_96 installed %s, not "
                    "NULL/AES-XCBC-MAC-96" % alg)
    w.ctl("sa", "delete", "clear-text")
    w.ctl("sa", "add", "ccm", "spi=0x7006", "direction=inbound", "mode=tunnel",
          "local=192.0.2.1", "remote=192.0.2.82", "encryption=aes256ccm8",
          "encryption_key=0x" + bytes(range(150, 185)).hex())  # 32-byte key, 3-byte salt
    alg = qmsa_names(w).get("ccm", {}).get("algorithms")
    if alg != "AES-256-CCM-8":
        errs.append("expiry: sa add encryption=aes256ccm8 installed %s, not AES-256-CCM-8" % alg)
    w.ctl("sa", "delete", "ccm")
    w.ctl("sa", "add", "ah-only", "spi=0x7004", "direction=inbound", "mode=transport",
          "local=192.0.2.1", "remote=192.0.2.80", "protocol=ah", "integrity=aescmac_96",
          "integrity_key=0x" + bytes(range(110, 126)).hex())
    alg = qmsa_names(w).get("ah-only", {}).get("algorithms")
    if alg != "AH/AES-CMAC-96":
        errs.append("expiry: sa add protocol=ah integrity=aescmac_96 installed %s, not "
                    "AH/AES-CMAC-96" % alg)
    w.ctl("sa", "delete", "ah-only")
    time.sleep(4)
    if "short" in qmsa_names(w):
        errs.append("expiry: the SA outlived its 2 s hard lifetime")
    if "SA deleted: id" not in w.ctld.text() or "hard lifetime reached" not in w.ctld.text():
        errs.append("expiry: no audit event for the hard expiry")
    w.ctl("sa", "delete", "short")
    return "hard lifetime by time"


def fail_closed(w, errs):
    """A dpsecd with room for fewer SAs than the store's static ones:
    dpsec-ctld's sync fails after its flush (an SA refused) and says so;
    the dataplane it leaves blocks everything (the flush's default action,
    not the permit of a policy that was never installed), so host A's
    stream crosses the WAN neither in the clear nor at all, every packet
    dropped and counted. Then a dpsecd with room is synced as usual."""
    w.dp.stop()
    failures = w.ctld.text().count(SYNC_FAILED)
    w.dp = T.start_dpsecd(w.topo, w.bins[0], w.instance, max_sas=1, seq_file="")
    if not T.wait_until(lambda: w.ctld.text().count(SYNC_FAILED) > failures, 20):
        errs.append("fail-closed: dpsec-ctld did not report the failed sync")
        return "aborted"
    pcap, count, drops = stream_for(w, "fail-closed", 1000, 1.5)
    wan = T.WanCapture(pcap, {SPI_AB: KEY_AB})
    dropped = dp_drops(w) - drops
    print("fail-closed: %d sent, %d in the clear, ESP %s, %d dropped"
          % (count, len(wan.clear), {k: len(v) for k, v in wan.esp_seq.items()}, dropped))
    if wan.clear or wan.esp_seq or dropped < count:
        errs.append("fail-closed: of %d packets %d crossed in the clear, ESP %s, %d dropped"
                    % (count, len(wan.clear), sorted(wan.esp_seq), dropped))
    w.dp.stop()
    w.start_dpsecd()
    w.wait_synced()
    return "%d packets sent while the sync had failed" % count


def restart_synced(w, dp_opts=""):
    """dpsecd restarted (with dp_opts in its dataplane group): whether
    dpsec-ctld has brought the new one in line within 20 s."""
    synced = w.ctld.text().count("in line with the store")
    w.dp.stop()
    w.dp = T.start_dpsecd(w.topo, w.bins[0], w.instance, seq_file="", dp_opts=dp_opts)
    return T.wait_until(lambda: w.ctld.text().count("in line with the store") > synced, 20)


def dataplane_stat(w, name):
    stats = json.loads(w.ctl("show", "stats", "--all", "--json").stdout)
    return next(x["value"] for x in stats["dataplane"] if x["name"] == name)


def policy_builds(w):
    return dataplane_stat(w, "policy_builds")


def policy_size(w):
    """The rules and filters of the policy dpsecd has in force."""
    return dataplane_stat(w, "policy_rules"), dataplane_stat(w, "policy_filters")


def refused_dynamic_reverted(w, errs):
    """A dynamic change dpsecd refuses (a rule over the wide list added to
    "site") is dropped from the running changes: the CLI says so, the audit
    too, and the next dynamic change goes in."""
    r = w.ctl("dynamic", "add", "rule", "policy=site", "name=wide", "filterlist=wide", "filteraction=deny",
              check=False)
    said = (r.stdout + r.stderr).strip()
    if r.returncode == 0 or "the change was not kept" not in said:
        errs.append("policy-refused: dynamic add rule: exit %d, expected the change not kept: %s"
                    % (r.returncode, said))
    if 'audit: configuration change reverted (dynamic): add rule "wide"' not in w.ctld.text():
        errs.append("policy-refused: no audit line for the dynamic change reverted")
    r = w.ctl("dynamic", "delete", "filter", "filterlist=unrelated", "src=10.1.0.0/24", "dst=10.9.1.0/24",
              "protocol=udp", check=False)
    if r.returncode != 0:
        errs.append("policy-refused: the dynamic change after the refused one failed: %s"
                    % (r.stdout + r.stderr).strip())


def refused_sync_backs_off(w, errs):
    """The store assigns the policy too large while no dpsecd runs (the
    change waits for one); the bounded dpsecd started then refuses it at
    dpsec-ctld's sync, which fails closed and is tried again, each wait
    twice the last: at most four tries in 7 s, not one every half second.
    Assigning the policy that fits brings the dataplane in line at once."""
    w.dp.stop()
    r = w.ctl("policy", "assign", "site-wide")
    if "no dpsecd attached" not in r.stdout:
        errs.append("policy-refused: assigning with no dpsecd said: %s" % r.stdout.strip())
    failed = w.ctld.text().count(SYNC_FAILED)
    w.dp = T.start_dpsecd(w.topo, w.bins[0], w.instance, seq_file="", dp_opts="policy_memory_mb = 1; ")
    if not T.wait_until(lambda: w.ctld.text().count(SYNC_FAILED) > failed, 20):
        errs.append("policy-refused: dpsec-ctld did not report the refused sync")
        return
    refusals = w.ctld.text().count("dpsecd refused command")
    time.sleep(7)   # tries at once, then after 0.5, 1 and 2 s of waiting: 4 at most
    tries = w.ctld.text().count("dpsecd refused command") - refusals
    print("policy-refused: the sync tried again %d times in 7 s" % tries)
    if not 2 <= tries <= 4:
        errs.append("policy-refused: the refused sync was tried %d times in 7 s: expected 2 to 4, "
                    "each after twice the wait of the last (not one every half second)" % tries)
    r = w.ctl("policy", "assign", "site", check=False)
    if r.returncode != 0 or r.stdout.strip() != "ok":
        errs.append("policy-refused: assigning the policy that fits: exit %d, %s"
                    % (r.returncode, (r.stdout + r.stderr).strip()))


def policy_refused(w, errs):
    """A dpsecd whose classifier may take 1 MiB (dataplane.policy_memory_mb)
    is told to assign a policy of 2,000 filters with port ranges, which
    needs more: dpsecd refuses it whole and keeps its policy, whose tunnel
    carries host A's stream throughout without a loss; the CLI says why and
    that the change was not kept; the store still assigns "site", the audit
    says the change was reverted, and putting the policy back costs dpsecd
    no second build. No sync is retried behind the operator's back, and the
    next change goes in. Then refused_dynamic_reverted and
    refused_sync_backs_off."""
    if not add_site_wide(w):
        errs.append("policy-refused: dpsec-ctld did not reload the store with the wide list")
        return "aborted"
    if not restart_synced(w, dp_opts="policy_memory_mb = 1; "):
        errs.append("policy-refused: dpsec-ctld did not sync the bounded dpsecd")
        return "aborted"
    builds, size = policy_builds(w), policy_size(w)
    refusals = w.ctld.text().count("dpsecd refused command")
    differs = w.ctld.text().count("still differs")
    cap, pcap = T.start_capture(w.topo, "policy-refused")
    drops = dp_drops(w)
    sender = T.start_sender(w.topo, "10.2.0.5", 1000)
    time.sleep(0.3)
    r = w.ctl("policy", "assign", "site-wide", check=False)
    time.sleep(1.5)   # ctld's loop would have retried by now
    count = sender.finish()
    time.sleep(0.5)
    cap.stop()
    said = (r.stdout + r.stderr).strip()
    print("policy-refused: %s (exit %d)" % (said, r.returncode))
    if r.returncode == 0 or "dataplane.policy_memory_mb" not in said or "the change was not kept" not in said:
        errs.append("policy-refused: assign exit %d, expected the bound named and the change not kept: %s"
                    % (r.returncode, said))
    if 'assigned = "site";' not in open(w.store).read():
        errs.append("policy-refused: the store no longer assigns \"site\"")
    text = w.ctld.text()
    if 'audit: configuration change reverted (static): assign policy "site-wide"' not in text:
        errs.append("policy-refused: no audit line for the change reverted")
    if text.count("dpsecd refused command") != refusals + 1 or text.count("still differs") != differs:
        errs.append("policy-refused: %d refusals after the one change (a sync retried?)"
                    % (text.count("dpsecd refused command") - refusals))
    if policy_builds(w) != builds + 1:
        errs.append("policy-refused: %d builds for the refused policy and its revert, expected 1"
                    % (policy_builds(w) - builds))
    if policy_size(w) != size:
        errs.append("policy-refused: dpsecd's policy has %d rules and %d filters, %d and %d before"
                    % (policy_size(w) + size))
    check_stream(errs, pcap, count, "policy-refused", drops, w, 1000)
    r = w.ctl("dynamic", "add", "filter", "filterlist=unrelated", "src=10.1.0.0/24", "dst=10.9.1.0/24",
              "protocol=udp", check=False)
    if r.returncode != 0:
        errs.append("policy-refused: the next change failed: %s" % (r.stdout + r.stderr).strip())
    elif not T.wait_until(lambda: policy_size(w) == (size[0], size[1] + 1), 5):
        errs.append("policy-refused: after a filter added, dpsecd's policy has %d rules and %d "
                    "filters, expected %d and %d" % (policy_size(w) + (size[0], size[1] + 1)))
    refused_dynamic_reverted(w, errs)
    refused_sync_backs_off(w, errs)
    if not restart_synced(w):
        errs.append("policy-refused: dpsec-ctld did not sync the usual dpsecd again")
    return "%d packets carried through a refused policy" % count


TESTS = {"hitless": hitless, "restarts": restarts, "negotiate": negotiate, "cli": cli,
         "expiry": expiry, "fail-closed": fail_closed, "policy-refused": policy_refused}




def main():
    if os.geteuid() != 0:
        print("ctl_e2e: needs root (namespaces, DPDK); skipped")
        return 77
    names = sys.argv[4:] or list(TESTS)
    w = World(*sys.argv[1:4])
    failed = 0
    try:
        w.start_dpsecd()
        w.start_ctld()
        for name in names:
            errs = []
            t0 = time.monotonic()
            try:
                what = TESTS[name](w, errs)
            except Exception as e:  # a broken step fails its test, the others still run
                what = "aborted"
                errs.append("%s: %s" % (type(e).__name__, e))
            for e in errs:
                print("FAIL %s: %s" % (name, e))
            print("%s %s: %s (%.1f s)" % ("FAIL" if errs else "PASS", name, what,
                                          time.monotonic() - t0))
            failed += bool(errs)
    finally:
        try:
            for p in (w.ctld, w.dp) if failed else ():
                if p is not None:
                    print("---- %s log (tail) ----\n%s" % (p.name, p.text()[-2000:]))
        finally:
            w.close()
    return 1 if failed else 0


if __name__ == "__main__":
    T.cleanup_on_sigterm()
    sys.exit(main())
