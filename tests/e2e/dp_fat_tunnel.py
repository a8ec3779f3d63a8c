#!/usr/bin/python3
"""dp_fat_tunnel.py - the fat tunnel: two workers decrypting ESP of one
inbound SA at the same time share its anti-replay window, so every packet
is forwarded exactly once and every duplicate is dropped as a replay once.

dpsecd runs with two workers on pcap ports (no namespaces): the WAN port
has two rx queues, one per worker, fed the N ESP packets of one AES-128-GCM
SA split into alternating runs of 1..MAX_RUN packets; every COPY_EVERY-th
packet is also put into the other queue near the same position (moved by
a log-uniform shift, since the lag between the workers is unknown), so
that some copies reach the two workers at the same time. Two runs: without
ESN (sequence numbers 1..N) and with ESN, the numbers crossing from
2^32 - 1 into the next epoch. Once dpsecd has received every frame, the
LAN's tx pcaps (one per worker) must hold every inner packet exactly once,
and the counters say: rx N + copies, fwd N, drop_replay = copies and no
other drop, the SA's packets N, both workers received. Whether the workers
met (both forwarded some of the copied packets) depends on the scheduler:
a case runs dpsecd again, up to ATTEMPTS times, until they did.

N is below the replay window, so that however far one worker gets ahead
of the other (a loaded machine), no original falls left of the window:
the verdicts do not depend on timing, only whether a race happens does.
The ESP packets are sealed with AES-GCM directly (scapy takes ~2 ms a
packet here); scapy's SecurityAssociation seals a few of them too, which
must give the same bytes.

    dp_fat_tunnel.py DPSECD     (FAT_TUNNEL_SEED=n: another random split)
"""
import collections
import importlib.util
import json
import os
import random
import signal
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "xval"))
import xval_pcap  # noqa: E402

