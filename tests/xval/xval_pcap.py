# xval_pcap.py - reads and writes classic pcap files (Ethernet link type) as
# lists of raw frames, so that what the tests feed dpsecd and what they read
# back is exactly the bytes on the wire, with no dissector in between.
import struct

_MAGIC_US = 0xA1B2C3D4
_MAGIC_NS = 0xA1B23C4D
LINKTYPE_ETHERNET = 1


def write(path, frames, snaplen=65535):
    """Writes frames (a list of bytes) to path; an empty list gives a valid
    pcap with no packets (a port with nothing to receive)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", _MAGIC_US, 2, 4, 0, 0, snaplen, LINKTYPE_ETHERNET))
        for i, fr in enumerate(frames):
            fr = bytes(fr)
            f.write(struct.pack("<IIII", 1700000000 + i // 1000, (i % 1000) * 1000,
                                len(fr), len(fr)))
            f.write(fr)


def read(path):
    """Returns the frames of a pcap file as a list of bytes. Raises ValueError
    on a malformed file or a truncated capture (caplen < len)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError("%s: %d bytes, no pcap header" % (path, len(data)))
    magic_le = struct.unpack("<I", data[:4])[0]
    if magic_le in (_MAGIC_US, _MAGIC_NS):
        end = "<"
    elif struct.unpack(">I", data[:4])[0] in (_MAGIC_US, _MAGIC_NS):
        end = ">"
    else:
        raise ValueError("%s: bad pcap magic %08x" % (path, magic_le))
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype != LINKTYPE_ETHERNET:
        raise ValueError("%s: link type %d, not Ethernet" % (path, linktype))
    frames = []
    off = 24
    while off < len(data):
        if off + 16 > len(data):
            raise ValueError("%s: truncated record header at %d" % (path, off))
        _, _, caplen, wirelen = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        if off + caplen > len(data):
            raise ValueError("%s: truncated record at %d" % (path, off))
        if caplen != wirelen:
            raise ValueError("%s: frame %d captured %d of %d bytes"
                             % (path, len(frames) + 1, caplen, wirelen))
        frames.append(data[off:off + caplen])
        off += caplen
    return frames
