#!/usr/bin/env python3
# container_lab.py - the container image and the compose lab, for real:
# builds the image from this tree (Dockerfile), brings up
# container/compose.yml (two gateways, a host behind each) on Docker with a
# fresh pre-shared key, and checks through the containers what a user of
# the lab would:
#   - both gateways become healthy (dpsec-gateway: dpsecd and dpsec-ctld
#     up, the policy installed);
#   - host A's pings of host B pass (the first raises the ACQUIRE, IKEv2
#     negotiates the tunnel), small and 1,300-byte ones, and host B's of
#     host A back through the same SAs;
#   - gateway A shows one IKE SA, its tunnel's SA pair carrying those
#     packets under the rule they were negotiated for, and both of its
#     ports' links up;
#   - the WAN bridge carried nothing in the clear (tools/wirecheck: IKE
#     and ESP between 198.51.100.1 and 198.51.100.2, ARP).
# Starts dockerd when none runs (and stops it after); makes the
# debian:bookworm-slim base image with debootstrap when it is missing (no
# registry is reachable; the image is kept for the next run). Removes the
# containers, networks and the image it built. Needs root; exit 77
# without it.
#
#   container_lab.py SOURCE_ROOT
import ipaddress
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctl_topo as T  # noqa: E402

DOCKER, COMPOSE = "/usr/bin/docker", "/usr/bin/docker-compose"
BASE = "debian:bookworm-slim"


def run(*cmd, check=True, env=None, timeout=600):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env=env, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d:\n%s" % (" ".join(cmd), r.returncode, r.stdout[-3000:]))
    return r


def debian_mirror():
    """The Debian mirror apt uses here (deb822 or one-line sources)."""
    d = "/etc/apt/sources.list.d"
    files = [os.path.join(d, f) for f in sorted(os.listdir(d))] if os.path.isdir(d) else []
    for path in files + ["/etc/apt/sources.list"]:
        try:
            text = open(path).read()
        except OSError:
            continue
        m = re.search(r"^URIs:\s*(\S+/debian)\s*$", text, re.M) or \
            re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)\s+bookworm", text, re.M)
        if m:
            return m.group(1)
    return "http://deb.debian.org/debian"


def subnets_in_use(compose_file):
    """The lab's subnets (compose.yml) that the host already routes, with
    the route: Docker would add its bridges beside them, and the host
    answer ARP on a bridge for its own address in one (as this test found
    when the lab's WAN was the machine's own 192.0.2.0/24)."""
    with open(compose_file) as f:
        lab = [ipaddress.ip_network(n) for n in re.findall(r"subnet: ([0-9a-f.:/]+)", f.read())]
    routes = json.loads(run("ip", "-j", "route", "show").stdout)
    clashes = []
    for r in routes:
        if r.get("dst", "default") == "default":
            continue
        net = ipaddress.ip_network(r["dst"], strict=False)
        clashes += ["%s (the host's route %s dev %s)" % (n, net, r.get("dev", "?"))
                    for n in lab if n.overlaps(net)]
    return clashes