N = 8000           # inner packets per run
COPY_EVERY = 7     # every 7th packet also arrives on the other queue
MAX_RUN = 32       # longest run of packets into one queue
SPREAD_BITS = 10   # a copy lands up to 2^10 positions from its original's
ATTEMPTS = 3       # dpsecd runs per case until the two workers meet
WINDOW = 8192      # the inbound SA's replay window
EAL_RUNTIME = "/var/run/dpdk/"  # the EAL runtime directories, by file prefix
SPI_OUT, SPI_IN = 0x1001, 0x2001
KEY = bytes(range(20))  # AES-128 key + 4-byte salt (test only), inbound
KEY_OUT = bytes(range(20, 40))  # outbound: never an AES-GCM key both ways
LAN_MAC, WAN_MAC = "02:00:00:00:01:01", "02:00:00:00:02:01"
HOST_MAC, PEER_MAC = "02:00:00:00:01:10", "02:00:00:00:02:02"
GW, PEER = "192.0.2.1", "192.0.2.2"
HOST, REMOTE = "10.1.0.10", "10.2.0.5"
MAGIC = b"fat-tunnel"  # inner UDP payload: MAGIC, the index, filler
PAYLOAD_LEN = 40
RUNS = [("noesn", False, 1), ("esn", True, (1 << 32) - N // 2)]  # name, esn, first number

CONF = """
dataplane = { workers = 2; sequence_file = "%(seq_file)s"; };
ports = (
  { name = "lan"; device = "%(lan_dev)s"; role = "protected";
    addresses = [ "10.1.0.1/24" ]; mac = "%(lan_mac)s"; },
  { name = "wan"; device = "%(wan_dev)s"; role = "unprotected";
    addresses = [ "192.0.2.1/24" ]; mac = "%(wan_mac)s"; } );
neighbours = ( { address = "%(host)s"; mac = "%(host_mac)s"; port = "lan"; },
  { address = "%(peer)s"; mac = "%(peer_mac)s"; port = "wan"; } );
routes = ( { destination = "10.1.0.0/24"; port = "lan"; },
  { destination = "192.0.2.0/24"; port = "wan"; },
  { destination = "10.2.0.0/24"; via = "%(peer)s"; port = "wan"; } );
policy = { default_action = "block";
  filter_lists = ( { name = "fl"; filters = ( { source = "10.1.0.0/24";
      destination = "10.2.0.0/24"; mirrored = true; } ); } );
  filter_actions = ( { name = "secure"; action = "negotiate"; } );
  rules = ( { name = "fat"; filter_list = "fl"; filter_action = "secure";
      tunnel_endpoint = "%(peer)s"; outbound_sa = "out"; inbound_sa = "in"; } ); };
security_associations = (
  { name = "out"; spi = 0x%(spi_out)x; direction = "outbound"; mode = "tunnel";
    local = "%(gw)s"; remote = "%(peer)s"; encryption = "aes128gcm16";
    encryption_key = "0x%(key_out)s"; esn = %(esn)s; },
  { name = "in"; spi = 0x%(spi_in)x; direction = "inbound"; mode = "tunnel";
    local = "%(gw)s"; remote = "%(peer)s"; encryption = "aes128gcm16";
    encryption_key = "0x%(key)s"; replay_window = %(window)d; esn = %(esn)s; } );
"""


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def ip4(s):
    return bytes(int(x) for x in s.split("."))


def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, ttl, ident, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, ttl, proto, 0,
                    ip4(src), ip4(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def inner_packet(i, ttl=64):
    """Inner packet i: UDP from the remote subnet to the LAN host, i in its
    payload (and its IP id); ttl 63 is how dpsecd forwards it."""
    payload = (MAGIC + struct.pack("!I", i)).ljust(PAYLOAD_LEN, b"\xa5")
    udp = struct.pack("!HHHH", 1000 + i % 1000, 5001, 8 + len(payload), 0) + payload
    return ipv4(REMOTE, HOST, 17, ttl, i & 0xFFFF, udp)


def seal(seq64, esn, inner):
    """The peer's ESP (RFC 4303, RFC 4106) of inner in tunnel mode: the IV is
    the 64-bit sequence number, padding 1, 2, ... to 4 bytes."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    padlen = -(len(inner) + 2) % 4
    plain = inner + bytes(range(1, padlen + 1)) + bytes([padlen, 4])
    iv = struct.pack("!Q", seq64)
    head = struct.pack("!II", SPI_IN, seq64 & 0xFFFFFFFF)
    aad = struct.pack("!IQ", SPI_IN, seq64) if esn else head
    ct = AESGCM(KEY[:16]).encrypt(KEY[16:] + iv, plain, aad)
    return ipv4(PEER, GW, 50, 64, 1, head + iv + ct)


def scapy_seal(seq64, esn, inner):
    """The same packet sealed by scapy's SecurityAssociation."""
    from scapy.layers.inet import IP
    from scapy.layers.ipsec import ESP, SecurityAssociation
    hi = seq64 >> 32
    sa = SecurityAssociation(ESP, spi=SPI_IN, crypt_algo="AES-GCM", crypt_key=KEY,
                             esn_en=esn, esn=hi, tunnel_header=IP(src=PEER, dst=GW))
    sa.seq_num = seq64 & 0xFFFFFFFF
    return bytes(sa.encrypt(IP(inner), iv=struct.pack("!Q", seq64), esn_en=esn, esn=hi))


def check_sealer(esn, first):
    """seal() against scapy on the first, the epoch-crossing and the last numbers."""
    errs = []
    for i in sorted({1, N // 2, N // 2 + 1, N}):
        seq = first + i - 1
        if seal(seq, esn, inner_packet(i)) != scapy_seal(seq, esn, inner_packet(i)):
            errs.append("test bug: seal() and scapy disagree on packet %d (seq 0x%x)" % (i, seq))
    return errs


def frame(ip_bytes):
    return mac(WAN_MAC) + mac(PEER_MAC) + b"\x08\x00" + ip_bytes


def shift(rng):
    """How far a copy lands from where its original's counterpart would be:
    1..2^SPREAD_BITS positions either way, log-uniformly (as many within 2
    as within 2..4, 4..8, ...), so that whichever worker is ahead, and by
    how much, some copies reach the two workers at the same time."""
    return rng.choice((-1, 1)) * int(2 ** rng.uniform(0, SPREAD_BITS))


def split(frames, rng):
    """frames into two queues in alternating runs of 1..MAX_RUN; every
    COPY_EVERY-th frame also goes into the other queue, where it holds the
    frames of about the same numbers, moved by shift(). Returns the two
    queues and the number of copies."""
    queues, n, q, left = ([], []), [0, 0], 0, 0   # n: originals in each queue
    for i, fr in enumerate(frames, 1):
        if left == 0:
            q, left = 1 - q, rng.randint(1, MAX_RUN)
        queues[q].append((n[q], fr))
        n[q] += 1
        left -= 1
        if i % COPY_EVERY == 0:
            queues[1 - q].append((n[1 - q] + shift(rng) - 0.5, fr))
    q0, q1 = ([fr for _, fr in sorted(x, key=lambda e: e[0])] for x in queues)
    return q0, q1, N // COPY_EVERY


def pcap_device(index, rx, tx):
    """A net_pcap port with one rx queue per rx pcap, one tx queue per tx pcap."""
    return ",".join(["net_pcap%d" % index] + ["rx_pcap=" + x for x in rx] +
                    ["tx_pcap=" + x for x in tx])


def write_conf(d, esn):
    """dpsecd's configuration in d and its pcaps: {name: path}."""
    p = {k: os.path.join(d, k + ".pcap") for k in
         ("lan_rx", "lan_tx0", "lan_tx1", "wan_rx0", "wan_rx1", "wan_tx0", "wan_tx1")}
    conf = os.path.join(d, "dpsecd.conf")
    with os.fdopen(os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
        f.write(CONF % dict(
            lan_dev=pcap_device(0, [p["lan_rx"]], [p["lan_tx0"], p["lan_tx1"]]),
            wan_dev=pcap_device(1, [p["wan_rx0"], p["wan_rx1"]], [p["wan_tx0"], p["wan_tx1"]]),
            lan_mac=LAN_MAC, wan_mac=WAN_MAC, host=HOST, host_mac=HOST_MAC, peer=PEER,
            peer_mac=PEER_MAC, gw=GW, spi_out=SPI_OUT, spi_in=SPI_IN, key=KEY.hex(), key_out=KEY_OUT.hex(),
            window=WINDOW, esn="true" if esn else "false", seq_file=os.path.join(d, "dpsecd.seq")))
    return conf, p


def eal_lcores():
    """Worker 1 (lcore 1) has the first CPU; the manager (lcore 0, asleep
    while idle) shares the second with worker 2, which it launches last:
    the two workers start together and run at the same time."""
    c = sorted(os.sched_getaffinity(0))
    return ["--lcores", "0@%d,1@%d,2@%d" % (c[1], c[0], c[1])]


def wait_for(what, cond, p, timeout):
    """Polls cond() until true; an error if dpsecd exits or time runs out."""
    deadline = time.monotonic() + timeout
    while not cond():
        if p.poll() is not None:
            return "dpsecd exited (status %d) while waiting for %s" % (p.returncode, what)
        if time.monotonic() > deadline:
            return "no %s within %d s" % (what, timeout)
        time.sleep(0.05)
    return None


def says_ready(log):
    with open(log, "rb") as f:
        return b"dpsecd: ready" in f.read()


def wan_received(p, stats):
    """The WAN port's ipackets in a snapshot of dpsecd's counters (SIGUSR2)."""
    if os.path.exists(stats):
        os.unlink(stats)
    p.send_signal(signal.SIGUSR2)
    if wait_for("snapshot of the counters", lambda: os.path.exists(stats), p, 10):
        return -1
    with open(stats) as f:
        return next(x["ipackets"] for x in json.load(f)["ports"] if x["name"] == "wan")


def run_dpsecd(dpsecd, d, conf, frames):
    """Runs dpsecd until its WAN port has received all frames, then stops it
    (SIGINT: the workers finish what they hold); returns (stats, error). Not
    an idle timeout: on a loaded machine a worker may be off its CPU a while.
    A dpsecd that exits removes its EAL runtime directory: an error if it
    is still there."""
    stats, log = os.path.join(d, "stats.json"), os.path.join(d, "dpsecd.log")
    prefix = "fat-%d-%s" % (os.getpid(), os.path.basename(d))
    cmd = [dpsecd, "--no-huge", "-m", "256", "--no-pci", "--file-prefix", prefix] + eal_lcores() + \
          ["--log-level=user1:info", "--", "-c", conf, "--stats-file", stats]
    with open(log, "wb") as lf:
        p = subprocess.Popen(cmd, stdout=lf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    err = wait_for("\"dpsecd: ready\"", lambda: says_ready(log), p, 60) or \
        wait_for("reception of all %d frames" % frames, lambda: wan_received(p, stats) == frames,
                 p, 60)
    p.send_signal(signal.SIGINT)
    try:
        rc = p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    if err or rc != 0:
        return None, "%s (see %s)" % (err or "dpsecd exited with status %d" % rc, log)
    if os.path.exists(EAL_RUNTIME + prefix):
        shutil.rmtree(EAL_RUNTIME + prefix, ignore_errors=True)
        return None, "dpsecd exited, its EAL runtime directory %s left behind" % (EAL_RUNTIME + prefix)
    with open(stats) as f:
        return json.load(f), None


def is_announcement(fr):
    """dpsecd's announcement of its LAN address at start: a gratuitous ARP
    request (sender and target address the same) or an unsolicited
    neighbour advertisement, from its LAN MAC."""
    if fr[6:12] != mac(LAN_MAC):
        return False
    if fr[12:14] == b"\x08\x06":
        return len(fr) >= 42 and fr[20:22] == b"\x00\x01" and fr[28:32] == fr[38:42]
    return fr[12:14] == b"\x86\xdd" and len(fr) > 54 and fr[20] == 58 and fr[54] == 136


def judge_lan(queues):
    """Every inner packet 1..N forwarded once, routed (TTL 63), to the host;
    nothing else but dpsecd's announcements."""
    seen, unexpected = collections.Counter(), []
    for fr in (fr for q in queues for fr in q if not is_announcement(fr)):
        ip = fr[14:]
        i = struct.unpack("!I", ip[38:42])[0] if ip[28:38] == MAGIC else 0
        if 1 <= i <= N and fr[:12] == mac(HOST_MAC) + mac(LAN_MAC) and \
                ip == inner_packet(i, ttl=63):
            seen[i] += 1
        else:
            unexpected.append(fr)
    twice = sorted(i for i, n in seen.items() if n > 1)
    missing = [i for i in range(1, N + 1) if i not in seen]
    errs = []
    if unexpected:
        errs.append("%d unexpected frames on lan, the first: %s"
                    % (len(unexpected), unexpected[0][:64].hex()))
    if twice:
        errs.append("%d packets forwarded more than once (a replay let through), e.g. %s"
                    % (len(twice), twice[:8]))
    if missing:
        errs.append("%d packets never forwarded, e.g. %s" % (len(missing), missing[:8]))
    return errs


def judge_counters(stats, copies):
    g = stats.get("global", {})
    errs = ["global %s = %s, expected %d" % (k, g.get(k), v) for k, v in
            (("rx_packets", N + copies), ("fwd_packets", N), ("drop_replay", copies),
             ("drops", copies)) if g.get(k) != v]
    rx = [w.get("rx_packets", 0) for w in stats.get("workers", [])]
    if len(rx) != 2 or min(rx) == 0:
        errs.append("workers' rx_packets %s: expected both workers to receive" % rx)
    sa = [s for s in stats.get("sas", []) if s.get("name") == "in"]
    if not sa or sa[0].get("packets") != N:
        errs.append("inbound SA packets = %s, expected %d"
                    % (sa[0].get("packets") if sa else "(SA missing)", N))
    return errs


def copied_won(lan):
    """How many of the copied packets each worker forwarded (its tx queue):
    both > 0 only if the workers met, neither running so far ahead that it
    took every copied packet before the other reached it."""
    return [sum(1 for fr in q if fr[42:52] == MAGIC and
                struct.unpack("!I", fr[52:56])[0] % COPY_EVERY == 0) for q in lan]


def run_case(dpsecd, workdir, name, esn, first, rng):
    """One case: its pcaps, then dpsecd runs on them until a run fails or
    the workers met (up to ATTEMPTS runs). Returns the errors and a summary."""
    errs = check_sealer(esn, first)
    if errs:
        return errs, ""
    d = os.path.join(workdir, name)
    os.makedirs(d)
    conf, p = write_conf(d, esn)
    q0, q1, copies = split([frame(seal(first + i - 1, esn, inner_packet(i)))
                            for i in range(1, N + 1)], rng)
    xval_pcap.write(p["lan_rx"], [])
    xval_pcap.write(p["wan_rx0"], q0)
    xval_pcap.write(p["wan_rx1"], q1)
    for attempt in range(1, ATTEMPTS + 1):
        t0 = time.monotonic()
        stats, err = run_dpsecd(dpsecd, d, conf, len(q0) + len(q1))
        if err:
            return [err], ""
        lan = [xval_pcap.read(p["lan_tx0"]), xval_pcap.read(p["lan_tx1"])]
        errs = judge_lan(lan) + judge_counters(stats, copies)
        won = copied_won(lan)
        note = "run %d: dpsecd %.1f s; queues %d+%d frames (%d copies); lan tx %d+%d, " \
            "copied packets forwarded %d+%d" % (attempt, time.monotonic() - t0, len(q0),
                                                len(q1), copies, len(lan[0]), len(lan[1]), *won)
        if errs or min(won) > 0:
            return errs, note
    return [], note + "; the workers never met: the race was not exercised"


def main():
    if len(sys.argv) != 2 or not os.access(sys.argv[1], os.X_OK):
        print("usage: dp_fat_tunnel.py DPSECD")
        return 2
    if os.geteuid() != 0:
        print("dp_fat_tunnel: needs root (DPDK); skipped")
        return 77
    if len(os.sched_getaffinity(0)) < 2:
        print("dp_fat_tunnel: needs 2 CPUs (two workers at the same time); skipped")
        return 77
    missing = [m for m in ("cryptography", "scapy") if importlib.util.find_spec(m) is None]
    if missing:
        print("dp_fat_tunnel: python3 module %s missing; skipped" % " and ".join(missing))
        return 77
    workdir = tempfile.mkdtemp(prefix="fat-tunnel-")
    rng = random.Random(int(os.environ.get("FAT_TUNNEL_SEED", "1")))
    failed = 0
    for name, esn, first in RUNS:
        errs, note = run_case(os.path.abspath(sys.argv[1]), workdir, name, esn, first, rng)
        print("%s %s%s" % ("FAIL" if errs else "PASS", name, " (%s)" % note if note else ""))
        for e in errs:
            print("     " + e)
        failed += bool(errs)
    if failed:
        print("work directory kept: %s" % workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
