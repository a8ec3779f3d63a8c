# ctl_topo.py - the world of the control-plane end-to-end tests: network
# namespaces and veths the test creates and deletes, a real dpsecd on
# af_packet ports in one of them, dpsec-ctld and dpsecctl, a paced sender of
# sequence-numbered UDP on the LAN side and dumpcap on the WAN side.
#
#   [ns lan: host 10.1.0.10, veth lanh] -- [lan0: dpsecd in ns dp :wan0] --
#   -- [veth wanp: the peer's side in ns wan, captured; 192.0.2.2]
#
# Nothing leaves the namespaces; addresses are TEST-NET and private.
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

LAN_MAC = "02:00:00:00:01:01"   # dpsecd's LAN port
WAN_MAC = "02:00:00:00:02:01"   # dpsecd's WAN port
HOST_MAC = "02:00:00:00:01:10"  # the LAN host
PEER_MAC = "02:00:00:00:02:02"  # the peer gateway on the WAN
HOST4, GW_LAN4, GW_WAN4, PEER4 = "10.1.0.10", "10.1.0.1", "192.0.2.1", "192.0.2.2"

DP_CONF = """
dataplane = { workers = 1; idle = "sleep"; idle_sleep_us = 50; %(seq_setting)s%(dp_opts)s};
ports = (
  { name = "lan"; device = "net_af_packet0,iface=lan0"; role = "protected";
    addresses = [ "10.1.0.1/24" ]; mac = "%(lan_mac)s"; },
  { name = "wan"; device = "net_af_packet1,iface=wan0"; role = "unprotected";
    addresses = [ "192.0.2.1/24" ]; mac = "%(wan_mac)s"; }
);
routes = ( { destination = "10.0.0.0/8"; via = "192.0.2.2"; port = "wan"; } );
neighbours = (
  { address = "10.1.0.10"; mac = "%(host_mac)s"; port = "lan"; },
  { address = "192.0.2.2"; mac = "%(peer_mac)s"; port = "wan"; }
);
"""

# Runs in the LAN namespace: UDP datagrams 10.1.0.10 -> DST:9 whose payload
# starts with a 64-bit sequence number, paced at RATE per second, COUNT of
# them (0: until SIGTERM), first number FIRST. Prints how many it sent.
SENDER = r"""
import signal, socket, struct, sys, time
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
iface, dst, rate, count, first, dmac, smac = sys.argv[1:8]
rate, count, first = int(rate), int(count), int(first)
mac = lambda s: bytes(int(x, 16) for x in s.split(":"))
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
src = socket.inet_aton("10.1.0.10"); d = socket.inet_aton(dst)
eth = mac(dmac) + mac(smac) + b"\x08\x00"
def frame(n):
    pl = struct.pack("!Q", n) + b"dpsec-e2e" + bytes(15)
    udp = struct.pack("!HHHH", 40000, 9, 8 + len(pl), 0) + pl
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xffff, 0, 64, 17, 0, src, d)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return eth + ip + udp
n, t0, batch = first, time.monotonic(), max(1, rate // 200)
while (count == 0 or n < first + count) and not stop:
    for _ in range(batch):
        if count and n >= first + count: break
        s.send(frame(n)); n += 1
    ahead = (n - first) / rate - (time.monotonic() - t0)
    if ahead > 0: time.sleep(ahead)
print(n - first, flush=True)
"""


def sh(*cmd, check=True, ns=None, **kw):
    if ns:
        cmd = ("ip", "netns", "exec", ns) + cmd
    return subprocess.run(cmd, check=check, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, **kw)


def cleanup_on_sigterm():
    """SIGTERM (meson's timeout, a cancelled CI job) ends a test through its
    finally blocks, which stop its daemons and delete its namespaces; by
    default it would end the interpreter at once and leave them behind.
    Meson sends SIGKILL to the test's process group half a second later,
    cutting short a cleanup that waits for daemons: the janitor (below)
    removes what that leaves."""
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))


# The janitor: a process in a session of its own (out of reach of the
# signals meson sends to a test's process group), told on its stdin what
# the test made ("netns NAME", "instance NAME": a dpsecd's shared-memory
# segment and EAL runtime directory, "dir PATH"; the container lab's
# "docker-project NAME", "docker-build ID IMAGE" and "dockerd PID") and what
# the test removed itself ("-netns NAME", ...). When that pipe closes, the
# test has ended, however it died, and the janitor removes what is left with
# the same functions the test would have used, the last made first (the
# lab's containers before the dockerd that runs them).
JANITOR = r"""
import sys
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, sys.argv[1])
import ctl_topo as T
left = {}
for line in sys.stdin:
    kind, _, name = line.rstrip("\n").partition(" ")
    if kind.startswith("-"):
        left.pop((kind[1:], name), None)
    else:
        left[(kind, name)] = True
removers = {"netns": T.kill_and_delete_netns, "instance": T.remove_instance_files,
            "dir": T.remove_tree, "docker-project": T.remove_docker_project,
            "docker-build": T.remove_docker_build, "dockerd": T.stop_dockerd}
for kind, name in reversed(list(left)):
    removers[kind](name)
"""
_janitor = []


