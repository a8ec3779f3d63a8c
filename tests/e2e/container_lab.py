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
# A run killed mid-way leaves nothing that stops the next: first, a child
# that made a network of a lab project and died by SIGKILL must see it
# removed by its janitor (ctl_topo.janitor); then a network with the lab's
# WAN subnet, labelled as a project of a run that is gone (as a run killed
# with its janitor, a machine reset, leaves it), must be swept before the
# lab checks its subnets against the host's routes (without the sweep the
# bridge's route fails that check).
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


def lab_subnets(compose_file):
    """The subnets of compose.yml's networks, in order (lan-a, wan, lan-b)."""
    with open(compose_file) as f:
        return re.findall(r"subnet: ([0-9a-f.:/]+)", f.read())


def subnets_in_use(compose_file):
    """The lab's subnets (compose.yml) that the host already routes, with
    the route: Docker would add its bridges beside them, and the host
    answer ARP on a bridge for its own address in one (as this test found
    when the lab's WAN was the machine's own 192.0.2.0/24)."""
    lab = [ipaddress.ip_network(n) for n in lab_subnets(compose_file)]
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
        # a session of its own: a SIGKILL to the test's process group
        # leaves it to the janitor, which removes the lab through it first
        self.dockerd = subprocess.Popen(["/usr/sbin/dockerd"], stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        T.janitor("dockerd", str(self.dockerd.pid))
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

    def build_name(self):
        return "%s %s" % (self.tag, self.image)

    def build(self):
        t0 = time.monotonic()
        T.janitor("docker-build", self.build_name())
        self.built = True  # from now on close() removes what the build made, even a failed one's
        run(DOCKER, "build", "-q", "--force-rm", "--build-arg", "BUILD_ID=" + self.tag,
            "-t", self.image, self.root, timeout=1200)
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
            T.janitor("-docker-project", self.tag)
        if self.built:
            T.remove_docker_build(self.build_name())
            T.janitor("-docker-build", self.build_name())
        if self.dockerd is not None:
            self.dockerd.terminate()
            try:
                self.dockerd.wait(30)
            except subprocess.TimeoutExpired:
                self.dockerd.kill()
                self.dockerd.wait()
            T.janitor("-dockerd", str(self.dockerd.pid))
        T.remove_workdir(self.work)


LAB_RUN = re.compile(r"dpsectest(\d+)$")  # Lab.tag


def run_tags():
    """The Lab tags that own a container, a network or an image: its
    compose project's, its build stage's, its image's."""
    tags = set()
    for label in (T.COMPOSE_PROJECT_LABEL, T.BUILD_LABEL):
        fmt, flt = '{{.Label "%s"}}' % label, "label=" + label
        for listing in (("ps", "-a"), ("network", "ls")):
            tags.update(run(DOCKER, *listing, "--filter", flt, "--format", fmt).stdout.split())
    staged = run(DOCKER, "images", "-aq", "--filter", "label=" + T.BUILD_LABEL).stdout.split()
    if staged:
        tags.update(run(DOCKER, "inspect", "-f", '{{index .Config.Labels "%s"}}' % T.BUILD_LABEL,
                        *staged).stdout.split())
    images = run(DOCKER, "images", "--format", "{{.Tag}}", "dpsec-test").stdout.split()
    tags.update("dpsectest" + pid for pid in images)
    return tags


def sweep_killed_runs():
    """Removes what earlier runs left whose process is gone (killed before
    their janitor could act): their compose projects, whose networks would
    hold the lab's subnets, and their images. Returns their tags."""
    swept = []
    for tag in sorted(run_tags()):
        m = LAB_RUN.match(tag)
        if m and T.process_gone(int(m.group(1))):
            T.remove_docker_project(tag)
            T.remove_docker_build("%s dpsec-test:%s" % (tag, m.group(1)))
            swept.append(tag)
    return swept


def lab_network(project, subnet):
    """A network as compose makes it for project."""
    run(DOCKER, "network", "create", "--label", "%s=%s" % (T.COMPOSE_PROJECT_LABEL, project),
        "--subnet", subnet, project + "_wan")


KILLED_CHILD = r"""
import os, signal, sys
sys.path.insert(0, sys.argv[1])
import ctl_topo as T
project = "dpsectest%d" % os.getpid()
T.janitor("docker-project", project)
T.sh(T.DOCKER, "network", "create", "--label", "%s=%s" % (T.COMPOSE_PROJECT_LABEL, project),
     "--subnet", sys.argv[2], project + "_wan")
print(project, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def check_killed_runs_leave_nothing(errs, subnet):
    """A killed child's network goes with its janitor; a network of a run
    gone without one goes with the sweep."""
    child = subprocess.run([sys.executable, "-c", KILLED_CHILD,
                            os.path.dirname(os.path.abspath(__file__)), subnet],
                           stdout=subprocess.PIPE, text=True, timeout=120)
    project = child.stdout.strip()
    if child.returncode != -9 or not LAB_RUN.match(project):
        raise RuntimeError("the killed child: exit %d, %r" % (child.returncode, project))
    if not T.wait_until(lambda: project not in run_tags(), 30):
        errs.append("a run killed by SIGKILL: its janitor left the network of %s" % project)
        T.remove_docker_project(project)
    lab_network(project, subnet)  # its process is gone: as left by a machine reset
    swept = sweep_killed_runs()
    print("swept what killed runs left: %s" % ", ".join(swept))
    if project in run_tags():
        errs.append("the sweep left the network of %s, whose run is gone" % project)
        T.remove_docker_project(project)


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
    if rules != {"to-site-b"}:  # a tunnel rule to its endpoint carries the pair itself
        errs.append("gateway A shows its child SAs under the rules %s, expected the negotiate "
                    "rule they came from, to-site-b" % rules)
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
    compose_file = os.path.join(root, "container", "compose.yml")
    lab = Lab(root)
    errs = []
    cap = None
    try:
        lab.start_engine()
        check_killed_runs_leave_nothing(errs, lab_subnets(compose_file)[1])
        clashes = subnets_in_use(compose_file)
        if clashes:
            raise RuntimeError("the lab's networks collide with this host's: " + ", ".join(clashes))
        lab.base_image()
        print("image built in %.0f s" % lab.build())
        lab.up = True
        T.janitor("docker-project", lab.tag)
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
