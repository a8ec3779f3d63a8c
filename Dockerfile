# Dockerfile - dpsec in a container image: dpsecd, dpsec-ctld and dpsecctl
# built from this tree on Debian 12's packages, and dpsec-gateway, which
# runs a gateway (its dpsecd on the container's interfaces, its dpsec-ctld
# beside it) from a configuration mounted into the container.
#
#   docker build -t dpsec .                      # CPU=native for this machine only
#   docker-compose -f container/compose.yml up   # the lab: container/README.md
#
# dpsec's own code is built for CPU (default x86-64-v2, the baseline of
# Debian's DPDK build), so that the image runs on other machines;
# intel-ipsec-mb picks its code for the CPU it finds at run time.

FROM debian:bookworm-slim AS build
ARG CPU=x86-64-v2
# names this stage's image, which outlives the build, for removal
ARG BUILD_ID=
LABEL dpsec.build-stage="$BUILD_ID"
RUN apt-get update -q && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        meson ninja-build pkg-config gcc libc6-dev \
        libdpdk-dev libipsec-mb-dev libconfig-dev libssl-dev && \
    rm -rf /var/lib/apt/lists/*
COPY . /src
RUN meson setup /build /src -Dbuildtype=release -Dcpu="$CPU" -Dtests=false -Dfuzz=false && \
    ninja -C /build && \
    DESTDIR=/out meson install -C /build --no-rebuild --quiet && \
    install -m 0755 /src/container/dpsec-gateway /out/usr/local/bin/
# The packages the binaries' shared libraries come from: the runtime
# stage installs exactly those.
RUN for b in /out/usr/local/bin/dpsecd /out/usr/local/bin/dpsec-ctld /out/usr/local/bin/dpsecctl; do \
        ldd "$b" | awk '$3 ~ /^\// { print $3 }'; \
    done | sort -u | xargs -r realpath | xargs -r dpkg -S 2>/dev/null | cut -d: -f1 | \
    sort -u > /out/runtime-packages && \
    test -s /out/runtime-packages

FROM debian:bookworm-slim
COPY --from=build /out/runtime-packages /tmp/runtime-packages
# DPDK's drivers are plugins its EAL loads at start, not libraries the
# binaries link: the mempool handler, the buses, the virtual ports
# (af_packet, TAP, memif, pcap, null, ring) and common NICs' and
# hypervisors' ports. iproute2: dpsecd configures its exception TAP with
# ip(8), dpsec-gateway the container's interfaces; ethtool: their offloads
# off (dpsecd reads whole frames with AF_PACKET); iputils-ping: the lab's
# hosts.
RUN apt-get update -q && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        $(cat /tmp/runtime-packages) \
        librte-mempool-ring23 librte-bus-vdev23 librte-bus-pci23 \
        librte-net-af-packet23 librte-net-tap23 librte-net-memif23 librte-net-pcap23 \
        librte-net-null23 librte-net-ring23 librte-net-virtio23 librte-net-vmxnet3-23 \
        librte-net-ena23 librte-net-e1000-23 librte-net-ixgbe23 librte-net-i40e23 \
        librte-net-iavf23 librte-net-ice23 librte-net-bnxt23 librte-net-mlx5-23 \
        iproute2 ethtool iputils-ping procps && \
    rm -rf /var/lib/apt/lists/* /tmp/runtime-packages
COPY --from=build /out/usr/local/ /usr/local/
RUN ldconfig && ! ldd /usr/local/bin/dpsecd /usr/local/bin/dpsec-ctld /usr/local/bin/dpsecctl | \
    grep 'not found'
CMD ["dpsec-gateway", "--help"]