def janitor(kind, name):
    """Tells the janitor, started at the first call, that the test made
    (kind "netns", "instance", "dir") or removed ("-netns", ...) name."""
    if not _janitor:
        _janitor.append(subprocess.Popen([sys.executable, "-c", JANITOR,
                                          os.path.dirname(os.path.abspath(__file__))],
                                         stdin=subprocess.PIPE,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         text=True, start_new_session=True))
    _janitor[0].stdin.write("%s %s\n" % (kind, name))
    _janitor[0].stdin.flush()


def add_netns(ns):
    """Creates namespace ns, removed by delete_netns (or the janitor)."""
    sh("ip", "netns", "add", ns)
    janitor("netns", ns)


def make_workdir(prefix):
    """A work directory under /tmp, removed by remove_workdir (or the
    janitor)."""
    d = tempfile.mkdtemp(prefix=prefix)
    janitor("dir", d)
    return d


def remove_tree(d):
    shutil.rmtree(d, ignore_errors=True)


def remove_workdir(d):
    remove_tree(d)
    janitor("-dir", d)


def track_dpsecd(instance):
    """A dpsecd is about to start with EAL file prefix instance: what it
    leaves if killed is removed by remove_dpsecd_leftovers (or the
    janitor)."""
    janitor("instance", instance)


def wait_until(cond, timeout, step=0.25):
    """Whether cond() came true within timeout seconds, polled."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def verdict(errs, name, ok="ok"):
    """Prints each error, then name's verdict (FAILED, or ok); the exit
    status."""
    for e in errs:
        print("FAIL " + e)
    print("%s: %s" % (name, "FAILED" if errs else ok))
    return 1 if errs else 0


def kill_and_delete_netns(ns):
    """Kills what still runs in namespace ns, then deletes it."""
    for p in sh("ip", "netns", "pids", ns, check=False).stdout.split():
        try:
            os.kill(int(p), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    sh("ip", "netns", "del", ns, check=False)


def delete_netns(ns):
    """kill_and_delete_netns, the janitor told."""
    kill_and_delete_netns(ns)
    janitor("-netns", ns)


def remove_instance_files(instance):
    """A dpsecd's shared-memory segment and EAL runtime directory (--file-prefix
    instance)."""
    segment = "/dev/shm/dpsec." + instance
    if os.path.exists(segment):
        os.unlink(segment)
    remove_tree("/var/run/dpdk/" + instance)


def remove_dpsecd_leftovers(instance):
    """What a dpsecd killed before it could exit (SIGKILL after its
    SIGTERM grace, or its namespace deleted under it) leaves behind:
    remove_instance_files, the janitor told. A dpsecd that exits removes
    both itself."""
    remove_instance_files(instance)
    janitor("-instance", instance)


# The container lab's Docker objects (container_lab.py): what a run left
# when killed, removed by the janitor or by the next run.
DOCKER = "/usr/bin/docker"
COMPOSE_PROJECT_LABEL = "com.docker.compose.project"
BUILD_LABEL = "dpsec.build-stage"  # the Dockerfile's, on its build stage


def remove_docker_project(project):
    """The containers, networks and volumes compose made for project."""
    label = "label=%s=%s" % (COMPOSE_PROJECT_LABEL, project)
    for listing, removal in ((("ps", "-aq"), ("rm", "-f")), (("network", "ls", "-q"), ("network", "rm")),
                             (("volume", "ls", "-q"), ("volume", "rm", "-f"))):
        ids = sh(DOCKER, *listing, "--filter", label, check=False).stdout.split()
        if ids:
            sh(DOCKER, *removal, *ids, check=False)


def remove_docker_build(what):
    """what: "BUILD_ID IMAGE": the image built, and its build stage's
    images and the containers a failed or cut build step left."""
    build_id, _, image = what.partition(" ")
    label = "label=%s=%s" % (BUILD_LABEL, build_id)
    sh(DOCKER, "rmi", "-f", image, check=False)
    ids = sh(DOCKER, "ps", "-aq", "--filter", label, check=False).stdout.split()
    if ids:
        sh(DOCKER, "rm", "-f", *ids, check=False)
    sh(DOCKER, "image", "prune", "-f", "--filter", label, check=False)


def process_gone(pid):
    """Whether process pid has exited (gone, or a zombie not yet reaped)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(") ", 1)[1].startswith("Z")
    except (FileNotFoundError, ProcessLookupError):
        return True