class Lab:
    def __init__(self, root):
        self.root = root
        self.tag = "dpsectest%d" % os.getpid()
        self.image = "dpsec-test:%d" % os.getpid()
        self.work = T.make_workdir("dpsec-container-")  # the janitor's if the test is killed
        self.dockerd = None
        self.built = self.up = False
        self.env = dict(os.environ, DPSEC_IMAGE=self.image,
                        DPSEC_LAB_PSK=secrets.token_hex(16))

    def path(self, name):
        return os.path.join(self.work, name)

    def start_engine(self):
        if run(DOCKER, "info", check=False).returncode == 0:
            return
        log = open(self.path("dockerd.log"), "w")
        self.dockerd = subprocess.Popen(["/usr/sbin/dockerd"], stdout=log,
                                        stderr=subprocess.STDOUT)
        if not T.wait_until(lambda: run(DOCKER, "info", check=False).returncode == 0, 60):
            raise RuntimeError("dockerd did not come up:\n" + open(self.path("dockerd.log"))
                               .read()[-2000:])

    def base_image(self):
        if run(DOCKER, "image", "inspect", BASE, check=False).returncode == 0:
            return
        rootfs = self.path("rootfs")
        run("debootstrap", "--variant=minbase", "bookworm", rootfs, debian_mirror())
        for d in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for f in os.listdir(os.path.join(rootfs, d)):
                p = os.path.join(rootfs, d, f)
                if os.path.isfile(p):
                    os.remove(p)
        with subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE) as t:
            r = subprocess.run([DOCKER, "import", "-c", 'CMD ["bash"]', "-", BASE], stdin=t.stdout,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise RuntimeError("docker import: " + r.stdout)
        shutil.rmtree(rootfs, ignore_errors=True)

    def build(self):
        t0 = time.monotonic()
        run(DOCKER, "build", "-q", "--build-arg", "BUILD_ID=" + self.tag, "-t", self.image,
            self.root, timeout=1200)
        self.built = True
        return time.monotonic() - t0

    def compose(self, *args, check=True):
        return run(COMPOSE, "-p", self.tag, "-f",
                   os.path.join(self.root, "container", "compose.yml"), *args, check=check,
                   env=self.env)

    def container(self, service):
        return "%s_%s_1" % (self.tag, service)

    def exec(self, service, *cmd, check=True):
        return run(DOCKER, "exec", self.container(service), *cmd, check=check)

    def healthy(self, service):
        r = run(DOCKER, "inspect", "-f", "{{.State.Health.Status}}", self.container(service),
                check=False)
        return r.stdout.strip() == "healthy"

    def bridge(self, network):
        net_id = run(DOCKER, "network", "inspect", "-f", "{{.Id}}",
                     "%s_%s" % (self.tag, network)).stdout.strip()
        return "br-" + net_id[:12]

    def close(self):
        if self.up:
            for s in ("gateway-a", "gateway-b"):
                print("%s's log:\n%s" % (s, run(DOCKER, "logs", "--tail", "30",
                                                  self.container(s), check=False).stdout))
            self.compose("down", "-v", "-t", "10", check=False)
        if self.built:
            run(DOCKER, "rmi", "-f", self.image, check=False)
            run(DOCKER, "image", "prune", "-f", "--filter", "label=dpsec.build-stage=" + self.tag,
                check=False)
        if self.dockerd is not None:
            self.dockerd.terminate()
            try:
                self.dockerd.wait(30)
            except subprocess.TimeoutExpired:
                self.dockerd.kill()
        T.remove_workdir(self.work)


def received(out):
    m = re.search(r"(\d+) received", out)
    return int(m.group(1)) if m else 0


def check_pings(lab, errs):
    out = lab.exec("host-a", "ping", "-c", "10", "-i", "0.2", "-W", "3", "10.2.0.2",
                   check=False).stdout
    big = lab.exec("host-a", "ping", "-c", "3", "-i", "0.2", "-W", "2", "-s", "1300",
                   "10.2.0.2", check=False).stdout
    back = lab.exec("host-b", "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.1.0.2",
                    check=False).stdout
    got = (received(out), received(big), received(back))
    print("pings: host A to B %d of 10, 1,300 bytes %d of 3, B to A %d of 3" % got)
    if got[0] < 9 or got[1] != 3 or got[2] != 3:
        errs.append("pings through the tunnel: %d of 10, %d of 3 (1,300 bytes), %d of 3 back:\n%s"
                    % (got + (out + big + back,)))
    return sum(got)


def check_gateway(lab, errs, pings):
    sas = json.loads(lab.exec("gateway-a", "dpsecctl", "show", "qmsas", "--json")
                     .stdout)["qmsas"]
    ike = json.loads(lab.exec("gateway-a", "dpsecctl", "show", "mmsas", "--json")
                     .stdout)["mmsas"]
    ports = json.loads(lab.exec("gateway-a", "dpsecctl", "show", "ports", "--json")
                       .stdout)["ports"]
    dirs = sorted((s["direction"], s["packets"]) for s in sas)
    rules = {s["rule"] for s in sas}
    print("gateway A: child SAs %s of rule %s, IKE SAs %d, links %s"
          % (dirs, rules, len(ike), {p["name"]: p["link"] for p in ports}))
    if [d for d, _ in dirs] != ["inbound", "outbound"] or any(n < pings for _, n in dirs):
        errs.append("gateway A's child SAs %s: expected one pair, each carrying the %d packets "
                    "of the pings" % (dirs, pings))
    if rules != {"to-site-b (peer)"}:
        errs.append("gateway A shows its child SAs under the rules %s, expected the negotiate "
                    "rule they came from, to-site-b (peer)" % rules)
    if len(ike) != 1:
        errs.append("gateway A holds %d IKE SAs, expected one: %s" % (len(ike), ike))
    if sorted((p["name"], p["link"]) for p in ports) != [("lan", "up"), ("wan", "up")]:
        errs.append("gateway A's ports: %s" % ports)


def main():
    if os.geteuid() != 0:
        print("container_lab: needs root; skipped")
        return 77
    T.cleanup_on_sigterm()  # meson's timeout: the finally below still tears the lab down
    root = os.path.abspath(sys.argv[1])
    for tool in (DOCKER, COMPOSE, "/usr/sbin/dockerd", "/usr/sbin/debootstrap"):
        if not os.path.exists(tool):
            print("container_lab: %s missing: run tools/deps --containers" % tool)
            return 1
    clashes = subnets_in_use(os.path.join(root, "container", "compose.yml"))
    if clashes:
        print("container_lab: the lab's networks collide with this host's: " + ", ".join(clashes))
        return 1
    lab = Lab(root)
    errs = []
    cap = None
    try:
        lab.start_engine()
        lab.base_image()
        print("image built in %.0f s" % lab.build())
        lab.up = True
        lab.compose("up", "-d")
        if not T.wait_until(lambda: lab.healthy("gateway-a") and lab.healthy("gateway-b"), 60):
            raise RuntimeError("the gateways did not become healthy")
        pcap = lab.path("wan.pcapng")
        cap = subprocess.Popen(["dumpcap", "-q", "-i", lab.bridge("wan"), "-w", pcap],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        T.wait_until(lambda: os.path.exists(pcap) and os.path.getsize(pcap) > 0, 10, 0.1)
        time.sleep(0.5)
        pings = check_pings(lab, errs)
        time.sleep(0.5)
        cap.terminate()
        cap.wait(10)
        check_gateway(lab, errs, pings)
        wire = run(os.path.join(root, "tools", "wirecheck"), "--peers", "198.51.100.1,198.51.100.2",
                   "--ike", pcap, check=False)
        print("the WAN: " + wire.stdout.strip().replace("\n", "; "))
        if wire.returncode != 0:
            errs.append("the WAN carried more than IKE, ESP and ARP between the gateways:\n"
                        + wire.stdout)
    finally:
        if cap is not None and cap.poll() is None:
            cap.kill()
        lab.close()
    return T.verdict(errs, "container_lab")


if __name__ == "__main__":
    sys.exit(main())