def stop_dockerd(pid):
    """A dockerd the test started (pid: its process ID, text): SIGTERM,
    then SIGKILL if it has not gone within 30 s."""
    pid = int(pid)
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 5)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if wait_until(lambda: process_gone(pid), wait):
            return


class Topo:
    """Three namespaces and two veth pairs, removed by close()."""

    def __init__(self, tag):
        self.tag = tag
        self.ns_dp, self.ns_lan, self.ns_wan = tag + "-dp", tag + "-lan", tag + "-wan"
        self.work = make_workdir("dpsec-ctl-e2e-")
        self.instances = set()  # of the dpsecds started here
        for ns in (self.ns_dp, self.ns_lan, self.ns_wan):
            add_netns(ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
        self._veth("lan0", self.ns_dp, "lanh", self.ns_lan, HOST_MAC)
        self._veth("wan0", self.ns_dp, "wanp", self.ns_wan, PEER_MAC)

    def _veth(self, a, ns_a, b, ns_b, mac_b):
        sh("ip", "link", "add", a, "netns", ns_a, "type", "veth", "peer", b, "netns", ns_b)
        sh("ip", "link", "set", a, "up", ns=ns_a)
        sh("ip", "link", "set", b, "address", mac_b, ns=ns_b)
        sh("ip", "link", "set", b, "up", ns=ns_b)
        for ns, dev in ((ns_a, a), (ns_b, b)):  # no IPv6 chatter on the test links
            sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % dev, ns=ns)

    def path(self, name):
        return os.path.join(self.work, name)

    def close(self):
        """Kills what runs in the namespaces, deletes them, what their
        dpsecds left if killed, and the work directory (the tests print
        what they need from it first)."""
        for ns in (self.ns_dp, self.ns_lan, self.ns_wan):
            delete_netns(ns)
        for instance in self.instances:
            remove_dpsecd_leftovers(instance)
        remove_workdir(self.work)


class Proc:
    """A background process with its output in the work directory."""

    def __init__(self, topo, name, cmd, ns=None):
        self.name, self.log = name, topo.path(name + ".log")
        full = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
        self.p = subprocess.Popen(full, stdout=open(self.log, "a"), stderr=subprocess.STDOUT)

    def text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def wait_for(self, needle, timeout=30):
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            if self.p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("%s: no '%s' (exit %s); log:\n%s"
                                   % (self.name, needle, self.p.poll(), self.text()[-3000:]))
            time.sleep(0.05)

    def signal(self, sig):
        if self.p.poll() is None:
            self.p.send_signal(sig)

    def stop(self, timeout=15):
        self.signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return self.p.wait()

    def finish(self, timeout=30):
        """Stops a sender (SIGTERM) and returns the count it printed."""
        self.signal(signal.SIGTERM)
        self.p.wait(timeout)
        return int(self.text().split()[-1])

    def kill9(self):
        self.signal(signal.SIGKILL)
        return self.p.wait()


def default_seq_file(instance):
    """Where dpsecd keeps static keys' sequence numbers when its
    configuration names no sequence_file (config.md)."""
    return "/var/lib/dpsec/%s.seq" % instance


def start_dpsecd(topo, dpsecd, instance, max_sas=256, extra_conf="", seq_file=None, dp_opts=""):
    """dpsecd on the topology; instance is also its EAL file prefix.
    seq_file: the dataplane.sequence_file to name, by default one in the
    work directory; "" names none, for dpsecd's default path (the caller
    removes that file). dp_opts: more settings of the dataplane group."""
    conf = topo.path("dpsecd.conf")
    seq_file = topo.path("dpsecd.seq") if seq_file is None else seq_file
    with open(os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(DP_CONF % dict(lan_mac=LAN_MAC, wan_mac=WAN_MAC, host_mac=HOST_MAC, peer_mac=PEER_MAC,
                               seq_setting='sequence_file = "%s"; ' % seq_file if seq_file else "",
                               dp_opts=dp_opts)
                + extra_conf)
    topo.instances.add(instance)
    track_dpsecd(instance)
    d = Proc(topo, "dpsecd", [dpsecd, "--no-huge", "-m", "512", "--no-pci", "--file-prefix",
                              instance, "-l", "0,1", "--", "-c", conf, "--max-sas", str(max_sas),
                              "--stats-file", topo.path("dpsecd-stats.json")], ns=topo.ns_dp)
    d.wait_for("dpsecd: ready")
    return d


def dumpcap(topo, name, ns, iface, *options):
    """dumpcap on iface in namespace ns (with options: a filter, a count),
    writing topo.path(name + ".pcap"); returned (Proc, path) once it
    captures."""
    out = topo.path(name + ".pcap")
    c = Proc(topo, "dumpcap-" + name, ["dumpcap", "-q", "-i", iface, *options, "-w", out], ns=ns)
    deadline = time.monotonic() + 10
    while not os.path.exists(out) or os.path.getsize(out) == 0:
        if time.monotonic() > deadline or c.p.poll() is not None:
            raise RuntimeError("dumpcap did not start:\n" + c.text())
        time.sleep(0.05)
    time.sleep(0.3)
    return c, out


def start_capture(topo, name):
    return dumpcap(topo, name, topo.ns_wan, "wanp", "-B", "64")


def start_sender(topo, dst, rate, count=0, first=0):
    return Proc(topo, "sender-%d" % first,
                ["/usr/bin/python3", "-c", SENDER, "lanh", dst, str(rate), str(count), str(first),
                 LAN_MAC, HOST_MAC], ns=topo.ns_lan)


def udp_seq(payload):
    """The sender's sequence number, or None for foreign payloads."""
    if len(payload) >= 17 and payload[8:17] == b"dpsec-e2e":
        return struct.unpack("!Q", payload[:8])[0]
    return None


class WanCapture:
    """What dpsecd sent to the peer: ESP by SPI, decrypted with scapy where
    the test knows the SA; and anything that left in the clear."""

    def __init__(self, pcap, sas):
        from scapy.all import ESP, IP, UDP, PcapReader
        from scapy.layers.ipsec import SecurityAssociation
        self.seqs = {}       # SPI -> inner sequence numbers in order of arrival
        self.esp_seq = {}    # SPI -> ESP sequence numbers in order
        self.clear = []      # sender's numbers seen in the clear
        self.undecryptable = 0
        dec = {spi: SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM",
                                        crypt_key=key, auth_algo=None)
               for spi, key in sas.items()}
        for fr in PcapReader(pcap):
            if IP not in fr:
                continue
            ip = fr[IP]
            if ESP in ip:
                spi = ip[ESP].spi
                self.esp_seq.setdefault(spi, []).append(ip[ESP].seq)
                if spi not in dec:
                    self.seqs.setdefault(spi, [])
                    continue
                try:
                    inner = dec[spi].decrypt(ip)
                except Exception:
                    self.undecryptable += 1
                    continue
                inner_ip = inner[IP].payload if inner[IP].proto == 4 else inner
                n = udp_seq(bytes(inner_ip[UDP].payload)) if UDP in inner_ip else None
                if n is not None:
                    self.seqs.setdefault(spi, []).append(n)
            elif UDP in ip:
                n = udp_seq(bytes(ip[UDP].payload))
                if n is not None:
                    self.clear.append(n)


def check_stream(errs, what, wan, spi, count, rate, dp_lost):
    """The stream's numbers 0..count-1 through SA spi, as the peer captured
    them (wan: a WanCapture). dpsecd must have carried every packet it
    received: each once, in order, on spi, none in the clear, with ESP
    sequence numbers 1, 2, 3, ... (so the capture is complete), and
    dp_lost (its own drops meanwhile) 0. Packets the kernel dropped before
    dpsecd saw them (a starved 2-core machine) leave gaps in the numbers
    but not in the ESP sequence; they are reported, and fail the test only
    as a gap of more than 2 s of traffic, which is a stalled worker."""
    got = wan.seqs.get(spi, [])
    esp = wan.esp_seq.get(spi, [])
    if len(got) != len(set(got)):
        errs.append("%s: %d numbers came out twice" % (what, len(got) - len(set(got))))
    if got != sorted(got):
        errs.append("%s: numbers out of order" % what)
    if esp != list(range(1, len(esp) + 1)) and esp != list(range(esp[0] if esp else 1, (esp[0] if esp else 1) + len(esp))):
        errs.append("%s: ESP sequence numbers have gaps: the capture missed packets or dpsecd "
                    "skipped numbers" % what)
    if set(wan.esp_seq) - {spi}:
        errs.append("%s: ESP on unexpected SPIs %s" % (what, [hex(s) for s in wan.esp_seq]))
    if wan.clear or wan.undecryptable:
        errs.append("%s: %d in the clear, %d undecryptable" % (what, len(wan.clear),
                                                              wan.undecryptable))
    if dp_lost:
        errs.append("%s: dpsecd dropped %d packets meanwhile" % (what, dp_lost))
    if not got:
        errs.append("%s: nothing came out" % what)
        return
    edges = [-1] + got + [count]
    gap = max(b - a - 1 for a, b in zip(edges, edges[1:]))
    if gap > 2 * rate:
        errs.append("%s: %d consecutive packets never reached dpsecd (%.1f s): a stalled worker"
                    % (what, gap, gap / rate))
    elif count - len(set(got)):
        print("NOTE %s: %d of %d packets dropped by the kernel before dpsecd (largest gap %d); "
              "dpsecd lost none" % (what, count - len(set(got)), count, gap))
